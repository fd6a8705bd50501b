//! A native processor runs in the pipeline like a plugin: `type: filter`
//! between the detectors and the sinks passes what its matchers select, and
//! a file source's checkpoint still moves past what it left out.

use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::wait;

#[test]
fn a_filter_passes_what_its_matchers_select() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.log");
    std::fs::write(
        &input,
        "T:20.0,V:5.0,S:OK\nT:95.0,V:5.0,S:WARNING_TEMP\nT:21.0,V:3.0,S:OK\nT:22.0,V:5.0,S:OK\n",
    )
    .unwrap();
    let alerts = dir.path().join("alerts.ndjson");
    let points = dir.path().join("points.ndjson");
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  bench:
    type: file
    path: {input}
    follow: false
processors:
  lab:
    inputs: [bench]
    plugin: builtin:kv-parser
    config: {{ measurement: bench, tags: {{ site: lab }}, fields: {{ T: temperature, V: voltage, S: status }} }}
  field:
    inputs: [bench]
    plugin: builtin:kv-parser
    config: {{ measurement: bench, tags: {{ site: field }}, fields: {{ T: temperature, V: voltage, S: status }} }}
  limits:
    inputs: [lab]
    plugin: builtin:threshold
    config:
      rules:
        - {{ field: temperature, max: 80, severity: critical, description: "too hot: {{value}}" }}
        - {{ field: voltage, min: 4.5, severity: warning, description: "low voltage: {{value}}" }}
  select:
    type: filter
    inputs: [lab, field, limits.alerts]
    points: ['site="field"']
    alerts: ['severity=critical', 'kind=~"thresh.*"']
sinks:
  alerts:
    type: file
    inputs: [select.alerts]
    path: {alerts}
  points:
    type: file
    inputs: [select]
    path: {points}
"#,
            data = dir.path().join("data").display(),
            input = input.display(),
            alerts = alerts.display(),
            points = points.display(),
        ),
    )
    .unwrap();
    let mut agent = Agent::start(dir.path(), &config, &[]);
    // A finite file ends the pipeline once everything is delivered.
    let status = agent.wait_exit(Duration::from_secs(60));
    assert!(
        status.success(),
        "exit status {status:?}:\n{}",
        agent.logs()
    );

    let lines = |path| -> Vec<serde_json::Value> {
        wait::read(path)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    };
    let alerts = lines(&alerts);
    assert_eq!(alerts.len(), 1, "only the critical alert: {alerts:?}");
    assert_eq!(alerts[0]["description"], "too hot: 95");
    let points = lines(&points);
    assert_eq!(points.len(), 4, "the field site's four points: {points:?}");
    assert!(points.iter().all(|point| point["tags"]["site"] == "field"));
    assert!(
        agent.logs().contains("select: filter points: site=\"field\"; alerts: severity=\"critical\", kind=~\"thresh.*\""),
        "the banner names the filter:\n{}",
        agent.logs()
    );
}
