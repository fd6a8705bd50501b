//! {{summary}}
//!
//! A parser: each raw line of `key=value` pairs separated by spaces
//! (`temperature=21.5 status=ok`) becomes a point of the series `series`,
//! at the time the line was received; numbers become float fields and other
//! values text fields. A line that is empty, or has a word without `=` or
//! without a key, is rejected with the reason: the agent writes it to the
//! processor's error log and counts it, and the line is not lost.
//!
//! ```yaml
//! processors:
//!   {{snake}}:
//!     inputs: [device]
//!     plugin: ./dist/{{name}}.wasm
//!     config: { series: bench }
//! ```

use foghorn_plugin::prelude::*;

/// The pipeline's `config:` for this plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The series every point belongs to.
    #[serde(default = "device")]
    pub series: String,
}

fn device() -> String {
    "device".to_owned()
}

/// The parser.
pub struct Parser {
    series: Series,
}

impl Processor for Parser {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        if config.series.is_empty() {
            return Err("series must not be empty".to_owned());
        }
        Ok(Self {
            series: Series::new(config.series),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        for (index, record) in batch.records.iter().enumerate() {
            let line = record.text();
            let mut pairs = Vec::new();
            for word in line.split_whitespace() {
                match word.split_once('=') {
                    Some((key, value)) if !key.is_empty() => pairs.push((key, value)),
                    _ => {
                        out.reject_record(index, format!("`{word}` is not key=value"));
                        pairs.clear();
                        break;
                    }
                }
            }
            if pairs.is_empty() {
                if line.trim().is_empty() {
                    out.reject_record(index, "empty line");
                }
                continue;
            }
            let mut point = out.point(record.timestamp, &self.series);
            for (key, value) in pairs {
                point = match value.parse::<f64>() {
                    Ok(number) => point.field(key, number),
                    Err(_) => point.field(key, value),
                };
            }
        }
    }
}

export_processor!(Parser);

#[cfg(test)]
mod tests {
    use super::*;
    use foghorn_plugin::testing;

    #[test]
    fn lines_become_points_and_bad_lines_are_rejected_with_a_reason() {
        let mut parser: Parser = testing::plugin(r#"{"series": "bench"}"#);
        let batch = testing::records(&[
            (1, "temperature=21.5 status=ok"),
            (2, "temperature 21.5"),
            (3, ""),
        ]);
        let out = testing::run(&mut parser, &batch);
        assert_eq!(
            testing::rendered(out, 0),
            [
                "point bench 1 status=Text(\"ok\"),temperature=Float(21.5)",
                "reject record 1: `temperature` is not key=value",
                "reject record 2: empty line",
            ]
        );
    }
}
