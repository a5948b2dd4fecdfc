//! `tail -F` behaviour of the file follower, on real files in temp dirs.

use ba_index_advisor::ingest::follow::{FollowOptions, follow};
use ba_index_advisor::ingest::live::{Event, Notice};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Generous: these tests wait for behaviour, they never assert timings.
const WAIT: Duration = Duration::from_secs(10);

struct Follow {
    rx: mpsc::Receiver<Event>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    notices: Vec<Notice>,
}

impl Follow {
    fn start(path: &Path, options: FollowOptions) -> Self {
        let (tx, rx) = mpsc::channel(64);
        let cancel = CancellationToken::new();
        let path = path.to_path_buf();
        let c = cancel.clone();
        let task = tokio::spawn(async move {
            follow(path, options, tx, c).await.expect("follow failed");
        });
        Self {
            rx,
            cancel,
            task,
            notices: Vec::new(),
        }
    }

    /// The next `n` lines as (number, text), recording notices on the way.
    async fn lines(&mut self, n: usize) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        while out.len() < n {
            let event = tokio::time::timeout(WAIT, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out; got {out:?}, notices {:?}", self.notices))
                .expect("follower ended");
            match event {
                Event::Line { line, .. } => out.push((line.number, line.text_lossy().into_owned())),
                Event::Notice(n) => self.notices.push(n),
                Event::Overlong {
                    number, dropped, ..
                } => out.push((number, format!("<overlong {dropped}>"))),
            }
        }
        out
    }

    /// Waits until a notice matching `pred` arrives; lines on the way are returned.
    async fn until_notice(&mut self, pred: impl Fn(&Notice) -> bool) -> Vec<String> {
        if self.notices.iter().any(&pred) {
            return Vec::new();
        }
        let mut lines = Vec::new();
        loop {
            let event = tokio::time::timeout(WAIT, self.rx.recv())
                .await
                .expect("timed out waiting for a notice")
                .expect("follower ended");
            match event {
                Event::Notice(n) => {
                    let hit = pred(&n);
                    self.notices.push(n);
                    if hit {
                        return lines;
                    }
                }
                Event::Line { line, .. } => lines.push(line.text_lossy().into_owned()),
                Event::Overlong { .. } => {}
            }
        }
    }

    /// Lines that arrive within `d` (used only to check that nothing premature arrives).
    async fn lines_within(&mut self, d: Duration) -> Vec<String> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            if let Event::Line { line, .. } = event {
                out.push(line.text_lossy().into_owned());
            }
        }
        out
    }

    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("follower did not stop")
            .expect("follower panicked");
    }
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.log");
    (dir, path)
}

fn opened(n: &Notice) -> bool {
    matches!(n, Notice::FileOpened { .. })
}

#[tokio::test]
async fn from_end_skips_existing_lines_but_keeps_numbering() {
    let (_dir, path) = setup();
    append(&path, "old1\nold2\n");
    let mut f = Follow::start(&path, FollowOptions::default());
    f.until_notice(opened).await;
    append(&path, "new1\n");
    assert_eq!(f.lines(1).await, vec![(3, "new1".into())]);
    f.stop().await;
}

#[tokio::test]
async fn from_start_reads_existing_lines() {
    let (_dir, path) = setup();
    append(&path, "old1\r\nold2\n");
    let options = FollowOptions {
        from_start: true,
        ..Default::default()
    };
    let mut f = Follow::start(&path, options);
    assert_eq!(
        f.lines(2).await,
        vec![(1, "old1".into()), (2, "old2".into())]
    );
    append(&path, "new\n");
    assert_eq!(f.lines(1).await, vec![(3, "new".into())]);
    f.stop().await;
}

#[tokio::test]
async fn partial_line_is_emitted_once_completed() {
    let (_dir, path) = setup();
    let mut f = Follow::start(&path, FollowOptions::default());
    f.until_notice(|n| matches!(n, Notice::FileMissing { .. }))
        .await;
    append(&path, "first\npar");
    assert_eq!(f.lines(1).await, vec![(1, "first".into())]);
    assert_eq!(
        f.lines_within(Duration::from_millis(600)).await,
        Vec::<String>::new()
    );
    append(&path, "tial\n");
    assert_eq!(f.lines(1).await, vec![(2, "partial".into())]);
    f.stop().await;
}

#[tokio::test]
async fn unterminated_last_line_at_start_is_read_whole() {
    let (_dir, path) = setup();
    append(&path, "done\nhalf-");
    let mut f = Follow::start(&path, FollowOptions::default());
    f.until_notice(opened).await;
    append(&path, "written\n");
    assert_eq!(f.lines(1).await, vec![(2, "half-written".into())]);
    f.stop().await;
}

#[tokio::test]
async fn file_created_after_start_is_read_from_its_start() {
    let (_dir, path) = setup();
    let mut f = Follow::start(&path, FollowOptions::default());
    f.until_notice(|n| matches!(n, Notice::FileMissing { .. }))
        .await;
    append(&path, "x1\nx2\n");
    assert_eq!(f.lines(2).await, vec![(1, "x1".into()), (2, "x2".into())]);
    f.stop().await;
}

async fn rename_rotation(options: FollowOptions) {
    let (dir, path) = setup();
    append(&path, "");
    let mut f = Follow::start(&path, options);
    f.until_notice(opened).await;
    let mut writer = OpenOptions::new().append(true).open(&path).expect("writer");
    writer.write_all(b"a1\n").expect("write");
    assert_eq!(f.lines(1).await, vec![(1, "a1".into())]);
    fs::rename(&path, dir.path().join("app.log.1")).expect("rotate");
    // The old writer still holds the rotated file: its last line must not be lost.
    writer.write_all(b"a2-late\n").expect("late write");
    drop(writer);
    append(&path, "b1\nb2\n");
    let got = f.lines(3).await;
    assert_eq!(
        got,
        vec![(2, "a2-late".into()), (1, "b1".into()), (2, "b2".into())]
    );
    assert!(
        f.notices
            .iter()
            .any(|n| matches!(n, Notice::FileRotated { .. })),
        "{:?}",
        f.notices
    );
    append(&path, "b3\n");
    assert_eq!(f.lines(1).await, vec![(3, "b3".into())]);
    f.stop().await;
}

#[tokio::test]
async fn survives_rename_rotation() {
    rename_rotation(FollowOptions::default()).await;
}

#[tokio::test]
async fn survives_rename_rotation_with_poll_watcher() {
    rename_rotation(FollowOptions {
        poll: true,
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn survives_copytruncate() {
    let (_dir, path) = setup();
    append(&path, "");
    let mut f = Follow::start(&path, FollowOptions::default());
    f.until_notice(opened).await;
    append(&path, "c1-long-enough\nc2-long-enough\n");
    assert_eq!(f.lines(2).await.len(), 2);
    // copytruncate: the same inode is emptied in place, then written again.
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .expect("truncate");
    f.until_notice(|n| matches!(n, Notice::FileTruncated { .. }))
        .await;
    append(&path, "d1\n");
    assert_eq!(f.lines(1).await, vec![(1, "d1".into())]);
    f.stop().await;
}

#[tokio::test]
async fn survives_deletion_and_recreation() {
    let (_dir, path) = setup();
    append(&path, "");
    let mut f = Follow::start(&path, FollowOptions::default());
    f.until_notice(opened).await;
    append(&path, "before\n");
    assert_eq!(f.lines(1).await, vec![(1, "before".into())]);
    fs::remove_file(&path).expect("rm");
    f.until_notice(|n| matches!(n, Notice::FileRemoved { .. }))
        .await;
    File::create(&path).expect("recreate");
    append(&path, "after\n");
    assert_eq!(f.lines(1).await, vec![(1, "after".into())]);
    f.stop().await;
}

#[tokio::test]
async fn overlong_line_is_reported_not_buffered() {
    let (_dir, path) = setup();
    let options = FollowOptions {
        from_start: true,
        max_line: 8,
        ..Default::default()
    };
    append(&path, "short\n");
    let mut f = Follow::start(&path, options);
    assert_eq!(f.lines(1).await, vec![(1, "short".into())]);
    append(&path, &"x".repeat(20));
    append(&path, &format!("{}\nok\n", "y".repeat(20)));
    assert_eq!(
        f.lines(2).await,
        vec![(2, "<overlong 41>".into()), (3, "ok".into())]
    );
    f.stop().await;
}
