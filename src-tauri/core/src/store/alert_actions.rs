//! What the Alerts screen needs beyond the single-alert calls of
//! `store::alerts`: bulk acknowledge/resolve (each alert audited on its own,
//! so the log reads one row per alert whoever clicked "select all"), one
//! alert with its timeline, and paged history.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::alerts::{Alert, AlertError, AlertState, SYSTEM_ACTOR};
use super::Store;

/// Most alerts one bulk call may change: a screen shows at most a page of
/// 1000, and a bounded call keeps one click from holding the writer long.
pub const MAX_BULK_ALERTS: usize = 500;

/// What a bulk acknowledge or resolve did, alert by alert.
#[derive(Debug, Clone, PartialEq, Default, Serialize, TS)]
#[ts(export)]
pub struct BulkAlertOutcome {
    /// The alerts as they are after the change.
    pub changed: Vec<Alert>,
    /// The ids left alone, with why (already resolved, unknown…).
    pub skipped: Vec<BulkAlertSkip>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BulkAlertSkip {
    #[ts(type = "number")]
    pub id: i64,
    pub kind: String,
    pub message: String,
}

/// One step in an alert's life, for the detail view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlertEvent {
    /// Unix seconds.
    #[ts(type = "number")]
    pub at: i64,
    /// `opened`, `acknowledged`, `resolved` or `notified`.
    pub what: String,
    /// A user, or `cloudops` for the evaluation itself.
    pub actor: String,
    /// The audit row behind it, when there is one.
    #[ts(type = "number | null")]
    pub audit_id: Option<i64>,
}

/// One alert and the steps of its life, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct AlertDetail {
    pub alert: Alert,
    pub timeline: Vec<AlertEvent>,
}

/// Checks a bulk id list: 1..=MAX_BULK_ALERTS positive ids. Duplicates are
/// dropped (order kept), so a double-click never writes two audit rows.
pub fn validate_bulk_ids(ids: &[i64]) -> Result<Vec<i64>, AlertError> {
    if ids.is_empty() {
        return Err(AlertError::InvalidIds("no alert was selected".into()));
    }
    if ids.len() > MAX_BULK_ALERTS {
        return Err(AlertError::InvalidIds(format!(
            "{} alerts were selected; at most {MAX_BULK_ALERTS} at once",
            ids.len()
        )));
    }
    if let Some(bad) = ids.iter().find(|id| **id <= 0) {
        return Err(AlertError::InvalidIds(format!("{bad} is not an alert id")));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(ids.iter().copied().filter(|id| seen.insert(*id)).collect())
}

impl Store {
    /// Acknowledges each open alert of `ids`; the others are skipped with
    /// the reason. Each change is its own transaction with its audit row.
    pub fn acknowledge_many(
        &mut self,
        ids: &[i64],
        by: &str,
        now: i64,
    ) -> Result<BulkAlertOutcome, AlertError> {
        self.each(ids, |s, id| s.acknowledge(id, by, now))
    }

    /// Resolves each open or acknowledged alert of `ids`.
    pub fn resolve_many(
        &mut self,
        ids: &[i64],
        by: &str,
        now: i64,
    ) -> Result<BulkAlertOutcome, AlertError> {
        self.each(ids, |s, id| s.resolve(id, by, now))
    }

    fn each(
        &mut self,
        ids: &[i64],
        mut change: impl FnMut(&mut Store, i64) -> Result<Alert, AlertError>,
    ) -> Result<BulkAlertOutcome, AlertError> {
        let ids = validate_bulk_ids(ids)?;
        let mut out = BulkAlertOutcome::default();
        for id in ids {
            match change(self, id) {
                Ok(a) => out.changed.push(a),
                // A cache failure stops the batch: later ids would fail the
                // same way, and what changed so far is committed and audited.
                Err(AlertError::Store(e)) => return Err(AlertError::Store(e)),
                Err(e) => out.skipped.push(BulkAlertSkip {
                    id,
                    kind: e.kind().to_owned(),
                    message: e.to_string(),
                }),
            }
        }
        Ok(out)
    }

    /// One alert with its timeline: opened (first seen), the audited
    /// acknowledge/resolve rows, the last notification, and a resolve by the
    /// evaluation when the condition cleared (that one has no audit row).
    pub fn alert_detail(&self, id: i64) -> Result<AlertDetail, AlertError> {
        let alert = self.alert_by_id(id)?.ok_or(AlertError::Unknown(id))?;
        let mut timeline = vec![AlertEvent {
            at: alert.first_seen,
            what: "opened".into(),
            actor: SYSTEM_ACTOR.into(),
            audit_id: None,
        }];
        let target = format!("alert/{id}");
        for row in self.audit_for_target(&target)? {
            let what = match row.action.as_str() {
                "alert.acknowledge" => "acknowledged",
                "alert.resolve" => "resolved",
                _ => continue,
            };
            timeline.push(AlertEvent {
                at: row.at_ms.div_euclid(1000),
                what: what.into(),
                actor: row.actor,
                audit_id: Some(row.id),
            });
        }
        if let Some(at) = alert.last_notified_at {
            timeline.push(AlertEvent {
                at,
                what: "notified".into(),
                actor: SYSTEM_ACTOR.into(),
                audit_id: None,
            });
        }
        if alert.state == AlertState::Resolved && alert.resolved_by.as_deref() == Some(SYSTEM_ACTOR)
        {
            if let Some(at) = alert.resolved_at {
                timeline.push(AlertEvent {
                    at,
                    what: "resolved".into(),
                    actor: SYSTEM_ACTOR.into(),
                    audit_id: None,
                });
            }
        }
        // Stable: equal times keep the order above (opened before the rest).
        timeline.sort_by_key(|e| e.at);
        Ok(AlertDetail { alert, timeline })
    }

    /// Resolved alerts, most recently resolved first, `limit` from `offset`
    /// (the history view pages through them). `limit` is 1..=1000.
    pub fn alert_history(
        &self,
        cluster: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<Alert>, AlertError> {
        if limit == 0 || limit > super::alerts::MAX_ALERTS_PAGE {
            return Err(AlertError::InvalidIds(format!(
                "a history page of {limit}; pages are 1 to {}",
                super::alerts::MAX_ALERTS_PAGE
            )));
        }
        let sql = format!(
            "SELECT {} FROM alerts WHERE state = 'resolved' AND (?1 IS NULL OR cluster_id = ?1)
             ORDER BY resolved_at DESC, id DESC LIMIT ?2 OFFSET ?3",
            super::alerts::COLUMNS
        );
        let mut stmt = self.conn().prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![cluster, limit, offset], super::alerts::alert_of)
            .map_err(|e| self.err(e))?;
        Ok(rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?)
    }
}

#[cfg(test)]
#[path = "alert_actions_tests.rs"]
mod tests;
