//! Which files a `file` source with `include` globs reads: the regular files
//! matching an `include` pattern and no `exclude` pattern, each once.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// The characters that make a path component a pattern.
const GLOB_CHARS: &[char] = &['*', '?', '['];

/// A source's `include` and `exclude` patterns.
#[derive(Debug, Clone)]
pub(super) struct Patterns {
    include: Vec<String>,
    exclude: Vec<glob::Pattern>,
}

/// A file matched by the patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub path: PathBuf,
    /// Device and inode: what the file is, whatever its name.
    pub identity: (u64, u64),
    pub size: u64,
}

impl Patterns {
    /// The patterns of a source; validation has refused invalid ones, which
    /// are skipped here.
    pub(super) fn new(include: &[String], exclude: &[String]) -> Self {
        Self {
            include: include.to_vec(),
            exclude: exclude
                .iter()
                .filter_map(|pattern| glob::Pattern::new(pattern).ok())
                .collect(),
        }
    }

    /// Every regular file matching now, in path order, each file once (a
    /// file reached by two patterns or through a symbolic link is the first
    /// path found); and the directories that could not be read.
    pub(super) fn expand(&self) -> (Vec<Found>, Vec<String>) {
        let mut found = Vec::new();
        let mut errors = Vec::new();
        let mut seen = HashSet::new();
        for pattern in &self.include {
            let Ok(paths) = glob::glob(pattern) else {
                continue;
            };
            for entry in paths {
                let path = match entry {
                    Ok(path) => path,
                    Err(error) => {
                        errors.push(error.to_string());
                        continue;
                    }
                };
                if self.exclude.iter().any(|p| p.matches_path(&path)) {
                    continue;
                }
                // Follows links: a link to a log file reads the file.
                let Ok(metadata) = std::fs::metadata(&path) else {
                    continue;
                };
                let identity = (metadata.dev(), metadata.ino());
                if metadata.is_file() && seen.insert(identity) {
                    found.push(Found {
                        path,
                        identity,
                        size: metadata.len(),
                    });
                }
            }
        }
        (found, errors)
    }

    /// The directories to watch for changes, and whether recursively: for
    /// each pattern, the directory before its first wildcard component,
    /// recursive when a wildcard stands for directories too.
    pub(super) fn roots(&self) -> Vec<(PathBuf, bool)> {
        let mut roots: Vec<(PathBuf, bool)> = Vec::new();
        for pattern in &self.include {
            let (root, recursive) = root_of(Path::new(pattern));
            match roots.iter_mut().find(|(known, _)| *known == root) {
                Some((_, known)) => *known |= recursive,
                None => roots.push((root, recursive)),
            }
        }
        roots
    }
}

/// The literal directory a pattern starts from, and whether the pattern
/// goes deeper than its files.
fn root_of(pattern: &Path) -> (PathBuf, bool) {
    let components: Vec<Component<'_>> = pattern.components().collect();
    let first_glob = components
        .iter()
        .position(|c| c.as_os_str().to_string_lossy().contains(GLOB_CHARS));
    let literal = first_glob.unwrap_or(components.len().saturating_sub(1));
    let mut root: PathBuf = components[..literal].iter().collect();
    if root.as_os_str().is_empty() {
        root = PathBuf::from(".");
    }
    // Wildcards in a directory component (or `**`) reach below the root.
    let recursive = first_glob.is_some_and(|first| first + 1 < components.len());
    (root, recursive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x\n").unwrap();
    }

    #[test]
    fn includes_minus_excludes_each_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "a.log",
            "b.log",
            "skip.log",
            "c.txt",
            "deep/d.log",
            "deep/er/e.log",
        ] {
            touch(&root.join(name));
        }
        std::fs::create_dir(root.join("dir.log")).unwrap();
        std::os::unix::fs::symlink(root.join("a.log"), root.join("z-link.log")).unwrap();
        let patterns = Patterns::new(
            &[
                format!("{}/*.log", root.display()),
                format!("{}/**/*.log", root.display()),
            ],
            &["*/skip.log".to_owned()],
        );
        let (found, errors) = patterns.expand();
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = found
            .iter()
            .map(|f| f.path.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            ["a.log", "b.log", "deep/d.log", "deep/er/e.log"],
            "no directory, no excluded file, the link to a.log is a.log"
        );
        assert!(found.iter().all(|f| f.size == 2));
    }

    #[test]
    fn roots_are_the_literal_directories() {
        let patterns = Patterns::new(
            &[
                "/var/log/devices/*.log".to_owned(),
                "/var/log/devices/*/x.log".to_owned(),
                "/srv/**/*.csv".to_owned(),
                "logs/app.log".to_owned(),
                "*.log".to_owned(),
            ],
            &[],
        );
        assert_eq!(
            patterns.roots(),
            [
                (PathBuf::from("/var/log/devices"), true),
                (PathBuf::from("/srv"), true),
                (PathBuf::from("logs"), false),
                (PathBuf::from("."), false),
            ]
        );
    }
}
