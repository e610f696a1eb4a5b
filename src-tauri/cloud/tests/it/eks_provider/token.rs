//! The EKS token: its format, and its refresh before expiry.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::{Duration, SystemTime},
};

use aws_credential_types::{
    provider::{future, ProvideCredentials, SharedCredentialsProvider},
    Credentials,
};
use cloudops_cloud::providers::{
    aws::{EksTokenSource, REFRESH_MARGIN, TOKEN_LIFETIME},
    AccessToken, RefreshingToken, TokenSource,
};

use super::{decode_token, US};

fn static_creds(session: Option<&str>) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session.map(str::to_owned),
        None,
        "test",
    ))
}

#[tokio::test]
async fn eks_token_is_a_presigned_sts_get_caller_identity() {
    let source = EksTokenSource::new(
        static_creds(Some("FwoGZXIvYXdzE+session/token=")),
        "us-west-2",
        "prod-eks",
    )
    .unwrap();
    let before = SystemTime::now();
    let token = source.token().await.unwrap();
    assert!(token.secret().starts_with("k8s-aws-v1."));
    assert!(!token.secret().contains('='), "no padding");
    let url = decode_token(&token);
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("sts.us-west-2.amazonaws.com"));
    assert_eq!(url.path(), "/");
    let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["Action"], "GetCallerIdentity");
    assert_eq!(q["Version"], "2011-06-15");
    assert_eq!(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(q["X-Amz-Expires"], "60");
    let signed: Vec<&str> = q["X-Amz-SignedHeaders"].split(';').collect();
    assert!(
        signed.contains(&"x-k8s-aws-id") && signed.contains(&"host"),
        "{signed:?}"
    );
    assert!(q["X-Amz-Credential"].starts_with("AKIDEXAMPLE/"));
    assert!(q["X-Amz-Credential"].ends_with("/us-west-2/sts/aws4_request"));
    assert_eq!(q["X-Amz-Security-Token"], "FwoGZXIvYXdzE+session/token=");
    let sig = &q["X-Amz-Signature"];
    assert!(
        sig.len() == 64 && sig.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sig}"
    );

    let expires = token.expires_at.unwrap();
    assert!(expires >= before + TOKEN_LIFETIME && expires <= SystemTime::now() + TOKEN_LIFETIME);
    assert_eq!(TOKEN_LIFETIME, Duration::from_secs(15 * 60));

    // A token for another cluster is a different signature.
    let other = EksTokenSource::new(static_creds(None), "us-west-2", "other").unwrap();
    let mine = EksTokenSource::new(static_creds(None), "us-west-2", "prod-eks").unwrap();
    let now = SystemTime::now();
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "t");
    assert_ne!(
        other.presign(&creds, now).unwrap().secret(),
        mine.presign(&creds, now).unwrap().secret()
    );
}

/// Counts how often the token source asked for credentials, i.e. minted.
#[derive(Debug)]
struct CountingCreds(AtomicU32);

impl ProvideCredentials for CountingCreds {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.fetch_add(1, Ordering::SeqCst);
        future::ProvideCredentials::ready(Ok(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "count",
        )))
    }
}

#[tokio::test]
async fn eks_token_refreshes_before_it_expires() {
    // The production pair: 15-minute tokens, refreshed with 60 s left (at
    // 14 minutes). Two uses in a row mint once.
    let counting = Arc::new(CountingCreds(AtomicU32::new(0)));
    let creds = SharedCredentialsProvider::new(CountingCredsRef(counting.clone()));
    let tokens = RefreshingToken::new(
        Arc::new(EksTokenSource::new(creds, US, "c").unwrap()),
        REFRESH_MARGIN,
    );
    let a = tokens.token().await.unwrap();
    let b = tokens.token().await.unwrap();
    assert_eq!(a.secret(), b.secret());
    assert_eq!(
        counting.0.load(Ordering::SeqCst),
        1,
        "one mint for two uses"
    );
    assert_eq!(REFRESH_MARGIN, Duration::from_secs(60));
    let now = SystemTime::now();
    assert!(
        AccessToken::new("x", Some(now + Duration::from_secs(61))).fresh_for(REFRESH_MARGIN, now)
    );
    assert!(
        !AccessToken::new("x", Some(now + Duration::from_secs(59))).fresh_for(REFRESH_MARGIN, now)
    );

    // Scaled down: tokens that "live" 61 s with the same 60 s margin are
    // due for refresh after 1 s, long before they expire.
    let source = EksTokenSource::new(
        SharedCredentialsProvider::new(CountingCredsRef(counting.clone())),
        US,
        "c",
    )
    .unwrap()
    .with_lifetime(Duration::from_secs(61));
    let tokens = RefreshingToken::new(Arc::new(source), REFRESH_MARGIN);
    let first = tokens.token().await.unwrap();
    assert_eq!(tokens.token().await.unwrap().secret(), first.secret());
    assert_eq!(counting.0.load(Ordering::SeqCst), 2);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = tokens.token().await.unwrap();
    assert_eq!(counting.0.load(Ordering::SeqCst), 3, "re-minted");
    assert_ne!(
        second.secret(),
        first.secret(),
        "a new signature (new X-Amz-Date)"
    );
    assert!(
        first.expires_at.unwrap() > SystemTime::now(),
        "the old token had not expired yet"
    );
    assert!(second.expires_at > first.expires_at);
}

/// [`CountingCreds`] shared with the test through an `Arc`.
#[derive(Debug)]
struct CountingCredsRef(Arc<CountingCreds>);

impl ProvideCredentials for CountingCredsRef {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.provide_credentials()
    }
}
