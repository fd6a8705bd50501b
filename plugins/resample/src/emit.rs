//! Writing bucket points, and counting what the plugin reports as metrics.

use foghorn_plugin::prelude::*;

use crate::bucket::Stats;
use crate::config::{Settings, Stat};

/// Counts reported as plugin counters at the end of a call.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Points for a bucket already closed.
    pub late: u64,
    /// Points whose bucket would start before `i64::MIN`.
    pub out_of_range: u64,
    /// Buckets and fields that outgrew `max_bucket_points`.
    pub overflow: u64,
    /// Empty buckets past `max_empty_buckets` in a gap.
    pub skipped: u64,
}

impl Counts {
    /// Add the counts to the plugin counters.
    pub(crate) fn report(&self) {
        for (name, count) in [
            ("late_points", self.late),
            ("out_of_range", self.out_of_range),
            ("bucket_overflow", self.overflow),
            ("empty_buckets_skipped", self.skipped),
        ] {
            if count > 0 {
                counter_add(name, count);
            }
        }
    }
}

/// Writes the bucket points of one call, finding each output column by
/// name once per call.
#[derive(Debug)]
pub(crate) struct Emitter<'s> {
    settings: &'s Settings,
    /// Per field and statistic, in `settings.outputs` order: its column in
    /// this call's output, once written.
    columns: Vec<Option<ColumnId>>,
    pub counts: Counts,
}

impl<'s> Emitter<'s> {
    pub(crate) fn new(settings: &'s Settings) -> Self {
        Self {
            settings,
            columns: vec![None; settings.outputs.iter().map(Vec::len).sum()],
            counts: Counts::default(),
        }
    }

    pub(crate) fn settings(&self) -> &'s Settings {
        self.settings
    }

    /// The point of a closed bucket: every statistic it has.
    pub(crate) fn bucket(
        &mut self,
        out: &mut Output,
        series: SeriesId,
        start: i64,
        fields: &mut [Stats],
    ) {
        let mut row = out.point_of(start, series);
        let mut at = 0;
        for (outputs, stats) in self.settings.outputs.iter().zip(fields) {
            if self.settings.keep_values {
                stats.sort();
            }
            for output in outputs {
                if let Some(value) = stats.value(output.stat) {
                    row = match self.columns[at] {
                        Some(column) => row.at_f64(column, value),
                        None => {
                            let (row, column) = row.field_id(&output.name, value);
                            self.columns[at] = Some(column);
                            row
                        }
                    };
                }
                at += 1;
            }
        }
    }

    /// The point of an empty bucket: count and sum 0, as pandas.
    pub(crate) fn empty(&mut self, out: &mut Output, series: SeriesId, start: i64) {
        let mut row = out.point_of(start, series);
        for (at, output) in self.settings.outputs.iter().flatten().enumerate() {
            if matches!(output.stat, Stat::Count | Stat::Sum) {
                row = match self.columns[at] {
                    Some(column) => row.at_f64(column, 0.0),
                    None => {
                        let (row, column) = row.field_id(&output.name, 0.0);
                        self.columns[at] = Some(column);
                        row
                    }
                };
            }
        }
    }
}
