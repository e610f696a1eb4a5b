//! Amazon EKS (BRIEF §4): `aws-sdk-eks` on the `aws-config` credential chain
//! (profiles, SSO, environment, or explicit keys from the keyring). One
//! provider is one AWS account; each enabled region is one discovery scope.
//!
//! - Discovery: ListClusters (every page), then per cluster DescribeCluster
//!   beside ListNodegroups (every page) → DescribeNodegroup; clusters and
//!   node groups are described a few at a time (three round trips for a
//!   region whose lists fit one page).
//! - Scale: UpdateNodegroupConfig `scalingConfig.desiredSize`, within the
//!   node group's own min/max.
//! - Connect: DescribeCluster's endpoint and CA, plus an [`EksTokenSource`]
//!   (a presigned STS GetCallerIdentity) that refreshes itself.
//!
//! Every SDK call goes through [`resilience::call`] with the SDK's own
//! retries turned off, so one policy decides how often a call is repeated
//! and the breaker sees every attempt. Breakers are per region: one region
//! down must not pause the others.

mod cost;
mod sdk_error;
pub mod token;
mod util;

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    future::Future,
    sync::Arc,
};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::{provider::SharedCredentialsProvider, Credentials};
use aws_sdk_eks::{
    config::{retry::RetryConfig, Region},
    error::{ProvideErrorMetadata, SdkError},
    types::{Cluster, Nodegroup, NodegroupScalingConfig},
    Client,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use cloudops_core::model::{NodePoolSummary, Provider as ProviderKind};
use futures_util::{future, stream, StreamExt as _, TryStreamExt as _};
use url::Url;

pub use cost::{CLOSED_AFTER_DAYS, CLUSTER_TAG};
pub use token::{EksTokenSource, REFRESH_MARGIN, TOKEN_LIFETIME, TOKEN_PREFIX};

pub(crate) use self::util::validate_region;
use self::{
    sdk_error::CallSite,
    util::{client_request_token, decode_ca, dns_suffix, pool_summary, split_regions, Pager},
};
use super::{
    ClusterConnection, ClusterLocator, DiscoveredCluster, Provider, RefreshingToken, ScaleOutcome,
    Scope,
};
use crate::{
    error::ProviderError,
    resilience::{self, Breakers, CallPolicy},
    rest,
};

const KIND: ProviderKind = ProviderKind::Aws;
/// The global endpoint override, read by aws-config.
pub const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL";
/// The EKS-only override; wins over [`ENDPOINT_VAR`] (aws-config's rule).
pub const EKS_ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL_EKS";
/// Comma-separated regions for the ambient account (BRIEF §7).
pub const REGIONS_VAR: &str = "CLOUDOPS_AWS_REGIONS";
/// EKS's largest page for ListClusters and ListNodegroups.
const MAX_PAGE_SIZE: i32 = 100;
/// Clusters described at once per region scope. EKS throttles per account
/// and region (token buckets, on the order of ten calls a second sustained
/// with some burst), so what must stay bounded is one region's burst;
/// regions do not share a bucket, which is why the engine may list them all
/// at once. A cluster in flight has at most `1 + NODEGROUP_CONCURRENCY`
/// calls out (DescribeCluster beside its node group describes), so a big
/// region peaks at 8 × 5 calls in flight; a call that is throttled anyway is
/// retried with backoff by the resilience policy.
const DESCRIBE_CONCURRENCY: usize = 8;
/// Node groups described at once within one cluster.
const NODEGROUP_CONCURRENCY: usize = 4;

/// Access keys given explicitly (the keyring, the sandbox, tests). `Debug`
/// never prints the secret parts.
#[derive(Clone)]
pub struct StaticKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// One AWS account, over one or more regions.
pub struct AwsProvider {
    account: String,
    regions: Vec<String>,
    sdk: SdkConfig,
    /// A validated override (sandbox, private endpoint, moto); `None` for
    /// the public regional endpoints.
    endpoint_override: Option<Url>,
    /// What [`Provider::endpoint`] shows.
    endpoint_label: String,
    /// One client per configured region, built once (each holds its own
    /// connection pool and identity cache).
    clients: BTreeMap<String, Client>,
    page_size: i32,
    policy: CallPolicy,
    breakers: Arc<Breakers>,
}

impl fmt::Debug for AwsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsProvider")
            .field("account", &self.account)
            .field("regions", &self.regions)
            .field("endpoint", &self.endpoint_label)
            .finish_non_exhaustive()
    }
}

impl AwsProvider {
    /// The ambient account from the process environment; see
    /// [`AwsProvider::ambient_with`].
    pub async fn ambient(
        account: impl Into<String>,
        profile: Option<&str>,
        regions: Option<Vec<String>>,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        let var = |k: &str| std::env::var(k).ok();
        Self::ambient_with(account, &var, profile, regions, policy, breakers).await
    }

    /// The ambient account, with the variables read through `var` (the
    /// process environment, or a map for tests and the in-process sandbox):
    ///
    /// - keys: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
    ///   `AWS_SESSION_TOKEN` when `var` has them and no profile is named;
    ///   otherwise aws-config's chain (`AWS_PROFILE` or `profile`, SSO,
    ///   `credential_process`, IMDS…) from the process environment and the
    ///   AWS config files;
    /// - regions: `regions` (the CLI's `--regions`), else
    ///   `CLOUDOPS_AWS_REGIONS`, else `AWS_REGION` / the profile's region;
    /// - endpoint: `AWS_ENDPOINT_URL_EKS`, else `AWS_ENDPOINT_URL` (aws-config's
    ///   order), checked here so that a bad value is a config error that
    ///   names the variable.
    pub async fn ambient_with(
        account: impl Into<String>,
        var: &(dyn Fn(&str) -> Option<String> + Sync),
        profile: Option<&str>,
        regions: Option<Vec<String>>,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let keys = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) if profile.is_none() => {
                Some(StaticKeys {
                    access_key_id,
                    secret_access_key,
                    session_token: var("AWS_SESSION_TOKEN"),
                })
            }
            _ => None,
        };
        let sdk = match &keys {
            Some(k) => static_sdk_config(k.clone()),
            None => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest());
                if let Some(p) = profile {
                    loader = loader.profile_name(p);
                }
                loader.load().await
            }
        };
        let regions = match regions {
            Some(r) => r,
            None => match var(REGIONS_VAR) {
                Some(list) => split_regions(&list),
                None => var("AWS_REGION")
                    .or_else(|| var("AWS_DEFAULT_REGION"))
                    .or_else(|| sdk.region().map(|r| r.to_string()))
                    .into_iter()
                    .collect(),
            },
        };
        let endpoint = match (var(EKS_ENDPOINT_VAR), var(ENDPOINT_VAR)) {
            (Some(raw), _) => Some(rest::parse_endpoint(KIND, EKS_ENDPOINT_VAR, &raw)?),
            (None, Some(raw)) => Some(rest::parse_endpoint(KIND, ENDPOINT_VAR, &raw)?),
            // aws-config may still have found one (a profile's
            // `endpoint_url`); it is checked all the same.
            (None, None) => sdk
                .endpoint_url()
                .map(|raw| rest::parse_endpoint(KIND, ENDPOINT_VAR, raw))
                .transpose()?,
        };
        Self::build(account.into(), sdk, regions, endpoint, policy, breakers)
    }

    /// An account with explicit keys and, optionally, an endpoint override
    /// (the sandbox's `http://127.0.0.1:PORT/aws`, moto, a private endpoint).
    /// Nothing is read from the environment or the AWS config files.
    pub fn with_static_keys(
        account: impl Into<String>,
        regions: Vec<String>,
        keys: StaticKeys,
        endpoint: Option<&str>,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        if keys.access_key_id.trim().is_empty() || keys.secret_access_key.is_empty() {
            return Err(ProviderError::Config {
                provider: KIND,
                detail: "the AWS access key id and secret access key must both be set".into(),
            });
        }
        let endpoint = endpoint
            .map(|raw| rest::parse_endpoint(KIND, "the AWS endpoint override", raw))
            .transpose()?;
        Self::build(
            account.into(),
            static_sdk_config(keys),
            regions,
            endpoint,
            policy,
            breakers,
        )
    }

    /// An account from an SDK config the caller assembled (for example a
    /// profile's settings with keys from the keyring).
    pub fn from_sdk_config(
        account: impl Into<String>,
        sdk: SdkConfig,
        regions: Vec<String>,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        let endpoint = sdk
            .endpoint_url()
            .map(|raw| rest::parse_endpoint(KIND, ENDPOINT_VAR, raw))
            .transpose()?;
        Self::build(account.into(), sdk, regions, endpoint, policy, breakers)
    }

    fn build(
        account: String,
        sdk: SdkConfig,
        regions: Vec<String>,
        endpoint_override: Option<Url>,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        let mut unique = BTreeSet::new();
        let mut ordered = Vec::new();
        for r in regions {
            let r = r.trim().to_owned();
            validate_region(&r)?;
            if unique.insert(r.clone()) {
                ordered.push(r);
            }
        }
        if ordered.is_empty() {
            return Err(ProviderError::Config {
                provider: KIND,
                detail: format!(
                    "no AWS region for account {account}: set {REGIONS_VAR} (e.g. us-east-1,eu-west-1), \
                     pass --regions, or give the profile a region"
                ),
            });
        }
        if sdk.credentials_provider().is_none() {
            return Err(ProviderError::Config {
                provider: KIND,
                detail: format!("no AWS credentials provider for account {account}"),
            });
        }
        let endpoint_label = match &endpoint_override {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => "https://eks.{region}.amazonaws.com".to_owned(),
        };
        let clients = ordered
            .iter()
            .map(|r| (r.clone(), make_client(&sdk, r, endpoint_override.as_ref())))
            .collect();
        Ok(AwsProvider {
            account,
            regions: ordered,
            sdk,
            endpoint_override,
            endpoint_label,
            clients,
            page_size: MAX_PAGE_SIZE,
            policy,
            breakers,
        })
    }

    /// Smaller pages, so that tests exercise `nextToken` with few clusters.
    pub fn with_page_size(mut self, size: u8) -> Self {
        self.page_size = i32::from(size).clamp(1, MAX_PAGE_SIZE);
        self
    }

    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The client for a region: the prebuilt one, or a new one for a
    /// region outside the configured list (a cluster remembered from an
    /// earlier configuration).
    fn client(&self, region: &str) -> Result<Client, ProviderError> {
        validate_region(region)?;
        Ok(match self.clients.get(region) {
            Some(c) => c.clone(),
            None => make_client(&self.sdk, region, self.endpoint_override.as_ref()),
        })
    }

    /// The regional endpoint: what errors name and what the breaker keys on.
    fn regional_endpoint(&self, region: &str) -> String {
        match &self.endpoint_override {
            Some(url) => format!("{} ({region})", url.as_str().trim_end_matches('/')),
            None => format!("https://eks.{region}.{}", dns_suffix(region)),
        }
    }

    /// One SDK call under the resilience policy: `send` is one attempt.
    async fn call<T, E, F, Fut>(
        &self,
        region: &str,
        op: &'static str,
        what: String,
        send: F,
    ) -> Result<T, ProviderError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let endpoint = self.regional_endpoint(region);
        let site = CallSite {
            op,
            region,
            what,
            endpoint: &endpoint,
            timeout: self.policy.timeout,
        };
        let site = &site;
        let send = &send;
        resilience::call(
            &self.policy,
            &self.breakers,
            KIND,
            &endpoint,
            || async move { send().await.map_err(|e| sdk_error::map(e, site)) },
        )
        .await
    }

    /// Every cluster name in a region, following every `nextToken`.
    ///
    /// The SDK's paginator is not used here on purpose: a page that fails
    /// ends its stream, so retrying through [`resilience::call`] would mean
    /// restarting the whole listing. Following the token ourselves retries
    /// just the failed page, under the same timeout and breaker.
    async fn cluster_names(&self, region: &str) -> Result<Vec<String>, ProviderError> {
        let client = self.client(region)?;
        let mut names = Vec::new();
        let mut pages = Pager::new(region, "ListClusters");
        while let Some(token) = pages.next_request()? {
            let out = self
                .call(region, "ListClusters", String::new(), || {
                    client
                        .list_clusters()
                        .max_results(self.page_size)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            names.extend(out.clusters().iter().cloned());
            pages.record(out.next_token());
        }
        Ok(names)
    }

    async fn nodegroup_names(
        &self,
        region: &str,
        cluster: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let client = self.client(region)?;
        let mut names = Vec::new();
        let mut pages = Pager::new(region, "ListNodegroups");
        while let Some(token) = pages.next_request()? {
            let out = self
                .call(
                    region,
                    "ListNodegroups",
                    format!("cluster {cluster}"),
                    || {
                        client
                            .list_nodegroups()
                            .cluster_name(cluster)
                            .max_results(self.page_size)
                            .set_next_token(token.clone())
                            .send()
                    },
                )
                .await?;
            names.extend(out.nodegroups().iter().cloned());
            pages.record(out.next_token());
        }
        Ok(names)
    }

    async fn describe_cluster_raw(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Cluster, ProviderError> {
        let client = self.client(region)?;
        let out = self
            .call(region, "DescribeCluster", format!("cluster {name}"), || {
                client.describe_cluster().name(name).send()
            })
            .await?;
        out.cluster().cloned().ok_or_else(|| ProviderError::Decode {
            provider: KIND,
            what: format!("DescribeCluster for cluster {name} in {region}"),
            detail: "the reply has no `cluster`".into(),
        })
    }

    async fn describe_nodegroup_raw(
        &self,
        region: &str,
        cluster: &str,
        nodegroup: &str,
    ) -> Result<Nodegroup, ProviderError> {
        let client = self.client(region)?;
        let what = format!("node group {nodegroup} of cluster {cluster}");
        let out = self
            .call(region, "DescribeNodegroup", what.clone(), || {
                client
                    .describe_nodegroup()
                    .cluster_name(cluster)
                    .nodegroup_name(nodegroup)
                    .send()
            })
            .await?;
        out.nodegroup()
            .cloned()
            .ok_or_else(|| ProviderError::Decode {
                provider: KIND,
                what: format!("DescribeNodegroup for {what} in {region}"),
                detail: "the reply has no `nodegroup`".into(),
            })
    }

    /// A cluster's node groups, in ListNodegroups order. A node group
    /// deleted between the list and its describe is left out.
    async fn node_pools(
        &self,
        region: &str,
        cluster: &str,
    ) -> Result<Vec<NodePoolSummary>, ProviderError> {
        let names = self.nodegroup_names(region, cluster).await?;
        let described: Vec<Option<NodePoolSummary>> = stream::iter(names)
            .map(|ng| async move {
                match self.describe_nodegroup_raw(region, cluster, &ng).await {
                    Ok(n) => pool_summary(&n, region, cluster).map(Some),
                    Err(ProviderError::NotFound { .. }) => {
                        tracing::debug!(region, cluster, nodegroup = %ng, "node group vanished during discovery");
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            })
            .buffered(NODEGROUP_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(described.into_iter().flatten().collect())
    }

    /// DescribeCluster plus its node groups.
    async fn discover_one(
        &self,
        region: &str,
        name: &str,
    ) -> Result<DiscoveredCluster, ProviderError> {
        // Neither needs the other's answer: DescribeCluster runs beside
        // ListNodegroups → DescribeNodegroup, so a cluster costs two round
        // trips after ListClusters instead of three.
        let (cluster, node_pools) = future::try_join(
            self.describe_cluster_raw(region, name),
            self.node_pools(region, name),
        )
        .await?;
        self.to_discovered(&cluster, region, name, node_pools)
    }

    fn to_discovered(
        &self,
        c: &Cluster,
        region: &str,
        requested: &str,
        node_pools: Vec<NodePoolSummary>,
    ) -> Result<DiscoveredCluster, ProviderError> {
        let name = c.name().unwrap_or(requested).to_owned();
        let arn = c
            .arn()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| ProviderError::Decode {
                provider: KIND,
                what: format!("DescribeCluster for cluster {name} in {region}"),
                detail: "the cluster has no `arn`".into(),
            })?;
        Ok(DiscoveredCluster {
            provider: KIND,
            account: self.account.clone(),
            locator: ClusterLocator {
                native_id: arn.to_owned(),
                scope: region.to_owned(),
                region: region.to_owned(),
                name,
            },
            version: c.version().map(str::to_owned),
            status: c
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "UNKNOWN".into()),
            endpoint: c.endpoint().filter(|e| !e.is_empty()).map(str::to_owned),
            node_pools,
        })
    }
}

#[async_trait]
impl Provider for AwsProvider {
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
            .regions
            .iter()
            .map(|r| Scope::new(r.clone(), format!("aws/{r}")))
            .collect())
    }

    async fn discover(&self, scope: &Scope) -> Result<Vec<DiscoveredCluster>, ProviderError> {
        let region = scope.id.as_str();
        let names = self.cluster_names(region).await?;
        let found: Vec<Option<DiscoveredCluster>> = stream::iter(names)
            .map(|name| async move {
                match self.discover_one(region, &name).await {
                    Ok(c) => Ok(Some(c)),
                    // Deleted between ListClusters and its describe: not an
                    // error, just no longer there.
                    Err(ProviderError::NotFound { .. }) => {
                        tracing::debug!(region, cluster = %name, "cluster vanished during discovery");
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            })
            .buffer_unordered(DESCRIBE_CONCURRENCY)
            .try_collect()
            .await?;
        let mut clusters: Vec<DiscoveredCluster> = found.into_iter().flatten().collect();
        clusters.sort_by(|a, b| a.locator.name.cmp(&b.locator.name));
        Ok(clusters)
    }

    async fn describe(&self, cluster: &ClusterLocator) -> Result<DiscoveredCluster, ProviderError> {
        self.discover_one(&cluster.region, &cluster.name).await
    }

    async fn scale_node_pool(
        &self,
        cluster: &ClusterLocator,
        pool: &str,
        count: u32,
    ) -> Result<ScaleOutcome, ProviderError> {
        let region = cluster.region.as_str();
        let name = cluster.name.as_str();
        let current = self.describe_nodegroup_raw(region, name, pool).await?;
        let summary = pool_summary(&current, region, name)?;
        let (min, max) = (summary.min.unwrap_or(0), summary.max.unwrap_or(u32::MAX));
        // Widening min/max to fit would silently change the autoscaling
        // policy someone set; the user has to do that on purpose.
        if count < min || count > max {
            return Err(ProviderError::Rejected {
                provider: KIND,
                status: 400,
                message: format!(
                    "not sent to EKS: {count} nodes is outside node group {pool} of cluster {name} in {region} \
                     (minSize {min}, maxSize {max}); change the node group's min/max first"
                ),
            });
        }
        let desired = i32::try_from(count).map_err(|_| ProviderError::Rejected {
            provider: KIND,
            status: 400,
            message: format!("not sent to EKS: {count} nodes is more than EKS accepts"),
        })?;
        let client = self.client(region)?;
        // One token for every attempt of this logical call, so that a retry
        // after a lost reply is the same update to EKS, not a second one.
        let request_token = client_request_token();
        let out = self
            .call(
                region,
                "UpdateNodegroupConfig",
                format!("node group {pool} of cluster {name}"),
                || {
                    client
                        .update_nodegroup_config()
                        .cluster_name(name)
                        .nodegroup_name(pool)
                        // desiredSize alone: min/max stay as they are.
                        .scaling_config(
                            NodegroupScalingConfig::builder()
                                .desired_size(desired)
                                .build(),
                        )
                        .client_request_token(request_token.clone())
                        .send()
                },
            )
            .await?;
        let update = out.update();
        Ok(ScaleOutcome {
            pool: pool.to_owned(),
            requested: count,
            operation: update.and_then(|u| u.id()).map(str::to_owned),
            completed: update
                .and_then(|u| u.status())
                .is_some_and(|s| s.as_str() == "Successful"),
        })
    }

    async fn daily_costs(
        &self,
        req: &crate::cost::CostRequest,
    ) -> Result<crate::cost::CostReport, ProviderError> {
        self.cost_and_usage(req).await
    }

    async fn connect(&self, cluster: &ClusterLocator) -> Result<ClusterConnection, ProviderError> {
        let region = cluster.region.as_str();
        let name = cluster.name.as_str();
        let c = self.describe_cluster_raw(region, name).await?;
        let status = c.status().map(|s| s.as_str()).unwrap_or("UNKNOWN");
        let endpoint = c
            .endpoint()
            .filter(|e| !e.is_empty())
            .ok_or_else(|| ProviderError::NotFound {
                provider: KIND,
                what: format!("the API endpoint of cluster {name} in {region} (status {status})"),
            })?
            .to_owned();
        let ca_pem = match c.certificate_authority().and_then(|ca| ca.data()) {
            Some(data) if !data.trim().is_empty() => Some(decode_ca(data, name, region)?),
            _ => None,
        };
        let credentials = self
            .sdk
            .credentials_provider()
            .ok_or_else(|| ProviderError::Config {
                provider: KIND,
                detail: format!("no AWS credentials provider for account {}", self.account),
            })?;
        let source = EksTokenSource::new(credentials, region, name)?;
        Ok(ClusterConnection {
            endpoint,
            ca_pem,
            tokens: Arc::new(RefreshingToken::new(Arc::new(source), REFRESH_MARGIN)),
            identity_pem: None,
        })
    }
}

/// An SDK config that reads nothing from the environment or the AWS config
/// files: explicit keys, the SDK's defaults for the rest.
fn static_sdk_config(keys: StaticKeys) -> SdkConfig {
    let creds = Credentials::new(
        keys.access_key_id,
        keys.secret_access_key,
        keys.session_token,
        None,
        "cloudops-static-keys",
    );
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build()
}

fn make_client(sdk: &SdkConfig, region: &str, endpoint: Option<&Url>) -> Client {
    let mut conf = aws_sdk_eks::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        // resilience::call retries; SDK retries on top would multiply them.
        .retry_config(RetryConfig::disabled());
    if sdk.behavior_version().is_none() {
        conf = conf.behavior_version(BehaviorVersion::latest());
    }
    if let Some(url) = endpoint {
        // The URL that was validated, not whatever the SDK would re-read.
        conf = conf.endpoint_url(url.as_str().trim_end_matches('/'));
    }
    Client::from_conf(conf.build())
}
