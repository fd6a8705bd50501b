//! The processor's error log: every item a plugin rejected, with the reason.
//!
//! One line per item, tab-separated: receive time (RFC 3339), component,
//! reason, and the raw record (or the point, rendered). Written through to the
//! OS after every batch, so nothing rejected is lost silently.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::event::{Points, Records, format_timestamp};
use crate::processors::wasm::RejectedItem;

/// An append-only error log.
#[derive(Debug)]
pub struct ErrorLog {
    path: PathBuf,
    out: BufWriter<File>,
}

impl ErrorLog {
    /// Open `path` for appending, creating parent directories.
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            path: path.to_owned(),
            out: BufWriter::new(file),
        })
    }

    /// Where it writes.
    pub fn path(&self) -> &Path {
        &self.path
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
                    writeln!(
                        self.out,
                        "{}\t{component}\t{}\t{text}",
                        format_timestamp(ts),
                        escape(reason)
                    )?;
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
                    writeln!(
                        self.out,
                        "{}\t{component}\t{}\t{}",
                        format_timestamp(ts),
                        escape(reason),
                        escape(&text)
                    )?;
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
