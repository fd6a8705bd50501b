//! Durations in a plugin's `config`, in the agent's own grammar (`500ms`,
//! `4s`, `5m`, `1h 30m`): the same YAML means the same thing everywhere.
//!
//! ```
//! use std::time::Duration;
//! use foghorn_plugin::prelude::*;
//!
//! #[derive(Deserialize)]
//! struct Config {
//!     #[serde(deserialize_with = "foghorn_plugin::duration::deserialize")]
//!     timeout: Duration,
//! }
//! let config: Config = serde_json::from_str(r#"{ "timeout": "1m 30s" }"#).unwrap();
//! assert_eq!(config.timeout, Duration::from_secs(90));
//! assert!(serde_json::from_str::<Config>(r#"{ "timeout": 90 }"#).is_err());
//! ```

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

pub use foghorn_model::duration::{format, parse};

/// Deserialize a duration written as text (see [`parse`]); for
/// `#[serde(deserialize_with = "foghorn_plugin::duration::deserialize")]`.
///
/// # Errors
/// When the value is not text in the duration grammar.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    deserializer.deserialize_str(DurationVisitor)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration with its unit, such as \"4s\", \"500ms\" or \"1m 30s\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse(text).map_err(E::custom)
    }
}
