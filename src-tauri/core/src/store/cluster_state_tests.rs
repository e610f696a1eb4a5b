use std::collections::BTreeMap;

use super::*;

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    (dir, store)
}

fn workload(ns: &str, name: &str, app: &str) -> WorkloadState {
    WorkloadState {
        namespace: ns.into(),
        kind: "Deployment".into(),
        name: name.into(),
        replicas: 3,
        ready: 2,
        updated: 3,
        available: 2,
        labels: BTreeMap::from([("app".to_string(), app.to_string())]),
        images: vec![format!("registry.example/{name}:1.0")],
        revision: Some("4".into()),
        hpa: Some(HpaSummary {
            name: name.into(),
            min_replicas: 2,
            max_replicas: 10,
            current_replicas: Some(3),
            desired_replicas: Some(3),
            metrics: vec![HpaMetricState {
                name: "cpu".into(),
                target: "70%".into(),
                current: Some("55%".into()),
            }],
        }),
        cpu_cores: Some(0.75),
        memory_bytes: None,
        requests_cpu_cores: Some(0.25),
        requests_memory_bytes: Some(256.0 * 1024.0 * 1024.0),
        ..Default::default()
    }
}

fn event(name: &str, reason: &str, count: i64, first: i64, last: i64) -> EventState {
    EventState {
        namespace: "shop".into(),
        involved_kind: "Pod".into(),
        involved_name: name.into(),
        reason: reason.into(),
        type_: "Warning".into(),
        message: format!("{reason} at {last}"),
        count,
        first_seen: Some(first),
        last_seen: Some(last),
    }
}

#[test]
fn a_snapshot_replaces_the_previous_one_and_missing_parts_are_kept() {
    let (_dir, mut store) = open();
    let nodes = vec![NodeState {
        name: "node-a".into(),
        pool: Some("general".into()),
        allocatable_cpu_cores: 3.92,
        allocatable_memory_bytes: 15e9,
        ready: true,
        conditions: vec![NodeConditionState {
            type_: "Ready".into(),
            status: "True".into(),
            reason: Some("KubeletReady".into()),
            message: None,
        }],
        kubelet_version: Some("v1.31.4-eks-a737599".into()),
    }];
    let endpoint = EndpointState {
        server_version: Some("v1.31.4-eks-a737599".into()),
        tls: true,
        cert_not_after: Some(1_900_000_000),
        cert_subject: Some("CN=kube-apiserver".into()),
    };
    let first = ClusterState {
        nodes: Some(nodes.clone()),
        workloads: Some(vec![
            workload("shop", "checkout", "checkout"),
            workload("shop", "cart", "cart"),
        ]),
        events: Some(vec![event("checkout-1", "BackOff", 3, 100, 200)]),
        endpoint: Some(endpoint.clone()),
    };
    assert_eq!(store.cluster_endpoint("c1").unwrap(), None);
    store.apply_cluster_state("c1", &first, 1_000).unwrap();
    assert_eq!(
        store.cluster_endpoint("c1").unwrap(),
        Some((endpoint.clone(), 1_000))
    );
    assert_eq!(store.cluster_nodes("c1").unwrap(), nodes);
    let page = store.workloads(&WorkloadQuery::default()).unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.rows[0].name, "cart");
    assert_eq!(page.rows[1].hpa, workload("", "checkout", "").hpa);
    assert_eq!(page.rows[1].cpu, Some(0.75));
    assert_eq!(page.rows[1].memory, None);
    // The per-pod requests survive the cache (V12).
    assert_eq!(page.rows[1].requests_cpu_cores, Some(0.25));
    assert_eq!(
        page.rows[1].requests_memory_bytes,
        Some(256.0 * 1024.0 * 1024.0)
    );
    assert_eq!(page.rows[1].collected_at, 1_000);

    // Workloads collected again (one deleted); nodes and events not
    // collected this time: they keep their previous snapshot.
    let second = ClusterState {
        nodes: None,
        workloads: Some(vec![workload("shop", "checkout", "checkout")]),
        events: None,
        endpoint: None,
    };
    store.apply_cluster_state("c1", &second, 2_000).unwrap();
    let page = store.workloads(&WorkloadQuery::default()).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].collected_at, 2_000);
    assert_eq!(store.cluster_nodes("c1").unwrap(), nodes);
    assert_eq!(store.cluster_events("c1").unwrap().len(), 1);
    assert_eq!(
        store.cluster_endpoint("c1").unwrap(),
        Some((endpoint, 1_000)),
        "an endpoint not collected keeps its last reading"
    );
    assert_eq!(store.workloads_collected_at("c1").unwrap(), Some(2_000));
    assert_eq!(store.workloads_collected_at("c2").unwrap(), None);
}

#[test]
fn events_with_the_same_object_and_reason_fold_into_one() {
    let (_dir, mut store) = open();
    let state = ClusterState {
        events: Some(vec![
            event("checkout-1", "BackOff", 3, 100, 200),
            event("checkout-1", "BackOff", 2, 50, 300),
            event("checkout-1", "Unhealthy", 1, 120, 120),
        ]),
        ..Default::default()
    };
    store.apply_cluster_state("c1", &state, 1_000).unwrap();
    let events = store.cluster_events("c1").unwrap();
    assert_eq!(events.len(), 2);
    let backoff = events.iter().find(|e| e.reason == "BackOff").unwrap();
    assert_eq!(
        (backoff.count, backoff.first_seen, backoff.last_seen),
        (5, Some(50), Some(300))
    );
    assert_eq!(backoff.message, "BackOff at 300");
}

#[test]
fn a_failed_collection_keeps_the_last_success_and_is_stale() {
    let (_dir, mut store) = open();
    let rec = |at, error: Option<&str>| CollectionRecord {
        cluster_id: "c1".into(),
        collector: "workloads".into(),
        attempted_at: at,
        error: error.map(str::to_owned),
        hint: error.map(|_| "check the network".to_owned()),
    };
    store.record_collection(&rec(100, None)).unwrap();
    let f = store.cluster_freshness("c1").unwrap();
    assert_eq!((f[0].succeeded_at, f[0].stale), (Some(100), false));
    store
        .record_collection(&rec(200, Some("timed out")))
        .unwrap();
    let f = store.cluster_freshness("c1").unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].attempted_at, 200);
    assert_eq!(f[0].succeeded_at, Some(100));
    assert!(f[0].stale);
    assert_eq!(f[0].error.as_deref(), Some("timed out"));
    store.record_collection(&rec(300, None)).unwrap();
    let f = store.cluster_freshness("c1").unwrap();
    assert_eq!(
        (f[0].succeeded_at, f[0].stale, f[0].error.clone()),
        (Some(300), false, None)
    );
    assert!(store.cluster_freshness("c2").unwrap().is_empty());
}

#[test]
fn thirty_thousand_workloads_page_filter_and_search_through_indexes() {
    let (_dir, mut store) = open();
    for c in 0..3 {
        let workloads: Vec<WorkloadState> = (0..10_000)
            .map(|i| {
                let name = if i == 4_242 {
                    "checkout".to_string()
                } else {
                    format!("svc-{i:05}")
                };
                workload(&format!("ns-{}", i % 50), &name, &format!("team-{}", i % 7))
            })
            .collect();
        store
            .apply_cluster_state(
                &format!("aws/acct/eu-west-1/c{c}"),
                &ClusterState {
                    workloads: Some(workloads),
                    ..Default::default()
                },
                1_000,
            )
            .unwrap();
    }
    let all = store.workloads(&WorkloadQuery::default()).unwrap();
    assert_eq!(all.total, 30_000);
    assert_eq!(all.rows.len() as u32, DEFAULT_WORKLOAD_PAGE);

    let q = WorkloadQuery {
        cluster: Some("aws/acct/eu-west-1/c1".into()),
        namespace: Some("ns-7".into()),
        offset: 10,
        limit: 50,
        ..Default::default()
    };
    let page = store.workloads(&q).unwrap();
    assert_eq!(page.total, 200);
    assert_eq!(page.rows.len(), 50);
    assert!(page
        .rows
        .iter()
        .all(|r| r.cluster.ends_with("c1") && r.namespace == "ns-7"));
    let names: Vec<_> = page.rows.iter().map(|r| r.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    let found = store
        .workloads(&WorkloadQuery {
            search: Some("CheckOut".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.total, 3);
    // By label, and a LIKE wildcard taken literally.
    let by_label = store
        .workloads(&WorkloadQuery {
            search: Some("app=team-3".into()),
            cluster: Some("aws/acct/eu-west-1/c0".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        by_label.total,
        (0..10_000).filter(|i| i % 7 == 3).count() as u64
    );
    let literal = store
        .workloads(&WorkloadQuery {
            search: Some("svc_0".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(literal.total, 0);

    // The list order and the filters are index lookups, not table scans
    // followed by a sort.
    let plan = |sql: &str| -> String {
        let mut stmt = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    };
    let p = plan(
        "SELECT name FROM cluster_workloads WHERE cluster_id = 'x' AND namespace = 'y' \
         ORDER BY cluster_id, namespace, name, kind LIMIT 10",
    );
    assert!(p.contains("SEARCH") && !p.contains("TEMP B-TREE"), "{p}");
    let p = plan("SELECT name FROM cluster_workloads WHERE namespace = 'y'");
    assert!(p.contains("cluster_workloads_by_namespace"), "{p}");
    let p = plan(
        "SELECT name FROM cluster_workloads ORDER BY cluster_id, namespace, name, kind LIMIT 10",
    );
    assert!(!p.contains("TEMP B-TREE"), "{p}");
}
