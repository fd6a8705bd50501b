//! [`Problems`]: the located errors collected while checking a
//! configuration. Every config struct's `check` writes here; kept apart from
//! the checks of the whole graph (`validate`) so that no config file needs
//! to import the file that imports them all.

use std::fmt;
use std::time::Duration;

use super::error::ConfigError;
use super::source_map::SourceMap;
use super::units::format_duration;

/// Collects located errors while checking one configuration.
pub struct Problems<'a> {
    /// Locates each key path.
    map: &'a SourceMap,
    /// Everything found so far.
    errors: Vec<ConfigError>,
}

impl<'a> Problems<'a> {
    pub(crate) fn new(map: &'a SourceMap) -> Self {
        Self {
            map,
            errors: Vec::new(),
        }
    }

    /// An error about the dotted key path `key`.
    pub fn push(&mut self, key: &str, message: impl Into<String>) {
        self.errors.push(self.map.error_at_key(key, message));
    }

    /// An error about `key` at an explicit position.
    pub fn push_at(&mut self, key: String, position: (usize, usize), message: impl Into<String>) {
        self.errors
            .push(ConfigError::new(self.map.file(), position, key, message));
    }

    /// An error unless `min <= value <= max` (NaN is out of every range).
    pub fn range<T: Copy + PartialOrd + fmt::Display>(
        &mut self,
        key: &str,
        value: T,
        min: T,
        max: T,
    ) {
        if !(min <= value && value <= max) {
            self.push(key, format!("must be between {min} and {max}, got {value}"));
        }
    }

    /// [`Self::range`] for durations, written as the YAML would write them.
    pub fn duration_range(&mut self, key: &str, value: Duration, min: Duration, max: Duration) {
        if !(min <= value && value <= max) {
            let (min, max, value) = (
                format_duration(min),
                format_duration(max),
                format_duration(value),
            );
            self.push(key, format!("must be between {min} and {max}, got {value}"));
        }
    }

    pub(crate) fn into_errors(self) -> Vec<ConfigError> {
        self.errors
    }
}
