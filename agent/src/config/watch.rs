//! Edits of the config file, for reloads.
//!
//! `notify` events on the file's directory (editors replace files by
//! renaming them, so the directory is watched, not the file), with a
//! once-a-second look at the file's modification time, size and inode as a
//! fallback: events are lost when the kernel's queue overflows (a busy
//! directory), a poll is not. An overflow or an error counts as a change: a
//! reload of an unchanged file changes nothing. Changes are debounced, so a
//! file written in several steps is read once, whole.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use notify::Watcher as _;

/// Edits of one config file.
#[derive(Debug)]
pub struct ConfigWatch {
    path: PathBuf,
    events: tokio::sync::mpsc::Receiver<()>,
    /// (modified, size, inode) when last read.
    seen: Option<(SystemTime, u64, u64)>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl ConfigWatch {
    /// How long the file must be quiet before it is read.
    const DEBOUNCE: Duration = Duration::from_millis(200);
    /// How often the file itself is looked at, events or not.
    const POLL: Duration = Duration::from_secs(1);

    /// Watch `path`.
    pub fn new(path: &Path) -> Self {
        let (tx, events) = tokio::sync::mpsc::channel(1);
        let name = path.file_name().map(std::ffi::OsStr::to_os_string);
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let ours = match (&event, &name) {
                (Ok(event), _) if event.need_rescan() => true,
                (Ok(event), Some(name)) => {
                    (event.kind.is_modify() || event.kind.is_create())
                        && event
                            .paths
                            .iter()
                            .any(|p| p.file_name() == Some(name.as_os_str()))
                }
                (Ok(_), None) => false,
                (Err(_), _) => true,
            };
            if ours {
                let _ = tx.try_send(());
            }
        })
        .and_then(|mut watcher| {
            let dir = path
                .parent()
                .filter(|dir| !dir.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            watcher.watch(dir, notify::RecursiveMode::NonRecursive)?;
            Ok(watcher)
        });
        let watcher = match watcher {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                tracing::info!(
                    "no file events for {} ({error}); looking at it every second",
                    path.display()
                );
                None
            }
        };
        Self {
            path: path.to_owned(),
            events,
            seen: stamp(path),
            _watcher: watcher,
        }
    }

    /// Resolves once the file has changed and then stayed quiet.
    pub async fn changed(&mut self) {
        loop {
            tokio::select! {
                event = self.events.recv() => {
                    if event.is_some() {
                        break;
                    }
                    // The watcher is gone: polling still works.
                    tokio::time::sleep(Self::POLL).await;
                    if stamp(&self.path) != self.seen {
                        break;
                    }
                }
                () = tokio::time::sleep(Self::POLL) => {
                    if stamp(&self.path) != self.seen {
                        break;
                    }
                }
            }
        }
        while tokio::time::timeout(Self::DEBOUNCE, self.events.recv())
            .await
            .is_ok_and(|event| event.is_some())
        {}
        self.seen = stamp(&self.path);
    }
}

/// What tells one version of the file from the next.
fn stamp(path: &Path) -> Option<(SystemTime, u64, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len(), metadata.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_edit_in_place_and_a_rename_over_the_file_are_both_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeline.yaml");
        std::fs::write(&path, "a: 1\n").unwrap();
        let mut watch = ConfigWatch::new(&path);
        std::fs::write(&path, "a: 2\n").unwrap();
        tokio::time::timeout(Duration::from_secs(5), watch.changed())
            .await
            .expect("an edit in place");
        let temp = dir.path().join(".pipeline.yaml.swp");
        std::fs::write(&temp, "a: 3\n").unwrap();
        std::fs::rename(&temp, &path).unwrap();
        tokio::time::timeout(Duration::from_secs(5), watch.changed())
            .await
            .expect("a rename over the file");
        // Quiet when nothing changes.
        assert!(
            tokio::time::timeout(Duration::from_millis(1500), watch.changed())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn without_events_the_poll_still_sees_an_edit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeline.yaml");
        std::fs::write(&path, "a: 1\n").unwrap();
        let mut watch = ConfigWatch::new(&path);
        watch._watcher = None;
        std::fs::write(&path, "a: 22\n").unwrap();
        tokio::time::timeout(Duration::from_secs(5), watch.changed())
            .await
            .expect("seen by polling");
    }
}
