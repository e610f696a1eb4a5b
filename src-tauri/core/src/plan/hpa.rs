//! The preview of "create or edit an HPA" (issue 6): the autoscaling/v2
//! fields CloudOps manages, before and after, and what the change will do
//! to the deployment. Pure: the executor in `cloudops-cloud::act::hpa`
//! reads the live objects and writes only after the confirmation.

use serde::{Deserialize, Serialize};

use super::scale::{FieldChange, WorkloadRef, MAX_REPLICAS};

/// A scaling policy: at most `percent` % of the current replicas per
/// `period_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PercentPolicy {
    pub percent: i32,
    pub period_secs: i32,
}

/// The HPA fields CloudOps reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HpaSettings {
    pub min: i32,
    pub max: i32,
    /// Target average CPU utilization, % of requests.
    pub cpu_percent: Option<i32>,
    /// Target average memory utilization, % of requests.
    pub memory_percent: Option<i32>,
    pub scale_up: Option<PercentPolicy>,
    pub scale_down: Option<PercentPolicy>,
    pub scale_down_stabilization_secs: Option<i32>,
}

/// "Make autoscaled": the seed's defaults. CPU 70 %, memory 80 %, 2 to 10
/// replicas, up by at most 100 % per 30 s, down by at most 50 % per 60 s
/// after a 5-minute stabilization window.
pub fn autoscaled_defaults() -> HpaSettings {
    HpaSettings {
        min: 2,
        max: 10,
        cpu_percent: Some(70),
        memory_percent: Some(80),
        scale_up: Some(PercentPolicy {
            percent: 100,
            period_secs: 30,
        }),
        scale_down: Some(PercentPolicy {
            percent: 50,
            period_secs: 60,
        }),
        scale_down_stabilization_secs: Some(300),
    }
}

/// Changes to apply over the current settings (or over the defaults when
/// the deployment has no HPA yet). `None` keeps a field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HpaEdit {
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub cpu_percent: Option<i32>,
    pub memory_percent: Option<i32>,
}

/// The preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HpaPlan {
    pub target: WorkloadRef,
    /// The HPA's name (the deployment's when it is created).
    pub name: String,
    /// `create` or `edit`.
    pub action: String,
    pub before: Option<HpaSettings>,
    pub after: HpaSettings,
    pub changes: Vec<FieldChange>,
    pub replicas: i32,
    pub warnings: Vec<String>,
}

impl HpaPlan {
    pub fn is_noop(&self) -> bool {
        self.changes.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HpaPlanError {
    #[error("min {min} and max {max} are out of range: use 1 <= min <= max <= {MAX_REPLICAS}")]
    Bounds { min: i32, max: i32 },
    #[error("a {what} target of {value}% is out of range: use 1 to 1000")]
    Percent { what: &'static str, value: i32 },
    #[error("an HPA needs at least one metric (CPU or memory)")]
    NoMetric,
}

fn opt<T: std::fmt::Display>(v: Option<T>, unit: &str) -> String {
    v.map_or("-".into(), |v| format!("{v}{unit}"))
}

fn policy(p: Option<PercentPolicy>) -> String {
    p.map_or("-".into(), |p| {
        format!("{}% per {} s", p.percent, p.period_secs)
    })
}

/// One field of the settings as the preview shows it.
type Render = fn(&HpaSettings) -> String;

/// The fields that differ, as the preview lists them.
fn diff(before: Option<&HpaSettings>, after: &HpaSettings) -> Vec<FieldChange> {
    let row = |field: &str, b: Option<String>, a: String| FieldChange {
        field: field.into(),
        before: b.unwrap_or_else(|| "(none)".into()),
        after: a,
    };
    let fields: [(&str, Render); 7] = [
        ("spec.minReplicas", |s| s.min.to_string()),
        ("spec.maxReplicas", |s| s.max.to_string()),
        ("metrics.cpu.averageUtilization", |s| {
            opt(s.cpu_percent, "%")
        }),
        ("metrics.memory.averageUtilization", |s| {
            opt(s.memory_percent, "%")
        }),
        ("behavior.scaleUp", |s| policy(s.scale_up)),
        ("behavior.scaleDown", |s| policy(s.scale_down)),
        ("behavior.scaleDown.stabilizationWindowSeconds", |s| {
            opt(s.scale_down_stabilization_secs, " s")
        }),
    ];
    fields
        .iter()
        .filter_map(|(name, get)| {
            let b = before.map(get);
            let a = get(after);
            (b.as_deref() != Some(a.as_str())).then(|| row(name, b, a))
        })
        .collect()
}

/// Plans `edit` over `current` (or over [`autoscaled_defaults`] when the
/// deployment has no HPA). `requests` says whether the pod template
/// requests CPU and memory: utilization targets need them.
pub fn plan_hpa(
    target: WorkloadRef,
    current: Option<(String, HpaSettings)>,
    replicas: i32,
    requests: (bool, bool),
    edit: HpaEdit,
) -> Result<HpaPlan, HpaPlanError> {
    let (name, before) = match current {
        Some((name, s)) => (name, Some(s)),
        None => (target.deployment.clone(), None),
    };
    let mut after = before.unwrap_or_else(autoscaled_defaults);
    after.min = edit.min.unwrap_or(after.min);
    after.max = edit.max.unwrap_or(after.max);
    after.cpu_percent = edit.cpu_percent.or(after.cpu_percent);
    after.memory_percent = edit.memory_percent.or(after.memory_percent);
    if after.min < 1 || after.max < after.min || after.max > MAX_REPLICAS {
        return Err(HpaPlanError::Bounds {
            min: after.min,
            max: after.max,
        });
    }
    for (what, v) in [("CPU", after.cpu_percent), ("memory", after.memory_percent)] {
        if let Some(v) = v.filter(|v| !(1..=1000).contains(v)) {
            return Err(HpaPlanError::Percent { what, value: v });
        }
    }
    if after.cpu_percent.is_none() && after.memory_percent.is_none() {
        return Err(HpaPlanError::NoMetric);
    }
    let mut warnings = Vec::new();
    if replicas < after.min || replicas > after.max {
        warnings.push(format!(
            "the deployment has {replicas} replicas: the HPA will move it into {}..{} at its \
             next sync",
            after.min, after.max
        ));
    }
    for (what, target, requested) in [
        ("CPU", after.cpu_percent, requests.0),
        ("memory", after.memory_percent, requests.1),
    ] {
        if target.is_some() && !requested {
            warnings.push(format!(
                "the pod template requests no {what}: a {what} utilization target cannot be \
                 computed, so the HPA will not scale on it"
            ));
        }
    }
    let changes = diff(before.as_ref(), &after);
    Ok(HpaPlan {
        target,
        name,
        action: if before.is_some() { "edit" } else { "create" }.into(),
        before,
        after,
        changes,
        replicas,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> WorkloadRef {
        WorkloadRef {
            cluster_id: "gcp/p/x/c".into(),
            namespace: "shop".into(),
            deployment: "cart".into(),
        }
    }

    #[test]
    fn make_autoscaled_creates_the_seed_defaults() {
        let p = plan_hpa(target(), None, 1, (true, true), HpaEdit::default()).unwrap();
        assert_eq!(p.action, "create");
        assert_eq!(p.name, "cart");
        let d = p.after;
        assert_eq!((d.min, d.max), (2, 10));
        assert_eq!((d.cpu_percent, d.memory_percent), (Some(70), Some(80)));
        assert_eq!(
            d.scale_up,
            Some(PercentPolicy {
                percent: 100,
                period_secs: 30
            })
        );
        assert_eq!(
            d.scale_down,
            Some(PercentPolicy {
                percent: 50,
                period_secs: 60
            })
        );
        assert_eq!(d.scale_down_stabilization_secs, Some(300));
        // Every field is new.
        assert_eq!(p.changes.len(), 7);
        assert!(p.changes.iter().all(|c| c.before == "(none)"));
        assert!(p.warnings[0].contains("into 2..10"), "{:?}", p.warnings);
    }

    #[test]
    fn an_edit_changes_only_what_it_names() {
        let current = HpaSettings {
            min: 3,
            max: 6,
            cpu_percent: Some(60),
            memory_percent: None,
            scale_up: None,
            scale_down: None,
            scale_down_stabilization_secs: None,
        };
        let edit = HpaEdit {
            max: Some(12),
            ..Default::default()
        };
        let p = plan_hpa(
            target(),
            Some(("cart-hpa".into(), current)),
            4,
            (true, false),
            edit,
        )
        .unwrap();
        assert_eq!((p.action.as_str(), p.name.as_str()), ("edit", "cart-hpa"));
        assert_eq!(p.changes.len(), 1);
        assert_eq!(
            (
                p.changes[0].field.as_str(),
                p.changes[0].before.as_str(),
                p.changes[0].after.as_str()
            ),
            ("spec.maxReplicas", "6", "12")
        );
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let same = plan_hpa(
            target(),
            Some(("cart-hpa".into(), p.after)),
            4,
            (true, false),
            HpaEdit::default(),
        )
        .unwrap();
        assert!(same.is_noop());
    }

    #[test]
    fn bad_values_are_refused_and_missing_requests_are_warned() {
        let bad = |e: HpaEdit| plan_hpa(target(), None, 2, (true, true), e).unwrap_err();
        assert!(matches!(
            bad(HpaEdit {
                min: Some(0),
                ..Default::default()
            }),
            HpaPlanError::Bounds { .. }
        ));
        assert!(matches!(
            bad(HpaEdit {
                min: Some(5),
                max: Some(4),
                ..Default::default()
            }),
            HpaPlanError::Bounds { .. }
        ));
        assert!(matches!(
            bad(HpaEdit {
                cpu_percent: Some(0),
                ..Default::default()
            }),
            HpaPlanError::Percent { what: "CPU", .. }
        ));
        let p = plan_hpa(target(), None, 2, (false, true), HpaEdit::default()).unwrap();
        assert!(
            p.warnings.iter().any(|w| w.contains("requests no CPU")),
            "{:?}",
            p.warnings
        );
    }
}
