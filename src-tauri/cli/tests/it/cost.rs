//! `refresh --sandbox` fetches cost with the other data; `cost` reads it
//! back from the cache (issue 7 end to end), through the real binary; and
//! `cloudops bench cost-forecast` prints MAPE and coverage for our forecast
//! and each model alone.

use std::collections::BTreeSet;

use super::{cloudops, json};

#[test]
fn refresh_fetches_cost_of_all_four_clouds_and_cost_reads_it_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops(dir.path(), &["refresh", "--once", "--sandbox", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pass = json(&out);
    let costs = pass["costs"]
        .as_array()
        .expect("the pass reports its cost refresh");
    let fetched: BTreeSet<&str> = costs
        .iter()
        .filter(|c| c["outcome"] == "fetched")
        .map(|c| c["provider"].as_str().unwrap())
        .collect();
    assert_eq!(
        fetched,
        BTreeSet::from(["aws", "azure", "do", "gcp"]),
        "{costs:?}"
    );

    let doc = json(&cloudops(
        dir.path(),
        &["cost", "--sandbox", "--json", "--forecast"],
    ));
    let mtd = doc["month_to_date"].as_array().unwrap();
    let clouds: BTreeSet<&str> = mtd
        .iter()
        .filter(|m| {
            let best = m["actual"].as_f64().or(m["estimate"].as_f64());
            best.is_some_and(|v| v > 0.0) && m["cluster_id"].is_string()
        })
        .map(|m| m["provider"].as_str().unwrap())
        .collect();
    assert_eq!(
        clouds,
        BTreeSet::from(["aws", "azure", "do", "gcp"]),
        "{doc}"
    );
    // GKE is labelled an estimate, EKS and AKS actuals.
    for m in mtd {
        match m["provider"].as_str().unwrap() {
            "gcp" => assert!(m["actual"].is_null() && m["estimate"].as_f64().unwrap() > 0.0),
            "aws" | "azure" => assert!(m["actual"].as_f64().is_some(), "{m}"),
            _ => {}
        }
    }
    assert!(doc["data_age_secs"].as_i64().unwrap() < 600);
    assert!(!doc["daily"].as_array().unwrap().is_empty());
    // The forecast per currency: the sandbox bills in USD.
    let forecasts = doc["forecast"]["forecasts"].as_array().unwrap();
    let usd = forecasts
        .iter()
        .find(|f| f["currency"] == "USD")
        .expect("a USD forecast");
    assert!(usd["total"].as_f64().unwrap() >= usd["spent_to_date"].as_f64().unwrap() - 1e-6);

    // Suggestions: the commands to run, and what the cache lacks.
    let sug = json(&cloudops(
        dir.path(),
        &["cost", "suggestions", "--sandbox", "--json"],
    ));
    assert!(sug["suggestions"].is_array(), "{sug}");
    assert!(sug["missing_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("p95")));
    assert!(sug["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| !s["commands"].as_array().unwrap().is_empty()));
    let calls: u64 = doc["fetches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["api_calls"].as_u64().unwrap())
        .sum();
    assert!(calls > 0);

    // One cluster only.
    let one = mtd.iter().find(|m| m["provider"] == "aws").unwrap()["cluster_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let only = json(&cloudops(
        dir.path(),
        &["cost", "--sandbox", "--json", "--cluster", &one],
    ));
    assert!(only["month_to_date"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["cluster_id"] == one.as_str()));

    // Right after: no account is due, no call is made.
    let again = json(&cloudops(
        dir.path(),
        &["refresh", "--once", "--sandbox", "--json"],
    ));
    assert!(again["costs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["outcome"] == "not_due" || c["outcome"] == "no_cost_source"));

    // A bad date is a usage error.
    let bad = cloudops(dir.path(), &["cost", "--sandbox", "--since", "June"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn bench_cost_forecast_reports_mape_and_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops(
        dir.path(),
        &[
            "bench",
            "cost-forecast",
            "--clusters",
            "3",
            "--days",
            "60",
            "--windows",
            "2",
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    // The world puts a cluster on each cloud, so asking for 3 gives 4.
    let clusters = doc["per_cluster"].as_array().unwrap().len();
    assert_eq!(doc["clusters"], clusters);
    assert!(clusters >= 3);
    for model in ["auto", "holt_winters", "seasonal_naive"] {
        let m = &doc[model];
        let mape = m["mape_pct"].as_f64().unwrap();
        let coverage = m["coverage"].as_f64().unwrap();
        assert!(mape.is_finite() && mape >= 0.0, "{model}: {m}");
        assert!((0.0..=1.0).contains(&coverage), "{model}: {m}");
        // Clusters × 2 windows × 7 days, each with an interval.
        assert_eq!(m["days_with_interval"], clusters * 14, "{model}: {m}");
        assert_eq!(m["windows"], clusters * 2, "{model}: {m}");
    }

    // A hold-out as long as the history is a usage error, not a panic.
    let out = cloudops(
        dir.path(),
        &["bench", "cost-forecast", "--days", "21", "--holdout", "14"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
