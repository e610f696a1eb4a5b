//! The log streams the webview follows (issue 8): the open sessions (so that
//! `logs_stop` can end one), and the pump that turns the readers' events
//! into batches for the webview while folding every line into the pattern
//! table and the cache.
//!
//! The pump sends a batch every [`BATCH_EVERY`] or as soon as
//! [`BATCH_LINES`] lines are waiting, whichever is first: one IPC message
//! per line would swamp the webview at 10k lines/s, one per second would
//! feel stuck. Memory stays bounded: the readers' channel and the reorder
//! buffer have caps (see `cloudops_cloud::logs`), a batch holds at most
//! `BATCH_LINES` lines, and the cache keeper trims each stream to `keep`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cloudops_cloud::logs::{LogEvent, LogKeeper, LogLine, LogStreams, Reorder};
use cloudops_core::analysis::alerts::AlertRules;
use cloudops_core::analysis::logs::{
    parse_line, template, Level, Observed, PatternLimits, PatternTable,
};
use cloudops_core::store::{now_ms, AlertChanges, CachedLogLine};
use cloudops_core::Store;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use ts_rs::TS;

/// How often a batch goes to the webview.
pub const BATCH_EVERY: Duration = Duration::from_millis(100);
/// A batch goes at once when this many lines wait.
pub const BATCH_LINES: usize = 500;
/// How often the live pattern table is sent (it changes slowly).
pub const PATTERNS_EVERY: Duration = Duration::from_secs(1);
/// How often the patterns and the last lines go to the cache.
pub const CACHE_EVERY: Duration = Duration::from_secs(2);
/// Patterns sent with a batch, most frequent first.
pub const MAX_LIVE_PATTERNS: usize = 100;
/// Tries of the last write when a stream ends (a collection pass may hold
/// the cache for a while).
const FINAL_WRITE_TRIES: u32 = 5;
/// Streams one webview may follow at once; past it the oldest must stop.
pub const MAX_SESSIONS: usize = 8;

/// One row of the Logs panel: a line, or a gap/end marker.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct LogRow {
    /// `line`, `gap` or `ended`.
    pub kind: String,
    /// Unix milliseconds (for a gap: the last line before it, when known).
    #[ts(type = "number | null")]
    pub ts_ms: Option<i64>,
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// `error`, `warn`, `info`, `debug` or `unknown`.
    pub level: String,
    /// The line (for a marker: why the stream stopped or resumed).
    pub line: String,
    pub truncated: bool,
    /// The template of a warning or error line: the key of its pattern, so
    /// that a click on a pattern filters the stream exactly.
    pub pattern: Option<String>,
}

/// One error pattern: a template with its count and where it was seen.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct PatternView {
    /// Empty when merged over several clusters.
    pub cluster_id: String,
    pub level: String,
    pub template: String,
    #[ts(type = "number")]
    pub count: u64,
    #[ts(type = "number")]
    pub first_seen_ms: i64,
    #[ts(type = "number")]
    pub last_seen_ms: i64,
    pub sample: String,
    pub pods: Vec<String>,
    pub clusters: Vec<String>,
}

/// What the pump sends through the webview's channel.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct LogBatch {
    pub stream_id: u32,
    pub rows: Vec<LogRow>,
    /// Lines dropped so far because this consumer was behind (a total).
    #[ts(type = "number")]
    pub dropped: u64,
    /// The stream's live patterns, when they changed since the last batch.
    pub patterns: Option<Vec<PatternView>>,
    /// The last batch: every reader ended or the stream was stopped.
    pub done: bool,
}

/// The pattern key of a line: its template when it is a warning or worse.
pub fn pattern_of(line: &str, level: Level) -> Option<String> {
    level
        .at_least(Level::Warn)
        .then(|| template(&parse_line(line).message))
}

pub fn row_of_line(l: &LogLine) -> LogRow {
    LogRow {
        kind: "line".into(),
        ts_ms: Some(l.ts_ns / 1_000_000),
        cluster: l.cluster.clone(),
        namespace: l.namespace.clone(),
        pod: l.pod.clone(),
        container: l.container.clone(),
        level: l.level.as_str().into(),
        line: l.line.clone(),
        truncated: l.truncated,
        pattern: pattern_of(&l.line, l.level),
    }
}

pub fn row_of_cached(l: &CachedLogLine) -> LogRow {
    LogRow {
        kind: "line".into(),
        ts_ms: Some(l.ts),
        cluster: l.cluster_id.clone(),
        namespace: l.namespace.clone(),
        pod: l.pod.clone(),
        container: l.container.clone(),
        level: l.level.as_str().into(),
        line: l.line.clone(),
        truncated: false,
        pattern: pattern_of(&l.line, l.level),
    }
}

fn row_of_event(e: &LogEvent, namespace: &str) -> LogRow {
    match e {
        LogEvent::Line(l) => row_of_line(l),
        LogEvent::Gap {
            cluster,
            pod,
            container,
            last_ts_ns,
            reason,
        } => LogRow {
            kind: "gap".into(),
            ts_ms: last_ts_ns.map(|t| t / 1_000_000),
            cluster: cluster.clone(),
            namespace: namespace.into(),
            pod: pod.clone(),
            container: container.clone(),
            level: Level::Warn.as_str().into(),
            line: format!("lines may be missing here: {reason}"),
            truncated: false,
            pattern: None,
        },
        LogEvent::Ended {
            cluster,
            pod,
            container,
            reason,
            error,
        } => LogRow {
            kind: "ended".into(),
            ts_ms: None,
            cluster: cluster.clone(),
            namespace: namespace.into(),
            pod: pod.clone(),
            container: container.clone(),
            level: if error.is_some() {
                Level::Error
            } else {
                Level::Info
            }
            .as_str()
            .into(),
            line: match error {
                Some(e) => format!("stream ended: {e}"),
                None => format!("stream ended: {reason}"),
            },
            truncated: false,
            pattern: None,
        },
    }
}

pub fn pattern_view(cluster_id: String, p: &cloudops_core::analysis::logs::Pattern) -> PatternView {
    PatternView {
        cluster_id,
        level: p.level.as_str().into(),
        template: p.template.clone(),
        count: p.count,
        first_seen_ms: p.first_seen,
        last_seen_ms: p.last_seen,
        sample: p.sample.clone(),
        pods: p.pods.iter().cloned().collect(),
        clusters: p.clusters.iter().cloned().collect(),
    }
}

/// The streams the webview follows, by id.
#[derive(Default)]
pub struct LogSessions {
    next: Mutex<u32>,
    open: Mutex<HashMap<u32, watch::Sender<bool>>>,
}

impl LogSessions {
    /// Registers a stream; `None` when [`MAX_SESSIONS`] are open.
    pub fn open(&self) -> Option<(u32, watch::Receiver<bool>)> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|_, tx| !tx.is_closed());
        if open.len() >= MAX_SESSIONS {
            return None;
        }
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        *next = next.wrapping_add(1).max(1);
        let (tx, rx) = watch::channel(false);
        open.insert(*next, tx);
        Some((*next, rx))
    }

    /// Asks the stream to stop; `false` when no such stream is open.
    pub fn stop(&self, id: u32) -> bool {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&id).is_some_and(|tx| tx.send(true).is_ok())
    }

    fn close(&self, id: u32) {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    pub fn len(&self) -> usize {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|_, tx| !tx.is_closed());
        open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Called with the alerts a write of patterns raised (a new error
/// template, a spike): the app tells the window and notifies.
pub type OnLogAlerts = Box<dyn Fn(AlertChanges) + Send + Sync>;

/// Where the pump's lines go besides the webview.
pub struct CacheSink {
    pub data_dir: PathBuf,
    /// Lines kept per pod/container.
    pub keep: usize,
    /// Thresholds of the new-pattern and spike alerts.
    pub rules: AlertRules,
    pub on_alerts: Option<OnLogAlerts>,
}

/// Writes what the keeper holds; the store opens on first use and moves
/// between the pump and the blocking thread. A busy cache (a collection
/// pass writing) keeps the data for the next try instead of losing it.
async fn write_cache(
    store: Option<Store>,
    cache: &CacheSink,
    keeper: &mut LogKeeper,
) -> Option<Store> {
    let pending = keeper.take();
    if pending.is_empty() {
        return store;
    }
    let dir = cache.data_dir.clone();
    let keep = keeper.keep();
    let rules = cache.rules.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut store = match store {
            Some(s) => s,
            None => match Store::open_in(&dir) {
                Ok(s) => s,
                Err(e) => return (AlertChanges::default(), None, Some((e, pending))),
            },
        };
        let (raised, written) = pending.write(&mut store, &rules, keep, now_ms());
        (raised, Some(store), written.err())
    })
    .await;
    match joined {
        Ok((raised, store, failed)) => {
            if let Some(f) = &cache.on_alerts {
                if !(raised.opened.is_empty()
                    && raised.raised.is_empty()
                    && raised.folded.is_empty())
                {
                    f(raised);
                }
            }
            if let Some((e, rest)) = failed {
                // The stream goes on: the cache is a record, not the display.
                tracing::warn!(error = %e, "cannot cache log lines yet; will retry");
                keeper.give_back(rest);
            }
            store
        }
        Err(e) => {
            tracing::warn!(error = %e, "the log cache task failed");
            None
        }
    }
}

/// The stream's own pattern table, for the panel beside the lines.
struct LivePatterns {
    table: PatternTable,
    changed: bool,
}

impl LivePatterns {
    fn snapshot(&mut self) -> Option<Vec<PatternView>> {
        if !std::mem::take(&mut self.changed) {
            return None;
        }
        Some(
            self.table
                .patterns()
                .into_iter()
                .take(MAX_LIVE_PATTERNS)
                .map(|p| {
                    let cluster = if p.clusters.len() == 1 {
                        p.clusters.iter().next().cloned().unwrap_or_default()
                    } else {
                        String::new()
                    };
                    pattern_view(cluster, p)
                })
                .collect(),
        )
    }
}

/// Runs one stream until its readers end, `stop` fires, or `send` fails
/// (the webview is gone). `send` gets each batch; it returns `false` when
/// nobody listens any more.
#[allow(clippy::too_many_arguments)]
pub async fn pump(
    stream_id: u32,
    namespace: String,
    mut rx: mpsc::Receiver<LogEvent>,
    streams: LogStreams,
    follow: bool,
    mut stop: watch::Receiver<bool>,
    cache: CacheSink,
    send: impl Fn(LogBatch) -> bool,
) {
    let mut reorder = if follow {
        Reorder::new(
            cloudops_cloud::logs::DEFAULT_REORDER_WINDOW,
            cloudops_cloud::logs::DEFAULT_REORDER_CAPACITY,
        )
    } else {
        // Every stream ends: hold (up to the cap) and release in order.
        Reorder::new(
            Duration::from_secs(365 * 86_400),
            cloudops_cloud::logs::DEFAULT_REORDER_CAPACITY,
        )
        .expect_streams(streams.len())
    };
    let mut keeper = LogKeeper::new(cache.keep);
    let mut live = LivePatterns {
        table: PatternTable::new(PatternLimits::default()),
        changed: false,
    };
    let mut store: Option<Store> = None;
    let mut rows: Vec<LogRow> = Vec::new();
    let mut last_dropped = 0;
    let mut tick = tokio::time::interval(BATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_patterns = Instant::now();
    let mut last_cache = Instant::now();
    let mut listening = true;
    let mut stopping = false;

    let take = |released: Vec<LogEvent>,
                rows: &mut Vec<LogRow>,
                keeper: &mut LogKeeper,
                live: &mut LivePatterns| {
        for e in &released {
            if let LogEvent::Line(l) = e {
                keeper.see(l);
                let seen = live
                    .table
                    .observe(&l.cluster, &l.pod, l.ts_ns / 1_000_000, &l.line);
                live.changed |= seen != Observed::Skipped;
            }
            rows.push(row_of_event(e, &namespace));
        }
    };

    loop {
        let mut due = false;
        tokio::select! {
            e = rx.recv() => match e {
                Some(e) => take(reorder.push(e), &mut rows, &mut keeper, &mut live),
                None => break,
            },
            _ = tick.tick() => {
                take(reorder.tick(now_ms().saturating_mul(1_000_000)), &mut rows, &mut keeper, &mut live);
                due = true;
            }
            changed = stop.changed(), if !stopping => {
                // A closed sender (the session forgotten) stops as well.
                if changed.is_err() || *stop.borrow() {
                    streams.stop();
                    // Asked once; the readers now end and close `rx`.
                    stopping = true;
                }
            }
        }
        if rows.len() >= BATCH_LINES || due {
            let dropped = streams.dropped.get();
            let patterns = if last_patterns.elapsed() >= PATTERNS_EVERY {
                last_patterns = Instant::now();
                live.snapshot()
            } else {
                None
            };
            if !rows.is_empty() || dropped != last_dropped || patterns.is_some() {
                last_dropped = dropped;
                listening = send(LogBatch {
                    stream_id,
                    rows: std::mem::take(&mut rows),
                    dropped,
                    patterns,
                    done: false,
                });
                if !listening {
                    streams.stop();
                }
            }
        }
        if last_cache.elapsed() >= CACHE_EVERY {
            store = write_cache(store, &cache, &mut keeper).await;
            last_cache = Instant::now();
        }
    }
    take(reorder.flush(), &mut rows, &mut keeper, &mut live);
    let dropped = streams.dropped.get();
    streams.join().await;
    live.changed = true;
    // Cached before the last batch: once the panel sees `done`, the cache
    // holds everything that passed.
    let mut store = write_cache(store, &cache, &mut keeper).await;
    for _ in 1..FINAL_WRITE_TRIES {
        if !keeper.has_unwritten() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        store = write_cache(store, &cache, &mut keeper).await;
    }
    if listening {
        // The final batch may be large; it is still bounded by the reorder
        // cap plus one batch.
        send(LogBatch {
            stream_id,
            rows,
            dropped,
            patterns: live.snapshot(),
            done: true,
        });
    }
}

/// Runs [`pump`] and forgets the session when it ends.
pub async fn run_session(
    sessions: std::sync::Arc<LogSessions>,
    stream_id: u32,
    run: impl std::future::Future<Output = ()>,
) {
    run.await;
    sessions.close(stream_id);
}
