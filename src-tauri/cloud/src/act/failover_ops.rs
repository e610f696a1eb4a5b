//! The kube operations a failover is made of, each idempotent (absolute
//! counts and bounds), and the invariant watcher.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Mutex,
};
use std::time::{Duration, Instant};

use cloudops_core::{
    audit::Outcome,
    plan::{
        failover::ClusterFacts,
        scale::{HpaBounds, WorkloadRef},
    },
    store::Store,
};
use k8s_openapi::api::{apps::v1::Deployment, autoscaling::v2::HorizontalPodAutoscaler};
use kube::{
    api::{Patch, PatchParams},
    Api,
};
use serde::Serialize;
use serde_json::json;

use super::{
    audit, capacity,
    failover_plan::DEFAULT_READ_DEADLINE,
    from_kube,
    scale::{self, progress_of, RolloutProgress},
    ActError, Actor, WriteGuard,
};

/// The audit action for HPA bound changes.
pub const HPA_ACTION: &str = "set_hpa_bounds";

fn what(w: &WorkloadRef) -> String {
    format!("deployment {}/{}", w.namespace, w.deployment)
}

/// The deployment's replica counts, read live.
pub async fn counts(client: &kube::Client, w: &WorkloadRef) -> Result<RolloutProgress, ActError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &w.namespace);
    let d = api
        .get(&w.deployment)
        .await
        .map_err(|e| from_kube(&w.cluster_id, "get", "deployments", &what(w), e))?;
    Ok(progress_of(&d))
}

/// What the plan needs of one member, read live: the deployment, its HPA
/// and the cluster's nodes. Provider, region, health and price come from
/// the caller (discovery and the cache).
pub async fn read_facts(
    client: &kube::Client,
    w: &WorkloadRef,
    provider: &str,
    region: &str,
    health: Option<f64>,
    node_hourly_price: Option<f64>,
) -> Result<ClusterFacts, ActError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &w.namespace);
    let d = api
        .get(&w.deployment)
        .await
        .map_err(|e| from_kube(&w.cluster_id, "get", "deployments", &what(w), e))?;
    let p = progress_of(&d);
    Ok(ClusterFacts {
        workload: Some(w.clone()),
        cluster_id: w.cluster_id.clone(),
        provider: provider.to_owned(),
        region: region.to_owned(),
        health,
        replicas: p.replicas,
        ready: p.ready,
        hpa: find_hpa(client, w).await?.map(|(_, b, _)| b),
        pod: capacity::pod_shape(&d),
        nodes: capacity::read_capacity(client, &w.cluster_id).await?,
        node_hourly_price,
        unreachable: None,
        denied: Vec::new(),
    })
}

/// The autoscaling/v2 HPA that scales the deployment: name, bounds and
/// resourceVersion.
async fn find_hpa(
    client: &kube::Client,
    w: &WorkloadRef,
) -> Result<Option<(String, HpaBounds, Option<String>)>, ActError> {
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), &w.namespace);
    let list = api.list(&Default::default()).await.map_err(|e| {
        from_kube(
            &w.cluster_id,
            "list",
            "horizontalpodautoscalers",
            "the HPA list",
            e,
        )
    })?;
    Ok(list.items.into_iter().find_map(|h| {
        let r = &h.spec.scale_target_ref;
        (r.kind == "Deployment" && r.name == w.deployment).then(|| {
            (
                h.metadata.name.clone().unwrap_or_default(),
                HpaBounds {
                    min: h.spec.min_replicas.unwrap_or(1),
                    max: h.spec.max_replicas,
                },
                h.metadata.resource_version.clone(),
            )
        })
    }))
}

/// Sets the HPA's bounds (a no-op when they already are), audited before
/// and after; a 409 is re-read and retried once, like a scale.
pub async fn set_hpa_bounds(
    client: &kube::Client,
    store: &Store,
    actor: &Actor,
    guard: WriteGuard,
    w: &WorkloadRef,
    bounds: HpaBounds,
) -> Result<(), ActError> {
    guard.check(&format!("changing the HPA of {w}"))?;
    let Some((name, before, rv)) = find_hpa(client, w).await? else {
        return Err(ActError::NotFound {
            cluster: w.cluster_id.clone(),
            what: format!("the HPA of {}", what(w)),
        });
    };
    if before == bounds {
        return Ok(());
    }
    let target = format!("{}/{}/hpa/{name}", w.cluster_id, w.namespace);
    let detail = json!({
        "cluster": w.cluster_id, "namespace": w.namespace, "hpa": name,
        "deployment": w.deployment,
        "from": { "min": before.min, "max": before.max },
        "to": { "min": bounds.min, "max": bounds.max },
    });
    audit(
        store,
        actor,
        HPA_ACTION,
        &target,
        detail.clone(),
        Outcome::Started,
    )?;
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), &w.namespace);
    let patch = |rv: Option<String>| {
        let mut p = json!({ "spec": { "minReplicas": bounds.min, "maxReplicas": bounds.max } });
        if let Some(rv) = rv {
            p["metadata"] = json!({ "resourceVersion": rv });
        }
        p
    };
    let resource = format!("horizontalpodautoscalers in namespace {}", w.namespace);
    let hpa_what = format!("HPA {}/{name}", w.namespace);
    let mut result = api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch(rv)))
        .await
        .map(|_| ());
    if let Err(kube::Error::Api(s)) = &result {
        if s.code == 409 {
            // Bounds are absolute: re-read for the version and write again.
            let rv = find_hpa(client, w).await?.and_then(|(_, _, rv)| rv);
            result = api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch(rv)))
                .await
                .map(|_| ());
        }
    }
    let mut out = detail;
    match result {
        Ok(()) => {
            audit(store, actor, HPA_ACTION, &target, out, Outcome::Succeeded)?;
            Ok(())
        }
        Err(e) => {
            let e = from_kube(&w.cluster_id, "patch", &resource, &hpa_what, e);
            out["result"] = json!({ "error": e.to_string(), "kind": e.kind() });
            audit(store, actor, HPA_ACTION, &target, out, Outcome::Failed)?;
            Err(e)
        }
    }
}

/// Scales through the scale executor (its preview, optimistic lock and
/// audit rows), without following: the caller waits its own way. A no-op
/// when the deployment already has `replicas`.
///
/// The count is absolute and the run was confirmed as a whole, so when an
/// HPA moves the deployment between the preview and the write (its bounds
/// were just changed), a fresh preview is taken and the write tried again,
/// up to three times in all.
pub async fn set_replicas(
    client: &kube::Client,
    store: &Store,
    actor: &Actor,
    guard: WriteGuard,
    w: &WorkloadRef,
    replicas: i32,
) -> Result<(), ActError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let preview = scale::preview(client, w.clone(), i64::from(replicas)).await?;
        if preview.plan.is_noop() {
            return Ok(());
        }
        let result = scale::execute(
            client,
            store,
            actor,
            guard,
            &preview,
            Duration::ZERO,
            |_| {},
        )
        .await;
        match result {
            Ok(_) => return Ok(()),
            Err(ActError::ChangedSincePreview { .. } | ActError::Conflict { .. })
                if attempt < 3 =>
            {
                continue
            }
            Err(e) => return Err(e),
        }
    }
}

/// `fut` under [`DEFAULT_READ_DEADLINE`]; no answer is `Unreachable`.
pub(super) async fn within<T>(
    cluster: &str,
    fut: impl std::future::Future<Output = Result<T, ActError>>,
) -> Result<T, ActError> {
    tokio::time::timeout(DEFAULT_READ_DEADLINE, fut)
        .await
        .unwrap_or_else(|_| {
            Err(ActError::Unreachable {
                cluster: cluster.to_owned(),
                what: "the preflight".into(),
                detail: format!("no answer within {} s", DEFAULT_READ_DEADLINE.as_secs()),
            })
        })
}

/// What the invariant watcher saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WatchStats {
    pub samples: u64,
    /// Samples per second over the watch.
    pub rate_hz: f64,
    pub read_errors: u64,
    /// The lowest total ready seen (source + target); `None` before the
    /// first sample.
    pub min_total_ready: Option<i32>,
    pub baseline_ready: i32,
    /// The first sample below the baseline, if any.
    pub violation: Option<String>,
}

/// Samples both deployments' ready counts every `every` in its own task
/// until stopped, flagging the first total below `baseline`.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    violated: Arc<AtomicBool>,
    stats: Arc<Mutex<WatchStats>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    pub fn start(
        source: (kube::Client, WorkloadRef),
        target: (kube::Client, WorkloadRef),
        baseline: i32,
        every: Duration,
    ) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let violated = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(WatchStats {
            baseline_ready: baseline,
            ..Default::default()
        }));
        let task = tokio::spawn({
            let (stop, violated, stats) = (stop.clone(), violated.clone(), stats.clone());
            async move {
                let started = Instant::now();
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                while !stop.load(Ordering::SeqCst) {
                    tick.tick().await;
                    let (s, t) =
                        tokio::join!(counts(&source.0, &source.1), counts(&target.0, &target.1));
                    let Ok(mut st) = stats.lock() else { return };
                    match (s, t) {
                        (Ok(s), Ok(t)) => {
                            let total = s.ready + t.ready;
                            st.samples += 1;
                            st.min_total_ready =
                                Some(st.min_total_ready.map_or(total, |m| m.min(total)));
                            if total < baseline && st.violation.is_none() {
                                st.violation = Some(format!(
                                    "{} ready (source {} + target {}) < {baseline} before the run",
                                    total, s.ready, t.ready
                                ));
                                violated.store(true, Ordering::SeqCst);
                            }
                        }
                        _ => st.read_errors += 1,
                    }
                    let secs = started.elapsed().as_secs_f64();
                    if secs > 0.0 {
                        st.rate_hz = st.samples as f64 / secs;
                    }
                }
            }
        });
        Watcher {
            stop,
            violated,
            stats,
            task,
        }
    }

    pub fn violated(&self) -> bool {
        self.violated.load(Ordering::SeqCst)
    }

    pub fn stats(&self) -> WatchStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops sampling and returns what was seen.
    pub async fn finish(self) -> WatchStats {
        self.stop.store(true, Ordering::SeqCst);
        let stats = self.stats.clone();
        let _ = self.task.await;
        stats.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
