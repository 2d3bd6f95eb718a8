//! What the command line configures end to end: `--time-format` everywhere event time is
//! read, the note on skipped directory entries beside a refusal, and the write errors of
//! the paths that only print (`--explain`, `--generate`).

use crate::common::run;
use std::fs::File;
use std::process::{Command, Stdio};

const FORMAT: &str = "%d.%m.%Y %H:%M:%S";

#[test]
fn time_format_is_read_by_functions_windows_and_merge() {
    let r = run(
        &["--time-format", FORMAT, "set t = time(at)"],
        "{\"at\":\"28.11.2026 10:00:00\"}\n",
    );
    assert_eq!(
        r.stdout, "{\"at\":\"28.11.2026 10:00:00\",\"t\":1795860000}\n",
        "{}",
        r.stderr
    );
    let r = run(&["set t = time(at)"], "{\"at\":\"28.11.2026 10:00:00\"}\n");
    assert_eq!(r.stdout, "{\"at\":\"28.11.2026 10:00:00\",\"t\":null}\n");

    let events =
        "{\"ts\":\"28.11.2026 10:00:30\"}\n{\"ts\":\"28.11.2026 10:01:10\"}\n{\"ts\":\"28.11.2026 10:00:50\"}\n";
    let r = run(&["--time-format", FORMAT, "count every 1m"], events);
    assert_eq!(
        r.stdout,
        "{\"window_start\":\"2026-11-28T10:00:00Z\",\"window_end\":\"2026-11-28T10:01:00Z\",\"count\":2}\n\
         {\"window_start\":\"2026-11-28T10:01:00Z\",\"window_end\":\"2026-11-28T10:02:00Z\",\"count\":1}\n",
        "{}",
        r.stderr
    );

    let repeats = "{\"ts\":\"28.11.2026 10:00:00\",\"k\":1}\n{\"ts\":\"28.11.2026 10:00:30\",\"k\":1}\n{\"ts\":\"28.11.2026 10:02:00\",\"k\":1}\n";
    let kept: String = repeats.lines().step_by(2).map(|l| format!("{l}\n")).collect();
    for stage in ["dedupe by k within 1m", "throttle 1 per 1m"] {
        let r = run(&["--time-format", FORMAT, stage], repeats);
        assert_eq!((r.stdout.as_str(), r.code), (kept.as_str(), 0), "{stage}: {}", r.stderr);
    }

    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a.ndjson"), d.path().join("b.ndjson"));
    std::fs::write(
        &a,
        "{\"ts\":\"28.11.2026 10:00:30\",\"f\":\"a1\"}\n{\"ts\":\"28.11.2026 10:02:00\",\"f\":\"a2\"}\n",
    )
    .unwrap();
    std::fs::write(&b, "{\"ts\":\"28.11.2026 10:01:00\",\"f\":\"b1\"}\n").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let r = run(&["--merge", "--time-format", FORMAT, "keep f", a, b], "");
    assert_eq!(
        r.stdout, "{\"f\":\"a1\"}\n{\"f\":\"b1\"}\n{\"f\":\"a2\"}\n",
        "{}",
        r.stderr
    );
}

#[test]
fn skipped_directory_entries_are_noted_before_a_refusal() {
    let d = tempfile::tempdir().unwrap();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("a.ndjson"), "{}\n").unwrap();
    std::os::unix::fs::symlink(logs.join("a.ndjson"), logs.join("b.ndjson")).unwrap();
    let logs = logs.to_str().unwrap();
    let r = run(&["-i", "json", "--multiline-start", "^x", "where true", logs], "");
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "evq: skipped 1 symbolic link in directory inputs; --follow-links follows links\n\
         evq: --multiline-start joins text lines; -i json, csv, tsv and zeek read records of their own\n"
    );
    // A mistake found before the walk: nothing was walked, nothing to note.
    let r = run(&["-j", "0", "where true", logs], "");
    assert_eq!((r.code, r.stderr.as_str()), (2, "evq: --jobs must be at least 1\n"));
}

#[test]
fn explain_and_generate_into_a_full_disk_exit_4_naming_stdout() {
    for args in [&["--explain", "where true"][..], &["--generate", "man"]] {
        let full = File::options().write(true).open("/dev/full").expect("/dev/full opens");
        let out = Command::new(env!("CARGO_BIN_EXE_evq"))
            .args(args)
            .stdout(Stdio::from(full))
            .output()
            .expect("evq runs");
        assert_eq!(out.status.code(), Some(4), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "evq: stdout: No space left on device\n",
            "{args:?}"
        );
    }
}

/// Option values that could not mean anything are usage errors naming the option: an empty
/// `--time-format` or `--multiline-start`, and a `--year` no time can have.
#[test]
fn empty_formats_and_years_past_9999_are_usage_errors() {
    for (args, option) in [
        (&["--time-format", ""][..], "--time-format"),
        (&["--multiline-start", ""][..], "--multiline-start"),
        (&["--year", "99999"][..], "--year"),
    ] {
        let all: Vec<&str> = args.iter().copied().chain(["where true"]).collect();
        let r = run(&all, "{}\n");
        assert_eq!(r.code, 2, "{args:?}");
        assert!(
            r.stderr.starts_with("evq: ") && r.stderr.contains(option),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(run(&["--year", "2024", "where true"], "{}\n").code, 0);
}

#[test]
fn dash_is_no_output_file_and_the_pipeline_file_is_named_as_such() {
    for (args, says) in [
        (
            &["--dead-letter", "-", "where true"][..],
            "evq: --dead-letter: - is not stdout here",
        ),
        (&["to \"-\""][..], "evq: to: \"-\" is not stdout here"),
        (&["tee \"-\""][..], "evq: tee: \"-\" is not stdout here"),
        (
            &["tee \"kept.ndjson\" | to \"-\""][..],
            "evq: to: \"-\" is not stdout here",
        ),
        (
            &["-f", "/nonexistent/evq-config/p.evq"][..],
            "evq: -f /nonexistent/evq-config/p.evq: the pipeline file cannot be read: ",
        ),
        (
            &["-j", "99999999999999999999", "where true"][..],
            "threads are more than the 1024 evq runs at most",
        ),
    ] {
        let r = run(args, "{}\n");
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
    }
    assert!(!std::path::Path::new("-").exists(), "no file named - was made");
}

#[test]
fn a_directory_where_a_file_is_named_gets_a_hint() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dead = format!("--dead-letter={}", dir.path().display());
    let r = run(&[dead.as_str(), "where true"], "bad\n");
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("Is a directory; name a file, which may be in that directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn dash_as_the_pipeline_file_reads_the_pipeline_from_stdin() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, "{\"a\":1}\n{\"a\":2}\n").expect("the input");
    let input = input.to_str().expect("UTF-8");
    let r = run(&["-f", "-", input], "# from stdin\nwhere a == 2\n");
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"a\":2}\n"), "{}", r.stderr);
    // With no input named, the events would have to come from stdin as well.
    for args in [&["-f", "-"][..], &["-f", "-", "-"][..]] {
        let r = run(args, "where true\n");
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("standard input"), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
    }
}

#[test]
fn a_pipeline_argument_beside_a_pipeline_file_is_named_as_the_mistake() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pipeline = dir.path().join("p.evq");
    std::fs::write(&pipeline, "where true\n").expect("the pipeline file");
    let p = pipeline.to_str().expect("UTF-8");
    let r = run(&["-f", p, "where a == 1 | count"], "{\"a\":1}\n");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("-f: gives the pipeline, so 'where a == 1 | count' would be read as an input file"),
        "{}",
        r.stderr
    );
    // A file of that name is an input like any other.
    std::fs::write(dir.path().join("where true"), "{\"b\":2}\n").expect("an input");
    let r = crate::common::run_in(dir.path(), &["-f", p, "where true"], "");
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"b\":2}\n"), "{}", r.stderr);
}
