//! The logs commands over IPC (issue 8): argument validation, the cache
//! read offline (lines, patterns and events with their time), and a stream
//! of `checkout` across the app's own sandbox clusters, batched into a
//! channel, merged by time, folded into patterns and cached.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudops_core::analysis::logs::{Level, PatternLimits, PatternTable};
use cloudops_core::store::CachedLogLine;
use cloudops_core::store::{ClusterState, EventState};
use serde_json::json;
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::Manager;

use super::*;
use crate::commands::logs::{logs_cached, logs_follow, logs_stop, LogFollowOptions, LogTarget};
use crate::logs::LogBatch;

fn main_window(
    app: &tauri::App<tauri::test::MockRuntime>,
) -> tauri::WebviewWindow<tauri::test::MockRuntime> {
    WebviewWindowBuilder::new(app, "main", Default::default())
        .build()
        .unwrap()
}

fn kind(r: Result<serde_json::Value, serde_json::Value>) -> String {
    match r {
        Ok(v) => panic!("expected a refusal, got {v}"),
        Err(e) => e["kind"].as_str().unwrap_or_default().to_owned(),
    }
}

fn cluster_id() -> String {
    ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments")
}

#[test]
fn log_arguments_are_validated_before_anything_is_reached() {
    let dir = seeded_dir();
    let state =
        AppState::with_mode(dir.path().to_path_buf(), Mode::Live).with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = main_window(&app);
    let c = cluster_id();
    let follow = |target: serde_json::Value, options: serde_json::Value| {
        invoke_json(
            &main,
            "logs_follow",
            json!({"target": target, "options": options, "onBatch": "__CHANNEL__:7"}),
        )
    };
    let ok_opts = json!({});
    for target in [
        json!({"clusters": [c], "namespace": "Shop", "deployment": "checkout"}),
        json!({"clusters": [c], "namespace": "shop", "deployment": "check_out"}),
        json!({"clusters": [c], "namespace": "shop"}),
        json!({"clusters": [c], "namespace": "shop", "pod": "p", "deployment": "d"}),
        json!({"clusters": [], "namespace": "shop", "deployment": "checkout"}),
        json!({"clusters": vec![c.clone(); 17], "namespace": "shop", "deployment": "checkout"}),
        json!({"clusters": [c, "x"], "namespace": "shop", "pod": "checkout-1"}),
        json!({"clusters": ["a\nb"], "namespace": "shop", "deployment": "checkout"}),
        json!({"clusters": [c], "namespace": "shop", "deployment": "checkout", "container": "A"}),
    ] {
        assert_eq!(
            kind(follow(target.clone(), ok_opts.clone())),
            "invalid_argument",
            "{target}"
        );
    }
    // Exports: a name that could leave the folder, an unknown format, or
    // more than the panel can hold are refused before anything is written.
    for args in [
        json!({"name": "../etc", "format": "log", "text": "x"}),
        json!({"name": "Checkout", "format": "log", "text": "x"}),
        json!({"name": "checkout", "format": "csv", "text": "x"}),
        json!({"name": "checkout", "format": "jsonl",
               "text": "x".repeat(crate::commands::logs::MAX_LOG_EXPORT_BYTES + 1)}),
    ] {
        let got = invoke_json(&main, "logs_export", args.clone());
        assert!(got.is_err(), "{args:?} was accepted");
    }
    let target = json!({"clusters": [c], "namespace": "shop", "deployment": "checkout"});
    for options in [
        json!({"filter": "(unclosed"}),
        json!({"filter": "a".repeat(2000)}),
        // Compiles to more than the regex size limit.
        json!({"filter": "\\w{1000}\\w{1000}\\w{1000}"}),
        json!({"since_seconds": 0}),
        json!({"since_seconds": 31 * 86_400}),
        json!({"tail": 1_000_000}),
    ] {
        assert_eq!(
            kind(follow(target.clone(), options.clone())),
            "invalid_argument",
            "{options}"
        );
    }
    // Valid, but the cluster was never discovered (no accounts here).
    let err = follow(target.clone(), json!({"filter": "error|timeout"})).unwrap_err();
    assert_eq!(err["kind"], "cluster_unreachable", "{err}");
    assert!(err["hint"].as_str().unwrap().contains("cached"), "{err}");

    assert_eq!(
        kind(invoke_json(&main, "logs_stop", json!({"streamId": 0}))),
        "invalid_argument"
    );
    assert_eq!(
        invoke_json(&main, "logs_stop", json!({"streamId": 42})).unwrap(),
        json!(false)
    );
    assert_eq!(
        kind(invoke_json(
            &main,
            "logs_cached",
            json!({"target": target, "limit": 0})
        )),
        "invalid_argument"
    );
    assert_eq!(
        kind(invoke_json(
            &main,
            "logs_patterns",
            json!({"cluster": "", "sinceSeconds": null})
        )),
        "invalid_argument"
    );
    assert_eq!(
        kind(invoke_json(
            &main,
            "cluster_events",
            json!({"clusterId": "a\u{0}b"})
        )),
        "invalid_argument"
    );
}

/// Offline, the panel shows what an earlier stream cached, with its time.
#[test]
fn offline_the_cached_lines_patterns_and_events_are_read_with_their_time() {
    let dir = seeded_dir();
    let c = cluster_id();
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        let now = cloudops_core::store::now_ms();
        let line = |pod: &str, ts: i64, level: Level, text: &str| CachedLogLine {
            cluster_id: c.clone(),
            namespace: "shop".into(),
            pod: pod.into(),
            container: "app".into(),
            ts,
            level,
            line: text.into(),
        };
        store
            .append_log_lines(
                &[
                    line("checkout-a", now - 3000, Level::Info, "GET /items 200"),
                    line(
                        "checkout-a",
                        now - 2000,
                        Level::Error,
                        "order 17 rejected: code 503",
                    ),
                ],
                100,
                now,
            )
            .unwrap();
        store
            .append_log_lines(
                &[line(
                    "checkout-b",
                    now - 2500,
                    Level::Error,
                    "order 99 rejected: code 503",
                )],
                100,
                now,
            )
            .unwrap();
        // Another workload's pod is not part of the answer.
        store
            .append_log_lines(&[line("cart-a", now - 1000, Level::Info, "hi")], 100, now)
            .unwrap();
        let mut table = PatternTable::new(PatternLimits::default());
        table.observe(
            &c,
            "checkout-a",
            now - 2000,
            "ERROR order 17 rejected: code 503",
        );
        table.observe(
            &c,
            "checkout-b",
            now - 2500,
            "ERROR order 99 rejected: code 503",
        );
        store.merge_log_patterns(&c, &table.drain()).unwrap();
        store
            .apply_cluster_state(
                &c,
                &ClusterState {
                    events: Some(vec![
                        EventState {
                            namespace: "shop".into(),
                            involved_kind: "Pod".into(),
                            involved_name: "checkout-a".into(),
                            reason: "BackOff".into(),
                            type_: "Warning".into(),
                            message: "Back-off restarting failed container".into(),
                            count: 7,
                            first_seen: Some(now / 1000 - 600),
                            last_seen: Some(now / 1000 - 30),
                        },
                        EventState {
                            namespace: "shop".into(),
                            involved_kind: "Deployment".into(),
                            involved_name: "checkout".into(),
                            reason: "ScalingReplicaSet".into(),
                            type_: "Normal".into(),
                            message: "Scaled up replica set checkout-2 to 3".into(),
                            count: 1,
                            first_seen: Some(now / 1000 - 900),
                            last_seen: Some(now / 1000 - 900),
                        },
                    ]),
                    ..Default::default()
                },
                now / 1000,
            )
            .unwrap();
    }
    let app = app(dir.path());
    let main = main_window(&app);
    let target = json!({"clusters": [c], "namespace": "shop", "deployment": "checkout"});
    // Offline mode: no stream, the UI falls back to the cache.
    let err = invoke_json(
        &main,
        "logs_follow",
        json!({"target": target, "options": {}, "onBatch": "__CHANNEL__:3"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "offline", "{err}");

    let cached = invoke_json(
        &main,
        "logs_cached",
        json!({"target": target, "limit": 100}),
    )
    .unwrap();
    let rows = cached["rows"].as_array().unwrap();
    let pods: Vec<&str> = rows.iter().map(|r| r["pod"].as_str().unwrap()).collect();
    assert_eq!(pods, ["checkout-a", "checkout-b", "checkout-a"], "{cached}");
    assert_eq!(rows[2]["level"], "error");
    assert_eq!(rows[2]["pattern"], "order <NUM> rejected: code <NUM>");
    assert!(rows[0]["pattern"].is_null(), "info lines have no pattern");
    let newest = cached["newest_ms"].as_i64().unwrap();
    assert!(
        cached["now_ms"].as_i64().unwrap() - newest >= 2000,
        "{cached}"
    );
    assert_eq!(cached["patterns"][0]["count"], 2, "{cached}");
    assert_eq!(
        cached["patterns"][0]["pods"],
        json!(["checkout-a", "checkout-b"])
    );
    // The last line only.
    let one = invoke_json(&main, "logs_cached", json!({"target": target, "limit": 1})).unwrap();
    assert_eq!(one["rows"].as_array().unwrap().len(), 1);
    assert_eq!(one["rows"][0]["line"], "order 17 rejected: code 503");

    let patterns = invoke_json(
        &main,
        "logs_patterns",
        json!({"cluster": c, "sinceSeconds": 3600}),
    )
    .unwrap();
    assert_eq!(
        patterns[0]["template"], "order <NUM> rejected: code <NUM>",
        "{patterns}"
    );
    let fleet = invoke_json(
        &main,
        "logs_patterns",
        json!({"cluster": null, "sinceSeconds": null}),
    )
    .unwrap();
    assert_eq!(fleet[0]["clusters"], json!([c]));

    let events = invoke_json(&main, "cluster_events", json!({"clusterId": c})).unwrap();
    assert_eq!(
        events[0]["reason"], "BackOff",
        "most recent first: {events}"
    );
    assert_eq!(events[0]["event_type"], "Warning");
    assert_eq!(events[0]["count"], 7);
    assert_eq!(events[1]["involved_kind"], "Deployment");
}

/// Collects the batches a channel receives.
fn collecting_channel() -> (Channel<LogBatch>, Arc<Mutex<Vec<serde_json::Value>>>) {
    let got: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let sink = Arc::clone(&got);
    let channel = Channel::new(move |body| {
        if let InvokeResponseBody::Json(s) = body {
            sink.lock().unwrap().push(serde_json::from_str(&s).unwrap());
        }
        Ok(())
    });
    (channel, got)
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The app's sandbox: `checkout` in three clouds, merged by time, patterns
/// folded, the lines cached; a followed stream stops on `logs_stop`.
#[test]
fn checkout_is_streamed_across_the_sandbox_clusters_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        AppState::with_mode(dir.path().to_path_buf(), Mode::Sandbox).with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = main_window(&app);
    crate::fleet::spawn(app.handle().clone(), Mode::Sandbox);
    let mut clusters: Vec<String> = Vec::new();
    wait_for("a sandbox discovery", 60, || {
        let fleet = invoke_json(&main, "fleet_overview", json!({})).unwrap();
        clusters = fleet["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .collect();
        clusters.len() >= 4 && !app.state::<AppState>().actions().targets().is_empty()
    });
    let target = LogTarget {
        clusters: clusters.clone(),
        namespace: "shop".into(),
        pod: None,
        deployment: Some("checkout".into()),
        container: None,
    };
    let (channel, got) = collecting_channel();
    let started = tauri::async_runtime::block_on(logs_follow(
        app.handle().clone(),
        app.state(),
        target.clone(),
        LogFollowOptions {
            tail: Some(40),
            follow: Some(false),
            ..Default::default()
        },
        channel,
    ))
    .unwrap();
    assert_eq!(started.clusters.len(), clusters.len());
    assert!(started.streams >= 3, "{started:?}");
    // Clusters without checkout are named, not fatal.
    assert_eq!(started.skipped.len(), clusters.len() - 3, "{started:?}");
    wait_for("the last batch", 60, || {
        got.lock().unwrap().iter().any(|b| b["done"] == true)
    });
    let batches = got.lock().unwrap().clone();
    assert!(batches.iter().all(|b| b["stream_id"] == started.stream_id));
    let rows: Vec<&serde_json::Value> = batches
        .iter()
        .flat_map(|b| b["rows"].as_array().unwrap())
        .filter(|r| r["kind"] == "line")
        .collect();
    assert!(rows.len() >= 3 * 40, "{} lines", rows.len());
    assert!(rows
        .iter()
        .all(|r| r["line"].as_str().unwrap().len() < 4096));
    let times: Vec<i64> = rows.iter().map(|r| r["ts_ms"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "merged by time");
    let seen: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|r| r["cluster"].as_str().unwrap())
        .collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    // Every warning or error line carries its pattern; the patterns sent
    // with the last batch count exactly those.
    let last = batches.iter().find(|b| b["done"] == true).unwrap();
    let patterns = last["patterns"].as_array().unwrap();
    let keyed = rows.iter().filter(|r| !r["pattern"].is_null()).count() as u64;
    let counted: u64 = patterns.iter().map(|p| p["count"].as_u64().unwrap()).sum();
    assert_eq!(keyed, counted, "{patterns:?}");
    for p in patterns {
        let n = rows
            .iter()
            .filter(|r| r["pattern"] == p["template"])
            .count() as u64;
        assert_eq!(n, p["count"].as_u64().unwrap(), "{p}");
    }

    // What passed is in the cache for offline review.
    let cached =
        tauri::async_runtime::block_on(logs_cached(app.state(), target.clone(), 50_000)).unwrap();
    assert_eq!(cached.rows.len(), rows.len());
    assert_eq!(
        cached.patterns.iter().map(|p| p.count).sum::<u64>(),
        counted
    );

    // Followed: runs until stopped, then ends with a last batch.
    let (channel, got) = collecting_channel();
    let started = tauri::async_runtime::block_on(logs_follow(
        app.handle().clone(),
        app.state(),
        target,
        LogFollowOptions {
            tail: Some(5),
            filter: Some("GET|error".into()),
            ..Default::default()
        },
        channel,
    ))
    .unwrap();
    wait_for("followed lines", 30, || {
        got.lock()
            .unwrap()
            .iter()
            .any(|b| !b["rows"].as_array().unwrap().is_empty())
    });
    assert!(app.state::<AppState>().log_sessions().len() == 1);
    assert!(tauri::async_runtime::block_on(logs_stop(app.state(), started.stream_id)).unwrap());
    wait_for("the stream to end", 30, || {
        got.lock().unwrap().iter().any(|b| b["done"] == true)
    });
    wait_for("the session to close", 10, || {
        app.state::<AppState>().log_sessions().is_empty()
    });
    let batches = got.lock().unwrap().clone();
    for r in batches.iter().flat_map(|b| b["rows"].as_array().unwrap()) {
        if r["kind"] == "line" {
            let l = r["line"].as_str().unwrap();
            assert!(l.contains("GET") || l.contains("error"), "{l}");
        }
    }
}

/// The pump on its own: lines merged by time, a gap marker, the dropped
/// count of a full channel, the live patterns, and the cache written
/// before the last batch.
#[test]
fn the_pump_batches_lines_markers_dropped_counts_and_patterns() {
    use cloudops_cloud::logs::{follow_pods, LineSink, LogEvent, LogLine, LogOptions};

    let dir = tempfile::tempdir().unwrap();
    // Recent: the cache prunes patterns older than its retention.
    let base = cloudops_core::store::now_ms() - 60_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let batches: Arc<Mutex<Vec<LogBatch>>> = Arc::default();
    let seen = Arc::clone(&batches);
    rt.block_on(async {
        let (sink, rx) = LineSink::new(8, None).unwrap();
        let line = |pod: &str, ts_ms: i64, text: &str| LogLine {
            ts_ns: ts_ms * 1_000_000,
            cluster: "aws/prod/eu-west-1/payments".into(),
            namespace: "shop".into(),
            pod: pod.into(),
            container: "app".into(),
            level: Level::Unknown,
            line: text.into(),
            truncated: false,
        };
        // Two pods, out of order between them.
        for (pod, ts, text) in [
            (
                "checkout-b",
                (base + 400),
                "ERROR order 7 rejected: code 503",
            ),
            ("checkout-a", base + 100, "INFO GET /items 200"),
            ("checkout-b", base + 500, "INFO GET /items 200"),
            (
                "checkout-a",
                (base + 200),
                "ERROR order 9 rejected: code 503",
            ),
            ("checkout-a", base + 300, "WARN slow request took 900ms"),
            ("checkout-b", base + 600, "INFO GET /items 200"),
        ] {
            assert!(sink.offer(line(pod, ts, text)));
        }
        sink.mark(LogEvent::Gap {
            cluster: "aws/prod/eu-west-1/payments".into(),
            pod: "checkout-a".into(),
            container: "app".into(),
            last_ts_ns: Some((base + 300) * 1_000_000),
            reason: "the container restarted".into(),
        })
        .await;
        assert!(sink.offer(line("checkout-a", base + 700, "INFO started")));
        // The consumer is behind: the channel (8) is full, these are dropped.
        for i in 0..9 {
            assert!(!sink.offer(line("checkout-a", (base + 800) + i, "INFO more")));
        }
        // No readers: the events above are all there is.
        let streams = follow_pods(Vec::new(), &LogOptions::default(), &sink);
        drop(sink);
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        crate::logs::pump(
            5,
            "shop".into(),
            rx,
            streams,
            false,
            stop,
            crate::logs::CacheSink {
                data_dir: dir.path().to_path_buf(),
                keep: 100,
                rules: Default::default(),
                on_alerts: None,
            },
            move |b| {
                seen.lock().unwrap().push(b);
                true
            },
        )
        .await;
    });
    let batches = batches.lock().unwrap();
    let last = batches.last().unwrap();
    assert!(last.done);
    assert_eq!(last.dropped, 9);
    let rows: Vec<_> = batches.iter().flat_map(|b| b.rows.iter()).collect();
    assert_eq!(rows.iter().filter(|r| r.kind == "gap").count(), 1);
    let gap = rows.iter().find(|r| r.kind == "gap").unwrap();
    assert!(gap.line.contains("container restarted"), "{gap:?}");
    assert_eq!(gap.ts_ms, Some(base + 300));
    let lines: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == "line")
        .map(|r| r.ts_ms.unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            (base + 100),
            (base + 200),
            (base + 300),
            (base + 400),
            (base + 500),
            (base + 600),
            (base + 700)
        ]
    );
    let errors: Vec<_> = rows.iter().filter(|r| r.level == "error").collect();
    assert_eq!(errors.len(), 2);
    assert!(errors
        .iter()
        .all(|r| r.pattern.as_deref() == Some("order <NUM> rejected: code <NUM>")));
    let patterns = last.patterns.as_ref().unwrap();
    let rejected = patterns
        .iter()
        .find(|p| p.template == "order <NUM> rejected: code <NUM>")
        .unwrap();
    assert_eq!(rejected.count, 2);
    assert_eq!(rejected.pods, ["checkout-a", "checkout-b"]);
    assert!(patterns.iter().any(|p| p.level == "warn"), "{patterns:?}");

    // Cached before the last batch went out.
    let store = Store::open_in(dir.path()).unwrap();
    let cached = store
        .cached_workload_lines(None, "shop", "checkout", 100)
        .unwrap();
    assert_eq!(cached.len(), 7);
    let stored = store
        .log_patterns(&cloudops_core::store::LogPatternQuery::default())
        .unwrap();
    assert_eq!(
        stored
            .iter()
            .find(|p| p.template == "order <NUM> rejected: code <NUM>")
            .map(|p| p.count),
        Some(2)
    );
}

/// A cluster whose logs were seen before: a new error template streamed
/// through the pump raises an alert through the callback the app wires to
/// `alerts-changed` and the desktop notifications.
#[test]
fn a_new_error_template_in_a_stream_raises_an_alert() {
    use cloudops_cloud::logs::{follow_pods, LineSink, LogLine, LogOptions};
    use cloudops_core::analysis::alerts::AlertRule;
    use cloudops_core::analysis::logs::{PatternLimits, PatternTable};

    const CLUSTER: &str = "aws/prod/eu-west-1/payments";
    let dir = tempfile::tempdir().unwrap();
    let now = cloudops_core::store::now_ms();
    // An hour ago the cluster already had a known error template.
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        let mut table = PatternTable::new(PatternLimits::default());
        table.observe(
            CLUSTER,
            "checkout-a",
            now - 3_600_000,
            "ERROR upstream timeout",
        );
        store.merge_log_patterns(CLUSTER, &table.drain()).unwrap();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let raised: Arc<Mutex<Vec<cloudops_core::store::AlertChanges>>> = Arc::default();
    let got = Arc::clone(&raised);
    rt.block_on(async {
        let (sink, rx) = LineSink::new(64, None).unwrap();
        for i in 0..8 {
            assert!(sink.offer(LogLine {
                ts_ns: (now - 10_000 + i) * 1_000_000,
                cluster: CLUSTER.into(),
                namespace: "shop".into(),
                pod: "checkout-b".into(),
                container: "app".into(),
                level: Level::Unknown,
                line: format!("ERROR payment declined for order {}", 100 + i),
                truncated: false,
            }));
        }
        let streams = follow_pods(Vec::new(), &LogOptions::default(), &sink);
        drop(sink);
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        crate::logs::pump(
            6,
            "shop".into(),
            rx,
            streams,
            false,
            stop,
            crate::logs::CacheSink {
                data_dir: dir.path().to_path_buf(),
                keep: 100,
                rules: Default::default(),
                on_alerts: Some(Box::new(move |c| got.lock().unwrap().push(c))),
            },
            |_| true,
        )
        .await;
    });
    let raised = raised.lock().unwrap();
    let opened: Vec<_> = raised.iter().flat_map(|c| c.opened.iter()).collect();
    assert_eq!(opened.len(), 1, "{raised:?}");
    assert_eq!(opened[0].rule, AlertRule::LogNewPattern);
    assert_eq!(opened[0].cluster_id, CLUSTER);
    assert_eq!(opened[0].value, 8.0);
    assert!(
        opened[0]
            .message
            .contains("payment declined for order <NUM>"),
        "{}",
        opened[0].message
    );
}
