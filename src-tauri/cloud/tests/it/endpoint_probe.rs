//! The API server certificate probe (`collect::endpoint`) against a real
//! TLS server on loopback, with certificates made for each case: the expiry
//! is read from a verified handshake, and an unverifiable certificate is an
//! error, never a reading.

use std::{sync::Arc, time::Duration};

use cloudops_cloud::collect::endpoint::{probe_certificate, read_certificate, ProbeError};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use tokio::net::TcpListener;
use tokio_rustls::{
    rustls::{
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
        ServerConfig,
    },
    TlsAcceptor,
};

struct Pki {
    ca_pem: String,
    leaf_der: CertificateDer<'static>,
    leaf_key: PrivateKeyDer<'static>,
}

/// A CA and a leaf for 127.0.0.1 that expires on `not_after`.
fn pki(not_after: (i32, u8, u8)) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "test-cluster-ca");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    leaf.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        leaf_der: leaf_cert.der().clone(),
        leaf_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    }
}

/// A TLS server that completes handshakes until the test ends.
async fn serve(pki: &Pki) -> String {
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.leaf_der.clone()], pki.leaf_key.clone_key())
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A failed handshake (the wrong-CA case) is the client's
                // business; the server just drops it.
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    format!("https://{addr}")
}

/// Unix seconds of a UTC midnight.
fn unix(y: i32, m: u8, d: u8) -> i64 {
    let date = rcgen::date_time_ymd(y, m, d);
    date.unix_timestamp()
}

#[tokio::test]
async fn the_expiry_comes_from_a_handshake_verified_against_the_cluster_ca() {
    let pki = pki((2031, 5, 17));
    let endpoint = serve(&pki).await;
    let cert = probe_certificate(
        &format!("{endpoint}/"),
        Some(pki.ca_pem.as_bytes()),
        Duration::from_secs(5),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(cert.not_after, unix(2031, 5, 17));
    assert!(
        cert.subject.contains("CN=kube-apiserver"),
        "{}",
        cert.subject
    );
    // The DER reader agrees with the handshake.
    assert_eq!(read_certificate(pki.leaf_der.as_ref()).unwrap(), cert);
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_an_error_not_a_reading() {
    let served = pki((2030, 1, 1));
    let other = pki((2030, 1, 1));
    let endpoint = serve(&served).await;
    let err = probe_certificate(
        &endpoint,
        Some(other.ca_pem.as_bytes()),
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ProbeError::Handshake { .. }), "{err:?}");
    assert_eq!(err.kind(), "tls");
    assert!(err.hint().contains("rotated"), "{}", err.hint());
}

#[tokio::test]
async fn plain_http_has_no_certificate_and_bad_inputs_are_typed_errors() {
    let none = probe_certificate("http://127.0.0.1:1/k8s/x", None, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(none, None);

    let pki = pki((2030, 1, 1));
    let garbage_ca = probe_certificate(
        "https://127.0.0.1:1",
        Some(b"not a pem bundle"),
        Duration::from_secs(1),
    )
    .await
    .unwrap_err();
    assert_eq!(garbage_ca.kind(), "bad_ca", "{garbage_ca:?}");

    // Nothing listens on the port we just released.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = probe_certificate(
        &format!("https://127.0.0.1:{port}"),
        Some(pki.ca_pem.as_bytes()),
        Duration::from_secs(2),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.kind(), "unreachable", "{refused:?}");

    assert!(read_certificate(b"\x30\x03\x02\x01\x01").is_err());
    assert!(read_certificate(&[]).is_err());
}
