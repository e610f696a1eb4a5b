//! The collectors (BRIEF §5, issue 5): what runs inside each cluster on
//! every refresh, turning the cluster's own APIs into samples (a [`Batch`])
//! and a [`ClusterState`] snapshot for the cache.
//!
//! - `metrics_api.rs`: nodes (allocatable, conditions) and node/pod usage
//!   from `metrics.k8s.io`;
//! - `kubelet.rs`: node disk from the kubelet summary via the node proxy;
//! - `workloads.rs`: deployments, ReplicaSets, HPAs, events (paged lists);
//! - `locate.rs`: where a cluster's Prometheus is (setting or detection);
//! - `red.rs`: rate, errors and latency buckets from that Prometheus;
//! - `endpoint.rs`: the API server's version and certificate expiry;
//! - `fleet.rs`: every connected cluster, with bounded concurrency.
//!
//! Each collector is independent: one failing is a [`Problem`] next to the
//! others' results, never a failed pass, and its part of the state stays
//! `None` so that the cache keeps the previous snapshot of it. Every call
//! goes through `resilience::call` (timeout, retries, breaker per cluster
//! endpoint), and every collector has a deadline.

pub mod config;
pub mod endpoint;
pub mod error;
pub mod fleet;
pub mod kubelet;
pub mod locate;
pub mod metrics_api;
pub mod persist;
pub mod prometheus;
pub mod red;
pub mod workloads;

use std::{collections::BTreeMap, future::Future, time::Duration};

use cloudops_core::{
    metrics::Batch,
    model::Provider as ProviderKind,
    store::{ClusterState, CollectionRecord},
};
use futures_util::TryFutureExt;
use k8s_openapi::serde::de::DeserializeOwned;
use kube::{api::ListParams, Api};
use serde::{Deserialize, Serialize};

pub use error::CollectError;

use crate::{
    access::ClusterAccess,
    resilience::{self, Breakers, CallPolicy},
};

/// Where a cluster's Prometheus answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PrometheusLocation {
    /// A Prometheus-compatible HTTP API reached directly (Thanos, Mimir,
    /// VictoriaMetrics, a port-forward): the base URL before `/api/v1`.
    Url { url: String },
    /// A Service in the cluster, through the API server's service proxy.
    Service {
        namespace: String,
        service: String,
        /// The port's number or name; empty for the service's only port.
        port: String,
    },
}

impl std::fmt::Display for PrometheusLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrometheusLocation::Url { url } => f.write_str(url),
            PrometheusLocation::Service {
                namespace,
                service,
                port,
            } if port.is_empty() => write!(f, "service {namespace}/{service}"),
            PrometheusLocation::Service {
                namespace,
                service,
                port,
            } => write!(f, "service {namespace}/{service}:{port}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrometheusSettings {
    /// Per cluster id; wins over `default` and detection.
    pub per_cluster: BTreeMap<String, PrometheusLocation>,
    /// For every cluster without its own (a central Thanos, say).
    pub default: Option<PrometheusLocation>,
    /// Look for a Prometheus Service in the cluster when none is set.
    pub auto_detect: bool,
}

impl Default for PrometheusSettings {
    fn default() -> Self {
        PrometheusSettings {
            per_cluster: BTreeMap::new(),
            default: None,
            auto_detect: true,
        }
    }
}

/// The application metrics RED is computed from; the defaults are the
/// Prometheus client libraries' conventional names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RedMetricNames {
    /// A histogram's `_bucket` series.
    pub latency_histogram: String,
    /// A request counter.
    pub requests_total: String,
    /// The matcher that selects failed requests of `requests_total`.
    pub error_matcher: String,
    /// The label that names the service.
    pub service_label: String,
}

impl Default for RedMetricNames {
    fn default() -> Self {
        RedMetricNames {
            latency_histogram: "http_request_duration_seconds_bucket".into(),
            requests_total: "http_requests_total".into(),
            error_matcher: r#"code=~"5..""#.into(),
            service_label: "service".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CollectSettings {
    /// Between two passes of `refresh` without `--once`.
    pub interval: Duration,
    /// Each call to a cluster: timeout per attempt, retries.
    pub call: CallPolicy,
    /// Each collector as a whole, retries included.
    pub collector_deadline: Duration,
    /// Items per page of a list (deployments, ReplicaSets, HPAs, events).
    pub page_size: u32,
    /// Kubelet summaries fetched at once per cluster.
    pub kubelet_concurrency: usize,
    /// Clusters collected at once by a fleet pass.
    pub fleet_concurrency: usize,
    pub prometheus: PrometheusSettings,
    pub red: RedMetricNames,
    /// How far back each RED fetch reaches; overlapping the previous fetch
    /// is fine (the store replaces the same (series, ts)).
    pub red_window: Duration,
    /// The RED step, in seconds.
    pub red_step_secs: u32,
}

impl Default for CollectSettings {
    fn default() -> Self {
        CollectSettings {
            interval: Duration::from_secs(60),
            call: CallPolicy {
                timeout: Duration::from_secs(15),
                retries: 2,
                min_delay: Duration::from_millis(200),
                max_delay: Duration::from_secs(3),
            },
            collector_deadline: Duration::from_secs(90),
            page_size: 500,
            kubelet_concurrency: 8,
            fleet_concurrency: 8,
            prometheus: PrometheusSettings::default(),
            red: RedMetricNames::default(),
            red_window: Duration::from_secs(600),
            red_step_secs: 60,
        }
    }
}

/// One thing that went wrong in a pass; the rest of the pass stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `connect`, `nodes`, `metrics`, `kubelet`, `workloads`, `red`, `endpoint`.
    pub collector: String,
    pub kind: String,
    pub message: String,
    pub hint: String,
}

impl Problem {
    pub fn new(collector: &str, e: &CollectError) -> Self {
        Problem {
            collector: collector.to_owned(),
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

/// The collectors a pass runs, in the order it reports them.
pub const COLLECTORS: [&str; 6] = [
    "nodes",
    "metrics",
    "kubelet",
    "workloads",
    "red",
    "endpoint",
];

/// What one pass over one cluster produced.
#[derive(Debug, Clone, Default)]
pub struct ClusterCollection {
    pub cluster_id: String,
    pub batch: Batch,
    pub state: ClusterState,
    /// Per collector: `None` when it succeeded, else its problem. A
    /// collector with nothing to do (RED without Prometheus) succeeded.
    pub outcomes: BTreeMap<String, Option<Problem>>,
    /// Not errors: what the user may want to know (no Prometheus found).
    pub notes: Vec<String>,
    /// Where RED came from, when it did.
    pub prometheus: Option<String>,
}

impl ClusterCollection {
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.outcomes.values().flatten()
    }

    pub fn is_complete(&self) -> bool {
        self.problems().next().is_none()
    }

    /// The cache's record of each collector's attempt.
    pub fn records(&self, attempted_at: i64) -> Vec<CollectionRecord> {
        self.outcomes
            .iter()
            .map(|(collector, p)| CollectionRecord {
                cluster_id: self.cluster_id.clone(),
                collector: collector.clone(),
                attempted_at,
                error: p.as_ref().map(|p| p.message.clone()),
                hint: p.as_ref().map(|p| p.hint.clone()),
            })
            .collect()
    }

    fn outcome<T>(&mut self, collector: &str, r: Result<T, CollectError>) -> Option<T> {
        match r {
            Ok(v) => {
                self.outcomes.insert(collector.to_owned(), None);
                Some(v)
            }
            Err(e) => {
                tracing::debug!(cluster = %self.cluster_id, collector, error = %e, "collector failed");
                self.outcomes
                    .insert(collector.to_owned(), Some(Problem::new(collector, &e)));
                None
            }
        }
    }
}

/// One cluster's API, with the policy and breakers every call goes through.
#[derive(Clone)]
pub struct Kube<'a> {
    pub client: kube::Client,
    pub provider: ProviderKind,
    pub endpoint: &'a str,
    pub policy: &'a CallPolicy,
    pub breakers: &'a Breakers,
}

impl Kube<'_> {
    /// One call, retried and broken like the provider calls.
    pub async fn call<T, F, Fut>(&self, what: &str, op: F) -> Result<T, CollectError>
    where
        F: Fn(kube::Client) -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let (provider, endpoint) = (self.provider, self.endpoint);
        resilience::call(self.policy, self.breakers, provider, endpoint, || {
            op(self.client.clone()).map_err(move |e| error::from_kube(provider, endpoint, what, e))
        })
        .await
        .map_err(|source| CollectError::Call {
            what: what.to_owned(),
            source,
        })
    }

    /// A GET of a raw path (metrics.k8s.io, proxies), as JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
    ) -> Result<T, CollectError> {
        self.call(what, |client| async move {
            let req = http::Request::get(path)
                .body(Vec::new())
                .map_err(kube::Error::HttpError)?;
            client.request::<T>(req).await
        })
        .await
    }

    /// Every item of a list, a page (`limit` + `continue`) at a time, so a
    /// 30k-pod cluster never arrives in one response.
    pub async fn list_all<K>(
        &self,
        what: &str,
        api: &Api<K>,
        page: u32,
    ) -> Result<Vec<K>, CollectError>
    where
        K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = ListParams::default().limit(page.max(1));
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let list = self
                .call(what, |_| {
                    let (api, params) = (api.clone(), params.clone());
                    async move { api.list(&params).await }
                })
                .await?;
            items.extend(list.items);
            match list.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                _ => break,
            }
        }
        Ok(items)
    }
}

/// Runs a collector under its deadline.
async fn within<T>(
    what: &str,
    deadline: Duration,
    fut: impl Future<Output = Result<T, CollectError>>,
) -> Result<T, CollectError> {
    tokio::time::timeout(deadline, fut)
        .await
        .unwrap_or_else(|_| {
            Err(CollectError::Deadline {
                what: what.to_owned(),
                after_secs: deadline.as_secs(),
            })
        })
}

/// The provider kind in a cluster id (`aws/account/region/name`).
pub fn provider_of(cluster_id: &str) -> ProviderKind {
    cluster_id
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(ProviderKind::Kubeconfig)
}

/// Collects everything from one cluster. `now` (unix seconds) stamps the
/// batch; gauge samples carry the scrape time the API reports.
pub async fn collect_cluster(
    cluster_id: &str,
    access: &ClusterAccess,
    settings: &CollectSettings,
    breakers: &Breakers,
    now: i64,
) -> ClusterCollection {
    let mut out = ClusterCollection {
        cluster_id: cluster_id.to_owned(),
        batch: Batch {
            collected_at: now,
            samples: Vec::new(),
        },
        ..Default::default()
    };
    let client = match access.client().await {
        Ok(c) => c,
        Err(e) => {
            out.outcome::<()>("connect", Err(e.into()));
            return out;
        }
    };
    let kube = Kube {
        client,
        provider: provider_of(cluster_id),
        endpoint: access.endpoint(),
        policy: &settings.call,
        breakers,
    };
    let deadline = settings.collector_deadline;

    // Nodes first: the kubelet collector needs their names. The others run
    // side by side.
    let nodes = within(
        "nodes",
        deadline,
        metrics_api::nodes(&kube, cluster_id, now, settings.page_size),
    )
    .await;
    let node_names: Option<Vec<String>> = match &nodes {
        Ok(n) => Some(n.states.iter().map(|s| s.name.clone()).collect()),
        Err(_) => None,
    };
    if let Some(n) = out.outcome("nodes", nodes) {
        out.batch.samples.extend(n.samples);
        out.state.nodes = Some(n.states);
    }

    let usage = within(
        "metrics",
        deadline,
        metrics_api::usage(&kube, cluster_id, now),
    );
    let disk = within("kubelet", deadline, async {
        match &node_names {
            Some(nodes) => {
                kubelet::disk(&kube, cluster_id, nodes, now, settings.kubelet_concurrency)
                    .await
                    .map(Some)
            }
            None => Ok(None),
        }
    });
    let workloads = within(
        "workloads",
        deadline,
        workloads::collect(&kube, settings.page_size),
    );
    let red = within("red", deadline, red_pass(&kube, cluster_id, settings, now));
    let endpoint = within(
        "endpoint",
        deadline,
        endpoint::collect(&kube, access.ca_pem(), settings.call.timeout),
    );
    let (usage, disk, workloads, red, endpoint) =
        tokio::join!(usage, disk, workloads, red, endpoint);
    out.state.endpoint = out.outcome("endpoint", endpoint);

    let pods = match out.outcome("metrics", usage) {
        Some(u) => {
            out.batch.samples.extend(u.samples);
            Some(u.pods)
        }
        None => None,
    };
    // Nodes known but no summary at all is the kubelet collector failing;
    // some nodes failing is reported with the rest collected.
    // Without the node list there is nothing to ask the kubelets: that is
    // the kubelet collector failing too, with the nodes' reason.
    let disk = match disk {
        Ok(None) => {
            let mut p = out
                .outcomes
                .get("nodes")
                .cloned()
                .flatten()
                .unwrap_or_else(|| Problem {
                    collector: String::new(),
                    kind: "skipped".into(),
                    message: String::new(),
                    hint: String::new(),
                });
            p.message = format!("not run, the node list is unavailable: {}", p.message);
            p.collector = "kubelet".into();
            out.outcomes.insert("kubelet".into(), Some(p));
            None
        }
        other => out.outcome("kubelet", other).flatten(),
    };
    if let Some(d) = disk {
        if !d.failed.is_empty() {
            let e = d.failed_error();
            out.outcomes
                .insert("kubelet".into(), Some(Problem::new("kubelet", &e)));
        }
        out.batch.samples.extend(d.samples);
    }
    if let Some(mut w) = out.outcome("workloads", workloads) {
        if let Some(pods) = &pods {
            workloads::attach_usage(&mut w.workloads, pods);
        }
        out.state.workloads = Some(w.workloads);
        out.state.events = Some(w.events);
    }
    if let Some(r) = out.outcome("red", red) {
        out.batch.samples.extend(r.samples);
        out.prometheus = r.location.map(|l| l.to_string());
        out.notes.extend(r.note);
    }
    out
}

async fn red_pass(
    kube: &Kube<'_>,
    cluster_id: &str,
    settings: &CollectSettings,
    now: i64,
) -> Result<red::RedOutcome, CollectError> {
    let Some(location) = locate::locate(kube, cluster_id, &settings.prometheus).await? else {
        return Ok(red::RedOutcome {
            samples: Vec::new(),
            location: None,
            note: Some(
                "no Prometheus found in the cluster: no request, error or latency data (health \
                 falls back to node pressure); set its location in Settings → Metrics if it \
                 runs elsewhere"
                    .into(),
            ),
        });
    };
    let client = match &location {
        PrometheusLocation::Url { url } => {
            prometheus::PrometheusClient::url(url, reqwest::Client::new())?
        }
        PrometheusLocation::Service {
            namespace,
            service,
            port,
        } => prometheus::PrometheusClient::service_proxy(
            kube.client.clone(),
            namespace,
            service,
            port,
        ),
    }
    .with_timeout(settings.call.timeout)
    .with_retries(settings.call.retries);
    let samples = red::collect(
        &client,
        cluster_id,
        &settings.red,
        settings.red_window,
        settings.red_step_secs,
        now,
    )
    .await?;
    Ok(red::RedOutcome {
        samples,
        location: Some(location),
        note: None,
    })
}
