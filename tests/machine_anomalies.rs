//! The machine-anomalies example, end to end: the agent replays a clean
//! history through the feature chain (the scaler fits on it, the forest
//! trains on it), opens its HTTP source only then, takes a live day with
//! injected incidents POSTed as CSV, and alerts through the alert stage to a
//! real Slack-style receiver and a real SMTP server.

use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::example::Example;
use foghorn_tests::receiver::{Receiver, SmtpServer, free_port};
use foghorn_tests::wait;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

const EXAMPLE: Example = Example("machine-anomalies");

/// Write what the example's generator prints for `args` to `out`.
fn generate(args: &[&str], out: &Path) {
    std::fs::write(out, EXAMPLE.run("generate.py", args)).unwrap();
}

#[test]
fn machine_anomalies_train_on_the_history_and_alert_slack_and_email() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.csv");
    let live = dir.path().join("live.csv");
    let labels = dir.path().join("labels.json");
    generate(&["--kind", "history"], &history);
    generate(
        &["--kind", "live", "--labels", labels.to_str().unwrap()],
        &live,
    );
    // A second machine of the fleet, sending NDJSON.
    let fleet = dir.path().join("fleet.ndjson");
    let fleet_labels = dir.path().join("fleet-labels.json");
    generate(
        &[
            "--kind",
            "live",
            "--format",
            "ndjson",
            "--host",
            "machine-2",
            "--seed",
            "12",
            "--labels",
            fleet_labels.to_str().unwrap(),
        ],
        &fleet,
    );
    let slack = Receiver::start(dir.path(), 0, &[]);
    let smtp = SmtpServer::start(dir.path(), &[]);
    let listen = format!("127.0.0.1:{}", free_port());
    let listen_ndjson = format!("127.0.0.1:{}", free_port());
    let out = dir.path().join("out");
    let (slack_url, smtp_port) = (slack.url(), smtp.port.to_string());
    let mut agent = Agent::start(
        dir.path(),
        &EXAMPLE.path("pipeline.yaml"),
        &[
            ("HISTORY", history.to_str().unwrap()),
            ("OUT_DIR", out.to_str().unwrap()),
            ("LISTEN", &listen),
            ("LISTEN_NDJSON", &listen_ndjson),
            ("METRICS_LISTEN", "127.0.0.1:0"),
            ("SLACK_URL", &slack_url),
            ("SMTP_PORT", &smtp_port),
            ("REPORT_INTERVAL", "100ms"),
        ],
    );

    // The live source opens once the history has been replayed. Then the
    // live rows come as a machine sends them, a couple at a time (all at
    // once, an incident would fire and clear within one batch, before its
    // alert group could speak).
    let body = std::fs::read_to_string(&live).unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let (header, rows) = lines.split_first().unwrap();
    let client = reqwest::blocking::Client::new();
    let post = |chunk: &[&str]| {
        client
            .post(format!("http://{listen}/"))
            .header("Content-Type", "text/csv")
            .body(format!("{header}\n{}\n", chunk.join("\n")))
            .send()
    };
    wait::until("the live source to open", Duration::from_secs(60), || {
        post(&rows[..2]).ok()
    });
    for chunk in rows[2..].chunks(2) {
        let answer = post(chunk).unwrap();
        assert_eq!(answer.status(), 200, "{:?}", answer.text());
    }
    let fleet_text = std::fs::read_to_string(&fleet).unwrap();
    let fleet_rows: Vec<&str> = fleet_text.lines().collect();
    for chunk in fleet_rows.chunks(2) {
        let answer = client
            .post(format!("http://{listen_ndjson}/"))
            .header("Content-Type", "application/x-ndjson")
            .body(chunk.join("\n"))
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200, "{:?}", answer.text());
    }

    // Slack and email both hear of the incidents, of both machines.
    for host in ["machine-1", "machine-2"] {
        let group = format!("host={host} kind=machine_anomaly");
        wait::until(
            &format!("a Slack message for {host}"),
            Duration::from_secs(60),
            || {
                slack
                    .accepted()
                    .iter()
                    .any(|m| {
                        m["body"]["text"]
                            .as_str()
                            .is_some_and(|t| t.contains(&group))
                    })
                    .then_some(())
            },
        );
    }
    let mails = wait::until("a mail", Duration::from_secs(60), || {
        let mails = smtp.messages();
        (!mails.is_empty()).then_some(mails)
    });
    assert_eq!(mails[0]["to"], serde_json::json!(["ops@example.com"]));
    assert!(
        mails[0]["data"]
            .as_str()
            .unwrap()
            .contains("machine_anomaly"),
        "{}",
        mails[0]["data"]
    );
    assert!(agent.terminate().success(), "{}", agent.logs());

    // Every live point was scored, and only those: the forest trained on
    // exactly the history's complete points, and scores what came after.
    let scores = wait::read(&out.join("scores.ndjson"));
    let all_scored: Vec<Value> = scores
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|point| point["fields"]["anomaly_score"].is_number())
        .collect();
    let (scored, fleet_scored): (Vec<Value>, Vec<Value>) = all_scored
        .into_iter()
        .partition(|p| p["tags"]["host"] == "machine-1");
    assert_eq!(
        fleet_scored.len(),
        fleet_rows.len() - 1,
        "every NDJSON point of machine-2 but its first, which has no lag, difference or spread yet"
    );
    let live_rows = rows.len();
    let first_live = &rows[0][..19];
    let history_scored = scored
        .iter()
        .filter(|p| p["timestamp"].as_str().unwrap().replace('T', " ")[..19] < *first_live)
        .count();
    assert_eq!(
        (scored.len() - history_scored, history_scored),
        (live_rows, 0),
        "every live point is scored, and no point of the history: the forest trained on them"
    );
    assert!(
        scored
            .iter()
            .all(|p| p["fields"]["cpu_usage_percent_scaled"].is_number()),
        "the scaler, fitted on the history, scales every live point"
    );
    // The time is a feature, in epoch seconds, from the CSV and the NDJSON.
    for point in scored.iter().chain(&fleet_scored) {
        let time = point["timestamp"].as_str().unwrap();
        #[allow(clippy::cast_precision_loss, reason = "whole seconds of our time")]
        let seconds = time::OffsetDateTime::parse(time, &Rfc3339)
            .unwrap()
            .unix_timestamp() as f64;
        assert_eq!(
            point["fields"]["epoch_seconds"].as_f64(),
            Some(seconds),
            "epoch_seconds of {point}"
        );
    }

    // Each incident raised an alert while it lasted; false alarms stay
    // near the contamination the threshold was set for (1 %).
    let report: Vec<Value> =
        serde_json::from_str(&wait::read(&out.join("anomaly_report.json"))).unwrap();
    let firing: Vec<String> = report
        .iter()
        .filter(|a| a["state"] == "firing")
        .map(|a| a["timestamp"].as_str().unwrap().replace('T', " ")[..19].to_owned())
        .collect();
    let incidents: Vec<(String, String, String)> =
        serde_json::from_str(&wait::read(&labels)).unwrap();
    assert!(
        firing.iter().all(|t| t.as_str() >= first_live),
        "no alert about the history: {firing:?}"
    );
    for (first, last, kind) in &incidents {
        assert!(
            firing.iter().any(|t| first <= t && t <= last),
            "the {kind} incident {first}..{last} raised no alert: {firing:?}"
        );
    }
    let false_alarms = firing
        .iter()
        .filter(|t| {
            !incidents
                .iter()
                .any(|(first, last, _)| first <= *t && *t <= last)
        })
        .count();
    assert!(
        false_alarms * 100 <= live_rows * 2,
        "{false_alarms} false alarms in {live_rows} points: {firing:?}"
    );
}
