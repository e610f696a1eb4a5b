use super::*;
use crate::metrics::{names, Batch, Sample, SeriesKey};
use crate::model::{ClusterSummary, Provider};

const NOW: i64 = 1_700_000_000 / 60 * 60;

fn summary(id: &str) -> ClusterSummary {
    ClusterSummary {
        id: id.into(),
        provider: Provider::Gcp,
        account: "a".into(),
        name: id.into(),
        region: "r".into(),
        version: None,
        status: "RUNNING".into(),
        endpoint: None,
        node_pools: vec![],
        collected_at: NOW,
        gone_at: None,
    }
}

fn sample(cluster: &str, metric: &str, labels: &[(&str, &str)], ts: i64, value: f64) -> Sample {
    Sample {
        series: SeriesKey::new(cluster, metric, labels.iter().copied()),
        ts,
        value,
    }
}

/// `nodes-only`: two nodes, one at 90 % CPU, no Prometheus.
/// `with-services`: two calm nodes and `api` failing 20 % of its requests.
/// `empty`: known to discovery, never collected. `old`: gone.
fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    store
        .upsert_clusters(&[
            summary("nodes-only"),
            summary("with-services"),
            summary("empty"),
            summary("old"),
        ])
        .unwrap();
    store
        .conn()
        .execute("UPDATE clusters SET gone_at = ?1 WHERE id = 'old'", [NOW])
        .unwrap();
    let mut samples = Vec::new();
    for i in 0..60 {
        let ts = NOW - 3600 + 60 * (i + 1);
        for (cluster, busy) in [("nodes-only", 3.6), ("with-services", 1.0), ("old", 4.0)] {
            for (node, used) in [("n-a", busy), ("n-b", 1.0)] {
                samples.push(sample(
                    cluster,
                    names::NODE_CPU_CORES,
                    &[("node", node)],
                    ts,
                    used,
                ));
                samples.push(sample(
                    cluster,
                    names::NODE_CPU_ALLOCATABLE_CORES,
                    &[("node", node)],
                    ts,
                    4.0,
                ));
            }
        }
        samples.push(sample(
            "with-services",
            names::SERVICE_REQUESTS_INCREASE,
            &[("service", "api")],
            ts,
            100.0,
        ));
        samples.push(sample(
            "with-services",
            names::SERVICE_ERRORS_INCREASE,
            &[("service", "api")],
            ts,
            20.0,
        ));
        for (le, v) in [("0.1", 90.0), ("1", 100.0), ("+Inf", 100.0)] {
            samples.push(sample(
                "with-services",
                names::SERVICE_LATENCY_BUCKET_INCREASE,
                &[("service", "api"), ("le", le)],
                ts,
                v,
            ));
        }
    }
    store
        .insert_batch(&Batch {
            collected_at: NOW,
            samples,
        })
        .unwrap();
    (dir, store)
}

#[test]
fn node_pressure_scores_a_cluster_without_services_and_services_win_when_present() {
    let (_dir, store) = store();
    let fleet = fleet_health(&store, NOW).unwrap();
    let ids: Vec<&str> = fleet
        .clusters
        .iter()
        .map(|c| c.cluster_id.as_str())
        .collect();
    // Worst first, unknown last, the gone cluster left out.
    assert_eq!(ids, ["with-services", "nodes-only", "empty"]);

    let svc = &fleet.clusters[0];
    assert_eq!(svc.basis, "services");
    // 20 % errors is past the 10 % where the whole 30 points go.
    assert_eq!(svc.score.value, Some(70.0));
    assert_eq!(svc.score.reasons[0].kind, "errors");
    assert!(
        svc.score.reasons[0].detail.contains("in api"),
        "{:?}",
        svc.score.reasons
    );

    let nodes = &fleet.clusters[1];
    assert_eq!(nodes.basis, "nodes");
    // One of two nodes above 80 % CPU: half of the 30 points.
    assert_eq!(nodes.score.value, Some(85.0));
    assert_eq!(nodes.score.reasons[0].detail, "1 of 2 nodes above 80 % CPU");

    let empty = &fleet.clusters[2];
    assert_eq!(empty.score.value, None, "no data is unknown, never 100");
    assert_eq!(empty.basis, "none");
    assert_eq!(fleet.unknown, 1);
    assert_eq!(fleet.value, Some(77.5));

    let one = fleet_health_for(&store, Some("nodes-only"), NOW).unwrap();
    assert_eq!(one.clusters.len(), 1);
    assert!(fleet_health_for(&store, Some("nope"), NOW)
        .unwrap()
        .clusters
        .is_empty());
}

#[test]
fn old_samples_leave_the_scores_unknown() {
    let (_dir, store) = store();
    let fleet = fleet_health(&store, NOW + 3 * 3600).unwrap();
    assert_eq!(fleet.value, None);
    assert_eq!(fleet.unknown, 3);
}

#[test]
fn the_view_carries_reasons_and_the_recorded_day_in_buckets() {
    let (_dir, mut store) = store();
    // A day of passes every 5 minutes, scored at the same cache: the
    // sparkline buckets two passes each.
    let fleet = fleet_health(&store, NOW).unwrap();
    for k in 0..6 {
        store.record_health(NOW - 3000 + 300 * k, &fleet).unwrap();
    }
    let view = fleet_health_view(&store, &fleet, NOW).unwrap();
    assert_eq!(view.fleet, Some(77.5));
    assert_eq!(view.unknown, 1);
    assert_eq!(view.at, NOW);
    let svc = &view.clusters[0];
    assert_eq!(svc.cluster_id, "with-services");
    assert_eq!(svc.reasons[0].kind, "errors");
    assert_eq!(svc.reasons[0].points, 30.0);
    assert_eq!(svc.history.len(), 3, "{:?}", svc.history);
    assert!(svc.history.iter().all(|p| p.score == Some(70.0)));
    assert!(svc.history.windows(2).all(|w| w[1].at - w[0].at == 600));
    let empty = &view.clusters[2];
    assert!(empty.history.iter().all(|p| p.score.is_none()));
    assert_eq!(empty.history.len(), 3);
    assert_eq!(view.fleet_history.len(), 3);
    assert_eq!(view.fleet_history[0].score, Some(77.5));
}

fn anomaly(subject: &str, severity: Severity, state: AnomalyState) -> Anomaly {
    Anomaly {
        id: 1,
        cluster_id: "c".into(),
        subject: subject.into(),
        metric: crate::analysis::anomaly_eval::AnomalyMetric::ErrorPct,
        started_at: NOW,
        last_seen: NOW,
        ended_at: (state == AnomalyState::Closed).then_some(NOW),
        severity,
        peak_score: 5.0,
        value: 1.0,
        baseline: None,
        causes: vec![],
        state,
    }
}

fn alert(subject: &str, severity: Severity, state: AlertState) -> Alert {
    Alert {
        id: 1,
        key: format!("c|{subject}|service_p95"),
        cluster_id: "c".into(),
        subject: subject.into(),
        rule: crate::analysis::alerts::AlertRule::ServiceP95,
        severity,
        state,
        first_seen: NOW,
        last_seen: NOW,
        count: 1,
        value: 2.0,
        threshold: 1.0,
        message: "m".into(),
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
        resolved_by: None,
        last_notified_at: None,
        escalations: 0,
    }
}

#[test]
fn open_anomalies_and_unacknowledged_alerts_count_where_they_belong() {
    use crate::analysis::health::{AlertCounts, AnomalyCounts};
    let base = ClusterSignals {
        cluster_id: "c".into(),
        services: vec![ServiceSignals {
            service: "api".into(),
            requests: 100.0,
            ..Default::default()
        }],
        ..Default::default()
    };
    let svc = |medium, high, critical| AnomalyCounts {
        medium,
        high,
        critical,
    };
    let al = |unacknowledged, critical| AlertCounts {
        unacknowledged,
        critical,
    };
    // (anomalies, alerts, service counts, cluster counts, cluster score)
    type Case = (
        Vec<Anomaly>,
        Vec<Alert>,
        (AnomalyCounts, AlertCounts),
        (AnomalyCounts, AlertCounts),
        f64,
    );
    let none = (svc(0, 0, 0), al(0, 0));
    let cases: Vec<Case> = vec![
        (vec![], vec![], none, none, 100.0),
        (
            vec![anomaly("service/api", Severity::High, AnomalyState::Open)],
            vec![],
            (svc(0, 1, 0), al(0, 0)),
            none,
            90.0,
        ),
        // Closed anomalies, acknowledged and resolved alerts do not count.
        (
            vec![anomaly(
                "service/api",
                Severity::Critical,
                AnomalyState::Closed,
            )],
            vec![
                alert("service/api", Severity::High, AlertState::Acknowledged),
                alert("service/api", Severity::High, AlertState::Resolved),
            ],
            none,
            none,
            100.0,
        ),
        // The caps: anomalies at most 20, alerts at most 20 (critical ×2).
        (
            vec![
                anomaly("service/api", Severity::Critical, AnomalyState::Open),
                anomaly("service/api", Severity::Medium, AnomalyState::Open),
            ],
            vec![
                alert("service/api", Severity::Critical, AlertState::Open),
                alert("service/api", Severity::Critical, AlertState::Open),
                alert("service/api", Severity::Medium, AlertState::Open),
            ],
            (svc(1, 0, 1), al(3, 2)),
            none,
            60.0,
        ),
        // Nodes, and services without a row, count against the cluster.
        (
            vec![
                anomaly("node/n1", Severity::Medium, AnomalyState::Open),
                anomaly("service/gone", Severity::High, AnomalyState::Open),
            ],
            vec![alert("node/n1", Severity::Critical, AlertState::Open)],
            none,
            (svc(1, 1, 0), al(1, 1)),
            75.0,
        ),
    ];
    for (i, (anomalies, alerts, want_svc, want_cluster, score)) in cases.into_iter().enumerate() {
        let mut s = base.clone();
        attach_open_issues(&mut s, &anomalies, &alerts);
        assert_eq!(
            (s.services[0].anomalies, s.services[0].alerts),
            want_svc,
            "case {i}"
        );
        assert_eq!((s.anomalies, s.alerts), want_cluster, "case {i}");
        assert_eq!(cluster_score(&s).score.value, Some(score), "case {i}");
    }
}

#[test]
fn fleet_health_reads_open_anomalies_and_alerts_from_the_cache() {
    use crate::analysis::anomaly_eval::AnomalyMetric;
    use crate::store::{Detection, SeriesVerdict};
    let (_dir, mut store) = store();
    store
        .apply_anomaly_verdicts(&[SeriesVerdict {
            cluster_id: "with-services".into(),
            subject: "service/api".into(),
            metric: AnomalyMetric::ErrorPct,
            last_point: NOW,
            detection: Some(Detection {
                started_at: NOW - 600,
                at: NOW,
                severity: Severity::High,
                peak_score: 4.5,
                value: 20.0,
                baseline: Some(1.0),
                causes: vec![],
            }),
        }])
        .unwrap();
    let fleet = fleet_health(&store, NOW).unwrap();
    let svc = fleet
        .clusters
        .iter()
        .find(|c| c.cluster_id == "with-services")
        .unwrap();
    // 30 for errors, 10 for one open high anomaly.
    assert_eq!(svc.score.value, Some(60.0));
    assert!(svc
        .score
        .reasons
        .iter()
        .any(|r| r.kind == "anomalies" && r.points == 10.0 && r.detail.contains("in api")));
}

#[test]
fn certificate_expiry_and_version_risks_come_from_the_endpoint_collector() {
    use crate::store::{ClusterState, EndpointState, NodeState};
    let (_dir, mut store) = store();
    let day = 86_400;
    let endpoint = |version: &str, days: i64| EndpointState {
        server_version: Some(version.into()),
        tls: true,
        cert_not_after: Some(NOW + days * day),
        cert_subject: Some("CN=kube-apiserver".into()),
    };
    let node = |name: &str, kubelet: &str| NodeState {
        name: name.into(),
        allocatable_cpu_cores: 4.0,
        allocatable_memory_bytes: 8e9,
        ready: true,
        kubelet_version: Some(kubelet.into()),
        ..Default::default()
    };
    // `nodes-only`: the certificate expires in 5 days (alert) and one
    // kubelet lags four minors. At NOW (2023-11) 1.29 is still supported,
    // so the skew is the only version reason.
    store
        .apply_cluster_state(
            "nodes-only",
            &ClusterState {
                endpoint: Some(endpoint("v1.29.1", 5)),
                nodes: Some(vec![node("n-a", "v1.29.1"), node("n-b", "v1.25.3")]),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    // `with-services`: 20 days left (warning), versions fine.
    store
        .apply_cluster_state(
            "with-services",
            &ClusterState {
                endpoint: Some(endpoint("v1.28.2", 20)),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    let fleet = fleet_health(&store, NOW).unwrap();
    let by_id = |id: &str| fleet.clusters.iter().find(|c| c.cluster_id == id).unwrap();

    let nodes = by_id("nodes-only");
    let cert = nodes
        .score
        .reasons
        .iter()
        .find(|r| r.kind == "certificate")
        .unwrap();
    assert_eq!(cert.points, 10.0);
    assert_eq!(cert.detail, "API certificate expires in 5 days");
    let version = nodes
        .score
        .reasons
        .iter()
        .find(|r| r.kind == "version")
        .unwrap();
    assert!(
        version.detail.contains("kubelet 1.25"),
        "{}",
        version.detail
    );
    // 85 from node pressure, minus 10 and 5.
    assert_eq!(nodes.score.value, Some(70.0));

    let svc = by_id("with-services");
    assert!(svc
        .score
        .reasons
        .iter()
        .any(|r| r.kind == "certificate" && r.points == 5.0));
    assert!(!svc.score.reasons.iter().any(|r| r.kind == "version"));

    // A year later 1.28 and 1.29 are past upstream end of support, and the
    // certificates have expired (still the alert deduction).
    let later = fleet_health(&store, NOW + 400 * day).unwrap();
    let svc_later = later
        .clusters
        .iter()
        .find(|c| c.cluster_id == "with-services")
        .unwrap();
    let version = svc_later
        .score
        .reasons
        .iter()
        .find(|r| r.kind == "version")
        .unwrap();
    assert!(
        version
            .detail
            .contains("1.28 is past upstream end of support"),
        "{}",
        version.detail
    );
}

#[test]
fn recent_warning_events_from_the_collector_lower_the_cluster_score() {
    use crate::store::{ClusterState, EventState};
    let (_dir, mut store) = store();
    let event = |name: &str, type_: &str, reason: &str, last_seen: i64| EventState {
        namespace: "shop".into(),
        involved_kind: "Pod".into(),
        involved_name: name.into(),
        reason: reason.into(),
        type_: type_.into(),
        message: "Back-off restarting failed container".into(),
        count: 4,
        first_seen: Some(last_seen - 60),
        last_seen: Some(last_seen),
    };
    let before = fleet_health(&store, NOW).unwrap();
    let score_of = |fleet: &crate::analysis::health::FleetScore, id: &str| {
        fleet
            .clusters
            .iter()
            .find(|c| c.cluster_id == id)
            .unwrap()
            .score
            .clone()
    };
    store
        .apply_cluster_state(
            "with-services",
            &ClusterState {
                events: Some(vec![
                    event("checkout-1", "Warning", "BackOff", NOW - 120),
                    // Normal events and warnings older than the window do
                    // not count.
                    event("checkout-2", "Normal", "Pulled", NOW - 120),
                    event("checkout-3", "Warning", "BackOff", NOW - 7200),
                ]),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    let after = fleet_health(&store, NOW).unwrap();
    let (was, now) = (
        score_of(&before, "with-services"),
        score_of(&after, "with-services"),
    );
    let events = now.reasons.iter().find(|r| r.kind == "events").unwrap();
    assert_eq!(events.points, 2.0);
    assert_eq!(
        events.detail,
        "1 warning event: BackOff on Pod shop/checkout-1 (×4)"
    );
    assert_eq!(now.value, was.value.map(|v| v - 2.0));
}
