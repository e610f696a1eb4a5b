//! Writing metric samples: one transaction per batch (or per group of
//! batches, for the [`SampleWriter`](super::SampleWriter)), cached prepared
//! statements and an in-memory map of series ids so that the hot loop is one
//! hash lookup and one upsert per sample.

use std::collections::HashMap;

use rusqlite::{params, Connection};
use serde::Serialize;

use super::{Store, StoreError};
use crate::metrics::{Batch, SeriesKey};

/// What writing one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchReceipt {
    /// Samples written (new or replacing an older value at the same time).
    pub written: usize,
    /// NaN or infinite values, skipped. They are skipped rather than failing
    /// the batch: Prometheus returns NaN for 0/0 rates, and one such value
    /// must not throw away a whole collection pass.
    pub skipped_non_finite: usize,
    /// Series seen for the first time.
    pub new_series: usize,
}

/// Series ids known to be committed in the `series` table.
#[derive(Debug, Default)]
pub(crate) struct SeriesIds {
    ids: HashMap<SeriesKey, i64>,
    /// Ids learnt inside the open transaction; they are only true once it
    /// commits, so a rollback drops the whole map (rare, and cheap to refill).
    uncommitted: bool,
}

impl SeriesIds {
    pub(crate) fn committed(&mut self) {
        self.uncommitted = false;
    }

    pub(crate) fn rolled_back(&mut self) {
        if self.uncommitted {
            self.ids.clear();
            self.uncommitted = false;
        }
    }
}

const UPSERT_SAMPLE: &str = "INSERT INTO samples (series_id, ts, value, collected_at) \
     VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value, \
     collected_at = excluded.collected_at";

/// The labels as stored: JSON of the sorted map, so one series has one text.
pub(crate) fn labels_json(key: &SeriesKey) -> String {
    // A map of strings always serialises.
    serde_json::to_string(&key.labels).unwrap_or_else(|_| "{}".to_owned())
}

fn series_id(
    conn: &Connection,
    ids: &mut SeriesIds,
    key: &SeriesKey,
    receipt: &mut BatchReceipt,
) -> rusqlite::Result<i64> {
    if let Some(id) = ids.ids.get(key) {
        return Ok(*id);
    }
    let labels = labels_json(key);
    let inserted = conn
        .prepare_cached(
            "INSERT INTO series (cluster_id, metric, labels) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![key.cluster_id, key.metric, labels])?;
    let id = if inserted == 1 {
        receipt.new_series += 1;
        conn.last_insert_rowid()
    } else {
        conn.prepare_cached(
            "SELECT id FROM series WHERE cluster_id = ?1 AND metric = ?2 AND labels = ?3",
        )?
        .query_row(params![key.cluster_id, key.metric, labels], |r| r.get(0))?
    };
    ids.ids.insert(key.clone(), id);
    ids.uncommitted = true;
    Ok(id)
}

/// Writes `batch` on `conn`, which the caller has put inside a transaction.
pub(crate) fn write_batch(
    conn: &Connection,
    ids: &mut SeriesIds,
    batch: &Batch,
) -> rusqlite::Result<BatchReceipt> {
    let mut receipt = BatchReceipt::default();
    let mut upsert = conn.prepare_cached(UPSERT_SAMPLE)?;
    for sample in &batch.samples {
        if !sample.value.is_finite() {
            receipt.skipped_non_finite += 1;
            continue;
        }
        let id = series_id(conn, ids, &sample.series, &mut receipt)?;
        upsert.execute(params![id, sample.ts, sample.value, batch.collected_at])?;
        receipt.written += 1;
    }
    Ok(receipt)
}

impl Store {
    /// Writes one batch in one transaction: all of it or none of it.
    pub fn insert_batch(&mut self, batch: &Batch) -> Result<BatchReceipt, StoreError> {
        let mut results = self.insert_batches(std::slice::from_ref(batch))?;
        results.pop().unwrap_or(Ok(BatchReceipt::default()))
    }

    /// Writes several batches in ONE transaction, each under its own
    /// savepoint: a batch that fails is rolled back alone and reported in its
    /// slot; the others commit together. The outer error means the commit
    /// itself failed and nothing was written.
    pub fn insert_batches(
        &mut self,
        batches: &[Batch],
    ) -> Result<Vec<Result<BatchReceipt, StoreError>>, StoreError> {
        let path = self.path.clone();
        let Store {
            conn, series_ids, ..
        } = self;
        let result = (|| -> rusqlite::Result<Vec<Result<BatchReceipt, StoreError>>> {
            let mut tx = conn.transaction()?;
            let mut out = Vec::with_capacity(batches.len());
            for batch in batches {
                let sp = tx.savepoint()?;
                match write_batch(&sp, series_ids, batch) {
                    Ok(receipt) => {
                        sp.commit()?;
                        out.push(Ok(receipt));
                    }
                    Err(e) => {
                        // Dropping the savepoint rolls it back.
                        drop(sp);
                        series_ids.rolled_back();
                        out.push(Err(StoreError::from_sqlite(&path, e)));
                    }
                }
            }
            tx.commit()?;
            Ok(out)
        })();
        match result {
            Ok(out) => {
                series_ids.committed();
                Ok(out)
            }
            Err(e) => {
                series_ids.rolled_back();
                Err(StoreError::from_sqlite(&path, e))
            }
        }
    }
}

#[cfg(test)]
#[path = "samples_tests.rs"]
pub(crate) mod tests;
