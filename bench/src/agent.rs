//! The release agent binary as a separate process.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `$FOGHORN_BIN`, or `foghorn` next to this benchmark binary.
pub fn binary() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("FOGHORN_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe()?;
    let bin = exe.with_file_name("foghorn");
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: `cargo build --release -p foghorn` first",
        bin.display()
    );
    Ok(bin)
}

/// A spawned agent whose stderr lines arrive on a channel.
pub struct Spawned {
    pub child: Child,
    pub stderr: mpsc::Receiver<String>,
}

/// Start `foghorn run -c <config>` with `env`.
pub fn spawn(config: &std::path::Path, env: &[(&str, &str)]) -> anyhow::Result<Spawned> {
    let mut cmd = Command::new(binary()?);
    cmd.args(["run", "-c"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.env("FOGHORN_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    let stderr = child.stderr.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok(Spawned { child, stderr: rx })
}

impl Spawned {
    /// Wait for a stderr line containing `needle`, returning it.
    pub fn wait_line(&self, needle: &str, timeout: Duration) -> anyhow::Result<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self
                .stderr
                .recv_timeout(left)
                .map_err(|_| anyhow::anyhow!("no line containing {needle:?}"))?;
            if line.contains(needle) {
                return Ok(line);
            }
        }
    }
}

/// Run `foghorn run -c <config>` with a shared compile cache to its end (a
/// finite pipeline); returns its wall time and CPU time, in seconds.
pub fn run_to_end(config: &std::path::Path, cache: &std::path::Path) -> anyhow::Result<(f64, f64)> {
    let cpu_before = crate::measure::children_cpu();
    let started = std::time::Instant::now();
    let mut spawned = spawn(config, &[("FOGHORN_CACHE_DIR", cache.to_str().unwrap())])?;
    let status = spawned.child.wait()?;
    let wall = started.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "agent failed: {status}");
    let cpu = (crate::measure::children_cpu() - cpu_before).as_secs_f64();
    Ok((wall, cpu))
}

/// What [`run_to_peak`] measured of one run.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Wall time, seconds.
    pub wall: f64,
    /// CPU time of the agent, seconds.
    pub cpu: f64,
    /// The agent's peak resident set (`VmHWM`), KiB, as last read before
    /// it exited (read every 20 ms).
    pub peak_kib: u64,
}

/// [`run_to_end`] with `env` added, also following the agent's peak RSS.
pub fn run_to_peak(
    config: &std::path::Path,
    cache: &std::path::Path,
    env: &[(&str, &str)],
) -> anyhow::Result<Run> {
    let cpu_before = crate::measure::children_cpu();
    let started = std::time::Instant::now();
    let mut all = vec![("FOGHORN_CACHE_DIR", cache.to_str().unwrap())];
    all.extend_from_slice(env);
    let mut spawned = spawn(config, &all)?;
    let pid = spawned.child.id().to_string();
    let mut peak_kib = 0;
    let status = loop {
        if let Some(status) = spawned.child.try_wait()? {
            break status;
        }
        if let Some(kib) = crate::measure::proc_status_kib(&pid, "VmHWM") {
            peak_kib = peak_kib.max(kib);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = started.elapsed().as_secs_f64();
    let errors: Vec<String> = spawned.stderr.try_iter().collect();
    anyhow::ensure!(
        status.success(),
        "agent failed: {status}: {}",
        errors.join("\n")
    );
    let cpu = (crate::measure::children_cpu() - cpu_before).as_secs_f64();
    Ok(Run {
        wall,
        cpu,
        peak_kib,
    })
}
