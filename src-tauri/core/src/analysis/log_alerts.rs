//! Alerts from log patterns (issue 8): a new error template in a cluster, or
//! a known one at many times its usual rate, raised through the alert
//! system (dedup, notification, acknowledgement, health) like a metric
//! threshold.
//!
//! Evaluated on each batch of patterns a log stream flushes, against what
//! the cache knew before the batch: "new" means absent from the cluster's
//! stored patterns, and only once the cluster has history older than the
//! batch (the first stream of a cluster would otherwise call every template
//! new); "spike" compares the batch's rate with the stored rate of the
//! template over its whole life.

use std::collections::HashMap;

use super::alerts::{alert_key, AlertRule, AlertRules, Firing};
use super::logs::{Level, Pattern};
use crate::store::{AlertChanges, AlertPolicy, LogPatternQuery, Store, StoreError, StoredPattern};

/// A spike needs at least this many lines in the batch: ten lines after a
/// quiet week is a high ratio but not an incident.
pub const SPIKE_MIN_LINES: u64 = 20;
/// Rates are taken over at least this long (ms), so that a burst packed in
/// one second, or a template seen once, does not give an infinite rate.
pub const MIN_RATE_SPAN_MS: i64 = 60_000;
/// A stored template's usual rate is taken over at least an hour.
pub const MIN_BASELINE_SPAN_MS: i64 = 3_600_000;
/// Characters of the template quoted in a message.
const QUOTED_CHARS: usize = 120;

/// FNV-1a: a stable short id for a template (std's hasher may change
/// between Rust releases, and the id is part of a stored alert key).
fn template_id(level: Level, template: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in level.as_str().bytes().chain([0]).chain(template.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

fn quoted(template: &str) -> String {
    let mut out: String = template.chars().take(QUOTED_CHARS).collect();
    if template.chars().count() > QUOTED_CHARS {
        out.push('…');
    }
    format!("\"{out}\"")
}

fn pods(p: &Pattern) -> String {
    let mut names: Vec<&str> = p.pods.iter().map(String::as_str).take(3).collect();
    if p.pods.len() > 3 || p.pods_truncated {
        names.push("…");
    }
    names.join(", ")
}

/// The firings one batch of `observed` patterns raises in `cluster_id`,
/// given the cluster's stored patterns before the batch (`known`).
/// Only error-level templates alert.
pub fn log_firings(
    rules: &AlertRules,
    cluster_id: &str,
    known: &[StoredPattern],
    observed: &[Pattern],
) -> Vec<Firing> {
    let set = rules.effective(cluster_id, None);
    let by_template: HashMap<(Level, &str), &StoredPattern> = known
        .iter()
        .filter(|k| k.cluster_id == cluster_id)
        .map(|k| ((k.level, k.template.as_str()), k))
        .collect();
    let batch_start = observed.iter().map(|p| p.first_seen).min().unwrap_or(0);
    let warm = known
        .iter()
        .any(|k| k.cluster_id == cluster_id && k.first_seen < batch_start);
    let mut out = Vec::new();
    for p in observed.iter().filter(|p| p.level == Level::Error) {
        let subject = format!("log/{}", template_id(p.level, &p.template));
        let mut fire = |rule: AlertRule, value: f64, message: String| {
            if let Some((severity, threshold)) = set.steps(rule).classify(value) {
                out.push(Firing {
                    key: alert_key(cluster_id, &subject, rule),
                    cluster_id: cluster_id.to_owned(),
                    subject: subject.clone(),
                    rule,
                    severity,
                    value,
                    threshold,
                    message,
                });
            }
        };
        match by_template.get(&(p.level, p.template.as_str())) {
            None if warm => fire(
                AlertRule::LogNewPattern,
                p.count as f64,
                format!(
                    "New error log pattern in {cluster_id}: {} ({} lines, pods {}): open the \
                     Logs panel and check recent rollouts",
                    quoted(&p.template),
                    p.count,
                    pods(p)
                ),
            ),
            None => {}
            Some(k) => {
                if p.count < SPIKE_MIN_LINES {
                    continue;
                }
                let span = (p.last_seen - p.first_seen).max(MIN_RATE_SPAN_MS);
                let usual_span = (k.last_seen - k.first_seen).max(MIN_BASELINE_SPAN_MS);
                let rate = p.count as f64 / span as f64;
                let usual = k.count.max(1) as f64 / usual_span as f64;
                let ratio = rate / usual;
                fire(
                    AlertRule::LogPatternSpike,
                    ratio,
                    format!(
                        "Error log pattern {} at {ratio:.0}× its usual rate in {cluster_id} \
                         ({} lines in {} s, pods {}): open the Logs panel and check recent \
                         rollouts",
                        quoted(&p.template),
                        p.count,
                        span / 1000,
                        pods(p)
                    ),
                );
            }
        }
    }
    out
}

/// Stores one batch of patterns of `cluster_id` and raises the alerts it
/// calls for, both against the cache as it was before the batch. Other
/// alerts of the cluster are left alone (no cluster is "evaluated", so
/// nothing auto-resolves here: the metric pass owns that). `now` is unix
/// seconds.
pub fn record_patterns(
    store: &mut Store,
    rules: &AlertRules,
    policy: &AlertPolicy,
    cluster_id: &str,
    patterns: &[Pattern],
    now: i64,
) -> Result<AlertChanges, StoreError> {
    if patterns.is_empty() {
        return Ok(AlertChanges::default());
    }
    let known = store.log_patterns(&LogPatternQuery {
        cluster: Some(cluster_id.to_owned()),
        since_ms: None,
        limit: 0,
    })?;
    let firings = log_firings(rules, cluster_id, &known, patterns);
    store.merge_log_patterns(cluster_id, patterns)?;
    if firings.is_empty() {
        return Ok(AlertChanges::default());
    }
    store.apply_firings(now, &[], &firings, policy)
}

#[cfg(test)]
#[path = "log_alerts_tests.rs"]
mod tests;
