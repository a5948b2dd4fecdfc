//! A regular file mapped into memory, for the parallel scan: the parts read the page cache in
//! place instead of copying every byte through `read`. The pages a part has read are let go as
//! it goes (`release`), so the process's resident memory does not grow with the file.
//!
//! A mapping has one hazard a `read` has not: if the file is truncated while it is mapped (a log
//! rotated with `copytruncate`), touching a page past the new end raises `SIGBUS`. The guard
//! installed here turns that into a clear message and exit code 2, before anything was printed.

use memmap2::Mmap;
use std::fs::File;
use std::io;
use std::sync::Once;

/// A file mapped for reading, with the truncation guard installed.
pub(super) struct MappedFile {
    map: Mmap,
}

impl MappedFile {
    pub(super) fn open(file: &File) -> io::Result<Self> {
        install_truncation_guard();
        // SAFETY: the mapping is only read. The one way its contents can change under us is the
        // file changing on disk; a truncation is caught by the SIGBUS guard, and a rewrite in
        // place can only give other bytes to scan, never unsafety, since nothing trusts them.
        let map = unsafe { Mmap::map(file) }?;
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(Self { map })
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Lets go of the whole pages inside `range` (they stay in the page cache; touched again,
    /// they would be read back from it).
    pub(super) fn release(&self, range: std::ops::Range<usize>) {
        let page = page_size();
        let start = range.start.div_ceil(page) * page;
        let end = range.end.min(self.map.len()) / page * page;
        if end > start {
            // SAFETY: `DontNeed` on a shared, read-only file mapping only drops page-table
            // entries: the contents stay the file's, so no reference into the map sees a change.
            let _ = unsafe {
                self.map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    start,
                    end - start,
                )
            };
        }
    }
}

fn page_size() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

fn install_truncation_guard() {
    static GUARD: Once = Once::new();
    GUARD.call_once(|| {
        // SAFETY: `on_sigbus` only calls async-signal-safe functions (`write`, `_exit`).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

extern "C" fn on_sigbus(_: libc::c_int) {
    const MESSAGE: &[u8] =
        b"error: an input file shrank while it was being read (truncated or rotated?); nothing was reported\n";
    // SAFETY: both are async-signal-safe; the process ends here.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(2);
    }
}
