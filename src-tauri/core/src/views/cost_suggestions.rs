//! The suggestions the Cost view can compute from the cache, and the
//! inputs it lacks for the others (said in words, never guessed).

use std::collections::BTreeMap;

use super::cost::{priced_nodes, SuggestionAction, SuggestionView};
use super::ViewError;
use crate::analysis::cost_allocation::CostSplit;
use crate::analysis::cost_allocation::NodeCost;
use crate::analysis::cost_suggestions::PoolProfile;
use crate::analysis::cost_suggestions::{
    suggestions, OneClick, SuggestionConfig, SuggestionKind, UnitPrices, WorkloadProfile,
};
use crate::analysis::workload_usage::{deployment_usage, pool_usage, USAGE_WINDOW_DAYS};
use crate::store::WorkloadRow;

/// The node pools of `c` with their usage (and their requests when the
/// cluster has one pool: every pod is then on it, as the cache has no
/// pod → node map), and whether the cluster has several pools.
fn pool_profiles(
    store: &Store,
    c: &ClusterSummary,
    nodes: &[NodeCost],
    workloads: &[WorkloadRow],
    now: i64,
) -> Result<(Vec<PoolProfile>, bool), ViewError> {
    let pool_of_node: BTreeMap<String, String> = nodes
        .iter()
        .filter_map(|n| Some((n.name.clone(), n.pool.clone()?)))
        .collect();
    let usage = pool_usage(store, &c.id, &pool_of_node, now)?;
    let mut by_pool: BTreeMap<&str, Vec<&NodeCost>> = BTreeMap::new();
    for n in nodes {
        if let Some(p) = &n.pool {
            by_pool.entry(p).or_default().push(n);
        }
    }
    let single = by_pool.len() == 1 && pool_of_node.len() == nodes.len();
    let requested = |per_pod: fn(&WorkloadRow) -> Option<f64>| -> Option<f64> {
        let mut total = 0.0;
        for w in workloads.iter().filter(|w| w.replicas > 0) {
            total += f64::from(w.replicas) * per_pod(w)?;
        }
        Some(total)
    };
    let mut out = Vec::new();
    for (pool, members) in &by_pool {
        let Some(u) = usage.get(*pool).filter(|u| u.usage_days >= MIN_USAGE_DAYS) else {
            continue;
        };
        let count = members.len() as f64;
        let min_count = c
            .node_pools
            .iter()
            .find(|p| p.name == *pool)
            .and_then(|p| p.min)
            .unwrap_or(1);
        out.push(PoolProfile {
            cluster_id: c.id.clone(),
            pool: (*pool).to_owned(),
            nodes: members.len() as u32,
            min_count,
            cpu_cores_per_node: members.iter().map(|n| n.cpu_cores).sum::<f64>() / count,
            memory_bytes_per_node: members.iter().map(|n| n.memory_bytes).sum::<f64>() / count,
            requested_cpu_cores: if single {
                requested(|w| w.requests_cpu_cores)
            } else {
                None
            },
            requested_memory_bytes: if single {
                requested(|w| w.requests_memory_bytes)
            } else {
                None
            },
            p95_cpu_cores: u.p95_cpu_cores,
            p95_memory_bytes: u.p95_memory_bytes,
            // The nodes' cost is for one day.
            node_hourly_cost: members.iter().map(|n| n.cost).sum::<f64>() / count / 24.0,
        });
    }
    Ok((out, by_pool.len() > 1))
}
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
    let mut pools = Vec::new();
    let mut multi_pool = false;
    for c in clusters.iter().filter(|c| c.gone_at.is_none()) {
        let page = store.workloads(&WorkloadQuery {
            cluster: Some(c.id.clone()),
            limit: MAX_WORKLOAD_PAGE,
            ..Default::default()
        })?;
        if let Ok(p) = priced_nodes(store, &c.id, month_rows)? {
            let (nodes, currency) = (p.nodes, p.currency);
            if let Some(p) = UnitPrices::from_nodes(&nodes, CostSplit::Reference, 24.0) {
                prices.insert(c.id.clone(), p);
                currency_of.insert(c.id.clone(), currency);
            }
            let (found, several) = pool_profiles(store, c, &nodes, &page.rows, now)?;
            multi_pool |= several;
            pools.extend(found);
        }
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
    let found = suggestions(&profiles, &pools, &prices, &config);
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
            "Right-sizing compares requests with the p95 of pod usage and needs at least \
             {MIN_USAGE_DAYS:.0} days of pod usage in the cache; it \
             holds {most_days:.1}: no right-sizing suggestions yet."
        ));
    } else if !short.is_empty() {
        missing.push(format!(
            "The p95 of these deployments covers less than {USAGE_WINDOW_DAYS} days: {}.",
            short.join(", ")
        ));
    }
    if multi_pool {
        missing.push(
            "The cache does not say which node each pod runs on: in clusters with several \
             pools the requests per pool are unknown, so their idle-pool suggestions rest on \
             usage alone and are marked for review."
                .to_owned(),
        );
    }
    missing.extend([
        "PodDisruptionBudgets are not collected: single-replica deployments are listed with \
         the PDB as unknown."
            .to_owned(),
    ]);
    Ok((out, missing))
}
