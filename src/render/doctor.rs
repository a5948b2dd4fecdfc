//! `doctor`'s problems as text: one `file:line:col: severity: message` line each, the form
//! editors and CI annotators link, followed by the fix to make.

use crate::advise::doctor::{Fix, NewIndex, Problem, Severity};
use crate::render::fit::push_wrapped;
use crate::render::snippet;
use crate::schema::Site;

/// Code as one line: a prettier-formatted call spans several.
fn one_line(code: &str) -> String {
    code.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A fix is an edit the user makes by hand, so its call carries no mark of this tool.
fn call(index: &NewIndex) -> String {
    snippet::call(&index.name, &index.fields, None)
}

fn at(site: &Site) -> String {
    format!("{}:{}:{}", site.file, site.line, site.column)
}

/// The fix, as an instruction. `alias` is the name the overlay imports the generated tables as.
pub(crate) fn fix(problem: &Problem, alias: &str) -> String {
    match &problem.fix {
        Fix::Remove { at: site } => {
            format!("delete `{}` at {}", one_line(&site.code), at(site))
        }
        Fix::Replace { at: site, with } => format!(
            "at {}, replace `{}` with `{}`",
            at(site),
            one_line(&site.code),
            call(with)
        ),
        Fix::Add {
            file,
            table,
            indexes,
            after,
        } => {
            let calls: String = indexes.iter().map(call).collect();
            match after {
                Some(site) => format!(
                    "in {file}, chain `{calls}` on the `{table}` entry, after `{}` (line {})",
                    one_line(&site.code),
                    site.line
                ),
                None => format!(
                    "in {file}, add `{table}: {alias}.{table}{calls},` to the object passed to \
                     defineSchema, after `...{alias}`"
                ),
            }
        }
        Fix::Manual { hint } => hint.clone(),
    }
}

/// Every problem with its fix, then a count, fitted to `width` (the location stays first, the
/// code in the fix whole); `alias` as for [`fix`].
pub(crate) fn text(problems: &[Problem], alias: &str, width: Option<usize>) -> String {
    let mut out = String::new();
    for p in problems {
        let severity = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let line = match &p.at {
            Some(site) => format!("{}: {severity}: {}", at(site), p.message),
            None => format!("{severity}: {}", p.message),
        };
        push_wrapped(&mut out, &line, width, "");
        push_wrapped(&mut out, &format!("fix: {}", fix(p, alias)), width, "  ");
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    let count = if errors > 0 {
        format!(
            "{errors} error(s): Convex refuses to deploy the schema as it is; {warnings} \
             warning(s)"
        )
    } else {
        format!("{warnings} warning(s); Convex deploys the schema as it is")
    };
    push_wrapped(&mut out, &count, width, "");
    out
}
