//! What a collector reaches *through* the API server: the kubelet summary
//! (`/api/v1/nodes/{node}/proxy/stats/summary`), the cluster's Prometheus
//! Service (`/api/v1/namespaces/{ns}/services`), and the service proxy in
//! front of it (`/api/v1/namespaces/{ns}/services/{name}:{port}/proxy/…`),
//! which forwards to the sandbox Prometheus of that cluster (prometheus.rs).
//!
//! Each cloud's clusters run Prometheus the way that cloud's users commonly
//! install it, so that a collector's auto-detection meets more than one
//! layout: the `prometheus` Helm chart on EKS and DOKS, kube-prometheus-stack
//! on GKE, the Prometheus operator's governing Service on AKS.

use std::f64::consts::TAU;

use axum::{http::StatusCode, response::Response};
use k8s_openapi::{
    api::core::v1::{Service, ServicePort, ServiceSpec},
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use serde_json::json;

use super::{
    api::object,
    metrics::{fnv, node_usage},
    status::ApiError,
    store::unix_now,
    ClusterKube,
};
use crate::world::{rfc3339, Cloud, Cluster};

/// Where a cluster's Prometheus Service lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrometheusService {
    pub namespace: &'static str,
    pub name: &'static str,
    pub port: i32,
    pub port_name: &'static str,
}

/// The Prometheus Service of a sandbox cluster (depends on its cloud).
pub fn prometheus_service(cluster: &Cluster) -> PrometheusService {
    match cluster.cloud {
        // `helm install prometheus prometheus-community/prometheus`.
        Cloud::Aws | Cloud::DigitalOcean => PrometheusService {
            namespace: "monitoring",
            name: "prometheus-server",
            port: 80,
            port_name: "http",
        },
        // kube-prometheus-stack, released as `kube-prometheus-stack`.
        Cloud::Gcp => PrometheusService {
            namespace: "monitoring",
            name: "kube-prometheus-stack-prometheus",
            port: 9090,
            port_name: "http-web",
        },
        // The operator's headless governing Service.
        Cloud::Azure => PrometheusService {
            namespace: "monitoring",
            name: "prometheus-operated",
            port: 9090,
            port_name: "web",
        },
    }
}

fn service_object(cluster: &Cluster, p: PrometheusService) -> Service {
    let h = fnv(&[cluster.id.as_bytes(), p.name.as_bytes()]);
    Service {
        metadata: ObjectMeta {
            name: Some(p.name.into()),
            namespace: Some(p.namespace.into()),
            uid: Some(format!(
                "{:08x}-0000-4000-8000-{:012x}",
                h >> 32,
                h & 0xffff_ffff_ffff
            )),
            labels: Some(
                [
                    (
                        "app.kubernetes.io/name".to_string(),
                        "prometheus".to_string(),
                    ),
                    ("app.kubernetes.io/component".into(), "server".into()),
                ]
                .into(),
            ),
            creation_timestamp: Some(super::store::time(cluster.created_at)),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some(format!("10.96.{}.{}", (h >> 8) % 256, h % 254 + 1)),
            ports: Some(vec![ServicePort {
                name: Some(p.port_name.into()),
                port: p.port,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            selector: Some(
                [(
                    "app.kubernetes.io/name".to_string(),
                    "prometheus".to_string(),
                )]
                .into(),
            ),
            ..Default::default()
        }),
        status: None,
    }
}

/// `GET /api/v1/services`, `/api/v1/namespaces/{ns}/services[/{name}]`.
pub(crate) fn services(
    cluster: &Cluster,
    rv: u64,
    ns: Option<&str>,
    name: Option<&str>,
) -> Result<Response, ApiError> {
    let p = prometheus_service(cluster);
    let svc = service_object(cluster, p);
    let in_ns = ns.is_none_or(|ns| ns == p.namespace);
    match name {
        Some(name) => {
            if in_ns && name == p.name {
                let mut v =
                    serde_json::to_value(&svc).map_err(|e| ApiError::Internal(e.to_string()))?;
                v["kind"] = json!("Service");
                v["apiVersion"] = json!("v1");
                object(StatusCode::OK, &v)
            } else {
                Err(ApiError::NotFound {
                    resource: "services".into(),
                    name: name.into(),
                })
            }
        }
        None => {
            let items = if in_ns { vec![svc] } else { vec![] };
            object(
                StatusCode::OK,
                &json!({
                    "kind": "ServiceList",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": rv.to_string()},
                    "items": items,
                }),
            )
        }
    }
}

/// Whether `ns/{name}` (a service-proxy name: `name`, `name:port`,
/// `scheme:name:port`, the port by number or by name) is the cluster's
/// Prometheus.
pub(crate) fn is_prometheus_proxy(cluster: &Cluster, ns: &str, proxy_name: &str) -> bool {
    let p = prometheus_service(cluster);
    let Some((scheme, name, port)) = split_proxy_name(proxy_name) else {
        return false;
    };
    let port_ok = port.is_empty() || port == p.port_name || port == p.port.to_string();
    ns == p.namespace && name == p.name && scheme == "http" && port_ok
}

/// `[scheme:]name[:port]` → (scheme, name, port); the scheme defaults to
/// `http`, the port to "" (the service's only port).
fn split_proxy_name(proxy_name: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = proxy_name.split(':').collect();
    match parts.as_slice() {
        [name] => Some(("http", *name, "")),
        [name, port] => Some(("http", *name, *port)),
        [scheme, name, port] => Some((*scheme, *name, *port)),
        _ => None,
    }
}

/// The service named in a service-proxy name, for error messages.
pub(crate) fn service_of(proxy_name: &str) -> &str {
    split_proxy_name(proxy_name).map_or(proxy_name, |(_, name, _)| name)
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A node's root filesystem: (capacity, used) bytes. Boot disks of 80, 100
/// or 128 GiB, filled 25–70 % (by the node's hash), plus a slow drift of a
/// few percent over the day as images and logs come and go.
fn node_fs(seed: u64, node: &str, unix: u64) -> (f64, f64) {
    let h = fnv(&[&seed.to_le_bytes(), node.as_bytes(), b"fs"]);
    let capacity = [80.0, 100.0, 128.0][(h % 3) as usize] * GIB;
    let base = 0.25 + 0.45 * ((h >> 8) % 1000) as f64 / 1000.0;
    let phase = ((h >> 20) % 1000) as f64 / 1000.0 * TAU;
    let drift = 0.03 * ((unix % 86_400) as f64 / 86_400.0 * TAU + phase).sin();
    (capacity, capacity * (base + drift).clamp(0.01, 0.99))
}

/// The kubelet's `stats/v1alpha1` Summary of one node, as the API server's
/// node proxy returns it. `pods` is left empty: the collectors read pod
/// usage from metrics.k8s.io.
pub(crate) fn summary(ck: &ClusterKube, node: &str) -> Result<Response, ApiError> {
    let unix = unix_now();
    let store = ck.lock();
    let exists = store.nodes.get("", node).is_some();
    let usage = node_usage(&store, ck.seed, unix);
    let start = store
        .nodes
        .get("", node)
        .and_then(|n| n.metadata.creation_timestamp.as_ref())
        .map(|t| t.0.to_string());
    let memory_total = store
        .allocatable
        .get(node)
        .map(|a| a.memory as f64)
        .unwrap_or(0.0);
    drop(store);
    if !exists {
        return Err(ApiError::NotFound {
            resource: "nodes".into(),
            name: node.into(),
        });
    }
    let (cpu_milli, mem) = usage.get(node).copied().unwrap_or_default();
    let (capacity, used) = node_fs(ck.seed, node, unix);
    // Whole bytes, so that used + available = capacity exactly.
    let (capacity, used) = (capacity as u64, used as u64);
    let now = rfc3339(unix);
    // The kubelet reports memory against the node's capacity; allocatable
    // plus a reserve is close enough for a simulated node.
    let mem_capacity = memory_total * 1.1;
    let body = json!({
        "node": {
            "nodeName": node,
            "systemContainers": [],
            "startTime": start,
            "cpu": {
                "time": now,
                "usageNanoCores": (cpu_milli * 1e6).round() as u64,
                "usageCoreNanoSeconds": (cpu_milli * 1e6 * unix as f64 / 1e3) as u64,
            },
            "memory": {
                "time": now,
                "availableBytes": (mem_capacity - mem).max(0.0) as u64,
                "usageBytes": (mem * 1.15) as u64,
                "workingSetBytes": mem as u64,
                "rssBytes": (mem * 0.8) as u64,
                "pageFaults": 0,
                "majorPageFaults": 0,
            },
            "fs": {
                "time": now,
                "availableBytes": capacity - used,
                "capacityBytes": capacity,
                "usedBytes": used,
                "inodesFree": 5_000_000u64,
                "inodes": 6_553_600u64,
                "inodesUsed": 1_553_600u64,
            },
            "runtime": {
                "imageFs": {
                    "time": now,
                    "availableBytes": capacity - used,
                    "capacityBytes": capacity,
                    "usedBytes": used / 10 * 6,
                }
            }
        },
        "pods": [],
    });
    object(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_filesystems_are_deterministic_and_within_capacity() {
        let (c, u) = node_fs(7, "node-a", 1_000);
        assert_eq!(node_fs(7, "node-a", 1_000), (c, u));
        assert!(u > 0.0 && u < c, "{u} of {c}");
        assert!([80.0, 100.0, 128.0].contains(&(c / GIB)));
    }
}
