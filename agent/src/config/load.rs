//! YAML text to typed [`Config`], collecting every error with its position.
//!
//! Order of work: parse into a node tree (a syntax error stops here, as one
//! error); scan for duplicate keys; interpolate `${VAR}` in every scalar;
//! deserialize each top-level key and each component on its own, so one bad
//! component does not hide mistakes in another; then run the pure checks of
//! [`super::validate`]. A component's `type` selects its settings through
//! its kind's registry (`SourceKind::from_node` and the like), because the
//! parser hands every scalar to serde as text and serde's tagged enums
//! cannot work with that.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{
    Error as SerdeError, FromNodeError, LoadError, LoaderOptions, Marker, Node,
    parse_yaml_with_options,
};
use serde::de::DeserializeOwned;

use super::batch::{BatchConfig, BatchOverride};
use super::duplicates::duplicate_keys;
use super::inputs::InputRef;
use super::interpolate::interpolate_tree;
use super::plugin_config::to_json;
use super::processors::ProcessorConfig;
use super::schema::{Clock, Config};
use super::sinks::SinkConfig;
use super::sources::SourceConfig;
use super::validate::{self, Declared, Section};
use crate::fanout::BufferConfig;
use crate::log_file::LogFilesConfig;
use crate::processors::{PluginRef, ProcessorKind, WasmConfig};
use crate::settings::{ConfigError, SourceMap, backticked, did_you_mean, position, sort, start};
use crate::sinks::SinkKind;
use crate::sources::SourceKind;

/// The top-level keys, in the order they are listed in errors.
const TOP_LEVEL_KEYS: &[&str] = &[
    "data_dir",
    "batch",
    "api",
    "log_files",
    "clock",
    "sources",
    "processors",
    "sinks",
];

pub(crate) fn load_str(
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<ConfigError>> {
    load_text(file, text, env, true)
}

/// [`load_str`]; with `shadowed`, the definitions a duplicate key hides are
/// loaded too, so the mistakes inside them are reported next to the
/// duplicate itself.
fn load_text(
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    shadowed: bool,
) -> Result<Config, Vec<ConfigError>> {
    // Without coercion the tree remembers which scalars were quoted, which the
    // plugin `config` conversion needs; `typed_view` turns it back on for serde.
    let options = LoaderOptions::default().prevent_coercion(true);
    let mut root = parse_yaml_with_options(0, text, options)
        .map_err(|error| vec![syntax_error(file, &error)])?;
    let duplicates = duplicate_keys(text, &root, file);
    let mut errors = duplicates.errors;
    if shadowed && let Some(first) = &duplicates.first_definitions {
        let hidden = load_text(file, first, env, false).err().unwrap_or_default();
        for error in hidden {
            let inside = duplicates.paths.iter().any(|path| {
                error.key == *path
                    || error
                        .key
                        .strip_prefix(path.as_str())
                        .is_some_and(|rest| rest.starts_with(['.', '[']))
            });
            if inside && !errors.contains(&error) {
                errors.push(error);
            }
        }
    }
    interpolate_tree(&mut root, "", env, file, &mut errors);

    let mut loader = Loader {
        file,
        map: SourceMap::new(file, root),
        errors,
        declared: Vec::new(),
    };
    let mut config = loader.config();
    let Loader {
        map,
        mut errors,
        declared,
        ..
    } = loader;
    config.source_map = map;
    errors.extend(validate::check(&config, &declared));
    if errors.is_empty() {
        Ok(config)
    } else {
        sort(&mut errors);
        Err(errors)
    }
}

/// State of one load: the interpolated tree and what has been found so far.
struct Loader<'a> {
    /// The configuration file, for error messages and relative plugin paths.
    file: &'a Path,
    /// The interpolated node tree, for positions and the values in messages.
    map: SourceMap,
    /// Every error so far, unsorted.
    errors: Vec<ConfigError>,
    /// Every component name seen, valid or not.
    declared: Vec<Declared>,
}

impl Loader<'_> {
    /// Walks the top-level keys and builds as much of the config as is valid.
    fn config(&mut self) -> Config {
        let mut config = Config {
            data_dir: PathBuf::from(Config::DEFAULT_DATA_DIR),
            batch: BatchConfig::default(),
            api: None,
            log_files: LogFilesConfig::default(),
            clock: Clock::default(),
            sources: BTreeMap::new(),
            processors: BTreeMap::new(),
            sinks: BTreeMap::new(),
            source_map: SourceMap::empty(self.file),
        };
        let root = self.map.node("").cloned();
        let Some(Node::Mapping(top)) = root else {
            return config;
        };
        for (name, value) in top.iter() {
            let key = name.as_str();
            match key {
                _ if is_null(value) => {}
                "data_dir" => {
                    if let Some(data_dir) = self.deserialize(value, key, &[]) {
                        config.data_dir = data_dir;
                    }
                }
                "api" => {
                    if let Some(api) = self.deserialize(value, key, &[]) {
                        config.api = Some(api);
                    }
                }
                "log_files" => {
                    if let Some(log_files) = self.deserialize(value, key, &[]) {
                        config.log_files = log_files;
                    }
                }
                "batch" => {
                    if let Some(batch) = self.deserialize(value, key, &[]) {
                        config.batch = batch;
                    }
                }
                "clock" => {
                    if let Some(clock) = self.deserialize(value, key, &[]) {
                        config.clock = clock;
                    }
                }
                "sources" => {
                    for (name, component) in self.components(value, Section::Source) {
                        if let Some(source) = self.source(&name, &component) {
                            config.sources.insert(name, source);
                        }
                    }
                }
                "processors" => {
                    for (name, component) in self.components(value, Section::Processor) {
                        if let Some(processor) = self.processor(&name, &component) {
                            config.processors.insert(name, processor);
                        }
                    }
                }
                "sinks" => {
                    for (name, component) in self.components(value, Section::Sink) {
                        if let Some(sink) = self.sink(&name, &component) {
                            config.sinks.insert(name, sink);
                        }
                    }
                }
                _ => self.error_at_scalar(
                    name,
                    key,
                    format!(
                        "unknown key `{key}`; expected one of {}{}",
                        backticked(TOP_LEVEL_KEYS),
                        did_you_mean(key, TOP_LEVEL_KEYS.iter().copied())
                    ),
                ),
            }
        }
        config
    }

    /// The components of one section that are mappings, each declared for the
    /// graph checks; anything else is reported.
    fn components(
        &mut self,
        section_node: &Node,
        section: Section,
    ) -> Vec<(String, MarkedMappingNode)> {
        let Node::Mapping(entries) = section_node else {
            self.error(
                section.key(),
                format!("`{}` must map component names to components", section.key()),
            );
            return Vec::new();
        };
        let mut components = Vec::new();
        for (name, value) in entries.iter() {
            self.declared.push(Declared {
                name: name.as_str().to_owned(),
                section,
                salvaged_inputs: None,
            });
            match value {
                Node::Mapping(mapping) => {
                    components.push((name.as_str().to_owned(), mapping.clone()));
                }
                _ => self.error_at_scalar(
                    name,
                    &format!("{}.{}", section.key(), name.as_str()),
                    format!("a {section} must be a mapping with a `type` and its settings"),
                ),
            }
        }
        components
    }

    fn source(&mut self, name: &str, mapping: &MarkedMappingNode) -> Option<SourceConfig> {
        let key = format!("sources.{name}");
        let type_name = self.component_type(&key, mapping, Section::Source, SourceKind::TYPES);
        let mut rest = mapping.clone();
        rest.remove("type");
        // `Err` when `batch` is present but invalid (already reported).
        let batch = match rest.remove("batch") {
            Some(node) if !is_null(&node) => self
                .deserialize::<BatchOverride>(&node, &format!("{key}.batch"), &[])
                .map(Some)
                .ok_or(()),
            _ => Ok(None),
        };
        let after = match rest.remove("after") {
            Some(node) if !is_null(&node) => self
                .deserialize::<Vec<String>>(&node, &format!("{key}.after"), &[])
                .ok_or(()),
            _ => Ok(Vec::new()),
        };
        let kind = type_name.and_then(|type_name| {
            let view = typed_view(&Node::Mapping(rest));
            let result = SourceKind::from_node(&type_name, &view)?;
            self.accept(result, &key, &["type", "batch", "after"])
        });
        Some(SourceConfig {
            batch: batch.ok()?,
            after: after.ok()?,
            kind: kind?,
        })
    }

    fn processor(&mut self, name: &str, mapping: &MarkedMappingNode) -> Option<ProcessorConfig> {
        let key = format!("processors.{name}");
        // A processor that names a `plugin` and no `type` runs that plugin.
        let has_type = mapping.get_node("type").is_some_and(|node| !is_null(node));
        let type_name = if !has_type && mapping.get_node("plugin").is_some() {
            Some(ProcessorKind::PLUGIN_TYPE.to_owned())
        } else if !has_type {
            let types = backticked(ProcessorKind::TYPES);
            self.error(
                &key,
                format!("missing `plugin` (a WebAssembly component) or `type` (one of {types})"),
            );
            None
        } else {
            self.component_type(&key, mapping, Section::Processor, ProcessorKind::TYPES)
        };
        let mut rest = mapping.clone();
        rest.remove("type");
        let inputs = self.inputs(&key, &mut rest);
        let kind = type_name.and_then(|type_name| {
            let view = typed_view(&Node::Mapping(rest));
            let result = ProcessorKind::from_node(&type_name, &view)?;
            self.accept(result, &key, &["type", "inputs"])
        });
        let kind = match kind {
            Some(ProcessorKind::Wasm(wasm)) => {
                Some(ProcessorKind::Wasm(self.plugin(&key, mapping, wasm)))
            }
            other => other,
        };
        self.entry(name, Section::Processor, inputs, kind)
            .map(|(inputs, kind)| ProcessorConfig { inputs, kind })
    }

    /// A plugin's settings completed from the node tree: its `config` with
    /// YAML scalar types kept, and a relative `.wasm` path made absolute
    /// against the configuration file's directory.
    fn plugin(
        &mut self,
        key: &str,
        mapping: &MarkedMappingNode,
        mut wasm: WasmConfig,
    ) -> WasmConfig {
        let plugin_config = mapping
            .get_node("config")
            .map(|node| to_json(node, &format!("{key}.config"), self.file, &mut self.errors));
        if let Some(plugin_config) = plugin_config.filter(|value| !value.is_null()) {
            wasm.config = plugin_config;
        }
        let base = self
            .file
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        if let PluginRef::Path(path) = &mut wasm.plugin
            && path.is_relative()
        {
            let joined = base.join(&*path);
            *path = std::path::absolute(&joined).unwrap_or(joined);
        }
        for path in wasm.config_files.values_mut() {
            let joined = base.join(&*path);
            *path = std::path::absolute(&joined).unwrap_or(joined);
        }
        self.config_files(key, &mut wasm);
        wasm
    }

    /// Put the text of each of `config_files` into the plugin's `config`.
    fn config_files(&mut self, key: &str, wasm: &mut WasmConfig) {
        const MAX: u64 = 64 << 20;
        for (name, path) in &wasm.config_files {
            let at = format!("{key}.config_files.{name}");
            let text = std::fs::metadata(path)
                .map_err(|e| e.to_string())
                .and_then(|meta| {
                    if meta.len() > MAX {
                        Err(format!("{} bytes, over the 64 MiB limit", meta.len()))
                    } else {
                        std::fs::read_to_string(path).map_err(|e| e.to_string())
                    }
                });
            let text = match text {
                Ok(text) => text,
                Err(error) => {
                    self.error(&at, format!("cannot read {}: {error}", path.display()));
                    continue;
                }
            };
            match &mut wasm.config {
                serde_json::Value::Object(map) if map.contains_key(name) => {
                    self.error(&at, format!("`config.{name}` is set too; keep one"));
                }
                serde_json::Value::Object(map) => {
                    map.insert(name.clone(), serde_json::Value::String(text));
                }
                _ => self.error(&at, "`config` must be a mapping to take files"),
            }
        }
    }

    /// The required `inputs` of a processor or sink, taken out of `rest`;
    /// `None` after reporting them missing or invalid.
    fn inputs(&mut self, key: &str, rest: &mut MarkedMappingNode) -> Option<Vec<InputRef>> {
        match rest.remove("inputs") {
            Some(node) if !is_null(&node) => self.deserialize(&node, &format!("{key}.inputs"), &[]),
            _ => {
                self.error(key, "missing field `inputs`");
                None
            }
        }
    }

    /// Both halves of a processor or sink, or `None`; when only the
    /// settings failed, the `inputs` are kept for the graph checks.
    fn entry<K>(
        &mut self,
        name: &str,
        section: Section,
        inputs: Option<Vec<InputRef>>,
        kind: Option<K>,
    ) -> Option<(Vec<InputRef>, K)> {
        match (inputs, kind) {
            (Some(inputs), Some(kind)) => Some((inputs, kind)),
            (Some(inputs), None) => {
                self.salvage(name, section, inputs);
                None
            }
            (None, _) => None,
        }
    }

    fn sink(&mut self, name: &str, mapping: &MarkedMappingNode) -> Option<SinkConfig> {
        let key = format!("sinks.{name}");
        let type_name = self.component_type(&key, mapping, Section::Sink, SinkKind::TYPES);
        let mut rest = mapping.clone();
        rest.remove("type");
        let inputs = self.inputs(&key, &mut rest);
        // `Err` when `buffer` is present but invalid (already reported).
        let buffer = match rest.remove("buffer") {
            Some(node) if !is_null(&node) => self
                .deserialize::<BufferConfig>(&node, &format!("{key}.buffer"), &[])
                .ok_or(()),
            _ => Ok(BufferConfig::default()),
        };
        let kind = type_name.and_then(|type_name| {
            let view = typed_view(&Node::Mapping(rest));
            let result = SinkKind::from_node(&type_name, &view)?;
            self.accept(result, &key, &["type", "inputs", "buffer"])
        });
        let (inputs, kind) = self.entry(name, Section::Sink, inputs, kind)?;
        Some(SinkConfig {
            inputs,
            buffer: buffer.ok()?,
            kind,
        })
    }

    fn salvage(&mut self, name: &str, section: Section, inputs: Vec<InputRef>) {
        let declared = self
            .declared
            .iter_mut()
            .rev()
            .find(|component| component.name == name && component.section == section);
        if let Some(declared) = declared {
            declared.salvaged_inputs = Some(inputs);
        }
    }

    /// The component's `type` if it is one of `types`; otherwise reports why
    /// not.
    fn component_type(
        &mut self,
        key: &str,
        mapping: &MarkedMappingNode,
        section: Section,
        types: &[&str],
    ) -> Option<String> {
        let known = backticked(types);
        match mapping.get_node("type").filter(|node| !is_null(node)) {
            None => {
                self.error(
                    key,
                    format!("missing `type`; a {section} type is one of {known}"),
                );
                None
            }
            Some(Node::Scalar(type_name)) if types.contains(&type_name.as_str()) => {
                Some(type_name.as_str().to_owned())
            }
            Some(Node::Scalar(type_name)) => {
                let hint = did_you_mean(type_name.as_str(), types.iter().copied());
                let message = format!(
                    "unknown {section} type `{}`; known types: {known}{hint}",
                    type_name.as_str()
                );
                self.error(&format!("{key}.type"), message);
                None
            }
            Some(_) => {
                self.error(&format!("{key}.type"), format!("must be one of {known}"));
                None
            }
        }
    }

    fn deserialize<T: DeserializeOwned>(
        &mut self,
        node: &Node,
        key: &str,
        extra_fields: &[&str],
    ) -> Option<T> {
        let view = typed_view(node);
        let result = marked_yaml::from_node(&view);
        self.accept(result, key, extra_fields)
    }

    /// The value, or `None` after reporting the serde error located inside the
    /// node at `key`; `extra_fields` are keys the loader removed before
    /// deserializing, listed in "unknown field" messages.
    fn accept<T>(
        &mut self,
        result: Result<T, FromNodeError>,
        key: &str,
        extra_fields: &[&str],
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                let error = self.serde_error(&error, key, extra_fields);
                self.errors.push(error);
                None
            }
        }
    }

    fn serde_error(&self, error: &FromNodeError, key: &str, extra_fields: &[&str]) -> ConfigError {
        let key = match error.path() {
            Some(path) if path.starts_with('[') => format!("{key}{path}"),
            Some(path) => format!("{key}.{path}"),
            None => key.to_owned(),
        };
        let value = || {
            self.map
                .node(&key)
                .and_then(Node::as_scalar)
                .map_or_else(String::new, |scalar| scalar.as_str().to_owned())
        };
        let mut at = error.start_mark().map(|marker| position(&marker));
        let message = match &**error {
            SerdeError::UnknownFieldError(field, expected, _) => {
                let mut fields = extra_fields.to_vec();
                fields.extend(expected.iter().copied());
                let hint = did_you_mean(field, fields.iter().copied());
                format!(
                    "unknown field `{field}`; expected one of {}{hint}",
                    backticked(&fields)
                )
            }
            SerdeError::IntegerParseFailure(parse, _) => match parse.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    format!("`{}` is out of range", value())
                }
                _ => format!("expected a whole number, got `{}`", value()),
            },
            SerdeError::FloatParseFailure(..) => format!("expected a number, got `{}`", value()),
            SerdeError::NotBoolean(_) => format!("expected `true` or `false`, got `{}`", value()),
            SerdeError::Other(message, _) => {
                if let Some(field) = message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.strip_suffix('`'))
                {
                    // Point at the empty key if it is there, else at the component.
                    at = Some(self.map.locate_key(&format!("{key}.{field}")));
                }
                message.clone()
            }
        };
        let at = at.unwrap_or_else(|| self.map.locate_key(&key));
        ConfigError::new(self.file, at, key, message)
    }

    fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors.push(self.map.error_at_key(key, message));
    }

    fn error_at_scalar(
        &mut self,
        scalar: &MarkedScalarNode,
        key: &str,
        message: impl Into<String>,
    ) {
        let at = start(scalar.span()).unwrap_or((1, 1));
        self.errors
            .push(ConfigError::new(self.file, at, key, message));
    }
}

/// A plain `null`, `~` or empty value, which means "not set".
fn is_null(node: &Node) -> bool {
    matches!(node, Node::Scalar(scalar)
        if scalar.may_coerce() && matches!(scalar.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

/// A copy of `node` ready for serde: every scalar may be read as a number or
/// boolean, and keys set to null are dropped so their defaults apply.
fn typed_view(node: &Node) -> Node {
    match node {
        Node::Scalar(scalar) => {
            let mut scalar = scalar.clone();
            scalar.set_coerce(true);
            Node::Scalar(scalar)
        }
        Node::Sequence(sequence) => {
            let mut sequence = sequence.clone();
            for item in sequence.iter_mut() {
                *item = typed_view(item);
            }
            Node::Sequence(sequence)
        }
        Node::Mapping(mapping) => {
            let mut mapping = mapping.clone();
            mapping.retain(|_, value| !is_null(value));
            for (_, value) in mapping.iter_mut() {
                *value = typed_view(value);
            }
            Node::Mapping(mapping)
        }
    }
}

fn syntax_error(file: &Path, error: &LoadError) -> ConfigError {
    let (marker, message) = match error {
        LoadError::TopLevelMustBeMapping(marker) | LoadError::TopLevelMustBeSequence(marker) => (
            *marker,
            format!(
                "the top level must be a mapping of {}",
                backticked(TOP_LEVEL_KEYS)
            ),
        ),
        LoadError::UnexpectedAnchor(marker) => (
            *marker,
            "YAML anchors and aliases (`&name`, `*name`) are not supported".to_owned(),
        ),
        LoadError::MappingKeyMustBeScalar(marker) => {
            (*marker, "mapping keys must be plain text".to_owned())
        }
        LoadError::UnexpectedTag(marker) => (
            *marker,
            "YAML tags (`!name`, `!!str`) are not supported; quote the value instead".to_owned(),
        ),
        LoadError::ScanError(marker, scan) => {
            (*marker, format!("YAML syntax error: {}", scan.info()))
        }
        LoadError::DuplicateKey(duplicate) => (
            duplicate
                .key
                .span()
                .start()
                .copied()
                .unwrap_or(Marker::new(0, 0, 1, 1)),
            format!("duplicate key `{}`", duplicate.key.as_str()),
        ),
    };
    ConfigError::new(file, position(&marker), "", message)
}

/// Parse a YAML file that sits beside a pipeline (`foghorn test` cases)
/// into `T`, its scalars typed as a pipeline's are (YAML 1.2: `80` is a
/// number, `ok` text). An error names the file, line, column and key.
///
/// # Errors
/// A syntax error, or a value that does not fit `T`.
pub(crate) fn parse_document<T: DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    let root = match parse_yaml_with_options(0, text, options) {
        Ok(root) => root,
        Err(LoadError::DuplicateKey(duplicate)) => {
            let at = duplicate.key.span().start().map_or((1, 1), position);
            let key = duplicate.key.as_str();
            return Err(ConfigError::new(
                file,
                at,
                key,
                format!("`{key}` is defined twice"),
            ));
        }
        Err(error) => return Err(syntax_error(file, &error)),
    };
    marked_yaml::from_node(&typed_view(&root)).map_err(|error| {
        let at = error
            .start_mark()
            .map_or((1, 1), |marker| position(&marker));
        let key = error.path().unwrap_or_default();
        ConfigError::new(file, at, key, (*error).to_string())
    })
}
