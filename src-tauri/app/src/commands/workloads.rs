//! The Workloads screen's commands: a page of the cross-cluster table and
//! the usage of the rows on screen, both from the cache.

use cloudops_core::store::now_ms;
use cloudops_core::views::{self, WorkloadKey, WorkloadPage, WorkloadQuery, WorkloadUsage};
use tauri::State;

use super::cluster::check_text;
use super::CommandError;
use crate::{fleet::Mode, state::AppState};

/// More keys than any screen shows at once.
const MAX_KEYS: usize = 500;
const MAX_SEARCH: usize = 256;

#[tauri::command]
pub async fn workloads_page(
    state: State<'_, AppState>,
    query: WorkloadQuery,
) -> Result<WorkloadPage, CommandError> {
    for (what, v, max) in [
        ("the cluster filter", &query.cluster, 512),
        ("the namespace filter", &query.namespace, 253),
        ("the search", &query.search, MAX_SEARCH),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            check_text(what, v, max)?;
        }
    }
    if query.limit == 0 || query.limit > views::MAX_PAGE {
        return Err(CommandError::invalid(format!(
            "a page of {} rows was asked for; pages are 1 to {} rows",
            query.limit,
            views::MAX_PAGE
        )));
    }
    let offline = state.mode() == Mode::Offline;
    state
        .with_store(move |store| views::workloads_page(store, &query, now_ms() / 1000, offline))
        .await
}

#[tauri::command]
pub async fn workloads_usage(
    state: State<'_, AppState>,
    keys: Vec<WorkloadKey>,
) -> Result<Vec<WorkloadUsage>, CommandError> {
    if keys.len() > MAX_KEYS {
        return Err(CommandError::invalid(format!(
            "usage for {} workloads was asked for; at most {MAX_KEYS} at once",
            keys.len()
        )));
    }
    for k in &keys {
        check_text("the cluster id", &k.cluster, 512)?;
        check_text("the namespace", &k.namespace, 253)?;
        check_text("the workload name", &k.name, 253)?;
    }
    state
        .with_store(move |store| views::workloads_usage(store, &keys))
        .await
}
