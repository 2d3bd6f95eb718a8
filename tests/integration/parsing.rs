//! Pipeline parsing through the binary: texts cut short, regex escapes, output column
//! names, nesting limits, and the replay of the fuzzers' saved inputs.

use crate::common::run;

/// Asserts a usage error (exit 2) with a caret and a hint, before any input is read.
fn usage_error(pipeline: &str) -> String {
    let r = run(&[pipeline], "{\"a\":1}\n");
    assert_eq!(r.code, 2, "`{pipeline}`: {}", r.stderr);
    assert!(r.stdout.is_empty(), "`{pipeline}` printed {}", r.stdout);
    assert!(r.stderr.starts_with("evq: pipeline error: "), "{}", r.stderr);
    let caret = r.stderr.lines().nth(2).unwrap_or_default().trim();
    assert!(!caret.is_empty() && caret.chars().all(|c| c == '^'), "{}", r.stderr);
    assert!(r.stderr.contains("\n  hint: "), "{}", r.stderr);
    r.stderr
}

#[test]
fn pipelines_cut_short_are_usage_errors_not_panics() {
    for p in [
        "route",
        "route all",
        "where a =~",
        "where a !~",
        "route a:",
        "route a: b else",
        "stats max(",
        "where a not",
    ] {
        usage_error(p);
    }
}

#[test]
fn regex_ending_in_an_escaped_backslash_matches_a_backslash() {
    let input = "{\"a\":\"x\\\\y\"}\n{\"a\":\"xy\"}\n";
    for p in [
        r"where a =~ /\\/",
        r"where a =~ /\\/ and a =~ /y/",
        r"where a =~ /x\\y/i",
    ] {
        let r = run(&[p], input);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "{\"a\":\"x\\\\y\"}\n"),
            "`{p}`: {}",
            r.stderr
        );
    }
    let r = run(&[r"where a =~ /a\/b/"], "{\"a\":\"a/b\"}\n");
    assert_eq!(r.stdout, "{\"a\":\"a/b\"}\n");
}

#[test]
fn default_aggregate_names_keep_leading_underscores() {
    let r = run(&["stats max(_path), max(path)"], "{\"_path\":1,\"path\":2}\n");
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "{\"max__path\":1,\"max_path\":2}\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn two_output_columns_with_one_name_are_a_usage_error_naming_both() {
    for (p, a, b) in [
        ("stats max(a.b), max(a_b)", "`max(a.b)`", "`max(a_b)`"),
        ("stats sum(x) as n, avg(x) as n", "`sum(x) as n`", "`avg(x) as n`"),
        ("stats count(x > 1), count(y > 1)", "`count(x > 1)`", "`count(y > 1)`"),
        ("stats count() by count", "`count()`", "the key `count`"),
        ("count by x as count", "the count", "the key `x as count`"),
    ] {
        let r = run(&[p], "{\"a\":1}\n");
        assert_eq!(r.code, 2, "`{p}`: {}", r.stderr);
        assert!(r.stderr.contains(a) && r.stderr.contains(b), "{}", r.stderr);
        assert!(r.stderr.contains("hint: "), "{}", r.stderr);
    }
}

#[test]
fn deeply_nested_expressions_are_usage_errors() {
    // Longer than one command-line argument may be, so from a pipeline file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.evq");
    for (open, close) in [("(", ")"), ("[", "]"), ("not ", ""), ("-", "")] {
        let p = format!("where {}a{}", open.repeat(100_000), close.repeat(100_000));
        std::fs::write(&file, &p).unwrap();
        let r = run(&["-f", file.to_str().unwrap()], "");
        assert_eq!(r.code, 2, "{}", &r.stderr[..r.stderr.len().min(300)]);
        assert!(r.stderr.contains("nested more than 128 levels"), "{}", &r.stderr[..200]);
    }
}

/// Saved fuzz inputs (`fuzz/regressions/TARGET/NAME`) that still crash on this branch
/// because their fix lies in another part of evq. Empty it as those fixes land: every
/// saved input then replays in the suite below.
const STILL_CRASHING: &[&str] = &[];

/// The environment variable that makes `replay_one_saved_fuzz_input` replay one file.
const REPLAY: &str = "EVQ_REPLAY_FUZZ_INPUT";

#[test]
fn saved_fuzz_inputs_replay_without_a_crash() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut failed = Vec::new();
    let mut replayed = 0;
    for target in ["pipeline", "events", "text", "template"] {
        let Ok(dir) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        let mut files: Vec<_> = dir.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let name = format!("{target}/{}", file.file_name().unwrap_or_default().to_string_lossy());
            if STILL_CRASHING.contains(&name.as_str()) {
                continue;
            }
            // In a child process: a panic on an engine thread aborts the process.
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "parsing::replay_one_saved_fuzz_input",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(REPLAY, &file)
                .output()
                .unwrap();
            replayed += 1;
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let why = stderr.lines().find(|l| l.contains("panicked at")).map_or("", |l| l);
                failed.push(format!(
                    "{name}: {why} {}",
                    stderr
                        .lines()
                        .skip_while(|l| !l.contains("panicked at"))
                        .nth(1)
                        .unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {replayed} saved fuzz inputs crash:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// Replays the file named by `EVQ_REPLAY_FUZZ_INPUT` through its target; does nothing
/// without it.
#[test]
fn replay_one_saved_fuzz_input() {
    let Some(file) = std::env::var_os(REPLAY).map(std::path::PathBuf::from) else {
        return;
    };
    let target = file
        .parent()
        .and_then(|d| d.file_name())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let data = std::fs::read(&file).unwrap();
    evq::fuzzing::run_target(&target, &data);
}

#[test]
fn parse_of_another_field_first_reads_ndjson_and_parse_of_the_line_reads_lines() {
    let r = run(&["parse kv from m"], "{\"m\":\"a=1 b=2\"}\n");
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "{\"m\":\"a=1 b=2\",\"a\":1,\"b\":2}\n"),
        "{}",
        r.stderr
    );
    for pipeline in ["parse kv", "parse kv from line"] {
        let r = run(&[pipeline], "a=1 b=2\n");
        assert_eq!(r.stdout, "{\"line\":\"a=1 b=2\",\"a\":1,\"b\":2}\n", "{pipeline}");
    }
}

#[test]
fn parse_from_a_number_reads_its_text_and_from_an_object_or_array_parses_nothing() {
    let input = "{\"m\":{\"a\":1},\"l\":[7],\"n\":500}\n";
    let r = run(&["parse /(?P<d>\\d)/ from n | keep d"], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"d\":5}\n"), "{}", r.stderr);
    for from in ["m", "l"] {
        let r = run(&["--stats", &format!("parse /(?P<d>\\d)/ from {from}")], input);
        assert_eq!(r.stdout, "", "from {from}");
        assert!(
            r.stderr.contains("1 dead letter (1 parse)"),
            "from {from}: {}",
            r.stderr
        );
        let kept = run(&[&format!("parse /(?P<d>\\d)/ from {from} else keep")], input);
        assert_eq!(kept.stdout, input, "from {from}");
    }
}
