//! What each column of a row becomes, decided once from `columns` or the
//! header.

use foghorn_plugin::typed::FieldType;

use crate::config::Config;

/// The role of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A field: its index in [`Plan::fields`].
    Field(usize),
    /// A tag of the series: its index in [`Plan::tags`].
    Tag(usize),
    /// The row's time.
    Timestamp,
    /// Left out.
    Skip,
}

/// A field column.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    pub ty: FieldType,
}

/// The columns of a row, in order.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub names: Vec<String>,
    pub roles: Vec<Role>,
    pub required: Vec<bool>,
    pub fields: Vec<Field>,
    pub tags: Vec<String>,
}

impl Plan {
    /// The plan for columns `names`, or why they do not fit the config
    /// (a column named twice or empty, or one the config names missing).
    pub(crate) fn new(config: &Config, names: Vec<String>) -> Result<Self, String> {
        let mut problems = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if name.is_empty() {
                problems.push(format!("column {} has no name", i + 1));
            } else if names[..i].contains(name) {
                problems.push(format!("column {name} is named twice"));
            }
        }
        let missing: Vec<&str> = config
            .named_columns()
            .into_iter()
            .map(|(_, name)| name)
            .filter(|name| !names.iter().any(|n| n == name))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "no column {} named in the config",
                missing.join(", ")
            ));
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let (mut fields, mut tags) = (Vec::new(), Vec::new());
        let roles = names
            .iter()
            .map(|name| {
                let timestamp = config.timestamp.as_ref().is_some_and(|t| &t.column == name);
                if timestamp {
                    Role::Timestamp
                } else if config.skip.contains(name) {
                    Role::Skip
                } else if config.tag_columns.contains(name) {
                    tags.push(name.clone());
                    Role::Tag(tags.len() - 1)
                } else {
                    fields.push(Field {
                        name: name.clone(),
                        ty: config.types.get(name).copied().unwrap_or_default(),
                    });
                    Role::Field(fields.len() - 1)
                }
            })
            .collect();
        let required = names.iter().map(|n| config.required.contains(n)).collect();
        Ok(Self {
            names,
            roles,
            required,
            fields,
            tags,
        })
    }
}
