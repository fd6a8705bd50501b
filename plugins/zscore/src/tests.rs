use foghorn_plugin::AlertState;

use foghorn_plugin::testing;

use super::*;

fn detector(config: &str) -> Zscore {
    testing::plugin(config)
}

fn config_error(config: &str) -> String {
    testing::config_error::<Zscore>(config)
}

/// Run one batch of `field` readings of `series`, one point each, at
/// timestamps 0, 1, ...; returns the output.
fn run(detector: &mut Zscore, series: &Series, field: &str, values: &[f64]) -> Output {
    let mut builder = PointsBuilder::new();
    for (ts, &value) in (0..).zip(values) {
        builder.point(ts, series).field(field, value);
    }
    testing::run(detector, &testing::batch(builder.finish()))
}

/// (timestamp, value, score, description) of each alert.
fn alerts(out: &Output) -> Vec<(i64, f64, f64, String)> {
    out.alerts()
        .iter()
        .map(|a| {
            assert_eq!((a.state, a.kind.as_str()), (AlertState::Firing, "zscore"));
            (
                a.timestamp,
                a.value.unwrap(),
                a.score.unwrap(),
                a.description.clone(),
            )
        })
        .collect()
}

/// 10, 12, 10, 12, ...: mean 11, std 1.
fn alternating(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| if i % 2 == 0 { 10.0 } else { 12.0 })
        .collect()
}

#[test]
fn an_outlier_is_scored_against_the_window_before_it_joins() {
    let dev = Series::new("dev");
    let mut d = detector(r#"{ "fields": ["t"], "window": 10, "min_samples": 10 }"#);
    let mut values = alternating(10);
    values.extend([20.0, 13.0]);
    let out = run(&mut d, &dev, "t", &values);
    assert_eq!(
        alerts(&out),
        vec![(10, 20.0, 9.0, "t 20 is 9 sigma from mean 11".to_owned())]
    );
}

#[test]
fn nothing_is_scored_before_min_samples() {
    let dev = Series::new("dev");
    let mut d = detector(r#"{ "window": 10, "min_samples": 5 }"#);
    // 100 would be 44 sigma from the 4 values before it, but 4 are too few.
    let out = run(&mut d, &dev, "t", &[10.0, 12.0, 10.0, 12.0, 100.0]);
    assert!(out.alerts().is_empty(), "{:?}", out.alerts());
    let out = run(&mut d, &dev, "t", &[1000.0]);
    assert_eq!(out.alerts().len(), 1, "5 values now: scored");
}

#[test]
fn a_flat_window_scores_equal_values_zero_and_others_infinite() {
    let dev = Series::new("dev");
    let mut d = detector(r#"{ "window": 5, "min_samples": 5, "emit_scores": true }"#);
    let out = run(&mut d, &dev, "t", &[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2]);
    let got = alerts(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].1, got[0].2), (0.2, f64::INFINITY));
    assert_eq!(got[0].3, "t 0.2 is inf sigma from mean 0.1");
    let scores: Vec<_> = out
        .into_points()
        .iter()
        .filter_map(|p| p.number("t_zscore"))
        .collect();
    assert_eq!(scores, [0.0, f64::INFINITY]);
}

#[test]
fn every_numeric_field_is_scored_when_none_are_listed() {
    let dev = Series::new("dev");
    let mut d = detector(r#"{ "window": 4, "min_samples": 4, "threshold": 2.0 }"#);
    let mut builder = PointsBuilder::new();
    for i in 0..4_i32 {
        let even = i % 2 == 0;
        builder
            .point(i64::from(i), &dev)
            .field("f", if even { 1.0 } else { 3.0 })
            .field("n", if even { 10_i64 } else { 20 })
            .field("ok", even)
            .field("s", "text");
    }
    builder
        .point(4, &dev)
        .field("f", 9.0)
        .field("n", 100_i64)
        .field("ok", true);
    let out = testing::run(&mut d, &testing::batch(builder.finish()));
    let fields: Vec<_> = out
        .alerts()
        .iter()
        .map(|a| (a.description.clone(), a.value))
        .collect();
    assert_eq!(
        fields,
        [
            ("f 9 is 7 sigma from mean 2".to_owned(), Some(9.0)),
            ("n 100 is 17 sigma from mean 15".to_owned(), Some(100.0)),
        ]
    );
}

#[test]
fn series_have_their_own_windows() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut d = detector(
        r#"{ "window": 4, "min_samples": 4, "description": "{series}: {score} ({mean} ± {std})" }"#,
    );
    let _ = run(&mut d, &a, "t", &alternating(4));
    let out = run(&mut d, &b, "t", &[100.0, 101.0, 100.0, 101.0, 20.0]);
    assert_eq!(alerts(&out)[0].3, "b: -161 (100.5 ± 0.5)");
    assert!(run(&mut d, &a, "t", &[11.5]).alerts().is_empty());
}

#[test]
fn emit_scores_yields_one_point_per_input_point() {
    let dev = Series::new("dev").with_tag("id", "1");
    let mut d =
        detector(r#"{ "fields": ["t"], "window": 4, "min_samples": 4, "emit_scores": true }"#);
    let mut values = alternating(4);
    values.extend([14.0, 12.0]);
    let points = run(&mut d, &dev, "t", &values).into_points();
    assert_eq!(points.len(), 6);
    assert!(points.iter().all(|p| p.series() == &dev));
    let scores: Vec<_> = points
        .iter()
        .map(|p| (p.timestamp(), p.number("t_zscore")))
        .collect();
    assert_eq!(
        scores,
        [
            (0, None),
            (1, None),
            (2, None),
            (3, None),
            (4, Some(3.0)),
            (5, Some(0.0))
        ]
    );

    let mut quiet = detector(r#"{ "fields": ["t"], "window": 4, "min_samples": 4 }"#);
    assert_eq!(
        run(&mut quiet, &dev, "t", &values).point_count(),
        0,
        "alerts only by default"
    );
}

#[test]
fn a_restored_window_scores_at_once() {
    let dev = Series::new("bench_device").with_tag("device", "bench-1");
    let config =
        r#"{ "fields": ["temperature"], "window": 50, "min_samples": 40, "threshold": 4.0 }"#;
    let warmup: Vec<f64> = (0..45).map(|i| 20.0 + f64::from(i % 5) * 0.1).collect();
    let mut before = detector(config);
    assert!(
        run(&mut before, &dev, "temperature", &warmup)
            .alerts()
            .is_empty()
    );
    let saved = before.snapshot();

    let mut after = detector(config);
    after.restore(&saved).unwrap();
    assert_eq!(after.snapshot(), saved, "restore keeps every window");
    let out = run(&mut after, &dev, "temperature", &[95.0]);
    assert_eq!(
        alerts(&out).len(),
        1,
        "the outlier fires without waiting for min_samples"
    );

    let mut fresh = detector(config);
    assert!(
        run(&mut fresh, &dev, "temperature", &[95.0])
            .alerts()
            .is_empty()
    );
}

#[test]
fn restore_follows_config_changes_and_rejects_garbage() {
    let dev = Series::new("dev");
    let mut before = detector(r#"{ "window": 10, "min_samples": 2 }"#);
    let _ = run(&mut before, &dev, "t", &alternating(10));
    let _ = run(&mut before, &dev, "v", &alternating(10));
    let mut after = detector(r#"{ "fields": ["t"], "window": 3, "min_samples": 2 }"#);
    after.restore(&before.snapshot()).unwrap();
    let saved: serde_json::Value = serde_json::from_slice(&after.snapshot()).unwrap();
    assert_eq!(
        saved["windows"].as_array().unwrap().len(),
        1,
        "only the listed field: {saved}"
    );
    assert_eq!(
        saved["windows"][0]["values"],
        serde_json::json!([12.0, 10.0, 12.0])
    );
    assert!(
        after
            .restore(b"{\"windows\": 3}")
            .unwrap_err()
            .contains("unreadable snapshot")
    );
}

#[test]
fn config_errors_are_clear_and_all_reported() {
    let err = config_error(r#"{ "window": 1, "threshold": 0, "fields": ["t", "t"] }"#);
    assert_eq!(
        err,
        "zscore: window 1 must be at least 2; zscore: min_samples 10 must be from 2 to window (1); \
         zscore: threshold 0 must be a number above 0; zscore: fields[1]: t is listed twice"
    );
    assert!(
        config_error(r#"{ "description": "{field} {zscore}" }"#)
            .contains("unknown placeholder {zscore}")
    );
    assert!(config_error(r#"{ "sigma": 3 }"#).contains("unknown field `sigma`"));
    assert!(
        Zscore::new(Config::default()).is_ok(),
        "the defaults are valid"
    );
}

/// A noisy series with a few spikes, reproducible.
fn noisy(n: usize) -> Vec<f64> {
    let mut state: u64 = 0x853c_49e6_748f_ea9b;
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let spike = if i % 97 == 50 { 8.0 } else { 0.0 };
            let dip = if i % 131 == 70 { -8.0 } else { 0.0 };
            100.0 + noise * 4.0 + spike + dip
        })
        .collect()
}

/// Mean and standard deviation of `values` (two passes), with `ddof`.
fn two_pass(values: &[f64], ddof: usize) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (squares / (n - ddof as f64)).sqrt())
}

#[test]
fn expanding_mode_scores_against_every_value_so_far_with_either_ddof() {
    let dev = Series::new("dev");
    let values = noisy(600);
    for ddof in [0, 1] {
        let config = format!(
            r#"{{ "fields": ["t"], "mode": "expanding", "ddof": {ddof}, "threshold": 2.0, "min_samples": 5, "emit_scores": true }}"#
        );
        let mut d = detector(&config);
        let out = run(&mut d, &dev, "t", &values);
        let alerted: Vec<i64> = out.alerts().iter().map(|a| a.timestamp).collect();
        let points = out.into_points();
        let mut expected_alerts = Vec::new();
        let mut scores = points.iter();
        for i in 5..values.len() {
            let (mean, std) = two_pass(&values[..i], ddof);
            let expected = (values[i] - mean) / std;
            // Points before min_samples carry no score field.
            let got = loop {
                let point = scores.next().expect("a point per input");
                if let Some(score) = point.number("t_zscore") {
                    break score;
                }
            };
            assert!(
                (got - expected).abs() < 1e-9,
                "value {i} (ddof {ddof}): {got} against {expected}"
            );
            if expected.abs() > 2.0 {
                expected_alerts.push(i as i64);
            }
        }
        assert_eq!(alerted, expected_alerts, "ddof {ddof}");
        assert!(expected_alerts.len() >= 8, "the spikes and dips fire");
    }
}

#[test]
fn rolling_ddof_1_is_the_sample_standard_deviation() {
    let dev = Series::new("dev");
    let values = noisy(300);
    let mut d = detector(
        r#"{ "fields": ["t"], "window": 20, "min_samples": 20, "ddof": 1, "emit_scores": true }"#,
    );
    let points = run(&mut d, &dev, "t", &values).into_points();
    let scores: Vec<f64> = points.iter().filter_map(|p| p.number("t_zscore")).collect();
    for (k, i) in (20..values.len()).enumerate() {
        let (mean, std) = two_pass(&values[i - 20..i], 1);
        assert!(
            (scores[k] - (values[i] - mean) / std).abs() < 1e-9,
            "value {i}"
        );
    }
}

#[test]
fn direction_picks_a_side_and_resolve_closes_each_run() {
    let dev = Series::new("dev");
    let mut values = alternating(20);
    // Two high, back, one low, back.
    values.extend([20.0, 21.0, 11.0, 2.0, 11.0]);
    let states = |config: &str| -> Vec<(i64, AlertState)> {
        let mut d = detector(config);
        run(&mut d, &dev, "t", &values)
            .alerts()
            .iter()
            .map(|a| (a.timestamp, a.state))
            .collect()
    };
    let base = r#""fields": ["t"], "window": 20, "min_samples": 20, "threshold": 3.0"#;
    use AlertState::{Firing, Resolved};
    assert_eq!(
        states(&format!("{{ {base} }}")),
        [(20, Firing), (21, Firing), (23, Firing)],
        "events: every outlier"
    );
    assert_eq!(
        states(&format!(r#"{{ {base}, "direction": "above" }}"#)),
        [(20, Firing), (21, Firing)]
    );
    assert_eq!(
        states(&format!(r#"{{ {base}, "direction": "below" }}"#)),
        [(23, Firing)]
    );
    assert_eq!(
        states(&format!(r#"{{ {base}, "resolve": true }}"#)),
        [(20, Firing), (22, Resolved), (23, Firing), (24, Resolved)],
        "one firing per run of outliers, resolved by the first value back"
    );
}

#[test]
fn a_restart_in_the_middle_changes_nothing_in_every_mode() {
    let dev = Series::new("dev");
    let values = noisy(400);
    for config in [
        r#"{ "fields": ["t"], "window": 30, "threshold": 2.0, "resolve": true, "emit_scores": true }"#,
        r#"{ "fields": ["t"], "mode": "expanding", "ddof": 1, "threshold": 2.0, "resolve": true, "emit_scores": true }"#,
    ] {
        let alerts_and_points = |out: Output| {
            let alerts: Vec<String> = out.alerts().iter().map(|a| format!("{a:?}")).collect();
            (alerts, format!("{:?}", out.into_points()))
        };
        let mut whole = detector(config);
        let uninterrupted = alerts_and_points(run(&mut whole, &dev, "t", &values));
        for cut in (1..values.len()).step_by(7) {
            let mut first = detector(config);
            let before = run(&mut first, &dev, "t", &values[..cut]);
            let mut second = detector(config);
            second.restore(&first.snapshot()).unwrap();
            // Timestamps continue where the first part stopped.
            let mut builder = PointsBuilder::new();
            for (ts, &value) in (cut as i64..).zip(&values[cut..]) {
                builder.point(ts, &dev).field("t", value);
            }
            let after = testing::run(&mut second, &testing::batch(builder.finish()));
            let (mut alerts, _) = alerts_and_points(before);
            alerts.extend(alerts_and_points(after).0);
            assert_eq!(alerts, uninterrupted.0, "{config}, restart after {cut}");
        }
    }
}
