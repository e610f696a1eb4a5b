use std::{io::Write, net::SocketAddr, process::ExitCode};

use clap::Args;
use cloudops_cloud::{
    ambient::Shared,
    discovery::{Limits, Progress},
    resilience::CallPolicy,
    sources,
};
use cloudops_core::{model::SourceError, ClusterSummary, Provider};
use cloudops_sandbox::{Sandbox, World};
use serde::Serialize;

use super::Context;
use crate::output::{age, print_json, Failure, EXIT_PARTIAL};

#[derive(Debug, Args)]
pub struct ClustersArgs {
    /// Only clusters of this provider.
    #[arg(long, value_parser = parse_provider)]
    provider: Option<Provider>,
    /// Read the cache instead of asking the clouds.
    #[arg(long)]
    offline: bool,
    /// Use the sandbox: discover from an in-process simulated fleet on
    /// loopback instead of the environment's cloud accounts (with --offline:
    /// read the sandbox's cache). The sandbox has its own cache, in the
    /// `sandbox/` folder of the data dir, so it never mixes with real data.
    #[arg(long)]
    sandbox: bool,
    /// Seed of the sandbox world (with --sandbox).
    #[arg(long, default_value_t = cloudops_sandbox::world::DEFAULT_SEED, requires = "sandbox")]
    seed: u64,
}

fn parse_provider(s: &str) -> Result<Provider, String> {
    s.parse()
        .map_err(|e: cloudops_core::model::UnknownProvider| e.to_string())
}

/// The `clusters` JSON document of the CLI contract.
#[derive(Serialize)]
struct ClustersDoc {
    clusters: Vec<ClusterSummary>,
    /// Sources (provider × account × scope) that failed during a live
    /// discovery; empty offline.
    errors: Vec<SourceError>,
}

pub fn run(ctx: &Context, args: ClustersArgs) -> Result<ExitCode, Failure> {
    if !args.offline {
        return discover(ctx, args);
    }
    let store = open_store(ctx, args.sandbox)?;
    let clusters = store.clusters(args.provider)?;
    if ctx.json {
        print_json(&ClustersDoc {
            clusters,
            errors: Vec::new(),
        });
    } else if clusters.is_empty() {
        println!(
            "No clusters in the cache at {}.\n\
             Add a cloud account (`cloudops accounts add ...`) and refresh, or start the sandbox \
             (`cloudops sandbox serve`).",
            store.path().display()
        );
    } else {
        print_table(&clusters);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(clusters: &[ClusterSummary]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let rows: Vec<[String; 7]> = clusters
        .iter()
        .map(|c| {
            [
                c.provider.badge().to_owned(),
                c.name.clone(),
                c.region.clone(),
                c.version.clone().unwrap_or_else(|| "-".into()),
                c.status.clone(),
                c.node_count().to_string(),
                age(c.collected_at, now),
            ]
        })
        .collect();
    let header = [
        "PROVIDER", "NAME", "REGION", "VERSION", "STATUS", "NODES", "DATA AGE",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!("{}", line(&header));
    for row in &rows {
        println!("{}", line(&row.each_ref().map(String::as_str)));
    }
}

pub(crate) fn open_store(ctx: &Context, sandbox: bool) -> Result<cloudops_core::Store, Failure> {
    if !sandbox {
        return ctx.open_store();
    }
    let dir = cloudops_core::store::resolve_data_dir(ctx.data_dir.as_deref())?;
    Ok(cloudops_core::Store::open_in(&dir.join("sandbox"))?)
}

/// Live discovery: every configured source concurrently, the outcome written
/// to the cache, then printed. Exit 3 when some source failed (the rest is
/// still printed and cached).
fn discover(ctx: &Context, args: ClustersArgs) -> Result<ExitCode, Failure> {
    // Open the cache first: a bad cache is reported before any network call.
    let mut store = open_store(ctx, args.sandbox)?;
    // The sandbox never reads the user's accounts: a demo must not touch a
    // real cloud.
    let accounts = if args.sandbox {
        Vec::new()
    } else {
        let dir = cloudops_core::store::resolve_data_dir(ctx.data_dir.as_deref())?;
        sources::load_accounts(&dir, cloudops_cloud::secrets::Secrets::open_os)?
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let report = runtime.block_on(async {
        let shared = Shared::new(CallPolicy::default()).map_err(|e| Failure {
            exit: crate::output::EXIT_ERROR,
            kind: e.kind().into(),
            message: e.to_string(),
            hint: e.hint(),
        })?;
        // With --sandbox the environment is the sandbox's own, never the
        // process's: a demo must not touch a real cloud.
        let (sandbox, vars) = if args.sandbox {
            let addr = SocketAddr::from(([127, 0, 0, 1], 0));
            let sandbox = Sandbox::start(addr, World::generate(args.seed))
                .map_err(|e| anyhow::anyhow!("cannot start the sandbox: {e}"))?;
            let vars = sandbox.env_map();
            (Some(sandbox), Some(vars))
        } else {
            (None, None)
        };
        let lookup = |k: &str| match &vars {
            Some(v) => v.get(k).cloned(),
            None => std::env::var(k).ok(),
        };
        let show_progress = !ctx.json;
        let sources = sources::gather(&lookup, accounts, &shared).await;
        let report = sources::discover(sources, &Limits::default(), |p| {
            if show_progress {
                print_progress(&p);
            }
        })
        .await
        .map_err(|_| {
            Failure::usage(
                "no_accounts",
                "no cloud account is configured",
                "add one with `cloudops accounts add ...`, export the provider variables \
                 (e.g. DIGITALOCEAN_ACCESS_TOKEN), try `cloudops clusters --sandbox`, \
                 or read the cache with --offline",
            )
        })?;
        if let Some(s) = sandbox {
            let _ = s.shutdown().await;
        }
        Ok::<_, Failure>(report)
    })?;
    store.apply_discovery(&report.to_run())?;
    let collected_at = report.finished_ms / 1000;
    let clusters: Vec<ClusterSummary> = report
        .clusters
        .iter()
        .filter(|c| args.provider.is_none_or(|p| p == c.provider))
        .map(|c| c.to_summary(collected_at))
        .collect();
    let errors = report.errors.clone();
    if ctx.json {
        print_json(&ClustersDoc {
            clusters,
            errors: errors.clone(),
        });
    } else {
        if clusters.is_empty() {
            println!("No clusters found.");
        } else {
            print_table(&clusters);
        }
        let mut err = std::io::stderr().lock();
        for e in &errors {
            let _ = writeln!(err, "error: {}\nhint: {}", e.message, e.hint);
        }
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PARTIAL)
    })
}

pub(crate) fn print_progress(p: &Progress) {
    let mut err = std::io::stderr().lock();
    let _ = match p {
        Progress::Planned {
            provider,
            account,
            scopes,
        } => writeln!(err, "{} {account}: {scopes} scope(s)", provider.badge()),
        Progress::ScopeDone {
            provider,
            account,
            scope,
            clusters,
            millis,
        } => writeln!(
            err,
            "{} {account} {scope}: {clusters} cluster(s) in {millis} ms",
            provider.badge()
        ),
        Progress::ScopeFailed {
            provider,
            account,
            scope,
            kind,
            ..
        } => writeln!(
            err,
            "{} {account} {scope}: failed ({kind})",
            provider.badge()
        ),
    };
}
