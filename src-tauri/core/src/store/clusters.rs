//! Clusters and their node pools in the cache.

use std::collections::HashSet;

use rusqlite::{params, Transaction};

use super::{Store, StoreError};
use crate::model::{ClusterSummary, DiscoveryStatus, NodePoolSummary, Provider, SourceError};

/// A cluster as discovery found it: the cache row plus how the provider
/// addresses it and the scope it came from.
#[derive(Debug, Clone)]
pub struct DiscoveredRow {
    pub summary: ClusterSummary,
    pub native_id: String,
    pub scope: String,
}

/// A source that was listed completely: clusters cached for it and not seen
/// this time are marked gone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompleteScope {
    pub provider: Provider,
    pub account: String,
    pub scope: String,
}

/// One discovery run, ready to record.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryRun {
    pub started_ms: i64,
    pub finished_ms: i64,
    pub rows: Vec<DiscoveredRow>,
    pub complete_scopes: Vec<CompleteScope>,
    pub errors: Vec<SourceError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedDiscovery {
    pub upserted: usize,
    pub marked_gone: usize,
}

/// Runs older than this many are pruned; their errors go with them.
const KEPT_RUNS: i64 = 100;

impl Store {
    /// Writes what discovery found, in one transaction: a crash leaves the
    /// previous snapshot or the new one, never half of each. A cluster's node
    /// pools are replaced as a set, so a deleted pool disappears.
    pub fn upsert_clusters(&mut self, clusters: &[ClusterSummary]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql_err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn_mut().transaction().map_err(sql_err)?;
        for c in clusters {
            put_cluster(&tx, c, None, "").map_err(sql_err)?;
        }
        tx.commit().map_err(sql_err)
    }

    /// Records a discovery run in one transaction: the clusters found (no
    /// longer gone), the clusters of every complete scope that were not
    /// found (marked gone with the run's time, kept), the run and its
    /// per-source errors. A failed scope changes nothing it did not see.
    pub fn apply_discovery(&mut self, run: &DiscoveryRun) -> Result<AppliedDiscovery, StoreError> {
        let path = self.path.clone();
        let sql_err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn_mut().transaction().map_err(sql_err)?;
        for row in &run.rows {
            put_cluster(&tx, &row.summary, Some(&row.native_id), &row.scope).map_err(sql_err)?;
        }
        let found: HashSet<&str> = run.rows.iter().map(|r| r.summary.id.as_str()).collect();
        let gone_at = run.finished_ms / 1000;
        let mut marked_gone = 0;
        {
            let mut in_scope = tx
                .prepare_cached(
                    "SELECT id FROM clusters
                     WHERE provider = ?1 AND account = ?2 AND scope = ?3 AND gone_at IS NULL",
                )
                .map_err(sql_err)?;
            let mut mark = tx
                .prepare_cached("UPDATE clusters SET gone_at = ?2 WHERE id = ?1")
                .map_err(sql_err)?;
            for s in &run.complete_scopes {
                let ids = in_scope
                    .query_map(params![s.provider.as_str(), s.account, s.scope], |r| {
                        r.get::<_, String>(0)
                    })
                    .map_err(sql_err)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sql_err)?;
                for id in ids.iter().filter(|id| !found.contains(id.as_str())) {
                    marked_gone += mark.execute(params![id, gone_at]).map_err(sql_err)?;
                }
            }
        }
        tx.execute(
            "INSERT INTO discovery_runs (started_ms, finished_ms, cluster_count, error_count)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                run.started_ms,
                run.finished_ms,
                run.rows.len() as i64,
                run.errors.len() as i64
            ],
        )
        .map_err(sql_err)?;
        let run_id = tx.last_insert_rowid();
        {
            let mut put_error = tx
                .prepare_cached(
                    "INSERT INTO discovery_errors (run_id, provider, account, scope, kind, message, hint)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(sql_err)?;
            for e in &run.errors {
                put_error
                    .execute(params![
                        run_id,
                        e.provider.as_str(),
                        e.account,
                        e.scope,
                        e.kind,
                        e.message,
                        e.hint
                    ])
                    .map_err(sql_err)?;
            }
        }
        tx.execute(
            "DELETE FROM discovery_runs WHERE id <= ?1",
            [run_id - KEPT_RUNS],
        )
        .map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        Ok(AppliedDiscovery {
            upserted: run.rows.len(),
            marked_gone,
        })
    }

    /// The newest discovery run with its errors; `None` before the first.
    pub fn last_discovery(&self) -> Result<Option<DiscoveryStatus>, StoreError> {
        let run = self
            .conn()
            .query_row(
                "SELECT id, started_ms, finished_ms, cluster_count FROM discovery_runs
                 ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(|e| self.err(e))?;
        let Some((id, started_ms, finished_ms, cluster_count)) = run else {
            return Ok(None);
        };
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT provider, account, scope, kind, message, hint FROM discovery_errors
                 WHERE run_id = ?1 ORDER BY provider, account, scope",
            )
            .map_err(|e| self.err(e))?;
        let errors = stmt
            .query_map([id], |r| {
                let provider: String = r.get(0)?;
                Ok(SourceError {
                    provider: provider.parse().map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            0,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })?,
                    account: r.get(1)?,
                    scope: r.get(2)?,
                    kind: r.get(3)?,
                    message: r.get(4)?,
                    hint: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(Some(DiscoveryStatus {
            started_ms,
            finished_ms,
            cluster_count: u32::try_from(cluster_count).unwrap_or(u32::MAX),
            errors,
        }))
    }

    /// How the provider addresses a cached cluster (for describe, scale,
    /// connect): `(native_id, scope)`.
    pub fn cluster_locator(&self, id: &str) -> Result<Option<(String, String)>, StoreError> {
        self.conn()
            .query_row(
                "SELECT native_id, scope FROM clusters WHERE id = ?1 AND native_id IS NOT NULL",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(|e| self.err(e))
    }

    /// Every cached cluster, optionally of one provider, ordered by
    /// provider then name so that lists are stable between refreshes.
    pub fn clusters(&self, provider: Option<Provider>) -> Result<Vec<ClusterSummary>, StoreError> {
        self.query_clusters(
            "WHERE ?1 IS NULL OR provider = ?1 ORDER BY provider, name, id",
            provider.map(Provider::as_str),
        )
    }

    pub fn cluster(&self, id: &str) -> Result<Option<ClusterSummary>, StoreError> {
        Ok(self
            .query_clusters("WHERE id = ?1", Some(id))?
            .into_iter()
            .next())
    }

    fn query_clusters(
        &self,
        filter: &str,
        param: Option<&str>,
    ) -> Result<Vec<ClusterSummary>, StoreError> {
        let sql = format!(
            "SELECT id, provider, account, name, region, version, status, endpoint, collected_at, gone_at
             FROM clusters {filter}"
        );
        let mut stmt = self.conn().prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([param], |r| {
                let provider: String = r.get(1)?;
                Ok(ClusterSummary {
                    id: r.get(0)?,
                    // The CHECK constraint keeps unknown names out; treat a
                    // hand-edited row as a conversion error, not a panic.
                    provider: provider.parse().map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            1,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })?,
                    account: r.get(2)?,
                    name: r.get(3)?,
                    region: r.get(4)?,
                    version: r.get(5)?,
                    status: r.get(6)?,
                    endpoint: r.get(7)?,
                    node_pools: Vec::new(),
                    collected_at: r.get(8)?,
                    gone_at: r.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut clusters = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        for c in &mut clusters {
            c.node_pools = self.node_pools(&c.id)?;
        }
        Ok(clusters)
    }

    fn node_pools(&self, cluster_id: &str) -> Result<Vec<NodePoolSummary>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT name, count, min_count, max_count, machine_type
                 FROM node_pools WHERE cluster_id = ?1 ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([cluster_id], |r| {
                Ok(NodePoolSummary {
                    name: r.get(0)?,
                    count: r.get(1)?,
                    min: r.get(2)?,
                    max: r.get(3)?,
                    machine_type: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

/// One cluster row and its pools. A row written here is present again, so
/// `gone_at` is cleared; `native_id` and `scope` are kept when the caller
/// does not know them (a plain upsert).
fn put_cluster(
    tx: &Transaction<'_>,
    c: &ClusterSummary,
    native_id: Option<&str>,
    scope: &str,
) -> Result<(), rusqlite::Error> {
    tx.prepare_cached(
        "INSERT INTO clusters (id, provider, account, name, region, version, status, endpoint, collected_at, native_id, scope, gone_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL)
         ON CONFLICT(id) DO UPDATE SET
           provider = excluded.provider, account = excluded.account, name = excluded.name,
           region = excluded.region, version = excluded.version, status = excluded.status,
           endpoint = excluded.endpoint, collected_at = excluded.collected_at,
           native_id = coalesce(excluded.native_id, clusters.native_id),
           scope = CASE WHEN excluded.native_id IS NULL THEN clusters.scope ELSE excluded.scope END,
           gone_at = NULL",
    )?
    .execute(params![
        c.id,
        c.provider.as_str(),
        c.account,
        c.name,
        c.region,
        c.version,
        c.status,
        c.endpoint,
        c.collected_at,
        native_id,
        scope
    ])?;
    tx.prepare_cached("DELETE FROM node_pools WHERE cluster_id = ?1")?
        .execute([&c.id])?;
    let mut put_pool = tx.prepare_cached(
        "INSERT INTO node_pools (cluster_id, name, count, min_count, max_count, machine_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for p in &c.node_pools {
        put_pool.execute(params![c.id, p.name, p.count, p.min, p.max, p.machine_type])?;
    }
    Ok(())
}
