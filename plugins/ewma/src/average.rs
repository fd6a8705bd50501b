//! pandas' exponentially weighted mean, one value at a time.

use serde::{Deserialize, Serialize};

use crate::config::Settings;

/// The running average of one series and field: the state of pandas'
/// `ewm` loop (`pandas/_libs/window/aggregations.pyx`) between two rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Average {
    /// The average so far; `None` before the first value.
    weighted: Option<f64>,
    /// The weight of the average so far against a new value's.
    old_wt: f64,
    /// Values seen.
    nobs: u64,
}

impl Default for Average {
    fn default() -> Self {
        Self {
            weighted: None,
            old_wt: 1.0,
            nobs: 0,
        }
    }
}

impl Average {
    /// One row: `value` (`None` when the row lacks one), `delta` half-lives
    /// after the previous row of the series (with a half-life in time).
    pub(crate) fn step(&mut self, value: Option<f64>, delta: f64, settings: &Settings) {
        let decay = &settings.decay;
        self.nobs += u64::from(value.is_some());
        let Some(weighted) = self.weighted else {
            self.weighted = value;
            return;
        };
        if value.is_none() && settings.ignore_na {
            return;
        }
        let factor = 1.0 - settings.alpha;
        self.old_wt *= if decay.halflife_ns.is_some() {
            factor.powf(delta)
        } else {
            factor
        };
        let Some(cur) = value else { return };
        // pandas leaves a constant series exactly constant.
        if weighted != cur {
            let new_wt = match decay {
                _ if decay.adjust => 1.0,
                // pandas' update for irregular intervals, which it applies
                // whenever com is 1 (alpha 0.5), with times or without.
                _ if decay.com == 1.0 => 1.0 - self.old_wt,
                _ => settings.alpha,
            };
            let total = self.old_wt + new_wt;
            let mut mean = (self.old_wt * weighted + new_wt * cur) / total;
            if !mean.is_finite() {
                // Values near f64::MAX overflowed the products: the same mean
                // with the weights divided first.
                mean = weighted * (self.old_wt / total) + cur * (new_wt / total);
            }
            self.weighted = Some(mean.clamp(-f64::MAX, f64::MAX));
        }
        if decay.adjust {
            self.old_wt += 1.0;
        } else {
            self.old_wt = 1.0;
        }
    }

    /// The average to emit, once `min_periods` values are in.
    pub(crate) fn value(&self, settings: &Settings) -> Option<f64> {
        self.weighted
            .filter(|_| self.nobs >= settings.min_periods.max(1))
    }
}
