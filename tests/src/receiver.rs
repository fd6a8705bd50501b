//! A webhook receiver (`fixtures/receiver.py`) as a real process on
//! loopback, recording what foghorn POSTs.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::wait;

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A running receiver; stopped when dropped.
#[derive(Debug)]
pub struct Receiver {
    child: Option<Child>,
    /// Where it records each call.
    pub out: PathBuf,
    /// Its port.
    pub port: u16,
}

impl Receiver {
    /// Start it on `port` (0: any), recording into `dir/<port>.ndjson`, with
    /// extra `options` (`--fail-first 2`, `--fail-status 429`,
    /// `--retry-after 1`); returns once it accepts connections.
    pub fn start(dir: &Path, port: u16, options: &[&str]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/receiver.py");
        let out = dir.join(format!("received-{port}-{}.ndjson", std::process::id()));
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--out", out.to_str().unwrap()])
            .args(options)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("the receiver did not start: {line:?}"));
        Self {
            child: Some(child),
            out,
            port,
        }
    }

    /// The URL foghorn posts to.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Every call so far: `{call, failed, headers, body}`.
    pub fn calls(&self) -> Vec<serde_json::Value> {
        wait::read(&self.out)
            .lines()
            .map(|line| serde_json::from_str(line).expect("the receiver writes JSON"))
            .collect()
    }

    /// The bodies of the calls it answered 200.
    pub fn accepted(&self) -> Vec<serde_json::Value> {
        self.calls()
            .into_iter()
            .filter(|call| call["failed"] == false)
            .collect()
    }

    /// Stop it (the port closes).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A real SMTP server (`fixtures/smtp.py`, aiosmtpd) on loopback.
#[derive(Debug)]
pub struct SmtpServer {
    child: Child,
    /// Where it records each message.
    pub out: PathBuf,
    /// Its port.
    pub port: u16,
}

impl SmtpServer {
    /// Start it in `dir` with extra `options` (`--user u --password p`,
    /// `--fail-first 1`).
    pub fn start(dir: &Path, options: &[&str]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/smtp.py");
        let port = free_port();
        let out = dir.join(format!("mail-{port}.ndjson"));
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--out", out.to_str().unwrap()])
            .args(options)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the SMTP server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("listening"),
            "the SMTP server did not start (is aiosmtpd installed? the test command installs it): {line:?}"
        );
        Self { child, out, port }
    }

    /// Every message accepted so far: `{from, to, data}`.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        wait::read(&self.out)
            .lines()
            .map(|line| serde_json::from_str(line).expect("the server writes JSON"))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OTLP receiver (`fixtures/otlp_receiver.py`: the official
/// `opentelemetry-proto` and `grpcio` packages) serving gRPC and
/// HTTP/protobuf on loopback.
#[derive(Debug)]
pub struct OtlpReceiver {
    child: Child,
    /// Where it records each export.
    pub out: PathBuf,
    /// Its gRPC port.
    pub grpc_port: u16,
    /// Its HTTP port.
    pub http_port: u16,
}

impl OtlpReceiver {
    /// Start it in `dir` with extra `options` (`--fail-first 1`).
    pub fn start(dir: &Path, options: &[&str]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/otlp_receiver.py");
        let out = dir.join(format!("otlp-{}.ndjson", free_port()));
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--out", out.to_str().unwrap()])
            .args(options)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the OTLP receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ports: Vec<u16> = line
            .trim()
            .strip_prefix("listening ")
            .map(|ports| ports.split(' ').filter_map(|p| p.parse().ok()).collect())
            .unwrap_or_default();
        assert_eq!(
            ports.len(),
            2,
            "the OTLP receiver did not start (are grpcio and opentelemetry-proto installed? the test command installs them): {line:?}"
        );
        Self {
            child,
            out,
            grpc_port: ports[0],
            http_port: ports[1],
        }
    }

    /// Every export accepted so far: `{via, signal, request}`.
    pub fn exports(&self) -> Vec<serde_json::Value> {
        wait::read(&self.out)
            .lines()
            .map(|line| serde_json::from_str(line).expect("the receiver writes JSON"))
            .collect()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
