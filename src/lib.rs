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
#[doc(hidden)]
pub mod fuzzing;
mod help;
mod input;
mod json;
mod lang;
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

use clap::{CommandFactory, Parser};
use cli::{Cli, Generate};
use config::Config;
pub use exit::ExitStatus;
use std::io::Write;

/// Runs evq with these arguments (the first is the program name).
pub fn run<I, T>(args: I) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    fault::report_panics();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let status = if e.use_stderr() {
                ExitStatus::Usage
            } else {
                ExitStatus::Success
            };
            usage::report(&e);
            return status;
        }
    };
    messages::set_quiet(cli.quiet);
    if let Some(topic) = cli.help {
        return help::print(topic);
    }
    if let Some(g) = cli.generate {
        return generate(g);
    }
    let cfg = match Config::from_cli(cli) {
        Ok(c) => c,
        Err(e) => {
            messages::text(&e.0);
            return ExitStatus::Usage;
        }
    };
    if cfg.explain {
        return match messages::stdout(explain(&cfg)) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                messages::error(format_args!("stdout: {}", input::reader::io_message(&e)));
                ExitStatus::Output
            }
            _ => ExitStatus::Success,
        };
    }
    messages::waiting_on_terminal(cfg.inputs.iter().map(|i| i.name.as_str()));
    output::ignore_sigxfsz();
    let stdout = Box::new(std::io::BufWriter::with_capacity(
        256 << 10,
        output::whole_lines::stdout(),
    ));
    exec::run(cfg, stdout)
}

fn explain(cfg: &Config) -> String {
    use clap::ValueEnum;
    let inputs: Vec<&str> = cfg.inputs.iter().map(|i| i.name.as_str()).collect();
    let stages: Vec<String> = cfg.pipeline.explain().lines().map(|l| format!("  {l}")).collect();
    let format = cfg
        .format
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    format!(
        "pipeline: {}\nstages:\n{}\ninputs: {}\nthreads: {} (parallel stages run on every thread; ordered ones on one, in input order)\noutput: {format}",
        cfg.source.trim(),
        stages.join("\n"),
        inputs.join(", "),
        cfg.jobs,
    )
}

fn generate(what: Generate) -> ExitStatus {
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
    match result.and_then(|_| out.flush()) {
        Ok(()) => ExitStatus::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Success,
        Err(e) => {
            messages::error(format_args!("stdout: {}", input::reader::io_message(&e)));
            ExitStatus::Output
        }
    }
}
