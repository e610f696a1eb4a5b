//! `cloudops hpa autoscale|set` (issue 6): create or edit a deployment's
//! HPA, with the diff first and the usual confirmation (`--yes`, or a
//! terminal; a non-interactive run without `--yes` refuses).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use cloudops_cloud::act::{hpa, Actor, WriteGuard};
use cloudops_core::{
    plan::hpa::{HpaEdit, HpaPlan},
    store::os_user,
};
use serde::Serialize;

use super::{
    act::{confirm, connect, on_fleet, require_terminal, DeploymentTarget},
    clusters,
    refresh::Fleet,
    Context,
};
use crate::output::{print_json, Failure};

#[derive(Debug, Args)]
pub struct HpaArgs {
    #[command(subcommand)]
    command: HpaCommand,
}

#[derive(Debug, Subcommand)]
enum HpaCommand {
    /// "Make autoscaled": CPU 70 %, memory 80 %, 2..10 replicas, up 100 %/30 s,
    /// down 50 %/60 s after a 300 s window (an existing HPA keeps its values).
    Autoscale(HpaTarget),
    /// Change the bounds or targets (an HPA is created with the defaults
    /// first if there is none).
    Set(HpaSetArgs),
}

#[derive(Debug, Args)]
struct HpaTarget {
    #[command(flatten)]
    target: DeploymentTarget,
    /// Confirm without a prompt.
    #[arg(long)]
    yes: bool,
    #[arg(long)]
    sandbox: bool,
    #[arg(long, default_value_t = cloudops_sandbox::world::DEFAULT_SEED, requires = "sandbox")]
    seed: u64,
}

#[derive(Debug, Args)]
struct HpaSetArgs {
    #[command(flatten)]
    target: HpaTarget,
    #[arg(long)]
    min: Option<i32>,
    #[arg(long)]
    max: Option<i32>,
    /// Target CPU utilization, % of requests.
    #[arg(long)]
    cpu: Option<i32>,
    /// Target memory utilization, % of requests.
    #[arg(long)]
    memory: Option<i32>,
}

#[derive(Serialize)]
struct HpaDoc<'a> {
    state: &'a str,
    plan: &'a HpaPlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_ids: Option<&'a [i64]>,
}

fn print_plan(p: &HpaPlan) {
    let t = &p.target;
    println!(
        "{} HPA {} of deployment {}/{} in {} ({} replicas now)",
        if p.action == "create" {
            "Create"
        } else {
            "Edit"
        },
        p.name,
        t.namespace,
        t.deployment,
        t.cluster_id,
        p.replicas
    );
    for c in &p.changes {
        println!("  {}: {} -> {}", c.field, c.before, c.after);
    }
    for w in &p.warnings {
        println!("  warning: {w}");
    }
}

pub fn run(ctx: &Context, args: HpaArgs) -> Result<ExitCode, Failure> {
    let (t, edit) = match args.command {
        HpaCommand::Autoscale(t) => (t, HpaEdit::default()),
        HpaCommand::Set(a) => (
            a.target,
            HpaEdit {
                min: a.min,
                max: a.max,
                cpu_percent: a.cpu,
                memory_percent: a.memory,
            },
        ),
    };
    let store = clusters::open_store(ctx, t.sandbox)?;
    let guard = WriteGuard {
        read_only: ctx.read_only,
    };
    guard.check(&format!("changing the HPA of {}", t.target))?;
    on_fleet(ctx, t.sandbox, t.seed, async |fleet: &Fleet| {
        let conn = connect(fleet, &t.target.cluster).await?;
        let target = t.target.workload();
        let preview = hpa::preview(&conn.client, target, edit).await?;
        let plan = &preview.plan;
        let emit = |state: &str, ids: Option<&[i64]>| {
            if ctx.json {
                print_json(&HpaDoc {
                    state,
                    plan,
                    audit_ids: ids,
                });
            }
        };
        if !ctx.json {
            print_plan(plan);
        }
        if plan.is_noop() {
            emit("noop", None);
            if !ctx.json {
                println!("Nothing to do: the HPA already has these settings.");
            }
            return Ok(ExitCode::SUCCESS);
        }
        if !t.yes {
            require_terminal()?;
            if !confirm(None)? {
                emit("cancelled", None);
                if !ctx.json {
                    println!("Cancelled; nothing was changed.");
                }
                return Ok(ExitCode::SUCCESS);
            }
        }
        let actor = Actor {
            os_user: os_user(),
            cloud_identity: conn.identity.clone(),
        };
        let ids = hpa::execute(&conn.client, &store, &actor, guard, &preview).await?;
        emit("completed", Some(&ids));
        if !ctx.json {
            println!("HPA {} written (audit rows {ids:?}).", plan.name);
        }
        Ok(ExitCode::SUCCESS)
    })
}
