//! `-i auto` (each input's format chosen from its first lines, said with `-v`) and wildcard
//! `parse "PATTERN" as NAMES`.

use crate::common::{corpus, run, run_in, stats};
use std::io::Write;

/// The fates of a `--stats` report added up (dead letters of every reason together).
fn fates_total(s: &serde_json::Value) -> u64 {
    let fates = s["fates"].as_object().expect("fates");
    fates
        .values()
        .map(|v| match v {
            serde_json::Value::Object(m) => m.values().filter_map(serde_json::Value::as_u64).sum(),
            v => v.as_u64().unwrap_or(0),
        })
        .sum()
}

const COMBINED: &str = r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/ HTTP/1.1" 200 7697 "http://semicomplete.com/" "Mozilla/5.0"
83.149.9.216 - - [17/May/2015:10:05:43 +0000] "GET /kibana.png HTTP/1.1" 404 - "-" "Mozilla/5.0"
"#;

const SYSLOG: &str = "Mar 27 13:06:56 web1 sshd[1291]: Server listening on 0.0.0.0 port 22.
Mar 27 13:07:01 web1 CRON[1301]: (root) CMD (run-parts /etc/cron.hourly)
";

#[test]
fn ndjson_on_stdin_passes_through_and_v_says_so() {
    let input = "{\"a\":1, \"n\":1.0}\n{\"a\":2}\n";
    let r = run(&["-i", "auto", "-v", "where true"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, input);
    assert_eq!(r.stderr, "evq: -: read as NDJSON (-i auto)\n");
}

#[test]
fn an_access_log_gives_what_lines_and_parse_combined_give() {
    let auto = run(&["-i", "auto", "where true"], COMBINED);
    let parsed = run(&["-i", "lines", "parse combined"], COMBINED);
    assert_eq!(auto.code, 0, "{}", auto.stderr);
    assert_eq!(auto.stdout, parsed.stdout);
    let r = run(&["-i", "auto", "keep client, status, bytes"], COMBINED);
    assert_eq!(
        r.stdout,
        "{\"client\":\"83.149.9.216\",\"status\":200,\"bytes\":7697}\n\
         {\"client\":\"83.149.9.216\",\"status\":404,\"bytes\":null}\n"
    );
}

#[test]
fn a_line_of_another_format_is_a_parse_dead_letter_and_fates_add_up() {
    let input = format!("{SYSLOG}not a syslog line\n{SYSLOG}");
    let d = tempfile::tempdir().expect("temp dir");
    let dead = d.path().join("dead.ndjson");
    let dead_arg = dead.display().to_string();
    let r = run(
        &["-i", "auto", "--stats", "--dead-letter", &dead_arg, "keep program"],
        &input,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 4);
    let s = stats(&r.stderr);
    assert_eq!(s["fates"]["dead_letter"]["parse"], 1);
    assert_eq!(fates_total(&s), s["lines_read"].as_u64().expect("lines"));
    let letter = std::fs::read_to_string(&dead).expect("dead letters written");
    assert!(letter.contains("\"reason\":\"parse\""), "{letter}");
    assert!(letter.contains("does not match the syslog format"), "{letter}");
    assert!(letter.contains("\"line\":3"), "{letter}");
}

#[test]
fn gzip_input_is_detected_after_decompression() {
    let d = tempfile::tempdir().expect("temp dir");
    let path = d.path().join("app.log.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"level=info msg=\"started\" port=8080\nlevel=warn msg=slow ms=250\n")
        .expect("gzip in memory");
    std::fs::write(&path, gz.finish().expect("gzip in memory")).expect("write gz");
    let r = run_in(d.path(), &["-i", "auto", "-v", "keep level, ms", "app.log.gz"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "evq: app.log.gz: read as logfmt (-i auto)\n");
    assert_eq!(r.stdout, "{\"level\":\"info\"}\n{\"level\":\"warn\",\"ms\":250}\n");
}

#[test]
fn a_directory_of_mixed_formats_is_read_file_by_file() {
    let d = tempfile::tempdir().expect("temp dir");
    let dir = d.path().join("logs");
    std::fs::create_dir(&dir).expect("mkdir");
    let files = [
        ("a.ndjson", "{\"src\":\"ndjson\"}\n"),
        ("b.json", "[\n  {\"src\": \"json\"},\n  {\"src\": \"json\"}\n]\n"),
        ("c.csv", "src,n\ncsv,1\ncsv,2\n"),
        ("d.log", SYSLOG),
        ("e.txt", "just some words\nand more words\n"),
        ("f.tsv", "src\tn\ntsv\t3\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write input");
    }
    let r = run_in(
        d.path(),
        &[
            "-i",
            "auto",
            "-v",
            "--stats",
            "set f = file() | count by f | sort f",
            "logs",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let said: Vec<&str> = r.stderr.lines().filter(|l| l.contains("(-i auto)")).collect();
    assert_eq!(
        said,
        [
            "evq: logs/a.ndjson: read as NDJSON (-i auto)",
            "evq: logs/b.json: read as JSON (-i auto)",
            "evq: logs/c.csv: read as CSV (-i auto)",
            "evq: logs/d.log: read as syslog (-i auto)",
            "evq: logs/e.txt: read as lines (no format recognised) (-i auto)",
            "evq: logs/f.tsv: read as TSV (-i auto)",
        ]
    );
    assert_eq!(
        r.stdout,
        "{\"f\":\"logs/a.ndjson\",\"count\":1}\n{\"f\":\"logs/b.json\",\"count\":2}\n\
         {\"f\":\"logs/c.csv\",\"count\":2}\n{\"f\":\"logs/d.log\",\"count\":2}\n\
         {\"f\":\"logs/e.txt\",\"count\":2}\n{\"f\":\"logs/f.tsv\",\"count\":1}\n"
    );
    let s = stats(&r.stderr);
    assert_eq!(fates_total(&s), s["lines_read"].as_u64().expect("lines"));
    let kinds = run_in(d.path(), &["-i", "auto", "where file() == \"logs/e.txt\"", "logs"], "");
    assert_eq!(
        kinds.stdout,
        "{\"line\":\"just some words\"}\n{\"line\":\"and more words\"}\n"
    );
}

#[test]
fn without_v_nothing_is_said() {
    let r = run(&["-i", "auto", "keep program"], SYSLOG);
    assert_eq!(r.code, 0);
    assert_eq!(r.stderr, "");
    assert_eq!(r.stdout, "{\"program\":\"sshd\"}\n{\"program\":\"CRON\"}\n");
}

#[test]
fn multiline_start_is_refused_with_auto() {
    let r = run(&["-i", "auto", "--multiline-start", "^\\S", "where true"], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--multiline-start"), "{}", r.stderr);
    assert!(r.stderr.contains("-i auto"), "{}", r.stderr);
}

#[test]
fn corpus_access_log_and_auth_log_are_recognised() {
    let (Some(access), Some(auth)) = (corpus("apache-access/apache_logs"), corpus("ssh-authlog/auth.log")) else {
        eprintln!("skipped");
        return;
    };
    let (access, auth) = (access.display().to_string(), auth.display().to_string());
    let r = run(&["-i", "auto", "-v", "--stats", "count by status", &access], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with(&format!("evq: {access}: read as combined access log (-i auto)\n"))
    );
    let s = stats(&r.stderr);
    assert_eq!(s["lines_read"], 10_000);
    assert_eq!(fates_total(&s), 10_000);
    let r = run(&["-i", "auto", "-v", "where program == \"sshd\" | count", &auth], "");
    assert!(
        r.stderr
            .starts_with(&format!("evq: {auth}: read as syslog (-i auto)\n")),
        "{}",
        r.stderr
    );
    assert!(r.stdout.starts_with("{\"count\":"), "{}", r.stdout);
}

const ACCESS_PATTERN: &str = r#"parse "* - * [*] \"* * *\" * *" as ip, ident, ts, method, path, proto, status, bytes"#;

#[test]
fn wildcard_pattern_captures_named_typed_fields() {
    let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326"#;
    let r = run(&[&format!("{ACCESS_PATTERN} | del line")], &format!("{line}\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"ip\":\"127.0.0.1\",\"ident\":\"frank\",\"ts\":\"10/Oct/2000:13:55:36 -0700\",\"method\":\"GET\",\
         \"path\":\"/a.gif\",\"proto\":\"HTTP/1.0\",\"status\":200,\"bytes\":2326}\n"
    );
}

#[test]
fn wildcard_no_match_is_a_parse_dead_letter_or_else_keep() {
    let input = "took 17ms\nnothing here\n";
    let r = run(&["--stats", "parse \"took *ms\" as ms"], input);
    assert_eq!(r.stdout, "{\"line\":\"took 17ms\",\"ms\":17}\n");
    let s = stats(&r.stderr);
    assert_eq!(s["fates"]["dead_letter"]["parse"], 1);
    assert!(
        r.stderr.contains("does not match the pattern \"took *ms\""),
        "{}",
        r.stderr
    );
    let r = run(&["parse \"took *ms\" as ms else keep"], input);
    assert_eq!(
        r.stdout,
        "{\"line\":\"took 17ms\",\"ms\":17}\n{\"line\":\"nothing here\"}\n"
    );
}

#[test]
fn wildcard_underscore_drops_and_from_reads_a_field() {
    let r = run(
        &["-i", "ndjson", "parse \"*:*:*\" as _, port, _ from addr | del addr"],
        "{\"addr\":\"10.0.0.1:8080:tcp\",\"k\":1}\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"k\":1,\"port\":8080}\n");
}

#[test]
fn wildcard_name_count_must_match_the_stars() {
    let r = run(&["parse \"* [*] *\" as host, ts"], "");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("evq: pipeline error: the pattern has 3 * but 2 names follow as"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains('^'), "a caret under the names: {}", r.stderr);
    assert!(r.stderr.contains("_ for a part you do not keep"), "{}", r.stderr);
    let r = run(&["parse \"* *\""], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("expected `as`"), "{}", r.stderr);
    let r = run(&["parse \"no stars\" as a"], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("the pattern has no *"), "{}", r.stderr);
}

#[test]
fn stdin_past_the_sample_loses_no_byte() {
    let ndjson: String = (0..5000)
        .map(|i| format!("{{\"i\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i % 40)))
        .collect();
    assert!(ndjson.len() > 128 << 10);
    let r = run(&["-i", "auto", "-v", "where true"], &ndjson);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "evq: -: read as NDJSON (-i auto)\n");
    assert!(r.stdout == ndjson, "NDJSON comes out as it went in");
    let pretty = format!(
        "[\n{}\n]\n",
        (0..5000)
            .map(|i| format!("  {{\"i\": {i}}}"))
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let r = run(&["-i", "auto", "-v", "--stats", "count"], &pretty);
    assert_eq!(r.stdout, "{\"count\":5000}\n");
    assert!(r.stderr.starts_with("evq: -: read as JSON (-i auto)\n"), "{}", r.stderr);
}

#[test]
fn zeek_tsv_is_typed_by_its_header() {
    let zeek =
        "#separator \\x09\n#fields\tts\tid.orig_p\tproto\n#types\ttime\tport\tenum\n1300475167.096535\t5353\tudp\n";
    let r = run(&["-i", "auto", "-v", "keep id.orig_p, proto"], zeek);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "evq: -: read as Zeek TSV log (-i auto)\n");
    assert_eq!(r.stdout, "{\"id.orig_p\":5353,\"proto\":\"udp\"}\n");
}

#[test]
fn merge_interleaves_inputs_of_different_formats() {
    let d = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        d.path().join("s.log"),
        "Mar 27 13:06:56 a x: one\nMar 27 13:06:58 a x: three\n",
    )
    .expect("write");
    std::fs::write(
        d.path().join("j.ndjson"),
        "{\"ts\":\"2026-03-27T13:06:57Z\",\"message\":\"two\"}\n",
    )
    .expect("write");
    let r = run_in(
        d.path(),
        &[
            "-i",
            "auto",
            "--merge",
            "--year",
            "2026",
            "keep message",
            "s.log",
            "j.ndjson",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"message\":\"one\"}\n{\"message\":\"two\"}\n{\"message\":\"three\"}\n"
    );
}
