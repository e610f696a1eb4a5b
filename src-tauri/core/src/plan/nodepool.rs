//! The preview of "scale a node pool" through the cloud's API (issue 6):
//! the count before and after, the pool's autoscaling bounds, where the
//! pods of removed nodes would go (`plan::drain`), and the confirmation it
//! needs. Pure, like `plan::scale`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::drain::{drain_fit, DrainFit};
use super::fit::NodeCapacity;
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
    /// For a scale-down: whether the evicted pods fit on the other nodes.
    pub drain_fit: Option<DrainFit>,
    /// The pool's name, to be typed when the pool goes to zero nodes or
    /// when the pods of the removed nodes do not fit elsewhere.
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
/// `capacity` is the cluster's nodes as read just before, or why they
/// could not be read (then a scale-down says the drain was not checked).
pub fn plan_node_pool(
    cluster_id: &str,
    pools: &[NodePoolSummary],
    pool: &str,
    count: u32,
    capacity: Result<&[NodeCapacity], &str>,
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
    let drain = if count < p.count {
        match capacity {
            Ok(nodes) => {
                let d = drain_fit(nodes, &p.name, p.count - count);
                match &d {
                    Some(d) if !d.fits => warnings.push(d.summary.clone()),
                    Some(_) => {}
                    None => warnings.push(format!(
                        "no node carries {}'s pool label: where its pods go was not checked",
                        p.name
                    )),
                }
                d
            }
            Err(why) => {
                warnings.push(format!("where the evicted pods go was not checked: {why}"));
                None
            }
        }
    } else {
        None
    };
    let pods_left_pending = drain.as_ref().is_some_and(|d| !d.fits);
    let typed_confirmation =
        ((count == 0 && p.count > 0) || pods_left_pending).then(|| p.name.clone());
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
        drain_fit: drain,
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
        let p = plan_node_pool("c", &pools(), "general", 5, Ok(&[])).unwrap();
        assert_eq!((p.from, p.to), (3, 5));
        assert_eq!(p.changes[0].after, "5");
        assert!(
            p.warnings[0].contains("autoscales between 1 and 6"),
            "{:?}",
            p.warnings
        );
        let p = plan_node_pool("c", &pools(), "general", 2, Err("offline")).unwrap();
        assert!(
            p.warnings[0].starts_with("1 node(s) will be drained"),
            "{:?}",
            p.warnings
        );
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("not checked: offline")),
            "{:?}",
            p.warnings
        );
        assert_eq!(p.typed_confirmation, None);
        assert!(plan_node_pool("c", &pools(), "general", 3, Ok(&[]))
            .unwrap()
            .is_noop());
    }

    #[test]
    fn a_scale_down_whose_pods_do_not_fit_elsewhere_needs_the_name_typed() {
        let node = |name: &str, used: f64| NodeCapacity {
            name: name.into(),
            ready: true,
            labels: [(
                "eks.amazonaws.com/nodegroup".to_owned(),
                "general".to_owned(),
            )]
            .into(),
            allocatable_cpu: 2.0,
            allocatable_memory: 8e9,
            allocatable_pods: 30,
            requested_cpu: used,
            requested_memory: 1e9,
            pods: 4,
            ..Default::default()
        };
        let full = [node("a", 1.8), node("b", 1.8), node("c", 1.8)];
        let p = plan_node_pool("c", &pools(), "general", 2, Ok(&full)).unwrap();
        let d = p.drain_fit.as_ref().expect("checked");
        assert!(!d.fits);
        assert_eq!(p.typed_confirmation.as_deref(), Some("general"));
        assert!(
            p.warnings.iter().any(|w| w.contains("short of CPU")),
            "{:?}",
            p.warnings
        );
        let roomy = [node("a", 0.2), node("b", 0.2), node("c", 0.2)];
        let p = plan_node_pool("c", &pools(), "general", 2, Ok(&roomy)).unwrap();
        assert!(p.drain_fit.as_ref().is_some_and(|d| d.fits));
        assert_eq!(p.typed_confirmation, None);
    }

    #[test]
    fn zero_needs_the_pool_name_typed() {
        let p = plan_node_pool("c", &pools(), "batch", 0, Ok(&[])).unwrap();
        assert_eq!(p.typed_confirmation.as_deref(), Some("batch"));
    }

    #[test]
    fn unknown_pools_and_out_of_bounds_counts_are_refused_with_what_to_do() {
        let e = plan_node_pool("c", &pools(), "gpu", 1, Ok(&[])).unwrap_err();
        assert!(e.to_string().contains("it has: general, batch"), "{e}");
        let e = plan_node_pool("c", &pools(), "general", 7, Ok(&[])).unwrap_err();
        assert!(e.to_string().contains("(1..6)"), "{e}");
        let e = plan_node_pool("c", &pools(), "general", 0, Ok(&[])).unwrap_err();
        assert!(matches!(e, NodePoolPlanError::OutOfBounds { .. }));
        let e = plan_node_pool("c", &[], "general", 1, Ok(&[])).unwrap_err();
        assert!(e.to_string().contains("it has: none"), "{e}");
    }
}
