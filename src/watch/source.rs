//! Where a live run's lines come from, each source started as a task that sends
//! `ingest::live::Event`s until it ends or is cancelled.

use crate::ingest::child::{self, Backoff, LogCommand};
use crate::ingest::follow::{self, FollowOptions};
use crate::ingest::lines::DEFAULT_MAX_LINE;
use crate::ingest::live::Event;
use crate::ingest::stdin;
use crate::logstore;
use anyhow::Context;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Where lines come from.
pub(crate) enum Source {
    Child(LogCommand),
    /// `--from`: the store, the needles to filter on, the first window, the interval and how
    /// each pull runs.
    Store(
        String,
        Box<logstore::LogStore>,
        Vec<String>,
        logstore::Window,
        Duration,
        logstore::PullOptions,
    ),
    File(PathBuf, FollowOptions),
    Stdin,
}

impl Source {
    pub(crate) fn name(&self) -> String {
        match self {
            Source::Child(c) => c.display(),
            Source::File(p, _) => p.display().to_string(),
            Source::Stdin => "<stdin>".into(),
            Source::Store(name, ..) => name.clone(),
        }
    }

    pub(crate) fn spawn(
        self,
        tx: mpsc::Sender<Event>,
        cancel: CancellationToken,
    ) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
        Ok(match self {
            Source::Child(command) => tokio::spawn(async move {
                child::supervise(command, Backoff::default(), DEFAULT_MAX_LINE, tx, cancel)
                    .await
                    .map_err(anyhow::Error::from)
            }),
            Source::File(path, options) => tokio::spawn(async move {
                follow::follow(path, options, tx, cancel)
                    .await
                    .map_err(anyhow::Error::from)
            }),
            Source::Store(_, store, needles, first, every, options) => tokio::spawn(async move {
                logstore::poll(*store, needles, first, every, options, tx, cancel)
                    .await
                    .map_err(anyhow::Error::from)
            }),
            Source::Stdin => {
                stdin::spawn_stdin_reader(tx, DEFAULT_MAX_LINE)
                    .context("cannot start the stdin reader")?;
                tokio::spawn(async { Ok(()) })
            }
        })
    }
}
