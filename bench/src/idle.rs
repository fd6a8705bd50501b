//! Start-up time and idle RSS with a warm plugin cache.

use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::agent;
use crate::measure::{median, mib, proc_status_kib};

fn healthy(addr: &str) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if write!(stream, "GET /health HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut response = String::new();
    stream.read_to_string(&mut response).is_ok() && response.starts_with("HTTP/1.1 200")
        || response.starts_with("HTTP/1.0 200")
}

/// Run the benchmark; returns the markdown report.
pub fn run(repeat: usize) -> anyhow::Result<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("out")
        .join("idle");
    std::fs::create_dir_all(&dir)?;
    let cache = dir.join("cache");
    let mut rows = String::new();
    for (name, config) in [
        ("minimal (file → kv-parser → prometheus)", minimal(&dir)?),
        (
            "demo (config/agent.yaml: 5 plugins, 3 sinks)",
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/agent.yaml"),
        ),
    ] {
        let (mut startups, mut rss) = (vec![], vec![]);
        for i in 0..=repeat {
            let data = dir.join("data");
            let _ = std::fs::remove_dir_all(&data);
            let started = Instant::now();
            let mut spawned = agent::spawn(
                &config,
                &[
                    ("FOGHORN_CACHE_DIR", cache.to_str().unwrap()),
                    ("FOGHORN_DATA_DIR", data.to_str().unwrap()),
                    ("FOGHORN_METRICS_LISTEN", "127.0.0.1:0"),
                    ("FOGHORN_API_LISTEN", "127.0.0.1:0"),
                ],
            )?;
            let line = spawned.wait_line("/metrics", Duration::from_secs(120))?;
            let addr = line
                .split("http://")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .ok_or_else(|| anyhow::anyhow!("no address in {line:?}"))?
                .to_owned();
            while !healthy(&addr) {
                anyhow::ensure!(
                    started.elapsed() < Duration::from_secs(60),
                    "agent never became healthy"
                );
                std::thread::sleep(Duration::from_micros(500));
            }
            let startup = started.elapsed();
            std::thread::sleep(Duration::from_secs(3));
            let pid = spawned.child.id().to_string();
            let rss_kib = proc_status_kib(&pid, "VmRSS").unwrap_or(0);
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(i32::try_from(spawned.child.id())?),
                nix::sys::signal::Signal::SIGTERM,
            )?;
            spawned.child.wait()?;
            if i == 0 {
                continue; // warm-up: fills the compile cache
            }
            startups.push(startup.as_secs_f64() * 1000.0);
            rss.push(mib(rss_kib));
        }
        writeln!(
            rows,
            "| {name} | {:.1} ms | {:.1} MiB |",
            median(&mut startups),
            median(&mut rss)
        )?;
    }
    let mut report = String::new();
    writeln!(
        report,
        "### idle: start-up (spawn to /health 200) and RSS after 3 s, warm plugin cache\n"
    )?;
    writeln!(report, "median of {repeat} runs after a warm-up\n")?;
    writeln!(report, "| pipeline | start-up | idle RSS |")?;
    writeln!(report, "| --- | --- | --- |")?;
    report.push_str(&rows);
    Ok(report)
}

fn minimal(dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    let input = dir.join("empty.log");
    std::fs::write(&input, "")?;
    let config = dir.join("minimal.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: ${{FOGHORN_DATA_DIR}}
sources:
  lines: {{ type: file, path: {input} }}
processors:
  parse: {{ inputs: [lines], plugin: "builtin:kv-parser" }}
sinks:
  metrics: {{ type: prometheus, inputs: [parse], listen: "${{FOGHORN_METRICS_LISTEN}}" }}
"#,
            input = input.display()
        ),
    )?;
    Ok(config)
}
