//! What an average node of each cluster costs per hour, from the cost
//! cache: the cluster's latest cached day over 24 h and its cached node
//! count. The failover plan's cost delta uses it; without cost data the
//! plan omits the delta and says so.

use std::collections::BTreeMap;

use super::cost::best_rows;
use super::ViewError;
use crate::analysis::cost_series::iso_date;
use crate::Store;

/// Days looked back for a cluster's latest cost.
pub const NODE_PRICE_LOOKBACK_DAYS: i64 = 14;

#[derive(Debug, Clone, PartialEq)]
pub struct NodePrice {
    pub hourly: f64,
    pub currency: String,
    /// The day it comes from (`YYYY-MM-DD`).
    pub day: String,
}

/// An average node's hourly price per cluster id. A cluster is left out
/// when its latest day mixes currencies, nets to a credit, or it has no
/// cached nodes: a wrong price is worse than none.
pub fn node_hourly_prices(
    store: &Store,
    now: i64,
) -> Result<BTreeMap<String, NodePrice>, ViewError> {
    let today = now.div_euclid(86_400);
    let rows = best_rows(&store.cost_days(
        &iso_date(today - NODE_PRICE_LOOKBACK_DAYS),
        &iso_date(today + 1),
        None,
    )?);
    // The latest day per cluster, then every row of that day.
    let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &rows {
        if let Some(c) = r.cluster_id.as_deref() {
            let day = latest.entry(c).or_insert(r.day.as_str());
            if r.day.as_str() > *day {
                *day = r.day.as_str();
            }
        }
    }
    let mut out = BTreeMap::new();
    for (cluster, day) in latest {
        let of_day: Vec<_> = rows
            .iter()
            .filter(|r| r.cluster_id.as_deref() == Some(cluster) && r.day == day)
            .collect();
        let currency = &of_day[0].currency;
        if of_day.iter().any(|r| &r.currency != currency) {
            continue;
        }
        let cost: f64 = of_day.iter().map(|r| r.amount).sum();
        let nodes = store.cluster_nodes(cluster)?.len();
        if !(cost.is_finite() && cost > 0.0) || nodes == 0 {
            continue;
        }
        out.insert(
            cluster.to_owned(),
            NodePrice {
                hourly: cost / 24.0 / nodes as f64,
                currency: currency.clone(),
                day: day.to_owned(),
            },
        );
    }
    Ok(out)
}
