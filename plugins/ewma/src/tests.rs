use foghorn_plugin::testing;

use super::*;

fn ewma(config: &str) -> Ewma {
    testing::plugin(config)
}

fn batch(values: &[Option<f64>], series: &Series) -> Batch {
    let mut builder = PointsBuilder::new();
    for (ts, value) in (0..).zip(values) {
        let point = builder.point(ts, series).field("other", 1.0);
        if let Some(value) = value {
            point.field("t", *value);
        }
    }
    testing::batch(builder.finish())
}

fn averages(out: Output) -> Vec<Option<f64>> {
    out.into_points()
        .iter()
        .map(|p| p.number("t_ewma"))
        .collect()
}

#[test]
fn adjusted_and_recursive_averages_follow_their_definitions() {
    let s = Series::new("s");
    let values = [Some(1.0), Some(2.0), Some(4.0)];
    // alpha 0.5, adjusted: weights 1, 0.5, 0.25 on the newest first.
    let got = averages(testing::run(
        &mut ewma(r#"{ "fields": ["t"], "alpha": 0.5 }"#),
        &batch(&values, &s),
    ));
    let want = [1.0, (2.0 + 0.5) / 1.5, (4.0 + 1.0 + 0.25) / 1.75];
    for (g, w) in got.iter().zip(want) {
        assert!((g.unwrap() - w).abs() < 1e-12, "{got:?}");
    }
    let got = averages(testing::run(
        &mut ewma(r#"{ "fields": ["t"], "alpha": 0.5, "adjust": false }"#),
        &batch(&values, &s),
    ));
    assert_eq!(got, [Some(1.0), Some(1.5), Some(2.75)]);
}

#[test]
fn a_gap_carries_the_average_and_ages_it_unless_ignored() {
    let s = Series::new("s");
    let values = [None, Some(1.0), None, Some(3.0)];
    let aged = averages(testing::run(
        &mut ewma(r#"{ "fields": ["t"], "alpha": 0.5 }"#),
        &batch(&values, &s),
    ));
    // The 1.0 is two rows old when 3.0 comes: weight 0.25.
    assert_eq!(aged[..3], [None, Some(1.0), Some(1.0)]);
    assert!((aged[3].unwrap() - (3.0 + 0.25) / 1.25).abs() < 1e-12);
    let ignored = averages(testing::run(
        &mut ewma(r#"{ "fields": ["t"], "alpha": 0.5, "ignore_na": true, "min_periods": 2 }"#),
        &batch(&values, &s),
    ));
    assert_eq!(ignored[..3], [None, None, None], "min_periods 2");
    assert!((ignored[3].unwrap() - (3.0 + 0.5) / 1.5).abs() < 1e-12);
}

#[test]
fn an_out_of_order_point_is_rejected_and_counted() {
    let s = Series::new("s");
    let mut e = ewma(r#"{ "fields": ["t"], "span": 3 }"#);
    testing::run(&mut e, &batch(&[Some(1.0), Some(2.0)], &s));
    let out = testing::run(&mut e, &testing::points(&[(0, &s, "t", 9.0)]));
    assert_eq!(out.errors().len(), 1);
    assert_eq!(testing::counters().get("out_of_order"), Some(&1));
}

#[test]
fn a_restart_at_any_point_changes_nothing() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut builder = PointsBuilder::new();
    for i in 0..80_i64 {
        let series = if i % 3 == 0 { &b } else { &a };
        let ts = if i == 40 { 3 } else { i };
        let point = builder.point(ts, series);
        if i % 7 != 0 {
            point.field("t", (i as f64).sin() * 10.0);
        }
    }
    testing::assert_resumes_exactly::<Ewma>(
        r#"{ "fields": ["t"], "halflife": 4 }"#,
        &builder.finish(),
    );
}

#[test]
fn config_errors_are_all_reported() {
    let error =
        testing::config_error::<Ewma>(r#"{ "fields": ["t", "t"], "alpha": 0.5, "span": 3 }"#);
    assert!(error.contains("fields[1]: t is listed twice"), "{error}");
    assert!(
        error.contains("exactly one of alpha, span, com and halflife (got alpha, span)"),
        "{error}"
    );
    let error = testing::config_error::<Ewma>(r#"{ "fields": [], "alpha": 1.5 }"#);
    assert!(
        error.contains("`fields` is empty") && error.contains("alpha 1.5 must be in (0, 1]"),
        "{error}"
    );
}
