//! Reads stdin (`watch -`) on a plain thread, so a blocked read never holds up shutdown.

use super::lines::LineSplitter;
use super::live::{Event, Notice, Stream};
use std::io::{self, Read};
use tokio::sync::mpsc;

/// Starts the reader thread. It ends at EOF (sending [`Notice::StdinClosed`]), on a read error
/// (sent as a notice too), or when the receiver goes away.
pub(crate) fn spawn_stdin_reader(tx: mpsc::Sender<Event>, max_line: usize) -> io::Result<()> {
    std::thread::Builder::new()
        .name("stdin-reader".into())
        .spawn(move || read_all(io::stdin().lock(), &tx, max_line))?;
    Ok(())
}

/// Feeds any reader through the line splitter into `tx`; blocking, for a dedicated thread.
pub(crate) fn read_all(mut input: impl Read, tx: &mpsc::Sender<Event>, max_line: usize) {
    let mut splitter = LineSplitter::new(max_line);
    let mut buf = vec![0u8; 64 * 1024];
    let mut open = true;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let message = format!("cannot read stdin: {e}");
                let _ = tx.blocking_send(Event::Notice(Notice::InputError { message }));
                break;
            }
        };
        splitter.push(&buf[..n], &mut |p| {
            open = open
                && tx
                    .blocking_send(Event::from_piece(Stream::Stdin, p))
                    .is_ok();
        });
        if !open {
            return;
        }
    }
    splitter.finish(&mut |p| {
        let _ = tx.blocking_send(Event::from_piece(Stream::Stdin, p));
    });
    let _ = tx.blocking_send(Event::Notice(Notice::StdinClosed));
}
