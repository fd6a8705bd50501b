//! Durable state: one redb database, `<data_dir>/state.redb`.
//!
//! It holds plugin snapshots, so that a restart (or a `kill -9`) does not
//! reset detector windows, and source checkpoints, committed only for data
//! that is durable downstream; alert state and the outbox will live here
//! too. redb gives crash-safe transactions, so a snapshot is either
//! the old one or the new one, never half of each.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("plugin_snapshots");
const CHECKPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("source_checkpoints");
const ALERT_GROUPS: TableDefinition<&str, &[u8]> = TableDefinition::new("alert_groups");
const ALERT_OUTBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("alert_outbox");
const SILENCES: TableDefinition<&str, &[u8]> = TableDefinition::new("silences");

/// What an alert stage changed since its last commit: groups and outbox
/// entries written (`Some`) or deleted (`None`).
#[derive(Debug, Default)]
pub struct AlertChanges {
    /// By group key.
    pub groups: Vec<(String, Option<Vec<u8>>)>,
    /// By outbox sequence number.
    pub outbox: Vec<(u64, Option<Vec<u8>>)>,
}

impl AlertChanges {
    /// Whether there is nothing to commit.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.outbox.is_empty()
    }
}

/// What an alert stage saved: its groups and its outbox, in key order.
#[derive(Debug, Default)]
pub struct AlertState {
    /// Each group's saved form.
    pub groups: Vec<Vec<u8>>,
    /// Each pending notification's saved form, by sequence number.
    pub outbox: Vec<(u64, Vec<u8>)>,
}

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
        let db = match Database::create(&path) {
            Ok(db) => db,
            Err(error) if is_corrupt(&error) => {
                let aside = move_aside(&path).map_err(|source| StateError::DataDir {
                    path: path.clone(),
                    source,
                })?;
                tracing::error!(
                    state = %path.display(),
                    moved_to = %aside.display(),
                    "the state store is unreadable ({error}); moved it aside and starting \
                     with empty state (checkpoints and plugin snapshots are lost)"
                );
                Database::create(&path).map_err(|e| StateError::Database {
                    path: path.clone(),
                    source: Box::new(e.into()),
                })?
            }
            Err(error) => {
                return Err(StateError::Database {
                    path,
                    source: Box::new(error.into()),
                });
            }
        };
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

    /// Every checkpoint whose key starts with `prefix`, by key.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn load_checkpoints(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StateError> {
        self.scan(CHECKPOINTS, prefix)
    }

    /// Forget the checkpoints in `remove`, then save those in `save`, in one
    /// durable transaction (a source with many streams, such as a file
    /// source over a glob, commits them all at once).
    ///
    /// # Errors
    /// When the database cannot be written.
    pub fn commit_checkpoints(
        &self,
        save: &[(String, Vec<u8>)],
        remove: &[String],
    ) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = txn.open_table(CHECKPOINTS).map_err(|e| self.err(e))?;
            for key in remove {
                table.remove(key.as_str()).map_err(|e| self.err(e))?;
            }
            for (key, value) in save {
                table
                    .insert(key.as_str(), value.as_slice())
                    .map_err(|e| self.err(e))?;
            }
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// Everything alert stage `stage` saved.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn load_alerts(&self, stage: &str) -> Result<AlertState, StateError> {
        let prefix = format!("{stage}\0");
        let groups = self.scan(ALERT_GROUPS, &prefix)?;
        let outbox = self.scan(ALERT_OUTBOX, &prefix)?;
        Ok(AlertState {
            groups: groups.into_iter().map(|(_, value)| value).collect(),
            outbox: outbox
                .into_iter()
                .filter_map(|(key, value)| {
                    let seq = key.strip_prefix(&prefix)?.parse().ok()?;
                    Some((seq, value))
                })
                .collect(),
        })
    }

    /// Commit what alert stage `stage` changed, durably and all at once: a
    /// crash leaves the state before or after, never half of it.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub fn commit_alerts(&self, stage: &str, changes: &AlertChanges) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut groups = txn.open_table(ALERT_GROUPS).map_err(|e| self.err(e))?;
            for (key, value) in &changes.groups {
                let key = format!("{stage}\0{key}");
                match value {
                    Some(value) => groups.insert(key.as_str(), value.as_slice()).map(drop),
                    None => groups.remove(key.as_str()).map(drop),
                }
                .map_err(|e| self.err(e))?;
            }
            let mut outbox = txn.open_table(ALERT_OUTBOX).map_err(|e| self.err(e))?;
            for (seq, value) in &changes.outbox {
                // Zero-padded, so key order is sequence order.
                let key = format!("{stage}\0{seq:020}");
                match value {
                    Some(value) => outbox.insert(key.as_str(), value.as_slice()).map(drop),
                    None => outbox.remove(key.as_str()).map(drop),
                }
                .map_err(|e| self.err(e))?;
            }
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// Every silence saved, by id.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn load_silences(&self) -> Result<Vec<(String, Vec<u8>)>, StateError> {
        self.scan(SILENCES, "")
    }

    /// Save silence `id` (a new one, or one expired early), durably.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub fn save_silence(&self, id: &str, silence: &[u8]) -> Result<(), StateError> {
        self.put(SILENCES, id, silence)
    }

    /// Forget silence `id` (long expired).
    ///
    /// # Errors
    /// When the database cannot be written.
    pub fn remove_silence(&self, id: &str) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = txn.open_table(SILENCES).map_err(|e| self.err(e))?;
            table.remove(id).map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// Every `(key, value)` of `table` whose key starts with `prefix`.
    fn scan(
        &self,
        table: TableDefinition<&str, &[u8]>,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StateError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = match txn.open_table(table) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(self.err(e)),
        };
        let mut found = Vec::new();
        for entry in table.range(prefix..).map_err(|e| self.err(e))? {
            let (key, value) = entry.map_err(|e| self.err(e))?;
            if !key.value().starts_with(prefix) {
                break;
            }
            found.push((key.value().to_owned(), value.value().to_vec()));
        }
        Ok(found)
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

    /// The key of a processor's snapshots: its name, the digest of its
    /// plugin and of its plugin config, so a changed plugin or config never
    /// receives state that another one saved.
    pub fn snapshot_key(component: &str, plugin_digest: &str, config: &str) -> String {
        use sha2::Digest as _;
        let config_digest = hex::encode(&sha2::Sha256::digest(config.as_bytes())[..8]);
        let plugin = plugin_digest.get(..16).unwrap_or(plugin_digest);
        format!("{component}@{plugin}:{config_digest}")
    }

    /// Forget the snapshots of `component` saved under any key but `keep`
    /// (an earlier plugin or config), so they do not pile up.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub fn prune_snapshots(&self, component: &str, keep: &str) -> Result<usize, StateError> {
        let prefix = format!("{component}@");
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        let removed = {
            let mut table = txn.open_table(SNAPSHOTS).map_err(|e| self.err(e))?;
            let stale: Vec<String> = table
                .iter()
                .map_err(|e| self.err(e))?
                .filter_map(Result::ok)
                .map(|(key, _)| key.value().to_owned())
                .filter(|key| (key.starts_with(&prefix) || key == component) && key != keep)
                .collect();
            for key in &stale {
                table.remove(key.as_str()).map_err(|e| self.err(e))?;
            }
            stale.len()
        };
        txn.commit().map_err(|e| self.err(e))?;
        Ok(removed)
    }

    /// The last snapshot saved under `key` (see [`StateStore::snapshot_key`]).
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn load_snapshot(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.get(SNAPSHOTS, key)
    }

    /// Save a snapshot under `key`, durably.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub fn save_snapshot(&self, key: &str, snapshot: &[u8]) -> Result<(), StateError> {
        self.put(SNAPSHOTS, key, snapshot)
    }
}

/// Whether opening failed because the file is damaged, rather than because
/// another agent holds it or it cannot be reached at all.
fn is_corrupt(error: &redb::DatabaseError) -> bool {
    match error {
        redb::DatabaseError::DatabaseAlreadyOpen => false,
        redb::DatabaseError::Storage(redb::StorageError::Io(io)) => !matches!(
            io.kind(),
            std::io::ErrorKind::PermissionDenied
                | std::io::ErrorKind::WouldBlock
                | std::io::ErrorKind::StorageFull
        ),
        _ => true,
    }
}

/// Rename an unreadable file `path` to `<path>.corrupt-<unix seconds>`, so
/// a fresh one can start and the old one can still be looked at.
///
/// # Errors
/// When the rename fails.
pub fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".corrupt-{seconds}"));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside)?;
    Ok(aside)
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

    #[test]
    fn checkpoints_commit_and_scan_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        let save = |key: &str, value: &[u8]| (key.to_owned(), value.to_vec());
        store
            .commit_checkpoints(
                &[
                    save("file:a:x", b"1"),
                    save("file:a:y", b"2"),
                    save("file:ab", b"3"),
                ],
                &[],
            )
            .unwrap();
        store
            .commit_checkpoints(&[save("file:a:z", b"4")], &["file:a:x".to_owned()])
            .unwrap();
        let found = store.load_checkpoints("file:a:").unwrap();
        assert_eq!(
            found,
            [save("file:a:y", b"2"), save("file:a:z", b"4")],
            "saved and removed in one go, and only under the prefix"
        );
        assert_eq!(
            store.load_checkpoint("file:ab").unwrap().as_deref(),
            Some(&b"3"[..])
        );
    }

    #[test]
    fn a_corrupt_store_is_moved_aside_and_a_new_one_starts() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = vec![0xa5_u8; 8192];
        std::fs::write(dir.path().join("state.redb"), &garbage).unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        store.save_snapshot("detect", b"fresh").unwrap();
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("state.redb.corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(std::fs::read(dir.path().join(&aside[0])).unwrap(), garbage);
    }

    #[test]
    fn snapshot_keys_tell_plugins_and_configs_apart_and_old_ones_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        let old = StateStore::snapshot_key("detect", "aaaa", "{\"window\":10}");
        let new_plugin = StateStore::snapshot_key("detect", "bbbb", "{\"window\":10}");
        let new_config = StateStore::snapshot_key("detect", "aaaa", "{\"window\":20}");
        assert_ne!(old, new_plugin);
        assert_ne!(old, new_config);
        store.save_snapshot(&old, b"old").unwrap();
        store
            .save_snapshot("detect-other@aaaa:00", b"keep")
            .unwrap();
        assert_eq!(store.load_snapshot(&new_plugin).unwrap(), None);
        assert_eq!(store.prune_snapshots("detect", &new_plugin).unwrap(), 1);
        assert_eq!(store.load_snapshot(&old).unwrap(), None);
        assert!(
            store
                .load_snapshot("detect-other@aaaa:00")
                .unwrap()
                .is_some()
        );
    }
}
