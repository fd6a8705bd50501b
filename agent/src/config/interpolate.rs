//! `${VAR}` interpolation in scalar values.
//!
//! Runs on the parsed node tree, scalar by scalar, so an error points at the
//! exact value and positions elsewhere in the file are untouched. Only values
//! are interpolated, never keys. Forms:
//!
//! - `${VAR}`: the variable's value; an error if it is not set.
//! - `${VAR:-default}`: the value, or `default` when unset or empty.
//! - `$$`: a literal `$`. A `$` not followed by `{` or `$` is kept as is.
//!
//! Substituted text is not expanded again, so a secret containing `$` is safe.
//! A plain (unquoted) scalar stays plain, so `threshold: ${LIMIT}` in a
//! plugin `config` becomes a number when `LIMIT=80`.

use std::path::Path;

use marked_yaml::Node;
use marked_yaml::types::MarkedScalarNode;

use crate::settings::ConfigError;
use crate::settings::start;

/// Expands `text`; `Ok(None)` when it contains no `$` at all.
pub(crate) fn expand(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, String> {
    if !text.contains('$') {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(after_escape) = after.strip_prefix('$') {
            out.push('$');
            rest = after_escape;
        } else if let Some(reference) = after.strip_prefix('{') {
            let end = reference
                .find('}')
                .ok_or_else(|| format!("`${{` without a closing `}}` in `{text}`"))?;
            let body = &reference[..end];
            let (name, default) = match body.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (body, None),
            };
            if !is_variable_name(name) {
                return Err(format!(
                    "`${{{body}}}` is not a valid reference; write `${{NAME}}` or `${{NAME:-default}}` \
                     (letters, digits and `_`), or `$$` for a literal `$`"
                ));
            }
            match (env(name), default) {
                (Some(value), Some(default)) if value.is_empty() => out.push_str(default),
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => return Err(format!("environment variable {name} is not set")),
            }
            rest = &reference[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(Some(out))
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Interpolates every scalar value under `node` in place; `key` is the dotted
/// path of `node`, used to report errors.
pub(crate) fn interpolate_tree(
    node: &mut Node,
    key: &str,
    env: &dyn Fn(&str) -> Option<String>,
    file: &Path,
    errors: &mut Vec<ConfigError>,
) {
    match node {
        Node::Scalar(scalar) => match expand(scalar.as_str(), env) {
            Ok(None) => {}
            Ok(Some(expanded)) => {
                let mut replaced = MarkedScalarNode::new(*scalar.span(), expanded);
                replaced.set_coerce(scalar.may_coerce());
                *scalar = replaced;
            }
            Err(message) => {
                let position = start(scalar.span()).unwrap_or((1, 1));
                errors.push(ConfigError::new(file, position, key, message));
            }
        },
        Node::Mapping(mapping) => {
            for (name, value) in mapping.iter_mut() {
                let child = if key.is_empty() {
                    name.as_str().to_owned()
                } else {
                    format!("{key}.{}", name.as_str())
                };
                interpolate_tree(value, &child, env, file, errors);
            }
        }
        Node::Sequence(sequence) => {
            for (index, value) in sequence.iter_mut().enumerate() {
                interpolate_tree(value, &format!("{key}[{index}]"), env, file, errors);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("/dev/ttyUSB0".into()),
            "EMPTY" => Some(String::new()),
            "PRICE" => Some("$5".into()),
            _ => None,
        }
    }

    fn run(text: &str) -> Result<String, String> {
        expand(text, &env).map(|expanded| expanded.unwrap_or_else(|| text.to_owned()))
    }

    #[test]
    fn substitutes_variables_defaults_and_escapes() {
        assert_eq!(run("${PORT}").as_deref(), Ok("/dev/ttyUSB0"));
        assert_eq!(run("port=${PORT}!").as_deref(), Ok("port=/dev/ttyUSB0!"));
        assert_eq!(run("${MISSING:-9600}").as_deref(), Ok("9600"));
        assert_eq!(run("${EMPTY:-fallback}").as_deref(), Ok("fallback"));
        assert_eq!(run("${EMPTY}").as_deref(), Ok(""));
        assert_eq!(run("${PORT:-x}").as_deref(), Ok("/dev/ttyUSB0"));
        assert_eq!(
            run("cost $$5 and $$${PORT}").as_deref(),
            Ok("cost $5 and $/dev/ttyUSB0")
        );
        assert_eq!(run("a $ b $x").as_deref(), Ok("a $ b $x"));
        assert_eq!(
            run("${PRICE}").as_deref(),
            Ok("$5"),
            "substituted text is not expanded again"
        );
        assert_eq!(run("plain").as_deref(), Ok("plain"));
    }

    #[test]
    fn reports_unset_and_malformed_references() {
        assert_eq!(
            run("${NOPE}"),
            Err("environment variable NOPE is not set".to_owned())
        );
        assert!(run("${PORT").unwrap_err().contains("without a closing"));
        assert!(run("${}").unwrap_err().contains("not a valid reference"));
        assert!(run("${A-B}").unwrap_err().contains("not a valid reference"));
    }
}
