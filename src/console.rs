//! The process's own stdout and stderr. A closed pipe on either (`| head`, a supervisor that
//! stopped reading) is how a reader says it has seen enough, never a reason to panic; but
//! `println!` and `eprintln!` panic when their write fails. So the crate writes through these
//! macros, and clippy's `print_stdout` / `print_stderr` lints (lib.rs, main.rs) keep it so.

/// Writes one line to stderr. A failed write drops the line: stderr is where a failure would
/// be reported, so there is nowhere left to say it.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr().lock(), $($arg)*);
    }};
}

/// Writes one line to stdout and returns the write's result: the caller passes a broken pipe
/// up, and `main` ends quietly on it.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        ::std::writeln!(::std::io::stdout().lock(), $($arg)*)
    }};
}

/// Writes `text` to stderr fitted to its terminal (`render::fit`): wrapped at word boundaries,
/// continuation rows indented by two, code whole; piped, one line as it is.
pub(crate) fn err_fitted(text: &str) {
    for row in crate::render::fit::wrap(text, crate::render::fit::stderr_width(), "", "  ") {
        crate::errln!("{row}");
    }
}
