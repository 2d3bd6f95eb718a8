//! The input layer's one error type: an input that could not be opened, that failed while
//! being read, or whose records (`-i json`, `csv`, `tsv`) could not be decoded past a point.
//! Each ends that input after what came before it; the message names the input and never has
//! the `evq: ` prefix (`messages` adds it). Every input error exits with the input status.

use crate::exit::ExitStatus;
use crate::messages;
use std::io;

#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    /// The input could not be opened (or its compression not recognized). `walked`: a
    /// directory walk found it, so it was there when listed, and its name was not typed.
    #[error("{}: {}", messages::shown(name), OpenWhy { name, source, walked: *walked })]
    Open {
        name: String,
        source: io::Error,
        walked: bool,
    },
    /// A read failed, `after` this many bytes of the input when that is known.
    #[error("{}: {}{}{}", messages::shown(name), messages::io(.source), After(*.after), Damaged(.source))]
    Read {
        name: String,
        after: Option<u64>,
        source: io::Error,
    },
    /// A decoded input's records could not be read past this point.
    #[error("{}: {}", messages::shown(name), messages::io(.source))]
    Corrupt { name: String, source: io::Error },
    /// A message source (NATS) failed: the message names its URL.
    #[cfg(feature = "nats")]
    #[error("{0}")]
    Source(String),
}

impl InputError {
    /// `input` could not be opened.
    pub(crate) fn open(input: &super::Input, source: io::Error) -> InputError {
        InputError::Open {
            name: input.name.clone(),
            source,
            walked: input.walked,
        }
    }

    /// The exit status of a run this error ended an input of.
    pub(crate) fn status(&self) -> ExitStatus {
        ExitStatus::Input
    }
}

/// What a read that found damaged compressed data means for what came before: a stream's
/// checksum is checked at its end, after its lines were decoded and passed on.
struct Damaged<'e>(&'e io::Error);

impl std::fmt::Display for Damaged<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.kind() {
            // flate2 says InvalidInput for a damaged stream, the others InvalidData.
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => {
                write!(f, "; the lines decoded just before it may be damaged too")
            }
            _ => Ok(()),
        }
    }
}

/// Why an input could not be opened: for a name typed, what is known of why it was not found
/// (a close name, a missing directory); for a file a walk listed, that it went away since.
struct OpenWhy<'e> {
    name: &'e str,
    source: &'e io::Error,
    walked: bool,
}

impl std::fmt::Display for OpenWhy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.walked && self.source.kind() == io::ErrorKind::NotFound {
            write!(
                f,
                "{}; it was removed after its directory was listed",
                messages::io(self.source)
            )
        } else {
            write!(f, "{}", messages::io_at(std::path::Path::new(self.name), self.source))
        }
    }
}

/// ` after N bytes`, when the offset of a failed read is known.
struct After(Option<u64>);

impl std::fmt::Display for After {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, " after {n} bytes"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eio() -> io::Error {
        io::Error::from_raw_os_error(5)
    }

    #[test]
    fn a_walked_file_gone_when_read_says_so_and_guesses_no_other_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b010.ndjson"), "{}\n").unwrap();
        let name = dir.path().join("b100.ndjson").display().to_string();
        let open = |walked| {
            InputError::Open {
                name: name.clone(),
                source: io::Error::from_raw_os_error(2),
                walked,
            }
            .to_string()
        };
        assert!(open(false).contains("did you mean"), "{}", open(false));
        assert_eq!(
            open(true),
            format!("{name}: No such file or directory; it was removed after its directory was listed")
        );
    }

    #[test]
    fn a_failed_read_says_after_how_many_bytes_when_known() {
        let e = InputError::Read {
            name: "app.log".into(),
            after: Some(4096),
            source: eio(),
        };
        assert_eq!(e.to_string(), "app.log: Input/output error after 4096 bytes");
        let e = InputError::Read {
            name: "app.log".into(),
            after: None,
            source: eio(),
        };
        assert_eq!(e.to_string(), "app.log: Input/output error");
        let e = InputError::Read {
            name: "app.log.gz".into(),
            after: Some(118_890),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "corrupt gzip stream does not have a matching checksum",
            ),
        };
        assert_eq!(
            e.to_string(),
            "app.log.gz: corrupt gzip stream does not have a matching checksum after 118890 bytes; \
             the lines decoded just before it may be damaged too"
        );
    }

    #[test]
    fn every_input_error_names_the_input_and_exits_with_the_input_status() {
        let all = [
            InputError::Open {
                name: "missing.log".into(),
                source: io::Error::from_raw_os_error(2),
                walked: false,
            },
            InputError::Corrupt {
                name: "a.csv".into(),
                source: io::Error::new(io::ErrorKind::InvalidData, "UnequalLengths"),
            },
        ];
        let want = ["missing.log: No such file or directory", "a.csv: UnequalLengths"];
        for (e, want) in all.iter().zip(want) {
            assert_eq!(e.to_string(), want);
            assert_eq!(e.status(), ExitStatus::Input);
        }
    }
}
