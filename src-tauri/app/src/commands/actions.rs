//! Writes to clusters (issue 6): preview, then apply with a token, and the
//! audit log and read-only setting the Actions and Settings screens show.
//!
//! The commands are thin: they validate, find the cluster among the last
//! discovery's targets (`cloudops_cloud::act::connect`, the CLI's path
//! too), and call the executors, which check the read-only guard and write
//! the audit rows themselves.

use std::time::Duration;

use cloudops_cloud::act::{
    connect::{connect, Connected},
    rollout::{self, RolloutAction, RolloutStatus},
    scale::{self, RolloutProgress},
    ActError, Actor, WriteGuard,
};
use cloudops_core::audit::{
    audit_csv, newest_first, AuditFilter, AuditRow, NewAuditEntry, Outcome,
};
use cloudops_core::names;
use cloudops_core::plan::scale::{ScalePlan, WorkloadRef, MAX_REPLICAS};
use cloudops_core::store::{now_ms, os_user};
use cloudops_core::views::ExportResult;
use cloudops_core::Store;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Runtime, State};
use ts_rs::TS;

use super::cluster::{check_text, export_dir, write_new};
use super::CommandError;
use crate::actions::{Pending, PREVIEW_TTL};
use crate::{fleet::Mode, state::AppState};

pub const EVENT_ACTION_PROGRESS: &str = "action-progress";
/// How long an apply follows the rollout before it returns.
const SCALE_WAIT: Duration = Duration::from_secs(120);
const ROLLOUT_WAIT: Duration = Duration::from_secs(300);
/// The most audit rows one call returns.
pub const MAX_AUDIT_ROWS: u32 = 5000;

impl From<ActError> for CommandError {
    fn from(e: ActError) -> Self {
        CommandError {
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

/// A scale preview and the token that applies it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ScalePreview {
    pub token: String,
    pub plan: ScalePlan,
    #[ts(type = "number")]
    pub expires_at_ms: i64,
}

/// A rollout preview (restart or undo) and the token that applies it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RolloutPreview {
    pub token: String,
    pub target: WorkloadRef,
    /// `restart` or `undo`.
    pub action: String,
    pub replicas: i32,
    #[ts(type = "number | null")]
    pub revision: Option<i64>,
    #[ts(type = "number | null")]
    pub to_revision: Option<i64>,
    pub images_before: Vec<String>,
    pub images_after: Vec<String>,
    pub warnings: Vec<String>,
    #[ts(type = "number")]
    pub expires_at_ms: i64,
}

/// Sent while an apply follows its rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReplicaCounts {
    pub replicas: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ActionProgress {
    pub token: String,
    pub counts: ReplicaCounts,
}

/// What a finished apply reports.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ActionOutcome {
    pub token: String,
    pub target: WorkloadRef,
    /// `scale_deployment`, `rollout_restart` or `rollout_undo`.
    pub action: String,
    pub counts: ReplicaCounts,
    /// Every replica ready (and, for a rollout, updated) within the wait.
    pub settled: bool,
    #[ts(type = "Array<number>")]
    pub audit_ids: Vec<i64>,
}

/// A DNS-1123 label (namespaces), as an IPC argument error.
pub(crate) fn check_label(what: &str, v: &str) -> Result<(), CommandError> {
    names::check_label(what, v).map_err(|e| CommandError::invalid(e.to_string()))
}

/// A DNS-1123 subdomain (deployment names), as an IPC argument error.
pub(crate) fn check_subdomain(what: &str, v: &str) -> Result<(), CommandError> {
    names::check_subdomain(what, v).map_err(|e| CommandError::invalid(e.to_string()))
}

/// Validates the target and checks the cluster is in the cache.
pub(crate) async fn target(
    state: &AppState,
    cluster: String,
    namespace: String,
    deployment: String,
) -> Result<WorkloadRef, CommandError> {
    check_text("the cluster id", &cluster, 512)?;
    check_label("the namespace", &namespace)?;
    check_subdomain("the deployment name", &deployment)?;
    if state.mode() == Mode::Offline {
        return Err(CommandError::offline());
    }
    let id = cluster.clone();
    let known = state
        .with_store(move |store| store.cluster(&id))
        .await?
        .is_some();
    if !known {
        return Err(CommandError::invalid(format!(
            "the cluster {cluster} is not in the cache"
        )));
    }
    Ok(WorkloadRef {
        cluster_id: cluster,
        namespace,
        deployment,
    })
}

pub(crate) async fn connected(state: &AppState, cluster: &str) -> Result<Connected, CommandError> {
    Ok(connect(&state.actions().targets(), cluster).await?)
}

pub(crate) fn expires_at() -> i64 {
    now_ms() + PREVIEW_TTL.as_millis() as i64
}

pub(crate) fn check_token(token: &str) -> Result<(), CommandError> {
    if token.len() != 32 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(CommandError::invalid("the preview token is malformed"));
    }
    Ok(())
}

pub(crate) fn expired() -> CommandError {
    CommandError {
        kind: "preview_expired".into(),
        message: "This preview has expired or was already applied.".into(),
        hint: "Open the action again to see a fresh preview, then confirm.".into(),
    }
}

#[tauri::command]
pub async fn scale_preview(
    state: State<'_, AppState>,
    cluster: String,
    namespace: String,
    deployment: String,
    replicas: i64,
) -> Result<ScalePreview, CommandError> {
    if !(0..=i64::from(MAX_REPLICAS)).contains(&replicas) {
        return Err(CommandError::invalid(format!(
            "{replicas} replicas is out of range: use 0 to {MAX_REPLICAS}"
        )));
    }
    let target = target(&state, cluster, namespace, deployment).await?;
    let conn = connected(&state, &target.cluster_id).await?;
    let preview = scale::preview(&conn.client, target, replicas).await?;
    let plan = preview.plan.clone();
    let token = state.actions().remember(Pending::Scale(Box::new(preview)));
    Ok(ScalePreview {
        token,
        plan,
        expires_at_ms: expires_at(),
    })
}

fn counts_of_scale(p: RolloutProgress) -> ReplicaCounts {
    ReplicaCounts {
        replicas: p.replicas,
        updated: p.updated,
        ready: p.ready,
        available: p.available,
    }
}

fn counts_of_rollout(s: RolloutStatus) -> ReplicaCounts {
    ReplicaCounts {
        replicas: s.replicas,
        updated: s.updated,
        ready: s.ready,
        available: s.available,
    }
}

fn emit_progress<R: Runtime>(app: &AppHandle<R>, token: &str, counts: ReplicaCounts) {
    let event = ActionProgress {
        token: token.to_owned(),
        counts,
    };
    if let Err(e) = app.emit(EVENT_ACTION_PROGRESS, event) {
        tracing::warn!(error = %e, "cannot send the action's progress");
    }
}

#[tauri::command]
pub async fn scale_apply<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    token: String,
    typed_confirmation: Option<String>,
) -> Result<ActionOutcome, CommandError> {
    check_token(&token)?;
    let Some(Pending::Scale(preview)) = state.actions().get(&token) else {
        return Err(expired());
    };
    let plan = &preview.plan;
    if let Some(word) = &plan.typed_confirmation {
        if typed_confirmation.as_deref() != Some(word.as_str()) {
            return Err(CommandError::invalid(format!(
                "scaling {} to 0 needs its name typed to confirm",
                plan.target
            )));
        }
    }
    if plan.is_noop() {
        return Err(CommandError::invalid(format!(
            "{} already has {} replicas: nothing to apply",
            plan.target, plan.to
        )));
    }
    // One apply per preview, whatever its outcome.
    state.actions().forget(&token);
    let guard = WriteGuard {
        read_only: state.read_only(),
    };
    // Refuse before connecting: nothing to reach the cluster for.
    guard.check(&format!("scaling {}", plan.target))?;
    let conn = connected(&state, &plan.target.cluster_id).await?;
    let actor = Actor {
        os_user: os_user(),
        cloud_identity: conn.identity.clone(),
    };
    let (dir, progress_token) = (state.data_dir(), token.clone());
    let target = plan.target.clone();
    let outcome = on_own_store(dir, move |store| {
        tokio::runtime::Handle::current().block_on(scale::execute(
            &conn.client,
            store,
            &actor,
            guard,
            &preview,
            SCALE_WAIT,
            |p| emit_progress(&app, &progress_token, counts_of_scale(p)),
        ))
    })
    .await?;
    Ok(ActionOutcome {
        token,
        target,
        action: scale::ACTION.into(),
        counts: counts_of_scale(outcome.progress),
        settled: outcome.settled,
        audit_ids: outcome.audit_ids,
    })
}

/// Runs an executor on a blocking thread with a connection of its own to
/// the cache: the executor holds the store across its awaits (the audit
/// rows around the write), and a SQLite connection cannot be shared between
/// threads, nor should the views wait for a rollout to finish.
pub(crate) async fn on_own_store<T, F>(dir: std::path::PathBuf, f: F) -> Result<T, CommandError>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> Result<T, ActError> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(move || {
        let store = Store::open_in(&dir)?;
        f(&store).map_err(CommandError::from)
    })
    .await
    .map_err(|e| CommandError::internal(format!("the action's task failed: {e}")))?
}

fn parse_action(action: &str) -> Result<RolloutAction, CommandError> {
    match action {
        "restart" => Ok(RolloutAction::Restart),
        "undo" => Ok(RolloutAction::Undo),
        other => Err(CommandError::invalid(format!(
            "the rollout action {other:?} is neither restart nor undo"
        ))),
    }
}

#[tauri::command]
pub async fn rollout_preview(
    state: State<'_, AppState>,
    cluster: String,
    namespace: String,
    deployment: String,
    action: String,
) -> Result<RolloutPreview, CommandError> {
    let kind = parse_action(&action)?;
    let target = target(&state, cluster, namespace, deployment).await?;
    let conn = connected(&state, &target.cluster_id).await?;
    let plan = rollout::preview(&conn.client, target, kind).await?;
    let view = RolloutPreview {
        token: String::new(),
        target: plan.target.clone(),
        action,
        replicas: plan.replicas,
        revision: plan.revision,
        to_revision: plan.to_revision,
        images_before: plan.images_before.clone(),
        images_after: plan.images_after.clone(),
        warnings: plan.warnings.clone(),
        expires_at_ms: expires_at(),
    };
    let token = state.actions().remember(Pending::Rollout(Box::new(plan)));
    Ok(RolloutPreview { token, ..view })
}

#[tauri::command]
pub async fn rollout_apply<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    token: String,
) -> Result<ActionOutcome, CommandError> {
    check_token(&token)?;
    let Some(Pending::Rollout(plan)) = state.actions().get(&token) else {
        return Err(expired());
    };
    state.actions().forget(&token);
    let guard = WriteGuard {
        read_only: state.read_only(),
    };
    guard.check(&format!("{} of {}", plan.action.audit_name(), plan.target))?;
    let conn = connected(&state, &plan.target.cluster_id).await?;
    let actor = Actor {
        os_user: os_user(),
        cloud_identity: conn.identity.clone(),
    };
    let (dir, progress_token) = (state.data_dir(), token.clone());
    let (target, action) = (plan.target.clone(), plan.action.audit_name());
    let outcome = on_own_store(dir, move |store| {
        tokio::runtime::Handle::current().block_on(rollout::execute(
            &conn.client,
            store,
            &actor,
            guard,
            &plan,
            ROLLOUT_WAIT,
            |s| emit_progress(&app, &progress_token, counts_of_rollout(s)),
        ))
    })
    .await?;
    Ok(ActionOutcome {
        token,
        target,
        action: action.into(),
        counts: counts_of_rollout(outcome.status),
        settled: outcome.complete,
        audit_ids: outcome.audit_ids,
    })
}

#[tauri::command]
pub async fn audit_log(
    state: State<'_, AppState>,
    limit: u32,
) -> Result<Vec<AuditRow>, CommandError> {
    if limit == 0 || limit > MAX_AUDIT_ROWS {
        return Err(CommandError::invalid(format!(
            "{limit} audit rows were asked for; 1 to {MAX_AUDIT_ROWS}"
        )));
    }
    let rows = state.with_store(|store| store.audit_log()).await?;
    Ok(newest_first(rows, limit as usize))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AuditExportFormat {
    Csv,
    Json,
}

/// Writes the filtered audit log (newest first) into Downloads as CSV or
/// JSON, never over an existing file.
#[tauri::command]
pub async fn audit_export(
    state: State<'_, AppState>,
    filter: AuditFilter,
    format: AuditExportFormat,
) -> Result<ExportResult, CommandError> {
    for (what, v) in [
        ("the action filter", &filter.action),
        ("the outcome filter", &filter.outcome),
        ("the search", &filter.text),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            check_text(what, v, 256)?;
        }
    }
    let rows = state.with_store(|store| store.audit_log()).await?;
    let rows: Vec<AuditRow> = newest_first(rows, usize::MAX)
        .into_iter()
        .filter(|r| filter.matches(r))
        .collect();
    let (bytes, ext) = match format {
        AuditExportFormat::Csv => (audit_csv(&rows).into_bytes(), "csv"),
        AuditExportFormat::Json => (
            serde_json::to_vec_pretty(&rows).map_err(|e| CommandError::internal(e.to_string()))?,
            "json",
        ),
    };
    let name = format!("audit-{}.{ext}", now_ms() / 1000);
    let dir = export_dir().ok_or_else(|| CommandError {
        kind: "no_export_dir".into(),
        message: "There is no Downloads or home folder to export into.".into(),
        hint: "Set HOME (or XDG_DOWNLOAD_DIR) and try again.".into(),
    })?;
    state.blocking(move || write_new(&dir, &name, &bytes)).await
}

#[tauri::command]
pub async fn read_only_get(state: State<'_, AppState>) -> Result<bool, CommandError> {
    Ok(state.read_only())
}

/// Persists the setting and audits the change (who turned writes on or
/// off matters as much as the writes).
#[tauri::command]
pub async fn read_only_set(
    state: State<'_, AppState>,
    enabled: bool,
) -> Result<bool, CommandError> {
    let before = state.read_only();
    state.set_read_only(enabled).map_err(|e| CommandError {
        kind: "settings_io".into(),
        message: format!("Cannot save the read-only setting: {e}"),
        hint: "Check that the data folder is writable and the disk is not full.".into(),
    })?;
    state
        .with_store(move |store| {
            store.append_audit(&NewAuditEntry {
                actor: format!("{} via the app", os_user()),
                action: "read_only_set".into(),
                target: "app/settings".into(),
                detail: serde_json::json!({ "before": before, "after": enabled }),
                outcome: Outcome::Succeeded,
            })
        })
        .await?;
    Ok(enabled)
}
