//! End-to-end tests of [`super::load_str`]: whole
//! files in, typed values or located errors out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::event::AlertState;
use crate::processors::{Limits, PluginRef, ProcessorKind, RestartPolicy, WasmConfig};
use crate::sinks::*;
use crate::sources::*;

/// The plugin settings of processor `name`.
fn wasm<'a>(config: &'a Config, name: &str) -> &'a WasmConfig {
    config.processors[name]
        .kind
        .wasm()
        .expect("a plugin processor")
}

fn env_from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn load_ok(text: &str) -> Config {
    match load_str(
        Path::new("/etc/foghorn/pipeline.yaml"),
        text,
        &env_from(&[]),
    ) {
        Ok(config) => config,
        Err(errors) => panic!("unexpected errors:\n{}", render(&errors)),
    }
}

fn load_err(text: &str) -> Vec<ConfigError> {
    match load_str(Path::new("pipeline.yaml"), text, &env_from(&[])) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors,
    }
}

fn render(errors: &[ConfigError]) -> String {
    errors.iter().map(|e| format!("{e}\n")).collect()
}

/// (line, key) of each error, for asserting where errors are.
fn lines_and_keys(errors: &[ConfigError]) -> Vec<(usize, &str)> {
    errors.iter().map(|e| (e.line, e.key.as_str())).collect()
}

const FULL: &str = r#"
data_dir: ./state
batch:
  max_records: 512
  linger: 20ms
sources:
  bench:
    type: serial
    port: /dev/ttyUSB0
    baud: 115200
    parity: even
    data_bits: 7
    stop_bits: 2
    flow_control: hardware
    max_line_length: 1024
    reconnect: { initial_backoff: 200ms, max_backoff: 10s }
    audit_log: ./logs/raw.log
    batch: { max_records: 64 }
  tail:
    type: file
    path: /var/log/device.log
    read_from: end
    follow: false
    poll_interval: 1s
  pipe:
    type: stdin
  fake:
    type: generator
    interval: 0s
    count: 1000
    seed: 7
    device: bench-9
    faults: { spike_probability: 0.5, silence_every: 30s }
processors:
  parse:
    inputs: [bench, tail, pipe, fake]
    plugin: builtin:kv-parser
    config: { pair_separator: ",", kv_separator: ":", fields: { T: temperature, V: voltage } }
    errors: ./logs/parser_errors.log
  detect:
    inputs: [parse.points]
    plugin: ./plugins/my_detector.wasm
    sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    limits: { memory: 32MiB, time_per_call: 50ms, restart: { max_failures: 3 } }
    tick_interval: 500ms
    snapshot_interval: 1m
    config: { temperature: { max: 80 }, voltage: { min: 4.5, max: 5.5 }, heartbeat: 4s }
sinks:
  metrics:
    type: prometheus
    inputs: [parse, detect]
    listen: 0.0.0.0:9100
  report:
    type: report
    inputs: [detect.alerts]
    path: ./reports/anomaly_report.json
    interval: 10s
  csv: { type: file, inputs: [parse], path: ./logs/structured.csv, encoding: csv }
  screen: { type: console, inputs: [detect.alerts], format: json }
"#;

#[test]
fn full_config_loads_into_typed_values() {
    let config = load_ok(FULL);
    assert_eq!(config.data_dir, PathBuf::from("./state"));
    assert_eq!(
        config.batch,
        BatchConfig {
            max_records: 512,
            linger: Duration::from_millis(20)
        }
    );

    let bench = &config.sources["bench"];
    assert_eq!(
        bench.batch,
        Some(BatchOverride {
            max_records: Some(64),
            linger: None
        })
    );
    assert_eq!(
        config.batch_for(bench.batch.as_ref()),
        BatchConfig {
            max_records: 64,
            linger: Duration::from_millis(20)
        }
    );
    assert_eq!(
        bench.kind,
        SourceKind::Serial(SerialConfig {
            port: "/dev/ttyUSB0".into(),
            baud: 115_200,
            parity: Parity::Even,
            data_bits: 7,
            stop_bits: 2,
            flow_control: FlowControl::Hardware,
            max_line_length: 1024,
            reconnect: ReconnectConfig {
                initial_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(10),
            },
            audit_log: Some("./logs/raw.log".into()),
        })
    );
    assert_eq!(
        config.sources["tail"].kind,
        SourceKind::File(FileSourceConfig {
            read_from: ReadFrom::End,
            follow: false,
            poll_interval: Duration::from_secs(1),
            max_line_length: 65_536,
            ..FileSourceConfig::new("/var/log/device.log")
        })
    );
    assert_eq!(
        config.sources["pipe"].kind,
        SourceKind::Stdin(StdinConfig {
            max_line_length: 65_536
        })
    );
    let SourceKind::Generator(generator) = &config.sources["fake"].kind else {
        panic!("fake is a generator")
    };
    assert_eq!(generator.interval, Duration::ZERO);
    assert_eq!(
        (generator.count, generator.seed, generator.device.as_str()),
        (Some(1000), 7, "bench-9")
    );
    assert_eq!(generator.scenario, Scenario::BenchDevice);
    assert_eq!(generator.faults.spike_probability, 0.5);
    assert_eq!(generator.faults.voltage_fault_probability, 0.01);
    assert_eq!(
        generator.faults.silence_every,
        Some(Duration::from_secs(30))
    );
    assert_eq!(generator.faults.silence_for, Duration::from_secs(6));

    let parse = &config.processors["parse"];
    assert_eq!(
        parse
            .inputs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["bench", "tail", "pipe", "fake"]
    );
    let parse_inputs = &parse.inputs;
    let parse = wasm(&config, "parse");
    assert_eq!(parse.plugin, PluginRef::Builtin("kv-parser".into()));
    assert_eq!(parse.sha256, None);
    assert_eq!(
        parse.config,
        json!({ "pair_separator": ",", "kv_separator": ":", "fields": { "T": "temperature", "V": "voltage" } })
    );
    assert_eq!(parse.errors, Some("./logs/parser_errors.log".into()));
    assert_eq!(
        parse.limits,
        Limits {
            memory: ByteSize::mib(64),
            time_per_call: Duration::from_secs(1),
            ..Limits::default()
        }
    );
    assert_eq!(
        (parse.tick_interval, parse.snapshot_interval),
        (Duration::from_secs(1), Duration::from_secs(10))
    );

    assert_eq!(parse_inputs.len(), 4);
    let detect = wasm(&config, "detect");
    assert_eq!(
        config.processors["detect"].inputs,
        [InputRef {
            component: "parse".into(),
            output: Output::Points
        }]
    );
    assert_eq!(
        detect.plugin,
        PluginRef::Path("/etc/foghorn/./plugins/my_detector.wasm".into())
    );
    assert_eq!(detect.sha256.as_deref().map(str::len), Some(64));
    assert_eq!(
        detect.limits,
        Limits {
            memory: ByteSize::mib(32),
            time_per_call: Duration::from_millis(50),
            restart: RestartPolicy {
                max_failures: 3,
                ..RestartPolicy::default()
            },
            ..Limits::default()
        }
    );
    assert_eq!(detect.tick_interval, Duration::from_millis(500));
    assert_eq!(detect.snapshot_interval, Duration::from_mins(1));
    assert_eq!(
        detect.config,
        json!({ "temperature": { "max": 80 }, "voltage": { "min": 4.5, "max": 5.5 }, "heartbeat": "4s" })
    );

    let metrics = &config.sinks["metrics"];
    assert_eq!(
        metrics.inputs,
        [InputRef::new("parse"), InputRef::new("detect")]
    );
    let listen: SocketAddr = "0.0.0.0:9100".parse().unwrap();
    assert_eq!(
        metrics.kind,
        SinkKind::Prometheus(PrometheusConfig {
            listen,
            max_series: 10_000,
            max_alert_series: 1_000,
            firing_max_age: Duration::from_hours(24),
        })
    );
    assert_eq!(
        config.sinks["report"].kind,
        SinkKind::Report(ReportConfig {
            path: "./reports/anomaly_report.json".into(),
            interval: Duration::from_secs(10),
            max_alerts: 10_000,
            fields: None,
            states: vec![AlertState::Firing, AlertState::Resolved],
            severity_case: SeverityCase::Lower,
        })
    );
    assert_eq!(config.sinks["report"].inputs[0].output, Output::Alerts);
    assert_eq!(
        config.sinks["csv"].kind,
        SinkKind::File(FileSinkConfig {
            path: "./logs/structured.csv".into(),
            encoding: FileEncoding::Csv,
            columns: None,
        })
    );
    assert_eq!(
        config.sinks["screen"].kind,
        SinkKind::Console(ConsoleConfig {
            format: ConsoleFormat::Json
        })
    );

    // Positions survive for errors found later, e.g. by the topology builder.
    assert_eq!(
        config.source_map.locate(&["sources", "bench", "port"]),
        (9, 11)
    );
    assert_eq!(
        config
            .source_map
            .error(&["sinks", "metrics", "listen"], "address in use")
            .to_string(),
        "/etc/foghorn/pipeline.yaml:52:13: sinks.metrics.listen: address in use"
    );
    assert_eq!(config.validate(), Ok(()));
}

#[test]
fn minimal_config_gets_every_default() {
    let config = load_ok(
        "sources:\n  s: { type: serial, port: COM3 }\nsinks:\n  p: { type: prometheus, inputs: [s] }\n",
    );
    assert_eq!(config.data_dir, PathBuf::from("./foghorn-data"));
    assert_eq!(config.batch, BatchConfig::default());
    let SourceKind::Serial(serial) = &config.sources["s"].kind else {
        panic!()
    };
    assert_eq!(
        (
            serial.baud,
            serial.data_bits,
            serial.stop_bits,
            serial.max_line_length
        ),
        (9600, 8, 1, 4096)
    );
    assert_eq!(
        (serial.parity, serial.flow_control),
        (Parity::None, FlowControl::None)
    );
    assert_eq!(serial.reconnect, ReconnectConfig::default());
    assert_eq!(serial.audit_log, None);
    let SinkKind::Prometheus(prometheus) = config.sinks["p"].kind else {
        panic!()
    };
    assert_eq!(prometheus, PrometheusConfig::default());
    assert_eq!(prometheus.listen.to_string(), "127.0.0.1:9598");
    assert!(load_ok("").sources.is_empty());
}

#[test]
fn interpolates_environment_variables() {
    let text = "sources:\n  s:\n    type: serial\n    port: ${PORT}\n    baud: ${BAUD:-9600}\n    audit_log: /logs/$${HOME}/${MISSING:-raw}.log\nprocessors:\n  p:\n    inputs: [s]\n    plugin: builtin:threshold\n    config:\n      max: '${LIMIT}'\n      plain: ${LIMIT}\n";
    let env = env_from(&[("PORT", "/dev/ttyACM0"), ("LIMIT", "80")]);
    let config = load_str(Path::new("f.yaml"), text, &env).unwrap();
    let SourceKind::Serial(serial) = &config.sources["s"].kind else {
        panic!()
    };
    assert_eq!(serial.port, "/dev/ttyACM0");
    assert_eq!(serial.baud, 9600);
    assert_eq!(serial.audit_log, Some("/logs/${HOME}/raw.log".into()));
    assert_eq!(
        wasm(&config, "p").config,
        json!({ "max": "80", "plain": 80 })
    );

    let errors = load_str(Path::new("f.yaml"), text, &env_from(&[("LIMIT", "1")])).unwrap_err();
    assert_eq!(
        render(&errors),
        "f.yaml:4:11: sources.s.port: environment variable PORT is not set\n"
    );
}

/// Five different mistakes in five places give exactly five errors, each at
/// its own line and key.
#[test]
fn reports_every_mistake_with_line_and_key() {
    let text = "\
sources:
  bench:
    type: serial
    port: /dev/ttyUSB0
    baud: fast
  tail:
    type: fiel
    path: /var/log/x.log
processors:
  parse:
    inputs: [bench]
    plugin: builtin:kv-parser
    limits: { memory: 0B }
  detect:
    inputs: [pars]
    plugin: builtin:threshold
    colour: red
sinks:
  metrics:
    type: prometheus
    inputs: [detect.alerts]
";
    let errors = load_err(text);
    assert_eq!(
        lines_and_keys(&errors),
        [
            (5, "sources.bench.baud"),
            (7, "sources.tail.type"),
            (13, "processors.parse.limits.memory"),
            (15, "processors.detect.inputs[0]"),
            (17, "processors.detect.colour"),
        ],
        "{}",
        render(&errors)
    );
    assert_eq!(errors[0].column, 11);
    assert_eq!(errors[0].message, "expected a whole number, got `fast`");
    assert!(errors[1].message.contains("unknown source type `fiel`; known types: `serial`, `file`, `stdin`, `generator`, `http`, `kafka`, `replay`; did you mean `file`?"), "{}", errors[1].message);
    assert_eq!(errors[2].message, "must be between 1MiB and 4GiB, got 0B");
    assert!(
        errors[3]
            .message
            .starts_with("unknown input `pars`; known components: bench, detect, parse"),
        "{}",
        errors[3].message
    );
    assert!(errors[3].message.ends_with("did you mean `parse`?"));
    assert!(
        errors[4]
            .message
            .starts_with("unknown field `colour`; expected one of `type`, `inputs`, `plugin`"),
        "{}",
        errors[4].message
    );
}

#[test]
fn reports_component_and_graph_mistakes() {
    let text = "\
data_dirr: x
sources:
  bench:
    port: /dev/ttyUSB0
  gen:
    type: generator
    faults: { spike_probability: 2 }
    batch: { max_records: 0 }
  'bad.name': { type: stdin }
  serial:
    type: serial
processors:
  p:
    inputs: [gen.alerts, metrics]
    plugin: builtin:x
    sha256: abc
  q:
    inputs: []
    plugin: ./not-wasm.txt
sinks:
  metrics: { type: console, inputs: [p] }
  gen: { type: console, inputs: [p] }
  out: { type: file }
";
    let errors = load_err(text);
    let found: Vec<(usize, &str, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key.as_str(), e.message.as_str()))
        .collect();
    let expected_prefixes = [
        (1, "data_dirr", "unknown key `data_dirr`"),
        (3, "sources.bench", "missing `type`"),
        (
            7,
            "sources.gen.faults.spike_probability",
            "must be between 0 and 1, got 2",
        ),
        (
            8,
            "sources.gen.batch.max_records",
            "must be between 1 and 1000000, got 0",
        ),
        (9, "sources.bad.name", "invalid source name `bad.name`"),
        (10, "sources.serial", "missing field `port`"),
        (
            14,
            "processors.p.inputs[0]",
            "`gen` is a source and has only one output",
        ),
        (14, "processors.p.inputs[1]", "`metrics` is a sink"),
        (15, "processors.p.plugin", "unknown builtin plugin `x`"),
        (
            16,
            "processors.p.sha256",
            "must be 64 hexadecimal characters",
        ),
        (18, "processors.q.inputs", "must list at least one"),
        (
            19,
            "processors.q.plugin",
            "must be `builtin:<name>` or a path to a `.wasm` component",
        ),
        (
            22,
            "sinks.gen",
            "the name `gen` is already used by the source at line 5",
        ),
        (23, "sinks.out", "missing field `inputs`"),
        (23, "sinks.out", "missing field `path`"),
    ];
    assert_eq!(found.len(), expected_prefixes.len(), "{}", render(&errors));
    for ((line, key, message), (want_line, want_key, want_message)) in
        found.iter().zip(expected_prefixes)
    {
        assert_eq!((*line, *key), (want_line, want_key), "{}", render(&errors));
        assert!(
            message.starts_with(want_message),
            "{message:?} should start with {want_message:?}"
        );
    }
}

#[test]
fn prometheus_budgets_load_and_are_range_checked() {
    let config = load_ok(
        "sources:\n  s: { type: stdin }\nsinks:\n  p: { type: prometheus, inputs: [s], max_series: 50, max_alert_series: 5, firing_max_age: 2h }\n",
    );
    let SinkKind::Prometheus(prometheus) = config.sinks["p"].kind else {
        panic!()
    };
    assert_eq!(
        (
            prometheus.max_series,
            prometheus.max_alert_series,
            prometheus.firing_max_age
        ),
        (50, 5, Duration::from_hours(2))
    );

    let text = "\
sources:
  s: { type: stdin }
sinks:
  p:
    type: prometheus
    inputs: [s]
    max_series: 0
    max_alert_series: 100001
    firing_max_age: 30s
";
    let errors = load_err(text);
    let found: Vec<(usize, &str, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                7,
                "sinks.p.max_series",
                "must be between 1 and 1000000, got 0"
            ),
            (
                8,
                "sinks.p.max_alert_series",
                "must be between 1 and 100000, got 100001"
            ),
            (
                9,
                "sinks.p.firing_max_age",
                "must be between 1m and 30days, got 30s"
            ),
        ],
        "{}",
        render(&errors)
    );
}

#[test]
fn report_shapes_and_csv_columns_are_checked() {
    let text = "\
sources:
  s: { type: stdin }
sinks:
  r:
    type: report
    inputs: [s]
    path: r.json
    states: []
    fields: [type, type]
  c:
    type: file
    inputs: [s]
    path: c.ndjson
    columns: [timestamp, timestamp]
";
    let errors = load_err(text);
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.key.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "sinks.r.states",
                "is empty: a report records `firing` or `resolved` alerts or both"
            ),
            ("sinks.r.fields[1]", "type is listed twice"),
            ("sinks.c.columns", "is for `encoding: csv` only"),
            ("sinks.c.columns[1]", "timestamp is listed twice"),
        ],
        "{}",
        render(&errors)
    );
    assert!(errors.iter().all(|e| e.line > 0), "{}", render(&errors));
}

#[test]
fn analysis_sections_are_checked() {
    let text = "\
sources:
  s: { type: stdin }
sinks:
  a:
    type: analysis
    inputs: [s]
    path: a.json
    columns: [timestamp, device, cpu]
    time_format: \"%Y-%Q\"
    clean:
      keep: [{ field: cpu, sigma: 2 }]
    groups:
      - { name: g, by: [host], fields: { cpu: mean }, top: 0 }
    anomalies:
      - { name: g, any: [{ field: cpu }] }
      - { name: hot, any: [{ field: cpu, z: 2, gt: 1 }] }
    rolling:
      - { name: r, field: cpu, window: 1h, stat: median }
    charts:
      - { title: t, series: daily, markers: [cold] }
    derive:
      - { name: cpu, field: cpu }
    metrics: [nothing]
  b:
    type: analysis
    inputs: [s]
    path: b.json
    columns: [timestamp, cpu]
    anomalies:
      - name: x
        any: [{ field: cpu, gt: 1 }]
        export: { path: x.csv, columns: { a: \"{severity}\", b: \"{cpu\", c: \"{load}\" } }
";
    let errors = load_err(text);
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.key.as_str(), e.message.as_str()))
        .collect();
    let expected: [(&str, &str); 15] = [
        ("sinks.a.derive[0].name", "cpu is taken"),
        (
            "sinks.a.metrics[0]",
            "nothing is not the name of a group or resample section",
        ),
        (
            "sinks.b.anomalies[0].export.columns.a",
            "{severity} is not a column, a derived column or the set's severity",
        ),
        (
            "sinks.b.anomalies[0].export.columns.b",
            "a `{` is not closed",
        ),
        (
            "sinks.b.anomalies[0].export.columns.c",
            "{load} is not a column",
        ),
        ("sinks.a.time_format", ""),
        (
            "sinks.a.clean.keep[0]",
            "a sigma or z condition cannot clean: use bounds",
        ),
        (
            "sinks.a.groups[0].by[0]",
            "host is neither one of `columns` nor a derived column",
        ),
        ("sinks.a.groups[0].top", "must be at least 1"),
        (
            "sinks.a.anomalies[0].name",
            "g is also the name of sinks.a.groups[0].name",
        ),
        (
            "sinks.a.anomalies[0].any[0]",
            "tests nothing: give `gt`, `ge`, `lt`, `le`, `sigma` or `z`",
        ),
        (
            "sinks.a.anomalies[1].any[0]",
            "has both `z` and bounds: make them two conditions",
        ),
        (
            "sinks.a.rolling[0].stat",
            "must be mean, sum, min, max or count",
        ),
        (
            "sinks.a.charts[0]",
            "charts are drawn in the HTML report: set `html`",
        ),
        (
            "sinks.a.charts[0].series",
            "daily is not the name of a resample or rolling section",
        ),
    ];
    for (key, message) in expected {
        assert!(
            found.iter().any(|(k, m)| *k == key && m.contains(message)),
            "no error {key}: {message}\n{}",
            render(&errors)
        );
    }
    assert!(
        found
            .iter()
            .any(|(k, m)| *k == "sinks.a.charts[0].markers[0]" && m.contains("cold")),
        "{}",
        render(&errors)
    );
    assert!(errors.iter().all(|e| e.line > 0), "{}", render(&errors));
}

#[test]
fn sources_wait_only_for_other_sources_without_a_circle() {
    let text = "\
sources:
  history: { type: stdin, after: [history] }
  live: { type: stdin, after: [later, replay] }
  replay: { type: stdin, after: [live] }
sinks:
  out: { type: console, inputs: [history, live, replay] }
";
    let errors = load_err(text);
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.key.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "sources.history.after[0]",
                "a source cannot wait for itself"
            ),
            ("sources.live.after[0]", "later is not a source"),
            (
                "sources.live.after[1]",
                "replay waits for live: neither would start"
            ),
            (
                "sources.replay.after[0]",
                "live waits for replay: neither would start"
            ),
        ],
        "{}",
        render(&errors)
    );
}

#[test]
fn reports_syntax_errors_and_duplicate_keys() {
    let errors = load_err("sources:\n  a: {type: stdin\nsinks: {}\n");
    assert_eq!(errors.len(), 1, "{}", render(&errors));
    assert!(
        errors[0].message.starts_with("YAML syntax error"),
        "{}",
        errors[0]
    );
    assert!(errors[0].line >= 2);

    let errors = load_err(
        "sources:\n  a: {type: stdin}\n  a: {type: stdin}\nsinks:\n  c: {type: console, inputs: [a]}\n",
    );
    assert_eq!(
        lines_and_keys(&errors),
        [(3, "sources.a")],
        "{}",
        render(&errors)
    );
    assert!(errors[0].message.contains("first defined at line 2"));

    let errors = load_err("- just\n- a list\n");
    assert_eq!((errors[0].line, errors[0].column), (1, 1));
}

#[test]
fn detects_processor_cycles() {
    let text = "\
sources:
  s: { type: stdin }
processors:
  a: { inputs: [s, c], plugin: builtin:zscore }
  b: { inputs: [a], plugin: builtin:zscore }
  c: { inputs: [b.alerts], plugin: builtin:zscore }
  d: { inputs: [d], plugin: builtin:zscore }
  e: { inputs: [a], plugin: builtin:zscore }
sinks:
  out: { type: console, inputs: [e] }
";
    let errors = load_err(text);
    let found: Vec<(usize, &str, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (4, "processors.a.inputs[1]", "cycle: a -> b -> c -> a"),
            (7, "processors.d.inputs[0]", "cycle: d -> d"),
        ]
    );
}

#[test]
fn unconsumed_outputs_are_fine() {
    load_ok(
        "sources:\n  s: { type: stdin }\n  t: { type: stdin }\nprocessors:\n  p: { inputs: [s], plugin: builtin:zscore }\n",
    );
}

#[test]
fn unknown_builtins_are_named_with_a_hint() {
    let text = "sources:\n  s: { type: stdin }\nprocessors:\n  \
           typo:\n    inputs: [s]\n    plugin: builtin:kv-parsr\n  \
           builtin:\n    inputs: [s]\n    plugin: builtin:kv-parser\n\
           sinks:\n  out: { type: console, inputs: [typo, builtin] }\n";
    let errors = load_str(Path::new("f.yaml"), text, &|_| None).unwrap_err();
    let found: Vec<(usize, &str)> = lines_and_keys(&errors);
    assert_eq!(
        found,
        [(6, "processors.typo.plugin")],
        "{}",
        render(&errors)
    );
    assert!(
        errors[0]
            .message
            .starts_with("unknown builtin plugin `kv-parsr`; builtins: kv-parser, ")
            && errors[0].message.ends_with("did you mean `kv-parser`?"),
        "{}",
        errors[0].message
    );
}

/// A duplicated component hides its first definition from the typed config;
/// the mistakes inside both definitions are still reported.
#[test]
fn a_duplicate_does_not_hide_the_mistakes_inside_either_definition() {
    let text = "sources:\n  s: { type: stdin }\nprocessors:\n  \
           p:\n    inputs: [nowhere]\n    plugin: builtin:thresold\n  \
           p:\n    inputs: [elsewhere]\n    plugin: builtin:kv-parsr\n\
           sinks:\n  out: { type: console, inputs: [p] }\n";
    let errors = load_str(Path::new("f.yaml"), text, &|_| None).unwrap_err();
    let found: Vec<(usize, &str)> = lines_and_keys(&errors);
    assert_eq!(
        found,
        [
            (5, "processors.p.inputs[0]"),
            (6, "processors.p.plugin"),
            (7, "processors.p"),
            (8, "processors.p.inputs[0]"),
            (9, "processors.p.plugin"),
        ],
        "{}",
        render(&errors)
    );
}

#[test]
fn unreadable_file_is_one_error_at_line_zero() {
    let errors = load(Path::new("/nonexistent/foghorn.yaml")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column), (0, 0));
    assert!(
        errors[0]
            .to_string()
            .starts_with("/nonexistent/foghorn.yaml:0:0: cannot read")
    );
}

/// A processor's `type` selects its settings from the processors'
/// registry; `plugin:` alone means `type: wasm`.
#[test]
fn processor_types_come_from_the_registry() {
    let config = load_ok(
        r#"
sources:
  s: { type: stdin }
processors:
  implied: { inputs: [s], plugin: builtin:kv-parser }
  explicit: { type: wasm, inputs: [s], plugin: builtin:kv-parser }
  critical:
    type: filter
    inputs: [implied.alerts]
    alerts: ['severity="critical"', 'kind=~"thresh.*"']
sinks:
  out: { type: console, inputs: [implied, explicit, critical.alerts] }
"#,
    );
    assert_eq!(config.processors["implied"].kind.type_name(), "wasm");
    assert_eq!(
        config.processors["explicit"].kind,
        config.processors["implied"].kind
    );
    let ProcessorKind::Filter(filter) = &config.processors["critical"].kind else {
        panic!("a filter: {:?}", config.processors["critical"].kind);
    };
    let written: Vec<String> = filter.alerts.0.iter().map(ToString::to_string).collect();
    assert_eq!(written, [r#"severity="critical""#, r#"kind=~"thresh.*""#]);
    assert!(filter.points.0.is_empty());
    assert_eq!(ProcessorKind::TYPES, ["wasm", "filter", "alerts"]);
}

#[test]
fn processor_type_mistakes_are_located() {
    let text = "sources:\n  s: { type: stdin }\nprocessors:\n  \
                none: { inputs: [s] }\n  \
                typo: { type: filtr, inputs: [s] }\n  \
                mixed: { type: filter, inputs: [s], plugin: builtin:zscore }\n  \
                bad:\n    type: filter\n    inputs: [s]\n    alerts: ['severity', 'kind=~\"(\"']\n\
                sinks:\n  out: { type: console, inputs: [none, typo, mixed, bad] }\n";
    let errors = load_err(text);
    assert_eq!(
        lines_and_keys(&errors),
        [
            (4, "processors.none"),
            (5, "processors.typo.type"),
            (6, "processors.mixed.plugin"),
            (10, "processors.bad.alerts[0]"),
        ],
        "{}",
        render(&errors)
    );
    assert!(
        errors[0].message.contains(
            "missing `plugin` (a WebAssembly component) or `type` (one of `wasm`, `filter`, `alerts`)"
        ),
        "{}",
        errors[0].message
    );
    assert!(
        errors[1].message.ends_with("did you mean `filter`?"),
        "{}",
        errors[1].message
    );
    assert!(
        errors[2].message.starts_with(
            "unknown field `plugin`; expected one of `type`, `inputs`, `points`, `alerts`"
        ),
        "{}",
        errors[2].message
    );
    assert!(
        errors[3].message.contains("needs an operator"),
        "{}",
        errors[3].message
    );
}

#[test]
fn alert_stage_receivers_are_sinks_reading_its_notifications() {
    let text = r#"sources:
  s: { type: stdin }
processors:
  p: { inputs: [s], plugin: builtin:kv-parser }
  notify:
    type: alerts
    inputs: [p.alerts]
    route:
      receivers: [hook]
      group_wait: 0s
      routes:
        - { matchers: ['severity=critical'], receivers: [pagr] }
sinks:
  hook: { type: webhook, inputs: [p], url: "http://127.0.0.1:9/x" }
  wrong: { type: webhook, inputs: [p.notifications], url: "ftp://x" }
"#;
    let errors = load_err(text);
    assert_eq!(
        lines_and_keys(&errors),
        [
            (8, "processors.notify.route"),
            (14, "sinks.hook.inputs"),
            (15, "sinks.wrong.inputs[0]"),
            (15, "sinks.wrong.url"),
        ],
        "{}",
        render(&errors)
    );
    assert!(
        errors[0]
            .message
            .starts_with("receiver `pagr` is not a sink"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[1]
            .message
            .contains("add `notify.notifications` to its inputs")
    );
    assert!(errors[2].message.contains("`p` is not an alert stage"));
    assert!(!render(&errors).contains("ftp://x"), "a URL is a secret");
}

#[test]
fn file_globs_are_checked_with_their_place() {
    let text = "\
sources:
  both: { type: file, path: a.log, include: ['*.log'] }
  none: { type: file }
  bad:
    type: file
    include: ['logs/*.log', 'logs/[z-a.log']
    exclude: ['***']
    path_tag: ''
    max_open_files: 0
  lone: { type: file, path: a.log, exclude: ['*.gz'] }
sinks:
  out: { type: console, inputs: [both, none, bad, lone] }
";
    let errors = load_err(text);
    assert_eq!(
        lines_and_keys(&errors),
        [
            (2, "sources.both.include"),
            (3, "sources.none"),
            (6, "sources.bad.include[1]"),
            (7, "sources.bad.exclude[0]"),
            (8, "sources.bad.path_tag"),
            (9, "sources.bad.max_open_files"),
            (10, "sources.lone.exclude"),
        ],
        "{}",
        render(&errors)
    );
}

#[test]
fn config_files_put_each_file_s_text_into_the_plugin_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("training.csv"), "a,b\n1,2\n").unwrap();
    let file = dir.path().join("pipeline.yaml");
    let text = r#"
sources:
  in: { type: stdin }
processors:
  forest:
    inputs: [in]
    plugin: builtin:isolation-forest
    config_files: { training_csv: training.csv }
    config: { fields: [a, b] }
sinks:
  out: { type: console, inputs: [forest] }
"#;
    let config = load_str(&file, text, &env_from(&[])).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(
        wasm(&config, "forest").config,
        json!({ "fields": ["a", "b"], "training_csv": "a,b\n1,2\n" })
    );

    let broken = text
        .replace("training.csv }", "missing.csv }")
        .replace("config: { fields: [a, b] }", "config: { fields: [a, b] }\n  twice:\n    inputs: [in]\n    plugin: builtin:isolation-forest\n    config_files: { training_csv: training.csv }\n    config: { training_csv: inline }");
    let errors = match load_str(&file, &broken, &env_from(&[])) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors,
    };
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "processors.forest.config_files.training_csv",
            "processors.twice.config_files.training_csv"
        ],
        "{}",
        render(&errors)
    );
    assert!(
        errors[0].message.contains("missing.csv"),
        "{}",
        render(&errors)
    );
    assert!(errors[1].message.contains("set too"), "{}", render(&errors));
}
