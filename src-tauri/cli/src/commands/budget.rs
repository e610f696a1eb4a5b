//! `cloudops budget set|list|rm` (issue 7): monthly budgets per cloud,
//! cluster, tag or the whole fleet, kept in the cache. A budget is local
//! config (read-only mode does not block it) but each change is audited
//! with the OS user, and the budget alerts are checked again at once, so
//! an edit raises or resolves them without waiting for a cost refresh.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use cloudops_core::analysis::budget_alerts::evaluate_budgets;
use cloudops_core::analysis::cost_budget::{Budget, BudgetScope};
use cloudops_core::store::{os_user, AlertPolicy};
use cloudops_core::views::cost::{budget_view, current_budget_checks, BudgetView};
use cloudops_core::Store;
use jiff::Timestamp;
use serde::Serialize;

use super::{clusters, Context};
use crate::output::{print_json, Failure, EXIT_ERROR};

#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// Use the sandbox's cache (what `cloudops refresh --sandbox` wrote).
    #[arg(long, global = true)]
    sandbox: bool,
    #[command(subcommand)]
    command: BudgetCommand,
}

#[derive(Debug, Subcommand)]
enum BudgetCommand {
    /// Create a budget, or replace the one with that name.
    Set(SetArgs),
    /// Every budget with this month's spend, forecast and status.
    List,
    /// Delete a budget (its alerts resolve).
    Rm {
        /// The budget's name.
        name: String,
    },
}

#[derive(Debug, Args)]
struct SetArgs {
    /// A name of your choice (unique).
    name: String,
    /// Per calendar month, in --currency.
    #[arg(long)]
    amount: f64,
    /// ISO 4217 code of the billing account, e.g. USD (never converted).
    #[arg(long, default_value = "USD")]
    currency: String,
    /// What it covers: `fleet`, `cloud:aws`, `cluster:ID` or `tag:KEY=VALUE`.
    #[arg(long, default_value = "fleet")]
    scope: String,
    /// Three rising alert thresholds in percent, e.g. 50,80,100.
    #[arg(long, value_delimiter = ',', default_values_t = [50.0, 80.0, 100.0])]
    thresholds: Vec<f64>,
}

fn bad(message: String) -> Failure {
    Failure::usage(
        "invalid_budget",
        message,
        "scopes: fleet, cloud:aws|gcp|azure|do, cluster:ID (`cloudops clusters --offline`), \
         tag:KEY=VALUE; amount above 0; currency a three-letter code",
    )
}

/// `fleet`, `cloud:aws`, `cluster:ID`, `tag:KEY=VALUE`.
pub fn parse_scope(s: &str) -> Result<BudgetScope, String> {
    let s = s.trim();
    if s == "fleet" {
        return Ok(BudgetScope::Fleet);
    }
    let Some((kind, rest)) = s.split_once(':') else {
        return Err(format!(
            "scope {s:?} is not fleet, cloud:…, cluster:… or tag:…"
        ));
    };
    match kind {
        "cloud" => {
            let cloud = rest.to_ascii_lowercase();
            if !["aws", "gcp", "azure", "do"].contains(&cloud.as_str()) {
                return Err(format!("cloud {rest:?} is not aws, gcp, azure or do"));
            }
            Ok(BudgetScope::Cloud { cloud })
        }
        "cluster" => Ok(BudgetScope::Cluster {
            cluster_id: rest.to_owned(),
        }),
        "tag" => match rest.split_once('=') {
            Some((k, v)) => Ok(BudgetScope::Tag {
                key: k.to_owned(),
                value: v.to_owned(),
            }),
            None => Err(format!("tag scope {rest:?} is not KEY=VALUE")),
        },
        _ => Err(format!("scope kind {kind:?} is not cloud, cluster or tag")),
    }
}

#[derive(Debug, Serialize)]
struct BudgetListDoc {
    month: String,
    budgets: Vec<BudgetLine>,
}

#[derive(Debug, Serialize)]
struct BudgetLine {
    budget: Budget,
    #[serde(flatten)]
    view: BudgetView,
}

fn recheck(ctx: &Context, store: &mut Store) {
    match evaluate_budgets(store, Timestamp::now().as_second(), &AlertPolicy::default()) {
        Ok(pass) if !ctx.json => super::alerts::print_changes(&pass.changes),
        Ok(_) => {}
        // The change is saved; the alerts catch up at the next refresh.
        Err(e) => eprintln!(
            "warning: checking the budgets failed: {e}\nhint: {}",
            e.hint()
        ),
    }
}

fn set(ctx: &Context, store: &mut Store, a: SetArgs) -> Result<ExitCode, Failure> {
    let scope = parse_scope(&a.scope).map_err(bad)?;
    if let BudgetScope::Cluster { cluster_id } = &scope {
        if store.cluster(cluster_id)?.is_none() {
            return Err(Failure::usage(
                "unknown_cluster",
                format!("no cluster {cluster_id:?} in the cache"),
                "list the ids with `cloudops clusters --offline`",
            ));
        }
    }
    let mut b = Budget::new(a.name.trim(), scope, a.amount, a.currency.trim());
    let [t0, t1, t2] = a.thresholds[..] else {
        return Err(bad("give exactly three thresholds".into()));
    };
    b.thresholds_pct = [t0, t1, t2];
    b.id = store.budget_by_name(&b.name)?.and_then(|old| old.id);
    b.validate()
        .map_err(|e| bad(format!("{e} — {}", e.hint())))?;
    let id = store.put_budget_audited(&b, &os_user(), Timestamp::now().as_second())?;
    if ctx.json {
        print_json(&serde_json::json!({ "id": id, "budget": Budget { id: Some(id), ..b } }));
    } else {
        println!("budget {} saved (id {id})", b.name);
    }
    recheck(ctx, store);
    Ok(ExitCode::SUCCESS)
}

fn list(ctx: &Context, store: &Store) -> Result<ExitCode, Failure> {
    let (month, checks) =
        current_budget_checks(store, Timestamp::now().as_second()).map_err(|e| Failure {
            exit: EXIT_ERROR,
            kind: e.kind().into(),
            message: e.to_string(),
            hint: e.hint(),
        })?;
    let doc = BudgetListDoc {
        month,
        budgets: checks
            .iter()
            .map(|c| BudgetLine {
                budget: c.budget.clone(),
                view: budget_view(c),
            })
            .collect(),
    };
    if ctx.json {
        print_json(&doc);
        return Ok(ExitCode::SUCCESS);
    }
    if doc.budgets.is_empty() {
        println!("No budgets: add one with `cloudops budget set NAME --amount N --scope …`.");
    }
    for l in &doc.budgets {
        let v = &l.view;
        let pct = |p: Option<f64>| p.map(|p| format!(" ({p:.0} %)")).unwrap_or_default();
        let money = |m: Option<f64>| m.map(|m| format!("{m:.2}")).unwrap_or_else(|| "—".into());
        println!(
            "{} [{}] {:.2} {} for {}: spent {}{}, forecast {}{}",
            v.name,
            v.status,
            v.amount,
            v.currency,
            v.scope,
            money(v.spent),
            pct(v.spent_pct),
            money(v.forecast),
            pct(v.forecast_pct),
        );
        for m in &v.messages {
            println!("    {m}");
        }
        if let Some(e) = &v.error {
            println!("    not checked: {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rm(ctx: &Context, store: &mut Store, name: &str) -> Result<ExitCode, Failure> {
    match store.delete_budget_audited(name, &os_user())? {
        Some(_) => {
            if ctx.json {
                print_json(&serde_json::json!({ "deleted": name }));
            } else {
                println!("budget {name} deleted");
            }
            recheck(ctx, store);
            Ok(ExitCode::SUCCESS)
        }
        None => Err(Failure::usage(
            "unknown_budget",
            format!("no budget named {name:?}"),
            "list them with `cloudops budget list`",
        )),
    }
}

pub fn run(ctx: &Context, args: BudgetArgs) -> Result<ExitCode, Failure> {
    let mut store = clusters::open_store(ctx, args.sandbox)?;
    match args.command {
        BudgetCommand::Set(a) => set(ctx, &mut store, a),
        BudgetCommand::List => list(ctx, &store),
        BudgetCommand::Rm { name } => rm(ctx, &mut store, &name),
    }
}
