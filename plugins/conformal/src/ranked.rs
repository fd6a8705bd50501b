//! A bounded history of one nonconformity measure, kept both in arrival
//! order (to forget the oldest) and sorted (to rank a new value in
//! O(log n)), and the surprise of a new value against it.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Which tail of the history makes a value surprising.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tail {
    /// Far below or far above what was seen (the value itself).
    Both,
    /// Far above what was seen (a size of change).
    Upper,
}

/// The last `capacity` values of a measure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Ranked {
    /// In arrival order; this alone is in the snapshot.
    order: VecDeque<f64>,
    /// The same values, sorted.
    #[serde(skip)]
    sorted: Vec<f64>,
}

impl Ranked {
    /// Rebuild the sorted copy after a restore.
    pub(crate) fn reindex(&mut self) {
        self.sorted = self
            .order
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        self.sorted.sort_by(f64::total_cmp);
        self.order.retain(|v| v.is_finite());
    }

    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }

    /// How surprising `value` is against the history, in decades of
    /// p-value: `-log10(p)` with the conformal p-value `p = (k + 1) / (n +
    /// 1)`, where `k` of the `n` values are at least as extreme, plus
    /// `log10(1 + excess / spread)` for a value beyond everything seen
    /// (`excess` past the extreme, `spread` the interquartile range, or 1 %
    /// of the range when the middle half is flat). 0 for an empty history.
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn surprise(&self, value: f64, tail: Tail) -> f64 {
        let n = self.sorted.len();
        if n == 0 {
            return 0.0;
        }
        let sorted = &self.sorted;
        let below = sorted.partition_point(|v| *v <= value);
        let above = n - sorted.partition_point(|v| *v < value);
        let extreme = match tail {
            Tail::Both => below.min(above),
            Tail::Upper => above,
        };
        let p = (extreme as f64 + 1.0) / (n as f64 + 1.0);
        let (min, max) = (sorted[0], sorted[n - 1]);
        let spread = (sorted[3 * n / 4] - sorted[n / 4])
            .max((max - min) * 0.01)
            .max(1e-12);
        let excess = match tail {
            Tail::Both => (value - max).max(min - value).max(0.0),
            Tail::Upper => (value - max).max(0.0),
        };
        -p.log10() + (excess / spread).ln_1p() / std::f64::consts::LN_10
    }

    /// Add `value`, forgetting the oldest beyond `capacity`.
    pub(crate) fn push(&mut self, value: f64, capacity: usize) {
        if !value.is_finite() {
            return;
        }
        if self.order.len() >= capacity
            && let Some(oldest) = self.order.pop_front()
        {
            let at = self.sorted.partition_point(|v| *v < oldest);
            self.sorted.remove(at);
        }
        self.order.push_back(value);
        let at = self.sorted.partition_point(|v| *v < value);
        self.sorted.insert(at, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranked(values: impl IntoIterator<Item = f64>, capacity: usize) -> Ranked {
        let mut ranked = Ranked::default();
        for v in values {
            ranked.push(v, capacity);
        }
        ranked
    }

    #[test]
    fn the_surprise_is_the_conformal_p_value_in_decades() {
        let r = ranked((1..=99).map(f64::from), 1000);
        // The median: half the history is as extreme on its side.
        assert!(r.surprise(50.0, Tail::Both) < 0.31);
        // Beyond all 99 values by one spread (IQR 75 - 25): p = 1/100, plus log10(2).
        let s = r.surprise(99.0 + 50.0, Tail::Both);
        assert!((s - (2.0 + 2f64.log10())).abs() < 1e-9, "{s}");
        // The upper tail alone ignores small values.
        assert!(r.surprise(0.5, Tail::Upper) < 0.01);
        assert!(r.surprise(0.5, Tail::Both) >= 2.0);
    }

    #[test]
    fn the_oldest_values_are_forgotten_and_restore_rebuilds_the_order() {
        let mut r = ranked([100.0, 1.0, 2.0, 3.0], 3);
        assert_eq!(r.len(), 3);
        assert!(r.surprise(100.0, Tail::Both) > 1.0, "100 was forgotten");
        let mut restored: Ranked =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        restored.reindex();
        assert_eq!(restored, r);
        r.push(f64::NAN, 3);
        assert_eq!(r.len(), 3, "NaN is not history");
    }
}
