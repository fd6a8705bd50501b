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
//! print in seconds with at most one decimal (`4s`, `6.2s`).

mod config;
mod duration;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use foghorn_plugin::prelude::*;

pub use config::Config;
use config::{Placeholder, Settings};
use foghorn_plugin::template::Template;

/// What is known of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tracked {
    name: String,
    tags: Vec<(String, String)>,
    /// Newest point timestamp, ns since the Unix epoch.
    last_seen: i64,
    /// Whether the firing alert was sent and not yet resolved.
    lost: bool,
}

impl Tracked {
    fn series(&self) -> Series {
        Series {
            name: self.name.clone(),
            tags: self.tags.clone(),
        }
    }
}

/// The heartbeat detector.
#[derive(Debug)]
pub struct Heartbeat {
    settings: Settings,
    tracked: Vec<Tracked>,
    by_series: HashMap<Series, usize>,
}

impl Heartbeat {
    fn describe(&self, template: &Template<Placeholder>, series: &Series, silence: i64) -> String {
        template.render(|placeholder, out| {
            let _ = match placeholder {
                Placeholder::Series => write!(out, "{series}"),
                Placeholder::Timeout => out.write_str(&seconds(self.settings.timeout)),
                Placeholder::Silence => out.write_str(&seconds(silence)),
            };
        })
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
            tracked: Vec::new(),
            by_series: HashMap::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
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
            let Some(&slot) = self.by_series.get(series) else {
                self.tracked.push(Tracked {
                    name: series.name.clone(),
                    tags: series.tags.clone(),
                    last_seen: newest,
                    lost: false,
                });
                self.by_series
                    .insert(series.clone(), self.tracked.len() - 1);
                continue;
            };
            let tracked = &self.tracked[slot];
            if tracked.lost {
                let silence = first - tracked.last_seen;
                let description =
                    self.describe(&self.settings.resolved_description, series, silence);
                out.alert(Alert::resolved(
                    &self.settings.kind,
                    series,
                    first,
                    description,
                ));
            }
            let tracked = &mut self.tracked[slot];
            tracked.lost = false;
            tracked.last_seen = tracked.last_seen.max(newest);
        }
    }

    fn tick(&mut self, now: i64, out: &mut Output) {
        for slot in 0..self.tracked.len() {
            let tracked = &self.tracked[slot];
            let silence = now.saturating_sub(tracked.last_seen);
            if tracked.lost || silence <= self.settings.timeout {
                continue;
            }
            let series = tracked.series();
            let description = self.describe(&self.settings.description, &series, silence);
            let settings = &self.settings;
            out.alert(Alert::firing(
                &settings.kind,
                settings.severity,
                &series,
                now,
                description,
            ));
            self.tracked[slot].lost = true;
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode(&self.tracked)
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        self.tracked = snapshot::decode(state)?;
        self.by_series = self
            .tracked
            .iter()
            .enumerate()
            .map(|(slot, tracked)| (tracked.series(), slot))
            .collect();
        Ok(())
    }
}

export_processor!(Heartbeat);

#[cfg(test)]
mod tests;
