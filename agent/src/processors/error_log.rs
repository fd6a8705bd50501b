//! The processor's error log: every item a plugin rejected, with the reason.
//!
//! One line per item, tab-separated: receive time (RFC 3339), component,
//! reason, and the raw record (or the point, rendered). Written through to the
//! OS after every batch, so nothing rejected is lost silently.

use std::path::Path;

use crate::event::{Points, Records, format_timestamp};
use crate::log_file::LogFile;
use crate::log_file::LogFilesConfig;
use crate::processors::wasm::RejectedItem;

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

    /// Append the rejected items of one batch.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(
        &mut self,
        component: &str,
        records: &Records,
        points: &Points,
        rejected: &[RejectedItem],
    ) -> std::io::Result<()> {
        for item in rejected {
            match item {
                RejectedItem::Record { index, reason } => {
                    let (ts, text) = records
                        .get(*index)
                        .map_or((0, String::new()), |r| (r.timestamp, escape(&r.text())));
                    let line = format!(
                        "{}\t{component}\t{}\t{text}\n",
                        format_timestamp(ts),
                        escape(reason)
                    );
                    self.out.write_record(&[line.as_bytes()])?;
                }
                RejectedItem::Point { index, reason } => {
                    let (ts, text) = points.get(*index).map_or((0, String::new()), |p| {
                        let fields: Vec<String> =
                            p.fields().map(|(k, v)| format!("{k}={v}")).collect();
                        (
                            p.timestamp(),
                            format!("{} {}", p.series(), fields.join(",")),
                        )
                    });
                    let line = format!(
                        "{}\t{component}\t{}\t{}\n",
                        format_timestamp(ts),
                        escape(reason),
                        escape(&text)
                    );
                    self.out.write_record(&[line.as_bytes()])?;
                }
            }
        }
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
