//! Golden runs of the stages that write files (`to`, `tee`, `-O`): each case runs evq in
//! an empty directory and compares stdout and every file written there, byte for byte.
//! (The folder cases in `tests/cases/to` and `tests/cases/tee` check written files too, with `files/`.)

use crate::common::evq;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

const EVENTS: &str = r#"{"svc":"api","level":"error","ms":120}
{"svc":"web","level":"error","ms":800}
{"svc":"db","level":"info","ms":30}
{"svc":5,"level":"warn","ms":700}
{"svc":"a/b","level":"info","ms":1}
"#;

/// What one run left behind: its stdout, and each file under the directory by relative path.
#[derive(Debug, PartialEq)]
struct Outcome {
    stdout: String,
    files: BTreeMap<String, String>,
}

/// Every regular file under `root`, keyed by its path relative to `root` (with `/`).
fn files_under(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("a readable directory") {
            let p = entry.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, fs::read_to_string(&p).expect("a UTF-8 file"));
            }
        }
    }
    out
}

/// Runs evq with `args` in a fresh directory (holding `setup`'s files first), feeding `stdin`.
fn run_in_dir(args: &[&str], stdin: &str, setup: &[(&str, &str)]) -> Outcome {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, text) in setup {
        let p = dir.path().join(name);
        fs::create_dir_all(p.parent().expect("a parent")).expect("a parent directory");
        fs::write(p, text).expect("a setup file");
    }
    let out = evq()
        .current_dir(dir.path())
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("evq runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        files: files_under(dir.path()),
    }
}

/// The expected outcome: stdout and `(path, content)` pairs.
fn want(stdout: &str, files: &[(&str, &str)]) -> Outcome {
    Outcome {
        stdout: stdout.to_string(),
        files: files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect(),
    }
}

#[test]
fn route_by_then_to_writes_one_file_per_topic_and_nothing_to_stdout() {
    let got = run_in_dir(&[r#"route by svc | to "out/{topic()}.ndjson""#], EVENTS, &[]);
    let expected = want(
        "",
        &[
            ("out/5.ndjson", "{\"svc\":5,\"level\":\"warn\",\"ms\":700}\n"),
            ("out/a%2Fb.ndjson", "{\"svc\":\"a/b\",\"level\":\"info\",\"ms\":1}\n"),
            ("out/api.ndjson", "{\"svc\":\"api\",\"level\":\"error\",\"ms\":120}\n"),
            ("out/db.ndjson", "{\"svc\":\"db\",\"level\":\"info\",\"ms\":30}\n"),
            ("out/web.ndjson", "{\"svc\":\"web\",\"level\":\"error\",\"ms\":800}\n"),
        ],
    );
    assert_eq!(got, expected);
}

#[test]
fn out_dir_is_the_same_as_ending_with_to_topic_files() {
    let by_flag = run_in_dir(&["route by svc", "-O", "out"], EVENTS, &[]);
    let by_stage = run_in_dir(&[r#"route by svc | to "out/{topic()}.ndjson""#], EVENTS, &[]);
    assert_eq!(by_flag, by_stage);
    assert_eq!(by_flag.files.len(), 5, "{by_flag:?}");
}

#[test]
fn route_rules_write_else_and_unmatched_topics() {
    let got = run_in_dir(
        &[r#"route errors: level == "error", slow: ms > 500 else rest | to "out/{topic()}.ndjson""#],
        EVENTS,
        &[],
    );
    let expected = want(
        "",
        &[
            (
                "out/errors.ndjson",
                "{\"svc\":\"api\",\"level\":\"error\",\"ms\":120}\n{\"svc\":\"web\",\"level\":\"error\",\"ms\":800}\n",
            ),
            (
                "out/rest.ndjson",
                "{\"svc\":\"db\",\"level\":\"info\",\"ms\":30}\n{\"svc\":\"a/b\",\"level\":\"info\",\"ms\":1}\n",
            ),
            ("out/slow.ndjson", "{\"svc\":5,\"level\":\"warn\",\"ms\":700}\n"),
        ],
    );
    assert_eq!(got, expected);
}

#[test]
fn route_all_then_tee_writes_each_copy_and_count_counts_copies() {
    let got = run_in_dir(
        &[r#"route all errors: level == "error", slow: ms > 500 | tee "out/{topic()}.ndjson" | count"#],
        EVENTS,
        &[],
    );
    let expected = want(
        "{\"count\":6}\n",
        &[
            (
                "out/_unmatched.ndjson",
                "{\"svc\":\"db\",\"level\":\"info\",\"ms\":30}\n{\"svc\":\"a/b\",\"level\":\"info\",\"ms\":1}\n",
            ),
            (
                "out/errors.ndjson",
                "{\"svc\":\"api\",\"level\":\"error\",\"ms\":120}\n{\"svc\":\"web\",\"level\":\"error\",\"ms\":800}\n",
            ),
            (
                "out/slow.ndjson",
                "{\"svc\":\"web\",\"level\":\"error\",\"ms\":800}\n{\"svc\":5,\"level\":\"warn\",\"ms\":700}\n",
            ),
        ],
    );
    assert_eq!(got, expected);
}

#[test]
fn tee_with_field_placeholders_makes_directories_and_passes_events_on_to_count_by() {
    let got = run_in_dir(&[r#"tee "out/{level}/{svc}.ndjson" | count by level"#], EVENTS, &[]);
    let expected = want(
        "{\"level\":\"error\",\"count\":2}\n{\"level\":\"info\",\"count\":2}\n{\"level\":\"warn\",\"count\":1}\n",
        &[
            (
                "out/error/api.ndjson",
                "{\"svc\":\"api\",\"level\":\"error\",\"ms\":120}\n",
            ),
            (
                "out/error/web.ndjson",
                "{\"svc\":\"web\",\"level\":\"error\",\"ms\":800}\n",
            ),
            (
                "out/info/a%2Fb.ndjson",
                "{\"svc\":\"a/b\",\"level\":\"info\",\"ms\":1}\n",
            ),
            ("out/info/db.ndjson", "{\"svc\":\"db\",\"level\":\"info\",\"ms\":30}\n"),
            ("out/warn/5.ndjson", "{\"svc\":5,\"level\":\"warn\",\"ms\":700}\n"),
        ],
    );
    assert_eq!(got, expected);
}

#[test]
fn to_without_placeholders_writes_one_file_with_every_event_in_order() {
    let got = run_in_dir(&[r#"where ms >= 100 | to "all.ndjson""#], EVENTS, &[]);
    let expected = want(
        "",
        &[(
            "all.ndjson",
            "{\"svc\":\"api\",\"level\":\"error\",\"ms\":120}\n{\"svc\":\"web\",\"level\":\"error\",\"ms\":800}\n{\"svc\":5,\"level\":\"warn\",\"ms\":700}\n",
        )],
    );
    assert_eq!(got, expected);
}

#[test]
fn missing_null_empty_and_dot_dot_placeholders_get_safe_names() {
    let input = "{\"a\":1}\n{\"svc\":null}\n{\"svc\":\"\"}\n{\"svc\":\"..\"}\n";
    let got = run_in_dir(&[r#"to "out/{svc}.ndjson""#], input, &[]);
    let expected = want(
        "",
        &[
            ("out/%2E%2E.ndjson", "{\"svc\":\"..\"}\n"),
            ("out/%empty.ndjson", "{\"svc\":\"\"}\n"),
            ("out/_none.ndjson", "{\"a\":1}\n{\"svc\":null}\n"),
        ],
    );
    assert_eq!(got, expected);
}

#[test]
fn modified_events_are_written_as_modified_and_unmodified_ones_byte_for_byte() {
    let input = "{ \"k\" : \"x\", \"n\": 1.0 }\n{\"k\":\"y\",\"n\":18446744073709551615}\n";
    let got = run_in_dir(
        &[r#"tee "raw/{k}.ndjson" | set m = true | to "set/{k}.ndjson""#],
        input,
        &[],
    );
    let expected = want(
        "",
        &[
            ("raw/x.ndjson", "{ \"k\" : \"x\", \"n\": 1.0 }\n"),
            ("raw/y.ndjson", "{\"k\":\"y\",\"n\":18446744073709551615}\n"),
            ("set/x.ndjson", "{\"k\":\"x\",\"n\":1.0,\"m\":true}\n"),
            ("set/y.ndjson", "{\"k\":\"y\",\"n\":18446744073709551615,\"m\":true}\n"),
        ],
    );
    assert_eq!(got, expected);
}

#[test]
fn an_existing_topic_file_is_truncated_unless_append() {
    let old = [("out/x.ndjson", "{\"old\":1}\n")];
    let input = "{\"k\":\"x\"}\n";
    let truncated = run_in_dir(&[r#"to "out/{k}.ndjson""#], input, &old);
    assert_eq!(truncated, want("", &[("out/x.ndjson", "{\"k\":\"x\"}\n")]));
    let appended = run_in_dir(&["--append", r#"to "out/{k}.ndjson""#], input, &old);
    assert_eq!(appended, want("", &[("out/x.ndjson", "{\"old\":1}\n{\"k\":\"x\"}\n")]));
}
