//! Tests of what a person sees: help, version, man page, completions, explain.

use crate::common::run;
use std::path::Path;

#[test]
fn man_page_in_the_repository_is_up_to_date() {
    let r = run(&["--generate", "man"], "");
    assert_eq!(r.code, 0);
    let committed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/evq.1")).unwrap();
    assert!(
        r.stdout == committed,
        "man/evq.1 is stale: run `cargo run -- --generate man > man/evq.1`"
    );
    for section in ["EXPRESSIONS", "STAGES", "EXIT STATUS", "DEAD LETTERS"] {
        assert!(committed.contains(section), "{section}");
    }
}

#[test]
fn completions_name_the_options() {
    for shell in ["complete-bash", "complete-zsh", "complete-fish"] {
        let r = run(&["--generate", shell], "");
        assert_eq!(r.code, 0, "{shell}");
        assert!(r.stdout.contains("dead-letter"), "{shell}");
    }
}

#[test]
fn help_shows_examples_and_version_prints() {
    let r = run(&["--help"], "");
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Examples:"));
    assert!(r.stdout.contains("--dead-letter"));
    let r = run(&["--version"], "");
    assert_eq!(r.stdout.trim(), format!("evq {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn explain_lists_stages_and_what_they_read_without_reading_input() {
    let r = run(
        &[
            "--explain",
            "-j",
            "2",
            "where level == \"error\" | set x = user.id | head 3",
            "/nonexistent/file",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("where    parallel  reads level"), "{}", r.stdout);
    assert!(r.stdout.contains("set      parallel  reads user"), "{}", r.stdout);
    assert!(r.stdout.contains("head     ordered"), "{}", r.stdout);
    assert!(r.stdout.contains("threads: 2"), "{}", r.stdout);
}

/// A per-event stage after an ordered one runs on one thread in input order, and a stage
/// reads the paths its expressions name, as written, not the fields it writes.
#[test]
fn explain_says_where_events_are_written_how_inputs_are_read_and_what_runs_in_parts() {
    let r = run(&["--explain", "route by type", "-O", "out"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("  to       ordered   writes each event to \"out/{topic()}.ndjson\"\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\noutput: none on stdout: the last stage, to, writes every event to files\n"),
        "{}",
        r.stdout
    );
    let r = run(&["--explain", "tee \"t/{k}.ndjson\" | where a"], "");
    assert!(
        r.stdout
            .contains("writes each event to \"t/{k}.ndjson\", and passes it on\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\noutput: ndjson\n"), "{}", r.stdout);
    let r = run(
        &[
            "--explain",
            "--merge",
            "-i",
            "csv",
            "--since",
            "1h",
            "where a > 1 | count by b",
            "x.csv",
            "y.csv",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    says_each(
        &r.stdout,
        &[
            "  --since/--until parallel  reads event time",
            "  where           parallel  reads a; false: filtered\n",
            "  count           in parts  reads b; every event: aggregated\n",
            "inputs: x.csv, y.csv (read as csv, merged by event time)\n",
            "; one in parts: on every thread, its parts merged in input order)\n",
        ],
    );
}

#[test]
fn explain_marks_stages_after_an_ordered_one_as_ordered_and_names_paths_as_written() {
    let r = run(
        &[
            "--explain",
            "head 5 | set b = c | where `a b` == 1 | keep `x.y`, u.id, b | sort b",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    says_each(
        &r.stdout,
        &[
            "head     ordered   the lines after: skipped\n",
            "set      ordered   reads c\n",
            "where    ordered   reads `a b`; false: filtered\n",
            "keep     ordered   reads `x.y`, u.id, b\n",
            "sort     ordered   reads b\n",
        ],
    );
    // The time field a stage reads and the fates it decides are named too.
    let r = run(&["--explain", "dedupe by id within 5m | assert n > 0"], "");
    says_each(
        &r.stdout,
        &[
            "dedupe   ordered   reads id, event time (ts, time, timestamp or @timestamp); repeat: duplicate; older than DUR \
         before the newest time: dead letter (late); no time: dead letter (no_time)\n",
            "assert   ordered   reads n; the first event that fails: failed; the lines after it: skipped\n",
        ],
    );
    // Events are late only when windows are emitted while reading.
    for (args, late) in [
        (vec!["--explain", "count every 1m"], false),
        (vec!["--explain", "--lateness", "1m", "count every 1m"], true),
    ] {
        let r = run(&args, "");
        assert!(r.stdout.contains("no time: dead letter (no_time)"), "{}", r.stdout);
        assert_eq!(r.stdout.contains("dead letter (late)"), late, "{args:?}: {}", r.stdout);
    }
    let r = run(&["--explain", "--format", "{a} {b.c}", "where true"], "");
    assert!(
        r.stdout.ends_with("output: --format TEMPLATE, reads a, b.c\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn no_pipeline_is_a_usage_error() {
    let r = run(&[], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("PIPELINE"));
}

/// Every `$ evq …` line in a `console` block of the README, run from the
/// repository root, prints exactly the lines that follow it.
#[test]
fn readme_examples_are_true() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut checked = 0;
    let mut in_console = false;
    let mut lines = readme.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("```") {
            in_console = line == "```console";
            continue;
        }
        let Some(cmd) = line.strip_prefix("$ evq ").filter(|_| in_console) else {
            continue;
        };
        let mut expected = String::new();
        while let Some(l) = lines.peek() {
            if l.starts_with("```") || l.starts_with("$ ") {
                break;
            }
            expected.push_str(lines.next().unwrap());
            expected.push('\n');
        }
        let args = shlex::split(cmd).expect("README command is valid shell");
        let out = crate::common::evq().current_dir(root).args(&args).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "README example: evq {cmd}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} README examples found");
}

#[test]
fn progress_is_forced_by_flag_and_never_on_stdout() {
    let input: String = (0..300_000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.ndjson");
    std::fs::write(&f, &input).unwrap();
    let out = crate::common::evq()
        .args(["--progress", "where true", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, input.as_bytes(), "the bar must not touch stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lines"), "no progress bar on stderr: {stderr:?}");
    let quiet = crate::common::evq()
        .args(["--progress", "--no-progress", "where true", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(quiet.stderr.is_empty());
    let default = crate::common::evq()
        .args(["where true", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(default.stderr.is_empty(), "no bar when stderr is not a terminal");
}

/// Asserts that `text` holds each of `lines`.
fn says_each(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "{line:?} in {text}");
    }
}
