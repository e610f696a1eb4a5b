//! What the Cluster and Workloads screens (and the CLI's `--json`) receive:
//! plain DTOs built from the cache, with charts already rendered to SVG in
//! Rust (BRIEF §2: the webview is a view). The TypeScript side gets these
//! through ts-rs (`ui/src/lib/bindings/`).
//!
//! Times are unix seconds, like everything in the cache.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::ClusterSummary;

/// How old a view's data is, and why it may be stale (BRIEF §11
/// freshness: older than three collection intervals is stale).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DataAge {
    /// When the newest data shown was collected; `None`: never collected.
    #[ts(type = "number | null")]
    pub collected_at: Option<i64>,
    /// The collection interval the staleness is judged against.
    #[ts(type = "number")]
    pub interval_secs: i64,
    pub stale: bool,
    /// Why the data is old: "offline", "cluster unreachable: …", "circuit
    /// open", "never collected". `None` when it is fresh.
    pub reason: Option<String>,
}

/// A time range asked for by the user: a preset (`1h`, `24h`, `7d`,
/// `30d`) ending now, or explicit bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum RangeRequest {
    Preset {
        preset: String,
    },
    Custom {
        #[ts(type = "number")]
        start: i64,
        #[ts(type = "number")]
        end: i64,
    },
}

/// The range a view was built for, with the step its data was aligned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ResolvedRange {
    #[ts(type = "number")]
    pub start: i64,
    #[ts(type = "number")]
    pub end: i64,
    #[ts(type = "number")]
    pub step: i64,
}

/// A rendered heatmap, plus what the UI needs for the hover tooltip and
/// click/drag-to-zoom: where the plot area sits in the SVG's coordinates,
/// the time span of each drawn column, the label of each row (top to
/// bottom) and the value of each cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HeatmapView {
    pub svg: String,
    /// The SVG's own size (its viewBox).
    pub width: u32,
    pub height: u32,
    pub plot: PlotArea,
    pub columns: Vec<ColumnSpan>,
    /// Top to bottom, as drawn.
    pub rows: Vec<String>,
    /// `values[column][row]`; `None` where there is no data.
    pub values: Vec<Vec<Option<f64>>>,
    /// What a cell's value is: "requests" (latency: count per bucket) or
    /// "% of allocatable" (resource).
    pub value_unit: String,
    /// Latency only: the quantile lines drawn over the cells, one value per
    /// column (`None`: no requests in that column).
    pub lines: Vec<QuantileLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PlotArea {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ColumnSpan {
    #[ts(type = "number")]
    pub start: i64,
    #[ts(type = "number")]
    pub end: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct QuantileLine {
    /// "p50", "p95", "p99".
    pub name: String,
    pub q: f64,
    /// Seconds, one per column.
    pub values: Vec<Option<f64>>,
}

/// One node of the Cluster screen's nodes table: the latest values in the
/// range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeRow {
    pub name: String,
    pub pool: Option<String>,
    pub ready: Option<bool>,
    pub cpu_pct: Option<f64>,
    pub memory_pct: Option<f64>,
    pub disk_pct: Option<f64>,
}

/// One service of the Cluster screen's services table (RED over the range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ServiceRow {
    pub service: String,
    pub requests_per_sec: Option<f64>,
    pub error_pct: Option<f64>,
    /// Seconds.
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

/// Which resource the node × time heatmap shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ResourceKind {
    Cpu,
    Memory,
}

/// The Cluster screen, built from the cache only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ClusterDetail {
    pub cluster: ClusterSummary,
    pub range: ResolvedRange,
    pub age: DataAge,
    pub nodes: Vec<NodeRow>,
    pub resource: ResourceKind,
    /// `None` when there are no node samples in the range.
    pub resource_heatmap: Option<HeatmapView>,
    pub services: Vec<ServiceRow>,
    /// Why there are no services (no Prometheus found, not configured…),
    /// when there are none.
    pub services_note: Option<String>,
}

/// One workload of the cross-cluster Workloads table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkloadRow {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub kind: String,
    pub replicas: Option<u32>,
    pub ready: Option<u32>,
    #[ts(type = "number")]
    pub collected_at: i64,
}

/// What the Workloads screen asks for: a page of the filtered table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkloadQuery {
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    /// Substring of the name, namespace, cluster or a label (`key=value`).
    pub search: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkloadPage {
    pub rows: Vec<WorkloadRow>,
    /// Rows matching the filter, over all pages.
    pub total: u32,
    pub age: DataAge,
}

/// A workload the UI wants live numbers for (only the visible rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkloadKey {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
}

/// Latest CPU (cores) and memory (bytes) summed over a workload's pods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkloadUsage {
    pub key: WorkloadKey,
    pub cpu_cores: Option<f64>,
    pub memory_bytes: Option<f64>,
    #[ts(type = "number | null")]
    pub sampled_at: Option<i64>,
}

/// What to export from a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExportFormat {
    Svg,
    Png,
    Csv,
}

/// Which chart to export; rebuilt from the cache at export time, so the
/// file matches what the screen shows for the same range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum ChartRef {
    Latency {
        cluster_id: String,
        service: String,
        range: RangeRequest,
    },
    Resource {
        cluster_id: String,
        resource: ResourceKind,
        range: RangeRequest,
    },
}

/// Where an export was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ExportResult {
    pub path: String,
    #[ts(type = "number")]
    pub bytes: u64,
}

/// One deduction from a health score, as the Fleet screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HealthReason {
    /// `errors`, `latency`, `anomalies`, `alerts`, `node_pressure`,
    /// `certificate`, `version`.
    pub kind: String,
    /// Points taken off 100.
    pub points: f64,
    /// "p95 2.4 s in checkout".
    pub detail: String,
}

/// One point of a score's history; `score` is `None` where it was unknown.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HealthPoint {
    #[ts(type = "number")]
    pub at: i64,
    pub score: Option<f64>,
}

/// One cluster's health on the Fleet screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ClusterHealthView {
    pub cluster_id: String,
    /// 0–100 over the last hour; `None`: unknown (no data), never 100.
    pub score: Option<f64>,
    /// `services`, `nodes` (no Prometheus data) or `none`.
    pub basis: String,
    /// Largest deduction first.
    pub reasons: Vec<HealthReason>,
    /// The last 24 h of recorded scores, oldest first, in
    /// [`HEALTH_HISTORY_BUCKET_SECS`] buckets.
    pub history: Vec<HealthPoint>,
}

/// The Fleet screen's health: the fleet's score and each cluster's,
/// worst first (unknown last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FleetHealthView {
    /// The mean of the known cluster scores; `None` when none is known.
    pub fleet: Option<f64>,
    /// Clusters whose score is unknown.
    pub unknown: u32,
    /// When the scores were computed (unix seconds).
    #[ts(type = "number")]
    pub at: i64,
    pub fleet_history: Vec<HealthPoint>,
    pub clusters: Vec<ClusterHealthView>,
}

mod build;
pub mod cost;
mod cost_export;
mod cost_forecasts;
mod cost_suggestions;
mod export;
mod fleet_cost;
pub mod health;
pub mod node_prices;
mod range;
mod workloads;

pub use build::{
    cluster_detail, cluster_numbers, heatmap_view, latency_view, ViewError, COLLECT_INTERVAL_SECS,
};
pub use cost::{cost_view, CostView, CostViewRequest};
pub use cost_export::cost_csv;
pub use cost_forecasts::cost_forecasts;
pub use export::export_chart;
pub use fleet_cost::{fleet_cost_view, FleetClusterCost, FleetCostView, FleetCurrencyCost};
pub use health::{
    attach_open_issues, cluster_signals, fleet_health, fleet_health_for, fleet_health_view,
    HEALTH_HISTORY_BUCKET_SECS,
};
pub use range::{resolve_range, PRESETS};
pub use workloads::{workloads_page, workloads_usage, MAX_PAGE};

#[cfg(test)]
mod tests;
