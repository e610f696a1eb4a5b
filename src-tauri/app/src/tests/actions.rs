//! The action commands over IPC (issue 6): argument validation, the typed
//! confirmation for a scale to zero, read-only mode refusing an apply, and
//! preview/apply against the app's own sandbox.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tauri::Listener;

use super::*;

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

#[test]
fn action_arguments_are_validated_before_anything_is_reached() {
    let dir = seeded_dir();
    // Live mode, no accounts: a valid request would need a discovery.
    let state =
        AppState::with_mode(dir.path().to_path_buf(), Mode::Live).with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = main_window(&app);
    let known = ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments");
    let preview = |cluster: &str, ns: &str, name: &str, replicas: i64| {
        invoke_json(
            &main,
            "scale_preview",
            json!({"cluster": cluster, "namespace": ns, "deployment": name, "replicas": replicas}),
        )
    };
    assert_eq!(kind(preview(&known, "Shop", "web", 3)), "invalid_argument");
    assert_eq!(
        kind(preview(&known, "shop", "web_1", 3)),
        "invalid_argument"
    );
    assert_eq!(
        kind(preview(&known, "shop", "web", 10_001)),
        "invalid_argument"
    );
    assert_eq!(kind(preview(&known, "shop", "web", -1)), "invalid_argument");
    let unknown = preview("aws/prod/eu-west-1/nope", "shop", "web", 3);
    let err = unknown.clone().unwrap_err();
    assert_eq!(err["kind"], "invalid_argument");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("not in the cache"),
        "{err}"
    );
    // Known in the cache but not among the discovered targets.
    let err = preview(&known, "shop", "web", 3).unwrap_err();
    assert_eq!(err["kind"], "unknown_cluster", "{err}");

    let rollout = invoke_json(
        &main,
        "rollout_preview",
        json!({"cluster": known, "namespace": "shop", "deployment": "web", "action": "delete"}),
    );
    assert_eq!(kind(rollout), "invalid_argument");
    for cmd in ["scale_apply", "rollout_apply"] {
        assert_eq!(
            kind(invoke_json(&main, cmd, json!({"token": "../../etc"}))),
            "invalid_argument"
        );
        assert_eq!(
            kind(invoke_json(&main, cmd, json!({"token": "0".repeat(32)}))),
            "preview_expired"
        );
    }
    assert_eq!(
        kind(invoke_json(&main, "audit_log", json!({"limit": 0}))),
        "invalid_argument"
    );
    assert_eq!(
        kind(invoke_json(&main, "audit_log", json!({"limit": 1_000_000}))),
        "invalid_argument"
    );
}

#[test]
fn read_only_is_persisted_and_its_change_audited() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = self::app(dir.path());
        let main = main_window(&app);
        assert_eq!(
            invoke_json(&main, "read_only_get", json!({})).unwrap(),
            json!(false)
        );
        invoke_json(&main, "read_only_set", json!({"enabled": true})).unwrap();
        assert_eq!(
            invoke_json(&main, "read_only_get", json!({})).unwrap(),
            json!(true)
        );
        let log = invoke_json(&main, "audit_log", json!({"limit": 10})).unwrap();
        assert_eq!(log[0]["action"], "read_only_set", "{log}");
        assert_eq!(log[0]["outcome"], "succeeded");
        assert!(log[0]["detail"]
            .as_str()
            .unwrap()
            .contains("\"after\":true"));
    }
    // A restart keeps it.
    let app = self::app(dir.path());
    let main = main_window(&app);
    assert_eq!(
        invoke_json(&main, "read_only_get", json!({})).unwrap(),
        json!(true)
    );
}

/// The app's sandbox mode: the discovery loop starts the in-process sandbox
/// and the action commands connect through its targets.
#[test]
fn scale_is_previewed_confirmed_applied_and_refused_in_read_only_on_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        AppState::with_mode(dir.path().to_path_buf(), Mode::Sandbox).with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = main_window(&app);
    crate::fleet::spawn(app.handle().clone(), Mode::Sandbox);
    let progress: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let seen = Arc::clone(&progress);
    app.listen_any("action-progress", move |e| {
        if let Ok(v) = serde_json::from_str(e.payload()) {
            seen.lock().unwrap().push(v);
        }
    });

    let deadline = Instant::now() + Duration::from_secs(60);
    let cluster = loop {
        let fleet = invoke_json(&main, "fleet_overview", json!({})).unwrap();
        let aws = fleet["clusters"].as_array().and_then(|c| {
            c.iter()
                .filter_map(|c| c["id"].as_str())
                .find(|id| id.starts_with("aws/"))
                .map(str::to_owned)
        });
        if let Some(id) = aws {
            break id;
        }
        assert!(Instant::now() < deadline, "no sandbox discovery in 60 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    let preview = |replicas: i64| {
        invoke_json(
            &main,
            "scale_preview",
            json!({"cluster": cluster, "namespace": "kube-system", "deployment": "coredns",
                   "replicas": replicas}),
        )
    };

    let up = preview(3).unwrap();
    assert_eq!(up["plan"]["from"], 2, "{up}");
    assert_eq!(up["plan"]["to"], 3);
    assert_eq!(up["plan"]["fit"]["fits"], true, "{up}");
    assert!(up["plan"]["typed_confirmation"].is_null());
    let token = up["token"].as_str().unwrap().to_owned();
    let done = invoke_json(&main, "scale_apply", json!({"token": token})).unwrap();
    assert_eq!(done["settled"], true, "{done}");
    assert_eq!(done["counts"]["ready"], 3, "{done}");
    assert_eq!(done["audit_ids"].as_array().unwrap().len(), 2);
    {
        let events = progress.lock().unwrap();
        assert!(!events.is_empty(), "no action-progress event");
        assert!(events.iter().all(|e| e["token"] == token.as_str()));
        assert_eq!(events.last().unwrap()["counts"]["ready"], 3);
    }
    // One apply per preview.
    assert_eq!(
        kind(invoke_json(&main, "scale_apply", json!({"token": token}))),
        "preview_expired"
    );

    // To zero: the deployment's name must be typed.
    let zero = preview(0).unwrap();
    assert_eq!(zero["plan"]["typed_confirmation"], "coredns", "{zero}");
    let token = zero["token"].as_str().unwrap().to_owned();
    assert_eq!(
        kind(invoke_json(&main, "scale_apply", json!({"token": token}))),
        "invalid_argument"
    );
    assert_eq!(
        kind(invoke_json(
            &main,
            "scale_apply",
            json!({"token": token, "typedConfirmation": "core"})
        )),
        "invalid_argument"
    );

    // Read-only refuses the apply, even with the right name typed.
    invoke_json(&main, "read_only_set", json!({"enabled": true})).unwrap();
    let refused = invoke_json(
        &main,
        "scale_apply",
        json!({"token": token, "typedConfirmation": "coredns"}),
    )
    .unwrap_err();
    assert_eq!(refused["kind"], "read_only", "{refused}");
    assert!(refused["hint"].as_str().unwrap().contains("Settings"));
    // Nothing changed: it still has 3 (a preview is a read, allowed).
    let again = preview(3).unwrap();
    assert_eq!(again["plan"]["from"], 3, "{again}");

    let log = invoke_json(&main, "audit_log", json!({"limit": 10})).unwrap();
    let actions: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("read_only_set", "succeeded"),
            ("scale_deployment", "succeeded"),
            ("scale_deployment", "started"),
        ]
    );
    assert!(
        log[1]["actor"].as_str().unwrap().contains("aws account"),
        "{log}"
    );

    // A rollout restart, previewed and applied.
    invoke_json(&main, "read_only_set", json!({"enabled": false})).unwrap();
    let restart = invoke_json(
        &main,
        "rollout_preview",
        json!({"cluster": cluster, "namespace": "kube-system", "deployment": "coredns",
               "action": "restart"}),
    )
    .unwrap();
    assert_eq!(restart["replicas"], 3, "{restart}");
    let done = invoke_json(&main, "rollout_apply", json!({"token": restart["token"]})).unwrap();
    assert_eq!(done["action"], "rollout_restart");
    assert_eq!(done["settled"], true, "{done}");
}
