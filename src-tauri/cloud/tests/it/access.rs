//! Cluster connection for every provider (issue 4): each provider's
//! `connect()` gives endpoint + CA + token, and the provider-neutral
//! `ClusterAccess` turns that into a `kube::Client` that lists pods in the
//! matching sandbox cluster.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use cloudops_cloud::{
    access::ClusterAccess,
    ambient::{self, Shared},
    providers::{AccessToken, ClusterConnection, RefreshingToken, TokenSource},
    resilience::CallPolicy,
    ProviderError,
};
use cloudops_core::model::Provider as ProviderKind;
use cloudops_sandbox::{Sandbox, World};
use k8s_openapi::api::core::v1::Pod;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_connects_and_lists_pods_in_its_sandbox_cluster() {
    let world = World::generate(42);
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let vars = sandbox.env_map();
    let shared = Shared::new(CallPolicy::default()).unwrap();
    let ambient = ambient::from_env(&|k: &str| vars.get(k).cloned(), &shared).await;
    assert!(ambient.errors.is_empty(), "{:?}", ambient.errors);
    let mut kinds = Vec::new();
    for p in &ambient.providers {
        let scope = p.scopes().await.unwrap().remove(0);
        let cluster = p.discover(&scope).await.unwrap().remove(0);
        let conn = p.connect(&cluster.locator).await.unwrap();
        let expected_id = world
            .read()
            .clusters
            .iter()
            .find(|c| c.name == cluster.locator.name)
            .map(|c| c.id.clone())
            .unwrap();
        assert!(
            conn.endpoint.ends_with(&format!("/k8s/{expected_id}")),
            "{:?}: {} is not the cluster's API",
            p.kind(),
            conn.endpoint
        );
        let access = ClusterAccess::new(conn);
        let pods: kube::Api<Pod> = kube::Api::all(access.client().await.unwrap());
        let listed = pods.list(&Default::default()).await.unwrap_or_else(|e| {
            panic!(
                "{:?} cluster {}: listing pods failed: {e}",
                p.kind(),
                cluster.locator.name
            )
        });
        assert!(!listed.items.is_empty(), "{:?}: no pods", p.kind());
        kinds.push(p.kind());
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ProviderKind::Aws,
            ProviderKind::Gcp,
            ProviderKind::Azure,
            ProviderKind::DigitalOcean
        ]
    );
}

/// Valid for the sandbox, but every token "expires" within the margin, so
/// each `client()` call must mint again and rebuild.
struct ShortLived {
    secret: String,
    minted: AtomicU32,
}

#[async_trait]
impl TokenSource for ShortLived {
    async fn token(&self) -> Result<AccessToken, ProviderError> {
        self.minted.fetch_add(1, Ordering::SeqCst);
        Ok(AccessToken::new(
            self.secret.clone(),
            Some(SystemTime::now() + Duration::from_secs(30)),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_near_expiry_are_reminted_before_use() {
    let world = World::generate(42);
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let id = world.read().clusters[0].id.clone();
    let source = Arc::new(ShortLived {
        secret: format!("sandbox-k8s-{id}"),
        minted: AtomicU32::new(0),
    });
    let access = ClusterAccess::new(ClusterConnection {
        endpoint: format!("{}/k8s/{id}", sandbox.base_url()),
        ca_pem: None,
        // A 60 s margin over a 30 s token: always "about to expire".
        tokens: Arc::new(RefreshingToken::new(
            source.clone(),
            Duration::from_secs(60),
        )),
        identity_pem: None,
    });
    for _ in 0..3 {
        let pods: kube::Api<Pod> = kube::Api::all(access.client().await.unwrap());
        assert!(!pods
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty());
    }
    assert_eq!(source.minted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn bad_endpoints_and_cas_are_errors_not_panics() {
    let tokens = || {
        Arc::new(RefreshingToken::new(
            Arc::new(cloudops_cloud::providers::StaticToken(AccessToken::new(
                "t", None,
            ))),
            Duration::ZERO,
        ))
    };
    let access = ClusterAccess::new(ClusterConnection {
        endpoint: "not a url at all".into(),
        ca_pem: None,
        tokens: tokens(),
        identity_pem: None,
    });
    assert!(matches!(
        access.client().await,
        Err(cloudops_cloud::access::AccessError::BadEndpoint { .. })
    ));
    let access = ClusterAccess::new(ClusterConnection {
        endpoint: "https://10.0.0.1".into(),
        ca_pem: Some(
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        tokens: tokens(),
        identity_pem: None,
    });
    assert!(matches!(
        access.client().await,
        Err(cloudops_cloud::access::AccessError::BadCa { .. })
    ));
}
