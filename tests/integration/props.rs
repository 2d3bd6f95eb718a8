//! Property tests of the engine's invariants: the fates of the lines add up, the
//! output does not depend on threads or read sizes, and no input makes evq crash.
//! Each case runs the binary, so the case counts stay small.

use crate::common::evq;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;
use std::io::Write;
use std::path::Path;

fn config(cases: u32) -> Config {
    // PROPTEST_CASES raises the count for a deeper run.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

struct Out {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

fn evq_run(args: &[&str], stdin: &[u8]) -> Out {
    let out = evq().args(args).write_stdin(stdin.to_vec()).output().expect("evq runs");
    Out {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Whether `text` is one JSON value, however deep: evq passes events nested up to its own
/// limit, 128 levels, one past what `serde_json` reads by default.
fn is_json(text: &str) -> bool {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    serde::Deserialize::deserialize(&mut de).is_ok_and(|_: serde::de::IgnoredAny| de.end().is_ok())
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Every number under `fates`, summed.
fn sum_fates(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().expect("fates are counts"),
        Value::Object(m) => m.values().map(sum_fates).sum(),
        _ => 0,
    }
}

fn dead_records(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .expect("the dead-letter file exists")
        .lines()
        .map(|l| serde_json::from_str(l).expect("dead letters are JSON lines"))
        .collect()
}

// ---------------------------------------------------------------- fates add up

#[derive(Debug, Clone)]
enum Line {
    Good(u32),
    BadJson(&'static str),
    BadUtf8(Vec<u8>),
    Blank(&'static str),
}

impl Line {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Line::Good(n) => format!("{{\"n\":{n},\"s\":\"é\\u00e9\",\"a\":[1,{{\"b\":null}}]}}").into_bytes(),
            Line::BadJson(t) => t.as_bytes().to_vec(),
            Line::BadUtf8(b) => b.clone(),
            Line::Blank(t) => t.as_bytes().to_vec(),
        }
    }
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        6 => (0u32..1000).prop_map(Line::Good),
        1 => prop::sample::select(vec!["nope", "{\"a\":", "[1,2", "{\"a\":1}}", "{'a':1}", "{\"a\":01}", "\"unterminated"])
            .prop_map(Line::BadJson),
        1 => prop::collection::vec(prop::sample::select(vec![0xffu8, 0xfe, 0xc3, 0x80, 0xed, 0xa0]), 1..4)
            .prop_map(|bad| {
                // 0xff never occurs in UTF-8; what follows varies the error position.
                let mut v = b"{\"s\":\"\xff".to_vec();
                v.extend(bad);
                v.extend(b"\"}");
                Line::BadUtf8(v)
            }),
        1 => prop::sample::select(vec!["", " ", "\t", "  \t "]).prop_map(Line::Blank),
    ]
}

#[derive(Debug, Clone)]
struct Inputs {
    /// Each line with whether it ends in CRLF.
    lines: Vec<(Line, bool)>,
    /// Where files start, as indexes into `lines` (the first is 0).
    cuts: Vec<usize>,
    gzip: Vec<bool>,
    /// Whether each file's last line ends without a newline.
    open_end: Vec<bool>,
}

fn inputs() -> impl Strategy<Value = Inputs> {
    (prop::collection::vec((line(), any::<bool>()), 0..120), 1usize..=4).prop_flat_map(|(lines, files)| {
        let n = lines.len();
        (
            Just(lines),
            prop::collection::vec(0..=n, files - 1),
            prop::collection::vec(any::<bool>(), files),
            prop::collection::vec(any::<bool>(), files),
        )
            .prop_map(|(lines, mut cuts, gzip, open_end)| {
                cuts.push(0);
                cuts.sort_unstable();
                Inputs {
                    lines,
                    cuts,
                    gzip,
                    open_end,
                }
            })
    })
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn fates_add_up_to_lines_read_and_every_bad_line_is_a_dead_letter(
        inp in inputs(),
        chunk in 1usize..300,
        jobs in 1usize..4,
        every_third in any::<bool>(),
    ) {
        let d = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        // What each file should produce: (file, line) of the bad lines, and counts.
        let mut bad = Vec::new();
        let (mut lines_read, mut good, mut kept, mut blank, mut bad_utf8) = (0u64, 0u64, 0u64, 0u64, 0u64);
        for (f, &start) in inp.cuts.iter().enumerate() {
            let end = inp.cuts.get(f + 1).copied().unwrap_or(inp.lines.len());
            let mut data = Vec::new();
            for (i, (l, crlf)) in inp.lines[start..end].iter().enumerate() {
                data.extend(l.bytes());
                let last = i + 1 == end - start;
                // A last line may end without a newline, unless that would make it vanish.
                if !(last && inp.open_end[f] && !l.bytes().is_empty()) {
                    data.extend(if *crlf { &b"\r\n"[..] } else { b"\n" });
                }
            }
            let p = d.path().join(format!("in-{f}.ndjson"));
            std::fs::write(&p, if inp.gzip[f] { gzip(&data) } else { data }).unwrap();
            for (i, (l, _)) in inp.lines[start..end].iter().enumerate() {
                lines_read += 1;
                match l {
                    Line::Good(n) => {
                        good += 1;
                        kept += u64::from(!every_third || n % 3 == 0);
                    }
                    Line::Blank(_) => blank += 1,
                    Line::BadJson(_) => bad.push((s(&p).to_string(), i as u64 + 1, "invalid_json")),
                    Line::BadUtf8(_) => {
                        bad_utf8 += 1;
                        bad.push((s(&p).to_string(), i as u64 + 1, "invalid_utf8"));
                    }
                }
            }
            paths.push(p);
        }
        let dl = d.path().join("dead.ndjson");
        let stats = d.path().join("stats.json");
        let pipeline = if every_third { "where n % 3 == 0" } else { "where true" };
        let (chunk, jobs) = (chunk.to_string(), jobs.to_string());
        let stats_arg = format!("--stats={}", s(&stats));
        let mut args = vec![
            pipeline, "--chunk-size", &chunk, "-j", &jobs, "--dead-letter", s(&dl), &stats_arg,
        ];
        args.extend(paths.iter().map(|p| s(p)));
        let r = evq_run(&args, b"");
        prop_assert_eq!(r.code, Some(0), "{}", r.stderr);
        let st: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        prop_assert_eq!(&st["lines_read"], &Value::from(lines_read));
        prop_assert_eq!(sum_fates(&st["fates"]), lines_read, "{}", st);
        prop_assert_eq!(&st["fates"]["emitted"], &Value::from(kept), "{}", st);
        prop_assert_eq!(&st["fates"]["filtered"], &Value::from(good - kept), "{}", st);
        prop_assert_eq!(&st["fates"]["blank"], &Value::from(blank), "{}", st);
        prop_assert_eq!(&st["fates"]["dead_letter"]["invalid_utf8"], &Value::from(bad_utf8), "{}", st);
        prop_assert_eq!(&st["fates"]["dead_letter"]["invalid_json"], &Value::from(bad.len() as u64 - bad_utf8), "{}", st);
        let out = String::from_utf8(r.stdout).unwrap();
        prop_assert_eq!(out.lines().count() as u64, kept);
        let recs: Vec<(String, u64, String)> = dead_records(&dl)
            .iter()
            .map(|v| (
                v["file"].as_str().unwrap().to_string(),
                v["line"].as_u64().unwrap(),
                v["reason"].as_str().unwrap().to_string(),
            ))
            .collect();
        let want: Vec<(String, u64, String)> = bad.into_iter().map(|(f, l, r)| (f, l, r.to_string())).collect();
        prop_assert_eq!(recs, want);
    }
}

// ---------------------------------------------------------------- same output for every -j and read size

fn event() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (
            prop_oneof![
                (-20i64..40).prop_map(|x| x.to_string()),
                Just("5.5".to_string()),
                Just("1e1".to_string()),
                Just("\"7\"".to_string()),
                Just("null".to_string()),
                Just("18446744073709551615".to_string()),
            ],
            any::<bool>(),
            "[a-z ]{0,30}",
        )
            .prop_map(|(x, z, pad)| if z {
                format!("{{\"x\":{x},\"z\":{{\"k\":[1,2]}},\"pad\":\"{pad}\"}}")
            } else {
                format!("{{\"pad\":\"{pad}\", \"x\" : {x}}}")
            }),
        1 => Just("{\"z\":1}".to_string()),
        1 => Just("not json".to_string()),
        1 => Just(String::new()),
        1 => Just("{\"x\":9}\r".to_string()),
    ]
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn output_is_identical_for_every_thread_count_and_read_size(
        events in prop::collection::vec(event(), 0..200),
        chunk in 1usize..=4096,
        pipeline in prop::sample::select(vec![
            "where x > 5",
            "set y = x * 2 | del z",
            "head 7",
            "tail 3",
            "where x > 5 | head 7",
            "set l = line(), o = offset() | tail 3",
            "count by x",
            "stats count(), sum(x), avg(x), min(x), max(x), p99(x), first(pad), last(pad), distinct(x), values(x) by z",
            "top 3 pad by max(x)",
            "distinct x",
            "sort x desc, pad | head 5",
            "route all big: x > 5, small: x < 5 | count by topic()",
        ]),
    ) {
        let input = events.join("\n");
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("in.ndjson");
        std::fs::write(&p, &input).unwrap();
        let chunk = chunk.to_string();
        let mut runs = Vec::new();
        for (jobs, size) in [("1", "1M"), ("1", chunk.as_str()), ("3", chunk.as_str())] {
            let dl = d.path().join(format!("dead-{jobs}-{size}"));
            let r = evq_run(&[pipeline, "-j", jobs, "--chunk-size", size, "--dead-letter", s(&dl), s(&p)], b"");
            prop_assert_eq!(r.code, Some(0), "{}", r.stderr);
            let dead = std::fs::read(&dl).unwrap();
            runs.push((jobs, size, r.stdout, dead));
        }
        let (_, _, out0, dead0) = &runs[0];
        for (jobs, size, out, dead) in &runs[1..] {
            prop_assert!(
                out == out0,
                "-j {} --chunk-size {}: stdout differs from -j 1:\n{}\nvs\n{}",
                jobs, size, String::from_utf8_lossy(out), String::from_utf8_lossy(out0)
            );
            prop_assert!(dead == dead0, "-j {} --chunk-size {}: dead letters differ", jobs, size);
        }
    }
}

// ---------------------------------------------------------------- any bytes: no crash

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"{}[]\":,.-+eE0123456789 abtrunlfs\\\n\r\t"
        .iter()
        .copied()
        .chain([0x00, 0x7f, 0x80, 0xbf, 0xc3, 0xef, 0xbb, 0xff, 0x1f, 0x8b])
        .collect();
    prop_oneof![
        // Arbitrary bytes.
        prop::collection::vec(any::<u8>(), 0..2000),
        // JSON-ish text with stray bytes.
        prop::collection::vec(prop::sample::select(alphabet), 0..2000),
        // Valid events cut and spliced anywhere, sometimes behind a gzip or zstd magic.
        (
            prop::collection::vec("\\{\"[a-z]{1,3}\":[0-9]{1,4}\\}\n", 0..60),
            prop::collection::vec(any::<u8>(), 0..20),
            prop::sample::select(vec![
                &b""[..],
                b"\x1f\x8b",
                b"\x28\xb5\x2f\xfd",
                b"BZh",
                b"\xef\xbb\xbf"
            ]),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(lines, junk, magic, at)| {
                let mut v = magic.to_vec();
                let text = lines.concat().into_bytes();
                let cut = at.index(text.len() + 1);
                v.extend(&text[..cut]);
                v.extend(junk);
                v.extend(&text[cut..]);
                v
            }),
        // Deep nesting around the limit.
        (100usize..160, any::<bool>()).prop_map(|(n, objects)| {
            let (open, close) = if objects { ("{\"a\":", "}") } else { ("[", "]") };
            format!("{{\"ok\":1}}\n{}1{}\n{{\"ok\":2}}\n", open.repeat(n), close.repeat(n)).into_bytes()
        }),
    ]
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn any_bytes_never_crash_evq_and_fates_still_add_up(
        input in garbage(),
        chunk in 1usize..=512,
        max_line in 8usize..400,
        jobs in 1usize..4,
        pipeline in prop::sample::select(vec![
            "where true",
            "where a > 1 or ok == 1",
            "set y = a * 2 | del b",
            "where . != null",
            "head 3",
            "tail 2",
            "set l = line(), r = raw()",
        ]),
    ) {
        let d = tempfile::tempdir().unwrap();
        let dl = d.path().join("dead.ndjson");
        let stats = d.path().join("stats.json");
        let (chunk, max_line, jobs) = (chunk.to_string(), max_line.to_string(), jobs.to_string());
        let stats_arg = format!("--stats={}", s(&stats));
        let r = evq_run(
            &[
                pipeline, "--chunk-size", &chunk, "--max-line-bytes", &max_line, "-j", &jobs,
                "--dead-letter", s(&dl), &stats_arg,
            ],
            &input,
        );
        prop_assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        prop_assert!(matches!(r.code, Some(0 | 3)), "exit {:?}: {}", r.code, r.stderr);
        for l in String::from_utf8(r.stdout).expect("output is UTF-8").lines() {
            prop_assert!(is_json(l), "output line is not JSON: {:?}", l);
        }
        let st: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        prop_assert_eq!(sum_fates(&st["fates"]), st["lines_read"].as_u64().unwrap(), "{}", st);
        // Every dead letter is recorded with its raw bytes.
        let recs = dead_records(&dl);
        let dead = sum_fates(&st["fates"]["dead_letter"]);
        prop_assert_eq!(recs.len() as u64, dead);
        for v in &recs {
            prop_assert!(v.get("raw").is_some() != v.get("raw_b64").is_some(), "{}", v);
        }
    }

    #[test]
    fn lazy_and_full_parsing_reject_the_same_lines(input in garbage(), chunk in 1usize..=512) {
        let d = tempfile::tempdir().unwrap();
        let mut reasons = Vec::new();
        // `where true` reads no field; `where . != null` parses every event whole.
        for pipeline in ["where true", "where . != null"] {
            let dl = d.path().join("dead.ndjson");
            let r = evq_run(&[pipeline, "--chunk-size", &chunk.to_string(), "--dead-letter", s(&dl)], &input);
            prop_assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
            prop_assert!(matches!(r.code, Some(0 | 3)), "exit {:?}: {}", r.code, r.stderr);
            let recs: Vec<(u64, String, String)> = dead_records(&dl)
                .iter()
                .map(|v| (
                    v["line"].as_u64().unwrap(),
                    v["reason"].as_str().unwrap().to_string(),
                    v["error"].as_str().unwrap().to_string(),
                ))
                .collect();
            reasons.push(recs);
        }
        prop_assert_eq!(&reasons[0], &reasons[1]);
    }
}

// ---------------------------------------------------------------- lines dropped unread

/// Lines for a `where level == "error"`: events of either level, spelled with escapes or
/// not, other fields holding the text, and lines that are no event (cut, not UTF-8, too
/// deep, a lone surrogate).
fn level_lines() -> impl Strategy<Value = Vec<u8>> {
    let line = prop::sample::select(vec![
        r#"{"level":"error","n":1}"#.as_bytes().to_vec(),
        br#"{"level":"info","n":2}"#.to_vec(),
        br#"{"level":"err\u006fr"}"#.to_vec(),
        br#"{"level":"info","msg":"error"}"#.to_vec(),
        br#"{"msg":"\"error\""}"#.to_vec(),
        br#"{"level":"info","n":"#.to_vec(),
        br#"{"level":"info","n":01}"#.to_vec(),
        b"{\"level\":\"info\xff\"}".to_vec(),
        br#"{"level":"info","s":"\ud800"}"#.to_vec(),
        format!("{}{}", "[".repeat(129), "]".repeat(129)).into_bytes(),
        br#"["error"]"#.to_vec(),
        br#"{"level":"info"} x"#.to_vec(),
        b"   ".to_vec(),
    ]);
    prop::collection::vec(line, 0..80).prop_map(|lines| lines.join(&b'\n'))
}

proptest! {
    #![proptest_config(config(32))]

    /// A line without the text a `where` compares with is dropped before its fields are
    /// read: output, fates, dead letters and warnings are those of a condition read in full.
    #[test]
    fn lines_dropped_unread_end_as_lines_read_in_full_do(
        input in level_lines(),
        chunk in 1usize..=256,
        jobs in 1usize..3,
    ) {
        let d = tempfile::tempdir().unwrap();
        let mut runs = Vec::new();
        for pipeline in [r#"where level == "error""#, r#"where (level == "error") == true"#] {
            let (dl, stats) = (d.path().join("dead.ndjson"), d.path().join("stats.json"));
            let (chunk, jobs) = (chunk.to_string(), jobs.to_string());
            let stats_arg = format!("--stats={}", s(&stats));
            let r = evq_run(
                &[pipeline, "--chunk-size", &chunk, "-j", &jobs, "--dead-letter", s(&dl), &stats_arg],
                &input,
            );
            prop_assert!(matches!(r.code, Some(0 | 3)), "exit {:?}: {}", r.code, r.stderr);
            let st: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
            let stats = (st["lines_read"].clone(), st["fates"].clone());
            let warnings: Vec<String> = r.stderr.lines().filter(|l| l.starts_with("evq:")).map(String::from).collect();
            runs.push((r.stdout, stats, warnings, std::fs::read(&dl).unwrap()));
        }
        prop_assert_eq!(&runs[0], &runs[1]);
    }
}

/// Found by `lazy_and_full_parsing_reject_the_same_lines`: `serde_json` reports a cut number
/// differently when it skips the value than when it builds it.
#[test]
fn a_line_cut_inside_a_number_gets_one_message_whatever_the_pipeline() {
    let d = tempfile::tempdir().unwrap();
    let mut errors = Vec::new();
    for pipeline in ["where true", "where x == 1", "where . != null"] {
        let dl = d.path().join("dead.ndjson");
        let r = evq_run(&[pipeline, "--dead-letter", s(&dl)], b"{\"x\":1}\n[ -\n{\"x\":-\n");
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let recs = dead_records(&dl);
        errors.push(
            recs.iter()
                .map(|v| v["error"].as_str().unwrap().to_string())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(errors[0].len(), 2);
    assert_eq!(errors[0], errors[1]);
    assert_eq!(errors[0], errors[2]);
}

/// Found by `any_bytes_never_crash_evq_and_fates_still_add_up`: a value nested as deep as
/// evq accepts is output whole, as JSON that reads back at that depth.
#[test]
fn a_value_nested_to_the_limit_is_output_whole() {
    let deep = format!("{}1{}", "[".repeat(128), "]".repeat(128));
    for pipeline in ["where true", "where . != null"] {
        let r = evq_run(&[pipeline], format!("{{\"ok\":1}}\n{deep}\n").as_bytes());
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let out = String::from_utf8(r.stdout).unwrap();
        assert_eq!(out, format!("{{\"ok\":1}}\n{deep}\n"));
        assert!(out.lines().all(is_json));
    }
}
