//! Deployments with their ReplicaSets and HPAs, and the cluster's events
//! folded by involved object and reason. Every list is paged.

use std::collections::{BTreeMap, HashMap};

use cloudops_core::store::{
    EventState, HpaMetricState, HpaSummary, ReplicaSetState, WorkloadState,
};
use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet},
    autoscaling::v2::{HorizontalPodAutoscaler, MetricTarget, MetricValueStatus},
    core::v1::Event,
};
use kube::Api;

use super::{
    metrics_api::{parse_quantity, PodUsage},
    CollectError, Kube,
};

const REVISION: &str = "deployment.kubernetes.io/revision";

pub struct WorkloadsOutcome {
    pub workloads: Vec<WorkloadState>,
    pub events: Vec<EventState>,
}

/// Lists deployments, ReplicaSets, HPAs and events, a page at a time.
pub async fn collect(kube: &Kube<'_>, page: u32) -> Result<WorkloadsOutcome, CollectError> {
    let c = kube.client.clone();
    let (d_api, rs_api, hpa_api, ev_api) = (
        Api::<Deployment>::all(c.clone()),
        Api::<ReplicaSet>::all(c.clone()),
        Api::<HorizontalPodAutoscaler>::all(c.clone()),
        Api::<Event>::all(c),
    );
    let (deployments, replicasets, hpas, events) = tokio::try_join!(
        kube.list_all("listing deployments", &d_api, page),
        kube.list_all("listing replicasets", &rs_api, page),
        kube.list_all("listing horizontalpodautoscalers", &hpa_api, page),
        kube.list_all("listing events", &ev_api, page),
    )?;
    Ok(WorkloadsOutcome {
        workloads: build(&deployments, &replicasets, &hpas),
        events: fold_events(&events),
    })
}

fn images(d: &Deployment) -> Vec<String> {
    d.spec
        .template
        .spec
        .as_ref()
        .map(|p| {
            p.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// One pod's effective request of `resource` (`cpu` in cores, `memory` in
/// bytes), as the scheduler computes it: the sum over the app containers,
/// or the largest init container's request when that is more (init
/// containers run one at a time, before the others). `None` when no
/// container requests it; an unparsable quantity counts as absent.
fn pod_request(d: &Deployment, resource: &str) -> Option<f64> {
    let spec = d.spec.template.spec.as_ref()?;
    let request = |c: &k8s_openapi::api::core::v1::Container| {
        c.resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get(resource))
            .and_then(|q| parse_quantity(&q.0))
            .filter(|v| *v >= 0.0)
    };
    let app: Vec<f64> = spec.containers.iter().filter_map(request).collect();
    let init = spec
        .init_containers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter_map(request)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let sum = (!app.is_empty()).then(|| app.iter().sum::<f64>());
    match (sum, init) {
        (Some(s), Some(i)) => Some(s.max(i)),
        (s, i) => s.or(i),
    }
}

fn target(t: &MetricTarget) -> String {
    match (t.average_utilization, &t.average_value, &t.value) {
        (Some(u), _, _) => format!("{u}%"),
        (None, Some(v), _) | (None, None, Some(v)) => v.0.clone(),
        _ => t.type_.clone(),
    }
}

fn current(v: &MetricValueStatus) -> Option<String> {
    match (v.average_utilization, &v.average_value, &v.value) {
        (Some(u), _, _) => Some(format!("{u}%")),
        (None, Some(q), _) | (None, None, Some(q)) => Some(q.0.clone()),
        _ => None,
    }
}

pub(crate) fn hpa_summary(h: &HorizontalPodAutoscaler) -> Option<HpaSummary> {
    let spec = &h.spec;
    let status = h.status.as_ref();
    let currents: Vec<(String, Option<String>)> = status
        .and_then(|s| s.current_metrics.as_ref())
        .map(|ms| {
            ms.iter()
                .map(|m| {
                    match (
                        &m.resource,
                        &m.container_resource,
                        &m.pods,
                        &m.object,
                        &m.external,
                    ) {
                        (Some(r), ..) => (r.name.clone(), current(&r.current)),
                        (_, Some(r), ..) => (r.name.clone(), current(&r.current)),
                        (_, _, Some(p), ..) => (p.metric.name.clone(), current(&p.current)),
                        (_, _, _, Some(o), _) => (o.metric.name.clone(), current(&o.current)),
                        (.., Some(e)) => (e.metric.name.clone(), current(&e.current)),
                        _ => (m.type_.clone(), None),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let metrics = spec
        .metrics
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let (name, t) = match (
                &m.resource,
                &m.container_resource,
                &m.pods,
                &m.object,
                &m.external,
            ) {
                (Some(r), ..) => (r.name.clone(), target(&r.target)),
                (_, Some(r), ..) => (r.name.clone(), target(&r.target)),
                (_, _, Some(p), ..) => (p.metric.name.clone(), target(&p.target)),
                (_, _, _, Some(o), _) => (o.metric.name.clone(), target(&o.target)),
                (.., Some(e)) => (e.metric.name.clone(), target(&e.target)),
                _ => (m.type_.clone(), String::new()),
            };
            let current = currents
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, c)| c.clone());
            HpaMetricState {
                name,
                target: t,
                current,
            }
        })
        .collect();
    Some(HpaSummary {
        name: h.metadata.name.clone().unwrap_or_default(),
        min_replicas: spec.min_replicas.unwrap_or(1),
        max_replicas: spec.max_replicas,
        current_replicas: status.and_then(|s| s.current_replicas),
        desired_replicas: status.map(|s| s.desired_replicas),
        metrics,
    })
}

/// Deployments with their ReplicaSets (by owner) and HPA (by scale target).
pub(crate) fn build(
    deployments: &[Deployment],
    replicasets: &[ReplicaSet],
    hpas: &[HorizontalPodAutoscaler],
) -> Vec<WorkloadState> {
    let mut rs_by_owner: HashMap<(String, String), Vec<ReplicaSetState>> = HashMap::new();
    for rs in replicasets {
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let owner = rs
            .metadata
            .owner_references
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|o| o.kind == "Deployment")
            .map(|o| o.name.clone());
        let Some(owner) = owner else { continue };
        let status = rs.status.as_ref();
        rs_by_owner
            .entry((ns, owner))
            .or_default()
            .push(ReplicaSetState {
                name: rs.metadata.name.clone().unwrap_or_default(),
                revision: rs
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(REVISION).cloned()),
                replicas: status.map(|s| s.replicas).unwrap_or(0),
                ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
            });
    }
    let mut hpa_by_target: HashMap<(String, String), HpaSummary> = HashMap::new();
    for h in hpas {
        let spec = &h.spec;
        if spec.scale_target_ref.kind != "Deployment" {
            continue;
        }
        if let Some(summary) = hpa_summary(h) {
            let ns = h.metadata.namespace.clone().unwrap_or_default();
            hpa_by_target.insert((ns, spec.scale_target_ref.name.clone()), summary);
        }
    }
    deployments
        .iter()
        .filter_map(|d| {
            let name = d.metadata.name.clone()?;
            let namespace = d.metadata.namespace.clone().unwrap_or_default();
            let status = d.status.as_ref();
            let key = (namespace.clone(), name.clone());
            let mut replicasets = rs_by_owner.remove(&key).unwrap_or_default();
            // Newest revision first.
            replicasets.sort_by_key(|r| {
                std::cmp::Reverse(r.revision.as_deref().and_then(|v| v.parse::<i64>().ok()))
            });
            Some(WorkloadState {
                kind: "Deployment".into(),
                replicas: d.spec.replicas.unwrap_or(1),
                ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
                updated: status.and_then(|s| s.updated_replicas).unwrap_or(0),
                available: status.and_then(|s| s.available_replicas).unwrap_or(0),
                labels: d.metadata.labels.clone().unwrap_or_default(),
                images: images(d),
                revision: d
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(REVISION).cloned()),
                hpa: hpa_by_target.remove(&key),
                replicasets,
                cpu_cores: None,
                memory_bytes: None,
                requests_cpu_cores: pod_request(d, "cpu"),
                requests_memory_bytes: pod_request(d, "memory"),
                namespace,
                name,
            })
        })
        .collect()
}

/// Adds up each workload's pods' usage. A workload with no pod measured
/// keeps `None`: unknown, not zero.
pub fn attach_usage(workloads: &mut [WorkloadState], pods: &[PodUsage]) {
    // Pods are matched by name: a Deployment's pods are named
    // `{deployment}-{replicaset hash}-{suffix}` by the controller, which
    // needs neither the selector nor the ReplicaSets.
    let mut by_ns: HashMap<&str, Vec<&PodUsage>> = HashMap::new();
    for p in pods {
        by_ns.entry(p.namespace.as_str()).or_default().push(p);
    }
    for w in workloads.iter_mut() {
        let Some(candidates) = by_ns.get(w.namespace.as_str()) else {
            continue;
        };
        let mut cpu = 0.0;
        let mut mem = 0.0;
        let mut n = 0;
        for p in candidates {
            if pod_of_deployment(&p.name, &w.name) {
                cpu += p.cpu_cores;
                mem += p.memory_bytes;
                n += 1;
            }
        }
        if n > 0 {
            w.cpu_cores = Some(cpu);
            w.memory_bytes = Some(mem);
        }
    }
}

/// `{deployment}-{hash}-{suffix}`, with exactly two dash-free segments
/// after the deployment's name (so `web` does not claim `web-api`'s pods).
fn pod_of_deployment(pod: &str, deployment: &str) -> bool {
    pod.strip_prefix(deployment)
        .and_then(|rest| rest.strip_prefix('-'))
        .map(|rest| {
            let parts: Vec<&str> = rest.split('-').collect();
            parts.len() == 2 && parts.iter().all(|p| !p.is_empty())
        })
        .unwrap_or(false)
}

fn unix(t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Option<i64> {
    t.map(|t| t.0.as_second())
}

/// Events folded by (namespace, involved kind, involved name, reason): the
/// counts add up, first/last seen widen, the latest message wins.
pub(crate) fn fold_events(events: &[Event]) -> Vec<EventState> {
    let mut folded: BTreeMap<(String, String, String, String), EventState> = BTreeMap::new();
    for e in events {
        let namespace = e
            .involved_object
            .namespace
            .clone()
            .or_else(|| e.metadata.namespace.clone())
            .unwrap_or_default();
        let kind = e.involved_object.kind.clone().unwrap_or_default();
        let name = e.involved_object.name.clone().unwrap_or_default();
        let reason = e.reason.clone().unwrap_or_default();
        let series_last = e
            .series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0.as_second());
        let event_time = e.event_time.as_ref().map(|t| t.0.as_second());
        let last = unix(e.last_timestamp.as_ref())
            .or(series_last)
            .or(event_time)
            .or(unix(e.metadata.creation_timestamp.as_ref()));
        let first = unix(e.first_timestamp.as_ref())
            .or(event_time)
            .or(unix(e.metadata.creation_timestamp.as_ref()));
        let count = i64::from(
            e.count
                .or(e.series.as_ref().and_then(|s| s.count))
                .unwrap_or(1)
                .max(1),
        );
        let message = e.message.clone().unwrap_or_default();
        let type_ = e.type_.clone().unwrap_or_else(|| "Normal".into());
        let entry = folded
            .entry((
                namespace.clone(),
                kind.clone(),
                name.clone(),
                reason.clone(),
            ))
            .or_insert_with(|| EventState {
                namespace,
                involved_kind: kind,
                involved_name: name,
                reason,
                type_: type_.clone(),
                message: message.clone(),
                count: 0,
                first_seen: first,
                last_seen: last,
            });
        entry.count += count;
        entry.first_seen = match (entry.first_seen, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if last >= entry.last_seen {
            entry.message = message;
            entry.type_ = type_;
            entry.last_seen = last;
        }
    }
    folded.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_fold_by_object_and_reason() {
        let events: Vec<Event> = serde_json::from_value(json!([
            {"metadata": {"name": "a", "namespace": "shop"},
             "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
             "reason": "BackOff", "type": "Warning", "message": "old", "count": 3,
             "firstTimestamp": "2026-11-23T00:00:00Z", "lastTimestamp": "2026-11-23T00:05:00Z"},
            {"metadata": {"name": "b", "namespace": "shop"},
             "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
             "reason": "BackOff", "type": "Warning", "message": "new", "count": 2,
             "firstTimestamp": "2026-11-22T23:50:00Z", "lastTimestamp": "2026-11-23T00:10:00Z"},
            {"metadata": {"name": "c", "namespace": "shop"},
             "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
             "reason": "Pulled", "type": "Normal", "message": "pulled"}
        ]))
        .unwrap();
        let folded = fold_events(&events);
        assert_eq!(folded.len(), 2);
        let b = &folded[0];
        assert_eq!(
            (b.reason.as_str(), b.count, b.message.as_str()),
            ("BackOff", 5, "new")
        );
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_second();
        assert_eq!(b.first_seen, Some(t("2026-11-22T23:50:00Z")));
        assert_eq!(b.last_seen, Some(t("2026-11-23T00:10:00Z")));
        assert_eq!((folded[1].reason.as_str(), folded[1].count), ("Pulled", 1));
    }

    #[test]
    fn pod_requests_sum_containers_and_respect_init_containers() {
        let d = |spec: serde_json::Value| -> Deployment {
            serde_json::from_value(json!({
                "metadata": {"name": "w", "namespace": "n"},
                "spec": {"selector": {}, "template": {"spec": spec}}
            }))
            .unwrap()
        };
        let two = d(json!({"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "0.4"}}}
        ]}));
        assert_eq!(pod_request(&two, "cpu"), Some(0.5));
        assert_eq!(pod_request(&two, "memory"), Some(1024.0 * 1024.0 * 1024.0));
        // A heavier init container sets the pod's request.
        let init = d(json!({
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "2"}}}],
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}]
        }));
        assert_eq!(pod_request(&init, "cpu"), Some(2.0));
        // No request, or garbage: unknown rather than zero.
        let none = d(json!({"containers": [
            {"name": "a"},
            {"name": "b", "resources": {"requests": {"cpu": "lots"}}}
        ]}));
        assert_eq!(pod_request(&none, "cpu"), None);
        assert_eq!(pod_request(&none, "memory"), None);
    }

    #[test]
    fn deployments_get_their_replicasets_hpa_and_pod_usage() {
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"},
                          "annotations": {REVISION: "3"}},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "app", "image": "web:3",
                     "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]}}},
            "status": {"readyReplicas": 3, "updatedReplicas": 4, "availableReplicas": 3}
        }))
        .unwrap();
        let rs: Vec<ReplicaSet> = serde_json::from_value(json!([
            {"metadata": {"name": "web-aaa", "namespace": "shop", "annotations": {REVISION: "2"},
                          "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u"}]},
             "status": {"replicas": 0}},
            {"metadata": {"name": "web-bbb", "namespace": "shop", "annotations": {REVISION: "3"},
                          "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u"}]},
             "status": {"replicas": 4, "readyReplicas": 3}}
        ]))
        .unwrap();
        let hpa: HorizontalPodAutoscaler = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                     "minReplicas": 2, "maxReplicas": 10,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                  "target": {"type": "Utilization", "averageUtilization": 70}}}]},
            "status": {"currentReplicas": 4, "desiredReplicas": 5,
                       "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                                           "current": {"averageUtilization": 91}}}]}
        }))
        .unwrap();
        let mut w = build(&[d], &rs, &[hpa]);
        assert_eq!(w.len(), 1);
        let web = &w[0];
        assert_eq!(
            (web.replicas, web.ready, web.updated, web.available),
            (4, 3, 4, 3)
        );
        assert_eq!(web.images, ["web:3"]);
        // One container asking for 250m and 256Mi.
        assert_eq!(web.requests_cpu_cores, Some(0.25));
        assert_eq!(web.requests_memory_bytes, Some(256.0 * 1024.0 * 1024.0));
        assert_eq!(web.revision.as_deref(), Some("3"));
        assert_eq!(web.replicasets[0].name, "web-bbb");
        let hpa = web.hpa.as_ref().unwrap();
        assert_eq!(
            (hpa.min_replicas, hpa.max_replicas, hpa.desired_replicas),
            (2, 10, Some(5))
        );
        assert_eq!(hpa.metrics[0].target, "70%");
        assert_eq!(hpa.metrics[0].current.as_deref(), Some("91%"));

        let pod = |name: &str, cpu: f64| PodUsage {
            namespace: "shop".into(),
            name: name.into(),
            labels: BTreeMap::new(),
            cpu_cores: cpu,
            memory_bytes: 1.0,
        };
        attach_usage(
            &mut w,
            &[
                pod("web-bbb-x1", 0.25),
                pod("web-bbb-x2", 0.5),
                pod("web-api-ccc-x1", 9.0),
            ],
        );
        assert_eq!(w[0].cpu_cores, Some(0.75));
        assert_eq!(w[0].memory_bytes, Some(2.0));
    }
}
