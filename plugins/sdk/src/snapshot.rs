//! Encoding plugin state for [`crate::Processor::snapshot`].
//!
//! Snapshots are JSON, so that a snapshot taken by one version of a plugin can
//! be read, or at least inspected, by the next.

use serde::{Serialize, de::DeserializeOwned};

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
