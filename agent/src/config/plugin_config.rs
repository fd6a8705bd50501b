//! Converts a processor's free-form `config:` node into the JSON value handed
//! to the plugin, typing scalars by the YAML 1.2 core schema.
//!
//! The YAML parser keeps every scalar as text and remembers whether it was
//! plain or quoted; only plain scalars are typed: `null`/`~`/empty become
//! null, `true`/`false` booleans, `12`/`0x1f`/`0o17` integers, `4.5`/`1e3`
//! floats; a quoted `"80"` stays the string `"80"`. JSON has no infinity or
//! NaN, so `.inf` and `.nan` are errors (quote them to pass the text).

use std::path::Path;

use marked_yaml::Node;
use marked_yaml::types::MarkedScalarNode;
use serde_json::{Map, Number, Value};

use crate::settings::ConfigError;
use crate::settings::start;

/// The JSON form of `node`; problems are pushed onto `errors` with `key` as
/// the dotted path of `node`.
pub(crate) fn to_json(node: &Node, key: &str, file: &Path, errors: &mut Vec<ConfigError>) -> Value {
    match node {
        Node::Scalar(scalar) => scalar_to_json(scalar).unwrap_or_else(|message| {
            let position = start(scalar.span()).unwrap_or((1, 1));
            errors.push(ConfigError::new(file, position, key, message));
            Value::Null
        }),
        Node::Sequence(sequence) => Value::Array(
            sequence
                .iter()
                .enumerate()
                .map(|(index, item)| to_json(item, &format!("{key}[{index}]"), file, errors))
                .collect(),
        ),
        Node::Mapping(mapping) => Value::Object(
            mapping
                .iter()
                .map(|(name, value)| {
                    let child = format!("{key}.{}", name.as_str());
                    (
                        name.as_str().to_owned(),
                        to_json(value, &child, file, errors),
                    )
                })
                .collect::<Map<_, _>>(),
        ),
    }
}

fn scalar_to_json(scalar: &MarkedScalarNode) -> Result<Value, String> {
    let text = scalar.as_str();
    if !scalar.may_coerce() {
        return Ok(Value::String(text.to_owned()));
    }
    Ok(match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => {
            if let Some(number) = integer(text) {
                number
            } else if is_special_float(text) {
                return Err(format!(
                    "`{text}` cannot be passed to a plugin: JSON has no infinity or NaN; quote it to pass the text"
                ));
            } else if let Some(number) = float(text) {
                Value::Number(number)
            } else {
                Value::String(text.to_owned())
            }
        }
    })
}

/// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`; beyond 64 bits, a float.
fn integer(text: &str) -> Option<Value> {
    let (radix, digits) = if let Some(octal) = text.strip_prefix("0o") {
        (8, octal)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (16, hex)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned.is_empty() || !unsigned.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        return Some(if let Ok(value) = text.parse::<i64>() {
            Value::from(value)
        } else if let Ok(value) = text.parse::<u64>() {
            Value::from(value)
        } else {
            Value::Number(float(text)?)
        });
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok().map(Value::from)
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn float(text: &str) -> Option<Number> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && (!whole.is_empty() || !fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|exponent| {
        let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !exponent.is_empty() && digits(exponent)
    });
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

fn is_special_float(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN")
}

#[cfg(test)]
mod tests {
    use super::*;
    use marked_yaml::{LoaderOptions, parse_yaml_with_options};
    use serde_json::json;

    fn convert(yaml: &str) -> (Value, Vec<ConfigError>) {
        let options = LoaderOptions::default().prevent_coercion(true);
        let root = parse_yaml_with_options(0, yaml, options).unwrap();
        let mut errors = Vec::new();
        let value = to_json(&root, "config", Path::new("f.yaml"), &mut errors);
        (value, errors)
    }

    #[test]
    fn types_scalars_like_yaml_core_schema() {
        let (value, errors) = convert(
            "int: 80\nneg: -3\nhex: 0x1f\noct: 0o17\nfloat: 4.5\nexp: 1e3\nlead: .5\nbool: true\nno: false\n\
             null1: ~\nnull2:\nnull3: null\nquoted_int: \"80\"\nquoted_bool: 'true'\nword: yes\nversion: 1.2.3\n\
             big: 18446744073709551615\nnested: {temperature: {max: 80}, list: [1, two, 3.0]}\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            value,
            json!({
                "int": 80, "neg": -3, "hex": 31, "oct": 15, "float": 4.5, "exp": 1000.0, "lead": 0.5,
                "bool": true, "no": false, "null1": null, "null2": null, "null3": null,
                "quoted_int": "80", "quoted_bool": "true", "word": "yes", "version": "1.2.3",
                "big": 18_446_744_073_709_551_615_u64,
                "nested": {"temperature": {"max": 80}, "list": [1, "two", 3.0]}
            })
        );
        assert!(value["int"].is_i64());
        assert!(value["exp"].is_f64());
    }

    #[test]
    fn infinity_and_nan_are_located_errors() {
        let (_, errors) = convert("a: 1\nlimit: .inf\nquoted: \".nan\"\n");
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].line, errors[0].column, errors[0].key.as_str()),
            (2, 8, "config.limit")
        );
    }
}
