//! Cost allocation inside a cluster (issue 7, Build §2): the nodes' cost
//! split to workloads (and so to namespaces) by `max(request, usage)` per
//! resource, the Kubecost definition, with the capacity nobody claims as its
//! own `idle` line.
//!
//! How a node's price is split between CPU and memory. Clouds bill a node as
//! one hourly price; Kubecost splits it by reference per-unit prices. We use
//! Kubecost's defaults (`default.json`: CPU $0.031611 per vCPU-hour, RAM
//! $0.004237 per GiB-hour, the GCP n1 on-demand unit prices): a node with
//! `c` cores and `g` GiB puts `c·0.031611 / (c·0.031611 + g·0.004237)` of its
//! cost on CPU and the rest on memory. That is 65.1 % CPU for a 4 vCPU /
//! 16 GiB general-purpose node and 48.3 % for a 4 vCPU / 32 GiB memory
//! node, which is how the clouds' own price ratios between those families
//! fall. Only the ratio matters, so the split is the same in any currency.
//! [`CostSplit::Fixed`] replaces it (e.g. with a cloud's published
//! per-vCPU/per-GiB prices of a custom machine type).
//!
//! Pooling. The cluster snapshot does not record which node each pod runs
//! on, so the CPU cost and memory cost of all nodes are pooled per cluster
//! and charged at the cluster's mean unit price. With nodes of one price per
//! unit this equals a per-node split; across mixed machine types it averages
//! them. Nodes' *allocatable* capacity is the denominator: the system
//! reservation is part of what every unit of allocatable costs.
//!
//! Exactness. Workload lines are computed first; idle is the node cost
//! minus their sum, per resource, so lines + idle add up to the node cost
//! (to f64 rounding). When the claims exceed the capacity (usage above the
//! requests on a full cluster, or bad data), every claim is scaled down by
//! the same factor, idle is 0 and a warning says so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::{NodeState, WorkloadRow, WorkloadState};

/// Kubecost's default CPU price, USD per vCPU-hour.
pub const REFERENCE_CPU_HOURLY: f64 = 0.031611;
/// Kubecost's default RAM price, USD per GiB-hour.
pub const REFERENCE_GIB_HOURLY: f64 = 0.004237;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// One node and what it cost over the period being allocated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeCost {
    pub name: String,
    pub pool: Option<String>,
    pub cpu_cores: f64,
    pub memory_bytes: f64,
    /// In the period's currency; finite and ≥ 0.
    pub cost: f64,
}

impl NodeCost {
    /// A node of the cached snapshot with its cost for the period.
    pub fn from_state(node: &NodeState, cost: f64) -> NodeCost {
        NodeCost {
            name: node.name.clone(),
            pool: node.pool.clone(),
            cpu_cores: node.allocatable_cpu_cores,
            memory_bytes: node.allocatable_memory_bytes,
            cost,
        }
    }
}

/// What one workload claims over the period: per-pod requests times pods,
/// and its measured usage (the mean over the period, summed over pods).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadDemand {
    pub namespace: String,
    pub name: String,
    pub kind: String,
    pub pods: u32,
    pub request_cpu_cores_per_pod: Option<f64>,
    pub request_memory_bytes_per_pod: Option<f64>,
    pub usage_cpu_cores: Option<f64>,
    pub usage_memory_bytes: Option<f64>,
}

impl WorkloadDemand {
    /// From the cached snapshot: desired replicas, the collected per-pod
    /// requests, and the usage seen at collection time (the caller may put
    /// a period mean from the metrics instead).
    pub fn from_state(w: &WorkloadState) -> WorkloadDemand {
        WorkloadDemand {
            namespace: w.namespace.clone(),
            name: w.name.clone(),
            kind: w.kind.clone(),
            pods: u32::try_from(w.replicas).unwrap_or(0),
            request_cpu_cores_per_pod: w.requests_cpu_cores,
            request_memory_bytes_per_pod: w.requests_memory_bytes,
            usage_cpu_cores: w.cpu_cores,
            usage_memory_bytes: w.memory_bytes,
        }
    }
}

impl WorkloadDemand {
    /// From a row of the cached workloads list (offline views).
    pub fn from_row(r: &WorkloadRow) -> WorkloadDemand {
        WorkloadDemand {
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            kind: r.kind.clone(),
            pods: u32::try_from(r.replicas).unwrap_or(0),
            request_cpu_cores_per_pod: r.requests_cpu_cores,
            request_memory_bytes_per_pod: r.requests_memory_bytes,
            usage_cpu_cores: r.cpu,
            usage_memory_bytes: r.memory,
        }
    }
}

/// How a node's cost is divided between CPU and memory.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CostSplit {
    /// By the reference unit prices (module docs).
    #[default]
    Reference,
    /// This fraction of every node's cost is CPU (0..=1), the rest memory.
    Fixed { cpu_fraction: f64 },
}

impl CostSplit {
    /// The CPU fraction of a node with these resources.
    pub fn cpu_fraction(&self, cpu_cores: f64, memory_bytes: f64) -> f64 {
        match *self {
            CostSplit::Fixed { cpu_fraction } if cpu_fraction.is_finite() => {
                cpu_fraction.clamp(0.0, 1.0)
            }
            CostSplit::Fixed { .. } => 0.5,
            CostSplit::Reference => {
                let cpu = cpu_cores.max(0.0) * REFERENCE_CPU_HOURLY;
                let mem = memory_bytes.max(0.0) / GIB * REFERENCE_GIB_HOURLY;
                if cpu + mem > 0.0 {
                    cpu / (cpu + mem)
                } else {
                    0.5
                }
            }
        }
    }
}

/// Which of request or usage a claim came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Request,
    Usage,
    /// Neither is known: nothing is charged.
    Unknown,
}

/// One workload's share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationLine {
    pub namespace: String,
    pub name: String,
    pub kind: String,
    /// `max(request, usage)`, after any scaling down (module docs).
    pub cpu_cores: f64,
    pub memory_bytes: f64,
    pub cpu_basis: Basis,
    pub memory_basis: Basis,
    pub cpu_cost: f64,
    pub memory_cost: f64,
    pub cost: f64,
}

/// A namespace's total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespaceCost {
    pub namespace: String,
    pub cpu_cost: f64,
    pub memory_cost: f64,
    pub cost: f64,
}

/// Capacity no workload claims.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdleCost {
    pub cpu_cores: f64,
    pub memory_bytes: f64,
    pub cpu_cost: f64,
    pub memory_cost: f64,
    pub cost: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// The nodes' cost: `Σ lines.cost + idle.cost`.
    pub total_cost: f64,
    pub cpu_cost: f64,
    pub memory_cost: f64,
    /// Largest cost first.
    pub workloads: Vec<AllocationLine>,
    /// Largest cost first.
    pub namespaces: Vec<NamespaceCost>,
    pub idle: IdleCost,
    /// Inputs that were ignored or adjusted, in words.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AllocationError {
    #[error("node {node}: cost {cost} is not a finite amount ≥ 0")]
    BadNodeCost { node: String, cost: f64 },
}

impl AllocationError {
    pub fn kind(&self) -> &'static str {
        match self {
            AllocationError::BadNodeCost { .. } => "bad_node_cost",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            AllocationError::BadNodeCost { .. } => "Node costs come from the cost cache; refresh \
                 the cluster's cost, and allocate credits at the account level, not per node."
                .into(),
        }
    }
}

/// A finite value ≥ 0, or `None` (with a warning when it was given but bad).
fn clean(v: Option<f64>, what: &str, warnings: &mut Vec<String>) -> Option<f64> {
    match v {
        Some(x) if x.is_finite() && x >= 0.0 => Some(x),
        Some(x) => {
            warnings.push(format!("{what}: {x} ignored (not a finite amount ≥ 0)"));
            None
        }
        None => None,
    }
}

fn claim(request: Option<f64>, usage: Option<f64>) -> (f64, Basis) {
    match (request, usage) {
        (Some(r), Some(u)) if u > r => (u, Basis::Usage),
        (Some(r), _) => (r, Basis::Request),
        (None, Some(u)) => (u, Basis::Usage),
        (None, None) => (0.0, Basis::Unknown),
    }
}

/// Splits the nodes' cost over `workloads` (module docs).
pub fn allocate(
    nodes: &[NodeCost],
    workloads: &[WorkloadDemand],
    split: CostSplit,
) -> Result<Allocation, AllocationError> {
    let mut warnings = Vec::new();
    let (mut cpu_cap, mut mem_cap, mut cpu_pool, mut mem_pool) = (0.0, 0.0, 0.0, 0.0);
    for n in nodes {
        if !n.cost.is_finite() || n.cost < 0.0 {
            return Err(AllocationError::BadNodeCost {
                node: n.name.clone(),
                cost: n.cost,
            });
        }
        let cpu = clean(
            Some(n.cpu_cores),
            &format!("node {} CPU", n.name),
            &mut warnings,
        )
        .unwrap_or(0.0);
        let mem = clean(
            Some(n.memory_bytes),
            &format!("node {} memory", n.name),
            &mut warnings,
        )
        .unwrap_or(0.0);
        let f = split.cpu_fraction(cpu, mem);
        cpu_cap += cpu;
        mem_cap += mem;
        cpu_pool += n.cost * f;
        mem_pool += n.cost * (1.0 - f);
    }
    let total_cost = cpu_pool + mem_pool;

    let mut claims = Vec::with_capacity(workloads.len());
    for w in workloads {
        let who = format!("{}/{}", w.namespace, w.name);
        let pods = f64::from(w.pods);
        let per_pod = |v: Option<f64>, what: &str, warnings: &mut Vec<String>| {
            clean(v, &format!("{who} {what}"), warnings).map(|r| r * pods)
        };
        let req_cpu = per_pod(w.request_cpu_cores_per_pod, "CPU request", &mut warnings);
        let req_mem = per_pod(
            w.request_memory_bytes_per_pod,
            "memory request",
            &mut warnings,
        );
        let use_cpu = clean(
            w.usage_cpu_cores,
            &format!("{who} CPU usage"),
            &mut warnings,
        );
        let use_mem = clean(
            w.usage_memory_bytes,
            &format!("{who} memory usage"),
            &mut warnings,
        );
        claims.push((w, claim(req_cpu, use_cpu), claim(req_mem, use_mem)));
    }

    // Claims beyond the capacity are scaled down together (module docs).
    let scale = |claimed: f64, cap: f64, what: &str, warnings: &mut Vec<String>| {
        if claimed > cap && claimed > 0.0 {
            warnings.push(format!(
                "{what} claims ({claimed:.3}) exceed the capacity ({cap:.3}): every claim is \
                 scaled by {:.3} and idle {what} is 0",
                cap / claimed
            ));
            cap / claimed
        } else {
            1.0
        }
    };
    let cpu_claimed: f64 = claims.iter().map(|c| c.1 .0).sum();
    let mem_claimed: f64 = claims.iter().map(|c| c.2 .0).sum();
    let cpu_scale = scale(cpu_claimed, cpu_cap, "CPU", &mut warnings);
    let mem_scale = scale(mem_claimed, mem_cap, "memory", &mut warnings);
    let cpu_unit = if cpu_cap > 0.0 {
        cpu_pool / cpu_cap
    } else {
        0.0
    };
    let mem_unit = if mem_cap > 0.0 {
        mem_pool / mem_cap
    } else {
        0.0
    };
    if nodes.is_empty() && !workloads.is_empty() {
        warnings.push("no nodes: nothing to allocate".into());
    }

    let mut lines: Vec<AllocationLine> = claims
        .into_iter()
        .map(|(w, (cpu, cpu_basis), (mem, memory_basis))| {
            let (cpu, mem) = (cpu * cpu_scale, mem * mem_scale);
            let (cpu_cost, memory_cost) = (cpu * cpu_unit, mem * mem_unit);
            AllocationLine {
                namespace: w.namespace.clone(),
                name: w.name.clone(),
                kind: w.kind.clone(),
                cpu_cores: cpu,
                memory_bytes: mem,
                cpu_basis,
                memory_basis,
                cpu_cost,
                memory_cost,
                cost: cpu_cost + memory_cost,
            }
        })
        .collect();
    lines.sort_by(|a, b| {
        b.cost
            .total_cmp(&a.cost)
            .then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)))
    });

    let mut by_ns: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for l in &lines {
        let e = by_ns.entry(l.namespace.as_str()).or_default();
        e.0 += l.cpu_cost;
        e.1 += l.memory_cost;
    }
    let mut namespaces: Vec<NamespaceCost> = by_ns
        .into_iter()
        .map(|(ns, (c, m))| NamespaceCost {
            namespace: ns.to_owned(),
            cpu_cost: c,
            memory_cost: m,
            cost: c + m,
        })
        .collect();
    namespaces.sort_by(|a, b| b.cost.total_cmp(&a.cost));

    // Idle is the remainder, so the lines and idle add up to the total.
    let cpu_charged: f64 = lines.iter().map(|l| l.cpu_cost).sum();
    let mem_charged: f64 = lines.iter().map(|l| l.memory_cost).sum();
    let idle_cpu_cost = (cpu_pool - cpu_charged).max(0.0);
    let idle_mem_cost = (mem_pool - mem_charged).max(0.0);
    let idle = IdleCost {
        cpu_cores: (cpu_cap - cpu_claimed * cpu_scale).max(0.0),
        memory_bytes: (mem_cap - mem_claimed * mem_scale).max(0.0),
        cpu_cost: idle_cpu_cost,
        memory_cost: idle_mem_cost,
        cost: idle_cpu_cost + idle_mem_cost,
    };
    Ok(Allocation {
        total_cost,
        cpu_cost: cpu_pool,
        memory_cost: mem_pool,
        workloads: lines,
        namespaces,
        idle,
        warnings,
    })
}

#[cfg(test)]
#[path = "cost_allocation_tests.rs"]
mod tests;
