//! Tests of `sort` past `--memory-limit`: many spilled runs under a low open-file limit, and spill files
//! that never outlive the run (error, SIGKILL).

use crate::common::run;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Lines whose key `k` repeats, so stability shows: `i` is the input order.
fn events(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"k\":{},\"i\":{i},\"pad\":\"{}\"}}\n",
                (i * 7919) % 97,
                "x".repeat(i % 50)
            )
        })
        .collect()
}

/// Runs evq through `sh` with the open-file limit set to `nofile` (soft and hard), on `input` written to a
/// file of `dir`.
fn run_with_nofile(nofile: u32, args: &[&str], input: &str, dir: &Path) -> (String, String, i32) {
    let path = dir.join("in.ndjson");
    std::fs::write(&path, input).expect("write input");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$@\""))
        .arg("sh")
        .arg(assert_cmd::cargo::cargo_bin("evq"))
        .args(args)
        .arg(&path)
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn sort_spilling_thousands_of_runs_under_64_open_files_matches_the_unlimited_sort() {
    let input = events(30_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let (out, err, code) = run_with_nofile(64, &["--memory-limit", "16K", "sort k"], &input, dir.path());
    assert_eq!(code, 0, "stderr: {err}");
    assert!(!err.contains("open files"), "stderr: {err}");
    let unlimited = run(&["sort k"], &input);
    assert_eq!(unlimited.code, 0, "{}", unlimited.stderr);
    assert!(
        out == unlimited.stdout,
        "the spilled sort differs from the in-memory one"
    );
    // Sorted by k, and stable: equal keys keep their input order.
    let pairs: Vec<(i64, i64)> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            (v["k"].as_i64().expect("k"), v["i"].as_i64().expect("i"))
        })
        .collect();
    assert_eq!(pairs.len(), 30_000);
    assert!(pairs.windows(2).all(|w| w[0] < w[1]), "not sorted by (k, input order)");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        1,
        "only the input is left"
    );
}

#[test]
fn sort_descending_through_spills_keeps_ties_in_input_order() {
    let input = events(5_000);
    let spilled = run(&["--memory-limit", "8K", "sort k desc, pad | keep k, i"], &input);
    let in_memory = run(&["sort k desc, pad | keep k, i"], &input);
    assert_eq!(spilled.code, 0, "{}", spilled.stderr);
    assert!(
        spilled.stdout == in_memory.stdout,
        "the spilled sort differs from the in-memory one"
    );
}

#[test]
fn sort_that_cannot_spill_outputs_what_it_took_and_counts_the_rest_skipped() {
    let input = events(2_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    let out = crate::common::evq()
        .args(["--memory-limit", "1K"])
        .arg(format!("--stats={}", stats.display()))
        .arg("sort k")
        .env("TMPDIR", dir.path().join("missing"))
        .write_stdin(input)
        .output()
        .expect("evq runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {err}");
    assert!(err.starts_with("evq: sort: cannot spill"), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    let stats: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).expect("stats file")).expect("JSON");
    let fates = &stats["fates"];
    let keys: Vec<i64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("JSON line")["k"]
                .as_i64()
                .expect("k")
        })
        .collect();
    // The events taken before the failure are written, sorted; each later line read is skipped; none is lost.
    assert!(!keys.is_empty());
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "not sorted: {keys:?}");
    assert_eq!(fates["emitted"].as_u64(), Some(keys.len() as u64), "{stats}");
    assert_eq!(stats["events_out"].as_u64(), Some(keys.len() as u64), "{stats}");
    let fates_sum = ["emitted", "skipped"]
        .iter()
        .filter_map(|f| fates[f].as_u64())
        .sum::<u64>();
    assert_eq!(Some(fates_sum), stats["lines_read"].as_u64(), "{stats}");
}

/// The spill file has no name, so neither an error nor SIGKILL can leave it behind.
#[test]
fn sort_spill_files_have_no_name_and_vanish_with_a_killed_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("evq"))
        .args(["--memory-limit", "1K", "sort k"])
        .env("TMPDIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("evq starts");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(events(3_000).as_bytes()).expect("feed evq");
    stdin.flush().expect("flush");
    // stdin stays open: evq waits for more input with its runs spilled.
    let fd_dir = format!("/proc/{}/fd", child.id());
    let spilled = || {
        std::fs::read_dir(&fd_dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| std::fs::read_link(e.path()).is_ok_and(|target| target.starts_with(dir.path())))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !spilled() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let spilled = spilled();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    drop(stdin);
    assert!(spilled, "evq never opened a spill file in TMPDIR");
    assert!(names.is_empty(), "spill files with names: {names:?}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}
