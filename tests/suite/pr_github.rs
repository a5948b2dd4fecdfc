//! `pr` against a fake GitHub API on loopback: the real binary, the exact requests it sends, what
//! the user sees, and that the token never leaks. The fake's helpers are `pub(crate)`: the
//! GitHub Action's test (`npm_package`) talks to the same fake.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Also quoted in the fixture report's notes, as a log line might: it must be redacted there too.
pub(crate) const TOKEN: &str = "ghs_TEST_TOKEN_do_not_leak_0123456789";
pub(crate) const MARKER: &str = "<!-- ba-index-advisor -->";
pub(crate) const LIST: &str = "/repos/acme/web/issues/7/comments";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    summary: String,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pr")
        .join(name)
}

/// The event file of a `pull_request` run for acme/web#7, as `GITHUB_EVENT_PATH` names it.
pub(crate) fn pull_request_event(dir: &Path) -> PathBuf {
    let event = dir.join("event.json");
    std::fs::write(
        &event,
        json!({"action": "synchronize", "number": 7, "pull_request": {"number": 7}}).to_string(),
    )
    .unwrap();
    event
}

/// Runs `ba-index-advisor pr --from-report <report> <extra>` as GitHub Actions would.
async fn run_pr(api: &str, report: &str, extra: &[&str]) -> Run {
    let report = fixture(report);
    run_pr_with(api, &["--from-report".as_ref(), report.as_os_str()], extra).await
}

/// Runs `ba-index-advisor pr <input> <extra>` as GitHub Actions would, with the API at `api`.
async fn run_pr_with(api: &str, input: &[&std::ffi::OsStr], extra: &[&str]) -> Run {
    let dir = TempDir::new().unwrap();
    let event = pull_request_event(dir.path());
    let summary = dir.path().join("step_summary.md");
    let mut cmd = cargo_bin_cmd!("ba-index-advisor");
    cmd.env_clear()
        .arg("pr")
        .args(input)
        .args(extra)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "acme/web")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_API_URL", api)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("BA_INDEX_ADVISOR_RETRY_BASE_MS", "1");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
    };
    for (what, text) in [
        ("stdout", &run.stdout),
        ("stderr", &run.stderr),
        ("summary", &run.summary),
    ] {
        assert!(
            !text.contains(TOKEN),
            "the token leaked into {what}:\n{text}"
        );
    }
    drop(dir);
    run
}

/// The comment body the real binary composes for a report, via `--dry-run`.
async fn expected_body(report: &str) -> String {
    let run = run_pr("http://127.0.0.1:9", report, &["--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    format!("{MARKER}\n{}", run.stdout)
}

/// Every request the server saw, as `METHOD /path?query`, after checking each one's headers and
/// that no body carries the token.
pub(crate) async fn requests(server: &MockServer) -> (Vec<String>, Vec<Request>) {
    let requests = server.received_requests().await.unwrap();
    for r in &requests {
        let header = |name: &str| r.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("authorization"), Some(format!("Bearer {TOKEN}")));
        assert_eq!(
            header("accept").as_deref(),
            Some("application/vnd.github+json")
        );
        assert_eq!(
            header("x-github-api-version").as_deref(),
            Some("2022-11-28")
        );
        assert!(
            header("user-agent")
                .unwrap()
                .starts_with("ba-index-advisor/")
        );
        assert!(
            !String::from_utf8_lossy(&r.body).contains(TOKEN),
            "token in a request body"
        );
    }
    let lines = requests
        .iter()
        .map(|r| match r.url.query() {
            Some(q) => format!("{} {}?{q}", r.method, r.url.path()),
            None => format!("{} {}", r.method, r.url.path()),
        })
        .collect();
    (lines, requests)
}

pub(crate) fn body_of(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

pub(crate) fn comments(list: &[(u64, &str)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(id, body)| {
                json!({"id": id, "body": body, "html_url": format!("https://github.com/acme/web/pull/7#issuecomment-{id}")})
            })
            .collect(),
    )
}

pub(crate) fn created(id: u64) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(comments(&[(id, "x")])[0].clone())
}

pub(crate) async fn list_returns(server: &MockServer, list: Value) {
    Mock::given(method("GET"))
        .and(path(LIST))
        .and(query_param("per_page", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list))
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_the_comment_when_the_pr_has_none() {
    let server = MockServer::start().await;
    list_returns(&server, comments(&[(1, "LGTM"), (2, "please add tests")])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(created(555))
        .mount(&server)
        .await;

    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "Commented on acme/web#7: https://github.com/acme/web/pull/7#issuecomment-555"
        )
    );

    let (lines, reqs) = requests(&server).await;
    assert_eq!(
        lines,
        [format!("GET {LIST}?per_page=100"), format!("POST {LIST}")]
    );
    let expected = expected_body("report.json").await;
    assert_eq!(body_of(&reqs[1]), json!({ "body": expected }));
    // What the reviewer reads: the findings, the change, how to apply it; the quoted token redacted.
    let body = body_of(&reqs[1])["body"].as_str().unwrap().to_owned();
    assert!(body.starts_with(MARKER));
    assert!(body.contains("**2 indexes to add** to `convex/betterAuth/schema.ts`"));
    assert!(body.contains(
        "| `session` | `token`, `expiresAt` | 14 (9 runs) | `auth:getSession` ×11, `http:GET /api/auth/get-session` ×3 | new: `token_expiresAt` |"
    ));
    assert!(body.contains(
        "member: tables.member.index(\"organizationId_userId\", [\"organizationId\", \"userId\"] /* added by ba-index-advisor */),"
    ));
    assert!(body.contains("npx ba-index-advisor apply convex-logs.jsonl"));
    assert!(body.contains("A deployment log line quoted a token: ***"));
    // The job summary gets the same markdown.
    assert_eq!(run.summary, format!("{}\n", &expected[MARKER.len() + 1..]));
}

#[tokio::test(flavor = "multi_thread")]
async fn follows_the_link_header_and_finds_the_comment_on_page_two() {
    let server = MockServer::start().await;
    let page1: Vec<(u64, String)> = (1..=100).map(|i| (i, format!("comment {i}"))).collect();
    let page1: Vec<(u64, &str)> = page1.iter().map(|(i, b)| (*i, b.as_str())).collect();
    let next = format!(
        "{}/repositories/42/issues/7/comments?per_page=100&page=2",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(LIST))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!("<{next}>; rel=\"next\", <{next}>; rel=\"last\"").as_str(),
                )
                .set_body_json(comments(&page1)),
        )
        .mount(&server)
        .await;
    let old = format!("{MARKER}\n### Better Auth index advisor\n\nold findings");
    Mock::given(method("GET"))
        .and(path("/repositories/42/issues/7/comments"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(comments(&[(101, "hm"), (9002, &old)])),
        )
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/web/issues/comments/9002"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comments(&[(9002, "x")])[0].clone()))
        .mount(&server)
        .await;

    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("Updated the comment on acme/web#7"));
    let (lines, reqs) = requests(&server).await;
    assert_eq!(
        lines,
        [
            format!("GET {LIST}?per_page=100"),
            "GET /repositories/42/issues/7/comments?per_page=100&page=2".to_owned(),
            "PATCH /repos/acme/web/issues/comments/9002".to_owned(),
        ]
    );
    assert_eq!(
        body_of(&reqs[2]),
        json!({ "body": expected_body("report.json").await })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_the_existing_comment_in_place() {
    let server = MockServer::start().await;
    let old = format!("{MARKER}\nold");
    list_returns(&server, comments(&[(1, "LGTM"), (77, &old)])).await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/web/issues/comments/77"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comments(&[(77, "x")])[0].clone()))
        .mount(&server)
        .await;

    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (lines, reqs) = requests(&server).await;
    assert_eq!(
        lines,
        [
            format!("GET {LIST}?per_page=100"),
            "PATCH /repos/acme/web/issues/comments/77".to_owned(),
        ]
    );
    assert_eq!(
        body_of(&reqs[1]),
        json!({ "body": expected_body("report.json").await })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn all_clear_updates_the_existing_comment() {
    let server = MockServer::start().await;
    let old = format!("{MARKER}\n**2 indexes to add**");
    list_returns(&server, comments(&[(77, &old)])).await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/web/issues/comments/77"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comments(&[(77, "x")])[0].clone()))
        .mount(&server)
        .await;

    let run = run_pr(&server.uri(), "all-clear.json", &["--fail-on-suggestions"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (lines, reqs) = requests(&server).await;
    assert_eq!(
        lines,
        [
            format!("GET {LIST}?per_page=100"),
            "PATCH /repos/acme/web/issues/comments/77".to_owned(),
        ]
    );
    let body = body_of(&reqs[1])["body"].as_str().unwrap().to_owned();
    assert_eq!(body, expected_body("all-clear.json").await);
    assert!(body.contains(
        "**All clear:** the logs of this run show no Better Auth query without an index."
    ));
    assert!(!body.contains("```diff"));
}

#[tokio::test(flavor = "multi_thread")]
async fn all_clear_without_a_comment_posts_nothing() {
    let server = MockServer::start().await;
    list_returns(&server, comments(&[(1, "LGTM")])).await;

    let run = run_pr(&server.uri(), "all-clear.json", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("All clear on acme/web#7, and no earlier comment to update: nothing posted.")
    );
    let (lines, _) = requests(&server).await;
    assert_eq!(lines, [format!("GET {LIST}?per_page=100")]);
    // The job summary still says so.
    assert!(run.summary.contains("**All clear:**"));
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_suggestions_exits_1_after_commenting() {
    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(created(5))
        .mount(&server)
        .await;
    let run = run_pr(&server.uri(), "report.json", &["--fail-on-suggestions"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let (lines, _) = requests(&server).await;
    assert_eq!(
        lines,
        [format!("GET {LIST}?per_page=100"), format!("POST {LIST}")]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_the_comment_and_sends_nothing() {
    let server = MockServer::start().await;
    let run = run_pr(&server.uri(), "report.json", &["--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("### Better Auth index advisor\n"));
    assert!(run.summary.is_empty());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthorized_is_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401"
        })))
        .mount(&server)
        .await;
    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim(),
        "error: GitHub rejected the token while trying to list the comments of acme/web#7 \
         (401 Bad credentials): the token is missing, expired or revoked"
    );
    let (lines, _) = requests(&server).await;
    assert_eq!(
        lines,
        [format!("GET {LIST}?per_page=100")],
        "a 401 is not retried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_falls_back_to_the_job_summary() {
    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "status": "403"
        })))
        .mount(&server)
        .await;
    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains(
        "warning: GitHub refused to comment on acme/web#7 (403 Resource not accessible by \
         integration): the workflow needs `permissions: pull-requests: write`, and on a pull \
         request from a fork GITHUB_TOKEN is read-only"
    ));
    assert!(
        run.stderr
            .contains("The report was written to the job summary instead.")
    );
    assert!(run.summary.contains("**2 indexes to add**"));
    assert!(run.summary.contains(
        "> [!WARNING]\n> This report could not be posted on the pull request: GitHub refused to \
         comment on acme/web#7 (403 Resource not accessible by integration)"
    ));
    let (lines, _) = requests(&server).await;
    assert_eq!(
        lines,
        [format!("GET {LIST}?per_page=100"), format!("POST {LIST}")]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_is_retried_after_the_wait_github_asks_for() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIST))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(json!({"message": "You have exceeded a secondary rate limit"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(created(9))
        .mount(&server)
        .await;
    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains(
        "GitHub answered 429 (rate limited) to list the comments of acme/web#7; retrying in 0.0s (retry 1 of 3)"
    ));
    let (lines, _) = requests(&server).await;
    assert_eq!(
        lines,
        [
            format!("GET {LIST}?per_page=100"),
            format!("GET {LIST}?per_page=100"),
            format!("POST {LIST}"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn primary_rate_limit_resetting_too_late_fails_without_waiting() {
    let server = MockServer::start().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3_000;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({"message": "API rate limit exceeded"})),
        )
        .mount(&server)
        .await;
    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(
        "GitHub rate limit hit while trying to list the comments of acme/web#7; it resets in"
    ));
    assert!(
        run.stderr
            .contains("longer than the 60s this tool waits (API rate limit exceeded)")
    );
    assert_eq!(requests(&server).await.0.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_error_is_retried_with_backoff() {
    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(created(10))
        .mount(&server)
        .await;
    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("GitHub answered 500 to comment on acme/web#7; retrying in")
    );
    let (lines, reqs) = requests(&server).await;
    assert_eq!(
        lines,
        [
            format!("GET {LIST}?per_page=100"),
            format!("POST {LIST}"),
            format!("POST {LIST}")
        ]
    );
    assert_eq!(body_of(&reqs[1]), body_of(&reqs[2]));
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_server_errors_give_up_after_bounded_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(
        "error: GitHub answered 502 Bad Gateway to list the comments of acme/web#7 4 times in a row"
    ));
    assert_eq!(requests(&server).await.0.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_and_unprocessable_are_explained() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&server)
        .await;
    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(
        "GitHub found nothing to list the comments of acme/web#7 (404 Not Found): check the \
         repository and pull-request number"
    ));

    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "Validation Failed",
            "errors": [{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}]
        })))
        .mount(&server)
        .await;
    let run = run_pr(&server.uri(), "report.json", &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(
        "GitHub did not accept the request to comment on acme/web#7 (422 Validation Failed: body \
         is too long (maximum is 65536 characters))"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_api_is_a_network_error() {
    // Nothing listens on port 9 (discard) on loopback in the test environment.
    let run = run_pr("http://127.0.0.1:9", "report.json", &[]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "error: could not reach GitHub to list the comments of acme/web#7 after 4 attempt(s)"
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn comments_what_the_e2e_logs_show() {
    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(created(12))
        .mount(&server)
        .await;
    let logs = fixture("e2e-run.log");
    let run = run_pr_with(&server.uri(), &[logs.as_os_str()], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (lines, reqs) = requests(&server).await;
    assert_eq!(
        lines,
        [format!("GET {LIST}?per_page=100"), format!("POST {LIST}")]
    );
    let body = body_of(&reqs[1])["body"].as_str().unwrap().to_owned();
    assert!(body.contains("**1 index to add**"));
    assert!(body.contains(
        "| `member` | `organizationId`, `userId` | 2 | \
         `organizations/invitations/queries:listInvitations` ×2 | new: `organizationId_userId` |"
    ));
    assert!(body.contains("| `member` | `organizationId` | 1 |"));
    assert!(
        body.contains("npx ba-index-advisor apply convex-logs.jsonl")
            && !body.contains(&format!("apply {}", logs.display()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_logs_post_nothing() {
    let server = MockServer::start().await;
    let run = run_pr_with(&server.uri(), &["missing.log".as_ref()], &[]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("error: 1 input(s) could not be read; nothing was posted")
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// The comment on the real JSONL sample against a real overlay: the head's count and the foot's
/// are one number in one word (every missing-index message read, the report's `signals`); rows
/// the pull request must act on come before rows the schema already serves; and the command
/// names the reader's own log dump, not the CI run's paths.
#[tokio::test]
async fn the_comment_counts_once_puts_new_rows_first_and_names_no_ci_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let logs = root.join("sample-logs/convex-logs.jsonl");
    let schema = root.join("tests/fixtures/schema/documented");
    let run = run_pr_with(
        "http://127.0.0.1:9",
        &[logs.as_os_str()],
        &["--dry-run", "--schema-dir", schema.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body = &run.stdout;
    let report = cargo_bin_cmd!("ba-index-advisor")
        .args(["report", "--format", "json", "--schema-dir"])
        .arg(&schema)
        .arg(&logs)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let signals = report["stats"]["signals"].as_u64().unwrap();
    let head = body
        .lines()
        .find(|l| l.contains("in the logs of this run"))
        .unwrap();
    let foot = body
        .lines()
        .find(|l| l.starts_with("<sub>ba-index-advisor"))
        .unwrap();
    let phrase = format!("{signals} occurrences");
    assert!(head.contains(&format!("({phrase} in the logs")), "{head}");
    assert!(foot.contains(&format!("read, {phrase}<")), "{foot}");
    assert!(!body.contains("signal"), "{body}");

    let statuses: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.rsplit('|').nth(1).unwrap_or("").trim())
        .collect();
    let served: Vec<usize> = (0..statuses.len())
        .filter(|&i| statuses[i].starts_with("already served"))
        .collect();
    let new: Vec<usize> = (0..statuses.len())
        .filter(|&i| statuses[i].starts_with("new"))
        .collect();
    assert!(!served.is_empty() && !new.is_empty(), "{statuses:?}");
    assert!(new.iter().max() < served.iter().min(), "{statuses:?}");

    assert!(!body.contains("sample-logs"), "{body}");
    assert!(!body.contains(root.to_str().unwrap()), "{body}");
    assert!(body.contains("npx ba-index-advisor apply"), "{body}");

    // The regenerate command the unknown-table rows need is printed once, as shell code, and
    // each of those rows points to it.
    let regenerate = "cd convex/betterAuth && npx auth generate --output generatedSchema.ts";
    assert_eq!(body.matches(regenerate).count(), 1, "{body}");
    assert!(body.contains(&format!("```sh\n{regenerate}\n")), "{body}");
    let pointing = statuses
        .iter()
        .filter(|s| s.contains("the command below the table"))
        .count();
    assert!(pointing >= 2, "{statuses:?}");
}
