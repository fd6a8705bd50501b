//! Internal events, one type each: `emit()` logs and updates the metric.
//!
//! Modelled on Vector's `internal_events`: a component says what happened
//! (`EventsReceived { .. }.emit()`) and this module decides how it is logged
//! and counted.

use std::time::Duration;

use super::health::{ComponentStatus, health};
use super::metrics::metrics;
use crate::event::Alert;

/// A component received events (records, points or alerts).
#[derive(Debug)]
pub struct EventsReceived<'a> {
    /// Component name.
    pub component: &'a str,
    /// How many.
    pub count: usize,
    /// Raw bytes, for sources.
    pub bytes: usize,
}

impl EventsReceived<'_> {
    /// Count it.
    pub fn emit(self) {
        let m = metrics();
        m.received_events
            .with_label_values(&[self.component])
            .inc_by(self.count as u64);
        if self.bytes > 0 {
            m.received_bytes
                .with_label_values(&[self.component])
                .inc_by(self.bytes as u64);
        }
        tracing::trace!(
            component = self.component,
            count = self.count,
            bytes = self.bytes,
            "events received"
        );
    }
}

/// A component sent events downstream.
#[derive(Debug)]
pub struct EventsSent<'a> {
    /// Component name.
    pub component: &'a str,
    /// Which output: `records`, `points` or `alerts`.
    pub output: &'a str,
    /// How many.
    pub count: usize,
}

impl EventsSent<'_> {
    /// Count it.
    pub fn emit(self) {
        metrics()
            .sent_events
            .with_label_values(&[self.component, self.output])
            .inc_by(self.count as u64);
    }
}

/// A component rejected items (a malformed line, a failed write).
#[derive(Debug)]
pub struct ItemsRejected<'a> {
    /// Component name.
    pub component: &'a str,
    /// A short, fixed reason for the metric label, e.g. `plugin_rejected`.
    pub reason: &'a str,
    /// How many.
    pub count: usize,
    /// An example of what went wrong, for the log.
    pub example: &'a str,
}

impl ItemsRejected<'_> {
    /// Log and count it.
    pub fn emit(self) {
        metrics()
            .errors
            .with_label_values(&[self.component, self.reason])
            .inc_by(self.count as u64);
        tracing::debug!(
            component = self.component,
            reason = self.reason,
            count = self.count,
            example = self.example,
            "items rejected"
        );
    }
}

/// A component failed at something other than one item (I/O, a peer).
pub struct ComponentError<'a> {
    /// Component name.
    pub component: &'a str,
    /// A short, fixed reason for the metric label, e.g. `write_failed`.
    pub reason: &'a str,
    /// What happened.
    pub error: &'a (dyn std::fmt::Display + 'a),
}

impl ComponentError<'_> {
    /// Log and count it.
    pub fn emit(self) {
        metrics()
            .errors
            .with_label_values(&[self.component, self.reason])
            .inc();
        tracing::warn!(
            component = self.component,
            reason = self.reason,
            "{}",
            self.error
        );
    }
}

/// How a plugin call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginFailureKind {
    /// The guest trapped (a panic, an unreachable, a bad memory access).
    Trap,
    /// The call ran past its time limit.
    Timeout,
    /// The guest tried to grow memory past its limit.
    Memory,
    /// The guest returned output that breaks the contract (indexes out of
    /// range, lengths that disagree, oversized fields or snapshot).
    InvalidOutput,
}

impl PluginFailureKind {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginFailureKind::Trap => "trap",
            PluginFailureKind::Timeout => "timeout",
            PluginFailureKind::Memory => "memory",
            PluginFailureKind::InvalidOutput => "invalid_output",
        }
    }
}

/// A plugin call failed and its input was dead-lettered.
#[derive(Debug)]
pub struct PluginFailed<'a> {
    /// Component name.
    pub component: &'a str,
    /// The call: `process`, `tick`, ...
    pub call: &'a str,
    /// How it failed.
    pub kind: PluginFailureKind,
    /// The error, with the guest backtrace when there is one.
    pub error: &'a str,
    /// Items written to the dead-letter file.
    pub dead_lettered: usize,
}

impl PluginFailed<'_> {
    /// Log and count it.
    pub fn emit(self) {
        let m = metrics();
        m.plugin_failures
            .with_label_values(&[self.component, self.kind.as_str()])
            .inc();
        m.dead_lettered
            .with_label_values(&[self.component])
            .inc_by(self.dead_lettered as u64);
        tracing::error!(
            component = self.component,
            call = self.call,
            kind = self.kind.as_str(),
            dead_lettered = self.dead_lettered,
            "plugin failed: {}",
            self.error
        );
    }
}

/// A plugin was instantiated again after a failure.
#[derive(Debug)]
pub struct PluginRestarted<'a> {
    /// Component name.
    pub component: &'a str,
    /// Whether state was restored from a snapshot.
    pub restored: bool,
}

impl PluginRestarted<'_> {
    /// Log and count it.
    pub fn emit(self) {
        metrics()
            .plugin_restarts
            .with_label_values(&[self.component])
            .inc();
        tracing::warn!(
            component = self.component,
            restored_snapshot = self.restored,
            "plugin restarted"
        );
    }
}

/// A plugin failed too often within its restart window: it is reported
/// failed until a call succeeds again.
#[derive(Debug)]
pub struct PluginTripped<'a> {
    /// Component name.
    pub component: &'a str,
    /// Failures within the window.
    pub failures: usize,
    /// The window.
    pub window: std::time::Duration,
    /// The last failure.
    pub error: &'a str,
}

impl PluginTripped<'_> {
    /// Mark it failed in `/health`, and log.
    pub fn emit(self) {
        let reason = format!(
            "plugin failed {} times within {}: {}",
            self.failures,
            crate::settings::format_duration(self.window),
            self.error
        );
        tracing::error!(
            component = self.component,
            failures = self.failures,
            "{reason}; restarts back off and its input goes to the dead letter"
        );
        health().set(self.component, ComponentStatus::Failed(reason));
    }
}

/// A plugin that was reported failed works again.
#[derive(Debug)]
pub struct PluginRecovered<'a> {
    /// Component name.
    pub component: &'a str,
}

impl PluginRecovered<'_> {
    /// Mark it running in `/health`, and log.
    pub fn emit(self) {
        tracing::info!(component = self.component, "plugin works again");
        health().running(self.component);
    }
}

/// Input reached a processor while its plugin was down, waiting to be
/// restarted, and went to the dead letter.
#[derive(Debug)]
pub struct InputDeadLettered<'a> {
    /// Component name.
    pub component: &'a str,
    /// Items written.
    pub count: usize,
}

impl InputDeadLettered<'_> {
    /// Count it.
    pub fn emit(self) {
        metrics()
            .dead_lettered
            .with_label_values(&[self.component])
            .inc_by(self.count as u64);
        tracing::debug!(
            component = self.component,
            count = self.count,
            "plugin down: input dead-lettered"
        );
    }
}

/// A plugin snapshot was saved.
#[derive(Debug)]
pub struct SnapshotSaved<'a> {
    /// Component name.
    pub component: &'a str,
    /// Its size.
    pub bytes: usize,
}

impl SnapshotSaved<'_> {
    /// Log and count it.
    pub fn emit(self) {
        metrics()
            .plugin_snapshots
            .with_label_values(&[self.component])
            .inc();
        tracing::debug!(
            component = self.component,
            bytes = self.bytes,
            "snapshot saved"
        );
    }
}

/// A plugin call returned (or failed).
#[derive(Debug)]
pub struct PluginCalled<'a> {
    /// Component name.
    pub component: &'a str,
    /// The call: `process`, `tick`, `snapshot`, ...
    pub call: &'a str,
    /// How long it ran.
    pub duration: Duration,
}

impl PluginCalled<'_> {
    /// Record it.
    pub fn emit(self) {
        metrics()
            .plugin_call_duration
            .with_label_values(&[self.component, self.call])
            .observe(self.duration.as_secs_f64());
    }
}

/// A batch went through a component.
#[derive(Debug)]
pub struct BatchProcessed<'a> {
    /// Component name.
    pub component: &'a str,
    /// How long it took.
    pub duration: Duration,
}

impl BatchProcessed<'_> {
    /// Record it.
    pub fn emit(self) {
        metrics()
            .batch_duration
            .with_label_values(&[self.component])
            .observe(self.duration.as_secs_f64());
    }
}

/// A source lost its device or peer and will try again.
pub struct SourceReconnecting<'a> {
    /// Component name.
    pub component: &'a str,
    /// What it was connected to.
    pub target: &'a str,
    /// Why.
    pub error: &'a (dyn std::fmt::Display + 'a),
    /// How long until the next try.
    pub backoff: Duration,
}

impl SourceReconnecting<'_> {
    /// Log and count it; the source is not ready until it connects again.
    pub fn emit(self) {
        health().set(self.component, ComponentStatus::Starting);
        metrics()
            .reconnects
            .with_label_values(&[self.component])
            .inc();
        tracing::warn!(
            component = self.component,
            target = self.target,
            backoff = ?self.backoff,
            "{}; retrying",
            self.error
        );
    }
}

/// A source connected to its device or peer.
#[derive(Debug)]
pub struct SourceConnected<'a> {
    /// Component name.
    pub component: &'a str,
    /// What it connected to.
    pub target: &'a str,
}

impl SourceConnected<'_> {
    /// Log it; the source is ready.
    pub fn emit(self) {
        health().set(self.component, ComponentStatus::Running);
        tracing::info!(
            component = self.component,
            target = self.target,
            "connected"
        );
    }
}

/// A processor raised an alert.
#[derive(Debug)]
pub struct AlertRaised<'a> {
    /// The alert.
    pub alert: &'a Alert,
}

impl AlertRaised<'_> {
    /// Count it, and log it at debug level: alerts reach people through
    /// sinks (the console among them), so a terminal shows each once.
    pub fn emit(self) {
        let a = self.alert;
        metrics()
            .alerts
            .with_label_values(&[
                &*a.component,
                a.kind.as_str(),
                a.severity.as_str(),
                a.state.as_str(),
            ])
            .inc();
        tracing::debug!(
            component = &*a.component,
            kind = a.kind,
            severity = a.severity.as_str(),
            state = a.state.as_str(),
            series = %a.series,
            "{}",
            a.description
        );
    }
}

/// A full `drop_newest` buffer dropped a batch for a sink.
#[derive(Debug)]
pub struct BufferDropped<'a> {
    /// The sink whose buffer was full.
    pub component: &'a str,
    /// Events in the batch.
    pub count: usize,
}

impl BufferDropped<'_> {
    /// Count it (not logged: it happens per batch under load).
    pub fn emit(self) {
        metrics()
            .buffer_dropped
            .with_label_values(&[self.component])
            .inc_by(self.count as u64);
    }
}

/// A component left events out on purpose (a filter's matchers did not
/// select them): counted, not an error.
#[derive(Debug)]
pub struct EventsDiscarded<'a> {
    /// The component.
    pub component: &'a str,
    /// Why, e.g. `points_not_matched`.
    pub reason: &'static str,
    /// How many.
    pub count: usize,
}

impl EventsDiscarded<'_> {
    /// Count it (not logged: it is what the component is for).
    pub fn emit(self) {
        if self.count > 0 {
            metrics()
                .discarded
                .with_label_values(&[self.component, self.reason])
                .inc_by(self.count as u64);
        }
    }
}

/// A consumer's task has ended while its producer still runs: it failed.
#[derive(Debug)]
pub struct ConsumerGone<'a> {
    /// The producer.
    pub component: &'a str,
    /// The consumer that is gone.
    pub consumer: &'a str,
    /// Events it did not receive.
    pub count: usize,
}

impl ConsumerGone<'_> {
    /// Count it against the consumer, mark the consumer failed, and log.
    pub fn emit(self) {
        metrics()
            .errors
            .with_label_values(&[self.consumer, "consumer_gone"])
            .inc();
        health().fail(
            self.consumer,
            &format!("stopped while `{}` still sends to it", self.component),
        );
        tracing::debug!(
            component = self.component,
            consumer = self.consumer,
            count = self.count,
            "a consumer has stopped; its batches are marked failed"
        );
    }
}

/// A sink made events durable.
#[derive(Debug)]
pub struct EventsDelivered<'a> {
    /// The sink.
    pub component: &'a str,
    /// How many.
    pub count: usize,
}

impl EventsDelivered<'_> {
    /// Count it; a sink that was failing has recovered.
    pub fn emit(self) {
        health().recovered(self.component);
        metrics()
            .delivered
            .with_label_values(&[self.component])
            .inc_by(self.count as u64);
    }
}

/// A sink write failed and will be retried.
pub struct SinkRetrying<'a> {
    /// The sink.
    pub component: &'a str,
    /// What failed.
    pub error: &'a (dyn std::fmt::Display + 'a),
    /// The wait before the next try.
    pub backoff: std::time::Duration,
}

impl SinkRetrying<'_> {
    /// Log and count it; the sink is degraded until a write succeeds.
    pub fn emit(self) {
        health().set(
            self.component,
            ComponentStatus::Degraded(format!("{}; retrying", self.error)),
        );
        let m = metrics();
        m.sink_retries.with_label_values(&[self.component]).inc();
        m.errors
            .with_label_values(&[self.component, "write_failed"])
            .inc();
        tracing::warn!(
            component = self.component,
            backoff = ?self.backoff,
            "{}; retrying",
            self.error
        );
    }
}

/// A source that must not stall could not pass records on.
#[derive(Debug)]
pub struct SourceOverflow<'a> {
    /// The source.
    pub component: &'a str,
    /// Records it could not pass on.
    pub count: usize,
}

impl SourceOverflow<'_> {
    /// Count it.
    pub fn emit(self) {
        metrics()
            .source_overflow
            .with_label_values(&[self.component])
            .inc_by(self.count as u64);
    }
}

/// A source learned the fate of batches it emitted.
#[derive(Debug)]
pub struct BatchesAcknowledged<'a> {
    /// The source.
    pub component: &'a str,
    /// `delivered`, `dropped` or `failed`.
    pub status: &'a str,
    /// How many batches.
    pub count: u64,
}

impl BatchesAcknowledged<'_> {
    /// Count it.
    pub fn emit(self) {
        if self.count > 0 {
            metrics()
                .acknowledged
                .with_label_values(&[self.component, self.status])
                .inc_by(self.count);
        }
    }
}

/// A source committed a checkpoint.
#[derive(Debug)]
pub struct CheckpointCommitted<'a> {
    /// The source.
    pub component: &'a str,
}

impl CheckpointCommitted<'_> {
    /// Count it.
    pub fn emit(self) {
        metrics()
            .checkpoints
            .with_label_values(&[self.component])
            .inc();
    }
}

/// The report sink evicted its oldest entries to stay within `max_alerts`.
#[derive(Debug)]
pub struct ReportEvicted<'a> {
    /// The report sink.
    pub component: &'a str,
    /// Entries evicted.
    pub count: usize,
    /// Of which the latest word of a still-firing alert.
    pub firing: usize,
    /// The window size.
    pub max: usize,
}

impl ReportEvicted<'_> {
    /// Count it; warn when a firing alert had to go.
    pub fn emit(self) {
        let m = metrics();
        m.report_evicted
            .with_label_values(&[self.component])
            .inc_by(self.count as u64);
        if self.firing > 0 {
            m.errors
                .with_label_values(&[self.component, "report_evicted_firing"])
                .inc_by(self.firing as u64);
            tracing::warn!(
                component = self.component,
                count = self.firing,
                max_alerts = self.max,
                "firing alerts alone fill the report window; evicted the oldest"
            );
        }
    }
}

/// A component's task ended with an error or panicked.
#[derive(Debug)]
pub struct ComponentFailed<'a> {
    /// The component.
    pub component: &'a str,
    /// Why.
    pub error: &'a str,
    /// Whether it panicked.
    pub panicked: bool,
}

impl ComponentFailed<'_> {
    /// Log, count, and mark the component failed in health.
    pub fn emit(self) {
        health().set(
            self.component,
            ComponentStatus::Failed(self.error.to_owned()),
        );
        let reason = if self.panicked { "panicked" } else { "failed" };
        metrics()
            .errors
            .with_label_values(&[self.component, reason])
            .inc();
        tracing::error!(
            component = self.component,
            "component {reason}: {}",
            self.error
        );
    }
}

/// A reload of the config file was tried.
#[derive(Debug)]
pub struct ConfigReloaded<'a> {
    /// What asked for it: `SIGHUP`, `file changed`.
    pub trigger: &'a str,
    /// `ok`, `rejected` or `failed`.
    pub result: &'a str,
    /// What changed, or why it was not applied.
    pub detail: &'a str,
}

impl ConfigReloaded<'_> {
    /// Log and count it.
    pub fn emit(self) {
        metrics()
            .config_reloads
            .with_label_values(&[self.result])
            .inc();
        if self.result == "ok" {
            tracing::info!(trigger = self.trigger, "config reloaded: {}", self.detail);
        } else {
            tracing::error!(
                trigger = self.trigger,
                result = self.result,
                "config not reloaded, the running one is kept: {}",
                self.detail
            );
        }
    }
}
