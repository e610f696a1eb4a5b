//! The EKS Kubernetes token (BRIEF §4): a presigned STS GetCallerIdentity
//! URL that the cluster's authenticator replays against STS to learn who we
//! are. This is what `aws eks get-token` and aws-iam-authenticator mint; doing
//! it here means no exec plugin and no `aws` CLI on the user's machine.
//!
//! - The URL is `https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15`,
//!   SigV4-signed in the query string (`X-Amz-Expires=60`), with the header
//!   `x-k8s-aws-id: <cluster name>` among the signed headers so that a token
//!   for one cluster is refused by every other.
//! - The token is `k8s-aws-v1.` + base64url-no-pad(URL).
//! - EKS accepts it for 15 minutes after signing, whatever `X-Amz-Expires`
//!   says; [`RefreshingToken`](super::super::RefreshingToken) with
//!   [`REFRESH_MARGIN`] mints the next one at 14.

use std::{
    fmt,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use aws_credential_types::{
    provider::{error::CredentialsError, ProvideCredentials, SharedCredentialsProvider},
    Credentials,
};
use aws_sigv4::{
    http_request::{
        sign, SignableBody, SignableRequest, SignatureLocation, SigningParams, SigningSettings,
    },
    sign::v4,
};
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use cloudops_core::model::Provider as ProviderKind;

use super::{sdk_error::error_chain, validate_region};
use crate::{
    error::ProviderError,
    providers::{AccessToken, TokenSource},
};

const KIND: ProviderKind = ProviderKind::Aws;
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// How long EKS honours a token after it was signed.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Refresh when less than this is left: at 14 of the 15 minutes.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// What the presigned URL itself says; EKS ignores it in favour of its own
/// 15 minutes, but STS needs one and the AWS tools all send 60.
const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);

/// Mints EKS tokens for one cluster from the account's credentials provider
/// (profile, SSO, env, keyring keys: whatever the SDK config resolved).
#[derive(Clone)]
pub struct EksTokenSource {
    credentials: SharedCredentialsProvider,
    region: String,
    cluster: String,
    lifetime: Duration,
}

impl fmt::Debug for EksTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EksTokenSource")
            .field("region", &self.region)
            .field("cluster", &self.cluster)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl EksTokenSource {
    pub fn new(
        credentials: SharedCredentialsProvider,
        region: &str,
        cluster: &str,
    ) -> Result<Self, ProviderError> {
        validate_region(region)?;
        if cluster.is_empty() {
            return Err(ProviderError::Config {
                provider: KIND,
                detail: "an EKS token needs a cluster name".into(),
            });
        }
        Ok(EksTokenSource {
            credentials,
            region: region.to_owned(),
            cluster: cluster.to_owned(),
            lifetime: TOKEN_LIFETIME,
        })
    }

    /// Claims a shorter life for the tokens than EKS's 15 minutes, so that a
    /// test can watch a refresh happen without waiting 14 minutes.
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime.min(TOKEN_LIFETIME);
        self
    }

    /// The STS host for the region: the regional endpoint, which is what
    /// EKS's authenticator expects (`.amazonaws.com.cn` in the China
    /// partition).
    pub fn sts_host(&self) -> String {
        let suffix = if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("sts.{}.{suffix}", self.region)
    }

    /// Signs a token with these credentials at `now`. Separate from
    /// [`TokenSource::token`] so that it can be checked without a
    /// credentials provider.
    pub fn presign(
        &self,
        creds: &Credentials,
        now: SystemTime,
    ) -> Result<AccessToken, ProviderError> {
        let signing_failed = |detail: String| ProviderError::Config {
            provider: KIND,
            detail: format!(
                "cannot sign the EKS token for cluster {} in {}: {detail}",
                self.cluster, self.region
            ),
        };
        let base = format!(
            "https://{}/?Action=GetCallerIdentity&Version=2011-06-15",
            self.sts_host()
        );
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(PRESIGN_EXPIRES);
        let identity = Identity::from(creds.clone());
        let params: SigningParams<'_> = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("sts")
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| signing_failed(e.to_string()))?
            .into();
        let request = SignableRequest::new(
            "GET",
            base.as_str(),
            std::iter::once((CLUSTER_ID_HEADER, self.cluster.as_str())),
            SignableBody::Bytes(&[]),
        )
        .map_err(|e| signing_failed(e.to_string()))?;
        let (instructions, _signature) = sign(request, &params)
            .map_err(|e| signing_failed(e.to_string()))?
            .into_parts();

        // The signing params are appended by hand rather than through
        // `apply_to_request_http1x`, which unwraps internally; the values are
        // AWS-generated (credential scope, dates, hex, the session token) and
        // form-encoding them decodes back to exactly what was signed.
        let mut url = base;
        for (name, value) in instructions.params() {
            url.push('&');
            url.push_str(name);
            url.push('=');
            url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        }
        let token = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.as_bytes())
        );
        // Temporary credentials (SSO, assumed roles) can run out before the
        // 15 minutes do; STS then refuses the token, so it expires with them.
        let mut expires_at = now + self.lifetime;
        if let Some(creds_expiry) = creds.expiry() {
            expires_at = expires_at.min(creds_expiry);
        }
        Ok(AccessToken::new(token, Some(expires_at)))
    }
}

#[async_trait]
impl TokenSource for EksTokenSource {
    async fn token(&self) -> Result<AccessToken, ProviderError> {
        let creds = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| credentials_error(&e, &self.region))?;
        self.presign(&creds, SystemTime::now())
    }
}

/// Why the credentials could not be loaded, in our terms.
pub(crate) fn credentials_error(e: &CredentialsError, region: &str) -> ProviderError {
    let detail = error_chain(e);
    match e {
        CredentialsError::CredentialsNotLoaded(_) => ProviderError::Config {
            provider: KIND,
            detail: format!(
                "no AWS credentials found for {region} (profile, SSO, environment or keyring): {detail}"
            ),
        },
        CredentialsError::InvalidConfiguration(_) => ProviderError::Config {
            provider: KIND,
            detail: format!("the AWS credentials configuration is invalid: {detail}"),
        },
        CredentialsError::ProviderTimedOut(t) => ProviderError::Timeout {
            provider: KIND,
            endpoint: "the AWS credentials provider".into(),
            after: t.timeout_duration(),
        },
        // A provider that ran and failed: most often an expired SSO session
        // or a refused AssumeRole. "Sign in again" is the right advice, so
        // this is Unauthorized (401: not authenticated), not a network error.
        _ => ProviderError::Unauthorized {
            provider: KIND,
            status: 401,
            message: format!("cannot load the AWS credentials: {detail}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(region: &str) -> EksTokenSource {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            Some("tok+en/=".into()),
            None,
            "test",
        );
        EksTokenSource::new(SharedCredentialsProvider::new(creds), region, "prod-1").unwrap()
    }

    #[test]
    fn the_url_carries_the_session_token_and_binds_the_cluster() {
        let s = source("eu-west-1");
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            Some("tok+en/=".into()),
            None,
            "test",
        );
        let t = s
            .presign(
                &creds,
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            )
            .unwrap();
        let raw = t.secret().strip_prefix(TOKEN_PREFIX).unwrap();
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(raw)
                .unwrap(),
        )
        .unwrap();
        let url = url::Url::parse(&url).unwrap();
        assert_eq!(url.host_str(), Some("sts.eu-west-1.amazonaws.com"));
        let q: std::collections::BTreeMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["X-Amz-Security-Token"], "tok+en/=");
        assert_eq!(q["X-Amz-Date"], "20231114T221320Z");
        assert_eq!(q["X-Amz-SignedHeaders"], "host;x-k8s-aws-id");
        assert!(q["X-Amz-Credential"].starts_with("AKIDEXAMPLE/20231114/eu-west-1/sts/"));
        // botocore's SigV4QueryAuth (what `aws eks get-token` uses) signs the
        // same request, at the same time, with the same keys, to this.
        assert_eq!(
            q["X-Amz-Signature"],
            "c394da72d9188007cf2d87ee2e0bd65aaffd88126fbba05b5ad1ba518edac77e"
        );
    }

    #[test]
    fn china_regions_sign_for_the_china_partition() {
        assert_eq!(
            source("cn-north-1").sts_host(),
            "sts.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn tokens_expire_with_short_lived_credentials() {
        let s = source("us-east-1");
        let now = SystemTime::now();
        let soon = now + Duration::from_secs(300);
        let creds = Credentials::new("A", "s", None, Some(soon), "test");
        assert_eq!(s.presign(&creds, now).unwrap().expires_at, Some(soon));
        let creds = Credentials::new("A", "s", None, None, "test");
        assert_eq!(
            s.presign(&creds, now).unwrap().expires_at,
            Some(now + TOKEN_LIFETIME)
        );
    }

    #[test]
    fn bad_regions_and_empty_clusters_are_config_errors() {
        let p = SharedCredentialsProvider::new(Credentials::new("A", "s", None, None, "t"));
        assert_eq!(
            EksTokenSource::new(p.clone(), "evil.com/x", "c")
                .unwrap_err()
                .kind(),
            "config"
        );
        assert_eq!(
            EksTokenSource::new(p, "us-east-1", "").unwrap_err().kind(),
            "config"
        );
    }
}
