//! Azure tokens through `azure_identity` 1.x (BRIEF §4,
//! docs/decisions/0002-aks-azure-identity.md): one credential per account,
//! and a [`TokenSource`] per scope minted from it, so that the same sign-in
//! serves ARM (`https://management.azure.com/.default`) and the Kubernetes
//! API of Entra-ID clusters (the AKS server app
//! `6dae42f8-4368-4678-94ff-3960e28e3630`), without kubelogin.
//!
//! Which credential, from the variables `var` returns (the process
//! environment, or a map for tests and the in-process sandbox):
//!
//! 1. `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET`: an
//!    environment service principal ([`ClientSecretCredential`]), against
//!    `AZURE_AUTHORITY_HOST` when set (sovereign clouds).
//! 2. `CLOUDOPS_AZURE_MANAGED_IDENTITY` = `system` or a client id: managed
//!    identity. Opt-in, because probing the instance metadata endpoint on a
//!    machine that is not in Azure costs a connect timeout on every refresh.
//! 3. Otherwise the Azure CLI's login ([`AzureCliCredential`]), run with
//!    `PATH`, `HOME` and `AZURE_CONFIG_DIR` from `var` and with a timeout.
//!
//! HTTP goes through the providers' shared reqwest client (one TLS stack,
//! one pool), and azure_core's own retries are off: the token is minted
//! inside [`crate::resilience`]'s retried, breaker-guarded attempt, so a
//! second retry layer would only multiply the waits.
//!
//! Tokens never reach a log or an error message: errors carry the Azure
//! CLI's stderr or Entra ID's error description, never stdout or a body.

use std::{
    ffi::OsStr,
    fmt, io,
    process::{Output, Stdio},
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use azure_core::{
    cloud::{CloudConfiguration, CustomConfiguration},
    credentials::{Secret, TokenCredential},
    error::ErrorKind,
    http::{ClientOptions, RetryOptions, StatusCode, Transport},
};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, Executor, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId,
};
use cloudops_core::model::Provider as ProviderKind;

use crate::{
    error::ProviderError,
    providers::{AccessToken, TokenSource},
};

/// ARM in the public cloud. Sovereign clouds use their own management host
/// (see [`arm_scope_for`]).
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// The AKS server application, whose tokens Entra-ID clusters accept
/// (what `kubelogin get-token --server-id` asks for).
pub const AKS_SERVER_APP_ID: &str = "6dae42f8-4368-4678-94ff-3960e28e3630";
pub const AKS_SCOPE: &str = "6dae42f8-4368-4678-94ff-3960e28e3630/.default";

pub const TENANT_VAR: &str = "AZURE_TENANT_ID";
pub const CLIENT_ID_VAR: &str = "AZURE_CLIENT_ID";
pub const CLIENT_SECRET_VAR: &str = "AZURE_CLIENT_SECRET";
pub const AUTHORITY_HOST_VAR: &str = "AZURE_AUTHORITY_HOST";
/// `system` for the system-assigned identity, or the client id of a
/// user-assigned one.
pub const MANAGED_IDENTITY_VAR: &str = "CLOUDOPS_AZURE_MANAGED_IDENTITY";

/// How long `az account get-access-token` may take. It is usually 1–3 s;
/// a hung CLI (a prompt, a broken proxy) must not stall discovery.
pub const AZ_TIMEOUT: Duration = Duration::from_secs(20);

/// The variables the Azure CLI child process gets from `var` (and loses
/// when `var` does not have them), so that a test or the sandbox decides
/// which `az` runs and which login it reads.
const AZ_CHILD_VARS: &[&str] = &["PATH", "HOME", "AZURE_CONFIG_DIR"];

const KIND: ProviderKind = ProviderKind::Azure;
const AZ_COMMAND: &str = "az account get-access-token";
/// Error messages from outside (az's stderr, Entra's description) are cut
/// here, so that one verbose failure cannot flood the UI.
const MAX_DETAIL: usize = 600;

/// Which credential an [`ArmCredential`] uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialKind {
    /// `AZURE_TENANT_ID` / `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET`.
    ServicePrincipal {
        tenant_id: String,
        client_id: String,
    },
    /// The system-assigned identity (`None`) or a user-assigned one.
    ManagedIdentity { client_id: Option<String> },
    /// `az login`.
    AzureCli,
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialKind::ServicePrincipal { client_id, .. } => {
                write!(f, "service principal {client_id}")
            }
            CredentialKind::ManagedIdentity { client_id: None } => {
                f.write_str("system-assigned managed identity")
            }
            CredentialKind::ManagedIdentity {
                client_id: Some(id),
            } => write!(f, "managed identity {id}"),
            CredentialKind::AzureCli => f.write_str("Azure CLI login"),
        }
    }
}

/// One Azure sign-in, shared by every scope minted from it. Cheap to clone.
#[derive(Clone)]
pub struct ArmCredential {
    inner: Arc<dyn TokenCredential>,
    kind: CredentialKind,
    /// Where the credential talks to, for `Unreachable` errors.
    authority: String,
    /// The Azure CLI's timeout, for `Timeout` errors.
    timeout: Duration,
}

impl fmt::Debug for ArmCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmCredential")
            .field("kind", &self.kind)
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

impl ArmCredential {
    /// The credential the variables select (see the module docs), with
    /// HTTP over `http` (the providers' shared client).
    pub fn from_vars(
        var: &dyn Fn(&str) -> Option<String>,
        http: reqwest::Client,
    ) -> Result<Self, ProviderError> {
        Self::from_vars_with(var, Transport::new(Arc::new(http)))
    }

    fn from_vars_with(
        var: &dyn Fn(&str) -> Option<String>,
        transport: Transport,
    ) -> Result<Self, ProviderError> {
        let var = |k: &str| {
            var(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let sp = [TENANT_VAR, CLIENT_ID_VAR, CLIENT_SECRET_VAR].map(&var);
        match sp {
            [Some(tenant), Some(client), Some(secret)] => Self::service_principal_with(
                &tenant,
                &client,
                secret,
                var(AUTHORITY_HOST_VAR).as_deref(),
                transport,
            ),
            // A half-configured service principal is a mistake to report,
            // not a reason to silently use someone's `az login` instead.
            [t, c, Some(_)] => {
                let missing: Vec<&str> = [(TENANT_VAR, &t), (CLIENT_ID_VAR, &c)]
                    .into_iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(k, _)| k)
                    .collect();
                Err(config(format!(
                    "{CLIENT_SECRET_VAR} is set but {} is not; set all of {TENANT_VAR}, {CLIENT_ID_VAR} and {CLIENT_SECRET_VAR}, or unset {CLIENT_SECRET_VAR} to use `az login`",
                    missing.join(" and ")
                )))
            }
            _ => match var(MANAGED_IDENTITY_VAR) {
                Some(mi) => {
                    let client_id = (!mi.eq_ignore_ascii_case("system")).then_some(mi);
                    Self::managed_identity_with(client_id, transport)
                }
                None => Self::azure_cli(&var, None),
            },
        }
    }

    /// An explicit service principal (an account in accounts.toml whose
    /// secret is in the keyring). `authority_host`: `AZURE_AUTHORITY_HOST`
    /// for sovereign clouds; the public cloud when `None`.
    pub fn service_principal(
        tenant_id: &str,
        client_id: &str,
        secret: String,
        authority_host: Option<&str>,
        http: reqwest::Client,
    ) -> Result<Self, ProviderError> {
        Self::service_principal_with(
            tenant_id,
            client_id,
            secret,
            authority_host,
            Transport::new(Arc::new(http)),
        )
    }

    fn service_principal_with(
        tenant_id: &str,
        client_id: &str,
        secret: String,
        authority_host: Option<&str>,
        transport: Transport,
    ) -> Result<Self, ProviderError> {
        // Always name the cloud: with `cloud: None`, azure_identity reads
        // AZURE_AUTHORITY_HOST from the process environment itself, which
        // would bypass `var`.
        let (cloud, authority) = match authority_host {
            None => (
                CloudConfiguration::AzurePublic,
                "https://login.microsoftonline.com".to_string(),
            ),
            Some(host) => {
                // Non-exhaustive: built from its default.
                let mut custom = CustomConfiguration::default();
                custom.authority_host = host.to_string();
                (custom.into(), host.to_string())
            }
        };
        let options = ClientSecretCredentialOptions {
            client_options: client_options(transport, Some(cloud)),
        };
        let inner = ClientSecretCredential::new(
            tenant_id,
            client_id.to_string(),
            Secret::new(secret),
            Some(options),
        )
        .map_err(|e| {
            config(format!(
                "the service principal ({TENANT_VAR}={tenant_id}, {CLIENT_ID_VAR}={client_id}) is invalid: {}",
                clip(&e.to_string())
            ))
        })?;
        Ok(ArmCredential {
            inner,
            kind: CredentialKind::ServicePrincipal {
                tenant_id: tenant_id.to_string(),
                client_id: client_id.to_string(),
            },
            authority,
            timeout: Duration::ZERO,
        })
    }

    /// Managed identity: system-assigned when `client_id` is `None`.
    ///
    /// azure_identity decides between App Service (`IDENTITY_ENDPOINT`) and
    /// the VM metadata endpoint by reading the process environment itself;
    /// that one decision does not go through `var`.
    pub fn managed_identity(
        client_id: Option<String>,
        http: reqwest::Client,
    ) -> Result<Self, ProviderError> {
        Self::managed_identity_with(client_id, Transport::new(Arc::new(http)))
    }

    fn managed_identity_with(
        client_id: Option<String>,
        transport: Transport,
    ) -> Result<Self, ProviderError> {
        let options = ManagedIdentityCredentialOptions {
            user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
            client_options: client_options(transport, None),
        };
        let inner = ManagedIdentityCredential::new(Some(options)).map_err(|e| {
            config(format!(
                "managed identity ({MANAGED_IDENTITY_VAR}) is not available here: {}",
                clip(&e.to_string())
            ))
        })?;
        Ok(ArmCredential {
            inner,
            kind: CredentialKind::ManagedIdentity { client_id },
            authority: "the managed identity endpoint".into(),
            timeout: Duration::ZERO,
        })
    }

    /// The Azure CLI's login. `var` gives the child's `PATH`, `HOME` and
    /// `AZURE_CONFIG_DIR`; `tenant_id` asks az for a token in that tenant
    /// rather than its default one.
    pub fn azure_cli(
        var: &dyn Fn(&str) -> Option<String>,
        tenant_id: Option<&str>,
    ) -> Result<Self, ProviderError> {
        Self::azure_cli_with_timeout(var, tenant_id, AZ_TIMEOUT)
    }

    /// [`ArmCredential::azure_cli`] with another timeout (tests).
    pub fn azure_cli_with_timeout(
        var: &dyn Fn(&str) -> Option<String>,
        tenant_id: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, ProviderError> {
        let executor = CliExecutor {
            env: AZ_CHILD_VARS
                .iter()
                .map(|k| (*k, var(k).filter(|v| !v.is_empty())))
                .collect(),
            timeout,
        };
        let options = AzureCliCredentialOptions {
            tenant_id: tenant_id.map(str::to_string),
            executor: Some(Arc::new(executor)),
            ..Default::default()
        };
        let inner = AzureCliCredential::new(Some(options)).map_err(|e| {
            config(format!(
                "the Azure CLI tenant is invalid: {}",
                clip(&e.to_string())
            ))
        })?;
        Ok(ArmCredential {
            inner,
            kind: CredentialKind::AzureCli,
            authority: "the Azure CLI".into(),
            timeout,
        })
    }

    /// Wraps any azure_core credential (workload identity, a test double).
    pub fn from_credential(
        inner: Arc<dyn TokenCredential>,
        kind: CredentialKind,
        authority: impl Into<String>,
    ) -> Self {
        ArmCredential {
            inner,
            kind,
            authority: authority.into(),
            timeout: Duration::ZERO,
        }
    }

    pub fn kind(&self) -> &CredentialKind {
        &self.kind
    }

    /// Tokens for `scope` (`…/.default`).
    pub fn token_source(&self, scope: impl Into<String>) -> AzureTokenSource {
        AzureTokenSource {
            credential: self.clone(),
            scope: scope.into(),
        }
    }

    /// Tokens for ARM in the public cloud ([`ARM_SCOPE`]).
    pub fn arm(&self) -> AzureTokenSource {
        self.token_source(ARM_SCOPE)
    }

    /// Tokens for the Kubernetes API of Entra-ID AKS clusters.
    pub fn aks(&self) -> AzureTokenSource {
        self.token_source(AKS_SCOPE)
    }
}

/// The ARM scope for an ARM endpoint: `https://management.usgovcloudapi.net`
/// → `https://management.usgovcloudapi.net/.default`. `None` (no override)
/// is the public cloud. Entra ID only knows the real management hosts, so
/// an override that points at a local fake gets a scope nobody can mint:
/// use a static token there.
pub fn arm_scope_for(endpoint: Option<&str>) -> String {
    match endpoint.and_then(|e| url::Url::parse(e).ok()) {
        Some(u) if u.host_str().is_some() => {
            format!("{}/.default", u.origin().ascii_serialization())
        }
        _ => ARM_SCOPE.to_string(),
    }
}

/// Tokens for one scope from an [`ArmCredential`]. Wrap it in
/// [`crate::providers::RefreshingToken`] (margin ≥ 5 min): the Azure CLI
/// credential runs `az` on every call and caches nothing.
#[derive(Debug, Clone)]
pub struct AzureTokenSource {
    credential: ArmCredential,
    scope: String,
}

impl AzureTokenSource {
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

#[async_trait]
impl TokenSource for AzureTokenSource {
    async fn token(&self) -> Result<AccessToken, ProviderError> {
        let c = &self.credential;
        let token = c
            .inner
            .get_token(&[self.scope.as_str()], None)
            .await
            .map_err(|e| map_error(c, &self.scope, &e))?;
        tracing::debug!(credential = %c.kind, scope = %self.scope, "minted an Azure token");
        let expires_at = u64::try_from(token.expires_on.unix_timestamp())
            .ok()
            .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        Ok(AccessToken::new(token.token.secret(), expires_at))
    }
}

fn client_options(transport: Transport, cloud: Option<CloudConfiguration>) -> ClientOptions {
    ClientOptions {
        transport: Some(transport),
        retry: RetryOptions::none(),
        cloud: cloud.map(Arc::new),
        ..Default::default()
    }
}

fn config(detail: String) -> ProviderError {
    ProviderError::Config {
        provider: KIND,
        detail,
    }
}

/// First `MAX_DETAIL` characters, on a char boundary.
fn clip(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(MAX_DETAIL) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// What went wrong, from the azure_core error chain. azure_identity wraps
/// every failure in a `Credential` error whose source is the original one
/// (an HTTP status from Entra ID, a connection error, the process result),
/// so the chain is walked rather than the outer kind trusted.
fn map_error(cred: &ArmCredential, scope: &str, err: &azure_core::Error) -> ProviderError {
    let kind = &cred.kind;
    let mut status: Option<StatusCode> = None;
    let mut connection = false;
    let mut data = false;
    let mut io_kind: Option<io::ErrorKind> = None;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(a) = e.downcast_ref::<azure_core::Error>() {
            match a.kind() {
                ErrorKind::HttpResponse { status: s, .. } => status = status.or(Some(*s)),
                ErrorKind::Connection => connection = true,
                ErrorKind::DataConversion => data = true,
                _ => {}
            }
        } else if let Some(io) = e.downcast_ref::<io::Error>() {
            io_kind = io_kind.or(Some(io.kind()));
        }
        cur = e.source();
    }
    // azure_identity's outer message: az's stderr or Entra ID's
    // description, plus a troubleshooting link. Neither holds a token.
    let message = clip(&err.to_string());
    let is_cli = *kind == CredentialKind::AzureCli;

    if let Some(s) = status {
        let code = u16::from(s);
        return match code {
            429 => ProviderError::Throttled {
                provider: KIND,
                message,
                retry_after: None,
            },
            500..=599 => ProviderError::Server {
                provider: KIND,
                status: code,
                message,
                retry_after: None,
            },
            // Entra ID answers a wrong secret or an unknown client with
            // 400/401 (`invalid_client`), an unknown tenant with 400.
            _ => ProviderError::Unauthorized {
                provider: KIND,
                status: code,
                message: format!("{kind} could not get a token for {scope}: {message}"),
            },
        };
    }
    if is_cli {
        return match io_kind {
            Some(io::ErrorKind::NotFound) => config(format!(
                "the Azure CLI (`az`) is not installed or not on PATH; install it and run `az login`, or set {TENANT_VAR}, {CLIENT_ID_VAR} and {CLIENT_SECRET_VAR}"
            )),
            Some(io::ErrorKind::TimedOut) => ProviderError::Timeout {
                provider: KIND,
                endpoint: format!("`{AZ_COMMAND}`"),
                after: cred.timeout,
            },
            // az printed something that is not its token reply: never
            // show it (it may hold a token), only what to do.
            _ if data => ProviderError::CredentialPlugin {
                provider: KIND,
                command: AZ_COMMAND.into(),
                detail: "its output is not a token reply (expires_on needs Azure CLI 2.54 or newer)".into(),
                hint: "Update the Azure CLI (`az upgrade`), then run `az login`.".into(),
            },
            Some(_) => ProviderError::CredentialPlugin {
                provider: KIND,
                command: AZ_COMMAND.into(),
                detail: message,
                hint: "Check that `az account get-access-token` works in a terminal.".into(),
            },
            // az ran and failed: not logged in, expired refresh token, no
            // access to the tenant. The hint says `az login`.
            None => ProviderError::Unauthorized {
                provider: KIND,
                status: 401,
                message: format!(
                    "`{AZ_COMMAND} --scope {scope}` failed; run `az login`: {message}"
                ),
            },
        };
    }
    if connection || io_kind.is_some() {
        return ProviderError::Unreachable {
            provider: KIND,
            endpoint: cred.authority.clone(),
            detail: message,
        };
    }
    if data {
        return ProviderError::Decode {
            provider: KIND,
            what: format!("the {kind} token endpoint"),
            detail: message,
        };
    }
    ProviderError::Unauthorized {
        provider: KIND,
        status: 401,
        message: format!("{kind} could not get a token for {scope}: {message}"),
    }
}

/// Runs azure_identity's `az` command line with the child environment from
/// `var` and a timeout. (azure_identity's own executor inherits the whole
/// process environment and waits forever.)
struct CliExecutor {
    env: Vec<(&'static str, Option<String>)>,
    timeout: Duration,
}

impl fmt::Debug for CliExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CliExecutor")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Executor for CliExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> io::Result<Output> {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A timed-out az must not linger.
            .kill_on_drop(true);
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let output = tokio::time::timeout(self.timeout, cmd.output())
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("`{AZ_COMMAND}` did not finish within {:?}", self.timeout),
                )
            })??;
        // The shell's "command not found": report it as such, so that it is
        // not mistaken for a refused login.
        if output.status.code() == Some(127) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "az not found on PATH",
            ));
        }
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use std::{
        collections::HashMap,
        sync::{Arc, Mutex},
    };

    use azure_core::http::{headers::Headers, AsyncRawResponse, HttpClient, Request, StatusCode};

    use super::*;

    /// Answers every request with one canned reply and records the requests.
    #[derive(Debug)]
    struct FakeEntra {
        status: StatusCode,
        body: &'static str,
        seen: Mutex<Vec<(String, String)>>,
    }

    #[async_trait]
    impl HttpClient for FakeEntra {
        async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
            let body = match request.body() {
                azure_core::http::Body::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                _ => String::new(),
            };
            self.seen
                .lock()
                .map_err(|_| azure_core::Error::with_message(ErrorKind::Other, "poisoned"))?
                .push((request.url().to_string(), body));
            Ok(AsyncRawResponse::from_bytes(
                self.status,
                Headers::new(),
                self.body.as_bytes().to_vec(),
            ))
        }
    }

    fn fake(status: StatusCode, body: &'static str) -> Arc<FakeEntra> {
        Arc::new(FakeEntra {
            status,
            body,
            seen: Mutex::new(Vec::new()),
        })
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const SP: &[(&str, &str)] = &[
        (TENANT_VAR, TENANT),
        (CLIENT_ID_VAR, "client-1"),
        (CLIENT_SECRET_VAR, "s3cret"),
    ];

    #[tokio::test]
    async fn service_principal_mints_through_entra_with_the_scope_asked_for() {
        let entra = fake(
            StatusCode::Ok,
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ.sp.token"}"#,
        );
        let cred = ArmCredential::from_vars_with(&vars(SP), Transport::new(entra.clone())).unwrap();
        assert_eq!(
            cred.kind(),
            &CredentialKind::ServicePrincipal {
                tenant_id: TENANT.into(),
                client_id: "client-1".into()
            }
        );

        let before = SystemTime::now();
        let token = cred.aks().token().await.unwrap();
        assert_eq!(token.secret(), "eyJ.sp.token");
        let left = token
            .expires_at
            .unwrap()
            .duration_since(before)
            .unwrap()
            .as_secs();
        assert!((3590..=3600).contains(&left), "expires in {left}s");

        let seen = entra.seen.lock().unwrap();
        let (url, body) = &seen[0];
        assert_eq!(
            url,
            &format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
        );
        assert!(body.contains("grant_type=client_credentials"), "{body}");
        assert!(body.contains("client_id=client-1"), "{body}");
        assert!(
            body.contains("scope=6dae42f8-4368-4678-94ff-3960e28e3630%2F.default"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn service_principal_uses_the_authority_host_from_var() {
        let entra = fake(
            StatusCode::Ok,
            r#"{"token_type":"Bearer","expires_in":60,"ext_expires_in":60,"access_token":"t"}"#,
        );
        let mut pairs = SP.to_vec();
        pairs.push((AUTHORITY_HOST_VAR, "https://login.microsoftonline.us"));
        let cred =
            ArmCredential::from_vars_with(&vars(&pairs), Transport::new(entra.clone())).unwrap();
        cred.arm().token().await.unwrap();
        let seen = entra.seen.lock().unwrap();
        assert!(
            seen[0].0.starts_with("https://login.microsoftonline.us/"),
            "{}",
            seen[0].0
        );
        assert!(seen[0]
            .1
            .contains("scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
    }

    /// azure_identity refuses a plain-HTTP authority, so the service
    /// principal cannot be pointed at a loopback fake; the fake transport
    /// above stands in for it.
    #[test]
    fn an_http_authority_host_is_a_config_error() {
        let mut pairs = SP.to_vec();
        pairs.push((AUTHORITY_HOST_VAR, "http://127.0.0.1:9"));
        let err = ArmCredential::from_vars_with(
            &vars(&pairs),
            Transport::new(fake(StatusCode::Ok, "{}")),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "config");
    }

    #[tokio::test]
    async fn a_refused_secret_is_unauthorized_and_never_echoes_the_secret() {
        let entra = fake(
            StatusCode::Unauthorized,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#,
        );
        let cred = ArmCredential::from_vars_with(&vars(SP), Transport::new(entra)).unwrap();
        let err = cred.arm().token().await.unwrap_err();
        match &err {
            ProviderError::Unauthorized {
                status, message, ..
            } => {
                assert_eq!(*status, 401);
                assert!(message.contains("AADSTS7000215"), "{message}");
                assert!(!message.contains("s3cret"), "{message}");
            }
            other => panic!("expected Unauthorized, got {other:?}"),
        }
        assert!(err.hint().contains("az login"), "{}", err.hint());
    }

    #[tokio::test]
    async fn entra_throttling_and_outages_are_transient() {
        let entra = fake(
            StatusCode::TooManyRequests,
            r#"{"error":"temporarily_unavailable","error_description":"slow down","error_codes":[]}"#,
        );
        let cred = ArmCredential::from_vars_with(&vars(SP), Transport::new(entra)).unwrap();
        let err = cred.arm().token().await.unwrap_err();
        assert_eq!(err.kind(), "throttled");
        assert!(err.is_transient());

        let entra = fake(
            StatusCode::ServiceUnavailable,
            r#"{"error":"x","error_description":"down","error_codes":[]}"#,
        );
        let cred = ArmCredential::from_vars_with(&vars(SP), Transport::new(entra)).unwrap();
        let err = cred.arm().token().await.unwrap_err();
        assert_eq!(err.kind(), "server_error");
    }

    #[derive(Debug)]
    struct Offline;

    #[async_trait]
    impl HttpClient for Offline {
        async fn execute_request(&self, _: &Request) -> azure_core::Result<AsyncRawResponse> {
            Err(azure_core::Error::with_message(
                ErrorKind::Connection,
                "connection refused",
            ))
        }
    }

    #[tokio::test]
    async fn no_network_is_unreachable_and_names_the_authority() {
        let cred =
            ArmCredential::from_vars_with(&vars(SP), Transport::new(Arc::new(Offline))).unwrap();
        match cred.arm().token().await.unwrap_err() {
            ProviderError::Unreachable { endpoint, .. } => {
                assert_eq!(endpoint, "https://login.microsoftonline.com")
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
    }

    #[test]
    fn selection_prefers_the_service_principal_then_managed_identity_then_az() {
        let t = || Transport::new(fake(StatusCode::Ok, "{}"));
        let mut pairs = SP.to_vec();
        pairs.push((MANAGED_IDENTITY_VAR, "system"));
        assert!(matches!(
            ArmCredential::from_vars_with(&vars(&pairs), t())
                .unwrap()
                .kind(),
            CredentialKind::ServicePrincipal { .. }
        ));
        assert_eq!(
            ArmCredential::from_vars_with(&vars(&[]), t())
                .unwrap()
                .kind(),
            &CredentialKind::AzureCli
        );
        // Blank values count as unset (a `VAR=` in a shell profile).
        assert_eq!(
            ArmCredential::from_vars_with(
                &vars(&[
                    (TENANT_VAR, " "),
                    (CLIENT_ID_VAR, ""),
                    (CLIENT_SECRET_VAR, "")
                ]),
                t()
            )
            .unwrap()
            .kind(),
            &CredentialKind::AzureCli
        );
        // A tenant without a secret is az's `--tenant` territory, not a
        // broken service principal.
        assert_eq!(
            ArmCredential::from_vars_with(&vars(&[(TENANT_VAR, TENANT)]), t())
                .unwrap()
                .kind(),
            &CredentialKind::AzureCli
        );
    }

    #[test]
    fn a_secret_without_its_tenant_is_a_config_error_naming_the_gap() {
        let err = ArmCredential::from_vars_with(
            &vars(&[(CLIENT_ID_VAR, "c"), (CLIENT_SECRET_VAR, "s3cret")]),
            Transport::new(fake(StatusCode::Ok, "{}")),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "config");
        let text = err.to_string();
        assert!(text.contains(TENANT_VAR), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[tokio::test]
    async fn managed_identity_mints_from_the_metadata_endpoint() {
        // Only meaningful outside App Service, where azure_identity picks
        // the VM metadata endpoint (it reads IDENTITY_ENDPOINT itself).
        if std::env::var_os("IDENTITY_ENDPOINT").is_some() {
            return;
        }
        let imds = fake(
            StatusCode::Ok,
            r#"{"access_token":"eyJ.mi","expires_on":"4102444800","resource":"https://management.azure.com","token_type":"Bearer"}"#,
        );
        let cred = ArmCredential::from_vars_with(
            &vars(&[(MANAGED_IDENTITY_VAR, "11111111-2222-3333-4444-555555555555")]),
            Transport::new(imds.clone()),
        )
        .unwrap();
        assert_eq!(
            cred.kind(),
            &CredentialKind::ManagedIdentity {
                client_id: Some("11111111-2222-3333-4444-555555555555".into())
            }
        );
        let token = cred.arm().token().await.unwrap();
        assert_eq!(token.secret(), "eyJ.mi");
        assert_eq!(
            token.expires_at,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800))
        );
        let seen = imds.seen.lock().unwrap();
        let url = &seen.last().unwrap().0;
        assert!(
            url.starts_with("http://169.254.169.254/metadata/identity/oauth2/token"),
            "{url}"
        );
        assert!(
            url.contains("client_id=11111111-2222-3333-4444-555555555555"),
            "{url}"
        );
        assert!(
            url.contains("resource=https%3A%2F%2Fmanagement.azure.com"),
            "{url}"
        );
    }

    #[test]
    fn arm_scope_follows_sovereign_endpoints() {
        assert_eq!(arm_scope_for(None), ARM_SCOPE);
        assert_eq!(
            arm_scope_for(Some("https://management.usgovcloudapi.net/")),
            "https://management.usgovcloudapi.net/.default"
        );
        assert_eq!(arm_scope_for(Some("not a url")), ARM_SCOPE);
    }

    #[test]
    fn clip_cuts_long_messages_on_a_char_boundary() {
        let long = "é".repeat(MAX_DETAIL + 10);
        let c = clip(&long);
        assert_eq!(c.chars().count(), MAX_DETAIL + 1);
        assert!(c.ends_with('…'));
        assert_eq!(clip(" short "), "short");
    }
}
