//! The preview of "scale a deployment" (issue 6): the diff, the capacity
//! check for the added pods, what an HPA on the deployment will do about
//! it, and the confirmation the change needs. Pure: the executor in
//! `cloudops-cloud` reads the live objects, calls [`plan_scale`], shows the
//! plan, and writes only after the confirmation.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::fit::{fit, FitReport, NodeCapacity, PodShape};

/// The most replicas a scale accepts: beyond this is a typo, not a plan.
pub const MAX_REPLICAS: i32 = 10_000;

/// Which deployment, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkloadRef {
    pub cluster_id: String,
    pub namespace: String,
    pub deployment: String,
}

impl std::fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} in {}",
            self.namespace, self.deployment, self.cluster_id
        )
    }
}

/// The bounds of an HPA that scales the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HpaBounds {
    pub min: i32,
    pub max: i32,
}

/// What the executor read from the cluster just before planning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScaleInputs {
    pub replicas: i32,
    pub ready: i32,
    pub hpa: Option<HpaBounds>,
    pub pod: PodShape,
    pub nodes: Vec<NodeCapacity>,
}

/// One field before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ScalePlan {
    pub target: WorkloadRef,
    pub from: i32,
    pub to: i32,
    pub ready: i32,
    pub changes: Vec<FieldChange>,
    /// For added pods only.
    pub fit: Option<FitReport>,
    pub hpa: Option<HpaBounds>,
    /// Things to know before confirming (an HPA will undo it, pods will
    /// stay Pending…).
    pub warnings: Vec<String>,
    /// The text the user must type to confirm (the deployment's name) when
    /// the change takes its capacity to zero; `None` for a yes/no.
    pub typed_confirmation: Option<String>,
}

impl ScalePlan {
    /// Nothing to do: the deployment already has `to` replicas.
    pub fn is_noop(&self) -> bool {
        self.from == self.to
    }
}

/// Why a scale cannot be planned at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScalePlanError {
    #[error("{requested} replicas is out of range for {target}: use 0 to {MAX_REPLICAS}")]
    OutOfRange { target: String, requested: i64 },
}

/// Plans scaling `target` to `to` replicas.
pub fn plan_scale(
    target: WorkloadRef,
    inputs: &ScaleInputs,
    to: i64,
) -> Result<ScalePlan, ScalePlanError> {
    let to = i32::try_from(to)
        .ok()
        .filter(|n| (0..=MAX_REPLICAS).contains(n))
        .ok_or_else(|| ScalePlanError::OutOfRange {
            target: target.to_string(),
            requested: to,
        })?;
    let from = inputs.replicas;
    let mut warnings = Vec::new();
    let fit = (to > from).then(|| {
        let report = fit(&inputs.nodes, &inputs.pod, (to - from) as u32);
        if !report.fits {
            warnings.push(format!(
                "{}: the added pods beyond the room stay Pending unless a cluster autoscaler adds \
                 nodes",
                report.summary
            ));
        }
        report
    });
    if let Some(h) = inputs.hpa {
        if to < h.min || to > h.max {
            warnings.push(format!(
                "an HPA scales this deployment between {} and {}: it will move {} replicas back \
                 into that range at its next sync; change the HPA's bounds instead",
                h.min, h.max, to
            ));
        } else if to != from {
            warnings.push(format!(
                "an HPA scales this deployment ({}..{}); it may change the count again as load \
                 moves",
                h.min, h.max
            ));
        }
    }
    let typed_confirmation = (to == 0 && from > 0).then(|| target.deployment.clone());
    if typed_confirmation.is_some() {
        warnings.push(format!(
            "scaling to 0 stops every pod of {}: it serves nothing until scaled up again",
            target.deployment
        ));
    }
    let changes = if to == from {
        Vec::new()
    } else {
        vec![FieldChange {
            field: "spec.replicas".into(),
            before: from.to_string(),
            after: to.to_string(),
        }]
    };
    Ok(ScalePlan {
        target,
        from,
        to,
        ready: inputs.ready,
        changes,
        fit,
        hpa: inputs.hpa,
        warnings,
        typed_confirmation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> WorkloadRef {
        WorkloadRef {
            cluster_id: "aws/1/us-east-1/shop".into(),
            namespace: "shop".into(),
            deployment: "checkout".into(),
        }
    }

    fn inputs(replicas: i32, room_nodes: usize) -> ScaleInputs {
        ScaleInputs {
            replicas,
            ready: replicas,
            hpa: None,
            pod: PodShape {
                cpu: 1.0,
                memory: 1e9,
                ..Default::default()
            },
            nodes: (0..room_nodes)
                .map(|i| NodeCapacity {
                    name: format!("n{i}"),
                    ready: true,
                    allocatable_cpu: 2.0,
                    allocatable_memory: 8e9,
                    allocatable_pods: 110,
                    ..Default::default()
                })
                .collect(),
        }
    }

    #[test]
    fn scaling_up_checks_the_added_pods_fit() {
        let p = plan_scale(target(), &inputs(3, 2), 7).unwrap();
        assert_eq!((p.from, p.to), (3, 7));
        assert_eq!(p.changes[0].field, "spec.replicas");
        assert_eq!(
            (p.changes[0].before.as_str(), p.changes[0].after.as_str()),
            ("3", "7")
        );
        let fit = p.fit.as_ref().unwrap();
        assert_eq!((fit.wanted, fit.room, fit.fits), (4, 4, true));
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.typed_confirmation, None);

        let p = plan_scale(target(), &inputs(3, 2), 8).unwrap();
        assert!(!p.fit.as_ref().unwrap().fits);
        assert!(p.warnings[0].contains("stay Pending"), "{:?}", p.warnings);
    }

    #[test]
    fn scaling_down_needs_no_fit_and_zero_needs_the_name_typed() {
        let p = plan_scale(target(), &inputs(3, 0), 1).unwrap();
        assert_eq!(p.fit, None);
        assert_eq!(p.typed_confirmation, None);
        let p = plan_scale(target(), &inputs(3, 0), 0).unwrap();
        assert_eq!(p.typed_confirmation.as_deref(), Some("checkout"));
        assert!(p.warnings.iter().any(|w| w.contains("scaling to 0")));
        // Already at zero: nothing to confirm, nothing to change.
        let p = plan_scale(target(), &inputs(0, 0), 0).unwrap();
        assert!(p.is_noop());
        assert_eq!(p.typed_confirmation, None);
        assert!(p.changes.is_empty());
    }

    #[test]
    fn an_hpa_that_will_undo_the_change_is_called_out() {
        let mut i = inputs(4, 4);
        i.hpa = Some(HpaBounds { min: 2, max: 6 });
        let p = plan_scale(target(), &i, 9).unwrap();
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("move 9 replicas back")),
            "{:?}",
            p.warnings
        );
        let p = plan_scale(target(), &i, 5).unwrap();
        assert!(p
            .warnings
            .iter()
            .any(|w| w.contains("may change the count")));
    }

    #[test]
    fn out_of_range_counts_are_refused_with_the_range() {
        for bad in [-1, i64::from(MAX_REPLICAS) + 1, i64::MAX] {
            let e = plan_scale(target(), &inputs(1, 1), bad).unwrap_err();
            assert!(e.to_string().contains("use 0 to 10000"), "{e}");
        }
    }
}
