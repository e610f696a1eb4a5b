//! `cloudops refresh`: discovery, then a collection pass over every
//! discovered cluster (nodes, usage, disk, workloads, events, RED), written
//! to the cache. `--once` runs one pass; without it, a pass every interval
//! until Ctrl+C. Exit 3 when some cluster (or source) failed: the rest is
//! still written and printed.

use std::{io::Write, net::SocketAddr, process::ExitCode, sync::Arc, time::Duration};

use clap::Args;
use cloudops_cloud::{
    accounts::Resolved,
    ambient::Shared,
    collect::{
        fleet::{collect_fleet, targets},
        ClusterCollection, CollectSettings, Problem,
    },
    cost::refresh::{refresh_costs, AccountCost, CostOutcome, CostPolicy},
    discovery::Limits,
    providers::Provider,
    resilience::{Breakers, CallPolicy},
    sources::{self, Sources},
};
use cloudops_core::analysis::alerts::AlertRules;
use cloudops_core::analysis::anomaly_eval::AnomalyPass;
use cloudops_core::analysis::budget_alerts::evaluate_budgets;
use cloudops_core::analysis::pass::{after_pass, PassPolicies};
use cloudops_core::store::{AlertChanges, AlertPolicy};
use cloudops_core::{model::SourceError, Store};
use cloudops_sandbox::{RunningSandbox, Sandbox, World};
use serde::Serialize;

use super::{clusters, Context};
use crate::output::{print_json, Failure, EXIT_ERROR, EXIT_PARTIAL};

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// One pass, then exit. Without it, a pass every interval until Ctrl+C.
    #[arg(long)]
    once: bool,
    /// Use the sandbox (its own cache, in the `sandbox/` folder of the data
    /// dir), never the environment's cloud accounts.
    #[arg(long)]
    sandbox: bool,
    /// Seed of the sandbox world (with --sandbox).
    #[arg(long, default_value_t = cloudops_sandbox::world::DEFAULT_SEED, requires = "sandbox")]
    seed: u64,
    /// Seconds between passes (without --once); default: `interval_secs` of
    /// `collect.toml` in the data dir, else 60.
    #[arg(long, value_parser = clap::value_parser!(u64).range(5..=86_400))]
    interval: Option<u64>,
}

/// What one cluster's pass collected, for the CLI's JSON.
#[derive(Debug, Serialize)]
pub struct ClusterReport {
    pub cluster: String,
    pub samples: usize,
    pub nodes: Option<usize>,
    pub workloads: Option<usize>,
    pub events: Option<usize>,
    pub prometheus: Option<String>,
    pub notes: Vec<String>,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Serialize)]
pub struct PassReport {
    pub collected_at: i64,
    pub clusters: Vec<ClusterReport>,
    /// Discovery sources that failed.
    pub errors: Vec<SourceError>,
    /// What the threshold rules changed after this pass (`None` when the
    /// evaluation failed; the error is on stderr and the pass still stands).
    pub alerts: Option<AlertChanges>,
    /// What the anomaly detector changed after this pass (`None` when the
    /// evaluation failed, as for `alerts`).
    pub anomalies: Option<AnomalyPass>,
    /// The cost refresh of each account (most are `not_due`: cost is
    /// fetched at most every 6 h); `None` when the cache refused the write.
    pub costs: Option<Vec<AccountCost>>,
    /// What the budgets changed in the alerts, checked after the cost
    /// refresh (`None` when the check failed; the error is on stderr).
    pub budget_alerts: Option<AlertChanges>,
}

impl PassReport {
    pub fn is_partial(&self) -> bool {
        !self.errors.is_empty()
            || self.clusters.iter().any(|c| !c.problems.is_empty())
            || self
                .costs
                .iter()
                .flatten()
                .any(|c| matches!(c.outcome, CostOutcome::Failed { .. }))
    }
}

fn report_of(c: &ClusterCollection) -> ClusterReport {
    ClusterReport {
        cluster: c.cluster_id.clone(),
        samples: c.batch.samples.len(),
        nodes: c.state.nodes.as_ref().map(Vec::len),
        workloads: c.state.workloads.as_ref().map(Vec::len),
        events: c.state.events.as_ref().map(Vec::len),
        prometheus: c.prometheus.clone(),
        notes: c.notes.clone(),
        problems: c.problems().cloned().collect(),
    }
}

fn anyhow_failure(message: String) -> Failure {
    Failure {
        exit: EXIT_ERROR,
        kind: "internal".into(),
        message,
        hint: String::new(),
    }
}

/// Where passes get their providers: the sandbox's (kept running for the
/// whole loop) or the environment's and the accounts'.
pub(crate) struct Fleet {
    pub providers: Vec<Arc<dyn Provider>>,
    pub source_errors: Vec<SourceError>,
    sandbox: Option<RunningSandbox>,
    /// `alert-rules.json` of the data dir, or the seed thresholds.
    alert_rules: AlertRules,
}

impl Fleet {
    pub async fn start(
        ctx: &Context,
        sandbox: bool,
        seed: u64,
        shared: &Shared,
    ) -> Result<Fleet, Failure> {
        // A bad rules file is a usage error, reported before any network
        // call. The sandbox uses the same file: thresholds are settings,
        // not accounts.
        let dir = cloudops_core::store::resolve_data_dir(ctx.data_dir.as_deref())?;
        let alert_rules = AlertRules::load(&dir)
            .map_err(|e| Failure::usage(e.kind(), e.to_string(), e.hint()))?;
        // The sandbox never reads the user's accounts: a demo must not
        // touch a real cloud.
        let accounts: Vec<Resolved> = if sandbox {
            Vec::new()
        } else {
            let dir = cloudops_core::store::resolve_data_dir(ctx.data_dir.as_deref())?;
            sources::load_accounts(&dir, cloudops_cloud::secrets::Secrets::open_os)?
        };
        let (running, vars) = if sandbox {
            let addr = SocketAddr::from(([127, 0, 0, 1], 0));
            let s = Sandbox::start(addr, World::generate(seed))
                .map_err(|e| anyhow_failure(format!("cannot start the sandbox: {e}")))?;
            let vars = s.env_map();
            (Some(s), Some(vars))
        } else {
            (None, None)
        };
        let lookup = |k: &str| match &vars {
            Some(v) => v.get(k).cloned(),
            None => std::env::var(k).ok(),
        };
        let gathered = sources::gather(&lookup, accounts, shared).await;
        if gathered.is_empty() {
            return Err(Failure::usage(
                "no_accounts",
                "no cloud account is configured",
                "add one with `cloudops accounts add ...`, export the provider variables, \
                 try `--sandbox`, or read the cache with --offline",
            ));
        }
        Ok(Fleet {
            alert_rules,
            providers: gathered.providers,
            source_errors: gathered.errors,
            sandbox: running,
        })
    }

    /// One discovery + collection pass, written to the cache.
    pub async fn pass(
        &self,
        store: &mut Store,
        settings: &CollectSettings,
        breakers: &Breakers,
        progress: bool,
    ) -> Result<PassReport, Failure> {
        let sources = Sources {
            providers: self.providers.clone(),
            errors: self.source_errors.clone(),
        };
        let report = sources::discover(sources, &Limits::default(), |p| {
            if progress {
                clusters::print_progress(&p);
            }
        })
        .await
        .map_err(|_| Failure::usage("no_accounts", "no cloud account is configured", ""))?;
        store.apply_discovery(&report.to_run())?;
        let targets = targets(&self.providers, &report.clusters);
        let now = cloudops_core::store::now_ms() / 1000;
        let collections = collect_fleet(&targets, settings, breakers, now, |c| {
            if progress {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(
                    err,
                    "{}: {} sample(s){}",
                    c.cluster_id,
                    c.batch.samples.len(),
                    if c.is_complete() {
                        ""
                    } else {
                        ", with problems"
                    }
                );
            }
        })
        .await;
        cloudops_cloud::collect::persist::write_pass(
            store,
            &collections,
            now,
            &cloudops_core::store::retention::Retention::default(),
        )?;
        // Only clusters that produced data this pass are evaluated: an
        // unreachable one keeps its alerts as they were rather than having
        // them resolved by an empty view.
        let evaluated: Vec<String> = collections
            .iter()
            .filter(|c| !c.batch.samples.is_empty())
            .map(|c| c.cluster_id.clone())
            .collect();
        let done = after_pass(
            store,
            &self.alert_rules,
            &evaluated,
            now,
            &PassPolicies::default(),
        );
        let alerts = match done.alerts {
            Ok(changes) => Some(changes),
            Err(e) => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(
                    err,
                    "error: evaluating the alert rules failed: {e}\nhint: {}",
                    e.hint()
                );
                None
            }
        };
        let anomalies = match done.anomalies {
            Ok(pass) => Some(pass),
            Err(e) => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(
                    err,
                    "error: evaluating the anomalies failed: {e}\nhint: {}",
                    e.hint()
                );
                None
            }
        };
        // Cost after the metrics: it is due only every few hours, and a slow
        // billing API must not delay what the dashboards need first.
        let costs = match refresh_costs(
            store,
            &self.providers,
            &CostPolicy::default(),
            jiff::Timestamp::now(),
        )
        .await
        {
            Ok(costs) => Some(costs),
            Err(e) => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(
                    err,
                    "error: writing the cost to the cache failed: {e}\nhint: {}",
                    e.hint()
                );
                None
            }
        };
        // Budgets after the cost, every refresh (cheap, from the cache): a
        // new month or an edited budget resolves its alerts even when no
        // billing call was due.
        let budget_alerts = match evaluate_budgets(store, now, &AlertPolicy::default()) {
            Ok(pass) => Some(pass.changes),
            Err(e) => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(
                    err,
                    "error: checking the budgets failed: {e}\nhint: {}",
                    e.hint()
                );
                None
            }
        };
        Ok(PassReport {
            collected_at: now,
            costs,
            budget_alerts,
            clusters: collections.iter().map(report_of).collect(),
            errors: report.errors,
            alerts,
            anomalies,
        })
    }

    pub async fn stop(self) {
        if let Some(s) = self.sandbox {
            let _ = s.shutdown().await;
        }
    }
}

/// `collect.toml` from the data dir; the sandbox always uses the defaults
/// (a demo must not reach for a real Prometheus the file names).
pub(crate) fn collect_settings(ctx: &Context, sandbox: bool) -> Result<CollectSettings, Failure> {
    if sandbox {
        return Ok(CollectSettings::default());
    }
    let dir = cloudops_core::store::resolve_data_dir(ctx.data_dir.as_deref())?;
    cloudops_cloud::collect::config::load(&dir).map_err(|e| Failure {
        exit: EXIT_ERROR,
        kind: e.kind().into(),
        message: e.to_string(),
        hint: e.hint(),
    })
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow_failure(format!("cannot start the async runtime: {e}")))
}

pub(crate) fn shared() -> Result<Shared, Failure> {
    Shared::new(CallPolicy::default()).map_err(|e| Failure {
        exit: EXIT_ERROR,
        kind: e.kind().into(),
        message: e.to_string(),
        hint: e.hint(),
    })
}

fn print_pass(pass: &PassReport) {
    for c in &pass.clusters {
        let n = |v: Option<usize>| v.map_or("-".to_string(), |n| n.to_string());
        println!(
            "{}: {} samples, {} nodes, {} workloads, {} events, RED: {}",
            c.cluster,
            c.samples,
            n(c.nodes),
            n(c.workloads),
            n(c.events),
            c.prometheus.as_deref().unwrap_or("none")
        );
        for note in &c.notes {
            println!("  note: {note}");
        }
        for p in &c.problems {
            println!(
                "  problem ({}): {}\n  hint: {}",
                p.collector, p.message, p.hint
            );
        }
    }
    if let Some(changes) = &pass.alerts {
        super::alerts::print_changes(changes);
    }
    if let Some(pass) = &pass.anomalies {
        super::anomalies_list::print_changes(&pass.changes);
    }
    if let Some(changes) = &pass.budget_alerts {
        super::alerts::print_changes(changes);
    }
    for c in pass.costs.iter().flatten() {
        let who = format!("cost {} {}", c.provider.badge(), c.account);
        match &c.outcome {
            CostOutcome::Fetched {
                first_day,
                end_day,
                api_calls,
                lines,
                notes,
                ..
            } => {
                println!(
                    "{who}: {lines} line(s) for {first_day}..{end_day}, {api_calls} API call(s)"
                );
                for n in notes {
                    println!("  note: {n}");
                }
            }
            CostOutcome::Failed { message, hint, .. } => {
                println!("{who}: failed: {message}\n  hint: {hint}")
            }
            CostOutcome::NotDue { .. } | CostOutcome::NoCostSource { .. } => {}
        }
    }
    let mut err = std::io::stderr().lock();
    for e in &pass.errors {
        let _ = writeln!(err, "error: {}\nhint: {}", e.message, e.hint);
    }
}

pub fn run(ctx: &Context, args: RefreshArgs) -> Result<ExitCode, Failure> {
    // A bad cache is reported before any network call.
    let mut store = clusters::open_store(ctx, args.sandbox)?;
    let mut settings = collect_settings(ctx, args.sandbox)?;
    if let Some(secs) = args.interval {
        settings.interval = Duration::from_secs(secs);
    }
    let runtime = runtime()?;
    runtime.block_on(async {
        let shared = shared()?;
        let fleet = Fleet::start(ctx, args.sandbox, args.seed, &shared).await?;
        let breakers = Breakers::new(5, Duration::from_secs(30));
        let partial = loop {
            let pass = fleet
                .pass(&mut store, &settings, &breakers, !ctx.json)
                .await?;
            let partial = pass.is_partial();
            if ctx.json {
                print_json(&pass);
            } else {
                print_pass(&pass);
            }
            if args.once {
                break partial;
            }
            tokio::select! {
                _ = tokio::time::sleep(settings.interval) => {}
                _ = tokio::signal::ctrl_c() => break partial,
            }
        };
        fleet.stop().await;
        Ok(if partial {
            ExitCode::from(EXIT_PARTIAL)
        } else {
            ExitCode::SUCCESS
        })
    })
}
