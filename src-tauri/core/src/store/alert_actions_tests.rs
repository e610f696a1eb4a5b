use super::*;
use crate::analysis::alerts::{alert_key, AlertRule, Firing};
use crate::analysis::anomaly::Severity;
use crate::store::{AlertPolicy, AlertQuery};

const C1: &str = "aws/acct/eu-west-1/prod";
const C2: &str = "do/acct/fra1/edge";

fn firing(cluster: &str, service: &str, severity: Severity) -> Firing {
    let subject = format!("service/{service}");
    Firing {
        key: alert_key(cluster, &subject, AlertRule::ServiceP95),
        cluster_id: cluster.into(),
        subject,
        rule: AlertRule::ServiceP95,
        severity,
        value: 5.5,
        threshold: 5.0,
        message: format!("p95 5.5 s in {service} on {cluster}"),
    }
}

/// A store with three open alerts (ids 1, 2, 3): two on C1, one on C2.
fn store_with_three() -> (tempfile::TempDir, Store, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open_in(dir.path()).unwrap();
    let changes = s
        .apply_firings(
            1000,
            &[C1.to_owned(), C2.to_owned()],
            &[
                firing(C1, "checkout", Severity::Critical),
                firing(C1, "cart", Severity::Medium),
                firing(C2, "checkout", Severity::High),
            ],
            &AlertPolicy::default(),
        )
        .unwrap();
    let ids = changes.opened.iter().map(|a| a.id).collect();
    (dir, s, ids)
}

#[test]
fn bulk_acknowledge_changes_the_open_ones_and_says_why_others_were_skipped() {
    let (_d, mut s, ids) = store_with_three();
    s.resolve(ids[2], "alice", 1100).unwrap();
    let out = s
        .acknowledge_many(&[ids[0], ids[1], ids[2], 999, ids[0]], "bob", 1200)
        .unwrap();
    let changed: Vec<i64> = out.changed.iter().map(|a| a.id).collect();
    assert_eq!(changed, [ids[0], ids[1]], "the duplicate id counts once");
    assert!(out.changed.iter().all(
        |a| a.state == AlertState::Acknowledged && a.acknowledged_by.as_deref() == Some("bob")
    ));
    let skipped: Vec<(i64, &str)> = out
        .skipped
        .iter()
        .map(|k| (k.id, k.kind.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [(ids[2], "alert_already_resolved"), (999, "unknown_alert")]
    );
    // One audit row per changed alert (plus alice's resolve), none for the skipped.
    let audit = s.audit_log().unwrap();
    let rows: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.target.as_str(), e.actor.as_str()))
        .collect();
    let t = |id: i64| format!("alert/{id}");
    let (t0, t1, t2) = (t(ids[0]), t(ids[1]), t(ids[2]));
    assert_eq!(
        rows,
        [
            ("alert.resolve", t2.as_str(), "alice"),
            ("alert.acknowledge", t0.as_str(), "bob"),
            ("alert.acknowledge", t1.as_str(), "bob"),
        ]
    );
}

#[test]
fn bulk_resolve_takes_open_and_acknowledged_alerts() {
    let (_d, mut s, ids) = store_with_three();
    s.acknowledge(ids[1], "alice", 1100).unwrap();
    let out = s.resolve_many(&ids, "bob", 1200).unwrap();
    assert_eq!(out.changed.len(), 3);
    assert!(out.skipped.is_empty());
    let open = s
        .alerts(&AlertQuery {
            state: Some(AlertState::Open),
            ..AlertQuery::default()
        })
        .unwrap();
    assert!(open.is_empty());
    let again = s.resolve_many(&ids, "bob", 1300).unwrap();
    assert!(again.changed.is_empty());
    assert_eq!(again.skipped.len(), 3);
}

#[test]
fn bulk_id_lists_are_bounded_and_positive() {
    let (_d, mut s, _ids) = store_with_three();
    for bad in [vec![], vec![0], vec![1, -4], vec![1; MAX_BULK_ALERTS + 1]] {
        let err = s.acknowledge_many(&bad, "bob", 1200).unwrap_err();
        assert_eq!(err.kind(), "invalid_argument", "{bad:?}: {err}");
        assert!(!err.hint().is_empty());
    }
    // Exactly the bound is fine (all the same id: it folds to one).
    let out = s
        .acknowledge_many(&vec![1; MAX_BULK_ALERTS], "bob", 1200)
        .unwrap();
    assert_eq!(out.changed.len(), 1);
    assert!(s.audit_log().unwrap().len() == 1);
}

#[test]
fn the_detail_timeline_shows_who_did_what_in_order() {
    let (_d, mut s, ids) = store_with_three();
    s.acknowledge(ids[0], "alice", 1100).unwrap();
    s.resolve(ids[0], "bob", 1200).unwrap();
    let d = s.alert_detail(ids[0]).unwrap();
    assert_eq!(d.alert.id, ids[0]);
    assert_eq!(d.alert.acknowledged_by.as_deref(), Some("alice"));
    let steps: Vec<(&str, &str)> = d
        .timeline
        .iter()
        .map(|e| (e.what.as_str(), e.actor.as_str()))
        .collect();
    // Critical: notified when it opened. The audit rows carry wall-clock
    // times (after the test's 1000), so they sort after opening.
    assert_eq!(
        steps,
        [
            ("opened", "cloudops"),
            ("notified", "cloudops"),
            ("acknowledged", "alice"),
            ("resolved", "bob"),
        ]
    );
    assert!(d.timeline[2].audit_id.is_some() && d.timeline[0].audit_id.is_none());

    // The medium alert resolved by the evaluation: no audit row, but the
    // timeline still says so.
    s.apply_firings(
        2000,
        &[C1.to_owned()],
        &[firing(C1, "checkout", Severity::Critical)],
        &AlertPolicy::default(),
    )
    .unwrap();
    let d = s.alert_detail(ids[1]).unwrap();
    let steps: Vec<&str> = d.timeline.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(steps, ["opened", "resolved"]);
    assert_eq!(d.timeline[1].actor, "cloudops");
    assert_eq!(d.timeline[1].at, 2000);

    assert_eq!(s.alert_detail(4242).unwrap_err().kind(), "unknown_alert");
}

#[test]
fn history_pages_through_resolved_alerts_newest_resolution_first() {
    let (_d, mut s, ids) = store_with_three();
    s.resolve(ids[1], "a", 1100).unwrap();
    s.resolve(ids[0], "a", 1300).unwrap();
    s.resolve(ids[2], "a", 1200).unwrap();
    let page = |offset, limit| {
        s.alert_history(None, offset, limit)
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(0, 2), [ids[0], ids[2]]);
    assert_eq!(page(2, 2), [ids[1]]);
    assert!(page(3, 2).is_empty());
    let c2: Vec<i64> = s
        .alert_history(Some(C2), 0, 10)
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(c2, [ids[2]]);
    assert_eq!(
        s.alert_history(None, 0, 0).unwrap_err().kind(),
        "invalid_argument"
    );
    assert!(s.alert_history(None, 0, 5000).is_err());
}
