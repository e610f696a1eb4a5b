//! AKS through Azure Resource Manager: small typed models (`wire::arm`) over
//! the shared reqwest client at API version 2025-10-01 (BRIEF §4, decision
//! 0002: the old management crate is discontinued).
//!
//! One account is one Entra identity; its scopes are subscriptions, named by
//! the account or listed with `GET /subscriptions`.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use base64::Engine as _;
use cloudops_core::model::{NodePoolSummary, Provider as ProviderKind};
use reqwest::Method;
use serde_json::{Map, Value};

use super::{
    AccessToken, ClusterConnection, ClusterLocator, DiscoveredCluster, Provider, RefreshingToken,
    ScaleOutcome, Scope, StaticToken, TokenSource,
};
use crate::{
    azure_credential::ArmCredential,
    error::ProviderError,
    resilience::{Breakers, CallPolicy},
    rest::{self, RestClient},
    wire::arm::{self, AgentPoolScaleRequest, ArmList, ManagedCluster, Subscription, API_VERSION},
};

pub const DEFAULT_ENDPOINT: &str = "https://management.azure.com";
pub const ENDPOINT_VAR: &str = "CLOUDOPS_ARM_ENDPOINT";
pub const TOKEN_VAR: &str = "CLOUDOPS_AZURE_ACCESS_TOKEN";
/// `GET /subscriptions` is a different resource provider with its own
/// versions.
const SUBSCRIPTIONS_API_VERSION: &str = "2022-12-01";
const KIND: ProviderKind = ProviderKind::Azure;
const MAX_PAGES: usize = 1000;

mod cost;
pub use cost::{parse_cost_rows, CostRow, CLOSED_AFTER_DAYS as COST_CLOSED_AFTER_DAYS};

pub struct AzureProvider {
    account: String,
    /// Empty: list them.
    subscriptions: Vec<String>,
    rest: RestClient,
    /// The sign-in behind the ARM token, when there is one (az CLI, service
    /// principal, managed identity): Entra-ID clusters get their token for
    /// the AKS server app from it, instead of kubelogin.
    credential: Option<ArmCredential>,
}

impl AzureProvider {
    /// `arm_token`: a bearer token for `https://management.azure.com/`
    /// (`CLOUDOPS_AZURE_ACCESS_TOKEN`, or one the user pasted).
    pub fn new(
        account: impl Into<String>,
        endpoint: Option<&str>,
        subscriptions: Vec<String>,
        arm_token: String,
        http: reqwest::Client,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        if arm_token.trim().is_empty() {
            return Err(ProviderError::Config {
                provider: KIND,
                detail: format!(
                    "the Azure access token is empty; run `az login` or set {TOKEN_VAR}"
                ),
            });
        }
        let tokens = Arc::new(StaticToken(AccessToken::new(arm_token, None)));
        let rest = Self::rest(endpoint, tokens, http, policy, breakers)?;
        Ok(AzureProvider {
            account: account.into(),
            subscriptions,
            rest,
            credential: None,
        })
    }

    /// An account signed in through the azure_identity chain: ARM tokens
    /// are minted (and re-minted 5 minutes before they expire) from
    /// `credential`, for the endpoint's own audience (sovereign clouds).
    pub fn with_credential(
        account: impl Into<String>,
        endpoint: Option<&str>,
        subscriptions: Vec<String>,
        credential: ArmCredential,
        http: reqwest::Client,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        let scope = crate::azure_credential::arm_scope_for(endpoint);
        let tokens = Arc::new(credential.token_source(scope));
        let rest = Self::rest(endpoint, tokens, http, policy, breakers)?;
        Ok(AzureProvider {
            account: account.into(),
            subscriptions,
            rest,
            credential: Some(credential),
        })
    }

    /// The ARM client over the shared HTTP stack, with `tokens` re-minted
    /// 5 minutes before they expire.
    fn rest(
        endpoint: Option<&str>,
        tokens: Arc<dyn TokenSource>,
        http: reqwest::Client,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<RestClient, ProviderError> {
        Ok(RestClient {
            provider: KIND,
            http,
            base: rest::parse_endpoint(KIND, ENDPOINT_VAR, endpoint.unwrap_or(DEFAULT_ENDPOINT))?,
            tokens: Arc::new(RefreshingToken::new(tokens, Duration::from_secs(300))),
            policy,
            breakers,
        })
    }

    /// `{base}{resource id}?api-version=…`. ARM ids are absolute paths.
    fn resource_url(&self, id: &str, tail: &str) -> String {
        format!("{}{tail}?api-version={API_VERSION}", self.rest.url(id))
    }

    fn to_discovered(&self, subscription: &str, c: ManagedCluster) -> DiscoveredCluster {
        let props = c.properties;
        // `provisioningState` says whether ARM is busy with it; a stopped
        // cluster is `Succeeded` + power state `Stopped`, which matters more.
        let status = match props.power_state.as_ref().map(|p| p.code.as_str()) {
            Some("Stopped") => "Stopped".to_string(),
            _ => props.provisioning_state.clone(),
        };
        let node_pools = props
            .agent_pool_profiles
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let autoscaled = p.enable_auto_scaling.unwrap_or(false);
                NodePoolSummary {
                    name: p.name,
                    count: p.count.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
                    min: p
                        .min_count
                        .filter(|_| autoscaled)
                        .and_then(|n| u32::try_from(n).ok()),
                    max: p
                        .max_count
                        .filter(|_| autoscaled)
                        .and_then(|n| u32::try_from(n).ok()),
                    machine_type: p.vm_size,
                }
            })
            .collect();
        DiscoveredCluster {
            provider: KIND,
            account: self.account.clone(),
            locator: ClusterLocator {
                native_id: c.id,
                scope: subscription.to_owned(),
                region: c.location,
                name: c.name,
            },
            version: Some(
                props
                    .current_kubernetes_version
                    .unwrap_or(props.kubernetes_version),
            ),
            status,
            // ARM gives a hostname; the credential kubeconfig has the URL
            // (the sandbox's loopback URL appears only there).
            endpoint: props
                .fqdn
                .or(props.private_fqdn)
                .map(|host| format!("https://{host}:443")),
            node_pools,
        }
    }

    /// Follows an ARM `nextLink`. On the public cloud it is used as is; with
    /// an endpoint override the link may still name the public host, so its
    /// path and query are moved onto the configured base.
    fn follow(&self, next: &str) -> Result<String, ProviderError> {
        let parsed = url::Url::parse(next).map_err(|e| ProviderError::Decode {
            provider: KIND,
            what: "an ARM nextLink".into(),
            detail: format!("{next:?}: {e}"),
        })?;
        if parsed.origin() == self.rest.base.origin() {
            return Ok(next.to_owned());
        }
        let mut url = self.rest.url(parsed.path());
        if let Some(q) = parsed.query() {
            url.push('?');
            url.push_str(q);
        }
        Ok(url)
    }
}

impl AzureProvider {
    /// Every managed cluster of a subscription, following `nextLink`, and
    /// the number of pages (calls) it took.
    async fn managed_clusters(
        &self,
        subscription: &str,
    ) -> Result<(Vec<ManagedCluster>, u32), ProviderError> {
        let mut url = self.resource_url(
            &format!("/subscriptions/{subscription}/providers/Microsoft.ContainerService/managedClusters"),
            "",
        );
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let list: ArmList<ManagedCluster> = self
                .rest
                .get(
                    &url,
                    &format!("managed clusters of subscription {subscription} (page {page})"),
                )
                .await?;
            out.extend(list.value);
            match list.next_link {
                Some(next) => url = self.follow(&next)?,
                None => return Ok((out, page as u32)),
            }
        }
        Err(decode_err(
            format!("managed clusters of subscription {subscription}"),
            "the nextLink chain does not end",
        ))
    }
}

fn decode_err(what: String, detail: impl ToString) -> ProviderError {
    ProviderError::Decode {
        provider: KIND,
        what,
        detail: detail.to_string(),
    }
}

#[async_trait]
impl Provider for AzureProvider {
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
        if !self.subscriptions.is_empty() {
            return Ok(self
                .subscriptions
                .iter()
                .map(|s| Scope::new(s.clone(), format!("subscription {s}")))
                .collect());
        }
        let mut url = format!(
            "{}?api-version={SUBSCRIPTIONS_API_VERSION}",
            self.rest.url("/subscriptions")
        );
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: ArmList<Subscription> = self.rest.get(&url, "the subscription list").await?;
            out.extend(
                page.value
                    .into_iter()
                    // Disabled and deleted subscriptions cannot be listed.
                    .filter(|s| {
                        s.state.eq_ignore_ascii_case("Enabled")
                            || s.state.eq_ignore_ascii_case("Warned")
                    })
                    .map(|s| Scope::new(s.subscription_id.clone(), s.display_name)),
            );
            match page.next_link {
                Some(next) => url = self.follow(&next)?,
                None => return Ok(out),
            }
        }
        Err(decode_err(
            "the subscription list".into(),
            "the nextLink chain does not end",
        ))
    }

    async fn discover(&self, scope: &Scope) -> Result<Vec<DiscoveredCluster>, ProviderError> {
        let (clusters, _) = self.managed_clusters(&scope.id).await?;
        Ok(clusters
            .into_iter()
            .map(|c| self.to_discovered(&scope.id, c))
            .collect())
    }

    async fn daily_costs(
        &self,
        req: &crate::cost::CostRequest,
    ) -> Result<crate::cost::CostReport, ProviderError> {
        self.cost_by_resource_group(req).await
    }

    async fn describe(&self, cluster: &ClusterLocator) -> Result<DiscoveredCluster, ProviderError> {
        let c: ManagedCluster = self
            .rest
            .get(
                &self.resource_url(&cluster.native_id, ""),
                &format!("cluster {}", cluster.name),
            )
            .await?;
        Ok(self.to_discovered(&cluster.scope, c))
    }

    async fn scale_node_pool(
        &self,
        cluster: &ClusterLocator,
        pool: &str,
        count: u32,
    ) -> Result<ScaleOutcome, ProviderError> {
        let what = format!("agent pool {pool} of {}", cluster.name);
        let pool_id = format!("{}/agentPools/{pool}", cluster.native_id);
        // The PUT replaces the pool: read the current properties and send
        // them back with the new count (`AgentPoolScaleRequest::keeping`).
        let current: Value = self
            .rest
            .get(&self.resource_url(&pool_id, ""), &what)
            .await?;
        let props: Map<String, Value> = current
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| decode_err(what.clone(), "the agent pool has no properties"))?;
        if props.get("enableAutoScaling").and_then(Value::as_bool) == Some(true) {
            return Err(ProviderError::Rejected {
                provider: KIND,
                status: 409,
                message: format!(
                    "{what} is autoscaled; change its min/max instead of a fixed count, or turn the autoscaler off first"
                ),
            });
        }
        let count = i32::try_from(count).map_err(|_| ProviderError::Rejected {
            provider: KIND,
            status: 400,
            message: format!("{count} nodes is more than an agent pool can hold"),
        })?;
        let body = AgentPoolScaleRequest::fixed(count).keeping(&props);
        let reply = self
            .rest
            .send::<_, arm::AgentPool>(
                Method::PUT,
                &self.resource_url(&pool_id, ""),
                Some(&body),
                &what,
            )
            .await?;
        let operation = reply
            .headers
            .get("azure-asyncoperation")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let completed = operation.is_none()
            && reply.body.properties.provisioning_state.as_deref() == Some("Succeeded");
        Ok(ScaleOutcome {
            pool: reply.body.name,
            requested: count as u32,
            operation,
            completed,
        })
    }

    async fn connect(&self, cluster: &ClusterLocator) -> Result<ClusterConnection, ProviderError> {
        let what = format!("the user credential of {}", cluster.name);
        let reply = self
            .rest
            .send::<(), arm::CredentialResults>(
                Method::POST,
                &self.resource_url(&cluster.native_id, "/listClusterUserCredential"),
                None,
                &what,
            )
            .await?;
        let first = reply
            .body
            .kubeconfigs
            .first()
            .ok_or_else(|| decode_err(what.clone(), "no kubeconfig in the reply"))?;
        let yaml = first
            .kubeconfig()
            .map_err(|e| decode_err(what.clone(), e))?;
        let access =
            crate::kubeconfig::access_from_bytes(&yaml).map_err(|e| decode_err(what.clone(), e))?;
        let tokens: Arc<dyn TokenSource> = match (access.token, &self.credential) {
            (Some(t), _) => Arc::new(StaticToken(AccessToken::new(t, None))),
            // Entra-ID clusters hand out an exec (kubelogin) user: mint the
            // token for the AKS server app from the account's own sign-in.
            // The ARM token is never sent to a cluster.
            (None, Some(credential)) => Arc::new(credential.aks()),
            (None, None) => {
                return Err(ProviderError::Config {
                    provider: KIND,
                    detail: format!(
                        "{} uses Entra ID sign-in, and a static ARM token cannot mint the AKS server app's token — sign in with `az login` or a service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) instead of {TOKEN_VAR}",
                        cluster.name
                    ),
                })
            }
        };
        let ca_pem = access
            .ca_data_b64
            .map(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()))
            .transpose()
            .map_err(|e| decode_err(what.clone(), format!("certificate-authority-data: {e}")))?;
        Ok(ClusterConnection {
            endpoint: access.server,
            ca_pem,
            // Minted tokens refresh 5 minutes before they expire; a static
            // one never expires.
            tokens: Arc::new(RefreshingToken::new(tokens, Duration::from_secs(300))),
            identity_pem: None,
        })
    }
}
