//! A minimal HTTP/1.0 GET over loopback, so the tests need no HTTP client
//! crate to scrape `/metrics`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `GET path` from `addr`: the status code and body, or `None` when the
/// server does not answer (yet).
pub fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Scrape `/metrics` from `addr` and return the sample of `metric` with
/// `labels` ([`sample`]); `None` when the server does not answer or has no
/// such sample.
pub fn metric(addr: SocketAddr, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let (_, body) = get(addr, "/metrics")?;
    sample(&body, metric, labels)
}

/// The value of the sample of `metric` whose labels contain every
/// `key="value"` of `labels`, from a text exposition.
pub fn sample(exposition: &str, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (name_labels, value) = line.rsplit_once(' ')?;
            let (name, label_text) = match name_labels.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (name_labels, ""),
            };
            if name != metric {
                return None;
            }
            let all = labels
                .iter()
                .all(|(k, v)| label_text.split(',').any(|kv| kv == format!("{k}=\"{v}\"")));
            if all { value.parse().ok() } else { None }
        })
}
