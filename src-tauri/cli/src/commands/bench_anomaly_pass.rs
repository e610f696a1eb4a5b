//! `cloudops bench anomaly-pass`: what the anomaly evaluation after every
//! collection pass costs on one cluster with days of history (issue 9: "keep
//! it fast: bounded work per pass"). Fills a temporary cache, rolls it up,
//! then times `evaluate_cached_anomalies` a few times and reports the median.

use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use cloudops_core::analysis::alerts::AlertRules;
use cloudops_core::analysis::anomaly_eval::{evaluate_cached_anomalies, AnomalyEvalPolicy};
use cloudops_core::metrics::{names, Batch, Sample, SeriesKey};
use cloudops_core::store::{now_ms, Retention, SampleWriter};
use cloudops_core::Store;
use serde::Serialize;

use super::Context;
use crate::output::{print_json, Failure};

#[derive(Debug, Args)]
pub struct AnomalyPassBenchArgs {
    /// Services in the cluster (requests, errors and 12 latency buckets each).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
    services: u32,
    /// Nodes in the cluster (CPU and memory, used and allocatable).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=500))]
    nodes: u32,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=14))]
    days: u32,
    /// Seconds between samples.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(10..=3600))]
    interval: u32,
    /// Timed evaluations (the median is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    runs: u32,
}

#[derive(Debug, Serialize)]
struct AnomalyPassBench {
    services: u32,
    nodes: u32,
    days: u32,
    interval: u32,
    samples: u64,
    fill_seconds: f64,
    series_scored: u64,
    /// Median wall time of one evaluation of the cluster.
    median_ms: f64,
    ms_per_series: f64,
    runs_ms: Vec<f64>,
}

const LE: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

/// A deterministic wobble in [-0.5, 0.5).
fn noise(i: i64) -> f64 {
    let x = (i as f64 * 12.9898).sin() * 43_758.547;
    x - x.floor() - 0.5
}

fn batch_at(args: &AnomalyPassBenchArgs, ts: i64, k: i64) -> Batch {
    let sample = |metric: &str, labels: Vec<(&str, &str)>, value: f64| Sample {
        series: SeriesKey::new("bench", metric, labels),
        ts,
        value,
    };
    let mut samples = Vec::new();
    let daily = (ts as f64 / 86_400.0 * std::f64::consts::TAU).sin();
    for s in 0..args.services {
        let service = format!("svc-{s}");
        let svc = service.as_str();
        let requests = 60.0 * (100.0 + 30.0 * daily + 5.0 * noise(k + i64::from(s)));
        samples.push(sample(
            names::SERVICE_REQUESTS_INCREASE,
            vec![("service", svc)],
            requests,
        ));
        samples.push(sample(
            names::SERVICE_ERRORS_INCREASE,
            vec![("service", svc)],
            requests * 0.01,
        ));
        for (i, le) in LE.iter().enumerate() {
            let share = ((i + 1) as f64 / LE.len() as f64).powf(0.3);
            samples.push(sample(
                names::SERVICE_LATENCY_BUCKET_INCREASE,
                vec![("service", svc), ("le", le)],
                requests * share,
            ));
        }
    }
    for n in 0..args.nodes {
        let node = format!("node-{n}");
        let labels = || vec![("node", node.as_str())];
        let busy = 2.0 + daily + 0.2 * noise(k * 7 + i64::from(n));
        samples.push(sample(names::NODE_CPU_CORES, labels(), busy));
        samples.push(sample(names::NODE_CPU_ALLOCATABLE_CORES, labels(), 4.0));
        samples.push(sample(
            names::NODE_MEMORY_BYTES,
            labels(),
            8e9 + 1e8 * daily,
        ));
        samples.push(sample(names::NODE_MEMORY_ALLOCATABLE_BYTES, labels(), 16e9));
    }
    Batch {
        collected_at: ts,
        samples,
    }
}

pub fn run(ctx: &Context, args: AnomalyPassBenchArgs) -> Result<ExitCode, Failure> {
    let tmp = tempfile::tempdir().map_err(|e| anyhow::anyhow!("temp dir: {e}"))?;
    let now = now_ms() / 1000;
    let step = i64::from(args.interval);
    let start = now - i64::from(args.days) * 86_400;
    let writer = SampleWriter::start(Store::open_in(tmp.path())?, 16)?;
    let started = Instant::now();
    let mut samples = 0u64;
    let mut acks = std::collections::VecDeque::new();
    let (mut ts, mut k) = (start - start.rem_euclid(step), 0);
    while ts <= now {
        let batch = batch_at(&args, ts, k);
        samples += batch.samples.len() as u64;
        acks.push_back(writer.submit(batch)?);
        if acks.len() > 32 {
            if let Some(a) = acks.pop_front() {
                a.wait()?;
            }
        }
        ts += step;
        k += 1;
    }
    for a in acks {
        a.wait()?;
    }
    writer.close()?;
    let mut store = Store::open_in(tmp.path())?;
    store.rollup_and_prune(now, &Retention::default())?;
    let fill_seconds = started.elapsed().as_secs_f64();

    let policy = AnomalyEvalPolicy::default();
    let rules = AlertRules::default();
    let ids = ["bench".to_owned()];
    let mut runs_ms = Vec::new();
    let mut series_scored = 0;
    for _ in 0..args.runs {
        let t = Instant::now();
        let pass = evaluate_cached_anomalies(&mut store, &rules, &ids, now, &policy)?;
        runs_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        series_scored = pass.series_scored;
    }
    let mut sorted = runs_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let median_ms = sorted[sorted.len() / 2];
    let report = AnomalyPassBench {
        services: args.services,
        nodes: args.nodes,
        days: args.days,
        interval: args.interval,
        samples,
        fill_seconds,
        series_scored,
        median_ms,
        ms_per_series: median_ms / series_scored.max(1) as f64,
        runs_ms,
    };
    if ctx.json {
        print_json(&report);
    } else {
        println!(
            "anomaly pass: {} services + {} nodes, {} days at {} s ({} samples; fill {:.1} s)",
            report.services,
            report.nodes,
            report.days,
            report.interval,
            report.samples,
            report.fill_seconds
        );
        println!(
            "  {} series scored: median {:.1} ms per pass ({:.2} ms per series) over {} runs",
            report.series_scored,
            report.median_ms,
            report.ms_per_series,
            report.runs_ms.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
