//! Batching: how many records a source gathers before handing them on, and
//! how long it waits for more; the global `batch` and a source's own.

use std::time::Duration;

use serde::Deserialize;

use crate::settings::Problems;
use crate::settings::units;

/// How many records a component gathers before handing them on, and how long
/// it waits for more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// `max_records`: a batch is sent as soon as it holds this many records.
    /// Default 1024, from 1 to 1000000.
    pub max_records: usize,
    /// `linger`: a batch that is not full is sent this long after its first
    /// record arrived. Default `50ms`, from `0s` (send at once) to `60s`.
    #[serde(with = "units::duration")]
    pub linger: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_records: 1024,
            linger: Duration::from_millis(50),
        }
    }
}

/// A component's own `batch`: each key left out falls back to the global
/// `batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchOverride {
    /// `max_records`: as the global `batch.max_records`. Default: inherited.
    pub max_records: Option<usize>,
    /// `linger`: as the global `batch.linger`. Default: inherited.
    #[serde(with = "units::option_duration")]
    pub linger: Option<Duration>,
}

const MAX_RECORDS: (usize, usize) = (1, 1_000_000);
const MAX_LINGER: Duration = Duration::from_mins(1);

impl BatchConfig {
    /// Reports values under the key path `key` that are out of range.
    pub(crate) fn check(&self, key: &str, problems: &mut Problems<'_>) {
        BatchOverride {
            max_records: Some(self.max_records),
            linger: Some(self.linger),
        }
        .check(key, problems);
    }
}

impl BatchOverride {
    /// Reports values under the key path `key` that are out of range.
    pub(crate) fn check(&self, key: &str, problems: &mut Problems<'_>) {
        if let Some(max_records) = self.max_records {
            let (min, max) = MAX_RECORDS;
            problems.range(&format!("{key}.max_records"), max_records, min, max);
        }
        if let Some(linger) = self.linger {
            problems.duration_range(&format!("{key}.linger"), linger, Duration::ZERO, MAX_LINGER);
        }
    }
}
