//! Rollout restart and undo (issue 6), as `kubectl rollout` does them:
//!
//! - **restart** sets the pod template annotation
//!   `kubectl.kubernetes.io/restartedAt` to now, which makes a new
//!   ReplicaSet and replaces every pod within the deployment's
//!   maxSurge/maxUnavailable;
//! - **undo** copies the template of the ReplicaSet with the previous
//!   revision back into the deployment (without its `pod-template-hash`
//!   label), which the controller then rolls out as the next revision.
//!
//! Both write with the resourceVersion of the preview's read, audited before
//! and after, then follow updated/ready/available until the rollout
//! completes or the wait runs out.

use std::time::Duration;

use cloudops_core::{audit::Outcome, plan::scale::WorkloadRef, store::Store};
use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet},
    core::v1::PodTemplateSpec,
};
use kube::{
    api::{ListParams, Patch, PatchParams},
    Api,
};
use serde::Serialize;
use serde_json::json;

use super::{audit, from_kube, ActError, Actor, WriteGuard};

pub const RESTART_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";
const REVISION: &str = "deployment.kubernetes.io/revision";
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutAction {
    Restart,
    Undo,
}

impl RolloutAction {
    pub fn audit_name(self) -> &'static str {
        match self {
            RolloutAction::Restart => "rollout_restart",
            RolloutAction::Undo => "rollout_undo",
        }
    }
}

/// What the rollout will change, for the confirmation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutPlan {
    pub target: WorkloadRef,
    pub action: RolloutAction,
    pub replicas: i32,
    /// The deployment's current revision.
    pub revision: Option<i64>,
    /// Undo only: the revision it goes back to.
    pub to_revision: Option<i64>,
    /// Container images before and after (`name=image`).
    pub images_before: Vec<String>,
    pub images_after: Vec<String>,
    pub warnings: Vec<String>,
    #[serde(skip)]
    resource_version: Option<String>,
    #[serde(skip)]
    template: Option<PodTemplateSpec>,
}

/// Where the rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RolloutStatus {
    pub replicas: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    /// `observedGeneration >= generation`: the controller has seen the
    /// change.
    pub observed: bool,
}

impl RolloutStatus {
    pub fn complete(&self) -> bool {
        self.observed
            && self.updated == self.replicas
            && self.ready == self.replicas
            && self.available == self.replicas
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolloutOutcome {
    pub status: RolloutStatus,
    pub complete: bool,
    pub audit_ids: Vec<i64>,
}

fn images(t: Option<&PodTemplateSpec>) -> Vec<String> {
    t.and_then(|t| t.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .map(|c| format!("{}={}", c.name, c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

fn revision_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<i64> {
    meta.annotations.as_ref()?.get(REVISION)?.parse().ok()
}

fn status_of(d: &Deployment) -> RolloutStatus {
    let s = d.status.clone().unwrap_or_default();
    RolloutStatus {
        replicas: d.spec.replicas.unwrap_or(1),
        updated: s.updated_replicas.unwrap_or(0),
        ready: s.ready_replicas.unwrap_or(0),
        available: s.available_replicas.unwrap_or(0),
        observed: s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0),
    }
}

/// The deployment's ReplicaSets, by the owner reference.
async fn replica_sets(
    client: &kube::Client,
    d: &Deployment,
    t: &WorkloadRef,
) -> Result<Vec<ReplicaSet>, ActError> {
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), &t.namespace);
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| from_kube(&t.cluster_id, "list", "replicasets", "its ReplicaSets", e))?;
    Ok(list
        .items
        .into_iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.uid == uid && o.kind == "Deployment")
        })
        .collect())
}

/// Reads the deployment (and, for undo, its ReplicaSets) and plans.
pub async fn preview(
    client: &kube::Client,
    target: WorkloadRef,
    action: RolloutAction,
) -> Result<RolloutPlan, ActError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &target.namespace);
    let what = format!("deployment {}/{}", target.namespace, target.deployment);
    let d = api
        .get(&target.deployment)
        .await
        .map_err(|e| from_kube(&target.cluster_id, "get", "deployments", &what, e))?;
    let revision = revision_of(&d.metadata);
    let before = images(Some(&d.spec.template));
    let mut warnings = Vec::new();
    if d.spec.paused == Some(true) {
        warnings.push("the deployment is paused: nothing rolls out until it is resumed".into());
    }
    let (to_revision, template, after) = match action {
        RolloutAction::Restart => (None, None, before.clone()),
        RolloutAction::Undo => {
            let mut older: Vec<(i64, ReplicaSet)> = replica_sets(client, &d, &target)
                .await?
                .into_iter()
                .filter_map(|rs| Some((revision_of(&rs.metadata)?, rs)))
                .filter(|(r, _)| Some(*r) != revision)
                .collect();
            older.sort_by_key(|(r, _)| std::cmp::Reverse(*r));
            let Some((prev, rs)) = older.into_iter().next() else {
                return Err(ActError::Rejected {
                    cluster: target.cluster_id.clone(),
                    what,
                    message: "there is no previous revision to go back to (the history holds \
                              only the current ReplicaSet)"
                        .into(),
                });
            };
            let mut template = rs.spec.template.unwrap_or_default();
            if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
                labels.remove(POD_TEMPLATE_HASH);
            }
            let after = images(Some(&template));
            if after == before {
                warnings.push(format!(
                    "revision {prev} runs the same images; only other template fields differ"
                ));
            }
            (Some(prev), Some(template), after)
        }
    };
    Ok(RolloutPlan {
        replicas: d.spec.replicas.unwrap_or(1),
        target,
        action,
        revision,
        to_revision,
        images_before: before,
        images_after: after,
        warnings,
        resource_version: d.metadata.resource_version.clone(),
        template,
    })
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Writes the plan (after the caller's confirmation) and follows it.
pub async fn execute(
    client: &kube::Client,
    store: &Store,
    actor: &Actor,
    guard: WriteGuard,
    plan: &RolloutPlan,
    wait: Duration,
    mut on_progress: impl FnMut(RolloutStatus),
) -> Result<RolloutOutcome, ActError> {
    let t = &plan.target;
    let action = plan.action.audit_name();
    guard.check(&format!("{action} of {t}"))?;
    let target_text = format!("{}/{}/{}", t.cluster_id, t.namespace, t.deployment);
    let detail = json!({
        "cluster": t.cluster_id, "namespace": t.namespace, "deployment": t.deployment,
        "revision": plan.revision, "to_revision": plan.to_revision,
        "images_before": plan.images_before, "images_after": plan.images_after,
    });
    let started = audit(
        store,
        actor,
        action,
        &target_text,
        detail.clone(),
        Outcome::Started,
    )?;
    let mut patch = match (plan.action, &plan.template) {
        (RolloutAction::Undo, Some(template)) => json!({ "spec": { "template": template } }),
        _ => json!({ "spec": { "template": { "metadata": { "annotations": {
            RESTART_ANNOTATION: now_rfc3339()
        } } } } }),
    };
    if let Some(rv) = &plan.resource_version {
        patch["metadata"] = json!({ "resourceVersion": rv });
    }
    let api: Api<Deployment> = Api::namespaced(client.clone(), &t.namespace);
    let what = format!("deployment {}/{}", t.namespace, t.deployment);
    // A template replace must not be merged into a changed template: on a
    // 409 the user re-previews (no silent retry for rollouts).
    let written = api
        .patch(
            &t.deployment,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .map_err(
            |e| match from_kube(&t.cluster_id, "patch", "deployments", &what, e) {
                ActError::Conflict { cluster, what, .. } => ActError::ChangedSincePreview {
                    cluster,
                    what,
                    detail: "the deployment was modified after the preview".into(),
                },
                other => other,
            },
        );
    if let Err(e) = written {
        let mut d = detail.clone();
        d["result"] = json!({ "error": e.to_string(), "kind": e.kind() });
        audit(store, actor, action, &target_text, d, Outcome::Failed)?;
        return Err(e);
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut last: Option<RolloutStatus> = None;
    let status = loop {
        let Ok(d) = api.get(&t.deployment).await else {
            break last.unwrap_or_default();
        };
        let s = status_of(&d);
        if last != Some(s) {
            on_progress(s);
            last = Some(s);
        }
        if s.complete() || tokio::time::Instant::now() >= deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let mut d = detail;
    d["result"] = json!({ "complete": status.complete(), "ready": status.ready });
    let done = audit(store, actor, action, &target_text, d, Outcome::Succeeded)?;
    Ok(RolloutOutcome {
        status,
        complete: status.complete(),
        audit_ids: vec![started, done],
    })
}
