//! Pseudo-terminal pairs from socat, standing in for a serial device.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::wait;

/// A socat pty pair: the agent opens `device`, the emulator writes to `host`.
#[derive(Debug)]
pub struct PtyPair {
    child: Child,
    /// The end the agent reads, like `/dev/ttyUSB0`.
    pub device: PathBuf,
    /// The end the emulator writes.
    pub host: PathBuf,
}

impl PtyPair {
    /// Start socat with the two ends linked at `dir/device` and `dir/host`.
    ///
    /// # Panics
    /// When socat is missing (the test command installs it) or the links
    /// don't appear.
    pub fn start(dir: &Path) -> Self {
        let device = dir.join("device");
        let host = dir.join("host");
        let child = Command::new("socat")
            .arg("-d")
            .arg(format!("pty,raw,echo=0,link={}", device.display()))
            .arg(format!("pty,raw,echo=0,link={}", host.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat must be installed: run the README's test command");
        wait::until("socat pty links", Duration::from_secs(10), || {
            (device.exists() && host.exists()).then_some(())
        });
        Self {
            child,
            device,
            host,
        }
    }

    /// Stop socat: the device disappears, as when a USB adapter is unplugged.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        wait::until("socat links removed", Duration::from_secs(10), || {
            (!self.device.exists()).then_some(())
        });
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
