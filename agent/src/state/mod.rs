//! Durable state: one redb database, `<data_dir>/state.redb`.
//!
//! It holds plugin snapshots, so that a restart (or a `kill -9`) does not
//! reset detector windows, and source checkpoints, committed only for data
//! that is durable downstream; alert state and the outbox will live here
//! too. redb gives crash-safe transactions, so a snapshot is either
//! the old one or the new one, never half of each.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, TableDefinition};

const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("plugin_snapshots");
const CHECKPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("source_checkpoints");

/// Errors of the state store.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The data directory cannot be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database failed (in use by another agent, corrupt, disk full).
    #[error("state store {path}: {source}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: Box<redb::Error>,
    },
}

/// The agent's durable state.
#[derive(Debug)]
pub struct StateStore {
    path: PathBuf,
    db: Database,
}

impl StateStore {
    /// Open (or create) the store in `data_dir`.
    ///
    /// # Errors
    /// When the directory cannot be created or the database cannot be opened,
    /// for instance because another agent holds it.
    pub fn open(data_dir: &Path) -> Result<Self, StateError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StateError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join("state.redb");
        let db = Database::create(&path).map_err(|e| StateError::Database {
            path: path.clone(),
            source: Box::new(e.into()),
        })?;
        Ok(Self { path, db })
    }

    fn err(&self, e: impl Into<redb::Error>) -> StateError {
        StateError::Database {
            path: self.path.clone(),
            source: Box::new(e.into()),
        }
    }

    /// The checkpoint saved under `key` (a source's own encoding).
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn load_checkpoint(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.get(CHECKPOINTS, key)
    }

    /// Save the checkpoint under `key`, durably: it is committed only for
    /// data that is durable downstream.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub fn save_checkpoint(&self, key: &str, checkpoint: &[u8]) -> Result<(), StateError> {
        self.put(CHECKPOINTS, key, checkpoint)
    }

    fn get(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StateError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = match txn.open_table(table) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.err(e)),
        };
        let value = table.get(key).map_err(|e| self.err(e))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn put(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
        value: &[u8],
    ) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = txn.open_table(table).map_err(|e| self.err(e))?;
            table.insert(key, value).map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// The last snapshot saved for `component`.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn load_snapshot(&self, component: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.get(SNAPSHOTS, component)
    }

    /// Save the snapshot of `component`, durably.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub fn save_snapshot(&self, component: &str, snapshot: &[u8]) -> Result<(), StateError> {
        self.put(SNAPSHOTS, component, snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = StateStore::open(dir.path()).unwrap();
            assert_eq!(store.load_snapshot("detect").unwrap(), None);
            store.save_snapshot("detect", b"one").unwrap();
            store.save_snapshot("detect", b"two").unwrap();
        }
        let store = StateStore::open(dir.path()).unwrap();
        assert_eq!(
            store.load_snapshot("detect").unwrap().as_deref(),
            Some(&b"two"[..])
        );
        assert_eq!(store.load_snapshot("other").unwrap(), None);
    }
}
