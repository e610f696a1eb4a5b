//! The sample store's crash-safety and ingest benchmarks through the real
//! binary (the acceptance points of issue 5: >= 50 SIGKILLs in the suite).

use std::process::Command;

fn bench(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_cloudops"))
        .arg("bench")
        .args(args)
        .arg("--json")
        .env_remove("CLOUDOPS_DATA_DIR")
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{doc}");
    doc
}

#[test]
fn fifty_sigkills_mid_ingest_lose_no_acknowledged_batch() {
    let doc = bench(&["crash", "--runs", "50", "--max-delay-ms", "150"]);
    assert_eq!(doc["failures"], serde_json::json!([]), "{doc}");
    assert_eq!(doc["runs"], 50);
    assert_eq!(doc["integrity_checks_ok"], 50, "{doc}");
    // Every child was still ingesting when it was killed (none had exited
    // on an error), and most had batches acknowledged by then: the kills
    // really hit a busy writer.
    assert_eq!(doc["killed_while_running"], 50, "{doc}");
    assert!(doc["runs_with_acks"].as_u64().unwrap() >= 30, "{doc}");
    assert!(doc["acked_batches"].as_u64().unwrap() >= 100, "{doc}");
}

#[test]
fn bench_ingest_measures_both_paths_on_the_same_samples() {
    let doc = bench(&[
        "ingest",
        "--passes",
        "3",
        "--clusters",
        "2",
        "--nodes",
        "2",
        "--pods",
        "3",
        "--services",
        "2",
    ]);
    // 2 nodes x 6 + 3 pods x 2 + 2 services x 14 series per batch.
    assert_eq!(doc["samples_per_batch"], 46);
    assert_eq!(doc["batches"], 6);
    assert_eq!(doc["samples"], 276);
    assert!(doc["writer"]["samples_per_second"].as_f64().unwrap() > 0.0);
    assert!(doc["baseline"]["samples_per_second"].as_f64().unwrap() > 0.0);
    assert!(doc["ratio"].as_f64().unwrap() > 0.0);
}
