//! Tests of text logs and input formats: parse, -i, multi-line records, merge.

use crate::common::{corpus, evq, run, run_bytes, stats};
use serde_json::Value;
use std::collections::HashMap;

fn rows(s: &str) -> Vec<Value> {
    s.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn parse_first_makes_lines_the_default_input() {
    let r = run(
        &["parse /(?P<level>[A-Z]+) (?P<n>\\d+)/ | keep level, n"],
        "INFO 12\nWARN 7\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"level\":\"INFO\",\"n\":12}\n{\"level\":\"WARN\",\"n\":7}\n"
    );
}

#[test]
fn unparsed_lines_are_parse_dead_letters_unless_else_says_otherwise() {
    let input = "a=1\nnot logfmt at all \"\nb=2\n";
    let dir = tempfile::tempdir().unwrap();
    let dl = dir.path().join("dl");
    let r = run(&["--dead-letter", dl.to_str().unwrap(), "parse logfmt"], input);
    assert_eq!(r.stdout.lines().count(), 2);
    let dead = rows(&std::fs::read_to_string(&dl).unwrap());
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["reason"], "parse");
    assert_eq!(dead[0]["line"], 2);
    assert_eq!(run(&["parse logfmt else drop"], input).stdout.lines().count(), 2);
    assert_eq!(run(&["parse logfmt else keep"], input).stdout.lines().count(), 3);
}

#[test]
fn parse_json_from_an_expression_behind_a_text_prefix() {
    let r = run(
        &["parse json from replace(raw(), /^[^{]*/, \"\") | keep a"],
        "2026-01-01 app: {\"a\":1}\n",
    );
    assert_eq!(r.stdout, "{\"a\":1}\n");
}

/// `parse json` reads text as an input line is read: numbers keep their text, an event may
/// nest 128 levels, and one that would nest deeper is a `too_deep` dead letter that says so.
#[test]
fn parse_json_keeps_numbers_as_written_and_names_too_deep_text() {
    let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let input = format!(
        "{{\"s\":\" {{\\\"a\\\":1E5}} \"}}\n{{\"s\":\"{}\"}}\n{{\"s\":\"{}\"}}\n",
        nest(127),
        nest(128)
    );
    let r = run(&["parse json from s | del s"], &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, format!("{{\"a\":1E5}}\n{{\"value\":{}}}\n", nest(127)));
    assert!(
        r.stderr
            .contains(":3: too_deep: the event would nest deeper than 128 levels"),
        "{}",
        r.stderr
    );
}

#[test]
fn parse_kv_and_common() {
    let r = run(&["parse kv | keep user, ms"], "login user=\"ann b\" ms=12 ok\n");
    assert_eq!(r.stdout, "{\"user\":\"ann b\",\"ms\":12}\n");
    let line = "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 -\n";
    let r = run(&["parse common | keep client, user, method, path, status, bytes"], line);
    assert_eq!(
        r.stdout,
        "{\"client\":\"127.0.0.1\",\"user\":\"frank\",\"method\":\"GET\",\"path\":\"/a.gif\",\"status\":200,\"bytes\":null}\n"
    );
}

#[test]
fn input_formats_json_csv_tsv_logfmt_lines() {
    let r = run(
        &["-i", "json", "where true"],
        "[{\"a\":1},\n {\"a\":2}]\n{\n \"a\": 3\n}",
    );
    assert_eq!(r.stdout, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
    let r = run(&["-i", "csv", "where n > 1"], "name,n\n\"x, y\",2\nz,1\n");
    assert_eq!(r.stdout, "{\"name\":\"x, y\",\"n\":2}\n");
    let r = run(&["-i", "tsv", "where true"], "a\tb\n1\tq\n");
    assert_eq!(r.stdout, "{\"a\":1,\"b\":\"q\"}\n");
    let r = run(
        &["-i", "logfmt", "where level == \"warn\""],
        "level=info\nlevel=warn msg=\"disk full\"\n",
    );
    // -i logfmt gives the events of -i lines | parse logfmt, as -i auto does when it chooses logfmt.
    assert_eq!(
        r.stdout,
        "{\"line\":\"level=warn msg=\\\"disk full\\\"\",\"level\":\"warn\",\"msg\":\"disk full\"}\n"
    );
    let text = "level=info\nlevel=warn msg=\"disk full\"\n";
    let parsed = run(&["-i", "lines", "parse logfmt"], text).stdout;
    assert_eq!(parsed, run(&["-i", "logfmt", "where true"], text).stdout);
    assert_eq!(
        run(&["-i", "logfmt", "keep msg"], text).stdout,
        "{}\n{\"msg\":\"disk full\"}\n"
    );
    let r = run(&["-i", "lines", "where line =~ /b/"], "abc\nxyz\n");
    assert_eq!(r.stdout, "{\"line\":\"abc\"}\n");
}

#[test]
fn invalid_utf8_text_lines_are_kept_lossily() {
    let r = run_bytes(&["-i", "lines", "where true"], b"ok \xff\xfe end\n");
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "{\"line\":\"ok \u{fffd}\u{fffd} end\"}\n");
    // When parsing fails the dead letter keeps the exact bytes.
    let dir = tempfile::tempdir().unwrap();
    let dl = dir.path().join("dl");
    run_bytes(
        &["--dead-letter", dl.to_str().unwrap(), "parse combined"],
        b"x\xff\xfe\n",
    );
    let dead = rows(&std::fs::read_to_string(&dl).unwrap());
    assert_eq!(dead[0]["raw_b64"], "eP/+");
}

#[test]
fn strip_ansi_and_nul_bytes() {
    let r = run_bytes(
        &["-i", "lines", "--strip-ansi", "where true"],
        b"\x1b[1;31mred\x1b[0m \x00x\n",
    );
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "{\"line\":\"red \\u0000x\"}\n");
}

#[test]
fn multiline_records_join_stack_traces() {
    let input = "2026-01-01 ERROR boom\n\tat a.B(B.java:1)\n\tat c.D(D.java:2)\n2026-01-01 INFO ok\n";
    let r = run(
        &[
            "--multiline-start",
            "^\\d{4}-",
            "-i",
            "lines",
            "set l = line() | keep l, line",
        ],
        input,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = rows(&r.stdout);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0]["line"],
        "2026-01-01 ERROR boom\n\tat a.B(B.java:1)\n\tat c.D(D.java:2)"
    );
    assert_eq!(out[1]["l"], 4);
}

#[test]
fn a_multiline_record_of_crlf_lines_keeps_no_cr() {
    let input = "2026-01-01 ERROR boom\r\n\tat a.B(B.java:1)\r\n2026-01-01 INFO ok\r\n";
    let r = run(
        &["--multiline-start", "^\\d{4}-", "-i", "lines", "set o = offset()"],
        input,
    );
    assert_eq!(
        r.stdout,
        "{\"line\":\"2026-01-01 ERROR boom\\n\\tat a.B(B.java:1)\",\"o\":0}\n{\"line\":\"2026-01-01 INFO ok\",\"o\":42}\n"
    );
}

/// A record longer than `--max-line-bytes` is one `too_long` dead letter with its first line's
/// number, never pieces that look like records of their own; the next record is whole.
#[test]
fn a_multiline_record_past_max_line_bytes_is_one_dead_letter() {
    let lines = (0..300).map(|i| format!("  cont {i:03} {}\n", "x".repeat(20)));
    let input = format!("2026-01-01 start A\n{}2026-01-01 start B\n", lines.collect::<String>());
    let r = run(
        &[
            "-i",
            "lines",
            "--multiline-start",
            "^\\d{4}-",
            "--max-line-bytes",
            "2K",
            "--stats",
            "set l = line() | keep l, line",
        ],
        &input,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"l\":302,\"line\":\"2026-01-01 start B\"}\n");
    assert!(
        r.stderr
            .contains("1: too_long: record is 9618 bytes in 301 lines, longer than --max-line-bytes 2048"),
        "{}",
        r.stderr
    );
    let stats = stats(&r.stderr);
    assert_eq!(
        (stats["lines_read"].as_u64(), stats["fates"]["emitted"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(stats["fates"]["dead_letter"]["too_long"], 1);
}

/// An input whose time goes back gets one warning naming where: the merged output is out
/// of order from there, and evq says so instead of staying silent.
#[test]
fn merge_warns_once_where_an_input_goes_back_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.ndjson");
    let e = dir.path().join("e.ndjson");
    std::fs::write(&a, "{\"ts\":1}\n{\"ts\":3}\n").unwrap();
    std::fs::write(&e, "{\"ts\":0}\n{\"ts\":10}\n{\"ts\":6}\n{\"ts\":2}\n").unwrap();
    let r = run(&["--merge", "where true", a.to_str().unwrap(), e.to_str().unwrap()], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 6);
    assert!(r.stderr.contains("e.ndjson:3: time goes back here"), "{}", r.stderr);
    assert_eq!(r.stderr.matches("time goes back").count(), 1, "{}", r.stderr);
    let ordered = run(&["--merge", "where true", a.to_str().unwrap()], "");
    assert!(!ordered.stderr.contains("time goes back"), "{}", ordered.stderr);
}

#[test]
fn merge_interleaves_inputs_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.ndjson");
    let b = dir.path().join("b.log");
    std::fs::write(
        &a,
        "{\"ts\":\"2026-01-01T00:00:01Z\",\"n\":1}\n{\"ts\":\"2026-01-01T00:00:04Z\",\"n\":4}\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "{\"ts\":\"2026-01-01T00:00:02Z\",\"n\":2}\n{\"ts\":1767225603,\"n\":3}\n",
    )
    .unwrap();
    let out = evq()
        .args(["--merge", "keep n", a.to_str().unwrap(), b.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n"
    );
    let c = dir.path().join("c.log");
    let d = dir.path().join("d.log");
    std::fs::write(&c, "Jan  1 00:00:03 h p: x\n").unwrap();
    std::fs::write(&d, "Jan  1 00:00:01 h p: y\n  continued\nJan  1 00:00:05 h p: z\n").unwrap();
    let out = evq()
        .args([
            "--merge",
            "-i",
            "lines",
            "where true",
            c.to_str().unwrap(),
            d.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let lines: Vec<String> = rows(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .map(|v| v["line"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "Jan  1 00:00:01 h p: y",
            "  continued",
            "Jan  1 00:00:03 h p: x",
            "Jan  1 00:00:05 h p: z"
        ]
    );
}

#[test]
fn apache_corpus_parses_all_but_the_truncated_record() {
    let Some(p) = corpus("apache-access/apache_logs") else {
        return;
    };
    let f = p.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dl = dir.path().join("dl");
    let out = evq()
        .args([
            "--dead-letter",
            dl.to_str().unwrap(),
            "--stats",
            "parse combined | count by status",
            f,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let dead = rows(&std::fs::read_to_string(&dl).unwrap());
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["line"], 8899);
    // count by status equals an independent count: the field after the quoted request.
    let text = std::fs::read_to_string(&p).unwrap();
    let mut expected: HashMap<String, u64> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if i + 1 == 8899 {
            continue;
        }
        let after = line.split('"').nth(2).unwrap();
        *expected
            .entry(after.split_whitespace().next().unwrap().to_string())
            .or_default() += 1;
    }
    let got: HashMap<String, u64> = rows(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .map(|v| (v["status"].to_string(), v["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.values().sum::<u64>(), 9_999);
}

#[test]
fn syslog_corpus_parses_every_line_and_counts_programs() {
    let Some(p) = corpus("ssh-authlog/auth.log") else {
        return;
    };
    let out = evq()
        .args(["--stats", "parse syslog | count by program", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("dead letter"));
    let text = std::fs::read_to_string(&p).unwrap();
    let mut expected: HashMap<String, u64> = HashMap::new();
    for line in text.lines() {
        let tag = line.split_whitespace().nth(4).unwrap();
        let program = tag.split(['[', ':']).next().unwrap();
        *expected.entry(program.to_string()).or_default() += 1;
    }
    let got: HashMap<String, u64> = rows(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .map(|v| (v["program"].as_str().unwrap().to_string(), v["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.values().sum::<u64>(), 7_121);
}

/// `parse` builds only the fields later stages read; the result must equal parsing everything first.
#[test]
fn parse_projection_gives_the_same_result_as_parsing_every_field() {
    let mut inputs = vec![crate::common::fixture("access.log")];
    inputs.extend(corpus("apache-access/apache_logs"));
    for input in &inputs {
        let input = input.to_str().unwrap();
        let full = evq().args(["parse combined else keep", input]).output().unwrap();
        assert!(full.status.success());
        let full = String::from_utf8(full.stdout).unwrap();
        for rest in [
            "count by status, method",
            "keep path, bytes, line",
            "where bytes == null | count by agent",
            "stats sum(bytes), max(time) by status",
            "rename status as code | top 3 code",
        ] {
            let direct = evq()
                .args([&format!("parse combined else keep | {rest}"), input])
                .output()
                .unwrap();
            let later = run(&[rest], &full);
            assert_eq!(later.code, 0, "{rest}: {}", later.stderr);
            assert_eq!(
                String::from_utf8(direct.stdout).unwrap(),
                later.stdout,
                "{input}: {rest}"
            );
        }
    }
}

/// Logfmt lines are merged by their `ts=` (or time=, timestamp=), syslog lines also after a
/// `<PRI>` and RFC 5424's version; an input with no time at all is named in a warning.
#[test]
fn merge_reads_logfmt_and_prioritised_syslog_times_and_names_an_input_without_any() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let a = file(
        "a.log",
        "level=info ts=2026-01-01T00:00:01Z msg=a1\nlevel=info time=\"2026-01-01 00:00:03\" msg=a3\n",
    );
    let b = file("b.log", "msg=b2 ts=2026-01-01T00:00:02Z\n");
    let r = run(&["--merge", "-i", "logfmt", "keep msg", &a, &b], "");
    assert_eq!(
        r.stdout, "{\"msg\":\"a1\"}\n{\"msg\":\"b2\"}\n{\"msg\":\"a3\"}\n",
        "{}",
        r.stderr
    );
    let c = file(
        "c.log",
        "<13>1 2020-01-01T00:00:01Z h a - - - c1\n<13>1 2020-01-01T00:00:03Z h a - - - c3\n",
    );
    let d = file("d.log", "<13>Jan  1 00:00:02 h b: d2\n");
    let r = run(
        &["--merge", "--year", "2020", "parse syslog | keep message", &c, &d],
        "",
    );
    assert_eq!(
        r.stdout, "{\"message\":\"c1\"}\n{\"message\":\"d2\"}\n{\"message\":\"c3\"}\n",
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr, "");
    let untimed = file("untimed.log", "a\nb\n");
    let r = run(&["--merge", "-i", "lines", "where true", &untimed, &c], "");
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.lines().count(), 4);
    assert!(
        r.stderr.contains("untimed.log: no line has a time --merge can read"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    // Past ten inputs, the warnings about single inputs share one line.
    let many: Vec<String> = (0..14).map(|i| file(&format!("u{i:02}.log"), "a\n")).collect();
    let mut args = vec!["--merge", "-i", "lines", "count"];
    args.extend(many.iter().map(String::as_str));
    let r = run(&args, "");
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":14}\n"));
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 11, "{}", r.stderr);
    assert!(lines[9].contains("u09.log: no line has a time"), "{}", r.stderr);
    assert!(
        lines[10].contains("4 more inputs were not in time order or had no time"),
        "{}",
        r.stderr
    );
}

#[test]
fn syslog_dates_past_their_file_s_modification_time_are_of_the_year_before() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("messages");
    std::fs::write(&log, "Dec 31 23:59:50 h prog[1]: a\nJan  1 00:00:10 h prog[1]: b\n").unwrap();
    // 2026-01-01T00:05:00Z: the log was last written just after New Year.
    let written = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_900);
    std::fs::File::options()
        .append(true)
        .open(&log)
        .unwrap()
        .set_modified(written)
        .unwrap();
    let log = log.to_str().unwrap();
    let r = run(&["-i", "auto", "keep timestamp, message", log], "");
    assert_eq!(
        r.stdout,
        "{\"timestamp\":\"2025-12-31T23:59:50\",\"message\":\"a\"}\n\
         {\"timestamp\":\"2026-01-01T00:00:10\",\"message\":\"b\"}\n"
    );
    let r = run(&["-i", "auto", "count every 1d", log], "");
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("{\"window_start\":\"2025-12-31T00:00:00Z\""),
        "{}",
        r.stdout
    );
    // --year is taken as given.
    let r = run(&["-i", "auto", "--year", "2026", "keep timestamp", log], "");
    assert!(
        r.stdout.starts_with("{\"timestamp\":\"2026-12-31T23:59:50\"}"),
        "{}",
        r.stdout
    );
}
