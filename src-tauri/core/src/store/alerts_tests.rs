use super::*;
use crate::analysis::alerts::alert_key;

const C1: &str = "aws/acct/eu-west-1/prod";
const C2: &str = "do/acct/fra1/edge";

fn firing(cluster: &str, subject: &str, rule: AlertRule, severity: Severity, value: f64) -> Firing {
    Firing {
        key: alert_key(cluster, subject, rule),
        cluster_id: cluster.into(),
        subject: subject.into(),
        rule,
        severity,
        value,
        threshold: 1.0,
        message: format!("{subject} on {cluster}: {value}"),
    }
}

fn p95(cluster: &str, severity: Severity, value: f64) -> Firing {
    firing(
        cluster,
        "service/checkout",
        AlertRule::ServiceP95,
        severity,
        value,
    )
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    (dir, store)
}

fn both() -> Vec<String> {
    vec![C1.to_owned(), C2.to_owned()]
}

fn all(store: &Store) -> Vec<Alert> {
    store
        .alerts(&AlertQuery {
            state: None,
            cluster: None,
            limit: None,
        })
        .unwrap()
}

const POLICY: AlertPolicy = AlertPolicy {
    dedup_window: 300,
    clear_after: 60,
    escalate_after: 900,
};

#[test]
fn a_repeat_within_five_minutes_folds_and_a_later_one_opens_a_new_alert() {
    let (_d, mut s) = store();
    let c = s
        .apply_firings(1000, &both(), &[p95(C1, Severity::Medium, 1.5)], &POLICY)
        .unwrap();
    assert_eq!(c.opened.len(), 1);
    let id = c.opened[0].id;
    assert_eq!(c.opened[0].state, AlertState::Open);
    assert_eq!(c.opened[0].last_notified_at, None, "medium is not notified");

    // Exactly at the window's edge (300 s) still folds.
    let c = s
        .apply_firings(1300, &both(), &[p95(C1, Severity::Medium, 1.8)], &POLICY)
        .unwrap();
    assert!(c.opened.is_empty());
    assert_eq!(c.folded.len(), 1);
    let a = &c.folded[0];
    assert_eq!(
        (a.id, a.count, a.first_seen, a.last_seen),
        (id, 2, 1000, 1300)
    );
    assert_eq!(a.value, 1.8);

    // The cluster was not evaluated for 301 s: the old alert is stale, it
    // resolves and a new one opens.
    let c = s
        .apply_firings(
            1601,
            &[C1.to_owned()],
            &[p95(C1, Severity::Medium, 2.0)],
            &POLICY,
        )
        .unwrap();
    assert_eq!(c.opened.len(), 1);
    assert_ne!(c.opened[0].id, id);
    assert_eq!(c.resolved.len(), 1);
    assert_eq!(c.resolved[0].id, id);
    assert_eq!(c.resolved[0].resolved_by.as_deref(), Some(SYSTEM_ACTOR));
    let active: Vec<_> = all(&s)
        .into_iter()
        .filter(|a| a.state != AlertState::Resolved)
        .collect();
    assert_eq!(active.len(), 1, "one active alert per key");
}

#[test]
fn severity_rises_on_a_fold_never_falls_and_a_rise_to_high_notifies() {
    let (_d, mut s) = store();
    s.apply_firings(0, &both(), &[p95(C1, Severity::Medium, 1.5)], &POLICY)
        .unwrap();
    let c = s
        .apply_firings(60, &both(), &[p95(C1, Severity::High, 3.5)], &POLICY)
        .unwrap();
    assert_eq!(c.folded[0].severity, Severity::High);
    assert_eq!(c.raised.len(), 1);
    assert_eq!(c.raised[0].last_notified_at, Some(60));
    assert_eq!(c.to_notify().count(), 1);
    let c = s
        .apply_firings(120, &both(), &[p95(C1, Severity::Medium, 1.2)], &POLICY)
        .unwrap();
    assert_eq!(c.folded[0].severity, Severity::High, "never lowered");
    assert_eq!(c.folded[0].value, 1.2, "the value is the latest");
    assert!(c.raised.is_empty());
}

#[test]
fn a_clear_condition_resolves_after_clear_after_only_in_evaluated_clusters() {
    let (_d, mut s) = store();
    let c = s
        .apply_firings(
            0,
            &both(),
            &[p95(C1, Severity::High, 3.5), p95(C2, Severity::Medium, 1.5)],
            &POLICY,
        )
        .unwrap();
    assert_eq!(c.opened.len(), 2);
    assert_eq!(c.to_notify().count(), 1, "only the high one notifies");
    // A quick second pass: clear for 30 s only, nothing resolves.
    let c = s.apply_firings(30, &both(), &[], &POLICY).unwrap();
    assert!(c.resolved.is_empty());
    // One clean minute later, only the evaluated cluster's alert resolves.
    let c = s.apply_firings(60, &[C1.to_owned()], &[], &POLICY).unwrap();
    assert_eq!(c.resolved.len(), 1);
    assert_eq!(c.resolved[0].cluster_id, C1);
    assert_eq!(c.resolved[0].resolved_at, Some(60));
    let open = s
        .alerts(&AlertQuery {
            state: Some(AlertState::Open),
            cluster: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].cluster_id, C2);
    // Firing again opens a new alert: a resolved one is history.
    let c = s
        .apply_firings(120, &both(), &[p95(C1, Severity::High, 4.0)], &POLICY)
        .unwrap();
    assert_eq!(c.opened.len(), 1);
    assert_eq!(all(&s).len(), 3);
}

#[test]
fn unacknowledged_high_alerts_escalate_every_fifteen_minutes_until_acknowledged() {
    let (_d, mut s) = store();
    let fire = |s: &mut Store, t: i64| {
        s.apply_firings(
            t,
            &both(),
            &[
                p95(C1, Severity::Critical, 6.0),
                firing(C1, "node/n1", AlertRule::NodeCpu, Severity::Medium, 85.0),
            ],
            &POLICY,
        )
        .unwrap()
    };
    let c = fire(&mut s, 0);
    let id = c
        .opened
        .iter()
        .find(|a| a.severity == Severity::Critical)
        .unwrap()
        .id;
    assert_eq!(c.to_notify().count(), 1);
    let mut escalations = Vec::new();
    for t in (60..=1860).step_by(60) {
        let c = fire(&mut s, t);
        for a in &c.escalated {
            assert_eq!(a.id, id, "the medium alert never escalates");
            escalations.push((t, a.escalations, a.last_notified_at));
        }
    }
    assert_eq!(
        escalations,
        vec![(900, 1, Some(900)), (1800, 2, Some(1800))]
    );

    s.acknowledge(id, "alice", 1900).unwrap();
    for t in (1920..=4000).step_by(60) {
        assert!(fire(&mut s, t).escalated.is_empty(), "acknowledged at {t}");
    }
}

#[test]
fn acknowledge_and_resolve_follow_the_state_machine_and_are_audited() {
    let (_d, mut s) = store();
    let c = s
        .apply_firings(0, &both(), &[p95(C1, Severity::High, 3.5)], &POLICY)
        .unwrap();
    let id = c.opened[0].id;

    let a = s.acknowledge(id, "alice", 100).unwrap();
    assert_eq!(a.state, AlertState::Acknowledged);
    assert_eq!(a.acknowledged_at, Some(100));
    assert_eq!(a.acknowledged_by.as_deref(), Some("alice"));
    let again = s.acknowledge(id, "alice", 101).unwrap_err();
    assert_eq!(again.kind(), "alert_already_acknowledged");

    // An acknowledged alert still folds repeats.
    let c = s
        .apply_firings(120, &both(), &[p95(C1, Severity::Critical, 5.5)], &POLICY)
        .unwrap();
    assert_eq!(c.folded[0].state, AlertState::Acknowledged);
    assert!(c.raised.is_empty(), "acknowledged: no new notification");

    let r = s.resolve(id, "bob", 200).unwrap();
    assert_eq!(r.state, AlertState::Resolved);
    assert_eq!(
        (r.resolved_at, r.resolved_by.as_deref()),
        (Some(200), Some("bob"))
    );
    for err in [
        s.resolve(id, "bob", 201).unwrap_err(),
        s.acknowledge(id, "bob", 201).unwrap_err(),
    ] {
        assert_eq!(err.kind(), "alert_already_resolved");
        assert!(!err.hint().is_empty());
    }
    for err in [
        s.resolve(9999, "bob", 201).unwrap_err(),
        s.acknowledge(9999, "bob", 201).unwrap_err(),
    ] {
        assert_eq!(err.kind(), "unknown_alert");
        assert!(err.to_string().contains("9999"));
    }

    let audit = s.audit_log().unwrap();
    let rows: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str()))
        .collect();
    let target = format!("alert/{id}");
    assert_eq!(
        rows,
        vec![
            ("alice", "alert.acknowledge", target.as_str()),
            ("bob", "alert.resolve", target.as_str()),
        ],
        "refused attempts change nothing and are not audited as changes"
    );
    assert_eq!(audit[1].detail["from_state"], "acknowledged");
    assert_eq!(audit[1].detail["cluster_id"], C1);
    assert_eq!(audit[0].outcome, Outcome::Succeeded);
}

#[test]
fn an_open_alert_can_be_resolved_by_hand_and_the_condition_reopens_it() {
    let (_d, mut s) = store();
    let c = s
        .apply_firings(0, &both(), &[p95(C1, Severity::Medium, 1.5)], &POLICY)
        .unwrap();
    let id = c.opened[0].id;
    s.resolve(id, "carol", 10).unwrap();
    let c = s
        .apply_firings(60, &both(), &[p95(C1, Severity::Medium, 1.5)], &POLICY)
        .unwrap();
    assert_eq!(c.opened.len(), 1);
    assert_ne!(c.opened[0].id, id);
}

#[test]
fn queries_filter_by_state_and_cluster_and_alerts_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = Store::open_in(dir.path()).unwrap();
        s.apply_firings(
            0,
            &both(),
            &[
                p95(C1, Severity::High, 3.5),
                p95(C2, Severity::Medium, 1.5),
                firing(C2, "node/n1", AlertRule::NodeDisk, Severity::High, 97.0),
            ],
            &POLICY,
        )
        .unwrap();
        let first = all(&s).into_iter().find(|a| a.cluster_id == C1).unwrap();
        s.acknowledge(first.id, "alice", 5).unwrap();
    }
    let s = Store::open_in(dir.path()).unwrap();
    let q = |state, cluster: Option<&str>, limit| {
        s.alerts(&AlertQuery {
            state,
            cluster: cluster.map(str::to_owned),
            limit,
        })
    };
    assert_eq!(q(None, None, None).unwrap().len(), 3);
    assert_eq!(q(Some(AlertState::Open), None, None).unwrap().len(), 2);
    let acked = q(Some(AlertState::Acknowledged), None, None).unwrap();
    assert_eq!(acked.len(), 1);
    assert_eq!(acked[0].cluster_id, C1);
    assert_eq!(q(None, Some(C2), None).unwrap().len(), 2);
    assert_eq!(q(None, None, Some(1)).unwrap().len(), 1);
    assert!(q(Some(AlertState::Resolved), None, None)
        .unwrap()
        .is_empty());
    let err = q(None, None, Some(MAX_ALERTS_PAGE + 1)).unwrap_err();
    assert_eq!(err.kind(), "cache_invalid_input");
}

#[test]
fn the_os_user_is_never_empty() {
    assert!(!os_user().trim().is_empty());
}

/// The whole path on a real cache: samples that cross thresholds, the
/// cluster view over the last 15 minutes, the rules, the alerts table.
#[test]
fn evaluate_cached_opens_alerts_from_samples_and_resolves_them_when_they_clear() {
    use crate::analysis::alerts::{evaluate_cached, AlertRules, EVALUATION_WINDOW_SECS};
    use crate::metrics::{names, Batch, Sample, SeriesKey};
    use crate::model::{ClusterSummary, Provider};

    let (_d, mut s) = store();
    let cluster = ClusterSummary {
        id: ClusterSummary::make_id(Provider::Aws, "acct", "eu-west-1", "prod"),
        provider: Provider::Aws,
        account: "acct".into(),
        name: "prod".into(),
        region: "eu-west-1".into(),
        version: None,
        status: "ACTIVE".into(),
        endpoint: None,
        node_pools: Vec::new(),
        collected_at: 0,
        gone_at: None,
    };
    s.upsert_clusters(std::slice::from_ref(&cluster)).unwrap();
    let id = cluster.id.clone();
    let now = 1_700_000_000;
    let write = |s: &mut Store, at: i64, cpu: f64, failed: f64| {
        let sample = |metric: &str, labels: Vec<(&str, &str)>, value: f64| Sample {
            series: SeriesKey::new(&id, metric, labels),
            ts: at,
            value,
        };
        s.insert_batch(&Batch {
            collected_at: at,
            samples: vec![
                sample(names::NODE_CPU_CORES, vec![("node", "n1")], cpu),
                sample(names::NODE_CPU_ALLOCATABLE_CORES, vec![("node", "n1")], 4.0),
                sample(
                    names::SERVICE_REQUESTS_INCREASE,
                    vec![("service", "checkout")],
                    100.0,
                ),
                sample(
                    names::SERVICE_ERRORS_INCREASE,
                    vec![("service", "checkout")],
                    failed,
                ),
            ],
        })
        .unwrap();
    };
    write(&mut s, now - 60, 3.9, 12.0);
    let ids = vec![id.clone(), "gone/cluster/not/cached".to_owned()];
    let rules = AlertRules::default();
    let c = evaluate_cached(&mut s, &rules, &ids, now, EVALUATION_WINDOW_SECS, &POLICY).unwrap();
    let mut got: Vec<(String, AlertRule, Severity)> = c
        .opened
        .iter()
        .map(|a| (a.subject.clone(), a.rule, a.severity))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("node/n1".to_owned(), AlertRule::NodeCpu, Severity::High),
            (
                "service/checkout".to_owned(),
                AlertRule::ServiceErrorRate,
                Severity::High
            ),
        ]
    );
    assert!(c.opened.iter().all(|a| a.message.contains("prod")));

    // The same data a minute later folds; nothing new opens.
    let c = evaluate_cached(
        &mut s,
        &rules,
        &ids,
        now + 60,
        EVALUATION_WINDOW_SECS,
        &POLICY,
    )
    .unwrap();
    assert_eq!((c.opened.len(), c.folded.len()), (0, 2));

    // Once the window holds only healthy data, both resolve.
    write(&mut s, now + 1000, 1.0, 0.0);
    let c = evaluate_cached(
        &mut s,
        &rules,
        &ids,
        now + 1100,
        EVALUATION_WINDOW_SECS,
        &POLICY,
    )
    .unwrap();
    assert_eq!(c.resolved.len(), 2, "{c:?}");
}
