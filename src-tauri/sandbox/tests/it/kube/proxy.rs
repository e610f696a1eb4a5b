//! What collectors reach through the API server: the kubelet summary via
//! the node proxy, the Prometheus Service, and the service proxy in front
//! of it, with the real `kube::Client`.

use ::kube::{api::ListParams, Api};
use k8s_openapi::api::core::v1::{Node, Service};
use serde_json::Value;

use cloudops_sandbox::{
    kube::{k8s_token, prometheus_service},
    Cloud, World,
};

use super::{api_code, client};
use crate::start;

fn get(uri: &str) -> axum::http::Request<Vec<u8>> {
    super::http_get(uri)
}

#[tokio::test]
async fn node_proxy_serves_a_kubelet_summary_for_every_node() {
    let world = World::generate(31);
    let c = world.read().clusters_of(Cloud::Gcp).next().unwrap().clone();
    let (sandbox, _) = start(world);
    let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(nodes.items.len() as u32, c.node_count());
    for n in &nodes.items {
        let name = n.metadata.name.as_deref().unwrap();
        let s: Value = client
            .request(get(&format!("/api/v1/nodes/{name}/proxy/stats/summary")))
            .await
            .unwrap();
        assert_eq!(s["node"]["nodeName"], name);
        let fs = &s["node"]["fs"];
        let (cap, used, avail) = (
            fs["capacityBytes"].as_u64().unwrap(),
            fs["usedBytes"].as_u64().unwrap(),
            fs["availableBytes"].as_u64().unwrap(),
        );
        assert!(used > 0 && used < cap, "{used} of {cap}");
        assert_eq!(used + avail, cap);
        assert!(s["node"]["cpu"]["usageNanoCores"].as_u64().unwrap() > 0);
        assert!(s["node"]["memory"]["workingSetBytes"].as_u64().unwrap() > 0);
        assert!(s["pods"].is_array());
    }
    let err = client
        .request::<Value>(get("/api/v1/nodes/no-such-node/proxy/stats/summary"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err).0, 404);
}

#[tokio::test]
async fn every_cluster_lists_its_prometheus_service_and_proxies_queries_to_it() {
    let world = World::generate(32);
    let clusters: Vec<_> = Cloud::ALL
        .iter()
        .filter_map(|cloud| world.read().clusters_of(*cloud).next().cloned())
        .collect();
    assert_eq!(clusters.len(), 4);
    let (sandbox, _) = start(world);
    let mut names = Vec::new();
    for c in &clusters {
        let p = prometheus_service(c);
        names.push(p.name);
        let client = client(&sandbox, &c.id, Some(k8s_token(&c.id)));
        let all = Api::<Service>::all(client.clone())
            .list(&ListParams::default())
            .await
            .unwrap();
        let found: Vec<_> = all
            .items
            .iter()
            .map(|s| {
                (
                    s.metadata.namespace.clone().unwrap(),
                    s.metadata.name.clone().unwrap(),
                    s.spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port,
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![(p.namespace.to_string(), p.name.to_string(), p.port)]
        );
        let in_ns = Api::<Service>::namespaced(client.clone(), p.namespace);
        assert_eq!(
            in_ns
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len(),
            1
        );
        assert_eq!(
            in_ns.get(p.name).await.unwrap().metadata.name.as_deref(),
            Some(p.name)
        );
        let elsewhere = Api::<Service>::namespaced(client.clone(), "default");
        assert!(elsewhere
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty());

        let end = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let q = "sum%20by%20(service)%20(increase(http_requests_total%5B60s%5D))";
        for proxy_name in [
            format!("{}:{}", p.name, p.port),
            format!("http:{}:{}", p.name, p.port),
            format!("{}:{}", p.name, p.port_name),
        ] {
            let uri = format!(
                "/api/v1/namespaces/{}/services/{proxy_name}/proxy/api/v1/query_range?query={q}&start={}&end={end}&step=60",
                p.namespace,
                end - 600
            );
            let body: Value = client.request(get(&uri)).await.unwrap();
            assert_eq!(body["status"], "success", "{body}");
            assert_eq!(body["data"]["resultType"], "matrix");
            let series = body["data"]["result"].as_array().unwrap();
            assert!(!series.is_empty(), "{proxy_name}: no series");
            assert_eq!(series[0]["values"].as_array().unwrap().len(), 11);
        }
        // POST, form-encoded, to the instant endpoint.
        let post = axum::http::Request::post(format!(
            "/api/v1/namespaces/{}/services/{}:{}/proxy/api/v1/query",
            p.namespace, p.name, p.port
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("query={q}").into_bytes())
        .unwrap();
        let body: Value = client.request(post).await.unwrap();
        assert_eq!(body["data"]["resultType"], "vector", "{body}");

        let err = client
            .request::<Value>(get(&format!(
                "/api/v1/namespaces/{}/services/grafana:80/proxy/api/v1/query?query=up",
                p.namespace
            )))
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), (404, "NotFound".to_string()));

        let anonymous = super::client(&sandbox, &c.id, None);
        let err = anonymous
            .request::<Value>(get(&format!(
                "/api/v1/namespaces/{}/services/{}:{}/proxy/api/v1/query?query={q}",
                p.namespace, p.name, p.port
            )))
            .await
            .unwrap_err();
        assert_eq!(api_code(&err).0, 401);
    }
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        3,
        "the clouds use different layouts: {names:?}"
    );
}
