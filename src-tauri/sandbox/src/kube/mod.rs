//! The per-cluster Kubernetes API (BRIEF §6), under `/k8s/{cluster_id}`:
//! namespaces, nodes, pods, events, deployments (with the `scale`
//! subresource), ReplicaSets and autoscaling/v2 HPAs, with list, get, watch,
//! resourceVersion conflicts, and `metrics.k8s.io`. Objects are the
//! k8s-openapi types, so clients parse what a real apiserver would send.
//!
//! - `store.rs`: one object store per cluster (typed objects, one
//!   resourceVersion counter, the watch history);
//! - `generate.rs`: the seeded workloads of a cluster, built on first use;
//! - `controllers.rs`: deployments, ReplicaSets, scheduling, readiness, HPAs
//!   and node pools, on one background task per sandbox;
//! - `api.rs` / `watch.rs`: the verbs; `auth.rs`: bearer tokens;
//!   `metrics.rs`: the load model and metrics.k8s.io; `discovery.rs`:
//!   `/version`, `/api`, `/apis`.

mod api;
pub(crate) mod auth;
mod controllers;
mod deployments;
mod discovery;
mod faults;
mod generate;
mod hpa;
mod logs;
mod metrics;
mod nodes;
mod pods;
mod proxy;
mod rbac;
mod scale;
mod select;
mod status;
mod store;
mod watch;

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    extract::{rejection::PathRejection, Path, RawQuery, State},
    http::{HeaderMap, Method},
    response::{IntoResponse, Response},
    routing::any,
    Router,
};
use tokio::{
    runtime::Handle,
    sync::{watch as signal, Notify},
    task::JoinHandle,
};

use crate::{
    http::{query, QueryMap},
    world::{Cluster, World},
    AppState,
};

pub use auth::k8s_token;
pub use faults::CHAOS_ROLLOUT_ANNOTATION;
pub(crate) use faults::{check_target as check_fault_target, KubeFaults};
pub use logs::{rfc3339_nano, BURST_LINES, BURST_MESSAGE, HISTORY_SECS};
pub use metrics::DEMAND_ANNOTATION;
pub use proxy::{prometheus_service, PrometheusService};
pub use rbac::SANDBOX_USER;
pub(crate) use status::ApiError;
use store::Store;

/// How long a new pod takes to turn Ready, unless the world says otherwise.
pub const DEFAULT_READINESS_DELAY: Duration = Duration::from_secs(2);
/// The HPA controller's sync period (the kube-controller-manager default).
pub const DEFAULT_HPA_SYNC_PERIOD: Duration = Duration::from_secs(15);
/// The controllers re-check node pools at least this often: the provider
/// APIs change them without telling this module.
const POLL: Duration = Duration::from_secs(1);

/// The knobs of the simulated clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KubeConfig {
    pub readiness_delay: Duration,
    pub hpa_sync_period: Duration,
}

impl Default for KubeConfig {
    fn default() -> Self {
        Self {
            readiness_delay: DEFAULT_READINESS_DELAY,
            hpa_sync_period: DEFAULT_HPA_SYNC_PERIOD,
        }
    }
}

/// One cluster's Kubernetes state.
pub(crate) struct ClusterKube {
    pub cluster: Cluster,
    pub seed: u64,
    store: Mutex<Store>,
}

impl ClusterKube {
    /// The store. A panic under the lock leaves at worst a half-reconciled
    /// object graph that the next reconcile repairs, so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The Kubernetes side of a [`World`]: per-cluster stores, created on first
/// use (the default world stays cheap when nobody asks), and the config.
#[derive(Default)]
pub struct Workloads {
    clusters: Mutex<HashMap<String, Arc<ClusterKube>>>,
    config: Mutex<KubeConfig>,
    /// Wakes the controllers after a write.
    wake: Notify,
    /// Chaos faults inside clusters (faults.rs), as chaos.rs last set them.
    faults: Mutex<KubeFaults>,
}

impl fmt::Debug for Workloads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `try_lock`: formatting must never wait on (or deadlock with) a
        // cluster being generated.
        let n = self.clusters.try_lock().map(|c| c.len()).ok();
        f.debug_struct("Workloads")
            .field("materialized_clusters", &n)
            .field("config", &self.config())
            .finish()
    }
}

impl Workloads {
    pub fn config(&self) -> KubeConfig {
        *self.config.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_config(&self, f: impl FnOnce(&mut KubeConfig)) {
        f(&mut self.config.lock().unwrap_or_else(|e| e.into_inner()));
        self.wake();
    }

    /// The kube faults in force.
    pub(crate) fn faults(&self) -> KubeFaults {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the kube faults (chaos.rs, on every change) and wakes the
    /// controllers.
    pub(crate) fn set_faults(&self, faults: KubeFaults) {
        *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
        self.wake();
    }

    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    fn clusters(&self) -> MutexGuard<'_, HashMap<String, Arc<ClusterKube>>> {
        self.clusters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The clusters whose objects exist so far.
    pub(crate) fn materialized(&self) -> Vec<Arc<ClusterKube>> {
        self.clusters().values().cloned().collect()
    }
}

impl World {
    /// The cluster's Kubernetes state, generated on first use from the seed
    /// and the cluster as it is now.
    pub(crate) fn kube_cluster(&self, id: &str) -> Option<Arc<ClusterKube>> {
        let (cluster, seed) = {
            let state = self.read();
            (state.cluster(id)?.clone(), state.seed)
        };
        let workloads = self.workloads();
        let mut map = workloads.clusters();
        if let Some(ck) = map.get(id) {
            return Some(ck.clone());
        }
        let services = self.read().services.clone();
        let cseed = generate::cluster_seed(seed, &cluster.id);
        let store = generate::generate(&cluster, cseed, &services);
        let ck = Arc::new(ClusterKube {
            cluster,
            seed: cseed,
            store: Mutex::new(store),
        });
        map.insert(id.to_string(), ck.clone());
        drop(map);
        workloads.wake();
        Some(ck)
    }
}

/// The controllers' task of one running sandbox; dropping it stops them and
/// ends open watches.
pub(crate) struct Controllers {
    stop: signal::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Controllers {
    pub fn start(runtime: &Handle, world: &World) -> Self {
        let (stop, rx) = signal::channel(false);
        let task = runtime.spawn(controllers::run(world.clone(), rx));
        Self {
            stop,
            task: Some(task),
        }
    }

    /// Stops the controllers and ends every open watch, so that a graceful
    /// server shutdown does not wait for watch timeouts.
    pub fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for Controllers {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Clone)]
struct KubeState {
    app: AppState,
    stop: signal::Receiver<bool>,
}

pub(crate) fn router(state: AppState, controllers: &Controllers) -> Router<AppState> {
    // Chaos faults inside clusters need the world, to check their targets
    // and to hand them to the controllers.
    state.chaos.attach(&state.world);
    let kube = KubeState {
        app: state,
        stop: controllers.stop.subscribe(),
    };
    Router::new()
        .route("/{cluster}/{*path}", any(dispatch))
        .fallback(|| async { ApiError::NoRoute.into_response() })
        .with_state(kube)
}

/// One request, parsed.
pub(crate) struct Request {
    pub method: Method,
    pub headers: HeaderMap,
    pub query: HashMap<String, String>,
    pub body: Bytes,
    pub base_url: Arc<str>,
}

async fn dispatch(
    State(k): State<KubeState>,
    path: Result<Path<(String, String)>, PathRejection>,
    method: Method,
    headers: HeaderMap,
    q: QueryMap,
    RawQuery(raw_query): RawQuery,
    body: Bytes,
) -> Response {
    let Ok(Path((cluster_id, path))) = path else {
        return ApiError::NoRoute.into_response();
    };
    // Chaos: latency, and the hold of a region outage (chaos.rs).
    if let Some(resp) = k.app.chaos.k8s_gate(&k.app.world, &cluster_id).await {
        return resp;
    }
    if let Some(resp) =
        service_proxy(&k, &cluster_id, &path, &method, &headers, raw_query, &body).await
    {
        return resp;
    }
    let req = Request {
        method,
        headers,
        query: query(q),
        body,
        base_url: k.app.base_url.clone(),
    };
    handle(&k, &cluster_id, &path, req).unwrap_or_else(IntoResponse::into_response)
}

fn handle(k: &KubeState, cluster_id: &str, path: &str, req: Request) -> Result<Response, ApiError> {
    let world = &k.app.world;
    let cluster = world
        .read()
        .cluster(cluster_id)
        .cloned()
        .ok_or(ApiError::NoRoute)?;
    auth::authorize(&cluster, &req.headers)?;
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Chaos: an `rbac_deny` fault answers workload writes with a 403.
    if let Some(resp) = rbac::deny_write(&k.app.chaos, cluster_id, &req.method, &segs) {
        return Ok(resp);
    }
    let read_only = |r: Result<Response, ApiError>| {
        if req.method == Method::GET {
            r
        } else {
            Err(ApiError::MethodNotAllowed)
        }
    };
    match segs.as_slice() {
        ["version"] => read_only(Ok(discovery::version(&cluster))),
        ["api"] => read_only(Ok(discovery::api_versions(&req))),
        ["apis"] => read_only(Ok(discovery::groups())),
        ["api", "v1"] => read_only(discovery::resources("", "v1")),
        ["apis", group] => read_only(discovery::group(group)),
        ["apis", group, version] => read_only(discovery::resources(group, version)),
        ["api", "v1", "nodes", node, "proxy", "stats", "summary"] => {
            let ck = world.kube_cluster(cluster_id).ok_or(ApiError::NoRoute)?;
            read_only(proxy::summary(&ck, node))
        }
        ["api", "v1", "services"] => {
            read_only(proxy::services(&cluster, rv(world, cluster_id), None, None))
        }
        ["api", "v1", "namespaces", ns, "services"] => read_only(proxy::services(
            &cluster,
            rv(world, cluster_id),
            Some(ns),
            None,
        )),
        ["api", "v1", "namespaces", ns, "services", name] => read_only(proxy::services(
            &cluster,
            rv(world, cluster_id),
            Some(ns),
            Some(name),
        )),
        ["api", "v1", rest @ ..] => {
            let ck = world.kube_cluster(cluster_id).ok_or(ApiError::NoRoute)?;
            api::resource(ck, k.stop.clone(), world, "", "v1", rest, req)
        }
        ["apis", metrics::GROUP, metrics::VERSION, rest @ ..] => {
            let ck = world.kube_cluster(cluster_id).ok_or(ApiError::NoRoute)?;
            read_only(metrics::handle(&ck, rest, &req))
        }
        ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"] => {
            rbac::access_review(&k.app.chaos, cluster_id, &req)
        }
        ["apis", group, version, rest @ ..] => {
            let ck = world.kube_cluster(cluster_id).ok_or(ApiError::NoRoute)?;
            api::resource(ck, k.stop.clone(), world, group, version, rest, req)
        }
        _ => Err(ApiError::NoRoute),
    }
}

/// The cluster's current resourceVersion, for list metadata.
fn rv(world: &World, cluster_id: &str) -> u64 {
    world
        .kube_cluster(cluster_id)
        .map(|ck| ck.lock().rv)
        .unwrap_or(0)
}

/// The API server's service proxy in front of the cluster's Prometheus:
/// `/api/v1/namespaces/{ns}/services/{name}/proxy/api/v1/{query,query_range}`
/// is answered by the sandbox Prometheus of that cluster. `None` when the
/// path is not a service proxy.
async fn service_proxy(
    k: &KubeState,
    cluster_id: &str,
    path: &str,
    method: &Method,
    headers: &HeaderMap,
    raw_query: Option<String>,
    body: &Bytes,
) -> Option<Response> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let ["api", "v1", "namespaces", ns, "services", name, "proxy", rest @ ..] = segs.as_slice()
    else {
        return None;
    };
    let cluster = k.app.world.read().cluster(cluster_id).cloned();
    let Some(cluster) = cluster else {
        return Some(ApiError::NoRoute.into_response());
    };
    // The API server authenticates the caller before proxying.
    if let Err(e) = auth::authorize(&cluster, headers) {
        return Some(e.into_response());
    }
    if !proxy::is_prometheus_proxy(&cluster, ns, name) {
        return Some(
            ApiError::NotFound {
                resource: "services".into(),
                name: proxy::service_of(name).to_string(),
            }
            .into_response(),
        );
    }
    let is_range = match rest {
        ["api", "v1", "query"] => false,
        ["api", "v1", "query_range"] => true,
        // Prometheus' own 404 for its other paths.
        _ => return Some(crate::prometheus::not_found_path()),
    };
    let uri = match raw_query {
        Some(q) => format!("/api/v1/query?{q}"),
        None => "/api/v1/query".to_string(),
    };
    let mut builder = axum::http::Request::builder()
        .method(method.clone())
        .uri(uri);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let req = match builder.body(axum::body::Body::from(body.clone())) {
        Ok(r) => r,
        Err(e) => return Some(ApiError::BadRequest(e.to_string()).into_response()),
    };
    Some(crate::prometheus::serve_cluster(k.app.clone(), cluster_id, req, is_range).await)
}

/// Now, for both clocks the controllers use: wall time for timestamps,
/// monotonic time for deadlines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub unix: u64,
    pub now: Instant,
}

impl Clock {
    pub fn now() -> Self {
        Self {
            unix: store::unix_now(),
            now: Instant::now(),
        }
    }
}
