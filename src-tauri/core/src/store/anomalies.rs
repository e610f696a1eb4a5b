//! Anomalies in the cache (issue 9 part 2): what `analysis::anomaly_eval`
//! found on the cached series, one row per incident of one metric of one
//! subject, keyed by (cluster, subject, metric):
//!
//! - a flagged series with no open anomaly **opens** one (unless the flagged
//!   points were already covered by a closed one: re-running on the same
//!   data changes nothing);
//! - a flagged series with an open anomaly **extends** it (last seen, the
//!   latest value, the peak score and severity, merged causes);
//! - an evaluated series whose latest point is not flagged **closes** its
//!   open anomaly at that point.
//!
//! Series that were not evaluated (their cluster produced no data, or the
//! pass ran out of budget) keep their anomalies as they are.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::alerts::{parse_severity, severity_str};
use super::{Store, StoreError};
use crate::analysis::anomaly::Severity;
use crate::analysis::anomaly_eval::AnomalyMetric;
use crate::analysis::causes::{merge_causes, Cause};

/// Largest page `anomalies()` returns, and the default one.
pub const MAX_ANOMALIES_PAGE: u32 = 1000;
pub const DEFAULT_ANOMALIES_PAGE: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AnomalyState {
    Open,
    Closed,
}

impl AnomalyState {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyState::Open => "open",
            AnomalyState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<AnomalyState> {
        [AnomalyState::Open, AnomalyState::Closed]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// One anomaly as stored. Times are unix seconds.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Anomaly {
    #[ts(type = "number")]
    pub id: i64,
    pub cluster_id: String,
    /// `service/NAME` or `node/NAME`.
    pub subject: String,
    pub metric: AnomalyMetric,
    /// The first flagged point.
    #[ts(type = "number")]
    pub started_at: i64,
    /// The latest flagged point.
    #[ts(type = "number")]
    pub last_seen: i64,
    /// The first quiet point; `None` while open.
    #[ts(type = "number | null")]
    pub ended_at: Option<i64>,
    /// The highest severity reached.
    #[ts(type = "\"medium\" | \"high\" | \"critical\"")]
    pub severity: Severity,
    /// The score with the largest magnitude (signed: below normal is < 0).
    pub peak_score: f64,
    /// The latest flagged value, in the metric's unit.
    pub value: f64,
    /// What was normal before it started (median of the recent history).
    pub baseline: Option<f64>,
    /// Ranked, strongest first.
    pub causes: Vec<Cause>,
    pub state: AnomalyState,
}

/// What the detector says about the flagged run ending at a series' latest
/// point.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub started_at: i64,
    pub at: i64,
    pub severity: Severity,
    pub peak_score: f64,
    pub value: f64,
    pub baseline: Option<f64>,
    pub causes: Vec<Cause>,
}

/// One evaluated series: its key, its latest point, and the detection when
/// that point is flagged.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesVerdict {
    pub cluster_id: String,
    pub subject: String,
    pub metric: AnomalyMetric,
    /// The time of the series' latest point.
    pub last_point: i64,
    pub detection: Option<Detection>,
}

/// Which anomalies to list: most recently seen first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AnomalyQuery {
    pub cluster: Option<String>,
    /// `None`: every state.
    pub state: Option<AnomalyState>,
    /// Only anomalies seen at or after this time (unix seconds).
    #[ts(type = "number | null")]
    pub since: Option<i64>,
    #[serde(default)]
    pub offset: u32,
    /// 1..=1000; `None` or 0 means the default page (200).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, TS)]
#[ts(export)]
pub struct AnomalyPage {
    pub anomalies: Vec<Anomaly>,
    /// Anomalies matching the query over all pages.
    #[ts(type = "number")]
    pub total: u64,
}

/// What one evaluation changed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, TS)]
#[ts(export)]
pub struct AnomalyChanges {
    pub opened: Vec<Anomaly>,
    pub extended: Vec<Anomaly>,
    pub closed: Vec<Anomaly>,
}

const COLUMNS: &str = "id, cluster_id, subject, metric, started_at, last_seen, ended_at, \
     severity, peak_score, value, baseline, causes_json, state";

fn conversion(col: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, what.into())
}

fn anomaly_of(r: &Row<'_>) -> rusqlite::Result<Anomaly> {
    let metric: String = r.get(3)?;
    let severity: String = r.get(7)?;
    let causes: String = r.get(11)?;
    let state: String = r.get(12)?;
    Ok(Anomaly {
        id: r.get(0)?,
        cluster_id: r.get(1)?,
        subject: r.get(2)?,
        metric: AnomalyMetric::parse(&metric)
            .ok_or_else(|| conversion(3, format!("unknown anomaly metric {metric:?}")))?,
        started_at: r.get(4)?,
        last_seen: r.get(5)?,
        ended_at: r.get(6)?,
        severity: parse_severity(&severity)
            .ok_or_else(|| conversion(7, format!("unknown severity {severity:?}")))?,
        peak_score: r.get(8)?,
        value: r.get(9)?,
        baseline: r.get(10)?,
        // Causes are advice: an unreadable list is shown as none rather
        // than hiding the anomaly.
        causes: serde_json::from_str(&causes).unwrap_or_default(),
        state: AnomalyState::parse(&state)
            .ok_or_else(|| conversion(12, format!("unknown anomaly state {state:?}")))?,
    })
}

fn causes_json(causes: &[Cause]) -> String {
    serde_json::to_string(causes).unwrap_or_else(|_| "[]".into())
}

impl Store {
    /// One anomaly by id.
    pub fn anomaly(&self, id: i64) -> Result<Option<Anomaly>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM anomalies WHERE id = ?1"),
                [id],
                anomaly_of,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn open_anomaly(
        &self,
        cluster_id: &str,
        subject: &str,
        metric: AnomalyMetric,
    ) -> Result<Option<Anomaly>, StoreError> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM anomalies
                     WHERE cluster_id = ?1 AND subject = ?2 AND metric = ?3 AND state = 'open'"
                ),
                params![cluster_id, subject, metric.as_str()],
                anomaly_of,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// When the key's last closed anomaly ended, if it has one.
    fn last_ended(
        &self,
        cluster_id: &str,
        subject: &str,
        metric: AnomalyMetric,
    ) -> Result<Option<i64>, StoreError> {
        self.conn()
            .query_row(
                "SELECT max(ended_at) FROM anomalies
                 WHERE cluster_id = ?1 AND subject = ?2 AND metric = ?3 AND state = 'closed'",
                params![cluster_id, subject, metric.as_str()],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    fn require_anomaly(&self, id: i64) -> Result<Anomaly, StoreError> {
        self.anomaly(id)?.ok_or_else(|| StoreError::InvalidInput {
            detail: format!("anomaly {id} vanished during the evaluation"),
        })
    }

    /// Folds one evaluation into the anomalies table, in one transaction.
    pub fn apply_anomaly_verdicts(
        &mut self,
        verdicts: &[SeriesVerdict],
    ) -> Result<AnomalyChanges, StoreError> {
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.err(e))?;
        let mut changes = AnomalyChanges::default();
        for v in verdicts {
            let open = self.open_anomaly(&v.cluster_id, &v.subject, v.metric)?;
            match (&v.detection, open) {
                (Some(d), Some(a)) => {
                    let newer = d.at >= a.last_seen;
                    let peak = if d.peak_score.abs() > a.peak_score.abs() {
                        d.peak_score
                    } else {
                        a.peak_score
                    };
                    let causes = merge_causes(&a.causes, &d.causes, a.started_at);
                    self.conn()
                        .execute(
                            "UPDATE anomalies SET last_seen = ?2, severity = ?3, peak_score = ?4,
                                 value = ?5, baseline = ?6, causes_json = ?7
                             WHERE id = ?1",
                            params![
                                a.id,
                                a.last_seen.max(d.at),
                                severity_str(a.severity.max(d.severity)),
                                peak,
                                if newer { d.value } else { a.value },
                                if newer { d.baseline } else { a.baseline },
                                causes_json(&causes)
                            ],
                        )
                        .map_err(|e| self.err(e))?;
                    changes.extended.push(self.require_anomaly(a.id)?);
                }
                (Some(d), None) => {
                    let ended = self.last_ended(&v.cluster_id, &v.subject, v.metric)?;
                    // Already recorded: this run ended before (a re-run on
                    // data that was evaluated when it was new).
                    if ended.is_some_and(|e| d.at <= e) {
                        continue;
                    }
                    let started = ended.map_or(d.started_at, |e| d.started_at.max(e + 1));
                    self.conn()
                        .execute(
                            "INSERT INTO anomalies (cluster_id, subject, metric, started_at,
                                 last_seen, severity, peak_score, value, baseline, causes_json,
                                 state)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'open')",
                            params![
                                v.cluster_id,
                                v.subject,
                                v.metric.as_str(),
                                started.min(d.at),
                                d.at,
                                severity_str(d.severity),
                                d.peak_score,
                                d.value,
                                d.baseline,
                                causes_json(&d.causes)
                            ],
                        )
                        .map_err(|e| self.err(e))?;
                    let id = self.conn().last_insert_rowid();
                    changes.opened.push(self.require_anomaly(id)?);
                }
                (None, Some(a)) => {
                    self.conn()
                        .execute(
                            "UPDATE anomalies SET state = 'closed', ended_at = ?2 WHERE id = ?1",
                            params![a.id, v.last_point.max(a.last_seen)],
                        )
                        .map_err(|e| self.err(e))?;
                    changes.closed.push(self.require_anomaly(a.id)?);
                }
                (None, None) => {}
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(changes)
    }

    /// A page of anomalies matching `query`, most recently seen first.
    pub fn anomalies(&self, query: &AnomalyQuery) -> Result<AnomalyPage, StoreError> {
        let limit = match query.limit {
            None | Some(0) => DEFAULT_ANOMALIES_PAGE,
            Some(n) if n > MAX_ANOMALIES_PAGE => {
                return Err(StoreError::InvalidInput {
                    detail: format!("a page of {n} anomalies; pages are 1 to {MAX_ANOMALIES_PAGE}"),
                })
            }
            Some(n) => n,
        };
        let filter = "WHERE (?1 IS NULL OR cluster_id = ?1) AND (?2 IS NULL OR state = ?2)
                        AND (?3 IS NULL OR last_seen >= ?3)";
        let total: i64 = self
            .conn()
            .query_row(
                &format!("SELECT count(*) FROM anomalies {filter}"),
                params![
                    query.cluster.as_deref(),
                    query.state.map(AnomalyState::as_str),
                    query.since
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM anomalies {filter}
                 ORDER BY last_seen DESC, id DESC LIMIT ?4 OFFSET ?5"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![
                    query.cluster.as_deref(),
                    query.state.map(AnomalyState::as_str),
                    query.since,
                    limit,
                    query.offset
                ],
                anomaly_of,
            )
            .map_err(|e| self.err(e))?;
        Ok(AnomalyPage {
            anomalies: rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?,
            total: total.max(0) as u64,
        })
    }

    /// Every open anomaly of a cluster (for health scoring), oldest first.
    pub fn open_anomalies(&self, cluster_id: &str) -> Result<Vec<Anomaly>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM anomalies WHERE cluster_id = ?1 AND state = 'open'
                 ORDER BY started_at, id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([cluster_id], anomaly_of)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
#[path = "anomalies_tests.rs"]
mod tests;
