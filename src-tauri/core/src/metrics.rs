//! The vocabulary shared by the collectors (in `cloudops-cloud`), the sample
//! store and the analyses: metric names, series keys, batches, and the two
//! matrices the heatmaps are drawn from (BRIEF §5, issue 5).
//!
//! Times are unix seconds. A series is a cluster + a metric name + labels;
//! the labels are kept sorted (a `BTreeMap`) so that the same series always
//! has the same key, in memory and in the cache.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Metric names as stored in the cache. Gauges are instantaneous values;
/// the `*_increase` metrics are per-step increases of a counter (summing
/// them over a longer window gives that window's increase, which is what
/// the rollups rely on).
pub mod names {
    /// CPU in use by a node, in cores (`metrics.k8s.io`). Labels: `node`.
    pub const NODE_CPU_CORES: &str = "node_cpu_cores";
    /// A node's allocatable CPU, in cores. Labels: `node`.
    pub const NODE_CPU_ALLOCATABLE_CORES: &str = "node_cpu_allocatable_cores";
    /// Memory working set of a node, in bytes. Labels: `node`.
    pub const NODE_MEMORY_BYTES: &str = "node_memory_bytes";
    /// A node's allocatable memory, in bytes. Labels: `node`.
    pub const NODE_MEMORY_ALLOCATABLE_BYTES: &str = "node_memory_allocatable_bytes";
    /// Node filesystem used, in bytes (kubelet `stats/summary`). Labels: `node`.
    pub const NODE_DISK_USED_BYTES: &str = "node_disk_used_bytes";
    /// Node filesystem capacity, in bytes. Labels: `node`.
    pub const NODE_DISK_CAPACITY_BYTES: &str = "node_disk_capacity_bytes";
    /// CPU in use by a pod, in cores. Labels: `namespace`, `pod`.
    pub const POD_CPU_CORES: &str = "pod_cpu_cores";
    /// Memory working set of a pod, in bytes. Labels: `namespace`, `pod`.
    pub const POD_MEMORY_BYTES: &str = "pod_memory_bytes";
    /// Requests served in the step. Labels: `service`.
    pub const SERVICE_REQUESTS_INCREASE: &str = "service_requests_increase";
    /// Requests that failed (5xx) in the step. Labels: `service`.
    pub const SERVICE_ERRORS_INCREASE: &str = "service_errors_increase";
    /// Cumulative latency-histogram bucket increase in the step. Labels:
    /// `service`, `le` (the bucket's upper bound as Prometheus prints it,
    /// `+Inf` for the last).
    pub const SERVICE_LATENCY_BUCKET_INCREASE: &str = "service_latency_bucket_increase";
}

/// Which series a sample belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    pub cluster_id: String,
    pub metric: String,
    pub labels: BTreeMap<String, String>,
}

impl SeriesKey {
    pub fn new<'a>(
        cluster_id: &str,
        metric: &str,
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> SeriesKey {
        SeriesKey {
            cluster_id: cluster_id.to_owned(),
            metric: metric.to_owned(),
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

/// One value of one series at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub series: SeriesKey,
    /// The time the value describes (unix seconds): the scrape time of a
    /// gauge, or the end of the step of an increase.
    pub ts: i64,
    pub value: f64,
}

/// What one collection pass wrote, all with the same collection time. The
/// store writes a batch in one transaction: all of it or none of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// When the collector fetched the data (unix seconds).
    pub collected_at: i64,
    pub samples: Vec<Sample>,
}

/// A latency histogram as per-step increases: `counts[t][i]` is the
/// increase, over the step ending at `times[t]`, of the cumulative bucket
/// `le[i]` (so it is non-decreasing in `i` for well-formed data). `le` is
/// sorted ascending and its last bound is `+Inf`. This is the shape
/// Prometheus returns for `sum by (le) (increase(metric_bucket[step]))`
/// and the one the store rebuilds from `service_latency_bucket_increase`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistogramSteps {
    pub times: Vec<i64>,
    pub le: Vec<f64>,
    pub counts: Vec<Vec<f64>>,
}

/// One row of the resource heatmap: a node of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub cluster_id: String,
    pub node: String,
}

/// Node × time utilisation, in percent of allocatable; `None` where there
/// is no sample (a gap is drawn as a gap, never as 0 %). Rows are grouped
/// by cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceMatrix {
    pub rows: Vec<ResourceRow>,
    pub times: Vec<i64>,
    /// `values[row][t]`.
    pub values: Vec<Vec<Option<f64>>>,
}
