use super::*;
use crate::analysis::causes::CauseKind;

const C1: &str = "aws/acct/eu-west-1/prod";
const C2: &str = "do/acct/fra1/edge";
const T: i64 = 1_700_000_000;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    (dir, store)
}

fn cause(detail: &str, at: i64) -> Cause {
    Cause {
        kind: CauseKind::Rollout,
        detail: detail.into(),
        at,
        weight: 1.0,
    }
}

fn flagged(cluster: &str, started: i64, at: i64, score: f64, value: f64) -> SeriesVerdict {
    SeriesVerdict {
        cluster_id: cluster.into(),
        subject: "service/checkout".into(),
        metric: AnomalyMetric::ErrorPct,
        last_point: at,
        detection: Some(Detection {
            started_at: started,
            at,
            severity: Severity::from_score(score).unwrap_or(Severity::Medium),
            peak_score: score,
            value,
            baseline: Some(0.5),
            causes: vec![cause("rollout of deployment shop/checkout", started)],
        }),
    }
}

fn quiet(cluster: &str, at: i64) -> SeriesVerdict {
    SeriesVerdict {
        cluster_id: cluster.into(),
        subject: "service/checkout".into(),
        metric: AnomalyMetric::ErrorPct,
        last_point: at,
        detection: None,
    }
}

fn all(store: &Store) -> Vec<Anomaly> {
    store.anomalies(&AnomalyQuery::default()).unwrap().anomalies
}

#[test]
fn open_extend_close_as_a_table() {
    let (_d, mut store) = store();
    // (verdict, opened, extended, closed, rows after, open after)
    let steps: Vec<(SeriesVerdict, usize, usize, usize, usize, usize)> = vec![
        (quiet(C1, T), 0, 0, 0, 0, 0),
        (flagged(C1, T, T + 600, 4.5, 30.0), 1, 0, 0, 1, 1),
        (flagged(C1, T, T + 900, 9.0, 35.0), 0, 1, 0, 1, 1),
        // A different cluster is a different key.
        (flagged(C2, T, T + 900, 4.2, 12.0), 1, 0, 0, 2, 2),
        (quiet(C1, T + 1200), 0, 0, 1, 2, 1),
        (quiet(C1, T + 1500), 0, 0, 0, 2, 1),
        // A new incident after the close is a new row.
        (flagged(C1, T + 3000, T + 3600, 6.0, 40.0), 1, 0, 0, 3, 2),
    ];
    for (i, (v, o, e, c, rows, open)) in steps.into_iter().enumerate() {
        let ch = store.apply_anomaly_verdicts(&[v]).unwrap();
        assert_eq!(
            (ch.opened.len(), ch.extended.len(), ch.closed.len()),
            (o, e, c),
            "step {i}: {ch:?}"
        );
        let rows_now = all(&store);
        assert_eq!(rows_now.len(), rows, "step {i}");
        let open_now = rows_now
            .iter()
            .filter(|a| a.state == AnomalyState::Open)
            .count();
        assert_eq!(open_now, open, "step {i}");
    }
    let first = store
        .anomalies(&AnomalyQuery {
            cluster: Some(C1.into()),
            state: Some(AnomalyState::Closed),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.total, 1);
    let a = &first.anomalies[0];
    assert_eq!(
        (a.started_at, a.last_seen, a.ended_at),
        (T, T + 900, Some(T + 1200))
    );
    assert_eq!(a.severity, Severity::Critical, "raised by the extension");
    assert_eq!(a.peak_score, 9.0);
    assert_eq!(a.value, 35.0);
    assert_eq!(a.metric, AnomalyMetric::ErrorPct);
    assert_eq!(a.causes.len(), 1);
    assert_eq!(store.anomaly(a.id).unwrap().as_ref(), Some(a));
    assert_eq!(store.anomaly(9999).unwrap(), None);
}

#[test]
fn re_running_on_the_same_data_changes_nothing() {
    let (_d, mut store) = store();
    let pass = [flagged(C1, T, T + 600, 5.5, 30.0)];
    store.apply_anomaly_verdicts(&pass).unwrap();
    let before = all(&store);
    for _ in 0..3 {
        let ch = store.apply_anomaly_verdicts(&pass).unwrap();
        assert!(ch.opened.is_empty());
    }
    assert_eq!(
        all(&store),
        before,
        "extending with the same data is a no-op"
    );

    // Closed, then the old flagged run is replayed: not reopened.
    store.apply_anomaly_verdicts(&[quiet(C1, T + 900)]).unwrap();
    let closed = all(&store);
    let ch = store.apply_anomaly_verdicts(&pass).unwrap();
    assert_eq!(ch, AnomalyChanges::default());
    assert_eq!(all(&store), closed);
    // An older point extending an open anomaly does not move it back.
    store
        .apply_anomaly_verdicts(&[flagged(C2, T, T + 600, 5.5, 30.0)])
        .unwrap();
    store
        .apply_anomaly_verdicts(&[flagged(C2, T, T + 300, 4.1, 10.0)])
        .unwrap();
    let c2 = store.open_anomalies(C2).unwrap();
    assert_eq!(
        (c2[0].last_seen, c2[0].value, c2[0].peak_score),
        (T + 600, 30.0, 5.5)
    );
}

#[test]
fn listing_filters_and_pages() {
    let (_d, mut store) = store();
    let mut verdicts = Vec::new();
    for i in 0..5 {
        let mut v = flagged(C1, T, T + 100 * i, 4.5, 1.0);
        v.subject = format!("service/s{i}");
        verdicts.push(v);
    }
    verdicts.push(flagged(C2, T, T + 50, 4.5, 1.0));
    store.apply_anomaly_verdicts(&verdicts).unwrap();
    let page = store
        .anomalies(&AnomalyQuery {
            cluster: Some(C1.into()),
            limit: Some(2),
            offset: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.total, 5);
    let subjects: Vec<&str> = page.anomalies.iter().map(|a| a.subject.as_str()).collect();
    assert_eq!(subjects, ["service/s3", "service/s2"], "newest first");
    let since = store
        .anomalies(&AnomalyQuery {
            since: Some(T + 300),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(since.total, 2);
    let closed = store
        .anomalies(&AnomalyQuery {
            state: Some(AnomalyState::Closed),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(closed.total, 0);
    let too_big = store.anomalies(&AnomalyQuery {
        limit: Some(MAX_ANOMALIES_PAGE + 1),
        ..Default::default()
    });
    assert_eq!(too_big.unwrap_err().kind(), "cache_invalid_input");
}
