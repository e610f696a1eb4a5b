//! The deployment controller: a ReplicaSet per pod template (named by the
//! `pod-template-hash`), rolling updates within maxSurge/maxUnavailable (or
//! Recreate), rollbacks to an older template, the revision history, and the
//! deployment status that `kubectl rollout status` reads.

use std::{cmp::Reverse, collections::BTreeMap, sync::Arc};

use k8s_openapi::{
    api::{
        apps::v1::{
            Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
            ReplicaSetStatus,
        },
        core::v1::Pod,
    },
    apimachinery::pkg::{
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};

use super::{
    controllers::{object_ref, owner_ref, pod_ready, pod_scheduled, record_event, Ctx},
    metrics::fnv,
    pods::{create_pod, delete_pod},
    store::{key_of, time, Key, Store},
};

pub(crate) const POD_TEMPLATE_HASH: &str = "pod-template-hash";
pub(crate) const REVISION: &str = "deployment.kubernetes.io/revision";

/// Deletes a deployment with its ReplicaSets and pods (the garbage
/// collector's background propagation, done at once).
pub(crate) fn delete_deployment(store: &mut Store, key: &Key) -> Option<Arc<Deployment>> {
    let (ns, name) = key;
    for rs in store.replicasets.owned_by(ns, name) {
        for pod in store.pods.owned_by(ns, &rs) {
            delete_pod(store, &(ns.clone(), pod));
        }
        store.remove::<ReplicaSet>(ns, &rs);
    }
    store.dirty.remove(key);
    store.remove::<Deployment>(ns, name)
}

/// The `pod-template-hash`: FNV-32a of the template, spelled in the
/// apiserver's vowel-free alphabet (as `rand.SafeEncodeString` does).
pub(crate) fn template_hash(d: &Deployment) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = serde_json::to_vec(&d.spec.template).unwrap_or_default();
    let h = fnv(&[&bytes]) as u32;
    h.to_string()
        .bytes()
        .map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
        .collect()
}

fn revision(meta: &ObjectMeta) -> i64 {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// An int-or-percent against `total`: percentages round up for surge and
/// down for unavailability, as the deployment controller does.
fn resolve(v: Option<&IntOrString>, total: i32, round_up: bool) -> i32 {
    match v {
        Some(IntOrString::Int(n)) => (*n).max(0),
        Some(IntOrString::String(s)) => {
            // The apiserver rejects malformed or negative percentages; the
            // sandbox falls back to the default instead.
            let pct: f64 = s
                .trim_end_matches('%')
                .parse()
                .ok()
                .filter(|p: &f64| (0.0..=100.0).contains(p))
                .unwrap_or(25.0);
            let raw = pct * f64::from(total) / 100.0;
            (if round_up { raw.ceil() } else { raw.floor() }) as i32
        }
        None => {
            let raw = f64::from(total) / 4.0;
            (if round_up { raw.ceil() } else { raw.floor() }) as i32
        }
    }
}

fn new_replica_set(
    store: &mut Store,
    d: &Deployment,
    hash: &str,
    revision: i64,
    unix: u64,
) -> ReplicaSet {
    let ns = d.metadata.namespace.clone();
    let name = format!("{}-{hash}", d.metadata.name.as_deref().unwrap_or(""));
    let mut template = d.spec.template.clone();
    let tmeta = template.metadata.get_or_insert_with(Default::default);
    tmeta
        .labels
        .get_or_insert_with(Default::default)
        .insert(POD_TEMPLATE_HASH.into(), hash.into());
    let mut selector: LabelSelector = d.spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(Default::default)
        .insert(POD_TEMPLATE_HASH.into(), hash.into());
    let uid = store.uid();
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: ns,
            uid: Some(uid),
            labels: tmeta.labels.clone(),
            annotations: Some(BTreeMap::from([(
                REVISION.to_string(),
                revision.to_string(),
            )])),
            owner_references: Some(vec![owner_ref("Deployment", "apps/v1", &d.metadata)]),
            creation_timestamp: Some(time(unix)),
            generation: Some(1),
            ..Default::default()
        },
        spec: ReplicaSetSpec {
            replicas: Some(0),
            selector,
            template: Some(template),
            min_ready_seconds: d.spec.min_ready_seconds,
        },
        status: Some(ReplicaSetStatus::default()),
    }
}

/// Sets a ReplicaSet's replicas, with the deployment controller's event;
/// whether anything changed.
fn scale_rs(store: &mut Store, d: &Deployment, rs_name: &str, to: i32, ctx: &Ctx<'_>) -> bool {
    let ns = d.metadata.namespace.as_deref().unwrap_or("");
    let Some(rs) = store.replicasets.get(ns, rs_name).cloned() else {
        return false;
    };
    let from = rs.spec.replicas.unwrap_or(0);
    if from == to {
        return false;
    }
    let mut rs = (*rs).clone();
    rs.spec.replicas = Some(to);
    rs.metadata.generation = Some(rs.metadata.generation.unwrap_or(1) + 1);
    store.put(rs);
    if !ctx.initial {
        let dir = if to > from { "up" } else { "down" };
        record_event(
            store,
            ctx.clock.unix,
            object_ref("Deployment", "apps/v1", &d.metadata),
            "Normal",
            "ScalingReplicaSet",
            format!("Scaled {dir} replica set {rs_name} from {from} to {to}"),
            "deployment-controller",
        );
    }
    true
}

/// Pods of a ReplicaSet: (total, Ready).
fn rs_counts(store: &Store, ns: &str, rs: &str) -> (i32, i32) {
    let names = store.pods.owned_by(ns, rs);
    let ready = names
        .iter()
        .filter_map(|n| store.pods.get(ns, n))
        .filter(|p| pod_ready(p))
        .count();
    (names.len() as i32, ready as i32)
}

/// Creates or deletes pods so that the ReplicaSet has its replicas, then
/// writes its status.
fn sync_rs(store: &mut Store, ns: &str, rs_name: &str, ctx: &Ctx<'_>) {
    let Some(rs) = store.replicasets.get(ns, rs_name).cloned() else {
        return;
    };
    let want = rs.spec.replicas.unwrap_or(0).max(0) as usize;
    let mut pods: Vec<Arc<Pod>> = store
        .pods
        .owned_by(ns, rs_name)
        .iter()
        .filter_map(|n| store.pods.get(ns, n).cloned())
        .collect();
    for _ in pods.len()..want {
        create_pod(store, &rs, ctx);
    }
    if pods.len() > want {
        // Unscheduled first, then not Ready, then the newest: what the
        // ReplicaSet controller deletes first.
        pods.sort_by_key(|p| {
            let rv: u64 = p
                .metadata
                .resource_version
                .as_deref()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            (pod_scheduled(p), pod_ready(p), Reverse(rv))
        });
        for p in pods.iter().take(pods.len() - want) {
            delete_pod(store, &key_of(&p.metadata));
        }
    }
    let (replicas, ready) = rs_counts(store, ns, rs_name);
    let status = ReplicaSetStatus {
        replicas,
        ready_replicas: Some(ready),
        available_replicas: Some(ready),
        fully_labeled_replicas: Some(replicas),
        observed_generation: rs.metadata.generation,
        ..Default::default()
    };
    if let Some(cur) = store.replicasets.get(ns, rs_name).cloned() {
        if cur.status.as_ref() != Some(&status) {
            let mut rs = (*cur).clone();
            rs.status = Some(status);
            store.put(rs);
        }
    }
}

fn set_condition(
    old: Option<&Vec<DeploymentCondition>>,
    type_: &str,
    ok: bool,
    reason: &str,
    message: String,
    unix: u64,
) -> DeploymentCondition {
    let status = if ok { "True" } else { "False" };
    let prev = old.and_then(|cs| cs.iter().find(|c| c.type_.as_deref() == Some(type_)));
    match prev {
        // Unchanged: keep its times, so that a no-op pass writes nothing.
        Some(p) if p.status.as_deref() == Some(status) && p.reason.as_deref() == Some(reason) => {
            p.clone()
        }
        _ => DeploymentCondition {
            type_: Some(type_.into()),
            status: Some(status.into()),
            reason: Some(reason.into()),
            message: Some(message),
            last_transition_time: Some(time(unix)),
            last_update_time: Some(time(unix)),
        },
    }
}

/// Keeps at most `revisionHistoryLimit` (default 10) scaled-down old
/// ReplicaSets, the ones a rollback can return to.
fn prune_history(store: &mut Store, d: &Deployment, new_name: &str, rs_names: &mut Vec<String>) {
    let ns = d.metadata.namespace.as_deref().unwrap_or("");
    let limit = d.spec.revision_history_limit.unwrap_or(10).max(0) as usize;
    let mut idle: Vec<(i64, String)> = rs_names
        .iter()
        .filter(|n| n.as_str() != new_name)
        .filter_map(|n| store.replicasets.get(ns, n))
        .filter(|rs| rs.spec.replicas.unwrap_or(0) == 0)
        .map(|rs| {
            (
                revision(&rs.metadata),
                rs.metadata.name.clone().unwrap_or_default(),
            )
        })
        .filter(|(_, n)| rs_counts(store, ns, n).0 == 0)
        .collect();
    if idle.len() <= limit {
        return;
    }
    idle.sort();
    let extra = idle.len() - limit;
    for (_, n) in idle.into_iter().take(extra) {
        store.remove::<ReplicaSet>(ns, &n);
        rs_names.retain(|x| *x != n);
    }
}

pub(crate) fn reconcile_deployment(store: &mut Store, key: &Key, ctx: &Ctx<'_>) {
    let (ns, name) = key;
    let Some(d) = store.deployments.get(ns, name).cloned() else {
        return;
    };
    let desired = d.spec.replicas.unwrap_or(1).max(0);
    let hash = template_hash(&d);
    let mut rs_names = store.replicasets.owned_by(ns, name);
    let revisions: Vec<(String, i64)> = rs_names
        .iter()
        .filter_map(|n| {
            store
                .replicasets
                .get(ns, n)
                .map(|rs| (n.clone(), revision(&rs.metadata)))
        })
        .collect();
    let max_rev = revisions.iter().map(|(_, r)| *r).max().unwrap_or(0);
    let new_name = format!("{name}-{hash}");
    match store.replicasets.get(ns, &new_name).cloned() {
        None => {
            let rs = new_replica_set(store, &d, &hash, max_rev + 1, ctx.clock.unix);
            store.put(rs);
            rs_names.push(new_name.clone());
        }
        // A rollback to an older template: that ReplicaSet becomes newest.
        Some(rs) if revision(&rs.metadata) < max_rev => {
            let mut rs = (*rs).clone();
            rs.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(REVISION.into(), (max_rev + 1).to_string());
            store.put(rs);
        }
        Some(_) => {}
    }
    let old: Vec<String> = rs_names
        .iter()
        .filter(|n| **n != new_name)
        .cloned()
        .collect();
    let spec_of = |store: &Store, n: &str| {
        store
            .replicasets
            .get(ns, n)
            .and_then(|rs| rs.spec.replicas)
            .unwrap_or(0)
    };
    let old_active = old
        .iter()
        .any(|n| spec_of(store, n) > 0 || rs_counts(store, ns, n).0 > 0);
    let strategy = d.spec.strategy.as_ref();
    let recreate = strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let ru = strategy.and_then(|s| s.rolling_update.as_ref());
    let mut max_surge = resolve(ru.and_then(|r| r.max_surge.as_ref()), desired, true);
    let max_unavailable = resolve(ru.and_then(|r| r.max_unavailable.as_ref()), desired, false);
    if max_surge == 0 && max_unavailable == 0 {
        max_surge = 1;
    }

    // Whether a ReplicaSet was resized: then the next step of a rollout may
    // already be possible, so the deployment stays dirty for another pass.
    let mut moved = false;
    if !old_active {
        scale_rs(store, &d, &new_name, desired, ctx);
    } else if recreate {
        for n in &old {
            moved |= scale_rs(store, &d, n, 0, ctx);
        }
        if old.iter().all(|n| rs_counts(store, ns, n).0 == 0) {
            moved |= scale_rs(store, &d, &new_name, desired, ctx);
        }
    } else {
        // Scale up the new ReplicaSet within maxSurge.
        let total: i32 = rs_names.iter().map(|n| spec_of(store, n)).sum();
        let new_spec = spec_of(store, &new_name);
        if new_spec < desired {
            let room = desired + max_surge - total;
            if room > 0 {
                moved |= scale_rs(store, &d, &new_name, desired.min(new_spec + room), ctx);
            }
        } else if new_spec > desired {
            moved |= scale_rs(store, &d, &new_name, desired, ctx);
        }
        // Scale down old ones within maxUnavailable: unhealthy pods first.
        let min_available = desired - max_unavailable;
        let all: i32 = rs_names.iter().map(|n| spec_of(store, n)).sum();
        let (_, new_ready) = rs_counts(store, ns, &new_name);
        let new_unavailable = (spec_of(store, &new_name) - new_ready).max(0);
        let mut budget = all - min_available - new_unavailable;
        let mut old_sorted: Vec<(i64, String)> = old
            .iter()
            .map(|n| {
                (
                    revisions
                        .iter()
                        .find(|(r, _)| r == n)
                        .map(|x| x.1)
                        .unwrap_or(0),
                    n.clone(),
                )
            })
            .collect();
        old_sorted.sort();
        for (_, n) in &old_sorted {
            if budget <= 0 {
                break;
            }
            let spec = spec_of(store, n);
            let (_, ready) = rs_counts(store, ns, n);
            let cut = (spec - ready).max(0).min(budget);
            if cut > 0 {
                moved |= scale_rs(store, &d, n, spec - cut, ctx);
                budget -= cut;
            }
        }
        let available: i32 = rs_names.iter().map(|n| rs_counts(store, ns, n).1).sum();
        let mut down = available - min_available;
        for (_, n) in &old_sorted {
            if down <= 0 {
                break;
            }
            let spec = spec_of(store, n);
            let cut = spec.min(down);
            if cut > 0 {
                moved |= scale_rs(store, &d, n, spec - cut, ctx);
                down -= cut;
            }
        }
    }

    for n in &rs_names {
        sync_rs(store, ns, n, ctx);
    }
    prune_history(store, &d, &new_name, &mut rs_names);

    // Status, from what the ReplicaSets now have.
    let (mut replicas, mut ready, mut spec_total) = (0, 0, 0);
    for n in &rs_names {
        let (p, r) = rs_counts(store, ns, n);
        replicas += p;
        ready += r;
        spec_total += spec_of(store, n);
    }
    let (updated, new_ready) = rs_counts(store, ns, &new_name);
    let Some(cur) = store.deployments.get(ns, name).cloned() else {
        return;
    };
    let old_conditions = cur.status.as_ref().and_then(|s| s.conditions.as_ref());
    let available_ok = ready >= desired - max_unavailable;
    let complete = updated == desired && new_ready == desired && replicas == desired;
    let new_rev = store
        .replicasets
        .get(ns, &new_name)
        .map(|rs| revision(&rs.metadata))
        .unwrap_or(1);
    let status = DeploymentStatus {
        observed_generation: cur.metadata.generation,
        replicas: Some(replicas),
        updated_replicas: Some(updated),
        ready_replicas: Some(ready),
        available_replicas: Some(ready),
        unavailable_replicas: Some((spec_total.max(desired) - ready).max(0)),
        conditions: Some(vec![
            set_condition(
                old_conditions,
                "Available",
                available_ok,
                if available_ok {
                    "MinimumReplicasAvailable"
                } else {
                    "MinimumReplicasUnavailable"
                },
                if available_ok {
                    "Deployment has minimum availability.".into()
                } else {
                    "Deployment does not have minimum availability.".into()
                },
                ctx.clock.unix,
            ),
            set_condition(
                old_conditions,
                "Progressing",
                true,
                if complete {
                    "NewReplicaSetAvailable"
                } else {
                    "ReplicaSetUpdated"
                },
                if complete {
                    format!("ReplicaSet \"{new_name}\" has successfully progressed.")
                } else {
                    format!("ReplicaSet \"{new_name}\" is progressing.")
                },
                ctx.clock.unix,
            ),
        ]),
        ..Default::default()
    };
    let rev = new_rev.to_string();
    let rev_ok = cur
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        == Some(&rev);
    if cur.status.as_ref() != Some(&status) || !rev_ok {
        let mut d = (*cur).clone();
        d.status = Some(status);
        d.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(REVISION.into(), rev);
        store.put(d);
    }
    // This pass accounted for the pods it deleted itself.
    if moved {
        store.dirty.insert(key.clone());
    } else {
        store.dirty.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::{
        kube::{
            controllers::{deployment_pods, reconcile},
            generate::{cluster_seed, generate},
            Clock, KubeConfig,
        },
        world::World,
    };

    /// A rollout restart of a 4-replica deployment, stepped by hand: the
    /// pod count never exceeds replicas + maxSurge (1), the Ready count
    /// never drops below replicas - maxUnavailable (3), and it finishes
    /// with every pod from the new ReplicaSet.
    #[test]
    fn rolling_update_respects_surge_and_unavailability() {
        let w = World::generate(3).snapshot();
        let c = &w.clusters[0];
        let seed = cluster_seed(w.seed, &c.id);
        let mut store = generate(c, seed, &w.services);
        let mut clock = Clock {
            unix: c.created_at + 7_200,
            now: Instant::now(),
        };
        let cfg = KubeConfig {
            readiness_delay: Duration::from_secs(2),
            hpa_sync_period: Duration::from_secs(3_600),
        };
        let key = ("kube-system".to_string(), "coredns".to_string());
        let step = |store: &mut Store, clock: &mut Clock| {
            clock.now += Duration::from_millis(500);
            clock.unix += 1;
            let ctx = Ctx {
                cluster: c,
                seed,
                cfg,
                clock: *clock,
                initial: false,
            };
            reconcile(store, &ctx);
        };
        let counts = |store: &Store| {
            let pods = deployment_pods(store, &key.0, &key.1);
            let ready = pods.iter().filter(|p| pod_ready(p)).count();
            (pods, ready)
        };

        let mut d = (**store.deployments.get(&key.0, &key.1).unwrap()).clone();
        d.spec.replicas = Some(4);
        store.put(d);
        store.dirty.insert(key.clone());
        for _ in 0..20 {
            step(&mut store, &mut clock);
        }
        assert_eq!(counts(&store).1, 4);

        let mut d = (**store.deployments.get(&key.0, &key.1).unwrap()).clone();
        d.spec
            .template
            .metadata
            .get_or_insert_with(Default::default)
            .annotations
            .get_or_insert_with(Default::default)
            .insert("kubectl.kubernetes.io/restartedAt".into(), "now".into());
        let hash = template_hash(&d);
        store.put(d);
        store.dirty.insert(key.clone());
        let mut done = false;
        for _ in 0..200 {
            step(&mut store, &mut clock);
            let (pods, ready) = counts(&store);
            assert!(pods.len() <= 5, "{} pods: above maxSurge", pods.len());
            assert!(ready >= 3, "{ready} Ready: below maxUnavailable");
            let all_new = pods.iter().all(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(POD_TEMPLATE_HASH))
                    == Some(&hash)
            });
            if all_new && pods.len() == 4 && ready == 4 {
                done = true;
                break;
            }
        }
        assert!(done, "the rollout finished");
    }
}
