//! Pass-through guest of the three candidate batch encodings in
//! `bench/wit/encoding.wit`. Each function materialises its input in the
//! form a plugin would work with and returns it.
#![allow(unsafe_code, reason = "wit-bindgen export glue")]

mod codec;

mod bindings {
    wit_bindgen::generate!({ path: "../../wit", world: "encoding" });
}

use bindings::foghorn_bench::encoding::shapes::{Columnar, PointRow};

struct Guest;

impl bindings::Guest for Guest {
    fn rows(points: Vec<PointRow>) -> Vec<PointRow> {
        points
    }

    fn columns(points: Columnar) -> Columnar {
        points
    }

    fn buffer(input: Vec<u8>) -> Vec<u8> {
        let points = codec::decode(&input);
        let mut out = Vec::with_capacity(input.len());
        codec::encode(&points, &mut out);
        out
    }
}

bindings::export!(Guest with_types_in bindings);
