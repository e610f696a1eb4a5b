//! GCP credentials for both halves of the GKE provider: the Container API
//! calls (through the SDK's `Credentials`) and the clusters' Kubernetes APIs
//! (through our [`TokenSource`]). Both read the same
//! [`AccessTokenCredentials`], so one login serves both and google-cloud-auth's
//! cache refreshes the token for both.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use cloudops_core::model::Provider as ProviderKind;
use google_cloud_auth::{
    credentials::{
        self, service_account, AccessToken as GoogleToken, AccessTokenCredentials,
        AccessTokenCredentialsProvider, CacheableResource, CredentialsProvider, EntityTag,
    },
    errors::CredentialsError,
};
use http::{header::AUTHORIZATION, Extensions, HeaderMap, HeaderValue};

use crate::{
    error::ProviderError,
    providers::{AccessToken, TokenSource},
};

const KIND: ProviderKind = ProviderKind::Gcp;

/// The scopes GKE's Kubernetes API expects on an OAuth access token (the
/// same pair `gcloud` and gke-gcloud-auth-plugin request). `cloud-platform`
/// also covers the Container API.
pub const SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
];

/// google-cloud-auth does not tell us when its token expires. Its cache
/// refreshes 4 minutes before expiry, so a token it hands out has at least
/// that long left; we claim 3 minutes, and [`crate::providers::RefreshingToken`]
/// asks again (a memory read while the cached token is good) once less than
/// its margin of that is left.
pub const CACHED_TOKEN_LIFETIME: Duration = Duration::from_secs(180);
/// The refresh margin for cluster connections.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Where an account's Google credentials come from. `Debug` never prints a
/// secret.
#[derive(Clone)]
pub enum GcpCredentials {
    /// A bearer token used as is: `CLOUDOPS_GCP_ACCESS_TOKEN`,
    /// `gcloud auth print-access-token`, the sandbox. It is never refreshed.
    StaticToken(String),
    /// Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
    /// `gcloud auth application-default login`, the metadata server), with
    /// [`SCOPES`].
    ApplicationDefault,
    /// A service-account key (the JSON file's contents, from the keyring),
    /// with [`SCOPES`].
    ServiceAccountKey(String),
}

impl fmt::Debug for GcpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GcpCredentials::StaticToken(_) => f.write_str("StaticToken(<redacted>)"),
            GcpCredentials::ApplicationDefault => f.write_str("ApplicationDefault"),
            GcpCredentials::ServiceAccountKey(_) => f.write_str("ServiceAccountKey(<redacted>)"),
        }
    }
}

/// Credentials ready for use, plus what our token source should claim about
/// their lifetime.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub credentials: AccessTokenCredentials,
    /// `None`: the token never changes (a static token), so there is nothing
    /// to refresh.
    pub lifetime: Option<Duration>,
}

impl GcpCredentials {
    /// Builds the credentials. No network: ADC and service-account keys
    /// fetch their first token on first use.
    pub(crate) fn resolve(&self) -> Result<Resolved, ProviderError> {
        let config = |detail: String| ProviderError::Config {
            provider: KIND,
            detail,
        };
        match self {
            GcpCredentials::StaticToken(token) => {
                let token = token.trim();
                if token.is_empty() {
                    return Err(config(
                        "the GCP access token is empty; set CLOUDOPS_GCP_ACCESS_TOKEN or use ADC"
                            .into(),
                    ));
                }
                // Checked here so that a bad value is a clear Config error now
                // rather than an opaque credentials error on every call.
                if HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
                    return Err(config(
                        "the GCP access token has characters that cannot go in an HTTP header"
                            .into(),
                    ));
                }
                Ok(Resolved {
                    credentials: AccessTokenCredentials::from(StaticBearer::new(token)),
                    lifetime: None,
                })
            }
            GcpCredentials::ApplicationDefault => {
                let credentials = credentials::Builder::default()
                    .with_scopes(SCOPES)
                    .build_access_token_credentials()
                    .map_err(|e| {
                        config(format!(
                            "cannot load Application Default Credentials: {e}; run \
                             `gcloud auth application-default login` or set CLOUDOPS_GCP_ACCESS_TOKEN"
                        ))
                    })?;
                Ok(Resolved {
                    credentials,
                    lifetime: Some(CACHED_TOKEN_LIFETIME),
                })
            }
            GcpCredentials::ServiceAccountKey(json) => {
                // The parse error names the position, never the content: the
                // key is a secret.
                let key: serde_json::Value = serde_json::from_str(json).map_err(|e| {
                    config(format!(
                        "the service-account key is not JSON (line {}, column {})",
                        e.line(),
                        e.column()
                    ))
                })?;
                let credentials = service_account::Builder::new(key)
                    .with_access_specifier(service_account::AccessSpecifier::from_scopes(SCOPES))
                    .build_access_token_credentials()
                    .map_err(|e| config(format!("the service-account key is not usable: {e}")))?;
                Ok(Resolved {
                    credentials,
                    lifetime: Some(CACHED_TOKEN_LIFETIME),
                })
            }
        }
    }
}

/// A fixed bearer token in google-cloud-auth's shape, so that the SDK client
/// and the cluster token source share one code path.
pub(crate) struct StaticBearer {
    token: String,
    /// One tag for the token's whole life: the headers never change.
    tag: EntityTag,
}

impl StaticBearer {
    fn new(token: &str) -> Self {
        StaticBearer {
            token: token.to_owned(),
            tag: EntityTag::new(),
        }
    }
}

impl fmt::Debug for StaticBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticBearer")
            .field("token", &"<redacted>")
            .finish()
    }
}

impl CredentialsProvider for StaticBearer {
    async fn headers(
        &self,
        extensions: Extensions,
    ) -> Result<CacheableResource<HeaderMap>, CredentialsError> {
        if extensions.get::<EntityTag>() == Some(&self.tag) {
            return Ok(CacheableResource::NotModified);
        }
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.token)).map_err(|_| {
            // `resolve` checked this already; never echo the value.
            CredentialsError::from_msg(false, "the access token is not a valid header value")
        })?;
        value.set_sensitive(true);
        let mut headers = HeaderMap::with_capacity(1);
        headers.insert(AUTHORIZATION, value);
        Ok(CacheableResource::New {
            entity_tag: self.tag.clone(),
            data: headers,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        // The public Google Cloud universe (googleapis.com).
        None
    }
}

impl AccessTokenCredentialsProvider for StaticBearer {
    async fn access_token(&self) -> Result<GoogleToken, CredentialsError> {
        Ok(GoogleToken {
            token: self.token.clone(),
        })
    }
}

/// A credentials failure as a provider error: transient ones (the token
/// endpoint or metadata server did not answer) are retried, the rest mean
/// the login is missing or revoked.
pub(crate) fn credentials_error(e: &CredentialsError, endpoint: &str) -> ProviderError {
    if e.is_transient() {
        ProviderError::Unreachable {
            provider: KIND,
            endpoint: endpoint.to_owned(),
            detail: format!("cannot get a Google access token: {e}"),
        }
    } else {
        ProviderError::Unauthorized {
            provider: KIND,
            status: 401,
            message: format!("cannot get a Google access token: {e}"),
        }
    }
}

/// OAuth access tokens for a GKE cluster's Kubernetes API.
pub struct GcpTokenSource {
    credentials: AccessTokenCredentials,
    lifetime: Option<Duration>,
}

impl GcpTokenSource {
    pub(crate) fn new(resolved: &Resolved) -> Arc<Self> {
        Arc::new(GcpTokenSource {
            credentials: resolved.credentials.clone(),
            lifetime: resolved.lifetime,
        })
    }
}

#[async_trait]
impl TokenSource for GcpTokenSource {
    async fn token(&self) -> Result<AccessToken, ProviderError> {
        let token = self
            .credentials
            .access_token()
            .await
            .map_err(|e| credentials_error(&e, "the Google token endpoint"))?;
        Ok(AccessToken::new(
            token.token,
            self.lifetime.map(|l| SystemTime::now() + l),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_bearer_sends_a_sensitive_bearer_header_and_honours_its_tag() {
        let bearer = StaticBearer::new("tok-123");
        let CacheableResource::New { entity_tag, data } =
            bearer.headers(Extensions::new()).await.unwrap()
        else {
            panic!("first call must return headers");
        };
        let value = data.get(AUTHORIZATION).unwrap();
        assert_eq!(value, "Bearer tok-123");
        assert!(value.is_sensitive());

        let mut ext = Extensions::new();
        ext.insert(entity_tag);
        assert_eq!(
            bearer.headers(ext).await.unwrap(),
            CacheableResource::NotModified
        );
    }

    #[tokio::test]
    async fn static_token_source_has_no_expiry() {
        let resolved = GcpCredentials::StaticToken(" tok ".into())
            .resolve()
            .unwrap();
        let t = GcpTokenSource::new(&resolved).token().await.unwrap();
        assert_eq!(t.secret(), "tok");
        assert_eq!(t.expires_at, None);
    }

    #[test]
    fn bad_static_tokens_and_keys_are_config_errors_without_the_secret() {
        for creds in [
            GcpCredentials::StaticToken("  ".into()),
            GcpCredentials::StaticToken("line\nbreak".into()),
            GcpCredentials::ServiceAccountKey("{not json secret-material".into()),
            GcpCredentials::ServiceAccountKey(r#"{"type":"service_account"}"#.into()),
        ] {
            let err = creds.resolve().err().expect("must fail");
            assert_eq!(err.kind(), "config", "{err}");
            assert!(!err.to_string().contains("secret-material"));
        }
        assert!(!format!(
            "{:?}",
            GcpCredentials::StaticToken("secret-material".into())
        )
        .contains("secret-material"));
    }
}
