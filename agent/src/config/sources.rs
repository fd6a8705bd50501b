//! Source configurations: `serial`, `file`, `stdin` and `generator`.
//!
//! The loader reads a source's `type` and `batch` itself and hands the rest of
//! the mapping to [`SourceKind::from_node`], the one table of source types.
//! Range checks that serde cannot express live in each struct's `check`.

use std::path::PathBuf;
use std::time::Duration;

use marked_yaml::{FromNodeError, Node, from_node};
use serde::Deserialize;

use super::batch::BatchOverride;
use super::problems::Problems;
use super::units;

/// One entry of `sources`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    /// `batch`: this source's own batching; keys left out come from the global
    /// `batch`. Default: none (use the global batching).
    pub batch: Option<BatchOverride>,
    /// `type` and the settings of that type.
    pub kind: SourceKind,
}

/// What a source reads, selected by its `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// `type: serial`: lines from a serial port.
    Serial(SerialConfig),
    /// `type: file`: lines from a file, optionally following it as it grows.
    File(FileSourceConfig),
    /// `type: stdin`: lines from the agent's standard input.
    Stdin(StdinConfig),
    /// `type: generator`: synthetic device lines, for demos and benchmarks.
    Generator(GeneratorConfig),
}

impl SourceKind {
    /// Every source `type`, in the order they are listed in errors.
    pub const TYPES: &'static [&'static str] = &["serial", "file", "stdin", "generator"];

    /// The `type` this configuration was written with.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Serial(_) => "serial",
            Self::File(_) => "file",
            Self::Stdin(_) => "stdin",
            Self::Generator(_) => "generator",
        }
    }

    /// Deserializes the settings of `type_name` from `node` (the component's
    /// mapping without `type` and `batch`); `None` for an unknown type.
    pub(crate) fn from_node(type_name: &str, node: &Node) -> Option<Result<Self, FromNodeError>> {
        Some(match type_name {
            "serial" => from_node(node).map(Self::Serial),
            "file" => from_node(node).map(Self::File),
            "stdin" => from_node(node).map(Self::Stdin),
            "generator" => from_node(node).map(Self::Generator),
            _ => return None,
        })
    }

    /// Reports values under the key path `key` that are out of range.
    pub(crate) fn check(&self, key: &str, problems: &mut Problems<'_>) {
        match self {
            Self::Serial(serial) => serial.check(key, problems),
            Self::File(file) => {
                problems.duration_range(
                    &format!("{key}.poll_interval"),
                    file.poll_interval,
                    MIN_POLL,
                    MAX_POLL,
                );
                check_line_length(key, file.max_line_length, problems);
            }
            Self::Stdin(stdin) => check_line_length(key, stdin.max_line_length, problems),
            Self::Generator(generator) => generator.check(key, problems),
        }
    }
}

const LINE_LENGTH: (usize, usize) = (16, 1_048_576);
const MIN_POLL: Duration = Duration::from_millis(1);
const MAX_POLL: Duration = Duration::from_hours(1);

fn check_line_length(key: &str, value: usize, problems: &mut Problems<'_>) {
    let (min, max) = LINE_LENGTH;
    problems.range(&format!("{key}.max_line_length"), value, min, max);
}

/// `type: serial`: reads newline-terminated lines from a serial port and
/// reconnects when the device goes away.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialConfig {
    /// `port`: the serial device, e.g. `/dev/ttyUSB0` or `COM3`. Required.
    pub port: String,
    /// `baud`: line speed in bits per second. Default 9600, from 50 to 4000000.
    #[serde(default = "SerialConfig::default_baud")]
    pub baud: u32,
    /// `parity`: `none`, `odd` or `even`. Default `none`.
    #[serde(default)]
    pub parity: Parity,
    /// `data_bits`: bits per character, 5, 6, 7 or 8. Default 8.
    #[serde(default = "SerialConfig::default_data_bits")]
    pub data_bits: u8,
    /// `stop_bits`: 1 or 2. Default 1.
    #[serde(default = "SerialConfig::default_stop_bits")]
    pub stop_bits: u8,
    /// `flow_control`: `none`, `software` (XON/XOFF) or `hardware` (RTS/CTS).
    /// Default `none`.
    #[serde(default)]
    pub flow_control: FlowControl,
    /// `max_line_length`: longest line in bytes; a longer one is cut and
    /// reported as an error. Default 4096, from 16 to 1048576.
    #[serde(default = "SerialConfig::default_max_line_length")]
    pub max_line_length: usize,
    /// `reconnect`: how long to wait between attempts to reopen the port.
    /// Defaults: `initial_backoff: 100ms`, `max_backoff: 5s`.
    #[serde(default)]
    pub reconnect: ReconnectConfig,
    /// `audit_log`: file that receives every raw line with its receive
    /// timestamp, before parsing; relative to the working directory. Default:
    /// no audit log.
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
}

impl SerialConfig {
    const fn default_baud() -> u32 {
        9600
    }
    const fn default_data_bits() -> u8 {
        8
    }
    const fn default_stop_bits() -> u8 {
        1
    }
    const fn default_max_line_length() -> usize {
        4096
    }

    /// Reports values under the key path `key` that are out of range.
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        problems.range(&format!("{key}.baud"), self.baud, 50, 4_000_000);
        problems.range(&format!("{key}.data_bits"), self.data_bits, 5, 8);
        if !matches!(self.stop_bits, 1 | 2) {
            problems.push(
                &format!("{key}.stop_bits"),
                format!("must be 1 or 2, got {}", self.stop_bits),
            );
        }
        check_line_length(key, self.max_line_length, problems);
        self.reconnect.check(&format!("{key}.reconnect"), problems);
    }
}

/// Serial parity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parity {
    /// No parity bit.
    #[default]
    None,
    /// Odd parity.
    Odd,
    /// Even parity.
    Even,
}

/// Serial flow control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowControl {
    /// No flow control.
    #[default]
    None,
    /// XON/XOFF characters in the data stream.
    Software,
    /// RTS/CTS lines.
    Hardware,
}

/// Exponential backoff between reconnection attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconnectConfig {
    /// `initial_backoff`: wait before the first retry; doubled after each
    /// failure. Default `100ms`, at least `1ms`.
    #[serde(with = "units::duration")]
    pub initial_backoff: Duration,
    /// `max_backoff`: the longest wait between retries. Default `5s`, from
    /// `initial_backoff` to `1h`.
    #[serde(with = "units::duration")]
    pub max_backoff: Duration,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl ReconnectConfig {
    /// Reports values under the key path `key` that are out of range.
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        let max = Duration::from_hours(1);
        problems.duration_range(
            &format!("{key}.initial_backoff"),
            self.initial_backoff,
            MIN_POLL,
            max,
        );
        problems.duration_range(
            &format!("{key}.max_backoff"),
            self.max_backoff,
            self.initial_backoff,
            max,
        );
    }
}

/// `type: file`: reads lines from a file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// `path`: the file to read, relative to the working directory. Required.
    pub path: PathBuf,
    /// `read_from`: `checkpoint` resumes after the last line that was
    /// acknowledged (durable in every sink) on an earlier run, and reads a
    /// file it has no checkpoint for from its beginning; `beginning` always
    /// reads the whole file (a replay); `end` reads only what is appended
    /// after the agent starts. Default `checkpoint`.
    #[serde(default)]
    pub read_from: ReadFrom,
    /// `follow`: keep reading as the file grows and reopen it when rotated.
    /// Default `true`.
    #[serde(default = "FileSourceConfig::default_follow")]
    pub follow: bool,
    /// `poll_interval`: how often to look for new data when following.
    /// Default `250ms`, from `1ms` to `1h`.
    #[serde(
        default = "FileSourceConfig::default_poll_interval",
        with = "units::duration"
    )]
    pub poll_interval: Duration,
    /// `max_line_length`: longest line in bytes. Default 65536, from 16 to
    /// 1048576.
    #[serde(default = "FileSourceConfig::default_max_line_length")]
    pub max_line_length: usize,
}

impl FileSourceConfig {
    const fn default_follow() -> bool {
        true
    }
    const fn default_poll_interval() -> Duration {
        Duration::from_millis(250)
    }
    const fn default_max_line_length() -> usize {
        65_536
    }
}

/// Where a file source starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadFrom {
    /// After the last acknowledged line of an earlier run; from the first
    /// byte for a file without a checkpoint.
    #[default]
    Checkpoint,
    /// From the first byte, whatever was read before.
    Beginning,
    /// Only lines appended after the agent starts.
    End,
}

/// `type: stdin`: reads lines from standard input until it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StdinConfig {
    /// `max_line_length`: longest line in bytes. Default 65536, from 16 to
    /// 1048576.
    pub max_line_length: usize,
}

impl Default for StdinConfig {
    fn default() -> Self {
        Self {
            max_line_length: 65_536,
        }
    }
}

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

impl GeneratorConfig {
    /// Reports values under the key path `key` that are out of range.
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
