//! Host bindings generated from `plugins/wit` by wasmtime's `bindgen!`.
#![allow(missing_docs, clippy::all, reason = "generated code")]

wasmtime::component::bindgen!({
    path: "../plugins/wit",
    world: "foghorn:plugin/processor",
});

pub use self::foghorn::plugin::types;
