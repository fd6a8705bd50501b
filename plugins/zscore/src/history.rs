//! What a value is scored against: a rolling [`Window`] of the last values,
//! or every value so far ([`Expanding`], Welford's running mean and sum of
//! squared deviations, which neither cancels nor drifts).

use serde::{Deserialize, Serialize};

use crate::config::Mode;
use crate::window::{Stats, Window};

/// The past of one (series, field).
#[derive(Debug, Clone)]
pub(crate) enum History {
    Rolling(Window),
    Expanding(Expanding),
}

impl History {
    pub(crate) fn new(mode: Mode, window: usize) -> Self {
        match mode {
            Mode::Rolling => History::Rolling(Window::new(window)),
            Mode::Expanding => History::Expanding(Expanding::default()),
        }
    }

    /// Values it holds (all so far, when expanding).
    pub(crate) fn len(&self) -> u64 {
        match self {
            History::Rolling(window) => window.len() as u64,
            History::Expanding(expanding) => expanding.count,
        }
    }

    pub(crate) fn push(&mut self, value: f64) {
        match self {
            History::Rolling(window) => window.push(value),
            History::Expanding(expanding) => expanding.push(value),
        }
    }

    /// The mean, and the standard deviation with `ddof` delta degrees of
    /// freedom; `None` with fewer than `ddof + 1` values.
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn stats(&mut self, ddof: u8) -> Option<Stats> {
        let n = self.len();
        if n <= u64::from(ddof) {
            return None;
        }
        match self {
            History::Rolling(window) => {
                let population = window.stats()?;
                // std with ddof = population std · sqrt(n / (n − ddof)).
                let scale = (n as f64 / (n - u64::from(ddof)) as f64).sqrt();
                Some(Stats {
                    mean: population.mean,
                    std: population.std * scale,
                })
            }
            History::Expanding(expanding) => Some(Stats {
                mean: expanding.mean,
                std: (expanding.m2 / (n - u64::from(ddof)) as f64).sqrt(),
            }),
        }
    }
}

/// Count, mean and sum of squared deviations of every value so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Expanding {
    pub count: u64,
    pub mean: f64,
    pub m2: f64,
}

impl Expanding {
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn push(&mut self, value: f64) {
        self.count += 1;
        let delta = value - self.mean;
        self.mean += delta / self.count as f64;
        // Exactly 0 while every value is equal: a flat series stays flat.
        self.m2 += delta * (value - self.mean);
    }

    /// The running state of `values`, oldest first.
    pub(crate) fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut expanding = Self::default();
        for value in values {
            expanding.push(value);
        }
        expanding
    }
}
