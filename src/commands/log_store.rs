//! `--from axiom|datadog`: the arguments a command takes to read logs where they already live,
//! resolved into a pull through `logstore` and read by the engine like an export.

use crate::engine::{Collected, Engine};
use crate::env;
use crate::logstore::{self, LogStore, PullOptions, Pulled, Secret, Window, axiom, datadog};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// Axiom's APL query API (token in AXIOM_TOKEN, org in AXIOM_ORG_ID).
    Axiom,
    /// Datadog's Logs Search API (keys in DD_API_KEY and DD_APP_KEY).
    Datadog,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Log store (--from)")]
pub struct StoreArgs {
    /// Read the logs from a log store, filtered on its side to the index warnings and errors,
    /// instead of files.
    #[arg(long, value_enum, value_name = "STORE")]
    pub from: Option<StoreKind>,
    /// Axiom: the dataset the Convex log stream writes to.
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<String>,
    /// How far back to read (s, m, h, d, w) [default: 30d].
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["start", "end"])]
    pub since: Option<String>,
    /// Start of the window (RFC 3339), with --end.
    #[arg(long, value_name = "TIME", requires = "end")]
    pub start: Option<String>,
    /// End of the window (RFC 3339), with --start.
    #[arg(long, value_name = "TIME", requires = "start")]
    pub end: Option<String>,
    /// Stop after this many matching events.
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// The longest time range one query covers: a longer window is read slice by slice, and a
    /// slice the store answers only in part is read again in halves [default: 1d].
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_duration)]
    pub slice: Option<std::time::Duration>,
    /// Events per request [default: 10000 for Axiom, 1000 for Datadog].
    #[arg(long, value_name = "N")]
    pub page_size: Option<usize>,
    /// Axiom's API (an edge deployment's URL) [default: https://api.axiom.co].
    #[arg(long, value_name = "URL")]
    pub axiom_url: Option<String>,
    /// Datadog: the site of the organisation.
    #[arg(long, value_name = "SITE", default_value = "us1",
          value_parser = ["us1", "us3", "us5", "eu", "ap1"])]
    pub site: String,
    /// Datadog: the API's base URL, instead of the site's.
    #[arg(long, value_name = "URL")]
    pub datadog_url: Option<String>,
    /// Datadog: more search terms, ANDed to the filter (e.g. `host:happy-otter-123`).
    #[arg(long, value_name = "EXTRA")]
    pub query: Option<String>,
}

impl StoreArgs {
    pub fn window(&self, now: SystemTime) -> anyhow::Result<Window> {
        let window = match (&self.start, &self.end) {
            (Some(start), Some(end)) => Window::between(start, end),
            _ => Window::since(self.since.as_deref().unwrap_or("30d"), now),
        };
        window.map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// The cap, the slice length, and a progress bar when `progress` and stderr is a terminal.
    pub fn pull_options(&self, progress: bool) -> PullOptions {
        let slice = self.slice.unwrap_or(logstore::DEFAULT_SLICE);
        let progress = if progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} {bar:30} {percent:>3}% of the window · {msg} · eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            )
        } else {
            indicatif::ProgressBar::hidden()
        };
        PullOptions {
            max_events: self.max_events,
            slice,
            progress,
        }
    }
}

/// What a pull read, for the engine and for the user.
pub struct Pull {
    pub collected: Collected,
    pub source: String,
    pub requests: u64,
    pub bytes: u64,
    pub events: usize,
}

/// The store `--from` names, configured from the flags and the environment, and the name its
/// events are reported under.
pub fn open(store: StoreKind, args: &StoreArgs) -> anyhow::Result<(String, LogStore)> {
    let retry = logstore::retry_policy();
    Ok(match store {
        StoreKind::Axiom => {
            let Some(dataset) = args.dataset.as_deref() else {
                bail!("--from axiom needs --dataset NAME (the dataset the log stream writes to)");
            };
            let Some(token) = env::nonempty("AXIOM_TOKEN") else {
                bail!(
                    "no Axiom token: $AXIOM_TOKEN is empty or unset (an API token with query \
                     access to the dataset)"
                );
            };
            let url = args.axiom_url.as_deref().unwrap_or(axiom::DEFAULT_URL);
            let org = env::nonempty("AXIOM_ORG_ID").map(Secret::new);
            let mut client = axiom::Axiom::new(url, Secret::new(token), org, dataset, retry)?;
            if let Some(rows) = args.page_size {
                client = client.with_page_rows(rows);
            }
            (format!("axiom:{dataset}"), LogStore::Axiom(client))
        }
        StoreKind::Datadog => {
            let (Some(api_key), Some(app_key)) =
                (env::nonempty("DD_API_KEY"), env::nonempty("DD_APP_KEY"))
            else {
                bail!(
                    "no Datadog keys: $DD_API_KEY and $DD_APP_KEY must both be set (an API key, \
                     and an application key with the logs_read_data scope)"
                );
            };
            let url = match &args.datadog_url {
                Some(url) => url.clone(),
                None => datadog::site_url(&args.site)
                    .unwrap_or(datadog::site_url("us1").unwrap_or_default())
                    .to_owned(),
            };
            let mut client = datadog::Datadog::new(
                &url,
                Secret::new(api_key),
                Secret::new(app_key),
                args.query.clone(),
                retry,
            )?;
            if let Some(limit) = args.page_size {
                client = client.with_page_limit(limit);
            }
            (format!("datadog:{}", args.site), LogStore::Datadog(client))
        }
    })
}

/// Pulls the matches from the store in `window` and reads them with the engine.
pub fn pull(
    store: StoreKind,
    args: &StoreArgs,
    window: &Window,
    engine: &Engine,
) -> anyhow::Result<Pull> {
    let needles = engine.matcher().rules().needles();
    let options = args.pull_options(true);
    let (source, store) = open(store, args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let pulled: Pulled = runtime.block_on(store.pull(&needles, window, &options))?;
    let events = pulled.events.len();
    let coverage = pulled.coverage(&source);
    let mut collected = engine.read_events(&source, pulled.events);
    collected.cover(coverage);
    for note in pulled.notes {
        collected.note(note);
    }
    Ok(Pull {
        collected,
        source,
        requests: pulled.requests,
        bytes: pulled.bytes,
        events,
    })
}
