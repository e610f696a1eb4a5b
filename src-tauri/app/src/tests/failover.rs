//! The failover commands over IPC (issue 6): argument validation, then the
//! wizard's path against the app's own sandbox — groups, a plan from an
//! EKS cluster to a GKE cluster, the typed confirmation, the run to its
//! end with `failover-progress` events, and the run listed with its steps.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tauri::Listener;

use super::*;

fn main_window(
    app: &tauri::App<tauri::test::MockRuntime>,
) -> tauri::WebviewWindow<tauri::test::MockRuntime> {
    WebviewWindowBuilder::new(app, "main", Default::default())
        .build()
        .unwrap()
}

fn kind(r: Result<Value, Value>) -> String {
    match r {
        Ok(v) => panic!("expected a refusal, got {v}"),
        Err(e) => e["kind"].as_str().unwrap_or(&e.to_string()).to_owned(),
    }
}

#[test]
fn failover_arguments_are_validated() {
    let dir = seeded_dir();
    let state =
        AppState::with_mode(dir.path().to_path_buf(), Mode::Live).with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = main_window(&app);
    let known = ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments");
    let plan = |group: &str, floor: i64| {
        invoke_json(
            &main,
            "failover_plan",
            json!({"group": group, "from": known, "floor": floor}),
        )
    };
    assert_eq!(kind(plan("checkout", 0)), "invalid_argument");
    assert_eq!(kind(plan("Shop/checkout", 0)), "invalid_argument");
    assert_eq!(kind(plan("shop/check_out", 0)), "invalid_argument");
    assert_eq!(kind(plan("shop/checkout", -1)), "invalid_argument");
    // Not a member of any cached group.
    assert_eq!(kind(plan("shop/checkout", 0)), "not_in_group");
    assert_eq!(
        kind(invoke_json(&main, "failover_run", json!({"token": "nope"}))),
        "invalid_argument"
    );
    assert_eq!(
        kind(invoke_json(
            &main,
            "failover_run",
            json!({"token": "0".repeat(32)})
        )),
        "preview_expired"
    );
    assert_eq!(
        kind(invoke_json(&main, "failover_runs", json!({"limit": 0}))),
        "invalid_argument"
    );
    assert_eq!(
        kind(invoke_json(&main, "failover_resume", json!({"runId": 0}))),
        "invalid_argument"
    );
    assert_eq!(
        kind(invoke_json(
            &main,
            "failover_rollback",
            json!({"runId": 42})
        )),
        "unknown_run"
    );
    // Read-only refuses a resume before anything is looked up.
    invoke_json(&main, "read_only_set", json!({"enabled": true})).unwrap();
    assert_eq!(
        kind(invoke_json(&main, "failover_resume", json!({"runId": 42}))),
        "read_only"
    );
}

#[test]
fn checkout_fails_over_from_eks_to_gke_through_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        AppState::with_mode(dir.path().to_path_buf(), Mode::Sandbox).with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = main_window(&app);
    crate::fleet::spawn(app.handle().clone(), Mode::Sandbox);
    let progress: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = Arc::clone(&progress);
    app.listen_any("failover-progress", move |e| {
        if let Ok(v) = serde_json::from_str(e.payload()) {
            seen.lock().unwrap().push(v);
        }
    });

    let deadline = Instant::now() + Duration::from_secs(120);
    let members = loop {
        let groups = invoke_json(&main, "failover_groups", json!({})).unwrap();
        let checkout = groups
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == "shop/checkout")
            .map(|g| {
                g["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["workload"]["cluster_id"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            });
        if let Some(m) = checkout.filter(|m| m.iter().any(|c| c.starts_with("gcp/"))) {
            break m;
        }
        assert!(Instant::now() < deadline, "no checkout group in 120 s");
        std::thread::sleep(Duration::from_millis(300));
    };
    let eks = members.iter().find(|c| c.starts_with("aws/")).unwrap();
    let gke = members.iter().find(|c| c.starts_with("gcp/")).unwrap();

    // Ranked: the winner is another member and the plan says why.
    let ranked = invoke_json(
        &main,
        "failover_plan",
        json!({"group": "shop/checkout", "from": eks, "floor": 0}),
    )
    .unwrap();
    assert_ne!(ranked["plan"]["target"]["cluster_id"], eks.as_str());
    assert!(!ranked["plan"]["why"].as_array().unwrap().is_empty());
    assert!(ranked["traffic_note"]
        .as_str()
        .unwrap()
        .contains("CLI-only"));

    let view = invoke_json(
        &main,
        "failover_plan",
        json!({"group": "shop/checkout", "from": eks, "to": gke, "floor": 0}),
    )
    .unwrap();
    let plan = &view["plan"];
    assert_eq!(plan["target"]["cluster_id"], gke.as_str(), "{view}");
    assert_eq!(plan["crosses_cloud"], true);
    assert!(plan["refusal"].is_null(), "{view}");
    assert_eq!(plan["typed_confirmation"], "checkout");
    let moved = plan["replicas_to_move"].as_i64().unwrap();
    let target_after = plan["target_after"].as_i64().unwrap();
    assert!(moved > 0, "{view}");
    let token = view["token"].as_str().unwrap().to_owned();

    // Crossing a cloud: the name must be typed.
    assert_eq!(
        kind(invoke_json(
            &main,
            "failover_run",
            json!({"token": token, "typedConfirmation": "check"})
        )),
        "invalid_argument"
    );
    let run_id = invoke_json(
        &main,
        "failover_run",
        json!({"token": token, "typedConfirmation": "checkout"}),
    )
    .unwrap()
    .as_i64()
    .unwrap();
    // One run per plan.
    assert_eq!(
        kind(invoke_json(
            &main,
            "failover_run",
            json!({"token": token, "typedConfirmation": "checkout"})
        )),
        "preview_expired"
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    let end = loop {
        let last = progress
            .lock()
            .unwrap()
            .iter()
            .find(|e| e["run_id"] == run_id && e["event"].is_null())
            .cloned();
        if let Some(end) = last {
            break end;
        }
        assert!(Instant::now() < deadline, "the run did not end in 120 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(end["error"].is_null(), "{end}");
    assert_eq!(end["report"]["state"], "completed", "{end}");
    let watch = &end["report"]["watch"];
    assert!(watch["samples"].as_u64().unwrap() > 0, "{end}");
    assert!(watch["violation"].is_null(), "{end}");
    assert!(
        watch["min_total_ready"].as_i64().unwrap() >= watch["baseline_ready"].as_i64().unwrap(),
        "{end}"
    );
    {
        let events = progress.lock().unwrap();
        let started: Vec<&str> = events
            .iter()
            .filter(|e| e["event"]["event"] == "step_started")
            .filter_map(|e| e["event"]["step"].as_str())
            .collect();
        assert_eq!(
            started,
            [
                "preflight",
                "raise_target",
                "wait_ready",
                "traffic",
                "drain_source",
                "verify"
            ]
        );
        assert!(events.iter().any(|e| e["event"]["event"] == "target_ready"
            && e["event"]["ready"].as_i64() == Some(target_after)));
    }

    let runs = invoke_json(&main, "failover_runs", json!({"limit": 10})).unwrap();
    let run = &runs[0];
    assert_eq!(run["id"], run_id, "{runs}");
    assert_eq!(run["state"], "completed");
    let steps: Vec<(&str, &str)> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("preflight", "done"),
            ("raise_target", "done"),
            ("wait_ready", "done"),
            ("traffic", "skipped"),
            ("drain_source", "done"),
            ("verify", "done"),
        ]
    );
    // A completed run does not resume.
    assert_eq!(
        kind(invoke_json(
            &main,
            "failover_resume",
            json!({"runId": run_id})
        )),
        "invalid_run_state"
    );
}

/// "Make autoscaled" on the sandbox: the defaults are previewed as a new
/// HPA, applied (audited), and the next preview is an edit with nothing to
/// change; bad bounds are refused before anything is reached.
#[test]
fn make_autoscaled_previews_the_defaults_and_applies_them() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        AppState::with_mode(dir.path().to_path_buf(), Mode::Sandbox).with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = main_window(&app);
    crate::fleet::spawn(app.handle().clone(), Mode::Sandbox);
    let deadline = Instant::now() + Duration::from_secs(60);
    let cluster = loop {
        let fleet = invoke_json(&main, "fleet_overview", json!({})).unwrap();
        let gcp = fleet["clusters"].as_array().and_then(|c| {
            c.iter()
                .filter_map(|c| c["id"].as_str())
                .find(|id| id.starts_with("gcp/"))
                .map(str::to_owned)
        });
        if let Some(id) = gcp {
            break id;
        }
        assert!(Instant::now() < deadline, "no sandbox discovery in 60 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    let preview = |extra: Value| {
        let mut args =
            json!({"cluster": cluster, "namespace": "kube-system", "deployment": "coredns"});
        args.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        invoke_json(&main, "hpa_preview", args)
    };
    assert_eq!(kind(preview(json!({"min": 0}))), "invalid_argument");
    assert_eq!(
        kind(preview(json!({"cpuPercent": 5000}))),
        "invalid_argument"
    );

    let made = preview(json!({})).unwrap();
    let plan = &made["plan"];
    assert_eq!(plan["action"], "create", "{made}");
    assert_eq!(plan["after"]["min"], 2);
    assert_eq!(plan["after"]["max"], 10);
    assert_eq!(plan["after"]["scale_down_stabilization_secs"], 300);
    assert!(!plan["changes"].as_array().unwrap().is_empty());
    let done = invoke_json(&main, "hpa_apply", json!({"token": made["token"]})).unwrap();
    assert_eq!(done["action"], "create", "{done}");
    assert_eq!(done["audit_ids"].as_array().unwrap().len(), 2);
    assert_eq!(
        kind(invoke_json(
            &main,
            "hpa_apply",
            json!({"token": made["token"]})
        )),
        "preview_expired"
    );

    let again = preview(json!({})).unwrap();
    assert_eq!(again["plan"]["action"], "edit", "{again}");
    assert_eq!(again["plan"]["before"]["min"], 2);
    assert!(again["plan"]["changes"].as_array().unwrap().is_empty());
    assert_eq!(
        kind(invoke_json(
            &main,
            "hpa_apply",
            json!({"token": again["token"]})
        )),
        "invalid_argument"
    );
    let edit = preview(json!({"max": 12})).unwrap();
    assert_eq!(edit["plan"]["after"]["max"], 12, "{edit}");
}
