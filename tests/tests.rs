//! foghorn's integration tests: the agent runs as a real process, against
//! real peers (socat pseudo-terminals, HTTP scrapes), with real files.
//!
//! One test binary (ripgrep's layout); one module per area.

mod alerting;
mod config_errors;
mod deploy;
mod file_globs;
mod fleet;
mod grafana;
mod health;
mod hostile_plugin;
mod http_source;
mod kafka;
mod kill_storm;
mod machine_anomalies;
mod metrics;
mod native_processor;
mod network_analytics;
mod otlp;
mod plugin_authoring;
mod plugin_docs;
mod plugin_faults;
mod plugin_inspect;
mod plugin_list;
mod product_lab;
mod reload;
mod replay;
mod serial_bench;
mod serial_reconnect;
mod shutdown;
mod snapshot_restore;
mod video_telemetry;
