//! The agent's own HTTP API, independent of every sink: `GET /health`
//! (200 while no component has failed or is degraded, else 503, with every
//! component's state as JSON), `GET /ready` (200 once every component has
//! started and every source is connected) and `GET /metrics` (the agent's own
//! metrics in the Prometheus text format), and the silences of the alert
//! stages: `GET /api/v1/silences`, `POST /api/v1/silences` (`{"matchers":
//! ["severity=\"critical\""], "duration": "2h", "comment": "…",
//! "createdBy": "…"}`, answered with `{"silenceID": "…"}`) and `DELETE
//! /api/v1/silences/{id}` (expires it).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use prometheus::{Encoder, TextEncoder};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::health::health;
use super::metrics::metrics;
use crate::event::now_nanos;
use crate::silences::{SilenceError, Silences};

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
    pub fn spawn(
        self,
        stop: CancellationToken,
        silences: Arc<Silences>,
    ) -> tokio::task::JoinHandle<()> {
        let app = Router::new()
            .route("/health", get(serve_health))
            .route("/ready", get(serve_ready))
            .route("/metrics", get(serve_metrics))
            .route("/api/v1/silences", get(list_silences).post(add_silence))
            .route("/api/v1/silences/{id}", delete(expire_silence))
            .with_state(silences);
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

/// The body of `POST /api/v1/silences`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewSilence {
    matchers: Vec<String>,
    /// How long, e.g. `2h`.
    duration: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    created_by: String,
}

fn answer(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn list_silences(State(silences): State<Arc<Silences>>) -> Response {
    let now = now_nanos();
    let list: Vec<serde_json::Value> = silences.list().iter().map(|s| s.to_json(now)).collect();
    answer(StatusCode::OK, &serde_json::Value::from(list))
}

async fn add_silence(
    State(silences): State<Arc<Silences>>,
    body: Result<Json<NewSilence>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let error = |status, message: String| answer(status, &serde_json::json!({ "error": message }));
    let Ok(Json(new)) = body.map_err(|rejection| rejection.body_text()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"matchers\": [...], \"duration\": \"2h\", \"comment\", \"createdBy\"}"
                .to_owned(),
        );
    };
    let duration = match crate::settings::parse_duration(&new.duration) {
        Ok(duration) if !duration.is_zero() => duration,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "`duration` must be longer than 0s".to_owned(),
            );
        }
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    // The register writes the state store: off the async workers.
    let added = tokio::task::spawn_blocking(move || {
        silences.add(
            &new.matchers,
            now_nanos(),
            duration,
            &new.created_by,
            &new.comment,
        )
    })
    .await;
    match added {
        Ok(Ok(id)) => answer(StatusCode::OK, &serde_json::json!({ "silenceID": id })),
        Ok(Err(SilenceError::Invalid(message))) => error(StatusCode::BAD_REQUEST, message),
        Ok(Err(other)) => error(StatusCode::SERVICE_UNAVAILABLE, other.to_string()),
        Err(join) => error(StatusCode::INTERNAL_SERVER_ERROR, join.to_string()),
    }
}

async fn expire_silence(State(silences): State<Arc<Silences>>, Path(id): Path<String>) -> Response {
    let expired = tokio::task::spawn_blocking(move || silences.expire(&id, now_nanos())).await;
    match expired {
        Ok(Ok(true)) => answer(StatusCode::OK, &serde_json::json!({})),
        Ok(Ok(false)) => answer(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "error": "no such silence" }),
        ),
        Ok(Err(error)) => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({ "error": error.to_string() }),
        ),
        Err(join) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            &serde_json::json!({ "error": join.to_string() }),
        ),
    }
}
