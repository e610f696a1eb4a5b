//! `cloudops anomalies list|show`: the anomalies found on the cached series
//! after each `cloudops refresh` (issue 9 part 2), with their probable
//! causes. `cloudops anomalies --csv FILE` (the detector on one file) is in
//! `anomalies.rs`.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use cloudops_core::analysis::anomaly::Severity;
use cloudops_core::store::{now_ms, Anomaly, AnomalyChanges, AnomalyQuery, AnomalyState};
use serde::Serialize;

use super::{clusters, Context};
use crate::output::{age, print_json, Failure, EXIT_ERROR, EXIT_USAGE};

#[derive(Debug, Subcommand)]
pub enum AnomaliesCommand {
    /// List the anomalies in the cache, most recently seen first.
    List(ListArgs),
    /// One anomaly with its probable causes.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this cluster's anomalies.
    #[arg(long, value_name = "ID")]
    cluster: Option<String>,
    /// Which anomalies to list.
    #[arg(long, value_enum, default_value_t = StateFilter::Open)]
    state: StateFilter,
    /// At most this many, most recently seen first.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Read the sandbox's cache.
    #[arg(long)]
    sandbox: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The anomaly's id (the first column of `cloudops anomalies list`).
    id: i64,
    /// Read the sandbox's cache.
    #[arg(long)]
    sandbox: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StateFilter {
    Open,
    Closed,
    All,
}

#[derive(Serialize)]
struct ListDoc {
    anomalies: Vec<Anomaly>,
    /// Matching anomalies over all pages.
    total: u64,
}

#[derive(Serialize)]
struct ShowDoc {
    anomaly: Anomaly,
}

pub fn run(ctx: &Context, command: AnomaliesCommand) -> Result<ExitCode, Failure> {
    match command {
        AnomaliesCommand::List(args) => list(ctx, args),
        AnomaliesCommand::Show(args) => show(ctx, args),
    }
}

fn list(ctx: &Context, args: ListArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.sandbox)?;
    let page = store.anomalies(&AnomalyQuery {
        cluster: args.cluster,
        state: match args.state {
            StateFilter::Open => Some(AnomalyState::Open),
            StateFilter::Closed => Some(AnomalyState::Closed),
            StateFilter::All => None,
        },
        since: None,
        offset: 0,
        limit: Some(args.limit),
    })?;
    if ctx.json {
        print_json(&ListDoc {
            anomalies: page.anomalies,
            total: page.total,
        });
    } else if page.anomalies.is_empty() {
        println!("No anomalies in this selection.");
    } else {
        let now = now_ms() / 1000;
        println!(
            "{:>6}  {:<8}  {:<6}  {:<12}  {:<16}  {:<28}  PROBABLE CAUSE",
            "ID", "SEVERITY", "STATE", "LAST SEEN", "METRIC", "SUBJECT"
        );
        for a in &page.anomalies {
            println!(
                "{:>6}  {:<8}  {:<6}  {:<12}  {:<16}  {:<28}  {}",
                a.id,
                severity_name(a.severity),
                a.state.as_str(),
                age(a.last_seen, now),
                a.metric.as_str(),
                a.subject,
                a.causes.first().map_or("-", |c| c.detail.as_str())
            );
        }
        if page.total > page.anomalies.len() as u64 {
            println!(
                "({} of {}; use --limit for more)",
                page.anomalies.len(),
                page.total
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(ctx: &Context, args: ShowArgs) -> Result<ExitCode, Failure> {
    if args.id <= 0 {
        return Err(Failure {
            exit: EXIT_USAGE,
            kind: "invalid_anomaly_id".into(),
            message: format!("{} is not an anomaly id", args.id),
            hint: "Anomaly ids are positive numbers; list them with \
                   `cloudops anomalies list --state all`."
                .into(),
        });
    }
    let store = clusters::open_store(ctx, args.sandbox)?;
    let Some(anomaly) = store.anomaly(args.id)? else {
        return Err(Failure {
            exit: EXIT_ERROR,
            kind: "unknown_anomaly".into(),
            message: format!("no anomaly {} in the cache", args.id),
            hint: "List them with `cloudops anomalies list --state all` and use an id from it."
                .into(),
        });
    };
    if ctx.json {
        print_json(&ShowDoc { anomaly });
        return Ok(ExitCode::SUCCESS);
    }
    let a = &anomaly;
    println!(
        "anomaly {} ({}, {}): {} of {} in {}",
        a.id,
        severity_name(a.severity),
        a.state.as_str(),
        a.metric.as_str(),
        a.subject,
        a.cluster_id
    );
    println!(
        "  value {:.3} (normally {}), peak score {:.1}",
        a.value,
        a.baseline.map_or("unknown".into(), |b| format!("{b:.3}")),
        a.peak_score
    );
    println!(
        "  from {} to {}",
        a.started_at,
        a.ended_at.unwrap_or(a.last_seen)
    );
    if a.causes.is_empty() {
        println!("  no correlated signal");
    }
    for c in &a.causes {
        println!("  probable cause: {} (at {})", c.detail, c.at);
    }
    Ok(ExitCode::SUCCESS)
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// What `cloudops refresh` prints after evaluating a pass (text mode; the
/// JSON document carries the changes in its `anomalies` field).
pub(crate) fn print_changes(changes: &AnomalyChanges) {
    for a in &changes.opened {
        println!(
            "anomaly {} opened ({}): {} of {}{}",
            a.id,
            severity_name(a.severity),
            a.metric.as_str(),
            a.subject,
            a.causes
                .first()
                .map(|c| format!("; probable cause: {}", c.detail))
                .unwrap_or_default()
        );
    }
    for a in &changes.closed {
        println!(
            "anomaly {} closed: {} of {}",
            a.id,
            a.metric.as_str(),
            a.subject
        );
    }
}
