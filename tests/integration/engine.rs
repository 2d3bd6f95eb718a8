//! Tests of the engine: inputs and their order, decompression, metadata across
//! files and chunk boundaries, dead letters, `--strict`, `--max-errors`, threads.

use crate::common::{evq, run, run_bytes};
use base64::Engine as _;
use serde_json::Value;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The parsed JSON lines of an output; panics on anything that is not whole JSON lines.
fn json_lines(s: &str) -> Vec<Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line: {l:?}: {e}")))
        .collect()
}

/// `(file(), line(), offset())` of every output event.
fn metas(stdout: &str) -> Vec<(String, u64, u64)> {
    json_lines(stdout)
        .iter()
        .map(|v| {
            (
                v["f"].as_str().expect("f").to_string(),
                v["l"].as_u64().expect("l"),
                v["o"].as_u64().expect("o"),
            )
        })
        .collect()
}

const META: &str = "set f = file(), l = line(), o = offset()";

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, data).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The dead-letter records of a run, in order.
fn dead_records(p: &Path) -> Vec<Value> {
    json_lines(&std::fs::read_to_string(p).expect("the dead-letter file exists"))
}

// ---------------------------------------------------------------- inputs

#[test]
fn stdin_is_read_when_no_path_is_given_and_is_named_dash() {
    let r = run(&[META], "{\"a\":1}\n{\"a\":2}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(metas(&r.stdout), [("-".into(), 1, 0), ("-".into(), 2, 8)]);
}

#[test]
fn files_are_read_in_the_order_given_each_with_its_own_line_numbers() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.ndjson", b"{\"x\":\"a1\"}\n{\"x\":\"a2\"}\n");
    let b = write(d.path(), "b.ndjson", b"{\"x\":\"b1\"}\n");
    let r = run(&[META, s(&b), s(&a), s(&b)], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got: Vec<(String, String, u64, u64)> = json_lines(&r.stdout)
        .iter()
        .map(|v| {
            (
                v["x"].as_str().unwrap().to_string(),
                v["f"].as_str().unwrap().to_string(),
                v["l"].as_u64().unwrap(),
                v["o"].as_u64().unwrap(),
            )
        })
        .collect();
    let (a, b) = (s(&a).to_string(), s(&b).to_string());
    assert_eq!(
        got,
        [
            ("b1".into(), b.clone(), 1, 0),
            ("a1".into(), a.clone(), 1, 0),
            ("a2".into(), a, 2, 11),
            ("b1".into(), b, 1, 0),
        ]
    );
}

#[test]
fn dash_among_files_reads_stdin_at_its_place() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a", b"{\"x\":\"a\"}\n");
    let b = write(d.path(), "b", b"{\"x\":\"b\"}\n");
    let r = run(&[META, s(&a), "-", s(&b)], "{\"x\":\"s1\"}\n{\"x\":\"s2\"}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got: Vec<(String, String, u64)> = json_lines(&r.stdout)
        .iter()
        .map(|v| {
            (
                v["x"].as_str().unwrap().into(),
                v["f"].as_str().unwrap().into(),
                v["l"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a".into(), s(&a).into(), 1),
            ("s1".into(), "-".into(), 1),
            ("s2".into(), "-".into(), 2),
            ("b".into(), s(&b).into(), 1),
        ]
    );
}

#[test]
fn directory_is_read_recursively_in_byte_order_skipping_hidden_entries() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("in");
    // Names chosen so that byte order differs from case-insensitive and natural order.
    for name in [
        "b.ndjson",
        "B.ndjson",
        "a-1.ndjson",
        "a.ndjson",
        "10.ndjson",
        "9.ndjson",
        "sub/z.ndjson",
        "sub/deeper/y.ndjson",
        "sub.ndjson",
        ".hidden.ndjson",
        ".git/x.ndjson",
        "sub/.also-hidden.ndjson",
    ] {
        write(&root, name, format!("{{\"name\":\"{name}\"}}\n").as_bytes());
    }
    let r = run(&["set f = file()", s(&root)], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got: Vec<String> = json_lines(&r.stdout)
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        got,
        [
            "10.ndjson",
            "9.ndjson",
            "B.ndjson",
            "a-1.ndjson",
            "a.ndjson",
            "b.ndjson",
            // The whole paths are compared: `sub.ndjson` < `sub/…` because `.` < `/`.
            "sub.ndjson",
            "sub/deeper/y.ndjson",
            "sub/z.ndjson",
        ]
    );
    // file() is the path of the file inside the directory.
    for v in json_lines(&r.stdout) {
        let f = v["f"].as_str().unwrap();
        assert_eq!(Path::new(f), root.join(v["name"].as_str().unwrap()), "{f}");
    }
}

// ---------------------------------------------------------------- decompression

/// Two hundred events, some long enough that compressed blocks and chunks do not align.
fn sample_events() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..200 {
        writeln!(v, "{{\"n\":{i},\"pad\":\"{}\"}}", "p".repeat(i % 53)).unwrap();
    }
    v
}

/// The expected `(line, offset)` of each line of `data`.
fn line_offsets(data: &[u8]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut off = 0;
    for (i, l) in data.split_inclusive(|b| *b == b'\n').enumerate() {
        out.push((i as u64 + 1, off));
        off += l.len() as u64;
    }
    out
}

fn assert_reads_as(path: &Path, plain: &[u8]) {
    for chunk in ["1M", "100"] {
        let r = run(&[META, "--chunk-size", chunk, s(path)], "");
        assert_eq!(r.code, 0, "{}: {}", path.display(), r.stderr);
        assert!(r.stderr.is_empty(), "{}: {}", path.display(), r.stderr);
        let got = metas(&r.stdout);
        let want: Vec<(String, u64, u64)> = line_offsets(plain)
            .into_iter()
            .map(|(l, o)| (s(path).to_string(), l, o))
            .collect();
        assert_eq!(got, want, "{} with --chunk-size {chunk}", path.display());
        // The events themselves come through intact.
        let plain_out = run(&["where true", "--chunk-size", chunk, s(path)], "");
        assert_eq!(plain_out.stdout.as_bytes(), plain, "{}", path.display());
    }
}

#[test]
fn gzip_with_several_members_is_read_whole_whatever_its_name() {
    let data = sample_events();
    let (first, second) = data.split_at(data.len() / 3 + 7); // splits inside a line
    let mut multi = gzip(first);
    multi.extend(gzip(second));
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "events.txt", &multi);
    assert_reads_as(&p, &data);
}

#[test]
fn zstd_is_recognised_by_magic_bytes_not_name() {
    let data = sample_events();
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "events.gz", &zstd::encode_all(&data[..], 3).unwrap());
    assert_reads_as(&p, &data);
}

#[test]
fn bzip2_is_recognised_by_magic_bytes_not_name() {
    let data = sample_events();
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "events.ndjson", &bzip2(&data));
    assert_reads_as(&p, &data);
}

#[test]
fn xz_is_recognised_by_magic_bytes_not_name() {
    let data = sample_events();
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "events.zst", &xz(&data));
    assert_reads_as(&p, &data);
}

/// A damaged compressed stream keeps what was decoded before the damage, as `xz -dc` and
/// `zstd -dc` do: a whole good stream before a damaged one, and the blocks of one stream
/// before its damaged block, not the whole buffer the damage fell in.
#[test]
fn damage_in_a_compressed_input_loses_nothing_decoded_before_it() {
    let good = "{\"s\":1}\n{\"s\":2}\n";
    let mut damaged = xz(&b"{\"j\":1}\n".repeat(10_000));
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0xff;
    let mut two = xz(good.as_bytes());
    two.extend(&damaged);
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "two.xz", &two);
    let r = run(&["where s", s(&p)], "");
    assert_eq!((r.code, r.stdout.as_str()), (3, good), "{}", r.stderr);
    assert!(r.stderr.contains("two.xz: lzma data error"), "{}", r.stderr);

    let lines: String = (0..40_000)
        .map(|i| format!("{{\"i\":{i},\"h\":{}}}\n", i * 7919 % 10_007))
        .collect();
    let mut zst = zstd::encode_all(lines.as_bytes(), 3).unwrap();
    let at = zst.len() * 3 / 4;
    zst[at] ^= 0xff;
    let p = write(d.path(), "one.zst", &zst);
    let r = run(&["where true", s(&p)], "");
    assert_eq!(r.code, 3, "{}", r.stderr);
    let kept = r.stdout.lines().count();
    assert!(kept > 20_000, "only {kept} lines kept: {}", r.stderr);
    assert!(
        lines.starts_with(&r.stdout),
        "the lines kept are the input's first ones"
    );
}

/// Lines that end in a lone CR (classic Mac OS, Excel's "Macintosh" CSV) are lines in every
/// format: counted, numbered and parsed as with LF line ends.
#[test]
fn lines_ending_in_a_lone_cr_are_lines_in_every_format() {
    let d = tempfile::tempdir().unwrap();
    let stats = d.path().join("stats.json");
    let stats_arg = format!("--stats={}", s(&stats));
    let r = run(&["-i", "csv", &stats_arg, "set l = line()"], "a,b\r1,2\r\r3,4\r");
    assert_eq!(
        r.stdout, "{\"a\":1,\"b\":2,\"l\":2}\n{\"a\":3,\"b\":4,\"l\":4}\n",
        "{}",
        r.stderr
    );
    let st: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(
        (st["lines_read"].as_u64(), st["fates"]["blank"].as_u64()),
        (Some(4), Some(2))
    );
    let r = run(&["-i", "logfmt", "where true"], "a=1 b=2\rc=3\r");
    assert_eq!(
        r.stdout, "{\"line\":\"a=1 b=2\",\"a\":1,\"b\":2}\n{\"line\":\"c=3\",\"c\":3}\n",
        "{}",
        r.stderr
    );
    let r = run(&["where true"], "{\"a\":1}\r{\"a\":2}\r{\"a\":3}");
    assert_eq!(r.stdout, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", "{}", r.stderr);
}

#[test]
fn compressed_stdin_is_decompressed() {
    let data = sample_events();
    let r = run_bytes(&["where true"], &gzip(&data));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.as_bytes(), &data[..]);
    let r = run_bytes(&["where true"], &zstd::encode_all(&data[..], 3).unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.as_bytes(), &data[..]);
}

// ---------------------------------------------------------------- metadata across chunks

#[test]
fn file_line_offset_are_exact_across_files_and_chunk_boundaries() {
    // A BOM, CRLF, blank lines, a whitespace line and a last line without newline.
    let a: &[u8] =
        b"\xEF\xBB\xBF{\"k\":1}\r\n\n{\"k\":22,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxx\"}\n   \n{\"k\":3}\r\n{\"k\":4}";
    let b: &[u8] = b"{\"k\":5}\n\n\n{\"k\":66666}\n";
    let d = tempfile::tempdir().unwrap();
    let pa = write(d.path(), "a.ndjson", a);
    let pb = write(d.path(), "b.ndjson", b);
    let (na, nb) = (s(&pa).to_string(), s(&pb).to_string());
    let want = vec![
        (na.clone(), 1, 3),
        (na.clone(), 3, 13),
        (na.clone(), 5, 60),
        (na, 6, 69),
        (nb.clone(), 1, 0),
        (nb, 4, 10),
    ];
    for chunk in ["1", "2", "3", "5", "16", "64", "1M"] {
        for jobs in ["1", "3"] {
            let r = run(&[META, "--chunk-size", chunk, "-j", jobs, s(&pa), s(&pb)], "");
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert_eq!(metas(&r.stdout), want, "--chunk-size {chunk} -j {jobs}");
        }
    }
}

#[test]
fn offsets_point_at_the_lines_in_the_decompressed_input() {
    let data = sample_events();
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "e", &gzip(&data));
    let r = run(&["set o = offset(), l = line()", "--chunk-size", "37", s(&p)], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&[u8]> = data.split_inclusive(|b| *b == b'\n').collect();
    for v in json_lines(&r.stdout) {
        let o = v["o"].as_u64().unwrap() as usize;
        let l = v["l"].as_u64().unwrap() as usize;
        assert_eq!(&data[o..o + lines[l - 1].len()], lines[l - 1], "line {l}");
        assert_eq!(v["n"].as_u64().unwrap() as usize, l - 1);
    }
}

#[test]
fn bom_is_removed_only_at_the_start_of_an_input() {
    // A BOM that starts the second line is not the input's BOM: that line is a dead
    // letter whatever the read size, and the first line keeps offset 0.
    let data: &[u8] = b"1\n\xEF\xBB\xBF{\"a\":1}\n";
    for chunk in ["1", "2", "1M"] {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "in", data);
        let dl = d.path().join("dead");
        let r = run(
            &["where true", "--chunk-size", chunk, "--dead-letter", s(&dl), s(&p)],
            "",
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout, "1\n", "--chunk-size {chunk}");
        let recs = dead_records(&dl);
        assert_eq!(recs.len(), 1, "--chunk-size {chunk}: {recs:?}");
        assert_eq!(recs[0]["line"], 2);
        assert_eq!(recs[0]["offset"], 2);
        assert_eq!(recs[0]["reason"], "invalid_json");
    }
}

// ---------------------------------------------------------------- dead letters

#[test]
fn each_dead_letter_reason_is_recorded_with_file_line_offset_and_raw_bytes() {
    let long = format!("{{\"long\":\"{}\"}}", "y".repeat(1200));
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let mut data = Vec::new();
    data.extend(b"{\"ok\":1}\n"); // line 1, offset 0
    data.extend(b"{\"ok\":\n"); // line 2, offset 9: invalid JSON
    data.extend(b"{\"s\":\"\xff\xfe\"}\n"); // line 3, offset 16: invalid UTF-8
    let off4 = data.len();
    data.extend(long.as_bytes()); // line 4: too long
    data.push(b'\n');
    let off5 = data.len();
    data.extend(deep.as_bytes()); // line 5: too deep
    data.push(b'\n');
    let off6 = data.len();
    data.extend(b"{\"ok\":2}\n"); // line 6
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "mixed.ndjson", &data);
    for chunk in ["1M", "7"] {
        let dl = d.path().join(format!("dead-{chunk}"));
        let r = run(
            &[
                "where true",
                "--max-line-bytes",
                "1000",
                "--chunk-size",
                chunk,
                "--dead-letter",
                s(&dl),
                s(&p),
            ],
            "",
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout, "{\"ok\":1}\n{\"ok\":2}\n");
        assert!(
            r.stderr.is_empty(),
            "dead letters kept in a file are not reported again: {}",
            r.stderr
        );
        let recs = dead_records(&dl);
        let summary: Vec<(&str, u64, u64, &str)> = recs
            .iter()
            .map(|v| {
                (
                    v["file"].as_str().unwrap(),
                    v["line"].as_u64().unwrap(),
                    v["offset"].as_u64().unwrap(),
                    v["reason"].as_str().unwrap(),
                )
            })
            .collect();
        let f = s(&p);
        assert_eq!(
            summary,
            [
                (f, 2, 9, "invalid_json"),
                (f, 3, 16, "invalid_utf8"),
                (f, 4, off4 as u64, "too_long"),
                (f, 5, off5 as u64, "too_deep"),
            ],
            "--chunk-size {chunk}"
        );
        assert!(off6 > off5);
        for v in &recs {
            assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
        }
        assert_eq!(recs[0]["raw"], "{\"ok\":");
        assert!(recs[1].get("raw").is_none(), "{}", recs[1]);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(recs[1]["raw_b64"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, b"{\"s\":\"\xff\xfe\"}");
        let raw_long = recs[2]["raw"].as_str().unwrap();
        assert!(long.starts_with(raw_long) && !raw_long.is_empty(), "{raw_long}");
        assert_eq!(recs[3]["raw"], deep.as_str());
    }
}

#[test]
fn too_deep_is_a_dead_letter_whatever_the_pipeline_reads() {
    // Lazy parsing must not let a deep line through, nor fail when a deep field is read.
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
    let input = format!("{{\"a\":1}}\n{deep_obj}\n{{\"a\":2}}\n");
    for pipeline in [
        "where true",
        "where a == 1 or a == 2",
        "set b = 1 | del b",
        "where . != null",
    ] {
        for jobs in ["1", "3"] {
            let d = tempfile::tempdir().unwrap();
            let dl = d.path().join("dead");
            let r = run(&[pipeline, "-j", jobs, "--dead-letter", s(&dl)], &input);
            assert_eq!(r.code, 0, "{pipeline}: {}", r.stderr);
            assert!(!r.stderr.contains("panicked"), "{pipeline}: {}", r.stderr);
            assert_eq!(r.stdout, "{\"a\":1}\n{\"a\":2}\n", "{pipeline}");
            let recs = dead_records(&dl);
            assert_eq!(recs.len(), 1, "{pipeline}");
            assert_eq!(recs[0]["reason"], "too_deep", "{pipeline}");
            assert_eq!(recs[0]["line"], 2, "{pipeline}");
            assert_eq!(recs[0]["offset"], 8, "{pipeline}");
        }
    }
}

#[test]
fn too_long_dead_letter_is_the_same_for_every_read_size() {
    let line = format!("{{\"x\":\"{}\"}}", "y".repeat(5000));
    let input = format!("{{\"a\":1}}\n{line}\r\n{{\"a\":2}}\n{line}");
    let mut records = Vec::new();
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "in", input.as_bytes());
    for chunk in ["1", "16", "100", "4K", "1M"] {
        let dl = d.path().join(format!("dead-{chunk}"));
        let r = run(
            &[
                "where true",
                "--max-line-bytes",
                "100",
                "--chunk-size",
                chunk,
                "--dead-letter",
                s(&dl),
                "--stats",
                s(&p),
            ],
            "",
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout, "{\"a\":1}\n{\"a\":2}\n", "--chunk-size {chunk}");
        let stats: Value = serde_json::from_str(&r.stderr).expect("--stats prints JSON");
        assert_eq!(stats["lines_read"], 4);
        assert_eq!(stats["bytes_read"], input.len());
        assert_eq!(stats["fates"]["dead_letter"]["too_long"], 2);
        let text = std::fs::read_to_string(&dl).unwrap();
        let recs = json_lines(&text);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0]["offset"], 8);
        assert_eq!(recs[1]["line"], 4);
        let raw = recs[0]["raw"].as_str().unwrap();
        assert!(line.starts_with(raw) && raw.len() >= 100, "{}", raw.len());
        records.push((chunk, text));
    }
    for (chunk, text) in &records[1..] {
        assert_eq!(text, &records[0].1, "--chunk-size {chunk} vs {}", records[0].0);
    }
}

#[test]
fn dead_letters_without_a_file_are_summarised_on_stderr() {
    let input = "{\"a\":1}\nnope\n{\"a\":2}\n\u{0}\n{\"b\":\n";
    let r = run(&["where true"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":1}\n{\"a\":2}\n");
    assert!(r.stderr.contains("3 dead letters"), "{}", r.stderr);
    assert!(r.stderr.contains("invalid_json"), "{}", r.stderr);
    assert!(
        r.stderr.contains("--dead-letter"),
        "the summary says how to keep them: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("-:2:"),
        "the first reasons name file:line: {}",
        r.stderr
    );
    assert!(r.stderr.contains("-:4:"), "{}", r.stderr);
    for l in r.stderr.lines() {
        assert!(l.starts_with("evq: "), "one-line messages: {l:?}");
    }
}

#[test]
fn a_clean_run_says_nothing_on_stderr() {
    let r = run(&["where true"], "{\"a\":1}\n\n  \n");
    assert_eq!(r.code, 0);
    assert_eq!(r.stderr, "");
    assert_eq!(r.stdout, "{\"a\":1}\n");
}

// ---------------------------------------------------------------- --strict, --max-errors

/// 500 good lines with bad ones at lines 301, 302 and 450.
fn input_with_bad_lines() -> (String, Vec<String>) {
    let mut input = String::new();
    let mut good = Vec::new();
    for i in 1..=500 {
        if i == 301 || i == 450 {
            input.push_str("{broken\n");
        } else if i == 302 {
            input.push_str("[1,\n");
        } else {
            let l = format!("{{\"i\":{i}}}");
            input.push_str(&l);
            input.push('\n');
            good.push(l);
        }
    }
    (input, good)
}

#[test]
fn strict_stops_exactly_before_the_first_bad_line_and_exits_3() {
    let (input, good) = input_with_bad_lines();
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "events.ndjson", input.as_bytes());
    for chunk in ["1M", "64", "1"] {
        for jobs in ["1", "4"] {
            let r = run(
                &["--strict", "-j", jobs, "--chunk-size", chunk, "where true", s(&p)],
                "",
            );
            assert_eq!(r.code, 3, "--chunk-size {chunk} -j {jobs}: {}", r.stderr);
            let want: String = good[..300].iter().map(|l| format!("{l}\n")).collect();
            assert!(
                r.stdout == want,
                "--chunk-size {chunk} -j {jobs}: output must stop at line 300"
            );
            let msg = format!("{}:301:", s(&p));
            assert_eq!(
                r.stderr.matches(&msg).count(),
                1,
                "names file:line once, not again in the summary: {}",
                r.stderr
            );
            assert!(!r.stderr.contains(":302:"), "{}", r.stderr);
        }
    }
}

#[test]
fn strict_stats_account_for_lines_up_to_the_bad_one() {
    let (input, _) = input_with_bad_lines();
    let d = tempfile::tempdir().unwrap();
    let stats = d.path().join("stats.json");
    let r = run(
        &[
            "--strict",
            "--chunk-size",
            "100",
            &format!("--stats={}", s(&stats)),
            "where i > 100",
        ],
        &input,
    );
    assert_eq!(r.code, 3);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(v["lines_read"], 301);
    assert_eq!(v["fates"]["emitted"], 200);
    assert_eq!(v["fates"]["filtered"], 100);
    assert_eq!(v["fates"]["dead_letter"]["invalid_json"], 1);
    assert_eq!(v["events_out"], 200);
    // Within one chunk: the event after the bad line is cut, and not counted as written.
    let r = run(
        &["--strict", &format!("--stats={}", s(&stats)), "where true"],
        "{\"id\":1}\nbad\n{\"id\":2}\n",
    );
    assert_eq!((r.code, r.stdout.as_str()), (3, "{\"id\":1}\n"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(v["events_out"], 1);
}

#[test]
fn max_errors_allows_n_dead_letters_and_fails_on_the_next() {
    let (input, good) = input_with_bad_lines();
    // Three bad lines: at most 3 allowed → success with every good line.
    let r = run(&["--max-errors", "3", "where true"], &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), good.len());
    // At most 2 → fails at the third bad line (line 450), after the lines before it.
    for chunk in ["1M", "50"] {
        let r = run(
            &["--max-errors", "2", "--chunk-size", chunk, "-j", "3", "where true"],
            &input,
        );
        assert_eq!(r.code, 3, "{}", r.stderr);
        let want: String = good[..447].iter().map(|l| format!("{l}\n")).collect();
        assert!(r.stdout == want, "--chunk-size {chunk}: output must stop at line 449");
        assert!(r.stderr.contains("-:450:"), "{}", r.stderr);
        assert!(r.stderr.contains("--max-errors"), "{}", r.stderr);
    }
    // --max-errors 0 behaves like --strict.
    let r = run(&["--max-errors", "0", "where true"], &input);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout.lines().count(), 300);
}

// ---------------------------------------------------------------- threads

#[test]
fn output_is_identical_for_one_and_four_threads() {
    let mut input = String::new();
    for i in 0..20_000 {
        match i % 97 {
            0 => input.push_str("not json\n"),
            1 => input.push('\n'),
            _ => writeln!(input, "{{\"i\":{i},\"g\":\"{}\",\"x\":{}}}", i % 7, i % 13).unwrap(),
        }
    }
    for pipeline in [
        "where x > 5",
        "set y = x * 2, l = line() | del g",
        "where g == \"3\" | head 100",
        "tail 5",
    ] {
        let one = run(&["-j", "1", "--chunk-size", "4K", pipeline], &input);
        let four = run(&["-j", "4", "--chunk-size", "4K", pipeline], &input);
        assert_eq!(one.code, 0, "{pipeline}: {}", one.stderr);
        assert_eq!(four.code, 0, "{pipeline}: {}", four.stderr);
        assert!(!one.stdout.is_empty(), "{pipeline}");
        assert!(one.stdout == four.stdout, "{pipeline}: -j 1 and -j 4 differ");
        assert_eq!(one.stderr, four.stderr, "{pipeline}");
    }
}

// ---------------------------------------------------------------- explain, missing inputs

#[test]
fn explain_prints_the_stages_and_exits_without_reading_input() {
    let out = evq()
        .args([
            "--explain",
            "where a > 1 | set b = a | tail 2",
            "/nonexistent/input.ndjson",
        ])
        .write_stdin("this is never read\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("where"), "{stdout}");
    assert!(stdout.contains("set"), "{stdout}");
    assert!(stdout.contains("tail"), "{stdout}");
    assert!(
        out.stderr.is_empty(),
        "no error about the missing file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_input_is_named_exits_3_and_other_files_are_still_read() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a", b"{\"x\":1}\n");
    let b = write(d.path(), "b", b"{\"x\":2}\n");
    let missing = d.path().join("missing.ndjson");
    let r = run(&["where true", s(&a), s(&missing), s(&b)], "");
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"x\":1}\n{\"x\":2}\n");
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    assert!(r.stderr.starts_with("evq: "), "{}", r.stderr);
    assert!(r.stderr.contains(s(&missing)), "names the file: {}", r.stderr);
}

#[test]
fn nesting_limit_is_the_same_for_lazy_and_full_parsing() {
    // 128 levels are an event and 129 a dead letter (SPEC: deeper than 128); a pipeline
    // that reads no field must draw the line at the same place as one that parses all.
    for (depth, dead) in [(127, false), (128, false), (129, true)] {
        let line = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        for pipeline in ["where true", "where a != null", "where . != null"] {
            let d = tempfile::tempdir().unwrap();
            let dl = d.path().join("dead");
            let r = run(&[pipeline, "--dead-letter", s(&dl)], &format!("{line}\n"));
            assert_eq!(r.code, 0, "{pipeline} depth {depth}: {}", r.stderr);
            let recs = dead_records(&dl);
            assert_eq!(recs.len(), usize::from(dead), "{pipeline} depth {depth}: {recs:?}");
            assert_eq!(r.stdout.is_empty(), dead, "{pipeline} depth {depth}");
            if dead {
                assert_eq!(recs[0]["reason"], "too_deep");
            }
        }
    }
    // Brackets inside strings are not nesting.
    let text = format!("{{\"s\":\"{}\"}}\n", "[{".repeat(300));
    let r = run(&["where true"], &text);
    assert_eq!(r.stdout, text);
}

#[test]
fn lines_after_a_satisfied_head_are_not_looked_at_whatever_the_read_size() {
    // Whether the bad line was already read when `head` was satisfied depends on the
    // read size; what evq reports must not.
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "in", b"{\"a\":1}\nbad\n{\"a\":2}\n");
    for chunk in ["8", "1M"] {
        for jobs in ["1", "3"] {
            let r = run(&["--strict", "-j", jobs, "--chunk-size", chunk, "head 1", s(&p)], "");
            assert_eq!(r.code, 0, "--chunk-size {chunk}: {}", r.stderr);
            assert_eq!(r.stdout, "{\"a\":1}\n");
            assert_eq!(r.stderr, "", "--chunk-size {chunk}");
            let r = run(&["--chunk-size", chunk, "--stats", "head 1", s(&p)], "");
            let v: Value = serde_json::from_str(&r.stderr).unwrap();
            assert_eq!(v["fates"]["dead_letter"]["invalid_json"], 0, "{v}");
        }
    }
    // A dead letter before the head is satisfied still counts.
    let p = write(d.path(), "in2", b"bad\n{\"a\":1}\n{\"a\":2}\n");
    for chunk in ["4", "1M"] {
        let r = run(&["--strict", "--chunk-size", chunk, "head 1", s(&p)], "");
        assert_eq!(r.code, 3, "--chunk-size {chunk}: {}", r.stderr);
        assert_eq!(r.stdout, "");
    }
}

#[test]
fn read_error_after_a_satisfied_head_does_not_matter() {
    let data = sample_events();
    let gz = gzip(&data);
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "cut.gz", &gz[..gz.len() - 10]);
    for chunk in ["64", "1M"] {
        let r = run(&["--chunk-size", chunk, "head 2", s(&p)], "");
        assert_eq!(r.code, 0, "--chunk-size {chunk}: {}", r.stderr);
        assert_eq!(r.stderr, "");
        assert_eq!(r.stdout.lines().count(), 2);
    }
}
