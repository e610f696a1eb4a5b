use super::*;

fn nodes(count: usize, cpu: f64) -> Vec<NodeCapacity> {
    (0..count)
        .map(|i| NodeCapacity {
            name: format!("n{i}"),
            ready: true,
            allocatable_cpu: cpu,
            allocatable_memory: 16e9,
            allocatable_pods: 110,
            ..Default::default()
        })
        .collect()
}

/// A cluster running checkout with `replicas`, nodes with `room` pods of
/// room in all (1-core pods on 1-core nodes).
fn facts(id: &str, provider: &str, region: &str, health: Option<f64>, room: usize) -> ClusterFacts {
    ClusterFacts {
        workload: Some(WorkloadRef {
            cluster_id: id.into(),
            namespace: "shop".into(),
            deployment: "checkout".into(),
        }),
        cluster_id: id.into(),
        provider: provider.into(),
        region: region.into(),
        health,
        replicas: 3,
        ready: 3,
        hpa: None,
        pod: PodShape {
            cpu: 1.0,
            memory: 1e9,
            ..Default::default()
        },
        nodes: nodes(room, 1.0),
        node_hourly_price: None,
        unreachable: None,
        denied: Vec::new(),
    }
}

fn source() -> ClusterFacts {
    facts("aws/1/us-east-1/a", "aws", "us-east-1", Some(40.0), 0)
}

#[test]
fn groups_are_the_same_deployment_in_two_clusters_plus_user_members() {
    let d = |c: &str, ns: &str, n: &str| (c.to_owned(), ns.to_owned(), n.to_owned());
    let cached = vec![
        d("a", "shop", "checkout"),
        d("b", "shop", "checkout"),
        d("a", "shop", "cart"),
        d("c", "shop", "checkout"),
    ];
    let user = vec![(
        "shop/cart".to_owned(),
        WorkloadRef {
            cluster_id: "d".into(),
            namespace: "shop-eu".into(),
            deployment: "cart-v2".into(),
        },
    )];
    let groups = detect_groups(&cached, &user);
    let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["shop/cart", "shop/checkout"]);
    let cart = &groups[0];
    assert_eq!(cart.members.len(), 2);
    assert_eq!(cart.members[1].workload.deployment, "cart-v2");
    assert_eq!(cart.members[1].origin, "user");
    let clusters: Vec<&str> = groups[1]
        .members
        .iter()
        .map(|m| m.workload.cluster_id.as_str())
        .collect();
    assert_eq!(clusters, ["a", "b", "c"]);
    // A deployment alone in one cluster is no group.
    assert!(detect_groups(&cached[2..3], &[]).is_empty());
}

#[test]
fn group_keys_parse_strictly() {
    assert_eq!(parse_group_key("shop/checkout"), Some(("shop", "checkout")));
    for bad in ["shop", "/checkout", "shop/", "a/b/c", ""] {
        assert_eq!(parse_group_key(bad), None, "{bad}");
    }
}

/// Each row: candidates, the expected winner, a phrase its reasons must
/// hold.
#[test]
fn ranking_table() {
    let healthy_gcp = facts(
        "gcp/p/europe-west1/g",
        "gcp",
        "europe-west1",
        Some(90.0),
        10,
    );
    let healthy_aws_other_region = facts("aws/1/eu-west-1/b", "aws", "eu-west-1", Some(95.0), 10);
    let healthy_aws_same_region = facts("aws/1/us-east-1/c", "aws", "us-east-1", Some(99.0), 10);
    let full_gcp = facts(
        "gcp/p/us-central1/full",
        "gcp",
        "us-central1",
        Some(99.0),
        1,
    );
    let sick_azure = facts(
        "azure/s/westeurope/sick",
        "azure",
        "westeurope",
        Some(20.0),
        10,
    );
    let unknown_do = facts("do/t/nyc1/u", "do", "nyc1", None, 10);
    let mut cheap_gcp = facts("gcp/p/us-east1/cheap", "gcp", "us-east1", Some(90.0), 10);
    cheap_gcp.node_hourly_price = Some(0.05);
    let mut dear_gcp = healthy_gcp.clone();
    dear_gcp.node_hourly_price = Some(0.10);

    let table: Vec<(Vec<ClusterFacts>, &str, &str)> = vec![
        // Another cloud beats another region, which beats the same region,
        // even with a lower health score.
        (
            vec![
                healthy_aws_same_region.clone(),
                healthy_aws_other_region.clone(),
                healthy_gcp.clone(),
            ],
            "gcp/p/europe-west1/g",
            "another cloud (gcp) than the source (aws)",
        ),
        (
            vec![
                healthy_aws_same_region.clone(),
                healthy_aws_other_region.clone(),
            ],
            "aws/1/eu-west-1/b",
            "less independent of the source",
        ),
        // Fit comes first: a healthier cluster without room loses.
        (
            vec![full_gcp.clone(), healthy_gcp.clone()],
            "gcp/p/europe-west1/g",
            "has room for only 1 of the pods",
        ),
        // Health below the threshold loses to an unknown score.
        (
            vec![sick_azure.clone(), unknown_do.clone()],
            "do/t/nyc1/u",
            "health is 20 (threshold 50)",
        ),
        // Between equals, the health score, then cost.
        (
            vec![
                facts("gcp/p/x/g1", "gcp", "x", Some(70.0), 10),
                facts("gcp/p/x/g2", "gcp", "x", Some(80.0), 10),
            ],
            "gcp/p/x/g2",
            "health is lower (70)",
        ),
        (
            vec![dear_gcp.clone(), cheap_gcp.clone()],
            "gcp/p/us-east1/cheap",
            "costs more per pod",
        ),
    ];
    for (i, (cands, want, phrase)) in table.into_iter().enumerate() {
        let p = plan_failover("shop/checkout", &source(), &cands, None, 0).unwrap();
        assert_eq!(p.target.cluster_id, want, "row {i}: {:?}", p.why);
        assert_eq!(p.candidates[0].cluster_id, want, "row {i}");
        assert_eq!(p.candidates.len(), cands.len(), "row {i}");
        assert!(
            p.why.iter().any(|w| w.contains(phrase)),
            "row {i}: {phrase:?} not in {:?}",
            p.why
        );
    }
}

#[test]
fn the_plan_moves_the_replicas_raises_the_hpa_and_sets_the_invariant() {
    let mut src = source();
    src.hpa = Some(HpaBounds { min: 3, max: 10 });
    let mut dst = facts(
        "gcp/p/europe-west1/g",
        "gcp",
        "europe-west1",
        Some(90.0),
        10,
    );
    dst.hpa = Some(HpaBounds { min: 3, max: 5 });
    dst.ready = 2;
    let p = plan_failover("shop/checkout", &src, &[dst], None, 0).unwrap();
    assert_eq!(p.refusal, None);
    assert_eq!(p.replicas_to_move, 3);
    assert_eq!((p.target_replicas, p.target_after), (3, 6));
    assert_eq!(p.baseline_ready, 5);
    assert_eq!(p.wait_for_ready, 5);
    assert_eq!(
        p.target_hpa,
        Some(HpaChange {
            before: HpaBounds { min: 3, max: 5 },
            after: HpaBounds { min: 6, max: 6 },
        })
    );
    assert_eq!(
        p.source_hpa.map(|h| h.after),
        Some(HpaBounds { min: 1, max: 10 })
    );
    assert!(p.crosses_cloud);
    assert_eq!(p.typed_confirmation.as_deref(), Some("checkout"));
    assert!((p.fit.wanted, p.fit.fits) == (3, true));

    // A floor keeps replicas in the source, moves fewer, and a same-cloud
    // move that keeps capacity needs only a yes.
    let dst = facts("aws/1/eu-west-1/b", "aws", "eu-west-1", Some(90.0), 10);
    let p = plan_failover("shop/checkout", &source(), &[dst], None, 1).unwrap();
    assert_eq!(
        (p.replicas_to_move, p.target_after, p.source_floor),
        (2, 5, 1)
    );
    assert_eq!(p.wait_for_ready, 5);
    assert_eq!(p.typed_confirmation, None);
    assert!(!p.crosses_cloud);
}

#[test]
fn refusals_say_why() {
    let full = facts("gcp/p/x/full", "gcp", "x", Some(90.0), 2);
    let p = plan_failover("shop/checkout", &source(), &[full], None, 0).unwrap();
    let r = p.refusal.expect("refused");
    assert!(r.contains("cannot hold the load"), "{r}");
    assert!(r.contains("gcp/p/x/full"), "{r}");

    let sick = facts("gcp/p/x/sick", "gcp", "x", Some(49.0), 10);
    let p = plan_failover("shop/checkout", &source(), &[sick], None, 0).unwrap();
    let r = p.refusal.expect("refused");
    assert!(
        r.contains("unhealthy") && r.contains("49 is below 50"),
        "{r}"
    );
    assert_eq!(p.candidates[0].refused.as_deref(), Some("unhealthy (49)"));

    // Named, the target is used even when another ranks higher, and still
    // refused if it cannot hold the load.
    let good = facts("gcp/p/x/good", "gcp", "x", Some(90.0), 10);
    let small = facts("azure/s/y/small", "azure", "y", Some(99.0), 1);
    let p = plan_failover(
        "shop/checkout",
        &source(),
        &[good, small],
        Some("azure/s/y/small"),
        0,
    )
    .unwrap();
    assert_eq!(p.target.cluster_id, "azure/s/y/small");
    assert!(p.why[0].contains("named with --to"));
    assert!(p.refusal.is_some());
}

#[test]
fn errors_for_impossible_requests() {
    let g = facts("gcp/p/x/g", "gcp", "x", Some(90.0), 10);
    let e = plan_failover("shop/checkout", &source(), &[], None, 0).unwrap_err();
    assert_eq!(e.kind(), "no_candidate");
    let e = plan_failover(
        "shop/checkout",
        &source(),
        std::slice::from_ref(&g),
        Some("nope"),
        0,
    )
    .unwrap_err();
    assert_eq!(e.kind(), "not_in_group");
    let e = plan_failover(
        "shop/checkout",
        &source(),
        std::slice::from_ref(&g),
        Some("aws/1/us-east-1/a"),
        0,
    )
    .unwrap_err();
    assert!(matches!(e, FailoverPlanError::TargetIsSource { .. }));
    for floor in [-1, 4] {
        let e = plan_failover(
            "shop/checkout",
            &source(),
            std::slice::from_ref(&g),
            None,
            floor,
        )
        .unwrap_err();
        assert!(matches!(e, FailoverPlanError::BadFloor { .. }), "{floor}");
    }
}

#[test]
fn cost_delta_when_both_prices_are_known_else_a_note() {
    let g = facts("gcp/p/x/g", "gcp", "x", Some(90.0), 10);
    let p = plan_failover(
        "shop/checkout",
        &source(),
        std::slice::from_ref(&g),
        None,
        0,
    )
    .unwrap();
    assert_eq!(p.cost.hourly, None);
    assert!(p.cost.note.as_deref().unwrap().contains("omitted"));

    // 1-core pods on 1-core nodes: a pod costs a node. Source 0.20/h,
    // target 0.08/h: 3 pods move, 3 × (0.08 − 0.20) = −0.36/h.
    let mut src = source();
    src.nodes = nodes(1, 1.0);
    src.node_hourly_price = Some(0.20);
    let mut dst = g;
    dst.node_hourly_price = Some(0.08);
    let p = plan_failover("shop/checkout", &src, &[dst], None, 0).unwrap();
    let delta = p.cost.hourly.unwrap();
    assert!((delta + 0.36).abs() < 1e-9, "{delta}");
    assert_eq!(p.cost.note, None);
}

fn checkout_in(id: &str) -> WorkloadRef {
    WorkloadRef {
        cluster_id: id.into(),
        namespace: "shop".into(),
        deployment: "checkout".into(),
    }
}

#[test]
fn an_unreachable_named_target_is_refused_with_its_region_in_the_hint() {
    let gke = ClusterFacts::unreachable(
        checkout_in("gcp/p/us-central1/b"),
        "gcp",
        "us-central1",
        "no answer within 5 s",
    );
    let plan = plan_failover(
        "shop/checkout",
        &source(),
        &[gke],
        Some("gcp/p/us-central1/b"),
        0,
    )
    .unwrap();
    let refusal = plan.refusal.unwrap();
    assert!(refusal.contains("gcp/p/us-central1/b"), "{refusal}");
    assert!(refusal.contains("no answer within 5 s"), "{refusal}");
    let hint = plan.refusal_hint.unwrap();
    assert!(
        hint.contains("the GKE region us-central1 does not answer"),
        "{hint}"
    );
}

#[test]
fn ranking_puts_an_unreachable_or_forbidden_candidate_last_with_the_reason() {
    let down = ClusterFacts::unreachable(
        checkout_in("aaa"),
        "gcp",
        "us-central1",
        "connection refused",
    );
    let mut denied = facts("bbb", "azure", "westeurope", Some(99.0), 10);
    denied.denied.push(AccessDenied {
        verb: "patch".into(),
        resource: "deployments/scale".into(),
        group: "apps".into(),
        namespace: "shop".into(),
        reason: None,
    });
    let ok = facts("zzz", "aws", "us-west-2", Some(60.0), 10);
    let plan = plan_failover("shop/checkout", &source(), &[down, denied, ok], None, 0).unwrap();
    assert_eq!(plan.target.cluster_id, "zzz");
    assert_eq!(plan.refusal, None);
    let refused: Vec<_> = plan
        .candidates
        .iter()
        .map(|c| (c.cluster_id.as_str(), c.refused.clone()))
        .collect();
    assert_eq!(refused[0], ("zzz", None));
    assert!(refused
        .iter()
        .any(|(id, r)| *id == "aaa" && r.as_deref() == Some("unreachable: connection refused")));
    assert!(refused.iter().any(|(id, r)| *id == "bbb"
        && r.as_deref() == Some("forbidden: patch deployments/scale (apps) in namespace shop")));
    assert!(
        plan.why.iter().any(|w| w.contains("aaa is unreachable")),
        "{:?}",
        plan.why
    );
}

#[test]
fn a_source_that_forbids_the_drain_refuses_the_plan_with_a_role_hint() {
    let mut src = facts("aws/1/us-east-1/a", "aws", "us-east-1", Some(90.0), 0);
    src.denied.push(AccessDenied {
        verb: "patch".into(),
        resource: "deployments/scale".into(),
        group: "apps".into(),
        namespace: "shop".into(),
        reason: None,
    });
    let dst = facts("gcp/p/us-central1/b", "gcp", "us-central1", Some(90.0), 10);
    let plan = plan_failover("shop/checkout", &src, &[dst], None, 0).unwrap();
    let refusal = plan.refusal.unwrap();
    assert!(
        refusal.starts_with("the source aws/1/us-east-1/a forbids"),
        "{refusal}"
    );
    assert!(plan.refusal_hint.unwrap().contains("RBAC Role"));
}
