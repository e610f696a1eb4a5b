//! The cost cache on a real SQLite file with the migrations.

use super::costs::{CostWindow, CostWrite};
use super::{Store, StoreError};
use crate::cost::{CostFetch, CostLine, CostSource, Money, MonthCostLine};
use crate::model::Provider;

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    (dir, store)
}

fn line(cluster: Option<&str>, day: &str, category: &str, amount: f64, currency: &str) -> CostLine {
    CostLine {
        cluster_id: cluster.map(str::to_owned),
        day: day.into(),
        category: category.into(),
        amount,
        currency: currency.into(),
        source: CostSource::Actual,
        is_final: false,
    }
}

fn fetch(at: i64, calls: u32) -> CostFetch {
    CostFetch {
        provider: Provider::Aws,
        account: "prod".into(),
        fetched_at: at,
        api_calls: calls,
        pages: calls,
        first_day: Some("2025-06-01".into()),
        end_day: Some("2025-06-04".into()),
        next_refresh_at: at + 6 * 3600,
        reported_month_to_date: None,
        notes: vec![],
        error: None,
    }
}

fn write(at: i64, lines: Vec<CostLine>) -> CostWrite {
    CostWrite {
        provider: Provider::Aws,
        account: "prod".into(),
        collected_at: at,
        windows: vec![CostWindow {
            source: CostSource::Actual,
            first_day: "2025-06-01".into(),
            end_day: "2025-06-04".into(),
        }],
        lines,
        months: vec![],
        closed_days: vec![(CostSource::Actual, "2025-06-01".into())],
        fetch: fetch(at, 2),
    }
}

fn mtd(store: &Store, cluster: &str) -> Option<f64> {
    store
        .cost_month_to_date("2025-06", Some(cluster))
        .unwrap()
        .into_iter()
        .find(|m| m.currency == "USD")
        .and_then(|m| m.actual)
}

#[test]
fn writing_the_same_fetch_twice_does_not_double_count() {
    let (_d, mut store) = open();
    let lines = vec![
        line(Some("c1"), "2025-06-01", "EC2", 10.0, "USD"),
        line(Some("c1"), "2025-06-02", "EC2", 12.5, "USD"),
        line(None, "2025-06-02", "S3", 1.0, "USD"),
    ];
    let first = store.write_costs(&write(100, lines.clone())).unwrap();
    assert_eq!((first.replaced, first.written), (0, 3));
    let again = store.write_costs(&write(200, lines)).unwrap();
    assert_eq!(again.replaced, 3);
    assert_eq!(mtd(&store, "c1"), Some(22.5));
    let days = store.cost_days("2025-06-01", "2025-06-04", None).unwrap();
    assert_eq!(days.len(), 3);
    assert_eq!(days.iter().filter(|d| d.cluster_id.is_none()).count(), 1);
    // A day that changed is replaced, not added to.
    store
        .write_costs(&write(
            300,
            vec![line(Some("c1"), "2025-06-02", "EC2", 20.0, "USD")],
        ))
        .unwrap();
    assert_eq!(mtd(&store, "c1"), Some(20.0));
}

#[test]
fn credits_stay_negative_lines_and_the_total_nets_them() {
    let (_d, mut store) = open();
    store
        .write_costs(&write(
            100,
            vec![
                line(Some("c1"), "2025-06-01", "EC2", 30.0, "USD"),
                line(Some("c1"), "2025-06-01", "Credit", -5.0, "USD"),
                line(Some("c1"), "2025-06-02", "Refund", -2.5, "USD"),
            ],
        ))
        .unwrap();
    assert_eq!(mtd(&store, "c1"), Some(22.5));
    let days = store
        .cost_days("2025-06-01", "2025-06-04", Some("c1"))
        .unwrap();
    assert_eq!(
        days.iter().map(|d| d.amount).collect::<Vec<_>>(),
        [25.0, -2.5]
    );
}

#[test]
fn currencies_are_never_added_together() {
    let (_d, mut store) = open();
    store
        .write_costs(&write(
            100,
            vec![
                line(Some("c1"), "2025-06-01", "EC2", 10.0, "USD"),
                line(Some("c1"), "2025-06-01", "EC2", 7.0, "EUR"),
            ],
        ))
        .unwrap();
    let mut totals: Vec<(String, f64)> = store
        .cost_month_to_date("2025-06", Some("c1"))
        .unwrap()
        .into_iter()
        .map(|m| (m.currency, m.actual.unwrap()))
        .collect();
    totals.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(totals, [("EUR".into(), 7.0), ("USD".into(), 10.0)]);
}

#[test]
fn bad_lines_are_refused_and_nothing_is_written() {
    let (_d, mut store) = open();
    for bad in [
        line(Some("c1"), "2025-06-09", "EC2", 1.0, "USD"),
        line(Some("c1"), "2025-06-01", "EC2", f64::NAN, "USD"),
        line(Some("c1"), "2025-06-01", "EC2", 1.0, "dollars"),
    ] {
        let err = store.write_costs(&write(100, vec![bad])).unwrap_err();
        assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
    }
    assert!(store.cost_fetches().unwrap().is_empty());
    assert!(store
        .cost_days("2025-06-01", "2025-07-01", None)
        .unwrap()
        .is_empty());
}

#[test]
fn closed_days_fetch_log_and_month_lines() {
    let (_d, mut store) = open();
    let mut w = write(100, vec![line(Some("c1"), "2025-06-01", "EC2", 4.0, "USD")]);
    w.months = vec![MonthCostLine {
        cluster_id: Some("c1".into()),
        month: "2025-06".into(),
        category: "Kubernetes Clusters".into(),
        amount: 6.0,
        currency: "USD".into(),
        source: CostSource::Estimate,
    }];
    w.fetch.reported_month_to_date = Some(Money {
        amount: 11.21,
        currency: "USD".into(),
    });
    store.write_costs(&w).unwrap();
    let closed = store
        .closed_cost_days(
            Provider::Aws,
            "prod",
            CostSource::Actual,
            "2025-06-01",
            "2025-07-01",
        )
        .unwrap();
    assert_eq!(closed.into_iter().collect::<Vec<_>>(), ["2025-06-01"]);
    let m = &store.cost_month_to_date("2025-06", Some("c1")).unwrap()[0];
    assert_eq!((m.actual, m.estimate), (Some(4.0), Some(6.0)));

    let mut later = fetch(500, 3);
    later.notes = vec!["nothing due".into()];
    store.record_cost_fetch(&later).unwrap();
    let last = store
        .last_cost_fetch(Provider::Aws, "prod")
        .unwrap()
        .unwrap();
    assert_eq!((last.fetched_at, last.notes.clone()), (500, later.notes));
    assert_eq!(store.cost_fetches().unwrap().len(), 1);
    assert_eq!(
        store
            .cost_api_calls_since(Provider::Aws, "prod", 0)
            .unwrap(),
        5
    );
    assert_eq!(
        store
            .cost_api_calls_since(Provider::Aws, "prod", 200)
            .unwrap(),
        3
    );
    assert_eq!(store.oldest_cost_fetch().unwrap(), Some(500));
    let first = store.cost_fetches().unwrap();
    assert_eq!(first[0].reported_month_to_date, None);
}
