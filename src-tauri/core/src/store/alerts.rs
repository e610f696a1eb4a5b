//! Threshold alerts in the cache (issue 9 part 4): firings from
//! `analysis::alerts::evaluate` become alerts with a state machine
//!
//! ```text
//! open ──acknowledge──▶ acknowledged ──resolve──▶ resolved
//!   └───────────────resolve / condition clears───────▲
//! ```
//!
//! - **Dedup**: a firing whose key has an active (open or acknowledged)
//!   alert last seen within `dedup_window` folds into it: count + 1,
//!   `last_seen`, the latest value, and the severity raised (never lowered:
//!   the alert says how bad it got). A firing after a longer silence opens a
//!   new alert; the stale active one is resolved first (its cluster was not
//!   evaluated in between, or the condition would have resolved it).
//! - **Auto-resolve**: an active alert of a cluster evaluated in this pass
//!   whose key did not fire is resolved (by `cloudops`) once its condition
//!   has been clear for `clear_after` (default 60 s: with the 60 s
//!   collection loop that is the first clean pass; a second `refresh` a few
//!   seconds later does not resolve yet, which keeps a flapping value from
//!   resolving and reopening). Clusters not evaluated (unreachable, not in
//!   this pass) keep their alerts.
//! - **Escalation**: an open (unacknowledged) high or critical alert whose
//!   last notification is `escalate_after` old (default 15 min) is notified
//!   again: `escalations` + 1, `last_notified_at` = now. New high/critical
//!   alerts, and alerts raised to high/critical, are notified at once.
//!
//! Acknowledge and resolve append an audit row in the same transaction.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Store, StoreError};
use crate::analysis::alerts::{AlertRule, Firing};
use crate::analysis::anomaly::Severity;
use crate::audit::{NewAuditEntry, Outcome};

/// The actor of changes made by the evaluation itself.
pub const SYSTEM_ACTOR: &str = "cloudops";
/// Largest page `alerts()` returns.
pub const MAX_ALERTS_PAGE: u32 = 1000;
pub const DEFAULT_ALERTS_PAGE: u32 = 200;

/// Timing of deduplication, resolution and escalation, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPolicy {
    /// A repeat within this long of `last_seen` folds into the alert.
    pub dedup_window: i64,
    /// How long a condition must be clear before the alert resolves.
    pub clear_after: i64,
    /// Re-notify unacknowledged high/critical alerts this long after the
    /// last notification.
    pub escalate_after: i64,
}

impl Default for AlertPolicy {
    fn default() -> AlertPolicy {
        AlertPolicy {
            dedup_window: 5 * 60,
            clear_after: 60,
            escalate_after: 15 * 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AlertState {
    Open,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<AlertState> {
        [
            AlertState::Open,
            AlertState::Acknowledged,
            AlertState::Resolved,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

pub(crate) fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

pub(crate) fn parse_severity(s: &str) -> Option<Severity> {
    [Severity::Medium, Severity::High, Severity::Critical]
        .into_iter()
        .find(|v| severity_str(*v) == s)
}

fn notifies(s: Severity) -> bool {
    s >= Severity::High
}

/// One alert as stored. Times are unix seconds. (Serialize only: the
/// severity type of `analysis::anomaly` is not Deserialize, and nothing
/// reads alerts back from JSON.)
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Alert {
    #[ts(type = "number")]
    pub id: i64,
    pub key: String,
    pub cluster_id: String,
    /// `node/NAME` or `service/NAME`.
    pub subject: String,
    pub rule: AlertRule,
    #[ts(type = "\"medium\" | \"high\" | \"critical\"")]
    pub severity: Severity,
    pub state: AlertState,
    #[ts(type = "number")]
    pub first_seen: i64,
    #[ts(type = "number")]
    pub last_seen: i64,
    /// Firings folded into this alert (1 when it opened).
    #[ts(type = "number")]
    pub count: i64,
    /// The latest value, in the rule's unit (% or seconds).
    pub value: f64,
    pub threshold: f64,
    pub message: String,
    #[ts(type = "number | null")]
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    #[ts(type = "number | null")]
    pub resolved_at: Option<i64>,
    /// Who resolved it: a user, or `cloudops` when the condition cleared.
    pub resolved_by: Option<String>,
    #[ts(type = "number | null")]
    pub last_notified_at: Option<i64>,
    #[ts(type = "number")]
    pub escalations: i64,
}

/// Which alerts to list: newest activity first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlertQuery {
    /// `None`: every state.
    pub state: Option<AlertState>,
    pub cluster: Option<String>,
    /// 1..=1000; `None` or 0 means the default page (200).
    pub limit: Option<u32>,
}

/// What one `apply_firings` changed, for notifications and the UI.
#[derive(Debug, Clone, PartialEq, Default, Serialize, TS)]
#[ts(export)]
pub struct AlertChanges {
    pub opened: Vec<Alert>,
    pub folded: Vec<Alert>,
    /// Folded alerts whose severity rose to high or critical: notify.
    pub raised: Vec<Alert>,
    /// Unacknowledged high/critical alerts due for another notification.
    pub escalated: Vec<Alert>,
    pub resolved: Vec<Alert>,
}

impl AlertChanges {
    /// The alerts that deserve a desktop notification now: new high or
    /// critical ones, raised ones and escalations.
    pub fn to_notify(&self) -> impl Iterator<Item = &Alert> {
        self.opened
            .iter()
            .filter(|a| notifies(a.severity))
            .chain(&self.raised)
            .chain(&self.escalated)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("no alert {0} in the cache")]
    Unknown(i64),
    #[error("alert {0} is already resolved")]
    AlreadyResolved(i64),
    #[error("alert {0} is already acknowledged")]
    AlreadyAcknowledged(i64),
    /// A bulk call's id list (or a page size) the cache refuses to act on.
    #[error("{0}")]
    InvalidIds(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AlertError {
    pub fn kind(&self) -> &'static str {
        match self {
            AlertError::Unknown(_) => "unknown_alert",
            AlertError::AlreadyResolved(_) => "alert_already_resolved",
            AlertError::AlreadyAcknowledged(_) => "alert_already_acknowledged",
            AlertError::InvalidIds(_) => "invalid_argument",
            AlertError::Store(e) => e.kind(),
        }
    }

    pub fn hint(&self) -> String {
        match self {
            AlertError::Unknown(_) => {
                "List the alerts with `cloudops alerts --state all` and use an id from it.".into()
            }
            AlertError::AlreadyResolved(_) => "Nothing was changed. A resolved alert stays \
                 resolved; if the condition fires again, a new alert opens."
                .into(),
            AlertError::AlreadyAcknowledged(_) => {
                "Nothing was changed. Resolve it when the cause is fixed.".into()
            }
            AlertError::InvalidIds(_) => "Select between 1 and 500 alerts from the list and \
                 try again."
                .into(),
            AlertError::Store(e) => e.hint(),
        }
    }
}

pub(super) const COLUMNS: &str =
    "id, key, cluster_id, subject, rule, severity, state, first_seen, \
     last_seen, count, value, threshold, message, acknowledged_at, acknowledged_by, resolved_at, \
     resolved_by, last_notified_at, escalations";

fn conversion(col: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        col,
        rusqlite::types::Type::Text,
        what.to_owned().into(),
    )
}

pub(super) fn alert_of(r: &Row<'_>) -> rusqlite::Result<Alert> {
    let rule: String = r.get(4)?;
    let severity: String = r.get(5)?;
    let state: String = r.get(6)?;
    Ok(Alert {
        id: r.get(0)?,
        key: r.get(1)?,
        cluster_id: r.get(2)?,
        subject: r.get(3)?,
        rule: AlertRule::parse(&rule)
            .ok_or_else(|| conversion(4, &format!("unknown alert rule {rule:?}")))?,
        severity: parse_severity(&severity)
            .ok_or_else(|| conversion(5, &format!("unknown severity {severity:?}")))?,
        state: AlertState::parse(&state)
            .ok_or_else(|| conversion(6, &format!("unknown alert state {state:?}")))?,
        first_seen: r.get(7)?,
        last_seen: r.get(8)?,
        count: r.get(9)?,
        value: r.get(10)?,
        threshold: r.get(11)?,
        message: r.get(12)?,
        acknowledged_at: r.get(13)?,
        acknowledged_by: r.get(14)?,
        resolved_at: r.get(15)?,
        resolved_by: r.get(16)?,
        last_notified_at: r.get(17)?,
        escalations: r.get(18)?,
    })
}

/// The OS user, for the audit log's "who" (`USER`, `USERNAME` on Windows).
pub fn os_user() -> String {
    ["USER", "USERNAME"]
        .into_iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

impl Store {
    pub(super) fn alert_by_id(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
                [id],
                alert_of,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn active_alert(&self, key: &str) -> Result<Option<Alert>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM alerts WHERE key = ?1 AND state <> 'resolved'"),
                [key],
                alert_of,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn active_of_cluster(&self, cluster_id: &str) -> Result<Vec<Alert>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM alerts WHERE cluster_id = ?1 AND state <> 'resolved'"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([cluster_id], alert_of)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn set_resolved(&self, id: i64, by: &str, now: i64) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE alerts SET state = 'resolved', resolved_at = ?2, resolved_by = ?3
                 WHERE id = ?1",
                params![id, now, by],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The active (open or acknowledged) alerts of `rules`, oldest first.
    pub fn active_alerts_of_rules(&self, rules: &[AlertRule]) -> Result<Vec<Alert>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM alerts WHERE state <> 'resolved' ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], alert_of).map_err(|e| self.err(e))?;
        let all: Vec<Alert> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        Ok(all
            .into_iter()
            .filter(|a| rules.contains(&a.rule))
            .collect())
    }

    /// Resolves active alerts whose condition their own evaluation saw go
    /// away (as `cloudops`, like an auto-resolve), in one transaction.
    /// Returns them as resolved; ids already resolved or unknown are skipped.
    pub fn resolve_by_system(&mut self, ids: &[i64], now: i64) -> Result<Vec<Alert>, StoreError> {
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for &id in ids {
            match self.alert_by_id(id)? {
                Some(a) if a.state != AlertState::Resolved => {
                    self.set_resolved(id, SYSTEM_ACTOR, now)?;
                    if let Some(r) = self.alert_by_id(id)? {
                        out.push(r);
                    }
                }
                _ => {}
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn require_alert(&self, id: i64) -> Result<Alert, AlertError> {
        self.alert_by_id(id)?.ok_or(AlertError::Unknown(id))
    }

    /// Folds one evaluation pass into the alerts table, in one transaction.
    /// `evaluated` lists the clusters this pass looked at: only their
    /// active alerts can auto-resolve. `now` is unix seconds.
    pub fn apply_firings(
        &mut self,
        now: i64,
        evaluated: &[String],
        firings: &[Firing],
        policy: &AlertPolicy,
    ) -> Result<AlertChanges, StoreError> {
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.err(e))?;
        let mut changes = AlertChanges::default();
        let mut fired = std::collections::HashSet::new();
        for f in firings {
            // Two firings with one key in a pass (a duplicated row) count once.
            if !fired.insert(f.key.as_str()) {
                continue;
            }
            match self.active_alert(&f.key)? {
                Some(a) if now - a.last_seen <= policy.dedup_window => {
                    let severity = a.severity.max(f.severity);
                    let raised = severity > a.severity && notifies(severity);
                    self.conn()
                        .execute(
                            "UPDATE alerts SET count = count + 1, last_seen = ?2, value = ?3,
                                 threshold = ?4, message = ?5, severity = ?6,
                                 last_notified_at = CASE WHEN ?7 THEN ?2 ELSE last_notified_at END
                             WHERE id = ?1",
                            params![
                                a.id,
                                now,
                                f.value,
                                f.threshold,
                                f.message,
                                severity_str(severity),
                                raised && a.state == AlertState::Open
                            ],
                        )
                        .map_err(|e| self.err(e))?;
                    let updated = self.alert_by_id(a.id)?;
                    if let Some(u) = updated {
                        if raised && u.state == AlertState::Open {
                            changes.raised.push(u.clone());
                        }
                        changes.folded.push(u);
                    }
                }
                stale => {
                    if let Some(old) = stale {
                        self.set_resolved(old.id, SYSTEM_ACTOR, now)?;
                        if let Some(r) = self.alert_by_id(old.id)? {
                            changes.resolved.push(r);
                        }
                    }
                    self.conn()
                        .execute(
                            "INSERT INTO alerts (key, cluster_id, subject, rule, severity, state,
                                 first_seen, last_seen, count, value, threshold, message,
                                 last_notified_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, ?6, 1, ?7, ?8, ?9, ?10)",
                            params![
                                f.key,
                                f.cluster_id,
                                f.subject,
                                f.rule.as_str(),
                                severity_str(f.severity),
                                now,
                                f.value,
                                f.threshold,
                                f.message,
                                notifies(f.severity).then_some(now)
                            ],
                        )
                        .map_err(|e| self.err(e))?;
                    let id = self.conn().last_insert_rowid();
                    if let Some(a) = self.alert_by_id(id)? {
                        changes.opened.push(a);
                    }
                }
            }
        }

        for cluster in evaluated {
            for a in self.active_of_cluster(cluster)? {
                if fired.contains(a.key.as_str()) || now - a.last_seen < policy.clear_after {
                    continue;
                }
                // Log alerts report an event (a template appeared, a burst
                // happened), not a condition a metric pass can see clear:
                // they stay until a person resolves them. Budget alerts are
                // resolved by the budget evaluation (month rollover, budget
                // changed), which is the only one that sees them.
                if !a.rule.owned_by_metric_pass() {
                    continue;
                }
                self.set_resolved(a.id, SYSTEM_ACTOR, now)?;
                if let Some(r) = self.alert_by_id(a.id)? {
                    changes.resolved.push(r);
                }
            }
        }

        let due: Vec<Alert> = {
            let mut stmt = self
                .conn()
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM alerts
                     WHERE state = 'open' AND severity IN ('high','critical')
                       AND (last_notified_at IS NULL OR ?1 - last_notified_at >= ?2)
                     ORDER BY id"
                ))
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![now, policy.escalate_after], alert_of)
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        for a in due {
            self.conn()
                .execute(
                    "UPDATE alerts SET escalations = escalations + 1, last_notified_at = ?2
                     WHERE id = ?1",
                    params![a.id, now],
                )
                .map_err(|e| self.err(e))?;
            if let Some(u) = self.alert_by_id(a.id)? {
                changes.escalated.push(u);
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(changes)
    }

    /// Alerts matching `query`, most recently seen first.
    pub fn alerts(&self, query: &AlertQuery) -> Result<Vec<Alert>, StoreError> {
        let limit = match query.limit {
            None | Some(0) => DEFAULT_ALERTS_PAGE,
            Some(n) if n > MAX_ALERTS_PAGE => {
                return Err(StoreError::InvalidInput {
                    detail: format!("a page of {n} alerts; pages are 1 to {MAX_ALERTS_PAGE}"),
                })
            }
            Some(n) => n,
        };
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM alerts
                 WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR cluster_id = ?2)
                 ORDER BY last_seen DESC, id DESC LIMIT ?3"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![
                    query.state.map(AlertState::as_str),
                    query.cluster.as_deref(),
                    limit
                ],
                alert_of,
            )
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Marks an open alert acknowledged: it stops escalating and still
    /// resolves when its condition clears.
    pub fn acknowledge(&mut self, id: i64, by: &str, now: i64) -> Result<Alert, AlertError> {
        let a = self.require_alert(id)?;
        match a.state {
            AlertState::Resolved => return Err(AlertError::AlreadyResolved(id)),
            AlertState::Acknowledged => return Err(AlertError::AlreadyAcknowledged(id)),
            AlertState::Open => {}
        }
        self.change_with_audit(&a, by, "alert.acknowledge", |s| {
            s.conn()
                .execute(
                    "UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?2,
                         acknowledged_by = ?3
                     WHERE id = ?1",
                    params![id, now, by],
                )
                .map(|_| ())
                .map_err(|e| s.err(e))
        })
    }

    /// Resolves an open or acknowledged alert by hand.
    pub fn resolve(&mut self, id: i64, by: &str, now: i64) -> Result<Alert, AlertError> {
        let a = self.require_alert(id)?;
        if a.state == AlertState::Resolved {
            return Err(AlertError::AlreadyResolved(id));
        }
        self.change_with_audit(&a, by, "alert.resolve", |s| s.set_resolved(id, by, now))
    }

    /// Runs `change` and appends its audit row in one transaction.
    fn change_with_audit(
        &self,
        a: &Alert,
        by: &str,
        action: &str,
        change: impl FnOnce(&Store) -> Result<(), StoreError>,
    ) -> Result<Alert, AlertError> {
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.err(e))?;
        change(self)?;
        self.append_audit(&NewAuditEntry {
            actor: by.to_owned(),
            action: action.to_owned(),
            target: format!("alert/{}", a.id),
            detail: serde_json::json!({
                "key": a.key,
                "cluster_id": a.cluster_id,
                "subject": a.subject,
                "rule": a.rule.as_str(),
                "severity": severity_str(a.severity),
                "from_state": a.state.as_str(),
            }),
            outcome: Outcome::Succeeded,
        })?;
        tx.commit().map_err(|e| self.err(e))?;
        self.require_alert(a.id)
    }
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
