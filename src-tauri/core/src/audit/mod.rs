//! The append-only audit log. Every write to a cluster or a cloud records a
//! row before it is attempted and another with its outcome (BRIEF §2, §8).
//! The schema's triggers refuse UPDATE and DELETE on the table.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::store::{now_ms, Store, StoreError};

mod export;
pub use export::{audit_csv, newest_first, AuditFilter, AuditRow};

/// What happened to an audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Started,
    Succeeded,
    Failed,
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Started => "started",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Started,
            Outcome::Succeeded,
            Outcome::Failed,
            Outcome::Cancelled,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// A row to append. `detail` must never carry a secret: callers pass the
/// action's parameters (replicas, cluster ids), not credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    pub outcome: Outcome,
}

impl Store {
    /// Appends one row and returns its id.
    pub fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64, StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO audit_log (at_ms, actor, action, target, detail_json, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    now_ms(),
                    entry.actor,
                    entry.action,
                    entry.target,
                    entry.detail.to_string(),
                    entry.outcome.as_str()
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(self.conn().last_insert_rowid())
    }

    /// The log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_rows(None)
    }

    /// The rows about one target (`alert/42`), oldest first.
    pub fn audit_for_target(&self, target: &str) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_rows(Some(target))
    }

    fn audit_rows(&self, target: Option<&str>) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, at_ms, actor, action, target, detail_json, outcome
                 FROM audit_log WHERE (?1 IS NULL OR target = ?1) ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([target], |r| {
                let detail: String = r.get(5)?;
                let outcome: String = r.get(6)?;
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at_ms: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    // Written by us as JSON; keep a damaged value visible
                    // as a string rather than dropping the row.
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                    outcome: Outcome::parse(&outcome).ok_or_else(|| {
                        rusqlite::Error::FromSqlConversionFailure(
                            6,
                            rusqlite::types::Type::Text,
                            format!("unknown audit outcome {outcome:?}").into(),
                        )
                    })?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}
