//! The per-cluster Kubernetes API, driven by the real `kube::Client` (the
//! client the product uses), pointed at `{base_url}/k8s/{cluster_id}`: the
//! cluster URL carries a path prefix, which kube keeps (its `BaseUri` layer
//! joins paths), so every call here also proves that.
//!
//! The module is named `kube` like the crate: crate paths are `::kube::…`.
//! Reads, watches, metrics, conflicts and auth are here; what the
//! controllers do (scaling, readiness, rollouts, HPAs, node pools) is in
//! `controllers.rs`.

mod controllers;
mod logs;
mod proxy;

use std::{
    future::poll_fn,
    pin::Pin,
    time::{Duration, Instant},
};

use ::kube::{
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams},
    Api, Client, Config,
};
use base64::Engine as _;
use futures_core::Stream;
use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet},
    autoscaling::v2::HorizontalPodAutoscaler,
    core::v1::{Namespace, Node, Pod},
};
use serde_json::{json, Value};

use cloudops_sandbox::{
    kube::k8s_token, world::CHECKOUT_SERVICE, Cloud, Cluster, RunningSandbox, World,
};

use crate::start;

/// Upper bound for anything the controllers do; generous for a loaded CI box.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

pub(crate) fn client(sandbox: &RunningSandbox, cluster_id: &str, token: Option<String>) -> Client {
    let url = format!("{}/k8s/{cluster_id}", sandbox.base_url());
    let mut config = Config::new(url.parse().expect("a valid URL"));
    config.auth_info.token = token.map(Into::into);
    Client::try_from(config).expect("a plain-HTTP kube client")
}

/// The cluster running `checkout` on `cloud`, or the first of `cloud`.
fn cluster(world: &World, cloud: Cloud) -> Cluster {
    let w = world.read();
    let placed = w.service(CHECKOUT_SERVICE).unwrap().cluster_ids.clone();
    let found = w
        .clusters_of(cloud)
        .find(|c| placed.contains(&c.id))
        .or_else(|| w.clusters_of(cloud).next())
        .cloned();
    found.unwrap()
}

/// A cluster that runs `checkout`.
pub(crate) fn checkout_cluster(world: &World) -> Cluster {
    let w = world.read();
    let id = w.service(CHECKOUT_SERVICE).unwrap().cluster_ids[0].clone();
    w.cluster(&id).unwrap().clone()
}

pub(crate) async fn next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
}

pub(crate) fn api_code(e: &::kube::Error) -> (u16, String) {
    match e {
        ::kube::Error::Api(s) => (s.code, s.reason.clone()),
        other => panic!("not an API error: {other:?}"),
    }
}

pub(crate) fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Polls `f` until it returns `Some`, failing after [`DEADLINE`].
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn kube_client_lists_the_generated_workloads_through_the_path_prefix() {
    let world = World::generate(11);
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));

    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, format!("v{}", c.k8s_version()));

    let namespaces: Vec<String> = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    for ns in ["default", "kube-system", "shop"] {
        assert!(namespaces.iter().any(|n| n == ns), "{ns} in {namespaces:?}");
    }

    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(nodes.items.len() as u32, c.node_count());
    for n in &nodes.items {
        let labels = n.metadata.labels.as_ref().unwrap();
        assert_eq!(labels["topology.kubernetes.io/region"], c.region);
        assert!(labels.contains_key("topology.kubernetes.io/zone"));
        let pool = c
            .node_pools
            .iter()
            .find(|p| p.machine_type == labels["node.kubernetes.io/instance-type"]);
        assert!(pool.is_some(), "instance type of a pool");
        let alloc = n.status.as_ref().unwrap().allocatable.as_ref().unwrap();
        assert!(alloc["cpu"].0.ends_with('m') && alloc["memory"].0.ends_with("Ki"));
    }

    let deployments = Api::<Deployment>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!((5..=15).contains(&deployments.items.len()));
    let checkout = deployments
        .items
        .iter()
        .find(|d| d.metadata.name.as_deref() == Some(CHECKOUT_SERVICE))
        .expect("checkout is deployed here");
    assert_eq!(checkout.metadata.namespace.as_deref(), Some("shop"));
    // HPAs act from their first sync on, so only the others are still at
    // their generated, all-Ready size for sure.
    let hpas: Vec<(Option<String>, String)> = Api::<HorizontalPodAutoscaler>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|h| (h.metadata.namespace, h.spec.scale_target_ref.name))
        .collect();
    assert!(hpas.contains(&(Some("shop".into()), CHECKOUT_SERVICE.into())));
    for d in &deployments.items {
        if hpas.contains(&(
            d.metadata.namespace.clone(),
            d.metadata.name.clone().unwrap(),
        )) {
            continue;
        }
        let st = d.status.as_ref().unwrap();
        assert_eq!(st.ready_replicas, d.spec.replicas, "{:?}", d.metadata.name);
    }

    let node_names: Vec<_> = nodes
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    let shop_deployments = Api::<Deployment>::namespaced(client.clone(), "shop");
    let shop_pods = Api::<Pod>::namespaced(client.clone(), "shop");
    eventually("checkout's pods all Ready", || async {
        let want = shop_deployments
            .get(CHECKOUT_SERVICE)
            .await
            .ok()?
            .spec
            .replicas?;
        let pods = shop_pods
            .list(&ListParams::default().labels("app=checkout"))
            .await
            .ok()?;
        (pods.items.len() as i32 == want && pods.items.iter().all(ready)).then_some(())
    })
    .await;
    for p in shop_pods.list(&ListParams::default()).await.unwrap().items {
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap();
        assert!(node_names.contains(&node), "pod on a real node");
    }

    // Paging: two at a time over all pods gives each pod once.
    let all = Api::<Pod>::all(client.clone());
    let total = all.list(&ListParams::default()).await.unwrap().items.len();
    let mut seen = Vec::new();
    let mut lp = ListParams::default().limit(2);
    loop {
        let page = all.list(&lp).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().filter_map(|p| p.metadata.uid));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);

    // ReplicaSets own the pods; events exist.
    let rs = Api::<ReplicaSet>::namespaced(client.clone(), "shop")
        .list(&ListParams::default().labels("app=checkout"))
        .await
        .unwrap();
    assert_eq!(rs.items.len(), 1);
    let events: Value = client
        .request(http_get("/api/v1/namespaces/shop/events"))
        .await
        .unwrap();
    assert_eq!(events["kind"], "EventList");
    assert!(!events["items"].as_array().unwrap().is_empty());
}

pub(crate) fn http_get(path: &str) -> axum::http::Request<Vec<u8>> {
    axum::http::Request::get(path).body(Vec::new()).unwrap()
}

#[tokio::test]
async fn watch_streams_the_pods_a_change_makes() {
    let world = World::generate(12).with_readiness_delay(Duration::from_millis(200));
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
    let pods = Api::<Pod>::namespaced(client.clone(), "shop");
    let list = pods
        .list(&ListParams::default().labels("app=checkout"))
        .await
        .unwrap();
    let rv = list.metadata.resource_version.clone().unwrap();
    let victim = list.items[0].metadata.name.clone().unwrap();

    let wp = WatchParams::default().labels("app=checkout").timeout(15);
    let stream = pods.watch(&wp, &rv).await.unwrap();
    let mut stream = Box::pin(stream);
    pods.delete(&victim, &DeleteParams::default())
        .await
        .unwrap();

    let (mut deleted, mut added, mut ready_again) = (false, None, false);
    let got = tokio::time::timeout(DEADLINE, async {
        while let Some(ev) = next(&mut stream).await {
            match ev.unwrap() {
                WatchEvent::Deleted(p) if p.metadata.name.as_deref() == Some(&victim) => {
                    deleted = true
                }
                WatchEvent::Added(p) => {
                    assert!(!ready(&p), "a new pod starts not Ready");
                    added = p.metadata.name;
                }
                WatchEvent::Modified(p) if p.metadata.name == added && ready(&p) => {
                    ready_again = true
                }
                _ => {}
            }
            if deleted && ready_again {
                return;
            }
        }
    })
    .await;
    assert!(
        got.is_ok(),
        "deleted={deleted} added={added:?} ready={ready_again}"
    );
    assert_ne!(added.as_deref(), Some(victim.as_str()));
}

#[tokio::test]
async fn shutdown_ends_open_watches() {
    let world = World::generate(22);
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
    let pods = Api::<Pod>::all(client);
    let rv = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = Box::pin(
        pods.watch(&WatchParams::default().timeout(290), &rv)
            .await
            .unwrap(),
    );
    // The watch would run for 290 s; shutdown must not wait for it.
    tokio::time::timeout(DEADLINE, sandbox.shutdown())
        .await
        .expect("shutdown does not wait for watches")
        .unwrap();
    let end = tokio::time::timeout(DEADLINE, async {
        while let Some(ev) = next(&mut stream).await {
            if ev.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the watch stream ended");
}

#[tokio::test]
async fn watch_from_a_compacted_version_gets_410_expired() {
    let world = World::generate(13);
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
    let pods = Api::<Pod>::all(client);
    let stream = pods
        .watch(&WatchParams::default().timeout(5), "1")
        .await
        .unwrap();
    let mut stream = Box::pin(stream);
    match tokio::time::timeout(DEADLINE, next(&mut stream))
        .await
        .unwrap()
    {
        Some(Ok(WatchEvent::Error(s))) => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"), "{s:?}");
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

#[tokio::test]
async fn metrics_api_serves_node_and_pod_usage() {
    let world = World::generate(17);
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));

    let nodes: Value = client
        .request(http_get("/apis/metrics.k8s.io/v1beta1/nodes"))
        .await
        .unwrap();
    assert_eq!(nodes["kind"], "NodeMetricsList");
    assert_eq!(nodes["apiVersion"], "metrics.k8s.io/v1beta1");
    let items = nodes["items"].as_array().unwrap();
    assert_eq!(items.len() as u32, c.node_count());
    let milli = |v: &Value| {
        v.as_str()
            .unwrap()
            .strip_suffix('m')
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let mut node_cpu = 0;
    for n in items {
        assert!(n["usage"]["memory"].as_str().unwrap().ends_with("Mi"));
        assert!(n["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(n["window"], "15s");
        node_cpu += milli(&n["usage"]["cpu"]);
    }
    let one = &items[0];
    let name = one["metadata"]["name"].as_str().unwrap();
    let single: Value = client
        .request(http_get(&format!(
            "/apis/metrics.k8s.io/v1beta1/nodes/{name}"
        )))
        .await
        .unwrap();
    assert_eq!(single["kind"], "NodeMetrics");

    let pods: Value = client
        .request(http_get("/apis/metrics.k8s.io/v1beta1/pods"))
        .await
        .unwrap();
    assert_eq!(pods["kind"], "PodMetricsList");
    let all_pods = Api::<Pod>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    let pod_items = pods["items"].as_array().unwrap();
    assert_eq!(
        pod_items.len(),
        all_pods.items.iter().filter(|p| ready(p)).count()
    );
    let pod_cpu: u64 = pod_items
        .iter()
        .flat_map(|p| p["containers"].as_array().unwrap().iter())
        .map(|ct| milli(&ct["usage"]["cpu"]))
        .sum();
    assert!(
        pod_cpu > 0 && node_cpu > pod_cpu,
        "nodes {node_cpu}m carry pods {pod_cpu}m"
    );

    let shop: Value = client
        .request(http_get(
            "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods",
        ))
        .await
        .unwrap();
    let shop_items = shop["items"].as_array().unwrap();
    assert!(shop_items
        .iter()
        .all(|p| p["metadata"]["namespace"] == "shop"));
    let pod_name = shop_items[0]["metadata"]["name"].as_str().unwrap();
    let one: Value = client
        .request(http_get(&format!(
            "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/{pod_name}"
        )))
        .await
        .unwrap();
    assert_eq!(one["kind"], "PodMetrics");
    assert!(one["containers"][0]["usage"]["cpu"]
        .as_str()
        .unwrap()
        .ends_with('m'));
}

#[tokio::test]
async fn a_stale_resource_version_is_a_409_conflict() {
    let world = World::generate(18);
    let c = checkout_cluster(&world);
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
    let deployments = Api::<Deployment>::namespaced(client, "shop");
    let stale = deployments.get(CHECKOUT_SERVICE).await.unwrap();

    let mut fresh = stale.clone();
    fresh
        .metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert("team".into(), "payments".into());
    let updated = deployments
        .replace(CHECKOUT_SERVICE, &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_ne!(
        updated.metadata.resource_version,
        stale.metadata.resource_version
    );
    assert_eq!(updated.metadata.labels.unwrap()["team"], "payments");

    let err = deployments
        .replace(CHECKOUT_SERVICE, &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (409, "Conflict".into()));
    let ::kube::Error::Api(status) = &err else {
        unreachable!()
    };
    assert!(
        status.message.contains("the object has been modified"),
        "{}",
        status.message
    );

    // A patch that names the stale version conflicts too; one without does not.
    let patch = json!({"metadata": {"resourceVersion": stale.metadata.resource_version}, "spec": {"replicas": 4}});
    let err = deployments
        .patch(
            CHECKOUT_SERVICE,
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&err).0, 409);
    deployments
        .patch(
            CHECKOUT_SERVICE,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();

    // A dry run answers with the result and changes nothing.
    let dry = deployments
        .patch(
            CHECKOUT_SERVICE,
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(dry.spec.replicas, Some(7));
    let after = deployments.get(CHECKOUT_SERVICE).await.unwrap();
    assert_eq!(after.spec.replicas, Some(4));

    let missing = deployments.get("nope").await.unwrap_err();
    assert_eq!(api_code(&missing), (404, "NotFound".into()));
}

#[tokio::test]
async fn tokens_are_checked_per_cluster() {
    let world = World::generate(19);
    let do_cluster = cluster(&world, Cloud::DigitalOcean);
    let gcp = cluster(&world, Cloud::Gcp);
    let azure = cluster(&world, Cloud::Azure);
    let (sandbox, http) = start(world);

    let none = client(&sandbox, &gcp.id, None);
    let err = Api::<Pod>::all(none)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (401, "Unauthorized".into()));

    let other = client(&sandbox, &gcp.id, Some(k8s_token(&azure.id)));
    let err = Api::<Pod>::all(other)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (401, "Unauthorized".into()));

    // GKE takes the sandbox's OAuth token; AKS does not.
    let gcp_client = client(
        &sandbox,
        &gcp.id,
        Some(cloudops_sandbox::GCP_ACCESS_TOKEN.into()),
    );
    Api::<Namespace>::all(gcp_client)
        .list(&ListParams::default())
        .await
        .unwrap();
    let azure_client = client(
        &sandbox,
        &azure.id,
        Some(cloudops_sandbox::GCP_ACCESS_TOKEN.into()),
    );
    let err = Api::<Namespace>::all(azure_client)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err).0, 401);

    // DOKS: the token /credentials hands out opens the cluster's API.
    let creds: Value = http
        .get(format!(
            "{}/do/v2/kubernetes/clusters/{}/credentials",
            sandbox.base_url(),
            do_cluster.id
        ))
        .bearer_auth(cloudops_sandbox::DO_ACCESS_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let server = creds["server"].as_str().unwrap();
    assert_eq!(
        server,
        format!("{}/k8s/{}", sandbox.base_url(), do_cluster.id)
    );
    let do_client = client(
        &sandbox,
        &do_cluster.id,
        creds["token"].as_str().map(String::from),
    );
    Api::<Node>::all(do_client)
        .list(&ListParams::default())
        .await
        .unwrap();

    // Unknown paths answer a NotFound Status, not axum's text.
    let ok = client(&sandbox, &gcp.id, Some(k8s_token(&gcp.id)));
    let err = ok
        .request::<Value>(http_get("/apis/example.com/v1/widgets"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (404, "NotFound".into()));
}

fn eks_token(access_key: &str) -> String {
    let url = format!(
        "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\
         &X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential={access_key}%2F20250601%2Fus-east-1%2Fsts%2Faws4_request\
         &X-Amz-Date=20250601T000000Z&X-Amz-Expires=60\
         &X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=0123abcd"
    );
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

#[tokio::test]
async fn an_eks_token_opens_aws_clusters_only() {
    let world = World::generate(20);
    let aws = cluster(&world, Cloud::Aws);
    let gcp = cluster(&world, Cloud::Gcp);
    let (sandbox, _) = start(world);

    let good = client(
        &sandbox,
        &aws.id,
        Some(eks_token(cloudops_sandbox::AWS_ACCESS_KEY_ID)),
    );
    let ns = Api::<Namespace>::all(good)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(ns
        .items
        .iter()
        .any(|n| n.metadata.name.as_deref() == Some("kube-system")));

    let wrong_key = client(&sandbox, &aws.id, Some(eks_token("AKIAEXAMPLE")));
    let err = Api::<Namespace>::all(wrong_key)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err).0, 401);

    let on_gcp = client(
        &sandbox,
        &gcp.id,
        Some(eks_token(cloudops_sandbox::AWS_ACCESS_KEY_ID)),
    );
    let err = Api::<Namespace>::all(on_gcp)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err).0, 401);
}
