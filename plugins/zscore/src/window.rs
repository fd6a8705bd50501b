//! A rolling window of the last N values of one (series, field), with the
//! mean and population standard deviation in O(1) per value.
//!
//! Running sums go wrong two ways: `Σx² / n − mean²` cancels catastrophically
//! when the values are large next to their spread, and adding then removing
//! values accumulates rounding error without bound. So the sums are of
//! `x − shift`, where `shift` is a recent value (keeping the terms small), and
//! they are recomputed from the window every `capacity` insertions (O(1)
//! amortized), which bounds the error at what `capacity` additions can cause.
//! They are also recomputed when the spread is too small next to the
//! magnitude of the terms added and removed since (after a level shift, the
//! old `shift` is far from every value), so the variance never comes from a
//! cancellation. A window whose values are all equal is detected exactly (by
//! counting the run of equal values at its end), since that is where a
//! rounding residue would otherwise turn into a huge score.

use std::collections::VecDeque;

/// Mean and population standard deviation of a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stats {
    pub mean: f64,
    pub std: f64,
}

/// A window's running sums, as saved in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Sums {
    shift: f64,
    sum: f64,
    sum_sq: f64,
    mass: f64,
    since_recompute: usize,
}

/// The last `capacity` values, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    values: VecDeque<f64>,
    capacity: usize,
    shift: f64,
    /// Σ (x − shift) over `values`.
    sum: f64,
    /// Σ (x − shift)² over `values`.
    sum_sq: f64,
    /// Σ (x − shift)² over every value added or removed since the sums
    /// were last recomputed: what their rounding error is relative to.
    mass: f64,
    /// Insertions since the sums were last recomputed.
    since_recompute: usize,
    /// How many values at the end of the window are equal to the last one.
    equal_run: usize,
}

impl Window {
    /// An empty window of `capacity` values (at least 1).
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            values: VecDeque::with_capacity(capacity),
            capacity,
            shift: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            mass: 0.0,
            since_recompute: 0,
            equal_run: 0,
        }
    }

    /// A window of `capacity` holding the last `capacity` of `values`.
    pub(crate) fn from_values(capacity: usize, values: impl IntoIterator<Item = f64>) -> Self {
        let mut window = Self::new(capacity);
        for value in values {
            window.push(value);
        }
        window.recompute();
        window
    }

    /// Number of values held.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// The values, oldest first.
    pub(crate) fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().copied()
    }

    /// Add `value`, dropping the oldest one when full.
    pub(crate) fn push(&mut self, value: f64) {
        if self.values.len() == self.capacity
            && let Some(oldest) = self.values.pop_front()
        {
            let d = oldest - self.shift;
            self.sum -= d;
            self.sum_sq -= d * d;
            self.mass += d * d;
        }
        if self.values.back() == Some(&value) {
            self.equal_run += 1;
        } else {
            self.equal_run = 1;
        }
        self.values.push_back(value);
        let d = value - self.shift;
        self.sum += d;
        self.sum_sq += d * d;
        self.mass += d * d;
        self.since_recompute += 1;
        if self.since_recompute >= self.capacity {
            self.recompute();
        }
    }

    /// Mean and population standard deviation, or `None` when empty.
    #[allow(
        clippy::cast_precision_loss,
        reason = "window lengths are far below 2^52"
    )]
    pub(crate) fn stats(&mut self) -> Option<Stats> {
        let &last = self.values.back()?;
        if self.equal_run >= self.values.len() {
            return Some(Stats {
                mean: last,
                std: 0.0,
            });
        }
        let n = self.values.len() as f64;
        // Σ (x − mean)², from the sums.
        let mut centered = self.sum_sq - self.sum * self.sum / n;
        if centered <= self.mass * 1e-9 {
            // Rounding may have eaten more than 7 of its 16 digits: recompute
            // the sums around a value of the window, where they are exact
            // enough. After that this holds until the next level shift.
            self.recompute();
            centered = (self.sum_sq - self.sum * self.sum / n).max(0.0);
        }
        Some(Stats {
            mean: self.shift + self.sum / n,
            std: (centered / n).sqrt(),
        })
    }

    /// The running sums, for a snapshot: restored with the values, they
    /// make the window score the next values to the last bit as if it had
    /// never stopped (values alone would round differently).
    pub(crate) fn sums(&self) -> Sums {
        Sums {
            shift: self.shift,
            sum: self.sum,
            sum_sq: self.sum_sq,
            mass: self.mass,
            since_recompute: self.since_recompute,
        }
    }

    /// A window of `capacity` with `values` and the `sums` saved with them;
    /// `None` when they do not fit together (the capacity changed).
    pub(crate) fn with_sums(capacity: usize, values: Vec<f64>, sums: Sums) -> Option<Self> {
        if values.len() > capacity || sums.since_recompute >= capacity.max(1) {
            return None;
        }
        let mut window = Self::from_values(capacity, values);
        (
            window.shift,
            window.sum,
            window.sum_sq,
            window.mass,
            window.since_recompute,
        ) = (
            sums.shift,
            sums.sum,
            sums.sum_sq,
            sums.mass,
            sums.since_recompute,
        );
        Some(window)
    }

    fn recompute(&mut self) {
        self.shift = self.values.back().copied().unwrap_or(0.0);
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        for &value in &self.values {
            let d = value - self.shift;
            sum += d;
            sum_sq += d * d;
        }
        (self.sum, self.sum_sq, self.mass, self.since_recompute) = (sum, sum_sq, sum_sq, 0);
        let last = self.values.back();
        self.equal_run = self
            .values
            .iter()
            .rev()
            .take_while(|v| Some(*v) == last)
            .count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::cast_precision_loss)]
    fn exact(values: &[f64]) -> Stats {
        // Two passes, around a value of the window: accurate for any magnitude.
        let n = values.len() as f64;
        let offset = values.iter().map(|v| v - values[0]).sum::<f64>() / n;
        let variance = values
            .iter()
            .map(|v| (v - values[0] - offset).powi(2))
            .sum::<f64>()
            / n;
        Stats {
            mean: values[0] + offset,
            std: variance.sqrt(),
        }
    }

    #[test]
    fn keeps_the_last_capacity_values_and_their_stats() {
        let mut window = Window::new(4);
        assert_eq!(window.stats(), None);
        for v in [100.0, 1.0, 2.0, 3.0, 4.0] {
            window.push(v);
        }
        assert_eq!(window.values().collect::<Vec<_>>(), [1.0, 2.0, 3.0, 4.0]);
        let stats = window.stats().unwrap();
        assert_eq!(stats.mean, 2.5);
        assert!((stats.std - 1.25_f64.sqrt()).abs() < 1e-12, "{stats:?}");
    }

    #[test]
    fn equal_values_have_exactly_no_spread() {
        let mut window = Window::new(10);
        for i in 0..25 {
            window.push(f64::from(i) * 0.1 + 1e6);
        }
        for _ in 0..10 {
            window.push(0.1);
        }
        assert_eq!(
            window.stats(),
            Some(Stats {
                mean: 0.1,
                std: 0.0
            })
        );
    }

    #[test]
    fn millions_of_large_values_do_not_drift() {
        let capacity = 97;
        let mut window = Window::new(capacity);
        let mut recent = VecDeque::new();
        // Large values with a small spread, and a level shift now and then:
        // the worst case for naive running sums.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for i in 0..2_000_000_u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = f64::from(u32::try_from(state >> 40).unwrap()) / f64::from(1 << 24);
            let level = if (i / 250_000) % 2 == 0 { 1e9 } else { -3e7 };
            let value = level + noise;
            window.push(value);
            recent.push_back(value);
            if recent.len() > capacity {
                recent.pop_front();
            }
            // Now and then, and right after each level shift has filled the
            // window (when the old shift is far from every value).
            if i % 997 == 0 || (100..200).contains(&(i % 250_000)) {
                let got = window.stats().unwrap();
                let want = exact(recent.make_contiguous());
                assert!(
                    (got.mean - want.mean).abs() < 1e-6,
                    "{i}: {got:?} vs {want:?}"
                );
                assert!(
                    (got.std - want.std).abs() <= 1e-6 * want.std,
                    "{i}: {got:?} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn restoring_from_values_gives_the_same_stats() {
        let mut window = Window::new(5);
        for v in [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0] {
            window.push(v);
        }
        let mut restored = Window::from_values(5, window.values().collect::<Vec<_>>());
        assert_eq!(
            restored.values().collect::<Vec<_>>(),
            [4.0, 1.0, 5.0, 9.0, 2.0]
        );
        let (a, b) = (window.stats().unwrap(), restored.stats().unwrap());
        assert!((a.mean - b.mean).abs() < 1e-12 && (a.std - b.std).abs() < 1e-12);
        // A smaller window after a config change keeps the newest values.
        let smaller = Window::from_values(2, window.values().collect::<Vec<_>>());
        assert_eq!(smaller.values().collect::<Vec<_>>(), [9.0, 2.0]);
    }
}
