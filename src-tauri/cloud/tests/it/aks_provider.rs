//! The AKS provider against the official ARM examples (served by a fixture
//! server, with `nextLink` paging) and against the sandbox.

use std::{net::SocketAddr, sync::Arc};

use cloudops_cloud::{
    providers::{azure::AzureProvider, Provider, Scope},
    resilience::{Breakers, CallPolicy},
};
use cloudops_sandbox::{Cloud, Sandbox, World};
use serde_json::{json, Value};

use crate::{
    arm::body,
    fixture_server::{FixtureServer, Reply},
};

const SUB: &str = "00000000-0000-0000-0000-000000000000";

fn provider(endpoint: &str, token: &str, subs: Vec<String>) -> AzureProvider {
    AzureProvider::new(
        "test",
        Some(endpoint),
        subs,
        token.into(),
        reqwest::Client::new(),
        CallPolicy {
            timeout: std::time::Duration::from_secs(5),
            retries: 1,
            min_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(5),
        },
        Arc::new(Breakers::default()),
    )
    .unwrap()
}

#[tokio::test]
async fn discovery_follows_next_link_over_the_official_examples_and_scale_puts_the_pool() {
    let list = body("ManagedClustersList.json", "200");
    let pool = body("AgentPoolsGet.json", "200");
    let updated = body("AgentPools_Update.json", "200");
    let server = FixtureServer::start(move |req, base| {
        let uri = req.uri.as_str();
        match req.method.as_str() {
            "GET" if uri.contains("/managedClusters?") && !uri.contains("skipToken") => {
                let mut page = list.clone();
                // ARM's nextLink names the public host; the client must
                // move it onto the configured endpoint.
                page["nextLink"] = json!(format!(
                    "https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.ContainerService/managedClusters?api-version=2025-10-01&$skipToken=p2"
                ));
                Reply::json(page)
            }
            "GET" if uri.contains("/managedClusters?") => {
                let mut page = list.clone();
                page["value"][0]["name"] = json!("clustername2");
                page["value"][0]["id"] = json!(format!(
                    "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/clustername2"
                ));
                Reply::json(page)
            }
            "GET" if uri.contains("/agentPools/") => Reply::json(pool.clone()),
            "PUT" if uri.contains("/agentPools/") => {
                let mut r = Reply::json(updated.clone());
                r.headers.push((
                    "azure-asyncoperation",
                    format!("{base}/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/location1/operations/op1?api-version=2025-10-01"),
                ));
                r
            }
            _ => Reply::status(404, json!({"error": {"code": "ResourceNotFound", "message": "no"}})),
        }
    })
    .await;
    let p = provider(&server.base_url, "arm-token", vec![SUB.into()]);
    let scopes = p.scopes().await.unwrap();
    assert_eq!(scopes, vec![Scope::new(SUB, format!("subscription {SUB}"))]);
    let found = p.discover(&scopes[0]).await.unwrap();
    let names: Vec<_> = found.iter().map(|c| c.locator.name.as_str()).collect();
    assert_eq!(names, ["clustername1", "clustername2"]);
    let c = &found[0];
    assert_eq!(c.locator.region, "location1");
    assert_eq!(c.version.as_deref(), Some("1.9.6"));
    assert_eq!(c.status, "Succeeded");
    assert_eq!(
        c.endpoint.as_deref(),
        Some("https://dnsprefix1-abcd1234.hcp.eastus.azmk8s.io:443")
    );
    assert_eq!(c.node_pools.len(), 1);
    assert_eq!(
        (c.node_pools[0].name.as_str(), c.node_pools[0].count),
        ("nodepool1", 3)
    );
    assert_eq!(
        c.node_pools[0].machine_type.as_deref(),
        Some("Standard_DS1_v2")
    );
    let gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(gets.len(), 2);
    assert!(gets[1].uri.contains("$skipToken=p2"), "{}", gets[1].uri);
    assert!(gets
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer arm-token")));

    let outcome = p
        .scale_node_pool(&c.locator, "agentpool1", 5)
        .await
        .unwrap();
    assert!(
        outcome
            .operation
            .as_deref()
            .is_some_and(|o| o.contains("/operations/op1")),
        "{outcome:?}"
    );
    let put = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(
        put.uri,
        format!(
            "{}/agentPools/agentpool1?api-version=2025-10-01",
            c.locator.native_id
        )
    );
    let sent: Value = serde_json::from_str(&put.body).unwrap();
    let props = &sent["properties"];
    assert_eq!(props["count"], 5);
    assert_eq!(props["enableAutoScaling"], false);
    // What we do not change goes back as it was; read-only fields do not.
    assert_eq!(props["vmSize"], "Standard_DS1_v2");
    assert_eq!(props["maxPods"], 110);
    assert_eq!(props["upgradeSettings"], json!({"maxSurge": "33%"}));
    for read_only in [
        "provisioningState",
        "eTag",
        "currentOrchestratorVersion",
        "nodeImageVersion",
    ] {
        assert!(props.get(read_only).is_none(), "{read_only} was sent back");
    }
}

#[tokio::test]
async fn arm_errors_are_typed_with_the_arm_message() {
    let server = FixtureServer::start(|_, _| {
        Reply::status(
            403,
            json!({"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization"}}),
        )
    })
    .await;
    let p = provider(&server.base_url, "t", vec![]);
    let err = p.scopes().await.unwrap_err();
    assert_eq!(err.kind(), "unauthorized");
    assert!(
        err.to_string().contains("does not have authorization"),
        "{err}"
    );
    assert!(err.hint().contains("az login"));
}

#[tokio::test]
async fn against_the_sandbox_subscriptions_paging_scale_and_connect() {
    // 40 clusters: 10 on Azure, two pages of managedClusters at five a page.
    let world = World::generate_with(5, 40).with_arm_page_size(5);
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let p = provider(
        &format!("{}/arm", sandbox.base_url()),
        cloudops_sandbox::AZURE_ACCESS_TOKEN,
        vec![],
    );
    let scopes = p.scopes().await.unwrap();
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].id, world.read().accounts.azure_subscription_id);
    let before = sandbox.request_count(Cloud::Azure);
    let mut found = p.discover(&scopes[0]).await.unwrap();
    assert_eq!(
        sandbox.request_count(Cloud::Azure) - before,
        2,
        "one GET per page: the client followed nextLink"
    );
    found.sort_by(|a, b| a.locator.name.cmp(&b.locator.name));
    let mut expected: Vec<_> = world.read().clusters_of(Cloud::Azure).cloned().collect();
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(expected.len() > 5, "the world must need two pages");
    assert_eq!(
        found
            .iter()
            .map(|c| (&c.locator.name, &c.locator.region))
            .collect::<Vec<_>>(),
        expected
            .iter()
            .map(|c| (&c.name, &c.region))
            .collect::<Vec<_>>()
    );
    for (f, w) in found.iter().zip(&expected) {
        assert_eq!(f.version.as_deref(), Some(w.k8s_version().as_str()));
        let counts: Vec<_> = f
            .node_pools
            .iter()
            .map(|p| (p.name.clone(), p.count))
            .collect();
        let want: Vec<_> = w
            .node_pools
            .iter()
            .map(|p| (p.name.clone(), p.count))
            .collect();
        assert_eq!(counts, want);
    }

    let target = &found[0];
    let pool = target.node_pools[0].name.clone();
    let outcome = p.scale_node_pool(&target.locator, &pool, 6).await.unwrap();
    assert!(outcome.operation.is_some(), "ARM scale is long-running");
    let w = world
        .read()
        .clusters_of(Cloud::Azure)
        .find(|c| c.name == target.locator.name)
        .cloned()
        .unwrap();
    assert_eq!(w.node_pool(&pool).unwrap().count, 6);
    assert_eq!(
        p.describe(&target.locator).await.unwrap().node_pools[0].count,
        6
    );

    let conn = p.connect(&target.locator).await.unwrap();
    assert_eq!(
        conn.endpoint,
        format!("{}/k8s/{}", sandbox.base_url(), w.id)
    );
    assert_eq!(
        conn.tokens.token().await.unwrap().secret(),
        format!("sandbox-k8s-{}", w.id)
    );
}
