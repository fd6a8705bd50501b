//! The append-only files the agent keeps on its own (serial audit logs,
//! processor error logs, dead letters), rotated by size so they cannot fill
//! the disk.
//!
//! Records are written whole: a file that would pass `max_size` with the
//! next record is renamed to `<file>.1` first (older ones shift to `.2`,
//! `.3`, … and the one past `keep` is deleted), and a new file is started.
//! Disk use per file is therefore at most `(keep + 1) × max_size` plus one
//! record (`log_files` in the pipeline; defaults 100 MiB and 5).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::settings::units;

/// `log_files`: how the agent's own append-only files are bounded on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogFilesConfig {
    /// `max_size`: a file past this size is renamed to `<file>.1` (older
    /// ones shift to `.2`, `.3`, ...) and a new one is started. Default
    /// `100MiB`, from `4KiB` up.
    pub max_size: units::ByteSize,
    /// `keep`: rotated files kept; the oldest beyond it is deleted. Default 5,
    /// from 0 to 1000. Disk use per file is at most `(keep + 1) * max_size`.
    pub keep: usize,
}

impl Default for LogFilesConfig {
    fn default() -> Self {
        Self {
            max_size: units::ByteSize(100 * 1024 * 1024),
            keep: 5,
        }
    }
}

/// An append-only file rotated by size.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    out: BufWriter<File>,
    len: u64,
    limits: LogFilesConfig,
}

impl LogFile {
    /// Open `path` for appending, creating its directory.
    ///
    /// # Errors
    /// When the directory or the file cannot be created.
    pub fn open(path: &Path, limits: LogFilesConfig) -> std::io::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            out: BufWriter::with_capacity(64 * 1024, file),
            len,
            limits,
        })
    }

    /// Where it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record made of `parts`, rotating first if it would not fit.
    ///
    /// # Errors
    /// When writing or rotating fails.
    pub fn write_record(&mut self, parts: &[&[u8]]) -> std::io::Result<()> {
        let size: u64 = parts.iter().map(|part| part.len() as u64).sum();
        if self.len > 0 && self.len + size > self.limits.max_size.0 {
            self.rotate()?;
        }
        for part in parts {
            self.out.write_all(part)?;
        }
        self.len += size;
        Ok(())
    }

    /// Hand what was written to the OS.
    ///
    /// # Errors
    /// When the write fails.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Flush and wait until it is on disk.
    ///
    /// # Errors
    /// When the write or the sync fails.
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        let keep = self.limits.keep;
        if keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            match std::fs::remove_file(self.rotated(keep)) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
            for n in (1..keep).rev() {
                match std::fs::rename(self.rotated(n), self.rotated(n + 1)) {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                        return Err(error);
                    }
                    _ => {}
                }
            }
            std::fs::rename(&self.path, self.rotated(1))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.out = BufWriter::with_capacity(64 * 1024, file);
        self.len = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ByteSize;

    #[test]
    fn rotates_by_size_and_keeps_only_so_many_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/errors.log");
        let limits = LogFilesConfig {
            max_size: ByteSize(100),
            keep: 2,
        };
        let mut log = LogFile::open(&path, limits).unwrap();
        for i in 0..50 {
            let line = format!("record {i:03} {}\n", "x".repeat(20));
            log.write_record(&[line.as_bytes()]).unwrap();
        }
        log.flush().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["errors.log", "errors.log.1", "errors.log.2"]);
        for name in &names {
            let text = std::fs::read_to_string(dir.path().join("logs").join(name)).unwrap();
            assert!(text.len() <= 100, "{name}: {} bytes", text.len());
            assert!(
                text.lines().all(|l| l.starts_with("record ")),
                "whole records"
            );
        }
        let newest = std::fs::read_to_string(&path).unwrap();
        assert!(newest.ends_with(&format!("record 049 {}\n", "x".repeat(20))));
        let previous = std::fs::read_to_string(dir.path().join("logs/errors.log.1")).unwrap();
        assert!(previous.contains("record 047"), "{previous}");
    }

    #[test]
    fn a_reopened_file_counts_what_it_already_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, "x".repeat(90)).unwrap();
        let limits = LogFilesConfig {
            max_size: ByteSize(100),
            keep: 0,
        };
        let mut log = LogFile::open(&path, limits).unwrap();
        log.write_record(&[b"0123456789abc\n"]).unwrap();
        log.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "0123456789abc\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "keep 0");
    }
}
