pub mod accounts;
pub mod act;
pub mod alerts;
pub mod anomalies;
pub mod anomalies_list;
pub mod bench;
pub mod bench_anomaly_pass;
mod bench_cost;
mod bench_heatmap;
pub mod bench_logs;
pub mod bench_store;
pub mod bench_workloads;
pub mod budget;
pub mod cache;
pub mod clusters;
pub mod cost;
pub mod failover;
mod failover_groups;
pub mod heatmap;
pub mod hpa;
pub mod latency;
pub mod logs;
mod prometheus_fetch;
pub mod refresh;
pub mod report;
pub mod sandbox;
pub mod workloads;

use std::path::PathBuf;

use cloudops_core::store::resolve_data_dir;
use cloudops_core::Store;

use crate::output::Failure;

/// What every command gets from the global flags.
pub struct Context {
    pub data_dir: Option<PathBuf>,
    pub json: bool,
    /// Refuse every write to a cluster or cloud (`--read-only`,
    /// `CLOUDOPS_READ_ONLY=1`).
    pub read_only: bool,
}

impl Context {
    pub fn open_store(&self) -> Result<Store, Failure> {
        let dir = resolve_data_dir(self.data_dir.as_deref())?;
        Ok(Store::open_in(&dir)?)
    }
}
