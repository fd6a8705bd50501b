//! Ticks in the time of the data (`clock: event`), for replays of recorded
//! data that run faster than it was recorded.
//!
//! A processor ticks at every multiple of its tick interval that the
//! timestamps of its input pass. Before a batch it ticks up to (not at) the
//! batch's earliest timestamp, so a silence in the data is seen before the
//! data that ends it, as it was live; after the batch, up to its latest.

use std::time::Duration;

use crate::config::Clock;
use crate::event::Batch;

/// The tick times a processor owes under `clock: event`.
#[derive(Debug, Clone)]
pub struct EventTicks {
    every: i64,
    last: Option<i64>,
}

impl EventTicks {
    /// Ticks every `every`, from the first data on.
    pub fn new(every: Duration) -> Self {
        Self {
            every: i64::try_from(every.as_nanos()).unwrap_or(i64::MAX).max(1),
            last: None,
        }
    }

    /// The ticks owed up to `until` (at `until` too when `inclusive`), in
    /// order. The first data sets where ticking starts (the multiple of the
    /// interval at or before it) and owes nothing. A jump of more than
    /// [`Clock::MAX_TICKS_PER_BATCH`] intervals ticks once, at its end.
    pub fn until(&mut self, until: i64, inclusive: bool) -> Vec<i64> {
        let Some(last) = self.last else {
            self.last = Some(until.div_euclid(self.every) * self.every);
            return Vec::new();
        };
        let end = if inclusive {
            until
        } else {
            until.saturating_sub(1)
        };
        if end < last.saturating_add(self.every) {
            return Vec::new();
        }
        let newest = last + (end - last) / self.every * self.every;
        let count = (newest - last) / self.every;
        self.last = Some(newest);
        if count > Clock::MAX_TICKS_PER_BATCH {
            return vec![newest];
        }
        (1..=count).map(|k| last + k * self.every).collect()
    }
}

/// A processor task that can tick in the time of its data: the wasm runner
/// and the native processors.
pub trait EventTicking: Send {
    /// Its ticks under `clock: event`; `None` under the wall clock.
    fn event_ticks(&mut self) -> Option<&mut EventTicks>;

    /// Run one tick at `now`.
    fn on_tick(&mut self, now: i64) -> impl Future<Output = ()> + Send;

    /// Under `clock: event`, run the ticks owed up to `until`, in order.
    fn event_ticks_until(
        &mut self,
        until: i64,
        inclusive: bool,
    ) -> impl Future<Output = ()> + Send {
        async move {
            let owed = self
                .event_ticks()
                .map(|ticks| ticks.until(until, inclusive))
                .unwrap_or_default();
            for now in owed {
                self.on_tick(now).await;
            }
        }
    }
}

/// The earliest and latest timestamps of a batch's records and points.
pub fn time_span(batch: &Batch) -> Option<(i64, i64)> {
    let stamps = batch
        .records
        .timestamps
        .iter()
        .chain(&batch.points.timestamps)
        .chain(batch.alerts.iter().map(|alert| &alert.timestamp));
    stamps.fold(None, |span, &t| match span {
        None => Some((t, t)),
        Some((low, high)) => Some((low.min(t), high.max(t))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn ticks_follow_the_data_and_a_silence_ticks_before_the_data_that_ends_it() {
        let mut ticks = EventTicks::new(Duration::from_secs(1));
        assert_eq!(ticks.until(10 * S + 300, false), Vec::<i64>::new());
        assert_eq!(ticks.until(10 * S + 900, true), Vec::<i64>::new());
        // Data at 14 s: ticks at 11, 12 and 13 s come before it, 14 s after.
        assert_eq!(ticks.until(14 * S, false), [11 * S, 12 * S, 13 * S]);
        assert_eq!(ticks.until(14 * S, true), [14 * S]);
        assert_eq!(ticks.until(14 * S + 5, true), Vec::<i64>::new());
        // Time going backwards owes nothing.
        assert_eq!(ticks.until(3 * S, true), Vec::<i64>::new());
    }

    #[test]
    fn a_jump_of_years_ticks_once_at_its_end() {
        let mut ticks = EventTicks::new(Duration::from_millis(200));
        ticks.until(0, true);
        let year = 365 * 86_400 * S;
        assert_eq!(ticks.until(year, true), [year]);
        assert_eq!(ticks.until(year + S, true).len(), 5);
    }
}
