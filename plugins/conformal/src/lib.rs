//! conformal: a streaming anomaly score for every point, from conformal
//! p-values of three kinds of nonconformity, with one report per event.
//!
//! Each (series, field) keeps the last `history` values of several
//! measures: the value itself, the size of its change from the previous
//! value, and, for each seasonal `period` (a day and a week by default), the
//! size of its change from the value one period earlier. A new point is
//! ranked against each history before it joins it, as conformal anomaly
//! detection does (Laxhammar and Falkman 2010; Ishimtsev et al. 2017, the
//! CAD OSE detector of NAB): with `k` of the `n` past values at least as
//! extreme, its p-value is `(k + 1) / (n + 1)`. Its surprise is `-log10(p)`,
//! plus `log10(1 + excess / spread)` when it lies beyond everything seen, so a
//! value far past the old extreme scores more than one just past it (spread
//! is the interquartile range of the history). The value's surprise counts
//! both tails; changes count only their upper tail. The point's score is the
//! largest surprise over the measures, divided by `decades` and capped at 1:
//! with the default 4, a score of 1 means a p-value of 1/10000 or a value well
//! beyond its history. A measure scores once its history has `warmup`
//! values, and a seasonal one once its changes span two periods (three
//! periods of data); no look-ahead: every score uses only earlier points.
//!
//! A score at or above `level` is a detection: it fires an alert (an event,
//! with the value and score) and starts a refractory period during which the
//! field scores 0 and fires nothing, so that one incident is reported once,
//! as NAB rewards and as an on-call engineer wants. The period ends after
//! `refractory` consecutive points score below `level`: a point at or above
//! it restarts the count, since it is the same incident going on. Scores below
//! `level` are halved, so that detections stand apart from them: anything
//! thresholding the score at or below `level` and above `level / 2` sees
//! exactly the detections.
//!
//! Every point passes through with `<field>_anomaly_score` added for each
//! scored field. Nothing is rejected: a point older than the last of its
//! series (clocks jump back: NAB's machine temperature data does, by 55
//! minutes) is scored in arrival order like any other, and its seasonal
//! lookups use its own timestamp. A point lacking a field, or with a value
//! that is not a finite number, does not score or change that field's
//! state. Memory per series and field: at
//! most `(2 + periods) × history` values in the histories (twice: in order
//! and sorted) and `season_points` recent points, about 1 MiB with the
//! defaults; the snapshot holds the same (without the sorted copies), so a
//! restart scores exactly as an uninterrupted run.
//!
//! `foghorn-bench nab` runs it in the agent over the Numenta Anomaly
//! Benchmark files and scores the results with NAB's rules.
//!
//! ```yaml
//! processors:
//!   anomalies:
//!     inputs: [parse]
//!     plugin: builtin:conformal
//!     config:
//!       fields: [value]          # the default
//!       history: 10000           # values each measure is ranked against
//!       warmup: 300              # values before a measure scores
//!       periods: [1d, 7d]        # seasonal changes; [] for none
//!       decades: 4               # -log10(p) that scores 1
//!       level: 0.8               # detection: alert + refractory period
//!       refractory: 200          # points scoring 0 after a detection
//!       severity: warning
//! ```

mod config;
mod ranked;
mod season;

use foghorn_plugin::prelude::*;

pub use config::Config;
use config::Settings;
use ranked::{Ranked, Tail};
use season::Season;

/// What one series and field remembers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Track {
    value: Ranked,
    change: Ranked,
    /// One per period.
    seasonal: Vec<Ranked>,
    season: Season,
    previous: Option<f64>,
    /// Points left in the refractory period: ordinary points to go.
    quiet: usize,
}

/// What one series remembers: a track per configured field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct History {
    tracks: Vec<Track>,
}

/// The conformal detector.
#[derive(Debug)]
pub struct Conformal {
    settings: Settings,
    series: PerSeries<History>,
    /// The longest period, in nanoseconds (0 without periods).
    span: i64,
    /// Each call's (field, score) of one point, reused.
    scores: Vec<(usize, f64)>,
}

impl Conformal {
    /// The surprise of `value` at `ts` over every measure (scored once
    /// warmed up), after which it joins the histories.
    fn surprise(settings: &Settings, span: i64, track: &mut Track, ts: i64, value: f64) -> f64 {
        let (capacity, warmup) = (settings.history, settings.warmup);
        let score = |ranked: &mut Ranked, measure: f64, tail: Tail, warmup: usize| {
            let s = if ranked.len() >= warmup {
                ranked.surprise(measure, tail)
            } else {
                0.0
            };
            ranked.push(measure, capacity);
            s
        };
        let mut surprise = score(&mut track.value, value, Tail::Both, warmup);
        if let Some(previous) = track.previous {
            let change = (value - previous).abs();
            surprise = surprise.max(score(&mut track.change, change, Tail::Upper, warmup));
        }
        for (period, ranked) in settings.periods.iter().zip(&mut track.seasonal) {
            if let Some(before) = track.season.before(ts, *period) {
                // Changes over one period mean something once they span two.
                let warmup = warmup.max(2 * track.season.within(ts, *period));
                let change = (value - before).abs();
                surprise = surprise.max(score(ranked, change, Tail::Upper, warmup));
            }
        }
        if span > 0 {
            track.season.push(ts, value, span, settings.season_points);
        }
        track.previous = Some(value);
        surprise
    }
}

impl Processor for Conformal {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        let settings = config.compile()?;
        Ok(Self {
            span: settings.periods.iter().copied().max().unwrap_or(0),
            settings,
            series: PerSeries::new(),
            scores: Vec::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let Self {
            settings,
            series,
            span,
            scores,
        } = self;
        let fresh = || History {
            tracks: vec![
                Track {
                    seasonal: vec![Ranked::default(); settings.periods.len()],
                    ..Track::default()
                };
                settings.fields.len()
            ],
        };
        let mut slots = BatchSlots::new(&batch.points);
        for point in batch.points.iter() {
            let slot = slots.slot(series, point, fresh);
            let history = series.get_mut(slot);
            let ts = point.timestamp();
            scores.clear();
            for (index, field) in settings.fields.iter().enumerate() {
                let Some(value) = point.field(&field.name).and_then(|v| v.as_reading()) else {
                    continue;
                };
                let track = &mut history.tracks[index];
                let surprise = Self::surprise(settings, *span, track, ts, value);
                let s = (surprise / settings.decades).min(1.0);
                let score = if track.quiet > 0 {
                    // Still the same incident while it stays surprising.
                    track.quiet = if s >= settings.level {
                        settings.refractory
                    } else {
                        track.quiet - 1
                    };
                    0.0
                } else if s >= settings.level {
                    track.quiet = settings.refractory;
                    out.alert(
                        Alert::firing(
                            &settings.kind,
                            settings.severity,
                            point.series(),
                            ts,
                            format!("{} {value} is anomalous (score {s:.3})", field.name),
                        )
                        .with_label("field", &field.name)
                        .with_value(value)
                        .with_score(s),
                    );
                    s
                } else {
                    s / 2.0
                };
                scores.push((index, score));
            }
            let mut row = out.point(ts, point.series());
            for (name, value) in point.fields() {
                row = row.field(name, value);
            }
            for &(index, score) in scores.iter() {
                row = row.field(&settings.fields[index].score, score);
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode_table(&self.key(), &self.series)
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        // Other fields or periods: start afresh rather than misplace history.
        let (fields, periods) = (self.settings.fields.len(), self.settings.periods.len());
        snapshot::decode_table(state, &self.key(), &mut self.series, |history| {
            if history.tracks.len() != fields
                || history.tracks.iter().any(|t| t.seasonal.len() != periods)
            {
                return Err("conformal: the snapshot's tracks do not match its fields".to_owned());
            }
            for track in &mut history.tracks {
                track.value.reindex();
                track.change.reindex();
                track.seasonal.iter_mut().for_each(Ranked::reindex);
            }
            Ok(())
        })
    }
}

impl Conformal {
    /// What the tracks were kept for.
    fn key(&self) -> Key {
        Key {
            fields: self
                .settings
                .fields
                .iter()
                .map(|f| f.name.clone())
                .collect(),
            periods: self.settings.periods.clone(),
        }
    }
}

/// What a snapshot's tracks were kept for.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Key {
    fields: Vec<String>,
    periods: Vec<i64>,
}

export_processor!(Conformal);

#[cfg(test)]
mod tests;
