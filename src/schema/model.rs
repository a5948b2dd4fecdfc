//! The schema model: tables with their fields and indexes, built from the overlay `schema.ts`
//! and the generated file it imports `tables` from.

use super::marker::Marker;
use super::ts::{Element, ObjectLit, ParsedFile, Receiver, SchemaArg};
use serde::Serialize;
use std::ops::Range;

/// Where an index is declared. Generated indexes were deployed with the component whenever its
/// warnings fired; overlay indexes may be newer than the logs being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Declared {
    Generated,
    Overlay,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    pub kind: String,
    pub optional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Index {
    pub name: String,
    pub fields: Vec<String>,
    pub staged: bool,
    pub declared: Declared,
    /// The `.index(...)` call, from its `.` to its `)`, in the file that declares it (the
    /// overlay for `Declared::Overlay`, the generated file otherwise); `None` for an index that
    /// was not read from a file.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    /// The tool's mark inside the call, when this tool wrote it (`schema::marker`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<Marker>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub name: String,
    /// `None` when the fields are not visible (the table comes from an unresolved source).
    pub fields: Option<Vec<Field>>,
    pub indexes: Vec<Index>,
}

impl Table {
    pub fn has_field(&self, name: &str) -> bool {
        self.fields
            .as_ref()
            .is_none_or(|fields| fields.iter().any(|f| f.name == name))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaModel {
    /// In declaration order; a later duplicate key replaces the earlier table in place.
    pub tables: Vec<Table>,
    /// The command the generated file's header gives to regenerate it, as one shell line
    /// (`locate::regenerate_command`); `None` when the header does not say.
    #[serde(skip)]
    pub regenerate: Option<String>,
}

impl SchemaModel {
    /// The model without source positions: what two readings of differently laid out files
    /// are compared on.
    pub fn without_spans(&self) -> SchemaModel {
        let mut model = self.clone();
        for index in model.tables.iter_mut().flat_map(|t| &mut t.indexes) {
            index.span = None;
        }
        model
    }

    pub fn table_names(&self) -> Vec<String> {
        self.tables.iter().map(|t| t.name.clone()).collect()
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    fn upsert(&mut self, table: Table) {
        // Duplicate object keys: JavaScript keeps the last value, at the first key's position.
        if let Some(slot) = self.tables.iter_mut().find(|t| t.name == table.name) {
            *slot = table;
        } else {
            self.tables.push(table);
        }
    }
}

/// What the overlay hands to `defineSchema`.
#[derive(Debug, Clone)]
pub enum Target<'p> {
    /// An object literal, inline or through a local `const`.
    Object(&'p ObjectLit),
    /// The imported generated tables themselves: `defineSchema(tables)`.
    Imported { arg_span: Range<usize> },
    /// Something the advisor cannot follow.
    Unsupported { span: Range<usize> },
}

/// The local name the overlay gives the generated `tables`, and the module it comes from.
pub fn tables_import(file: &ParsedFile) -> Option<(&str, &str)> {
    file.imports
        .iter()
        .find(|i| i.imported == "tables" && i.source.starts_with('.'))
        .map(|i| (i.local.as_str(), i.source.as_str()))
}

/// Follows the last `defineSchema(...)` call to the object it is given.
pub fn target(file: &ParsedFile) -> Option<Target<'_>> {
    let call = file.define_schema.last()?;
    Some(match call.arg.as_ref() {
        Some(SchemaArg::Object(obj)) => Target::Object(obj),
        Some(SchemaArg::Ident { name, span }) => {
            if let Some(decl) = file.objects.iter().rev().find(|o| &o.name == name) {
                Target::Object(&decl.object)
            } else if tables_import(file).is_some_and(|(local, _)| local == name) {
                Target::Imported {
                    arg_span: span.clone(),
                }
            } else {
                Target::Unsupported { span: span.clone() }
            }
        }
        Some(SchemaArg::Other { span }) => Target::Unsupported { span: span.clone() },
        None => Target::Unsupported {
            span: call.span.clone(),
        },
    })
}

/// Tables declared inline with `defineTable` in an object literal, as the generator writes them.
pub fn inline_tables(obj: &ObjectLit, declared: Declared) -> Vec<Table> {
    let mut model = SchemaModel::default();
    for el in &obj.elements {
        if let Element::Property(p) = el
            && let (Some(key), Receiver::DefineTable { fields }) = (&p.key, &p.value.receiver)
        {
            model.upsert(Table {
                name: key.clone(),
                fields: fields.as_ref().map(|fs| {
                    fs.iter()
                        .map(|f| Field {
                            name: f.name.clone(),
                            kind: f.kind.clone(),
                            optional: f.optional,
                        })
                        .collect()
                }),
                indexes: chain_indexes(&p.value.calls, declared),
            });
        }
    }
    model.tables
}

fn chain_indexes(calls: &[super::ts::ChainCall], declared: Declared) -> Vec<Index> {
    calls
        .iter()
        .filter_map(|c| c.index.as_ref().map(|i| (c, i)))
        .map(|(c, i)| Index {
            name: i.name.clone(),
            fields: i.fields.clone(),
            staged: i.staged,
            declared,
            span: Some(c.dot..c.end),
            marker: Marker::read(&c.comments),
        })
        .collect()
}

/// The generated file's tables: the object it names `tables` (or its default `defineSchema`).
pub fn generated_tables(file: &ParsedFile) -> Vec<Table> {
    if let Some(decl) = file.objects.iter().rev().find(|o| o.name == "tables") {
        return inline_tables(&decl.object, Declared::Generated);
    }
    match target(file) {
        Some(Target::Object(obj)) => inline_tables(obj, Declared::Generated),
        _ => Vec::new(),
    }
}

/// The schema the overlay builds: generated tables, then overlay properties in order.
pub fn build(overlay: &ParsedFile, generated: &[Table]) -> SchemaModel {
    let alias = tables_import(overlay).map(|(local, _)| local);
    let mut model = SchemaModel::default();
    match target(overlay) {
        Some(Target::Imported { .. }) => {
            for t in generated {
                model.upsert(t.clone());
            }
        }
        Some(Target::Object(obj)) => {
            for el in &obj.elements {
                match el {
                    Element::Spread { name, .. } => {
                        if name.is_some() && name.as_deref() == alias {
                            for t in generated {
                                model.upsert(t.clone());
                            }
                        }
                    }
                    Element::Property(p) => {
                        let Some(key) = &p.key else { continue };
                        let mut table = match &p.value.receiver {
                            Receiver::Member { object, property }
                                if Some(object.as_str()) == alias =>
                            {
                                generated
                                    .iter()
                                    .find(|t| &t.name == property)
                                    .cloned()
                                    .unwrap_or(Table {
                                        name: property.clone(),
                                        fields: Some(Vec::new()),
                                        indexes: Vec::new(),
                                    })
                            }
                            Receiver::DefineTable { .. } => {
                                let mut t = inline_tables(
                                    &ObjectLit {
                                        span: obj.span.clone(),
                                        elements: vec![el.clone()],
                                    },
                                    Declared::Overlay,
                                );
                                match t.pop() {
                                    Some(t) => t,
                                    None => continue,
                                }
                            }
                            _ => Table {
                                name: key.clone(),
                                fields: None,
                                indexes: Vec::new(),
                            },
                        };
                        table.name = key.clone();
                        if !matches!(p.value.receiver, Receiver::DefineTable { .. }) {
                            table
                                .indexes
                                .extend(chain_indexes(&p.value.calls, Declared::Overlay));
                        }
                        model.upsert(table);
                    }
                }
            }
        }
        Some(Target::Unsupported { .. }) | None => {}
    }
    model
}
