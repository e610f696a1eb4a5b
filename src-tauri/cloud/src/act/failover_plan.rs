//! Planning a failover for a group (issue 6, BRIEF §8): the one place that
//! gathers each member's live facts and hands them to the pure planner
//! (`cloudops_core::plan::failover`). The CLI and the app are thin callers.
//!
//! Two halves, so that the app can read its store on a blocking thread:
//! 1. [`CachedInputs::read`]: the group's members, health scores, where
//!    each cluster is, and node prices, from the cache;
//! 2. [`plan_for_group`]: every member read live at the same time, each
//!    under [`PlanOptions::read_deadline`], then planned.
//!
//! A member that does not answer in time (an outage hangs rather than
//! fails), refuses the connection, or answers 5xx after the client's
//! retries is not an error but a fact: "unreachable: why". Named as the
//! target it makes the plan refuse; among candidates it ranks last, shown
//! with the reason. Only the source must answer: without it there is
//! nothing to plan.
//!
//! Each member is also asked, with SelfSubjectAccessReviews, whether the
//! run's writes there are allowed (the scale subresource; the HPA when it
//! has one): a denial is a fact too, and a refusal for the source or the
//! target.

use std::collections::BTreeMap;
use std::time::Duration;

use cloudops_core::{
    audit::Outcome,
    plan::failover::{
        detect_groups, parse_group_key, plan_failover, service_name, ClusterFacts, FailoverPlan,
        FailoverPlanError, GroupMember,
    },
    store::{now_ms, Store},
};
use serde::Serialize;
use serde_json::json;

use super::{
    access_review::{denied_writes, failover_writes},
    audit,
    connect::{connect, Connected},
    failover::read_facts,
    ActError, Actor,
};
use crate::collect::fleet::FleetTarget;

/// How long one member may take to answer (connect, reads and access
/// reviews together) before it counts as unreachable. An apiserver that
/// answers at all does so in well under a second; 5 s leaves room for a
/// slow link without letting a region outage stall the plan for the
/// client's own 60 s.
pub const DEFAULT_READ_DEADLINE: Duration = Duration::from_secs(5);

/// The audit action of a refused failover (plan or run).
pub const REFUSED_ACTION: &str = "failover_refused";

/// How the members are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    /// Per member; see [`DEFAULT_READ_DEADLINE`].
    pub read_deadline: Duration,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            read_deadline: DEFAULT_READ_DEADLINE,
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRequest {
    /// `NAMESPACE/DEPLOYMENT`.
    pub group: String,
    pub from: String,
    pub to: Option<String>,
    pub floor: i32,
}

/// What the cache says about the group, read before any network call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CachedInputs {
    pub members: Vec<GroupMember>,
    /// Health scores (0..=100) by cluster id.
    pub health: BTreeMap<String, f64>,
    /// `(provider, region)` by cluster id, for members that discovery
    /// does not list right now (an outage hides a region's clusters).
    pub places: BTreeMap<String, (String, String)>,
    /// What one node costs per hour, by cluster id, when cost data exists.
    pub node_prices: BTreeMap<String, f64>,
}

impl CachedInputs {
    /// Reads the members of `group` (detected and the user's), the health
    /// scores and the clusters' places. A missing health view is no score,
    /// not an error: the plan warns about it.
    pub fn read(store: &Store, group: &str) -> Result<CachedInputs, ActError> {
        let only = parse_group_key(group);
        let cached = store.cached_deployments(only)?;
        let user = store.failover_group_members()?;
        let members = detect_groups(&cached, &user)
            .into_iter()
            .find(|g| g.key == group)
            .map(|g| g.members)
            .unwrap_or_default();
        let health = cloudops_core::views::health::fleet_health(store, now_ms() / 1000)
            .map(|f| {
                f.clusters
                    .into_iter()
                    .filter_map(|c| c.score.value.map(|v| (c.cluster_id, v)))
                    .collect()
            })
            .unwrap_or_default();
        let places = store
            .clusters(None)?
            .into_iter()
            .map(|c| (c.id, (c.provider.as_str().to_owned(), c.region)))
            .collect();
        // Prices only when every member's is in one currency: a delta
        // across currencies would be a wrong number.
        let priced = cloudops_core::views::node_prices::node_hourly_prices(store, now_ms() / 1000)
            .unwrap_or_default();
        let of_members: Vec<_> = members
            .iter()
            .filter_map(|m| priced.get(&m.workload.cluster_id).map(|p| (m, p)))
            .collect();
        let one_currency = of_members
            .windows(2)
            .all(|w| w[0].1.currency == w[1].1.currency);
        let node_prices = if one_currency {
            of_members
                .into_iter()
                .map(|(m, p)| (m.workload.cluster_id.clone(), p.hourly))
                .collect()
        } else {
            BTreeMap::new()
        };
        Ok(CachedInputs {
            members,
            health,
            places,
            node_prices,
        })
    }
}

/// A member that was not read, as the plan's callers list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreachableMember {
    pub cluster: String,
    pub kind: String,
    pub error: String,
}

/// The plan and the connections the run goes on with.
pub struct GroupPlan {
    pub plan: FailoverPlan,
    /// The members read, by cluster id (the source and target among them
    /// when the plan can run).
    pub connected: BTreeMap<String, Connected>,
    /// Members that could not be read (also ranked last in the plan).
    pub unreachable: Vec<UnreachableMember>,
}

impl GroupPlan {
    /// The cloud identity that reached `cluster`, for audit rows.
    pub fn identity(&self, cluster: &str) -> String {
        self.connected
            .get(cluster)
            .map_or_else(|| "an unknown identity".into(), |c| c.identity.clone())
    }
}

/// Errors that mean "did not answer", as opposed to "answered no".
fn is_unreachable(e: &ActError) -> bool {
    matches!(
        e,
        ActError::Unreachable { .. }
            | ActError::Connect { .. }
            | ActError::UnknownCluster { .. }
            | ActError::Timeout { .. }
            | ActError::Rejected { .. }
    )
}

/// Reads one member under the deadline: connect, facts, access reviews.
async fn read_member(
    targets: &[FleetTarget],
    cached: &CachedInputs,
    m: &GroupMember,
    is_source: bool,
    deadline: Duration,
) -> Result<(Connected, ClusterFacts), ActError> {
    let id = m.workload.cluster_id.as_str();
    let (provider, region) = place(targets, cached, id);
    let read = async {
        let conn = connect(targets, id).await.map_err(|e| match e {
            // Known to the cache, missing from discovery now: its cloud's
            // listing left it out, which is what a regional outage does.
            ActError::UnknownCluster { .. } => ActError::Unreachable {
                cluster: id.to_owned(),
                what: "discovery".into(),
                detail: format!(
                    "{} did not list it just now (is its region {} down?)",
                    service_name(&provider),
                    if region.is_empty() { "?" } else { &region }
                ),
            },
            other => other,
        })?;
        let mut facts = read_facts(
            &conn.client,
            &m.workload,
            &provider,
            &region,
            cached.health.get(id).copied(),
            cached.node_prices.get(id).copied(),
        )
        .await?;
        // The source's HPA is only written when the drain lowers its min;
        // asking for it anyway is the cautious side.
        let checks = failover_writes(&m.workload, facts.hpa.is_some());
        facts.denied = denied_writes(&conn.client, id, &checks).await?;
        Ok::<_, ActError>((conn, facts))
    };
    match tokio::time::timeout(deadline, read).await {
        Ok(r) => r,
        Err(_) => Err(ActError::Unreachable {
            cluster: id.to_owned(),
            what: if is_source {
                "the source's facts".into()
            } else {
                "its facts".into()
            },
            detail: format!(
                "no answer within {} s",
                deadline.as_secs_f64().round() as u64
            ),
        }),
    }
}

/// Where `id` is: discovery's answer, else the cache's.
fn place(targets: &[FleetTarget], cached: &CachedInputs, id: &str) -> (String, String) {
    targets
        .iter()
        .find(|t| t.cluster_id == id)
        .map(|t| {
            (
                t.cluster.provider.as_str().to_owned(),
                t.cluster.locator.region.clone(),
            )
        })
        .or_else(|| cached.places.get(id).cloned())
        .unwrap_or_default()
}

/// Plans failing `req.group` over: reads the source and the named target
/// (every member when none is named) concurrently, each under the
/// deadline, and plans with what answered.
pub async fn plan_for_group(
    targets: &[FleetTarget],
    cached: &CachedInputs,
    req: &PlanRequest,
    opts: &PlanOptions,
) -> Result<GroupPlan, ActError> {
    if !cached
        .members
        .iter()
        .any(|m| m.workload.cluster_id == req.from)
    {
        return Err(FailoverPlanError::NotInGroup {
            group: req.group.clone(),
            cluster: req.from.clone(),
        }
        .into());
    }
    let wanted: Vec<&GroupMember> = cached
        .members
        .iter()
        .filter(|m| {
            let id = &m.workload.cluster_id;
            *id == req.from || req.to.as_ref().is_none_or(|t| t == id)
        })
        .collect();
    let reads = futures_util::future::join_all(wanted.iter().map(|m| {
        let is_source = m.workload.cluster_id == req.from;
        read_member(targets, cached, m, is_source, opts.read_deadline)
    }))
    .await;

    let mut connected = BTreeMap::new();
    let mut unreachable = Vec::new();
    let mut source = None;
    let mut candidates = Vec::new();
    for (m, read) in wanted.into_iter().zip(reads) {
        let id = m.workload.cluster_id.clone();
        match read {
            Ok((conn, facts)) => {
                connected.insert(id.clone(), conn);
                if id == req.from {
                    source = Some(facts);
                } else {
                    candidates.push(facts);
                }
            }
            // Without the source there is nothing to plan.
            Err(e) if id == req.from => return Err(e),
            Err(e) if is_unreachable(&e) => {
                let (provider, region) = place(targets, cached, &id);
                let why = match &e {
                    ActError::Unreachable { detail, .. } => detail.clone(),
                    other => other.to_string(),
                };
                candidates.push(ClusterFacts::unreachable(
                    m.workload.clone(),
                    &provider,
                    &region,
                    why,
                ));
                unreachable.push(UnreachableMember {
                    cluster: id,
                    kind: e.kind().into(),
                    error: e.to_string(),
                });
            }
            // It answered, and the answer is an error (not found, a read
            // forbidden): the user named it, so say so.
            Err(e) if req.to.as_deref() == Some(id.as_str()) => return Err(e),
            Err(e) => unreachable.push(UnreachableMember {
                cluster: id,
                kind: e.kind().into(),
                error: e.to_string(),
            }),
        }
    }
    let Some(source) = source else {
        return Err(FailoverPlanError::NotInGroup {
            group: req.group.clone(),
            cluster: req.from.clone(),
        }
        .into());
    };
    let plan = plan_failover(
        &req.group,
        &source,
        &candidates,
        req.to.as_deref(),
        req.floor,
    )?;
    Ok(GroupPlan {
        plan,
        connected,
        unreachable,
    })
}

/// Records a refused plan in the audit log (no write was made): who asked,
/// for what, and why it was refused. `None` when the plan does not refuse.
pub fn record_refusal(
    store: &Store,
    actor: &Actor,
    plan: &FailoverPlan,
    asked: &str,
) -> Result<Option<i64>, ActError> {
    let Some(reason) = &plan.refusal else {
        return Ok(None);
    };
    audit(
        store,
        actor,
        REFUSED_ACTION,
        &format!("{}/{}", plan.target.cluster_id, plan.group),
        json!({
            "asked": asked, "group": plan.group,
            "source": plan.source.cluster_id, "target": plan.target.cluster_id,
            "reason": reason, "hint": plan.refusal_hint,
        }),
        Outcome::Cancelled,
    )
    .map(Some)
}
