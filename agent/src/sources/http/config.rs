//! `type: http` settings: where to listen, how bodies are decoded, who may
//! send, how much, and when the client is answered.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::settings::units::{self, ByteSize};
use crate::settings::{Problems, Secret, Settings};

/// `type: http`: records or points POSTed by clients.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSourceConfig {
    /// `address`: where to listen, e.g. `0.0.0.0:8080`. Required.
    pub address: SocketAddr,
    /// `path`: the one path that takes POSTs. Default `/` for the text
    /// decodings and `/v1/metrics` for `otlp`, where OpenTelemetry
    /// exporters send.
    #[serde(default)]
    pub path: Option<String>,
    /// `decoding`: how a body becomes items: `lines` (default), `ndjson`,
    /// `json`, `csv` or `otlp`; see [`Decoding`].
    #[serde(default)]
    pub decoding: Decoding,
    /// `csv`: how `decoding: csv` reads; see [`CsvConfig`].
    #[serde(default)]
    pub csv: CsvConfig,
    /// `auth`: bearer tokens a request must carry; default none (anyone who
    /// can connect may send).
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// `tls`: serve HTTPS with this certificate; default plain HTTP.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// `ack`: `durable` (default) answers 200 only once everything the
    /// request carried is durable in every sink, so a client that got 200
    /// may forget its data; `immediate` answers once it is in the pipeline.
    #[serde(default)]
    pub ack: Ack,
    /// `max_body_size`: the largest body, after decompression; a bigger
    /// one is answered 413. Default `10MiB`.
    #[serde(default = "HttpSourceConfig::default_max_body_size")]
    pub max_body_size: ByteSize,
    /// `max_line_length`: the longest line (item) of a text body in bytes;
    /// a longer one is rejected. Default 65536.
    #[serde(default = "HttpSourceConfig::default_max_line_length")]
    pub max_line_length: usize,
    /// `max_concurrent_requests`: requests handled at once; more are
    /// answered 429 with `Retry-After`. Default 64.
    #[serde(default = "HttpSourceConfig::default_max_concurrent_requests")]
    pub max_concurrent_requests: usize,
    /// `header_timeout`: how long a client may take to send its request
    /// headers (slow clients hold connections). Default `10s`.
    #[serde(
        default = "HttpSourceConfig::default_header_timeout",
        with = "units::duration"
    )]
    pub header_timeout: Duration,
    /// `queue_timeout`: how long a request waits for room when the
    /// pipeline is full before it is answered 503 with `Retry-After`.
    /// Default `1s`.
    #[serde(
        default = "HttpSourceConfig::default_queue_timeout",
        with = "units::duration"
    )]
    pub queue_timeout: Duration,
    /// `errors`: a file that receives every rejected item with its reason
    /// (tab-separated: time, component, reason, item). Default: rejects are
    /// only counted (`foghorn_component_errors_total{reason}`).
    #[serde(default)]
    pub errors: Option<PathBuf>,
}

impl HttpSourceConfig {
    const fn default_max_body_size() -> ByteSize {
        ByteSize(10 * 1024 * 1024)
    }
    const fn default_max_line_length() -> usize {
        65_536
    }
    const fn default_max_concurrent_requests() -> usize {
        64
    }
    const fn default_header_timeout() -> Duration {
        Duration::from_secs(10)
    }
    const fn default_queue_timeout() -> Duration {
        Duration::from_secs(1)
    }

    /// The path that takes POSTs.
    pub fn path(&self) -> &str {
        self.path.as_deref().unwrap_or(match self.decoding {
            Decoding::Otlp => "/v1/metrics",
            _ => "/",
        })
    }
}

/// How a request body becomes items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoding {
    /// Each line is a raw record (`\n` or `\r\n`; blank lines skipped).
    #[default]
    Lines,
    /// Each line is a JSON value, passed on as a raw record; a line that is
    /// not JSON is rejected.
    Ndjson,
    /// The body is one JSON value: an array gives one record per element,
    /// anything else one record.
    Json,
    /// CSV rows, each passed on as a raw record (the header row is not); a
    /// row with the wrong number of cells is rejected.
    Csv,
    /// An OTLP/HTTP `ExportMetricsServiceRequest` (protobuf, or JSON with
    /// `Content-Type: application/json`): points, not records.
    Otlp,
}

/// `csv`: how CSV bodies are read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvConfig {
    /// `header`: whether the first row names the columns (and is not a
    /// record). Default `true`.
    #[serde(default = "CsvConfig::default_header")]
    pub header: bool,
    /// `delimiter`: one ASCII character. Default `,`.
    #[serde(default = "CsvConfig::default_delimiter")]
    pub delimiter: char,
    /// `columns`: how many cells a row has, when there is no header.
    /// Default: as many as the first row.
    #[serde(default)]
    pub columns: Option<usize>,
}

impl CsvConfig {
    const fn default_header() -> bool {
        true
    }
    const fn default_delimiter() -> char {
        ','
    }
}

impl Default for CsvConfig {
    fn default() -> Self {
        Self {
            header: true,
            delimiter: ',',
            columns: None,
        }
    }
}

/// `auth`: the bearer tokens accepted (`Authorization: Bearer <token>`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// `tokens`: accepted tokens, usually `${INGEST_TOKEN}`; secrets.
    #[serde(default)]
    pub tokens: Vec<Secret>,
    /// `token_file`: a file with one accepted token per line (blank lines
    /// and `#` comments ignored), read when the source starts.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}

/// `tls`: the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// `cert_file`: PEM certificate chain, the server's first. Required.
    pub cert_file: PathBuf,
    /// `key_file`: PEM private key (PKCS#8, PKCS#1 or SEC1). Required.
    pub key_file: PathBuf,
}

/// When a client is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ack {
    /// Once what it sent is durable in every sink.
    #[default]
    Durable,
    /// Once what it sent is in the pipeline.
    Immediate,
}

impl Settings for HttpSourceConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        let path = self.path();
        if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
            problems.push(
                &format!("{key}.path"),
                format!("`{path}` is not a URL path (it starts with `/`, without query)"),
            );
        }
        if self.max_body_size.0 == 0 {
            problems.push(&format!("{key}.max_body_size"), "must be more than 0");
        }
        if !(16..=16 * 1024 * 1024).contains(&self.max_line_length) {
            problems.push(
                &format!("{key}.max_line_length"),
                "must be from 16 to 16777216",
            );
        }
        if self.max_concurrent_requests == 0 {
            problems.push(
                &format!("{key}.max_concurrent_requests"),
                "must be at least 1",
            );
        }
        if !self.csv.delimiter.is_ascii() || matches!(self.csv.delimiter, '"' | '\n' | '\r') {
            problems.push(
                &format!("{key}.csv.delimiter"),
                "must be one ASCII character other than a quote or a line break",
            );
        }
        if self.csv.columns == Some(0) {
            problems.push(&format!("{key}.csv.columns"), "must be at least 1");
        }
        if let Some(auth) = &self.auth
            && auth.tokens.is_empty()
            && auth.token_file.is_none()
        {
            problems.push(
                &format!("{key}.auth"),
                "names no token: give `tokens`, `token_file` or both",
            );
        }
        if let Some(auth) = &self.auth
            && auth.tokens.iter().any(|t| t.expose().trim().is_empty())
        {
            problems.push(&format!("{key}.auth.tokens"), "a token is empty");
        }
    }
}
