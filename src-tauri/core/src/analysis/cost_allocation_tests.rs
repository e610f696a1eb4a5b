use super::*;

const GI: f64 = GIB;

fn node(name: &str, cpu: f64, mem_gib: f64, cost: f64) -> NodeCost {
    NodeCost {
        name: name.into(),
        pool: Some("default".into()),
        cpu_cores: cpu,
        memory_bytes: mem_gib * GI,
        cost,
    }
}

fn demand(
    ns: &str,
    name: &str,
    pods: u32,
    req: (Option<f64>, Option<f64>),
    usage: (Option<f64>, Option<f64>),
) -> WorkloadDemand {
    WorkloadDemand {
        namespace: ns.into(),
        name: name.into(),
        kind: "Deployment".into(),
        pods,
        request_cpu_cores_per_pod: req.0,
        request_memory_bytes_per_pod: req.1.map(|g| g * GI),
        usage_cpu_cores: usage.0,
        usage_memory_bytes: usage.1.map(|g| g * GI),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn sums_to_total(a: &Allocation) {
    let lines: f64 = a.workloads.iter().map(|l| l.cost).sum();
    let ns: f64 = a.namespaces.iter().map(|n| n.cost).sum();
    assert!(close(lines + a.idle.cost, a.total_cost), "{a:#?}");
    assert!(close(ns + a.idle.cost, a.total_cost), "{a:#?}");
}

#[test]
fn reference_split_follows_the_unit_prices() {
    let s = CostSplit::Reference;
    let general = s.cpu_fraction(4.0, 16.0 * GI);
    assert!((general - 0.651).abs() < 0.001, "{general}");
    let memory = s.cpu_fraction(4.0, 32.0 * GI);
    assert!((memory - 0.483).abs() < 0.001, "{memory}");
    assert_eq!(
        CostSplit::Fixed { cpu_fraction: 0.7 }.cpu_fraction(4.0, 16.0 * GI),
        0.7
    );
    assert_eq!(
        CostSplit::Fixed { cpu_fraction: 3.0 }.cpu_fraction(1.0, 1.0),
        1.0
    );
    assert_eq!(
        CostSplit::Fixed {
            cpu_fraction: f64::NAN
        }
        .cpu_fraction(1.0, 1.0),
        0.5
    );
    assert_eq!(s.cpu_fraction(0.0, 0.0), 0.5);
}

/// Two 4-core / 16 GiB nodes at $10 each, a fixed 50/50 split: a core
/// costs $10/8 = $1.25 and a GiB $10/32 = $0.3125.
#[test]
fn known_requests_and_usage_split_by_the_larger_of_the_two() {
    let nodes = [node("a", 4.0, 16.0, 10.0), node("b", 4.0, 16.0, 10.0)];
    let workloads = [
        // Requests above usage: charged by the requests (2 × 1 core, 2 × 2 GiB).
        demand(
            "shop",
            "web",
            2,
            (Some(1.0), Some(2.0)),
            (Some(0.5), Some(1.0)),
        ),
        // Usage above requests on CPU, below on memory.
        demand(
            "shop",
            "cart",
            1,
            (Some(0.5), Some(4.0)),
            (Some(1.5), Some(1.0)),
        ),
        // No requests: charged by usage.
        demand("batch", "job", 3, (None, None), (Some(0.5), Some(2.0))),
        // Nothing known: a zero line, not a guess.
        demand("batch", "ghost", 1, (None, None), (None, None)),
    ];
    let a = allocate(&nodes, &workloads, CostSplit::Fixed { cpu_fraction: 0.5 }).unwrap();
    assert!(close(a.total_cost, 20.0));
    let line = |n: &str| a.workloads.iter().find(|l| l.name == n).unwrap();
    let web = line("web");
    assert_eq!(
        (web.cpu_basis, web.memory_basis),
        (Basis::Request, Basis::Request)
    );
    assert!(close(web.cpu_cost, 2.0 * 1.25) && close(web.memory_cost, 4.0 * 0.3125));
    let cart = line("cart");
    assert_eq!(
        (cart.cpu_basis, cart.memory_basis),
        (Basis::Usage, Basis::Request)
    );
    assert!(close(cart.cpu_cost, 1.5 * 1.25) && close(cart.memory_cost, 4.0 * 0.3125));
    let job = line("job");
    assert!(close(job.cpu_cost, 0.5 * 1.25) && close(job.memory_cost, 2.0 * 0.3125));
    let ghost = line("ghost");
    assert_eq!(ghost.cpu_basis, Basis::Unknown);
    assert_eq!(ghost.cost, 0.0);
    // Claimed: 4 cores and 10 GiB of 8 and 32: idle is 4 cores and 22 GiB.
    assert!(close(a.idle.cpu_cores, 4.0) && close(a.idle.memory_bytes, 22.0 * GI));
    assert!(close(a.idle.cost, 4.0 * 1.25 + 22.0 * 0.3125));
    let shop = a.namespaces.iter().find(|n| n.namespace == "shop").unwrap();
    assert!(close(shop.cost, web.cost + cart.cost));
    // Largest first.
    assert_eq!(a.namespaces[0].namespace, "shop");
    assert!(a.workloads.windows(2).all(|w| w[0].cost >= w[1].cost));
    sums_to_total(&a);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

#[test]
fn claims_beyond_capacity_are_scaled_and_idle_is_zero() {
    let nodes = [node("a", 2.0, 8.0, 5.0)];
    let workloads = [
        demand("a", "x", 2, (Some(1.0), Some(1.0)), (Some(3.0), None)),
        demand("b", "y", 1, (Some(1.0), Some(1.0)), (None, None)),
    ];
    let a = allocate(&nodes, &workloads, CostSplit::Reference).unwrap();
    // x uses 3 cores (above its 2 requested), y requests 1: 4 cores
    // claimed on 2 are halved, and idle CPU is gone.
    let x = a.workloads.iter().find(|l| l.name == "x").unwrap();
    assert!(close(x.cpu_cores, 1.5));
    assert!(close(a.idle.cpu_cores, 0.0) && a.idle.cpu_cost < 1e-9);
    assert!(
        a.warnings.iter().any(|w| w.contains("exceed")),
        "{:?}",
        a.warnings
    );
    sums_to_total(&a);
}

#[test]
fn bad_input_is_handled_without_panics() {
    // No nodes, no workloads: nothing, with no NaN anywhere.
    let a = allocate(&[], &[], CostSplit::Reference).unwrap();
    assert_eq!((a.total_cost, a.idle.cost), (0.0, 0.0));
    // Workloads but no nodes: zero lines and a warning.
    let w = [demand("a", "x", 1, (Some(1.0), None), (None, None))];
    let a = allocate(&[], &w, CostSplit::Reference).unwrap();
    assert_eq!(a.workloads[0].cost, 0.0);
    assert!(!a.warnings.is_empty());
    // NaN or negative requests and usage are ignored, with a warning each.
    let nodes = [node("a", 4.0, 16.0, 8.0)];
    let w = [demand(
        "a",
        "x",
        1,
        (Some(f64::NAN), Some(-1.0)),
        (Some(0.5), Some(f64::INFINITY)),
    )];
    let a = allocate(&nodes, &w, CostSplit::Reference).unwrap();
    assert_eq!(a.warnings.len(), 3, "{:?}", a.warnings);
    assert_eq!(a.workloads[0].cpu_basis, Basis::Usage);
    assert_eq!(a.workloads[0].memory_basis, Basis::Unknown);
    assert!(a.workloads[0].cost.is_finite());
    sums_to_total(&a);
    // A node with zero capacity but a cost: all of it idle.
    let a = allocate(&[node("z", 0.0, 0.0, 3.0)], &w, CostSplit::Reference).unwrap();
    assert!(close(a.idle.cost, 3.0));
    sums_to_total(&a);
    // A credit or NaN on a node is an error, not a silent number.
    for bad in [-1.0, f64::NAN] {
        let e = allocate(&[node("n", 4.0, 16.0, bad)], &w, CostSplit::Reference).unwrap_err();
        assert_eq!(e.kind(), "bad_node_cost");
        assert!(!e.hint().is_empty());
    }
}

/// A cluster shaped like a sandbox one (sandbox/src/kube/generate.rs): three
/// m6i.xlarge nodes at their list price for a day, apps whose requests fill
/// about half the cluster and whose usage is 35–65 % of the requests, plus
/// coredns and metrics-server; one app bursts above its CPU request.
#[test]
fn a_sandbox_like_cluster_adds_up_with_explicit_idle() {
    let day = 0.192 * 24.0;
    let nodes: Vec<NodeCost> = (0..3)
        .map(|i| NodeCost {
            name: format!("ip-10-0-0-{i}"),
            pool: Some("general".into()),
            cpu_cores: 3.92,
            memory_bytes: 15.0 * GI,
            cost: day,
        })
        .collect();
    let mi = 1024.0 * 1024.0;
    let mut workloads = Vec::new();
    for (i, (ns, name, pods, cpu_m, mem_mi)) in [
        ("shop", "checkout", 3, 250.0, 512.0),
        ("shop", "cart", 2, 200.0, 256.0),
        ("payments", "ledger", 4, 150.0, 512.0),
        ("payments", "auth", 1, 100.0, 128.0),
        ("kube-system", "coredns", 2, 100.0, 70.0),
        ("kube-system", "metrics-server", 1, 100.0, 200.0),
    ]
    .into_iter()
    .enumerate()
    {
        let load = if name == "auth" {
            1.8
        } else {
            0.35 + 0.06 * i as f64
        };
        let req_cpu = cpu_m / 1000.0;
        let req_mem = mem_mi * mi;
        workloads.push(WorkloadDemand {
            namespace: ns.into(),
            name: name.into(),
            kind: "Deployment".into(),
            pods,
            request_cpu_cores_per_pod: Some(req_cpu),
            request_memory_bytes_per_pod: Some(req_mem),
            usage_cpu_cores: Some(req_cpu * f64::from(pods) * load),
            usage_memory_bytes: Some(req_mem * f64::from(pods) * 0.5),
        });
    }
    let a = allocate(&nodes, &workloads, CostSplit::Reference).unwrap();
    assert!(close(a.total_cost, 3.0 * day));
    sums_to_total(&a);
    assert!(a.idle.cost > 0.0 && a.idle.cpu_cores > 0.0);
    let auth = a.workloads.iter().find(|l| l.name == "auth").unwrap();
    assert_eq!(auth.cpu_basis, Basis::Usage);
    assert!(close(auth.cpu_cores, 0.18));
    let system = a
        .namespaces
        .iter()
        .find(|n| n.namespace == "kube-system")
        .unwrap();
    assert!(system.cost > 0.0);
    // The split puts more on CPU than memory for general-purpose nodes.
    assert!(a.cpu_cost > a.memory_cost);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

#[test]
fn demand_from_the_cached_snapshot() {
    let w = WorkloadState {
        namespace: "shop".into(),
        name: "web".into(),
        kind: "Deployment".into(),
        replicas: -2,
        requests_cpu_cores: Some(0.25),
        cpu_cores: Some(0.1),
        ..Default::default()
    };
    let d = WorkloadDemand::from_state(&w);
    // A negative replica count (bad data) is no pods.
    assert_eq!(d.pods, 0);
    assert_eq!(d.request_cpu_cores_per_pod, Some(0.25));
    assert_eq!(d.usage_cpu_cores, Some(0.1));
    let row = crate::store::WorkloadRow {
        cluster: "c".into(),
        namespace: "shop".into(),
        name: "web".into(),
        kind: "Deployment".into(),
        replicas: 3,
        ready: 3,
        updated: 3,
        available: 3,
        labels: Default::default(),
        images: vec![],
        revision: None,
        hpa: None,
        cpu: Some(0.2),
        memory: None,
        requests_cpu_cores: Some(0.1),
        requests_memory_bytes: Some(GI),
        collected_at: 0,
    };
    let d = WorkloadDemand::from_row(&row);
    assert_eq!(d.pods, 3);
    assert_eq!(d.request_memory_bytes_per_pod, Some(GI));
    assert_eq!(d.usage_cpu_cores, Some(0.2));
    let n = NodeCost::from_state(
        &NodeState {
            name: "n".into(),
            allocatable_cpu_cores: 2.0,
            allocatable_memory_bytes: GI,
            ..Default::default()
        },
        1.5,
    );
    assert_eq!((n.cpu_cores, n.cost), (2.0, 1.5));
}
