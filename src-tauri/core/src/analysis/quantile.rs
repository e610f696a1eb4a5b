//! Latency quantiles and the latency-heatmap matrix from per-step bucket
//! increases (BRIEF §5): we fetch `sum by (le) (increase(metric_bucket[step]))`
//! and compute the quantiles ourselves, so they must agree with the real
//! Prometheus server's `histogram_quantile` (BRIEF §9 A2).
//!
//! [`histogram_quantile`] is a line-by-line port of `bucketQuantile`,
//! `coalesceBuckets` and `ensureMonotonic` in Prometheus v2.42.0
//! `promql/quantile.go` (the version Debian ships and our tests run against),
//! called the way `funcHistogramQuantile` in `promql/functions.go` calls it.

use serde::Serialize;

use crate::metrics::HistogramSteps;

/// The φ-quantile of a classic histogram given as `(le, cumulative count)`
/// pairs in any order, exactly as Prometheus 2.42's `bucketQuantile`:
///
/// - `q` NaN → NaN; `q < 0` → -Inf; `q > 1` → +Inf;
/// - no `+Inf` bucket (after sorting by `le`) → NaN;
/// - buckets with the same bound are merged (their counts added);
/// - the counts are made monotonic (each bucket at least the previous one),
///   which hides the races of non-atomic scrapes that `rate`/`increase`
///   amplify;
/// - fewer than 2 buckets, or 0 observations → NaN;
/// - a rank in the `+Inf` bucket gives the second-highest bound;
/// - a rank in a first bucket whose bound is <= 0 gives that bound;
/// - otherwise linear interpolation inside the bucket, the first bucket
///   starting at 0.
///
/// An empty slice gives NaN (Prometheus never calls it with no buckets).
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    quantile_of_prepared(q, &prepare(buckets))
}

/// The buckets after `bucketQuantile`'s preparation (sorted, coalesced,
/// monotonic), or `None` when the highest bound is not `+Inf`. The steps do
/// not depend on `q`, so a series of quantiles prepares each step once.
fn prepare(buckets: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
    let mut b: Vec<(f64, f64)> = buckets.to_vec();
    // Go's sort.Sort compares with `<`; total_cmp agrees on every non-NaN
    // bound, and a NaN bound cannot come from ParseFloat of a real `le`.
    // Input from Prometheus is usually sorted already: skip the sort then.
    if !b.windows(2).all(|w| w[0].0 <= w[1].0) {
        b.sort_by(|x, y| x.0.total_cmp(&y.0));
    }
    match b.last() {
        Some(&(le, _)) if le == f64::INFINITY => {}
        _ => return None,
    }
    coalesce_buckets(&mut b);
    ensure_monotonic(&mut b);
    Some(b)
}

/// The rest of `bucketQuantile`, on prepared buckets (`None`: no `+Inf`).
fn quantile_of_prepared(q: f64, prepared: &Option<Vec<(f64, f64)>>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let Some(b) = prepared else {
        return f64::NAN;
    };
    if b.len() < 2 {
        return f64::NAN;
    }
    let observations = b[b.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let idx = go_sort_search(b.len() - 1, |i| b[i].1 >= rank);

    if idx == b.len() - 1 {
        return b[b.len() - 2].0;
    }
    if idx == 0 && b[0].0 <= 0.0 {
        return b[0].0;
    }
    let mut bucket_start = 0.0;
    let bucket_end = b[idx].0;
    let mut count = b[idx].1;
    if idx > 0 {
        bucket_start = b[idx - 1].0;
        count -= b[idx - 1].1;
        rank -= b[idx - 1].1;
    }
    bucket_start + (bucket_end - bucket_start) * (rank / count)
}

/// Go's `sort.Search(n, f)`, the same binary search step for step, so that
/// even odd input (NaN counts, which compare false) lands where Go's does:
/// the first index in `[0, n)` for which `f` is true, or `n`.
fn go_sort_search(n: usize, f: impl Fn(usize) -> bool) -> usize {
    let (mut i, mut j) = (0, n);
    while i < j {
        let h = i + (j - i) / 2;
        if f(h) {
            j = h;
        } else {
            i = h + 1;
        }
    }
    i
}

/// `coalesceBuckets`: merges buckets with the same upper bound (e.g. `le`
/// written as `0.2` and `2e-1`), in place. Expects them sorted.
fn coalesce_buckets(buckets: &mut Vec<(f64, f64)>) {
    let mut kept = 0;
    for i in 0..buckets.len() {
        if kept > 0 && buckets[kept - 1].0 == buckets[i].0 {
            buckets[kept - 1].1 += buckets[i].1;
        } else {
            buckets[kept] = buckets[i];
            kept += 1;
        }
    }
    buckets.truncate(kept);
}

/// `ensureMonotonic`: the "envelope" of the counts, removing any decrease
/// between successive buckets (a NaN count is left alone, as in Go where
/// both comparisons are false).
fn ensure_monotonic(buckets: &mut [(f64, f64)]) {
    let Some(first) = buckets.first() else {
        return;
    };
    let mut max = first.1;
    for b in buckets.iter_mut().skip(1) {
        if b.1 > max {
            max = b.1;
        } else if b.1 < max {
            b.1 = max;
        }
    }
}

/// The buckets of step `t` that have a value: a NaN or infinite increase is
/// treated as missing, like a bucket series Prometheus has no sample for at
/// that step (it is left out of the vector, not counted as NaN).
fn step_buckets(h: &HistogramSteps, t: usize) -> Vec<(f64, f64)> {
    let Some(row) = h.counts.get(t) else {
        return Vec::new();
    };
    h.le.iter()
        .zip(row)
        .filter(|(_, c)| c.is_finite())
        .map(|(&le, &c)| (le, c))
        .collect()
}

/// One quantile series: `(unix_ts, value)` per step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuantileSeries {
    pub q: f64,
    pub points: Vec<(i64, f64)>,
}

/// The quantile series for each `q`, one point per step of `h`. Steps where
/// Prometheus would answer NaN (no observations in the step, no `+Inf`
/// bucket, fewer than 2 buckets) give **no point**, so a chart draws a gap
/// and JSON never carries NaN.
pub fn quantile_series(h: &HistogramSteps, qs: &[f64]) -> Vec<QuantileSeries> {
    let steps: Vec<Option<Vec<(f64, f64)>>> = (0..h.times.len())
        .map(|t| prepare(&step_buckets(h, t)))
        .collect();
    qs.iter()
        .map(|&q| QuantileSeries {
            q,
            points: h
                .times
                .iter()
                .zip(&steps)
                .filter_map(|(&ts, b)| {
                    let v = quantile_of_prepared(q, b);
                    (!v.is_nan()).then_some((ts, v))
                })
                .collect(),
        })
        .collect()
}

/// The latency heatmap: per time, the count **per bucket** (not
/// cumulative), i.e. `increase(le_i) − increase(le_{i−1})` after the same
/// monotonic fix `histogram_quantile` applies, so the cells of a column add
/// up to the `+Inf` increase. The first bucket counts from 0 (or from -Inf
/// when its bound is <= 0).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencyHeatmap {
    pub times: Vec<i64>,
    /// Upper bounds, ascending, as in [`HistogramSteps::le`] (the last is
    /// `+Inf`, which serde_json writes as `null`).
    pub le: Vec<f64>,
    /// `counts[t][i]`: observations in bucket `i` during the step ending at
    /// `times[t]`; `None` where that bucket's increase was missing (NaN/Inf)
    /// — its observations then land in the next present bucket.
    pub counts: Vec<Vec<Option<f64>>>,
}

/// De-cumulates every step of `h` into per-bucket counts; see
/// [`LatencyHeatmap`]. `le` is expected sorted ascending (as
/// [`HistogramSteps`] promises); an unsorted `le` is sorted here with its
/// columns.
pub fn latency_heatmap_matrix(h: &HistogramSteps) -> LatencyHeatmap {
    let mut order: Vec<usize> = (0..h.le.len()).collect();
    order.sort_by(|&a, &b| h.le[a].total_cmp(&h.le[b]));
    let le: Vec<f64> = order.iter().map(|&i| h.le[i]).collect();
    let counts = h
        .times
        .iter()
        .enumerate()
        .map(|(t, _)| {
            let row = h.counts.get(t);
            let mut out = Vec::with_capacity(le.len());
            // The running maximum is ensureMonotonic; the first present
            // bucket counts from 0.
            let mut max: Option<f64> = None;
            for &i in &order {
                let c = row.and_then(|r| r.get(i)).copied().unwrap_or(f64::NAN);
                if !c.is_finite() {
                    out.push(None);
                    continue;
                }
                let prev = max.unwrap_or(0.0);
                let now = max.map_or(c, |m| m.max(c));
                out.push(Some(if max.is_some() { now - prev } else { c }));
                max = Some(now);
            }
            out
        })
        .collect();
    LatencyHeatmap {
        times: h.times.clone(),
        le,
        counts,
    }
}

/// The bucket bounds of [`synthetic_histogram`] (seconds): the Prometheus
/// client libraries' defaults plus a 10 s bucket, 12 with `+Inf`.
pub const SYNTHETIC_LE: [f64; 12] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];

/// A deterministic, realistic-looking latency histogram for benchmarks and
/// tests (no randomness crate; `seed` varies the shape): `steps` steps of
/// `step_secs` from `start`, a daily traffic cycle, a log-logistic latency
/// whose median drifts through the day, and an incident now and then.
pub fn synthetic_histogram(start: i64, steps: usize, step_secs: i64, seed: u64) -> HistogramSteps {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut noise = move || {
        // xorshift64*: good enough to make the picture less regular.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let day = 86_400.0;
    let phase = (seed % 24) as f64 * 3600.0;
    let mut h = HistogramSteps {
        times: Vec::with_capacity(steps),
        le: SYNTHETIC_LE.to_vec(),
        counts: Vec::with_capacity(steps),
    };
    for k in 0..steps {
        let ts = start + (k as i64 + 1) * step_secs;
        let daily = ((ts as f64 + phase) / day * std::f64::consts::TAU).sin();
        let requests = (step_secs as f64 * (4.0 + 3.0 * daily) * (0.8 + 0.4 * noise())).max(0.0);
        let incident = (ts / 3600 + seed as i64) % 29 == 0;
        let median = 0.04 * (1.0 + 0.5 * daily) * if incident { 12.0 } else { 1.0 };
        let row = SYNTHETIC_LE
            .iter()
            .map(|&le| {
                let cdf = if le.is_infinite() {
                    1.0
                } else {
                    1.0 / (1.0 + (median / le).powi(3))
                };
                (requests * cdf).round()
            })
            .collect();
        h.times.push(ts);
        h.counts.push(row);
    }
    h
}

#[cfg(test)]
#[path = "quantile_tests.rs"]
mod tests;
