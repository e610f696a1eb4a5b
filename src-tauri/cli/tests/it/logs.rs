//! `logs` and `logs patterns` through the real binary against the sandbox.

use std::collections::BTreeSet;

use cloudops_core::store::LogPatternQuery;
use serde_json::Value;

use super::{cloudops, json};

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn checkout_logs_across_clusters_are_json_lines_in_time_order_and_fill_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops(
        dir.path(),
        &[
            "logs",
            "--sandbox",
            "-n",
            "shop",
            "--deployment",
            "checkout",
            "--all-clusters",
            "--tail",
            "40",
            "--keep",
            "5",
            "--json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let docs = json_lines(&out.stdout);
    // The sandbox's controllers replace pods as they go (HPA, restarts): a
    // pod gone between the listing and its log request ends that one
    // stream with an error, and the run is partial (exit 3), saying which.
    // Anything else is a failure.
    let failed_streams = docs
        .iter()
        .filter(|d| d["event"] == "ended" && !d["error"].is_null())
        .count();
    match out.status.code() {
        Some(0) => assert_eq!(failed_streams, 0, "stderr: {stderr}"),
        Some(3) => assert!(
            failed_streams > 0,
            "partial without a failed stream: {stderr}"
        ),
        other => panic!("exit {other:?}; stderr: {stderr}"),
    }
    let lines: Vec<&Value> = docs.iter().filter(|d| d.get("line").is_some()).collect();
    assert!(lines.len() > 40, "{} lines", lines.len());
    let mut clusters = BTreeSet::new();
    let mut last = String::new();
    for l in &lines {
        for k in ["ts", "cluster", "pod", "container", "level", "line"] {
            assert!(l[k].is_string(), "{k} in {l}");
        }
        // RFC 3339 in UTC sorts as text only at the same precision: parse.
        let ts = l["ts"].as_str().unwrap().to_string();
        let t: jiff::Timestamp = ts.parse().unwrap();
        if !last.is_empty() {
            assert!(
                last.parse::<jiff::Timestamp>().unwrap() <= t,
                "{last} > {ts}"
            );
        }
        last = ts;
        clusters.insert(l["cluster"].as_str().unwrap().to_string());
        assert!(
            ["error", "warn", "info", "debug", "unknown"].contains(&l["level"].as_str().unwrap())
        );
    }
    assert_eq!(clusters.len(), 3, "{clusters:?}");
    assert!(stderr.contains("0 dropped"), "{stderr}");

    // The cache: at most --keep lines per stream, and the patterns.
    let store = cloudops_core::Store::open_in(&dir.path().join("sandbox")).unwrap();
    let first = lines[0];
    let cached = store
        .cached_log_lines(
            first["cluster"].as_str().unwrap(),
            "shop",
            first["pod"].as_str().unwrap(),
            None,
            1000,
        )
        .unwrap();
    assert_eq!(cached.len(), 5);
    let stored = store.log_patterns(&LogPatternQuery::default()).unwrap();
    let errors_and_warnings = lines
        .iter()
        .filter(|l| matches!(l["level"].as_str(), Some("error" | "warn")))
        .count() as u64;
    assert_eq!(
        stored.iter().map(|p| p.count).sum::<u64>(),
        errors_and_warnings
    );

    // Offline: the cached lines of the deployment, with their age.
    let out = cloudops(
        dir.path(),
        &[
            "logs",
            "--sandbox",
            "--offline",
            "-n",
            "shop",
            "--deployment",
            "checkout",
            "--all-clusters",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let cached = json_lines(&out.stdout);
    // Nine streams, five lines kept each.
    assert_eq!(cached.len(), 9 * 5);
    assert!(cached
        .iter()
        .all(|l| l["age_secs"].as_i64().is_some_and(|a| a >= 0)));

    // Offline: `logs patterns` reads them back, merged over clusters, with age.
    let out = cloudops(dir.path(), &["logs", "patterns", "--sandbox", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc = json(&out);
    let patterns = doc["patterns"].as_array().unwrap();
    assert_eq!(
        patterns
            .iter()
            .map(|p| p["count"].as_u64().unwrap())
            .sum::<u64>(),
        errors_and_warnings
    );
    for p in patterns {
        assert!(
            p["template"].as_str().unwrap().contains('<') || p["count"] == 1,
            "{p}"
        );
        assert!(p["age_secs"].as_i64().unwrap() >= 0);
    }
}

#[test]
fn an_unknown_container_fails_clearly_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops(
        dir.path(),
        &[
            "logs",
            "--sandbox",
            "-n",
            "shop",
            "--deployment",
            "checkout",
            "--all-clusters",
            "--tail",
            "1",
            "--json",
        ],
    );
    let first = json_lines(&out.stdout)
        .into_iter()
        .find(|d| d.get("line").is_some())
        .expect("a line");
    let (cluster, pod) = (
        first["cluster"].as_str().unwrap(),
        first["pod"].as_str().unwrap(),
    );
    let out = cloudops(
        dir.path(),
        &[
            "logs",
            "--sandbox",
            "--cluster",
            cluster,
            "-n",
            "shop",
            "--pod",
            pod,
            "-c",
            "nope",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("container nope is not valid for pod {pod}")),
        "{stderr}"
    );
    let out = cloudops(
        dir.path(),
        &["logs", "--sandbox", "--pod", "x", "--cluster", "c"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = cloudops(
        dir.path(),
        &[
            "logs",
            "--sandbox",
            "-n",
            "shop",
            "--pod",
            "x",
            "--cluster",
            "c",
            "--grep",
            "(",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
