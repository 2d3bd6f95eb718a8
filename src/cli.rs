//! The command line exactly as typed (clap derive); `Config` validates it.

use crate::output::Format;
use clap::{Parser, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  evq 'where level == \"error\"' app.ndjson
  evq 'where status >= 500 and path =~ /^\\/api/ | keep ts, path, status' logs/
  evq 'set seen = true | del debug' archive/*.ndjson.gz > out.ndjson
  kubectl logs app | evq 'where level != \"debug\" | head 20'
  evq --dead-letter bad.ndjson --stats 'where true' events.ndjson.zst

The pipeline language, every stage and the exit codes are described in evq(1).";

#[derive(Debug, Parser)]
#[command(name = "evq", version, about = "A fast, lossless stream processor for newline-delimited events", after_help = EXAMPLES, disable_help_flag = true)]
pub(crate) struct Cli {
    /// The pipeline: stages separated by `|`, e.g. 'where level == "error" | head 10'
    // Any bytes: with `-f` this is an input path, which need not be UTF-8.
    #[arg(value_name = "PIPELINE", required_unless_present_any = ["file", "generate", "help"])]
    pub pipeline: Option<OsString>,

    /// Files, directories (read recursively) or - for stdin; none means stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<OsString>,

    /// An input given as an option, read after the PATHs: a file, a directory, - or a nats:// address
    #[arg(long = "from", value_name = "SOURCE")]
    pub from: Vec<OsString>,

    /// Read the pipeline from a file (`#` starts a comment; - is standard input); every argument is then a PATH
    #[arg(short = 'f', long = "file", value_name = "PIPELINE_FILE")]
    pub file: Option<PathBuf>,

    /// In directory inputs, follow symbolic links (each file and directory is still read once)
    #[arg(long = "follow-links")]
    pub follow_links: bool,

    /// In directory inputs, read only files whose path (relative to the directory) matches GLOB;
    /// `!GLOB` leaves them out; the last matching glob decides (repeatable, as ripgrep's -g)
    #[arg(short = 'g', long = "glob", value_name = "GLOB", action = clap::ArgAction::Append)]
    pub globs: Vec<String>,

    /// In directory inputs, also read licences, readmes, Markdown and binary files
    #[arg(long = "no-ignore")]
    pub no_ignore: bool,

    /// Say on stderr what directory walks skipped and what -i auto chose, one line per entry
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Input format (default: ndjson, or lines when the pipeline starts with parse)
    #[arg(short = 'i', long = "input", value_enum, value_name = "FORMAT")]
    pub input: Option<crate::input::InputFormat>,

    /// Interleave the inputs in event-time order (each input must be in time order)
    #[arg(long)]
    pub merge: bool,

    /// Keep reading files as they grow, across rotation and truncation (as tail -F), or a nats:// input as messages arrive; Ctrl-C ends
    #[arg(short = 'F', long = "follow")]
    pub follow: bool,

    /// Only events at or after TIME (RFC 3339 or a date), or DURATION before now (e.g. 1h)
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub since: Option<String>,

    /// Only events before TIME (RFC 3339 or a date), or DURATION before now (e.g. 10m)
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub until: Option<String>,

    /// A line matching REGEX starts a record; other lines are joined to the record before them
    #[arg(long = "multiline-start", value_name = "REGEX", value_parser = non_empty)]
    pub multiline_start: Option<String>,

    /// The message id of each event `to "nats://…"` publishes, for deduplication
    /// (default: a hash of its input, line, offset, subject and text)
    #[arg(long = "msg-id", value_name = "EXPR")]
    pub msg_id: Option<String>,

    /// NATS credentials file for nats:// inputs (default: $NATS_CREDS); never put credentials in the URL
    #[arg(long = "nats-creds", value_name = "FILE")]
    pub nats_creds: Option<PathBuf>,

    /// Remove ANSI colour and cursor codes from text lines (-i lines, -i logfmt)
    #[arg(long = "strip-ansi")]
    pub strip_ansi: bool,

    /// Year for syslog timestamps without one, 0 to 9999 (default: each input's modification year; a date past that time is of the year before)
    #[arg(long, value_name = "YEAR", allow_hyphen_values = true, value_parser = year)]
    pub year: Option<i32>,

    /// Output format (default: ndjson; table when stdout is a terminal and the pipeline ends in an aggregate)
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,

    /// Write an event of one column (as csv would flatten it) as its value: a string without quotes, as jq -r
    #[arg(short = 'r', long = "raw")]
    pub raw: bool,

    /// Write each event as a line of text: {EXPR} placeholders as in `to` templates, e.g. '{ts} {level|upper} {msg}'
    #[arg(long = "format", value_name = "TEMPLATE", value_parser = non_empty)]
    pub format: Option<String>,

    /// Leave out the header line of csv, tsv and table output
    #[arg(long = "no-header")]
    pub no_header: bool,

    /// Colour stdout and stderr: auto (when a terminal and NO_COLOR is unset or empty), always, never
    #[arg(long = "color", value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: crate::output::color::ColorChoice,

    /// Write events to DIR/TOPIC.ndjson: shorthand for ending the pipeline with to "DIR/{topic()}.ndjson"
    #[arg(short = 'O', long = "out-dir", value_name = "DIR", value_parser = non_empty)]
    pub out_dir: Option<String>,

    /// Keep what topic files hold instead of truncating them when first opened
    #[arg(long)]
    pub append: bool,

    /// Write topic files under temporary names and rename them into place only if the run succeeds
    #[arg(long)]
    pub atomic: bool,

    /// The most topic files open at once (default: a safe share of the process limit)
    #[arg(long = "max-open-files", value_name = "N", allow_hyphen_values = true, value_parser = parse_count)]
    pub max_open_files: Option<usize>,

    /// Worker threads, 1 to 1024 (default: all cores); when the system starts fewer, the run uses those, with the same output
    #[arg(short = 'j', long = "jobs", value_name = "N", allow_hyphen_values = true, value_parser = jobs)]
    pub jobs: Option<usize>,

    /// Write rejected lines here, one NDJSON record each (a file: - is refused, ./- names one)
    #[arg(long = "dead-letter", value_name = "FILE")]
    pub dead_letter: Option<PathBuf>,

    /// Fail (exit 3) at the first dead letter (--max-errors 0)
    #[arg(long, conflicts_with = "max_errors")]
    pub strict: bool,

    /// Fail (exit 3) once there are more than N dead letters (each copy that explode or route all
    /// made counts on its own)
    #[arg(long = "max-errors", value_name = "N", allow_hyphen_values = true, value_parser = error_count)]
    pub max_errors: Option<u64>,

    /// Write a JSON summary of the run to FILE, or to stderr without FILE
    #[arg(
        long,
        value_name = "FILE",
        num_args = 0..=1,
        default_missing_value = "-",
        require_equals = true,
        value_parser = non_empty
    )]
    pub stats: Option<String>,

    /// Lines longer than this, not counting their line end, are dead letters (suffixes K, M, G; default 64M, less under a memory limit)
    #[arg(long = "max-line-bytes", value_name = "BYTES", allow_hyphen_values = true, value_parser = parse_size)]
    pub max_line_bytes: Option<usize>,

    /// Read event time from this field (default: the first of ts, time, timestamp, @timestamp)
    #[arg(long = "time-field", value_name = "PATH")]
    pub time_field: Option<String>,

    /// Fail (exit 3) when an aggregate or fold holds more than N groups, or dedupe or throttle more than N keys
    #[arg(long = "max-groups", value_name = "N", allow_hyphen_values = true, value_parser = parse_count)]
    pub max_groups: Option<usize>,

    /// Emit each window once the watermark (largest event time minus DUR) passes its end; older events are late
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, value_parser = parse_duration)]
    pub lateness: Option<f64>,

    /// Time zone (IANA name, e.g. Europe/Berlin) of window bounds, whose days `every 1d` windows follow; default UTC
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,

    /// Memory for sort before it spills to temporary files, and for a zstd --long input's window (suffixes K, M, G)
    #[arg(long = "memory-limit", value_name = "BYTES", default_value = "1G", allow_hyphen_values = true, value_parser = parse_size)]
    pub memory_limit: usize,

    /// Seed of `sample`'s hash (default 0): another seed keeps another reproducible share
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = seed)]
    pub seed: Option<u64>,

    /// Strftime format for event times no built-in format accepts
    #[arg(long = "time-format", value_name = "STRFTIME", value_parser = non_empty)]
    pub time_format: Option<String>,

    /// Set $NAME to the string VALUE in the pipeline (repeatable)
    #[arg(long = "arg", num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append, allow_hyphen_values = true)]
    pub args: Vec<String>,

    /// Set $NAME to the JSON value JSON in the pipeline (repeatable)
    #[arg(long = "argjson", num_args = 2, value_names = ["NAME", "JSON"], action = clap::ArgAction::Append, allow_hyphen_values = true)]
    pub argjson: Vec<String>,

    /// `--arg` and `--argjson` in the order given, which [`Cli::read`] finds.
    #[arg(skip)]
    pub params: Vec<Param>,

    /// Print no warnings or notes on stderr (errors are still printed)
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Exit 1 when nothing was output (like grep)
    #[arg(short = 'e', long = "exit-status")]
    pub exit_status: bool,

    /// Flush stdout after every batch of lines (default when stdout is a terminal)
    #[arg(long = "line-buffered")]
    pub line_buffered: bool,

    /// Show a progress bar on stderr even when it is not a terminal, or when events stream to
    /// the same terminal (by default the bar shows only when stderr is a terminal and stdout is
    /// not, or holds a table until the end)
    #[arg(long, overrides_with = "no_progress")]
    pub progress: bool,

    /// Never show a progress bar
    #[arg(long = "no-progress")]
    pub no_progress: bool,

    /// Print the parsed pipeline and exit without reading input: each stage, whether it runs
    /// on every thread (parallel) or on one in input order (ordered: every stage from the first
    /// that needs order on; an aggregate right after the parallel stages runs in parts, on
    /// every thread, its parts merged in input order), the fields its expressions read, the
    /// fates it adds and the files it writes; then the inputs, how they are read, and the output
    #[arg(long)]
    pub explain: bool,

    /// Print help: the options, stages and functions; or one list in full (stages, functions, formats)
    #[arg(short = 'h', long = "help", value_enum, value_name = "TOPIC", num_args = 0..=1, default_missing_value = "all")]
    pub help: Option<HelpTopic>,

    /// Print a man page or a shell completion script and exit
    #[arg(long, value_enum, value_name = "WHAT")]
    pub generate: Option<Generate>,

    /// Bytes of lines for topic files held in memory (for tests of the engine)
    #[arg(long = "held-bytes", hide = true, value_parser = parse_size)]
    pub held_bytes: Option<usize>,

    /// Bytes read per chunk (for tests of the engine)
    #[arg(long = "chunk-size", hide = true, value_parser = parse_size)]
    pub chunk_size: Option<usize>,
}

/// One `--arg NAME VALUE` or `--argjson NAME JSON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    pub name: String,
    pub value: String,
    /// `--argjson`: the value is JSON text.
    pub json: bool,
}

impl Cli {
    /// Parses a command line (its first item is the program's name), keeping the order of
    /// `--arg` and `--argjson` among them: for a name given twice, the last counts.
    pub(crate) fn read<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let mut matches = Cli::command().try_get_matches_from(args)?;
        let params = params_in_order(&matches);
        let mut cli = Cli::from_arg_matches_mut(&mut matches)?;
        cli.params = params;
        Ok(cli)
    }
}

/// The `--arg` and `--argjson` pairs, by where they stand on the command line.
fn params_in_order(matches: &clap::ArgMatches) -> Vec<Param> {
    let mut params: Vec<(usize, Param)> = Vec::new();
    for (id, json) in [("args", false), ("argjson", true)] {
        let values = matches.get_many::<String>(id).into_iter().flatten();
        let places = matches.indices_of(id).into_iter().flatten();
        let both: Vec<(usize, &String)> = places.zip(values).collect();
        for pair in both.chunks(2) {
            if let [(at, name), (_, value)] = pair {
                let param = Param {
                    name: (*name).clone(),
                    value: (*value).clone(),
                    json,
                };
                params.push((*at, param));
            }
        }
    }
    params.sort_by_key(|(at, _)| *at);
    params.into_iter().map(|(_, p)| p).collect()
}

/// What `--help` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HelpTopic {
    /// Every stage with its syntax
    Stages,
    /// Every function with its arguments
    Functions,
    /// The input and output formats
    Formats,
    /// The options, with the stages and functions in brief
    #[value(hide = true)]
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Generate {
    Man,
    CompleteBash,
    CompleteZsh,
    CompleteFish,
}

/// `30s`, `5m`, `250ms`: seconds.
pub(crate) fn parse_duration(s: &str) -> Result<f64, String> {
    match crate::lang::lexer::lex(s.trim())
        .map(|t| t.into_iter().map(|t| t.tok).collect::<Vec<_>>())
        .as_deref()
    {
        Ok([crate::lang::lexer::Tok::Duration(d)]) if *d >= 0.0 => Ok(*d),
        // The lexer says why a duration cannot be one (`9999999w`: too long).
        Err(e) if s.trim().starts_with(|c: char| c.is_ascii_digit()) => Err(format!("`{s}`: {}", e.message)),
        _ => Err(format!("`{s}` is not a duration such as 30s, 5m or 1h")),
    }
}

/// `4096`, `64K`, `64M`, `1G`.
pub(crate) fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (num, mul) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1usize << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    let n: usize = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size such as 4096, 64K or 64M"))?;
    n.checked_mul(mul)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{s}` is out of range"))
}

/// A count of things evq may hold at once (`--max-groups`, `--max-open-files`): at least 1.
fn parse_count(s: &str) -> Result<usize, String> {
    match whole(s)? {
        0 => Err("0 leaves no room for any; give at least 1".to_owned()),
        n => Ok(n),
    }
}

/// `-j N`: 0 is refused with the other settings (see `config`).
fn jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => Err(format!(
            "`{s}` threads are more than the {} evq runs at most",
            crate::config::MAX_JOBS
        )),
        _ => whole(s),
    }
}

/// `--year YEAR`: a year evq can write, 0 to 9999.
fn year(text: &str) -> Result<i32, String> {
    text.parse()
        .ok()
        .filter(|y| (0..=9999).contains(y))
        .ok_or_else(|| format!("`{text}` is not a year from 0 to 9999 (a whole number, such as 2026)"))
}

/// A text option's value, which an empty one cannot mean (`--format ''`, `--stats=`).
fn non_empty(text: &str) -> Result<String, String> {
    match text {
        "" => Err("the value is empty; give one, or leave the option out".to_owned()),
        _ => Ok(text.to_owned()),
    }
}

/// `--max-errors N`: a count of dead letters, which cannot be negative.
fn error_count(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a count of lines: write 0 or more (--max-errors 0 is --strict)"))
}

/// `--seed N`: any whole number a 64-bit hash can be seeded with.
fn seed(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a seed: write a whole number from 0 to {}", u64::MAX))
}

/// A whole number, with a message that says what is wrong with one that is not.
fn whole(s: &str) -> Result<usize, String> {
    use std::num::IntErrorKind;
    s.trim().parse::<usize>().map_err(|e| match e.kind() {
        IntErrorKind::PosOverflow => format!("`{s}` is too large: at most {}", usize::MAX),
        _ if s.trim().starts_with('-') => format!("`{s}` is negative: give at least 1"),
        _ => format!("`{s}` is not a whole number"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_option_says_why_a_value_is_not_one() {
        assert_eq!(parse_duration("90s"), Ok(90.0));
        let too_long = parse_duration("9999999w").expect_err("too long");
        assert!(
            too_long.starts_with("`9999999w`: the duration is too long"),
            "{too_long}"
        );
        assert_eq!(
            parse_duration("soon"),
            Err("`soon` is not a duration such as 30s, 5m or 1h".into())
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert!(parse_size("0").is_err());
        assert_eq!(parse_count("3"), Ok(3));
        assert!(parse_count("0").is_err_and(|e| e.contains("at least 1")));
        assert!(parse_size("lots").is_err());
        assert!(parse_count("18446744073709551616").is_err_and(|e| e.contains("too large")));
        assert!(parse_count("-1").is_err_and(|e| e.contains("negative")));
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
