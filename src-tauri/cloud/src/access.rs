//! Provider-neutral cluster access (BRIEF §2): a `kube::Client` built from a
//! [`ClusterConnection`] (endpoint + CA + self-refreshing token), the same
//! way for EKS, GKE, AKS, DOKS and kubeconfig clusters.
//!
//! Tokens refresh through [`crate::providers::RefreshingToken`]; when it
//! hands out a new token, the next [`ClusterAccess::client`] builds a new
//! client with it (cheap: one config, no connection yet). Callers take a
//! client per unit of work instead of keeping one forever, so a long session
//! never sends an expired token.

use secrecy::SecretString;

use crate::{error::ProviderError, providers::ClusterConnection};

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("cannot get a token for {endpoint}: {source}")]
    Token {
        endpoint: String,
        #[source]
        source: ProviderError,
    },
    #[error("the cluster endpoint {endpoint:?} is not a URL: {detail}")]
    BadEndpoint { endpoint: String, detail: String },
    #[error("the cluster CA for {endpoint} is not a PEM bundle: {detail}")]
    BadCa { endpoint: String, detail: String },
    #[error("cannot build a client for {endpoint}: {detail}")]
    Client { endpoint: String, detail: String },
}

pub struct ClusterAccess {
    conn: ClusterConnection,
    /// The client and the token it carries.
    current: tokio::sync::Mutex<Option<(String, kube::Client)>>,
}

impl ClusterAccess {
    pub fn new(conn: ClusterConnection) -> Self {
        ClusterAccess {
            conn,
            current: tokio::sync::Mutex::new(None),
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.conn.endpoint
    }

    /// A client whose token is fresh for at least the token source's margin.
    pub async fn client(&self) -> Result<kube::Client, AccessError> {
        let token = self
            .conn
            .tokens
            .token()
            .await
            .map_err(|source| AccessError::Token {
                endpoint: self.conn.endpoint.clone(),
                source,
            })?;
        let mut current = self.current.lock().await;
        if let Some((secret, client)) = current.as_ref() {
            if secret == token.secret() {
                return Ok(client.clone());
            }
        }
        let client = build(&self.conn, token.secret())?;
        *current = Some((token.secret().to_owned(), client.clone()));
        Ok(client)
    }
}

fn build(conn: &ClusterConnection, token: &str) -> Result<kube::Client, AccessError> {
    let endpoint = conn.endpoint.clone();
    let uri: http::Uri =
        endpoint
            .parse()
            .map_err(|e: http::uri::InvalidUri| AccessError::BadEndpoint {
                endpoint: endpoint.clone(),
                detail: e.to_string(),
            })?;
    let https = uri.scheme_str() == Some("https");
    let mut config = kube::Config::new(uri);
    // TLS verification is always on. The cluster's own CA is the trust root
    // for its API server; a plain-http endpoint (the loopback sandbox) has
    // no TLS to verify.
    if https {
        if let Some(pem) = &conn.ca_pem {
            let certs = pem::parse_many(pem)
                .map_err(|e| AccessError::BadCa {
                    endpoint: endpoint.clone(),
                    detail: e.to_string(),
                })?
                .into_iter()
                .map(pem::Pem::into_contents)
                .collect::<Vec<_>>();
            if certs.is_empty() {
                return Err(AccessError::BadCa {
                    endpoint,
                    detail: "no certificate in it".into(),
                });
            }
            config.root_cert = Some(certs);
        }
    }
    config.auth_info.token = Some(SecretString::from(token.to_owned()));
    kube::Client::try_from(config).map_err(|e| AccessError::Client {
        endpoint,
        detail: e.to_string(),
    })
}
