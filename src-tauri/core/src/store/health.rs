//! Recorded health scores (issue 9): one row per cluster and collection
//! pass, plus the fleet's (`cluster_id = ''`), kept 35 days, so that the
//! Fleet screen can show where a score has been, not only where it is.

use rusqlite::params;

use super::{Store, StoreError};
use crate::analysis::health::FleetScore;

/// The fleet's own rows use this cluster id (no real cluster id is empty).
pub const FLEET_ID: &str = "";
/// How long recorded scores are kept: a month of history plus slack.
pub const HEALTH_RETENTION_SECS: i64 = 35 * 86_400;

/// A finite score, or `None` (unknown). SQLite would store NaN as NULL
/// anyway; saying it here keeps the meaning explicit.
fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

impl Store {
    /// Records the fleet's and every cluster's score at `at` (unix seconds)
    /// in one transaction, and drops rows older than 35 days before `at`.
    /// Recording twice at the same `at` replaces the first. Returns how many
    /// old rows were pruned.
    pub fn record_health(&mut self, at: i64, fleet: &FleetScore) -> Result<usize, StoreError> {
        let mut rows = Vec::with_capacity(fleet.clusters.len());
        for c in &fleet.clusters {
            let reasons =
                serde_json::to_string(&c.score.reasons).map_err(|e| StoreError::InvalidInput {
                    detail: format!("the reasons of {} cannot be encoded: {e}", c.cluster_id),
                })?;
            if c.cluster_id.is_empty() {
                return Err(StoreError::InvalidInput {
                    detail: "a cluster score has an empty cluster id".into(),
                });
            }
            rows.push((
                c.cluster_id.as_str(),
                finite(c.score.value),
                c.basis,
                reasons,
            ));
        }
        let path = self.path().to_path_buf();
        let sql_err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn_mut().transaction().map_err(sql_err)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO health_scores (cluster_id, at, score, basis, reasons_json)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(sql_err)?;
            insert
                .execute(params![FLEET_ID, at, finite(fleet.value), "fleet", "[]"])
                .map_err(sql_err)?;
            for (id, score, basis, reasons) in &rows {
                insert
                    .execute(params![id, at, score, basis, reasons])
                    .map_err(sql_err)?;
            }
        }
        let pruned = tx
            .execute(
                "DELETE FROM health_scores WHERE at < ?1",
                params![at.saturating_sub(HEALTH_RETENTION_SECS)],
            )
            .map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        Ok(pruned)
    }

    /// A cluster's recorded scores since `since` (inclusive), oldest first;
    /// `None` where the score was unknown. [`FLEET_ID`] reads the fleet's.
    pub fn health_history(
        &self,
        cluster_id: &str,
        since: i64,
    ) -> Result<Vec<(i64, Option<f64>)>, StoreError> {
        self.health_query(
            "SELECT at, score FROM health_scores
             WHERE cluster_id = ?1 AND at >= ?2 ORDER BY at",
            params![cluster_id, since],
        )
    }

    /// Like [`Store::health_history`], averaged into buckets of `bucket`
    /// seconds (each at its start) so that a day fits a sparkline. A bucket
    /// whose scores were all unknown is `None`; a bucket with no rows (the
    /// app was not running) is absent.
    pub fn health_history_buckets(
        &self,
        cluster_id: &str,
        since: i64,
        bucket: i64,
    ) -> Result<Vec<(i64, Option<f64>)>, StoreError> {
        if bucket <= 0 {
            return Err(StoreError::InvalidInput {
                detail: format!("the history bucket must be positive, not {bucket}"),
            });
        }
        // avg() skips NULLs and is NULL when every score was unknown.
        self.health_query(
            "SELECT (at - (at % ?3 + ?3) % ?3) AS b, avg(score) FROM health_scores
             WHERE cluster_id = ?1 AND at >= ?2 GROUP BY b ORDER BY b",
            params![cluster_id, since, bucket],
        )
    }

    fn health_query(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<(i64, Option<f64>)>, StoreError> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<f64>>(1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}
