//! Google Kubernetes Engine (BRIEF §4): the official `google-cloud-container-v1`
//! client over REST/JSON, with google-cloud-auth for credentials (decision
//! 0005). One provider is one Google account; each project is one discovery
//! scope.
//!
//! - Discovery: `projects/{p}/locations/-/clusters`, one call per project
//!   (every location at once, node pools included; the API has no paging).
//! - Scale: `nodePools/{pool}:setSize`, after reading the pool to turn the
//!   requested total into GKE's per-zone count.
//! - Connect: the cluster's endpoint and `masterAuth.clusterCaCertificate`,
//!   plus an OAuth access token ([`GcpTokenSource`]).
//!
//! Every SDK call goes through [`resilience::call`] with the SDK's own
//! retries off (`NeverRetry`), so that one policy decides how often a call is
//! repeated and the breaker sees every attempt.

mod auth;
pub mod bigquery;
pub mod billing_export;
mod names;
mod sdk_error;

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    future::Future,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use base64::Engine as _;
use cloudops_core::model::{NodePoolSummary, Provider as ProviderKind};
use google_cloud_auth::credentials::Credentials;
use google_cloud_container_v1::{client::ClusterManager, model};
use google_cloud_gax::retry_policy::NeverRetry;

pub use billing_export::BillingExport;

pub use auth::{GcpCredentials, GcpTokenSource, CACHED_TOKEN_LIFETIME, REFRESH_MARGIN, SCOPES};

use self::{
    auth::Resolved,
    names::{cluster_name, location_of, project_of, validate_project, validate_segment},
    sdk_error::CallSite,
};
use super::{
    ClusterConnection, ClusterLocator, DiscoveredCluster, Provider, RefreshingToken, ScaleOutcome,
    Scope, ScopeListing,
};
use crate::{
    error::ProviderError,
    resilience::{self, Breakers, CallPolicy},
    rest,
};

const KIND: ProviderKind = ProviderKind::Gcp;
pub const DEFAULT_ENDPOINT: &str = "https://container.googleapis.com";
pub const ENDPOINT_VAR: &str = "CLOUDOPS_GKE_ENDPOINT";
pub const TOKEN_VAR: &str = "CLOUDOPS_GCP_ACCESS_TOKEN";
/// Comma-separated project ids for the ambient account (BRIEF §7).
pub const PROJECTS_VAR: &str = "CLOUDOPS_GCP_PROJECTS";
/// The ambient account's billing export table, `PROJECT.DATASET.TABLE`
/// (opt-in: GKE cost is an estimate without it).
pub const BILLING_EXPORT_VAR: &str = "CLOUDOPS_GCP_BILLING_EXPORT";

/// One Google account, over one or more projects.
pub struct GcpProvider {
    account: String,
    projects: Vec<String>,
    /// The validated endpoint: what [`Provider::endpoint`] shows and the breaker keys on.
    endpoint_label: String,
    credentials: Resolved,
    /// Built on first use: building resolves the credentials' universe
    /// domain, which for ADC on a metadata server is a network call, and a
    /// provider must be constructible offline.
    client: tokio::sync::OnceCell<ClusterManager>,
    /// Zones the last listing of each project could not reach (see
    /// [`GcpProvider::partial_error`]).
    missing_zones: Mutex<BTreeMap<String, Vec<String>>>,
    policy: CallPolicy,
    breakers: Arc<Breakers>,
    /// The opt-in BigQuery billing export and its client.
    billing: Option<(BillingExport, bigquery::BigQueryClient)>,
}

impl fmt::Debug for GcpProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpProvider")
            .field("account", &self.account)
            .field("projects", &self.projects)
            .field("endpoint", &self.endpoint_label)
            .field("billing_export", &self.billing.as_ref().map(|b| b.0.path()))
            .finish_non_exhaustive()
    }
}

impl GcpProvider {
    /// `endpoint`: `None` for the public API; otherwise an override such as
    /// the sandbox's `http://127.0.0.1:PORT/gke` (any path prefix is kept).
    pub fn new(
        account: impl Into<String>,
        projects: Vec<String>,
        endpoint: Option<&str>,
        credentials: GcpCredentials,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        let account = account.into();
        let endpoint =
            rest::parse_endpoint(KIND, ENDPOINT_VAR, endpoint.unwrap_or(DEFAULT_ENDPOINT))?;
        let mut seen = BTreeSet::new();
        let mut ordered = Vec::new();
        for p in projects {
            let p = p.trim().to_owned();
            validate_project(&p)?;
            if seen.insert(p.clone()) {
                ordered.push(p);
            }
        }
        if ordered.is_empty() {
            return Err(ProviderError::Config {
                provider: KIND,
                detail: format!(
                    "no GCP project for account {account}: set {PROJECTS_VAR} (e.g. my-prod,my-staging) \
                     or name the projects in Settings → Accounts"
                ),
            });
        }
        Ok(GcpProvider {
            account,
            projects: ordered,
            endpoint_label: endpoint.as_str().trim_end_matches('/').to_owned(),
            credentials: credentials.resolve()?,
            client: tokio::sync::OnceCell::new(),
            missing_zones: Mutex::default(),
            policy,
            breakers,
            billing: None,
        })
    }

    /// Reads GKE's daily cost from `export` (actuals) instead of the
    /// estimate. Its `endpoint`, when set, overrides BigQuery's.
    pub fn with_billing_export(mut self, export: BillingExport) -> Result<Self, ProviderError> {
        export.validate()?;
        let client = bigquery::BigQueryClient::new(
            export.endpoint.as_deref(),
            Arc::new(RefreshingToken::new(
                GcpTokenSource::new(&self.credentials),
                REFRESH_MARGIN,
            )),
            rest::http_client()?,
            self.policy.clone(),
            self.breakers.clone(),
        )?;
        self.billing = Some((export, client));
        Ok(self)
    }

    pub fn billing_export(&self) -> Option<&BillingExport> {
        self.billing.as_ref().map(|b| &b.0)
    }

    /// The ambient account (BRIEF §7): projects from `CLOUDOPS_GCP_PROJECTS`,
    /// the endpoint from `CLOUDOPS_GKE_ENDPOINT`, and the token from
    /// `CLOUDOPS_GCP_ACCESS_TOKEN`, else Application Default Credentials.
    pub fn ambient(
        account: impl Into<String>,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        Self::from_vars(account, |k| std::env::var(k).ok(), policy, breakers)
    }

    /// [`GcpProvider::ambient`] with the variables read through `var`, so
    /// that tests need not touch the process environment.
    pub fn from_vars(
        account: impl Into<String>,
        var: impl Fn(&str) -> Option<String>,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let projects = set(PROJECTS_VAR)
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let credentials = match set(TOKEN_VAR) {
            Some(token) => GcpCredentials::StaticToken(token),
            None => GcpCredentials::ApplicationDefault,
        };
        let endpoint = set(ENDPOINT_VAR);
        let provider = Self::new(
            account,
            projects,
            endpoint.as_deref(),
            credentials,
            policy,
            breakers,
        )?;
        match set(BILLING_EXPORT_VAR) {
            Some(path) => {
                let mut export = BillingExport::parse(&path)?;
                export.endpoint = set(bigquery::ENDPOINT_VAR);
                provider.with_billing_export(export)
            }
            None => Ok(provider),
        }
    }

    pub fn projects(&self) -> &[String] {
        &self.projects
    }

    /// When the last listing of `scope`'s project was partial: GKE answered,
    /// but said which zones it could not reach (`missingZones`), so clusters
    /// there are absent from it. The clusters that were listed are still
    /// returned by [`Provider::discover`]; this is the error to flag next to
    /// them, and `None` when the listing was complete. The engine reads the
    /// same thing from [`Provider::discover_listing`], without this state.
    pub fn partial_error(&self, scope: &Scope) -> Option<ProviderError> {
        let map = self.missing_zones.lock().unwrap_or_else(|p| p.into_inner());
        let zones = map.get(&scope.id).filter(|z| !z.is_empty())?;
        Some(ProviderError::Unreachable {
            provider: KIND,
            endpoint: self.endpoint_label.clone(),
            detail: format!(
                "GKE could not reach zones {} of project {}: clusters there are missing from the list",
                zones.join(", "),
                scope.id
            ),
        })
    }

    async fn client(&self) -> Result<&ClusterManager, ProviderError> {
        self.client
            .get_or_try_init(|| async {
                let build = ClusterManager::builder()
                    .with_endpoint(self.endpoint_label.clone())
                    .with_credentials(Credentials::from(self.credentials.credentials.clone()))
                    // resilience::call retries; SDK retries on top would
                    // multiply them.
                    .with_retry_policy(NeverRetry)
                    .build();
                match tokio::time::timeout(self.policy.timeout, build).await {
                    Ok(Ok(client)) => Ok(client),
                    Ok(Err(e)) => Err(ProviderError::Config {
                        provider: KIND,
                        detail: format!(
                            "cannot set up the GKE client for {}: {e}",
                            self.endpoint_label
                        ),
                    }),
                    Err(_) => Err(ProviderError::Timeout {
                        provider: KIND,
                        endpoint: self.endpoint_label.clone(),
                        after: self.policy.timeout,
                    }),
                }
            })
            .await
    }

    /// One SDK call under the resilience policy: `send` is one attempt.
    async fn call<T, F, Fut>(&self, what: &str, send: F) -> Result<T, ProviderError>
    where
        F: Fn(ClusterManager) -> Fut,
        Fut: Future<Output = Result<T, google_cloud_container_v1::Error>>,
    {
        let client = self.client().await?;
        let site = CallSite {
            what,
            endpoint: &self.endpoint_label,
            timeout: self.policy.timeout,
        };
        let site = &site;
        let send = &send;
        resilience::call(
            &self.policy,
            &self.breakers,
            KIND,
            &self.endpoint_label,
            || async move {
                // The client is an `Arc` inside: cloning it per attempt is cheap.
                send(client.clone())
                    .await
                    .map_err(|e| sdk_error::map(&e, site))
            },
        )
        .await
    }

    async fn get_cluster(
        &self,
        cluster: &ClusterLocator,
    ) -> Result<(String, model::Cluster), ProviderError> {
        let name = cluster_name(cluster)?;
        let what = format!("cluster {name}");
        let c = self
            .call(&what, |client| {
                let name = name.clone();
                async move { client.get_cluster().set_name(name).send().await }
            })
            .await?;
        let project = project_of(&name).unwrap_or(&cluster.scope).to_owned();
        Ok((project, c))
    }

    // `zone` is deprecated in the API but still the only location on old
    // clusters.
    #[allow(deprecated)]
    fn to_discovered(
        &self,
        project: &str,
        c: &model::Cluster,
    ) -> Result<DiscoveredCluster, ProviderError> {
        let bad = |detail: String| ProviderError::Decode {
            provider: KIND,
            what: format!("clusters of project {project}"),
            detail,
        };
        if c.name.is_empty() {
            return Err(bad("a cluster has no `name`".into()));
        }
        // `zone` is the deprecated spelling of `location`; old clusters may
        // fill only it.
        let location = [&c.location, &c.zone]
            .into_iter()
            .find(|l| !l.is_empty())
            .ok_or_else(|| bad(format!("cluster {} has no `location`", c.name)))?
            .clone();
        let node_pools = c
            .node_pools
            .iter()
            .map(|p| pool_summary(c, p).map_err(|d| bad(format!("cluster {}: {d}", c.name))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DiscoveredCluster {
            provider: KIND,
            account: self.account.clone(),
            locator: ClusterLocator {
                native_id: format!(
                    "projects/{project}/locations/{location}/clusters/{}",
                    c.name
                ),
                scope: project.to_owned(),
                // GKE's location: a region for regional clusters, a zone for
                // zonal ones. It is kept as is: a zonal cluster is addressed
                // by its zone, and the zone names its region anyway.
                region: location,
                name: c.name.clone(),
            },
            version: non_empty(&c.current_master_version),
            status: c.status.name().unwrap_or("STATUS_UNSPECIFIED").to_owned(),
            endpoint: api_url(&c.endpoint),
            node_pools,
        })
    }

    /// Polls a long-running operation by the name [`Provider::scale_node_pool`]
    /// returned (`projects/p/locations/l/operations/op`): `Ok(true)` once it
    /// is done, an error if it failed.
    pub async fn operation_done(&self, operation: &str) -> Result<bool, ProviderError> {
        let what = format!("operation {operation}");
        let op = self
            .call(&what, |client| async move {
                client.get_operation().set_name(operation).send().await
            })
            .await?;
        operation_outcome(&op, &what)
    }
}

#[async_trait]
impl Provider for GcpProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn account(&self) -> &str {
        &self.account
    }

    fn endpoint(&self) -> &str {
        &self.endpoint_label
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        Ok(self
            .projects
            .iter()
            .map(|p| Scope::new(p.clone(), format!("gcp/{p}")))
            .collect())
    }

    async fn discover(&self, scope: &Scope) -> Result<Vec<DiscoveredCluster>, ProviderError> {
        Ok(self.discover_listing(scope).await?.clusters)
    }

    /// The aggregated `locations/-` list answers even when some zones do
    /// not, naming them in `missingZones`; they become the listing's
    /// `unreachable`, so that the engine neither drops the clusters that
    /// were listed nor takes the missing ones for deleted.
    async fn discover_listing(&self, scope: &Scope) -> Result<ScopeListing, ProviderError> {
        let project = scope.id.as_str();
        validate_project(project)?;
        let what = format!("clusters of project {project}");
        let parent = format!("projects/{project}/locations/-");
        let list = self
            .call(&what, |client| {
                let parent = parent.clone();
                async move { client.list_clusters().set_parent(parent).send().await }
            })
            .await?;
        if !list.missing_zones.is_empty() {
            tracing::warn!(project, zones = ?list.missing_zones, "GKE listed clusters without some zones");
        }
        self.missing_zones
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(project.to_owned(), list.missing_zones.clone());
        let mut clusters = list
            .clusters
            .iter()
            .map(|c| self.to_discovered(project, c))
            .collect::<Result<Vec<_>, _>>()?;
        clusters.sort_by(|a, b| a.locator.native_id.cmp(&b.locator.native_id));
        Ok(ScopeListing {
            clusters,
            unreachable: list.missing_zones,
        })
    }

    async fn describe(&self, cluster: &ClusterLocator) -> Result<DiscoveredCluster, ProviderError> {
        let (project, c) = self.get_cluster(cluster).await?;
        self.to_discovered(&project, &c)
    }

    async fn scale_node_pool(
        &self,
        cluster: &ClusterLocator,
        pool: &str,
        count: u32,
    ) -> Result<ScaleOutcome, ProviderError> {
        let cluster_id = cluster_name(cluster)?;
        validate_segment("node pool", pool)?;
        let name = format!("{cluster_id}/nodePools/{pool}");
        let what = format!("node pool {pool} of {cluster_id}");
        let refuse = |message: String| ProviderError::Rejected {
            provider: KIND,
            status: 400,
            message: format!("not sent to GKE: {message}"),
        };
        // setSize takes a count *per zone*; the pool's zones and autoscaling
        // bounds decide what total is possible.
        let current = self
            .call(&what, |client| {
                let name = name.clone();
                async move { client.get_node_pool().set_name(name).send().await }
            })
            .await?;
        let zones = u32::try_from(current.locations.len().max(1)).unwrap_or(u32::MAX);
        if !count.is_multiple_of(zones) {
            return Err(refuse(format!(
                "node pool {pool} spans {zones} zones and GKE sizes each zone alike, \
                 so the total must be a multiple of {zones} (asked for {count})"
            )));
        }
        let bounds =
            autoscaling_bounds(&current, zones).map_err(|detail| ProviderError::Decode {
                provider: KIND,
                what: what.clone(),
                detail,
            })?;
        if let Some((min, max)) = bounds {
            // Widening the bounds to fit would silently change the
            // autoscaling policy someone set; the user must do that on purpose.
            if count < min || count > max {
                return Err(refuse(format!(
                    "{count} nodes is outside node pool {pool}'s autoscaling bounds ({min}..={max}); \
                     change the bounds first"
                )));
            }
        }
        let per_zone = i32::try_from(count / zones)
            .map_err(|_| refuse(format!("{count} nodes is more than GKE accepts")))?;
        // setSize to the same size is idempotent, so a retry after a lost
        // reply asks for the same thing again (GKE may answer 400 if the
        // first is still running; that surfaces as Rejected).
        let op = self
            .call(&what, |client| {
                let name = name.clone();
                async move {
                    client
                        .set_node_pool_size()
                        .set_name(name)
                        .set_node_count(per_zone)
                        .send()
                        .await
                }
            })
            .await?;
        let completed = operation_outcome(&op, &what)?;
        let location = location_of(&cluster_id).unwrap_or(&cluster.region);
        let project = project_of(&cluster_id).unwrap_or(&cluster.scope);
        Ok(ScaleOutcome {
            pool: pool.to_owned(),
            requested: count,
            // The bare operation name is only unique per location; this is
            // the name [`GcpProvider::operation_done`] polls.
            operation: (!op.name.is_empty()).then(|| {
                format!(
                    "projects/{project}/locations/{location}/operations/{}",
                    op.name
                )
            }),
            completed,
        })
    }

    async fn connect(&self, cluster: &ClusterLocator) -> Result<ClusterConnection, ProviderError> {
        let (_, c) = self.get_cluster(cluster).await?;
        let status = c.status.name().unwrap_or("STATUS_UNSPECIFIED");
        let endpoint = api_url(&c.endpoint).ok_or_else(|| ProviderError::NotFound {
            provider: KIND,
            what: format!(
                "the API endpoint of cluster {} (status {status})",
                cluster.native_id
            ),
        })?;
        let ca_pem = match c
            .master_auth
            .as_ref()
            .map(|m| m.cluster_ca_certificate.trim())
        {
            Some(b64) if !b64.is_empty() => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| ProviderError::Decode {
                        provider: KIND,
                        what: format!("cluster {}", cluster.native_id),
                        // The field is named, never its value.
                        detail: "`masterAuth.clusterCaCertificate` is not valid base64".into(),
                    })?,
            ),
            _ => None,
        };
        Ok(ClusterConnection {
            endpoint,
            ca_pem,
            tokens: Arc::new(RefreshingToken::new(
                GcpTokenSource::new(&self.credentials),
                REFRESH_MARGIN,
            )),
            identity_pem: None,
        })
    }

    fn primary_cost_source(&self) -> cloudops_core::cost::CostSource {
        if self.billing.is_some() {
            cloudops_core::cost::CostSource::Actual
        } else {
            cloudops_core::cost::CostSource::Estimate
        }
    }

    /// GKE has no cost-query API: by default node hours × the bundled,
    /// dated price table; with a billing export configured, its actuals,
    /// and the estimate again (with a note naming the table and the roles)
    /// when the export is refused or missing.
    async fn daily_costs(
        &self,
        req: &crate::cost::CostRequest,
    ) -> Result<crate::cost::CostReport, ProviderError> {
        let Some((export, client)) = &self.billing else {
            return Ok(crate::cost::estimate_report(req, &crate::cost::prices::GCP));
        };
        let what = format!("the {} {}", billing_export::SOURCE_NAME, export.path());
        let queried = client
            .query(
                &export.project,
                &export.sql(),
                &export.params(req, &self.projects),
                &what,
            )
            .await;
        match queried {
            Ok(result) => billing_export::report_from_rows(export, req, result),
            Err(e @ (ProviderError::Unauthorized { .. } | ProviderError::NotFound { .. })) => {
                let mut report = crate::cost::estimate_report(req, &crate::cost::prices::GCP);
                report.notes.insert(0, export.fallback_note(&e));
                report.api_calls += 1;
                Ok(report)
            }
            Err(e) => Err(e),
        }
    }
}

/// The size rule (GKE's API has no live per-pool count; the real one is the
/// sum of the pool's managed instance groups, a Compute API call away):
/// 1. a cluster with one pool: the cluster's `currentNodeCount`, which is
///    live;
/// 2. otherwise `initialNodeCount` × the pool's zones, clamped into the
///    autoscaling bounds when autoscaling is on.
// `currentNodeCount` is deprecated in the API, yet it is the one live count
// it has.
#[allow(deprecated)]
fn pool_summary(c: &model::Cluster, p: &model::NodePool) -> Result<NodePoolSummary, String> {
    if p.name.is_empty() {
        return Err("a node pool has no `name`".into());
    }
    let count_of = |v: i32, field: &str| {
        u32::try_from(v).map_err(|_| format!("node pool {}: `{field}` is negative ({v})", p.name))
    };
    let zones = pool_zones(c, p);
    let bounds = autoscaling_bounds(p, zones).map_err(|d| format!("node pool {}: {d}", p.name))?;
    let count = if c.node_pools.len() == 1 && c.current_node_count > 0 {
        count_of(c.current_node_count, "currentNodeCount")?
    } else {
        let estimate = count_of(p.initial_node_count, "initialNodeCount")?.saturating_mul(zones);
        match bounds {
            Some((min, max)) => estimate.clamp(min, max.max(min)),
            None => estimate,
        }
    };
    Ok(NodePoolSummary {
        name: p.name.clone(),
        count,
        min: bounds.map(|b| b.0),
        max: bounds.map(|b| b.1),
        machine_type: p
            .config
            .as_ref()
            .and_then(|cfg| non_empty(&cfg.machine_type)),
    })
}

/// A pool's zones: its own `locations`, else the cluster's (older replies),
/// else one.
fn pool_zones(c: &model::Cluster, p: &model::NodePool) -> u32 {
    let n = if !p.locations.is_empty() {
        p.locations.len()
    } else {
        c.locations.len()
    };
    u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

/// The pool's total bounds when autoscaling is on: `totalMin/MaxNodeCount`
/// when set (they limit the whole pool), else the per-zone `min/maxNodeCount`
/// × zones.
fn autoscaling_bounds(p: &model::NodePool, zones: u32) -> Result<Option<(u32, u32)>, String> {
    let Some(a) = p.autoscaling.as_ref().filter(|a| a.enabled) else {
        return Ok(None);
    };
    let n = |v: i32, field: &str| {
        u32::try_from(v).map_err(|_| format!("`autoscaling.{field}` is negative ({v})"))
    };
    // Proto3 leaves zeros out, so "unset" and 0 read the same; a total max
    // of 0 would forbid every node, so it means the per-zone pair is used.
    if a.total_max_node_count > 0 {
        return Ok(Some((
            n(a.total_min_node_count, "totalMinNodeCount")?,
            n(a.total_max_node_count, "totalMaxNodeCount")?,
        )));
    }
    Ok(Some((
        n(a.min_node_count, "minNodeCount")?.saturating_mul(zones),
        n(a.max_node_count, "maxNodeCount")?.saturating_mul(zones),
    )))
}

/// Whether a returned operation is done, and an error if it already failed.
fn operation_outcome(op: &model::Operation, what: &str) -> Result<bool, ProviderError> {
    if let Some(e) = op
        .error
        .as_ref()
        .filter(|e| e.code != 0 || !e.message.is_empty())
    {
        return Err(ProviderError::Rejected {
            provider: KIND,
            status: 400,
            message: format!("{what}: GKE operation {} failed: {}", op.name, e.message),
        });
    }
    Ok(op.status == model::operation::Status::Done)
}

/// GKE gives the API server's bare IP (`34.1.2.3`); the sandbox, like a
/// private endpoint behind a proxy, may give a full URL, which is kept.
fn api_url(endpoint: &str) -> Option<String> {
    let e = endpoint.trim();
    if e.is_empty() {
        None
    } else if e.contains("://") {
        Some(e.to_owned())
    } else if e.contains(':') && !e.starts_with('[') {
        // A bare IPv6 address needs brackets in a URL.
        Some(format!("https://[{e}]"))
    } else {
        Some(format!("https://{e}"))
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[cfg(test)]
// The tests build replies with `currentNodeCount`, deprecated but live.
#[allow(deprecated)]
mod tests {
    use super::*;

    fn pool(name: &str, initial: i32, zones: usize) -> model::NodePool {
        model::NodePool::new()
            .set_name(name)
            .set_initial_node_count(initial)
            .set_locations((0..zones).map(|z| format!("europe-west1-{}", ["b", "c", "d"][z % 3])))
    }

    #[test]
    fn one_pool_uses_the_live_cluster_count() {
        let c = model::Cluster::new()
            .set_current_node_count(7)
            .set_node_pools([pool("default-pool", 1, 3)]);
        assert_eq!(pool_summary(&c, &c.node_pools[0]).unwrap().count, 7);
    }

    #[test]
    fn several_pools_use_initial_count_times_zones_clamped_by_autoscaling() {
        let auto = model::NodePoolAutoscaling::new()
            .set_enabled(true)
            .set_min_node_count(2)
            .set_max_node_count(4);
        let c = model::Cluster::new()
            .set_current_node_count(99)
            .set_node_pools([
                pool("a", 1, 3),
                pool("b", 1, 3).set_autoscaling(auto),
                pool("c", 0, 1).set_autoscaling(
                    model::NodePoolAutoscaling::new()
                        .set_enabled(true)
                        .set_total_min_node_count(1)
                        .set_total_max_node_count(10),
                ),
            ]);
        let s: Vec<_> = c
            .node_pools
            .iter()
            .map(|p| pool_summary(&c, p).unwrap())
            .collect();
        assert_eq!((s[0].count, s[0].min, s[0].max), (3, None, None));
        assert_eq!((s[1].count, s[1].min, s[1].max), (6, Some(6), Some(12)));
        assert_eq!((s[2].count, s[2].min, s[2].max), (1, Some(1), Some(10)));
    }

    #[test]
    fn negative_counts_are_decode_errors_not_wraparounds() {
        let c = model::Cluster::new().set_node_pools([pool("a", -1, 1), pool("b", 1, 1)]);
        assert!(pool_summary(&c, &c.node_pools[0]).is_err());
    }

    #[test]
    fn endpoints_get_a_scheme_unless_they_have_one() {
        assert_eq!(
            api_url("34.76.12.34").as_deref(),
            Some("https://34.76.12.34")
        );
        assert_eq!(
            api_url("2600:1900::1").as_deref(),
            Some("https://[2600:1900::1]")
        );
        assert_eq!(
            api_url("http://127.0.0.1:9/k8s/x").as_deref(),
            Some("http://127.0.0.1:9/k8s/x")
        );
        assert_eq!(api_url(" "), None);
    }
}
