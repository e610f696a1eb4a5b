//! What the controllers do, seen through the API: scaling with the
//! readiness delay, rollout restarts, HPAs, and node pools that follow the
//! provider APIs.

use std::time::{Duration, Instant};

use ::kube::{
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams},
    Api,
};
use k8s_openapi::{
    api::{
        apps::v1::{Deployment, ReplicaSet},
        autoscaling::v2::{
            CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
            MetricSpec, MetricTarget, ResourceMetricSource,
        },
        core::v1::{Node, Pod},
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use serde_json::json;

use cloudops_sandbox::{kube::k8s_token, World};

use super::{api_code, checkout_cluster, client, eventually, next, ready, DEADLINE};
use crate::start;

#[tokio::test]
async fn scale_subresource_scales_and_new_pods_turn_ready_after_the_delay() {
    let delay = Duration::from_secs(1);
    let world = World::generate(14).with_readiness_delay(delay);
    assert_eq!(world.kube_config().readiness_delay, delay);
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
    // coredns: two replicas in every cluster, and no HPA to fight the test.
    let deployments = Api::<Deployment>::namespaced(client.clone(), "kube-system");
    let pods = Api::<Pod>::namespaced(client.clone(), "kube-system");
    let scale = deployments.get_scale("coredns").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    assert_eq!(
        scale.status.unwrap().selector.as_deref(),
        Some("app=coredns")
    );

    let rv = pods
        .list(&ListParams::default().labels("k8s-app=coredns"))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut watch = Box::pin(
        pods.watch(
            &WatchParams::default().labels("k8s-app=coredns").timeout(15),
            &rv,
        )
        .await
        .unwrap(),
    );

    let t0 = Instant::now();
    let patched = deployments
        .patch_scale(
            "coredns",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 6}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.unwrap().replicas, Some(6));
    let right_after = deployments.get("coredns").await.unwrap();
    assert_eq!(right_after.spec.replicas, Some(6));
    assert!(
        right_after.status.unwrap().ready_replicas.unwrap_or(0) < 6,
        "not all Ready right after the scale"
    );

    eventually("6 Ready coredns pods", || async {
        let d = deployments.get("coredns").await.ok()?;
        let st = d.status?;
        let ready_pods = pods
            .list(&ListParams::default().labels("k8s-app=coredns"))
            .await
            .ok()?
            .items
            .iter()
            .filter(|p| ready(p))
            .count();
        (st.ready_replicas == Some(6) && st.available_replicas == Some(6) && ready_pods == 6)
            .then_some(())
    })
    .await;
    assert!(t0.elapsed() >= delay, "Ready before the readiness delay");

    // Every new pod was announced not Ready, and turned Ready later.
    let mut new_pods = std::collections::BTreeMap::new();
    while new_pods.values().filter(|r| **r).count() < 4 {
        let ev = tokio::time::timeout(DEADLINE, next(&mut watch))
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match ev {
            WatchEvent::Added(p) => {
                assert!(!ready(&p));
                new_pods.insert(p.metadata.name.unwrap(), false);
            }
            WatchEvent::Modified(p) if ready(&p) => {
                if let Some(r) = new_pods.get_mut(p.metadata.name.as_deref().unwrap()) {
                    *r = true;
                }
            }
            _ => {}
        }
    }
    assert_eq!(new_pods.len(), 4);

    // Back down with a replace of the Scale: 2 pods remain.
    let mut s = deployments.get_scale("coredns").await.unwrap();
    s.spec.as_mut().unwrap().replicas = Some(2);
    let replaced = deployments
        .replace_scale("coredns", &PostParams::default(), &s)
        .await
        .unwrap();
    assert_eq!(replaced.spec.unwrap().replicas, Some(2));
    eventually("2 coredns pods", || async {
        let n = pods
            .list(&ListParams::default().labels("k8s-app=coredns"))
            .await
            .ok()?
            .items
            .len();
        (n == 2).then_some(())
    })
    .await;
}

#[tokio::test]
async fn rollout_restart_replaces_pods_through_a_new_replicaset() {
    let world = World::generate(15).with_readiness_delay(Duration::from_millis(150));
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
    let deployments = Api::<Deployment>::namespaced(client.clone(), "kube-system");
    let pods = Api::<Pod>::namespaced(client.clone(), "kube-system");
    let before: Vec<String> = pods
        .list(&ListParams::default().labels("k8s-app=coredns"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2025-06-01T00:00:00Z"
    }}}}});
    let d = deployments
        .patch("coredns", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    assert_eq!(d.metadata.generation, Some(2));

    let rs_api = Api::<ReplicaSet>::namespaced(client.clone(), "kube-system");
    eventually("the rollout to finish", || async {
        let d = deployments.get("coredns").await.ok()?;
        let st = d.status?;
        let done = st.updated_replicas == Some(2)
            && st.ready_replicas == Some(2)
            && st.replicas == Some(2)
            && st.observed_generation == Some(2);
        done.then_some(())
    })
    .await;
    let rs = rs_api
        .list(&ListParams::default().labels("k8s-app=coredns"))
        .await
        .unwrap();
    assert_eq!(rs.items.len(), 2, "old and new ReplicaSet");
    let replicas: Vec<i32> = rs
        .items
        .iter()
        .map(|r| r.spec.replicas.unwrap_or(0))
        .collect();
    assert!(
        replicas.contains(&0) && replicas.contains(&2),
        "{replicas:?}"
    );
    let after = pods
        .list(&ListParams::default().labels("k8s-app=coredns"))
        .await
        .unwrap();
    assert_eq!(after.items.len(), 2);
    for p in &after.items {
        assert!(
            !before.contains(p.metadata.name.as_ref().unwrap()),
            "a restarted pod"
        );
        assert!(ready(p));
    }
    let d = deployments.get("coredns").await.unwrap();
    assert_eq!(
        d.metadata.annotations.unwrap()["deployment.kubernetes.io/revision"],
        "2"
    );
}

#[tokio::test]
async fn hpa_create_patch_and_delete_drive_the_deployment() {
    let world = World::generate(16)
        .with_readiness_delay(Duration::from_millis(100))
        .with_hpa_sync_period(Duration::from_millis(200));
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
    let hpas = Api::<HorizontalPodAutoscaler>::namespaced(client.clone(), "kube-system");
    let deployments = Api::<Deployment>::namespaced(client.clone(), "kube-system");

    let hpa = HorizontalPodAutoscaler {
        metadata: ObjectMeta {
            name: Some("coredns".into()),
            ..Default::default()
        },
        spec: HorizontalPodAutoscalerSpec {
            min_replicas: Some(2),
            max_replicas: 5,
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: "coredns".into(),
            },
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(50),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            behavior: None,
        },
        status: None,
    };
    let created = hpas.create(&PostParams::default(), &hpa).await.unwrap();
    assert!(created.metadata.uid.is_some());
    let dup = hpas.create(&PostParams::default(), &hpa).await.unwrap_err();
    assert_eq!(api_code(&dup), (409, "AlreadyExists".into()));

    let status = eventually("HPA status", || async {
        let h = hpas.get("coredns").await.ok()?;
        let st = h.status?;
        st.current_metrics.is_some().then_some(st)
    })
    .await;
    assert!((2..=5).contains(&status.desired_replicas), "{status:?}");
    let metric = &status.current_metrics.unwrap()[0];
    let current = &metric.resource.as_ref().unwrap().current;
    assert!(current.average_utilization.unwrap() > 0);
    assert!(current.average_value.as_ref().unwrap().0.ends_with('m'));

    // Pin the bounds: the HPA must bring the deployment to exactly 4.
    let patched = hpas
        .patch(
            "coredns",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"minReplicas": 4, "maxReplicas": 4}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.min_replicas, Some(4));
    assert_eq!(patched.metadata.generation, Some(2));
    eventually("the HPA to set 4 replicas", || async {
        let d = deployments.get("coredns").await.ok()?;
        let h = hpas.get("coredns").await.ok()?;
        let st = h.status?;
        (d.spec.replicas == Some(4)
            && st.desired_replicas == 4
            && st.observed_generation == Some(2))
        .then_some(())
    })
    .await;

    // Invalid bounds are refused with 422.
    let bad = hpas
        .patch(
            "coredns",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"minReplicas": 9}})),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&bad), (422, "Invalid".into()));

    hpas.delete("coredns", &DeleteParams::default())
        .await
        .unwrap();
    let gone = hpas.get("coredns").await.unwrap_err();
    assert_eq!(api_code(&gone), (404, "NotFound".into()));

    // Server-side apply creates what is missing, then patches it.
    let apply = PatchParams::apply("cloudops-test");
    let applied = hpas
        .patch("coredns", &apply, &Patch::Apply(&hpa))
        .await
        .unwrap();
    assert_eq!(applied.spec.max_replicas, 5);
    let mut bigger = hpa.clone();
    bigger.spec.max_replicas = 8;
    let applied = hpas
        .patch("coredns", &apply, &Patch::Apply(&bigger))
        .await
        .unwrap();
    assert_eq!(applied.spec.max_replicas, 8);
    assert_eq!(applied.metadata.generation, Some(2));
}

#[tokio::test]
async fn node_pool_scaling_through_the_provider_shows_in_the_node_list() {
    let world = World::generate(21);
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world.clone());
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
    let nodes = Api::<Node>::all(client);
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len() as u32,
        c.node_count()
    );

    let pool = &c.node_pools[0];
    world
        .set_node_pool_count(&c.id, &pool.id, pool.count + 2)
        .unwrap();
    eventually("two more nodes", || async {
        let n = nodes.list(&ListParams::default()).await.ok()?.items.len() as u32;
        (n == c.node_count() + 2).then_some(())
    })
    .await;
    world.set_node_pool_count(&c.id, &pool.id, 1).unwrap();
    let want = c.node_count() - pool.count + 1;
    eventually("the pool shrunk to one node", || async {
        let n = nodes.list(&ListParams::default()).await.ok()?.items.len() as u32;
        (n == want).then_some(())
    })
    .await;
}
