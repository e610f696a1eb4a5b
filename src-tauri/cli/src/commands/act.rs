//! Writes to clusters from the CLI (issue 6): `cloudops scale` and
//! `cloudops audit`.
//!
//! A write always shows its preview first. `--yes` skips the prompt;
//! without it, an interactive terminal is asked (the deployment's name must
//! be typed when the change takes it to zero), and a non-interactive run
//! refuses with exit 2 and changes nothing. `--read-only` (or
//! `CLOUDOPS_READ_ONLY=1`) refuses every write in the executor itself.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use cloudops_cloud::{
    act::{
        connect::{cloud_identity, connect as act_connect, Connected},
        nodepool::{self, NodePoolOutcome, PoolProgress},
        rollout::{self, RolloutAction, RolloutOutcome, RolloutPlan, RolloutStatus},
        scale::{self, RolloutProgress, ScaleOutcome},
        ActError, Actor, WriteGuard,
    },
    collect::fleet::{targets, FleetTarget},
    discovery::Limits,
    sources::{self, Sources},
};
use cloudops_core::{
    audit::{audit_csv, AuditEntry, AuditFilter, AuditRow},
    plan::{
        nodepool::NodePoolPlan,
        scale::{ScalePlan, WorkloadRef},
    },
    store::os_user,
};
use serde::Serialize;

use super::{clusters, refresh::Fleet, Context};
use crate::output::{print_json, Failure, EXIT_ERROR, EXIT_USAGE};

/// The deployment an action is about; flattened into each action's flags.
#[derive(Debug, Clone, Args)]
pub(super) struct DeploymentTarget {
    /// The cluster's id, as `cloudops clusters` prints it.
    #[arg(long, value_name = "ID")]
    pub cluster: String,
    /// The deployment's namespace.
    #[arg(short = 'n', long)]
    pub namespace: String,
    /// The deployment.
    #[arg(long)]
    pub deployment: String,
}

impl DeploymentTarget {
    pub fn workload(&self) -> WorkloadRef {
        WorkloadRef {
            cluster_id: self.cluster.clone(),
            namespace: self.namespace.clone(),
            deployment: self.deployment.clone(),
        }
    }
}

impl std::fmt::Display for DeploymentTarget {
    /// "shop/checkout in CLUSTER", for refusals and prompts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} in {}",
            self.namespace, self.deployment, self.cluster
        )
    }
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    #[command(flatten)]
    target: DeploymentTarget,
    /// The new replica count (0 to 10000).
    #[arg(long)]
    replicas: i64,
    /// Confirm without a prompt.
    #[arg(long)]
    yes: bool,
    /// How long to follow the rollout after the write, in seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(0..=3600))]
    wait: u64,
    /// Act on an in-process sandbox (its changes end with the command).
    #[arg(long)]
    sandbox: bool,
    #[arg(long, default_value_t = cloudops_sandbox::world::DEFAULT_SEED, requires = "sandbox")]
    seed: u64,
}

#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    command: RolloutCommand,
}

#[derive(Debug, clap::Subcommand)]
enum RolloutCommand {
    /// Replace every pod (the `restartedAt` template annotation).
    Restart(RolloutTarget),
    /// Go back to the previous revision's pod template.
    Undo(RolloutTarget),
}

#[derive(Debug, Args)]
struct RolloutTarget {
    #[command(flatten)]
    target: DeploymentTarget,
    /// Confirm without a prompt.
    #[arg(long)]
    yes: bool,
    /// How long to follow the rollout, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=3600))]
    wait: u64,
    #[arg(long)]
    sandbox: bool,
    #[arg(long, default_value_t = cloudops_sandbox::world::DEFAULT_SEED, requires = "sandbox")]
    seed: u64,
}

#[derive(Serialize)]
struct RolloutDoc<'a> {
    state: &'a str,
    plan: &'a RolloutPlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a RolloutOutcome>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// At most this many rows, newest last.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100000))]
    limit: u32,
    /// Only this action, e.g. `scale_deployment`.
    #[arg(long)]
    action: Option<String>,
    /// Only this outcome: started, succeeded, failed or cancelled.
    #[arg(long, value_parser = ["started", "succeeded", "failed", "cancelled"])]
    outcome: Option<String>,
    /// Only rows whose actor, action, target or detail contain this text
    /// (case-insensitive).
    #[arg(long)]
    grep: Option<String>,
    /// CSV (RFC 4180), as the app exports it.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// The sandbox's cache.
    #[arg(long)]
    sandbox: bool,
}

#[derive(Serialize)]
struct ScaleDoc<'a> {
    /// `completed`, `noop`, `cancelled` or `refused`.
    state: &'a str,
    plan: &'a ScalePlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a ScaleOutcome>,
}

impl From<ActError> for Failure {
    fn from(e: ActError) -> Failure {
        Failure {
            exit: match e {
                ActError::ReadOnly { .. } | ActError::Plan(_) | ActError::HpaPlan(_) => EXIT_USAGE,
                _ => EXIT_ERROR,
            },
            kind: e.kind().into(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

fn print_plan(plan: &ScalePlan) {
    let t = &plan.target;
    println!(
        "Scale deployment {}/{} in {}",
        t.namespace, t.deployment, t.cluster_id
    );
    for c in &plan.changes {
        println!("  {}: {} -> {}", c.field, c.before, c.after);
    }
    println!("  ready now: {}", plan.ready);
    if let Some(fit) = &plan.fit {
        println!("  capacity: {}", fit.summary);
    }
    for w in &plan.warnings {
        println!("  warning: {w}");
    }
}

/// Asks on the terminal; `typed` is the word to type instead of y/N.
/// `Ok(false)` is a "no".
pub(super) fn confirm(typed: Option<&str>) -> Result<bool, Failure> {
    let mut out = std::io::stderr().lock();
    let _ = match typed {
        Some(word) => write!(out, "Type {word} to confirm: "),
        None => write!(out, "Apply? [y/N] "),
    };
    let _ = out.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::usage("no_confirmation", e.to_string(), "run again with --yes"))?;
    let answer = line.trim();
    Ok(match typed {
        Some(word) => answer == word,
        None => matches!(answer, "y" | "Y" | "yes"),
    })
}

/// Without --yes, only a person at a terminal can confirm.
pub(super) fn require_terminal() -> Result<(), Failure> {
    if std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(Failure::usage(
            "confirmation_required",
            "refusing to write without --yes in a non-interactive run; nothing was changed",
            "review the preview above, then run again with --yes",
        ))
    }
}

fn show_progress(p: RolloutProgress) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "  replicas {} · updated {} · ready {} · available {}",
        p.replicas, p.updated, p.ready, p.available
    );
}

pub fn scale(ctx: &Context, args: ScaleArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.sandbox)?;
    let guard = WriteGuard {
        read_only: ctx.read_only,
    };
    // Refuse before any network call: read-only means no write, and no
    // reason to reach the cluster for one.
    guard.check(&format!("scaling {}", args.target))?;
    on_fleet(ctx, args.sandbox, args.seed, async |fleet: &Fleet| {
        let Connected {
            client, identity, ..
        } = connect(fleet, &args.target.cluster).await?;
        let target = args.target.workload();
        let preview = scale::preview(&client, target, args.replicas).await?;
        let plan = &preview.plan;
        let actor = Actor {
            os_user: os_user(),
            cloud_identity: identity,
        };
        let emit = |state: &str, outcome: Option<&ScaleOutcome>| {
            if ctx.json {
                print_json(&ScaleDoc {
                    state,
                    plan,
                    outcome,
                });
            }
        };
        if !ctx.json {
            print_plan(plan);
        }
        if plan.is_noop() {
            emit("noop", None);
            if !ctx.json {
                println!("Nothing to do: it already has {} replicas.", plan.to);
            }
            return Ok(ExitCode::SUCCESS);
        }
        if !args.yes {
            require_terminal()?;
            if !confirm(plan.typed_confirmation.as_deref())? {
                scale::record_cancelled(&store, &actor, plan)?;
                emit("cancelled", None);
                if !ctx.json {
                    println!("Cancelled; nothing was changed.");
                }
                return Ok(ExitCode::SUCCESS);
            }
        }
        let outcome = scale::execute(
            &client,
            &store,
            &actor,
            guard,
            &preview,
            Duration::from_secs(args.wait),
            |p| {
                if !ctx.json {
                    show_progress(p)
                }
            },
        )
        .await?;
        emit("completed", Some(&outcome));
        if !ctx.json {
            println!(
                "Scaled to {}{} (audit rows {:?}).",
                outcome.to,
                if outcome.settled {
                    ", all ready"
                } else {
                    "; not all ready yet, the rollout continues"
                },
                outcome.audit_ids
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn rollout(ctx: &Context, args: RolloutArgs) -> Result<ExitCode, Failure> {
    let (action, args) = match args.command {
        RolloutCommand::Restart(a) => (RolloutAction::Restart, a),
        RolloutCommand::Undo(a) => (RolloutAction::Undo, a),
    };
    let store = clusters::open_store(ctx, args.sandbox)?;
    let guard = WriteGuard {
        read_only: ctx.read_only,
    };
    guard.check(&format!("{} of {}", action.audit_name(), args.target))?;
    on_fleet(ctx, args.sandbox, args.seed, async |fleet: &Fleet| {
        let Connected {
            client, identity, ..
        } = connect(fleet, &args.target.cluster).await?;
        let target = args.target.workload();
        let plan = rollout::preview(&client, target, action).await?;
        // With --json the one document is printed at the end.
        if !ctx.json {
            print_rollout_plan(&plan);
        }
        if !args.yes {
            require_terminal()?;
            if !confirm(None)? {
                if ctx.json {
                    print_json(&RolloutDoc {
                        state: "cancelled",
                        plan: &plan,
                        outcome: None,
                    });
                } else {
                    println!("Cancelled; nothing was changed.");
                }
                return Ok(ExitCode::SUCCESS);
            }
        }
        let actor = Actor {
            os_user: os_user(),
            cloud_identity: identity,
        };
        let outcome = rollout::execute(
            &client,
            &store,
            &actor,
            guard,
            &plan,
            Duration::from_secs(args.wait),
            |s: RolloutStatus| {
                if !ctx.json {
                    let mut err = std::io::stderr().lock();
                    let _ = writeln!(
                        err,
                        "  replicas {} · updated {} · ready {} · available {}",
                        s.replicas, s.updated, s.ready, s.available
                    );
                }
            },
        )
        .await?;
        if ctx.json {
            print_json(&RolloutDoc {
                state: "completed",
                plan: &plan,
                outcome: Some(&outcome),
            });
        } else if outcome.complete {
            println!("Rollout complete (audit rows {:?}).", outcome.audit_ids);
        } else {
            println!(
                "Written; the rollout is still in progress after the wait (audit rows {:?}).",
                outcome.audit_ids
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_rollout_plan(plan: &RolloutPlan) {
    let t = &plan.target;
    let verb = match plan.action {
        RolloutAction::Restart => "Restart",
        RolloutAction::Undo => "Undo the last rollout of",
    };
    println!(
        "{verb} deployment {}/{} in {} ({} replicas)",
        t.namespace, t.deployment, t.cluster_id, plan.replicas
    );
    if let (Some(from), Some(to)) = (plan.revision, plan.to_revision) {
        println!("  revision {from} -> the template of revision {to}");
    }
    if plan.images_before != plan.images_after {
        println!(
            "  images: {} -> {}",
            plan.images_before.join(", "),
            plan.images_after.join(", ")
        );
    }
    for w in &plan.warnings {
        println!("  warning: {w}");
    }
}

/// Runs `act` with the fleet's providers (the in-process sandbox's with
/// `--sandbox`), then stops the fleet (and its sandbox) whatever `act`
/// returned.
pub(super) fn on_fleet(
    ctx: &Context,
    sandbox: bool,
    seed: u64,
    act: impl AsyncFnOnce(&Fleet) -> Result<ExitCode, Failure>,
) -> Result<ExitCode, Failure> {
    let runtime = super::refresh::runtime()?;
    runtime.block_on(async {
        let shared = super::refresh::shared()?;
        let fleet = Fleet::start(ctx, sandbox, seed, &shared).await?;
        let result = act(&fleet).await;
        fleet.stop().await;
        result
    })
}

/// Every cluster a fresh discovery finds, with the provider that reaches it.
pub(super) async fn discover_targets(fleet: &Fleet) -> Result<Vec<FleetTarget>, Failure> {
    let sources = Sources {
        providers: fleet.providers.clone(),
        errors: fleet.source_errors.clone(),
    };
    let report = sources::discover(sources, &Limits::default(), |_| {})
        .await
        .map_err(|_| Failure::usage("no_accounts", "no cloud account is configured", ""))?;
    let all = targets(&fleet.providers, &report.clusters);
    Ok(all)
}

/// The discovered cluster `id` with the provider that reaches it.
async fn resolve(fleet: &Fleet, id: &str) -> Result<FleetTarget, Failure> {
    let all = discover_targets(fleet).await?;
    let count = all.len();
    all.into_iter()
        .find(|t| t.cluster_id == id)
        .ok_or_else(|| Failure {
            exit: EXIT_ERROR,
            kind: "unknown_cluster".into(),
            message: format!("no cluster {id} among the {count} discovered"),
            hint: "list the ids with `cloudops clusters`; a cluster whose account failed to \
                   answer is missing until it does"
                .into(),
        })
}

#[derive(Debug, Args)]
pub struct NodePoolArgs {
    #[command(subcommand)]
    command: NodePoolCommand,
}

#[derive(Debug, clap::Subcommand)]
enum NodePoolCommand {
    /// Resize a node pool through the cloud's API (within its min/max).
    Scale(NodePoolScaleArgs),
}

#[derive(Debug, Args)]
struct NodePoolScaleArgs {
    #[arg(long, value_name = "ID")]
    cluster: String,
    /// The node pool / node group / agent pool name.
    #[arg(long)]
    pool: String,
    /// The new node count.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=1000))]
    count: u32,
    /// Confirm without a prompt.
    #[arg(long)]
    yes: bool,
    /// How long to follow the resize, in seconds.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(0..=7200))]
    wait: u64,
    #[arg(long)]
    sandbox: bool,
    #[arg(long, default_value_t = cloudops_sandbox::world::DEFAULT_SEED, requires = "sandbox")]
    seed: u64,
}

#[derive(Serialize)]
struct NodePoolDoc<'a> {
    state: &'a str,
    plan: &'a NodePoolPlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a NodePoolOutcome>,
}

pub fn node_pool(ctx: &Context, args: NodePoolArgs) -> Result<ExitCode, Failure> {
    let NodePoolCommand::Scale(args) = args.command;
    let store = clusters::open_store(ctx, args.sandbox)?;
    let guard = WriteGuard {
        read_only: ctx.read_only,
    };
    guard.check(&format!(
        "scaling node pool {} of {}",
        args.pool, args.cluster
    ))?;
    on_fleet(ctx, args.sandbox, args.seed, async |fleet: &Fleet| {
        let target = resolve(fleet, &args.cluster).await?;
        let plan = nodepool::preview(&target, &args.pool, args.count).await?;
        let emit = |state: &str, outcome: Option<&NodePoolOutcome>| {
            if ctx.json {
                print_json(&NodePoolDoc {
                    state,
                    plan: &plan,
                    outcome,
                });
            }
        };
        if !ctx.json {
            println!(
                "Scale node pool {} ({}) of {}",
                plan.pool,
                plan.machine_type
                    .as_deref()
                    .unwrap_or("machine type unknown"),
                plan.cluster_id
            );
            for c in &plan.changes {
                println!("  {}: {} -> {}", c.field, c.before, c.after);
            }
            for w in &plan.warnings {
                println!("  warning: {w}");
            }
        }
        if plan.is_noop() {
            emit("noop", None);
            if !ctx.json {
                println!("Nothing to do: it already has {} nodes.", plan.to);
            }
            return Ok(ExitCode::SUCCESS);
        }
        if !args.yes {
            require_terminal()?;
            if !confirm(plan.typed_confirmation.as_deref())? {
                emit("cancelled", None);
                if !ctx.json {
                    println!("Cancelled; nothing was changed.");
                }
                return Ok(ExitCode::SUCCESS);
            }
        }
        let actor = Actor {
            os_user: os_user(),
            cloud_identity: cloud_identity(&target),
        };
        let outcome = nodepool::execute(
            &target.provider,
            &target.cluster.locator,
            &store,
            &actor,
            guard,
            &plan,
            Duration::from_secs(args.wait),
            Duration::from_secs(2),
            |p: &PoolProgress| {
                if !ctx.json {
                    let mut err = std::io::stderr().lock();
                    let _ = writeln!(err, "  {} nodes · cluster {}", p.count, p.status);
                }
            },
        )
        .await?;
        emit("completed", Some(&outcome));
        if !ctx.json {
            println!(
                "{} (audit rows {:?}).",
                if outcome.settled {
                    format!("Node pool {} has {} nodes", plan.pool, outcome.count)
                } else {
                    format!(
                        "Sent; the pool has {} of {} nodes after the wait, the cloud continues",
                        outcome.count, plan.to
                    )
                },
                outcome.audit_ids
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The cluster `id` among a fresh discovery's, connected.
pub(super) async fn connect(fleet: &Fleet, id: &str) -> Result<Connected, Failure> {
    let all = discover_targets(fleet).await?;
    Ok(act_connect(&all, id).await?)
}

#[derive(Serialize)]
struct AuditDoc {
    entries: Vec<AuditEntry>,
}

pub fn audit(ctx: &Context, args: AuditArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.sandbox)?;
    let filter = AuditFilter {
        action: args.action,
        outcome: args.outcome,
        text: args.grep,
    };
    // The same filter as the app's Actions screen and export.
    let mut entries: Vec<AuditEntry> = store
        .audit_log()?
        .into_iter()
        .filter(|e| filter.matches(&AuditRow::from(e.clone())))
        .collect();
    let skip = entries.len().saturating_sub(args.limit as usize);
    entries.drain(..skip);
    if ctx.json {
        print_json(&AuditDoc { entries });
        return Ok(ExitCode::SUCCESS);
    }
    if args.csv {
        // Oldest first, like the text listing; the app exports newest first
        // from its screen's order.
        let rows: Vec<AuditRow> = entries.into_iter().map(AuditRow::from).collect();
        print!("{}", audit_csv(&rows));
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        println!("No audit rows match.");
    }
    for e in &entries {
        println!(
            "{:>6}  {}  {:<10} {:<22} {}  by {}  {}",
            e.id,
            super::latency::format_utc(e.at_ms / 1000),
            e.outcome.as_str(),
            e.action,
            e.target,
            e.actor,
            e.detail
        );
    }
    Ok(ExitCode::SUCCESS)
}
