//! Pod logs from the clusters (issue 8): follow one pod/container, every pod
//! of a deployment, or the same deployment across clusters, labelled by
//! cluster/pod/container and merged by the kubelet's timestamps.
//!
//! - `follow.rs`: one task per pod stream over kube's `log_stream`
//!   (`timestamps=true`), reconnecting after a container restart or a
//!   dropped connection, with a [`LogEvent::Gap`] where it resumed;
//! - here: the line type, the bounded [`LineSink`] every reader writes
//!   through (filter, level, `try_send`, dropped count), and the
//!   [`Reorder`] buffer that merges streams by timestamp;
//! - `keeper.rs`: what a consumer keeps for the cache (patterns, recent
//!   lines) and how it is written, shared by the app and the CLI.
//!
//! Memory is bounded by construction: the channel holds at most
//! `capacity` events; a reader whose consumer is behind drops lines (and
//! counts them) instead of queueing; a line over 1 MiB is cut while it is
//! read; the reorder buffer has a cap and releases its oldest when full.

mod follow;
mod keeper;

pub use follow::{
    follow_deployment, follow_pods, resolve_deployment_pods, LogStreams, PodRef, RESCAN_EVERY,
};
pub use keeper::{LogKeeper, PendingLogs, MAX_UNWRITTEN_PATTERN_SETS};

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap, HashSet},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use cloudops_core::analysis::logs::{parse_line, Level};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::access::AccessError;

/// Events buffered between the readers and the consumer by default.
pub const DEFAULT_CHANNEL_CAPACITY: usize = 4096;
/// Lines held to put streams in timestamp order by default.
pub const DEFAULT_REORDER_CAPACITY: usize = 8192;
/// How long a followed line waits for older lines from slower streams.
pub const DEFAULT_REORDER_WINDOW: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("{what} not found in cluster {cluster}")]
    NotFound { cluster: String, what: String },
    /// The apiserver refused the request (400): an unknown container, a
    /// container still waiting to start, no previous container.
    #[error("cluster {cluster} refused the log request: {message}")]
    Refused { cluster: String, message: String },
    #[error("cluster {cluster} answered {code}: {message}")]
    Api {
        cluster: String,
        code: u16,
        message: String,
    },
    #[error("talking to cluster {cluster} failed: {detail}")]
    Transport { cluster: String, detail: String },
    #[error("the filter is not a valid regular expression: {0}")]
    BadFilter(String),
}

impl LogError {
    pub fn kind(&self) -> &'static str {
        match self {
            LogError::Access(_) => "cluster_access",
            LogError::NotFound { .. } => "not_found",
            LogError::Refused { .. } => "log_request_refused",
            LogError::Api { .. } => "cluster_api",
            LogError::Transport { .. } => "cluster_unreachable",
            LogError::BadFilter(_) => "bad_filter",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            LogError::Access(_) => {
                "Check the account's credentials with `cloudops accounts test`.".into()
            }
            LogError::NotFound { .. } => {
                "Check the namespace and the name (`cloudops workloads --search NAME`).".into()
            }
            LogError::Refused { message, .. } if message.contains("is not valid for pod") => {
                "Leave --container out to use the pod's only container, or name one the pod has."
                    .into()
            }
            LogError::Refused { message, .. } if message.contains("waiting to start") => {
                "The container has not started yet; try again in a moment.".into()
            }
            LogError::Refused { .. } => {
                "Check the options (--previous needs a restarted container).".into()
            }
            LogError::Api { .. } | LogError::Transport { .. } => {
                "The cluster may be down or unreachable; `cloudops refresh --once` shows its state."
                    .into()
            }
            LogError::BadFilter(_) => "Use a regular expression such as `error|timeout`.".into(),
        }
    }

    pub(crate) fn from_kube(cluster: &str, what: &str, e: kube::Error) -> LogError {
        match e {
            kube::Error::Api(s) if s.code == 404 => LogError::NotFound {
                cluster: cluster.into(),
                what: what.into(),
            },
            kube::Error::Api(s) if s.code == 400 => LogError::Refused {
                cluster: cluster.into(),
                message: s.message.clone(),
            },
            kube::Error::Api(s) => LogError::Api {
                cluster: cluster.into(),
                code: s.code,
                message: s.message.clone(),
            },
            other => LogError::Transport {
                cluster: cluster.into(),
                detail: other.to_string(),
            },
        }
    }
}

/// One line, labelled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// Unix nanoseconds from the kubelet's timestamp (the receive time when
    /// the line had none).
    pub ts_ns: i64,
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub level: Level,
    pub line: String,
    /// Cut at 1 MiB.
    pub truncated: bool,
}

/// What the readers send.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LogEvent {
    Line(LogLine),
    /// The stream of a container stopped and resumed: lines between
    /// `last_ts_ns` and the next line may be missing.
    Gap {
        cluster: String,
        pod: String,
        container: String,
        last_ts_ns: Option<i64>,
        reason: String,
    },
    /// A stream ended for good (pod deleted, an error, or not following).
    Ended {
        cluster: String,
        pod: String,
        container: String,
        reason: String,
        error: Option<String>,
    },
}

impl LogEvent {
    /// The time the event sorts by.
    pub fn ts_ns(&self) -> Option<i64> {
        match self {
            LogEvent::Line(l) => Some(l.ts_ns),
            _ => None,
        }
    }
}

/// Lines dropped because the consumer was behind, shared by all readers.
#[derive(Debug, Clone, Default)]
pub struct Dropped(Arc<AtomicU64>);

impl Dropped {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// The filter, level and back-pressure every reader writes through.
#[derive(Clone)]
pub struct LineSink {
    tx: mpsc::Sender<LogEvent>,
    filter: Option<regex::Regex>,
    dropped: Dropped,
}

impl LineSink {
    /// A sink and the receiver for its events (`capacity` at least 1).
    pub fn new(
        capacity: usize,
        filter: Option<&str>,
    ) -> Result<(LineSink, mpsc::Receiver<LogEvent>), LogError> {
        let filter = filter
            .filter(|f| !f.is_empty())
            .map(|f| {
                regex::RegexBuilder::new(f)
                    // A pathological pattern must not eat the memory bound.
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| LogError::BadFilter(e.to_string()))
            })
            .transpose()?;
        let (tx, rx) = mpsc::channel(capacity.max(1));
        Ok((
            LineSink {
                tx,
                filter,
                dropped: Dropped::default(),
            },
            rx,
        ))
    }

    pub fn dropped(&self) -> Dropped {
        self.dropped.clone()
    }

    /// Offers one line: `false` when the filter rejects it or the consumer
    /// is behind (then it is counted as dropped).
    pub fn offer(&self, mut line: LogLine) -> bool {
        if let Some(f) = &self.filter {
            if !f.is_match(&line.line) {
                return false;
            }
        }
        line.level = parse_line(&line.line).level;
        match self.tx.try_send(LogEvent::Line(line)) {
            Ok(()) => true,
            Err(_) => {
                self.dropped.add();
                false
            }
        }
    }

    /// Like [`LineSink::offer`], but waits for room instead of dropping:
    /// for a request that is not followed, where every line is asked for
    /// and the reader can slow the server down (TCP back-pressure) rather
    /// than lose lines. Memory stays bounded by the channel either way.
    pub async fn offer_wait(&self, mut line: LogLine) -> bool {
        if let Some(f) = &self.filter {
            if !f.is_match(&line.line) {
                return false;
            }
        }
        line.level = parse_line(&line.line).level;
        self.tx.send(LogEvent::Line(line)).await.is_ok()
    }

    /// Sends a gap or end marker, waiting for room: markers are rare and
    /// must not be lost.
    pub async fn mark(&self, event: LogEvent) {
        let _ = self.tx.send(event).await;
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Puts lines from several streams in timestamp order. Each stream is in
/// order already, so a line can go once every open stream has reached its
/// time (the watermark: the least of the streams' latest lines, once the
/// expected streams have all spoken), or once it is older than the newest
/// line minus the window (a quiet stream must not hold the others back), or
/// when the buffer is full (its oldest first: the memory bound wins over
/// exact order). Markers pass straight through; an `Ended` closes its
/// stream.
pub struct Reorder {
    heap: BinaryHeap<Reverse<Held>>,
    seq: u64,
    newest: i64,
    window_ns: i64,
    capacity: usize,
    /// The latest line time of each open stream.
    latest: HashMap<(String, String, String), i64>,
    /// Streams seen (a line or an end), and how many to wait for.
    seen: HashSet<(String, String, String)>,
    expected: usize,
}

/// A held line, ordered by (time, arrival).
struct Held {
    ts: i64,
    seq: u64,
    line: LogLine,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.ts, self.seq) == (other.ts, other.seq)
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.ts, self.seq).cmp(&(other.ts, other.seq))
    }
}

impl Reorder {
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            heap: BinaryHeap::new(),
            seq: 0,
            newest: i64::MIN,
            window_ns: window.as_nanos().min(i64::MAX as u128) as i64,
            capacity: capacity.max(1),
            latest: HashMap::new(),
            seen: HashSet::new(),
            expected: 0,
        }
    }

    /// Releases by watermark, once `n` streams have spoken (0: never, the
    /// window alone decides).
    pub fn expect_streams(mut self, n: usize) -> Self {
        self.expected = n;
        self
    }

    /// Only with a known set of streams: in a follow, streams come and go
    /// (rescans) and the window alone decides.
    fn watermark(&self) -> Option<i64> {
        if self.expected == 0 || self.seen.len() < self.expected {
            return None;
        }
        self.latest.values().min().copied()
    }

    /// Adds an event; returns what can be released now, in order.
    pub fn push(&mut self, event: LogEvent) -> Vec<LogEvent> {
        let mut out = Vec::new();
        match event {
            LogEvent::Line(l) => {
                self.newest = self.newest.max(l.ts_ns);
                let key = (l.cluster.clone(), l.pod.clone(), l.container.clone());
                let latest = self.latest.entry(key.clone()).or_insert(l.ts_ns);
                *latest = (*latest).max(l.ts_ns);
                self.seen.insert(key);
                self.seq += 1;
                self.heap.push(Reverse(Held {
                    ts: l.ts_ns,
                    seq: self.seq,
                    line: l,
                }));
                while self.heap.len() > self.capacity {
                    if let Some(Reverse(h)) = self.heap.pop() {
                        out.push(LogEvent::Line(h.line));
                    }
                }
                self.release_due(&mut out);
            }
            LogEvent::Ended {
                cluster,
                pod,
                container,
                reason,
                error,
            } => {
                let key = (cluster, pod, container);
                self.latest.remove(&key);
                self.seen.insert(key.clone());
                self.release_due(&mut out);
                out.push(LogEvent::Ended {
                    cluster: key.0,
                    pod: key.1,
                    container: key.2,
                    reason,
                    error,
                });
            }
            other => out.push(other),
        }
        out
    }

    fn release_due(&mut self, out: &mut Vec<LogEvent>) {
        let by_window = self.newest.saturating_sub(self.window_ns);
        // With every expected stream ended, nothing older can come.
        let by_mark = match self.watermark() {
            None if self.expected > 0 && self.seen.len() >= self.expected => i64::MAX,
            other => other.unwrap_or(i64::MIN),
        };
        self.release(by_window.max(by_mark), out);
    }

    fn release(&mut self, upto: i64, out: &mut Vec<LogEvent>) {
        while self.heap.peek().is_some_and(|Reverse(h)| h.ts <= upto) {
            if let Some(Reverse(h)) = self.heap.pop() {
                out.push(LogEvent::Line(h.line));
            }
        }
    }

    /// Releases lines older than `now_ns` minus the window (for a quiet
    /// stream, called on a timer).
    pub fn tick(&mut self, now_ns: i64) -> Vec<LogEvent> {
        let mut out = Vec::new();
        self.release(now_ns.saturating_sub(self.window_ns), &mut out);
        out
    }

    /// Everything left, in order.
    pub fn flush(&mut self) -> Vec<LogEvent> {
        let mut out = Vec::new();
        self.release(i64::MAX, &mut out);
        out
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// Options of a log request.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub container: Option<String>,
    pub follow: bool,
    pub since_seconds: Option<i64>,
    pub tail_lines: Option<i64>,
    pub previous: bool,
    /// Consecutive failed reconnects before a followed stream gives up.
    pub max_reconnects: u32,
    pub reconnect_delay: Duration,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            container: None,
            follow: false,
            since_seconds: None,
            tail_lines: None,
            previous: false,
            max_reconnects: 5,
            reconnect_delay: Duration::from_millis(300),
        }
    }
}

/// Splits the kubelet's `timestamps=true` prefix off a line.
pub fn split_timestamp(line: &str) -> Option<(i64, &str)> {
    let (ts, rest) = line.split_once(' ')?;
    let t: jiff::Timestamp = ts.parse().ok()?;
    Some((
        t.as_nanosecond().clamp(i64::MIN as i128, i64::MAX as i128) as i64,
        rest,
    ))
}

#[cfg(test)]
mod tests;
