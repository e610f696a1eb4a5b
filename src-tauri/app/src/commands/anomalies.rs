//! The anomalies commands (issue 9 part 2): the anomalies found on the
//! cached series after each collection pass, with their probable causes.
//! Read-only: anomalies open and close with the data.

use cloudops_core::store::{
    anomalies::MAX_ANOMALIES_PAGE as MAX_PAGE, Anomaly, AnomalyPage, AnomalyQuery,
};
use tauri::State;

use super::cluster::check_text;
use super::CommandError;
use crate::state::AppState;

/// A page of anomalies matching `query`, most recently seen first.
#[tauri::command]
pub async fn anomalies_list(
    state: State<'_, AppState>,
    query: AnomalyQuery,
) -> Result<AnomalyPage, CommandError> {
    validate_query(&query)?;
    state.with_store(move |store| store.anomalies(&query)).await
}

/// One anomaly by id; an unknown id is an error naming it.
#[tauri::command]
pub async fn anomaly_get(state: State<'_, AppState>, id: i64) -> Result<Anomaly, CommandError> {
    if id <= 0 {
        return Err(CommandError::invalid(format!("{id} is not an anomaly id")));
    }
    let found = state.with_store(move |store| store.anomaly(id)).await?;
    found.ok_or_else(|| CommandError {
        kind: "unknown_anomaly".into(),
        message: format!("no anomaly {id} in the cache"),
        hint: "Reload the anomaly list and pick one from it.".into(),
    })
}

pub(crate) fn validate_query(query: &AnomalyQuery) -> Result<(), CommandError> {
    if let Some(c) = query.cluster.as_deref() {
        check_text("the cluster filter", c, 512)?;
    }
    if let Some(n) = query.limit {
        if n > MAX_PAGE {
            return Err(CommandError::invalid(format!(
                "{n} anomalies were asked for; at most {MAX_PAGE} at once"
            )));
        }
    }
    if query.since.is_some_and(|t| t < 0) {
        return Err(CommandError::invalid(
            "`since` is a unix time in seconds, not negative",
        ));
    }
    Ok(())
}
