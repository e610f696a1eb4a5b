//! `cloudops failover plan|run|status|resume|rollback` (issue 6, BRIEF §8).
//!
//! The group's members come from the cache (`cloudops refresh` first) plus
//! the user's own members; each member is then read live for the plan.
//! `run` needs a confirmation like every write: `--yes`, or a terminal
//! (the deployment's name typed when the run crosses a cloud or drains the
//! source to 0); a non-interactive run without `--yes` refuses. Progress
//! goes to stderr, one line per event; `--json` prints one document on
//! stdout at the end.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use cloudops_cloud::act::{
    connect::{connect as act_connect, Connected},
    failover::{self, FailoverEvent, RunReport, RunSpec, Side, TrafficAnswer, TrafficMode},
    failover_plan::{
        plan_for_group, record_refusal, CachedInputs, GroupPlan, PlanOptions, PlanRequest,
        UnreachableMember,
    },
    ActError, Actor, WriteGuard,
};
use cloudops_core::{
    plan::failover::{parse_group_key, FailoverPlan},
    store::{failover::FailoverRun, os_user},
    Store,
};
use serde::Serialize;

use super::{
    act::{confirm, discover_targets, on_fleet, require_terminal},
    clusters,
    refresh::Fleet,
    Context,
};
use crate::output::{print_json, Failure, EXIT_ERROR};

#[derive(Debug, Args)]
pub struct FailoverArgs {
    #[command(subcommand)]
    command: FailoverCommand,
}

#[derive(Debug, Subcommand)]
enum FailoverCommand {
    /// Rank the targets and show the plan; changes nothing.
    Plan(PlanArgs),
    /// Plan, confirm, then run the steps (persisted; resumable).
    Run(RunArgs),
    /// The newest runs, or one run's steps.
    Status(StatusArgs),
    /// Continue a run from its first incomplete step (after a crash).
    Resume(RunIdArgs),
    /// Undo a run's steps: the source restored first, then the target lowered.
    Rollback(RunIdArgs),
    /// The groups (detected in the cache, plus your own members).
    Group {
        #[command(subcommand)]
        command: super::failover_groups::GroupCommand,
    },
}

#[derive(Debug, Args)]
struct Where {
    /// Act on an in-process sandbox (its changes end with the command).
    #[arg(long)]
    sandbox: bool,
    #[arg(long, default_value_t = cloudops_sandbox::world::DEFAULT_SEED, requires = "sandbox")]
    seed: u64,
}

#[derive(Debug, Args)]
struct PlanArgs {
    /// The group: NAMESPACE/DEPLOYMENT.
    #[arg(long, value_name = "NS/DEPLOY")]
    group: String,
    /// The source cluster's id.
    #[arg(long, value_name = "CLUSTER")]
    from: String,
    /// The target cluster's id; ranked among the group when left out.
    #[arg(long, value_name = "CLUSTER")]
    to: Option<String>,
    /// Replicas the source keeps (0 drains it).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..=10000))]
    floor: i32,
    #[command(flatten)]
    place: Where,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    plan: PlanArgs,
    /// Confirm without a prompt.
    #[arg(long)]
    yes: bool,
    /// How long to wait for the target's replicas to be ready, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=7200))]
    wait: u64,
    /// A command run (`sh -c`) as the traffic step; a non-zero exit fails it.
    #[arg(long, value_name = "CMD", conflicts_with = "traffic_manual")]
    traffic_hook: Option<String>,
    /// Stop at the traffic step until you confirm the switch on the terminal.
    #[arg(long)]
    traffic_manual: bool,
}

#[derive(Debug, Args)]
struct StatusArgs {
    run_id: Option<i64>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    #[arg(long)]
    sandbox: bool,
}

#[derive(Debug, Args)]
struct RunIdArgs {
    run_id: i64,
    /// Confirm without a prompt.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    place: Where,
}

#[derive(Serialize)]
struct PlanDoc<'a> {
    plan: &'a FailoverPlan,
    /// Group members that could not be read (and so were not ranked).
    unreachable: &'a [UnreachableMember],
}

#[derive(Serialize)]
struct RunDoc<'a> {
    state: &'a str,
    plan: &'a FailoverPlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a RunReport>,
}

pub fn run(ctx: &Context, args: FailoverArgs) -> Result<ExitCode, Failure> {
    match args.command {
        FailoverCommand::Plan(a) => plan_cmd(ctx, a),
        FailoverCommand::Run(a) => run_cmd(ctx, a),
        FailoverCommand::Status(a) => status_cmd(ctx, a),
        FailoverCommand::Resume(a) => resume_cmd(ctx, a, false),
        FailoverCommand::Rollback(a) => resume_cmd(ctx, a, true),
        FailoverCommand::Group { command } => super::failover_groups::run(ctx, command),
    }
}

async fn build_plan(store: &Store, fleet: &Fleet, args: &PlanArgs) -> Result<GroupPlan, Failure> {
    if parse_group_key(&args.group).is_none() {
        return Err(Failure::usage(
            "invalid_argument",
            format!("--group {:?} is not NAMESPACE/DEPLOYMENT", args.group),
            "e.g. --group shop/checkout",
        ));
    }
    let cached = CachedInputs::read(store, &args.group)?;
    let targets = discover_targets(fleet).await?;
    let req = PlanRequest {
        group: args.group.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        floor: args.floor,
    };
    Ok(plan_for_group(&targets, &cached, &req, &PlanOptions::default()).await?)
}

/// A refused plan: audited (no write was made), then the refusal as the
/// command's error, with the plan's own hint.
fn refuse(store: &Store, p: &GroupPlan, asked: &str) -> Result<Failure, Failure> {
    let actor = Actor {
        os_user: os_user(),
        cloud_identity: p.identity(&p.plan.source.cluster_id),
    };
    record_refusal(store, &actor, &p.plan, asked)?;
    Ok(Failure {
        exit: EXIT_ERROR,
        kind: "failover_refused".into(),
        message: format!(
            "the failover is refused: {}",
            p.plan.refusal.as_deref().unwrap_or_default()
        ),
        hint: p.plan.refusal_hint.clone().unwrap_or_else(|| {
            "Nothing was changed. Pick another target (--to), then plan again.".into()
        }),
    })
}

fn print_plan(plan: &FailoverPlan, unreachable: &[UnreachableMember]) {
    println!(
        "Fail {} over from {} to {}",
        plan.group, plan.source.cluster_id, plan.target.cluster_id
    );
    println!(
        "  move {} replicas: source {} -> {}, target {} -> {}",
        plan.replicas_to_move,
        plan.source_replicas,
        plan.source_floor,
        plan.target_replicas,
        plan.target_after
    );
    println!("  capacity: {}", plan.fit.summary);
    let h = |v: Option<f64>| v.map_or("unknown".into(), |v| format!("{v:.0}"));
    println!(
        "  health: source {}, target {}",
        h(plan.source_health),
        h(plan.target_health)
    );
    match (plan.cost.hourly, &plan.cost.note) {
        (Some(d), _) => println!("  cost: {d:+.4}/h"),
        (None, Some(note)) => println!("  cost: {note}"),
        (None, None) => {}
    }
    if let Some(hpa) = plan.target_hpa {
        println!(
            "  target HPA: {}..{} -> {}..{}",
            hpa.before.min, hpa.before.max, hpa.after.min, hpa.after.max
        );
    }
    if let Some(hpa) = plan.source_hpa {
        println!(
            "  source HPA: {}..{} -> {}..{} while draining",
            hpa.before.min, hpa.before.max, hpa.after.min, hpa.after.max
        );
    }
    for w in &plan.why {
        println!("  why: {w}");
    }
    for w in &plan.warnings {
        println!("  warning: {w}");
    }
    for u in unreachable {
        println!("  not ranked: {} ({})", u.cluster, u.error);
    }
    for c in plan.candidates.iter().skip(1) {
        if let Some(why) = &c.refused {
            println!("  cannot be the target: {} ({why})", c.cluster_id);
        }
    }
    if let Some(r) = &plan.refusal {
        println!("  REFUSED: {r}");
        if let Some(h) = &plan.refusal_hint {
            println!("  hint: {h}");
        }
    }
}

fn show(e: &FailoverEvent) {
    let mut err = std::io::stderr().lock();
    let _ = match e {
        FailoverEvent::StepStarted { step } => writeln!(err, "  step {} started", step.as_str()),
        FailoverEvent::StepFinished { step, status } => {
            writeln!(err, "  step {} {}", step.as_str(), status.as_str())
        }
        FailoverEvent::TargetReady { ready, wanted } => {
            writeln!(err, "  target ready {ready} of {wanted}")
        }
        FailoverEvent::SourceScaled { replicas } => writeln!(err, "  source scaled to {replicas}"),
        FailoverEvent::Aborted { reason } => writeln!(err, "  ABORTED: {reason}"),
        FailoverEvent::TrafficConfirmation { .. } => {
            writeln!(err, "  traffic: waiting for your confirmation")
        }
    };
}

fn side(c: &Connected) -> Side {
    Side {
        client: c.client.clone(),
        actor: Actor {
            os_user: os_user(),
            cloud_identity: c.identity.clone(),
        },
    }
}

/// The manual traffic step asks on the terminal.
/// The terminal prompt of a manual traffic step, read on a blocking thread
/// so that the run's invariant watcher keeps sampling while the user
/// switches traffic.
fn ask_traffic(prompt: String) -> TrafficAnswer {
    Box::pin(async move {
        tokio::task::spawn_blocking(move || {
            if require_terminal().is_err() {
                return false;
            }
            eprintln!("{prompt}.");
            confirm(Some("done")).unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    })
}

fn plan_cmd(ctx: &Context, args: PlanArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.place.sandbox)?;
    on_fleet(
        ctx,
        args.place.sandbox,
        args.place.seed,
        async |fleet: &Fleet| {
            let p = build_plan(&store, fleet, &args).await?;
            if ctx.json {
                print_json(&PlanDoc {
                    plan: &p.plan,
                    unreachable: &p.unreachable,
                });
            } else {
                print_plan(&p.plan, &p.unreachable);
            }
            if p.plan.refusal.is_some() {
                // The plan is printed (it says why); the refusal is also
                // the exit status, so scripts do not go on to `run`.
                let refused = refuse(&store, &p, "plan")?;
                if !ctx.json {
                    eprintln!("error: {}\nhint: {}", refused.message, refused.hint);
                }
                return Ok(ExitCode::from(EXIT_ERROR));
            }
            Ok(ExitCode::SUCCESS)
        },
    )
}

fn guard(ctx: &Context) -> WriteGuard {
    WriteGuard {
        read_only: ctx.read_only,
    }
}

fn run_cmd(ctx: &Context, args: RunArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.plan.place.sandbox)?;
    let guard = guard(ctx);
    // Read-only: refused before any network call.
    guard.check(&format!(
        "failing {} over from {}",
        args.plan.group, args.plan.from
    ))?;
    on_fleet(
        ctx,
        args.plan.place.sandbox,
        args.plan.place.seed,
        async |fleet: &Fleet| {
            let p = build_plan(&store, fleet, &args.plan).await?;
            if !ctx.json {
                print_plan(&p.plan, &p.unreachable);
            }
            if p.plan.refusal.is_some() {
                return Err(refuse(&store, &p, "run")?);
            }
            if !args.yes {
                require_terminal()?;
                if !confirm(p.plan.typed_confirmation.as_deref())? {
                    if ctx.json {
                        print_json(&RunDoc {
                            state: "cancelled",
                            plan: &p.plan,
                            report: None,
                        });
                    } else {
                        println!("Cancelled; nothing was changed.");
                    }
                    return Ok(ExitCode::SUCCESS);
                }
            }
            let traffic = match (&args.traffic_hook, args.traffic_manual) {
                (Some(cmd), _) => TrafficMode::Hook {
                    command: cmd.clone(),
                },
                (None, true) => TrafficMode::Manual,
                (None, false) => TrafficMode::Skip,
            };
            let spec = RunSpec {
                plan: p.plan.clone(),
                traffic,
                wait_secs: args.wait,
            };
            let id = failover::create(&store, guard, &spec)?;
            eprintln!("failover run {id} started");
            let (Some(src), Some(dst)) = (
                p.connected.get(&p.plan.source.cluster_id),
                p.connected.get(&p.plan.target.cluster_id),
            ) else {
                return Err(Failure::usage(
                    "not_in_group",
                    "a member was not connected",
                    "",
                ));
            };
            let report = failover::run(
                &side(src),
                &side(dst),
                &store,
                guard,
                id,
                &mut ask_traffic,
                &mut show,
            )
            .await?;
            finish(ctx, &p.plan, &report);
            Ok(ExitCode::SUCCESS)
        },
    )
}

fn finish(ctx: &Context, plan: &FailoverPlan, report: &RunReport) {
    if ctx.json {
        print_json(&RunDoc {
            state: report.state.as_str(),
            plan,
            report: Some(report),
        });
    } else {
        println!(
            "Run {} {}: {} invariant samples at {:.1} Hz, lowest total ready {} (baseline {}).",
            report.run_id,
            report.state.as_str(),
            report.watch.samples,
            report.watch.rate_hz,
            report
                .watch
                .min_total_ready
                .map_or("-".into(), |v| v.to_string()),
            report.watch.baseline_ready
        );
    }
}

fn resume_cmd(ctx: &Context, args: RunIdArgs, rollback: bool) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.place.sandbox)?;
    let guard = guard(ctx);
    let verb = if rollback { "rolling back" } else { "resuming" };
    guard.check(&format!("{verb} failover run {}", args.run_id))?;
    let run = store
        .failover_run(args.run_id)?
        .ok_or(ActError::RunNotFound { id: args.run_id })?;
    let spec: RunSpec =
        serde_json::from_value(run.plan.clone()).map_err(|e| ActError::RunState {
            id: run.id,
            detail: format!("its stored plan cannot be read: {e}"),
        })?;
    if !ctx.json {
        print_run(&run);
    }
    if !args.yes {
        require_terminal()?;
        if !confirm(None)? {
            println!("Cancelled; nothing was changed.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    on_fleet(
        ctx,
        args.place.sandbox,
        args.place.seed,
        async |fleet: &Fleet| {
            let targets = discover_targets(fleet).await?;
            let src = act_connect(&targets, &run.source_cluster).await?;
            let dst = act_connect(&targets, &run.target_cluster).await?;
            let report = if rollback {
                failover::rollback(&side(&src), &side(&dst), &store, guard, run.id, &mut show)
                    .await?
            } else {
                failover::run(
                    &side(&src),
                    &side(&dst),
                    &store,
                    guard,
                    run.id,
                    &mut ask_traffic,
                    &mut show,
                )
                .await?
            };
            finish(ctx, &spec.plan, &report);
            Ok(ExitCode::SUCCESS)
        },
    )
}

#[derive(Serialize)]
struct StatusDoc<'a> {
    runs: &'a [FailoverRun],
}

fn print_run(run: &FailoverRun) {
    println!(
        "Run {}: {} from {} to {} — {}{}",
        run.id,
        run.group,
        run.source_cluster,
        run.target_cluster,
        run.state.as_str(),
        run.error
            .as_ref()
            .map_or(String::new(), |e| format!(" ({e})"))
    );
    for s in &run.steps {
        println!("  {:<13} {}", s.step.as_str(), s.status.as_str());
    }
}

fn status_cmd(ctx: &Context, args: StatusArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.sandbox)?;
    let runs = match args.run_id {
        Some(id) => vec![store
            .failover_run(id)?
            .ok_or(ActError::RunNotFound { id })?],
        None => store.failover_runs(args.limit)?,
    };
    if ctx.json {
        print_json(&StatusDoc { runs: &runs });
    } else if runs.is_empty() {
        println!("No failover runs.");
    } else {
        runs.iter().for_each(print_run);
    }
    Ok(ExitCode::SUCCESS)
}
