//! `cloudops workloads`: the workloads of the fleet from the cache, after a
//! refresh unless `--offline`.

use std::{process::ExitCode, time::Duration};

use clap::Args;
use cloudops_cloud::{collect::CollectSettings, resilience::Breakers};
use cloudops_core::store::{WorkloadQuery, MAX_WORKLOAD_PAGE};
use serde::Serialize;

use super::{
    clusters,
    refresh::{runtime, shared, Fleet},
    Context,
};
use crate::output::{print_json, Failure, EXIT_PARTIAL};

#[derive(Debug, Args)]
pub struct WorkloadsArgs {
    /// Only this cluster (its id, as `clusters --json` prints it).
    #[arg(long)]
    cluster: Option<String>,
    /// Only this namespace.
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// A substring of the name, namespace, cluster or a label (`app=web`).
    #[arg(long)]
    search: Option<String>,
    /// Read the cache only; without it, the clusters are collected first.
    #[arg(long)]
    offline: bool,
    /// Use the sandbox and its own cache (see `clusters --sandbox`).
    #[arg(long)]
    sandbox: bool,
    /// Seed of the sandbox world (with --sandbox).
    #[arg(long, default_value_t = cloudops_sandbox::world::DEFAULT_SEED, requires = "sandbox")]
    seed: u64,
    /// Rows to skip.
    #[arg(long, default_value_t = 0)]
    offset: u32,
    /// Rows to print at most.
    #[arg(long, default_value_t = MAX_WORKLOAD_PAGE)]
    limit: u32,
}

#[derive(Serialize)]
struct WorkloadDoc {
    cluster: String,
    namespace: String,
    name: String,
    kind: String,
    replicas: i32,
    ready: i32,
    /// Cores used by its pods at the last collection; null when unknown.
    cpu: Option<f64>,
    /// Bytes (working set) used by its pods; null when unknown.
    memory: Option<f64>,
}

#[derive(Serialize)]
struct WorkloadsDoc {
    workloads: Vec<WorkloadDoc>,
    /// Rows matching, over all pages.
    total: u64,
}

pub fn run(ctx: &Context, args: WorkloadsArgs) -> Result<ExitCode, Failure> {
    let mut store = clusters::open_store(ctx, args.sandbox)?;
    let mut partial = false;
    if !args.offline {
        let runtime = runtime()?;
        partial = runtime.block_on(async {
            let shared = shared()?;
            let fleet = Fleet::start(ctx, args.sandbox, args.seed, &shared).await?;
            let breakers = Breakers::new(5, Duration::from_secs(30));
            let pass = fleet
                .pass(
                    &mut store,
                    &CollectSettings::default(),
                    &breakers,
                    !ctx.json,
                )
                .await;
            fleet.stop().await;
            Ok::<_, Failure>(pass?.is_partial())
        })?;
    }
    let page = store.workloads(&WorkloadQuery {
        cluster: args.cluster,
        namespace: args.namespace,
        search: args.search,
        offset: args.offset,
        limit: args.limit,
    })?;
    let rows: Vec<WorkloadDoc> = page
        .rows
        .into_iter()
        .map(|r| WorkloadDoc {
            cluster: r.cluster,
            namespace: r.namespace,
            name: r.name,
            kind: r.kind,
            replicas: r.replicas,
            ready: r.ready,
            cpu: r.cpu,
            memory: r.memory,
        })
        .collect();
    if ctx.json {
        print_json(&WorkloadsDoc {
            workloads: rows,
            total: page.total,
        });
    } else if rows.is_empty() {
        println!("No workloads in the cache. Run `cloudops refresh --once` first.");
    } else {
        println!(
            "{:<40} {:<20} {:<32} {:>9} {:>8} {:>10}",
            "CLUSTER", "NAMESPACE", "NAME", "READY", "CPU", "MEMORY"
        );
        for r in &rows {
            println!(
                "{:<40} {:<20} {:<32} {:>9} {:>8} {:>10}",
                r.cluster,
                r.namespace,
                r.name,
                format!("{}/{}", r.ready, r.replicas),
                r.cpu.map_or("-".into(), |c| format!("{:.0}m", c * 1000.0)),
                r.memory
                    .map_or("-".into(), |m| format!("{:.0}Mi", m / 1024.0 / 1024.0)),
            );
        }
        if page.total > rows.len() as u64 {
            println!(
                "({} of {} shown; use --offset/--limit)",
                rows.len(),
                page.total
            );
        }
    }
    Ok(if partial {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}
