//! The HPA controller (autoscaling/v2), with the Kubernetes replica
//! calculation: `desired = ceil(ready × metric / target)` over the Ready
//! pods, nothing within the 10% tolerance, not-yet-Ready pods counted at 0%
//! when scaling up and at the target when scaling down (so that a rollout in
//! progress does not overshoot), then the min/max clamp and the default
//! scale-up limit (double, or +4). Resource metrics (cpu, memory) with
//! `Utilization` or `AverageValue` targets come from the load model in
//! metrics.rs, the same numbers metrics.k8s.io serves. `behavior` policies
//! and the scale-down stabilization window are not simulated: the HPA acts
//! on each sync's recommendation.

use k8s_openapi::api::{
    apps::v1::Deployment,
    autoscaling::v2::{
        HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus,
        MetricSpec, MetricStatus, MetricValueStatus, ResourceMetricStatus,
    },
};

use super::{
    controllers::{deployment_pods, object_ref, pod_ready, record_event, Ctx},
    metrics::{
        cpu_quantity, demand_milli, memory_quantity, parse_quantity, pod_usage, requests_of,
    },
    store::{time, Key, Store},
};

/// The HPA controller's default tolerance.
const TOLERANCE: f64 = 0.1;
/// `autoscaling/v2`'s default when an HPA names no metrics.
const DEFAULT_CPU_UTILIZATION: f64 = 80.0;

pub(crate) fn reconcile(store: &mut Store, ctx: &Ctx<'_>) {
    let due = store.next_hpa_sync.is_none_or(|t| t <= ctx.clock.now);
    let keys: Vec<Key> = if due {
        store.dirty_hpas.clear();
        store.next_hpa_sync =
            (store.hpas.len() > 0).then(|| ctx.clock.now + ctx.cfg.hpa_sync_period);
        store
            .hpas
            .values()
            .map(|h| super::store::key_of(&h.metadata))
            .collect()
    } else {
        std::mem::take(&mut store.dirty_hpas).into_iter().collect()
    };
    for key in keys {
        reconcile_one(store, &key, ctx);
    }
}

/// One metric's reading and recommendation.
struct Reading {
    name: String,
    utilization: bool,
    /// Percent of request (utilization) or per-pod average in base units.
    value: f64,
    average: f64,
    desired: i32,
}

/// One resource metric's reading (the metric, the per-pod average) and the
/// replica count it asks for.
fn recommend(
    usage: &[(f64, f64)],
    unready: usize,
    target: f64,
    utilization: bool,
    current: i32,
) -> (f64, f64, i32) {
    let n = usage.len();
    if n == 0 {
        return (0.0, 0.0, current);
    }
    let used: f64 = usage.iter().map(|u| u.0).sum();
    let requested: f64 = usage.iter().map(|u| u.1).sum();
    let average = used / n as f64;
    let metric = if utilization {
        if requested <= 0.0 {
            return (0.0, average, current);
        }
        used / requested * 100.0
    } else {
        average
    };
    let ratio = metric / target;
    if (ratio - 1.0).abs() <= TOLERANCE {
        return (metric, average, current);
    }
    if unready == 0 {
        return (metric, average, (ratio * n as f64).ceil() as i32);
    }
    // Count the pods without metrics: at 0 going up, at the target going
    // down; no change if that flips the direction or lands in tolerance.
    let per_pod_request = requested / n as f64;
    let missing = unready as f64;
    let assumed = if ratio > 1.0 { 0.0 } else { target };
    let new_ratio = if utilization {
        (used + missing * per_pod_request * assumed / 100.0)
            / (requested + missing * per_pod_request)
            * 100.0
            / target
    } else {
        (used + missing * assumed) / (n as f64 + missing) / target
    };
    let flipped = (ratio > 1.0) != (new_ratio > 1.0);
    if flipped || (new_ratio - 1.0).abs() <= TOLERANCE {
        return (metric, average, current);
    }
    (
        metric,
        average,
        (new_ratio * (n as f64 + missing)).ceil() as i32,
    )
}

fn condition(
    old: Option<&Vec<HorizontalPodAutoscalerCondition>>,
    type_: &str,
    ok: bool,
    reason: &str,
    message: String,
    unix: u64,
) -> HorizontalPodAutoscalerCondition {
    let status = if ok { "True" } else { "False" };
    let prev = old.and_then(|cs| cs.iter().find(|c| c.type_ == type_));
    let since = match prev {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => Some(time(unix)),
    };
    HorizontalPodAutoscalerCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_transition_time: since,
        observed_generation: None,
    }
}

fn resource_target(m: &MetricSpec) -> Option<(String, bool, f64)> {
    let r = m.resource.as_ref().filter(|_| m.type_ == "Resource")?;
    if r.name != "cpu" && r.name != "memory" {
        return None;
    }
    let t = &r.target;
    match t.type_.as_str() {
        "Utilization" => Some((r.name.clone(), true, f64::from(t.average_utilization?))),
        "AverageValue" => {
            let v = parse_quantity(&t.average_value.as_ref()?.0)?;
            // CPU readings are in millicores.
            let v = if r.name == "cpu" { v * 1000.0 } else { v };
            Some((r.name.clone(), false, v))
        }
        _ => None,
    }
    .filter(|(_, _, v)| *v > 0.0)
}

fn reconcile_one(store: &mut Store, key: &Key, ctx: &Ctx<'_>) {
    let (ns, name) = key;
    let Some(h) = store.hpas.get(ns, name).cloned() else {
        return;
    };
    let unix = ctx.clock.unix;
    let old = h.status.as_ref().and_then(|s| s.conditions.as_ref());
    let target = &h.spec.scale_target_ref;
    let deployment = (target.kind == "Deployment")
        .then(|| store.deployments.get(ns, &target.name).cloned())
        .flatten();
    let Some(d) = deployment else {
        let status = HorizontalPodAutoscalerStatus {
            conditions: Some(vec![condition(
                old,
                "AbleToScale",
                false,
                "FailedGetScale",
                format!(
                    "the HPA controller was unable to get the target's current scale: {} \"{}\" not found",
                    target.kind.to_ascii_lowercase(),
                    target.name
                ),
                unix,
            )]),
            observed_generation: h.metadata.generation,
            desired_replicas: h.status.as_ref().map(|s| s.desired_replicas).unwrap_or(0),
            ..h.status.clone().unwrap_or_default()
        };
        write_status(store, &h, status);
        return;
    };

    let current = d.spec.replicas.unwrap_or(1);
    let min = h.spec.min_replicas.unwrap_or(1);
    let max = h.spec.max_replicas;
    let pods = deployment_pods(store, ns, &target.name);
    let ready_replicas = d
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    let share = demand_milli(ctx.seed, &d, unix) / f64::from(ready_replicas.max(1));
    let unready = pods.iter().filter(|p| !pod_ready(p)).count();
    let samples: Vec<(f64, f64, f64, f64)> = pods
        .iter()
        .filter(|p| pod_ready(p))
        .map(|p| {
            let (cpu, mem) = pod_usage(p, share, unix);
            let req = requests_of(p.spec.as_ref());
            (cpu, req.cpu_milli, mem, req.memory)
        })
        .collect();

    let specs: Vec<(String, bool, f64)> = match h.spec.metrics.as_deref() {
        None | Some([]) => vec![("cpu".into(), true, DEFAULT_CPU_UTILIZATION)],
        Some(ms) => ms.iter().filter_map(resource_target).collect(),
    };
    let readings: Vec<Reading> = specs
        .into_iter()
        .map(|(metric, utilization, target)| {
            let usage: Vec<(f64, f64)> = samples
                .iter()
                .map(|s| {
                    if metric == "cpu" {
                        (s.0, s.1)
                    } else {
                        (s.2, s.3)
                    }
                })
                .collect();
            let (value, average, desired) =
                recommend(&usage, unready, target, utilization, current);
            Reading {
                name: metric,
                utilization,
                value,
                average,
                desired,
            }
        })
        .collect();

    let valid = !readings.is_empty() && !samples.is_empty();
    let mut desired = if current == 0 && min > 0 {
        // Scaled to zero by hand: autoscaling is off until scaled up.
        0
    } else if valid {
        readings.iter().map(|r| r.desired).max().unwrap_or(current)
    } else {
        current
    };
    let scale_up_limit = (current * 2).max(current + 4);
    if current > 0 {
        desired = desired.min(scale_up_limit).clamp(min, max.max(min));
    }
    let limited = if desired == min && readings.iter().any(|r| r.desired < min) {
        Some((
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count".to_string(),
        ))
    } else if desired == max && readings.iter().any(|r| r.desired > max) {
        Some((
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count".to_string(),
        ))
    } else {
        None
    };

    let mut status = HorizontalPodAutoscalerStatus {
        current_replicas: Some(current),
        desired_replicas: desired,
        observed_generation: h.metadata.generation,
        last_scale_time: h.status.as_ref().and_then(|s| s.last_scale_time.clone()),
        current_metrics: valid.then(|| {
            readings
                .iter()
                .map(|r| MetricStatus {
                    type_: "Resource".into(),
                    resource: Some(ResourceMetricStatus {
                        name: r.name.clone(),
                        current: MetricValueStatus {
                            average_utilization: r.utilization.then(|| r.value.round() as i32),
                            average_value: Some(if r.name == "cpu" {
                                cpu_quantity(r.average)
                            } else {
                                memory_quantity(r.average)
                            }),
                            value: None,
                        },
                    }),
                    ..Default::default()
                })
                .collect()
        }),
        conditions: None,
    };
    let rescale = desired != current && current > 0;
    status.conditions = Some(vec![
        condition(
            old,
            "AbleToScale",
            true,
            if rescale {
                "SucceededRescale"
            } else {
                "ReadyForNewScale"
            },
            if rescale {
                format!("the HPA controller was able to update the target scale to {desired}")
            } else {
                "recommended size matches current size".into()
            },
            unix,
        ),
        if valid {
            let r = &readings[0];
            condition(
                old,
                "ScalingActive",
                true,
                "ValidMetricFound",
                format!(
                    "the HPA was able to successfully calculate a replica count from {} resource {}",
                    r.name,
                    if r.utilization { "utilization (percentage of request)" } else { "average value" }
                ),
                unix,
            )
        } else {
            condition(
                old,
                "ScalingActive",
                false,
                "FailedGetResourceMetric",
                "the HPA was unable to compute the replica count: no metrics for ready pods".into(),
                unix,
            )
        },
        match &limited {
            Some((reason, message)) => {
                condition(old, "ScalingLimited", true, reason, message.clone(), unix)
            }
            None => condition(
                old,
                "ScalingLimited",
                false,
                "DesiredWithinRange",
                "the desired count is within the acceptable range".into(),
                unix,
            ),
        },
    ]);

    if rescale {
        let mut nd: Deployment = (*d).clone();
        nd.spec.replicas = Some(desired);
        nd.metadata.generation = Some(nd.metadata.generation.unwrap_or(1) + 1);
        store.put(nd);
        store.dirty.insert((ns.clone(), target.name.clone()));
        status.last_scale_time = Some(time(unix));
        // The event names the metric that drove the decision.
        let top = readings.iter().max_by_key(|r| r.desired);
        let reason = match top {
            Some(r) if desired > current => format!(
                "{} resource {} above target",
                r.name,
                if r.utilization {
                    "utilization (percentage of request)"
                } else {
                    "average value"
                }
            ),
            _ => "All metrics below target".to_string(),
        };
        record_event(
            store,
            unix,
            object_ref("HorizontalPodAutoscaler", "autoscaling/v2", &h.metadata),
            "Normal",
            "SuccessfulRescale",
            format!("New size: {desired}; reason: {reason}"),
            "horizontal-pod-autoscaler",
        );
    }
    write_status(store, &h, status);
}

fn write_status(
    store: &mut Store,
    h: &HorizontalPodAutoscaler,
    status: HorizontalPodAutoscalerStatus,
) {
    let ns = h.metadata.namespace.as_deref().unwrap_or("");
    let name = h.metadata.name.as_deref().unwrap_or("");
    let Some(cur) = store.hpas.get(ns, name).cloned() else {
        return;
    };
    if cur.status.as_ref() == Some(&status) {
        return;
    }
    let mut h = (*cur).clone();
    h.status = Some(status);
    store.put(h);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubernetes_formula_with_tolerance() {
        // 4 pods at 90% of request, target 60%: ceil(4 × 1.5) = 6.
        let pods = vec![(90.0, 100.0); 4];
        assert_eq!(recommend(&pods, 0, 60.0, true, 4).2, 6);
        // Within 10%: no change.
        let pods = vec![(65.0, 100.0); 4];
        assert_eq!(recommend(&pods, 0, 60.0, true, 4).2, 4);
        // Down: 4 pods at 20%, target 80: ceil(4 × 0.25) = 1.
        let pods = vec![(20.0, 100.0); 4];
        assert_eq!(recommend(&pods, 0, 80.0, true, 4).2, 1);
        // Average value: 300m per pod against 100m: ×3.
        let pods = vec![(300.0, 100.0); 2];
        assert_eq!(recommend(&pods, 0, 100.0, false, 2).2, 6);
    }

    #[test]
    fn unready_pods_damp_a_scale_up() {
        // 2 Ready at 120% with 2 more starting, target 100%: counting the
        // starting ones at 0% gives 60%, which flips direction: hold.
        let pods = vec![(120.0, 100.0); 2];
        assert_eq!(recommend(&pods, 2, 100.0, true, 4).2, 4);
        // 2 Ready at 300%, 1 starting: (600 + 0) / 300 = 200% -> ceil(2 × 3) = 6.
        let pods = vec![(300.0, 100.0); 2];
        assert_eq!(recommend(&pods, 1, 100.0, true, 3).2, 6);
    }
}
