//! scale: every point comes out with its fields and, for each configured
//! field, `<field>_scaled`: the value standardised, (x - mean) / std, or
//! min-max scaled, (x - min) / (max - min), by the statistics of its series
//! and field.
//!
//! With `fit: expanding` (the default) the statistics are of every value so
//! far including the one scaled, as pandas'
//! `(s - s.expanding().mean()) / s.expanding().std(ddof=…)` (Welford's
//! method for the mean and variance); with `fit: frozen`, of the first
//! `warmup` values, then fixed, as a scikit-learn scaler fitted on them. No
//! scaled value is emitted before `warmup` values (standard deviation from
//! `ddof` 0, scikit-learn's, or 1, pandas'), nor when the standard
//! deviation or the range is 0 (every value so far equal). A point lacking
//! the field, or whose value is not a finite number, passes without it and
//! does not move the statistics. A point older than the last one of its
//! series is rejected (`out of order: …`) and counted in the plugin metric
//! `out_of_order`. Memory and snapshot: five numbers per series and field.
//!
//! ```yaml
//! processors:
//!   scaled:
//!     inputs: [features]
//!     plugin: builtin:scale
//!     config:
//!       fields: [temperature, temperature_diff1]   # required
//!       method: standard     # standard (default) | minmax
//!       warmup: 100          # default 10
//!       fit: frozen          # expanding (default) | frozen
//!       ddof: 0              # 0 (default, scikit-learn) | 1 (pandas)
//! ```

mod config;

use foghorn_plugin::prelude::*;

use config::Settings;
pub use config::{Config, Fit, Method};

/// The statistics of one series and field (`min` and `max` mean nothing
/// before the first value: JSON has no infinity for the snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Stats {
    count: u64,
    mean: f64,
    /// Sum of squared deviations from the mean.
    m2: f64,
    min: f64,
    max: f64,
}

impl Stats {
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    fn add(&mut self, value: f64) {
        self.count += 1;
        let delta = value - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (value - self.mean);
        if self.count == 1 {
            (self.min, self.max) = (value, value);
        }
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// `value` scaled, or `None` without spread.
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    fn scale(&self, value: f64, settings: &Settings) -> Option<f64> {
        let (offset, spread) = match settings.method {
            Method::Standard => {
                let n = self.count.checked_sub(u64::from(settings.ddof))?;
                (self.mean, (self.m2.max(0.0) / n as f64).sqrt())
            }
            Method::Minmax => (self.min, self.max - self.min),
        };
        (spread > 0.0 && spread.is_finite()).then(|| (value - offset) / spread)
    }
}

/// What one series remembers.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct History {
    last: Option<i64>,
    /// One per configured field.
    stats: Vec<Stats>,
}

/// The scale feature.
#[derive(Debug)]
pub struct Scale {
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

impl Processor for Scale {
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
            stats: vec![Stats::default(); settings.fields.len()],
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
            for ((field, name), stats) in settings.fields.iter().zip(&mut history.stats) {
                let Some(value) = number(point.field(field)) else {
                    continue;
                };
                if settings.fit == Fit::Expanding || stats.count < settings.warmup {
                    stats.add(value);
                }
                if stats.count >= settings.warmup
                    && let Some(scaled) = stats.scale(value, settings)
                {
                    row = row.field(name, scaled);
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
            fit: self.settings.fit,
            warmup: self.settings.warmup,
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
        // Other fields, or statistics of other values: start afresh.
        if saved.fields != fields
            || saved.fit != self.settings.fit
            || saved.warmup != self.settings.warmup
        {
            return Ok(());
        }
        for saved in saved.series {
            if saved.history.stats.len() != fields.len() {
                return Err("scale: the snapshot does not match its fields".to_owned());
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
    fit: Fit,
    warmup: u64,
    series: Vec<Saved>,
}

/// One series' statistics.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    name: String,
    tags: Vec<(String, String)>,
    history: History,
}

export_processor!(Scale);

#[cfg(test)]
mod tests;
