//! Clusters and their node pools in the cache.

use rusqlite::params;

use super::{Store, StoreError};
use crate::model::{ClusterSummary, NodePoolSummary, Provider};

impl Store {
    /// Writes what discovery found, in one transaction: a crash leaves the
    /// previous snapshot or the new one, never half of each. A cluster's node
    /// pools are replaced as a set, so a deleted pool disappears.
    pub fn upsert_clusters(&mut self, clusters: &[ClusterSummary]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql_err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn_mut().transaction().map_err(sql_err)?;
        {
            let mut put_cluster = tx
                .prepare_cached(
                    "INSERT INTO clusters (id, provider, account, name, region, version, status, endpoint, collected_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT(id) DO UPDATE SET
                       provider = excluded.provider, account = excluded.account, name = excluded.name,
                       region = excluded.region, version = excluded.version, status = excluded.status,
                       endpoint = excluded.endpoint, collected_at = excluded.collected_at",
                )
                .map_err(sql_err)?;
            let mut clear_pools = tx
                .prepare_cached("DELETE FROM node_pools WHERE cluster_id = ?1")
                .map_err(sql_err)?;
            let mut put_pool = tx
                .prepare_cached(
                    "INSERT INTO node_pools (cluster_id, name, count, min_count, max_count, machine_type)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(sql_err)?;
            for c in clusters {
                put_cluster
                    .execute(params![
                        c.id,
                        c.provider.as_str(),
                        c.account,
                        c.name,
                        c.region,
                        c.version,
                        c.status,
                        c.endpoint,
                        c.collected_at
                    ])
                    .map_err(sql_err)?;
                clear_pools.execute([&c.id]).map_err(sql_err)?;
                for p in &c.node_pools {
                    put_pool
                        .execute(params![c.id, p.name, p.count, p.min, p.max, p.machine_type])
                        .map_err(sql_err)?;
                }
            }
        }
        tx.commit().map_err(sql_err)
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
            "SELECT id, provider, account, name, region, version, status, endpoint, collected_at
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
