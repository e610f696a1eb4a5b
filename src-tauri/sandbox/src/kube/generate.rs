//! The workloads of one cluster, generated from the world's seed: nodes from
//! the node pools, `default`/`kube-system`/`kube-public` plus one to three
//! app namespaces, five to fifteen deployments (the `checkout` service in
//! `shop` where the world places it) with their ReplicaSets and Ready pods,
//! HPAs for some, and a few events. Requests are trimmed to fit the nodes
//! with room to spare, so that scaling up has somewhere to go.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment},
        autoscaling::v2::{
            CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
            MetricSpec, MetricTarget, ResourceMetricSource,
        },
        core::v1::{
            Container, ContainerPort, Namespace, NamespaceSpec, NamespaceStatus, PodSpec,
            PodTemplateSpec, ResourceRequirements,
        },
    },
    apimachinery::pkg::{
        api::resource::Quantity,
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};

use super::{
    controllers::{self, object_ref, record_event, Ctx},
    deployments::template_hash,
    metrics::{fnv, DEMAND_ANNOTATION},
    store::{key_of, time, Store},
    Clock, KubeConfig,
};
use crate::world::{Cluster, ServicePlacement, CHECKOUT_SERVICE};

const APP_NAMESPACES: [&str; 6] = ["shop", "payments", "search", "analytics", "web", "platform"];
const SERVICES: [&str; 16] = [
    "frontend",
    "cart",
    "catalog",
    "orders",
    "inventory",
    "recommender",
    "notifications",
    "auth",
    "gateway",
    "ledger",
    "ingest",
    "reports",
    "profile",
    "media",
    "pricing",
    "shipping",
];
/// The share of the cluster's allocatable CPU and memory the generated
/// requests may take.
const FILL: f64 = 0.5;
const MI: i64 = 1024 * 1024;

/// The cluster's own seed: stable per (world seed, cluster id).
pub(crate) fn cluster_seed(world_seed: u64, cluster_id: &str) -> u64 {
    fnv(&[&world_seed.to_le_bytes(), cluster_id.as_bytes()])
}

struct App {
    ns: String,
    name: String,
    replicas: i32,
    cpu_milli: i64,
    memory: i64,
    /// Mean demand as a fraction of the total request.
    load: f64,
    hpa: Option<(i32, i32, i32)>,
    labels: BTreeMap<String, String>,
    /// Replicas asked for by the world file: [`fit`] trims only requests.
    pinned: bool,
}

fn namespace(name: &str, unix: u64, store: &mut Store) -> Namespace {
    let uid = store.uid();
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            uid: Some(uid),
            labels: Some(BTreeMap::from([(
                "kubernetes.io/metadata.name".to_string(),
                name.to_string(),
            )])),
            creation_timestamp: Some(time(unix)),
            ..Default::default()
        },
        spec: Some(NamespaceSpec {
            finalizers: Some(vec!["kubernetes".into()]),
        }),
        status: Some(NamespaceStatus {
            phase: Some("Active".into()),
            conditions: None,
        }),
    }
}

fn deployment(app: &App, registry_tag: &str, unix: u64, store: &mut Store) -> Deployment {
    let selector = BTreeMap::from([("app".to_string(), app.name.clone())]);
    let mut labels = app.labels.clone();
    labels.insert("app".into(), app.name.clone());
    let demand = (app.replicas as f64 * app.cpu_milli as f64 * app.load).round() as i64;
    let resources = ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity(format!("{}m", app.cpu_milli))),
            (
                "memory".to_string(),
                Quantity(format!("{}Mi", app.memory / MI)),
            ),
        ])),
        limits: Some(BTreeMap::from([
            (
                "cpu".to_string(),
                Quantity(format!("{}m", app.cpu_milli * 2)),
            ),
            (
                "memory".to_string(),
                Quantity(format!("{}Mi", app.memory / MI * 3 / 2)),
            ),
        ])),
        ..Default::default()
    };
    let uid = store.uid();
    Deployment {
        metadata: ObjectMeta {
            name: Some(app.name.clone()),
            namespace: Some(app.ns.clone()),
            uid: Some(uid),
            labels: Some(labels.clone()),
            annotations: Some(BTreeMap::from([(
                DEMAND_ANNOTATION.to_string(),
                format!("{demand}m"),
            )])),
            creation_timestamp: Some(time(unix)),
            generation: Some(1),
            ..Default::default()
        },
        spec: DeploymentSpec {
            replicas: Some(app.replicas),
            selector: LabelSelector {
                match_labels: Some(selector),
                match_expressions: None,
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: app.name.clone(),
                        image: Some(format!(
                            "registry.sandbox.cloudops.dev/{}/{}:{registry_tag}",
                            app.ns, app.name
                        )),
                        ports: Some(vec![ContainerPort {
                            container_port: 8080,
                            name: Some("http".into()),
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        }]),
                        resources: Some(resources),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::String("25%".into())),
                    max_unavailable: Some(IntOrString::String("25%".into())),
                }),
            }),
            revision_history_limit: Some(10),
            progress_deadline_seconds: Some(600),
            ..Default::default()
        },
        status: None,
    }
}

fn hpa(
    app: &App,
    (min, max, target): (i32, i32, i32),
    unix: u64,
    store: &mut Store,
) -> HorizontalPodAutoscaler {
    let uid = store.uid();
    HorizontalPodAutoscaler {
        metadata: ObjectMeta {
            name: Some(app.name.clone()),
            namespace: Some(app.ns.clone()),
            uid: Some(uid),
            creation_timestamp: Some(time(unix)),
            generation: Some(1),
            ..Default::default()
        },
        spec: HorizontalPodAutoscalerSpec {
            min_replicas: Some(min),
            max_replicas: max,
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: app.name.clone(),
            },
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(target),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            behavior: None,
        },
        status: None,
    }
}

fn apps(cluster: &Cluster, rng: &mut fastrand::Rng, services: &[ServicePlacement]) -> Vec<App> {
    let has_checkout = services
        .iter()
        .any(|s| s.name == CHECKOUT_SERVICE && s.cluster_ids.contains(&cluster.id));
    let mut namespaces: Vec<&str> = APP_NAMESPACES.to_vec();
    rng.shuffle(&mut namespaces);
    namespaces.truncate(rng.usize(1..=3));
    if has_checkout && !namespaces.contains(&"shop") {
        namespaces[0] = "shop";
    }
    let mut names: Vec<&str> = SERVICES.to_vec();
    rng.shuffle(&mut names);
    let knobs = cluster.workload;
    // 3..=13 app deployments, plus the two system ones: 5..=15 in all, unless
    // the world file says how many (the rng is drawn only when it does not,
    // so seeded worlds stay the same).
    let count = match knobs.deployments {
        Some(n) => usize::try_from(n)
            .unwrap_or(usize::MAX)
            .saturating_sub(usize::from(has_checkout)),
        None => rng.usize(3..=13) - usize::from(has_checkout),
    };
    let mut apps: Vec<App> = Vec::new();
    let app = |ns: &str, name: &str, rng: &mut fastrand::Rng, replicas: i32| App {
        ns: ns.into(),
        name: name.into(),
        replicas,
        cpu_milli: [50, 100, 150, 200, 250][rng.usize(..5)],
        memory: [64, 128, 256, 512][rng.usize(..4)] * MI,
        load: 0.35 + 0.3 * rng.f64(),
        hpa: None,
        labels: BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), name.to_string()),
            ("app.kubernetes.io/part-of".to_string(), ns.to_string()),
        ]),
        pinned: false,
    };
    if has_checkout {
        let mut a = app("shop", CHECKOUT_SERVICE, rng, 3);
        a.hpa = Some((3, 10, 70));
        apps.push(a);
    }
    for i in 0..count {
        // Past the sixteen service names, a world file's many deployments
        // reuse them with a suffix: `cart-2`, `cart-3`, ...
        let base = names[i % names.len()];
        let name = match i / names.len() {
            0 => base.to_string(),
            round => format!("{base}-{}", round + 1),
        };
        let ns = namespaces[i % namespaces.len()];
        let replicas = match knobs.replicas {
            Some(r) => i32::try_from(r).unwrap_or(i32::MAX),
            None => rng.i32(1..=4),
        };
        let mut a = app(ns, &name, rng, replicas);
        a.pinned = knobs.replicas.is_some();
        if rng.usize(..3) == 0 {
            a.hpa = Some((replicas, replicas * 3 + 1, [60, 70, 80][rng.usize(..3)]));
        }
        apps.push(a);
    }
    let system = |name: &str, replicas, cpu, mem: i64| App {
        ns: "kube-system".into(),
        name: name.into(),
        replicas,
        cpu_milli: cpu,
        memory: mem * MI,
        load: 0.3,
        hpa: None,
        labels: BTreeMap::from([("k8s-app".to_string(), name.to_string())]),
        pinned: false,
    };
    apps.push(system("coredns", 2, 100, 70));
    apps.push(system("metrics-server", 1, 100, 200));
    apps
}

/// Trims replicas, then requests, of the app deployments until the total
/// fits [`FILL`] of what the nodes offer.
fn fit(apps: &mut [App], cpu_budget: i64, mem_budget: i64) {
    let total = |apps: &[App], f: fn(&App) -> i64| {
        apps.iter()
            .map(|a| i64::from(a.replicas) * f(a))
            .sum::<i64>()
    };
    // Bounded, and generous enough for a world file's hundreds of pinned
    // deployments (each may need a few halvings).
    for _ in 0..20_000 {
        let over_cpu = total(apps, |a| a.cpu_milli) > cpu_budget;
        let over_mem = total(apps, |a| a.memory) > mem_budget;
        if !over_cpu && !over_mem {
            return;
        }
        let weight =
            |a: &App| i64::from(a.replicas) * if over_cpu { a.cpu_milli } else { a.memory / MI };
        let floor = |a: &App| {
            if a.pinned {
                a.replicas
            } else {
                a.hpa.map(|h| h.0).unwrap_or(1).max(1)
            }
        };
        // A pinned app that cannot shrink further steps aside, so the other
        // pinned apps' requests get trimmed too (unpinned worlds keep the
        // original choice: the biggest app, or stop).
        let can_shrink = |a: &App| {
            a.replicas > floor(a)
                || (over_cpu && a.cpu_milli > 25)
                || (over_mem && a.memory > 32 * MI)
        };
        let Some(big) = apps
            .iter_mut()
            .filter(|a| a.ns != "kube-system" && (!a.pinned || can_shrink(a)))
            .max_by_key(|a| weight(a))
        else {
            return;
        };
        let floor = floor(big);
        let pinned = big.pinned;
        if big.replicas > floor {
            big.replicas -= 1;
        } else if over_cpu && big.cpu_milli > 25 {
            big.cpu_milli = (big.cpu_milli / 2).max(25);
        } else if over_mem && big.memory > 32 * MI {
            big.memory = (big.memory / 2).max(32 * MI);
        } else if let Some(h) = big.hpa.as_mut().filter(|h| h.0 > 1 && !pinned) {
            h.0 -= 1;
            big.replicas -= 1;
        } else {
            return;
        }
    }
}

/// The initial store of `cluster`.
pub(crate) fn generate(cluster: &Cluster, seed: u64, services: &[ServicePlacement]) -> Store {
    let mut store = Store::new(seed);
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15);
    let t0 = cluster.created_at;
    let ctx = |unix| Ctx {
        cluster,
        seed,
        cfg: KubeConfig::default(),
        clock: Clock {
            unix,
            now: std::time::Instant::now(),
        },
        initial: true,
    };
    let mut apps = apps(cluster, &mut rng, services);
    let mut ns_names: Vec<String> =
        vec!["default".into(), "kube-system".into(), "kube-public".into()];
    for a in &apps {
        if !ns_names.contains(&a.ns) {
            ns_names.push(a.ns.clone());
        }
    }
    for n in &ns_names {
        let ns = namespace(n, t0, &mut store);
        store.put(ns);
    }
    super::nodes::sync(&mut store, &ctx(t0));
    let (cpu, mem) = store
        .allocatable
        .values()
        .fold((0, 0), |(c, m), a| (c + a.cpu_milli, m + a.memory));
    fit(
        &mut apps,
        (cpu as f64 * FILL) as i64,
        (mem as f64 * FILL) as i64,
    );

    let t1 = t0 + 3_600;
    for app in &apps {
        let tag = format!("v1.{}.{}", rng.u8(0..20), rng.u8(0..10));
        let d = deployment(app, &tag, t1, &mut store);
        let key = key_of(&d.metadata);
        store.put(d);
        store.dirty.insert(key);
        if let Some(bounds) = app.hpa {
            let h = hpa(app, bounds, t1, &mut store);
            store.put(h);
        }
    }
    controllers::reconcile(&mut store, &ctx(t1 + 60));

    // A little history: the rollouts that brought the apps up.
    let deployments: Vec<_> = store.deployments.values().cloned().collect();
    for d in deployments
        .iter()
        .filter(|d| d.metadata.namespace.as_deref() != Some("kube-system"))
    {
        let rs = format!(
            "{}-{}",
            d.metadata.name.as_deref().unwrap_or(""),
            template_hash(d)
        );
        let replicas = d.spec.replicas.unwrap_or(1);
        record_event(
            &mut store,
            t1 + 1,
            object_ref("Deployment", "apps/v1", &d.metadata),
            "Normal",
            "ScalingReplicaSet",
            format!("Scaled up replica set {rs} from 0 to {replicas}"),
            "deployment-controller",
        );
    }
    store.compact();
    store
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;

    #[test]
    fn every_cluster_gets_5_to_15_ready_deployments_that_fit() {
        let w = World::generate(3).snapshot();
        for c in &w.clusters {
            let s = generate(c, cluster_seed(w.seed, &c.id), &w.services);
            let n = s.deployments.len();
            assert!((5..=15).contains(&n), "{}: {n} deployments", c.name);
            assert_eq!(s.nodes.len() as u32, c.node_count());
            assert!(s.unscheduled.is_empty(), "{}: unscheduled pods", c.name);
            for d in s.deployments.values() {
                let st = d.status.as_ref().unwrap();
                assert_eq!(st.ready_replicas, d.spec.replicas, "{:?}", d.metadata.name);
            }
            let placed = w
                .service(CHECKOUT_SERVICE)
                .unwrap()
                .cluster_ids
                .contains(&c.id);
            assert_eq!(
                s.deployments.get("shop", CHECKOUT_SERVICE).is_some(),
                placed
            );
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let w = World::generate(5).snapshot();
        let c = &w.clusters[0];
        let a = generate(c, cluster_seed(w.seed, &c.id), &w.services);
        let b = generate(c, cluster_seed(w.seed, &c.id), &w.services);
        let names = |s: &Store| {
            s.pods
                .values()
                .map(|p| p.metadata.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
        assert_eq!(a.rv, b.rv);
    }
}
