//! What one Better Auth adapter call asks of the component's index selection: the list of fields
//! an index must begin with (in the order the warning prints it), or nothing when the call needs
//! no index. The serving of that list against a schema is `status.rs`'s; this module only turns
//! a query into its list, and says which lists the selection can print for a set of fields
//! (`printable_lists`, the one rule `doctor` and `ignore` check an order against).
//!
//! The steps follow `@convex-dev/better-auth` 0.12.5: the client adapter splits an `OR` query into
//! one query per clause (`src/client/adapter.ts`); `paginate` answers an equality on `_id` with
//! `db.get`, an equality on a unique field through the first index beginning with it (throwing
//! without one), and rewrites the first `in` on another field into equalities; `findIndex`
//! keeps equality fields sorted by `localeCompare`, then the one range field, then the sort
//! field, with `createdAt` served by `_creationTime` (`src/client/adapter-utils.ts`).

use crate::document::SignalKind;
use std::cmp::Ordering;

/// `a.localeCompare(b)` for ASCII identifiers: case-insensitive first, lower case first on ties.
pub(crate) fn locale_cmp(a: &str, b: &str) -> Ordering {
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| b.cmp(a))
}

/// Every list Better Auth can print for exactly this set of fields: all of them as equality
/// fields, or all but one as equality fields followed by that one as range or sort field.
/// `createdAt` is never printed as the range or sort field: Better Auth serves it with
/// `_creationTime` (better-auth.md §2.4, step 5).
pub(crate) fn printable_lists(fields: &[String]) -> Vec<Vec<String>> {
    let mut sorted = fields.to_vec();
    sorted.sort_by(|a, b| locale_cmp(a, b));
    let mut lists = vec![sorted.clone()];
    for last in sorted.iter().filter(|f| *f != "createdAt") {
        let mut list: Vec<String> = sorted.iter().filter(|f| *f != last).cloned().collect();
        list.push(last.clone());
        if !lists.contains(&list) {
            lists.push(list);
        }
    }
    lists
}

/// Each list Better Auth can print for these fields, saying which part is equality.
pub(crate) fn printable_described(fields: &[String]) -> Vec<String> {
    let list = |l: &[String]| format!("[{}]", l.join(", "));
    printable_lists(fields)
        .iter()
        .enumerate()
        .map(|(k, l)| match l.split_last() {
            Some((last, eq)) if k > 0 => format!(
                "{} (equality on {}, then a range or sort on {last})",
                list(l),
                eq.join(", ")
            ),
            _ if l.len() > 1 => format!("{} (equality on every field)", list(l)),
            _ => list(l),
        })
        .collect()
}

/// Whether Better Auth can print exactly this list.
pub(crate) fn is_printable(fields: &[String]) -> bool {
    printable_lists(fields).iter().any(|l| l == fields)
}

/// A where clause as written in Better Auth's code, with the logical field name (`id` for the
/// document id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Clause {
    pub field: String,
    /// `None` for a clause without operator (equality).
    pub operator: Option<String>,
    /// `connector: "OR"`.
    pub or: bool,
}

/// One call: its table, where clauses and `sortBy.field`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Query {
    pub table: String,
    pub clauses: Vec<Clause>,
    pub sort: Option<String>,
}

/// The field list one component query needs an index for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Needed {
    pub table: String,
    pub fields: Vec<String>,
    /// What the component does without it: warn and scan, or throw (a unique field).
    pub kind: SignalKind,
    /// The query bounds or sorts by `createdAt`: only an index of exactly these fields serves.
    pub exact: bool,
}

fn is_id(field: &str) -> bool {
    matches!(field, "id" | "_id")
}

fn is_equality(clause: &Clause) -> bool {
    matches!(clause.operator.as_deref(), None | Some("eq"))
}

fn is_range(clause: &Clause) -> bool {
    matches!(
        clause.operator.as_deref(),
        Some("lt" | "lte" | "gt" | "gte")
    )
}

/// The lists the component needs for `query`, one per component query it becomes; `unique`
/// says whether Better Auth declares a field of a table `unique`.
pub(crate) fn needed(query: &Query, unique: &dyn Fn(&str, &str) -> bool) -> Vec<Needed> {
    let split = query.clauses.len() > 1 && query.clauses.iter().any(|c| c.or);
    if split {
        return query
            .clauses
            .iter()
            .filter_map(|c| {
                one_query(
                    &Query {
                        table: query.table.clone(),
                        clauses: vec![c.clone()],
                        sort: query.sort.clone(),
                    },
                    unique,
                )
            })
            .collect();
    }
    one_query(query, unique).into_iter().collect()
}

fn one_query(query: &Query, unique: &dyn Fn(&str, &str) -> bool) -> Option<Needed> {
    let table = &query.table;
    if let Some(first) = query
        .clauses
        .iter()
        .find(|c| is_equality(c) && (is_id(&c.field) || unique(table, &c.field)))
    {
        return (!is_id(&first.field)).then(|| Needed {
            table: table.clone(),
            fields: vec![first.field.clone()],
            kind: SignalKind::UniqueFieldError,
            exact: false,
        });
    }
    let first_in = query
        .clauses
        .iter()
        .position(|c| c.operator.as_deref() == Some("in"));
    if let Some(at) = first_in
        && is_id(&query.clauses[at].field)
    {
        return None;
    }
    let mut equality: Vec<&str> = query
        .clauses
        .iter()
        .enumerate()
        .filter(|(k, c)| !is_id(&c.field) && (is_equality(c) || Some(*k) == first_in))
        .map(|(_, c)| c.field.as_str())
        .collect();
    equality.sort_by(|a, b| locale_cmp(a, b));
    let range = query
        .clauses
        .iter()
        .find(|c| !is_id(&c.field) && is_range(c))
        .map(|c| c.field.as_str());
    let sort = query.sort.as_deref();
    let mut fields: Vec<String> = equality.iter().map(|f| (*f).to_owned()).collect();
    if let Some(range) = range.filter(|r| *r != "createdAt") {
        fields.push(range.to_owned());
    }
    if let Some(sort) = sort.filter(|s| *s != "createdAt" && Some(*s) != range) {
        fields.push(sort.to_owned());
    }
    if fields.is_empty() {
        return None;
    }
    Some(Needed {
        table: table.clone(),
        fields,
        kind: SignalKind::MissingIndexWarning,
        exact: range == Some("createdAt") || sort == Some("createdAt"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn expires_at_user_id_cannot_serve_user_id_then_expires_at() {
        let lists = printable_lists(&s(&["expiresAt", "userId"]));
        assert!(lists.contains(&s(&["userId", "expiresAt"])));
        assert!(lists.contains(&s(&["expiresAt", "userId"])));
    }

    #[test]
    fn locale_order_is_case_insensitive() {
        let lists = printable_lists(&s(&["Zeta", "alpha", "beta"]));
        assert_eq!(lists[0], s(&["alpha", "beta", "Zeta"]));
        assert!(is_printable(&s(&["alpha", "beta", "Zeta"])));
        assert!(is_printable(&s(&["alpha", "Zeta", "beta"])));
        assert!(!is_printable(&s(&["Zeta", "alpha", "beta"])));
    }

    #[test]
    fn created_at_is_never_printed_as_the_range_or_sort_field() {
        assert!(is_printable(&s(&["createdAt", "userId"])));
        assert!(!is_printable(&s(&["userId", "createdAt"])));
    }

    fn clause(field: &str, operator: Option<&str>) -> Clause {
        Clause {
            field: field.into(),
            operator: operator.map(Into::into),
            or: false,
        }
    }

    fn lists(query: &Query) -> Vec<Vec<String>> {
        let unique = |table: &str, field: &str| table == "session" && field == "token";
        needed(query, &unique)
            .into_iter()
            .map(|n| n.fields)
            .collect()
    }

    fn query(table: &str, clauses: Vec<Clause>, sort: Option<&str>) -> Query {
        Query {
            table: table.into(),
            clauses,
            sort: sort.map(Into::into),
        }
    }

    #[test]
    fn equality_fields_by_locale_compare_then_range_then_sort() {
        let q = query(
            "user",
            vec![
                clause("Zeta", None),
                clause("beta", Some("eq")),
                clause("alpha", None),
                clause("banExpires", Some("lt")),
            ],
            Some("name"),
        );
        assert_eq!(
            lists(&q),
            vec![vec!["alpha", "beta", "Zeta", "banExpires", "name"]]
        );
    }

    #[test]
    fn unique_and_id_equalities_short_circuit() {
        let q = query(
            "session",
            vec![clause("token", None), clause("expiresAt", Some("gt"))],
            None,
        );
        let n = needed(&q, &|t, f| t == "session" && f == "token");
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].fields, vec!["token"]);
        assert_eq!(n[0].kind, SignalKind::UniqueFieldError);
        assert!(lists(&query("user", vec![clause("id", None)], Some("name"))).is_empty());
    }

    #[test]
    fn the_first_in_is_an_equality_and_ignored_operators_give_nothing() {
        let q = query(
            "session",
            vec![
                clause("userId", Some("in")),
                clause("expiresAt", Some("gt")),
            ],
            None,
        );
        assert_eq!(lists(&q), vec![vec!["userId", "expiresAt"]]);
        let q = query("user", vec![clause("name", Some("contains"))], None);
        assert!(lists(&q).is_empty());
    }

    #[test]
    fn or_splits_and_created_at_asks_for_an_exact_index() {
        let mut a = clause("email", None);
        a.or = true;
        let mut b = clause("name", None);
        b.or = true;
        assert_eq!(
            lists(&query("user", vec![a, b], None)),
            vec![vec!["email"], vec!["name"]]
        );
        let n = needed(
            &query(
                "jwks",
                vec![clause("expiresAt", Some("gt"))],
                Some("createdAt"),
            ),
            &|_, _| false,
        );
        assert!(n[0].exact);
        assert!(lists(&query("session", vec![], Some("createdAt"))).is_empty());
    }
}
