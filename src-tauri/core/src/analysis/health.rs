//! Health scores, 0–100, with every deduction kept as a reason (BRIEF §5,
//! issue 9). The seed's weights:
//!
//! - errors, up to 30: `30 × clamp(error_rate / 10 %, 0, 1)`;
//! - latency, up to 30: `30 × clamp((p95 − 1 s) / (5 s − 1 s), 0, 1)`;
//! - anomalies, up to 20: `min(20, 5 × medium + 10 × high + 20 × critical)`;
//! - alerts, up to 20: `min(20, 5 × active unacknowledged, critical counting double)`.
//!
//! A service with no traffic and no other signal is *unknown*, never 100.
//! A cluster is the traffic-weighted mean of its services; without
//! Prometheus it is scored from node pressure instead (the share of nodes
//! over the alert thresholds). Cluster-wide signals (node pressure beside
//! services, the API certificate's expiry, an unsupported Kubernetes
//! version, recent Warning events, cluster-scoped anomalies and alerts) are deducted from the
//! cluster's score after the mean. The fleet is the mean of its known
//! clusters, with the worst listed first.

use serde::Serialize;

use super::anomaly::Severity;

/// Error rate at which the error deduction is full.
pub const ERROR_RATE_FULL: f64 = 0.10;
/// p95 at which the latency deduction starts and where it is full (s).
pub const P95_START: f64 = 1.0;
pub const P95_FULL: f64 = 5.0;
/// The seed's node thresholds (% of allocatable / capacity).
pub const CPU_PRESSURE_PCT: f64 = 80.0;
pub const MEMORY_PRESSURE_PCT: f64 = 85.0;
pub const DISK_PRESSURE_PCT: f64 = 90.0;
/// The largest node-pressure deduction: as heavy as errors or latency.
pub const NODE_PRESSURE_MAX: f64 = 30.0;
/// Certificate expiry: a warning below 30 days, an alert below 7.
pub const CERT_WARN_DAYS: f64 = 30.0;
pub const CERT_ALERT_DAYS: f64 = 7.0;
/// Warning events: 2 points per distinct (object, reason) seen in the
/// score's window, at most 10. Small on purpose: events are noisy (a
/// single `BackOff` is common during a normal rollout), so they nudge the
/// score and name the object, while errors and latency carry the weight.
pub const WARNING_EVENT_POINTS: f64 = 2.0;
pub const WARNING_EVENTS_MAX: f64 = 10.0;
/// How many warning events a reason names before "and N more".
const WARNING_EVENTS_NAMED: usize = 2;

/// One deduction, as the user sees it: "p95 2.4 s in checkout: −10.5".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// `errors`, `latency`, `anomalies`, `alerts`, `node_pressure`,
    /// `certificate`, `version`, `events`.
    pub kind: &'static str,
    pub points: f64,
    pub detail: String,
}

/// A score with why it is not 100. `value` is `None` when unknown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub value: Option<f64>,
    pub reasons: Vec<Reason>,
}

impl Score {
    pub fn unknown() -> Score {
        Score {
            value: None,
            reasons: Vec::new(),
        }
    }

    fn from_deductions(reasons: Vec<Reason>) -> Score {
        let lost: f64 = reasons.iter().map(|r| r.points).sum();
        Score {
            value: Some((100.0 - lost).clamp(0.0, 100.0)),
            reasons,
        }
    }
}

/// Counts of open anomalies by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AnomalyCounts {
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

impl AnomalyCounts {
    pub fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Medium => self.medium += 1,
            Severity::High => self.high += 1,
            Severity::Critical => self.critical += 1,
        }
    }

    fn total(&self) -> u32 {
        self.medium + self.high + self.critical
    }
}

/// Active, unacknowledged alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AlertCounts {
    pub unacknowledged: u32,
    /// Of which critical (they count double).
    pub critical: u32,
}

/// What one service reported over the scored window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceSignals {
    pub service: String,
    /// Requests in the window; the cluster mean is weighted by it.
    pub requests: f64,
    /// Failed requests in the window.
    pub errors: f64,
    /// p95 latency in seconds, when the histogram had observations.
    pub p95: Option<f64>,
    pub anomalies: AnomalyCounts,
    pub alerts: AlertCounts,
}

fn clamp01(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(0.0, 1.0)
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.1} s")
    }
}

fn anomaly_and_alert_reasons(
    where_: &str,
    anomalies: &AnomalyCounts,
    alerts: &AlertCounts,
    out: &mut Vec<Reason>,
) {
    let a = f64::from(5 * anomalies.medium + 10 * anomalies.high + 20 * anomalies.critical);
    if a > 0.0 {
        out.push(Reason {
            kind: "anomalies",
            points: a.min(20.0),
            detail: format!(
                "{} open {} in {where_} ({} critical, {} high, {} medium)",
                anomalies.total(),
                if anomalies.total() == 1 {
                    "anomaly"
                } else {
                    "anomalies"
                },
                anomalies.critical,
                anomalies.high,
                anomalies.medium
            ),
        });
    }
    // Critical alerts count double: one more unit each on top of the count.
    let units = alerts.unacknowledged + alerts.critical.min(alerts.unacknowledged);
    if units > 0 {
        out.push(Reason {
            kind: "alerts",
            points: (5.0 * f64::from(units)).min(20.0),
            detail: format!(
                "{} unacknowledged {} in {where_} ({} critical)",
                alerts.unacknowledged,
                if alerts.unacknowledged == 1 {
                    "alert"
                } else {
                    "alerts"
                },
                alerts.critical
            ),
        });
    }
}

/// One service's score. Unknown when it served nothing and nothing else is
/// known about it.
pub fn service_score(s: &ServiceSignals) -> Score {
    let mut reasons = Vec::new();
    let has_traffic = s.requests > 0.0 && s.requests.is_finite();
    if has_traffic {
        let rate = clamp01(s.errors / s.requests);
        let points = 30.0 * clamp01(rate / ERROR_RATE_FULL);
        if points > 0.0 {
            reasons.push(Reason {
                kind: "errors",
                points: round1(points),
                detail: format!("error rate {:.1} % in {}", rate * 100.0, s.service),
            });
        }
    }
    if let Some(p95) = s.p95.filter(|v| v.is_finite()) {
        let points = 30.0 * clamp01((p95 - P95_START) / (P95_FULL - P95_START));
        if points > 0.0 {
            reasons.push(Reason {
                kind: "latency",
                points: round1(points),
                detail: format!("p95 {} in {}", seconds(p95), s.service),
            });
        }
    }
    anomaly_and_alert_reasons(&s.service, &s.anomalies, &s.alerts, &mut reasons);
    if !has_traffic && reasons.is_empty() {
        return Score::unknown();
    }
    Score::from_deductions(reasons)
}

/// The latest utilisation of one node, in percent (any may be unknown).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodePressure {
    pub node: String,
    pub cpu_pct: Option<f64>,
    pub memory_pct: Option<f64>,
    pub disk_pct: Option<f64>,
}

/// Everything known about one cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterSignals {
    pub cluster_id: String,
    pub services: Vec<ServiceSignals>,
    pub nodes: Vec<NodePressure>,
    /// Days until the API server's certificate expires.
    pub cert_days_left: Option<f64>,
    /// Why the Kubernetes version is a risk (end of support, skew), if it is.
    pub version_issue: Option<String>,
    /// Warning events seen in the score's window, one per (object, reason).
    pub warning_events: Vec<WarningEvent>,
    /// Anomalies and alerts about the cluster itself, not a service.
    pub anomalies: AnomalyCounts,
    pub alerts: AlertCounts,
}

/// A folded Warning event: "BackOff on Pod shop/checkout-7d9 (×12)".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WarningEvent {
    /// `Kind namespace/name`, e.g. `Pod shop/checkout-7d9`.
    pub object: String,
    pub reason: String,
    pub count: i64,
}

fn warning_events_reason(events: &[WarningEvent]) -> Option<Reason> {
    if events.is_empty() {
        return None;
    }
    // The most repeated first: that is where to look.
    let mut sorted: Vec<&WarningEvent> = events.iter().collect();
    sorted.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.object.cmp(&b.object)));
    let named: Vec<String> = sorted
        .iter()
        .take(WARNING_EVENTS_NAMED)
        .map(|e| format!("{} on {} (×{})", e.reason, e.object, e.count.max(1)))
        .collect();
    let more = events.len().saturating_sub(WARNING_EVENTS_NAMED);
    let noun = if events.len() == 1 { "event" } else { "events" };
    let mut detail = format!("{} warning {noun}: {}", events.len(), named.join(", "));
    if more > 0 {
        detail.push_str(&format!(" and {more} more"));
    }
    Some(Reason {
        kind: "events",
        points: (WARNING_EVENT_POINTS * events.len() as f64).min(WARNING_EVENTS_MAX),
        detail,
    })
}

/// A cluster's score and its services' scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterScore {
    pub cluster_id: String,
    pub score: Score,
    /// `service name → score`, worst first; unknown ones last.
    pub services: Vec<(String, Score)>,
    /// `services` (traffic-weighted) or `nodes` (no Prometheus data), or
    /// `none` when unknown.
    pub basis: &'static str,
}

fn node_pressure_reason(nodes: &[NodePressure]) -> Option<Reason> {
    let mut worst: Option<(f64, &str, usize, usize)> = None;
    for (what, threshold, get) in [
        (
            "CPU",
            CPU_PRESSURE_PCT,
            (|n: &NodePressure| n.cpu_pct) as fn(&NodePressure) -> Option<f64>,
        ),
        ("memory", MEMORY_PRESSURE_PCT, |n: &NodePressure| {
            n.memory_pct
        }),
        ("disk", DISK_PRESSURE_PCT, |n: &NodePressure| n.disk_pct),
    ] {
        let known: Vec<f64> = nodes
            .iter()
            .filter_map(get)
            .filter(|v| v.is_finite())
            .collect();
        if known.is_empty() {
            continue;
        }
        let over = known.iter().filter(|v| **v > threshold).count();
        let share = over as f64 / known.len() as f64;
        if over > 0 && worst.is_none_or(|w| share > w.0) {
            worst = Some((share, what, over, known.len()));
        }
    }
    let (share, what, over, of) = worst?;
    let threshold = match what {
        "CPU" => CPU_PRESSURE_PCT,
        "memory" => MEMORY_PRESSURE_PCT,
        _ => DISK_PRESSURE_PCT,
    };
    Some(Reason {
        kind: "node_pressure",
        points: round1(NODE_PRESSURE_MAX * share),
        detail: format!("{over} of {of} nodes above {threshold:.0} % {what}"),
    })
}

fn has_node_data(nodes: &[NodePressure]) -> bool {
    nodes.iter().any(|n| {
        [n.cpu_pct, n.memory_pct, n.disk_pct]
            .iter()
            .any(|v| v.is_some_and(f64::is_finite))
    })
}

/// The cluster's score: the traffic-weighted mean of its services, or node
/// pressure when no service has data; then the cluster-wide deductions.
pub fn cluster_score(c: &ClusterSignals) -> ClusterScore {
    let mut services: Vec<(String, Score, f64)> = c
        .services
        .iter()
        .map(|s| (s.service.clone(), service_score(s), s.requests.max(0.0)))
        .collect();
    let known: Vec<&(String, Score, f64)> = services
        .iter()
        .filter(|(_, s, _)| s.value.is_some())
        .collect();
    let weight: f64 = known.iter().map(|(_, _, w)| *w).sum();

    // `inside`: the services' own reasons, already inside the mean (scaled
    // by their weight, so that they add up to what the mean lost).
    // `cluster`: cluster-wide reasons, deducted from the mean.
    let mut inside = Vec::new();
    let mut cluster = Vec::new();
    let (base, basis) = if !known.is_empty() {
        // Services with no traffic but a known score (an alert on an idle
        // service) still count, with the weight of one request, so that
        // they are not invisible.
        let w_of = |w: f64| if weight > 0.0 { w.max(1.0) } else { 1.0 };
        let total: f64 = known.iter().map(|(_, _, w)| w_of(*w)).sum();
        let mut sum = 0.0;
        for (_, score, w) in &known {
            let w = w_of(*w);
            sum += w * score.value.unwrap_or(100.0);
            for r in &score.reasons {
                inside.push(Reason {
                    kind: r.kind,
                    points: r.points * w / total,
                    detail: r.detail.clone(),
                });
            }
        }
        if let Some(r) = node_pressure_reason(&c.nodes) {
            // Beside service data, node pressure is a smaller, cluster-wide
            // signal: half weight.
            cluster.push(Reason {
                points: r.points / 2.0,
                ..r
            });
        }
        (Some(sum / total), "services")
    } else if has_node_data(&c.nodes) {
        cluster.extend(node_pressure_reason(&c.nodes));
        (Some(100.0), "nodes")
    } else {
        (None, "none")
    };

    if let Some(days) = c.cert_days_left.filter(|d| d.is_finite()) {
        let points = if days < CERT_ALERT_DAYS {
            10.0
        } else if days < CERT_WARN_DAYS {
            5.0
        } else {
            0.0
        };
        if points > 0.0 {
            cluster.push(Reason {
                kind: "certificate",
                points,
                detail: format!("API certificate expires in {days:.0} days"),
            });
        }
    }
    if let Some(issue) = &c.version_issue {
        cluster.push(Reason {
            kind: "version",
            points: 5.0,
            detail: issue.clone(),
        });
    }
    cluster.extend(warning_events_reason(&c.warning_events));
    anomaly_and_alert_reasons("the cluster", &c.anomalies, &c.alerts, &mut cluster);

    let score = if base.is_none() && cluster.is_empty() {
        Score::unknown()
    } else {
        // With no traffic or node data the score stays unknown (never a
        // 100 to deduct from, BRIEF §5), but cluster-wide problems (an
        // expiring certificate, an unsupported version) are still listed.
        let lost: f64 = cluster.iter().map(|r| r.points).sum();
        let value = base.map(|b| (b - lost).clamp(0.0, 100.0));
        let mut reasons: Vec<Reason> = inside.into_iter().chain(cluster).collect();
        reasons.retain(|r| r.points > 0.0);
        reasons.sort_by(|a, b| b.points.total_cmp(&a.points));
        for r in &mut reasons {
            r.points = round1(r.points);
        }
        Score {
            value: value.map(round1),
            reasons,
        }
    };
    services.sort_by(|a, b| by_score(&a.1, &b.1).then_with(|| a.0.cmp(&b.0)));
    ClusterScore {
        cluster_id: c.cluster_id.clone(),
        score,
        services: services.into_iter().map(|(n, s, _)| (n, s)).collect(),
        basis,
    }
}

/// Worst first; unknown last.
fn by_score(a: &Score, b: &Score) -> std::cmp::Ordering {
    match (a.value, b.value) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// The fleet: the mean of the known cluster scores, with the clusters
/// ordered worst first (unknown last).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetScore {
    pub value: Option<f64>,
    pub clusters: Vec<ClusterScore>,
    pub unknown: usize,
}

pub fn fleet_score(clusters: Vec<ClusterScore>) -> FleetScore {
    let mut clusters = clusters;
    clusters
        .sort_by(|a, b| by_score(&a.score, &b.score).then_with(|| a.cluster_id.cmp(&b.cluster_id)));
    let known: Vec<f64> = clusters.iter().filter_map(|c| c.score.value).collect();
    FleetScore {
        value: if known.is_empty() {
            None
        } else {
            Some(round1(known.iter().sum::<f64>() / known.len() as f64))
        },
        unknown: clusters.len() - known.len(),
        clusters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, requests: f64, errors: f64, p95: Option<f64>) -> ServiceSignals {
        ServiceSignals {
            service: name.into(),
            requests,
            errors,
            p95,
            ..Default::default()
        }
    }

    fn value(s: &Score) -> f64 {
        s.value.expect("a known score")
    }

    #[test]
    fn a_healthy_service_scores_100_and_an_idle_unknown_one_is_unknown() {
        let s = service_score(&svc("api", 1000.0, 0.0, Some(0.2)));
        assert_eq!(s.value, Some(100.0));
        assert!(s.reasons.is_empty());
        assert_eq!(
            service_score(&svc("idle", 0.0, 0.0, None)),
            Score::unknown()
        );
    }

    #[test]
    fn the_seed_weights_apply_with_their_clamps() {
        // 5 % errors: half of the 30 points.
        let s = service_score(&svc("api", 1000.0, 50.0, None));
        assert_eq!(s.reasons[0].kind, "errors");
        assert!((s.reasons[0].points - 15.0).abs() < 1e-9);
        assert_eq!(value(&s), 85.0);
        // 30 % errors are clamped to 30 points.
        assert_eq!(value(&service_score(&svc("api", 100.0, 30.0, None))), 70.0);
        // p95 3 s: (3 − 1) / 4 × 30 = 15; p95 below 1 s costs nothing; above 5 s, 30.
        let s = service_score(&svc("checkout", 10.0, 0.0, Some(3.0)));
        assert_eq!(s.reasons[0].detail, "p95 3.0 s in checkout");
        assert_eq!(value(&s), 85.0);
        assert_eq!(
            value(&service_score(&svc("a", 10.0, 0.0, Some(0.9)))),
            100.0
        );
        assert_eq!(
            value(&service_score(&svc("a", 10.0, 0.0, Some(12.0)))),
            70.0
        );
        // Everything at once floors at 0.
        let mut worst = svc("a", 10.0, 10.0, Some(9.0));
        worst.anomalies.critical = 2;
        worst.alerts = AlertCounts {
            unacknowledged: 9,
            critical: 9,
        };
        assert_eq!(value(&service_score(&worst)), 0.0);
    }

    #[test]
    fn anomalies_and_alerts_cap_at_20_and_critical_alerts_count_double() {
        let mut s = svc("api", 10.0, 0.0, None);
        s.anomalies = AnomalyCounts {
            medium: 1,
            high: 1,
            critical: 0,
        };
        assert_eq!(value(&service_score(&s)), 85.0);
        s.anomalies.critical = 1;
        assert_eq!(value(&service_score(&s)), 80.0, "capped at 20");
        let mut s = svc("api", 10.0, 0.0, None);
        s.alerts = AlertCounts {
            unacknowledged: 2,
            critical: 1,
        };
        // 2 alerts, one critical: 3 units of 5.
        assert_eq!(value(&service_score(&s)), 85.0);
        // An idle service with an alert is known, not unknown.
        let mut idle = svc("idle", 0.0, 0.0, None);
        idle.alerts.unacknowledged = 1;
        assert_eq!(value(&service_score(&idle)), 95.0);
    }

    #[test]
    fn a_cluster_is_the_traffic_weighted_mean_and_its_reasons_add_up() {
        let c = ClusterSignals {
            cluster_id: "c1".into(),
            services: vec![
                svc("big", 9000.0, 0.0, Some(0.1)),
                // 10 % errors: 70, with 1/10 of the traffic.
                svc("small", 1000.0, 100.0, Some(0.1)),
                svc("idle", 0.0, 0.0, None),
            ],
            ..Default::default()
        };
        let out = cluster_score(&c);
        assert_eq!(out.basis, "services");
        assert_eq!(out.score.value, Some(97.0));
        let lost: f64 = out.score.reasons.iter().map(|r| r.points).sum();
        assert!((lost - 3.0).abs() < 0.11, "{:?}", out.score.reasons);
        assert_eq!(out.services[0].0, "small", "worst first");
        assert_eq!(out.services.last().unwrap().0, "idle", "unknown last");
    }

    #[test]
    fn without_prometheus_node_pressure_scores_the_cluster() {
        let node = |n: &str, cpu: f64| NodePressure {
            node: n.into(),
            cpu_pct: Some(cpu),
            memory_pct: Some(40.0),
            disk_pct: None,
        };
        let c = ClusterSignals {
            cluster_id: "c".into(),
            nodes: vec![
                node("a", 95.0),
                node("b", 20.0),
                node("c", 30.0),
                node("d", 85.0),
            ],
            ..Default::default()
        };
        let out = cluster_score(&c);
        assert_eq!(out.basis, "nodes");
        assert_eq!(
            out.score.value,
            Some(85.0),
            "half the nodes over 80 % CPU: −15"
        );
        assert_eq!(out.score.reasons[0].detail, "2 of 4 nodes above 80 % CPU");
        // No data at all: unknown, never 100.
        let none = cluster_score(&ClusterSignals {
            cluster_id: "x".into(),
            ..Default::default()
        });
        assert_eq!(none.score, Score::unknown());
        assert_eq!(none.basis, "none");
    }

    #[test]
    fn certificate_expiry_and_version_issues_are_cluster_reasons() {
        let base = ClusterSignals {
            cluster_id: "c".into(),
            services: vec![svc("api", 100.0, 0.0, Some(0.1))],
            ..Default::default()
        };
        let with = |days: f64| {
            cluster_score(&ClusterSignals {
                cert_days_left: Some(days),
                ..base.clone()
            })
        };
        assert_eq!(with(90.0).score.value, Some(100.0));
        assert_eq!(with(20.0).score.value, Some(95.0));
        assert_eq!(with(3.0).score.value, Some(90.0));
        assert_eq!(
            with(3.0).score.reasons[0].detail,
            "API certificate expires in 3 days"
        );
        let old = cluster_score(&ClusterSignals {
            version_issue: Some("Kubernetes 1.27 is past end of support".into()),
            ..base.clone()
        });
        assert_eq!(old.score.value, Some(95.0));
        // No traffic or node data: the score stays unknown, but the
        // expiring certificate is still listed.
        let bare = cluster_score(&ClusterSignals {
            cluster_id: "c".into(),
            cert_days_left: Some(2.0),
            ..Default::default()
        });
        assert_eq!(bare.score.value, None);
        assert_eq!(bare.score.reasons[0].kind, "certificate");
    }

    #[test]
    fn warning_events_deduct_two_points_each_up_to_ten_and_name_the_worst() {
        let base = ClusterSignals {
            cluster_id: "c".into(),
            services: vec![svc("api", 100.0, 0.0, Some(0.1))],
            ..Default::default()
        };
        let ev = |object: &str, reason: &str, count: i64| WarningEvent {
            object: object.into(),
            reason: reason.into(),
            count,
        };
        let one = cluster_score(&ClusterSignals {
            warning_events: vec![ev("Pod shop/checkout-1", "BackOff", 12)],
            ..base.clone()
        });
        assert_eq!(one.score.value, Some(98.0));
        assert_eq!(one.score.reasons[0].kind, "events");
        assert_eq!(
            one.score.reasons[0].detail,
            "1 warning event: BackOff on Pod shop/checkout-1 (×12)"
        );
        let many: Vec<WarningEvent> = (0..7)
            .map(|i| ev(&format!("Pod shop/p{i}"), "Unhealthy", i))
            .collect();
        let capped = cluster_score(&ClusterSignals {
            warning_events: many,
            ..base.clone()
        });
        assert_eq!(capped.score.value, Some(90.0));
        assert_eq!(
            capped.score.reasons[0].detail,
            "7 warning events: Unhealthy on Pod shop/p6 (×6), Unhealthy on Pod shop/p5 (×5) and 5 more"
        );
        // No warnings, no reason.
        assert!(cluster_score(&base).score.reasons.is_empty());
        // Without traffic or node data the score stays unknown, but the
        // events are still listed.
        let bare = cluster_score(&ClusterSignals {
            cluster_id: "c".into(),
            warning_events: vec![ev("Node n1", "NodeNotReady", 1)],
            ..Default::default()
        });
        assert_eq!(bare.score.value, None);
        assert_eq!(bare.score.reasons[0].kind, "events");
    }

    #[test]
    fn the_fleet_is_the_mean_of_known_clusters_worst_first() {
        let mk = |id: &str, v: Option<f64>| ClusterScore {
            cluster_id: id.into(),
            score: Score {
                value: v,
                reasons: vec![],
            },
            services: vec![],
            basis: "services",
        };
        let f = fleet_score(vec![
            mk("a", Some(90.0)),
            mk("b", None),
            mk("c", Some(60.0)),
        ]);
        assert_eq!(f.value, Some(75.0));
        assert_eq!(f.unknown, 1);
        let order: Vec<&str> = f.clusters.iter().map(|c| c.cluster_id.as_str()).collect();
        assert_eq!(order, ["c", "a", "b"]);
        assert_eq!(fleet_score(vec![mk("b", None)]).value, None);
    }
}
