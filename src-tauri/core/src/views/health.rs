//! Health scores from the cache (issue 9): the last hour of every cluster's
//! nodes and services turned into [`ClusterSignals`] and scored by
//! [`crate::analysis::health`], with the open anomalies and unacknowledged
//! alerts of each cluster from the cache. The CLI's `report`/`health` and the app's
//! collection loop and Fleet screen all score through here, so they agree.
//!
//! No chart is rendered: scoring runs after every collection pass.

use crate::analysis::anomaly::Severity;
use crate::analysis::health::{
    cluster_score, fleet_score, AlertCounts, AnomalyCounts, ClusterSignals, FleetScore,
    NodePressure, ServiceSignals, WarningEvent,
};
use crate::analysis::versions::{days_left, version_issue};
use crate::store::alerts::MAX_ALERTS_PAGE;
use crate::store::{
    health::FLEET_ID, Alert, AlertQuery, AlertState, Anomaly, AnomalyState, Store, StoreError,
};

use super::build::{node_rows, service_rows};
use super::{
    resolve_range, ClusterHealthView, FleetHealthView, HealthPoint, HealthReason, NodeRow,
    RangeRequest, ResolvedRange, ServiceRow, ViewError,
};

/// The window a score covers.
pub const HEALTH_WINDOW: &str = "1h";
/// How far back the Fleet screen's sparkline goes.
pub const HEALTH_HISTORY_SECS: i64 = 86_400;
/// The sparkline's step: 144 points a day, whatever the collection rate.
pub const HEALTH_HISTORY_BUCKET_SECS: i64 = 600;

/// What one cluster's nodes and services tables say, as scoring signals.
/// Requests and errors are counts over `range` (the rows hold rates).
pub fn cluster_signals(
    cluster_id: &str,
    range: &ResolvedRange,
    nodes: &[NodeRow],
    services: &[ServiceRow],
) -> ClusterSignals {
    let span = (range.end - range.start) as f64;
    ClusterSignals {
        cluster_id: cluster_id.to_owned(),
        services: services
            .iter()
            .map(|s| {
                let requests = s.requests_per_sec.unwrap_or(0.0) * span;
                ServiceSignals {
                    service: s.service.clone(),
                    requests,
                    errors: s.error_pct.unwrap_or(0.0) / 100.0 * requests,
                    p95: s.p95,
                    ..Default::default()
                }
            })
            .collect(),
        nodes: nodes
            .iter()
            .map(|n| NodePressure {
                node: n.name.clone(),
                cpu_pct: n.cpu_pct,
                memory_pct: n.memory_pct,
                disk_pct: n.disk_pct,
            })
            .collect(),
        ..Default::default()
    }
}

/// Adds the open anomalies and the active, unacknowledged alerts of a
/// cluster to its signals (BRIEF §5: up to 20 points each). One about
/// `service/NAME` counts against that service; one about a node, or about a
/// service with no row in the window, counts against the cluster.
/// Closed anomalies, acknowledged and resolved alerts do not count.
pub fn attach_open_issues(signals: &mut ClusterSignals, anomalies: &[Anomaly], alerts: &[Alert]) {
    fn target<'a>(
        signals: &'a mut ClusterSignals,
        subject: &str,
    ) -> (&'a mut AnomalyCounts, &'a mut AlertCounts) {
        let service = subject.strip_prefix("service/");
        let i = service.and_then(|name| signals.services.iter().position(|s| s.service == name));
        match i {
            Some(i) => {
                let s = &mut signals.services[i];
                (&mut s.anomalies, &mut s.alerts)
            }
            None => (&mut signals.anomalies, &mut signals.alerts),
        }
    }
    for a in anomalies.iter().filter(|a| a.state == AnomalyState::Open) {
        target(signals, &a.subject).0.add(a.severity);
    }
    for a in alerts.iter().filter(|a| a.state == AlertState::Open) {
        let counts = target(signals, &a.subject).1;
        counts.unacknowledged += 1;
        if a.severity == Severity::Critical {
            counts.critical += 1;
        }
    }
}

/// The cluster's open anomalies and open (unacknowledged) alerts.
fn open_issues(store: &Store, cluster_id: &str) -> Result<(Vec<Anomaly>, Vec<Alert>), StoreError> {
    let anomalies = store.open_anomalies(cluster_id)?;
    let alerts = store.alerts(&AlertQuery {
        state: Some(AlertState::Open),
        cluster: Some(cluster_id.to_owned()),
        limit: Some(MAX_ALERTS_PAGE),
    })?;
    Ok((anomalies, alerts))
}

/// The fleet's score over the last hour: every cached cluster that is not
/// gone, worst first (unknown last).
pub fn fleet_health(store: &Store, now: i64) -> Result<FleetScore, ViewError> {
    fleet_health_for(store, None, now)
}

/// [`fleet_health`], restricted to one cluster when `only` is given (an
/// unknown id gives an empty fleet; the caller words the error).
pub fn fleet_health_for(
    store: &Store,
    only: Option<&str>,
    now: i64,
) -> Result<FleetScore, ViewError> {
    let range = resolve_range(
        &RangeRequest::Preset {
            preset: HEALTH_WINDOW.into(),
        },
        now,
    )?;
    let mut scores = Vec::new();
    for cluster in store.clusters(None)? {
        if only.is_some_and(|id| id != cluster.id) || cluster.gone_at.is_some() {
            continue;
        }
        let nodes = node_rows(store, &cluster.id, &range)?;
        let services = service_rows(store, &cluster.id, &range)?;
        let mut signals = cluster_signals(&cluster.id, &range, &nodes, &services);
        endpoint_signals(
            store,
            &cluster.id,
            cluster.version.as_deref(),
            now,
            &mut signals,
        )?;
        signals.warning_events = warning_events(store, &cluster.id, range.start)?;
        let (anomalies, alerts) = open_issues(store, &cluster.id)?;
        attach_open_issues(&mut signals, &anomalies, &alerts);
        scores.push(cluster_score(&signals));
    }
    Ok(fleet_score(scores))
}

/// The cluster's Warning events last seen at or after `since` (the
/// collector already folds them per object and reason).
pub fn warning_events(
    store: &Store,
    cluster_id: &str,
    since: i64,
) -> Result<Vec<WarningEvent>, StoreError> {
    Ok(store
        .cluster_events(cluster_id)?
        .into_iter()
        .filter(|e| e.type_ == "Warning" && e.last_seen.is_some_and(|t| t >= since))
        .map(|e| WarningEvent {
            object: if e.namespace.is_empty() {
                format!("{} {}", e.involved_kind, e.involved_name)
            } else {
                format!("{} {}/{}", e.involved_kind, e.namespace, e.involved_name)
            },
            reason: e.reason,
            count: e.count,
        })
        .collect())
}

/// The certificate expiry and version risks of one cluster, from what the
/// endpoint collector last saw (the discovered version when it has not
/// run yet) and the nodes' kubelet versions.
pub fn endpoint_signals(
    store: &Store,
    cluster_id: &str,
    discovered_version: Option<&str>,
    now: i64,
    signals: &mut ClusterSignals,
) -> Result<(), StoreError> {
    let endpoint = store.cluster_endpoint(cluster_id)?.map(|(e, _)| e);
    signals.cert_days_left = endpoint
        .as_ref()
        .and_then(|e| e.cert_not_after)
        .map(|at| days_left(at, now));
    let server = endpoint
        .as_ref()
        .and_then(|e| e.server_version.as_deref())
        .or(discovered_version);
    let kubelets: Vec<String> = store
        .cluster_nodes(cluster_id)?
        .into_iter()
        .filter_map(|n| n.kubelet_version)
        .collect();
    signals.version_issue = version_issue(server, &kubelets, now);
    Ok(())
}

fn history(store: &Store, id: &str, at: i64) -> Result<Vec<HealthPoint>, StoreError> {
    Ok(store
        .health_history_buckets(id, at - HEALTH_HISTORY_SECS, HEALTH_HISTORY_BUCKET_SECS)?
        .into_iter()
        .map(|(at, score)| HealthPoint { at, score })
        .collect())
}

/// What the Fleet screen shows: `fleet` (computed at `at`) with each
/// cluster's recorded history of the 24 h before `at`.
pub fn fleet_health_view(
    store: &Store,
    fleet: &FleetScore,
    at: i64,
) -> Result<FleetHealthView, StoreError> {
    let mut clusters = Vec::with_capacity(fleet.clusters.len());
    for c in &fleet.clusters {
        clusters.push(ClusterHealthView {
            cluster_id: c.cluster_id.clone(),
            score: c.score.value,
            basis: c.basis.to_owned(),
            reasons: c
                .score
                .reasons
                .iter()
                .map(|r| HealthReason {
                    kind: r.kind.to_owned(),
                    points: r.points,
                    detail: r.detail.clone(),
                })
                .collect(),
            history: history(store, &c.cluster_id, at)?,
        });
    }
    Ok(FleetHealthView {
        fleet: fleet.value,
        unknown: u32::try_from(fleet.unknown).unwrap_or(u32::MAX),
        at,
        fleet_history: history(store, FLEET_ID, at)?,
        clusters,
    })
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
