//! Dead letters: the input of a plugin call that failed (trap, timeout,
//! memory, invalid output) or that arrived while the plugin was down, one
//! JSON line per record, point or alert with the reason, in
//! `<data_dir>/dead_letter/<component>.ndjson`. Nothing a broken plugin
//! touched is lost; it can be replayed once the plugin is fixed.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::event::{Alert, Points, Records, format_timestamp, now_nanos};
use crate::log_file::LogFile;
use crate::log_file::LogFilesConfig;

/// The dead-letter file of one processor.
#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
    limits: LogFilesConfig,
    /// Opened on the first failure.
    out: Option<LogFile>,
}

impl DeadLetter {
    /// The dead-letter file of `component` under `data_dir`, rotated by
    /// size as `limits` says.
    pub fn new(data_dir: &Path, component: &str, limits: LogFilesConfig) -> Self {
        Self {
            path: data_dir
                .join("dead_letter")
                .join(format!("{component}.ndjson")),
            limits,
            out: None,
        }
    }

    /// Where it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append every record, point and alert of a failed batch; returns how
    /// many.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(
        &mut self,
        component: &str,
        call: &str,
        reason: &str,
        records: &Records,
        points: &Points,
        alerts: &[Alert],
    ) -> std::io::Result<usize> {
        if records.is_empty() && points.is_empty() && alerts.is_empty() {
            return Ok(0);
        }
        let out = match &mut self.out {
            Some(out) => out,
            None => self.out.insert(LogFile::open(&self.path, self.limits)?),
        };
        let failed_at = format_timestamp(now_nanos());
        for record in records.iter() {
            let line = json!({
                "failed_at": failed_at, "component": component, "call": call, "reason": reason,
                "received_at": format_timestamp(record.timestamp), "record": record.text(),
            });
            out.write_record(&[line.to_string().as_bytes(), b"\n"])?;
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
            out.write_record(&[line.to_string().as_bytes(), b"\n"])?;
        }
        for alert in alerts {
            let line = json!({
                "failed_at": failed_at, "component": component, "call": call, "reason": reason,
                "alert": alert.to_json(),
            });
            out.write_record(&[line.to_string().as_bytes(), b"\n"])?;
        }
        out.sync()?;
        Ok(records.len() + points.len() + alerts.len())
    }
}
