//! One entry of `sources`: the key every source has (`batch`) and its
//! `type` with that type's settings, from the sources' registry.

use super::batch::BatchOverride;
use crate::sources::SourceKind;

/// One entry of `sources`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    /// `batch`: this source's own batching; keys left out come from the global
    /// `batch`. Default: none (use the global batching).
    pub batch: Option<BatchOverride>,
    /// `type` and the settings of that type.
    pub kind: SourceKind,
}
