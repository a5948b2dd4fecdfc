//! The one gate rule. Every gate (`report`/`pr --fail-on-suggestions`, `apply --check`,
//! `doctor --check` with logs, piped `watch --fail-on-suggestions`, the Action) asks `judge`,
//! so no front-end can pass what another would fail.
//!
//! An all-clear needs the whole input: a gate with coverage gaps exits 2 and names every gap,
//! unless `--allow-partial` accepts them knowingly. Without a gate the gaps are a warning; an
//! input that could not be read at all is an input error (2) either way.

use crate::document::Report;

/// How a command was asked to judge its report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gate {
    /// The flag that makes this run a check (`--fail-on-suggestions`, `--check`); `None`: no gate.
    pub flag: Option<&'static str>,
    /// `--allow-partial`: incomplete coverage is accepted, and said with its size.
    pub allow_partial: bool,
}

/// What the gate decided: the exit code and the lines to print on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub exit: u8,
    pub messages: Vec<String>,
}

pub(crate) fn judge(report: &Report, gate: Gate) -> Judgement {
    let gaps = report.coverage.gaps();
    let mut messages: Vec<String> = report
        .stats
        .errors
        .iter()
        .map(|error| {
            let level = if gate.allow_partial {
                "warning"
            } else {
                "error"
            };
            format!("{level}: {error}")
        })
        .collect();
    let work = gate.flag.is_some() && report.has_work();
    let plan_exit = u8::from(work);
    if gaps.is_empty() {
        return Judgement {
            exit: if report.stats.errors.is_empty() {
                plan_exit
            } else {
                2
            },
            messages,
        };
    }
    let line = report.coverage.line();
    let exit = if gate.allow_partial {
        messages.push(format!(
            "warning: --allow-partial: judged on part of the input. {line}"
        ));
        plan_exit
    } else if let Some(flag) = gate.flag {
        messages.push(format!(
            "error: {flag}: not everything asked for was read, so the check cannot pass \
             ({} gap(s); --allow-partial accepts them). {line}",
            gaps.len()
        ));
        2
    } else {
        messages.push(format!(
            "warning: not everything asked for was read. {line}"
        ));
        if report.stats.errors.is_empty() { 0 } else { 2 }
    };
    messages.extend(gaps.into_iter().map(|gap| format!("  not read: {gap}")));
    Judgement { exit, messages }
}
