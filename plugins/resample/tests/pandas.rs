//! resample computes pandas' `groupby(series).resample(every,
//! origin="epoch")` statistics for the rows its lateness rule keeps.

use std::collections::BTreeMap;

use foghorn_pandas_check as pandas;
use foghorn_plugin::{Output, Processor, testing};

#[test]
fn resample_is_pandas_resample_per_series() {
    let rows = pandas::generate(3_000);
    let stats =
        r#"["mean", "min", "max", "count", "sum", "std", "first", "last", "p50", "p95", "p99"]"#;
    for (every, lateness, empty) in [
        ("10s", "0s", "skip"),
        ("10s", "5s", "skip"),
        ("4s", "0s", "emit"),
    ] {
        let params = format!(
            r#"{{"every": "{every}", "lateness": "{lateness}", "stats": {stats}, "empty": "{empty}"}}"#
        );
        let expected = pandas::compute("resample", &rows, &params);
        let expected: BTreeMap<&str, &BTreeMap<String, f64>> = expected
            .iter()
            .map(|row| (row.key.as_str(), &row.values))
            .collect();
        let config = format!(
            r#"{{ "every": "{every}", "allowed_lateness": "{lateness}", "fields": ["t"], "stats": {stats}, "empty_buckets": "{empty}" }}"#
        );
        for batch in [1, 64, 1024] {
            let mut plugin: resample::Resample = testing::plugin(&config);
            let mut run = pandas::run(&mut plugin, &rows, batch);
            let mut out = Output::default();
            plugin.tick(i64::MAX, &mut out);
            run.points.extend(pandas::emitted(out));
            assert!(run.rejected > 10, "{params}: the data has late points");
            let keys: Vec<String> = run
                .points
                .iter()
                .map(|point| format!("{}@{}", point.series, point.timestamp))
                .collect();
            let unique: std::collections::BTreeSet<&str> =
                keys.iter().map(String::as_str).collect();
            assert_eq!(
                keys.len(),
                unique.len(),
                "{params} batch {batch}: a bucket emitted twice"
            );
            assert_eq!(
                unique,
                expected.keys().copied().collect(),
                "{params} batch {batch}: the buckets pandas has"
            );
            for point in &run.points {
                let key = format!("{}@{}", point.series, point.timestamp);
                let want = expected
                    .get(key.as_str())
                    .unwrap_or_else(|| panic!("{params}: pandas has no bucket {key}"));
                assert_eq!(
                    point.values.keys().collect::<Vec<_>>(),
                    want.keys().collect::<Vec<_>>(),
                    "{params} {key}: the same statistics present"
                );
                for (column, value) in *want {
                    pandas::assert_close(point.values[column], *value, 1e-9, &key, column);
                }
            }
        }
    }
}
