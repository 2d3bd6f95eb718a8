//! Every message evq writes to stderr goes through here: one `evq:` prefix, and
//! best effort. A stderr that cannot be written (`2>/dev/full`, closed) never
//! changes the exit status or aborts the run; `eprintln!` would panic there.

use std::fmt::Display;
use std::io::Write;

/// Writes `evq: {msg}` and a newline to stderr, ignoring any failure.
pub(crate) fn error(msg: impl Display) {
    text(line(msg));
}

/// `evq: {msg}`, as [`error`] writes it (for the checks that read a message whole).
pub(crate) fn line(msg: impl Display) -> String {
    format!("evq: {msg}")
}

/// Writes `msg` and a newline to stderr as it is (reports, already prefixed text).
pub(crate) fn text(msg: impl Display) {
    let line = format!("{msg}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Writes `msg` and a newline to stdout for the few outputs that are not data
/// (`--explain`); a closed stdout is a quiet success, as on the data path.
pub(crate) fn stdout(msg: impl Display) -> std::io::Result<()> {
    let line = format!("{msg}\n");
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.flush()
}

/// An I/O error's message without Rust's "(os error N)" suffix.
pub(crate) fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
