//! The user's own kubeconfig files as a provider (BRIEF §4): every context
//! is a cluster, found without any cloud API. One scope per file, so that a
//! broken file fails alone; kubectl's merge rules across files (the first
//! file to define a name wins, see [`crate::kubeconfig::KubeconfigSet`]).
//!
//! Access: the server and its CA from the cluster entry; the user's static
//! `token`, `tokenFile`, exec credential plugin, or client certificate.
//! Exec plugins (gke-gcloud-auth-plugin, kubelogin, `aws eks get-token`)
//! run through [`ExecTokenSource`]; [`RefreshingToken`] re-runs them before
//! the credential they printed expires.
//!
//! Node pools belong to the cloud account: a kubeconfig cluster has none
//! here, and a cluster found both ways is merged by endpoint
//! ([`crate::merge`]).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use cloudops_core::model::Provider as ProviderKind;
use kube::config::{AuthInfo, Cluster};
use secrecy::ExposeSecret;

use super::{
    AccessToken, ClusterConnection, ClusterLocator, DiscoveredCluster, Provider, RefreshingToken,
    ScaleOutcome, Scope, StaticToken, TokenSource,
};
use crate::{
    error::ProviderError,
    kubeconfig::{self, KubeconfigSet, ResolvedContext},
};

mod exec;

pub use exec::{parse_exec_credential, ExecTokenSource};

const KIND: ProviderKind = ProviderKind::Kubeconfig;

/// How long an exec plugin may take. Plugins that need a browser or a
/// prompt cannot finish here anyway; the others answer in a few seconds.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(30);

/// Re-run a plugin this long before the credential it printed expires.
const EXEC_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// `tokenFile` is re-read this often: it exists so that something else can
/// rotate the token underneath us.
const TOKEN_FILE_TTL: Duration = Duration::from_secs(60);

/// What a discovered context's status says.
pub const STATUS_CONFIGURED: &str = "configured";
/// The context names a cluster that no file defines, or one without a server.
pub const STATUS_NO_SERVER: &str = "no-server";

/// The kubeconfig files of one user (or of `KUBECONFIG`), as one account.
pub struct KubeconfigProvider {
    account: String,
    files: Vec<PathBuf>,
    /// The scope ids: the files' paths as text, in precedence order.
    labels: Vec<String>,
    endpoint: String,
    exec_timeout: Duration,
}

impl KubeconfigProvider {
    /// Files in kubectl's precedence order (the first wins on duplicate
    /// names). A file that does not exist reads as empty, as in kubectl.
    pub fn new(account: impl Into<String>, files: Vec<PathBuf>) -> Self {
        let labels: Vec<String> = files
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        KubeconfigProvider {
            account: account.into(),
            endpoint: format!("kubeconfig:{}", labels.join(",")),
            files,
            labels,
            exec_timeout: EXEC_TIMEOUT,
        }
    }

    /// The files `KUBECONFIG` or `$HOME/.kube/config` name, read through
    /// `var`; `None` when neither names a file
    /// ([`kubeconfig::configured`]).
    pub fn from_vars(
        account: impl Into<String>,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Self> {
        if !kubeconfig::configured(var) {
            return None;
        }
        Some(Self::new(account, kubeconfig::files_from(var)))
    }

    pub fn with_exec_timeout(mut self, timeout: Duration) -> Self {
        self.exec_timeout = timeout;
        self
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Only our own files: a locator from the cache must not make us read an
    /// arbitrary path.
    fn file_index(&self, scope: &str) -> Result<usize, ProviderError> {
        self.labels
            .iter()
            .position(|l| l == scope)
            .ok_or_else(|| ProviderError::NotFound {
                provider: KIND,
                what: format!("kubeconfig file {scope} (not in KUBECONFIG any more)"),
            })
    }

    async fn load(&self) -> Result<KubeconfigSet, ProviderError> {
        let files = self.files.clone();
        tokio::task::spawn_blocking(move || KubeconfigSet::load(&files))
            .await
            .map_err(|e| ProviderError::Config {
                provider: KIND,
                detail: format!("reading the kubeconfig files failed: {e}"),
            })
    }

    fn cluster(&self, set: &KubeconfigSet, ctx: &ResolvedContext<'_>) -> DiscoveredCluster {
        let server = ctx.server().map(str::to_owned);
        DiscoveredCluster {
            provider: KIND,
            account: self.account.clone(),
            locator: ClusterLocator {
                native_id: ctx.name.clone(),
                scope: set
                    .files
                    .get(ctx.file)
                    .map(|f| f.path.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                // A kubeconfig does not say where the cluster runs.
                region: String::new(),
                name: ctx.name.clone(),
            },
            version: None,
            status: if server.is_some() {
                STATUS_CONFIGURED
            } else {
                STATUS_NO_SERVER
            }
            .into(),
            endpoint: server,
            node_pools: Vec::new(),
        }
    }
}

fn bad_file(path: &Path, detail: impl Into<String>) -> ProviderError {
    ProviderError::BadFile {
        provider: KIND,
        path: path.to_string_lossy().into_owned(),
        detail: detail.into(),
    }
}

fn file_error(set: &KubeconfigSet, index: usize) -> Option<ProviderError> {
    let file = set.files.get(index)?;
    file.config
        .as_ref()
        .err()
        .map(|e| bad_file(&file.path, e.clone()))
}

/// The context the locator names, or why not.
fn resolve<'a>(
    set: &'a KubeconfigSet,
    index: usize,
    cluster: &ClusterLocator,
) -> Result<ResolvedContext<'a>, ProviderError> {
    if let Some(e) = file_error(set, index) {
        return Err(e);
    }
    set.resolve(&cluster.native_id)
        .ok_or_else(|| ProviderError::NotFound {
            provider: KIND,
            what: format!("context {:?} in the kubeconfig files", cluster.native_id),
        })
}

#[async_trait]
impl Provider for KubeconfigProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn account(&self) -> &str {
        &self.account
    }

    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        Ok(self
            .labels
            .iter()
            .map(|l| Scope::new(l.clone(), l.clone()))
            .collect())
    }

    async fn discover(&self, scope: &Scope) -> Result<Vec<DiscoveredCluster>, ProviderError> {
        let index = self.file_index(&scope.id)?;
        let set = self.load().await?;
        let path = self.files.get(index).cloned().unwrap_or_default();
        let contexts = set.contexts_of(index).map_err(|e| bad_file(&path, e))?;
        Ok(contexts.iter().map(|c| self.cluster(&set, c)).collect())
    }

    async fn describe(&self, cluster: &ClusterLocator) -> Result<DiscoveredCluster, ProviderError> {
        let index = self.file_index(&cluster.scope)?;
        let set = self.load().await?;
        let ctx = resolve(&set, index, cluster)?;
        Ok(self.cluster(&set, &ctx))
    }

    async fn scale_node_pool(
        &self,
        cluster: &ClusterLocator,
        _pool: &str,
        _count: u32,
    ) -> Result<ScaleOutcome, ProviderError> {
        Err(ProviderError::Unsupported {
            provider: KIND,
            what: format!("scaling node pools of kubeconfig context {:?}", cluster.name),
            hint: "Node pools belong to the cloud account: add the cloud account (Settings → Accounts) to scale them.".into(),
        })
    }

    async fn connect(&self, cluster: &ClusterLocator) -> Result<ClusterConnection, ProviderError> {
        let index = self.file_index(&cluster.scope)?;
        let (files, locator, timeout) = (self.files.clone(), cluster.clone(), self.exec_timeout);
        // Off the async threads: this reads the kubeconfigs and the CA,
        // certificate and key files they name.
        tokio::task::spawn_blocking(move || {
            let set = KubeconfigSet::load(&files);
            let ctx = resolve(&set, index, &locator)?;
            let path = set
                .files
                .get(ctx.file)
                .map(|f| f.path.clone())
                .unwrap_or_default();
            plan(&ctx, &path, timeout)
        })
        .await
        .map_err(|e| ProviderError::Config {
            provider: KIND,
            detail: format!("reading the kubeconfig files failed: {e}"),
        })?
    }

    async fn daily_costs(
        &self,
        _req: &crate::cost::CostRequest,
    ) -> Result<crate::cost::CostReport, ProviderError> {
        Err(ProviderError::Unsupported {
            provider: KIND,
            what: "cost data for kubeconfig contexts".into(),
            hint: "No cost source: a kubeconfig has no billing API. Add the cluster's cloud account (Settings → Accounts) to see its cost.".into(),
        })
    }
}

/// Endpoint, CA, identity and token source of one resolved context.
fn plan(
    ctx: &ResolvedContext<'_>,
    path: &Path,
    exec_timeout: Duration,
) -> Result<ClusterConnection, ProviderError> {
    let name = &ctx.name;
    let (Some(cluster), Some(server)) = (ctx.cluster, ctx.server()) else {
        return Err(bad_file(
            path,
            format!(
                "context {name:?}: cluster {:?} is not defined or has no server",
                ctx.context.cluster
            ),
        ));
    };
    let https = check_server(server).map_err(|why| {
        bad_file(
            path,
            format!("context {name:?}: server {server:?} is not usable: {why}"),
        )
    })?;
    if https && cluster.insecure_skip_tls_verify == Some(true) {
        return Err(ProviderError::Unsupported {
            provider: KIND,
            what: format!("insecure-skip-tls-verify (context {name:?})"),
            hint: format!("TLS verification is always on: put the cluster's CA in {} (certificate-authority-data) instead.", path.display()),
        });
    }
    // Both change how the connection is made; ignoring them would turn a
    // clear "not supported" into a confusing timeout or TLS failure.
    let unsupported_field = [
        ("proxy-url", cluster.proxy_url.is_some()),
        ("tls-server-name", cluster.tls_server_name.is_some()),
    ]
    .into_iter()
    .find_map(|(field, set)| set.then_some(field));
    if let Some(field) = unsupported_field {
        return Err(ProviderError::Unsupported {
            provider: KIND,
            what: format!("the cluster's {field} (context {name:?})"),
            hint: format!(
                "Reach the API server directly (VPN, or a server name that matches its certificate), or remove {field} from {}.",
                path.display()
            ),
        });
    }
    let ca_pem = load_data(
        cluster.certificate_authority_data.as_deref(),
        cluster.certificate_authority.as_deref(),
    )
    .map_err(|e| {
        bad_file(
            path,
            format!("context {name:?}: certificate authority: {e}"),
        )
    })?;

    let user = match ctx.user {
        Some((user, None)) => {
            return Err(bad_file(
                path,
                format!("context {name:?}: user {user:?} is not defined"),
            ))
        }
        Some((_, Some(info))) => Some(info),
        None => None,
    };
    let identity_pem = match user {
        Some(u) => identity(u)
            .map_err(|e| bad_file(path, format!("context {name:?}: client certificate: {e}")))?,
        None => None,
    };
    let (source, margin): (Arc<dyn TokenSource>, Duration) = match user {
        Some(u) => token_source(u, cluster, name, path, exec_timeout, identity_pem.is_some())?,
        // No user: anonymous, as kubectl would be.
        None => (
            Arc::new(StaticToken(AccessToken::new("", None))),
            Duration::ZERO,
        ),
    };
    Ok(ClusterConnection {
        endpoint: server.to_owned(),
        ca_pem,
        tokens: Arc::new(RefreshingToken::new(source, margin)),
        identity_pem,
    })
}

/// True for https. Plain http is accepted for loopback only (the sandbox, a
/// local `kubectl proxy`): a token must not cross a network in the clear.
fn check_server(server: &str) -> Result<bool, String> {
    let url = url::Url::parse(server.trim()).map_err(|e| e.to_string())?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => return Err("no host".into()),
    };
    match url.scheme() {
        "https" => Ok(true),
        "http" if loopback => Ok(false),
        "http" => Err("plain http is only allowed to 127.0.0.1/localhost; use https".into()),
        other => Err(format!("unsupported scheme {other:?}")),
    }
}

/// kubeconfig's `*-data` (base64, wins) or file-path pair.
fn load_data(data: Option<&str>, file: Option<&str>) -> Result<Option<Vec<u8>>, String> {
    if let Some(data) = data.filter(|d| !d.trim().is_empty()) {
        let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        return B64
            .decode(compact.as_bytes())
            .map(Some)
            .map_err(|e| format!("the -data field is not base64: {e}"));
    }
    match file.filter(|f| !f.trim().is_empty()) {
        Some(f) => std::fs::read(f)
            .map(Some)
            .map_err(|e| format!("cannot read {f}: {e}")),
        None => Ok(None),
    }
}

/// The client certificate and key, as one PEM bundle, when the user has one.
fn identity(user: &AuthInfo) -> Result<Option<Vec<u8>>, String> {
    let cert = load_data(
        user.client_certificate_data.as_deref(),
        user.client_certificate.as_deref(),
    )?;
    let key = load_data(
        user.client_key_data.as_ref().map(|k| k.expose_secret()),
        user.client_key.as_deref(),
    )?;
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(_), None) => Err("client-certificate without client-key".into()),
        (None, Some(_)) => Err("client-key without client-certificate".into()),
        (Some(mut cert), Some(key)) => {
            if !cert.ends_with(b"\n") {
                cert.push(b'\n');
            }
            cert.extend_from_slice(&key);
            Ok(Some(cert))
        }
    }
}

/// The bearer token source, in kubectl's order: `token`, `tokenFile`,
/// exec plugin. A user with only a client certificate (or nothing) sends
/// no bearer token (the empty token, see [`crate::access`]).
fn token_source(
    user: &AuthInfo,
    cluster: &Cluster,
    context: &str,
    path: &Path,
    exec_timeout: Duration,
    has_identity: bool,
) -> Result<(Arc<dyn TokenSource>, Duration), ProviderError> {
    if let Some(token) = user
        .token
        .as_ref()
        .map(|t| t.expose_secret().trim().to_owned())
        .filter(|t| !t.is_empty())
    {
        return Ok((
            Arc::new(StaticToken(AccessToken::new(token, None))),
            Duration::ZERO,
        ));
    }
    if let Some(file) = user.token_file.as_deref().filter(|f| !f.trim().is_empty()) {
        return Ok((
            Arc::new(FileToken {
                path: PathBuf::from(file),
            }),
            Duration::ZERO,
        ));
    }
    if let Some(exec) = &user.exec {
        let source = ExecTokenSource::from_config(exec, Some(cluster), context, exec_timeout)?;
        return Ok((Arc::new(source), EXEC_REFRESH_MARGIN));
    }
    if let Some(provider) = &user.auth_provider {
        return Err(ProviderError::Unsupported {
            provider: KIND,
            what: format!("the {:?} auth-provider (context {context:?})", provider.name),
            hint: format!(
                "auth-provider plugins are deprecated in kubectl; switch {} to an exec plugin (gke-gcloud-auth-plugin for GKE, kubelogin for AKS, kubectl oidc-login for OIDC).",
                path.display()
            ),
        });
    }
    if user.username.is_some() || user.password.is_some() {
        return Err(ProviderError::Unsupported {
            provider: KIND,
            what: format!("basic auth (context {context:?})"),
            hint: "Kubernetes removed basic auth in 1.19: use a token, a client certificate or an exec plugin.".into(),
        });
    }
    if !has_identity {
        tracing::debug!(
            context,
            "kubeconfig user has no credentials; connecting anonymously"
        );
    }
    Ok((
        Arc::new(StaticToken(AccessToken::new("", None))),
        Duration::ZERO,
    ))
}

/// `tokenFile`: re-read every [`TOKEN_FILE_TTL`], because it exists so that
/// something else (a projected service-account token) can rotate it.
struct FileToken {
    path: PathBuf,
}

#[async_trait]
impl TokenSource for FileToken {
    async fn token(&self) -> Result<AccessToken, ProviderError> {
        let path = self.path.clone();
        let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(path))
            .await
            .map_err(|e| bad_file(&self.path, format!("cannot read the token file: {e}")))?
            .map_err(|e| bad_file(&self.path, format!("cannot read the token file: {e}")))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(bad_file(&self.path, "the token file is empty"));
        }
        Ok(AccessToken::new(
            token,
            Some(SystemTime::now() + TOKEN_FILE_TTL),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_must_be_https_unless_loopback() {
        assert_eq!(check_server("https://10.0.0.1"), Ok(true));
        assert_eq!(check_server("http://127.0.0.1:8080/k8s/x"), Ok(false));
        assert_eq!(check_server("http://localhost:8001"), Ok(false));
        assert_eq!(check_server("http://[::1]:8001"), Ok(false));
        assert!(check_server("http://10.0.0.1").is_err());
        assert!(check_server("ftp://10.0.0.1").is_err());
        assert!(check_server("not a url").is_err());
    }

    #[tokio::test]
    async fn node_pools_are_not_scaled_through_a_kubeconfig() {
        let p = KubeconfigProvider::new("env", vec![PathBuf::from("/nonexistent/config")]);
        let locator = ClusterLocator {
            native_id: "ctx".into(),
            scope: "/nonexistent/config".into(),
            region: String::new(),
            name: "ctx".into(),
        };
        let e = p.scale_node_pool(&locator, "pool", 3).await.unwrap_err();
        assert_eq!(e.kind(), "unsupported");
        assert!(e.hint().contains("add the cloud account"), "{}", e.hint());
        // A scope that is not one of ours is never read.
        let other = ClusterLocator {
            scope: "/etc/passwd".into(),
            ..locator
        };
        assert_eq!(p.connect(&other).await.unwrap_err().kind(), "not_found");
        // A missing file is an empty kubeconfig, as in kubectl.
        let scope = p.scopes().await.unwrap().remove(0);
        assert!(p.discover(&scope).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn unusable_contexts_are_typed_errors_with_a_fix() {
        let cases = [
            (
                "https://10.0.0.1",
                "    auth-provider:\n      name: gcp\n",
                "unsupported",
                "exec plugin",
            ),
            (
                "https://10.0.0.1",
                "    username: admin\n    password: pw\n",
                "unsupported",
                "basic auth",
            ),
            (
                "http://10.0.0.1",
                "    token: t\n",
                "bad_file",
                "plain http",
            ),
            (
                "https://10.0.0.1",
                "    client-certificate-data: Y2VydA==\n",
                "bad_file",
                "without client-key",
            ),
            (
                "https://10.0.0.1\n    insecure-skip-tls-verify: true",
                "    token: t\n",
                "unsupported",
                "insecure",
            ),
            (
                "https://10.0.0.1\n    proxy-url: http://proxy:3128",
                "    token: t\n",
                "unsupported",
                "proxy-url",
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        let mut doc = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
        for (i, (server, _, _, _)) in cases.iter().enumerate() {
            doc += &format!("- name: c{i}\n  cluster:\n    server: {server}\n");
        }
        doc += "contexts:\n";
        for i in 0..cases.len() {
            doc += &format!("- name: x{i}\n  context:\n    cluster: c{i}\n    user: u{i}\n");
        }
        doc += "- name: no-user-def\n  context:\n    cluster: c0\n    user: ghost\nusers:\n";
        for (i, (_, user, _, _)) in cases.iter().enumerate() {
            doc += &format!("- name: u{i}\n  user:\n{user}");
        }
        std::fs::write(&file, doc).unwrap();
        let p = KubeconfigProvider::new("env", vec![file]);
        let found = p.discover(&p.scopes().await.unwrap()[0]).await.unwrap();
        assert_eq!(found.len(), cases.len() + 1);
        for (c, (_, _, kind, says)) in found.iter().zip(cases) {
            let e = p.connect(&c.locator).await.unwrap_err();
            assert_eq!(e.kind(), kind, "{}: {e}", c.locator.name);
            let text = format!("{e} {}", e.hint());
            assert!(text.contains(says), "{}: {text}", c.locator.name);
        }
        let ghost = p.connect(&found[cases.len()].locator).await.unwrap_err();
        assert!(
            ghost.to_string().contains("user \"ghost\" is not defined"),
            "{ghost}"
        );
    }
}
