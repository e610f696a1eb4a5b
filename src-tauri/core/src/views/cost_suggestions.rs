//! The suggestions the Cost view can compute from the cache, and the
//! inputs it lacks for the others (said in words, never guessed).

use std::collections::BTreeMap;

use super::cost::{priced_nodes, SuggestionAction, SuggestionView};
use super::ViewError;
use crate::analysis::cost_allocation::CostSplit;
use crate::analysis::cost_suggestions::{
    suggestions, OneClick, SuggestionConfig, SuggestionKind, UnitPrices, WorkloadProfile,
};
use crate::analysis::workload_usage::{deployment_usage, USAGE_WINDOW_DAYS};
use crate::cost::CostDay;
use crate::model::ClusterSummary;
use crate::store::{Store, WorkloadQuery, MAX_WORKLOAD_PAGE};

/// Right-sizing needs at least this many days of pod usage in the cache.
pub const MIN_USAGE_DAYS: f64 = 2.0;

pub(super) fn suggestion_views(
    store: &Store,
    clusters: &[ClusterSummary],
    month_rows: &[&CostDay],
    now: i64,
) -> Result<(Vec<SuggestionView>, Vec<String>), ViewError> {
    let mut profiles = Vec::new();
    // The most days of pod usage any deployment has, to say why nothing
    // was right-sized.
    let mut most_days: f64 = 0.0;
    let mut short: Vec<String> = Vec::new();
    let mut prices = BTreeMap::new();
    let mut currency_of: BTreeMap<String, String> = BTreeMap::new();
    for c in clusters.iter().filter(|c| c.gone_at.is_none()) {
        if let Ok(p) = priced_nodes(store, &c.id, month_rows)? {
            let (nodes, currency) = (p.nodes, p.currency);
            if let Some(p) = UnitPrices::from_nodes(&nodes, CostSplit::Reference, 24.0) {
                prices.insert(c.id.clone(), p);
                currency_of.insert(c.id.clone(), currency);
            }
        }
        let page = store.workloads(&WorkloadQuery {
            cluster: Some(c.id.clone()),
            limit: MAX_WORKLOAD_PAGE,
            ..Default::default()
        })?;
        let deployments: Vec<(String, String)> = page
            .rows
            .iter()
            .filter(|w| w.kind.eq_ignore_ascii_case("deployment"))
            .map(|w| (w.namespace.clone(), w.name.clone()))
            .collect();
        let usage = deployment_usage(store, &c.id, &deployments, now)?;
        for (k, u) in &usage {
            most_days = most_days.max(u.usage_days);
            if u.usage_days >= MIN_USAGE_DAYS && u.usage_days < USAGE_WINDOW_DAYS as f64 - 0.5 {
                short.push(format!("{}/{} ({:.1} days)", k.0, k.1, u.usage_days));
            }
        }
        profiles.extend(
            page.rows
                .iter()
                .filter(|w| w.kind.eq_ignore_ascii_case("deployment"))
                .map(|w| {
                    let u = usage
                        .get(&(w.namespace.clone(), w.name.clone()))
                        .cloned()
                        .unwrap_or_default();
                    WorkloadProfile {
                        cluster_id: w.cluster.clone(),
                        namespace: w.namespace.clone(),
                        name: w.name.clone(),
                        replicas: w.replicas,
                        containers: 1,
                        request_cpu_cores_per_pod: w.requests_cpu_cores,
                        request_memory_bytes_per_pod: w.requests_memory_bytes,
                        p95_cpu_cores_per_pod: u.p95_cpu_cores_per_pod,
                        p95_memory_bytes_per_pod: u.p95_memory_bytes_per_pod,
                        usage_days: u.usage_days,
                        has_hpa: w.hpa.is_some(),
                        hpa_min_replicas: None,
                        has_pdb: None,
                        selector: BTreeMap::new(),
                    }
                }),
        );
    }
    let config = SuggestionConfig {
        min_usage_days: MIN_USAGE_DAYS,
        ..SuggestionConfig::default()
    };
    let found = suggestions(&profiles, &[], &prices, &config);
    let out = found
        .into_iter()
        .map(|s| SuggestionView {
            // Only deployment scaling has a dialog the Cost screen can open
            // (the workloads' scale dialog, with its preview and
            // confirmation); a node pool resize stays a command to review.
            action: match (&s.action, s.safe_one_click) {
                (
                    Some(OneClick::ScaleDeployment {
                        cluster_id,
                        namespace,
                        deployment,
                        replicas,
                    }),
                    true,
                ) => Some(SuggestionAction {
                    dialog: "scale".into(),
                    cluster_id: cluster_id.clone(),
                    namespace: namespace.clone(),
                    deployment: deployment.clone(),
                    replicas: *replicas,
                }),
                _ => None,
            },
            kind: serde_json::to_value(s.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            currency: currency_of.get(&s.cluster_id).cloned(),
            cluster_id: s.cluster_id,
            target: s.target,
            summary: s.summary,
            monthly_savings: s.monthly_savings,
            commands: s.commands,
            caveats: {
                let mut c = s.caveats;
                if s.kind == SuggestionKind::RightSizeRequests {
                    c.push(
                        "Usage is the 7-day p95 of the deployment's pods, matched by ReplicaSet \
                         name prefix (the cache keeps no owner references)."
                            .into(),
                    );
                }
                c
            },
        })
        .collect();
    let mut missing = Vec::new();
    if most_days < MIN_USAGE_DAYS {
        missing.push(format!(
            "Right-sizing needs at least {MIN_USAGE_DAYS:.0} days of pod usage in the cache; it \
             holds {most_days:.1}: no right-sizing suggestions yet."
        ));
    } else if !short.is_empty() {
        missing.push(format!(
            "The p95 of these deployments covers less than {USAGE_WINDOW_DAYS} days: {}.",
            short.join(", ")
        ));
    }
    missing.extend([
        "Idle node pools need the requests placed on each pool and the pool's p95 usage: not \
         computed yet."
            .to_owned(),
        "PodDisruptionBudgets are not collected: single-replica deployments are listed with \
         the PDB as unknown."
            .to_owned(),
    ]);
    Ok((out, missing))
}
