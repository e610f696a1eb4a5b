//! `cloudops bench workloads`: how long the Workloads list's queries take
//! on a large cache (issue 5: 30k rows), on a throwaway cache file.

use std::{collections::BTreeMap, process::ExitCode, time::Instant};

use clap::Args;
use cloudops_core::store::{ClusterState, WorkloadQuery, WorkloadState};
use cloudops_core::Store;
use serde::Serialize;

use super::Context;
use crate::output::{print_json, Failure};

#[derive(Debug, Args)]
pub struct WorkloadsBenchArgs {
    /// Workloads in the cache, spread over the clusters.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    workloads: u32,
    /// Clusters they are spread over.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    clusters: u32,
    /// Runs of each query.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    runs: u32,
}

#[derive(Debug, Serialize)]
struct QueryStats {
    rows: usize,
    total: u64,
    median_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
struct Doc {
    workloads: u32,
    clusters: u32,
    write_ms: f64,
    queries: BTreeMap<&'static str, QueryStats>,
}

pub fn run(ctx: &Context, args: WorkloadsBenchArgs) -> Result<ExitCode, Failure> {
    let dir = tempfile::tempdir().map_err(|e| anyhow::anyhow!("no temp dir: {e}"))?;
    let mut store = Store::open_in(dir.path())?;
    let per = args.workloads.div_ceil(args.clusters);
    let started = Instant::now();
    let mut written = 0;
    for c in 0..args.clusters {
        let n = per.min(args.workloads - written);
        written += n;
        let workloads = (0..n)
            .map(|i| WorkloadState {
                namespace: format!("team-{}", i % 40),
                kind: "Deployment".into(),
                name: if i == n / 2 {
                    "checkout".into()
                } else {
                    format!("svc-{i:06}")
                },
                replicas: 3,
                ready: 3,
                updated: 3,
                available: 3,
                labels: BTreeMap::from([("app".into(), format!("app-{}", i % 300))]),
                images: vec![format!("registry.example/svc:{i}")],
                cpu_cores: Some(0.1),
                memory_bytes: Some(1e8),
                ..Default::default()
            })
            .collect();
        let state = ClusterState {
            workloads: Some(workloads),
            ..Default::default()
        };
        store.apply_cluster_state(&format!("aws/bench/eu-west-1/c{c:04}"), &state, 1)?;
    }
    let write_ms = started.elapsed().as_secs_f64() * 1e3;
    let queries: [(&'static str, WorkloadQuery); 5] = [
        ("first_page", WorkloadQuery::default()),
        (
            "deep_page",
            WorkloadQuery {
                offset: args.workloads.saturating_sub(200),
                ..Default::default()
            },
        ),
        (
            "cluster_and_namespace",
            WorkloadQuery {
                cluster: Some("aws/bench/eu-west-1/c0001".into()),
                namespace: Some("team-7".into()),
                ..Default::default()
            },
        ),
        (
            "namespace_everywhere",
            WorkloadQuery {
                namespace: Some("team-7".into()),
                ..Default::default()
            },
        ),
        (
            "search",
            WorkloadQuery {
                search: Some("checkout".into()),
                ..Default::default()
            },
        ),
    ];
    let mut out = BTreeMap::new();
    for (name, q) in queries {
        let mut times = Vec::with_capacity(args.runs as usize);
        let mut last = None;
        for _ in 0..args.runs {
            let t = Instant::now();
            let page = store.workloads(&q)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            last = Some(page);
        }
        times.sort_by(f64::total_cmp);
        let page = last.unwrap_or_default();
        out.insert(
            name,
            QueryStats {
                rows: page.rows.len(),
                total: page.total,
                median_ms: times[times.len() / 2],
                max_ms: times[times.len() - 1],
            },
        );
    }
    let doc = Doc {
        workloads: args.workloads,
        clusters: args.clusters,
        write_ms,
        queries: out,
    };
    if ctx.json {
        print_json(&doc);
    } else {
        println!(
            "{} workloads over {} clusters written in {:.0} ms",
            doc.workloads, doc.clusters, doc.write_ms
        );
        for (name, s) in &doc.queries {
            println!(
                "{name:<22} {:>5} rows of {:>6}: median {:>7.2} ms, max {:>7.2} ms",
                s.rows, s.total, s.median_ms, s.max_ms
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
