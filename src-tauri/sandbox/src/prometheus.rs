//! A Prometheus HTTP API per sandbox cluster (BRIEF §5, §6), under
//! `/prom/{cluster_id}`: `/api/v1/query` and `/api/v1/query_range`, by GET
//! with query parameters or POST form-encoded, in Prometheus' JSON shapes.
//!
//! It is not a PromQL engine: a small matcher recognises the query shapes the
//! collectors issue, and anything else is a 400 `bad_data` naming the query:
//!
//! - `sum by (service, le) (increase(http_request_duration_seconds_bucket[W]))`
//!   (or `rate`), with optional `namespace` / `service` matchers;
//! - `sum by (service) (rate(http_requests_total[W]))`, and the same with
//!   `{code=~"5.."}` for the error rate (or `increase`);
//! - `sum by (node) (rate(node_cpu_seconds_total{mode!="idle"}[W]))`;
//! - `node_memory_MemAvailable_bytes` / `node_memory_MemTotal_bytes`, bare or
//!   under `sum by (node) (…)`, with an optional `node` matcher.
//!
//! `sum(…) by (…)` is accepted as well, and whitespace is free.
//!
//! The values come from a deterministic traffic model: the services are the
//! cluster's deployments, each with a base request rate, a latency median
//! and spread, and an error fraction seeded from the cluster's seed (the
//! world seed and the cluster id). The request counter is the integral of
//! `base × (1 + A·sin(ωt + φ))`, a diurnal sine, so increases over any window
//! are exact and consistent between steps. Latencies are log-normal, with the
//! median rising with load, so bucket counts are cumulative in `le` and
//! `histogram_quantile` gives plausible quantiles. A deployment under a
//! `bad_rollout` fault fails [`BAD_ROLLOUT_ERROR_FRACTION`] of its requests
//! and is [`BAD_ROLLOUT_LATENCY_FACTOR`] times slower (a median of at least
//! [`BAD_ROLLOUT_MEDIAN_FLOOR`] s) from the moment its
//! rollout started (exactly, also inside a step that straddles it), until
//! the fault is cleared. Nodes' CPU follows its own
//! diurnal counter over the node's capacity, and memory a slow sine.

use std::{
    collections::BTreeMap,
    f64::consts::{SQRT_2, TAU},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    body::to_bytes,
    extract::{rejection::PathRejection, Path, Request, State},
    http::{header, Method, StatusCode},
    response::Response,
    routing::get,
    Router,
};
use serde_json::{json, Value};

use crate::{http::json as reply, kube::auth::authorize, AppState};

/// The bucket bounds of `http_request_duration_seconds_bucket` (client
/// libraries' defaults), `+Inf` last.
pub const BUCKETS: [f64; 12] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];
/// Prometheus' limit on points per series of a range query.
const MAX_POINTS: i64 = 11_000;
/// The largest form body read.
const MAX_BODY: usize = 1 << 20;
/// One day, in radians per second.
const OMEGA: f64 = TAU / 86_400.0;
/// The diurnal amplitude of request rates and node CPU.
const DIURNAL: f64 = 0.35;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/{cluster}/api/v1/query", get(instant).post(instant))
        .route("/{cluster}/api/v1/query_range", get(range).post(range))
        .fallback(|| async { not_found_path() })
}

/// Prometheus' answer to a path it does not serve.
pub(crate) fn not_found_path() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such Prometheus API path".into(),
    )
}

fn error(status: StatusCode, kind: &str, message: String) -> Response {
    reply(
        status,
        &json!({"status": "error", "errorType": kind, "error": message}),
    )
}

fn bad_data(message: String) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_data", message)
}

async fn instant(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    serve(app, path, req, false)
        .await
        .unwrap_or_else(|resp| resp)
}

async fn range(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    serve(app, path, req, true)
        .await
        .unwrap_or_else(|resp| resp)
}

async fn serve(
    app: AppState,
    path: Result<Path<String>, PathRejection>,
    req: Request,
    is_range: bool,
) -> Result<Response, Response> {
    let Ok(Path(cluster_id)) = path else {
        return Err(cluster_not_found(""));
    };
    Ok(serve_cluster(app, &cluster_id, req, is_range).await)
}

fn cluster_not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no sandbox cluster with id {id:?}"),
    )
}

/// One query (`is_range`: `query_range`) against a cluster's Prometheus;
/// also what the API server's service proxy forwards to (kube/mod.rs).
pub(crate) async fn serve_cluster(
    app: AppState,
    cluster_id: &str,
    req: Request,
    is_range: bool,
) -> Response {
    evaluate(app, cluster_id, req, is_range)
        .await
        .unwrap_or_else(|resp| resp)
}

async fn evaluate(
    app: AppState,
    cluster_id: &str,
    req: Request,
    is_range: bool,
) -> Result<Response, Response> {
    let not_found = cluster_not_found;
    let cluster = app
        .world
        .read()
        .cluster(cluster_id)
        .cloned()
        .ok_or_else(|| not_found(cluster_id))?;
    authorize(&cluster, req.headers()).map_err(|_| {
        error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a bearer token for this cluster is required".into(),
        )
    })?;
    let params = params(req).await?;
    let query = params
        .get("query")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| bad_data("invalid parameter \"query\": unknown position: parse error: no expression found in input".into()))?;
    let shape = parse(query).ok_or_else(|| {
        bad_data(format!(
            "invalid parameter \"query\": the sandbox's Prometheus does not support the query {query:?}"
        ))
    })?;
    let ck = app
        .world
        .kube_cluster(cluster_id)
        .ok_or_else(|| not_found(cluster_id))?;
    let model = Model::of(&ck);
    if is_range {
        let start = time_param(&params, "start")?;
        let end = time_param(&params, "end")?;
        let step = step_param(&params)?;
        if end < start {
            return Err(bad_data(
                "invalid parameter \"end\": end timestamp must not be before start time".into(),
            ));
        }
        if (end - start) / step > MAX_POINTS {
            return Err(bad_data("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into()));
        }
        let mut series: BTreeMap<Labels, Vec<Value>> = BTreeMap::new();
        let mut t = start;
        while t <= end {
            for (labels, v) in model.eval(&shape, t as f64 / 1000.0) {
                series.entry(labels).or_default().push(sample(t, v));
            }
            t += step;
        }
        let result: Vec<Value> = series
            .into_iter()
            .map(|(metric, values)| json!({"metric": metric, "values": values}))
            .collect();
        Ok(success("matrix", result))
    } else {
        let t = match params.get("time") {
            Some(_) => time_param(&params, "time")?,
            None => now_ms(),
        };
        let mut result = model.eval(&shape, t as f64 / 1000.0);
        result.sort_by(|a, b| a.0.cmp(&b.0));
        let result: Vec<Value> = result
            .into_iter()
            .map(|(metric, v)| json!({"metric": metric, "value": sample(t, v)}))
            .collect();
        Ok(success("vector", result))
    }
}

fn success(kind: &str, result: Vec<Value>) -> Response {
    reply(
        StatusCode::OK,
        &json!({"status": "success", "data": {"resultType": kind, "result": result}}),
    )
}

/// `[<unix seconds>, "<value>"]`, as Prometheus writes them.
fn sample(ms: i64, v: f64) -> Value {
    let t = if ms % 1000 == 0 {
        Value::from(ms / 1000)
    } else {
        Value::from(ms as f64 / 1000.0)
    };
    json!([t, format_value(v)])
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

// ---------------------------------------------------------------- parameters

type Params = BTreeMap<String, String>;

/// The URL's parameters and, for a form-encoded POST, the body's; like Go's
/// `Request.FormValue`, a body value wins over the URL's.
async fn params(req: Request) -> Result<Params, Response> {
    let mut out = Params::new();
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let post = req.method() == Method::POST;
    if let Some(q) = req.uri().query() {
        decode_form(q, &mut out)?;
    }
    if post && form {
        let body = to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|e| bad_data(format!("error reading the form body: {e}")))?;
        let body = std::str::from_utf8(&body)
            .map_err(|_| bad_data("the form body is not UTF-8".into()))?;
        let mut from_body = Params::new();
        decode_form(body, &mut from_body)?;
        out.extend(from_body);
    }
    Ok(out)
}

/// `application/x-www-form-urlencoded`: the first value of a key wins.
fn decode_form(s: &str, out: &mut Params) -> Result<(), Response> {
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k)?, percent_decode(v)?);
        out.entry(k).or_insert(v);
    }
    Ok(())
}

fn percent_decode(s: &str) -> Result<String, Response> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits: at most 0xFF.
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => return Err(bad_data(format!("invalid URL escape in {s:?}"))),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad_data(format!("{s:?} does not decode to UTF-8")))
}

/// A timestamp parameter, in milliseconds: unix seconds (`1700000000.5`) or
/// RFC 3339 (`2025-06-01T00:00:00Z`), as Prometheus accepts.
fn time_param(params: &Params, name: &str) -> Result<i64, Response> {
    let raw = params.get(name).map(String::as_str).unwrap_or("");
    parse_time(raw).ok_or_else(|| {
        bad_data(format!(
            "invalid parameter \"{name}\": cannot parse {raw:?} to a valid timestamp"
        ))
    })
}

fn parse_time(s: &str) -> Option<i64> {
    if let Ok(f) = s.parse::<f64>() {
        return seconds_to_ms(f);
    }
    parse_rfc3339(s)
}

fn seconds_to_ms(f: f64) -> Option<i64> {
    // Prometheus' own bounds are wider; ±10^13 s is far beyond any use.
    (f.is_finite() && f.abs() < 1e13).then(|| (f * 1000.0).round() as i64)
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` to unix milliseconds.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut frac_ms = 0;
    if let Some(f) = rest.strip_prefix('.') {
        let digits = f.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded: String = f[..digits].chars().chain("000".chars()).take(3).collect();
        frac_ms = padded.parse().ok()?;
        rest = &f[digits..];
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = rest.get(1..)?.split_once(':')?;
            if oh.len() != 2 || om.len() != 2 {
                return None;
            }
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    // Days from civil (Howard Hinnant).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    Some(secs * 1000 + frac_ms)
}

/// `step`: seconds (`15`, `0.5`) or a duration (`15s`, `1m`), positive.
fn step_param(params: &Params) -> Result<i64, Response> {
    let raw = params.get("step").map(String::as_str).unwrap_or("");
    let ms = raw
        .parse::<f64>()
        .ok()
        .and_then(seconds_to_ms)
        .or_else(|| parse_duration_ms(raw))
        .ok_or_else(|| {
            bad_data(format!(
                "invalid parameter \"step\": cannot parse {raw:?} to a valid duration"
            ))
        })?;
    if ms <= 0 {
        return Err(bad_data("zero or negative query resolution step widths are not accepted. Try a positive integer".into()));
    }
    Ok(ms)
}

/// A Prometheus duration (`5m`, `1h30m`, `250ms`), in milliseconds.
fn parse_duration_ms(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = [
            ("ms", 1, 2),
            ("s", 1000, 1),
            ("m", 60_000, 1),
            ("h", 3_600_000, 1),
            ("d", 86_400_000, 1),
            ("w", 604_800_000, 1),
            ("y", 31_536_000_000, 1),
        ]
        .iter()
        .find(|(u, _, _)| rest.starts_with(u))
        .map(|&(_, mult, len)| (mult, len))?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        rest = &rest[len..];
    }
    Some(total)
}

// --------------------------------------------------------------- the matcher

/// A label matcher on one of the labels a shape allows: `=` or `!=`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter {
    label: String,
    equal: bool,
    value: String,
}

impl Filter {
    fn keeps(filters: &[Filter], label: &str, value: &str) -> bool {
        filters
            .iter()
            .filter(|f| f.label == label)
            .all(|f| (f.value == value) == f.equal)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Rate,
    Increase,
}

#[derive(Debug, Clone, PartialEq)]
enum Shape {
    /// `sum by (service, le) (increase(http_request_duration_seconds_bucket[w]))`
    Buckets {
        func: Func,
        window: f64,
        filters: Vec<Filter>,
    },
    /// `sum by (service) (rate(http_requests_total[w]))`, `errors` with
    /// `code=~"5.."`.
    Requests {
        func: Func,
        window: f64,
        errors: bool,
        filters: Vec<Filter>,
    },
    /// `sum by (node) (rate(node_cpu_seconds_total{mode!="idle"}[w]))`
    NodeCpu {
        func: Func,
        window: f64,
        filters: Vec<Filter>,
    },
    /// `node_memory_MemAvailable_bytes` / `…MemTotal_bytes`, `summed` under
    /// `sum by (node)`.
    NodeMemory {
        total: bool,
        summed: bool,
        filters: Vec<Filter>,
    },
}

/// A parsed `sum by (…) (func(metric{…}[w]))` (each part optional).
struct Expr {
    by: Option<Vec<String>>,
    func: Option<Func>,
    metric: String,
    matchers: Vec<Matcher>,
    window: Option<f64>,
}

fn parse(query: &str) -> Option<Shape> {
    let e = parse_expr(&compact(query)?)?;
    let by: Option<Vec<&str>> =
        e.by.as_ref()
            .map(|b| b.iter().map(String::as_str).collect());
    match (e.metric.as_str(), by.as_deref(), e.func, e.window) {
        ("http_request_duration_seconds_bucket", Some(["le", "service"]), Some(func), Some(w)) => {
            Some(Shape::Buckets {
                func,
                window: w,
                filters: filters(&e.matchers, &["namespace", "service"])?,
            })
        }
        ("http_requests_total", Some(["service"]), Some(func), Some(w)) => {
            let is_errors = |(l, op, v): &Matcher| {
                l == "code" && op == "=~" && matches!(v.as_str(), "5.." | "5.*" | "5xx|5..")
            };
            let errors = e.matchers.iter().filter(|m| is_errors(m)).count();
            if errors > 1 {
                return None;
            }
            let rest: Vec<_> = e
                .matchers
                .iter()
                .filter(|m| !is_errors(m))
                .cloned()
                .collect();
            let filters = filters(&rest, &["namespace", "service"])?;
            Some(Shape::Requests {
                func,
                window: w,
                errors: errors == 1,
                filters,
            })
        }
        ("node_cpu_seconds_total", Some(["node"]), Some(func), Some(w)) => {
            let idle = |(l, op, v): &Matcher| l == "mode" && op == "!=" && v == "idle";
            if e.matchers.iter().filter(|m| idle(m)).count() != 1 {
                return None;
            }
            let rest: Vec<_> = e.matchers.iter().filter(|m| !idle(m)).cloned().collect();
            let filters = filters(&rest, &["node"])?;
            Some(Shape::NodeCpu {
                func,
                window: w,
                filters,
            })
        }
        (
            m @ ("node_memory_MemAvailable_bytes" | "node_memory_MemTotal_bytes"),
            None | Some(["node"]),
            None,
            None,
        ) => Some(Shape::NodeMemory {
            total: m == "node_memory_MemTotal_bytes",
            summed: by.is_some(),
            filters: filters(&e.matchers, &["node"])?,
        }),
        _ => None,
    }
}

type Matcher = (String, String, String);

/// The `=` / `!=` matchers on `allowed` labels; `None` if any is else.
fn filters(matchers: &[Matcher], allowed: &[&str]) -> Option<Vec<Filter>> {
    matchers
        .iter()
        .map(|(label, op, value)| {
            let equal = match op.as_str() {
                "=" => true,
                "!=" => false,
                _ => return None,
            };
            allowed.contains(&label.as_str()).then(|| Filter {
                label: label.clone(),
                equal,
                value: value.clone(),
            })
        })
        .collect()
}

/// The query without whitespace outside string literals; `None` for an
/// unterminated string.
fn compact(q: &str) -> Option<String> {
    let mut out = String::with_capacity(q.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in q.chars() {
        match quote {
            Some(open) => {
                out.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == open {
                    quote = None;
                }
            }
            None if c.is_whitespace() => {}
            None => {
                if matches!(c, '"' | '\'') {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    quote.is_none().then_some(out)
}

/// The index of the `)` closing the `(` at `open`, skipping strings.
fn closing(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `label,label` → sorted, deduplicated names.
fn label_list(s: &str) -> Option<Vec<String>> {
    let mut labels: Vec<String> = s
        .split(',')
        .filter(|l| !l.is_empty())
        .map(|l| is_name(l).then(|| l.to_string()))
        .collect::<Option<_>>()?;
    labels.sort();
    labels.dedup();
    Some(labels)
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_expr(s: &str) -> Option<Expr> {
    // `sum by (…) (inner)` or `sum (inner) by (…)`.
    let (by, inner) = if let Some(rest) = s.strip_prefix("sumby(") {
        let close = rest.find(')')?;
        let by = label_list(&rest[..close])?;
        let body = &rest[close + 1..];
        if !body.starts_with('(') || closing(body, 0)? != body.len() - 1 {
            return None;
        }
        (Some(by), &body[1..body.len() - 1])
    } else if s.starts_with("sum(") {
        let body = &s[3..];
        let close = closing(body, 0)?;
        let after = body[close + 1..].strip_prefix("by(")?.strip_suffix(')')?;
        (Some(label_list(after)?), &body[1..close])
    } else {
        (None, s)
    };
    let (func, arg) = [("rate(", Func::Rate), ("increase(", Func::Increase)]
        .iter()
        .find_map(|(prefix, f)| {
            let rest = inner.strip_prefix(prefix)?;
            let open = prefix.len() - 1;
            (closing(inner, open)? == inner.len() - 1).then(|| (Some(*f), &rest[..rest.len() - 1]))
        })
        .unwrap_or((None, inner));
    let (selector, window) = match func {
        Some(_) => {
            let sel = arg.strip_suffix(']')?;
            let open = sel.rfind('[')?;
            let ms = parse_duration_ms(&sel[open + 1..]).filter(|ms| *ms > 0)?;
            (&sel[..open], Some(ms as f64 / 1000.0))
        }
        None => (arg, None),
    };
    let (metric, matchers) = match selector.find('{') {
        Some(open) => {
            let body = selector[open..].strip_prefix('{')?.strip_suffix('}')?;
            (&selector[..open], parse_matchers(body)?)
        }
        None => (selector, Vec::new()),
    };
    if !is_name(metric) {
        return None;
    }
    Some(Expr {
        by,
        func,
        metric: metric.to_string(),
        matchers,
        window,
    })
}

/// `label="v",label!~'v',` → (label, op, value).
fn parse_matchers(mut s: &str) -> Option<Vec<Matcher>> {
    let mut out = Vec::new();
    while !s.is_empty() {
        let name_len = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        let label = &s[..name_len];
        if !is_name(label) {
            return None;
        }
        s = &s[name_len..];
        let op = ["=~", "!~", "!=", "="]
            .into_iter()
            .find(|op| s.starts_with(op))?;
        s = &s[op.len()..];
        let quote = s.chars().next().filter(|c| matches!(c, '"' | '\''))?;
        let mut value = String::new();
        let mut end = None;
        let mut escaped = false;
        for (i, c) in s.char_indices().skip(1) {
            if escaped {
                value.push(match c {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == quote {
                end = Some(i);
                break;
            } else {
                value.push(c);
            }
        }
        s = &s[end? + 1..];
        out.push((label.to_string(), op.to_string(), value));
        match s.strip_prefix(',') {
            Some(rest) => s = rest,
            None if s.is_empty() => {}
            None => return None,
        }
    }
    Some(out)
}

// ---------------------------------------------------------- the traffic model

type Labels = BTreeMap<String, String>;

/// One service (deployment) of the cluster.
#[derive(Debug, Clone)]
struct Service {
    namespace: String,
    name: String,
    /// Requests per second at the daily mean.
    base_rps: f64,
    phase: f64,
    /// Latency median (seconds) at the daily mean, and the log-normal σ.
    median: f64,
    sigma: f64,
    error_fraction: f64,
    /// While a `bad_rollout` fault is in force on the deployment: when its
    /// rollout started (unix seconds). From then on the new pods crash, so
    /// [`BAD_ROLLOUT_ERROR_FRACTION`] of the requests fail and the median
    /// latency is [`BAD_ROLLOUT_LATENCY_FACTOR`] times higher (retries and
    /// the surviving pods' queues).
    bad_since: Option<f64>,
}

/// The error fraction of a service under a bad rollout.
pub const BAD_ROLLOUT_ERROR_FRACTION: f64 = 0.3;
/// How much slower a service under a bad rollout is (its median latency)...
pub const BAD_ROLLOUT_LATENCY_FACTOR: f64 = 8.0;
/// ...and at least this slow (seconds): requests that hit a crashing pod
/// wait for a retry, whatever the service's usual speed.
pub const BAD_ROLLOUT_MEDIAN_FLOOR: f64 = 0.8;

#[derive(Debug, Clone)]
struct NodeModel {
    name: String,
    cores: f64,
    memory: f64,
    phase: f64,
    cpu_mean: f64,
    memory_mean: f64,
}

struct Model {
    services: Vec<Service>,
    nodes: Vec<NodeModel>,
}

/// FNV-1a over the parts, each terminated.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `[0, 1)` from the hash of `parts` and a salt.
fn unit(parts: &[&[u8]], salt: &str) -> f64 {
    let mut all: Vec<&[u8]> = parts.to_vec();
    all.push(salt.as_bytes());
    (fnv(&all) >> 11) as f64 / (1u64 << 53) as f64
}

/// A Kubernetes quantity (`4`, `1500m`, `16Gi`, `16777216Ki`) in base units.
fn quantity(q: &str) -> Option<f64> {
    let split = q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len());
    let (n, suffix) = q.split_at(split);
    let mult = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    n.parse::<f64>().ok().map(|n| n * mult)
}

impl Model {
    fn of(ck: &crate::kube::ClusterKube) -> Model {
        let seed = ck.seed.to_le_bytes();
        let store = ck.lock();
        let mut services: Vec<Service> = store
            .deployments
            .values()
            .map(|d| {
                let namespace = d.metadata.namespace.clone().unwrap_or_default();
                let name = d.metadata.name.clone().unwrap_or_default();
                let key: [&[u8]; 3] = [&seed, namespace.as_bytes(), name.as_bytes()];
                let u = |salt| unit(&key, salt);
                // The chaos annotation on the pod template says when the bad
                // rollout started: `{unix}-{resourceVersion}` (kube/faults.rs).
                let bad_since = store
                    .bad_rollouts
                    .contains(&(namespace.clone(), name.clone()))
                    .then(|| {
                        d.spec
                            .template
                            .metadata
                            .as_ref()
                            .and_then(|m| m.annotations.as_ref())
                            .and_then(|a| a.get(crate::kube::CHAOS_ROLLOUT_ANNOTATION))
                            .and_then(|v| v.split('-').next())
                            .and_then(|t| t.parse::<f64>().ok())
                    })
                    .flatten();
                Service {
                    bad_since,
                    base_rps: 5.0 + 195.0 * u("rps").powi(2),
                    phase: u("phase") * TAU,
                    median: 0.015 * (1.0 + 19.0 * u("median").powi(2)),
                    sigma: 0.45 + 0.5 * u("sigma"),
                    error_fraction: 0.001 + 0.019 * u("errors").powi(2),
                    namespace,
                    name,
                }
            })
            .collect();
        services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let mut nodes: Vec<NodeModel> = store
            .nodes
            .values()
            .map(|n| {
                let name = n.metadata.name.clone().unwrap_or_default();
                let capacity = n.status.as_ref().and_then(|s| s.capacity.as_ref());
                let cap = |k: &str| capacity.and_then(|c| c.get(k)).and_then(|q| quantity(&q.0));
                let key: [&[u8]; 2] = [&seed, name.as_bytes()];
                let u = |salt| unit(&key, salt);
                NodeModel {
                    cores: cap("cpu").unwrap_or(2.0),
                    memory: cap("memory").unwrap_or(8.0 * 1024.0 * 1024.0 * 1024.0),
                    phase: u("phase") * TAU,
                    cpu_mean: 0.15 + 0.4 * u("cpu"),
                    memory_mean: 0.3 + 0.35 * u("memory"),
                    name,
                }
            })
            .collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        Model { services, nodes }
    }

    /// The query's samples at `t` (unix seconds).
    fn eval(&self, shape: &Shape, t: f64) -> Vec<(Labels, f64)> {
        let mut sums: BTreeMap<Labels, f64> = BTreeMap::new();
        let mut add = |labels: &[(&str, &str)], v: f64| {
            let key: Labels = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            *sums.entry(key).or_default() += v;
        };
        let keep_service = |s: &Service, filters: &[Filter]| {
            Filter::keeps(filters, "namespace", &s.namespace)
                && Filter::keeps(filters, "service", &s.name)
        };
        match shape {
            Shape::Buckets {
                func,
                window,
                filters,
            } => {
                for s in self.services.iter().filter(|s| keep_service(s, filters)) {
                    // The window's requests before and after a bad rollout
                    // started, each with its own latency distribution.
                    let (healthy, bad) = s.split(t - window, t);
                    let (healthy, bad) = (per(*func, healthy, *window), per(*func, bad, *window));
                    let median = s.median_at(t);
                    let share_at = |le: f64, median: f64| {
                        if le.is_infinite() {
                            1.0
                        } else {
                            normal_cdf((le.ln() - median.ln()) / s.sigma)
                        }
                    };
                    let mut cumulative = 0.0_f64;
                    for le in BUCKETS {
                        let count = healthy * share_at(le, median)
                            + bad
                                * share_at(
                                    le,
                                    (median * BAD_ROLLOUT_LATENCY_FACTOR)
                                        .max(BAD_ROLLOUT_MEDIAN_FLOOR),
                                );
                        // Never below the bucket before it, whatever rounding does.
                        cumulative = cumulative.max(count);
                        add(&[("service", &s.name), ("le", &le_label(le))], cumulative);
                    }
                }
            }
            Shape::Requests {
                func,
                window,
                errors,
                filters,
            } => {
                for s in self.services.iter().filter(|s| keep_service(s, filters)) {
                    let v = if *errors {
                        per(*func, s.errors(t) - s.errors(t - window), *window)
                    } else {
                        per(*func, s.requests(t) - s.requests(t - window), *window)
                    };
                    add(&[("service", &s.name)], v);
                }
            }
            Shape::NodeCpu {
                func,
                window,
                filters,
            } => {
                for n in self
                    .nodes
                    .iter()
                    .filter(|n| Filter::keeps(filters, "node", &n.name))
                {
                    let busy = n.busy_seconds(t) - n.busy_seconds(t - window);
                    add(&[("node", &n.name)], per(*func, busy, *window));
                }
            }
            Shape::NodeMemory {
                total,
                summed,
                filters,
            } => {
                for n in self
                    .nodes
                    .iter()
                    .filter(|n| Filter::keeps(filters, "node", &n.name))
                {
                    let (name, v) = if *total {
                        ("node_memory_MemTotal_bytes", n.memory)
                    } else {
                        ("node_memory_MemAvailable_bytes", n.available(t))
                    };
                    if *summed {
                        add(&[("node", &n.name)], v);
                    } else {
                        let instance = format!("{}:9100", n.name);
                        add(
                            &[
                                ("__name__", name),
                                ("instance", &instance),
                                ("job", "node-exporter"),
                                ("node", &n.name),
                            ],
                            v,
                        );
                    }
                }
            }
        }
        sums.into_iter().collect()
    }
}

fn per(func: Func, increase: f64, window: f64) -> f64 {
    match func {
        Func::Increase => increase,
        Func::Rate => increase / window,
    }
}

/// `le` as client libraries write it: `0.005`, `1`, `+Inf`.
fn le_label(le: f64) -> String {
    format_value(le)
}

impl Service {
    /// The request counter at `t`: the integral of
    /// `base × (1 + A·sin(ωt + φ))`, so it only ever grows.
    fn requests(&self, t: f64) -> f64 {
        self.base_rps * (t - DIURNAL / OMEGA * (OMEGA * t + self.phase).cos())
    }

    /// The failed-request counter at `t`: the service's own fraction of the
    /// requests, and [`BAD_ROLLOUT_ERROR_FRACTION`] of those since a bad
    /// rollout started.
    fn errors(&self, t: f64) -> f64 {
        let (healthy, bad) = self.split(0.0, t);
        healthy * self.error_fraction + bad * BAD_ROLLOUT_ERROR_FRACTION
    }

    /// The requests in `(from, to]`, split into those before a bad rollout
    /// started and those after (all healthy without one).
    fn split(&self, from: f64, to: f64) -> (f64, f64) {
        let total = self.requests(to) - self.requests(from);
        match self.bad_since {
            Some(since) if since < to => {
                let bad = self.requests(to) - self.requests(since.max(from));
                (total - bad, bad)
            }
            _ => (total, 0.0),
        }
    }

    /// The latency median at `t`: it rises with the load.
    fn median_at(&self, t: f64) -> f64 {
        let load = 1.0 + DIURNAL * (OMEGA * t + self.phase).sin();
        self.median * (1.0 + 0.5 * (load - 1.0))
    }
}

impl NodeModel {
    /// Non-idle CPU seconds at `t`, summed over the node's cores.
    fn busy_seconds(&self, t: f64) -> f64 {
        let a = 0.3;
        self.cores * self.cpu_mean * (t - a / OMEGA * (OMEGA * t + self.phase).cos())
    }

    fn available(&self, t: f64) -> f64 {
        let used = self.memory_mean * (1.0 + 0.1 * (OMEGA * t + self.phase * 2.0).sin());
        (self.memory * (1.0 - used)).round()
    }
}

/// Φ(x), through erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = x / SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    let erf = if z < 0.0 { -erf } else { erf };
    (0.5 * (1.0 + erf)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matcher_accepts_our_shapes_and_nothing_else() {
        let b = parse("sum by (service, le) (increase(http_request_duration_seconds_bucket[5m]))");
        assert!(
            matches!(b, Some(Shape::Buckets { func: Func::Increase, window, .. }) if window == 300.0)
        );
        let b = parse(
            r#"sum(increase(http_request_duration_seconds_bucket{namespace="shop", service="checkout"}[1m])) by (le,service)"#,
        );
        assert!(matches!(b, Some(Shape::Buckets { ref filters, .. }) if filters.len() == 2));
        assert!(matches!(
            parse(r#"sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))"#),
            Some(Shape::Requests { errors: true, .. })
        ));
        assert!(matches!(
            parse("sum by (service) (rate(http_requests_total[30s]))"),
            Some(Shape::Requests { errors: false, .. })
        ));
        assert!(matches!(
            parse(r#"sum by (node) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#),
            Some(Shape::NodeCpu { .. })
        ));
        assert!(matches!(
            parse("node_memory_MemTotal_bytes"),
            Some(Shape::NodeMemory {
                total: true,
                summed: false,
                ..
            })
        ));
        assert!(matches!(
            parse("sum by (node) (node_memory_MemAvailable_bytes)"),
            Some(Shape::NodeMemory {
                total: false,
                summed: true,
                ..
            })
        ));
        for bad in [
            "up",
            "",
            "sum by (service) (increase(http_request_duration_seconds_bucket[5m]))",
            "sum by (service, le) (increase(http_request_duration_seconds_bucket))",
            "sum by (service, le) (increase(http_request_duration_seconds_bucket[0s]))",
            r#"sum by (service) (rate(http_requests_total{code="200"}[5m]))"#,
            "sum by (node) (rate(node_cpu_seconds_total[5m]))",
            r#"sum by (service) (rate(http_requests_total{service="a}[5m]))"#,
            "histogram_quantile(0.95, sum by (le) (rate(x[5m])))",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_and_durations_parse_like_prometheus() {
        assert_eq!(parse_time("1700000000.5"), Some(1_700_000_000_500));
        assert_eq!(parse_time("2025-06-01T00:00:00Z"), Some(1_748_736_000_000));
        assert_eq!(
            parse_time("2025-06-01T02:00:00.25+02:00"),
            Some(1_748_736_000_250)
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("250ms"), Some(250));
        assert_eq!(parse_duration_ms("5x"), None);
    }

    #[test]
    fn the_normal_cdf_is_monotone_and_bounded() {
        let mut last = 0.0;
        for i in -400..=400 {
            let v = normal_cdf(f64::from(i) / 50.0);
            assert!(v >= last && (0.0..=1.0).contains(&v));
            last = v;
        }
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn a_bad_rollout_raises_errors_and_latency_from_its_start_only() {
        let since = 1_700_000_000.0;
        let svc = |bad_since| Service {
            namespace: "shop".into(),
            name: "checkout".into(),
            base_rps: 50.0,
            phase: 1.0,
            median: 0.05,
            sigma: 0.5,
            error_fraction: 0.01,
            bad_since,
        };
        let model = |bad_since| Model {
            services: vec![svc(bad_since)],
            nodes: vec![],
        };
        let errors = Shape::Requests {
            func: Func::Increase,
            window: 60.0,
            errors: true,
            filters: vec![],
        };
        let requests = Shape::Requests {
            func: Func::Increase,
            window: 60.0,
            errors: false,
            filters: vec![],
        };
        let ratio = |m: &Model, t: f64| m.eval(&errors, t)[0].1 / m.eval(&requests, t)[0].1;
        let (healthy, bad) = (model(None), model(Some(since)));
        // Before the rollout the bad model is the healthy one.
        assert!((ratio(&bad, since - 60.0) - 0.01).abs() < 1e-6);
        assert!((ratio(&healthy, since + 600.0) - 0.01).abs() < 1e-6);
        // After it, 30 % fail; a step straddling it is in between.
        assert!((ratio(&bad, since + 600.0) - BAD_ROLLOUT_ERROR_FRACTION).abs() < 1e-6);
        let straddle = ratio(&bad, since + 30.0);
        assert!(straddle > 0.1 && straddle < 0.2, "{straddle}");
        // The request counts themselves do not change.
        assert_eq!(
            bad.eval(&requests, since + 600.0),
            healthy.eval(&requests, since + 600.0)
        );
        // Latency: the share under 250 ms falls after the rollout.
        let buckets = Shape::Buckets {
            func: Func::Increase,
            window: 60.0,
            filters: vec![],
        };
        let under = |m: &Model, t: f64| {
            let b = m.eval(&buckets, t);
            let at = |le: &str| b.iter().find(|(l, _)| l["le"] == le).unwrap().1;
            at("0.25") / at("+Inf")
        };
        assert!(under(&healthy, since + 600.0) > 0.95);
        assert!(
            under(&bad, since + 600.0) < 0.5,
            "{}",
            under(&bad, since + 600.0)
        );
    }
}
