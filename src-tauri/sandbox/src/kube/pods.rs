//! Pods: created by ReplicaSets, bound by the scheduler (nodes.rs), Ready
//! after the configured readiness delay, and deleted with their bookkeeping
//! (node usage, the readiness queue, the unscheduled set).

use std::sync::Arc;

use k8s_openapi::{
    api::{
        apps::v1::ReplicaSet,
        core::v1::{
            ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, Pod,
            PodCondition, PodIP, PodStatus,
        },
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};

use super::{
    controllers::{object_ref, owner_deployment, owner_ref, record_event, Ctx},
    faults,
    metrics::requests_of,
    nodes,
    store::{time, Due, Key, Store, Usage},
};

fn condition(type_: &str, ok: bool, reason: Option<&str>, unix: u64) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        reason: reason.map(Into::into),
        last_transition_time: Some(time(unix)),
        ..Default::default()
    }
}

fn unschedulable_message(store: &Store) -> String {
    format!(
        "0/{} nodes are available: Insufficient cpu or memory.",
        store.nodes.len()
    )
}

fn node_ip(store: &Store, node: &str) -> Option<String> {
    store
        .nodes
        .get("", node)?
        .status
        .as_ref()?
        .addresses
        .as_ref()?
        .iter()
        .find(|a| a.type_ == "InternalIP")
        .map(|a| a.address.clone())
}

/// The status of a pod: unschedulable, starting (scheduled, not Ready) or
/// running and Ready.
pub(crate) fn pod_status(store: &mut Store, pod: &Pod, ready: bool, unix: u64) -> PodStatus {
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    let Some(node) = node else {
        return PodStatus {
            phase: Some("Pending".into()),
            conditions: Some(vec![PodCondition {
                message: Some(unschedulable_message(store)),
                ..condition("PodScheduled", false, Some("Unschedulable"), unix)
            }]),
            qos_class: Some("Burstable".into()),
            ..Default::default()
        };
    };
    let pod_ip = ready.then(|| {
        store.next_ip += 1;
        let n = store.next_ip;
        format!(
            "10.{}.{}.{}",
            100 + (n >> 16) % 100,
            (n >> 8) & 0xff,
            n & 0xff
        )
    });
    let started = ready.then(|| time(unix));
    PodStatus {
        phase: Some(if ready { "Running" } else { "Pending" }.into()),
        conditions: Some(vec![
            condition("PodReadyToStartContainers", ready, None, unix),
            condition("Initialized", true, None, unix),
            condition(
                "Ready",
                ready,
                (!ready).then_some("ContainersNotReady"),
                unix,
            ),
            condition(
                "ContainersReady",
                ready,
                (!ready).then_some("ContainersNotReady"),
                unix,
            ),
            condition("PodScheduled", true, None, unix),
        ]),
        container_statuses: Some(
            containers
                .iter()
                .map(|c| ContainerStatus {
                    name: c.name.clone(),
                    image: c.image.clone().unwrap_or_default(),
                    image_id: String::new(),
                    ready,
                    started: Some(ready),
                    restart_count: 0,
                    state: Some(if ready {
                        ContainerState {
                            running: Some(ContainerStateRunning {
                                started_at: started.clone(),
                            }),
                            ..Default::default()
                        }
                    } else {
                        ContainerState {
                            waiting: Some(ContainerStateWaiting {
                                reason: Some("ContainerCreating".into()),
                                message: None,
                            }),
                            ..Default::default()
                        }
                    }),
                    ..Default::default()
                })
                .collect(),
        ),
        host_ip: node_ip(store, &node),
        pod_ip: pod_ip.clone(),
        pod_ips: pod_ip.map(|ip| vec![PodIP { ip }]),
        qos_class: Some("Burstable".into()),
        start_time: Some(time(unix)),
        ..Default::default()
    }
}

fn bind(store: &mut Store, node: &str, req: Usage) {
    let u = store.usage.entry(node.to_string()).or_default();
    u.cpu_milli += req.cpu_milli;
    u.memory += req.memory;
    u.pods += 1;
}

fn usage_of(pod: &Pod) -> Usage {
    let r = requests_of(pod.spec.as_ref());
    Usage {
        cpu_milli: r.cpu_milli.round() as i64,
        memory: r.memory.round() as i64,
        pods: 1,
    }
}

/// After binding: Ready now (initial state) or after the readiness delay.
fn start(store: &mut Store, key: Key, ctx: &Ctx<'_>) {
    if !ctx.initial && faults::crashes(store, &key) {
        faults::schedule_crash(store, key, ctx);
    } else if ctx.initial {
        make_ready(store, &key, ctx);
    } else {
        let due = Due(ctx.clock.now + ctx.cfg.readiness_delay);
        store.ready_queue.insert((due, key.clone()));
        store.ready_at.insert(key, due);
    }
}

pub(crate) fn create_pod(store: &mut Store, rs: &ReplicaSet, ctx: &Ctx<'_>) {
    let ns = rs.metadata.namespace.clone().unwrap_or_default();
    let rs_name = rs.metadata.name.clone().unwrap_or_default();
    let mut name = format!("{rs_name}-{}", store.suffix(5));
    while store.pods.get(&ns, &name).is_some() {
        name = format!("{rs_name}-{}", store.suffix(5));
    }
    let template = rs.spec.template.clone().unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".into());
    spec.service_account_name
        .get_or_insert_with(|| "default".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    let uid = store.uid();
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
            uid: Some(uid),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            owner_references: Some(vec![owner_ref("ReplicaSet", "apps/v1", &rs.metadata)]),
            creation_timestamp: Some(time(ctx.clock.unix)),
            generation: Some(1),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    };
    let req = usage_of(&pod);
    let node = nodes::schedule(store, &requests_of(pod.spec.as_ref()));
    if let (Some(node), Some(spec)) = (&node, pod.spec.as_mut()) {
        spec.node_name = Some(node.clone());
        bind(store, node, req);
    }
    pod.status = Some(pod_status(store, &pod, false, ctx.clock.unix));
    let key = (ns, name.clone());
    let pod = store.put(pod);
    if !ctx.initial {
        record_event(
            store,
            ctx.clock.unix,
            object_ref("ReplicaSet", "apps/v1", &rs.metadata),
            "Normal",
            "SuccessfulCreate",
            format!("Created pod: {name}"),
            "replicaset-controller",
        );
    }
    match node {
        Some(_) => start(store, key, ctx),
        None => {
            store.unscheduled.insert(key);
            record_event(
                store,
                ctx.clock.unix,
                object_ref("Pod", "v1", &pod.metadata),
                "Warning",
                "FailedScheduling",
                unschedulable_message(store),
                "default-scheduler",
            );
        }
    }
}

fn make_ready(store: &mut Store, key: &Key, ctx: &Ctx<'_>) {
    let Some(pod) = store.pods.get(&key.0, &key.1).cloned() else {
        return;
    };
    let mut pod = (*pod).clone();
    pod.status = Some(pod_status(store, &pod, true, ctx.clock.unix));
    if let Some(d) = owner_deployment(store, &pod) {
        store.dirty.insert(d);
    }
    store.put(pod);
}

pub(crate) fn promote_ready(store: &mut Store, ctx: &Ctx<'_>) {
    while let Some((due, key)) = store.ready_queue.first().cloned() {
        if due.0 > ctx.clock.now {
            break;
        }
        store.ready_queue.remove(&(due, key.clone()));
        store.ready_at.remove(&key);
        make_ready(store, &key, ctx);
    }
}

pub(crate) fn retry_unscheduled(store: &mut Store, ctx: &Ctx<'_>) {
    store.retry_unscheduled = false;
    let waiting: Vec<Key> = store.unscheduled.iter().cloned().collect();
    for key in waiting {
        let Some(pod) = store.pods.get(&key.0, &key.1).cloned() else {
            store.unscheduled.remove(&key);
            continue;
        };
        let Some(node) = nodes::schedule(store, &requests_of(pod.spec.as_ref())) else {
            continue;
        };
        let mut pod = (*pod).clone();
        if let Some(spec) = pod.spec.as_mut() {
            spec.node_name = Some(node.clone());
        }
        bind(store, &node, usage_of(&pod));
        pod.status = Some(pod_status(store, &pod, false, ctx.clock.unix));
        store.put(pod);
        store.unscheduled.remove(&key);
        start(store, key, ctx);
    }
}

/// Deletes a pod and its bookkeeping; its deployment will replace it.
pub(crate) fn delete_pod(store: &mut Store, key: &Key) -> Option<Arc<Pod>> {
    let pod = store.pods.get(&key.0, &key.1)?.clone();
    if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
        let req = usage_of(&pod);
        if let Some(u) = store.usage.get_mut(node) {
            u.cpu_milli -= req.cpu_milli;
            u.memory -= req.memory;
            u.pods -= 1;
        }
        store.retry_unscheduled = true;
    }
    if let Some(due) = store.ready_at.remove(key) {
        store.ready_queue.remove(&(due, key.clone()));
    }
    store.unscheduled.remove(key);
    store.crashing.remove(key);
    if let Some(d) = owner_deployment(store, &pod) {
        store.dirty.insert(d);
    }
    store.remove::<Pod>(&key.0, &key.1)
}
