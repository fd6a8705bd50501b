//! Feature plugins compute what pandas computes for the same window: each is
//! run (natively, as its crate) over a generated series with gaps, equal
//! timestamps and out-of-order points, and compared value by value with
//! `fixtures/pandas_features.py` (pandas from PyPI, installed by the test
//! command).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use foghorn_plugin::testing;
use foghorn_plugin::{PointsBuilder, Processor, Series};

/// One input row: series, timestamp, value (`None`: the point lacks it).
type Row = (usize, i64, Option<f64>);

/// Three interleaved series: a random walk with gaps, repeated timestamps and
/// a few points older than their series' last one.
fn generate(rows: usize) -> Vec<Row> {
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
            let series = (next() % 3) as usize;
            clock[series] += match next() % 20 {
                0 => 0,              // the same timestamp again
                1 => -5_000_000_000, // out of order
                _ => 1_000_000_000,
            };
            level[series] += (next() % 2001) as f64 / 1000.0 - 1.0;
            let value = (next() % 11 != 0).then_some(level[series]);
            (series, clock[series], value)
        })
        .collect()
}

/// What pandas computes: (input row, column -> value) for each kept row.
fn pandas(
    dir: &Path,
    feature: &str,
    rows: &[Row],
    params: &str,
) -> Vec<(usize, BTreeMap<String, f64>)> {
    let input = dir.join("input.csv");
    let output = dir.join("expected.csv");
    let mut csv = String::from("series,ts,t\n");
    for (series, ts, value) in rows {
        let value = value.map(|v| format!("{v:?}")).unwrap_or_default();
        writeln!(csv, "s{series},{ts},{value}").unwrap();
    }
    std::fs::write(&input, csv).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pandas_features.py");
    let status = Command::new("python3")
        .arg(script)
        .args([
            feature,
            input.to_str().unwrap(),
            output.to_str().unwrap(),
            params,
        ])
        .status()
        .expect("python3 runs (pandas is installed by the test command)");
    assert!(status.success(), "pandas_features.py {feature} failed");
    let text = std::fs::read_to_string(output).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let row = cells[0].parse().unwrap();
            let values = header[1..]
                .iter()
                .zip(&cells[1..])
                .filter(|(_, cell)| !cell.is_empty())
                .map(|(name, cell)| ((*name).to_owned(), cell.parse().unwrap()))
                .collect();
            (row, values)
        })
        .collect()
}

/// The plugin's output over `rows` fed in batches of `batch` points: for each
/// point out, the values of `columns` it has.
fn plugin<P: Processor>(
    plugin: &mut P,
    rows: &[Row],
    batch: usize,
    columns: &[String],
) -> (Vec<BTreeMap<String, f64>>, usize) {
    let names: Vec<Series> = (0..3).map(|s| Series::new(format!("s{s}"))).collect();
    let (mut out_rows, mut rejected) = (Vec::new(), 0);
    for chunk in rows.chunks(batch) {
        let mut builder = PointsBuilder::new();
        for (series, ts, value) in chunk {
            let point = builder.point(*ts, &names[*series]).field("other", 1.0);
            if let Some(value) = value {
                point.field("t", *value);
            }
        }
        let out = testing::run(plugin, &testing::batch(builder.finish()));
        rejected += out.errors().len();
        for point in out.into_points().iter() {
            let values = columns
                .iter()
                .filter_map(|c| point.number(c).map(|v| (c.clone(), v)))
                .collect();
            out_rows.push(values);
        }
    }
    (out_rows, rejected)
}

#[test]
fn lag_is_pandas_shift_per_series() {
    let dir = tempfile::tempdir().unwrap();
    let rows = generate(3_000);
    let expected = pandas(dir.path(), "lag", &rows, r#"{"lags": [1, 2, 7]}"#);
    let columns: Vec<String> = [1, 2, 7].iter().map(|k| format!("t_lag{k}")).collect();
    for batch in [1, 64, 1024] {
        let mut lag: lag::Lag = testing::plugin(r#"{ "fields": ["t"], "lags": [1, 2, 7] }"#);
        let (got, rejected) = plugin(&mut lag, &rows, batch, &columns);
        assert_eq!(
            got.len(),
            expected.len(),
            "batch {batch}: a point per kept row"
        );
        assert_eq!(
            rejected,
            rows.len() - expected.len(),
            "the out-of-order ones"
        );
        assert!(rejected > 10, "the data has out-of-order points");
        for (point, (row, want)) in got.iter().zip(&expected) {
            assert_eq!(
                point.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "row {row}: the same lags present"
            );
            for (column, value) in want {
                assert!(
                    (point[column] - value).abs() <= 1e-9,
                    "row {row} {column}: {} vs pandas {value}",
                    point[column]
                );
            }
        }
    }
}
