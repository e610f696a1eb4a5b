//! The alerts commands (issue 9): list from the cache, acknowledge and
//! resolve one or many (each audited with the OS user), one alert with its
//! timeline, and the resolved history a page at a time. The Alerts screen
//! (`ui/src/screens/alerts/`) calls these.

use cloudops_core::store::{
    alert_actions::validate_bulk_ids, alerts::MAX_ALERTS_PAGE as MAX_PAGE, now_ms, os_user, Alert,
    AlertDetail, AlertQuery, BulkAlertOutcome,
};
use tauri::State;

use super::cluster::check_text;
use super::CommandError;
use crate::state::AppState;

/// Alerts matching `query`, most recently seen first.
#[tauri::command]
pub async fn alerts_list(
    state: State<'_, AppState>,
    query: AlertQuery,
) -> Result<Vec<Alert>, CommandError> {
    validate_query(&query)?;
    state.with_store(move |store| store.alerts(&query)).await
}

#[tauri::command]
pub async fn alert_acknowledge(state: State<'_, AppState>, id: i64) -> Result<Alert, CommandError> {
    check_id(id)?;
    state
        .with_store(move |store| store.acknowledge(id, &os_user(), now_ms() / 1000))
        .await
}

#[tauri::command]
pub async fn alert_resolve(state: State<'_, AppState>, id: i64) -> Result<Alert, CommandError> {
    check_id(id)?;
    state
        .with_store(move |store| store.resolve(id, &os_user(), now_ms() / 1000))
        .await
}

/// Acknowledges the open alerts among `ids` (1 to 500); the reply says
/// which were changed and why others were left alone.
#[tauri::command]
pub async fn alerts_acknowledge(
    state: State<'_, AppState>,
    ids: Vec<i64>,
) -> Result<BulkAlertOutcome, CommandError> {
    validate_bulk_ids(&ids)?;
    state
        .with_store(move |store| store.acknowledge_many(&ids, &os_user(), now_ms() / 1000))
        .await
}

/// Resolves the open or acknowledged alerts among `ids` (1 to 500).
#[tauri::command]
pub async fn alerts_resolve(
    state: State<'_, AppState>,
    ids: Vec<i64>,
) -> Result<BulkAlertOutcome, CommandError> {
    validate_bulk_ids(&ids)?;
    state
        .with_store(move |store| store.resolve_many(&ids, &os_user(), now_ms() / 1000))
        .await
}

/// One alert with the timeline of its state changes.
#[tauri::command]
pub async fn alert_get(state: State<'_, AppState>, id: i64) -> Result<AlertDetail, CommandError> {
    check_id(id)?;
    state.with_store(move |store| store.alert_detail(id)).await
}

/// Resolved alerts, most recently resolved first: `limit` (1 to 1000) from
/// `offset`, optionally for one cluster.
#[tauri::command]
pub async fn alerts_history(
    state: State<'_, AppState>,
    cluster: Option<String>,
    offset: u32,
    limit: u32,
) -> Result<Vec<Alert>, CommandError> {
    if let Some(c) = cluster.as_deref() {
        check_text("the cluster filter", c, 512)?;
    }
    if limit == 0 || limit > MAX_PAGE {
        return Err(CommandError::invalid(format!(
            "a history page of {limit}; pages are 1 to {MAX_PAGE}"
        )));
    }
    state
        .with_store(move |store| store.alert_history(cluster.as_deref(), offset, limit))
        .await
}

pub(crate) fn validate_query(query: &AlertQuery) -> Result<(), CommandError> {
    if let Some(c) = query.cluster.as_deref() {
        check_text("the cluster filter", c, 512)?;
    }
    if let Some(n) = query.limit {
        if n > MAX_PAGE {
            return Err(CommandError::invalid(format!(
                "{n} alerts were asked for; at most {MAX_PAGE} at once"
            )));
        }
    }
    Ok(())
}

pub(crate) fn check_id(id: i64) -> Result<(), CommandError> {
    if id <= 0 {
        return Err(CommandError::invalid(format!("{id} is not an alert id")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_arguments_are_refused_before_the_cache() {
        assert!(check_id(0).is_err());
        assert!(check_id(-3).is_err());
        assert!(check_id(7).is_ok());
        let q = |cluster: Option<&str>, limit| AlertQuery {
            state: None,
            cluster: cluster.map(str::to_owned),
            limit,
        };
        assert!(validate_query(&q(None, None)).is_ok());
        assert!(validate_query(&q(Some("aws/a/r/n"), Some(50))).is_ok());
        assert!(validate_query(&q(Some(""), None)).is_err());
        assert!(validate_query(&q(Some("a\u{7}b"), None)).is_err());
        assert!(validate_query(&q(None, Some(MAX_PAGE + 1))).is_err());
        let err = validate_query(&q(Some(&"x".repeat(600)), None)).unwrap_err();
        assert_eq!(err.kind, "invalid_argument");
    }
}
