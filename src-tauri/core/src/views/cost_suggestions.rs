//! The suggestions the Cost view can compute from the cache, and the
//! inputs it lacks for the others (said in words, never guessed).

use std::collections::BTreeMap;

use super::cost::{priced_nodes, SuggestionView};
use super::ViewError;
use crate::analysis::cost_allocation::CostSplit;
use crate::analysis::cost_suggestions::{
    suggestions, SuggestionConfig, UnitPrices, WorkloadProfile,
};
use crate::cost::CostDay;
use crate::model::ClusterSummary;
use crate::store::{Store, WorkloadQuery, MAX_WORKLOAD_PAGE};

pub(super) fn suggestion_views(
    store: &Store,
    clusters: &[ClusterSummary],
    month_rows: &[&CostDay],
) -> Result<(Vec<SuggestionView>, Vec<String>), ViewError> {
    let mut profiles = Vec::new();
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
        profiles.extend(
            page.rows
                .iter()
                .filter(|w| w.kind.eq_ignore_ascii_case("deployment"))
                .map(|w| WorkloadProfile {
                    cluster_id: w.cluster.clone(),
                    namespace: w.namespace.clone(),
                    name: w.name.clone(),
                    replicas: w.replicas,
                    containers: 1,
                    request_cpu_cores_per_pod: w.requests_cpu_cores,
                    request_memory_bytes_per_pod: w.requests_memory_bytes,
                    // The 7-day p95 is not kept per workload in the cache.
                    p95_cpu_cores_per_pod: None,
                    p95_memory_bytes_per_pod: None,
                    usage_days: 0.0,
                    has_hpa: w.hpa.is_some(),
                    hpa_min_replicas: None,
                    has_pdb: None,
                    selector: BTreeMap::new(),
                }),
        );
    }
    let found = suggestions(&profiles, &[], &prices, &SuggestionConfig::default());
    let out = found
        .into_iter()
        .map(|s| SuggestionView {
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
            caveats: s.caveats,
        })
        .collect();
    let missing = vec![
        "Right-sizing needs each workload's 7-day p95 usage per pod, which the cache does not \
         keep yet: no right-sizing suggestions."
            .to_owned(),
        "Idle node pools need the requests placed on each pool and the pool's p95 usage: not \
         computed yet."
            .to_owned(),
        "PodDisruptionBudgets are not collected: single-replica deployments are listed with \
         the PDB as unknown."
            .to_owned(),
    ];
    Ok((out, missing))
}
