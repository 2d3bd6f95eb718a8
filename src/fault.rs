//! Internal errors: a bug that panics must never tear output or lose lines
//! silently. The panic hook reports it as one `evq: internal error:` line, the
//! engine stops at the chunk where it happened, closes every file whole and exits
//! 70. In debug builds `EVQ_FAULT=SITE` panics at a named site, so tests can
//! prove that promise end to end.

use crate::messages;
use std::panic::PanicHookInfo;
use std::sync::OnceLock;

/// Installs the hook that reports a panic as an internal error (once per process).
pub(crate) fn report_panics() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| std::panic::set_hook(Box::new(report)));
}

fn report(info: &PanicHookInfo<'_>) {
    let what = info
        .payload()
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string());
    let at = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    messages::error(format_args!(
        "internal error: {what}{at}; output files end on whole lines (please report this)"
    ));
}

/// Where a test may inject a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// The main thread, before the command line is read.
    Start,
    /// The reader thread, before it sends its second chunk.
    Reader,
    /// A worker, on the second chunk.
    Worker,
    /// The ordered thread, on the second chunk.
    Ordered,
}

/// Panics when `EVQ_FAULT` names `site` and this is chunk `seq` 1 (debug builds only).
pub(crate) fn inject(site: Site, seq: u64) {
    #[cfg(debug_assertions)]
    {
        static WANTED: OnceLock<Option<String>> = OnceLock::new();
        let wanted = WANTED.get_or_init(|| std::env::var("EVQ_FAULT").ok());
        let name = match site {
            Site::Start => "start",
            Site::Reader => "reader",
            Site::Worker => "worker",
            Site::Ordered => "ordered",
        };
        if seq == 1 && wanted.as_deref() == Some(name) {
            panic!("injected fault ({name})");
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = (site, seq);
}
