//! The one error type every provider call returns. Each variant names the
//! provider (and, through the discovery engine, the account and scope), so the
//! UI and the CLI can say what failed and where, and each has a hint that says
//! what to try (BRIEF §11 errors).

use std::time::Duration;

use cloudops_core::model::Provider as ProviderKind;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// 401/403: the credential is missing, expired, revoked or lacks a role.
    #[error("{provider}: the credentials were refused (HTTP {status}): {message}")]
    Unauthorized {
        provider: ProviderKind,
        status: u16,
        message: String,
    },
    #[error("{provider}: {what} was not found")]
    NotFound {
        provider: ProviderKind,
        what: String,
    },
    /// 429, or a provider's own throttling error code.
    #[error("{provider}: throttled by the API (HTTP 429): {message}")]
    Throttled {
        provider: ProviderKind,
        message: String,
        retry_after: Option<Duration>,
    },
    /// 5xx.
    #[error("{provider}: the API failed (HTTP {status}): {message}")]
    Server {
        provider: ProviderKind,
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Any other non-success reply (400, 404 on a collection, 409…).
    #[error("{provider}: the API refused the request (HTTP {status}): {message}")]
    Rejected {
        provider: ProviderKind,
        status: u16,
        message: String,
    },
    #[error("{provider}: no reply from {endpoint} within {after:?}")]
    Timeout {
        provider: ProviderKind,
        endpoint: String,
        after: Duration,
    },
    #[error("{provider}: cannot reach {endpoint}: {detail}")]
    Unreachable {
        provider: ProviderKind,
        endpoint: String,
        detail: String,
    },
    /// The reply was not the shape the provider documents (missing fields,
    /// wrong types, not JSON).
    #[error("{provider}: unexpected reply from {what}: {detail}")]
    Decode {
        provider: ProviderKind,
        what: String,
        detail: String,
    },
    /// Bad local configuration: an invalid endpoint override, no credentials.
    #[error("{provider}: {detail}")]
    Config {
        provider: ProviderKind,
        detail: String,
    },
    /// The circuit breaker for this endpoint is open: calls are refused
    /// without reaching the network until it half-opens.
    #[error("{provider}: {endpoint} is failing; calls paused for {retry_in:?} (circuit open)")]
    CircuitOpen {
        provider: ProviderKind,
        endpoint: String,
        retry_in: Duration,
    },
    /// A local file the provider reads (a kubeconfig) cannot be read or
    /// does not parse. Only that file's scope fails.
    #[error("{provider}: {path}: {detail}")]
    BadFile {
        provider: ProviderKind,
        path: String,
        detail: String,
    },
    /// Something this provider cannot do for this cluster: scale a node
    /// pool of a kubeconfig cluster, an auth method we do not implement.
    /// `hint` says what to do instead.
    #[error("{provider}: {what} is not supported")]
    Unsupported {
        provider: ProviderKind,
        what: String,
        hint: String,
    },
    /// A credential helper named by the configuration (a kubeconfig exec
    /// plugin) is missing, failed, timed out or printed something unusable.
    /// The detail never contains the plugin's output, which may hold a token.
    #[error("{provider}: credential plugin {command:?}: {detail}")]
    CredentialPlugin {
        provider: ProviderKind,
        command: String,
        detail: String,
        hint: String,
    },
}

impl ProviderError {
    pub fn provider(&self) -> ProviderKind {
        match self {
            ProviderError::Unauthorized { provider, .. }
            | ProviderError::NotFound { provider, .. }
            | ProviderError::Throttled { provider, .. }
            | ProviderError::Server { provider, .. }
            | ProviderError::Rejected { provider, .. }
            | ProviderError::Timeout { provider, .. }
            | ProviderError::Unreachable { provider, .. }
            | ProviderError::Decode { provider, .. }
            | ProviderError::Config { provider, .. }
            | ProviderError::CircuitOpen { provider, .. }
            | ProviderError::BadFile { provider, .. }
            | ProviderError::Unsupported { provider, .. }
            | ProviderError::CredentialPlugin { provider, .. } => *provider,
        }
    }

    /// A stable machine-readable kind, for `--json` and the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderError::Unauthorized { .. } => "unauthorized",
            ProviderError::NotFound { .. } => "not_found",
            ProviderError::Throttled { .. } => "throttled",
            ProviderError::Server { .. } => "server_error",
            ProviderError::Rejected { .. } => "rejected",
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::Unreachable { .. } => "unreachable",
            ProviderError::Decode { .. } => "bad_reply",
            ProviderError::Config { .. } => "config",
            ProviderError::CircuitOpen { .. } => "circuit_open",
            ProviderError::BadFile { .. } => "bad_file",
            ProviderError::Unsupported { .. } => "unsupported",
            ProviderError::CredentialPlugin { .. } => "credential_plugin",
        }
    }

    /// Worth another attempt: throttling, server errors, timeouts and
    /// connection failures. Never auth, decode or config errors.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProviderError::Throttled { .. }
                | ProviderError::Server { .. }
                | ProviderError::Timeout { .. }
                | ProviderError::Unreachable { .. }
        )
    }

    /// The server's own `Retry-After`, which overrides our backoff.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Throttled { retry_after, .. }
            | ProviderError::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        let login = match self.provider() {
            ProviderKind::Aws => "run `aws sso login` (or check AWS_PROFILE / the keys in Settings → Accounts)",
            ProviderKind::Gcp => "run `gcloud auth application-default login` (or check the service account in Settings → Accounts)",
            ProviderKind::Azure => "run `az login` (or check the service principal in Settings → Accounts)",
            ProviderKind::DigitalOcean => "check the DigitalOcean token (DIGITALOCEAN_ACCESS_TOKEN, doctl, or Settings → Accounts)",
            ProviderKind::Kubeconfig => "check the kubeconfig user and its exec plugin",
        };
        match self {
            ProviderError::Unauthorized { .. } => format!("Sign in again: {login}."),
            ProviderError::NotFound { .. } => "It may have been deleted; refresh discovery.".into(),
            ProviderError::Throttled { .. } => {
                "The API is rate limiting us; the next refresh retries automatically.".into()
            }
            ProviderError::Server { .. } => {
                "The provider's API is failing; check its status page. Cached data stays available.".into()
            }
            ProviderError::Rejected { .. } => {
                "The request was refused; check the account's permissions and settings.".into()
            }
            ProviderError::Timeout { .. } | ProviderError::Unreachable { .. } => {
                "Check the network, a proxy or VPN, and any endpoint override (CLOUDOPS_*_ENDPOINT, AWS_ENDPOINT_URL).".into()
            }
            ProviderError::Decode { .. } => {
                "The API answered in a shape we do not understand; check any endpoint override, and report it with the diagnostics.".into()
            }
            ProviderError::Config { .. } => {
                "Fix the account in Settings → Accounts or the environment variable named above.".into()
            }
            ProviderError::CircuitOpen { .. } => {
                "Too many failures in a row; calls resume automatically after the pause.".into()
            }
            ProviderError::BadFile { path, .. } => format!(
                "Fix or remove {path} (`kubectl config view --kubeconfig {path}` shows what is wrong), or take it out of KUBECONFIG; the other files are still read."
            ),
            ProviderError::Unsupported { hint, .. }
            | ProviderError::CredentialPlugin { hint, .. } => hint.clone(),
        }
    }
}
