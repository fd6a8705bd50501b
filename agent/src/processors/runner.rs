//! Drives one plugin processor in the pipeline.
//!
//! Batches arrive on the processor's input channel; each is handed to the
//! plugin in one call, on a thread allowed to block (`block_in_place`), and
//! the output goes to the `points` and `alerts` fan-outs. Time ticks and
//! snapshots run on their own intervals. When the input closes (the pipeline
//! is draining) the runner takes a last snapshot and returns, which closes
//! its outputs in turn.
//!
//! Every output is checked before it goes anywhere ([`output_from_wit`]). A
//! call that fails (trap, timeout, memory, invalid output) sends its input,
//! alerts included, to the dead letter, and the plugin is restarted as
//! [`Restarts`] says: at once, then with a growing wait during which input
//! goes straight to the dead letter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::block_in_place;
use tokio::time::MissedTickBehavior;

use super::Produced;
use super::dead_letter::DeadLetter;
use super::event_clock::{EventTicking, EventTicks, time_span};
use super::outputs::Outputs;
use super::restarts::Restarts;
use super::wasm::{
    CallError, InputSize, PluginInstance, PluginOutput, batch_from_wit, batch_to_wit,
    output_from_wit, wit,
};
use crate::delivery::Delivery;
use crate::error_log::ErrorLog;
use crate::event::{Alert, Batch, Points, Records, SharedBatch, now_nanos};
use crate::internal::events::{
    AlertRaised, BatchProcessed, ComponentError, EventsReceived, InputDeadLettered, ItemsRejected,
    PluginFailed, PluginFailureKind, PluginRecovered, PluginRestarted, PluginTripped,
    SnapshotSaved,
};
use crate::state::StateStore;

/// Everything a processor needs to run.
#[derive(Debug)]
pub struct ProcessorRunner {
    /// Component name.
    pub name: Arc<str>,
    /// Where its snapshots are saved ([`StateStore::snapshot_key`]).
    pub snapshot_key: String,
    /// The plugin reference, for alerts (`builtin:threshold`, a path).
    pub plugin: Arc<str>,
    /// The live plugin.
    pub instance: PluginInstance,
    /// Input batches.
    pub input: mpsc::Receiver<SharedBatch>,
    /// Where its points and alerts go.
    pub outputs: Outputs,
    /// Where rejected items go, if configured.
    pub errors: Option<ErrorLog>,
    /// Where the input of failed calls goes.
    pub dead_letter: DeadLetter,
    /// Durable snapshots.
    pub state: Arc<StateStore>,
    /// The snapshot the plugin was restored from, if any.
    pub last_snapshot: Option<Vec<u8>>,
    /// How often `tick` is called.
    pub tick_interval: Duration,
    /// Under `clock: event`, the ticks owed by the time of the data; `None`
    /// ticks by the wall clock.
    pub event_ticks: Option<EventTicks>,
    /// How often state is snapshotted.
    pub snapshot_interval: Duration,
    /// The instance this one replaces on a reload: it drains first.
    pub predecessor: Option<Predecessor>,
    /// Where the last snapshot goes when this instance stops, for a successor.
    pub final_snapshot: Option<oneshot::Sender<Option<Vec<u8>>>>,
    /// When a failed plugin is restarted.
    pub restarts: Restarts,
    /// Set while the plugin is down after a failure: when to restart it,
    /// and why it is down.
    pub down: Option<(Instant, String)>,
    /// The kind of call that failed last, until one like it succeeds.
    pub failed_call: Option<&'static str>,
}

/// The instance a reload replaces.
#[derive(Debug)]
pub struct Predecessor {
    /// The plugin is the same: start from the predecessor's final state.
    pub carry_state: bool,
    /// The predecessor's last snapshot, once it has drained.
    pub final_snapshot: Option<oneshot::Receiver<Option<Vec<u8>>>>,
}

impl ProcessorRunner {
    /// Run until the input closes.
    pub async fn run(mut self) {
        if let Some(predecessor) = self.predecessor.take() {
            self.take_over(predecessor).await;
        }
        let mut tick = tokio::time::interval(self.tick_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut snapshot = tokio::time::interval(self.snapshot_interval);
        snapshot.set_missed_tick_behavior(MissedTickBehavior::Skip);
        tick.tick().await;
        snapshot.tick().await;
        loop {
            let restart_at = self.down.as_ref().map(|(at, _)| *at);
            tokio::select! {
                batch = self.input.recv() => match batch {
                    Some(batch) => self.on_batch(batch).await,
                    None => break,
                },
                _ = tick.tick(), if self.event_ticks.is_none() => self.on_tick(now_nanos()).await,
                _ = snapshot.tick() => self.save_snapshot(),
                () = sleep_until(restart_at) => {
                    self.ready();
                }
            }
        }
        self.save_snapshot();
        if let Some(tx) = self.final_snapshot.take() {
            let _ = tx.send(self.last_snapshot.clone());
        }
        tracing::debug!(component = &*self.name, "processor drained");
    }

    /// Wait for the instance this one replaces to drain (so batches keep
    /// their order), then start from its final state when the plugin is the
    /// same.
    async fn take_over(&mut self, predecessor: Predecessor) {
        let Some(final_snapshot) = predecessor.final_snapshot else {
            return;
        };
        let Ok(Some(snapshot)) = final_snapshot.await else {
            return;
        };
        if !predecessor.carry_state {
            return;
        }
        match block_in_place(|| self.instance.restore(&snapshot)) {
            Ok(()) => {
                tracing::info!(
                    component = &*self.name,
                    bytes = snapshot.len(),
                    "state carried over from the replaced instance"
                );
                self.last_snapshot = Some(snapshot);
            }
            Err(error) => {
                let error = format!("cannot carry the state over: {error}; starting fresh");
                ComponentError {
                    component: &self.name,
                    reason: "restore_failed",
                    error: &error,
                }
                .emit();
                let _ = self.recover_fresh();
            }
        }
    }

    /// Start a clean instance without any snapshot (a failed restore may
    /// leave one half-restored); whether that worked.
    fn recover_fresh(&mut self) -> bool {
        self.last_snapshot = None;
        match block_in_place(|| self.instance.reinstantiate(None)) {
            Ok(()) => true,
            Err(error) => {
                let error = format!("cannot restart plugin: {error}");
                ComponentError {
                    component: &self.name,
                    reason: "restart_failed",
                    error: &error,
                }
                .emit();
                false
            }
        }
    }

    async fn on_batch(&mut self, batch: SharedBatch) {
        let started = Instant::now();
        EventsReceived {
            component: &self.name,
            count: batch.len(),
            bytes: 0,
        }
        .emit();
        let span = self.event_ticks.as_ref().and_then(|_| time_span(&batch));
        if let Some((earliest, _)) = span {
            self.event_ticks_until(earliest, false).await;
        }
        // Everything derived from this batch carries its delivery handle, so
        // the source hears of it only once all of it is durable.
        let delivery = batch.delivery.clone();
        if !self.ready() {
            self.dead_letter_while_down(&batch, &delivery);
            return;
        }
        let alerts_in = batch.alerts.clone();
        let record_tags = batch.record_tags.clone();
        let size = InputSize {
            records: batch.records.len(),
            points: batch.points.len(),
        };
        let input = batch_to_wit(batch);
        let result = block_in_place(|| self.instance.process(&input))
            .and_then(|output| self.checked("process", output, size));
        match result {
            Ok(mut output) => {
                self.succeeded("process");
                if let Some(tags) = &record_tags {
                    tag_series(&mut output.points.series, tags);
                }
                if !output.rejected.is_empty() {
                    let (records, points) = batch_from_wit(input);
                    self.log_rejected(&records, &points, &output, &delivery);
                }
                self.send(output, alerts_in, &delivery).await;
            }
            Err(error) => {
                let (records, points) = batch_from_wit(input);
                // Alerts passing through go with the rest of the input: the
                // dead letter keeps them, nothing is dropped.
                self.on_failure("process", &error, &records, &points, &alerts_in, &delivery);
            }
        }
        BatchProcessed {
            component: &self.name,
            duration: started.elapsed(),
        }
        .emit();
        if let Some((_, latest)) = span {
            self.event_ticks_until(latest, true).await;
        }
    }

    /// The pipeline form of `output`, or the failure it is when it breaks
    /// the contract.
    fn checked(
        &self,
        call: &'static str,
        output: wit::Output,
        input: InputSize,
    ) -> Result<PluginOutput, CallError> {
        output_from_wit(output, &self.name, &self.plugin, input).map_err(|message| {
            CallError::Failed {
                call,
                kind: PluginFailureKind::InvalidOutput,
                message,
            }
        })
    }

    /// Whether the plugin can be called: it is up, or it was down and its
    /// restart is due and works.
    fn ready(&mut self) -> bool {
        let Some((at, _)) = &self.down else {
            return true;
        };
        if Instant::now() < *at {
            return false;
        }
        self.down = None;
        self.recover()
    }

    /// The plugin is down: the batch goes to the dead letter as it is.
    fn dead_letter_while_down(&mut self, batch: &Batch, delivery: &Delivery) {
        let reason = match &self.down {
            Some((_, reason)) => format!("plugin down, waiting to restart after: {reason}"),
            None => "plugin down".to_owned(),
        };
        let written = block_in_place(|| {
            self.dead_letter.write(
                &self.name,
                "process",
                &reason,
                &batch.records,
                &batch.points,
                &batch.alerts,
            )
        });
        match written {
            Ok(count) => InputDeadLettered {
                component: &self.name,
                count,
            }
            .emit(),
            Err(io) => self.dead_letter_failed(&io, delivery),
        }
    }

    /// A call succeeded: a plugin reported failed works again, once the
    /// kind of call that failed works (a `tick` that works says nothing about
    /// a `process` that keeps failing).
    fn succeeded(&mut self, call: &'static str) {
        if self.failed_call.is_some_and(|failed| failed != call) {
            return;
        }
        self.failed_call = None;
        if self.restarts.succeeded() {
            PluginRecovered {
                component: &self.name,
            }
            .emit();
        }
    }

    fn log_rejected(
        &mut self,
        records: &Records,
        points: &Points,
        output: &PluginOutput,
        delivery: &Delivery,
    ) {
        let example = match &output.rejected[0] {
            super::wasm::RejectedItem::Record { reason, .. }
            | super::wasm::RejectedItem::Point { reason, .. } => reason,
        };
        ItemsRejected {
            component: &self.name,
            reason: "plugin_rejected",
            count: output.rejected.len(),
            example,
        }
        .emit();
        // File writes leave the async worker free (`block_in_place`).
        if let Some(log) = &mut self.errors
            && let Err(error) =
                block_in_place(|| log.write(&self.name, records, points, &output.rejected))
        {
            let error = format!("cannot write error log {}: {error}", log.path().display());
            // The rejected items are not kept: the source must read them again.
            delivery.fail();
            ComponentError {
                component: &self.name,
                reason: "error_log_failed",
                error: &error,
            }
            .emit();
        }
    }

    /// Pass alerts that arrived in the input through, then send what the
    /// plugin produced.
    async fn send(
        &mut self,
        output: PluginOutput,
        mut alerts: Vec<crate::event::Alert>,
        delivery: &Delivery,
    ) {
        for alert in &output.alerts {
            AlertRaised { alert }.emit();
        }
        alerts.extend(output.alerts);
        let produced = Produced {
            points: output.points,
            alerts,
            notifications: Vec::new(),
        };
        self.outputs.send(&self.name, produced, delivery).await;
    }

    fn on_failure(
        &mut self,
        call: &'static str,
        error: &CallError,
        records: &Records,
        points: &Points,
        alerts: &[Alert],
        delivery: &Delivery,
    ) {
        let CallError::Failed { kind, message, .. } = error else {
            let error = error.to_string();
            ComponentError {
                component: &self.name,
                reason: "plugin_error",
                error: &error,
            }
            .emit();
            return;
        };
        let reason = error.to_string();
        let dead_lettered = match block_in_place(|| {
            self.dead_letter
                .write(&self.name, call, &reason, records, points, alerts)
        }) {
            Ok(count) => count,
            Err(io) => {
                self.dead_letter_failed(&io, delivery);
                0
            }
        };
        PluginFailed {
            component: &self.name,
            call,
            kind: *kind,
            error: message,
            dead_lettered,
        }
        .emit();
        self.failed_call = Some(call);
        self.schedule_restart(&reason);
    }

    /// Nothing kept the input: the source must read the batch again.
    fn dead_letter_failed(&self, io: &std::io::Error, delivery: &Delivery) {
        delivery.fail();
        let error = format!(
            "cannot write dead-letter file {}: {io}",
            self.dead_letter.path().display()
        );
        ComponentError {
            component: &self.name,
            reason: "dead_letter_failed",
            error: &error,
        }
        .emit();
    }

    /// After a failure: restart now, or mark the plugin down until its
    /// backoff has passed; report it failed when it fails too often.
    fn schedule_restart(&mut self, reason: &str) {
        let after = self.restarts.failed(Instant::now());
        if after.trips {
            PluginTripped {
                component: &self.name,
                failures: self.restarts.recent(),
                window: self.restarts.window(),
                error: reason,
            }
            .emit();
        }
        self.down = Some((Instant::now() + after.wait, reason.to_owned()));
        if after.wait.is_zero() {
            self.ready();
        }
    }

    /// Replace the failed instance, restoring the last snapshot; a snapshot
    /// the plugin now rejects is dropped rather than blocking recovery.
    /// Whether the plugin is up again; if not, that is one more failure.
    fn recover(&mut self) -> bool {
        let snapshot = self.last_snapshot.clone();
        let result = block_in_place(|| self.instance.reinstantiate(snapshot.as_deref()));
        match result {
            Ok(()) => {
                PluginRestarted {
                    component: &self.name,
                    restored: snapshot.is_some(),
                }
                .emit();
                true
            }
            Err(error) => {
                let error =
                    format!("cannot restart plugin: {error}; starting it without its snapshot");
                ComponentError {
                    component: &self.name,
                    reason: "restart_failed",
                    error: &error,
                }
                .emit();
                if self.recover_fresh() {
                    PluginRestarted {
                        component: &self.name,
                        restored: false,
                    }
                    .emit();
                    true
                } else {
                    self.schedule_restart(&error);
                    false
                }
            }
        }
    }

    fn save_snapshot(&mut self) {
        if self.down.is_some() {
            return;
        }
        let result = block_in_place(|| self.instance.snapshot());
        match result {
            Ok(snapshot) => {
                self.succeeded("snapshot");
                // An empty state is saved too: it replaces an older one.
                if self.last_snapshot.as_deref() == Some(&snapshot[..]) {
                    return;
                }
                if let Err(error) =
                    block_in_place(|| self.state.save_snapshot(&self.snapshot_key, &snapshot))
                {
                    ComponentError {
                        component: &self.name,
                        reason: "snapshot_failed",
                        error: &error,
                    }
                    .emit();
                    return;
                }
                SnapshotSaved {
                    component: &self.name,
                    bytes: snapshot.len(),
                }
                .emit();
                self.last_snapshot = Some(snapshot);
            }
            Err(error) => self.on_failure(
                "snapshot",
                &error,
                &Records::default(),
                &Points::default(),
                &[],
                &Delivery::none(),
            ),
        }
    }
}

impl EventTicking for ProcessorRunner {
    fn event_ticks(&mut self) -> Option<&mut EventTicks> {
        self.event_ticks.as_mut()
    }

    async fn on_tick(&mut self, now: i64) {
        if self.down.is_some() {
            return;
        }
        let result = block_in_place(|| self.instance.tick(now))
            .and_then(|output| self.checked("tick", output, InputSize::default()));
        match result {
            Ok(output) => {
                self.succeeded("tick");
                self.send(output, Vec::new(), &Delivery::none()).await;
            }
            Err(error) => self.on_failure(
                "tick",
                &error,
                &Records::default(),
                &Points::default(),
                &[],
                &Delivery::none(),
            ),
        }
    }
}

/// Sleep until `at`, or for ever when there is nothing to wait for.
/// Give every series the tags its source set for the records it was parsed
/// from (a file's path), keeping a tag the plugin set itself. Each series
/// gains the same tags, so distinct series stay distinct.
fn tag_series(series: &mut [foghorn_model::Series], tags: &[(String, String)]) {
    for series in series {
        for (key, value) in tags {
            if series.tag(key).is_none() {
                series.set_tag(key.as_str(), value.as_str());
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
