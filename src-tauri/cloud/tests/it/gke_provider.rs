//! The GKE provider (google-cloud-container-v1 + google-cloud-auth) against
//! a fixture server that serves the schema-checked GKE list (`gke.rs`; Google
//! publishes no example payloads), and against the sandbox.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    response::Response,
    Router,
};
use cloudops_cloud::{
    providers::{
        gcp::{GcpCredentials, GcpProvider, ENDPOINT_VAR, PROJECTS_VAR, TOKEN_VAR},
        ClusterLocator, Provider, Scope,
    },
    resilience::{Breakers, CallPolicy},
    wire::gke as wire,
    ProviderError,
};
use cloudops_sandbox::{Cloud, Sandbox, World, GCP_ACCESS_TOKEN};
use google_cloud_container_v1::model as sdk;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

use crate::{
    fixture_server::{FixtureServer, Recorded, Reply},
    gke::{assert_same_cluster, realistic_list},
};

/// The project of the realistic list's self links.
const FIXTURE_PROJECT: &str = "acme-prod";

fn policy() -> CallPolicy {
    CallPolicy {
        timeout: Duration::from_secs(5),
        retries: 1,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn provider(endpoint: &str, project: &str, token: &str) -> GcpProvider {
    GcpProvider::new(
        "test",
        vec![project.to_owned()],
        Some(endpoint),
        GcpCredentials::StaticToken(token.into()),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap()
}

fn scope(project: &str) -> Scope {
    Scope::new(project, format!("gcp/{project}"))
}

fn start_sandbox(world: &World) -> cloudops_sandbox::RunningSandbox {
    Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap()
}

/// Serves `list` for the cluster list, the named pool of it for a pool GET,
/// and a RUNNING operation for `setSize`; everything is under `/gke`, so the
/// client must keep the endpoint's path prefix.
async fn fixture(list: Value) -> FixtureServer {
    FixtureServer::start(move |req: &Recorded, _| {
        let path = req.uri.split('?').next().unwrap_or_default();
        let list_path = format!("/gke/v1/projects/{FIXTURE_PROJECT}/locations/-/clusters");
        match (req.method.as_str(), path) {
            ("GET", p) if p == list_path => Reply::json(&list),
            ("GET", p) if p.contains("/nodePools/") => {
                let (cluster, pool) = p
                    .rsplit_once("/nodePools/")
                    .map(|(c, pool)| (c.rsplit('/').next().unwrap_or(""), pool))
                    .unwrap();
                let found = list["clusters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c["name"] == cluster)
                    .flat_map(|c| c["nodePools"].as_array().cloned().unwrap_or_default())
                    .find(|np| np["name"] == pool);
                match found {
                    Some(np) => Reply::json(np),
                    None => Reply::status(404, json!({"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})),
                }
            }
            ("POST", p) if p.ends_with(":setSize") => Reply::json(json!({
                "name": "operation-1739952000000-5f0a1b2c",
                "operationType": "SET_NODE_POOL_SIZE",
                "status": "RUNNING",
                "targetLink": format!("https://container.googleapis.com{}", p.trim_start_matches("/gke").trim_end_matches(":setSize")),
            })),
            _ => Reply::status(404, json!({"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})),
        }
    })
    .await
}

/// name, count, min, max, machine type
type PoolView = (String, u32, Option<u32>, Option<u32>, Option<String>);

fn pools_of(c: &cloudops_cloud::providers::DiscoveredCluster) -> Vec<PoolView> {
    c.node_pools
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.count,
                p.min,
                p.max,
                p.machine_type.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn fixture_list_discovers_names_locations_versions_and_pools() {
    let server = fixture(realistic_list()).await;
    let p = provider(
        &format!("{}/gke", server.base_url),
        FIXTURE_PROJECT,
        "fixture-token",
    );
    let found = p.discover(&scope(FIXTURE_PROJECT)).await.unwrap();

    let ids: Vec<_> = found.iter().map(|c| c.locator.native_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "projects/acme-prod/locations/europe-west1/clusters/prod-eu",
            "projects/acme-prod/locations/us-central1-a/clusters/staging-us",
        ]
    );
    let prod = &found[0];
    assert_eq!(
        (prod.locator.name.as_str(), prod.locator.region.as_str()),
        ("prod-eu", "europe-west1")
    );
    assert_eq!(prod.locator.scope, FIXTURE_PROJECT);
    assert_eq!(prod.version.as_deref(), Some("1.31.5-gke.1023000"));
    assert_eq!(prod.status, "RUNNING");
    // GKE's bare IP becomes a URL.
    assert_eq!(prod.endpoint.as_deref(), Some("https://34.76.12.34"));
    assert_eq!(
        pools_of(prod),
        [
            // initialNodeCount 1 × 3 zones, per-zone autoscaling 1..3 × 3.
            (
                "default-pool".into(),
                3,
                Some(3),
                Some(9),
                Some("e2-standard-4".into())
            ),
            // No initialNodeCount (0) × 1 zone, total autoscaling 0..10.
            (
                "spot-batch".into(),
                0,
                Some(0),
                Some(10),
                Some("n2-standard-8".into())
            ),
        ]
    );
    let staging = &found[1];
    assert_eq!(staging.locator.region, "us-central1-a");
    assert_eq!(staging.status, "PROVISIONING");
    assert_eq!(staging.endpoint, None);
    assert_eq!(
        pools_of(staging),
        [(
            "default-pool".into(),
            2,
            None,
            None,
            Some("e2-medium".into())
        )]
    );

    // `missingZones` makes the list partial: the clusters are kept and the
    // gap is reported beside them.
    let partial = p.partial_error(&scope(FIXTURE_PROJECT)).expect("flagged");
    assert_eq!(partial.kind(), "unreachable");
    assert!(partial.to_string().contains("asia-east1-a"), "{partial}");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "GET");
    assert!(
        reqs[0]
            .uri
            .starts_with("/gke/v1/projects/acme-prod/locations/-/clusters"),
        "{}",
        reqs[0].uri
    );
    assert_eq!(
        reqs[0].authorization.as_deref(),
        Some("Bearer fixture-token")
    );
}

#[tokio::test]
async fn fixture_integer_enums_read_as_names() {
    // The SDK asks for `enum-encoding=int`, and the real API obliges.
    let mut list = realistic_list();
    list["clusters"][0]["status"] = json!(2);
    list["clusters"][1]["status"] = json!(1);
    let server = fixture(list).await;
    let p = provider(&format!("{}/gke", server.base_url), FIXTURE_PROJECT, "t");
    let found = p.discover(&scope(FIXTURE_PROJECT)).await.unwrap();
    assert_eq!(
        (found[0].status.as_str(), found[1].status.as_str()),
        ("RUNNING", "PROVISIONING")
    );
    assert!(
        server.requests()[0].uri.contains("enum-encoding"),
        "{}",
        server.requests()[0].uri
    );
}

#[tokio::test]
async fn fixture_set_size_posts_the_per_zone_count() {
    let server = fixture(realistic_list()).await;
    let p = provider(&format!("{}/gke", server.base_url), FIXTURE_PROJECT, "t");
    let found = p.discover(&scope(FIXTURE_PROJECT)).await.unwrap();
    let (prod, staging) = (&found[0].locator, &found[1].locator);

    // default-pool spans 3 zones: 6 nodes in total is 2 per zone.
    let out = p.scale_node_pool(prod, "default-pool", 6).await.unwrap();
    assert_eq!(
        (out.pool.as_str(), out.requested, out.completed),
        ("default-pool", 6, false)
    );
    assert_eq!(
        out.operation.as_deref(),
        Some(
            "projects/acme-prod/locations/europe-west1/operations/operation-1739952000000-5f0a1b2c"
        )
    );
    let set_size: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(set_size.len(), 1);
    let path = set_size[0].uri.split('?').next().unwrap().to_owned();
    assert_eq!(
        path,
        "/gke/v1/projects/acme-prod/locations/europe-west1/clusters/prod-eu/nodePools/default-pool:setSize"
    );
    let body: Value = serde_json::from_str(&set_size[0].body).unwrap();
    assert_eq!(body, json!({"nodeCount": 2}));

    // A single-zone pool: the total is the per-zone count.
    p.scale_node_pool(staging, "default-pool", 5).await.unwrap();
    let last = server
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST")
        .unwrap();
    assert!(last.uri.starts_with(
        "/gke/v1/projects/acme-prod/locations/us-central1-a/clusters/staging-us/nodePools/default-pool:setSize"
    ));
    assert_eq!(
        serde_json::from_str::<Value>(&last.body).unwrap(),
        json!({"nodeCount": 5})
    );

    // Refused before anything is sent: not a multiple of the zones, and
    // outside the autoscaling bounds (3..=9).
    for bad in [7, 12] {
        let err = p
            .scale_node_pool(prod, "default-pool", bad)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "rejected", "{err}");
        assert!(err.to_string().contains("not sent to GKE"), "{err}");
    }
    let posts = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 2);

    let err = p
        .scale_node_pool(prod, "no-such-pool", 3)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "not_found", "{err}");
}

#[tokio::test]
async fn sandbox_discovery_returns_exactly_the_worlds_gcp_clusters() {
    let world = World::generate(42);
    let sandbox = start_sandbox(&world);
    let project = world.read().accounts.gcp_project.clone();
    let p = provider(
        &format!("{}/gke", sandbox.base_url()),
        &project,
        GCP_ACCESS_TOKEN,
    );
    let found = p.discover(&scope(&project)).await.unwrap();
    assert!(p.partial_error(&scope(&project)).is_none());

    let mut expected: Vec<_> = world.read().clusters_of(Cloud::Gcp).cloned().collect();
    expected.sort_by(|a, b| (&a.region, &a.name).cmp(&(&b.region, &b.name)));
    assert!(!expected.is_empty());
    assert_eq!(found.len(), expected.len());
    for (got, want) in found.iter().zip(&expected) {
        assert_eq!(got.locator.name, want.name);
        assert_eq!(got.locator.region, want.region);
        assert_eq!(
            got.locator.native_id,
            format!(
                "projects/{project}/locations/{}/clusters/{}",
                want.region, want.name
            )
        );
        let version = got.version.as_deref().unwrap();
        assert!(
            version.starts_with(&format!("{}-gke.", want.k8s_version())),
            "{version} vs {}",
            want.k8s_version()
        );
        assert_eq!(got.status, "RUNNING");
        assert_eq!(
            got.endpoint.as_deref(),
            Some(format!("{}/k8s/{}", sandbox.base_url(), want.id).as_str())
        );
        let pools: Vec<_> = want
            .node_pools
            .iter()
            .map(|np| {
                (
                    np.name.clone(),
                    np.count,
                    None,
                    None,
                    Some(np.machine_type.clone()),
                )
            })
            .collect();
        assert_eq!(pools_of(got), pools, "pools of {}", want.name);
    }

    // describe() finds the same cluster again.
    let again = p.describe(&found[0].locator).await.unwrap();
    assert_eq!(again, found[0]);
}

#[tokio::test]
async fn sandbox_payloads_parse_with_the_sdk_and_the_wire_models_alike() {
    let world = World::generate(42);
    let sandbox = start_sandbox(&world);
    let project = world.read().accounts.gcp_project.clone();
    let raw: Value = reqwest::Client::new()
        .get(format!(
            "{}/gke/v1/projects/{project}/locations/-/clusters",
            sandbox.base_url()
        ))
        .bearer_auth(GCP_ACCESS_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wire: wire::ListClustersResponse = serde_json::from_value(raw.clone()).unwrap();
    let sdk: sdk::ListClustersResponse = serde_json::from_value(raw).unwrap();
    assert!(!wire.clusters.is_empty());
    assert_eq!(wire.clusters.len(), sdk.clusters.len());
    for (w, s) in wire.clusters.iter().zip(&sdk.clusters) {
        assert_same_cluster(w, s);
    }
}

#[tokio::test]
async fn sandbox_scale_node_pool_resizes_the_world_through_set_size() {
    let world = World::generate(42);
    let sandbox = start_sandbox(&world);
    let proxy = RecordingProxy::start(sandbox.base_url().to_owned()).await;
    let project = world.read().accounts.gcp_project.clone();
    let p = provider(
        &format!("{}/gke", proxy.base_url),
        &project,
        GCP_ACCESS_TOKEN,
    );
    let found = p.discover(&scope(&project)).await.unwrap();
    let target = &found[0];
    let pool = target.node_pools[0].name.clone();
    let wanted = target.node_pools[0].count + 2;

    let out = p
        .scale_node_pool(&target.locator, &pool, wanted)
        .await
        .unwrap();
    assert_eq!(out.requested, wanted);
    assert!(out.completed, "the sandbox finishes at once");
    let op = out.operation.expect("an operation name");
    assert!(
        op.starts_with(&format!(
            "projects/{project}/locations/{}/operations/operation-",
            target.locator.region
        )),
        "{op}"
    );
    assert!(p.operation_done(&op).await.unwrap());

    assert_eq!(pool_count(&world, &target.locator.name, &pool), wanted);

    let seen = proxy.requests();
    let posts: Vec<_> = seen.iter().filter(|r| r.0 == "POST").collect();
    assert_eq!(posts.len(), 1, "{seen:?}");
    assert_eq!(
        posts[0].1.split('?').next().unwrap(),
        format!(
            "/gke/v1/{}/nodePools/{pool}:setSize",
            target.locator.native_id
        )
    );
    // Sandbox pools run in one zone, so the per-zone count is the total.
    assert_eq!(
        serde_json::from_str::<Value>(&posts[0].2).unwrap(),
        json!({"nodeCount": wanted})
    );

    // Scaling to zero sends `{}` (proto3 leaves 0 out); the sandbox must
    // read it as 0.
    p.scale_node_pool(&target.locator, &pool, 0).await.unwrap();
    assert_eq!(pool_count(&world, &target.locator.name, &pool), 0);
}

/// The world's own count for a GKE pool (the lock is released before the
/// caller awaits anything).
fn pool_count(world: &World, cluster: &str, pool: &str) -> u32 {
    let state = world.read();
    let c = state
        .clusters_of(Cloud::Gcp)
        .find(|c| c.name == cluster)
        .unwrap();
    c.node_pool(pool).unwrap().count
}

#[tokio::test]
async fn sandbox_connect_gives_endpoint_ca_and_a_token_that_lists_pods() {
    let world = World::generate(42);
    let sandbox = start_sandbox(&world);
    let project = world.read().accounts.gcp_project.clone();
    let p = provider(
        &format!("{}/gke", sandbox.base_url()),
        &project,
        GCP_ACCESS_TOKEN,
    );
    let found = p.discover(&scope(&project)).await.unwrap();
    let target = &found[0];
    let conn = p.connect(&target.locator).await.unwrap();
    assert_eq!(Some(conn.endpoint.clone()), target.endpoint);
    let ca = conn.ca_pem.as_deref().expect("a CA");
    assert!(ca.starts_with(b"-----BEGIN CERTIFICATE-----"));
    let token = conn.tokens.token().await.unwrap();
    assert_eq!(token.secret(), GCP_ACCESS_TOKEN);
    assert_eq!(token.expires_at, None, "a static token never refreshes");

    // The connection is enough for a Kubernetes client (plain HTTP to the
    // sandbox, so the placeholder CA is not used).
    let mut config = kube::Config::new(conn.endpoint.parse().unwrap());
    config.auth_info.token = Some(token.secret().to_owned().into());
    let client = kube::Client::try_from(config).unwrap();
    let pods: kube::Api<Pod> = kube::Api::all(client);
    let listed = pods.list(&Default::default()).await.unwrap();
    assert!(!listed.items.is_empty());
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_not_retried() {
    let world = World::generate(42);
    let sandbox = start_sandbox(&world);
    let project = world.read().accounts.gcp_project.clone();
    let breakers = Arc::new(Breakers::default());
    let p = GcpProvider::new(
        "test",
        vec![project.clone()],
        Some(&format!("{}/gke", sandbox.base_url())),
        GcpCredentials::StaticToken("revoked".into()),
        policy(),
        breakers.clone(),
    )
    .unwrap();
    let err = p.discover(&scope(&project)).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("invalid authentication credentials"),
        "{err}"
    );
    assert_eq!(breakers.attempts(), 1);

    // A project the account cannot see: 403, also Unauthorized.
    let p = provider(
        &format!("{}/gke", sandbox.base_url()),
        "someone-elses",
        GCP_ACCESS_TOKEN,
    );
    let err = p.discover(&scope("someone-elses")).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Unauthorized { status: 403, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_endpoint_overrides_are_config_errors() {
    for bad in [
        "http://example.com/gke",
        "ftp://127.0.0.1/gke",
        "not a url",
        "https://",
    ] {
        let err = GcpProvider::new(
            "test",
            vec!["p-1".into()],
            Some(bad),
            GcpCredentials::StaticToken("t".into()),
            policy(),
            Arc::new(Breakers::default()),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "config", "{bad}: {err}");
        assert!(err.to_string().contains(ENDPOINT_VAR), "{err}");
    }
    // The same through the ambient variables.
    let vars = |endpoint: &'static str| {
        move |k: &str| match k {
            PROJECTS_VAR => Some(" p-1 , p-2,p-1,".to_owned()),
            TOKEN_VAR => Some("t".to_owned()),
            ENDPOINT_VAR => Some(endpoint.to_owned()),
            _ => None,
        }
    };
    let err = GcpProvider::from_vars(
        "ambient",
        vars("http://10.0.0.1/gke"),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "config");
    let ok = GcpProvider::from_vars(
        "ambient",
        vars("http://127.0.0.1:1/gke"),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap();
    assert_eq!(ok.projects(), ["p-1", "p-2"]);
    assert_eq!(ok.endpoint(), "http://127.0.0.1:1/gke");
    let scopes = ok.scopes().await.unwrap();
    assert_eq!(
        scopes.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["p-1", "p-2"]
    );

    // No projects at all is a config error that names the variable.
    let err = GcpProvider::from_vars("ambient", |_| None, policy(), Arc::new(Breakers::default()))
        .unwrap_err();
    assert!(err.to_string().contains(PROJECTS_VAR), "{err}");
    // A project id that would change the path.
    let err = GcpProvider::new(
        "test",
        vec!["a/b".into()],
        None,
        GcpCredentials::StaticToken("t".into()),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "config");
}

#[tokio::test]
async fn replies_with_missing_fields_or_wrong_types_are_decode_errors() {
    let cases = [
        json!({"clusters": [{"name": 7, "location": "europe-west1"}]}),
        json!({"clusters": "not a list"}),
        json!({"clusters": [{"location": "europe-west1"}]}),
        json!({"clusters": [{"name": "c"}]}),
        json!({"clusters": [{"name": "c", "location": "l", "nodePools": [{"name": "p", "initialNodeCount": -3}]}]}),
        json!({"clusters": [{"name": "c", "location": "l", "nodePools": [{"initialNodeCount": 1}]}]}),
        json!({"clusters": [{"name": "c", "location": "l", "currentNodeCount": "many"}]}),
    ];
    for case in cases {
        let server = fixture(case.clone()).await;
        let p = provider(&format!("{}/gke", server.base_url), FIXTURE_PROJECT, "t");
        let err = p.discover(&scope(FIXTURE_PROJECT)).await.unwrap_err();
        assert_eq!(err.kind(), "bad_reply", "{case}: {err}");
        // Not transient: one attempt only.
        assert_eq!(server.requests().len(), 1, "{case}");
    }

    // Not JSON at all.
    let server = FixtureServer::start(|_, _| Reply::json("<html>maintenance</html>")).await;
    let p = provider(&format!("{}/gke", server.base_url), FIXTURE_PROJECT, "t");
    let err = p.discover(&scope(FIXTURE_PROJECT)).await.unwrap_err();
    assert_eq!(err.kind(), "bad_reply", "{err}");

    // A CA that is not base64: connect() says so without echoing it.
    let mut list = realistic_list();
    list["clusters"][0]["masterAuth"]["clusterCaCertificate"] = json!("%%%secret%%%");
    let cluster = list["clusters"][0].clone();
    let server = FixtureServer::start(move |_, _| Reply::json(&cluster)).await;
    let p = provider(&format!("{}/gke", server.base_url), FIXTURE_PROJECT, "t");
    let locator = ClusterLocator {
        native_id: "projects/acme-prod/locations/europe-west1/clusters/prod-eu".into(),
        scope: FIXTURE_PROJECT.into(),
        region: "europe-west1".into(),
        name: "prod-eu".into(),
    };
    let err = p.connect(&locator).await.unwrap_err();
    assert_eq!(err.kind(), "bad_reply", "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[tokio::test]
async fn server_errors_and_throttling_are_retried_then_reported() {
    let server = FixtureServer::start(|_, _| Reply {
        status: axum::http::StatusCode::TOO_MANY_REQUESTS,
        headers: vec![("retry-after", "0".into())],
        body: json!({"error": {"code": 429, "message": "Quota exceeded for quota metric", "status": "RESOURCE_EXHAUSTED"}}).to_string(),
    })
    .await;
    let p = provider(&format!("{}/gke", server.base_url), FIXTURE_PROJECT, "t");
    let err = p.discover(&scope(FIXTURE_PROJECT)).await.unwrap_err();
    assert_eq!(err.kind(), "throttled", "{err}");
    assert!(err.to_string().contains("Quota exceeded"), "{err}");
    // Our one retry, and no SDK retries on top.
    assert_eq!(server.requests().len(), 2);
}

/// Forwards everything to the sandbox and records (method, path and query,
/// body), so a test sees exactly what the SDK sent.
struct RecordingProxy {
    base_url: String,
    seen: Arc<Mutex<Vec<(String, String, String)>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl RecordingProxy {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
        let http = reqwest::Client::new();
        let rec = seen.clone();
        let app = Router::new().fallback(move |req: Request| {
            let (rec, http, target) = (rec.clone(), http.clone(), target.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = to_bytes(body, 1 << 20).await.unwrap();
                rec.lock().unwrap().push((
                    parts.method.to_string(),
                    parts.uri.to_string(),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                let mut fwd = http
                    .request(parts.method, format!("{target}{}", parts.uri))
                    .body(body);
                for h in ["authorization", "content-type"] {
                    if let Some(v) = parts.headers.get(h) {
                        fwd = fwd.header(h, v.clone());
                    }
                }
                let resp = fwd.send().await.unwrap();
                let status = resp.status();
                let bytes = resp.bytes().await.unwrap();
                let mut out = Response::new(Body::from(bytes));
                *out.status_mut() = status;
                out.headers_mut()
                    .insert("content-type", "application/json".parse().unwrap());
                out
            }
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        RecordingProxy {
            base_url,
            seen,
            _stop: tx,
        }
    }

    fn requests(&self) -> Vec<(String, String, String)> {
        self.seen.lock().unwrap().clone()
    }
}
