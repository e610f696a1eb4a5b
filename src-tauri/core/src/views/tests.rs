use super::*;
use crate::metrics::{names, Batch, Sample, SeriesKey};
use crate::model::{ClusterSummary, Provider};
use crate::store::Store;

const NOW: i64 = 1_700_000_000 / 60 * 60;

fn sample(metric: &str, labels: &[(&str, &str)], ts: i64, value: f64) -> Sample {
    Sample {
        series: SeriesKey::new("c1", metric, labels.iter().copied()),
        ts,
        value,
    }
}

/// One hour of a cluster with two nodes and one service.
fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    store
        .upsert_clusters(&[ClusterSummary {
            id: "c1".into(),
            provider: Provider::Aws,
            account: "a".into(),
            name: "one".into(),
            region: "r".into(),
            version: None,
            status: "ACTIVE".into(),
            endpoint: None,
            node_pools: vec![],
            collected_at: NOW,
            gone_at: None,
        }])
        .unwrap();
    let mut samples = Vec::new();
    for i in 0..60 {
        let ts = NOW - 3600 + 60 * (i + 1);
        for (node, used) in [("n-a", 3.0), ("n-b", 1.0)] {
            samples.push(sample(names::NODE_CPU_CORES, &[("node", node)], ts, used));
            samples.push(sample(
                names::NODE_CPU_ALLOCATABLE_CORES,
                &[("node", node)],
                ts,
                4.0,
            ));
            samples.push(sample(names::NODE_MEMORY_BYTES, &[("node", node)], ts, 1e9));
            samples.push(sample(
                names::NODE_MEMORY_ALLOCATABLE_BYTES,
                &[("node", node)],
                ts,
                4e9,
            ));
        }
        samples.push(sample(
            names::NODE_DISK_USED_BYTES,
            &[("node", "n-a")],
            ts,
            50.0,
        ));
        samples.push(sample(
            names::NODE_DISK_CAPACITY_BYTES,
            &[("node", "n-a")],
            ts,
            100.0,
        ));
        samples.push(sample(
            names::SERVICE_REQUESTS_INCREASE,
            &[("service", "api")],
            ts,
            100.0,
        ));
        samples.push(sample(
            names::SERVICE_ERRORS_INCREASE,
            &[("service", "api")],
            ts,
            2.0,
        ));
        for (le, v) in [("0.1", 50.0), ("0.5", 90.0), ("1", 99.0), ("+Inf", 100.0)] {
            samples.push(sample(
                names::SERVICE_LATENCY_BUCKET_INCREASE,
                &[("service", "api"), ("le", le)],
                ts,
                v,
            ));
        }
    }
    store
        .insert_batch(&Batch {
            collected_at: NOW,
            samples,
        })
        .unwrap();
    (dir, store)
}

fn last_hour() -> RangeRequest {
    RangeRequest::Preset {
        preset: "1h".into(),
    }
}

#[test]
fn the_cluster_detail_comes_from_the_cache_with_its_age() {
    let (_dir, store) = store();
    let d = cluster_detail(
        &store,
        "c1",
        &last_hour(),
        ResourceKind::Cpu,
        NOW + 30,
        false,
    )
    .unwrap();
    assert_eq!(d.cluster.name, "one");
    assert_eq!(d.range.step, 60);
    assert_eq!(d.age.collected_at, Some(NOW));
    assert!(!d.age.stale, "{:?}", d.age);
    let names: Vec<&str> = d.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["n-a", "n-b"]);
    assert_eq!(d.nodes[0].cpu_pct, Some(75.0));
    assert_eq!(d.nodes[1].memory_pct, Some(25.0));
    assert_eq!(d.nodes[0].disk_pct, Some(50.0));
    assert_eq!(d.nodes[1].disk_pct, None);
    let heat = d.resource_heatmap.expect("a resource heatmap");
    assert!(heat.svg.starts_with("<svg"), "{}", &heat.svg[..40]);
    assert_eq!(heat.rows.len(), 2);
    assert!(heat.values.iter().all(|col| col.len() == 2));
    assert_eq!(d.services.len(), 1);
    let api = &d.services[0];
    assert!((api.error_pct.unwrap() - 2.0).abs() < 1e-9);
    let span = (d.range.end - d.range.start) as f64;
    assert!(
        (api.requests_per_sec.unwrap() - 6000.0 / span).abs() < 1e-6,
        "{api:?}"
    );
    // Half the requests are under 100 ms: p50 is the top of that bucket.
    assert!((api.p50.unwrap() - 0.1).abs() < 1e-9, "{api:?}");
    assert!(api.p95.unwrap() > 0.1 && api.p95.unwrap() < 1.0);
    assert!(d.services_note.is_none());
}

#[test]
fn old_data_is_stale_and_offline_says_so() {
    let (_dir, store) = store();
    let later = NOW + 3600;
    let d = cluster_detail(
        &store,
        "c1",
        &last_hour(),
        ResourceKind::Memory,
        later,
        false,
    )
    .unwrap();
    assert!(d.age.stale);
    assert!(
        d.age.reason.as_deref().unwrap().contains("unreachable"),
        "{:?}",
        d.age
    );
    let d = cluster_detail(&store, "c1", &last_hour(), ResourceKind::Memory, NOW, true).unwrap();
    assert!(d.age.stale);
    assert!(
        d.age.reason.as_deref().unwrap().starts_with("offline"),
        "{:?}",
        d.age
    );
    assert!(matches!(
        cluster_detail(&store, "nope", &last_hour(), ResourceKind::Cpu, NOW, false),
        Err(ViewError::UnknownCluster(_))
    ));
}

#[test]
fn latency_views_list_rows_top_down_with_their_values_and_lines() {
    let (_dir, store) = store();
    let r = resolve_range(&last_hour(), NOW).unwrap();
    let v = latency_view(&store, "c1", "api", &r).unwrap();
    // The slowest bucket is drawn at the top.
    assert_eq!(v.rows.len(), 4);
    assert!(
        v.rows[0].contains("Inf") || v.rows[0].contains('>'),
        "{:?}",
        v.rows
    );
    let total = |c: &Vec<Option<f64>>| c.iter().flatten().sum::<f64>();
    let col = v
        .values
        .iter()
        .max_by(|a, b| total(a).total_cmp(&total(b)))
        .unwrap();
    // Per-bucket counts, top (slowest) to bottom: 1, 9, 40, 50 per step.
    let per_step: Vec<f64> = col.iter().map(|v| v.unwrap_or(0.0)).collect();
    let steps = per_step.iter().sum::<f64>() / 100.0;
    let norm: Vec<f64> = per_step.iter().map(|v| v / steps).collect();
    assert_eq!(norm, [1.0, 9.0, 40.0, 50.0], "{per_step:?}");
    let names: Vec<&str> = v.lines.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["p50", "p95", "p99"]);
    assert_eq!(v.lines[0].values.len(), v.columns.len());
}

#[test]
fn exports_write_svg_png_and_csv_with_a_safe_name() {
    let (_dir, store) = store();
    let chart = ChartRef::Latency {
        cluster_id: "c1".into(),
        service: "api".into(),
        range: last_hour(),
    };
    let (svg, name) = export_chart(&store, &chart, ExportFormat::Svg, NOW).unwrap();
    assert!(
        name.starts_with("latency-c1-api-") && name.ends_with(".svg"),
        "{name}"
    );
    assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    let (png, _) = export_chart(&store, &chart, ExportFormat::Png, NOW).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let res = ChartRef::Resource {
        cluster_id: "c1".into(),
        resource: ResourceKind::Cpu,
        range: last_hour(),
    };
    let (csv, name) = export_chart(&store, &res, ExportFormat::Csv, NOW).unwrap();
    assert!(
        name.starts_with("cpu-c1-") && name.ends_with(".csv"),
        "{name}"
    );
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("time,cluster,node,percent\n"));
    assert!(csv.contains(",c1,n-a,75.000"), "{}", &csv[..200]);
}
