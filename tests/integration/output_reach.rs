//! Output for shell pipelines and people: `-r`, `--format TEMPLATE`, `--no-header`, `-o markdown`
//! and `-o logfmt`, colour (`--color`, `NO_COLOR`), and tables that round floats.

use crate::common::{evq, run};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

const LOGS: &str = concat!(
    r#"{"ts":"2026-11-01T10:00:00Z","level":"info","msg":"user \"ann\" logged in\tok","n":1.50,"user":{"id":7,"name":"ann"}}"#,
    "\n",
    r#"{"ts":"2026-11-01T10:00:01Z","level":"error","msg":"disk | full","n":12.3456789,"user":{"id":8}}"#,
    "\n",
);

/// The one line a usage error prints, and its exit status.
fn usage_error(args: &[&str]) -> String {
    let r = run(args, LOGS);
    assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
    assert!(r.stdout.is_empty());
    r.stderr
}

#[test]
fn raw_writes_a_one_field_string_without_quotes_or_escapes() {
    let r = run(&["-r", "keep msg"], LOGS);
    assert_eq!(r.stdout, "user \"ann\" logged in\tok\ndisk | full\n");
    assert_eq!(r.code, 0);
}

#[test]
fn raw_writes_other_single_values_as_json_and_follows_nesting_to_one_leaf() {
    assert_eq!(run(&["-r", "count"], LOGS).stdout, "2\n");
    assert_eq!(run(&["--raw", "keep n"], LOGS).stdout, "1.50\n12.3456789\n");
    assert_eq!(run(&["-r", "keep user.name"], LOGS).stdout, "ann\n{}\n");
    assert_eq!(run(&["-r", "keep nope"], "{\"nope\":null}\n").stdout, "null\n");
}

#[test]
fn raw_leaves_events_of_several_fields_as_ndjson() {
    let r = run(&["-r", "keep level, user.id"], LOGS);
    assert_eq!(
        r.stdout,
        "{\"level\":\"info\",\"user\":{\"id\":7}}\n{\"level\":\"error\",\"user\":{\"id\":8}}\n"
    );
}

#[test]
fn raw_applies_only_to_ndjson() {
    let e = usage_error(&["-r", "-o", "csv", "keep msg"]);
    assert_eq!(e, "evq: -r: applies to ndjson output, not -o csv\n");
}

#[test]
fn format_writes_a_line_of_text_per_event() {
    let r = run(
        &["--format", "{ts} {level|upper} {msg} [{user.name}]", "where true"],
        LOGS,
    );
    assert_eq!(
        r.stdout,
        "2026-11-01T10:00:00Z INFO user \"ann\" logged in\tok [ann]\n2026-11-01T10:00:01Z ERROR disk | full []\n"
    );
}

#[test]
fn format_reads_fields_of_events_past_ordered_stages_and_aggregates() {
    let sorted = run(&["--format", "{user.id}:{level}", "sort user.id desc"], LOGS);
    assert_eq!(sorted.stdout, "8:error\n7:info\n");
    let counted = run(&["--format", "{level}={count}", "count by level"], LOGS);
    assert_eq!(counted.stdout, "info=1\nerror=1\n");
    let tailed = run(&["--format", "{msg | len}", "tail 1"], LOGS);
    assert_eq!(tailed.stdout, "11\n");
}

#[test]
fn format_keeps_braces_doubled_and_renders_objects_as_json() {
    let r = run(&["--format", "{{{user}}}", "head 1"], LOGS);
    assert_eq!(r.stdout, "{{\"id\":7,\"name\":\"ann\"}}\n");
}

#[test]
fn a_bad_template_is_a_one_line_usage_error() {
    let e = usage_error(&["--format", "{ts} {level", "where true"]);
    assert!(
        e.starts_with("evq: --format: `{ts} {level`: unclosed `{` in template at character 6"),
        "{e}"
    );
    let e = usage_error(&["--format", "{level | shout}", "where true"]);
    assert!(
        e.starts_with("evq: --format: `{level | shout}`: unknown function `shout`"),
        "{e}"
    );
    let e = usage_error(&["--format", "{ts}", "-o", "csv", "where true"]);
    assert_eq!(e, "evq: --format: writes its own text; leave out -o\n");
    let e = usage_error(&["--format", "{ts}", "-r", "where true"]);
    assert_eq!(e, "evq: -r: --format writes text already; leave out -r\n");
}

#[test]
fn to_templates_take_the_same_filters() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("{}/{{level | upper}}.ndjson", dir.path().display());
    let r = run(&[&format!("to \"{target}\"")], LOGS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(dir.path().join("ERROR.ndjson").exists());
    assert!(dir.path().join("INFO.ndjson").exists());
}

#[test]
fn no_header_leaves_out_the_header_of_csv_tsv_and_table() {
    let args = |f: &'static str| vec!["-o", f, "--no-header", "keep level, user.id"];
    assert_eq!(run(&args("csv"), LOGS).stdout, "info,7\nerror,8\n");
    assert_eq!(run(&args("tsv"), LOGS).stdout, "info\t7\nerror\t8\n");
    assert_eq!(run(&args("table"), LOGS).stdout, "info   7\nerror  8\n");
    let e = usage_error(&["--no-header", "where true"]);
    assert_eq!(e, "evq: --no-header: applies to -o csv, tsv and table, not ndjson\n");
}

#[test]
fn csv_flattens_nested_objects_with_dots_and_keeps_exact_numbers() {
    let r = run(&["-o", "csv", "keep n, user"], LOGS);
    assert_eq!(r.stdout, "n,user.id,user.name\n1.50,7,ann\n12.3456789,8,\n");
    let r = run(
        &["-o", "csv", "where true"],
        "{\"big\":1E5,\"x\":18446744073709551617}\n",
    );
    assert_eq!(r.stdout, "big,x\n1E5,18446744073709551617\n");
}

#[test]
fn tabular_formats_say_when_events_without_fields_left_them_no_column() {
    for format in ["csv", "tsv", "table", "markdown"] {
        let r = run(&["-o", format, "where true"], "{}\n{}\n");
        assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{format}");
        assert_eq!(
            r.stderr,
            format!(
                "evq: warning: 2 events had no fields, so -o {format} had no column to write them in and wrote nothing; -o ndjson shows them\n"
            )
        );
        // An event with fields gives the others a row of empty cells, and no warning.
        let r = run(&["-o", format, "where true"], "{}\n{\"a\":1}\n");
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{format}");
        assert_eq!(r.stdout.matches('1').count(), 1, "{format}: {}", r.stdout);
    }
    let r = run(&["-o", "csv", "where true"], "");
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
}

#[test]
fn markdown_is_a_pipe_table_with_pipes_escaped() {
    let r = run(&["-o", "markdown", "keep level, msg, user.id"], LOGS);
    assert_eq!(
        r.stdout,
        "| level | msg | user.id |\n| --- | --- | ---: |\n| info | user \"ann\" logged in\tok | 7 |\n| error | disk \\| full | 8 |\n"
    );
}

#[test]
fn logfmt_flattens_nested_objects_and_quotes_when_needed() {
    let r = run(&["-o", "logfmt", "keep level, msg, user"], LOGS);
    assert_eq!(
        r.stdout,
        "level=info msg=\"user \\\"ann\\\" logged in\\tok\" user.id=7 user.name=ann\nlevel=error msg=\"disk | full\" user.id=8\n"
    );
}

#[test]
fn table_rounds_floats_and_csv_keeps_them_exact() {
    let table = run(&["-o", "table", "keep level, n"], LOGS);
    assert_eq!(table.stdout, "level        n\ninfo       1.5\nerror  12.3457\n");
    let csv = run(&["-o", "csv", "keep level, n"], LOGS);
    assert_eq!(csv.stdout, "level,n\ninfo,1.50\nerror,12.3456789\n");
}

#[test]
fn tabular_output_is_the_same_for_changed_events_aggregates_and_any_thread_count() {
    let mut input = String::new();
    for i in 0..3000 {
        writeln!(input, "{{\"k\":\"k{}\",\"v\":{i},\"o\":{{\"p\":\"a|b\\nc\"}}}}", i % 7).unwrap();
    }
    for pipeline in [
        "set w = v * 2 | del v",
        "count by k",
        "where v % 3 == 0",
        "sort k, v | head 50",
    ] {
        for format in ["csv", "tsv", "table", "markdown"] {
            let outs: Vec<String> = ["1", "2", "4"]
                .iter()
                .map(|j| run(&["-o", format, "-j", j, "--chunk-size", "4K", pipeline], &input).stdout)
                .collect();
            assert!(!outs[0].is_empty(), "{pipeline} {format}");
            assert!(outs.iter().all(|o| o == &outs[0]), "{pipeline} {format}");
        }
    }
    let counted = run(&["-o", "csv", "count by k | sort k"], &input);
    assert!(
        counted.stdout.starts_with("k,count\nk0,429\nk1,429\n"),
        "{}",
        counted.stdout
    );
}

#[test]
fn colour_always_paints_json_tokens_and_never_does_not() {
    let r = run(&["--color", "always", "keep level, n, user.id"], LOGS);
    assert!(r.stdout.contains("\x1b[1m\x1b[34m\"level\"\x1b[0m"), "{:?}", r.stdout);
    assert!(r.stdout.contains("\x1b[32m\"info\"\x1b[0m"), "{:?}", r.stdout);
    assert!(r.stdout.contains("\x1b[36m1.50\x1b[0m"), "{:?}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 2);
    for args in [&["--color", "never", "keep level"][..], &["keep level"]] {
        assert!(!run(args, LOGS).stdout.contains('\x1b'), "{args:?}");
    }
}

#[test]
fn colour_always_paints_table_headers_and_stderr_warnings() {
    let r = run(&["--color", "always", "-o", "table", "keep level"], LOGS);
    assert!(r.stdout.starts_with("\x1b[1m\x1b[4mlevel\x1b[0m\n"), "{:?}", r.stdout);
    let bad = format!("{LOGS}not json\n");
    let r = run(&["--color", "always", "where true"], &bad);
    assert!(
        r.stderr
            .starts_with("evq: \x1b[1m\x1b[33m1 dead letter (1 invalid_json)"),
        "{:?}",
        r.stderr
    );
    let plain = run(&["where true"], &bad);
    assert!(plain.stderr.starts_with("evq: 1 dead letter"), "{:?}", plain.stderr);
}

#[test]
fn colour_never_reaches_topic_or_dead_letter_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let dead = dir.path().join("dead.ndjson");
    let bad = format!("{LOGS}not json\n");
    let r = run(
        &[
            "--color",
            "always",
            "-O",
            out.to_str().unwrap(),
            "--dead-letter",
            dead.to_str().unwrap(),
            "route by level",
        ],
        &bad,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let written = std::fs::read_to_string(out.join("error.ndjson")).unwrap();
    assert_eq!(written, LOGS.lines().nth(1).unwrap().to_string() + "\n");
    assert!(!std::fs::read_to_string(&dead).unwrap().contains('\x1b'));
}

#[test]
fn bad_color_values_are_usage_errors() {
    let r = run(&["--color", "sometimes", "where true"], LOGS);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("evq: invalid value 'sometimes' for '--color"),
        "{}",
        r.stderr
    );
}

/// Under a pseudo-terminal (script(1)), stdout is coloured by default, unless `NO_COLOR` is set.
#[test]
fn a_terminal_gets_colour_unless_no_color_is_set() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping: script(1) is not installed");
        return;
    }
    let evq = assert_cmd::cargo::cargo_bin("evq");
    let inner = format!("echo '{{\"a\":1}}' | {} --no-progress 'where true'", evq.display());
    let text = |no_color: &str| {
        let out = Command::new("script")
            .args(["-qfec", &inner, "/dev/null"])
            .env("NO_COLOR", no_color)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    };
    assert!(text("").contains("\x1b[1m\x1b[34m\"a\"\x1b[0m"), "{:?}", text(""));
    assert_eq!(text("1"), "{\"a\":1}\n");
}

#[test]
fn help_lists_the_output_options() {
    let out = evq().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--raw",
        "--format <TEMPLATE>",
        "--no-header",
        "--color <WHEN>",
        "markdown",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn an_event_without_fields_is_a_row_of_empty_cells() {
    let input = "{\"a\":1}\n{}\n{\"a\":2}\n";
    assert_eq!(run(&["-o", "csv", "where true"], input).stdout, "a\n1\n\"\"\n2\n");
    assert_eq!(run(&["-o", "csv", "sort a desc"], input).stdout, "a\n2\n1\n\"\"\n");
}

#[test]
fn colour_always_paints_the_warning_word_and_auto_leaves_a_pipe_plain() {
    let coloured = run(&["--color", "always", "where nosuch == 1"], LOGS);
    assert!(
        coloured
            .stderr
            .starts_with("evq: \x1b[1m\x1b[33mwarning:\x1b[0m field \"nosuch\""),
        "{:?}",
        coloured.stderr
    );
    let plain = run(&["where nosuch == 1"], LOGS);
    assert!(
        plain.stderr.starts_with("evq: warning: field \"nosuch\""),
        "{:?}",
        plain.stderr
    );
}

/// stdout redirected to a file that reaches the file size limit (`ulimit -f`, 8 KiB): the run
/// fails with exit 4 and the file ends on a whole line, in each of the new output forms; a
/// table, all or nothing, is cut back to nothing.
#[test]
fn a_failed_write_leaves_whole_lines_in_every_new_output_form() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let line = r#"{"level":"info","msg":"a message | with text","n":1.2345678}"#;
    std::fs::write(&input, format!("{line}\n").repeat(2000)).unwrap();
    let forms: &[&[&str]] = &[
        &["-r", "keep msg"],
        &["--format", "{level|upper} {msg}", "where true"],
        &["-o", "markdown", "where true"],
        &["-o", "csv", "--no-header", "where true"],
        &["-o", "table", "where true"],
        &["--color", "always", "where true"],
    ];
    for args in forms {
        let out = dir.path().join("out.txt");
        let script = "ulimit -f 8; out=\"$1\"; shift; exec \"$0\" \"$@\" > \"$out\" 2>/dev/null";
        let status = Command::new("sh")
            .args(["-c", script])
            .arg(assert_cmd::cargo::cargo_bin("evq"))
            .arg(&out)
            .args(*args)
            .arg(&input)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(4), "{args:?}");
        let text = std::fs::read(&out).unwrap();
        if args[0] == "-o" {
            assert!(text.is_empty(), "{args:?}: {} bytes of a table that failed", text.len());
            continue;
        }
        assert!(
            !text.is_empty() && text.ends_with(b"\n"),
            "{args:?}: {} bytes, torn",
            text.len()
        );
    }
}

/// Runs evq with stdout to `out` under an 8 KiB file size limit; its exit code.
fn run_into_full_file(out: &Path, args: &[&str]) -> Option<i32> {
    let script = "ulimit -f 8; out=\"$1\"; shift; exec \"$0\" \"$@\" > \"$out\" 2>/dev/null";
    Command::new("sh")
        .args(["-c", script])
        .arg(assert_cmd::cargo::cargo_bin("evq"))
        .arg(out)
        .args(args)
        .status()
        .unwrap()
        .code()
}

/// A file that fills up ends at a whole event, also where events span lines (`-o pretty`, `-r`
/// of a string with newlines), and `--stats` counts as emitted exactly the events it holds;
/// the lines whose events it could not take are skipped.
#[test]
fn a_full_output_file_ends_at_a_whole_event_and_the_stats_count_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let mut text = String::new();
    for i in 0..3000 {
        writeln!(text, "{{\"n\":{i},\"msg\":\"line one\\nline two\\n{i}\"}}").unwrap();
    }
    std::fs::write(&input, text).unwrap();
    let stats = dir.path().join("stats.json");
    let (out, stats_arg) = (dir.path().join("out.txt"), format!("--stats={}", stats.display()));
    let input = input.to_str().unwrap();
    for (args, per_event) in [
        (&["-o", "pretty", "where true"][..], None),
        (&["-r", "keep msg"][..], Some(3)),
        (&["where true"][..], Some(1)),
        (&["-j", "2", "sort n desc"][..], Some(1)),
        (&["-o", "json", "where true"][..], Some(0)),
        (&["-o", "csv", "where true"][..], Some(0)),
    ] {
        let all: Vec<&str> = [stats_arg.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .chain([input])
            .collect();
        assert_eq!(run_into_full_file(&out, &all), Some(4), "{args:?}");
        let written = String::from_utf8(std::fs::read(&out).unwrap()).unwrap();
        assert!(
            written.is_empty() || (written.len() > 1000 && written.ends_with('\n')),
            "{args:?}"
        );
        let events = match per_event {
            // Whole pretty objects one after another: each closes with `}` at the start of a line.
            None => {
                let n = serde_json::Deserializer::from_str(&written)
                    .into_iter::<serde_json::Value>()
                    .collect::<Result<Vec<_>, _>>()
                    .expect("whole objects only")
                    .len();
                assert!(written.ends_with("\n}\n"), "{args:?}: ends inside an object");
                n
            }
            // All or nothing: a JSON array or a table that failed leaves nothing.
            Some(0) => {
                assert!(written.is_empty(), "{args:?}: {} bytes", written.len());
                0
            }
            Some(lines) => {
                assert_eq!(written.lines().count() % lines, 0, "{args:?}: a part of an event");
                written.lines().count() / lines
            }
        };
        let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
        let fates = &s["fates"];
        assert_eq!(fates["emitted"].as_u64(), Some(events as u64), "{args:?}: {s}");
        assert_eq!(s["events_out"].as_u64(), Some(events as u64), "{args:?}");
        assert_eq!(
            fates["emitted"].as_u64().unwrap() + fates["skipped"].as_u64().unwrap(),
            s["lines_read"].as_u64().unwrap(),
            "{args:?}: every line read has its fate"
        );
    }
}

/// `--stats=FILE` holds one JSON document: when it does not fit, the file holds nothing, never
/// a cut document.
#[test]
fn a_stats_file_that_cannot_be_written_whole_is_left_empty() {
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let script = "ulimit -f 1; exec \"$0\" \"$@\" > /dev/null 2>&1";
    let status = Command::new("sh")
        .args(["-c", script])
        .arg(assert_cmd::cargo::cargo_bin("evq"))
        .arg(format!("--stats={}", stats.display()))
        .args(["where true", "/dev/null"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(4));
    assert_eq!(std::fs::read(&stats).unwrap(), b"", "a cut JSON document was left");
}
