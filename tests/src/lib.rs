//! Helpers for foghorn's integration tests: run the agent as a real process,
//! feed its input files, wait for what it writes, scrape its metrics, make
//! pseudo-terminals.
//!
//! Waiting is always for an event (a file's content, a metric value, a log
//! line), polled with a deadline, never a fixed sleep.

pub mod agent;
pub mod alertmanager;
pub mod example;
pub mod http;
pub mod input;
pub mod kafka;
pub mod prometheus;
pub mod pty;
pub mod receiver;
pub mod tls;
pub mod wait;
