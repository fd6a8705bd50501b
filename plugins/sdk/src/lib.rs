//! Write foghorn processor plugins in Rust.
//!
//! A plugin is a type that implements [`Processor`], exported with
//! [`export_processor!`] and compiled for `wasm32-wasip2`. The agent calls it
//! once per batch, never once per record; the batch arrives in columnar form,
//! and [`Batch`] and [`Output`] hide that behind row accessors and builders.
//!
//! # A complete detector
//!
//! ```
//! use foghorn_plugin::prelude::*;
//!
//! /// Pipeline config: `config: { field: temperature, max: 80 }`.
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     field: String,
//!     max: f64,
//! }
//!
//! /// Alerts when `field` goes above `max`, and again when it comes back.
//! struct TooHot {
//!     config: Config,
//!     firing: bool,
//! }
//!
//! impl Processor for TooHot {
//!     type Config = Config;
//!
//!     fn new(config: Config) -> Result<Self, String> {
//!         Ok(Self { config, firing: false })
//!     }
//!
//!     fn process(&mut self, batch: &Batch, out: &mut Output) {
//!         for point in batch.points.iter() {
//!             let Some(value) = point.number(&self.config.field) else { continue };
//!             let over = value > self.config.max;
//!             if over != self.firing {
//!                 self.firing = over;
//!                 let description = format!("{} is {value}", self.config.field);
//!                 let alert = if over {
//!                     Alert::firing("too_hot", Severity::Critical, point.series(), point.timestamp(), description)
//!                 } else {
//!                     Alert::resolved("too_hot", point.series(), point.timestamp(), description)
//!                 };
//!                 out.alert(alert.with_value(value));
//!             }
//!         }
//!     }
//!
//!     fn snapshot(&self) -> Vec<u8> {
//!         snapshot::encode(&self.firing)
//!     }
//!
//!     fn restore(&mut self, state: &[u8]) -> Result<(), String> {
//!         self.firing = snapshot::decode(state)?;
//!         Ok(())
//!     }
//! }
//!
//! export_processor!(TooHot);
//! # fn main() {
//! #     let mut detector = TooHot::new(Config { field: "t".into(), max: 80.0 }).unwrap();
//! #     let mut points = PointsBuilder::new();
//! #     points.point(1, &Series::new("dev")).field("t", 90.0);
//! #     let batch = Batch { points: points.finish(), ..Batch::default() };
//! #     let mut out = Output::default();
//! #     detector.process(&batch, &mut out);
//! #     assert_eq!(out.alerts().len(), 1);
//! # }
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` and point a
//! pipeline at the `.wasm` file: `plugin: ./target/wasm32-wasip2/release/too_hot.wasm`.
#![deny(missing_docs)]

mod alert;
#[doc(hidden)]
pub mod bindings;
pub mod bytes;
pub mod columns;
mod convert;
pub mod duration;
pub mod host;
pub mod lines;
mod output;
mod per_series;
pub mod series_table;
pub mod snapshot;
pub mod template;
pub mod testing;
pub mod timestamp;
pub mod typed;

#[doc(hidden)]
pub mod __private;

pub use alert::{Alert, AlertState, Severity};
pub use foghorn_model::number;
pub use foghorn_model::{
    ColumnId, PointBuilder, PointRef, Points, PointsBuilder, Record, Records, Series, SeriesId,
    Value,
};
pub use output::{ItemError, Output};
pub use per_series::{BatchSlots, InOrder, PerSeries, Saved, Sequenced};

/// What a plugin is given in one call: raw records from a source, or points
/// from an upstream processor (or both).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Raw records (lines, messages).
    pub records: Records,
    /// Structured points.
    pub points: Points,
}

/// A processor plugin: parses, derives or detects.
///
/// The agent creates one with [`Processor::new`], restores its state with
/// [`Processor::restore`] if it has a snapshot, then calls
/// [`Processor::process`] for every batch and [`Processor::tick`] as time
/// passes. A panic is contained by the agent: the batch is dead-lettered and
/// the plugin restarts from its last snapshot.
pub trait Processor: Sized + 'static {
    /// The plugin's configuration, deserialized from the pipeline's `config`.
    type Config: serde::de::DeserializeOwned;

    /// Build the plugin; an error stops the pipeline from starting and is
    /// shown to the user.
    fn new(config: Self::Config) -> Result<Self, String>;

    /// Process one batch, writing points, alerts and rejected items to `out`.
    fn process(&mut self, batch: &Batch, out: &mut Output);

    /// Time passes: `now` is nanoseconds since the Unix epoch.
    fn tick(&mut self, now: i64, out: &mut Output) {
        let _ = (now, out);
    }

    /// The state to keep across restarts.
    fn snapshot(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Restore state saved by [`Processor::snapshot`].
    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let _ = state;
        Ok(())
    }
}

/// Everything a plugin usually needs.
pub mod prelude {
    pub use crate::host::{counter_add, gauge_set, log, now};
    pub use crate::{
        Alert, AlertState, Batch, BatchSlots, ColumnId, InOrder, Output, PerSeries, PointRef,
        Points, PointsBuilder, Processor, Record, Records, Sequenced, Series, SeriesId, Severity,
        Value, export_processor, snapshot,
    };
    pub use serde::{Deserialize, Serialize};
}

/// Export a [`Processor`] as the plugin's implementation of the
/// `foghorn:plugin/processor` world. Use it once per plugin crate.
///
/// The exports exist in the WebAssembly build only: natively the crate is a
/// library (tests, benchmarks), and several plugins can link into one binary
/// without their exported symbols clashing.
#[macro_export]
macro_rules! export_processor {
    ($processor:ty) => {
        // Natively the processor is still built from its config (tests do),
        // which keeps a plugin that only the export uses free of dead code.
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn(&str) -> Result<$processor, String> = $crate::testing::from_json::<$processor>;
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code, reason = "wit-bindgen export glue")]
        mod __foghorn_export {
            use super::*;
            use $crate::__private::{wit, RefCell};

            ::std::thread_local! {
                static PLUGIN: RefCell<Option<$processor>> = const { RefCell::new(None) };
            }

            struct Export;

            impl wit::Guest for Export {
                fn init(config: String) -> Result<(), String> {
                    $crate::__private::init(&PLUGIN, &config)
                }
                fn process(batch: wit::Batch) -> wit::Output {
                    $crate::__private::process(&PLUGIN, batch)
                }
                fn tick(now: i64) -> wit::Output {
                    $crate::__private::tick(&PLUGIN, now)
                }
                fn snapshot() -> Vec<u8> {
                    $crate::__private::snapshot(&PLUGIN)
                }
                fn restore(state: Vec<u8>) -> Result<(), String> {
                    $crate::__private::restore(&PLUGIN, &state)
                }
            }

            $crate::bindings::__export_raw!(Export with_types_in $crate::bindings);
        }
    };
}
