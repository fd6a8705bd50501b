//! Compare a feature plugin with pandas: generate a series with the edges
//! that matter (three interleaved series, gaps, repeated timestamps, points
//! older than their series' last one), have pandas compute the feature
//! (`pandas_features.py`, which loads `features/<feature>.py`), run the
//! plugin over the same rows natively in batches of any size, and compare
//! value by value.
//!
//! pandas comes from PyPI; the test command (`scripts/test.sh`) installs it.
//!
//! ```no_run
//! use foghorn_pandas_check as pandas;
//!
//! /// A lag plugin given `{ "fields": ["t"], "lags": [1] }` is pandas' shift(1).
//! fn check<P: foghorn_plugin::Processor>(plugin: &mut P) {
//!     let rows = pandas::generate(3_000);
//!     let expected = pandas::compute("lag", &rows, r#"{"lags": [1]}"#);
//!     let run = pandas::run(plugin, &rows, 64);
//!     pandas::assert_rows_match(&expected, &run.points, 1e-9);
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use foghorn_plugin::testing;
use foghorn_plugin::{PointsBuilder, Processor, Series};

/// One input row: series (0, 1 or 2, named `s0`…), timestamp in
/// nanoseconds, value of field `t` (`None`: the point lacks it).
pub type Row = (usize, i64, Option<f64>);

/// The nanoseconds of one step of the generated clock.
pub const STEP: i64 = 1_000_000_000;

/// `rows` rows of three interleaved series: each a random walk around 20
/// stepping one second, where one step in 20 repeats the timestamp, one in
/// 20 goes back five seconds (an out-of-order point), and one value in 11
/// is missing. Seeded: the same rows every run.
#[must_use]
pub fn generate(rows: usize) -> Vec<Row> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut clock, mut level) = ([0_i64; 3], [20.0_f64; 3]);
    (0..rows)
        .map(|_| {
            let series = usize::try_from(next() % 3).expect("small");
            clock[series] += match next() % 20 {
                0 => 0,
                1 => -5 * STEP,
                _ => STEP,
            };
            #[allow(clippy::cast_precision_loss, reason = "a small integer")]
            let step = (next() % 2001) as f64 / 1000.0 - 1.0;
            level[series] += step;
            let value = (next() % 11 != 0).then_some(level[series]);
            (series, clock[series], value)
        })
        .collect()
}

/// One row pandas computed: its key (the first column: the index of the
/// input row for a feature with a row per input row, or whatever the
/// feature's script writes, such as `s0@<bucket>`), and its non-NaN values.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// The first column.
    pub key: String,
    /// Column name to value; NaN cells are left out.
    pub values: BTreeMap<String, f64>,
}

/// What pandas computes for `feature` over `rows` with `params` (JSON text
/// handed to `features/<feature>.py`).
///
/// # Panics
/// When python3 or pandas is missing or the script fails.
#[must_use]
pub fn compute(feature: &str, rows: &[Row], params: &str) -> Vec<Expected> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("input.csv");
    let output = dir.path().join("expected.csv");
    let mut csv = String::from("series,ts,t\n");
    for (series, ts, value) in rows {
        let value = value.map(|v| format!("{v:?}")).unwrap_or_default();
        writeln!(csv, "s{series},{ts},{value}").expect("writing to a string");
    }
    std::fs::write(&input, csv).expect("writing the input");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("pandas_features.py");
    let status = Command::new("python3")
        .arg(script)
        .arg(feature)
        .arg(&input)
        .arg(&output)
        .arg(params)
        .status()
        .expect("python3 runs (the test command installs pandas)");
    assert!(status.success(), "pandas_features.py {feature} failed");
    let text = std::fs::read_to_string(output).expect("the script wrote its output");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let values = header[1..]
                .iter()
                .zip(&cells[1..])
                .filter(|(_, cell)| !cell.is_empty())
                .map(|(name, cell)| {
                    let value = cell
                        .parse()
                        .unwrap_or_else(|_| panic!("{name}: {cell} is not a number"));
                    ((*name).to_owned(), value)
                })
                .collect();
            Expected {
                key: cells[0].to_owned(),
                values,
            }
        })
        .collect()
}

/// A point the plugin emitted: its series name, timestamp and numeric fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    /// Series name (`s0`, `s1`, `s2`).
    pub series: String,
    /// Timestamp in nanoseconds.
    pub timestamp: i64,
    /// Every numeric field of the point.
    pub values: BTreeMap<String, f64>,
}

/// What the plugin did over the rows.
#[derive(Debug, Default)]
pub struct Run {
    /// Every point out, in order.
    pub points: Vec<Emitted>,
    /// How many input points it rejected.
    pub rejected: usize,
}

/// The rows as points of series `s0`…`s2` with fields `t` (when present)
/// and `other` (always 1.0), in batches of `batch`.
#[must_use]
pub fn batches(rows: &[Row], batch: usize) -> Vec<foghorn_plugin::Batch> {
    let names: Vec<Series> = (0..3).map(|s| Series::new(format!("s{s}"))).collect();
    rows.chunks(batch)
        .map(|chunk| {
            let mut builder = PointsBuilder::new();
            for (series, ts, value) in chunk {
                let point = builder.point(*ts, &names[*series]).field("other", 1.0);
                if let Some(value) = value {
                    point.field("t", *value);
                }
            }
            testing::batch(builder.finish())
        })
        .collect()
}

/// Run `plugin` over `rows` in batches of `batch` points.
pub fn run<P: Processor>(plugin: &mut P, rows: &[Row], batch: usize) -> Run {
    let mut run = Run::default();
    for batch in batches(rows, batch) {
        let out = testing::run(plugin, &batch);
        run.rejected += out.errors().len();
        run.points.extend(emitted(out));
    }
    run
}

/// The points of one call's output.
#[must_use]
pub fn emitted(out: foghorn_plugin::Output) -> Vec<Emitted> {
    out.into_points()
        .iter()
        .map(|point| Emitted {
            series: point.series().name.clone(),
            timestamp: point.timestamp(),
            values: point
                .fields()
                .filter_map(|(name, value)| value.as_f64().map(|v| (name.to_owned(), v)))
                .collect(),
        })
        .collect()
}

/// Assert that the plugin's points match pandas' rows one for one, in
/// order: the same columns present (of those pandas wrote; the input fields
/// `t` and `other` are not compared unless pandas wrote them) and every
/// value within `tolerance` (absolute, or relative for values above 1).
///
/// # Panics
/// At the first difference, naming the row and column.
pub fn assert_rows_match(expected: &[Expected], got: &[Emitted], tolerance: f64) {
    assert_eq!(got.len(), expected.len(), "a point per row pandas kept");
    let columns: std::collections::BTreeSet<&String> =
        expected.iter().flat_map(|row| row.values.keys()).collect();
    for (point, want) in got.iter().zip(expected) {
        let present: Vec<&String> = columns
            .iter()
            .copied()
            .filter(|c| point.values.contains_key(*c))
            .collect();
        assert_eq!(
            present,
            want.values.keys().collect::<Vec<_>>(),
            "row {}: the same columns present as in pandas",
            want.key
        );
        for (column, value) in &want.values {
            assert_close(point.values[column], *value, tolerance, &want.key, column);
        }
    }
}

/// Assert `got` is within `tolerance` of pandas' `want`.
///
/// # Panics
/// When it is not, naming `row` and `column`.
pub fn assert_close(got: f64, want: f64, tolerance: f64, row: &str, column: &str) {
    let scale = want.abs().max(1.0);
    assert!(
        (got - want).abs() <= tolerance * scale,
        "row {row} {column}: {got} vs pandas {want}"
    );
}
