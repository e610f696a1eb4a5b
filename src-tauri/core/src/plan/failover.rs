//! The failover plan (issue 6, BRIEF §8): move a deployment's replicas from
//! one cluster to another cluster that runs the same deployment.
//!
//! Pure. The executor (`cloudops-cloud::act::failover`) reads each
//! cluster's live facts ([`ClusterFacts`]), calls [`plan_failover`], shows
//! the plan, and runs it only when [`FailoverPlan::refusal`] is `None`.
//!
//! Groups are "the same namespace/deployment across clusters", detected
//! from the cached cluster state ([`detect_groups`]), plus members the user
//! added by hand (a deployment named differently in another cluster).
//!
//! When no target is named, the candidates are ranked by, in order:
//! 1. whether the moved replicas fit on the candidate's nodes;
//! 2. health: a known score at or above [`MIN_HEALTH_SCORE`] first, then an
//!    unknown score, then an unhealthy one;
//! 3. diversity from the source: another cloud beats another region of the
//!    same cloud, which beats the same region (a failover is usually away
//!    from a regional or provider problem);
//! 4. the health score itself;
//! 5. the cost of the moved pods per hour, when both prices are known.
//!
//! Before all of these, a candidate that could not be read (unreachable
//! within the reader's deadline) or that refuses the writes the run needs
//! (an RBAC denial, asked with a SelfSubjectAccessReview) ranks last and is
//! shown with the reason; named as the target, it makes the plan refuse.
//!
//! The winner's reasons say which of these made it win over each runner-up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fit::{fit, FitReport, NodeCapacity, PodShape};
use super::scale::{HpaBounds, WorkloadRef};

/// A target whose health score is below this is refused: moving load onto
/// a cluster that is already failing makes two incidents out of one. 50 is
/// where the health model puts "serious trouble" (several alerts, or
/// errors and latency both well over their SLO).
pub const MIN_HEALTH_SCORE: f64 = 50.0;

/// A group name: `namespace/deployment`.
pub fn group_key(namespace: &str, deployment: &str) -> String {
    format!("{namespace}/{deployment}")
}

/// Splits `NS/DEPLOY`; `None` when either side is empty or there is no `/`.
pub fn parse_group_key(key: &str) -> Option<(&str, &str)> {
    let (ns, name) = key.split_once('/')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains('/')).then_some((ns, name))
}

/// One deployment in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub workload: WorkloadRef,
    /// `auto` (found in the cached state) or `user` (added by hand).
    pub origin: String,
}

/// The same workload across clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverGroup {
    pub key: String,
    pub members: Vec<GroupMember>,
}

/// A deployment seen in the cache (cluster, namespace, name).
pub type CachedDeployment = (String, String, String);

/// Groups from the cached deployments plus the user's members
/// (`(group key, member)`): every `namespace/name` that runs in at least
/// two clusters, or that the user named. Sorted by key; members by cluster.
pub fn detect_groups(
    deployments: &[CachedDeployment],
    user: &[(String, WorkloadRef)],
) -> Vec<FailoverGroup> {
    let mut by_key: BTreeMap<String, BTreeMap<String, GroupMember>> = BTreeMap::new();
    for (cluster, ns, name) in deployments {
        by_key.entry(group_key(ns, name)).or_default().insert(
            cluster.clone(),
            GroupMember {
                workload: WorkloadRef {
                    cluster_id: cluster.clone(),
                    namespace: ns.clone(),
                    deployment: name.clone(),
                },
                origin: "auto".into(),
            },
        );
    }
    let user_keys: std::collections::BTreeSet<&str> =
        user.iter().map(|(k, _)| k.as_str()).collect();
    for (key, w) in user {
        // A user member replaces an auto one for the same cluster: the user
        // said which deployment it is.
        by_key.entry(key.clone()).or_default().insert(
            w.cluster_id.clone(),
            GroupMember {
                workload: w.clone(),
                origin: "user".into(),
            },
        );
    }
    by_key
        .into_iter()
        .filter(|(k, m)| m.len() >= 2 || user_keys.contains(k.as_str()))
        .map(|(key, m)| FailoverGroup {
            key,
            members: m.into_values().collect(),
        })
        .collect()
}

/// What the executor read about the deployment in one cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterFacts {
    pub workload: Option<WorkloadRef>,
    pub cluster_id: String,
    /// `aws`, `gcp`, `azure`, `do`, `kubeconfig`.
    pub provider: String,
    pub region: String,
    /// 0..=100, `None` when the cache has no score.
    pub health: Option<f64>,
    pub replicas: i32,
    pub ready: i32,
    pub hpa: Option<HpaBounds>,
    pub pod: PodShape,
    pub nodes: Vec<NodeCapacity>,
    /// What one node costs per hour, when cost data exists.
    pub node_hourly_price: Option<f64>,
    /// Set when the member could not be read in time (timeout, connection
    /// refused, 5xx after retries): why. The other facts are then empty.
    #[serde(default)]
    pub unreachable: Option<String>,
    /// The writes the run would make here that the cluster's RBAC denies.
    #[serde(default)]
    pub denied: Vec<AccessDenied>,
}

/// One write the cluster's RBAC denies, as a SelfSubjectAccessReview
/// answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDenied {
    /// `patch`, `create`, …
    pub verb: String,
    /// With its subresource: `deployments/scale`.
    pub resource: String,
    /// The API group: `apps`, `autoscaling`.
    pub group: String,
    pub namespace: String,
    /// The authorizer's reason, when it gave one.
    pub reason: Option<String>,
}

impl AccessDenied {
    /// `patch deployments/scale (apps) in namespace shop`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} ({}) in namespace {}",
            self.verb, self.resource, self.group, self.namespace
        )
    }
}

/// The managed-Kubernetes name of a provider, for messages.
pub fn service_name(provider: &str) -> &str {
    match provider {
        "aws" => "EKS",
        "gcp" => "GKE",
        "azure" => "AKS",
        "do" => "DOKS",
        other => other,
    }
}

impl ClusterFacts {
    /// Facts for a member that could not be read: only where it is.
    pub fn unreachable(
        workload: WorkloadRef,
        provider: &str,
        region: &str,
        why: impl Into<String>,
    ) -> ClusterFacts {
        ClusterFacts {
            cluster_id: workload.cluster_id.clone(),
            workload: Some(workload),
            provider: provider.to_owned(),
            region: region.to_owned(),
            unreachable: Some(why.into()),
            ..Default::default()
        }
    }

    /// Unreachable or denied: it cannot take part in a run.
    fn blocked(&self) -> bool {
        self.unreachable.is_some() || !self.denied.is_empty()
    }

    /// Why the member cannot take part, as (refusal, hint); `None` when it
    /// can. `role` is `target` or `source` (what the run does there).
    pub fn blocker(&self, role: &str) -> Option<(String, String)> {
        if let Some(why) = &self.unreachable {
            let place = if self.region.is_empty() {
                format!("the cluster {}", self.cluster_id)
            } else {
                format!(
                    "the {} region {}",
                    service_name(&self.provider),
                    self.region
                )
            };
            return Some((
                format!("the {role} {} is unreachable: {why}", self.cluster_id),
                format!("{place} does not answer; pick another target or wait until it does, then plan again."),
            ));
        }
        if !self.denied.is_empty() {
            let what: Vec<String> = self.denied.iter().map(AccessDenied::describe).collect();
            return Some((
                format!(
                    "the {role} {} forbids what the run must do there: {}",
                    self.cluster_id,
                    what.join("; ")
                ),
                format!(
                    "Ask the admin of {} for an RBAC Role (and RoleBinding for your identity) \
                     granting {}, or use an identity that has it; nothing was changed.",
                    self.cluster_id,
                    what.join(", ")
                ),
            ));
        }
        None
    }
    /// One pod's share of a node's price: the larger of its CPU and memory
    /// shares of an average node. `None` without a price or nodes.
    fn pod_hourly_price(&self) -> Option<f64> {
        let price = self.node_hourly_price?;
        let n = self.nodes.len();
        if n == 0 {
            return None;
        }
        let cpu = self.nodes.iter().map(|x| x.allocatable_cpu).sum::<f64>() / n as f64;
        let mem = self.nodes.iter().map(|x| x.allocatable_memory).sum::<f64>() / n as f64;
        let share = f64::max(
            if cpu > 0.0 { self.pod.cpu / cpu } else { 0.0 },
            if mem > 0.0 {
                self.pod.memory / mem
            } else {
                0.0
            },
        );
        Some(price * share)
    }
}

/// Before and after of an HPA's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HpaChange {
    pub before: HpaBounds,
    pub after: HpaBounds,
}

/// The cost of running the moved pods in the target instead of the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostDelta {
    /// Positive: the target costs more per hour. `None` when unknown.
    pub hourly: Option<f64>,
    /// Why it is omitted, when it is.
    pub note: Option<String>,
}

/// One candidate as the ranking saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub cluster_id: String,
    pub provider: String,
    pub region: String,
    pub health: Option<f64>,
    pub fits: bool,
    pub room: u32,
    /// `other_cloud`, `other_region` or `same_region`.
    pub diversity: String,
    pub pod_hourly_price: Option<f64>,
    /// Why it cannot be the target, if it cannot.
    pub refused: Option<String>,
}

/// The preview of a failover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailoverPlan {
    pub group: String,
    pub source: WorkloadRef,
    pub target: WorkloadRef,
    pub source_provider: String,
    pub target_provider: String,
    pub crosses_cloud: bool,
    pub source_replicas: i32,
    pub source_ready: i32,
    pub target_replicas: i32,
    pub target_ready: i32,
    /// Replicas moved: the source's minus the floor.
    pub replicas_to_move: i32,
    /// The target's count after the raise.
    pub target_after: i32,
    /// What the source keeps (0 drains it).
    pub source_floor: i32,
    /// Ready replicas across both before the run: the invariant's floor.
    pub baseline_ready: i32,
    /// The target's ready count the wait step waits for.
    pub wait_for_ready: i32,
    pub fit: FitReport,
    pub source_health: Option<f64>,
    pub target_health: Option<f64>,
    pub cost: CostDelta,
    pub target_hpa: Option<HpaChange>,
    pub source_hpa: Option<HpaChange>,
    /// Every candidate, best first (the target first).
    pub candidates: Vec<Candidate>,
    /// Why the target was chosen (or that the user named it).
    pub why: Vec<String>,
    /// Why the plan cannot run; `None` when it can.
    pub refusal: Option<String>,
    /// What to do about the refusal, when there is one.
    #[serde(default)]
    pub refusal_hint: Option<String>,
    pub warnings: Vec<String>,
    /// The deployment's name, to be typed, when the run crosses a cloud or
    /// drains the source to 0; `None` for a yes/no.
    pub typed_confirmation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailoverPlanError {
    #[error("{group} has no other cluster to fail over to")]
    NoCandidate { group: String },
    #[error("{cluster} does not run {group}")]
    NotInGroup { group: String, cluster: String },
    #[error("the target {cluster} is the source")]
    TargetIsSource { cluster: String },
    #[error("a floor of {floor} is out of range for a source with {replicas} replicas")]
    BadFloor { floor: i32, replicas: i32 },
}

impl FailoverPlanError {
    pub fn kind(&self) -> &'static str {
        match self {
            FailoverPlanError::NoCandidate { .. } => "no_candidate",
            FailoverPlanError::NotInGroup { .. } => "not_in_group",
            FailoverPlanError::TargetIsSource { .. } => "invalid_argument",
            FailoverPlanError::BadFloor { .. } => "invalid_argument",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            FailoverPlanError::NoCandidate { .. } => "Deploy the workload to another cluster (or \
                 add one to the group), refresh the cache, then plan again."
                .into(),
            FailoverPlanError::NotInGroup { .. } => "List the group's clusters with `cloudops \
                 failover plan --group NS/DEPLOY --from CLUSTER`, after a `cloudops refresh`."
                .into(),
            FailoverPlanError::TargetIsSource { .. } => "Name another cluster with --to.".into(),
            FailoverPlanError::BadFloor { .. } => {
                "Use a floor between 0 and the source's replicas.".into()
            }
        }
    }
}

fn diversity(source: &ClusterFacts, c: &ClusterFacts) -> (u8, &'static str) {
    if c.provider != source.provider {
        (2, "other_cloud")
    } else if c.region != source.region {
        (1, "other_region")
    } else {
        (0, "same_region")
    }
}

/// 2 healthy, 1 unknown, 0 unhealthy.
fn health_class(h: Option<f64>) -> u8 {
    match h {
        Some(v) if v >= MIN_HEALTH_SCORE => 2,
        None => 1,
        Some(_) => 0,
    }
}

fn fmt_health(h: Option<f64>) -> String {
    h.map_or("unknown".into(), |v| format!("{v:.0}"))
}

struct Ranked<'a> {
    facts: &'a ClusterFacts,
    fit: FitReport,
    diversity: (u8, &'static str),
    pod_price: Option<f64>,
}

impl Ranked<'_> {
    /// Higher is better, compared in the module's order. Cost compares
    /// only when both are known (else equal): a missing price must not win
    /// or lose on its own.
    fn better_than(&self, o: &Ranked<'_>) -> std::cmp::Ordering {
        let key = |r: &Ranked<'_>| {
            (
                !r.facts.blocked(),
                r.fit.fits,
                health_class(r.facts.health),
                r.diversity.0,
            )
        };
        key(self)
            .cmp(&key(o))
            .then_with(|| {
                let a = self.facts.health.unwrap_or(0.0);
                let b = o.facts.health.unwrap_or(0.0);
                a.total_cmp(&b)
            })
            .then_with(|| match (self.pod_price, o.pod_price) {
                // Cheaper is better.
                (Some(a), Some(b)) => b.total_cmp(&a),
                _ => std::cmp::Ordering::Equal,
            })
            .then_with(|| o.facts.cluster_id.cmp(&self.facts.cluster_id))
    }

    /// The first criterion on which `self` beats `o`, as a sentence.
    fn wins_on(&self, o: &Ranked<'_>) -> String {
        let other = &o.facts.cluster_id;
        if let Some(why) = &o.facts.unreachable {
            return format!("{other} is unreachable: {why}");
        }
        if !o.facts.denied.is_empty() {
            return format!(
                "{other} forbids {}",
                o.facts
                    .denied
                    .iter()
                    .map(AccessDenied::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        if self.fit.fits && !o.fit.fits {
            return format!("{other} has room for only {} of the pods", o.fit.room);
        }
        if health_class(self.facts.health) != health_class(o.facts.health) {
            return format!(
                "{other}'s health is {} (threshold {MIN_HEALTH_SCORE:.0})",
                fmt_health(o.facts.health)
            );
        }
        if self.diversity.0 != o.diversity.0 {
            return format!(
                "{other} is in {} ({} {}), less independent of the source",
                o.diversity.1.replace('_', " "),
                o.facts.provider,
                o.facts.region
            );
        }
        let (a, b) = (
            self.facts.health.unwrap_or(0.0),
            o.facts.health.unwrap_or(0.0),
        );
        if a != b {
            return format!("{other}'s health is lower ({})", fmt_health(o.facts.health));
        }
        if let (Some(a), Some(b)) = (self.pod_price, o.pod_price) {
            if a < b {
                return format!("{other} costs more per pod ({b:.4}/h against {a:.4}/h)");
            }
        }
        format!("{other} ties on every criterion; the id order decides")
    }
}

/// Plans moving `source`'s replicas (down to `floor`) to `to`, or to the
/// best of `candidates` when `to` is `None`.
pub fn plan_failover(
    group: &str,
    source: &ClusterFacts,
    candidates: &[ClusterFacts],
    to: Option<&str>,
    floor: i32,
) -> Result<FailoverPlan, FailoverPlanError> {
    if floor < 0 || floor > source.replicas {
        return Err(FailoverPlanError::BadFloor {
            floor,
            replicas: source.replicas,
        });
    }
    if to == Some(source.cluster_id.as_str()) {
        return Err(FailoverPlanError::TargetIsSource {
            cluster: source.cluster_id.clone(),
        });
    }
    let moved = source.replicas - floor;
    let mut ranked: Vec<Ranked<'_>> = candidates
        .iter()
        .filter(|c| c.cluster_id != source.cluster_id)
        .map(|c| Ranked {
            facts: c,
            fit: fit(&c.nodes, &c.pod, moved.max(0) as u32),
            diversity: diversity(source, c),
            pod_price: c.pod_hourly_price(),
        })
        .collect();
    if ranked.is_empty() {
        return Err(FailoverPlanError::NoCandidate {
            group: group.to_owned(),
        });
    }
    ranked.sort_by(|a, b| b.better_than(a));
    let chosen = match to {
        Some(id) => ranked
            .iter()
            .position(|r| r.facts.cluster_id == id)
            .ok_or_else(|| FailoverPlanError::NotInGroup {
                group: group.to_owned(),
                cluster: id.to_owned(),
            })?,
        None => 0,
    };
    let winner = &ranked[chosen];
    let t = winner.facts;

    let mut why = Vec::new();
    if to.is_some() {
        why.push(format!("{} was named with --to", t.cluster_id));
    } else {
        why.push(format!(
            "fits {moved} more pods (room for {})",
            winner.fit.room
        ));
        why.push(format!("health {}", fmt_health(t.health)));
        why.push(match winner.diversity.1 {
            "other_cloud" => format!(
                "another cloud ({}) than the source ({})",
                t.provider, source.provider
            ),
            "other_region" => format!(
                "another region ({}) than the source ({})",
                t.region, source.region
            ),
            _ => format!("the same region as the source ({})", t.region),
        });
        for o in ranked.iter().skip(1) {
            why.push(format!(
                "over {}: {}",
                o.facts.cluster_id,
                winner.wins_on(o)
            ));
        }
    }

    // The order says which refusal is shown: one that makes the others
    // moot (no answer at all) first.
    let (refusal, refusal_hint) = if let Some((r, h)) = t.blocker("target") {
        (Some(r), Some(h))
    } else if let Some((r, h)) = source.blocker("source") {
        (Some(r), Some(h))
    } else if !winner.fit.fits {
        (
            Some(format!(
                "{} cannot hold the load: {}",
                t.cluster_id, winner.fit.summary
            )),
            Some("Pick another target (--to), or add nodes to this one, then plan again.".into()),
        )
    } else {
        match t.health {
            Some(h) if h < MIN_HEALTH_SCORE => (
                Some(format!(
                    "{} is unhealthy: its health score {h:.0} is below {MIN_HEALTH_SCORE:.0}",
                    t.cluster_id
                )),
                Some("Pick another target, or wait until this one is healthy again.".into()),
            ),
            _ => (None, None),
        }
    };

    let mut warnings = Vec::new();
    if t.health.is_none() && !t.blocked() {
        warnings.push(format!(
            "{} has no health score in the cache (run `cloudops refresh`): its health was not checked",
            t.cluster_id
        ));
    }
    if source.ready < source.replicas {
        warnings.push(format!(
            "the source has {} of {} replicas ready",
            source.ready, source.replicas
        ));
    }
    let target_after = t.replicas + moved;
    let target_hpa = t.hpa.map(|b| HpaChange {
        before: b,
        after: HpaBounds {
            min: b.min.max(target_after),
            max: b.max.max(target_after),
        },
    });
    // While the source drains, its HPA must not scale it back up to its
    // min; at 0 replicas an HPA is inactive, and its min cannot be 0.
    let source_hpa = source.hpa.and_then(|b| {
        let min = floor.max(1);
        (b.min > min).then_some(HpaChange {
            before: b,
            after: HpaBounds { min, max: b.max },
        })
    });
    if source_hpa.is_some() {
        warnings.push(format!(
            "the source's HPA min is lowered to {} while it drains (restored by rollback)",
            floor.max(1)
        ));
    }
    let cost = match (source.pod_hourly_price(), winner.pod_price) {
        (Some(s), Some(d)) => CostDelta {
            hourly: Some(f64::from(moved) * (d - s)),
            note: None,
        },
        _ => CostDelta {
            hourly: None,
            note: Some(
                "cost data is not available for both clusters: the cost delta is omitted".into(),
            ),
        },
    };
    let crosses_cloud = t.provider != source.provider;
    let typed_confirmation = (crosses_cloud || floor == 0).then(|| {
        source
            .workload
            .as_ref()
            .map_or_else(|| group.to_owned(), |w| w.deployment.clone())
    });
    let baseline_ready = source.ready + t.ready;
    let workload = |f: &ClusterFacts| {
        f.workload.clone().unwrap_or_else(|| {
            let (ns, name) = parse_group_key(group).unwrap_or(("", group));
            WorkloadRef {
                cluster_id: f.cluster_id.clone(),
                namespace: ns.to_owned(),
                deployment: name.to_owned(),
            }
        })
    };
    let candidates = std::iter::once(winner)
        .chain(
            ranked
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != chosen)
                .map(|(_, r)| r),
        )
        .map(|r| Candidate {
            cluster_id: r.facts.cluster_id.clone(),
            provider: r.facts.provider.clone(),
            region: r.facts.region.clone(),
            health: r.facts.health,
            fits: r.fit.fits,
            room: r.fit.room,
            diversity: r.diversity.1.to_owned(),
            pod_hourly_price: r.pod_price,
            refused: if let Some(why) = &r.facts.unreachable {
                Some(format!("unreachable: {why}"))
            } else if !r.facts.denied.is_empty() {
                Some(format!(
                    "forbidden: {}",
                    r.facts
                        .denied
                        .iter()
                        .map(AccessDenied::describe)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            } else if !r.fit.fits {
                Some(format!("no room: {}", r.fit.summary))
            } else if health_class(r.facts.health) == 0 {
                Some(format!("unhealthy ({})", fmt_health(r.facts.health)))
            } else {
                None
            },
        })
        .collect();
    Ok(FailoverPlan {
        group: group.to_owned(),
        source: workload(source),
        target: workload(t),
        source_provider: source.provider.clone(),
        target_provider: t.provider.clone(),
        crosses_cloud,
        source_replicas: source.replicas,
        source_ready: source.ready,
        target_replicas: t.replicas,
        target_ready: t.ready,
        replicas_to_move: moved,
        target_after,
        source_floor: floor,
        baseline_ready,
        // By construction of the drain: the target alone must carry what
        // the source's drained replicas carried.
        wait_for_ready: (baseline_ready - floor).max(source.ready).min(target_after),
        fit: winner.fit.clone(),
        source_health: source.health,
        target_health: t.health,
        cost,
        target_hpa,
        source_hpa,
        candidates,
        why,
        refusal,
        refusal_hint,
        warnings,
        typed_confirmation,
    })
}

#[cfg(test)]
#[path = "failover_tests.rs"]
mod tests;
