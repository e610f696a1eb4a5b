//! Chart exports (BRIEF §11: SVG, PNG and CSV from every chart), rebuilt
//! from the cache with the same code as the screen, so the file shows what
//! the screen showed for the same range.

use std::fmt::Write as _;

use crate::charts::{self, LatencyChartOptions, ResourceChartOptions};
use crate::store::{Resource, Store};

use super::{resolve_range, ChartRef, ExportFormat, ResourceKind, ViewError};

/// Export size: larger than the screen, for slides and post-mortems.
const EXPORT_SIZE: (u32, u32) = (1600, 640);

/// The file's bytes and a file name that says what it is.
pub fn export_chart(
    store: &Store,
    chart: &ChartRef,
    format: ExportFormat,
    now: i64,
) -> Result<(Vec<u8>, String), ViewError> {
    let ext = match format {
        ExportFormat::Svg => "svg",
        ExportFormat::Png => "png",
        ExportFormat::Csv => "csv",
    };
    match chart {
        ChartRef::Latency {
            cluster_id,
            service,
            range,
        } => {
            store
                .cluster(cluster_id)?
                .ok_or_else(|| ViewError::UnknownCluster(cluster_id.clone()))?;
            let r = resolve_range(range, now)?;
            let steps = store.histogram_steps(cluster_id, service, r.start, r.end, r.step)?;
            let opts = LatencyChartOptions {
                width: EXPORT_SIZE.0,
                height: EXPORT_SIZE.1,
                title: Some(format!("{service} latency · {cluster_id}")),
                ..LatencyChartOptions::default()
            };
            let bytes = match format {
                ExportFormat::Svg => charts::latency_heatmap(&steps, &opts)?.svg.into_bytes(),
                ExportFormat::Png => charts::latency_heatmap_png(&steps, &opts)?,
                ExportFormat::Csv => {
                    let mut out = String::from("time,le,increase\n");
                    for (t, row) in steps.times.iter().zip(&steps.counts) {
                        for (le, v) in steps.le.iter().zip(row) {
                            if v.is_finite() {
                                let le = if le.is_infinite() {
                                    "+Inf".to_owned()
                                } else {
                                    le.to_string()
                                };
                                let _ = writeln!(out, "{t},{le},{v}");
                            }
                        }
                    }
                    out.into_bytes()
                }
            };
            let name = format!(
                "latency-{}-{}-{}-{}.{ext}",
                file_part(cluster_id),
                file_part(service),
                r.start,
                r.end
            );
            Ok((bytes, name))
        }
        ChartRef::Resource {
            cluster_id,
            resource,
            range,
        } => {
            store
                .cluster(cluster_id)?
                .ok_or_else(|| ViewError::UnknownCluster(cluster_id.clone()))?;
            let r = resolve_range(range, now)?;
            let (kind, what) = match resource {
                ResourceKind::Cpu => (Resource::Cpu, "cpu"),
                ResourceKind::Memory => (Resource::Memory, "memory"),
            };
            let ids = [cluster_id.clone()];
            let m = store.resource_matrix(Some(&ids), kind, r.start, r.end, r.step)?;
            let opts = ResourceChartOptions {
                width: EXPORT_SIZE.0,
                height: EXPORT_SIZE.1,
                title: Some(format!("{what} % of allocatable · {cluster_id}")),
                ..ResourceChartOptions::default()
            };
            let bytes = match format {
                ExportFormat::Svg => charts::resource_heatmap(&m, &opts)?.svg.into_bytes(),
                ExportFormat::Png => charts::resource_heatmap_png(&m, &opts)?,
                ExportFormat::Csv => {
                    let mut out = String::from("time,cluster,node,percent\n");
                    for (row, values) in m.rows.iter().zip(&m.values) {
                        for (t, v) in m.times.iter().zip(values) {
                            if let Some(v) = v {
                                let _ = writeln!(
                                    out,
                                    "{t},{},{},{v:.3}",
                                    csv_field(&row.cluster_id),
                                    csv_field(&row.node)
                                );
                            }
                        }
                    }
                    out.into_bytes()
                }
            };
            let name = format!(
                "{what}-{}-{}-{}.{ext}",
                file_part(cluster_id),
                r.start,
                r.end
            );
            Ok((bytes, name))
        }
    }
}

/// Cluster ids hold `/`: file names must not.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
