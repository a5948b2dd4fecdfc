//! The live view in a real pseudo-terminal: `watch --file` draws its table in place, through many
//! redraws, at the terminal's width (80, 100, 120 columns, then a resize), with the diffs of
//! `--write` kept above it; the screen is read back through a VT100 emulator.

use crate::common::root;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROWS: u16 = 40;

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap()
}

/// A warning line as `npx convex logs` prints it (captured from the real CLI).
fn warning(table: &str, fields: &str) -> String {
    format!(
        "1/15/2026, 2:03:08 PM [CONVEX Q(organizations/invitations/queries:listInvitations)] \
         [WARN] 'Querying without an index on table \"{table}\".\\nThis can cause performance \
         issues, and may hit the document read limit.\\nTo fix, add an index that begins with \
         the following fields in order:\\n[{fields}]'\n"
    )
}

const LISTS: [(&str, &str); 5] = [
    ("session", "userId, expiresAt"),
    ("verification", "identifier, expiresAt"),
    ("account", "userId, providerId"),
    ("user", "emailVerified"),
    ("session", "ipAddress, userAgent"),
];

struct Terminal {
    screen: Arc<Mutex<vt100::Parser>>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Terminal {
    fn start(cols: u16, project: &Path, args: &[&str]) -> Terminal {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_ba-index-advisor"));
        cmd.args(args);
        cmd.cwd(project);
        cmd.env_remove("COLUMNS");
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            nonzero(ROWS),
            nonzero(cols),
            0,
        )));
        let mut reader = pty.master.try_clone_reader().unwrap();
        let feed = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
            }
        });
        Terminal {
            screen,
            master: pty.master,
            child,
        }
    }

    fn rows(&self) -> Vec<String> {
        let parser = self.screen.lock().unwrap();
        let (_, cols) = parser.screen().size();
        parser.screen().rows(0, cols.get()).collect()
    }

    /// Waits until `done` holds for the screen, or fails with the screen.
    fn wait_for(&self, what: &str, done: impl Fn(&[String]) -> bool) {
        let start = Instant::now();
        loop {
            let rows = self.rows();
            if done(&rows) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}; screen:\n{}",
                rows.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn resize(&self, cols: u16) {
        self.master
            .resize(PtySize {
                rows: ROWS,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        self.screen
            .lock()
            .unwrap()
            .set_size(nonzero(ROWS), nonzero(cols));
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.child.kill().ok();
    }
}

fn headers(rows: &[String]) -> usize {
    rows.iter().filter(|r| r.starts_with("STATUS ")).count()
}

/// One row per suggestion, each exactly once, under exactly one header.
fn one_table(rows: &[String], lists: usize) -> bool {
    headers(rows) == 1
        && LISTS[..lists].iter().all(|(table, fields)| {
            let target = format!("{table} [{fields}]");
            rows.iter().filter(|r| r.contains(&target)).count() == 1
        })
}

fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("convex/betterAuth");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["schema.ts", "generatedSchema.ts"] {
        std::fs::copy(
            root().join("tests/fixtures/schema/documented").join(name),
            dir.join(name),
        )
        .unwrap();
    }
    std::fs::write(tmp.path().join("live.log"), "").unwrap();
    tmp
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

#[test]
fn the_live_table_is_redrawn_in_place_at_the_terminals_width() {
    for cols in [80u16, 100, 120] {
        let project = project();
        let log = project.path().join("live.log");
        let term = Terminal::start(cols, project.path(), &["watch", "--file", "live.log"]);
        term.wait_for("the empty table", |rows| headers(rows) == 1);
        // Many redraws: each list appears, then keeps counting.
        for round in 0..6 {
            for (i, (table, fields)) in LISTS.iter().enumerate() {
                if i <= round {
                    append(&log, &warning(table, fields));
                }
            }
            std::thread::sleep(Duration::from_millis(120));
        }
        term.wait_for("one table with every list", |rows| {
            one_table(rows, LISTS.len())
        });
        let rows = term.rows();
        assert!(
            rows.iter()
                .all(|r| r.trim_end().chars().count() <= usize::from(cols)),
            "{cols} columns"
        );
        // A row that wrapped would leave a fragment starting a screen row.
        assert!(
            !rows
                .iter()
                .any(|r| r.starts_with("tes]") || r.starts_with("d]")),
            "{}",
            rows.join("\n")
        );
        // A narrower terminal: the table is drawn again in place, at the new width.
        let narrow = cols - 30;
        term.resize(narrow);
        append(&log, &warning(LISTS[0].0, LISTS[0].1));
        term.wait_for("one table after the resize", |rows| {
            let narrow_rows = rows
                .iter()
                .filter(|r| r.starts_with("STATUS ") || r.starts_with("new "))
                .collect::<Vec<_>>();
            headers(rows) == 1
                && narrow_rows.len() == LISTS.len() + 1
                && narrow_rows
                    .iter()
                    .all(|r| r.trim_end().chars().count() <= usize::from(narrow))
        });
    }
}

#[test]
fn write_mode_keeps_its_diffs_above_the_live_table_and_gives_the_cursor_back() {
    let project = project();
    let log = project.path().join("live.log");
    let mut term = Terminal::start(
        100,
        project.path(),
        &["watch", "--file", "live.log", "--write"],
    );
    term.wait_for("the empty table", |rows| headers(rows) == 1);
    append(&log, &warning("session", "userId, expiresAt"));
    term.wait_for("the diff above the table", |rows| {
        let diff = rows
            .iter()
            .position(|r| r.contains("+  session: tables.session.index(\"userId_expiresAt\""));
        let header = rows.iter().position(|r| r.starts_with("STATUS "));
        matches!((diff, header), (Some(d), Some(h)) if d < h) && headers(rows) == 1
    });
    // Later redraws leave the diff where it is.
    for _ in 0..5 {
        append(&log, &warning("verification", "identifier, expiresAt"));
        std::thread::sleep(Duration::from_millis(150));
    }
    term.wait_for("the diff still above one table", |rows| {
        rows.iter()
            .any(|r| r.contains("+  session: tables.session.index(\"userId_expiresAt\""))
            && headers(rows) == 1
    });
    assert!(term.screen.lock().unwrap().screen().hide_cursor());
    // Ctrl-C: the final table, and the cursor is back.
    term.master
        .take_writer()
        .unwrap()
        .write_all(b"\x03")
        .unwrap();
    let start = Instant::now();
    while term.child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "watch did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(!term.screen.lock().unwrap().screen().hide_cursor());
}

/// `--write` never gives up: a half-saved `schema.ts` fails the write, the row says so, and the
/// index is written as soon as the file is valid again: `new (write failed: …)` → `written` →
/// `served`, in the live table and in lines.
#[test]
fn a_failed_write_is_shown_and_made_once_the_schema_is_fixed() {
    for format in ["table", "lines"] {
        let project = project();
        let log = project.path().join("live.log");
        let schema = project.path().join("convex/betterAuth/schema.ts");
        let good = std::fs::read_to_string(&schema).unwrap();
        let term = Terminal::start(
            120,
            project.path(),
            &["watch", "--file", "live.log", "--write", "--format", format],
        );
        if format == "table" {
            term.wait_for("the empty table", |rows| headers(rows) == 1);
        } else {
            std::thread::sleep(Duration::from_millis(500));
        }
        // Half-saved while the user types.
        std::fs::write(&schema, &good[..good.find("...tables").unwrap()]).unwrap();
        append(&log, &warning("session", "ipAddress, userAgent"));
        // Lines longer than the terminal continue on the next screen row.
        term.wait_for("the failed write on the row", |rows| {
            rows.concat().contains("write failed: ")
        });
        assert!(
            !std::fs::read_to_string(&schema)
                .unwrap()
                .contains("ipAddress_userAgent")
        );
        std::fs::write(&schema, &good).unwrap();
        term.wait_for("the index written and served", |rows| {
            rows.iter()
                .any(|r| r.starts_with("served") && r.contains("session [ipAddress, userAgent]"))
        });
        let written = std::fs::read_to_string(&schema).unwrap();
        assert!(
            written.contains(r#".index("ipAddress_userAgent", ["ipAddress", "userAgent"] /* added by ba-index-advisor */)"#),
            "{written}"
        );
        if format == "lines" {
            let rows = term.rows();
            let at = |status: &str| {
                rows.iter()
                    .position(|r| {
                        r.starts_with(status) && r.contains("session [ipAddress, userAgent]")
                    })
                    .unwrap_or_else(|| panic!("no {status} line:\n{}", rows.join("\n")))
            };
            assert!(
                at("new") < at("written") && at("written") < at("served"),
                "{}",
                rows.join("\n")
            );
        }
    }
}
