//! `aws-sdk-eks` errors mapped to [`ProviderError`], so that the resilience
//! layer retries what is transient and the UI says what to do. Each error
//! names the operation and the region: "ListClusters in eu-west-1".

use std::time::Duration;

use aws_sdk_eks::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use cloudops_core::model::Provider as ProviderKind;

use crate::error::ProviderError;

const KIND: ProviderKind = ProviderKind::Aws;

/// Where a call went, for the error message.
pub(crate) struct CallSite<'a> {
    /// `ListClusters`, `DescribeNodegroup`, …
    pub op: &'static str,
    pub region: &'a str,
    /// What the call was about: `cluster prod-1`, `node group ng-1 of cluster prod-1`.
    pub what: String,
    /// The regional endpoint (also the breaker's key).
    pub endpoint: &'a str,
    /// Our per-attempt timeout, reported when the SDK itself timed out.
    pub timeout: Duration,
}

impl CallSite<'_> {
    fn label(&self) -> String {
        if self.what.is_empty() {
            format!("{} in {}", self.op, self.region)
        } else {
            format!("{} for {} in {}", self.op, self.what, self.region)
        }
    }
}

/// The error codes EKS (and the SigV4 front door in front of every AWS
/// service) uses for "who are you?" and "you may not".
const AUTH_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationTokenException",
    "ExpiredToken",
    "ExpiredTokenException",
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnauthorizedException",
];

const THROTTLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    // Cost Explorer's "too many requests".
    "LimitExceededException",
];

pub(crate) fn map<E>(err: SdkError<E, HttpResponse>, site: &CallSite<'_>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let label = site.label();
    match &err {
        SdkError::ServiceError(service) => {
            let raw = service.raw();
            let status = raw.status().as_u16();
            let retry_after = raw
                .headers()
                .get("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let code = err.code().unwrap_or("");
            let text = err.message().unwrap_or("no message");
            let message = if code.is_empty() {
                format!("{label}: {text}")
            } else {
                format!("{label}: {code}: {text}")
            };
            let message: String = message.chars().take(400).collect();
            if (200..300).contains(&status) {
                // A success status whose body did not parse: the SDK reports
                // it as an unmodelled service error, but it is a bad reply.
                ProviderError::Decode {
                    provider: KIND,
                    what: label.clone(),
                    detail: DisplayErrorContext(&err).to_string(),
                }
            } else if AUTH_CODES.contains(&code) || status == 401 || status == 403 {
                ProviderError::Unauthorized {
                    provider: KIND,
                    status: if status == 401 || status == 403 {
                        status
                    } else {
                        403
                    },
                    message,
                }
            } else if code == "ResourceNotFoundException" || status == 404 {
                ProviderError::NotFound {
                    provider: KIND,
                    what: format!("{} in {}", site.what, site.region),
                }
            } else if THROTTLE_CODES.contains(&code) || status == 429 {
                ProviderError::Throttled {
                    provider: KIND,
                    message,
                    retry_after,
                }
            } else if status >= 500 {
                ProviderError::Server {
                    provider: KIND,
                    status,
                    message,
                    retry_after,
                }
            } else {
                ProviderError::Rejected {
                    provider: KIND,
                    status,
                    message,
                }
            }
        }
        SdkError::TimeoutError(_) => ProviderError::Timeout {
            provider: KIND,
            endpoint: site.endpoint.to_owned(),
            after: site.timeout,
        },
        SdkError::DispatchFailure(d) if d.is_timeout() => ProviderError::Timeout {
            provider: KIND,
            endpoint: site.endpoint.to_owned(),
            after: site.timeout,
        },
        // The SDK could not build or sign the request: no credentials, no
        // region, a malformed endpoint. Nothing a retry fixes.
        SdkError::ConstructionFailure(_) => ProviderError::Config {
            provider: KIND,
            detail: format!(
                "{label}: cannot make the request: {}",
                DisplayErrorContext(&err)
            ),
        },
        SdkError::DispatchFailure(d) if d.is_user() => ProviderError::Config {
            provider: KIND,
            detail: format!("{label}: {}", DisplayErrorContext(&err)),
        },
        SdkError::DispatchFailure(_) => ProviderError::Unreachable {
            provider: KIND,
            endpoint: site.endpoint.to_owned(),
            detail: format!("{label}: {}", DisplayErrorContext(&err)),
        },
        SdkError::ResponseError(_) => ProviderError::Decode {
            provider: KIND,
            what: label.clone(),
            detail: DisplayErrorContext(&err).to_string(),
        },
        // `SdkError` is non-exhaustive; a new kind is most likely transport.
        _ => ProviderError::Unreachable {
            provider: KIND,
            endpoint: site.endpoint.to_owned(),
            detail: format!("{label}: {}", DisplayErrorContext(&err)),
        },
    }
}

/// The error and its whole source chain on one line: the top level alone is
/// often just "the credential provider was not enabled".
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
