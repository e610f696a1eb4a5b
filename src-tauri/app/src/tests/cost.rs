//! The Cost screen's commands over IPC: the view read from a cache holding
//! cost rows (offline works the same), and bad arguments refused.

use cloudops_core::cost::{CostFetch, CostLine, CostSource};
use cloudops_core::store::{CostWindow, CostWrite};
use serde_json::json;

use super::*;

fn main_window(
    app: &tauri::App<tauri::test::MockRuntime>,
) -> tauri::WebviewWindow<tauri::test::MockRuntime> {
    WebviewWindowBuilder::new(app, "main", Default::default())
        .build()
        .unwrap()
}

/// Today's month, and the seeded cluster billed 25 USD on each day of it
/// so far.
pub(super) fn seed_costs(dir: &std::path::Path) -> (String, String, usize) {
    let now = cloudops_core::store::now_ms() / 1000;
    let today = now.div_euclid(86_400);
    let day = |d: i64| cloudops_core::analysis::cost_series::iso_date(d);
    let month = day(today)[..7].to_owned();
    let first = today - (day(today)[8..10].parse::<i64>().unwrap() - 1);
    let cluster = ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments");
    let lines: Vec<CostLine> = (first..=today)
        .map(|d| CostLine {
            cluster_id: Some(cluster.clone()),
            day: day(d),
            category: "AmazonEKS".into(),
            amount: 25.0,
            currency: "USD".into(),
            source: CostSource::Actual,
            is_final: d < today,
        })
        .collect();
    let days = lines.len();
    let mut store = Store::open_in(dir).unwrap();
    store
        .write_costs(&CostWrite {
            provider: Provider::Aws,
            account: "prod".into(),
            collected_at: now - 600,
            windows: vec![CostWindow {
                source: CostSource::Actual,
                first_day: day(first),
                end_day: day(today + 1),
            }],
            lines,
            months: vec![],
            closed_days: vec![],
            fetch: CostFetch {
                provider: Provider::Aws,
                account: "prod".into(),
                fetched_at: now - 600,
                api_calls: 2,
                pages: 2,
                first_day: Some(day(first)),
                end_day: Some(day(today + 1)),
                next_refresh_at: now + 3600,
                reported_month_to_date: None,
                notes: vec![],
                error: None,
            },
        })
        .unwrap();
    (month, cluster, days)
}

#[test]
fn the_cost_view_is_read_from_the_cache_over_ipc() {
    let dir = seeded_dir();
    let (month, cluster, days) = seed_costs(dir.path());
    let app = app(dir.path());
    let main = main_window(&app);
    let v = invoke_json(
        &main,
        "cost_view",
        json!({"request": {"month": null, "cluster": cluster}}),
    )
    .expect("cost_view refused");
    assert_eq!(v["month"], month.as_str());
    let cloud = &v["clouds"][0];
    assert_eq!(cloud["provider"], "aws");
    assert_eq!(cloud["shown_source"], "actual");
    assert!((cloud["shown"].as_f64().unwrap() - 25.0 * days as f64).abs() < 1e-6);
    assert_eq!(v["clusters"][0]["label"], "payments");
    assert!(v["charts"][0]["chart"]["svg"]
        .as_str()
        .unwrap()
        .contains("<svg"));
    assert_eq!(v["api_calls"], 2);
    assert!(v["data_age_secs"].as_i64().unwrap() >= 600);
    // No nodes in the cache: the breakdown says so rather than inventing one.
    assert!(v["breakdown"]["notes"][0]
        .as_str()
        .unwrap()
        .contains("no nodes"));
}

#[test]
fn the_fleet_cost_is_read_from_the_cache_over_ipc() {
    let dir = seeded_dir();
    let (month, cluster, days) = seed_costs(dir.path());
    let app = app(dir.path());
    let main = main_window(&app);
    let v = invoke_json(&main, "fleet_cost", json!({})).expect("fleet_cost refused");
    assert_eq!(v["month"], month.as_str());
    let c = &v["clusters"][0];
    assert_eq!(c["cluster_id"], cluster.as_str());
    assert_eq!(c["source"], "actual");
    assert!((c["amount"].as_f64().unwrap() - 25.0 * days as f64).abs() < 1e-6);
    let usd = &v["currencies"][0];
    assert_eq!(usd["currency"], "USD");
    assert_eq!(usd["source_words"], "actual");
    assert!(v["data_age_secs"].as_i64().unwrap() >= 600);
    // The month picker: this month first (it has cost here).
    let months = invoke_json(&main, "cost_months", json!({})).expect("cost_months refused");
    assert_eq!(months, json!([month]));
}

#[test]
fn cost_arguments_are_validated() {
    let dir = seeded_dir();
    let app = app(dir.path());
    let main = main_window(&app);
    let kind = |r: Result<serde_json::Value, serde_json::Value>| match r {
        Ok(v) => panic!("expected a refusal, got {v}"),
        Err(e) => e["kind"].as_str().unwrap_or_default().to_owned(),
    };
    let view = |month: &str, cluster: &str| {
        invoke_json(
            &main,
            "cost_view",
            json!({"request": {"month": month, "cluster": cluster}}),
        )
    };
    assert_eq!(kind(view("2025-13", "c")), "invalid_argument");
    assert_eq!(kind(view("2025-06", "a\nb")), "invalid_argument");
    assert_eq!(kind(view("2025-06", "aws/nope")), "unknown_cluster");
    assert_eq!(
        kind(invoke_json(
            &main,
            "cost_export",
            json!({"month": "../../etc", "cluster": null})
        )),
        "invalid_argument"
    );
    assert_eq!(
        kind(invoke_json(
            &main,
            "cost_export",
            json!({"month": "2025-06", "cluster": "aws/nope"})
        )),
        "unknown_cluster"
    );
}
