//! {{summary}}
//!
//! A detector: it reads points (from a parser upstream) and raises an alert
//! when `field` goes above `max` in a series, and resolves it when the value
//! comes back to `max` or below. Which series are firing is kept in the
//! snapshot, so a restart neither repeats nor forgets an alert.
//!
//! ```yaml
//! processors:
//!   {{snake}}:
//!     inputs: [parse]
//!     plugin: ./dist/{{name}}.wasm
//!     config: { field: temperature, max: 80 }
//! ```

use foghorn_plugin::prelude::*;

/// The kind of the alerts it raises.
const KIND: &str = "{{snake}}";

/// The pipeline's `config:` for this plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The numeric field to watch.
    pub field: String,
    /// Above this the series is firing.
    pub max: f64,
    /// How bad it is: info, warning or critical (default).
    #[serde(default = "critical")]
    pub severity: Severity,
}

fn critical() -> Severity {
    Severity::Critical
}

/// The detector: the config, and whether each series is firing.
pub struct Detector {
    config: Config,
    firing: PerSeries<bool>,
}

impl Processor for Detector {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        if !config.max.is_finite() {
            return Err(format!("max must be a finite number, not {}", config.max));
        }
        Ok(Self {
            config,
            firing: PerSeries::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let mut slots = BatchSlots::new(&batch.points);
        for point in batch.points.iter() {
            let Some(value) = point.number(&self.config.field) else {
                continue;
            };
            let slot = slots.slot(&mut self.firing, point, || false);
            let firing = self.firing.get_mut(slot);
            let over = value > self.config.max;
            if over == *firing {
                continue;
            }
            *firing = over;
            let field = &self.config.field;
            let max = self.config.max;
            let alert = if over {
                let text = format!("{field} {value} is above {max}");
                Alert::firing(
                    KIND,
                    self.config.severity,
                    point.series(),
                    point.timestamp(),
                    text,
                )
            } else {
                let text = format!("{field} {value} is back to {max} or below");
                Alert::resolved(KIND, point.series(), point.timestamp(), text)
            };
            out.alert(alert.with_label("field", field).with_value(value));
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode(&self.firing.save())
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        self.firing.load(snapshot::decode(state)?, |_| Ok(()))
    }
}

export_processor!(Detector);

#[cfg(test)]
mod tests {
    use super::*;
    use foghorn_plugin::testing;

    const CONFIG: &str = r#"{"field": "temperature", "max": 80}"#;

    #[test]
    fn fires_once_above_max_and_resolves_below() {
        let mut detector: Detector = testing::plugin(CONFIG);
        let device = Series::new("device");
        let batch = testing::points(&[
            (1, &device, "temperature", 70.0),
            (2, &device, "temperature", 85.5),
            (3, &device, "temperature", 90.0),
            (4, &device, "temperature", 75.0),
        ]);
        let out = testing::run(&mut detector, &batch);
        let alerts: Vec<(i64, AlertState)> = out
            .alerts()
            .iter()
            .map(|a| (a.timestamp, a.state))
            .collect();
        assert_eq!(alerts, [(2, AlertState::Firing), (4, AlertState::Resolved)]);
        assert_eq!(out.alerts()[0].value, Some(85.5));
    }

    #[test]
    fn a_restart_remembers_what_is_firing() {
        let mut detector: Detector = testing::plugin(CONFIG);
        let device = Series::new("device");
        testing::run(
            &mut detector,
            &testing::points(&[(1, &device, "temperature", 90.0)]),
        );
        let mut restarted: Detector = testing::plugin(CONFIG);
        restarted.restore(&detector.snapshot()).unwrap();
        let out = testing::run(
            &mut restarted,
            &testing::points(&[(2, &device, "temperature", 95.0)]),
        );
        assert!(out.alerts().is_empty(), "still firing: no second alert");
    }

    #[test]
    fn a_max_that_is_not_a_number_is_refused() {
        let message = testing::config_error::<Detector>(r#"{"field": "t", "max": "hot"}"#);
        assert!(message.contains("invalid type"), "{message}");
    }
}
