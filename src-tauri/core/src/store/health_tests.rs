use super::health::{FLEET_ID, HEALTH_RETENTION_SECS};
use super::Store;
use crate::analysis::health::{fleet_score, ClusterScore, FleetScore, Reason, Score};

fn cluster(id: &str, value: Option<f64>) -> ClusterScore {
    ClusterScore {
        cluster_id: id.into(),
        score: Score {
            value,
            reasons: value
                .filter(|v| *v < 100.0)
                .map(|v| Reason {
                    kind: "latency",
                    points: 100.0 - v,
                    detail: "p95 2.4 s in checkout".into(),
                })
                .into_iter()
                .collect(),
        },
        services: vec![],
        basis: if value.is_some() { "services" } else { "none" },
    }
}

fn fleet(a: Option<f64>, b: Option<f64>) -> FleetScore {
    fleet_score(vec![cluster("a", a), cluster("b", b)])
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    (dir, store)
}

#[test]
fn recorded_scores_come_back_in_order_with_unknown_as_none() {
    let (_dir, mut store) = open();
    store
        .record_health(1_000, &fleet(Some(90.0), None))
        .unwrap();
    store
        .record_health(1_060, &fleet(Some(80.5), Some(40.0)))
        .unwrap();
    assert_eq!(
        store.health_history("a", 0).unwrap(),
        [(1_000, Some(90.0)), (1_060, Some(80.5))]
    );
    assert_eq!(
        store.health_history("b", 0).unwrap(),
        [(1_000, None), (1_060, Some(40.0))]
    );
    // The fleet is the mean of the known clusters.
    assert_eq!(
        store.health_history(FLEET_ID, 0).unwrap(),
        [(1_000, Some(90.0)), (1_060, Some(60.3))]
    );
    assert_eq!(
        store.health_history("a", 1_001).unwrap(),
        [(1_060, Some(80.5))]
    );
    assert!(store.health_history("nope", 0).unwrap().is_empty());
    // The reasons are kept as JSON beside the score.
    let json: String = store
        .conn()
        .query_row(
            "SELECT reasons_json FROM health_scores WHERE cluster_id = 'a' AND at = 1060",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(json.contains("p95 2.4 s in checkout"), "{json}");
}

#[test]
fn recording_at_the_same_time_replaces_and_survives_a_reopen() {
    let (dir, mut store) = open();
    store.record_health(500, &fleet(Some(10.0), None)).unwrap();
    store.record_health(500, &fleet(Some(95.0), None)).unwrap();
    drop(store);
    let store = Store::open_in(dir.path()).unwrap();
    assert_eq!(store.health_history("a", 0).unwrap(), [(500, Some(95.0))]);
}

#[test]
fn scores_older_than_35_days_are_pruned_on_record() {
    let (_dir, mut store) = open();
    let day = 86_400;
    store.record_health(0, &fleet(Some(50.0), None)).unwrap();
    store.record_health(day, &fleet(Some(60.0), None)).unwrap();
    let pruned = store
        .record_health(HEALTH_RETENTION_SECS + day / 2, &fleet(Some(70.0), None))
        .unwrap();
    // Fleet, a and b at t = 0 are gone; t = 1 day is within 35 days.
    assert_eq!(pruned, 3);
    assert_eq!(
        store.health_history("a", i64::MIN).unwrap(),
        [
            (day, Some(60.0)),
            (HEALTH_RETENTION_SECS + day / 2, Some(70.0))
        ]
    );
}

#[test]
fn buckets_average_known_scores_and_keep_unknown_as_none() {
    let (_dir, mut store) = open();
    store.record_health(600, &fleet(Some(80.0), None)).unwrap();
    store.record_health(900, &fleet(None, None)).unwrap();
    store
        .record_health(1_100, &fleet(Some(90.0), None))
        .unwrap();
    store
        .record_health(1_300, &fleet(Some(70.0), None))
        .unwrap();
    assert_eq!(
        store.health_history_buckets("a", 0, 600).unwrap(),
        [(600, Some(85.0)), (1_200, Some(70.0))]
    );
    assert_eq!(
        store.health_history_buckets("b", 0, 600).unwrap(),
        [(600, None), (1_200, None)]
    );
    assert!(store.health_history_buckets("a", 0, 0).is_err());
}

#[test]
fn an_empty_cluster_id_is_refused() {
    let (_dir, mut store) = open();
    let bad = fleet_score(vec![cluster("", Some(50.0))]);
    assert!(store.record_health(1, &bad).is_err());
    assert!(store.health_history(FLEET_ID, 0).unwrap().is_empty());
}
