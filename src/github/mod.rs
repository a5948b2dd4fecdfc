//! The only module that speaks HTTP to GitHub: one sticky pull-request comment, found by a hidden
//! marker, created once and updated in place, with typed errors and bounded retries.
//!
//! Endpoints (GitHub REST, "issue comments": every pull request is an issue, so the PR's
//! conversation comments live under `/issues/{n}/comments`):
//! `GET /repos/{o}/{r}/issues/{n}/comments?per_page=100`, `POST` to the same path, and
//! `PATCH /repos/{o}/{r}/issues/comments/{id}`. `serve` keeps one issue the same way:
//! `GET /repos/{o}/{r}/issues?state=open`, `POST /repos/{o}/{r}/issues` and
//! `PATCH /repos/{o}/{r}/issues/{n}`.
//!
//! `actions.rs` reads and writes the GitHub Actions environment `pr` runs in; it sends nothing.

pub(crate) mod actions;

pub(crate) use crate::secret::Secret;
pub(crate) use crate::transport::RetryPolicy;
use crate::transport::{Failure, Transport};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Hidden first line of the bot's comment; how later runs find the comment to update.
pub(crate) const MARKER: &str = "<!-- ba-index-advisor -->";
/// The REST API version the requests are written against.
pub(crate) const API_VERSION: &str = "2022-11-28";
/// Public GitHub; Enterprise Server sets `GITHUB_API_URL` to its own `/api/v3`.
pub(crate) const DEFAULT_API_URL: &str = "https://api.github.com";
const PER_PAGE: u32 = 100;
/// The longest a request to GitHub may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A runaway `Link: rel="next"` chain stops here (100 000 comments).
const MAX_PAGES: u32 = 1000;

/// The API base: the flag, else `GITHUB_API_URL` (set in Actions, and by Enterprise Server),
/// else public GitHub.
pub(crate) fn api_url(flag: Option<&str>) -> String {
    flag.map(str::to_owned)
        .or_else(|| crate::env::nonempty("GITHUB_API_URL"))
        .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
}

/// The GitHub client's retries, its first backoff as the environment sets it.
pub(crate) fn retry_policy() -> RetryPolicy {
    RetryPolicy::default().with_env_base()
}

/// `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl std::str::FromStr for RepoName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match s.split_once('/') {
            Some((owner, name)) if valid(owner) && valid(name) => Ok(Self {
                owner: owner.to_owned(),
                name: name.to_owned(),
            }),
            _ => Err(format!(
                "`{s}` is not a repository name of the form OWNER/NAME"
            )),
        }
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// What the tool was doing when GitHub answered; names the request in every error.
#[derive(Debug, Clone)]
pub struct Action(String);

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error(
        "GitHub rejected the token while trying to {action} (401 {message}): the token is missing, \
         expired or revoked"
    )]
    Unauthorized { action: Action, message: String },
    #[error(
        "GitHub refused to {action} (403 {message}): the workflow needs `permissions: \
         pull-requests: write`, and on a pull request from a fork GITHUB_TOKEN is read-only"
    )]
    Forbidden { action: Action, message: String },
    #[error(
        "GitHub found nothing to {action} (404 {message}): check the repository and pull-request \
         number, and that the token can see the repository"
    )]
    NotFound { action: Action, message: String },
    #[error("GitHub did not accept the request to {action} (422 {message})")]
    Unprocessable { action: Action, message: String },
    #[error("GitHub rate limit hit while trying to {action}; {detail}")]
    RateLimited { action: Action, detail: String },
    #[error("GitHub answered {status} to {action} {attempts} times in a row; try again later")]
    Server {
        action: Action,
        status: StatusCode,
        attempts: u32,
    },
    #[error("GitHub answered {status} to {action}: {message}")]
    Unexpected {
        action: Action,
        status: StatusCode,
        message: String,
    },
    #[error("could not reach GitHub to {action} after {attempts} attempt(s): {source}")]
    Network {
        action: Action,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    #[error("GitHub's answer to {action} was not the expected JSON: {source}")]
    Decode {
        action: Action,
        #[source]
        source: reqwest::Error,
    },
    #[error("refusing to follow a pagination link to {url}: it is not under the API base {api}")]
    ForeignLink { url: String, api: String },
    #[error("could not build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

impl GithubError {
    /// The token cannot write to this pull request: the caller falls back to the job summary.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::Forbidden { .. })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

/// An issue, as the issues API lists it (pull requests are issues too, with `pull_request`).
#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    pub number: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
}

/// What [`GitHub::upsert_sticky`] or [`GitHub::upsert_issue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upsert {
    Created {
        id: u64,
        url: Option<String>,
    },
    Updated {
        id: u64,
        url: Option<String>,
    },
    /// There was no comment and the caller asked not to create one (an all-clear).
    NothingToUpdate,
}

/// A client for one GitHub API base (public GitHub, Enterprise Server, or a test server).
pub struct GitHub {
    transport: Transport,
    api: String,
    token: Secret,
}

impl fmt::Debug for GitHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHub")
            .field("api", &self.api)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl GitHub {
    pub fn new(api: &str, token: Secret, retry: RetryPolicy) -> Result<Self, GithubError> {
        let transport = Transport::new("GitHub", TIMEOUT, retry, vec![token.clone()])
            .map_err(GithubError::Client)?;
        Ok(Self {
            transport,
            api: api.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// Finds the comment carrying [`MARKER`] on the PR, following `Link: rel="next"` pages.
    pub async fn find_sticky(
        &self,
        repo: &RepoName,
        pr: u64,
    ) -> Result<Option<Comment>, GithubError> {
        let action = Action(format!("list the comments of {repo}#{pr}"));
        let url = format!(
            "{}/repos/{}/{}/issues/{pr}/comments?per_page={PER_PAGE}",
            self.api, repo.owner, repo.name
        );
        self.find_marked(url, &action, |c: &Comment| {
            c.body.as_deref().is_some_and(|b| b.contains(MARKER))
        })
        .await
    }

    /// Finds the open issue (not a pull request) whose body carries [`MARKER`].
    pub async fn find_issue(&self, repo: &RepoName) -> Result<Option<Issue>, GithubError> {
        let action = Action(format!("list the open issues of {repo}"));
        let url = format!(
            "{}/repos/{}/{}/issues?state=open&per_page={PER_PAGE}",
            self.api, repo.owner, repo.name
        );
        self.find_marked(url, &action, |i: &Issue| {
            i.pull_request.is_none() && i.body.as_deref().is_some_and(|b| b.contains(MARKER))
        })
        .await
    }

    /// The first item of a paged list that `wanted` accepts, following `Link: rel="next"`.
    async fn find_marked<T: serde::de::DeserializeOwned>(
        &self,
        mut url: String,
        action: &Action,
        wanted: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, GithubError> {
        for _ in 0..MAX_PAGES {
            let response = self.send(Method::GET, &url, None, action).await?;
            let next = next_link(response.headers());
            let items: Vec<T> = response
                .json()
                .await
                .map_err(|source| GithubError::Decode {
                    action: action.clone(),
                    source,
                })?;
            if let Some(found) = items.into_iter().find(|item| wanted(item)) {
                return Ok(Some(found));
            }
            match next {
                // The token goes with every request, so only follow links that stay on the API.
                Some(next) if next.starts_with(&format!("{}/", self.api)) => url = next,
                Some(next) => {
                    return Err(GithubError::ForeignLink {
                        url: next,
                        api: self.api.clone(),
                    });
                }
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    pub async fn create_comment(
        &self,
        repo: &RepoName,
        pr: u64,
        body: &str,
    ) -> Result<Comment, GithubError> {
        let action = Action(format!("comment on {repo}#{pr}"));
        let url = format!(
            "{}/repos/{}/{}/issues/{pr}/comments",
            self.api, repo.owner, repo.name
        );
        let payload = serde_json::json!({ "body": body });
        self.send_json(Method::POST, &url, &payload, &action).await
    }

    pub async fn update_comment(
        &self,
        repo: &RepoName,
        id: u64,
        body: &str,
    ) -> Result<Comment, GithubError> {
        let action = Action(format!("update comment {id} on {repo}"));
        let url = format!(
            "{}/repos/{}/{}/issues/comments/{id}",
            self.api, repo.owner, repo.name
        );
        let payload = serde_json::json!({ "body": body });
        self.send_json(Method::PATCH, &url, &payload, &action).await
    }

    /// Creates or updates the one comment identified by [`MARKER`] (prepended when `body` lacks
    /// it). With `create_if_missing` false, a PR without the comment is left alone.
    pub async fn upsert_sticky(
        &self,
        repo: &RepoName,
        pr: u64,
        body: &str,
        create_if_missing: bool,
    ) -> Result<Upsert, GithubError> {
        let body = if body.starts_with(MARKER) {
            body.to_owned()
        } else {
            format!("{MARKER}\n{body}")
        };
        if let Some(existing) = self.find_sticky(repo, pr).await? {
            match self.update_comment(repo, existing.id, &body).await {
                Ok(c) => {
                    return Ok(Upsert::Updated {
                        id: c.id,
                        url: c.html_url,
                    });
                }
                // Deleted between listing and updating: fall through to create a new one.
                Err(GithubError::NotFound { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        if !create_if_missing {
            return Ok(Upsert::NothingToUpdate);
        }
        let c = self.create_comment(repo, pr, &body).await?;
        Ok(Upsert::Created {
            id: c.id,
            url: c.html_url,
        })
    }

    /// Creates or updates the one open issue identified by [`MARKER`] (prepended when `body`
    /// lacks it). The title is set only when the issue is created.
    pub async fn upsert_issue(
        &self,
        repo: &RepoName,
        title: &str,
        body: &str,
    ) -> Result<Upsert, GithubError> {
        let body = if body.starts_with(MARKER) {
            body.to_owned()
        } else {
            format!("{MARKER}\n{body}")
        };
        if let Some(existing) = self.find_issue(repo).await? {
            let action = Action(format!("update issue {repo}#{}", existing.number));
            let url = format!(
                "{}/repos/{}/{}/issues/{}",
                self.api, repo.owner, repo.name, existing.number
            );
            let payload = serde_json::json!({ "body": body });
            let issue: Issue = self
                .send_json(Method::PATCH, &url, &payload, &action)
                .await?;
            return Ok(Upsert::Updated {
                id: issue.number,
                url: issue.html_url,
            });
        }
        let action = Action(format!("open an issue on {repo}"));
        let url = format!("{}/repos/{}/{}/issues", self.api, repo.owner, repo.name);
        let payload = serde_json::json!({ "title": title, "body": body });
        let issue: Issue = self
            .send_json(Method::POST, &url, &payload, &action)
            .await?;
        Ok(Upsert::Created {
            id: issue.number,
            url: issue.html_url,
        })
    }

    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        payload: &serde_json::Value,
        action: &Action,
    ) -> Result<T, GithubError> {
        self.send(method, url, Some(payload), action)
            .await?
            .json()
            .await
            .map_err(|source| GithubError::Decode {
                action: action.clone(),
                source,
            })
    }

    /// One request with the API headers, retried on rate limits, 5xx and network errors.
    async fn send(
        &self,
        method: Method,
        url: &str,
        payload: Option<&serde_json::Value>,
        action: &Action,
    ) -> Result<reqwest::Response, GithubError> {
        let build = |client: &reqwest::Client| {
            let request = client
                .request(method.clone(), url)
                .bearer_auth(self.token.expose())
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", API_VERSION);
            match payload {
                Some(payload) => request.json(payload),
                None => request,
            }
        };
        self.transport
            .send(Some(action), build)
            .await
            .map_err(|failure| self.error(failure, action))
    }

    fn error(&self, failure: Failure, action: &Action) -> GithubError {
        let action = action.clone();
        match failure {
            Failure::Network { attempts, source } => GithubError::Network {
                action,
                attempts,
                source,
            },
            Failure::RateLimited {
                wait,
                too_long: true,
                body,
                ..
            } => GithubError::RateLimited {
                action,
                detail: format!(
                    "it resets in {}s, longer than the {}s this tool waits ({})",
                    wait.as_secs(),
                    self.transport.retry().max_wait.as_secs(),
                    error_message(&body)
                ),
            },
            Failure::RateLimited { attempts, body, .. } => GithubError::RateLimited {
                action,
                detail: format!(
                    "gave up after {attempts} attempts ({})",
                    error_message(&body)
                ),
            },
            Failure::Server { status, attempts } => GithubError::Server {
                action,
                status,
                attempts,
            },
            Failure::Status { status, body } => status_error(status, action, error_message(&body)),
        }
    }
}

fn status_error(status: StatusCode, action: Action, message: String) -> GithubError {
    match status {
        StatusCode::UNAUTHORIZED => GithubError::Unauthorized { action, message },
        StatusCode::FORBIDDEN => GithubError::Forbidden { action, message },
        StatusCode::NOT_FOUND => GithubError::NotFound { action, message },
        StatusCode::UNPROCESSABLE_ENTITY => GithubError::Unprocessable { action, message },
        _ => GithubError::Unexpected {
            action,
            status,
            message,
        },
    }
}

/// GitHub's error bodies are `{"message": …, "errors": [...]}`; show the message and the
/// validation details (a 422 says which field was wrong, e.g. "body is too long").
fn error_message(text: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        let text: String = text.chars().take(200).collect();
        return text.trim().to_owned();
    };
    let mut message = json
        .get("message")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_owned();
    if let Some(errors) = json.get("errors").and_then(|e| e.as_array()) {
        let details: Vec<String> = errors
            .iter()
            .map(|e| {
                e.get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| e.to_string())
            })
            .collect();
        if !details.is_empty() {
            message = format!("{message}: {}", details.join("; "));
        }
    }
    message
}

/// The `rel="next"` URL of an RFC 8288 `Link` header, as GitHub sends for pagination.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let is_next = params.split(';').any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            });
            let target = target.trim();
            (is_next && target.starts_with('<') && target.ends_with('>'))
                .then(|| target[1..target.len() - 1].to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::tests::headers;

    #[test]
    fn next_link_is_found_among_other_relations() {
        let h = headers(&[(
            "link",
            r#"<https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=1>; rel="prev", <https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=3>; rel="next", <https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=9>; rel="last""#,
        )]);
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=3")
        );
        assert_eq!(next_link(&headers(&[])), None);
        let last_page = headers(&[("link", r#"<https://x/a?page=1>; rel="first""#)]);
        assert_eq!(next_link(&last_page), None);
    }

    #[test]
    fn token_never_prints() {
        let token = Secret::new("ghs_secret123");
        assert_eq!(format!("{token:?}"), "Secret(***)");
        assert_eq!(format!("{token}"), "***");
        assert_eq!(token.redact("auth ghs_secret123 x"), "auth *** x");
        let gh = GitHub::new("http://127.0.0.1:1", token, RetryPolicy::default()).unwrap();
        assert!(!format!("{gh:?}").contains("secret"));
    }

    #[test]
    fn repo_names_parse() {
        let r: RepoName = "acme/web-app.v2".parse().unwrap();
        assert_eq!((r.owner.as_str(), r.name.as_str()), ("acme", "web-app.v2"));
        assert!("acme".parse::<RepoName>().is_err());
        assert!("acme/".parse::<RepoName>().is_err());
        assert!("a/b/c".parse::<RepoName>().is_err());
    }
}
