//! The only module that names oxc: parses a TypeScript schema file into a plain model of the
//! parts the advisor reads and edits (imports, object literals, `defineSchema` calls, `.index`
//! chains), each with UTF-8 byte spans into the source.

use oxc_allocator::Allocator;
use oxc_ast::ast::{
    ArrayExpressionElement, CallExpression, Expression, ImportDeclarationSpecifier,
    ObjectExpression, ObjectPropertyKind, VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType, Span};
use std::ops::Range;

/// A parse failure: the first diagnostic oxc reported, with its byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub range: Range<usize>,
}

/// `import { imported as local } from "source"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportBinding {
    pub local: String,
    pub imported: String,
    pub source: String,
}

/// `const name = { ... }` anywhere in the file (exported or not).
#[derive(Debug, Clone)]
pub struct ObjectDecl {
    pub name: String,
    pub object: ObjectLit,
}

#[derive(Debug, Clone)]
pub struct ObjectLit {
    /// From `{` to `}` inclusive.
    pub span: Range<usize>,
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone)]
pub enum Element {
    /// `...name` (name is `None` when the argument is not a plain identifier).
    Spread {
        name: Option<String>,
        span: Range<usize>,
    },
    Property(Prop),
}

impl Element {
    pub fn span(&self) -> Range<usize> {
        match self {
            Element::Spread { span, .. } => span.clone(),
            Element::Property(p) => p.span.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Prop {
    /// `None` for computed keys the advisor cannot name.
    pub key: Option<String>,
    pub span: Range<usize>,
    pub value: Chain,
}

/// A table expression: a receiver followed by method calls (`.index(...)`, `.searchIndex(...)`).
#[derive(Debug, Clone)]
pub struct Chain {
    /// The whole value expression.
    pub span: Range<usize>,
    pub receiver: Receiver,
    pub receiver_span: Range<usize>,
    /// Calls in source order, innermost (first written) first.
    pub calls: Vec<ChainCall>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receiver {
    /// `object.property`, e.g. `tables.user`.
    Member {
        object: String,
        property: String,
    },
    /// `defineTable({...})`; fields are `None` when the argument is not an object literal.
    DefineTable {
        fields: Option<Vec<FieldDecl>>,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCall {
    pub method: String,
    /// Byte offset of the `.` before the method name.
    pub dot: usize,
    /// End of the call, just after its `)`.
    pub end: usize,
    pub index: Option<IndexDecl>,
    /// The comments inside the call (between its `.` and its `)`), delimiters included.
    pub comments: Vec<String>,
}

/// `.index("name", ["a", "b"])` or `.index("name", { fields: [...], staged: true })`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDecl {
    pub name: String,
    pub fields: Vec<String>,
    pub staged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDecl {
    pub name: String,
    /// The validator's builder name: `string`, `number`, `boolean`, `array`, `id`, `union`, ...
    pub kind: String,
    /// Wrapped in `v.optional(...)`.
    pub optional: bool,
}

#[derive(Debug, Clone)]
pub enum SchemaArg {
    Object(ObjectLit),
    Ident { name: String, span: Range<usize> },
    Other { span: Range<usize> },
}

#[derive(Debug, Clone)]
pub struct DefineSchemaCall {
    pub span: Range<usize>,
    pub arg: Option<SchemaArg>,
}

/// What the advisor needs from one TypeScript file.
#[derive(Debug, Clone, Default)]
pub struct ParsedFile {
    pub imports: Vec<ImportBinding>,
    pub objects: Vec<ObjectDecl>,
    pub define_schema: Vec<DefineSchemaCall>,
    /// Every comment's text, delimiters included, in source order.
    pub comments: Vec<String>,
    /// The quote of the first string literal in the file (`"` when there is none).
    pub quote: char,
}

/// Deepest bracket nesting read. A schema file nests a few levels; oxc 0.146 speculates on
/// type arguments at every `<` level and keeps each abandoned attempt in its arena, so a few
/// hundred bytes of nested `[`/`<` can exhaust memory (found by fuzzing, see
/// docs/reliability.md). Such a file is refused before oxc sees it.
const MAX_NESTING: usize = 64;

/// Where the bracket nesting of `src` first exceeds [`MAX_NESTING`], if it does. Brackets in
/// strings and comments do not count; a `<` counts when it may open type arguments.
fn too_deep(src: &str) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = memchr::memmem::find(&bytes[i + 2..], b"*/").map_or(bytes.len(), |n| i + n + 3);
            }
            b'[' | b'(' | b'{' => depth += 1,
            b'<' if bytes
                .get(i + 1)
                .is_some_and(|b| !matches!(b, b'=' | b'<' | b' ')) =>
            {
                depth += 1
            }
            b']' | b')' | b'}' | b'>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Parses `src` as TypeScript. Fails on the first syntax error.
pub fn parse(src: &str) -> Result<ParsedFile, SyntaxError> {
    if let Some(at) = too_deep(src) {
        return Err(SyntaxError {
            message: format!(
                "brackets nest more than {MAX_NESTING} levels deep; not a schema file this tool can read"
            ),
            range: at..at + 1,
        });
    }
    let allocator = Allocator::default();
    let ret = Parser::new(&allocator, src, SourceType::ts()).parse();
    if let Some(diag) = ret.diagnostics.first() {
        let range = diag
            .labels
            .first()
            .map(|label| label.offset() as usize..(label.offset() + label.len()) as usize)
            .unwrap_or(0..0);
        return Err(SyntaxError {
            message: diag.message.to_string(),
            range,
        });
    }
    if ret.panicked {
        return Err(SyntaxError {
            message: "the parser gave up on this file".into(),
            range: 0..0,
        });
    }
    let mut collector = Collector {
        src,
        out: ParsedFile {
            quote: '"',
            ..ParsedFile::default()
        },
        saw_string: false,
        comment_spans: ret.program.comments.iter().map(|c| range(c.span)).collect(),
    };
    collector.out.comments = ret
        .program
        .comments
        .iter()
        .map(|c| text(src, c.span).to_string())
        .collect();
    collector.visit_program(&ret.program);
    Ok(collector.out)
}

fn range(span: Span) -> Range<usize> {
    span.start as usize..span.end as usize
}

fn text(src: &str, span: Span) -> &str {
    src.get(range(span)).unwrap_or("")
}

struct Collector<'s> {
    src: &'s str,
    out: ParsedFile,
    saw_string: bool,
    /// Every comment's byte range, in source order.
    comment_spans: Vec<Range<usize>>,
}

impl Collector<'_> {
    /// The texts of the comments that lie within `within`.
    fn comments_in(&self, within: Range<usize>) -> Vec<String> {
        self.comment_spans
            .iter()
            .filter(|c| c.start >= within.start && c.end <= within.end)
            .filter_map(|c| self.src.get(c.clone()).map(str::to_owned))
            .collect()
    }
}

impl<'a> Visit<'a> for Collector<'_> {
    fn visit_string_literal(&mut self, lit: &oxc_ast::ast::StringLiteral<'a>) {
        if !self.saw_string {
            self.saw_string = true;
            if let Some(q) = text(self.src, lit.span).chars().next()
                && (q == '\'' || q == '"')
            {
                self.out.quote = q;
            }
        }
    }

    fn visit_import_declaration(&mut self, decl: &oxc_ast::ast::ImportDeclaration<'a>) {
        self.visit_string_literal(&decl.source);
        for spec in decl.specifiers.iter().flatten() {
            let (local, imported) = match spec {
                ImportDeclarationSpecifier::ImportSpecifier(s) => {
                    (s.local.name.to_string(), s.imported.name().to_string())
                }
                ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => {
                    (s.local.name.to_string(), "default".to_owned())
                }
                ImportDeclarationSpecifier::ImportNamespaceSpecifier(_) => continue,
            };
            self.out.imports.push(ImportBinding {
                local,
                imported,
                source: decl.source.value.to_string(),
            });
        }
    }

    fn visit_variable_declarator(&mut self, decl: &VariableDeclarator<'a>) {
        if let (Some(name), Some(init)) = (decl.id.get_identifier_name(), &decl.init)
            && let Expression::ObjectExpression(obj) = init.get_inner_expression()
        {
            self.out.objects.push(ObjectDecl {
                name: name.to_string(),
                object: self.object(obj),
            });
        }
        walk::walk_variable_declarator(self, decl);
    }

    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        if call.callee.is_specific_id("defineSchema") {
            let arg = call.arguments.first().map(|arg| match arg.as_expression() {
                Some(e) => match e.get_inner_expression() {
                    Expression::ObjectExpression(obj) => SchemaArg::Object(self.object(obj)),
                    Expression::Identifier(id) => SchemaArg::Ident {
                        name: id.name.to_string(),
                        span: range(id.span),
                    },
                    other => SchemaArg::Other {
                        span: range(other.span()),
                    },
                },
                None => SchemaArg::Other {
                    span: range(arg.span()),
                },
            });
            self.out.define_schema.push(DefineSchemaCall {
                span: range(call.span),
                arg,
            });
        }
        walk::walk_call_expression(self, call);
    }
}

impl Collector<'_> {
    fn object(&self, obj: &ObjectExpression<'_>) -> ObjectLit {
        let elements = obj
            .properties
            .iter()
            .map(|prop| match prop {
                ObjectPropertyKind::SpreadProperty(s) => Element::Spread {
                    name: match s.argument.get_inner_expression() {
                        Expression::Identifier(id) => Some(id.name.to_string()),
                        _ => None,
                    },
                    span: range(s.span),
                },
                ObjectPropertyKind::ObjectProperty(p) => Element::Property(Prop {
                    key: p.key.static_name().map(|k| k.to_string()),
                    span: range(p.span),
                    value: self.chain(&p.value),
                }),
            })
            .collect();
        ObjectLit {
            span: range(obj.span),
            elements,
        }
    }

    /// Peels `R.m1(...).m2(...)` from the outside in.
    fn chain(&self, value: &Expression<'_>) -> Chain {
        let mut calls = Vec::new();
        let mut e = value;
        while let Expression::CallExpression(call) = e {
            let Some(member) = call.callee.as_member_expression() else {
                break;
            };
            let Some(method) = member.static_property_name() else {
                break;
            };
            if method == "index" || method == "searchIndex" || method == "vectorIndex" {
                // The `.` sits between the object's end and the property name.
                let object_end = member.object().span().end as usize;
                let dot = self
                    .src
                    .get(object_end..call.span.end as usize)
                    .and_then(|rest| rest.find('.'))
                    .map_or(object_end, |off| object_end + off);
                calls.push(ChainCall {
                    method: method.to_string(),
                    dot,
                    end: call.span.end as usize,
                    comments: self.comments_in(dot..call.span.end as usize),
                    index: if method == "index" {
                        index_decl(call)
                    } else {
                        None
                    },
                });
                e = member.object();
            } else {
                break;
            }
        }
        calls.reverse();
        let receiver = match e {
            Expression::StaticMemberExpression(m) => match &m.object {
                Expression::Identifier(id) => Receiver::Member {
                    object: id.name.to_string(),
                    property: m.property.name.to_string(),
                },
                _ => Receiver::Other,
            },
            Expression::CallExpression(call) if call.callee.is_specific_id("defineTable") => {
                Receiver::DefineTable {
                    fields: match call.arguments.first().and_then(|a| a.as_expression()) {
                        Some(Expression::ObjectExpression(obj)) => Some(fields(obj)),
                        _ => None,
                    },
                }
            }
            _ => Receiver::Other,
        };
        Chain {
            span: range(value.span()),
            receiver,
            receiver_span: range(e.span()),
            calls,
        }
    }
}

fn string_array(e: &Expression<'_>) -> Option<Vec<String>> {
    let Expression::ArrayExpression(arr) = e.get_inner_expression() else {
        return None;
    };
    arr.elements
        .iter()
        .map(|el| match el {
            ArrayExpressionElement::StringLiteral(s) => Some(s.value.to_string()),
            _ => None,
        })
        .collect()
}

fn index_decl(call: &CallExpression<'_>) -> Option<IndexDecl> {
    let name = match call.arguments.first()?.as_expression()? {
        Expression::StringLiteral(s) => s.value.to_string(),
        _ => return None,
    };
    let config = call.arguments.get(1)?.as_expression()?;
    if let Some(fields) = string_array(config) {
        return Some(IndexDecl {
            name,
            fields,
            staged: false,
        });
    }
    let Expression::ObjectExpression(obj) = config.get_inner_expression() else {
        return None;
    };
    let mut fields = None;
    let mut staged = false;
    for prop in &obj.properties {
        if let ObjectPropertyKind::ObjectProperty(p) = prop {
            match p.key.static_name().as_deref() {
                Some("fields") => fields = string_array(&p.value),
                Some("staged") => {
                    staged = matches!(p.value.get_inner_expression(), Expression::BooleanLiteral(b) if b.value)
                }
                _ => {}
            }
        }
    }
    Some(IndexDecl {
        name,
        fields: fields?,
        staged,
    })
}

fn fields(obj: &ObjectExpression<'_>) -> Vec<FieldDecl> {
    obj.properties
        .iter()
        .filter_map(|prop| match prop {
            ObjectPropertyKind::ObjectProperty(p) => {
                let name = p.key.static_name()?.to_string();
                let (kind, optional) = validator(&p.value);
                Some(FieldDecl {
                    name,
                    kind,
                    optional,
                })
            }
            ObjectPropertyKind::SpreadProperty(_) => None,
        })
        .collect()
}

/// `v.optional(v.union(v.null(), v.string()))` → (`string`, optional). Better Auth writes every
/// optional field that way, so a union of `null` and one validator is reported as that validator.
fn validator(e: &Expression<'_>) -> (String, bool) {
    let Expression::CallExpression(call) = e.get_inner_expression() else {
        return ("unknown".into(), false);
    };
    let Some(name) = call
        .callee
        .as_member_expression()
        .and_then(|m| m.static_property_name())
    else {
        return ("unknown".into(), false);
    };
    let first = call.arguments.first().and_then(|a| a.as_expression());
    match (name, first) {
        ("optional", Some(inner)) => (validator(inner).0, true),
        ("union", _) => {
            let kinds: Vec<String> = call
                .arguments
                .iter()
                .filter_map(|a| a.as_expression())
                .map(|a| validator(a).0)
                .filter(|k| k != "null")
                .collect();
            match kinds.as_slice() {
                [one] => (one.clone(), false),
                _ => ("union".into(), false),
            }
        }
        (other, _) => (other.to_string(), false),
    }
}
