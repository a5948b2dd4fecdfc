//! The next command a report asks for, fitted to the situation: `apply` with the same inputs,
//! `init` first when `schema.ts` is still the generated file, `--schema-dir` when no schema was
//! found, `--from-report` when the logs came from a pipe that cannot be read twice.

use crate::document::{Report, SchemaLayout};
use std::path::{Path, PathBuf};

/// What the user ran, as far as the next command needs it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Invocation<'a> {
    pub inputs: &'a [PathBuf],
    pub from_report: Option<&'a Path>,
    pub schema_dir: Option<&'a Path>,
}

/// One step: why, and the command (none when only the user can act).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub why: String,
    pub command: Option<String>,
}

/// A word as a POSIX shell reads it: quoted only when it must be.
pub(crate) fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn reads_stdin(invocation: &Invocation<'_>) -> bool {
    invocation.from_report.is_none()
        && (invocation.inputs.is_empty() || invocation.inputs.iter().any(|p| p.as_os_str() == "-"))
}

/// `ba-index-advisor apply` with the same inputs and schema folder; `placeholder` stands for a
/// folder the user must name.
pub(crate) fn apply_command(invocation: &Invocation<'_>, placeholder: Option<&str>) -> String {
    let mut words = vec!["ba-index-advisor".to_owned(), "apply".to_owned()];
    match (invocation.schema_dir, placeholder) {
        (Some(dir), _) => words.extend([
            "--schema-dir".to_owned(),
            shell_word(&dir.display().to_string()),
        ]),
        (None, Some(placeholder)) => {
            words.extend(["--schema-dir".to_owned(), placeholder.to_owned()])
        }
        (None, None) => {}
    }
    match invocation.from_report {
        Some(path) => {
            words.push("--from-report".to_owned());
            words.push(shell_word(&path.display().to_string()));
        }
        None if reads_stdin(invocation) => {
            words.push("--from-report".to_owned());
            words.push("report.json".to_owned());
        }
        None => words.extend(
            invocation
                .inputs
                .iter()
                .map(|p| shell_word(&p.display().to_string())),
        ),
    }
    words.join(" ")
}

pub(crate) fn next_steps(report: &Report, invocation: &Invocation<'_>) -> Vec<Step> {
    let mut steps = Vec::new();
    if !report.has_work() {
        let blocked = report
            .suggestions
            .iter()
            .filter(|f| f.status.as_ref().is_some_and(|s| !s.needs_index()))
            .filter(|f| {
                !matches!(
                    f.status,
                    Some(crate::document::FindingStatus::Served { .. })
                )
            })
            .count();
        if blocked > 0 {
            steps.push(Step {
                why: format!(
                    "no index to add; {blocked} suggestion(s) need a change no index makes (see \
                     Status)"
                ),
                command: None,
            });
        }
        return steps;
    }
    let n = report.plan.len();
    if reads_stdin(invocation) {
        steps.push(Step {
            why: "the logs came from a pipe: save this report to apply it".to_owned(),
            command: Some("… | ba-index-advisor report - --format json > report.json".to_owned()),
        });
    }
    match &report.schema {
        Some(schema) if schema.layout == SchemaLayout::Generated => {
            steps.push(Step {
                why: format!(
                    "{} is the generated file: make it the overlay that spreads generatedSchema.ts",
                    schema.path
                ),
                command: Some("ba-index-advisor init".to_owned()),
            });
            steps.push(Step {
                why: format!("write the {n} planned index(es) into {}", schema.path),
                command: Some(apply_command(invocation, None)),
            });
        }
        Some(schema) => steps.push(Step {
            why: format!("write the {n} planned index(es) into {}", schema.path),
            command: Some(apply_command(invocation, None)),
        }),
        None => steps.push(Step {
            why: "no Better Auth schema was found from here (convex/betterAuth/schema.ts, or a \
                  local component registered in convex/convex.config.ts); name the folder that \
                  holds its schema.ts"
                .to_owned(),
            command: Some(apply_command(invocation, Some("<folder>"))),
        }),
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("logs/run-1.jsonl"), "logs/run-1.jsonl");
        assert_eq!(shell_word("my logs/it's.txt"), r"'my logs/it'\''s.txt'");
    }
}
