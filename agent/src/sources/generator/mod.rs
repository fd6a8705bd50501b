//! The `generator` source: a seeded simulator of the bench device.
//!
//! It writes the lines a real device sends on its serial port,
//! `T:25.3,V:5.01,S:OK`, one every `interval` (or as fast as the pipeline
//! takes them when the interval is zero), so a demo or a benchmark runs
//! without hardware. The temperature is a random walk around 25 °C and the
//! voltage is 5 V with noise; faults are drawn per line: temperature spikes,
//! voltage faults, malformed lines of several shapes, and periodic silences
//! that trip heartbeat detectors. The randomness comes from a PCG generator
//! seeded with `seed`, so one seed always gives the same lines; only the
//! receive timestamps (wall-clock time) differ between runs.

pub(super) mod config;

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use tokio::time::Instant;

use self::config::{FaultsConfig, GeneratorConfig, Scenario};
use super::{SourceContext, SourceError, idle_until};
use crate::event::now_nanos;

async fn run(config: GeneratorConfig, mut ctx: SourceContext) -> Result<(), SourceError> {
    let GeneratorConfig {
        scenario: Scenario::BenchDevice,
        interval,
        count,
        seed,
        faults,
        device: _,
    } = config;
    let (silence_every, silence_for) = (faults.silence_every, faults.silence_for);
    let mut device = BenchDevice::new(seed, faults);
    let mut line = Vec::with_capacity(64);
    let mut sent = 0u64;
    let mut next_line = Instant::now();
    let mut next_silence = silence_every.map(|every| Instant::now() + every);
    while count.is_none_or(|count| sent < count) && !ctx.shutdown.is_cancelled() {
        if let (Some(every), Some(at)) = (silence_every, next_silence)
            && Instant::now() >= at
        {
            // What was said before the silence goes out before it.
            ctx.batcher.flush().await;
            if !idle_until(&mut ctx, Instant::now() + silence_for).await {
                break;
            }
            next_silence = Some(Instant::now() + every);
            next_line = Instant::now();
        }
        if !interval.is_zero() {
            if !idle_until(&mut ctx, next_line).await {
                break;
            }
            // After a stall, carry on at the interval instead of catching up.
            next_line = (next_line + interval).max(Instant::now());
        }
        line.clear();
        device.next_line(&mut line);
        sent += 1;
        if ctx.batcher.push(now_nanos(), &line) || ctx.batcher.is_due() {
            ctx.batcher.flush().await;
            if interval.is_zero() {
                tokio::task::yield_now().await;
            }
        }
    }
    ctx.batcher.flush().await;
    Ok(())
}

fn describe(config: &GeneratorConfig) -> String {
    let Scenario::BenchDevice = config.scenario;
    let pace = if config.interval.is_zero() {
        "as fast as possible".to_owned()
    } else {
        format!("every {}", humantime::format_duration(config.interval))
    };
    let count = config
        .count
        .map(|count| format!(", {count} lines"))
        .unwrap_or_default();
    let faults = &config.faults;
    let silence = faults
        .silence_every
        .map(|every| {
            format!(
                ", silent {} every {}",
                humantime::format_duration(faults.silence_for),
                humantime::format_duration(every)
            )
        })
        .unwrap_or_default();
    format!(
        "generator bench_device {device} {pace}{count}, seed {seed}, faults: spike {spike}, voltage {voltage}, malformed {malformed}{silence}",
        device = config.device,
        seed = config.seed,
        spike = faults.spike_probability,
        voltage = faults.voltage_fault_probability,
        malformed = faults.malformed_probability,
    )
}

/// The simulated device: its state and its random source.
struct BenchDevice {
    rng: Pcg64,
    temperature: f64,
    faults: FaultsConfig,
}

impl BenchDevice {
    const NOMINAL_TEMPERATURE: f64 = 25.0;
    /// Pull of the random walk back towards 25 °C, per step.
    const REVERSION: f64 = 0.02;

    fn new(seed: u64, faults: FaultsConfig) -> Self {
        Self {
            rng: Pcg64::seed_from_u64(seed),
            temperature: Self::NOMINAL_TEMPERATURE,
            faults,
        }
    }

    /// Append the next line (without newline) to `out`.
    fn next_line(&mut self, out: &mut Vec<u8>) {
        let rng = &mut self.rng;
        // Every value is drawn on every line, so a fault does not shift the
        // rest of the sequence.
        let step = rng.random_range(-0.3..=0.3);
        let pull = (Self::NOMINAL_TEMPERATURE - self.temperature) * Self::REVERSION;
        self.temperature = (self.temperature + step + pull).clamp(18.0, 35.0);
        let voltage = 5.0 + rng.random_range(-0.03..=0.03);
        let spike = rng.random::<f64>() < self.faults.spike_probability;
        let spike_temperature = rng.random_range(90.0..=99.9);
        let voltage_fault = rng.random::<f64>() < self.faults.voltage_fault_probability;
        let fault_voltage = if rng.random::<bool>() { 6.1 } else { 4.2 };
        let malformed = rng.random::<f64>() < self.faults.malformed_probability;

        if malformed {
            self.malformed_line(out);
            return;
        }
        let temperature = if spike {
            spike_temperature
        } else {
            self.temperature
        };
        let status = match (spike, voltage_fault) {
            (true, _) => "WARNING_TEMP",
            (false, true) => "WARNING_VOLT",
            (false, false) => "OK",
        };
        // Writing to a Vec cannot fail.
        let _ = if voltage_fault {
            write!(out, "T:{temperature:.1},V:{fault_voltage:.1},S:{status}")
        } else {
            write!(out, "T:{temperature:.1},V:{voltage:.2},S:{status}")
        };
    }

    fn malformed_line(&mut self, out: &mut Vec<u8>) {
        match self.rng.random_range(0..6) {
            0 => out.extend_from_slice(b"T:abc,V:5.0,S:OK"),
            1 => out.extend_from_slice(b"HELLO"),
            2 => out.extend_from_slice(b"T:25.0;V:5.0"),
            3 => out.extend_from_slice(b"T:,V:,S:"),
            4 => {
                let _ = write!(out, "T:{:.1},V:5.00,S:OK", self.temperature);
                let keep = self.rng.random_range(1..out.len());
                out.truncate(keep);
            }
            _ => {
                let chars = self.rng.random_range(1..=24);
                let mut buf = [0; 4];
                for _ in 0..chars {
                    let c: char = self.rng.random();
                    // Newlines would split the line in two.
                    let c = if c.is_control() { '?' } else { c };
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }
}

/// Lines the generator would write for `config`, without pacing (tests).
impl super::Source for GeneratorConfig {
    fn describe(&self) -> String {
        describe(self)
    }

    async fn run(self, ctx: SourceContext) -> Result<(), SourceError> {
        run(self, ctx).await
    }
}

#[cfg(test)]
fn lines(seed: u64, faults: FaultsConfig, count: usize) -> Vec<String> {
    let mut device = BenchDevice::new(seed, faults);
    (0..count)
        .map(|_| {
            let mut line = Vec::new();
            device.next_line(&mut line);
            String::from_utf8(line).unwrap()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sources::testing::{context, drain};

    fn no_faults() -> FaultsConfig {
        FaultsConfig {
            spike_probability: 0.0,
            voltage_fault_probability: 0.0,
            malformed_probability: 0.0,
            silence_every: None,
            silence_for: Duration::ZERO,
        }
    }

    fn config(interval: Duration, count: Option<u64>, faults: FaultsConfig) -> GeneratorConfig {
        GeneratorConfig {
            scenario: Scenario::BenchDevice,
            interval,
            count,
            seed: 7,
            device: "bench-1".into(),
            faults,
        }
    }

    /// `T:<float>,V:<float>,S:<status>`, as the bundled parser reads it.
    fn try_parse(line: &str) -> Option<(f64, f64, String)> {
        let mut parts = line.split(',');
        let mut field = |prefix: &str| parts.next()?.strip_prefix(prefix).map(str::to_owned);
        let (t, v, s) = (field("T:")?, field("V:")?, field("S:")?);
        if parts.next().is_some() {
            return None;
        }
        Some((t.parse().ok()?, v.parse().ok()?, s))
    }

    fn parse(line: &str) -> (f64, f64, String) {
        try_parse(line).unwrap_or_else(|| panic!("malformed: {line}"))
    }

    #[test]
    fn the_same_seed_gives_the_same_lines() {
        let faults = || FaultsConfig {
            malformed_probability: 0.3,
            spike_probability: 0.1,
            ..no_faults()
        };
        let a = lines(42, faults(), 500);
        assert_eq!(a, lines(42, faults(), 500));
        assert_ne!(a, lines(43, faults(), 500));
    }

    #[test]
    fn normal_readings_stay_in_range() {
        let all = lines(1, no_faults(), 20_000);
        let mut previous = 25.0;
        for line in &all {
            let (t, v, s) = parse(line);
            assert!((18.0..=35.0).contains(&t), "{line}");
            assert!(
                (t - previous).abs() <= 0.3 + 0.2 + 0.05,
                "{line} after {previous}"
            );
            assert!((4.97..=5.03).contains(&v), "{line}");
            assert_eq!(s, "OK");
            previous = t;
        }
        let mean = all.iter().map(|l| parse(l).0).sum::<f64>() / all.len() as f64;
        assert!((mean - 25.0).abs() < 1.5, "mean {mean}");
    }

    #[test]
    fn certain_faults_always_happen() {
        for line in lines(
            3,
            FaultsConfig {
                spike_probability: 1.0,
                ..no_faults()
            },
            200,
        ) {
            let (t, _, s) = parse(&line);
            assert!((90.0..=99.9).contains(&t) && s == "WARNING_TEMP", "{line}");
        }
        for line in lines(
            3,
            FaultsConfig {
                voltage_fault_probability: 1.0,
                ..no_faults()
            },
            200,
        ) {
            let (_, v, s) = parse(&line);
            assert!((v == 6.1 || v == 4.2) && s == "WARNING_VOLT", "{line}");
        }
        let malformed = lines(
            3,
            FaultsConfig {
                malformed_probability: 1.0,
                ..no_faults()
            },
            600,
        );
        for line in &malformed {
            let status = try_parse(line).map(|(_, _, status)| status);
            assert!(
                !status.is_some_and(|s| ["OK", "WARNING_TEMP", "WARNING_VOLT"].contains(&&*s)),
                "{line}"
            );
            assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        }
        for shape in ["HELLO", "T:abc,V:5.0,S:OK", "T:25.0;V:5.0", "T:,V:,S:"] {
            assert!(malformed.iter().any(|l| l == shape), "{shape} never drawn");
        }
    }

    #[tokio::test]
    async fn count_is_respected_and_the_last_batch_is_sent() {
        let (ctx, mut rx) = context(64, Duration::from_secs(60));
        run(config(Duration::ZERO, Some(1000), no_faults()), ctx)
            .await
            .unwrap();
        let got = drain(&mut rx);
        assert_eq!(got.len(), 1000);
        let expected = lines(7, no_faults(), 1000);
        assert_eq!(
            got.iter().map(|(_, text)| text.clone()).collect::<Vec<_>>(),
            expected
        );
        assert!(
            got.windows(2).all(|w| w[0].0 <= w[1].0),
            "timestamps go forward"
        );
    }

    #[tokio::test]
    async fn paced_lines_come_one_interval_apart_and_stop_on_shutdown() {
        let (ctx, mut rx) = context(1, Duration::from_millis(1));
        let shutdown = ctx.shutdown.clone();
        let task = tokio::spawn(run(
            config(Duration::from_millis(50), None, no_faults()),
            ctx,
        ));
        tokio::time::sleep(Duration::from_millis(275)).await;
        let stopped = Instant::now();
        shutdown.cancel();
        task.await.unwrap().unwrap();
        assert!(stopped.elapsed() < Duration::from_millis(200));
        let got = drain(&mut rx);
        assert!(
            (5..=7).contains(&got.len()),
            "{} lines in 275 ms at 50 ms",
            got.len()
        );
        let gaps: Vec<i64> = got.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert!(gaps.iter().all(|gap| *gap >= 40_000_000), "{gaps:?}");
    }

    #[tokio::test]
    async fn silences_pause_the_device() {
        let faults = FaultsConfig {
            silence_every: Some(Duration::from_millis(100)),
            silence_for: Duration::from_millis(150),
            ..no_faults()
        };
        let (ctx, mut rx) = context(1, Duration::from_millis(1));
        run(config(Duration::from_millis(10), Some(20), faults), ctx)
            .await
            .unwrap();
        let got = drain(&mut rx);
        assert_eq!(got.len(), 20);
        let longest = got.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap();
        assert!(longest >= 140_000_000, "longest gap {longest} ns");
    }

    #[tokio::test]
    async fn as_fast_as_possible_still_stops_on_shutdown() {
        let (ctx, mut rx) = context(100, Duration::from_millis(5));
        let shutdown = ctx.shutdown.clone();
        let task = tokio::spawn(run(config(Duration::ZERO, None, no_faults()), ctx));
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.records.len(), 100);
        shutdown.cancel();
        // The channel holds 1024 batches; keep it drained so the source never blocks.
        let drainer = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        tokio::time::timeout(Duration::from_millis(200), task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        drainer.abort();
    }
}
