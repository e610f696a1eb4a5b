//! Scale a deployment through its `scale` subresource (issue 6).
//!
//! [`preview`] reads the deployment, the HPA that targets it and the
//! cluster's capacity, and returns the plan with the resourceVersion it was
//! read at. [`execute`] writes the replicas with that resourceVersion as a
//! precondition: if the deployment changed since the preview the API server
//! answers 409, and the executor re-reads once. If the replicas are still
//! what the preview showed (an unrelated change, e.g. a status update), it
//! retries with the new version; otherwise it stops, because the user
//! confirmed a diff that no longer holds.

use std::time::Duration;

use cloudops_core::{
    audit::Outcome,
    plan::scale::{plan_scale, HpaBounds, ScaleInputs, ScalePlan, WorkloadRef},
    store::Store,
};
use k8s_openapi::api::{apps::v1::Deployment, autoscaling::v2::HorizontalPodAutoscaler};
use kube::{
    api::{Patch, PatchParams},
    Api,
};
use serde_json::json;

use super::{audit, capacity, from_kube, ActError, Actor, WriteGuard};

/// The audit action name.
pub const ACTION: &str = "scale_deployment";

/// A plan and the object version it was computed from.
#[derive(Debug, Clone)]
pub struct Preview {
    pub plan: ScalePlan,
    resource_version: Option<String>,
}

/// Replica counts as the deployment reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct RolloutProgress {
    pub replicas: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

/// What a finished scale reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScaleOutcome {
    pub from: i32,
    pub to: i32,
    /// The last progress seen; `settled` when ready reached the target
    /// within the wait.
    pub progress: RolloutProgress,
    pub settled: bool,
    /// The audit rows written (started, then the outcome).
    pub audit_ids: Vec<i64>,
}

pub(crate) fn progress_of(d: &Deployment) -> RolloutProgress {
    let s = d.status.clone().unwrap_or_default();
    RolloutProgress {
        replicas: d.spec.replicas.unwrap_or(1),
        updated: s.updated_replicas.unwrap_or(0),
        ready: s.ready_replicas.unwrap_or(0),
        available: s.available_replicas.unwrap_or(0),
    }
}

fn resource(target: &WorkloadRef) -> String {
    format!("deployments/scale in namespace {}", target.namespace)
}

/// The bounds of the autoscaling/v2 HPA whose scaleTargetRef is the
/// deployment, if any. An HPA list we may not read is not an error: the
/// preview just cannot warn about it.
async fn hpa_bounds(client: &kube::Client, target: &WorkloadRef) -> Option<HpaBounds> {
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), &target.namespace);
    let list = api.list(&Default::default()).await.ok()?;
    list.items.iter().find_map(|h| {
        let spec = &h.spec;
        let r = &spec.scale_target_ref;
        (r.kind == "Deployment" && r.name == target.deployment).then(|| HpaBounds {
            min: spec.min_replicas.unwrap_or(1),
            max: spec.max_replicas,
        })
    })
}

/// Reads the live objects and plans scaling to `replicas`.
pub async fn preview(
    client: &kube::Client,
    target: WorkloadRef,
    replicas: i64,
) -> Result<Preview, ActError> {
    let cluster = target.cluster_id.clone();
    let api: Api<Deployment> = Api::namespaced(client.clone(), &target.namespace);
    let what = format!("deployment {}/{}", target.namespace, target.deployment);
    let d = api
        .get(&target.deployment)
        .await
        .map_err(|e| from_kube(&cluster, "get", "deployments", &what, e))?;
    let progress = progress_of(&d);
    let nodes = if i64::from(progress.replicas) < replicas {
        capacity::read_capacity(client, &cluster).await?
    } else {
        Vec::new()
    };
    let inputs = ScaleInputs {
        replicas: progress.replicas,
        ready: progress.ready,
        hpa: hpa_bounds(client, &target).await,
        pod: capacity::pod_shape(&d),
        nodes,
    };
    Ok(Preview {
        plan: plan_scale(target, &inputs, replicas)?,
        resource_version: d.metadata.resource_version.clone(),
    })
}

async fn write_replicas(
    api: &Api<Deployment>,
    target: &WorkloadRef,
    replicas: i32,
    resource_version: Option<&str>,
) -> Result<(), kube::Error> {
    let mut patch = json!({ "spec": { "replicas": replicas } });
    if let Some(rv) = resource_version {
        // A merge patch carrying the version is an optimistic lock: 409 if
        // the object moved on.
        patch["metadata"] = json!({ "resourceVersion": rv });
    }
    api.patch_scale(
        &target.deployment,
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map(|_| ())
}

/// Writes the plan (after the caller's confirmation), audited before and
/// after, then follows the rollout until ready reaches the target or
/// `wait` runs out, calling `on_progress` on each change.
pub async fn execute(
    client: &kube::Client,
    store: &Store,
    actor: &Actor,
    guard: WriteGuard,
    preview: &Preview,
    wait: Duration,
    mut on_progress: impl FnMut(RolloutProgress),
) -> Result<ScaleOutcome, ActError> {
    let plan = &preview.plan;
    let t = &plan.target;
    guard.check(&format!("scaling {t}"))?;
    let target_text = format!("{}/{}/{}", t.cluster_id, t.namespace, t.deployment);
    let detail = json!({
        "cluster": t.cluster_id, "namespace": t.namespace, "deployment": t.deployment,
        "from": plan.from, "to": plan.to,
    });
    let started = audit(
        store,
        actor,
        ACTION,
        &target_text,
        detail.clone(),
        Outcome::Started,
    )?;
    let result = write_with_one_retry(client, preview).await;
    let outcome_detail = |extra: serde_json::Value| {
        let mut d = detail.clone();
        d["result"] = extra;
        d
    };
    if let Err(e) = result {
        audit(
            store,
            actor,
            ACTION,
            &target_text,
            outcome_detail(json!({ "error": e.to_string(), "kind": e.kind() })),
            Outcome::Failed,
        )?;
        return Err(e);
    }
    let (progress, settled) = follow(client, t, plan.to, wait, &mut on_progress).await;
    let done = audit(
        store,
        actor,
        ACTION,
        &target_text,
        outcome_detail(json!({ "ready": progress.ready, "settled": settled })),
        Outcome::Succeeded,
    )?;
    Ok(ScaleOutcome {
        from: plan.from,
        to: plan.to,
        progress,
        settled,
        audit_ids: vec![started, done],
    })
}

async fn write_with_one_retry(client: &kube::Client, preview: &Preview) -> Result<(), ActError> {
    let plan = &preview.plan;
    let t = &plan.target;
    let api: Api<Deployment> = Api::namespaced(client.clone(), &t.namespace);
    let what = format!("deployment {}/{}", t.namespace, t.deployment);
    let first = write_replicas(&api, t, plan.to, preview.resource_version.as_deref()).await;
    match first {
        Ok(()) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let now = api
                .get(&t.deployment)
                .await
                .map_err(|e| from_kube(&t.cluster_id, "get", "deployments", &what, e))?;
            let replicas = progress_of(&now).replicas;
            if replicas != plan.from {
                return Err(ActError::ChangedSincePreview {
                    cluster: t.cluster_id.clone(),
                    what,
                    detail: format!(
                        "it has {replicas} replicas now, the preview showed {}",
                        plan.from
                    ),
                });
            }
            write_replicas(&api, t, plan.to, now.metadata.resource_version.as_deref())
                .await
                .map_err(|e| from_kube(&t.cluster_id, "patch", &resource(t), &what, e))
        }
        Err(e) => Err(from_kube(&t.cluster_id, "patch", &resource(t), &what, e)),
    }
}

/// Polls the deployment until `ready == to` (and, scaling down, no extra
/// replicas) or `wait` passes. A read failure while following is not the
/// write failing: it ends the follow with what was last seen.
async fn follow(
    client: &kube::Client,
    t: &WorkloadRef,
    to: i32,
    wait: Duration,
    on_progress: &mut impl FnMut(RolloutProgress),
) -> (RolloutProgress, bool) {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &t.namespace);
    let deadline = tokio::time::Instant::now() + wait;
    let mut last: Option<RolloutProgress> = None;
    loop {
        let Ok(d) = api.get(&t.deployment).await else {
            return (last.unwrap_or_default(), false);
        };
        let p = progress_of(&d);
        if last != Some(p) {
            on_progress(p);
            last = Some(p);
        }
        if p.ready == to && p.available >= to.min(p.ready) {
            return (p, true);
        }
        if tokio::time::Instant::now() >= deadline {
            return (p, false);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// For callers that want to show the plan and keep the store untouched
/// when the user says no: a cancelled confirmation is audited too, so the
/// log shows the intent that was declined.
pub fn record_cancelled(store: &Store, actor: &Actor, plan: &ScalePlan) -> Result<i64, ActError> {
    let t = &plan.target;
    audit(
        store,
        actor,
        ACTION,
        &format!("{}/{}/{}", t.cluster_id, t.namespace, t.deployment),
        json!({
            "cluster": t.cluster_id, "namespace": t.namespace, "deployment": t.deployment,
            "from": plan.from, "to": plan.to,
        }),
        Outcome::Cancelled,
    )
}
