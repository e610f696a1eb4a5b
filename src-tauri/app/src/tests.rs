//! The real handler list and the real capabilities on Tauri's mock runtime:
//! what a window may call is decided by `capabilities/`, and this checks it.

use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

use cloudops_core::{ClusterSummary, FleetOverview, NodePoolSummary, Provider, Store};

use super::*;

mod actions;
mod budgets;
mod cost;
mod failover;
mod failover_traffic;
mod logs;
mod nodepool;

fn request(cmd: &str) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::default(),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    }
}

fn app(data_dir: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
    configure(mock_builder(), AppState::new(data_dir.to_path_buf()))
        .build(context())
        .unwrap()
}

fn seeded_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    store
        .upsert_clusters(&[ClusterSummary {
            id: ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments"),
            provider: Provider::Aws,
            account: "prod".into(),
            name: "payments".into(),
            region: "eu-west-1".into(),
            version: Some("1.31".into()),
            status: "ACTIVE".into(),
            endpoint: None,
            node_pools: vec![NodePoolSummary {
                name: "general".into(),
                count: 3,
                min: Some(1),
                max: Some(6),
                machine_type: Some("m6i.large".into()),
            }],
            collected_at: 1_700_000_000,
            gone_at: None,
        }])
        .unwrap();
    dir
}

#[test]
fn the_main_window_reads_the_fleet_from_the_cache() {
    let dir = seeded_dir();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();

    let body = get_ipc_response(&main, request("fleet_overview")).expect("fleet_overview refused");
    let fleet: FleetOverview = body.deserialize().unwrap();
    assert_eq!(fleet.clusters.len(), 1);
    assert_eq!(fleet.clusters[0].name, "payments");
    assert_eq!(fleet.clusters[0].node_count(), 3);
    assert!(fleet.cache.path.ends_with("cache.sqlite3"));

    let info: AppInfo = serde_json::from_value(
        get_ipc_response(&main, request("app_info"))
            .expect("app_info refused")
            .deserialize()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(info.data_dir, dir.path().display().to_string());
}

#[test]
fn every_registered_command_is_granted_to_the_main_window() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    for name in COMMAND_NAMES {
        if let Err(e) = get_ipc_response(&main, request(name)) {
            assert!(
                !e.to_string().contains("not allowed"),
                "{name} is registered but the capability refuses it: {e}"
            );
        }
    }
}

#[test]
fn a_command_missing_from_the_capability_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    // Tauri's own window commands exist in every app, but our capability
    // grants none of them: closing the window from script must be refused.
    let err = get_ipc_response(&main, request("plugin:window|close")).unwrap_err();
    assert!(err.to_string().contains("not allowed"), "{err}");

    // Our own commands are granted to the main window only: another window
    // (a future pop-out, or an injected one) gets nothing.
    let other = WebviewWindowBuilder::new(&app, "other", Default::default())
        .build()
        .unwrap();
    let err = get_ipc_response(&other, request("fleet_overview")).unwrap_err();
    assert!(err.to_string().contains("not allowed"), "{err}");
}

#[test]
fn a_broken_cache_is_a_command_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join(cloudops_core::store::CACHE_FILE_NAME);
    std::fs::write(&cache, b"not sqlite at all, just text".repeat(100)).unwrap();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let err = get_ipc_response(&main, request("fleet_overview")).unwrap_err();
    let err: CommandError = serde_json::from_value(err).unwrap();
    assert_eq!(err.kind, "cache_not_a_database");
    assert!(
        err.message.contains(&cache.display().to_string()),
        "{}",
        err.message
    );
    assert!(!err.hint.is_empty());
}

#[test]
fn offline_mode_reports_itself_and_refuses_a_refresh_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let info: AppInfo = serde_json::from_value(
        get_ipc_response(&main, request("app_info"))
            .unwrap()
            .deserialize()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info.mode, Mode::Offline);
    let err = get_ipc_response(&main, request("refresh_fleet")).unwrap_err();
    let err: CommandError = serde_json::from_value(err).unwrap();
    assert_eq!(err.kind, "offline");
    assert!(err.hint.contains("without --offline"), "{}", err.hint);
}

#[test]
fn live_mode_is_chosen_only_when_a_cloud_is_configured() {
    use crate::fleet::live_accounts_configured;
    assert!(!live_accounts_configured(|_| None));
    assert!(!live_accounts_configured(|_| Some("  ".into())));
    assert!(live_accounts_configured(|k| {
        (k == "DIGITALOCEAN_ACCESS_TOKEN").then(|| "t".into())
    }));
    assert!(live_accounts_configured(
        |k| (k == "AWS_PROFILE").then(|| "prod".into())
    ));
}

fn invoke_json(
    window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, serde_json::Value> {
    let mut req = request(cmd);
    req.body = InvokeBody::Json(body);
    get_ipc_response(window, req).map(|b| b.deserialize::<serde_json::Value>().unwrap())
}

/// Every file under `dir`, for grepping.
fn all_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// BRIEF R5: secrets typed into the app reach the keyring and nothing else.
/// Two planted secrets go in through `account_save`: one the sandbox's DOKS
/// API accepts (so clusters flow into the cache), one its ARM API refuses
/// (so the error paths run too). Then the cache dir, the log file and every
/// Fleet/Accounts IPC reply are searched for them.
#[test]
fn planted_secrets_never_reach_the_cache_logs_or_ipc_replies() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    // Every log line at every level goes to this file for the test.
    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("app.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let installed = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(Mutex::new(log_file))
        .try_init()
        .is_ok();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = {
        let _in = runtime.enter();
        cloudops_sandbox::Sandbox::start(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            cloudops_sandbox::World::default(),
        )
        .unwrap()
    };
    let vars = sandbox.env_map();
    let do_token = vars["DIGITALOCEAN_ACCESS_TOKEN"].clone();
    let planted = "planted-arm-secret-7f3e9c1d5b";

    let dir = tempfile::tempdir().unwrap();
    let keyring = cloudops_cloud::secrets::Secrets::mock();
    let state = AppState::with_mode(dir.path().to_path_buf(), Mode::Live)
        .with_secrets(keyring.clone())
        // Never the developer's own cloud variables.
        .with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    // The mock runtime has no event loop, so `setup` never runs: start the
    // discovery loop as setup does.
    crate::fleet::spawn(app.handle().clone(), Mode::Live);

    let mut replies: Vec<String> = Vec::new();
    let mut record = |r: Result<serde_json::Value, serde_json::Value>| {
        let text = match &r {
            Ok(v) | Err(v) => v.to_string(),
        };
        replies.push(text);
        r
    };
    record(invoke_json(
        &main,
        "account_save",
        serde_json::json!({"input": {
            "name": "do-sandbox", "provider": "do",
            "endpoint": vars["CLOUDOPS_DO_ENDPOINT"], "secret": do_token,
        }}),
    ))
    .expect("saving the DOKS account");
    record(invoke_json(
        &main,
        "account_save",
        serde_json::json!({"input": {
            "name": "azure-refused", "provider": "azure",
            "endpoint": vars["CLOUDOPS_ARM_ENDPOINT"], "secret": planted,
        }}),
    ))
    .expect("saving the Azure account");
    // A refused save (bad name) echoes its input nowhere either.
    let refused = record(invoke_json(
        &main,
        "account_save",
        serde_json::json!({"input": {
            "name": "bad name", "provider": "azure", "secret": planted,
        }}),
    ));
    assert!(refused.is_err());
    assert_eq!(
        keyring.get("azure-refused").unwrap().as_deref(),
        Some(planted)
    );

    // The discovery loop picks the accounts up and fills the cache.
    let deadline = Instant::now() + Duration::from_secs(60);
    let fleet = loop {
        let fleet = record(invoke_json(&main, "fleet_overview", serde_json::json!({}))).unwrap();
        let discovered = fleet["clusters"].as_array().is_some_and(|c| !c.is_empty());
        let failed_recorded = fleet["last_discovery"]["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty());
        if discovered && failed_recorded {
            break fleet;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: String = log.lines().rev().take(40).collect::<Vec<_>>().join("\n");
            panic!("no discovery within 60 s: {fleet}\nlog (last lines, newest first):\n{tail}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(fleet["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["provider"] == "do"));
    let listed = record(invoke_json(&main, "accounts_list", serde_json::json!({}))).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["has_secret"] == true));
    let ok = record(invoke_json(
        &main,
        "account_test",
        serde_json::json!({"name": "do-sandbox"}),
    ))
    .unwrap();
    assert_eq!(ok["ok"], true, "{ok}");
    let refused = record(invoke_json(
        &main,
        "account_test",
        serde_json::json!({"name": "azure-refused"}),
    ))
    .unwrap();
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["errors"][0]["kind"], "unauthorized", "{refused}");
    record(invoke_json(&main, "app_info", serde_json::json!({}))).unwrap();

    for (i, reply) in replies.iter().enumerate() {
        for secret in [planted, do_token.as_str()] {
            assert!(
                !reply.contains(secret),
                "IPC reply {i} carries a secret: {reply}"
            );
        }
    }
    drop(app);
    let files = all_files(dir.path());
    assert!(
        files.iter().any(|f| f.ends_with("accounts.toml")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("cache.sqlite3")),
        "{files:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in [planted, do_token.as_str()] {
            assert!(!text.contains(secret), "{} holds a secret", file.display());
        }
    }
    assert!(
        installed,
        "another test installed a global log subscriber first"
    );
    std::io::stdout().flush().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("account saved"),
        "the log captured nothing: {log}"
    );
    for secret in [planted, do_token.as_str()] {
        assert!(!log.contains(secret), "the log holds a secret");
    }
    drop(sandbox);
}

#[test]
fn fleet_health_reads_scores_and_recorded_history_from_the_cache() {
    let dir = seeded_dir();
    let now = cloudops_core::store::now_ms() / 1000;
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        // Two passes an hour apart: the cluster has no samples, so both
        // record it as unknown.
        for at in [now - 3600, now - 60] {
            let fleet = commands::health::record_scores(&mut store, at).unwrap();
            assert_eq!(fleet.clusters.len(), 1);
            assert_eq!(fleet.value, None);
        }
    }
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let view =
        invoke_json(&main, "fleet_health", serde_json::json!({})).expect("fleet_health refused");
    assert_eq!(view["fleet"], serde_json::Value::Null);
    assert_eq!(view["unknown"], 1);
    let cluster = &view["clusters"][0];
    assert_eq!(
        cluster["cluster_id"],
        ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments")
    );
    assert_eq!(
        cluster["score"],
        serde_json::Value::Null,
        "unknown, never 100"
    );
    assert_eq!(cluster["basis"], "none");
    let history = cluster["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(history.iter().all(|p| p["score"].is_null()));
    assert_eq!(view["fleet_history"].as_array().unwrap().len(), 2);
}

#[test]
fn alerts_are_listed_acknowledged_and_resolved_over_ipc() {
    use cloudops_core::analysis::alerts::{alert_key, AlertRule, Firing};
    use cloudops_core::analysis::anomaly::Severity;
    use cloudops_core::store::AlertPolicy;

    let dir = seeded_dir();
    let cluster = ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments");
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        let subject = "service/checkout";
        store
            .apply_firings(
                1_700_000_000,
                std::slice::from_ref(&cluster),
                &[Firing {
                    key: alert_key(&cluster, subject, AlertRule::ServiceP95),
                    cluster_id: cluster.clone(),
                    subject: subject.into(),
                    rule: AlertRule::ServiceP95,
                    severity: Severity::Critical,
                    value: 5.5,
                    threshold: 5.0,
                    message: "p95 5.5 s in checkout on payments (threshold 5 s)".into(),
                }],
                &AlertPolicy::default(),
            )
            .unwrap();
    }
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let list = |query: serde_json::Value| {
        invoke_json(&main, "alerts_list", serde_json::json!({ "query": query }))
    };
    let all = list(serde_json::json!({ "state": null, "cluster": null, "limit": null })).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert_eq!(all[0]["severity"], "critical");
    assert_eq!(all[0]["state"], "open");
    let id = all[0]["id"].as_i64().unwrap();

    let acked = invoke_json(&main, "alert_acknowledge", serde_json::json!({ "id": id })).unwrap();
    assert_eq!(acked["state"], "acknowledged");
    let open =
        list(serde_json::json!({ "state": "open", "cluster": &cluster, "limit": 10 })).unwrap();
    assert_eq!(open, serde_json::json!([]));

    let resolved = invoke_json(&main, "alert_resolve", serde_json::json!({ "id": id })).unwrap();
    assert_eq!(resolved["state"], "resolved");
    let again = invoke_json(&main, "alert_resolve", serde_json::json!({ "id": id })).unwrap_err();
    assert_eq!(again["kind"], "alert_already_resolved");
    let unknown =
        invoke_json(&main, "alert_acknowledge", serde_json::json!({ "id": 999 })).unwrap_err();
    assert_eq!(unknown["kind"], "unknown_alert");
    assert!(!unknown["hint"].as_str().unwrap().is_empty());
    let bad = invoke_json(&main, "alert_resolve", serde_json::json!({ "id": -1 })).unwrap_err();
    assert_eq!(bad["kind"], "invalid_argument");
    let too_many =
        list(serde_json::json!({ "state": null, "cluster": null, "limit": 5000 })).unwrap_err();
    assert_eq!(too_many["kind"], "invalid_argument");

    let audit = Store::open_in(dir.path()).unwrap().audit_log().unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["alert.acknowledge", "alert.resolve"]);
}

#[test]
fn anomalies_are_listed_and_read_over_ipc() {
    use cloudops_core::analysis::anomaly::Severity;
    use cloudops_core::analysis::anomaly_eval::AnomalyMetric;
    use cloudops_core::analysis::causes::{Cause, CauseKind};
    use cloudops_core::store::{Detection, SeriesVerdict};

    let dir = seeded_dir();
    let cluster = ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments");
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        store
            .apply_anomaly_verdicts(&[SeriesVerdict {
                cluster_id: cluster.clone(),
                subject: "service/checkout".into(),
                metric: AnomalyMetric::ErrorPct,
                last_point: 1_700_000_600,
                detection: Some(Detection {
                    started_at: 1_700_000_000,
                    at: 1_700_000_600,
                    severity: Severity::Critical,
                    peak_score: 40.0,
                    value: 31.0,
                    baseline: Some(0.4),
                    causes: vec![Cause {
                        kind: CauseKind::Rollout,
                        detail: "rollout of deployment shop/checkout: 1 of 4 replicas updated"
                            .into(),
                        at: 1_700_000_000,
                        weight: 1.0,
                    }],
                }),
            }])
            .unwrap();
    }
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let list = |query: serde_json::Value| {
        invoke_json(
            &main,
            "anomalies_list",
            serde_json::json!({ "query": query }),
        )
    };
    let page = list(serde_json::json!({
        "cluster": &cluster, "state": "open", "since": null, "offset": 0, "limit": null
    }))
    .unwrap();
    assert_eq!(page["total"], 1, "{page}");
    let a = &page["anomalies"][0];
    assert_eq!(a["metric"], "error_pct");
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["causes"][0]["kind"], "rollout");
    let id = a["id"].as_i64().unwrap();
    let one = invoke_json(&main, "anomaly_get", serde_json::json!({ "id": id })).unwrap();
    assert_eq!(&one, a);
    let closed = list(serde_json::json!({
        "cluster": null, "state": "closed", "since": null, "offset": 0, "limit": 10
    }))
    .unwrap();
    assert_eq!(closed["total"], 0);

    let unknown = invoke_json(&main, "anomaly_get", serde_json::json!({ "id": 999 })).unwrap_err();
    assert_eq!(unknown["kind"], "unknown_anomaly");
    let bad = invoke_json(&main, "anomaly_get", serde_json::json!({ "id": 0 })).unwrap_err();
    assert_eq!(bad["kind"], "invalid_argument");
    let too_many = list(serde_json::json!({
        "cluster": null, "state": null, "since": null, "offset": 0, "limit": 5000
    }))
    .unwrap_err();
    assert_eq!(too_many["kind"], "invalid_argument");
    let bad_state = list(serde_json::json!({
        "cluster": null, "state": "weird", "since": null, "offset": 0, "limit": null
    }));
    assert!(bad_state.is_err());
}

fn seed_three_alerts(dir: &std::path::Path) -> Vec<i64> {
    use cloudops_core::analysis::alerts::{alert_key, AlertRule, Firing};
    use cloudops_core::analysis::anomaly::Severity;
    use cloudops_core::store::AlertPolicy;

    let cluster = ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments");
    let firing = |subject: &str, rule, severity| Firing {
        key: alert_key(&cluster, subject, rule),
        cluster_id: cluster.clone(),
        subject: subject.into(),
        rule,
        severity,
        value: 6.0,
        threshold: 5.0,
        message: format!("{subject} on payments"),
    };
    let mut store = Store::open_in(dir).unwrap();
    let changes = store
        .apply_firings(
            1_700_000_000,
            std::slice::from_ref(&cluster),
            &[
                firing(
                    "service/checkout",
                    AlertRule::ServiceP95,
                    Severity::Critical,
                ),
                firing("service/cart", AlertRule::ServiceP95, Severity::Medium),
                firing("node/n1", AlertRule::NodeCpu, Severity::High),
            ],
            &AlertPolicy::default(),
        )
        .unwrap();
    changes.opened.iter().map(|a| a.id).collect()
}

#[test]
fn alerts_are_acknowledged_and_resolved_in_bulk_with_detail_and_history_over_ipc() {
    let dir = seeded_dir();
    let ids = seed_three_alerts(dir.path());
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();

    let acked = invoke_json(
        &main,
        "alerts_acknowledge",
        serde_json::json!({ "ids": [ids[0], ids[1], 4242] }),
    )
    .unwrap();
    assert_eq!(acked["changed"].as_array().unwrap().len(), 2, "{acked}");
    assert_eq!(acked["skipped"][0]["id"], 4242);
    assert_eq!(acked["skipped"][0]["kind"], "unknown_alert");

    let resolved = invoke_json(&main, "alerts_resolve", serde_json::json!({ "ids": ids })).unwrap();
    assert_eq!(
        resolved["changed"].as_array().unwrap().len(),
        3,
        "{resolved}"
    );
    assert!(resolved["changed"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["state"] == "resolved"));

    let detail = invoke_json(&main, "alert_get", serde_json::json!({ "id": ids[0] })).unwrap();
    assert_eq!(detail["alert"]["id"], ids[0]);
    let steps: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["opened", "notified", "acknowledged", "resolved"]);

    let page = |offset: u32, limit: u32| {
        invoke_json(
            &main,
            "alerts_history",
            serde_json::json!({ "cluster": null, "offset": offset, "limit": limit }),
        )
    };
    assert_eq!(page(0, 2).unwrap().as_array().unwrap().len(), 2);
    assert_eq!(page(2, 2).unwrap().as_array().unwrap().len(), 1);

    // Bad input is refused before the cache, with the argument kind.
    for (cmd, body) in [
        ("alerts_acknowledge", serde_json::json!({ "ids": [] })),
        ("alerts_resolve", serde_json::json!({ "ids": [1, 0] })),
        (
            "alerts_resolve",
            serde_json::json!({ "ids": vec![1; cloudops_core::store::MAX_BULK_ALERTS + 1] }),
        ),
        ("alert_get", serde_json::json!({ "id": -2 })),
        (
            "alerts_history",
            serde_json::json!({ "cluster": null, "offset": 0, "limit": 0 }),
        ),
    ] {
        let err = invoke_json(&main, cmd, body.clone()).unwrap_err();
        assert_eq!(err["kind"], "invalid_argument", "{cmd} {body}: {err}");
    }
    let unknown = invoke_json(&main, "alert_get", serde_json::json!({ "id": 4242 })).unwrap_err();
    assert_eq!(unknown["kind"], "unknown_alert");

    let audit = Store::open_in(dir.path()).unwrap().audit_log().unwrap();
    assert_eq!(audit.len(), 5, "two acknowledgements and three resolves");
}

/// Acceptance (issue 9): a critical alert raises a desktop notification.
/// The real path runs on the mock runtime: samples in the cache → the
/// app's alert evaluation → `notify::notify_alerts` → the app's managed
/// notifier. The plugin's own D-Bus call cannot be observed without a
/// notification daemon, so a recording `Notifier` stands in for it.
#[test]
fn a_critical_alert_from_the_cache_raises_one_desktop_notification() {
    use cloudops_core::metrics::{names, Batch, Sample, SeriesKey};
    use std::sync::Arc;
    use tauri::Manager;

    let dir = seeded_dir();
    let cluster = ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments");
    // CPU above 90% of allocatable is critical here (the seed stops at high).
    std::fs::write(
        dir.path().join("alert-rules.json"),
        r#"{"defaults":{"node_cpu_pct":{"medium":50,"high":70,"critical":90}}}"#,
    )
    .unwrap();
    let now = cloudops_core::store::now_ms() / 1000;
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        let sample = |node: &str, metric: &str, value: f64| Sample {
            series: SeriesKey::new(&cluster, metric, vec![("node", node)]),
            ts: now - 30,
            value,
        };
        store
            .insert_batch(&Batch {
                collected_at: now - 30,
                samples: vec![
                    sample("hot", names::NODE_CPU_CORES, 3.9),
                    sample("hot", names::NODE_CPU_ALLOCATABLE_CORES, 4.0),
                    // 55%: medium, which is listed but never notified.
                    sample("warm", names::NODE_CPU_CORES, 2.2),
                    sample("warm", names::NODE_CPU_ALLOCATABLE_CORES, 4.0),
                ],
            })
            .unwrap();
    }
    let app = app(dir.path());
    let recorder = Arc::new(crate::notify::RecordingNotifier::default());
    app.manage(crate::notify::Notifications(recorder.clone()));
    let handle = app.handle().clone();
    tauri::async_runtime::block_on(async {
        let state = handle.state::<AppState>();
        crate::fleet::evaluate_alerts(&handle, &state, vec![cluster.clone()], now).await;
    });
    let sent = recorder.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].title, "Critical alert · payments (eu-west-1)");
    assert!(
        sent[0].body.starts_with("CPU 97.5% on node/hot"),
        "{}",
        sent[0].body
    );

    // The same condition a minute later folds into the alert: no second
    // notification (escalation waits 15 minutes).
    tauri::async_runtime::block_on(async {
        let state = handle.state::<AppState>();
        crate::fleet::evaluate_alerts(&handle, &state, vec![cluster.clone()], now + 60).await;
    });
    assert_eq!(recorder.0.lock().unwrap().len(), 1);
}

#[test]
fn the_webview_may_only_notify_through_the_notification_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    for cmd in [
        "plugin:notification|request_permission",
        "plugin:notification|register_action_types",
        "plugin:notification|get_pending",
        "plugin:notification|cancel",
    ] {
        let err = get_ipc_response(&main, request(cmd)).unwrap_err();
        assert!(err.to_string().contains("not allowed"), "{cmd}: {err}");
    }
    let other = WebviewWindowBuilder::new(&app, "other", Default::default())
        .build()
        .unwrap();
    let err = get_ipc_response(&other, request("plugin:notification|notify")).unwrap_err();
    assert!(err.to_string().contains("not allowed"), "{err}");
}
