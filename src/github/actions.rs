//! The GitHub Actions environment, as `pr` reads and writes it: the repository and pull request
//! a run is for (`GITHUB_REPOSITORY`, the event payload at `GITHUB_EVENT_PATH`) and the job
//! summary (`GITHUB_STEP_SUMMARY`). No HTTP: the client is `github`'s.

use super::RepoName;
use crate::env;
use std::io::Write as _;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ActionsError {
    #[error("GITHUB_REPOSITORY: {0}")]
    Repository(String),
    #[error("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")]
    NoRepository,
    #[error("no pull-request number: pass --pr NUMBER or set GITHUB_EVENT_PATH")]
    NoPullRequest,
    #[error("could not read the event file {path}")]
    ReadEvent {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the event file {path} is not JSON")]
    EventNotJson {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("could not open the job summary {path}")]
    OpenSummary {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write the job summary {path}")]
    WriteSummary {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The repository and pull request, from the flags (`repo`, `pr`), then the Actions
/// environment. `None` when the event is not about a pull request (a push, a schedule).
pub(crate) fn target(
    repo: Option<&RepoName>,
    pr: Option<u64>,
) -> Result<Option<(RepoName, u64)>, ActionsError> {
    let repo = match repo {
        Some(repo) => repo.clone(),
        None => match env::nonempty("GITHUB_REPOSITORY") {
            Some(value) => value.parse().map_err(ActionsError::Repository)?,
            None => return Err(ActionsError::NoRepository),
        },
    };
    if let Some(pr) = pr {
        return Ok(Some((repo, pr)));
    }
    let Some(path) = env::nonempty("GITHUB_EVENT_PATH") else {
        return Err(ActionsError::NoPullRequest);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(source) => return Err(ActionsError::ReadEvent { path, source }),
    };
    let event: serde_json::Value = match serde_json::from_str(&text) {
        Ok(event) => event,
        Err(source) => return Err(ActionsError::EventNotJson { path, source }),
    };
    Ok(pr_number(&event).map(|pr| (repo, pr)))
}

/// `pull_request` events carry `pull_request.number`; `issue_comment` events on a PR carry
/// `issue.number`; some carry a top-level `number`; `workflow_run` events list the PRs of the run
/// (empty for a fork's PR: pass `--pr` there).
fn pr_number(event: &serde_json::Value) -> Option<u64> {
    event
        .pointer("/pull_request/number")
        .or_else(|| {
            // An issue_comment on a plain issue is not a pull request.
            event
                .pointer("/issue/pull_request")
                .and_then(|_| event.pointer("/issue/number"))
        })
        .or_else(|| event.get("number"))
        .or_else(|| event.pointer("/workflow_run/pull_requests/0/number"))
        .and_then(serde_json::Value::as_u64)
}

/// Appends to `$GITHUB_STEP_SUMMARY` when it is set; says whether it wrote.
pub(crate) fn write_step_summary(markdown: &str) -> Result<bool, ActionsError> {
    let Some(path) = env::nonempty("GITHUB_STEP_SUMMARY") else {
        return Ok(false);
    };
    let mut file = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(source) => return Err(ActionsError::OpenSummary { path, source }),
    };
    match writeln!(file, "{markdown}") {
        Ok(()) => Ok(true),
        Err(source) => Err(ActionsError::WriteSummary { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pr_number_comes_from_the_event() {
        assert_eq!(
            pr_number(&json!({"pull_request": {"number": 7}, "number": 7})),
            Some(7)
        );
        assert_eq!(
            pr_number(&json!({"issue": {"number": 9, "pull_request": {"url": "x"}}})),
            Some(9)
        );
        assert_eq!(pr_number(&json!({"issue": {"number": 9}})), None);
        assert_eq!(pr_number(&json!({"number": 3})), Some(3));
        assert_eq!(
            pr_number(&json!({"workflow_run": {"pull_requests": [{"number": 12}]}})),
            Some(12)
        );
        assert_eq!(
            pr_number(&json!({"workflow_run": {"pull_requests": []}})),
            None
        );
        assert_eq!(pr_number(&json!({"ref": "refs/heads/main"})), None);
    }
}
