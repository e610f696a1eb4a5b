//! Node disk from the kubelet's `stats/v1alpha1` Summary, read through the
//! API server's node proxy (`/api/v1/nodes/{node}/proxy/stats/summary`), so
//! no kubelet port has to be reachable from the desktop. A node whose
//! summary fails is reported; the other nodes are still collected.

use cloudops_core::metrics::{names, Sample, SeriesKey};
use futures_util::{future::BoxFuture, stream, StreamExt};
use serde::Deserialize;

use super::{CollectError, Kube};

#[derive(Debug, Deserialize)]
struct Summary {
    node: NodeStats,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeStats {
    fs: Option<FsStats>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FsStats {
    time: Option<String>,
    used_bytes: Option<u64>,
    capacity_bytes: Option<u64>,
}

pub struct DiskOutcome {
    pub samples: Vec<Sample>,
    /// Nodes whose summary failed, with why.
    pub failed: Vec<(String, CollectError)>,
}

impl DiskOutcome {
    /// One error that names the nodes that failed (for the pass's problems).
    pub fn failed_error(&self) -> CollectError {
        let mut names: Vec<&str> = self.failed.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let first = self
            .failed
            .first()
            .map(|(_, e)| e.to_string())
            .unwrap_or_default();
        CollectError::Call {
            what: format!(
                "kubelet summary of {} node(s) ({}); first error",
                names.len(),
                names.join(", ")
            ),
            source: crate::ProviderError::Decode {
                provider: cloudops_core::model::Provider::Kubeconfig,
                what: "the node proxy".into(),
                detail: first,
            },
        }
    }
}

fn samples_of(cluster_id: &str, node: &str, s: &Summary, now: i64) -> Vec<Sample> {
    let Some(fs) = &s.node.fs else {
        return Vec::new();
    };
    let ts = fs
        .time
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
        .unwrap_or(now);
    let labels = [("node", node)];
    let mut out = Vec::with_capacity(2);
    if let Some(used) = fs.used_bytes {
        out.push(Sample {
            series: SeriesKey::new(cluster_id, names::NODE_DISK_USED_BYTES, labels),
            ts,
            value: used as f64,
        });
    }
    if let Some(cap) = fs.capacity_bytes {
        out.push(Sample {
            series: SeriesKey::new(cluster_id, names::NODE_DISK_CAPACITY_BYTES, labels),
            ts,
            value: cap as f64,
        });
    }
    out
}

/// The disk of each node, `concurrency` summaries at a time. Fails only when
/// there were nodes and not one summary answered.
pub async fn disk(
    kube: &Kube<'_>,
    cluster_id: &str,
    nodes: &[String],
    now: i64,
    concurrency: usize,
) -> Result<DiskOutcome, CollectError> {
    let results: Vec<(String, Result<Summary, CollectError>)> = stream::iter(nodes.iter().cloned())
        // Owned names and a boxed `Send` future, for the same reason as in
        // `fleet.rs`.
        .map(
            |node: String| -> BoxFuture<'_, (String, Result<Summary, CollectError>)> {
                Box::pin(async move {
                    // Node names are DNS labels; anything else is not ours to send.
                    let r = if node
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                    {
                        kube.get_json::<Summary>(
                            &format!("kubelet summary of node {node}"),
                            &format!("/api/v1/nodes/{node}/proxy/stats/summary"),
                        )
                        .await
                    } else {
                        Err(CollectError::Call {
                            what: format!("kubelet summary of node {node:?}"),
                            source: crate::ProviderError::Config {
                                provider: kube.provider,
                                detail: "the node name is not a DNS name".into(),
                            },
                        })
                    };
                    (node, r)
                })
            },
        )
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut out = DiskOutcome {
        samples: Vec::new(),
        failed: Vec::new(),
    };
    for (node, r) in results {
        match r {
            Ok(s) => out.samples.extend(samples_of(cluster_id, &node, &s, now)),
            Err(e) => out.failed.push((node, e)),
        }
    }
    if !nodes.is_empty() && out.failed.len() == nodes.len() {
        return Err(out.failed.swap_remove(0).1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, sync::Arc, time::Duration};

    use axum::{extract::Path, http::StatusCode, routing::get, Router};

    use super::*;
    use crate::resilience::{Breakers, CallPolicy};

    /// A fake API server on loopback: node-a answers, node-b is a 500
    /// every time. Returns its URL.
    async fn fake_apiserver() -> String {
        let app = Router::new().route(
            "/api/v1/nodes/{node}/proxy/stats/summary",
            get(|Path(node): Path<String>| async move {
                if node == "node-a" {
                    (
                        StatusCode::OK,
                        r#"{"node":{"nodeName":"node-a","fs":{"time":"2026-11-23T00:00:00Z",
                            "usedBytes":25,"capacityBytes":100,"availableBytes":75}},"pods":[]}"#,
                    )
                } else {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"kubelet down","code":500}"#,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_failing_node_is_reported_and_the_others_collected() {
        let url = fake_apiserver().await;
        let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
        let policy = CallPolicy {
            timeout: Duration::from_secs(5),
            retries: 1,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        };
        let breakers = Arc::new(Breakers::new(100, Duration::from_secs(1)));
        let kube = Kube {
            client,
            provider: cloudops_core::model::Provider::Aws,
            endpoint: &url,
            policy: &policy,
            breakers: &breakers,
        };
        let nodes = vec!["node-a".to_string(), "node-b".to_string()];
        let out = disk(&kube, "c1", &nodes, 7, 4).await.unwrap();
        let got: BTreeMap<_, _> = out
            .samples
            .iter()
            .map(|s| {
                (
                    s.series.metric.as_str(),
                    (s.series.labels["node"].as_str(), s.value),
                )
            })
            .collect();
        assert_eq!(got[names::NODE_DISK_USED_BYTES], ("node-a", 25.0));
        assert_eq!(got[names::NODE_DISK_CAPACITY_BYTES], ("node-a", 100.0));
        assert_eq!(out.failed.len(), 1);
        assert_eq!(out.failed[0].0, "node-b");
        assert!(out.failed_error().to_string().contains("node-b"));
        // When every node fails, the collector fails.
        let err = disk(&kube, "c1", &nodes[1..], 7, 4).await.err().unwrap();
        assert_eq!(err.kind(), "server_error");
        // A name that is not a DNS name is never put in a path.
        let bad = vec!["../../secrets".to_string()];
        assert_eq!(
            disk(&kube, "c1", &bad, 7, 4).await.err().unwrap().kind(),
            "config"
        );
    }
}
