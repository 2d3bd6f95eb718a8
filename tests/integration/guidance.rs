//! A newcomer's pipelines that used to give a silent wrong answer, or an error that
//! did not teach: each asserts the answer, the message and the exit code.

use crate::common::{corpus, evq, run, run_bytes, stats};
use std::collections::HashMap;
use std::io::Read;

const ZEEK_SSH: &str = "zeek-wrccdc2018/ssh.json.gz";

fn zeek_lines(p: &std::path::Path) -> Vec<serde_json::Value> {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn dotted_paths_read_flat_keys_of_zeek_and_ecs_events() {
    let r = run(
        &["set a = event.code, b = id.orig_h, c = exists(event.code)"],
        "{\"event.code\":\"4624\",\"id.orig_h\":\"10.0.0.1\"}\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"event.code\":\"4624\",\"id.orig_h\":\"10.0.0.1\",\"a\":\"4624\",\"b\":\"10.0.0.1\",\"c\":true}\n"
    );
}

#[test]
fn the_nested_form_wins_and_backticks_force_the_literal_key() {
    let line = "{\"a\":{\"b\":1},\"a.b\":2}\n";
    assert_eq!(
        run(&["set x = a.b, y = `a.b`"], line).stdout,
        "{\"a\":{\"b\":1},\"a.b\":2,\"x\":1,\"y\":2}\n"
    );
}

#[test]
fn writes_to_a_dotted_path_address_the_flat_key_when_only_it_exists() {
    let line = "{\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"n\":1}\n";
    let cases = [
        (
            "set id.orig_h = \"x\"",
            "{\"id.orig_h\":\"x\",\"id.resp_h\":\"10.0.0.2\",\"n\":1}\n",
        ),
        ("del id.resp_h", "{\"id.orig_h\":\"10.0.0.1\",\"n\":1}\n"),
        (
            "rename id.orig_h as src",
            "{\"src\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"n\":1}\n",
        ),
        ("keep id.resp_h, n", "{\"id.resp_h\":\"10.0.0.2\",\"n\":1}\n"),
        ("set new.key = 1 | keep new.key", "{\"new\":{\"key\":1}}\n"),
    ];
    let line_with_array = "{\"dns.answers\":[\"a\",\"b\"],\"n\":1}\n";
    let r = run(&["explode dns.answers as answer"], line_with_array);
    assert_eq!(r.stdout, "{\"n\":1,\"answer\":\"a\"}\n{\"n\":1,\"answer\":\"b\"}\n");
    let r = run(&["explode dns.answers"], line_with_array);
    assert_eq!(
        r.stdout,
        "{\"dns.answers\":\"a\",\"n\":1}\n{\"dns.answers\":\"b\",\"n\":1}\n"
    );
    for (src, want) in cases {
        let r = run(&[src], line);
        assert_eq!((r.code, r.stdout.as_str()), (0, want), "`{src}`: {}", r.stderr);
    }
}

#[test]
fn zeek_top_by_a_dotted_key_counts_the_flat_field() {
    let Some(p) = corpus(ZEEK_SSH) else { return };
    let mut want: HashMap<String, u64> = HashMap::new();
    for ev in zeek_lines(&p) {
        *want.entry(ev["id.orig_h"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let out = evq().args(["top 3 id.orig_h", p.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    let mut counts: Vec<u64> = want.values().copied().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    for (row, c) in rows.iter().zip(&counts) {
        // The group key keeps the path's shape: {"id":{"orig_h":…}}.
        let host = row["id"]["orig_h"].as_str().unwrap();
        assert_eq!(row["count"].as_u64(), Some(*c), "{row}");
        assert_eq!(want[host], *c, "{row}");
    }
}

#[test]
fn zeek_where_on_a_dotted_key_filters_like_the_flat_field() {
    let Some(p) = corpus(ZEEK_SSH) else { return };
    let want = zeek_lines(&p).iter().filter(|e| e["id.resp_p"] == 22).count();
    assert!(want > 0);
    let out = evq()
        .args(["where id.resp_p == 22 | count", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{{\"count\":{want}}}\n")
    );
}

#[test]
fn count_of_a_condition_counts_the_events_where_it_holds() {
    let input = "{\"status\":200}\n{\"status\":503}\n{\"status\":500}\n{\"other\":1}\n{\"status\":null}\n";
    let r = run(
        &["stats count(status >= 500) as errors, count(status) as with_status, count()"],
        input,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"errors\":2,\"with_status\":3,\"count\":5}\n");
}

#[test]
fn count_of_a_boolean_field_counts_its_true_values() {
    let Some(p) = corpus(ZEEK_SSH) else { return };
    let evs = zeek_lines(&p);
    let want = evs.iter().filter(|e| e["auth_success"] == true).count();
    assert!(want < evs.len(), "the corpus has failed logins");
    let out = evq()
        .args(["stats count(auth_success) as ok", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{{\"ok\":{want}}}\n"));
}

/// What evq prints when run with stdin (and stdout) a terminal, typing Ctrl-D at once;
/// `None` when `script` (util-linux) is not there to give it one.
fn at_a_terminal(args: &str) -> Option<String> {
    let evq = assert_cmd::cargo::cargo_bin("evq");
    let cmd = format!("{} {args}", evq.display());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::io::Write::write_all(&mut child.stdin.take()?, b"\x04").ok()?;
    let out = child.wait_with_output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).replace('\r', ""))
}

#[test]
fn reading_a_terminal_says_so_once_and_quiet_silences_it() {
    let note = "evq: reading events from the terminal (Ctrl-D ends); give a file to read it\n";
    let Some(out) = at_a_terminal("count") else { return };
    assert!(out.starts_with(note), "{out:?}");
    assert_eq!(out.matches(note).count(), 1);
    let Some(quiet) = at_a_terminal("-q count") else { return };
    assert!(!quiet.contains("terminal"), "{quiet:?}");
    assert!(quiet.contains("count"), "the run still ends with Ctrl-D: {quiet:?}");
}

#[test]
fn a_pipe_on_stdin_gets_no_terminal_note() {
    let r = run(&["count"], "{}\n");
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "{\"count\":1}\n", "")
    );
}

#[test]
fn quiet_silences_notes_but_not_errors() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("secret"), "{\"secret\":1}\n").unwrap();
    std::fs::create_dir(d.path().join("logs")).unwrap();
    std::fs::write(d.path().join("logs/a.ndjson"), "{\"a\":1}\n").unwrap();
    std::os::unix::fs::symlink(d.path().join("secret"), d.path().join("logs/b.ndjson")).unwrap();
    let logs = d.path().join("logs");
    let loud = evq().args(["where true", logs.to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&loud.stderr).contains("1 symbolic link"));
    let quiet = evq()
        .args(["-q", "where true", logs.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!((quiet.status.code(), quiet.stderr.as_slice()), (Some(0), &b""[..]));
    assert_eq!(quiet.stdout, b"{\"a\":1}\n");
    let r = run(&["--quiet", "wher true"], "");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("evq: pipeline error: unknown stage `wher`"),
        "{}",
        r.stderr
    );
}

/// Each pipeline a newcomer writes from habit, and the line of the error that teaches.
const TAUGHT: &[(&str, &str)] = &[
    (
        "where level = \"error\"",
        "hint: use == to compare: where level == \"error\"",
    ),
    (
        "where level == 'error'",
        "hint: write \"error\"; inside a shell's single quotes",
    ),
    (
        "select(.level == \"error\")",
        "hint: evq filters with where: where a == 1",
    ),
    ("map(.level)", "hint: evq has no map"),
    ("where level eq \"error\"", "hint: write ==: where level == \"error\""),
    ("where level ne \"error\"", "hint: write !=: where level != \"error\""),
    (
        "where msg contains \"timeout\"",
        "hint: write contains(msg, \"timeout\")",
    ),
    (
        "count by level service",
        "hint: separate items with commas: count by a, b",
    ),
    ("keep ts level", "hint: separate items with commas: keep a, b"),
    ("where a == 1 b == 2", "hint: join conditions with and / or"),
    (
        "where level == \"error\" -O out",
        "evq: pipeline error: `-O` is an option, not part of the pipeline",
    ),
    (
        "count by level --stats",
        "hint: put options outside the quotes: evq --stats …",
    ),
    (
        "where count() > 10",
        "evq: pipeline error: `count` is an aggregate, not a function",
    ),
    ("where cout() > 10", "hint: did you mean the aggregate `count`?"),
    ("sort by ts", "hint: write sort x (sort x desc for the largest first)"),
    ("frobnicate", "hint: stages are: where, set,"),
];

#[test]
fn habits_from_other_tools_get_an_error_that_teaches() {
    for (src, want) in TAUGHT {
        let r = run(&[src], "{\"level\":\"error\"}\n");
        assert_eq!(r.code, 2, "`{src}`: {}", r.stderr);
        assert_eq!(r.stdout, "", "`{src}`");
        assert!(r.stderr.contains(want), "`{src}`:\n{}", r.stderr);
        assert!(r.stderr.contains('^'), "`{src}` has a caret:\n{}", r.stderr);
        assert!(!r.stderr.contains("did you mean `round`"), "`{src}`:\n{}", r.stderr);
    }
}

#[test]
fn each_taught_spelling_then_works() {
    let input = "{\"level\":\"error\",\"msg\":\"a timeout\",\"service\":\"api\",\"ts\":2}\n{\"level\":\"info\",\"msg\":\"ok\",\"service\":\"db\",\"ts\":1}\n";
    let cases = [
        ("where level == \"error\" | keep level", "{\"level\":\"error\"}\n"),
        (
            "where contains(msg, \"timeout\") | keep service",
            "{\"service\":\"api\"}\n",
        ),
        ("sort ts | keep ts", "{\"ts\":1}\n{\"ts\":2}\n"),
        (
            "count by level, service | keep service",
            "{\"service\":\"api\"}\n{\"service\":\"db\"}\n",
        ),
    ];
    for (src, want) in cases {
        let r = run(&[src], input);
        assert_eq!((r.code, r.stdout.as_str()), (0, want), "`{src}`: {}", r.stderr);
    }
}

#[test]
fn jsonl_is_another_name_for_ndjson() {
    let r = run(&["-o", "jsonl", "-i", "jsonl", "where true"], "{\"a\" : 1}\n");
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "{\"a\" : 1}\n", ""));
}

#[test]
fn a_subtraction_is_not_taken_for_an_option() {
    let r = run(&["set d = a - b, e = a -b"], "{\"a\":5,\"b\":2}\n");
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "{\"a\":5,\"b\":2,\"d\":3,\"e\":3}\n"),
        "{}",
        r.stderr
    );
}

const LEVELS: &str = "{\"level\":\"error\",\"user\":{\"id\":1}}\n{\"level\":\"info\"}\n{\"level\":\"error\"}\n";

#[test]
fn a_misspelt_field_is_named_at_the_end_with_the_nearest_one() {
    let r = run(&["where levle == \"error\""], LEVELS);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(
        r.stderr,
        "evq: warning: field \"levle\" was not in any of 3 events; did you mean \"level\"?\n"
    );
    let r = run(&["where level == \"error\""], LEVELS);
    assert_eq!((r.stdout.lines().count(), r.stderr.as_str()), (2, ""));
}

#[test]
fn fields_never_seen_are_reported_for_keys_and_routes_and_nested_paths() {
    let cases = [
        (
            "count by levle",
            "field \"levle\" was not in any of 3 events; did you mean \"level\"?",
        ),
        (
            "route by lvl | count",
            "field \"lvl\" was not in any of 3 events; did you mean \"level\"?",
        ),
        (
            "where user.idd == 1",
            "field \"user.idd\" was not in any of 3 events; did you mean \"user.id\"?",
        ),
        (
            "keep levle",
            "field \"levle\" was not in any of 3 events; did you mean \"level\"?",
        ),
    ];
    for (src, want) in cases {
        let r = run(&[src], LEVELS);
        assert_eq!(r.code, 0, "`{src}`");
        assert_eq!(r.stderr, format!("evq: warning: {want}\n"), "`{src}`");
    }
}

/// A suggestion is written as the path is typed, so that it can be pasted: a key with a dot
/// or a dash in backticks.
#[test]
fn a_suggested_field_is_written_as_it_is_typed() {
    let r = run(&["where a.b.c == 9"], "{\"a.b\":{\"c\":9}}\n");
    assert!(r.stderr.contains("did you mean \"`a.b`.c\"?"), "{}", r.stderr);
    let r = run(&["where h[\"user-agnt\"] == \"x\""], "{\"h\":{\"user-agent\":\"x\"}}\n");
    assert!(r.stderr.contains("did you mean \"h.`user-agent`\"?"), "{}", r.stderr);
}

#[test]
fn fields_a_stage_makes_and_fields_some_event_had_give_no_warning() {
    for src in [
        "set x = 1 | where x == 1",
        "where exists(user.id)",
        "rename level as lvl | where lvl == \"info\"",
        "count by level | where count > 1",
    ] {
        let r = run(&[src], LEVELS);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "`{src}`");
    }
}

#[test]
fn quiet_silences_the_warning_and_keeps_the_answer() {
    let r = run(&["-q", "count by levle"], LEVELS);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "{\"levle\":null,\"count\":3}\n", "")
    );
}

#[test]
fn the_warning_is_given_once_whatever_the_thread_count() {
    let input: String = (0..20_000)
        .map(|i| format!("{{\"level\":\"l{}\",\"n\":{i}}}\n", i % 7))
        .collect();
    for jobs in ["1", "2"] {
        let r = run(
            &["-j", jobs, "--chunk-size", "4K", "where levle == \"l1\" or n < 0"],
            &input,
        );
        assert_eq!(
            (r.code, r.stderr.as_str()),
            (
                0,
                "evq: warning: field \"levle\" was not in any of 20,000 events; did you mean \"level\"?\n"
            ),
            "-j {jobs}"
        );
    }
}

#[test]
fn zeek_flat_keys_count_as_seen_and_suggest_themselves() {
    let Some(p) = corpus(ZEEK_SSH) else { return };
    let n = zeek_lines(&p).len();
    let ok = evq()
        .args(["where id.orig_h == \"x\"", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(ok.stderr, b"");
    let typo = evq()
        .args(["where id.orig_hh == \"x\"", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&typo.stderr),
        format!("evq: warning: field \"id.orig_hh\" was not in any of {n} events; did you mean \"id.orig_h\"?\n")
    );
}

#[test]
fn text_lines_fed_as_ndjson_get_one_note_before_the_dead_letter_summary() {
    let input = "level=info msg=\"started\" port=8080\nlevel=warn msg=\"slow\" port=8080\n";
    let r = run(&["count"], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":0}\n"));
    let first = r.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "evq: these lines look like logfmt (key=value pairs); add 'parse logfmt' at the start of the pipeline, or read them with -i lines"
    );
    assert!(
        r.stderr
            .lines()
            .nth(1)
            .unwrap_or_default()
            .starts_with("evq: 2 dead letters")
    );
    let r = run(&["parse logfmt | count"], input);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "{\"count\":2}\n", "")
    );
    let r = run(&["-q", "count"], input);
    assert!(!r.stderr.contains("look like"), "{}", r.stderr);
}

/// UTF-16 input (what Windows PowerShell 5 writes with `>`) that starts with its byte order
/// mark is read as the text it is, in every input format, compressed or not; without the mark
/// it gets a note saying how to convert it, instead of only a dead letter per line.
#[test]
fn utf16_input_is_read_with_its_byte_order_mark_and_gets_a_note_without() {
    let utf16 = |text: &str, bom: bool| -> Vec<u8> {
        let mark = if bom { "\u{feff}" } else { "" };
        format!("{mark}{text}")
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect()
    };
    let events = "{\"a\":\"é\"}\r\n{\"a\":2}\r\n";
    let r = run_bytes(&["where true"], &utf16(events, true));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "{\"a\":\"é\"}\n{\"a\":2}\n"),
        "{}",
        r.stderr
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &utf16("hello\r\n", true)).unwrap();
    let r = run_bytes(&["-i", "lines", "where true"], &gz.finish().unwrap());
    assert_eq!(r.stdout, "{\"line\":\"hello\"}\n", "{}", r.stderr);
    let r = run_bytes(&["-i", "csv", "where true"], &utf16("a,b\n1,x\n", true));
    assert_eq!(r.stdout, "{\"a\":1,\"b\":\"x\"}\n", "{}", r.stderr);

    // The mark alone (PowerShell's empty output) is an empty input, in every format.
    for format in ["ndjson", "csv", "json", "lines"] {
        let r = run_bytes(&["-i", format, "--stats", "where true"], b"\xff\xfe");
        assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{format}: {}", r.stderr);
        assert_eq!(stats(&r.stderr)["lines_read"], 0, "{format}: {}", r.stderr);
    }
    // A lone surrogate is not made U+FFFD without a word: its line is a dead letter.
    let mut bytes = utf16("{\"a\":\"x", true);
    bytes.extend([0x00, 0xd8]);
    bytes.extend(utf16("\"}\n{\"a\":2}\n", false));
    let r = run_bytes(&["where true"], &bytes);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"a\":2}\n"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(":1: invalid_utf8: invalid UTF-8 at byte 7: a lone UTF-16 surrogate"),
        "{}",
        r.stderr
    );

    // Without the mark, also when non-ASCII characters make the lines invalid UTF-8.
    for text in [events, "{\"a\":\"é1\"}\n{\"a\":\"é2\"}\n{\"a\":\"é3\"}\n"] {
        let r = run_bytes(&["where true"], &utf16(text, false));
        assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
        assert!(
            r.stderr.contains("look like UTF-16 text") && r.stderr.contains("iconv -f UTF-16 -t UTF-8"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn csv_and_pretty_json_fed_as_ndjson_get_a_note_naming_the_input_format() {
    let cases = [
        (
            "name,n\nada,1\nbob,2\n",
            "evq: these lines look like CSV; read them with -i csv",
        ),
        (
            "{\n  \"a\": 1,\n  \"b\": \"x\"\n}\n",
            "evq: these lines look like JSON text spanning lines; read them with -i json",
        ),
    ];
    for (input, note) in cases {
        let r = run(&["count"], input);
        assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":0}\n"));
        assert!(r.stderr.starts_with(note), "{}", r.stderr);
    }
    let r = run(&["-i", "csv", "count"], cases[0].0);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"count\":2}\n", ""));
    // Records a decoder made that are still not JSON get no note to read them as they were.
    for input in ["[\n", "{\"a\":\n{\"b\":\n"] {
        let r = run(&["-i", "json", "count"], input);
        assert!(!r.stderr.contains("look like"), "{}", r.stderr);
    }
}

#[test]
fn a_few_bad_lines_among_json_get_no_text_note() {
    let r = run(&["count"], "{\"a\":1}\n{\"a\":2}\nlevel=info msg=x port=1\n");
    assert_eq!(r.stdout, "{\"count\":2}\n");
    assert!(!r.stderr.contains("look like"), "{}", r.stderr);
}

#[test]
fn corpus_access_and_auth_logs_are_recognised() {
    let cases = [
        (
            "apache-access/apache_logs",
            "parse combined",
            "an Apache/nginx combined access log",
        ),
        ("ssh-authlog/auth.log", "parse syslog", "syslog"),
    ];
    for (rel, stage, what) in cases {
        let Some(p) = corpus(rel) else { return };
        let out = evq().args(["count", p.to_str().unwrap()]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!("evq: these lines look like {what}; add '{stage}'")),
            "{rel}: {err}"
        );
        let parsed = evq()
            .args([&format!("{stage} | count"), p.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&parsed.stderr).contains("look like"), "{rel}");
    }
}

#[test]
fn a_comparison_that_never_held_on_the_data_is_named_with_its_fix() {
    let input = "{\"LogonType\":\"3\"}\n{\"LogonType\":\"10\"}\n{\"status\":500}\n";
    let r = run(&["where LogonType == 3 or status == \"500\""], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(
        r.stderr,
        "evq: warning: LogonType == 3 never held: LogonType was never a number (it was a string); write LogonType == \"3\", or int(LogonType) == 3\n\
         evq: warning: status == \"500\" never held: status was never a string (it was a number); write status == 500\n"
    );
    let r = run(
        &["where LogonType == \"3\" or int(LogonType) == 10 or status == 500 | count"],
        input,
    );
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "{\"count\":3}\n", "")
    );
    let r = run(&["-q", "where LogonType == 3"], input);
    assert_eq!(r.stderr, "");
}

#[test]
fn mordor_logon_type_is_a_string_and_the_warning_says_so() {
    let Some(p) = corpus("mordor-windows/empire_dcom_shellwindows_stager.json.gz") else {
        return;
    };
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&p).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let want = text
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["LogonType"] == "3")
        .count();
    assert!(want > 0);
    let wrong = evq()
        .args(["where LogonType == 3 | count", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&wrong.stdout), "{\"count\":0}\n");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("write LogonType == \"3\", or int(LogonType) == 3"));
    for fixed in ["where LogonType == \"3\" | count", "where int(LogonType) == 3 | count"] {
        let out = evq().args([fixed, p.to_str().unwrap()]).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{{\"count\":{want}}}\n"),
            "{fixed}"
        );
        assert_eq!(out.stderr, b"", "{fixed}");
    }
}

#[test]
fn a_bare_word_compared_with_a_field_is_taken_for_a_field_and_the_warning_says_so() {
    let r = run(&["where level == error"], LEVELS);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(
        r.stderr,
        "evq: warning: field \"error\" was not in any of 3 events; to compare with the text, write \"error\"\n"
    );
    assert_eq!(
        run(&["where level == \"error\" | count"], LEVELS).stdout,
        "{\"count\":2}\n"
    );
}

#[test]
fn argument_errors_are_one_evq_line_with_a_hint() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--zyxwvut", "where true"],
            "evq: unexpected argument '--zyxwvut' found; evq --help lists the options; an input path that \
             starts with - goes after -- (-- --zyxwvut)\n",
        ),
        (
            &["-j", "x", "where true"],
            "evq: invalid value 'x' for '--jobs <N>': `x` is not a whole number; evq --help lists the options\n",
        ),
        (
            &[],
            "evq: no pipeline given; write evq 'PIPELINE' [PATH...], e.g. evq 'where level == \"error\"' app.log (man evq describes the pipeline language)\n",
        ),
    ];
    for (args, want) in cases {
        let r = run(args, "");
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (2, "", want),
            "{args:?}"
        );
    }
    // A negative value is read as the option's value and refused with what is wrong with it,
    // not taken for an unknown option.
    for (option, value, why) in [
        ("--lateness", "-1s", "`-1s` is not a duration"),
        ("--seed", "-1", "`-1` is not a seed"),
        ("--year", "-1", "`-1` is not a year from 0 to 9999"),
        ("--max-groups", "-5", "`-5` is negative"),
        ("--max-open-files", "-1", "`-1` is negative"),
        ("--memory-limit", "-1", "`-1` is not a size"),
        ("--max-line-bytes", "-2", "`-2` is not a size"),
    ] {
        let r = run(&[option, value, "where true"], "");
        assert_eq!(r.code, 2, "{option} {value}");
        assert!(
            r.stderr
                .starts_with(&format!("evq: invalid value '{value}' for '{option} <"))
                && r.stderr.contains(why),
            "{option} {value}: {}",
            r.stderr
        );
    }
    let help = run(&["--help"], "");
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Usage: evq"));
}

#[test]
fn a_file_where_the_pipeline_goes_is_explained() {
    for args in [&["app.log", "where true"][..], &["--stats", "run.json", "where true"]] {
        let r = run(args, "");
        assert_eq!(r.code, 2, "{args:?}");
        assert!(
            r.stderr
                .contains("looks like a file name: give the pipeline first, then files"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("--stats takes its file as --stats=FILE"),
            "{}",
            r.stderr
        );
    }
    let d = tempfile::tempdir().unwrap();
    let events = d.path().join("events.ndjson");
    std::fs::write(&events, "{\"a\":1}\n").unwrap();
    let r = run(&["-f", events.to_str().unwrap(), "where true"], "");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("this looks like JSON events, not a pipeline: -f names a file holding the pipeline"),
        "{}",
        r.stderr
    );
}

#[test]
fn help_lists_stages_and_functions_and_each_topic_in_full() {
    let r = run(&["--help"], "");
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("\nStages: where set del keep rename head tail parse"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\nFunctions: len lower upper"), "{}", r.stdout);
    assert!(r.stdout.contains("man evq"));
    assert!(
        r.stdout.contains(" dedupe throttle reorder"),
        "every stage that exists: {}",
        r.stdout
    );
    let topics = [
        ("stages", "  sort EXPR [desc], …"),
        ("functions", "  exists(path)"),
        ("formats", "Output formats (-o):"),
    ];
    for (topic, want) in topics {
        let r = run(&["--help", topic], "");
        assert_eq!(r.code, 0, "{topic}");
        assert!(r.stdout.contains(want), "{topic}: {}", r.stdout);
    }
    let r = run(&["--help", "nothing"], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("evq: invalid value 'nothing'"), "{}", r.stderr);
}

#[test]
fn lateness_without_a_windowed_aggregate_is_said_to_have_no_effect() {
    let ev = "{\"ts\":\"2026-01-01T00:00:00Z\"}\n";
    let r = run(&["--lateness", "5m", "keep ts"], ev);
    assert_eq!(r.stdout, ev);
    assert!(r.stderr.contains("--lateness has no effect"), "{}", r.stderr);
    let r = run(&["--lateness", "5m", "count every 1m"], ev);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

/// A flag that only changes stages or outputs the pipeline does not have is said to have
/// no effect, and the run goes on; with such a stage or output, nothing is said.
#[test]
fn flags_for_stages_the_pipeline_lacks_are_said_to_have_no_effect() {
    let ev = "{\"t\":\"a\",\"ts\":\"2026-01-01T00:00:00Z\"}\n";
    let d = tempfile::tempdir().unwrap();
    let to = format!("to \"{}/{{t}}.ndjson\"", d.path().display());
    let cases: [(&[&str], &str, &str); 6] = [
        (&["--append"], "where true", "to \"DIR\""),
        (&["--atomic"], "where true", "to \"DIR\""),
        (&["--max-open-files", "4"], "where true", "to \"DIR\""),
        (&["--msg-id", "t"], "where true", "to \"DIR\""),
        (&["--seed", "3"], "where true", "sample 50%"),
        (&["--tz", "Europe/Berlin"], "where true", "count every 1d"),
    ];
    for (flag, idle, used) in cases {
        let r = run(&[flag, &[idle][..]].concat(), ev);
        assert_eq!((r.code, r.stdout.as_str()), (0, ev), "{flag:?}");
        let said = format!("evq: warning: {} has no effect: ", flag[0]);
        assert!(r.stderr.starts_with(&said), "{flag:?}: {}", r.stderr);
        let used = used.replace("to \"DIR\"", &to);
        let r = run(&[flag, &[used.as_str()][..]].concat(), ev);
        // A topic file is not a NATS subject: --msg-id still does nothing.
        assert_eq!(
            r.stderr.contains(&said),
            flag[0] == "--msg-id",
            "{flag:?} {used}: {}",
            r.stderr
        );
    }
    let r = run(&["--tz", "Europe/Berlin", "-o", "table", "where true"], ev);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

/// A flag about inputs these inputs do not use, or about groups or event time that no stage
/// holds or reads, is said to have no effect; where something uses it, nothing is said.
#[test]
fn flags_for_inputs_and_stages_the_run_lacks_are_said_to_have_no_effect() {
    let ev = "{\"t\":\"a\",\"ts\":\"2026-01-01T00:00:00Z\"}\n";
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.ndjson"), ev).unwrap();
    let dir = d.path().to_str().unwrap();
    // The flag; the pipeline and arguments where it is idle; those where it is used.
    let cases: [(&[&str], &[&str], &[&str]); 9] = [
        (&["--strip-ansi"], &["where true"], &["-i", "lines", "where true"]),
        (&["--year", "2020"], &["where true"], &["-i", "auto", "where true"]),
        (&["--max-groups", "5"], &["head 1"], &["head 1 by t"]),
        (&["--max-groups", "5"], &["where true"], &["dedupe by t"]),
        (&["--time-field", "ts"], &["where time(ts) > 0"], &["count every 1d"]),
        (&["-g", "*.ndjson"], &["where true"], &["where true", dir]),
        (&["--no-ignore"], &["where true", "-"], &["where true", dir]),
        (&["--follow-links"], &["where true"], &["where true", dir]),
        (
            &["--nats-creds", "c.creds"],
            &["where true"],
            &["where true", "nats://h/s"],
        ),
    ];
    for (flag, idle, used) in cases {
        let said = format!("evq: warning: {} has no effect: ", flag[0]);
        let r = run(&[flag, idle].concat(), ev);
        assert!(r.stderr.starts_with(&said), "{flag:?} {idle:?}: {}", r.stderr);
        assert_eq!(r.code, 0, "{flag:?}: {}", r.stderr);
        let r = run(&[flag, used].concat(), ev);
        assert!(!r.stderr.contains(&said), "{flag:?} {used:?}: {}", r.stderr);
    }
    let r = run(&["--arg", "x", "a", "--argjson", "y", "1", "where t == $x"], ev);
    assert_eq!(
        r.stderr,
        "evq: warning: --argjson y has no effect: the pipeline does not use $y\n"
    );
    let to = format!("where t == $x | to \"{}/{{$y}}.ndjson\"", d.path().display());
    let r = run(&["--arg", "x", "a", "--arg", "y", "b", &to], ev);
    assert_eq!(r.stderr, "", "a template's $y is used");
    assert_eq!(std::fs::read_to_string(d.path().join("b.ndjson")).unwrap(), ev);
}
