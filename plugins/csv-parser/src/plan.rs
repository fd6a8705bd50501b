//! What each column of a row becomes, decided once from `columns` or the
//! header: the lists the hot loops walk (the field columns of each type,
//! the tag columns, the required columns, the timestamp column), and each
//! column's role, for explaining a rejected row in column order.

use foghorn_plugin::timestamp::TimeFormat;
use foghorn_plugin::typed::FieldType;

use crate::config::Config;

/// The role of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A field of this type.
    Field(FieldType),
    /// A tag of the series.
    Tag,
    /// The row's time.
    Timestamp,
    /// Left out.
    Skip,
}

/// Columns of one kind: their names and places in the row.
#[derive(Debug, Clone, Default)]
pub(crate) struct Group {
    pub names: Vec<String>,
    pub columns: Vec<usize>,
}

impl Group {
    fn push(&mut self, name: &str, column: usize) {
        self.names.push(name.to_owned());
        self.columns.push(column);
    }

    pub(crate) fn len(&self) -> usize {
        self.columns.len()
    }
}

/// The columns of a row.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Each column's name.
    pub names: Vec<String>,
    /// Each column's role.
    pub roles: Vec<Role>,
    /// Whether each column is required.
    pub required: Vec<bool>,
    /// The places of the required columns.
    pub required_columns: Vec<usize>,
    /// The field columns of each type: each loop over them is free of any
    /// dispatch on the type.
    pub floats: Group,
    pub ints: Group,
    pub bools: Group,
    pub strings: Group,
    pub autos: Group,
    pub tags: Group,
    /// The timestamp column's place and format, when there is one.
    pub timestamp: Option<(usize, TimeFormat)>,
}

impl Plan {
    /// The plan for columns `names`, or why they do not fit the config
    /// (a column named twice, or one the config names missing). A column
    /// without a name (a header's empty cell, as pandas writes above its
    /// index) is left out.
    pub(crate) fn new(config: &Config, names: Vec<String>) -> Result<Self, String> {
        let mut problems = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if !name.is_empty() && names[..i].contains(name) {
                problems.push(format!("column {name} is named twice"));
            }
        }
        let mut missing: Vec<&str> = Vec::new();
        for (_, name) in config.named_columns() {
            if !names.iter().any(|n| n == name) && !missing.contains(&name) {
                missing.push(name);
            }
        }
        if !missing.is_empty() {
            problems.push(format!(
                "no column {} named in the config",
                missing.join(", ")
            ));
        }
        if let Some(time) = &config.timestamp
            && let Some(field) = &time.field
            && field != &time.column
            && names.iter().any(|n| n == field && !config.skip.contains(n))
        {
            problems.push(format!(
                "column {field} has the name of the timestamp's `field`"
            ));
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let mut plan = Self {
            required: names.iter().map(|n| config.required.contains(n)).collect(),
            required_columns: Vec::new(),
            roles: Vec::with_capacity(names.len()),
            floats: Group::default(),
            ints: Group::default(),
            bools: Group::default(),
            strings: Group::default(),
            autos: Group::default(),
            tags: Group::default(),
            timestamp: None,
            names: Vec::new(),
        };
        for (column, name) in names.iter().enumerate() {
            let time = config.timestamp.as_ref().filter(|t| &t.column == name);
            let role = if name.is_empty() || config.skip.contains(name) {
                Role::Skip
            } else if let Some(time) = time {
                plan.timestamp = Some((column, time.format.clone()));
                Role::Timestamp
            } else if config.tag_columns.contains(name) {
                plan.tags.push(name, column);
                Role::Tag
            } else {
                let ty = config.types.get(name).copied().unwrap_or_default();
                match ty {
                    FieldType::Float => &mut plan.floats,
                    FieldType::Int => &mut plan.ints,
                    FieldType::Bool => &mut plan.bools,
                    FieldType::String => &mut plan.strings,
                    FieldType::Auto => &mut plan.autos,
                }
                .push(name, column);
                Role::Field(ty)
            };
            plan.roles.push(role);
            if plan.required[column] {
                plan.required_columns.push(column);
            }
        }
        plan.names = names;
        Ok(plan)
    }
}
