//! The recent values of one series and field by time, to find the value one
//! period (a day, a week) before a point.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// `(timestamp, value)` pairs in time order, spanning the longest period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Season(VecDeque<(i64, f64)>);

impl Season {
    /// The value at `ts - period`: that of the last point at or before it, if
    /// it is no more than `period / 100` earlier (a gap leaves it unknown).
    pub(crate) fn before(&self, ts: i64, period: i64) -> Option<f64> {
        let at = ts.checked_sub(period)?;
        let after = self.0.partition_point(|(t, _)| *t <= at);
        let (t, value) = *self.0.get(after.checked_sub(1)?)?;
        (at - t <= period / 100).then_some(value)
    }

    /// How many points lie within `period` before `ts` (exclusive).
    pub(crate) fn within(&self, ts: i64, period: i64) -> usize {
        let from = ts.saturating_sub(period);
        self.0.len() - self.0.partition_point(|(t, _)| *t <= from)
    }

    /// Add a point (in time order, after any of the same time), keeping
    /// what `span` (the longest period) back from the newest needs, and at
    /// most `capacity` points.
    pub(crate) fn push(&mut self, ts: i64, value: f64, span: i64, capacity: usize) {
        let at = self.0.partition_point(|(t, _)| *t <= ts);
        self.0.insert(at, (ts, value));
        let newest = self.0.back().map_or(ts, |(t, _)| *t);
        let horizon = newest.saturating_sub(span);
        // Keep the last point at or before the horizon: the lookup needs it.
        while self.0.len() > 1 && self.0[1].0 <= horizon {
            self.0.pop_front();
        }
        while self.0.len() > capacity {
            self.0.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_one_period_back_is_found_within_a_hundredth_of_it() {
        let mut s = Season::default();
        for i in 0..30 {
            s.push(i * 10, f64::from(i as i32), 100, 1000);
        }
        assert_eq!(s.before(290, 100), Some(19.0));
        assert_eq!(s.before(291, 100), Some(19.0), "1 is within 100/100");
        assert_eq!(s.before(295, 100), None, "5 late is a gap");
        assert!(s.0.len() <= 12, "only one period is kept: {}", s.0.len());
        let mut small = Season::default();
        for i in 0..30 {
            small.push(i * 10, 0.0, 1_000, 5);
        }
        assert_eq!(small.0.len(), 5, "capacity bounds it");
        assert_eq!(small.before(i64::MIN + 5, 100), None, "no overflow");
        s.push(285, 7.0, 100, 1000);
        assert_eq!(
            s.before(385, 100),
            Some(7.0),
            "a late point takes its place in time"
        );
    }
}
