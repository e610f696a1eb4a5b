//! Sample-store benchmarks: `bench crash` (every acknowledged batch
//! survives SIGKILL, the cache stays intact) and `bench ingest` (the
//! SampleWriter against a bare rusqlite loop, BRIEF §9 P4).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use cloudops_core::metrics::{names, Batch, Sample, SeriesKey};
use cloudops_core::store::{Retention, SampleWriter, Selector};
use cloudops_core::Store;
use serde::Serialize;

use super::Context;
use crate::output::{print_json, Failure, EXIT_ERROR};

/// The metric the crash child writes; one series per `--series` index.
const CRASH_METRIC: &str = "crash_test_value";
/// Each run numbers its batches from `run * RUN_SEQ_SPAN + 1`.
const RUN_SEQ_SPAN: i64 = 1_000_000;
/// Batches in flight in the child, so that the writer coalesces them.
const CHILD_PIPELINE: usize = 8;

#[derive(Debug, Args)]
pub struct CrashChildArgs {
    /// Sequence number of the first batch.
    #[arg(long, default_value_t = 1)]
    first_seq: i64,
    /// Samples per batch (one per series).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    series: u32,
}

fn crash_batch(seq: i64, series: u32) -> Batch {
    Batch {
        collected_at: seq,
        samples: (0..series)
            .map(|i| Sample {
                series: SeriesKey::new("crash", CRASH_METRIC, [("s", i.to_string().as_str())]),
                ts: seq,
                value: seq as f64,
            })
            .collect(),
    }
}

/// Ingests numbered batches through the SampleWriter until killed, printing
/// `ack <seq>` (flushed) after each batch's commit. Batch `seq` is
/// `--series` samples at `ts = seq` with value `seq`.
pub fn crash_child(ctx: &Context, args: CrashChildArgs) -> Result<ExitCode, Failure> {
    let store = ctx.open_store()?;
    let writer = SampleWriter::start(store, CHILD_PIPELINE)?;
    let mut in_flight = VecDeque::new();
    let mut out = std::io::stdout().lock();
    // The parent times its kill from here, so that a slow process start
    // on a busy machine does not turn a mid-ingest kill into an early one.
    writeln!(out, "ready")
        .and_then(|()| out.flush())
        .map_err(|e| anyhow::anyhow!("writing ready: {e}"))?;
    for seq in args.first_seq.. {
        in_flight.push_back((seq, writer.submit(crash_batch(seq, args.series))?));
        if in_flight.len() >= CHILD_PIPELINE {
            if let Some((seq, ack)) = in_flight.pop_front() {
                ack.wait()?;
                writeln!(out, "ack {seq}")
                    .and_then(|()| out.flush())
                    .map_err(|e| anyhow::anyhow!("writing the ack: {e}"))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct CrashBenchArgs {
    /// Child processes to start and kill.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    runs: u32,
    /// Samples per batch.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    series: u32,
    /// Longest wait before a kill; one run in ten is killed within 5 ms of
    /// its start (while opening or migrating the cache), the others at a
    /// uniform time between 20 ms and this after the child has opened the
    /// cache and begun ingesting.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(21..=60_000))]
    max_delay_ms: u64,
    /// Seed of the kill times (default: from the clock; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Keep the cache here instead of a temporary dir (removed afterwards).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct CrashBench {
    runs: u32,
    seed: u64,
    series_per_batch: u32,
    /// Runs whose child was still running when SIGKILL was sent.
    killed_while_running: u32,
    /// Runs in which at least one batch was acknowledged before the kill.
    runs_with_acks: u32,
    acked_batches: u64,
    /// Batches found complete though never acknowledged (committed, killed
    /// before the ack was printed); allowed.
    unacked_complete_batches: u64,
    integrity_checks_ok: u32,
    failures: Vec<String>,
    seconds: f64,
}

pub fn crash(ctx: &Context, args: CrashBenchArgs) -> Result<ExitCode, Failure> {
    let temp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir().map_err(|e| anyhow::anyhow!("creating a temp dir: {e}"))?;
            temp.path().to_path_buf()
        }
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(42)
    });
    let mut rng = fastrand::Rng::with_seed(seed);
    let exe = std::env::current_exe().map_err(|e| anyhow::anyhow!("finding cloudops: {e}"))?;
    let started = Instant::now();
    let mut report = CrashBench {
        runs: args.runs,
        seed,
        series_per_batch: args.series,
        killed_while_running: 0,
        runs_with_acks: 0,
        acked_batches: 0,
        unacked_complete_batches: 0,
        integrity_checks_ok: 0,
        failures: Vec::new(),
        seconds: 0.0,
    };
    for run in 0..args.runs {
        let kill_at = if rng.u32(0..10) == 0 {
            KillAt::AfterSpawn(Duration::from_micros(rng.u64(0..5_000)))
        } else {
            KillAt::AfterReady(Duration::from_millis(rng.u64(20..=args.max_delay_ms)))
        };
        let first = i64::from(run) * RUN_SEQ_SPAN + 1;
        match crash_run(&exe, &dir, first, args.series, kill_at) {
            Ok(outcome) => {
                report.killed_while_running += u32::from(outcome.killed_while_running);
                report.runs_with_acks += u32::from(!outcome.acked.is_empty());
                report.acked_batches += outcome.acked.len() as u64;
                match verify_run(&dir, first, args.series, &outcome.acked) {
                    Ok(extra) => {
                        report.integrity_checks_ok += 1;
                        report.unacked_complete_batches += extra;
                    }
                    Err(e) => report
                        .failures
                        .push(format!("run {run} ({kill_at:?}): {e}")),
                }
            }
            Err(e) => report.failures.push(format!("run {run}: {e}")),
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    if ctx.json {
        print_json(&report);
    } else {
        println!(
            "crash: {} runs (seed {}), {} killed mid-ingest, {} with acks, {} acked batches of {} samples, {} unacked but complete, integrity ok {}/{}, {:.1} s",
            report.runs,
            report.seed,
            report.killed_while_running,
            report.runs_with_acks,
            report.acked_batches,
            report.series_per_batch,
            report.unacked_complete_batches,
            report.integrity_checks_ok,
            report.runs,
            report.seconds
        );
        for f in &report.failures {
            println!("  FAILED {f}");
        }
    }
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ERROR)
    })
}

/// When a run's child is killed.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// This long after the spawn: while it opens or migrates the cache.
    AfterSpawn(Duration),
    /// This long after it says it is ready to ingest.
    AfterReady(Duration),
}

/// How long a child may take to open the cache before the run fails.
const CHILD_READY_TIMEOUT: Duration = Duration::from_secs(30);

struct RunOutcome {
    acked: Vec<i64>,
    killed_while_running: bool,
}

fn crash_run(
    exe: &Path,
    dir: &Path,
    first: i64,
    series: u32,
    kill_at: KillAt,
) -> Result<RunOutcome, String> {
    let mut child = Command::new(exe)
        .arg("--data-dir")
        .arg(dir)
        .args(["bench", "crash-child", "--first-seq"])
        .arg(first.to_string())
        .arg("--series")
        .arg(series.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the child: {e}"))?;
    let stdout = child.stdout.take().ok_or("the child has no stdout")?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line == "ready" {
                let _ = ready_tx.send(());
            } else if let Some(seq) = line.strip_prefix("ack ").and_then(|s| s.parse().ok()) {
                acked.push(seq);
            }
        }
        acked
    });
    match kill_at {
        KillAt::AfterSpawn(d) => std::thread::sleep(d),
        KillAt::AfterReady(d) => {
            if ready_rx.recv_timeout(CHILD_READY_TIMEOUT).is_err() {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the child did not open the cache within {CHILD_READY_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(d);
        }
    }
    let killed_while_running = matches!(child.try_wait(), Ok(None));
    // std's kill is SIGKILL on Unix.
    let _ = child.kill();
    let _ = child.wait();
    let acked = reader.join().map_err(|_| "the ack reader panicked")?;
    Ok(RunOutcome {
        acked,
        killed_while_running,
    })
}

/// Opens the cache as a new process would, requires integrity_check = ok,
/// every acked batch complete and no batch partial. Returns how many
/// batches are complete without an ack.
fn verify_run(dir: &Path, first: i64, series: u32, acked: &[i64]) -> Result<u64, String> {
    let store = Store::open_in(dir).map_err(|e| format!("reopening: {e}"))?;
    let check = store.check().map_err(|e| format!("checking: {e}"))?;
    if !check.ok {
        return Err(format!("integrity_check: {:?}", check.integrity));
    }
    // Acked batches plus what was in flight when killed, read in windows
    // (a range read allows at most 100,000 steps).
    let last = acked.last().copied().unwrap_or(first) + 1_000;
    let mut per_seq: BTreeMap<i64, u32> = BTreeMap::new();
    let mut from = first;
    while from <= last {
        let to = (from + 50_000).min(last);
        let got = store
            .range_at(
                &Selector::metric(CRASH_METRIC),
                from,
                to,
                1,
                to,
                &Retention::default(),
            )
            .map_err(|e| format!("reading: {e}"))?;
        for (_, points) in &got {
            for (ts, value) in points {
                if *value != *ts as f64 {
                    return Err(format!("batch {ts} holds value {value}"));
                }
                *per_seq.entry(*ts).or_insert(0) += 1;
            }
        }
        from = to + 1;
    }
    if let Some((seq, n)) = per_seq.iter().find(|(_, n)| **n != series) {
        return Err(format!("batch {seq} is partial: {n} of {series} samples"));
    }
    let missing: Vec<&i64> = acked.iter().filter(|s| !per_seq.contains_key(s)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} acknowledged batches lost, first {}",
            missing.len(),
            missing[0]
        ));
    }
    Ok((per_seq.len() - acked.len()) as u64)
}

#[derive(Debug, Args)]
pub struct IngestBenchArgs {
    /// Collection passes; each pass writes one batch per cluster.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    passes: u32,
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=1000))]
    clusters: u32,
    /// Nodes per cluster (6 series each: cpu, memory, disk and their capacities).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    nodes: u32,
    /// Pods per cluster (2 series each: cpu, memory).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pods: u32,
    /// Services per cluster (14 series each: requests, errors, 12 latency buckets).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    services: u32,
}

#[derive(Debug, Serialize)]
struct IngestRun {
    seconds: f64,
    samples_per_second: f64,
}

#[derive(Debug, Serialize)]
struct IngestBench {
    batches: u64,
    samples: u64,
    samples_per_batch: u64,
    /// SampleWriter: series-id cache, upsert, savepoint per batch, queued
    /// batches coalesced, ack after commit.
    writer: IngestRun,
    /// A bare loop: one transaction per batch, one prepared INSERT, series
    /// ids resolved before the clock starts.
    baseline: IngestRun,
    ratio: f64,
    /// BRIEF §9 P4: the writer at >= 50% of the bare loop.
    goal_ratio: f64,
    goal_met: bool,
}

const LE: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

/// One collection pass of one cluster at `ts`.
fn ingest_batch(args: &IngestBenchArgs, cluster: u32, ts: i64) -> Batch {
    let c = format!("aws/acct/eu-west-1/cluster-{cluster}");
    let mut samples = Vec::new();
    let mut push = |metric: &str, labels: &[(&str, &str)], value: f64| {
        samples.push(Sample {
            series: SeriesKey::new(&c, metric, labels.iter().copied()),
            ts,
            value,
        })
    };
    let wobble = (ts % 600) as f64 / 600.0;
    for n in 0..args.nodes {
        let node = format!("node-{n}");
        let l = [("node", node.as_str())];
        push(names::NODE_CPU_CORES, &l, 1.0 + wobble);
        push(names::NODE_CPU_ALLOCATABLE_CORES, &l, 3.92);
        push(names::NODE_MEMORY_BYTES, &l, 6e9 * (1.0 + wobble));
        push(names::NODE_MEMORY_ALLOCATABLE_BYTES, &l, 15e9);
        push(names::NODE_DISK_USED_BYTES, &l, 4e10);
        push(names::NODE_DISK_CAPACITY_BYTES, &l, 1e11);
    }
    for p in 0..args.pods {
        let pod = format!("pod-{p}");
        let l = [("namespace", "default"), ("pod", pod.as_str())];
        push(names::POD_CPU_CORES, &l, 0.1 * wobble);
        push(names::POD_MEMORY_BYTES, &l, 2e8);
    }
    for s in 0..args.services {
        let service = format!("svc-{s}");
        let l = [("service", service.as_str())];
        push(names::SERVICE_REQUESTS_INCREASE, &l, 600.0);
        push(names::SERVICE_ERRORS_INCREASE, &l, 3.0);
        for (i, le) in LE.iter().enumerate() {
            let l = [("service", service.as_str()), ("le", le)];
            push(
                names::SERVICE_LATENCY_BUCKET_INCREASE,
                &l,
                50.0 * (i + 1) as f64,
            );
        }
    }
    Batch {
        collected_at: ts,
        samples,
    }
}

pub fn ingest(ctx: &Context, args: IngestBenchArgs) -> Result<ExitCode, Failure> {
    let err = |what: &str, e: &dyn std::fmt::Display| anyhow::anyhow!("{what}: {e}");
    let t0: i64 = 1_750_000_000;
    // Warm-up pass (not timed) creates every series in both caches, so both
    // runs measure the steady state of a collector that has run before.
    let warmup: Vec<Batch> = (0..args.clusters)
        .map(|c| ingest_batch(&args, c, t0))
        .collect();
    let batches: Vec<Batch> = (1..=i64::from(args.passes))
        .flat_map(|p| (0..args.clusters).map(move |c| (p, c)))
        .map(|(p, c)| ingest_batch(&args, c, t0 + 60 * p))
        .collect();
    let samples: u64 = batches.iter().map(|b| b.samples.len() as u64).sum();

    let ours = tempfile::tempdir().map_err(|e| err("temp dir", &e))?;
    let mut store = Store::open_in(ours.path())?;
    for b in &warmup {
        store.insert_batch(b)?;
    }
    let writer = SampleWriter::start(store, 64)?;
    // Collectors hand their batches over; copy them before the clock starts.
    let owned = batches.clone();
    let started = Instant::now();
    let acks = owned
        .into_iter()
        .map(|b| writer.submit(b))
        .collect::<Result<Vec<_>, _>>()?;
    for ack in acks {
        ack.wait()?;
    }
    let writer_seconds = started.elapsed().as_secs_f64();
    writer.close()?;

    let bare = tempfile::tempdir().map_err(|e| err("temp dir", &e))?;
    let bare_path = Store::open_in(bare.path())?.path().to_path_buf();
    let baseline_seconds =
        bare_loop(&bare_path, &warmup, &batches).map_err(|e| err("the rusqlite baseline", &e))?;

    let run = |seconds: f64| IngestRun {
        seconds,
        samples_per_second: samples as f64 / seconds.max(f64::EPSILON),
    };
    let (writer, baseline) = (run(writer_seconds), run(baseline_seconds));
    let ratio = writer.samples_per_second / baseline.samples_per_second.max(f64::EPSILON);
    let report = IngestBench {
        batches: batches.len() as u64,
        samples,
        samples_per_batch: samples / (batches.len().max(1) as u64),
        writer,
        baseline,
        ratio,
        goal_ratio: 0.5,
        goal_met: ratio >= 0.5,
    };
    if ctx.json {
        print_json(&report);
    } else {
        println!(
            "ingest: {} batches x {} samples ({} samples)",
            report.batches, report.samples_per_batch, report.samples
        );
        println!(
            "  SampleWriter    {:>12.0} samples/s  ({:.2} s)",
            report.writer.samples_per_second, report.writer.seconds
        );
        println!(
            "  rusqlite loop   {:>12.0} samples/s  ({:.2} s)",
            report.baseline.samples_per_second, report.baseline.seconds
        );
        println!(
            "  ratio {:.2}; goal >= {:.2}: {}",
            report.ratio,
            report.goal_ratio,
            if report.goal_met { "met" } else { "NOT met" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A batch as the baseline writes it: collected_at, (series id, ts, value).
type ResolvedBatch = (i64, Vec<(i64, i64, f64)>);

/// The baseline: same schema and pragmas (created by `Store::open_in`), one
/// transaction per batch, one cached INSERT, ids looked up beforehand.
fn bare_loop(path: &Path, warmup: &[Batch], batches: &[Batch]) -> rusqlite::Result<f64> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let mut ids: HashMap<SeriesKey, i64> = HashMap::new();
    let insert = "INSERT INTO samples (series_id, ts, value, collected_at) VALUES (?1, ?2, ?3, ?4)";
    for batch in warmup {
        let tx = conn.transaction()?;
        for s in &batch.samples {
            let labels = serde_json::to_string(&s.series.labels).unwrap_or_default();
            tx.execute(
                "INSERT INTO series (cluster_id, metric, labels) VALUES (?1, ?2, ?3)",
                rusqlite::params![s.series.cluster_id, s.series.metric, labels],
            )?;
            let id = tx.last_insert_rowid();
            ids.insert(s.series.clone(), id);
            tx.execute(
                insert,
                rusqlite::params![id, s.ts, s.value, batch.collected_at],
            )?;
        }
        tx.commit()?;
    }
    let resolved: Vec<ResolvedBatch> = batches
        .iter()
        .map(|b| {
            let rows = b
                .samples
                .iter()
                .filter_map(|s| ids.get(&s.series).map(|id| (*id, s.ts, s.value)))
                .collect();
            (b.collected_at, rows)
        })
        .collect();
    let started = Instant::now();
    for (collected_at, rows) in &resolved {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(insert)?;
            for (id, ts, value) in rows {
                stmt.execute(rusqlite::params![id, ts, value, collected_at])?;
            }
        }
        tx.commit()?;
    }
    Ok(started.elapsed().as_secs_f64())
}

#[derive(Debug, Args)]
pub struct HistogramReadBenchArgs {
    /// Services in the one cluster (12 latency buckets each).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    services: u32,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=30))]
    days: u32,
    /// Seconds between samples.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(10..=3600))]
    interval: u32,
}

#[derive(Debug, Serialize)]
struct HistogramRead {
    step: i64,
    /// One `histogram_steps` call per service.
    ms_all_services: f64,
    columns: usize,
}

#[derive(Debug, Serialize)]
struct HistogramReadBench {
    services: u32,
    days: u32,
    samples: u64,
    fill_seconds: f64,
    rollup_seconds: f64,
    /// The read half of BRIEF §9 P5 (heatmap query + SVG render <= 100 ms).
    reads: Vec<HistogramRead>,
}

/// Fills `--days` of latency buckets for `--services` services, rolls them
/// up, then times `histogram_steps` for every service over the whole span.
pub fn histogram_read(ctx: &Context, args: HistogramReadBenchArgs) -> Result<ExitCode, Failure> {
    let tmp = tempfile::tempdir().map_err(|e| anyhow::anyhow!("temp dir: {e}"))?;
    let now = cloudops_core::store::now_ms() / 1000;
    let start = now - i64::from(args.days) * 86_400;
    let writer = SampleWriter::start(Store::open_in(tmp.path())?, 16)?;
    let started = Instant::now();
    let mut samples = 0u64;
    let mut acks = VecDeque::new();
    let mut ts = start;
    while ts <= now {
        let mut batch = Batch {
            collected_at: ts,
            samples: Vec::new(),
        };
        for s in 0..args.services {
            let service = format!("svc-{s}");
            for (i, le) in LE.iter().enumerate() {
                batch.samples.push(Sample {
                    series: SeriesKey::new(
                        "bench",
                        names::SERVICE_LATENCY_BUCKET_INCREASE,
                        [("service", service.as_str()), ("le", le)],
                    ),
                    ts,
                    value: 10.0 * (i + 1) as f64,
                });
            }
        }
        samples += batch.samples.len() as u64;
        acks.push_back(writer.submit(batch)?);
        if acks.len() > 32 {
            if let Some(a) = acks.pop_front() {
                a.wait()?;
            }
        }
        ts += i64::from(args.interval);
    }
    for a in acks {
        a.wait()?;
    }
    writer.close()?;
    let fill_seconds = started.elapsed().as_secs_f64();
    let mut store = Store::open_in(tmp.path())?;
    let t = Instant::now();
    store.rollup_and_prune(now, &Retention::default())?;
    let rollup_seconds = t.elapsed().as_secs_f64();
    let mut reads = Vec::new();
    for step in [3600, 1800, 900] {
        let t = Instant::now();
        let mut columns = 0;
        for s in 0..args.services {
            let h = store.histogram_steps("bench", &format!("svc-{s}"), start, now, step)?;
            columns = h.times.len();
        }
        reads.push(HistogramRead {
            step,
            ms_all_services: t.elapsed().as_secs_f64() * 1000.0,
            columns,
        });
    }
    let report = HistogramReadBench {
        services: args.services,
        days: args.days,
        samples,
        fill_seconds,
        rollup_seconds,
        reads,
    };
    if ctx.json {
        print_json(&report);
    } else {
        println!(
            "histogram read: {} services x {} days ({} samples; fill {:.1} s, rollup {:.1} s)",
            report.services,
            report.days,
            report.samples,
            report.fill_seconds,
            report.rollup_seconds
        );
        for r in &report.reads {
            println!(
                "  step {:>5} s: {:>4} columns, {:>8.1} ms for all services",
                r.step, r.columns, r.ms_all_services
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
