//! "If this node pool loses k nodes, where do their pods go?" — the
//! capacity side of a node-pool scale-down preview.
//!
//! The cloud, not us, picks which nodes go (an autoscaling group balances
//! zones, GKE and AKS pick their own), so the check assumes the worst: the
//! k nodes of the pool holding the most requests are removed. It compares
//! sums (requests evicted against free room on every other ready,
//! schedulable node), which is necessary but not sufficient: a pod pinned
//! to the pool by a selector or taint, or one too big for any single
//! node's free room, can still stay Pending. The summary says so.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::fit::NodeCapacity;

/// The labels the clouds put a node's pool in, in the order we trust them.
pub const NODE_POOL_LABELS: [&str; 6] = [
    "eks.amazonaws.com/nodegroup",
    "cloud.google.com/gke-nodepool",
    "kubernetes.azure.com/agentpool",
    "agentpool",
    "doks.digitalocean.com/node-pool",
    "karpenter.sh/nodepool",
];

/// The pool a node belongs to, from its labels.
pub fn node_pool_of(labels: &std::collections::BTreeMap<String, String>) -> Option<&str> {
    NODE_POOL_LABELS
        .iter()
        .find_map(|l| labels.get(*l).map(String::as_str))
}

/// What removing nodes from a pool evicts, and whether the rest can hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DrainFit {
    /// The nodes assumed removed (the pool's most requested ones).
    pub removed_nodes: Vec<String>,
    /// Requests of the pods on them: CPU cores, memory bytes, pod count.
    pub evicted_cpu: f64,
    pub evicted_memory: f64,
    pub evicted_pods: u32,
    /// Free room on every other ready, schedulable node.
    pub free_cpu: f64,
    pub free_memory: f64,
    pub free_pods: u32,
    pub fits: bool,
    /// The sentence for the preview.
    pub summary: String,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The drain check for removing `remove` nodes from `pool`; `None` when
/// nothing is removed or no node of the cluster is labelled with the pool
/// (then the caller says the capacity was not checked).
pub fn drain_fit(nodes: &[NodeCapacity], pool: &str, remove: u32) -> Option<DrainFit> {
    if remove == 0 {
        return None;
    }
    let mut in_pool: Vec<&NodeCapacity> = nodes
        .iter()
        .filter(|n| node_pool_of(&n.labels) == Some(pool))
        .collect();
    if in_pool.is_empty() {
        return None;
    }
    // Most requested first: CPU, then memory, then pods; name breaks ties so
    // the same cluster always gives the same answer.
    in_pool.sort_by(|a, b| {
        b.requested_cpu
            .total_cmp(&a.requested_cpu)
            .then(b.requested_memory.total_cmp(&a.requested_memory))
            .then(b.pods.cmp(&a.pods))
            .then(a.name.cmp(&b.name))
    });
    let removed: Vec<&NodeCapacity> = in_pool.into_iter().take(remove as usize).collect();
    let is_removed = |n: &NodeCapacity| removed.iter().any(|r| r.name == n.name);
    let (evicted_cpu, evicted_memory, evicted_pods) =
        removed.iter().fold((0.0, 0.0, 0u32), |(c, m, p), n| {
            (
                c + n.requested_cpu,
                m + n.requested_memory,
                p.saturating_add(n.pods),
            )
        });
    let (free_cpu, free_memory, free_pods) = nodes
        .iter()
        .filter(|n| n.ready && !n.unschedulable && !is_removed(n))
        .fold((0.0, 0.0, 0u32), |(c, m, p), n| {
            (
                c + (n.allocatable_cpu - n.requested_cpu).max(0.0),
                m + (n.allocatable_memory - n.requested_memory).max(0.0),
                p.saturating_add(n.allocatable_pods.saturating_sub(n.pods)),
            )
        });
    let short: Vec<String> = [
        (evicted_cpu > free_cpu)
            .then(|| format!("CPU ({evicted_cpu:.2} cores needed, {free_cpu:.2} free)")),
        (evicted_memory > free_memory).then(|| {
            format!(
                "memory ({:.1} GiB needed, {:.1} GiB free)",
                evicted_memory / GIB,
                free_memory / GIB
            )
        }),
        (evicted_pods > free_pods)
            .then(|| format!("pod slots ({evicted_pods} needed, {free_pods} free)")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let fits = short.is_empty();
    let summary = if fits {
        format!(
            "the {evicted_pods} pod(s) on the {} busiest node(s) of {pool} ({evicted_cpu:.2} cores, \
             {:.1} GiB requested) fit in the free room of the other nodes ({free_cpu:.2} cores, \
             {:.1} GiB); pods pinned to {pool} by a selector or taint are not checked",
            removed.len(),
            evicted_memory / GIB,
            free_memory / GIB
        )
    } else {
        format!(
            "removing {} node(s) of {pool} leaves its pods short of {}: some will stay Pending; \
             scale less, or add room elsewhere first",
            removed.len(),
            short.join(", ")
        )
    };
    Some(DrainFit {
        removed_nodes: removed.iter().map(|n| n.name.clone()).collect(),
        evicted_cpu,
        evicted_memory,
        evicted_pods,
        free_cpu,
        free_memory,
        free_pods,
        fits,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn node(name: &str, pool: &str, cpu_used: f64, gib_used: f64, pods: u32) -> NodeCapacity {
        NodeCapacity {
            name: name.into(),
            ready: true,
            unschedulable: false,
            labels: BTreeMap::from([("cloud.google.com/gke-nodepool".into(), pool.into())]),
            taints: Vec::new(),
            allocatable_cpu: 4.0,
            allocatable_memory: 16.0 * GIB,
            allocatable_pods: 110,
            requested_cpu: cpu_used,
            requested_memory: gib_used * GIB,
            pods,
        }
    }

    #[test]
    fn the_busiest_nodes_are_assumed_removed_and_their_pods_fit_elsewhere() {
        let nodes = [
            node("a", "general", 1.0, 2.0, 5),
            node("b", "general", 3.0, 6.0, 9),
            node("c", "general", 0.5, 1.0, 2),
        ];
        let d = drain_fit(&nodes, "general", 1).expect("a check");
        assert_eq!(d.removed_nodes, ["b"]);
        assert_eq!(d.evicted_pods, 9);
        // a and c: (4-1) + (4-0.5) cores free.
        assert!((d.free_cpu - 6.5).abs() < 1e-9, "{d:?}");
        assert!(d.fits, "{}", d.summary);
    }

    #[test]
    fn a_drain_the_rest_cannot_hold_names_what_is_short() {
        let nodes = [
            node("a", "general", 3.5, 12.0, 20),
            node("b", "general", 3.5, 12.0, 20),
            node("x", "batch", 3.8, 4.0, 3),
        ];
        let d = drain_fit(&nodes, "general", 1).expect("a check");
        assert!(!d.fits);
        assert!(
            d.summary.contains("CPU (3.50 cores needed, 0.70 free)"),
            "{}",
            d.summary
        );
        assert!(!d.summary.contains("memory"), "memory fits: {}", d.summary);
    }

    #[test]
    fn cordoned_and_not_ready_nodes_offer_no_room() {
        let mut other = node("o", "batch", 0.0, 0.0, 0);
        other.unschedulable = true;
        let mut down = node("d", "batch", 0.0, 0.0, 0);
        down.ready = false;
        let nodes = [node("a", "general", 1.0, 1.0, 3), other, down];
        let d = drain_fit(&nodes, "general", 1).expect("a check");
        assert_eq!(d.free_pods, 0);
        assert!(!d.fits);
    }

    #[test]
    fn nothing_removed_or_an_unlabelled_pool_is_no_check() {
        let nodes = [node("a", "general", 1.0, 1.0, 3)];
        assert!(drain_fit(&nodes, "general", 0).is_none());
        assert!(drain_fit(&nodes, "gpu", 1).is_none());
    }
}
