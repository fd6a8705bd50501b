//! {{summary}}
//!
//! A feature: every point comes out with its fields and `<field>_delta`, the
//! change of `field` since the previous point of the same series (absent on
//! a series' first point). The last value of each series is kept in the
//! snapshot, so a restart continues the differences where they stopped.
//!
//! ```yaml
//! processors:
//!   {{snake}}:
//!     inputs: [parse]
//!     plugin: ./dist/{{name}}.wasm
//!     config: { field: temperature }
//! ```

use foghorn_plugin::prelude::*;

/// The pipeline's `config:` for this plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The numeric field to difference.
    pub field: String,
}

/// The feature: the config, the output field's name and each series' last
/// value.
pub struct Feature {
    field: String,
    delta: String,
    last: PerSeries<Option<f64>>,
}

impl Processor for Feature {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        if config.field.is_empty() {
            return Err("field must not be empty".to_owned());
        }
        Ok(Self {
            delta: format!("{}_delta", config.field),
            field: config.field,
            last: PerSeries::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let first = out.pass_through(&batch.points);
        let mut slots = BatchSlots::new(&batch.points);
        for (i, point) in batch.points.iter().enumerate() {
            let Some(value) = point.number(&self.field).filter(|v| v.is_finite()) else {
                continue;
            };
            let slot = slots.slot(&mut self.last, point, || None);
            let last = self.last.get_mut(slot).replace(value);
            if let (Some(last), Some(row)) = (last, out.row(first + i)) {
                row.field(&self.delta, value - last);
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode(&self.last.save())
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        self.last.load(snapshot::decode(state)?, |_| Ok(()))
    }
}

export_processor!(Feature);

#[cfg(test)]
mod tests {
    use super::*;
    use foghorn_plugin::testing;

    #[test]
    fn each_point_gets_the_change_since_the_previous_one() {
        let mut feature: Feature = testing::plugin(r#"{"field": "temperature"}"#);
        let a = Series::new("a");
        let b = Series::new("b");
        let batch = testing::points(&[
            (1, &a, "temperature", 20.0),
            (2, &b, "temperature", 50.0),
            (3, &a, "temperature", 21.5),
        ]);
        let out = testing::run(&mut feature, &batch);
        assert_eq!(
            testing::rendered(out, 0),
            [
                "point a 1 temperature=Float(20.0)",
                "point b 2 temperature=Float(50.0)",
                "point a 3 temperature=Float(21.5),temperature_delta=Float(1.5)",
            ]
        );
    }

    #[test]
    fn a_restart_continues_from_the_last_value() {
        let config = r#"{"field": "t"}"#;
        let a = Series::new("a");
        let mut feature: Feature = testing::plugin(config);
        testing::run(&mut feature, &testing::points(&[(1, &a, "t", 10.0)]));
        let mut restarted: Feature = testing::plugin(config);
        restarted.restore(&feature.snapshot()).unwrap();
        let out = testing::run(&mut restarted, &testing::points(&[(2, &a, "t", 12.0)]));
        assert_eq!(
            testing::rendered(out, 0),
            ["point a 2 t=Float(12.0),t_delta=Float(2.0)"]
        );
    }
}
