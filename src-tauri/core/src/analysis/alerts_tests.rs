use super::*;
use crate::model::{ClusterSummary, Provider};
use crate::views::{DataAge, NodeRow, ResolvedRange, ResourceKind, ServiceRow};

const CLUSTER: &str = "aws/acct/eu-west-1/prod-eu-west-1";

fn detail(nodes: Vec<NodeRow>, services: Vec<ServiceRow>) -> ClusterDetail {
    ClusterDetail {
        cluster: ClusterSummary {
            id: CLUSTER.into(),
            provider: Provider::Aws,
            account: "acct".into(),
            name: "prod-eu-west-1".into(),
            region: "eu-west-1".into(),
            version: None,
            status: "ACTIVE".into(),
            endpoint: None,
            node_pools: Vec::new(),
            collected_at: 0,
            gone_at: None,
        },
        range: ResolvedRange {
            start: 0,
            end: 900,
            step: 60,
        },
        age: DataAge {
            collected_at: Some(900),
            interval_secs: 60,
            stale: false,
            reason: None,
        },
        nodes,
        resource: ResourceKind::Cpu,
        resource_heatmap: None,
        services,
        services_note: None,
    }
}

fn node(name: &str, cpu: Option<f64>, mem: Option<f64>, disk: Option<f64>) -> NodeRow {
    NodeRow {
        name: name.into(),
        pool: None,
        ready: Some(true),
        cpu_pct: cpu,
        memory_pct: mem,
        disk_pct: disk,
    }
}

fn service(name: &str, p95: Option<f64>, error_pct: Option<f64>) -> ServiceRow {
    ServiceRow {
        service: name.into(),
        requests_per_sec: Some(10.0),
        error_pct,
        p50: None,
        p95,
        p99: None,
    }
}

/// The severity (and threshold) the default rules give one value.
fn classify(rule: AlertRule, value: f64) -> Option<(Severity, f64)> {
    let d = match rule {
        AlertRule::NodeCpu => detail(vec![node("n", Some(value), None, None)], vec![]),
        AlertRule::NodeMemory => detail(vec![node("n", None, Some(value), None)], vec![]),
        AlertRule::NodeDisk => detail(vec![node("n", None, None, Some(value))], vec![]),
        AlertRule::ServiceP95 => detail(vec![], vec![service("s", Some(value), None)]),
        AlertRule::ServiceErrorRate => detail(vec![], vec![service("s", None, Some(value))]),
        // Not evaluated on metrics: see `log_alerts`.
        AlertRule::LogNewPattern | AlertRule::LogPatternSpike => return None,
        // Not evaluated on metrics either: see `budget_alerts`.
        AlertRule::BudgetActual | AlertRule::BudgetForecast => return None,
    };
    let firings = evaluate(&AlertRules::default(), CLUSTER, &d);
    assert!(firings.len() <= 1, "{firings:?}");
    firings.first().map(|f| {
        assert_eq!(f.rule, rule);
        (f.severity, f.threshold)
    })
}

/// A rule, a value, and the (severity, threshold) it must give.
type Edge = (AlertRule, f64, Option<(Severity, f64)>);

#[test]
fn every_seed_threshold_edge() {
    use AlertRule::*;
    use Severity::*;
    let table: &[Edge] = &[
        (NodeCpu, 0.0, None),
        (NodeCpu, 80.0, None),
        (NodeCpu, 80.01, Some((Medium, 80.0))),
        (NodeCpu, 95.0, Some((Medium, 80.0))),
        (NodeCpu, 95.5, Some((High, 95.0))),
        (NodeCpu, 130.0, Some((High, 95.0))),
        (NodeMemory, 85.0, None),
        (NodeMemory, 85.1, Some((Medium, 85.0))),
        (NodeMemory, 95.1, Some((High, 95.0))),
        (NodeDisk, 90.0, None),
        (NodeDisk, 90.5, Some((Medium, 90.0))),
        (NodeDisk, 95.0, Some((Medium, 90.0))),
        (NodeDisk, 99.0, Some((High, 95.0))),
        (ServiceP95, 0.2, None),
        (ServiceP95, 1.0, None),
        (ServiceP95, 1.001, Some((Medium, 1.0))),
        (ServiceP95, 3.0, Some((Medium, 1.0))),
        (ServiceP95, 3.4, Some((High, 3.0))),
        (ServiceP95, 5.0, Some((High, 3.0))),
        (ServiceP95, 5.01, Some((Critical, 5.0))),
        (ServiceErrorRate, 5.0, None),
        (ServiceErrorRate, 5.5, Some((Medium, 5.0))),
        (ServiceErrorRate, 10.0, Some((Medium, 5.0))),
        (ServiceErrorRate, 10.1, Some((High, 10.0))),
        (ServiceErrorRate, 100.0, Some((High, 10.0))),
    ];
    for (rule, value, want) in table {
        assert_eq!(classify(*rule, *value), *want, "{rule:?} at {value}");
    }
}

#[test]
fn missing_and_non_finite_values_never_fire() {
    let d = detail(
        vec![node("n", None, None, None)],
        vec![service("s", None, None), service("t", Some(f64::NAN), None)],
    );
    assert!(evaluate(&AlertRules::default(), CLUSTER, &d).is_empty());
}

#[test]
fn a_firing_names_cluster_and_subject_and_says_where_to_look() {
    let d = detail(
        vec![node("ip-10-0-1-5", Some(91.0), Some(40.0), Some(10.0))],
        vec![service("checkout", Some(3.4), Some(0.5))],
    );
    let firings = evaluate(&AlertRules::default(), CLUSTER, &d);
    assert_eq!(firings.len(), 2, "{firings:?}");
    let p95 = firings
        .iter()
        .find(|f| f.rule == AlertRule::ServiceP95)
        .unwrap();
    assert_eq!(
        p95.message,
        "p95 3.4 s in checkout on prod-eu-west-1 (threshold 3 s): check the latency heatmap \
         and recent rollouts"
    );
    assert_eq!(p95.subject, "service/checkout");
    assert_eq!(p95.key, format!("{CLUSTER}|service/checkout|service_p95"));
    let cpu = firings
        .iter()
        .find(|f| f.rule == AlertRule::NodeCpu)
        .unwrap();
    assert!(
        cpu.message
            .starts_with("CPU 91 % on node ip-10-0-1-5 of prod-eu-west-1 (threshold 80 %)"),
        "{}",
        cpu.message
    );
    assert_eq!(cpu.severity, Severity::Medium);
}

#[test]
fn overrides_apply_most_specific_first_and_can_turn_a_rule_off() {
    let rules = AlertRules::from_json(&format!(
        r#"{{
            "clusters": {{ "{CLUSTER}": {{ "p95_seconds": {{ "medium": 2.0, "high": 4.0 }},
                                           "node_cpu_pct": {{}} }} }},
            "services": {{ "checkout": {{ "error_pct": {{ "medium": 1.0 }} }},
                           "{CLUSTER}/search": {{ "p95_seconds": {{ "medium": 0.5 }} }} }}
        }}"#
    ))
    .unwrap();
    let d = detail(
        vec![node("n", Some(99.0), None, None)],
        vec![
            service("checkout", Some(1.5), Some(2.0)),
            service("search", Some(0.6), None),
            service("cart", Some(5.5), None),
        ],
    );
    let firings = evaluate(&rules, CLUSTER, &d);
    let got: Vec<(&str, AlertRule, Severity)> = firings
        .iter()
        .map(|f| (f.subject.as_str(), f.rule, f.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            // checkout: p95 1.5 s is under the cluster's 2 s; its own error
            // override (1 %) fires at 2 %.
            (
                "service/checkout",
                AlertRule::ServiceErrorRate,
                Severity::Medium
            ),
            ("service/search", AlertRule::ServiceP95, Severity::Medium),
            // cart: the cluster's steps (no critical step left).
            ("service/cart", AlertRule::ServiceP95, Severity::High),
        ],
        "the CPU rule is off for this cluster"
    );
    // Another cluster keeps the defaults.
    let other = evaluate(&rules, "do/acct/fra1/edge", &d);
    assert!(other
        .iter()
        .any(|f| f.rule == AlertRule::NodeCpu && f.severity == Severity::High));
    assert!(other
        .iter()
        .any(|f| f.subject == "service/cart" && f.severity == Severity::Critical));
}

#[test]
fn bad_rules_are_refused_with_a_hint() {
    for text in [
        r#"{"defaults": {"node_cpu_pct": {"medium": 90, "high": 80}, "node_memory_pct": {}, "node_disk_pct": {}, "p95_seconds": {}, "error_pct": {}}}"#,
        r#"{"clusters": {"c": {"error_pct": {"medium": -1}}}}"#,
        r#"{"services": {"s": {"p95": {"medium": 1}}}}"#,
        "not json",
    ] {
        let err = AlertRules::from_json(text).unwrap_err();
        assert_eq!(err.kind(), "invalid_alert_rules");
        assert!(!err.hint().is_empty());
    }
    let ok = AlertRules::from_json("{}").unwrap();
    assert_eq!(ok, AlertRules::default());
    // A partial `defaults` keeps the seed for the rules it leaves out.
    let partial = AlertRules::from_json(r#"{"defaults": {"error_pct": {"medium": 2}}}"#).unwrap();
    assert_eq!(
        partial.defaults.error_pct,
        Steps::new(Some(2.0), None, None)
    );
    assert_eq!(partial.defaults.p95_seconds, RuleSet::default().p95_seconds);
}

#[test]
fn message_numbers_never_round_onto_their_threshold() {
    for (v, want) in [
        (1.04, "1.04"),
        (3.4, "3.4"),
        (3.0, "3"),
        (0.5, "0.5"),
        (97.5, "97.5"),
        (12.0, "12"),
        (100.0, "100"),
        (87.26, "87.3"),
    ] {
        assert_eq!(num(v), want);
    }
}

#[test]
fn rules_load_from_the_data_dir_or_default_to_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(AlertRules::load(dir.path()).unwrap(), AlertRules::default());
    let path = dir.path().join(RULES_FILE_NAME);
    std::fs::write(
        &path,
        r#"{"services": {"checkout": {"p95_seconds": {"high": 0.5}}}}"#,
    )
    .unwrap();
    let rules = AlertRules::load(dir.path()).unwrap();
    assert_eq!(
        rules.effective(CLUSTER, Some("checkout")).p95_seconds,
        Steps::new(None, Some(0.5), None)
    );
    std::fs::write(&path, r#"{"defaults": 3}"#).unwrap();
    let err = AlertRules::load(dir.path()).unwrap_err();
    assert_eq!(err.kind(), "invalid_alert_rules");
    assert!(err.to_string().contains(RULES_FILE_NAME), "{err}");
}
