//! diff: every point comes out with its fields and, for each configured
//! field and period `k`, a field `<field>_diff<k>` holding the field's value
//! minus its value `k` points earlier in the same series: what pandas'
//! `df.groupby(series)[field].diff(k)` computes, live.
//!
//! Values are floats or integers (as f64); a difference is absent (not NaN)
//! while the series has fewer than `k` earlier points, when this point or
//! the point `k` back lacks the field or has a value that is not a finite
//! number (text, a boolean, NaN, ±inf), and when the difference itself
//! overflows to ±inf (pandas would write `inf` there). Points are expected
//! in time order per series: a point older than the last one of its series
//! is rejected with the reason (`out of order: …`) and counted in the plugin
//! metric `out_of_order`; it changes no state. Points with the same
//! timestamp are in order.
//!
//! Memory: at most `max(periods)` values per series and field (and the
//! series' last timestamp); they are the snapshot, so a restart resumes
//! exactly. A snapshot taken with other fields or another largest period
//! is dropped: the histories start afresh.
//!
//! ```yaml
//! processors:
//!   features:
//!     inputs: [parse]
//!     plugin: builtin:diff
//!     config:
//!       fields: [temperature, power]   # required
//!       periods: [1, 12]               # default [1]
//! ```

mod config;

use std::collections::VecDeque;

use foghorn_plugin::columns::{Copier, FieldColumns, Slot};
use foghorn_plugin::prelude::*;

pub use config::Config;
use config::Settings;

/// What one series remembers.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct History {
    /// Timestamp of its last point.
    last: Option<i64>,
    /// For each configured field, its values at the last `max(periods)`
    /// points, newest last; `None` where a point lacked it.
    values: Vec<VecDeque<Option<f64>>>,
}

/// The diff feature.
#[derive(Debug)]
pub struct Diff {
    settings: Settings,
    series: PerSeries<History>,
}

impl Processor for Diff {
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
            values: vec![VecDeque::with_capacity(settings.depth); settings.fields.len()],
        };
        let inputs = FieldColumns::new(points, settings.fields.iter().map(|f| f.field.as_str()));
        let mut copier = Copier::new(points);
        let mut columns = vec![Slot::default(); settings.outputs];
        self.series
            .each_in_order(points, out, fresh, |history, _, point, out| {
                let Some(mut row) = copier.copy(points, point.index(), out) else {
                    return;
                };
                let mut column = columns.iter_mut();
                for (index, field) in settings.fields.iter().enumerate() {
                    let past = &mut history.values[index];
                    let current = inputs.reading(points, index, point.index());
                    for (k, name) in settings.periods.iter().zip(&field.names) {
                        let Some(column) = column.next() else { break };
                        let before = past.len().checked_sub(*k).and_then(|at| past[at]);
                        if let (Some(now), Some(before)) = (current, before)
                            && (now - before).is_finite()
                        {
                            row = column.put(row, name, now - before);
                        }
                    }
                    if past.len() == settings.depth {
                        past.pop_front();
                    }
                    past.push_back(current);
                }
            });
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode_table(&self.key(), &self.series)
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        // Another field list or depth: start afresh rather than misplace values.
        let (fields, depth) = (self.settings.fields.len(), self.settings.depth);
        snapshot::decode_table(state, &self.key(), &mut self.series, |history| {
            let values = &history.values;
            if values.len() != fields || values.iter().any(|v| v.len() > depth) {
                return Err("diff: the snapshot does not match its fields and periods".to_owned());
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

impl Diff {
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

export_processor!(Diff);

#[cfg(test)]
mod tests;
