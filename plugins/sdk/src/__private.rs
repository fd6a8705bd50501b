//! Glue used by [`crate::export_processor!`]; not a public API.

use std::thread::LocalKey;

pub use std::cell::RefCell;

use crate::Processor;
pub use crate::bindings::foghorn::plugin::types::{Batch, Output};
use crate::convert::{batch_from_wit, output_to_wit};

/// The generated world, as the export macro needs it.
pub mod wit {
    pub use crate::bindings::Guest;
    pub use crate::bindings::foghorn::plugin::types::{Batch, Output};
}

/// The slot holding a plugin's one instance.
pub type Slot<P> = LocalKey<RefCell<Option<P>>>;

fn with<P: Processor, R>(slot: &'static Slot<P>, f: impl FnOnce(&mut P) -> R) -> R {
    slot.with(|cell| {
        let mut plugin = cell.borrow_mut();
        f(plugin
            .as_mut()
            .expect("the agent calls init before anything else"))
    })
}

/// `init`: parse the JSON config and build the plugin.
pub fn init<P: Processor>(slot: &'static Slot<P>, config: &str) -> Result<(), String> {
    let config: P::Config =
        serde_json::from_str(config).map_err(|e| format!("invalid plugin config: {e}"))?;
    let plugin = P::new(config)?;
    slot.with(|cell| *cell.borrow_mut() = Some(plugin));
    Ok(())
}

/// `process`: run one batch.
pub fn process<P: Processor>(slot: &'static Slot<P>, batch: Batch) -> Output {
    let batch = batch_from_wit(batch);
    let mut out = crate::Output::with_capacity(batch.records.len() + batch.points.len());
    with(slot, |p| p.process(&batch, &mut out));
    output_to_wit(out)
}

/// `tick`: time passes.
pub fn tick<P: Processor>(slot: &'static Slot<P>, now: i64) -> Output {
    let mut out = crate::Output::default();
    with(slot, |p| p.tick(now, &mut out));
    output_to_wit(out)
}

/// `snapshot`: the plugin's state.
pub fn snapshot<P: Processor>(slot: &'static Slot<P>) -> Vec<u8> {
    with(slot, |p| p.snapshot())
}

/// `restore`: state from a snapshot.
pub fn restore<P: Processor>(slot: &'static Slot<P>, state: &[u8]) -> Result<(), String> {
    with(slot, |p| p.restore(state))
}
