//! Z-score outliers: a firing alert for a value more than `threshold`
//! standard deviations from the mean of the recent values of its series and
//! field.
//!
//! Each (series, field) keeps a rolling window of its last `window` values.
//! A value is scored against the window before it joins it: z = (value −
//! mean) / std, with the population standard deviation. Once the window holds
//! `min_samples` values, |z| > `threshold` fires (with the value, the score
//! and the point's timestamp); nothing resolves, as an outlier is an event.
//! A window with no spread at all (every value equal) scores a value equal
//! to them 0 and any other value ±infinity, so a flat signal that moves is
//! always reported; `{score}` then reads `inf`, and JSON outputs carry the
//! score as `null`. Only numeric (float or integer) finite values are scored.
//! The windows are kept in the snapshot, so after a restart scoring resumes
//! at once instead of waiting for `min_samples` new values.
//!
//! With `emit_scores`, every input point yields a point of the same series
//! and timestamp with a field `<field>_zscore` per field scored (none while
//! the window is still shorter than `min_samples`); otherwise the plugin
//! emits alerts only.
//!
//! ```yaml
//! processors:
//!   outliers:
//!     inputs: [parse]
//!     plugin: builtin:zscore
//!     config:
//!       fields: [temperature, voltage]    # default: every numeric field
//!       window: 100                       # the default
//!       threshold: 4.0                    # sigmas; default 3.0
//!       min_samples: 20                   # default 10
//!       severity: warning                 # info | warning (default) | critical
//!       description: "{field} {value} is {score} sigma from mean {mean}"
//!       emit_scores: true                 # temperature_zscore, voltage_zscore
//! ```
//!
//! Description placeholders: `{field}` `{value}` `{score}` `{mean}` `{std}`
//! `{series}`; `{score}`, `{mean}` and `{std}` are rounded to at most 3
//! decimals, `{value}` prints as Rust prints an `f64`.

mod config;
mod window;

use std::fmt::Write as _;

use foghorn_plugin::prelude::*;

pub use config::Config;
use config::{Placeholder, Settings};
use window::{Stats, Window};

/// One field of one series.
#[derive(Debug)]
struct FieldWindow {
    field: String,
    /// `<field>_zscore`, the name of its score in emitted points.
    score_field: String,
    window: Window,
}

/// The windows of one series.
#[derive(Debug, Default)]
struct SeriesWindows {
    fields: Vec<FieldWindow>,
}

impl SeriesWindows {
    /// The position of `field` in `fields`, adding it with an empty window of
    /// `capacity` if new.
    fn field(&mut self, field: &str, capacity: usize) -> usize {
        if let Some(index) = self.fields.iter().position(|f| f.field == field) {
            return index;
        }
        self.fields.push(FieldWindow {
            field: field.to_owned(),
            score_field: format!("{field}_zscore"),
            window: Window::new(capacity),
        });
        self.fields.len() - 1
    }
}

/// The zscore detector.
#[derive(Debug)]
pub struct Zscore {
    settings: Settings,
    states: PerSeries<SeriesWindows>,
}

/// How many standard deviations `value` is from the mean; see the crate
/// docs for a window without spread.
fn zscore(value: f64, stats: Stats) -> f64 {
    let deviation = value - stats.mean;
    if stats.std > 0.0 {
        deviation / stats.std
    } else if deviation == 0.0 {
        0.0
    } else {
        f64::INFINITY.copysign(deviation)
    }
}

/// `x` rounded to at most 3 decimals, without a negative zero.
fn round3(x: f64) -> f64 {
    let rounded = if x.abs() < 1e15 {
        (x * 1000.0).round() / 1000.0
    } else {
        x
    };
    rounded + 0.0
}

/// Score `value` of field `field` against its window, alert if it is an
/// outlier, then add it to the window. Records the score in `scored`.
fn observe(
    (settings, series): (&Settings, &Series),
    state: &mut SeriesWindows,
    (field, value, timestamp): (&str, f64, i64),
    out: &mut Output,
    scored: &mut Vec<(usize, f64)>,
) {
    if !value.is_finite() {
        return;
    }
    let index = state.field(field, settings.window);
    let window = &mut state.fields[index].window;
    if window.len() >= settings.min_samples
        && let Some(stats) = window.stats()
    {
        let score = zscore(value, stats);
        scored.push((index, score));
        if score.abs() > settings.threshold {
            let description = settings.description.render(|placeholder, out| {
                let _ = match placeholder {
                    Placeholder::Field => out.write_str(field),
                    Placeholder::Value => write!(out, "{value}"),
                    Placeholder::Score => write!(out, "{}", round3(score)),
                    Placeholder::Mean => write!(out, "{}", round3(stats.mean)),
                    Placeholder::Std => write!(out, "{}", round3(stats.std)),
                    Placeholder::Series => write!(out, "{series}"),
                };
            });
            let alert = Alert::firing(
                &settings.kind,
                settings.severity,
                series,
                timestamp,
                description,
            );
            let field = &state.fields[index].field;
            out.alert(
                alert
                    .with_label("field", field)
                    .with_value(value)
                    .with_score(score),
            );
        }
    }
    state.fields[index].window.push(value);
}

impl Processor for Zscore {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        Ok(Self {
            settings: config.compile()?,
            states: PerSeries::new(),
        })
    }

    #[allow(
        clippy::cast_precision_loss,
        reason = "integer readings are scored as f64"
    )]
    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let mut slots = BatchSlots::new(&batch.points);
        let mut scored = Vec::new();
        for point in batch.points.iter() {
            let slot = slots.slot(&mut self.states, point, SeriesWindows::default);
            let (settings, state) = (&self.settings, self.states.get_mut(slot));
            let ts = point.timestamp();
            scored.clear();
            if settings.fields.is_empty() {
                for (field, value) in point.fields() {
                    let value = match value {
                        Value::Float(v) => v,
                        Value::Int(v) => v as f64,
                        Value::Bool(_) | Value::Text(_) => continue,
                    };
                    observe(
                        (settings, point.series()),
                        state,
                        (field, value, ts),
                        out,
                        &mut scored,
                    );
                }
            } else {
                for field in &settings.fields {
                    let value = match point.field(field) {
                        Some(Value::Float(v)) => v,
                        Some(Value::Int(v)) => v as f64,
                        _ => continue,
                    };
                    observe(
                        (settings, point.series()),
                        state,
                        (field, value, ts),
                        out,
                        &mut scored,
                    );
                }
            }
            if settings.emit_scores {
                let mut row = out.point(ts, point.series());
                for &(index, score) in &scored {
                    row = row.field(&state.fields[index].score_field, score);
                }
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        let windows: Vec<SavedWindow> = self
            .states
            .iter()
            .flat_map(|(series, state)| {
                state.fields.iter().map(|field| SavedWindow {
                    name: series.name.clone(),
                    tags: series.tags.clone(),
                    field: field.field.clone(),
                    values: field.window.values().collect(),
                })
            })
            .collect();
        snapshot::encode(&Snapshot { windows })
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let saved: Snapshot = snapshot::decode(state)?;
        self.states.clear();
        for saved in saved.windows {
            let fields = &self.settings.fields;
            if !fields.is_empty() && !fields.contains(&saved.field) {
                continue;
            }
            let series = Series {
                name: saved.name,
                tags: saved.tags,
            };
            let slot = self.states.slot(&series, SeriesWindows::default);
            let state = self.states.get_mut(slot);
            let index = state.field(&saved.field, self.settings.window);
            // The window may have shrunk since: it keeps the newest values.
            let values = saved.values.into_iter().filter(|v| v.is_finite());
            state.fields[index].window = Window::from_values(self.settings.window, values);
        }
        Ok(())
    }
}

/// The state kept across restarts: every window.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    windows: Vec<SavedWindow>,
}

/// The window of field `field` of series `name`/`tags`, oldest value first.
#[derive(Debug, Serialize, Deserialize)]
struct SavedWindow {
    name: String,
    tags: Vec<(String, String)>,
    field: String,
    values: Vec<f64>,
}

export_processor!(Zscore);

#[cfg(test)]
mod tests;
