use super::*;
use crate::metrics::{names, Batch};
use crate::store::samples::tests::sample;

fn store_with(samples: Vec<crate::metrics::Sample>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    store
        .insert_batch(&Batch {
            collected_at: 0,
            samples,
        })
        .unwrap();
    (dir, store)
}

#[test]
fn tiers_follow_retention_and_coarsen_only_on_whole_buckets() {
    let r = Retention::default();
    let now = 100 * 86_400;
    assert_eq!(Tier::pick(now - 3600, 60, now, &r), Tier::Raw);
    assert_eq!(Tier::pick(now - 3600, 600, now, &r), Tier::FiveMin);
    assert_eq!(Tier::pick(now - 6 * 86_400, 7200, now, &r), Tier::Hour);
    assert_eq!(Tier::pick(now - 8 * 86_400, 60, now, &r), Tier::FiveMin);
    assert_eq!(Tier::pick(now - 40 * 86_400, 300, now, &r), Tier::Hour);
}

#[test]
fn range_matches_labels_and_aligns_gauges_and_increases_to_the_step() {
    let (_dir, store) = store_with(vec![
        sample("c1", "g", &[("node", "a"), ("zone", "z")], 600, 1.0),
        sample("c1", "g", &[("node", "a"), ("zone", "z")], 660, 3.0),
        sample("c1", "g", &[("node", "a"), ("zone", "z")], 1200, 10.0),
        sample("c1", "g", &[("node", "b")], 600, 7.0),
        sample("c2", "g", &[("node", "a")], 600, 9.0),
        sample("c1", "r_increase", &[("service", "s")], 600, 4.0),
        sample("c1", "r_increase", &[("service", "s")], 660, 6.0),
    ]);
    let sel = Selector::metric("g").cluster("c1").label("node", "a");
    let got = store
        .range_at(&sel, 0, 2000, 600, 2000, &Retention::default())
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.labels["zone"], "z");
    assert_eq!(got[0].1, vec![(600, 2.0), (1200, 10.0)]);

    let all = store
        .range_at(
            &Selector::metric("g"),
            0,
            2000,
            600,
            2000,
            &Retention::default(),
        )
        .unwrap();
    assert_eq!(all.len(), 3, "every cluster without a cluster filter");

    let inc = store
        .range_at(
            &Selector::metric("r_increase"),
            0,
            2000,
            600,
            2000,
            &Retention::default(),
        )
        .unwrap();
    assert_eq!(inc[0].1, vec![(600, 10.0)]);

    assert!(matches!(
        store.range(&sel, 0, 10, 0),
        Err(StoreError::InvalidInput { .. })
    ));
    assert!(matches!(
        store.range(&sel, 10, 0, 1),
        Err(StoreError::InvalidInput { .. })
    ));
}

#[test]
fn histogram_steps_sort_le_numerically_with_inf_last() {
    let mut samples = Vec::new();
    for (le, v) in [
        ("+Inf", 10.0),
        ("0.1", 4.0),
        ("1", 8.0),
        ("0.05", 1.0),
        ("junk", 99.0),
    ] {
        for ts in [1000, 1060] {
            samples.push(sample(
                "c",
                names::SERVICE_LATENCY_BUCKET_INCREASE,
                &[("service", "api"), ("le", le)],
                ts,
                v,
            ));
        }
    }
    samples.push(sample(
        "c",
        names::SERVICE_LATENCY_BUCKET_INCREASE,
        &[("service", "other"), ("le", "+Inf")],
        1000,
        50.0,
    ));
    let (_dir, store) = store_with(samples);
    let h = store.histogram_steps("c", "api", 960, 1100, 60).unwrap();
    assert_eq!(h.le, vec![0.05, 0.1, 1.0, f64::INFINITY]);
    assert_eq!(h.times, vec![1020, 1080, 1140]);
    assert_eq!(h.counts[0], vec![1.0, 4.0, 8.0, 10.0]);
    assert_eq!(h.counts[1], vec![1.0, 4.0, 8.0, 10.0]);
    assert_eq!(h.counts[2], vec![0.0; 4]);
}

#[test]
fn services_sum_requests_errors_and_buckets_over_the_window() {
    let mut samples = Vec::new();
    for ts in (0..600).step_by(60) {
        samples.push(sample(
            "c",
            names::SERVICE_REQUESTS_INCREASE,
            &[("service", "api")],
            ts,
            120.0,
        ));
        samples.push(sample(
            "c",
            names::SERVICE_ERRORS_INCREASE,
            &[("service", "api")],
            ts,
            6.0,
        ));
        samples.push(sample(
            "c",
            names::SERVICE_REQUESTS_INCREASE,
            &[("service", "idle")],
            ts,
            0.0,
        ));
        for (le, v) in [("0.5", 100.0), ("+Inf", 120.0)] {
            samples.push(sample(
                "c",
                names::SERVICE_LATENCY_BUCKET_INCREASE,
                &[("service", "api"), ("le", le)],
                ts,
                v,
            ));
        }
    }
    let (_dir, store) = store_with(samples);
    let s = store.services("c", 0, 599).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].service, "api");
    assert!((s[0].requests_per_second - 1200.0 / 599.0).abs() < 1e-9);
    assert_eq!(s[0].error_percent, Some(5.0));
    assert_eq!(s[0].latency.le, vec![0.5, f64::INFINITY]);
    assert_eq!(s[0].latency.counts, vec![vec![1000.0, 1200.0]]);
    assert_eq!(s[1].service, "idle");
    assert_eq!(s[1].error_percent, None);
}

#[test]
fn resource_matrix_is_percent_of_allocatable_with_gaps_as_none() {
    let (_dir, store) = store_with(vec![
        sample("c1", names::NODE_CPU_CORES, &[("node", "n1")], 0, 1.0),
        sample("c1", names::NODE_CPU_CORES, &[("node", "n1")], 120, 3.0),
        sample(
            "c1",
            names::NODE_CPU_ALLOCATABLE_CORES,
            &[("node", "n1")],
            0,
            4.0,
        ),
        sample(
            "c1",
            names::NODE_CPU_ALLOCATABLE_CORES,
            &[("node", "n1")],
            60,
            4.0,
        ),
        sample("c0", names::NODE_CPU_CORES, &[("node", "z")], 0, 2.0),
        sample(
            "c0",
            names::NODE_CPU_ALLOCATABLE_CORES,
            &[("node", "z")],
            0,
            8.0,
        ),
    ]);
    let m = store
        .resource_matrix(None, Resource::Cpu, 0, 179, 60)
        .unwrap();
    assert_eq!(m.times, vec![0, 60, 120]);
    assert_eq!(
        m.rows
            .iter()
            .map(|r| (r.cluster_id.as_str(), r.node.as_str()))
            .collect::<Vec<_>>(),
        vec![("c0", "z"), ("c1", "n1")]
    );
    assert_eq!(m.values[0], vec![Some(25.0), None, None]);
    assert_eq!(m.values[1], vec![Some(25.0), None, None]);
    let only = store
        .resource_matrix(Some(&["c1".to_owned()]), Resource::Cpu, 0, 179, 60)
        .unwrap();
    assert_eq!(only.rows.len(), 1);
    let mem = store
        .resource_matrix(None, Resource::Memory, 0, 179, 60)
        .unwrap();
    assert!(mem.rows.is_empty());
}

#[test]
fn latest_sample_time_is_per_cluster() {
    let (_dir, store) = store_with(vec![
        sample("c1", "g", &[], 100, 1.0),
        sample("c1", "h", &[], 250, 1.0),
        sample("c2", "g", &[], 900, 1.0),
    ]);
    assert_eq!(store.latest_sample_time("c1").unwrap(), Some(250));
    assert_eq!(store.latest_sample_time("c2").unwrap(), Some(900));
    assert_eq!(store.latest_sample_time("none").unwrap(), None);
}

#[test]
fn range_reads_are_primary_key_seeks() {
    let (_dir, store) = store_with(vec![sample("c", "g", &[], 1, 1.0)]);
    let plan = |sql: &str| -> String {
        let mut stmt = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.join(" | ")
    };
    for table in ["samples", "samples_5m", "samples_1h"] {
        let p = plan(&format!(
            "SELECT ts FROM {table} WHERE series_id = 1 AND ts >= 0 AND ts < 10 ORDER BY ts"
        ));
        assert!(
            p.contains("USING PRIMARY KEY (series_id=? AND ts>? AND ts<?)"),
            "{table}: {p}"
        );
        assert!(!p.contains("TEMP B-TREE"), "{table}: {p}");
    }
    let p = plan("SELECT id FROM series WHERE cluster_id = 'c' AND metric = 'g'");
    assert!(
        p.contains("USING INDEX") || p.contains("USING COVERING INDEX"),
        "{p}"
    );
    let p = plan("SELECT id FROM series WHERE metric = 'g'");
    assert!(p.contains("series_by_metric"), "{p}");
}
