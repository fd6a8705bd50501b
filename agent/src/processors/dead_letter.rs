//! Dead letters: the input of a plugin call that failed (trap, timeout,
//! memory), one JSON line per item with the reason, in
//! `<data_dir>/dead_letter/<component>.ndjson`. Nothing a broken plugin
//! touched is lost; it can be replayed once the plugin is fixed.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::event::{Points, Records, format_timestamp, now_nanos};

/// The dead-letter file of one processor.
#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
}

impl DeadLetter {
    /// The dead-letter file of `component` under `data_dir`.
    pub fn new(data_dir: &Path, component: &str) -> Self {
        Self {
            path: data_dir
                .join("dead_letter")
                .join(format!("{component}.ndjson")),
        }
    }

    /// Where it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append every record and point of a failed batch; returns how many.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(
        &self,
        component: &str,
        call: &str,
        reason: &str,
        records: &Records,
        points: &Points,
    ) -> std::io::Result<usize> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file: File = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let mut out = BufWriter::new(file);
        let failed_at = format_timestamp(now_nanos());
        for record in records.iter() {
            let line = json!({
                "failed_at": failed_at, "component": component, "call": call, "reason": reason,
                "received_at": format_timestamp(record.timestamp), "record": record.text(),
            });
            writeln!(out, "{line}")?;
        }
        for point in points.iter() {
            let fields: serde_json::Map<String, serde_json::Value> = point
                .fields()
                .map(|(k, v)| (k.to_owned(), json!(v.to_string())))
                .collect();
            let line = json!({
                "failed_at": failed_at, "component": component, "call": call, "reason": reason,
                "timestamp": format_timestamp(point.timestamp()), "series": point.series().to_string(), "fields": fields,
            });
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        out.get_ref().sync_data()?;
        Ok(records.len() + points.len())
    }
}
