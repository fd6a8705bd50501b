//! The vocabulary every component's settings are written in: durations and
//! byte sizes as the YAML spells them ([`units`]), range checks that collect
//! located mistakes ([`Problems`]), where each key of the file was
//! ([`SourceMap`]) and the error that names file, line, column and key
//! ([`ConfigError`]).
//!
//! This sits below the components, so a source, processor or sink keeps its
//! settings struct next to its code; the loader ([`crate::config`]) sits
//! above them and reads each component's settings through its kind's
//! registry ([`settings_enum!`], used by `sources!`, `processors!` and
//! `sinks!`).

mod error;
mod problems;
mod secret;
mod source_map;
pub mod units;

pub use error::ConfigError;
pub(crate) use error::{backticked, did_you_mean, sort};
pub use problems::Problems;
pub use secret::Secret;
pub use source_map::SourceMap;
pub(crate) use source_map::{position, start};
pub use units::{ByteSize, format_duration, parse_duration};

/// The settings of one component type: deserialized from the component's
/// mapping (without the keys every component of its kind has, such as
/// `type` and `inputs`), then checked for what serde cannot express.
pub trait Settings:
    serde::de::DeserializeOwned + std::fmt::Debug + Clone + PartialEq + Send + Sync + 'static
{
    /// Report values under the key path `key` that are out of range. Default:
    /// nothing to check.
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        let _ = (key, problems);
    }
}

/// The settings side of a component registry: an enum with one variant per
/// component type, its `TYPES` (the `type:` names, in the order errors list
/// them), `type_name`, `from_node` and `check`. Each kind's registry macro
/// (`sources!`, `processors!`, `sinks!`) calls this and adds its own
/// dispatch (build, run, describe), so a type is named in one line.
macro_rules! settings_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $kind:ident {
            $( $(#[$variant_meta:meta])* $name:literal => $variant:ident($settings:ty), )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis enum $kind {
            $( $(#[$variant_meta])* $variant($settings), )*
        }

        impl $kind {
            /// Every `type`, in the order they are listed in errors.
            pub const TYPES: &'static [&'static str] = &[$($name),*];

            /// The `type` these settings were written with.
            #[must_use]
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $name, )*
                }
            }

            /// Deserializes the settings of `type_name` from `node` (the
            /// component's mapping without the keys common to its kind);
            /// `None` for an unknown type.
            pub(crate) fn from_node(
                type_name: &str,
                node: &marked_yaml::Node,
            ) -> Option<Result<Self, marked_yaml::FromNodeError>> {
                match type_name {
                    $( $name => Some(marked_yaml::from_node(node).map(Self::$variant)), )*
                    _ => None,
                }
            }

            /// Reports values under the key path `key` that are out of range.
            pub(crate) fn check(&self, key: &str, problems: &mut $crate::settings::Problems<'_>) {
                match self {
                    $( Self::$variant(settings) => {
                        $crate::settings::Settings::check(settings, key, problems);
                    } )*
                }
            }
        }
    };
}
pub(crate) use settings_enum;
