use super::*;

fn spend(actual: f64, forecast: Option<f64>) -> BudgetSpend {
    BudgetSpend {
        month: "2026-11".into(),
        actual_to_date: actual,
        forecast_total: forecast,
        currency: "USD".into(),
    }
}

fn cluster_budget() -> Budget {
    Budget::new(
        "shop-prod",
        BudgetScope::Cluster {
            cluster_id: "c1".into(),
        },
        1000.0,
        "usd",
    )
}

#[test]
fn actual_spend_steps_through_50_80_100() {
    let b = cluster_budget();
    for (actual, want) in [
        (499.99, None),
        (500.0, Some((Severity::Medium, 50.0))),
        (799.0, Some((Severity::Medium, 50.0))),
        (800.0, Some((Severity::High, 80.0))),
        (1000.0, Some((Severity::Critical, 100.0))),
        (2500.0, Some((Severity::Critical, 100.0))),
    ] {
        let s = evaluate(&b, &spend(actual, None)).unwrap();
        let got = s
            .firings
            .iter()
            .find(|f| f.rule == BudgetRule::BudgetActual)
            .map(|f| (f.severity, f.threshold));
        assert_eq!(got, want, "actual {actual}");
        assert!((s.actual_pct - actual / 10.0).abs() < 1e-9);
    }
}

#[test]
fn forecast_fires_only_at_80_and_100_one_step_lower() {
    let b = cluster_budget();
    let rule = |actual: f64, forecast: f64| {
        evaluate(&b, &spend(actual, Some(forecast)))
            .unwrap()
            .firings
            .into_iter()
            .find(|f| f.rule == BudgetRule::BudgetForecast)
            .map(|f| f.severity)
    };
    assert_eq!(rule(100.0, 600.0), None);
    assert_eq!(rule(100.0, 850.0), Some(Severity::Medium));
    assert_eq!(rule(100.0, 1200.0), Some(Severity::High));
}

#[test]
fn firings_fold_on_a_stable_key_in_the_alert_shape() {
    let b = cluster_budget();
    let low = evaluate(&b, &spend(500.0, Some(1100.0))).unwrap();
    let high = evaluate(&b, &spend(900.0, Some(1100.0))).unwrap();
    assert_eq!(low.firings.len(), 2);
    // The same condition keeps its key as it escalates, so the alert store
    // folds it into the open alert and raises the severity.
    assert_eq!(low.firings[0].key, high.firings[0].key);
    assert_eq!(low.firings[0].key, "c1|budget/shop-prod|budget_actual");
    assert_eq!(low.firings[1].key, "c1|budget/shop-prod|budget_forecast");
    assert!(high.firings[0].severity > low.firings[0].severity);
    let m = &high.firings[0].message;
    assert!(
        m.contains("900.00 USD") && m.contains("90 %") && m.contains("2026-11"),
        "{m}"
    );
    // A fleet-wide budget's alerts belong to the fleet.
    let fleet = Budget::new("all", BudgetScope::Fleet, 10.0, "USD");
    let s = evaluate(&fleet, &spend(6.0, None)).unwrap();
    assert_eq!(s.firings[0].cluster_id, "");
    assert_eq!(s.firings[0].key, "|budget/all|budget_actual");
}

#[test]
fn bad_budgets_and_spend_are_refused_clearly() {
    let ok = cluster_budget();
    let mut cases = Vec::new();
    for f in [
        |b: &mut Budget| b.name = " ".into(),
        |b: &mut Budget| b.amount = 0.0,
        |b: &mut Budget| b.amount = f64::NAN,
        |b: &mut Budget| b.currency = "dollars".into(),
        |b: &mut Budget| b.thresholds_pct = [80.0, 50.0, 100.0],
        |b: &mut Budget| b.thresholds_pct = [50.0, 80.0, f64::INFINITY],
        |b: &mut Budget| b.scope = BudgetScope::Cloud { cloud: "".into() },
    ] {
        let mut b = ok.clone();
        f(&mut b);
        cases.push(b);
    }
    for b in cases {
        let e = evaluate(&b, &spend(1.0, None)).unwrap_err();
        assert_eq!(e.kind(), "invalid_budget", "{b:?}");
        assert!(!e.hint().is_empty());
    }
    let mut eur = spend(1.0, None);
    eur.currency = "EUR".into();
    assert_eq!(
        evaluate(&ok, &eur).unwrap_err().kind(),
        "budget_currency_mismatch"
    );
    assert_eq!(
        evaluate(&ok, &spend(f64::NAN, None)).unwrap_err().kind(),
        "bad_budget_spend"
    );
    // Credits beyond the spend: a negative percentage, and no alert.
    let s = evaluate(&ok, &spend(-20.0, Some(-5.0))).unwrap();
    assert!(s.firings.is_empty() && s.actual_pct < 0.0);
}

#[test]
fn daily_spend_adds_the_rows_a_scope_covers() {
    let row =
        |cloud: &str, cluster: &str, team: &str, day, amount, currency: &str| ScopedDailyCost {
            cloud: cloud.into(),
            cluster_id: cluster.into(),
            tags: BTreeMap::from([("team".to_string(), team.to_string())]),
            day,
            amount,
            currency: currency.into(),
        };
    let rows = [
        row("aws", "c1", "shop", 1, 10.0, "USD"),
        row("aws", "c2", "data", 1, 5.0, "USD"),
        row("gcp", "c3", "shop", 1, 2.0, "USD"),
        row("aws", "c1", "shop", 2, -1.0, "USD"), // a credit
    ];
    let b = |scope| Budget::new("b", scope, 100.0, "USD");
    let days = |scope| daily_spend(&b(scope), &rows).unwrap();
    assert_eq!(
        days(BudgetScope::Cloud {
            cloud: "AWS".into()
        }),
        vec![
            DailyCost {
                day: 1,
                amount: 15.0
            },
            DailyCost {
                day: 2,
                amount: -1.0
            }
        ]
    );
    let shop = days(BudgetScope::Tag {
        key: "team".into(),
        value: "shop".into(),
    });
    assert_eq!(shop[0].amount, 12.0);
    assert_eq!(days(BudgetScope::Fleet)[0].amount, 17.0);
    let c3 = days(BudgetScope::Cluster {
        cluster_id: "c3".into(),
    });
    assert_eq!(c3.len(), 1);
    // Another currency in scope is refused, not summed.
    let mut mixed = rows.to_vec();
    mixed.push(row("gcp", "c3", "shop", 2, 3.0, "EUR"));
    let e = daily_spend(&b(BudgetScope::Fleet), &mixed).unwrap_err();
    assert_eq!(e.kind(), "budget_currency_mismatch");
}

#[test]
fn a_month_end_forecast_feeds_a_budget() {
    use crate::analysis::cost_forecast::{month_end_forecast, ForecastConfig};
    use crate::analysis::cost_series::day_from_civil;
    // $40 a day through 2026-11-15: 600 spent, 1200 forecast.
    let first = day_from_civil(2026, 11, 1);
    let days: Vec<DailyCost> = (-21..15)
        .map(|i| DailyCost {
            day: first + i,
            amount: 40.0,
        })
        .collect();
    let f = month_end_forecast(&days, &ForecastConfig::default()).unwrap();
    let spend = BudgetSpend::from_forecast(&f, "USD");
    assert_eq!(spend.month, "2026-11");
    assert!((spend.actual_to_date - 600.0).abs() < 1e-9);
    let s = evaluate(&cluster_budget(), &spend).unwrap();
    let got: Vec<(BudgetRule, Severity)> = s.firings.iter().map(|f| (f.rule, f.severity)).collect();
    assert_eq!(
        got,
        [
            (BudgetRule::BudgetActual, Severity::Medium),
            (BudgetRule::BudgetForecast, Severity::High)
        ]
    );
}
