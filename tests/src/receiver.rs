//! The test peers written in Python (`fixtures/*.py`), each a real process
//! on loopback that records what foghorn sends it, one JSON line per item:
//! a webhook receiver, an SMTP server (aiosmtpd) and an OTLP receiver
//! (the official `opentelemetry-proto` and `grpcio` packages).

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

/// A Python peer: the process, and the file it records into; killed when
/// dropped.
#[derive(Debug)]
struct Peer {
    child: Option<Child>,
    out: PathBuf,
}

impl Peer {
    /// Run `fixtures/<script>` with `--out <out>` and `args`; returns once it
    /// printed `listening …`, with the rest of that line (its ports).
    fn start(script: &str, out: PathBuf, args: &[&str], hint: &str) -> (Self, String) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(script);
        let mut child = Command::new("python3")
            .arg(path)
            .args(["--out", out.to_str().unwrap()])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("python3 runs {script}: {error}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ports = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("{script} did not start{hint}: {line:?}"))
            .to_owned();
        (
            Self {
                child: Some(child),
                out,
            },
            ports,
        )
    }

    /// Everything recorded so far.
    fn records(&self) -> Vec<serde_json::Value> {
        wait::read(&self.out)
            .lines()
            .map(|line| serde_json::from_str(line).expect("the peer writes JSON"))
            .collect()
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A webhook receiver (`fixtures/receiver.py`).
#[derive(Debug)]
pub struct Receiver {
    peer: Peer,
    /// Its port.
    pub port: u16,
}

impl Receiver {
    /// Start it on `port` (0: any) with extra `options` (`--fail-first 2`,
    /// `--fail-status 429`, `--retry-after 1`); returns once it accepts
    /// connections.
    pub fn start(dir: &Path, port: u16, options: &[&str]) -> Self {
        let out = dir.join(format!("received-{port}-{}.ndjson", free_port()));
        let port_arg = port.to_string();
        let mut args = vec!["--port", &port_arg];
        args.extend_from_slice(options);
        let (peer, listening) = Peer::start("receiver.py", out, &args, "");
        Self {
            peer,
            port: listening.parse().expect("a port"),
        }
    }

    /// The URL foghorn posts to.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Every call so far: `{call, time, failed, headers, body, raw}`.
    pub fn calls(&self) -> Vec<serde_json::Value> {
        self.peer.records()
    }

    /// The calls it answered 200.
    pub fn accepted(&self) -> Vec<serde_json::Value> {
        self.calls()
            .into_iter()
            .filter(|call| call["failed"] == false)
            .collect()
    }

    /// Stop it (the port closes).
    pub fn stop(&mut self) {
        self.peer.stop();
    }
}

/// A real SMTP server (`fixtures/smtp.py`, aiosmtpd) on loopback.
#[derive(Debug)]
pub struct SmtpServer {
    peer: Peer,
    /// Its port.
    pub port: u16,
}

impl SmtpServer {
    /// Start it in `dir` with extra `options` (`--user u --password p`,
    /// `--fail-first 1`).
    pub fn start(dir: &Path, options: &[&str]) -> Self {
        let port = free_port();
        let port_arg = port.to_string();
        let mut args = vec!["--port", &port_arg];
        args.extend_from_slice(options);
        let out = dir.join(format!("mail-{port}.ndjson"));
        let hint = " (is aiosmtpd installed? the test command installs it)";
        let (peer, _) = Peer::start("smtp.py", out, &args, hint);
        Self { peer, port }
    }

    /// Every message accepted so far: `{from, to, tls, data}`.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        self.peer.records()
    }
}

/// An OTLP receiver (`fixtures/otlp_receiver.py`) serving gRPC and
/// HTTP/protobuf on loopback.
#[derive(Debug)]
pub struct OtlpReceiver {
    peer: Peer,
    /// Its gRPC port.
    pub grpc_port: u16,
    /// Its HTTP port.
    pub http_port: u16,
}

impl OtlpReceiver {
    /// Start it in `dir` with extra `options` (`--fail-first 1`).
    pub fn start(dir: &Path, options: &[&str]) -> Self {
        let out = dir.join(format!("otlp-{}.ndjson", free_port()));
        let hint =
            " (are grpcio and opentelemetry-proto installed? the test command installs them)";
        let (peer, listening) = Peer::start("otlp_receiver.py", out, options, hint);
        let ports: Vec<u16> = listening
            .split(' ')
            .filter_map(|p| p.parse().ok())
            .collect();
        assert_eq!(ports.len(), 2, "gRPC and HTTP ports: {listening:?}");
        Self {
            peer,
            grpc_port: ports[0],
            http_port: ports[1],
        }
    }

    /// Every export accepted so far: `{via, signal, request}`.
    pub fn exports(&self) -> Vec<serde_json::Value> {
        self.peer.records()
    }
}
