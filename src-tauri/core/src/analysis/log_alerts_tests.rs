use super::*;
use crate::analysis::anomaly::Severity;
use crate::analysis::logs::{PatternLimits, PatternTable};
use crate::store::{AlertQuery, AlertState};

const CLUSTER: &str = "digitalocean/team/nyc1/shop";
const MIN: i64 = 60_000;
/// 2023-11-14T22:13:20Z in ms.
const T0: i64 = 1_700_000_000_000;

/// `n` lines of `line` from `pod`, one per `every_ms` from `start`.
fn batch(lines: &[(&str, &str, u64)], start: i64, every_ms: i64) -> Vec<Pattern> {
    let mut table = PatternTable::new(PatternLimits::default());
    let mut ts = start;
    for (pod, line, n) in lines {
        for _ in 0..*n {
            table.observe(CLUSTER, pod, ts, line);
            ts += every_ms;
        }
    }
    table.drain()
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    (dir, store)
}

const USUAL: &str = r#"{"level":"error","msg":"upstream timeout after 3000 ms calling inventory"}"#;
const DECLINED: &str =
    r#"{"level":"error","msg":"payment declined for order 81723: card_error \"do_not_honor\""}"#;

#[test]
fn the_first_stream_of_a_cluster_raises_nothing_then_a_new_template_does() {
    let (_dir, mut store) = store();
    let rules = AlertRules::default();
    let policy = AlertPolicy::default();
    // Cold: every template is new to the cache, none alerts.
    let first = batch(&[("checkout-1", USUAL, 30)], T0, 1000);
    let changes = record_patterns(&mut store, &rules, &policy, CLUSTER, &first, 1).unwrap();
    assert!(changes.opened.is_empty(), "{changes:?}");

    // An hour later the same template at its usual pace, and a new one
    // (ids and quoted values vary: one template).
    let later = T0 + 60 * MIN;
    let mut lines = Vec::new();
    for i in 0..12 {
        lines.push(format!(
            r#"{{"level":"error","msg":"payment declined for order {}: card_error \"code{i}\""}}"#,
            81_000 + i
        ));
    }
    let mut table = PatternTable::new(PatternLimits::default());
    for (i, l) in lines.iter().enumerate() {
        table.observe(CLUSTER, "checkout-2", later + i as i64 * 500, l);
    }
    table.observe(CLUSTER, "checkout-1", later, USUAL);
    let second = table.drain();
    let changes = record_patterns(&mut store, &rules, &policy, CLUSTER, &second, 2).unwrap();
    assert_eq!(changes.opened.len(), 1, "{changes:?}");
    let a = &changes.opened[0];
    assert_eq!(a.rule, AlertRule::LogNewPattern);
    assert_eq!(a.severity, Severity::Medium);
    assert_eq!(a.value, 12.0);
    assert!(a.subject.starts_with("log/"), "{}", a.subject);
    assert!(
        a.message
            .contains(r#""payment declined for order <NUM>: card_error "<STR>"""#),
        "{}",
        a.message
    );
    assert!(a.message.contains("pods checkout-2"), "{}", a.message);

    // The same template again is no longer new: the alert folds nothing
    // and opens nothing.
    let third = batch(&[("checkout-2", DECLINED, 6)], later + 2 * MIN, 1000);
    let changes = record_patterns(&mut store, &rules, &policy, CLUSTER, &third, 3).unwrap();
    assert!(
        changes.opened.is_empty() && changes.folded.is_empty(),
        "{changes:?}"
    );
    // The patterns were stored either way.
    let stored = store.log_patterns(&LogPatternQuery::default()).unwrap();
    assert_eq!(stored.len(), 2);
}

#[test]
fn a_known_template_at_many_times_its_rate_is_a_spike_and_a_few_lines_are_not() {
    let (_dir, mut store) = store();
    let rules = AlertRules::default();
    let policy = AlertPolicy::default();
    // A day of one line every 10 minutes: 144 lines/day, 0.1 per minute.
    let day = batch(&[("checkout-1", USUAL, 144)], T0, 10 * MIN);
    record_patterns(&mut store, &rules, &policy, CLUSTER, &day, 1).unwrap();
    let after = T0 + 1440 * MIN;

    // 19 lines in a minute: far above the usual rate but under the minimum.
    let few = batch(&[("checkout-1", USUAL, 19)], after, 3000);
    let changes = record_patterns(&mut store, &rules, &policy, CLUSTER, &few, 2).unwrap();
    assert!(changes.opened.is_empty(), "{changes:?}");

    // 60 lines in two minutes: 30/min against ~0.1/min.
    let burst = batch(&[("checkout-3", USUAL, 60)], after + 10 * MIN, 2000);
    let changes = record_patterns(&mut store, &rules, &policy, CLUSTER, &burst, 3).unwrap();
    assert_eq!(changes.opened.len(), 1, "{changes:?}");
    let a = &changes.opened[0];
    assert_eq!(a.rule, AlertRule::LogPatternSpike);
    assert_eq!(a.severity, Severity::High);
    assert!(a.value > 20.0, "{}", a.value);
    assert!(a.message.contains("its usual rate"), "{}", a.message);
}

#[test]
fn warnings_never_alert_and_thresholds_can_be_overridden_per_cluster() {
    let (_dir, mut store) = store();
    let policy = AlertPolicy::default();
    let warm = batch(&[("p", USUAL, 5)], T0, 1000);
    let rules: AlertRules = AlertRules::from_json(&format!(
        r#"{{"clusters": {{"{CLUSTER}": {{"log_new_pattern_lines": {{"medium": 0, "high": 1}}}}}}}}"#
    ))
    .unwrap();
    record_patterns(&mut store, &rules, &policy, CLUSTER, &warm, 1).unwrap();
    let warn = batch(
        &[("p", r#"{"level":"warn","msg":"cache miss for key 77"}"#, 50)],
        T0 + 60 * MIN,
        1000,
    );
    let changes = record_patterns(&mut store, &rules, &policy, CLUSTER, &warn, 2).unwrap();
    assert!(changes.opened.is_empty(), "{changes:?}");
    // With the override, a single new error line is medium.
    let one = batch(&[("p", DECLINED, 1)], T0 + 61 * MIN, 1000);
    let changes = record_patterns(&mut store, &rules, &policy, CLUSTER, &one, 3).unwrap();
    assert_eq!(changes.opened.len(), 1);
    assert_eq!(changes.opened[0].severity, Severity::Medium);
}

#[test]
fn a_metric_pass_does_not_resolve_log_alerts() {
    let (_dir, mut store) = store();
    let rules = AlertRules::default();
    let policy = AlertPolicy::default();
    record_patterns(
        &mut store,
        &rules,
        &policy,
        CLUSTER,
        &batch(&[("p", USUAL, 3)], T0, 1000),
        1,
    )
    .unwrap();
    let new = batch(&[("p", DECLINED, 10)], T0 + 60 * MIN, 1000);
    let opened = record_patterns(&mut store, &rules, &policy, CLUSTER, &new, 100).unwrap();
    assert_eq!(opened.opened.len(), 1);
    // A metric pass over the cluster an hour later fires nothing.
    let changes = store
        .apply_firings(3700, &[CLUSTER.to_owned()], &[], &policy)
        .unwrap();
    assert!(changes.resolved.is_empty(), "{changes:?}");
    let open = store
        .alerts(&AlertQuery {
            state: Some(AlertState::Open),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(open.len(), 1);
}

#[test]
fn template_ids_are_stable_and_differ_by_level() {
    // Part of stored alert keys: must not change between releases.
    assert_eq!(
        template_id(Level::Error, "a <num>"),
        template_id(Level::Error, "a <num>")
    );
    assert_ne!(
        template_id(Level::Error, "a <num>"),
        template_id(Level::Warn, "a <num>")
    );
    assert_eq!(template_id(Level::Error, "").len(), 12);
}
