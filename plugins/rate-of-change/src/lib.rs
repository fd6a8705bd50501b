//! Rate-of-change alerts: a firing alert for every pair of consecutive
//! readings of a field whose change exceeds `max_delta`.
//!
//! The previous reading is kept per series and rule, across batches and
//! restarts. Each reading is compared with the one before it; a change
//! larger than `max_delta` in absolute value fires (with the new value and
//! the point's timestamp). Nothing resolves: a jump is an event, not a
//! condition. With `per_second`, the change is divided by the seconds between
//! the two readings, and a reading not newer than the previous one is
//! skipped. Points pass through to no output: this is a detector.
//!
//! ```yaml
//! processors:
//!   jumps:
//!     inputs: [parse]
//!     plugin: builtin:rate-of-change
//!     config:
//!       rules:
//!         - field: temperature
//!           max_delta: 15                    # |change| above 15 fires
//!           severity: warning                # info | warning (default) | critical
//!         - field: voltage
//!           max_delta: 0.5
//!           per_second: true                 # 0.5 V per second
//!           kind: voltage_slew               # default `rate_of_change`
//!           description: "{field} moved {abs_delta} V/s (limit {max_delta})"
//! ```
//!
//! Description placeholders: `{field}` `{value}` `{previous}` `{delta}`
//! `{abs_delta}` `{max_delta}` `{series}`. `{delta}` is signed and
//! `{delta}`/`{abs_delta}` are rounded to at most 3 decimals (`+70.2`,
//! `-69.5`); the other numbers print as Rust prints an `f64` (`95.5`, `26`).
//! Every number but `{delta}` takes a precision (`{abs_delta:.2}` →
//! `43.50`).

mod config;

use foghorn_plugin::prelude::*;
use foghorn_plugin::template::{Arg, round3};

pub use config::{Config, RuleConfig};
use config::{Placeholder, Rule};

/// One reading of a field.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    timestamp: i64,
    value: f64,
}

/// The rate-of-change detector.
#[derive(Debug)]
pub struct RateOfChange {
    rules: Vec<Rule>,
    /// The last reading of each rule's field, per series: one per rule, in
    /// config order.
    previous: PerSeries<Vec<Option<Reading>>>,
}

impl Rule {
    /// The change from `previous` to `current`, or `None` when a rate cannot
    /// be computed (the reading is not newer than the previous one).
    #[allow(
        clippy::cast_precision_loss,
        reason = "nanosecond spans as f64 seconds are exact enough"
    )]
    fn delta(&self, previous: Reading, current: Reading) -> Option<f64> {
        let change = current.value - previous.value;
        if !self.per_second {
            return Some(change);
        }
        let seconds = (current.timestamp - previous.timestamp) as f64 / 1e9;
        (seconds > 0.0).then(|| change / seconds)
    }

    fn describe(&self, previous: f64, value: f64, delta: f64, series: &Series) -> String {
        let series = series.to_string();
        // `{delta}` keeps its sign: `+70.2`, `-69.5`.
        let signed = format!("{:+}", round3(delta));
        self.description
            .render_args(|placeholder| match placeholder {
                Placeholder::Field => Arg::Text(&self.field),
                Placeholder::Value => Arg::Number(value),
                Placeholder::Previous => Arg::Number(previous),
                Placeholder::Delta => Arg::Text(&signed),
                Placeholder::AbsDelta => Arg::Rounded(delta.abs()),
                Placeholder::MaxDelta => Arg::Number(self.max_delta),
                Placeholder::Series => Arg::Text(&series),
            })
    }
}

impl Processor for RateOfChange {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        Ok(Self {
            rules: config.compile()?,
            previous: PerSeries::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let mut slots = BatchSlots::new(&batch.points);
        let none = || vec![None; self.rules.len()];
        for point in batch.points.iter() {
            let series = point.series();
            let slot = slots.slot(&mut self.previous, point, none);
            for (rule, previous) in self.rules.iter().zip(self.previous.get_mut(slot)) {
                let Some(value) = point.number(&rule.field).filter(|v| v.is_finite()) else {
                    continue;
                };
                let current = Reading {
                    timestamp: point.timestamp(),
                    value,
                };
                let Some(before) = *previous else {
                    *previous = Some(current);
                    continue;
                };
                let Some(delta) = rule.delta(before, current) else {
                    continue;
                };
                *previous = Some(current);
                if delta.abs() > rule.max_delta {
                    let description = rule.describe(before.value, value, delta, series);
                    let alert = Alert::firing(
                        &rule.kind,
                        rule.severity,
                        series,
                        current.timestamp,
                        description,
                    );
                    out.alert(alert.with_label("field", &rule.field).with_value(value));
                }
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        let mut readings = Vec::new();
        for (series, previous) in self.previous.iter() {
            for (rule, (previous, config)) in previous.iter().zip(&self.rules).enumerate() {
                if let Some(reading) = previous {
                    readings.push(SavedReading {
                        name: series.name.clone(),
                        tags: series.tags.clone(),
                        rule,
                        field: config.field.clone(),
                        timestamp: reading.timestamp,
                        value: reading.value,
                    });
                }
            }
        }
        snapshot::encode(&Snapshot { readings })
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let saved: Snapshot = snapshot::decode(state)?;
        self.previous.clear();
        let rules = self.rules.len();
        for reading in saved.readings {
            // A rule that changed since the snapshot starts afresh.
            if self
                .rules
                .get(reading.rule)
                .is_none_or(|rule| rule.field != reading.field)
            {
                continue;
            }
            let series = Series {
                name: reading.name,
                tags: reading.tags,
            };
            let slot = self.previous.slot(&series, || vec![None; rules]);
            self.previous.get_mut(slot)[reading.rule] = Some(Reading {
                timestamp: reading.timestamp,
                value: reading.value,
            });
        }
        Ok(())
    }
}

/// The state kept across restarts: the previous reading per series and rule.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    readings: Vec<SavedReading>,
}

/// The previous reading of rule `rule` (on `field`) for series `name`/`tags`.
#[derive(Debug, Serialize, Deserialize)]
struct SavedReading {
    name: String,
    tags: Vec<(String, String)>,
    rule: usize,
    field: String,
    timestamp: i64,
    value: f64,
}

export_processor!(RateOfChange);

#[cfg(test)]
mod tests;
