//! Raw records: payloads concatenated in one buffer with end offsets.

/// A batch of raw records (lines, messages) with their receive times.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Records {
    /// Payloads, concatenated.
    pub data: Vec<u8>,
    /// End offset of each payload in `data`.
    pub ends: Vec<u32>,
    /// Receive time of each record, nanoseconds since the Unix epoch.
    pub timestamps: Vec<i64>,
}

/// One raw record, borrowed from a [`Records`] batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record<'a> {
    /// Position of the record in its batch.
    pub index: usize,
    /// Receive time, nanoseconds since the Unix epoch.
    pub timestamp: i64,
    /// The payload.
    pub bytes: &'a [u8],
}

impl Record<'_> {
    /// The payload as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.bytes)
    }
}

impl Records {
    /// An empty batch with room for `records` payloads of `bytes` in total.
    pub fn with_capacity(records: usize, bytes: usize) -> Self {
        Self {
            data: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(records),
            timestamps: Vec::with_capacity(records),
        }
    }

    /// Append one payload.
    ///
    /// # Panics
    /// When the batch would exceed 4 GiB of payload, which the batching
    /// limits of every source keep far away from.
    pub fn push(&mut self, timestamp: i64, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        self.ends
            .push(u32::try_from(self.data.len()).expect("record batch larger than 4 GiB"));
        self.timestamps.push(timestamp);
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Total payload bytes.
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }

    /// The record at `index`.
    pub fn get(&self, index: usize) -> Option<Record<'_>> {
        let end = *self.ends.get(index)? as usize;
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize
        };
        Some(Record {
            index,
            timestamp: self.timestamps.get(index).copied().unwrap_or_default(),
            bytes: self.data.get(start..end)?,
        })
    }

    /// Iterate over the records in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Record<'_>> + '_ {
        let mut start = 0usize;
        self.ends.iter().enumerate().map(move |(index, &end)| {
            let end = end as usize;
            let bytes = &self.data[start.min(end)..end];
            start = end;
            Record {
                index,
                timestamp: self.timestamps[index],
                bytes,
            }
        })
    }

    /// Remove every record, keeping the allocations.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.timestamps.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_and_iterate_round_trips_payloads() {
        let mut records = Records::default();
        records.push(1, b"T:1");
        records.push(2, b"");
        records.push(3, b"V:5.0");
        let got: Vec<_> = records
            .iter()
            .map(|r| (r.timestamp, r.bytes.to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![(1, b"T:1".to_vec()), (2, vec![]), (3, b"V:5.0".to_vec())]
        );
        assert_eq!(records.get(2).unwrap().bytes, b"V:5.0");
        assert_eq!(records.get(1).unwrap().bytes, b"");
        assert!(records.get(3).is_none());
    }
}
