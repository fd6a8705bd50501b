//! Threshold alerts: a firing alert when a field of a series leaves its
//! limits, a resolved alert when it comes back, and nothing in between.
//!
//! Each rule checks one field against a `min`, a `max` or both (a value equal
//! to a bound is within limits). The state is kept per series and rule: the
//! alert fires on the first point in violation, stays quiet while the
//! violation lasts, fires again if the value jumps straight to the other side
//! (below `min`, then above `max`), and resolves (severity info, same `kind`)
//! on the first point back within limits. Every alert carries the point's
//! value and timestamp. Points pass through to no output: this is a detector.
//! A value that is not finite (NaN, infinity) is never skipped: the point is
//! rejected with the reason (`non_finite: error`, the default) or fires the
//! rule's alert (`non_finite: alert`).
//!
//! ```yaml
//! processors:
//!   limits:
//!     inputs: [parse]
//!     plugin: builtin:threshold
//!     config:
//!       non_finite: error                       # error (default) | alert
//!       rules:
//!         - field: temperature
//!           max: 80
//!           severity: critical                  # info | warning (default) | critical
//!           description: "temperature {value} °C above {max} °C"
//!         - field: voltage
//!           min: 4.5
//!           max: 5.5
//!           kind: voltage_out_of_range          # default `threshold`
//!           resolved_description: "{field} {value} back within {min}–{max}"
//! ```
//!
//! Description placeholders: `{field}` `{value}` `{min}` `{max}` `{series}`;
//! numbers print as Rust prints an `f64` (`95.5`, `80`).

mod config;

use std::fmt::Write as _;

use foghorn_plugin::prelude::*;

pub use config::{Config, NonFinite, RuleConfig};
use config::{Placeholder, Rule};
use foghorn_plugin::template::Template;

/// Where a value stands against a rule's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Side {
    Within,
    Below,
    Above,
    /// NaN or infinity, with `non_finite: alert`.
    NotFinite,
}

impl Rule {
    fn side(&self, value: f64) -> Side {
        match (self.min, self.max) {
            (Some(min), _) if value < min => Side::Below,
            (_, Some(max)) if value > max => Side::Above,
            _ => Side::Within,
        }
    }

    fn describe(&self, template: &Template<Placeholder>, value: f64, series: &Series) -> String {
        template.render(|placeholder, out| {
            let _ = match placeholder {
                Placeholder::Field => write!(out, "{}", self.field),
                Placeholder::Value => write!(out, "{value}"),
                Placeholder::Min => write!(out, "{}", self.min.unwrap_or(f64::NAN)),
                Placeholder::Max => write!(out, "{}", self.max.unwrap_or(f64::NAN)),
                Placeholder::Series => write!(out, "{series}"),
            };
        })
    }
}

/// The threshold detector.
#[derive(Debug)]
pub struct Threshold {
    rules: Vec<Rule>,
    non_finite: NonFinite,
    /// Where each rule stands, per series: one side per rule, in config
    /// order.
    sides: PerSeries<Vec<Side>>,
}

impl Processor for Threshold {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        Ok(Self {
            rules: config.compile()?,
            non_finite: config.non_finite,
            sides: PerSeries::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let mut slots = BatchSlots::new(&batch.points);
        let within = || vec![Side::Within; self.rules.len()];
        for point in batch.points.iter() {
            let series = point.series();
            let slot = slots.slot(&mut self.sides, point, within);
            for (rule, side_was) in self.rules.iter().zip(self.sides.get_mut(slot)) {
                let Some(value) = point.number(&rule.field) else {
                    continue;
                };
                let side = match (value.is_finite(), self.non_finite) {
                    (true, _) => rule.side(value),
                    (false, NonFinite::Alert) => Side::NotFinite,
                    (false, NonFinite::Error) => {
                        let reason =
                            format!("field {}: {value} is not a finite number", rule.field);
                        out.reject_point(point.index(), reason);
                        continue;
                    }
                };
                if side == *side_was {
                    continue;
                }
                *side_was = side;
                let ts = point.timestamp();
                let alert = match side {
                    Side::Within => Alert::resolved(
                        &rule.kind,
                        series,
                        ts,
                        rule.describe(&rule.resolved, value, series),
                    ),
                    Side::Above => {
                        let description = rule.describe(&rule.above, value, series);
                        Alert::firing(&rule.kind, rule.severity, series, ts, description)
                    }
                    Side::Below => {
                        let description = rule.describe(&rule.below, value, series);
                        Alert::firing(&rule.kind, rule.severity, series, ts, description)
                    }
                    Side::NotFinite => {
                        let description = format!("{} is {value}, not a finite number", rule.field);
                        Alert::firing(&rule.kind, rule.severity, series, ts, description)
                    }
                };
                out.alert(alert.with_label("field", &rule.field).with_value(value));
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        let mut violations = Vec::new();
        for (series, sides) in self.sides.iter() {
            for (rule, (&side, config)) in sides.iter().zip(&self.rules).enumerate() {
                if side != Side::Within {
                    violations.push(Violation {
                        name: series.name.clone(),
                        tags: series.tags.clone(),
                        rule,
                        field: config.field.clone(),
                        side,
                    });
                }
            }
        }
        snapshot::encode(&Snapshot { violations })
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let saved: Snapshot = snapshot::decode(state)?;
        self.sides.clear();
        let rules = self.rules.len();
        for violation in saved.violations {
            // A rule that changed since the snapshot starts afresh.
            if self
                .rules
                .get(violation.rule)
                .is_none_or(|rule| rule.field != violation.field)
            {
                continue;
            }
            let series = Series {
                name: violation.name,
                tags: violation.tags,
            };
            let slot = self.sides.slot(&series, || vec![Side::Within; rules]);
            self.sides.get_mut(slot)[violation.rule] = violation.side;
        }
        Ok(())
    }
}

/// The state kept across restarts: the rules in violation, per series.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    violations: Vec<Violation>,
}

/// Rule `rule` (on `field`) of series `name`/`tags` is on `side`.
#[derive(Debug, Serialize, Deserialize)]
struct Violation {
    name: String,
    tags: Vec<(String, String)>,
    rule: usize,
    field: String,
    side: Side,
}

export_processor!(Threshold);

#[cfg(test)]
mod tests;
