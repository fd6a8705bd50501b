//! One record read into its fields, tags, time and measurement: the walk
//! follows the record's text down the trie of configured paths, reading
//! each value it is asked for straight into its slot and skipping every
//! other one (or, with `flatten`, naming it). No tree of the record is
//! built: a string without escapes is kept as its place in the line, and
//! nothing is allocated once the buffers have grown to the records' size.

use std::fmt::Write as _;

use foghorn_plugin::Value;
use foghorn_plugin::timestamp::TimeFormat;
use foghorn_plugin::typed::{FieldType, quote};

use crate::config::{NonFinite, Plan};
use crate::path::{ROOT, Target};
use crate::reader::{Invalid, Number, Reader, Str};

/// Flattened names longer than this reject the record: a name is made of
/// the record's keys, and must not make the output larger than the input
/// many times over.
pub(crate) const MAX_NAME: usize = 1024;

/// Where a value's text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// A range of the record (a string without escapes).
    Line(usize, usize),
    /// A range of [`Scan::scratch`] (unescaped, or a number written out).
    Scratch(usize, usize),
}

/// A field's value in the current record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell {
    Absent,
    Float(f64),
    Int(i64),
    Bool(bool),
    Text(Text),
}

/// A flattened field: its name in [`Scan::names`], and its value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flat {
    pub name: (usize, usize),
    pub cell: Cell,
}

/// One record's values; the buffers are reused from record to record.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// By `Plan::fields` index.
    pub cells: Vec<Cell>,
    /// By `Plan::tags` index.
    pub tags: Vec<Option<Text>>,
    pub timestamp: Option<i64>,
    pub measurement: Option<Text>,
    pub flat: Vec<Flat>,
    pub names: String,
    /// The flattened name of the value being read.
    path: String,
    pub scratch: String,
    /// The current key, when it has escapes.
    key: String,
    /// The current string value, when it has escapes.
    unescaped: String,
    /// A hash table of flattened names (index + 1, 0 for none), for
    /// [`Scan::dedup`].
    seen: Vec<usize>,
}

impl Scan {
    fn reset(&mut self, plan: &Plan) {
        self.cells.clear();
        self.cells.resize(plan.fields.len(), Cell::Absent);
        self.tags.clear();
        self.tags.resize(plan.tags.len(), None);
        self.timestamp = None;
        self.measurement = None;
        self.flat.clear();
        self.names.clear();
        self.path.clear();
        self.scratch.clear();
    }

    /// The text `text` of the record `line` this scan read.
    #[inline]
    pub(crate) fn text<'a>(&'a self, line: &'a str, text: Text) -> &'a str {
        match text {
            Text::Line(start, end) => line.get(start..end).unwrap_or_default(),
            Text::Scratch(start, end) => self.scratch.get(start..end).unwrap_or_default(),
        }
    }

    /// Leave out every flattened field whose name comes again later in the
    /// record: one pass with a hash table, not a sort, so the fields keep
    /// the record's order (and the output builder finds their columns
    /// where the record before had them).
    pub(crate) fn dedup(&mut self) {
        let len = self.flat.len();
        if len < 2 {
            return;
        }
        let size = (2 * len).next_power_of_two();
        self.seen.clear();
        self.seen.resize(size, 0);
        for i in (0..len).rev() {
            let name = self.name(&self.flat[i]).as_bytes();
            let mut slot = hash(name) as usize & (size - 1);
            loop {
                match self.seen[slot] {
                    0 => {
                        self.seen[slot] = i + 1;
                        break;
                    }
                    later => {
                        let other = &self.flat[later - 1];
                        if self.name(other).as_bytes() == name {
                            self.flat[i].cell = Cell::Absent;
                            break;
                        }
                        slot = (slot + 1) & (size - 1);
                    }
                }
            }
        }
    }

    /// The name of a flattened field.
    #[inline]
    pub(crate) fn name(&self, flat: &Flat) -> &str {
        self.names.get(flat.name.0..flat.name.1).unwrap_or_default()
    }

    /// `cell` as a value, reading its text from `line`.
    #[inline]
    pub(crate) fn value<'a>(&'a self, line: &'a str, cell: Cell) -> Option<Value<'a>> {
        Some(match cell {
            Cell::Absent => return None,
            Cell::Float(v) => Value::Float(v),
            Cell::Int(v) => Value::Int(v),
            Cell::Bool(v) => Value::Bool(v),
            Cell::Text(text) => Value::Text(self.text(line, text)),
        })
    }

    /// Keep `s` (at `at` in the line when it is borrowed from it).
    #[inline(always)]
    fn keep(&mut self, s: &str, at: Option<usize>) -> Text {
        match at {
            Some(start) => Text::Line(start, start + s.len()),
            None => {
                let start = self.scratch.len();
                self.scratch.push_str(s);
                Text::Scratch(start, self.scratch.len())
            }
        }
    }

    /// Write `args` into the scratch buffer.
    fn write(&mut self, args: std::fmt::Arguments<'_>) -> Text {
        let start = self.scratch.len();
        let _ = self.scratch.write_fmt(args);
        Text::Scratch(start, self.scratch.len())
    }
}

/// Read `line` into `scan`, or say why the record is rejected.
pub(crate) fn scan(plan: &Plan, scan: &mut Scan, line: &str) -> Result<(), String> {
    scan.reset(plan);
    let mut walk = Walk {
        plan,
        scan,
        reader: Reader::new(line),
    };
    walk.record().map_err(|stop| match stop {
        Stop::Invalid(invalid) => invalid.reason(line),
        Stop::Reject(reason) => reason,
    })
}

/// Why the walk stopped.
enum Stop {
    /// The text is not JSON.
    Invalid(Invalid),
    /// A value does not fit the config.
    Reject(String),
}

impl From<Invalid> for Stop {
    fn from(invalid: Invalid) -> Self {
        Stop::Invalid(invalid)
    }
}

/// A scalar JSON value.
#[derive(Debug, Clone, Copy)]
enum Leaf<'a> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    /// A string, and where it starts in the line when it is borrowed from it.
    Str(&'a str, Option<usize>),
}

impl Leaf<'_> {
    /// What it is, for reject reasons: `found a bool`.
    fn kind(self) -> &'static str {
        match self {
            Leaf::Null => "null",
            Leaf::Bool(_) => "a bool",
            Leaf::I64(_) | Leaf::U64(_) | Leaf::F64(_) => "a number",
            Leaf::Str(..) => "a string",
        }
    }
}

/// The walk over one record. A node is a place in the trie; `None` is a
/// value outside every configured path, which only `flatten` reads.
struct Walk<'s, 'l> {
    plan: &'s Plan,
    scan: &'s mut Scan,
    reader: Reader<'l>,
}

impl Walk<'_, '_> {
    fn record(&mut self) -> Result<(), Stop> {
        match self.reader.value_start()? {
            b'{' => {}
            b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                return Err(Stop::Reject("not a JSON object".to_owned()));
            }
            _ => return Err(self.reader.invalid("expected value").into()),
        }
        self.object(Some(ROOT), 0)?;
        self.reader.end()?;
        Ok(())
    }

    /// The object at the reader's position, at `node`.
    fn object(&mut self, node: Option<usize>, depth: usize) -> Result<(), Stop> {
        self.reader.open(depth)?;
        let flat = self.plan.flatten;
        let mut first = true;
        while let Some(key) = self.reader.next_key(&mut first)? {
            let mark = self.scan.path.len();
            let child = self.child(node, key);
            if child.is_none() && !flat {
                self.reader.skip(depth + 1)?;
            } else {
                self.value(child, depth + 1)?;
            }
            self.scan.path.truncate(mark);
        }
        Ok(())
    }

    /// The array at the reader's position, at `node`.
    fn array(&mut self, node: Option<usize>, depth: usize) -> Result<(), Stop> {
        self.reader.open(depth)?;
        let flat = self.plan.flatten;
        let mut first = true;
        let mut index = 0;
        while self.reader.next_element(&mut first)? {
            let child = node.and_then(|node| self.plan.trie.index(node, index));
            if child.is_none() && !flat {
                self.reader.skip(depth + 1)?;
            } else {
                let mark = self.scan.path.len();
                if flat {
                    push_index(&mut self.scan.path, index);
                }
                self.value(child, depth + 1)?;
                self.scan.path.truncate(mark);
            }
            index += 1;
        }
        Ok(())
    }

    /// The child of `node` under `key`; with `flatten`, the key is also
    /// appended to the flattened name.
    #[inline(always)]
    fn child(&mut self, node: Option<usize>, key: Str) -> Option<usize> {
        if !key.escaped && !self.plan.flatten {
            // The common case: compared as bytes, never made a `str`.
            let bytes = self.reader.bytes(key);
            return node.and_then(|node| self.plan.trie.key(node, bytes));
        }
        let text = if key.escaped {
            self.scan.key.clear();
            self.reader.unescape(key, &mut self.scan.key);
            self.scan.key.as_str()
        } else {
            self.reader.slice(key)
        };
        if self.plan.flatten {
            if node != Some(ROOT) {
                self.scan.path.push('_');
            }
            self.scan.path.push_str(text);
        }
        node.and_then(|node| self.plan.trie.key(node, text.as_bytes()))
    }

    /// The value at the reader's position, at `node`.
    fn value(&mut self, node: Option<usize>, depth: usize) -> Result<(), Stop> {
        let byte = self.reader.value_start()?;
        match byte {
            b'{' | b'[' => {
                if let Some(&target) = node.and_then(|node| self.plan.trie.targets(node).first()) {
                    let found = if byte == b'{' {
                        "an object"
                    } else {
                        "an array"
                    };
                    return Err(Stop::Reject(mismatch(self.plan, target, found)));
                }
                if byte == b'{' {
                    self.object(node, depth)
                } else {
                    self.array(node, depth)
                }
            }
            b'"' => {
                let s = self.reader.string()?;
                if !s.escaped {
                    let text = self.reader.slice(s);
                    return self.leaf(node, Leaf::Str(text, Some(s.start)));
                }
                let mut value = std::mem::take(&mut self.scan.unescaped);
                value.clear();
                self.reader.unescape(s, &mut value);
                let read = self.leaf(node, Leaf::Str(&value, None));
                self.scan.unescaped = value;
                read
            }
            b't' => {
                self.reader.literal(b"true")?;
                self.leaf(node, Leaf::Bool(true))
            }
            b'f' => {
                self.reader.literal(b"false")?;
                self.leaf(node, Leaf::Bool(false))
            }
            b'n' => {
                self.reader.literal(b"null")?;
                self.leaf(node, Leaf::Null)
            }
            b'-' | b'0'..=b'9' => {
                let leaf = match self.reader.number()? {
                    Number::I64(v) => Leaf::I64(v),
                    Number::U64(v) => Leaf::U64(v),
                    Number::F64(v) => Leaf::F64(v),
                };
                self.leaf(node, leaf)
            }
            _ => Err(self.reader.invalid("expected value").into()),
        }
    }

    /// A scalar at `node`: into its targets, or flattened.
    #[inline(always)]
    fn leaf(&mut self, node: Option<usize>, leaf: Leaf<'_>) -> Result<(), Stop> {
        let plan = self.plan;
        match node {
            Some(node) if !plan.trie.targets(node).is_empty() => {
                for &target in plan.trie.targets(node) {
                    assign(plan, self.scan, target, leaf).map_err(Stop::Reject)?;
                }
                Ok(())
            }
            _ if plan.flatten => flatten(plan, self.scan, leaf).map_err(Stop::Reject),
            _ => Ok(()),
        }
    }
}

/// `_index` appended to a flattened name (without the formatting
/// machinery: this runs for every array element).
fn push_index(path: &mut String, index: usize) {
    path.push('_');
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = index;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        path.push(char::from(digit));
    }
}

/// A hash of a flattened name (FxHash's multiply and rotate, eight bytes
/// at a time): names are short, and a collision costs one comparison.
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let mut hash = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        hash = (hash.rotate_left(26) ^ u64::from_le_bytes(chunk.try_into().unwrap_or_default()))
            .wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    (hash.rotate_left(26) ^ u64::from_le_bytes(tail)).wrapping_mul(K)
}

/// Why `target` cannot take a value that is `found`.
fn mismatch(plan: &Plan, target: Target, found: &str) -> String {
    match target {
        Target::Field(slot) => {
            let field = &plan.fields[slot];
            format!(
                "field {} at {}: expected {}, found {found}",
                field.name,
                field.path,
                expected(field.ty)
            )
        }
        Target::Tag(slot) => {
            let tag = &plan.tags[slot];
            format!(
                "tag {} at {}: expected a string, number or bool, found {found}",
                tag.name, tag.path
            )
        }
        Target::Timestamp => format!(
            "timestamp at {}: expected a string or number, found {found}",
            plan.timestamp.as_ref().map_or("", |t| t.path.as_str())
        ),
        Target::Measurement => format!(
            "measurement at {}: expected a string, found {found}",
            plan.measurement_path.as_deref().unwrap_or_default()
        ),
    }
}

/// What a field of type `ty` takes.
fn expected(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Float | FieldType::Int => "a number",
        FieldType::Bool => "a bool",
        FieldType::String | FieldType::Auto => "a string, number or bool",
    }
}

/// Put a scalar into `target`.
#[inline(always)]
fn assign(plan: &Plan, scan: &mut Scan, target: Target, leaf: Leaf<'_>) -> Result<(), String> {
    match target {
        Target::Field(slot) => {
            let field = &plan.fields[slot];
            scan.cells[slot] = typed(scan, field.ty, leaf, plan.non_finite).map_err(|problem| {
                problem.reason(&format!("field {} at {}", field.name, field.path), field.ty)
            })?;
        }
        Target::Tag(slot) => {
            scan.tags[slot] = match leaf {
                Leaf::Null => None,
                Leaf::Str(s, at) => Some(scan.keep(s, at)),
                _ => Some(scalar_text(scan, leaf)),
            };
        }
        Target::Timestamp => {
            let Some(timestamp) = &plan.timestamp else {
                return Ok(());
            };
            scan.timestamp = time(scan, &timestamp.format, leaf)
                .map_err(|reason| format!("timestamp at {}: {reason}", timestamp.path))?;
        }
        Target::Measurement => {
            scan.measurement = match leaf {
                Leaf::Null => None,
                Leaf::Str(s, at) => Some(scan.keep(s, at)),
                _ => return Err(mismatch(plan, target, leaf.kind())),
            };
        }
    }
    Ok(())
}

/// A number or bool written out as text.
fn scalar_text(scan: &mut Scan, leaf: Leaf<'_>) -> Text {
    match leaf {
        Leaf::Bool(v) => scan.write(format_args!("{v}")),
        Leaf::I64(v) => scan.write(format_args!("{v}")),
        Leaf::U64(v) => scan.write(format_args!("{v}")),
        Leaf::F64(v) => scan.write(format_args!("{v:?}")),
        Leaf::Null => scan.write(format_args!("null")),
        Leaf::Str(s, at) => scan.keep(s, at),
    }
}

/// A number as a reject reason shows it.
fn number_text(leaf: Leaf<'_>) -> String {
    match leaf {
        Leaf::I64(v) => v.to_string(),
        Leaf::U64(v) => v.to_string(),
        Leaf::F64(v) => format!("{v:?}"),
        Leaf::Bool(v) => v.to_string(),
        Leaf::Null => "null".to_owned(),
        Leaf::Str(s, _) => quote(s),
    }
}

/// Why a scalar is not a field's type.
enum Problem {
    /// Expected this, found that: `expected a number, found a bool`.
    Kind(&'static str),
    /// Of the right kind but not this type: `"abc" is not a float`.
    Not(String),
    /// A float from text that is not finite.
    NotFinite(String),
}

impl Problem {
    fn reason(self, field: &str, ty: FieldType) -> String {
        match self {
            Problem::Kind(found) => format!("{field}: expected {}, found {found}", expected(ty)),
            Problem::Not(text) => format!("{field}: {text} is not {}", ty.described()),
            Problem::NotFinite(text) => format!("{field}: {text} is not a finite number"),
        }
    }
}

/// `leaf` as a field of type `ty`.
#[inline(always)]
fn typed(
    scan: &mut Scan,
    ty: FieldType,
    leaf: Leaf<'_>,
    non_finite: NonFinite,
) -> Result<Cell, Problem> {
    #[allow(clippy::cast_precision_loss, reason = "JSON numbers are doubles")]
    Ok(match (ty, leaf) {
        (_, Leaf::Null) => Cell::Absent,
        (FieldType::Float | FieldType::Auto, Leaf::F64(v)) => Cell::Float(v),
        (FieldType::Float | FieldType::Auto, Leaf::I64(v)) => Cell::Float(v as f64),
        (FieldType::Float | FieldType::Auto, Leaf::U64(v)) => Cell::Float(v as f64),
        (FieldType::Bool | FieldType::Auto, Leaf::Bool(v)) => Cell::Bool(v),
        (FieldType::String | FieldType::Auto, Leaf::Str(s, at)) => Cell::Text(scan.keep(s, at)),
        (FieldType::String, _) => Cell::Text(scalar_text(scan, leaf)),
        (FieldType::Int, Leaf::I64(v)) => Cell::Int(v),
        (FieldType::Int, Leaf::U64(v)) => {
            Cell::Int(i64::try_from(v).map_err(|_| Problem::Not(number_text(leaf)))?)
        }
        (FieldType::Int, Leaf::F64(v)) => {
            Cell::Int(integral(v).ok_or_else(|| Problem::Not(number_text(leaf)))?)
        }
        (FieldType::Bool, Leaf::I64(0) | Leaf::U64(0)) => Cell::Bool(false),
        (FieldType::Bool, Leaf::I64(1) | Leaf::U64(1)) => Cell::Bool(true),
        (FieldType::Bool, Leaf::I64(_) | Leaf::U64(_) | Leaf::F64(_)) => {
            return Err(Problem::Not(number_text(leaf)));
        }
        (FieldType::Float | FieldType::Int, Leaf::Bool(_)) => return Err(Problem::Kind("a bool")),
        (FieldType::Float | FieldType::Int | FieldType::Bool, Leaf::Str(s, _)) => match ty.parse(s)
        {
            Some(Value::Float(v)) if !v.is_finite() && non_finite == NonFinite::Reject => {
                return Err(Problem::NotFinite(quote(s)));
            }
            Some(Value::Float(v)) => Cell::Float(v),
            Some(Value::Int(v)) => Cell::Int(v),
            Some(Value::Bool(v)) => Cell::Bool(v),
            _ => return Err(Problem::Not(quote(s))),
        },
    })
}

/// `v` as an integer, when it is one within range.
#[allow(
    clippy::cast_possible_truncation,
    reason = "range checked before the cast"
)]
fn integral(v: f64) -> Option<i64> {
    // 2^63 is exact in an f64; every integral f64 below it fits an i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v)).then_some(v as i64)
}

/// The time of a record from `leaf`; `None` for `null`.
fn time(scan: &mut Scan, format: &TimeFormat, leaf: Leaf<'_>) -> Result<Option<i64>, String> {
    let parse = |text: &str| {
        format.parse(text).map_err(|e| {
            e.strip_prefix("timestamp ")
                .map_or_else(|| e.clone(), str::to_owned)
        })
    };
    let integer = match leaf {
        Leaf::Null => return Ok(None),
        Leaf::Str(s, _) => return parse(s).map(Some),
        Leaf::Bool(_) => {
            return Err(format!(
                "expected a string or number, found {}",
                leaf.kind()
            ));
        }
        _ if matches!(format, TimeFormat::Rfc3339 | TimeFormat::Strftime(_)) => {
            return Err(format!(
                "{} is a number, and {} reads text",
                number_text(leaf),
                format.name()
            ));
        }
        Leaf::I64(v) => Some(v),
        Leaf::U64(v) => i64::try_from(v).ok(),
        Leaf::F64(_) => None,
    };
    if let Some(nanos) = integer.and_then(|v| format.from_integer(v)) {
        return Ok(Some(nanos));
    }
    // A fraction, or out of range: read as its shortest text, which the
    // format reads exactly (`1764313800.25` is 25 hundredths, not the
    // double nearest it times 1e9) or says is out of range.
    let mark = scan.scratch.len();
    let text = match leaf {
        Leaf::F64(v) => scan.write(format_args!("{v}")),
        _ => scalar_text(scan, leaf),
    };
    let parsed = parse(scan.text("", text));
    scan.scratch.truncate(mark);
    parsed.map(Some)
}

/// A value outside the configured paths, with `flatten`.
fn flatten(plan: &Plan, scan: &mut Scan, leaf: Leaf<'_>) -> Result<(), String> {
    if matches!(leaf, Leaf::Null) {
        return Ok(());
    }
    let name = scan.path.as_str();
    if name.len() > MAX_NAME {
        return Err(format!(
            "flattened name {} is longer than {MAX_NAME} bytes",
            quote(name)
        ));
    }
    // A field of `fields` keeps its name.
    if plan.fields.iter().any(|field| field.name == name) {
        return Ok(());
    }
    if scan.flat.len() >= plan.max_fields {
        return Err(format!("more than {} fields (max_fields)", plan.max_fields));
    }
    let ty = plan.flat_type(name);
    let start = scan.names.len();
    scan.names.push_str(&scan.path);
    let cell = typed(scan, ty, leaf, plan.non_finite)
        .map_err(|problem| problem.reason(&format!("field {}", &scan.names[start..]), ty))?;
    scan.flat.push(Flat {
        name: (start, scan.names.len()),
        cell,
    });
    Ok(())
}
