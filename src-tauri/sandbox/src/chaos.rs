//! Chaos control (BRIEF §6, issue 3 item 6): faults injected into the
//! sandbox's provider APIs and per-cluster Kubernetes APIs, added and cleared
//! at run time through `/sandbox/chaos` or the in-process [`Chaos`] handle.
//!
//! | fault | effect |
//! |---|---|
//! | `region_outage {cloud, region}` | that region's provider calls get a 503 in the provider's error shape; its clusters' `/k8s` APIs hang until the client gives up (capped at [`K8S_HOLD_CAP`]) |
//! | `latency {cloud, millis}` | every call to that provider (`all`: every provider; `k8s`: every Kubernetes API) waits `millis` first |
//! | `error_rate {cloud, rate, status, retry_after_secs?, seed?}` | a fraction `rate` of that provider's calls fail with `status` (5xx or 429) in its error shape, with `Retry-After` when given |
//! | `slow_node {cluster_id, node, factor?}` | the node's metrics.k8s.io CPU usage sits at `factor` (default [`DEFAULT_SLOW_NODE_FACTOR`]) of its allocatable CPU, with a `NodeSlow` event; it stays `Ready` |
//! | `rbac_deny {cluster_id, namespace?}` | the cluster's RBAC denies writes (POST/PUT/PATCH/DELETE) to `apps` and `autoscaling` resources (in `namespace` only, when given) with the apiserver's 403 `Forbidden` Status; SelfSubjectAccessReviews for them answer `allowed: false` (kube/rbac.rs) |
//! | `bad_rollout {cluster_id, namespace, deployment}` | the deployment's pod template changes (a rollout starts) and its pods created from then on crash-loop (`CrashLoopBackOff`, `restartCount` rising, `BackOff` events); `readyReplicas` drops as far as maxUnavailable lets it; its Prometheus series fail 30 % of requests and its median latency rises 8× (to at least 0.8 s) from the rollout's start (prometheus.rs) |
//!
//! Clearing a slow node brings its usage back down; clearing a bad rollout
//! lets the crashing pods turn Ready and the rollout finish (kube/faults.rs).
//!
//! What a region outage looks like per cloud is modelled on what each API
//! does when one region is down:
//! - **EKS** is regional: every call whose SigV4 scope names the region gets
//!   `503 ServiceUnavailableException`.
//! - **GKE**: calls on `locations/{region}` (or a zone of it) get
//!   `503 UNAVAILABLE`; the aggregated `locations/-` list still answers 200,
//!   without that region's clusters and with its zones in `missingZones`,
//!   which is how GKE reports a partial list.
//! - **AKS/ARM**: calls on a managed cluster (or an operation) in that
//!   location get `503 ServiceUnavailable`. The subscription-wide list cannot
//!   say "partial" (ARM has no `missingZones`), so it fails as a whole with
//!   503 rather than silently dropping clusters a client would mark gone.
//! - **DOKS**: the v2 API is global, so the cluster list still answers; calls
//!   on a cluster in that region (get, node pools, credentials) get
//!   `503 service_unavailable`.
//!
//! Error rates draw from a `fastrand` RNG seeded from the world's seed (or the
//! fault's own `seed`), so the same requests in the same order fail the same
//! way on every run.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, OnceLock,
    },
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::{Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{delete, get},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::{
    kube::{check_fault_target, KubeFaults},
    world::{Cloud, World},
    AppState,
};

/// The longest a `/k8s` request is held during a region outage: long enough
/// for any sane client timeout to fire first, short enough that a forgotten
/// fault never pins a connection for good.
pub const K8S_HOLD_CAP: Duration = Duration::from_secs(60);
/// A latency fault cannot park a request for longer than this.
pub const MAX_LATENCY_MS: u64 = 600_000;
/// A slow node's CPU usage, as a fraction of its allocatable CPU.
pub const DEFAULT_SLOW_NODE_FACTOR: f64 = 0.97;

/// What a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    #[serde(alias = "eks")]
    Aws,
    #[serde(alias = "gke")]
    Gcp,
    #[serde(alias = "aks")]
    Azure,
    #[serde(rename = "do", alias = "digitalocean", alias = "doks")]
    Do,
    /// The four provider APIs (not the Kubernetes APIs).
    All,
    /// Every cluster's Kubernetes API (`/k8s`).
    K8s,
}

impl Target {
    pub fn cloud(self) -> Option<Cloud> {
        match self {
            Target::Aws => Some(Cloud::Aws),
            Target::Gcp => Some(Cloud::Gcp),
            Target::Azure => Some(Cloud::Azure),
            Target::Do => Some(Cloud::DigitalOcean),
            Target::All | Target::K8s => None,
        }
    }

    pub fn of(cloud: Cloud) -> Self {
        match cloud {
            Cloud::Aws => Target::Aws,
            Cloud::Gcp => Target::Gcp,
            Cloud::Azure => Target::Azure,
            Cloud::DigitalOcean => Target::Do,
        }
    }

    /// Does a fault on `self` apply to a request to `to`?
    fn covers(self, to: Target) -> bool {
        self == to || (self == Target::All && to != Target::K8s)
    }

    /// The slot of the request counters.
    fn slot(self) -> usize {
        match self {
            Target::Aws => 0,
            Target::Gcp => 1,
            Target::Azure => 2,
            Target::Do => 3,
            Target::K8s | Target::All => 4,
        }
    }
}

fn default_status() -> u16 {
    503
}

/// One fault, as `POST /sandbox/chaos` takes it (`{"kind": "region_outage", …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    RegionOutage {
        cloud: Target,
        region: String,
    },
    Latency {
        cloud: Target,
        millis: u64,
    },
    ErrorRate {
        cloud: Target,
        /// The fraction of calls that fail, in `[0, 1]`.
        rate: f64,
        /// 429, or a 5xx.
        #[serde(default = "default_status")]
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
        /// The RNG seed; the world's seed when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
    },
    SlowNode {
        cluster_id: String,
        node: String,
        /// The node's CPU usage as a fraction of allocatable, in `(0, 1]`;
        /// [`DEFAULT_SLOW_NODE_FACTOR`] when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        factor: Option<f64>,
    },
    BadRollout {
        cluster_id: String,
        namespace: String,
        deployment: String,
    },
    /// The identity loses write access to workloads in one cluster (one
    /// namespace when given), as when a RoleBinding is removed.
    RbacDeny {
        cluster_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
    },
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChaosError {
    #[error("{0}")]
    Invalid(String),
}

impl Fault {
    fn validate(&self) -> Result<(), ChaosError> {
        let bad = |m: String| Err(ChaosError::Invalid(m));
        match self {
            Fault::RegionOutage { cloud, region } => {
                if cloud.cloud().is_none() {
                    return bad(format!(
                        "a region outage needs one cloud (aws, gcp, azure or do), not {cloud:?}"
                    ));
                }
                if region.trim().is_empty() {
                    return bad("a region outage needs a region".into());
                }
            }
            Fault::Latency { millis, .. } => {
                if *millis > MAX_LATENCY_MS {
                    return bad(format!("latency {millis} ms is over {MAX_LATENCY_MS} ms"));
                }
            }
            Fault::ErrorRate {
                cloud,
                rate,
                status,
                ..
            } => {
                if *cloud == Target::K8s {
                    return bad("error_rate applies to provider APIs, not k8s".into());
                }
                if !(0.0..=1.0).contains(rate) {
                    return bad(format!("rate {rate} is not within 0..1"));
                }
                if !(*status == 429 || (500..=599).contains(status)) {
                    return bad(format!("status {status} is neither 429 nor a 5xx"));
                }
            }
            Fault::SlowNode {
                cluster_id,
                node,
                factor,
            } => {
                if cluster_id.trim().is_empty() || node.trim().is_empty() {
                    return bad("a slow node needs a cluster_id and a node".into());
                }
                if let Some(f) = factor {
                    if !(*f > 0.0 && *f <= 1.0) {
                        return bad(format!("factor {f} is not within (0, 1]"));
                    }
                }
            }
            Fault::RbacDeny {
                cluster_id,
                namespace,
            } => {
                if cluster_id.trim().is_empty()
                    || namespace.as_ref().is_some_and(|n| n.trim().is_empty())
                {
                    return bad(
                        "an rbac deny needs a cluster_id (and a non-empty namespace, if any)"
                            .into(),
                    );
                }
            }
            Fault::BadRollout {
                cluster_id,
                namespace,
                deployment,
            } => {
                if cluster_id.trim().is_empty()
                    || namespace.trim().is_empty()
                    || deployment.trim().is_empty()
                {
                    return bad(
                        "a bad rollout needs a cluster_id, a namespace and a deployment".into(),
                    );
                }
            }
        }
        Ok(())
    }

    /// Checks that a kube fault's cluster, node or deployment exists.
    fn check_target(&self, world: Option<&World>) -> Result<(), ChaosError> {
        let (cluster_id, node, deployment) = match self {
            Fault::RbacDeny { cluster_id, .. } => (cluster_id, None, None),
            Fault::SlowNode {
                cluster_id, node, ..
            } => (cluster_id, Some(node.as_str()), None),
            Fault::BadRollout {
                cluster_id,
                namespace,
                deployment,
            } => (
                cluster_id,
                None,
                Some((namespace.as_str(), deployment.as_str())),
            ),
            _ => return Ok(()),
        };
        let world = world
            .ok_or_else(|| ChaosError::Invalid("this chaos control serves no clusters".into()))?;
        check_fault_target(world, cluster_id, node, deployment).map_err(ChaosError::Invalid)
    }
}

/// A fault in force, as `GET /sandbox/chaos` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveFault {
    pub id: u64,
    #[serde(flatten)]
    pub fault: Fault,
}

struct Entry {
    fault: Fault,
    /// Error-rate faults only.
    rng: Option<fastrand::Rng>,
}

#[derive(Default)]
struct Faults {
    next_id: u64,
    active: BTreeMap<u64, Entry>,
}

struct Inner {
    faults: Mutex<Faults>,
    /// Bumped on every change, so that held `/k8s` requests re-check.
    version: watch::Sender<u64>,
    /// Set at shutdown: held requests are released at once.
    closed: AtomicBool,
    /// Requests seen, per [`Target::slot`].
    requests: [AtomicU64; 5],
    seed: u64,
    /// The world whose clusters the kube faults apply to (set once the
    /// sandbox's routes are built).
    world: OnceLock<World>,
}

/// The chaos state of one sandbox; clones share it.
#[derive(Clone)]
pub struct Chaos(Arc<Inner>);

impl std::fmt::Debug for Chaos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chaos")
            .field("faults", &self.list())
            .finish()
    }
}

/// What the provider gate decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    Pass,
    Fail {
        status: StatusCode,
        retry_after: Option<u64>,
        message: String,
    },
}

/// Where a provider request lands, as far as region outages go.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Place {
    /// Not tied to a region (or the handler deals with outages itself).
    Global,
    Region(String),
    /// An aggregate over every region that fails if any is down (ARM's
    /// subscription-wide list).
    AnyRegion,
}

impl Chaos {
    pub fn new(seed: u64) -> Self {
        Chaos(Arc::new(Inner {
            faults: Mutex::default(),
            version: watch::Sender::new(0),
            closed: AtomicBool::new(false),
            requests: Default::default(),
            seed,
            world: OnceLock::new(),
        }))
    }

    /// Ties the kube faults (slow nodes, bad rollouts) to `world`'s
    /// clusters; the first call wins.
    pub(crate) fn attach(&self, world: &World) {
        let _ = self.0.world.set(world.clone());
        self.sync_kube();
    }

    /// Hands the kube faults in force to the controllers.
    fn sync_kube(&self) {
        let Some(world) = self.0.world.get() else {
            return;
        };
        let mut kf = KubeFaults::default();
        for e in self.lock().active.values() {
            match &e.fault {
                Fault::SlowNode {
                    cluster_id,
                    node,
                    factor,
                } => {
                    kf.slow_nodes
                        .entry(cluster_id.clone())
                        .or_default()
                        .insert(node.clone(), factor.unwrap_or(DEFAULT_SLOW_NODE_FACTOR));
                }
                Fault::BadRollout {
                    cluster_id,
                    namespace,
                    deployment,
                } => {
                    kf.bad_rollouts
                        .entry(cluster_id.clone())
                        .or_default()
                        .insert((namespace.clone(), deployment.clone()));
                }
                _ => {}
            }
        }
        world.workloads().set_faults(kf);
    }

    fn lock(&self) -> MutexGuard<'_, Faults> {
        // The map is consistent after every statement; a poisoned lock is
        // still usable.
        self.0.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn changed(&self) {
        self.0.version.send_modify(|v| *v += 1);
        self.sync_kube();
    }

    /// Adds a fault; returns its id.
    pub fn add(&self, fault: Fault) -> Result<u64, ChaosError> {
        fault.validate()?;
        fault.check_target(self.0.world.get())?;
        let rng = match &fault {
            Fault::ErrorRate { seed, .. } => {
                Some(fastrand::Rng::with_seed(seed.unwrap_or(self.0.seed)))
            }
            _ => None,
        };
        let id = {
            let mut f = self.lock();
            f.next_id += 1;
            let id = f.next_id;
            f.active.insert(id, Entry { fault, rng });
            id
        };
        self.changed();
        Ok(id)
    }

    pub fn list(&self) -> Vec<ActiveFault> {
        self.lock()
            .active
            .iter()
            .map(|(id, e)| ActiveFault {
                id: *id,
                fault: e.fault.clone(),
            })
            .collect()
    }

    /// Clears one fault; false when there was none with that id.
    pub fn clear(&self, id: u64) -> bool {
        let removed = self.lock().active.remove(&id).is_some();
        if removed {
            self.changed();
        }
        removed
    }

    /// Clears every fault; returns how many there were.
    pub fn clear_all(&self) -> usize {
        let n = std::mem::take(&mut self.lock().active).len();
        self.changed();
        n
    }

    /// Requests seen so far by one provider API, or by the Kubernetes APIs
    /// ([`Target::K8s`]; [`Target::All`] sums the four providers).
    pub fn requests(&self, target: Target) -> u64 {
        let load = |slot: usize| self.0.requests[slot].load(Ordering::Relaxed);
        match target {
            Target::All => (0..4).map(load).sum(),
            t => load(t.slot()),
        }
    }

    /// Releases every held request and stops holding new ones.
    pub(crate) fn close(&self) {
        self.0.closed.store(true, Ordering::SeqCst);
        self.changed();
    }

    /// The regions of `cloud` that are down.
    pub(crate) fn regions_down(&self, cloud: Cloud) -> BTreeSet<String> {
        let target = Target::of(cloud);
        self.lock()
            .active
            .values()
            .filter_map(|e| match &e.fault {
                Fault::RegionOutage { cloud, region } if *cloud == target => Some(region.clone()),
                _ => None,
            })
            .collect()
    }

    /// Does an `rbac_deny` fault deny writes in `namespace` of the cluster?
    pub(crate) fn rbac_denied(&self, cluster_id: &str, namespace: Option<&str>) -> bool {
        self.lock().active.values().any(|e| match &e.fault {
            Fault::RbacDeny {
                cluster_id: c,
                namespace: n,
            } => c == cluster_id && (n.is_none() || n.as_deref() == namespace),
            _ => false,
        })
    }

    fn latency(&self, to: Target) -> Duration {
        let millis: u64 = self
            .lock()
            .active
            .values()
            .filter_map(|e| match e.fault {
                Fault::Latency { cloud, millis } if cloud.covers(to) => Some(millis),
                _ => None,
            })
            .sum();
        Duration::from_millis(millis)
    }

    /// Counts the request, waits out any latency, then decides whether it
    /// fails.
    pub(crate) async fn provider_gate(&self, cloud: Cloud, place: &Place) -> Verdict {
        let target = Target::of(cloud);
        self.0.requests[target.slot()].fetch_add(1, Ordering::Relaxed);
        let delay = self.latency(target);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut faults = self.lock();
        for e in faults.active.values() {
            let Fault::RegionOutage { cloud: c, region } = &e.fault else {
                continue;
            };
            let hit = *c == target
                && match place {
                    Place::Global => false,
                    Place::Region(r) => r == region,
                    Place::AnyRegion => true,
                };
            if hit {
                return Verdict::Fail {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    retry_after: None,
                    message: format!("The service is unavailable in region {region}."),
                };
            }
        }
        for e in faults.active.values_mut() {
            if let Fault::ErrorRate {
                cloud: c,
                rate,
                status,
                retry_after_secs,
                ..
            } = &e.fault
            {
                if !c.covers(target) {
                    continue;
                }
                let Some(rng) = e.rng.as_mut() else { continue };
                if rng.f64() < *rate {
                    let status =
                        StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                    let message = if status == StatusCode::TOO_MANY_REQUESTS {
                        "Rate exceeded.".to_string()
                    } else {
                        "The service is temporarily unavailable.".to_string()
                    };
                    return Verdict::Fail {
                        status,
                        retry_after: *retry_after_secs,
                        message,
                    };
                }
            }
        }
        Verdict::Pass
    }

    /// Counts a `/k8s` request, waits out `k8s` latency, and holds it while
    /// its cluster's region is down. `Some` is the reply when the hold ends
    /// without the outage clearing (cap reached, or shutdown); `None` lets
    /// the request through.
    pub(crate) async fn k8s_gate(&self, world: &World, cluster_id: &str) -> Option<Response> {
        self.0.requests[Target::K8s.slot()].fetch_add(1, Ordering::Relaxed);
        let delay = self.latency(Target::K8s);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let (cloud, region) = {
            let w = world.read();
            let c = w.cluster(cluster_id)?;
            (c.cloud, c.region.clone())
        };
        // Subscribe before the check, so a clear between the two is seen.
        let mut version = self.0.version.subscribe();
        let deadline = tokio::time::Instant::now() + K8S_HOLD_CAP;
        loop {
            if self.0.closed.load(Ordering::SeqCst) {
                return Some(StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
            if !self.regions_down(cloud).contains(&region) {
                return None;
            }
            tokio::select! {
                changed = version.changed() => {
                    // The sender lives as long as `self`; an error cannot
                    // happen, but must not spin if it did.
                    if changed.is_err() {
                        return Some(StatusCode::SERVICE_UNAVAILABLE.into_response());
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    return Some(StatusCode::GATEWAY_TIMEOUT.into_response());
                }
            }
        }
    }
}

/// A provider module's part in the chaos gate: where a request lands, and
/// its error shape.
pub(crate) struct Hooks {
    pub cloud: Cloud,
    pub place: fn(&AppState, &Request) -> Place,
    pub error: fn(StatusCode, String) -> Response,
}

/// The middleware each provider router wears outermost (before auth: an
/// outage does not check credentials first).
pub(crate) async fn guard(
    State((state, hooks)): State<(AppState, &'static Hooks)>,
    req: Request,
    next: Next,
) -> Response {
    let place = (hooks.place)(&state, &req);
    match state.chaos.provider_gate(hooks.cloud, &place).await {
        Verdict::Pass => next.run(req).await,
        Verdict::Fail {
            status,
            retry_after,
            message,
        } => {
            let mut resp = (hooks.error)(status, message);
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            resp
        }
    }
}

#[derive(Serialize)]
struct Added {
    id: u64,
}

#[derive(Serialize)]
struct Listing {
    faults: Vec<ActiveFault>,
    /// Requests seen per API since the sandbox started.
    requests: BTreeMap<&'static str, u64>,
}

#[derive(Serialize)]
struct Cleared {
    cleared: usize,
}

#[derive(Serialize)]
struct ChaosErrorBody {
    error: String,
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(ChaosErrorBody { error: message }),
    )
        .into_response()
}

/// `/sandbox/chaos`: the control API. It needs no provider credentials; like
/// the rest of the sandbox it is only reachable on loopback.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/chaos", get(list).post(add).delete(clear_all))
        .route("/chaos/{id}", delete(clear))
}

async fn add(State(state): State<AppState>, body: Bytes) -> Response {
    let fault: Fault = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return bad_request(format!("not a fault: {e}")),
    };
    match state.chaos.add(fault) {
        Ok(id) => (StatusCode::CREATED, Json(Added { id })).into_response(),
        Err(e) => bad_request(e.to_string()),
    }
}

async fn list(State(state): State<AppState>) -> Response {
    let c = &state.chaos;
    let requests = [
        ("aws", Target::Aws),
        ("gcp", Target::Gcp),
        ("azure", Target::Azure),
        ("do", Target::Do),
        ("k8s", Target::K8s),
    ]
    .into_iter()
    .map(|(k, t)| (k, c.requests(t)))
    .collect();
    Json(Listing {
        faults: c.list(),
        requests,
    })
    .into_response()
}

async fn clear_all(State(state): State<AppState>) -> Response {
    Json(Cleared {
        cleared: state.chaos.clear_all(),
    })
    .into_response()
}

async fn clear(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match id.parse::<u64>() {
        Ok(id) if state.chaos.clear(id) => Json(Cleared { cleared: 1 }).into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            Json(ChaosErrorBody {
                error: format!("no fault with id {id}"),
            }),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_from_the_documented_json() {
        let f: Fault =
            serde_json::from_str(r#"{"kind":"region_outage","cloud":"aws","region":"us-east-1"}"#)
                .unwrap();
        assert_eq!(
            f,
            Fault::RegionOutage {
                cloud: Target::Aws,
                region: "us-east-1".into()
            }
        );
        let f: Fault =
            serde_json::from_str(r#"{"kind":"error_rate","cloud":"do","rate":0.3,"status":429}"#)
                .unwrap();
        assert!(matches!(f, Fault::ErrorRate { status: 429, .. }));
        let bad = Fault::ErrorRate {
            cloud: Target::Gcp,
            rate: 1.5,
            status: 503,
            retry_after_secs: None,
            seed: None,
        };
        assert!(Chaos::new(1).add(bad).is_err());
    }

    #[tokio::test]
    async fn error_rates_are_reproducible_for_a_seed() {
        let run = || async {
            let c = Chaos::new(7);
            c.add(Fault::ErrorRate {
                cloud: Target::Gcp,
                rate: 0.3,
                status: 503,
                retry_after_secs: None,
                seed: None,
            })
            .unwrap();
            let mut out = Vec::new();
            for _ in 0..50 {
                out.push(c.provider_gate(Cloud::Gcp, &Place::Global).await != Verdict::Pass);
            }
            out
        };
        let (a, b) = (run().await, run().await);
        assert_eq!(a, b);
        let failed = a.iter().filter(|f| **f).count();
        assert!((5..=25).contains(&failed), "{failed} of 50 failed");
    }
}
