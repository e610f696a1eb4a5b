//! `cloudops bench ...`: the performance benchmarks of BRIEF §9. Benchmarks
//! print measurements; they never pass or fail on a number (tests don't time
//! things, benchmarks don't assert).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use cloudops_sandbox::{Cloud, Sandbox, World, DO_ACCESS_TOKEN};
use serde::Serialize;

use super::Context;
use crate::output::{print_json, Failure};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Requests per second the sandbox serves on loopback (issue 3: >= 2,000/s).
    Sandbox(SandboxBenchArgs),
    /// Discovery wall time over a large sandbox fleet with per-call latency,
    /// against a scope-by-scope baseline in the same run (BRIEF §9 P3).
    Discovery(DiscoveryBenchArgs),
    /// Window F1 on the NAB fixtures, the seed z-score against ours (BRIEF §9 A1).
    Anomalies(super::anomalies::BenchAnomaliesArgs),
    /// The anomaly evaluation after a pass, on one cluster with days of
    /// cached history (median ms per pass and per series).
    AnomalyPass(super::bench_anomaly_pass::AnomalyPassBenchArgs),
    /// Sample ingest through the SampleWriter against a bare rusqlite loop
    /// on the same schema (BRIEF §9 P4: >= 50%).
    Ingest(super::bench_store::IngestBenchArgs),
    /// Kill an ingesting child with SIGKILL again and again; every
    /// acknowledged batch must survive and the cache stay intact.
    Crash(super::bench_store::CrashBenchArgs),
    /// Latency-heatmap reads: `histogram_steps` for every service over days
    /// of rolled-up history (the read half of BRIEF §9 P5).
    HistogramRead(super::bench_store::HistogramReadBenchArgs),
    /// The child `bench crash` kills: ingests numbered batches forever.
    #[command(hide = true)]
    CrashChild(super::bench_store::CrashChildArgs),
    /// Latency heatmaps, 7 days x 20 services: quantiles + SVG render time
    /// and SVG size (BRIEF §9 P5).
    Heatmap(super::bench_heatmap::HeatmapBenchArgs),
    /// The Workloads list's queries on a large cache (issue 5: 30k rows).
    Workloads(super::bench_workloads::WorkloadsBenchArgs),
    /// The cost forecast's backtest on sandbox cost history: MAPE and
    /// interval coverage (BRIEF §9 A4: >= 80%).
    CostForecast(super::bench_cost::CostForecastBenchArgs),
    /// Log lines at a fixed rate through the bounded pipeline: delivered,
    /// dropped, and peak RSS (issue 8: 50k lines/s for 10 s).
    Logs(super::bench_logs::LogsBenchArgs),
}

#[derive(Debug, Args)]
pub struct DiscoveryBenchArgs {
    /// Clusters in the sandbox world, spread over the four clouds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(4..=5000))]
    clusters: u32,
    /// Regions per cloud.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=12))]
    regions_per_cloud: u32,
    /// Latency the sandbox adds to every provider call.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    latency_ms: u64,
}

#[derive(Debug, Serialize)]
struct DiscoveryRunStats {
    wall_ms: f64,
    /// Wall time in units of the per-call latency.
    round_trips: f64,
    requests: u64,
    /// The same requests by provider API (`aws`, `gcp`, `azure`, `do`).
    requests_by_cloud: BTreeMap<&'static str, u64>,
    /// CPU time this process (client and in-process sandbox) used during the
    /// run; near or above `wall_ms` means the run was CPU-bound, not waiting
    /// on latency (a debug build, or a busy machine). Linux only.
    cpu_ms: Option<f64>,
    clusters_found: usize,
    errors: usize,
}

#[derive(Debug, Serialize)]
struct DiscoveryBench {
    clusters: u32,
    clouds: u32,
    regions_per_cloud: u32,
    latency_ms: u64,
    /// The engine: every account × scope at once, bounded per provider.
    concurrent: DiscoveryRunStats,
    /// The same providers, one scope after another.
    sequential: DiscoveryRunStats,
    /// Per provider, its slowest scope in the concurrent run, in
    /// round-trips: the depth of that provider's dependent calls plus
    /// queueing, i.e. what bounds the whole run.
    slowest_scope_round_trips: BTreeMap<String, f64>,
    speedup: f64,
    /// BRIEF §9 P3: discovery within 4 round-trips of wall time.
    goal_round_trips: f64,
    goal_met: bool,
}

#[derive(Debug, Args)]
pub struct SandboxBenchArgs {
    /// Total requests to send (after a short warm-up).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    requests: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,
}

#[derive(Debug, Serialize)]
struct SandboxBench {
    /// What one request is: a DOKS cluster GET (auth, lookup, JSON encode).
    request: &'static str,
    requests: u32,
    ok: u32,
    failed: u32,
    concurrency: u32,
    seconds: f64,
    requests_per_second: f64,
    latency_ms_p50: f64,
    latency_ms_p99: f64,
    /// The client runs in the same process and competes for the same cores,
    /// so this is a lower bound on what the server alone can do.
    note: &'static str,
}

pub fn run(ctx: &Context, command: BenchCommand) -> Result<ExitCode, Failure> {
    match command {
        BenchCommand::Sandbox(args) => sandbox(ctx, args),
        BenchCommand::Discovery(args) => discovery(ctx, args),
        BenchCommand::Anomalies(args) => super::anomalies::bench(ctx, args),
        BenchCommand::AnomalyPass(args) => super::bench_anomaly_pass::run(ctx, args),
        BenchCommand::Ingest(args) => super::bench_store::ingest(ctx, args),
        BenchCommand::Crash(args) => super::bench_store::crash(ctx, args),
        BenchCommand::HistogramRead(args) => super::bench_store::histogram_read(ctx, args),
        BenchCommand::CrashChild(args) => super::bench_store::crash_child(ctx, args),
        BenchCommand::Heatmap(args) => super::bench_heatmap::bench(ctx, args),
        BenchCommand::Workloads(args) => super::bench_workloads::run(ctx, args),
        BenchCommand::Logs(args) => super::bench_logs::run(ctx, args),
        BenchCommand::CostForecast(args) => super::bench_cost::run(ctx, args),
    }
}

fn discovery(ctx: &Context, args: DiscoveryBenchArgs) -> Result<ExitCode, Failure> {
    use cloudops_cloud::{
        ambient::{self, Shared},
        discovery::{discover_all, Limits, Progress},
        resilience::CallPolicy,
    };
    use cloudops_sandbox::{ChaosTarget, Fault};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(async move {
        let toml = format!(
            "seed = 42\n[generate]\nclusters = {}\nregions_per_cloud = {}\n",
            args.clusters, args.regions_per_cloud
        );
        let world = World::from_toml_str(&toml).map_err(|e| anyhow::anyhow!("{e}"))?;
        let running = Sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0)), world)
            .map_err(|e| anyhow::anyhow!("starting the sandbox: {e}"))?;
        if args.latency_ms > 0 {
            running
                .chaos()
                .add(Fault::Latency {
                    cloud: ChaosTarget::All,
                    millis: args.latency_ms,
                })
                .map_err(|e| anyhow::anyhow!("adding latency: {e}"))?;
        }
        let vars = running.env_map();
        let shared = Shared::new(CallPolicy::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let ambient = ambient::from_env(&|k: &str| vars.get(k).cloned(), &shared).await;
        if !ambient.errors.is_empty() {
            anyhow::bail!("the sandbox accounts did not build: {:?}", ambient.errors);
        }
        let requests = || running.chaos().requests(ChaosTarget::All);
        let latency = args.latency_ms.max(1) as f64;

        let by_cloud = || {
            [
                ("aws", ChaosTarget::Aws),
                ("gcp", ChaosTarget::Gcp),
                ("azure", ChaosTarget::Azure),
                ("do", ChaosTarget::Do),
            ]
            .map(|(name, target)| (name, running.chaos().requests(target)))
        };
        let since = |before: [(&'static str, u64); 4]| -> BTreeMap<&'static str, u64> {
            by_cloud()
                .into_iter()
                .zip(before)
                .map(|((name, now), (_, then))| (name, now - then))
                .collect()
        };

        let before = requests();
        let (before_by_cloud, cpu_before) = (by_cloud(), process_cpu_ms());
        let slowest: std::sync::Mutex<BTreeMap<String, f64>> = Default::default();
        let t = Instant::now();
        let report = discover_all(&ambient.providers, &Limits::default(), |p| {
            if let Progress::ScopeDone {
                provider, millis, ..
            } = p
            {
                let rt = millis as f64 / latency;
                let mut slowest = slowest.lock().unwrap_or_else(|e| e.into_inner());
                let e = slowest.entry(provider.to_string()).or_insert(0.0);
                *e = e.max(rt);
            }
        })
        .await;
        let wall = t.elapsed().as_secs_f64() * 1000.0;
        let concurrent = DiscoveryRunStats {
            wall_ms: wall,
            round_trips: wall / latency,
            requests: requests() - before,
            requests_by_cloud: since(before_by_cloud),
            cpu_ms: cpu_used(cpu_before),
            clusters_found: report.clusters.len(),
            errors: report.errors.len(),
        };
        let slowest_scope_round_trips = slowest.into_inner().unwrap_or_else(|e| e.into_inner());

        let before = requests();
        let (before_by_cloud, cpu_before) = (by_cloud(), process_cpu_ms());
        let t = Instant::now();
        let (mut found, mut errors) = (0, 0);
        for p in &ambient.providers {
            match p.scopes().await {
                Ok(scopes) => {
                    for scope in scopes {
                        match p.discover(&scope).await {
                            Ok(c) => found += c.len(),
                            Err(_) => errors += 1,
                        }
                    }
                }
                Err(_) => errors += 1,
            }
        }
        let wall = t.elapsed().as_secs_f64() * 1000.0;
        let sequential = DiscoveryRunStats {
            wall_ms: wall,
            round_trips: wall / latency,
            requests: requests() - before,
            requests_by_cloud: since(before_by_cloud),
            cpu_ms: cpu_used(cpu_before),
            clusters_found: found,
            errors,
        };
        let _ = running.shutdown().await;
        Ok::<_, anyhow::Error>(DiscoveryBench {
            clusters: args.clusters,
            clouds: 4,
            regions_per_cloud: args.regions_per_cloud,
            latency_ms: args.latency_ms,
            speedup: sequential.wall_ms / concurrent.wall_ms.max(0.001),
            goal_round_trips: 4.0,
            goal_met: concurrent.round_trips <= 4.0,
            concurrent,
            sequential,
            slowest_scope_round_trips,
        })
    })?;
    if ctx.json {
        print_json(&result);
    } else {
        println!(
            "discovery of {} clusters (4 clouds x {} regions, +{} ms per call):",
            result.clusters, result.regions_per_cloud, result.latency_ms
        );
        for (name, r) in [
            ("concurrent", &result.concurrent),
            ("sequential", &result.sequential),
        ] {
            println!(
                "  {name:<10} {:>9.1} ms  {:>6.1} round-trips  {:>5} requests  {} clusters  {} errors",
                r.wall_ms, r.round_trips, r.requests, r.clusters_found, r.errors
            );
            let clouds: Vec<String> = r
                .requests_by_cloud
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            let cpu = r
                .cpu_ms
                .map(|c| {
                    format!(
                        "; cpu {c:.0} ms ({:.0}% of wall)",
                        100.0 * c / r.wall_ms.max(0.001)
                    )
                })
                .unwrap_or_default();
            println!("  {:<10} requests by cloud: {}{cpu}", "", clouds.join(", "));
        }
        let slowest: Vec<String> = result
            .slowest_scope_round_trips
            .iter()
            .map(|(p, rt)| format!("{p} {rt:.1}"))
            .collect();
        println!(
            "  slowest scope per provider (round-trips): {}",
            slowest.join(", ")
        );
        println!(
            "  speedup {:.1}x; goal <= {} round-trips: {}",
            result.speedup,
            result.goal_round_trips,
            if result.goal_met { "met" } else { "NOT met" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn sandbox(ctx: &Context, args: SandboxBenchArgs) -> Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(async move {
        let world = World::default();
        let cluster_id = world
            .read()
            .clusters_of(Cloud::DigitalOcean)
            .next()
            .map(|c| c.id.clone())
            .ok_or_else(|| anyhow::anyhow!("the default world has no DOKS cluster"))?;
        let running = Sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0)), world)
            .map_err(|e| anyhow::anyhow!("starting the sandbox: {e}"))?;
        let url = Arc::new(format!(
            "{}/do/v2/kubernetes/clusters/{cluster_id}",
            running.base_url()
        ));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| anyhow::anyhow!("building the HTTP client: {e}"))?;

        // Warm-up: connections, allocator, first-touch of the world.
        drive(&client, &url, 200, args.concurrency).await;
        let started = Instant::now();
        let mut latencies = drive(&client, &url, args.requests, args.concurrency).await;
        let seconds = started.elapsed().as_secs_f64();
        let _ = running.shutdown().await;

        let ok = latencies.iter().filter(|l| l.is_some()).count() as u32;
        let mut ok_ms: Vec<f64> = latencies.drain(..).flatten().collect();
        ok_ms.sort_by(f64::total_cmp);
        Ok::<_, anyhow::Error>(SandboxBench {
            request: "GET /do/v2/kubernetes/clusters/{id}",
            requests: args.requests,
            ok,
            failed: args.requests - ok,
            concurrency: args.concurrency,
            seconds,
            requests_per_second: f64::from(ok) / seconds.max(f64::EPSILON),
            latency_ms_p50: percentile(&ok_ms, 0.50),
            latency_ms_p99: percentile(&ok_ms, 0.99),
            note: "client and server share the machine's cores; the server alone is faster",
        })
    })?;
    if ctx.json {
        print_json(&result);
    } else {
        println!(
            "sandbox: {:.0} requests/s ({} ok, {} failed, {} in flight, {:.2} s); latency p50 {:.2} ms, p99 {:.2} ms",
            result.requests_per_second,
            result.ok,
            result.failed,
            result.concurrency,
            result.seconds,
            result.latency_ms_p50,
            result.latency_ms_p99
        );
        println!("({})", result.note);
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends `total` GETs with `concurrency` workers; one entry per request, the
/// latency in ms for a 200 and `None` for anything else.
async fn drive(
    client: &reqwest::Client,
    url: &Arc<String>,
    total: u32,
    concurrency: u32,
) -> Vec<Option<f64>> {
    let workers = concurrency.min(total);
    let mut tasks = Vec::new();
    for w in 0..workers {
        // Spread the remainder so the counts add up to `total` exactly.
        let share = total / workers + u32::from(w < total % workers);
        let client = client.clone();
        let url = Arc::clone(url);
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(share as usize);
            for _ in 0..share {
                let t = Instant::now();
                let ok = match client
                    .get(url.as_str())
                    .bearer_auth(DO_ACCESS_TOKEN)
                    .send()
                    .await
                {
                    Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
                    Err(_) => false,
                };
                out.push(ok.then(|| t.elapsed().as_secs_f64() * 1000.0));
            }
            out
        }));
    }
    let mut all = Vec::with_capacity(total as usize);
    for task in tasks {
        // A panicked worker's share is padded below as failed, not dropped.
        if let Ok(results) = task.await {
            all.extend(results);
        }
    }
    all.resize(total as usize, None);
    all
}

/// CPU time (user + system) this process has used so far, in ms, from
/// `/proc/self/stat`; `None` where that is not available.
fn process_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu_ms(&stat)
}

/// `utime` and `stime` (fields 14 and 15) of a `/proc/<pid>/stat` line. The
/// command name (field 2) may hold spaces and parentheses, so fields are
/// counted from the last `)`. Ticks are USER_HZ, which Linux fixes at 100 in
/// its userspace ABI.
fn parse_cpu_ms(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 * 10.0)
}

fn cpu_used(before: Option<f64>) -> Option<f64> {
    Some(process_cpu_ms()? - before?)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::{parse_cpu_ms, percentile};

    #[test]
    fn cpu_time_is_read_past_a_command_name_with_spaces() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
        // majflt cmajflt utime stime ...
        let stat = "42 (my (odd) cmd) S 1 42 42 0 -1 4194560 100 0 0 0 250 37 0 0 20 0";
        assert_eq!(parse_cpu_ms(stat), Some(2870.0));
        assert_eq!(parse_cpu_ms("garbage"), None);
    }

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 51.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
    }
}
