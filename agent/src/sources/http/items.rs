//! What decoding a request body gives: the items taken and those rejected,
//! shared by the text decoders and the OTLP one.

use crate::event::{Points, Records};

/// What one body gave.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    /// Raw records (text decodings).
    pub records: Records,
    /// Points (OTLP).
    pub points: Points,
    /// What was not taken.
    pub rejects: Vec<Reject>,
}

impl Decoded {
    /// Items taken.
    pub fn accepted(&self) -> usize {
        self.records.len() + self.points.len()
    }
}

/// One item that was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    /// A short, fixed reason, the metric label: `invalid_utf8`,
    /// `invalid_json`, `csv_cells`, `too_long`, `invalid_otlp`.
    pub reason: &'static str,
    /// What is wrong, for the error log.
    pub detail: String,
    /// The item (at most [`Reject::SAMPLE`] bytes of it), lossily as text.
    pub item: String,
}

impl Reject {
    /// How much of a rejected item is kept for the error log.
    pub const SAMPLE: usize = 1024;

    pub fn new(reason: &'static str, detail: impl Into<String>, item: &[u8]) -> Self {
        let cut = &item[..item.len().min(Self::SAMPLE)];
        Self {
            reason,
            detail: detail.into(),
            item: String::from_utf8_lossy(cut).into_owned(),
        }
    }
}
