//! Pod logs: `GET /api/v1/namespaces/{ns}/pods/{pod}/log` with `container`,
//! `follow`, `sinceSeconds`, `sinceTime`, `tailLines`, `previous`,
//! `timestamps` and `limitBytes`, the errors the apiserver/kubelet give, and
//! a chunked body for `follow`.
//!
//! Lines are never stored: they are a pure function of (cluster seed, pod,
//! second, index), so a pod's log reads the same on every request and costs
//! nothing while nobody asks. A Ready pod logs from its container's start
//! (at most [`HISTORY_SECS`] back, as if the kubelet had rotated the rest):
//! per second, a count that follows the deployment's traffic (its rate and a
//! diurnal sine, the shape of the Prometheus model), JSON or plain text per
//! deployment, mostly info with a seeded fraction of warnings and errors.
//!
//! A pod crash-looping under a chaos bad rollout (faults.rs) logs one *run*
//! per container start: a start line, [`BURST_LINES`] errors of one
//! distinctive template ([`BURST_MESSAGE`]), and a fatal exit line. Like the
//! kubelet, the log of a crash-looping container is its last run;
//! `previous=true` gives the run before; a `follow` ends when the run ends,
//! so a following client sees the restart as the end of its stream.

use std::{
    collections::HashMap,
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use tokio::sync::{mpsc, watch as signal};

use super::{
    controllers::owner_deployment, faults::CHAOS_ROLLOUT_ANNOTATION, metrics::fnv,
    status::ApiError, ClusterKube,
};
use crate::world::rfc3339;

/// How far back a running container's log goes.
pub const HISTORY_SECS: u64 = 3600;
/// Error lines per crash-loop run.
pub const BURST_LINES: usize = 5;
/// The distinctive message of a bad rollout's crash, as a JSON reader sees
/// it (the attempt and check numbers that follow vary per line).
pub const BURST_MESSAGE: &str = "failed to load config: key \"feature.flags.checkout\" missing";
/// How often a follow looks for new lines.
const FOLLOW_TICK: Duration = Duration::from_millis(200);
/// Chunks buffered towards a slow client before the producer waits.
const BUFFER: usize = 64;
const NANOS: u64 = 1_000_000_000;

struct Chunks(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|c| c.map(Ok))
    }
}

fn text_response(body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

/// The parsed query.
struct Params {
    container: Option<String>,
    follow: bool,
    previous: bool,
    timestamps: bool,
    since_ns: Option<u64>,
    tail: Option<usize>,
    limit_bytes: Option<usize>,
}

fn flag(q: &HashMap<String, String>, k: &str) -> Result<bool, ApiError> {
    match q.get(k).map(String::as_str) {
        None => Ok(false),
        Some("true" | "1") => Ok(true),
        Some("false" | "0" | "") => Ok(false),
        Some(v) => Err(ApiError::BadRequest(format!("invalid {k}: {v:?}"))),
    }
}

fn number(q: &HashMap<String, String>, k: &str) -> Result<Option<i64>, ApiError> {
    q.get(k)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::BadRequest(format!("invalid {k}: {v:?}")))
        })
        .transpose()
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn params(q: &HashMap<String, String>, now: u64) -> Result<Params, ApiError> {
    let since_secs = number(q, "sinceSeconds")?;
    if since_secs.is_some_and(|s| s < 1) {
        return Err(ApiError::BadRequest(
            "sinceSeconds: Invalid value: must be greater than 0".into(),
        ));
    }
    let since_time = q
        .get("sinceTime")
        .map(|t| {
            t.parse::<k8s_openapi::jiff::Timestamp>()
                .map_err(|_| ApiError::BadRequest(format!("invalid sinceTime: {t:?}")))
        })
        .transpose()?;
    if since_secs.is_some() && since_time.is_some() {
        return Err(ApiError::BadRequest(
            "at most one of sinceTime or sinceSeconds may be specified".into(),
        ));
    }
    let since_ns = since_secs
        .map(|s| now.saturating_sub((s as u64).saturating_mul(NANOS)))
        .or_else(|| since_time.map(|t| t.as_nanosecond().max(0) as u64));
    let tail = number(q, "tailLines")?;
    if tail.is_some_and(|t| t < 0) {
        return Err(ApiError::BadRequest(
            "tailLines: Invalid value: must be greater than or equal to 0".into(),
        ));
    }
    let limit = number(q, "limitBytes")?;
    if limit.is_some_and(|l| l < 1) {
        return Err(ApiError::BadRequest(
            "limitBytes: Invalid value: must be greater than 0".into(),
        ));
    }
    Ok(Params {
        container: q.get("container").filter(|c| !c.is_empty()).cloned(),
        follow: flag(q, "follow")?,
        previous: flag(q, "previous")?,
        timestamps: flag(q, "timestamps")?,
        since_ns,
        tail: tail.map(|t| t as usize),
        limit_bytes: limit.map(|l| l as usize),
    })
}

/// What the lines of one container depend on.
#[derive(Clone)]
struct Source {
    seed: u64,
    pod: String,
    deployment: String,
    /// Lines per second at the diurnal mean.
    rate: f64,
    json: bool,
    error_fraction: f64,
    /// A crash-loop run (its start, ns, and number), or a running container
    /// (start ns).
    run: Run,
    /// The bad rollout's revision, for the crash message.
    revision: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Run {
    Running { start_ns: u64, restarts: i32 },
    Crash { start_ns: u64, attempt: i32 },
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The container's status, or the errors the kubelet gives.
fn container_of<'a>(
    pod: &'a Pod,
    name: &str,
    want: &Option<String>,
) -> Result<(String, Option<&'a ContainerStatus>), ApiError> {
    let containers: Vec<&str> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    let container = match want {
        Some(c) if containers.contains(&c.as_str()) => c.clone(),
        Some(c) => {
            return Err(ApiError::BadRequest(format!(
                "container {c} is not valid for pod {name}"
            )))
        }
        None if containers.len() == 1 => containers[0].to_string(),
        None => {
            return Err(ApiError::BadRequest(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )))
        }
    };
    let status = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.name == container));
    Ok((container, status))
}

fn secs_of(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> u64 {
    t.0.as_second().max(0) as u64
}

/// Where the requested lines come from, or the kubelet's 400.
fn source(
    ck: &ClusterKube,
    ns: &str,
    name: &str,
    p: &Params,
) -> Result<(Source, String), ApiError> {
    let store = ck.lock();
    let pod = store
        .pods
        .get(ns, name)
        .cloned()
        .ok_or_else(|| ApiError::NotFound {
            resource: "pods".into(),
            name: name.into(),
        })?;
    let (container, status) = container_of(&pod, name, &p.container)?;
    let waiting = |reason: &str| {
        ApiError::BadRequest(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
        ))
    };
    let Some(status) = status else {
        return Err(waiting("ContainerCreating"));
    };
    let state = status.state.clone().unwrap_or_default();
    let last_end = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map(secs_of);
    let crash_looping = status.restart_count > 0 && state.running.is_none();
    let run = if crash_looping {
        // The last run ended at `last_end`; it started a moment before.
        let attempt = status.restart_count - i32::from(p.previous);
        if attempt < 1 {
            return Err(ApiError::BadRequest(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            )));
        }
        let end = last_end.unwrap_or(0).saturating_sub(u64::from(p.previous));
        Run::Crash {
            start_ns: end.saturating_mul(NANOS),
            attempt,
        }
    } else if let Some(running) = &state.running {
        if p.previous {
            return Err(ApiError::BadRequest(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            )));
        }
        Run::Running {
            start_ns: running.started_at.as_ref().map(secs_of).unwrap_or(0) * NANOS,
            restarts: status.restart_count,
        }
    } else {
        let reason = state
            .waiting
            .as_ref()
            .and_then(|w| w.reason.clone())
            .unwrap_or_else(|| "ContainerCreating".into());
        return Err(waiting(&reason));
    };
    let deployment = owner_deployment(&store, &pod)
        .map(|k| k.1)
        .unwrap_or_default();
    let revision = owner_deployment(&store, &pod)
        .and_then(|(dns, d)| store.deployments.get(&dns, &d).cloned())
        .and_then(|d| {
            d.spec
                .template
                .metadata
                .as_ref()
                .and_then(|m| m.annotations.as_ref())
                .and_then(|a| a.get(CHAOS_ROLLOUT_ANNOTATION).cloned())
        })
        .unwrap_or_default();
    let dh = fnv(&[&ck.seed.to_le_bytes(), ns.as_bytes(), deployment.as_bytes()]);
    Ok((
        Source {
            seed: ck.seed,
            pod: name.to_string(),
            rate: 1.0 + 4.0 * unit(fnv(&[&dh.to_le_bytes(), b"rate"])),
            json: unit(fnv(&[&dh.to_le_bytes(), b"json"])) < 0.5,
            error_fraction: 0.002 + 0.02 * unit(fnv(&[&dh.to_le_bytes(), b"errors"])).powi(2),
            deployment,
            run,
            revision,
        },
        container,
    ))
}

impl Source {
    /// The lines of second `s` of a running container: (ns, text).
    fn second(&self, s: u64) -> Vec<(u64, String)> {
        let phase = unit(fnv(&[self.deployment.as_bytes(), b"phase"])) * std::f64::consts::TAU;
        let diurnal =
            1.0 + 0.35 * ((s % 86_400) as f64 / 86_400.0 * std::f64::consts::TAU + phase).sin();
        let key = fnv(&[
            &self.seed.to_le_bytes(),
            self.pod.as_bytes(),
            &s.to_le_bytes(),
        ]);
        let n = (self.rate * diurnal + unit(key)).floor().max(0.0) as u64;
        (0..n)
            .map(|k| {
                let h = fnv(&[&key.to_le_bytes(), &k.to_le_bytes()]);
                let ns = s * NANOS + k * (NANOS / n) + h % (NANOS / n / 2).max(1);
                (ns, self.line(ns, h))
            })
            .collect()
    }

    fn line(&self, ns: u64, h: u64) -> String {
        let u = unit(h);
        let x = h >> 20;
        let svc = &self.deployment;
        let (level, msg) = if u < self.error_fraction {
            if x.is_multiple_of(2) {
                (
                    "error",
                    format!(
                        "upstream timeout calling payments at 10.{}.{}.{}:8080 after {}ms (request {:08x}-{:04x}-4{:03x}-a{:03x}-{:012x})",
                        x % 200, (x >> 8) % 250, (x >> 16) % 250, 1000 + x % 4000,
                        (h >> 3) as u32, (h >> 7) as u16, (h >> 11) as u16 % 0x1000,
                        (h >> 13) as u16 % 0x1000, h % (1 << 48)
                    ),
                )
            } else {
                (
                    "error",
                    format!(
                        "order {} rejected: inventory service returned 503",
                        x % 100_000
                    ),
                )
            }
        } else if u < self.error_fraction + 0.03 {
            (
                "warn",
                format!(
                    "slow request GET /api/v1/{svc}/items/{} took {}ms (trace {:016x})",
                    x % 10_000,
                    500 + x % 2000,
                    h
                ),
            )
        } else if x.is_multiple_of(10) {
            (
                "info",
                format!("cache refreshed: {} entries in {}ms", x % 5000, x % 90),
            )
        } else {
            (
                "info",
                format!(
                    "GET /api/v1/{svc}/items/{} 200 {}ms",
                    x % 10_000,
                    2 + x % 120
                ),
            )
        };
        self.format(ns, level, &msg)
    }

    fn format(&self, ns: u64, level: &str, msg: &str) -> String {
        if self.json {
            format!(
                "{{\"ts\":\"{}\",\"level\":\"{level}\",\"logger\":\"{}\",\"msg\":\"{msg}\"}}",
                rfc3339(ns / NANOS),
                self.deployment,
                msg = msg.replace('"', "\\\"")
            )
        } else {
            format!(
                "{} {} {msg}",
                rfc3339(ns / NANOS),
                level.to_ascii_uppercase()
            )
        }
    }

    /// A crash-loop run: start, the burst, the exit.
    fn crash_run(&self, start_ns: u64, attempt: i32) -> Vec<(u64, String)> {
        let mut out = Vec::with_capacity(BURST_LINES + 2);
        out.push((
            start_ns,
            self.format(
                start_ns,
                "info",
                &format!("starting {} (rollout {})", self.deployment, self.revision),
            ),
        ));
        for k in 0..BURST_LINES as u64 {
            let ns = start_ns + (k + 1) * 20_000_000;
            // Always JSON, whatever the deployment's style: the new build
            // logs differently, which is part of what makes it stand out.
            out.push((
                ns,
                format!(
                    "{{\"level\":\"error\",\"msg\":\"{} (attempt {attempt}, check {})\",\"rollout\":\"{}\"}}",
                    BURST_MESSAGE.replace('"', "\\\""),
                    k + 1,
                    self.revision
                ),
            ));
        }
        let end = start_ns + (BURST_LINES as u64 + 1) * 20_000_000;
        out.push((end, self.format(end, "fatal", "exiting with code 1")));
        out
    }

    /// Lines with `from_ns <= ns <= to_ns`, oldest first.
    fn range(&self, from_ns: u64, to_ns: u64) -> Vec<(u64, String)> {
        match self.run {
            Run::Crash { start_ns, attempt } => self
                .crash_run(start_ns, attempt)
                .into_iter()
                .filter(|(ns, _)| *ns >= from_ns && *ns <= to_ns)
                .collect(),
            Run::Running { start_ns, .. } => {
                let from = from_ns.max(start_ns);
                let mut out = Vec::new();
                if from > to_ns {
                    return out;
                }
                for s in from / NANOS..=to_ns / NANOS {
                    out.extend(
                        self.second(s)
                            .into_iter()
                            .filter(|(ns, _)| *ns >= from && *ns <= to_ns),
                    );
                }
                out
            }
        }
    }

    /// The first ns of the history served.
    fn history_start(&self, now: u64) -> u64 {
        match self.run {
            Run::Crash { start_ns, .. } => start_ns,
            Run::Running { start_ns, .. } => start_ns.max(now.saturating_sub(HISTORY_SECS * NANOS)),
        }
    }

    /// The last `n` lines at or before `now`, not before `from`.
    fn tail(&self, n: usize, from: u64, now: u64) -> Vec<(u64, String)> {
        if let Run::Crash { .. } = self.run {
            let all = self.range(from, now);
            return all[all.len().saturating_sub(n)..].to_vec();
        }
        // Whole seconds backwards until there are enough; chunks are kept
        // apart and joined once, so a long tail stays linear.
        let mut chunks: Vec<Vec<(u64, String)>> = Vec::new();
        let mut have = 0;
        let mut s = now / NANOS;
        loop {
            let lo = (s * NANOS).max(from);
            let chunk = self.range(lo, now.min(s * NANOS + NANOS - 1));
            have += chunk.len();
            chunks.push(chunk);
            if have >= n || s * NANOS <= from || s == 0 {
                break;
            }
            s -= 1;
        }
        let out: Vec<(u64, String)> = chunks.into_iter().rev().flatten().collect();
        out[out.len().saturating_sub(n)..].to_vec()
    }
}

fn render(lines: &[(u64, String)], timestamps: bool, out: &mut Vec<u8>) {
    for (ns, text) in lines {
        if timestamps {
            out.extend_from_slice(rfc3339_nano(*ns).as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
    }
}

/// RFC 3339 with nine fractional digits, as the kubelet prefixes lines
/// (`2006-01-02T15:04:05.000000000Z07:00`).
pub fn rfc3339_nano(ns: u64) -> String {
    let secs = rfc3339(ns / NANOS);
    format!("{}.{:09}Z", secs.trim_end_matches('Z'), ns % NANOS)
}

/// The reply to a log request.
pub(crate) fn serve(
    ck: Arc<ClusterKube>,
    ns: &str,
    name: &str,
    q: &HashMap<String, String>,
    mut stop: signal::Receiver<bool>,
) -> Result<Response, ApiError> {
    let now = now_ns();
    let p = params(q, now)?;
    let (src, container) = source(&ck, ns, name, &p)?;
    let from = p.since_ns.unwrap_or(0).max(src.history_start(now));
    let first = match p.tail {
        Some(n) => src.tail(n, from, now),
        None => src.range(from, now),
    };
    let mut body = Vec::with_capacity(first.len() * 120);
    render(&first, p.timestamps, &mut body);
    if let Some(limit) = p.limit_bytes {
        body.truncate(limit);
    }
    if !p.follow || p.limit_bytes.is_some() {
        return Ok(text_response(Body::from(body)));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(BUFFER);
    let ns = ns.to_string();
    let name = name.to_string();
    tokio::spawn(async move {
        if !body.is_empty() && tx.send(Bytes::from(body)).await.is_err() {
            return;
        }
        // A crash-loop run is over once written: the container has exited.
        if let Run::Crash { .. } = src.run {
            return;
        }
        let mut cursor = now;
        let mut tick = tokio::time::interval(FOLLOW_TICK);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
                _ = tx.closed() => return,
            }
            // The container restarted or the pod went: the stream ends, as
            // the kubelet's does when the container exits.
            let same = source(
                &ck,
                &ns,
                &name,
                &Params {
                    container: Some(container.clone()),
                    follow: false,
                    previous: false,
                    timestamps: false,
                    since_ns: None,
                    tail: None,
                    limit_bytes: None,
                },
            )
            .is_ok_and(|(s, _)| s.run == src.run);
            if !same {
                return;
            }
            let to = now_ns();
            let lines = src.range(cursor + 1, to);
            cursor = to;
            if lines.is_empty() {
                continue;
            }
            let mut chunk = Vec::with_capacity(lines.len() * 120);
            render(&lines, p.timestamps, &mut chunk);
            if tx.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
        }
    });
    Ok(text_response(Body::from_stream(Chunks(rx))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(start_s: u64) -> Source {
        Source {
            seed: 7,
            pod: "checkout-abc-x2k4p".into(),
            deployment: "checkout".into(),
            rate: 3.0,
            json: false,
            error_fraction: 0.01,
            run: Run::Running {
                start_ns: start_s * NANOS,
                restarts: 0,
            },
            revision: String::new(),
        }
    }

    #[test]
    fn lines_are_deterministic_ordered_and_bounded_by_the_range() {
        let s = running(1000);
        let a = s.range(1000 * NANOS, 1010 * NANOS);
        assert_eq!(a, s.range(1000 * NANOS, 1010 * NANOS));
        assert!(a.len() > 10, "{}", a.len());
        assert!(a.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(s.range(900 * NANOS, 999 * NANOS).is_empty());
    }

    #[test]
    fn tail_gives_the_last_lines_of_the_range() {
        let s = running(1000);
        let all = s.range(1000 * NANOS, 1100 * NANOS);
        let t = s.tail(7, 1000 * NANOS, 1100 * NANOS);
        assert_eq!(t, all[all.len() - 7..]);
        assert_eq!(s.tail(100_000, 1000 * NANOS, 1100 * NANOS), all);
    }

    #[test]
    fn a_crash_run_has_the_burst() {
        let mut s = running(1000);
        s.run = Run::Crash {
            start_ns: 5 * NANOS,
            attempt: 3,
        };
        let lines = s.range(0, u64::MAX);
        let burst = lines
            .iter()
            .filter(|(_, l)| l.contains("failed to load config"))
            .count();
        assert_eq!(burst, BURST_LINES);
        assert_eq!(lines.len(), BURST_LINES + 2);
    }

    #[test]
    fn timestamps_have_nine_digits() {
        assert_eq!(
            rfc3339_nano(1_748_736_000_000_000_123),
            "2025-06-01T00:00:00.000000123Z"
        );
    }
}
