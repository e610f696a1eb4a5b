//! Budget alerts on a real SQLite cache with the migrations.

use super::*;
use crate::analysis::alerts::alert_key;
use crate::analysis::anomaly::Severity;
use crate::analysis::cost_series::{day_from_civil, iso_date};
use crate::cost::{CostFetch, CostLine, CostSource};
use crate::model::{ClusterSummary, Provider};
use crate::store::{AlertQuery, AlertState, CostWindow, CostWrite};

const C: &str = "aws/prod/us-east-1/eks1";

/// Noon of a day of 2025.
fn at(month: u32, day: u32) -> i64 {
    day_from_civil(2025, month, day) * 86_400 + 12 * 3600
}

/// The cluster's bill: 100 a day on `[from, until)` (days since the epoch).
fn bill(store: &mut Store, from: i64, until: i64) {
    let lines = (from..until)
        .map(|d| CostLine {
            cluster_id: Some(C.into()),
            day: iso_date(d),
            category: "compute".into(),
            amount: 100.0,
            currency: "USD".into(),
            source: CostSource::Actual,
            is_final: true,
        })
        .collect();
    let fetched_at = until * 86_400;
    store
        .write_costs(&CostWrite {
            provider: Provider::Aws,
            account: "prod".into(),
            collected_at: fetched_at,
            windows: vec![CostWindow {
                source: CostSource::Actual,
                first_day: iso_date(from),
                end_day: iso_date(until),
            }],
            lines,
            months: vec![],
            closed_days: vec![],
            fetch: CostFetch {
                provider: Provider::Aws,
                account: "prod".into(),
                fetched_at,
                api_calls: 1,
                pages: 1,
                first_day: Some(iso_date(from)),
                end_day: Some(iso_date(until)),
                next_refresh_at: fetched_at + 6 * 3600,
                reported_month_to_date: None,
                notes: vec![],
                error: None,
            },
        })
        .unwrap();
}

/// A cache with the cluster billed 100 a day from May 1 up to and
/// including `through` (a day of 2025), and one cluster budget.
fn cache(through: (u32, u32), amount: f64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    store
        .upsert_clusters(&[ClusterSummary {
            id: C.into(),
            provider: Provider::Aws,
            account: "prod".into(),
            name: "eks1".into(),
            region: "us-east-1".into(),
            version: None,
            status: "ACTIVE".into(),
            endpoint: None,
            node_pools: vec![],
            collected_at: at(5, 1),
            gone_at: None,
        }])
        .unwrap();
    bill(
        &mut store,
        day_from_civil(2025, 5, 1),
        day_from_civil(2025, through.0, through.1) + 1,
    );
    let budget = Budget::new(
        "eks1-monthly",
        BudgetScope::Cluster {
            cluster_id: C.into(),
        },
        amount,
        "usd",
    );
    store.put_budget(&budget, at(5, 1)).unwrap();
    (dir, store)
}

fn active(store: &Store) -> Vec<crate::store::Alert> {
    store.active_alerts_of_rules(&BUDGET_RULES).unwrap()
}

#[test]
fn crossing_50_then_80_percent_raises_then_escalates_one_alert() {
    // 3 500 a month; June 18 is 1 800 spent (51 %), June 28 is 2 800 (80 %).
    let (_dir, mut store) = cache((6, 18), 3500.0);
    let pass = evaluate_budgets(&mut store, at(6, 18), &AlertPolicy::default()).unwrap();
    assert_eq!(pass.month, "2025-06");
    let status = pass.checks[0].status.as_ref().unwrap();
    assert!((status.actual_to_date - 1800.0).abs() < 1e-6);
    let opened: Vec<_> = pass
        .changes
        .opened
        .iter()
        .filter(|a| a.rule == AlertRule::BudgetActual)
        .collect();
    assert_eq!(opened.len(), 1, "{:?}", pass.changes);
    let first = opened[0].clone();
    assert_eq!(first.severity, Severity::Medium);
    assert_eq!(first.cluster_id, C);
    assert_eq!(first.subject, "budget/eks1-monthly");
    assert!(first.key.contains("|2025-06|"), "{}", first.key);
    assert!((first.threshold - 50.0).abs() < 1e-9);
    // Medium does not notify.
    assert!(!pass.changes.to_notify().any(|a| a.id == first.id));

    // A later refresh at the same level folds: no new alert, no notification.
    let again =
        evaluate_budgets(&mut store, at(6, 18) + 6 * 3600, &AlertPolicy::default()).unwrap();
    assert!(again
        .changes
        .opened
        .iter()
        .all(|a| a.rule != AlertRule::BudgetActual));
    assert!(again.changes.folded.iter().any(|a| a.id == first.id));

    // Ten more days: 2 800 of 3 500 is 80 %: the same alert is raised to high
    // and notifies, hours after the last refresh (cost refreshes are slow).
    bill(
        &mut store,
        day_from_civil(2025, 6, 19),
        day_from_civil(2025, 6, 29),
    );
    let later = evaluate_budgets(&mut store, at(6, 28), &AlertPolicy::default()).unwrap();
    let raised: Vec<_> = later
        .changes
        .raised
        .iter()
        .filter(|a| a.rule == AlertRule::BudgetActual)
        .collect();
    assert_eq!(raised.len(), 1, "{:?}", later.changes);
    assert_eq!(raised[0].id, first.id);
    assert_eq!(raised[0].severity, Severity::High);
    assert!((raised[0].threshold - 80.0).abs() < 1e-9);
    assert!(later.changes.to_notify().any(|a| a.id == first.id));
    let actual: Vec<_> = active(&store)
        .into_iter()
        .filter(|a| a.rule == AlertRule::BudgetActual)
        .collect();
    assert_eq!(actual.len(), 1);
}

#[test]
fn a_forecast_over_100_percent_raises_the_forecast_alert() {
    // 2 500 a month; June 10 has 1 000 spent (40 %: no actual alert) and a
    // 100-a-day month is forecast near 3 000 (120 %).
    let (_dir, mut store) = cache((6, 10), 2500.0);
    let pass = evaluate_budgets(&mut store, at(6, 10), &AlertPolicy::default()).unwrap();
    let status = pass.checks[0].status.as_ref().unwrap();
    assert!(status.actual_pct < 50.0, "{status:?}");
    assert!(status.forecast_pct.unwrap() >= 100.0, "{status:?}");
    assert_eq!(pass.changes.opened.len(), 1, "{:?}", pass.changes);
    let a = &pass.changes.opened[0];
    assert_eq!(a.rule, AlertRule::BudgetForecast);
    assert_eq!(a.severity, Severity::High);
    assert!(a.message.contains("forecast to spend"), "{}", a.message);
    assert!(pass.changes.to_notify().any(|n| n.id == a.id));
}

#[test]
fn the_next_month_resolves_and_the_metric_pass_does_not() {
    let (_dir, mut store) = cache((6, 28), 3500.0);
    let june = evaluate_budgets(&mut store, at(6, 28), &AlertPolicy::default()).unwrap();
    assert_eq!(june.changes.opened.len(), 2, "actual and forecast");

    // A metric pass over the same cluster, with nothing firing, an hour
    // later: budget alerts are not its to resolve.
    let metric = store
        .apply_firings(
            at(6, 28) + 3600,
            &[C.to_owned()],
            &[],
            &AlertPolicy::default(),
        )
        .unwrap();
    assert!(metric.resolved.is_empty(), "{metric:?}");
    assert_eq!(active(&store).len(), 2);

    // July 1: 100 spent of 3 500, June's alerts resolve.
    bill(
        &mut store,
        day_from_civil(2025, 6, 29),
        day_from_civil(2025, 7, 2),
    );
    let july = evaluate_budgets(&mut store, at(7, 1), &AlertPolicy::default()).unwrap();
    assert_eq!(july.month, "2025-07");
    assert_eq!(july.changes.resolved.len(), 2, "{:?}", july.changes);
    assert!(july
        .changes
        .resolved
        .iter()
        .all(|a| a.state == AlertState::Resolved && a.resolved_by.as_deref() == Some("cloudops")));
    // July is forecast near 3 100 (89 %): a new July forecast alert, and
    // nothing of June stays active.
    let now_active = active(&store);
    assert!(
        now_active.iter().all(|a| a.key.contains("|2025-07|")),
        "{now_active:?}"
    );
    assert_eq!(
        now_active.iter().map(|a| a.rule).collect::<Vec<_>>(),
        [AlertRule::BudgetForecast]
    );
    // Resolved, not deleted: the history keeps them.
    let all = store
        .alerts(&AlertQuery {
            state: Some(AlertState::Resolved),
            ..AlertQuery::default()
        })
        .unwrap();
    assert_eq!(all.len(), 2);
}

#[test]
fn editing_or_deleting_a_budget_resolves_its_alerts() {
    let (_dir, mut store) = cache((6, 28), 3500.0);
    evaluate_budgets(&mut store, at(6, 28), &AlertPolicy::default()).unwrap();
    let before = active(&store);
    assert_eq!(before.len(), 2);

    // Raised to 10 000: 28 % spent, 30 % forecast: nothing fires any more.
    let mut b = store.budget_by_name("eks1-monthly").unwrap().unwrap();
    b.amount = 10_000.0;
    store.put_budget(&b, at(6, 28)).unwrap();
    let pass = evaluate_budgets(&mut store, at(6, 28) + 60, &AlertPolicy::default()).unwrap();
    assert_eq!(pass.changes.resolved.len(), 2);
    assert!(active(&store).is_empty());

    // Lowered to 3 000 (93 %): it fires again under a new key, then a delete
    // resolves that.
    b.amount = 3_000.0;
    store.put_budget(&b, at(6, 28)).unwrap();
    let pass = evaluate_budgets(&mut store, at(6, 28) + 120, &AlertPolicy::default()).unwrap();
    let reopened = active(&store);
    assert_eq!(reopened.len(), 2, "{:?}", pass.changes);
    assert!(reopened
        .iter()
        .all(|a| before.iter().all(|o| o.key != a.key)));
    store.delete_budget(b.id.unwrap()).unwrap();
    let pass = evaluate_budgets(&mut store, at(6, 28) + 180, &AlertPolicy::default()).unwrap();
    assert_eq!(pass.changes.resolved.len(), 2);
    assert!(active(&store).is_empty());
}

#[test]
fn an_unchecked_budget_keeps_its_alerts_of_the_month() {
    let (_dir, mut store) = cache((6, 28), 3500.0);
    evaluate_budgets(&mut store, at(6, 28), &AlertPolicy::default()).unwrap();
    // Same budget, and the spend now in another currency: the check fails,
    // which is not the condition clearing.
    bill_in_eur(&mut store, day_from_civil(2025, 6, 29));
    let pass = evaluate_budgets(&mut store, at(6, 29), &AlertPolicy::default()).unwrap();
    assert!(pass.checks[0].status.is_err());
    assert!(pass.changes.resolved.is_empty(), "{:?}", pass.changes);
    assert_eq!(active(&store).len(), 2);
}

fn bill_in_eur(store: &mut Store, day: i64) {
    let fetched_at = (day + 1) * 86_400;
    store
        .write_costs(&CostWrite {
            provider: Provider::Aws,
            account: "prod".into(),
            collected_at: fetched_at,
            windows: vec![CostWindow {
                source: CostSource::Actual,
                first_day: iso_date(day),
                end_day: iso_date(day + 1),
            }],
            lines: vec![CostLine {
                cluster_id: Some(C.into()),
                day: iso_date(day),
                category: "compute".into(),
                amount: 90.0,
                currency: "EUR".into(),
                source: CostSource::Actual,
                is_final: true,
            }],
            months: vec![],
            closed_days: vec![],
            fetch: CostFetch {
                provider: Provider::Aws,
                account: "prod".into(),
                fetched_at,
                api_calls: 1,
                pages: 1,
                first_day: Some(iso_date(day)),
                end_day: Some(iso_date(day + 1)),
                next_refresh_at: fetched_at + 6 * 3600,
                reported_month_to_date: None,
                notes: vec![],
                error: None,
            },
        })
        .unwrap();
}

#[test]
fn budget_rules_take_no_thresholds_from_the_rules_file() {
    use crate::analysis::alerts::AlertRules;
    let rules = AlertRules::default();
    assert!(rules
        .defaults
        .steps(AlertRule::BudgetActual)
        .classify(1e9)
        .is_none());
    // The settings file cannot name them.
    let e = AlertRules::from_json(r#"{"defaults": {"budget_actual": {"medium": 1}}}"#);
    assert!(e.is_err());
    assert!(!AlertRule::BudgetActual.owned_by_metric_pass());
    assert_eq!(
        AlertRule::parse("budget_forecast"),
        Some(AlertRule::BudgetForecast)
    );
    // The key is the budget firing's with the month and fingerprint.
    assert!(alert_key("", "budget/x", AlertRule::BudgetActual).ends_with("budget_actual"));
}
