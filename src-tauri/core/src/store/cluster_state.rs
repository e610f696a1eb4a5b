//! What the collectors last saw inside each cluster (issue 5): nodes,
//! workloads (with their HPAs and per-workload usage), deduplicated events,
//! and a record per cluster and collector of the last attempt and the last
//! success, so that a cluster that cannot be reached keeps its last data and
//! is shown stale rather than empty.
//!
//! Each part of a [`ClusterState`] is optional: a collector that failed
//! leaves its part `None`, and the cache keeps the previous snapshot of that
//! part. A part that is `Some` replaces the cluster's previous one in the
//! same transaction as the others.

use std::collections::BTreeMap;

use rusqlite::{params, params_from_iter, types::Value, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// One node as the cluster reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeState {
    pub name: String,
    /// The node pool / node group / agent pool, from the cloud's label.
    pub pool: Option<String>,
    pub allocatable_cpu_cores: f64,
    pub allocatable_memory_bytes: f64,
    pub ready: bool,
    pub conditions: Vec<NodeConditionState>,
    /// `status.nodeInfo.kubeletVersion`, for the version skew check.
    #[serde(default)]
    pub kubelet_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeConditionState {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

/// An autoscaling/v2 HPA, summarised on the workload it scales.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HpaSummary {
    pub name: String,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: Option<i32>,
    pub desired_replicas: Option<i32>,
    pub metrics: Vec<HpaMetricState>,
}

/// One metric an HPA scales on: `cpu` at `target` `70%`, now `55%`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HpaMetricState {
    pub name: String,
    pub target: String,
    pub current: Option<String>,
}

/// A ReplicaSet of a workload, for rollout history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaSetState {
    pub name: String,
    pub revision: Option<String>,
    pub replicas: i32,
    pub ready: i32,
}

/// A deployment (or, later, another kind of workload).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadState {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// Desired replicas.
    pub replicas: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    pub labels: BTreeMap<String, String>,
    pub images: Vec<String>,
    /// `deployment.kubernetes.io/revision`.
    pub revision: Option<String>,
    pub replicasets: Vec<ReplicaSetState>,
    pub hpa: Option<HpaSummary>,
    /// The summed usage of its pods at collection time, when metrics.k8s.io
    /// answered; `None` otherwise (unknown, not zero).
    pub cpu_cores: Option<f64>,
    pub memory_bytes: Option<f64>,
    /// What one pod asks for (the pod template's effective request: the
    /// containers' sum, or the largest init container's when that is
    /// more). `None` when no container states a request for the resource,
    /// which is not zero: the scheduler then places it on usage alone.
    /// Snapshots written before requests were collected read as `None`.
    #[serde(default)]
    pub requests_cpu_cores: Option<f64>,
    #[serde(default)]
    pub requests_memory_bytes: Option<f64>,
}

/// Events with the same involved object and reason, folded into one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventState {
    pub namespace: String,
    pub involved_kind: String,
    pub involved_name: String,
    pub reason: String,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The most recent message.
    pub message: String,
    pub count: i64,
    /// Unix seconds.
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
}

/// What one collection pass saw inside one cluster; `None` parts were not
/// collected (their collector failed) and keep their previous snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterState {
    pub nodes: Option<Vec<NodeState>>,
    pub workloads: Option<Vec<WorkloadState>>,
    pub events: Option<Vec<EventState>>,
    pub endpoint: Option<EndpointState>,
}

/// The API server as the endpoint collector saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointState {
    /// `gitVersion` from `/version`, e.g. `v1.31.4-eks-a737599`.
    pub server_version: Option<String>,
    /// Whether the endpoint speaks TLS (a certificate is expected).
    pub tls: bool,
    /// The serving certificate's `notAfter`, unix seconds.
    pub cert_not_after: Option<i64>,
    pub cert_subject: Option<String>,
}

/// One collector's attempt on one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRecord {
    pub cluster_id: String,
    /// `metrics`, `kubelet`, `workloads`, `red`, `connect`…
    pub collector: String,
    pub attempted_at: i64,
    /// `None`: the attempt succeeded. Otherwise its message and what to do.
    pub error: Option<String>,
    pub hint: Option<String>,
}

/// How fresh a cluster's collected data is, per collector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectorFreshness {
    pub collector: String,
    pub attempted_at: i64,
    /// The last success, possibly before the last attempt.
    pub succeeded_at: Option<i64>,
    pub error: Option<String>,
    pub hint: Option<String>,
    /// The last attempt failed: what is shown is from `succeeded_at`.
    pub stale: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadQuery {
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    /// A substring of the name, namespace, cluster id or a label (`k=v`).
    pub search: Option<String>,
    pub offset: u32,
    /// 0 means the default page size.
    pub limit: u32,
}

/// The default and largest page of [`Store::workloads`].
pub const DEFAULT_WORKLOAD_PAGE: u32 = 200;
pub const MAX_WORKLOAD_PAGE: u32 = 5_000;

/// One row of the workloads list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadRow {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub kind: String,
    pub replicas: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    pub labels: BTreeMap<String, String>,
    pub images: Vec<String>,
    pub revision: Option<String>,
    pub hpa: Option<HpaSummary>,
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
    /// Per pod; `None` when unknown (not stated, or collected before
    /// requests were).
    #[serde(default)]
    pub requests_cpu_cores: Option<f64>,
    #[serde(default)]
    pub requests_memory_bytes: Option<f64>,
    pub collected_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadPage {
    pub rows: Vec<WorkloadRow>,
    /// Rows matching the query, over all pages.
    pub total: u64,
}

fn json<T: Serialize>(v: &T) -> String {
    // Serialising plain structs and maps cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn from_json<T: for<'de> Deserialize<'de> + Default>(s: Option<String>) -> T {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// `%`, `_` and `\` taken literally in a LIKE pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Replaces the collected parts of a cluster's snapshot, in one
    /// transaction. Parts that are `None` are left as they were.
    pub fn apply_cluster_state(
        &mut self,
        cluster_id: &str,
        state: &ClusterState,
        collected_at: i64,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql_err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn_mut().transaction().map_err(sql_err)?;
        if let Some(nodes) = &state.nodes {
            put_nodes(&tx, cluster_id, nodes, collected_at).map_err(sql_err)?;
        }
        if let Some(workloads) = &state.workloads {
            put_workloads(&tx, cluster_id, workloads, collected_at).map_err(sql_err)?;
        }
        if let Some(events) = &state.events {
            put_events(&tx, cluster_id, events, collected_at).map_err(sql_err)?;
        }
        if let Some(endpoint) = &state.endpoint {
            put_endpoint(&tx, cluster_id, endpoint, collected_at).map_err(sql_err)?;
        }
        tx.commit().map_err(sql_err)
    }

    /// Records one collector's attempt; a success moves `succeeded_at`.
    pub fn record_collection(&mut self, record: &CollectionRecord) -> Result<(), StoreError> {
        let ok = record.error.is_none();
        self.conn()
            .execute(
                "INSERT INTO collections (cluster_id, collector, attempted_at, succeeded_at, error, hint)
                 VALUES (?1, ?2, ?3, CASE WHEN ?4 THEN ?3 END, ?5, ?6)
                 ON CONFLICT (cluster_id, collector) DO UPDATE SET
                     attempted_at = excluded.attempted_at,
                     succeeded_at = CASE WHEN ?4 THEN excluded.attempted_at ELSE succeeded_at END,
                     error = excluded.error,
                     hint = excluded.hint",
                params![
                    record.cluster_id,
                    record.collector,
                    record.attempted_at,
                    ok,
                    record.error,
                    record.hint
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The last attempt and success of each collector on the cluster.
    pub fn cluster_freshness(
        &self,
        cluster_id: &str,
    ) -> Result<Vec<CollectorFreshness>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT collector, attempted_at, succeeded_at, error, hint FROM collections
                 WHERE cluster_id = ?1 ORDER BY collector",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([cluster_id], |r| {
                let error: Option<String> = r.get(3)?;
                Ok(CollectorFreshness {
                    collector: r.get(0)?,
                    attempted_at: r.get(1)?,
                    succeeded_at: r.get(2)?,
                    stale: error.is_some(),
                    error,
                    hint: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The cluster's nodes as last collected.
    pub fn cluster_nodes(&self, cluster_id: &str) -> Result<Vec<NodeState>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT name, pool, allocatable_cpu, allocatable_memory, ready, conditions_json,
                        kubelet_version
                 FROM cluster_nodes WHERE cluster_id = ?1 ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([cluster_id], |r| {
                Ok(NodeState {
                    name: r.get(0)?,
                    pool: r.get(1)?,
                    allocatable_cpu_cores: r.get(2)?,
                    allocatable_memory_bytes: r.get(3)?,
                    ready: r.get(4)?,
                    conditions: from_json(r.get(5)?),
                    kubelet_version: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The API server as last collected, with the time it was.
    pub fn cluster_endpoint(
        &self,
        cluster_id: &str,
    ) -> Result<Option<(EndpointState, i64)>, StoreError> {
        self.conn()
            .query_row(
                "SELECT server_version, tls, cert_not_after, cert_subject, collected_at
                 FROM cluster_endpoints WHERE cluster_id = ?1",
                [cluster_id],
                |r| {
                    Ok((
                        EndpointState {
                            server_version: r.get(0)?,
                            tls: r.get(1)?,
                            cert_not_after: r.get(2)?,
                            cert_subject: r.get(3)?,
                        },
                        r.get(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The cluster's events as last collected, most recent first.
    pub fn cluster_events(&self, cluster_id: &str) -> Result<Vec<EventState>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT namespace, involved_kind, involved_name, reason, type, message, count,
                        first_seen, last_seen
                 FROM cluster_events WHERE cluster_id = ?1
                 ORDER BY last_seen DESC, namespace, involved_name, reason",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([cluster_id], |r| {
                Ok(EventState {
                    namespace: r.get(0)?,
                    involved_kind: r.get(1)?,
                    involved_name: r.get(2)?,
                    reason: r.get(3)?,
                    type_: r.get(4)?,
                    message: r.get(5)?,
                    count: r.get(6)?,
                    first_seen: r.get(7)?,
                    last_seen: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// A page of workloads, ordered by cluster, namespace, name.
    pub fn workloads(&self, q: &WorkloadQuery) -> Result<WorkloadPage, StoreError> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        if let Some(c) = &q.cluster {
            clauses.push("cluster_id = ?");
            args.push(Value::Text(c.clone()));
        }
        if let Some(ns) = &q.namespace {
            clauses.push("namespace = ?");
            args.push(Value::Text(ns.clone()));
        }
        if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
            // `search_text` is the lower-cased name, namespace, cluster and
            // labels, built on write: one LIKE instead of four.
            clauses.push("search_text LIKE ? ESCAPE '\\'");
            args.push(Value::Text(like_escape(s)));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let total: i64 = self
            .conn()
            .query_row(
                &format!("SELECT count(*) FROM cluster_workloads {filter}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let limit = match q.limit {
            0 => DEFAULT_WORKLOAD_PAGE,
            n => n.min(MAX_WORKLOAD_PAGE),
        };
        args.push(Value::Integer(i64::from(limit)));
        args.push(Value::Integer(i64::from(q.offset)));
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "SELECT cluster_id, namespace, name, kind, replicas, ready, updated, available,
                        labels_json, images_json, revision, hpa_json, cpu_cores, memory_bytes,
                        collected_at, requests_cpu_cores, requests_memory_bytes
                 FROM cluster_workloads {filter}
                 ORDER BY cluster_id, namespace, name, kind LIMIT ? OFFSET ?"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), |r| {
                Ok(WorkloadRow {
                    cluster: r.get(0)?,
                    namespace: r.get(1)?,
                    name: r.get(2)?,
                    kind: r.get(3)?,
                    replicas: r.get(4)?,
                    ready: r.get(5)?,
                    updated: r.get(6)?,
                    available: r.get(7)?,
                    labels: from_json(r.get(8)?),
                    images: from_json(r.get(9)?),
                    revision: r.get(10)?,
                    hpa: r
                        .get::<_, Option<String>>(11)?
                        .and_then(|s| serde_json::from_str(&s).ok()),
                    cpu: r.get(12)?,
                    memory: r.get(13)?,
                    collected_at: r.get(14)?,
                    requests_cpu_cores: r.get(15)?,
                    requests_memory_bytes: r.get(16)?,
                })
            })
            .map_err(|e| self.err(e))?;
        Ok(WorkloadPage {
            rows: rows
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.err(e))?,
            total: total.max(0) as u64,
        })
    }
}

fn put_nodes(
    tx: &Transaction<'_>,
    cluster_id: &str,
    nodes: &[NodeState],
    at: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM cluster_nodes WHERE cluster_id = ?1",
        [cluster_id],
    )?;
    let mut stmt = tx.prepare(
        "INSERT OR REPLACE INTO cluster_nodes (cluster_id, name, pool, allocatable_cpu,
             allocatable_memory, ready, conditions_json, collected_at, kubelet_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for n in nodes {
        stmt.execute(params![
            cluster_id,
            n.name,
            n.pool,
            n.allocatable_cpu_cores,
            n.allocatable_memory_bytes,
            n.ready,
            json(&n.conditions),
            at,
            n.kubelet_version
        ])?;
    }
    Ok(())
}

fn put_endpoint(
    tx: &Transaction<'_>,
    cluster_id: &str,
    e: &EndpointState,
    at: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO cluster_endpoints
             (cluster_id, server_version, tls, cert_not_after, cert_subject, collected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            cluster_id,
            e.server_version,
            e.tls,
            e.cert_not_after,
            e.cert_subject,
            at
        ],
    )?;
    Ok(())
}

fn put_workloads(
    tx: &Transaction<'_>,
    cluster_id: &str,
    workloads: &[WorkloadState],
    at: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM cluster_workloads WHERE cluster_id = ?1",
        [cluster_id],
    )?;
    let mut stmt = tx.prepare(
        "INSERT OR REPLACE INTO cluster_workloads (cluster_id, namespace, kind, name, replicas,
             ready, updated, available, labels_json, images_json, revision, replicasets_json,
             hpa_json, cpu_cores, memory_bytes, search_text, collected_at, requests_cpu_cores,
             requests_memory_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19)",
    )?;
    for w in workloads {
        let labels: String = w.labels.iter().map(|(k, v)| format!(" {k}={v}")).collect();
        let search = format!("{} {} {}{labels}", w.name, w.namespace, cluster_id).to_lowercase();
        stmt.execute(params![
            cluster_id,
            w.namespace,
            w.kind,
            w.name,
            w.replicas,
            w.ready,
            w.updated,
            w.available,
            json(&w.labels),
            json(&w.images),
            w.revision,
            json(&w.replicasets),
            w.hpa.as_ref().map(json),
            w.cpu_cores,
            w.memory_bytes,
            search,
            at,
            w.requests_cpu_cores.filter(|v| v.is_finite()),
            w.requests_memory_bytes.filter(|v| v.is_finite())
        ])?;
    }
    Ok(())
}

fn put_events(
    tx: &Transaction<'_>,
    cluster_id: &str,
    events: &[EventState],
    at: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM cluster_events WHERE cluster_id = ?1",
        [cluster_id],
    )?;
    let mut stmt = tx.prepare(
        "INSERT INTO cluster_events (cluster_id, namespace, involved_kind, involved_name, reason,
             type, message, count, first_seen, last_seen, collected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (cluster_id, namespace, involved_kind, involved_name, reason) DO UPDATE SET
             count = count + excluded.count,
             first_seen = min(coalesce(first_seen, excluded.first_seen), coalesce(excluded.first_seen, first_seen)),
             last_seen = max(coalesce(last_seen, excluded.last_seen), coalesce(excluded.last_seen, last_seen)),
             message = excluded.message, type = excluded.type",
    )?;
    for e in events {
        stmt.execute(params![
            cluster_id,
            e.namespace,
            e.involved_kind,
            e.involved_name,
            e.reason,
            e.type_,
            e.message,
            e.count,
            e.first_seen,
            e.last_seen,
            at
        ])?;
    }
    Ok(())
}

impl Store {
    /// When the cluster's workloads were last collected, if ever.
    pub fn workloads_collected_at(&self, cluster_id: &str) -> Result<Option<i64>, StoreError> {
        self.conn()
            .query_row(
                "SELECT max(collected_at) FROM cluster_workloads WHERE cluster_id = ?1",
                [cluster_id],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }
}
