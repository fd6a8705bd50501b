//! A plugin that does nothing with its input: the benchmark's measure of what
//! a call itself costs (lowering the batch into the guest, lifting the
//! output back). Points are forwarded, records are dropped.

use foghorn_plugin::prelude::*;

/// No configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {}

struct Passthrough;

impl Processor for Passthrough {
    type Config = Config;

    fn new(_config: Config) -> Result<Self, String> {
        Ok(Self)
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        for point in batch.points.iter() {
            out.forward(point);
        }
    }
}

export_processor!(Passthrough);
