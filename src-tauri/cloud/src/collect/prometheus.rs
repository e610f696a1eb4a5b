//! A client for the Prometheus HTTP API (`/api/v1/query_range`), reached
//! either at a URL (Prometheus itself, or Thanos, Mimir, VictoriaMetrics:
//! anything that speaks the same API, including under a path prefix) or
//! through the cluster's API-server service proxy
//! (`/api/v1/namespaces/{ns}/services/{svc}:{port}/proxy/…`, BRIEF §5), so
//! that a Prometheus without an Ingress is still reachable with the
//! credentials we already hold for the cluster.
//!
//! We ask for per-step *increases* and compute quantiles ourselves
//! (`cloudops_core::analysis::quantile`), so that the same buckets feed the
//! quantile lines and the heatmap (BRIEF §5, §9 A2).
//!
//! What bad replies become (issue 5, "bad input"):
//! - an error document (`{"status":"error","errorType":…}`) → [`PromError::Query`]
//!   with Prometheus' own type and message;
//! - a non-JSON or non-Prometheus reply (a proxy's HTML page, a Kubernetes
//!   `Status`) → [`PromError::Http`] / [`PromError::Decode`];
//! - `NaN`, `+Inf` and `-Inf` sample values are kept as they are in
//!   [`RangeSeries`]; in [`HistogramSteps`] every non-finite or missing
//!   bucket value is `NaN`, which the analysis treats as "no data";
//! - non-monotonic buckets are passed through unchanged: the quantile code
//!   applies Prometheus' own monotonicity fix;
//! - an empty result is `Ok(vec![])`: the caller says "no data";
//! - a reply larger than the body limit (64 MiB by default) is cut off and
//!   reported as [`PromError::TooLarge`], and a range with more than
//!   11,000 points per series is refused before it is sent (Prometheus
//!   would refuse it too).

use std::collections::BTreeMap;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use cloudops_core::metrics::HistogramSteps;
use http_body_util::BodyExt;
use serde::Deserialize;
use url::Url;

/// Prometheus' own limit on points per series of a range query.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;
/// The largest reply body read.
pub const DEFAULT_MAX_BODY: usize = 64 << 20;
/// Per attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The bucket label of classic histograms.
pub const LE: &str = "le";

#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("Prometheus endpoint {endpoint}: {detail}")]
    Config { endpoint: String, detail: String },
    #[error("invalid query for Prometheus at {endpoint}: {detail}")]
    BadRequest { endpoint: String, detail: String },
    #[error("Prometheus at {endpoint} did not answer within {after:?}")]
    Timeout { endpoint: String, after: Duration },
    #[error("cannot reach Prometheus at {endpoint}: {detail}")]
    Unreachable { endpoint: String, detail: String },
    /// Prometheus answered with its error document.
    #[error("Prometheus at {endpoint} refused the query ({error_type}, HTTP {status}): {message}")]
    Query {
        endpoint: String,
        status: u16,
        error_type: String,
        message: String,
    },
    /// Something else answered, or Prometheus answered without its error
    /// document (a proxy error, a Kubernetes `Status`).
    #[error("Prometheus at {endpoint} answered HTTP {status}: {message}")]
    Http {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("the reply from Prometheus at {endpoint} is larger than {limit} bytes")]
    TooLarge { endpoint: String, limit: usize },
    #[error("unexpected reply from Prometheus at {endpoint}: {detail}")]
    Decode { endpoint: String, detail: String },
}

impl PromError {
    /// A stable kind for JSON output and the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            PromError::Config { .. } => "prometheus_config",
            PromError::BadRequest { .. } => "prometheus_bad_request",
            PromError::Timeout { .. } => "prometheus_timeout",
            PromError::Unreachable { .. } => "prometheus_unreachable",
            PromError::Query { .. } => "prometheus_query",
            PromError::Http { .. } => "prometheus_http",
            PromError::TooLarge { .. } => "prometheus_too_large",
            PromError::Decode { .. } => "prometheus_decode",
        }
    }

    /// What to try.
    pub fn hint(&self) -> String {
        match self {
            PromError::Config { .. } => {
                "Give the Prometheus base URL with http:// or https://, e.g. \
                 http://127.0.0.1:9090 (a path prefix such as /prometheus is fine)."
                    .to_owned()
            }
            PromError::BadRequest { .. } => "Check the metric name, the selector (`{label=\"value\"}`) \
                 and the range: the end must be after the start and the step at least 1 s."
                .to_owned(),
            PromError::Timeout { .. } => {
                "Query a shorter range or a larger step, or check that Prometheus is not overloaded."
                    .to_owned()
            }
            PromError::Unreachable { .. } => {
                "Check the URL and that Prometheus is running and reachable from this machine; \
                 for a cluster, check the Prometheus service setting of the cluster."
                    .to_owned()
            }
            PromError::Query { error_type, .. } if error_type == "bad_data" => {
                "Prometheus could not parse or run the query: check the metric name and the \
                 selector."
                    .to_owned()
            }
            PromError::Query { .. } => {
                "Prometheus failed to evaluate the query: try a shorter range or a larger step."
                    .to_owned()
            }
            PromError::Http { status: 404, .. } => {
                "Nothing answers the Prometheus API there: check the URL's path prefix, or the \
                 namespace, service and port of the cluster's Prometheus."
                    .to_owned()
            }
            PromError::Http { status: 401 | 403, .. } => {
                "The credentials were refused: for a cluster, the account needs permission to \
                 use the services/proxy subresource; for a URL, check its token."
                    .to_owned()
            }
            PromError::Http { .. } => {
                "Check that the endpoint is a Prometheus-compatible API (Prometheus, Thanos, \
                 Mimir, VictoriaMetrics)."
                    .to_owned()
            }
            PromError::TooLarge { .. } => {
                "Narrow the query: a shorter range, a larger step, or a more selective selector."
                    .to_owned()
            }
            PromError::Decode { .. } => {
                "The endpoint does not look like a Prometheus-compatible API; check the URL."
                    .to_owned()
            }
        }
    }

    /// Worth another attempt: the server or the network may recover.
    fn is_transient(&self) -> bool {
        match self {
            PromError::Timeout { .. } | PromError::Unreachable { .. } => true,
            PromError::Http { status, .. } | PromError::Query { status, .. } => {
                *status == 429 || *status == 502 || *status == 503 || *status == 504
            }
            _ => false,
        }
    }
}

/// The labels a histogram was summed by (without `le`), and its steps.
pub type HistogramGroup = (BTreeMap<String, String>, HistogramSteps);

/// One series of a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    pub labels: BTreeMap<String, String>,
    /// `(unix seconds, value)`; values may be `NaN` or infinite, as
    /// Prometheus sent them.
    pub points: Vec<(i64, f64)>,
}

#[derive(Clone)]
enum Transport {
    Http {
        base: Url,
        http: reqwest::Client,
        bearer: Option<String>,
    },
    ServiceProxy {
        kube: kube::Client,
        /// `/api/v1/namespaces/{ns}/services/{svc}:{port}/proxy`
        prefix: String,
    },
}

/// A Prometheus-compatible query API.
#[derive(Clone)]
pub struct PrometheusClient {
    transport: Transport,
    /// What error messages call it (never holds a credential).
    endpoint: String,
    timeout: Duration,
    max_body: usize,
    retries: usize,
}

impl std::fmt::Debug for PrometheusClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl PrometheusClient {
    /// Prometheus (or a compatible API) at `base`, e.g.
    /// `http://127.0.0.1:9090` or `https://mimir.example/prometheus`.
    pub fn url(base: &str, http: reqwest::Client) -> Result<PrometheusClient, PromError> {
        let config = |detail: String| PromError::Config {
            endpoint: base.to_owned(),
            detail,
        };
        let url = Url::parse(base.trim()).map_err(|e| config(format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(config(
                "needs an http:// or https:// URL with a host".into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            // Credentials in a URL end up in logs and error messages.
            return Err(config(
                "remove the user name and password from the URL; use a bearer token instead".into(),
            ));
        }
        let endpoint = url.as_str().trim_end_matches('/').to_owned();
        Ok(PrometheusClient {
            transport: Transport::Http {
                base: url,
                http,
                bearer: None,
            },
            endpoint,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            retries: 2,
        })
    }

    /// Prometheus behind the cluster's API server: `port` is a number or a
    /// port name, as in `kubectl get --raw`.
    pub fn service_proxy(
        kube: kube::Client,
        namespace: &str,
        service: &str,
        port: &str,
    ) -> PrometheusClient {
        let prefix = format!("/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy");
        PrometheusClient {
            endpoint: format!("service {namespace}/{service}:{port} (API-server proxy)"),
            transport: Transport::ServiceProxy { kube, prefix },
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            retries: 2,
        }
    }

    /// Sends `Authorization: Bearer …` on every call (URL transport only;
    /// the proxy uses the cluster's own credentials).
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> PrometheusClient {
        if let Transport::Http { bearer, .. } = &mut self.transport {
            *bearer = Some(token.into());
        }
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> PrometheusClient {
        self.timeout = timeout;
        self
    }

    pub fn with_max_body(mut self, bytes: usize) -> PrometheusClient {
        self.max_body = bytes;
        self
    }

    pub fn with_retries(mut self, retries: usize) -> PrometheusClient {
        self.retries = retries;
        self
    }

    /// How messages name this endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `query` evaluated at `start, start + step, …, end` (unix seconds).
    pub async fn query_range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step_secs: i64,
    ) -> Result<Vec<RangeSeries>, PromError> {
        self.check_range(start, end, step_secs)?;
        let form = [
            ("query", query.to_owned()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", step_secs.to_string()),
        ];
        let body = form_encode(&form);
        let reply = (|| self.post("/api/v1/query_range", body.clone()))
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(2))
                    .with_max_times(self.retries)
                    .with_jitter(),
            )
            .sleep(tokio::time::sleep)
            .when(PromError::is_transient)
            .await?;
        self.decode_matrix(&reply)
    }

    /// `sum by (<by>) (increase(<metric><selector>[<step>s]))` per step: how
    /// much a counter grew in each step, summed per group.
    pub async fn counter_increases(
        &self,
        metric: &str,
        selector: &str,
        by: &[&str],
        start: i64,
        end: i64,
        step_secs: i64,
    ) -> Result<Vec<RangeSeries>, PromError> {
        let query = increase_query(&self.endpoint, metric, selector, by, step_secs)?;
        self.query_range(&query, start, end, step_secs).await
    }

    /// The per-step increases of a classic histogram's buckets, summed by
    /// `by` and `le`, one [`HistogramSteps`] per group of `by` labels.
    /// `metric` is the `_bucket` series name.
    pub async fn histogram_increases(
        &self,
        metric: &str,
        selector: &str,
        by: &[&str],
        start: i64,
        end: i64,
        step_secs: i64,
    ) -> Result<Vec<HistogramGroup>, PromError> {
        let mut by_le: Vec<&str> = by.iter().copied().filter(|l| *l != LE).collect();
        by_le.push(LE);
        let query = increase_query(&self.endpoint, metric, selector, &by_le, step_secs)?;
        let series = self.query_range(&query, start, end, step_secs).await?;
        histogram_steps(&self.endpoint, series)
    }

    fn check_range(&self, start: i64, end: i64, step: i64) -> Result<(), PromError> {
        let bad = |detail: String| PromError::BadRequest {
            endpoint: self.endpoint.clone(),
            detail,
        };
        if step < 1 {
            return Err(bad(format!("the step must be at least 1 s (got {step})")));
        }
        if end < start {
            return Err(bad(format!(
                "the end ({end}) is before the start ({start})"
            )));
        }
        let points = (end - start) / step + 1;
        if points > MAX_POINTS_PER_SERIES {
            return Err(bad(format!(
                "{points} points per series; Prometheus allows at most \
                 {MAX_POINTS_PER_SERIES}: use a step of at least {} s for this range",
                (end - start) / (MAX_POINTS_PER_SERIES - 1) + 1
            )));
        }
        Ok(())
    }

    /// One attempt: the reply's status and its body, read up to the limit.
    async fn post(&self, path: &str, form: String) -> Result<(u16, Vec<u8>), PromError> {
        let attempt = async {
            match &self.transport {
                Transport::Http { base, http, bearer } => {
                    let url = crate::rest::join(base, path);
                    let mut req = http
                        .post(url)
                        .header(
                            http::header::CONTENT_TYPE,
                            "application/x-www-form-urlencoded",
                        )
                        .header(http::header::ACCEPT, "application/json")
                        .body(form);
                    if let Some(token) = bearer {
                        req = req.bearer_auth(token);
                    }
                    let mut resp = req.send().await.map_err(|e| self.transport_error(&e))?;
                    let status = resp.status().as_u16();
                    let mut body = Vec::new();
                    while let Some(chunk) =
                        resp.chunk().await.map_err(|e| self.transport_error(&e))?
                    {
                        self.append(&mut body, &chunk)?;
                    }
                    Ok((status, body))
                }
                Transport::ServiceProxy { kube, prefix } => {
                    let req = http::Request::post(format!("{prefix}{path}"))
                        .header(
                            http::header::CONTENT_TYPE,
                            "application/x-www-form-urlencoded",
                        )
                        .header(http::header::ACCEPT, "application/json")
                        .body(kube::client::Body::from(form.into_bytes()))
                        .map_err(|e| PromError::BadRequest {
                            endpoint: self.endpoint.clone(),
                            detail: e.to_string(),
                        })?;
                    let resp = kube.send(req).await.map_err(|e| PromError::Unreachable {
                        endpoint: self.endpoint.clone(),
                        detail: e.to_string(),
                    })?;
                    let status = resp.status().as_u16();
                    let mut stream = resp.into_body();
                    let mut body = Vec::new();
                    while let Some(frame) = stream.frame().await {
                        let frame = frame.map_err(|e| PromError::Unreachable {
                            endpoint: self.endpoint.clone(),
                            detail: e.to_string(),
                        })?;
                        if let Some(chunk) = frame.data_ref() {
                            self.append(&mut body, chunk)?;
                        }
                    }
                    Ok((status, body))
                }
            }
        };
        let (status, body) =
            tokio::time::timeout(self.timeout, attempt)
                .await
                .map_err(|_| PromError::Timeout {
                    endpoint: self.endpoint.clone(),
                    after: self.timeout,
                })??;
        if (200..300).contains(&status) {
            return Ok((status, body));
        }
        Err(self.error_reply(status, &body))
    }

    fn append(&self, body: &mut Vec<u8>, chunk: &[u8]) -> Result<(), PromError> {
        if body.len() + chunk.len() > self.max_body {
            return Err(PromError::TooLarge {
                endpoint: self.endpoint.clone(),
                limit: self.max_body,
            });
        }
        body.extend_from_slice(chunk);
        Ok(())
    }

    fn transport_error(&self, e: &reqwest::Error) -> PromError {
        if e.is_timeout() {
            PromError::Timeout {
                endpoint: self.endpoint.clone(),
                after: self.timeout,
            }
        } else {
            // The chain carries the useful part ("connection refused").
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                detail = format!("{detail}: {s}");
                source = s.source();
            }
            PromError::Unreachable {
                endpoint: self.endpoint.clone(),
                detail,
            }
        }
    }

    /// A non-2xx reply: Prometheus' error document, a Kubernetes `Status`
    /// (the proxy could not reach the service), or anything else.
    fn error_reply(&self, status: u16, body: &[u8]) -> PromError {
        #[derive(Deserialize)]
        struct Reply {
            status: Option<String>,
            #[serde(rename = "errorType")]
            error_type: Option<String>,
            error: Option<String>,
            // Kubernetes `Status`.
            kind: Option<String>,
            message: Option<String>,
        }
        if let Ok(r) = serde_json::from_slice::<Reply>(body) {
            if r.status.as_deref() == Some("error") {
                return PromError::Query {
                    endpoint: self.endpoint.clone(),
                    status,
                    error_type: r.error_type.unwrap_or_else(|| "unknown".into()),
                    message: r.error.unwrap_or_default(),
                };
            }
            if r.kind.as_deref() == Some("Status") {
                return PromError::Http {
                    endpoint: self.endpoint.clone(),
                    status,
                    message: r.message.unwrap_or_default(),
                };
            }
        }
        PromError::Http {
            endpoint: self.endpoint.clone(),
            status,
            message: snippet(body),
        }
    }

    fn decode_matrix(
        &self,
        (status, body): &(u16, Vec<u8>),
    ) -> Result<Vec<RangeSeries>, PromError> {
        let decode = |detail: String| PromError::Decode {
            endpoint: self.endpoint.clone(),
            detail,
        };
        let reply: QueryReply = serde_json::from_slice(body).map_err(|e| {
            decode(format!(
                "not a Prometheus API reply ({e}); it starts with: {}",
                snippet(body)
            ))
        })?;
        if reply.status != "success" {
            return Err(PromError::Query {
                endpoint: self.endpoint.clone(),
                status: *status,
                error_type: reply.error_type.unwrap_or_else(|| "unknown".into()),
                message: reply.error.unwrap_or_default(),
            });
        }
        for w in reply.warnings.iter().flatten() {
            tracing::warn!(endpoint = %self.endpoint, warning = %w, "Prometheus warning");
        }
        let data = reply
            .data
            .ok_or_else(|| decode("a success reply without `data`".into()))?;
        if data.result_type != "matrix" {
            return Err(decode(format!(
                "expected a matrix, got a {}",
                data.result_type
            )));
        }
        let mut out = Vec::with_capacity(data.result.len());
        for s in data.result {
            let mut points = Vec::with_capacity(s.values.len());
            for (ts, raw) in s.values {
                if !ts.is_finite() {
                    return Err(decode(format!("a sample time of {ts}")));
                }
                let value = parse_value(&raw)
                    .ok_or_else(|| decode(format!("the sample value {raw:?} is not a number")))?;
                points.push((ts.round() as i64, value));
            }
            out.push(RangeSeries {
                labels: s.metric,
                points,
            });
        }
        Ok(out)
    }
}

#[derive(Deserialize)]
struct QueryReply {
    status: String,
    data: Option<QueryData>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    warnings: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct QueryData {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: Vec<MatrixSeries>,
}

#[derive(Deserialize)]
struct MatrixSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Prometheus prints values as strings, with `NaN`, `+Inf` and `-Inf`.
fn parse_value(raw: &str) -> Option<f64> {
    match raw {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        s => s.parse::<f64>().ok(),
    }
}

/// A bucket bound as Prometheus prints it (`0.005`, `1e+06`, `+Inf`).
pub fn parse_le(raw: &str) -> Option<f64> {
    parse_value(raw).filter(|v| !v.is_nan())
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".to_owned()
    } else {
        text.to_owned()
    }
}

fn form_encode(pairs: &[(&str, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `sum by (<by>) (increase(<metric>{…}[<step>s]))`. The selector is the
/// user's own PromQL matcher list, with or without braces; it is checked
/// for balance only, since Prometheus reports its own parse errors.
pub fn increase_query(
    endpoint: &str,
    metric: &str,
    selector: &str,
    by: &[&str],
    step_secs: i64,
) -> Result<String, PromError> {
    let bad = |detail: String| PromError::BadRequest {
        endpoint: endpoint.to_owned(),
        detail,
    };
    if !is_metric_name(metric) {
        return Err(bad(format!("{metric:?} is not a Prometheus metric name")));
    }
    if let Some(label) = by.iter().find(|l| !is_label_name(l)) {
        return Err(bad(format!("{label:?} is not a label name")));
    }
    let selector = selector.trim();
    let matchers = if selector.is_empty() {
        String::new()
    } else if selector.starts_with('{') && selector.ends_with('}') {
        selector.to_owned()
    } else if selector.contains(['{', '}']) {
        return Err(bad(format!(
            "the selector {selector:?} must be a matcher list like {{job=\"api\"}}"
        )));
    } else {
        format!("{{{selector}}}")
    };
    let inner = format!("increase({metric}{matchers}[{step_secs}s])");
    Ok(if by.is_empty() {
        format!("sum({inner})")
    } else {
        format!("sum by ({}) ({inner})", by.join(", "))
    })
}

/// Groups bucket series (labels incl. `le`) into one [`HistogramSteps`] per
/// group of the other labels. Buckets with the same bound are summed (as
/// Prometheus' `histogram_quantile` coalesces them); a bucket with no
/// point at a step, or a non-finite one, is `NaN` there.
pub fn histogram_steps(
    endpoint: &str,
    series: Vec<RangeSeries>,
) -> Result<Vec<HistogramGroup>, PromError> {
    struct Group {
        buckets: BTreeMap<u64, (f64, BTreeMap<i64, f64>)>,
    }
    // f64 bounds as sortable keys: every bound is a finite number or +Inf,
    // all >= -Inf; total_cmp order via the bit trick below.
    fn key(le: f64) -> u64 {
        let bits = le.to_bits();
        if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        }
    }
    let mut groups: BTreeMap<BTreeMap<String, String>, Group> = BTreeMap::new();
    for mut s in series {
        let Some(raw) = s.labels.remove(LE) else {
            return Err(PromError::Decode {
                endpoint: endpoint.to_owned(),
                detail: format!("a histogram series without an `le` label: {:?}", s.labels),
            });
        };
        let le = parse_le(&raw).ok_or_else(|| PromError::Decode {
            endpoint: endpoint.to_owned(),
            detail: format!("the bucket bound le={raw:?} is not a number"),
        })?;
        let group = groups.entry(s.labels).or_insert_with(|| Group {
            buckets: BTreeMap::new(),
        });
        let bucket = group
            .buckets
            .entry(key(le))
            .or_insert_with(|| (le, BTreeMap::new()));
        for (ts, v) in s.points {
            let v = if v.is_finite() { v } else { f64::NAN };
            *bucket.1.entry(ts).or_insert(0.0) += v;
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (labels, group) in groups {
        let mut times: Vec<i64> = group
            .buckets
            .values()
            .flat_map(|(_, points)| points.keys().copied())
            .collect();
        times.sort_unstable();
        times.dedup();
        let le: Vec<f64> = group.buckets.values().map(|(le, _)| *le).collect();
        let counts = times
            .iter()
            .map(|t| {
                group
                    .buckets
                    .values()
                    .map(|(_, points)| points.get(t).copied().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        out.push((labels, HistogramSteps { times, le, counts }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(labels: &[(&str, &str)], points: &[(i64, f64)]) -> RangeSeries {
        RangeSeries {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn increase_queries_are_built_and_checked() {
        assert_eq!(
            increase_query("p", "rq_bucket", "", &["service", "le"], 60).unwrap(),
            "sum by (service, le) (increase(rq_bucket[60s]))"
        );
        assert_eq!(
            increase_query("p", "rq_total", "code=~\"5..\"", &[], 30).unwrap(),
            "sum(increase(rq_total{code=~\"5..\"}[30s]))"
        );
        assert_eq!(
            increase_query("p", "rq_total", " {job=\"a\"} ", &["service"], 5).unwrap(),
            "sum by (service) (increase(rq_total{job=\"a\"}[5s]))"
        );
        for (metric, selector, by) in [
            ("9bad", "", vec![]),
            ("rq; drop", "", vec![]),
            ("ok", "{job=\"a\"", vec![]),
            ("ok", "", vec!["le-x"]),
        ] {
            let e = increase_query("p", metric, selector, &by, 60).unwrap_err();
            assert_eq!(
                e.kind(),
                "prometheus_bad_request",
                "{metric} {selector} {by:?}"
            );
        }
    }

    #[test]
    fn values_parse_like_prometheus_prints_them() {
        assert_eq!(parse_value("1.5"), Some(1.5));
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("1e+06"), Some(1e6));
        assert_eq!(parse_value("x"), None);
        assert_eq!(parse_le("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_le("NaN"), None);
    }

    #[test]
    fn bucket_series_group_into_sorted_histograms_with_gaps_as_nan() {
        let out = histogram_steps(
            "p",
            vec![
                series(
                    &[("service", "a"), ("le", "+Inf")],
                    &[(60, 10.0), (120, 12.0)],
                ),
                series(
                    &[("service", "a"), ("le", "0.5")],
                    &[(60, 7.0), (120, f64::INFINITY)],
                ),
                series(&[("service", "a"), ("le", "0.1")], &[(60, 2.0)]),
                // "0.10" is the same bound as "0.1": summed, as Prometheus does.
                series(&[("service", "a"), ("le", "0.10")], &[(60, 1.0)]),
                series(&[("service", "b"), ("le", "+Inf")], &[(60, 3.0)]),
            ],
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        let (labels, a) = &out[0];
        assert_eq!(labels.get("service").map(String::as_str), Some("a"));
        assert_eq!(a.times, vec![60, 120]);
        assert_eq!(a.le, vec![0.1, 0.5, f64::INFINITY]);
        assert_eq!(a.counts[0], vec![3.0, 7.0, 10.0]);
        assert!(a.counts[1][0].is_nan(), "no point at 120 for le=0.1");
        assert!(a.counts[1][1].is_nan(), "+Inf value becomes NaN");
        assert_eq!(a.counts[1][2], 12.0);
        assert_eq!(out[1].1.le, vec![f64::INFINITY]);
    }

    #[test]
    fn bucket_series_without_le_or_with_a_bad_le_are_decode_errors() {
        let e = histogram_steps("p", vec![series(&[("service", "a")], &[(1, 1.0)])]).unwrap_err();
        assert_eq!(e.kind(), "prometheus_decode");
        let e = histogram_steps("p", vec![series(&[("le", "fast")], &[(1, 1.0)])]).unwrap_err();
        assert!(e.to_string().contains("fast"), "{e}");
    }

    #[test]
    fn urls_must_be_http_without_credentials() {
        let http = reqwest::Client::new();
        assert!(PrometheusClient::url("http://127.0.0.1:9090", http.clone()).is_ok());
        assert!(PrometheusClient::url("https://mimir.example/prometheus/", http.clone()).is_ok());
        for bad in [
            "127.0.0.1:9090",
            "ftp://x",
            "http://user:pw@host",
            "not a url",
        ] {
            let e = PrometheusClient::url(bad, http.clone()).unwrap_err();
            assert_eq!(e.kind(), "prometheus_config", "{bad}");
        }
    }
}
