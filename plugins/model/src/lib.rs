//! foghorn's data model, shared by the agent and its plugins: the columnar
//! batches, the invariants a batch from an untrusted source is checked
//! against ([`Points::validate`]), alert [`Severity`] and [`AlertState`], and
//! the one [`duration`] grammar of configs.
//!
//! Points and raw records travel between components, and across the
//! WebAssembly boundary, in the shape of the `foghorn:plugin` WIT types: a
//! series table referenced by index, one column per field, and raw payloads as
//! one byte buffer plus end offsets. This crate owns that shape on both sides:
//! the agent and the guest SDK convert to and from their generated bindings by
//! moving vectors, never by copying values one at a time.
//!
//! Batches: readers use [`Points::iter`] and [`PointRef`]; writers use
//! [`PointsBuilder`]. Nobody outside this crate needs to see an offset.
#![deny(missing_docs)]

mod alert;
mod builder;
mod check;
mod convert;
pub mod duration;
pub mod number;
mod points;
mod records;

pub use alert::{Alert, AlertState, Severity};
pub use builder::{ColumnId, PointBuilder, PointsBuilder, SeriesId};
pub use check::Malformed;
pub use points::{Column, ColumnData, PointRef, Points, Series, TextColumn, Value};
pub use records::{Record, Records};
