//! `serve`: arguments and environment → `ServeSettings` → the daemon in `crate::serve`.

use crate::commands::engine_args::EngineArgs;
use crate::config::Config;
use crate::duration::{parse_duration, parse_size};
use crate::engine::EngineSettings;
use crate::env;
use crate::github::{self, GitHub, RepoName};
use crate::secret::Secret;
use crate::serve::signature::Verifier;
use crate::serve::{self, IssueTarget, ServeSettings};
use anyhow::{Context, bail};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Where the read token comes from when `serve` listens beyond loopback.
pub const API_TOKEN_ENV: &str = "BA_INDEX_ADVISOR_API_TOKEN";

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    BA_INDEX_ADVISOR_WEBHOOK_SECRET=… ba-index-advisor serve\n  \
    BA_INDEX_ADVISOR_WEBHOOK_SECRET=old,new ba-index-advisor serve --db /var/lib/ba-index-advisor/state.db\n  \
    BA_INDEX_ADVISOR_API_TOKEN=… ba-index-advisor serve --listen 0.0.0.0:8787\n  \
    GITHUB_TOKEN=… ba-index-advisor serve --github-issue acme/app --notify-every 30m\n\n\
    Point a Convex log stream (webhook, json or jsonl) at http(s)://<host>/log-stream. \
    Secrets come from the environment only: several comma-separated webhook secrets are all \
    accepted, so a secret can be rotated without downtime.")]
pub struct ServeArgs {
    /// The address to listen on, an IP or a host name with a port (`localhost:8787`: resolved
    /// once at start, its first IPv4 address preferred). Beyond loopback, reads need
    /// BA_INDEX_ADVISOR_API_TOKEN.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787", value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// The SQLite database that keeps the state.
    #[arg(
        long,
        value_name = "FILE",
        default_value = ".ba-index-advisor/state.db"
    )]
    pub db: PathBuf,
    /// The environment variable holding the webhook secret(s), comma-separated.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "BA_INDEX_ADVISOR_WEBHOOK_SECRET"
    )]
    pub secret_env: String,
    /// The largest batch body accepted, in bytes (K, M, KiB and MiB suffixes allowed).
    #[arg(long, value_name = "BYTES", default_value = "8MiB", value_parser = parse_size)]
    pub max_body: u64,
    /// Batches whose first event is older than this are refused (400).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub max_age: Duration,
    /// Bodies with more events than this are refused (400); Convex sends at most 128.
    #[arg(long, value_name = "N", default_value = "1024",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_batch_events: u32,
    /// Batches with an event dated further ahead of this machine's clock are refused (400).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub max_skew: Duration,
    /// How long an execution's usage is kept waiting for a warning naming its request (the
    /// warning is logged during the execution, its usage at the end: seconds apart).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub pending_ttl: Duration,
    /// Keep one issue of this repository up to date with the plan (token in GITHUB_TOKEN).
    #[arg(long, value_name = "OWNER/REPO")]
    pub github_issue: Option<RepoName>,
    /// Update the issue at most this often.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration,
          requires = "github_issue")]
    pub notify_every: Duration,
    /// GitHub's REST API base [default: $GITHUB_API_URL, else https://api.github.com].
    #[arg(long, value_name = "URL", requires = "github_issue")]
    pub github_api_url: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `HOST:PORT` or `IP:PORT` → the address to bind: a host name is resolved by the system
/// resolver, and its first IPv4 address is taken (else its first address), so `localhost`
/// binds where `127.0.0.1` would.
fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let resolved: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(text)
        .map_err(|err| format!("cannot resolve {text:?} (HOST:PORT or IP:PORT): {err}"))?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}

pub fn run(args: ServeArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let secrets = std::env::var(&args.secret_env)
        .map(|list| Verifier::secrets_from(&list))
        .unwrap_or_default();
    let Some(verifier) = Verifier::new(&secrets) else {
        bail!(
            "no webhook secret: ${} is empty or unset (the secret Convex shows for the log \
             stream; several, comma-separated, while rotating)",
            args.secret_env
        );
    };
    let api_token = env::nonempty(API_TOKEN_ENV).map(Secret::new);
    let issue = match &args.github_issue {
        Some(repo) => {
            let Some(token) = env::nonempty("GITHUB_TOKEN") else {
                bail!("--github-issue needs a token with issues: write in $GITHUB_TOKEN");
            };
            let api = github::api_url(args.github_api_url.as_deref());
            Some(IssueTarget {
                github: GitHub::new(&api, Secret::new(token), github::retry_policy())?,
                repo: repo.clone(),
                every: args.notify_every,
            })
        }
        None => None,
    };
    let flags = args.engine.flags(None);
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let engine = EngineSettings::resolve(config, flags, cwd);
    serve::run(
        ServeSettings {
            listen: args.listen,
            db: args.db,
            verifier,
            api_token,
            max_body: args.max_body,
            max_age: args.max_age,
            max_batch_events: args.max_batch_events as usize,
            max_skew: args.max_skew,
            pending_ttl: args.pending_ttl,
            issue,
        },
        engine,
    )?;
    Ok(ExitCode::SUCCESS)
}
