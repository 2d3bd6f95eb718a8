//! `-F/--follow`: evq runs while files grow, are rotated and truncated; every line comes out
//! once, windows and topic files come out while it runs, and SIGINT ends it with 130.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const EVQ: &str = env!("CARGO_BIN_EXE_evq");
/// Generous: the machine may be busy; each wait ends as soon as the output is there.
const PATIENCE: Duration = Duration::from_secs(20);

/// evq following files, with what it wrote to stdout so far.
struct Following {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Following {
    fn start(args: &[&str], dir: &Path) -> Following {
        let mut child = Command::new(EVQ)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("evq starts");
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Following { child, out }
    }

    fn stdout(&self) -> String {
        String::from_utf8(self.out.lock().unwrap().clone()).expect("output is UTF-8")
    }

    /// Waits until stdout holds `text`.
    fn wait_for(&mut self, text: &str) {
        let start = Instant::now();
        while !self.stdout().contains(text) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "evq ended ({status}) before writing {text:?}; wrote {:?}",
                    self.stdout()
                );
            }
            assert!(
                start.elapsed() < PATIENCE,
                "waited {PATIENCE:?} for {text:?}; evq wrote {:?}",
                self.stdout()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGINT and returns the exit code, stdout and stderr.
    fn interrupt(mut self) -> (Option<i32>, String, String) {
        let ok = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -INT failed");
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("evq did not end within {PATIENCE:?} of SIGINT");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            e.read_to_string(&mut err).unwrap();
        }
        // The reading thread has seen the end of stdout once evq exited and the pipe closed.
        std::thread::sleep(Duration::from_millis(100));
        (status.code(), self.stdout(), err)
    }
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().append(true).create(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn line(n: u32) -> String {
    format!("{{\"n\":{n}}}\n")
}

#[test]
fn follow_outputs_every_line_once_across_appends_rotation_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &(line(1) + &line(2)));
    let mut evq = Following::start(&["-F", "--stats", "where true", "app.log"], dir.path());
    evq.wait_for(&line(2));

    append(&log, &(line(3) + &line(4)));
    evq.wait_for(&line(4));

    // A line without its newline waits for it.
    append(&log, "{\"n\":");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        evq.stdout(),
        (1..=4).map(line).collect::<String>(),
        "the part line waits"
    );
    append(&log, "5}\n");
    evq.wait_for(&line(5));

    // Rotation by rename: what the old file gets is read, then the new file from its start.
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(&dir.path().join("app.log.1"), &line(6));
    evq.wait_for(&line(6));
    let padded = "{\"n\":7,\"pad\":\"long enough that the truncated file is shorter\"}\n";
    append(&log, padded);
    evq.wait_for(padded);

    // Truncation: the file is read again from its start.
    std::fs::write(&log, "").unwrap();
    append(&log, &line(8));
    evq.wait_for(&line(8));

    let (code, out, err) = evq.interrupt();
    assert_eq!(code, Some(130), "{err}");
    let want: String = (1..=6).map(line).collect::<String>() + padded + &line(8);
    assert_eq!(out, want, "every line once, whole, in order");
    assert!(err.contains("\"lines_read\": 8"), "{err}");
    assert!(err.contains("\"emitted\": 8"), "{err}");
}

#[test]
fn follow_emits_each_window_once_event_time_passes_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("w.log");
    append(&log, "{\"ts\":\"2026-11-01T10:00:10Z\"}\n");
    let mut evq = Following::start(&["-F", "count every 1m", "w.log"], dir.path());
    std::thread::sleep(Duration::from_millis(300));
    append(
        &log,
        "{\"ts\":\"2026-11-01T10:00:50Z\"}\n{\"ts\":\"2026-11-01T10:01:10Z\"}\n",
    );
    let first = "{\"window_start\":\"2026-11-01T10:00:00Z\",\"window_end\":\"2026-11-01T10:01:00Z\",\"count\":2}\n";
    evq.wait_for(first);
    assert!(!evq.stdout().contains("10:02:00Z"), "the open window waits");
    let (code, out, err) = evq.interrupt();
    assert_eq!(code, Some(130), "{err}");
    let open = "{\"window_start\":\"2026-11-01T10:01:00Z\",\"window_end\":\"2026-11-01T10:02:00Z\",\"count\":1}\n";
    assert_eq!(out, format!("{first}{open}"), "the open window is output at SIGINT");
}

#[test]
fn follow_prints_an_aggregate_of_what_was_read_at_sigint_with_fates_adding_up() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, "{\"level\":\"info\"}\nnot json\n");
    let evq = Following::start(&["-F", "--stats", "count by level", "app.log"], dir.path());
    std::thread::sleep(Duration::from_millis(300));
    append(&log, "{\"level\":\"error\"}\n{\"level\":\"info\"}\n");
    std::thread::sleep(Duration::from_millis(800));
    let (code, out, err) = evq.interrupt();
    assert_eq!(code, Some(130), "{err}");
    assert_eq!(
        out,
        "{\"level\":\"info\",\"count\":2}\n{\"level\":\"error\",\"count\":1}\n"
    );
    assert!(err.contains("\"lines_read\": 4"), "{err}");
    assert!(err.contains("\"aggregated\": 3"), "{err}");
    assert!(err.contains("\"invalid_json\": 1"), "{err}");
}

#[test]
fn a_signal_leaves_an_unfinished_last_line_unread_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, "{\"n\":1}\n{\"n\":");
    let mut evq = Following::start(&["-F", "--stats", "where true", "app.log"], dir.path());
    evq.wait_for("{\"n\":1}\n");
    std::thread::sleep(Duration::from_millis(300));
    let (code, out, err) = evq.interrupt();
    assert_eq!(code, Some(130), "{err}");
    assert_eq!(out, "{\"n\":1}\n");
    assert!(
        err.contains("evq: app.log: the run stopped with 5 bytes of an unfinished last line unread (no newline yet)"),
        "{err}"
    );
    assert!(err.contains("\"lines_read\": 1"), "{err}");
}

#[test]
fn follow_writes_topic_files_and_dead_letters_while_input_is_idle() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, "{\"k\":\"a\",\"n\":1}\n");
    let args = [
        "-F",
        "-O",
        "out",
        "--dead-letter",
        "dead.ndjson",
        "route by k",
        "app.log",
    ];
    let mut evq = Following::start(&args, dir.path());
    append(&log, "{\"k\":\"b\",\"n\":2}\nnot json\n");
    let start = Instant::now();
    let read = |rel: &str| std::fs::read_to_string(dir.path().join(rel)).unwrap_or_default();
    while read("out/a.ndjson") != "{\"k\":\"a\",\"n\":1}\n"
        || read("out/b.ndjson") != "{\"k\":\"b\",\"n\":2}\n"
        || !read("dead.ndjson").contains("\"raw\":\"not json\"")
    {
        assert!(start.elapsed() < PATIENCE, "files were not written while evq ran");
        assert!(evq.child.try_wait().unwrap().is_none(), "evq ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, _, err) = evq.interrupt();
    assert_eq!(code, Some(130), "{err}");
}

#[test]
fn follow_reads_several_files_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    append(&a, &line(1));
    append(&b, &line(2));
    let mut evq = Following::start(&["-F", "where true", "a.log", "b.log"], dir.path());
    evq.wait_for(&(line(1) + &line(2)));
    append(&b, &line(3));
    evq.wait_for(&line(3));
    append(&a, &line(4));
    evq.wait_for(&line(4));
    let (code, out, err) = evq.interrupt();
    assert_eq!(code, Some(130), "{err}");
    assert_eq!(out, (1..=4).map(line).collect::<String>());
}
