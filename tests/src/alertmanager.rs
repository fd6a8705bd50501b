//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) on
//! loopback, with gossip off.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::receiver::free_port;
use crate::{http, wait};

/// A running Alertmanager; killed when dropped.
#[derive(Debug)]
pub struct Alertmanager {
    child: Child,
    /// Where its API listens.
    pub addr: SocketAddr,
}

impl Alertmanager {
    /// Start it in `dir` with a receiver that notifies nobody.
    ///
    /// # Panics
    /// When `prometheus-alertmanager` is missing (the test command installs
    /// it) or does not become ready.
    pub fn start(dir: &Path) -> Self {
        let config = dir.join("alertmanager.yml");
        std::fs::write(
            &config,
            "route:\n  receiver: nobody\n  group_wait: 1s\nreceivers:\n  - name: nobody\n",
        )
        .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.join("am-data").display()))
            .arg(format!("--web.listen-address={addr}"))
            // Gossip off: it would listen on every interface.
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("alertmanager.log")).unwrap())
            .spawn()
            .expect("prometheus-alertmanager must be installed: run the README's test command");
        let server = Self { child, addr };
        wait::until("Alertmanager to be ready", Duration::from_secs(60), || {
            http::get(addr, "/-/ready")
                .filter(|(status, _)| *status == 200)
                .map(|_| ())
        });
        server
    }

    /// `GET /api/v2/alerts`: the alerts it holds.
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        http::get(self.addr, "/api/v2/alerts")
            .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
            .and_then(|json| json.as_array().cloned())
            .unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
