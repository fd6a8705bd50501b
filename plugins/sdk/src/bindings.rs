//! Bindings generated from `plugins/wit` by wit-bindgen. Plugin authors use
//! the crate's own types instead.
#![allow(unsafe_code, missing_docs, clippy::all, reason = "generated code")]

wit_bindgen::generate!({
    path: "../wit",
    world: "foghorn:plugin/processor",
    pub_export_macro: true,
    export_macro_name: "__export_raw",
    default_bindings_module: "foghorn_plugin::bindings",
});
