//! DigitalOcean Kubernetes (DOKS): plain reqwest with the typed models of
//! `wire::doks` (BRIEF §4: there is no maintained crate). One account is one
//! API token; the API has no regional split, so discovery is one scope that
//! follows `links.pages.next`.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use cloudops_core::model::{NodePoolSummary, Provider as ProviderKind};
use reqwest::Method;

use super::{
    AccessToken, ClusterConnection, ClusterLocator, DiscoveredCluster, Provider, RefreshingToken,
    ScaleOutcome, Scope, StaticToken, TokenSource,
};
use crate::{
    error::ProviderError,
    resilience::{Breakers, CallPolicy},
    rest::{self, RestClient},
    wire::doks,
};

pub const DEFAULT_ENDPOINT: &str = "https://api.digitalocean.com";
pub const ENDPOINT_VAR: &str = "CLOUDOPS_DO_ENDPOINT";
pub const TOKEN_VAR: &str = "DIGITALOCEAN_ACCESS_TOKEN";
const KIND: ProviderKind = ProviderKind::DigitalOcean;
/// DigitalOcean's page size cap.
const PER_PAGE: u32 = 200;
/// A runaway `next` chain (a server bug, or a loop) must end.
const MAX_PAGES: usize = 1000;

mod cost;

pub struct DigitalOceanProvider {
    account: String,
    rest: RestClient,
}

impl DigitalOceanProvider {
    /// `endpoint`: `None` for the public API. The token is the account's API
    /// token (from the keyring, `DIGITALOCEAN_ACCESS_TOKEN`, or doctl's config).
    pub fn new(
        account: impl Into<String>,
        endpoint: Option<&str>,
        api_token: String,
        http: reqwest::Client,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        let base = rest::parse_endpoint(KIND, ENDPOINT_VAR, endpoint.unwrap_or(DEFAULT_ENDPOINT))?;
        if api_token.trim().is_empty() {
            return Err(ProviderError::Config {
                provider: KIND,
                detail: format!("the DigitalOcean API token is empty; set {TOKEN_VAR} or add it in Settings → Accounts"),
            });
        }
        let tokens = Arc::new(RefreshingToken::new(
            Arc::new(StaticToken(AccessToken::new(api_token, None))),
            Duration::ZERO,
        ));
        Ok(DigitalOceanProvider {
            account: account.into(),
            rest: RestClient {
                provider: KIND,
                http,
                base,
                tokens,
                policy,
                breakers,
            },
        })
    }

    fn cluster_url(&self, id: &str, tail: &str) -> String {
        self.rest
            .url(&format!("/v2/kubernetes/clusters/{}{tail}", encode(id)))
    }

    fn to_discovered(&self, c: doks::KubernetesCluster) -> DiscoveredCluster {
        DiscoveredCluster {
            provider: KIND,
            account: self.account.clone(),
            locator: ClusterLocator {
                native_id: c.id,
                scope: String::new(),
                region: c.region,
                name: c.name,
            },
            version: Some(c.version),
            status: c.status.state,
            endpoint: (!c.endpoint.is_empty()).then_some(c.endpoint),
            node_pools: c.node_pools.iter().map(pool_summary).collect(),
        }
    }

    async fn pool(
        &self,
        cluster: &ClusterLocator,
        pool: &str,
    ) -> Result<doks::NodePool, ProviderError> {
        let list: doks::NodePoolList = self
            .rest
            .get(
                &self.cluster_url(&cluster.native_id, "/node_pools"),
                &format!("node pools of {}", cluster.name),
            )
            .await?;
        list.node_pools
            .into_iter()
            .find(|p| p.name == pool || p.id == pool)
            .ok_or_else(|| ProviderError::NotFound {
                provider: KIND,
                what: format!("node pool {pool:?} of cluster {}", cluster.name),
            })
    }
}

fn pool_summary(p: &doks::NodePool) -> NodePoolSummary {
    NodePoolSummary {
        name: p.name.clone(),
        count: p.count,
        min: p.auto_scale.then_some(p.min_nodes),
        max: p.auto_scale.then_some(p.max_nodes),
        machine_type: Some(p.size.clone()),
    }
}

/// Path segments come from API replies and the UI; never let one add a path.
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

#[async_trait]
impl Provider for DigitalOceanProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn account(&self) -> &str {
        &self.account
    }

    fn endpoint(&self) -> &str {
        self.rest.base.as_str()
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        Ok(vec![Scope::new("", "all regions")])
    }

    async fn discover(&self, _scope: &Scope) -> Result<Vec<DiscoveredCluster>, ProviderError> {
        let mut url = self
            .rest
            .url(&format!("/v2/kubernetes/clusters?per_page={PER_PAGE}"));
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let list: doks::KubernetesClusterList = self
                .rest
                .get(&url, &format!("the cluster list (page {page})"))
                .await?;
            out.extend(
                list.kubernetes_clusters
                    .into_iter()
                    .map(|c| self.to_discovered(c)),
            );
            match list.links.as_ref().and_then(doks::Links::next) {
                // `next` is absolute and points at the public API; keep the
                // configured endpoint (an override, the sandbox) and take
                // only the query from it.
                Some(next) => url = rebase(&self.rest, next, "/v2/kubernetes/clusters")?,
                None => return Ok(out),
            }
        }
        Err(ProviderError::Decode {
            provider: KIND,
            what: "the cluster list".into(),
            detail: format!("more than {MAX_PAGES} pages; the `next` links may loop"),
        })
    }

    async fn daily_costs(
        &self,
        req: &crate::cost::CostRequest,
    ) -> Result<crate::cost::CostReport, ProviderError> {
        self.costs(req).await
    }

    async fn describe(&self, cluster: &ClusterLocator) -> Result<DiscoveredCluster, ProviderError> {
        let r: doks::KubernetesClusterResponse = self
            .rest
            .get(
                &self.cluster_url(&cluster.native_id, ""),
                &format!("cluster {}", cluster.name),
            )
            .await?;
        Ok(self.to_discovered(r.kubernetes_cluster))
    }

    async fn scale_node_pool(
        &self,
        cluster: &ClusterLocator,
        pool: &str,
        count: u32,
    ) -> Result<ScaleOutcome, ProviderError> {
        let current = self.pool(cluster, pool).await?;
        // The PUT replaces the pool's settings: send back what we do not
        // change, and turn a fixed count on an autoscaled pool into an
        // explicit error rather than a silent fight with the autoscaler.
        if current.auto_scale && !(current.min_nodes..=current.max_nodes).contains(&count) {
            return Err(ProviderError::Rejected {
                provider: KIND,
                status: 422,
                message: format!(
                    "node pool {} autoscales between {} and {}; {count} is outside that range",
                    current.name, current.min_nodes, current.max_nodes
                ),
            });
        }
        let body = doks::NodePoolUpdate {
            name: current.name.clone(),
            count,
            auto_scale: Some(current.auto_scale),
            min_nodes: current.auto_scale.then_some(current.min_nodes),
            max_nodes: current.auto_scale.then_some(current.max_nodes),
            tags: None,
        };
        let url = self.cluster_url(
            &cluster.native_id,
            &format!("/node_pools/{}", encode(&current.id)),
        );
        let reply = self
            .rest
            .send::<_, doks::NodePoolResponse>(
                Method::PUT,
                &url,
                Some(&body),
                &format!("node pool {} of {}", current.name, cluster.name),
            )
            .await?;
        Ok(ScaleOutcome {
            pool: reply.body.node_pool.name,
            requested: count,
            operation: None,
            completed: false,
        })
    }

    async fn connect(&self, cluster: &ClusterLocator) -> Result<ClusterConnection, ProviderError> {
        let source = Arc::new(DoksTokenSource {
            rest: self.rest.clone(),
            url: self.cluster_url(&cluster.native_id, "/credentials"),
            cluster: cluster.name.clone(),
        });
        let first = source.credentials().await?;
        let ca = first
            .certificate_authority()
            .map_err(|e| ProviderError::Decode {
                provider: KIND,
                what: format!("credentials of {}", cluster.name),
                detail: e.to_string(),
            })?;
        Ok(ClusterConnection {
            endpoint: first.server,
            ca_pem: Some(ca),
            // DOKS tokens last days; refresh an hour early.
            tokens: Arc::new(RefreshingToken::new(source, Duration::from_secs(3600))),
            identity_pem: None,
        })
    }
}

/// Rewrites an absolute `next` link onto the configured base, keeping only
/// its query string.
fn rebase(rest: &RestClient, next: &str, path: &str) -> Result<String, ProviderError> {
    let parsed = url::Url::parse(next).map_err(|e| ProviderError::Decode {
        provider: KIND,
        what: "a paging link".into(),
        detail: format!("{next:?}: {e}"),
    })?;
    let mut url = rest.url(path);
    if let Some(q) = parsed.query() {
        url.push('?');
        url.push_str(q);
    }
    Ok(url)
}

/// `/credentials` gives a cluster token with `expires_at`.
struct DoksTokenSource {
    rest: RestClient,
    url: String,
    cluster: String,
}

impl DoksTokenSource {
    async fn credentials(&self) -> Result<doks::Credentials, ProviderError> {
        self.rest
            .get(&self.url, &format!("credentials of {}", self.cluster))
            .await
    }
}

#[async_trait]
impl TokenSource for DoksTokenSource {
    async fn token(&self) -> Result<AccessToken, ProviderError> {
        let c = self.credentials().await?;
        let token = c.token.ok_or_else(|| ProviderError::Config {
            provider: KIND,
            detail: format!(
                "cluster {} offers no bearer token (client-certificate-only clusters are not supported); upgrade the cluster",
                self.cluster
            ),
        })?;
        let expires_at = match c.expires_at.as_deref() {
            None => None,
            Some(s) => {
                Some(
                    crate::time::parse_rfc3339(s).map_err(|detail| ProviderError::Decode {
                        provider: KIND,
                        what: format!("credentials of {}", self.cluster),
                        detail,
                    })?,
                )
            }
        };
        Ok(AccessToken::new(token, expires_at))
    }
}
