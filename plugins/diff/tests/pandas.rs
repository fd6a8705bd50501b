//! diff computes pandas' `groupby(series).diff(k)`.

use foghorn_pandas_check as pandas;
use foghorn_plugin::testing;

#[test]
fn diff_is_pandas_diff_per_series() {
    let rows = pandas::generate(3_000);
    let expected = pandas::compute("diff", &rows, r#"{"periods": [1, 3]}"#);
    for batch in [1, 64, 1024] {
        let mut plugin: diff::Diff = testing::plugin(r#"{ "fields": ["t"], "periods": [1, 3] }"#);
        let run = pandas::run(&mut plugin, &rows, batch);
        assert_eq!(
            run.rejected,
            rows.len() - expected.len(),
            "the out-of-order ones"
        );
        assert!(run.rejected > 10, "the data has out-of-order points");
        pandas::assert_rows_match(&expected, &run.points, 1e-9);
        let with = run
            .points
            .iter()
            .filter(|p| p.values.contains_key("t_diff3"));
        assert!(
            with.count() > expected.len() / 2,
            "most points have a diff 3"
        );
    }
}
