//! The one error type of configuration loading, and the message helpers that
//! every other module of configuration uses to word its errors alike.
//!
//! A [`ConfigError`] always carries a file, a 1-based line and column, and a
//! dotted key path, so `foghorn validate` can print one line per mistake and an
//! editor can jump to it. Loading collects them into a `Vec` sorted by position
//! (see [`sort`]) rather than stopping at the first.

use std::fmt;
use std::path::PathBuf;

/// One mistake in a configuration file, with where it is.
///
/// Displayed as `{file}:{line}:{column}: {key}: {message}`; when there is no
/// key (a YAML syntax error, an unreadable file) the `{key}: ` part is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file, as it was given to the loader.
    pub file: PathBuf,
    /// 1-based line of the offending node; 0 when the file could not be read.
    pub line: usize,
    /// 1-based column of the offending node; 0 when the file could not be read.
    pub column: usize,
    /// Dotted key path of the offending node, e.g. `processors.parse.inputs[0]`;
    /// empty for errors that are not about one key.
    pub key: String,
    /// What is wrong, in words meant for the person editing the file.
    pub message: String,
}

impl ConfigError {
    /// An error at `position` (1-based line and column) for the key path `key`.
    pub fn new(
        file: impl Into<PathBuf>,
        position: (usize, usize),
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            line: position.0,
            column: position.1,
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Sorts errors by position (then key and message, so the order is stable) and
/// drops exact repeats.
pub(crate) fn sort(errors: &mut Vec<ConfigError>) {
    errors.sort_by(|a, b| {
        (a.line, a.column, &a.key, &a.message).cmp(&(b.line, b.column, &b.key, &b.message))
    });
    errors.dedup();
}

/// Formats names as `` `a`, `b`, `c` `` for "expected one of" messages.
pub(crate) fn backticked(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"; did you mean `x`?"` when one candidate is within edit distance 2 of
/// `wrong`, otherwise an empty string.
pub(crate) fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(wrong, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, candidate)| format!("; did you mean `{candidate}`?"))
        .unwrap_or_default()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_file_position_key_and_message() {
        let error = ConfigError::new("a.yaml", (3, 7), "sources.bench.baud", "bad");
        assert_eq!(error.to_string(), "a.yaml:3:7: sources.bench.baud: bad");
        let error = ConfigError::new("a.yaml", (1, 2), "", "syntax");
        assert_eq!(error.to_string(), "a.yaml:1:2: syntax");
    }

    #[test]
    fn suggests_only_close_names() {
        assert_eq!(edit_distance("pars", "parse"), 1);
        assert_eq!(edit_distance("kv-parsr", "kv-parser"), 1);
        assert_eq!(
            did_you_mean("pars", ["bench", "parse"]),
            "; did you mean `parse`?"
        );
        assert_eq!(did_you_mean("zzzz", ["bench", "parse"]), "");
    }
}
