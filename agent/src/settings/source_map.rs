//! [`SourceMap`]: the parsed YAML tree kept next to the typed [`crate::config::Config`]
//! so that any error, found while loading or later while building the
//! pipeline, can be reported at the line and column of the key it is about.
//!
//! Key paths are dotted with indices in brackets, the same text that appears
//! in [`ConfigError::key`]: `processors.parse.inputs[0]`.

use std::path::{Path, PathBuf};

use marked_yaml::types::{MarkedMappingNode, Marker};
use marked_yaml::{Node, Span};

use super::error::ConfigError;

/// The YAML node tree of a configuration file (after `${VAR}` interpolation),
/// with the position of every key and value.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceMap {
    /// The configuration file, named in every error.
    file: PathBuf,
    /// The top-level mapping.
    root: Node,
}

impl SourceMap {
    pub(crate) fn new(file: &Path, root: Node) -> Self {
        Self {
            file: file.to_path_buf(),
            root,
        }
    }

    /// A map with no positions, for configurations built in code; everything
    /// locates at line 1, column 1.
    pub fn empty(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            root: Node::from(MarkedMappingNode::new_empty(Span::new_blank())),
        }
    }

    /// The configuration file this map describes.
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// 1-based (line, column) of the deepest node that exists along
    /// `key_path`, e.g. `["sources", "bench", "port"]` or
    /// `["sinks", "metrics", "inputs", "0"]`: each element is one mapping key
    /// (taken literally, dots and all) or a sequence index. A scalar value is
    /// located at the value; a mapping, a sequence or an empty value at its
    /// key; a path that does not exist at all at line 1, column 1.
    #[must_use]
    pub fn locate(&self, key_path: &[&str]) -> (usize, usize) {
        self.walk(key_path).1
    }

    /// [`Self::locate`] for a dotted key path such as `processors.parse.inputs[0]`.
    #[must_use]
    pub fn locate_key(&self, key: &str) -> (usize, usize) {
        self.walk(&segments(key)).1
    }

    /// The node at a dotted key path, if every step of it exists.
    #[must_use]
    pub fn node(&self, key: &str) -> Option<&Node> {
        self.walk(&segments(key)).0
    }

    /// A [`ConfigError`] about `key_path` (as for [`Self::locate`]), e.g.
    /// `error(&["sources", "bench", "port"], "cannot be opened: busy")`. For
    /// errors found after loading, such as by the topology builder.
    pub fn error(&self, key_path: &[&str], message: impl Into<String>) -> ConfigError {
        let mut key = String::new();
        for segment in key_path {
            if segment.parse::<usize>().is_ok() {
                key.push_str(&format!("[{segment}]"));
            } else {
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(segment);
            }
        }
        ConfigError::new(&self.file, self.locate(key_path), key, message)
    }

    /// A [`ConfigError`] about the dotted key path `key`, located with
    /// [`Self::locate_key`].
    pub fn error_at_key(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(&self.file, self.locate_key(key), key, message)
    }

    fn walk(&self, segments: &[&str]) -> (Option<&Node>, (usize, usize)) {
        let mut node = &self.root;
        // A block mapping's own marker is not where it starts, so the root
        // (always a mapping) is placed at the top of the file.
        let mut position = (1, 1);
        for segment in segments {
            let (key, value) = match node {
                Node::Mapping(mapping) => {
                    match mapping.iter().find(|(key, _)| key.as_str() == *segment) {
                        Some((key, value)) => (Some(key.span()), value),
                        None => return (None, position),
                    }
                }
                Node::Sequence(sequence) => {
                    match segment
                        .parse::<usize>()
                        .ok()
                        .and_then(|index| sequence.get(index))
                    {
                        Some(value) => (None, value),
                        None => return (None, position),
                    }
                }
                Node::Scalar(_) => return (None, position),
            };
            let at_key = match value {
                Node::Scalar(scalar) => scalar.as_str().is_empty() && scalar.may_coerce(),
                Node::Mapping(_) | Node::Sequence(_) => true,
            };
            let span = match key {
                Some(key) if at_key => key,
                _ => value.span(),
            };
            position = start(span).unwrap_or(position);
            node = value;
        }
        (Some(node), position)
    }
}

/// 1-based (line, column) where a span starts.
pub(crate) fn start(span: &Span) -> Option<(usize, usize)> {
    span.start().map(position)
}

/// 1-based (line, column) of a marker.
pub(crate) fn position(marker: &Marker) -> (usize, usize) {
    (marker.line(), marker.column())
}

/// Splits `a.b[0][1]` into `a`, `b`, `0`, `1`.
fn segments(key: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let mut pieces = part.split('[');
        if let Some(name) = pieces.next().filter(|name| !name.is_empty()) {
            out.push(name);
        }
        out.extend(pieces.map(|index| index.trim_end_matches(']')));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use marked_yaml::types::MarkedScalarNode;

    const YAML: &str = "sources:\n  bench:\n    type: serial\n    port: /dev/ttyUSB0\nsinks:\n  out:\n    inputs: [bench, parse]\n    path:\n";

    fn map() -> SourceMap {
        SourceMap::new(
            Path::new("f.yaml"),
            marked_yaml::parse_yaml(0, YAML).unwrap(),
        )
    }

    #[test]
    fn locates_values_keys_and_the_deepest_existing_node() {
        let map = map();
        assert_eq!(map.locate(&["sources", "bench", "port"]), (4, 11));
        assert_eq!(map.locate(&["sources", "bench"]), (2, 3));
        assert_eq!(map.locate(&["sources", "bench", "baud"]), (2, 3));
        assert_eq!(map.locate_key("sinks.out.inputs[1]"), (7, 21));
        assert_eq!(
            map.locate(&["sinks", "out", "inputs[1]"]),
            (6, 3),
            "elements are literal keys"
        );
        assert_eq!(map.locate(&["sinks", "out", "inputs", "0"]), (7, 14));
        assert_eq!(map.locate_key("sinks.out.path"), (8, 5));
        assert_eq!(map.locate_key("nowhere"), (1, 1));
        assert_eq!(
            map.node("sources.bench.type")
                .and_then(Node::as_scalar)
                .map(MarkedScalarNode::as_str),
            Some("serial")
        );
    }

    #[test]
    fn error_carries_file_and_position() {
        let error = map().error(&["sources", "bench", "port"], "cannot be opened");
        assert_eq!(
            error.to_string(),
            "f.yaml:4:11: sources.bench.port: cannot be opened"
        );
        let error = map().error(&["sinks", "out", "inputs", "1"], "x");
        assert_eq!(error.to_string(), "f.yaml:7:21: sinks.out.inputs[1]: x");
        assert_eq!(map().error_at_key("sinks.out.inputs[1]", "x"), error);
    }
}
