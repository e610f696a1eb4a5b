//! "Make autoscaled" and HPA edits over IPC (issue 6): a preview with the
//! diff and a one-shot token, then the apply (audited before and after by
//! the executor, refused there in read-only mode).

use cloudops_cloud::act::{hpa, Actor, WriteGuard};
use cloudops_core::plan::hpa::{HpaEdit, HpaPlan};
use cloudops_core::plan::scale::{WorkloadRef, MAX_REPLICAS};
use cloudops_core::store::os_user;
use serde::Serialize;
use tauri::State;

use super::actions::{check_token, connected, expired, expires_at, on_own_store, target};
use super::CommandError;
use crate::actions::Pending;
use crate::state::AppState;

/// Utilization targets above this are typos, not intentions.
const MAX_PERCENT: i64 = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct HpaPreview {
    pub token: String,
    pub plan: HpaPlan,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HpaOutcome {
    pub target: WorkloadRef,
    pub name: String,
    /// `create` or `edit`.
    pub action: String,
    pub audit_ids: Vec<i64>,
}

fn bounded(what: &str, v: Option<i64>, lo: i64, hi: i64) -> Result<Option<i32>, CommandError> {
    match v {
        None => Ok(None),
        Some(v) if (lo..=hi).contains(&v) => Ok(Some(v as i32)),
        Some(v) => Err(CommandError::invalid(format!(
            "{what} of {v} is out of range: use {lo} to {hi}"
        ))),
    }
}

/// Plans the change: `None` everywhere is "Make autoscaled" (the defaults
/// for a new HPA; an existing one keeps its values).
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn hpa_preview(
    state: State<'_, AppState>,
    cluster: String,
    namespace: String,
    deployment: String,
    min: Option<i64>,
    max: Option<i64>,
    cpu_percent: Option<i64>,
    memory_percent: Option<i64>,
) -> Result<HpaPreview, CommandError> {
    let max_replicas = i64::from(MAX_REPLICAS);
    let edit = HpaEdit {
        min: bounded("a minimum", min, 1, max_replicas)?,
        max: bounded("a maximum", max, 1, max_replicas)?,
        cpu_percent: bounded("a CPU target", cpu_percent, 1, MAX_PERCENT)?,
        memory_percent: bounded("a memory target", memory_percent, 1, MAX_PERCENT)?,
    };
    let target = target(&state, cluster, namespace, deployment).await?;
    let conn = connected(&state, &target.cluster_id).await?;
    let preview = hpa::preview(&conn.client, target, edit).await?;
    let plan = preview.plan.clone();
    let token = state.actions().remember(Pending::Hpa(Box::new(preview)));
    Ok(HpaPreview {
        token,
        plan,
        expires_at_ms: expires_at(),
    })
}

#[tauri::command]
pub async fn hpa_apply(
    state: State<'_, AppState>,
    token: String,
) -> Result<HpaOutcome, CommandError> {
    check_token(&token)?;
    let Some(Pending::Hpa(preview)) = state.actions().get(&token) else {
        return Err(expired());
    };
    if preview.plan.is_noop() {
        return Err(CommandError::invalid(format!(
            "the HPA of {} already has these values: nothing to apply",
            preview.plan.target
        )));
    }
    state.actions().forget(&token);
    let guard = WriteGuard {
        read_only: state.read_only(),
    };
    guard.check(&format!("changing the HPA of {}", preview.plan.target))?;
    let conn = connected(&state, &preview.plan.target.cluster_id).await?;
    let actor = Actor {
        os_user: os_user(),
        cloud_identity: conn.identity.clone(),
    };
    let plan = preview.plan.clone();
    let audit_ids = on_own_store(state.data_dir(), move |store| {
        tokio::runtime::Handle::current().block_on(hpa::execute(
            &conn.client,
            store,
            &actor,
            guard,
            &preview,
        ))
    })
    .await?;
    Ok(HpaOutcome {
        target: plan.target,
        name: plan.name,
        action: plan.action,
        audit_ids,
    })
}
