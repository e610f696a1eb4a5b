//! Health scores for the Fleet screen (issue 9): computed from the cache's
//! last hour, with the 24 h history the collection loop records.

use cloudops_core::analysis::health::FleetScore;
use cloudops_core::store::now_ms;
use cloudops_core::views::{self, FleetHealthView, ViewError};
use cloudops_core::Store;
use tauri::State;

use super::CommandError;
use crate::state::AppState;

/// The fleet's and every cluster's score, worst first, with reasons and
/// the last 24 h. Reads the cache only, so it works offline.
#[tauri::command]
pub async fn fleet_health(state: State<'_, AppState>) -> Result<FleetHealthView, CommandError> {
    state
        .with_store(|store| {
            let now = now_ms() / 1000;
            let fleet = views::fleet_health(store, now)?;
            views::fleet_health_view(store, &fleet, now).map_err(ViewError::from)
        })
        .await
}

/// Scores the cache as it is after a collection pass at `at` and records
/// the scores (the sparklines' history). Runs on the store's thread.
pub(crate) fn record_scores(store: &mut Store, at: i64) -> Result<FleetScore, ViewError> {
    let fleet = views::fleet_health(store, at)?;
    store.record_health(at, &fleet)?;
    Ok(fleet)
}
