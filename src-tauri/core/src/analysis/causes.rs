//! Probable causes of an anomaly (BRIEF §5, issue 9 part 2): the seed's
//! "root cause" without an LLM. Rule-based and explainable: each cause is a
//! signal of the same cluster seen close in time to the anomaly, with a
//! sentence the user can check and the time of its evidence.
//!
//! | rule | evidence | weight |
//! |---|---|---|
//! | a rollout of the same service | a Deployment with `updated < replicas`, or a `ScalingReplicaSet` event, within ±[`CAUSE_WINDOW_SECS`] | 1.0 |
//! | a rollout elsewhere in the cluster | the same, other workload | 0.5 (0.6 for a node anomaly) |
//! | a rising error rate of the same service | an error-ratio anomaly (score > 3) of that service in the window | 0.8 |
//! | an open alert on the same subject | an active alert on `service/NAME` / `node/NAME` | 0.7 |
//! | a node over its threshold | a node whose CPU, memory or disk crossed the alert threshold in the window | 0.7 on the same node, 0.4 otherwise |
//!
//! Causes are ranked by weight (strongest first), then by how close their
//! evidence is to the anomaly's start.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How far from the anomaly (before its start or after its last point) a
/// signal still counts as correlated: ±15 minutes.
pub const CAUSE_WINDOW_SECS: i64 = 15 * 60;
/// At most this many causes are kept per anomaly.
pub const MAX_CAUSES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CauseKind {
    Rollout,
    ErrorRate,
    OpenAlert,
    NodePressure,
}

/// One probable cause, as stored with the anomaly and shown to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Cause {
    pub kind: CauseKind,
    /// "deployment shop/checkout is rolling out (2 of 4 replicas updated)".
    pub detail: String,
    /// When the evidence was seen (unix seconds).
    #[ts(type = "number")]
    pub at: i64,
    /// The rule's strength, 0..1; the list is sorted by it.
    pub weight: f64,
}

/// A rollout seen in the cluster's state.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutEvidence {
    pub namespace: String,
    pub deployment: String,
    pub at: i64,
    /// What was seen: "2 of 4 replicas updated", "Scaled up replica set …".
    pub what: String,
}

/// A node over an alert threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeEvidence {
    pub node: String,
    /// `CPU`, `memory` or `disk`.
    pub resource: &'static str,
    pub value_pct: f64,
    pub threshold_pct: f64,
    pub at: i64,
}

/// An error-ratio anomaly of a service (the error rate rose).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRise {
    pub service: String,
    pub at: i64,
    /// Errors in percent of requests at `at`, and what was normal.
    pub pct: f64,
    pub baseline_pct: Option<f64>,
}

/// An active alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvidence {
    pub subject: String,
    pub message: String,
    pub at: i64,
}

/// Everything about one cluster the rules look at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterEvidence {
    pub rollouts: Vec<RolloutEvidence>,
    pub hot_nodes: Vec<NodeEvidence>,
    pub error_rises: Vec<ErrorRise>,
    pub open_alerts: Vec<AlertEvidence>,
}

/// The anomaly the causes are for.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyFacts<'a> {
    /// `service/NAME` or `node/NAME`.
    pub subject: &'a str,
    /// Whether the anomaly is the error ratio itself (it is not its own cause).
    pub is_error_ratio: bool,
    pub started_at: i64,
    pub last_seen: i64,
}

/// Whether a workload named `deployment` is the service `service`: the
/// same name, or the service name with a suffix the Deployment adds
/// (`checkout` ↔ `checkout-v2`, `checkout-deployment`).
pub fn same_workload(service: &str, deployment: &str) -> bool {
    let (s, d) = (service.to_lowercase(), deployment.to_lowercase());
    s == d || d.strip_prefix(&s).is_some_and(|rest| rest.starts_with('-'))
}

fn near(at: i64, facts: &AnomalyFacts<'_>, window: i64) -> bool {
    at >= facts.started_at - window && at <= facts.last_seen + window
}

fn pct(v: f64) -> String {
    format!("{v:.1} %")
}

/// The ranked probable causes of one anomaly (strongest first, at most
/// [`MAX_CAUSES`]); empty when nothing correlates.
pub fn probable_causes(
    facts: &AnomalyFacts<'_>,
    evidence: &ClusterEvidence,
    window_secs: i64,
) -> Vec<Cause> {
    let window = window_secs.max(0);
    let (kind, name) = facts.subject.split_once('/').unwrap_or(("", facts.subject));
    let service = (kind == "service").then_some(name);
    let node = (kind == "node").then_some(name);
    let mut out: Vec<Cause> = Vec::new();

    for r in evidence
        .rollouts
        .iter()
        .filter(|r| near(r.at, facts, window))
    {
        let same = service.is_some_and(|s| same_workload(s, &r.deployment));
        let weight = if same {
            1.0
        } else if node.is_some() {
            0.6
        } else {
            0.5
        };
        out.push(Cause {
            kind: CauseKind::Rollout,
            detail: format!(
                "{}rollout of deployment {}/{}: {}",
                if same { "" } else { "a " },
                r.namespace,
                r.deployment,
                r.what
            ),
            at: r.at,
            weight,
        });
    }
    if let (Some(s), false) = (service, facts.is_error_ratio) {
        for e in evidence
            .error_rises
            .iter()
            .filter(|e| e.service == s && near(e.at, facts, window))
        {
            out.push(Cause {
                kind: CauseKind::ErrorRate,
                detail: match e.baseline_pct {
                    Some(b) => format!(
                        "the error rate of {s} rose to {} (normally {})",
                        pct(e.pct),
                        pct(b)
                    ),
                    None => format!("the error rate of {s} rose to {}", pct(e.pct)),
                },
                at: e.at,
                weight: 0.8,
            });
        }
    }
    for a in evidence
        .open_alerts
        .iter()
        .filter(|a| a.subject == facts.subject)
    {
        out.push(Cause {
            kind: CauseKind::OpenAlert,
            detail: format!("open alert: {}", a.message),
            at: a.at,
            weight: 0.7,
        });
    }
    for n in evidence
        .hot_nodes
        .iter()
        .filter(|n| near(n.at, facts, window))
    {
        let same = node == Some(n.node.as_str());
        out.push(Cause {
            kind: CauseKind::NodePressure,
            detail: format!(
                "node {} crossed the {} threshold: {} (threshold {})",
                n.node,
                n.resource,
                pct(n.value_pct),
                pct(n.threshold_pct)
            ),
            at: n.at,
            weight: if same { 0.7 } else { 0.4 },
        });
    }

    // Strongest first; among equals, the evidence closest to the start.
    let distance = |c: &Cause| (c.at - facts.started_at).abs();
    out.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| distance(a).cmp(&distance(b)))
            .then_with(|| a.detail.cmp(&b.detail))
    });
    out.dedup_by(|a, b| a.kind == b.kind && a.detail == b.detail);
    out.truncate(MAX_CAUSES);
    out
}

/// Merges a newer list of causes into an anomaly's stored ones: the same
/// cause (kind and sentence) keeps its earliest evidence time; the result is
/// re-ranked and capped.
pub fn merge_causes(old: &[Cause], new: &[Cause], started_at: i64) -> Vec<Cause> {
    let mut all: Vec<Cause> = old.to_vec();
    for c in new {
        match all
            .iter_mut()
            .find(|o| o.kind == c.kind && o.detail == c.detail)
        {
            Some(o) => {
                o.at = o.at.min(c.at);
                o.weight = o.weight.max(c.weight);
            }
            None => all.push(c.clone()),
        }
    }
    let distance = |c: &Cause| (c.at - started_at).abs();
    all.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| distance(a).cmp(&distance(b)))
            .then_with(|| a.detail.cmp(&b.detail))
    });
    all.truncate(MAX_CAUSES);
    all
}

#[cfg(test)]
#[path = "causes_tests.rs"]
mod tests;
