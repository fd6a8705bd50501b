//! A processor's rejects in its error log ([`crate::error_log`]): each item
//! a plugin rejected, the raw record or the point rendered, with the reason.

use crate::error_log::ErrorLog;
use crate::event::{Points, Records};
use crate::processors::wasm::RejectedItem;

impl ErrorLog {
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
                        .map_or((0, String::new()), |r| (r.timestamp, r.text().into_owned()));
                    self.write_item(ts, component, reason, &text)?;
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
                    self.write_item(ts, component, reason, &text)?;
                }
            }
        }
        self.flush()
    }
}
