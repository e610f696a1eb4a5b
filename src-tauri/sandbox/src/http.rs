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

/// Runs `next` unless a percent-escape in the path decodes to invalid UTF-8
/// (`/clusters/%FF`); then answers `reject()`, the provider's own 400, since
/// axum's `Path` extractor would otherwise reply in plain text.
pub(crate) async fn decodable_path(
    req: axum::extract::Request,
    next: axum::middleware::Next,
    reject: fn() -> Response,
) -> Response {
    if path_decodes(req.uri().path()) {
        next.run(req).await
    } else {
        reject()
    }
}

/// Whether `path`, percent-decoded as axum does, is UTF-8. A `%` not
/// followed by two hex digits stays literal (as `percent-encoding` leaves it).
fn path_decodes(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                // Two hex digits: at most 0xFF, so the cast is lossless.
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&out).is_ok()
}

#[cfg(test)]
mod tests {
    use super::path_decodes;

    #[test]
    fn percent_decoding_checks_utf8() {
        assert!(path_decodes("/v2/kubernetes/clusters/abc"));
        assert!(path_decodes("/clusters/caf%C3%A9"));
        assert!(path_decodes("/clusters/100%"));
        assert!(path_decodes("/clusters/%zz"));
        assert!(!path_decodes("/clusters/%FF"));
        assert!(!path_decodes("/clusters/%C3"));
    }
}
