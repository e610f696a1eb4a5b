//! `cloudops cost`: the cached cost per cloud and cluster (issue 7). It
//! reads the cache only (`cloudops refresh` fills it, at most every 6 h per
//! account): month to date with actual and estimate side by side, the daily
//! rows since `--since`, the API calls the refreshes made and the data's
//! age. Figures of different currencies are never added up.

use std::{collections::BTreeMap, process::ExitCode};

use clap::{Args, Subcommand};
use cloudops_core::{
    cost::{is_day, CostDay, CostOverview, CostSource},
    views::{self, cost::CostForecastView, cost::SuggestionView, CostViewRequest},
    Store,
};
use jiff::Timestamp;
use serde::Serialize;

use super::{clusters, Context};
use crate::output::{print_json, Failure, EXIT_ERROR};

#[derive(Debug, Args)]
pub struct CostArgs {
    /// Only this cluster (its id, as `cloudops clusters --offline` lists it).
    #[arg(long, value_name = "ID")]
    cluster: Option<String>,
    /// First day of the daily rows, YYYY-MM-DD (default: the first of the month).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// The month-end forecast with its interval, per currency (of the
    /// cluster with --cluster, else of the fleet).
    #[arg(long)]
    forecast: bool,
    /// Read the sandbox's cache (what `cloudops refresh --sandbox` wrote).
    #[arg(long, global = true)]
    sandbox: bool,
    #[command(subcommand)]
    command: Option<CostCommand>,
}

#[derive(Debug, Subcommand)]
enum CostCommand {
    /// Savings and HA suggestions the cache supports, each with the exact
    /// commands to run, and the inputs that are missing.
    Suggestions,
}

#[derive(Debug, Serialize)]
struct ForecastStatus {
    forecasts: Vec<CostForecastView>,
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct SuggestionsDoc {
    suggestions: Vec<SuggestionView>,
    /// Inputs the suggestions could not use.
    missing_inputs: Vec<String>,
}

#[derive(Debug, Serialize)]
struct CostDoc {
    #[serde(flatten)]
    overview: CostOverview,
    /// Cluster id → name, for display.
    cluster_names: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forecast: Option<ForecastStatus>,
}

/// What the cache holds for `[since, tomorrow)` and the month of today.
pub fn overview(
    store: &Store,
    now: Timestamp,
    since: Option<&str>,
    cluster: Option<&str>,
) -> Result<CostOverview, Failure> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let month = format!("{:04}-{:02}", today.year(), today.month());
    let since = match since {
        Some(s) if is_day(s) && s.parse::<jiff::civil::Date>().is_ok() => s.to_owned(),
        Some(s) => {
            return Err(Failure::usage(
                "bad_date",
                format!("--since {s:?} is not a date"),
                "write it as YYYY-MM-DD, e.g. --since 2025-06-01",
            ))
        }
        None => format!("{month}-01"),
    };
    let until = today.tomorrow().unwrap_or(today).to_string();
    let month_to_date = store.cost_month_to_date(&month, cluster)?;
    let daily = store.cost_days(&since, &until, cluster)?;
    let fetches = store.cost_fetches()?;
    let data_age_secs = store
        .oldest_cost_fetch()?
        .map(|at| (now.as_second() - at).max(0));
    Ok(CostOverview {
        month,
        since,
        until,
        month_to_date,
        daily,
        fetches,
        data_age_secs,
    })
}

fn age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

fn label(names: &BTreeMap<String, String>, cluster: &Option<String>) -> String {
    match cluster {
        Some(id) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
        None => "(unallocated)".into(),
    }
}

fn print_text(doc: &CostDoc) {
    let o = &doc.overview;
    let names = &doc.cluster_names;
    match o.data_age_secs {
        Some(s) => println!("Cost, month to date ({}); data {} old", o.month, age(s)),
        None => {
            println!("No cost in the cache yet: run `cloudops refresh` (or `refresh --sandbox`).");
            return;
        }
    }
    println!(
        "{:<8} {:<16} {:<32} {:>12} {:>12} CUR",
        "CLOUD", "ACCOUNT", "CLUSTER", "ACTUAL", "ESTIMATE"
    );
    let money = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
    for m in &o.month_to_date {
        println!(
            "{:<8} {:<16} {:<32} {:>12} {:>12} {}",
            m.provider.badge(),
            m.account,
            label(names, &m.cluster_id),
            money(m.actual),
            money(m.estimate),
            m.currency
        );
    }
    println!(
        "\nDaily since {} (a = actual, e = estimate, * = still open):",
        o.since
    );
    let mut by_day: BTreeMap<&str, Vec<&CostDay>> = BTreeMap::new();
    for d in &o.daily {
        by_day.entry(d.day.as_str()).or_default().push(d);
    }
    for (day, rows) in by_day {
        let parts: Vec<String> = rows
            .iter()
            .map(|d| {
                format!(
                    "{} {:.2} {}{}{}",
                    label(names, &d.cluster_id),
                    d.amount,
                    d.currency,
                    match d.source {
                        CostSource::Actual => " a",
                        CostSource::Estimate => " e",
                    },
                    if d.is_final { "" } else { "*" }
                )
            })
            .collect();
        println!("  {day}: {}", parts.join("; "));
    }
    println!("\nRefreshes:");
    for f in &o.fetches {
        let reported = f
            .reported_month_to_date
            .as_ref()
            .map(|m| {
                format!(
                    ", the provider reports {:.2} {} this month",
                    m.amount, m.currency
                )
            })
            .unwrap_or_default();
        println!(
            "  {} {}: {} API call(s), next after {}{}",
            f.provider.badge(),
            f.account,
            f.api_calls,
            Timestamp::from_second(f.next_refresh_at)
                .map(|t| t.to_string())
                .unwrap_or_default(),
            reported
        );
        for n in &f.notes {
            println!("    note: {n}");
        }
        if let Some(e) = &f.error {
            println!("    error: {e}");
        }
    }
    if let Some(f) = &doc.forecast {
        println!("\nMonth-end forecast:");
        for v in &f.forecasts {
            let interval = match (v.low, v.high) {
                (Some(l), Some(h)) => {
                    format!(", {:.0} % interval {l:.2} to {h:.2}", v.level * 100.0)
                }
                _ => String::new(),
            };
            println!(
                "  {:.2} {}{interval} (spent {:.2} through {}, {})",
                v.total, v.currency, v.spent_to_date, v.through, v.method
            );
        }
        for n in &f.notes {
            println!("  note: {n}");
        }
    }
}

fn run_suggestions(ctx: &Context, store: &Store) -> Result<ExitCode, Failure> {
    let view = views::cost_view(
        store,
        Timestamp::now().as_second(),
        &CostViewRequest::default(),
    )
    .map_err(|e| Failure {
        exit: EXIT_ERROR,
        kind: e.kind().into(),
        message: e.to_string(),
        hint: e.hint(),
    })?;
    let doc = SuggestionsDoc {
        suggestions: view.suggestions,
        missing_inputs: view.suggestion_notes,
    };
    if ctx.json {
        print_json(&doc);
        return Ok(ExitCode::SUCCESS);
    }
    if doc.suggestions.is_empty() {
        println!("No suggestions from the cached data.");
    }
    for s in &doc.suggestions {
        let money = match &s.currency {
            Some(c) if s.monthly_savings < 0.0 => {
                format!(" (costs {:.2} {c} a month)", -s.monthly_savings)
            }
            Some(c) => format!(" (saves {:.2} {c} a month)", s.monthly_savings),
            None => String::new(),
        };
        println!("{} in {}: {}{money}", s.target, s.cluster_id, s.summary);
        for c in &s.commands {
            println!("    $ {c}");
        }
        for c in &s.caveats {
            println!("    note: {c}");
        }
    }
    for n in &doc.missing_inputs {
        println!("missing: {n}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(ctx: &Context, args: CostArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.sandbox)?;
    if let Some(CostCommand::Suggestions) = args.command {
        return run_suggestions(ctx, &store);
    }
    if let Some(c) = args.cluster.as_deref() {
        if store.cluster(c)?.is_none() {
            return Err(Failure::usage(
                "unknown_cluster",
                format!("no cluster {c:?} in the cache"),
                "list the ids with `cloudops clusters --offline`",
            ));
        }
    }
    let forecast = if args.forecast {
        let (forecasts, notes) = views::cost_forecasts(
            &store,
            Timestamp::now().as_second(),
            args.cluster.as_deref(),
        )
        .map_err(|e| Failure {
            exit: EXIT_ERROR,
            kind: e.kind().into(),
            message: e.to_string(),
            hint: e.hint(),
        })?;
        Some(ForecastStatus { forecasts, notes })
    } else {
        None
    };
    let overview = overview(
        &store,
        Timestamp::now(),
        args.since.as_deref(),
        args.cluster.as_deref(),
    )?;
    let cluster_names = store
        .clusters(None)?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let doc = CostDoc {
        overview,
        cluster_names,
        forecast,
    };
    if ctx.json {
        print_json(&doc);
    } else {
        print_text(&doc);
    }
    Ok(ExitCode::SUCCESS)
}
