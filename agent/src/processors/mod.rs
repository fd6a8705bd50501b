//! Processors: what turns records into points and alerts, and points and
//! alerts into other points and alerts.
//!
//! A processor has a kind, selected by its `type`: `wasm` (the default when
//! `plugin:` is set) runs a WebAssembly plugin; the others are native,
//! written in Rust against [`Processor`] and [`NativeProcessor`]. The
//! `processors!` registry below names each type once.
//!
//! [`wasm`] is the plugin host (engine, limits, snapshots); [`runner`] drives
//! one plugin in the pipeline: batches in, points and alerts out, time
//! ticks, periodic snapshots, rejected items to the error log and failed
//! batches to the dead-letter file. [`native`] drives a native processor.

pub mod alerts;
pub mod dead_letter;
pub mod error_log;
pub mod event_clock;
pub mod filter;
pub mod native;
pub mod outputs;
pub mod restarts;
pub mod runner;
pub mod wasm;

use std::sync::Arc;
use std::time::Duration;

pub use alerts::AlertsConfig;
pub use filter::FilterConfig;
pub use wasm::config::{Limits, PluginRef, RestartPolicy, WasmConfig};

use crate::delivery::Delivery;
use crate::event::notification::Notification;
use crate::event::{Alert, Batch, Points};
use crate::settings::{Settings, settings_enum};
use crate::state::StateStore;

/// What a native processor is given when it is built.
#[derive(Debug, Clone)]
pub struct ProcessorContext {
    /// The component name, for internal events and state keys.
    pub name: Arc<str>,
    /// Durable state.
    pub state: Arc<StateStore>,
    /// The agent's silences.
    pub silences: Arc<crate::silences::Silences>,
}

/// A native processor type, next to its settings struct: how to build one.
pub trait Processor: Settings {
    /// The processor once built.
    type Running: NativeProcessor;

    /// Build the processor. Mistakes in the settings belong in
    /// [`Settings::check`], which `foghorn validate` runs; `build` fails
    /// only for what needs the running agent (its state, the disk).
    ///
    /// # Errors
    /// Why it cannot run (reported at the component's line of the
    /// configuration).
    fn build(&self, ctx: &ProcessorContext) -> Result<Self::Running, String>;

    /// One line for the startup banner.
    fn describe(&self) -> String;
}

/// A built native processor. It runs on the pipeline's async workers, so a
/// call must not block; everything it produces for a batch carries that
/// batch's delivery handle.
pub trait NativeProcessor: Send + 'static {
    /// Handle one batch, adding what it produces to `out`.
    fn process(&mut self, batch: &Batch, out: &mut Produced);

    /// How often [`Self::tick`] runs; `None` (the default) for never.
    fn tick_interval(&self) -> Option<Duration> {
        None
    }

    /// Time passed: `now` is the wall clock in nanoseconds since the epoch.
    fn tick(&mut self, now: i64, out: &mut Produced) {
        let _ = (now, out);
    }
}

/// What a native processor produced from one batch or tick.
#[derive(Debug, Default)]
pub struct Produced {
    /// Points for the `points` output.
    pub points: Points,
    /// Alerts for the `alerts` output.
    pub alerts: Vec<Alert>,
    /// Notifications for the `notifications` output, each with its own
    /// delivery handle (an alert stage tracks each one until its sink has
    /// acknowledged it).
    pub notifications: Vec<(Notification, Delivery)>,
}

/// The registry of processors: the plugin kind first, then one line per
/// native `type`. From it come the [`ProcessorKind`] enum the loader fills,
/// its `TYPES`, validation, and the native processors the topology runs.
macro_rules! processors {
    (
        $(#[$wasm_doc:meta])* $wasm_name:literal => $wasm_variant:ident($wasm:ty);
        $( $(#[$doc:meta])* $name:literal => $variant:ident($settings:ty), )*
    ) => {
        settings_enum! {
            /// What a processor runs, selected by its `type`.
            pub enum ProcessorKind {
                $(#[$wasm_doc])* $wasm_name => $wasm_variant($wasm),
                $( $(#[$doc])* $name => $variant($settings), )*
            }
        }

        impl ProcessorKind {
            /// The `type` of a processor that sets `plugin:` and no `type`.
            pub const PLUGIN_TYPE: &'static str = $wasm_name;

            /// The plugin settings, when the processor runs a plugin.
            #[must_use]
            pub fn wasm(&self) -> Option<&$wasm> {
                match self {
                    Self::$wasm_variant(settings) => Some(settings),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            /// Build a native processor; `None` for a plugin, which the
            /// topology loads and instantiates itself.
            pub fn build_native(
                &self,
                ctx: &ProcessorContext,
            ) -> Option<Result<Box<dyn NativeProcessor>, String>> {
                match self {
                    Self::$wasm_variant(_) => None,
                    $( Self::$variant(settings) => Some(
                        Processor::build(settings, ctx)
                            .map(|running| Box::new(running) as Box<dyn NativeProcessor>),
                    ), )*
                }
            }

            /// One line for the startup banner of a native processor; `None`
            /// for a plugin.
            #[must_use]
            pub fn describe_native(&self) -> Option<String> {
                match self {
                    Self::$wasm_variant(_) => None,
                    $( Self::$variant(settings) => Some(Processor::describe(settings)), )*
                }
            }
        }
    };
}

processors! {
    /// `type: wasm`: a WebAssembly plugin (the default when `plugin:` is set).
    "wasm" => Wasm(WasmConfig);
    /// `type: filter`: passes the points and alerts that match its matchers.
    "filter" => Filter(FilterConfig),
    /// `type: alerts`: routes, groups and notifies alerts, durably.
    "alerts" => Alerts(AlertsConfig),
}
