//! Helpers so a test reads as: args + stdin → stdout, stderr, status.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The evq binary under test.
pub(crate) fn evq() -> Command {
    Command::cargo_bin("evq").expect("the evq binary is built")
}

/// What a run produced.
pub(crate) struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Runs evq with `args`, feeding `stdin`.
pub(crate) fn run(args: &[&str], stdin: &str) -> Run {
    run_bytes(args, stdin.as_bytes())
}

pub(crate) fn run_bytes(args: &[&str], stdin: &[u8]) -> Run {
    finish(evq().args(args).write_stdin(stdin.to_vec()))
}

/// Runs evq with `args` in the directory `dir`, feeding `stdin`.
pub(crate) fn run_in(dir: &Path, args: &[&str], stdin: impl AsRef<[u8]>) -> Run {
    finish(evq().current_dir(dir).args(args).write_stdin(stdin.as_ref().to_vec()))
}

fn finish(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("evq runs");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

/// `--stats` as JSON, from stderr.
pub(crate) fn stats(stderr: &str) -> serde_json::Value {
    let start = stderr.find("{\n").expect("--stats printed");
    serde_json::from_str(&stderr[start..]).expect("--stats is JSON")
}

/// The shared corpus, or None (and a note on stderr) when it is absent.
pub(crate) fn corpus(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus").join(rel);
    if p.exists() {
        Some(p)
    } else if std::env::var_os("EVQ_REQUIRE_CORPUS").is_some() {
        panic!("corpus file {} is absent but EVQ_REQUIRE_CORPUS is set", p.display());
    } else {
        eprintln!("skipping: corpus file {} is absent", p.display());
        None
    }
}

/// A fixture shipped with the repository.
pub(crate) fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}
