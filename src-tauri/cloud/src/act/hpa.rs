//! Create or edit a deployment's HPA (autoscaling/v2), issue 6.
//!
//! [`preview`] reads the deployment and the HPA whose scaleTargetRef is it,
//! and plans the edit ([`cloudops_core::plan::hpa`]). [`execute`] creates
//! the HPA, or merge-patches the managed fields with the preview's
//! resourceVersion as an optimistic lock; a 409 is re-read once, and the
//! write retried only if the HPA still has the settings the preview showed.

use cloudops_core::{
    audit::Outcome,
    plan::{
        hpa::{plan_hpa, HpaEdit, HpaPlan, HpaSettings, PercentPolicy},
        scale::WorkloadRef,
    },
    store::Store,
};
use k8s_openapi::api::{apps::v1::Deployment, autoscaling::v2::HorizontalPodAutoscaler};
use kube::{
    api::{Patch, PatchParams, PostParams},
    Api,
};
use serde_json::json;

use super::{audit, capacity, from_kube, ActError, Actor, WriteGuard};

/// The audit action.
pub const ACTION: &str = "set_hpa";

/// A plan and the HPA version it was computed from.
#[derive(Debug, Clone)]
pub struct Preview {
    pub plan: HpaPlan,
    resource_version: Option<String>,
}

fn policy(
    rules: Option<&k8s_openapi::api::autoscaling::v2::HPAScalingRules>,
) -> Option<PercentPolicy> {
    rules?.policies.as_ref()?.iter().find_map(|p| {
        (p.type_ == "Percent").then_some(PercentPolicy {
            percent: p.value,
            period_secs: p.period_seconds,
        })
    })
}

/// The managed fields of a live HPA.
fn settings_of(h: &HorizontalPodAutoscaler) -> HpaSettings {
    let spec = &h.spec;
    let utilization = |name: &str| {
        spec.metrics.iter().flatten().find_map(|m| {
            let r = m.resource.as_ref()?;
            (r.name == name && r.target.type_ == "Utilization")
                .then_some(r.target.average_utilization)
                .flatten()
        })
    };
    let behavior = spec.behavior.as_ref();
    HpaSettings {
        min: spec.min_replicas.unwrap_or(1),
        max: spec.max_replicas,
        cpu_percent: utilization("cpu"),
        memory_percent: utilization("memory"),
        scale_up: policy(behavior.and_then(|b| b.scale_up.as_ref())),
        scale_down: policy(behavior.and_then(|b| b.scale_down.as_ref())),
        scale_down_stabilization_secs: behavior
            .and_then(|b| b.scale_down.as_ref())
            .and_then(|r| r.stabilization_window_seconds),
    }
}

/// The HPA's managed spec as JSON (the body of a create, or of a merge
/// patch: `metrics` is a list, so a patch replaces it whole).
fn spec_json(t: &WorkloadRef, s: &HpaSettings) -> serde_json::Value {
    let metric = |name: &str, pct: i32| {
        json!({ "type": "Resource", "resource": { "name": name,
            "target": { "type": "Utilization", "averageUtilization": pct } } })
    };
    let metrics: Vec<_> = [("cpu", s.cpu_percent), ("memory", s.memory_percent)]
        .into_iter()
        .filter_map(|(n, p)| p.map(|p| metric(n, p)))
        .collect();
    let rules = |p: Option<PercentPolicy>, window: Option<i32>| {
        let mut r = json!({});
        if let Some(p) = p {
            r["policies"] =
                json!([{ "type": "Percent", "value": p.percent, "periodSeconds": p.period_secs }]);
        }
        if let Some(w) = window {
            r["stabilizationWindowSeconds"] = json!(w);
        }
        r
    };
    json!({
        "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": t.deployment },
        "minReplicas": s.min,
        "maxReplicas": s.max,
        "metrics": metrics,
        "behavior": {
            "scaleUp": rules(s.scale_up, None),
            "scaleDown": rules(s.scale_down, s.scale_down_stabilization_secs),
        },
    })
}

async fn current(
    client: &kube::Client,
    t: &WorkloadRef,
) -> Result<Option<HorizontalPodAutoscaler>, ActError> {
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), &t.namespace);
    let list = api.list(&Default::default()).await.map_err(|e| {
        from_kube(
            &t.cluster_id,
            "list",
            "horizontalpodautoscalers",
            "the HPA list",
            e,
        )
    })?;
    Ok(list.items.into_iter().find(|h| {
        let r = &h.spec.scale_target_ref;
        r.kind == "Deployment" && r.name == t.deployment
    }))
}

/// Reads the deployment and its HPA and plans `edit`.
pub async fn preview(
    client: &kube::Client,
    target: WorkloadRef,
    edit: HpaEdit,
) -> Result<Preview, ActError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &target.namespace);
    let what = format!("deployment {}/{}", target.namespace, target.deployment);
    let d = api
        .get(&target.deployment)
        .await
        .map_err(|e| from_kube(&target.cluster_id, "get", "deployments", &what, e))?;
    let pod = capacity::pod_shape(&d);
    let hpa = current(client, &target).await?;
    let resource_version = hpa
        .as_ref()
        .and_then(|h| h.metadata.resource_version.clone());
    let existing = hpa
        .as_ref()
        .map(|h| (h.metadata.name.clone().unwrap_or_default(), settings_of(h)));
    let plan = plan_hpa(
        target,
        existing,
        d.spec.replicas.unwrap_or(1),
        (pod.cpu > 0.0, pod.memory > 0.0),
        edit,
    )?;
    Ok(Preview {
        plan,
        resource_version,
    })
}

/// Writes the plan (after the confirmation), audited before and after.
pub async fn execute(
    client: &kube::Client,
    store: &Store,
    actor: &Actor,
    guard: WriteGuard,
    preview: &Preview,
) -> Result<Vec<i64>, ActError> {
    let p = &preview.plan;
    let t = &p.target;
    guard.check(&format!("changing the HPA of {t}"))?;
    let target_text = format!("{}/{}/hpa/{}", t.cluster_id, t.namespace, p.name);
    let detail = json!({
        "cluster": t.cluster_id, "namespace": t.namespace, "deployment": t.deployment,
        "hpa": p.name, "action": p.action, "changes": p.changes,
    });
    let started = audit(
        store,
        actor,
        ACTION,
        &target_text,
        detail.clone(),
        Outcome::Started,
    )?;
    let result = write(client, preview).await;
    let mut out = detail;
    match result {
        Ok(()) => {
            let done = audit(store, actor, ACTION, &target_text, out, Outcome::Succeeded)?;
            Ok(vec![started, done])
        }
        Err(e) => {
            out["result"] = json!({ "error": e.to_string(), "kind": e.kind() });
            audit(store, actor, ACTION, &target_text, out, Outcome::Failed)?;
            Err(e)
        }
    }
}

async fn write(client: &kube::Client, preview: &Preview) -> Result<(), ActError> {
    let p = &preview.plan;
    let t = &p.target;
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), &t.namespace);
    let resource = format!("horizontalpodautoscalers in namespace {}", t.namespace);
    let what = format!("HPA {}/{}", t.namespace, p.name);
    let kube_err = |verb: &str, e| from_kube(&t.cluster_id, verb, &resource, &what, e);
    if p.before.is_none() {
        let body: HorizontalPodAutoscaler = serde_json::from_value(json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": { "name": p.name, "namespace": t.namespace },
            "spec": spec_json(t, &p.after),
        }))
        .map_err(|e| ActError::Rejected {
            cluster: t.cluster_id.clone(),
            what: what.clone(),
            message: e.to_string(),
        })?;
        return api
            .create(&PostParams::default(), &body)
            .await
            .map(|_| ())
            .map_err(|e| kube_err("create", e));
    }
    let patch = |rv: Option<&str>| {
        let mut body = json!({ "spec": spec_json(t, &p.after) });
        if let Some(rv) = rv {
            body["metadata"] = json!({ "resourceVersion": rv });
        }
        body
    };
    let first = api
        .patch(
            &p.name,
            &PatchParams::default(),
            &Patch::Merge(&patch(preview.resource_version.as_deref())),
        )
        .await;
    match first {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let now = current(client, t).await?;
            let still = now.as_ref().map(settings_of);
            if still != p.before {
                return Err(ActError::ChangedSincePreview {
                    cluster: t.cluster_id.clone(),
                    what,
                    detail: "its settings differ from the preview's".into(),
                });
            }
            let rv = now.and_then(|h| h.metadata.resource_version);
            api.patch(
                &p.name,
                &PatchParams::default(),
                &Patch::Merge(&patch(rv.as_deref())),
            )
            .await
            .map(|_| ())
            .map_err(|e| kube_err("patch", e))
        }
        Err(e) => Err(kube_err("patch", e)),
    }
}
