use std::sync::Arc;

use super::*;
use crate::event::Series;
use crate::processors::alerts::RouteConfig;
use crate::silences::Silences;

fn settings(group_wait: Duration) -> AlertsConfig {
    AlertsConfig {
        route: RouteConfig {
            receivers: Some(vec!["hook".into()]),
            group_by: Some(vec!["device".into()]),
            group_wait: Some(group_wait),
            ..RouteConfig::default()
        },
        inhibit_rules: Vec::new(),
        max_active: 100,
        max_pending: 100,
        resend_after: Duration::from_secs(30),
    }
}

fn open(dir: &std::path::Path, settings: &AlertsConfig) -> Stage {
    open_with(dir, settings, Arc::default())
}

fn open_with(dir: &std::path::Path, settings: &AlertsConfig, silences: Arc<Silences>) -> Stage {
    let ctx = ProcessorContext {
        name: Arc::from("notify"),
        state: Arc::new(StateStore::open(dir).unwrap()),
        silences,
    };
    Stage::open(settings, &ctx).unwrap()
}

fn alert(device: &str, field: &str, severity: Severity, state: AlertState) -> Alert {
    let series = Series::new("bench").with_tag("device", device);
    let mut raised = foghorn_model::Alert::firing("threshold", severity, &series, 1, "hot")
        .with_label("field", field);
    if state == AlertState::Resolved {
        raised.state = state;
        raised.severity = Severity::Info;
    }
    Alert::new(raised, Arc::from("detect"), Arc::from("builtin:threshold"))
}

fn step(stage: &mut Stage, now: i64, alerts: &[Alert]) -> Produced {
    let mut out = Produced::default();
    stage.step(now, alerts, &mut out);
    out
}

#[test]
fn a_group_collects_its_alerts_during_group_wait_and_deduplicates() {
    let dir = tempfile::tempdir().unwrap();
    let mut stage = open(dir.path(), &settings(Duration::from_secs(10)));
    let second = 1_000_000_000;
    let hot = alert(
        "bench-1",
        "temperature",
        Severity::Critical,
        AlertState::Firing,
    );
    let low = alert("bench-1", "voltage", Severity::Warning, AlertState::Firing);
    let other = alert("bench-2", "voltage", Severity::Warning, AlertState::Firing);
    let out = step(&mut stage, 0, &[hot.clone(), low, other]);
    assert_eq!(
        out.alerts.len(),
        3,
        "each new alert once on the alerts output"
    );
    assert!(out.notifications.is_empty(), "group_wait has not passed");
    // The same alert firing again is a duplicate.
    let out = step(&mut stage, 5 * second, &[hot]);
    assert!(out.alerts.is_empty() && out.notifications.is_empty());
    let out = step(&mut stage, 10 * second, &[]);
    let mut groups: Vec<(String, usize)> = out
        .notifications
        .iter()
        .map(|(n, _)| (n.group_labels["device"].clone(), n.alerts.len()))
        .collect();
    groups.sort();
    assert_eq!(groups, [("bench-1".into(), 2), ("bench-2".into(), 1)]);
    assert!(out.notifications.iter().all(|(n, _)| n.receiver == "hook"));
}

#[test]
fn a_resolution_keeps_the_fired_severity_and_an_unknown_one_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut stage = open(dir.path(), &settings(Duration::ZERO));
    let firing = alert(
        "bench-1",
        "temperature",
        Severity::Critical,
        AlertState::Firing,
    );
    let resolved = alert(
        "bench-1",
        "temperature",
        Severity::Critical,
        AlertState::Resolved,
    );
    step(&mut stage, 0, &[firing]);
    let out = step(&mut stage, 1, std::slice::from_ref(&resolved));
    assert_eq!(out.alerts.len(), 1);
    assert!(
        out.notifications.is_empty(),
        "the group waits group_interval"
    );
    let five_minutes = 300 * 1_000_000_000;
    let later = step(&mut stage, five_minutes, &[]);
    assert_eq!(out.alerts[0].severity, Severity::Critical);
    assert_eq!(out.alerts[0].state, AlertState::Resolved);
    let note = &later.notifications[0].0;
    assert_eq!(note.status, AlertState::Resolved);
    assert_eq!(note.alerts[0].severity, Severity::Critical);
    // Resolving it again: nothing is firing, so nothing passes.
    let out = step(&mut stage, five_minutes + 1, &[resolved]);
    assert!(out.alerts.is_empty() && out.notifications.is_empty());
}

#[test]
fn pending_notifications_survive_a_crash_and_keep_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(Duration::ZERO);
    let firing = alert(
        "bench-1",
        "temperature",
        Severity::Critical,
        AlertState::Firing,
    );
    let key = {
        let mut stage = open(dir.path(), &settings);
        let out = step(&mut stage, 0, std::slice::from_ref(&firing));
        assert_eq!(out.notifications.len(), 1);
        let (note, delivery) = &out.notifications[0];
        // The sink never acknowledges: a crash.
        std::mem::forget(delivery.clone());
        note.idempotency_key.clone()
    };
    let mut stage = open(dir.path(), &settings);
    assert_eq!(stage.pending(), 1);
    let out = step(&mut stage, 1, &[]);
    assert_eq!(out.notifications.len(), 1, "sent again after the restart");
    assert_eq!(out.notifications[0].0.idempotency_key, key);
    assert_eq!(out.alerts.len(), 1, "the firing alert is announced again");
    // The same alert firing after the restart is still a duplicate.
    let again = step(&mut stage, 2, &[firing]);
    assert!(again.alerts.is_empty() && again.notifications.is_empty());
    // Acknowledged: it leaves the outbox, durably.
    drop(out);
    step(&mut stage, 3, &[]);
    assert_eq!(stage.pending(), 0);
    drop(stage);
    let mut stage = open(dir.path(), &settings);
    assert_eq!(stage.pending(), 0);
    let out = step(&mut stage, 4, &[]);
    assert!(
        out.notifications.is_empty(),
        "nothing is due: no repeat yet"
    );
}

#[test]
fn a_notification_its_sink_gave_up_on_is_sent_again_later() {
    let dir = tempfile::tempdir().unwrap();
    let mut stage = open(dir.path(), &settings(Duration::ZERO));
    let out = step(
        &mut stage,
        0,
        &[alert(
            "bench-1",
            "temperature",
            Severity::Critical,
            AlertState::Firing,
        )],
    );
    out.notifications[0].1.fail();
    drop(out);
    let second = 1_000_000_000;
    assert!(step(&mut stage, second, &[]).notifications.is_empty());
    let out = step(&mut stage, 31 * second, &[]);
    assert_eq!(out.notifications.len(), 1);
}

#[test]
fn active_alerts_and_pending_notifications_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut bounded = settings(Duration::ZERO);
    bounded.max_active = 3;
    bounded.max_pending = 2;
    let mut stage = open(dir.path(), &bounded);
    let alerts: Vec<Alert> = (0..5)
        .map(|i| {
            alert(
                &format!("bench-{i}"),
                "temperature",
                Severity::Critical,
                AlertState::Firing,
            )
        })
        .collect();
    let out = step(&mut stage, 0, &alerts);
    assert_eq!(out.alerts.len(), 3, "two past max_active are discarded");
    assert_eq!(
        stage.pending(),
        2,
        "the oldest pending notification made room"
    );
    std::mem::forget(out);
}

fn notified(out: &Produced) -> Vec<String> {
    let mut alerts: Vec<String> = out
        .notifications
        .iter()
        .flat_map(|(n, _)| &n.alerts)
        .map(|a| format!("{}/{}", a.labels["device"], a.labels["field"]))
        .collect();
    alerts.sort();
    alerts
}

#[test]
fn a_critical_alert_inhibits_the_warnings_of_its_series() {
    let dir = tempfile::tempdir().unwrap();
    let mut inhibiting = settings(Duration::ZERO);
    inhibiting.inhibit_rules = vec![crate::processors::alerts::InhibitRule {
        source_matchers: crate::matchers::Matchers(vec!["severity=critical".parse().unwrap()]),
        target_matchers: crate::matchers::Matchers(vec!["severity=warning".parse().unwrap()]),
        equal: vec!["device".into()],
    }];
    let mut stage = open(dir.path(), &inhibiting);
    let out = step(
        &mut stage,
        0,
        &[
            alert(
                "bench-1",
                "temperature",
                Severity::Critical,
                AlertState::Firing,
            ),
            alert("bench-1", "voltage", Severity::Warning, AlertState::Firing),
            alert("bench-2", "voltage", Severity::Warning, AlertState::Firing),
        ],
    );
    assert_eq!(notified(&out), ["bench-1/temperature", "bench-2/voltage"]);
    assert_eq!(
        out.alerts.len(),
        3,
        "muted alerts still reach the alerts output"
    );
}

#[test]
fn a_silence_mutes_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let silences = Arc::new(Silences::default());
    let hour = Duration::from_hours(1);
    let id = silences
        .add(&["device=bench-1".into()], 0, hour, "ops", "")
        .unwrap();
    let mut stage = open_with(dir.path(), &settings(Duration::ZERO), Arc::clone(&silences));
    let out = step(
        &mut stage,
        1,
        &[
            alert(
                "bench-1",
                "temperature",
                Severity::Critical,
                AlertState::Firing,
            ),
            alert(
                "bench-2",
                "temperature",
                Severity::Critical,
                AlertState::Firing,
            ),
        ],
    );
    assert_eq!(notified(&out), ["bench-2/temperature"]);
    assert!(
        out.notifications
            .iter()
            .all(|(n, _)| n.group_labels["device"] == "bench-2")
    );
    // Expired: the group of bench-1 notifies at its next look.
    silences.expire(&id, 2).unwrap();
    let five_minutes = 300 * 1_000_000_000;
    let out = step(&mut stage, five_minutes + 1, &[]);
    assert_eq!(notified(&out), ["bench-1/temperature"]);
}
