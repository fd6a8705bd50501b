//! ewma: every point comes out with its fields and, for each configured
//! field, `<field>_ewma`: the exponentially weighted moving average of the
//! field in its series, what pandas'
//! `df.groupby(series)[field].transform(lambda s: s.ewm(...).mean())`
//! computes, live. It runs pandas' own recurrence, so it agrees with pandas
//! to rounding.
//!
//! The decay is set by exactly one of `alpha`, `span` (alpha = 2 / (span +
//! 1)), `com` (alpha = 1 / (1 + com)) or `halflife`. A `halflife` number
//! counts points (alpha = 1 - 0.5^(1 / halflife)); a `halflife` duration
//! such as `"10s"` counts time, as pandas' `ewm(halflife="10s",
//! times=timestamps)`: a value's weight halves with every half-life between
//! its timestamp and the latest (points with the same timestamp weigh the
//! same; the distance is the difference of the nanosecond timestamps as
//! floats, as pandas computes it).
//!
//! With `adjust: true` (the default, as pandas) the average is the mean of
//! every value so far with weights `(1 - alpha)^age`; with `adjust: false`
//! it is the recursion `y = (1 - alpha) y + alpha x`, starting at the first
//! value.
//!
//! Values are floats and integers; a point lacking the field, or whose value
//! is text, a boolean, NaN or infinite, is a missing value. It gets the
//! average so far, as pandas carries the previous mean through a NaN row;
//! with `ignore_na: false` (the default, as pandas) it still ages the older
//! values, so a value after a gap of `g` points outweighs the ones before
//! it as if the gap had values; with `ignore_na: true` the gap is not
//! counted. Two pandas details are replicated: with a time half-life and
//! `ignore_na: true`, the older values decay only by the time since the
//! point just before (with or without a value); with `adjust: false` and a
//! center of mass of exactly 1 (alpha 0.5, span 3, com 1, halflife 1, or
//! any time half-life), a new value weighs 1 minus the decayed weight of
//! the past, which equals alpha between consecutive values and is more
//! after a gap (pandas' update for irregular intervals).
//!
//! No average is emitted before the series' first value, nor before it has
//! `min_periods` values. A point older than the last one of its series is
//! rejected (`out of order: …`), counted in the plugin metric
//! `out_of_order`, and changes nothing. Where pandas would overflow to
//! infinity (values near ±1.8e308) the average stays finite.
//!
//! Memory: per series its last timestamp and, per field, three numbers (the
//! average, its weight, the count of values); they are the snapshot, so a
//! restart resumes exactly. A snapshot taken with other fields or another
//! decay (center of mass, `adjust`, half-life in time) is dropped: the
//! averages start afresh.
//!
//! ```yaml
//! processors:
//!   smooth:
//!     inputs: [parse]
//!     plugin: builtin:ewma
//!     config:
//!       fields: [temperature]   # required
//!       span: 12                # or alpha, com, halflife: one of them
//!       adjust: true            # the default, as pandas
//!       ignore_na: false        # the default, as pandas
//!       min_periods: 0          # the default
//!   smooth_by_time:
//!     inputs: [parse]
//!     plugin: builtin:ewma
//!     config:
//!       fields: [temperature]
//!       halflife: 10s           # weight halves every 10 s of timestamps
//! ```

mod average;
mod config;

use foghorn_plugin::columns::{Copier, FieldColumns, Slot};
use foghorn_plugin::prelude::*;

use average::Average;
pub use config::{Config, Halflife};
use config::{Decay, Settings};

/// What one series remembers.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct History {
    /// Timestamp of its last point.
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
        let points = &batch.points;
        let fresh = || History {
            last: None,
            averages: vec![Average::default(); settings.fields.len()],
        };
        let inputs = FieldColumns::new(points, settings.fields.iter().map(|(f, _)| f.as_str()));
        let mut copier = Copier::new(points);
        let mut columns = vec![Slot::default(); settings.fields.len()];
        self.series
            .each_in_order(points, out, fresh, |history, previous, point, out| {
                // Half-lives since the previous point, as pandas: the
                // difference of the timestamps as floats.
                #[allow(clippy::cast_precision_loss, reason = "as pandas")]
                let delta = match (settings.decay.halflife_ns, previous) {
                    (Some(halflife), Some(last)) => {
                        (point.timestamp() as f64 - last as f64) / halflife
                    }
                    _ => 1.0,
                };
                let Some(mut row) = copier.copy(points, point.index(), out) else {
                    return;
                };
                let fields = settings.fields.iter().zip(&mut history.averages);
                for (index, (((_, name), average), column)) in fields.zip(&mut columns).enumerate()
                {
                    average.step(
                        inputs.reading(points, index, point.index()),
                        delta,
                        settings,
                    );
                    if let Some(value) = average.value(settings) {
                        row = column.put(row, name, value);
                    }
                }
            });
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode_table(&self.key(), &self.series)
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        // Another field list or decay: start afresh.
        let fields = self.settings.fields.len();
        snapshot::decode_table(state, &self.key(), &mut self.series, |history| {
            if history.averages.len() != fields {
                return Err("ewma: the snapshot does not match its fields".to_owned());
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

impl Ewma {
    /// What the averages were computed for.
    fn key(&self) -> Key {
        Key {
            fields: self
                .settings
                .fields
                .iter()
                .map(|(f, _)| f.clone())
                .collect(),
            decay: self.settings.decay,
        }
    }
}

/// What a snapshot's averages were computed for.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Key {
    fields: Vec<String>,
    decay: Decay,
}

export_processor!(Ewma);

#[cfg(test)]
mod tests;
