//! lag computes pandas' `groupby(series).shift(k)`.

use foghorn_pandas_check as pandas;
use foghorn_plugin::testing;

#[test]
fn lag_is_pandas_shift_per_series() {
    let rows = pandas::generate(3_000);
    let expected = pandas::compute("lag", &rows, r#"{"lags": [1, 2, 7]}"#);
    for batch in [1, 64, 1024] {
        let mut plugin: lag::Lag = testing::plugin(r#"{ "fields": ["t"], "lags": [1, 2, 7] }"#);
        let run = pandas::run(&mut plugin, &rows, batch);
        assert_eq!(
            run.rejected,
            rows.len() - expected.len(),
            "the out-of-order ones"
        );
        assert!(run.rejected > 10, "the data has out-of-order points");
        pandas::assert_rows_match(&expected, &run.points, 1e-9);
        let with_lag7 = run
            .points
            .iter()
            .filter(|p| p.values.contains_key("t_lag7"));
        assert!(
            with_lag7.count() > expected.len() / 2,
            "most points have a lag 7"
        );
    }
}
