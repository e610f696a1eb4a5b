//! `cloudops budget set|list|rm` through the real binary, over a cache
//! holding this month's cost: the alert is raised on save, listed, and
//! resolved on delete; bad input exits 2 with a hint.

use cloudops_core::analysis::cost_series::iso_date;
use cloudops_core::cost::{CostFetch, CostLine, CostSource};
use cloudops_core::store::{CostWindow, CostWrite};
use cloudops_core::{ClusterSummary, Provider, Store};

use super::{cloudops, json, seed};

/// The seeded AWS cluster billed 40 USD each day of this month so far.
fn bill(dir: &std::path::Path) -> (String, f64) {
    let now = cloudops_core::store::now_ms() / 1000;
    let today = now.div_euclid(86_400);
    let first = today - (iso_date(today)[8..10].parse::<i64>().unwrap() - 1);
    let cluster = ClusterSummary::make_id(Provider::Aws, "acct", "eu-west-1", "payments");
    let lines: Vec<CostLine> = (first..=today)
        .map(|d| CostLine {
            cluster_id: Some(cluster.clone()),
            day: iso_date(d),
            category: "AmazonEKS".into(),
            amount: 40.0,
            currency: "USD".into(),
            source: CostSource::Actual,
            is_final: d < today,
        })
        .collect();
    let spent = 40.0 * lines.len() as f64;
    let mut store = Store::open_in(dir).unwrap();
    store
        .write_costs(&CostWrite {
            provider: Provider::Aws,
            account: "acct".into(),
            collected_at: now - 60,
            windows: vec![CostWindow {
                source: CostSource::Actual,
                first_day: iso_date(first),
                end_day: iso_date(today + 1),
            }],
            lines,
            months: vec![],
            closed_days: vec![],
            fetch: CostFetch {
                provider: Provider::Aws,
                account: "acct".into(),
                fetched_at: now - 60,
                api_calls: 1,
                pages: 1,
                first_day: Some(iso_date(first)),
                end_day: Some(iso_date(today + 1)),
                next_refresh_at: now + 3600,
                reported_month_to_date: None,
                notes: vec![],
                error: None,
            },
        })
        .unwrap();
    (cluster, spent)
}

#[test]
fn budget_set_list_rm_and_the_alert_they_raise() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let (cluster, spent) = bill(dir.path());
    // Spent is at least 40; a budget of 30 is over 100 %.
    let scope = format!("cluster:{cluster}");
    let out = cloudops(
        dir.path(),
        &[
            "budget",
            "set",
            "payments",
            "--amount",
            "30",
            "--currency",
            "usd",
            "--scope",
            &scope,
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("opened (critical)"));

    let doc = json(&cloudops(dir.path(), &["--json", "budget", "list"]));
    let b = &doc["budgets"][0];
    assert_eq!(b["name"], "payments");
    assert_eq!(b["budget"]["scope"]["kind"], "cluster");
    assert_eq!(b["status"], "critical");
    assert!((b["spent"].as_f64().unwrap() - spent).abs() < 1e-6, "{b}");

    let alerts = json(&cloudops(dir.path(), &["--json", "alerts"]));
    let budget_alerts: Vec<&serde_json::Value> = alerts["alerts"]
        .as_array()
        .or(alerts.as_array())
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "budget_actual")
        .collect();
    assert_eq!(budget_alerts.len(), 1, "{alerts}");
    assert_eq!(budget_alerts[0]["state"], "open");

    let out = cloudops(dir.path(), &["budget", "rm", "payments"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("resolved"),
        "{out:?}"
    );
    let doc = json(&cloudops(dir.path(), &["--json", "budget", "list"]));
    assert_eq!(doc["budgets"], serde_json::json!([]));
    let store = Store::open_in(dir.path()).unwrap();
    let audited = store
        .audit_log()
        .unwrap()
        .into_iter()
        .filter(|e| e.target == "budget/payments")
        .count();
    assert_eq!(audited, 2);
}

#[test]
fn bad_budgets_exit_2_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    for args in [
        &["budget", "set", "x", "--amount=-5"][..],
        &[
            "budget",
            "set",
            "x",
            "--amount",
            "5",
            "--currency",
            "dollars",
        ],
        &[
            "budget",
            "set",
            "x",
            "--amount",
            "5",
            "--scope",
            "planet:mars",
        ],
        &[
            "budget",
            "set",
            "x",
            "--amount",
            "5",
            "--scope",
            "cluster:aws/nope",
        ],
        &[
            "budget",
            "set",
            "x",
            "--amount",
            "5",
            "--thresholds",
            "80,50,100",
        ],
        &["budget", "rm", "nothing"],
    ] {
        let out = cloudops(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("hint"),
            "{args:?}: {out:?}"
        );
    }
}
