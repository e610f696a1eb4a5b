//! google-cloud-container-v1 errors mapped to [`ProviderError`], so that the
//! resilience layer retries what is transient and the UI says what to do.

use std::{error::Error as _, time::Duration};

use cloudops_core::model::Provider as ProviderKind;
use google_cloud_auth::errors::CredentialsError;
use google_cloud_container_v1::Error;

use super::auth::credentials_error;
use crate::{error::ProviderError, rest};

const KIND: ProviderKind = ProviderKind::Gcp;

/// Where a call went, for the error message.
pub(crate) struct CallSite<'a> {
    /// What the call was about: `clusters of project p`, `node pool x of
    /// projects/p/locations/l/clusters/c`.
    pub what: &'a str,
    /// The endpoint (also the breaker's key).
    pub endpoint: &'a str,
    /// Our per-attempt timeout, reported when the SDK itself timed out.
    pub timeout: Duration,
}

pub(crate) fn map(err: &Error, site: &CallSite<'_>) -> ProviderError {
    if let Some(status) = err.http_status_code() {
        return from_status(err, status, site);
    }
    if err.is_authentication() {
        if let Some(cred) = source_of::<CredentialsError>(err) {
            return credentials_error(cred, site.endpoint);
        }
        return ProviderError::Unauthorized {
            provider: KIND,
            status: 401,
            message: format!("{}: {}", site.what, chain(err)),
        };
    }
    if err.is_timeout() {
        return ProviderError::Timeout {
            provider: KIND,
            endpoint: site.endpoint.to_owned(),
            after: site.timeout,
        };
    }
    if err.is_deserialization() {
        return ProviderError::Decode {
            provider: KIND,
            what: site.what.to_owned(),
            detail: chain(err),
        };
    }
    if err.is_binding() || err.is_serialization() {
        // The SDK checks resource names against the API's path templates
        // before sending: a project id or cluster id with a `/` in it, say.
        return ProviderError::Config {
            provider: KIND,
            detail: format!("cannot build the request for {}: {}", site.what, chain(err)),
        };
    }
    // Connection refused, DNS, TLS, a reset mid-reply: the endpoint is not
    // answering, which is worth another attempt.
    ProviderError::Unreachable {
        provider: KIND,
        endpoint: site.endpoint.to_owned(),
        detail: chain(err),
    }
}

fn from_status(err: &Error, status: u16, site: &CallSite<'_>) -> ProviderError {
    let retry_after = err.http_headers().and_then(rest::retry_after);
    // The Google error body's message when there is one; a proxy's raw
    // payload otherwise. Never more than 300 characters of either.
    let message: String = match (err.status(), err.http_payload()) {
        (Some(s), _) if !s.message.is_empty() => s.message.clone(),
        (_, Some(p)) if !p.is_empty() => String::from_utf8_lossy(p).into_owned(),
        _ => err.to_string(),
    }
    .chars()
    .take(300)
    .collect();
    let message = format!("{}: {message}", site.what);
    match status {
        401 | 403 => ProviderError::Unauthorized {
            provider: KIND,
            status,
            message,
        },
        404 => ProviderError::NotFound {
            provider: KIND,
            what: site.what.to_owned(),
        },
        429 => ProviderError::Throttled {
            provider: KIND,
            message,
            retry_after,
        },
        s if s >= 500 => ProviderError::Server {
            provider: KIND,
            status: s,
            message,
            retry_after,
        },
        s => ProviderError::Rejected {
            provider: KIND,
            status: s,
            message,
        },
    }
}

fn source_of<T: std::error::Error + 'static>(err: &Error) -> Option<&T> {
    let mut source = err.source();
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<T>() {
            return Some(t);
        }
        source = s.source();
    }
    None
}

/// The error and its causes on one line: the top level alone is often just
/// "cannot connect to endpoint".
fn chain(err: &Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        // gax's Display already embeds the first cause; skip repeats.
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use google_cloud_gax::error::rpc::{Code, Status};
    use http::{header::RETRY_AFTER, HeaderMap, HeaderValue};

    use super::*;

    fn site() -> CallSite<'static> {
        CallSite {
            what: "clusters of project p",
            endpoint: "https://container.googleapis.com",
            timeout: Duration::from_secs(20),
        }
    }

    #[test]
    fn service_errors_map_by_http_status_with_the_google_message() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("9"));
        let status = Status::default()
            .set_code(Code::ResourceExhausted)
            .set_message("Quota exceeded");
        let e = Error::service_with_http_metadata(status, Some(429), Some(headers));
        let mapped = map(&e, &site());
        assert_eq!(mapped.kind(), "throttled");
        assert_eq!(mapped.retry_after(), Some(Duration::from_secs(9)));
        assert!(mapped.to_string().contains("Quota exceeded"));

        for (code, kind) in [
            (401, "unauthorized"),
            (403, "unauthorized"),
            (404, "not_found"),
            (400, "rejected"),
            (503, "server_error"),
        ] {
            let e = Error::service_with_http_metadata(Status::default(), Some(code), None);
            assert_eq!(map(&e, &site()).kind(), kind, "{code}");
        }
    }

    #[test]
    fn client_side_failures_map_to_their_kinds() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(map(&Error::io(io), &site()).kind(), "unreachable");
        let io = std::io::Error::other("slow");
        assert_eq!(map(&Error::timeout(io), &site()).kind(), "timeout");
        let bad = serde_json::from_str::<u32>("\"x\"").unwrap_err();
        assert_eq!(map(&Error::deser(bad), &site()).kind(), "bad_reply");
        let cred = CredentialsError::from_msg(false, "revoked");
        assert_eq!(
            map(&Error::authentication(cred), &site()).kind(),
            "unauthorized"
        );
        let cred = CredentialsError::from_msg(true, "metadata server busy");
        assert_eq!(
            map(&Error::authentication(cred), &site()).kind(),
            "unreachable"
        );
    }
}
