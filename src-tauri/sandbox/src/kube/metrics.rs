//! The simulated load, and `metrics.k8s.io/v1beta1` over it.
//!
//! Each deployment has a CPU demand (millicores), the annotation
//! [`DEMAND_ANNOTATION`] (generated ones carry it; patch it to push an HPA),
//! shaped by a diurnal curve and a slow wobble that are deterministic in
//! (seed, namespace, name, time). The demand is shared by the deployment's
//! Ready pods, so scaling out lowers per-pod usage, as real traffic would,
//! and an HPA converges instead of running away. Memory follows CPU loosely.
//! The HPA controller and the metrics API read the very same numbers.

use std::{collections::HashMap, f64::consts::TAU};

use axum::{http::StatusCode, response::Response};
use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{Pod, ResourceRequirements},
    },
    apimachinery::pkg::{api::resource::Quantity, apis::meta::v1::ObjectMeta},
};
use serde::Serialize;

use super::{
    api::object,
    controllers::{owner_deployment, pod_ready},
    select::LabelSelector,
    status::ApiError,
    store::{unix_now, Store},
    ClusterKube, Request,
};
use crate::world::rfc3339;

pub(crate) const GROUP: &str = "metrics.k8s.io";
pub(crate) const VERSION: &str = "v1beta1";
const API_VERSION: &str = "metrics.k8s.io/v1beta1";
/// A deployment's CPU demand in millicores at the daily mean, e.g. `"450m"`.
pub const DEMAND_ANNOTATION: &str = "sandbox.cloudops.dev/cpu-demand";
/// metrics-server's scrape resolution.
const WINDOW_SECS: u64 = 15;
/// What the kubelet, runtime and system daemons use on every node.
const NODE_OVERHEAD_CPU_MILLI: f64 = 80.0;
const NODE_OVERHEAD_MEMORY: f64 = 450.0 * MI;
const MI: f64 = 1024.0 * 1024.0;

/// A Kubernetes quantity in base units (cores, bytes): `250m`, `1.5`,
/// `512Mi`, `1G`, `1e3`. `None` for anything else.
pub(crate) fn parse_quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => MI,
        "Gi" => MI * 1024.0,
        "Ti" => MI * MI,
        _ => return None,
    };
    n.is_finite().then_some(n * mult)
}

/// Millicores as a quantity: `250m`.
pub(crate) fn cpu_quantity(milli: f64) -> Quantity {
    Quantity(format!("{}m", milli.max(0.0).round() as u64))
}

/// Bytes as a quantity in whole mebibytes: `512Mi`.
pub(crate) fn memory_quantity(bytes: f64) -> Quantity {
    Quantity(format!("{}Mi", (bytes.max(0.0) / MI).round() as u64))
}

/// The summed requests (and CPU limit) of a pod spec's containers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Requests {
    pub cpu_milli: f64,
    pub memory: f64,
    pub cpu_limit_milli: f64,
}

fn resource(r: Option<&ResourceRequirements>, which: &str, key: &str) -> f64 {
    r.and_then(|r| match which {
        "requests" => r.requests.as_ref(),
        _ => r.limits.as_ref(),
    })
    .and_then(|m| m.get(key))
    .and_then(|q| parse_quantity(&q.0))
    .unwrap_or(0.0)
}

pub(crate) fn requests_of(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> Requests {
    let mut r = Requests::default();
    for c in spec.map(|s| s.containers.as_slice()).unwrap_or_default() {
        let res = c.resources.as_ref();
        r.cpu_milli += resource(res, "requests", "cpu") * 1000.0;
        r.memory += resource(res, "requests", "memory");
        r.cpu_limit_milli += resource(res, "limits", "cpu") * 1000.0;
    }
    r
}

/// FNV-1a: a stable hash for the deterministic load shapes.
pub(crate) fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The deployment's CPU demand in millicores at `unix`.
pub(crate) fn demand_milli(seed: u64, d: &Deployment, unix: u64) -> f64 {
    let req = requests_of(d.spec.template.spec.as_ref());
    let base = d
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEMAND_ANNOTATION))
        .and_then(|q| parse_quantity(q))
        .map(|cores| cores * 1000.0)
        .unwrap_or(req.cpu_milli * 1.5);
    let ns = d.metadata.namespace.as_deref().unwrap_or("");
    let name = d.metadata.name.as_deref().unwrap_or("");
    let h = fnv(&[&seed.to_le_bytes(), ns.as_bytes(), name.as_bytes()]);
    let phase = unit(h) * TAU;
    let t = unix as f64;
    let diurnal = 1.0 + 0.3 * ((t % 86_400.0) / 86_400.0 * TAU + phase).sin();
    let wobble = 1.0 + 0.05 * (t / 900.0 * TAU + phase * 3.0).sin();
    (base * diurnal * wobble).max(0.0)
}

/// One Ready pod's usage: (CPU millicores, memory bytes).
pub(crate) fn pod_usage(pod: &Pod, share_milli: f64, unix: u64) -> (f64, f64) {
    let req = requests_of(pod.spec.as_ref());
    let name = pod.metadata.name.as_deref().unwrap_or("");
    // ±5% per pod, changing every scrape window.
    let bucket = unix / WINDOW_SECS;
    let jitter = 0.95 + 0.1 * unit(fnv(&[name.as_bytes(), &bucket.to_le_bytes()]));
    let cap = if req.cpu_limit_milli > 0.0 {
        req.cpu_limit_milli
    } else {
        (req.cpu_milli * 4.0).max(100.0)
    };
    let cpu = (share_milli * jitter).clamp(1.0, cap);
    let load = if req.cpu_milli > 0.0 {
        (cpu / req.cpu_milli).min(1.5) / 1.5
    } else {
        0.3
    };
    let base_mem = if req.memory > 0.0 {
        req.memory
    } else {
        64.0 * MI
    };
    (cpu, base_mem * (0.5 + 0.3 * load))
}

/// Per-deployment CPU shares (demand / Ready pods), for the pods of `ns`
/// (all namespaces when `None`).
fn shares(store: &Store, seed: u64, ns: Option<&str>, unix: u64) -> HashMap<(String, String), f64> {
    store
        .deployments
        .range(ns, None)
        .map(|(key, d)| {
            let ready = d
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0)
                .max(1);
            (key.clone(), demand_milli(seed, d, unix) / f64::from(ready))
        })
        .collect()
}

/// Usage of every Ready pod of `ns` (or all), keyed like the store.
pub(crate) fn ready_pod_usage<'a>(
    store: &'a Store,
    seed: u64,
    ns: Option<&str>,
    unix: u64,
) -> Vec<(&'a Pod, f64, f64)> {
    let shares = shares(store, seed, ns, unix);
    store
        .pods
        .range(ns, None)
        .filter(|(_, p)| pod_ready(p))
        .map(|(_, p)| {
            let share = owner_deployment(store, p)
                .and_then(|k| shares.get(&k).copied())
                .unwrap_or_else(|| requests_of(p.spec.as_ref()).cpu_milli * 0.1);
            let (cpu, mem) = pod_usage(p, share, unix);
            (p.as_ref(), cpu, mem)
        })
        .collect()
}

/// Every node's usage, overhead included: (CPU millicores, memory bytes),
/// by node name. What metrics.k8s.io and the kubelet summary both report.
pub(crate) fn node_usage(store: &Store, seed: u64, unix: u64) -> HashMap<String, (f64, f64)> {
    let mut per_node: HashMap<String, (f64, f64)> = store
        .nodes
        .values()
        .filter_map(|n| n.metadata.name.clone())
        .map(|n| (n, (NODE_OVERHEAD_CPU_MILLI, NODE_OVERHEAD_MEMORY)))
        .collect();
    for (pod, cpu, mem) in ready_pod_usage(store, seed, None, unix) {
        if let Some(e) = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .and_then(|node| per_node.get_mut(node))
        {
            e.0 += cpu;
            e.1 += mem;
        }
    }
    for (name, e) in per_node.iter_mut() {
        // A slow node (chaos, faults.rs): CPU near allocatable.
        if let (Some(f), Some(alloc)) = (store.slow_nodes.get(name), store.allocatable.get(name)) {
            e.0 = e.0.max(alloc.cpu_milli as f64 * f);
        }
    }
    per_node
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricsList<T> {
    kind: &'static str,
    api_version: &'static str,
    metadata: serde_json::Value,
    items: Vec<T>,
}

/// `metrics.k8s.io/v1beta1` NodeMetrics.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeMetrics {
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<&'static str>,
    metadata: ObjectMeta,
    timestamp: String,
    window: String,
    usage: HashMap<&'static str, Quantity>,
}

/// `metrics.k8s.io/v1beta1` PodMetrics.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodMetrics {
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<&'static str>,
    metadata: ObjectMeta,
    timestamp: String,
    window: String,
    containers: Vec<ContainerMetrics>,
}

#[derive(Debug, Serialize)]
struct ContainerMetrics {
    name: String,
    usage: HashMap<&'static str, Quantity>,
}

fn usage(cpu_milli: f64, memory: f64) -> HashMap<&'static str, Quantity> {
    HashMap::from([
        ("cpu", cpu_quantity(cpu_milli)),
        ("memory", memory_quantity(memory)),
    ])
}

fn meta_of(m: &ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        name: m.name.clone(),
        namespace: m.namespace.clone(),
        labels: m.labels.clone(),
        creation_timestamp: m.creation_timestamp.clone(),
        ..Default::default()
    }
}

fn list_reply<T: Serialize>(kind: &'static str, items: Vec<T>) -> Result<Response, ApiError> {
    object(
        StatusCode::OK,
        &MetricsList {
            kind,
            api_version: API_VERSION,
            metadata: serde_json::json!({}),
            items,
        },
    )
}

/// `/apis/metrics.k8s.io/v1beta1/...`: nodes and pods, list or get.
pub(crate) fn handle(ck: &ClusterKube, rest: &[&str], req: &Request) -> Result<Response, ApiError> {
    let labels = match req.query.get("labelSelector") {
        Some(s) => LabelSelector::parse(s)?,
        None => LabelSelector::default(),
    };
    let unix = unix_now();
    // Scrapes land on window boundaries, like metrics-server's.
    let stamp = rfc3339(unix - unix % WINDOW_SECS);
    let window = format!("{WINDOW_SECS}s");
    match rest {
        ["nodes", tail @ ..] if tail.len() <= 1 => {
            let store = ck.lock();
            let per_node = node_usage(&store, ck.seed, unix);
            let items: Vec<NodeMetrics> = store
                .nodes
                .values()
                .filter(|n| {
                    tail.first()
                        .is_none_or(|want| n.metadata.name.as_deref() == Some(*want))
                })
                .filter(|n| labels.matches(n.metadata.labels.as_ref()))
                .map(|n| {
                    let name = n.metadata.name.as_deref().unwrap_or("");
                    let (cpu, mem) = per_node.get(name).copied().unwrap_or_default();
                    NodeMetrics {
                        kind: None,
                        api_version: None,
                        metadata: meta_of(&n.metadata),
                        timestamp: stamp.clone(),
                        window: window.clone(),
                        usage: usage(cpu, mem),
                    }
                })
                .collect();
            drop(store);
            match tail.first() {
                None => list_reply("NodeMetricsList", items),
                Some(name) => {
                    let mut one = items.into_iter().next().ok_or_else(|| ApiError::NotFound {
                        resource: "nodes.metrics.k8s.io".into(),
                        name: name.to_string(),
                    })?;
                    one.kind = Some("NodeMetrics");
                    one.api_version = Some(API_VERSION);
                    object(StatusCode::OK, &one)
                }
            }
        }
        ["pods"] => pods(ck, None, None, &labels, unix, &stamp, &window),
        ["namespaces", ns, "pods"] => pods(ck, Some(ns), None, &labels, unix, &stamp, &window),
        ["namespaces", ns, "pods", name] => {
            pods(ck, Some(ns), Some(name), &labels, unix, &stamp, &window)
        }
        _ => Err(ApiError::NoRoute),
    }
}

fn pods(
    ck: &ClusterKube,
    ns: Option<&str>,
    name: Option<&str>,
    labels: &LabelSelector,
    unix: u64,
    stamp: &str,
    window: &str,
) -> Result<Response, ApiError> {
    let store = ck.lock();
    let items: Vec<PodMetrics> = ready_pod_usage(&store, ck.seed, ns, unix)
        .into_iter()
        .filter(|(p, _, _)| name.is_none_or(|n| p.metadata.name.as_deref() == Some(n)))
        .filter(|(p, _, _)| labels.matches(p.metadata.labels.as_ref()))
        .map(|(p, cpu, mem)| {
            let containers = p
                .spec
                .as_ref()
                .map(|s| s.containers.as_slice())
                .unwrap_or_default();
            // The pod's usage split over its containers by CPU request.
            let total = requests_of(p.spec.as_ref()).cpu_milli.max(1.0);
            let n = containers.len().max(1) as f64;
            PodMetrics {
                kind: None,
                api_version: None,
                metadata: meta_of(&p.metadata),
                timestamp: stamp.to_string(),
                window: window.to_string(),
                containers: containers
                    .iter()
                    .map(|c| {
                        let share = match resource(c.resources.as_ref(), "requests", "cpu") {
                            r if r > 0.0 => r * 1000.0 / total,
                            _ => 1.0 / n,
                        };
                        ContainerMetrics {
                            name: c.name.clone(),
                            usage: usage(cpu * share, mem * share),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    drop(store);
    match name {
        None => list_reply("PodMetricsList", items),
        Some(name) => {
            let mut one = items.into_iter().next().ok_or_else(|| ApiError::NotFound {
                resource: "pods.metrics.k8s.io".into(),
                name: name.to_string(),
            })?;
            one.kind = Some("PodMetrics");
            one.api_version = Some(API_VERSION);
            object(StatusCode::OK, &one)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_in_base_units() {
        assert_eq!(parse_quantity("250m"), Some(0.25));
        assert_eq!(parse_quantity("2"), Some(2.0));
        assert_eq!(parse_quantity("512Mi"), Some(512.0 * MI));
        assert_eq!(parse_quantity("1G"), Some(1e9));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(parse_quantity("12Qi"), None);
        assert_eq!(parse_quantity("m"), None);
        assert_eq!(cpu_quantity(249.6).0, "250m");
        assert_eq!(memory_quantity(512.0 * MI).0, "512Mi");
    }

    #[test]
    fn demand_follows_the_annotation_and_stays_near_it() {
        let mut d = Deployment::default();
        d.metadata.name = Some("checkout".into());
        d.metadata.annotations =
            Some([(DEMAND_ANNOTATION.to_string(), "1000m".to_string())].into());
        for t in (0..86_400).step_by(3_600) {
            let m = demand_milli(1, &d, t);
            assert!((600.0..=1400.0).contains(&m), "{m} at {t}");
        }
        assert_eq!(demand_milli(1, &d, 500), demand_milli(1, &d, 500));
    }
}
