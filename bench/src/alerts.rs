//! Alert latency: a line in on a file source → threshold → alert stage
//! (`group_wait: 0s`) → webhook out to a loopback receiver, under a
//! background load of ordinary lines. The latency of an alert is from the
//! moment its line was written to the file to the moment the receiver read
//! the notification that carries it.
//!
//! Each alert line `Fk:<1000 + n>` fires rule `Fk` (one of 100, so each
//! alert is a new fingerprint with its own group) and carries its number
//! `n` in its value; a line `Fk:20` resolves it half-way to the rule's next
//! firing (a firing resolved before its group notified is, as in
//! Alertmanager, never notified). The receiver is a
//! minimal HTTP/1.1 server in this process (keep-alive, answers 200).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::agent;
use crate::measure::children_cpu;

/// Rules, so an alert's rule fires again only after 100 others.
const RULES: usize = 100;

/// When each alert was written, and when its notification arrived.
#[derive(Default)]
struct Clock {
    written: HashMap<u64, Instant>,
    received: HashMap<u64, Instant>,
}

/// Serve one keep-alive connection: read requests, note the alerts of each
/// body, answer 200.
fn serve(stream: TcpStream, clock: &Mutex<Clock>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let arrived = Instant::now();
        if let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) {
            let mut clock = clock.lock().unwrap();
            for alert in json["alerts"].as_array().into_iter().flatten() {
                if alert["status"] != "firing" {
                    continue;
                }
                let value = alert["annotations"]["value"]
                    .as_str()
                    .and_then(|v| v.parse::<f64>().ok());
                if let Some(value) = value {
                    #[allow(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        reason = "alert numbers"
                    )]
                    let n = (value - 1000.0).round() as u64;
                    clock.received.entry(n).or_insert(arrived);
                }
            }
        }
        writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?;
        writer.flush()?;
    }
}

fn pipeline(dir: &std::path::Path, input: &std::path::Path, port: u16) -> anyhow::Result<PathBuf> {
    let rules: Vec<String> = (0..RULES)
        .map(|k| format!("{{ field: F{k:02}, max: 80, severity: critical }}"))
        .collect();
    let config = dir.join("alerts.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  lines:
    type: file
    path: {input}
    read_from: beginning
    batch: {{ max_records: 1024, linger: 1ms }}
processors:
  parse:
    inputs: [lines]
    plugin: builtin:kv-parser
    config: {{ measurement: bench }}
  limits:
    inputs: [parse]
    plugin: builtin:threshold
    config: {{ rules: [{rules}] }}
  notify:
    type: alerts
    inputs: [limits.alerts]
    route: {{ receivers: [hook], group_by: ['...'], group_wait: 0s, group_interval: 10ms }}
sinks:
  hook:
    type: webhook
    inputs: [notify.notifications]
    url: http://127.0.0.1:{port}/hook
  sink:
    type: blackhole
    inputs: [parse]
"#,
            data = dir.join("data").display(),
            input = input.display(),
            rules = rules.join(", "),
        ),
    )?;
    Ok(config)
}

/// Run the benchmark: `alerts` alerts at `alert_rate` per second under
/// `background` ordinary lines per second; returns the markdown report.
pub fn run(alerts: u64, alert_rate: u64, background: u64) -> anyhow::Result<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("out/alerts");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let input = dir.join("input.log");
    std::fs::write(&input, "")?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let clock = Arc::new(Mutex::new(Clock::default()));
    let served = Arc::clone(&clock);
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let clock = Arc::clone(&served);
            std::thread::spawn(move || serve(stream, &clock));
        }
    });
    let config = pipeline(&dir, &input, port)?;
    let cpu_before = children_cpu();
    let mut agent = agent::spawn(
        &config,
        &[(
            "FOGHORN_CACHE_DIR",
            dir.parent().unwrap().join("cache").to_str().unwrap(),
        )],
    )?;
    agent.wait_line("stop with Ctrl-C", Duration::from_secs(120))?;

    // Write in 1 ms ticks: the background lines of the tick, and an alert
    // line (then its resolution) every `1000 / alert_rate` ticks.
    let mut file = std::fs::OpenOptions::new().append(true).open(&input)?;
    let per_tick = background / 1000;
    let every = (1000 / alert_rate.max(1)).max(1);
    let started = Instant::now();
    let (mut n, mut tick) = (0u64, 0u64);
    let mut chunk = String::new();
    // Each alert is resolved half-way to its rule's next firing, so a
    // firing and its resolution never share a batch.
    let resolve_after = every * (RULES as u64) / 2;
    let mut resolves: std::collections::VecDeque<(u64, usize)> = std::collections::VecDeque::new();
    while n < alerts {
        chunk.clear();
        for _ in 0..per_tick {
            chunk.push_str("T:20.0,V:5.0,S:OK\n");
        }
        while resolves.front().is_some_and(|(at, _)| *at <= tick) {
            let (_, k) = resolves.pop_front().expect("checked");
            let _ = writeln!(chunk, "F{k:02}:20");
        }
        let alert = tick % every == 0;
        if alert {
            #[allow(clippy::cast_possible_truncation, reason = "n < alerts")]
            let k = (n as usize) % RULES;
            let _ = writeln!(chunk, "F{k:02}:{}", 1000 + n);
            resolves.push_back((tick + resolve_after, k));
        }
        file.write_all(chunk.as_bytes())?;
        if alert {
            clock.lock().unwrap().written.insert(n, Instant::now());
            n += 1;
        }
        tick += 1;
        let next = started + Duration::from_millis(tick);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let wrote_for = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(30);
    while clock.lock().unwrap().received.len() < usize::try_from(alerts)?
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(agent.child.id())?),
        nix::sys::signal::Signal::SIGTERM,
    )?;
    agent.child.wait()?;
    let cpu = (children_cpu() - cpu_before).as_secs_f64();
    let peak_rss_kib =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?.max_rss();

    let clock = clock.lock().unwrap();
    let mut latencies: Vec<f64> = clock
        .written
        .iter()
        .filter_map(|(n, written)| {
            let received = clock.received.get(n)?;
            Some(received.saturating_duration_since(*written).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "an index"
        )]
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).copied().unwrap_or(f64::NAN)
    };
    let lost = alerts - latencies.len() as u64;
    let mut report = String::new();
    writeln!(
        report,
        "### alerts: file → threshold → alert stage (group_wait 0s) → webhook → loopback receiver"
    )?;
    #[allow(clippy::cast_precision_loss, reason = "rates")]
    let lines_per_s = (tick * per_tick) as f64 / wrote_for.as_secs_f64();
    writeln!(
        report,
        "\n{alerts} alerts at {alert_rate}/s under {lines_per_s:.0} background lines/s ({:.1} s); \
         {lost} not received\n",
        wrote_for.as_secs_f64()
    )?;
    writeln!(report, "| metric | value |")?;
    writeln!(report, "| --- | --- |")?;
    writeln!(report, "| latency p50 | {:.2} ms |", quantile(0.5))?;
    writeln!(report, "| latency p90 | {:.2} ms |", quantile(0.9))?;
    writeln!(report, "| latency p99 | {:.2} ms |", quantile(0.99))?;
    writeln!(report, "| latency max | {:.2} ms |", quantile(1.0))?;
    writeln!(
        report,
        "| agent CPU | {cpu:.1} s ({:.0} % of one core) |",
        100.0 * cpu / wrote_for.as_secs_f64()
    )?;
    writeln!(
        report,
        "| agent peak RSS | {:.1} MiB |",
        crate::measure::mib(u64::try_from(peak_rss_kib)?)
    )?;
    Ok(report)
}
