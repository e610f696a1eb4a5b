//! What the capacity check needs, read live just before a plan: every
//! node's allocatable resources, labels, taints and cordon, the requests of
//! the pods bound to it, and one pod's shape from a deployment's template.

use std::collections::BTreeMap;

use cloudops_core::plan::fit::{NodeCapacity, PodShape, Taint, Toleration};
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Node, Pod, PodSpec},
};
use kube::{api::ListParams, Api};

use super::{from_kube, ActError};
use crate::collect::metrics_api::parse_quantity;

/// CPU cores and memory bytes requested by a pod spec: the sum over its
/// containers, or the largest init container if that is more (what the
/// scheduler reserves).
pub fn pod_requests(spec: &PodSpec) -> (f64, f64) {
    let get = |c: &k8s_openapi::api::core::v1::Container, key: &str| {
        c.resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get(key))
            .and_then(|q| parse_quantity(&q.0))
            .unwrap_or(0.0)
    };
    let (mut cpu, mut mem) = spec.containers.iter().fold((0.0, 0.0), |(c, m), k| {
        (c + get(k, "cpu"), m + get(k, "memory"))
    });
    for init in spec.init_containers.iter().flatten() {
        cpu = f64::max(cpu, get(init, "cpu"));
        mem = f64::max(mem, get(init, "memory"));
    }
    (cpu, mem)
}

/// One pod of the deployment, as the scheduler will see it.
pub fn pod_shape(d: &Deployment) -> PodShape {
    let Some(spec) = d.spec.template.spec.as_ref() else {
        return PodShape::default();
    };
    let (cpu, memory) = pod_requests(spec);
    PodShape {
        cpu,
        memory,
        node_selector: spec.node_selector.clone().unwrap_or_default(),
        tolerations: spec
            .tolerations
            .iter()
            .flatten()
            .map(|t| Toleration {
                key: t.key.clone().unwrap_or_default(),
                operator: t.operator.clone().unwrap_or_else(|| "Equal".into()),
                value: t.value.clone(),
                effect: t.effect.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

fn node_capacity(n: &Node) -> Option<NodeCapacity> {
    let name = n.metadata.name.clone()?;
    let status = n.status.as_ref();
    let alloc = |key: &str| {
        status
            .and_then(|s| s.allocatable.as_ref())
            .and_then(|a| a.get(key))
            .and_then(|q| parse_quantity(&q.0))
            .unwrap_or(0.0)
    };
    let spec = n.spec.as_ref();
    Some(NodeCapacity {
        name,
        ready: status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
        unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
        labels: n.metadata.labels.clone().unwrap_or_default(),
        taints: spec
            .and_then(|s| s.taints.as_ref())
            .into_iter()
            .flatten()
            .map(|t| Taint {
                key: t.key.clone(),
                value: t.value.clone(),
                effect: t.effect.clone(),
            })
            .collect(),
        allocatable_cpu: alloc("cpu"),
        allocatable_memory: alloc("memory"),
        allocatable_pods: alloc("pods").clamp(0.0, f64::from(u32::MAX)) as u32,
        ..Default::default()
    })
}

/// Every node with the requests of the live pods bound to it.
pub async fn read_capacity(
    client: &kube::Client,
    cluster: &str,
) -> Result<Vec<NodeCapacity>, ActError> {
    let nodes: Api<Node> = Api::all(client.clone());
    let nodes = nodes
        .list(&ListParams::default())
        .await
        .map_err(|e| from_kube(cluster, "list", "nodes", "the node list", e))?;
    let mut by_name: BTreeMap<String, NodeCapacity> = nodes
        .items
        .iter()
        .filter_map(node_capacity)
        .map(|n| (n.name.clone(), n))
        .collect();
    // Finished pods hold no resources.
    let pods: Api<Pod> = Api::all(client.clone());
    let live = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    let pods = pods
        .list(&live)
        .await
        .map_err(|e| from_kube(cluster, "list", "pods", "the pod list", e))?;
    for p in &pods.items {
        let Some(spec) = p.spec.as_ref() else {
            continue;
        };
        let Some(node) = spec.node_name.as_ref().and_then(|n| by_name.get_mut(n)) else {
            continue;
        };
        let (cpu, mem) = pod_requests(spec);
        node.requested_cpu += cpu;
        node.requested_memory += mem;
        node.pods += 1;
    }
    Ok(by_name.into_values().collect())
}
