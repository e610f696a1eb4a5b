//! The collectors against the sandbox: every cluster of every cloud,
//! discovered and connected through its own provider, yields node, pod and
//! disk samples, its workloads, and finds its Prometheus.

use std::{collections::BTreeSet, net::SocketAddr, sync::Arc, time::Duration};

use cloudops_cloud::{
    ambient::{self, Shared},
    collect::{
        fleet::{collect_fleet, targets},
        CollectSettings,
    },
    discovery::{discover_all, Limits},
    resilience::{Breakers, CallPolicy},
};
use cloudops_core::metrics::names;
use cloudops_sandbox::{Sandbox, World};

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
