//! Appending whole records to a file, never half of one.
//!
//! A batch is encoded into memory first and written with one `write_all`; if
//! the write fails (disk full, an I/O error) the file is cut back to where it
//! was, so a retry starts clean. A `kill -9` in the middle of a write can
//! still leave part of a line behind; [`Appender::open`] cuts such a torn last
//! line back to the previous newline. The records it held were never
//! acknowledged, so their source sends them again.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// How far back [`Appender::open`] reads at a time looking for the last newline.
const SCAN_BYTES: u64 = 64 * 1024;

/// A file opened for appending whole lines.
#[derive(Debug)]
pub(crate) struct Appender {
    file: File,
    len: u64,
}

impl Appender {
    /// Open (or create) `path` for appending; returns the appender and how
    /// many bytes of a torn last line were cut off.
    pub(crate) fn open(path: &Path) -> std::io::Result<(Self, u64)> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let len = file.metadata()?.len();
        let whole = whole_lines_len(&mut file, len)?;
        if whole < len {
            file.set_len(whole)?;
            file.sync_all()?;
        }
        Ok((Self { file, len: whole }, len - whole))
    }

    /// Bytes in the file.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Append `bytes` (whole lines). On failure the file is cut back to its
    /// length before the call, so nothing partial stays behind.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self.file.write_all(bytes).and_then(|()| self.file.flush()) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(error) => {
                // Best effort: if even this fails, the next open repairs it.
                let _ = self.file.set_len(self.len);
                Err(error)
            }
        }
    }

    /// Flush to the disk itself.
    pub(crate) fn sync(&self) -> std::io::Result<()> {
        self.file.sync_all()
    }
}

/// The length of the file up to and including its last newline.
fn whole_lines_len(file: &mut File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0; usize::try_from(SCAN_BYTES).unwrap_or(65_536)];
    while end > 0 {
        let start = end.saturating_sub(SCAN_BYTES);
        let chunk = &mut buf[..usize::try_from(end - start).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(newline) = chunk.iter().rposition(|&byte| byte == b'\n') {
            return Ok(start + newline as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_cut_back_and_whole_files_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        std::fs::write(&path, "{\"a\":1}\n{\"a\":2}\n{\"a\":").unwrap();
        let (mut appender, cut) = Appender::open(&path).unwrap();
        assert_eq!(cut, 5);
        appender.append(b"{\"a\":3}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"
        );
        drop(appender);
        let (appender, cut) = Appender::open(&path).unwrap();
        assert_eq!((cut, appender.len()), (0, 24));
    }

    #[test]
    fn a_file_without_any_newline_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let long = "x".repeat(200_000);
        std::fs::write(&path, &long).unwrap();
        let (appender, cut) = Appender::open(&path).unwrap();
        assert_eq!((cut, appender.len()), (200_000, 0));
        std::fs::write(&path, format!("a\n{long}")).unwrap();
        let (appender, cut) = Appender::open(&path).unwrap();
        assert_eq!((cut, appender.len()), (200_000, 2), "found across chunks");
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        use nix::sys::signal::{SigHandler, Signal, signal};
        // A file size limit makes the kernel accept part of a write and fail
        // the rest (EFBIG), as a disk that fills up mid-write does. nextest
        // runs each test in its own process, so the limit touches no other.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let (mut appender, _) = Appender::open(&path).unwrap();
        appender.append(b"one\n").unwrap();
        let (soft, hard) = getrlimit(Resource::RLIMIT_FSIZE).unwrap();
        #[allow(unsafe_code, reason = "ignoring SIGXFSZ so the write fails instead")]
        // SAFETY: SIG_IGN installs no handler code.
        unsafe {
            signal(Signal::SIGXFSZ, SigHandler::SigIgn).unwrap();
        }
        setrlimit(Resource::RLIMIT_FSIZE, 4096, hard).unwrap();
        let big = vec![b'x'; 10_000];
        let failed = appender.append(&big);
        setrlimit(Resource::RLIMIT_FSIZE, soft, hard).unwrap();
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\n");
        assert_eq!(appender.len(), 4);
        appender.append(b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
    }
}
