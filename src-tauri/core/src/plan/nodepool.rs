//! The preview of "scale a node pool" through the cloud's API (issue 6):
//! the count before and after, the pool's autoscaling bounds, and the
//! confirmation it needs. Pure, like `plan::scale`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::scale::FieldChange;
use crate::model::NodePoolSummary;

/// The most nodes a pool scale accepts; clouds cap lower, and say so.
pub const MAX_POOL_NODES: u32 = 1_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodePoolPlan {
    pub cluster_id: String,
    pub pool: String,
    pub machine_type: Option<String>,
    pub from: u32,
    pub to: u32,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub changes: Vec<FieldChange>,
    pub warnings: Vec<String>,
    /// The pool's name, to be typed when the pool goes to zero nodes.
    pub typed_confirmation: Option<String>,
}

impl NodePoolPlan {
    pub fn is_noop(&self) -> bool {
        self.from == self.to
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodePoolPlanError {
    #[error("the cluster {cluster} has no node pool {pool} (it has: {known})")]
    UnknownPool {
        cluster: String,
        pool: String,
        known: String,
    },
    #[error(
        "{count} nodes is outside node pool {pool}'s bounds ({min}..{max}) in {cluster}; change the \
         pool's min/max in the cloud first"
    )]
    OutOfBounds {
        cluster: String,
        pool: String,
        count: u32,
        min: u32,
        max: u32,
    },
}

/// Plans resizing `pool` (by name) of the cluster's `pools` to `count`.
pub fn plan_node_pool(
    cluster_id: &str,
    pools: &[NodePoolSummary],
    pool: &str,
    count: u32,
) -> Result<NodePoolPlan, NodePoolPlanError> {
    let Some(p) = pools.iter().find(|p| p.name == pool) else {
        return Err(NodePoolPlanError::UnknownPool {
            cluster: cluster_id.to_owned(),
            pool: pool.to_owned(),
            known: if pools.is_empty() {
                "none".to_owned()
            } else {
                pools
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        });
    };
    let (min, max) = (
        p.min.unwrap_or(0),
        p.max.unwrap_or(MAX_POOL_NODES).min(MAX_POOL_NODES),
    );
    if count < min || count > max {
        return Err(NodePoolPlanError::OutOfBounds {
            cluster: cluster_id.to_owned(),
            pool: pool.to_owned(),
            count,
            min,
            max,
        });
    }
    let mut warnings = Vec::new();
    if count < p.count {
        warnings.push(format!(
            "{} node(s) will be drained and removed: their pods are evicted and rescheduled on the \
             remaining nodes (PodDisruptionBudgets apply)",
            p.count - count
        ));
    }
    if matches!((p.min, p.max), (Some(lo), Some(hi)) if lo != hi) {
        warnings.push(format!(
            "the pool autoscales between {min} and {max}: the cluster autoscaler may change the \
             count again"
        ));
    }
    let typed_confirmation = (count == 0 && p.count > 0).then(|| p.name.clone());
    if typed_confirmation.is_some() {
        warnings.push(format!(
            "scaling {} to 0 nodes removes all its capacity: pods that only fit there stay Pending",
            p.name
        ));
    }
    Ok(NodePoolPlan {
        cluster_id: cluster_id.to_owned(),
        pool: p.name.clone(),
        machine_type: p.machine_type.clone(),
        from: p.count,
        to: count,
        min: p.min,
        max: p.max,
        changes: if count == p.count {
            Vec::new()
        } else {
            vec![FieldChange {
                field: "node count".into(),
                before: p.count.to_string(),
                after: count.to_string(),
            }]
        },
        warnings,
        typed_confirmation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pools() -> Vec<NodePoolSummary> {
        vec![
            NodePoolSummary {
                name: "general".into(),
                count: 3,
                min: Some(1),
                max: Some(6),
                machine_type: Some("m6i.large".into()),
            },
            NodePoolSummary {
                name: "batch".into(),
                count: 2,
                min: Some(0),
                max: Some(2),
                machine_type: None,
            },
        ]
    }

    #[test]
    fn a_resize_within_bounds_is_planned_with_its_warnings() {
        let p = plan_node_pool("c", &pools(), "general", 5).unwrap();
        assert_eq!((p.from, p.to), (3, 5));
        assert_eq!(p.changes[0].after, "5");
        assert!(
            p.warnings[0].contains("autoscales between 1 and 6"),
            "{:?}",
            p.warnings
        );
        let p = plan_node_pool("c", &pools(), "general", 2).unwrap();
        assert!(
            p.warnings[0].starts_with("1 node(s) will be drained"),
            "{:?}",
            p.warnings
        );
        assert_eq!(p.typed_confirmation, None);
        assert!(plan_node_pool("c", &pools(), "general", 3)
            .unwrap()
            .is_noop());
    }

    #[test]
    fn zero_needs_the_pool_name_typed() {
        let p = plan_node_pool("c", &pools(), "batch", 0).unwrap();
        assert_eq!(p.typed_confirmation.as_deref(), Some("batch"));
    }

    #[test]
    fn unknown_pools_and_out_of_bounds_counts_are_refused_with_what_to_do() {
        let e = plan_node_pool("c", &pools(), "gpu", 1).unwrap_err();
        assert!(e.to_string().contains("it has: general, batch"), "{e}");
        let e = plan_node_pool("c", &pools(), "general", 7).unwrap_err();
        assert!(e.to_string().contains("(1..6)"), "{e}");
        let e = plan_node_pool("c", &pools(), "general", 0).unwrap_err();
        assert!(matches!(e, NodePoolPlanError::OutOfBounds { .. }));
        let e = plan_node_pool("c", &[], "general", 1).unwrap_err();
        assert!(e.to_string().contains("it has: none"), "{e}");
    }
}
