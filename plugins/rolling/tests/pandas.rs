//! rolling computes pandas' `groupby(series).rolling(window).<stat>()` over
//! count and time windows, with every statistic and quantile.

use foghorn_pandas_check as pandas;
use foghorn_plugin::testing;

#[test]
fn rolling_is_pandas_rolling_per_series() {
    let rows = pandas::generate(3_000);
    let stats = r#"["mean", "std", "var", "min", "max", "sum", "count", "median"]"#;
    for (window, extra) in [
        ("10", ""),
        ("10", r#", "min_periods": 3, "ddof": 0"#),
        (r#""30s""#, ""),
        (r#""30s""#, r#", "min_periods": 5"#),
    ] {
        let params = format!(
            r#"{{"window": {window}, "stats": {stats}, "quantiles": [0.5, 0.95, 0.99]{extra}}}"#
        );
        let expected = pandas::compute("rolling", &rows, &params);
        let config = format!(r#"{{ "fields": ["t"], {} }}"#, &params[1..params.len() - 1]);
        for batch in [1, 64, 1024] {
            let mut plugin: rolling::Rolling = testing::plugin(&config);
            let run = pandas::run(&mut plugin, &rows, batch);
            assert_eq!(
                run.rejected,
                rows.len() - expected.len(),
                "the out-of-order ones"
            );
            pandas::assert_rows_match(&expected, &run.points, 1e-9);
            let full = run.points.iter().filter(|p| p.values.contains_key("t_p99"));
            assert!(
                full.count() > expected.len() / 5,
                "{params}: many points have p99"
            );
        }
    }
}
