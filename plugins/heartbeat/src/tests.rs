use foghorn_plugin::testing;

use super::*;

const SECOND: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;

fn detector(config: &str) -> Heartbeat {
    testing::plugin(config)
}

fn config_error(config: &str) -> String {
    testing::config_error::<Heartbeat>(config)
}

fn bench() -> Series {
    Series::new("bench_device").with_tag("device", "bench-1")
}

/// (state, severity, timestamp, series, description) of each alert.
type Summary = (AlertState, Severity, i64, String, String);

fn summarize(out: &Output) -> Vec<Summary> {
    assert_eq!(out.point_count(), 0, "a detector emits no points");
    out.alerts()
        .iter()
        .map(|a| {
            assert_eq!(a.kind, "heartbeat_lost");
            (
                a.state,
                a.severity,
                a.timestamp,
                a.series.to_string(),
                a.description.clone(),
            )
        })
        .collect()
}

fn points(detector: &mut Heartbeat, points: &[(i64, &Series)]) -> Vec<Summary> {
    let mut builder = PointsBuilder::new();
    for &(ts, series) in points {
        builder.point(ts, series).field("x", 1.0);
    }
    let out = testing::run(detector, &testing::batch(builder.finish()));
    summarize(&out)
}

fn tick(detector: &mut Heartbeat, now: i64) -> Vec<Summary> {
    let mut out = Output::default();
    detector.tick(now, &mut out);
    summarize(&out)
}

#[test]
fn durations_in_seconds_take_a_precision() {
    // The bench device's own logger reports a gap so, when data resumes.
    let dev = bench();
    let mut d = detector(
        r#"{ "timeout": "4s", "description": "silent for over {timeout_seconds:.1} seconds",
             "resolved_description": "No data received for {silence_seconds:.1} seconds. Device may be offline." }"#,
    );
    points(&mut d, &[(10 * SECOND, &dev)]);
    assert_eq!(
        tick(&mut d, 15 * SECOND)[0].4,
        "silent for over 4.0 seconds"
    );
    assert_eq!(
        points(&mut d, &[(16 * SECOND + 40 * MS, &dev)])[0].4,
        "No data received for 6.0 seconds. Device may be offline."
    );
}

#[test]
fn reported_on_resume_a_gap_is_one_event_with_its_length() {
    let dev = bench();
    let other = Series::new("other");
    let mut d = detector(
        r#"{ "timeout": "4s", "report": "resume", "severity": "warning",
             "description": "No data received for {silence_seconds:.1} seconds. Device may be offline." }"#,
    );
    assert!(
        points(&mut d, &[(10 * SECOND, &dev), (14 * SECOND, &dev)]).is_empty(),
        "4 s is no gap"
    );
    assert!(
        tick(&mut d, 60 * SECOND).is_empty(),
        "nothing fires during the silence"
    );
    // Gaps inside one batch count too, per series; out-of-order points make none.
    let got = points(
        &mut d,
        &[
            (20 * SECOND, &dev),
            (21 * SECOND, &other),
            (19 * SECOND, &dev),
            (27 * SECOND + 500 * MS, &dev),
            (22 * SECOND, &other),
        ],
    );
    assert_eq!(
        got,
        vec![
            (
                AlertState::Firing,
                Severity::Warning,
                20 * SECOND,
                "bench_device{device=bench-1}".to_owned(),
                "No data received for 6.0 seconds. Device may be offline.".to_owned()
            ),
            (
                AlertState::Firing,
                Severity::Warning,
                27 * SECOND + 500 * MS,
                "bench_device{device=bench-1}".to_owned(),
                "No data received for 7.5 seconds. Device may be offline.".to_owned()
            ),
        ]
    );
}

#[test]
fn a_silent_series_fires_once_and_resolves_when_data_resumes() {
    let dev = bench();
    let mut d = detector(r#"{ "timeout": "4s" }"#);
    assert!(points(&mut d, &[(10 * SECOND, &dev), (11 * SECOND, &dev)]).is_empty());
    assert!(
        tick(&mut d, 15 * SECOND).is_empty(),
        "exactly the timeout is not yet lost"
    );
    assert_eq!(
        tick(&mut d, 15 * SECOND + 200 * MS),
        vec![(
            AlertState::Firing,
            Severity::Critical,
            15 * SECOND + 200 * MS,
            "bench_device{device=bench-1}".to_owned(),
            "no data from bench_device{device=bench-1} for 4s".to_owned()
        )]
    );
    assert!(
        tick(&mut d, 16 * SECOND).is_empty(),
        "lost already: nothing repeats"
    );
    assert_eq!(
        points(
            &mut d,
            &[
                (17 * SECOND + 240 * MS, &dev),
                (17 * SECOND + 400 * MS, &dev)
            ]
        ),
        vec![(
            AlertState::Resolved,
            Severity::Info,
            17 * SECOND + 240 * MS,
            "bench_device{device=bench-1}".to_owned(),
            "data from bench_device{device=bench-1} resumed after 6.2s".to_owned()
        )]
    );
    assert!(
        tick(&mut d, 21 * SECOND).is_empty(),
        "the newest point counts: 17.4 s"
    );
    assert_eq!(
        tick(&mut d, 21 * SECOND + 500 * MS).len(),
        1,
        "and it can be lost again"
    );
}

#[test]
fn series_are_tracked_separately_and_only_once_seen() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut d = detector(
        r#"{ "timeout": "1s", "severity": "warning", "description": "{series} quiet {silence} (> {timeout})" }"#,
    );
    assert!(
        tick(&mut d, 100 * SECOND).is_empty(),
        "nothing seen, nothing lost"
    );
    let _ = points(&mut d, &[(0, &a), (SECOND, &b)]);
    let fired = tick(&mut d, SECOND + 800 * MS);
    assert_eq!(
        fired,
        vec![(
            AlertState::Firing,
            Severity::Warning,
            SECOND + 800 * MS,
            "a".to_owned(),
            "a quiet 1.8s (> 1s)".to_owned()
        )]
    );
    assert_eq!(tick(&mut d, 3 * SECOND)[0].3, "b");
}

#[test]
fn snapshot_and_restore_keep_what_was_seen_and_what_is_lost() {
    let (lost, alive) = (Series::new("lost"), Series::new("alive"));
    let mut before = detector(r#"{ "timeout": "4s" }"#);
    let _ = points(&mut before, &[(0, &lost), (5 * SECOND, &alive)]);
    assert_eq!(tick(&mut before, 5 * SECOND).len(), 1);
    let saved = before.snapshot();

    let mut after = detector(r#"{ "timeout": "4s" }"#);
    after.restore(&saved).unwrap();
    assert_eq!(after.snapshot(), saved);
    let fired = tick(&mut after, 10 * SECOND);
    assert_eq!(fired.len(), 1, "only `alive` is newly lost: {fired:?}");
    assert_eq!(fired[0].3, "alive");
    let resolved = points(&mut after, &[(11 * SECOND, &lost)]);
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].4, "data from lost resumed after 11s");

    assert!(
        after
            .restore(b"[{")
            .unwrap_err()
            .contains("unreadable snapshot")
    );
}

#[test]
fn config_errors_are_clear() {
    assert!(config_error("{}").contains("missing field `timeout`"));
    assert!(config_error(r#"{ "timeout": "4 parsecs" }"#).contains("invalid duration `4 parsecs`"));
    // One grammar with the agent's YAML: a unit is required.
    assert!(config_error(r#"{ "timeout": 1000 }"#).contains("a duration with its unit"));
    assert_eq!(
        config_error(r#"{ "timeout": "0s" }"#),
        "heartbeat: `timeout` must be above 0"
    );
    let err = config_error(r#"{ "timeout": "4s", "description": "{series} {value}" }"#);
    assert!(
        err.starts_with("heartbeat: `description`: unknown placeholder {value}"),
        "{err}"
    );
    assert!(
        config_error(r#"{ "timeout": "4s", "interval": "1s" }"#)
            .contains("unknown field `interval`")
    );
}

/// One step of a run: points of a series, or a tick.
#[derive(Clone, Copy)]
enum Step {
    Point(i64, usize),
    Tick(i64),
}

#[test]
fn a_restart_at_any_step_changes_no_alert() {
    let all = [
        bench(),
        Series::new("other"),
        Series::new("third").with_tag("k", "v"),
    ];
    // Three series sending with pauses of their own, ticked every 500 ms.
    let mut steps = Vec::new();
    for i in 0..120_i64 {
        let now = i * 500 * MS;
        for (s, period) in [(0, 2), (1, 3), (2, 5)] {
            let paused = (i / 20) % 3 == s as i64;
            if i % period == 0 && !paused {
                steps.push(Step::Point(now, s));
            }
        }
        steps.push(Step::Tick(now + 250 * MS));
    }
    let run = |d: &mut Heartbeat, steps: &[Step]| {
        let mut alerts = Vec::new();
        for step in steps {
            alerts.extend(match *step {
                Step::Point(ts, s) => points(d, &[(ts, &all[s])]),
                Step::Tick(now) => tick(d, now),
            });
        }
        alerts
    };
    let config = r#"{ "timeout": "2s" }"#;
    let whole = run(&mut detector(config), &steps);
    assert!(whole.len() >= 6, "pauses fire and resume: {whole:?}");
    for cut in 1..steps.len() {
        let mut first = detector(config);
        let mut got = run(&mut first, &steps[..cut]);
        let mut second = detector(config);
        second.restore(&first.snapshot()).unwrap();
        got.extend(run(&mut second, &steps[cut..]));
        assert_eq!(got, whole, "restart after step {cut}");
    }
}

#[test]
fn reported_on_resume_a_restart_changes_nothing() {
    let (a, b) = (bench(), Series::new("other"));
    let mut builder = PointsBuilder::new();
    for (i, gap) in [1, 1, 6, 1, 9, 2, 5, 1].iter().enumerate() {
        let ts = 10 * SECOND + [1, 1, 6, 1, 9, 2, 5, 1][..i].iter().sum::<i64>() * SECOND;
        builder
            .point(ts, if gap % 2 == 0 { &a } else { &b })
            .field("x", 1.0);
        builder.point(ts + 100 * MS, &a).field("x", 1.0);
    }
    testing::assert_resumes_exactly::<Heartbeat>(
        r#"{ "timeout": "4s", "report": "resume" }"#,
        &builder.finish(),
    );
}
