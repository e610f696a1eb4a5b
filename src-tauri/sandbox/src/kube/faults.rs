//! Chaos faults inside a cluster, added and cleared through chaos.rs:
//!
//! - a **slow node**: its metrics.k8s.io CPU usage sits at a fraction of its
//!   allocatable CPU (near saturation), with a `NodeSlow` Warning event on
//!   the node; the node stays `Ready`. Clearing it brings usage back to the
//!   load model's, with a `NodeSlowCleared` event.
//! - a **bad rollout**: adding it changes the deployment's pod template (an
//!   annotation), which starts a rollout; every pod created for the
//!   deployment while the fault is in force crash-loops: `Running`, not
//!   Ready, `CrashLoopBackOff` with the last exit code 1, `restartCount`
//!   rising about once a second, a `BackOff` event per restart. The rolling
//!   update then stalls within maxUnavailable, so `readyReplicas` drops
//!   below the spec. Clearing it lets the crashing pods turn Ready after the
//!   readiness delay, and the rollout finishes.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use k8s_openapi::api::core::v1::{ContainerState, ContainerStateTerminated, ContainerStateWaiting};

use super::{
    controllers::{object_ref, owner_deployment, record_event, Ctx},
    pods::pod_status,
    store::{time, Due, Key, Store},
};
use crate::world::World;

/// The template annotation a bad rollout changes to start a rollout.
pub const CHAOS_ROLLOUT_ANNOTATION: &str = "sandbox.cloudops.dev/chaos-rollout";
/// How often a crash-looping container restarts.
const RESTART_EVERY: Duration = Duration::from_secs(1);

/// The kube faults in force, per cluster id, as chaos.rs last set them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct KubeFaults {
    /// cluster id -> node -> the fraction of allocatable CPU in use.
    pub slow_nodes: BTreeMap<String, BTreeMap<String, f64>>,
    /// cluster id -> deployments (namespace, name).
    pub bad_rollouts: BTreeMap<String, BTreeSet<Key>>,
}

/// Checks that a fault's target exists (generating the cluster's objects if
/// nobody asked for them yet); the error names what is missing.
pub(crate) fn check_target(
    world: &World,
    cluster_id: &str,
    node: Option<&str>,
    deployment: Option<(&str, &str)>,
) -> Result<(), String> {
    let ck = world
        .kube_cluster(cluster_id)
        .ok_or_else(|| format!("unknown cluster {cluster_id:?}"))?;
    let store = ck.lock();
    if let Some(node) = node {
        if store.nodes.get("", node).is_none() {
            return Err(format!("cluster {cluster_id:?} has no node {node:?}"));
        }
    }
    if let Some((ns, name)) = deployment {
        if store.deployments.get(ns, name).is_none() {
            return Err(format!(
                "cluster {cluster_id:?} has no deployment {name:?} in namespace {ns:?}"
            ));
        }
    }
    Ok(())
}

/// Whether a pod about to start belongs to a deployment under a bad rollout.
pub(crate) fn crashes(store: &Store, key: &Key) -> bool {
    !store.bad_rollouts.is_empty()
        && store
            .pods
            .get(&key.0, &key.1)
            .and_then(|p| owner_deployment(store, p))
            .is_some_and(|d| store.bad_rollouts.contains(&d))
}

/// A pod that will crash: its first crash comes when it would have turned
/// Ready.
pub(crate) fn schedule_crash(store: &mut Store, key: Key, ctx: &Ctx<'_>) {
    store
        .crashing
        .insert(key, ctx.clock.now + ctx.cfg.readiness_delay);
}

/// Brings one cluster's fault state to what chaos.rs set, and restarts the
/// crash-looping containers that are due.
pub(crate) fn sync(store: &mut Store, ctx: &Ctx<'_>, faults: &KubeFaults) {
    let id = &ctx.cluster.id;
    let slow = faults.slow_nodes.get(id).cloned().unwrap_or_default();
    let bad = faults.bad_rollouts.get(id).cloned().unwrap_or_default();
    if store.slow_nodes.is_empty()
        && slow.is_empty()
        && store.bad_rollouts == bad
        && store.crashing.is_empty()
    {
        return;
    }
    sync_slow_nodes(store, ctx, slow);
    for key in bad.difference(&store.bad_rollouts.clone()) {
        start_bad_rollout(store, key, ctx);
    }
    for key in store.bad_rollouts.clone().difference(&bad) {
        end_bad_rollout(store, key, ctx);
    }
    store.bad_rollouts = bad;
    let due: Vec<Key> = store
        .crashing
        .iter()
        .filter(|(_, at)| **at <= ctx.clock.now)
        .map(|(k, _)| k.clone())
        .collect();
    for key in due {
        restart(store, &key, ctx);
    }
}

fn node_event(
    store: &mut Store,
    ctx: &Ctx<'_>,
    name: &str,
    type_: &str,
    reason: &str,
    msg: String,
) {
    let Some(node) = store.nodes.get("", name).cloned() else {
        return;
    };
    record_event(
        store,
        ctx.clock.unix,
        object_ref("Node", "v1", &node.metadata),
        type_,
        reason,
        msg,
        "node-controller",
    );
}

fn sync_slow_nodes(store: &mut Store, ctx: &Ctx<'_>, slow: BTreeMap<String, f64>) {
    let old: Vec<(String, f64)> = store.slow_nodes.drain().collect();
    for (name, _) in old.iter().filter(|(n, _)| !slow.contains_key(n)) {
        node_event(
            store,
            ctx,
            name,
            "Normal",
            "NodeSlowCleared",
            format!("Node {name} is no longer saturated"),
        );
    }
    for (name, factor) in &slow {
        if !old.iter().any(|(n, f)| n == name && f == factor) {
            node_event(
                store,
                ctx,
                name,
                "Warning",
                "NodeSlow",
                format!(
                    "Node {name} is slow: CPU at {:.0}% of allocatable",
                    factor * 100.0
                ),
            );
        }
    }
    store.slow_nodes = slow.into_iter().collect();
}

/// Changes the pod template, which starts a rollout whose pods crash.
fn start_bad_rollout(store: &mut Store, key: &Key, ctx: &Ctx<'_>) {
    let Some(d) = store.deployments.get(&key.0, &key.1).cloned() else {
        return;
    };
    let mut d = (*d).clone();
    d.spec
        .template
        .metadata
        .get_or_insert_with(Default::default)
        .annotations
        .get_or_insert_with(Default::default)
        .insert(
            CHAOS_ROLLOUT_ANNOTATION.into(),
            format!("{}-{}", ctx.clock.unix, store.rv + 1),
        );
    d.metadata.generation = Some(d.metadata.generation.unwrap_or(1) + 1);
    store.put(d);
    store.dirty.insert(key.clone());
}

/// The crashing pods of the deployment turn Ready after the readiness delay.
fn end_bad_rollout(store: &mut Store, key: &Key, ctx: &Ctx<'_>) {
    let mine: Vec<Key> = store
        .crashing
        .keys()
        .filter(|k| {
            store
                .pods
                .get(&k.0, &k.1)
                .and_then(|p| owner_deployment(store, p))
                .as_ref()
                == Some(key)
        })
        .cloned()
        .collect();
    for k in mine {
        store.crashing.remove(&k);
        let due = Due(ctx.clock.now + ctx.cfg.readiness_delay);
        store.ready_queue.insert((due, k.clone()));
        store.ready_at.insert(k, due);
    }
    store.dirty.insert(key.clone());
}

/// One more crash of every container of the pod.
fn restart(store: &mut Store, key: &Key, ctx: &Ctx<'_>) {
    let Some(pod) = store.pods.get(&key.0, &key.1).cloned() else {
        store.crashing.remove(key);
        return;
    };
    let unix = ctx.clock.unix;
    let mut pod = (*pod).clone();
    let mut status = match pod.status.clone() {
        Some(s) if s.phase.as_deref() == Some("Running") => s,
        // The first crash: the pod is Running (IP and all), never Ready.
        _ => pod_status(store, &pod, true, unix),
    };
    let name = pod.metadata.name.clone().unwrap_or_default();
    let containers: Vec<String> = status
        .container_statuses
        .iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect();
    for c in status.conditions.iter_mut().flatten() {
        if (c.type_ == "Ready" || c.type_ == "ContainersReady") && c.status != "False" {
            c.status = "False".into();
            c.reason = Some("ContainersNotReady".into());
            c.message = Some(format!(
                "containers with unready status: [{}]",
                containers.join(" ")
            ));
            c.last_transition_time = Some(time(unix));
        }
    }
    let mut restarts = 0;
    for cs in status.container_statuses.iter_mut().flatten() {
        cs.ready = false;
        cs.started = Some(false);
        cs.restart_count += 1;
        restarts = restarts.max(cs.restart_count);
        let backoff = (10u64 << (cs.restart_count - 1).clamp(0, 5)).min(300);
        cs.state = Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some("CrashLoopBackOff".into()),
                message: Some(format!(
                    "back-off {backoff}s restarting failed container={} pod={name}",
                    cs.name
                )),
            }),
            ..Default::default()
        });
        cs.last_state = Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: 1,
                reason: Some("Error".into()),
                started_at: Some(time(unix)),
                finished_at: Some(time(unix)),
                container_id: cs.container_id.clone(),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    pod.status = Some(status);
    let pod = store.put(pod);
    record_event(
        store,
        unix,
        object_ref("Pod", "v1", &pod.metadata),
        "Warning",
        "BackOff",
        format!(
            "Back-off restarting failed container {} in pod {name} (restarts: {restarts})",
            containers.first().map(String::as_str).unwrap_or("app")
        ),
        "kubelet",
    );
    store
        .crashing
        .insert(key.clone(), ctx.clock.now + RESTART_EVERY);
}
