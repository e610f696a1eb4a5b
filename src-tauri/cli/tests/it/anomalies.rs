//! `cloudops anomalies --csv` and `cloudops bench anomalies` through the real
//! binary (BRIEF §7, §9 A1).

use std::fmt::Write as _;

use super::{cloudops, json};

/// Two days of 5-minute noise, then two hours 30 units higher.
fn shifted_series_csv() -> String {
    let mut csv = String::from("timestamp,value\n");
    let start = 1_392_336_000; // 2014-02-14 00:00:00 UTC
    for i in 0..600_i64 {
        let ts = start + i * 300;
        let (h, m) = (ts % 86_400 / 3600, ts % 3600 / 60);
        let day = 14 + ts.div_euclid(86_400) - start / 86_400;
        let noise = ((i * 7919) % 13) as f64 / 13.0 - 0.5;
        let value = if (570..594).contains(&i) { 40.0 } else { 10.0 } + noise;
        writeln!(csv, "2014-02-{day:02} {h:02}:{m:02}:00,{value}").unwrap();
    }
    csv
}

#[test]
fn anomalies_csv_json_has_the_contract_shape() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("series.csv");
    std::fs::write(&file, shifted_series_csv()).unwrap();
    let out = cloudops(
        dir.path(),
        &["anomalies", "--csv", file.to_str().unwrap(), "--json"],
    );
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    let points = doc["points"].as_array().unwrap();
    assert_eq!(points.len(), 600);
    for key in ["timestamp", "value", "score", "anomaly"] {
        assert!(points[0].get(key).is_some(), "contract field {key} missing");
    }
    assert_eq!(points[0]["timestamp"], 1_392_336_000);
    assert_eq!(points[0]["anomaly"], false);
    let flagged: Vec<usize> = (0..points.len())
        .filter(|&i| points[i]["anomaly"] == true)
        .collect();
    assert!(!flagged.is_empty(), "the shift is an anomaly");
    assert!(
        flagged.iter().all(|&i| (570..600).contains(&i)),
        "only the shift is flagged: {flagged:?}"
    );
    assert!(points[575]["score"].as_f64().unwrap() > 5.0);

    // Text mode summarises the incident.
    let out = cloudops(dir.path(), &["anomalies", "--csv", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("600 points"), "{text}");
    assert!(text.contains("anomalies: 1 "), "{text}");
    assert!(text.contains("2014-02-15 23:"), "{text}");
}

#[test]
fn a_bad_csv_is_exit_1_with_the_line_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    std::fs::write(
        &file,
        "timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,abc\n",
    )
    .unwrap();
    let out = cloudops(
        dir.path(),
        &["anomalies", "--csv", file.to_str().unwrap(), "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "bad_csv");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("line 3") && message.contains("abc"),
        "{message}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint:"));

    std::fs::write(&file, "timestamp,value\n").unwrap();
    let out = cloudops(dir.path(), &["anomalies", "--csv", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no data rows"));

    let out = cloudops(
        dir.path(),
        &["anomalies", "--csv", "/no/such/file.csv", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["kind"], "io");

    let out = cloudops(dir.path(), &["anomalies"]);
    assert_eq!(out.status.code(), Some(2), "--csv is required");
}

#[test]
fn bench_anomalies_reports_seed_and_ours_per_file() {
    let nab = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/nab");
    assert!(
        std::path::Path::new(nab)
            .join("labels/combined_windows.json")
            .is_file(),
        "the NAB fixtures are missing at {nab}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops(dir.path(), &["bench", "anomalies", "--nab", nab, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["files"].as_array().unwrap().len(), 28);
    let file = &doc["files"][0];
    for key in [
        "windows",
        "detected",
        "false_positive_events",
        "precision",
        "recall",
        "f1",
    ] {
        assert!(file["seed"].get(key).is_some(), "{key}");
        assert!(file["ours"].get(key).is_some(), "{key}");
    }
    assert_eq!(doc["seed_total"]["windows"], 36);
    assert_eq!(doc["goal_met"], true, "{}", doc["f1_ratio"]);
}

/// One open anomaly (with a rollout as its probable cause) and one closed,
/// written the way the evaluation after `cloudops refresh` writes them.
fn seed_anomalies(dir: &std::path::Path) -> i64 {
    use cloudops_core::analysis::anomaly::Severity;
    use cloudops_core::analysis::anomaly_eval::AnomalyMetric;
    use cloudops_core::analysis::causes::{Cause, CauseKind};
    use cloudops_core::store::{Detection, SeriesVerdict};
    let mut store = cloudops_core::Store::open_in(dir).unwrap();
    let verdict = |cluster: &str, metric, at: i64, flagged: bool| SeriesVerdict {
        cluster_id: cluster.into(),
        subject: "service/checkout".into(),
        metric,
        last_point: at,
        detection: flagged.then(|| Detection {
            started_at: at - 600,
            at,
            severity: Severity::Critical,
            peak_score: 12.0,
            value: 31.0,
            baseline: Some(0.4),
            causes: vec![Cause {
                kind: CauseKind::Rollout,
                detail: "rollout of deployment shop/checkout: 1 of 4 replicas updated".into(),
                at: at - 600,
                weight: 1.0,
            }],
        }),
    };
    let t = 1_700_000_000;
    let changes = store
        .apply_anomaly_verdicts(&[
            verdict("aws/a/eu-west-1/prod", AnomalyMetric::ErrorPct, t, true),
            verdict("do/a/fra1/edge", AnomalyMetric::P95Seconds, t, true),
        ])
        .unwrap();
    store
        .apply_anomaly_verdicts(&[verdict(
            "do/a/fra1/edge",
            AnomalyMetric::P95Seconds,
            t + 300,
            false,
        )])
        .unwrap();
    changes.opened[0].id
}

#[test]
fn anomalies_list_and_show_read_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let id = seed_anomalies(dir.path());

    let open = json(&cloudops(dir.path(), &["anomalies", "list", "--json"]));
    let list = open["anomalies"].as_array().unwrap();
    assert_eq!(list.len(), 1, "open only by default: {open}");
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["metric"], "error_pct");
    assert_eq!(list[0]["state"], "open");
    assert_eq!(list[0]["causes"][0]["kind"], "rollout");
    let all = json(&cloudops(
        dir.path(),
        &["anomalies", "list", "--state", "all", "--json"],
    ));
    assert_eq!(all["total"], 2);
    let edge = json(&cloudops(
        dir.path(),
        &[
            "anomalies",
            "list",
            "--state",
            "closed",
            "--cluster",
            "do/a/fra1/edge",
            "--json",
        ],
    ));
    assert_eq!(edge["anomalies"][0]["ended_at"], 1_700_000_300);

    let text = cloudops(dir.path(), &["anomalies", "list"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("shop/checkout") && text.contains("critical"),
        "{text}"
    );

    let shown = json(&cloudops(
        dir.path(),
        &["anomalies", "show", &id.to_string(), "--json"],
    ));
    assert_eq!(shown["anomaly"]["id"], id);
    let missing = cloudops(dir.path(), &["anomalies", "show", "4242", "--json"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(json(&missing)["error"]["kind"], "unknown_anomaly");
    assert_eq!(
        cloudops(dir.path(), &["anomalies", "show", "0"])
            .status
            .code(),
        Some(2)
    );
    // Neither --csv nor a subcommand, or both: usage errors.
    assert_eq!(cloudops(dir.path(), &["anomalies"]).status.code(), Some(2));
    assert_eq!(
        cloudops(dir.path(), &["anomalies", "--csv", "x.csv", "list"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        cloudops(dir.path(), &["anomalies", "list", "--state", "weird"])
            .status
            .code(),
        Some(2)
    );
}

/// `cloudops … | head` must end quietly when the reader goes away, not
/// panic with "failed printing to stdout" (exit 101).
#[test]
#[cfg(unix)]
fn a_closed_stdout_pipe_ends_the_process_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("series.csv");
    std::fs::write(&file, shifted_series_csv()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudops"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["anomalies", "--csv", file.to_str().unwrap(), "--json"])
        .env("HOME", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the child writes a byte.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.signal(),
        Some(libc_sigpipe()),
        "{:?}",
        out.status
    );
}

/// SIGPIPE's number on Linux and the BSDs.
#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}
