//! `cloudops bench ...`: the performance benchmarks of BRIEF §9. Benchmarks
//! print measurements; they never pass or fail on a number (tests don't time
//! things, benchmarks don't assert).

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
    }
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

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 51.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
    }
}
