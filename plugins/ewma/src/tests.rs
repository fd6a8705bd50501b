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

/// Values at the given timestamps, in seconds.
fn timed(values: &[(i64, Option<f64>)]) -> Batch {
    let s = Series::new("s");
    let mut builder = PointsBuilder::new();
    for (seconds, value) in values {
        let point = builder.point(seconds * 1_000_000_000, &s);
        if let Some(value) = value {
            point.field("t", *value);
        }
    }
    testing::batch(builder.finish())
}

fn assert_close(got: &[Option<f64>], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g.unwrap() - w).abs() < 1e-12, "{got:?} vs {want:?}");
    }
}

#[test]
fn a_halflife_in_time_halves_a_weight_per_halflife_of_timestamps() {
    let values = [
        (0, Some(1.0)),
        (1, None),
        (3, Some(3.0)),
        (4, Some(5.0)),
        (4, Some(6.0)),
    ];
    let got = averages(testing::run(
        &mut ewma(r#"{ "fields": ["t"], "halflife": "1s" }"#),
        &timed(&values),
    ));
    // At 3 s the 1 is 3 half-lives old: weight 1/8; at 4 s, 1/16 and 1/2;
    // at 4 s again no time passes: the 5 keeps weight 1.
    let at4 = (1.0 / 16.0 + 1.5 + 5.0) / (1.0 / 16.0 + 0.5 + 1.0);
    assert_close(
        &got,
        &[
            1.0,
            1.0,
            (0.125 + 3.0) / 1.125,
            at4,
            (1.0 / 16.0 + 1.5 + 5.0 + 6.0) / (1.0 / 16.0 + 0.5 + 2.0),
        ],
    );
    // ignore_na: the gap's point is skipped, so pandas decays the 1 only by
    // the 2 s since the point before the 3 (weight 1/4).
    let got = averages(testing::run(
        &mut ewma(r#"{ "fields": ["t"], "halflife": "1s", "ignore_na": true }"#),
        &timed(&values[..3]),
    ));
    assert_close(&got, &[1.0, 1.0, (0.25 + 3.0) / 1.25]);
}

#[test]
fn unadjusted_with_com_1_gives_a_value_after_a_gap_the_weight_the_past_lost() {
    // pandas: [1, NaN, 3, 5].ewm(alpha=0.5, adjust=False) is 1, 1, 2.5,
    // 3.75: after the gap the past weighs 0.25 and the 3 weighs 0.75.
    let values = [Some(1.0), None, Some(3.0), Some(5.0)];
    let got = averages(testing::run(
        &mut ewma(r#"{ "fields": ["t"], "alpha": 0.5, "adjust": false }"#),
        &batch(&values, &Series::new("s")),
    ));
    assert_close(&got, &[1.0, 1.0, 2.5, 3.75]);
    // Any other alpha: the past 0.6², the new value 0.4, then normalised.
    let got = averages(testing::run(
        &mut ewma(r#"{ "fields": ["t"], "alpha": 0.4, "adjust": false }"#),
        &batch(&values, &Series::new("s")),
    ));
    let third = (0.36 + 0.4 * 3.0) / 0.76;
    assert_close(&got, &[1.0, 1.0, third, 0.6 * third + 0.4 * 5.0]);
}

#[test]
fn only_finite_numbers_count_and_huge_ones_do_not_overflow() {
    let s = Series::new("s");
    let mut builder = PointsBuilder::new();
    builder.point(0, &s).field("t", 2_i64);
    builder.point(1, &s).field("t", "7");
    builder.point(2, &s).field("t", true);
    builder.point(3, &s).field("t", f64::NAN);
    builder.point(4, &s).field("t", f64::NEG_INFINITY);
    let config = r#"{ "fields": ["t"], "alpha": 0.5, "ignore_na": true }"#;
    let got = averages(testing::run(
        &mut ewma(config),
        &testing::batch(builder.finish()),
    ));
    assert_eq!(got, [Some(2.0); 5], "none of them moves the average");

    let values = [Some(f64::MAX), Some(f64::MAX * 0.9), Some(-f64::MAX)];
    let got = averages(testing::run(
        &mut ewma(r#"{ "fields": ["t"], "alpha": 0.5 }"#),
        &batch(&values, &s),
    ));
    let second = got[1].unwrap();
    assert!(
        second.is_finite() && second > f64::MAX * 0.9 && second < f64::MAX,
        "{got:?}"
    );
    assert!(got[2].unwrap().is_finite(), "{got:?}");
}

#[test]
fn a_snapshot_under_another_decay_starts_afresh() {
    let s = Series::new("s");
    let mut first = ewma(r#"{ "fields": ["t"], "alpha": 0.5 }"#);
    testing::run(&mut first, &batch(&[Some(10.0)], &s));
    let resumed = |config: &str| {
        let mut second = ewma(config);
        second.restore(&first.snapshot()).unwrap();
        averages(testing::run(&mut second, &timed(&[(5, Some(20.0))])))
    };
    assert_close(
        &resumed(r#"{ "fields": ["t"], "alpha": 0.5 }"#),
        &[(5.0 + 20.0) / 1.5],
    );
    assert_eq!(
        resumed(r#"{ "fields": ["t"], "alpha": 0.5, "adjust": false }"#),
        [Some(20.0)]
    );
    assert_eq!(
        resumed(r#"{ "fields": ["t"], "halflife": "1s" }"#),
        [Some(20.0)]
    );
}

#[test]
fn a_restart_at_any_point_changes_nothing() {
    let series = [
        Series::new("a"),
        Series::new("b").with_tag("host", "x"),
        Series::new("c"),
    ];
    let mut builder = PointsBuilder::new();
    for i in 0..90_i32 {
        // Every 11th point goes back in time: out of order in its series;
        // every 13th repeats the timestamp before it.
        let seconds = match i {
            _ if i % 11 == 10 => i - 8,
            _ if i % 13 == 12 => i - 1,
            _ => i,
        };
        let point = builder.point(
            i64::from(seconds) * 1_000_000_000,
            &series[(i % 3) as usize],
        );
        if i % 7 != 0 {
            point.field("t", f64::from(i).sin() * 10.0);
        }
    }
    let points = builder.finish();
    let out = testing::run(
        &mut ewma(r#"{ "fields": ["t"], "span": 4 }"#),
        &testing::batch(points.clone()),
    );
    assert!(
        out.errors().len() >= 5,
        "the points exercise out-of-order rejects"
    );
    for config in [
        r#"{ "fields": ["t"], "halflife": 4 }"#,
        r#"{ "fields": ["t"], "alpha": 0.5, "adjust": false, "min_periods": 3 }"#,
        r#"{ "fields": ["t"], "halflife": "3s", "ignore_na": true }"#,
    ] {
        testing::assert_resumes_exactly::<Ewma>(config, &points);
    }
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
    for (config, message) in [
        (r#"{ "fields": ["t"] }"#, "(got none)"),
        (
            r#"{ "fields": ["t"], "halflife": "soon" }"#,
            "halflife: invalid duration `soon`",
        ),
        (
            r#"{ "fields": ["t"], "halflife": "0s" }"#,
            "halflife must be above 0",
        ),
        (
            r#"{ "fields": ["t"], "halflife": -2 }"#,
            "halflife -2 must be above 0",
        ),
        (
            r#"{ "fields": ["t"], "span": 0.5 }"#,
            "span 0.5 must be from 1",
        ),
        (r#"{ "fields": ["t"], "com": -1 }"#, "com -1 must be from 0"),
    ] {
        let error = testing::config_error::<Ewma>(config);
        assert!(
            error.starts_with("ewma: ") && error.contains(message),
            "{config}: {error}"
        );
    }
}
