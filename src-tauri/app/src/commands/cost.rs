//! The Cost screen's commands: the view from the cache (works offline) and
//! the CSV export of the month's daily rows into Downloads.

use cloudops_core::store::now_ms;
use cloudops_core::views::{self, CostView, CostViewRequest, ExportResult, FleetCostView};
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

/// The Fleet screen's cost column and header: month to date per cluster
/// and the fleet's per currency with its forecast, from the cache only.
#[tauri::command]
pub async fn fleet_cost(state: State<'_, AppState>) -> Result<FleetCostView, CommandError> {
    let now = now_ms() / 1000;
    state
        .with_store(move |store| views::fleet_cost_view(store, now))
        .await
}

/// The months the Cost screen's picker offers: the current one, then every
/// earlier month with cost in the cache, newest first.
#[tauri::command]
pub async fn cost_months(state: State<'_, AppState>) -> Result<Vec<String>, CommandError> {
    let now = now_ms() / 1000;
    let current =
        cloudops_core::analysis::cost_series::iso_date(now.div_euclid(86_400))[..7].to_owned();
    state
        .with_store(move |store| {
            let mut months = vec![current.clone()];
            months.extend(store.cost_months()?.into_iter().filter(|m| *m < current));
            Ok::<_, cloudops_core::StoreError>(months)
        })
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
