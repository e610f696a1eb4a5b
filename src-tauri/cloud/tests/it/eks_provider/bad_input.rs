//! Bad input gives clear errors, not panics: invalid endpoint overrides and
//! variables, revoked keys, an endpoint that is down, and every EKS error
//! shape.

use std::{collections::BTreeMap, net::TcpListener, sync::Arc, time::Duration};

use cloudops_cloud::{
    providers::{aws::AwsProvider, Provider},
    resilience::Breakers,
    ProviderError,
};
use cloudops_sandbox::{Sandbox, World};

use super::{keys, policy, provider, scope, world_aws, EU, US};

#[test]
fn invalid_endpoint_overrides_and_regions_are_config_errors() {
    let make = |endpoint: Option<&str>, regions: Vec<String>| {
        AwsProvider::with_static_keys(
            "bad",
            regions,
            keys("a", "b"),
            endpoint,
            policy(),
            Arc::new(Breakers::default()),
        )
        .map(|_| ())
        .unwrap_err()
    };
    let us = || vec![US.to_string()];
    for bad in [
        "not a url",
        "ftp://127.0.0.1:9/aws",
        "http://example.com/aws",
        "https://",
    ] {
        let err = make(Some(bad), us());
        assert_eq!(err.kind(), "config", "{bad}: {err}");
        assert!(err.to_string().contains("endpoint"), "{err}");
    }
    assert_eq!(make(None, vec![]).kind(), "config");
    assert!(make(None, vec![])
        .to_string()
        .contains("CLOUDOPS_AWS_REGIONS"));
    assert_eq!(make(None, vec!["us east 1".into()]).kind(), "config");
    let err = AwsProvider::with_static_keys(
        "k",
        us(),
        keys("", ""),
        None,
        policy(),
        Arc::new(Breakers::default()),
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(err.kind(), "config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_keys_are_unauthorized_and_not_retried() {
    let world = World::generate(42);
    let region = world_aws(&world).remove(0).region;
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), world).unwrap();
    let breakers = Arc::new(Breakers::default());
    let p = AwsProvider::with_static_keys(
        "revoked",
        vec![region.clone()],
        keys("AKIAREVOKED", "wrong"),
        Some(&format!("{}/aws", sandbox.base_url())),
        policy(),
        breakers.clone(),
    )
    .unwrap();
    let err = p.discover(&scope(&region)).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Unauthorized { status: 403, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("UnrecognizedClientException") && msg.contains(&region),
        "{msg}"
    );
    assert_eq!(breakers.attempts(), 1, "auth errors are not retried");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unreachable_and_names_the_region() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = provider(&format!("http://127.0.0.1:{port}"), &[EU], keys("a", "b"));
    let err = p.discover(&scope(EU)).await.unwrap_err();
    assert!(matches!(err.kind(), "unreachable" | "timeout"), "{err}");
    assert!(err.to_string().contains(EU), "{err}");
}

#[tokio::test]
async fn ambient_bad_variables_are_config_errors_that_name_them() {
    let base = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")];
    let build = |extra: &[(&str, &str)]| {
        let env: BTreeMap<String, String> = base
            .iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        async move {
            let var = |k: &str| env.get(k).cloned();
            AwsProvider::ambient_with(
                "env",
                &var,
                None,
                None,
                policy(),
                Arc::new(Breakers::default()),
            )
            .await
            .map(|_| ())
            .unwrap_err()
        }
    };
    let err = build(&[
        ("CLOUDOPS_AWS_REGIONS", US),
        ("AWS_ENDPOINT_URL_EKS", "http://example.com"),
    ])
    .await;
    assert_eq!(err.kind(), "config");
    assert!(err.to_string().contains("AWS_ENDPOINT_URL_EKS"), "{err}");
    let err = build(&[("CLOUDOPS_AWS_REGIONS", US), ("AWS_ENDPOINT_URL", "::")]).await;
    assert!(err.to_string().contains("AWS_ENDPOINT_URL="), "{err}");
    let err = build(&[]).await;
    assert_eq!(err.kind(), "config");
    assert!(err.to_string().contains("CLOUDOPS_AWS_REGIONS"), "{err}");
    let err = build(&[("CLOUDOPS_AWS_REGIONS", "us-east-1,Not A Region")]).await;
    assert_eq!(err.kind(), "config");
}

/// Each EKS error shape, served by a fixture server, maps to the error kind
/// the engine acts on, and names the region.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_error_replies_map_to_kinds() {
    use crate::fixture_server::{FixtureServer, Reply};

    fn eks_error(status: u16, kind: &str, retry_after: Option<&str>) -> Reply {
        let mut r = Reply::status(status, r#"{"message":"from the fixture"}"#);
        r.headers.push(("x-amzn-errortype", kind.to_owned()));
        if let Some(s) = retry_after {
            r.headers.push(("retry-after", s.to_owned()));
        }
        r
    }
    async fn run(reply: fn() -> Reply) -> (ProviderError, usize, u64) {
        let server = FixtureServer::start(move |_, _| reply()).await;
        let breakers = Arc::new(Breakers::default());
        let p = AwsProvider::with_static_keys(
            "fx",
            vec![EU.into()],
            keys("a", "b"),
            Some(&server.base_url),
            policy(),
            breakers.clone(),
        )
        .unwrap();
        let err = p.discover(&scope(EU)).await.unwrap_err();
        assert!(err.to_string().contains(EU), "{err}");
        (err, server.requests().len(), breakers.attempts())
    }

    let (err, requests, attempts) = run(|| eks_error(429, "ThrottlingException", Some("1"))).await;
    assert_eq!(err.kind(), "throttled", "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    // policy(): one retry, and the SDK's own retries are off.
    assert_eq!((requests, attempts), (2, 2));

    let (err, requests, _) = run(|| eks_error(503, "ServiceUnavailableException", None)).await;
    assert_eq!(err.kind(), "server_error", "{err}");
    assert_eq!(requests, 2);

    let (err, requests, _) = run(|| eks_error(400, "InvalidParameterException", None)).await;
    assert_eq!(err.kind(), "rejected", "{err}");
    assert!(err.to_string().contains("from the fixture"), "{err}");
    assert_eq!(requests, 1, "not retried");

    let (err, _, _) = run(|| eks_error(403, "ExpiredTokenException", None)).await;
    assert_eq!(err.kind(), "unauthorized", "{err}");

    let (err, requests, _) = run(|| Reply::json("this is not JSON")).await;
    assert_eq!(err.kind(), "bad_reply", "{err}");
    assert_eq!(requests, 1, "not retried");

    let (err, _, _) = run(|| Reply::json(r#"{"clusters": 42}"#)).await;
    assert_eq!(err.kind(), "bad_reply", "{err}");
}
