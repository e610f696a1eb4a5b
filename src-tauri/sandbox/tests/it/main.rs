//! The sandbox's integration tests: one binary, one module per provider.
//!
//! Every provider response is parsed with the `cloudops_cloud::wire` types,
//! the ones that also parse the official fixtures: that is the wire-format
//! proof of BRIEF §6. (EKS has no shared wire module; its test against moto
//! comes in a later slice.) The per-cluster Kubernetes API is driven by the
//! real `kube::Client` (`kube/`).

mod aks;
mod chaos;
mod cost;
mod doks;
mod eks;
mod gke;
mod kube;
mod prometheus;
mod route_errors;
mod world;
mod world_file;

use std::net::SocketAddr;

use cloudops_sandbox::{RunningSandbox, Sandbox, World};

pub fn start(world: World) -> (RunningSandbox, reqwest::Client) {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let sandbox = Sandbox::start(addr, world).expect("sandbox starts");
    (sandbox, reqwest::Client::new())
}

pub async fn json<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> T {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {e}: does not parse: {text}"))
}

#[tokio::test]
async fn env_lines_point_at_the_bound_port_and_shutdown_stops_serving() {
    let (sandbox, http) = start(World::default());
    let port = sandbox.addr().port();
    assert_ne!(port, 0);
    let lines = sandbox.env_lines();
    for want in [
        format!("AWS_ENDPOINT_URL=http://127.0.0.1:{port}/aws"),
        format!("CLOUDOPS_GKE_ENDPOINT=http://127.0.0.1:{port}/gke"),
        format!("CLOUDOPS_ARM_ENDPOINT=http://127.0.0.1:{port}/arm"),
        format!("CLOUDOPS_DO_ENDPOINT=http://127.0.0.1:{port}/do"),
        "AWS_ACCESS_KEY_ID=sandbox".to_string(),
        "AWS_SECRET_ACCESS_KEY=sandbox".to_string(),
        "CLOUDOPS_GCP_ACCESS_TOKEN=sandbox-gcp".to_string(),
        "CLOUDOPS_AZURE_ACCESS_TOKEN=sandbox-azure".to_string(),
        "DIGITALOCEAN_ACCESS_TOKEN=sandbox-do".to_string(),
    ] {
        assert!(lines.contains(&want), "missing {want} in {lines:?}");
    }
    let url = format!("{}/do/v2/kubernetes/clusters", sandbox.base_url());
    let resp = http
        .get(&url)
        .bearer_auth("sandbox-do")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    drop(resp);
    // A fresh client: no idle keep-alive connection to hold shutdown up.
    drop(http);
    sandbox.shutdown().await.expect("clean shutdown");
    assert!(reqwest::Client::new().get(&url).send().await.is_err());
}

#[tokio::test]
async fn start_outside_a_runtime_is_an_error_not_a_panic() {
    let result = std::thread::spawn(|| {
        Sandbox::start("127.0.0.1:0".parse().unwrap(), World::default()).map(|_| ())
    })
    .join()
    .unwrap();
    assert!(matches!(
        result,
        Err(cloudops_sandbox::SandboxError::NoRuntime)
    ));
}
