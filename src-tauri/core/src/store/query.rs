//! Reading metric samples back: ranges aligned to a step, the latency
//! histogram steps, per-service summaries and the node resource matrix.
//!
//! Every read is a primary-key range seek per series (`series_id = ? AND ts
//! BETWEEN ...`), never a scan of a samples table. Step buckets are aligned
//! to absolute multiples of the step (`floor(ts / step) * step`, the bucket
//! START is the point's time), so the same query gives the same grid
//! whenever it runs, and a rollup bucket (5 min or 1 h, also aligned) falls
//! in exactly one step bucket when the step is a multiple of it.

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;

use super::retention::{watermark, Retention, TIER_1H, TIER_5M};
use super::{now_ms, Store, StoreError};
use crate::metrics::{names, HistogramSteps, ResourceMatrix, ResourceRow, SeriesKey};

/// What a range read returns: each series with its `(step start, value)`
/// points, in time order, empty steps left out.
pub type SeriesPoints = Vec<(SeriesKey, Vec<(i64, f64)>)>;

/// Which table a range is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Raw,
    FiveMin,
    Hour,
}

impl Tier {
    /// Bucket width in seconds (raw samples have none).
    pub fn resolution(self) -> i64 {
        match self {
            Tier::Raw => 1,
            Tier::FiveMin => 300,
            Tier::Hour => 3600,
        }
    }

    /// The tier a read from `start` on uses. The finest tier that still
    /// holds `start` is required (raw inside raw retention, else 5m, else
    /// 1h); a coarser tier is taken when every boundary of the read (`align`:
    /// the step, for a range) is a multiple of its bucket width, because
    /// count/sum rollups then give exactly the same averages and sums from
    /// far fewer rows (a 7-day heatmap at 1 h steps reads 168 rows per
    /// series instead of 10,080).
    pub fn pick(start: i64, align: i64, now: i64, retention: &Retention) -> Tier {
        let required = if start >= now - retention.raw {
            Tier::Raw
        } else if start >= now - retention.five_min {
            Tier::FiveMin
        } else {
            Tier::Hour
        };
        let allowed = if align > 0 && align % 3600 == 0 {
            Tier::Hour
        } else if align > 0 && align % 300 == 0 {
            Tier::FiveMin
        } else {
            Tier::Raw
        };
        required.max(allowed)
    }
}

/// Which series a range read returns: one metric, optionally one cluster,
/// and labels that must match exactly (other labels may be present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub cluster_id: Option<String>,
    pub metric: String,
    pub labels: BTreeMap<String, String>,
}

impl Selector {
    pub fn metric(metric: &str) -> Selector {
        Selector {
            cluster_id: None,
            metric: metric.to_owned(),
            labels: BTreeMap::new(),
        }
    }

    pub fn cluster(mut self, cluster_id: &str) -> Selector {
        self.cluster_id = Some(cluster_id.to_owned());
        self
    }

    pub fn label(mut self, name: &str, value: &str) -> Selector {
        self.labels.insert(name.to_owned(), value.to_owned());
        self
    }
}

/// Node resources the matrix can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Cpu,
    Memory,
}

/// One service of a cluster over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSummary {
    pub service: String,
    pub requests_per_second: f64,
    /// Failed requests in percent of all; `None` when there were none.
    pub error_percent: Option<f64>,
    /// The latency buckets summed over the whole window: one step, at the
    /// window's end, ready for `histogram_quantile` (p50/p95/p99).
    pub latency: HistogramSteps,
}

/// Points per (cluster, node).
type NodePoints = BTreeMap<(String, String), Vec<(i64, f64)>>;

/// One stored row as count + sum (a raw sample is a count of 1).
#[derive(Debug, Clone, Copy)]
struct Part {
    ts: i64,
    count: f64,
    sum: f64,
}

fn is_increase(metric: &str) -> bool {
    metric.ends_with("_increase")
}

fn check_window(start: i64, end: i64, step: i64) -> Result<(), StoreError> {
    if step <= 0 {
        return Err(StoreError::InvalidInput {
            detail: format!("the step must be positive, got {step}"),
        });
    }
    if end < start {
        return Err(StoreError::InvalidInput {
            detail: format!("the range ends ({end}) before it starts ({start})"),
        });
    }
    // A guard against a grid of millions of empty steps by mistake.
    if (end - start) / step > 100_000 {
        return Err(StoreError::InvalidInput {
            detail: format!(
                "{} steps of {step} s between {start} and {end}; use a larger step (at most 100,000 steps)",
                (end - start) / step
            ),
        });
    }
    Ok(())
}

fn bucket(ts: i64, step: i64) -> i64 {
    ts.div_euclid(step) * step
}

/// Sums rows (ordered by time) into step buckets: the mean for gauges, the
/// sum for increases.
fn to_steps(parts: &[Part], step: i64, increase: bool) -> Vec<(i64, f64)> {
    let mut out: Vec<(i64, f64)> = Vec::new();
    let mut current: Option<(i64, f64, f64)> = None;
    let value = |(_, count, sum): (i64, f64, f64)| if increase { sum } else { sum / count };
    for p in parts {
        let b = bucket(p.ts, step);
        match &mut current {
            Some((cb, count, sum)) if *cb == b => {
                *count += p.count;
                *sum += p.sum;
            }
            _ => {
                if let Some(c) = current.take() {
                    out.push((c.0, value(c)));
                }
                current = Some((b, p.count, p.sum));
            }
        }
    }
    if let Some(c) = current {
        out.push((c.0, value(c)));
    }
    out
}

impl Store {
    /// The series matching `sel`, ordered by key.
    pub(crate) fn select_series(
        &self,
        sel: &Selector,
    ) -> Result<Vec<(i64, SeriesKey)>, StoreError> {
        let rows = (|| -> rusqlite::Result<Vec<(i64, String, String)>> {
            let map = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
            match &sel.cluster_id {
                Some(c) => self
                    .conn
                    .prepare_cached(
                        "SELECT id, cluster_id, labels FROM series WHERE cluster_id = ?1 AND metric = ?2",
                    )?
                    .query_map(params![c, sel.metric], map)?
                    .collect(),
                None => self
                    .conn
                    .prepare_cached("SELECT id, cluster_id, labels FROM series WHERE metric = ?1")?
                    .query_map(params![sel.metric], map)?
                    .collect(),
            }
        })()
        .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for (id, cluster_id, labels) in rows {
            let Ok(labels) = serde_json::from_str::<BTreeMap<String, String>>(&labels) else {
                tracing::warn!(series = id, "series with unreadable labels skipped");
                continue;
            };
            if sel.labels.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                let key = SeriesKey {
                    cluster_id,
                    metric: sel.metric.clone(),
                    labels,
                };
                out.push((id, key));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }

    /// The rows of one series in `[start, end]` from `tier`, stitched with
    /// the finer tiers past each tier's watermark (the part not rolled up
    /// yet), in time order.
    fn read_parts(
        &self,
        series_id: i64,
        start: i64,
        end: i64,
        tier: Tier,
        marks: (i64, i64),
    ) -> Result<Vec<Part>, StoreError> {
        let (wm5, wm1h) = marks;
        let mut out = Vec::new();
        let rolled = |out: &mut Vec<Part>,
                      table: &str,
                      from: i64,
                      until: i64|
         -> rusqlite::Result<()> {
            if from >= until {
                return Ok(());
            }
            let sql = format!(
                "SELECT ts, count, sum FROM {table} WHERE series_id = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![series_id, from, until], |r| {
                Ok(Part {
                    ts: r.get(0)?,
                    count: r.get::<_, i64>(1)? as f64,
                    sum: r.get(2)?,
                })
            })?;
            for row in rows {
                out.push(row?);
            }
            Ok(())
        };
        let result = (|| -> rusqlite::Result<()> {
            let mut raw_from = start;
            if tier == Tier::Hour {
                rolled(
                    &mut out,
                    "samples_1h",
                    bucket(start, 3600),
                    wm1h.min(end + 1),
                )?;
                rolled(
                    &mut out,
                    "samples_5m",
                    bucket(start, 300).max(wm1h),
                    wm5.min(end + 1),
                )?;
                raw_from = start.max(wm5);
            } else if tier == Tier::FiveMin {
                rolled(&mut out, "samples_5m", bucket(start, 300), wm5.min(end + 1))?;
                raw_from = start.max(wm5);
            }
            let mut stmt = self.conn.prepare_cached(
                "SELECT ts, value FROM samples WHERE series_id = ?1 AND ts >= ?2 AND ts <= ?3 ORDER BY ts",
            )?;
            let rows = stmt.query_map(params![series_id, raw_from, end], |r| {
                Ok(Part {
                    ts: r.get(0)?,
                    count: 1.0,
                    sum: r.get(1)?,
                })
            })?;
            for row in rows {
                out.push(row?);
            }
            Ok(())
        })();
        result.map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn marks(&self) -> Result<(i64, i64), StoreError> {
        Ok((
            watermark(&self.conn, TIER_5M).map_err(|e| self.err(e))?,
            watermark(&self.conn, TIER_1H).map_err(|e| self.err(e))?,
        ))
    }

    /// Every series matching `sel` over `[start, end]` (unix seconds), one
    /// point per non-empty step: gauges averaged, `*_increase` metrics
    /// summed. Uses the wall clock and the default retention to pick the
    /// tier; see [`Store::range_at`].
    pub fn range(
        &self,
        sel: &Selector,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<SeriesPoints, StoreError> {
        self.range_at(
            sel,
            start,
            end,
            step,
            now_ms() / 1000,
            &Retention::default(),
        )
    }

    /// [`Store::range`] at a given `now` and retention (which decide the tier).
    pub fn range_at(
        &self,
        sel: &Selector,
        start: i64,
        end: i64,
        step: i64,
        now: i64,
        retention: &Retention,
    ) -> Result<SeriesPoints, StoreError> {
        check_window(start, end, step)?;
        let tier = Tier::pick(start, step, now, retention);
        let marks = self.marks()?;
        let increase = is_increase(&sel.metric);
        let mut out = Vec::new();
        for (id, key) in self.select_series(sel)? {
            let parts = self.read_parts(id, start, end, tier, marks)?;
            out.push((key, to_steps(&parts, step, increase)));
        }
        Ok(out)
    }

    /// The latency histogram of one service as per-step bucket increases
    /// (`service_latency_bucket_increase`, summed over any other labels).
    /// `times` are the END of each step (`HistogramSteps` convention):
    /// bucket start + step. Steps with no data count 0.
    pub fn histogram_steps(
        &self,
        cluster_id: &str,
        service: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<HistogramSteps, StoreError> {
        let sel = Selector::metric(names::SERVICE_LATENCY_BUCKET_INCREASE)
            .cluster(cluster_id)
            .label("service", service);
        let series = self.range(&sel, start, end, step)?;
        let grid: Vec<i64> = (0..)
            .map(|i| bucket(start, step) + i * step)
            .take_while(|t| *t <= end)
            .collect();
        let mut by_le: BTreeMap<LeKey, Vec<f64>> = BTreeMap::new();
        for (key, points) in series {
            let Some(le) = key.labels.get("le").and_then(|l| parse_le(l)) else {
                tracing::warn!(?key, "latency bucket without a readable `le` label skipped");
                continue;
            };
            let row = by_le
                .entry(LeKey(le))
                .or_insert_with(|| vec![0.0; grid.len()]);
            for (t, v) in points {
                if let Ok(i) = grid.binary_search(&t) {
                    row[i] += v;
                }
            }
        }
        let le: Vec<f64> = by_le.keys().map(|k| k.0).collect();
        let counts = (0..grid.len())
            .map(|t| by_le.values().map(|row| row[t]).collect())
            .collect();
        Ok(HistogramSteps {
            times: grid.iter().map(|t| t + step).collect(),
            le,
            counts,
        })
    }

    /// Sums each series of `sel` over `[start, end]`.
    fn totals(
        &self,
        sel: &Selector,
        start: i64,
        end: i64,
    ) -> Result<Vec<(SeriesKey, f64)>, StoreError> {
        check_window(start, end, (end - start).max(1))?;
        let now = now_ms() / 1000;
        // Coarser tiers only when both window edges fall on their buckets.
        let align = gcd(start.rem_euclid(86_400), (end + 1).rem_euclid(86_400));
        let tier = Tier::pick(
            start,
            if align == 0 { 86_400 } else { align },
            now,
            &Retention::default(),
        );
        let marks = self.marks()?;
        let mut out = Vec::new();
        for (id, key) in self.select_series(sel)? {
            let parts = self.read_parts(id, start, end, tier, marks)?;
            out.push((key, parts.iter().map(|p| p.sum).sum()));
        }
        Ok(out)
    }

    /// Per service of a cluster over `[start, end]`: requests/s, error % and
    /// the latency buckets summed over the window. Sorted by service name.
    pub fn services(
        &self,
        cluster_id: &str,
        start: i64,
        end: i64,
    ) -> Result<Vec<ServiceSummary>, StoreError> {
        let per_service = |metric: &str| -> Result<BTreeMap<String, f64>, StoreError> {
            let mut m = BTreeMap::new();
            for (key, total) in
                self.totals(&Selector::metric(metric).cluster(cluster_id), start, end)?
            {
                if let Some(s) = key.labels.get("service") {
                    *m.entry(s.clone()).or_insert(0.0) += total;
                }
            }
            Ok(m)
        };
        let requests = per_service(names::SERVICE_REQUESTS_INCREASE)?;
        let errors = per_service(names::SERVICE_ERRORS_INCREASE)?;
        let mut buckets: BTreeMap<String, BTreeMap<LeKey, f64>> = BTreeMap::new();
        let sel = Selector::metric(names::SERVICE_LATENCY_BUCKET_INCREASE).cluster(cluster_id);
        for (key, total) in self.totals(&sel, start, end)? {
            if let (Some(s), Some(le)) = (
                key.labels.get("service"),
                key.labels.get("le").and_then(|l| parse_le(l)),
            ) {
                *buckets
                    .entry(s.clone())
                    .or_default()
                    .entry(LeKey(le))
                    .or_insert(0.0) += total;
            }
        }
        let seconds = (end - start).max(1) as f64;
        let mut names: Vec<&String> = requests.keys().chain(buckets.keys()).collect();
        names.sort();
        names.dedup();
        Ok(names
            .into_iter()
            .map(|service| {
                let total = requests.get(service).copied().unwrap_or(0.0);
                let failed = errors.get(service).copied().unwrap_or(0.0);
                let hist = buckets.get(service);
                ServiceSummary {
                    service: service.clone(),
                    requests_per_second: total / seconds,
                    error_percent: (total > 0.0).then(|| 100.0 * failed / total),
                    latency: HistogramSteps {
                        times: vec![end],
                        le: hist
                            .map(|h| h.keys().map(|k| k.0).collect())
                            .unwrap_or_default(),
                        counts: vec![hist
                            .map(|h| h.values().copied().collect())
                            .unwrap_or_default()],
                    },
                }
            })
            .collect())
    }

    /// Node utilisation in percent of allocatable, one row per node grouped
    /// by cluster (sorted by cluster, then node), `None` where usage or
    /// allocatable is missing in a step. `cluster_ids = None` means all.
    pub fn resource_matrix(
        &self,
        cluster_ids: Option<&[String]>,
        resource: Resource,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<ResourceMatrix, StoreError> {
        check_window(start, end, step)?;
        let (used, allocatable) = match resource {
            Resource::Cpu => (names::NODE_CPU_CORES, names::NODE_CPU_ALLOCATABLE_CORES),
            Resource::Memory => (
                names::NODE_MEMORY_BYTES,
                names::NODE_MEMORY_ALLOCATABLE_BYTES,
            ),
        };
        let read = |metric: &str| -> Result<NodePoints, StoreError> {
            let clusters: Vec<Option<&str>> = match cluster_ids {
                Some(ids) => ids.iter().map(|c| Some(c.as_str())).collect(),
                None => vec![None],
            };
            let mut m = BTreeMap::new();
            for c in clusters {
                let mut sel = Selector::metric(metric);
                sel.cluster_id = c.map(str::to_owned);
                for (key, points) in self.range(&sel, start, end, step)? {
                    if let Some(node) = key.labels.get("node") {
                        m.insert((key.cluster_id.clone(), node.clone()), points);
                    }
                }
            }
            Ok(m)
        };
        let used = read(used)?;
        let allocatable = read(allocatable)?;
        let times: Vec<i64> = (0..)
            .map(|i| bucket(start, step) + i * step)
            .take_while(|t| *t <= end)
            .collect();
        let mut matrix = ResourceMatrix {
            times: times.clone(),
            ..ResourceMatrix::default()
        };
        for ((cluster_id, node), points) in used {
            let alloc: BTreeMap<i64, f64> = allocatable
                .get(&(cluster_id.clone(), node.clone()))
                .map(|p| p.iter().copied().collect())
                .unwrap_or_default();
            let used: BTreeMap<i64, f64> = points.into_iter().collect();
            let row = times
                .iter()
                .map(|t| match (used.get(t), alloc.get(t)) {
                    (Some(u), Some(a)) if *a > 0.0 => Some(100.0 * u / a),
                    _ => None,
                })
                .collect();
            matrix.rows.push(ResourceRow { cluster_id, node });
            matrix.values.push(row);
        }
        Ok(matrix)
    }

    /// The newest sample time of a cluster (unix seconds), for "data age".
    /// Reads each series' last raw row by primary key, falling back to the
    /// rollups when raw samples were pruned.
    pub fn latest_sample_time(&self, cluster_id: &str) -> Result<Option<i64>, StoreError> {
        let sql = |table: &str| {
            format!(
                "SELECT max((SELECT max(ts) FROM {table} WHERE series_id = s.id)) \
                 FROM series s WHERE s.cluster_id = ?1"
            )
        };
        for (table, width) in [("samples", 0), ("samples_5m", 299), ("samples_1h", 3599)] {
            let found: Option<i64> = self
                .conn
                .prepare_cached(&sql(table))
                .and_then(|mut s| s.query_row([cluster_id], |r| r.get(0)))
                .map_err(|e| self.err(e))?;
            if let Some(ts) = found {
                return Ok(Some(ts + width));
            }
        }
        Ok(None)
    }
}

/// A bucket bound ordered numerically (`+Inf` last); never NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LeKey(f64);

impl Eq for LeKey {}

impl PartialOrd for LeKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LeKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// `le` as Prometheus prints it: a float, or `+Inf`.
fn parse_le(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        _ => text.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
