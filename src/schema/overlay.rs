//! Turns planned indexes into edits of the overlay `schema.ts`, for the three shapes seen in
//! real repositories: an existing property chain, a new property, and `defineSchema(tables)`.
//! Every edit is an insertion, or the replacement of one `.index(...)` call this tool wrote
//! earlier by the longer one that extends it, so every other byte of the file stays as it was.

use super::edit::{self, Edit};
use super::error::SchemaError;
use super::limits;
use super::locate::{Component, Layout};
use super::marker::Marker;
use super::model::{self, Declared, Index, SchemaModel, Table, Target};
use super::ts::{self, Element, ObjectLit, Prop, Receiver};
use crate::document::PlannedIndex;
use std::collections::BTreeMap;
use std::ops::Range;

/// A verified rewrite of `schema.ts`, ready to show or write.
#[derive(Debug, Clone)]
pub struct Change {
    pub before: String,
    pub after: String,
    /// Where the inserted text sits in `after`.
    pub inserted: Vec<Range<usize>>,
    pub added: Vec<PlannedIndex>,
}

/// The steps printed when `schema.ts` is the generated file.
pub fn generated_steps() -> String {
    "To add indexes, use the documented overlay layout \
     (labs.convex.dev/better-auth/features/local-install#adding-custom-indexes):\n  \
     1. ba-index-advisor init   (moves the generated content to generatedSchema.ts and makes \
     schema.ts `defineSchema({ ...tables })`)\n  \
     2. from now on regenerate with `npx auth generate --output generatedSchema.ts` \
     (older CLI: `npx @better-auth/cli generate -y --output generatedSchema.ts`)\n  \
     3. run apply again"
        .to_string()
}

/// The mark a planned index is written with.
pub(crate) fn marker_of(index: &PlannedIndex) -> Marker {
    Marker { exact: index.exact }
}

/// File conventions copied into inserted text.
struct Style {
    quote: char,
    newline: &'static str,
}

impl Style {
    fn of(src: &str, file: &ts::ParsedFile) -> Self {
        Style {
            quote: file.quote,
            newline: if src.contains("\r\n") { "\r\n" } else { "\n" },
        }
    }

    fn string(&self, s: &str) -> String {
        let q = self.quote;
        let mut out = String::with_capacity(s.len() + 2);
        out.push(q);
        for c in s.chars() {
            if c == q || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// `.index("a_b", ["a", "b"] /* added by ba-index-advisor */)`: the call with the tool's
    /// mark.
    fn index_call(&self, index: &PlannedIndex) -> String {
        let fields: Vec<String> = index.fields.iter().map(|f| self.string(f)).collect();
        format!(
            ".index({}, [{}] {})",
            self.string(&index.name),
            fields.join(", "),
            marker_of(index).comment()
        )
    }

    fn property(&self, alias: &str, table: &str, indexes: &[&PlannedIndex]) -> String {
        let calls: String = indexes.iter().map(|i| self.index_call(i)).collect();
        format!(
            "{}: {alias}.{}{calls}",
            property_key(table, self),
            table_access(table)
        )
    }
}

/// Whether a name can stand as a JavaScript property key or after `.` without quotes.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn property_key(table: &str, style: &Style) -> String {
    if is_identifier(table) {
        table.to_string()
    } else {
        style.string(table)
    }
}

fn table_access(table: &str) -> String {
    // Convex table names are identifiers, so member access is always possible in practice.
    table.to_string()
}

/// The whitespace that starts the line holding `offset`.
fn indent_at(src: &str, offset: usize) -> &str {
    let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = &src[line_start..];
    let len = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..len]
}

/// The file's indentation step: the leading whitespace of its first indented line, else two
/// spaces (the generator's and prettier's default).
fn indent_unit(src: &str) -> &str {
    src.lines()
        .map(|l| &l[..l.len() - l.trim_start_matches([' ', '\t']).len()])
        .find(|ws| !ws.is_empty())
        .unwrap_or("  ")
}

/// JavaScript white space and line terminators: besides the ASCII ones, `\v`, `\f`, NBSP,
/// U+FEFF, the Unicode space separators, U+2028 and U+2029 (ECMA-262 §12.2, §12.3).
fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// The first significant byte in `text` (skipping whitespace and comments), with its offset.
fn first_significant(text: &str) -> Option<(usize, u8)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(c) = text[i..].chars().next().filter(|&c| is_js_space(c)) {
            i += c.len_utf8();
            continue;
        }
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b => return Some((i, b)),
        }
    }
    None
}

/// End of the line holding `offset`, before its `\r\n` or `\n`.
fn line_end(src: &str, offset: usize) -> usize {
    let end = src[offset..].find('\n').map_or(src.len(), |i| offset + i);
    if end > offset && src.as_bytes().get(end - 1) == Some(&b'\r') {
        end - 1
    } else {
        end
    }
}

/// Appends index calls to an existing property's chain, matching its layout.
fn chain_edit(src: &str, prop: &Prop, style: &Style, indexes: &[&PlannedIndex]) -> Option<Edit> {
    let chain = &prop.value;
    if matches!(chain.receiver, Receiver::Other) || chain.span.end != chain_end(chain) {
        return None;
    }
    let multiline = chain
        .calls
        .first()
        .is_some_and(|c| src[chain.receiver_span.end..c.dot].contains('\n'));
    let text: String = match chain.calls.last() {
        Some(last) if multiline => {
            let indent = indent_at(src, last.dot);
            indexes
                .iter()
                .map(|i| format!("{}{indent}{}", style.newline, style.index_call(i)))
                .collect()
        }
        _ => indexes.iter().map(|i| style.index_call(i)).collect(),
    };
    Some(Edit::insert(chain.span.end, text))
}

fn chain_end(chain: &ts::Chain) -> usize {
    chain
        .calls
        .last()
        .map_or(chain.receiver_span.end, |c| c.end)
}

/// Adds properties after the object's last element, matching indentation and comma habit.
fn new_properties(src: &str, obj: &ObjectLit, style: &Style, props: &[String]) -> Vec<Edit> {
    let close = obj.span.end.saturating_sub(1);
    let Some(last) = obj.elements.last() else {
        let text = format!(" {} ", props.join(", "));
        return vec![Edit::insert(obj.span.start + 1, text)];
    };
    let last_end = last.span().end;
    let tail = &src[last_end..close];
    let comma = match first_significant(tail) {
        Some((i, b',')) => Some(last_end + i),
        _ => None,
    };
    let first_start = obj.elements.first().map_or(last_end, |e| e.span().start);
    let multiline = src[obj.span.start..first_start].contains('\n');
    if !multiline {
        return match comma {
            Some(c) => vec![Edit::insert(
                c + 1,
                props.iter().map(|p| format!(" {p},")).collect::<String>(),
            )],
            None => vec![Edit::insert(
                last_end,
                props.iter().map(|p| format!(", {p}")).collect::<String>(),
            )],
        };
    }
    let indent = indent_at(src, last.span().start);
    let anchor = comma.map_or(last_end, |c| c + 1);
    let end = line_end(src, anchor);
    let mut edits = Vec::new();
    let mut text = String::new();
    for (k, p) in props.iter().enumerate() {
        let trailing = comma.is_some() || k + 1 < props.len();
        text.push_str(style.newline);
        text.push_str(indent);
        text.push_str(p);
        if trailing {
            text.push(',');
        }
    }
    if end > close {
        // The closing `}` shares the last element's line: insert before it.
        if comma.is_none() {
            edits.push(Edit::insert(last_end, ","));
        }
        text.push_str(style.newline);
        text.push_str(indent_at(src, obj.span.start));
        edits.push(Edit::insert(close, text));
        return edits;
    }
    if comma.is_none() {
        edits.push(Edit::insert(last_end, ","));
    }
    edits.push(Edit::insert(end, text));
    edits
}

/// The edits that add `additions` to the overlay, checked against Convex's limits.
pub fn edits(component: &Component, additions: &[PlannedIndex]) -> Result<Vec<Edit>, SchemaError> {
    let schema = &component.schema;
    let (src, file) = (&schema.text, &schema.parsed);
    let alias = match &component.layout {
        Layout::Generated => {
            return Err(SchemaError::Generated {
                path: schema.path.clone(),
                steps: generated_steps(),
            });
        }
        Layout::Overlay { alias, .. } => alias.as_str(),
    };
    let mut by_table: BTreeMap<&str, Vec<&PlannedIndex>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for index in additions.iter().filter(|i| i.extends.is_none()) {
        if !by_table.contains_key(index.table.as_str()) {
            order.push(&index.table);
        }
        by_table.entry(&index.table).or_default().push(index);
    }
    let mut planned_on: BTreeMap<&str, Vec<&PlannedIndex>> = BTreeMap::new();
    for index in additions {
        planned_on.entry(&index.table).or_default().push(index);
    }
    for (table, indexes) in &planned_on {
        let mut existing = component.model.table(table).cloned().unwrap_or(Table {
            name: table.to_string(),
            fields: None,
            indexes: Vec::new(),
        });
        existing
            .indexes
            .retain(|i| !indexes.iter().any(|p| extends(p, i)));
        let list: Vec<(String, Vec<String>)> = indexes
            .iter()
            .map(|i| (i.name.clone(), i.fields.clone()))
            .collect();
        limits::check(&existing, &list).map_err(|reason| SchemaError::Limit {
            table: table.to_string(),
            name: indexes
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            reason,
        })?;
    }
    let style = Style::of(src, file);
    let unsupported = |span: Range<usize>, what: &str| {
        SchemaError::unsupported(schema.path.clone(), src, span, what.to_string())
    };
    let mut replacements = Vec::new();
    for index in additions.iter().filter(|i| i.extends.is_some()) {
        let span = component
            .model
            .table(&index.table)
            .and_then(|t| t.indexes.iter().find(|i| extends(index, i)))
            .and_then(|i| i.span.clone())
            .ok_or_else(|| {
                unsupported(
                    0..0,
                    &format!(
                        "the overlay no longer declares the index {}.{} that the plan extends",
                        index.table,
                        index.extends.as_ref().map_or("", |e| e.name.as_str())
                    ),
                )
            })?;
        replacements.push(Edit {
            range: span,
            text: style.index_call(index),
        });
    }
    let mut insertions = insertions(src, file, component, alias, &style, &order, &by_table)?;
    insertions.append(&mut replacements);
    Ok(insertions)
}

/// Whether `planned` replaces the overlay index `index`.
fn extends(planned: &PlannedIndex, index: &Index) -> bool {
    planned.extends.as_ref().is_some_and(|e| {
        index.declared == Declared::Overlay && index.name == e.name && index.fields == e.fields
    })
}

/// The insertions that add the planned indexes of `order`'s tables.
fn insertions(
    src: &str,
    file: &ts::ParsedFile,
    component: &Component,
    alias: &str,
    style: &Style,
    order: &[&str],
    by_table: &BTreeMap<&str, Vec<&PlannedIndex>>,
) -> Result<Vec<Edit>, SchemaError> {
    if order.is_empty() {
        return Ok(Vec::new());
    }
    let schema = &component.schema;
    let unsupported = |span: Range<usize>, what: &str| {
        SchemaError::unsupported(schema.path.clone(), src, span, what.to_string())
    };
    match model::target(file) {
        None => Err(unsupported(
            0..0,
            "no `defineSchema(...)` call found in schema.ts",
        )),
        Some(Target::Unsupported { span }) => Err(unsupported(
            span,
            "cannot follow what is passed to defineSchema: expected an object literal, a local \
             `const` object, or the imported `tables`",
        )),
        Some(Target::Imported { arg_span }) => {
            let props: Vec<String> = order
                .iter()
                .map(|t| style.property(alias, t, &by_table[t]))
                .collect();
            // `defineSchema(tables)` → `defineSchema({ ...tables, user: tables.user... })`, laid
            // out one property per line like the documented overlay.
            let base = indent_at(src, arg_span.start);
            let unit = indent_unit(src);
            let nl = style.newline;
            let mut after = String::from(",");
            for p in &props {
                after.push_str(&format!("{nl}{base}{unit}{p},"));
            }
            after.push_str(&format!("{nl}{base}}}"));
            Ok(vec![
                Edit::insert(arg_span.start, format!("{{{nl}{base}{unit}...")),
                Edit::insert(arg_span.end, after),
            ])
        }
        Some(Target::Object(obj)) => {
            let mut out = Vec::new();
            let mut props = Vec::new();
            for table in order {
                let indexes = &by_table[table];
                let prop = obj.elements.iter().rev().find_map(|el| match el {
                    Element::Property(p) if p.key.as_deref() == Some(*table) => Some(p),
                    _ => None,
                });
                match prop {
                    Some(p) => out.push(chain_edit(src, p, style, indexes).ok_or_else(|| {
                        unsupported(
                            p.value.span.clone(),
                            "cannot append `.index(...)` to this value: expected \
                             `tables.<table>` or `defineTable(...)` followed by `.index` calls",
                        )
                    })?),
                    None => props.push(style.property(alias, table, indexes)),
                }
            }
            if !props.is_empty() {
                out.extend(new_properties(src, obj, style, &props));
            }
            Ok(out)
        }
    }
}

/// Applies and verifies: the re-parsed model must equal the old one plus exactly `additions`.
pub fn prepare(
    component: &Component,
    additions: &[PlannedIndex],
) -> Result<Option<Change>, SchemaError> {
    if additions.is_empty() {
        return Ok(None);
    }
    let edits = edits(component, additions)?;
    let before = component.schema.text.clone();
    let applied = edit::apply(&before, &edits)?;
    verify(component, &applied.text, additions)?;
    Ok(Some(Change {
        before,
        after: applied.text,
        inserted: applied.inserted,
        added: additions.to_vec(),
    }))
}

/// The model `component` has after adding `additions`.
pub fn expected_model(component: &Component, additions: &[PlannedIndex]) -> SchemaModel {
    let mut expected = component.model.clone();
    let generated = match &component.layout {
        Layout::Overlay { generated, .. } => model::generated_tables(&generated.parsed),
        Layout::Generated => Vec::new(),
    };
    for index in additions {
        let added = Index {
            name: index.name.clone(),
            fields: index.fields.clone(),
            staged: false,
            declared: Declared::Overlay,
            span: None,
            marker: Some(marker_of(index)),
        };
        if let Some(slot) = expected
            .tables
            .iter_mut()
            .filter(|t| t.name == index.table)
            .flat_map(|t| t.indexes.iter_mut())
            .find(|i| extends(index, i))
        {
            *slot = added;
            continue;
        }
        if expected.table(&index.table).is_none() {
            let base = generated
                .iter()
                .find(|t| t.name == index.table)
                .cloned()
                .unwrap_or(Table {
                    name: index.table.clone(),
                    fields: Some(Vec::new()),
                    indexes: Vec::new(),
                });
            expected.tables.push(base);
        }
        if let Some(t) = expected.tables.iter_mut().find(|t| t.name == index.table) {
            t.indexes.push(added);
        }
    }
    expected
}

fn verify(
    component: &Component,
    after: &str,
    additions: &[PlannedIndex],
) -> Result<(), SchemaError> {
    let path = component.schema.path.clone();
    let fail = |message: String| SchemaError::Verify {
        path: path.clone(),
        message,
    };
    let parsed =
        ts::parse(after).map_err(|e| fail(format!("the result does not parse: {}", e.message)))?;
    let generated = match &component.layout {
        Layout::Overlay { generated, .. } => model::generated_tables(&generated.parsed),
        Layout::Generated => Vec::new(),
    };
    // The edit moves the calls after it, so positions are not compared.
    let got = model::build(&parsed, &generated).without_spans();
    let mut want = expected_model(component, additions).without_spans();
    // A new property lands at the end of the object; compare tables irrespective of order.
    let mut got_tables = got.tables;
    got_tables.sort_by(|a, b| a.name.cmp(&b.name));
    want.tables.sort_by(|a, b| a.name.cmp(&b.name));
    if got_tables != want.tables {
        return Err(fail(
            "the re-parsed schema does not have exactly the planned indexes".into(),
        ));
    }
    Ok(())
}

impl Change {
    /// What a written change tells the user, a line each: the indexes added to the overlay
    /// (`label`), then the step that builds them.
    pub fn written_lines(&self, label: &str) -> Vec<String> {
        self.added
            .iter()
            .map(|index| match &index.extends {
                None => format!(
                    "added {}.{} [{}]",
                    index.table,
                    index.name,
                    index.fields.join(", ")
                ),
                Some(old) => format!(
                    "extended {}.{} [{}] to {} [{}] (one index serves both; Convex backfills it \
                     when the schema is pushed)",
                    index.table,
                    old.name,
                    old.fields.join(", "),
                    index.name,
                    index.fields.join(", ")
                ),
            })
            .chain([format!(
                "{label}: written; run `npx convex dev` (or deploy) to build the indexes"
            )])
            .collect()
    }

    /// The change as a unified diff, labelled `a/<label>` and `b/<label>`.
    pub fn unified_diff(&self, label: &str) -> String {
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("a/{}", label.trim_start_matches('/')),
                &format!("b/{}", label.trim_start_matches('/')),
            )
            .to_string()
    }
}
