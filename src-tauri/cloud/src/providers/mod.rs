//! One trait, one implementation per cloud plus kubeconfig (BRIEF §2, §4).
//! Adding a fifth cloud is one new module here.
//!
//! A provider is one *account* of one cloud: its credentials and endpoint
//! are fixed when it is built. Discovery is split into *scopes* (EKS regions,
//! GKE projects, AKS subscriptions, the one DigitalOcean account) so that the
//! engine can run them concurrently, show progress per scope, and keep the
//! results of the scopes that worked when one fails.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use cloudops_core::model::{ClusterSummary, NodePoolSummary, Provider as ProviderKind};
use serde::{Deserialize, Serialize};

use crate::{
    cost::{CostReport, CostRequest},
    error::ProviderError,
};

pub mod aws;
pub mod azure;
pub mod digitalocean;
pub mod gcp;
pub mod kubeconfig;

/// A unit of discovery: a region, a project, a subscription, or the whole
/// account where the API has no finer split.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    /// What the provider needs to list the scope (region name, project id,
    /// subscription id, or empty).
    pub id: String,
    /// What the progress display shows.
    pub label: String,
}

impl Scope {
    pub fn new(id: impl Into<String>, label: impl Into<String>) -> Self {
        Scope {
            id: id.into(),
            label: label.into(),
        }
    }
}

/// How a provider finds the cluster again (describe, scale, connect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterLocator {
    /// The provider's own id: EKS ARN, GKE `projects/p/locations/l/clusters/n`,
    /// ARM resource id, DigitalOcean UUID, kubeconfig context.
    pub native_id: String,
    /// The scope it was found in.
    pub scope: String,
    pub region: String,
    pub name: String,
}

/// A cluster as one provider call saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredCluster {
    pub provider: ProviderKind,
    pub account: String,
    pub locator: ClusterLocator,
    pub version: Option<String>,
    /// The provider's own status word (ACTIVE, RUNNING, Succeeded, running…).
    pub status: String,
    /// The Kubernetes API URL; `https://` is added to GKE's bare IP.
    pub endpoint: Option<String>,
    pub node_pools: Vec<NodePoolSummary>,
}

impl DiscoveredCluster {
    /// The cache row for it, stamped with the collection time.
    pub fn to_summary(&self, collected_at: i64) -> ClusterSummary {
        ClusterSummary {
            id: ClusterSummary::make_id(
                self.provider,
                &self.account,
                &self.locator.region,
                &self.locator.name,
            ),
            provider: self.provider,
            account: self.account.clone(),
            name: self.locator.name.clone(),
            region: self.locator.region.clone(),
            version: self.version.clone(),
            status: self.status.clone(),
            endpoint: self.endpoint.clone(),
            node_pools: self.node_pools.clone(),
            collected_at,
            gone_at: None,
        }
    }
}

/// What listing one scope found. A cloud may answer a listing while saying
/// that parts of the scope did not (GKE's `missingZones`): then `clusters`
/// are the ones that did answer and `unreachable` names the parts that did
/// not, so the engine keeps the clusters, flags the scope, and does not
/// treat the absence of the others as their deletion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeListing {
    pub clusters: Vec<DiscoveredCluster>,
    /// Locations inside the scope (zones, regions) that did not answer;
    /// empty when the listing is complete.
    pub unreachable: Vec<String>,
}

impl ScopeListing {
    /// A listing that covers the whole scope.
    pub fn complete(clusters: Vec<DiscoveredCluster>) -> Self {
        ScopeListing {
            clusters,
            unreachable: Vec::new(),
        }
    }

    pub fn is_complete(&self) -> bool {
        self.unreachable.is_empty()
    }
}

/// What a node-pool scale call started. Cloud scale calls are long-running;
/// `operation` is the handle the provider returned (GKE operation name, ARM
/// async-operation URL, EKS update id), when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleOutcome {
    pub pool: String,
    pub requested: u32,
    pub operation: Option<String>,
    /// True when the provider reported the change complete before returning.
    pub completed: bool,
}

/// A bearer token with its expiry. `Debug` never prints the secret.
#[derive(Clone)]
pub struct AccessToken {
    secret: String,
    pub expires_at: Option<SystemTime>,
}

impl AccessToken {
    pub fn new(secret: impl Into<String>, expires_at: Option<SystemTime>) -> Self {
        AccessToken {
            secret: secret.into(),
            expires_at,
        }
    }

    /// The secret, for the one place that puts it in a header.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Still usable for at least `margin`.
    pub fn fresh_for(&self, margin: Duration, now: SystemTime) -> bool {
        match self.expires_at {
            None => true,
            Some(at) => at
                .duration_since(now)
                .map(|left| left > margin)
                .unwrap_or(false),
        }
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Mints tokens for one cluster's Kubernetes API (EKS STS presign, GCP
/// OAuth, Entra/AKS credential, DO credentials, kubeconfig exec plugin).
#[async_trait]
pub trait TokenSource: Send + Sync {
    async fn token(&self) -> Result<AccessToken, ProviderError>;
}

/// A token that never changes (kubeconfig `token:`, the sandbox).
pub struct StaticToken(pub AccessToken);

#[async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<AccessToken, ProviderError> {
        Ok(self.0.clone())
    }
}

/// Caches a [`TokenSource`]'s token and mints a new one when less than
/// `margin` is left, so that a long session never sends an expired token
/// (EKS tokens live 15 min: refresh at ~14).
pub struct RefreshingToken {
    source: Arc<dyn TokenSource>,
    margin: Duration,
    cached: tokio::sync::Mutex<Option<AccessToken>>,
}

impl RefreshingToken {
    pub fn new(source: Arc<dyn TokenSource>, margin: Duration) -> Self {
        RefreshingToken {
            source,
            margin,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    pub async fn token(&self) -> Result<AccessToken, ProviderError> {
        // One lock for check-and-refresh: concurrent callers wait for one
        // mint instead of each minting their own.
        let mut cached = self.cached.lock().await;
        if let Some(t) = cached.as_ref() {
            if t.fresh_for(self.margin, SystemTime::now()) {
                return Ok(t.clone());
            }
        }
        let fresh = self.source.token().await?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }
}

/// Everything needed to talk to a cluster's Kubernetes API, independent of
/// the cloud it runs on.
pub struct ClusterConnection {
    /// `https://…` (or the sandbox's `http://127.0.0.1:…/k8s/{id}`).
    pub endpoint: String,
    /// PEM bundle that signs the API server's certificate.
    pub ca_pem: Option<Vec<u8>>,
    pub tokens: Arc<RefreshingToken>,
    /// A TLS client certificate chain and its private key, PEM
    /// (kubeconfig `client-certificate(-data)` + `client-key(-data)`, what
    /// kind and minikube write); `None` for token-only clusters.
    pub identity_pem: Option<Vec<u8>>,
}

impl fmt::Debug for ClusterConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterConnection")
            .field("endpoint", &self.endpoint)
            .field("ca_pem_bytes", &self.ca_pem.as_ref().map(Vec::len))
            .field("has_identity", &self.identity_pem.is_some())
            .finish_non_exhaustive()
    }
}

/// One account of one cloud.
#[async_trait]
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;

    /// The account's name, as the user gave it (or `ambient`).
    fn account(&self) -> &str;

    /// The endpoint this account talks to; the circuit breakers key on it.
    fn endpoint(&self) -> &str;

    /// The scopes to discover. Static for EKS and GKE (configured regions
    /// and projects); AKS may list subscriptions here.
    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError>;

    /// Every cluster in one scope, with its node pools, following every
    /// pagination token.
    async fn discover(&self, scope: &Scope) -> Result<Vec<DiscoveredCluster>, ProviderError>;

    /// [`Provider::discover`], also saying which parts of the scope did not
    /// answer. What the engine calls. The default is right for every API
    /// that either lists the whole scope or fails: a provider overrides it
    /// only when its API can answer partially (GKE's `missingZones`).
    async fn discover_listing(&self, scope: &Scope) -> Result<ScopeListing, ProviderError> {
        self.discover(scope).await.map(ScopeListing::complete)
    }

    /// One cluster, fresh.
    async fn describe(&self, cluster: &ClusterLocator) -> Result<DiscoveredCluster, ProviderError>;

    /// Asks the cloud to resize a node pool. This is a write: callers must
    /// have a confirmation and an audit row (the actions work, issue 6).
    async fn scale_node_pool(
        &self,
        cluster: &ClusterLocator,
        pool: &str,
        count: u32,
    ) -> Result<ScaleOutcome, ProviderError>;

    /// Endpoint, CA and a self-refreshing token for the cluster's API.
    async fn connect(&self, cluster: &ClusterLocator) -> Result<ClusterConnection, ProviderError>;

    /// The account's daily cost over the request's days, every figure
    /// labelled actual or estimate (see `crate::cost`). The default is for
    /// a source with no billing API: it says so.
    /// The source whose closed days decide what a cost refresh fetches:
    /// the provider's billing data where it is read (AWS, Azure, GKE with a
    /// billing export), else the estimate.
    fn primary_cost_source(&self) -> cloudops_core::cost::CostSource {
        match self.kind() {
            ProviderKind::Aws | ProviderKind::Azure => cloudops_core::cost::CostSource::Actual,
            _ => cloudops_core::cost::CostSource::Estimate,
        }
    }

    async fn daily_costs(&self, _req: &CostRequest) -> Result<CostReport, ProviderError> {
        Err(ProviderError::Unsupported {
            provider: self.kind(),
            what: "cost data".into(),
            hint: "this source has no cost source; cost is shown for the cloud accounts only"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    struct CountingSource {
        minted: AtomicU32,
        lifetime: Duration,
    }

    #[async_trait]
    impl TokenSource for CountingSource {
        async fn token(&self) -> Result<AccessToken, ProviderError> {
            let n = self.minted.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(AccessToken::new(
                format!("t{n}"),
                Some(SystemTime::now() + self.lifetime),
            ))
        }
    }

    #[tokio::test]
    async fn refreshing_token_reuses_a_fresh_token_and_remints_near_expiry() {
        let source = Arc::new(CountingSource {
            minted: AtomicU32::new(0),
            lifetime: Duration::from_secs(900),
        });
        let tokens = RefreshingToken::new(source.clone(), Duration::from_secs(60));
        assert_eq!(tokens.token().await.unwrap().secret(), "t1");
        assert_eq!(tokens.token().await.unwrap().secret(), "t1");
        assert_eq!(source.minted.load(Ordering::SeqCst), 1);

        // A margin longer than the lifetime: every call is "about to expire".
        let eager = RefreshingToken::new(source.clone(), Duration::from_secs(901));
        assert_eq!(eager.token().await.unwrap().secret(), "t2");
        assert_eq!(eager.token().await.unwrap().secret(), "t3");
    }

    #[test]
    fn access_token_debug_never_shows_the_secret() {
        let t = AccessToken::new("super-secret-value", None);
        assert!(!format!("{t:?}").contains("super-secret-value"));
    }

    #[test]
    fn freshness_respects_the_margin() {
        let now = SystemTime::now();
        let t = AccessToken::new("x", Some(now + Duration::from_secs(120)));
        assert!(t.fresh_for(Duration::from_secs(60), now));
        assert!(!t.fresh_for(Duration::from_secs(180), now));
        assert!(AccessToken::new("x", None).fresh_for(Duration::from_secs(1 << 20), now));
    }
}
