//! Pure checks of a typed configuration: value ranges, component names, and
//! the pipeline graph (every input exists, is not a sink, has the selected
//! output, and processors do not form a cycle).
//!
//! Nothing here touches the disk or the network; plugin files, ports and
//! paths are checked when the topology is built. Each problem is located
//! through the [`SourceMap`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::inputs::{InputRef, Output};
use super::schema::Config;
use crate::processors::ProcessorKind;
use crate::settings::Problems;
use crate::settings::SourceMap;
use crate::settings::{ConfigError, did_you_mean, sort};

/// The three kinds of component, as named in `sources`, `processors`, `sinks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Section {
    Source,
    Processor,
    Sink,
}

impl Section {
    /// The top-level key holding this kind of component.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Source => "sources",
            Self::Processor => "processors",
            Self::Sink => "sinks",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Source => "source",
            Self::Processor => "processor",
            Self::Sink => "sink",
        })
    }
}

/// A component name as declared in the file, whether or not its settings
/// were valid, so that references to it are not reported as unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declared {
    pub(crate) name: String,
    pub(crate) section: Section,
    /// The `inputs` of a processor or sink that failed to load as a whole but
    /// whose `inputs` did, so they are still checked.
    pub(crate) salvaged_inputs: Option<Vec<InputRef>>,
}

impl Declared {
    fn key(&self) -> String {
        format!("{}.{}", self.section.key(), self.name)
    }

    /// Located by literal keys: a name may (wrongly) contain a dot.
    fn position(&self, map: &SourceMap) -> (usize, usize) {
        map.locate(&[self.section.key(), &self.name])
    }
}

impl Config {
    /// Checks ranges, names and the pipeline graph without any I/O.
    ///
    /// [`super::load`] already runs this; call it again after changing a
    /// `Config` in code.
    ///
    /// # Errors
    /// Every problem found, sorted by position.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let declared = declared_in(self);
        let mut errors = check(self, &declared);
        if errors.is_empty() {
            Ok(())
        } else {
            sort(&mut errors);
            Err(errors)
        }
    }
}

/// The components present in a typed configuration.
fn declared_in(config: &Config) -> Vec<Declared> {
    let sources = config.sources.keys().map(|name| (name, Section::Source));
    let processors = config
        .processors
        .keys()
        .map(|name| (name, Section::Processor));
    let sinks = config.sinks.keys().map(|name| (name, Section::Sink));
    sources
        .chain(processors)
        .chain(sinks)
        .map(|(name, section)| Declared {
            name: name.clone(),
            section,
            salvaged_inputs: None,
        })
        .collect()
}

/// All pure checks; `declared` lists every component name in the file,
/// including those whose settings failed to load.
pub(crate) fn check(config: &Config, declared: &[Declared]) -> Vec<ConfigError> {
    let mut problems = Problems::new(&config.source_map);
    config.batch.check("batch", &mut problems);
    problems.range(
        "log_files.max_size",
        config.log_files.max_size.0,
        4096,
        u64::MAX,
    );
    problems.range("log_files.keep", config.log_files.keep, 0, 1000);
    for (name, source) in &config.sources {
        let key = format!("sources.{name}");
        if let Some(batch) = &source.batch {
            batch.check(&format!("{key}.batch"), &mut problems);
        }
        source.kind.check(&key, &mut problems);
        for (index, other) in source.after.iter().enumerate() {
            let at = format!("{key}.after[{index}]");
            if other == name {
                problems.push(&at, "a source cannot wait for itself");
            } else if !config.sources.contains_key(other) {
                problems.push(&at, format!("{other} is not a source"));
            } else if waits_for(config, other, name) {
                problems.push(
                    &at,
                    format!("{other} waits for {name}: neither would start"),
                );
            }
        }
    }
    for (name, processor) in &config.processors {
        processor
            .kind
            .check(&format!("processors.{name}"), &mut problems);
    }
    for (name, sink) in &config.sinks {
        sink.kind.check(&format!("sinks.{name}"), &mut problems);
        problems.range(
            &format!("sinks.{name}.buffer.max_batches"),
            sink.buffer.max_batches,
            1,
            100_000,
        );
    }
    check_names(declared, &config.source_map, &mut problems);
    let consumers: Vec<Consumer<'_>> = config
        .processors
        .iter()
        .map(|(name, processor)| (Section::Processor, name.as_str(), &processor.inputs[..]))
        .chain(
            config
                .sinks
                .iter()
                .map(|(name, sink)| (Section::Sink, name.as_str(), &sink.inputs[..])),
        )
        .chain(declared.iter().filter_map(|component| {
            let inputs = component.salvaged_inputs.as_deref()?;
            Some((component.section, component.name.as_str(), inputs))
        }))
        .collect();
    check_inputs(&consumers, declared, &mut problems);
    check_cycles(&consumers, &mut problems);
    check_receivers(config, declared, &mut problems);
    problems.into_errors()
}

/// Whether source `from` waits, directly or not, for source `target`.
fn waits_for(config: &Config, from: &str, target: &str) -> bool {
    let mut seen = vec![from];
    let mut next = vec![from];
    while let Some(name) = next.pop() {
        for other in config.sources.get(name).into_iter().flat_map(|s| &s.after) {
            if other == target {
                return true;
            }
            if !seen.contains(&other.as_str()) {
                seen.push(other);
                next.push(other);
            }
        }
    }
    false
}

/// Every receiver an alert stage routes to is a sink reading the stage's
/// `notifications`, and only alert stages are read that way.
fn check_receivers(config: &Config, declared: &[Declared], problems: &mut Problems<'_>) {
    for (name, processor) in &config.processors {
        let ProcessorKind::Alerts(stage) = &processor.kind else {
            continue;
        };
        for receiver in stage.receivers() {
            let reads_stage = |input: &InputRef| {
                input.component == *name && input.output == Output::Notifications
            };
            let failed_to_load = declared
                .iter()
                .any(|d| d.section == Section::Sink && d.name == receiver);
            match config.sinks.get(receiver) {
                // Its own errors say what is wrong with it.
                None if failed_to_load => {}
                None => {
                    let hint = did_you_mean(receiver, config.sinks.keys().map(String::as_str));
                    problems.push(
                        &format!("processors.{name}.route"),
                        format!("receiver `{receiver}` is not a sink{hint}"),
                    );
                }
                Some(sink) if !sink.inputs.iter().any(reads_stage) => problems.push(
                    &format!("sinks.{receiver}.inputs"),
                    format!(
                        "`{receiver}` is a receiver of `{name}`: add `{name}.notifications` to its inputs"
                    ),
                ),
                Some(_) => {}
            }
        }
    }
    for (sink, settings) in &config.sinks {
        for (index, input) in settings.inputs.iter().enumerate() {
            let is_stage = config
                .processors
                .get(&input.component)
                .is_some_and(|p| matches!(p.kind, ProcessorKind::Alerts(_)));
            if input.output == Output::Notifications
                && config.processors.contains_key(&input.component)
                && !is_stage
            {
                problems.push(
                    &format!("sinks.{sink}.inputs[{index}]"),
                    format!(
                        "`{}` is not an alert stage (`type: alerts`) and has no notifications",
                        input.component
                    ),
                );
            }
        }
    }
}

/// A processor or sink with its inputs.
type Consumer<'a> = (Section, &'a str, &'a [InputRef]);

/// The components declared as sources and processors, in name order.
fn readable(declared: &[Declared]) -> Vec<&str> {
    let mut names: Vec<&str> = declared
        .iter()
        .filter(|component| component.section != Section::Sink)
        .map(|component| component.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// Names are `[A-Za-z0-9_-]+` and unique across sources, processors and sinks.
fn check_names(declared: &[Declared], map: &SourceMap, problems: &mut Problems<'_>) {
    let mut by_name: BTreeMap<&str, Vec<&Declared>> = BTreeMap::new();
    for component in declared {
        if !valid_name(&component.name) {
            problems.push_at(
                component.key(),
                component.position(map),
                format!(
                    "invalid {} name `{}`: use only letters, digits, `_` and `-`",
                    component.section, component.name
                ),
            );
        }
        by_name.entry(&component.name).or_default().push(component);
    }
    for uses in by_name.values_mut().filter(|uses| uses.len() > 1) {
        uses.sort_by_key(|component| component.position(map));
        let first = uses[0];
        let (line, _) = first.position(map);
        for again in &uses[1..] {
            problems.push_at(
                again.key(),
                again.position(map),
                format!(
                    "the name `{}` is already used by the {} at line {line}; names must be unique across sources, processors and sinks",
                    again.name, first.section
                ),
            );
        }
    }
}

/// Every input names a declared source or processor, and only processors are
/// read by `.points`/`.alerts`.
fn check_inputs(consumers: &[Consumer<'_>], declared: &[Declared], problems: &mut Problems<'_>) {
    // Where a name is (wrongly) declared twice, its source or processor wins.
    let mut sections: BTreeMap<&str, Section> = BTreeMap::new();
    for component in declared {
        let section = sections.entry(&component.name).or_insert(component.section);
        *section = (*section).min(component.section);
    }
    let readable = readable(declared);
    for &(section, name, inputs) in consumers {
        let key = format!("{}.{name}.inputs", section.key());
        if inputs.is_empty() {
            problems.push(&key, "must list at least one source or processor");
        }
        for (index, input) in inputs.iter().enumerate() {
            let key = format!("{key}[{index}]");
            match sections.get(input.component.as_str()) {
                None => problems.push(&key, unknown_input(input, &readable)),
                Some(Section::Sink) => problems.push(
                    &key,
                    format!(
                        "`{}` is a sink; only sources and processors can be inputs",
                        input.component
                    ),
                ),
                Some(Section::Source) if input.output != Output::Default => problems.push(
                    &key,
                    format!(
                        "`{}` is a source and has only one output; write `{}`",
                        input.component, input.component
                    ),
                ),
                Some(_) => {}
            }
        }
    }
}

fn unknown_input(input: &InputRef, readable: &[&str]) -> String {
    let known = if readable.is_empty() {
        "there are no sources or processors".to_owned()
    } else {
        format!("known components: {}", readable.join(", "))
    };
    let hint = did_you_mean(&input.component, readable.iter().copied());
    format!("unknown input `{}`; {known}{hint}", input.component)
}

/// Processors must not feed themselves, directly or through each other.
fn check_cycles(consumers: &[Consumer<'_>], problems: &mut Problems<'_>) {
    let processors: BTreeMap<&str, &[InputRef]> = consumers
        .iter()
        .filter(|(section, _, _)| *section == Section::Processor)
        .map(|&(_, name, inputs)| (name, inputs))
        .collect();
    // Edges from a processor to the processors it reads.
    let reads: BTreeMap<&str, BTreeSet<&str>> = processors
        .iter()
        .map(|(&name, inputs)| {
            let upstream = inputs
                .iter()
                .map(|input| input.component.as_str())
                .filter(|input| processors.contains_key(input))
                .collect();
            (name, upstream)
        })
        .collect();
    for component in strongly_connected(&reads) {
        let first = component[0];
        let cyclic = component.len() > 1 || reads[first].contains(first);
        if !cyclic {
            continue;
        }
        // Shortest path back to `first` against the data flow, then reversed
        // so the message reads in the direction data flows.
        let mut path = shortest_cycle(first, &reads, &component);
        path.reverse();
        let mut message = format!("cycle: {}", path.join(" -> "));
        let others: Vec<&str> = component
            .iter()
            .copied()
            .filter(|name| !path.contains(name))
            .collect();
        if !others.is_empty() {
            message = format!("{message} (also in the loop: {})", others.join(", "));
        }
        // Locate at `first`'s input that closes the cycle.
        let upstream = path[path.len() - 2];
        let index = processors[first]
            .iter()
            .position(|input| input.component == upstream)
            .unwrap_or(0);
        problems.push(&format!("processors.{first}.inputs[{index}]"), message);
    }
}

/// Tarjan's algorithm; each component sorted by name, components in a stable
/// order.
fn strongly_connected<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        next_index: usize,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        state: &mut State<'a>,
    ) {
        state.index.insert(node, state.next_index);
        state.low.insert(node, state.next_index);
        state.next_index += 1;
        state.stack.push(node);
        state.on_stack.insert(node);
        for &next in &edges[node] {
            if !state.index.contains_key(next) {
                visit(next, edges, state);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.push(member);
                if member == node {
                    break;
                }
            }
            component.sort_unstable();
            state.components.push(component);
        }
    }
    let mut state = State {
        next_index: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for &node in edges.keys() {
        if !state.index.contains_key(node) {
            visit(node, edges, &mut state);
        }
    }
    state.components
}

/// `[start, .., start]` following `edges` within `within`, breadth first.
fn shortest_cycle<'a>(
    start: &'a str,
    edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    within: &[&'a str],
) -> Vec<&'a str> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in &edges[node] {
            if next == start {
                let mut path = vec![start, node];
                let mut at = node;
                while at != start {
                    at = came_from[at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if within.contains(&next) && !came_from.contains_key(next) {
                came_from.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    vec![start, start]
}
