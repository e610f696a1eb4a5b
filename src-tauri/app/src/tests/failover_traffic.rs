//! The manual traffic step from the app (issue 6): a run started with
//! `traffic: "manual"` pauses at the step with a `traffic_confirmation`
//! event and waits for `failover_traffic_confirm`; confirmed it completes,
//! aborted it fails at that step with the source untouched, and can be
//! rolled back. A hook is refused (CLI-only).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tauri::Listener;

use super::*;

type Events = Arc<Mutex<Vec<Value>>>;

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

/// Waits until `found` picks something out of the run's events.
fn wait_for(events: &Events, what: &str, found: impl Fn(&[Value]) -> Option<Value>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(v) = found(&events.lock().unwrap()) {
            return v;
        }
        assert!(Instant::now() < deadline, "no {what} in 120 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn the_end(events: &Events, run_id: i64, mode: &str) -> Value {
    wait_for(events, "end of the run", |all| {
        all.iter()
            .find(|e| e["run_id"] == run_id && e["mode"] == mode && e["event"].is_null())
            .cloned()
    })
}

fn the_question(events: &Events, run_id: i64) -> Value {
    wait_for(events, "traffic question", |all| {
        all.iter()
            .find(|e| e["run_id"] == run_id && e["event"]["event"] == "traffic_confirmation")
            .cloned()
    })
}

fn steps_of(
    main: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    run_id: i64,
) -> (Value, Vec<(String, String)>) {
    let runs = invoke_json(main, "failover_runs", json!({"limit": 10})).unwrap();
    let run = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == run_id)
        .cloned()
        .unwrap();
    let steps = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (run, steps)
}

fn plan_and_run(
    main: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    from: &str,
    to: &str,
) -> i64 {
    let view = invoke_json(
        main,
        "failover_plan",
        json!({"group": "shop/checkout", "from": from, "to": to, "floor": 0}),
    )
    .unwrap();
    assert!(view["plan"]["refusal"].is_null(), "{view}");
    let token = view["token"].as_str().unwrap().to_owned();
    let typed = view["plan"]["typed_confirmation"].clone();
    // A hook is a shell command: never taken from the webview.
    let hook = invoke_json(
        main,
        "failover_run",
        json!({"token": token, "typedConfirmation": typed, "traffic": "hook"}),
    )
    .unwrap_err();
    assert_eq!(hook["kind"], "invalid_argument", "{hook}");
    assert!(hook["message"].as_str().unwrap().contains("CLI only"));
    assert_eq!(
        kind(invoke_json(
            main,
            "failover_run",
            json!({"token": token, "typedConfirmation": typed, "traffic": "dns"})
        )),
        "invalid_argument"
    );
    invoke_json(
        main,
        "failover_run",
        json!({"token": token, "typedConfirmation": typed, "traffic": "manual"}),
    )
    .unwrap()
    .as_i64()
    .unwrap()
}

#[test]
fn a_manual_traffic_step_waits_for_confirm_and_fails_safely_on_abort() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        AppState::with_mode(dir.path().to_path_buf(), Mode::Sandbox).with_env(Arc::new(|_| None));
    let app = configure(mock_builder(), state).build(context()).unwrap();
    let main = main_window(&app);
    crate::fleet::spawn(app.handle().clone(), Mode::Sandbox);
    let events: Events = Arc::default();
    let seen = Arc::clone(&events);
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

    // Nothing is waiting yet.
    assert_eq!(
        kind(invoke_json(
            &main,
            "failover_traffic_confirm",
            json!({"runId": 1, "confirmed": true})
        )),
        "not_waiting"
    );
    assert_eq!(
        kind(invoke_json(
            &main,
            "failover_traffic_confirm",
            json!({"runId": -1, "confirmed": true})
        )),
        "invalid_argument"
    );

    // 1. Confirmed: the run pauses at the traffic step, then completes.
    let run_id = plan_and_run(&main, eks, gke);
    let asked = the_question(&events, run_id);
    let prompt = asked["event"]["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("shop/checkout")
            && prompt.contains(eks.as_str())
            && prompt.contains(gke.as_str()),
        "{prompt}"
    );
    // It really waits: a while later the run is still at the traffic step,
    // with the source not drained.
    std::thread::sleep(Duration::from_millis(1500));
    let (run, steps) = steps_of(&main, run_id);
    assert_eq!(run["state"], "running", "{run}");
    assert!(
        steps.contains(&("traffic".into(), "running".into())),
        "{steps:?}"
    );
    assert!(!steps.iter().any(|(s, _)| s == "drain_source"), "{steps:?}");
    assert_eq!(
        invoke_json(
            &main,
            "failover_traffic_confirm",
            json!({"runId": run_id, "confirmed": true})
        )
        .unwrap(),
        json!(true)
    );
    let end = the_end(&events, run_id, "run");
    assert!(end["error"].is_null(), "{end}");
    assert_eq!(end["report"]["state"], "completed", "{end}");
    let watch = &end["report"]["watch"];
    assert!(watch["violation"].is_null(), "{end}");
    assert!(
        watch["min_total_ready"].as_i64().unwrap() >= watch["baseline_ready"].as_i64().unwrap(),
        "{end}"
    );
    let (_, steps) = steps_of(&main, run_id);
    assert!(
        steps.contains(&("traffic".into(), "done".into())),
        "{steps:?}"
    );
    assert!(
        steps.contains(&("drain_source".into(), "done".into())),
        "{steps:?}"
    );
    // Answered already.
    assert_eq!(
        kind(invoke_json(
            &main,
            "failover_traffic_confirm",
            json!({"runId": run_id, "confirmed": true})
        )),
        "not_waiting"
    );

    // 2. Aborted: back from GKE to EKS, answered "no" at the traffic step.
    let back = plan_and_run(&main, gke, eks);
    the_question(&events, back);
    invoke_json(
        &main,
        "failover_traffic_confirm",
        json!({"runId": back, "confirmed": false}),
    )
    .unwrap();
    let end = the_end(&events, back, "run");
    assert!(end["report"].is_null(), "{end}");
    assert_eq!(end["error"]["kind"], "traffic_step_failed", "{end}");
    let (run, steps) = steps_of(&main, back);
    assert_eq!(run["state"], "failed", "{run}");
    assert!(
        steps.contains(&("traffic".into(), "failed".into())),
        "{steps:?}"
    );
    // The source was never drained: nothing after the traffic step ran.
    assert!(!steps.iter().any(|(s, _)| s == "drain_source"), "{steps:?}");
    // It stays roll-backable: the rollback restores what was raised.
    invoke_json(&main, "failover_rollback", json!({"runId": back})).unwrap();
    let end = the_end(&events, back, "rollback");
    assert!(end["error"].is_null(), "{end}");
    assert_eq!(end["report"]["state"], "rolled_back", "{end}");
}
