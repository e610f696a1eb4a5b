//! The deployments' `scale` subresource (autoscaling/v1 `Scale`): get,
//! update and patch, with the same resourceVersion preconditions and
//! validation as the deployment itself.

use axum::{http::StatusCode, response::Response};
use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        autoscaling::v1::{Scale, ScaleSpec, ScaleStatus},
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};

use super::{
    api::{
        decode, dry_run, invalid, not_found, object, patch_body, patch_type, precondition_of,
        update,
    },
    select::merge_patch,
    status::ApiError,
    ClusterKube, Request,
};
use crate::world::World;

type Reply = Result<Response, ApiError>;

/// The `autoscaling/v1` Scale view of a deployment.
fn scale_of(d: &Deployment) -> Scale {
    let m = &d.metadata;
    let selector = d
        .spec
        .selector
        .match_labels
        .as_ref()
        .map(|l| {
            l.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    Scale {
        metadata: ObjectMeta {
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            uid: m.uid.clone(),
            resource_version: m.resource_version.clone(),
            creation_timestamp: m.creation_timestamp.clone(),
            ..Default::default()
        },
        spec: Some(ScaleSpec {
            replicas: Some(d.spec.replicas.unwrap_or(1)),
        }),
        status: Some(ScaleStatus {
            replicas: d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0),
            selector: Some(selector),
        }),
    }
}

pub(crate) fn scale(
    ck: &ClusterKube,
    world: &World,
    verb: &str,
    ns: &str,
    name: &str,
    req: &Request,
) -> Reply {
    let mut store = ck.lock();
    let cur = store
        .deployments
        .get(ns, name)
        .cloned()
        .ok_or_else(|| not_found::<Deployment>(name))?;
    let (replicas, precondition) = match verb {
        "get" => return object(StatusCode::OK, &scale_of(&cur)),
        "update" => {
            let s: Scale = decode(&req.body)?;
            let r = s.spec.and_then(|s| s.replicas).unwrap_or(0);
            (r, s.metadata.resource_version)
        }
        "patch" => {
            let pt = patch_type(req)?;
            let patch = patch_body(req, pt)?;
            let mut doc = serde_json::to_value(scale_of(&cur))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            merge_patch(&mut doc, &patch);
            let s: Scale = serde_json::from_value(doc)
                .map_err(|e| invalid::<Deployment>(name, e.to_string()))?;
            let r = s.spec.and_then(|s| s.replicas).unwrap_or(0);
            (r, precondition_of(&patch))
        }
        _ => return Err(ApiError::MethodNotAllowed),
    };
    let mut new = (*cur).clone();
    new.spec.replicas = Some(replicas);
    let stored = update(&mut store, &cur, new, precondition, dry_run(&req.query))?;
    drop(store);
    world.workloads().wake();
    object(StatusCode::OK, &scale_of(&stored))
}
