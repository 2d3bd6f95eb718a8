//! Input reach: Zeek TSV logs (`-i zeek`, and `-i tsv` that starts with `#separator`), and
//! what directory walks read (`--glob`, files that are not event data, `--no-ignore`).

use crate::common::{evq, run, run_in, stats};

/// The dead letters of a `--stats` report, all reasons together.
fn dead_total(s: &serde_json::Value) -> u64 {
    s["fates"]["dead_letter"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(serde_json::Value::as_u64).sum())
}

const CONN: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#open\t2011-03-18-19-06-08
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_p\tproto\tservice\tduration\tlocal_orig\ttunnel_parents
#types\ttime\tstring\taddr\tport\tport\tenum\tstring\tinterval\tbool\tset[string]
1300475167.096535\tCXWv6p3arKYeMETxOg\t141.142.220.202\t5353\t53\tudp\tdns\t-\tT\t(empty)
1300475168.853899\tCJ3xTn1c4Zw9TmAE05\t141.142.220.118\t43927\t53\tudp\tdns\t0.000435\tF\tCa,Cb
1300475169.780331\tCmES5u32sYpV7JYN\t141.142.220.235\t6705\t80\ttcp\t-\t2.5\tT\t-
#close\t2011-03-18-19-06-13
";

#[test]
fn zeek_logs_are_typed_by_their_header() {
    let r = run(
        &[
            "-i",
            "zeek",
            "keep ts, id.orig_p, service, duration, local_orig, tunnel_parents",
        ],
        CONN,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        concat!(
            "{\"ts\":1300475167.096535,\"id.orig_p\":5353,\"service\":\"dns\",\"duration\":null,\"local_orig\":true,\"tunnel_parents\":[]}\n",
            "{\"ts\":1300475168.853899,\"id.orig_p\":43927,\"service\":\"dns\",\"duration\":0.000435,\"local_orig\":false,\"tunnel_parents\":[\"Ca\",\"Cb\"]}\n",
            "{\"ts\":1300475169.780331,\"id.orig_p\":6705,\"service\":null,\"duration\":2.5,\"local_orig\":true,\"tunnel_parents\":null}\n",
        )
    );
}

#[test]
fn zeek_fields_work_in_expressions_and_header_lines_are_blank() {
    let r = run(
        &[
            "-i",
            "zeek",
            "--stats",
            "where id.resp_p == 53 and local_orig | count by proto",
        ],
        CONN,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"proto\":\"udp\",\"count\":1}\n");
    let s = stats(&r.stderr);
    assert_eq!(s["lines_read"], 12, "{s}");
    assert_eq!(s["fates"]["blank"], 9, "{s}");
}

#[test]
fn zeek_rows_are_held_to_the_line_limit_as_read_and_a_header_past_it_is_corrupt_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dead = dir.path().join("dead.ndjson");
    let dead_arg = dead.to_string_lossy().to_string();
    // A row is measured by its own bytes, not by the longer JSON it becomes.
    let input = "#separator \\x09\n#fields\ta\tb\tc\n1\t2\t3\n1234567890123456\t2\t3\n";
    let r = run(
        &[
            "-i",
            "zeek",
            "--max-line-bytes",
            "15",
            "--dead-letter",
            &dead_arg,
            "where true",
        ],
        input,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":1,\"b\":2,\"c\":3}\n");
    let letter = std::fs::read_to_string(&dead).expect("dead letters");
    assert!(
        letter.contains("\"line\":4") && letter.contains("line is 20 bytes"),
        "{letter}"
    );
    // A too long line's first bytes, as read.
    assert!(letter.contains("\"raw\":\"1234567890123456"), "{letter}");
    // Without its #fields line, the rows would be named _1, _2…
    let input = "#separator \\x09\n#fields\taaaaaaaaaaaaaaa\tb\n1\t2\n";
    let r = run(&["-i", "zeek", "--max-line-bytes", "20", "where true"], input);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("line 2: the #fields line is 25 bytes, longer than --max-line-bytes 20: raise it"),
        "{}",
        r.stderr
    );
}

#[test]
fn tsv_input_that_starts_with_a_zeek_header_is_read_as_zeek() {
    let r = run(&["-i", "tsv", "set n = line() | keep uid, n"], CONN);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("{\"uid\":\"CXWv6p3arKYeMETxOg\",\"n\":9}\n"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().count(), 3);
}

#[test]
fn time_of_zeek_events_is_read_from_ts() {
    let r = run(&["-i", "zeek", "count every 1s"], CONN);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
}

/// A directory of logs with a licence, a readme, a binary file and a gzip file.
fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let logs = d.path().join("logs");
    std::fs::create_dir_all(logs.join("old")).unwrap();
    std::fs::write(logs.join("a.ndjson"), "{\"f\":\"a\"}\n").unwrap();
    std::fs::write(logs.join("b.log"), "{\"f\":\"b\"}\n").unwrap();
    std::fs::write(logs.join("old/c.ndjson"), "{\"f\":\"c\"}\n").unwrap();
    std::fs::write(logs.join("LICENSE"), "MIT License\n").unwrap();
    std::fs::write(logs.join("README.md"), "# logs\n").unwrap();
    std::fs::create_dir_all(logs.join(".cache")).unwrap();
    std::fs::write(logs.join(".cache/x.ndjson"), "{\"f\":\"hidden\"}\n").unwrap();
    std::fs::write(logs.join("core.bin"), b"\x7fELF\x00\x00{}\n").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"{\"f\":\"z\"}\n").unwrap();
    std::fs::write(logs.join("z.gz"), gz.finish().unwrap()).unwrap();
    d
}

#[test]
fn directory_walks_skip_licences_readmes_and_binary_files_with_one_note() {
    let d = tree();
    let r = run_in(d.path(), &["--stats", "keep f", "logs"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"f\":\"a\"}\n{\"f\":\"b\"}\n{\"f\":\"c\"}\n{\"f\":\"z\"}\n");
    let notes: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("evq: skipped")).collect();
    assert_eq!(
        notes,
        [
            "evq: skipped 2 licence, readme and Markdown files and 1 binary file in directory inputs; --no-ignore reads every file"
        ],
        "{}",
        r.stderr
    );
    assert_eq!(dead_total(&stats(&r.stderr)), 0);
}

#[test]
fn a_directory_named_twice_or_inside_another_is_read_once_and_the_note_says_so() {
    let d = tree();
    for args in [&["logs", "logs"][..], &["logs", "logs/old"]] {
        let r = run_in(d.path(), &[&["count"], args].concat(), "");
        assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":4}\n"), "{}", r.stderr);
        assert!(r.stderr.contains("1 entry listed twice (read once)"), "{}", r.stderr);
    }
}

#[test]
fn a_utf16_file_in_a_directory_is_read_as_text_not_skipped_as_binary() {
    let d = tempfile::tempdir().unwrap();
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend("{\"f\":\"w\"}\r\n".encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(d.path().join("ps.ndjson"), utf16).unwrap();
    std::fs::write(d.path().join("p.ndjson"), "{\"f\":\"p\"}\n").unwrap();
    let r = run_in(d.path(), &["-v", "keep f", "."], "");
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "{\"f\":\"p\"}\n{\"f\":\"w\"}\n"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("skipped"), "{}", r.stderr);
}

#[test]
fn no_ignore_reads_every_file_and_a_file_named_on_the_command_line_is_always_read() {
    let d = tree();
    let r = run_in(d.path(), &["--no-ignore", "-q", "--stats", "where true", "logs"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(stats(&r.stderr)["files"].as_array().unwrap().len(), 7);
    let r = run_in(d.path(), &["-q", "--stats", "where true", "logs/LICENSE"], "");
    assert_eq!(stats(&r.stderr)["files"][0]["file"], "logs/LICENSE");
}

#[test]
fn globs_choose_files_relative_to_the_walked_directory() {
    let d = tree();
    let r = run_in(d.path(), &["-g", "*.ndjson", "keep f", "logs"], "");
    assert_eq!(r.stdout, "{\"f\":\"a\"}\n{\"f\":\"c\"}\n", "{}", r.stderr);
    let r = run_in(d.path(), &["-g", "!old/", "-g", "!*.gz", "keep f", "logs"], "");
    assert_eq!(r.stdout, "{\"f\":\"a\"}\n{\"f\":\"b\"}\n", "{}", r.stderr);
    let r = run_in(d.path(), &["--glob", "old/*", "keep f", "logs"], "");
    assert_eq!(r.stdout, "{\"f\":\"c\"}\n", "{}", r.stderr);
    assert!(
        !r.stderr.contains("--glob"),
        "a glob that leaves files says nothing: {}",
        r.stderr
    );
}

#[test]
fn a_glob_that_leaves_no_file_to_read_says_so() {
    let d = tree();
    let r = run_in(d.path(), &["-g", "nomatch*", "count", "logs"], "");
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":0}\n"));
    assert!(
        r.stderr.contains("excluded by --glob in directory inputs"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.ends_with("no file was left to read: check the -g patterns\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_glob_that_names_an_ignored_file_reads_it() {
    let d = tree();
    let r = run_in(d.path(), &["-g", "LICENSE", "--stats", "where true", "logs"], "");
    let s = stats(&r.stderr);
    assert_eq!(s["files"][0]["file"], "logs/LICENSE", "{s}");
    assert_eq!(s["fates"]["dead_letter"]["invalid_json"], 1, "{s}");
}

#[test]
fn verbose_lists_each_skipped_entry() {
    let d = tree();
    let r = run_in(d.path(), &["-v", "-g", "!*.gz", "where true", "logs"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("evq: skipped logs/LICENSE: not event data by its name"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("evq: skipped logs/core.bin: binary"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("evq: skipped logs/.cache: hidden (name it to read it)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(", 1 entry excluded by --glob and 1 hidden entry in directory inputs"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("evq: skipped logs/z.gz: excluded by --glob"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_bad_glob_is_a_usage_error() {
    let r = run(&["-g", "a[", "where true", "."], "");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("evq: ") && r.stderr.contains("--glob"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn the_corpus_walk_leaves_out_its_licence() {
    let Some(dir) = crate::common::corpus("zeek-wrccdc2018") else {
        return;
    };
    let out = evq().args(["--stats", "count"]).arg(&dir).output().expect("evq runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let s = stats(&stderr);
    assert_eq!(dead_total(&s), 0, "{s}");
    // Every log type's file is read, and the licence is not.
    assert_eq!(s["files"].as_array().unwrap().len(), 32);
    assert_eq!(s["lines_read"], 158_439, "{s}");
    assert!(
        stderr.contains("skipped 1 licence, readme or Markdown file"),
        "{stderr}"
    );
}

/// A path that is not UTF-8 is read as given, named on the command line or found by a walk,
/// and named with its other bytes as `\xHH`, so two such files stay apart; a pipeline that is
/// not UTF-8 is a usage error.
#[test]
fn paths_that_are_not_utf8_are_read_and_named_apart() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let e9 = dir.path().join(OsStr::from_bytes(b"caf\xe9.ndjson"));
    let e8 = dir.path().join(OsStr::from_bytes(b"caf\xe8.ndjson"));
    std::fs::write(&e9, "{\"a\":1}\n").expect("input written");
    std::fs::write(&e8, "{\"a\":2}\n").expect("input written");
    let out = evq()
        .args(["-i", "ndjson", "set f = file()"])
        .arg(&e9)
        .output()
        .expect("evq runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.ends_with("caf\\\\xE9.ndjson\"}\n"), "{stdout}");
    let out = evq()
        .args(["set f = file()"])
        .arg(dir.path())
        .output()
        .expect("evq runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = stdout.lines().map(|l| &l[l.len() - 17..]).collect();
    assert_eq!(names, ["caf\\\\xE8.ndjson\"}", "caf\\\\xE9.ndjson\"}"], "{stdout}");
    let out = evq()
        .arg(OsStr::from_bytes(b"where a\xff == 1"))
        .arg(&e9)
        .output()
        .expect("evq runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "evq: the pipeline is not UTF-8 text; write it in UTF-8, or put it in a file and give -f FILE\n"
    );
}

/// An option's value that is not UTF-8 is named with its option, and paths in messages show
/// the bytes that are not UTF-8 as `\xHH`, never as U+FFFD.
#[test]
fn option_values_and_paths_that_are_not_utf8_are_named() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let run = |args: &[&OsStr]| {
        let out = evq().args(args).output().expect("evq runs");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let s = |text: &str| OsStr::new(text).to_owned();
    let b = |bytes: &[u8]| OsStr::from_bytes(bytes).to_owned();
    let (code, stderr) = run(&[&b(b"--stats=a\xff"), &s("where true"), &s("/dev/null")]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("evq: --stats a\\xFF: the value is not UTF-8 text, which --stats takes;"),
        "{stderr}"
    );
    let (_, stderr) = run(&[&s("-O"), &b(b"d\xfe"), &s("route by a"), &s("/dev/null")]);
    assert!(
        stderr.starts_with("evq: -O d\\xFE: the value is not UTF-8 text, which -O takes;"),
        "{stderr}"
    );
    let (code, stderr) = run(&[&s("-f"), &b(b"p\xff"), &s("/dev/null")]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("evq: -f p\\xFF: the pipeline file cannot be read"),
        "{stderr}"
    );
    let (_, stderr) = run(&[
        &s("--dead-letter"),
        &b(b"/nowhere/d\xff"),
        &s("where true"),
        &s("/dev/null"),
    ]);
    assert!(
        stderr.starts_with("evq: --dead-letter /nowhere/d\\xFF: No such file"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{FFFD}'), "{stderr}");
}
