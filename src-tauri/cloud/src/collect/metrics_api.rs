//! Nodes (allocatable, readiness, pool) from the Node objects, and node and
//! pod CPU/memory from `metrics.k8s.io/v1beta1` (metrics-server, or the
//! clouds' managed equivalents).

use std::collections::BTreeMap;

use cloudops_core::{
    metrics::{names, Sample, SeriesKey},
    store::{NodeConditionState, NodeState},
};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use serde::Deserialize;

use super::{CollectError, Kube};

/// A Kubernetes quantity in base units (cores, bytes): `250m`, `100n`,
/// `1.5`, `512Mi`, `123456Ki`, `1G`, `1e3`. `None` for anything else.
pub fn parse_quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    // "1E" is exa, not an exponent without digits.
    let (num, suffix) = match (num.strip_suffix(['e', 'E']), suffix) {
        (Some(n), "") => (n, &q[split - 1..]),
        _ => (num, suffix),
    };
    let n: f64 = num.parse().ok()?;
    const KI: f64 = 1024.0;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => KI,
        "Mi" => KI * KI,
        "Gi" => KI * KI * KI,
        "Ti" => KI * KI * KI * KI,
        "Pi" => KI * KI * KI * KI * KI,
        "Ei" => KI * KI * KI * KI * KI * KI,
        _ => return None,
    };
    let v = n * mult;
    v.is_finite().then_some(v)
}

pub struct NodesOutcome {
    pub states: Vec<NodeState>,
    /// Allocatable CPU and memory, per node.
    pub samples: Vec<Sample>,
}

pub(crate) fn node_state(n: &Node) -> Option<NodeState> {
    let name = n.metadata.name.clone()?;
    let labels = n.metadata.labels.clone().unwrap_or_default();
    let pool = cloudops_core::plan::drain::node_pool_of(&labels).map(str::to_owned);
    let status = n.status.as_ref();
    let alloc = |key: &str| {
        status
            .and_then(|s| s.allocatable.as_ref())
            .and_then(|a| a.get(key))
            .and_then(|q| parse_quantity(&q.0))
            .unwrap_or(0.0)
    };
    let conditions: Vec<NodeConditionState> = status
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| {
            cs.iter()
                .map(|c| NodeConditionState {
                    type_: c.type_.clone(),
                    status: c.status.clone(),
                    reason: c.reason.clone(),
                    message: c.message.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(NodeState {
        ready: conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True"),
        name,
        pool,
        allocatable_cpu_cores: alloc("cpu"),
        allocatable_memory_bytes: alloc("memory"),
        conditions,
        kubelet_version: status
            .and_then(|s| s.node_info.as_ref())
            .map(|i| i.kubelet_version.clone())
            .filter(|v| !v.is_empty()),
    })
}

/// The cluster's nodes, and their allocatable CPU and memory as samples.
pub async fn nodes(
    kube: &Kube<'_>,
    cluster_id: &str,
    now: i64,
    page: u32,
) -> Result<NodesOutcome, CollectError> {
    let api: Api<Node> = Api::all(kube.client.clone());
    let nodes = kube.list_all("listing nodes", &api, page).await?;
    let states: Vec<NodeState> = nodes.iter().filter_map(node_state).collect();
    let mut samples = Vec::with_capacity(states.len() * 2);
    for s in &states {
        let labels = [("node", s.name.as_str())];
        samples.push(Sample {
            series: SeriesKey::new(cluster_id, names::NODE_CPU_ALLOCATABLE_CORES, labels),
            ts: now,
            value: s.allocatable_cpu_cores,
        });
        samples.push(Sample {
            series: SeriesKey::new(cluster_id, names::NODE_MEMORY_ALLOCATABLE_BYTES, labels),
            ts: now,
            value: s.allocatable_memory_bytes,
        });
    }
    Ok(NodesOutcome { states, samples })
}

#[derive(Debug, Deserialize)]
struct MetricsList<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct NodeMetrics {
    #[serde(default)]
    metadata: Meta,
    timestamp: Option<String>,
    #[serde(default)]
    usage: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct PodMetrics {
    #[serde(default)]
    metadata: Meta,
    timestamp: Option<String>,
    #[serde(default)]
    containers: Vec<ContainerMetrics>,
}

#[derive(Debug, Deserialize)]
struct ContainerMetrics {
    #[serde(default)]
    usage: BTreeMap<String, String>,
}

/// One pod's usage, kept to add it up per workload.
#[derive(Debug, Clone, PartialEq)]
pub struct PodUsage {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub cpu_cores: f64,
    pub memory_bytes: f64,
}

pub struct UsageOutcome {
    pub samples: Vec<Sample>,
    pub pods: Vec<PodUsage>,
}

/// The scrape time metrics.k8s.io reports, else `now`.
fn scraped_at(ts: Option<&str>, now: i64) -> i64 {
    ts.and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
        .unwrap_or(now)
}

fn usage_of(usage: &BTreeMap<String, String>, key: &str) -> Option<f64> {
    usage.get(key).and_then(|q| parse_quantity(q))
}

/// Node and pod CPU/memory from metrics.k8s.io. A value that does not
/// parse is skipped (the series has a gap), not read as zero.
pub async fn usage(
    kube: &Kube<'_>,
    cluster_id: &str,
    now: i64,
) -> Result<UsageOutcome, CollectError> {
    let nodes: MetricsList<NodeMetrics> = kube
        .get_json("reading node metrics", "/apis/metrics.k8s.io/v1beta1/nodes")
        .await?;
    let pods: MetricsList<PodMetrics> = kube
        .get_json("reading pod metrics", "/apis/metrics.k8s.io/v1beta1/pods")
        .await?;
    Ok(usage_samples(cluster_id, now, nodes, pods))
}

fn usage_samples(
    cluster_id: &str,
    now: i64,
    nodes: MetricsList<NodeMetrics>,
    pods: MetricsList<PodMetrics>,
) -> UsageOutcome {
    let mut samples = Vec::with_capacity(nodes.items.len() * 2 + pods.items.len() * 2);
    for n in &nodes.items {
        let ts = scraped_at(n.timestamp.as_deref(), now);
        let labels = [("node", n.metadata.name.as_str())];
        if let Some(cpu) = usage_of(&n.usage, "cpu") {
            samples.push(Sample {
                series: SeriesKey::new(cluster_id, names::NODE_CPU_CORES, labels),
                ts,
                value: cpu,
            });
        }
        if let Some(mem) = usage_of(&n.usage, "memory") {
            samples.push(Sample {
                series: SeriesKey::new(cluster_id, names::NODE_MEMORY_BYTES, labels),
                ts,
                value: mem,
            });
        }
    }
    let mut out_pods = Vec::with_capacity(pods.items.len());
    for p in pods.items {
        let ts = scraped_at(p.timestamp.as_deref(), now);
        let sum = |key: &str| -> Option<f64> {
            p.containers
                .iter()
                .map(|c| usage_of(&c.usage, key))
                .sum::<Option<f64>>()
        };
        let (cpu, mem) = (sum("cpu"), sum("memory"));
        let labels = [
            ("namespace", p.metadata.namespace.as_str()),
            ("pod", p.metadata.name.as_str()),
        ];
        if let Some(cpu) = cpu {
            samples.push(Sample {
                series: SeriesKey::new(cluster_id, names::POD_CPU_CORES, labels),
                ts,
                value: cpu,
            });
        }
        if let Some(mem) = mem {
            samples.push(Sample {
                series: SeriesKey::new(cluster_id, names::POD_MEMORY_BYTES, labels),
                ts,
                value: mem,
            });
        }
        if let (Some(cpu), Some(mem)) = (cpu, mem) {
            out_pods.push(PodUsage {
                namespace: p.metadata.namespace,
                name: p.metadata.name,
                labels: p.metadata.labels,
                cpu_cores: cpu,
                memory_bytes: mem,
            });
        }
    }
    UsageOutcome {
        samples,
        pods: out_pods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_in_base_units() {
        let near = |q: &str, want: f64| {
            let got = parse_quantity(q).unwrap_or_else(|| panic!("{q} does not parse"));
            assert!(
                (got - want).abs() <= want.abs() * 1e-12,
                "{q}: {got} != {want}"
            );
        };
        near("250m", 0.25);
        near("100n", 1e-7);
        near("1500u", 0.0015);
        near("2", 2.0);
        near("1.5", 1.5);
        near("1Gi", 1024.0 * 1024.0 * 1024.0);
        near("123456Ki", 123_456.0 * 1024.0);
        near("512Mi", 512.0 * 1024.0 * 1024.0);
        near("1G", 1e9);
        near("1e3", 1000.0);
        near("2E", 2e18);
        for bad in ["", "m", "12Qi", "abc", "1.2.3", "Ki"] {
            assert_eq!(parse_quantity(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn usage_becomes_node_and_pod_samples_and_bad_values_are_gaps() {
        let nodes: MetricsList<NodeMetrics> = serde_json::from_value(serde_json::json!({
            "kind": "NodeMetricsList",
            "items": [
                {"metadata": {"name": "n1"}, "timestamp": "2026-11-23T00:00:15Z",
                 "usage": {"cpu": "1250m", "memory": "2Gi"}},
                {"metadata": {"name": "n2"}, "usage": {"cpu": "garbage", "memory": "1024Ki"}}
            ]
        }))
        .unwrap();
        let pods: MetricsList<PodMetrics> = serde_json::from_value(serde_json::json!({
            "items": [{
                "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
                "containers": [
                    {"name": "app", "usage": {"cpu": "100n", "memory": "1Mi"}},
                    {"name": "sidecar", "usage": {"cpu": "5m", "memory": "1Mi"}}
                ]
            }]
        }))
        .unwrap();
        let out = usage_samples("c1", 42, nodes, pods);
        let find = |metric: &str, label: &str| {
            out.samples
                .iter()
                .find(|s| s.series.metric == metric && s.series.labels.values().any(|v| v == label))
                .map(|s| (s.ts, s.value))
        };
        let ts = "2026-11-23T00:00:15Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second();
        assert_eq!(find(names::NODE_CPU_CORES, "n1"), Some((ts, 1.25)));
        assert_eq!(
            find(names::NODE_MEMORY_BYTES, "n1"),
            Some((ts, 2.0 * 1024.0 * 1024.0 * 1024.0))
        );
        assert_eq!(find(names::NODE_CPU_CORES, "n2"), None);
        assert_eq!(
            find(names::NODE_MEMORY_BYTES, "n2"),
            Some((42, 1024.0 * 1024.0))
        );
        let (_, cpu) = find(names::POD_CPU_CORES, "web-1").unwrap();
        assert!((cpu - 0.0050001).abs() < 1e-12, "{cpu}");
        assert_eq!(
            find(names::POD_MEMORY_BYTES, "web-1").unwrap().1,
            2.0 * 1024.0 * 1024.0
        );
        assert_eq!(out.pods.len(), 1);
        assert_eq!(out.pods[0].labels["app"], "web");
    }
}
