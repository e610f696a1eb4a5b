//! The collectors against the sandbox: every cluster of every cloud,
//! discovered and connected through its own provider, yields node, pod and
//! disk samples, its workloads, and finds its Prometheus.

use std::{collections::BTreeSet, net::SocketAddr, sync::Arc, time::Duration};

use cloudops_cloud::{
    access::ClusterAccess,
    ambient::{self, Shared},
    collect::{
        collect_cluster,
        fleet::{collect_fleet, targets},
        CollectSettings,
    },
    discovery::{discover_all, Limits},
    providers::{AccessToken, ClusterConnection, RefreshingToken, StaticToken},
    resilience::{Breakers, CallPolicy},
};
use cloudops_core::{
    analysis::{
        cost_allocation::{allocate, CostSplit, NodeCost, WorkloadDemand},
        versions::parse_minor,
    },
    metrics::names,
    store::{ClusterState, WorkloadQuery},
    Store,
};
use cloudops_sandbox::{kube::k8s_token, Sandbox, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sandbox_cluster_yields_nodes_pods_disk_workloads_and_a_prometheus() {
    let world = World::generate_with(7, 8);
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let vars = sandbox.env_map();
    let shared = Shared::new(CallPolicy::default()).unwrap();
    let ambient = ambient::from_env(&|k: &str| vars.get(k).cloned(), &shared).await;
    assert!(ambient.errors.is_empty(), "{:?}", ambient.errors);
    let report = discover_all(&ambient.providers, &Limits::default(), |_| {}).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let targets = targets(&ambient.providers, &report.clusters);
    // Every discovered cluster is a target, and all four clouds are in.
    assert_eq!(targets.len(), report.clusters.len());
    let clouds: BTreeSet<_> = targets.iter().map(|t| t.cluster.provider).collect();
    assert_eq!(clouds.len(), 4, "{clouds:?}");

    let settings = CollectSettings::default();
    let breakers = Breakers::new(5, Duration::from_secs(30));
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = done.clone();
    let results = collect_fleet(&targets, &settings, &breakers, 1_000, move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })
    .await;
    assert_eq!(results.len(), targets.len());
    assert_eq!(
        done.load(std::sync::atomic::Ordering::SeqCst),
        targets.len()
    );

    let mut locations = BTreeSet::new();
    for (c, t) in results.iter().zip(&targets) {
        assert_eq!(c.cluster_id, t.cluster_id);
        let problems: Vec<_> = c.problems().collect();
        assert!(problems.is_empty(), "{}: {problems:?}", c.cluster_id);
        let metrics: BTreeSet<&str> = c
            .batch
            .samples
            .iter()
            .map(|s| s.series.metric.as_str())
            .collect();
        for want in [
            names::NODE_CPU_CORES,
            names::NODE_CPU_ALLOCATABLE_CORES,
            names::NODE_MEMORY_BYTES,
            names::NODE_MEMORY_ALLOCATABLE_BYTES,
            names::NODE_DISK_USED_BYTES,
            names::NODE_DISK_CAPACITY_BYTES,
            names::POD_CPU_CORES,
            names::POD_MEMORY_BYTES,
            names::SERVICE_REQUESTS_INCREASE,
            names::SERVICE_ERRORS_INCREASE,
            names::SERVICE_LATENCY_BUCKET_INCREASE,
        ] {
            assert!(
                metrics.contains(want),
                "{}: no {want} in {metrics:?}",
                c.cluster_id
            );
        }
        assert!(c
            .batch
            .samples
            .iter()
            .all(|s| s.series.cluster_id == c.cluster_id));
        let nodes = c.state.nodes.as_ref().unwrap();
        let expected_nodes = t.cluster.node_pools.iter().map(|p| p.count).sum::<u32>();
        assert_eq!(nodes.len() as u32, expected_nodes, "{}", c.cluster_id);
        assert!(nodes
            .iter()
            .all(|n| n.ready && n.allocatable_cpu_cores > 0.0 && n.pool.is_some()));
        // The endpoint collector: the API server's version agrees with the
        // cloud's, the kubelets report theirs, and a plain-http sandbox
        // endpoint has no certificate.
        let endpoint = c.state.endpoint.as_ref().unwrap();
        let server = endpoint.server_version.as_deref().unwrap();
        assert_eq!(
            parse_minor(server),
            t.cluster.version.as_deref().and_then(parse_minor),
            "{}: {server}",
            c.cluster_id
        );
        assert!(!endpoint.tls && endpoint.cert_not_after.is_none());
        assert!(nodes
            .iter()
            .all(|n| n.kubelet_version.as_deref() == Some(server)));
        let disk = c
            .batch
            .samples
            .iter()
            .filter(|s| s.series.metric == names::NODE_DISK_CAPACITY_BYTES)
            .count();
        assert_eq!(
            disk,
            nodes.len(),
            "{}: a disk sample per node",
            c.cluster_id
        );
        let workloads = c.state.workloads.as_ref().unwrap();
        assert!(!workloads.is_empty());
        assert!(
            workloads
                .iter()
                .any(|w| w.cpu_cores.is_some_and(|v| v > 0.0)),
            "{}: no workload usage",
            c.cluster_id
        );
        // The sandbox's deployments all state requests (generate.rs), so
        // every workload carries a positive per-pod request.
        for w in workloads {
            assert!(
                w.requests_cpu_cores.is_some_and(|v| v > 0.0)
                    && w.requests_memory_bytes
                        .is_some_and(|v| v >= 1024.0 * 1024.0),
                "{}: {}/{} requests {:?} {:?}",
                c.cluster_id,
                w.namespace,
                w.name,
                w.requests_cpu_cores,
                w.requests_memory_bytes
            );
        }
        // Allocation on what was collected (issue 7 acceptance): a dollar
        // per node, split by max(request, usage); the namespaces and the
        // explicit idle line add up to the node cost.
        let node_costs: Vec<NodeCost> =
            nodes.iter().map(|n| NodeCost::from_state(n, 1.0)).collect();
        let demands: Vec<WorkloadDemand> =
            workloads.iter().map(WorkloadDemand::from_state).collect();
        let a = allocate(&node_costs, &demands, CostSplit::Reference).unwrap();
        let shares: f64 = a.namespaces.iter().map(|n| n.cost).sum();
        assert!(
            (shares + a.idle.cost - nodes.len() as f64).abs() < 1e-9,
            "{}: {shares} + {} != {}",
            c.cluster_id,
            a.idle.cost,
            nodes.len()
        );
        // The sandbox fills about half the cluster with requests.
        assert!(a.idle.cost > 0.0 && shares > 0.0, "{}: {a:?}", c.cluster_id);
        assert!(a.warnings.is_empty(), "{}: {:?}", c.cluster_id, a.warnings);
        assert!(
            workloads.iter().any(|w| w.hpa.is_some()),
            "{}: no HPA",
            c.cluster_id
        );
        assert!(c.state.events.is_some());
        // RED: ten one-minute steps per service, buckets cumulative in `le`
        // and the +Inf bucket equal to the requests of the step.
        let requests: Vec<_> = c
            .batch
            .samples
            .iter()
            .filter(|s| s.series.metric == names::SERVICE_REQUESTS_INCREASE)
            .collect();
        let services: BTreeSet<&str> = requests
            .iter()
            .map(|s| s.series.labels["service"].as_str())
            .collect();
        assert!(!services.is_empty());
        assert_eq!(requests.len(), services.len() * 11, "{}", c.cluster_id);
        let r = requests[requests.len() / 2];
        let bucket = |le: &str| {
            c.batch
                .samples
                .iter()
                .find(|s| {
                    s.series.metric == names::SERVICE_LATENCY_BUCKET_INCREASE
                        && s.series.labels["service"] == r.series.labels["service"]
                        && s.series.labels["le"] == le
                        && s.ts == r.ts
                })
                .map(|s| s.value)
                .unwrap_or_else(|| panic!("no le={le} bucket"))
        };
        assert!(bucket("0.1") <= bucket("1") && bucket("1") <= bucket("+Inf"));
        assert!(
            (bucket("+Inf") - r.value).abs() <= r.value * 1e-9 + 1e-9,
            "{} vs {}",
            bucket("+Inf"),
            r.value
        );
        locations.insert(
            c.prometheus
                .clone()
                .unwrap_or_else(|| panic!("{}: no Prometheus", c.cluster_id)),
        );
    }
    // The sandbox installs Prometheus differently per cloud; detection
    // finds each layout.
    assert_eq!(locations.len(), 3, "{locations:?}");
}

pub(crate) fn sandbox_access(
    sandbox: &cloudops_sandbox::RunningSandbox,
    cluster_id: &str,
) -> ClusterAccess {
    ClusterAccess::new(ClusterConnection {
        endpoint: format!("{}/k8s/{cluster_id}", sandbox.base_url()),
        ca_pem: None,
        tokens: Arc::new(RefreshingToken::new(
            Arc::new(StaticToken(AccessToken::new(k8s_token(cluster_id), None))),
            Duration::ZERO,
        )),
        identity_pem: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_give_the_same_state_as_one_page() {
    let world = World::generate(9);
    let id = world.read().clusters[0].id.clone();
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let access = sandbox_access(&sandbox, &id);
    let breakers = Breakers::new(5, Duration::from_secs(30));
    let big = collect_cluster(
        "do/x/r/c",
        &access,
        &CollectSettings::default(),
        &breakers,
        1,
    )
    .await;
    let small_settings = CollectSettings {
        page_size: 2,
        ..CollectSettings::default()
    };
    let small = collect_cluster("do/x/r/c", &access, &small_settings, &breakers, 1).await;
    assert!(big.is_complete() && small.is_complete());
    let names = |c: &cloudops_cloud::collect::ClusterCollection| {
        let mut n: Vec<String> = c
            .state
            .workloads
            .as_ref()
            .unwrap()
            .iter()
            .map(|w| format!("{}/{}", w.namespace, w.name))
            .collect();
        n.sort();
        n
    };
    assert!(
        names(&big).len() > 2,
        "the cluster needs more than one page"
    );
    assert_eq!(names(&big), names(&small));
    assert_eq!(
        big.state.nodes.as_ref().unwrap().len(),
        small.state.nodes.as_ref().unwrap().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_cluster_is_reported_and_keeps_its_last_data_marked_stale() {
    let world = World::generate(10);
    let id = world.read().clusters[0].id.clone();
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let settings = CollectSettings {
        call: CallPolicy {
            timeout: Duration::from_secs(2),
            retries: 0,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        },
        ..CollectSettings::default()
    };
    // A breaker that never opens here: which call of the pass would trip
    // it first is a race, and its kind (`circuit_open`) is tested elsewhere.
    let breakers = Breakers::new(1_000, Duration::from_secs(30));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    let cluster = "gcp/p/europe-west1/c";

    let good = collect_cluster(
        cluster,
        &sandbox_access(&sandbox, &id),
        &settings,
        &breakers,
        100,
    )
    .await;
    assert!(
        good.is_complete(),
        "{:?}",
        good.problems().collect::<Vec<_>>()
    );
    store
        .apply_cluster_state(cluster, &good.state, 100)
        .unwrap();
    for r in good.records(100) {
        store.record_collection(&r).unwrap();
    }
    let before = store.workloads(&WorkloadQuery::default()).unwrap();
    assert!(before.total > 0);

    // The same cluster, now unreachable (nothing listens on the port).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dead = ClusterAccess::new(ClusterConnection {
        endpoint: dead_url,
        ca_pem: None,
        tokens: Arc::new(RefreshingToken::new(
            Arc::new(StaticToken(AccessToken::new("t", None))),
            Duration::ZERO,
        )),
        identity_pem: None,
    });
    let bad = collect_cluster(cluster, &dead, &settings, &breakers, 200).await;
    assert!(!bad.is_complete());
    assert!(bad.batch.samples.is_empty());
    assert_eq!(
        bad.state,
        ClusterState::default(),
        "nothing collected, nothing replaced"
    );
    let kinds: BTreeSet<&str> = bad.problems().map(|p| p.kind.as_str()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["unreachable"]),
        "{:?}",
        bad.problems().collect::<Vec<_>>()
    );
    for p in bad.problems() {
        assert!(!p.hint.is_empty());
    }
    store.apply_cluster_state(cluster, &bad.state, 200).unwrap();
    for r in bad.records(200) {
        store.record_collection(&r).unwrap();
    }
    assert_eq!(store.workloads(&WorkloadQuery::default()).unwrap(), before);
    let fresh = store.cluster_freshness(cluster).unwrap();
    assert!(!fresh.is_empty());
    for f in &fresh {
        assert!(f.stale, "{f:?}");
        assert_eq!((f.attempted_at, f.succeeded_at), (200, Some(100)), "{f:?}");
    }
}
