//! The endpoint collector (issue 9 health reasons): the API server's
//! version (`/version`) and its serving certificate's expiry.
//!
//! kube's TLS stack does not expose the peer certificate, so the probe opens
//! one TLS connection of its own, with the same trust as the client: the
//! cluster's CA when it has one, the platform roots otherwise. Verification
//! stays on: a certificate we cannot verify is an error, never a reading.
//! The handshake is all it does; no request is sent.

use std::{sync::Arc, time::Duration};

use cloudops_core::store::EndpointState;
use tokio::net::TcpStream;
use tokio_rustls::{
    rustls::{pki_types::ServerName, ClientConfig, RootCertStore},
    TlsConnector,
};
use x509_cert::{der::Decode, Certificate};

use super::{CollectError, Kube};

/// The serving certificate's facts the health reasons need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingCertificate {
    /// `notAfter`, unix seconds.
    pub not_after: i64,
    pub subject: String,
}

/// Why the certificate could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("the endpoint {endpoint:?} is not a URL with a host")]
    BadEndpoint { endpoint: String },
    #[error("the cluster CA for {endpoint} holds no usable certificate")]
    BadCa { endpoint: String },
    #[error("cannot connect to {endpoint}: {detail}")]
    Connect { endpoint: String, detail: String },
    #[error("the TLS handshake with {endpoint} failed: {detail}")]
    Handshake { endpoint: String, detail: String },
    #[error("{endpoint} did not finish the TLS handshake within {after_secs} s")]
    Timeout { endpoint: String, after_secs: u64 },
    #[error("{endpoint} sent a certificate that cannot be read: {detail}")]
    BadCertificate { endpoint: String, detail: String },
}

impl ProbeError {
    pub fn kind(&self) -> &'static str {
        match self {
            ProbeError::BadEndpoint { .. } => "bad_endpoint",
            ProbeError::BadCa { .. } => "bad_ca",
            ProbeError::Connect { .. } => "unreachable",
            ProbeError::Handshake { .. } => "tls",
            ProbeError::Timeout { .. } => "timeout",
            ProbeError::BadCertificate { .. } => "bad_certificate",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            ProbeError::BadEndpoint { .. } | ProbeError::BadCa { .. } => {
                "Check the cluster's endpoint and CA in its kubeconfig or cloud account.".into()
            }
            ProbeError::Connect { .. } | ProbeError::Timeout { .. } => {
                "The API server is unreachable from this machine; check the network or VPN. \
                 The certificate's last known expiry is kept."
                    .into()
            }
            ProbeError::Handshake { .. } => "The API server's certificate does not verify \
                 against the cluster CA: it may have been rotated, or the endpoint is not the \
                 cluster. Refresh the cluster's credentials (re-run discovery)."
                .into(),
            ProbeError::BadCertificate { .. } => {
                "Report this endpoint's certificate; the cluster itself may still work.".into()
            }
        }
    }
}

/// `host`, `port` of an `https://host[:port]/…` endpoint.
fn host_port(endpoint: &str) -> Option<(String, u16)> {
    let url = url::Url::parse(endpoint).ok()?;
    let host = url.host_str()?.trim_matches(['[', ']']).to_owned();
    Some((host, url.port_or_known_default()?))
}

fn roots(endpoint: &str, ca_pem: Option<&[u8]>) -> Result<RootCertStore, ProbeError> {
    let mut store = RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            let certs = pem::parse_many(pem).map_err(|_| ProbeError::BadCa {
                endpoint: endpoint.to_owned(),
            })?;
            for c in certs.into_iter().filter(|c| c.tag() == "CERTIFICATE") {
                // A bad certificate in the bundle is skipped, as rustls'
                // own loaders do; an empty store is the error below.
                let _ = store.add(c.into_contents().into());
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let _ = store.add_parsable_certificates(native.certs);
        }
    }
    if store.is_empty() {
        return Err(ProbeError::BadCa {
            endpoint: endpoint.to_owned(),
        });
    }
    Ok(store)
}

/// The serving certificate of an `https` endpoint, verified against
/// `ca_pem` (or the platform roots); `Ok(None)` for a plain-http endpoint.
pub async fn probe_certificate(
    endpoint: &str,
    ca_pem: Option<&[u8]>,
    timeout: Duration,
) -> Result<Option<ServingCertificate>, ProbeError> {
    if !endpoint.starts_with("https://") {
        return Ok(None);
    }
    let bad = || ProbeError::BadEndpoint {
        endpoint: endpoint.to_owned(),
    };
    let (host, port) = host_port(endpoint).ok_or_else(bad)?;
    let name = ServerName::try_from(host.clone()).map_err(|_| bad())?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::Handshake {
            endpoint: endpoint.to_owned(),
            detail: e.to_string(),
        })?
        .with_root_certificates(roots(endpoint, ca_pem)?)
        .with_no_client_auth();
    let handshake = async {
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| ProbeError::Connect {
                endpoint: endpoint.to_owned(),
                detail: e.to_string(),
            })?;
        TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| ProbeError::Handshake {
                endpoint: endpoint.to_owned(),
                detail: e.to_string(),
            })
    };
    let tls = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| ProbeError::Timeout {
            endpoint: endpoint.to_owned(),
            after_secs: timeout.as_secs(),
        })??;
    let (_, session) = tls.get_ref();
    let leaf = session
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| ProbeError::BadCertificate {
            endpoint: endpoint.to_owned(),
            detail: "no certificate in the handshake".into(),
        })?;
    read_certificate(leaf.as_ref())
        .map(Some)
        .map_err(|detail| ProbeError::BadCertificate {
            endpoint: endpoint.to_owned(),
            detail,
        })
}

/// `notAfter` and the subject of a DER certificate.
pub fn read_certificate(der: &[u8]) -> Result<ServingCertificate, String> {
    let cert = Certificate::from_der(der).map_err(|e| e.to_string())?;
    let tbs = &cert.tbs_certificate;
    let not_after = tbs.validity.not_after.to_unix_duration().as_secs();
    Ok(ServingCertificate {
        not_after: i64::try_from(not_after).map_err(|e| e.to_string())?,
        subject: tbs.subject.to_string(),
    })
}

/// The API server's version and certificate.
pub async fn collect(
    kube: &Kube<'_>,
    ca_pem: Option<&[u8]>,
    timeout: Duration,
) -> Result<EndpointState, CollectError> {
    let info = kube
        .call("reading /version", |client| async move {
            client.apiserver_version().await
        })
        .await?;
    let cert = probe_certificate(kube.endpoint, ca_pem, timeout).await?;
    Ok(EndpointState {
        server_version: Some(info.git_version).filter(|v| !v.is_empty()),
        tls: kube.endpoint.starts_with("https://"),
        cert_subject: cert.as_ref().map(|c| c.subject.clone()),
        cert_not_after: cert.map(|c| c.not_after),
    })
}
