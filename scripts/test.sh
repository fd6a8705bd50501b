#!/usr/bin/env bash
# Install what the tests need, build once, run the whole suite.
#
#   bash scripts/test.sh
#
# Installs (when missing): the pinned Rust toolchain with the wasm32-wasip2
# target (rust-toolchain.toml), cargo-nextest, socat, python3, Prometheus,
# Alertmanager, Chromium, Node.js and npm (Debian's packages; only loopback
# ports are used; Chromium renders the HTML reports headless; npm fetches
# componentize-js for the JavaScript plugins and the Grafana schema check's
# packages), aiosmtpd, grpcio,
# opentelemetry-proto, componentize-py and the other Python peers (PyPI).
# Then builds
# the workspace (agent, bundled plugins, fixtures, tests) once and runs every
# test with nextest, plus the doctests. In CI (CI=true) a peer that cannot be
# installed is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

log "Rust toolchain and wasm32-wasip2 target (from rust-toolchain.toml)"
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

missing=()
command -v socat >/dev/null 2>&1 || missing+=(socat)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# systemd-analyze verifies and scores deploy/systemd/foghorn.service.
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
if [ ${#missing[@]} -gt 0 ]; then
    log "Installing test peers: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
for tool in socat python3 prometheus prometheus-alertmanager chromium node npm systemd-analyze; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is required by the tests and could not be installed" >&2; exit 1; }
done

# Python peers: the SMTP server of the email tests, the OTLP receiver (the
# official protobuf definitions and gRPC), the OpenTelemetry SDK with its
# OTLP/HTTP exporter (a real client of the http source), pandas and
# scikit-learn (the references the plugins and examples are compared with),
# DuckDB (the video example's queries over the archive's files) and
# componentize-py (which builds the Python plugins; the JavaScript ones take
# componentize-js from npm when they are built); the deploy/ checks:
# kubernetes-validate (the Kubernetes OpenAPI schemas, offline),
# check-jsonschema (the Compose Specification's schema, vendored) and
# dockerfile-parse (the Containerfile).
python_packages=(aiosmtpd grpcio opentelemetry-proto opentelemetry-sdk opentelemetry-exporter-otlp-proto-http confluent-kafka pandas scikit-learn duckdb componentize-py kubernetes-validate check-jsonschema dockerfile-parse)
python_peers="import aiosmtpd, grpc, confluent_kafka, pandas, sklearn, duckdb, componentize_py, kubernetes_validate, check_jsonschema, dockerfile_parse, yaml; from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc; from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter; import opentelemetry.sdk.metrics"
if ! python3 -c "$python_peers" >/dev/null 2>&1; then
    log "Installing ${python_packages[*]} from PyPI"
    python3 -m pip install --quiet "${python_packages[@]}" \
        || python3 -m pip install --quiet --break-system-packages "${python_packages[@]}"
fi
python3 -c "$python_peers" || { echo "error: ${python_packages[*]} are required by the tests and could not be installed" >&2; exit 1; }

# A real Kafka broker: tansu, with its SQLite engine (libsql). Built from
# crates.io (about 15 minutes on two cores), once per machine.
tansu_has_sqlite() {
    command -v tansu >/dev/null 2>&1 || return 1
    local probe found=0
    probe=$(mktemp -d)
    # It serves until stopped: give it 3 s to say it is ready.
    (cd "$probe" && timeout 3 tansu broker --storage-engine sqlite://probe.db \
        --listener-url tcp://127.0.0.1:0 --advertised-listener-url tcp://127.0.0.1:0 \
        >out.log 2>&1) || true
    grep -q "ready in" "$probe/out.log" || found=1
    rm -rf "$probe"
    return $found
}
if ! tansu_has_sqlite; then
    log "Installing tansu (a Kafka broker) with cargo install"
    cargo install tansu --locked --features dynostore,libsql
fi
tansu_has_sqlite || { echo "error: tansu with its sqlite engine is required by the Kafka tests and could not be installed" >&2; exit 1; }

# The Grafana dashboards' schema check (grafana/schema-check): @grafana/schema,
# ts-json-schema-generator and ajv from npm, pinned by its package-lock.json,
# installed once into target/ and again only when the lock file changes.
schema_check=target/grafana-schema-check
if ! cmp -s grafana/schema-check/package-lock.json "$schema_check/package-lock.json" \
    || [ ! -d "$schema_check/node_modules/ajv" ]; then
    log "Installing the Grafana schema check's npm packages into $schema_check"
    mkdir -p "$schema_check"
    cp grafana/schema-check/package.json grafana/schema-check/package-lock.json "$schema_check/"
    (cd "$schema_check" && npm ci --no-audit --no-fund --loglevel=error)
fi

if ! cargo nextest --version >/dev/null 2>&1; then
    log "Installing cargo-nextest"
    cargo install cargo-nextest --locked
fi

# Optimised, as the README's demo builds the agent: the dependencies
# (wasmtime, librdkafka, ...) are compiled once for both commands, and the
# agent under test is the one users run.
log "Building the workspace once, optimised (agent, plugins, fixtures, tests)"
cargo build --workspace --bins --locked --release
cargo nextest run --workspace --locked --release --no-run

log "Running the doctests"
cargo test --workspace --locked --release --doc
log "Running the tests"
cargo nextest run --workspace --locked --release --no-fail-fast --failure-output final

# The plugin-output property test at full size: a million cases take about
# 30 s (the run above does 10,000).
log "Running the plugin-output property test, 1,000,000 cases"
# (--workspace: the features of the build above, so nothing is rebuilt.)
PROPTEST_CASES=1000000 cargo nextest run --workspace --release --locked \
    --failure-output final processors::wasm::proptests
