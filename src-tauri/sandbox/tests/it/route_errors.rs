//! Unknown routes, wrong methods and undecodable paths answer in each
//! provider's own error shape and status (issue 3, "Bad input"), never in
//! axum's plain-text or empty defaults.

use cloudops_sandbox::World;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::start;

/// (prefix, list route, auth header value) per provider.
const EKS_AUTH: &str = "AWS4-HMAC-SHA256 Credential=sandbox/20250601/us-east-1/eks/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";

struct Provider {
    name: &'static str,
    list: &'static str,
    auth: &'static str,
}

const PROVIDERS: [Provider; 4] = [
    Provider {
        name: "eks",
        list: "/aws/clusters",
        auth: EKS_AUTH,
    },
    Provider {
        name: "gke",
        list: "/gke/v1/projects/p/locations/-/clusters",
        auth: "Bearer sandbox-gcp",
    },
    Provider {
        name: "arm",
        list: "/arm/subscriptions",
        auth: "Bearer sandbox-azure",
    },
    Provider {
        name: "do",
        list: "/do/v2/kubernetes/clusters",
        auth: "Bearer sandbox-do",
    },
];

/// Checks `body`/`headers` are `provider`'s error shape for `status`.
fn assert_shape(
    p: &Provider,
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
    what: &str,
) {
    let ctx = format!("{} {what}: {body}", p.name);
    match p.name {
        "eks" => {
            assert!(headers.get("x-amzn-errortype").is_some(), "{ctx}");
            assert!(body["message"].is_string(), "{ctx}");
        }
        "gke" => {
            assert_eq!(body["error"]["code"], status.as_u16(), "{ctx}");
            assert!(body["error"]["message"].is_string(), "{ctx}");
            assert!(body["error"]["status"].is_string(), "{ctx}");
        }
        "arm" => {
            assert!(body["error"]["code"].is_string(), "{ctx}");
            assert!(body["error"]["message"].is_string(), "{ctx}");
        }
        "do" => {
            assert!(body["id"].is_string(), "{ctx}");
            assert!(body["message"].is_string(), "{ctx}");
        }
        _ => unreachable!(),
    }
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    p: &Provider,
    method: Method,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let resp = http
        .request(method, format!("{base}{path}"))
        .header("authorization", p.auth)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} {path}: {status}: not JSON ({e}): {text:?}", p.name));
    (status, headers, body)
}

#[tokio::test]
async fn wrong_methods_unknown_routes_and_bad_paths_use_the_provider_shape() {
    let (sandbox, http) = start(World::default());
    let base = sandbox.base_url().to_owned();
    for p in &PROVIDERS {
        // A method the list route does not serve.
        let (status, headers, body) = call(&http, &base, p, Method::DELETE, p.list).await;
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} DELETE {body}",
            p.name
        );
        assert_shape(p, status, &headers, &body, "DELETE on the list route");

        // A path no route matches.
        let unknown = format!("{}/x/y/z/no-such-thing", p.list);
        let (status, headers, body) = call(&http, &base, p, Method::GET, &unknown).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{} {body}", p.name);
        assert_shape(p, status, &headers, &body, "unknown route");

        // A percent-escape that is not UTF-8, on a route with a path
        // parameter (axum's `Path` extractor would answer in plain text).
        let bad = match p.name {
            "eks" => "/aws/clusters/%FF".to_string(),
            "gke" => "/gke/v1/projects/p/locations/-/clusters/%FF".to_string(),
            "arm" => "/arm/subscriptions/%FF/providers/Microsoft.ContainerService/managedClusters"
                .to_string(),
            _ => "/do/v2/kubernetes/clusters/%FF".to_string(),
        };
        let (status, headers, body) = call(&http, &base, p, Method::GET, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{} {body}", p.name);
        assert_shape(p, status, &headers, &body, "undecodable path");
    }
    drop(http);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn specific_codes_match_each_provider() {
    let (sandbox, http) = start(World::default());
    let base = sandbox.base_url().to_owned();
    let (_, headers, _) = call(&http, &base, &PROVIDERS[0], Method::DELETE, "/aws/clusters").await;
    assert_eq!(headers["x-amzn-errortype"], "UnknownOperationException");
    let (_, headers, _) = call(&http, &base, &PROVIDERS[0], Method::GET, "/aws/nope").await;
    assert_eq!(headers["x-amzn-errortype"], "UnknownOperationException");
    let (_, _, body) = call(&http, &base, &PROVIDERS[1], Method::GET, "/gke/v1/nope").await;
    assert_eq!(body["error"]["status"], "NOT_FOUND");
    let (_, _, body) = call(&http, &base, &PROVIDERS[2], Method::GET, "/arm/nope").await;
    assert_eq!(body["error"]["code"], "ResourceNotFound");
    let (_, _, body) = call(&http, &base, &PROVIDERS[3], Method::GET, "/do/v2/nope").await;
    assert_eq!(body["id"], "not_found");
    let (_, _, body) = call(
        &http,
        &base,
        &PROVIDERS[3],
        Method::POST,
        "/do/v2/kubernetes/clusters",
    )
    .await;
    assert_eq!(body["id"], "method_not_allowed");
    drop(http);
    sandbox.shutdown().await.unwrap();
}
