//! Faults outside the data — an unwritable stderr or stdout, a panic, a signal
//! during the final output, a file size limit — never abort evq, tear a line or
//! change its documented exit status; and the accounts still add up per input.

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

/// 20,000 events of about 60 bytes: many chunks at `--chunk-size 64K`.
fn many_events() -> String {
    (0..20_000)
        .map(|i| {
            format!(
                "{{\"i\":{i},\"t\":\"k{}\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}}\n",
                i % 7
            )
        })
        .collect()
}

fn run_with_fault(site: &str, args: &[&str], stdin: &str) -> (String, String, i32) {
    let mut child = evq()
        .env("EVQ_FAULT", site)
        .args(["--chunk-size", "64K"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("evq starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    let text = stdin.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("evq ends");
    feeder.join().expect("the feeder ends");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("output is UTF-8");
    (text(out.stdout), text(out.stderr), out.status.code().unwrap_or(-1))
}

#[test]
fn a_panic_anywhere_exits_70_after_a_whole_line_prefix_of_stdout() {
    let input = many_events();
    for site in ["start", "reader", "worker", "ordered"] {
        let (out, err, code) = run_with_fault(site, &["where i >= 0"], &input);
        assert_eq!(code, 70, "{site}: {err}");
        assert!(err.starts_with("evq: internal error: "), "{site}: {err}");
        assert_eq!(err.lines().count(), 1, "{site}: {err}");
        assert!(out.len() < input.len(), "{site}: the run stopped at the fault");
        assert!(
            input.starts_with(&out),
            "{site}: output is a prefix of whole input lines"
        );
        assert!(out.is_empty() || out.ends_with('\n'));
    }
}

#[test]
fn a_panic_leaves_topic_files_with_whole_lines() {
    let input = many_events();
    for site in ["reader", "worker", "ordered"] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out_dir = dir.path().to_str().expect("a UTF-8 path");
        let (_, err, code) = run_with_fault(site, &["route by t", "-O", out_dir], &input);
        assert_eq!(code, 70, "{site}: {err}");
        let mut lines = 0;
        for entry in std::fs::read_dir(dir.path()).expect("the directory lists") {
            let text = std::fs::read_to_string(entry.expect("an entry").path()).expect("a topic file");
            assert!(text.is_empty() || text.ends_with('\n'), "{site}: a torn line");
            for line in text.lines() {
                assert!(input.contains(&format!("{line}\n")), "{site}: {line}");
                lines += 1;
            }
        }
        assert!(lines < 20_000, "{site}: the run stopped at the fault");
    }
}

/// Starts `evq ARGS FILE`, waits for the first output byte (the end-of-run
/// output has begun), sends `signal`, and returns stdout and the exit code.
fn signal_during_output(args: &[&str], input: &str, signal: i32) -> (String, i32) {
    use std::io::Read;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("in.ndjson");
    std::fs::write(&path, input).expect("the input is written");
    let mut child = evq()
        .args(args)
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("evq starts");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut out = vec![0u8; 1];
    stdout.read_exact(&mut out).expect("the output begins");
    let pid = i32::try_from(child.id()).expect("a pid fits an i32");
    // kill(2) through libc needs `unsafe`, which the crate forbids: spawn kill(1).
    let sent = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status();
    assert!(sent.expect("kill runs").success());
    stdout.read_to_end(&mut out).expect("the output ends");
    let code = child.wait().expect("evq ends").code().unwrap_or(-1);
    (String::from_utf8(out).expect("UTF-8 output"), code)
}

#[test]
fn a_signal_during_the_final_output_stops_it_after_a_whole_line() {
    let input: String = (0..150_000u64)
        .map(|i| format!("{{\"k\":{}}}\n", (i * 7919) % 150_001))
        .collect();
    for (signal, code) in [(2, 130), (15, 143)] {
        let (out, status) = signal_during_output(&["sort k"], &input, signal);
        assert_eq!(status, code);
        assert!(out.ends_with('\n'), "a torn last line");
        assert!(out.len() < input.len() / 2, "the output went on: {} bytes", out.len());
    }
}

#[test]
fn a_dead_letter_file_past_the_file_size_limit_ends_on_a_whole_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, "bad line\n".repeat(5000)).expect("the input is written");
    let dead = dir.path().join("dead.ndjson");
    let script = "ulimit -f 8; exec \"$0\" --dead-letter \"$1\" 'where true' \"$2\" >/dev/null 2>&1";
    let status = Command::new("sh")
        .args(["-c", script])
        .arg(assert_cmd::cargo::cargo_bin("evq"))
        .args([&dead, &input])
        .status()
        .expect("sh runs");
    assert_eq!(status.code(), Some(4));
    let text = std::fs::read(&dead).expect("the dead-letter file");
    assert!(!text.is_empty() && text.ends_with(b"\n"), "{} bytes, torn", text.len());
}

/// The fates of one `--stats` object (the run's or an input's), added up.
fn fates_sum(fates: &serde_json::Value) -> u64 {
    let plain = [
        "emitted",
        "filtered",
        "blank",
        "skipped",
        "aggregated",
        "exploded_empty",
        "sampled_out",
        "failed",
        "duplicate",
        "throttled",
    ];
    let dead = fates["dead_letter"].as_object().expect("dead letters by reason");
    plain.iter().map(|k| fates[k].as_u64().expect("a count")).sum::<u64>()
        + dead.values().map(|v| v.as_u64().expect("a count")).sum::<u64>()
}

#[test]
fn per_input_fates_add_up_also_for_fates_decided_at_end_of_input() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let a = dir.path().join("a.ndjson");
    let b = dir.path().join("b.ndjson");
    std::fs::write(&a, "{\"a\":1}\n{\"a\":2}\nbad\n{\"a\":3}\n").expect("a is written");
    std::fs::write(&b, "{\"a\":4}\n\n{\"a\":5}\n").expect("b is written");
    for pipeline in [
        "tail 2",
        "sort a desc | head 1",
        "where a > 2 | tail 1",
        "route all x: true, y: a > 3 | tail 3",
    ] {
        let out = evq()
            .args(["--stats", pipeline])
            .args([&a, &b])
            .output()
            .expect("evq runs");
        let err = String::from_utf8(out.stderr).expect("UTF-8");
        let start = err.find("{\n").expect("a --stats report");
        let report: serde_json::Value = serde_json::from_str(&err[start..]).expect("the report is JSON");
        let files = report["files"].as_array().expect("per-input counts");
        for f in files {
            assert_eq!(f["lines"].as_u64(), Some(fates_sum(&f["fates"])), "{pipeline}: {f}");
        }
        assert_eq!(
            report["lines_read"].as_u64(),
            Some(fates_sum(&report["fates"])),
            "{pipeline}"
        );
    }
    let out = evq()
        .args(["--stats", "tail 2"])
        .args([&a, &b])
        .output()
        .expect("evq runs");
    let err = String::from_utf8(out.stderr).expect("UTF-8");
    let report: serde_json::Value = serde_json::from_str(&err[err.find("{\n").expect("report")..]).expect("JSON");
    assert_eq!(
        report["files"][0]["fates"]["skipped"].as_u64(),
        Some(3),
        "a's events are the ones tail skipped"
    );
    assert_eq!(report["files"][1]["fates"]["emitted"].as_u64(), Some(2));
}

/// `--stats` of a run, parsed from stderr.
fn stats_report(args: &[&str], inputs: &[&std::path::Path]) -> serde_json::Value {
    let out = evq().args(args).args(inputs).output().expect("evq runs");
    let err = String::from_utf8(out.stderr).expect("UTF-8");
    serde_json::from_str(&err[err.find("{\n").expect("a --stats report")..]).expect("the report is JSON")
}

#[test]
fn merged_inputs_count_each_line_for_the_input_it_came_from() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let a = dir.path().join("a.ndjson");
    let b = dir.path().join("b.ndjson");
    std::fs::write(&a, "{\"ts\":1,\"a\":1}\n{\"ts\":3,\"a\":1}\n{\"ts\":5}\n").expect("a is written");
    std::fs::write(&b, "{\"ts\":2}\n{\"ts\":4}\n{\"ts\":6,\"a\":1}\n\n").expect("b is written");
    for (pipeline, a_fates, b_fates) in [
        ("where a == 1", [2, 1, 0, 0], [1, 2, 0, 0]),
        ("where a == 1 | head 1", [1, 0, 2, 0], [0, 0, 4, 0]),
        ("count", [0, 0, 0, 3], [0, 0, 0, 3]),
        ("sort ts desc | head 2", [1, 0, 2, 0], [1, 0, 2, 0]),
    ] {
        let report = stats_report(&["--merge", "--stats", pipeline], &[&a, &b]);
        for (f, (lines, want)) in report["files"]
            .as_array()
            .expect("per input")
            .iter()
            .zip([(3, a_fates), (4, b_fates)])
        {
            let got =
                ["emitted", "filtered", "skipped", "aggregated"].map(|k| f["fates"][k].as_u64().expect("a count"));
            assert_eq!((f["lines"].as_u64(), got), (Some(lines), want), "{pipeline}: {f}");
        }
        assert_eq!(report["lines_read"].as_u64(), Some(7), "{pipeline}");
    }
}
