//! The agent's own HTTP API, independent of every sink: `GET /health`
//! (200 while no component has failed or is degraded, else 503, with every
//! component's state as JSON), `GET /ready` (200 once every component has
//! started and every source is connected) and `GET /metrics` (the agent's own
//! metrics in the Prometheus text format).

use std::net::SocketAddr;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{Encoder, TextEncoder};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::health::health;
use super::metrics::metrics;

/// A bound API listener.
#[derive(Debug)]
pub struct Api {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Api {
    /// Bind `listen`.
    ///
    /// # Errors
    /// When the address is taken or not allowed.
    pub async fn bind(listen: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        Ok(Self { listener, addr })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve until `stop` is cancelled.
    pub fn spawn(self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let app = Router::new()
            .route("/health", get(serve_health))
            .route("/ready", get(serve_ready))
            .route("/metrics", get(serve_metrics));
        tokio::spawn(async move {
            let served = axum::serve(self.listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
            if let Err(error) = served {
                tracing::error!("the agent API stopped: {error}");
            }
        })
    }
}

/// 200 or 503 as `ok` says, with every component's state.
fn json(ok: bool) -> Response {
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "unavailable" },
        "components": health().snapshot(),
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `/health`: 200 while no component failed or is degraded, 503 otherwise;
/// the prometheus sink serves the same answer.
pub(crate) async fn serve_health() -> Response {
    json(health().is_healthy())
}

async fn serve_ready() -> Response {
    json(health().is_ready())
}

async fn serve_metrics() -> Response {
    let encoder = TextEncoder::new();
    let mut body = Vec::new();
    match encoder.encode(&metrics().registry.gather(), &mut body) {
        Ok(()) => (
            [(header::CONTENT_TYPE, encoder.format_type().to_owned())],
            body,
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
