//! ewma: every point comes out with its fields and, for each configured
//! field, `<field>_ewma`: the exponentially weighted moving average of the
//! field in its series, as pandas'
//! `df.groupby(series)[field].transform(lambda s: s.ewm(...).mean())`
//! computes it, live (the same recurrence as pandas, so the same value to
//! the last bits but rounding).
//!
//! The decay is set by one of `alpha`, `span`, `com` or `halflife` (in
//! points). With `adjust: true` (the default) the average is that of every
//! value so far with weights `(1 - alpha)^age`; with `adjust: false` it is
//! the recursion `y = (1 - alpha) y + alpha x`. A point lacking the field
//! (or whose value is not a finite number) gets the average so far, and, with
//! `ignore_na: false` (the default, as pandas), still ages the older values;
//! no average is emitted before the series' first value or before
//! `min_periods` values. A point older than the last one of its series is
//! rejected (`out of order: …`) and counted in the plugin metric
//! `out_of_order`. Memory and snapshot: three numbers per series and field.
//!
//! ```yaml
//! processors:
//!   smooth:
//!     inputs: [parse]
//!     plugin: builtin:ewma
//!     config:
//!       fields: [temperature]   # required
//!       span: 12                # or alpha, com, halflife (one of them)
//!       adjust: true            # the default, as pandas
//!       ignore_na: false        # the default, as pandas
//!       min_periods: 0
//! ```

mod config;

use foghorn_plugin::prelude::*;

pub use config::Config;
use config::Settings;

/// The running average of one series and field: pandas' state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Average {
    /// The average so far; `None` before the first value.
    weighted: Option<f64>,
    /// The weight of the average so far.
    old_wt: f64,
    /// Values seen.
    nobs: u64,
}

impl Default for Average {
    fn default() -> Self {
        Self {
            weighted: None,
            old_wt: 1.0,
            nobs: 0,
        }
    }
}

impl Average {
    /// pandas' `ewm` step (`pandas/_libs/window/aggregations.pyx`) for one
    /// row, `None` when the row lacks a value.
    fn step(&mut self, value: Option<f64>, settings: &Settings) {
        let factor = 1.0 - settings.alpha;
        let new_wt = if settings.adjust { 1.0 } else { settings.alpha };
        self.nobs += u64::from(value.is_some());
        match (self.weighted, value) {
            (Some(weighted), value) if value.is_some() || !settings.ignore_na => {
                self.old_wt *= factor;
                if let Some(cur) = value {
                    if weighted != cur {
                        self.weighted =
                            Some((self.old_wt * weighted + new_wt * cur) / (self.old_wt + new_wt));
                    }
                    if settings.adjust {
                        self.old_wt += new_wt;
                    } else {
                        self.old_wt = 1.0;
                    }
                }
            }
            (Some(_), _) => {}
            (None, value) => self.weighted = value,
        }
    }

    fn value(&self, settings: &Settings) -> Option<f64> {
        self.weighted
            .filter(|_| self.nobs >= settings.min_periods.max(1))
    }
}

/// What one series remembers.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct History {
    last: Option<i64>,
    /// One per configured field.
    averages: Vec<Average>,
}

/// The ewma feature.
#[derive(Debug)]
pub struct Ewma {
    settings: Settings,
    series: PerSeries<History>,
}

#[allow(clippy::cast_precision_loss, reason = "integer readings as f64")]
fn number(value: Option<Value<'_>>) -> Option<f64> {
    match value? {
        Value::Float(v) if v.is_finite() => Some(v),
        Value::Int(v) => Some(v as f64),
        _ => None,
    }
}

impl Processor for Ewma {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        Ok(Self {
            settings: config.compile()?,
            series: PerSeries::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let settings = &self.settings;
        let fresh = || History {
            last: None,
            averages: vec![Average::default(); settings.fields.len()],
        };
        let mut slots = BatchSlots::new(&batch.points);
        let mut out_of_order = 0;
        for point in batch.points.iter() {
            let slot = slots.slot(&mut self.series, point, fresh);
            let history = self.series.get_mut(slot);
            let ts = point.timestamp();
            if let Some(last) = history.last
                && ts < last
            {
                out_of_order += 1;
                out.reject_point(
                    point.index(),
                    format!("out of order: {ts} is before {last}, the last point of its series"),
                );
                continue;
            }
            history.last = Some(ts);
            let mut row = out.point(ts, point.series());
            for (name, value) in point.fields() {
                row = row.field(name, value);
            }
            for ((field, name), average) in settings.fields.iter().zip(&mut history.averages) {
                average.step(number(point.field(field)), settings);
                if let Some(value) = average.value(settings) {
                    row = row.field(name, value);
                }
            }
        }
        if out_of_order > 0 {
            counter_add("out_of_order", out_of_order);
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode(&Snapshot {
            fields: self
                .settings
                .fields
                .iter()
                .map(|(f, _)| f.clone())
                .collect(),
            alpha: self.settings.alpha,
            series: self
                .series
                .iter()
                .map(|(series, history)| Saved {
                    name: series.name.clone(),
                    tags: series.tags.clone(),
                    history: history.clone(),
                })
                .collect(),
        })
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let saved: Snapshot = snapshot::decode(state)?;
        self.series.clear();
        let fields: Vec<&str> = self
            .settings
            .fields
            .iter()
            .map(|(f, _)| f.as_str())
            .collect();
        // Another field list or decay: start afresh.
        if saved.fields != fields || saved.alpha.to_bits() != self.settings.alpha.to_bits() {
            return Ok(());
        }
        for saved in saved.series {
            if saved.history.averages.len() != fields.len() {
                return Err("ewma: the snapshot does not match its fields".to_owned());
            }
            let series = Series {
                name: saved.name,
                tags: saved.tags,
            };
            let slot = self.series.slot(&series, History::default);
            *self.series.get_mut(slot) = saved.history;
        }
        Ok(())
    }
}

/// The state kept across restarts.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    fields: Vec<String>,
    alpha: f64,
    series: Vec<Saved>,
}

/// One series' averages.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    name: String,
    tags: Vec<(String, String)>,
    history: History,
}

export_processor!(Ewma);

#[cfg(test)]
mod tests;
