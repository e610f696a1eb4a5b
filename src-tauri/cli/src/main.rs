//! `cloudops`: the headless CLI (BRIEF §7). One JSON document on stdout with
//! `--json`, logs on stderr, exit codes 0 ok, 1 error, 2 usage, 3 partial.

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cloudops",
    version,
    about = "CloudOps Console, headless: the fleet cache, reports and actions from a terminal",
    propagate_version = true
)]
struct Cli {
    /// Cache directory (default: the platform data dir, e.g. ~/.local/share/cloudops).
    #[arg(long, global = true, value_name = "DIR", env = "CLOUDOPS_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,

    /// Refuse every write to a cluster or a cloud (viewers, on-call
    /// shadowing); the executors check it, not only this flag's callers.
    #[arg(long, global = true, env = "CLOUDOPS_READ_ONLY", value_parser = clap::builder::FalseyValueParser::new())]
    read_only: bool,

    /// More logs on stderr (-v info, -vv debug). CLOUDOPS_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List clusters: discover them live, or read the cache with --offline.
    Clusters(commands::clusters::ClustersArgs),
    /// Discover, then collect every cluster (usage, disk, workloads, events,
    /// RED) into the cache; --once for one pass.
    Refresh(commands::refresh::RefreshArgs),
    /// List workloads (deployments) of the fleet, with their usage.
    Workloads(commands::workloads::WorkloadsArgs),
    /// Pod logs of a pod or a deployment (across clusters with
    /// --all-clusters), merged by time; `logs patterns` reads the cached
    /// error patterns.
    Logs(commands::logs::LogsArgs),
    /// Threshold alerts from the cache; `ack ID` and `resolve ID` change one.
    Alerts(commands::alerts::AlertsArgs),
    /// Cost per cloud and cluster from the cache: month to date (actual and
    /// estimate), daily rows, API calls made and the data's age.
    Cost(commands::cost::CostArgs),
    /// Monthly budgets per cloud, cluster or tag: set, list, rm (alerts at
    /// their 50/80/100 %).
    Budget(commands::budget::BudgetArgs),
    /// Health scores (0-100) with their deductions, from the cache.
    Health(commands::report::HealthArgs),
    /// The headless fleet report: refresh once, then health per cluster and
    /// (with --out) SVG heatmaps.
    Report(commands::report::ReportArgs),
    /// Register, list, remove and test cloud accounts (secrets go to the OS keyring).
    Accounts {
        #[command(subcommand)]
        command: commands::accounts::AccountsCommand,
    },
    /// Run the anomaly detector on a `timestamp,value` CSV (NAB format), or
    /// list the anomalies found on the cached series (`list`, `show ID`).
    Anomalies(commands::anomalies::AnomaliesArgs),
    /// Latency quantiles and the heatmap matrix from a Prometheus histogram.
    Latency(commands::latency::LatencyArgs),
    /// Render a heatmap to FILE.svg or FILE.png.
    Heatmap {
        #[command(subcommand)]
        command: commands::heatmap::HeatmapCommand,
    },
    /// Scale a deployment: preview, confirmation (--yes), audit, progress.
    Scale(commands::act::ScaleArgs),
    /// Resize a node pool through the cloud's API.
    Nodepool(commands::act::NodePoolArgs),
    /// Restart a deployment's pods, or undo its last rollout.
    Rollout(commands::act::RolloutArgs),
    /// Move a deployment's replicas to another cluster: plan, run, status, resume, rollback.
    Failover(commands::failover::FailoverArgs),
    /// Create or edit a deployment's HPA ("Make autoscaled").
    Hpa(commands::hpa::HpaArgs),
    /// The audit log of every write (oldest first).
    Audit(commands::act::AuditArgs),
    /// Look after the local cache.
    Cache {
        #[command(subcommand)]
        command: commands::cache::CacheCommand,
    },
    /// Performance benchmarks (BRIEF §9); they print measurements.
    Bench {
        #[command(subcommand)]
        command: commands::bench::BenchCommand,
    },
    /// The local multi-cloud emulator (loopback only).
    Sandbox {
        #[command(subcommand)]
        command: commands::sandbox::SandboxCommand,
    },
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let ctx = commands::Context {
        data_dir: cli.data_dir,
        json: cli.json,
        read_only: cli.read_only,
    };
    let result = match cli.command {
        Command::Clusters(args) => commands::clusters::run(&ctx, args),
        Command::Alerts(args) => commands::alerts::run(&ctx, args),
        Command::Logs(args) => commands::logs::run(&ctx, args),
        Command::Cost(args) => commands::cost::run(&ctx, args),
        Command::Budget(args) => commands::budget::run(&ctx, args),
        Command::Health(args) => commands::report::health(&ctx, args),
        Command::Report(args) => commands::report::run(&ctx, args),
        Command::Refresh(args) => commands::refresh::run(&ctx, args),
        Command::Workloads(args) => commands::workloads::run(&ctx, args),
        Command::Accounts { command } => commands::accounts::run(&ctx, command),
        Command::Anomalies(args) => commands::anomalies::run(&ctx, args),
        Command::Latency(args) => commands::latency::run(&ctx, args),
        Command::Heatmap { command } => commands::heatmap::run(&ctx, command),
        Command::Scale(args) => commands::act::scale(&ctx, args),
        Command::Audit(args) => commands::act::audit(&ctx, args),
        Command::Failover(args) => commands::failover::run(&ctx, args),
        Command::Hpa(args) => commands::hpa::run(&ctx, args),
        Command::Rollout(args) => commands::act::rollout(&ctx, args),
        Command::Nodepool(args) => commands::act::node_pool(&ctx, args),
        Command::Cache { command } => commands::cache::run(&ctx, command),
        Command::Sandbox { command } => commands::sandbox::run(&ctx, command),
        Command::Bench { command } => commands::bench::run(&ctx, command),
    };
    match result {
        Ok(code) => code,
        Err(failure) => failure.report(ctx.json),
    }
}

/// Rust ignores SIGPIPE, so `println!` to a closed pipe (`cloudops health |
/// head -3`) panics with "failed printing to stdout". A command-line tool
/// should just stop, as `cat` does.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; setting
    // a signal's disposition to SIG_DFL has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLOUDOPS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Logs go to stderr so that stdout stays one parseable document.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
