//! Threshold alert rules (BRIEF §5, issue 9 part 4): what fires, at which
//! severity, for a cluster's view. The store (`store::alerts`) turns firings
//! into deduplicated, stateful alerts.
//!
//! The seed thresholds, with the choices the seed left open:
//!
//! | rule                 | medium  | high    | critical |
//! |----------------------|---------|---------|----------|
//! | node CPU             | > 80 %  | > 95 %  | —        |
//! | node memory          | > 85 %  | > 95 %  | —        |
//! | node disk            | > 90 %  | > 95 %  | —        |
//! | service p95          | > 1 s   | > 3 s   | > 5 s    |
//! | service error rate   | > 5 %   | > 10 %  | —        |
//!
//! The seed gives node thresholds without a severity. One hot node is worth
//! a look, not a page, so they start at medium; a node at ≥ 95 % (past the
//! `> 95` step) is about to throttle, OOM-kill or fill up, so it is high
//! and notifies. Every comparison is strict (`value > threshold`), as in the
//! seed: exactly 80 % CPU does not fire.
//!
//! Rules are configurable (`AlertRules`): defaults, then per-cluster
//! overrides, then per-service overrides (the most specific wins, rule by
//! rule). An override with every step `None` turns the rule off.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::anomaly::Severity;
use crate::store::{AlertChanges, AlertPolicy, Store};
use crate::views::{self, ClusterDetail, RangeRequest, ViewError};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AlertRule {
    NodeCpu,
    NodeMemory,
    NodeDisk,
    ServiceP95,
    ServiceErrorRate,
    /// An error-level log template not seen before in the cluster.
    LogNewPattern,
    /// A known error-level log template at many times its usual rate.
    LogPatternSpike,
    /// A budget's month-to-date spend reached one of the budget's own
    /// thresholds (`analysis::budget_alerts`).
    BudgetActual,
    /// A budget's month-end forecast reached one of its top two thresholds.
    BudgetForecast,
}

impl AlertRule {
    pub const ALL: [AlertRule; 9] = [
        AlertRule::NodeCpu,
        AlertRule::NodeMemory,
        AlertRule::NodeDisk,
        AlertRule::ServiceP95,
        AlertRule::ServiceErrorRate,
        AlertRule::LogNewPattern,
        AlertRule::LogPatternSpike,
        AlertRule::BudgetActual,
        AlertRule::BudgetForecast,
    ];

    /// The rules whose thresholds `alert-rules.json` sets. The budget rules
    /// are not among them: each budget carries its own 50/80/100 % (see
    /// `analysis::cost_budget`), so a settings file cannot name them
    /// (`deny_unknown_fields` refuses it).
    pub const CONFIGURABLE: [AlertRule; 7] = [
        AlertRule::NodeCpu,
        AlertRule::NodeMemory,
        AlertRule::NodeDisk,
        AlertRule::ServiceP95,
        AlertRule::ServiceErrorRate,
        AlertRule::LogNewPattern,
        AlertRule::LogPatternSpike,
    ];

    /// Rules raised by their own evaluation, never by the metric pass: the
    /// metric pass must not resolve them when it does not see them fire.
    pub fn owned_by_metric_pass(self) -> bool {
        !matches!(
            self,
            AlertRule::LogNewPattern
                | AlertRule::LogPatternSpike
                | AlertRule::BudgetActual
                | AlertRule::BudgetForecast
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertRule::NodeCpu => "node_cpu",
            AlertRule::NodeMemory => "node_memory",
            AlertRule::NodeDisk => "node_disk",
            AlertRule::ServiceP95 => "service_p95",
            AlertRule::ServiceErrorRate => "service_error_rate",
            AlertRule::LogNewPattern => "log_new_pattern",
            AlertRule::LogPatternSpike => "log_pattern_spike",
            AlertRule::BudgetActual => "budget_actual",
            AlertRule::BudgetForecast => "budget_forecast",
        }
    }

    pub fn parse(s: &str) -> Option<AlertRule> {
        AlertRule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The thresholds of one rule, one per severity; a value strictly above a
/// step fires at that step's severity (the highest one crossed). `None`
/// skips the step.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Steps {
    #[serde(default)]
    pub medium: Option<f64>,
    #[serde(default)]
    pub high: Option<f64>,
    #[serde(default)]
    pub critical: Option<f64>,
}

impl Steps {
    pub const fn new(medium: Option<f64>, high: Option<f64>, critical: Option<f64>) -> Steps {
        Steps {
            medium,
            high,
            critical,
        }
    }

    /// The highest step `value` is strictly above, with its threshold.
    pub fn classify(&self, value: f64) -> Option<(Severity, f64)> {
        if !value.is_finite() {
            return None;
        }
        [
            (Severity::Critical, self.critical),
            (Severity::High, self.high),
            (Severity::Medium, self.medium),
        ]
        .into_iter()
        .find_map(|(sev, t)| t.filter(|t| value > *t).map(|t| (sev, t)))
    }

    fn validate(&self, what: &str) -> Result<(), AlertRulesError> {
        let steps = [self.medium, self.high, self.critical];
        for t in steps.iter().flatten() {
            if !t.is_finite() || *t < 0.0 {
                return Err(AlertRulesError::Invalid(format!(
                    "{what}: threshold {t} must be a finite number ≥ 0"
                )));
            }
        }
        let present: Vec<f64> = steps.into_iter().flatten().collect();
        if present.windows(2).any(|w| w[1] <= w[0]) {
            return Err(AlertRulesError::Invalid(format!(
                "{what}: thresholds must rise from medium to high to critical"
            )));
        }
        Ok(())
    }
}

/// One full set of thresholds. Units: node rules in percent of
/// allocatable (CPU, memory) or capacity (disk); p95 in seconds; error rate
/// in percent of requests; a new log pattern in lines seen in one batch;
/// a log spike as the batch's rate over the template's usual rate. A rule
/// left out of a settings file keeps its seed thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuleSet {
    pub node_cpu_pct: Steps,
    pub node_memory_pct: Steps,
    pub node_disk_pct: Steps,
    pub p95_seconds: Steps,
    pub error_pct: Steps,
    pub log_new_pattern_lines: Steps,
    pub log_spike_ratio: Steps,
}

impl Default for RuleSet {
    /// The seed thresholds (see the module's table).
    fn default() -> RuleSet {
        RuleSet {
            node_cpu_pct: Steps::new(Some(80.0), Some(95.0), None),
            node_memory_pct: Steps::new(Some(85.0), Some(95.0), None),
            node_disk_pct: Steps::new(Some(90.0), Some(95.0), None),
            p95_seconds: Steps::new(Some(1.0), Some(3.0), Some(5.0)),
            error_pct: Steps::new(Some(5.0), Some(10.0), None),
            // Not seed rules (the seed has no logs). Five lines of a new
            // error template is a medium alert, a hundred a high one: one
            // stray line is not an incident, a burst is.
            log_new_pattern_lines: Steps::new(Some(4.0), Some(99.0), None),
            // Five times the usual rate is medium, twenty times high.
            log_spike_ratio: Steps::new(Some(5.0), Some(20.0), None),
        }
    }
}

/// The steps of a rule `alert-rules.json` does not configure: none, so
/// nothing classifies through them.
const NO_STEPS: Steps = Steps::new(None, None, None);

impl RuleSet {
    /// The thresholds of `rule`; no steps for the budget rules, whose
    /// thresholds are each budget's own (`cost_budget::Budget::thresholds_pct`).
    pub fn steps(&self, rule: AlertRule) -> &Steps {
        match rule {
            AlertRule::BudgetActual | AlertRule::BudgetForecast => &NO_STEPS,
            AlertRule::NodeCpu => &self.node_cpu_pct,
            AlertRule::NodeMemory => &self.node_memory_pct,
            AlertRule::NodeDisk => &self.node_disk_pct,
            AlertRule::ServiceP95 => &self.p95_seconds,
            AlertRule::ServiceErrorRate => &self.error_pct,
            AlertRule::LogNewPattern => &self.log_new_pattern_lines,
            AlertRule::LogPatternSpike => &self.log_spike_ratio,
        }
    }

    /// `None` for the rules the settings do not configure.
    fn steps_mut(&mut self, rule: AlertRule) -> Option<&mut Steps> {
        Some(match rule {
            AlertRule::BudgetActual | AlertRule::BudgetForecast => return None,
            AlertRule::NodeCpu => &mut self.node_cpu_pct,
            AlertRule::NodeMemory => &mut self.node_memory_pct,
            AlertRule::NodeDisk => &mut self.node_disk_pct,
            AlertRule::ServiceP95 => &mut self.p95_seconds,
            AlertRule::ServiceErrorRate => &mut self.error_pct,
            AlertRule::LogNewPattern => &mut self.log_new_pattern_lines,
            AlertRule::LogPatternSpike => &mut self.log_spike_ratio,
        })
    }

    fn apply(&mut self, o: &RuleOverride) {
        for rule in AlertRule::CONFIGURABLE {
            if let (Some(s), Some(slot)) = (o.steps(rule), self.steps_mut(rule)) {
                *slot = *s;
            }
        }
    }
}

/// Overrides: each rule given replaces the inherited steps of that rule.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    #[serde(default)]
    pub node_cpu_pct: Option<Steps>,
    #[serde(default)]
    pub node_memory_pct: Option<Steps>,
    #[serde(default)]
    pub node_disk_pct: Option<Steps>,
    #[serde(default)]
    pub p95_seconds: Option<Steps>,
    #[serde(default)]
    pub error_pct: Option<Steps>,
    #[serde(default)]
    pub log_new_pattern_lines: Option<Steps>,
    #[serde(default)]
    pub log_spike_ratio: Option<Steps>,
}

impl RuleOverride {
    fn steps(&self, rule: AlertRule) -> Option<&Steps> {
        match rule {
            AlertRule::NodeCpu => self.node_cpu_pct.as_ref(),
            AlertRule::NodeMemory => self.node_memory_pct.as_ref(),
            AlertRule::NodeDisk => self.node_disk_pct.as_ref(),
            AlertRule::ServiceP95 => self.p95_seconds.as_ref(),
            AlertRule::ServiceErrorRate => self.error_pct.as_ref(),
            AlertRule::LogNewPattern => self.log_new_pattern_lines.as_ref(),
            AlertRule::LogPatternSpike => self.log_spike_ratio.as_ref(),
            AlertRule::BudgetActual | AlertRule::BudgetForecast => None,
        }
    }
}

/// Every alert threshold: defaults, per-cluster overrides (by cluster id)
/// and per-service overrides (by `cluster_id/service`, or by `service` for
/// that service in every cluster; the cluster-qualified one wins).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    #[serde(default)]
    pub defaults: RuleSet,
    #[serde(default)]
    pub clusters: BTreeMap<String, RuleOverride>,
    #[serde(default)]
    pub services: BTreeMap<String, RuleOverride>,
}

/// The settings file, in the data dir, that overrides the seed thresholds.
pub const RULES_FILE_NAME: &str = "alert-rules.json";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlertRulesError {
    #[error("invalid alert rules: {0}")]
    Invalid(String),
    #[error("cannot read the alert rules {path}: {detail}")]
    Unreadable { path: String, detail: String },
}

impl AlertRulesError {
    pub fn kind(&self) -> &'static str {
        match self {
            AlertRulesError::Invalid(_) => "invalid_alert_rules",
            AlertRulesError::Unreadable { .. } => "alert_rules_unreadable",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            AlertRulesError::Invalid(_) => format!(
                "Fix the alert thresholds in {RULES_FILE_NAME} (data dir): numbers ≥ 0, rising \
                 from medium to high to critical; leave a step out to skip it, or delete the \
                 file to use the seed thresholds."
            ),
            AlertRulesError::Unreadable { .. } => format!(
                "Check the permissions of {RULES_FILE_NAME} in the data dir, or delete it to \
                 use the seed thresholds."
            ),
        }
    }
}

impl AlertRules {
    /// Reads rules from JSON (a settings file), checking every threshold.
    pub fn from_json(text: &str) -> Result<AlertRules, AlertRulesError> {
        let rules: AlertRules =
            serde_json::from_str(text).map_err(|e| AlertRulesError::Invalid(e.to_string()))?;
        rules.validate()?;
        Ok(rules)
    }

    /// The rules in `DATA_DIR/alert-rules.json`, or the seed thresholds
    /// when there is no such file.
    pub fn load(data_dir: &std::path::Path) -> Result<AlertRules, AlertRulesError> {
        let path = data_dir.join(RULES_FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => AlertRules::from_json(&text).map_err(|e| match e {
                AlertRulesError::Invalid(d) => {
                    AlertRulesError::Invalid(format!("{}: {d}", path.display()))
                }
                other => other,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AlertRules::default()),
            Err(e) => Err(AlertRulesError::Unreadable {
                path: path.display().to_string(),
                detail: e.to_string(),
            }),
        }
    }

    pub fn validate(&self) -> Result<(), AlertRulesError> {
        let check_set = |what: &str, set: &RuleSet| {
            AlertRule::CONFIGURABLE
                .into_iter()
                .try_for_each(|r| set.steps(r).validate(&format!("{what} {}", r.as_str())))
        };
        check_set("defaults", &self.defaults)?;
        for (scope, map) in [("cluster", &self.clusters), ("service", &self.services)] {
            for (name, o) in map {
                for rule in AlertRule::CONFIGURABLE {
                    if let Some(s) = o.steps(rule) {
                        s.validate(&format!("{scope} {name:?} {}", rule.as_str()))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The thresholds that apply to `service` (or to the nodes, with
    /// `None`) of `cluster_id`.
    pub fn effective(&self, cluster_id: &str, service: Option<&str>) -> RuleSet {
        let mut set = self.defaults;
        if let Some(o) = self.clusters.get(cluster_id) {
            set.apply(o);
        }
        if let Some(service) = service {
            if let Some(o) = self.services.get(service) {
                set.apply(o);
            }
            if let Some(o) = self.services.get(&format!("{cluster_id}/{service}")) {
                set.apply(o);
            }
        }
        set
    }
}

/// One rule crossing its threshold on one subject, in one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Firing {
    /// `cluster_id|subject|rule`: the same condition always has the same
    /// key, which is what deduplication folds on.
    pub key: String,
    pub cluster_id: String,
    /// `node/NAME` or `service/NAME`.
    pub subject: String,
    pub rule: AlertRule,
    pub severity: Severity,
    pub value: f64,
    pub threshold: f64,
    pub message: String,
}

pub fn alert_key(cluster_id: &str, subject: &str, rule: AlertRule) -> String {
    format!("{cluster_id}|{subject}|{}", rule.as_str())
}

/// Short numbers for messages: two decimals under 10 (so that a p95 of
/// 1.04 s is not printed as its 1 s threshold), one above, trailing zeros
/// dropped: `1.04` → "1.04", `3.0` → "3", `87.25` → "87.3" (rounded
/// half to even by the formatter).
fn num(v: f64) -> String {
    let s = if v.abs() < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// What to say, and where to look, for one firing.
fn message(rule: AlertRule, name: &str, cluster: &str, value: f64, threshold: f64) -> String {
    let (what, unit, look) = match rule {
        AlertRule::NodeCpu => (
            "CPU",
            " %",
            "check the CPU heatmap and the node's busiest pods",
        ),
        AlertRule::NodeMemory => (
            "memory",
            " %",
            "check the memory heatmap and pods near their limits (OOM kills)",
        ),
        AlertRule::NodeDisk => (
            "disk",
            " %",
            "check the node's images, logs and emptyDir volumes before it is evicted",
        ),
        AlertRule::ServiceP95 => ("p95", " s", "check the latency heatmap and recent rollouts"),
        AlertRule::ServiceErrorRate => (
            "error rate",
            " %",
            "check recent rollouts, the service's events and its dependencies",
        ),
        // Worded by `log_alerts`, which knows the template.
        AlertRule::LogNewPattern | AlertRule::LogPatternSpike => {
            ("log lines", "", "open the Logs panel")
        }
        // Worded by `cost_budget::evaluate`, which knows the budget.
        AlertRule::BudgetActual | AlertRule::BudgetForecast => {
            ("spend", " %", "open the Cost screen")
        }
    };
    let (place, of) = match rule {
        AlertRule::ServiceP95 | AlertRule::ServiceErrorRate => ("in", "on"),
        _ => ("on node", "of"),
    };
    format!(
        "{what} {}{unit} {place} {name} {of} {cluster} (threshold {}{unit}): {look}",
        num(value),
        num(threshold)
    )
}

/// Every rule that fires on `detail` (nodes: their latest values; services:
/// RED over the view's range). Missing values never fire.
pub fn evaluate(rules: &AlertRules, cluster_id: &str, detail: &ClusterDetail) -> Vec<Firing> {
    let cluster_name = if detail.cluster.name.is_empty() {
        cluster_id
    } else {
        detail.cluster.name.as_str()
    };
    let mut out = Vec::new();
    let mut fire = |rule: AlertRule, kind: &str, name: &str, steps: &Steps, value: Option<f64>| {
        let Some(value) = value else { return };
        let Some((severity, threshold)) = steps.classify(value) else {
            return;
        };
        let subject = format!("{kind}/{name}");
        out.push(Firing {
            key: alert_key(cluster_id, &subject, rule),
            cluster_id: cluster_id.to_owned(),
            subject,
            rule,
            severity,
            value,
            threshold,
            message: message(rule, name, cluster_name, value, threshold),
        });
    };
    let node_rules = rules.effective(cluster_id, None);
    for n in &detail.nodes {
        for (rule, value) in [
            (AlertRule::NodeCpu, n.cpu_pct),
            (AlertRule::NodeMemory, n.memory_pct),
            (AlertRule::NodeDisk, n.disk_pct),
        ] {
            fire(rule, "node", &n.name, node_rules.steps(rule), value);
        }
    }
    for s in &detail.services {
        let set = rules.effective(cluster_id, Some(&s.service));
        for (rule, value) in [
            (AlertRule::ServiceP95, s.p95),
            (AlertRule::ServiceErrorRate, s.error_pct),
        ] {
            fire(rule, "service", &s.service, set.steps(rule), value);
        }
    }
    out
}

/// How far back a refresh's evaluation looks: services' RED over this
/// window, nodes' latest values in it.
pub const EVALUATION_WINDOW_SECS: i64 = 15 * 60;

/// Evaluates `rules` on each cluster's last `window_secs` in the cache and
/// folds the firings into the alerts table (one transaction). Clusters
/// missing from the cache are skipped and count as not evaluated, so their
/// alerts neither fold nor resolve. This is what `cloudops refresh` and the
/// app's collection loop run after writing a pass.
pub fn evaluate_cached(
    store: &mut Store,
    rules: &AlertRules,
    cluster_ids: &[String],
    now: i64,
    window_secs: i64,
    policy: &AlertPolicy,
) -> Result<AlertChanges, ViewError> {
    let range = RangeRequest::Custom {
        start: now - window_secs.max(60),
        end: now,
    };
    let mut evaluated = Vec::new();
    let mut firings = Vec::new();
    for id in cluster_ids {
        match views::cluster_numbers(store, id, &range, now) {
            Ok(detail) => {
                firings.extend(evaluate(rules, id, &detail));
                evaluated.push(id.clone());
            }
            Err(ViewError::UnknownCluster(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(store.apply_firings(now, &evaluated, &firings, policy)?)
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
