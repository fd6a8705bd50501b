//! scale computes pandas' expanding (or first-`warmup`) standardisation and
//! min-max scaling per series.

use foghorn_pandas_check as pandas;
use foghorn_plugin::testing;

#[test]
fn scale_is_pandas_expanding_scaling_per_series() {
    let rows = pandas::generate(3_000);
    for params in [
        r#"{"method": "standard", "fit": "expanding", "warmup": 10, "ddof": 0}"#,
        r#"{"method": "standard", "fit": "frozen", "warmup": 50, "ddof": 1}"#,
        r#"{"method": "minmax", "fit": "expanding", "warmup": 3, "ddof": 0}"#,
        r#"{"method": "minmax", "fit": "frozen", "warmup": 20, "ddof": 0}"#,
    ] {
        let expected = pandas::compute("scale", &rows, params);
        let config = format!(r#"{{ "fields": ["t"], {} }}"#, &params[1..params.len() - 1]);
        for batch in [1, 64, 1024] {
            let mut plugin: scale::Scale = testing::plugin(&config);
            let run = pandas::run(&mut plugin, &rows, batch);
            assert_eq!(
                run.rejected,
                rows.len() - expected.len(),
                "the out-of-order ones"
            );
            pandas::assert_rows_match(&expected, &run.points, 1e-9);
            let scaled = run
                .points
                .iter()
                .filter(|p| p.values.contains_key("t_scaled"));
            assert!(
                scaled.count() > expected.len() / 2,
                "{params}: most points scaled"
            );
        }
    }
}
