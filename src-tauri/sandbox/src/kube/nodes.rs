//! Nodes: built from the node pools with each cloud's naming and labels,
//! kept in step with the pool sizes the provider APIs change, and the
//! scheduler that places pods on them by requests.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::{
    api::core::v1::{Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo},
    apimachinery::pkg::{api::resource::Quantity, apis::meta::v1::ObjectMeta},
};

use super::{
    controllers::Ctx,
    metrics::Requests,
    pods::delete_pod,
    store::{time, Key, Store, Usage},
};
use crate::world::{Cloud, Cluster, NodePool};

/// The kubelet's default pod limit.
const MAX_PODS: i64 = 110;

/// vCPUs and GiB of memory of a machine type. Unknown types (a pool the
/// user made through a provider API with another size) read as 4 / 16.
pub(crate) fn machine(machine_type: &str) -> (i64, i64) {
    match machine_type {
        "m6i.large" => (2, 8),
        "m6i.xlarge" => (4, 16),
        "c6i.xlarge" => (4, 8),
        "e2-standard-4" | "n2-standard-4" => (4, 16),
        "e2-standard-8" => (8, 32),
        "Standard_D4s_v5" => (4, 16),
        "Standard_D8s_v5" => (8, 32),
        "Standard_E4s_v5" => (4, 32),
        "s-4vcpu-8gb" => (4, 8),
        "s-2vcpu-4gb" => (2, 4),
        "g-4vcpu-16gb" => (4, 16),
        _ => (4, 16),
    }
}

/// What the node offers pods: capacity minus the kubelet/system reserve.
pub(crate) fn allocatable(machine_type: &str) -> Usage {
    let (cpu, gib) = machine(machine_type);
    Usage {
        cpu_milli: cpu * 1000 - 70 - 10 * cpu,
        memory: gib * 1024 * 1024 * 1024 * 9 / 10 - 100 * 1024 * 1024,
        pods: MAX_PODS,
    }
}

/// The label that names a node's pool on each cloud.
pub(crate) fn pool_label(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Aws => "eks.amazonaws.com/nodegroup",
        Cloud::Gcp => "cloud.google.com/gke-nodepool",
        Cloud::Azure => "kubernetes.azure.com/agentpool",
        Cloud::DigitalOcean => "doks.digitalocean.com/node-pool",
    }
}

fn node_name(store: &mut Store, c: &Cluster, pool: &NodePool, index: usize) -> String {
    match c.cloud {
        Cloud::Aws => {
            let domain = if c.region == "us-east-1" {
                "ec2.internal".to_string()
            } else {
                format!("{}.compute.internal", c.region)
            };
            let r = &mut store.rng;
            format!("ip-10-0-{}-{}.{domain}", r.u8(..), r.u8(1..255))
        }
        Cloud::Gcp => {
            let short: String = c.name.chars().take(20).collect();
            let group = super::metrics::fnv(&[pool.id.as_bytes()]) as u32;
            format!("gke-{short}-{}-{group:08x}-{}", pool.name, store.suffix(4))
        }
        // VM scale set instances count up in base 36.
        Cloud::Azure => {
            let group = super::metrics::fnv(&[pool.id.as_bytes()]) % 100_000_000;
            format!("aks-{}-{group:08}-vmss{index:06}", pool.name)
        }
        Cloud::DigitalOcean => format!("{}-{}", pool.name, store.suffix(5)),
    }
}

fn provider_id(c: &Cluster, pool: &NodePool, name: &str, store: &mut Store) -> String {
    match c.cloud {
        Cloud::Aws => format!("aws:///{}/i-0{:016x}", pool.zone, store.rng.u64(..1 << 60)),
        Cloud::Gcp => format!("gce://sandbox/{}/{name}", pool.zone),
        Cloud::Azure => format!(
            "azure:///subscriptions/sandbox/resourceGroups/mc_{}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-{}/virtualMachines/{}",
            c.name,
            pool.name,
            name.rsplit("vmss").next().unwrap_or("0")
        ),
        Cloud::DigitalOcean => format!("digitalocean://{}", store.rng.u32(100_000_000..1_000_000_000)),
    }
}

fn condition(type_: &str, status: &str, reason: &str, message: &str, at: u64) -> NodeCondition {
    NodeCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_heartbeat_time: Some(time(at)),
        last_transition_time: Some(time(at)),
    }
}

fn new_node(store: &mut Store, c: &Cluster, pool: &NodePool, index: usize, at: u64) -> Node {
    let name = node_name(store, c, pool, index);
    let (cpu, gib) = machine(&pool.machine_type);
    let alloc = allocatable(&pool.machine_type);
    let mut labels = BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), name.clone()),
        ("kubernetes.io/os".into(), "linux".into()),
        ("kubernetes.io/arch".into(), "amd64".into()),
        (
            "node.kubernetes.io/instance-type".into(),
            pool.machine_type.clone(),
        ),
        ("topology.kubernetes.io/region".into(), c.region.clone()),
        ("topology.kubernetes.io/zone".into(), pool.zone.clone()),
        (pool_label(c.cloud).into(), pool.name.clone()),
    ]);
    match c.cloud {
        Cloud::Aws => {
            labels.insert("eks.amazonaws.com/capacityType".into(), "ON_DEMAND".into());
        }
        Cloud::Azure => {
            labels.insert("agentpool".into(), pool.name.clone());
        }
        Cloud::DigitalOcean => {
            labels.insert("doks.digitalocean.com/node-pool-id".into(), pool.id.clone());
        }
        Cloud::Gcp => {}
    }
    let q = |s: String| Quantity(s);
    let ip = format!("10.0.{}.{}", store.rng.u8(..), store.rng.u8(1..255));
    let uid = store.uid();
    let version = format!("v{}", c.k8s_version());
    Node {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            uid: Some(uid.clone()),
            labels: Some(labels),
            creation_timestamp: Some(time(at)),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            provider_id: Some(provider_id(c, pool, &name, store)),
            pod_cidr: Some(format!("10.244.{}.0/24", index % 256)),
            ..Default::default()
        }),
        status: Some(NodeStatus {
            capacity: Some(BTreeMap::from([
                ("cpu".into(), q(cpu.to_string())),
                ("memory".into(), q(format!("{}Ki", gib * 1024 * 1024))),
                ("pods".into(), q(MAX_PODS.to_string())),
            ])),
            allocatable: Some(BTreeMap::from([
                ("cpu".into(), q(format!("{}m", alloc.cpu_milli))),
                ("memory".into(), q(format!("{}Ki", alloc.memory / 1024))),
                ("pods".into(), q(MAX_PODS.to_string())),
            ])),
            conditions: Some(vec![
                condition(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                    at,
                ),
                condition(
                    "DiskPressure",
                    "False",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                    at,
                ),
                condition(
                    "PIDPressure",
                    "False",
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                    at,
                ),
                condition(
                    "Ready",
                    "True",
                    "KubeletReady",
                    "kubelet is posting ready status",
                    at,
                ),
            ]),
            addresses: Some(vec![
                NodeAddress {
                    type_: "InternalIP".into(),
                    address: ip,
                },
                NodeAddress {
                    type_: "Hostname".into(),
                    address: name,
                },
            ]),
            node_info: Some(NodeSystemInfo {
                architecture: "amd64".into(),
                boot_id: store.uid(),
                container_runtime_version: "containerd://1.7.27".into(),
                kernel_version: "6.1.0-sandbox".into(),
                kube_proxy_version: version.clone(),
                kubelet_version: version,
                machine_id: uid.replace('-', ""),
                operating_system: "linux".into(),
                os_image: "CloudOps Sandbox Linux".into(),
                system_uuid: uid,
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

/// Adds or removes nodes so that each pool has `count`. Removed nodes are
/// the newest; their pods go, and their ReplicaSets replace them elsewhere.
pub(crate) fn sync(store: &mut Store, ctx: &Ctx<'_>) {
    let label = pool_label(ctx.cluster.cloud);
    let mut by_pool: HashMap<&str, Vec<(u64, String)>> = HashMap::new();
    for n in store.nodes.values() {
        let Some(pool) = n.metadata.labels.as_ref().and_then(|l| l.get(label)) else {
            continue;
        };
        let Some(p) = ctx.cluster.node_pools.iter().find(|p| &p.name == pool) else {
            continue;
        };
        let rv = n
            .metadata
            .resource_version
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        by_pool
            .entry(p.name.as_str())
            .or_default()
            .push((rv, n.metadata.name.clone().unwrap_or_default()));
    }
    for pool in &ctx.cluster.node_pools {
        let mut have = by_pool.remove(pool.name.as_str()).unwrap_or_default();
        let want = pool.count as usize;
        for i in have.len()..want {
            let node = new_node(store, ctx.cluster, pool, i, ctx.clock.unix);
            let name = node.metadata.name.clone().unwrap_or_default();
            store
                .allocatable
                .insert(name, allocatable(&pool.machine_type));
            store.put(node);
            store.retry_unscheduled = true;
        }
        if have.len() > want {
            let extra = have.len() - want;
            // Newest first: nodes are never modified, so the
            // resourceVersion is the creation order.
            have.sort_by(|a, b| b.cmp(a));
            for (_, name) in have.into_iter().take(extra) {
                remove_node(store, &name);
            }
        }
    }
}

/// Deletes a node and the pods bound to it (their owners replace them).
fn remove_node(store: &mut Store, name: &str) {
    let bound: Vec<Key> = store
        .pods
        .values()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name))
        .map(|p| super::store::key_of(&p.metadata))
        .collect();
    for key in bound {
        delete_pod(store, &key);
    }
    store.allocatable.remove(name);
    store.usage.remove(name);
    store.remove::<Node>("", name);
}

/// The Ready node with the most free CPU that fits `req`, if any: spreading
/// like the default scheduler's least-allocated scoring.
pub(crate) fn schedule(store: &Store, req: &Requests) -> Option<String> {
    let cpu = req.cpu_milli.round() as i64;
    let mem = req.memory.round() as i64;
    store
        .allocatable
        .iter()
        .filter_map(|(name, alloc)| {
            let used = store.usage.get(name).copied().unwrap_or_default();
            let free_cpu = alloc.cpu_milli - used.cpu_milli;
            let fits =
                free_cpu >= cpu && alloc.memory - used.memory >= mem && used.pods < alloc.pods;
            fits.then_some((free_cpu, name))
        })
        // Ties broken by name, so that placement is deterministic.
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, name)| name.clone())
}
