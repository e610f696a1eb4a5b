use super::logs::*;
use super::*;
use crate::analysis::logs::{Level, PatternLimits, PatternTable};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    (dir, store)
}

fn line(pod: &str, container: &str, ts: i64, text: &str) -> CachedLogLine {
    CachedLogLine {
        cluster_id: "c1".into(),
        namespace: "shop".into(),
        pod: pod.into(),
        container: container.into(),
        ts,
        level: Level::Info,
        line: text.into(),
    }
}

#[test]
fn the_line_ring_keeps_the_newest_n_per_stream() {
    let (_d, mut s) = store();
    let first: Vec<_> = (0..8)
        .map(|i| line("p1", "app", i, &format!("line {i}")))
        .collect();
    assert_eq!(s.append_log_lines(&first, 5, 1).unwrap(), 3);
    // Another stream is trimmed on its own.
    let other: Vec<_> = (0..3).map(|i| line("p2", "app", i, "other")).collect();
    assert_eq!(s.append_log_lines(&other, 5, 1).unwrap(), 0);
    let more: Vec<_> = (8..10)
        .map(|i| line("p1", "app", i, &format!("line {i}")))
        .collect();
    assert_eq!(s.append_log_lines(&more, 5, 2).unwrap(), 2);

    let got = s.cached_log_lines("c1", "shop", "p1", None, 100).unwrap();
    let texts: Vec<&str> = got.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(texts, ["line 5", "line 6", "line 7", "line 8", "line 9"]);
    assert_eq!(
        s.cached_log_lines("c1", "shop", "p2", Some("app"), 100)
            .unwrap()
            .len(),
        3
    );
    assert!(s
        .cached_log_lines("c1", "shop", "p2", Some("sidecar"), 100)
        .unwrap()
        .is_empty());
    // The limit takes the newest, still oldest first.
    let two = s.cached_log_lines("c1", "shop", "p1", None, 2).unwrap();
    assert_eq!(two.iter().map(|l| l.ts).collect::<Vec<_>>(), [8, 9]);
}

fn table(lines: &[(&str, &str, i64, &str)]) -> Vec<crate::analysis::logs::Pattern> {
    let mut t = PatternTable::new(PatternLimits::default());
    for (cluster, pod, ts, l) in lines {
        t.observe(cluster, pod, *ts, l);
    }
    t.drain()
}

#[test]
fn patterns_merge_across_writes_and_clusters() {
    let (_d, mut s) = store();
    let a = table(&[
        ("c1", "p1", 1000, "ERROR charge 1 failed"),
        ("c1", "p2", 2000, "ERROR charge 2 failed"),
    ]);
    s.merge_log_patterns("c1", &a).unwrap();
    let b = table(&[
        ("c1", "p3", 500, "ERROR charge 9 failed"),
        ("c1", "p1", 4000, "WARN slow 3ms"),
    ]);
    s.merge_log_patterns("c1", &b).unwrap();
    let c = table(&[("c2", "q1", 3000, "ERROR charge 5 failed")]);
    s.merge_log_patterns("c2", &c).unwrap();

    let c1 = s
        .log_patterns(&LogPatternQuery {
            cluster: Some("c1".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(c1.len(), 2);
    let charge = &c1[0];
    assert_eq!(charge.template, "charge <NUM> failed");
    assert_eq!(
        (charge.count, charge.first_seen, charge.last_seen),
        (3, 500, 2000)
    );
    assert_eq!(charge.pods, ["p1", "p2", "p3"]);
    // The first sample stays.
    assert_eq!(charge.sample, "ERROR charge 1 failed");

    let all = s.log_patterns(&LogPatternQuery::default()).unwrap();
    assert_eq!(all.len(), 3);
    let merged = merge_patterns(all);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0].count, 4);
    assert_eq!(merged[0].clusters, ["c1", "c2"]);
    assert_eq!(merged[0].cluster_id, "");
    assert_eq!(merged[0].last_seen, 3000);

    let recent = s
        .log_patterns(&LogPatternQuery {
            since_ms: Some(2500),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(recent.len(), 2, "{recent:?}");
    assert!(recent.iter().all(|p| p.last_seen >= 2500));
}

#[test]
fn patterns_need_a_cluster() {
    let (_d, mut s) = store();
    let err = s.merge_log_patterns("", &table(&[("c", "p", 1, "error x")]));
    assert!(matches!(err, Err(StoreError::InvalidInput { .. })));
}

#[test]
fn pruning_drops_old_lines_and_stale_patterns_only() {
    let (_d, mut s) = store();
    s.append_log_lines(&[line("old", "app", 1, "x")], 10, 1_000)
        .unwrap();
    s.append_log_lines(&[line("new", "app", 2, "y")], 10, 5_000)
        .unwrap();
    s.merge_log_patterns("c1", &table(&[("c1", "p", 100, "ERROR stale 1")]))
        .unwrap();
    s.merge_log_patterns("c1", &table(&[("c1", "p", 9_000, "WARN fresh 2")]))
        .unwrap();
    assert_eq!(s.prune_logs(2_000, 5_000).unwrap(), (1, 1));
    assert!(s
        .cached_log_lines("c1", "shop", "old", None, 10)
        .unwrap()
        .is_empty());
    assert_eq!(
        s.cached_log_lines("c1", "shop", "new", None, 10)
            .unwrap()
            .len(),
        1
    );
    let left = s.log_patterns(&LogPatternQuery::default()).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].template, "fresh <NUM>");
}

#[test]
fn workload_lines_match_its_pods_only_and_merge_by_time() {
    let (_d, mut s) = store();
    let mut lines = vec![
        line("checkout-7d9f-x2k4p", "app", 30, "a3"),
        line("checkout-7d9f-q8w2z", "app", 10, "b1"),
        line("checkout-7d9f-x2k4p", "app", 20, "a2"),
        line("checkoutx-1-abc", "app", 15, "other workload"),
        line("check_out-1-abc", "app", 16, "underscore is not a wildcard"),
    ];
    let mut c2 = line("checkout-5c6b-zzzzz", "app", 25, "c2");
    c2.cluster_id = "c2".into();
    lines.push(c2);
    s.append_log_lines(&lines, 10, 1).unwrap();
    let all = s
        .cached_workload_lines(None, "shop", "checkout", 100)
        .unwrap();
    let texts: Vec<&str> = all.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(texts, ["b1", "a2", "c2", "a3"]);
    let one = s
        .cached_workload_lines(Some("c1"), "shop", "checkout", 2)
        .unwrap();
    assert_eq!(one.iter().map(|l| l.ts).collect::<Vec<_>>(), [20, 30]);
    let pod = s
        .cached_workload_lines(None, "shop", "checkoutx-1-abc", 10)
        .unwrap();
    assert_eq!(pod.len(), 1);
    assert!(s
        .cached_workload_lines(None, "shop", "check%", 10)
        .unwrap()
        .is_empty());
}
