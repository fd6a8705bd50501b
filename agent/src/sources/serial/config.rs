//! `type: serial` settings: the port, its line discipline, and how the
//! source reconnects.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::settings::{Problems, Settings, units};
use crate::sources::lines::check_max_line_length;

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
}

impl Settings for SerialConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        problems.range(&format!("{key}.baud"), self.baud, 50, 4_000_000);
        problems.range(&format!("{key}.data_bits"), self.data_bits, 5, 8);
        if !matches!(self.stop_bits, 1 | 2) {
            problems.push(
                &format!("{key}.stop_bits"),
                format!("must be 1 or 2, got {}", self.stop_bits),
            );
        }
        check_max_line_length(key, self.max_line_length, problems);
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
            Duration::from_millis(1),
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
