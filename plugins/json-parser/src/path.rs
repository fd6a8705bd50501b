//! Paths into a JSON record, and the trie of every path the config names,
//! which the walk over a record descends instead of building the record.
//!
//! A path is dot-separated keys, `a.b.c`, or, when it starts with `/`, a
//! JSON Pointer (RFC 6901), `/a/b.c`, for keys with dots in them (`~1`
//! stands for `/` and `~0` for `~`). A segment of digits (`items.0`,
//! `/items/0`) is an array index where the value is an array and a key
//! where it is an object.

use foghorn_plugin::bytes::same;

/// Where a path's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The field `Plan::fields[index]`.
    Field(usize),
    /// The tag `Plan::tags[index]`.
    Tag(usize),
    /// The point's time.
    Timestamp,
    /// The series name.
    Measurement,
}

/// One step down from a node.
#[derive(Debug, Clone)]
pub(crate) struct Child {
    pub key: Box<str>,
    /// The key as an array index, when it is one.
    pub index: Option<usize>,
    pub node: usize,
}

/// A node of the trie: an object key or array element the config reaches.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub children: Vec<Child>,
    /// What a value at this node is; empty for a node only passed through.
    pub targets: Vec<Target>,
}

/// The paths of a config; node 0 is the record itself.
#[derive(Debug, Clone)]
pub(crate) struct Trie {
    pub nodes: Vec<Node>,
}

/// The record itself.
pub(crate) const ROOT: usize = 0;

impl Default for Trie {
    fn default() -> Self {
        Self {
            nodes: vec![Node::default()],
        }
    }
}

impl Trie {
    /// Add `path` for `target`.
    ///
    /// # Errors
    /// Why the path cannot be read (see [`segments`]).
    pub(crate) fn insert(&mut self, path: &str, target: Target) -> Result<(), String> {
        let mut node = ROOT;
        for segment in segments(path)? {
            node = match self.nodes[node]
                .children
                .iter()
                .find(|child| *child.key == *segment)
            {
                Some(child) => child.node,
                None => {
                    self.nodes.push(Node::default());
                    let child = self.nodes.len() - 1;
                    self.nodes[node].children.push(Child {
                        index: index(&segment),
                        key: segment.into_boxed_str(),
                        node: child,
                    });
                    child
                }
            };
        }
        self.nodes[node].targets.push(target);
        Ok(())
    }

    /// The child of `node` under object key `key`.
    #[inline(always)]
    pub(crate) fn key(&self, node: usize, key: &[u8]) -> Option<usize> {
        self.nodes[node]
            .children
            .iter()
            .find(|child| same(child.key.as_bytes(), key))
            .map(|child| child.node)
    }

    /// The child of `node` at array index `index`.
    #[inline]
    pub(crate) fn index(&self, node: usize, index: usize) -> Option<usize> {
        self.nodes[node]
            .children
            .iter()
            .find(|child| child.index == Some(index))
            .map(|child| child.node)
    }

    /// What a value at `node` is.
    #[inline]
    pub(crate) fn targets(&self, node: usize) -> &[Target] {
        &self.nodes[node].targets
    }
}

/// The keys of `path`, in order.
///
/// # Errors
/// An empty path, an empty segment of a dotted path, or a `~` in a JSON
/// Pointer not followed by `0` or `1`.
pub(crate) fn segments(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Err("a path is empty".to_owned());
    }
    if let Some(pointer) = path.strip_prefix('/') {
        return pointer
            .split('/')
            .map(|segment| {
                let mut key = String::with_capacity(segment.len());
                let mut chars = segment.chars();
                while let Some(c) = chars.next() {
                    if c != '~' {
                        key.push(c);
                        continue;
                    }
                    match chars.next() {
                        Some('0') => key.push('~'),
                        Some('1') => key.push('/'),
                        _ => {
                            return Err(format!(
                                "path {path:?}: `~` must be followed by 0 (for ~) or 1 (for /)"
                            ));
                        }
                    }
                }
                Ok(key)
            })
            .collect();
    }
    let keys: Vec<String> = path.split('.').map(str::to_owned).collect();
    if keys.iter().any(String::is_empty) {
        return Err(format!(
            "path {path:?} has an empty key (write a key with dots in it as a JSON Pointer, \"/a/b.c\")"
        ));
    }
    Ok(keys)
}

/// `segment` as an array index: digits without a leading zero.
fn index(segment: &str) -> Option<usize> {
    let digits = segment.as_bytes();
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() == 1 || digits[0] != b'0');
    canonical.then(|| segment.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_and_pointers_name_the_same_keys() {
        assert_eq!(segments("a.b.c").unwrap(), ["a", "b", "c"]);
        assert_eq!(segments("/a/b.c").unwrap(), ["a", "b.c"]);
        assert_eq!(segments("/a~1b/c~0d/~01").unwrap(), ["a/b", "c~d", "~1"]);
        assert_eq!(segments("/").unwrap(), [""]);
        assert!(segments("a..b").unwrap_err().contains("empty key"));
        assert!(segments(".a").unwrap_err().contains("empty key"));
        assert!(segments("").is_err());
        assert!(segments("/a~2").unwrap_err().contains("`~`"));
    }

    #[test]
    fn digit_segments_are_indexes_too() {
        assert_eq!(index("0"), Some(0));
        assert_eq!(index("12"), Some(12));
        assert_eq!(index("012"), None);
        assert_eq!(index("-1"), None);
        assert_eq!(index("1x"), None);
        let mut trie = Trie::default();
        trie.insert("a.1", Target::Field(0)).unwrap();
        trie.insert("/a/b.c", Target::Tag(0)).unwrap();
        let a = trie.key(ROOT, b"a").unwrap();
        assert_eq!(trie.index(a, 1), trie.key(a, b"1"));
        assert_eq!(trie.targets(trie.index(a, 1).unwrap()), [Target::Field(0)]);
        assert_eq!(trie.targets(trie.key(a, b"b.c").unwrap()), [Target::Tag(0)]);
        assert_eq!(trie.key(a, b"b"), None);
    }
}
