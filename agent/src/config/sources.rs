//! One entry of `sources`: the keys every source has (`batch`, `after`)
//! and its `type` with that type's settings, from the sources' registry.

use super::batch::BatchOverride;
use crate::sources::SourceKind;

/// One entry of `sources`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    /// `batch`: this source's own batching; keys left out come from the global
    /// `batch`. Default: none (use the global batching).
    pub batch: Option<BatchOverride>,
    /// `after`: sources that must have ended (read to their end, every
    /// batch handed on) before this one starts: a history replayed through
    /// the pipeline before live data, so detectors that learn from their
    /// first points (`isolation-forest`'s `training_points`, `scale`'s
    /// frozen `warmup`) learn from the history. Its batches reach each
    /// processor after all of theirs. Default: none.
    pub after: Vec<String>,
    /// `type` and the settings of that type.
    pub kind: SourceKind,
}
