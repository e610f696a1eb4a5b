//! The alerts commands (issue 9 part 4): list from the cache, acknowledge
//! and resolve (audited with the OS user). No UI screen yet: the Alerts
//! screen will call these.

use cloudops_core::store::{
    alerts::MAX_ALERTS_PAGE as MAX_PAGE, now_ms, os_user, Alert, AlertQuery,
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
