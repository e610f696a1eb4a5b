//! The Logs panel and the events timeline (issue 8). Thin over
//! `cloudops_cloud::logs` (readers, sink, reorder) and the cache
//! (`cloudops_core::store::logs`, `cluster_events`): validate, connect
//! through the last discovery's targets, and hand the events to the pump
//! (`crate::logs`), which batches them into the webview's channel.

use std::sync::Arc;

use cloudops_cloud::access::ClusterAccess;
use cloudops_cloud::logs::{
    follow_deployment, follow_pods, LineSink, LogError, LogOptions, PodRef,
    DEFAULT_CHANNEL_CAPACITY,
};
use cloudops_core::analysis::alerts::AlertRules;
use cloudops_core::store::logs::DEFAULT_LINES_PER_STREAM;
use cloudops_core::store::{merge_patterns, now_ms, LogPatternQuery, StoredPattern};
use cloudops_core::views::ExportResult;
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use super::actions::{check_label, check_subdomain};
use super::cluster::{check_text, export_dir, write_new};
use super::CommandError;
use crate::logs::{pump, row_of_cached, run_session, CacheSink, LogBatch, LogRow, PatternView};
use crate::{
    fleet::{announce_alerts, Mode},
    state::AppState,
};

/// Clusters one stream may span (a deployment across clouds).
pub const MAX_CLUSTERS: usize = 16;
const MAX_ID: usize = 512;
/// Longer filters are refused before the regex compiler sees them.
pub const MAX_FILTER: usize = 1024;
/// `since` at most 30 days back.
pub const MAX_SINCE_SECONDS: u32 = 30 * 86_400;
pub const MAX_TAIL: u32 = 100_000;
/// Cached lines one call returns.
pub const MAX_CACHED_LINES: u32 = 50_000;
pub const MAX_PATTERNS: u32 = 1000;

impl From<LogError> for CommandError {
    fn from(e: LogError) -> Self {
        CommandError {
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

/// What to read: one pod (one cluster), or a deployment in one or several
/// clusters.
#[derive(Debug, Clone, Deserialize, Serialize, TS)]
#[ts(export)]
pub struct LogTarget {
    pub clusters: Vec<String>,
    pub namespace: String,
    #[serde(default)]
    pub pod: Option<String>,
    #[serde(default)]
    pub deployment: Option<String>,
    /// Default: the pod's only (or first) container.
    #[serde(default)]
    pub container: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, TS)]
#[ts(export)]
#[serde(default)]
pub struct LogFollowOptions {
    /// Only lines newer than this many seconds.
    pub since_seconds: Option<u32>,
    /// The last N lines of each stream.
    pub tail: Option<u32>,
    /// The previous (crashed) container's log.
    pub previous: bool,
    /// A regular expression applied as the lines stream.
    pub filter: Option<String>,
    /// Keep streaming new lines (default on in the panel).
    pub follow: Option<bool>,
}

/// What `logs_follow` started.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LogFollowStarted {
    pub stream_id: u32,
    /// Pod streams opened.
    pub streams: u32,
    /// Clusters being read.
    pub clusters: Vec<String>,
    /// Clusters left out, and why (the deployment is missing there, or it
    /// is unreachable).
    pub skipped: Vec<String>,
}

/// Cached lines and patterns for offline review, with their time.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CachedLogs {
    pub rows: Vec<LogRow>,
    pub patterns: Vec<PatternView>,
    /// The newest cached line, unix ms (its age is the data's age).
    #[ts(type = "number | null")]
    pub newest_ms: Option<i64>,
    #[ts(type = "number")]
    pub now_ms: i64,
}

/// One event, folded by involved object and reason.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ClusterEvent {
    pub namespace: String,
    pub involved_kind: String,
    pub involved_name: String,
    pub reason: String,
    /// `Normal` or `Warning`.
    pub event_type: String,
    pub message: String,
    #[ts(type = "number")]
    pub count: i64,
    /// Unix seconds.
    #[ts(type = "number | null")]
    pub first_seen: Option<i64>,
    #[ts(type = "number | null")]
    pub last_seen: Option<i64>,
}

/// Checks the target's names; returns the workload name for the cache.
pub(crate) fn check_target(t: &LogTarget) -> Result<(), CommandError> {
    if t.clusters.is_empty() || t.clusters.len() > MAX_CLUSTERS {
        return Err(CommandError::invalid(format!(
            "{} clusters were named; 1 to {MAX_CLUSTERS}",
            t.clusters.len()
        )));
    }
    for c in &t.clusters {
        check_text("the cluster id", c, MAX_ID)?;
    }
    check_label("the namespace", &t.namespace)?;
    match (&t.pod, &t.deployment) {
        (Some(p), None) => {
            check_subdomain("the pod name", p)?;
            if t.clusters.len() != 1 {
                return Err(CommandError::invalid(
                    "a pod lives in one cluster: name exactly one",
                ));
            }
        }
        (None, Some(d)) => check_subdomain("the deployment name", d)?,
        _ => {
            return Err(CommandError::invalid(
                "name either a pod or a deployment, not both or neither",
            ))
        }
    }
    if let Some(c) = &t.container {
        check_label("the container name", c)?;
    }
    Ok(())
}

pub(crate) fn check_options(o: &LogFollowOptions) -> Result<(), CommandError> {
    if o.since_seconds
        .is_some_and(|s| s == 0 || s > MAX_SINCE_SECONDS)
    {
        return Err(CommandError::invalid(format!(
            "since must be 1 to {MAX_SINCE_SECONDS} seconds"
        )));
    }
    if o.tail.is_some_and(|t| t > MAX_TAIL) {
        return Err(CommandError::invalid(format!(
            "tail must be at most {MAX_TAIL} lines"
        )));
    }
    if let Some(f) = &o.filter {
        if f.len() > MAX_FILTER || f.chars().any(char::is_control) {
            return Err(CommandError::invalid(format!(
                "the filter is longer than {MAX_FILTER} characters or has control characters"
            )));
        }
    }
    Ok(())
}

fn unknown_cluster(id: &str) -> CommandError {
    CommandError {
        kind: "cluster_unreachable".into(),
        message: format!("The cluster {id} was not found by the last discovery."),
        hint: "Refresh the fleet; the cached lines and patterns are shown meanwhile.".into(),
    }
}

/// Follows the target's logs; batches arrive on `on_batch` until the
/// readers end or `logs_stop` is called with the returned id.
#[tauri::command]
pub async fn logs_follow<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    target: LogTarget,
    options: LogFollowOptions,
    on_batch: Channel<LogBatch>,
) -> Result<LogFollowStarted, CommandError> {
    check_target(&target)?;
    check_options(&options)?;
    // Compiles the filter (with a size limit) before any network call.
    let (sink, rx) =
        LineSink::new(DEFAULT_CHANNEL_CAPACITY, options.filter.as_deref()).map_err(|e| {
            CommandError {
                kind: "invalid_argument".into(),
                message: e.to_string(),
                hint: e.hint(),
            }
        })?;
    if state.mode() == Mode::Offline {
        return Err(CommandError::offline());
    }
    let targets = state.actions().targets();
    let mut accesses = Vec::new();
    let mut skipped = Vec::new();
    for id in &target.clusters {
        let Some(t) = targets.iter().find(|t| &t.cluster_id == id) else {
            skipped.push(unknown_cluster(id).message);
            continue;
        };
        match t.provider.connect(&t.cluster.locator).await {
            Ok(conn) => accesses.push((id.clone(), Arc::new(ClusterAccess::new(conn)))),
            Err(e) => skipped.push(format!("cannot connect to {id}: {e}")),
        }
    }
    if accesses.is_empty() {
        return Err(CommandError {
            kind: "cluster_unreachable".into(),
            message: skipped.join("; "),
            hint: "The cluster may be down or not yet discovered; the cached lines and patterns \
                   are shown meanwhile."
                .into(),
        });
    }
    let follow = options.follow.unwrap_or(true);
    let opts = LogOptions {
        container: target.container.clone(),
        follow,
        since_seconds: options.since_seconds.map(i64::from),
        tail_lines: options.tail.map(i64::from),
        previous: options.previous,
        ..Default::default()
    };
    let clusters: Vec<String> = accesses.iter().map(|(id, _)| id.clone()).collect();
    let streams = match (&target.pod, &target.deployment) {
        (Some(pod), _) => follow_pods(
            accesses
                .into_iter()
                .map(|(cluster, access)| PodRef {
                    cluster,
                    access,
                    namespace: target.namespace.clone(),
                    pod: pod.clone(),
                })
                .collect(),
            &opts,
            &sink,
        ),
        (None, Some(d)) => {
            let (streams, errors) =
                follow_deployment(&accesses, &target.namespace, d, &opts, &sink).await?;
            skipped.extend(errors.iter().map(ToString::to_string));
            streams
        }
        (None, None) => return Err(CommandError::invalid("name a pod or a deployment")),
    };
    // The readers hold their own clones: the channel closes when they end.
    drop(sink);
    let sessions = state.log_sessions();
    let Some((stream_id, stop)) = sessions.open() else {
        streams.stop();
        return Err(CommandError {
            kind: "too_many_streams".into(),
            message: format!(
                "{} log streams are open already.",
                crate::logs::MAX_SESSIONS
            ),
            hint: "Close another Logs panel first.".into(),
        });
    };
    let started = LogFollowStarted {
        stream_id,
        streams: u32::try_from(streams.len()).unwrap_or(u32::MAX),
        clusters,
        skipped,
    };
    // The collection pass's thresholds file; a bad one is reported by the
    // pass, and the seed thresholds apply here.
    let rules = AlertRules::load(state.base_dir()).unwrap_or_default();
    let cache = CacheSink {
        data_dir: state.data_dir(),
        keep: DEFAULT_LINES_PER_STREAM,
        rules,
        on_alerts: Some(Box::new(move |changes| {
            announce_alerts(&app, &changes, 1, now_ms() / 1000);
        })),
    };
    let namespace = target.namespace.clone();
    tauri::async_runtime::spawn(run_session(
        Arc::clone(&sessions),
        stream_id,
        pump(
            stream_id,
            namespace,
            rx,
            streams,
            follow,
            stop,
            cache,
            move |batch| on_batch.send(batch).is_ok(),
        ),
    ));
    Ok(started)
}

/// Stops a stream `logs_follow` started; `false` when it had ended already.
#[tauri::command]
pub async fn logs_stop(state: State<'_, AppState>, stream_id: u32) -> Result<bool, CommandError> {
    if stream_id == 0 {
        return Err(CommandError::invalid("stream ids start at 1"));
    }
    Ok(state.log_sessions().stop(stream_id))
}

fn stored_view(p: StoredPattern) -> PatternView {
    PatternView {
        cluster_id: p.cluster_id,
        level: p.level.as_str().into(),
        template: p.template,
        count: p.count,
        first_seen_ms: p.first_seen,
        last_seen_ms: p.last_seen,
        sample: p.sample,
        pods: p.pods,
        clusters: p.clusters,
    }
}

fn patterns_of(
    store: &cloudops_core::Store,
    clusters: &[String],
    since_ms: Option<i64>,
    limit: u32,
) -> Result<Vec<PatternView>, CommandError> {
    let mut rows = Vec::new();
    for c in clusters {
        rows.extend(store.log_patterns(&LogPatternQuery {
            cluster: Some(c.clone()),
            since_ms,
            limit: 0,
        })?);
    }
    let mut rows = if clusters.len() == 1 {
        rows
    } else {
        merge_patterns(rows)
    };
    rows.truncate(limit as usize);
    Ok(rows.into_iter().map(stored_view).collect())
}

/// The cached lines of the target (its pods in each of its clusters) and
/// the cached patterns of its clusters: what the panel shows offline.
#[tauri::command]
pub async fn logs_cached(
    state: State<'_, AppState>,
    target: LogTarget,
    limit: u32,
) -> Result<CachedLogs, CommandError> {
    check_target(&target)?;
    if limit == 0 || limit > MAX_CACHED_LINES {
        return Err(CommandError::invalid(format!(
            "{limit} cached lines were asked for; 1 to {MAX_CACHED_LINES}"
        )));
    }
    state
        .with_store(move |store| {
            let workload = target
                .pod
                .as_deref()
                .or(target.deployment.as_deref())
                .unwrap_or_default();
            let mut lines = Vec::new();
            for c in &target.clusters {
                lines.extend(store.cached_workload_lines(
                    Some(c),
                    &target.namespace,
                    workload,
                    limit,
                )?);
            }
            if let Some(container) = &target.container {
                lines.retain(|l| &l.container == container);
            }
            lines.sort_by_key(|l| l.ts);
            let cut = lines.len().saturating_sub(limit as usize);
            lines.drain(..cut);
            let patterns = patterns_of(store, &target.clusters, None, MAX_PATTERNS)?;
            Ok::<_, CommandError>(CachedLogs {
                newest_ms: lines.last().map(|l| l.ts),
                rows: lines.iter().map(row_of_cached).collect(),
                patterns,
                now_ms: now_ms(),
            })
        })
        .await
}

/// Cached error patterns of a cluster (or of the fleet, merged), seen
/// within `since_seconds`, most frequent first.
#[tauri::command]
pub async fn logs_patterns(
    state: State<'_, AppState>,
    cluster: Option<String>,
    since_seconds: Option<u32>,
) -> Result<Vec<PatternView>, CommandError> {
    if let Some(c) = &cluster {
        check_text("the cluster id", c, MAX_ID)?;
    }
    if since_seconds.is_some_and(|s| s == 0 || s > MAX_SINCE_SECONDS) {
        return Err(CommandError::invalid(format!(
            "since must be 1 to {MAX_SINCE_SECONDS} seconds"
        )));
    }
    state
        .with_store(move |store| {
            let since_ms = since_seconds.map(|s| now_ms() - i64::from(s) * 1000);
            match cluster {
                Some(c) => patterns_of(store, &[c], since_ms, MAX_PATTERNS),
                None => {
                    let rows = store.log_patterns(&LogPatternQuery {
                        cluster: None,
                        since_ms,
                        limit: 0,
                    })?;
                    Ok(merge_patterns(rows)
                        .into_iter()
                        .take(MAX_PATTERNS as usize)
                        .map(stored_view)
                        .collect())
                }
            }
        })
        .await
}

/// The cluster's events as last collected (folded by involved object and
/// reason), most recent first: the Cluster screen's timeline.
#[tauri::command]
pub async fn cluster_events(
    state: State<'_, AppState>,
    cluster_id: String,
) -> Result<Vec<ClusterEvent>, CommandError> {
    check_text("the cluster id", &cluster_id, MAX_ID)?;
    state
        .with_store(move |store| store.cluster_events(&cluster_id))
        .await
        .map(|events| {
            events
                .into_iter()
                .map(|e| ClusterEvent {
                    namespace: e.namespace,
                    involved_kind: e.involved_kind,
                    involved_name: e.involved_name,
                    reason: e.reason,
                    event_type: e.type_,
                    message: e.message,
                    count: e.count,
                    first_seen: e.first_seen,
                    last_seen: e.last_seen,
                })
                .collect()
        })
}

/// What an export of the Logs panel holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LogExportFormat {
    /// Plain lines, as shown.
    Log,
    /// One JSON document per line.
    Jsonl,
}

/// The largest export the panel can send: its 50k-line ring of lines up to
/// 1 KiB each is far below it.
pub const MAX_LOG_EXPORT_BYTES: usize = 64 * 1024 * 1024;

/// Writes the panel's lines (already rendered by the panel, in the format
/// asked) into Downloads as `logs-NAME-UNIX.log|jsonl`, never over an
/// existing file. The webview cannot save files itself: WebKitGTK inside
/// Tauri does not act on a download link.
#[tauri::command]
pub async fn logs_export(
    state: State<'_, AppState>,
    name: String,
    format: LogExportFormat,
    text: String,
) -> Result<ExportResult, CommandError> {
    check_subdomain("the export's name", &name)?;
    if text.len() > MAX_LOG_EXPORT_BYTES {
        return Err(CommandError::invalid(format!(
            "the export is {} MiB; at most {} MiB",
            text.len() / (1024 * 1024),
            MAX_LOG_EXPORT_BYTES / (1024 * 1024)
        )));
    }
    let ext = match format {
        LogExportFormat::Log => "log",
        LogExportFormat::Jsonl => "jsonl",
    };
    let file = format!("logs-{name}-{}.{ext}", now_ms() / 1000);
    let dir = export_dir().ok_or_else(|| CommandError {
        kind: "no_export_dir".into(),
        message: "There is no Downloads or home folder to export into.".into(),
        hint: "Set HOME (or XDG_DOWNLOAD_DIR) and try again.".into(),
    })?;
    state
        .blocking(move || write_new(&dir, &file, text.as_bytes()))
        .await
}
