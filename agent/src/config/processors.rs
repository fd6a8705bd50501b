//! One entry of `processors`: the key every processor has (`inputs`) and its
//! `type` with that type's settings, from the processors' registry. A
//! processor that sets `plugin:` and no `type` is a `wasm` one.

use super::inputs::InputRef;
use crate::processors::ProcessorKind;

/// One entry of `processors`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessorConfig {
    /// `inputs`: the sources and processors this one reads (`name`,
    /// `name.points`, `name.alerts`). Required, not empty.
    pub inputs: Vec<InputRef>,
    /// `type` and the settings of that type.
    pub kind: ProcessorKind,
}
