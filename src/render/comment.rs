//! The pull-request comment (and job summary): findings table, the exact schema diff, the command
//! to apply it, or an all-clear; always under GitHub's comment size limit.

use super::snippet::overlay_lines;
use crate::document::{Finding, FindingStatus, Report, SchemaLayout};
use crate::position::floor_char_boundary;
use std::fmt::Write as _;

/// GitHub rejects a comment body over 65,536 characters (422 "body is too long"). The composer
/// counts bytes, which is never less than characters or UTF-16 units, so a body under the byte
/// budget is under the limit however GitHub counts.
pub(crate) const GITHUB_COMMENT_LIMIT: usize = 65_536;
/// Room kept for the hidden marker line `github/` prepends, and a margin.
const MARKER_ROOM: usize = 128;
/// Room kept for the truncation notes themselves.
const NOTE_ROOM: usize = 512;
const MAX_NOTES: usize = 20;
const MAX_NOTE_BYTES: usize = 1_000;
const CALLERS_SHOWN: usize = 3;
const TITLE: &str = "### Better Auth index advisor";

/// Everything the comment says, and whether it asks for a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Composed {
    pub markdown: String,
    /// Indexes are left to add: the comment is worth creating, and `--fail-on-suggestions` fails.
    pub has_suggestions: bool,
    pub truncated: bool,
}

/// What goes into the comment besides the report.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommentContext<'a> {
    /// The unified diff of `schema.ts` that `apply` would make; `None` when no overlay schema
    /// was read (none found, or `schema.ts` is still the generated file).
    pub diff: Option<&'a str>,
    /// The command a developer runs in their checkout to make the same change.
    pub apply_command: &'a str,
    /// Where the overlay schema lives, as shown to the reader.
    pub schema_path: &'a str,
}

/// Composes the comment under GitHub's limit.
pub(crate) fn compose(report: &Report, ctx: CommentContext<'_>) -> Composed {
    compose_within(report, ctx, GITHUB_COMMENT_LIMIT)
}

/// The status column without a schema: what the plan does for the finding.
fn plan_status(report: &Report, finding: &Finding) -> String {
    let planned = report.plan.iter().find(|index| {
        index
            .serves
            .iter()
            .any(|s| s.table == finding.table && s.fields == finding.fields)
    });
    match planned {
        Some(index) if index.fields == finding.fields => format!("new: `{}`", index.name),
        Some(index) => format!("new: served by `{}`", index.name),
        None => "no index needed".to_owned(),
    }
}

fn compose_within(report: &Report, ctx: CommentContext<'_>, limit: usize) -> Composed {
    let suggesting = report.has_work();
    let head = render_head(report, ctx, suggesting);
    // New rows first: what this pull request must act on, then what no index can help yet
    // (an unknown table or field), then what the schema already serves.
    let mut ordered: Vec<&Finding> = report.suggestions.iter().collect();
    ordered.sort_by_key(|f| match &f.status {
        None => 0,
        Some(s) if s.needs_index() => 0,
        Some(FindingStatus::Served { .. }) => 2,
        Some(_) => 1,
    });
    // The regenerate command is long: the rows point to it, and it is printed once, as code.
    let regenerate = report.schema.as_ref().and_then(|s| s.regenerate.as_ref());
    let mut points_to_regenerate = false;
    let rows: Vec<String> = ordered
        .into_iter()
        .map(|f| {
            let mut status = match &f.status {
                Some(status) => status.describe(),
                None => plan_status(report, f),
            };
            if let Some(r) = regenerate
                && status.contains(&r.quoted)
            {
                status = status.replace(&r.quoted, "the command below the table");
                points_to_regenerate = true;
            }
            table_row(f, &status)
        })
        .collect();
    let regenerate_block = match regenerate {
        Some(r) if points_to_regenerate => {
            let fence = fence_for(r.lines.iter().map(String::as_str));
            format!(
                "Regenerate the schema (the rows above that say so):\n\n{fence}sh\n{}\n{fence}\n\n",
                r.lines.join("\n")
            )
        }
        _ => String::new(),
    };
    let change = if suggesting {
        change_lines(report, ctx)
    } else {
        None
    };
    let tail = render_tail(report, ctx, suggesting);

    let budget = limit.saturating_sub(MARKER_ROOM);
    let rows_len: usize = rows.iter().map(String::len).sum();
    let change_len: usize = change.as_ref().map_or(0, |c| c.lines_len());
    let fits = head.len()
        + TABLE_HEADER.len()
        + rows_len
        + regenerate_block.len()
        + change_len
        + tail.len()
        + 64
        <= budget;

    let (rows_shown, lines_shown) = if fits {
        (rows.len(), change.as_ref().map_or(0, |c| c.lines.len()))
    } else {
        let avail = budget.saturating_sub(
            head.len() + TABLE_HEADER.len() + regenerate_block.len() + tail.len() + NOTE_ROOM,
        );
        // The table gets at least a third, and all of what the change does not need.
        let table_budget = (avail / 3).max(avail.saturating_sub(change_len));
        let rows_shown = count_within(&rows, table_budget);
        let rows_used: usize = rows[..rows_shown].iter().map(String::len).sum();
        let lines_shown = change.as_ref().map_or(0, |c| {
            count_within(&c.lines, avail.saturating_sub(rows_used))
        });
        (rows_shown, lines_shown)
    };

    let mut out = head;
    if !rows.is_empty() {
        out.push_str(TABLE_HEADER);
        for row in &rows[..rows_shown] {
            out.push_str(row);
        }
        if rows_shown < rows.len() {
            let _ = writeln!(
                out,
                "\n_{} more finding(s) not shown: the comment is capped at {} characters. \
                 Run `ba-index-advisor report` on the logs to see them all._",
                rows.len() - rows_shown,
                GITHUB_COMMENT_LIMIT
            );
        }
        out.push('\n');
        out.push_str(&regenerate_block);
    }
    if let Some(change) = &change {
        out.push_str(&change.heading);
        let shown = &change.lines[..lines_shown];
        let fence = fence_for(shown.iter().map(String::as_str));
        let _ = writeln!(out, "{fence}{}", change.language);
        for line in shown {
            out.push_str(line);
        }
        let _ = writeln!(out, "{fence}");
        if lines_shown < change.lines.len() {
            let _ = writeln!(
                out,
                "\n_The change is cut after {lines_shown} of {} lines to fit the comment limit; \
                 add `--dry-run` to the command below to see all of it._",
                change.lines.len()
            );
        }
        out.push('\n');
    }
    out.push_str(&tail);

    let truncated =
        rows_shown < rows.len() || change.as_ref().is_some_and(|c| lines_shown < c.lines.len());
    if out.len() > budget {
        // Only an absurd tail (huge notes) gets here; cut it hard rather than be rejected.
        let note = "\n\n_(cut to fit the comment limit)_\n";
        let cut = floor_char_boundary(&out, budget.saturating_sub(note.len()));
        out.truncate(cut);
        out.push_str(note);
        return Composed {
            markdown: out,
            has_suggestions: suggesting,
            truncated: true,
        };
    }
    Composed {
        markdown: out,
        has_suggestions: suggesting,
        truncated,
    }
}

const TABLE_HEADER: &str =
    "| Table | Fields | Count | Callers | Status |\n| --- | --- | ---: | --- | --- |\n";

fn render_head(report: &Report, ctx: CommentContext<'_>, suggesting: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{TITLE}\n");
    let occurrences: u64 = report.suggestions.iter().map(|f| f.count).sum();
    let predicted = report
        .predictions
        .iter()
        .filter(|p| !p.seen_in_logs)
        .count();
    if suggesting && report.suggestions.is_empty() && predicted > 0 {
        let n = report.plan.len();
        let _ = writeln!(
            out,
            "**{n} index{} to add** to `{}`, for {predicted} quer{} the installed Better Auth \
             code will run without an index (predicted; no log needed).\n",
            if n == 1 { "" } else { "es" },
            ctx.schema_path,
            if predicted == 1 { "y" } else { "ies" },
        );
    } else if suggesting {
        let n = report.plan.len();
        let _ = writeln!(
            out,
            "**{n} index{} to add** to `{}`, for {} missing-index warning{} ({} \
             in the logs of this run{}).\n",
            if n == 1 { "" } else { "es" },
            ctx.schema_path,
            report.suggestions.len(),
            plural(report.suggestions.len() as u64),
            occurrences_phrase(report.stats.signals),
            match report.stats.signals.saturating_sub(occurrences) {
                0 => String::new(),
                rest => format!(", {rest} of them not suggested"),
            },
        );
    } else if !report.coverage.is_complete() {
        let _ = writeln!(
            out,
            "**No index to add in what was read**, but not everything asked for was read: \
             this is not an all-clear.\n"
        );
    } else if report.suggestions.is_empty() {
        let _ = writeln!(
            out,
            "**All clear:** the logs of this run show no Better Auth query without an index.\n"
        );
    } else {
        let _ = writeln!(
            out,
            "**All clear:** `{}` already has an index for every warning in the logs of this run.\n",
            ctx.schema_path
        );
    }
    out.push_str(&super::markdown_coverage(report));
    out
}

fn render_tail(report: &Report, ctx: CommentContext<'_>, suggesting: bool) -> String {
    let mut out = String::new();
    if !report.predictions.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Predicted from the installed code</summary>\n{}\n</details>\n",
            crate::render::predictions_section(report, true, None)
        );
    }
    if suggesting {
        let _ = writeln!(
            out,
            "#### Apply it in your checkout\n\nThe change above is exact. Or let the advisor write it \
             from a log dump of your own (`npx convex logs --history --jsonl > convex-logs.jsonl`, \
             stopped with Ctrl-C once your app has run):\n"
        );
        let mut commands = Vec::new();
        if is_generated(report) {
            // The same launcher as the apply command (`npx ba-index-advisor` or the binary).
            let launcher = ctx
                .apply_command
                .split_once(" apply")
                .map_or("ba-index-advisor", |(launcher, _)| launcher);
            commands.push(format!("{launcher} init"));
        }
        commands.push(ctx.apply_command.to_owned());
        let fence = fence_for(commands.iter().map(String::as_str));
        let _ = writeln!(out, "{fence}sh\n{}\n{fence}\n", commands.join("\n"));
    }
    let ignored: u64 = report.ignored.iter().map(|i| i.count).sum();
    if !report.notes.is_empty() || ignored > 0 {
        let _ = writeln!(out, "<details><summary>Notes</summary>\n");
        for note in report.notes.iter().take(MAX_NOTES) {
            let note = one_line(note);
            let cut = floor_char_boundary(&note, MAX_NOTE_BYTES);
            let ellipsis = if cut < note.len() { "…" } else { "" };
            let _ = writeln!(out, "- {}{ellipsis}", &note[..cut]);
        }
        if report.notes.len() > MAX_NOTES {
            let _ = writeln!(out, "- … and {} more", report.notes.len() - MAX_NOTES);
        }
        for item in report.ignored.iter().take(MAX_NOTES) {
            let reason = one_line(&item.reason);
            let cut = floor_char_boundary(&reason, MAX_NOTE_BYTES);
            let _ = writeln!(
                out,
                "- Not suggested: `{}` {} ({} occurrence{}): {}",
                code(&item.table),
                field_list(&item.fields),
                item.count,
                plural(item.count),
                &reason[..cut]
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    let _ = writeln!(
        out,
        "<sub>ba-index-advisor {} · {} log line{} read, {}</sub>",
        env!("CARGO_PKG_VERSION"),
        report.stats.lines,
        plural(report.stats.lines),
        occurrences_phrase(report.stats.signals),
    );
    out
}

/// The comment's fenced block: the exact diff, or (without a schema) the planned `.index(...)`
/// calls. (`schema::Change` is the edit itself.)
struct ChangeBlock {
    heading: String,
    language: &'static str,
    lines: Vec<String>,
}

impl ChangeBlock {
    fn lines_len(&self) -> usize {
        self.heading.len() + 16 + self.lines.iter().map(String::len).sum::<usize>()
    }
}

fn change_lines(report: &Report, ctx: CommentContext<'_>) -> Option<ChangeBlock> {
    match ctx.diff {
        Some(diff) => Some(ChangeBlock {
            heading: format!(
                "#### The change to `{}`\n\n{}",
                ctx.schema_path,
                report
                    .plan
                    .iter()
                    .filter_map(|i| Some(format!(
                        "- `{}.{}` {}\n",
                        i.table,
                        i.name,
                        i.extension()?
                    )))
                    .chain(
                        report
                            .plan
                            .iter()
                            .any(|i| i.extends.is_some())
                            .then(|| "\n".into())
                    )
                    .collect::<String>()
            ),
            language: "diff",
            lines: diff.lines().map(|l| format!("{l}\n")).collect(),
        }),
        None if !report.plan.is_empty() => {
            let why = if is_generated(report) {
                format!(
                    "`{}` is still the generated file, so this is the plan rather than a diff. \
                     Run the commands below (`init` moves the generated tables to \
                     `generatedSchema.ts` and makes `schema.ts` the overlay), or, once it is an \
                     overlay, merge",
                    ctx.schema_path
                )
            } else {
                format!(
                    "No `{}` was read, so this is the plan rather than a diff: merge",
                    ctx.schema_path
                )
            };
            Some(ChangeBlock {
                heading: format!(
                    "#### Indexes to add\n\n{why} each line into the object given to \
                     `defineSchema`, after `...tables` (append the calls to an existing chain).\n\n"
                ),
                language: "ts",
                lines: overlay_lines(&report.plan)
                    .into_iter()
                    .map(|line| format!("{line}\n"))
                    .collect(),
            })
        }
        None => None,
    }
}

fn is_generated(report: &Report) -> bool {
    report
        .schema
        .as_ref()
        .is_some_and(|s| s.layout == SchemaLayout::Generated)
}

fn table_row(finding: &Finding, status: &str) -> String {
    let mut status = status.to_owned();
    for insight in &finding.insights {
        let _ = write!(
            status,
            "; behind Convex insight {}",
            super::describe_insight(insight, &finding.table, true)
        );
    }
    let mut count = finding.count.to_string();
    if let Some(executions) = finding.executions {
        let _ = write!(count, " ({executions} run{})", plural(executions));
    }
    let mut callers: Vec<String> = finding
        .callers
        .iter()
        .take(CALLERS_SHOWN)
        .map(|c| format!("`{}` ×{}", code(&c.function), c.count))
        .collect();
    let hidden = finding.callers.len().saturating_sub(CALLERS_SHOWN) as u64 + finding.other_callers;
    if hidden > 0 {
        callers.push(format!("+{hidden} more"));
    }
    if callers.is_empty() {
        callers.push("—".to_owned());
    }
    format!(
        "| `{}` | {} | {} | {} | {} |\n",
        code(&finding.table),
        field_list(&finding.fields),
        count,
        callers.join(", "),
        cell(&status),
    )
}

fn field_list(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| format!("`{}`", code(f)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text inside a one-backtick code span in a table cell: no backticks, pipes or newlines.
fn code(text: &str) -> String {
    one_line(text).replace('`', "'").replace('|', "\\|")
}

fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// A code fence longer than any backtick run inside, so the content cannot close it.
fn fence_for<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let longest = lines
        .map(|l| l.split(|c| c != '`').map(str::len).max().unwrap_or(0))
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn count_within(items: &[String], budget: usize) -> usize {
    let mut used = 0;
    items
        .iter()
        .take_while(|item| {
            used += item.len();
            used <= budget
        })
        .count()
}

/// The one count the head and the foot give: every missing-index message read, in one word.
fn occurrences_phrase(signals: u64) -> String {
    format!("{signals} occurrence{}", plural(signals))
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{
        CallerCount, FindingStatus, Ignored, ListKey, PlannedIndex, Risk, SCHEMA_VERSION, Seen,
        Stats,
    };
    use crate::signal::SignalKind;

    fn finding(table: &str, fields: &[&str], count: u64, callers: &[(&str, u64)]) -> Finding {
        let seen = Seen {
            timestamp: None,
            location: "logs.txt:1".to_owned(),
        };
        Finding {
            table: table.to_owned(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            count,
            executions: None,
            impact: None,
            insights: Vec::new(),
            risk: Risk::Scan,
            kinds: vec![SignalKind::MissingIndexWarning],
            callers: callers
                .iter()
                .map(|(f, c)| CallerCount {
                    function: (*f).to_owned(),
                    count: *c,
                })
                .collect(),
            other_callers: 0,
            component_functions: vec![],
            first_seen: seen.clone(),
            last_seen: seen,
            samples: vec![],
            legacy_underscore: 0,
            rules: vec![],
            status: None,
            exact: None,
        }
    }

    fn planned(table: &str, fields: &[&str], serves: &[&[&str]]) -> PlannedIndex {
        PlannedIndex {
            table: table.to_owned(),
            name: fields.join("_"),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            serves: serves
                .iter()
                .map(|s| ListKey {
                    table: table.to_owned(),
                    fields: s.iter().map(|f| (*f).to_owned()).collect(),
                })
                .collect(),
            note: None,
            exact: false,
            extends: None,
        }
    }

    fn report(suggestions: Vec<Finding>, plan: Vec<PlannedIndex>) -> Report {
        Report {
            version: SCHEMA_VERSION,
            suggestions,
            plan,
            ignored: vec![],
            notes: vec![],
            stats: Stats {
                lines: 120,
                signals: 5,
                ..Stats::default()
            },
            coverage: Default::default(),
            schema: None,
            predictions: vec![],
            predicted_from: vec![],
        }
    }

    const DIFF: &str = "--- a/convex/betterAuth/schema.ts\n+++ b/convex/betterAuth/schema.ts\n@@ -4,3 +4,4 @@\n export default defineSchema({\n   ...tables,\n-  session: tables.session,\n+  session: tables.session.index(\"token_expiresAt\", [\"token\", \"expiresAt\"]),\n });\n";

    fn ctx(diff: Option<&str>) -> CommentContext<'_> {
        CommentContext {
            diff,
            apply_command: "ba-index-advisor apply --from-report ba-index-report.json",
            schema_path: "convex/betterAuth/schema.ts",
        }
    }

    fn sample() -> Report {
        report(
            vec![
                finding(
                    "session",
                    &["token", "expiresAt"],
                    3,
                    &[("auth:getSession", 2), ("http:GET /api/auth", 1)],
                ),
                finding("session", &["token"], 2, &[]),
            ],
            vec![planned(
                "session",
                &["token", "expiresAt"],
                &[&["token", "expiresAt"], &["token"]],
            )],
        )
    }

    #[test]
    fn suggestion_comment_has_table_diff_and_command() {
        let composed = compose(&sample(), ctx(Some(DIFF)));
        assert!(composed.has_suggestions);
        assert!(!composed.truncated);
        insta::assert_snapshot!(composed.markdown, @r#"
        ### Better Auth index advisor

        **1 index to add** to `convex/betterAuth/schema.ts`, for 2 missing-index warnings (5 occurrences in the logs of this run).

        | Table | Fields | Count | Callers | Status |
        | --- | --- | ---: | --- | --- |
        | `session` | `token`, `expiresAt` | 3 | `auth:getSession` ×2, `http:GET /api/auth` ×1 | new: `token_expiresAt` |
        | `session` | `token` | 2 | — | new: served by `token_expiresAt` |

        #### The change to `convex/betterAuth/schema.ts`

        ```diff
        --- a/convex/betterAuth/schema.ts
        +++ b/convex/betterAuth/schema.ts
        @@ -4,3 +4,4 @@
         export default defineSchema({
           ...tables,
        -  session: tables.session,
        +  session: tables.session.index("token_expiresAt", ["token", "expiresAt"]),
         });
        ```

        #### Apply it in your checkout

        The change above is exact. Or let the advisor write it from a log dump of your own (`npx convex logs --history --jsonl > convex-logs.jsonl`, stopped with Ctrl-C once your app has run):

        ```sh
        ba-index-advisor apply --from-report ba-index-report.json
        ```

        <sub>ba-index-advisor 0.1.0 · 120 log lines read, 5 occurrences</sub>
        "#);
    }

    #[test]
    fn without_a_schema_the_plan_is_shown() {
        let composed = compose(&sample(), ctx(None));
        assert!(composed.has_suggestions);
        assert!(composed.markdown.contains("#### Indexes to add"));
        assert!(composed.markdown.contains(
            "```ts\nsession: tables.session.index(\"token_expiresAt\", [\"token\", \"expiresAt\"] /* added by ba-index-advisor */),\n```"
        ));
    }

    #[test]
    fn nothing_found_is_an_all_clear() {
        let composed = compose(&report(vec![], vec![]), ctx(None));
        assert!(!composed.has_suggestions);
        insta::assert_snapshot!(composed.markdown, @r"
        ### Better Auth index advisor

        **All clear:** the logs of this run show no Better Auth query without an index.

        <sub>ba-index-advisor 0.1.0 · 120 log lines read, 5 occurrences</sub>
        ");
    }

    #[test]
    fn an_empty_plan_is_an_all_clear_that_still_lists_findings() {
        let mut served = sample();
        served.plan.clear();
        let composed = compose(&served, ctx(Some("")));
        assert!(!composed.has_suggestions);
        assert!(
            composed
                .markdown
                .contains("**All clear:** `convex/betterAuth/schema.ts` already has")
        );
        assert!(composed.markdown.contains("| `session` | `token` |"));
        assert!(!composed.markdown.contains("Apply it in your checkout"));
        assert!(!composed.markdown.contains("```diff"));
    }

    #[test]
    fn schema_statuses_fill_the_status_column() {
        let mut r = sample();
        r.suggestions[0].status = Some(FindingStatus::Served {
            index: "token_expiresAt_userId".into(),
        });
        r.suggestions[1].status = Some(FindingStatus::ExactNeeded {
            index: "token_userId".into(),
        });
        let md = compose(&r, ctx(Some(DIFF))).markdown;
        assert!(md.contains("| `session` | `token`, `expiresAt` | 3 | `auth:getSession` ×2, `http:GET /api/auth` ×1 | already served by index `token_expiresAt_userId` |"));
        assert!(
            md.contains("| 2 | — | exact index needed: `token_userId` begins with these fields")
        );
    }

    #[test]
    fn cells_cannot_break_the_table_or_the_fence() {
        let mut r = sample();
        r.suggestions[0].callers[0].function = "a|b`c\nd".to_owned();
        r.suggestions[0].other_callers = 4;
        let diff = "+ const s = ```x```;\n";
        let md = compose(&r, ctx(Some(diff))).markdown;
        assert!(md.contains("`a\\|b'c d` ×2, `http:GET /api/auth` ×1, +4 more"));
        assert!(md.contains("````diff\n+ const s = ```x```;\n````\n"));
    }

    #[test]
    fn notes_and_ignored_go_in_a_details_block() {
        let mut r = sample();
        r.notes
            .push("logs from @convex-dev/better-auth < 0.11.2".to_owned());
        r.ignored.push(Ignored {
            table: "user".to_owned(),
            fields: vec!["_id".to_owned()],
            count: 4,
            reason: "`_id` is never indexed".to_owned(),
            samples: vec![],
        });
        let md = compose(&r, ctx(Some(DIFF))).markdown;
        assert!(md.contains("<details><summary>Notes</summary>\n\n- logs from"));
        assert!(
            md.contains("- Not suggested: `user` `_id` (4 occurrences): `_id` is never indexed")
        );
    }

    fn huge() -> (Report, String) {
        let mut suggestions = Vec::new();
        let mut plan = Vec::new();
        for i in 0..2_000 {
            let field = format!("customField{i:04}");
            suggestions.push(finding("user", &[&field, "createdAt"], 1, &[("auth:x", 1)]));
            plan.push(planned(
                "user",
                &[&field, "createdAt"],
                &[&[&field, "createdAt"]],
            ));
        }
        let diff: String = (0..4_000)
            .map(|i| format!("+    .index(\"customField{i:04}_createdAt\", [\"customField{i:04}\", \"createdAt\"])\n"))
            .collect();
        (report(suggestions, plan), diff)
    }

    #[test]
    fn a_huge_report_is_truncated_under_the_limit_with_notes() {
        let (r, diff) = huge();
        let composed = compose(&r, ctx(Some(&diff)));
        assert!(composed.truncated);
        let with_marker = format!("{}\n{}", crate::github::MARKER, composed.markdown);
        assert!(with_marker.len() <= GITHUB_COMMENT_LIMIT);
        assert!(composed.markdown.contains("more finding(s) not shown"));
        assert!(composed.markdown.contains("The change is cut after"));
        // The diff block is still closed, and the command still present.
        assert!(
            composed
                .markdown
                .contains("\n```\n\n_The change is cut after")
        );
        assert!(composed.markdown.contains("#### Apply it in your checkout"));
    }

    #[test]
    fn truncation_keeps_whole_rows_and_lines_at_any_limit() {
        let (r, diff) = huge();
        for limit in [2_000, 5_000, 20_000, 65_536] {
            let md = compose_within(&r, ctx(Some(&diff)), limit).markdown;
            assert!(md.len() <= limit, "limit {limit}: {}", md.len());
            assert!(md.ends_with("</sub>\n") || md.ends_with("_(cut to fit the comment limit)_\n"));
            for line in md.lines().filter(|l| l.starts_with("| `user`")) {
                assert!(line.ends_with(" |"), "cut row: {line}");
            }
        }
    }

    #[test]
    fn a_small_report_is_not_truncated() {
        let composed = compose_within(&sample(), ctx(Some(DIFF)), GITHUB_COMMENT_LIMIT);
        assert!(!composed.truncated);
    }
}
