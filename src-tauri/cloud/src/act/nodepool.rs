//! Scale a node pool through the cloud's own API (issue 6): EKS
//! UpdateNodegroupConfig, GKE `setSize`, AKS agentPools PUT, DOKS
//! node_pools PUT, each behind `Provider::scale_node_pool`. The executor
//! plans from a fresh `describe`, audits around the call, then polls
//! `describe` until the pool reports the new count (the clouds finish
//! asynchronously) or the wait runs out, reporting progress.

use std::{sync::Arc, time::Duration};

use cloudops_core::{
    audit::Outcome,
    plan::fit::NodeCapacity,
    plan::nodepool::{plan_node_pool, NodePoolPlan},
    store::Store,
};
use serde::Serialize;
use serde_json::json;

use super::capacity::read_capacity;
use super::connect::connect;
use super::{audit, ActError, Actor, WriteGuard};
use crate::collect::fleet::FleetTarget;
use crate::providers::{ClusterLocator, Provider};

pub const ACTION: &str = "scale_node_pool";

/// Where the resize stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolProgress {
    pub count: u32,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodePoolOutcome {
    /// The provider's operation handle, when it returned one.
    pub operation: Option<String>,
    pub count: u32,
    pub settled: bool,
    pub audit_ids: Vec<i64>,
}

fn provider_error(cluster: &str, what: &str, e: crate::ProviderError) -> ActError {
    use crate::ProviderError as P;
    match e {
        P::Unauthorized { message, .. } => ActError::Forbidden {
            cluster: cluster.to_owned(),
            verb: "update".into(),
            resource: what.to_owned(),
            message,
        },
        P::NotFound { what: w, .. } => ActError::NotFound {
            cluster: cluster.to_owned(),
            what: w,
        },
        P::Rejected { message, .. } => ActError::Rejected {
            cluster: cluster.to_owned(),
            what: what.to_owned(),
            message,
        },
        other => ActError::Unreachable {
            cluster: cluster.to_owned(),
            what: what.to_owned(),
            detail: other.to_string(),
        },
    }
}

/// How long a scale-down preview waits for the cluster's nodes before it
/// plans without them (and says the drain was not checked).
pub const CAPACITY_DEADLINE: Duration = Duration::from_secs(5);

/// Describes the cluster and plans the resize; a scale-down also reads the
/// nodes to check where the evicted pods would go.
pub async fn preview(
    target: &FleetTarget,
    pool: &str,
    count: u32,
) -> Result<NodePoolPlan, ActError> {
    let cluster_id = target.cluster_id.as_str();
    let fresh = target
        .provider
        .describe(&target.cluster.locator)
        .await
        .map_err(|e| provider_error(cluster_id, "the cluster", e))?;
    let shrinks = fresh
        .node_pools
        .iter()
        .any(|p| p.name == pool && count < p.count);
    let capacity: Result<Vec<NodeCapacity>, String> = if shrinks {
        let read = async {
            let connected = connect(std::slice::from_ref(target), cluster_id).await?;
            read_capacity(&connected.client, cluster_id).await
        };
        match tokio::time::timeout(CAPACITY_DEADLINE, read).await {
            Ok(Ok(nodes)) => Ok(nodes),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "the cluster's nodes did not answer within {} s",
                CAPACITY_DEADLINE.as_secs()
            )),
        }
    } else {
        Ok(Vec::new())
    };
    plan_node_pool(
        cluster_id,
        &fresh.node_pools,
        pool,
        count,
        capacity.as_deref().map_err(String::as_str),
    )
    .map_err(|e| ActError::Rejected {
        cluster: cluster_id.to_owned(),
        what: format!("node pool {pool}"),
        message: e.to_string(),
    })
}

/// Sends the resize (after the caller's confirmation) and follows it.
#[allow(clippy::too_many_arguments)]
pub async fn execute(
    provider: &Arc<dyn Provider>,
    locator: &ClusterLocator,
    store: &Store,
    actor: &Actor,
    guard: WriteGuard,
    plan: &NodePoolPlan,
    wait: Duration,
    poll_every: Duration,
    mut on_progress: impl FnMut(&PoolProgress),
) -> Result<NodePoolOutcome, ActError> {
    guard.check(&format!(
        "scaling node pool {} of {}",
        plan.pool, plan.cluster_id
    ))?;
    let target = format!("{}/nodepool/{}", plan.cluster_id, plan.pool);
    let detail = json!({
        "cluster": plan.cluster_id, "pool": plan.pool, "from": plan.from, "to": plan.to,
        "provider": provider.kind().to_string(),
    });
    let started = audit(
        store,
        actor,
        ACTION,
        &target,
        detail.clone(),
        Outcome::Started,
    )?;
    let what = format!("node pool {}", plan.pool);
    let sent = provider
        .scale_node_pool(locator, &plan.pool, plan.to)
        .await
        .map_err(|e| provider_error(&plan.cluster_id, &what, e));
    let sent = match sent {
        Ok(s) => s,
        Err(e) => {
            let mut d = detail.clone();
            d["result"] = json!({ "error": e.to_string(), "kind": e.kind() });
            audit(store, actor, ACTION, &target, d, Outcome::Failed)?;
            return Err(e);
        }
    };
    let deadline = tokio::time::Instant::now() + wait;
    let mut last: Option<PoolProgress> = None;
    let (count, settled) = loop {
        let seen = provider.describe(locator).await.ok().and_then(|c| {
            let p = c.node_pools.iter().find(|p| p.name == plan.pool)?;
            Some(PoolProgress {
                count: p.count,
                status: c.status.clone(),
            })
        });
        if let Some(p) = seen {
            if last.as_ref() != Some(&p) {
                on_progress(&p);
            }
            let done = p.count == plan.to;
            let count = p.count;
            last = Some(p);
            if done {
                break (count, true);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            break (last.as_ref().map_or(plan.from, |p| p.count), false);
        }
        tokio::time::sleep(poll_every).await;
    };
    let mut d = detail;
    d["result"] = json!({ "operation": sent.operation, "count": count, "settled": settled });
    let done = audit(store, actor, ACTION, &target, d, Outcome::Succeeded)?;
    Ok(NodePoolOutcome {
        operation: sent.operation,
        count,
        settled,
        audit_ids: vec![started, done],
    })
}
