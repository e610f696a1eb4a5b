//! Why a collector failed, with a kind for the JSON and a hint for people.
//! Kubernetes API failures are mapped onto [`ProviderError`] so that they go
//! through the same retries and circuit breakers as the provider calls
//! (`resilience::call`): a 429 or a 5xx from an API server is retried, a
//! 401 is not.

use cloudops_core::model::Provider as ProviderKind;

use super::prometheus::PromError;
use crate::{access::AccessError, ProviderError};

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The provider could not hand out a connection (endpoint, CA, token).
    #[error("cannot connect to the cluster: {0}")]
    Connect(#[source] ProviderError),
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A call to the cluster (or through it) failed after its retries.
    #[error("{what}: {source}")]
    Call {
        what: String,
        #[source]
        source: ProviderError,
    },
    /// The whole collector ran past its deadline.
    #[error("{what} did not finish within {after_secs} s")]
    Deadline { what: String, after_secs: u64 },
    /// A Prometheus query failed.
    #[error(transparent)]
    Prometheus(#[from] PromError),
    /// The cluster is known but has no API endpoint to collect from.
    #[error("the cluster has no Kubernetes API endpoint")]
    NoEndpoint,
    /// The API server's certificate could not be read.
    #[error(transparent)]
    Certificate(#[from] super::endpoint::ProbeError),
}

impl CollectError {
    pub fn kind(&self) -> &'static str {
        match self {
            CollectError::Connect(e) => e.kind(),
            CollectError::Access(_) => "cluster_access",
            CollectError::Call { source, .. } => source.kind(),
            CollectError::Deadline { .. } => "timeout",
            CollectError::Prometheus(e) => e.kind(),
            CollectError::NoEndpoint => "no_endpoint",
            CollectError::Certificate(e) => e.kind(),
        }
    }

    pub fn hint(&self) -> String {
        match self {
            CollectError::Connect(e) | CollectError::Call { source: e, .. } => e.hint(),
            CollectError::Access(_) => "Check the cluster's endpoint and CA in its kubeconfig or \
                 account; the cluster keeps its last collected data meanwhile."
                .into(),
            CollectError::Deadline { .. } => "The cluster answered too slowly; the next refresh \
                 retries, and its last data is kept meanwhile."
                .into(),
            CollectError::Prometheus(e) => e.hint(),
            CollectError::NoEndpoint => "The cloud reports no API endpoint yet (a cluster being \
                 created?); the next refresh tries again."
                .into(),
            CollectError::Certificate(e) => e.hint(),
        }
    }
}

/// A `kube::Error` as the provider-neutral error the resilience layer
/// understands: API status codes keep their meaning (401/403, 404, 429,
/// 5xx), transport failures are "unreachable" (transient).
pub(crate) fn from_kube(
    provider: ProviderKind,
    endpoint: &str,
    what: &str,
    e: kube::Error,
) -> ProviderError {
    match e {
        kube::Error::Api(status) => {
            let message = status.message.clone();
            match status.code {
                401 | 403 => ProviderError::Unauthorized {
                    provider,
                    status: status.code,
                    message,
                },
                404 => ProviderError::NotFound {
                    provider,
                    what: what.to_owned(),
                },
                429 => ProviderError::Throttled {
                    provider,
                    message,
                    retry_after: None,
                },
                code @ 500..=599 => ProviderError::Server {
                    provider,
                    status: code,
                    message,
                    retry_after: None,
                },
                code => ProviderError::Rejected {
                    provider,
                    status: code,
                    message,
                },
            }
        }
        kube::Error::SerdeError(e) => ProviderError::Decode {
            provider,
            what: what.to_owned(),
            detail: e.to_string(),
        },
        other => ProviderError::Unreachable {
            provider,
            endpoint: endpoint.to_owned(),
            detail: other.to_string(),
        },
    }
}
