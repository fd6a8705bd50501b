//! Component references as written in `inputs`: `name`, `name.points` or
//! `name.alerts`.
//!
//! Parsing here only checks the shape of one reference; whether the named
//! component exists, is not a sink, and has that output is checked against the
//! whole pipeline in [`super::validate`].

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// One entry of a processor's or sink's `inputs`: which component, and which of
/// its outputs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InputRef {
    /// Name of the source or processor being read.
    pub component: String,
    /// Which output of that component; a bare name selects [`Output::Default`].
    pub output: Output,
}

/// An output of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Output {
    /// The component's main output, written as the bare name: a source's
    /// records, a processor's points.
    Default,
    /// A processor's points, written `name.points` (the same as the bare name).
    Points,
    /// A processor's alerts, written `name.alerts`.
    Alerts,
    /// The notifications of an alert stage (`type: alerts`), written
    /// `name.notifications`: what its routes send to their receivers.
    Notifications,
}

impl InputRef {
    /// A reference to the default output of `component`.
    pub fn new(component: impl Into<String>) -> Self {
        Self {
            component: component.into(),
            output: Output::Default,
        }
    }
}

impl FromStr for InputRef {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (component, output) = match text.split_once('.') {
            None => (text, Output::Default),
            Some((component, "points")) => (component, Output::Points),
            Some((component, "alerts")) => (component, Output::Alerts),
            Some((component, "notifications")) => (component, Output::Notifications),
            Some((_, other)) => {
                return Err(format!(
                    "unknown output `{other}` in `{text}`; write `name`, `name.points`, `name.alerts` or `name.notifications`"
                ));
            }
        };
        if component.is_empty() {
            return Err(format!("`{text}` does not name a component"));
        }
        Ok(Self {
            component: component.to_owned(),
            output,
        })
    }
}

impl fmt::Display for InputRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.output {
            Output::Default => f.write_str(&self.component),
            Output::Points => write!(f, "{}.points", self.component),
            Output::Alerts => write!(f, "{}.alerts", self.component),
            Output::Notifications => write!(f, "{}.notifications", self.component),
        }
    }
}

impl<'de> Deserialize<'de> for InputRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InputVisitor;
        impl Visitor<'_> for InputVisitor {
            type Value = InputRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a component name, `name.points` or `name.alerts`")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<InputRef, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(InputVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_the_three_forms() {
        for text in ["parse", "parse.points", "detect.alerts"] {
            let input: InputRef = text.parse().unwrap();
            assert_eq!(input.to_string(), text);
        }
        assert_eq!(
            "detect.alerts".parse::<InputRef>().unwrap().output,
            Output::Alerts
        );
        assert_eq!("bench".parse(), Ok(InputRef::new("bench")));
        assert!(
            "detect.alert"
                .parse::<InputRef>()
                .unwrap_err()
                .contains("unknown output `alert`")
        );
        assert!(".alerts".parse::<InputRef>().is_err());
    }
}
