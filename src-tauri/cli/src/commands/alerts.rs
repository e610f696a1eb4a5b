//! `cloudops alerts`: threshold alerts from the cache (issue 9 part 4).
//!
//! - `cloudops alerts [--state open|acknowledged|resolved|all] [--cluster ID]`
//!   lists them (default: the active ones, open and acknowledged);
//! - `cloudops alerts ack ID` and `cloudops alerts resolve ID` change one,
//!   with an audit row naming the OS user.
//!
//! Unknown ids and already-resolved alerts exit 1 with a kind and a hint.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use cloudops_core::store::{
    now_ms, os_user, Alert, AlertChanges, AlertError, AlertQuery, AlertState,
};
use serde::Serialize;

use super::{clusters, Context};
use crate::output::{age, print_json, Failure, EXIT_ERROR, EXIT_USAGE};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AlertsArgs {
    #[command(subcommand)]
    command: Option<AlertsCommand>,
    /// Which alerts to list; `active` is open and acknowledged.
    #[arg(long, value_enum, default_value_t = StateFilter::Active)]
    state: StateFilter,
    /// Only this cluster's alerts (its id, as `cloudops clusters --offline` prints it).
    #[arg(long, value_name = "ID")]
    cluster: Option<String>,
    /// At most this many alerts, most recently seen first.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Read the sandbox's cache.
    #[arg(long)]
    sandbox: bool,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Acknowledge an open alert: it stops escalating, and still resolves
    /// when its condition clears.
    Ack(ChangeArgs),
    /// Resolve an open or acknowledged alert.
    Resolve(ChangeArgs),
}

#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// The alert's id (the first column of `cloudops alerts`).
    id: i64,
    /// The sandbox's cache.
    #[arg(long)]
    sandbox: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StateFilter {
    Active,
    Open,
    Acknowledged,
    Resolved,
    All,
}

#[derive(Serialize)]
struct AlertsDoc {
    alerts: Vec<Alert>,
}

#[derive(Serialize)]
struct ChangedDoc {
    alert: Alert,
}

impl From<AlertError> for Failure {
    fn from(e: AlertError) -> Failure {
        // Unknown ids and finished alerts are errors (1), like an unknown
        // fault id in `sandbox chaos clear`: the request was well formed.
        Failure {
            exit: EXIT_ERROR,
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

pub fn run(ctx: &Context, args: AlertsArgs) -> Result<ExitCode, Failure> {
    match args.command {
        Some(AlertsCommand::Ack(c)) => change(ctx, c, true),
        Some(AlertsCommand::Resolve(c)) => change(ctx, c, false),
        None => list(ctx, args),
    }
}

fn list(ctx: &Context, args: AlertsArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.sandbox)?;
    let query = |state| AlertQuery {
        state,
        cluster: args.cluster.clone(),
        limit: Some(args.limit),
    };
    let mut alerts = match args.state {
        StateFilter::All => store.alerts(&query(None))?,
        StateFilter::Open => store.alerts(&query(Some(AlertState::Open)))?,
        StateFilter::Acknowledged => store.alerts(&query(Some(AlertState::Acknowledged)))?,
        StateFilter::Resolved => store.alerts(&query(Some(AlertState::Resolved)))?,
        StateFilter::Active => {
            let mut a = store.alerts(&query(Some(AlertState::Open)))?;
            a.extend(store.alerts(&query(Some(AlertState::Acknowledged)))?);
            a
        }
    };
    // Worst first, then most recently seen.
    alerts.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.last_seen.cmp(&a.last_seen))
            .then(b.id.cmp(&a.id))
    });
    alerts.truncate(args.limit as usize);
    if ctx.json {
        print_json(&AlertsDoc { alerts });
    } else if alerts.is_empty() {
        println!("No alerts in this selection.");
    } else {
        print_table(&alerts);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(alerts: &[Alert]) {
    let now = now_ms() / 1000;
    println!(
        "{:>6}  {:<8}  {:<12}  {:>5}  {:<12}  MESSAGE",
        "ID", "SEVERITY", "STATE", "COUNT", "LAST SEEN"
    );
    for a in alerts {
        println!(
            "{:>6}  {:<8}  {:<12}  {:>5}  {:<12}  {}",
            a.id,
            severity_name(a),
            a.state.as_str(),
            a.count,
            age(a.last_seen, now),
            a.message
        );
    }
}

fn severity_name(a: &Alert) -> &'static str {
    match a.severity {
        cloudops_core::analysis::anomaly::Severity::Medium => "medium",
        cloudops_core::analysis::anomaly::Severity::High => "high",
        cloudops_core::analysis::anomaly::Severity::Critical => "critical",
    }
}

fn change(ctx: &Context, args: ChangeArgs, acknowledge: bool) -> Result<ExitCode, Failure> {
    if args.id <= 0 {
        return Err(Failure {
            exit: EXIT_USAGE,
            kind: "invalid_alert_id".into(),
            message: format!("{} is not an alert id", args.id),
            hint: "Alert ids are positive numbers; list them with `cloudops alerts --state all`."
                .into(),
        });
    }
    let mut store = clusters::open_store(ctx, args.sandbox)?;
    let who = os_user();
    let now = now_ms() / 1000;
    let alert = if acknowledge {
        store.acknowledge(args.id, &who, now)?
    } else {
        store.resolve(args.id, &who, now)?
    };
    if ctx.json {
        print_json(&ChangedDoc { alert });
    } else {
        println!(
            "alert {} {} by {who}: {}",
            alert.id,
            alert.state.as_str(),
            alert.message
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What `cloudops refresh` prints after evaluating a pass (text mode; the
/// JSON document carries the changes in its `alerts` field).
pub(crate) fn print_changes(changes: &AlertChanges) {
    for a in &changes.opened {
        println!(
            "alert {} opened ({}): {}",
            a.id,
            severity_name(a),
            a.message
        );
    }
    for a in changes.raised.iter().chain(&changes.escalated) {
        println!(
            "alert {} still unacknowledged ({}): {}",
            a.id,
            severity_name(a),
            a.message
        );
    }
    for a in &changes.resolved {
        println!("alert {} resolved: {}", a.id, a.message);
    }
}
