//! A loopback HTTP server that answers from a closure and records every
//! request (method, path and query, body), so a test can serve the official
//! example payloads and then check exactly what a provider sent.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{HeaderName, HeaderValue, StatusCode},
    response::Response,
    Router,
};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    pub authorization: Option<String>,
    pub body: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(body: impl ToString) -> Self {
        Reply {
            status: StatusCode::OK,
            headers: vec![],
            body: body.to_string(),
        }
    }

    pub fn status(status: u16, body: impl ToString) -> Self {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: vec![],
            body: body.to_string(),
        }
    }
}

type Handler = dyn Fn(&Recorded, &str) -> Reply + Send + Sync;

pub struct FixtureServer {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl FixtureServer {
    /// `handler(request, base_url)` decides the reply.
    pub async fn start(handler: impl Fn(&Recorded, &str) -> Reply + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let (rec, base) = (requests.clone(), base_url.clone());
        let app = Router::new().fallback(move |req: Request| {
            let (rec, base, handler) = (rec.clone(), base.clone(), handler.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
                let recorded = Recorded {
                    method: parts.method.to_string(),
                    uri: parts.uri.to_string(),
                    authorization: parts
                        .headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                    body: String::from_utf8_lossy(&body).into_owned(),
                };
                rec.lock().unwrap().push(recorded.clone());
                let reply = handler(&recorded, &base);
                let mut resp = Response::new(Body::from(reply.body));
                *resp.status_mut() = reply.status;
                resp.headers_mut()
                    .insert("content-type", HeaderValue::from_static("application/json"));
                for (k, v) in reply.headers {
                    resp.headers_mut().insert(
                        HeaderName::from_static(k),
                        HeaderValue::from_str(&v).unwrap(),
                    );
                }
                resp
            }
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        FixtureServer {
            base_url,
            requests,
            _stop: tx,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}
