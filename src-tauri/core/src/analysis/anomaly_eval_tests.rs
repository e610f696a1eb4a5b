use super::*;
use crate::analysis::causes::CauseKind;
use crate::metrics::{Batch, Sample, SeriesKey};
use crate::store::{AnomalyQuery, AnomalyState, ClusterState, WorkloadState};

const C: &str = "gcp/p/europe-west1/shop";
const NOW: i64 = 1_700_000_000 / 300 * 300;
const STEP: i64 = 300;
const LE: [(&str, f64); 5] = [
    ("0.1", 0.1),
    ("0.5", 0.5),
    ("1", 1.0),
    ("5", 5.0),
    ("+Inf", f64::INFINITY),
];

fn noise(i: i64) -> f64 {
    let x = (i as f64 * 12.9898).sin() * 43_758.547;
    x - x.floor() - 0.5
}

fn sample(metric: &str, labels: &[(&str, &str)], ts: i64, value: f64) -> Sample {
    Sample {
        series: SeriesKey::new(C, metric, labels.iter().copied()),
        ts,
        value,
    }
}

/// One 5-minute step of `checkout`: ~50 rps, 0.5 % errors and a p95 near
/// 0.3 s when healthy; 30 % errors and a p95 of seconds when `bad`. Node
/// `n1` sits near 40 % CPU (or at 97 % when `hot`).
fn step(ts: i64, bad: bool, hot: bool) -> Vec<Sample> {
    let i = ts / STEP;
    let requests = 300.0 * (50.0 + 2.0 * noise(i));
    let errors = requests
        * if bad {
            0.3
        } else {
            0.005 + 0.001 * noise(i + 7)
        };
    let shares: [f64; 5] = if bad {
        [0.2, 0.4, 0.6, 0.97, 1.0]
    } else {
        [0.8 + 0.02 * noise(i + 3), 0.96, 0.99, 1.0, 1.0]
    };
    let svc = [("service", "checkout")];
    let mut out = vec![
        sample(names::SERVICE_REQUESTS_INCREASE, &svc, ts, requests),
        sample(names::SERVICE_ERRORS_INCREASE, &svc, ts, errors),
    ];
    for ((le, _), share) in LE.iter().zip(shares) {
        out.push(sample(
            names::SERVICE_LATENCY_BUCKET_INCREASE,
            &[("service", "checkout"), ("le", le)],
            ts,
            requests * share,
        ));
    }
    let cpu = if hot { 3.88 } else { 1.6 + 0.1 * noise(i + 11) };
    out.push(sample(names::NODE_CPU_CORES, &[("node", "n1")], ts, cpu));
    out.push(sample(
        names::NODE_CPU_ALLOCATABLE_CORES,
        &[("node", "n1")],
        ts,
        4.0,
    ));
    out
}

fn write(store: &mut Store, from: i64, until: i64, bad: bool, hot: bool) {
    let mut samples = Vec::new();
    let mut ts = from;
    while ts < until {
        samples.extend(step(ts, bad, hot));
        ts += STEP;
    }
    store
        .insert_batch(&Batch {
            collected_at: until,
            samples,
        })
        .unwrap();
}

fn rolling_out(store: &mut Store, at: i64) {
    let state = ClusterState {
        workloads: Some(vec![WorkloadState {
            namespace: "shop".into(),
            kind: "Deployment".into(),
            name: "checkout".into(),
            replicas: 4,
            ready: 3,
            updated: 1,
            available: 3,
            ..Default::default()
        }]),
        ..Default::default()
    };
    store.apply_cluster_state(C, &state, at).unwrap();
}

fn open(store: &Store) -> Vec<crate::store::Anomaly> {
    store
        .anomalies(&AnomalyQuery {
            state: Some(AnomalyState::Open),
            ..Default::default()
        })
        .unwrap()
        .anomalies
}

#[test]
fn a_bad_rollout_opens_anomalies_with_the_rollout_as_cause_then_they_close() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    let ids = [C.to_owned()];
    let rules = AlertRules::default();
    let policy = AnomalyEvalPolicy::default();
    // Three quiet days: nothing to report.
    write(&mut store, NOW - 3 * 86_400, NOW - 1800, false, false);
    let pass = evaluate_cached_anomalies(&mut store, &rules, &ids, NOW - 1800, &policy).unwrap();
    assert_eq!(
        pass.series_scored, 4,
        "p95, errors, rate of checkout; CPU of n1: {pass:?}"
    );
    assert_eq!(pass.changes, AnomalyChanges::default());

    // Half an hour of a bad rollout (with n1 hot).
    write(&mut store, NOW - 1800, NOW, true, true);
    rolling_out(&mut store, NOW - 1700);
    let pass = evaluate_cached_anomalies(&mut store, &rules, &ids, NOW, &policy).unwrap();
    let metrics: Vec<AnomalyMetric> = pass.changes.opened.iter().map(|a| a.metric).collect();
    for m in [
        AnomalyMetric::ErrorPct,
        AnomalyMetric::P95Seconds,
        AnomalyMetric::CpuPct,
    ] {
        assert!(metrics.contains(&m), "{m:?} not in {metrics:?}");
    }
    assert!(!metrics.contains(&AnomalyMetric::RequestsPerSec));
    let errors = pass
        .changes
        .opened
        .iter()
        .find(|a| a.metric == AnomalyMetric::ErrorPct)
        .unwrap();
    assert_eq!(errors.subject, "service/checkout");
    assert_eq!(errors.severity, Severity::Critical);
    assert!(
        errors.value > 29.0 && errors.baseline.unwrap() < 1.0,
        "{errors:?}"
    );
    assert!(errors.started_at >= NOW - 1800 && errors.last_seen < NOW);
    assert_eq!(
        errors.causes[0].kind,
        CauseKind::Rollout,
        "{:?}",
        errors.causes
    );
    assert!(errors.causes[0].detail.contains("shop/checkout"));
    let p95 = pass
        .changes
        .opened
        .iter()
        .find(|a| a.metric == AnomalyMetric::P95Seconds)
        .unwrap();
    let kinds: Vec<CauseKind> = p95.causes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds[0], CauseKind::Rollout);
    assert!(kinds.contains(&CauseKind::ErrorRate), "{kinds:?}");
    assert!(kinds.contains(&CauseKind::NodePressure), "{kinds:?}");

    // The same data again: the same rows, extended, none added.
    let before = open(&store).len();
    let again = evaluate_cached_anomalies(&mut store, &rules, &ids, NOW, &policy).unwrap();
    assert!(
        again.changes.opened.is_empty(),
        "{:?}",
        again.changes.opened
    );
    assert_eq!(again.changes.extended.len(), before);
    assert_eq!(open(&store).len(), before);

    // Healthy again; the detector's quiet period (6 h) later, they close.
    let later = NOW + 7 * 3600;
    write(&mut store, NOW, later, false, false);
    let pass = evaluate_cached_anomalies(&mut store, &rules, &ids, later, &policy).unwrap();
    assert_eq!(pass.changes.closed.len(), before, "{pass:?}");
    assert!(open(&store).is_empty());
    assert!(pass.changes.closed.iter().all(|a| a.ended_at.is_some()));
}

#[test]
fn empty_and_constant_series_never_fail() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    let rules = AlertRules::default();
    let policy = AnomalyEvalPolicy::default();
    // No data at all, and an unknown cluster.
    let pass =
        evaluate_cached_anomalies(&mut store, &rules, &["nope".into()], NOW, &policy).unwrap();
    assert_eq!(pass, AnomalyPass::default());
    // A constant series (zero variance), zeros included.
    let mut samples = Vec::new();
    for k in 0..(2 * 288) {
        let ts = NOW - 2 * 86_400 + k * STEP;
        let svc = [("service", "flat")];
        samples.push(sample(names::SERVICE_REQUESTS_INCREASE, &svc, ts, 600.0));
        samples.push(sample(names::SERVICE_ERRORS_INCREASE, &svc, ts, 0.0));
        samples.push(sample(names::NODE_CPU_CORES, &[("node", "z")], ts, 0.0));
        samples.push(sample(
            names::NODE_CPU_ALLOCATABLE_CORES,
            &[("node", "z")],
            ts,
            2.0,
        ));
    }
    store
        .insert_batch(&Batch {
            collected_at: NOW,
            samples,
        })
        .unwrap();
    let pass = evaluate_cached_anomalies(&mut store, &rules, &[C.into()], NOW, &policy).unwrap();
    assert_eq!(pass.series_scored, 3, "{pass:?}");
    assert_eq!(pass.changes, AnomalyChanges::default());
}

#[test]
fn the_series_budget_bounds_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    write(&mut store, NOW - 86_400, NOW, false, false);
    let policy = AnomalyEvalPolicy {
        max_series: 2,
        ..Default::default()
    };
    let pass = evaluate_cached_anomalies(
        &mut store,
        &AlertRules::default(),
        &[C.into()],
        NOW,
        &policy,
    )
    .unwrap();
    assert_eq!((pass.series_scored, pass.series_skipped), (2, 2));
}

#[test]
fn detection_of_reports_the_run_that_ends_at_the_last_point() {
    let flag = |score: f64, anomaly: bool| PointScore {
        score,
        severity: Severity::from_score(score),
        anomaly,
    };
    let s = ScoredSeries {
        series: CachedSeries {
            subject: "service/x".into(),
            metric: AnomalyMetric::ErrorPct,
            points: vec![(0, 1.0), (300, 1.0), (600, 9.0), (900, 8.0), (1200, 7.0)],
        },
        scores: vec![flag(0.0, false), flag(-6.0, true), flag(4.5, true)],
        first_scored: 2,
    };
    let d = detection_of(&s, 3600).unwrap();
    assert_eq!((d.started_at, d.at, d.value), (900, 1200, 7.0));
    assert_eq!((d.peak_score, d.severity), (-6.0, Severity::Critical));
    assert_eq!(d.baseline, Some(1.0), "median of 1, 1, 9 before the run");
    let mut quiet = s.clone();
    quiet.scores[2].anomaly = false;
    assert_eq!(detection_of(&quiet, 3600), None);
    let empty = ScoredSeries {
        scores: vec![],
        first_scored: 0,
        series: CachedSeries {
            points: vec![],
            ..s.series
        },
    };
    assert_eq!(detection_of(&empty, 3600), None);
}
