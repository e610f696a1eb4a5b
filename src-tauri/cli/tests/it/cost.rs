//! `cloudops bench cost-forecast`: the backtest on sandbox cost history
//! prints MAPE and coverage for our forecast and each model alone.

use super::{cloudops, json};

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
