//! Node-pool scaling over IPC (issue 6): the pools of a cluster, a preview
//! with a one-shot token, then the apply, polled with `nodepool-progress`
//! events. Thin over `cloudops_core::plan::nodepool` and
//! `cloudops_cloud::act::nodepool`, which audits and checks the read-only
//! guard itself; the typed confirmation for 0 is checked here as well as
//! in the dialog, so no webview can skip it.

use std::time::Duration;

use cloudops_cloud::act::{connect::cloud_identity, nodepool, Actor, WriteGuard};
use cloudops_cloud::collect::fleet::FleetTarget;
use cloudops_cloud::cost::prices;
use cloudops_core::model::{NodePoolSummary, Provider as ProviderKind};
use cloudops_core::plan::nodepool::{NodePoolPlan, MAX_POOL_NODES};
use cloudops_core::store::os_user;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Runtime, State};
use ts_rs::TS;

use super::actions::{check_token, expired, expires_at, on_own_store};
use super::cluster::check_text;
use super::CommandError;
use crate::actions::Pending;
use crate::{fleet::Mode, state::AppState};

pub const EVENT_NODEPOOL_PROGRESS: &str = "nodepool-progress";
/// How long an apply follows the resize before it returns (the cloud
/// carries on past it; the outcome says so).
const NODEPOOL_WAIT: Duration = Duration::from_secs(600);
const POLL_EVERY: Duration = Duration::from_secs(2);
/// Hours in an average month, for the monthly cost delta.
const HOURS_PER_MONTH: f64 = 730.0;

/// Where a pool list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PoolSource {
    /// A fresh `describe` through the cloud's API.
    Provider,
    /// The cache's last discovery (offline, or the cloud did not answer).
    Cache,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodePoolList {
    pub cluster_id: String,
    pub provider: String,
    pub source: PoolSource,
    /// Why the list is the cache's, when it is.
    pub note: Option<String>,
    pub pools: Vec<NodePoolSummary>,
}

/// What the resize costs or saves per month, from bundled list prices.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PoolCost {
    pub hourly_per_node: f64,
    pub monthly_delta: f64,
    pub currency: String,
    /// Where the price comes from and how old it is.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NodePoolPreview {
    pub token: String,
    pub provider: String,
    pub plan: NodePoolPlan,
    /// `None` when no price is known for the machine type.
    pub cost: Option<PoolCost>,
    #[ts(type = "number")]
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodePoolProgress {
    pub token: String,
    pub count: u32,
    /// The cluster's status while it resizes (`ACTIVE`, `Updating`…).
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodePoolOutcome {
    pub token: String,
    pub cluster_id: String,
    pub pool: String,
    pub operation: Option<String>,
    pub count: u32,
    /// The pool reported the new count within the wait.
    pub settled: bool,
    #[ts(type = "Array<number>")]
    pub audit_ids: Vec<i64>,
}

/// Node group / node pool / agent pool names: EKS allows letters, digits,
/// `-` and `_` up to 63; GKE, AKS and DOKS are stricter subsets.
pub(crate) fn check_pool_name(pool: &str) -> Result<(), CommandError> {
    let ok = (1..=63).contains(&pool.len())
        && pool
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CommandError::invalid(format!(
            "the node pool name {pool:?} is not valid (1 to 63 letters, digits, - or _)"
        )))
    }
}

/// The cluster's discovered target, or why there is none.
fn find_target(state: &AppState, cluster: &str) -> Option<FleetTarget> {
    state
        .actions()
        .targets()
        .into_iter()
        .find(|t| t.cluster_id == cluster)
}

fn not_discovered(cluster: &str) -> CommandError {
    CommandError {
        kind: "unknown_cluster".into(),
        message: format!("The cluster {cluster} was not found by the last discovery."),
        hint: "Refresh the fleet; a cluster whose account failed to answer cannot be scaled \
               until it does (check the account on the Settings screen)."
            .into(),
    }
}

fn price_table(kind: ProviderKind) -> Option<prices::PriceTable> {
    match kind {
        ProviderKind::Aws => Some(prices::AWS),
        ProviderKind::Gcp => Some(prices::GCP),
        _ => None,
    }
}

pub(crate) fn cost_of(kind: ProviderKind, plan: &NodePoolPlan) -> Option<PoolCost> {
    let table = price_table(kind)?;
    let hourly = table.hourly(plan.machine_type.as_deref()?)?;
    let delta = f64::from(plan.to) - f64::from(plan.from);
    Some(PoolCost {
        hourly_per_node: hourly,
        monthly_delta: delta * hourly * HOURS_PER_MONTH,
        currency: table.currency.into(),
        source: table.provenance(),
    })
}

/// The cluster's node pools: fresh from the cloud when it can be reached,
/// else the cache's (with a note saying why).
#[tauri::command]
pub async fn nodepool_list(
    state: State<'_, AppState>,
    cluster: String,
) -> Result<NodePoolList, CommandError> {
    check_text("the cluster id", &cluster, 512)?;
    let id = cluster.clone();
    let Some(cached) = state.with_store(move |store| store.cluster(&id)).await? else {
        return Err(CommandError::invalid(format!(
            "the cluster {cluster} is not in the cache"
        )));
    };
    let from_cache = |note: String| NodePoolList {
        cluster_id: cached.id.clone(),
        provider: cached.provider.as_str().to_owned(),
        source: PoolSource::Cache,
        note: Some(note),
        pools: cached.node_pools.clone(),
    };
    if state.mode() == Mode::Offline {
        return Ok(from_cache(
            "offline: the pools as of the last discovery".into(),
        ));
    }
    let Some(target) = find_target(&state, &cluster) else {
        return Ok(from_cache(
            "the last discovery did not reach this cluster: the pools as cached".into(),
        ));
    };
    match target.provider.describe(&target.cluster.locator).await {
        Ok(fresh) => Ok(NodePoolList {
            cluster_id: cluster,
            provider: target.provider.kind().as_str().to_owned(),
            source: PoolSource::Provider,
            note: None,
            pools: fresh.node_pools,
        }),
        Err(e) => Ok(from_cache(format!(
            "the cloud did not answer ({}): the pools as cached",
            e.kind()
        ))),
    }
}

#[tauri::command]
pub async fn nodepool_preview(
    state: State<'_, AppState>,
    cluster: String,
    pool: String,
    count: i64,
) -> Result<NodePoolPreview, CommandError> {
    check_text("the cluster id", &cluster, 512)?;
    check_pool_name(&pool)?;
    if !(0..=i64::from(MAX_POOL_NODES)).contains(&count) {
        return Err(CommandError::invalid(format!(
            "{count} nodes is out of range: use 0 to {MAX_POOL_NODES}"
        )));
    }
    if state.mode() == Mode::Offline {
        return Err(CommandError::offline());
    }
    let target = find_target(&state, &cluster).ok_or_else(|| not_discovered(&cluster))?;
    let plan = nodepool::preview(&target, &pool, count as u32).await?;
    let kind = target.provider.kind();
    let cost = cost_of(kind, &plan);
    let token = state
        .actions()
        .remember(Pending::NodePool(Box::new(plan.clone())));
    Ok(NodePoolPreview {
        token,
        provider: kind.as_str().to_owned(),
        plan,
        cost,
        expires_at_ms: expires_at(),
    })
}

#[tauri::command]
pub async fn nodepool_apply<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    token: String,
    typed_confirmation: Option<String>,
) -> Result<NodePoolOutcome, CommandError> {
    check_token(&token)?;
    let Some(Pending::NodePool(plan)) = state.actions().get(&token) else {
        return Err(expired());
    };
    if let Some(word) = &plan.typed_confirmation {
        if typed_confirmation.as_deref() != Some(word.as_str()) {
            return Err(CommandError::invalid(format!(
                "scaling node pool {} of {} to 0 needs its name typed to confirm",
                plan.pool, plan.cluster_id
            )));
        }
    }
    if plan.is_noop() {
        return Err(CommandError::invalid(format!(
            "node pool {} already has {} nodes: nothing to apply",
            plan.pool, plan.to
        )));
    }
    // One apply per preview, whatever its outcome.
    state.actions().forget(&token);
    let guard = WriteGuard {
        read_only: state.read_only(),
    };
    guard.check(&format!(
        "scaling node pool {} of {}",
        plan.pool, plan.cluster_id
    ))?;
    let target =
        find_target(&state, &plan.cluster_id).ok_or_else(|| not_discovered(&plan.cluster_id))?;
    let actor = Actor {
        os_user: os_user(),
        cloud_identity: cloud_identity(&target),
    };
    let progress_token = token.clone();
    let (cluster_id, pool) = (plan.cluster_id.clone(), plan.pool.clone());
    let outcome = on_own_store(state.data_dir(), move |store| {
        tokio::runtime::Handle::current().block_on(nodepool::execute(
            &target.provider,
            &target.cluster.locator,
            store,
            &actor,
            guard,
            &plan,
            NODEPOOL_WAIT,
            POLL_EVERY,
            |p| {
                let event = NodePoolProgress {
                    token: progress_token.clone(),
                    count: p.count,
                    status: p.status.clone(),
                };
                if let Err(e) = app.emit(EVENT_NODEPOOL_PROGRESS, event) {
                    tracing::warn!(error = %e, "cannot send the node pool's progress");
                }
            },
        ))
    })
    .await?;
    Ok(NodePoolOutcome {
        token,
        cluster_id,
        pool,
        operation: outcome.operation,
        count: outcome.count,
        settled: outcome.settled,
        audit_ids: outcome.audit_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_names_are_checked() {
        for ok in ["general", "ng-1", "batch_pool", "a"] {
            assert!(check_pool_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../x", "a b", "pool;rm", &"x".repeat(64)] {
            assert!(check_pool_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cost_delta_comes_from_list_prices_when_the_type_is_known() {
        let plan = |machine: Option<&str>, from, to| NodePoolPlan {
            cluster_id: "c".into(),
            pool: "p".into(),
            machine_type: machine.map(str::to_owned),
            from,
            to,
            min: None,
            max: None,
            changes: vec![],
            warnings: vec![],
            drain_fit: None,
            typed_confirmation: None,
        };
        let c = cost_of(ProviderKind::Aws, &plan(Some("m6i.large"), 3, 5)).unwrap();
        assert!(
            (c.monthly_delta - 2.0 * 0.096 * 730.0).abs() < 1e-9,
            "{c:?}"
        );
        assert!(c.source.contains("as of"));
        let c = cost_of(ProviderKind::Aws, &plan(Some("m6i.large"), 3, 1)).unwrap();
        assert!(c.monthly_delta < 0.0);
        assert!(cost_of(ProviderKind::Aws, &plan(Some("unknown.type"), 1, 2)).is_none());
        assert!(cost_of(ProviderKind::Aws, &plan(None, 1, 2)).is_none());
        assert!(cost_of(ProviderKind::Azure, &plan(Some("m6i.large"), 1, 2)).is_none());
    }
}
