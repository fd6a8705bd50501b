//! Finds keys defined twice in one mapping, which YAML parsers otherwise
//! resolve silently by keeping the last.
//!
//! `marked_yaml` can only stop at the first duplicate, so the scan re-parses
//! with duplicates as errors, reports one, renames that occurrence in a
//! scratch copy of the text (same length, so positions do not move) and
//! repeats, up to [`MAX_REPORTED`] times.

use std::path::Path;

use marked_yaml::{LoadError, LoaderOptions, Node, parse_yaml_with_options};

use crate::settings::ConfigError;
use crate::settings::{position, start};

/// Stop after this many duplicates; beyond it the file has bigger problems.
const MAX_REPORTED: u32 = 32;

/// The duplicates of a file.
#[derive(Debug, Default)]
pub(crate) struct Duplicates {
    /// One error per repeat, located at it.
    pub errors: Vec<ConfigError>,
    /// The key path of each duplicated key (`processors.p`).
    pub paths: Vec<String>,
    /// The text with every repeat renamed (same length, so positions hold):
    /// loading it shows the first definitions, which the real load hides
    /// behind the last one, so their mistakes can be reported too.
    pub first_definitions: Option<String>,
}

/// Every duplicate key in `text`, located at its second (or later)
/// occurrence; `root` is the tree parsed from `text` with duplicates allowed,
/// used to name the key path.
pub(crate) fn duplicate_keys(text: &str, root: &Node, file: &Path) -> Duplicates {
    let mut chars: Vec<char> = text.chars().collect();
    let mut errors = Vec::new();
    let mut paths = Vec::new();
    for round in 0..MAX_REPORTED {
        let scratch: String = chars.iter().collect();
        let options = LoaderOptions::default().error_on_duplicate_keys(true);
        let Err(LoadError::DuplicateKey(duplicate)) = parse_yaml_with_options(0, &scratch, options)
        else {
            break;
        };
        let (Some(first), Some(again)) = (
            duplicate.prev_key.span().start(),
            duplicate.key.span().start(),
        ) else {
            break;
        };
        let name = duplicate.key.as_str();
        let parent = key_path_of(root, position(first), "").unwrap_or_default();
        let key = match parent.rsplit_once('.') {
            Some((parent, _)) => format!("{parent}.{name}"),
            None => name.to_owned(),
        };
        paths.push(key.clone());
        errors.push(ConfigError::new(
            file,
            position(again),
            key,
            format!(
                "duplicate key `{name}`; it is first defined at line {}",
                first.line()
            ),
        ));
        // Rename this occurrence so the next parse finds the next duplicate.
        let mut at = again.character();
        if matches!(chars.get(at), Some('"' | '\'')) {
            at += 1;
        }
        let name_chars: Vec<char> = name.chars().collect();
        if name_chars.is_empty() || chars.get(at..at + name_chars.len()) != Some(&name_chars[..]) {
            break;
        }
        chars[at] = char::from_u32(0xF_0000 + round).unwrap_or('\u{F0000}');
    }
    let first_definitions = (!errors.is_empty()).then(|| chars.iter().collect());
    Duplicates {
        errors,
        paths,
        first_definitions,
    }
}

/// The dotted path of the mapping key that starts at `target`.
fn key_path_of(node: &Node, target: (usize, usize), prefix: &str) -> Option<String> {
    match node {
        Node::Scalar(_) => None,
        Node::Mapping(mapping) => mapping.iter().find_map(|(name, value)| {
            let path = if prefix.is_empty() {
                name.as_str().to_owned()
            } else {
                format!("{prefix}.{}", name.as_str())
            };
            if start(name.span()) == Some(target) {
                Some(path)
            } else {
                key_path_of(value, target, &path)
            }
        }),
        Node::Sequence(sequence) => sequence
            .iter()
            .enumerate()
            .find_map(|(index, value)| key_path_of(value, target, &format!("{prefix}[{index}]"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_duplicate_at_its_repeat() {
        let text = "sources:\n  a: {type: stdin}\n  b: {type: stdin}\n  a: {type: stdin}\nsinks:\n  c: {type: console, inputs: [a], inputs: [b]}\n";
        let root = marked_yaml::parse_yaml(0, text).unwrap();
        let errors = duplicate_keys(text, &root, Path::new("f.yaml")).errors;
        let found: Vec<_> = errors
            .iter()
            .map(|e| (e.line, e.column, e.key.as_str()))
            .collect();
        assert_eq!(found, [(4, 3, "sources.a"), (6, 35, "sinks.c.inputs")]);
        assert!(errors[0].message.contains("first defined at line 2"));
    }
}
