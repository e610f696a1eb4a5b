//! The budget commands over IPC: save, list with this month's standing,
//! the alert raised (and notified) at once, an edit resolving it, delete,
//! audit rows, and bad input refused.

use std::sync::Arc;

use tauri::Manager;

use serde_json::json;

use super::cost::seed_costs;
use super::*;

fn main_window(
    app: &tauri::App<tauri::test::MockRuntime>,
) -> tauri::WebviewWindow<tauri::test::MockRuntime> {
    WebviewWindowBuilder::new(app, "main", Default::default())
        .build()
        .unwrap()
}

fn budget(name: &str, cluster: &str, amount: f64) -> serde_json::Value {
    json!({"budget": {
        "id": null,
        "name": name,
        "scope": {"kind": "cluster", "cluster_id": cluster},
        "amount": amount,
        "currency": "usd",
        "thresholds_pct": [50.0, 80.0, 100.0],
    }})
}

fn active_budget_alerts(
    main: &tauri::WebviewWindow<tauri::test::MockRuntime>,
) -> Vec<serde_json::Value> {
    let all = invoke_json(
        main,
        "alerts_list",
        json!({"query": {"state": null, "cluster": null, "limit": null}}),
    )
    .expect("alerts_list refused");
    all.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"].as_str().unwrap().starts_with("budget_") && a["state"] != "resolved")
        .cloned()
        .collect()
}

#[test]
fn a_saved_budget_alerts_at_once_and_an_edit_resolves_it() {
    let dir = seeded_dir();
    let (month, cluster, days) = seed_costs(dir.path());
    let app = app(dir.path());
    let recorder = Arc::new(crate::notify::RecordingNotifier::default());
    app.manage(crate::notify::Notifications(recorder.clone()));
    let main = main_window(&app);

    // 25 a day against 10 a month: over 100 % spent, critical.
    let id = invoke_json(&main, "budget_set", budget("payments", &cluster, 10.0))
        .expect("budget_set refused")
        .as_i64()
        .unwrap();
    let list = invoke_json(&main, "budgets_list", json!({})).expect("budgets_list refused");
    assert_eq!(list["month"], month.as_str());
    let entry = &list["budgets"][0];
    assert_eq!(entry["budget"]["id"], id);
    assert_eq!(entry["budget"]["currency"], "USD");
    assert_eq!(entry["view"]["status"], "critical");
    let spent = entry["view"]["spent"].as_f64().unwrap();
    assert!((spent - 25.0 * days as f64).abs() < 1e-6, "{spent}");

    let alerts = active_budget_alerts(&main);
    let actual = alerts
        .iter()
        .find(|a| a["rule"] == "budget_actual")
        .expect("an actual-spend alert");
    assert_eq!(actual["severity"], "critical");
    assert_eq!(actual["cluster_id"], cluster.as_str());
    let sent = recorder.0.lock().unwrap().clone();
    assert!(
        sent.iter().any(|n| n.body.starts_with("budget spent")),
        "{sent:?}"
    );

    // Raised far above the spend: the alerts resolve on save.
    let mut raised = budget("payments", &cluster, 1_000_000.0);
    raised["budget"]["id"] = json!(id);
    invoke_json(&main, "budget_set", raised).expect("budget_set refused");
    assert!(active_budget_alerts(&main).is_empty());
    let list = invoke_json(&main, "budgets_list", json!({})).unwrap();
    assert_eq!(list["budgets"][0]["view"]["status"], "ok");

    assert_eq!(
        invoke_json(&main, "budget_delete", json!({"name": "payments"})).unwrap(),
        json!(true)
    );
    assert_eq!(
        invoke_json(&main, "budget_delete", json!({"name": "payments"})).unwrap(),
        json!(false)
    );
    let list = invoke_json(&main, "budgets_list", json!({})).unwrap();
    assert!(list["budgets"].as_array().unwrap().is_empty());

    // Each change is in the audit log.
    let store = Store::open_in(dir.path()).unwrap();
    let actions: Vec<String> = store
        .audit_log()
        .unwrap()
        .into_iter()
        .filter(|e| e.target == "budget/payments")
        .map(|e| e.action)
        .collect();
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "budget.set").count(), 2);
}

#[test]
fn bad_budgets_are_refused() {
    let dir = seeded_dir();
    let app = app(dir.path());
    let main = main_window(&app);
    let kind = |r: Result<serde_json::Value, serde_json::Value>| match r {
        Ok(v) => panic!("expected a refusal, got {v}"),
        Err(e) => e["kind"].as_str().unwrap_or_default().to_owned(),
    };
    let set = |b: serde_json::Value| invoke_json(&main, "budget_set", b);
    assert_eq!(kind(set(budget("x", "c", -5.0))), "invalid_argument");
    assert_eq!(
        kind(set(budget("x", "c", f64::MAX * 0.0))),
        "invalid_argument"
    );
    assert_eq!(kind(set(budget("a\nb", "c", 5.0))), "invalid_argument");
    assert_eq!(kind(set(budget("x", " ", 5.0))), "invalid_argument");
    let mut b = budget("x", "c", 5.0);
    b["budget"]["currency"] = json!("dollars");
    assert_eq!(kind(set(b)), "invalid_argument");
    let mut b = budget("x", "c", 5.0);
    b["budget"]["thresholds_pct"] = json!([80.0, 50.0, 100.0]);
    assert_eq!(kind(set(b)), "invalid_argument");
    let mut b = budget("x", "c", 5.0);
    b["budget"]["id"] = json!(424242);
    assert!(set(b).is_err(), "an unknown id is not created");
    assert_eq!(
        kind(invoke_json(
            &main,
            "budget_delete",
            json!({"name": "a\u{0}b"})
        )),
        "invalid_argument"
    );
    let store = Store::open_in(dir.path()).unwrap();
    assert!(store.budgets().unwrap().is_empty());
}
