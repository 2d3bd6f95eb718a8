//! Faults outside the data: an unwritable stderr or stdout never aborts evq or
//! changes its documented exit status.

use std::fs::File;
use std::io::Write;
use std::process::{Command, Stdio};

fn evq() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("evq"))
}

fn status_with_stderr_to_dev_full(args: &[&str], stdin: &str) -> i32 {
    let full = File::options().write(true).open("/dev/full").expect("/dev/full opens");
    let mut child = evq()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::from(full))
        .spawn()
        .expect("evq starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    input.write_all(stdin.as_bytes()).expect("stdin takes the input");
    drop(input);
    child.wait().expect("evq ends").code().unwrap_or(-1)
}

#[test]
fn unwritable_stderr_keeps_usage_status() {
    assert_eq!(status_with_stderr_to_dev_full(&["where x =="], ""), 2);
}

#[test]
fn unwritable_stderr_keeps_strict_status() {
    assert_eq!(
        status_with_stderr_to_dev_full(&["--strict", "where a == 1"], "bad\n{\"a\":1}\n"),
        3
    );
}

#[test]
fn unwritable_stderr_reports_dead_letters_silently() {
    let args = ["--stats", "where a == 1"];
    assert_eq!(status_with_stderr_to_dev_full(&args, "bad\n{\"a\":1}\n"), 0);
}

#[test]
fn full_stdout_fails_explain_with_output_status() {
    let full = File::options().write(true).open("/dev/full").expect("/dev/full opens");
    let out = evq()
        .args(["--explain", "where a == 1"])
        .stdout(Stdio::from(full))
        .stderr(Stdio::null())
        .output()
        .expect("evq runs");
    assert_eq!(out.status.code(), Some(4));
}
