//! JSON over HTTPS for the providers without a maintained SDK (AKS's ARM
//! calls and DigitalOcean, BRIEF §4): one shared reqwest client, bearer
//! auth from a [`RefreshingToken`], every call through
//! [`resilience::call`], and replies mapped to [`ProviderError`] with the
//! provider's own error message.

use std::{sync::Arc, time::Duration};

use cloudops_core::model::Provider as ProviderKind;
use reqwest::{header, Method, StatusCode, Url};
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    error::ProviderError,
    providers::RefreshingToken,
    resilience::{self, Breakers, CallPolicy},
};

/// Parses an endpoint override (`CLOUDOPS_*_ENDPOINT`) or a default base URL.
/// Plain `http` is accepted only for loopback (the sandbox and the tests):
/// nothing else may travel unencrypted.
pub fn parse_endpoint(provider: ProviderKind, var: &str, raw: &str) -> Result<Url, ProviderError> {
    let bad = |why: &str| ProviderError::Config {
        provider,
        detail: format!("{var}={raw:?} is not a usable endpoint: {why}"),
    };
    let url = Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(bad(
                "plain http is only allowed to 127.0.0.1/localhost; use https",
            ))
        }
        other => return Err(bad(&format!("unsupported scheme {other:?}"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// Appends `path` to `base`'s path (keeping any prefix such as the
/// sandbox's `/do`).
pub fn join(base: &Url, path: &str) -> String {
    let b = base.as_str().trim_end_matches('/');
    format!("{b}/{}", path.trim_start_matches('/'))
}

/// The shared HTTP client: TLS verification on (rustls + the platform
/// verifier), bounded connect time, no proxy surprises.
pub fn http_client() -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("cloudops-console/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ProviderError::Config {
            provider: ProviderKind::Kubeconfig,
            detail: format!("cannot build the HTTP client: {e}"),
        })
}

#[derive(Clone)]
pub struct RestClient {
    pub provider: ProviderKind,
    pub http: reqwest::Client,
    pub base: Url,
    pub tokens: Arc<RefreshingToken>,
    pub policy: CallPolicy,
    pub breakers: Arc<Breakers>,
}

/// A successful reply: the decoded body and the headers (ARM's
/// `Azure-AsyncOperation`, `Location`).
pub struct Reply<T> {
    pub body: T,
    pub headers: header::HeaderMap,
    pub status: StatusCode,
}

impl RestClient {
    pub fn url(&self, path: &str) -> String {
        join(&self.base, path)
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        url: &str,
        what: &str,
    ) -> Result<T, ProviderError> {
        Ok(self.send::<(), T>(Method::GET, url, None, what).await?.body)
    }

    /// One logical call: retried, timed out and breaker-guarded.
    pub async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
        what: &str,
    ) -> Result<Reply<T>, ProviderError> {
        let endpoint = self.base.as_str();
        resilience::call(
            &self.policy,
            &self.breakers,
            self.provider,
            endpoint,
            || self.attempt(method.clone(), url, body, what),
        )
        .await
    }

    async fn attempt<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
        what: &str,
    ) -> Result<Reply<T>, ProviderError> {
        let token = self.tokens.token().await?;
        let mut req = self
            .http
            .request(method, url)
            .bearer_auth(token.secret())
            .header(header::ACCEPT, "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| self.transport_error(e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| self.transport_error(e))?;
        if !status.is_success() {
            return Err(self.status_error(status, &headers, &bytes, what));
        }
        // Some writes answer 202/204 with no body; `()`-like targets accept
        // `null`.
        let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        let body = serde_json::from_slice(text).map_err(|e| ProviderError::Decode {
            provider: self.provider,
            what: what.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(Reply {
            body,
            headers,
            status,
        })
    }

    fn transport_error(&self, e: reqwest::Error) -> ProviderError {
        let endpoint = self.base.to_string();
        if e.is_timeout() {
            ProviderError::Timeout {
                provider: self.provider,
                endpoint,
                after: self.policy.timeout,
            }
        } else {
            // The source chain says why (refused, DNS, TLS); the top level
            // alone is just "error sending request".
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                detail.push_str(": ");
                detail.push_str(&s.to_string());
                source = s.source();
            }
            ProviderError::Unreachable {
                provider: self.provider,
                endpoint,
                detail,
            }
        }
    }

    fn status_error(
        &self,
        status: StatusCode,
        headers: &header::HeaderMap,
        body: &[u8],
        what: &str,
    ) -> ProviderError {
        status_error(self.provider, status, headers, body, what)
    }
}

/// Maps a non-success reply to the error kinds the engine acts on.
pub fn status_error(
    provider: ProviderKind,
    status: StatusCode,
    headers: &header::HeaderMap,
    body: &[u8],
    what: &str,
) -> ProviderError {
    let message = error_message(body)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("no message").to_owned());
    let retry_after = retry_after(headers);
    match status.as_u16() {
        401 | 403 => ProviderError::Unauthorized {
            provider,
            status: status.as_u16(),
            message,
        },
        404 => ProviderError::NotFound {
            provider,
            what: what.to_owned(),
        },
        429 => ProviderError::Throttled {
            provider,
            message,
            retry_after,
        },
        s if s >= 500 => ProviderError::Server {
            provider,
            status: s,
            message,
            retry_after,
        },
        s => ProviderError::Rejected {
            provider,
            status: s,
            message,
        },
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare on these APIs and is
/// treated as absent).
pub fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The human message from any of the error shapes we meet: ARM and Google
/// `{"error":{"message"}}`, DigitalOcean `{"id","message"}`, EKS
/// `{"message"}`. Never more than 300 characters of it.
fn error_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let m = v
        .pointer("/error/message")
        .or_else(|| v.get("message"))
        .or_else(|| v.get("Message"))?
        .as_str()?;
    Some(m.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_unless_loopback() {
        let p = ProviderKind::DigitalOcean;
        assert!(parse_endpoint(p, "X", "https://api.digitalocean.com").is_ok());
        assert!(parse_endpoint(p, "X", "http://127.0.0.1:8080/do").is_ok());
        assert!(parse_endpoint(p, "X", "http://localhost:1").is_ok());
        let err = parse_endpoint(p, "CLOUDOPS_DO_ENDPOINT", "http://example.com").unwrap_err();
        assert_eq!(err.kind(), "config");
        assert!(err.to_string().contains("CLOUDOPS_DO_ENDPOINT"));
        assert!(parse_endpoint(p, "X", "not a url").is_err());
        assert!(parse_endpoint(p, "X", "ftp://127.0.0.1").is_err());
    }

    #[test]
    fn join_keeps_the_base_path() {
        let base = Url::parse("http://127.0.0.1:9/do/").unwrap();
        assert_eq!(
            join(&base, "/v2/kubernetes/clusters"),
            "http://127.0.0.1:9/do/v2/kubernetes/clusters"
        );
    }

    #[test]
    fn statuses_map_to_kinds_with_the_provider_message() {
        let mut h = header::HeaderMap::new();
        h.insert(header::RETRY_AFTER, "7".parse().unwrap());
        let p = ProviderKind::Azure;
        let arm = br#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#;
        let e = status_error(p, StatusCode::TOO_MANY_REQUESTS, &h, arm, "clusters");
        assert_eq!(e.kind(), "throttled");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(e.to_string().contains("slow down"));

        let doe = br#"{"id":"unauthorized","message":"Unable to authenticate you"}"#;
        let e = status_error(
            p,
            StatusCode::UNAUTHORIZED,
            &header::HeaderMap::new(),
            doe,
            "x",
        );
        assert_eq!(e.kind(), "unauthorized");
        assert!(e.to_string().contains("Unable to authenticate you"));

        let e = status_error(
            p,
            StatusCode::BAD_GATEWAY,
            &header::HeaderMap::new(),
            b"<html>",
            "x",
        );
        assert_eq!(e.kind(), "server_error");
        assert!(e.is_transient());
        let e = status_error(
            p,
            StatusCode::BAD_REQUEST,
            &header::HeaderMap::new(),
            b"",
            "x",
        );
        assert_eq!(e.kind(), "rejected");
        assert!(!e.is_transient());
    }
}
