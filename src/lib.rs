//! evq: a fast, lossless stream processor for newline-delimited events.
//!
//! `run` reads like the table of contents: parse the command line, build the
//! configuration (every usage error surfaces here, before input is read), then
//! hand it to the engine.

mod agg;
mod chain;
mod cli;
mod config;
mod event;
mod exec;
mod exit;
mod fault;
mod flags;
#[doc(hidden)]
pub mod fuzzing;
mod help;
mod input;
mod json;
mod lang;
#[cfg(test)]
mod layers;
mod manual;
mod messages;
mod mismatch;
mod output;
mod parse;
mod pipeline;
mod progress;
mod seen;
mod sniff;
mod stage;
mod stats;
mod time;
mod usage;

use anyhow::Context as _;
use clap::CommandFactory;
use cli::{Cli, Generate};
use config::{Config, Facts};
pub use exit::ExitStatus;
use std::io::Write;

/// Runs evq with these arguments (the first is the program name). A panic anywhere (a bug)
/// is reported as an internal error, exit 70; the engine's threads have closed every output
/// file on whole lines by then.
pub fn run<I, T>(args: I) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    fault::report_panics();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_args(args))).unwrap_or(ExitStatus::Internal)
}

fn run_args<I, T>(args: I) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    fault::inject(fault::Site::Start, 1);
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::read(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let status = if e.use_stderr() {
                ExitStatus::Usage
            } else {
                ExitStatus::Success
            };
            usage::report(&e, &args);
            return status;
        }
    };
    messages::set_quiet(cli.quiet);
    if let Some(topic) = cli.help {
        return help::print(topic);
    }
    if let Some(g) = cli.generate {
        return reported(generate(g));
    }
    let verbose = cli.verbose;
    let built = Config::build(cli, &facts());
    if verbose {
        for (path, why) in &built.skipped.entries {
            messages::note(format!("skipped {}: {why}", messages::shown(path)));
        }
    }
    if let Some(note) = built.skipped.note(verbose) {
        messages::note(note);
    }
    let cfg = match built.config {
        Ok(c) => c,
        Err(e) => {
            messages::error(&e);
            return e.status();
        }
    };
    messages::set_color(cfg.stderr_color);
    for w in &cfg.warnings {
        messages::warning(w);
    }
    if cfg.explain {
        return reported(written(messages::stdout(explain(&cfg))));
    }
    if let Err(e) = raise_open_file_limit(&cfg) {
        messages::error(e);
        return ExitStatus::Input;
    }
    messages::waiting_on_terminal(cfg.inputs.iter().map(|i| i.name.as_str()));
    output::ignore_sigxfsz();
    let stdout = Box::new(std::io::BufWriter::with_capacity(
        256 << 10,
        output::whole_lines::stdout(),
    ));
    exec::run(cfg, stdout)
}

/// What building the config needs to know of the world, read once here so that building
/// it has no side effects and tests can fix each fact.
fn facts() -> Facts {
    use std::io::IsTerminal;
    Facts {
        stdout_terminal: std::io::stdout().is_terminal(),
        stderr_terminal: std::io::stderr().is_terminal(),
        stdout_file: std::fs::metadata("/dev/stdout").is_ok_and(|m| m.is_file()),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        cores: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        now: std::time::SystemTime::now(),
        modified: |path| std::fs::metadata(path).and_then(|m| m.modified()).ok(),
        memory_limit: memory_limit(),
    }
}

/// The memory the process may use: `ulimit -v`, or its cgroup's limit (v2 `memory.max`, v1
/// `memory.limit_in_bytes`), whichever is least; `None` when none is set.
fn memory_limit() -> Option<u64> {
    let address_space = rlimit::getrlimit(rlimit::Resource::AS)
        .ok()
        .map(|(soft, _)| soft)
        .filter(|&soft| soft != rlimit::INFINITY);
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .into_iter()
    .filter_map(|file| std::fs::read_to_string(file).ok()?.trim().parse::<u64>().ok());
    address_space.into_iter().chain(cgroup).min()
}

/// Files that evq may need open at once besides its inputs and topic files: stdio, the
/// dead-letter and stats files, a sort's spill file, the lookup files, the binary itself.
const OTHER_FILES: u64 = 32;

/// Topic files and `--merge`: as many files open at once as the system allows (like cargo),
/// so that thousands of topics do not close and reopen files, and `--merge` can hold every
/// input open. Raised before the engine sets the files up, which is when it takes its share
/// of the limit. An error, before anything is read, when `--merge` has more inputs than even
/// the raised limit lets it open.
fn raise_open_file_limit(cfg: &Config) -> Result<(), String> {
    let merged = if cfg.merge.is_some() {
        cfg.inputs.len() as u64
    } else {
        0
    };
    if !cfg.writes_files() && merged == 0 {
        return Ok(());
    }
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(u64::MAX);
    if merged + OTHER_FILES > limit {
        return Err(format!(
            "--merge holds each of its {merged} inputs open, but this process may open only {limit} files; raise the limit (ulimit -n {}) or merge fewer inputs at a time",
            merged + OTHER_FILES
        ));
    }
    Ok(())
}

/// The outcome of a path that only writes to stdout (`--generate`, `--explain`): its error
/// is reported, and a failed write is an output error, exit 4.
fn reported(result: anyhow::Result<()>) -> ExitStatus {
    match result {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            messages::error(format_args!("{e:#}"));
            ExitStatus::Output
        }
    }
}

/// A write to stdout: a closed pipe is a quiet success, as on the data path.
fn written(result: std::io::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result
            .map_err(|e| anyhow::Error::msg(messages::io(&e)))
            .context("stdout"),
    }
}

fn explain(cfg: &Config) -> String {
    use clap::ValueEnum;
    let names: Vec<&str> = cfg.inputs.iter().map(|i| i.name.as_str()).collect();
    let read_as = cfg.read.format.to_possible_value().map(|v| v.get_name().to_string());
    let merged = if cfg.merge.is_some() {
        ", merged by event time"
    } else {
        ""
    };
    let inputs = format!("{} (read as {}{merged})", names.join(", "), read_as.unwrap_or_default());
    let stages: Vec<String> = cfg.pipeline.explain().lines().map(|l| format!("  {l}")).collect();
    let mut format = cfg
        .printer
        .format
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    if let Some(t) = &cfg.printer.template {
        let mut n = event::Needs::default();
        t.needs(&mut n);
        let reads: Vec<String> = n.reads.iter().map(ToString::to_string).collect();
        format = format!("--format TEMPLATE, reads {}", reads.join(", "));
    } else if cfg.printer.raw {
        format.push_str(" (-r: an event of one field as its value, a string without quotes)");
    }
    if cfg.pipeline.ends_in_files() {
        format = "none on stdout: the last stage, to, writes every event to files".to_string();
    }
    let in_parts = if cfg.pipeline.partial.is_some() {
        "; one in parts: on every thread, its parts merged in input order"
    } else {
        ""
    };
    format!(
        "pipeline: {}\nstages:\n{}\ninputs: {inputs}\nthreads: {} (parallel stages run on every thread; ordered ones on one, in input order{in_parts})\noutput: {format}",
        cfg.source.trim(),
        stages.join("\n"),
        cfg.jobs,
    )
}

/// `--generate`: the man page or a shell's completion script on stdout.
fn generate(what: Generate) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    let shell = match what {
        Generate::Man => None,
        Generate::CompleteBash => Some(clap_complete::Shell::Bash),
        Generate::CompleteZsh => Some(clap_complete::Shell::Zsh),
        Generate::CompleteFish => Some(clap_complete::Shell::Fish),
    };
    let result = match shell {
        None => manual::render(&mut out),
        Some(shell) => {
            clap_complete::generate(shell, &mut cmd, "evq", &mut out);
            Ok(())
        }
    };
    written(result.and_then(|()| out.flush()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn a_closed_stdout_is_a_quiet_success_and_a_full_one_fails_naming_it() {
        assert!(written(Err(Error::from(ErrorKind::BrokenPipe))).is_ok());
        let full = written(Err(Error::from_raw_os_error(libc::ENOSPC)));
        let e = full.as_ref().expect_err("a full disk fails");
        assert_eq!(format!("{e:#}"), "stdout: No space left on device");
        assert_eq!(reported(full), ExitStatus::Output);
        assert_eq!(reported(written(Ok(()))), ExitStatus::Success);
    }

    #[test]
    fn facts_are_read_from_this_process() {
        let f = facts();
        assert!(f.cores >= 1);
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert!((f.modified)(&manifest).is_some());
        assert_eq!((f.modified)(std::path::Path::new("/nonexistent/evq")), None);
    }
}
