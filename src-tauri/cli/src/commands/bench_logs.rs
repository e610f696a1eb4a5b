//! `cloudops bench logs`: a generator at a fixed line rate (default 50k
//! lines/s for 10 s) through the bounded pipeline the log readers use (the
//! `LineSink`: filter, level, `try_send` with a dropped count), into the
//! consumer the CLI runs (the reorder buffer and the pattern table). It
//! prints lines offered, delivered and dropped, and the process's peak RSS
//! (`VmHWM`) before and after: the memory bound is the channel and reorder
//! capacities times a line, whatever the input rate.

use std::{
    process::ExitCode,
    time::{Duration, Instant},
};

use clap::Args;
use cloudops_cloud::logs::{
    LineSink, LogEvent, LogLine, Reorder, DEFAULT_CHANNEL_CAPACITY, DEFAULT_REORDER_CAPACITY,
    DEFAULT_REORDER_WINDOW,
};
use cloudops_core::analysis::logs::{Level, PatternLimits, PatternTable};
use serde::Serialize;

use super::{refresh::runtime, Context};
use crate::output::{print_json, Failure};

#[derive(Debug, Args)]
pub struct LogsBenchArgs {
    /// Lines per second the generator offers.
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    rate: u64,
    /// How long it runs, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// Microseconds the consumer spends per line besides its own work (a
    /// slow UI); 0 for as fast as it goes.
    #[arg(long, default_value_t = 0)]
    consumer_delay_us: u64,
}

#[derive(Debug, Serialize)]
struct LogsBench {
    rate: u64,
    seconds: u64,
    offered: u64,
    delivered: u64,
    dropped: u64,
    patterns: usize,
    channel_capacity: usize,
    reorder_capacity: usize,
    /// `VmHWM` (peak resident set) before the run and after, KiB (Linux).
    peak_rss_kib_before: Option<u64>,
    peak_rss_kib_after: Option<u64>,
    wall_ms: f64,
}

/// `VmHWM` from /proc/self/status, in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A plausible line: mostly info, some warnings and errors with ids.
fn line(i: u64) -> String {
    match i % 50 {
        0 => format!(
            "{{\"level\":\"error\",\"msg\":\"upstream timeout calling payments at 10.0.{}.{}:8080 after {}ms\",\"request\":\"{:016x}\"}}",
            i % 250,
            (i / 7) % 250,
            1000 + i % 3000,
            i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ),
        1 | 2 => format!(
            "WARN slow request GET /api/v1/checkout/items/{} took {}ms",
            i % 10_000,
            500 + i % 900
        ),
        _ => format!(
            "INFO GET /api/v1/checkout/items/{} 200 {}ms",
            i % 10_000,
            2 + i % 120
        ),
    }
}

pub fn run(ctx: &Context, args: LogsBenchArgs) -> Result<ExitCode, Failure> {
    let before = peak_rss_kib();
    let rt = runtime()?;
    let report = rt.block_on(async {
        let (sink, mut rx) = LineSink::new(DEFAULT_CHANNEL_CAPACITY, None)
            .map_err(|e| Failure::usage(e.kind(), e.to_string(), e.hint()))?;
        let dropped = sink.dropped();
        let start = Instant::now();
        let total = args.rate * args.seconds;
        // The generator: a batch every millisecond, paced against the clock.
        let producer = tokio::spawn(async move {
            let mut offered = 0u64;
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            while offered < total {
                tick.tick().await;
                let due = ((start.elapsed().as_secs_f64() * args.rate as f64) as u64).min(total);
                while offered < due {
                    let now = start.elapsed().as_nanos() as i64;
                    sink.offer(LogLine {
                        ts_ns: now,
                        cluster: "bench".into(),
                        namespace: "shop".into(),
                        pod: format!("checkout-{}", offered % 3),
                        container: "checkout".into(),
                        level: Level::Unknown,
                        line: line(offered),
                        truncated: false,
                    });
                    offered += 1;
                }
            }
            offered
        });
        let mut reorder = Reorder::new(DEFAULT_REORDER_WINDOW, DEFAULT_REORDER_CAPACITY);
        let mut table = PatternTable::new(PatternLimits::default());
        let mut delivered = 0u64;
        let mut consume = |events: Vec<LogEvent>| {
            for e in events {
                if let LogEvent::Line(l) = e {
                    delivered += 1;
                    table.observe(&l.cluster, &l.pod, l.ts_ns / 1_000_000, &l.line);
                    if args.consumer_delay_us > 0 {
                        std::thread::sleep(Duration::from_micros(args.consumer_delay_us));
                    }
                }
            }
        };
        while let Some(e) = rx.recv().await {
            consume(reorder.push(e));
        }
        consume(reorder.flush());
        let offered = producer.await.unwrap_or(0);
        Ok::<_, Failure>(LogsBench {
            rate: args.rate,
            seconds: args.seconds,
            offered,
            delivered,
            dropped: dropped.get(),
            patterns: table.len(),
            channel_capacity: DEFAULT_CHANNEL_CAPACITY,
            reorder_capacity: DEFAULT_REORDER_CAPACITY,
            peak_rss_kib_before: before,
            peak_rss_kib_after: None,
            wall_ms: start.elapsed().as_secs_f64() * 1000.0,
        })
    })?;
    let report = LogsBench {
        peak_rss_kib_after: peak_rss_kib(),
        ..report
    };
    if ctx.json {
        print_json(&report);
    } else {
        println!(
            "{} lines/s for {} s: offered {}, delivered {}, dropped {}, {} patterns, {:.0} ms",
            report.rate,
            report.seconds,
            report.offered,
            report.delivered,
            report.dropped,
            report.patterns,
            report.wall_ms
        );
        let kib = |v: Option<u64>| v.map_or("unknown".into(), |v| format!("{v} KiB"));
        println!(
            "peak RSS (VmHWM): {} before, {} after (channel {} + reorder {} lines)",
            kib(report.peak_rss_kib_before),
            kib(report.peak_rss_kib_after),
            report.channel_capacity,
            report.reorder_capacity
        );
    }
    Ok(ExitCode::SUCCESS)
}
