//! Heartbeat alerts: a firing alert when a series has sent no point for
//! longer than `timeout`, a resolved alert when it sends one again.
//!
//! The plugin remembers the newest point timestamp of every series it has
//! seen (a series never seen is never lost). Time-driven logic runs in
//! `tick(now)`, which the agent calls every `tick_interval`: a series silent
//! for more than `timeout` fires once, timestamped `now`. Its next point
//! resolves the alert (severity info, timestamped with that point). What was
//! seen and what is lost survive restarts through the snapshot, so a series
//! that went quiet while the agent was down is reported on the first tick.
//! Points pass through to no output: this is a detector.
//!
//! With `report: resume` the loss is reported once it is over instead: a
//! point arriving more than `timeout` after the previous point of its series
//! (by their timestamps, so a replay reports what happened live) fires one
//! event, timestamped with that point, whose `description` can give the
//! whole gap (`{silence_seconds:.1}`); no alert fires during the silence and
//! none resolves.
//!
//! ```yaml
//! processors:
//!   silence:
//!     inputs: [parse]
//!     plugin: builtin:heartbeat
//!     tick_interval: 200ms
//!     config:
//!       timeout: 4s                       # "500ms", "2m", or milliseconds; required
//!       severity: critical                # info | warning | critical (default)
//!       kind: heartbeat_lost              # the default
//!       description: "no data from {series} for {timeout}"
//!       resolved_description: "data from {series} resumed after {silence}"
//! ```
//!
//! Description placeholders: `{series}` `{timeout}` `{silence}`; durations
//! print in seconds with at most one decimal (`4s`, `6.2s`). As plain
//! numbers of seconds, which take a precision: `{timeout_seconds}`
//! `{silence_seconds}` (`{silence_seconds:.1}` → `6.0`).

mod config;
mod duration;

use std::time::Duration;

use foghorn_plugin::prelude::*;

pub use config::{Config, Report};
use config::{Placeholder, Settings};
use foghorn_plugin::template::{Arg, Template};

/// What is known of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Beat {
    /// Newest point timestamp, ns since the Unix epoch.
    last_seen: i64,
    /// Whether the firing alert was sent and not yet resolved.
    lost: bool,
}

/// One series in the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tracked {
    name: String,
    tags: Vec<(String, String)>,
    last_seen: i64,
    lost: bool,
}

/// The heartbeat detector.
#[derive(Debug)]
pub struct Heartbeat {
    settings: Settings,
    beats: PerSeries<Beat>,
}

impl Heartbeat {
    /// The firing alert of `series`, silent for `silence` at `at`.
    fn lost(&self, series: &Series, at: i64, silence: i64) -> Alert {
        let settings = &self.settings;
        let description = self.describe(&settings.description, series, silence);
        Alert::firing(&settings.kind, settings.severity, series, at, description)
    }

    fn describe(&self, template: &Template<Placeholder>, series: &Series, silence: i64) -> String {
        let series = series.to_string();
        let (timeout, silence_text) = (seconds(self.settings.timeout), seconds(silence));
        #[allow(clippy::cast_precision_loss, reason = "durations as seconds")]
        let in_seconds = |nanos: i64| nanos.max(0) as f64 / 1e9;
        template.render_args(|placeholder| match placeholder {
            Placeholder::Series => Arg::Text(&series),
            Placeholder::Timeout => Arg::Text(&timeout),
            Placeholder::Silence => Arg::Text(&silence_text),
            Placeholder::TimeoutSeconds => Arg::Number(in_seconds(self.settings.timeout)),
            Placeholder::SilenceSeconds => Arg::Number(in_seconds(silence)),
        })
    }
}

impl Heartbeat {
    /// `report: resume`: an event for every gap longer than the timeout
    /// between consecutive points of a series.
    fn gaps(&mut self, batch: &Batch, out: &mut Output) {
        let mut slots = BatchSlots::new(&batch.points);
        for point in batch.points.iter() {
            let ts = point.timestamp();
            let slot = slots.slot(&mut self.beats, point, || Beat {
                last_seen: ts,
                lost: false,
            });
            let last_seen = self.beats.get(slot).last_seen;
            let silence = ts.saturating_sub(last_seen);
            if silence > self.settings.timeout {
                out.alert(self.lost(point.series(), ts, silence));
            }
            let beat = self.beats.get_mut(slot);
            beat.last_seen = beat.last_seen.max(ts);
        }
    }
}

/// `nanos` (clamped at 0) in seconds with at most one decimal.
fn seconds(nanos: i64) -> String {
    duration::format_seconds(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
}

impl Processor for Heartbeat {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        Ok(Self {
            settings: config.compile()?,
            beats: PerSeries::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        if self.settings.report == Report::Resume {
            self.gaps(batch, out);
            return;
        }
        // The first and newest timestamp of each series of the batch, so the
        // state is looked up once per series, not once per point.
        let mut spans: Vec<Option<(i64, i64)>> = vec![None; batch.points.series.len()];
        for point in batch.points.iter() {
            let ts = point.timestamp();
            match &mut spans[point.series_index()] {
                Some((_, newest)) => *newest = (*newest).max(ts),
                span @ None => *span = Some((ts, ts)),
            }
        }
        for (series, span) in batch.points.series.iter().zip(spans) {
            let Some((first, newest)) = span else {
                continue;
            };
            let mut new = false;
            let slot = self.beats.slot(series, || {
                new = true;
                Beat {
                    last_seen: newest,
                    lost: false,
                }
            });
            if new {
                continue;
            }
            let beat = *self.beats.get(slot);
            if beat.lost {
                let silence = first - beat.last_seen;
                let description =
                    self.describe(&self.settings.resolved_description, series, silence);
                out.alert(Alert::resolved(
                    &self.settings.kind,
                    series,
                    first,
                    description,
                ));
            }
            let beat = self.beats.get_mut(slot);
            beat.lost = false;
            beat.last_seen = beat.last_seen.max(newest);
        }
    }

    fn tick(&mut self, now: i64, out: &mut Output) {
        if self.settings.report == Report::Resume {
            return;
        }
        for slot in 0..self.beats.len() {
            let beat = *self.beats.get(slot);
            let silence = now.saturating_sub(beat.last_seen);
            if beat.lost || silence <= self.settings.timeout {
                continue;
            }
            out.alert(self.lost(self.beats.series(slot), now, silence));
            self.beats.get_mut(slot).lost = true;
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        let tracked: Vec<Tracked> = self
            .beats
            .iter()
            .map(|(series, beat)| Tracked {
                name: series.name.clone(),
                tags: series.tags.clone(),
                last_seen: beat.last_seen,
                lost: beat.lost,
            })
            .collect();
        snapshot::encode(&tracked)
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let tracked: Vec<Tracked> = snapshot::decode(state)?;
        self.beats.clear();
        for tracked in tracked {
            let series = Series {
                name: tracked.name,
                tags: tracked.tags,
            };
            let beat = Beat {
                last_seen: tracked.last_seen,
                lost: tracked.lost,
            };
            let slot = self.beats.slot(&series, || beat);
            *self.beats.get_mut(slot) = beat;
        }
        Ok(())
    }
}

export_processor!(Heartbeat);

#[cfg(test)]
mod tests;
