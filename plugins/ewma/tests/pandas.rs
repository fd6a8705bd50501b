//! ewma computes pandas' `ewm(...).mean()` per series, for each way of
//! setting the decay and both ways of treating gaps.

use foghorn_pandas_check as pandas;
use foghorn_plugin::testing;

#[test]
fn ewma_is_pandas_ewm_mean_per_series() {
    let rows = pandas::generate(3_000);
    for params in [
        r#"{"span": 12}"#,
        r#"{"alpha": 0.3, "adjust": false}"#,
        r#"{"halflife": 5, "ignore_na": true}"#,
        r#"{"com": 2.5, "min_periods": 4}"#,
    ] {
        let expected = pandas::compute("ewma", &rows, params);
        let config = format!(r#"{{ "fields": ["t"], {} }}"#, &params[1..params.len() - 1]);
        for batch in [1, 64, 1024] {
            let mut plugin: ewma::Ewma = testing::plugin(&config);
            let run = pandas::run(&mut plugin, &rows, batch);
            assert_eq!(
                run.rejected,
                rows.len() - expected.len(),
                "the out-of-order ones"
            );
            pandas::assert_rows_match(&expected, &run.points, 1e-9);
        }
    }
}
