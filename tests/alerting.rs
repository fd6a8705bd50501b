//! Alerts reach people: an alert stage groups and deduplicates alerts and a
//! webhook sink delivers its notifications to a real HTTP receiver, through
//! refusals, a receiver outage and a `kill -9` of the agent, losing nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::http;
use foghorn_tests::input;
use foghorn_tests::receiver::{Receiver, free_port};
use foghorn_tests::wait;
use hmac::Mac as _;

/// `sites` kv-parsers (series `bench{site=sN}`) reading one file, one
/// threshold over all of them with `rules`, an alert stage and a webhook
/// (`hook`) to `url`.
fn pipeline(dir: &Path, input: &Path, sites: usize, rules: &str, stage: &str, url: &str) -> String {
    let hook = format!(
        "    type: webhook\n    url: {url}\n    hmac_secret: ${{HOOK_SECRET}}\n    \
         retry: {{ backoff: 100ms, max_backoff: 1s }}"
    );
    pipeline_to(dir, input, sites, rules, stage, &hook)
}

/// [`pipeline`] with the `hook` sink's settings given as YAML.
fn pipeline_to(
    dir: &Path,
    input: &Path,
    sites: usize,
    rules: &str,
    stage: &str,
    hook: &str,
) -> String {
    let mut parsers = String::new();
    let mut names = Vec::new();
    for site in 0..sites {
        parsers.push_str(&format!(
            "  p{site}:\n    inputs: [bench]\n    plugin: builtin:kv-parser\n    \
             config: {{ measurement: bench, tags: {{ site: s{site} }} }}\n"
        ));
        names.push(format!("p{site}"));
    }
    format!(
        r#"
data_dir: {data}
api: {{ listen: 127.0.0.1:{api} }}
sources:
  bench:
    type: file
    path: {input}
processors:
{parsers}  limits:
    inputs: [{names}]
    plugin: builtin:threshold
    config: {{ rules: [{rules}] }}
  notify:
    type: alerts
    inputs: [limits.alerts]
{stage}
sinks:
  hook:
    inputs: [notify.notifications]
{hook}
  report:
    type: report
    inputs: [notify.alerts]
    path: {report}
    interval: 100ms
"#,
        data = dir.join("data").display(),
        api = free_port(),
        input = input.display(),
        names = names.join(", "),
        report = dir.join("report.json").display(),
    )
}

fn api_addr(config: &str) -> std::net::SocketAddr {
    let start = config.find("listen: ").unwrap() + "listen: ".len();
    let end = start + config[start..].find(' ').unwrap();
    config[start..end].parse().unwrap()
}

fn signed(secret: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn grouped_notifications_reach_a_webhook_through_refusals() {
    let dir = tempfile::tempdir().unwrap();
    // The receiver refuses the first two calls with 429 and Retry-After: 1.
    let receiver = Receiver::start(
        dir.path(),
        0,
        &[
            "--fail-first",
            "2",
            "--fail-status",
            "429",
            "--retry-after",
            "1",
        ],
    );
    let input = dir.path().join("input.log");
    let config = dir.path().join("pipeline.yaml");
    let rules = r#"{ field: T, max: 80, severity: critical, description: "hot: {value}" },
                   { field: V, min: 4.5, severity: warning, description: "low: {value}" }"#;
    let stage = "    route:\n      receivers: [hook]\n      group_by: [site]\n      \
                 group_wait: 500ms\n      group_interval: 1s";
    std::fs::write(
        &config,
        pipeline(dir.path(), &input, 2, rules, stage, &receiver.url()),
    )
    .unwrap();
    std::fs::write(&input, "").unwrap();
    let agent = Agent::start(dir.path(), &config, &[("HOOK_SECRET", "s3cret")]);
    // Two sites, each too hot and too low: four alerts, a duplicate each.
    input::append(&input, &["T:95.0,V:3.0,S:X", "T:96.0,V:3.1,S:X"]);
    let firing = wait::until("two firing notifications", Duration::from_secs(60), || {
        let accepted = receiver.accepted();
        (accepted.len() >= 2).then_some(accepted)
    });
    let mut groups = BTreeMap::new();
    for call in &firing {
        let body = &call["body"];
        assert_eq!(body["version"], "4");
        assert_eq!(body["status"], "firing");
        assert_eq!(body["receiver"], "hook");
        let alerts: BTreeSet<String> = body["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|alert| {
                format!(
                    "{}/{}",
                    alert["labels"]["field"], alert["labels"]["severity"]
                )
            })
            .collect();
        groups.insert(
            body["groupLabels"]["site"].as_str().unwrap().to_owned(),
            alerts,
        );
        assert_eq!(
            call["headers"]["x-foghorn-signature"],
            signed("s3cret", call["raw"].as_str().unwrap())
        );
    }
    let both: BTreeSet<String> = ["\"T\"/\"critical\"", "\"V\"/\"warning\""]
        .map(String::from)
        .into();
    assert_eq!(
        groups,
        BTreeMap::from([("s0".into(), both.clone()), ("s1".into(), both)])
    );
    // The refused calls were sent again with the same key.
    let calls = receiver.calls();
    let refused: Vec<&serde_json::Value> = calls.iter().filter(|c| c["failed"] == true).collect();
    assert_eq!(refused.len(), 2);
    let accepted_keys: BTreeSet<&str> = firing
        .iter()
        .map(|c| c["headers"]["idempotency-key"].as_str().unwrap())
        .collect();
    for call in &refused {
        assert!(accepted_keys.contains(call["headers"]["idempotency-key"].as_str().unwrap()));
    }

    // Back to normal: each group notifies its resolution, with the
    // severities the alerts fired with.
    input::append(&input, &["T:20.0,V:5.0,S:OK"]);
    let all = wait::until(
        "two resolved notifications",
        Duration::from_secs(60),
        || {
            let accepted = receiver.accepted();
            (accepted.len() >= 4).then_some(accepted)
        },
    );
    for call in &all[2..] {
        let body = &call["body"];
        assert_eq!(body["status"], "resolved", "{body}");
        let severities: BTreeSet<&str> = body["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|alert| {
                assert_eq!(alert["status"], "resolved");
                alert["labels"]["severity"].as_str().unwrap()
            })
            .collect();
        assert_eq!(severities, BTreeSet::from(["critical", "warning"]));
    }
    let api = api_addr(&wait::read(&config));
    wait::until("an empty outbox", Duration::from_secs(30), || {
        let pending = http::metric(
            api,
            "foghorn_alert_notifications_pending",
            &[("component", "notify")],
        )?;
        (pending == 0.0).then_some(())
    });
    assert!(
        !agent.logs().contains("s3cret"),
        "the secret is never logged"
    );
    // Each alert's transitions reached the report once: four firings (the
    // duplicates deduplicated) and four resolutions.
    let report: serde_json::Value = wait::until("the report", Duration::from_secs(30), || {
        let report: serde_json::Value =
            serde_json::from_str(&wait::read(&dir.path().join("report.json"))).ok()?;
        (report.as_array()?.len() >= 8).then_some(report)
    });
    assert_eq!(report.as_array().unwrap().len(), 8, "{report}");
}

/// A webhook with a body template: the receiver gets the user's shape,
/// signed, with its content type; a template that does not compile is a
/// config error naming the sink's key and the template's line.
#[test]
fn a_webhook_template_shapes_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path(), 0, &[]);
    let input = dir.path().join("input.log");
    let config = dir.path().join("pipeline.yaml");
    let rules = r#"{ field: T, max: 80, severity: critical, description: "hot: {value}" },
                   { field: V, min: 4.5, severity: warning, description: "low: {value}" }"#;
    let stage =
        "    route:\n      receivers: [hook]\n      group_by: [site]\n      group_wait: 300ms";
    let hook = |template: &str| {
        format!(
            "    type: webhook\n    url: {}\n    hmac_secret: ${{HOOK_SECRET}}\n    \
             content_type: application/vnd.chat+json\n    template: |\n{}",
            receiver.url(),
            template
                .lines()
                .map(|line| format!("      {line}\n"))
                .collect::<String>()
        )
    };
    let template = r#"{"text": {{ status | upper ~ " " ~ groupLabels.site ~ ": " ~ (alerts | map(attribute="annotations.description") | join("; ")) }},
 "severities": {{ alerts | map(attribute="labels.severity") | list }},
 "key": {{ idempotencyKey }}}"#;

    // Broken: `validate` names the key and the template's line.
    let broken = pipeline_to(dir.path(), &input, 1, rules, stage, &hook("{}\n{% if %}"));
    std::fs::write(&config, broken).unwrap();
    let output = std::process::Command::new(foghorn_tests::agent::binary())
        .args(["validate", "-c", config.to_str().unwrap()])
        .env("HOOK_SECRET", "s3cret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("sinks.hook.template"), "{stderr}");
    assert!(stderr.contains("template line 2"), "{stderr}");

    std::fs::write(
        &config,
        pipeline_to(dir.path(), &input, 1, rules, stage, &hook(template)),
    )
    .unwrap();
    std::fs::write(&input, "").unwrap();
    let _agent = Agent::start(dir.path(), &config, &[("HOOK_SECRET", "s3cret")]);
    input::append(&input, &["T:95.0,V:3.0,S:X"]);
    let call = wait::until("a templated notification", Duration::from_secs(60), || {
        receiver.accepted().into_iter().next()
    });
    assert_eq!(call["headers"]["content-type"], "application/vnd.chat+json");
    assert_eq!(
        call["headers"]["x-foghorn-signature"],
        signed("s3cret", call["raw"].as_str().unwrap())
    );
    let body = &call["body"];
    assert_eq!(body["key"], call["headers"]["idempotency-key"]);
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("FIRING s0: "), "{text}");
    let mut descriptions: Vec<&str> = text["FIRING s0: ".len()..].split("; ").collect();
    descriptions.sort_unstable();
    assert_eq!(descriptions, ["hot: 95", "low: 3"]);
    let mut severities: Vec<&str> = body["severities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    severities.sort_unstable();
    assert_eq!(severities, ["critical", "warning"]);
}

/// 500 alerts in 50 groups while the receiver is down for 60 s, with a
/// `kill -9` of the agent in the middle: every notification arrives.
#[test]
fn notifications_survive_a_receiver_outage_and_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let input = dir.path().join("input.log");
    let config = dir.path().join("pipeline.yaml");
    // Ten series with fifty fields each over their maximum: 500 alerts,
    // grouped by field into 50 groups of ten.
    let fields: Vec<String> = (0..50).map(|i| format!("F{i:02}")).collect();
    let rules: Vec<String> = fields
        .iter()
        .map(|field| format!("{{ field: {field}, max: 50, severity: critical }}"))
        .collect();
    let stage = "    route:\n      receivers: [hook]\n      group_by: [field]\n      \
                 group_wait: 1s\n      group_interval: 1h\n      repeat_interval: 24h";
    let text = pipeline(dir.path(), &input, 10, &rules.join(", "), stage, &url);
    std::fs::write(&config, &text).unwrap();
    let api = api_addr(&text);
    let outage = std::time::Instant::now();
    std::fs::write(&input, "").unwrap();
    let mut agent = Agent::start(dir.path(), &config, &[("HOOK_SECRET", "k")]);
    let line: Vec<String> = fields.iter().map(|field| format!("{field}:99")).collect();
    input::append(&input, &[line.join(",")]);
    let pending = || {
        http::metric(
            api,
            "foghorn_alert_notifications_pending",
            &[("component", "notify")],
        )
    };
    wait::until("50 pending notifications", Duration::from_secs(60), || {
        (pending()? == 50.0).then_some(())
    });
    agent.kill9();

    let agent = Agent::start(dir.path(), &config, &[("HOOK_SECRET", "k")]);
    wait::until("the outbox restored", Duration::from_secs(60), || {
        (pending()? == 50.0).then_some(())
    });
    // The receiver comes back 60 s after the outage began.
    std::thread::sleep(Duration::from_secs(60).saturating_sub(outage.elapsed()));
    let receiver = Receiver::start(dir.path(), port, &[]);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let calls = loop {
        let calls = receiver.accepted();
        let keys: BTreeSet<String> = calls
            .iter()
            .map(|c| c["headers"]["idempotency-key"].as_str().unwrap().to_owned())
            .collect();
        if keys.len() >= 50 {
            break calls;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "after 120 s the receiver accepted {} calls with {} distinct keys ({} calls in all), {:?} pending; agent logs:\n{}",
            calls.len(),
            keys.len(),
            receiver.calls().len(),
            pending(),
            agent.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    wait::until("an empty outbox", Duration::from_secs(60), || {
        (pending()? == 0.0).then_some(())
    });
    let keys: BTreeSet<&str> = calls
        .iter()
        .map(|c| c["headers"]["idempotency-key"].as_str().unwrap())
        .collect();
    let duplicates = calls.len() - keys.len();
    println!(
        "notifications: {} distinct, {duplicates} duplicates",
        keys.len()
    );
    assert_eq!(keys.len(), 50);
    let mut alerts = BTreeSet::new();
    let mut groups = BTreeSet::new();
    for call in &calls {
        groups.insert(call["body"]["groupKey"].as_str().unwrap().to_owned());
        for alert in call["body"]["alerts"].as_array().unwrap() {
            alerts.insert(alert["fingerprint"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(groups.len(), 50);
    assert_eq!(alerts.len(), 500, "every alert was notified");
    drop(agent);
}

/// `foghorn silence` through the agent API: a silence mutes the alerts it
/// matches, and once expired they are notified.
#[test]
fn silences_through_the_cli_mute_notifications_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path(), 0, &[]);
    let input = dir.path().join("input.log");
    let config = dir.path().join("pipeline.yaml");
    let rules =
        r#"{ field: T, max: 80, severity: critical }, { field: V, min: 4.5, severity: warning }"#;
    // One group: the first notification holds every alert not muted.
    let stage = "    route:\n      receivers: [hook]\n      group_by: []\n      \
                 group_wait: 200ms\n      group_interval: 500ms";
    let text = pipeline(dir.path(), &input, 1, rules, stage, &receiver.url());
    std::fs::write(&config, &text).unwrap();
    std::fs::write(&input, "").unwrap();
    let api = api_addr(&text).to_string();
    let _agent = Agent::start(dir.path(), &config, &[("HOOK_SECRET", "k")]);
    wait::until("the API", Duration::from_secs(60), || {
        http::get(api.parse().unwrap(), "/health").map(|_| ())
    });
    let silence = |args: &[&str]| {
        let output = std::process::Command::new(foghorn_tests::agent::binary())
            .args(["silence", "--api", &api])
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, id, stderr) = silence(&[
        "add",
        "--for",
        "1h",
        "--comment",
        "swap the fan",
        r#"field="T""#,
    ]);
    assert!(ok, "{stderr}");
    let (ok, listed, _) = silence(&["list"]);
    assert!(
        ok && listed.contains(&id) && listed.contains("active") && listed.contains("swap the fan"),
        "{listed}"
    );
    let (ok, _, stderr) = silence(&["add", "severity critical"]);
    assert!(!ok && stderr.contains("needs an operator"), "{stderr}");
    let (ok, _, stderr) = silence(&["expire", "nope"]);
    assert!(!ok && stderr.contains("no such silence"), "{stderr}");

    input::append(&input, &["T:95.0,V:3.0,S:X"]);
    let fields = |calls: &[serde_json::Value]| -> Vec<String> {
        calls
            .iter()
            .flat_map(|c| c["body"]["alerts"].as_array().unwrap().clone())
            .map(|a| a["labels"]["field"].as_str().unwrap().to_owned())
            .collect()
    };
    wait::until("the voltage notification", Duration::from_secs(60), || {
        fields(&receiver.accepted())
            .contains(&"V".to_owned())
            .then_some(())
    });
    assert!(
        !fields(&receiver.accepted()).contains(&"T".to_owned()),
        "T is silenced"
    );
    // The silence and what it muted, on /metrics.
    let api_addr: std::net::SocketAddr = api.parse().unwrap();
    let gauge = |metric: &str, labels: &[(&str, &str)]| http::metric(api_addr, metric, labels);
    wait::until("the silence on /metrics", Duration::from_secs(30), || {
        (gauge("foghorn_alert_silences", &[("state", "active")]) == Some(1.0)
            && gauge("foghorn_alert_muted", &[("by", "silence")]) == Some(1.0))
        .then_some(())
    });
    assert_eq!(
        gauge("foghorn_alert_muted", &[("by", "inhibition")]),
        Some(0.0)
    );
    let (ok, _, stderr) = silence(&["expire", &id]);
    assert!(ok, "{stderr}");
    wait::until(
        "the expired silence on /metrics",
        Duration::from_secs(30),
        || {
            (gauge("foghorn_alert_silences", &[("state", "active")]) == Some(0.0)
                && gauge("foghorn_alert_silences", &[("state", "expired")]) == Some(1.0))
            .then_some(())
        },
    );
    wait::until(
        "the temperature notification",
        Duration::from_secs(60),
        || {
            fields(&receiver.accepted())
                .contains(&"T".to_owned())
                .then_some(())
        },
    );
}

/// The Slack receiver: one Block Kit message per group, at most one a
/// second, through a 429 with `Retry-After`.
#[test]
fn slack_messages_are_grouped_coloured_and_paced() {
    let dir = tempfile::tempdir().unwrap();
    let slack = Receiver::start(
        dir.path(),
        0,
        &[
            "--fail-first",
            "1",
            "--fail-status",
            "429",
            "--retry-after",
            "1",
        ],
    );
    let input = dir.path().join("input.log");
    let config = dir.path().join("pipeline.yaml");
    let rules = r#"{ field: T, max: 80, severity: critical, description: "hot: {value}" },
                   { field: V, min: 4.5, severity: warning }"#;
    let stage =
        "    route:\n      receivers: [hook]\n      group_by: [site]\n      group_wait: 200ms";
    let hook = format!(
        "    type: slack\n    url: {}\n    retry: {{ backoff: 100ms }}",
        slack.url()
    );
    std::fs::write(
        &config,
        pipeline_to(dir.path(), &input, 3, rules, stage, &hook),
    )
    .unwrap();
    std::fs::write(&input, "").unwrap();
    let _agent = Agent::start(dir.path(), &config, &[]);
    input::append(&input, &["T:95.0,V:3.0,S:X"]);
    let messages = wait::until("three Slack messages", Duration::from_secs(60), || {
        let accepted = slack.accepted();
        (accepted.len() >= 3).then_some(accepted)
    });
    for message in &messages {
        let body = &message["body"];
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .starts_with("[FIRING:2] site=s"),
            "{body}"
        );
        let attachment = &body["attachments"][0];
        assert_eq!(
            attachment["color"], "#d32f2f",
            "the worst severity is critical"
        );
        let blocks = attachment["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        let texts: Vec<&str> = blocks[1..3]
            .iter()
            .map(|b| b["text"]["text"].as_str().unwrap())
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("*CRITICAL* threshold") && t.contains("hot: 95")),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t.starts_with("*WARNING* threshold")),
            "{texts:?}"
        );
    }
    let times: Vec<f64> = messages
        .iter()
        .map(|m| m["time"].as_f64().unwrap())
        .collect();
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= 0.95,
            "at most one message a second: {times:?}"
        );
    }
    assert_eq!(slack.calls().len(), 4, "the refused message was sent again");
}

/// The Alertmanager receiver: a real Alertmanager shows foghorn's alerts
/// with their labels while they fire, and then their resolution.
#[test]
fn a_real_alertmanager_holds_the_alerts_until_they_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let alertmanager = foghorn_tests::alertmanager::Alertmanager::start(dir.path());
    let input = dir.path().join("input.log");
    let config = dir.path().join("pipeline.yaml");
    let rules = r#"{ field: T, max: 80, severity: critical, description: "hot: {value}" },
                   { field: V, min: 4.5, severity: warning }"#;
    let stage = "    route:\n      receivers: [hook]\n      group_by: ['...']\n      \
                 group_wait: 0s\n      group_interval: 200ms";
    let hook = format!(
        "    type: alertmanager\n    url: http://{}\n    repost_interval: 1m",
        alertmanager.addr
    );
    std::fs::write(
        &config,
        pipeline_to(dir.path(), &input, 1, rules, stage, &hook),
    )
    .unwrap();
    std::fs::write(&input, "").unwrap();
    let _agent = Agent::start(dir.path(), &config, &[]);
    input::append(&input, &["T:95.0,V:3.0,S:X"]);
    let firing = wait::until(
        "two alerts in Alertmanager",
        Duration::from_secs(60),
        || {
            let alerts = alertmanager.alerts();
            (alerts.len() == 2).then_some(alerts)
        },
    );
    let mut seen: Vec<(String, String)> = firing
        .iter()
        .map(|alert| {
            let labels = &alert["labels"];
            assert_eq!(labels["alertname"], "threshold");
            assert_eq!(labels["series"], "bench");
            assert_eq!(labels["site"], "s0");
            assert_eq!(alert["status"]["state"], "active");
            (
                labels["field"].as_str().unwrap().to_owned(),
                labels["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("T".into(), "critical".into()),
            ("V".into(), "warning".into())
        ]
    );
    let hot = firing.iter().find(|a| a["labels"]["field"] == "T").unwrap();
    assert_eq!(hot["annotations"]["description"], "hot: 95");
    // A firing alert is posted to end three re-post intervals ahead, so
    // only the posted resolution ends it within the next half minute.
    let ends = hot["endsAt"].as_str().unwrap();
    let starts = hot["startsAt"].as_str().unwrap();
    assert!(ends > starts, "{starts} .. {ends}");
    input::append(&input, &["T:20.0,V:5.0,S:OK"]);
    wait::until(
        "the resolution in Alertmanager",
        Duration::from_secs(30),
        || {
            let alerts = alertmanager.alerts();
            let active = alerts
                .iter()
                .filter(|alert| alert["status"]["state"] == "active")
                .count();
            (active == 0).then_some(())
        },
    );
}

/// The email receiver: a real SMTP server (aiosmtpd) with AUTH receives
/// one message per group with a plain-text and an HTML part, after a 451.
#[test]
fn an_smtp_server_receives_one_mail_per_group() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = foghorn_tests::receiver::SmtpServer::start(
        dir.path(),
        &["--user", "foghorn", "--password", "pw", "--fail-first", "1"],
    );
    let input = dir.path().join("input.log");
    let config = dir.path().join("pipeline.yaml");
    let rules = r#"{ field: T, max: 80, severity: critical, description: "hot <{value}>" },
                   { field: V, min: 4.5, severity: warning }"#;
    let stage =
        "    route:\n      receivers: [hook]\n      group_by: [site]\n      group_wait: 200ms";
    let hook = format!(
        "    type: email\n    host: 127.0.0.1\n    port: {}\n    tls: none\n    \
         username: ${{SMTP_USER}}\n    password: ${{SMTP_PASSWORD}}\n    \
         from: foghorn <alerts@example.com>\n    to: [ops@example.com, lab@example.com]\n    \
         retry: {{ backoff: 100ms }}",
        smtp.port
    );
    std::fs::write(
        &config,
        pipeline_to(dir.path(), &input, 2, rules, stage, &hook),
    )
    .unwrap();
    std::fs::write(&input, "").unwrap();
    let agent = Agent::start(
        dir.path(),
        &config,
        &[("SMTP_USER", "foghorn"), ("SMTP_PASSWORD", "pw")],
    );
    input::append(&input, &["T:95.0,V:3.0,S:X"]);
    let mails = wait::until("two mails", Duration::from_secs(60), || {
        let mails = smtp.messages();
        (mails.len() >= 2).then_some(mails)
    });
    let mut subjects = Vec::new();
    for mail in &mails {
        assert_eq!(mail["from"], "alerts@example.com");
        assert_eq!(
            mail["to"],
            serde_json::json!(["ops@example.com", "lab@example.com"])
        );
        let data = mail["data"].as_str().unwrap();
        let subject = data
            .lines()
            .find_map(|line| line.strip_prefix("Subject: "))
            .unwrap()
            .to_owned();
        subjects.push(subject);
        assert!(data.contains("multipart/alternative"), "{data}");
        assert!(data.contains("Content-Type: text/plain"), "{data}");
        assert!(data.contains("Content-Type: text/html"), "{data}");
        assert!(
            data.contains("hot &lt;95&gt;"),
            "the HTML part escapes device data: {data}"
        );
    }
    subjects.sort();
    assert_eq!(subjects, ["[FIRING:2] site=s0", "[FIRING:2] site=s1"]);
    assert!(
        !agent.logs().contains("pw\""),
        "the password is never logged"
    );
}

/// Email over TLS, against aiosmtpd with a certificate from a private CA:
/// STARTTLS (AUTH only after it) and implicit TLS deliver with `ca_file`;
/// without it the certificate is refused, and a server that offers no
/// STARTTLS gets nothing rather than mail in the clear.
#[test]
fn email_goes_over_starttls_and_implicit_tls_and_never_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let ca = foghorn_tests::tls::TestCa::new(dir.path());
    let (cert, key) = (ca.cert.to_str().unwrap(), ca.key.to_str().unwrap());
    let auth = ["--user", "foghorn", "--password", "pw"];
    let server = |tls: &str| {
        let mut options = vec!["--tls", tls, "--cert", cert, "--key", key];
        options.extend(auth);
        foghorn_tests::receiver::SmtpServer::start(dir.path(), &options)
    };
    let starttls = server("starttls");
    let implicit = server("implicit");
    let plain = server("none");
    // One email sink's settings, indented under its name.
    let email = |port: u16, tls: &str, ca_file: bool| {
        let ca_file = if ca_file {
            format!("    ca_file: {}\n", ca.ca.display())
        } else {
            String::new()
        };
        format!(
            "    type: email\n    host: 127.0.0.1\n    port: {port}\n    tls: {tls}\n{ca_file}    \
             username: ${{SMTP_USER}}\n    password: ${{SMTP_PASSWORD}}\n    \
             from: alerts@example.com\n    to: [ops@example.com]\n    \
             retry: {{ backoff: 100ms, max_backoff: 500ms }}\n"
        )
    };
    let receiver = |name: &str, settings: String| {
        format!("  {name}:\n    inputs: [notify.notifications]\n{settings}")
    };
    // `hook` is the first sink; the others follow it.
    let sinks = [
        email(implicit.port, "tls", true),
        receiver("upgraded", email(starttls.port, "starttls", true)),
        receiver("untrusted", email(starttls.port, "starttls", false)),
        receiver("downgraded", email(plain.port, "starttls", true)),
    ]
    .concat();
    let stage = "    route:\n      receivers: [hook, upgraded, untrusted, downgraded]\n      \
                 group_wait: 0s";
    let input = dir.path().join("input.log");
    let config = dir.path().join("pipeline.yaml");
    let rules = r#"{ field: T, max: 80, severity: critical }"#;
    std::fs::write(
        &config,
        pipeline_to(dir.path(), &input, 1, rules, stage, &sinks),
    )
    .unwrap();
    std::fs::write(&input, "").unwrap();
    let agent = Agent::start(
        dir.path(),
        &config,
        &[("SMTP_USER", "foghorn"), ("SMTP_PASSWORD", "pw")],
    );
    input::append(&input, &["T:95.0,V:5.0,S:X"]);
    for (server, what) in [(&implicit, "implicit TLS"), (&starttls, "STARTTLS")] {
        let mails = wait::until(what, Duration::from_secs(60), || {
            let mails = server.messages();
            (!mails.is_empty()).then_some(mails)
        });
        assert_eq!(mails[0]["tls"], true, "{what}: {}", mails[0]);
        assert!(mails[0]["data"].as_str().unwrap().contains("[FIRING:1]"));
    }
    // The two that must not deliver keep retrying, and say why.
    for (name, why) in [("untrusted", "certificate"), ("downgraded", "STARTTLS")] {
        wait::until(name, Duration::from_secs(60), || {
            agent
                .logs()
                .lines()
                .any(|line| line.contains(name) && line.contains("retry") && line.contains(why))
                .then_some(())
        });
    }
    assert_eq!(starttls.messages().len(), 1, "only `upgraded` got through");
    assert!(plain.messages().is_empty(), "nothing in the clear");
}

/// After a `kill -9`, the alert stage announces what still fires, so the
/// Prometheus sink's `foghorn_alert_firing` agrees with what was notified,
/// without any new input.
#[test]
fn alert_firing_survives_a_kill_9_through_the_stage() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path(), 0, &[]);
    let input = dir.path().join("input.log");
    let config = dir.path().join("pipeline.yaml");
    let rules = r#"{ field: T, max: 80, severity: critical }"#;
    let stage = "    route:\n      receivers: [hook]\n      group_wait: 0s";
    let text = pipeline(dir.path(), &input, 1, rules, stage, &receiver.url()).replace(
        "  report:\n",
        "  metrics:\n    type: prometheus\n    inputs: [notify.alerts]\n    listen: 127.0.0.1:0\n  report:\n",
    );
    std::fs::write(&config, &text).unwrap();
    std::fs::write(&input, "").unwrap();
    let firing = |agent: &Agent| {
        let addr = agent.metrics_addr();
        move || {
            http::metric(
                addr,
                "foghorn_alert_firing",
                &[("type", "threshold"), ("component", "limits")],
            )
        }
    };
    let mut agent = Agent::start(dir.path(), &config, &[("HOOK_SECRET", "k")]);
    input::append(&input, &["T:95.0,V:5.0,S:X"]);
    let before = firing(&agent);
    wait::until(
        "the alert firing in Prometheus",
        Duration::from_secs(60),
        || (before()? == 1.0).then_some(()),
    );
    wait::until("the notification", Duration::from_secs(60), || {
        (!receiver.accepted().is_empty()).then_some(())
    });
    agent.kill9();
    let agent = Agent::start(dir.path(), &config, &[("HOOK_SECRET", "k")]);
    let after = firing(&agent);
    wait::until(
        "the alert firing again after the restart",
        Duration::from_secs(60),
        || (after()? == 1.0).then_some(()),
    );
    // A notification whose acknowledgement the kill beat to the state store
    // may be sent again, with the same key; nothing new is notified.
    let keys: std::collections::BTreeSet<String> = receiver
        .accepted()
        .iter()
        .map(|c| c["headers"]["idempotency-key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 1, "no repeat is due: {keys:?}");
}
