//! scale: every point comes out with its fields and, for each configured
//! field, `<field>_scaled`: the value standardised, (x - mean) / std
//! (`method: standard`, the default), or min-max scaled, (x - min) / (max -
//! min) (`method: minmax`), by the statistics of its series and field.
//!
//! With `fit: expanding` (the default) the statistics are of every value so
//! far including the one scaled, as pandas'
//! `(s - s.expanding().mean()) / s.expanding().std(ddof)` or
//! `(s - s.expanding().min()) / (s.expanding().max() - s.expanding().min())`
//! over the series' values; with `fit: frozen`, of the series' first
//! `warmup` values, then fixed, as a scikit-learn `StandardScaler` or
//! `MinMaxScaler` fitted on them (those values included: the scaler's
//! `fit_transform`, then `transform`). The mean and variance are Welford's
//! running ones; the standard deviation divides by count - `ddof` (0, the
//! default, scikit-learn's; 1 is pandas' `std()`).
//!
//! No scaled value is emitted before the series has `warmup` values (the
//! `warmup`-th is the first scaled), nor where the spread is 0 (every value
//! so far equal: scikit-learn would divide by 1 instead, pandas gives NaN),
//! nor where the spread or the result would overflow an f64. Values are
//! floats and integers; a point lacking the field, or whose value is text,
//! a boolean, NaN or infinite, passes without `<field>_scaled` and does not
//! move the statistics; with `standard`, neither does a value beyond about
//! ±1e154, whose square has no f64. A point older than the last one of its
//! series is rejected (`out of order: …`), counted in the plugin metric
//! `out_of_order`, and changes nothing; points with the same timestamp are
//! in order.
//!
//! Memory: per series its last timestamp and, per field, five numbers
//! (count, mean, sum of squared deviations, minimum, maximum); they are the
//! snapshot, so a restart resumes exactly. A snapshot taken with other
//! fields, `method`, `fit` or `warmup` is dropped: the statistics start
//! afresh.
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
//!       ddof: 0              # default 0 (scikit-learn); 1 as pandas' std()
//! ```

mod config;
mod stats;

use foghorn_plugin::columns::{Copier, FieldColumns, Slot};
use foghorn_plugin::prelude::*;

use config::Settings;
pub use config::{Config, Fit, Method};
use stats::Stats;

/// What one series remembers.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct History {
    /// Timestamp of its last point.
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
        let points = &batch.points;
        let fresh = || History {
            last: None,
            stats: vec![Stats::default(); settings.fields.len()],
        };
        let inputs = FieldColumns::new(points, settings.fields.iter().map(|(f, _)| f.as_str()));
        let mut copier = Copier::new(points);
        let mut columns = vec![Slot::default(); settings.fields.len()];
        self.series
            .each_in_order(points, out, fresh, |history, _, point, out| {
                let Some(mut row) = copier.copy(points, point.index(), out) else {
                    return;
                };
                let fields = settings.fields.iter().zip(&mut history.stats);
                for (index, (((_, name), stats), column)) in fields.zip(&mut columns).enumerate() {
                    let Some(value) = inputs.reading(points, index, point.index()) else {
                        continue;
                    };
                    let fitting = settings.fit == Fit::Expanding || stats.count < settings.warmup;
                    if fitting && !stats.add(value, settings.method) {
                        continue;
                    }
                    if stats.count >= settings.warmup
                        && let Some(scaled) = stats.scale(value, settings)
                    {
                        row = column.put(row, name, scaled);
                    }
                }
            });
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode_table(&self.key(), &self.series)
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        // Other fields, or statistics of other values: start afresh.
        let fields = self.settings.fields.len();
        snapshot::decode_table(state, &self.key(), &mut self.series, |history| {
            if history.stats.len() != fields {
                return Err("scale: the snapshot does not match its fields".to_owned());
            }
            Ok(())
        })
    }
}

impl Sequenced for History {
    fn last(&mut self) -> &mut Option<i64> {
        &mut self.last
    }
}

impl Scale {
    /// What the statistics were kept for.
    fn key(&self) -> Key {
        Key {
            fields: self
                .settings
                .fields
                .iter()
                .map(|(f, _)| f.clone())
                .collect(),
            method: self.settings.method,
            fit: self.settings.fit,
            warmup: self.settings.warmup,
        }
    }
}

/// What a snapshot's statistics were kept for.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Key {
    fields: Vec<String>,
    method: Method,
    fit: Fit,
    warmup: u64,
}

export_processor!(Scale);

#[cfg(test)]
mod tests;
