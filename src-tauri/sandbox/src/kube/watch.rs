//! Watches: newline-delimited JSON `WatchEvent`s on a chunked response.
//!
//! - no `resourceVersion` (or `0`), or `sendInitialEvents=true`: synthetic
//!   ADDED events for the current objects first (then, for
//!   `sendInitialEvents`, the `k8s.io/initial-events-end` BOOKMARK);
//! - `resourceVersion=N`: the changes after N, from the history; an N older
//!   than the history gets one ERROR event with a 410 `Expired` Status, as
//!   the apiserver sends it, and the client re-lists;
//! - a watcher that falls too far behind is cut off the same way;
//! - the stream ends after `timeoutSeconds`, when the client goes away, or
//!   when the sandbox stops. `allowWatchBookmarks` is accepted and ignored.

use std::{
    collections::HashMap,
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use tokio::sync::{broadcast::error::RecvError, mpsc, watch as signal};

use super::{
    select::Selectors,
    status::ApiError,
    store::{EventType, Object},
    ClusterKube,
};

/// The apiserver picks 30-60 min when the client sets no timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// Lines buffered towards a slow client before the producer waits.
const BUFFER: usize = 256;

struct Lines(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Lines {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|line| line.map(Ok))
    }
}

fn line(kind: &str, object: &impl serde::Serialize) -> Option<Bytes> {
    let mut buf = Vec::with_capacity(1024);
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(kind.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    // The served types always serialize; a failure drops the one event.
    serde_json::to_writer(&mut buf, object).ok()?;
    buf.extend_from_slice(b"}\n");
    Some(Bytes::from(buf))
}

fn expired_line(requested: u64, oldest: u64) -> Option<Bytes> {
    line("ERROR", &ApiError::Expired { requested, oldest }.status())
}

fn bookmark<K: Object>(rv: u64) -> Option<Bytes> {
    line(
        "BOOKMARK",
        &serde_json::json!({
            "apiVersion": K::API_VERSION,
            "kind": K::KIND,
            "metadata": {
                "resourceVersion": rv.to_string(),
                "annotations": {"k8s.io/initial-events-end": "true"},
            },
        }),
    )
}

fn stream_response(rx: mpsc::Receiver<Bytes>) -> Response {
    let mut resp = Response::new(Body::from_stream(Lines(rx)));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

pub(crate) fn watch<K: Object>(
    ck: Arc<ClusterKube>,
    ns: Option<String>,
    sel: Selectors,
    q: &HashMap<String, String>,
    mut stop: signal::Receiver<bool>,
) -> Result<Response, ApiError> {
    let timeout = match q.get("timeoutSeconds") {
        Some(t) => Duration::from_secs(
            t.parse()
                .map_err(|_| ApiError::BadRequest(format!("invalid timeoutSeconds: {t:?}")))?,
        ),
        None => DEFAULT_TIMEOUT,
    };
    let send_initial = q.get("sendInitialEvents").is_some_and(|v| v == "true");
    let from = match q.get("resourceVersion").map(String::as_str) {
        None | Some("" | "0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::BadRequest(format!("invalid resource version: {rv:?}")))?,
        ),
    };
    let wanted =
        move |obj: &K| (ns.is_none() || obj.metadata().namespace == ns) && sel.matches(obj);

    let (tx, rx) = mpsc::channel(BUFFER);
    // Under the lock: subscribe first, then take the backlog, so that no
    // change falls between the two.
    let (mut changes, initial, backlog, mut last) = {
        let store = ck.lock();
        let changes = store.subscribe();
        match from {
            Some(rv) if !send_initial => {
                let oldest = store.oldest_watchable();
                if rv < oldest {
                    drop(store);
                    if let Some(l) = expired_line(rv, oldest) {
                        // A fresh channel has room for one line.
                        let _ = tx.try_send(l);
                    }
                    drop(tx);
                    return Ok(stream_response(rx));
                }
                (changes, Vec::new(), store.changes_after(rv), rv)
            }
            _ => {
                let initial: Vec<Arc<K>> = K::table(&store)
                    .values()
                    .filter(|o| wanted(o))
                    .cloned()
                    .collect();
                (changes, initial, Vec::new(), store.rv)
            }
        }
    };

    tokio::spawn(async move {
        let send = |l: Option<Bytes>| {
            let tx = tx.clone();
            async move {
                match l {
                    Some(l) => tx.send(l).await.is_ok(),
                    None => true,
                }
            }
        };
        for obj in &initial {
            if !send(line(EventType::Added.as_str(), obj.as_ref())).await {
                return;
            }
        }
        drop(initial);
        if send_initial && !send(bookmark::<K>(last)).await {
            return;
        }
        for change in &backlog {
            last = last.max(change.rv);
            let Some(obj) = K::unwrap(&change.object).filter(|o| wanted(o)) else {
                continue;
            };
            if !send(line(change.event.as_str(), obj.as_ref())).await {
                return;
            }
        }
        drop(backlog);
        if *stop.borrow() {
            return;
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            let change = tokio::select! {
                _ = &mut deadline => return,
                // A stop, or the sandbox gone.
                _ = stop.changed() => return,
                _ = tx.closed() => return,
                c = changes.recv() => c,
            };
            match change {
                Ok(change) => {
                    if change.rv <= last {
                        continue;
                    }
                    last = change.rv;
                    let Some(obj) = K::unwrap(&change.object).filter(|o| wanted(o)) else {
                        continue;
                    };
                    if !send(line(change.event.as_str(), obj.as_ref())).await {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Too slow: the events in between are gone.
                    let _ = send(expired_line(last, last + 1)).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
    Ok(stream_response(rx))
}
