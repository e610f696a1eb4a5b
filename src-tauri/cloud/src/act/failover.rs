//! Failover executor (issue 6, BRIEF §8): runs a [`FailoverPlan`] as the
//! persisted state machine of `cloudops_core::store::failover`.
//!
//! Each step's row is written `running` before the step and with its
//! outcome after, and each step is audited (started, then succeeded or
//! failed) on top of the scale and HPA writes' own rows. Every step is
//! idempotent (absolute counts, waits that re-read), so [`run`] after a
//! crash simply continues at the first step that is not complete.
//!
//! **Invariant:** the ready replicas of source + target never fall below
//! their total before the run. It holds by construction (the source is
//! drained in steps, each only when the target's ready replicas cover it),
//! and a [`Watcher`] checks it at 10 Hz from the raise to the verify; a
//! violation stops the drain and restores the source.

use std::{future::Future, pin::Pin, time::Duration};

use cloudops_core::{
    audit::Outcome,
    plan::failover::FailoverPlan,
    store::{
        failover::{FailoverRun, FailoverStep, RunState, StepStatus},
        Store,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use super::failover_ops::{read_facts, WatchStats, Watcher};
use super::{
    access_review::{denied_writes, failover_writes},
    audit,
    failover_ops::{counts, set_hpa_bounds, set_replicas, within},
    ActError, Actor, WriteGuard,
};

/// How often the invariant watcher samples (10 Hz, twice the 5 Hz floor).
pub const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// The traffic step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrafficMode {
    /// No traffic step (DNS or a global load balancer follows readiness).
    Skip,
    /// The user switches traffic and confirms.
    Manual,
    /// `sh -c command`, with `CLOUDOPS_FAILOVER_{RUN,SOURCE,TARGET}` set;
    /// a non-zero exit fails the step.
    Hook { command: String },
}

/// The answer to a manual traffic step: `true` once the user says traffic
/// is switched, `false` (or a dropped answer) to stop the run there. A
/// future, so that the caller can wait for it without blocking the
/// runtime: the app waits for the wizard's Confirm/Abort, the CLI for the
/// terminal on a blocking thread.
pub type TrafficAnswer = Pin<Box<dyn Future<Output = bool> + Send>>;

/// Asked at a manual traffic step with the prompt to show.
pub type ConfirmTraffic<'a> = dyn FnMut(String) -> TrafficAnswer + 'a;

/// Answers every manual traffic step at once (tests, and callers that
/// cannot ask: `false` stops a manual step safely).
pub fn answer_now(answer: bool) -> impl FnMut(String) -> TrafficAnswer {
    move |_| Box::pin(std::future::ready(answer))
}

/// What a run is started with; stored as the run's plan JSON so that a
/// resume in another process runs the same thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub plan: FailoverPlan,
    pub traffic: TrafficMode,
    /// How long wait_ready (and rollback's wait) may take.
    pub wait_secs: u64,
}

/// A connected cluster and who acts on it.
pub struct Side {
    pub client: kube::Client,
    pub actor: Actor,
}

/// Live progress for the caller.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FailoverEvent {
    StepStarted {
        step: FailoverStep,
    },
    StepFinished {
        step: FailoverStep,
        status: StepStatus,
    },
    TargetReady {
        ready: i32,
        wanted: i32,
    },
    SourceScaled {
        replicas: i32,
    },
    Aborted {
        reason: String,
    },
    /// A manual traffic step waits for the user's answer.
    TrafficConfirmation {
        prompt: String,
    },
}

/// What [`run`] or [`rollback`] ends with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    pub run_id: i64,
    pub state: RunState,
    pub watch: WatchStats,
}

/// The audit action of a step.
pub fn step_action(step: FailoverStep) -> String {
    format!("failover_{}", step.as_str())
}

fn run_target(id: i64) -> String {
    format!("failover/{id}")
}

/// Records a new run for `spec` (after the caller's confirmation) and
/// returns its id. Refuses in read-only mode and when the plan refuses.
pub fn create(store: &Store, guard: WriteGuard, spec: &RunSpec) -> Result<i64, ActError> {
    let p = &spec.plan;
    guard.check(&format!(
        "failing {} over from {}",
        p.group, p.source.cluster_id
    ))?;
    if let Some(reason) = &p.refusal {
        return Err(ActError::FailoverRefused {
            reason: reason.clone(),
        });
    }
    let doc = serde_json::to_value(spec).map_err(|e| ActError::RunState {
        id: 0,
        detail: format!("the plan cannot be stored: {e}"),
    })?;
    store
        .create_failover_run(&p.group, &p.source.cluster_id, &p.target.cluster_id, &doc)
        .map_err(ActError::State)
}

fn load(store: &Store, id: i64) -> Result<(FailoverRun, RunSpec), ActError> {
    let run = store
        .failover_run(id)
        .map_err(ActError::State)?
        .ok_or(ActError::RunNotFound { id })?;
    let spec: RunSpec =
        serde_json::from_value(run.plan.clone()).map_err(|e| ActError::RunState {
            id,
            detail: format!("its stored plan cannot be read: {e}"),
        })?;
    Ok((run, spec))
}

/// The source/target counts the preflight recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Baseline {
    source_replicas: i32,
    source_ready: i32,
    target_replicas: i32,
    target_ready: i32,
    baseline_ready: i32,
    wait_for_ready: i32,
}

struct Ctx<'a> {
    store: &'a Store,
    source: &'a Side,
    target: &'a Side,
    guard: WriteGuard,
    id: i64,
    spec: &'a RunSpec,
    /// The run's actor for step rows: both identities.
    actor: Actor,
}

impl Ctx<'_> {
    fn plan(&self) -> &FailoverPlan {
        &self.spec.plan
    }

    fn audit_step(
        &self,
        step: FailoverStep,
        outcome: Outcome,
        extra: serde_json::Value,
    ) -> Result<i64, ActError> {
        let p = self.plan();
        audit(
            self.store,
            &self.actor,
            &step_action(step),
            &run_target(self.id),
            json!({
                "run": self.id, "step": step.as_str(), "group": p.group,
                "source": p.source.cluster_id, "target": p.target.cluster_id,
                "result": extra,
            }),
            outcome,
        )
    }

    fn started(
        &self,
        step: FailoverStep,
        emit: &mut dyn FnMut(&FailoverEvent),
    ) -> Result<(), ActError> {
        self.store
            .failover_step_started(self.id, step)
            .map_err(ActError::State)?;
        self.audit_step(step, Outcome::Started, json!(null))?;
        emit(&FailoverEvent::StepStarted { step });
        Ok(())
    }

    fn finished(
        &self,
        step: FailoverStep,
        status: StepStatus,
        detail: serde_json::Value,
        emit: &mut dyn FnMut(&FailoverEvent),
    ) -> Result<(), ActError> {
        self.store
            .failover_step_finished(self.id, step, status, &detail)
            .map_err(ActError::State)?;
        let outcome = match status {
            StepStatus::Failed => Outcome::Failed,
            _ => Outcome::Succeeded,
        };
        self.audit_step(step, outcome, detail)?;
        emit(&FailoverEvent::StepFinished { step, status });
        Ok(())
    }
}

fn both_actor(source: &Side, target: &Side) -> Actor {
    Actor {
        os_user: source.actor.os_user.clone(),
        cloud_identity: format!(
            "{} and {}",
            source.actor.cloud_identity, target.actor.cloud_identity
        ),
    }
}

/// Runs (or resumes) run `id` from its first incomplete step to the end.
/// `confirm_traffic` is asked in a manual traffic step (after a
/// [`FailoverEvent::TrafficConfirmation`]); the invariant is still watched
/// while it waits.
pub async fn run(
    source: &Side,
    target: &Side,
    store: &Store,
    guard: WriteGuard,
    id: i64,
    confirm_traffic: &mut ConfirmTraffic<'_>,
    emit: &mut dyn FnMut(&FailoverEvent),
) -> Result<RunReport, ActError> {
    let (run, spec) = load(store, id)?;
    guard.check(&format!("failover run {id}"))?;
    match run.state {
        RunState::Running | RunState::Failed | RunState::Aborted => {}
        other => {
            return Err(ActError::RunState {
                id,
                detail: format!(
                    "it is {}; only a running, failed or aborted run continues",
                    other.as_str()
                ),
            })
        }
    }
    let ctx = Ctx {
        store,
        source,
        target,
        guard,
        id,
        spec: &spec,
        actor: both_actor(source, target),
    };
    let result = steps(&ctx, &run, confirm_traffic, emit).await;
    match result {
        Ok(watch) => {
            store
                .set_failover_state(id, RunState::Completed, None)
                .map_err(ActError::State)?;
            Ok(RunReport {
                run_id: id,
                state: RunState::Completed,
                watch,
            })
        }
        Err((state, e)) => {
            store
                .set_failover_state(id, state, Some(&e.to_string()))
                .map_err(ActError::State)?;
            Err(e)
        }
    }
}

type StepError = (RunState, ActError);

fn failed(e: ActError) -> StepError {
    (RunState::Failed, e)
}

async fn steps(
    ctx: &Ctx<'_>,
    run: &FailoverRun,
    confirm_traffic: &mut ConfirmTraffic<'_>,
    emit: &mut dyn FnMut(&FailoverEvent),
) -> Result<WatchStats, StepError> {
    let p = ctx.plan();
    let mut next = run.next_step();
    let mut baseline: Option<Baseline> = run
        .step_row(FailoverStep::Preflight)
        .filter(|r| r.status.is_complete())
        .and_then(|r| serde_json::from_value(r.detail.clone()).ok());
    let mut watcher: Option<Watcher> = None;
    while let Some(step) = next {
        ctx.started(step, emit).map_err(failed)?;
        let outcome = match step {
            FailoverStep::Preflight => preflight(ctx).await.map(|b| {
                baseline = Some(b);
                (StepStatus::Done, json!(b))
            }),
            _ => {
                let b = baseline.ok_or_else(|| {
                    failed(ActError::RunState {
                        id: ctx.id,
                        detail: "its preflight record is missing".into(),
                    })
                })?;
                let w = watcher.get_or_insert_with(|| {
                    Watcher::start(
                        (ctx.source.client.clone(), p.source.clone()),
                        (ctx.target.client.clone(), p.target.clone()),
                        b.baseline_ready,
                        SAMPLE_EVERY,
                    )
                });
                match step {
                    FailoverStep::RaiseTarget => raise_target(ctx).await,
                    FailoverStep::WaitReady => wait_ready(ctx, &b, w, emit).await,
                    FailoverStep::Traffic => traffic(ctx, w, confirm_traffic, emit).await,
                    FailoverStep::DrainSource => drain(ctx, &b, w, emit).await,
                    FailoverStep::Verify => verify(ctx, &b, w).await,
                    FailoverStep::Preflight => unreachable_step(),
                }
            }
        };
        match outcome {
            Ok((status, detail)) => ctx.finished(step, status, detail, emit).map_err(failed)?,
            Err(e) => {
                let aborted = matches!(e, ActError::InvariantViolated { .. });
                ctx.finished(
                    step,
                    StepStatus::Failed,
                    json!({ "error": e.to_string(), "kind": e.kind() }),
                    emit,
                )
                .map_err(failed)?;
                if let Some(w) = watcher.take() {
                    w.finish().await;
                }
                if aborted {
                    emit(&FailoverEvent::Aborted {
                        reason: e.to_string(),
                    });
                    if let Some(b) = baseline {
                        restore_source(ctx, &b).await.map_err(failed)?;
                    }
                    return Err((RunState::Aborted, e));
                }
                return Err(failed(e));
            }
        }
        next = FailoverStep::ALL
            .into_iter()
            .skip_while(|s| *s != step)
            .nth(1);
    }
    Ok(match watcher {
        Some(w) => w.finish().await,
        None => WatchStats::default(),
    })
}

fn unreachable_step() -> Result<(StepStatus, serde_json::Value), ActError> {
    Err(ActError::RunState {
        id: 0,
        detail: "preflight ran twice".into(),
    })
}

async fn preflight(ctx: &Ctx<'_>) -> Result<Baseline, ActError> {
    let p = ctx.plan();
    ctx.guard.check("a failover")?;
    // Under the plan's deadline: a cluster that stopped answering since
    // the plan refuses here, before any write, instead of hanging.
    let (s, t) = tokio::join!(
        within(&p.source.cluster_id, counts(&ctx.source.client, &p.source)),
        within(&p.target.cluster_id, counts(&ctx.target.client, &p.target))
    );
    let (s, t) = (s?, t?);
    // The access the plan checked, asked again: RBAC may have changed.
    let source_checks = failover_writes(&p.source, p.source_hpa.is_some());
    let target_checks = failover_writes(&p.target, p.target_hpa.is_some());
    let (ds, dt) = tokio::join!(
        within(
            &p.source.cluster_id,
            denied_writes(&ctx.source.client, &p.source.cluster_id, &source_checks)
        ),
        within(
            &p.target.cluster_id,
            denied_writes(&ctx.target.client, &p.target.cluster_id, &target_checks)
        )
    );
    for (w, denied) in [(&p.target, dt?), (&p.source, ds?)] {
        if let Some(d) = denied.first() {
            return Err(ActError::Forbidden {
                cluster: w.cluster_id.clone(),
                verb: d.verb.clone(),
                resource: format!("{} ({}) in namespace {}", d.resource, d.group, d.namespace),
                message: d
                    .reason
                    .clone()
                    .unwrap_or_else(|| "its access review says no".into()),
            });
        }
    }
    for (w, now, planned) in [
        (&p.source, s.replicas, p.source_replicas),
        (&p.target, t.replicas, p.target_replicas),
    ] {
        if now != planned {
            return Err(ActError::ChangedSincePreview {
                cluster: w.cluster_id.clone(),
                what: format!("deployment {}/{}", w.namespace, w.deployment),
                detail: format!("it has {now} replicas now, the plan showed {planned}"),
            });
        }
    }
    let baseline_ready = s.ready + t.ready;
    Ok(Baseline {
        source_replicas: s.replicas,
        source_ready: s.ready,
        target_replicas: t.replicas,
        target_ready: t.ready,
        baseline_ready,
        wait_for_ready: (baseline_ready - p.source_floor)
            .max(s.ready)
            .min(p.target_after),
    })
}

async fn raise_target(ctx: &Ctx<'_>) -> Result<(StepStatus, serde_json::Value), ActError> {
    let p = ctx.plan();
    let t = ctx.target;
    // Replicas first: raising the HPA's min first would let the HPA move
    // the count between our read and our write (a 409 that is not ours).
    set_replicas(
        &t.client,
        ctx.store,
        &t.actor,
        ctx.guard,
        &p.target,
        p.target_after,
    )
    .await?;
    if let Some(h) = p.target_hpa {
        set_hpa_bounds(
            &t.client, ctx.store, &t.actor, ctx.guard, &p.target, h.after,
        )
        .await?;
    }
    Ok((
        StepStatus::Done,
        json!({ "target_replicas": p.target_after, "target_hpa": p.target_hpa.map(|h| h.after) }),
    ))
}

async fn wait_ready(
    ctx: &Ctx<'_>,
    b: &Baseline,
    w: &Watcher,
    emit: &mut dyn FnMut(&FailoverEvent),
) -> Result<(StepStatus, serde_json::Value), ActError> {
    let p = ctx.plan();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(ctx.spec.wait_secs);
    let mut last = None;
    loop {
        if w.violated() {
            return Err(violation(w));
        }
        let c = counts(&ctx.target.client, &p.target).await?;
        if last != Some(c.ready) {
            emit(&FailoverEvent::TargetReady {
                ready: c.ready,
                wanted: b.wait_for_ready,
            });
            last = Some(c.ready);
        }
        if c.ready >= b.wait_for_ready {
            return Ok((StepStatus::Done, json!({ "target_ready": c.ready })));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ActError::Timeout {
                cluster: p.target.cluster_id.clone(),
                what: format!("{} ready replicas of {}", b.wait_for_ready, p.target),
                detail: format!("{} ready after {} s", c.ready, ctx.spec.wait_secs),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn traffic(
    ctx: &Ctx<'_>,
    w: &Watcher,
    confirm: &mut ConfirmTraffic<'_>,
    emit: &mut dyn FnMut(&FailoverEvent),
) -> Result<(StepStatus, serde_json::Value), ActError> {
    let p = ctx.plan();
    match &ctx.spec.traffic {
        TrafficMode::Skip => Ok((StepStatus::Skipped, json!({ "mode": "skip" }))),
        TrafficMode::Manual => {
            let prompt = format!(
                "Switch traffic for {} from {} to {}, then confirm",
                p.group, p.source.cluster_id, p.target.cluster_id
            );
            // Asked before it is announced: an answer to the event always
            // finds the question registered.
            let mut answer = confirm(prompt.clone());
            emit(&FailoverEvent::TrafficConfirmation { prompt });
            // The user may take minutes: the invariant is checked meanwhile,
            // and a violation ends the wait (and aborts to a safe state).
            let confirmed = loop {
                match tokio::time::timeout(Duration::from_millis(250), &mut answer).await {
                    Ok(a) => break a,
                    Err(_) if w.violated() => return Err(violation(w)),
                    Err(_) => {}
                }
            };
            if confirmed {
                Ok((
                    StepStatus::Done,
                    json!({ "mode": "manual", "confirmed": true }),
                ))
            } else {
                Err(ActError::TrafficStep {
                    detail: "the traffic switch was not confirmed".into(),
                })
            }
        }
        TrafficMode::Hook { command } => {
            let out = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .env("CLOUDOPS_FAILOVER_RUN", ctx.id.to_string())
                .env("CLOUDOPS_FAILOVER_SOURCE", &p.source.cluster_id)
                .env("CLOUDOPS_FAILOVER_TARGET", &p.target.cluster_id)
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|e| ActError::TrafficStep {
                    detail: format!("the hook `{command}` could not start: {e}"),
                })?;
            if out.status.success() {
                Ok((StepStatus::Done, json!({ "mode": "hook", "exit": 0 })))
            } else {
                Err(ActError::TrafficStep {
                    detail: format!(
                        "the hook `{command}` failed ({}): {}",
                        out.status,
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                })
            }
        }
    }
}

fn violation(w: &Watcher) -> ActError {
    ActError::InvariantViolated {
        detail: w.stats().violation.unwrap_or_default(),
    }
}

/// The source down to the floor in steps of about a third, each only when
/// the target's ready replicas plus what stays covers the baseline.
async fn drain(
    ctx: &Ctx<'_>,
    b: &Baseline,
    w: &Watcher,
    emit: &mut dyn FnMut(&FailoverEvent),
) -> Result<(StepStatus, serde_json::Value), ActError> {
    let p = ctx.plan();
    let s = ctx.source;
    if let Some(h) = p.source_hpa {
        set_hpa_bounds(
            &s.client, ctx.store, &s.actor, ctx.guard, &p.source, h.after,
        )
        .await?;
    }
    let chunk = ((p.replicas_to_move + 2) / 3).max(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(ctx.spec.wait_secs);
    loop {
        if w.violated() {
            return Err(violation(w));
        }
        let now = counts(&s.client, &p.source).await?.replicas;
        if now <= p.source_floor {
            return Ok((StepStatus::Done, json!({ "source_replicas": now })));
        }
        let next = (now - chunk).max(p.source_floor);
        let target_ready = counts(&ctx.target.client, &p.target).await?.ready;
        if target_ready + next < b.baseline_ready {
            // Not covered (yet): the target lost a pod. Wait, do not drain.
            if tokio::time::Instant::now() >= deadline {
                return Err(ActError::Timeout {
                    cluster: p.target.cluster_id.clone(),
                    what: format!("cover for draining {} to {next}", p.source),
                    detail: format!("the target has {target_ready} ready"),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        set_replicas(&s.client, ctx.store, &s.actor, ctx.guard, &p.source, next).await?;
        emit(&FailoverEvent::SourceScaled { replicas: next });
        // Let the watcher see the new counts before the next cut.
        tokio::time::sleep(SAMPLE_EVERY * 3).await;
    }
}

async fn verify(
    ctx: &Ctx<'_>,
    b: &Baseline,
    w: &Watcher,
) -> Result<(StepStatus, serde_json::Value), ActError> {
    let p = ctx.plan();
    if w.violated() {
        return Err(violation(w));
    }
    let (s, t) = tokio::join!(
        counts(&ctx.source.client, &p.source),
        counts(&ctx.target.client, &p.target)
    );
    let (s, t) = (s?, t?);
    let stats = w.stats();
    let detail = json!({
        "source_replicas": s.replicas, "source_ready": s.ready,
        "target_replicas": t.replicas, "target_ready": t.ready,
        "baseline_ready": b.baseline_ready, "samples": stats.samples,
        "rate_hz": stats.rate_hz, "min_total_ready": stats.min_total_ready,
    });
    if s.replicas > p.source_floor || s.ready + t.ready < b.baseline_ready {
        return Err(ActError::RunState {
            id: ctx.id,
            detail: format!("verify found {detail}"),
        });
    }
    Ok((StepStatus::Done, detail))
}

/// Puts the source back as it was (replicas, then its HPA's bounds) and
/// waits until its ready count is back.
async fn restore_source(ctx: &Ctx<'_>, b: &Baseline) -> Result<(), ActError> {
    let p = ctx.plan();
    let s = ctx.source;
    set_replicas(
        &s.client,
        ctx.store,
        &s.actor,
        ctx.guard,
        &p.source,
        b.source_replicas,
    )
    .await?;
    if let Some(h) = p.source_hpa {
        set_hpa_bounds(
            &s.client, ctx.store, &s.actor, ctx.guard, &p.source, h.before,
        )
        .await?;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(ctx.spec.wait_secs);
    loop {
        let c = counts(&s.client, &p.source).await?;
        if c.ready >= b.source_ready {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ActError::Timeout {
                cluster: p.source.cluster_id.clone(),
                what: format!("{} ready replicas of {}", b.source_ready, p.source),
                detail: format!("{} ready after {} s", c.ready, ctx.spec.wait_secs),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Reverses the steps run `id` started: the source back first (and waited
/// for), then the target lowered, so the invariant holds throughout.
pub async fn rollback(
    source: &Side,
    target: &Side,
    store: &Store,
    guard: WriteGuard,
    id: i64,
    emit: &mut dyn FnMut(&FailoverEvent),
) -> Result<RunReport, ActError> {
    let (run, spec) = load(store, id)?;
    guard.check(&format!("rolling back failover run {id}"))?;
    if run.state == RunState::RolledBack {
        return Err(ActError::RunState {
            id,
            detail: "it is already rolled back".into(),
        });
    }
    let ctx = Ctx {
        store,
        source,
        target,
        guard,
        id,
        spec: &spec,
        actor: both_actor(source, target),
    };
    let p = ctx.plan();
    let started = run.started_steps();
    let b: Option<Baseline> = run
        .step_row(FailoverStep::Preflight)
        .and_then(|r| serde_json::from_value(r.detail.clone()).ok());
    store
        .set_failover_state(id, RunState::RollingBack, None)
        .map_err(ActError::State)?;
    audit(
        store,
        &ctx.actor,
        "failover_rollback",
        &run_target(id),
        json!({ "run": id, "steps": started }),
        Outcome::Started,
    )?;
    let watcher = b.map(|b| {
        Watcher::start(
            (source.client.clone(), p.source.clone()),
            (target.client.clone(), p.target.clone()),
            b.baseline_ready,
            SAMPLE_EVERY,
        )
    });
    let result = async {
        if let Some(b) = b.filter(|_| started.contains(&FailoverStep::RaiseTarget)) {
            restore_source(&ctx, &b).await?;
            let t = &ctx.target;
            // The HPA's min first: at the raised min it would scale the
            // target straight back up.
            if let Some(h) = p.target_hpa {
                set_hpa_bounds(&t.client, store, &t.actor, guard, &p.target, h.before).await?;
            }
            set_replicas(
                &t.client,
                store,
                &t.actor,
                guard,
                &p.target,
                b.target_replicas,
            )
            .await?;
        }
        for step in started.iter().rev() {
            store
                .failover_step_finished(id, *step, StepStatus::RolledBack, &json!({}))
                .map_err(ActError::State)?;
            emit(&FailoverEvent::StepFinished {
                step: *step,
                status: StepStatus::RolledBack,
            });
        }
        Ok::<(), ActError>(())
    }
    .await;
    let watch = match watcher {
        Some(w) => w.finish().await,
        None => WatchStats::default(),
    };
    match result {
        Ok(()) => {
            store
                .set_failover_state(id, RunState::RolledBack, None)
                .map_err(ActError::State)?;
            audit(
                store,
                &ctx.actor,
                "failover_rollback",
                &run_target(id),
                json!({ "run": id, "min_total_ready": watch.min_total_ready }),
                Outcome::Succeeded,
            )?;
            Ok(RunReport {
                run_id: id,
                state: RunState::RolledBack,
                watch,
            })
        }
        Err(e) => {
            store
                .set_failover_state(id, RunState::Failed, Some(&e.to_string()))
                .map_err(ActError::State)?;
            audit(
                store,
                &ctx.actor,
                "failover_rollback",
                &run_target(id),
                json!({ "run": id, "error": e.to_string(), "kind": e.kind() }),
                Outcome::Failed,
            )?;
            Err(e)
        }
    }
}
