//! Config tests: each wrong command line is refused with its one-line message before any
//! input is read; a right one becomes the settings the run uses.

use super::*;
use clap::Parser;
use std::time::{Duration, UNIX_EPOCH};

/// 2026-11-28T10:00:00Z.
const NOW: u64 = 1_795_860_000;

/// Fixed facts: no terminal, stdout a pipe, two cores, [`NOW`], every file modified in 2020.
fn facts() -> Facts {
    Facts {
        stdout_terminal: false,
        stderr_terminal: false,
        stdout_file: false,
        cores: 2,
        now: UNIX_EPOCH + Duration::from_secs(NOW),
        modified: |_| Some(UNIX_EPOCH + Duration::from_secs(1_590_000_000)),
    }
}

fn cli(args: &[&str]) -> Cli {
    match Cli::try_parse_from(std::iter::once("evq").chain(args.iter().copied())) {
        Ok(cli) => cli,
        Err(e) => panic!("{args:?}: {e}"),
    }
}

/// What `evq ARGS…` builds with these facts.
fn built_with(args: &[&str], facts: &Facts) -> Built {
    Config::build(cli(args), facts)
}

/// The config for `evq ARGS…`, or why it is refused.
fn config(args: &[&str]) -> Result<Config, UsageError> {
    built_with(args, &facts()).config
}

fn usage_error(args: &[&str]) -> UsageError {
    match config(args) {
        Ok(_) => panic!("{args:?} was accepted"),
        Err(e) => e,
    }
}

/// The refusal of `evq ARGS…` as stderr shows it.
fn error(args: &[&str]) -> String {
    crate::messages::line(usage_error(args))
}

#[test]
fn wrong_command_lines_are_refused_with_their_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["-j", "0", "where true"], "evq: --jobs must be at least 1"),
        (
            &["--time-field", "a + 1", "where true"],
            "evq: --time-field: `a + 1` is not a field path",
        ),
        (&["--time-field", "len(a)", "where true"], "is not a field path"),
        (
            &["--time-format", "%Q", "where true"],
            "evq: --time-format: `%Q` is not a valid strftime format",
        ),
        (
            &["-O", "out", r#"to "x.ndjson""#],
            "evq: -O: the pipeline already ends with `to`",
        ),
        (
            &["-i", "json", "--multiline-start", "^x", "where true"],
            "evq: --multiline-start joins text lines",
        ),
        (
            &["-i", "csv", "--multiline-start", "^x", "where true"],
            "-i json, csv and tsv",
        ),
        (&["--multiline-start", "(", "where true"], "evq: --multiline-start: "),
        (&["wher true"], "evq: pipeline error: unknown stage `wher`"),
        (&["-f", "/nonexistent/evq-pipeline"], "evq: /nonexistent/evq-pipeline: "),
    ];
    for (args, want) in cases {
        let got = error(args);
        assert!(got.starts_with("evq: "), "{args:?}: {got}");
        assert!(got.contains(want), "{args:?}: want {want:?} in {got:?}");
    }
}

#[test]
fn a_pipeline_error_is_rendered_with_a_caret_and_a_hint() {
    let got = error(&["where a ==", "-"]);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[1], "  where a ==", "{got}");
    assert!(lines[2].trim_start().starts_with('^'), "{got}");
    assert!(lines.iter().any(|l| l.starts_with("  hint: ")), "{got}");
}

#[test]
fn a_bad_file_name_template_is_refused_before_reading() {
    let got = error(&[r#"to "{a}/../x.ndjson""#]);
    assert!(got.starts_with("evq: pipeline error: file name template"), "{got}");
}

#[test]
fn outputs_that_are_inputs_of_the_run_are_refused_naming_both() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, "{}\n").expect("an input file");
    let input = input.to_str().expect("a UTF-8 path");
    let cases: &[(&[&str], &str)] = &[
        (&["--dead-letter", input, "where true", input], "evq: --dead-letter "),
        (&[&format!("--stats={input}"), "where true", input], "evq: --stats="),
        (&[&format!(r#"tee "{input}""#), input], "evq: tee "),
        (&[&format!(r#"to "{input}""#), input], "evq: to "),
    ];
    for (args, want) in cases {
        let got = error(args);
        assert!(got.starts_with(want), "{args:?}: {got}");
        assert!(got.ends_with("evq never writes over its input"), "{args:?}: {got}");
    }
}

#[test]
fn a_pipeline_file_turns_the_first_argument_into_an_input() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("p.evq");
    std::fs::write(&file, "where a == 1\n").expect("a pipeline file");
    let c = config(&[
        "-f",
        file.to_str().expect("a UTF-8 path"),
        "first.ndjson",
        "second.ndjson",
    ])
    .expect("a valid command");
    assert_eq!(c.source, "where a == 1\n");
    let names: Vec<&str> = c.inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["first.ndjson", "second.ndjson"]);
}

#[test]
fn settings_follow_the_flags() {
    let c = config(&[
        "-j",
        "3",
        "-o",
        "csv",
        "--strict",
        "--max-errors",
        "7",
        "--stats",
        "where true",
    ])
    .expect("a valid command");
    assert_eq!(
        (c.jobs, c.format, c.strict, c.max_errors),
        (3, Format::Csv, true, Some(7))
    );
    assert!(matches!(c.stats, Some(StatsTo::Stderr)), "{:?}", c.stats);
    assert_eq!(c.env.files.as_slice(), ["-"]);

    let c = config(&["--stats=s.json", "--year", "2020", "where true", "a.log"]).expect("a valid command");
    assert!(
        matches!(&c.stats, Some(StatsTo::File(p)) if p.as_os_str() == "s.json"),
        "{:?}",
        c.stats
    );
    assert_eq!(c.env.years.as_slice(), [2020]);
    assert!(c.merge.is_none());
}

#[test]
fn input_format_is_lines_when_the_pipeline_starts_with_parse() {
    let format = |args: &[&str]| config(args).expect("a valid command").read.format;
    assert_eq!(format(&["parse logfmt"]), input::InputFormat::Lines);
    assert_eq!(format(&["where true | parse logfmt"]), input::InputFormat::Ndjson);
    assert_eq!(format(&["-i", "ndjson", "parse logfmt"]), input::InputFormat::Ndjson);
    assert_eq!(format(&["where true"]), input::InputFormat::Ndjson);
}

#[test]
fn writing_topic_files_reads_in_smaller_chunks_unless_told() {
    let chunk = |args: &[&str]| config(args).expect("a valid command").read.chunk_size;
    assert_eq!(chunk(&[r#"tee "x.ndjson""#]), 512 << 10);
    assert_eq!(chunk(&["where true"]), 1 << 20);
    assert_eq!(chunk(&["route by a", "-O", "out"]), 512 << 10);
    assert_eq!(chunk(&["--chunk-size", "4K", "route by a", "-O", "out"]), 4096);
}
