//! The controllers of every materialized cluster, on one tokio task per
//! running sandbox: node pools to nodes (nodes.rs), deployments to
//! ReplicaSets (rolling updates with maxSurge/maxUnavailable), ReplicaSets to
//! pods, scheduling, readiness after the configured delay, and HPAs (hpa.rs).
//!
//! Work is event-driven: writes mark deployments or HPAs dirty and wake the
//! task; pods turning Ready and HPA syncs are deadlines. A tick with nothing
//! to do costs a few map lookups per cluster, and it runs at least every
//! second so that node pools changed through the provider APIs show up.

use std::{sync::Arc, time::Instant};

use k8s_openapi::{
    api::core::v1::{Event, EventSource, ObjectReference, Pod},
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
};
use tokio::sync::watch as signal;

use super::{
    deployments::reconcile_deployment,
    faults, hpa, nodes,
    pods::{promote_ready, retry_unscheduled},
    store::{time, Key, Store},
    Clock, KubeConfig, POLL,
};
use crate::world::{Cluster, World};

/// Events kept per cluster; the oldest go first (the apiserver's TTL).
const MAX_EVENTS: usize = 1000;

/// What one reconcile pass knows.
pub(crate) struct Ctx<'a> {
    /// The cluster as the world has it now (pool sizes included).
    pub cluster: &'a Cluster,
    pub seed: u64,
    pub cfg: KubeConfig,
    pub clock: Clock,
    /// Building the initial state: pods are Ready at once, no events for
    /// every pod, and HPAs wait for the first live sync.
    pub initial: bool,
}

pub(crate) async fn run(world: World, mut stop: signal::Receiver<bool>) {
    loop {
        let next = tick(&world);
        let wait = next
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(POLL)
            .min(POLL);
        tokio::select! {
            _ = stop.changed() => return,
            _ = world.workloads().wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One pass over every materialized cluster; the earliest deadline after it.
fn tick(world: &World) -> Option<Instant> {
    let cfg = world.workloads().config();
    let faults = world.workloads().faults();
    let mut next: Option<Instant> = None;
    for ck in world.workloads().materialized() {
        let Some(cluster) = world.read().cluster(&ck.cluster.id).cloned() else {
            continue;
        };
        let ctx = Ctx {
            cluster: &cluster,
            seed: ck.seed,
            cfg,
            clock: Clock::now(),
            initial: false,
        };
        let mut store = ck.lock();
        faults::sync(&mut store, &ctx, &faults);
        let n = reconcile(&mut store, &ctx);
        drop(store);
        next = match (next, n) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    next
}

/// Brings one cluster's objects towards their specs; returns the next
/// deadline (a pod turning Ready, an HPA sync).
pub(crate) fn reconcile(store: &mut Store, ctx: &Ctx<'_>) -> Option<Instant> {
    nodes::sync(store, ctx);
    promote_ready(store, ctx);
    if store.retry_unscheduled {
        retry_unscheduled(store, ctx);
    }
    if !ctx.initial {
        hpa::reconcile(store, ctx);
    }
    // Each deployment pass can dirty others only through pod deletions it
    // already accounted for; the bound is a guard, not a expected limit.
    let mut budget = store.dirty.len() * 4 + 16;
    while let Some(key) = store.dirty.pop_first() {
        reconcile_deployment(store, &key, ctx);
        budget -= 1;
        if budget == 0 {
            break;
        }
    }
    let ready = store.ready_queue.first().map(|(due, _)| due.0);
    match (ready, store.next_hpa_sync) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

// --- helpers shared with the API and metrics -------------------------------

fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_deref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

pub(crate) fn owner_ref(kind: &str, api_version: &str, meta: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

pub(crate) fn object_ref(kind: &str, api_version: &str, meta: &ObjectMeta) -> ObjectReference {
    ObjectReference {
        api_version: Some(api_version.into()),
        kind: Some(kind.into()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: None,
    }
}

pub(crate) fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

pub(crate) fn pod_scheduled(pod: &Pod) -> bool {
    pod.spec.as_ref().is_some_and(|s| s.node_name.is_some())
}

/// The deployment that controls a pod (through its ReplicaSet).
pub(crate) fn owner_deployment(store: &Store, pod: &Pod) -> Option<Key> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let rs_ref = controller_ref(&pod.metadata).filter(|r| r.kind == "ReplicaSet")?;
    let rs = store.replicasets.get(ns, &rs_ref.name)?;
    let d_ref = controller_ref(&rs.metadata).filter(|r| r.kind == "Deployment")?;
    Some((ns.to_string(), d_ref.name.clone()))
}

/// The pods of a deployment, through its ReplicaSets.
pub(crate) fn deployment_pods(store: &Store, ns: &str, name: &str) -> Vec<Arc<Pod>> {
    store
        .replicasets
        .owned_by(ns, name)
        .iter()
        .flat_map(|rs| store.pods.owned_by(ns, rs))
        .filter_map(|p| store.pods.get(ns, &p).cloned())
        .collect()
}

/// Records an event about `involved`, keeping at most [`MAX_EVENTS`].
pub(crate) fn record_event(
    store: &mut Store,
    unix: u64,
    involved: ObjectReference,
    type_: &str,
    reason: &str,
    message: String,
    component: &str,
) {
    let ns = involved
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let name = format!(
        "{}.{:016x}",
        involved.name.as_deref().unwrap_or("unknown"),
        store.rng.u64(..)
    );
    let uid = store.uid();
    let event = Event {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
            uid: Some(uid),
            creation_timestamp: Some(time(unix)),
            ..Default::default()
        },
        involved_object: involved,
        reason: Some(reason.into()),
        message: Some(message),
        type_: Some(type_.into()),
        count: Some(1),
        first_timestamp: Some(time(unix)),
        last_timestamp: Some(time(unix)),
        source: Some(EventSource {
            component: Some(component.into()),
            host: None,
        }),
        reporting_component: Some(component.into()),
        reporting_instance: Some(component.into()),
        ..Default::default()
    };
    store.put(event);
    store.event_order.push_back((ns, name));
    while store.event_order.len() > MAX_EVENTS {
        if let Some((ns, name)) = store.event_order.pop_front() {
            store.remove::<Event>(&ns, &name);
        }
    }
}
