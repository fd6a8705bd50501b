//! Statistics computed the way pandas computes them, to the bit: a column's
//! sum as numpy's pairwise summation, its variance as pandas' two-pass
//! `nanvar`; per group (groupby and resample) Kahan-compensated sums and
//! Welford's variance, as pandas' grouped aggregations; the time-window
//! mean and sum with pandas' compensated adds and removes. Reproducing the
//! reference's arithmetic, not only its formulas, is what makes a strict
//! comparison against `mean + 2·std` select the same rows.

use super::config::{Rounding, Stat};

/// numpy's `add.reduce` of a contiguous float64 array: pairwise summation
/// in blocks of 128 with eight accumulators (`pairwise_sum` in numpy's
/// `loops_utils.h`).
pub fn pairwise_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        let mut sum = 0.0;
        for value in values {
            sum += value;
        }
        sum
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&values[..8]);
        let whole = n - n % 8;
        let mut i = 8;
        while i < whole {
            for (k, acc) in r.iter_mut().enumerate() {
                *acc += values[i + k];
            }
            i += 8;
        }
        let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for value in &values[whole..] {
            sum += value;
        }
        sum
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

/// A column's mean as pandas' `Series.mean()`; `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| pairwise_sum(values) / values.len() as f64)
}

/// A column's standard deviation as pandas' `Series.std(ddof=…)`: the mean,
/// then the pairwise sum of squared deviations over `n − ddof`; `None` with
/// `ddof` or fewer values.
pub fn std(values: &[f64], ddof: u8) -> Option<f64> {
    let n = values.len();
    if n <= usize::from(ddof) {
        return None;
    }
    let mean = pairwise_sum(values) / n as f64;
    let squares: Vec<f64> = values.iter().map(|v| (mean - v) * (mean - v)).collect();
    Some((pairwise_sum(&squares) / (n - usize::from(ddof)) as f64).sqrt())
}

/// The median: the middle value, or the mean of the middle two.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

/// One group's statistics, as pandas (3.1) aggregates a group: when the
/// rows of every group come in one run (the grouping is sorted, as a
/// resample always is) a sum is numpy's `add.reduceat` (the first value
/// plus the pairwise sum of the rest), else Kahan-compensated row by row
/// (`group_sum`, `group_mean`); the mean is that sum over the count; the
/// standard deviation Welford's (`group_var`); the median of the sorted
/// values.
#[derive(Debug, Clone)]
pub struct Accumulator {
    sum: f64,
    compensation: f64,
    welford_mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    values: Vec<f64>,
    /// The distinct texts seen, for `distinct`.
    keys: std::collections::HashSet<String>,
}

impl Default for Accumulator {
    fn default() -> Self {
        Self {
            sum: 0.0,
            compensation: 0.0,
            welford_mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            values: Vec::new(),
            keys: std::collections::HashSet::new(),
        }
    }
}

impl Accumulator {
    /// Add a value.
    pub fn add(&mut self, value: f64) {
        self.values.push(value);
        let y = value - self.compensation;
        let t = self.sum + y;
        self.compensation = t - self.sum - y;
        self.sum = t;
        let old = self.welford_mean;
        self.welford_mean += (value - old) / self.values.len() as f64;
        self.m2 += (value - self.welford_mean) * (value - old);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Add a value of a `distinct` statistic.
    pub fn add_key(&mut self, key: &str) {
        if !self.keys.contains(key) {
            self.keys.insert(key.to_owned());
        }
    }

    /// The statistic, `in_runs` when every group's rows came in one run;
    /// `None` where pandas gives NaN (no values, a standard deviation of one
    /// value). A sum of nothing is 0, a count 0.
    pub fn get(&self, stat: Stat, in_runs: bool) -> Option<f64> {
        let count = self.values.len();
        let n = count as f64;
        let sum = || match self.values.split_first() {
            Some((first, rest)) if in_runs => first + pairwise_sum(rest),
            _ => self.sum,
        };
        match stat {
            Stat::Count => Some(n),
            #[allow(clippy::cast_precision_loss, reason = "a count")]
            Stat::Distinct => Some(self.keys.len() as f64),
            Stat::Sum => Some(sum()),
            _ if count == 0 => None,
            Stat::Mean => Some(sum() / n),
            Stat::Min => Some(self.min),
            Stat::Max => Some(self.max),
            Stat::Median => median(&self.values),
            Stat::Std => (count > 1).then(|| (self.m2 / (n - 1.0)).sqrt()),
        }
    }
}

/// A statistic over the time window ending at each row, as pandas'
/// `rolling(window)` on a sorted time index with `closed="right"`:
/// `(t − window, t]`, the row itself and the rows before it. Mean and sum
/// follow pandas' `roll_mean`/`roll_sum` (compensated adds and removes, the
/// window restarted when it no longer overlaps the last one, the rules for
/// runs of equal values and for signs); min, max and count are exact.
pub fn rolling(times: &[i64], values: &[f64], window: i64, stat: Stat) -> Vec<Option<f64>> {
    let n = times.len();
    let mut start = vec![0usize; n];
    for i in 1..n {
        let bound = times[i].saturating_sub(window);
        let mut s = i;
        for (j, time) in times.iter().enumerate().take(i).skip(start[i - 1]) {
            if *time > bound {
                s = j;
                break;
            }
        }
        start[i] = s;
    }
    match stat {
        Stat::Mean | Stat::Sum => rolling_sum(&start, values, stat == Stat::Mean),
        _ => (0..n)
            .map(|i| {
                let window = &values[start[i]..=i];
                match stat {
                    Stat::Count => Some(window.len() as f64),
                    Stat::Min => window.iter().copied().reduce(f64::min),
                    Stat::Max => window.iter().copied().reduce(f64::max),
                    _ => None,
                }
            })
            .collect(),
    }
}

/// pandas' running window sum.
#[derive(Debug, Default)]
struct WindowSum {
    nobs: usize,
    sum: f64,
    negatives: usize,
    add_compensation: f64,
    remove_compensation: f64,
    same_run: usize,
    previous: f64,
}

impl WindowSum {
    fn add(&mut self, value: f64) {
        self.nobs += 1;
        let y = value - self.add_compensation;
        let t = self.sum + y;
        self.add_compensation = t - self.sum - y;
        self.sum = t;
        if value.is_sign_negative() {
            self.negatives += 1;
        }
        if value == self.previous {
            self.same_run += 1;
        } else {
            self.same_run = 1;
        }
        self.previous = value;
    }

    fn remove(&mut self, value: f64) {
        self.nobs -= 1;
        let y = -value - self.remove_compensation;
        let t = self.sum + y;
        self.remove_compensation = t - self.sum - y;
        self.sum = t;
        if value.is_sign_negative() {
            self.negatives -= 1;
        }
    }

    fn mean(&self) -> Option<f64> {
        if self.nobs == 0 {
            return None;
        }
        let mut result = self.sum / self.nobs as f64;
        if self.same_run >= self.nobs {
            result = self.previous;
        } else if self.negatives == 0 && result < 0.0 || self.negatives == self.nobs && result > 0.0
        {
            result = 0.0;
        }
        Some(result)
    }

    fn total(&self) -> f64 {
        if self.nobs > 0 && self.same_run >= self.nobs {
            self.previous * self.nobs as f64
        } else {
            self.sum
        }
    }
}

fn rolling_sum(start: &[usize], values: &[f64], mean: bool) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(values.len());
    let mut window = WindowSum::default();
    for i in 0..values.len() {
        let s = start[i];
        // The previous window ended at i (exclusive); one that does not
        // overlap it is summed afresh.
        if i == 0 || s >= i {
            window = WindowSum::default();
            for value in &values[s..=i] {
                window.add(*value);
            }
        } else {
            for value in &values[start[i - 1]..s] {
                window.remove(*value);
            }
            window.add(values[i]);
        }
        out.push(if mean {
            window.mean()
        } else {
            Some(window.total())
        });
    }
    out
}

/// `value` rounded to `places` decimals.
pub fn round(value: f64, places: u8, rounding: Rounding) -> f64 {
    match rounding {
        // Formatting with a precision rounds the exact binary value half to
        // even; parsing gives back the nearest double, as Python's round.
        Rounding::HalfEven => format!("{value:.*}", usize::from(places))
            .parse()
            .unwrap_or(value),
        Rounding::Scaled => {
            let scale = 10f64.powi(i32::from(places));
            (value * scale).round_ties_even() / scale
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy's pairwise summation written out plainly, recursively.
    fn reference(values: &[f64]) -> f64 {
        let n = values.len();
        if n < 8 {
            values.iter().fold(0.0, |sum, v| sum + v)
        } else if n <= 128 {
            let mut r: Vec<f64> = values[..8].to_vec();
            let mut i = 8;
            while i + 8 <= n {
                for k in 0..8 {
                    r[k] += values[i + k];
                }
                i += 8;
            }
            let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            while i < n {
                sum += values[i];
                i += 1;
            }
            sum
        } else {
            let half = n / 2 - (n / 2) % 8;
            reference(&values[..half]) + reference(&values[half..])
        }
    }

    fn noisy(n: usize) -> Vec<f64> {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 1_000_000) as f64 / 100.0 * if x.is_multiple_of(3) { 1e6 } else { 1.0 }
            })
            .collect()
    }

    #[test]
    fn pairwise_sum_is_numpys_and_differs_from_a_running_sum() {
        let mut differs = 0;
        for n in [0, 1, 7, 8, 9, 127, 128, 129, 255, 1000, 4099, 70_001] {
            let values = noisy(n);
            assert_eq!(
                pairwise_sum(&values).to_bits(),
                reference(&values).to_bits(),
                "n = {n}"
            );
            let running = values.iter().fold(0.0, |sum, v| sum + v);
            differs += usize::from(running != pairwise_sum(&values));
        }
        assert!(differs > 0, "the order of additions shows in the last bits");
    }

    #[test]
    fn std_is_sample_or_population() {
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(std(&values, 0), Some(2.0));
        assert!((std(&values, 1).unwrap() - 2.138_089_935_299_395).abs() < 1e-15);
        assert_eq!(std(&[1.0], 1), None);
        assert_eq!(mean(&[]), None);
    }

    #[test]
    fn accumulator_follows_pandas_group_rules() {
        let mut acc = Accumulator::default();
        assert_eq!(acc.get(Stat::Sum, false), Some(0.0));
        assert_eq!(acc.get(Stat::Mean, true), None);
        for v in [3.0, 1.0, 2.0, 10.0] {
            acc.add(v);
        }
        assert_eq!(acc.get(Stat::Mean, false), Some(4.0));
        assert_eq!(acc.get(Stat::Median, false), Some(2.5));
        assert_eq!(acc.get(Stat::Min, false), Some(1.0));
        assert_eq!(acc.get(Stat::Max, false), Some(10.0));
        assert_eq!(acc.get(Stat::Count, false), Some(4.0));
        assert!((acc.get(Stat::Std, false).unwrap() - 4.082_482_904_638_63).abs() < 1e-12);
        // The two sums part in the last bit: reduceat adds 76.09 to the
        // running sum of the rest, Kahan carries the rounding error.
        let mut acc = Accumulator::default();
        for v in [76.09, 95.22, 92.65, 41.62] {
            acc.add(v);
        }
        assert_eq!(acc.get(Stat::Sum, true), Some(305.580_000_000_000_04));
        assert_eq!(acc.get(Stat::Sum, false), Some(305.58));
    }

    #[test]
    fn rolling_window_is_right_closed_and_in_input_order() {
        let s = 1_000_000_000;
        let times = [0, s, s, 3 * s, 10 * s];
        let values = [1.0, 2.0, 4.0, 8.0, 16.0];
        // Window 2 s: (t − 2 s, t].
        assert_eq!(
            rolling(&times, &values, 2 * s, Stat::Sum),
            [Some(1.0), Some(3.0), Some(7.0), Some(8.0), Some(16.0)]
        );
        assert_eq!(
            rolling(&times, &values, 2 * s, Stat::Count),
            [Some(1.0), Some(2.0), Some(3.0), Some(1.0), Some(1.0)]
        );
        assert_eq!(
            rolling(&times, &values, 3 * s, Stat::Mean),
            [
                Some(1.0),
                Some(1.5),
                Some(7.0 / 3.0),
                Some(14.0 / 3.0),
                Some(16.0)
            ]
        );
        assert_eq!(
            rolling(&times, &values, 3 * s, Stat::Max)[3],
            Some(8.0),
            "(0 s, 3 s] leaves the first row out"
        );
        // A run of equal values gives exactly that value.
        let equal = rolling(&[0, s, 2 * s], &[0.1, 0.1, 0.1], 10 * s, Stat::Mean);
        assert_eq!(equal, [Some(0.1); 3]);
    }

    #[test]
    fn rounding_modes() {
        assert_eq!(round(0.125, 2, Rounding::HalfEven), 0.12);
        assert_eq!(
            round(2.675, 2, Rounding::HalfEven),
            2.67,
            "2.675 is 2.67499…"
        );
        assert_eq!(round(1.005, 2, Rounding::HalfEven), 1.0);
        assert_eq!(round(0.375, 2, Rounding::Scaled), 0.38);
        // 0.015 is 0.01499999…: exactly it rounds down, but 0.015 × 100
        // rounds to 1.5 before numpy rounds it, half to even, up to 2.
        assert_eq!(round(0.015, 2, Rounding::HalfEven), 0.01);
        assert_eq!(round(0.015, 2, Rounding::Scaled), 0.02);
        assert_eq!(round(45.675, 2, Rounding::HalfEven), 45.67);
    }
}
