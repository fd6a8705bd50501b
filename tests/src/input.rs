//! Feeding the agent's file sources: lines appended to a file it tails.

use std::io::Write;
use std::path::Path;

/// Append each of `lines` to `path` with a newline, in one open; the file
/// must exist (a test creates it before the agent starts tailing it).
pub fn append(path: &Path, lines: &[impl AsRef<str>]) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for line in lines {
        writeln!(file, "{}", line.as_ref()).unwrap();
    }
}
