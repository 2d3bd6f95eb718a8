//! Tests of the exit codes of SPEC §7: usage errors, corrupt input, closed or full
//! stdout, signals, `-e`, and stopping promptly on endless input.

use crate::common::{evq, run};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const EVQ: &str = env!("CARGO_BIN_EXE_evq");

/// Generous: these runs take milliseconds when evq behaves.
const PROMPT: Duration = Duration::from_secs(10);

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Waits for the child to exit; kills it and fails if it takes longer than `limit`.
fn wait_within(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting on evq") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: evq did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).unwrap();
    }
    err
}

/// Feeds `line` to `stdin` forever (every `pause`, if any) until the reader goes away.
fn feed_forever(mut stdin: std::process::ChildStdin, line: &'static [u8], pause: Option<Duration>) {
    std::thread::spawn(move || {
        let block: Vec<u8> = if pause.is_some() {
            line.to_vec()
        } else {
            line.repeat(1024)
        };
        loop {
            if stdin.write_all(&block).is_err() {
                return;
            }
            if let Some(p) = pause {
                let _ = stdin.flush();
                std::thread::sleep(p);
            }
        }
    });
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("the kill command runs")
        .success();
    assert!(ok, "kill {sig} failed");
}

// ---------------------------------------------------------------- 2: usage errors

/// A usage error exits 2 with a message and reads nothing: the input named would
/// otherwise be reported missing (exit 3), and stdin would produce output.
fn assert_usage_error(args: &[&str], mention: &str) {
    let mut all = args.to_vec();
    all.push("/nonexistent/input.ndjson");
    all.push("-");
    let r = run(&all, "{\"a\":1}\n");
    assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    assert_eq!(r.stdout, "", "{args:?}");
    assert!(
        !r.stderr.contains("/nonexistent/input.ndjson"),
        "{args:?}: input was read: {}",
        r.stderr
    );
    assert!(r.stderr.contains(mention), "{args:?}: {}", r.stderr);
}

#[test]
fn bad_option_is_a_usage_error_before_reading_input() {
    assert_usage_error(&["--no-such-option", "where true"], "--no-such-option");
    assert_usage_error(&["-j", "lots", "where true"], "lots");
    assert_usage_error(&["-j", "100000", "where true"], "the 1024 evq runs at most");
    assert_usage_error(&["--max-groups", "0", "count"], "--max-groups");
    assert_usage_error(
        &["--max-open-files", "0", "route by a", "-O", "out"],
        "--max-open-files",
    );
    assert_usage_error(&["-o", "csv", "route by a", "-O", "out"], "-o: shapes stdout");
    assert_usage_error(&["route by a", "-O", ""], "--out-dir");
    assert_usage_error(&["--stats=", "where true"], "--stats");
    assert_usage_error(&["-r", "to \"out.ndjson\""], "-r: shapes stdout");
    assert_usage_error(&["--max-line-bytes", "0", "where true"], "max-line-bytes");
    assert_usage_error(&["where true", ""], "an input path is empty");
    assert_usage_error(
        &["--dead-letter", "dl.ndjson.gz", "where true"],
        "names a compressed file",
    );
    assert_usage_error(&["--stats=s.json.zst", "where true"], "names a compressed file");
    // Topic files are compressed as .gz and .zst only: another suffix would name plain text.
    assert_usage_error(
        &["to \"out/x.ndjson.xz\""],
        "to: its file name ends in .xz, but evq compresses only",
    );
    assert_usage_error(
        &["tee \"out/{a}.BZ2\""],
        "tee: its file name ends in .BZ2, but evq compresses only",
    );
}

/// A `to` file whose name an event makes ends in a compression evq does not write: that
/// file fails (exit 4, the event skipped), and nothing is created.
#[test]
fn a_topic_file_named_for_a_compression_evq_does_not_write_is_not_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = crate::common::run_in(dir.path(), &["to \"{a}\""], "{\"a\":\"x.xz\"}\n{\"a\":\"y\"}\n");
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("x.xz: evq compresses only .gz and .zst files"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("x.xz").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("y")).expect("y"),
        "{\"a\":\"y\"}\n"
    );
}

/// A `--stats=FILE` that cannot be created stops the run before it reads anything (exit 4),
/// as a `--dead-letter` file does, and the message says which option named it.
#[test]
fn a_stats_file_that_cannot_be_created_stops_the_run_before_reading() {
    let r = run(&["--stats=/nonexistent/dir/s.json", "where true"], "{\"a\":1}\n");
    assert_eq!((r.code, r.stdout.as_str()), (4, ""), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--stats=/nonexistent/dir/s.json: No such file or directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_pipeline_is_a_usage_error_with_a_caret_before_reading_input() {
    assert_usage_error(&["wher level == 1"], "where");
    assert_usage_error(&["where (a"], "^");
    assert_usage_error(&["where a =~ /(/"], "^");
    assert_usage_error(&["head lots"], "^");
}

#[test]
fn unreadable_pipeline_file_is_a_usage_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("pipeline.evq");
    assert_usage_error(&["-f", s(&missing)], s(&missing));
    // A directory cannot be read as a pipeline file either, nor one that never ends.
    assert_usage_error(&["-f", s(d.path())], s(d.path()));
    assert_usage_error(&["-f", "/dev/zero"], "larger than 64 MiB");
}

#[test]
fn pipeline_file_is_read_with_comments_and_newlines() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("p.evq");
    std::fs::write(
        &f,
        "# keep the big ones\nwhere a > 1\n| set b = a # doubled below\n  * 2\n",
    )
    .unwrap();
    let r = run(&["-f", s(&f)], "{\"a\":1}\n{\"a\":2}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":2,\"b\":4}\n");
}

// ---------------------------------------------------------------- 3: corrupt input

/// Zero bytes after a gzip file's last member (tape or block padding) are read past, as GNU
/// gzip does; other bytes there are an error (exit 3) that says what they are.
#[test]
fn gzip_padding_is_read_past_and_trailing_garbage_is_named() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"{\"a\":1}\n{\"a\":2}\n").unwrap();
    let gz = e.finish().unwrap();
    let d = tempfile::tempdir().unwrap();
    for (tail, code) in [(&[0u8; 512][..], 0), (&b"\0junk"[..], 3)] {
        let p = d.path().join("in.ndjson.gz");
        std::fs::write(&p, [gz.as_slice(), tail].concat()).unwrap();
        let r = run(&["where true", s(&p)], "");
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (code, "{\"a\":1}\n{\"a\":2}\n"),
            "{}",
            r.stderr
        );
        let named = r
            .stderr
            .contains("bytes that are not gzip data follow the last gzip member");
        assert_eq!(named, code == 3, "{}", r.stderr);
        assert!(!r.stderr.contains("damaged"), "the members were whole: {}", r.stderr);
    }
}

/// Bytes after a whole zstd or xz stream, and a gzip stream cut in its header, are named for
/// what they are, not with the library's words.
#[test]
fn what_follows_a_compressed_stream_and_a_stream_cut_in_its_header_are_named() {
    let zst = zstd::encode_all(&b"{\"a\":1}\n"[..], 3).unwrap();
    let mut xz = Vec::new();
    liblzma::read::XzEncoder::new(&b"{\"a\":1}\n"[..], 6)
        .read_to_end(&mut xz)
        .unwrap();
    for (bytes, said) in [
        (
            [zst.as_slice(), b"JUNK"].concat(),
            "bytes that are not zstd data follow a zstd frame",
        ),
        (
            [xz.as_slice(), b"JUNK"].concat(),
            "or bytes that are not xz data follow it",
        ),
        (b"\x1f\x8b".to_vec(), "the gzip stream is cut short"),
    ] {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("in");
        std::fs::write(&p, bytes).unwrap();
        let r = run(&["count", s(&p)], "");
        assert_eq!(r.code, 3, "{}", r.stderr);
        assert!(r.stderr.contains(said), "{said}: {}", r.stderr);
    }
}

#[test]
fn truncated_gzip_outputs_the_complete_lines_then_exits_3_naming_the_file() {
    let mut plain = String::new();
    for i in 0..3000 {
        writeln!(plain, "{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 41)).unwrap();
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(plain.as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    let d = tempfile::tempdir().unwrap();
    // Cut in the trailer (all data present, checksum missing) and in the middle.
    for cut in [5, gz.len() / 2] {
        let p = d.path().join(format!("cut-{cut}.ndjson.gz"));
        std::fs::write(&p, &gz[..gz.len() - cut]).unwrap();
        let r = run(&["where true", s(&p)], "");
        assert_eq!(r.code, 3, "cut {cut}: {}", r.stderr);
        assert!(r.stdout.ends_with('\n'), "cut {cut}: output ends on a whole line");
        assert!(
            plain.starts_with(&r.stdout),
            "cut {cut}: output is a prefix of the input's lines"
        );
        assert!(
            r.stdout.lines().count() > 1000,
            "cut {cut}: the lines before the cut are output ({})",
            r.stdout.lines().count()
        );
        let errors: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| l.contains(s(&p)) && !l.contains("dead letter") && !l.contains("truncated"))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "cut {cut}: one error line naming the file: {}",
            r.stderr
        );
        assert!(errors[0].starts_with("evq: "), "{}", errors[0]);
        // With --strict the cut-off last line stops the run, and the read error that cut it
        // off is still named: it is the cause.
        let strict = run(&["--strict", "where true", s(&p)], "");
        assert_eq!(
            (strict.code, strict.stdout.as_str()),
            (3, r.stdout.as_str()),
            "cut {cut}"
        );
        let said: Vec<&str> = strict.stderr.lines().filter(|l| l.contains(s(&p))).collect();
        if cut == gz.len() / 2 {
            assert!(
                said.len() >= 2,
                "cut {cut}: the dead letter, then the cause: {}",
                strict.stderr
            );
            assert!(
                said[0].contains("truncated") && said[0].ends_with("(--strict)"),
                "{}",
                said[0]
            );
            assert!(said[1].contains("the gzip stream is cut short"), "{}", said[1]);
        }
    }
}

#[test]
fn corrupt_input_still_lets_the_next_files_be_read() {
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("bad.gz");
    // A gzip header followed by garbage.
    std::fs::write(&bad, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage garbage").unwrap();
    let good = d.path().join("good.ndjson");
    std::fs::write(&good, "{\"ok\":true}\n").unwrap();
    let r = run(&["where true", s(&bad), s(&good)], "");
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"ok\":true}\n");
    assert!(r.stderr.contains(s(&bad)), "{}", r.stderr);
}

// ---------------------------------------------------------------- closed stdout

/// Runs evq with `args`, reads the first line of its output and closes stdout, like
/// `| head -1`: that line, the exit status and stderr.
fn first_line_then_close(args: &[&str]) -> (String, std::process::ExitStatus, String) {
    let mut child = Command::new(EVQ)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here, like `head -1` exiting.
    let status = wait_within(&mut child, PROMPT, "| head -1");
    (first, status, stderr_of(&mut child))
}

#[test]
fn closed_stdout_after_one_line_is_a_quiet_success() {
    let d = tempfile::tempdir().unwrap();
    let big = d.path().join("big.ndjson");
    let mut data = Vec::with_capacity(24 << 20);
    let mut i = 0u64;
    while data.len() < 24 << 20 {
        writeln!(data, "{{\"i\":{i},\"msg\":\"some event text to fill the line\"}}").unwrap();
        i += 1;
    }
    std::fs::write(&big, &data).unwrap();
    let (first, status, err) = first_line_then_close(&["where true", s(&big)]);
    assert_eq!(first, "{\"i\":0,\"msg\":\"some event text to fill the line\"}\n");
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(err, "", "a closed stdout is quiet");
}

/// The events a stage held and could not write after stdout closed are skipped: `--stats`
/// still adds up, in memory and past `--memory-limit` (a merge of spilled runs).
#[test]
fn closed_stdout_while_a_sort_releases_counts_the_rest_as_skipped() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("ids.ndjson");
    let mut data = Vec::new();
    for i in 0..200_000 {
        writeln!(data, "{{\"id\":{i}}}").unwrap();
    }
    std::fs::write(&input, &data).unwrap();
    for (limit, pipeline) in [
        ("1G", "sort id desc"),
        ("1M", "sort id desc"),
        ("1G", "sort id | tail 150000"),
    ] {
        let stats = d.path().join("stats.json");
        let flag = format!("--stats={}", stats.display());
        let (_, status, err) = first_line_then_close(&["--memory-limit", limit, &flag, pipeline, s(&input)]);
        assert_eq!(status.code(), Some(0), "{pipeline} {limit}: {err}");
        let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        let fates = &report["fates"];
        let (emitted, skipped) = (fates["emitted"].as_u64().unwrap(), fates["skipped"].as_u64().unwrap());
        assert!(emitted < 200_000, "{pipeline} {limit}: stdout closed early");
        assert_eq!(emitted + skipped, 200_000, "{pipeline} {limit}: {report}");
    }
}

#[test]
fn closed_stdout_stops_reading_an_endless_input_promptly() {
    let mut child = Command::new(EVQ)
        .args(["where a == 1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    feed_forever(child.stdin.take().unwrap(), b"{\"a\":1}\n", None);
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "{\"a\":1}\n");
    let status = wait_within(&mut child, PROMPT, "endless input | head -1");
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(err, "");
}

#[test]
fn head_stops_reading_an_endless_input_promptly() {
    for args in [&["head 1"][..], &["-j", "1", "where a > 0 | head 3"][..]] {
        let mut child = Command::new(EVQ)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        feed_forever(child.stdin.take().unwrap(), b"{\"a\":1}\n", None);
        let status = wait_within(&mut child, PROMPT, &format!("{args:?} on endless input"));
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        let err = stderr_of(&mut child);
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert_eq!(err, "", "{args:?}");
        let n = if args.len() == 1 { 1 } else { 3 };
        assert_eq!(out, "{\"a\":1}\n".repeat(n), "{args:?}");
    }
}

// ---------------------------------------------------------------- 4: output errors

#[test]
fn full_stdout_exits_4_naming_stdout() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipping: /dev/full is not available");
        return;
    };
    let input: String = (0..50_000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
    let mut child = Command::new(EVQ)
        .args(["where true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let status = wait_within(&mut child, PROMPT, "> /dev/full");
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(4), "{err}");
    assert!(err.contains("stdout"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

#[test]
fn unwritable_dead_letter_file_exits_4_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("no/such/dir/dead.ndjson");
    let r = run(&["where true", "--dead-letter", s(&target)], "{\"a\":1}\nbad\n");
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains(s(&target)), "{}", r.stderr);
}

// ---------------------------------------------------------------- 130 / 143: signals

/// Starts evq on a slow endless stdin, waits until it has output something, sends
/// `sig`, and returns the exit status and everything it wrote.
fn interrupt(sig: &str, extra: &[&str], pause: Option<Duration>) -> (ExitStatus, String, String) {
    let mut args = extra.to_vec();
    args.push("where true");
    let mut child = Command::new(EVQ)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    feed_forever(child.stdin.take().unwrap(), b"{\"event\":\"tick\",\"n\":1}\n", pause);
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).unwrap();
        out
    });
    // With --line-buffered, output shows up while it runs; otherwise give it time to read.
    std::thread::sleep(Duration::from_millis(600));
    signal(&child, sig);
    let status = wait_within(&mut child, PROMPT, sig);
    let out = String::from_utf8(reader.join().unwrap()).expect("output is UTF-8");
    let err = stderr_of(&mut child);
    (status, out, err)
}

fn assert_whole_json_lines(out: &str) {
    assert!(!out.is_empty(), "what was read before the signal is output");
    assert!(
        out.ends_with('\n'),
        "ends with a whole line: {:?}",
        &out[out.len().saturating_sub(40)..]
    );
    for l in out.lines() {
        assert_eq!(l, "{\"event\":\"tick\",\"n\":1}");
    }
}

#[test]
fn sigint_exits_130_after_writing_whole_lines() {
    let slow = Some(Duration::from_millis(2));
    for (extra, pause) in [
        (&["--line-buffered"][..], slow),
        (&[][..], slow),
        (&["-j", "2"][..], None),
    ] {
        let (status, out, err) = interrupt("-INT", extra, pause);
        assert_eq!(status.code(), Some(130), "{extra:?} {pause:?}: {status:?} {err}");
        assert_whole_json_lines(&out);
    }
}

#[test]
fn sigterm_exits_143_after_writing_whole_lines() {
    let (status, out, err) = interrupt("-TERM", &["--line-buffered"], Some(Duration::from_millis(2)));
    assert_eq!(status.code(), Some(143), "{status:?} {err}");
    assert_whole_json_lines(&out);
}

#[test]
fn other_stopping_signals_exit_128_plus_their_number_after_writing_whole_lines() {
    for (sig, code) in [("-HUP", 129), ("-QUIT", 131), ("-USR1", 138), ("-ALRM", 142)] {
        let (status, out, err) = interrupt(sig, &["--line-buffered"], Some(Duration::from_millis(2)));
        assert_eq!(status.code(), Some(code), "{sig}: {status:?} {err}");
        assert_whole_json_lines(&out);
    }
}

/// A reader that stopped reading fills the pipe and a plain write would wait on it for ever:
/// evq still stops at SIGINT or SIGTERM, with the signal's status, and what the pipe holds
/// ends on a whole line; so does the output of a sort at the end.
#[test]
fn a_signal_stops_evq_while_the_reader_of_stdout_takes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let mut text = String::new();
    for i in 0..200_000 {
        let _ = writeln!(text, "{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(40));
    }
    std::fs::write(&input, text).unwrap();
    for (pipeline, sig, code) in [("where true", "-TERM", 143), ("sort -n", "-INT", 130)] {
        let mut child = Command::new(EVQ)
            .args([pipeline, s(&input)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Nothing reads stdout until evq has ended.
        std::thread::sleep(Duration::from_millis(800));
        signal(&child, sig);
        let status = wait_within(&mut child, PROMPT, sig);
        assert_eq!(status.code(), Some(code), "{pipeline}: {}", stderr_of(&mut child));
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert!(
            out.ends_with('\n'),
            "{pipeline}: {:?}",
            &out[out.len().saturating_sub(40)..]
        );
        assert!(out.lines().count() > 100, "{pipeline}: the pipe held what was written");
        for l in out.lines() {
            assert!(l.starts_with("{\"n\":") && l.ends_with("x\"}"), "{pipeline}: {l}");
        }
        assert_eq!(stderr_of(&mut child), "", "{pipeline}");
    }
}

#[test]
fn after_a_signal_every_event_counted_as_written_is_in_the_output() {
    for jobs in ["1", "2"] {
        let (status, out, err) = interrupt("-INT", &["--stats", "-j", jobs], None);
        assert_eq!(status.code(), Some(130), "{err}");
        let json = &err[err.find('{').unwrap_or(0)..];
        let s = crate::common::stats(json);
        assert_eq!(s["events_out"].as_u64(), Some(out.lines().count() as u64), "-j {jobs}");
        assert_eq!(s["fates"]["emitted"], s["events_out"], "-j {jobs}");
    }
}

// ---------------------------------------------------------------- 1: -e

#[test]
fn exit_status_flag_is_1_without_output_and_0_with_output() {
    let input = "{\"level\":\"info\"}\n{\"level\":\"warn\"}\n";
    let r = run(&["-e", "where level == \"error\""], input);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    let r = run(&["--exit-status", "where level == \"warn\""], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"level\":\"warn\"}\n");
    // Empty input: nothing output.
    let r = run(&["-e", "where true"], "");
    assert_eq!(r.code, 1);
    // Without -e, no output is still success.
    let r = run(&["where level == \"error\""], input);
    assert_eq!(r.code, 0);
    // A table of events without fields shows nothing: that is nothing output too.
    let r = run(&["-e", "-o", "csv", "where true"], "{}\n{}\n");
    assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.stderr);
    let r = run(&["-e", "-o", "csv", "where true"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn input_errors_outrank_exit_status_flag() {
    let r = run(&["-e", "--strict", "where true"], "oops\n");
    assert_eq!(r.code, 3, "{}", r.stderr);
}

#[test]
fn dead_letters_alone_do_not_fail_the_run() {
    let out = evq()
        .arg("where true")
        .write_stdin("nope\n{\"a\":1}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"{\"a\":1}\n");
    assert!(!out.stderr.is_empty(), "never silent about dead letters");
}

#[test]
fn the_most_stages_a_pipeline_may_have_run_and_one_more_is_refused() {
    for stage in ["step count()", "dedupe by a", "head 5", "sort a", "tail 3"] {
        let pipeline = vec![stage; 1000].join(" | ");
        let r = run(&[pipeline.as_str()], "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(r.code, 0, "{stage}: {}", r.stderr);
        let pipeline = format!("{pipeline} | {stage}");
        let r = run(&[pipeline.as_str()], "{\"a\":1}\n");
        assert_eq!(r.code, 2, "{stage}");
        assert!(r.stderr.contains("at most 1000 stages"), "{stage}");
    }
}

#[test]
fn two_outputs_that_are_one_file_are_refused_before_reading() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, "{\"a\":1}\nbad\n").expect("the input");
    let out = dir.path().join("out.ndjson");
    let input = input.to_str().expect("a UTF-8 path");
    let flags = [
        format!("--dead-letter={}", out.display()),
        format!("--stats={}", out.display()),
    ];
    for flag in &flags {
        let stdout = std::fs::File::create(&out).expect("stdout's file");
        let r = Command::new(EVQ)
            .args([flag.as_str(), "where true", input])
            .stdout(stdout)
            .output()
            .expect("evq runs");
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains("and stdout are the same file"), "{flag}: {err}");
    }
    let r = run(&[flags[0].as_str(), flags[1].as_str(), "where true", input], "");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("are the same file"), "{}", r.stderr);
    // A device is not a file to protect: both outputs may go to /dev/null.
    let r = run(
        &["--dead-letter=/dev/null", "--stats=/dev/null", "where true", input],
        "",
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"a\":1}\n"), "{}", r.stderr);
}

#[test]
fn files_the_run_reads_besides_its_inputs_are_never_written() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pipeline = dir.path().join("p.evq");
    std::fs::write(&pipeline, "where true").expect("the pipeline file");
    let lookup = dir.path().join("users.ndjson");
    std::fs::write(&lookup, "{\"id\":1}\n").expect("the lookup file");
    let (p, l) = (pipeline.to_str().expect("UTF-8"), lookup.to_str().expect("UTF-8"));
    let dead = format!("--dead-letter={p}");
    let r = run(&[dead.as_str(), "-f", p], "{\"a\":1}\n");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("(the pipeline file)"), "{}", r.stderr);
    let join = format!("join \"{l}\" on a = id | to \"{l}\"");
    let r = run(&[join.as_str()], "{\"a\":1}\n");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("(join's lookup file)"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&pipeline).expect("kept"), "where true");
    assert_eq!(std::fs::read_to_string(&lookup).expect("kept"), "{\"id\":1}\n");
    // A device is no file to protect: reading /dev/null and writing it is fine.
    let r = Command::new(EVQ)
        .args(["where true", "/dev/null"])
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .expect("/dev/null"),
        )
        .output()
        .expect("evq runs");
    assert_eq!(r.status.code(), Some(0));
}

#[test]
fn a_named_pipe_no_process_reads_is_an_output_error_not_a_hang() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let fifo = dir.path().join("a.ndjson");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let dead = format!("--dead-letter={}", fifo.display());
    let stats = format!("--stats={}", fifo.display());
    let out_dir = dir.path().to_str().expect("UTF-8");
    // --append reads a topic file's end before it adds, and --atomic renames over it: neither
    // may wait on the pipe, nor replace it.
    let cases: [(&[&str], &str); 5] = [
        (&[dead.as_str(), "where true"], "is a named pipe that no process reads"),
        (&[stats.as_str(), "where true"], "is a named pipe that no process reads"),
        (&["route by t", "-O", out_dir], "is not a regular file"),
        (&["--append", "route by t", "-O", out_dir], "is not a regular file"),
        (&["--atomic", "route by t", "-O", out_dir], "is not a regular file"),
    ];
    for (args, message) in cases {
        let mut child = Command::new(EVQ)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("evq starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"{\"t\":\"a\"}\nbad\n")
            .expect("the input is written");
        let status = wait_within(&mut child, PROMPT, "a named pipe");
        let err = stderr_of(&mut child);
        assert_eq!(status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        let kind = std::fs::symlink_metadata(&fifo).expect("the pipe").file_type();
        assert!(
            std::os::unix::fs::FileTypeExt::is_fifo(&kind),
            "{args:?} replaced the pipe"
        );
    }
}

#[test]
fn appending_to_a_gzip_file_padded_with_zeros_is_refused_as_unreadable_after() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("a.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"{\"old\":1}\n").expect("compressed");
    let mut bytes = gz.finish().expect("a gzip member");
    let whole = bytes.clone();
    bytes.extend_from_slice(&[0; 512]);
    std::fs::write(&file, &bytes).expect("the padded file");
    let to = format!("to \"{}\"", file.display());
    let r = run(&["--append", to.as_str()], "{\"new\":2}\n");
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("zero bytes of padding follow the last gzip member"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&file).expect("kept"), bytes, "the file is left as it was");
    // Without the padding, the member is added and both lines read back.
    std::fs::write(&file, &whole).expect("the whole file");
    let r = run(&["--append", to.as_str()], "{\"new\":2}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["where true", file.to_str().expect("UTF-8")], "");
    assert_eq!(r.stdout, "{\"old\":1}\n{\"new\":2}\n", "{}", r.stderr);
}

/// The line a read error cuts short is a dead letter, reason `truncated`, even when what is
/// left of it is valid (`166` of `166594`, a CSV row missing its end): as lines, as decoded
/// records, and under `--merge`; the lines before it are output whole.
#[test]
fn the_line_a_damaged_archive_cuts_short_is_a_truncated_dead_letter_in_every_format() {
    let numbers: String = (100_000..160_000).map(|n| format!("{n}\n")).collect();
    let csv: String = std::iter::once("a,b\n".to_string())
        .chain((0..40_000).map(|n| format!("{n},x{n}\n")))
        .collect();
    let d = tempfile::tempdir().unwrap();
    for (text, args) in [
        (&numbers, &["where true"][..]),
        (&numbers, &["-i", "lines", "where true"]),
        (&numbers, &["--merge", "where true"]),
        (&csv, &["-i", "csv", "where true"]),
        (&csv, &["--merge", "-i", "csv", "where true"]),
    ] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        let gz = e.finish().unwrap();
        let p = d.path().join("cut.gz");
        std::fs::write(&p, &gz[..gz.len() * 2 / 3]).unwrap();
        let dead = d.path().join("dead.ndjson");
        let stats = d.path().join("stats.json");
        let flags = [
            format!("--dead-letter={}", dead.display()),
            format!("--stats={}", stats.display()),
        ];
        let all: Vec<&str> = flags
            .iter()
            .map(String::as_str)
            .chain(args.iter().copied())
            .chain([s(&p)])
            .collect();
        let r = run(&all, "");
        assert_eq!(r.code, 3, "{args:?}: {}", r.stderr);
        let dead = std::fs::read_to_string(&dead).unwrap();
        let letter: serde_json::Value = serde_json::from_str(dead.trim_end()).expect("one dead letter");
        assert_eq!(letter["reason"], "truncated", "{args:?}: {dead}");
        let line = letter["line"].as_u64().unwrap();
        let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        assert_eq!(stats["lines_read"], line, "{args:?}: the cut line is the last read");
        assert_eq!(stats["fates"]["dead_letter"]["truncated"], 1, "{args:?}");
        assert_eq!(
            stats["fates"]["emitted"].as_u64(),
            Some(r.stdout.lines().count() as u64),
            "{args:?}"
        );
        let header = u64::from(text == &csv);
        assert_eq!(
            r.stdout.lines().count() as u64,
            line - 1 - header,
            "{args:?}: every line before it"
        );
        assert!(
            r.stderr.contains("the gzip stream is cut short"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

/// With `--multiline-start`, the record whose continuation line a read error cut short is
/// the `truncated` dead letter, whole: it is not output without its end.
#[test]
fn a_multiline_record_a_damaged_archive_cuts_short_is_a_truncated_dead_letter() {
    let text: String = (0..20_000)
        .map(|n| format!("2026-01-01 start {n}\n  continued {n}\n"))
        .collect();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("cut.gz");
    let dead = d.path().join("dead.ndjson");
    // Cut where a continuation line is cut short.
    for cut in (gz.len() / 2..gz.len() / 2 + 64).step_by(8) {
        std::fs::write(&p, &gz[..cut]).unwrap();
        let flag = format!("--dead-letter={}", dead.display());
        let r = run(
            &[&flag, "-i", "lines", "--multiline-start", "^2026", "where true", s(&p)],
            "",
        );
        assert_eq!(r.code, 3, "{}", r.stderr);
        let letter: serde_json::Value =
            serde_json::from_str(std::fs::read_to_string(&dead).unwrap().trim_end()).expect("one dead letter");
        assert_eq!(letter["reason"], "truncated");
        let raw = letter["raw"].as_str().unwrap();
        assert!(raw.starts_with("2026-01-01 start "), "the whole record: {raw:?}");
        for event in r.stdout.lines() {
            assert!(
                event.contains("\\n  continued "),
                "every record output is whole: {event}"
            );
        }
    }
}

/// Under an address-space limit (`ulimit -v`), an expression that would build a value many
/// times the limit of an event (a `map` of a `split` of each character) gets null instead of
/// exhausting memory: the run goes on, with no abort.
#[test]
fn a_value_too_big_to_build_under_a_memory_limit_is_null_not_an_abort() {
    let line = format!("{{\"s\":\"{}\"}}\n", "a".repeat(5000));
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -v 1000000 && exec \"$0\" \"$@\"", EVQ])
        .arg(r#"set n = len(map(split(s, ""), c => split(s, ""))), m = len(split(s, "")) | keep n, m"#)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(line.as_bytes())
        .expect("evq reads stdin");
    let out = child.wait_with_output().expect("evq runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"n\":null,\"m\":5000}\n",
        "{err}"
    );
}

/// `--merge` holds every input open: under an open-file limit it cannot raise (`ulimit -n`
/// sets both limits) past its inputs it says so once, before reading, rather than failing
/// input after input; below the limit it merges them all.
#[test]
fn merging_more_inputs_than_files_may_be_open_is_one_error_before_reading() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut names = Vec::new();
    for i in 0..120 {
        let name = dir.path().join(format!("f{i:03}.ndjson"));
        std::fs::write(&name, format!("{{\"ts\":{}}}\n", 1_767_225_600 + i)).expect("input written");
        names.push(name);
    }
    let merge = |limit: u32| {
        let out = Command::new("sh")
            .args(["-c", &format!("ulimit -n {limit} && exec \"$0\" \"$@\""), EVQ])
            .args(["--merge", "count"])
            .args(&names)
            .output()
            .expect("sh runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = merge(100);
    assert_eq!((code, stdout.as_str()), (Some(3), ""), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("its 120 inputs open") && stderr.contains("ulimit -n 152"),
        "{stderr}"
    );
    let (code, stdout, stderr) = merge(400);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (Some(0), "{\"count\":120}\n", "")
    );
}

#[test]
fn a_file_name_with_a_line_feed_stays_on_its_message_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let odd = dir.path().join("we\nird.ndjson");
    std::fs::write(&odd, "bad\n").expect("input written");
    let missing = dir.path().join("x\ny.ndjson");
    let dead = dir.path().join("no\ndir/dead.ndjson");
    for (args, code) in [
        (vec!["where true".to_string(), odd.display().to_string()], 0),
        (vec!["where true".to_string(), missing.display().to_string()], 3),
        (
            vec![
                format!("--dead-letter={}", dead.display()),
                "where true".into(),
                odd.display().to_string(),
            ],
            4,
        ),
    ] {
        let out = evq().args(&args).output().expect("evq runs");
        let err = String::from_utf8(out.stderr).expect("UTF-8");
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(
            !err.is_empty() && err.lines().all(|l| l.starts_with("evq: ")),
            "{args:?}: {err}"
        );
        assert!(err.contains("\\n"), "the line feed is shown escaped: {err}");
    }
}

#[test]
fn a_path_not_found_says_why_when_the_file_system_knows() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let at = |name: &str| dir.path().join(name);
    std::fs::write(at("app.ndjson.gz"), "").expect("input written");
    std::fs::write(at("events.ndjson"), "{}\n").expect("input written");
    std::fs::write(at("schema.json"), "{}").expect("schema written");
    #[cfg(unix)]
    std::os::unix::fs::symlink(at("gone.ndjson"), at("link.ndjson")).expect("link made");
    let cases = [
        (
            vec!["where true".into(), s(&at("app.ndjson")).into()],
            3,
            "did you mean ",
        ),
        (
            vec!["where true".into(), s(&at("event.ndjson")).into()],
            3,
            "did you mean ",
        ),
        (
            vec!["where true".into(), s(&at("no/such/x.ndjson")).into()],
            3,
            "there is no directory ",
        ),
        (
            vec!["where true".into(), s(&at("unlike-anything")).into()],
            3,
            "No such file or directory\n",
        ),
        (
            vec![
                format!("--dead-letter={}", s(&at("nodir/dead.ndjson"))),
                "where true".into(),
            ],
            4,
            "there is no directory ",
        ),
        (
            vec![format!("validate \"{}\"", s(&at("schemas.json")))],
            2,
            "did you mean ",
        ),
        #[cfg(unix)]
        (
            vec!["where true".into(), s(&at("link.ndjson")).into()],
            3,
            "it is a symbolic link to ",
        ),
    ];
    for (args, code, says) in cases {
        let out = evq().args(&args).write_stdin("").output().expect("evq runs");
        let err = String::from_utf8(out.stderr).expect("UTF-8");
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let out = evq()
        .args(["where true", s(&at("app.ndjson"))])
        .output()
        .expect("evq runs");
    let err = String::from_utf8(out.stderr).expect("UTF-8");
    assert!(
        err.ends_with(&format!("did you mean {}?\n", s(&at("app.ndjson.gz")))),
        "{err}"
    );
}
