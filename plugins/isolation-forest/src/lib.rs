//! isolation-forest: an anomaly score for every point from an Isolation
//! Forest (Liu, Ting and Zhou 2008) over the fields named in its config, as
//! scikit-learn's `IsolationForest` computes it, and an alert while the score
//! is above a threshold set by the expected contamination.
//!
//! The model trains on its first `training_points` complete points (or, at
//! start, on `training_csv`, a recorded training set the agent reads from a
//! file with `config_files`): `trees` trees, each grown on a random
//! subsample of `sample_size` points to depth ceil(log2(sample_size)), each
//! node splitting a random feature that varies there at a uniform random
//! value. A point's score is 2^(-E[h(x)] / c(ψ)), h its path length (plus
//! c(points in its leaf)) and c(ψ) the average path length of the subsample:
//! about 0.5 for ordinary points and near 1 for anomalies. The alert
//! threshold is the (1 - `contamination`) quantile of the training points'
//! scores (scikit-learn's `offset_`). With `retrain_every`, the model trains
//! again on its last `training_points` points every so many points.
//!
//! Every point passes through; a scored one gains `score_field`
//! (`anomaly_score`). The training points pass unscored, the one that
//! completes the training included (as scikit-learn fits on a history and
//! scores new data); a point lacking a feature or with a value that is not
//! a finite number passes unscored too, counted in the plugin metric
//! `incomplete_points`. A
//! series fires an alert (value and score: the score) when its score rises
//! above the threshold and resolves when it falls back. One model serves
//! every series (`model: shared`, the default: features such as scaled
//! values and differences are comparable across a fleet, and one model
//! trains once) or each has its own (`per_series`, trained on its own first
//! points). Timestamps play no part: points are learned and scored in the
//! order they arrive, so repeated and out-of-order timestamps are points like
//! any other.
//!
//! Points are scored a block of up to 256 at a time when a batch brings at
//! least 24 for one model (see `blocks.rs`: the rows of a block go down each
//! tree together as bitsets, a few set operations per node for all of them),
//! else one by one; both give the same score to the last bit. Forests deeper
//! than 8 (`sample_size` above 256) are always scored one by one.
//!
//! The forest, threshold, training points, random state and firing states
//! are the snapshot, so a restart resumes exactly. Memory per model: the
//! trees (at most 2·sample_size nodes each, 16 bytes a node: 0.8 MiB with
//! the defaults, about a third of that on real data), their compiled form
//! for blocks (about 4 KiB a tree plus 8 bytes and a grid cell or four per
//! split value), and up to `training_points` points while training (kept
//! with `retrain_every`); its JSON snapshot is about 1.5 MiB with the
//! defaults. The blocks' working space, shared by all models, is 32 bytes per
//! split value in the largest forest (at most 255 a tree: 0.8 MiB for 100
//! trees of 256, 230 KiB on NAB's machine temperature) and 60 KiB more.
//!
//! ```yaml
//! processors:
//!   forest:
//!     inputs: [features]
//!     plugin: builtin:isolation-forest
//!     config_files: { training_csv: ./training.csv }   # optional
//!     config:
//!       fields: [temperature, temperature_diff1, temperature_mean, temperature_std]
//!       trees: 100
//!       sample_size: 256
//!       training_points: 2000
//!       contamination: 0.01
//!       retrain_every: 10000     # 0 (default): never
//!       model: shared            # shared (default) | per_series
//!       seed: 1
//!       severity: critical
//! ```

mod blocks;
mod config;
mod cuts;
mod forest;
mod lanes;
mod rng;

use std::collections::VecDeque;

use foghorn_plugin::Saved;
use foghorn_plugin::columns::{FieldColumns, Slot};
use foghorn_plugin::prelude::*;

use blocks::Scratch;
use config::Settings;
pub use config::{Config, ModelScope};
use forest::{Forest, quantile};
use rng::Rng;

/// A model: its forest and what it trains on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Model {
    forest: Forest,
    threshold: f64,
    /// The points to train on: the first `training_points` until trained,
    /// then (with `retrain_every`) the last `training_points`.
    recent: VecDeque<Vec<f64>>,
    /// Points since the last training.
    since: usize,
    rng: Rng,
}

impl Model {
    fn new(seed: u64) -> Self {
        Self {
            forest: Forest::default(),
            threshold: f64::MAX,
            recent: VecDeque::new(),
            since: 0,
            rng: Rng::new(seed),
        }
    }

    /// Train on `rows`, and set the threshold from their scores.
    fn train(&mut self, rows: &[Vec<f64>], settings: &Settings, scratch: &mut Scratch) {
        self.forest = Forest::train(rows, settings.trees, settings.sample_size, &mut self.rng);
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        let mut scores = Vec::with_capacity(rows.len());
        self.forest
            .score_rows(&flat, settings.fields.len(), scratch, &mut scores);
        self.threshold = quantile(scores, 1.0 - settings.contamination);
        self.since = 0;
    }

    /// A model trained on the training CSV, if there is one.
    fn fresh(settings: &Settings, seed: u64, scratch: &mut Scratch) -> Self {
        let mut model = Self::new(seed);
        if let Some(rows) = &settings.training {
            model.train(rows, settings, scratch);
        }
        model
    }

    /// Whether learning one more point will (re)train the model.
    fn will_train(&self, settings: &Settings) -> bool {
        if self.forest.is_trained() {
            settings.retrain_every > 0 && self.since + 1 >= settings.retrain_every
        } else {
            self.recent.len() + 1 >= settings.training_points
        }
    }

    /// Learn from `row`; whether to score it: the model was trained before
    /// it (and, with `retrain_every`, may have retrained on it).
    fn learn(&mut self, row: &[f64], settings: &Settings, scratch: &mut Scratch) -> bool {
        if !self.forest.is_trained() {
            self.recent.push_back(row.to_vec());
            if self.recent.len() < settings.training_points {
                return false;
            }
            let rows: Vec<Vec<f64>> = self.recent.iter().cloned().collect();
            self.train(&rows, settings, scratch);
            if settings.retrain_every == 0 {
                self.recent = VecDeque::new();
            }
            // The model learned this point: it is not new data to score.
            return false;
        } else if settings.retrain_every > 0 {
            if self.recent.len() >= settings.training_points {
                self.recent.pop_front();
            }
            self.recent.push_back(row.to_vec());
            self.since += 1;
            if self.since >= settings.retrain_every {
                let rows: Vec<Vec<f64>> = self.recent.iter().cloned().collect();
                self.train(&rows, settings, scratch);
            }
        }
        true
    }
}

/// Points waiting to be scored by one model, in blocks (see
/// [`Forest::score_rows`]).
#[derive(Debug, Default)]
struct Queue {
    /// The model: `None` for the shared one, else the series' slot.
    model: Option<Option<usize>>,
    /// The points' positions in the batch.
    points: Vec<usize>,
    /// Their features, row-major.
    rows: Vec<f64>,
    scores: Vec<f64>,
}

impl Queue {
    /// Score the queued points with `model` into `scored`.
    fn flush(
        &mut self,
        model: &Model,
        dims: usize,
        scratch: &mut Scratch,
        scored: &mut [Option<(f64, f64)>],
    ) {
        if self.points.is_empty() {
            return;
        }
        self.scores.clear();
        model
            .forest
            .score_rows(&self.rows, dims, scratch, &mut self.scores);
        for (point, score) in self.points.iter().zip(&self.scores) {
            scored[*point] = Some((*score, model.threshold));
        }
        self.points.clear();
        self.rows.clear();
        self.model = None;
    }
}

/// The model of `key`: the shared one, or the series' own.
fn model<'a>(
    shared: &'a mut Model,
    series: &'a mut PerSeries<State>,
    key: Option<usize>,
) -> &'a mut Model {
    match key {
        Some(slot) => series.get_mut(slot).model.as_mut().unwrap_or(shared),
        None => shared,
    }
}

/// What one series remembers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct State {
    firing: bool,
    /// Its own model, with `model: per_series`.
    model: Option<Model>,
}

/// The Isolation Forest detector.
#[derive(Debug)]
pub struct IsolationForest {
    settings: Settings,
    shared: Model,
    series: PerSeries<State>,
    /// The current point's features.
    row: Vec<f64>,
    queue: Queue,
    /// Working space of the forests' block scoring.
    scratch: Scratch,
}

impl Processor for IsolationForest {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        let settings = config.compile()?;
        let mut scratch = Scratch::default();
        Ok(Self {
            shared: Model::fresh(&settings, settings.seed, &mut scratch),
            row: Vec::with_capacity(settings.fields.len()),
            queue: Queue::default(),
            scratch,
            settings,
            series: PerSeries::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let Self {
            settings,
            shared,
            series,
            row,
            queue,
            scratch,
        } = self;
        let points = &batch.points;
        let dims = settings.fields.len();
        // First the models learn, in order, and the points are scored in
        // blocks between the points where a model changes; then the points
        // and alerts go out, in order.
        let features = FieldColumns::new(points, settings.fields.iter().map(String::as_str));
        let mut scored: Vec<Option<(f64, f64)>> = vec![None; points.len()];
        let mut slot_of: Vec<usize> = vec![0; points.len()];
        let mut slots = BatchSlots::new(points);
        let mut incomplete = 0;
        for point in points.iter() {
            row.clear();
            if !features.readings(points, point.index(), row) {
                incomplete += 1;
                continue;
            }
            let count = series.len() as u64;
            let slot = slots.slot(series, point, || State {
                firing: false,
                model: (settings.model == ModelScope::PerSeries)
                    .then(|| Model::fresh(settings, settings.seed.wrapping_add(count), scratch)),
            });
            slot_of[point.index()] = slot;
            let key = (settings.model == ModelScope::PerSeries).then_some(slot);
            if let Some(queued) = queue.model
                && queued != key
            {
                queue.flush(model(shared, series, queued), dims, scratch, &mut scored);
            }
            let current = model(shared, series, key);
            if current.will_train(settings) {
                queue.flush(current, dims, scratch, &mut scored);
            }
            if current.learn(row, settings, scratch) {
                queue.model = Some(key);
                queue.points.push(point.index());
                // Value by value: in WebAssembly a copy this small costs more
                // as a `memory.copy` call.
                for value in row.iter() {
                    queue.rows.push(*value);
                }
            }
        }
        if let Some(queued) = queue.model {
            queue.flush(model(shared, series, queued), dims, scratch, &mut scored);
        }
        // Every point goes out, the scored ones with their score.
        let start = out.pass_through(points);
        let mut score_field = Slot::default();
        for point in points.iter() {
            let index = point.index();
            let Some((score, threshold)) = scored[index] else {
                continue;
            };
            if let Some(row) = out.row(start + index) {
                score_field.put(row, &settings.score_field, score);
            }
            let state = series.get_mut(slot_of[index]);
            let above = score > threshold;
            if above != state.firing {
                state.firing = above;
                let ts = point.timestamp();
                let alert = if above {
                    Alert::firing(
                        &settings.kind,
                        settings.severity,
                        point.series(),
                        ts,
                        format!("anomaly score {score:.3} is above {threshold:.3}"),
                    )
                } else {
                    Alert::resolved(
                        &settings.kind,
                        point.series(),
                        ts,
                        format!("anomaly score {score:.3} is back under {threshold:.3}"),
                    )
                };
                out.alert(alert.with_value(score).with_score(score));
            }
        }
        if incomplete > 0 {
            counter_add("incomplete_points", incomplete);
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode(&Snapshot {
            fields: self.settings.fields.clone(),
            model: self.settings.model,
            shared: self.shared.clone(),
            series: self.series.save(),
        })
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let saved: Snapshot = snapshot::decode(state)?;
        // Other features or scope: keep the fresh model.
        if saved.fields != self.settings.fields || saved.model != self.settings.model {
            return Ok(());
        }
        self.shared = saved.shared;
        self.shared.forest.compile();
        self.series.load(saved.series, |state| {
            if let Some(model) = &mut state.model {
                model.forest.compile();
            }
            Ok(())
        })
    }
}

/// The state kept across restarts.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    fields: Vec<String>,
    model: ModelScope,
    shared: Model,
    series: Vec<Saved<State>>,
}

export_processor!(IsolationForest);

#[cfg(test)]
mod tests;
