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
//! Three refinements, all per rule: hysteresis (`clear_below` / `clear_above`:
//! a firing alert resolves only past these, so a value hovering at the limit
//! does not flap), a minimum duration (`for`, in event time, as Prometheus':
//! a shorter violation fires nothing), and `levels` (more severe limits on
//! the same field: the one alert fires again with the severity of the
//! highest level violated, up and down). The firing and pending states are
//! in the snapshot: a restart anywhere changes no alert (tested at every
//! point of a series).
//!
//! With `resolve: false` every point in violation fires an alert of its own
//! (severity by level) and nothing resolves: no state at all, so the alerts
//! are the same wherever and in whatever split the points are processed,
//! e.g. on any aggregator of a Kafka consumer group (`for` and the clear
//! bounds need state and are refused).
//!
//! ```yaml
//! processors:
//!   limits:
//!     inputs: [parse]
//!     plugin: builtin:threshold
//!     config:
//!       non_finite: error                       # error (default) | alert
//!       resolve: true                           # false: an alert per point in violation
//!       rules:
//!         - field: temperature
//!           max: 80
//!           severity: warning                   # info | warning (default) | critical
//!           clear_below: 75                     # resolve only under 75 (default: max)
//!           for: 30s                            # must last 30 s to fire (default 0s)
//!           levels: [{ max: 95, severity: critical }]
//!           description: "temperature {value} °C above {max} °C"
//!         - field: voltage
//!           min: 4.5
//!           max: 5.5
//!           kind: voltage_out_of_range          # default `threshold`
//!           resolved_description: "{field} {value} back within {min}–{max}"
//! ```
//!
//! Description placeholders: `{field}` `{value}` `{min}` `{max}` `{series}`;
//! numbers print as Rust prints an `f64` (`95.5`, `80`), or to a precision
//! given in the placeholder (`{value:.2}` → `95.50`, `{max:.1}` → `80.0`).

mod config;

use foghorn_plugin::prelude::*;
use foghorn_plugin::template::{Arg, Template};

pub use config::{Config, NonFinite, RuleConfig};
use config::{Placeholder, Rule};

/// Where a value stands against a rule's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Side {
    #[default]
    Within,
    Below,
    Above,
    /// NaN or infinity, with `non_finite: alert`.
    NotFinite,
}

/// Where one rule stands for one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct State {
    /// The side the alert fired for; `Within` while not firing.
    side: Side,
    /// The level it fired at: 0 for the rule's own limit, `i` for its
    /// `i`-th level.
    level: u8,
    /// A violation waiting out `for`: its side and when it began.
    pending: Option<(Side, i64)>,
}

impl Rule {
    /// The side of `value`, given the side the alert is firing for: with
    /// hysteresis, a firing alert stays until the value passes the clear
    /// bound.
    fn side(&self, value: f64, firing: Side) -> Side {
        let side = match (self.min, self.max) {
            (Some(min), _) if value < min => Side::Below,
            (_, Some(max)) if value > max => Side::Above,
            _ => Side::Within,
        };
        match (side, firing) {
            (Side::Within, Side::Above) if self.clear_below.is_some_and(|clear| value >= clear) => {
                Side::Above
            }
            (Side::Within, Side::Below) if self.clear_above.is_some_and(|clear| value <= clear) => {
                Side::Below
            }
            _ => side,
        }
    }

    /// The level of `value` on `side` (how many of its levels it is
    /// beyond), and that level's severity.
    fn level(&self, side: Side, value: f64) -> (u8, Severity) {
        let (levels, reached) = match side {
            Side::Above => {
                let levels = &self.above_levels;
                (
                    levels,
                    levels.iter().take_while(|(b, _)| value > *b).count(),
                )
            }
            Side::Below => {
                let levels = &self.below_levels;
                (
                    levels,
                    levels.iter().take_while(|(b, _)| value < *b).count(),
                )
            }
            Side::Within | Side::NotFinite => (&self.above_levels, 0),
        };
        match reached.checked_sub(1) {
            Some(last) => (u8::try_from(reached).unwrap_or(u8::MAX), levels[last].1),
            None => (0, self.severity),
        }
    }

    /// The side of `value` given the side firing, or, for a value that is
    /// not finite, `NotFinite` (`non_finite: alert`) or the reason to
    /// reject its point (`non_finite: error`).
    fn side_of(&self, value: f64, firing: Side, non_finite: NonFinite) -> Result<Side, String> {
        match (value.is_finite(), non_finite) {
            (true, _) => Ok(self.side(value, firing)),
            (false, NonFinite::Alert) => Ok(Side::NotFinite),
            (false, NonFinite::Error) => Err(format!(
                "field {}: {value} is not a finite number",
                self.field
            )),
        }
    }

    /// The firing alert for `value` on `side` (not `Within`).
    fn firing(
        &self,
        side: Side,
        severity: Severity,
        value: f64,
        series: &Series,
        ts: i64,
    ) -> Alert {
        let description = match side {
            Side::Above => self.describe(&self.above, value, series),
            Side::Below => self.describe(&self.below, value, series),
            Side::Within | Side::NotFinite => {
                format!("{} is {value}, not a finite number", self.field)
            }
        };
        Alert::firing(&self.kind, severity, series, ts, description)
            .with_label("field", &self.field)
            .with_value(value)
    }

    fn describe(&self, template: &Template<Placeholder>, value: f64, series: &Series) -> String {
        let series = series.to_string();
        template.render_args(|placeholder| match placeholder {
            Placeholder::Field => Arg::Text(&self.field),
            Placeholder::Value => Arg::Number(value),
            Placeholder::Min => Arg::Number(self.min.unwrap_or(f64::NAN)),
            Placeholder::Max => Arg::Number(self.max.unwrap_or(f64::NAN)),
            Placeholder::Series => Arg::Text(&series),
        })
    }
}

/// The threshold detector.
#[derive(Debug)]
pub struct Threshold {
    rules: Vec<Rule>,
    non_finite: NonFinite,
    /// Whether alerts resolve (state per series) or fire per point.
    resolve: bool,
    /// Where each rule stands, per series: one state per rule, in config
    /// order.
    states: PerSeries<Vec<State>>,
}

impl Threshold {
    /// `resolve: false`: an alert for every point in violation, from the
    /// point alone.
    fn fire_per_point(&self, batch: &Batch, out: &mut Output) {
        for point in batch.points.iter() {
            let series = point.series();
            for rule in &self.rules {
                let Some(value) = point.number(&rule.field) else {
                    continue;
                };
                let side = match rule.side_of(value, Side::Within, self.non_finite) {
                    Ok(Side::Within) => continue,
                    Ok(side) => side,
                    Err(reason) => {
                        out.reject_point(point.index(), reason);
                        continue;
                    }
                };
                let severity = rule.level(side, value).1;
                out.alert(rule.firing(side, severity, value, series, point.timestamp()));
            }
        }
    }
}

impl Processor for Threshold {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        Ok(Self {
            rules: config.compile()?,
            non_finite: config.non_finite,
            resolve: config.resolve,
            states: PerSeries::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        if !self.resolve {
            self.fire_per_point(batch, out);
            return;
        }
        let mut slots = BatchSlots::new(&batch.points);
        let fresh = || vec![State::default(); self.rules.len()];
        for point in batch.points.iter() {
            let series = point.series();
            let slot = slots.slot(&mut self.states, point, fresh);
            for (rule, state) in self.rules.iter().zip(self.states.get_mut(slot)) {
                let Some(value) = point.number(&rule.field) else {
                    continue;
                };
                let side = match rule.side_of(value, state.side, self.non_finite) {
                    Ok(side) => side,
                    Err(reason) => {
                        out.reject_point(point.index(), reason);
                        continue;
                    }
                };
                let ts = point.timestamp();
                if side == Side::Within {
                    state.pending = None;
                    if state.side != Side::Within {
                        *state = State::default();
                        let description = rule.describe(&rule.resolved, value, series);
                        let alert = Alert::resolved(&rule.kind, series, ts, description);
                        out.alert(alert.with_label("field", &rule.field).with_value(value));
                    }
                    continue;
                }
                let (level, severity) = rule.level(side, value);
                if state.side == side && state.level == level {
                    continue;
                }
                if state.side == Side::Within {
                    // Not firing yet: the violation must last `for`.
                    let since = match state.pending {
                        Some((pending, since)) if pending == side => since,
                        _ => ts,
                    };
                    if ts.saturating_sub(since) < rule.for_nanos {
                        state.pending = Some((side, since));
                        continue;
                    }
                }
                // Firing, or firing again for another side or level.
                *state = State {
                    side,
                    level,
                    pending: None,
                };
                out.alert(rule.firing(side, severity, value, series, ts));
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        let mut violations = Vec::new();
        for (series, states) in self.states.iter() {
            for (rule, (state, config)) in states.iter().zip(&self.rules).enumerate() {
                if *state != State::default() {
                    violations.push(Violation {
                        name: series.name.clone(),
                        tags: series.tags.clone(),
                        rule,
                        field: config.field.clone(),
                        side: state.side,
                        level: state.level,
                        pending: state.pending,
                    });
                }
            }
        }
        snapshot::encode(&Snapshot { violations })
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let saved: Snapshot = snapshot::decode(state)?;
        self.states.clear();
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
            let slot = self.states.slot(&series, || vec![State::default(); rules]);
            self.states.get_mut(slot)[violation.rule] = State {
                side: violation.side,
                level: violation.level,
                pending: violation.pending,
            };
        }
        Ok(())
    }
}

/// The state kept across restarts: the rules firing or pending, per series.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    violations: Vec<Violation>,
}

/// Rule `rule` (on `field`) of series `name`/`tags` fires on `side` at
/// `level`, or waits out `for` since `pending`.
#[derive(Debug, Serialize, Deserialize)]
struct Violation {
    name: String,
    tags: Vec<(String, String)>,
    rule: usize,
    field: String,
    side: Side,
    #[serde(default)]
    level: u8,
    #[serde(default)]
    pending: Option<(Side, i64)>,
}

export_processor!(Threshold);

#[cfg(test)]
mod tests;
