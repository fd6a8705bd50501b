//! Wake-ups for a followed file: `notify` events on its directory, with
//! polling as the fallback.
//!
//! The directory is watched, not the file, so a rename rotation and the new
//! file's creation are seen too. When a watch cannot be set up (an inotify
//! limit, a filesystem without events) the source polls every
//! `poll_interval`, which it does anyway as a safety net: events can be lost
//! under load, a timer cannot.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::Notify;

/// Signals that something changed in the watched directory.
#[derive(Debug)]
pub(super) struct Watch {
    changed: Arc<Notify>,
    /// Kept alive for as long as events are wanted; `None` when polling only.
    _watcher: Option<RecommendedWatcher>,
}

impl Watch {
    /// Watch the directory of `path`.
    pub(super) fn new(component: &str, path: &Path) -> Self {
        let changed = Arc::new(Notify::new());
        let wake = Arc::clone(&changed);
        let name = path.file_name().map(std::ffi::OsStr::to_os_string);
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let relevant = match (&event, &name) {
                (Ok(event), Some(name)) => event.paths.iter().any(|changed| {
                    changed.file_name().is_some_and(|file| {
                        file.as_encoded_bytes().starts_with(name.as_encoded_bytes())
                    })
                }),
                _ => true,
            };
            if relevant {
                wake.notify_one();
            }
        })
        .and_then(|mut watcher| {
            let dir = path
                .parent()
                .filter(|dir| !dir.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            watcher.watch(dir, RecursiveMode::NonRecursive)?;
            Ok(watcher)
        });
        let watcher = match watcher {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                tracing::info!(
                    component,
                    path = %path.display(),
                    "no file events ({error}); polling only"
                );
                None
            }
        };
        Self {
            changed,
            _watcher: watcher,
        }
    }

    /// Watch the directories of a glob source (`(directory, recursive)`):
    /// any change in them wakes the reader.
    pub(super) fn directories(component: &str, roots: &[(PathBuf, bool)]) -> Self {
        let changed = Arc::new(Notify::new());
        let wake = Arc::clone(&changed);
        let watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
            wake.notify_one();
        });
        let watcher = match watcher {
            Ok(mut watcher) => {
                for (root, recursive) in roots {
                    let mode = if *recursive {
                        RecursiveMode::Recursive
                    } else {
                        RecursiveMode::NonRecursive
                    };
                    // A directory that does not exist yet is polled.
                    if let Err(error) = watcher.watch(root, mode) {
                        tracing::info!(component, directory = %root.display(), "no file events ({error}); polling it");
                    }
                }
                Some(watcher)
            }
            Err(error) => {
                tracing::info!(component, "no file events ({error}); polling only");
                None
            }
        };
        Self {
            changed,
            _watcher: watcher,
        }
    }

    /// Resolves at the next change (or at once if one came since the last call).
    pub(super) async fn changed(&self) {
        self.changed.notified().await;
    }
}
