//! scale computes pandas' expanding (or first-`warmup`) standardisation and
//! min-max scaling per series; `features/scale.py` also checks the frozen
//! fits against scikit-learn's fitted scalers.

use foghorn_pandas_check as pandas;
use foghorn_plugin::testing;

#[test]
fn scale_is_pandas_expanding_scaling_per_series() {
    let rows = pandas::generate(3_000);
    for params in [
        r#"{"method": "standard", "fit": "expanding", "warmup": 10, "ddof": 0}"#,
        r#"{"method": "standard", "fit": "expanding", "warmup": 5, "ddof": 2}"#,
        r#"{"method": "standard", "fit": "frozen", "warmup": 50, "ddof": 0}"#,
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
            assert!(run.rejected > 10, "the data has out-of-order points");
            pandas::assert_rows_match(&expected, &run.points, 1e-9);
            let count =
                |f: &dyn Fn(&pandas::Emitted) -> bool| run.points.iter().filter(|p| f(p)).count();
            assert!(
                count(&|p| p.values.contains_key("t_scaled")) > expected.len() * 3 / 4,
                "{params}: most points scaled"
            );
            // The edges: points without a value (they pass unscaled), the
            // warm-up of each series, and for min-max, values beyond the
            // range of the fit (below 0 or above 1).
            assert!(count(&|p| !p.values.contains_key("t")) > 100, "gaps");
            assert!(
                count(&|p| p.values.contains_key("t") && !p.values.contains_key("t_scaled")) >= 3,
                "{params}: warm-ups"
            );
            if params.contains("minmax") && params.contains("frozen") {
                let outside = count(&|p| {
                    p.values
                        .get("t_scaled")
                        .is_some_and(|v| !(0.0..=1.0).contains(v))
                });
                assert!(outside > 100, "values beyond the fitted range");
            }
        }
    }
}
