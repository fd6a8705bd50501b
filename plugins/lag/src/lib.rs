//! lag: every point comes out with its fields and, for each configured
//! field and lag `k`, a field `<field>_lag<k>` holding that field's value `k`
//! points earlier in the same series: what pandas'
//! `df.groupby(series)[field].shift(k)` computes, live.
//!
//! A lag is absent (not NaN) while the series has fewer than `k` earlier
//! points, and when the point `k` back lacked the field or had a value that
//! is not a number. Points are expected in time order per series: a point
//! older than the last one of its series is rejected with the reason
//! (`out of order: …`) and counted in the plugin metric `out_of_order`; it
//! changes no state. Points with the same timestamp are in order. The last
//! `max(lags)` values of each series and field are in the snapshot, so a
//! restart resumes exactly.
//!
//! ```yaml
//! processors:
//!   features:
//!     inputs: [parse]
//!     plugin: builtin:lag
//!     config:
//!       fields: [temperature, cpu]   # required
//!       lags: [1, 2, 24]             # default [1]
//! ```

mod config;

use std::collections::VecDeque;

use foghorn_plugin::prelude::*;

pub use config::Config;
use config::Settings;

/// What one series remembers.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct History {
    /// Timestamp of its last point.
    last: Option<i64>,
    /// For each configured field, its values at the last `max(lags)`
    /// points, newest last; `None` where a point lacked it.
    values: Vec<VecDeque<Option<f64>>>,
}

/// The lag feature.
#[derive(Debug)]
pub struct Lag {
    settings: Settings,
    series: PerSeries<History>,
}

impl Processor for Lag {
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
            values: vec![VecDeque::with_capacity(settings.depth); settings.fields.len()],
        };
        self.series
            .each_in_order(&batch.points, out, fresh, |history, _, point, out| {
                let mut row = out.point(point.timestamp(), point.series());
                for (name, value) in point.fields() {
                    row = row.field(name, value);
                }
                for (index, field) in settings.fields.iter().enumerate() {
                    let past = &mut history.values[index];
                    for (k, name) in settings.lags.iter().zip(&field.names) {
                        if let Some(Some(value)) = past.len().checked_sub(*k).map(|at| past[at]) {
                            row = row.field(name, value);
                        }
                    }
                    if past.len() == settings.depth {
                        past.pop_front();
                    }
                    past.push_back(point.field(&field.field).and_then(|v| v.as_reading()));
                }
            });
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode_table(&self.key(), &self.series)
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        // Another field list or depth: start afresh rather than misplace values.
        snapshot::decode_table(state, &self.key(), &mut self.series, |_| Ok(()))
    }
}

impl Sequenced for History {
    fn last(&mut self) -> &mut Option<i64> {
        &mut self.last
    }
}

impl Lag {
    /// What the histories were kept for.
    fn key(&self) -> Key {
        Key {
            fields: self
                .settings
                .fields
                .iter()
                .map(|f| f.field.clone())
                .collect(),
            depth: self.settings.depth,
        }
    }
}

/// What a snapshot's histories were kept for.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Key {
    fields: Vec<String>,
    depth: usize,
}

export_processor!(Lag);

#[cfg(test)]
mod tests;
