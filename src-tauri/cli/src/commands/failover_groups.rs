//! `cloudops failover group list|add|remove`: the failover groups, as
//! detected in the cache (the same namespace/deployment in two or more
//! clusters) plus the members the user adds by hand (e.g. a deployment
//! named differently in another cluster).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use cloudops_core::plan::{
    failover::{detect_groups, parse_group_key, FailoverGroup},
    scale::WorkloadRef,
};
use serde::Serialize;

use super::{clusters, Context};
use crate::output::{print_json, Failure};

#[derive(Debug, Subcommand)]
pub(super) enum GroupCommand {
    /// Every group: detected in the cache, plus the user's members.
    List(GroupListArgs),
    /// Add a cluster's deployment to a group.
    Add(GroupAddArgs),
    /// Remove a member the user added.
    Remove(GroupRemoveArgs),
}

#[derive(Debug, Args)]
pub(super) struct GroupListArgs {
    #[arg(long)]
    sandbox: bool,
}

#[derive(Debug, Args)]
pub(super) struct GroupAddArgs {
    /// The group: NAMESPACE/DEPLOYMENT.
    #[arg(long, value_name = "NS/DEPLOY")]
    group: String,
    #[arg(long, value_name = "ID")]
    cluster: String,
    /// The member's namespace, when it differs from the group's.
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// The member's deployment, when its name differs from the group's.
    #[arg(long)]
    deployment: Option<String>,
    #[arg(long)]
    sandbox: bool,
}

#[derive(Debug, Args)]
pub(super) struct GroupRemoveArgs {
    #[arg(long, value_name = "NS/DEPLOY")]
    group: String,
    #[arg(long, value_name = "ID")]
    cluster: String,
    #[arg(long)]
    sandbox: bool,
}

fn bad_group(group: &str) -> Failure {
    Failure::usage(
        "invalid_argument",
        format!("--group {group:?} is not NAMESPACE/DEPLOYMENT"),
        "e.g. --group shop/checkout",
    )
}

#[derive(Serialize)]
struct GroupsDoc {
    groups: Vec<FailoverGroup>,
}

pub(super) fn run(ctx: &Context, command: GroupCommand) -> Result<ExitCode, Failure> {
    match command {
        GroupCommand::List(a) => {
            let store = clusters::open_store(ctx, a.sandbox)?;
            let groups = detect_groups(
                &store.cached_deployments(None)?,
                &store.failover_group_members()?,
            );
            if ctx.json {
                print_json(&GroupsDoc { groups });
            } else if groups.is_empty() {
                println!(
                    "No group: no deployment runs in two cached clusters (run `cloudops refresh`)."
                );
            } else {
                for g in &groups {
                    println!("{}", g.key);
                    for m in &g.members {
                        let w = &m.workload;
                        println!(
                            "  {}  {}/{}  ({})",
                            w.cluster_id, w.namespace, w.deployment, m.origin
                        );
                    }
                }
            }
        }
        GroupCommand::Add(a) => {
            let (ns, name) = parse_group_key(&a.group).ok_or_else(|| bad_group(&a.group))?;
            let store = clusters::open_store(ctx, a.sandbox)?;
            let member = WorkloadRef {
                cluster_id: a.cluster.clone(),
                namespace: a.namespace.clone().unwrap_or_else(|| ns.to_owned()),
                deployment: a.deployment.clone().unwrap_or_else(|| name.to_owned()),
            };
            store.add_failover_group_member(&a.group, &member)?;
            if ctx.json {
                print_json(&member);
            } else {
                println!("Added {member} to {}.", a.group);
            }
        }
        GroupCommand::Remove(a) => {
            parse_group_key(&a.group).ok_or_else(|| bad_group(&a.group))?;
            let store = clusters::open_store(ctx, a.sandbox)?;
            if !store.remove_failover_group_member(&a.group, &a.cluster)? {
                return Err(Failure::usage(
                    "not_found",
                    format!("{} is not a member the user added to {}", a.cluster, a.group),
                    "`cloudops failover group list` shows the members; detected ones cannot be removed",
                ));
            }
            if !ctx.json {
                println!("Removed {} from {}.", a.cluster, a.group);
            } else {
                print_json(&serde_json::json!({ "removed": a.cluster }));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
