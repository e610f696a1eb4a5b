//! Small helpers shared by the provider modules.

use std::collections::HashMap;

use axum::{
    extract::{rejection::QueryRejection, Query},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

/// The query string as a map; one that does not decode reads as empty, so
/// that each provider answers with its own error shape, not axum's text.
pub(crate) type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

pub(crate) fn query(q: QueryMap) -> HashMap<String, String> {
    q.map(|Query(m)| m).unwrap_or_default()
}

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    (status, Json(body)).into_response()
}

/// Pages `items` as `[offset, offset + size)`, and says whether more follow.
pub(crate) fn page<T: Clone>(items: &[T], offset: usize, size: usize) -> (Vec<T>, bool) {
    let start = offset.min(items.len());
    let end = start.saturating_add(size).min(items.len());
    (items[start..end].to_vec(), end < items.len())
}

/// A placeholder CA bundle, base64 of a PEM: the per-cluster Kubernetes API
/// (a later slice) brings real certificates.
pub(crate) fn placeholder_ca_b64(cluster_id: &str) -> String {
    use base64::Engine as _;
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\nY2xvdWRvcHMtc2FuZGJveA== {cluster_id}\n-----END CERTIFICATE-----\n"
    );
    base64::engine::general_purpose::STANDARD.encode(pem)
}
