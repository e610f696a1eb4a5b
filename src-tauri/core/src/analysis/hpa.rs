//! The HorizontalPodAutoscaler's algorithm, exactly as the controller runs
//! it (issue 6, BRIEF §5 "HPA what-if"), so that a scale preview can say
//! what the HPA will do next and where it will settle.
//!
//! Ported from kube-controller-manager `pkg/controller/podautoscaler`
//! (`horizontal.go`, `replica_calculator.go`), autoscaling/v2:
//! - per metric, `desired = ceil(current × metric / target)`, unless the
//!   ratio is within the tolerance (0.1) of 1, which keeps `current`; the
//!   largest proposal over the metrics wins;
//! - a current count outside `[min, max]` is first brought inside it;
//! - then the behavior: the stabilization windows (the lowest recommendation
//!   of the scale-up window, the highest of the scale-down window, bound the
//!   result around `current`), then the rate policies (`Pods` / `Percent`
//!   per `periodSeconds`, counted from the scale events inside the period,
//!   `selectPolicy` Max, Min or Disabled), then `[min, max]`.
//!
//! The controller keeps recommendations and scale events in memory; here
//! they are a [`History`] the caller passes in and [`simulate`] threads
//! through, so a what-if is a pure function of its inputs.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The controller's default `--horizontal-pod-autoscaler-tolerance`.
pub const DEFAULT_TOLERANCE: f64 = 0.1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum PolicyKind {
    /// A number of pods per period.
    Pods,
    /// A percentage of the replicas at the start of the period.
    Percent,
}

/// One `HPAScalingPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ScalingPolicy {
    pub kind: PolicyKind,
    pub value: i32,
    pub period_seconds: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One direction's `HPAScalingRules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ScalingRules {
    pub stabilization_window_seconds: i32,
    pub select_policy: SelectPolicy,
    pub policies: Vec<ScalingPolicy>,
}

/// `spec.behavior`; [`Behavior::default`] is what the API server fills in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Behavior {
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

impl Default for Behavior {
    /// The documented defaults: up by 100 % or 4 pods every 15 s (the larger),
    /// no up window; down by up to 100 % every 15 s after a 300 s window.
    fn default() -> Behavior {
        Behavior {
            scale_up: ScalingRules {
                stabilization_window_seconds: 0,
                select_policy: SelectPolicy::Max,
                policies: vec![
                    ScalingPolicy {
                        kind: PolicyKind::Percent,
                        value: 100,
                        period_seconds: 15,
                    },
                    ScalingPolicy {
                        kind: PolicyKind::Pods,
                        value: 4,
                        period_seconds: 15,
                    },
                ],
            },
            scale_down: ScalingRules {
                stabilization_window_seconds: 300,
                select_policy: SelectPolicy::Max,
                policies: vec![ScalingPolicy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_seconds: 15,
                }],
            },
        }
    }
}

impl Behavior {
    /// What "Make autoscaled" proposes (issue 6): up 100 % per 30 s, down
    /// 50 % per 60 s after a 5-minute window.
    pub fn make_autoscaled() -> Behavior {
        Behavior {
            scale_up: ScalingRules {
                stabilization_window_seconds: 0,
                select_policy: SelectPolicy::Max,
                policies: vec![ScalingPolicy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_seconds: 30,
                }],
            },
            scale_down: ScalingRules {
                stabilization_window_seconds: 300,
                select_policy: SelectPolicy::Max,
                policies: vec![ScalingPolicy {
                    kind: PolicyKind::Percent,
                    value: 50,
                    period_seconds: 60,
                }],
            },
        }
    }
}

/// The parts of an HPA spec the algorithm reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HpaSpec {
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub behavior: Behavior,
    pub tolerance: f64,
}

impl HpaSpec {
    /// "Make autoscaled": min 2, max 10 (CPU 70 %, memory 80 % are the
    /// metric targets the caller sets).
    pub fn make_autoscaled() -> HpaSpec {
        HpaSpec {
            min_replicas: 2,
            max_replicas: 10,
            behavior: Behavior::make_autoscaled(),
            tolerance: DEFAULT_TOLERANCE,
        }
    }
}

/// One metric's current value against its target, in the same unit
/// (utilization %, or an average value).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MetricReading {
    pub current: f64,
    pub target: f64,
}

/// What the controller remembers between syncs, per HPA.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// `(time, unstabilized recommendation)`.
    pub recommendations: Vec<(i64, i32)>,
    /// `(time, replicas added)` of past scale-ups.
    pub scale_ups: Vec<(i64, i32)>,
    /// `(time, replicas removed)` of past scale-downs.
    pub scale_downs: Vec<(i64, i32)>,
}

/// Why the result is what it is (the controller's condition reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum HpaLimit {
    /// The metrics' proposal, unchanged.
    DesiredWithinRange,
    /// Every metric within the tolerance.
    WithinTolerance,
    /// Held back by a stabilization window.
    Stabilized,
    /// Capped by a scale-up policy.
    ScaleUpLimit,
    /// Floored by a scale-down policy.
    ScaleDownLimit,
    TooManyReplicas,
    TooFewReplicas,
    /// Current replicas 0 with min > 0: the HPA is off (scaled to zero by
    /// hand).
    ScalingDisabled,
    /// No metric could be read: the controller does not act.
    NoMetrics,
}

/// One sync's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HpaDecision {
    /// The metrics' proposal before stabilization and policies.
    pub proposed: i32,
    pub desired: i32,
    pub limit: HpaLimit,
}

/// One metric's proposal: `ceil(current × value / target)`, or `current`
/// within the tolerance. `None` for a target that is not positive or a
/// value that is not a finite number (the controller reports an error
/// for that metric and ignores it).
pub fn replicas_for_metric(current: i32, reading: MetricReading, tolerance: f64) -> Option<i32> {
    if reading.target.is_nan()
        || reading.target <= 0.0
        || !reading.current.is_finite()
        || reading.current < 0.0
    {
        return None;
    }
    let ratio = reading.current / reading.target;
    if (1.0 - ratio).abs() <= tolerance {
        return Some(current);
    }
    let desired = (ratio * f64::from(current)).ceil();
    Some(desired.min(f64::from(i32::MAX)) as i32)
}

fn change_in_period(events: &[(i64, i32)], period: i32, now: i64) -> i32 {
    let cutoff = now - i64::from(period);
    events
        .iter()
        .filter(|(t, _)| *t > cutoff)
        .map(|(_, n)| *n)
        .sum()
}

fn scale_up_limit(current: i32, h: &History, rules: &ScalingRules, now: i64) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MAX, std::cmp::min),
        SelectPolicy::Max => (i32::MIN, std::cmp::max),
    };
    for p in &rules.policies {
        let start = current - change_in_period(&h.scale_ups, p.period_seconds, now)
            + change_in_period(&h.scale_downs, p.period_seconds, now);
        let proposed = match p.kind {
            PolicyKind::Pods => start.saturating_add(p.value),
            // Rounded up, or a small count would never grow.
            PolicyKind::Percent => {
                (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32
            }
        };
        result = pick(result, proposed);
    }
    result
}

fn scale_down_limit(current: i32, h: &History, rules: &ScalingRules, now: i64) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MIN, std::cmp::max),
        SelectPolicy::Max => (i32::MAX, std::cmp::min),
    };
    for p in &rules.policies {
        let start = current - change_in_period(&h.scale_ups, p.period_seconds, now)
            + change_in_period(&h.scale_downs, p.period_seconds, now);
        let proposed = match p.kind {
            PolicyKind::Pods => start - p.value,
            // Truncated, as the controller's int32 conversion does.
            PolicyKind::Percent => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32,
        };
        result = pick(result, proposed);
    }
    result
}

/// One controller sync at `now`: the next replica count, recording the
/// recommendation in `history` (and the scale event, when it scales).
pub fn sync(
    spec: &HpaSpec,
    current: i32,
    readings: &[MetricReading],
    history: &mut History,
    now: i64,
) -> HpaDecision {
    let (min, max) = (spec.min_replicas, spec.max_replicas.max(spec.min_replicas));
    if current == 0 && min != 0 {
        return HpaDecision {
            proposed: 0,
            desired: 0,
            limit: HpaLimit::ScalingDisabled,
        };
    }
    if current > max || current < min {
        let desired = current.clamp(min, max);
        record(history, current, desired, now);
        return HpaDecision {
            proposed: desired,
            desired,
            limit: if current > max {
                HpaLimit::TooManyReplicas
            } else {
                HpaLimit::TooFewReplicas
            },
        };
    }
    let proposals: Vec<i32> = readings
        .iter()
        .filter_map(|r| replicas_for_metric(current, *r, spec.tolerance))
        .collect();
    let Some(&proposed) = proposals.iter().max() else {
        return HpaDecision {
            proposed: current,
            desired: current,
            limit: HpaLimit::NoMetrics,
        };
    };

    // Stabilization: the window's recommendations bound the move.
    let b = &spec.behavior;
    let up_cutoff = now - i64::from(b.scale_up.stabilization_window_seconds);
    let down_cutoff = now - i64::from(b.scale_down.stabilization_window_seconds);
    let (mut up, mut down) = (proposed, proposed);
    for &(t, rec) in &history.recommendations {
        if t > up_cutoff {
            up = up.min(rec);
        }
        if t > down_cutoff {
            down = down.max(rec);
        }
    }
    // Forget what no window can see any more, as the controller does.
    let oldest = up_cutoff.min(down_cutoff);
    history.recommendations.retain(|(t, _)| *t > oldest);
    history.recommendations.push((now, proposed));
    let mut stabilized = current;
    if stabilized < up {
        stabilized = up;
    }
    if stabilized > down {
        stabilized = down;
    }

    // Rate policies, then the bounds.
    let (desired, mut limit) = if stabilized > current {
        let policy = scale_up_limit(current, history, &b.scale_up, now).max(current);
        let (cap, why) = if max > policy {
            (policy, HpaLimit::ScaleUpLimit)
        } else {
            (max, HpaLimit::TooManyReplicas)
        };
        if stabilized > cap {
            (cap, why)
        } else {
            (stabilized, HpaLimit::DesiredWithinRange)
        }
    } else if stabilized < current {
        let policy = scale_down_limit(current, history, &b.scale_down, now).min(current);
        let (floor, why) = if min < policy {
            (policy, HpaLimit::ScaleDownLimit)
        } else {
            (min, HpaLimit::TooFewReplicas)
        };
        if stabilized < floor {
            (floor, why)
        } else {
            (stabilized, HpaLimit::DesiredWithinRange)
        }
    } else {
        (stabilized, HpaLimit::DesiredWithinRange)
    };
    if limit == HpaLimit::DesiredWithinRange {
        if stabilized != proposed {
            limit = HpaLimit::Stabilized;
        } else if proposed == current
            && readings
                .iter()
                .all(|r| replicas_for_metric(current, *r, spec.tolerance) == Some(current))
        {
            limit = HpaLimit::WithinTolerance;
        }
    }
    record(history, current, desired, now);
    HpaDecision {
        proposed,
        desired,
        limit,
    }
}

fn record(history: &mut History, current: i32, desired: i32, now: i64) {
    if desired > current {
        history.scale_ups.push((now, desired - current));
    } else if desired < current {
        history.scale_downs.push((now, current - desired));
    }
}

/// One point of a what-if: the readings at `at` (seconds), as if the load
/// behind them were spread over `replicas` pods.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SimStep {
    pub at: i64,
    pub replicas: i32,
    pub decision: HpaDecision,
}

/// Replays syncs every `sync_period` seconds over `load` (the total demand
/// per metric, in "target units × pods": a utilization of 140 % on 5 pods
/// is a load of 700). Each sync sees the load divided by the replicas of
/// the moment, so the what-if shows the climb and where it settles.
pub fn simulate(
    spec: &HpaSpec,
    start_replicas: i32,
    targets: &[f64],
    load: &[(i64, Vec<f64>)],
    sync_period: i64,
) -> Vec<SimStep> {
    let mut history = History::default();
    let mut replicas = start_replicas;
    let mut out = Vec::new();
    let (Some(first), Some(last)) = (load.first(), load.last()) else {
        return out;
    };
    let step = sync_period.max(1);
    let mut at = first.0;
    while at <= last.0 {
        // The load in force at `at`: the latest point not after it.
        let demand = load
            .iter()
            .take_while(|(t, _)| *t <= at)
            .last()
            .map(|(_, d)| d.as_slice())
            .unwrap_or(&[]);
        let readings: Vec<MetricReading> = demand
            .iter()
            .zip(targets)
            .map(|(total, target)| MetricReading {
                current: if replicas > 0 {
                    total / f64::from(replicas)
                } else {
                    f64::INFINITY
                },
                target: *target,
            })
            .collect();
        let decision = sync(spec, replicas, &readings, &mut history, at);
        replicas = decision.desired;
        out.push(SimStep {
            at,
            replicas,
            decision,
        });
        at += step;
    }
    out
}

#[cfg(test)]
#[path = "hpa_tests.rs"]
mod tests;
