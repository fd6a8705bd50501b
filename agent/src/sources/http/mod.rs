//! `type: http`: items POSTed by clients (axum on hyper, rustls for TLS).
//!
//! Each request is one batch with its own delivery handle. With `ack:
//! durable` the client is answered 200 only once every sink has made the
//! batch durable, so a client that got 200 may forget its data, and one that
//! got no answer (the agent was killed) sends it again: at least once. A
//! request is answered:
//! - 401 without a valid bearer token (when `auth` is set);
//! - 413 when its body, after decompression, is over `max_body_size`;
//! - 415 for a `Content-Encoding` other than `gzip` or `identity`;
//! - 429 with `Retry-After` beyond `max_concurrent_requests`;
//! - 503 with `Retry-After` when the pipeline has had no room for
//!   `queue_timeout`, or a sink gave the batch up;
//! - 400 when nothing in it could be taken;
//! - 200 otherwise, with `{"accepted", "rejected", "errors"}` (for OTLP, an
//!   `ExportMetricsServiceResponse` with its partial success).
//!
//! Rejected items go to the `errors` file and
//! `foghorn_component_errors_total{reason}`; the rest of the body is kept.
//! Memory is bounded by `max_concurrent_requests × max_body_size` of bodies
//! being decoded, plus what the pipeline's buffers hold.

pub mod config;
mod decode;
mod items;
mod otlp;

use std::io::Read as _;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use config::{Ack, Decoding, HttpSourceConfig};
use decode::Decoder;
use items::{Decoded, Reject};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use prost::Message as _;
use sha2::{Digest as _, Sha256};
use tokio::sync::Semaphore;

use super::{Source, SourceContext, SourceError};
use crate::delivery::{Delivery, DeliveryStatus};
use crate::error_log::ErrorLog;
use crate::event::{Batch, now_nanos};
use crate::fanout::Fanout;
use crate::internal::events::{EventsReceived, ItemsRejected, SourceConnected};

/// How many reject reasons a response lists.
const ERRORS_IN_RESPONSE: usize = 10;
/// How long in-flight requests may take to finish at shutdown.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

impl Source for HttpSourceConfig {
    const OPENS_INPUT: bool = true;

    fn describe(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let decoding = match self.decoding {
            Decoding::Lines => "lines",
            Decoding::Ndjson => "ndjson",
            Decoding::Json => "json",
            Decoding::Csv => "csv",
            Decoding::Otlp => "otlp",
        };
        let ack = match self.ack {
            Ack::Durable => "answered once durable",
            Ack::Immediate => "answered on receipt",
        };
        format!(
            "http POST {scheme}://{}{} ({decoding}, {ack})",
            self.address,
            self.path()
        )
    }

    async fn run(self, ctx: SourceContext) -> Result<(), SourceError> {
        let tokens = tokens(&self)?;
        let errors = match &self.errors {
            Some(path) => Some(Mutex::new(ErrorLog::open(path, ctx.log_files).map_err(
                |source| SourceError::Open {
                    path: path.clone(),
                    source,
                },
            )?)),
            None => None,
        };
        let tls = match &self.tls {
            Some(tls) => Some(server_tls(tls)?),
            None => None,
        };
        let listener =
            std::net::TcpListener::bind(self.address).map_err(|source| SourceError::Bind {
                addr: self.address,
                source,
            })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| SourceError::Bind {
                addr: self.address,
                source,
            })?;
        let shared = Arc::new(Shared {
            name: Arc::clone(&ctx.name),
            decoder: Decoder {
                decoding: self.decoding,
                csv: self.csv.clone(),
                max_line_length: self.max_line_length,
            },
            output: ctx.batcher.into_output(),
            tokens,
            requests: Semaphore::new(self.max_concurrent_requests),
            ack: self.ack,
            queue_timeout: self.queue_timeout,
            max_body_size: usize::try_from(self.max_body_size.0).unwrap_or(usize::MAX),
            errors,
        });
        let app = Router::new()
            .route(self.path(), post(receive))
            .layer(DefaultBodyLimit::max(shared.max_body_size))
            .with_state(shared);
        let handle = axum_server::Handle::new();
        let target = format!("{}{}", self.address, self.path());
        SourceConnected {
            component: &ctx.name,
            target: &target,
        }
        .emit();
        let shutdown = ctx.shutdown.clone();
        let stopper = handle.clone();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            stopper.graceful_shutdown(Some(SHUTDOWN_GRACE));
        });
        let service = app.into_make_service();
        let served = match tls {
            Some(tls) => {
                let mut server = axum_server::from_tcp_rustls(listener, tls)
                    .map_err(|source| SourceError::Bind {
                        addr: self.address,
                        source,
                    })?
                    .handle(handle);
                server
                    .http_builder()
                    .http1()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(self.header_timeout);
                server.serve(service).await
            }
            None => {
                let mut server = axum_server::from_tcp(listener)
                    .map_err(|source| SourceError::Bind {
                        addr: self.address,
                        source,
                    })?
                    .handle(handle);
                server
                    .http_builder()
                    .http1()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(self.header_timeout);
                server.serve(service).await
            }
        };
        served.map_err(|source| SourceError::Bind {
            addr: self.address,
            source,
        })
    }
}

/// What every request handler shares.
#[derive(Debug)]
struct Shared {
    name: Arc<str>,
    decoder: Decoder,
    output: Fanout,
    /// SHA-256 of each accepted token: compared digest to digest, so the
    /// time a comparison takes says nothing about a token.
    tokens: Option<Vec<[u8; 32]>>,
    requests: Semaphore,
    ack: Ack,
    queue_timeout: std::time::Duration,
    max_body_size: usize,
    errors: Option<Mutex<ErrorLog>>,
}

/// The accepted tokens' digests, or `None` when there is no `auth`.
fn tokens(settings: &HttpSourceConfig) -> Result<Option<Vec<[u8; 32]>>, SourceError> {
    let Some(auth) = &settings.auth else {
        return Ok(None);
    };
    let mut tokens: Vec<String> = auth
        .tokens
        .iter()
        .map(|t| t.expose().trim().to_owned())
        .collect();
    if let Some(path) = &auth.token_file {
        let text = std::fs::read_to_string(path).map_err(|source| SourceError::Open {
            path: path.clone(),
            source,
        })?;
        tokens.extend(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_owned),
        );
    }
    Ok(Some(
        tokens
            .iter()
            .map(|token| Sha256::digest(token.as_bytes()).into())
            .collect(),
    ))
}

/// The server's rustls configuration from PEM files.
fn server_tls(
    tls: &config::TlsConfig,
) -> Result<axum_server::tls_rustls::RustlsConfig, SourceError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |path: &std::path::Path, error: &dyn std::fmt::Display| {
        SourceError::Tls(format!("{}: {error}", path.display()))
    };
    let certs = CertificateDer::pem_file_iter(&tls.cert_file)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|error| invalid(&tls.cert_file, &error))?;
    if certs.is_empty() {
        return Err(invalid(&tls.cert_file, &"no PEM certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key_file)
        .map_err(|error| invalid(&tls.key_file, &error))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| invalid(&tls.cert_file, &error))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|error| invalid(&tls.cert_file, &error))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(config),
    ))
}

impl Shared {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(tokens) = &self.tokens else {
            return true;
        };
        let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then_some(token.trim())
            })
        else {
            return false;
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        tokens.contains(&digest)
    }

    /// Log and count what was rejected.
    fn rejected(&self, rejects: &[Reject], timestamp: i64) {
        for reject in rejects {
            ItemsRejected {
                component: &self.name,
                reason: reject.reason,
                count: 1,
                example: &reject.detail,
            }
            .emit();
        }
        let Some(errors) = &self.errors else { return };
        let mut log = errors.lock().unwrap_or_else(PoisonError::into_inner);
        let written = rejects
            .iter()
            .try_for_each(|reject| {
                let reason = format!("{}: {}", reject.reason, reject.detail);
                log.write_item(timestamp, &self.name, &reason, &reject.item)
            })
            .and_then(|()| log.flush());
        if let Err(error) = written {
            tracing::error!(
                component = &*self.name,
                "cannot write the error log: {error}"
            );
        }
    }
}

/// One POST.
async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if !shared.authorized(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a valid bearer token is required\n",
        )
            .into_response();
    }
    let Ok(_permit) = shared.requests.try_acquire() else {
        return retry_later(StatusCode::TOO_MANY_REQUESTS, "too many requests at once");
    };
    let body = match decompress(&headers, body, shared.max_body_size) {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let received = now_nanos();
    let bytes = body.len();
    // Decoding a large body is CPU work: off the I/O threads.
    let decoding = Arc::clone(&shared);
    let Ok(decoded) = tokio::task::spawn_blocking(move || {
        decoding.decoder.decode(&body, &content_type, received)
    })
    .await
    else {
        // The decoder panicked: a bug, not the client's fault; it may retry.
        tracing::error!(component = &*shared.name, "decoding a request body failed");
        return (StatusCode::INTERNAL_SERVER_ERROR, "decoding failed\n").into_response();
    };
    shared.rejected(&decoded.rejects, received);
    let otlp = shared.decoder.decoding == Decoding::Otlp;
    if decoded.accepted() == 0 {
        let status = if decoded.rejects.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        return answer(status, 0, &decoded.rejects, otlp, &headers);
    }
    let (delivery, watch) = match shared.ack {
        Ack::Durable => {
            let (delivery, watch) = Delivery::watched();
            (delivery, Some(watch))
        }
        Ack::Immediate => (Delivery::none(), None),
    };
    EventsReceived {
        component: &shared.name,
        count: decoded.accepted(),
        bytes,
    }
    .emit();
    let accepted = decoded.accepted();
    let Decoded {
        records,
        points,
        rejects,
    } = decoded;
    let batch = Arc::new(Batch {
        component: Arc::clone(&shared.name),
        records,
        points,
        delivery,
        ..Batch::default()
    });
    if !shared.output.send_within(batch, shared.queue_timeout).await {
        return retry_later(StatusCode::SERVICE_UNAVAILABLE, "the pipeline is full");
    }
    if let Some(watch) = watch
        && watch.settled().await == DeliveryStatus::Failed
    {
        return retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "a sink could not make the data durable",
        );
    }
    answer(StatusCode::OK, accepted, &rejects, otlp, &headers)
}

/// The body, gunzipped when it says so, at most `max` bytes.
fn decompress(headers: &HeaderMap, body: Bytes, max: usize) -> Result<Bytes, (StatusCode, String)> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "identity" | "" => Ok(body),
        "gzip" | "x-gzip" => {
            let mut out = Vec::new();
            let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
            match flate2::read::MultiGzDecoder::new(&body[..])
                .take(limit)
                .read_to_end(&mut out)
            {
                Ok(n) if n > max => Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body is over {max} bytes once decompressed\n"),
                )),
                Ok(_) => Ok(Bytes::from(out)),
                Err(error) => Err((
                    StatusCode::BAD_REQUEST,
                    format!("the body is not gzip: {error}\n"),
                )),
            }
        }
        other => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Encoding `{other}` is not supported (gzip or identity)\n"),
        )),
    }
}

fn retry_later(status: StatusCode, why: &str) -> Response {
    (
        status,
        [(header::RETRY_AFTER, HeaderValue::from_static("1"))],
        format!("{why}; retry later\n"),
    )
        .into_response()
}

/// The answer to a request: counts (or OTLP's partial success).
fn answer(
    status: StatusCode,
    accepted: usize,
    rejects: &[Reject],
    otlp: bool,
    headers: &HeaderMap,
) -> Response {
    let errors: Vec<String> = rejects
        .iter()
        .take(ERRORS_IN_RESPONSE)
        .map(|r| format!("{}: {}", r.reason, r.detail))
        .collect();
    if otlp {
        let partial_success = (!rejects.is_empty()).then(|| ExportMetricsPartialSuccess {
            rejected_data_points: i64::try_from(rejects.len()).unwrap_or(i64::MAX),
            error_message: errors.join("; "),
        });
        let response = ExportMetricsServiceResponse { partial_success };
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/json"));
        return if json {
            (status, Json(response)).into_response()
        } else {
            (
                status,
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                response.encode_to_vec(),
            )
                .into_response()
        };
    }
    (
        status,
        Json(serde_json::json!({
            "accepted": accepted,
            "rejected": rejects.len(),
            "errors": errors,
        })),
    )
        .into_response()
}
