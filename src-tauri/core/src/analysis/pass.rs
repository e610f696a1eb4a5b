//! What runs after every collection pass, once the pass is in the cache:
//! the threshold alerts, then the anomalies (whose probable causes cite the
//! alerts just raised). `cloudops refresh` and the app's collection loop
//! both call [`after_pass`], so they cannot drift apart.

use super::alerts::{evaluate_cached, AlertRules, EVALUATION_WINDOW_SECS};
use super::anomaly_eval::{evaluate_cached_anomalies, AnomalyEvalPolicy, AnomalyPass};
use crate::store::{AlertChanges, AlertPolicy, Store, StoreError};
use crate::views::ViewError;

/// The policies of one evaluation; [`Default`] is the product's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PassPolicies {
    pub alerts: AlertPolicy,
    pub anomalies: AnomalyEvalPolicy,
}

/// What the evaluations changed. Each part fails alone: a failed anomaly
/// evaluation does not hide the alerts, and neither undoes the pass.
#[derive(Debug)]
pub struct AfterPass {
    pub alerts: Result<AlertChanges, ViewError>,
    pub anomalies: Result<AnomalyPass, StoreError>,
}

/// Evaluates the alert rules (over [`EVALUATION_WINDOW_SECS`]) and then the
/// anomaly detector on the clusters that produced data this pass.
pub fn after_pass(
    store: &mut Store,
    rules: &AlertRules,
    evaluated: &[String],
    now: i64,
    policies: &PassPolicies,
) -> AfterPass {
    let alerts = evaluate_cached(
        store,
        rules,
        evaluated,
        now,
        EVALUATION_WINDOW_SECS,
        &policies.alerts,
    );
    let anomalies = evaluate_cached_anomalies(store, rules, evaluated, now, &policies.anomalies);
    AfterPass { alerts, anomalies }
}
