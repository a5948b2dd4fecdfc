//! Reads Better Auth's published JavaScript with oxc (as `schema/ts.rs` reads schema files) and
//! extracts every adapter call's table, where clauses and sort, with conditional variants,
//! module constants and option defaults resolved where the code states them literally.
//!
//! Two passes over a package: the first learns its string constants (`API_KEY_TABLE_NAME`),
//! constant objects (`modelName.oauthClient`) and the helpers that pass a positional model and
//! where clause on to the adapter (`deleteManyWithHooks(where, "session")`); the second reads the
//! calls.

use crate::advise::query::{Clause, Query};
use oxc_allocator::Allocator;
use oxc_ast::ast::{
    Argument, ArrayExpressionElement, ArrowFunctionExpression, BindingPattern, CallExpression,
    Expression, Function, LogicalOperator, ObjectExpression, ObjectPropertyKind,
    VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_parser::Parser;
use oxc_span::SourceType;
use oxc_syntax::scope::ScopeFlags;
use std::collections::HashMap;

/// The adapter methods that take a `where` (or a `sortBy`): Better Auth's `DBAdapter`.
const ADAPTER_METHODS: [&str; 9] = [
    "findOne",
    "findMany",
    "count",
    "update",
    "updateMany",
    "delete",
    "deleteMany",
    "incrementOne",
    "consumeOne",
];

/// What the component's client adapter runs for each Better Auth adapter method
/// (`@convex-dev/better-auth` 0.12.5 `dist/client/adapter.js`: `update` runs
/// `adapter.updateOne`, `delete` runs `adapter.deleteOne`); the rest have no function of their
/// own there.
fn component_function(method: &str) -> Option<&'static str> {
    Some(match method {
        "findOne" => "findOne",
        "findMany" => "findMany",
        "count" => "count",
        "update" => "updateOne",
        "updateMany" => "updateMany",
        "delete" => "deleteOne",
        "deleteMany" => "deleteMany",
        _ => return None,
    })
}

/// Whether a call of the adapter `method` is a single-row lookup, by the rule `report` applies
/// to the component function that logged a warning.
fn is_lookup(method: &str) -> bool {
    component_function(method).is_some_and(crate::document::Risk::is_lookup_function)
}

/// A helper that forwards a positional model and where clause to the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Helper {
    model: usize,
    r#where: usize,
    /// The adapter call in its body is a single-row lookup.
    lookup: bool,
}

/// What the first pass learns about a package.
#[derive(Debug, Default)]
pub(crate) struct PackageScope {
    /// `const NAME = "literal"`; `None` when two declarations disagree.
    strings: HashMap<String, Option<String>>,
    /// `const NAME = { key: "literal", … }`, by (name, key).
    objects: HashMap<(String, String), Option<String>>,
    helpers: HashMap<String, Helper>,
}

/// One adapter call found in a file.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// 1-based line of the call.
    pub line: u64,
    /// Every query the call can make (one per conditional variant); empty when the table, a
    /// field, an operator or the sort is not written literally.
    pub queries: Vec<Query>,
    /// The call is a single-row lookup (`findOne`, `update`, `delete`).
    pub lookup: bool,
}

/// Variants of one expression, capped so that a long chain of conditionals stays cheap.
const MAX_VARIANTS: usize = 64;

fn parse<'a>(allocator: &'a Allocator, src: &'a str) -> Option<oxc_ast::ast::Program<'a>> {
    // Plain JavaScript: no type arguments, so none of the speculation `ts.rs` guards against.
    let ret = Parser::new(allocator, src, SourceType::mjs()).parse();
    (!ret.panicked).then_some(ret.program)
}

/// First pass over one file: adds what it declares to the package's scope. A file oxc cannot
/// parse adds nothing.
pub(crate) fn learn(src: &str, scope: &mut PackageScope) {
    let allocator = Allocator::default();
    let Some(program) = parse(&allocator, src) else {
        return;
    };
    let mut learner = Learner {
        scope,
        functions: Vec::new(),
    };
    learner.visit_program(&program);
}

/// Second pass over one file: its adapter calls.
pub(crate) fn calls(src: &str, scope: &PackageScope) -> Vec<Call> {
    let allocator = Allocator::default();
    let Some(program) = parse(&allocator, src) else {
        return Vec::new();
    };
    let mut finder = Finder {
        src,
        scope,
        locals: HashMap::new(),
        functions: Vec::new(),
        calls: Vec::new(),
    };
    finder.visit_program(&program);
    finder.calls
}

fn string_value(e: &Expression<'_>) -> Option<String> {
    match e.get_inner_expression() {
        Expression::StringLiteral(s) => Some(s.value.to_string()),
        Expression::TemplateLiteral(t) if t.expressions.is_empty() => t
            .quasis
            .first()
            .and_then(|q| q.value.cooked.map(|c| c.to_string())),
        _ => None,
    }
}

fn remember(map: &mut HashMap<String, Option<String>>, name: String, value: String) {
    map.entry(name)
        .and_modify(|known| {
            if known.as_deref() != Some(value.as_str()) {
                *known = None;
            }
        })
        .or_insert(Some(value));
}

fn param_names(function: &Function<'_>) -> Vec<Option<String>> {
    function
        .params
        .items
        .iter()
        .map(|p| binding_name(&p.pattern))
        .collect()
}

fn binding_name(pattern: &BindingPattern<'_>) -> Option<String> {
    pattern.get_identifier_name().map(|n| n.to_string())
}

/// The method and object literal argument of an adapter call:
/// `x.findMany({ model, where, sortBy })`.
fn adapter_call<'b, 'a>(
    call: &'b CallExpression<'a>,
) -> Option<(&'b str, &'b ObjectExpression<'a>)> {
    let method = call.callee.get_member_expr()?.static_property_name()?;
    if !ADAPTER_METHODS.contains(&method) {
        return None;
    }
    match call
        .arguments
        .first()?
        .as_expression()?
        .get_inner_expression()
    {
        Expression::ObjectExpression(obj) if property(obj, "model").is_some() => {
            Some((method, obj))
        }
        _ => None,
    }
}

fn property<'b, 'a>(obj: &'b ObjectExpression<'a>, key: &str) -> Option<&'b Expression<'a>> {
    obj.properties.iter().find_map(|p| match p {
        ObjectPropertyKind::ObjectProperty(p) if p.key.static_name().as_deref() == Some(key) => {
            Some(&p.value)
        }
        _ => None,
    })
}

fn identifier_name(e: &Expression<'_>) -> Option<String> {
    match e.get_inner_expression() {
        Expression::Identifier(id) => Some(id.name.to_string()),
        _ => None,
    }
}

struct Learner<'s> {
    scope: &'s mut PackageScope,
    /// Enclosing named functions with their parameters, innermost last.
    functions: Vec<(String, Vec<Option<String>>)>,
}

impl<'a> Visit<'a> for Learner<'_> {
    fn visit_variable_declarator(&mut self, decl: &VariableDeclarator<'a>) {
        if let (Some(name), Some(init)) = (binding_name(&decl.id), &decl.init) {
            if let Some(value) = string_value(init) {
                remember(&mut self.scope.strings, name, value);
            } else if let Expression::ObjectExpression(obj) = init.get_inner_expression() {
                for p in &obj.properties {
                    if let ObjectPropertyKind::ObjectProperty(p) = p
                        && let (Some(key), Some(value)) =
                            (p.key.static_name(), string_value(&p.value))
                    {
                        let entry = self
                            .scope
                            .objects
                            .entry((name.clone(), key.to_string()))
                            .or_insert(Some(value.clone()));
                        if entry.as_deref() != Some(value.as_str()) {
                            *entry = None;
                        }
                    }
                }
            }
        }
        walk::walk_variable_declarator(self, decl);
    }

    fn visit_function(&mut self, function: &Function<'a>, flags: ScopeFlags) {
        let named = function.id.as_ref().map(|id| id.name.to_string());
        if let Some(name) = &named {
            self.functions.push((name.clone(), param_names(function)));
        }
        walk::walk_function(self, function, flags);
        if named.is_some() {
            self.functions.pop();
        }
    }

    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        if let Some((method, obj)) = adapter_call(call)
            && let Some(model) = property(obj, "model").and_then(identifier_name)
            && let Some(r#where) = property(obj, "where").and_then(identifier_name)
            && let Some((name, params)) = self.functions.last()
        {
            let at = |wanted: &str| params.iter().position(|p| p.as_deref() == Some(wanted));
            if let (Some(model), Some(r#where)) = (at(&model), at(&r#where)) {
                self.scope.helpers.insert(
                    name.clone(),
                    Helper {
                        model,
                        r#where,
                        lookup: is_lookup(method),
                    },
                );
            }
        }
        walk::walk_call_expression(self, call);
    }
}

/// What a `const|let|var name = init` of the file holds, evaluated where it is declared.
struct Local {
    start: u32,
    /// The end of the function that declares it: past it, the name is another binding.
    visible_until: u32,
    literals: Option<Vec<String>>,
    wheres: Option<Variants>,
    sorts: Option<Vec<Option<String>>>,
}

struct Finder<'s> {
    src: &'s str,
    scope: &'s PackageScope,
    /// Declarations seen so far, by name, in source order.
    locals: HashMap<String, Vec<Local>>,
    /// Ends of the enclosing functions, innermost last.
    functions: Vec<u32>,
    calls: Vec<Call>,
}

impl<'a> Visit<'a> for Finder<'_> {
    fn visit_variable_declarator(&mut self, decl: &VariableDeclarator<'a>) {
        if let (Some(name), Some(init)) = (binding_name(&decl.id), &decl.init) {
            let at = decl.span.start;
            let local = Local {
                start: at,
                visible_until: self.functions.last().copied().unwrap_or(u32::MAX),
                literals: self.literals(init, at, 0),
                wheres: self.where_variants(init, at, 0),
                sorts: self.sort_variants(init, at, 0),
            };
            self.locals.entry(name).or_default().push(local);
        }
        walk::walk_variable_declarator(self, decl);
    }

    fn visit_function(&mut self, function: &Function<'a>, flags: ScopeFlags) {
        self.functions.push(function.span.end);
        walk::walk_function(self, function, flags);
        self.functions.pop();
    }

    fn visit_arrow_function_expression(&mut self, arrow: &ArrowFunctionExpression<'a>) {
        self.functions.push(arrow.span.end);
        walk::walk_arrow_function_expression(self, arrow);
        self.functions.pop();
    }

    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        let at = call.span.start;
        let found = if let Some((method, obj)) = adapter_call(call) {
            let (r#where, sort) = (property(obj, "where"), property(obj, "sortBy"));
            match (property(obj, "model"), r#where.is_some() || sort.is_some()) {
                (Some(model), true) => {
                    Some((self.queries(model, r#where, sort, at), is_lookup(method)))
                }
                _ => None,
            }
        } else {
            self.helper_call(call).map(|(model, r#where, lookup)| {
                (self.queries(model, Some(r#where), None, at), lookup)
            })
        };
        if let Some((queries, lookup)) = found {
            self.calls.push(Call {
                line: crate::position::line_col(self.src, at as usize).0 as u64,
                queries,
                lookup,
            });
        }
        walk::walk_call_expression(self, call);
    }
}

type Variants = Vec<Vec<Clause>>;

impl<'a> Finder<'_> {
    fn helper_call<'c>(
        &self,
        call: &'c CallExpression<'a>,
    ) -> Option<(&'c Expression<'a>, &'c Expression<'a>, bool)> {
        let name = match &call.callee {
            Expression::Identifier(id) => id.name.as_str(),
            other => other.get_member_expr()?.static_property_name()?,
        };
        let helper = self.scope.helpers.get(name)?;
        let arg = |k: usize| call.arguments.get(k).and_then(Argument::as_expression);
        Some((arg(helper.model)?, arg(helper.r#where)?, helper.lookup))
    }

    fn queries(
        &self,
        model: &Expression<'a>,
        r#where: Option<&Expression<'a>>,
        sort: Option<&Expression<'a>>,
        at: u32,
    ) -> Vec<Query> {
        let Some(tables) = self.literals(model, at, 0) else {
            return Vec::new();
        };
        let wheres = match r#where {
            Some(w) => self.where_variants(w, at, 0),
            None => Some(vec![Vec::new()]),
        };
        let sorts = match sort {
            Some(s) => self.sort_variants(s, at, 0),
            None => Some(vec![None]),
        };
        let (Some(wheres), Some(sorts)) = (wheres, sorts) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for table in &tables {
            for clauses in &wheres {
                for sort in &sorts {
                    out.push(Query {
                        table: table.clone(),
                        clauses: clauses.clone(),
                        sort: sort.clone(),
                    });
                }
            }
        }
        out
    }

    /// The declaration of `name` nearest before `at` in this file.
    fn local(&self, name: &str, at: u32) -> Option<&Local> {
        self.locals
            .get(name)?
            .iter()
            .rev()
            .find(|local| local.start < at && at < local.visible_until)
    }

    /// The strings an expression can be, as the code states them: a literal, a constant, a
    /// constant object's property; both branches of a conditional
    /// (`providerId ? "providerId" : "organizationId"` in `@better-auth/sso`); both sides of a
    /// `??`/`||` whose sides are stated, else the stated default
    /// (`opts.twoFactorTable ?? "twoFactor"`). `None` when no value is stated.
    fn literals(&self, e: &Expression<'a>, at: u32, depth: u8) -> Option<Vec<String>> {
        if depth > 4 {
            return None;
        }
        let e = e.get_inner_expression();
        if let Some(s) = string_value(e) {
            return Some(vec![s]);
        }
        let mut values = match e {
            Expression::Identifier(id) => match self.local(&id.name, at) {
                Some(local) => local.literals.clone()?,
                None => vec![
                    self.scope
                        .strings
                        .get(id.name.as_str())
                        .cloned()
                        .flatten()?,
                ],
            },
            Expression::StaticMemberExpression(m) => {
                let object = identifier_name(&m.object)?;
                vec![
                    self.scope
                        .objects
                        .get(&(object, m.property.name.to_string()))
                        .cloned()
                        .flatten()?,
                ]
            }
            Expression::ConditionalExpression(c) => {
                let mut both = self.literals(&c.consequent, at, depth + 1)?;
                both.extend(self.literals(&c.alternate, at, depth + 1)?);
                both
            }
            Expression::LogicalExpression(l)
                if matches!(l.operator, LogicalOperator::Coalesce | LogicalOperator::Or) =>
            {
                let left = self.literals(&l.left, at, depth + 1);
                let right = self.literals(&l.right, at, depth + 1);
                match (left, right) {
                    (Some(mut left), Some(right)) => {
                        left.extend(right);
                        left
                    }
                    (Some(one), None) | (None, Some(one)) => one,
                    (None, None) => return None,
                }
            }
            _ => return None,
        };
        let mut seen = std::collections::HashSet::new();
        values.retain(|v| seen.insert(v.clone()));
        values.truncate(MAX_VARIANTS);
        Some(values)
    }

    fn where_variants(&self, e: &Expression<'a>, at: u32, depth: u8) -> Option<Variants> {
        if depth > 4 {
            return None;
        }
        match e.get_inner_expression() {
            Expression::ArrayExpression(array) => {
                let mut variants: Variants = vec![Vec::new()];
                for element in &array.elements {
                    let options: Variants = match element {
                        ArrayExpressionElement::SpreadElement(spread) => {
                            self.where_variants(&spread.argument, at, depth + 1)?
                        }
                        ArrayExpressionElement::ObjectExpression(obj) => {
                            self.clause(obj, at)?.into_iter().map(|c| vec![c]).collect()
                        }
                        _ => return None,
                    };
                    variants = variants
                        .iter()
                        .flat_map(|v| {
                            options.iter().map(move |o| {
                                let mut joined = v.clone();
                                joined.extend(o.iter().cloned());
                                joined
                            })
                        })
                        .take(MAX_VARIANTS)
                        .collect();
                }
                Some(variants)
            }
            Expression::ConditionalExpression(c) => {
                let mut both = self.where_variants(&c.consequent, at, depth + 1)?;
                both.extend(self.where_variants(&c.alternate, at, depth + 1)?);
                both.truncate(MAX_VARIANTS);
                Some(both)
            }
            Expression::Identifier(id) => self.local(&id.name, at)?.wheres.clone(),
            _ => None,
        }
    }

    /// One where clause: every variant of its operator and connector.
    fn clause(&self, obj: &ObjectExpression<'a>, at: u32) -> Option<Vec<Clause>> {
        let mut fields = None;
        let mut operators = vec![None];
        let mut connectors = vec![None];
        for p in &obj.properties {
            let ObjectPropertyKind::ObjectProperty(p) = p else {
                return None;
            };
            match p.key.static_name().as_deref() {
                Some("field") => fields = Some(self.literals(&p.value, at, 0)?),
                Some("operator") => {
                    operators = self
                        .literals(&p.value, at, 0)?
                        .into_iter()
                        .map(Some)
                        .collect()
                }
                Some("connector") => {
                    connectors = self
                        .literals(&p.value, at, 0)?
                        .into_iter()
                        .map(Some)
                        .collect()
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for field in &fields? {
            for operator in &operators {
                for connector in &connectors {
                    out.push(Clause {
                        field: field.clone(),
                        operator: operator.clone(),
                        or: connector.as_deref() == Some("OR"),
                    });
                }
            }
        }
        Some(out)
    }

    fn sort_variants(&self, e: &Expression<'a>, at: u32, depth: u8) -> Option<Vec<Option<String>>> {
        if depth > 4 {
            return None;
        }
        match e.get_inner_expression() {
            Expression::ObjectExpression(obj) => Some(
                self.literals(property(obj, "field")?, at, 0)?
                    .into_iter()
                    .map(Some)
                    .collect(),
            ),
            Expression::ConditionalExpression(c) => {
                let mut both = self.sort_variants(&c.consequent, at, depth + 1)?;
                both.extend(self.sort_variants(&c.alternate, at, depth + 1)?);
                Some(both)
            }
            Expression::Identifier(id) if id.name == "undefined" => Some(vec![None]),
            Expression::UnaryExpression(u) if u.operator.as_str() == "void" => Some(vec![None]),
            Expression::Identifier(id) => self.local(&id.name, at)?.sorts.clone(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queries(src: &str) -> Vec<Vec<Query>> {
        let mut scope = PackageScope::default();
        learn(src, &mut scope);
        calls(src, &scope).into_iter().map(|c| c.queries).collect()
    }

    #[test]
    fn conditional_spreads_are_variants_and_constants_resolve() {
        let src = r#"
const TABLE = "apikey";
async function list(adapter, userId, options) {
    return adapter.findMany({
        model: "session",
        where: [{ field: "userId", value: userId }, ...options?.onlyActive ? [{
            field: "expiresAt", value: new Date(), operator: "gt"
        }] : []]
    });
}
const key = (adapter, k) => adapter.findOne({ model: TABLE, where: [{ field: "key", value: k }] });
"#;
        let found = queries(src);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].len(), 2, "{found:?}");
        assert_eq!(found[0][0].clauses[1].operator.as_deref(), Some("gt"));
        assert_eq!(
            found[1].first().map(|q| q.table.as_str()),
            Some("apikey"),
            "{found:?}"
        );
    }

    #[test]
    fn positional_helpers_are_learned_from_their_bodies() {
        let src = r#"
function getWithHooks(adapter) {
    async function deleteManyWithHooks(where, model, custom) {
        return adapter.deleteMany({ model, where });
    }
    return { deleteManyWithHooks };
}
async function run(userId) {
    const where = [{ field: "userId", value: userId }];
    await deleteManyWithHooks(where, "account", void 0);
}
"#;
        let found = queries(src);
        let resolved: Vec<&Query> = found.iter().flatten().collect();
        assert_eq!(resolved.len(), 1, "{found:?}");
        assert_eq!(resolved[0].table, "account");
        assert_eq!(resolved[0].clauses[0].field, "userId");
    }

    /// A call the component runs as `findOne`, `updateOne` or `deleteOne` is a lookup, as
    /// `report` labels a warning those functions logged; a helper inherits its body's call.
    #[test]
    fn single_row_calls_are_lookups() {
        let src = r#"
function hooks(adapter) {
    async function deleteWithHooks(where, model) { return adapter.delete({ model, where }); }
    return { deleteWithHooks };
}
async function run(adapter, id) {
    await adapter.findOne({ model: "member", where: [{ field: "userId", value: id }] });
    await adapter.update({ model: "member", where: [{ field: "userId", value: id }], update: {} });
    await adapter.findMany({ model: "member", where: [{ field: "userId", value: id }] });
    await adapter.deleteMany({ model: "member", where: [{ field: "userId", value: id }] });
    await deleteWithHooks([{ field: "userId", value: id }], "session");
}
"#;
        let mut scope = PackageScope::default();
        learn(src, &mut scope);
        let lookups: Vec<bool> = calls(src, &scope)
            .iter()
            .filter(|c| !c.queries.is_empty())
            .map(|c| c.lookup)
            .collect();
        assert_eq!(lookups, [true, true, false, false, true]);
    }

    /// `@better-auth/sso`'s `field: providerId ? "providerId" : "organizationId"`: both
    /// branches are queries, as are both sides of `??` of two literals, in `field`, `model`
    /// and `operator`; a side the code does not state gives only the other.
    #[test]
    fn conditional_fields_models_and_operators_are_variants() {
        let src = r#"
async function find(adapter, providerId, organizationId, exact, opts) {
    const provider = await adapter.findOne({
        model: "ssoProvider",
        where: [{ field: providerId ? "providerId" : "organizationId", value: providerId || organizationId }]
    });
    const other = await adapter.findMany({
        model: exact ? "member" : "invitation",
        where: [{ field: "organizationId" ?? "orgId", operator: exact ? "eq" : "in", value: organizationId }]
    });
    return adapter.findOne({ model: opts.table ?? "twoFactor", where: [{ field: "userId", value: 1 }] });
}
"#;
        let found = queries(src);
        assert_eq!(found.len(), 3, "{found:?}");
        let fields: Vec<&str> = found[0]
            .iter()
            .map(|q| q.clauses[0].field.as_str())
            .collect();
        assert_eq!(fields, ["providerId", "organizationId"]);
        let shapes: Vec<(&str, &str, Option<&str>)> = found[1]
            .iter()
            .map(|q| {
                let c = &q.clauses[0];
                (q.table.as_str(), c.field.as_str(), c.operator.as_deref())
            })
            .collect();
        for table in ["member", "invitation"] {
            for field in ["organizationId", "orgId"] {
                for operator in ["eq", "in"] {
                    assert!(
                        shapes.contains(&(table, field, Some(operator))),
                        "{table} {field} {operator}: {shapes:?}"
                    );
                }
            }
        }
        assert_eq!(shapes.len(), 8, "{shapes:?}");
        let tables: Vec<&str> = found[2].iter().map(|q| q.table.as_str()).collect();
        assert_eq!(tables, ["twoFactor"]);
    }
}
