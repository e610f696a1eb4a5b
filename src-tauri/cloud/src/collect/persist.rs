//! Writes a collection pass into the cache: each cluster's state snapshot,
//! its samples (one transaction per cluster), the per-collector outcome,
//! then the incremental rollup. The CLI's `refresh` and the app's loop
//! both write through here, so the cache looks the same whoever filled it.

use cloudops_core::store::retention::{Retention, RollupReport};
use cloudops_core::{Store, StoreError};

use super::ClusterCollection;

/// What one pass wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written {
    pub clusters: usize,
    pub samples: usize,
    pub rollup: RollupReport,
}

pub fn write_pass(
    store: &mut Store,
    collections: &[ClusterCollection],
    now: i64,
    retention: &Retention,
) -> Result<Written, StoreError> {
    let mut written = Written::default();
    for c in collections {
        // A failed collector left its part of the state `None`: the
        // previous snapshot of that part stays, and the record says stale.
        store.apply_cluster_state(&c.cluster_id, &c.state, now)?;
        let receipt = store.insert_batch(&c.batch)?;
        written.samples += receipt.written;
        for r in c.records(now) {
            store.record_collection(&r)?;
        }
        written.clusters += 1;
    }
    // Incremental: only buckets completed since the last pass.
    written.rollup = store.rollup_and_prune(now, retention)?;
    Ok(written)
}
