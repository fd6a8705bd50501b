//! Sources: where records come from.

mod batcher;

pub use batcher::RecordBatcher;
