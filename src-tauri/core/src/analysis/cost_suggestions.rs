//! Savings and HA suggestions (issue 7 §3), each with the exact change and
//! whether it is a safe one-click action.
//!
//! - **Requests far above usage**: a workload whose per-pod request is at
//!   least [`SuggestionConfig::over_ratio`] × its 7-day p95 usage (CPU or
//!   memory), measured over at least [`SuggestionConfig::min_usage_days`]
//!   days. The new request is the p95 plus [`SuggestionConfig::headroom`]
//!   (30 %), rounded up to 5 m CPU / 8 MiB. Savings are the freed requests at
//!   the cluster's unit prices × 730 h: *allocated* cost, realised when the
//!   node count follows (an autoscaler, or the idle-pool suggestion). Not
//!   one-click: it rolls every pod, and a memory request cut below a peak
//!   the p95 missed gets the pod evicted first under pressure; with a CPU
//!   HPA it also changes the utilisation the HPA sees.
//! - **Idle node pools**: a pool whose requests and p95 usage fit in fewer
//!   nodes at [`SuggestionConfig::pool_target_pct`] (70 %) of their
//!   capacity. The change is the pool's new count, never below its minimum.
//!   One-click (through the node-pool scale action) when the requests on the
//!   pool are known, because the count is computed so that they fit with
//!   headroom; otherwise not.
//! - **Single-replica deployments without a PDB**: one pod and no
//!   PodDisruptionBudget means a node drain or upgrade takes the service
//!   down. PDBs are not collected yet: the caller passes `has_pdb`
//!   (`None`: unknown, reported as such). Scaling to 2 is one-click and
//!   safe (it only adds a pod); the PDB is the manual second step. The
//!   "savings" are negative: the extra pod's cost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cost_allocation::{CostSplit, NodeCost};

const HOURS_PER_MONTH: f64 = 730.0;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

/// What a core and a GiB cost per hour in a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnitPrices {
    pub cpu_core_hour: f64,
    pub memory_gib_hour: f64,
}

impl UnitPrices {
    /// From the nodes' cost over `period_hours`, split as the allocation
    /// splits it. `None` without nodes, capacity or a positive period.
    pub fn from_nodes(nodes: &[NodeCost], split: CostSplit, period_hours: f64) -> Option<Self> {
        if !(period_hours.is_finite() && period_hours > 0.0) {
            return None;
        }
        let (mut cpu, mut mem, mut cpu_cost, mut mem_cost) = (0.0, 0.0, 0.0, 0.0);
        for n in nodes {
            let ok = |v: f64| v.is_finite() && v >= 0.0;
            if !(ok(n.cost) && ok(n.cpu_cores) && ok(n.memory_bytes)) {
                continue;
            }
            let f = split.cpu_fraction(n.cpu_cores, n.memory_bytes);
            cpu += n.cpu_cores;
            mem += n.memory_bytes / GIB;
            cpu_cost += n.cost * f;
            mem_cost += n.cost * (1.0 - f);
        }
        (cpu > 0.0 && mem > 0.0).then(|| UnitPrices {
            cpu_core_hour: cpu_cost / cpu / period_hours,
            memory_gib_hour: mem_cost / mem / period_hours,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SuggestionConfig {
    pub over_ratio: f64,
    pub headroom: f64,
    pub min_usage_days: f64,
    pub min_monthly_savings: f64,
    pub pool_target_pct: f64,
}

impl Default for SuggestionConfig {
    fn default() -> SuggestionConfig {
        SuggestionConfig {
            over_ratio: 2.0,
            headroom: 0.3,
            min_usage_days: 7.0,
            min_monthly_savings: 1.0,
            pool_target_pct: 70.0,
        }
    }
}

/// A workload with its requests and its usage over the last days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadProfile {
    pub cluster_id: String,
    pub namespace: String,
    pub name: String,
    pub replicas: i32,
    /// Containers in the pod template: `kubectl set resources` without `-c`
    /// sets every container, so a multi-container pod is not given a
    /// command that would.
    pub containers: u32,
    pub request_cpu_cores_per_pod: Option<f64>,
    pub request_memory_bytes_per_pod: Option<f64>,
    /// The p95 of per-pod usage over the window.
    pub p95_cpu_cores_per_pod: Option<f64>,
    pub p95_memory_bytes_per_pod: Option<f64>,
    /// How many days the usage covers.
    pub usage_days: f64,
    pub has_hpa: bool,
    pub hpa_min_replicas: Option<i32>,
    /// `None`: unknown (PDBs are not collected yet).
    pub has_pdb: Option<bool>,
    /// The deployment's pod selector, for the PDB command.
    pub selector: BTreeMap<String, String>,
}

/// A node pool with what runs on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolProfile {
    pub cluster_id: String,
    pub pool: String,
    pub nodes: u32,
    pub min_count: u32,
    pub cpu_cores_per_node: f64,
    pub memory_bytes_per_node: f64,
    /// Σ requests of the pods on the pool; `None` when not known.
    pub requested_cpu_cores: Option<f64>,
    pub requested_memory_bytes: Option<f64>,
    /// The p95 of the pool's total usage over the window.
    pub p95_cpu_cores: Option<f64>,
    pub p95_memory_bytes: Option<f64>,
    pub node_hourly_cost: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    RightSizeRequests,
    IdleNodePool,
    SingleReplicaNoPdb,
}

/// What one click would do, for the actions that exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum OneClick {
    ScaleDeployment {
        cluster_id: String,
        namespace: String,
        deployment: String,
        replicas: i32,
    },
    ScaleNodePool {
        cluster_id: String,
        pool: String,
        count: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    pub cluster_id: String,
    /// `namespace/name` or `pool/NAME`.
    pub target: String,
    pub summary: String,
    /// Per month; negative for a change that costs money.
    pub monthly_savings: f64,
    /// The exact change, as commands to run (in order).
    pub commands: Vec<String>,
    /// The action behind the one-click button, when there is one.
    pub action: Option<OneClick>,
    /// Whether that click is safe without review.
    pub safe_one_click: bool,
    pub caveats: Vec<String>,
}

fn round_up(v: f64, step: f64) -> f64 {
    (v / step).ceil() * step
}

fn good(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite() && *v >= 0.0)
}

fn right_size(
    w: &WorkloadProfile,
    prices: &UnitPrices,
    cfg: &SuggestionConfig,
) -> Option<Suggestion> {
    // NaN days count as too few.
    let enough_days = w.usage_days.is_finite() && w.usage_days >= cfg.min_usage_days;
    if w.replicas <= 0 || !enough_days {
        return None;
    }
    let pods = f64::from(w.replicas);
    // (new request, freed per pod) per resource, when far above the p95.
    let shrink = |req: Option<f64>, p95: Option<f64>, step: f64, min: f64| {
        let (req, p95) = (good(req)?, good(p95)?);
        if req <= 0.0 || req < cfg.over_ratio * p95 {
            return None;
        }
        let new = round_up(p95 * (1.0 + cfg.headroom), step).max(min);
        (new < req).then_some((new, req - new))
    };
    let cpu = shrink(
        w.request_cpu_cores_per_pod,
        w.p95_cpu_cores_per_pod,
        0.005,
        0.01,
    );
    let mem = shrink(
        w.request_memory_bytes_per_pod,
        w.p95_memory_bytes_per_pod,
        8.0 * MIB,
        16.0 * MIB,
    );
    if cpu.is_none() && mem.is_none() {
        return None;
    }
    let savings = HOURS_PER_MONTH
        * pods
        * (cpu.map_or(0.0, |c| c.1) * prices.cpu_core_hour
            + mem.map_or(0.0, |m| m.1 / GIB) * prices.memory_gib_hour);
    if savings < cfg.min_monthly_savings {
        return None;
    }
    let mut requests = Vec::new();
    let mut said = Vec::new();
    if let Some((new, _)) = cpu {
        let m = (new * 1000.0).round();
        requests.push(format!("cpu={m}m"));
        said.push(format!(
            "CPU {}m → {m}m (p95 {:.0}m)",
            (w.request_cpu_cores_per_pod.unwrap_or(0.0) * 1000.0).round(),
            w.p95_cpu_cores_per_pod.unwrap_or(0.0) * 1000.0
        ));
    }
    if let Some((new, _)) = mem {
        let mi = (new / MIB).round();
        requests.push(format!("memory={mi}Mi"));
        said.push(format!(
            "memory {:.0}Mi → {mi}Mi (p95 {:.0}Mi)",
            w.request_memory_bytes_per_pod.unwrap_or(0.0) / MIB,
            w.p95_memory_bytes_per_pod.unwrap_or(0.0) / MIB
        ));
    }
    let mut caveats = vec![
        "Savings are allocated cost: they are realised when the node count follows \
         (an autoscaler, or scaling the pool down)."
            .to_string(),
        "Changing requests rolls out every pod of the deployment.".to_string(),
    ];
    if mem.is_some() {
        caveats.push(
            "A memory request below a peak the p95 missed makes the pod the first evicted \
             under memory pressure; check the max usage too."
                .into(),
        );
    }
    if cpu.is_some() && w.has_hpa {
        caveats.push(
            "An HPA on CPU utilisation measures against the request: a lower request reads \
             as higher utilisation and may add replicas; raise its target to match."
                .into(),
        );
    }
    let container = if w.containers > 1 {
        caveats.push(format!(
            "The pod has {} containers: the requests and p95 are per pod; choose the \
             container with -c and split the change between them.",
            w.containers
        ));
        " -c CONTAINER"
    } else {
        ""
    };
    Some(Suggestion {
        kind: SuggestionKind::RightSizeRequests,
        cluster_id: w.cluster_id.clone(),
        target: format!("{}/{}", w.namespace, w.name),
        summary: format!(
            "{}/{} requests far more than it uses over {:.0} days: {}",
            w.namespace,
            w.name,
            w.usage_days,
            said.join(", ")
        ),
        monthly_savings: savings,
        commands: vec![format!(
            "kubectl -n {} set resources deployment/{}{container} --requests={}",
            w.namespace,
            w.name,
            requests.join(",")
        )],
        action: None,
        safe_one_click: false,
        caveats,
    })
}

fn single_replica(w: &WorkloadProfile, prices: Option<&UnitPrices>) -> Option<Suggestion> {
    if w.replicas != 1 || w.has_pdb == Some(true) || w.hpa_min_replicas.is_some_and(|m| m >= 2) {
        return None;
    }
    let pod_cost = prices.map_or(0.0, |p| {
        HOURS_PER_MONTH
            * (good(w.request_cpu_cores_per_pod).unwrap_or(0.0) * p.cpu_core_hour
                + good(w.request_memory_bytes_per_pod).unwrap_or(0.0) / GIB * p.memory_gib_hour)
    });
    let selector = if w.selector.is_empty() {
        "KEY=VALUE".to_string()
    } else {
        w.selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut caveats = Vec::new();
    if w.selector.is_empty() {
        caveats.push("Put the deployment's pod selector in the PDB command.".to_string());
    }
    if w.has_pdb.is_none() {
        caveats.push(
            "PodDisruptionBudgets are not collected yet: check with `kubectl -n NS get pdb` \
             before adding one."
                .replace("NS", &w.namespace),
        );
    }
    let mut commands = vec![format!(
        "kubectl -n {} scale deployment/{} --replicas=2",
        w.namespace, w.name
    )];
    if w.has_hpa {
        commands = vec![format!(
            "kubectl -n {} patch hpa {} -p '{{\"spec\":{{\"minReplicas\":2}}}}'",
            w.namespace, w.name
        )];
        caveats.push("An HPA owns the replica count: raise its minimum instead.".into());
    }
    commands.push(format!(
        "kubectl -n {} create poddisruptionbudget {} --selector={selector} --min-available=1",
        w.namespace, w.name
    ));
    Some(Suggestion {
        kind: SuggestionKind::SingleReplicaNoPdb,
        cluster_id: w.cluster_id.clone(),
        target: format!("{}/{}", w.namespace, w.name),
        summary: format!(
            "{}/{} runs one replica {}: a node drain or upgrade takes it down",
            w.namespace,
            w.name,
            if w.has_pdb.is_none() {
                "and no PodDisruptionBudget is known"
            } else {
                "without a PodDisruptionBudget"
            }
        ),
        monthly_savings: -pod_cost,
        commands,
        // Scaling up only adds a pod: safe. With an HPA, the HPA would
        // scale it back, so there is no one-click.
        action: (!w.has_hpa).then(|| OneClick::ScaleDeployment {
            cluster_id: w.cluster_id.clone(),
            namespace: w.namespace.clone(),
            deployment: w.name.clone(),
            replicas: 2,
        }),
        safe_one_click: !w.has_hpa,
        caveats,
    })
}

fn idle_pool(p: &PoolProfile, cfg: &SuggestionConfig) -> Option<Suggestion> {
    let target = cfg.pool_target_pct / 100.0;
    if p.nodes == 0
        || !(p.cpu_cores_per_node > 0.0 && p.memory_bytes_per_node > 0.0)
        || !(target > 0.0 && target <= 1.0)
        || !(p.node_hourly_cost.is_finite() && p.node_hourly_cost >= 0.0)
    {
        return None;
    }
    // Nodes needed for the larger of requests and p95 usage, per resource.
    let need = |req: Option<f64>, p95: Option<f64>, per_node: f64| -> Option<f64> {
        let v = match (good(req), good(p95)) {
            (Some(r), Some(u)) => r.max(u),
            (r, u) => r.or(u)?,
        };
        Some((v / (per_node * target)).ceil())
    };
    let cpu = need(p.requested_cpu_cores, p.p95_cpu_cores, p.cpu_cores_per_node)?;
    let mem = need(
        p.requested_memory_bytes,
        p.p95_memory_bytes,
        p.memory_bytes_per_node,
    )?;
    let count = (cpu.max(mem) as u32).max(p.min_count);
    if count >= p.nodes {
        return None;
    }
    let freed = p.nodes - count;
    let savings = f64::from(freed) * p.node_hourly_cost * HOURS_PER_MONTH;
    if savings < cfg.min_monthly_savings {
        return None;
    }
    let requests_known =
        good(p.requested_cpu_cores).is_some() && good(p.requested_memory_bytes).is_some();
    let mut caveats = vec![format!(
        "The nodes removed are drained: their pods move to the remaining {count} node(s), \
         which hold the pool's requests and p95 usage at ≤ {:.0} %.",
        cfg.pool_target_pct
    )];
    if !requests_known {
        caveats.push(
            "The requests on this pool are not known, only its usage: review before scaling."
                .into(),
        );
    }
    Some(Suggestion {
        kind: SuggestionKind::IdleNodePool,
        cluster_id: p.cluster_id.clone(),
        target: format!("pool/{}", p.pool),
        summary: format!(
            "node pool {} runs {} node(s) for what {count} can hold",
            p.pool, p.nodes
        ),
        monthly_savings: savings,
        commands: vec![format!(
            "cloudops nodepool scale --cluster {} --pool {} --count {count}",
            p.cluster_id, p.pool
        )],
        action: Some(OneClick::ScaleNodePool {
            cluster_id: p.cluster_id.clone(),
            pool: p.pool.clone(),
            count,
        }),
        safe_one_click: requests_known,
        caveats,
    })
}

/// Every suggestion for the given workloads and pools, largest savings
/// first (HA gaps, which cost money, last). `prices` per cluster id; a
/// workload in a cluster without prices gets no right-sizing (the savings
/// would be unknown).
pub fn suggestions(
    workloads: &[WorkloadProfile],
    pools: &[PoolProfile],
    prices: &BTreeMap<String, UnitPrices>,
    cfg: &SuggestionConfig,
) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = Vec::new();
    for w in workloads {
        let p = prices.get(&w.cluster_id);
        if let Some(p) = p {
            out.extend(right_size(w, p, cfg));
        }
        out.extend(single_replica(w, p));
    }
    out.extend(pools.iter().filter_map(|p| idle_pool(p, cfg)));
    out.sort_by(|a, b| {
        b.monthly_savings
            .total_cmp(&a.monthly_savings)
            .then_with(|| a.target.cmp(&b.target))
    });
    out
}

#[cfg(test)]
#[path = "cost_suggestions_tests.rs"]
mod tests;
