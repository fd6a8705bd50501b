use foghorn_plugin::testing;

use super::*;

fn forest(config: &str) -> IsolationForest {
    testing::plugin(config)
}

/// A cloud around (0, 0) with a few points far out, from a fixed sequence.
fn points(n: usize, outliers: &[usize], series: &[Series]) -> foghorn_plugin::Points {
    let mut rng = Rng::new(42);
    let mut builder = PointsBuilder::new();
    for i in 0..n {
        let (mut a, mut b) = (rng.unit() - 0.5, rng.unit() - 0.5);
        if outliers.contains(&i) {
            (a, b) = (a + 8.0, b - 8.0);
        }
        let ts = i64::try_from(i).unwrap();
        builder
            .point(ts, &series[i % series.len()])
            .field("a", a)
            .field("b", b);
    }
    builder.finish()
}

#[test]
fn outliers_score_high_and_fire_once_each_then_resolve() {
    let s = [Series::new("m")];
    let mut f = forest(r#"{ "fields": ["a", "b"], "training_points": 300, "seed": 3 }"#);
    let out = testing::run(&mut f, &testing::batch(points(600, &[400, 500], &s)));
    let alerts: Vec<(i64, AlertState)> = out
        .alerts()
        .iter()
        .map(|a| (a.timestamp, a.state))
        .collect();
    let scores: Vec<Option<f64>> = out
        .into_points()
        .iter()
        .map(|p| p.number("anomaly_score"))
        .collect();
    assert!(
        scores[..300].iter().all(Option::is_none),
        "the training points, the last included, are not scored"
    );
    assert!(scores[300..].iter().all(Option::is_some));
    let ordinary = scores[300..]
        .iter()
        .enumerate()
        .filter(|(i, _)| ![400, 500].contains(&(i + 300)))
        .filter_map(|(_, s)| *s)
        .fold(0.0, f64::max);
    for outlier in [400, 500] {
        assert!(
            scores[outlier].unwrap() > ordinary,
            "{:?} vs {ordinary}",
            scores[outlier]
        );
    }
    let firing: Vec<i64> = alerts
        .iter()
        .filter(|(_, s)| *s == AlertState::Firing)
        .map(|(t, _)| *t)
        .collect();
    assert!(firing.contains(&400) && firing.contains(&500), "{alerts:?}");
    // About 1 % of ordinary points are above the threshold too, no more.
    assert!(firing.len() < 12, "{alerts:?}");
    assert!(
        alerts
            .iter()
            .any(|(t, s)| *t == 401 && *s == AlertState::Resolved)
    );
}

#[test]
fn the_threshold_leaves_the_contamination_above_it() {
    let s = [Series::new("m")];
    let mut f =
        forest(r#"{ "fields": ["a", "b"], "training_points": 1000, "contamination": 0.05 }"#);
    testing::run(&mut f, &testing::batch(points(1000, &[], &s)));
    let rows: Vec<Vec<f64>> = points(1000, &[], &s)
        .iter()
        .map(|p| vec![p.number("a").unwrap(), p.number("b").unwrap()])
        .collect();
    let above = rows
        .iter()
        .filter(|r| f.shared.forest.score(r) > f.shared.threshold)
        .count();
    assert!(
        (45..=55).contains(&above),
        "{above} of 1000 above the 0.95 quantile"
    );
}

#[test]
fn incomplete_points_pass_unscored_and_are_counted() {
    let s = Series::new("m");
    let mut f = forest(
        r#"{ "fields": ["a", "b"], "training_csv": "a,b,c\n0,0,9\n1,1,9\n0,1,9\n1,0,9\n" }"#,
    );
    let mut builder = PointsBuilder::new();
    builder.point(1, &s).field("a", 0.5);
    builder.point(2, &s).field("a", 0.5).field("b", "text");
    builder.point(3, &s).field("a", 0.5).field("b", 0.5);
    let out = testing::run(&mut f, &testing::batch(builder.finish()));
    let scores: Vec<Option<f64>> = out
        .into_points()
        .iter()
        .map(|p| p.number("anomaly_score"))
        .collect();
    assert_eq!(scores[..2], [None, None]);
    assert!(scores[2].is_some(), "trained from the CSV at start");
    assert_eq!(testing::counters().get("incomplete_points"), Some(&2));
}

#[test]
fn a_restart_at_any_point_changes_nothing() {
    let s = [Series::new("a"), Series::new("b")];
    let points = points(90, &[70], &s);
    for config in [
        r#"{ "fields": ["a", "b"], "trees": 10, "sample_size": 16, "training_points": 20, "retrain_every": 15 }"#,
        r#"{ "fields": ["a", "b"], "trees": 10, "sample_size": 16, "training_points": 12, "model": "per_series" }"#,
    ] {
        testing::assert_resumes_exactly::<IsolationForest>(config, &points);
    }
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<IsolationForest>(
        r#"{ "fields": [], "trees": 0, "sample_size": 1, "contamination": 0.9, "training_points": 1 }"#,
    );
    for part in [
        "`fields` is empty",
        "trees 0 must be from 1",
        "sample_size 1 must be from 2",
        "contamination 0.9 must be",
        "training_points 1 must be",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    let error = testing::config_error::<IsolationForest>(
        r#"{ "fields": ["a"], "training_csv": "b\n1\n2\n" }"#,
    );
    assert!(error.contains("training_csv has no column a"), "{error}");
}

#[test]
fn every_field_passes_through_and_scored_points_gain_the_score() {
    let host = Series::new("m").with_tag("host", "a");
    let other = Series::new("m").with_tag("host", "b");
    let mut f =
        forest(r#"{ "fields": ["a", "b"], "training_csv": "a,b\n0,0\n1,1\n0,1\n1,0\n0.5,0.5\n" }"#);
    // 40 points (a block), with fields of every type around the features.
    let mut builder = PointsBuilder::new();
    for i in 0..40_i64 {
        let series = if i % 3 == 0 { &other } else { &host };
        let point = builder
            .point(i, series)
            .field("note", format!("n{i}").as_str())
            .field("a", 0.1 * i as f64)
            .field("count", i)
            .field("ok", i % 2 == 0);
        match i % 10 {
            7 => {}
            8 => {
                point.field("b", "text");
            }
            9 => {
                point.field("b", f64::NAN);
            }
            _ => {
                point.field("b", 0.5);
            }
        }
    }
    let input = builder.finish();
    let out = testing::run(&mut f, &testing::batch(input.clone()));
    let output = out.into_points();
    assert_eq!(output.len(), 40);
    for (i, (before, after)) in input.iter().zip(output.iter()).enumerate() {
        assert_eq!(after.timestamp(), before.timestamp());
        assert_eq!(after.series(), before.series());
        let fields = |p: foghorn_plugin::PointRef<'_>| -> Vec<String> {
            p.fields()
                .filter(|(name, _)| *name != "anomaly_score")
                .map(|(name, value)| format!("{name}={value:?}"))
                .collect()
        };
        assert_eq!(fields(after), fields(before), "point {i}");
        let score = after.number("anomaly_score");
        if i % 10 >= 7 {
            assert_eq!(score, None, "point {i} lacks a finite b");
        } else {
            assert!(
                score.is_some_and(|s| s > 0.0 && s <= 1.0),
                "point {i}: {score:?}"
            );
        }
    }
    assert_eq!(testing::counters().get("incomplete_points"), Some(&12));
}

#[test]
fn a_block_scores_each_point_as_a_batch_of_one_does() {
    let s = [Series::new("a"), Series::new("b")];
    let config = r#"{ "fields": ["a", "b"], "training_points": 200, "trees": 30 }"#;
    let points = points(700, &[300, 450, 451], &s);
    // One batch of 700 (training, then blocks of 256) against 700 of one.
    let mut whole = forest(config);
    let together: Vec<Option<f64>> = testing::run(&mut whole, &testing::batch(points.clone()))
        .into_points()
        .iter()
        .map(|p| p.number("anomaly_score"))
        .collect();
    let mut single = forest(config);
    let alone: Vec<Option<f64>> = points
        .iter()
        .map(|p| {
            let mut one = PointsBuilder::new();
            one.push(p);
            let out = testing::run(&mut single, &testing::batch(one.finish()));
            out.into_points()
                .get(0)
                .and_then(|p| p.number("anomaly_score"))
        })
        .collect();
    assert_eq!(together.iter().filter(|s| s.is_some()).count(), 500);
    assert_eq!(together, alone);
}
