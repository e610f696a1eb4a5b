//! Builds the Cluster screen's views from the cache: no network, so they
//! work the same online, offline, and in the CLI.

use crate::analysis::quantile::histogram_quantile;
use crate::charts::{self, ChartError, LatencyChartOptions, RenderedChart, ResourceChartOptions};
use crate::metrics::names;
use crate::store::{Resource, Selector, Store, StoreError};

use super::{
    resolve_range, ClusterDetail, ColumnSpan, DataAge, HeatmapView, NodeRow, PlotArea,
    QuantileLine, RangeRequest, ResolvedRange, ResourceKind, ServiceRow,
};

/// The collectors' default interval; a view older than three of them is
/// stale (BRIEF §11).
pub const COLLECT_INTERVAL_SECS: i64 = 60;

/// The quantile lines of every latency view.
const LINES: [(&str, f64); 3] = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)];

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("no cluster {0:?} in the cache")]
    UnknownCluster(String),
    #[error("{0}")]
    BadRange(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chart(#[from] ChartError),
}

impl ViewError {
    pub fn kind(&self) -> &'static str {
        match self {
            ViewError::UnknownCluster(_) => "unknown_cluster",
            ViewError::BadRange(_) => "bad_range",
            ViewError::Store(e) => e.kind(),
            ViewError::Chart(e) => e.kind(),
        }
    }

    pub fn hint(&self) -> String {
        match self {
            ViewError::UnknownCluster(_) => {
                "Refresh the fleet; the cluster may have been removed from its account.".into()
            }
            ViewError::BadRange(_) => "Pick a preset range or a start before the end.".into(),
            ViewError::Store(e) => e.hint(),
            ViewError::Chart(e) => e.hint(),
        }
    }
}

/// How old the cluster's newest sample is, judged against the collection
/// interval; `offline` says the session has no network (the reason then
/// says so instead of blaming the cluster).
pub fn data_age(
    store: &Store,
    cluster_id: &str,
    now: i64,
    offline: bool,
) -> Result<DataAge, StoreError> {
    let collected_at = store.latest_sample_time(cluster_id)?;
    // The newest failed collector says why the data is old.
    let failure = store
        .cluster_freshness(cluster_id)?
        .into_iter()
        .filter(|f| f.stale)
        .max_by_key(|f| f.attempted_at)
        .map(|f| match (f.error, f.hint) {
            (Some(e), Some(h)) => format!("{e} ({h})"),
            (Some(e), None) => e,
            _ => format!("the {} collector failed", f.collector),
        });
    Ok(age_of(collected_at, now, offline, failure.as_deref()))
}

pub(crate) fn age_of(
    collected_at: Option<i64>,
    now: i64,
    offline: bool,
    failure: Option<&str>,
) -> DataAge {
    let stale = collected_at.is_none_or(|t| now - t > 3 * COLLECT_INTERVAL_SECS);
    let reason = match (collected_at, offline, stale) {
        (None, true, _) => Some("offline, and nothing was collected before".to_owned()),
        (None, false, _) => Some(
            failure
                .map(|f| format!("never collected: {f}"))
                .unwrap_or_else(|| "never collected yet".to_owned()),
        ),
        (Some(_), true, _) => Some("offline: showing the cached data".to_owned()),
        (Some(_), false, true) => Some(
            failure
                .map(|f| format!("the last collection failed: {f}"))
                .unwrap_or_else(|| "no new data: the cluster may be unreachable".to_owned()),
        ),
        (Some(_), false, false) => None,
    };
    DataAge {
        collected_at,
        interval_secs: COLLECT_INTERVAL_SECS,
        stale: stale || offline,
        reason,
    }
}

/// A rendered chart as the UI takes it: rows top to bottom, with each
/// cell's value in the same order.
pub fn heatmap_view(chart: RenderedChart, value_unit: &str) -> HeatmapView {
    let layout = chart.layout;
    let mut order: Vec<usize> = (0..layout.rows.len()).collect();
    order.sort_by_key(|i| layout.rows[*i].y0);
    let rows = order
        .iter()
        .map(|i| layout.rows[*i].label.clone())
        .collect();
    let values = layout
        .values
        .iter()
        .map(|col| {
            order
                .iter()
                // A step with no data may come through as NaN: no data.
                .map(|i| col.get(*i).copied().flatten().filter(|v| v.is_finite()))
                .collect()
        })
        .collect();
    HeatmapView {
        svg: chart.svg,
        width: layout.width,
        height: layout.height,
        plot: PlotArea {
            x: f64::from(layout.plot.x),
            y: f64::from(layout.plot.y),
            width: f64::from(layout.plot.width),
            height: f64::from(layout.plot.height),
        },
        columns: layout
            .columns
            .iter()
            .map(|c| ColumnSpan {
                start: c.start,
                end: c.end,
            })
            .collect(),
        rows,
        values,
        value_unit: value_unit.to_owned(),
        lines: layout
            .lines
            .into_iter()
            .map(|l| QuantileLine {
                name: l.name,
                q: l.q,
                values: l
                    .values
                    .into_iter()
                    .map(|v| v.filter(|v| v.is_finite()))
                    .collect(),
            })
            .collect(),
    }
}

fn resource_of(kind: ResourceKind) -> Resource {
    match kind {
        ResourceKind::Cpu => Resource::Cpu,
        ResourceKind::Memory => Resource::Memory,
    }
}

/// The node × time heatmap of one cluster; `None` when no node has a
/// sample in the range.
pub fn resource_view(
    store: &Store,
    cluster_id: &str,
    resource: ResourceKind,
    range: &ResolvedRange,
) -> Result<Option<HeatmapView>, ViewError> {
    let ids = [cluster_id.to_owned()];
    let matrix = store.resource_matrix(
        Some(&ids),
        resource_of(resource),
        range.start,
        range.end,
        range.step,
    )?;
    let has_data = matrix.values.iter().flatten().any(Option::is_some);
    if !has_data {
        return Ok(None);
    }
    let rows = matrix.rows.len() as u32;
    let opts = ResourceChartOptions {
        height: (110 + 26 * rows).clamp(220, 900),
        ..ResourceChartOptions::default()
    };
    let chart = charts::resource_heatmap(&matrix, &opts)?;
    Ok(Some(heatmap_view(chart, "% of allocatable")))
}

/// One service's latency heatmap with its p50/p95/p99 lines.
pub fn latency_view(
    store: &Store,
    cluster_id: &str,
    service: &str,
    range: &ResolvedRange,
) -> Result<HeatmapView, ViewError> {
    let steps = store.histogram_steps(cluster_id, service, range.start, range.end, range.step)?;
    let opts = LatencyChartOptions {
        quantiles: LINES.iter().map(|(_, q)| *q).collect(),
        ..LatencyChartOptions::default()
    };
    let chart = charts::latency_heatmap(&steps, &opts)?;
    Ok(heatmap_view(chart, "requests"))
}

fn last_value(values: &[Option<f64>]) -> Option<f64> {
    values.iter().rev().find_map(|v| *v)
}

/// The latest CPU, memory and disk use of each node in the range.
pub(super) fn node_rows(
    store: &Store,
    cluster_id: &str,
    range: &ResolvedRange,
) -> Result<Vec<NodeRow>, ViewError> {
    let ids = [cluster_id.to_owned()];
    let cpu = store.resource_matrix(
        Some(&ids),
        Resource::Cpu,
        range.start,
        range.end,
        range.step,
    )?;
    let mem = store.resource_matrix(
        Some(&ids),
        Resource::Memory,
        range.start,
        range.end,
        range.step,
    )?;
    let disk_of = |metric: &str| -> Result<std::collections::BTreeMap<String, f64>, StoreError> {
        Ok(store
            .range(
                &Selector::metric(metric).cluster(cluster_id),
                range.start,
                range.end,
                range.step,
            )?
            .into_iter()
            .filter_map(|(key, points)| {
                let node = key.labels.get("node")?.clone();
                let v = points.iter().rev().find(|p| p.1.is_finite())?.1;
                Some((node, v))
            })
            .collect())
    };
    let used = disk_of(names::NODE_DISK_USED_BYTES)?;
    let capacity = disk_of(names::NODE_DISK_CAPACITY_BYTES)?;
    let mut names: Vec<String> = cpu.rows.iter().map(|r| r.node.clone()).collect();
    for r in &mem.rows {
        if !names.contains(&r.node) {
            names.push(r.node.clone());
        }
    }
    for n in used.keys() {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let known = store.cluster_nodes(cluster_id)?;
    for n in &known {
        if !names.contains(&n.name) {
            names.push(n.name.clone());
        }
    }
    names.sort();
    let pct_of = |m: &crate::metrics::ResourceMatrix, node: &str| {
        m.rows
            .iter()
            .position(|r| r.node == node)
            .and_then(|i| last_value(&m.values[i]))
    };
    Ok(names
        .into_iter()
        .map(|name| {
            let disk_pct = match (used.get(&name), capacity.get(&name)) {
                (Some(u), Some(c)) if *c > 0.0 => Some(u / c * 100.0),
                _ => None,
            };
            NodeRow {
                cpu_pct: pct_of(&cpu, &name),
                memory_pct: pct_of(&mem, &name),
                disk_pct,
                pool: known
                    .iter()
                    .find(|n| n.name == name)
                    .and_then(|n| n.pool.clone()),
                ready: known.iter().find(|n| n.name == name).map(|n| n.ready),
                name,
            }
        })
        .collect())
}

fn quantile(h: &crate::metrics::HistogramSteps, q: f64) -> Option<f64> {
    let row = h.counts.last()?;
    let buckets: Vec<(f64, f64)> =
        h.le.iter()
            .zip(row)
            .filter(|(_, c)| c.is_finite())
            .map(|(le, c)| (*le, *c))
            .collect();
    let v = histogram_quantile(q, &buckets);
    v.is_finite().then_some(v)
}

pub(super) fn service_rows(
    store: &Store,
    cluster_id: &str,
    range: &ResolvedRange,
) -> Result<Vec<ServiceRow>, ViewError> {
    Ok(store
        .services(cluster_id, range.start, range.end)?
        .into_iter()
        .map(|s| ServiceRow {
            p50: quantile(&s.latency, 0.5),
            p95: quantile(&s.latency, 0.95),
            p99: quantile(&s.latency, 0.99),
            requests_per_sec: Some(s.requests_per_second).filter(|v| v.is_finite()),
            error_pct: s.error_percent,
            service: s.service,
        })
        .collect())
}

/// The Cluster screen for one cluster and range, from the cache only.
pub fn cluster_detail(
    store: &Store,
    cluster_id: &str,
    range: &RangeRequest,
    resource: ResourceKind,
    now: i64,
    offline: bool,
) -> Result<ClusterDetail, ViewError> {
    detail(store, cluster_id, range, resource, now, offline, true)
}

/// The same numbers without drawing the heatmap (`resource_heatmap` is
/// `None`): what evaluations that run after every pass need (alerts),
/// without rendering an SVG nobody sees.
pub fn cluster_numbers(
    store: &Store,
    cluster_id: &str,
    range: &RangeRequest,
    now: i64,
) -> Result<ClusterDetail, ViewError> {
    detail(
        store,
        cluster_id,
        range,
        ResourceKind::Cpu,
        now,
        false,
        false,
    )
}

fn detail(
    store: &Store,
    cluster_id: &str,
    range: &RangeRequest,
    resource: ResourceKind,
    now: i64,
    offline: bool,
    draw: bool,
) -> Result<ClusterDetail, ViewError> {
    let cluster = store
        .cluster(cluster_id)?
        .ok_or_else(|| ViewError::UnknownCluster(cluster_id.to_owned()))?;
    let range = resolve_range(range, now)?;
    let services = service_rows(store, cluster_id, &range)?;
    let services_note = services.is_empty().then(|| {
        "No service metrics in this range: no Prometheus was found for this cluster, or it has \
         no request histogram. Set the cluster's Prometheus (URL or service) in collect.toml \
         in the data dir."
            .to_owned()
    });
    let resource_heatmap = if draw {
        resource_view(store, cluster_id, resource, &range)?
    } else {
        None
    };
    Ok(ClusterDetail {
        age: data_age(store, cluster_id, now, offline)?,
        nodes: node_rows(store, cluster_id, &range)?,
        resource,
        resource_heatmap,
        services,
        services_note,
        cluster,
        range,
    })
}
