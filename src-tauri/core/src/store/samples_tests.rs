use super::*;
use crate::metrics::{Batch, Sample, SeriesKey};
use crate::store::{Retention, SampleWriter, Selector, Store, StoreError};

pub(crate) fn sample(
    cluster: &str,
    metric: &str,
    labels: &[(&str, &str)],
    ts: i64,
    value: f64,
) -> Sample {
    Sample {
        series: SeriesKey::new(cluster, metric, labels.iter().copied()),
        ts,
        value,
    }
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Makes every sample with value 666 fail, to test per-batch failures.
fn poison(store: &Store) {
    store
        .conn()
        .execute_batch(
            "CREATE TRIGGER poison BEFORE INSERT ON samples WHEN NEW.value = 666 \
             BEGIN SELECT RAISE(ABORT, 'poisoned sample'); END;",
        )
        .unwrap();
}

#[test]
fn a_batch_is_written_and_a_resent_sample_replaces_the_old_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    let cpu = |ts, v| sample("c1", "node_cpu_cores", &[("node", "n1")], ts, v);
    let batch = Batch {
        collected_at: 1000,
        samples: vec![
            cpu(940, 1.0),
            cpu(1000, 2.0),
            sample("c1", "node_cpu_cores", &[("node", "n2")], 1000, 3.0),
            cpu(970, f64::NAN),
            cpu(980, f64::INFINITY),
        ],
    };
    let receipt = store.insert_batch(&batch).unwrap();
    assert_eq!(
        receipt,
        BatchReceipt {
            written: 3,
            skipped_non_finite: 2,
            new_series: 2
        }
    );
    assert_eq!(count(&store, "SELECT count(*) FROM samples"), 3);

    let again = Batch {
        collected_at: 1060,
        samples: vec![cpu(1000, 5.0), cpu(1060, 6.0)],
    };
    let receipt = store.insert_batch(&again).unwrap();
    assert_eq!(receipt.new_series, 0);
    assert_eq!(count(&store, "SELECT count(*) FROM samples"), 4);
    let (value, collected): (f64, i64) = store
        .conn()
        .query_row(
            "SELECT value, collected_at FROM samples WHERE ts = 1000 AND value != 3.0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((value, collected), (5.0, 1060));
    // Labels are stored as canonical JSON, whatever order they came in.
    let labels: String = store
        .conn()
        .query_row("SELECT labels FROM series WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(labels, r#"{"node":"n1"}"#);
}

#[test]
fn a_failing_batch_is_rolled_back_alone_and_its_new_series_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    poison(&store);
    let good = |ts| Batch {
        collected_at: ts,
        samples: vec![sample("c", "m", &[("a", "1")], ts, 1.0)],
    };
    let bad = Batch {
        collected_at: 5,
        samples: vec![
            sample("c", "m", &[("a", "new")], 5, 1.0),
            sample("c", "m", &[("a", "1")], 5, 666.0),
        ],
    };
    let results = store.insert_batches(&[good(1), bad, good(9)]).unwrap();
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(StoreError::Sqlite { .. })),
        "{results:?}"
    );
    assert_eq!(count(&store, "SELECT count(*) FROM samples"), 2);
    assert_eq!(count(&store, "SELECT count(*) FROM series"), 1);
    // The series of the failed batch was not kept in the id cache: writing
    // it again creates it for real.
    let receipt = store
        .insert_batch(&Batch {
            collected_at: 20,
            samples: vec![sample("c", "m", &[("a", "new")], 20, 2.0)],
        })
        .unwrap();
    assert_eq!(receipt.new_series, 1);
    assert_eq!(count(&store, "SELECT count(*) FROM series"), 2);
}

#[test]
fn the_writer_acknowledges_each_batch_after_commit_and_flushes_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    poison(&store);
    let writer = SampleWriter::start(store, 4).unwrap();
    let mut acks = Vec::new();
    for seq in 0..200i64 {
        let value = if seq == 50 { 666.0 } else { seq as f64 };
        let batch = Batch {
            collected_at: seq,
            samples: (0..10)
                .map(|s| sample("c", "m", &[("s", &s.to_string())], seq, value))
                .collect(),
        };
        acks.push(writer.submit(batch).unwrap());
    }
    let mut failed = Vec::new();
    for (seq, ack) in acks.into_iter().enumerate() {
        match ack.wait() {
            Ok(r) => assert_eq!(r.written, 10),
            Err(_) => failed.push(seq),
        }
    }
    assert_eq!(failed, vec![50]);
    // Submitted but not waited for: close must still write it.
    let _unawaited = writer
        .submit(Batch {
            collected_at: 999,
            samples: vec![sample("c", "m", &[("s", "0")], 999, 1.0)],
        })
        .unwrap();
    writer.close().unwrap();

    let store = Store::open_in(dir.path()).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM samples"), 199 * 10 + 1);
    assert_eq!(
        count(&store, "SELECT count(*) FROM samples WHERE ts = 50"),
        0
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_writer_can_be_awaited_from_async_code() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SampleWriter::start(Store::open_in(dir.path()).unwrap(), 2).unwrap();
    let batch = Batch {
        collected_at: 7,
        samples: vec![sample("c", "m", &[], 7, 1.5)],
    };
    let receipt = writer
        .submit_async(batch)
        .await
        .unwrap()
        .wait_async()
        .await
        .unwrap();
    assert_eq!(receipt.written, 1);
    drop(writer);
    let store = Store::open_in(dir.path()).unwrap();
    let got = store.range(&Selector::metric("m"), 0, 10, 1).unwrap();
    assert_eq!(got[0].1, vec![(7, 1.5)]);
}

/// 30 days of one gauge and one increase, a sample a minute, ending at `now`.
fn thirty_days(store: &mut Store, now: i64) -> i64 {
    let start = now - 30 * 86_400;
    let mut batch = Batch::default();
    let mut ts = start;
    while ts <= now {
        batch
            .samples
            .push(sample("c", "g", &[("n", "1")], ts, (ts % 7) as f64));
        batch.samples.push(sample("c", "x_increase", &[], ts, 2.0));
        if batch.samples.len() >= 20_000 {
            store.insert_batch(&batch).unwrap();
            batch.samples.clear();
        }
        ts += 60;
    }
    store.insert_batch(&batch).unwrap();
    start
}

fn dump(store: &Store, table: &str) -> Vec<(i64, i64, i64, f64, f64, f64)> {
    let mut stmt = store
        .conn()
        .prepare(&format!(
            "SELECT series_id, ts, count, sum, min, max FROM {table} ORDER BY 1, 2"
        ))
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn rollups_are_exact_incremental_idempotent_and_pruning_keeps_what_it_should() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    // 1_800_000_000 is a whole hour; 1234 s past it exercises unaligned edges.
    let now = 1_800_000_000 + 1234;
    let start = thirty_days(&mut store, now);
    let retention = Retention::default();

    let report = store.rollup_and_prune(now, &retention).unwrap();
    assert!(report.buckets_5m > 8000, "{report:?}");
    assert!(
        report.transactions > 30 * 24,
        "bounded transactions: {report:?}"
    );
    let done_5m = report.done_until_5m.unwrap();
    assert_eq!(done_5m % 300, 0);
    assert!(done_5m <= now - 300 && done_5m > now - 900, "{report:?}");

    // A 5-min bucket of the gauge: the 5 raw values it covers.
    let bucket = start - start % 300 + 3000;
    let expect: Vec<f64> = (0..5)
        .map(|i| ((bucket + start % 60 + 60 * i) % 7) as f64)
        .collect();
    let row = dump(&store, "samples_5m")
        .into_iter()
        .find(|r| r.0 == 1 && r.1 == bucket)
        .unwrap();
    assert_eq!(row.2, 5);
    assert_eq!(row.3, expect.iter().sum::<f64>());
    assert_eq!(row.4, expect.iter().copied().fold(f64::MAX, f64::min));
    assert_eq!(row.5, expect.iter().copied().fold(f64::MIN, f64::max));
    // An hour of the increase: 60 samples of 2.
    let hour = start - start % 3600 + 7200;
    let row = dump(&store, "samples_1h")
        .into_iter()
        .find(|r| r.0 == 2 && r.1 == hour)
        .unwrap();
    assert_eq!((row.2, row.3), (60, 120.0));

    // Raw rows older than 7 days are gone, the newer ones all kept.
    let oldest_raw = count(&store, "SELECT min(ts) FROM samples");
    assert!(oldest_raw >= now - 7 * 86_400 - 300, "{oldest_raw}");
    assert!(oldest_raw <= now - 7 * 86_400 + 300, "{oldest_raw}");
    let raw_rows = count(&store, "SELECT count(*) FROM samples");
    assert_eq!(raw_rows % 2, 0);
    assert!((raw_rows / 2 - 7 * 1440).abs() <= 6, "{raw_rows}");
    // 5m rows are kept for 35 days: all 30 days are still there.
    assert_eq!(
        count(&store, "SELECT min(ts) FROM samples_5m"),
        start - start % 300
    );
    assert_eq!(report.pruned_5m, 0);

    // Twice: the same rows (re-rolled buckets are rewritten identically).
    let (five, hourly) = (dump(&store, "samples_5m"), dump(&store, "samples_1h"));
    let again = store.rollup_and_prune(now, &retention).unwrap();
    assert!(
        again.buckets_5m <= 2 * 13,
        "only the re-roll margin: {again:?}"
    );
    assert_eq!(again.pruned_raw, 0);
    assert_eq!(dump(&store, "samples_5m"), five);
    assert_eq!(dump(&store, "samples_1h"), hourly);

    // Over 30 days at 1 h steps: read from the rollups (the raw rows of
    // the first 23 days are gone) and equal to averages of the raw values.
    let got = store
        .range_at(&Selector::metric("g"), start, now, 3600, now, &retention)
        .unwrap();
    let points = &got[0].1;
    assert!(points.len() >= 30 * 24, "{}", points.len());
    let first_full = points.iter().find(|p| p.0 >= start).unwrap();
    let raw: Vec<f64> = (0..60)
        .map(|i| ((first_full.0 + start % 60 + 60 * i) % 7) as f64)
        .collect();
    assert!(
        (first_full.1 - raw.iter().sum::<f64>() / 60.0).abs() < 1e-9,
        "{first_full:?} {:?} {start}",
        &points[..3]
    );
    let inc = store
        .range_at(
            &Selector::metric("x_increase"),
            start,
            now,
            86_400,
            now,
            &retention,
        )
        .unwrap();
    // Full days in the middle sum 1440 samples of 2.
    assert_eq!(inc[0].1[5].1, 2880.0);
    // At 5-min steps 30 days back, the 5m tier: one point per bucket.
    let fine = store
        .range_at(&Selector::metric("g"), start, now, 300, now, &retention)
        .unwrap();
    assert!(
        (fine[0].1.len() as i64 - 30 * 288).abs() <= 2,
        "{}",
        fine[0].1.len()
    );

    // Past 400 days nothing is left but what is newer.
    let later = now + 500 * 86_400;
    let report = store.rollup_and_prune(later, &retention).unwrap();
    assert!(report.pruned_1h > 0);
    assert_eq!(count(&store, "SELECT count(*) FROM samples_1h"), 0);
}

#[test]
fn bad_retention_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    let bad = Retention {
        raw: 40 * 86_400,
        ..Retention::default()
    };
    assert!(matches!(
        store.rollup_and_prune(1_000_000, &bad),
        Err(StoreError::InvalidInput { .. })
    ));
}
