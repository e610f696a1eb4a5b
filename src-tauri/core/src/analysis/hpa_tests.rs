//! Table tests from the Kubernetes HPA documentation ("Algorithm details",
//! "Configurable scaling behavior") and the controller's own rules.

use super::*;

fn reading(current: f64, target: f64) -> MetricReading {
    MetricReading { current, target }
}

fn spec(min: i32, max: i32, behavior: Behavior) -> HpaSpec {
    HpaSpec {
        min_replicas: min,
        max_replicas: max,
        behavior,
        tolerance: DEFAULT_TOLERANCE,
    }
}

fn rules(window: i32, select: SelectPolicy, policies: &[(PolicyKind, i32, i32)]) -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: window,
        select_policy: select,
        policies: policies
            .iter()
            .map(|&(kind, value, period_seconds)| ScalingPolicy {
                kind,
                value,
                period_seconds,
            })
            .collect(),
    }
}

#[test]
fn the_ratio_formula_and_its_tolerance() {
    // "if the current metric value is 200m, and the desired value is 100m,
    // the number of replicas will be doubled … 50m … halve".
    for (current, value, target, want) in [
        (4, 200.0, 100.0, Some(8)),
        (4, 50.0, 100.0, Some(2)),
        // ceil: 3 × 1.5 = 4.5 → 5.
        (3, 150.0, 100.0, Some(5)),
        // Within 0.1 of 1: no change.
        (10, 109.0, 100.0, Some(10)),
        (10, 91.0, 100.0, Some(10)),
        (10, 100.0, 100.0, Some(10)),
        // 1.1 is just outside in float64 (1 − 1.1 = −0.10000000000000009),
        // as in the controller: it scales, to ceil(1.1 × 10) = 11.
        (10, 110.0, 100.0, Some(11)),
        (10, 89.0, 100.0, Some(9)),
        // Zero load proposes zero; min/max apply later.
        (5, 0.0, 100.0, Some(0)),
        // Unusable metrics are ignored, never a panic.
        (5, f64::NAN, 100.0, None),
        (5, 50.0, 0.0, None),
        (5, -1.0, 100.0, None),
    ] {
        assert_eq!(
            replicas_for_metric(current, reading(value, target), DEFAULT_TOLERANCE),
            want,
            "{current} pods at {value}/{target}"
        );
    }
}

#[test]
fn the_largest_metric_proposal_wins() {
    let s = spec(1, 20, Behavior::default());
    let mut h = History::default();
    // CPU wants 6, memory wants 8.
    let d = sync(
        &s,
        4,
        &[reading(150.0, 100.0), reading(200.0, 100.0)],
        &mut h,
        0,
    );
    assert_eq!((d.proposed, d.desired), (8, 8));
}

#[test]
fn min_and_max_bound_the_count_first() {
    let s = spec(2, 10, Behavior::default());
    let mut h = History::default();
    let d = sync(&s, 12, &[reading(10.0, 100.0)], &mut h, 0);
    assert_eq!((d.desired, d.limit), (10, HpaLimit::TooManyReplicas));
    let d = sync(&s, 1, &[reading(500.0, 100.0)], &mut h, 0);
    assert_eq!((d.desired, d.limit), (2, HpaLimit::TooFewReplicas));
    // Scaled to zero by hand: the HPA stands aside.
    let d = sync(&s, 0, &[reading(500.0, 100.0)], &mut h, 0);
    assert_eq!((d.desired, d.limit), (0, HpaLimit::ScalingDisabled));
    // A proposal above max is capped there.
    let d = sync(&s, 8, &[reading(300.0, 100.0)], &mut History::default(), 0);
    assert_eq!(
        (d.proposed, d.desired, d.limit),
        (24, 10, HpaLimit::TooManyReplicas)
    );
    // Below min, floored there.
    let d = sync(&s, 4, &[reading(10.0, 100.0)], &mut History::default(), 0);
    assert_eq!(
        (d.proposed, d.desired, d.limit),
        (1, 2, HpaLimit::TooFewReplicas)
    );
}

#[test]
fn no_readable_metric_means_no_action() {
    let s = spec(1, 10, Behavior::default());
    let d = sync(
        &s,
        3,
        &[reading(f64::NAN, 100.0)],
        &mut History::default(),
        0,
    );
    assert_eq!((d.desired, d.limit), (3, HpaLimit::NoMetrics));
    let d = sync(&s, 3, &[], &mut History::default(), 0);
    assert_eq!(d.limit, HpaLimit::NoMetrics);
}

#[test]
fn default_scale_up_adds_four_pods_or_doubles_every_15_seconds() {
    // "4 pods or a 100% of the currently running replicas may at most be
    // added every 15 seconds till the HPA reaches its steady state."
    let s = spec(1, 100, Behavior::default());
    let mut h = History::default();
    let mut replicas = 1;
    let mut seen = Vec::new();
    for k in 0..5 {
        let d = sync(&s, replicas, &[reading(5000.0, 100.0)], &mut h, 15 * k);
        replicas = d.desired;
        seen.push(replicas);
    }
    assert_eq!(seen, [5, 10, 20, 40, 80]);
    // Inside one period the budget is spent: a second sync 5 s later holds.
    let d = sync(&s, 80, &[reading(5000.0, 100.0)], &mut h, 15 * 4 + 5);
    assert_eq!((d.desired, d.limit), (80, HpaLimit::ScaleUpLimit));
}

#[test]
fn scale_down_picks_the_policy_allowing_the_largest_change() {
    // The documentation's example: Pods 4/60 s and Percent 10/60 s. "if
    // there are 80 replicas and the target has to be scaled down to 10
    // replicas then during the first step 8 replicas will be reduced. In
    // the next iteration when the number of replicas is 72, 10% of the pods
    // is 7.2 but the number is rounded up to 8." With 40 or fewer, the
    // Pods policy (4) wins.
    let b = Behavior {
        scale_down: rules(
            0,
            SelectPolicy::Max,
            &[(PolicyKind::Pods, 4, 60), (PolicyKind::Percent, 10, 60)],
        ),
        ..Behavior::default()
    };
    let s = spec(1, 100, b);
    let mut h = History::default();
    let mut replicas = 80;
    let mut seen = Vec::new();
    for k in 0..4 {
        // Load that wants 10 pods at any count.
        let per_pod = 1000.0 / f64::from(replicas);
        let d = sync(&s, replicas, &[reading(per_pod, 100.0)], &mut h, 60 * k);
        assert_eq!(d.limit, HpaLimit::ScaleDownLimit);
        replicas = d.desired;
        seen.push(replicas);
    }
    assert_eq!(seen, [72, 64, 57, 51]);
    // 30 replicas: 10 % is 3 pods, the Pods policy allows 4.
    let d = sync(&s, 30, &[reading(10.0, 100.0)], &mut History::default(), 0);
    assert_eq!(d.desired, 26);
    // selectPolicy Min picks the smaller change: 3.
    let mut b = s.behavior.clone();
    b.scale_down.select_policy = SelectPolicy::Min;
    let d = sync(
        &spec(1, 100, b),
        30,
        &[reading(10.0, 100.0)],
        &mut History::default(),
        0,
    );
    assert_eq!(d.desired, 27);
}

#[test]
fn a_percent_scale_up_rounds_up_so_one_pod_can_grow() {
    let b = Behavior {
        scale_up: rules(0, SelectPolicy::Max, &[(PolicyKind::Percent, 50, 60)]),
        ..Behavior::default()
    };
    let d = sync(
        &spec(1, 10, b),
        1,
        &[reading(900.0, 100.0)],
        &mut History::default(),
        0,
    );
    assert_eq!((d.desired, d.limit), (2, HpaLimit::ScaleUpLimit));
}

#[test]
fn the_scale_down_window_uses_the_highest_recent_recommendation() {
    // "stabilizationWindowSeconds: 300 … the highest recommendation of the
    // last 5 minutes is used".
    let s = spec(1, 20, Behavior::default());
    let mut h = History::default();
    // t=0: the load wants 10 (current 10).
    let d = sync(&s, 10, &[reading(100.0, 100.0)], &mut h, 0);
    assert_eq!(d.desired, 10);
    // The load halves at t=60: the proposal is 5, held at 10 for 300 s.
    for t in [60, 120, 240, 299] {
        let d = sync(&s, 10, &[reading(50.0, 100.0)], &mut h, t);
        assert_eq!(
            (d.proposed, d.desired, d.limit),
            (5, 10, HpaLimit::Stabilized),
            "t={t}"
        );
    }
    // At t=300 the t=0 recommendation of 10 is at the cutoff, no longer
    // after it: it has left the window.
    let d = sync(&s, 10, &[reading(50.0, 100.0)], &mut h, 300);
    assert_eq!(d.desired, 5);
}

#[test]
fn a_scale_up_window_uses_the_lowest_recent_recommendation() {
    let b = Behavior {
        scale_up: rules(60, SelectPolicy::Max, &[(PolicyKind::Percent, 100, 15)]),
        ..Behavior::default()
    };
    let s = spec(1, 20, b);
    let mut h = History::default();
    sync(&s, 4, &[reading(100.0, 100.0)], &mut h, 0);
    // A spike wants 8 at t=30: the t=0 recommendation (4) holds it.
    let d = sync(&s, 4, &[reading(200.0, 100.0)], &mut h, 30);
    assert_eq!(
        (d.proposed, d.desired, d.limit),
        (8, 4, HpaLimit::Stabilized)
    );
    // Still high at t=61: every recommendation in the window says 8.
    let d = sync(&s, 4, &[reading(200.0, 100.0)], &mut h, 61);
    assert_eq!(d.desired, 8);
}

#[test]
fn disabled_directions_never_move_and_slow_policies_pace_the_change() {
    // "selectPolicy: Disabled" for scale-down.
    let b = Behavior {
        scale_down: rules(0, SelectPolicy::Disabled, &[(PolicyKind::Percent, 100, 15)]),
        ..Behavior::default()
    };
    let d = sync(
        &spec(1, 20, b),
        10,
        &[reading(10.0, 100.0)],
        &mut History::default(),
        0,
    );
    assert_eq!((d.desired, d.limit), (10, HpaLimit::ScaleDownLimit));

    // "HpaLimit scale down to 1 pod per 10 minutes".
    let b = Behavior {
        scale_down: rules(0, SelectPolicy::Max, &[(PolicyKind::Pods, 1, 600)]),
        ..Behavior::default()
    };
    let s = spec(1, 20, b);
    let mut h = History::default();
    let mut replicas = 10;
    let mut seen = Vec::new();
    for t in (0..=1200).step_by(300) {
        replicas = sync(&s, replicas, &[reading(1.0, 100.0)], &mut h, t).desired;
        seen.push(replicas);
    }
    // t=0 → 9; t=300 inside the period → 9; t=600: the t=0 event is exactly
    // at the cutoff (not after it) → 8; t=900 → 8; t=1200 → 7.
    assert_eq!(seen, [9, 9, 8, 8, 7]);
}

#[test]
fn make_autoscaled_defaults_are_the_seeds() {
    let s = HpaSpec::make_autoscaled();
    assert_eq!((s.min_replicas, s.max_replicas), (2, 10));
    let up = &s.behavior.scale_up.policies[0];
    assert_eq!(
        (up.kind, up.value, up.period_seconds),
        (PolicyKind::Percent, 100, 30)
    );
    let down = &s.behavior.scale_down;
    assert_eq!(down.stabilization_window_seconds, 300);
    assert_eq!(
        (
            down.policies[0].kind,
            down.policies[0].value,
            down.policies[0].period_seconds
        ),
        (PolicyKind::Percent, 50, 60)
    );
}

#[test]
fn a_what_if_climbs_and_settles_where_the_load_fits() {
    // 5 pods at 140 % CPU against a 70 % target: a load of 700.
    let s = spec(2, 20, Behavior::default());
    let steps = simulate(&s, 5, &[70.0], &[(0, vec![700.0]), (300, vec![700.0])], 15);
    assert_eq!(steps[0].replicas, 10);
    assert!(steps.iter().all(|st| st.replicas == 10), "{steps:?}");

    // A load that needs 30 pods: 5 → 10 → 20 → 30 (capped by max=20 here).
    let steps = simulate(&s, 5, &[70.0], &[(0, vec![2100.0]), (60, vec![2100.0])], 15);
    let counts: Vec<i32> = steps.iter().map(|s| s.replicas).collect();
    assert_eq!(counts, [10, 20, 20, 20, 20]);
    assert_eq!(steps[1].decision.limit, HpaLimit::TooManyReplicas);

    // The load drops at t=60: held for the 300 s window, then down to 4.
    let steps = simulate(
        &s,
        10,
        &[70.0],
        &[(0, vec![700.0]), (60, vec![280.0]), (420, vec![280.0])],
        30,
    );
    let at = |t: i64| steps.iter().find(|s| s.at == t).unwrap().replicas;
    assert_eq!(at(60), 10);
    assert_eq!(
        at(300),
        10,
        "t=30's recommendation of 10 is still in the window"
    );
    assert_eq!(at(330), 4);
    assert_eq!(at(420), 4);

    assert!(simulate(&s, 5, &[70.0], &[], 15).is_empty());
}
