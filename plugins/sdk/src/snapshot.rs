//! Encoding plugin state for [`crate::Processor::snapshot`].
//!
//! Snapshots are JSON, so that a snapshot taken by one version of a plugin can
//! be read, or at least inspected, by the next.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{PerSeries, Saved};

/// Encode `state` as snapshot bytes.
///
/// # Panics
/// When `state` cannot be represented as JSON (a map with non-string keys).
pub fn encode<T: Serialize>(state: &T) -> Vec<u8> {
    serde_json::to_vec(state).expect("plugin state must serialize to JSON")
}

/// Decode snapshot bytes written by [`encode`].
///
/// # Errors
/// When the bytes are not a snapshot of `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("unreadable snapshot: {e}"))
}

/// A [`PerSeries`] table as snapshot bytes, with `key`: what its states were
/// computed for (the fields, a window, a decay…). `key` must serialize as a
/// struct; its fields sit beside `series` in the JSON, so a plugin that used
/// to write `{fields, depth, series}` by hand writes the same bytes.
///
/// # Panics
/// As [`encode`].
pub fn encode_table<K: Serialize, T: Serialize>(key: &K, table: &PerSeries<T>) -> Vec<u8> {
    encode(&TableRef {
        key,
        series: table
            .iter()
            .map(|(series, history)| SavedRef {
                name: &series.name,
                tags: &series.tags,
                history,
            })
            .collect(),
    })
}

/// Restore `table` from bytes written by [`encode_table`]. A snapshot taken
/// for another `key` (the fields or the window changed in the config) leaves
/// the table empty: the series start afresh rather than misplace what they
/// remembered. Otherwise each state is checked by `check`, as
/// [`PerSeries::load`] does.
///
/// # Errors
/// When the bytes are not such a snapshot, or `check` refuses a state.
pub fn decode_table<K, T>(
    bytes: &[u8],
    key: &K,
    table: &mut PerSeries<T>,
    check: impl FnMut(&mut T) -> Result<(), String>,
) -> Result<(), String>
where
    K: DeserializeOwned + PartialEq,
    T: DeserializeOwned,
{
    let saved: Table<K, T> = decode(bytes)?;
    table.clear();
    if saved.key != *key {
        return Ok(());
    }
    table.load(saved.series, check)
}

#[derive(Serialize)]
struct TableRef<'a, K, T> {
    #[serde(flatten)]
    key: &'a K,
    series: Vec<SavedRef<'a, T>>,
}

/// [`Saved`], borrowed: the same JSON without copying the table.
#[derive(Serialize)]
struct SavedRef<'a, T> {
    name: &'a str,
    tags: &'a [(String, String)],
    history: &'a T,
}

#[derive(Deserialize)]
struct Table<K, T> {
    #[serde(flatten)]
    key: K,
    series: Vec<Saved<T>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Series;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Key {
        fields: Vec<String>,
        depth: usize,
    }

    fn key(depth: usize) -> Key {
        Key {
            fields: vec!["t".to_owned()],
            depth,
        }
    }

    #[test]
    fn a_table_comes_back_only_under_the_same_key() {
        let mut table: PerSeries<Vec<u32>> = PerSeries::new();
        let a = table.slot(&Series::new("a").with_tag("k", "v"), Vec::new);
        table.get_mut(a).push(7);
        let bytes = encode_table(&key(2), &table);
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"fields": ["t"], "depth": 2, "series": [
                {"name": "a", "tags": [["k", "v"]], "history": [7]}
            ]}),
            "the layout of a hand-written {{fields, depth, series}} snapshot"
        );

        let mut restored = PerSeries::new();
        decode_table(&bytes, &key(2), &mut restored, |_| Ok(())).unwrap();
        assert_eq!(restored.save(), table.save());

        decode_table(&bytes, &key(3), &mut restored, |_| Ok(())).unwrap();
        assert!(restored.is_empty(), "another key starts afresh");

        let refused = decode_table(&bytes, &key(2), &mut restored, |_| Err("no".to_owned()));
        assert_eq!(refused, Err("no".to_owned()));
        assert!(restored.is_empty());
        assert!(decode_table(b"{}", &key(2), &mut restored, |_| Ok(())).is_err());
    }
}
