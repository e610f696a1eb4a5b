//! Provider-neutral cluster access (BRIEF §2): a `kube::Client` built from a
//! [`ClusterConnection`] (endpoint + CA + self-refreshing token), the same
//! way for EKS, GKE, AKS, DOKS and kubeconfig clusters.
//!
//! Tokens refresh through [`crate::providers::RefreshingToken`]; when it
//! hands out a new token, the next [`ClusterAccess::client`] builds a new
//! client with it (cheap: one config, no connection yet). Callers take a
//! client per unit of work instead of keeping one forever, so a long session
//! never sends an expired token.
//!
//! An empty token means "no bearer token": the cluster authenticates the
//! client certificate in [`ClusterConnection::identity_pem`] (kind,
//! minikube), or the user is anonymous.

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
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
    #[error("the client certificate for {endpoint} is unusable: {detail}")]
    BadIdentity { endpoint: String, detail: String },
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

    /// The PEM bundle the API server's certificate is verified against.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.conn.ca_pem.as_deref()
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
        // A client certificate is only meaningful inside TLS.
        if let Some(pem) = &conn.identity_pem {
            let (certs, key) = split_identity(pem).map_err(|detail| AccessError::BadIdentity {
                endpoint: endpoint.clone(),
                detail,
            })?;
            // kube takes the identity as kubeconfig-style base64 fields.
            config.auth_info.client_certificate_data = Some(B64.encode(certs));
            config.auth_info.client_key_data = Some(SecretString::from(B64.encode(key)));
        }
    }
    if !token.is_empty() {
        config.auth_info.token = Some(SecretString::from(token.to_owned()));
    }
    kube::Client::try_from(config).map_err(|e| AccessError::Client {
        endpoint,
        detail: e.to_string(),
    })
}

/// Splits a PEM identity into its certificate chain and its one private
/// key, re-encoded as PEM, so that a malformed bundle is our typed error
/// and not a TLS failure at the first request.
fn split_identity(pem: &[u8]) -> Result<(String, String), String> {
    let sections = pem::parse_many(pem).map_err(|e| e.to_string())?;
    let (certs, keys): (Vec<_>, Vec<_>) = sections
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE" || p.tag().ends_with("PRIVATE KEY"))
        .partition(|p| p.tag() == "CERTIFICATE");
    if certs.is_empty() {
        return Err("no CERTIFICATE in it".into());
    }
    match keys.as_slice() {
        [key] => Ok((pem::encode_many(&certs), pem::encode(key))),
        [] => Err("no PRIVATE KEY in it".into()),
        _ => Err("more than one private key in it".into()),
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use super::*;
    use crate::providers::{AccessToken, RefreshingToken, StaticToken};

    /// A throwaway self-signed P-256 certificate and key (CN=kind-user), as
    /// kind writes into `client-certificate-data`/`client-key-data`. Test
    /// material only: it signs nothing and no server trusts it.
    /// Kept as a fixture file, not in source, so that secret scanners can
    /// tell test material from a leaked key.
    pub(crate) const TEST_IDENTITY: &str = include_str!("../tests/fixtures/kind-user-identity.pem");

    fn conn(endpoint: &str, identity: Option<&str>) -> ClusterConnection {
        ClusterConnection {
            endpoint: endpoint.into(),
            ca_pem: None,
            tokens: Arc::new(RefreshingToken::new(
                Arc::new(StaticToken(AccessToken::new("", None))),
                Duration::ZERO,
            )),
            identity_pem: identity.map(|i| i.as_bytes().to_vec()),
        }
    }

    #[test]
    fn identities_split_into_chain_and_key() {
        let (certs, key) = split_identity(TEST_IDENTITY.as_bytes()).unwrap();
        assert!(certs.contains("BEGIN CERTIFICATE") && !certs.contains("PRIVATE KEY"));
        assert!(key.contains("BEGIN PRIVATE KEY") && !key.contains("CERTIFICATE"));
        let cert_only = &TEST_IDENTITY[..TEST_IDENTITY.find("-----BEGIN PRIVATE").unwrap()];
        assert!(split_identity(cert_only.as_bytes())
            .unwrap_err()
            .contains("PRIVATE KEY"));
        let key_only = &TEST_IDENTITY[TEST_IDENTITY.find("-----BEGIN PRIVATE").unwrap()..];
        assert!(split_identity(key_only.as_bytes())
            .unwrap_err()
            .contains("CERTIFICATE"));
    }

    #[tokio::test]
    async fn a_client_certificate_builds_a_client_and_a_broken_one_is_typed() {
        let access = ClusterAccess::new(conn("https://127.0.0.1:6443", Some(TEST_IDENTITY)));
        assert!(access.client().await.is_ok());
        let broken = TEST_IDENTITY.replace("MIGHAgEAMBMG", "!!!");
        let access = ClusterAccess::new(conn("https://127.0.0.1:6443", Some(&broken)));
        assert!(matches!(
            access.client().await,
            Err(AccessError::BadIdentity { .. })
        ));
    }
}
