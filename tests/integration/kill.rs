//! SIGKILL at several points of a run: every plain file others can see (stdout
//! redirected to a file, topic files, dead letters) holds whole lines, except
//! that the kill itself may cut the last one short (see `assert_whole_lines`;
//! the man page says so under GUARANTEES AND LIMITS). `--atomic` final files
//! only ever appear whole.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn evq() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("evq"))
}

/// Events with a bad line every 50, spread over 20 topics.
fn input(dir: &Path) -> std::path::PathBuf {
    let text: String = (0..300_000)
        .map(|i| {
            if i % 50 == 49 {
                format!("not json {i}\n")
            } else {
                format!(
                    "{{\"i\":{i},\"t\":\"t{}\",\"pad\":\"{}\"}}\n",
                    i % 20,
                    "p".repeat(i % 90)
                )
            }
        })
        .collect();
    let path = dir.join("in.ndjson");
    fs::write(&path, text).expect("the input is written");
    path
}

/// Bytes in the regular files under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum()
}

/// Runs `evq ARGS` and kills it once the files under `watch` hold `bytes` bytes
/// (or when it ends by itself first).
fn kill_when_written(dir: &Path, args: &[&str], watch: &Path, bytes: u64) {
    let stdout = fs::File::create(dir.join("stdout")).expect("stdout file");
    let mut child = evq()
        .args(args)
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::null())
        .spawn()
        .expect("evq starts");
    while child.try_wait().expect("evq can be waited on").is_none() {
        if bytes_under(watch) >= bytes {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.wait();
}

/// Every regular file under `dir` holds whole JSON lines, except that the last
/// may be cut short: SIGKILL cannot be caught, and Linux stops a write(2) that is
/// copying several pages at a page boundary when the process is killed.
fn assert_whole_lines(dir: &Path, what: &str) {
    for entry in fs::read_dir(dir).expect("the directory lists") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            assert_whole_lines(&path, what);
        } else if path.file_name().is_some_and(|n| n != "in.ndjson") {
            let text = fs::read(&path).expect("a file reads");
            let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            for line in text[..complete].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                assert!(
                    serde_json::from_slice::<serde_json::Value>(line).is_ok(),
                    "{what}: {} holds a torn line: {}",
                    path.display(),
                    String::from_utf8_lossy(line)
                );
            }
        }
    }
}

/// Thresholds of written bytes at which the tests kill evq.
const KILL_AT: [u64; 4] = [20_000, 200_000, 1_000_000, 4_000_000];

#[test]
fn sigkill_leaves_stdout_and_dead_letters_on_whole_lines() {
    let (src, dir) = (
        tempfile::tempdir().expect("a temporary directory"),
        tempfile::tempdir().expect("another"),
    );
    let input = input(src.path());
    let dead = dir.path().join("dead.ndjson");
    for bytes in KILL_AT {
        let args = [
            "where i >= 0",
            "--dead-letter",
            dead.to_str().expect("UTF-8"),
            input.to_str().expect("UTF-8"),
        ];
        kill_when_written(dir.path(), &args, dir.path(), bytes);
        assert_whole_lines(dir.path(), &format!("stdout killed at {bytes} bytes"));
    }
}

/// `route by t -O OUT INPUT`, with a small pool so that evq writes topic files
/// all through the run, and `--atomic` when asked.
fn route_args<'a>(out: &'a Path, input: &'a Path, atomic: bool) -> Vec<&'a str> {
    let mut args = vec!["--held-bytes", "64K", "route by t", "-O"];
    args.extend([out, input].map(|p| p.to_str().expect("UTF-8")));
    if atomic {
        args.insert(0, "--atomic");
    }
    args
}

#[test]
fn sigkill_leaves_topic_files_on_whole_lines() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = input(dir.path());
    let out = dir.path().join("out");
    for bytes in KILL_AT {
        kill_when_written(dir.path(), &route_args(&out, &input, false), &out, bytes);
        assert_whole_lines(dir.path(), &format!("topic files killed at {bytes} bytes"));
    }
}

#[test]
fn sigkill_with_atomic_never_leaves_a_torn_final_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = input(dir.path());
    let out = dir.path().join("out");
    for bytes in KILL_AT {
        kill_when_written(dir.path(), &route_args(&out, &input, true), &out, bytes);
        // Temporary files may end anywhere; the final names only appear whole.
        for entry in fs::read_dir(&out).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "ndjson") {
                let bytes = fs::read(&path).expect("a file reads");
                assert!(bytes.ends_with(b"\n"), "{} ends inside a line", path.display());
            }
        }
    }
}
