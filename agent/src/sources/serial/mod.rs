//! The `serial` source: lines from a device on a serial port.
//!
//! The port is read with the blocking `serialport` crate on a thread of
//! tokio's blocking pool, with a short read timeout so the loop notices
//! shutdown and sends lingering batches between reads. Bytes are stamped
//! with the time they were read, cut into lines by the shared
//! [`LineFramer`], appended to the optional audit log (`<RFC 3339 UTC time
//! with microseconds>\t<line>`, before anything parses them) and pushed to
//! the batcher. When the port cannot be opened or goes away (a read error,
//! a hang-up, end of file, the device node removed) the source reports
//! [`SourceReconnecting`] and tries again with exponential backoff, for as
//! long as it runs; every successful open reports [`SourceConnected`] and
//! resets the backoff.

pub(super) mod config;

use std::fmt::Write as _;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serialport::SerialPort;

use self::config::{FlowControl, Parity, SerialConfig};
use super::lines::LineFramer;
use super::{SourceContext, SourceError};
use crate::event::now_nanos;
use crate::internal::events::{ComponentError, SourceConnected, SourceReconnecting};
use crate::log_file::{LogFile, LogFilesConfig};

/// How long one read waits for data before the loop looks around.
const READ_TIMEOUT: Duration = Duration::from_millis(50);
/// The shortest wait before reopening, so a zero backoff cannot spin.
const MIN_BACKOFF: Duration = Duration::from_millis(1);
/// Bytes asked for per read.
const READ_BYTES: usize = 4096;
/// Zero-byte reads in a row (after the port said it had data) taken as end
/// of file: a pty whose other end has gone away.
const EMPTY_READS_AT_EOF: u32 = 3;

async fn run(config: SerialConfig, ctx: SourceContext) -> Result<(), SourceError> {
    tokio::task::spawn_blocking(move || {
        SerialReader::new(config, ctx)?.run();
        Ok(())
    })
    .await?
}

fn describe(config: &SerialConfig) -> String {
    let parity = match config.parity {
        Parity::None => 'N',
        Parity::Odd => 'O',
        Parity::Even => 'E',
    };
    let (data_bits, stop_bits) = (config.data_bits, config.stop_bits);
    let mut line = format!(
        "serial {} @ {} {data_bits}{parity}{stop_bits}",
        config.port, config.baud
    );
    match config.flow_control {
        FlowControl::None => {}
        FlowControl::Software => line.push_str(", software flow control"),
        FlowControl::Hardware => line.push_str(", hardware flow control"),
    }
    if let Some(path) = &config.audit_log {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        let _ = write!(line, ", audit log {}", path.display());
    }
    line
}

/// The state of the reading thread.
struct SerialReader {
    config: SerialConfig,
    ctx: SourceContext,
    framer: LineFramer,
    audit: Option<AuditLog>,
}

impl SerialReader {
    fn new(config: SerialConfig, ctx: SourceContext) -> Result<Self, SourceError> {
        let audit = match &config.audit_log {
            Some(path) => Some(AuditLog::open(path, ctx.log_files).map_err(|source| {
                SourceError::AuditLog {
                    path: path.clone(),
                    source,
                }
            })?),
            None => None,
        };
        let framer = LineFramer::new(ctx.name.clone(), config.max_line_length);
        Ok(Self {
            config,
            ctx,
            framer,
            audit,
        })
    }

    /// Open, read, reopen, until shutdown; then send what is pending.
    fn run(mut self) {
        let initial = self.config.reconnect.initial_backoff.max(MIN_BACKOFF);
        let mut backoff = initial;
        while !self.ctx.shutdown.is_cancelled() {
            let error = match self.open() {
                Ok(port) => {
                    SourceConnected {
                        component: &self.ctx.name,
                        target: &self.config.port,
                    }
                    .emit();
                    backoff = initial;
                    match self.read_until_lost(port) {
                        None => break,
                        Some(error) => error.to_string(),
                    }
                }
                Err(error) => error.to_string(),
            };
            SourceReconnecting {
                component: &self.ctx.name,
                target: &self.config.port,
                error: &error,
                backoff,
            }
            .emit();
            if !self.sleep(backoff) {
                break;
            }
            backoff = (backoff * 2).min(self.config.reconnect.max_backoff.max(initial));
        }
        self.finish_line();
        if let Some(audit) = &mut self.audit
            && let Err(error) = audit.sync()
        {
            audit.failed(&self.ctx.name, &error);
        }
        self.ctx.batcher.blocking_flush();
    }

    fn open(&self) -> serialport::Result<Box<dyn SerialPort>> {
        let config = &self.config;
        serialport::new(&config.port, config.baud)
            .parity(match config.parity {
                Parity::None => serialport::Parity::None,
                Parity::Odd => serialport::Parity::Odd,
                Parity::Even => serialport::Parity::Even,
            })
            // Validation keeps data bits in 5..=8 and stop bits in 1..=2.
            .data_bits(match config.data_bits {
                5 => serialport::DataBits::Five,
                6 => serialport::DataBits::Six,
                7 => serialport::DataBits::Seven,
                _ => serialport::DataBits::Eight,
            })
            .stop_bits(match config.stop_bits {
                2 => serialport::StopBits::Two,
                _ => serialport::StopBits::One,
            })
            .flow_control(match config.flow_control {
                FlowControl::None => serialport::FlowControl::None,
                FlowControl::Software => serialport::FlowControl::Software,
                FlowControl::Hardware => serialport::FlowControl::Hardware,
            })
            .timeout(READ_TIMEOUT)
            .open()
    }

    /// Read until shutdown (`None`) or until the port is lost (why).
    fn read_until_lost(&mut self, mut port: Box<dyn SerialPort>) -> Option<std::io::Error> {
        let mut buf = vec![0; READ_BYTES];
        let mut empty_reads = 0;
        let lost = loop {
            if self.ctx.shutdown.is_cancelled() {
                break None;
            }
            match port.read(&mut buf) {
                Ok(0) => {
                    empty_reads += 1;
                    if empty_reads >= EMPTY_READS_AT_EOF {
                        break Some(std::io::Error::new(
                            ErrorKind::UnexpectedEof,
                            "the device hung up",
                        ));
                    }
                }
                Ok(read) => {
                    empty_reads = 0;
                    self.accept(&buf[..read], now_nanos());
                }
                Err(error) if error.kind() == ErrorKind::TimedOut => {
                    empty_reads = 0;
                    if !Path::new(&self.config.port).exists() {
                        break Some(std::io::Error::new(
                            ErrorKind::NotFound,
                            "the device node was removed",
                        ));
                    }
                }
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => break Some(error),
            }
            if self.ctx.batcher.is_due() {
                self.flush();
            }
        };
        if lost.is_some() {
            // The rest of a line cut off by the disconnect will not come.
            self.finish_line();
            self.flush();
        }
        lost
    }

    /// Audit and push the lines completed by `chunk`, read at `timestamp`.
    fn accept(&mut self, chunk: &[u8], timestamp: i64) {
        let mut lines = self.framer.lines(chunk);
        while let Some(line) = lines.next_line() {
            audit(&mut self.audit, &self.ctx.name, timestamp, line);
            if self.ctx.batcher.push(timestamp, line) {
                flush(&mut self.audit, &mut self.ctx);
            }
        }
    }

    /// Audit and push the unterminated last line, if any.
    fn finish_line(&mut self) {
        let timestamp = now_nanos();
        if let Some(line) = self.framer.finish() {
            audit(&mut self.audit, &self.ctx.name, timestamp, line);
            self.ctx.batcher.push(timestamp, line);
        }
    }

    fn flush(&mut self) {
        flush(&mut self.audit, &mut self.ctx);
    }

    /// Sleep for `duration` unless shutdown comes first (then false).
    fn sleep(&self, duration: Duration) -> bool {
        let until = Instant::now() + duration;
        loop {
            if self.ctx.shutdown.is_cancelled() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(READ_TIMEOUT));
        }
    }
}

fn audit(audit: &mut Option<AuditLog>, component: &str, timestamp: i64, line: &[u8]) {
    if let Some(audit) = audit
        && let Err(error) = audit.write(timestamp, line)
    {
        audit.failed(component, &error);
    }
}

/// Send the pending batch, the audit log's lines first. A device does not
/// wait for a slow pipeline: when a consumer has no room the batch is counted
/// as overflow (`foghorn_source_overflow_total`) and dropped, and its lines
/// stay in the audit log; the reader goes back to the port at once.
fn flush(audit: &mut Option<AuditLog>, ctx: &mut SourceContext) {
    if let Some(audit) = audit {
        match audit.flush() {
            Ok(()) => audit.failing = false,
            Err(error) => audit.failed(&ctx.name, &error),
        }
    }
    ctx.batcher.flush_or_overflow();
}

/// Every raw line, timestamped, appended to a file.
struct AuditLog {
    path: PathBuf,
    writer: LogFile,
    /// The formatted receive time of the last line written, and its time.
    stamp: Vec<u8>,
    stamped: Option<i64>,
    /// A failure was reported and has not cleared since.
    failing: bool,
}

impl AuditLog {
    fn open(path: &Path, limits: LogFilesConfig) -> std::io::Result<Self> {
        Ok(Self {
            path: path.to_owned(),
            writer: LogFile::open(path, limits)?,
            stamp: Vec::with_capacity(32),
            stamped: None,
            failing: false,
        })
    }

    fn write(&mut self, timestamp: i64, line: &[u8]) -> std::io::Result<()> {
        if self.stamped != Some(timestamp) {
            let format = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            );
            self.stamp.clear();
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(timestamp))
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                .format_into(&mut self.stamp, &format)
                .map_err(std::io::Error::other)?;
            self.stamped = Some(timestamp);
        }
        self.writer.write_record(&[&self.stamp, b"\t", line, b"\n"])
    }

    /// Hand the written lines to the OS.
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }

    /// Flush and wait until the lines are on disk.
    fn sync(&mut self) -> std::io::Result<()> {
        self.writer.sync()
    }

    /// Report a failed write once per run of failures.
    fn failed(&mut self, component: &str, error: &std::io::Error) {
        if !std::mem::replace(&mut self.failing, true) {
            let error = format!(
                "cannot write the audit log {}: {error}",
                self.path.display()
            );
            ComponentError {
                component,
                reason: "audit_log_write_failed",
                error: &error,
            }
            .emit();
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use serialport::TTYPort;

    use super::config::ReconnectConfig;
    use super::*;
    use crate::sources::testing::{context, drain};

    /// A pseudo-terminal standing in for a device: tests write to `host`,
    /// the source opens the slave through a symlink.
    struct Device {
        host: TTYPort,
        slave: String,
    }

    impl Device {
        /// A new pty pair, its slave reachable at `link`.
        fn plug(link: &Path) -> Self {
            let (host, slave) = TTYPort::pair().unwrap();
            let name = slave.name().unwrap();
            // The source opens its own descriptor.
            drop(slave);
            let _ = std::fs::remove_file(link);
            std::os::unix::fs::symlink(&name, link).unwrap();
            Self { host, slave: name }
        }

        fn send(&mut self, bytes: &str) {
            self.host.write_all(bytes.as_bytes()).unwrap();
        }
    }

    /// Wait until this process has `path` open (or closed): the source's
    /// descriptor, since the tests hold none.
    fn wait_until_open(path: &str, open: bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let is_open = std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(Result::ok)
                .any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|target| target == Path::new(path))
                });
            if is_open == open {
                return;
            }
            assert!(Instant::now() < deadline, "{path} never became open={open}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn config(port: &Path, audit_log: Option<PathBuf>) -> SerialConfig {
        SerialConfig {
            port: port.to_string_lossy().into_owned(),
            baud: 9600,
            parity: Parity::None,
            data_bits: 8,
            stop_bits: 1,
            flow_control: FlowControl::None,
            max_line_length: 1024,
            reconnect: ReconnectConfig {
                initial_backoff: Duration::from_millis(20),
                max_backoff: Duration::from_millis(100),
            },
            audit_log,
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    /// Wait for `want` more records from `rx`, as `(timestamp, text)`.
    fn collect(
        rx: &mut tokio::sync::mpsc::Receiver<crate::event::SharedBatch>,
        want: usize,
    ) -> Vec<(i64, String)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut got = Vec::new();
        while got.len() < want {
            assert!(Instant::now() < deadline, "only {got:?}");
            std::thread::sleep(Duration::from_millis(10));
            got.extend(drain(rx));
        }
        got
    }

    #[test]
    fn a_stalled_pipeline_never_stops_the_reader_and_every_line_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("device");
        let audit_path = dir.path().join("raw.log");
        let runtime = runtime();
        // One batch of room, one line per batch, and nobody reading.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let name: std::sync::Arc<str> = "serial-overflow-test".into();
        let out = crate::fanout::Fanout::new(
            name.clone(),
            "records",
            vec![crate::fanout::Consumer::blocking("stalled".into(), tx)],
        );
        let (mut ctx, _unused) = context(1, Duration::from_millis(1));
        ctx.name = name.clone();
        ctx.batcher = crate::sources::RecordBatcher::new(name, 1, Duration::from_millis(1), out);
        let shutdown = ctx.shutdown.clone();
        let _stop = shutdown.clone().drop_guard();
        let mut device = Device::plug(&link);
        let task = runtime.spawn(run(config(&link, Some(audit_path.clone())), ctx));
        wait_until_open(&device.slave, true);
        for i in 0..50 {
            device.send(&format!("T:{i}\n"));
        }
        let overflow = || {
            crate::internal::metrics::metrics()
                .source_overflow
                .with_label_values(&["serial-overflow-test"])
                .get()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while overflow() < 49 {
            assert!(Instant::now() < deadline, "overflow {}", overflow());
            std::thread::sleep(Duration::from_millis(10));
        }
        shutdown.cancel();
        runtime.block_on(task).unwrap().unwrap();
        assert_eq!(rx.len(), 1, "the one batch there was room for");
        let audit = std::fs::read_to_string(&audit_path).unwrap();
        assert_eq!(audit.lines().count(), 50, "every line is in the audit log");
        assert!(audit.lines().last().unwrap().ends_with("\tT:49"));
    }

    #[test]
    fn lines_arrive_stamped_and_audited_and_survive_a_reconnect() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("device");
        let audit_path = dir.path().join("logs/raw.log");
        let runtime = runtime();
        let (ctx, mut rx) = context(2, Duration::from_millis(20));
        let shutdown = ctx.shutdown.clone();
        // A failed assertion stops the source, so the runtime can be dropped.
        let _stop = shutdown.clone().drop_guard();

        let mut device = Device::plug(&link);
        let task = runtime.spawn(run(config(&link, Some(audit_path.clone())), ctx));
        wait_until_open(&device.slave, true);
        let before = now_nanos();
        device.send("T:25.3,V:5.01,S:OK\r\nT:25");
        std::thread::sleep(Duration::from_millis(150));
        device.send(".4,V:5.00,S:OK\r\nT:25.5,V:4.99,S:OK\r\n");
        let mut got = collect(&mut rx, 3);
        let after = now_nanos();
        let texts: Vec<&str> = got.iter().map(|(_, text)| text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "T:25.3,V:5.01,S:OK",
                "T:25.4,V:5.00,S:OK",
                "T:25.5,V:4.99,S:OK"
            ]
        );
        assert!(got.iter().all(|(ts, _)| (before..=after).contains(ts)));
        assert!(
            got[1].0 - got[0].0 >= 100_000_000,
            "stamped when the line ended, not when it began"
        );

        // Unplugged: the source lets go of the device; plugged in again at
        // another pty behind the same path: the source finds it.
        let lost = device.slave.clone();
        drop(device);
        wait_until_open(&lost, false);
        std::thread::sleep(Duration::from_millis(100));
        let mut device = Device::plug(&link);
        wait_until_open(&device.slave, true);
        device.send("T:26.0,V:5.00,S:OK\n");
        got.extend(collect(&mut rx, 1));
        assert_eq!(got[3].1, "T:26.0,V:5.00,S:OK");

        let stopped = Instant::now();
        shutdown.cancel();
        runtime.block_on(task).unwrap().unwrap();
        assert!(stopped.elapsed() < Duration::from_millis(200));

        // Every line in the audit log, stamped with its receive time.
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        );
        let expected: String = got
            .iter()
            .map(|(ts, text)| {
                let stamp =
                    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(*ts)).unwrap();
                format!("{}\t{text}\n", stamp.format(&format).unwrap())
            })
            .collect();
        assert_eq!(std::fs::read_to_string(&audit_path).unwrap(), expected);
    }

    #[test]
    fn a_missing_port_is_retried_until_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = runtime();
        let (ctx, _rx) = context(2, Duration::from_millis(20));
        let shutdown = ctx.shutdown.clone();
        let _stop = shutdown.clone().drop_guard();
        let task = runtime.spawn(run(config(&dir.path().join("nothing"), None), ctx));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!task.is_finished(), "gave up on a missing device");
        let stopped = Instant::now();
        shutdown.cancel();
        runtime.block_on(task).unwrap().unwrap();
        assert!(stopped.elapsed() < Duration::from_millis(200));
    }

    #[test]
    fn describe_names_port_framing_and_audit_log() {
        let mut config = config(Path::new("/dev/ttyUSB0"), Some("/var/log/raw.log".into()));
        assert_eq!(
            describe(&config),
            "serial /dev/ttyUSB0 @ 9600 8N1, audit log /var/log/raw.log"
        );
        config.parity = Parity::Even;
        config.data_bits = 7;
        config.stop_bits = 2;
        config.flow_control = FlowControl::Hardware;
        config.audit_log = None;
        assert_eq!(
            describe(&config),
            "serial /dev/ttyUSB0 @ 9600 7E2, hardware flow control"
        );
    }
}
impl super::Source for SerialConfig {
    const OPENS_INPUT: bool = true;

    fn describe(&self) -> String {
        describe(self)
    }

    async fn run(self, ctx: SourceContext) -> Result<(), SourceError> {
        run(self, ctx).await
    }
}
