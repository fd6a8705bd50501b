//! placeholder
use foghorn_plugin::prelude::*;
#[derive(Deserialize)]
struct Config {}
struct P;
impl Processor for P {
    type Config = Config;
    fn new(_c: Config) -> Result<Self, String> { Ok(P) }
    fn process(&mut self, batch: &Batch, out: &mut Output) { for p in batch.points.iter() { out.forward(p); } }
}
export_processor!(P);
