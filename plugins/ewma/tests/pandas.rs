//! ewma computes pandas' `ewm(...).mean()` per series: each way of setting
//! the decay, both ways of treating gaps, both weightings, and a half-life
//! in time.

use foghorn_pandas_check as pandas;
use foghorn_plugin::testing;

/// (pandas' ewm arguments, the plugin's decay settings).
const CASES: [(&str, &str); 9] = [
    (r#"{"span": 12}"#, r#""span": 12"#),
    (
        r#"{"alpha": 0.3, "adjust": false}"#,
        r#""alpha": 0.3, "adjust": false"#,
    ),
    (
        r#"{"halflife": 5, "ignore_na": true}"#,
        r#""halflife": 5, "ignore_na": true"#,
    ),
    (
        r#"{"com": 2.5, "min_periods": 4}"#,
        r#""com": 2.5, "min_periods": 4"#,
    ),
    // Center of mass 1 unadjusted: pandas' irregular-interval weights.
    (
        r#"{"alpha": 0.5, "adjust": false}"#,
        r#""alpha": 0.5, "adjust": false"#,
    ),
    (
        r#"{"halflife": "3s", "times": true}"#,
        r#""halflife": "3s""#,
    ),
    (
        r#"{"halflife": "3s", "times": true, "ignore_na": true}"#,
        r#""halflife": "3s", "ignore_na": true"#,
    ),
    (
        r#"{"halflife": "2500ms", "times": true, "adjust": false}"#,
        r#""halflife": "2500ms", "adjust": false"#,
    ),
    (
        r#"{"halflife": "2500ms", "times": true, "adjust": false, "ignore_na": true}"#,
        r#""halflife": "2500ms", "adjust": false, "ignore_na": true"#,
    ),
];

#[test]
fn ewma_is_pandas_ewm_mean_per_series() {
    let rows = pandas::generate(3_000);
    for (params, decay) in CASES {
        let expected = pandas::compute("ewma", &rows, params);
        let config = format!(r#"{{ "fields": ["t"], {decay} }}"#);
        for batch in [1, 64, 1024] {
            let mut plugin: ewma::Ewma = testing::plugin(&config);
            let run = pandas::run(&mut plugin, &rows, batch);
            assert_eq!(
                run.rejected,
                rows.len() - expected.len(),
                "the out-of-order ones"
            );
            assert!(run.rejected > 10, "the data has out-of-order points");
            pandas::assert_rows_match(&expected, &run.points, 1e-9);
            // The edges: a point without a value carries the average, and
            // repeated timestamps (no time passes) are among the points.
            let carried = run
                .points
                .iter()
                .filter(|p| !p.values.contains_key("t") && p.values.contains_key("t_ewma"))
                .count();
            assert!(carried > 100, "{params}: gaps carry the average");
            let repeated = run
                .points
                .windows(2)
                .filter(|w| w[0].series == w[1].series && w[0].timestamp == w[1].timestamp)
                .count();
            assert!(repeated > 5, "repeated timestamps");
        }
    }
}

#[test]
fn the_cases_differ_where_pandas_does() {
    // Each quirk replicated above changes pandas' answer on this data: the
    // comparisons are not vacuous.
    let rows = pandas::generate(3_000);
    let differ = |a: &str, b: &str| {
        let (a, b) = (
            pandas::compute("ewma", &rows, a),
            pandas::compute("ewma", &rows, b),
        );
        a.iter().zip(&b).any(|(x, y)| {
            x.values
                .get("t_ewma")
                .zip(y.values.get("t_ewma"))
                .is_some_and(|(x, y)| (x - y).abs() > 1e-6)
        })
    };
    assert!(differ(
        r#"{"span": 12}"#,
        r#"{"span": 12, "ignore_na": true}"#
    ));
    assert!(differ(
        r#"{"halflife": "3s", "times": true}"#,
        r#"{"halflife": "3s", "times": true, "ignore_na": true}"#
    ));
    assert!(differ(
        r#"{"halflife": "3s", "times": true}"#,
        r#"{"halflife": 3}"#
    ));
}
