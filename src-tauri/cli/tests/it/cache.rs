//! `cloudops cache backup|restore|vacuum` through the real binary.

use std::path::Path;

use cloudops_core::metrics::{Batch, Sample, SeriesKey};
use cloudops_core::store::Selector;
use cloudops_core::Store;

use super::{cloudops, json, seed};

fn write_samples(dir: &Path, from: i64, n: i64) {
    let mut store = Store::open_in(dir).unwrap();
    let samples = (from..from + n)
        .map(|ts| Sample {
            series: SeriesKey::new("c", "node_cpu_cores", [("node", "n1")]),
            ts,
            value: ts as f64,
        })
        .collect();
    store
        .insert_batch(&Batch {
            collected_at: from,
            samples,
        })
        .unwrap();
}

/// (samples, clusters) in the cache, read through the store.
fn contents(dir: &Path) -> (Vec<(i64, f64)>, usize) {
    let store = Store::open_in(dir).unwrap();
    let points = store
        .range(&Selector::metric("node_cpu_cores"), 0, 10_000, 1)
        .unwrap()
        .into_iter()
        .flat_map(|(_, p)| p)
        .collect();
    (points, store.clusters(None).unwrap().len())
}

#[test]
fn backup_then_restore_brings_the_data_back() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    seed(&data);
    write_samples(&data, 0, 100);
    let before = contents(&data);
    let file = tmp.path().join("backup.sqlite3");
    let file_arg = file.to_str().unwrap();

    let out = cloudops(&data, &["cache", "backup", file_arg, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    let sha = doc["sha256"].as_str().unwrap().to_owned();
    let line = std::fs::read_to_string(tmp.path().join("backup.sqlite3.sha256")).unwrap();
    assert_eq!(line, format!("{sha}  backup.sqlite3\n"));

    // An existing backup is not overwritten without --force.
    let out = cloudops(&data, &["cache", "backup", file_arg, "--json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(json(&out)["error"]["kind"], "backup_exists");
    let out = cloudops(&data, &["cache", "backup", file_arg, "--force"]);
    assert!(out.status.success(), "{out:?}");

    write_samples(&data, 1000, 50);
    assert_ne!(contents(&data), before);
    let out = cloudops(&data, &["cache", "restore", file_arg, "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["sha256"], sha.as_str());
    assert_eq!(contents(&data), before);

    let out = cloudops(&data, &["cache", "check", "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["ok"], true);
    let out = cloudops(&data, &["cache", "vacuum", "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert!(json(&out)["size_after"].as_u64().unwrap() > 0);
    assert_eq!(contents(&data), before);
}

#[test]
fn a_tampered_backup_or_a_wrong_checksum_is_refused_and_the_cache_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    seed(&data);
    write_samples(&data, 0, 100);
    let file = tmp.path().join("b.sqlite3");
    let out = cloudops(&data, &["cache", "backup", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    // The live cache differs from the backup, so a restore would show.
    write_samples(&data, 500, 10);
    let current = contents(&data);

    // One byte changed in the backup.
    let tampered = tmp.path().join("t.sqlite3");
    let mut bytes = std::fs::read(&file).unwrap();
    let i = bytes.len() / 2;
    bytes[i] = bytes[i].wrapping_add(1);
    std::fs::write(&tampered, bytes).unwrap();
    std::fs::copy(
        tmp.path().join("b.sqlite3.sha256"),
        tmp.path().join("t.sqlite3.sha256"),
    )
    .unwrap();
    let out = cloudops(
        &data,
        &["cache", "restore", tampered.to_str().unwrap(), "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "backup_checksum_mismatch");
    assert!(doc["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("Nothing was changed"));
    assert_eq!(contents(&data), current);

    // The right backup with a wrong .sha256.
    std::fs::write(
        tmp.path().join("b.sqlite3.sha256"),
        format!("{}  b.sqlite3\n", "0".repeat(64)),
    )
    .unwrap();
    let out = cloudops(
        &data,
        &["cache", "restore", file.to_str().unwrap(), "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(json(&out)["error"]["kind"], "backup_checksum_mismatch");
    assert_eq!(contents(&data), current);

    // No .sha256 at all.
    std::fs::remove_file(tmp.path().join("b.sqlite3.sha256")).unwrap();
    let out = cloudops(&data, &["cache", "restore", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no checksum file"));
    assert_eq!(contents(&data), current);
}
