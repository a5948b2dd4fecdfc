//! The daemon's durable state in SQLite (WAL): the hashes of committed batch bodies for a
//! bounded window, the events the engine kept (signals, suspects, problems, usage), and each
//! deployment's input counters. One transaction per batch; storage grows with matches, not
//! with log volume: an execution's usage is *pending* until a signal names its request id, and
//! dropped after `--pending-ttl` if none does. The schema is versioned with `PRAGMA user_version`
//! and migrated on open.

use crate::frame::ScanCounts;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The schema this build writes. Each entry of `MIGRATIONS` moves the database up one version.
pub(crate) const DATABASE_VERSION: i64 = 1;

const MIGRATIONS: &[&str] = &[
    // 0 → 1
    "CREATE TABLE batches (
        hash BLOB PRIMARY KEY,
        received_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX batches_by_time ON batches (received_ms);
     CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        deployment TEXT NOT NULL,
        stream_line INTEGER NOT NULL,
        deployment_line INTEGER NOT NULL,
        timestamp_ms INTEGER,
        event TEXT NOT NULL,
        request_id TEXT,
        pending_since_ms INTEGER
     );
     CREATE INDEX events_pending ON events (request_id) WHERE pending_since_ms IS NOT NULL;
     CREATE TABLE totals (
        deployment TEXT PRIMARY KEY,
        inputs INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        lines INTEGER NOT NULL,
        records INTEGER NOT NULL,
        suspects INTEGER NOT NULL,
        cached_replays INTEGER NOT NULL
     );",
];

/// The key the totals over every deployment are kept under (no deployment name is empty).
pub(crate) const ALL: &str = "";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: cannot open the database: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path}: cannot create its folder: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: the database is at schema version {found}, newer than this build's \
         {DATABASE_VERSION}: run the newer ba-index-advisor, or move the file away"
    )]
    Newer { path: PathBuf, found: i64 },
    #[error("{path}: cannot make it private to this user (mode 0600): {source}")]
    Permissions {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// The database holds log events (messages, function paths, request ids): only its owner reads
/// it, whatever the umask.
const PRIVATE: u32 = 0o600;

/// Creates `path` with mode 0600 if it is missing (an existing file is not truncated), and sets
/// 0600 on a file that has another mode.
fn make_private(path: &Path, create: bool) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let failed = |source| StoreError::Permissions {
        path: path.to_path_buf(),
        source,
    };
    if create {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(PRIVATE)
            .open(path)
            .map_err(failed)?;
    }
    let mode = match std::fs::metadata(path) {
        Ok(metadata) => metadata.permissions().mode() & 0o777,
        Err(err) if !create && err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(failed(err)),
    };
    if mode != PRIVATE {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE)).map_err(failed)?;
        tracing::warn!("{}: mode {mode:03o} changed to 0600", path.display());
    }
    Ok(())
}

/// `state.db` → `state.db-wal`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// One kept event of a batch.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub deployment: String,
    /// Its line in the stream of every deployment, and in its own deployment's stream.
    pub stream_line: u64,
    pub deployment_line: u64,
    pub timestamp_ms: Option<i64>,
    pub event: String,
    /// Only usage: its request id, kept until a signal of that request arrives (or forgotten
    /// after `--pending-ttl`).
    pub pending_request: Option<String>,
}

/// Input counters of one deployment (or of all, under [`ALL`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub inputs: u64,
    pub counts: ScanCounts,
}

impl Totals {
    pub(crate) fn add(&mut self, inputs: u64, counts: ScanCounts) {
        self.inputs += inputs;
        self.counts.bytes += counts.bytes;
        self.counts.lines += counts.lines;
        self.counts.records += counts.records;
        self.counts.suspects += counts.suspects;
        self.counts.cached_replays += counts.cached_replays;
    }
}

pub(crate) struct Database {
    connection: Connection,
}

impl Database {
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let open = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        make_private(path, true)?;
        let mut connection = Connection::open(path).map_err(open)?;
        // WAL lets readers run beside the writer; FULL syncs the log on every commit, so a
        // batch answered 200 survives a power cut as well as a `kill -9`.
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(open)?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(open)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        let found: i64 = connection.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > DATABASE_VERSION {
            return Err(StoreError::Newer {
                path: path.to_path_buf(),
                found,
            });
        }
        for (from, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = connection.transaction()?;
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", from as i64 + 1)?;
            tx.commit()?;
            tracing::info!("database migrated to schema version {}", from + 1);
        }
        // SQLite gives its log and index the database's mode; an older build's may differ.
        for suffix in ["-wal", "-shm"] {
            make_private(&beside(path, suffix), false)?;
        }
        Ok(Self { connection })
    }

    pub(crate) fn knows(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        Ok(self
            .connection
            .query_row(
                "SELECT 1 FROM batches WHERE hash = ?1",
                params![&hash[..]],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Opens the transaction that `write` adds batches to: batches that arrive together are
    /// committed together, one disk sync for all of them.
    pub(crate) fn begin(&self) -> Result<(), StoreError> {
        Ok(self.connection.execute_batch("BEGIN IMMEDIATE")?)
    }

    pub(crate) fn finish(&self) -> Result<(), StoreError> {
        Ok(self.connection.execute_batch("COMMIT")?)
    }

    /// Rolls the open transaction back; nothing written since `begin` stays.
    pub(crate) fn abandon(&self) {
        if let Err(err) = self.connection.execute_batch("ROLLBACK") {
            tracing::warn!("rollback: {err}");
        }
    }

    /// One batch inside the open transaction: its hash, its kept events, the usage its signals
    /// now keep for good (`matched`), and the counters it adds.
    pub(crate) fn write(
        &self,
        hash: &[u8; 32],
        received_ms: i64,
        rows: &[Row],
        matched: &[&str],
        totals: &BTreeMap<String, Totals>,
    ) -> Result<(), StoreError> {
        let tx = &self.connection;
        tx.execute(
            "INSERT INTO batches (hash, received_ms) VALUES (?1, ?2)",
            params![&hash[..], received_ms],
        )?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (deployment, stream_line, deployment_line, timestamp_ms, event,
                                     request_id, pending_since_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for row in rows {
                insert.execute(params![
                    row.deployment,
                    row.stream_line as i64,
                    row.deployment_line as i64,
                    row.timestamp_ms,
                    row.event,
                    row.pending_request,
                    row.pending_request.as_ref().map(|_| received_ms)
                ])?;
            }
            let mut keep = tx.prepare_cached(
                "UPDATE events SET pending_since_ms = NULL
                 WHERE pending_since_ms IS NOT NULL AND request_id = ?1",
            )?;
            for request_id in matched {
                keep.execute(params![request_id])?;
            }
            let mut add = tx.prepare_cached(
                "INSERT INTO totals (deployment, inputs, bytes, lines, records, suspects, cached_replays)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (deployment) DO UPDATE SET
                   inputs = inputs + excluded.inputs, bytes = bytes + excluded.bytes,
                   lines = lines + excluded.lines, records = records + excluded.records,
                   suspects = suspects + excluded.suspects,
                   cached_replays = cached_replays + excluded.cached_replays",
            )?;
            for (deployment, t) in totals {
                add.execute(params![
                    deployment,
                    t.inputs as i64,
                    t.counts.bytes as i64,
                    t.counts.lines as i64,
                    t.counts.records as i64,
                    t.counts.suspects as i64,
                    t.counts.cached_replays as i64
                ])?;
            }
        }
        Ok(())
    }

    /// `begin`, `write` and `finish` for one batch.
    #[cfg(test)]
    pub(crate) fn commit(
        &self,
        hash: &[u8; 32],
        received_ms: i64,
        rows: &[Row],
        matched: &[&str],
        totals: &BTreeMap<String, Totals>,
    ) -> Result<(), StoreError> {
        self.begin()?;
        match self.write(hash, received_ms, rows, matched, totals) {
            Ok(()) => self.finish(),
            Err(err) => {
                self.abandon();
                Err(err)
            }
        }
    }

    /// Forgets the hashes of batches received before `before_ms`: the sink gives up on a batch
    /// within minutes, so older hashes cannot come back.
    pub(crate) fn forget_batches(&self, before_ms: i64) -> Result<usize, StoreError> {
        Ok(self.connection.execute(
            "DELETE FROM batches WHERE received_ms < ?1",
            params![before_ms],
        )?)
    }

    /// Drops the usage of executions no signal named before `before_ms`.
    pub(crate) fn forget_unmatched(&self, before_ms: i64) -> Result<usize, StoreError> {
        Ok(self.connection.execute(
            "DELETE FROM events WHERE pending_since_ms < ?1",
            params![before_ms],
        )?)
    }

    /// Every kept event, in the order it was committed.
    pub(crate) fn rows(&self, mut each: impl FnMut(Row)) -> Result<(), StoreError> {
        let mut select = self.connection.prepare(
            "SELECT deployment, stream_line, deployment_line, timestamp_ms, event, request_id,
                    pending_since_ms
             FROM events ORDER BY id",
        )?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            each(Row {
                deployment: row.get(0)?,
                stream_line: row.get::<_, i64>(1)? as u64,
                deployment_line: row.get::<_, i64>(2)? as u64,
                timestamp_ms: row.get(3)?,
                event: row.get(4)?,
                pending_request: match row.get::<_, Option<i64>>(6)? {
                    Some(_) => row.get(5)?,
                    None => None,
                },
            });
        }
        Ok(())
    }

    pub(crate) fn totals(&self) -> Result<BTreeMap<String, Totals>, StoreError> {
        let mut select = self.connection.prepare(
            "SELECT deployment, inputs, bytes, lines, records, suspects, cached_replays FROM totals",
        )?;
        let rows = select.query_map([], |r| {
            let n = |i| r.get::<_, i64>(i).map(|v| v as u64);
            Ok((
                r.get::<_, String>(0)?,
                Totals {
                    inputs: n(1)?,
                    counts: ScanCounts {
                        bytes: n(2)?,
                        lines: n(3)?,
                        records: n(4)?,
                        suspects: n(5)?,
                        cached_replays: n(6)?,
                        ..ScanCounts::default()
                    },
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn stored_events(&self) -> Result<u64, StoreError> {
        Ok(self
            .connection
            .query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))?
            as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_and_its_log_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let store = Database::open(&path).unwrap();
        for p in [path.clone(), beside(&path, "-wal"), beside(&path, "-shm")] {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
        drop(store);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(Database::open(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_database_from_a_newer_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(Database::open(&path).unwrap());
        let connection = Connection::open(&path).unwrap();
        connection
            .pragma_update(None, "user_version", DATABASE_VERSION + 1)
            .unwrap();
        drop(connection);
        assert!(matches!(
            Database::open(&path),
            Err(StoreError::Newer { .. })
        ));
    }

    #[test]
    fn a_committed_batch_is_known_and_its_rows_and_totals_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/state.db");
        let store = Database::open(&path).unwrap();
        let hash = [7u8; 32];
        assert!(!store.knows(&hash).unwrap());
        let row = Row {
            deployment: "happy-otter-123".into(),
            stream_line: 3,
            deployment_line: 3,
            timestamp_ms: Some(5),
            event: "{}".into(),
            pending_request: None,
        };
        let mut totals = BTreeMap::new();
        let mut t = Totals::default();
        t.add(
            1,
            ScanCounts {
                records: 4,
                lines: 4,
                ..ScanCounts::default()
            },
        );
        totals.insert(ALL.to_owned(), t);
        let usage = Row {
            pending_request: Some("r1".into()),
            ..row.clone()
        };
        let unmatched = Row {
            pending_request: Some("r2".into()),
            ..row.clone()
        };
        store
            .commit(&hash, 10, &[row, usage, unmatched], &[], &totals)
            .unwrap();
        store.commit(&[8u8; 32], 20, &[], &["r1"], &totals).unwrap();
        drop(store);
        let store = Database::open(&path).unwrap();
        assert!(store.knows(&hash).unwrap());
        assert_eq!(store.totals().unwrap()[ALL].counts.records, 8);
        assert_eq!(store.stored_events().unwrap(), 3);
        assert_eq!(store.forget_unmatched(15).unwrap(), 1);
        let mut kept = Vec::new();
        store.rows(|r| kept.push(r.pending_request)).unwrap();
        assert_eq!(kept, [None, None]);
        assert_eq!(store.forget_batches(15).unwrap(), 1);
        assert!(!store.knows(&hash).unwrap());
    }
}
