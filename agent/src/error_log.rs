//! Error logs: every item a component rejected, with the reason.
//!
//! One line per item, tab-separated: receive time (RFC 3339), component,
//! reason, and the item (a raw record, a rendered point, a request body's
//! line), each escaped onto one line. The processor runner writes its
//! plugins' rejects here (`processors::error_log`), the http source its
//! decoding rejects. Written through to the OS after every batch, so nothing
//! rejected is lost silently.

use std::path::Path;

use crate::event::format_timestamp;
use crate::log_file::{LogFile, LogFilesConfig};

/// An append-only error log.
#[derive(Debug)]
pub struct ErrorLog {
    out: LogFile,
}

impl ErrorLog {
    /// Open `path` for appending, creating parent directories; it rotates
    /// by size as `limits` says.
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn open(path: &Path, limits: LogFilesConfig) -> std::io::Result<Self> {
        Ok(Self {
            out: LogFile::open(path, limits)?,
        })
    }

    /// Where it writes.
    pub fn path(&self) -> &Path {
        self.out.path()
    }

    /// Append one rejected item, received at `timestamp` (ns since the Unix
    /// epoch).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_item(
        &mut self,
        timestamp: i64,
        component: &str,
        reason: &str,
        item: &str,
    ) -> std::io::Result<()> {
        let line = format!(
            "{}\t{component}\t{}\t{}\n",
            format_timestamp(timestamp),
            escape(reason),
            escape(item)
        );
        self.out.write_record(&[line.as_bytes()])
    }

    /// Hand what was written to the OS.
    ///
    /// # Errors
    /// When the write fails.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Keep one item per line: escape the characters that would break it.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
}
