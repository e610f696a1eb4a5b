//! The per-cluster Prometheus API (`/prom/{cluster_id}/api/v1/…`): the query
//! shapes the collectors issue, in Prometheus' JSON shapes.

use std::collections::{BTreeMap, BTreeSet};

use cloudops_sandbox::{kube::k8s_token, world::CHECKOUT_SERVICE, RunningSandbox, World};
use serde_json::Value;

use super::{json, start};

const BUCKETS: &str = "sum by (service, le) (increase(http_request_duration_seconds_bucket[1m]))";
const REQUESTS: &str = "sum by (service) (rate(http_requests_total[5m]))";
const ERRORS: &str = r#"sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))"#;
const NODE_CPU: &str = r#"sum by (node) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#;
const T0: i64 = 1_748_736_000; // 2025-06-01T00:00:00Z

fn checkout_cluster(sandbox: &RunningSandbox) -> String {
    sandbox
        .world()
        .read()
        .service(CHECKOUT_SERVICE)
        .unwrap()
        .cluster_ids[0]
        .clone()
}

async fn get(
    sandbox: &RunningSandbox,
    http: &reqwest::Client,
    cluster: &str,
    api: &str,
    params: &[(&str, String)],
) -> (u16, Value) {
    let resp = http
        .get(format!(
            "{}/prom/{cluster}/api/v1/{api}",
            sandbox.base_url()
        ))
        .query(params)
        .bearer_auth(k8s_token(cluster))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, json(resp).await)
}

async fn range(
    sandbox: &RunningSandbox,
    http: &reqwest::Client,
    cluster: &str,
    query: &str,
    start: i64,
    end: i64,
    step: &str,
) -> Value {
    let params = [
        ("query", query.to_string()),
        ("start", start.to_string()),
        ("end", end.to_string()),
        ("step", step.to_string()),
    ];
    let (status, body) = get(sandbox, http, cluster, "query_range", &params).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"]["resultType"], "matrix");
    body
}

async fn instant(
    sandbox: &RunningSandbox,
    http: &reqwest::Client,
    cluster: &str,
    query: &str,
) -> Vec<Value> {
    let params = [("query", query.to_string()), ("time", T0.to_string())];
    let (status, body) = get(sandbox, http, cluster, "query", &params).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["resultType"], "vector");
    body["data"]["result"].as_array().unwrap().clone()
}

fn labels(series: &Value) -> BTreeSet<String> {
    series["metric"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn value(sample: &Value) -> f64 {
    sample[1].as_str().unwrap().parse().unwrap()
}

fn by_service(result: &[Value]) -> BTreeMap<String, f64> {
    result
        .iter()
        .map(|s| {
            assert_eq!(labels(s), BTreeSet::from(["service".to_string()]));
            (
                s["metric"]["service"].as_str().unwrap().to_string(),
                value(&s["value"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn bucket_increases_are_cumulative_in_le_per_service_and_step() {
    let (sandbox, http) = start(World::default());
    let cluster = checkout_cluster(&sandbox);
    let body = range(&sandbox, &http, &cluster, BUCKETS, T0, T0 + 600, "60").await;
    let result = body["data"]["result"].as_array().unwrap();
    let want_le = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    // service -> le -> values per step
    let mut per: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for s in result {
        assert_eq!(
            labels(s),
            BTreeSet::from(["le".to_string(), "service".to_string()])
        );
        let values = s["values"].as_array().unwrap();
        assert_eq!(values.len(), 11, "start..=end every 60 s");
        assert_eq!(values[0][0], T0);
        assert_eq!(values[10][0], T0 + 600);
        per.entry(s["metric"]["service"].as_str().unwrap().into())
            .or_default()
            .insert(
                s["metric"]["le"].as_str().unwrap().into(),
                values.iter().map(value).collect(),
            );
    }
    assert!(per.contains_key(CHECKOUT_SERVICE), "{:?}", per.keys());
    assert!(per.len() >= 5, "{:?}", per.keys());
    for (service, buckets) in &per {
        let les: BTreeSet<&str> = buckets.keys().map(String::as_str).collect();
        assert_eq!(les, want_le.iter().copied().collect(), "{service}");
        let columns = (0..11).map(|step| {
            (
                step,
                want_le
                    .iter()
                    .map(|le| buckets[*le][step])
                    .collect::<Vec<f64>>(),
            )
        });
        for (step, column) in columns {
            assert!(
                column.windows(2).all(|w| w[0] <= w[1]),
                "{service} step {step}: {column:?}"
            );
            assert!(column[11] > 0.0, "{service}: some traffic");
            // A plausible latency: not everything under 5 ms, some under 10 s.
            assert!(column[0] < column[11] && column[10] > 0.0, "{column:?}");
        }
    }

    // Selectors narrow the series.
    let q = r#"sum by (service, le) (increase(http_request_duration_seconds_bucket{service="checkout"}[1m]))"#;
    let body = range(&sandbox, &http, &cluster, q, T0, T0 + 600, "60").await;
    let result = body["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 12);
    assert!(result
        .iter()
        .all(|s| s["metric"]["service"] == CHECKOUT_SERVICE));
}

#[tokio::test]
async fn request_and_error_rates_are_vectors_by_service() {
    let (sandbox, http) = start(World::default());
    let cluster = checkout_cluster(&sandbox);
    let requests = by_service(&instant(&sandbox, &http, &cluster, REQUESTS).await);
    let errors = by_service(&instant(&sandbox, &http, &cluster, ERRORS).await);
    assert!(requests.contains_key(CHECKOUT_SERVICE));
    assert_eq!(
        requests.keys().collect::<Vec<_>>(),
        errors.keys().collect::<Vec<_>>()
    );
    for (service, rps) in &requests {
        let e = errors[service];
        assert!(
            *rps > 0.0 && e > 0.0 && e < rps * 0.05,
            "{service}: {e} of {rps}"
        );
    }
}

#[tokio::test]
async fn node_cpu_and_memory_are_by_node() {
    let (sandbox, http) = start(World::default());
    let cluster = sandbox.world().read().clusters[0].id.clone();
    let cpu = instant(&sandbox, &http, &cluster, NODE_CPU).await;
    assert!(!cpu.is_empty());
    for s in &cpu {
        assert_eq!(labels(s), BTreeSet::from(["node".to_string()]));
        assert!(value(&s["value"]) > 0.0);
    }
    let node_value = |result: &[Value]| -> BTreeMap<String, f64> {
        result
            .iter()
            .map(|s| {
                (
                    s["metric"]["node"].as_str().unwrap().to_string(),
                    value(&s["value"]),
                )
            })
            .collect()
    };
    let avail = instant(&sandbox, &http, &cluster, "node_memory_MemAvailable_bytes").await;
    assert_eq!(
        avail[0]["metric"]["__name__"],
        "node_memory_MemAvailable_bytes"
    );
    assert!(labels(&avail[0]).contains("node"));
    let total = instant(
        &sandbox,
        &http,
        &cluster,
        "sum by (node) (node_memory_MemTotal_bytes)",
    )
    .await;
    assert_eq!(labels(&total[0]), BTreeSet::from(["node".to_string()]));
    let (avail, total) = (node_value(&avail), node_value(&total));
    assert_eq!(
        avail.keys().collect::<Vec<_>>(),
        total.keys().collect::<Vec<_>>()
    );
    assert_eq!(cpu.len(), total.len(), "one CPU series per node: {cpu:?}");
    for (node, a) in &avail {
        assert!(
            *a > 0.0 && *a < total[node],
            "{node}: {a} of {}",
            total[node]
        );
    }
}

#[tokio::test]
async fn post_form_equals_get_and_results_are_deterministic_per_seed() {
    let (a, http) = start(World::generate(7));
    let (b, _) = start(World::generate(7));
    let (c, _) = start(World::generate(8));
    let cluster = a.world().read().clusters[0].id.clone();
    let got = range(&a, &http, &cluster, REQUESTS, T0, T0 + 3600, "5m").await;
    assert_eq!(
        got["data"]["result"][0]["values"].as_array().unwrap().len(),
        13
    );
    assert_eq!(
        got,
        range(&b, &http, &cluster, REQUESTS, T0, T0 + 3600, "5m").await
    );
    let other = c.world().read().clusters[0].id.clone();
    assert_ne!(
        got,
        range(&c, &http, &other, REQUESTS, T0, T0 + 3600, "5m").await
    );

    let resp = http
        .post(format!(
            "{}/prom/{cluster}/api/v1/query_range",
            a.base_url()
        ))
        .bearer_auth(k8s_token(&cluster))
        .form(&[
            ("query", REQUESTS.to_string()),
            ("start", "2025-06-01T00:00:00Z".to_string()),
            ("end", (T0 + 3600).to_string()),
            ("step", "300".to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json::<Value>(resp).await, got);
}

async fn assert_error(
    sandbox: &RunningSandbox,
    http: &reqwest::Client,
    cluster: &str,
    api: &str,
    params: &[(&str, String)],
    status: u16,
    kind: &str,
) -> String {
    let (got, body) = get(sandbox, http, cluster, api, params).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["status"], "error");
    assert_eq!(body["errorType"], kind, "{body}");
    body["error"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn bad_queries_steps_clusters_and_tokens_are_refused() {
    let (sandbox, http) = start(World::default());
    let cluster = sandbox.world().read().clusters[0].id.clone();
    let s = &sandbox;
    let message = assert_error(
        s,
        &http,
        &cluster,
        "query",
        &[("query", "up".into())],
        400,
        "bad_data",
    )
    .await;
    assert!(message.contains("\"up\""), "{message}");
    let ranged = |step: &str, end: i64| {
        vec![
            ("query", REQUESTS.to_string()),
            ("start", T0.to_string()),
            ("end", end.to_string()),
            ("step", step.to_string()),
        ]
    };
    for (step, end) in [
        ("0", T0 + 60),
        ("-15", T0 + 60),
        ("1", T0 + 11_001),
        ("soon", T0),
    ] {
        assert_error(
            s,
            &http,
            &cluster,
            "query_range",
            &ranged(step, end),
            400,
            "bad_data",
        )
        .await;
    }
    assert_error(
        s,
        &http,
        &cluster,
        "query_range",
        &ranged("60", T0 - 60),
        400,
        "bad_data",
    )
    .await;
    // Exactly 11,000 steps is still allowed.
    let body = range(s, &http, &cluster, NODE_CPU, T0, T0 + 11_000, "1").await;
    assert_eq!(
        body["data"]["result"][0]["values"]
            .as_array()
            .unwrap()
            .len(),
        11_001
    );

    assert_error(
        s,
        &http,
        "no-such-cluster",
        "query",
        &[("query", REQUESTS.into())],
        404,
        "not_found",
    )
    .await;

    let url = format!(
        "{}/prom/{cluster}/api/v1/query?query=up",
        sandbox.base_url()
    );
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http
        .get(&url)
        .bearer_auth("sandbox-k8s-other")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = json(resp).await;
    assert_eq!(body["status"], "error");
}
