//! Rollups (raw → 5 min → 1 h) and retention.
//!
//! Incremental: `rollup_watermarks` holds, per tier, the time up to which
//! (exclusive) its buckets are complete. A run rolls only from there (minus
//! a re-roll margin, because collectors re-fetch overlapping windows and may
//! replace recent samples) up to the last bucket that is complete, in
//! transactions of one hour (5m tier) or one day (1h tier) so that it can
//! run beside the sample writer without holding the write lock for long.
//! Re-rolling uses INSERT OR REPLACE of whole buckets, so running twice
//! gives the same rows.
//!
//! Every statement reads per series (`series CROSS JOIN samples ON
//! series_id = s.id AND ts range`), a primary-key seek each, never a scan of
//! a whole samples table.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::{Store, StoreError};

pub(crate) const TIER_5M: &str = "5m";
pub(crate) const TIER_1H: &str = "1h";

const DAY: i64 = 86_400;
/// Samples this late (seconds after the end of their 5-min bucket) are
/// still expected, so the bucket is not rolled yet.
const LATE_GRACE: i64 = 300;
/// How far before its watermark each run rolls again.
const REROLL_5M: i64 = 3600;
const REROLL_1H: i64 = 3600;
/// Series whose old rows are deleted per transaction.
const PRUNE_SERIES_PER_TX: usize = 200;

/// How long each tier is kept, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retention {
    pub raw: i64,
    pub five_min: i64,
    pub hour: i64,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            raw: 7 * DAY,
            five_min: 35 * DAY,
            hour: 400 * DAY,
        }
    }
}

impl Retention {
    fn validate(&self) -> Result<(), StoreError> {
        if self.raw <= REROLL_5M || self.raw > self.five_min || self.five_min > self.hour {
            return Err(StoreError::InvalidInput {
                detail: format!(
                    "retention must grow tier by tier and keep raw samples over an hour \
                     (raw {} s, 5m {} s, 1h {} s)",
                    self.raw, self.five_min, self.hour
                ),
            });
        }
        Ok(())
    }
}

/// What one `rollup_and_prune` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RollupReport {
    /// 5-min / 1-h buckets written (re-rolled ones included).
    pub buckets_5m: u64,
    pub buckets_1h: u64,
    /// Where each tier is now complete up to (exclusive), if it has data.
    pub done_until_5m: Option<i64>,
    pub done_until_1h: Option<i64>,
    pub pruned_raw: u64,
    pub pruned_5m: u64,
    pub pruned_1h: u64,
    pub transactions: u64,
}

fn floor(ts: i64, width: i64) -> i64 {
    ts.div_euclid(width) * width
}

fn stored_mark(conn: &Connection, tier: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT done_until FROM rollup_watermarks WHERE tier = ?1")?
        .query_row([tier], |r| r.get(0))
        .optional()
}

/// The watermark of `tier`, `i64::MIN` when nothing was rolled up yet (so
/// that readers treat every row as past it).
pub(crate) fn watermark(conn: &Connection, tier: &str) -> rusqlite::Result<i64> {
    Ok(stored_mark(conn, tier)?.unwrap_or(i64::MIN))
}

/// The oldest row of `table`, by one primary-key seek per series.
fn oldest(conn: &Connection, table: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        &format!("SELECT min((SELECT min(ts) FROM {table} WHERE series_id = s.id)) FROM series s"),
        [],
        |r| r.get(0),
    )
}

struct TierSpec {
    tier: &'static str,
    source: &'static str,
    target: &'static str,
    width: i64,
    chunk: i64,
    reroll: i64,
    /// count, sum, min, max over the source rows.
    aggregates: &'static str,
}

const TO_5M: TierSpec = TierSpec {
    tier: TIER_5M,
    source: "samples",
    target: "samples_5m",
    width: 300,
    chunk: 3600,
    reroll: REROLL_5M,
    aggregates: "count(*), sum(x.value), min(x.value), max(x.value)",
};

const TO_1H: TierSpec = TierSpec {
    tier: TIER_1H,
    source: "samples_5m",
    target: "samples_1h",
    width: 3600,
    chunk: DAY,
    reroll: REROLL_1H,
    aggregates: "sum(x.count), sum(x.sum), min(x.min), max(x.max)",
};

impl Store {
    /// Rolls complete buckets up and deletes rows past each tier's
    /// retention. Raw rows are only deleted once rolled into 5m, and 5m rows
    /// once rolled into 1h, so a late or failed rollup never loses data.
    pub fn rollup_and_prune(
        &mut self,
        now: i64,
        retention: &Retention,
    ) -> Result<RollupReport, StoreError> {
        retention.validate()?;
        let mut report = RollupReport::default();
        let complete_5m = floor(now - LATE_GRACE, 300);
        let (written, mark) = self.roll(&TO_5M, complete_5m, &mut report.transactions)?;
        report.buckets_5m = written;
        report.done_until_5m = mark;
        // An hour is complete once all its 5-min buckets are.
        let complete_1h = mark.map(|m| floor(m, 3600));
        let (written, mark_1h) = match complete_1h {
            Some(c) => self.roll(&TO_1H, c, &mut report.transactions)?,
            None => (0, self.mark(TIER_1H)?),
        };
        report.buckets_1h = written;
        report.done_until_1h = mark_1h;

        // Keep what the next re-roll needs; cut on bucket edges so that a
        // re-rolled bucket is never computed from half its rows.
        if let Some(m) = mark {
            let cutoff = floor(now - retention.raw, 300).min(m - REROLL_5M);
            report.pruned_raw = self.prune("samples", cutoff, &mut report.transactions)?;
        }
        if let Some(m) = mark_1h {
            let cutoff = floor(now - retention.five_min, 3600).min(m - REROLL_1H);
            report.pruned_5m = self.prune("samples_5m", cutoff, &mut report.transactions)?;
        }
        report.pruned_1h = self.prune(
            "samples_1h",
            floor(now - retention.hour, 3600),
            &mut report.transactions,
        )?;
        Ok(report)
    }

    fn mark(&self, tier: &str) -> Result<Option<i64>, StoreError> {
        stored_mark(&self.conn, tier).map_err(|e| self.err(e))
    }

    /// Rolls `spec.source` into `spec.target` up to `complete` (exclusive,
    /// bucket-aligned); returns buckets written and the new watermark.
    fn roll(
        &mut self,
        spec: &TierSpec,
        complete: i64,
        txs: &mut u64,
    ) -> Result<(u64, Option<i64>), StoreError> {
        let from = match self.mark(spec.tier)? {
            Some(m) => floor(m - spec.reroll, spec.width),
            None => match oldest(&self.conn, spec.source).map_err(|e| self.err(e))? {
                Some(ts) => floor(ts, spec.width),
                None => return Ok((0, None)),
            },
        };
        let sql = format!(
            "INSERT OR REPLACE INTO {target} (series_id, ts, count, sum, min, max) \
             SELECT x.series_id, (x.ts / {w}) * {w}, {agg} \
             FROM series s CROSS JOIN {source} x \
             WHERE x.series_id = s.id AND x.ts >= ?1 AND x.ts < ?2 \
             GROUP BY x.series_id, x.ts / {w}",
            target = spec.target,
            source = spec.source,
            w = spec.width,
            agg = spec.aggregates,
        );
        let mut written = 0u64;
        let mut at = from;
        let mut mark = self.mark(spec.tier)?;
        while at < complete {
            let until = (at + spec.chunk).min(complete);
            let path = self.path.clone();
            let step = (|| -> rusqlite::Result<u64> {
                let tx = self.conn.transaction()?;
                let n = tx.prepare_cached(&sql)?.execute(params![at, until])? as u64;
                // Never move a watermark backwards (a re-roll starts behind it).
                tx.prepare_cached(
                    "INSERT INTO rollup_watermarks (tier, done_until) VALUES (?1, ?2) \
                     ON CONFLICT (tier) DO UPDATE SET done_until = max(done_until, excluded.done_until)",
                )?
                .execute(params![spec.tier, until])?;
                tx.commit()?;
                Ok(n)
            })();
            written += step.map_err(|e| StoreError::from_sqlite(&path, e))?;
            *txs += 1;
            mark = Some(mark.map_or(until, |m| m.max(until)));
            at = until;
        }
        Ok((written, mark))
    }

    /// Deletes rows of `table` older than `cutoff`, a few series per
    /// transaction.
    fn prune(&mut self, table: &str, cutoff: i64, txs: &mut u64) -> Result<u64, StoreError> {
        let ids: Vec<i64> = (|| {
            self.conn
                .prepare_cached("SELECT id FROM series ORDER BY id")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()
        })()
        .map_err(|e| self.err(e))?;
        let sql = format!("DELETE FROM {table} WHERE series_id = ?1 AND ts < ?2");
        let mut deleted = 0u64;
        let path = self.path.clone();
        for chunk in ids.chunks(PRUNE_SERIES_PER_TX) {
            let n = (|| -> rusqlite::Result<u64> {
                let tx = self.conn.transaction()?;
                let mut n = 0;
                {
                    let mut stmt = tx.prepare_cached(&sql)?;
                    for id in chunk {
                        n += stmt.execute(params![id, cutoff])? as u64;
                    }
                }
                tx.commit()?;
                Ok(n)
            })()
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            if n > 0 {
                *txs += 1;
            }
            deleted += n;
        }
        Ok(deleted)
    }
}
