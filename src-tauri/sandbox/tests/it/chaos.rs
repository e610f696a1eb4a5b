//! Chaos control (issue 3, "Behaviour"): a region outage fails that region's
//! provider calls in each provider's error shape and hangs its clusters'
//! Kubernetes APIs; clearing it restores both. Error rates and latency.

use std::time::{Duration, Instant};

use cloudops_cloud::wire::{
    arm::{ArmErrorResponse, API_VERSION},
    doks::DoError,
    gke::{GoogleErrorResponse, ListClustersResponse as GkeList},
};
use cloudops_sandbox::{
    chaos::{ActiveFault, Fault, Target},
    eks::{EksErrorBody, ListClustersResponse as EksList},
    kube::k8s_token,
    Cloud, Cluster, RunningSandbox, World,
};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json as j, Value};

use crate::{json, start};

fn sigv4(region: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=sandbox/20250601/{region}/eks/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
    )
}

/// One provider request aimed at `c` (its region, or the cluster itself).
fn provider_call(sandbox: &RunningSandbox, http: &Client, c: &Cluster) -> RequestBuilder {
    let b = sandbox.base_url();
    let (project, sub) = {
        let w = sandbox.world().read();
        (
            w.accounts.gcp_project.clone(),
            w.accounts.azure_subscription_id.clone(),
        )
    };
    match c.cloud {
        Cloud::Aws => http
            .get(format!("{b}/aws/clusters"))
            .header("authorization", sigv4(&c.region)),
        Cloud::Gcp => http
            .get(format!(
                "{b}/gke/v1/projects/{project}/locations/{}/clusters",
                c.region
            ))
            .bearer_auth(cloudops_sandbox::GCP_ACCESS_TOKEN),
        Cloud::Azure => http
            .get(format!(
                "{b}/arm/subscriptions/{sub}/resourceGroups/rg-fleet-{}/providers/Microsoft.ContainerService/managedClusters/{}?api-version={API_VERSION}",
                c.region, c.name
            ))
            .bearer_auth(cloudops_sandbox::AZURE_ACCESS_TOKEN),
        Cloud::DigitalOcean => http
            .get(format!("{b}/do/v2/kubernetes/clusters/{}", c.id))
            .bearer_auth(cloudops_sandbox::DO_ACCESS_TOKEN),
    }
}

/// Asserts the provider's own 503 shape.
async fn assert_provider_503(cloud: Cloud, resp: reqwest::Response) {
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{cloud:?}");
    match cloud {
        Cloud::Aws => {
            let kind = resp
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            assert_eq!(kind.as_deref(), Some("ServiceUnavailableException"));
            let body: EksErrorBody = json(resp).await;
            assert!(body.message.contains("unavailable"), "{body:?}");
        }
        Cloud::Gcp => {
            let body: GoogleErrorResponse = json(resp).await;
            assert_eq!(body.error.code, 503);
            assert_eq!(body.error.status.as_deref(), Some("UNAVAILABLE"));
        }
        Cloud::Azure => {
            let body: ArmErrorResponse = json(resp).await;
            assert_eq!(body.error.code, "ServiceUnavailable");
        }
        Cloud::DigitalOcean => {
            let body: DoError = json(resp).await;
            assert_eq!(body.id, "service_unavailable");
        }
    }
}

fn k8s_get(sandbox: &RunningSandbox, http: &Client, c: &Cluster) -> RequestBuilder {
    http.get(format!(
        "{}/k8s/{}/api/v1/namespaces",
        sandbox.base_url(),
        c.id
    ))
    .bearer_auth(k8s_token(&c.id))
}

async fn post_fault(sandbox: &RunningSandbox, http: &Client, body: Value) -> u64 {
    let resp = http
        .post(format!("{}/sandbox/chaos", sandbox.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = json(resp).await;
    v["id"].as_u64().expect("an id")
}

/// A cluster of `cloud` in a region other than `down`'s, if the world has one.
fn elsewhere(world: &World, cloud: Cloud, down: &str) -> Option<Cluster> {
    world
        .read()
        .clusters_of(cloud)
        .find(|c| c.region != down)
        .cloned()
}

#[tokio::test]
async fn a_region_outage_fails_provider_calls_and_hangs_kube_apis_until_cleared() {
    let world = World::default();
    let (sandbox, http) = start(world.clone());
    let short = Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    for cloud in Cloud::ALL {
        let down = world.read().clusters_of(cloud).next().cloned().unwrap();
        let up = elsewhere(&world, cloud, &down.region);
        let id = post_fault(
            &sandbox,
            &http,
            j!({"kind": "region_outage", "cloud": cloud.as_str(), "region": down.region}),
        )
        .await;

        let resp = provider_call(&sandbox, &http, &down).send().await.unwrap();
        assert_provider_503(cloud, resp).await;
        let started = Instant::now();
        let held = k8s_get(&sandbox, &short, &down).send().await;
        assert!(
            held.as_ref().is_err_and(|e| e.is_timeout()),
            "{cloud:?}: the kube API answered during the outage: {held:?}"
        );
        assert!(started.elapsed() >= Duration::from_millis(900));
        if let Some(up) = &up {
            let resp = provider_call(&sandbox, &http, up).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{cloud:?}: another region is affected");
            let resp = k8s_get(&sandbox, &short, up).send().await.unwrap();
            assert_eq!(resp.status(), 200);
        }

        // A request held when the fault clears is released, and answered.
        let pending = tokio::spawn(k8s_get(&sandbox, &http, &down).send());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let resp = http
            .delete(format!("{}/sandbox/chaos/{id}", sandbox.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let released = tokio::time::timeout(Duration::from_secs(5), pending)
            .await
            .expect("released on clear")
            .unwrap()
            .unwrap();
        assert_eq!(released.status(), 200);
        let resp = provider_call(&sandbox, &http, &down).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{cloud:?}: not restored");
        let resp = k8s_get(&sandbox, &short, &down).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    assert!(sandbox.chaos().list().is_empty());
}

#[tokio::test]
async fn gke_lists_around_an_outage_with_missing_zones_and_arm_fails_the_list() {
    let world = World::default();
    let (sandbox, http) = start(world.clone());
    let (project, sub) = {
        let w = world.read();
        (
            w.accounts.gcp_project.clone(),
            w.accounts.azure_subscription_id.clone(),
        )
    };
    let gke = world
        .read()
        .clusters_of(Cloud::Gcp)
        .next()
        .cloned()
        .unwrap();
    let aks = world
        .read()
        .clusters_of(Cloud::Azure)
        .next()
        .cloned()
        .unwrap();
    for (cloud, region) in [(Target::Gcp, &gke.region), (Target::Azure, &aks.region)] {
        sandbox
            .chaos()
            .add(Fault::RegionOutage {
                cloud,
                region: region.clone(),
            })
            .unwrap();
    }
    let resp = http
        .get(format!(
            "{}/gke/v1/projects/{project}/locations/-/clusters",
            sandbox.base_url()
        ))
        .bearer_auth(cloudops_sandbox::GCP_ACCESS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let list: GkeList = json(resp).await;
    assert!(list.clusters.iter().all(|c| c.location != gke.region));
    let zones: Vec<String> = gke.node_pools.iter().map(|p| p.zone.clone()).collect();
    assert!(
        zones.iter().all(|z| list.missing_zones.contains(z)),
        "{:?} vs {zones:?}",
        list.missing_zones
    );
    // Through `locations/-` a cluster of the region is unavailable too.
    let resp = http
        .get(format!(
            "{}/gke/v1/projects/{project}/locations/-/clusters/{}",
            sandbox.base_url(),
            gke.name
        ))
        .bearer_auth(cloudops_sandbox::GCP_ACCESS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_provider_503(Cloud::Gcp, resp).await;

    let resp = http
        .get(format!(
            "{}/arm/subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters?api-version={API_VERSION}",
            sandbox.base_url()
        ))
        .bearer_auth(cloudops_sandbox::AZURE_ACCESS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_provider_503(Cloud::Azure, resp).await;

    // `DELETE /sandbox/chaos` clears everything.
    let resp = http
        .delete(format!("{}/sandbox/chaos", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    let v: Value = json(resp).await;
    assert_eq!(v["cleared"], 2);
    let resp = http
        .get(format!(
            "{}/gke/v1/projects/{project}/locations/-/clusters",
            sandbox.base_url()
        ))
        .bearer_auth(cloudops_sandbox::GCP_ACCESS_TOKEN)
        .send()
        .await
        .unwrap();
    let list: GkeList = json(resp).await;
    assert!(list.missing_zones.is_empty());
    assert!(list.clusters.iter().any(|c| c.location == gke.region));
}

#[tokio::test]
async fn an_error_rate_of_429s_carries_retry_after_and_is_a_fraction() {
    let (sandbox, http) = start(World::default());
    let list = || {
        http.get(format!("{}/do/v2/kubernetes/clusters", sandbox.base_url()))
            .bearer_auth(cloudops_sandbox::DO_ACCESS_TOKEN)
    };
    let id = post_fault(
        &sandbox,
        &http,
        j!({"kind": "error_rate", "cloud": "do", "rate": 1.0, "status": 429, "retry_after_secs": 7}),
    )
    .await;
    let resp = list().send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
    let body: DoError = json(resp).await;
    assert_eq!(body.id, "too_many_requests");
    assert!(sandbox.chaos().clear(id));

    sandbox
        .chaos()
        .add(Fault::ErrorRate {
            cloud: Target::Do,
            rate: 0.3,
            status: 500,
            retry_after_secs: None,
            seed: Some(1),
        })
        .unwrap();
    let before = sandbox.request_count(Cloud::DigitalOcean);
    let mut failed = 0;
    for _ in 0..100 {
        let resp = list().send().await.unwrap();
        if resp.status() == StatusCode::INTERNAL_SERVER_ERROR {
            let body: DoError = json(resp).await;
            assert_eq!(body.id, "server_error");
            failed += 1;
        } else {
            assert_eq!(resp.status(), 200);
        }
    }
    assert!((15..=45).contains(&failed), "{failed} of 100 failed");
    assert_eq!(sandbox.request_count(Cloud::DigitalOcean) - before, 100);
    // Other providers are untouched.
    let resp = http
        .get(format!("{}/aws/clusters", sandbox.base_url()))
        .header("authorization", sigv4("us-east-1"))
        .send()
        .await
        .unwrap();
    let _: EksList = json(resp).await;
}

#[tokio::test]
async fn latency_delays_each_call_by_at_least_the_configured_time() {
    let (sandbox, http) = start(World::default());
    let project = sandbox.world().read().accounts.gcp_project.clone();
    let gke = || {
        http.get(format!(
            "{}/gke/v1/projects/{project}/locations/-/clusters",
            sandbox.base_url()
        ))
        .bearer_auth(cloudops_sandbox::GCP_ACCESS_TOKEN)
    };
    post_fault(
        &sandbox,
        &http,
        j!({"kind": "latency", "cloud": "gcp", "millis": 200}),
    )
    .await;
    let t = Instant::now();
    assert_eq!(gke().send().await.unwrap().status(), 200);
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );

    let resp = http
        .get(format!("{}/sandbox/chaos", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    let listing: Value = json(resp).await;
    let faults: Vec<ActiveFault> = serde_json::from_value(listing["faults"].clone()).unwrap();
    assert_eq!(
        faults.iter().map(|f| f.fault.clone()).collect::<Vec<_>>(),
        [Fault::Latency {
            cloud: Target::Gcp,
            millis: 200
        }]
    );
    assert_eq!(listing["requests"]["gcp"], 1);

    // Bad input is a 400 with a reason, not a panic.
    let resp = http
        .post(format!("{}/sandbox/chaos", sandbox.base_url()))
        .json(&j!({"kind": "error_rate", "cloud": "gcp", "rate": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = http
        .delete(format!("{}/sandbox/chaos/999", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn shutdown_releases_requests_held_by_an_outage() {
    let world = World::default();
    let (sandbox, _) = start(world.clone());
    let c = world
        .read()
        .clusters_of(Cloud::Aws)
        .next()
        .cloned()
        .unwrap();
    sandbox
        .chaos()
        .add(Fault::RegionOutage {
            cloud: Target::Aws,
            region: c.region.clone(),
        })
        .unwrap();
    let http = Client::new();
    let pending = tokio::spawn(k8s_get(&sandbox, &http, &c).send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(Duration::from_secs(5), sandbox.shutdown())
        .await
        .expect("shutdown is not held up by the outage")
        .unwrap();
    let _ = pending.await;
}

// --- kube faults: a bad rollout and a slow node -----------------------------

mod kube_faults {
    use std::time::Duration;

    use ::kube::{
        api::{ListParams, Patch, PatchParams},
        Api,
    };
    use k8s_openapi::api::{
        apps::v1::Deployment,
        core::v1::{Event, Pod},
    };
    use reqwest::StatusCode;
    use serde_json::{json as j, Value};

    use cloudops_sandbox::{chaos::Fault, kube::k8s_token, World};

    use crate::{
        kube::{checkout_cluster, client, eventually, http_get, ready},
        start,
    };

    fn crash_looping(p: &Pod) -> bool {
        let Some(cs) = p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.first())
        else {
            return false;
        };
        let waiting = cs
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref());
        let exit = cs
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| t.exit_code);
        !cs.ready
            && cs.restart_count > 0
            && waiting == Some("CrashLoopBackOff")
            && exit == Some(1)
            && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
            && !ready(p)
    }

    #[tokio::test]
    async fn a_bad_rollout_crash_loops_new_pods_until_cleared() {
        let world = World::generate(17).with_readiness_delay(Duration::from_millis(150));
        let c = checkout_cluster(&world);
        let (sandbox, http) = start(world);
        let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
        let deployments = Api::<Deployment>::namespaced(client.clone(), "kube-system");
        let pods = Api::<Pod>::namespaced(client.clone(), "kube-system");
        // Four replicas: maxUnavailable 25% lets one old pod go.
        deployments
            .patch(
                "coredns",
                &PatchParams::default(),
                &Patch::Merge(j!({"spec": {"replicas": 4}})),
            )
            .await
            .unwrap();
        let ready_replicas = |d: &Deployment| {
            d.status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0)
        };
        eventually("4 Ready coredns pods", || async {
            let d = deployments.get("coredns").await.ok()?;
            (ready_replicas(&d) == 4).then_some(())
        })
        .await;

        // Unknown targets are 400s that name them.
        let url = format!("{}/sandbox/chaos", sandbox.base_url());
        for (body, names) in [
            (
                j!({"kind": "bad_rollout", "cluster_id": "nope", "namespace": "kube-system", "deployment": "coredns"}),
                "nope",
            ),
            (
                j!({"kind": "bad_rollout", "cluster_id": c.id, "namespace": "kube-system", "deployment": "ghost"}),
                "ghost",
            ),
        ] {
            let resp = http.post(&url).json(&body).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
            let err: Value = resp.json().await.unwrap();
            assert!(err["error"].as_str().unwrap().contains(names), "{err}");
        }

        let resp = http
            .post(&url)
            .json(&j!({"kind": "bad_rollout", "cluster_id": c.id, "namespace": "kube-system", "deployment": "coredns"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let id = resp.json::<Value>().await.unwrap()["id"].as_u64().unwrap();

        let selector = ListParams::default().labels("k8s-app=coredns");
        eventually(
            "crash-looping new pods and fewer Ready replicas",
            || async {
                let d = deployments.get("coredns").await.ok()?;
                let list = pods.list(&selector).await.ok()?;
                let crashing = list.items.iter().filter(|p| crash_looping(p)).count();
                (crashing > 0 && ready_replicas(&d) < 4).then_some(())
            },
        )
        .await;
        let first = pods.list(&selector).await.unwrap();
        let restarts = |p: &Pod| {
            p.status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .and_then(|cs| cs.first())
                .map(|c| c.restart_count)
                .unwrap_or(0)
        };
        let crashing: Vec<(String, i32)> = first
            .items
            .iter()
            .filter(|p| crash_looping(p))
            .map(|p| (p.metadata.name.clone().unwrap(), restarts(p)))
            .collect();
        eventually("restartCount rising", || async {
            let (name, n) = &crashing[0];
            let p = pods.get(name).await.ok()?;
            (restarts(&p) > *n).then_some(())
        })
        .await;
        let events = Api::<Event>::namespaced(client.clone(), "kube-system")
            .list(&ListParams::default().fields("reason=BackOff"))
            .await
            .unwrap();
        assert!(!events.items.is_empty(), "BackOff events");

        sandbox.chaos().clear(id).then_some(()).unwrap();
        eventually("every coredns pod Ready again", || async {
            let d = deployments.get("coredns").await.ok()?;
            let list = pods.list(&selector).await.ok()?;
            let all_ready = list.items.len() == 4 && list.items.iter().all(ready);
            (all_ready && ready_replicas(&d) == 4).then_some(())
        })
        .await;
    }

    #[tokio::test]
    async fn a_slow_node_saturates_its_cpu_until_cleared() {
        let world = World::generate(17);
        let c = checkout_cluster(&world);
        let (sandbox, http) = start(world);
        let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
        let nodes = Api::<k8s_openapi::api::core::v1::Node>::all(client.clone())
            .list(&ListParams::default())
            .await
            .unwrap();
        let node = &nodes.items[0];
        let name = node.metadata.name.clone().unwrap();
        let alloc_milli = node.status.as_ref().unwrap().allocatable.as_ref().unwrap()["cpu"]
            .0
            .strip_suffix('m')
            .unwrap()
            .parse::<u64>()
            .unwrap();
        let cpu = || async {
            let m: Value = client
                .request(http_get(&format!(
                    "/apis/metrics.k8s.io/v1beta1/nodes/{name}"
                )))
                .await
                .unwrap();
            m["usage"]["cpu"]
                .as_str()
                .unwrap()
                .strip_suffix('m')
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        let before = cpu().await;
        assert!(before < alloc_milli * 9 / 10, "{before}m of {alloc_milli}m");

        let url = format!("{}/sandbox/chaos", sandbox.base_url());
        let resp = http
            .post(&url)
            .json(&j!({"kind": "slow_node", "cluster_id": c.id, "node": "no-such-node"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let err: Value = resp.json().await.unwrap();
        assert!(
            err["error"].as_str().unwrap().contains("no-such-node"),
            "{err}"
        );

        let id = sandbox
            .chaos()
            .add(Fault::SlowNode {
                cluster_id: c.id.clone(),
                node: name.clone(),
                factor: None,
            })
            .unwrap();
        // The controllers pick the fault up on their next pass.
        eventually("CPU near allocatable", || async {
            let slow = cpu().await;
            assert!(slow <= alloc_milli, "{slow}m of {alloc_milli}m");
            (slow >= alloc_milli * 9 / 10).then_some(())
        })
        .await;
        let still_ready = Api::<k8s_openapi::api::core::v1::Node>::all(client.clone())
            .get(&name)
            .await
            .unwrap();
        assert!(still_ready
            .status
            .unwrap()
            .conditions
            .unwrap()
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True"));
        eventually("a NodeSlow event", || async {
            let ev = Api::<Event>::namespaced(client.clone(), "default")
                .list(&ListParams::default().fields("reason=NodeSlow"))
                .await
                .ok()?;
            ev.items
                .iter()
                .any(|e| e.involved_object.name.as_deref() == Some(name.as_str()))
                .then_some(())
        })
        .await;

        assert!(sandbox.chaos().clear(id));
        eventually("CPU back down", || async {
            (cpu().await < alloc_milli * 9 / 10).then_some(())
        })
        .await;
    }
}
