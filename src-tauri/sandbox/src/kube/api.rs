//! The resource verbs: list, get, watch (watch.rs), create, update (PUT),
//! patch and delete, and the routing to the `scale` subresource (scale.rs).

use std::{collections::HashMap, sync::Arc};

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, StatusCode},
    response::Response,
};
use base64::Engine as _;
use k8s_openapi::{
    api::{
        apps::v1::{Deployment, ReplicaSet},
        autoscaling::v2::HorizontalPodAutoscaler,
        core::v1::{Event, Namespace, Node, Pod},
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
    serde::Serialize,
};
use serde_json::Value;
use tokio::sync::watch as signal;

use super::{
    deployments, logs, pods, scale,
    select::{merge_patch, FieldSelector, LabelSelector, Selectors},
    status::{self, ApiError},
    store::{key_of, time, unix_now, Key, Object, Res, Store},
    watch, ClusterKube, Request,
};
use crate::world::World;

type Reply = Result<Response, ApiError>;

/// Where a resource path points.
struct Target {
    res: Res,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

fn parse_target(group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let owned = |s: Option<&&str>| s.map(|s| s.to_string());
    let (ns, plural, tail) = match rest {
        ["namespaces", ns, plural, tail @ ..] => (Some(ns.to_string()), *plural, tail),
        [plural, tail @ ..] => (None, *plural, tail),
        [] => return Err(ApiError::NoRoute),
    };
    if tail.len() > 2 {
        return Err(ApiError::NoRoute);
    }
    let res = Res::lookup(group, version, plural).ok_or(ApiError::NoRoute)?;
    // Namespaced objects are addressed inside their namespace; only their
    // lists may span all namespaces.
    if ns.is_some() && !res.namespaced() || ns.is_none() && res.namespaced() && !tail.is_empty() {
        return Err(ApiError::NoRoute);
    }
    Ok(Target {
        res,
        ns,
        name: owned(tail.first()),
        sub: owned(tail.get(1)),
    })
}

/// Runs `$body` with `K` bound to the Rust type of `$res`.
macro_rules! with_type {
    ($res:expr, $k:ident => $body:expr) => {
        match $res {
            Res::Namespaces => {
                type $k = Namespace;
                $body
            }
            Res::Nodes => {
                type $k = Node;
                $body
            }
            Res::Pods => {
                type $k = Pod;
                $body
            }
            Res::Events => {
                type $k = Event;
                $body
            }
            Res::Deployments => {
                type $k = Deployment;
                $body
            }
            Res::ReplicaSets => {
                type $k = ReplicaSet;
                $body
            }
            Res::Hpas => {
                type $k = HorizontalPodAutoscaler;
                $body
            }
        }
    };
}

/// Runs `$body` with `K` bound to the type of a writable `$res`.
macro_rules! with_writable {
    ($res:expr, $k:ident => $body:expr) => {
        match $res {
            Res::Deployments => {
                type $k = Deployment;
                $body
            }
            Res::Hpas => {
                type $k = HorizontalPodAutoscaler;
                $body
            }
            Res::Pods => {
                type $k = Pod;
                $body
            }
            _ => Err(ApiError::MethodNotAllowed),
        }
    };
}

pub(crate) fn resource(
    ck: Arc<ClusterKube>,
    stop: signal::Receiver<bool>,
    world: &World,
    group: &str,
    version: &str,
    rest: &[&str],
    req: Request,
) -> Reply {
    let t = parse_target(group, version, rest)?;
    let verb = match (&req.method, &t.name) {
        (&Method::GET, None) if is_watch(&req.query) => "watch",
        (&Method::GET, None) => "list",
        (&Method::GET, Some(_)) => "get",
        (&Method::POST, None) => "create",
        (&Method::PUT, Some(_)) => "update",
        (&Method::PATCH, Some(_)) => "patch",
        (&Method::DELETE, Some(_)) => "delete",
        _ => return Err(ApiError::MethodNotAllowed),
    };
    if let Some(sub) = &t.sub {
        return match (t.res, sub.as_str(), &t.ns, &t.name) {
            (Res::Deployments, "scale", Some(ns), Some(name)) => {
                scale::scale(&ck, world, verb, ns, name, &req)
            }
            (Res::Pods, "log", Some(ns), Some(name)) if verb == "get" => {
                logs::serve(ck.clone(), ns, name, &req.query, stop)
            }
            _ => Err(ApiError::NoRoute),
        };
    }
    if !t.res.allows(verb) {
        return Err(ApiError::MethodNotAllowed);
    }
    let ns = t.ns.as_deref();
    let name = t.name.as_deref().unwrap_or("");
    let result = match verb {
        "list" => with_type!(t.res, K => list::<K>(&ck, ns, &req)),
        "watch" => with_type!(t.res, K => {
            let sel = selectors::<K>(&req.query)?;
            watch::watch::<K>(ck.clone(), ns.map(str::to_string), sel, &req.query, stop)
        }),
        "get" => with_type!(t.res, K => get::<K>(&ck, ns.unwrap_or(""), name)),
        "create" => with_writable!(t.res, K => create::<K>(&ck, ns.unwrap_or(""), &req)),
        "update" => with_writable!(t.res, K => replace::<K>(&ck, ns.unwrap_or(""), name, &req)),
        "patch" => with_writable!(t.res, K => patch::<K>(&ck, ns.unwrap_or(""), name, &req)),
        "delete" => with_writable!(t.res, K => delete::<K>(&ck, ns.unwrap_or(""), name, &req)),
        _ => Err(ApiError::MethodNotAllowed),
    };
    if matches!(verb, "create" | "update" | "patch" | "delete") {
        world.workloads().wake();
    }
    result
}

fn is_watch(q: &HashMap<String, String>) -> bool {
    matches!(q.get("watch").map(String::as_str), Some("true" | "1"))
}

fn selectors<K: Object>(q: &HashMap<String, String>) -> Result<Selectors, ApiError> {
    Ok(Selectors {
        labels: match q.get("labelSelector") {
            Some(s) => LabelSelector::parse(s)?,
            None => LabelSelector::default(),
        },
        fields: match q.get("fieldSelector") {
            Some(s) => FieldSelector::parse::<K>(s, K::RES.plural())?,
            None => FieldSelector::default(),
        },
    })
}

pub(crate) fn dry_run(q: &HashMap<String, String>) -> bool {
    q.get("dryRun").is_some_and(|v| v == "All")
}

pub(crate) fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

pub(crate) fn object<T: Serialize>(status: StatusCode, obj: &T) -> Reply {
    let body = serde_json::to_vec(obj).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(json_bytes(status, body))
}

pub(crate) fn not_found<K: Object>(name: &str) -> ApiError {
    ApiError::NotFound {
        resource: K::RES.group_resource(),
        name: name.to_string(),
    }
}

/// `continue` tokens: opaque to clients, the last key served to us.
fn encode_continue(key: &Key) -> String {
    let raw = format!("{}\n{}", key.0, key.1);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> Result<Key, ApiError> {
    let bad = || ApiError::BadRequest("continue key is not valid".into());
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (ns, name) = raw.split_once('\n').ok_or_else(bad)?;
    Ok((ns.to_string(), name.to_string()))
}

/// A list, paged with `limit`/`continue`. Continuation resumes after the last
/// key in the *current* state (the apiserver serves a snapshot; the sandbox
/// keeps no old versions), which is what paging clients need.
fn list<K: Object>(ck: &ClusterKube, ns: Option<&str>, req: &Request) -> Reply {
    let sel = selectors::<K>(&req.query)?;
    let limit = match req.query.get("limit") {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| ApiError::BadRequest(format!("invalid limit: {l:?}")))?,
        None => 0,
    };
    let after = req
        .query
        .get("continue")
        .filter(|c| !c.is_empty())
        .map(|c| decode_continue(c))
        .transpose()?;
    let filtered = !sel.labels.eq(&LabelSelector::default()) || !sel.fields.eq(&Default::default());
    let (items, rv, next, remaining) = {
        let store = ck.lock();
        let mut iter = K::table(&store)
            .range(ns, after.as_ref())
            .filter(|(_, o)| sel.matches(o.as_ref()));
        let mut items: Vec<Arc<K>> = Vec::new();
        let mut last = None;
        for (key, obj) in iter.by_ref() {
            items.push(obj.clone());
            last = Some(key.clone());
            if limit > 0 && items.len() == limit {
                break;
            }
        }
        let mut rest = iter.peekable();
        let more = limit > 0 && rest.peek().is_some();
        let next = if more {
            last.map(|k| encode_continue(&k))
        } else {
            None
        };
        // The apiserver gives a count only for unfiltered lists.
        let remaining = (more && !filtered).then(|| rest.count() as i64);
        (items, store.rv, next, remaining)
    };
    // Serialized after the lock is released, straight into one buffer.
    let mut buf = Vec::with_capacity(64 + items.len() * 1024);
    let meta = serde_json::json!({
        "resourceVersion": rv.to_string(),
        "continue": next,
        "remainingItemCount": remaining,
    });
    let meta: serde_json::Map<String, Value> = match meta {
        Value::Object(m) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => Default::default(),
    };
    let head =
        serde_json::json!({"apiVersion": K::API_VERSION, "kind": K::LIST_KIND, "metadata": meta});
    let head = serde_json::to_vec(&head).map_err(|e| ApiError::Internal(e.to_string()))?;
    // `{...}` without its closing brace, then the items.
    buf.extend_from_slice(&head[..head.len() - 1]);
    buf.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        serde_json::to_writer(&mut buf, item.as_ref())
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    buf.extend_from_slice(b"]}");
    Ok(json_bytes(StatusCode::OK, buf))
}

fn get<K: Object>(ck: &ClusterKube, ns: &str, name: &str) -> Reply {
    let obj = K::table(&ck.lock())
        .get(ns, name)
        .cloned()
        .ok_or_else(|| not_found::<K>(name))?;
    object(StatusCode::OK, obj.as_ref())
}

/// The most replicas the sandbox holds for one workload: every pod is an
/// object in memory, so a typo'd `replicas: 1000000000` must not take the
/// process down. Far above the 30k-pod clusters it is meant to carry.
pub(crate) const MAX_REPLICAS: i32 = 100_000;

fn replicas_ok(field: &str, n: i32) -> Result<(), String> {
    if n < 0 {
        Err(format!(
            "{field}: Invalid value: {n}: must be greater than or equal to 0"
        ))
    } else if n > MAX_REPLICAS {
        Err(format!(
            "{field}: Invalid value: {n}: the sandbox allows at most {MAX_REPLICAS}"
        ))
    } else {
        Ok(())
    }
}

/// What the write verbs need beyond [`Object`].
pub(crate) trait Writable: Object {
    /// Status is the controllers' to write: writes to the main resource
    /// keep the stored status.
    fn keep_status(&mut self, old: &Self);
    fn clear_status(&mut self);
    /// Whether the spec differs (the `metadata.generation` bump).
    fn spec_differs(&self, old: &Self) -> bool;
    fn validate(&self, old: Option<&Self>) -> Result<(), String>;
    /// Tells the controllers about a committed write.
    fn written(store: &mut Store, key: Key);
    /// Removes the object and whatever it owns.
    fn delete(store: &mut Store, key: &Key) -> Option<Arc<Self>>;
}

impl Writable for Deployment {
    fn keep_status(&mut self, old: &Self) {
        self.status = old.status.clone();
    }
    fn clear_status(&mut self) {
        self.status = None;
    }
    fn spec_differs(&self, old: &Self) -> bool {
        self.spec != old.spec
    }
    fn validate(&self, old: Option<&Self>) -> Result<(), String> {
        replicas_ok("spec.replicas", self.spec.replicas.unwrap_or(1))?;
        if let Some(old) = old {
            if old.spec.selector != self.spec.selector {
                return Err("spec.selector: Invalid value: field is immutable".into());
            }
        }
        let sel = self.spec.selector.match_labels.clone().unwrap_or_default();
        if sel.is_empty() {
            return Err(
                "spec.selector: Invalid value: empty selector is invalid for deployment".into(),
            );
        }
        let labels = self
            .spec
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        if sel.iter().any(|(k, v)| labels.get(k) != Some(v)) {
            return Err("spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`".into());
        }
        if self
            .spec
            .template
            .spec
            .as_ref()
            .is_none_or(|s| s.containers.is_empty())
        {
            return Err("spec.template.spec.containers: Required value".into());
        }
        Ok(())
    }
    fn written(store: &mut Store, key: Key) {
        store.dirty.insert(key);
    }
    fn delete(store: &mut Store, key: &Key) -> Option<Arc<Self>> {
        deployments::delete_deployment(store, key)
    }
}

impl Writable for HorizontalPodAutoscaler {
    fn keep_status(&mut self, old: &Self) {
        self.status = old.status.clone();
    }
    fn clear_status(&mut self) {
        self.status = None;
    }
    fn spec_differs(&self, old: &Self) -> bool {
        self.spec != old.spec
    }
    fn validate(&self, _old: Option<&Self>) -> Result<(), String> {
        let s = &self.spec;
        replicas_ok("spec.maxReplicas", s.max_replicas)?;
        if s.max_replicas < 1 {
            return Err(
                "spec.maxReplicas: Invalid value: must be greater than or equal to 1".into(),
            );
        }
        let min = s.min_replicas.unwrap_or(1);
        if min < 1 {
            return Err(
                "spec.minReplicas: Invalid value: must be greater than or equal to 1".into(),
            );
        }
        if min > s.max_replicas {
            return Err(
                "spec.maxReplicas: Invalid value: must be greater than or equal to `minReplicas`"
                    .into(),
            );
        }
        if s.scale_target_ref.name.is_empty() || s.scale_target_ref.kind.is_empty() {
            return Err("spec.scaleTargetRef: Required value".into());
        }
        Ok(())
    }
    fn written(store: &mut Store, key: Key) {
        store.dirty_hpas.insert(key);
    }
    fn delete(store: &mut Store, key: &Key) -> Option<Arc<Self>> {
        store.remove::<Self>(&key.0, &key.1)
    }
}

impl Writable for Pod {
    fn keep_status(&mut self, old: &Self) {
        self.status = old.status.clone();
    }
    fn clear_status(&mut self) {
        self.status = None;
    }
    fn spec_differs(&self, old: &Self) -> bool {
        self.spec != old.spec
    }
    fn validate(&self, _old: Option<&Self>) -> Result<(), String> {
        // Pods are only deleted through the API (the verbs table).
        Ok(())
    }
    fn written(_store: &mut Store, _key: Key) {}
    fn delete(store: &mut Store, key: &Key) -> Option<Arc<Self>> {
        pods::delete_pod(store, key)
    }
}

pub(crate) fn invalid<K: Object>(name: &str, message: String) -> ApiError {
    ApiError::Invalid {
        resource: K::RES.group_resource(),
        name: name.to_string(),
        message,
    }
}

pub(crate) fn decode<K: k8s_openapi::Resource + serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<K, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body of the request could not be decoded as a {}: {e}",
            K::KIND
        ))
    })
}

/// Creates `obj` in `ns`: the common tail of POST and of an apply patch on a
/// missing object.
fn insert_new<K: Writable>(ck: &ClusterKube, ns: &str, mut obj: K, dry: bool) -> Reply {
    let meta = obj.metadata_mut();
    if K::RES.namespaced() {
        match meta.namespace.as_deref() {
            None | Some("") => meta.namespace = Some(ns.to_string()),
            Some(n) if n == ns => {}
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request".into(),
                ))
            }
        }
    }
    let mut store = ck.lock();
    if obj.metadata().name.as_deref().unwrap_or("").is_empty() {
        let prefix = obj.metadata().generate_name.clone().unwrap_or_default();
        if prefix.is_empty() {
            return Err(invalid::<K>(
                "",
                "metadata.name: Required value: name or generateName is required".into(),
            ));
        }
        let name = format!("{prefix}{}", store.suffix(5));
        obj.metadata_mut().name = Some(name);
    }
    let name = obj.metadata().name.clone().unwrap_or_default();
    if K::RES.namespaced() && store.namespaces.get("", ns).is_none() {
        return Err(ApiError::NotFound {
            resource: "namespaces".into(),
            name: ns.to_string(),
        });
    }
    if K::table(&store).get(ns, &name).is_some() {
        return Err(ApiError::AlreadyExists {
            resource: K::RES.group_resource(),
            name,
        });
    }
    obj.validate(None).map_err(|m| invalid::<K>(&name, m))?;
    let uid = store.uid();
    let meta = obj.metadata_mut();
    meta.uid = Some(uid);
    meta.creation_timestamp = Some(time(unix_now()));
    meta.generation = Some(1);
    meta.resource_version = None;
    meta.deletion_timestamp = None;
    // Status is the controllers' to write.
    obj.clear_status();
    if dry {
        return object(StatusCode::CREATED, &obj);
    }
    let key = key_of(obj.metadata());
    let stored = store.put(obj);
    K::written(&mut store, key);
    object(StatusCode::CREATED, stored.as_ref())
}

fn create<K: Writable>(ck: &ClusterKube, ns: &str, req: &Request) -> Reply {
    let obj: K = decode(&req.body)?;
    insert_new(ck, ns, obj, dry_run(&req.query))
}

/// Commits `new` over `old` (PUT and PATCH): identity and status from the
/// stored object, the precondition on `metadata.resourceVersion`, the
/// generation bump, validation.
pub(crate) fn update<K: Writable>(
    store: &mut Store,
    old: &Arc<K>,
    mut new: K,
    precondition: Option<String>,
    dry: bool,
) -> Result<Arc<K>, ApiError> {
    let om = old.metadata();
    let name = om.name.clone().unwrap_or_default();
    if let Some(rv) = precondition.filter(|rv| !rv.is_empty()) {
        if Some(&rv) != om.resource_version.as_ref() {
            return Err(ApiError::Conflict {
                resource: K::RES.group_resource(),
                name,
            });
        }
    }
    let nm = new.metadata();
    if nm.name.as_deref().is_some_and(|n| n != name) {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            nm.name.as_deref().unwrap_or("")
        )));
    }
    if nm
        .namespace
        .as_deref()
        .is_some_and(|n| !n.is_empty() && Some(n) != om.namespace.as_deref())
    {
        return Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
        ));
    }
    new.validate(Some(old))
        .map_err(|m| invalid::<K>(&name, m))?;
    new.keep_status(old);
    let generation = om.generation.unwrap_or(1) + i64::from(new.spec_differs(old));
    let meta: &mut ObjectMeta = new.metadata_mut();
    meta.name = om.name.clone();
    meta.namespace = om.namespace.clone();
    meta.uid = om.uid.clone();
    meta.creation_timestamp = om.creation_timestamp.clone();
    meta.generation = om.generation.map(|_| generation);
    meta.resource_version = om.resource_version.clone();
    if new == **old || dry {
        // A no-op write keeps the version, as the apiserver does.
        return Ok(if dry { Arc::new(new) } else { old.clone() });
    }
    let key = key_of(new.metadata());
    let stored = store.put(new);
    K::written(store, key);
    Ok(stored)
}

fn replace<K: Writable>(ck: &ClusterKube, ns: &str, name: &str, req: &Request) -> Reply {
    let new: K = decode(&req.body)?;
    let precondition = new.metadata().resource_version.clone();
    let mut store = ck.lock();
    let old = K::table(&store)
        .get(ns, name)
        .cloned()
        .ok_or_else(|| not_found::<K>(name))?;
    let stored = update(&mut store, &old, new, precondition, dry_run(&req.query))?;
    object(StatusCode::OK, stored.as_ref())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchType {
    Merge,
    Apply,
}

pub(crate) fn patch_type(req: &Request) -> Result<PatchType, ApiError> {
    const ACCEPTED: &str = "application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml";
    let ct = req
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    match mime {
        // Strategic merge agrees with merge patch on the fields the product
        // patches (scalars and maps; no keyed lists).
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            Ok(PatchType::Merge)
        }
        "application/apply-patch+yaml" => Ok(PatchType::Apply),
        _ => Err(ApiError::UnsupportedMediaType(ACCEPTED)),
    }
}

pub(crate) fn patch_body(req: &Request, pt: PatchType) -> Result<Value, ApiError> {
    serde_json::from_slice(&req.body).map_err(|e| {
        ApiError::BadRequest(match pt {
            // kube sends apply patches as JSON, which is YAML too.
            PatchType::Apply => format!("the sandbox accepts apply patches in JSON form only: {e}"),
            PatchType::Merge => format!("error decoding patch: {e}"),
        })
    })
}

pub(crate) fn precondition_of(patch: &Value) -> Option<String> {
    patch
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn patch<K: Writable>(ck: &ClusterKube, ns: &str, name: &str, req: &Request) -> Reply {
    let pt = patch_type(req)?;
    let patch = patch_body(req, pt)?;
    if !patch.is_object() {
        return Err(ApiError::BadRequest("a patch must be a JSON object".into()));
    }
    let dry = dry_run(&req.query);
    let mut store = ck.lock();
    let Some(old) = K::table(&store).get(ns, name).cloned() else {
        // Server-side apply creates what is missing.
        if pt == PatchType::Apply {
            drop(store);
            let mut obj: K =
                serde_json::from_value(patch).map_err(|e| ApiError::BadRequest(e.to_string()))?;
            obj.metadata_mut().name = Some(name.to_string());
            return insert_new(ck, ns, obj, dry);
        }
        return Err(not_found::<K>(name));
    };
    // Merged under the lock: one object's round trip through JSON, and no
    // write can slip in between the merge base and the commit.
    let mut doc =
        serde_json::to_value(old.as_ref()).map_err(|e| ApiError::Internal(e.to_string()))?;
    merge_patch(&mut doc, &patch);
    let new: K = serde_json::from_value(doc).map_err(|e| invalid::<K>(name, e.to_string()))?;
    let stored = update(&mut store, &old, new, precondition_of(&patch), dry)?;
    object(StatusCode::OK, stored.as_ref())
}

fn delete<K: Writable>(ck: &ClusterKube, ns: &str, name: &str, req: &Request) -> Reply {
    let mut store = ck.lock();
    let key = (ns.to_string(), name.to_string());
    let cur = K::table(&store)
        .get(ns, name)
        .cloned()
        .ok_or_else(|| not_found::<K>(name))?;
    let uid = cur.metadata().uid.clone();
    if !dry_run(&req.query) {
        K::delete(&mut store, &key);
    }
    object(StatusCode::OK, &status::success(K::RES.plural(), name, uid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let k = ("shop".to_string(), "checkout-1".to_string());
        assert_eq!(decode_continue(&encode_continue(&k)).unwrap(), k);
        assert!(decode_continue("!!").is_err());
    }

    #[test]
    fn paths_resolve_like_the_apiserver() {
        let t = parse_target("", "v1", &["namespaces", "shop", "pods", "p1"]).unwrap();
        assert_eq!(
            (t.res, t.ns.as_deref(), t.name.as_deref()),
            (Res::Pods, Some("shop"), Some("p1"))
        );
        let t = parse_target("", "v1", &["namespaces", "shop"]).unwrap();
        assert_eq!((t.res, t.name.as_deref()), (Res::Namespaces, Some("shop")));
        assert!(parse_target("", "v1", &["pods", "p1"]).is_err());
        assert!(parse_target("", "v1", &["namespaces", "x", "nodes"]).is_err());
        assert!(parse_target("apps", "v1", &["widgets"]).is_err());
        let t = parse_target(
            "apps",
            "v1",
            &["namespaces", "a", "deployments", "d", "scale"],
        )
        .unwrap();
        assert_eq!(t.sub.as_deref(), Some("scale"));
    }
}
