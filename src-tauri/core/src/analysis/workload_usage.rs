//! Per-deployment usage from the cached pod series, for right-sizing
//! (issue 7 §3): the p95 of per-pod CPU (`POD_CPU_CORES`) and memory
//! (`POD_MEMORY_BYTES`) over the last days, and how many days of history
//! the cache actually holds.
//!
//! Pods are mapped to their deployment by the **ReplicaSet name prefix**:
//! a deployment's pod is `DEPLOYMENT-RSHASH-PODHASH`, so dropping the last
//! two `-` segments gives the deployment, kept only when that deployment
//! exists in the pod's namespace. The cache has neither the pods' owner
//! references nor their labels (the pod series carry `namespace` and `pod`
//! only), so this is what it allows; a bare pod or a StatefulSet's pod
//! (`NAME-0`) maps to nothing and is left out.
//!
//! The p95 is over every (pod, step) value of the deployment pooled: "the
//! usage one pod needs 95 % of the time", which is what a per-pod request
//! is compared with.

use std::collections::{BTreeMap, BTreeSet};

use crate::metrics::names;
use crate::store::{Selector, Store, StoreError};

/// The window read, and the step its values are averaged over.
pub const USAGE_WINDOW_DAYS: i64 = 7;
pub const USAGE_STEP_SECS: i64 = 300;

/// What the cache says about one deployment's pods.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentUsage {
    pub p95_cpu_cores_per_pod: Option<f64>,
    pub p95_memory_bytes_per_pod: Option<f64>,
    /// From the first to the last sample of either series, in days.
    pub usage_days: f64,
    /// Distinct pods seen.
    pub pods: usize,
}

/// The deployment a pod belongs to, by the ReplicaSet name prefix, if it
/// is one of `deployments`.
pub fn deployment_of<'a>(pod: &str, deployments: &'a BTreeSet<String>) -> Option<&'a str> {
    let mut parts = pod.rsplitn(3, '-');
    let (_pod_hash, _rs_hash, name) = (parts.next()?, parts.next()?, parts.next()?);
    deployments.get(name).map(String::as_str)
}

/// The `q` quantile (0..=1) by nearest rank of `values` (sorted in place).
fn nearest_rank(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q * values.len() as f64).ceil().max(1.0) as usize;
    values.get(rank - 1).copied()
}

/// Usage per `(namespace, deployment)` of `cluster_id` over the
/// [`USAGE_WINDOW_DAYS`] before `now`, for the deployments given.
pub fn deployment_usage(
    store: &Store,
    cluster_id: &str,
    deployments: &[(String, String)],
    now: i64,
) -> Result<BTreeMap<(String, String), DeploymentUsage>, StoreError> {
    let mut by_ns: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (ns, name) in deployments {
        by_ns.entry(ns).or_default().insert(name.clone());
    }
    let start = now - USAGE_WINDOW_DAYS * 86_400;
    #[derive(Default)]
    struct Acc {
        cpu: Vec<f64>,
        mem: Vec<f64>,
        first: Option<i64>,
        last: Option<i64>,
        pods: BTreeSet<String>,
    }
    let mut acc: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for (metric, is_cpu) in [
        (names::POD_CPU_CORES, true),
        (names::POD_MEMORY_BYTES, false),
    ] {
        let series = store.range_at(
            &Selector::metric(metric).cluster(cluster_id),
            start,
            now,
            USAGE_STEP_SECS,
            now,
            &crate::store::retention::Retention::default(),
        )?;
        for (key, points) in series {
            let (Some(ns), Some(pod)) = (key.labels.get("namespace"), key.labels.get("pod")) else {
                continue;
            };
            let Some(deployment) = by_ns.get(ns.as_str()).and_then(|d| deployment_of(pod, d))
            else {
                continue;
            };
            let a = acc.entry((ns.clone(), deployment.to_owned())).or_default();
            a.pods.insert(pod.clone());
            for (ts, v) in points
                .into_iter()
                .filter(|(_, v)| v.is_finite() && *v >= 0.0)
            {
                a.first = Some(a.first.map_or(ts, |f| f.min(ts)));
                a.last = Some(a.last.map_or(ts, |l| l.max(ts)));
                if is_cpu {
                    a.cpu.push(v);
                } else {
                    a.mem.push(v);
                }
            }
        }
    }
    Ok(acc
        .into_iter()
        .map(|(k, mut a)| {
            let days = match (a.first, a.last) {
                (Some(f), Some(l)) => (l - f) as f64 / 86_400.0,
                _ => 0.0,
            };
            (
                k,
                DeploymentUsage {
                    p95_cpu_cores_per_pod: nearest_rank(&mut a.cpu, 0.95),
                    p95_memory_bytes_per_pod: nearest_rank(&mut a.mem, 0.95),
                    usage_days: days,
                    pods: a.pods.len(),
                },
            )
        })
        .collect())
}

/// What the cache says about one node pool's usage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolUsage {
    /// The p95 over the window's steps of the pool's total (Σ of its
    /// nodes) CPU and memory in use.
    pub p95_cpu_cores: Option<f64>,
    pub p95_memory_bytes: Option<f64>,
    pub usage_days: f64,
}

/// Usage per pool of `cluster_id` from the node series, with each node's
/// pool from `pool_of_node` (the node's pool label as collected); nodes
/// with no known pool are left out.
pub fn pool_usage(
    store: &Store,
    cluster_id: &str,
    pool_of_node: &BTreeMap<String, String>,
    now: i64,
) -> Result<BTreeMap<String, PoolUsage>, StoreError> {
    let start = now - USAGE_WINDOW_DAYS * 86_400;
    // pool → step → (cpu total, memory total); pool → (first, last).
    let mut totals: BTreeMap<&str, [BTreeMap<i64, f64>; 2]> = BTreeMap::new();
    let mut span: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (i, metric) in [names::NODE_CPU_CORES, names::NODE_MEMORY_BYTES]
        .into_iter()
        .enumerate()
    {
        let series = store.range_at(
            &Selector::metric(metric).cluster(cluster_id),
            start,
            now,
            USAGE_STEP_SECS,
            now,
            &crate::store::retention::Retention::default(),
        )?;
        for (key, points) in series {
            let Some(pool) = key.labels.get("node").and_then(|n| pool_of_node.get(n)) else {
                continue;
            };
            let t = totals.entry(pool.as_str()).or_default();
            for (ts, v) in points
                .into_iter()
                .filter(|(_, v)| v.is_finite() && *v >= 0.0)
            {
                *t[i].entry(ts).or_default() += v;
                let s = span.entry(pool.as_str()).or_insert((ts, ts));
                *s = (s.0.min(ts), s.1.max(ts));
            }
        }
    }
    Ok(totals
        .into_iter()
        .map(|(pool, [cpu, mem])| {
            let days = span
                .get(pool)
                .map_or(0.0, |(f, l)| (l - f) as f64 / 86_400.0);
            let mut cpu: Vec<f64> = cpu.into_values().collect();
            let mut mem: Vec<f64> = mem.into_values().collect();
            (
                pool.to_owned(),
                PoolUsage {
                    p95_cpu_cores: nearest_rank(&mut cpu, 0.95),
                    p95_memory_bytes: nearest_rank(&mut mem, 0.95),
                    usage_days: days,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_map_to_their_deployment_by_the_replicaset_prefix() {
        let deps: BTreeSet<String> = ["web".to_owned(), "web-api".to_owned()].into();
        assert_eq!(deployment_of("web-7d9f8b6c5-x2x9q", &deps), Some("web"));
        assert_eq!(deployment_of("web-api-5c6d7-abcde", &deps), Some("web-api"));
        // A StatefulSet's pod, a bare pod, another namespace's deployment.
        assert_eq!(deployment_of("db-0", &deps), None);
        assert_eq!(deployment_of("web", &deps), None);
        assert_eq!(deployment_of("cart-5c6d7-abcde", &deps), None);
    }

    #[test]
    fn nearest_rank_p95() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(nearest_rank(&mut v, 0.95), Some(95.0));
        assert_eq!(nearest_rank(&mut [], 0.95), None);
        assert_eq!(nearest_rank(&mut [3.0], 0.95), Some(3.0));
    }
}
