//! The Grafana dashboards and Prometheus rules in `grafana/`, proven against
//! a running agent: a real Prometheus scrapes an agent fed by the generator
//! (the serial bench's plugins, an alert stage notifying a webhook receiver,
//! the chaos plugin), and every panel query, variable query and annotation
//! of every dashboard is run through Prometheus's HTTP API with the
//! dashboard's variables substituted; each must parse and return data.
//! The queries that return data only under a condition are listed in
//! [`CONDITIONAL`]; the test creates each condition and runs them again.
//! The rules pass `promtool check rules` and `promtool test rules`, and the
//! dashboards validate against `@grafana/schema` (grafana/schema-check).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use foghorn_tests::agent::{self, Agent};
use foghorn_tests::prometheus::Prometheus;
use foghorn_tests::receiver::{Receiver, free_port};
use foghorn_tests::{http, input, wait};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Conditions some queries need, which the agent does not meet by just
/// running: the test creates each in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Condition {
    /// A config reload happened (SIGHUP).
    ConfigReloaded,
    /// An alert is firing now (the reload adds a rule that always fires).
    AlertFiring,
    /// A plugin trapped: failures, restarts and dead letters are counted.
    PluginFailed,
    /// The webhook receiver refused a notification, which was retried.
    NotificationRefused,
}

/// Queries that return data only under a condition: (dashboard file,
/// panel title, annotation name or `$variable`, condition). Every other
/// query must return data while the agent just runs.
const CONDITIONAL: &[(&str, &str, Condition)] = &[
    (
        "foghorn-overview.json",
        "Config reloads",
        Condition::ConfigReloaded,
    ),
    (
        "foghorn-overview.json",
        "Plugin failures by kind",
        Condition::PluginFailed,
    ),
    (
        "foghorn-overview.json",
        "Plugin restarts",
        Condition::PluginFailed,
    ),
    (
        "foghorn-overview.json",
        "Dead letters",
        Condition::PluginFailed,
    ),
    (
        "foghorn-overview.json",
        "Dead letters in range",
        Condition::PluginFailed,
    ),
    (
        "foghorn-overview.json",
        "Sink retries",
        Condition::NotificationRefused,
    ),
    (
        "foghorn-devices.json",
        "Firing alerts",
        Condition::AlertFiring,
    ),
    (
        "foghorn-devices.json",
        "annotation: Firing alerts",
        Condition::AlertFiring,
    ),
    (
        "foghorn-alerts.json",
        "annotation: Firing alerts",
        Condition::AlertFiring,
    ),
    (
        "foghorn-alerts.json",
        "Alerts firing now",
        Condition::AlertFiring,
    ),
    (
        "foghorn-alerts.json",
        "Failed deliveries by reason",
        Condition::NotificationRefused,
    ),
    (
        "foghorn-alerts.json",
        "Retries",
        Condition::NotificationRefused,
    ),
    (
        "foghorn-serial-bench.json",
        "annotation: Device alerts",
        Condition::AlertFiring,
    ),
];

/// What `$__rate_interval`, `$__range` and `$__interval` stand for: four
/// scrapes of the test's Prometheus (1 s), as Grafana computes it, and the
/// run so far.
const BUILTINS: &[(&str, &str)] = &[
    ("__rate_interval", "5s"),
    ("__range", "5m"),
    ("__interval", "1s"),
];

fn grafana_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../grafana")
}

/// One query of a dashboard.
#[derive(Debug)]
struct Query {
    dashboard: String,
    /// The panel's title, `annotation: <name>` or `$<variable>`.
    place: String,
    expr: String,
}

/// A dashboard variable backed by a query.
#[derive(Debug)]
struct Variable {
    name: String,
    multi: bool,
    /// `label_values(<selector>, <label>)` or `label_values(<label>)`.
    query: String,
}

/// Every dashboard: (file name, JSON).
fn dashboards() -> Vec<(String, Value)> {
    let mut boards: Vec<(String, Value)> = std::fs::read_dir(grafana_dir().join("dashboards"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            (name, json)
        })
        .collect();
    boards.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(boards.len() >= 4, "the four dashboards: {boards:?}");
    boards
}

/// The panel targets and annotations of `board` (named `name`).
fn queries(name: &str, board: &Value) -> Vec<Query> {
    let mut found = Vec::new();
    let panels = board["panels"].as_array().unwrap();
    let nested = panels
        .iter()
        .flat_map(|panel| panel["panels"].as_array().into_iter().flatten());
    for panel in panels.iter().chain(nested) {
        let title = panel["title"].as_str().unwrap_or_default();
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: {title}: a target without expr"));
            found.push(Query {
                dashboard: name.to_owned(),
                place: title.to_owned(),
                expr: expr.to_owned(),
            });
        }
    }
    for annotation in board["annotations"]["list"].as_array().unwrap() {
        if let Some(expr) = annotation["expr"].as_str() {
            found.push(Query {
                dashboard: name.to_owned(),
                place: format!("annotation: {}", annotation["name"].as_str().unwrap()),
                expr: expr.to_owned(),
            });
        }
    }
    found
}

/// The query variables of `board`, in order (later ones use earlier ones).
fn variables(name: &str, board: &Value) -> Vec<Variable> {
    let list = board["templating"]["list"].as_array().unwrap();
    let types: Vec<&str> = list.iter().filter_map(|v| v["type"].as_str()).collect();
    assert!(
        types.first() == Some(&"datasource")
            && list[0]["query"] == "prometheus"
            && list[0]["name"] == "datasource",
        "{name}: a datasource variable of type prometheus first"
    );
    let names: Vec<&str> = list.iter().filter_map(|v| v["name"].as_str()).collect();
    assert!(
        names.contains(&"job") && names.contains(&"instance"),
        "{name}: job and instance variables"
    );
    list.iter()
        .filter(|v| v["type"] == "query")
        .map(|v| {
            let query = v["query"]["query"]
                .as_str()
                .or_else(|| v["query"].as_str())
                .unwrap();
            Variable {
                name: v["name"].as_str().unwrap().to_owned(),
                multi: v["multi"] == true || v["includeAll"] == true,
                query: query.to_owned(),
            }
        })
        .collect()
}

/// Grafana's interpolation: a multi-value variable becomes a regex
/// alternation of its values with regex characters escaped (in a PromQL
/// string, so the backslash is doubled), a single one its value.
fn substitute(expr: &str, values: &BTreeMap<String, (bool, Vec<String>)>) -> String {
    let mut names: Vec<(String, String)> = BUILTINS
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    for (name, (multi, list)) in values {
        let value = if *multi {
            let escaped: Vec<String> = list
                .iter()
                .map(|value| {
                    value
                        .chars()
                        .flat_map(|c| {
                            let special = "\\.+*?()[]{}|^$".contains(c);
                            special
                                .then_some(['\\', '\\'])
                                .into_iter()
                                .flatten()
                                .chain([c])
                        })
                        .collect()
                })
                .collect();
            format!("({})", escaped.join("|"))
        } else {
            list[0].clone()
        };
        names.push((name.clone(), value));
    }
    // Longer names first: $__range must not eat $__rate_interval.
    names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let mut out = expr.to_owned();
    for (name, value) in &names {
        out = out.replace(&format!("${{{name}}}"), value);
        out = out.replace(&format!("${name}"), value);
    }
    assert!(!out.contains('$'), "a variable left in {out:?}");
    out
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GET `path` from Prometheus's API: its JSON, which must say `success`
/// (a query that does not parse fails here, at once).
fn api(prometheus: &Prometheus, path: &str, what: &str) -> Value {
    let (_, body) = wait::until("Prometheus to answer", Duration::from_secs(30), || {
        http::get(prometheus.addr, path)
    });
    let json: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
    assert_eq!(json["status"], "success", "{what} failed: {json}");
    json
}

/// The result of the instant query `expr`, empty when it has no data.
fn instant(prometheus: &Prometheus, expr: &str, what: &str) -> Vec<Value> {
    let json = api(
        prometheus,
        &format!("/api/v1/query?query={}", encode(expr)),
        what,
    );
    match json["data"]["resultType"].as_str() {
        Some("scalar" | "string") => vec![json["data"]["result"].clone()],
        _ => json["data"]["result"].as_array().unwrap().clone(),
    }
}

/// The values a `label_values(...)` variable query gives, as Grafana gets
/// them: `/api/v1/label/<label>/values` with the selector as `match[]`.
fn label_values(prometheus: &Prometheus, query: &str, what: &str) -> Vec<String> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{what}: only label_values(...) queries are used: {query}"));
    let (selector, label) = match inner.rsplit_once(',') {
        Some((selector, label)) => (Some(selector.trim()), label.trim()),
        None => (None, inner.trim()),
    };
    let mut path = format!("/api/v1/label/{label}/values");
    if let Some(selector) = selector {
        path.push_str(&format!("?match[]={}", encode(selector)));
    }
    api(prometheus, &path, what)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Wait until `expr` returns data.
fn returns_data(prometheus: &Prometheus, query: &Query, expr: &str, timeout: Duration) {
    let what = format!("{} / {}: {expr}", query.dashboard, query.place);
    wait::until(&format!("data from {what}"), timeout, || {
        (!instant(prometheus, expr, &what).is_empty()).then_some(())
    });
}

/// The pipeline: the serial bench's parser and detectors over the
/// generator (spikes, voltage faults and malformed lines, so alerts fire
/// and resolve and lines are rejected), an alert stage notifying `hook`,
/// the chaos plugin over `lines`, all to a Prometheus sink on `metrics`.
/// With `always_firing`, a rule that fires on every reading.
fn pipeline(dir: &Path, api: u16, metrics: u16, hook: &str, always_firing: bool) -> String {
    let wasm = env!("FIXTURE_CHAOS_WASM");
    let sha = hex::encode(Sha256::digest(std::fs::read(wasm).unwrap()));
    let extra = if always_firing {
        "        - { field: temperature, min: 1000, severity: warning }\n"
    } else {
        ""
    };
    format!(
        r#"
data_dir: {data}
api: {{ listen: "127.0.0.1:{api}" }}
sources:
  bench:
    type: generator
    interval: 50ms
    device: bench-1
    faults: {{ spike_probability: 0.05, voltage_fault_probability: 0.02, malformed_probability: 0.05 }}
  lines:
    type: file
    path: {lines}
    poll_interval: 20ms
processors:
  parse:
    inputs: [bench]
    plugin: builtin:kv-parser
    config:
      measurement: bench_device
      tags: {{ device: bench-1 }}
      fields: {{ T: temperature, V: voltage, S: status }}
      types: {{ temperature: float, voltage: float, status: string }}
  limits:
    inputs: [parse]
    plugin: builtin:threshold
    config:
      rules:
        - {{ field: temperature, max: 80, severity: critical }}
        - {{ field: voltage, min: 4.5, max: 5.5, severity: critical }}
{extra}  jumps:
    inputs: [parse]
    plugin: builtin:rate-of-change
    config: {{ rules: [{{ field: temperature, max_delta: 15, severity: warning }}] }}
  chaos:
    inputs: [lines]
    plugin: {wasm}
    sha256: {sha}
  notify:
    type: alerts
    inputs: [limits.alerts, jumps.alerts]
    route: {{ receivers: [hook], group_by: ['...'], group_wait: 0s, group_interval: 500ms }}
sinks:
  metrics:
    type: prometheus
    inputs: [parse, chaos, notify.alerts]
    listen: "127.0.0.1:{metrics}"
  hook:
    type: webhook
    inputs: [notify.notifications]
    url: {hook}
    retry: {{ backoff: 100ms, max_backoff: 1s }}
"#,
        data = dir.join("data").display(),
        lines = dir.join("lines.log").display(),
    )
}

/// Every query of every dashboard parses and returns data from a real
/// Prometheus scraping a running agent, the conditional ones once their
/// condition is created.
#[test]
fn every_dashboard_query_returns_data_from_a_running_agent() {
    let dir = tempfile::tempdir().unwrap();
    // The receiver refuses its first two calls (503, retried).
    let receiver = Receiver::start(
        dir.path(),
        0,
        &["--fail-first", "2", "--fail-status", "503"],
    );
    // One line for the chaos plugin to turn into a point (chaos_len, chaos_seen).
    std::fs::write(dir.path().join("lines.log"), "fine\n").unwrap();
    let (api, metrics) = (free_port(), free_port());
    let config = dir.path().join("pipeline.yaml");
    let write_config = |always_firing| {
        let text = pipeline(dir.path(), api, metrics, &receiver.url(), always_firing);
        std::fs::write(&config, text).unwrap();
    };
    write_config(false);
    let agent = Agent::start(dir.path(), &config, &[]);
    let target = agent.metrics_addr();
    let prometheus = Prometheus::start(dir.path(), target);
    // Enough scrapes for every rate window.
    wait::until("ten scrapes of the agent", Duration::from_secs(60), || {
        let scrapes = instant(
            &prometheus,
            "count_over_time(up{job=\"foghorn\"}[1m])",
            "up",
        );
        let n: f64 = scrapes.first()?["value"][1].as_str()?.parse().ok()?;
        (n >= 10.0).then_some(())
    });

    let boards = dashboards();
    let mut listed: Vec<(&str, &str)> = CONDITIONAL.iter().map(|(d, p, _)| (*d, *p)).collect();
    let mut unconditional = Vec::new();
    let mut conditional: BTreeMap<Condition, Vec<(Query, String)>> = BTreeMap::new();
    for (name, board) in &boards {
        // Variables, in order: their values feed later variables and every query.
        let mut values: BTreeMap<String, (bool, Vec<String>)> = BTreeMap::new();
        for variable in variables(name, board) {
            let query = substitute(&variable.query, &values);
            let what = format!("{name} / ${}: {query}", variable.name);
            let found = wait::until(
                &format!("values of {what}"),
                Duration::from_secs(30),
                || {
                    let found = label_values(&prometheus, &query, &what);
                    (!found.is_empty()).then_some(found)
                },
            );
            values.insert(variable.name, (variable.multi, found));
        }
        assert_eq!(values["job"].1, ["foghorn"], "{name}: $job");
        assert_eq!(
            values["instance"].1,
            [target.to_string()],
            "{name}: $instance"
        );
        if let Some((_, metrics)) = values.get("metric") {
            for field in [
                "bench_device_temperature",
                "bench_device_voltage",
                "chaos_len",
            ] {
                assert!(
                    metrics.iter().any(|m| m == field),
                    "{name}: $metric {metrics:?}"
                );
            }
            assert!(
                !metrics.iter().any(|m| m.starts_with("foghorn_")),
                "{name}: $metric holds telemetry only: {metrics:?}"
            );
        }
        for query in queries(name, board) {
            let expr = substitute(&query.expr, &values);
            let condition = CONDITIONAL
                .iter()
                .find(|(d, p, _)| *d == query.dashboard && *p == query.place)
                .map(|(_, _, condition)| *condition);
            listed.retain(|(d, p)| !(*d == query.dashboard && *p == query.place));
            match condition {
                Some(condition) => {
                    // It must parse already.
                    instant(&prometheus, &expr, &query.place);
                    conditional
                        .entry(condition)
                        .or_default()
                        .push((query, expr));
                }
                None => unconditional.push((query, expr)),
            }
        }
    }
    assert!(
        listed.is_empty(),
        "CONDITIONAL lists queries no dashboard has: {listed:?}"
    );
    assert!(unconditional.len() >= 30, "{} queries", unconditional.len());
    for (query, expr) in &unconditional {
        returns_data(&prometheus, query, expr, Duration::from_secs(30));
    }

    // Create each condition, then run its queries again.
    for (condition, queries) in &conditional {
        match condition {
            Condition::ConfigReloaded => {
                write_config(true);
                agent.hangup();
                wait::until("the reload to be scraped", Duration::from_secs(60), || {
                    let ok = "foghorn_config_reloads_total{result=\"ok\"}";
                    // The rewrite may reload too, before the SIGHUP does.
                    (prometheus.query(ok) >= Some(1.0)).then_some(())
                });
            }
            Condition::AlertFiring => {
                // The reload's rule fires on every reading.
                wait::until("an alert firing", Duration::from_secs(60), || {
                    let firing = "foghorn_alert_firing == 1";
                    (!instant(&prometheus, firing, firing).is_empty()).then_some(())
                });
            }
            Condition::PluginFailed => {
                input::append(&dir.path().join("lines.log"), &["TRAP"]);
                wait::until("a plugin failure scraped", Duration::from_secs(60), || {
                    let trap = "foghorn_plugin_failures_total{component=\"chaos\",kind=\"trap\"}";
                    (prometheus.query(trap) == Some(1.0)).then_some(())
                });
            }
            Condition::NotificationRefused => {
                wait::until("a refused notification", Duration::from_secs(60), || {
                    let calls = receiver.calls();
                    calls
                        .iter()
                        .any(|call| call["failed"] == true)
                        .then_some(())
                });
                wait::until("the retry scraped", Duration::from_secs(60), || {
                    let retries = "foghorn_sink_retries_total{component=\"hook\"}";
                    (prometheus.query(retries).is_some_and(|n| n >= 1.0)).then_some(())
                });
            }
        }
        for (query, expr) in queries {
            returns_data(&prometheus, query, expr, Duration::from_secs(30));
        }
    }

    // The rules' expressions parse in this Prometheus too.
    let rules =
        std::fs::read_to_string(grafana_dir().join("prometheus/foghorn-rules.yml")).unwrap();
    let exprs: Vec<&str> = rules
        .lines()
        .filter_map(|line| line.trim().strip_prefix("expr: "))
        .collect();
    assert!(exprs.len() >= 10, "{exprs:?}");
    for expr in exprs {
        instant(&prometheus, expr, expr);
    }
    drop(agent);
}

/// Every `foghorn_*` metric the dashboards and rules name is one the agent
/// defines (a renamed metric fails here even where no query could tell).
#[test]
fn dashboards_and_rules_name_only_metrics_the_agent_defines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let defined = std::fs::read_to_string(root.join("agent/src/internal/metrics.rs")).unwrap()
        + &std::fs::read_to_string(root.join("agent/src/sinks/prometheus/mod.rs")).unwrap();
    let mut texts =
        vec![std::fs::read_to_string(grafana_dir().join("prometheus/foghorn-rules.yml")).unwrap()];
    texts.extend(dashboards().into_iter().map(|(_, board)| board.to_string()));
    let mut names = std::collections::BTreeSet::new();
    for text in &texts {
        for (start, _) in text.match_indices("foghorn_") {
            let name: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.ends_with('_') || text[..start].ends_with(':') {
                continue; // a regex prefix (foghorn_.*) or a recording rule's name
            }
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(&name)
                .to_owned();
            names.insert(base);
        }
    }
    assert!(names.len() >= 15, "{names:?}");
    for name in &names {
        assert!(
            defined.contains(&format!("\"{name}\"")),
            "{name} is not a metric the agent defines"
        );
    }
}

/// `promtool check rules` and `promtool test rules` pass on the rules.
#[test]
fn prometheus_rules_check_and_pass_their_unit_tests() {
    let dir = grafana_dir().join("prometheus");
    for args in [
        ["check", "rules", "foghorn-rules.yml"],
        ["test", "rules", "foghorn-rules.test.yml"],
    ] {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("promtool is installed with prometheus: run the README's test command");
        assert!(
            out.status.success(),
            "promtool {}:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The dashboards validate against Grafana's published schema
/// (`@grafana/schema`'s types as JSON Schema, with ajv).
#[test]
fn dashboards_validate_against_the_grafana_schema() {
    let check = grafana_dir().join("schema-check");
    let install = install_schema_check(&check);
    let mut files: Vec<PathBuf> = std::fs::read_dir(grafana_dir().join("dashboards"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let out = Command::new("node")
        .arg(check.join("check.mjs"))
        .arg(&install)
        .args(&files)
        .output()
        .expect("node is installed: run the README's test command");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schema check:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("ok: {} dashboards", files.len())),
        "{stdout}"
    );

    // And the check does fail a dashboard with a misspelt key.
    let broken = tempfile::tempdir().unwrap();
    let mut board: Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    board["panels"][1]["fieldconfig"] = board["panels"][1]["fieldConfig"].take();
    let path = broken.path().join("broken.json");
    std::fs::write(&path, board.to_string()).unwrap();
    let out = Command::new("node")
        .arg(check.join("check.mjs"))
        .arg(&install)
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && stdout.contains("fieldconfig"),
        "{stdout}"
    );
}

/// `npm ci` of grafana/schema-check into `target/grafana-schema-check`
/// unless its lock file is already installed there (scripts/test.sh installs
/// it beforehand); returns that directory.
fn install_schema_check(check: &Path) -> PathBuf {
    let target = agent::shared_cache_dir()
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/foghorn-test-cache")
        .join("grafana-schema-check");
    let lock = std::fs::read_to_string(check.join("package-lock.json")).unwrap();
    let installed = std::fs::read_to_string(target.join("package-lock.json")).unwrap_or_default();
    if installed != lock || !target.join("node_modules/ajv").exists() {
        std::fs::create_dir_all(&target).unwrap();
        std::fs::copy(check.join("package.json"), target.join("package.json")).unwrap();
        std::fs::write(target.join("package-lock.json"), &lock).unwrap();
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&target)
            .status()
            .expect("npm is installed: run the README's test command");
        assert!(status.success(), "npm ci in {}", target.display());
    }
    target
}
