//! The DigitalOcean provider against the official examples (served by a
//! fixture server) and against the sandbox.

use std::{net::SocketAddr, sync::Arc};

use cloudops_cloud::{
    providers::{digitalocean::DigitalOceanProvider, Provider, Scope},
    resilience::{Breakers, CallPolicy},
};
use cloudops_sandbox::{Cloud, Sandbox, World};
use serde_json::{json, Value};

use crate::{
    doks::example,
    fixture_server::{FixtureServer, Reply},
};

fn policy() -> CallPolicy {
    CallPolicy {
        timeout: std::time::Duration::from_secs(5),
        retries: 1,
        min_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
    }
}

fn provider(endpoint: &str, token: &str) -> DigitalOceanProvider {
    DigitalOceanProvider::new(
        "test",
        Some(endpoint),
        token.into(),
        reqwest::Client::new(),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap()
}

fn all() -> Scope {
    Scope::new("", "all regions")
}

#[tokio::test]
async fn discovery_follows_paging_over_the_official_examples_and_scale_sends_the_put() {
    let page = example("digitalocean/kubernetes/responses/all_clusters.yml");
    let pools = example("digitalocean/kubernetes/responses/all_node_pools.yml");
    let updated = example("digitalocean/kubernetes/responses/node_pool_update.yml");
    let server = FixtureServer::start(move |req, _base| {
        match (req.method.as_str(), req.uri.as_str()) {
            ("GET", u) if u.starts_with("/v2/kubernetes/clusters?") && !u.contains("&page=2") && !u.contains("?page=2") => {
                // Page 1 links to page 2 on the public API host: the client
                // must keep the configured endpoint.
                let mut p = page.clone();
                p["links"] = json!({"pages": {"next": "https://api.digitalocean.com/v2/kubernetes/clusters?page=2&per_page=1"}});
                Reply::json(p)
            }
            ("GET", u) if u.starts_with("/v2/kubernetes/clusters?") => {
                let mut p = page.clone();
                p["kubernetes_clusters"][0]["name"] = json!("prod-cluster-02");
                p["kubernetes_clusters"][0]["id"] = json!("00000000-5e1e-4205-a714-a914373942af");
                Reply::json(p)
            }
            ("GET", u) if u.ends_with("/node_pools") => Reply::json(pools.clone()),
            ("PUT", _) => Reply::status(202, updated.clone()),
            _ => Reply::status(404, json!({"id": "not_found", "message": "nope"})),
        }
    })
    .await;
    let p = provider(&server.base_url, "do-token");
    let found = p.discover(&all()).await.unwrap();
    let names: Vec<_> = found.iter().map(|c| c.locator.name.as_str()).collect();
    assert_eq!(names, ["prod-cluster-01", "prod-cluster-02"]);
    let c = &found[0];
    assert_eq!(c.locator.region, "nyc1");
    assert_eq!(c.locator.native_id, "bd5f5959-5e1e-4205-a714-a914373942af");
    assert_eq!(c.version.as_deref(), Some("1.18.6-do.0"));
    assert_eq!(c.status, "provisioning");
    let pool_view: Vec<_> = c
        .node_pools
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.count,
                p.min,
                p.max,
                p.machine_type.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        pool_view,
        [
            ("frontend-pool", 3, None, None, Some("s-1vcpu-2gb")),
            ("backend-pool", 2, Some(2), Some(5), Some("g-4vcpu-16gb")),
        ]
    );
    assert!(server
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer do-token")));

    let outcome = p
        .scale_node_pool(&c.locator, "frontend-pool", 5)
        .await
        .unwrap();
    assert_eq!(outcome.requested, 5);
    let put = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("a PUT reached the server");
    assert_eq!(
        put.uri,
        "/v2/kubernetes/clusters/bd5f5959-5e1e-4205-a714-a914373942af/node_pools/cdda885e-7663-40c8-bc74-3a036c66545d"
    );
    let body: Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(
        body,
        json!({"name": "frontend-pool", "count": 5, "auto_scale": false})
    );

    // An autoscaled pool refuses a count outside its bounds, before any PUT.
    let puts_before = server
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    let err = p
        .scale_node_pool(&c.locator, "backend-pool", 9)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "rejected");
    assert!(err.to_string().contains("between 2 and 5"), "{err}");
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .count(),
        puts_before
    );
}

#[tokio::test]
async fn replies_with_missing_fields_or_wrong_types_are_decode_errors() {
    let server = FixtureServer::start(|req, _| {
        if req.uri.contains("wrong") {
            Reply::json(json!({"kubernetes_clusters": [{"id": 7, "name": "x"}]}))
        } else {
            Reply::json(json!({"kubernetes_clusters": [{"name": "no-id"}]}))
        }
    })
    .await;
    let err = provider(&server.base_url, "t")
        .discover(&all())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "bad_reply", "{err}");
    assert!(err.to_string().contains("cluster list"), "{err}");
}

#[tokio::test]
async fn bad_endpoint_override_and_revoked_token_are_clear_errors() {
    let err = DigitalOceanProvider::new(
        "test",
        Some("ftp://example.com"),
        "t".into(),
        reqwest::Client::new(),
        policy(),
        Arc::new(Breakers::default()),
    )
    .err()
    .unwrap();
    assert_eq!(err.kind(), "config");
    assert!(err.to_string().contains("CLOUDOPS_DO_ENDPOINT"), "{err}");

    let world = World::generate(7);
    let sandbox = Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world).unwrap();
    let err = provider(&format!("{}/do", sandbox.base_url()), "revoked")
        .discover(&all())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "unauthorized", "{err}");
    assert!(err.hint().contains("DigitalOcean token"));
}

#[tokio::test]
async fn against_the_sandbox_discovery_scale_and_connect_match_the_world() {
    let world = World::generate(42);
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let p = provider(
        &format!("{}/do", sandbox.base_url()),
        cloudops_sandbox::DO_ACCESS_TOKEN,
    );
    let mut found = p.discover(&all()).await.unwrap();
    found.sort_by(|a, b| a.locator.name.cmp(&b.locator.name));
    let mut expected: Vec<_> = world
        .read()
        .clusters_of(Cloud::DigitalOcean)
        .cloned()
        .collect();
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(found.len(), expected.len());
    for (f, w) in found.iter().zip(&expected) {
        assert_eq!(f.locator.name, w.name);
        assert_eq!(f.locator.region, w.region);
        assert_eq!(f.locator.native_id, w.id);
        assert!(
            f.version.as_deref().unwrap().starts_with(&w.k8s_version()),
            "{:?}",
            f.version
        );
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
    p.scale_node_pool(&target.locator, &pool, 4).await.unwrap();
    let now = world
        .read()
        .cluster(&target.locator.native_id)
        .unwrap()
        .node_pool(&pool)
        .unwrap()
        .count;
    assert_eq!(now, 4);
    let described = p.describe(&target.locator).await.unwrap();
    assert_eq!(described.node_pools[0].count, 4);

    let conn = p.connect(&target.locator).await.unwrap();
    assert_eq!(
        conn.endpoint,
        format!("{}/k8s/{}", sandbox.base_url(), target.locator.native_id)
    );
    assert!(conn
        .ca_pem
        .as_ref()
        .is_some_and(|ca| ca.starts_with(b"-----BEGIN CERTIFICATE-----")));
    let token = conn.tokens.token().await.unwrap();
    assert_eq!(
        token.secret(),
        format!("sandbox-k8s-{}", target.locator.native_id)
    );
    assert!(
        token.expires_at.is_some(),
        "DOKS credentials carry expires_at"
    );
}
