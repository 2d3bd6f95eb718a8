//! Inputs: `-i json`/`-i csv` records around a bad one, directory walks (links, FIFOs,
//! loops), and output files that are inputs of the same run.

use crate::common::{evq, run};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

struct Out {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs evq with a time limit (a walk that blocks on a FIFO fails instead of hanging).
fn run_in(dir: &Path, args: &[&str]) -> Out {
    let out = evq()
        .current_dir(dir)
        .args(args)
        .timeout(Duration::from_secs(20))
        .output()
        .expect("evq runs");
    Out {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

fn mkfifo(p: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
}

#[test]
fn directory_walk_skips_fifos_and_notes_them() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("logs")).unwrap();
    std::fs::write(d.path().join("logs/a.ndjson"), "{\"a\":1}\n").unwrap();
    mkfifo(&d.path().join("logs/pipe"));
    let r = run_in(d.path(), &["where true", "logs"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":1}\n");
    assert!(r.stderr.contains("skipped 1 special file"), "{}", r.stderr);
}

#[test]
fn directory_walk_does_not_follow_links_out_of_the_tree() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("logs")).unwrap();
    std::fs::write(d.path().join("secret"), "{\"secret\":1}\n").unwrap();
    std::fs::write(d.path().join("logs/a.ndjson"), "{\"a\":1}\n").unwrap();
    symlink(d.path().join("secret"), d.path().join("logs/b.ndjson")).unwrap();
    let r = run_in(d.path(), &["where true", "logs"]);
    assert_eq!(r.stdout, "{\"a\":1}\n");
    assert!(r.stderr.contains("1 symbolic link") && r.stderr.contains("--follow-links"));
    let r = run_in(d.path(), &["--follow-links", "where true", "logs"]);
    assert_eq!(r.stdout, "{\"a\":1}\n{\"secret\":1}\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn directory_walk_with_a_link_loop_reads_each_file_once() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("logs/sub")).unwrap();
    std::fs::write(d.path().join("logs/sub/a.ndjson"), "{\"a\":1}\n").unwrap();
    symlink("..", d.path().join("logs/sub/loop")).unwrap();
    for args in [&["count", "logs"][..], &["--follow-links", "count", "logs"]] {
        let r = run_in(d.path(), args);
        assert_eq!(r.stdout, "{\"count\":1}\n", "{args:?}: {}", r.stderr);
    }
}

#[test]
fn a_fifo_named_on_the_command_line_is_read() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("pipe");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, "{\"a\":1}\n"))
    };
    let r = run_in(d.path(), &["where true", "pipe"]);
    writer.join().unwrap().unwrap();
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"a\":1}\n"), "{}", r.stderr);
}

#[test]
fn stdin_named_twice_and_a_file_named_twice_end() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.ndjson"), "{\"a\":1}\n").unwrap();
    let r = run_in(d.path(), &["count", "a.ndjson", "a.ndjson"]);
    assert_eq!(r.stdout, "{\"count\":2}\n");
    let r = run(&["count", "-", "-"], "{\"a\":1}\n");
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":1}\n"));
}
