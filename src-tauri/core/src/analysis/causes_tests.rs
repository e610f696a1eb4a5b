use super::*;

const T: i64 = 1_700_000_000;
const W: i64 = CAUSE_WINDOW_SECS;

fn rollout(ns: &str, name: &str, at: i64) -> RolloutEvidence {
    RolloutEvidence {
        namespace: ns.into(),
        deployment: name.into(),
        at,
        what: "1 of 4 replicas updated".into(),
    }
}

fn facts(subject: &str) -> AnomalyFacts<'_> {
    AnomalyFacts {
        subject,
        is_error_ratio: false,
        started_at: T,
        last_seen: T + 600,
    }
}

fn kinds(c: &[Cause]) -> Vec<CauseKind> {
    c.iter().map(|c| c.kind).collect()
}

#[test]
fn rollout_rules_by_name_and_time() {
    // (subject, rollout of, at, expected weight or None when out of window)
    let cases: &[(&str, &str, i64, Option<f64>)] = &[
        ("service/checkout", "checkout", T - 60, Some(1.0)),
        ("service/checkout", "checkout-v2", T, Some(1.0)),
        ("service/checkout", "Checkout", T + 600 + W, Some(1.0)),
        ("service/checkout", "checkoutx", T, Some(0.5)),
        ("service/checkout", "payments", T - W, Some(0.5)),
        ("node/n1", "payments", T, Some(0.6)),
        // Just outside ±15 min of the anomaly's span.
        ("service/checkout", "checkout", T - W - 1, None),
        ("service/checkout", "checkout", T + 600 + W + 1, None),
    ];
    for &(subject, dep, at, want) in cases {
        let ev = ClusterEvidence {
            rollouts: vec![rollout("shop", dep, at)],
            ..Default::default()
        };
        let got = probable_causes(&facts(subject), &ev, W);
        match want {
            None => assert!(got.is_empty(), "{subject} {dep} {at}: {got:?}"),
            Some(w) => {
                assert_eq!(got.len(), 1, "{subject} {dep}: {got:?}");
                assert_eq!(got[0].kind, CauseKind::Rollout);
                assert_eq!(got[0].weight, w, "{subject} {dep}");
                assert_eq!(got[0].at, at);
                assert!(got[0].detail.contains(&format!("shop/{dep}")), "{got:?}");
            }
        }
    }
}

#[test]
fn causes_are_ranked_strongest_first() {
    let ev = ClusterEvidence {
        rollouts: vec![
            rollout("shop", "payments", T),
            rollout("shop", "checkout", T + 300),
        ],
        hot_nodes: vec![NodeEvidence {
            node: "n1".into(),
            resource: "CPU",
            value_pct: 91.0,
            threshold_pct: 80.0,
            at: T,
        }],
        error_rises: vec![ErrorRise {
            service: "checkout".into(),
            at: T + 60,
            pct: 31.0,
            baseline_pct: Some(0.4),
        }],
        open_alerts: vec![
            AlertEvidence {
                subject: "service/checkout".into(),
                message: "p95 4.2 s in checkout".into(),
                at: T,
            },
            AlertEvidence {
                subject: "service/payments".into(),
                message: "not this one".into(),
                at: T,
            },
        ],
    };
    let got = probable_causes(&facts("service/checkout"), &ev, W);
    assert_eq!(
        kinds(&got),
        [
            CauseKind::Rollout,
            CauseKind::ErrorRate,
            CauseKind::OpenAlert,
            CauseKind::Rollout,
            CauseKind::NodePressure
        ]
    );
    assert!(got[0].detail.contains("shop/checkout"));
    assert!(got[1].detail.contains("31.0 %") && got[1].detail.contains("0.4 %"));
    assert!(got.windows(2).all(|w| w[0].weight >= w[1].weight));

    // The error-ratio anomaly does not cite its own rise.
    let mut own = facts("service/checkout");
    own.is_error_ratio = true;
    let got = probable_causes(&own, &ev, W);
    assert!(!kinds(&got).contains(&CauseKind::ErrorRate), "{got:?}");

    // A node anomaly: its own threshold crossing ranks above other nodes'.
    let mut ev2 = ev.clone();
    ev2.hot_nodes.push(NodeEvidence {
        node: "n2".into(),
        resource: "memory",
        value_pct: 88.0,
        threshold_pct: 85.0,
        at: T,
    });
    let got = probable_causes(&facts("node/n2"), &ev2, W);
    let nodes: Vec<&Cause> = got
        .iter()
        .filter(|c| c.kind == CauseKind::NodePressure)
        .collect();
    assert!(nodes[0].detail.contains("n2") && nodes[0].weight > nodes[1].weight);
}

#[test]
fn nothing_correlated_gives_no_causes() {
    assert!(probable_causes(&facts("service/x"), &ClusterEvidence::default(), W).is_empty());
    // A subject without a kind prefix is matched literally, never panics.
    assert!(probable_causes(&facts("weird"), &ClusterEvidence::default(), W).is_empty());
}

#[test]
fn merging_keeps_the_earliest_evidence_and_ranks() {
    let a = Cause {
        kind: CauseKind::OpenAlert,
        detail: "open alert: x".into(),
        at: T + 60,
        weight: 0.7,
    };
    let b = Cause {
        kind: CauseKind::Rollout,
        detail: "rollout".into(),
        at: T,
        weight: 1.0,
    };
    let mut earlier = a.clone();
    earlier.at = T;
    let merged = merge_causes(std::slice::from_ref(&a), &[b.clone(), earlier], T);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0], b);
    assert_eq!(merged[1].at, T);
    assert_eq!(merge_causes(&merged, &merged, T), merged, "idempotent");
}
