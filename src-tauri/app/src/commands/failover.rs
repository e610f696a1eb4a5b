//! The failover wizard over IPC (issue 6, BRIEF §8): groups, a plan with a
//! one-shot token, the run (or resume, or rollback) in a task of its own
//! with `failover-progress` events, and the persisted runs.
//!
//! Thin like the other action commands: the plan comes from
//! `cloudops_core::plan::failover`, the state machine and the read-only
//! guard from `cloudops_cloud::act::failover`. The traffic step is skipped
//! or manual: a manual run pauses there, sends a `traffic_confirmation`
//! event, and waits (without holding a runtime thread) for
//! `failover_traffic_confirm`. A hook command stays CLI-only: the app does
//! not run shell commands typed into its webview ([`TRAFFIC_NOTE`]).

use std::time::Duration;

use cloudops_cloud::act::{
    connect::Connected,
    failover::{self, FailoverEvent, RunReport, RunSpec, Side, TrafficAnswer, TrafficMode},
    failover_plan::{
        plan_for_group, record_refusal, CachedInputs, GroupPlan, PlanOptions, PlanRequest,
    },
    ActError, Actor, WriteGuard,
};
use cloudops_core::plan::failover::{detect_groups, parse_group_key, FailoverGroup, FailoverPlan};
use cloudops_core::plan::scale::MAX_REPLICAS;
use cloudops_core::store::failover::{FailoverRun, RunState};
use cloudops_core::store::os_user;
use cloudops_core::Store;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use super::actions::{check_label, check_subdomain, check_token, connected, expired, expires_at};
use super::cluster::check_text;
use super::CommandError;
use crate::actions::Pending;
use crate::{fleet::Mode, state::AppState};

pub const EVENT_FAILOVER_PROGRESS: &str = "failover-progress";
/// How long the run waits for the target's replicas to be ready.
const WAIT_SECS: u64 = 300;
/// The most runs one call lists.
pub const MAX_RUNS: u32 = 500;
/// How long a manual traffic step waits for Confirm or Abort; past it the
/// step fails (the run stays resumable and can be rolled back).
pub const TRAFFIC_WAIT: Duration = Duration::from_secs(30 * 60);
pub const TRAFFIC_NOTE: &str = "Traffic: none (DNS or a global load balancer follows \
     readiness), or manual (the run pauses once the target is ready until you confirm that \
     you switched traffic). A hook command stays CLI-only (cloudops failover run \
     --traffic-hook): the app does not run shell commands typed into its window.";

/// A group member that could not be read (ranked last, with the reason).
pub use cloudops_cloud::act::failover_plan::UnreachableMember as Unreachable;

/// A plan and the token that runs it (`None` when the plan refuses).
#[derive(Debug, Clone, Serialize)]
pub struct FailoverPlanView {
    pub token: Option<String>,
    pub plan: FailoverPlan,
    pub unreachable: Vec<Unreachable>,
    /// What the app does at the traffic step.
    pub traffic_note: String,
    pub expires_at_ms: i64,
}

/// One `failover-progress` event: a step event, or the end of the task
/// (`report` when it finished, `error` when it stopped).
#[derive(Debug, Clone, Serialize)]
pub struct FailoverProgress {
    pub run_id: i64,
    /// `run` or `rollback`.
    pub mode: &'static str,
    pub event: Option<FailoverEvent>,
    pub report: Option<RunReport>,
    pub error: Option<CommandError>,
}

fn check_group(group: &str) -> Result<(), CommandError> {
    let Some((ns, name)) = parse_group_key(group) else {
        return Err(CommandError::invalid(format!(
            "the group {group:?} is not NAMESPACE/DEPLOYMENT"
        )));
    };
    check_label("the group's namespace", ns)?;
    check_subdomain("the group's deployment", name)
}

fn groups_in(
    store: &Store,
    only: Option<(&str, &str)>,
) -> Result<Vec<FailoverGroup>, CommandError> {
    let cached = store.cached_deployments(only)?;
    let user = store.failover_group_members()?;
    Ok(detect_groups(&cached, &user))
}

/// The groups: deployments cached in two clusters or more, plus the user's.
#[tauri::command]
pub async fn failover_groups(
    state: State<'_, AppState>,
) -> Result<Vec<FailoverGroup>, CommandError> {
    state.with_store(|store| groups_in(store, None)).await
}

#[tauri::command]
pub async fn failover_plan(
    state: State<'_, AppState>,
    group: String,
    from: String,
    to: Option<String>,
    floor: i64,
) -> Result<FailoverPlanView, CommandError> {
    check_group(&group)?;
    check_text("the source cluster id", &from, 512)?;
    if let Some(to) = &to {
        check_text("the target cluster id", to, 512)?;
    }
    if !(0..=i64::from(MAX_REPLICAS)).contains(&floor) {
        return Err(CommandError::invalid(format!(
            "a floor of {floor} is out of range: use 0 to {MAX_REPLICAS}"
        )));
    }
    if state.mode() == Mode::Offline {
        return Err(CommandError::offline());
    }
    let key = group.clone();
    let cached = state
        .with_store(move |store| Ok::<_, CommandError>(CachedInputs::read(store, &key)?))
        .await?;
    let req = PlanRequest {
        group,
        from,
        to,
        floor: floor as i32,
    };
    let planned = plan_for_group(
        &state.actions().targets(),
        &cached,
        &req,
        &PlanOptions::default(),
    )
    .await?;
    let identity = planned.identity(&planned.plan.source.cluster_id);
    let GroupPlan {
        plan, unreachable, ..
    } = planned;
    if plan.refusal.is_some() {
        // A refused preview is audited like the CLI's: no write was made.
        let actor = Actor {
            os_user: os_user(),
            cloud_identity: identity,
        };
        let refused = plan.clone();
        state
            .with_store(move |store| {
                Ok::<_, CommandError>(record_refusal(store, &actor, &refused, "plan")?)
            })
            .await?;
    }
    let token = plan.refusal.is_none().then(|| {
        state
            .actions()
            .remember(Pending::Failover(Box::new(plan.clone())))
    });
    Ok(FailoverPlanView {
        token,
        plan,
        unreachable,
        traffic_note: TRAFFIC_NOTE.into(),
        expires_at_ms: expires_at(),
    })
}

fn side(conn: Connected) -> Side {
    Side {
        actor: Actor {
            os_user: os_user(),
            cloud_identity: conn.identity,
        },
        client: conn.client,
    }
}

fn guard(state: &AppState) -> WriteGuard {
    WriteGuard {
        read_only: state.read_only(),
    }
}

/// Runs (or rolls back) run `id` on a blocking thread with a store of its
/// own, sending every step event and then the end as `failover-progress`.
/// One task per run: a second start while it goes is refused.
fn spawn_run<R: Runtime>(
    app: AppHandle<R>,
    state: &AppState,
    (src, dst): (Side, Side),
    guard: WriteGuard,
    id: i64,
    rollback: bool,
) -> Result<(), CommandError> {
    if !state.actions().start_run(id) {
        return Err(CommandError {
            kind: "run_busy".into(),
            message: format!("Failover run {id} is already going in this app."),
            hint: "Follow it on the Actions screen; resume or roll back once it stops.".into(),
        });
    }
    let dir = state.data_dir();
    let mode = if rollback { "rollback" } else { "run" };
    let send = move |app: &AppHandle<R>, p: FailoverProgress| {
        if let Err(e) = app.emit(EVENT_FAILOVER_PROGRESS, p) {
            tracing::warn!(error = %e, "cannot send the failover's progress");
        }
    };
    tauri::async_runtime::spawn_blocking(move || {
        let result = Store::open_in(&dir)
            .map_err(CommandError::from)
            .and_then(|store| {
                let mut emit = |e: &FailoverEvent| {
                    send(
                        &app,
                        FailoverProgress {
                            run_id: id,
                            mode,
                            event: Some(e.clone()),
                            report: None,
                            error: None,
                        },
                    )
                };
                let handle = tokio::runtime::Handle::current();
                // A manual traffic step: the question is registered for
                // `failover_traffic_confirm` and awaited (not blocked on);
                // no answer within TRAFFIC_WAIT is a "no".
                let mut confirm = |_prompt: String| -> TrafficAnswer {
                    let answer = app
                        .try_state::<AppState>()
                        .map(|s| s.actions().await_traffic(id));
                    Box::pin(async move {
                        let Some(rx) = answer else { return false };
                        matches!(tokio::time::timeout(TRAFFIC_WAIT, rx).await, Ok(Ok(true)))
                    })
                };
                let done = if rollback {
                    handle.block_on(failover::rollback(&src, &dst, &store, guard, id, &mut emit))
                } else {
                    handle.block_on(failover::run(
                        &src,
                        &dst,
                        &store,
                        guard,
                        id,
                        &mut confirm,
                        &mut emit,
                    ))
                };
                done.map_err(CommandError::from)
            });
        if let Some(actions) = app.try_state::<AppState>() {
            actions.actions().drop_traffic(id);
            actions.actions().end_run(id);
        }
        let (report, error) = match result {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        send(
            &app,
            FailoverProgress {
                run_id: id,
                mode,
                event: None,
                report,
                error,
            },
        );
    });
    Ok(())
}

/// Starts the planned run and returns its id at once; the steps arrive as
/// `failover-progress` events.
#[tauri::command]
pub async fn failover_run<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    token: String,
    typed_confirmation: Option<String>,
    traffic: Option<String>,
) -> Result<i64, CommandError> {
    check_token(&token)?;
    let traffic = traffic_mode(traffic.as_deref())?;
    let Some(Pending::Failover(plan)) = state.actions().get(&token) else {
        return Err(expired());
    };
    if let Some(reason) = &plan.refusal {
        return Err(ActError::FailoverRefused {
            reason: reason.clone(),
        }
        .into());
    }
    if let Some(word) = &plan.typed_confirmation {
        if typed_confirmation.as_deref() != Some(word.as_str()) {
            return Err(CommandError::invalid(format!(
                "failing {} over needs the deployment's name ({word}) typed to confirm",
                plan.group
            )));
        }
    }
    state.actions().forget(&token);
    let guard = guard(&state);
    // Read-only refuses before anything is connected or recorded.
    guard.check(&format!(
        "failing {} over from {}",
        plan.group, plan.source.cluster_id
    ))?;
    let src = connected(&state, &plan.source.cluster_id).await?;
    let dst = connected(&state, &plan.target.cluster_id).await?;
    let spec = RunSpec {
        plan: *plan,
        traffic,
        wait_secs: WAIT_SECS,
    };
    let id = state
        .with_store(move |store| failover::create(store, guard, &spec))
        .await?;
    spawn_run(app, &state, (side(src), side(dst)), guard, id, false)?;
    Ok(id)
}

/// `skip` (the default) or `manual`. A hook is refused: the app does not
/// run shell commands that come from its webview.
fn traffic_mode(traffic: Option<&str>) -> Result<TrafficMode, CommandError> {
    match traffic {
        None | Some("skip") => Ok(TrafficMode::Skip),
        Some("manual") => Ok(TrafficMode::Manual),
        Some("hook") => Err(CommandError::invalid(
            "a traffic hook runs a shell command: it is set from the CLI only \
             (`cloudops failover run --traffic-hook`)",
        )),
        Some(other) => Err(CommandError::invalid(format!(
            "the traffic mode {other:?} is neither skip nor manual"
        ))),
    }
}

/// Answers a run paused at its manual traffic step: `confirmed` goes on to
/// the drain, `false` fails the step (the run stays resumable and can be
/// rolled back).
#[tauri::command]
pub async fn failover_traffic_confirm(
    state: State<'_, AppState>,
    run_id: i64,
    confirmed: bool,
) -> Result<bool, CommandError> {
    if run_id <= 0 {
        return Err(CommandError::invalid(format!("{run_id} is not a run id")));
    }
    if state.actions().answer_traffic(run_id, confirmed) {
        Ok(confirmed)
    } else {
        Err(CommandError {
            kind: "not_waiting".into(),
            message: format!("Failover run {run_id} is not waiting for a traffic confirmation."),
            hint: "It was answered already, timed out, or its task ended: see the run on the \
                   Actions screen, then resume or roll it back."
                .into(),
        })
    }
}

/// Running and past runs, newest first, with their steps.
#[tauri::command]
pub async fn failover_runs(
    state: State<'_, AppState>,
    limit: u32,
) -> Result<Vec<FailoverRun>, CommandError> {
    if limit == 0 || limit > MAX_RUNS {
        return Err(CommandError::invalid(format!(
            "{limit} runs were asked for; 1 to {MAX_RUNS}"
        )));
    }
    state
        .with_store(move |store| store.failover_runs(limit))
        .await
}

async fn restart<R: Runtime>(
    app: AppHandle<R>,
    state: &AppState,
    run_id: i64,
    rollback: bool,
) -> Result<i64, CommandError> {
    if run_id <= 0 {
        return Err(CommandError::invalid(format!("{run_id} is not a run id")));
    }
    let guard = guard(state);
    let verb = if rollback { "rolling back" } else { "resuming" };
    guard.check(&format!("{verb} failover run {run_id}"))?;
    let run = state
        .with_store(move |store| store.failover_run(run_id))
        .await?
        .ok_or(ActError::RunNotFound { id: run_id })?;
    // The executor checks this too, but inside the task: said here, the
    // refusal reaches the dialog instead of a later event.
    let can = match run.state {
        RunState::RolledBack => false,
        RunState::Completed => rollback,
        _ => true,
    };
    if !can {
        return Err(ActError::RunState {
            id: run_id,
            detail: format!("it is {}", run.state.as_str()),
        }
        .into());
    }
    let src = connected(state, &run.source_cluster).await?;
    let dst = connected(state, &run.target_cluster).await?;
    spawn_run(app, state, (side(src), side(dst)), guard, run.id, rollback)?;
    Ok(run.id)
}

/// Continues a run from its first incomplete step.
#[tauri::command]
pub async fn failover_resume<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    run_id: i64,
) -> Result<i64, CommandError> {
    restart(app, &state, run_id, false).await
}

/// Reverses a run's steps: the source restored first, then the target
/// lowered.
#[tauri::command]
pub async fn failover_rollback<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    run_id: i64,
) -> Result<i64, CommandError> {
    restart(app, &state, run_id, true).await
}
