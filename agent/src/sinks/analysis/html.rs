//! The HTML report: one self-contained page (inline style, SVG charts, no
//! script, nothing fetched) with the JSON report's sections as tables and
//! the configured charts. Every text from the data is escaped.
//!
//! Bounds: a chart draws at most [`MAX_POINTS`] points per line (every
//! n-th point past that) and [`MAX_MARKERS`] markers per anomaly set (the
//! first ones); a table lists at most [`MAX_TABLE_ROWS`] rows.

use std::fmt::Write as _;

use serde_json::Value;

use super::compute::{Computed, Series, TimeFormat};
use super::config::{AnalysisConfig, Chart};
use super::table::Table;
use crate::sinks::escape::html as esc;

/// The most points drawn per line.
const MAX_POINTS: usize = 2000;
/// The most markers drawn per anomaly set.
const MAX_MARKERS: usize = 500;
/// The most rows a table shows.
const MAX_TABLE_ROWS: usize = 200;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf",
];
const MARKER: &str = "#d62728";

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;background:#fff}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}\
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}\
th{background:#f4f4f4}td.t,th.t{text-align:left}\
figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}\
.legend span{margin-right:1.2em}.muted{color:#777}";

/// The page for `computed`.
pub fn render(
    config: &AnalysisConfig,
    computed: &Computed,
    table: &Table,
    times: &TimeFormat,
) -> String {
    let report = &computed.json;
    let mut page = String::with_capacity(64 * 1024);
    let title = esc(&config.title);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    if let Some(period) = report["period"].as_object() {
        let text = |key: &str| period.get(key).and_then(Value::as_str).unwrap_or_default();
        let _ = writeln!(
            page,
            "<p>From {} to {}.</p>",
            esc(text("first")),
            esc(text("last"))
        );
    }
    page.push_str("<h2>Rows</h2>\n");
    object_table(&mut page, &report["rows"]);
    if report["distinct"]
        .as_object()
        .is_some_and(|d| !d.is_empty())
    {
        page.push_str("<h2>Distinct values</h2>\n");
        object_table(&mut page, &report["distinct"]);
    }
    if let Some(values) = report["values"].as_object() {
        for (name, list) in values {
            let items: Vec<String> = list
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| esc(&plain(v)).into_owned())
                .collect();
            let _ = writeln!(page, "<p><b>{}</b>: {}</p>", esc(name), items.join(", "));
        }
    }
    for chart in &config.charts {
        if let Some(series) = computed.series.get(&chart.series) {
            draw(&mut page, chart, series, computed, table, times);
        }
    }
    if let Some(groups) = report["groups"].as_object() {
        for (name, rows) in groups {
            let _ = writeln!(page, "<h2>{}</h2>", esc(name));
            list_table(&mut page, rows);
        }
    }
    if let Some(sets) = report["anomalies"].as_object() {
        for (name, set) in sets {
            let _ = writeln!(
                page,
                "<h2>Anomalies: {} ({} rows)</h2>",
                esc(name),
                set["count"]
            );
            list_table(&mut page, &set["conditions"]);
            page.push_str("<p class=\"muted\">The first rows:</p>\n");
            list_table(&mut page, &set["first"]);
        }
    }
    page.push_str("<p class=\"muted\">Written by foghorn.</p>\n</body></html>\n");
    page
}

/// A JSON value as table text: strings without quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => match n.as_f64() {
            Some(v) if n.is_f64() => format_number(v),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// A float shown to at most 4 decimals, trailing zeros dropped.
fn format_number(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// Round values between `lo` and `hi` for an axis: steps of 1, 2 or 5
/// times a power of ten, four to ten of them.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    if !(raw.is_finite() && raw > 0.0) {
        return vec![lo];
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil();
    (0..12)
        .map(|i| (first + f64::from(i)) * step)
        .take_while(|v| *v <= hi)
        .collect()
}

/// An object as a two-row table: keys, then values.
fn object_table(page: &mut String, value: &Value) {
    let Some(object) = value.as_object() else {
        return;
    };
    page.push_str("<table><tr>");
    for key in object.keys() {
        let _ = write!(page, "<th>{}</th>", esc(key));
    }
    page.push_str("</tr><tr>");
    for value in object.values() {
        let _ = write!(page, "<td>{}</td>", esc(&plain(value)));
    }
    page.push_str("</tr></table>\n");
}

/// A list of objects as a table, one row each, columns from the first.
fn list_table(page: &mut String, value: &Value) {
    let Some(rows) = value.as_array().filter(|rows| !rows.is_empty()) else {
        page.push_str("<p class=\"muted\">None.</p>\n");
        return;
    };
    let mut keys: Vec<&String> = Vec::new();
    for row in rows {
        for key in row.as_object().into_iter().flat_map(|o| o.keys()) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    page.push_str("<table><tr>");
    for key in &keys {
        let _ = write!(page, "<th class=\"t\">{}</th>", esc(key));
    }
    page.push_str("</tr>\n");
    for row in rows.iter().take(MAX_TABLE_ROWS) {
        page.push_str("<tr>");
        for key in &keys {
            let cell = &row[key.as_str()];
            let class = if cell.is_string() { " class=\"t\"" } else { "" };
            let _ = write!(page, "<td{class}>{}</td>", esc(&plain(cell)));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
    if rows.len() > MAX_TABLE_ROWS {
        let _ = writeln!(
            page,
            "<p class=\"muted\">{} more rows in the JSON report.</p>",
            rows.len() - MAX_TABLE_ROWS
        );
    }
}

/// A line chart of `series`, with the rows of its marker sets.
fn draw(
    page: &mut String,
    chart: &Chart,
    series: &Series,
    computed: &Computed,
    table: &Table,
    times: &TimeFormat,
) {
    let lines: Vec<&(String, _, Vec<Option<f64>>)> = series
        .lines
        .iter()
        .filter(|(key, _, _)| chart.fields.is_empty() || chart.fields.contains(key))
        .collect();
    let first_field = lines
        .first()
        .map(|(key, _, _)| key.as_str())
        .unwrap_or_default();
    let column = table.column(first_field);
    let markers: Vec<(i64, f64)> = chart
        .markers
        .iter()
        .filter_map(|set| computed.flagged.get(set))
        .flat_map(|rows| rows.iter().take(MAX_MARKERS))
        .filter_map(|row| Some((table.times[*row], table.cells[column?][*row].number()?)))
        .collect();
    let points = lines
        .iter()
        .flat_map(|(_, _, values)| series.times.iter().zip(values))
        .filter_map(|(t, v)| Some((*t, (*v)?)));
    let all: Vec<(i64, f64)> = points.chain(markers.iter().copied()).collect();
    let _ = writeln!(
        page,
        "<figure><figcaption>{}</figcaption>",
        esc(&chart.title)
    );
    if all.is_empty() {
        page.push_str("<p class=\"muted\">No data.</p></figure>\n");
        return;
    }
    let (t0, t1) = all.iter().fold((i64::MAX, i64::MIN), |(lo, hi), (t, _)| {
        (lo.min(*t), hi.max(*t))
    });
    let (mut v0, mut v1) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
            (lo.min(*v), hi.max(*v))
        });
    let pad = ((v1 - v0) * 0.05).max(1e-9);
    v0 -= pad;
    v1 += pad;
    let span = (t1 - t0).max(1) as f64;
    let x = |t: i64| LEFT + (t - t0) as f64 / span * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| TOP + (v1 - v) / (v1 - v0) * (HEIGHT - TOP - BOTTOM);
    let _ = write!(
        page,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">\
         <rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#fff\"/>",
        esc(&chart.title)
    );
    // Axes, five value ticks, three time ticks.
    let (bottom, right) = (HEIGHT - BOTTOM, WIDTH - RIGHT);
    let _ = write!(
        page,
        "<g stroke=\"#999\" stroke-width=\"1\"><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bottom}\"/>\
         <line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\"/></g>\
         <g font-size=\"11\" fill=\"#555\">"
    );
    for v in ticks(v0, v1) {
        let _ = write!(
            page,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <line x1=\"{LEFT}\" x2=\"{right}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>",
            LEFT - 6.0,
            y(v) + 4.0,
            format_number(v),
            y(v),
            y(v)
        );
    }
    for (t, anchor) in [(t0, "start"), (t0 + (t1 - t0) / 2, "middle"), (t1, "end")] {
        let _ = write!(
            page,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
            x(t),
            HEIGHT - 12.0,
            esc(&times.format(t))
        );
    }
    page.push_str("</g>");
    for (index, (_, _, values)) in lines.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let step = values.len().div_ceil(MAX_POINTS).max(1);
        // A gap (no value) breaks the line.
        let mut path = String::new();
        let mut pen_down = false;
        for (t, v) in series.times.iter().zip(values.iter()).step_by(step) {
            match v {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1}",
                        if pen_down { " L" } else { " M" },
                        x(*t),
                        y(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            page,
            "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
            path.trim_start()
        );
    }
    for (t, v) in &markers {
        let _ = write!(
            page,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{MARKER}\" opacity=\"0.8\">\
             <title>{} {}</title></circle>",
            x(*t),
            y(*v),
            esc(&times.format(*t)),
            format_number(*v)
        );
    }
    page.push_str("</svg>\n<div class=\"legend\">");
    for (index, (key, stat, _)) in lines.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let _ = write!(
            page,
            "<span><b style=\"color:{colour}\">━</b> {} ({})</span>",
            esc(key),
            stat.name()
        );
    }
    if !markers.is_empty() {
        let _ = write!(
            page,
            "<span><b style=\"color:{MARKER}\">●</b> {}</span>",
            esc(&chart.markers.join(", "))
        );
    }
    page.push_str("</div></figure>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ticks_are_round_and_inside_the_range() {
        assert_eq!(ticks(37.08, 136.09), [40.0, 60.0, 80.0, 100.0, 120.0]);
        assert_eq!(ticks(-0.6, 61.3), [0.0, 20.0, 40.0, 60.0]);
        assert_eq!(
            ticks(0.0, 1.0),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(ticks(5.0, 5.0), [5.0]);
        assert_eq!(format_number(0.6000000000000001), "0.6");
    }
}
