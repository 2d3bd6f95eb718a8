//! Why a command line is refused: one variant per kind of mistake, so that tests match the
//! variant. `Display` is the message without the `evq: ` prefix, which `messages` adds; a
//! pipeline error is several lines (the pipeline and a caret under the problem).

use crate::exit::ExitStatus;
use crate::input::{Identity, overwrite_error};
use crate::lang::LangError;
use crate::messages;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum UsageError {
    /// The pipeline `text` does not compile.
    #[error("{}", .error.render(.text))]
    Pipeline { text: String, error: LangError },
    /// `-f FILE` cannot be read.
    #[error("-f {}: the pipeline file cannot be read: {}{}", messages::shown_path(.path), messages::io_at(.path, .io), format_hint(.path, .io))]
    PipelineFile { path: PathBuf, io: std::io::Error },
    /// A flag's value is wrong.
    #[error("{flag}: {why}")]
    Flag { flag: &'static str, why: String },
    /// `--jobs 0`.
    #[error("--jobs must be at least 1")]
    NoJobs,
    /// `--multiline-start` with an input format that reads whole records.
    #[error("--multiline-start joins text lines; -i json, csv, tsv and zeek read records of their own")]
    MultilineRecords,
    /// The pipeline argument is not UTF-8 text.
    #[error("the pipeline is not UTF-8 text; write it in UTF-8, or put it in a file and give -f FILE")]
    PipelineNotText,
    /// An address that cannot be used as given: a `nats://` input or output, or a URL of a
    /// scheme evq does not read.
    #[error("{0}")]
    Address(String),
    /// Two outputs known before reading are one file.
    #[error("an input path is empty (''); name a file, a directory, or - for stdin")]
    EmptyPath,
    #[error(
        "{} and {} are the same file; give each output its own",
        messages::shown(first),
        messages::shown(second)
    )]
    SharedOutput { first: String, second: String },
    /// A file read besides the inputs (`what`: it and what it is) is standard input, which is
    /// an input too.
    #[error(
        "{what} is standard input, which the events are read from too; save it to a file and name that, \
         or pass the events as a file"
    )]
    StdinReadTwice { what: String },
    /// An output known before reading (`what`: the flag or stage and its file) is an input.
    #[error("{what}: {}", overwrite_error(.input))]
    Overwrite { what: String, input: Identity },
}

impl UsageError {
    /// A pipeline error in `text`, for `map_err`.
    pub(crate) fn pipeline(text: &str) -> impl FnOnce(LangError) -> UsageError + '_ {
        move |error| UsageError::Pipeline {
            text: text.to_owned(),
            error,
        }
    }

    /// A wrong value of `flag`.
    pub(crate) fn flag(flag: &'static str, why: impl Into<String>) -> UsageError {
        UsageError::Flag { flag, why: why.into() }
    }

    /// Every usage error exits 2, before any input is read.
    pub(crate) fn status(&self) -> ExitStatus {
        ExitStatus::Usage
    }
}

/// `-f csv` where no file `csv` is: the output format is set with `-o`.
fn format_hint(path: &std::path::Path, io: &std::io::Error) -> String {
    use clap::ValueEnum;
    let name = path.to_str().unwrap_or_default();
    match crate::output::Format::from_str(name, true) {
        Ok(_) if io.kind() == std::io::ErrorKind::NotFound => {
            format!("; -f names a file holding the pipeline; for {name} output, use -o {name}")
        }
        _ => String::new(),
    }
}
