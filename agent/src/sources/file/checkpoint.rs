//! Where a file source stopped: a file's fingerprint and an offset in it.
//!
//! A file is recognised by the SHA-256 of its first bytes (up to
//! [`FINGERPRINT_BYTES`]), as Vector's `checksum` fingerprint does, not by its
//! name or inode: after a rotation the name points at a new file, and inodes
//! are reused. A checkpoint records how many bytes its fingerprint covers, so
//! a file that was short when it was taken is still recognised once it has
//! grown.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How many leading bytes identify a file.
pub(super) const FINGERPRINT_BYTES: usize = 1024;

/// A committed position, as stored in the state store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Checkpoint {
    /// The configured path (the logical source, not a rotated sibling).
    pub path: PathBuf,
    /// Hex SHA-256 of the file's first `fingerprint_len` bytes.
    pub fingerprint: String,
    /// How many bytes the fingerprint covers.
    pub fingerprint_len: usize,
    /// The offset just after the last acknowledged line.
    pub offset: u64,
}

/// The fingerprint of `head` (a file's first bytes).
pub(super) fn fingerprint(head: &[u8]) -> String {
    hex::encode(&Sha256::digest(head)[..16])
}

/// The first bytes of `file`, up to [`FINGERPRINT_BYTES`].
pub(super) fn read_head(file: &File) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0; FINGERPRINT_BYTES];
    let mut filled = 0;
    while filled < head.len() {
        match file.read_at(&mut head[filled..], filled as u64)? {
            0 => break,
            n => filled += n,
        }
    }
    head.truncate(filled);
    Ok(head)
}

impl Checkpoint {
    /// Whether `head` (the first bytes of some file) is the checkpointed file.
    pub(super) fn matches(&self, head: &[u8]) -> bool {
        head.len() >= self.fingerprint_len
            && fingerprint(&head[..self.fingerprint_len]) == self.fingerprint
    }
}

/// Rotated siblings of `path` in its directory (`app.log.1`, `app.log-2026…`,
/// not compressed ones) with their modification times, newest first.
pub(super) fn siblings(path: &Path) -> Vec<(SystemTime, PathBuf)> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let other = entry.file_name();
            let other = other.to_string_lossy();
            other.len() > name.len()
                && other.starts_with(&*name)
                && ![".gz", ".bz2", ".xz", ".zst"]
                    .iter()
                    .any(|ext| other.ends_with(ext))
        })
        .filter_map(|entry| {
            let modified = entry.metadata().ok()?.modified().ok()?;
            Some((modified, entry.path()))
        })
        .collect();
    found.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    found
}

/// A rotated file to read: its path, the open file, when it was last written.
pub(super) type Rotated = (PathBuf, File, SystemTime);

/// The sibling of `path` that holds the checkpointed file with more than
/// `checkpoint.offset` bytes, if any: the rest of a file rotated away
/// (renamed, or copied before a truncation) before it was read to the end.
pub(super) fn find_rotated(path: &Path, checkpoint: &Checkpoint) -> Option<Rotated> {
    siblings(path).into_iter().find_map(|(modified, sibling)| {
        let file = File::open(&sibling).ok()?;
        let len = file.metadata().ok()?.len();
        let head = read_head(&file).ok()?;
        (len > checkpoint.offset && checkpoint.matches(&head)).then_some((sibling, file, modified))
    })
}

/// Siblings of `path` last written after `since`, oldest first, but `except`:
/// files rotated after the checkpointed one, so never read (a checkpoint
/// moves in order, so what came after it was not acknowledged).
pub(super) fn rotated_since(path: &Path, since: SystemTime, except: &Path) -> Vec<Rotated> {
    let mut newer: Vec<Rotated> = siblings(path)
        .into_iter()
        .filter(|(modified, sibling)| *modified > since && sibling != except)
        .filter_map(|(modified, sibling)| {
            Some((sibling.clone(), File::open(&sibling).ok()?, modified))
        })
        .collect();
    newer.reverse();
    newer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_file_is_still_recognised_after_it_grows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "a\n").unwrap();
        let head = read_head(&File::open(&path).unwrap()).unwrap();
        let checkpoint = Checkpoint {
            path: path.clone(),
            fingerprint: fingerprint(&head),
            fingerprint_len: head.len(),
            offset: 2,
        };
        std::fs::write(&path, "a\n".repeat(2000)).unwrap();
        let grown = read_head(&File::open(&path).unwrap()).unwrap();
        assert_eq!(grown.len(), FINGERPRINT_BYTES);
        assert!(checkpoint.matches(&grown));
        assert!(!checkpoint.matches(b"b\n"));
        assert!(!checkpoint.matches(b""), "a truncated file is another file");
    }

    #[test]
    fn the_rest_of_a_rotated_file_is_found_among_its_siblings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(dir.path().join("app.log.1"), "one\ntwo\n").unwrap();
        std::fs::write(dir.path().join("app.log.2.gz"), "one\ntwo\n").unwrap();
        std::fs::write(dir.path().join("other.log"), "one\ntwo\n").unwrap();
        std::fs::write(&path, "three\n").unwrap();
        let checkpoint = Checkpoint {
            path: path.clone(),
            fingerprint: fingerprint(b"one\n"),
            fingerprint_len: 4,
            offset: 4,
        };
        let (found, _, _) = find_rotated(&path, &checkpoint).unwrap();
        assert_eq!(found, dir.path().join("app.log.1"));
        let read_to_end = Checkpoint {
            offset: 8,
            ..checkpoint
        };
        assert!(
            find_rotated(&path, &read_to_end).is_none(),
            "nothing left in it"
        );
    }
}
