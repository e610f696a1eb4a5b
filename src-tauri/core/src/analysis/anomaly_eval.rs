//! Anomalies on the cached series (issue 9 part 2): after every collection
//! pass, our [`Detector`] runs on the series that matter, per cluster:
//!
//! - per service (RED): p95 latency, error rate and request rate;
//! - per node: CPU and memory in percent of allocatable.
//!
//! Each series is read at a 5-minute step over the last 7 days (the
//! seasonal baseline needs the history; with less, the detector falls back
//! to the recent past or warms up, as it does on any series). To keep a pass
//! cheap, only the last day is *scored*; the older points are *learned*
//! (added to the baselines without a median/MAD per point), and the number
//! of series per pass is capped. An anomaly opens only when the latest
//! point of a series is flagged and falls in the evaluation window; a
//! series whose latest point is quiet closes its open anomaly. The
//! verdicts, with their probable causes (`analysis::causes`), go to the
//! store (`store::anomalies`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::alerts::{AlertRule, AlertRules};
use super::anomaly::{median_sorted, Detector, PointScore, Severity};
use super::causes::{
    probable_causes, AlertEvidence, AnomalyFacts, ClusterEvidence, ErrorRise, NodeEvidence,
    RolloutEvidence, CAUSE_WINDOW_SECS,
};
use super::quantile::histogram_quantile;
use crate::metrics::names;
use crate::store::anomalies::{AnomalyChanges, Detection, SeriesVerdict};
use crate::store::retention::Retention;
use crate::store::{AlertQuery, AlertState, Resource, Selector, Store, StoreError, WorkloadQuery};

/// The metrics anomalies are detected on, with their unit in the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AnomalyMetric {
    /// A service's p95 latency, in seconds.
    P95Seconds,
    /// A service's failed requests, in percent of all.
    ErrorPct,
    /// A service's requests per second.
    RequestsPerSec,
    /// A node's CPU in use, in percent of allocatable.
    CpuPct,
    /// A node's memory working set, in percent of allocatable.
    MemoryPct,
}

impl AnomalyMetric {
    pub const ALL: [AnomalyMetric; 5] = [
        AnomalyMetric::P95Seconds,
        AnomalyMetric::ErrorPct,
        AnomalyMetric::RequestsPerSec,
        AnomalyMetric::CpuPct,
        AnomalyMetric::MemoryPct,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyMetric::P95Seconds => "p95_seconds",
            AnomalyMetric::ErrorPct => "error_pct",
            AnomalyMetric::RequestsPerSec => "requests_per_sec",
            AnomalyMetric::CpuPct => "cpu_pct",
            AnomalyMetric::MemoryPct => "memory_pct",
        }
    }

    pub fn parse(s: &str) -> Option<AnomalyMetric> {
        AnomalyMetric::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// How the cached series are evaluated. [`Default`] is what the CLI and
/// the app use.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyEvalPolicy {
    pub detector: Detector,
    /// The step series are read at. Default: 5 minutes (the rollup).
    pub step_secs: i64,
    /// How much history is read. Default: 7 days.
    pub history_secs: i64,
    /// How much of it is scored point by point (the rest is learned).
    /// Default: 1 day, which is longer than the detector's quiet period
    /// (6 h), so an incident still loud is re-found from scored points.
    pub scored_secs: i64,
    /// A series' latest point must fall in the last `window_secs` to be
    /// judged (opened, extended or closed). Default: 15 minutes.
    pub window_secs: i64,
    /// ±window of the probable-cause rules. Default: 15 minutes.
    pub cause_window_secs: i64,
    /// The most series scored in one pass (bounded work); the rest keep
    /// their anomalies until a later pass. Default: 5,000.
    pub max_series: usize,
}

impl Default for AnomalyEvalPolicy {
    fn default() -> Self {
        AnomalyEvalPolicy {
            detector: Detector::default(),
            step_secs: 300,
            history_secs: 7 * 86_400,
            scored_secs: 86_400,
            window_secs: 15 * 60,
            cause_window_secs: CAUSE_WINDOW_SECS,
            max_series: 5_000,
        }
    }
}

/// What one evaluation did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, TS)]
#[ts(export)]
pub struct AnomalyPass {
    pub changes: AnomalyChanges,
    /// Series scored this pass.
    #[ts(type = "number")]
    pub series_scored: u64,
    /// Series left for a later pass (over `max_series`).
    #[ts(type = "number")]
    pub series_skipped: u64,
}

/// One series to judge: its key and its points at the policy's step
/// (bucket start, value), in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedSeries {
    pub subject: String,
    pub metric: AnomalyMetric,
    pub points: Vec<(i64, f64)>,
}

/// A series' scores: every point with its score (learned points have none).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredSeries {
    pub series: CachedSeries,
    /// Parallel to the scored tail of `series.points`.
    pub scores: Vec<PointScore>,
    /// Index in `series.points` of the first scored point.
    pub first_scored: usize,
}

impl ScoredSeries {
    fn scored(&self) -> impl DoubleEndedIterator<Item = (&(i64, f64), &PointScore)> {
        self.series.points[self.first_scored..]
            .iter()
            .zip(&self.scores)
    }
}

/// Scores a series: points before `score_from` are learned, the others
/// scored. An invalid series (NaN, unsorted) scores nothing: the cache
/// never holds one, and an anomaly is not worth a failed pass.
pub fn score_series(detector: &Detector, series: CachedSeries, score_from: i64) -> ScoredSeries {
    let mut stream = detector.stream();
    let first_scored = series.points.partition_point(|p| p.0 < score_from);
    let mut scores = Vec::with_capacity(series.points.len() - first_scored);
    let mut valid = true;
    for (i, &(ts, v)) in series.points.iter().enumerate() {
        valid = if i < first_scored {
            stream.learn(ts, v).is_ok()
        } else {
            stream.push(ts, v).map(|s| scores.push(s)).is_ok()
        };
        if !valid {
            break;
        }
    }
    if !valid {
        tracing::warn!(subject = %series.subject, "a cached series is not scorable; skipped");
        scores.clear();
    }
    ScoredSeries {
        first_scored: series.points.len() - scores.len(),
        series,
        scores,
    }
}

/// The median of the values in `[from, until)`.
fn median_between(points: &[(i64, f64)], from: i64, until: i64) -> Option<f64> {
    let mut v: Vec<f64> = points
        .iter()
        .filter(|p| p.0 >= from && p.0 < until)
        .map(|p| p.1)
        .collect();
    v.sort_by(f64::total_cmp);
    median_sorted(&v)
}

/// The detection for the flagged run that ends at the series' latest point,
/// if that point is flagged.
pub fn detection_of(s: &ScoredSeries, baseline_secs: i64) -> Option<Detection> {
    let mut run = s.scored().rev().take_while(|(_, sc)| sc.anomaly).peekable();
    let (&(at, value), _) = *run.peek()?;
    let mut started_at = at;
    let mut peak = 0.0_f64;
    for (&(ts, _), sc) in run {
        started_at = ts;
        if sc.score.abs() > peak.abs() {
            peak = sc.score;
        }
    }
    Some(Detection {
        started_at,
        at,
        severity: Severity::from_score(peak).unwrap_or(Severity::Medium),
        peak_score: peak,
        value,
        baseline: median_between(&s.series.points, started_at - baseline_secs, started_at),
        causes: Vec::new(),
    })
}

/// Every stored service of a cluster (from its request counters).
fn services(store: &Store, cluster_id: &str) -> Result<Vec<String>, StoreError> {
    let sel = Selector::metric(names::SERVICE_REQUESTS_INCREASE).cluster(cluster_id);
    let mut out: Vec<String> = store
        .select_series(&sel)?
        .into_iter()
        .filter_map(|(_, k)| k.labels.get("service").cloned())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Sums the points of every series of `metric` per service.
fn per_service(
    store: &Store,
    cluster_id: &str,
    metric: &str,
    (start, end, step, now): (i64, i64, i64, i64),
) -> Result<BTreeMap<String, BTreeMap<i64, f64>>, StoreError> {
    let mut out: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    let sel = Selector::metric(metric).cluster(cluster_id);
    for (key, points) in store.range_at(&sel, start, end, step, now, &Retention::default())? {
        if let Some(s) = key.labels.get("service") {
            let m = out.entry(s.clone()).or_default();
            for (t, v) in points {
                *m.entry(t).or_insert(0.0) += v;
            }
        }
    }
    Ok(out)
}

/// The cached series of one cluster that anomalies are detected on.
pub fn cluster_series(
    store: &Store,
    cluster_id: &str,
    now: i64,
    policy: &AnomalyEvalPolicy,
) -> Result<Vec<CachedSeries>, StoreError> {
    let step = policy.step_secs.max(60);
    let start = now - policy.history_secs.max(step);
    let window = (start, now, step, now);
    let mut out = Vec::new();
    let requests = per_service(store, cluster_id, names::SERVICE_REQUESTS_INCREASE, window)?;
    let errors = per_service(store, cluster_id, names::SERVICE_ERRORS_INCREASE, window)?;
    for service in services(store, cluster_id)? {
        let subject = format!("service/{service}");
        let req = requests.get(&service).cloned().unwrap_or_default();
        let err = errors.get(&service);
        // A rate needs the whole bucket: the one still filling is left out.
        // A ratio or a quantile does not, so they keep it.
        let rate: Vec<(i64, f64)> = req
            .iter()
            .filter(|(t, _)| **t + step <= now)
            .map(|(t, v)| (*t, v / step as f64))
            .collect();
        let error_pct: Vec<(i64, f64)> = req
            .iter()
            .filter(|(_, v)| **v > 0.0)
            .map(|(t, v)| {
                let e = err.and_then(|m| m.get(t)).copied().unwrap_or(0.0);
                (*t, (100.0 * e / v).clamp(0.0, 100.0))
            })
            .collect();
        let hist = store.histogram_steps(cluster_id, &service, start, now, step)?;
        let p95: Vec<(i64, f64)> = hist
            .times
            .iter()
            .zip(&hist.counts)
            .filter_map(|(t, row)| {
                let buckets: Vec<(f64, f64)> = hist
                    .le
                    .iter()
                    .zip(row)
                    .filter(|(_, c)| c.is_finite())
                    .map(|(le, c)| (*le, *c))
                    .collect();
                let q = histogram_quantile(0.95, &buckets);
                // `times` are step ends; the other series use step starts.
                q.is_finite().then_some((t - step, q))
            })
            .collect();
        for (metric, points) in [
            (AnomalyMetric::P95Seconds, p95),
            (AnomalyMetric::ErrorPct, error_pct),
            (AnomalyMetric::RequestsPerSec, rate),
        ] {
            if !points.is_empty() {
                out.push(CachedSeries {
                    subject: subject.clone(),
                    metric,
                    points,
                });
            }
        }
    }
    let ids = [cluster_id.to_owned()];
    for (resource, metric) in [
        (Resource::Cpu, AnomalyMetric::CpuPct),
        (Resource::Memory, AnomalyMetric::MemoryPct),
    ] {
        let m = store.resource_matrix(Some(&ids), resource, start, now, step)?;
        for (row, values) in m.rows.iter().zip(&m.values) {
            let points: Vec<(i64, f64)> = m
                .times
                .iter()
                .zip(values)
                .filter_map(|(t, v)| v.filter(|v| v.is_finite()).map(|v| (*t, v)))
                .collect();
            if !points.is_empty() {
                out.push(CachedSeries {
                    subject: format!("node/{}", row.node),
                    metric,
                    points,
                });
            }
        }
    }
    Ok(out)
}

/// Runs of consecutive points above `threshold` in the scored span, as
/// (start, peak) — the last three.
fn crossings(points: &[(i64, f64)], from: i64, threshold: f64) -> Vec<(i64, f64)> {
    let mut runs: Vec<(i64, f64)> = Vec::new();
    let mut inside = false;
    for &(t, v) in points.iter().filter(|p| p.0 >= from) {
        if v > threshold {
            match (inside, runs.last_mut()) {
                (true, Some(last)) => last.1 = last.1.max(v),
                _ => runs.push((t, v)),
            }
            inside = true;
        } else {
            inside = false;
        }
    }
    let skip = runs.len().saturating_sub(3);
    runs.split_off(skip)
}

/// What the cause rules look at in one cluster: its workloads, events and
/// active alerts from the cache, and this pass's node and error series.
fn cluster_evidence(
    store: &Store,
    rules: &AlertRules,
    cluster_id: &str,
    scored: &[ScoredSeries],
    now: i64,
    policy: &AnomalyEvalPolicy,
) -> Result<ClusterEvidence, StoreError> {
    let mut ev = ClusterEvidence::default();
    let page = store.workloads(&WorkloadQuery {
        cluster: Some(cluster_id.to_owned()),
        limit: crate::store::MAX_WORKLOAD_PAGE,
        ..Default::default()
    })?;
    for w in page.rows.iter().filter(|w| w.kind == "Deployment") {
        if w.updated < w.replicas {
            ev.rollouts.push(RolloutEvidence {
                namespace: w.namespace.clone(),
                deployment: w.name.clone(),
                at: w.collected_at,
                what: format!(
                    "{} of {} replicas updated, {} ready",
                    w.updated, w.replicas, w.ready
                ),
            });
        }
    }
    for e in store.cluster_events(cluster_id)? {
        if e.reason == "ScalingReplicaSet" && e.involved_kind == "Deployment" {
            if let Some(at) = e.last_seen.or(e.first_seen) {
                ev.rollouts.push(RolloutEvidence {
                    namespace: e.namespace.clone(),
                    deployment: e.involved_name.clone(),
                    at,
                    what: e.message.clone(),
                });
            }
        }
    }
    let from = now - policy.scored_secs;
    let node_rules = rules.effective(cluster_id, None);
    for s in scored {
        let Some(name) = s.series.subject.strip_prefix("node/") else {
            if s.series.metric == AnomalyMetric::ErrorPct {
                if let Some(rise) = error_rise(s, policy) {
                    ev.error_rises.push(rise);
                }
            }
            continue;
        };
        let (rule, resource) = match s.series.metric {
            AnomalyMetric::CpuPct => (AlertRule::NodeCpu, "CPU"),
            AnomalyMetric::MemoryPct => (AlertRule::NodeMemory, "memory"),
            _ => continue,
        };
        if let Some(t) = node_rules.steps(rule).medium {
            for (at, peak) in crossings(&s.series.points, from, t) {
                ev.hot_nodes.push(NodeEvidence {
                    node: name.to_owned(),
                    resource,
                    value_pct: peak,
                    threshold_pct: t,
                    at,
                });
            }
        }
    }
    if let Some(t) = node_rules.steps(AlertRule::NodeDisk).medium {
        let step = policy.step_secs.max(60);
        let read = |metric| -> Result<BTreeMap<(String, i64), f64>, StoreError> {
            let sel = Selector::metric(metric).cluster(cluster_id);
            let mut m = BTreeMap::new();
            for (k, pts) in store.range_at(&sel, from, now, step, now, &Retention::default())? {
                if let Some(node) = k.labels.get("node") {
                    for (ts, v) in pts {
                        m.insert((node.clone(), ts), v);
                    }
                }
            }
            Ok(m)
        };
        let used = read(names::NODE_DISK_USED_BYTES)?;
        let capacity = read(names::NODE_DISK_CAPACITY_BYTES)?;
        let mut per_node: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
        for ((node, ts), u) in used {
            if let Some(c) = capacity.get(&(node.clone(), ts)).filter(|c| **c > 0.0) {
                per_node.entry(node).or_default().push((ts, 100.0 * u / c));
            }
        }
        for (node, points) in per_node {
            for (at, peak) in crossings(&points, from, t) {
                ev.hot_nodes.push(NodeEvidence {
                    node: node.clone(),
                    resource: "disk",
                    value_pct: peak,
                    threshold_pct: t,
                    at,
                });
            }
        }
    }
    let alerts = store.alerts(&AlertQuery {
        cluster: Some(cluster_id.to_owned()),
        state: None,
        limit: Some(crate::store::alerts::MAX_ALERTS_PAGE),
    })?;
    for a in alerts.iter().filter(|a| a.state != AlertState::Resolved) {
        ev.open_alerts.push(AlertEvidence {
            subject: a.subject.clone(),
            message: a.message.clone(),
            at: a.first_seen,
        });
    }
    Ok(ev)
}

/// The error rate rose when the latest run of points scoring above medium
/// (upwards) reaches the evaluation window.
fn error_rise(s: &ScoredSeries, policy: &AnomalyEvalPolicy) -> Option<ErrorRise> {
    let run: Vec<(&(i64, f64), &PointScore)> = s
        .scored()
        .rev()
        .take_while(|(_, sc)| sc.score > 3.0)
        .collect();
    let (&(last, _), _) = *run.first()?;
    if last + policy.step_secs < s.series.points.last()?.0 - policy.window_secs {
        return None;
    }
    let (&(at, _), _) = *run.last()?;
    let peak = run.iter().map(|((_, v), _)| *v).fold(f64::MIN, f64::max);
    Some(ErrorRise {
        service: s.series.subject.strip_prefix("service/")?.to_owned(),
        at,
        pct: peak,
        baseline_pct: median_between(
            &s.series.points,
            at - policy.detector.recent_window_secs,
            at,
        ),
    })
}

/// Evaluates the cached series of `cluster_ids` at `now` and folds the
/// verdicts into the anomalies table. Clusters not listed (no data this
/// pass) keep their anomalies. `rules` give the node thresholds the
/// node-pressure cause uses.
pub fn evaluate_cached_anomalies(
    store: &mut Store,
    rules: &AlertRules,
    cluster_ids: &[String],
    now: i64,
    policy: &AnomalyEvalPolicy,
) -> Result<AnomalyPass, StoreError> {
    let mut verdicts = Vec::new();
    let mut budget = policy.max_series;
    let mut pass = AnomalyPass::default();
    for cluster_id in cluster_ids {
        let series = cluster_series(store, cluster_id, now, policy)?;
        let take = series.len().min(budget);
        pass.series_skipped += (series.len() - take) as u64;
        budget -= take;
        let scored: Vec<ScoredSeries> = series
            .into_iter()
            .take(take)
            .map(|s| score_series(&policy.detector, s, now - policy.scored_secs))
            .collect();
        pass.series_scored += scored.len() as u64;

        let mut judged: Vec<(usize, SeriesVerdict)> = Vec::new();
        for (i, s) in scored.iter().enumerate() {
            let Some(&(last_point, _)) = s.series.points.last() else {
                continue;
            };
            // A series with nothing new is not judged again, except that an
            // open anomaly of one that went silent closes.
            let recent = last_point + policy.step_secs > now - policy.window_secs;
            let detection = if recent {
                detection_of(s, policy.detector.recent_window_secs)
            } else {
                None
            };
            judged.push((
                i,
                SeriesVerdict {
                    cluster_id: cluster_id.clone(),
                    subject: s.series.subject.clone(),
                    metric: s.series.metric,
                    last_point,
                    detection,
                },
            ));
        }
        if judged.iter().any(|(_, v)| v.detection.is_some()) {
            let evidence = cluster_evidence(store, rules, cluster_id, &scored, now, policy)?;
            for (_, v) in judged.iter_mut() {
                if let Some(d) = v.detection.as_mut() {
                    let facts = AnomalyFacts {
                        subject: &v.subject,
                        is_error_ratio: v.metric == AnomalyMetric::ErrorPct,
                        started_at: d.started_at,
                        last_seen: d.at,
                    };
                    d.causes = probable_causes(&facts, &evidence, policy.cause_window_secs);
                }
            }
        }
        verdicts.extend(judged.into_iter().map(|(_, v)| v));
    }
    pass.changes = store.apply_anomaly_verdicts(&verdicts)?;
    Ok(pass)
}

#[cfg(test)]
#[path = "anomaly_eval_tests.rs"]
mod tests;
