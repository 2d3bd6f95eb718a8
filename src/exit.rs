//! Exit codes, as documented in the man page.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

/// The number of the last stopping signal caught (0: none), which the engine looks at between
/// batches and forgets once it has stopped reading. The engine's handlers set it.
pub(crate) static CAUGHT: LazyLock<Arc<AtomicUsize>> = LazyLock::new(Arc::default);

/// Set by the same handlers and never forgotten: stdout looks at it while it waits on a reader.
pub(crate) static SIGNALLED: LazyLock<Arc<AtomicBool>> = LazyLock::new(Arc::default);

/// Whether a stopping signal came during the run.
pub(crate) fn signalled() -> bool {
    SIGNALLED.load(Ordering::Relaxed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum ExitStatus {
    #[default]
    Success,
    /// The data failed a check (`assert`, `-e` with no output).
    CheckFailed,
    /// Bad option or pipeline, before any input is read.
    Usage,
    /// Unreadable or corrupt input, or too many dead letters.
    Input,
    /// Output could not be written.
    Output,
    /// A bug: output files were still closed on whole lines.
    Internal,
    /// Stopped by the signal numbered so (SIGINT, SIGTERM, SIGHUP…): 128 plus it.
    Signal(u8),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::CheckFailed => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Input => 3,
            ExitStatus::Output => 4,
            ExitStatus::Internal => 70,
            ExitStatus::Signal(n) => 128u8.saturating_add(n),
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_spec() {
        let all = [
            (ExitStatus::Success, 0),
            (ExitStatus::CheckFailed, 1),
            (ExitStatus::Usage, 2),
            (ExitStatus::Input, 3),
            (ExitStatus::Output, 4),
            (ExitStatus::Internal, 70),
            (ExitStatus::Signal(2), 130),
            (ExitStatus::Signal(15), 143),
            (ExitStatus::Signal(1), 129),
        ];
        for (s, c) in all {
            assert_eq!(s.code(), c);
        }
    }

    #[test]
    fn worse_outcomes_order_higher() {
        assert!(ExitStatus::Output > ExitStatus::Input);
        assert!(ExitStatus::Input > ExitStatus::CheckFailed);
        assert!(ExitStatus::Internal > ExitStatus::Output);
        assert!(ExitStatus::Signal(2) > ExitStatus::Internal);
    }
}
