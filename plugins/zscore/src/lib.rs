//! Z-score outliers: a firing alert for a value more than `threshold`
//! standard deviations from the mean of the recent values of its series and
//! field, or of all of them.
//!
//! Each (series, field) keeps a rolling window of its last `window` values
//! (`mode: rolling`, the default) or the running count, mean and sum of
//! squared deviations of every value so far (`mode: expanding`, Welford's
//! method: the "2 sigma over the whole series" of a notebook, computed
//! live). A value is scored against that past before it joins it: z =
//! (value − mean) / std, with the population standard deviation (`ddof: 0`,
//! the default) or the sample's (`ddof: 1`, as pandas' `std()`). Once
//! `min_samples` values are known, a value beyond `threshold` on the side
//! `direction` names (`both`, `above`, `below`) fires (with the value, the
//! score and the point's timestamp). By default every outlier is an event
//! and nothing resolves; with `resolve: true` a run of outliers fires once
//! and resolves at the first value that is not one.
//! A window with no spread at all (every value equal) scores a value equal
//! to them 0 and any other value ±infinity, so a flat signal that moves is
//! always reported; `{score}` then reads `inf`, and JSON outputs carry the
//! score as `null`. Only numeric (float or integer) finite values are scored.
//! The windows (with their running sums), the expanding statistics and the
//! firing state are kept in the snapshot, so a restart resumes scoring to the
//! last bit as if it had never stopped.
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
//!       mode: rolling                     # rolling (default) | expanding
//!       window: 100                       # the default (rolling only)
//!       ddof: 0                           # 0 population (default) | 1 sample
//!       direction: both                   # both (default) | above | below
//!       resolve: false                    # true: fire once per run, then resolve
//!       threshold: 4.0                    # sigmas; default 3.0
//!       min_samples: 20                   # default 10
//!       severity: warning                 # info | warning (default) | critical
//!       description: "{field} {value} is {score} sigma from mean {mean}"
//!       emit_scores: true                 # temperature_zscore, voltage_zscore
//! ```
//!
//! Description placeholders: `{field}` `{value}` `{score}` `{mean}` `{std}`
//! `{series}`; `{score}`, `{mean}` and `{std}` are rounded to at most 3
//! decimals, `{value}` prints as Rust prints an `f64`; any number takes a
//! precision (`{score:.1}` → `3.2`).

mod config;
mod history;
mod window;

use foghorn_plugin::prelude::*;
use foghorn_plugin::template::Arg;

pub use config::{Config, Direction, Mode};
use config::{Placeholder, Settings};
use history::{Expanding, History};
use window::{Stats, Sums, Window};

/// One field of one series.
#[derive(Debug)]
struct FieldWindow {
    field: String,
    /// `<field>_zscore`, the name of its score in emitted points.
    score_field: String,
    history: History,
    /// With `resolve`, an outlier fired and has not resolved yet.
    firing: bool,
}

/// The windows of one series.
#[derive(Debug, Default)]
struct SeriesWindows {
    fields: Vec<FieldWindow>,
}

impl SeriesWindows {
    /// The position of `field` in `fields`, adding it with an empty
    /// history if new.
    fn field(&mut self, field: &str, settings: &Settings) -> usize {
        if let Some(index) = self.fields.iter().position(|f| f.field == field) {
            return index;
        }
        self.fields.push(FieldWindow {
            field: field.to_owned(),
            score_field: format!("{field}_zscore"),
            history: History::new(settings.mode, settings.window),
            firing: false,
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
    let index = state.field(field, settings);
    let entry = &mut state.fields[index];
    if entry.history.len() >= settings.min_samples as u64
        && let Some(stats) = entry.history.stats(settings.ddof)
    {
        let score = zscore(value, stats);
        scored.push((index, score));
        let outlier = settings.direction.outlier(score, settings.threshold);
        let describe = || {
            let series = series.to_string();
            settings
                .description
                .render_args(|placeholder| match placeholder {
                    Placeholder::Field => Arg::Text(field),
                    Placeholder::Value => Arg::Number(value),
                    Placeholder::Score => Arg::Rounded(score),
                    Placeholder::Mean => Arg::Rounded(stats.mean),
                    Placeholder::Std => Arg::Rounded(stats.std),
                    Placeholder::Series => Arg::Text(&series),
                })
        };
        let alert = match (outlier, settings.resolve, entry.firing) {
            // An event per outlier, or the first of a run with `resolve`.
            (true, false, _) | (true, true, false) => Some(Alert::firing(
                &settings.kind,
                settings.severity,
                series,
                timestamp,
                describe(),
            )),
            (false, true, true) => Some(Alert::resolved(
                &settings.kind,
                series,
                timestamp,
                describe(),
            )),
            _ => None,
        };
        if settings.resolve {
            entry.firing = outlier;
        }
        if let Some(alert) = alert {
            out.alert(
                alert
                    .with_label("field", &entry.field)
                    .with_value(value)
                    .with_score(score),
            );
        }
    }
    entry.history.push(value);
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
                state.fields.iter().map(|field| {
                    let (values, sums, expanding) = match &field.history {
                        History::Rolling(window) => {
                            (window.values().collect(), Some(window.sums()), None)
                        }
                        History::Expanding(expanding) => (Vec::new(), None, Some(*expanding)),
                    };
                    SavedWindow {
                        name: series.name.clone(),
                        tags: series.tags.clone(),
                        field: field.field.clone(),
                        values,
                        sums,
                        expanding,
                        firing: field.firing,
                    }
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
            let index = state.field(&saved.field, &self.settings);
            let values: Vec<f64> = saved.values.into_iter().filter(|v| v.is_finite()).collect();
            let capacity = self.settings.window;
            let entry = &mut state.fields[index];
            entry.history = match (self.settings.mode, saved.expanding) {
                (Mode::Rolling, _) => History::Rolling(
                    saved
                        .sums
                        .and_then(|sums| Window::with_sums(capacity, values.clone(), sums))
                        // The window may have shrunk since: it keeps the
                        // newest values.
                        .unwrap_or_else(|| Window::from_values(capacity, values)),
                ),
                (Mode::Expanding, Some(expanding)) if expanding.mean.is_finite() => {
                    History::Expanding(expanding)
                }
                // Saved while rolling: what is known of the past is its window.
                (Mode::Expanding, _) => History::Expanding(Expanding::of(values.iter().copied())),
            };
            entry.firing = saved.firing && self.settings.resolve;
        }
        Ok(())
    }
}

/// The state kept across restarts: every window.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    windows: Vec<SavedWindow>,
}

/// The past of field `field` of series `name`/`tags`: its window's values,
/// oldest first, or its expanding statistics; and whether it is firing.
#[derive(Debug, Serialize, Deserialize)]
struct SavedWindow {
    name: String,
    tags: Vec<(String, String)>,
    field: String,
    values: Vec<f64>,
    /// The rolling window's running sums, to resume it exactly.
    #[serde(default)]
    sums: Option<Sums>,
    #[serde(default)]
    expanding: Option<Expanding>,
    #[serde(default)]
    firing: bool,
}

export_processor!(Zscore);

#[cfg(test)]
mod tests;
