//! Inputs: `-i json`/`-i csv` records around a bad one, directory walks (links, FIFOs,
//! loops), and output files that are inputs of the same run.

use crate::common::{evq, run, stats};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

struct Out {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs evq with a time limit (a walk that blocks on a FIFO fails instead of hanging).
fn run_in(dir: &Path, args: &[&str]) -> Out {
    let out = evq()
        .current_dir(dir)
        .args(args)
        .timeout(Duration::from_secs(20))
        .output()
        .expect("evq runs");
    Out {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

fn mkfifo(p: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
}

#[test]
fn directory_walk_skips_fifos_and_notes_them() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("logs")).unwrap();
    std::fs::write(d.path().join("logs/a.ndjson"), "{\"a\":1}\n").unwrap();
    mkfifo(&d.path().join("logs/pipe"));
    let r = run_in(d.path(), &["where true", "logs"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":1}\n");
    assert!(r.stderr.contains("skipped 1 special file"), "{}", r.stderr);
}

#[test]
fn directory_walk_does_not_follow_links_out_of_the_tree() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("logs")).unwrap();
    std::fs::write(d.path().join("secret"), "{\"secret\":1}\n").unwrap();
    std::fs::write(d.path().join("logs/a.ndjson"), "{\"a\":1}\n").unwrap();
    symlink(d.path().join("secret"), d.path().join("logs/b.ndjson")).unwrap();
    let r = run_in(d.path(), &["where true", "logs"]);
    assert_eq!(r.stdout, "{\"a\":1}\n");
    assert!(r.stderr.contains("1 symbolic link") && r.stderr.contains("--follow-links"));
    let r = run_in(d.path(), &["--follow-links", "where true", "logs"]);
    assert_eq!(r.stdout, "{\"a\":1}\n{\"secret\":1}\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn directory_walk_with_a_link_loop_reads_each_file_once() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("logs/sub")).unwrap();
    std::fs::write(d.path().join("logs/sub/a.ndjson"), "{\"a\":1}\n").unwrap();
    symlink("..", d.path().join("logs/sub/loop")).unwrap();
    for args in [&["count", "logs"][..], &["--follow-links", "count", "logs"]] {
        let r = run_in(d.path(), args);
        assert_eq!(r.stdout, "{\"count\":1}\n", "{args:?}: {}", r.stderr);
    }
}

#[test]
fn a_fifo_named_on_the_command_line_is_read() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("pipe");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, "{\"a\":1}\n"))
    };
    let r = run_in(d.path(), &["where true", "pipe"]);
    writer.join().unwrap().unwrap();
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"a\":1}\n"), "{}", r.stderr);
}

#[test]
fn stdin_named_twice_and_a_file_named_twice_end() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.ndjson"), "{\"a\":1}\n").unwrap();
    let r = run_in(d.path(), &["count", "a.ndjson", "a.ndjson"]);
    assert_eq!(r.stdout, "{\"count\":2}\n");
    let r = run(&["count", "-", "-"], "{\"a\":1}\n");
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":1}\n"));
}

#[test]
fn an_input_given_with_from_is_read_after_the_paths() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.ndjson"), "{\"a\":1}\n").unwrap();
    std::fs::write(d.path().join("b.ndjson"), "{\"a\":2}\n").unwrap();
    let r = run_in(d.path(), &["--from", "a.ndjson", "keep a", "b.ndjson"]);
    assert_eq!(r.stdout, "{\"a\":2}\n{\"a\":1}\n");
    let r = run_in(d.path(), &["count", "--from", "a.ndjson", "--from", "b.ndjson"]);
    assert_eq!(r.stdout, "{\"count\":2}\n");
}

/// The dead-letter records written to `path`.
fn dead_letters(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn assert_fates_add_up(s: &serde_json::Value) {
    let fates = &s["fates"];
    let dead: u64 = fates["dead_letter"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let sum = ["emitted", "filtered", "blank", "skipped", "aggregated"]
        .iter()
        .map(|k| fates[*k].as_u64().unwrap_or(0))
        .sum::<u64>()
        + dead;
    assert_eq!(sum, s["lines_read"].as_u64().unwrap(), "{s}");
}

#[test]
fn json_input_keeps_the_records_around_a_bad_one() {
    let d = tempfile::tempdir().unwrap();
    let input = "{\"a\":1}\n{\n  \"b\": oops\n}\n{\n  \"c\": 3\n}\n";
    std::fs::write(d.path().join("in.json"), input).unwrap();
    let r = run_in(
        d.path(),
        &[
            "-i",
            "json",
            "--stats",
            "--dead-letter",
            "dead.ndjson",
            "where true",
            "in.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":1}\n{\"c\":3}\n");
    let s = stats(&r.stderr);
    assert_eq!(s["lines_read"], 3);
    assert_eq!(s["fates"]["dead_letter"]["invalid_json"], 1);
    assert_fates_add_up(&s);
    let dead = dead_letters(&d.path().join("dead.ndjson"));
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0]["line"].as_u64(), dead[0]["offset"].as_u64()),
        (Some(2), Some(8))
    );
    assert_eq!(dead[0]["raw"], "{\n  \"b\": oops\n}");
}

#[test]
fn json_input_resumes_after_a_broken_record_at_the_next_document() {
    let input = "{\"a\":1}\n{\"b\": \"open\n{\"c\":2}\n{\"d\":\n{\"e\":3}\n";
    let r = run(&["-i", "json", "--stats", "where true"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":1}\n{\"c\":2}\n{\"e\":3}\n");
    let s = stats(&r.stderr);
    assert_eq!(
        (
            s["lines_read"].as_u64(),
            s["fates"]["dead_letter"]["invalid_json"].as_u64()
        ),
        (Some(5), Some(2))
    );
    assert_fates_add_up(&s);
}

#[test]
fn json_array_keeps_elements_around_a_bad_one_and_an_unclosed_array_is_a_dead_letter() {
    let r = run(
        &["-i", "json", "--stats", "where true"],
        "[\n  {\"a\":1},\n  {\"b\":oops},\n  {\"c\": \"open},\n  {\"d\":4}\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":1}\n{\"d\":4}\n");
    let s = stats(&r.stderr);
    assert_eq!(s["fates"]["dead_letter"]["invalid_json"], 3, "{}", r.stderr);
    assert_fates_add_up(&s);
    assert!(
        r.stderr.contains("-:1: invalid_json: EOF while parsing a list"),
        "{}",
        r.stderr
    );
}

#[test]
fn json_input_with_a_truncated_last_value_keeps_what_came_before() {
    let r = run(&["-i", "json", "count"], "{\"a\":1}\n{\"a\":2}\n{\"a\":");
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":2}\n"), "{}", r.stderr);
    assert!(r.stderr.contains("-:3: invalid_json"), "{}", r.stderr);
    let r = run(&["-i", "json", "--strict", "where true"], "{\"a\":1}\n{\"a\":\n");
    assert_eq!((r.code, r.stdout.as_str()), (3, "{\"a\":1}\n"), "{}", r.stderr);
}

#[test]
fn csv_input_keeps_the_rows_around_one_that_is_not_utf8() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.csv"), b"a,b\n1,2\n\"x\xff\",3\n4,5\n").unwrap();
    let r = run_in(
        d.path(),
        &[
            "-i",
            "csv",
            "--stats",
            "--dead-letter",
            "dead.ndjson",
            "where true",
            "in.csv",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":1,\"b\":2}\n{\"a\":4,\"b\":5}\n");
    let s = stats(&r.stderr);
    assert_eq!(
        (
            s["lines_read"].as_u64(),
            s["fates"]["dead_letter"]["invalid_utf8"].as_u64()
        ),
        (Some(4), Some(1)),
        "the header row is a line read, counted as blank"
    );
    assert_fates_add_up(&s);
    let dead = dead_letters(&d.path().join("dead.ndjson"));
    assert_eq!(
        (dead[0]["line"].as_u64(), dead[0]["reason"].as_str()),
        (Some(3), Some("invalid_utf8"))
    );
}

#[test]
fn ragged_csv_rows_keep_every_value() {
    let r = run(&["-i", "csv", "where true"], "a,b\n1\n1,2,3\n");
    assert_eq!(r.stdout, "{\"a\":1}\n{\"a\":1,\"b\":2,\"_3\":3}\n");
    // A field past the header never takes the place of a column the header names.
    let want = "{\"a\":1,\"_3\":2,\"_3_2\":3,\"_4\":4}\n";
    for (format, input) in [
        ("csv", "a,_3\n1,2,3,4\n"),
        ("tsv", "a\t_3\n1\t2\t3\t4\n"),
        ("zeek", "#separator \\x09\n#fields\ta\t_3\n1\t2\t3\t4\n"),
    ] {
        let r = run(&["-i", format, "where true"], input);
        assert_eq!(r.stdout, want, "-i {format}: {}", r.stderr);
    }
}

#[test]
fn multiline_start_is_refused_for_record_formats() {
    let r = run(&["-i", "json", "--multiline-start", "^\\{", "where true"], "{}\n");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--multiline-start"), "{}", r.stderr);
    // --merge orders single lines: it would read each line of a record as an event.
    let r = run(
        &[
            "-i",
            "lines",
            "--merge",
            "--multiline-start",
            "^\\d",
            "where true",
            "-",
            "-",
        ],
        "",
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("evq: --multiline-start: cannot be used with --merge"),
        "{}",
        r.stderr
    );
}

/// NDJSON records joined from several lines are written on one line, to stdout, `-o json` and
/// topic files; a broken one is a dead letter as it was read.
#[test]
fn json_joined_by_multiline_start_is_written_on_one_line() {
    let input = "{\"a\":\n1}\n{\"b\": [1,\n 2], \"c\":\r\n\"x\\ny\"}\n{\"d\":\n";
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--multiline-start",
        "^\\{",
        "--dead-letter",
        "dead.ndjson",
        "where true",
    ];
    let r = crate::common::run_in(dir.path(), &args, input);
    assert_eq!(r.stdout, "{\"a\":1}\n{\"b\":[1,2],\"c\":\"x\\ny\"}\n", "{}", r.stderr);
    let dead = std::fs::read_to_string(dir.path().join("dead.ndjson")).unwrap();
    assert!(
        dead.contains("\"raw\":\"{\\\"d\\\":\"}") && dead.lines().count() == 1,
        "{dead}"
    );
    let r = run(&["--multiline-start", "^\\{", "-o", "json", "where true"], input);
    let array: serde_json::Value = serde_json::from_str(&r.stdout).expect("-o json writes JSON");
    assert_eq!(array, serde_json::json!([{"a": 1}, {"b": [1, 2], "c": "x\ny"}]));
    let r = crate::common::run_in(dir.path(), &["--multiline-start", "^\\{", "to \"t.ndjson\""], input);
    let written = std::fs::read_to_string(dir.path().join("t.ndjson")).unwrap();
    assert_eq!(written, "{\"a\":1}\n{\"b\":[1,2],\"c\":\"x\\ny\"}\n", "{}", r.stderr);
    // A record a stage rejects is a dead letter as it is written: on one line.
    std::fs::write(dir.path().join("s.json"), r#"{"required":["z"]}"#).unwrap();
    let args = [
        "--multiline-start",
        "^\\{",
        "--dead-letter",
        "schema.ndjson",
        "validate \"s.json\"",
    ];
    crate::common::run_in(dir.path(), &args, "{\"a\":\n1}\n");
    let dead = std::fs::read_to_string(dir.path().join("schema.ndjson")).unwrap();
    assert!(dead.contains(r#""raw":"{\"a\":1}""#), "{dead}");
}

const INPUT: &str = "{\"t\":\"in\"}\n{\"t\":\"other\"}\n";

/// A directory holding `in.ndjson`.
fn with_input() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.ndjson"), INPUT).unwrap();
    d
}

#[test]
fn a_topic_file_that_is_the_input_is_refused_and_the_input_kept() {
    let d = with_input();
    let r = run_in(d.path(), &["route by t", "-O", ".", "in.ndjson"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("in.ndjson: is the input in.ndjson of this run"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(d.path().join("in.ndjson")).unwrap(), INPUT);
}

#[test]
fn a_topic_file_that_is_the_input_through_a_hard_link_is_refused() {
    let d = with_input();
    std::fs::create_dir(d.path().join("out")).unwrap();
    std::fs::hard_link(d.path().join("in.ndjson"), d.path().join("out/in.ndjson")).unwrap();
    for args in [
        &["--append", "tee \"out/{t}.ndjson\"", "in.ndjson"][..],
        &["--atomic", "route by t", "-O", "out", "in.ndjson"],
    ] {
        let r = run_in(d.path(), args);
        assert_eq!(r.code, 4, "{args:?}: {}", r.stderr);
        assert_eq!(
            std::fs::read_to_string(d.path().join("in.ndjson")).unwrap(),
            INPUT,
            "{args:?}"
        );
    }
}

#[test]
fn dead_letter_and_stats_files_that_are_inputs_are_refused_before_reading() {
    let d = with_input();
    let cases: [&[&str]; 4] = [
        &["--dead-letter", "in.ndjson", "where true", "in.ndjson"],
        &["--stats=in.ndjson", "where true", "in.ndjson"],
        &["--dead-letter", "./in.ndjson", "where true", "."],
        &["where true | to \"in.ndjson\"", "in.ndjson"],
    ];
    for args in cases {
        let r = run_in(d.path(), args);
        assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("is the input"), "{args:?}: {}", r.stderr);
        assert_eq!(
            std::fs::read_to_string(d.path().join("in.ndjson")).unwrap(),
            INPUT,
            "{args:?}"
        );
    }
}

#[test]
fn a_dead_letter_file_that_is_stdin_is_refused() {
    let d = with_input();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_evq"))
        .current_dir(d.path())
        .args(["--dead-letter", "in.ndjson", "where true"])
        .stdin(std::fs::File::open(d.path().join("in.ndjson")).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(d.path().join("in.ndjson")).unwrap(), INPUT);
}

#[test]
fn stdout_appending_to_the_input_is_refused() {
    let d = with_input();
    let out = std::fs::OpenOptions::new()
        .append(true)
        .open(d.path().join("in.ndjson"))
        .unwrap();
    let r = std::process::Command::new(env!("CARGO_BIN_EXE_evq"))
        .current_dir(d.path())
        .args(["where true", "in.ndjson"])
        .stdout(out)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(d.path().join("in.ndjson")).unwrap(), INPUT);
}

#[test]
fn merged_json_inputs_keep_the_records_around_a_bad_one() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("a.json"),
        "{\"ts\":1}\n{\"ts\":3,\n\"oops\"\n{\"ts\":5}\n",
    )
    .unwrap();
    std::fs::write(d.path().join("b.json"), "[{\"ts\":2},\n {\"ts\":4}]").unwrap();
    let r = run_in(
        d.path(),
        &["--merge", "-i", "json", "--stats", "set l = line()", "a.json", "b.json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"ts\":1,\"l\":1}\n{\"ts\":2,\"l\":1}\n{\"ts\":4,\"l\":2}\n{\"ts\":5,\"l\":4}\n"
    );
    assert!(r.stderr.contains("a.json:2: invalid_json"), "{}", r.stderr);
    assert_fates_add_up(&stats(&r.stderr));
}

#[test]
fn a_json_record_longer_than_the_limit_is_a_too_long_dead_letter() {
    let long = format!("[{{\"a\":\"{}\"}},\n{{\"b\":1}}]", "x".repeat(300));
    let r = run(
        &["-i", "json", "--max-line-bytes", "100", "--stats", "where true"],
        &long,
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"b\":1}\n"), "{}", r.stderr);
    let s = stats(&r.stderr);
    assert_eq!(s["fates"]["dead_letter"]["too_long"], 1);
    assert_fates_add_up(&s);
}

#[test]
fn a_csv_or_json_record_is_measured_by_its_input_bytes_not_by_the_event_made_of_it() {
    // Each row is 3 bytes; the events made of them are 33: under the limit of 20, every row is kept.
    let csv = "aaaaaaaaaa,bbbbbbbbbbbb\n1,2\n3,4\n5,6789012345678901234567890\n";
    let r = run(&["-i", "csv", "--max-line-bytes", "20", "--stats", "count"], csv);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":2}\n"), "{}", r.stderr);
    let s = stats(&r.stderr);
    assert_eq!(s["fates"]["dead_letter"]["too_long"], 1, "{}", r.stderr);
    assert!(r.stderr.contains("line is 27 bytes"), "{}", r.stderr);
    assert_fates_add_up(&s);
    let tsv = "aaaaaaaaaa\tbbbbbbbbbbbb\n1\t2\n";
    let r = run(&["-i", "tsv", "--max-line-bytes", "20", "count"], tsv);
    assert_eq!(r.stdout, "{\"count\":1}\n", "{}", r.stderr);
    let json = "[{\"aaaaaaaaaaaaaaaaaaaa\":1}]";
    let r = run(&["-i", "json", "--max-line-bytes", "30", "count"], json);
    assert_eq!(r.stdout, "{\"count\":1}\n", "{}", r.stderr);
}

#[test]
fn csv_quote_left_open_to_the_end_costs_only_its_line_which_is_a_dead_letter() {
    let d = tempfile::tempdir().unwrap();
    let rows: String = (2..=1000).map(|i| format!("{i},x\r\n")).collect();
    let csv = format!("a,b\r\n1,\"oops\r\n{rows}");
    std::fs::write(d.path().join("in.csv"), csv).unwrap();
    let args = [
        "-i",
        "csv",
        "--stats",
        "--dead-letter",
        "dead.ndjson",
        "count",
        "in.csv",
    ];
    let r = run_in(d.path(), &args);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":999}\n"), "{}", r.stderr);
    let s = stats(&r.stderr);
    // The header row is a line too, counted as blank.
    assert_eq!(s["lines_read"].as_u64(), Some(1001));
    assert_fates_add_up(&s);
    let dead = dead_letters(&d.path().join("dead.ndjson"));
    assert_eq!((dead.len(), dead[0]["line"].as_u64()), (1, Some(2)));
    assert_eq!(dead[0]["raw"], "1,\"oops");
    assert_eq!(dead[0]["reason"], "parse");
    let error = dead[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("a quote opened in this row never closes"), "{error}");
}

#[test]
fn csv_rows_after_crlf_line_ends_are_numbered_by_their_own_line() {
    let r = crate::common::run_bytes(&["-i", "csv", "where true"], b"a,b\r\n1,x\r\n2,y\r\n\xff,z\r\n");
    assert!(r.stderr.contains("-:4: invalid_utf8"), "{}", r.stderr);
}

/// A header row or a row whose quoted fields hold line ends is one line read, as a
/// pretty-printed record of `-i json` is: the fates add up either way.
#[test]
fn csv_header_and_rows_that_span_lines_are_each_one_line_read() {
    for (input, lines, blank) in [
        ("a,b\n1,\"x\ny\"\n2,z\n", 3, 1),
        ("\"a\nb\",c\n1,2\n", 2, 1),
        ("\"a\r\nb\",c\r\n\r\n1,\"2\r\n3\"\r\n", 3, 2),
    ] {
        let r = run(&["-i", "csv", "--stats", "where true"], input);
        let s = crate::common::stats(&r.stderr);
        assert_eq!(s["lines_read"], lines, "{input:?}: {s}");
        assert_eq!(s["fates"]["blank"], blank, "{input:?}: {s}");
    }
}

#[test]
fn csv_header_that_opens_a_quote_never_closed_is_corrupt_input() {
    let r = run(&["-i", "csv", "where true"], "a,\"b\n1,2\n3,4\n");
    assert_eq!((r.code, r.stdout.as_str()), (3, ""), "{}", r.stderr);
    assert!(
        r.stderr.contains("the header row opens a quote that never closes"),
        "{}",
        r.stderr
    );
}

/// A rerun of `evq … -O dir/out dir` walks past its own topic directory: the last run's
/// topic files are not read as input, and the run says what it left out.
#[test]
fn a_walk_leaves_out_the_directories_the_run_writes_topic_files_to() {
    let d = with_input();
    let elsewhere = tempfile::tempdir().unwrap();
    let st = elsewhere.path().join("st.json");
    let stats_arg = format!("--stats={}", st.display());
    for args in [
        &["route by t", "-O", "out", "."][..],
        &["route by t | to \"out/{t}.ndjson\"", "."],
    ] {
        for run in 0..2 {
            let r = run_in(d.path(), &[&[stats_arg.as_str()], args].concat());
            assert_eq!(r.code, 0, "{args:?} run {run}: {}", r.stderr);
            let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&st).unwrap()).unwrap();
            assert_eq!(stats["lines_read"], 2, "{args:?} run {run}: {}", r.stderr);
            assert_eq!(
                std::fs::read_to_string(d.path().join("out/in.ndjson")).unwrap(),
                "{\"t\":\"in\"}\n",
                "{args:?} run {run}"
            );
            let note = r.stderr.contains("skipped 1 topic directory of this run");
            assert_eq!(note, run == 1, "{args:?} run {run}: {}", r.stderr);
        }
        std::fs::remove_dir_all(d.path().join("out")).unwrap();
    }
}

#[test]
fn csv_and_tsv_headers_that_are_not_utf8_are_corrupt_input_not_renamed_columns() {
    for format in ["csv", "tsv"] {
        let r = crate::common::run_bytes(&["-i", format, "where true"], b"a\xff,b\tc\n1,2\t3\n");
        assert_eq!((r.code, r.stdout.as_str()), (3, ""), "{format}: {}", r.stderr);
        assert!(r.stderr.contains("the header row is not valid UTF-8"), "{}", r.stderr);
    }
}

/// The `-g` hint of an output that is an input is given only for a file a directory walk
/// found; a lookup file or a file named on the command line is named as what it is.
#[test]
fn the_glob_hint_is_only_for_files_a_directory_walk_found() {
    let d = with_input();
    std::fs::create_dir(d.path().join("dir")).unwrap();
    std::fs::write(d.path().join("dir/a.ndjson"), INPUT).unwrap();
    std::fs::write(d.path().join("lookup.ndjson"), "{\"t\":1}\n").unwrap();
    let walked = run_in(d.path(), &["--dead-letter", "dir/a.ndjson", "where true", "dir"]);
    assert_eq!(walked.code, 2, "{}", walked.stderr);
    assert!(walked.stderr.contains("with -g '!a.ndjson'"), "{}", walked.stderr);
    let named = run_in(d.path(), &["--dead-letter", "in.ndjson", "where true", "in.ndjson"]);
    assert_eq!(named.code, 2, "{}", named.stderr);
    assert!(!named.stderr.contains("-g"), "{}", named.stderr);
    let lookup = run_in(
        d.path(),
        &[
            "--dead-letter",
            "lookup.ndjson",
            "join \"lookup.ndjson\" on t",
            "in.ndjson",
        ],
    );
    assert_eq!(lookup.code, 2, "{}", lookup.stderr);
    assert!(
        lookup.stderr.contains("lookup.ndjson (join's lookup file)"),
        "{}",
        lookup.stderr
    );
    assert!(!lookup.stderr.contains("-g"), "{}", lookup.stderr);
}

/// A lookup file or schema that is standard input, while the events come from standard
/// input too, is refused: one would read the other's bytes and leave it empty.
#[test]
fn a_lookup_file_that_is_the_stdin_input_is_refused() {
    for pipeline in ["join \"/dev/stdin\" on id", "validate \"/dev/stdin\""] {
        let r = run(&[pipeline], "{\"id\":1}\n");
        assert_eq!(r.code, 2, "{pipeline}: {}", r.stderr);
        assert!(
            r.stderr.contains("/dev/stdin") && r.stderr.contains("is standard input"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn a_record_of_exactly_max_line_bytes_is_kept_in_every_format() {
    // Each input's second line is 10 bytes without its line end, the third 11; a header is
    // no event.
    for (format, input, events) in [
        ("ndjson", "{\"a\":1}\n{\"a\":1234}\n{\"a\":12345}\n", 2),
        ("csv", "i,a\n1,34567890\n1,345678901\n", 1),
        ("csv", "i,a\r\n1,34567890\r\n1,345678901\r\n", 1),
        ("tsv", "i\ta\n1\t34567890\n1\t345678901\n", 1),
        ("lines", "x\n0123456789\n0123456789a\n", 2),
    ] {
        let r = run(&["-i", format, "--max-line-bytes", "10", "--stats", "count"], input);
        assert_eq!(
            r.stdout,
            format!("{{\"count\":{events}}}\n"),
            "-i {format} {input:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(":3: too_long: line is 11 bytes"),
            "{format}: {}",
            r.stderr
        );
    }
    // A multi-line record's text joins its lines with one line feed each, whatever ended them.
    for input in ["A 1234\n 12345\nA 1\n", "A 1234\r\n 12345\r\nA 1\r\n"] {
        let args = ["-i", "lines", "--multiline-start", "^A", "--max-line-bytes"];
        let r = run(&[&args[..], &["13", "count"]].concat(), input);
        assert_eq!(r.stdout, "{\"count\":2}\n", "{input:?}: {}", r.stderr);
        let r = run(&[&args[..], &["12", "count"]].concat(), input);
        assert_eq!(r.stdout, "{\"count\":1}\n", "{input:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("record is 13 bytes in 2 lines"),
            "{input:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn whitespace_only_lines_are_blank_and_a_lone_byte_order_mark_is_no_line_in_every_format() {
    for (format, input) in [
        ("csv", "a,b\n   \n1,2\n \t \n"),
        ("tsv", "a\tb\n   \n1\t2\n \t \n"),
        ("ndjson", "  \n{\"a\":1,\"b\":2}\n \t \n\n"),
    ] {
        let r = run(&["-i", format, "--stats", "where true"], input);
        assert_eq!(r.stdout, "{\"a\":1,\"b\":2}\n", "-i {format}: {}", r.stderr);
        let s = stats(&r.stderr);
        assert_eq!(
            (s["lines_read"].as_u64(), s["fates"]["emitted"].as_u64()),
            (Some(4), Some(1))
        );
        assert_fates_add_up(&s);
    }
    for format in ["csv", "tsv", "zeek", "ndjson", "lines", "json", "logfmt"] {
        let r = run(&["-i", format, "--stats", "count"], "\u{feff}");
        assert_eq!(stats(&r.stderr)["lines_read"], 0, "-i {format}: {}", r.stderr);
    }
}

#[test]
fn utf16_input_names_a_lone_surrogate_and_a_code_unit_cut_short_apart() {
    let utf16 = |text: &str| -> Vec<u8> {
        [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect()
    };
    let mut cut = utf16("{\"a\":1}\n{\"b\":2}");
    cut.pop();
    let mut lone = utf16("{\"a\":1}\n{\"b\":\"");
    lone.extend([0x00, 0xD8]);
    lone.extend(&utf16("\"}\n")[2..]);
    for (input, what) in [
        (cut, "a UTF-16 code unit cut short at the end of the input"),
        (lone, "a lone UTF-16 surrogate"),
    ] {
        let r = crate::common::run_bytes(&["where true"], &input);
        assert_eq!(r.stdout, "{\"a\":1}\n", "{}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!(":2: invalid_utf8: invalid UTF-8 at byte 6: {what}")),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn bytes_read_are_the_input_s_bytes_for_every_decoded_format() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (format, text) in [
        ("csv", "a,b\n"),
        ("csv", "a,b\n1,2\n\"x,3\n4,5\n"),
        ("tsv", "a\tb\n1\t2\n"),
        ("json", "[\n {\"a\": 1},\n {\"a\": 2}\n]\n"),
        (
            "zeek",
            "#separator \\x09\n#fields\ta\tb\n#types\tint\tint\n1\t2\n#close\t2020\n",
        ),
        ("auto", "a,b\n1,2\n3,4\n"),
    ] {
        let file = dir.path().join(format!("in.{format}"));
        std::fs::write(&file, text).expect("the input");
        let r = run(
            &["-i", format, "--stats", "where true", file.to_str().expect("UTF-8")],
            "",
        );
        let s = stats(&r.stderr);
        assert_eq!(s["bytes_read"], text.len(), "{format} {text:?}: {}", r.stderr);
        assert_eq!(s["files"][0]["bytes"], text.len(), "{format} {text:?}: {}", r.stderr);
    }
}
