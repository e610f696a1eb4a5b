//! The readers: one task per pod stream, through kube's `log_stream` with
//! `timestamps=true`. Lines are split with a bounded buffer (a line over
//! 1 MiB is cut while it is read, never held whole), labelled, and offered
//! to the [`LineSink`]. A followed stream that ends is asked about: the pod
//! gone ends it; otherwise it reconnects from its last timestamp (lines at
//! or before it are skipped, since `sinceTime` has second precision on real
//! apiservers) after a [`LogEvent::Gap`] naming why (the container
//! restarted, or the connection closed).

use std::{collections::HashSet, sync::Arc, time::Duration};

use cloudops_core::analysis::logs::{line_from_bytes, Level, MAX_LINE_BYTES};
use futures_util::io::AsyncReadExt;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};
use kube::api::{Api, ListParams, LogParams};
use tokio::{sync::watch, task::JoinHandle};

use super::{split_timestamp, Dropped, LineSink, LogError, LogEvent, LogLine, LogOptions};
use crate::access::ClusterAccess;

/// How often a followed deployment is listed again for new pods (a
/// rollout, a replaced pod).
pub const RESCAN_EVERY: Duration = Duration::from_secs(5);

/// One pod to read, in one cluster.
#[derive(Clone)]
pub struct PodRef {
    pub cluster: String,
    pub access: Arc<ClusterAccess>,
    pub namespace: String,
    pub pod: String,
}

/// The running readers.
pub struct LogStreams {
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    pub dropped: Dropped,
}

impl LogStreams {
    /// Asks every reader to stop (they end their streams at once).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits for every reader to end.
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

/// Starts one reader per pod; their events go to `sink`.
pub fn follow_pods(pods: Vec<PodRef>, opts: &LogOptions, sink: &LineSink) -> LogStreams {
    let (stop, rx) = watch::channel(false);
    let tasks = pods
        .into_iter()
        .map(|p| tokio::spawn(read_pod(p, opts.clone(), sink.clone(), rx.clone())))
        .collect();
    LogStreams {
        tasks,
        stop,
        dropped: sink.dropped(),
    }
}

/// The pods of a deployment (through its selector), by name.
pub async fn resolve_deployment_pods(
    cluster: &str,
    access: &ClusterAccess,
    namespace: &str,
    deployment: &str,
) -> Result<Vec<String>, LogError> {
    let client = access.client().await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let d = deployments.get(deployment).await.map_err(|e| {
        LogError::from_kube(cluster, &format!("deployment {namespace}/{deployment}"), e)
    })?;
    let selector = d
        .spec
        .selector
        .match_labels
        .as_ref()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    if selector.is_empty() {
        return Ok(Vec::new());
    }
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| LogError::from_kube(cluster, &format!("pods of {deployment}"), e))?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    names.sort();
    Ok(names)
}

/// Follows every pod of `deployment` in each of `clusters`. A cluster where
/// the deployment is missing (or unreachable) is reported in the second
/// value and skipped; it is an error only when no cluster has it. When
/// following, the deployment is listed again every [`RESCAN_EVERY`] and
/// new pods (a rollout, a replacement) are followed from their start.
pub async fn follow_deployment(
    clusters: &[(String, Arc<ClusterAccess>)],
    namespace: &str,
    deployment: &str,
    opts: &LogOptions,
    sink: &LineSink,
) -> Result<(LogStreams, Vec<LogError>), LogError> {
    let found = futures_util::future::join_all(clusters.iter().map(|(id, access)| async move {
        (
            id,
            access,
            resolve_deployment_pods(id, access, namespace, deployment).await,
        )
    }))
    .await;
    let mut pods = Vec::new();
    let mut errors = Vec::new();
    for (id, access, r) in found {
        match r {
            Ok(names) => pods.extend(names.into_iter().map(|pod| PodRef {
                cluster: id.clone(),
                access: access.clone(),
                namespace: namespace.to_string(),
                pod,
            })),
            Err(e) => errors.push(e),
        }
    }
    if pods.is_empty() && !errors.is_empty() {
        return Err(errors.remove(0));
    }
    let known: HashSet<(String, String)> = pods
        .iter()
        .map(|p| (p.cluster.clone(), p.pod.clone()))
        .collect();
    let mut streams = follow_pods(pods, opts, sink);
    if opts.follow {
        let rescan = Rescan {
            clusters: clusters.to_vec(),
            namespace: namespace.to_string(),
            deployment: deployment.to_string(),
            // New pods are read from their start.
            opts: LogOptions {
                tail_lines: None,
                since_seconds: None,
                previous: false,
                ..opts.clone()
            },
            sink: sink.clone(),
            known,
        };
        let task = tokio::spawn(rescan.run(streams.stop.subscribe()));
        streams.tasks.push(task);
    }
    Ok((streams, errors))
}

struct Rescan {
    clusters: Vec<(String, Arc<ClusterAccess>)>,
    namespace: String,
    deployment: String,
    opts: LogOptions,
    sink: LineSink,
    known: HashSet<(String, String)>,
}

impl Rescan {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut readers = Vec::new();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(RESCAN_EVERY) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() || self.sink.is_closed() {
                break;
            }
            for (id, access) in &self.clusters {
                // A failed listing is retried at the next scan; the
                // readers already running report their own problems.
                let Ok(names) =
                    resolve_deployment_pods(id, access, &self.namespace, &self.deployment).await
                else {
                    continue;
                };
                for pod in names {
                    if self.known.insert((id.clone(), pod.clone())) {
                        let p = PodRef {
                            cluster: id.clone(),
                            access: access.clone(),
                            namespace: self.namespace.clone(),
                            pod,
                        };
                        readers.push(tokio::spawn(read_pod(
                            p,
                            self.opts.clone(),
                            self.sink.clone(),
                            stop.clone(),
                        )));
                    }
                }
            }
        }
        drop(self.sink);
        for r in readers {
            let _ = r.await;
        }
    }
}

fn restart_count(pod: &Pod, container: &str) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.name == container))
        .map(|c| c.restart_count)
        .unwrap_or(0)
}

/// How a read ended.
enum ReadEnd {
    Eof,
    Stopped,
    ConsumerGone,
    Failed(String),
}

struct Labels {
    cluster: String,
    namespace: String,
    pod: String,
    container: String,
}

impl Labels {
    fn ended(&self, reason: &str, error: Option<String>) -> LogEvent {
        LogEvent::Ended {
            cluster: self.cluster.clone(),
            pod: self.pod.clone(),
            container: self.container.clone(),
            reason: reason.into(),
            error,
        }
    }
}

async fn read_pod(p: PodRef, opts: LogOptions, sink: LineSink, mut stop: watch::Receiver<bool>) {
    let what = format!("pod {}/{}", p.namespace, p.pod);
    let mut labels = Labels {
        cluster: p.cluster.clone(),
        namespace: p.namespace.clone(),
        pod: p.pod.clone(),
        container: opts.container.clone().unwrap_or_default(),
    };
    let end =
        |labels: &Labels, e: LogError| labels.ended("error", Some(format!("{e} ({})", e.hint())));
    let api = match p.access.client().await {
        Ok(c) => Api::<Pod>::namespaced(c, &p.namespace),
        Err(e) => return sink.mark(end(&labels, e.into())).await,
    };
    // The container: the one asked for, or the pod's first (as kubectl).
    let pod = match api.get(&p.pod).await {
        Ok(pod) => pod,
        Err(e) => {
            return sink
                .mark(end(&labels, LogError::from_kube(&p.cluster, &what, e)))
                .await
        }
    };
    if labels.container.is_empty() {
        labels.container = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .map(|c| c.name.clone())
            .unwrap_or_default();
    }
    let mut restarts = restart_count(&pod, &labels.container);
    let mut last_ts: Option<i64> = None;
    let mut first = true;
    let mut failures = 0u32;
    // Marked before the next new line: a reconnect that brings nothing new
    // (a crashed container not restarted yet) marks no gap.
    let mut pending_gap: Option<String> = None;
    loop {
        let lp = LogParams {
            container: Some(labels.container.clone()),
            follow: opts.follow,
            timestamps: true,
            previous: first && opts.previous,
            tail_lines: if first { opts.tail_lines } else { None },
            since_seconds: if first { opts.since_seconds } else { None },
            since_time: if first {
                None
            } else {
                last_ts.and_then(|ns| jiff::Timestamp::from_nanosecond(i128::from(ns)).ok())
            },
            ..Default::default()
        };
        let ended = match api.log_stream(&p.pod, &lp).await {
            Ok(reader) => {
                failures = 0;
                let mut read = Read {
                    labels: &labels,
                    sink: &sink,
                    follow: opts.follow,
                    last_ts: &mut last_ts,
                    pending_gap: &mut pending_gap,
                };
                read.lines(reader, &mut stop).await
            }
            Err(e) => {
                let err = LogError::from_kube(&p.cluster, &what, e);
                let waiting = matches!(&err, LogError::Refused { message, .. } if message.contains("waiting to start"));
                if first && !waiting || !opts.follow || matches!(err, LogError::NotFound { .. }) {
                    return sink.mark(end(&labels, err)).await;
                }
                failures += 1;
                if failures > opts.max_reconnects {
                    return sink.mark(end(&labels, err)).await;
                }
                ReadEnd::Failed(err.to_string())
            }
        };
        first = false;
        match ended {
            ReadEnd::Stopped => return sink.mark(labels.ended("stopped", None)).await,
            ReadEnd::ConsumerGone => return,
            _ if !opts.follow => return sink.mark(labels.ended("complete", None)).await,
            _ => {}
        }
        let delay = opts.reconnect_delay * failures.max(1);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return sink.mark(labels.ended("stopped", None)).await,
        }
        // Why did the stream end? Asked right before reconnecting, so that
        // a restart during the wait is seen before its lines arrive.
        let reason = match (&ended, api.get(&p.pod).await) {
            (_, Err(kube::Error::Api(s))) if s.code == 404 => {
                return sink.mark(labels.ended("pod deleted", None)).await;
            }
            (_, Ok(pod)) if restart_count(&pod, &labels.container) != restarts => {
                restarts = restart_count(&pod, &labels.container);
                format!("container restarted (restarts: {restarts})")
            }
            (ReadEnd::Failed(e), _) => format!("reconnecting after: {e}"),
            _ => "connection closed".to_string(),
        };
        // Nothing streamed yet (a container still starting): no gap. A
        // restart is the reason worth keeping over a closed connection.
        if last_ts.is_some() && (pending_gap.is_none() || reason.starts_with("container restarted"))
        {
            pending_gap = Some(reason);
        }
    }
}

/// One read of a stream, with the reader's state it updates.
struct Read<'a> {
    labels: &'a Labels,
    sink: &'a LineSink,
    follow: bool,
    last_ts: &'a mut Option<i64>,
    pending_gap: &'a mut Option<String>,
}

impl Read<'_> {
    /// Reads lines until the end of the stream, a stop or a gone consumer.
    async fn lines(
        &mut self,
        reader: impl futures_util::io::AsyncBufRead,
        stop: &mut watch::Receiver<bool>,
    ) -> ReadEnd {
        let mut reader = std::pin::pin!(reader);
        let mut chunk = vec![0u8; 64 * 1024];
        // The line being assembled, never more than MAX_LINE_BYTES + a
        // timestamp: the rest of a longer line is skipped as it arrives.
        let mut pending: Vec<u8> = Vec::new();
        let mut overflow = false;
        let cap = MAX_LINE_BYTES + 64;
        loop {
            if *stop.borrow() {
                return ReadEnd::Stopped;
            }
            let n = tokio::select! {
                r = reader.read(&mut chunk) => match r {
                    Ok(n) => n,
                    Err(e) => return ReadEnd::Failed(e.to_string()),
                },
                _ = stop.changed() => return ReadEnd::Stopped,
            };
            if n == 0 {
                if !pending.is_empty() {
                    self.line(&pending, overflow).await;
                }
                return ReadEnd::Eof;
            }
            let mut rest = &chunk[..n];
            while !rest.is_empty() {
                let (take, newline) = match rest.iter().position(|b| *b == b'\n') {
                    Some(i) => (i, true),
                    None => (rest.len(), false),
                };
                if !overflow {
                    let room = cap.saturating_sub(pending.len());
                    pending.extend_from_slice(&rest[..take.min(room)]);
                    overflow = take > room;
                }
                if newline {
                    self.line(&pending, overflow).await;
                    pending.clear();
                    overflow = false;
                    rest = &rest[take + 1..];
                } else {
                    rest = &[];
                }
            }
            if self.sink.is_closed() {
                return ReadEnd::ConsumerGone;
            }
        }
    }

    /// One complete line: the pending gap first, then the line.
    async fn line(&mut self, raw: &[u8], overflow: bool) {
        let before = *self.last_ts;
        let Some(line) = label(raw, overflow, self.labels, self.last_ts) else {
            return;
        };
        if let Some(reason) = self.pending_gap.take() {
            self.sink
                .mark(LogEvent::Gap {
                    cluster: self.labels.cluster.clone(),
                    pod: self.labels.pod.clone(),
                    container: self.labels.container.clone(),
                    last_ts_ns: before,
                    reason,
                })
                .await;
        }
        deliver(self.sink, line, self.follow).await;
    }
}

/// Followed lines are dropped (and counted) when the consumer is behind;
/// a one-off request waits for it instead.
async fn deliver(sink: &LineSink, line: LogLine, follow: bool) {
    if follow {
        sink.offer(line);
    } else {
        sink.offer_wait(line).await;
    }
}

/// The labelled line, or `None` for a line already seen before a reconnect.
fn label(
    raw: &[u8],
    overflow: bool,
    labels: &Labels,
    last_ts: &mut Option<i64>,
) -> Option<LogLine> {
    let (text, cut) = line_from_bytes(raw);
    let (ts_ns, line) = match split_timestamp(&text) {
        Some((ts, rest)) => (ts, rest.to_string()),
        None => (now_ns(), text.clone()),
    };
    // After a reconnect, `sinceTime` may repeat lines already seen.
    if last_ts.is_some_and(|last| ts_ns <= last) {
        return None;
    }
    *last_ts = Some(ts_ns);
    let mut line = line;
    let truncated = cut || overflow;
    if overflow && !cut {
        line.push_str(cloudops_core::analysis::logs::TRUNCATION_MARKER);
    }
    Some(LogLine {
        ts_ns,
        cluster: labels.cluster.clone(),
        namespace: labels.namespace.clone(),
        pod: labels.pod.clone(),
        container: labels.container.clone(),
        level: Level::Unknown,
        line,
        truncated,
    })
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}
