//! `--github-issue`: one issue kept up to date with the plan over all deployments, through the
//! same GitHub client and marker as the PR bot, at most once per `--notify-every`.

use super::Job;
use crate::github::{GitHub, RepoName, Upsert};
use crate::render::comment::{self, CommentContext};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

const TITLE: &str = "Better Auth: missing indexes seen in production";
const DEFAULT_SCHEMA_PATH: &str = "convex/betterAuth/schema.ts";
const APPLY_COMMAND: &str = "curl -fsS http://<serve>/api/report > report.json && \
                             npx ba-index-advisor apply --from-report report.json";

#[derive(Debug)]
pub struct IssueTarget {
    pub github: GitHub,
    pub repo: RepoName,
    pub every: Duration,
}

pub(super) async fn run(target: IssueTarget, jobs: mpsc::Sender<Job>, changed: Arc<Notify>) {
    let mut posted_plan: Option<String> = None;
    let mut last_attempt: Option<Instant> = None;
    loop {
        if let Some(at) = last_attempt {
            tokio::time::sleep_until(at + target.every).await;
        }
        let (reply, answer) = oneshot::channel();
        if jobs.send(Job::Plan { reply }).is_err() {
            return;
        }
        let Ok(report) = answer.await else { return };
        let plan = serde_json::to_string(&report.plan).unwrap_or_default();
        let first_and_empty = posted_plan.is_none() && report.plan.is_empty();
        if posted_plan.as_ref() != Some(&plan) && !first_and_empty {
            last_attempt = Some(Instant::now());
            let schema_path = report
                .schema
                .as_ref()
                .map_or(DEFAULT_SCHEMA_PATH, |s| s.path.as_str());
            let composed = comment::compose(
                &report,
                CommentContext {
                    diff: None,
                    apply_command: APPLY_COMMAND,
                    schema_path,
                },
            );
            match target
                .github
                .upsert_issue(&target.repo, TITLE, &composed.markdown)
                .await
            {
                Ok(Upsert::Created { id, .. } | Upsert::Updated { id, .. }) => {
                    crate::errln!("serve: issue {}#{id} is up to date", target.repo);
                    posted_plan = Some(plan);
                }
                Ok(Upsert::NothingToUpdate) => posted_plan = Some(plan),
                Err(err) => {
                    crate::errln!("serve: cannot update the GitHub issue: {err}");
                    // Try again after the interval, whether or not another batch arrives.
                    continue;
                }
            }
        }
        changed.notified().await;
    }
}
