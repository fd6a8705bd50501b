//! One series and field's window: its points in arrival order, and running
//! accumulators over their values (compensated sum, Welford's mean and
//! squared deviations, monotonic deques for the extremes, the values sorted
//! for quantiles) so that a point costs O(log n) plus the sorted insert.
//! Removing values from running sums leaves rounding behind; once as many
//! values have left as the window holds, the sums are computed afresh from
//! the values (amortised O(1) per point), so error does not grow with the
//! length of the series.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::config::{Kind, Settings, Stat, Window as Span};

/// A window: this alone is in the snapshot; the accumulators are rebuilt.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Window {
    /// (timestamp, value); `None` for a point without a value.
    entries: VecDeque<(i64, Option<f64>)>,
    /// The sequence number of `entries[0]`.
    front: u64,
    /// The running sums, saved as they are: rebuilding them from the
    /// entries would round differently, and a restart must change nothing.
    sums: Sums,
    /// Values removed from `sums` since they were last computed afresh.
    #[serde(default)]
    removed: usize,
    #[serde(skip)]
    acc: Accumulators,
}

/// The running sums over the window's values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Sums {
    count: usize,
    /// Kahan-compensated sum, as pandas' rolling sum and mean.
    sum: f64,
    compensation: f64,
    /// Welford's mean and sum of squared deviations, as pandas' rolling var.
    mean: f64,
    ssqdm: f64,
}

impl PartialEq for Window {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

/// What is rebuilt from the entries on restore.
#[derive(Debug, Clone, Default)]
struct Accumulators {
    /// (sequence, value): increasing values for the minimum, decreasing
    /// for the maximum.
    mins: VecDeque<(u64, f64)>,
    maxs: VecDeque<(u64, f64)>,
    /// The values, sorted (only when quantiles or the median are asked).
    sorted: Vec<f64>,
}

impl Sums {
    /// The sums of `values` computed afresh: compensated, and the squared
    /// deviations in two passes.
    #[allow(clippy::cast_precision_loss, reason = "window sizes far below 2^52")]
    fn of(values: impl Iterator<Item = f64> + Clone) -> Self {
        let mut sums = Self::default();
        for value in values.clone() {
            sums.count += 1;
            let y = value - sums.compensation;
            let t = sums.sum + y;
            sums.compensation = t - sums.sum - y;
            sums.sum = t;
        }
        if sums.count > 0 {
            sums.mean = sums.sum / sums.count as f64;
            sums.ssqdm = values.map(|v| (v - sums.mean) * (v - sums.mean)).sum();
        }
        sums
    }

    #[allow(clippy::cast_precision_loss, reason = "window sizes far below 2^52")]
    fn add(&mut self, value: f64) {
        self.count += 1;
        let y = value - self.compensation;
        let t = self.sum + y;
        self.compensation = t - self.sum - y;
        self.sum = t;
        let n = self.count as f64;
        let delta = value - self.mean;
        self.mean += delta / n;
        self.ssqdm += (n - 1.0) * delta * delta / n;
    }

    #[allow(clippy::cast_precision_loss, reason = "window sizes far below 2^52")]
    fn remove(&mut self, value: f64) {
        self.count -= 1;
        if self.count == 0 {
            // Nothing left: start afresh rather than carry drift.
            *self = Self::default();
            return;
        }
        let y = -value - self.compensation;
        let t = self.sum + y;
        self.compensation = t - self.sum - y;
        self.sum = t;
        let n = self.count as f64;
        let delta = value - self.mean;
        self.mean -= delta / n;
        self.ssqdm -= (n + 1.0) * delta * delta / n;
    }
}

impl Accumulators {
    fn add(&mut self, seq: u64, value: f64, sorted: bool) {
        while self.mins.back().is_some_and(|(_, v)| *v >= value) {
            self.mins.pop_back();
        }
        self.mins.push_back((seq, value));
        while self.maxs.back().is_some_and(|(_, v)| *v <= value) {
            self.maxs.pop_back();
        }
        self.maxs.push_back((seq, value));
        if sorted {
            let at = self.sorted.partition_point(|v| *v < value);
            self.sorted.insert(at, value);
        }
    }

    fn remove(&mut self, seq: u64, value: f64, sorted: bool) {
        if self.mins.front().is_some_and(|(s, _)| *s == seq) {
            self.mins.pop_front();
        }
        if self.maxs.front().is_some_and(|(s, _)| *s == seq) {
            self.maxs.pop_front();
        }
        if sorted {
            let at = self.sorted.partition_point(|v| *v < value);
            self.sorted.remove(at);
        }
    }
}

impl Window {
    /// Rebuild the extremes and the sorted copy from the entries (after a
    /// restore).
    pub(crate) fn reindex(&mut self, sorted: bool) {
        self.acc = Accumulators::default();
        self.entries.retain(|(_, v)| v.is_none_or(f64::is_finite));
        self.sums.count = self.entries.iter().filter(|(_, v)| v.is_some()).count();
        for (i, (_, value)) in self.entries.iter().enumerate() {
            if let Some(value) = value {
                self.acc.add(self.front + i as u64, *value, sorted);
            }
        }
    }

    /// Add a point at `ts` and forget what falls out of the window; how many
    /// were forgotten for `max_points` alone.
    pub(crate) fn push(&mut self, ts: i64, value: Option<f64>, settings: &Settings) -> u64 {
        let seq = self.front + self.entries.len() as u64;
        self.entries.push_back((ts, value));
        if let Some(value) = value {
            self.sums.add(value);
            self.acc.add(seq, value, settings.sorted);
        }
        match settings.window {
            Span::Points(n) => {
                while self.entries.len() > n {
                    self.pop(settings.sorted);
                }
            }
            Span::Time(span) => {
                let horizon = ts.saturating_sub(span);
                while self.entries.front().is_some_and(|(t, _)| *t <= horizon) {
                    self.pop(settings.sorted);
                }
            }
        }
        let mut overflow = 0;
        while self.entries.len() > settings.max_points {
            self.pop(settings.sorted);
            overflow += 1;
        }
        if self.removed > 0 && self.removed >= self.sums.count {
            self.sums = Sums::of(self.entries.iter().filter_map(|(_, v)| *v));
            self.removed = 0;
        }
        overflow
    }

    fn pop(&mut self, sorted: bool) {
        if let Some((_, value)) = self.entries.pop_front() {
            if let Some(value) = value {
                self.sums.remove(value);
                self.removed += 1;
                self.acc.remove(self.front, value, sorted);
            }
            self.front += 1;
        }
    }

    /// The value of `kind` over the window, if it has enough values.
    pub(crate) fn value(&self, kind: Kind, settings: &Settings) -> Option<f64> {
        let (acc, sums) = (&self.acc, &self.sums);
        let n = sums.count;
        if let Kind::Stat(Stat::Count) = kind {
            #[allow(clippy::cast_precision_loss, reason = "window sizes far below 2^52")]
            return (self.entries.len() >= settings.min_periods).then_some(n as f64);
        }
        if n == 0 || n < settings.min_periods {
            return None;
        }
        let (min, max) = (acc.mins.front()?.1, acc.maxs.front()?.1);
        #[allow(clippy::cast_precision_loss, reason = "window sizes far below 2^52")]
        let variance = || {
            let dof = n
                .checked_sub(usize::from(settings.ddof))
                .filter(|d| *d > 0)?;
            // Every value equal: exactly 0, as pandas.
            Some(if min == max {
                0.0
            } else {
                (sums.ssqdm / dof as f64).max(0.0)
            })
        };
        #[allow(clippy::cast_precision_loss, reason = "window sizes far below 2^52")]
        Some(match kind {
            Kind::Stat(Stat::Mean) if min == max => min,
            Kind::Stat(Stat::Mean) => sums.sum / n as f64,
            Kind::Stat(Stat::Sum) => sums.sum,
            Kind::Stat(Stat::Min) => min,
            Kind::Stat(Stat::Max) => max,
            Kind::Stat(Stat::Var) => variance()?,
            Kind::Stat(Stat::Std) => variance()?.sqrt(),
            Kind::Stat(Stat::Median) => {
                let sorted = &acc.sorted;
                if n % 2 == 1 {
                    sorted[n / 2]
                } else {
                    (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
                }
            }
            Kind::Quantile(q) => {
                let sorted = &acc.sorted;
                let at = q * (n - 1) as f64;
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "at is in [0, n - 1]"
                )]
                let low = at.floor() as usize;
                if low + 1 >= n || at == low as f64 {
                    sorted[low.min(n - 1)]
                } else {
                    sorted[low] + (sorted[low + 1] - sorted[low]) * (at - low as f64)
                }
            }
            Kind::Stat(Stat::Count) => unreachable!("returned above"),
        })
    }
}
