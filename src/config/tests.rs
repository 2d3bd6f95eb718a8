//! Config tests: each wrong command line is refused with its one-line message before any
//! input is read; a right one becomes the settings the run uses.

use super::*;
use crate::exit::ExitStatus;
use crate::lang::parse_pipeline;
use crate::parse::Year;
use std::time::{Duration, UNIX_EPOCH};

/// 2026-11-28T10:00:00Z.
const NOW: u64 = 1_795_860_000;

/// Fixed facts: no terminal, stdout a pipe, two cores, [`NOW`], every file modified in 2020.
fn facts() -> Facts {
    Facts {
        stdout_terminal: false,
        stderr_terminal: false,
        stdout_file: false,
        no_color: false,
        cores: 2,
        now: UNIX_EPOCH + Duration::from_secs(NOW),
        modified: |_| Some(UNIX_EPOCH + Duration::from_secs(1_590_000_000)),
        memory_limit: None,
    }
}

fn cli(args: &[&str]) -> Cli {
    match Cli::read(std::iter::once("evq").chain(args.iter().copied())) {
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
            "evq: --time-format: `%Q` is not a valid strftime format: write the layout with chrono's % codes",
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
            "-i json, csv, tsv and zeek",
        ),
        (&["--multiline-start", "(", "where true"], "evq: --multiline-start: "),
        (&["wher true"], "evq: pipeline error: unknown stage `wher`"),
        (
            &["-f", "/nonexistent/evq-pipeline"],
            "evq: -f /nonexistent/evq-pipeline: the pipeline file",
        ),
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
        assert!(
            got.contains("evq never writes over its input: write it elsewhere"),
            "{args:?}: {got}"
        );
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
    let c = config(&["-j", "3", "-o", "csv", "--max-errors", "7", "--stats", "where true"]).expect("a valid command");
    assert_eq!(
        (c.jobs, c.printer.format, c.strict, c.max_errors),
        (3, Format::Csv, false, Some(7))
    );
    assert!(config(&["--strict", "where true"]).expect("a valid command").strict);
    let both = Cli::read(["evq", "--strict", "--max-errors", "7", "where true"]);
    assert!(both.is_err(), "--strict is --max-errors 0: not both");
    let negative = Cli::read(["evq", "--max-errors", "-1", "where true"]).expect_err("refused");
    assert!(
        negative.to_string().contains("`-1` is not a count of lines"),
        "{negative}"
    );
    assert!(matches!(c.stats, Some(StatsTo::Stderr)), "{:?}", c.stats);
    assert_eq!(c.env.files.as_slice(), ["-"]);

    let c = config(&["--stats=s.json", "--year", "2020", "where true", "a.log"]).expect("a valid command");
    assert!(
        matches!(&c.stats, Some(StatsTo::File(p)) if p.as_os_str() == "s.json"),
        "{:?}",
        c.stats
    );
    assert_eq!(c.env.years.as_slice(), [Year::fixed(2020)]);
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

/// Whether a usage error is of the expected kind.
type Kind = fn(&UsageError) -> bool;

#[test]
fn usage_errors_are_typed_exit_2_and_carry_no_prefix() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, "{}\n").expect("an input file");
    let input = input.to_str().expect("a UTF-8 path");
    let cases: Vec<(Vec<&str>, Kind)> = vec![
        (vec!["-j", "0", "where true"], |e| matches!(e, UsageError::NoJobs)),
        (vec!["--time-field", "a + 1", "where true"], |e| {
            matches!(
                e,
                UsageError::Flag {
                    flag: "--time-field",
                    ..
                }
            )
        }),
        (vec!["--time-format", "%Q", "where true"], |e| {
            matches!(
                e,
                UsageError::Flag {
                    flag: "--time-format",
                    ..
                }
            )
        }),
        (vec!["-O", "out", r#"to "x.ndjson""#], |e| {
            matches!(e, UsageError::Flag { flag: "-O", .. })
        }),
        (vec!["-i", "tsv", "--multiline-start", "^x", "where true"], |e| {
            matches!(e, UsageError::MultilineRecords)
        }),
        (vec!["--multiline-start", "(", "where true"], |e| {
            matches!(
                e,
                UsageError::Flag {
                    flag: "--multiline-start",
                    ..
                }
            )
        }),
        (
            vec!["wher true"],
            |e| matches!(e, UsageError::Pipeline { text, .. } if text == "wher true"),
        ),
        (vec![r#"to "{a}/../x""#], |e| matches!(e, UsageError::Pipeline { .. })),
        (
            vec!["-f", "/nonexistent/p.evq"],
            |e| matches!(e, UsageError::PipelineFile { io, .. } if io.kind() == std::io::ErrorKind::NotFound),
        ),
        (
            vec!["--dead-letter", input, "where true", input],
            |e| matches!(e, UsageError::Overwrite { what, input } if what.starts_with("--dead-letter ") && input.name.ends_with("in.ndjson")),
        ),
    ];
    for (args, is) in cases {
        let e = usage_error(&args);
        assert!(is(&e), "{args:?}: {e:?}");
        assert_eq!(e.status(), ExitStatus::Usage, "{args:?}");
        assert!(!e.to_string().starts_with("evq:"), "{args:?}: {e}");
    }
}

#[test]
fn the_messages_of_usage_errors_read_as_before() {
    let io = std::io::Error::from_raw_os_error(2);
    let file = UsageError::PipelineFile {
        path: "p.evq".into(),
        io,
    };
    assert_eq!(
        file.to_string(),
        "-f p.evq: the pipeline file cannot be read: No such file or directory"
    );
    let format = UsageError::PipelineFile {
        path: "csv".into(),
        io: std::io::Error::from_raw_os_error(2),
    };
    assert_eq!(
        format.to_string(),
        "-f csv: the pipeline file cannot be read: No such file or directory; \
         -f names a file holding the pipeline; for csv output, use -o csv"
    );
    assert_eq!(
        UsageError::flag("--time-field", "`x +` is not a field path").to_string(),
        "--time-field: `x +` is not a field path"
    );
    let pipeline = usage_error(&["where a =="]);
    assert_eq!(
        pipeline.to_string().lines().next(),
        Some("pipeline error: expected an expression")
    );
}

#[test]
fn pipeline_source_is_the_argument_or_the_file_before_the_paths() {
    let (source, paths) = pipeline_source(&cli(&["where true", "a", "b"])).expect("no file to read");
    assert_eq!(source, "where true");
    assert_eq!(paths, ["a", "b"]);
    let (source, paths) = pipeline_source(&cli(&["--", "-x"])).expect("no file to read");
    assert_eq!((source.as_str(), paths.len()), ("-x", 0));
}

#[test]
fn out_dir_adds_a_to_stage_with_the_directory_escaped() {
    let text = |dir: &str| match out_dir_stage(dir, &[]).expect("no to before").spec {
        StageSpec::To { text, tee, .. } => {
            assert!(!tee, "{dir}");
            text
        }
        other => panic!("{dir}: {other:?}"),
    };
    assert_eq!(text("out/"), "out/{topic()}.ndjson");
    assert_eq!(text("/"), "/{topic()}.ndjson");
    assert_eq!(text(""), "./{topic()}.ndjson");
    assert_eq!(text("a{b}"), "a{{b}}/{topic()}.ndjson");
    let tee = parse_pipeline(r#"tee "x.ndjson""#).expect("a valid pipeline");
    assert!(out_dir_stage("out", &tee).is_ok(), "-O after tee is a second output");
}

#[test]
fn terminals_decide_the_output_defaults() {
    let at_terminal = Facts {
        stdout_terminal: true,
        stderr_terminal: true,
        ..facts()
    };
    let built = |args: &[&str], facts: &Facts| built_with(args, facts).config.expect("a valid command");
    let c = built(&["count by a"], &at_terminal);
    assert_eq!(
        (c.printer.format, c.line_buffered, c.progress),
        (Format::Table, true, true)
    );
    let c = built(&["where true"], &at_terminal);
    assert_eq!(c.printer.format, Format::Ndjson);
    assert!(!c.progress, "lines streaming to the terminal would be drawn over");
    let c = built(&["--progress", "where true"], &at_terminal);
    assert!(c.progress);
    let c = built(&["-o", "csv", "where true"], &at_terminal);
    assert!(c.progress, "a table is written at the end");
    let stderr_only = Facts {
        stdout_terminal: false,
        ..at_terminal.clone()
    };
    assert!(built(&["where true"], &stderr_only).progress);
    let c = built(&["--no-progress", "-o", "ndjson", "count by a"], &at_terminal);
    assert_eq!((c.printer.format, c.progress), (Format::Ndjson, false));
    let c = built(&["count by a"], &facts());
    assert_eq!(
        (c.printer.format, c.line_buffered, c.progress),
        (Format::Ndjson, false, false)
    );
    let c = built(&["--progress", "--lateness", "1m", "count every 1m"], &facts());
    assert_eq!((c.line_buffered, c.progress), (true, true));
}

#[test]
fn jobs_default_to_the_cores() {
    let five = Facts { cores: 5, ..facts() };
    let jobs = |args: &[&str]| built_with(args, &five).config.expect("a valid command").jobs;
    assert_eq!(jobs(&["where true"]), 5);
    assert_eq!(jobs(&["-j", "1", "where true"]), 1);
}

#[test]
fn the_longest_line_is_64_mib_or_what_a_memory_limit_leaves_each_job() {
    let limit = |args: &[&str], memory_limit| {
        let facts = Facts {
            memory_limit,
            ..facts()
        };
        let c = built_with(args, &facts).config.expect("a valid command");
        assert_eq!(c.env.max_bytes.0, c.read.max_line_bytes, "{args:?}");
        c.read.max_line_bytes
    };
    assert_eq!(limit(&["where true"], None), 64 << 20);
    assert_eq!(limit(&["where true"], Some(1 << 40)), 64 << 20);
    // 2 GiB over three threads (two jobs and the ordered part), 64 times a line each.
    assert_eq!(limit(&["where true"], Some(2 << 30)), (2 << 30) / 3 / 64);
    assert_eq!(limit(&["-j", "1", "where true"], Some(2 << 30)), (2 << 30) / 2 / 64);
    assert_eq!(limit(&["where true"], Some(1 << 20)), 64 << 10, "never below 64 KiB");
    assert_eq!(
        limit(&["--max-line-bytes", "1G", "where true"], Some(2 << 30)),
        1 << 30,
        "as given"
    );
}

#[test]
fn the_env_holds_the_clock_the_years_and_the_time_format() {
    let c = config(&["where true", "a.log", "-"]).expect("a valid command");
    assert_eq!(c.env.now, NOW as f64);
    // A file's year is its modification year (2020 here), and no line is later than that
    // time; stdin's is this year, and no line is later than now.
    let modified = Year {
        year: 2020,
        latest: Some(1_590_000_000),
    };
    let now = Year {
        year: 2026,
        latest: Some(NOW as i64),
    };
    assert_eq!(c.env.years.as_slice(), [modified, now]);
    assert_eq!(c.env.time_format, None);
    let unknown = Facts {
        modified: |_| None,
        ..facts()
    };
    let c = built_with(&["where true", "a.log"], &unknown)
        .config
        .expect("a valid command");
    assert_eq!(c.env.years.as_slice(), [now]);
    let c = config(&[
        "--year",
        "1999",
        "--time-format",
        "%d.%m.%Y",
        "where true",
        "a.log",
        "-",
    ])
    .expect("a valid command");
    assert_eq!(c.env.years.as_slice(), [Year::fixed(1999), Year::fixed(1999)]);
    assert_eq!(c.env.time_format.as_deref(), Some("%d.%m.%Y"));
}

#[test]
fn stdout_is_an_output_only_when_it_is_a_file() {
    let args = cli(&["--dead-letter", "d.ndjson", "--stats=-", "where true"]);
    let asts = parse_pipeline("where true").expect("a valid pipeline");
    let names =
        |facts: &Facts| -> Vec<String> { outputs(&args, &asts, facts).into_iter().map(|(what, _)| what).collect() };
    assert_eq!(names(&facts()), ["--dead-letter d.ndjson"]);
    let to_file = Facts {
        stdout_file: true,
        ..facts()
    };
    assert_eq!(names(&to_file), ["--dead-letter d.ndjson", "stdout"]);
}

#[test]
fn skipped_directory_entries_come_back_also_with_a_refusal() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("a.ndjson"), "{}\n").expect("an input file");
    std::os::unix::fs::symlink(dir.path().join("a.ndjson"), dir.path().join("b.ndjson")).expect("a link");
    let dir = dir.path().to_str().expect("a UTF-8 path");
    let built = built_with(&["where true", dir], &facts());
    assert_eq!(built.skipped.links, 1);
    assert_eq!(built.config.expect("a valid command").inputs.len(), 1);
    // Refused after the walk: the note is still there to print.
    let built = built_with(&["-i", "json", "--multiline-start", "^x", "where true", dir], &facts());
    assert_eq!(built.skipped.links, 1);
    assert!(matches!(built.config, Err(UsageError::MultilineRecords)));
    // Refused before the walk: nothing was walked.
    let built = built_with(&["-j", "0", "where true", dir], &facts());
    assert_eq!(built.skipped, Skipped::default());
}

#[test]
fn topic_files_open_as_many_as_the_limit_allows_unless_told() {
    let max_open = |args: &[&str]| config(args).expect("a valid command").pipeline.topic.max_open;
    assert_eq!(max_open(&["route by a", "-O", "out"]), usize::MAX);
    assert_eq!(max_open(&["--max-open-files", "50", "route by a", "-O", "out"]), 50);
}

#[test]
fn only_pipelines_with_to_or_tee_write_files() {
    let writes = |args: &[&str]| config(args).expect("a valid command").writes_files();
    assert!(!writes(&["where true | count by a"]));
    assert!(writes(&["route by a", "-O", "out"]));
    assert!(writes(&[r#"tee "x.ndjson" | count by a"#]));
}

#[test]
fn output_options_build_the_printer_and_colour_follows_each_terminal() {
    let terminal = |stdout, stderr, no_color| Facts {
        stdout_terminal: stdout,
        stderr_terminal: stderr,
        no_color,
        ..facts()
    };
    let built = |args: &[&str], facts: &Facts| built_with(args, facts).config.expect("a valid command");
    let c = built(&["-r", "count by a"], &terminal(true, true, false));
    assert_eq!(
        (c.printer.format, c.printer.raw),
        (Format::Ndjson, true),
        "-r writes ndjson"
    );
    assert!(c.printer.color && c.stderr_color);
    let c = built(&["where true"], &terminal(false, true, false));
    assert!(!c.printer.color && c.stderr_color, "piped stdout, terminal stderr");
    let c = built(&["where true"], &terminal(true, true, true));
    assert!(!c.printer.color && !c.stderr_color, "NO_COLOR");
    let c = built(&["--color", "always", "where true"], &terminal(false, false, true));
    assert!(c.printer.color && c.stderr_color);
    let c = built(&["--color", "never", "where true"], &terminal(true, true, false));
    assert!(!c.printer.color && !c.stderr_color);
    let c = built(&["-o", "tsv", "--no-header", "where true"], &facts());
    assert!(!c.printer.header);
    let c = built(&["--format", "{a}", "count by a"], &terminal(true, true, false));
    assert!(c.printer.template.is_some());
    assert_eq!(c.printer.format, Format::Ndjson, "--format is not a table");
}

#[cfg(not(feature = "nats"))]
#[test]
fn a_nats_input_needs_the_nats_feature() {
    let e = usage_error(&["where true", "nats://127.0.0.1:4222/ORDERS?durable=evq"]);
    assert_eq!(e.status(), ExitStatus::Usage);
    assert_eq!(
        e.to_string(),
        "nats://127.0.0.1:4222/ORDERS?durable=evq: this evq was built without NATS; build it with `cargo build --features nats`"
    );
}

#[cfg(feature = "nats")]
#[test]
fn a_nats_input_is_read_alone_with_its_settings() {
    let url = "nats://127.0.0.1:4222/ORDERS?durable=evq&batch=20";
    let c = config(&["where true", "-F", url]).unwrap();
    let n = c.nats.expect("a NATS input");
    assert_eq!((n.stream.as_str(), n.batch, n.follow), ("ORDERS", 20, true));
    let e = error(&["where true", url, "other.ndjson"]);
    assert!(e.contains("is read alone"), "{e}");
    let e = error(&["where true", "nats://me:secret@127.0.0.1:4222/ORDERS?durable=evq"]);
    assert!(e.contains("--nats-creds") && !e.contains("secret"), "{e}");
    let e = error(&["to \"nats://me:secret@127.0.0.1:4222/OUT.x\""]);
    assert!(e.contains("--nats-creds") && !e.contains("secret"), "{e}");
}

#[cfg(not(feature = "nats"))]
#[test]
fn publishing_to_nats_needs_the_nats_feature() {
    let e = usage_error(&["to \"nats://127.0.0.1:4222/OUT.{topic()}\""]);
    assert_eq!(e.status(), ExitStatus::Usage);
    assert!(
        e.to_string().contains("build it with `cargo build --features nats`"),
        "{e}"
    );
}

#[test]
fn credentials_in_a_nats_address_are_never_repeated_with_or_without_nats() {
    for args in [
        &["where true", "nats://me:s3cret@127.0.0.1:4222/ORDERS?durable=evq"][..],
        &["where true", "-F", "nats://me:s3cret@127.0.0.1:4222/ORDERS", "x.ndjson"],
        &["to \"nats://me:s3cret@127.0.0.1:4222/OUT.x\""],
        &["tee \"nats://me:s3cret@127.0.0.1:4222/OUT.x\" | count"],
    ] {
        let e = usage_error(args).to_string();
        assert!(
            !e.contains("s3cret") && e.contains("nats://…@127.0.0.1:4222"),
            "{args:?}: {e}"
        );
    }
    let e = usage_error(&["tee \"nats://me:s3cret@127.0.0.1:4222/OUT.x\" | count"]).to_string();
    assert!(
        e.starts_with("tee \"nats://…@127.0.0.1:4222/OUT.x\": credentials"),
        "{e}"
    );
    // A scheme in other letter case is neither a file name nor repeated with its secret.
    for args in [
        &["where true", "NATS://u:s3cret@h:1/S"][..],
        &["to \"Nats://u:s3cret@h:1/x\""],
    ] {
        let e = usage_error(args).to_string();
        assert!(
            e.contains("…@h:1") && e.contains("write the scheme in lower case") && !e.contains("s3cret"),
            "{e}"
        );
    }
    // A URL of another scheme is not taken for a file name either (`./http:/h/x`).
    for args in [
        &["where true", "postgres://u:s3cret@h:1/db"][..],
        &["to \"http://u:s3cret@h:1/x\""],
        &["tee \"s3://bucket/{type}.ndjson\""],
        &["--stats=http://u:s3cret@h:1/st", "where true"],
        &["--dead-letter", "http://u:s3cret@h:1/dl", "where true"],
    ] {
        let e = usage_error(args).to_string();
        assert!(
            e.contains("evq reads and writes files and nats:// addresses, not") && !e.contains("s3cret"),
            "{e}"
        );
    }
    assert!(config(&["to \"./http://h/x\""]).is_ok(), "./ makes it a file name");
}

#[test]
fn a_msg_id_must_be_an_expression() {
    let e = error(&["--msg-id", "(", "where true"]);
    assert!(e.starts_with("evq: --msg-id: `(`: ") && e.contains("order_id"), "{e}");
}

#[test]
fn follow_reads_line_formats_and_not_with_merge() {
    let merged = error(&["-F", "--merge", "where true", "a", "b"]);
    assert!(merged.contains("cannot be used with --merge"), "{merged}");
    for format in ["json", "csv", "auto"] {
        let got = error(&["-F", "-i", format, "where true", "a"]);
        assert!(got.contains("follows line formats"), "-i {format}: {got}");
    }
    for format in ["ndjson", "lines", "logfmt"] {
        assert!(config(&["-F", "-i", format, "where true", "a"]).is_ok(), "-i {format}");
    }
    let atomic = error(&["-F", "--atomic", "to \"out/{k}.ndjson\"", "a"]);
    assert!(
        atomic.starts_with("evq: --atomic: puts the files in place when the run succeeds"),
        "{atomic}"
    );
    assert!(config(&["-F", "--atomic", "head 5 | to \"out/{k}.ndjson\"", "a"]).is_ok());
    for never_ends in [
        "head 1 by k | to \"o/{k}\"",
        "count by k | head 1 | to \"o/{k}\"",
        "sort k | head 2 | to \"o/x\"",
    ] {
        let atomic = error(&["-F", "--atomic", never_ends, "a"]);
        assert!(
            atomic.starts_with("evq: --atomic: puts the files"),
            "{never_ends}: {atomic}"
        );
    }
    assert!(config(&["-F", "--atomic", "count every 1m | head 1 | to \"o/x\"", "a"]).is_ok());
    let progress = config(&["-F", "--progress", "where true", "a"]).expect("a valid command");
    assert!(
        progress
            .warnings
            .iter()
            .any(|w| w.starts_with("--progress has no effect: with --follow"))
    );
}

#[test]
fn since_and_until_count_back_from_now_and_must_leave_a_range() {
    let now = NOW as f64;
    let range_of = |args: &[&str]| range(&cli(args), &facts()).expect("a valid range");
    assert_eq!(range_of(&["--since", "1h", "where true"]), (Some(now - 3600.0), None));
    assert_eq!(
        range_of(&["--since", "2d", "--until", "1d", "where true"]),
        (Some(now - 172_800.0), Some(now - 86_400.0))
    );
    let empty = error(&["--since", "1h", "--until", "2h", "where true"]);
    assert!(empty.contains("is not after --since"), "{empty}");
    assert!(error(&["--since", "yesterday", "where true"]).starts_with("evq: --since"));
}

#[test]
fn merge_stops_reading_at_until_only_when_it_orders_by_that_time() {
    let until = |args: &[&str]| config(args).expect("a valid command").read.until;
    let at = "2026-11-01T00:00:00Z";
    assert_eq!(
        until(&["--merge", "--until", at, "where true", "a", "b"]),
        Some(1_793_491_200.0)
    );
    assert_eq!(until(&["--until", at, "where true", "a", "b"]), None, "without --merge");
    assert_eq!(
        until(&["--merge", "--until", at, "parse json", "a", "b"]),
        None,
        "parse first"
    );
    assert_eq!(
        until(&["--merge", "-i", "lines", "--until", at, "where true", "a"]),
        None
    );
}
