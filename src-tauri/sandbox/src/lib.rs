//! The local multi-cloud emulator (BRIEF §6): the four provider APIs on their
//! real paths and wire formats, driven by a simulated [`World`].
//!
//! It serves the provider APIs (EKS, GKE, AKS/ARM, DOKS) for the clusters and
//! node pools of the world, and each cluster's Kubernetes API at
//! `/k8s/{cluster-id}` (the `kube` module). Faults are injected through
//! `/sandbox/chaos` (the `chaos` module); Prometheus arrives in a later slice.
//!
//! It depends on `cloudops-core` and on the wire models of `cloudops-cloud`
//! (the same types the provider clients parse), never the reverse.

// Handlers bail out early with `Err(Response)`, the provider's error reply. An
// axum `Response` is 128 bytes; on a per-request error path that is fine.
#![allow(clippy::result_large_err)]

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use axum::Router;
use tokio::{sync::oneshot, task::JoinHandle};

mod aks;
pub mod chaos;
mod cost;
mod doks;
pub mod eks;
mod gke;
mod http;
pub mod kube;
mod prometheus;
pub mod world;

pub use chaos::{Chaos, ChaosError, Fault, Target as ChaosTarget};
pub use cost::simulated_daily_costs;
pub use world::{Cloud, Cluster, NodePool, World, WorldError, WorldFileError, WorldState};

/// The sandbox's credentials; the provider endpoints accept only these.
pub const AWS_ACCESS_KEY_ID: &str = "sandbox";
pub const AWS_SECRET_ACCESS_KEY: &str = "sandbox";
pub const GCP_ACCESS_TOKEN: &str = "sandbox-gcp";
pub const AZURE_ACCESS_TOKEN: &str = "sandbox-azure";
pub const DO_ACCESS_TOKEN: &str = "sandbox-do";

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox must be started from within a tokio runtime")]
    NoRuntime,
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the sandbox server failed")]
    Serve(#[source] std::io::Error),
    #[error("the sandbox server task panicked or was cancelled")]
    Join(#[source] tokio::task::JoinError),
}

/// State shared by every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    pub world: World,
    /// `http://127.0.0.1:PORT`, for absolute links and cluster endpoints.
    pub base_url: Arc<str>,
    /// GKE operations by `projects/{p}/locations/{l}/operations/{name}`.
    pub gke_operations: Arc<Mutex<BTreeMap<String, cloudops_cloud::wire::gke::Operation>>>,
    pub next_id: Arc<AtomicU64>,
    /// Injected faults (chaos.rs).
    pub chaos: chaos::Chaos,
}

impl AppState {
    /// The URL the cluster's Kubernetes API will be served at.
    pub fn k8s_url(&self, cluster_id: &str) -> String {
        format!("{}/k8s/{cluster_id}", self.base_url)
    }

    /// A fresh, per-server sequence number for operation ids.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }
}

pub struct Sandbox;

impl Sandbox {
    /// Binds `addr` (port 0 picks a free one) and serves the sandbox on the
    /// current tokio runtime until [`RunningSandbox::shutdown`] (or drop).
    pub fn start(addr: SocketAddr, world: World) -> Result<RunningSandbox, SandboxError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| SandboxError::NoRuntime)?;
        let bind_err = |source| SandboxError::Bind { addr, source };
        let std_listener = std::net::TcpListener::bind(addr).map_err(bind_err)?;
        std_listener.set_nonblocking(true).map_err(bind_err)?;
        let local = std_listener.local_addr().map_err(bind_err)?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(bind_err)?
        };
        let base_url = format!("http://{local}");
        let chaos = chaos::Chaos::new(world.read().seed);
        let state = AppState {
            world: world.clone(),
            base_url: base_url.clone().into(),
            gke_operations: Arc::default(),
            next_id: Arc::default(),
            chaos: chaos.clone(),
        };
        // The clusters' controllers run beside the server (kube/controllers.rs).
        let kube = kube::Controllers::start(&runtime, &world);
        let app = router(state, &kube);
        let (tx, rx) = oneshot::channel::<()>();
        let task = runtime.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    // A dropped sender also means: stop.
                    let _ = rx.await;
                })
                .await
        });
        Ok(RunningSandbox {
            addr: local,
            base_url,
            world,
            kube,
            chaos,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

fn router(state: AppState, kube: &kube::Controllers) -> Router {
    Router::new()
        .route("/aws/", eks::cost_explorer_route(state.clone()))
        .nest("/aws", eks::router(state.clone()))
        .nest("/gke", gke::router(state.clone()))
        .nest("/arm", aks::router(state.clone()))
        .nest("/do", doks::router(state.clone()))
        .nest("/k8s", kube::router(state.clone(), kube))
        .nest("/prom", prometheus::router())
        .nest("/sandbox", chaos::router())
        .with_state(state)
}

/// A sandbox serving in the background.
pub struct RunningSandbox {
    addr: SocketAddr,
    base_url: String,
    world: World,
    kube: kube::Controllers,
    chaos: chaos::Chaos,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningSandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The world being served; changes through it are visible to clients.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The chaos control of this sandbox: add and clear faults in-process.
    pub fn chaos(&self) -> &chaos::Chaos {
        &self.chaos
    }

    /// Requests `cloud`'s provider API has received so far (including the
    /// ones chaos failed).
    pub fn request_count(&self, cloud: Cloud) -> u64 {
        self.chaos.requests(chaos::Target::of(cloud))
    }

    /// `KEY=value` lines that point the app or the CLI at this sandbox.
    pub fn env_lines(&self) -> Vec<String> {
        let b = &self.base_url;
        // The scopes to discover: the world's AWS regions and GCP project
        // (Azure subscriptions and DigitalOcean need none: they are listed).
        let (aws_regions, gcp_project) = {
            let w = self.world.read();
            let mut regions: Vec<String> = w
                .clusters_of(Cloud::Aws)
                .map(|c| c.region.clone())
                .collect();
            regions.sort();
            regions.dedup();
            (regions.join(","), w.accounts.gcp_project.clone())
        };
        vec![
            format!("CLOUDOPS_AWS_REGIONS={aws_regions}"),
            format!("CLOUDOPS_GCP_PROJECTS={gcp_project}"),
            format!("AWS_ENDPOINT_URL={b}/aws"),
            format!("CLOUDOPS_GKE_ENDPOINT={b}/gke"),
            format!("CLOUDOPS_ARM_ENDPOINT={b}/arm"),
            format!("CLOUDOPS_DO_ENDPOINT={b}/do"),
            format!("AWS_ACCESS_KEY_ID={AWS_ACCESS_KEY_ID}"),
            format!("AWS_SECRET_ACCESS_KEY={AWS_SECRET_ACCESS_KEY}"),
            format!("CLOUDOPS_GCP_ACCESS_TOKEN={GCP_ACCESS_TOKEN}"),
            format!("CLOUDOPS_AZURE_ACCESS_TOKEN={AZURE_ACCESS_TOKEN}"),
            format!("DIGITALOCEAN_ACCESS_TOKEN={DO_ACCESS_TOKEN}"),
        ]
    }

    /// [`Self::env_lines`] as a map, for an in-process client that must see
    /// the sandbox's variables and not the process's.
    pub fn env_map(&self) -> std::collections::BTreeMap<String, String> {
        self.env_lines()
            .iter()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the
    /// server to end.
    pub async fn shutdown(mut self) -> Result<(), SandboxError> {
        // First end the watches and the requests chaos holds, which would
        // hold a graceful shutdown open.
        self.kube.stop();
        self.chaos.close();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(SandboxError::Join)?
                .map_err(SandboxError::Serve),
            None => Ok(()),
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.chaos.close();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
