//! `type: generator` settings: the scenario, its pace, seed and faults.

use std::time::Duration;

use serde::Deserialize;

use crate::settings::{Problems, Settings, units};

/// `type: generator`: produces the lines a device would send, with injected
/// faults, reproducibly from a seed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratorConfig {
    /// `scenario`: what to imitate. Only `bench_device` for now, the default.
    pub scenario: Scenario,
    /// `interval`: time between lines. Default `100ms`; `0s` generates as fast
    /// as possible; at most `1h`.
    #[serde(with = "units::duration")]
    pub interval: Duration,
    /// `count`: stop after this many lines. Default: never stop.
    pub count: Option<u64>,
    /// `seed`: random seed; the same seed gives the same lines. Default 42.
    pub seed: u64,
    /// `device`: device name written into the lines. Default `bench-1`.
    pub device: String,
    /// `faults`: how often to inject each kind of fault.
    pub faults: FaultsConfig,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            scenario: Scenario::BenchDevice,
            interval: Duration::from_millis(100),
            count: None,
            seed: 42,
            device: "bench-1".to_owned(),
            faults: FaultsConfig::default(),
        }
    }
}

impl Settings for GeneratorConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        let interval_key = format!("{key}.interval");
        problems.duration_range(
            &interval_key,
            self.interval,
            Duration::ZERO,
            Duration::from_hours(1),
        );
        self.faults.check(&format!("{key}.faults"), problems);
    }
}

/// A generator scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// A bench power supply reporting temperature, voltage and status lines
    /// (`T:21.5,V:5.01,S:OK`).
    #[default]
    BenchDevice,
}

/// Fault injection for the generator; each probability is per line.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultsConfig {
    /// `spike_probability`: chance of a temperature spike. Default 0.01, from
    /// 0 to 1.
    pub spike_probability: f64,
    /// `voltage_fault_probability`: chance of an out-of-range voltage.
    /// Default 0.01, from 0 to 1.
    pub voltage_fault_probability: f64,
    /// `malformed_probability`: chance of a garbled line. Default 0.01, from 0
    /// to 1.
    pub malformed_probability: f64,
    /// `silence_every`: go silent this often, to exercise heartbeat loss.
    /// Default: never.
    #[serde(with = "units::option_duration")]
    pub silence_every: Option<Duration>,
    /// `silence_for`: how long each silence lasts. Default `6s`.
    #[serde(with = "units::duration")]
    pub silence_for: Duration,
}

impl Default for FaultsConfig {
    fn default() -> Self {
        Self {
            spike_probability: 0.01,
            voltage_fault_probability: 0.01,
            malformed_probability: 0.01,
            silence_every: None,
            silence_for: Duration::from_secs(6),
        }
    }
}

impl FaultsConfig {
    /// Reports values under the key path `key` that are out of range.
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        for (name, value) in [
            ("spike_probability", self.spike_probability),
            ("voltage_fault_probability", self.voltage_fault_probability),
            ("malformed_probability", self.malformed_probability),
        ] {
            problems.range(&format!("{key}.{name}"), value, 0.0, 1.0);
        }
        if self.silence_every == Some(Duration::ZERO) {
            problems.push(&format!("{key}.silence_every"), "must be longer than 0s");
        }
    }
}
