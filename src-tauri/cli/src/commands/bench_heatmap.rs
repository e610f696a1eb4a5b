//! `cloudops bench heatmap` (BRIEF §9 P5: a latency heatmap, 7 days × 20
//! services, queried and rendered to SVG in ≤ 100 ms). Synthetic 1-minute
//! histograms (12 buckets) per service; each run times, per service, the
//! query, the quantiles (p50/p90/p95/p99) and the SVG render, and the whole
//! set of services. Medians over the runs are reported, never asserted.
//!
//! The query is a closure (`Source`) so the cache read can be timed in the
//! same harness: today it hands out the in-memory histogram (a clone), and
//! the report says so.

use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use cloudops_core::analysis::quantile::{quantile_series, synthetic_histogram};
use cloudops_core::charts::{latency_heatmap, LatencyChartOptions};
use cloudops_core::metrics::HistogramSteps;
use serde::Serialize;

use super::Context;
use crate::output::{print_json, Failure};

#[derive(Debug, Args)]
pub struct HeatmapBenchArgs {
    /// Days of data per service.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=60))]
    days: u32,
    /// Step of the data in seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(10..=3600))]
    step: u32,
    /// Services (one histogram and one chart each).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
    services: u32,
    /// Timed runs over all services (after one warm-up run).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
    /// Chart width in px.
    #[arg(long, default_value_t = 960)]
    width: u32,
    /// Chart height in px.
    #[arg(long, default_value_t = 400)]
    height: u32,
}

/// Hands out service `i`'s histogram for the benchmark's time range.
pub type Source<'a> = dyn Fn(usize) -> Result<HistogramSteps, Failure> + 'a;

#[derive(Debug, Serialize)]
struct Medians {
    query_ms: f64,
    quantiles_ms: f64,
    svg_ms: f64,
    total_ms: f64,
}

#[derive(Debug, Serialize)]
struct HeatmapBench {
    services: u32,
    days: u32,
    step_secs: u32,
    steps_per_service: usize,
    buckets: usize,
    runs: u32,
    width: u32,
    height: u32,
    /// What the query stage reads from.
    query: &'static str,
    /// Median over all (run, service) pairs.
    per_service: Medians,
    /// Median over runs of the time for all services one after another.
    all_services_ms: f64,
    svg_bytes_median: usize,
    svg_bytes_max: usize,
    svg_rects_median: usize,
    /// BRIEF §9 P5: all services queried and rendered in ≤ 100 ms.
    goal_ms: f64,
    goal_met: bool,
    build: &'static str,
}

pub fn bench(ctx: &Context, args: HeatmapBenchArgs) -> Result<ExitCode, Failure> {
    let steps = (u64::from(args.days) * 86_400 / u64::from(args.step)) as usize;
    let start = 1_700_000_000 - 1_700_000_000 % 86_400;
    let data: Vec<HistogramSteps> = (0..args.services)
        .map(|s| synthetic_histogram(start, steps, i64::from(args.step), u64::from(s)))
        .collect();
    let source = |i: usize| -> Result<HistogramSteps, Failure> { Ok(data[i].clone()) };
    let result = run(&args, &source, steps)?;
    if ctx.json {
        print_json(&result);
    } else {
        let p = &result.per_service;
        println!(
            "heatmap: {} services x {} days of {} s steps ({} steps, {} buckets), {} runs, {} build",
            result.services,
            result.days,
            result.step_secs,
            result.steps_per_service,
            result.buckets,
            result.runs,
            result.build
        );
        println!(
            "  per service (median): query {:.2} ms, quantiles {:.2} ms, svg {:.2} ms, total {:.2} ms",
            p.query_ms, p.quantiles_ms, p.svg_ms, p.total_ms
        );
        println!(
            "  all {} services (median): {:.1} ms; goal <= {} ms: {}",
            result.services,
            result.all_services_ms,
            result.goal_ms,
            if result.goal_met { "met" } else { "NOT met" }
        );
        println!(
            "  svg: {} bytes median, {} max, {} rects median (query: {})",
            result.svg_bytes_median, result.svg_bytes_max, result.svg_rects_median, result.query
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run(
    args: &HeatmapBenchArgs,
    source: &Source<'_>,
    steps: usize,
) -> Result<HeatmapBench, Failure> {
    let qs = [0.5, 0.9, 0.95, 0.99];
    let opts = LatencyChartOptions {
        width: args.width,
        height: args.height,
        ..Default::default()
    };
    let (mut query, mut quant, mut svg, mut total) = (vec![], vec![], vec![], vec![]);
    let (mut all, mut bytes, mut rects) = (vec![], vec![], vec![]);
    let mut buckets = 0;
    // Run 0 warms caches and the allocator and is not counted.
    for run in 0..=args.runs {
        let t_all = Instant::now();
        for s in 0..args.services as usize {
            let t0 = Instant::now();
            let h = source(s)?;
            let t1 = Instant::now();
            let series = quantile_series(&h, &qs);
            std::hint::black_box(&series);
            let t2 = Instant::now();
            let chart = latency_heatmap(&h, &opts)?;
            let t3 = Instant::now();
            if run > 0 {
                query.push(ms(t1 - t0));
                quant.push(ms(t2 - t1));
                svg.push(ms(t3 - t2));
                total.push(ms(t3 - t0));
                bytes.push(chart.svg.len());
                rects.push(chart.svg.matches("<rect").count());
            }
            buckets = h.le.len();
        }
        if run > 0 {
            all.push(ms(t_all.elapsed()));
        }
    }
    let all_ms = median(&mut all);
    bytes.sort_unstable();
    rects.sort_unstable();
    Ok(HeatmapBench {
        services: args.services,
        days: args.days,
        step_secs: args.step,
        steps_per_service: steps,
        buckets,
        runs: args.runs,
        width: args.width,
        height: args.height,
        query: "in-memory synthetic histograms (clone); no cache read yet",
        per_service: Medians {
            query_ms: median(&mut query),
            quantiles_ms: median(&mut quant),
            svg_ms: median(&mut svg),
            total_ms: median(&mut total),
        },
        all_services_ms: all_ms,
        svg_bytes_median: bytes.get(bytes.len() / 2).copied().unwrap_or(0),
        svg_bytes_max: bytes.last().copied().unwrap_or(0),
        svg_rects_median: rects.get(rects.len() / 2).copied().unwrap_or(0),
        goal_ms: 100.0,
        goal_met: all_ms <= 100.0,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    })
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
