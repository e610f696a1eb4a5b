//! Node-pool scaling over IPC (issue 6): validation, the list (provider or
//! cache), preview → apply with progress and audit rows on the app's own
//! sandbox, the typed confirmation for 0 and read-only refusing in the
//! backend.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudops_core::plan::nodepool::NodePoolPlan;
use serde_json::json;
use tauri::{Listener, Manager};

use super::*;
use crate::actions::Pending;

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
fn node_pool_arguments_are_validated_and_an_offline_list_is_the_cache() {
    let dir = seeded_dir();
    let app = self::app(dir.path());
    let main = main_window(&app);
    let known = ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments");
    let preview = |cluster: &str, pool: &str, count: i64| {
        invoke_json(
            &main,
            "nodepool_preview",
            json!({"cluster": cluster, "pool": pool, "count": count}),
        )
    };
    assert_eq!(kind(preview(&known, "../x", 2)), "invalid_argument");
    assert_eq!(kind(preview(&known, "a b", 2)), "invalid_argument");
    assert_eq!(kind(preview(&known, "general", -1)), "invalid_argument");
    assert_eq!(kind(preview(&known, "general", 1001)), "invalid_argument");
    assert_eq!(kind(preview("", "general", 1)), "invalid_argument");
    // Valid, but the app is offline: nothing is reached.
    assert_eq!(kind(preview(&known, "general", 2)), "offline");
    for bad in [
        json!({"token": "../../etc"}),
        json!({"token": "0".repeat(32)}),
    ] {
        let k = kind(invoke_json(&main, "nodepool_apply", bad));
        assert!(k == "invalid_argument" || k == "preview_expired", "{k}");
    }

    let list = invoke_json(&main, "nodepool_list", json!({"cluster": known})).unwrap();
    assert_eq!(list["source"], "cache", "{list}");
    assert!(list["note"].as_str().unwrap().contains("offline"), "{list}");
    assert_eq!(list["pools"][0]["name"], "general", "{list}");
    assert_eq!(
        kind(invoke_json(
            &main,
            "nodepool_list",
            json!({"cluster": "aws/prod/eu-west-1/nope"})
        )),
        "invalid_argument"
    );
}

/// The typed confirmation for 0 is the backend's too: a webview that skips
/// the dialog's field is refused before anything is sent.
#[test]
fn a_scale_to_zero_needs_the_pool_name_typed_in_the_backend() {
    let dir = seeded_dir();
    let app = self::app(dir.path());
    let main = main_window(&app);
    let plan = NodePoolPlan {
        cluster_id: ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments"),
        pool: "general".into(),
        machine_type: None,
        from: 3,
        to: 0,
        min: Some(0),
        max: Some(5),
        changes: vec![],
        warnings: vec![],
        drain_fit: None,
        typed_confirmation: Some("general".into()),
    };
    let token = app
        .state::<AppState>()
        .actions()
        .remember(Pending::NodePool(Box::new(plan)));
    for typed in [None, Some("gen"), Some("General")] {
        let err = invoke_json(
            &main,
            "nodepool_apply",
            json!({"token": token, "typedConfirmation": typed}),
        )
        .unwrap_err();
        assert_eq!(err["kind"], "invalid_argument", "{err}");
        assert!(err["message"].as_str().unwrap().contains("typed"), "{err}");
    }
    // Read-only refuses it even when typed right.
    invoke_json(&main, "read_only_set", json!({"enabled": true})).unwrap();
    let err = invoke_json(
        &main,
        "nodepool_apply",
        json!({"token": token, "typedConfirmation": "general"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "read_only", "{err}");
}

#[test]
fn a_node_pool_is_listed_previewed_scaled_with_progress_and_audited_on_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        AppState::with_mode(dir.path().to_path_buf(), Mode::Sandbox).with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = main_window(&app);
    crate::fleet::spawn(app.handle().clone(), Mode::Sandbox);
    let progress: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let seen = Arc::clone(&progress);
    app.listen_any("nodepool-progress", move |e| {
        if let Ok(v) = serde_json::from_str(e.payload()) {
            seen.lock().unwrap().push(v);
        }
    });

    let deadline = Instant::now() + Duration::from_secs(60);
    let (cluster, list) = loop {
        let fleet = invoke_json(&main, "fleet_overview", json!({})).unwrap();
        let aws = fleet["clusters"].as_array().and_then(|c| {
            c.iter()
                .filter_map(|c| c["id"].as_str())
                .find(|id| id.starts_with("aws/"))
                .map(str::to_owned)
        });
        if let Some(id) = aws {
            let list = invoke_json(&main, "nodepool_list", json!({"cluster": id})).unwrap();
            // The list is the cloud's once the discovery has handed over
            // its targets.
            if list["source"] == "provider" {
                break (id, list);
            }
        }
        assert!(Instant::now() < deadline, "no sandbox discovery in 60 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(list["provider"], "aws", "{list}");
    assert!(list["note"].is_null());
    let pool = &list["pools"][0];
    let name = pool["name"].as_str().unwrap().to_owned();
    let before = pool["count"].as_u64().unwrap();
    let max = pool["max"].as_u64().unwrap();
    let to = if before < max { before + 1 } else { before - 1 };

    let preview = |count: u64| {
        invoke_json(
            &main,
            "nodepool_preview",
            json!({"cluster": cluster, "pool": name, "count": count}),
        )
    };
    let p = preview(to).unwrap();
    assert_eq!(p["plan"]["from"], before, "{p}");
    assert_eq!(p["plan"]["to"], to);
    assert_eq!(p["provider"], "aws");
    assert_eq!(p["plan"]["changes"][0]["field"], "node count", "{p}");
    // The sandbox's machine types are in the bundled AWS price list.
    assert!(p["cost"]["monthly_delta"].is_number(), "{p}");
    let token = p["token"].as_str().unwrap().to_owned();
    let done = invoke_json(&main, "nodepool_apply", json!({"token": token})).unwrap();
    assert_eq!(done["settled"], true, "{done}");
    assert_eq!(done["count"], to, "{done}");
    assert_eq!(done["audit_ids"].as_array().unwrap().len(), 2);
    {
        let events = progress.lock().unwrap();
        assert!(!events.is_empty(), "no nodepool-progress event");
        assert!(events.iter().all(|e| e["token"] == token.as_str()));
        assert_eq!(events.last().unwrap()["count"], to);
    }
    assert_eq!(
        kind(invoke_json(
            &main,
            "nodepool_apply",
            json!({"token": token})
        )),
        "preview_expired"
    );
    let list = invoke_json(&main, "nodepool_list", json!({"cluster": cluster})).unwrap();
    let now = list["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name.as_str())
        .unwrap();
    assert_eq!(now["count"], to, "{list}");

    // Out of the pool's bounds: refused with the bounds, nothing sent.
    let err = preview(max + 1).unwrap_err();
    assert_eq!(err["kind"], "rejected", "{err}");
    assert!(err["message"].as_str().unwrap().contains("bounds"), "{err}");

    // Read-only: the preview (a read) works, the apply is refused.
    invoke_json(&main, "read_only_set", json!({"enabled": true})).unwrap();
    let back = preview(before).unwrap();
    let err = invoke_json(&main, "nodepool_apply", json!({"token": back["token"]})).unwrap_err();
    assert_eq!(err["kind"], "read_only", "{err}");
    assert_eq!(preview(before).unwrap()["plan"]["from"], to);

    let log = invoke_json(&main, "audit_log", json!({"limit": 10})).unwrap();
    let rows: Vec<(&str, &str)> = log
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
        rows,
        vec![
            ("read_only_set", "succeeded"),
            ("scale_node_pool", "succeeded"),
            ("scale_node_pool", "started"),
        ]
    );
    assert!(log[1]["actor"].as_str().unwrap().contains("aws account"));
    assert!(log[1]["target"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/nodepool/{name}")));
}
