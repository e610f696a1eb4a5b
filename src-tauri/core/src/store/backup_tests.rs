use super::*;
use crate::metrics::Batch;
use crate::store::samples::tests::sample;

fn seeded(dir: &Path) -> Store {
    let mut store = Store::open_in(dir).unwrap();
    store
        .insert_batch(&Batch {
            collected_at: 1,
            samples: (0..100)
                .map(|i| sample("c", "g", &[], i, i as f64))
                .collect(),
        })
        .unwrap();
    store
}

fn sample_count(dir: &Path) -> i64 {
    Store::open_in(dir)
        .unwrap()
        .conn()
        .query_row("SELECT count(*) FROM samples", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn backup_writes_a_sha256sum_file_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir.path().join("data"));
    let file = dir.path().join("b.sqlite3");
    let report = store.backup_to(&file, false).unwrap();
    let line = std::fs::read_to_string(checksum_path(&file)).unwrap();
    assert_eq!(line, format!("{}  b.sqlite3\n", report.sha256));
    assert_eq!(report.sha256, sha256_file(&file).unwrap());
    assert!(matches!(
        store.backup_to(&file, false),
        Err(BackupError::Exists { .. })
    ));
    store.backup_to(&file, true).unwrap();
    // Never onto the live cache, not even with --force.
    let live = store.path().to_path_buf();
    assert_eq!(
        store.backup_to(&live, true).unwrap_err().kind(),
        "backup_invalid"
    );
    assert_eq!(sample_count(live.parent().unwrap()), 100);
}

#[test]
fn restore_round_trip_and_refusals_leave_the_cache_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("b.sqlite3");
    seeded(&data).backup_to(&file, false).unwrap();
    // The cache moves on after the backup.
    {
        let mut store = Store::open_in(&data).unwrap();
        store
            .insert_batch(&Batch {
                collected_at: 2,
                samples: vec![sample("c", "g", &[], 500, 1.0)],
            })
            .unwrap();
    }
    assert_eq!(sample_count(&data), 101);

    // One byte changed in the backup: refused, nothing changed.
    let tampered = dir.path().join("t.sqlite3");
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0x55;
    std::fs::write(&tampered, bytes).unwrap();
    std::fs::copy(checksum_path(&file), checksum_path(&tampered)).unwrap();
    let err = restore(&data, &tampered).unwrap_err();
    assert_eq!(err.kind(), "backup_checksum_mismatch", "{err}");
    assert!(err.hint().contains("Nothing was changed"));
    assert_eq!(sample_count(&data), 101);

    // No checksum file: refused.
    let bare = dir.path().join("bare.sqlite3");
    std::fs::copy(&file, &bare).unwrap();
    assert_eq!(
        restore(&data, &bare).unwrap_err().kind(),
        "backup_checksum_missing"
    );
    std::fs::write(checksum_path(&bare), "not a checksum\n").unwrap();
    assert_eq!(
        restore(&data, &bare).unwrap_err().kind(),
        "backup_checksum_unreadable"
    );
    assert_eq!(sample_count(&data), 101);

    let report = restore(&data, &file).unwrap();
    assert_eq!(report.schema_version, migrations::latest_version());
    assert_eq!(sample_count(&data), 100);
    assert!(!data
        .join(format!("{CACHE_FILE_NAME}.restore-partial"))
        .exists());
}

#[test]
fn restore_refuses_a_cache_that_is_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("b.sqlite3");
    let store = seeded(&data);
    store.backup_to(&file, false).unwrap();
    // Another connection in the middle of a write transaction.
    store
        .conn()
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO samples VALUES (1, 9999, 1.0, 1);")
        .unwrap();
    let err = restore(&data, &file).unwrap_err();
    assert_eq!(err.kind(), "cache_in_use", "{err}");
    store.conn().execute_batch("ROLLBACK").unwrap();
}

#[test]
fn vacuum_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    store
        .conn()
        .execute_batch("DELETE FROM samples WHERE ts < 50")
        .unwrap();
    let report = store.vacuum().unwrap();
    assert!(report.size_after > 0);
    assert_eq!(sample_count(dir.path()), 50);
}
