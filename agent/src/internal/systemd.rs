//! Telling systemd what the agent is doing: the service notification
//! protocol (`sd_notify`) that a `Type=notify` unit such as
//! `deploy/systemd/foghorn.service` waits on.
//!
//! `run` calls these at its turning points: [`ready`] once the pipeline is
//! built, which sends `READY=1` when [`health`](super::health) says every
//! component has started (the moment `/ready` turns 200), or after a bound
//! with the components still starting named in `STATUS=`, so a serial device
//! that is not plugged in yet does not fail the unit's start; a
//! [`Reloading`] guard around each reload (`RELOADING=1` with
//! `MONOTONIC_USEC=`, as `Type=notify-reload` wants, then `READY=1` whatever
//! the reload's outcome: a rejected config keeps the running one);
//! [`stopping`] when a shutdown begins; and [`watchdog`], which pings
//! `WATCHDOG=1` at half of `WatchdogSec=` from the async runtime, so a
//! runtime that stops making progress is restarted by systemd.
//!
//! Everything here is a no-op when `NOTIFY_SOCKET` is unset (not started by
//! systemd), and a failed send is logged at debug level and otherwise
//! ignored: the service manager's view is advisory, never a reason to stop.

use std::time::Duration;

use sd_notify::NotifyState;

use super::health::{ComponentStatus, health};

/// How often [`ready`] looks at the components while it waits.
const READY_POLL: Duration = Duration::from_millis(25);

/// Whether the agent was started by a service manager that listens.
pub fn enabled() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some()
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(states) {
        tracing::debug!("cannot notify systemd: {error}");
    }
}

/// Send `READY=1` once every component has started, or after `bound` with
/// the ones still starting in `STATUS=`. Returns at once when not under
/// systemd.
pub async fn ready(bound: Duration) {
    if !enabled() {
        return;
    }
    let deadline = tokio::time::Instant::now() + bound;
    while !health().is_ready() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(READY_POLL).await;
    }
    let status = status();
    send(&[NotifyState::Ready, NotifyState::Status(&status)]);
}

/// What `systemctl status` shows: the components count, and any not
/// running yet or failing.
fn status() -> String {
    let components = health().snapshot();
    let waiting: Vec<&str> = components
        .iter()
        .filter(|(_, status)| matches!(status, ComponentStatus::Starting))
        .map(|(name, _)| name.as_str())
        .collect();
    let failing: Vec<&str> = components
        .iter()
        .filter(|(_, status)| {
            matches!(
                status,
                ComponentStatus::Failed(_) | ComponentStatus::Degraded(_)
            )
        })
        .map(|(name, _)| name.as_str())
        .collect();
    let mut status = format!("running {} component(s)", components.len());
    if !waiting.is_empty() {
        status.push_str(&format!("; starting: {}", waiting.join(", ")));
    }
    if !failing.is_empty() {
        status.push_str(&format!("; failing: {}", failing.join(", ")));
    }
    status
}

/// A reload in progress: `RELOADING=1` when made, `READY=1` when dropped.
#[derive(Debug)]
#[must_use = "the reload ends when the guard is dropped"]
pub struct Reloading(());

impl Reloading {
    /// Tell systemd a reload has begun.
    pub fn start() -> Self {
        if enabled() {
            match NotifyState::monotonic_usec_now() {
                Ok(now) => send(&[NotifyState::Reloading, now]),
                Err(_) => send(&[NotifyState::Reloading]),
            }
        }
        Self(())
    }
}

impl Drop for Reloading {
    fn drop(&mut self) {
        if enabled() {
            let status = status();
            send(&[NotifyState::Ready, NotifyState::Status(&status)]);
        }
    }
}

/// Tell systemd the agent is draining and will exit.
pub fn stopping() {
    if enabled() {
        send(&[
            NotifyState::Stopping,
            NotifyState::Status("draining and flushing sinks"),
        ]);
    }
}

/// Ping `WATCHDOG=1` at half the period systemd asks for (`WATCHDOG_USEC`),
/// until the task is aborted. `None` when no watchdog is asked for.
pub fn watchdog() -> Option<tokio::task::JoinHandle<()>> {
    if !enabled() {
        return None;
    }
    let period = sd_notify::watchdog_enabled()?;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(period / 2);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            send(&[NotifyState::Watchdog]);
        }
    }))
}
