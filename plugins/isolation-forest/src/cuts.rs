//! The split values one feature has anywhere in a forest, sorted, with a
//! grid over their range that finds how many lie below a value in a step or
//! two instead of a binary search's dozen.

/// Sorted distinct split values of one feature.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cuts {
    /// The values, then [`PAD`] infinities (so a look a few places past a
    /// cell needs no bounds check of its own).
    values: Vec<f64>,
    len: usize,
    /// The grid: cell of `x` is `(x - low) * scale`, rounded.
    low: f64,
    scale: f64,
    /// For each cell, how many values lie in the cells before it; one more
    /// entry at the end (all of them).
    starts: Vec<u32>,
}

/// Infinities after the values.
const PAD: usize = 2;

/// 2^52: adding it to a float below 2^52 leaves its rounded value in the
/// low mantissa bits.
const MAGIC: f64 = 4_503_599_627_370_496.0;

impl Cuts {
    /// `values` (finite), sorted and without repeats.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        reason = "grid sizes are far below 2^32"
    )]
    pub(crate) fn new(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        values.dedup();
        let cells = (2 * values.len()).next_power_of_two().clamp(1, 1 << 16);
        let (low, high) = match (values.first(), values.last()) {
            (Some(low), Some(high)) => (*low, *high),
            _ => (0.0, 0.0),
        };
        let scale = if high > low {
            cells as f64 / (high - low)
        } else {
            0.0
        };
        let len = values.len();
        let mut cuts = Self {
            values,
            len,
            low,
            scale,
            starts: vec![0; cells + 1],
        };
        let mut at = 0;
        for cell in 0..=cells {
            while at < cuts.values.len() && cuts.cell(cuts.values[at]) < cell {
                at += 1;
            }
            cuts.starts[cell] = at as u32;
        }
        cuts.values.extend([f64::INFINITY; PAD]);
        cuts
    }

    /// How many values there are.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The grid cell of `x`: never decreasing as `x` grows (each step is
    /// rounded monotonically), which is all [`Cuts::rank`] relies on.
    #[inline]
    #[allow(
        clippy::cast_possible_wrap,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "bit patterns; clamped to the grid"
    )]
    fn cell(&self, x: f64) -> usize {
        // Below 2^52 the sum's low mantissa bits are the rounded cell; a
        // negative sum's bit pattern is a negative integer, clamped to 0.
        let t = (x - self.low) * self.scale + MAGIC;
        let cell = (t.to_bits() as i64).wrapping_sub(MAGIC.to_bits() as i64);
        let last = self.starts.len().saturating_sub(2);
        cell.clamp(0, last as i64) as usize
    }

    /// How many values are below `x` (a finite number).
    ///
    /// Values in cells before `x`'s are below it and values in cells after
    /// it are not (cells never decrease), so only `x`'s own cell is looked
    /// at: its first [`PAD`] values without a branch (a cell rarely holds
    /// more), the rest by a search. Past the cell the values are above `x`,
    /// so looking there changes nothing.
    #[inline]
    #[allow(clippy::cast_possible_truncation, reason = "below 2^32 values")]
    pub(crate) fn rank(&self, x: f64) -> u32 {
        let cell = self.cell(x);
        let (Some(&start), Some(&end)) = (self.starts.get(cell), self.starts.get(cell + 1)) else {
            return 0;
        };
        let mut at = start;
        for _ in 0..PAD {
            at += u32::from(self.values.get(at as usize).is_some_and(|v| *v < x));
        }
        if at < end {
            let rest = self.values.get(at as usize..end as usize).unwrap_or(&[]);
            at += rest.partition_point(|v| *v < x) as u32;
        }
        at
    }

    /// The position of `value` among the values (the values below it).
    pub(crate) fn position(&self, value: f64) -> usize {
        self.values[..self.len].partition_point(|v| *v < value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn ranks_count_the_values_below_as_a_search_does() {
        let mut rng = Rng::new(5);
        // Clustered values with a far outlier, so cells hold many values.
        let mut values: Vec<f64> = (0..2000)
            .map(|i| {
                if i % 3 == 0 {
                    rng.unit()
                } else {
                    50.0 + rng.unit() * 1e-6
                }
            })
            .collect();
        values.push(1e9);
        values.push(-3.0);
        let cuts = Cuts::new(values.clone());
        let mut sorted = values;
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        let mut probes: Vec<f64> = sorted.clone();
        probes.extend([
            -1e300,
            -3.0,
            0.5,
            50.0,
            50.000_000_5,
            1e9,
            2e9,
            1e300,
            0.0,
            -0.0,
        ]);
        probes.extend((0..2000).map(|_| rng.unit() * 60.0 - 5.0));
        for x in probes {
            let expected = sorted.partition_point(|v| *v < x);
            assert_eq!(cuts.rank(x) as usize, expected, "x = {x}");
        }
    }

    #[test]
    fn one_value_or_none() {
        assert_eq!(Cuts::new(vec![2.0]).rank(1.0), 0);
        assert_eq!(Cuts::new(vec![2.0]).rank(2.0), 0);
        assert_eq!(Cuts::new(vec![2.0, 2.0]).rank(3.0), 1);
        assert_eq!(Cuts::new(Vec::new()).rank(3.0), 0);
    }
}
