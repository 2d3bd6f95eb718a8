//! Golden cases: every folder `tests/cases/<feature>/<name>/` is one run of evq.
//!
//! - `cmd`: the pipeline on the first line, taken as is; each further line holds
//!   more arguments, split like a shell would (`-o json`).
//! - `in.ndjson`: stdin (empty when absent).
//! - `out`: the exact stdout (empty when absent).
//! - `status`: the exit code (0 when absent).
//! - `err`: text that stderr must contain (optional).
//! - `files/`: the files evq must write, at their paths relative to the case's folder
//!   (`to`, `tee`, `-O`). The run must create exactly these, with exactly this content:
//!   a file missing, different, one too many or outside the case's folder fails the case.
//!   Without `files/`, the run must write no file.
//!
//! evq runs inside a temporary copy of the case's folder (without `cmd`, `out`, `err`,
//! `status` and `files/`; symlinks are copied as symlinks), so arguments may name files
//! there and nothing a case writes lands in the repository.
//! A regression is a new folder; all failures are reported together.

use crate::common::evq;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The folder of a case that holds the files it must write.
const FILES: &str = "files";

/// What a case's folder holds to describe the run, not copied to where it runs.
const CASE_FILES: [&str; 5] = ["cmd", "out", "err", "status", FILES];

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

    let scratch = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let work = scratch.path().join("case");
    copy_tree(dir, &work, &CASE_FILES).map_err(|e| format!("cannot copy the case: {e}"))?;
    let before = files_under(scratch.path());
    let output = evq()
        .current_dir(&work)
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
    let mut written = files_under(scratch.path());
    written.retain(|path, _| !before.contains_key(path));
    problems.extend(compare_files(&want_files(dir), &written));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\nstderr: {got_err}", problems.join("\n")))
    }
}

/// Copies the folder `from` to `to`, leaving out the names `skip` at its top.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, to.join(&name))?;
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name), &[])?;
        } else {
            fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// Every file (or symlink, which is not followed) below `dir`, in no particular order.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let (mut out, mut stack) = (Vec::new(), vec![dir.to_path_buf()]);
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// Every file below `root` and its bytes, by its path relative to `root/case` (a file outside
/// that folder, which no case may write, starts with `../`).
fn files_under(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let case = root.join("case");
    let name = |p: &Path| match p.strip_prefix(&case) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => format!("../{}", p.strip_prefix(root).unwrap_or(p).display()),
    };
    files_in(root)
        .iter()
        .map(|p| (name(p), fs::read(p).unwrap_or_default()))
        .collect()
}

/// The files the case at `dir` must write: those in its `files/`, by their paths below it.
fn want_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let want = dir.join(FILES);
    let name = |p: &Path| p.strip_prefix(&want).unwrap_or(p).display().to_string();
    files_in(&want)
        .iter()
        .map(|p| (name(p), fs::read(p).unwrap_or_default()))
        .collect()
}

/// What differs between the files a case wants and those the run wrote.
fn compare_files(want: &BTreeMap<String, Vec<u8>>, got: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut problems = Vec::new();
    for (name, bytes) in want {
        match got.get(name) {
            None => problems.push(format!("file {name}: not written")),
            Some(g) if g != bytes => problems.push(format!(
                "file {name}:\n--- want\n{}--- got\n{}---",
                text(bytes),
                text(g)
            )),
            Some(_) => {}
        }
    }
    for name in got.keys().filter(|n| !want.contains_key(*n)) {
        problems.push(format!("file {name}: written, but not in files/"));
    }
    problems
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

#[test]
fn golden_runner_checks_every_file_a_case_writes() {
    let root = tempfile::tempdir().unwrap();
    let case = |name: &str, files: &[(&str, &str)]| {
        let d = root.path().join(name);
        for (f, text) in files {
            let p = d.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
    };
    let two = "{\"a\":\"x\"}\n{\"a\":\"y\"}\n";
    let cmd = "to \"out/{a}.ndjson\"\n";
    let x = ("files/out/x.ndjson", "{\"a\":\"x\"}\n");
    let y = ("files/out/y.ndjson", "{\"a\":\"y\"}\n");
    case("ok/both", &[("cmd", cmd), ("in.ndjson", two), x, y]);
    case("bad/extra", &[("cmd", cmd), ("in.ndjson", two), x]);
    case(
        "bad/content",
        &[("cmd", cmd), ("in.ndjson", two), x, ("files/out/y.ndjson", "{}\n")],
    );
    case(
        "bad/missing",
        &[("cmd", cmd), ("in.ndjson", two), x, y, ("files/z", "z\n")],
    );
    case("bad/unlisted", &[("cmd", cmd), ("in.ndjson", two)]);

    let report = check_all(root.path()).expect_err("four cases are wrong");
    assert!(report.starts_with("4 of 5 golden cases failed"), "{report}");
    assert!(!report.contains("=== ok/"), "{report}");
    for line in [
        "file out/y.ndjson: written, but not in files/",
        "file out/y.ndjson:\n--- want\n{}\n--- got\n{\"a\":\"y\"}\n---",
        "file z: not written",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }
    // The cases ran in copies: nothing was written beside them.
    assert!(!root.path().join("ok/both/out").exists());
}
