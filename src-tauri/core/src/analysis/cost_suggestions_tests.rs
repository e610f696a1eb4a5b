use super::*;

/// $0.03 per core-hour and $0.004 per GiB-hour.
fn prices() -> BTreeMap<String, UnitPrices> {
    BTreeMap::from([(
        "c1".to_string(),
        UnitPrices {
            cpu_core_hour: 0.03,
            memory_gib_hour: 0.004,
        },
    )])
}

fn workload(name: &str, replicas: i32) -> WorkloadProfile {
    WorkloadProfile {
        cluster_id: "c1".into(),
        namespace: "shop".into(),
        name: name.into(),
        replicas,
        containers: 1,
        request_cpu_cores_per_pod: Some(1.0),
        request_memory_bytes_per_pod: Some(1024.0 * MIB),
        p95_cpu_cores_per_pod: Some(0.1),
        p95_memory_bytes_per_pod: Some(200.0 * MIB),
        usage_days: 7.0,
        has_pdb: Some(true),
        selector: BTreeMap::from([("app".to_string(), name.to_string())]),
        ..Default::default()
    }
}

#[test]
fn requests_far_above_p95_get_the_exact_command_and_savings() {
    let w = workload("web", 4);
    let s = suggestions(&[w], &[], &prices(), &SuggestionConfig::default());
    assert_eq!(s.len(), 1, "{s:#?}");
    let s = &s[0];
    assert_eq!(s.kind, SuggestionKind::RightSizeRequests);
    // p95 × 1.3 rounded up: 130m, and 260Mi → 264Mi (8 MiB steps).
    assert_eq!(
        s.commands,
        ["kubectl -n shop set resources deployment/web --requests=cpu=130m,memory=264Mi"]
    );
    // 4 pods × (0.87 cores × $0.03 + 760/1024 GiB × $0.004) × 730 h.
    let want = 730.0 * 4.0 * (0.87 * 0.03 + (760.0 / 1024.0) * 0.004);
    assert!(
        (s.monthly_savings - want).abs() < 1e-6,
        "{} vs {want}",
        s.monthly_savings
    );
    assert!(!s.safe_one_click && s.action.is_none());
    assert!(s.caveats.iter().any(|c| c.contains("evicted")));
}

#[test]
fn right_sizing_needs_a_week_a_real_gap_and_real_savings() {
    let cfg = SuggestionConfig::default();
    let p = prices();
    // Only 3 days of usage: no suggestion.
    let mut short = workload("a", 2);
    short.usage_days = 3.0;
    // Requests at 1.5× p95: not far above.
    let mut close = workload("b", 2);
    close.p95_cpu_cores_per_pod = Some(0.7);
    close.p95_memory_bytes_per_pod = Some(800.0 * MIB);
    // Savings under a dollar a month: not worth a suggestion.
    let mut tiny = workload("c", 1);
    tiny.request_cpu_cores_per_pod = Some(0.02);
    tiny.p95_cpu_cores_per_pod = Some(0.001);
    tiny.request_memory_bytes_per_pod = None;
    // NaN usage: ignored, never a NaN saving.
    let mut nan = workload("d", 2);
    nan.p95_cpu_cores_per_pod = Some(f64::NAN);
    nan.p95_memory_bytes_per_pod = None;
    let s = suggestions(&[short, close, tiny, nan], &[], &p, &cfg);
    assert!(s.is_empty(), "{s:#?}");
    // No prices for the cluster: savings unknown, no right-sizing.
    let s = suggestions(&[workload("e", 2)], &[], &BTreeMap::new(), &cfg);
    assert!(s.is_empty());
    // CPU only, with an HPA and two containers: the caveats say so.
    let mut hpa = workload("f", 3);
    hpa.p95_memory_bytes_per_pod = Some(900.0 * MIB);
    hpa.has_hpa = true;
    hpa.containers = 2;
    let s = suggestions(&[hpa], &[], &p, &cfg);
    assert_eq!(s.len(), 1);
    assert!(
        s[0].commands[0].contains(" -c CONTAINER --requests=cpu=130m"),
        "{:?}",
        s[0].commands
    );
    assert!(!s[0].commands[0].contains("memory"));
    assert!(s[0].caveats.iter().any(|c| c.contains("HPA")));
}

#[test]
fn single_replicas_without_a_pdb_are_an_ha_gap() {
    let cfg = SuggestionConfig::default();
    let mut lone = workload("ledger", 1);
    lone.request_cpu_cores_per_pod = Some(0.1);
    lone.p95_cpu_cores_per_pod = Some(0.08);
    lone.request_memory_bytes_per_pod = Some(128.0 * MIB);
    lone.p95_memory_bytes_per_pod = Some(100.0 * MIB);
    lone.has_pdb = Some(false);
    let s = suggestions(&[lone.clone()], &[], &prices(), &cfg);
    assert_eq!(s.len(), 1, "{s:#?}");
    let s = &s[0];
    assert_eq!(s.kind, SuggestionKind::SingleReplicaNoPdb);
    assert_eq!(
        s.commands,
        [
            "kubectl -n shop scale deployment/ledger --replicas=2",
            "kubectl -n shop create poddisruptionbudget ledger --selector=app=ledger --min-available=1"
        ]
    );
    assert!(s.safe_one_click);
    assert_eq!(
        s.action,
        Some(OneClick::ScaleDeployment {
            cluster_id: "c1".into(),
            namespace: "shop".into(),
            deployment: "ledger".into(),
            replicas: 2
        })
    );
    // It costs one more pod.
    let pod = 730.0 * (0.1 * 0.03 + 0.125 * 0.004);
    assert!((s.monthly_savings + pod).abs() < 1e-9);

    // With a PDB, or two replicas: nothing. Unknown PDB: said so.
    let with_pdb = WorkloadProfile {
        has_pdb: Some(true),
        ..lone.clone()
    };
    let two = WorkloadProfile {
        replicas: 2,
        ..lone.clone()
    };
    assert!(suggestions(&[with_pdb, two], &[], &prices(), &cfg).is_empty());
    let unknown = WorkloadProfile {
        has_pdb: None,
        ..lone.clone()
    };
    let s = suggestions(&[unknown], &[], &prices(), &cfg);
    assert!(s[0].summary.contains("no PodDisruptionBudget is known"));
    assert!(s[0].caveats.iter().any(|c| c.contains("not collected")));
    // An HPA owns the count: patch its minimum, no one-click.
    let hpa = WorkloadProfile {
        has_hpa: true,
        ..lone
    };
    let s = suggestions(&[hpa], &[], &prices(), &cfg);
    assert!(s[0].commands[0].contains("patch hpa ledger"));
    assert!(!s[0].safe_one_click && s[0].action.is_none());
}

#[test]
fn idle_pools_shrink_to_what_holds_their_load() {
    let cfg = SuggestionConfig::default();
    let pool = PoolProfile {
        cluster_id: "c1".into(),
        pool: "general".into(),
        nodes: 6,
        min_count: 1,
        cpu_cores_per_node: 4.0,
        memory_bytes_per_node: 16.0 * GIB,
        requested_cpu_cores: Some(5.0),
        requested_memory_bytes: Some(10.0 * GIB),
        p95_cpu_cores: Some(2.0),
        p95_memory_bytes: Some(12.0 * GIB),
        node_hourly_cost: 0.192,
    };
    let s = suggestions(&[], std::slice::from_ref(&pool), &prices(), &cfg);
    assert_eq!(s.len(), 1);
    // CPU: 5 / (4 × 0.7) → 2 nodes; memory: 12 / (16 × 0.7) → 2 nodes.
    assert_eq!(
        s[0].commands,
        ["cloudops nodepool scale --cluster c1 --pool general --count 2"]
    );
    assert!((s[0].monthly_savings - 4.0 * 0.192 * 730.0).abs() < 1e-9);
    assert!(s[0].safe_one_click);
    // A busy pool, a pool at its minimum, or bad data: nothing.
    let busy = PoolProfile {
        requested_cpu_cores: Some(16.0),
        ..pool.clone()
    };
    let at_min = PoolProfile {
        min_count: 6,
        ..pool.clone()
    };
    let bad = PoolProfile {
        cpu_cores_per_node: f64::NAN,
        ..pool.clone()
    };
    let empty = PoolProfile {
        nodes: 0,
        ..pool.clone()
    };
    assert!(suggestions(&[], &[busy, at_min, bad, empty], &prices(), &cfg).is_empty());
    // Usage only, requests unknown: suggested, but not one-click.
    let blind = PoolProfile {
        requested_cpu_cores: None,
        requested_memory_bytes: None,
        ..pool
    };
    let s = suggestions(&[], &[blind], &prices(), &cfg);
    assert_eq!(s.len(), 1);
    assert!(!s[0].safe_one_click);
}

#[test]
fn unit_prices_come_from_the_nodes_and_suggestions_sort_by_savings() {
    let nodes = [NodeCost {
        name: "n".into(),
        pool: None,
        cpu_cores: 4.0,
        memory_bytes: 16.0 * GIB,
        cost: 0.2 * 24.0,
    }];
    let p = UnitPrices::from_nodes(&nodes, CostSplit::Fixed { cpu_fraction: 0.5 }, 24.0).unwrap();
    assert!((p.cpu_core_hour - 0.025).abs() < 1e-12);
    assert!((p.memory_gib_hour - 0.00625).abs() < 1e-12);
    assert!(UnitPrices::from_nodes(&[], CostSplit::Reference, 24.0).is_none());
    assert!(UnitPrices::from_nodes(&nodes, CostSplit::Reference, 0.0).is_none());

    let mut lone = workload("lone", 1);
    lone.has_pdb = Some(false);
    let big = workload("big", 10);
    let s = suggestions(&[lone, big], &[], &prices(), &SuggestionConfig::default());
    let order: Vec<(&str, SuggestionKind)> =
        s.iter().map(|s| (s.target.as_str(), s.kind)).collect();
    assert_eq!(
        order,
        [
            ("shop/big", SuggestionKind::RightSizeRequests),
            ("shop/lone", SuggestionKind::RightSizeRequests),
            ("shop/lone", SuggestionKind::SingleReplicaNoPdb),
        ]
    );
}
