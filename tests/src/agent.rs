//! The agent as a real process.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::wait;

/// The `foghorn` binary: `$FOGHORN_BIN`, or `foghorn` next to the test
/// binary's `deps/` directory (the same cargo profile).
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("FOGHORN_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join("foghorn");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build --workspace --bins`), as the README's test command does",
        bin.display()
    );
    bin
}

/// Where compiled plugins are cached across tests, so each component is
/// compiled once per test run instead of once per test.
pub fn shared_cache_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .join("foghorn-test-cache")
}

/// Where the tests build the Rust plugin projects they make, shared so the
/// SDK's dependencies are compiled once (cargo serializes builds into it).
pub fn plugin_projects_target() -> PathBuf {
    shared_cache_dir().with_file_name("plugin-projects")
}

/// A running agent; killed when dropped.
#[derive(Debug)]
pub struct Agent {
    child: Option<Child>,
    /// Its standard error (logs and the banner).
    pub stderr: PathBuf,
    /// Its standard output (console sink).
    pub stdout: PathBuf,
}

impl Agent {
    /// Start `foghorn run -c config` in `dir` with extra environment.
    pub fn start(dir: &Path, config: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn(dir, &["run", "-c", config.to_str().unwrap()], env)
    }

    /// Start `foghorn` with `args` in `dir`.
    pub fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
        let stderr = dir.join(format!("agent-{n}.stderr"));
        let stdout = dir.join(format!("agent-{n}.stdout"));
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .current_dir(dir)
            .env("FOGHORN_CACHE_DIR", shared_cache_dir())
            .env("FOGHORN_LOG", "info,foghorn=debug")
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = cmd.spawn().expect("start foghorn");
        Self {
            child: Some(child),
            stderr,
            stdout,
        }
    }

    /// What it has logged so far.
    pub fn logs(&self) -> String {
        wait::read(&self.stderr)
    }

    /// Wait until its log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        wait::until(&format!("log line containing {needle:?}"), timeout, || {
            let logs = self.logs();
            if logs.contains(needle) {
                return Some(());
            }
            assert!(
                !logs.contains("error found") && !logs.contains("errors found"),
                "agent refused to start:\n{logs}"
            );
            None
        });
    }

    /// The address of its Prometheus endpoint, from the start-up banner.
    pub fn metrics_addr(&self) -> SocketAddr {
        wait::until(
            "the banner's /metrics address",
            Duration::from_secs(60),
            || {
                let logs = self.logs();
                assert!(
                    !logs.contains("error found") && !logs.contains("errors found"),
                    "agent refused to start:\n{logs}"
                );
                let line = logs.lines().find(|line| line.contains("/metrics"))?;
                let start = line.find("http://")? + "http://".len();
                let end = start + line[start..].find("/metrics")?;
                line[start..end].parse().ok()
            },
        )
    }

    /// The address of its API (`/health`, `/ready`, `/metrics`), from the
    /// start-up banner.
    pub fn api_addr(&self) -> SocketAddr {
        wait::until("the banner's API address", Duration::from_secs(60), || {
            let logs = self.logs();
            let line = logs.lines().find(|line| line.contains("/health (/ready"))?;
            let start = line.find("http://")? + "http://".len();
            let end = start + line[start..].find("/health")?;
            line[start..end].parse().ok()
        })
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.as_ref().expect("running").id()).unwrap())
    }

    /// Send SIGHUP (reload the config).
    pub fn hangup(&self) {
        kill(self.pid(), Signal::SIGHUP).unwrap();
    }

    /// Send SIGTERM and wait for a clean exit.
    pub fn terminate(&mut self) -> ExitStatus {
        kill(self.pid(), Signal::SIGTERM).unwrap();
        self.wait_exit(Duration::from_secs(30))
    }

    /// Wait for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("running");
        let status = wait::until("the agent to exit", timeout, || child.try_wait().unwrap());
        self.child = None;
        status
    }

    /// `kill -9`: no chance to flush anything.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
