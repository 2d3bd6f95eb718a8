//! Golden cases: every folder `tests/cases/<feature>/<name>/` is one run of evq.
//!
//! - `cmd`: the pipeline on the first line, taken as is; each further line holds
//!   more arguments, split like a shell would (`-o json`).
//! - `in.ndjson`: stdin (empty when absent).
//! - `out`: the exact stdout (empty when absent).
//! - `status`: the exit code (0 when absent).
//! - `err`: text that stderr must contain (optional).
//!
//! evq runs inside the case's folder, so arguments may name files there.
//! A regression is a new folder; all failures are reported together.

use crate::common::evq;
use std::fs;
use std::path::{Path, PathBuf};

fn cases_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// Every case folder (one that holds a `cmd`), in path order.
fn case_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.join("cmd").is_file() {
            out.push(dir);
            continue;
        }
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
            let p = entry.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

fn read_opt(dir: &Path, name: &str) -> Option<String> {
    let p = dir.join(name);
    p.exists()
        .then(|| fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display())))
}

/// Runs one case; `Err` says everything that differs.
fn check_case(dir: &Path) -> Result<(), String> {
    let cmd = read_opt(dir, "cmd").ok_or("no cmd file")?;
    let mut lines = cmd.lines();
    let pipeline = lines.next().ok_or("cmd is empty")?;
    let mut args = vec![pipeline.to_string()];
    for line in lines.filter(|l| !l.trim().is_empty()) {
        args.extend(shlex::split(line).ok_or_else(|| format!("cannot split cmd line {line:?}"))?);
    }
    let stdin = fs::read(dir.join("in.ndjson")).unwrap_or_default();
    let want_out = read_opt(dir, "out").unwrap_or_default();
    let want_status: i32 = match read_opt(dir, "status") {
        Some(s) => s.trim().parse().map_err(|e| format!("bad status file: {e}"))?,
        None => 0,
    };
    let want_err = read_opt(dir, "err").map(|s| s.trim_end_matches('\n').to_string());

    let output = evq()
        .current_dir(dir)
        .args(&args)
        .write_stdin(stdin)
        .output()
        .map_err(|e| format!("cannot run evq: {e}"))?;
    let got_out = String::from_utf8_lossy(&output.stdout);
    let got_err = String::from_utf8_lossy(&output.stderr);
    let got_status = output.status.code().unwrap_or(-1);

    let mut problems = Vec::new();
    if got_status != want_status {
        problems.push(format!("status: want {want_status}, got {got_status}"));
    }
    if got_out != want_out {
        problems.push(format!("stdout:\n--- want\n{want_out}--- got\n{got_out}---"));
    }
    if let Some(e) = want_err {
        if !got_err.contains(&e) {
            problems.push(format!("stderr should contain {e:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\nstderr: {got_err}", problems.join("\n")))
    }
}

/// Checks every case under `root`; the error lists each failing case by name.
fn check_all(root: &Path) -> Result<usize, String> {
    let dirs = case_dirs(root);
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            let name = d.strip_prefix(root).unwrap_or(d).display().to_string();
            check_case(d).err().map(|e| format!("=== {name}\n{e}"))
        })
        .collect();
    if failures.is_empty() {
        Ok(dirs.len())
    } else {
        Err(format!(
            "{} of {} golden cases failed:\n\n{}",
            failures.len(),
            dirs.len(),
            failures.join("\n\n")
        ))
    }
}

#[test]
fn golden_cases() {
    match check_all(&cases_root()) {
        Ok(n) => assert!(n >= 15, "only {n} golden cases found under tests/cases"),
        Err(report) => panic!("{report}"),
    }
}

#[test]
fn golden_runner_reports_every_failing_case_by_name() {
    let root = tempfile::tempdir().unwrap();
    let case = |name: &str, files: &[(&str, &str)]| {
        let d = root.path().join(name);
        fs::create_dir_all(&d).unwrap();
        for (f, text) in files {
            fs::write(d.join(f), text).unwrap();
        }
    };
    case(
        "ok/pass",
        &[
            ("cmd", "set b = 1\n"),
            ("in.ndjson", "{\"a\":1}\n"),
            ("out", "{\"a\":1,\"b\":1}\n"),
        ],
    );
    case(
        "bad/stdout",
        &[
            ("cmd", "where true\n"),
            ("in.ndjson", "{\"a\":1}\n"),
            ("out", "{\"a\":2}\n"),
        ],
    );
    case("bad/status", &[("cmd", "wher true\n"), ("status", "0\n")]);
    case(
        "bad/stderr",
        &[("cmd", "wher true\n"), ("status", "2\n"), ("err", "no such text\n")],
    );
    case("ok/args", &[("cmd", "where true\n-o json\n"), ("out", "[]\n")]);

    let report = check_all(root.path()).expect_err("three cases are wrong");
    assert!(report.starts_with("3 of 5 golden cases failed"), "{report}");
    for name in ["bad/stdout", "bad/status", "bad/stderr"] {
        assert!(
            report.contains(&format!("=== {name}\n")),
            "{name} missing from:\n{report}"
        );
    }
    assert!(!report.contains("=== ok/"), "{report}");
    assert!(report.contains("status: want 0, got 2"), "{report}");
    assert!(report.contains("stderr should contain \"no such text\""), "{report}");
}
