//! The Workloads screen: a page of the cross-cluster table, and the usage
//! of the rows on screen, both from the cache.

use rusqlite::{params, OptionalExtension};

use crate::store::{self, Store, StoreError};

use super::build::age_of;
use super::{WorkloadKey, WorkloadPage, WorkloadQuery, WorkloadRow, WorkloadUsage};

/// The most rows one call returns: a screenful many times over.
pub const MAX_PAGE: u32 = 1_000;

/// One page of the filtered table, with the age of its oldest row.
pub fn workloads_page(
    store: &Store,
    q: &WorkloadQuery,
    now: i64,
    offline: bool,
) -> Result<WorkloadPage, StoreError> {
    let page = store.workloads(&store::WorkloadQuery {
        cluster: q.cluster.clone().filter(|s| !s.is_empty()),
        namespace: q.namespace.clone().filter(|s| !s.is_empty()),
        search: q.search.clone().filter(|s| !s.trim().is_empty()),
        offset: q.offset,
        limit: q.limit.clamp(1, MAX_PAGE),
    })?;
    // The oldest row decides: a table is only as fresh as its stalest part.
    let collected_at = page.rows.iter().map(|r| r.collected_at).min();
    Ok(WorkloadPage {
        total: u32::try_from(page.total).unwrap_or(u32::MAX),
        age: age_of(collected_at, now, offline, None),
        rows: page
            .rows
            .into_iter()
            .map(|r| WorkloadRow {
                replicas: u32::try_from(r.replicas).ok(),
                ready: u32::try_from(r.ready).ok(),
                cluster: r.cluster,
                namespace: r.namespace,
                name: r.name,
                kind: r.kind,
                collected_at: r.collected_at,
            })
            .collect(),
    })
}

/// The latest CPU and memory of each asked-for workload (its pods' usage
/// summed at the last collection).
pub fn workloads_usage(
    store: &Store,
    keys: &[WorkloadKey],
) -> Result<Vec<WorkloadUsage>, StoreError> {
    let mut stmt = store
        .conn()
        .prepare_cached(
            "SELECT cpu_cores, memory_bytes, collected_at FROM cluster_workloads
             WHERE cluster_id = ?1 AND namespace = ?2 AND name = ?3
             ORDER BY kind LIMIT 1",
        )
        .map_err(|e| store.err(e))?;
    keys.iter()
        .map(|k| {
            let row: Option<(Option<f64>, Option<f64>, i64)> = stmt
                .query_row(params![k.cluster, k.namespace, k.name], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(|e| store.err(e))?;
            Ok(match row {
                Some((cpu, memory, at)) => WorkloadUsage {
                    key: k.clone(),
                    cpu_cores: cpu,
                    memory_bytes: memory,
                    sampled_at: (cpu.is_some() || memory.is_some()).then_some(at),
                },
                None => WorkloadUsage {
                    key: k.clone(),
                    cpu_cores: None,
                    memory_bytes: None,
                    sampled_at: None,
                },
            })
        })
        .collect()
}
