//! `deploy/`: the systemd unit passes `systemd-analyze verify` and is
//! hardened to an exposure `systemd-analyze security` calls OK; the agent
//! speaks the notification protocol the unit's `Type=notify` waits on
//! (READY=1 only once `/ready` is 200, RELOADING=1 then READY=1 on SIGHUP,
//! STOPPING=1 on SIGTERM, WATCHDOG=1 pings); `install.sh` stages a tree
//! into a DESTDIR, idempotently; the Kubernetes manifests validate against
//! the Kubernetes OpenAPI schemas (`kubernetes-validate --strict`) and
//! their pipelines against `foghorn validate`; the compose file validates
//! against the Compose Specification's schema (`check-jsonschema`) and its
//! Prometheus config against `promtool`; the Containerfile is checked by a
//! parser (`dockerfile-parse`). No container engine runs here, so images
//! are not built.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use foghorn_tests::agent::{Agent, binary, shared_cache_dir};
use foghorn_tests::http::get;
use foghorn_tests::wait;

/// The lowest exposure `systemd-analyze security` rates "OK" is 2.0 or
/// less ("MEDIUM" above); the unit scores 1.6.
const MAX_EXPOSURE: f64 = 2.0;

/// Kubernetes versions the manifests are checked against: native sidecars
/// (`restartPolicy: Always` in an init container) are on by default from
/// 1.29, and the newest schema `kubernetes-validate` bundles.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.29.0", "1.37.0"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn deploy(path: &str) -> PathBuf {
    repo().join("deploy").join(path)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (installed by scripts/test.sh)"))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every YAML document of `path` as JSON (PyYAML, a dependency of
/// kubernetes-validate).
fn yaml_documents(path: &Path) -> Vec<serde_json::Value> {
    let output = run(Command::new("python3").args([
        "-c",
        "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))",
        path.to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", text(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The unit, with the binary it runs pointed at the one under test:
/// `systemd-analyze verify` checks that every `Exec*=` program exists.
fn unit_for_test(dir: &Path) -> PathBuf {
    let unit = std::fs::read_to_string(deploy("systemd/foghorn.service")).unwrap();
    assert!(unit.contains("/usr/local/bin/foghorn"), "{unit}");
    let path = dir.join("foghorn.service");
    let bin = binary();
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/foghorn", bin.to_str().unwrap()),
    )
    .unwrap();
    path
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_test(dir.path());
    let output = run(Command::new("systemd-analyze").arg("verify").arg(&unit));
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(
        !said.contains("foghorn.service"),
        "verify complained about the unit:\n{said}"
    );
    let unit = std::fs::read_to_string(&unit).unwrap();
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "StateDirectory=foghorn",
        "ConfigurationDirectory=foghorn",
        "Environment=FOGHORN_DATA_DIR=%S/foghorn",
        "WatchdogSec=",
    ] {
        assert!(unit.lines().any(|l| l.starts_with(line)), "no {line}");
    }
    let validate = format!("ExecStartPre={} validate -c ", binary().display());
    assert!(unit.contains(&validate), "no {validate}");
}

#[test]
fn the_systemd_unit_is_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_test(dir.path());
    // --threshold: a non-zero exit above it (exposure x 10).
    let threshold = format!("--threshold={}", (MAX_EXPOSURE * 10.0) as u32);
    let output = run(Command::new("systemd-analyze")
        .args(["security", "--offline=yes", &threshold, "--no-pager"])
        .arg(&unit));
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    let exposure: f64 = said
        .lines()
        .find_map(|line| line.split_once("Overall exposure level for foghorn.service: "))
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure in:\n{said}"));
    assert!(exposure <= MAX_EXPOSURE, "exposure {exposure}:\n{said}");
    assert!(said.contains(&format!("{exposure} OK")), "{said}");
    // What is deliberately left open is what the agent needs, and says so.
    for needed in [
        "MemoryDenyWriteExecute=",
        "PrivateDevices=",
        "PrivateNetwork=",
    ] {
        assert!(
            said.lines()
                .any(|line| line.starts_with('✗') && line.contains(needed)),
            "{needed} should be unset for a reason:\n{said}"
        );
    }
    let unit = std::fs::read_to_string(&unit).unwrap();
    assert!(
        !unit.contains("\nMemoryDenyWriteExecute="),
        "wasmtime's JIT"
    );
    assert!(unit.contains("# MemoryDenyWriteExecute= is deliberately NOT set"));
}

/// The notifications the agent sends, read from the socket it was given.
struct NotifySocket {
    socket: UnixDatagram,
    /// Every message so far.
    seen: Vec<String>,
}

impl NotifySocket {
    fn bind(path: &Path) -> Self {
        let socket = UnixDatagram::bind(path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Self {
            socket,
            seen: Vec::new(),
        }
    }

    /// The next message that is not a watchdog ping.
    fn next(&mut self, what: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        loop {
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; got {:?}",
                self.seen
            );
            let Ok(n) = self.socket.recv(&mut buf) else {
                continue;
            };
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.seen.push(message.clone());
            if message != "WATCHDOG=1\n" {
                return message;
            }
        }
    }

    /// Wait for a watchdog ping; panics on any other message.
    fn watchdog(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                let message = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.seen.push(message.clone());
                assert_eq!(message, "WATCHDOG=1\n", "{:?}", self.seen);
                return;
            }
        }
        panic!("no WATCHDOG=1 within {timeout:?}: {:?}", self.seen);
    }
}

fn notify_pipeline(dir: &Path) -> PathBuf {
    let config = dir.join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
api: {{ listen: "127.0.0.1:0" }}
sources:
  input: {{ type: file, path: {input}, poll_interval: 20ms }}
processors:
  parse: {{ inputs: [input], plugin: "builtin:kv-parser" }}
sinks:
  out: {{ type: blackhole, inputs: [parse] }}
"#,
            data = dir.join("data").display(),
            input = dir.join("in.log").display(),
        ),
    )
    .unwrap();
    config
}

#[test]
fn the_agent_notifies_systemd_when_ready_reloading_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let config = notify_pipeline(dir.path());
    let socket_path = dir.path().join("notify.sock");
    let mut socket = NotifySocket::bind(&socket_path);
    let mut agent = Agent::start(
        dir.path(),
        &config,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            // A ping every 100 ms; no WATCHDOG_PID: any pid may ping.
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    let api = agent.api_addr();
    // The file it tails does not exist yet: the source is starting, /ready
    // is 503, and the agent pings the watchdog but is not ready.
    let (status, body) = wait::until("/ready to answer", Duration::from_secs(30), || {
        get(api, "/ready")
    });
    assert_eq!(status, 503, "{body}");
    socket.watchdog(Duration::from_secs(30));
    assert_eq!(get(api, "/ready").unwrap().0, 503);
    assert!(
        socket.seen.iter().all(|m| m == "WATCHDOG=1\n"),
        "{:?}",
        socket.seen
    );

    // The file appears: the source connects, and only then READY=1.
    std::fs::write(dir.path().join("in.log"), "T:1\n").unwrap();
    let ready = socket.next("READY=1", Duration::from_secs(30));
    assert!(ready.starts_with("READY=1\n"), "{ready}");
    assert!(ready.contains("STATUS=running 3 component(s)\n"), "{ready}");
    let (status, body) = get(api, "/ready").unwrap();
    assert_eq!(status, 200, "READY=1 before /ready: {body}");

    // A reload: RELOADING=1 with the monotonic time, then READY=1.
    agent.hangup();
    let reloading = socket.next("RELOADING=1", Duration::from_secs(30));
    let mut lines = reloading.lines();
    assert_eq!(lines.next(), Some("RELOADING=1"), "{reloading}");
    let usec: u64 = lines
        .next()
        .and_then(|l| l.strip_prefix("MONOTONIC_USEC="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no MONOTONIC_USEC in {reloading:?}"));
    assert!(usec > 0);
    let ready = socket.next("READY=1 after the reload", Duration::from_secs(30));
    assert!(ready.starts_with("READY=1\n"), "{ready}");
    agent.wait_for_log("config reloaded", Duration::from_secs(30));

    // SIGTERM: STOPPING=1 as the drain begins, then a clean exit.
    let exit = agent.terminate();
    assert!(exit.success(), "{}", agent.logs());
    let stopping = socket.next("STOPPING=1", Duration::from_secs(5));
    assert!(stopping.starts_with("STOPPING=1\n"), "{stopping}");
}

#[test]
fn a_source_that_never_connects_does_not_hold_ready_back_forever() {
    let dir = tempfile::tempdir().unwrap();
    let config = notify_pipeline(dir.path());
    let socket_path = dir.path().join("notify.sock");
    let mut socket = NotifySocket::bind(&socket_path);
    let started = Instant::now();
    let mut agent = Agent::start(
        dir.path(),
        &config,
        &[("NOTIFY_SOCKET", socket_path.to_str().unwrap())],
    );
    let api = agent.api_addr();
    // No in.log ever: READY=1 comes after the agent's 10 s bound, naming
    // the source still starting, so a unit's start does not time out.
    let ready = socket.next("READY=1", Duration::from_secs(60));
    assert!(started.elapsed() >= Duration::from_secs(10), "{ready}");
    assert_eq!(
        ready,
        "READY=1\nSTATUS=running 3 component(s); starting: input\n"
    );
    assert_eq!(get(api, "/ready").unwrap().0, 503);
    assert!(agent.terminate().success());
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn install_sh_stages_the_binary_unit_and_pipeline_into_destdir() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let install = |extra: &[&str]| {
        let output = run(Command::new("bash")
            .arg(deploy("systemd/install.sh"))
            .args(["--prefix", "/opt/foghorn", "--binary"])
            .arg(binary())
            .args(extra)
            .env("DESTDIR", &root));
        assert!(output.status.success(), "{}", text(&output));
        text(&output)
    };
    let first = install(&[]);
    assert!(
        first.contains("DESTDIR set: not running systemctl"),
        "{first}"
    );

    let bin = root.join("opt/foghorn/bin/foghorn");
    let unit = root.join("etc/systemd/system/foghorn.service");
    let pipeline = root.join("etc/foghorn/pipeline.yaml");
    assert_eq!(
        std::fs::read(&bin).unwrap(),
        std::fs::read(binary()).unwrap()
    );
    assert_eq!(mode(&bin), 0o755);
    assert_eq!(mode(&unit), 0o644);
    assert_eq!(
        std::fs::read_to_string(&pipeline).unwrap(),
        std::fs::read_to_string(repo().join("config/agent.yaml")).unwrap()
    );
    let unit_text = std::fs::read_to_string(&unit).unwrap();
    assert!(
        unit_text
            .contains("\nExecStart=/opt/foghorn/bin/foghorn run -c /etc/foghorn/pipeline.yaml\n")
    );
    assert!(unit_text.contains(
        "\nExecStartPre=/opt/foghorn/bin/foghorn validate -c /etc/foghorn/pipeline.yaml\n"
    ));
    assert!(!unit_text.contains("/usr/local/bin"));
    let mut files: Vec<String> = walk(&root)
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "etc/foghorn/pipeline.yaml",
            "etc/systemd/system/foghorn.service",
            "opt/foghorn/bin/foghorn"
        ]
    );

    // The installed pipeline is valid with the unit's data directory.
    let output = run(Command::new(&bin)
        .args(["validate", "-c"])
        .arg(&pipeline)
        .env("FOGHORN_DATA_DIR", dir.path().join("state"))
        .env("FOGHORN_CACHE_DIR", shared_cache_dir()));
    assert!(output.status.success(), "{}", text(&output));

    // Again, after the operator edited the pipeline: nothing changes.
    std::fs::write(&pipeline, "# mine\n").unwrap();
    let second = install(&["--config", "/nonexistent/is/not/read.yaml"]);
    assert!(!second.contains("installed"), "{second}");
    assert!(second.contains("unchanged  "), "{second}");
    assert!(second.contains("kept  "), "{second}");
    assert_eq!(std::fs::read_to_string(&pipeline).unwrap(), "# mine\n");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The containers of a Deployment's or DaemonSet's pod, init containers
/// (native sidecars) included.
fn containers(workload: &serde_json::Value) -> Vec<&serde_json::Value> {
    let pod = &workload["spec"]["template"]["spec"];
    ["initContainers", "containers"]
        .iter()
        .filter_map(|key| pod[key].as_array())
        .flatten()
        .collect()
}

#[test]
fn the_kubernetes_manifests_validate_and_run_the_agent_safely() {
    let manifests = [
        deploy("kubernetes/sidecar.yaml"),
        deploy("kubernetes/daemonset.yaml"),
    ];
    for version in KUBERNETES_VERSIONS {
        let output = run(Command::new("python3")
            .args([
                "-m",
                "kubernetes_validate",
                "--strict",
                "--kubernetes-version",
                version,
            ])
            .args(&manifests));
        let said = text(&output);
        assert!(output.status.success(), "Kubernetes {version}:\n{said}");
        assert!(!said.contains("WARN"), "Kubernetes {version}:\n{said}");
        assert_eq!(said.matches(" passed for resource ").count(), 7, "{said}");
    }

    let dir = tempfile::tempdir().unwrap();
    for manifest in &manifests {
        let documents = yaml_documents(manifest);
        let kinds: Vec<&str> = documents
            .iter()
            .filter_map(|d| d["kind"].as_str())
            .collect();
        assert!(kinds.contains(&"ConfigMap"), "{kinds:?}");

        // The pipeline in the ConfigMap passes `foghorn validate`.
        let pipeline = documents
            .iter()
            .find(|d| d["kind"] == "ConfigMap")
            .and_then(|d| d["data"]["pipeline.yaml"].as_str())
            .expect("a ConfigMap with pipeline.yaml");
        let path = dir.path().join("pipeline.yaml");
        std::fs::write(&path, pipeline).unwrap();
        let output = run(Command::new(binary())
            .args(["validate", "-c"])
            .arg(&path)
            .env("FOGHORN_DATA_DIR", dir.path().join("data"))
            .env("FOGHORN_CACHE_DIR", shared_cache_dir()));
        assert!(
            output.status.success(),
            "{}: {}",
            manifest.display(),
            text(&output)
        );
        assert!(
            pipeline.contains("listen: 0.0.0.0:9599"),
            "the probes' port"
        );
        assert!(
            pipeline.contains("listen: 0.0.0.0:9598"),
            "the scraped port"
        );

        let workload = documents
            .iter()
            .find(|d| d["kind"] == "Deployment" || d["kind"] == "DaemonSet")
            .unwrap();
        let pod = &workload["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(pod["automountServiceAccountToken"], false);
        let annotations = &workload["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(annotations["prometheus.io/port"], "9598");
        for container in containers(workload) {
            let security = &container["securityContext"];
            assert_eq!(security["readOnlyRootFilesystem"], true, "{container}");
            assert_eq!(security["allowPrivilegeEscalation"], false, "{container}");
            assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
            assert!(container["resources"]["requests"]["memory"].is_string());
            assert!(container["resources"]["limits"]["memory"].is_string());
        }
        let agent = containers(workload)
            .into_iter()
            .find(|c| c["name"] == "foghorn")
            .expect("the foghorn container");
        let port = |name: &str| {
            agent["ports"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .map(|p| p["containerPort"].as_u64().unwrap())
        };
        assert_eq!(port("api"), Some(9599));
        assert_eq!(port("metrics"), Some(9598));
        assert_eq!(agent["livenessProbe"]["httpGet"]["path"], "/health");
        assert_eq!(agent["livenessProbe"]["httpGet"]["port"], "api");
        assert_eq!(agent["readinessProbe"]["httpGet"]["path"], "/ready");
        assert_eq!(agent["readinessProbe"]["httpGet"]["port"], "api");
        let mounts = agent["volumeMounts"].to_string();
        assert!(mounts.contains("/etc/foghorn") && mounts.contains("/var/lib/foghorn"));
    }

    // The sidecar shares the application's log volume, read-only.
    let sidecar = yaml_documents(&deploy("kubernetes/sidecar.yaml"));
    let deployment = sidecar.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let mounts = |name: &str| {
        containers(deployment)
            .into_iter()
            .find(|c| c["name"] == name)
            .unwrap()["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "logs")
            .cloned()
            .unwrap()
    };
    assert_eq!(mounts("foghorn")["mountPath"], mounts("web")["mountPath"]);
    assert_eq!(mounts("foghorn")["readOnly"], true);
}

#[test]
fn the_compose_file_validates_and_wires_prometheus_and_grafana() {
    let compose = deploy("container/compose.yaml");
    let output = run(Command::new("python3")
        .args([
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
        ])
        .arg(&compose));
    assert!(output.status.success(), "{}", text(&output));

    let document = yaml_documents(&compose).remove(0);
    let services = &document["services"];
    for service in ["foghorn", "prometheus", "grafana"] {
        assert!(services[service].is_object(), "no {service}");
    }
    assert_eq!(
        services["foghorn"]["build"]["dockerfile"],
        "deploy/container/Containerfile"
    );
    // Every bind mount's source exists (paths relative to the compose file).
    let mut sources = Vec::new();
    for service in services.as_object().unwrap().values() {
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = volume.as_str().unwrap().split(':').next().unwrap();
            if source.starts_with('.') {
                let path = deploy("container").join(source);
                assert!(path.exists(), "{} is missing", path.display());
                sources.push(source.to_owned());
            }
        }
    }
    for wanted in [
        "../../grafana/provisioning",
        "../../grafana/dashboards",
        "./prometheus.yml",
    ] {
        assert!(
            sources.iter().any(|s| s == wanted),
            "{wanted} not mounted: {sources:?}"
        );
    }

    // Prometheus's config, with the rules where the compose file mounts them.
    let dir = tempfile::tempdir().unwrap();
    let rules = repo().join("grafana/prometheus");
    let config = std::fs::read_to_string(deploy("container/prometheus.yml"))
        .unwrap()
        .replace("/etc/prometheus/rules", rules.to_str().unwrap());
    assert!(config.contains("foghorn:9598"), "{config}");
    assert!(config.contains("job_name: foghorn"), "the dashboards' job");
    let path = dir.path().join("prometheus.yml");
    std::fs::write(&path, config).unwrap();
    let output = run(Command::new("promtool")
        .args(["check", "config"])
        .arg(&path));
    assert!(output.status.success(), "{}", text(&output));
}

#[test]
fn the_containerfile_is_multi_stage_and_runs_unprivileged() {
    let script = r#"
import json, sys
from dockerfile_parse import DockerfileParser
parser = DockerfileParser(fileobj=open(sys.argv[1], "rb"))
print(json.dumps({"structure": parser.structure, "baseimage": parser.baseimage}))
"#;
    let output = run(Command::new("python3")
        .args(["-c", script])
        .arg(deploy("container/Containerfile")));
    assert!(output.status.success(), "{}", text(&output));
    let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let instructions: Vec<(String, String)> = parsed["structure"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["instruction"].as_str().unwrap().to_owned(),
                i["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let froms: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, (i, _))| i == "FROM")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(froms.len(), 2, "a build stage and a runtime stage");
    let (build, runtime) = instructions.split_at(froms[1]);
    let has = |stage: &[(String, String)], instruction: &str, needle: &str| {
        stage
            .iter()
            .any(|(i, v)| i == instruction && v.contains(needle))
    };
    assert!(has(build, "RUN", "rustup target add wasm32-wasip2"));
    assert!(has(
        build,
        "RUN",
        "cargo build --release --locked -p foghorn"
    ));
    assert!(
        runtime[0]
            .1
            .starts_with("docker.io/library/debian:bookworm-slim")
    );
    assert!(has(runtime, "COPY", "--from=build"));
    assert!(has(runtime, "EXPOSE", "9598") && has(runtime, "EXPOSE", "9599"));
    assert!(has(runtime, "VOLUME", "/var/lib/foghorn"));
    // Nothing fetched by URL, and the last USER is not root.
    assert!(
        !instructions
            .iter()
            .any(|(i, v)| i == "ADD" && v.contains("://"))
    );
    let user = runtime
        .iter()
        .rev()
        .find(|(i, _)| i == "USER")
        .map(|(_, v)| v.clone())
        .expect("a USER in the runtime stage");
    let uid = user.split(':').next().unwrap();
    assert!(!matches!(uid, "root" | "0"), "runs as {user}");
    assert!(
        uid.parse::<u32>().is_ok_and(|uid| uid >= 1000),
        "a numeric non-root uid lets Kubernetes check runAsNonRoot: {user}"
    );
    // The image's user is the one the Kubernetes manifests run as.
    for manifest in ["kubernetes/sidecar.yaml", "kubernetes/daemonset.yaml"] {
        let manifest = std::fs::read_to_string(deploy(manifest)).unwrap();
        assert!(manifest.contains(&format!("runAsUser: {uid}")));
    }
    // The ignore file keeps the build context small.
    let ignore = std::fs::read_to_string(deploy("container/Containerfile.dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "target/"));
}
