//! The capacity check behind scale and failover previews (issue 6, BRIEF
//! §8): will N more pods of this template fit on the cluster's nodes?
//!
//! A simplified kube-scheduler filter: a node is eligible when it is ready
//! and schedulable, matches the pod's `nodeSelector`, and every
//! `NoSchedule`/`NoExecute` taint on it is tolerated. On an eligible node
//! the room for identical pods is the least of the free CPU, memory and pod
//! slots divided by one pod's requests. Because the pods are identical,
//! summing the per-node room is exact for this model (no packing order can
//! do better). Affinity, topology spread and ports are not modelled; the
//! preview says so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A taint as the API has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// A toleration as the API has it (`operator` `Equal` or `Exists`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Toleration {
    /// Empty with `Exists` tolerates every taint.
    pub key: String,
    pub operator: String,
    pub value: Option<String>,
    /// Empty matches every effect.
    pub effect: String,
}

impl Toleration {
    fn tolerates(&self, t: &Taint) -> bool {
        if !self.effect.is_empty() && self.effect != t.effect {
            return false;
        }
        if self.key.is_empty() {
            return self.operator == "Exists";
        }
        if self.key != t.key {
            return false;
        }
        match self.operator.as_str() {
            "Exists" => true,
            // `Equal` is the default operator.
            _ => self.value.as_deref().unwrap_or("") == t.value.as_deref().unwrap_or(""),
        }
    }
}

/// One node's capacity and what is already requested on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeCapacity {
    pub name: String,
    pub ready: bool,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub allocatable_cpu: f64,
    pub allocatable_memory: f64,
    pub allocatable_pods: u32,
    /// Sums of the requests of the pods bound to the node.
    pub requested_cpu: f64,
    pub requested_memory: f64,
    pub pods: u32,
}

/// What one pod of the workload asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PodShape {
    /// CPU cores requested (0 when the template sets none).
    pub cpu: f64,
    /// Memory bytes requested.
    pub memory: f64,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
}

/// Why a node takes no pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeExclusion {
    NotReady,
    Cordoned,
    SelectorMismatch {
        label: String,
    },
    Taint {
        key: String,
        effect: String,
    },
    /// Eligible, but full: the resource that ran out.
    Full {
        resource: String,
    },
}

/// One node's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeFit {
    pub node: String,
    /// Pods of this shape the node can still take.
    pub room: u32,
    pub excluded: Option<NodeExclusion>,
}

/// The answer to "do N more pods fit?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FitReport {
    pub wanted: u32,
    /// Pods of this shape the cluster can still take, in total.
    pub room: u32,
    pub fits: bool,
    pub nodes: Vec<NodeFit>,
    /// The sentence for the preview: why it does not fit, or how much
    /// headroom is left.
    pub summary: String,
}

fn room_on(node: &NodeCapacity, pod: &PodShape) -> Result<u32, NodeExclusion> {
    if !node.ready {
        return Err(NodeExclusion::NotReady);
    }
    if node.unschedulable {
        return Err(NodeExclusion::Cordoned);
    }
    if let Some((k, _)) = pod
        .node_selector
        .iter()
        .find(|(k, v)| node.labels.get(*k) != Some(*v))
    {
        return Err(NodeExclusion::SelectorMismatch { label: k.clone() });
    }
    if let Some(t) = node.taints.iter().find(|t| {
        t.effect != "PreferNoSchedule" && !pod.tolerations.iter().any(|tol| tol.tolerates(t))
    }) {
        return Err(NodeExclusion::Taint {
            key: t.key.clone(),
            effect: t.effect.clone(),
        });
    }
    // Each resource allows `free / request` pods; a zero request does not
    // limit. Negative free (overcommitted by hand) is no room.
    let by = |free: f64, request: f64| -> Option<u32> {
        if request > 0.0 {
            Some((free / request).floor().clamp(0.0, f64::from(u32::MAX)) as u32)
        } else {
            None
        }
    };
    let slots = node.allocatable_pods.saturating_sub(node.pods);
    let limits = [
        (
            "cpu",
            by(node.allocatable_cpu - node.requested_cpu, pod.cpu),
        ),
        (
            "memory",
            by(node.allocatable_memory - node.requested_memory, pod.memory),
        ),
        ("pods", Some(slots)),
    ];
    let (resource, room) = limits
        .iter()
        .filter_map(|(r, n)| n.map(|n| (*r, n)))
        .min_by_key(|(_, n)| *n)
        .unwrap_or(("pods", slots));
    if room == 0 {
        Err(NodeExclusion::Full {
            resource: resource.to_owned(),
        })
    } else {
        Ok(room)
    }
}

/// Whether `wanted` more pods of `pod` fit on `nodes`.
pub fn fit(nodes: &[NodeCapacity], pod: &PodShape, wanted: u32) -> FitReport {
    let verdicts: Vec<NodeFit> = nodes
        .iter()
        .map(|n| match room_on(n, pod) {
            Ok(room) => NodeFit {
                node: n.name.clone(),
                room,
                excluded: None,
            },
            Err(why) => NodeFit {
                node: n.name.clone(),
                room: 0,
                excluded: Some(why),
            },
        })
        .collect();
    let room = verdicts
        .iter()
        .fold(0u32, |acc, v| acc.saturating_add(v.room));
    let fits = room >= wanted;
    let summary = if fits {
        format!("{wanted} more pod(s) fit; room for {room} in total")
    } else if nodes.is_empty() {
        "no nodes are known for this cluster; refresh it first".to_owned()
    } else {
        let eligible = verdicts
            .iter()
            .filter(
                |v| !matches!(v.excluded, Some(ref e) if !matches!(e, NodeExclusion::Full { .. })),
            )
            .count();
        format!(
            "only {room} of {wanted} pod(s) fit: {eligible} of {} node(s) can take this pod, \
             and they are short of {}; add nodes (scale the node pool) or lower the requests",
            nodes.len(),
            shortest_resource(&verdicts)
        )
    };
    FitReport {
        wanted,
        room,
        fits,
        nodes: verdicts,
        summary,
    }
}

/// The resource most often exhausted, to name in the refusal.
fn shortest_resource(verdicts: &[NodeFit]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in verdicts {
        if let Some(NodeExclusion::Full { resource }) = &v.excluded {
            *counts.entry(resource.as_str()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(r, _)| r.to_owned())
        .unwrap_or_else(|| "eligible nodes".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

    fn node(name: &str, cpu: f64, mem_gib: f64, used_cpu: f64, used_gib: f64) -> NodeCapacity {
        NodeCapacity {
            name: name.into(),
            ready: true,
            allocatable_cpu: cpu,
            allocatable_memory: mem_gib * GIB,
            allocatable_pods: 110,
            requested_cpu: used_cpu,
            requested_memory: used_gib * GIB,
            ..Default::default()
        }
    }

    fn pod(cpu: f64, mem_gib: f64) -> PodShape {
        PodShape {
            cpu,
            memory: mem_gib * GIB,
            ..Default::default()
        }
    }

    #[test]
    fn room_is_the_scarcest_resource_per_node_summed() {
        let nodes = [
            // CPU allows 3 (1.5 / 0.5), memory 6: 3.
            node("a", 4.0, 16.0, 2.5, 10.0),
            // Memory allows 1 (2 GiB free / 1.5), CPU 7: 1.
            node("b", 4.0, 8.0, 0.5, 6.0),
        ];
        let r = fit(&nodes, &pod(0.5, 1.5), 4);
        assert_eq!((r.room, r.fits), (4, true));
        assert_eq!(r.nodes[0].room, 3);
        assert_eq!(r.nodes[1].room, 1);
        let r = fit(&nodes, &pod(0.5, 1.5), 5);
        assert!(!r.fits);
        assert!(
            r.summary.starts_with("only 4 of 5 pod(s) fit"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn pod_slots_and_zero_requests() {
        let mut n = node("a", 64.0, 256.0, 0.0, 0.0);
        n.allocatable_pods = 10;
        n.pods = 8;
        // No requests at all: only the pod slots limit.
        let r = fit(&[n.clone()], &pod(0.0, 0.0), 2);
        assert_eq!((r.room, r.fits), (2, true));
        n.pods = 10;
        let r = fit(&[n], &pod(0.1, 0.1), 1);
        assert_eq!(
            r.nodes[0].excluded,
            Some(NodeExclusion::Full {
                resource: "pods".into()
            })
        );
        assert!(r.summary.contains("short of pods"), "{}", r.summary);
    }

    #[test]
    fn overcommitted_nodes_have_no_room_rather_than_wrapping() {
        let r = fit(&[node("a", 2.0, 4.0, 3.0, 1.0)], &pod(0.1, 0.1), 1);
        assert_eq!(r.room, 0);
        assert!(!r.fits);
    }

    #[test]
    fn readiness_cordons_selectors_and_taints_exclude_nodes() {
        let mut not_ready = node("not-ready", 8.0, 32.0, 0.0, 0.0);
        not_ready.ready = false;
        let mut cordoned = node("cordoned", 8.0, 32.0, 0.0, 0.0);
        cordoned.unschedulable = true;
        let mut arm = node("arm", 8.0, 32.0, 0.0, 0.0);
        arm.labels
            .insert("kubernetes.io/arch".into(), "arm64".into());
        let mut gpu = node("gpu", 8.0, 32.0, 0.0, 0.0);
        gpu.labels
            .insert("kubernetes.io/arch".into(), "amd64".into());
        gpu.taints.push(Taint {
            key: "nvidia.com/gpu".into(),
            value: Some("present".into()),
            effect: "NoSchedule".into(),
        });
        let mut soft = node("soft", 8.0, 32.0, 0.0, 0.0);
        soft.labels
            .insert("kubernetes.io/arch".into(), "amd64".into());
        soft.taints.push(Taint {
            key: "spot".into(),
            value: None,
            effect: "PreferNoSchedule".into(),
        });
        let nodes = [not_ready, cordoned, arm, gpu, soft];
        let mut p = pod(1.0, 1.0);
        p.node_selector
            .insert("kubernetes.io/arch".into(), "amd64".into());
        let r = fit(&nodes, &p, 1);
        let why: Vec<Option<NodeExclusion>> = r.nodes.iter().map(|n| n.excluded.clone()).collect();
        assert_eq!(
            why,
            [
                Some(NodeExclusion::NotReady),
                Some(NodeExclusion::Cordoned),
                Some(NodeExclusion::SelectorMismatch {
                    label: "kubernetes.io/arch".into()
                }),
                Some(NodeExclusion::Taint {
                    key: "nvidia.com/gpu".into(),
                    effect: "NoSchedule".into()
                }),
                // PreferNoSchedule is a preference, not a filter.
                None,
            ]
        );
        assert_eq!(r.room, 8);

        // Tolerating the GPU taint (Equal, matching value) opens that node.
        p.tolerations.push(Toleration {
            key: "nvidia.com/gpu".into(),
            operator: "Equal".into(),
            value: Some("present".into()),
            effect: "NoSchedule".into(),
        });
        assert_eq!(fit(&nodes, &p, 1).room, 16);
    }

    #[test]
    fn tolerations_follow_the_api_matching_rules() {
        let taint = Taint {
            key: "dedicated".into(),
            value: Some("db".into()),
            effect: "NoExecute".into(),
        };
        let tol = |key: &str, op: &str, value: Option<&str>, effect: &str| Toleration {
            key: key.into(),
            operator: op.into(),
            value: value.map(str::to_owned),
            effect: effect.into(),
        };
        assert!(tol("dedicated", "Equal", Some("db"), "NoExecute").tolerates(&taint));
        assert!(tol("dedicated", "Equal", Some("db"), "").tolerates(&taint));
        assert!(tol("dedicated", "Exists", None, "").tolerates(&taint));
        assert!(tol("", "Exists", None, "").tolerates(&taint));
        assert!(!tol("dedicated", "Equal", Some("web"), "").tolerates(&taint));
        assert!(!tol("dedicated", "Equal", Some("db"), "NoSchedule").tolerates(&taint));
        assert!(!tol("other", "Exists", None, "").tolerates(&taint));
        assert!(!tol("", "Equal", None, "").tolerates(&taint));
    }

    #[test]
    fn no_nodes_says_to_refresh() {
        let r = fit(&[], &pod(1.0, 1.0), 1);
        assert!(!r.fits);
        assert!(r.summary.contains("refresh"), "{}", r.summary);
        // Zero wanted always fits, even with no nodes.
        assert!(fit(&[], &pod(1.0, 1.0), 0).fits);
    }
}
