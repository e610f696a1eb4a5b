//! The Prometheus client against bad replies (issue 5, "bad input"): each
//! gives a typed error with Prometheus' own words or a documented handling,
//! never a panic. And against the sandbox's Prometheus, by URL and through
//! the request shapes the collectors send.

use std::net::SocketAddr;
use std::time::Duration;

use cloudops_cloud::collect::prometheus::{PromError, PrometheusClient};
use cloudops_sandbox::{Sandbox, World};
use serde_json::json;

use crate::fixture_server::{FixtureServer, Reply};

fn matrix(result: serde_json::Value) -> Reply {
    Reply::json(json!({"status": "success", "data": {"resultType": "matrix", "result": result}}))
}

fn client(server: &FixtureServer) -> PrometheusClient {
    PrometheusClient::url(&server.base_url, reqwest::Client::new())
        .unwrap()
        .with_retries(0)
}

#[tokio::test]
async fn the_range_query_is_a_form_post_with_the_step_window() {
    let server = FixtureServer::start(|_, _| {
        matrix(json!([{"metric": {"service": "api", "le": "+Inf"}, "values": [[60, "4"], [120, "6"]]},
                      {"metric": {"service": "api", "le": "0.1"}, "values": [[60, "1"], [120, "5"]]}]))
    })
    .await;
    let c = client(&server).with_bearer_token("t0k");
    let out = c
        .histogram_increases("rq_bucket", "{job=\"x\"}", &["service"], 60, 120, 60)
        .await
        .unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.uri, "/api/v1/query_range");
    assert_eq!(req.authorization.as_deref(), Some("Bearer t0k"));
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body.as_bytes())
        .into_owned()
        .collect();
    assert!(form.contains(&(
        "query".into(),
        "sum by (service, le) (increase(rq_bucket{job=\"x\"}[60s]))".into()
    )));
    assert!(form.contains(&("step".into(), "60".into())));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.le, vec![0.1, f64::INFINITY]);
    assert_eq!(out[0].1.counts, vec![vec![1.0, 4.0], vec![5.0, 6.0]]);
}

#[tokio::test]
async fn an_error_document_keeps_prometheus_own_type_and_message() {
    let server = FixtureServer::start(|_, _| {
        Reply::status(
            400,
            json!({"status": "error", "errorType": "bad_data", "error": "1:10: parse error: unexpected \"}\""}),
        )
    })
    .await;
    let e = client(&server)
        .query_range("up}", 0, 60, 15)
        .await
        .unwrap_err();
    match &e {
        PromError::Query {
            status,
            error_type,
            message,
            ..
        } => {
            assert_eq!((*status, error_type.as_str()), (400, "bad_data"));
            assert!(message.contains("parse error"), "{message}");
        }
        other => panic!("expected a query error, got {other:?}"),
    }
    assert!(e.hint().contains("metric name"), "{}", e.hint());
}

#[tokio::test]
async fn nan_and_inf_values_are_kept_in_series_and_missing_in_histograms() {
    let server = FixtureServer::start(|_, _| {
        matrix(json!([{"metric": {"le": "+Inf"}, "values": [[0, "NaN"], [15, "+Inf"], [30, "-Inf"], [45, "2"]]}]))
    })
    .await;
    let c = client(&server);
    let series = c.query_range("x", 0, 45, 15).await.unwrap();
    let values: Vec<f64> = series[0].points.iter().map(|p| p.1).collect();
    assert!(values[0].is_nan());
    assert_eq!(values[1..], [f64::INFINITY, f64::NEG_INFINITY, 2.0]);
    let hist = c
        .histogram_increases("x_bucket", "", &[], 0, 45, 15)
        .await
        .unwrap();
    let counts: Vec<f64> = hist[0].1.counts.iter().map(|row| row[0]).collect();
    assert!(counts[..3].iter().all(|v| v.is_nan()), "{counts:?}");
    assert_eq!(counts[3], 2.0);
}

#[tokio::test]
async fn non_monotonic_buckets_pass_through_for_the_quantile_fix() {
    let server = FixtureServer::start(|_, _| {
        matrix(json!([{"metric": {"le": "0.1"}, "values": [[60, "5"]]},
                      {"metric": {"le": "0.5"}, "values": [[60, "3"]]},
                      {"metric": {"le": "+Inf"}, "values": [[60, "6"]]}]))
    })
    .await;
    let hist = client(&server)
        .histogram_increases("x_bucket", "", &[], 60, 60, 60)
        .await
        .unwrap();
    assert_eq!(hist[0].1.counts, vec![vec![5.0, 3.0, 6.0]]);
}

#[tokio::test]
async fn an_empty_result_is_no_data_not_an_error() {
    let server = FixtureServer::start(|_, _| matrix(json!([]))).await;
    let hist = client(&server)
        .histogram_increases("nothing_bucket", "", &["service"], 0, 600, 60)
        .await
        .unwrap();
    assert!(hist.is_empty());
}

#[tokio::test]
async fn a_huge_reply_is_cut_off_at_the_limit() {
    let big: Vec<serde_json::Value> = (0..5_000)
        .map(|i| json!({"metric": {"pod": format!("pod-{i}")}, "values": [[0, "1"], [60, "2"]]}))
        .collect();
    let server = FixtureServer::start(move |_, _| matrix(json!(big))).await;
    let e = client(&server)
        .with_max_body(64 << 10)
        .query_range("x", 0, 60, 60)
        .await
        .unwrap_err();
    assert!(
        matches!(e, PromError::TooLarge { limit, .. } if limit == 64 << 10),
        "{e:?}"
    );
    assert!(e.hint().contains("shorter range"));
}

#[tokio::test]
async fn ranges_prometheus_would_refuse_are_refused_before_sending() {
    let server = FixtureServer::start(|_, _| matrix(json!([]))).await;
    let c = client(&server);
    let e = c.query_range("x", 0, 7 * 86_400, 15).await.unwrap_err();
    assert_eq!(e.kind(), "prometheus_bad_request");
    assert!(e.to_string().contains("at least 55 s"), "{e}");
    assert_eq!(
        c.query_range("x", 100, 0, 15).await.unwrap_err().kind(),
        "prometheus_bad_request"
    );
    assert_eq!(
        c.query_range("x", 0, 100, 0).await.unwrap_err().kind(),
        "prometheus_bad_request"
    );
    assert!(server.requests().is_empty(), "nothing may be sent");
}

#[tokio::test]
async fn replies_that_are_not_prometheus_say_so() {
    let server = FixtureServer::start(|r, _| {
        if r.body.contains("html") {
            Reply::status(502, "<html>Bad Gateway</html>")
        } else if r.body.contains("vector") {
            Reply::json(json!({"status": "success", "data": {"resultType": "vector", "result": []}}))
        } else if r.body.contains("status") {
            Reply::status(
                404,
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "services \"prometheus\" not found", "code": 404}),
            )
        } else {
            Reply::json("{\"not\": \"prometheus\"")
        }
    })
    .await;
    let c = client(&server);
    let e = c.query_range("html", 0, 60, 60).await.unwrap_err();
    assert!(
        matches!(&e, PromError::Http { status: 502, message, .. } if message.contains("Bad Gateway")),
        "{e:?}"
    );
    let e = c.query_range("vector", 0, 60, 60).await.unwrap_err();
    assert!(e.to_string().contains("expected a matrix"), "{e}");
    let e = c.query_range("status", 0, 60, 60).await.unwrap_err();
    assert!(
        matches!(&e, PromError::Http { status: 404, message, .. } if message.contains("not found")),
        "{e:?}"
    );
    assert!(e.hint().contains("namespace, service and port"));
    let e = c.query_range("garbage", 0, 60, 60).await.unwrap_err();
    assert_eq!(e.kind(), "prometheus_decode");
}

#[tokio::test]
async fn unreachable_and_slow_endpoints_are_named() {
    // A port that was just free: nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = PrometheusClient::url(&format!("http://127.0.0.1:{port}"), reqwest::Client::new())
        .unwrap()
        .with_retries(0);
    let e = c.query_range("up", 0, 60, 60).await.unwrap_err();
    assert_eq!(e.kind(), "prometheus_unreachable");
    assert!(e.to_string().contains(&port.to_string()), "{e}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and never answers.
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let c = PrometheusClient::url(&format!("http://{addr}"), reqwest::Client::new())
        .unwrap()
        .with_retries(0)
        .with_timeout(Duration::from_millis(300));
    let e = c.query_range("up", 0, 60, 60).await.unwrap_err();
    assert_eq!(e.kind(), "prometheus_timeout", "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_prometheus_answers_the_collectors_queries() {
    let world = World::generate(7);
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let cluster = world.read().clusters[0].id.clone();
    let c = PrometheusClient::url(
        &format!("{}/prom/{cluster}", sandbox.base_url()),
        reqwest::Client::new(),
    )
    .unwrap()
    .with_bearer_token(format!("sandbox-k8s-{cluster}"));
    let end = 1_700_000_000 / 60 * 60;
    let hist = c
        .histogram_increases(
            "http_request_duration_seconds_bucket",
            "",
            &["service"],
            end - 3600,
            end,
            60,
        )
        .await
        .unwrap();
    assert!(
        !hist.is_empty(),
        "the sandbox serves a histogram per service"
    );
    for (labels, steps) in &hist {
        assert!(labels.contains_key("service"), "{labels:?}");
        assert_eq!(steps.times.len(), 61);
        assert_eq!(steps.le.last(), Some(&f64::INFINITY));
        for row in &steps.counts {
            assert!(
                row.windows(2).all(|w| w[0] <= w[1] + 1e-9),
                "cumulative: {row:?}"
            );
        }
    }
    let requests = c
        .counter_increases("http_requests_total", "", &["service"], end - 600, end, 60)
        .await
        .unwrap();
    assert_eq!(requests.len(), hist.len(), "one request series per service");
    let errors = c
        .counter_increases(
            "http_requests_total",
            "{code=~\"5..\"}",
            &["service"],
            end - 600,
            end,
            60,
        )
        .await
        .unwrap();
    for e in &errors {
        let total = requests.iter().find(|r| r.labels == e.labels).unwrap();
        for (p, q) in e.points.iter().zip(&total.points) {
            assert!(p.1 <= q.1, "errors {p:?} exceed requests {q:?}");
        }
    }
}
