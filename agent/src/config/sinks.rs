//! One entry of `sinks`: the keys every sink has (`inputs`, `buffer`) and
//! its `type` with that type's settings, from the sinks' registry.

use super::inputs::InputRef;
use crate::fanout::BufferConfig;
use crate::sinks::SinkKind;

/// One entry of `sinks`.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    /// `inputs`: the sources and processors this sink reads (`name`,
    /// `name.points`, `name.alerts`). Required, not empty.
    pub inputs: Vec<InputRef>,
    /// `buffer`: how many batches wait for this sink, and what happens when
    /// that many are waiting. Default: 16 batches, block.
    pub buffer: BufferConfig,
    /// `type` and the settings of that type.
    pub kind: SinkKind,
}
