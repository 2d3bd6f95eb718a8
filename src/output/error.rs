//! The output layer's one error type: which output failed (stdout, a topic file, the
//! dead-letter file, the `--stats` file, a publication) and why. Its message never has the
//! `evq: ` prefix (`messages` adds it); every output error exits with the output status.

use super::topic::TopicError;
use crate::exit::ExitStatus;
use crate::messages;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum OutputError {
    /// Stdout could not be written (a closed pipe is not an error: the run ends quietly).
    #[error("stdout: {}", messages::io(.0))]
    Stdout(#[source] io::Error),
    /// A topic file (`to`, `tee`, `-O`): the message names it and says what it holds.
    #[error(transparent)]
    File(#[from] TopicError),
    /// The `--dead-letter` file.
    #[error("--dead-letter {}: {}", messages::shown_path(.path), messages::io_at(.path, .source))]
    DeadLetter { path: PathBuf, source: io::Error },
    /// The `--stats=FILE` file.
    #[error("--stats={}: {}", messages::shown_path(.path), messages::io_at(.path, .source))]
    Stats { path: PathBuf, source: io::Error },
    /// Events could not be published (NATS), or this evq cannot publish: the message.
    #[error("{0}")]
    Publish(String),
}

impl OutputError {
    /// This error, followed by `later`: one message for both when both are topic files'
    /// (the first, and how many more files failed), else this one.
    pub(crate) fn and_then(self, later: OutputError) -> OutputError {
        match (self, later) {
            (OutputError::File(a), OutputError::File(b)) => a.and_then(b).into(),
            (first, _) => first,
        }
    }

    /// The first failure of two results, saying that the files of the second failed too.
    pub(crate) fn first_of(first: Result<(), OutputError>, then: Result<(), OutputError>) -> Result<(), OutputError> {
        match (first, then) {
            (Err(a), Err(b)) => Err(a.and_then(b)),
            (first, then) => first.and(then),
        }
    }

    /// The exit status of a run this error stopped.
    pub(crate) fn status(&self) -> ExitStatus {
        ExitStatus::Output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> io::Error {
        io::Error::from_raw_os_error(28)
    }

    #[test]
    fn a_full_disk_names_the_file_without_the_os_error_number() {
        let e = OutputError::DeadLetter {
            path: "/tmp/dead.ndjson".into(),
            source: full(),
        };
        assert_eq!(e.to_string(), "--dead-letter /tmp/dead.ndjson: No space left on device");
        let e = OutputError::Stats {
            path: "s.json".into(),
            source: full(),
        };
        assert_eq!(e.to_string(), "--stats=s.json: No space left on device");
        assert_eq!(
            OutputError::Stdout(full()).to_string(),
            "stdout: No space left on device"
        );
    }

    #[test]
    fn no_message_has_the_prefix_and_every_one_exits_with_the_output_status() {
        let all = [
            OutputError::Stdout(full()),
            OutputError::Publish("nats://x: this evq was built without NATS".into()),
            OutputError::Stats {
                path: "s".into(),
                source: io::Error::from(io::ErrorKind::PermissionDenied),
            },
        ];
        for e in all {
            assert!(!e.to_string().starts_with("evq:"), "{e}");
            assert_eq!(e.status(), ExitStatus::Output);
        }
    }
}
