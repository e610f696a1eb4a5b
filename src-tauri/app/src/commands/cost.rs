//! The Cost screen's commands: the view from the cache (works offline) and
//! the CSV export of the month's daily rows into Downloads.

use cloudops_core::store::now_ms;
use cloudops_core::views::{self, CostView, CostViewRequest, ExportResult};
use tauri::State;

use super::cluster::{check_text, export_dir, write_new};
use super::CommandError;
use crate::state::AppState;

fn check_request(month: Option<&str>, cluster: Option<&str>) -> Result<(), CommandError> {
    if let Some(m) = month {
        if !cloudops_core::cost::is_month(m) {
            return Err(CommandError::invalid(format!(
                "the month {m:?} is not a YYYY-MM month"
            )));
        }
    }
    if let Some(c) = cluster {
        check_text("the cluster", c, 512)?;
    }
    Ok(())
}

#[tauri::command]
pub async fn cost_view(
    state: State<'_, AppState>,
    request: CostViewRequest,
) -> Result<CostView, CommandError> {
    check_request(request.month.as_deref(), request.cluster.as_deref())?;
    let now = now_ms() / 1000;
    state
        .with_store(move |store| views::cost_view(store, now, &request))
        .await
}

/// Writes the month's daily cost rows (optionally one cluster's) as CSV
/// into Downloads, never over an existing file.
#[tauri::command]
pub async fn cost_export(
    state: State<'_, AppState>,
    month: String,
    cluster: Option<String>,
) -> Result<ExportResult, CommandError> {
    check_request(Some(&month), cluster.as_deref())?;
    let name = format!("cost-{month}-{}.csv", now_ms() / 1000);
    let csv = state
        .with_store(move |store| views::cost_csv(store, &month, cluster.as_deref()))
        .await?;
    let dir = export_dir().ok_or_else(|| CommandError {
        kind: "no_export_dir".into(),
        message: "There is no Downloads or home folder to export into.".into(),
        hint: "Set HOME (or XDG_DOWNLOAD_DIR) and try again.".into(),
    })?;
    state
        .blocking(move || write_new(&dir, &name, csv.as_bytes()))
        .await
}
