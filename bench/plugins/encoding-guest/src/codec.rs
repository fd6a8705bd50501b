//! The compact buffer encoding of the `buffer` candidate, shared by the guest
//! and the benchmark host (which includes this file by path).
//!
//! Little endian: series count, then each series (name, tag count, tags);
//! column count, then each column name; point count; then per point its
//! series index and timestamp, then one f64 per column. Strings are a u32
//! length and UTF-8 bytes.

/// Decoded points: what a plugin would work with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plain {
    /// (name, tags) of each series.
    pub series: Vec<(String, Vec<(String, String)>)>,
    /// Column names.
    pub names: Vec<String>,
    /// Per point, its series.
    pub series_index: Vec<u32>,
    /// Per point, its timestamp.
    pub timestamps: Vec<i64>,
    /// Per column, one value per point.
    pub values: Vec<Vec<f64>>,
}

fn read_u32(bytes: &[u8], at: &mut usize) -> u32 {
    let value = u32::from_le_bytes(bytes[*at..*at + 4].try_into().unwrap());
    *at += 4;
    value
}

fn read_str(bytes: &[u8], at: &mut usize) -> String {
    let len = read_u32(bytes, at) as usize;
    let text = String::from_utf8_lossy(&bytes[*at..*at + len]).into_owned();
    *at += len;
    text
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&u32::try_from(text.len()).unwrap().to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

fn count(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap().to_le_bytes()
}

/// Decode a buffer written by [`encode`].
pub fn decode(bytes: &[u8]) -> Plain {
    let mut at = 0;
    let series = (0..read_u32(bytes, &mut at))
        .map(|_| {
            let name = read_str(bytes, &mut at);
            let tags = (0..read_u32(bytes, &mut at))
                .map(|_| (read_str(bytes, &mut at), read_str(bytes, &mut at)))
                .collect();
            (name, tags)
        })
        .collect();
    let names: Vec<String> = (0..read_u32(bytes, &mut at))
        .map(|_| read_str(bytes, &mut at))
        .collect();
    let n = read_u32(bytes, &mut at) as usize;
    let mut plain = Plain {
        series,
        series_index: Vec::with_capacity(n),
        timestamps: Vec::with_capacity(n),
        values: vec![Vec::with_capacity(n); names.len()],
        names,
    };
    for _ in 0..n {
        plain.series_index.push(read_u32(bytes, &mut at));
        plain
            .timestamps
            .push(i64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()));
        at += 8;
        for column in &mut plain.values {
            column.push(f64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()));
            at += 8;
        }
    }
    plain
}

/// Encode `plain` into `out`.
pub fn encode(plain: &Plain, out: &mut Vec<u8>) {
    out.extend_from_slice(&count(plain.series.len()));
    for (name, tags) in &plain.series {
        write_str(out, name);
        out.extend_from_slice(&count(tags.len()));
        for (k, v) in tags {
            write_str(out, k);
            write_str(out, v);
        }
    }
    out.extend_from_slice(&count(plain.names.len()));
    for name in &plain.names {
        write_str(out, name);
    }
    out.extend_from_slice(&count(plain.timestamps.len()));
    for i in 0..plain.timestamps.len() {
        out.extend_from_slice(&plain.series_index[i].to_le_bytes());
        out.extend_from_slice(&plain.timestamps[i].to_le_bytes());
        for column in &plain.values {
            out.extend_from_slice(&column[i].to_le_bytes());
        }
    }
}
