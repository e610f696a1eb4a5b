//! `cloudops logs`: pod logs from one cluster or the same deployment across
//! clusters, merged by timestamp (issue 8); error patterns folded as the
//! lines pass and merged into the cache with the last lines of each stream;
//! `cloudops logs patterns` reads the cached patterns back, offline.
//!
//! With `--json` the stream is JSON lines (one object per line, not one
//! document: a followed stream has no end), `{"ts","cluster","pod",
//! "container","level","line"}`, and gap/end markers as
//! `{"event":"gap"|"ended",…}`.

use std::{collections::HashMap, io::Write, process::ExitCode, sync::Arc, time::Duration};

use clap::{Args, Subcommand};
use cloudops_cloud::{
    access::ClusterAccess,
    collect::fleet::targets,
    discovery::Limits,
    logs::{
        follow_deployment, follow_pods, LineSink, LogError, LogEvent, LogKeeper, LogOptions,
        LogStreams, PodRef, Reorder, DEFAULT_CHANNEL_CAPACITY, DEFAULT_REORDER_CAPACITY,
        DEFAULT_REORDER_WINDOW,
    },
    sources::{self, Sources},
};
use cloudops_core::{
    analysis::alerts::AlertRules,
    store::{logs::DEFAULT_LINES_PER_STREAM, merge_patterns, now_ms, LogPatternQuery},
    Store,
};
use serde::Serialize;

use super::{
    clusters,
    refresh::{runtime, shared, Fleet},
    Context,
};
use crate::output::{print_json, Failure, EXIT_ERROR, EXIT_PARTIAL};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LogsArgs {
    #[command(subcommand)]
    command: Option<LogsCommand>,
    #[command(flatten)]
    stream: StreamArgs,
}

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Error patterns from the cache (no network): template, count, first
    /// and last seen, where.
    Patterns(PatternsArgs),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").args(["pod", "deployment"]))]
pub struct StreamArgs {
    /// The cluster (its id, as `clusters --json` prints it).
    #[arg(long)]
    cluster: Option<String>,
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// One pod.
    #[arg(long)]
    pod: Option<String>,
    /// Every pod of a deployment.
    #[arg(long)]
    deployment: Option<String>,
    /// The container (default: the pod's first).
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// The deployment in every cluster that has it.
    #[arg(long, requires = "deployment")]
    all_clusters: bool,
    /// Only lines newer than this (`30s`, `10m`, `2h`, `1d`).
    #[arg(long, value_parser = parse_duration)]
    since: Option<Duration>,
    /// The last N lines of each stream.
    #[arg(long)]
    tail: Option<u32>,
    /// Only lines matching this regular expression (as they stream).
    #[arg(long)]
    grep: Option<String>,
    /// Keep streaming new lines (Ctrl+C stops).
    #[arg(short = 'f', long)]
    follow: bool,
    /// The previous (crashed) container's log.
    #[arg(long)]
    previous: bool,
    /// Stop following after this long.
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Lines kept in the cache per pod/container.
    #[arg(long, default_value_t = DEFAULT_LINES_PER_STREAM)]
    keep: usize,
    /// Read the lines cached by earlier runs (no network), with their age.
    #[arg(long, conflicts_with_all = ["follow", "previous", "grep"])]
    offline: bool,
    /// Use the sandbox (see `clusters --sandbox`).
    #[arg(long)]
    sandbox: bool,
    /// Seed of the sandbox world (with --sandbox).
    #[arg(long, default_value_t = cloudops_sandbox::world::DEFAULT_SEED, requires = "sandbox")]
    seed: u64,
}

#[derive(Debug, Args)]
pub struct PatternsArgs {
    #[arg(long)]
    cluster: Option<String>,
    /// Only patterns seen within this long (`10m`, `2h`, `1d`).
    #[arg(long, value_parser = parse_duration)]
    since: Option<Duration>,
    /// Read the sandbox's cache.
    #[arg(long)]
    sandbox: bool,
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

/// `30s`, `10m`, `2h`, `1d`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 30s, 10m, 2h or 1d"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: use s, m, h or d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(mult)))
}

pub fn run(ctx: &Context, args: LogsArgs) -> Result<ExitCode, Failure> {
    match args.command {
        Some(LogsCommand::Patterns(p)) => patterns(ctx, p),
        None => stream(ctx, args.stream),
    }
}

fn failure(e: &LogError) -> Failure {
    Failure {
        exit: EXIT_ERROR,
        kind: e.kind().into(),
        message: e.to_string(),
        hint: e.hint(),
    }
}

#[derive(Serialize)]
struct LineDoc<'a> {
    ts: String,
    cluster: &'a str,
    pod: &'a str,
    container: &'a str,
    level: &'a str,
    line: &'a str,
    /// Offline only: seconds since the line was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    age_secs: Option<i64>,
}

fn rfc3339_ns(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns))
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Prints one event; returns whether it was a line.
fn print_event(out: &mut impl Write, e: &LogEvent, json: bool, short: &HashMap<String, String>) {
    let name = |c: &str| short.get(c).cloned().unwrap_or_else(|| c.to_string());
    let _ = match (e, json) {
        (LogEvent::Line(l), true) => serde_json::to_writer(
            &mut *out,
            &LineDoc {
                ts: rfc3339_ns(l.ts_ns),
                cluster: &l.cluster,
                pod: &l.pod,
                container: &l.container,
                level: l.level.as_str(),
                line: &l.line,
                age_secs: None,
            },
        )
        .map_err(std::io::Error::other)
        .and_then(|()| writeln!(out)),
        (LogEvent::Line(l), false) => writeln!(
            out,
            "{} [{}/{}] {}",
            rfc3339_ns(l.ts_ns),
            name(&l.cluster),
            l.pod,
            l.line
        ),
        (other, true) => serde_json::to_writer(&mut *out, other)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        (
            LogEvent::Gap {
                cluster,
                pod,
                last_ts_ns,
                reason,
                ..
            },
            false,
        ) => writeln!(
            out,
            "--- [{}/{pod}] gap after {}: {reason} ---",
            name(cluster),
            last_ts_ns
                .map(rfc3339_ns)
                .unwrap_or_else(|| "the start".into())
        ),
        (
            LogEvent::Ended {
                cluster,
                pod,
                reason,
                error,
                ..
            },
            false,
        ) => match error {
            Some(e) => writeln!(out, "--- [{}/{pod}] ended: {e} ---", name(cluster)),
            None if reason == "complete" => Ok(()),
            None => writeln!(out, "--- [{}/{pod}] ended: {reason} ---", name(cluster)),
        },
    };
}

/// Writes what the keeper holds; the alerts it raises go to stderr
/// (stdout is the stream, maybe JSON lines).
fn flush(keeper: &mut LogKeeper, store: &mut Store, rules: &AlertRules) -> Result<(), Failure> {
    let keep = keeper.keep();
    let (raised, written) = keeper.take().write(store, rules, keep, now_ms());
    for a in &raised.opened {
        eprintln!("alert ({:?}): {}", a.severity, a.message);
    }
    written.map_err(|(e, _)| Failure::from(e))
}

fn stream(ctx: &Context, args: StreamArgs) -> Result<ExitCode, Failure> {
    let namespace = args
        .namespace
        .clone()
        .ok_or_else(|| Failure::usage("usage", "logs needs a namespace", "pass -n NAMESPACE"))?;
    if args.pod.is_none() && args.deployment.is_none() {
        return Err(Failure::usage(
            "usage",
            "logs needs --pod or --deployment",
            "e.g. `cloudops logs --cluster ID -n shop --deployment checkout`",
        ));
    }
    if args.cluster.is_none() && !args.all_clusters {
        return Err(Failure::usage(
            "usage",
            "logs needs --cluster (or --all-clusters with --deployment)",
            "`cloudops clusters --json` lists the cluster ids",
        ));
    }
    if args.offline {
        return offline(ctx, &args, &namespace);
    }
    // Validate the filter before any network call.
    let (sink, mut rx) = LineSink::new(DEFAULT_CHANNEL_CAPACITY, args.grep.as_deref())
        .map_err(|e| Failure::usage(e.kind(), e.to_string(), e.hint()))?;
    let mut store = clusters::open_store(ctx, args.sandbox)?;
    // Same thresholds file as `refresh`; a bad one is a usage error before
    // any network call.
    let rules = AlertRules::load(&cloudops_core::store::resolve_data_dir(
        ctx.data_dir.as_deref(),
    )?)
    .map_err(|e| Failure::usage(e.kind(), e.to_string(), e.hint()))?;
    let opts = LogOptions {
        container: args.container.clone(),
        follow: args.follow,
        since_seconds: args.since.map(|d| d.as_secs().max(1) as i64),
        tail_lines: args.tail.map(i64::from),
        previous: args.previous,
        ..Default::default()
    };
    let rt = runtime()?;
    rt.block_on(async {
        let shared = shared()?;
        let fleet = Fleet::start(ctx, args.sandbox, args.seed, &shared).await?;
        let result = async {
            let report = sources::discover(
                Sources {
                    providers: fleet.providers.clone(),
                    errors: fleet.source_errors.clone(),
                },
                &Limits::default(),
                |_| {},
            )
            .await
            .map_err(|_| Failure::usage("no_accounts", "no cloud account is configured", ""))?;
            let all = targets(&fleet.providers, &report.clusters);
            let chosen: Vec<_> = all
                .iter()
                .filter(|t| args.all_clusters || Some(&t.cluster_id) == args.cluster.as_ref())
                .collect();
            if chosen.is_empty() {
                return Err(Failure::usage(
                    "unknown_cluster",
                    format!(
                        "no cluster {:?} was found",
                        args.cluster.as_deref().unwrap_or("")
                    ),
                    "`cloudops clusters --json` lists the cluster ids",
                ));
            }
            let mut short = HashMap::new();
            let mut accesses = Vec::new();
            for t in chosen {
                short.insert(t.cluster_id.clone(), t.cluster.locator.name.clone());
                match t.provider.connect(&t.cluster.locator).await {
                    Ok(conn) => {
                        accesses.push((t.cluster_id.clone(), Arc::new(ClusterAccess::new(conn))))
                    }
                    Err(e) if args.all_clusters => {
                        eprintln!("warning: cannot connect to {}: {e}", t.cluster_id)
                    }
                    Err(e) => {
                        return Err(Failure {
                            exit: EXIT_ERROR,
                            kind: "connect".into(),
                            message: format!("cannot connect to {}: {e}", t.cluster_id),
                            hint: "check the account with `cloudops accounts test`".into(),
                        })
                    }
                }
            }
            let (streams, mut partial): (LogStreams, bool) = match &args.pod {
                Some(pod) => (
                    follow_pods(
                        accesses
                            .into_iter()
                            .map(|(cluster, access)| PodRef {
                                cluster,
                                access,
                                namespace: namespace.clone(),
                                pod: pod.clone(),
                            })
                            .collect(),
                        &opts,
                        &sink,
                    ),
                    false,
                ),
                None => {
                    let d = args.deployment.as_deref().unwrap_or_default();
                    let (streams, errors) =
                        follow_deployment(&accesses, &namespace, d, &opts, &sink)
                            .await
                            .map_err(|e| failure(&e))?;
                    // Across clusters, a cluster without the deployment
                    // is normal; say so on stderr only.
                    for e in &errors {
                        eprintln!("note: {e}");
                    }
                    (streams, !errors.is_empty() && !args.all_clusters)
                }
            };
            drop(sink);
            let mut keeper = LogKeeper::new(args.keep);
            let window = if args.follow {
                DEFAULT_REORDER_WINDOW
            } else {
                // Not following: every stream ends, so hold everything (up
                // to the cap) and release it in order at the end.
                Duration::from_secs(365 * 86_400)
            };
            let mut reorder = Reorder::new(window, DEFAULT_REORDER_CAPACITY);
            if !args.follow {
                reorder = reorder.expect_streams(streams.len());
            }
            let mut out = std::io::stdout().lock();
            let (mut lines, mut errors, mut ended) = (0u64, Vec::new(), 0usize);
            let stop_at = args.duration.map(|d| tokio::time::Instant::now() + d);
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let mut last_flush = std::time::Instant::now();
            let n_streams = streams.len();
            let ctrl_c = tokio::signal::ctrl_c();
            tokio::pin!(ctrl_c);
            loop {
                let released = tokio::select! {
                    e = rx.recv() => match e {
                        Some(e) => {
                            if let LogEvent::Ended { error: Some(err), .. } = &e {
                                errors.push(err.clone());
                            }
                            if matches!(e, LogEvent::Ended { .. }) {
                                ended += 1;
                            }
                            reorder.push(e)
                        }
                        None => break,
                    },
                    _ = tick.tick() => {
                        if stop_at.is_some_and(|t| tokio::time::Instant::now() >= t) {
                            streams.stop();
                        }
                        reorder.tick(now_ms().saturating_mul(1_000_000))
                    }
                    _ = &mut ctrl_c => {
                        streams.stop();
                        Vec::new()
                    }
                };
                for e in &released {
                    if let LogEvent::Line(l) = e {
                        lines += 1;
                        keeper.see(l);
                    }
                    print_event(&mut out, e, ctx.json, &short);
                }
                if last_flush.elapsed() > Duration::from_secs(2) {
                    flush(&mut keeper, &mut store, &rules)?;
                    last_flush = std::time::Instant::now();
                }
            }
            for e in reorder.flush() {
                if let LogEvent::Line(l) = &e {
                    lines += 1;
                    keeper.see(l);
                }
                print_event(&mut out, &e, ctx.json, &short);
            }
            let _ = out.flush();
            flush(&mut keeper, &mut store, &rules)?;
            let dropped = streams.dropped.get();
            streams.join().await;
            eprintln!("{lines} line(s) from {n_streams} stream(s); {dropped} dropped");
            if !errors.is_empty() && errors.len() == ended && ended == n_streams {
                // Every stream failed: the first reason is the command's.
                return Err(Failure {
                    exit: EXIT_ERROR,
                    kind: "logs_failed".into(),
                    message: errors[0].clone(),
                    hint: String::new(),
                });
            }
            partial |= !errors.is_empty();
            Ok(partial)
        }
        .await;
        fleet.stop().await;
        result
    })
    .map(|partial| {
        if partial {
            ExitCode::from(EXIT_PARTIAL)
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// Cached lines of the pod or deployment, oldest first, with their age.
fn offline(ctx: &Context, args: &StreamArgs, namespace: &str) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.sandbox)?;
    let workload = args
        .pod
        .as_deref()
        .or(args.deployment.as_deref())
        .unwrap_or_default();
    let cluster = if args.all_clusters {
        None
    } else {
        args.cluster.as_deref()
    };
    let limit = args
        .tail
        .unwrap_or(u32::try_from(args.keep).unwrap_or(u32::MAX));
    let lines = store.cached_workload_lines(cluster, namespace, workload, limit)?;
    let now = now_ms();
    let mut out = std::io::stdout().lock();
    for l in &lines {
        let age = (now - l.ts) / 1000;
        let _ = if ctx.json {
            serde_json::to_writer(
                &mut out,
                &LineDoc {
                    ts: rfc3339_ns(l.ts.saturating_mul(1_000_000)),
                    cluster: &l.cluster_id,
                    pod: &l.pod,
                    container: &l.container,
                    level: l.level.as_str(),
                    line: &l.line,
                    age_secs: Some(age),
                },
            )
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out))
        } else {
            writeln!(
                out,
                "{} ({age}s ago) [{}/{}] {}",
                rfc3339_ns(l.ts.saturating_mul(1_000_000)),
                l.cluster_id,
                l.pod,
                l.line
            )
        };
    }
    match lines.last() {
        Some(l) => eprintln!(
            "{} cached line(s); the newest is {}s old",
            lines.len(),
            (now - l.ts) / 1000
        ),
        None => eprintln!("no cached lines for {namespace}/{workload}; follow it once online"),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct PatternDoc {
    cluster: String,
    level: &'static str,
    template: String,
    count: u64,
    first_seen: String,
    last_seen: String,
    /// Seconds since it was last seen: the data's age, offline.
    age_secs: i64,
    sample: String,
    pods: Vec<String>,
    clusters: Vec<String>,
}

#[derive(Serialize)]
struct PatternsDoc {
    patterns: Vec<PatternDoc>,
}

fn patterns(ctx: &Context, args: PatternsArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.sandbox)?;
    let now = now_ms();
    let rows = store.log_patterns(&LogPatternQuery {
        cluster: args.cluster.clone(),
        since_ms: args
            .since
            .map(|d| now.saturating_sub(d.as_millis().min(i64::MAX as u128) as i64)),
        limit: 0,
    })?;
    let mut rows = if args.cluster.is_some() {
        rows
    } else {
        merge_patterns(rows)
    };
    rows.truncate(args.limit as usize);
    let ms = |t: i64| rfc3339_ns(t.saturating_mul(1_000_000));
    let docs: Vec<PatternDoc> = rows
        .into_iter()
        .map(|p| PatternDoc {
            cluster: p.cluster_id,
            level: p.level.as_str(),
            template: p.template,
            count: p.count,
            first_seen: ms(p.first_seen),
            last_seen: ms(p.last_seen),
            age_secs: (now - p.last_seen) / 1000,
            sample: p.sample,
            pods: p.pods,
            clusters: p.clusters,
        })
        .collect();
    if ctx.json {
        print_json(&PatternsDoc { patterns: docs });
    } else if docs.is_empty() {
        println!("No log patterns in the cache. `cloudops logs ...` folds them as lines pass.");
    } else {
        println!(
            "{:>7} {:<6} {:>9} {:>9}  TEMPLATE",
            "COUNT", "LEVEL", "LAST", "CLUSTERS"
        );
        for d in &docs {
            println!(
                "{:>7} {:<6} {:>8}s {:>9}  {}",
                d.count,
                d.level,
                d.age_secs,
                d.clusters.len(),
                d.template
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
