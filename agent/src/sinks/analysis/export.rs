//! An anomaly set's rows as CSV, each column rendered from its template,
//! quoted as Python's `csv` module and pandas' `to_csv` quote (only cells
//! holding the delimiter, a quote or a line break), lines ending in `\n`.

use super::config::Export;
use super::template::Template;
pub use super::template::python_float;

/// The CSV text of `rows` (with `severities`, when graded), each cell from
/// `value(name, row)`.
pub fn csv(
    export: &Export,
    rows: &[usize],
    severities: &[f64],
    value: &dyn Fn(&str, usize) -> String,
) -> String {
    let templates: Vec<Template> = export
        .columns
        .0
        .iter()
        .map(|(_, text)| Template::parse(text).unwrap_or_else(|_| Template::literal(text)))
        .collect();
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = writer.write_record(export.columns.0.iter().map(|(name, _)| name));
    for (index, row) in rows.iter().enumerate() {
        let cells = templates.iter().map(|template| {
            template.render(|name| match (name, severities.get(index)) {
                ("severity", Some(severity)) => python_float(*severity),
                _ => value(name, *row),
            })
        });
        let _ = writer.write_record(cells);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::analysis::config::Ordered;

    #[test]
    fn cells_are_rendered_and_quoted_only_when_needed() {
        let export = Export {
            path: "b.csv".into(),
            columns: Ordered(vec![
                ("device_id".into(), "{device}".into()),
                ("severity".into(), "{severity}".into()),
                (
                    "description".into(),
                    "at {timestamp} (latency {latency} ms, loss {loss}%).".into(),
                ),
            ]),
        };
        let value = |name: &str, row: usize| match name {
            "device" => ["edge-01", "a \"quoted\" one"][row].to_owned(),
            "timestamp" => "2023-01-01 00:11:00".to_owned(),
            "latency" => python_float(83.7),
            "loss" => python_float(2.788),
            _ => unreachable!(),
        };
        let text = csv(&export, &[0, 1], &[0.0, 0.39], &value);
        assert_eq!(
            text,
            "device_id,severity,description\n\
             edge-01,0.0,\"at 2023-01-01 00:11:00 (latency 83.7 ms, loss 2.788%).\"\n\
             \"a \"\"quoted\"\" one\",0.39,\"at 2023-01-01 00:11:00 (latency 83.7 ms, loss 2.788%).\"\n"
        );
    }
}
