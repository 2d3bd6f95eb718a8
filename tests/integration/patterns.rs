//! The per-event pattern stages (SPEC §4): `explode` (splitter), `sample`, `join` (enricher)
//! and `validate` (JSON Schema), their fates in `--stats`, and their promises: the same output
//! for every `-j` and read-chunk size, reproducible sampling, files read before any input.

use crate::common::{Run, run_in};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Runs `args` with `--stats=FILE` added; returns the run and the parsed report.
fn with_stats(dir: &Path, args: &[&str], stdin: &str) -> (Run, Value) {
    let stats = dir.join("stats.json");
    let flag = format!("--stats={}", stats.display());
    let mut all = args.to_vec();
    all.push(&flag);
    let r = run_in(dir, &all, stdin);
    let text = fs::read_to_string(&stats).unwrap_or_else(|e| panic!("no stats ({e}): {}", r.stderr));
    (r, serde_json::from_str(&text).expect("the report is JSON"))
}

/// The sum of a report's fates (dead letters by reason included).
fn fate_sum(fates: &Value) -> u64 {
    fates
        .as_object()
        .expect("fates are an object")
        .values()
        .map(|v| match v {
            Value::Object(m) => m.values().filter_map(Value::as_u64).sum(),
            v => v.as_u64().expect("a count"),
        })
        .sum()
}

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// `n` orders, each with 0–3 items; every 7th has no array at all.
fn orders(n: usize) -> String {
    (0..n)
        .map(|i| match i % 7 {
            6 => format!("{{\"order\":{i},\"items\":\"none\"}}\n"),
            k => {
                let items: Vec<String> = (0..k % 4).map(|j| format!("{{\"sku\":\"s{j}\",\"q\":{j}}}")).collect();
                format!(
                    "{{\"order\":{i},\"items\":[{}],\"user\":{}}}\n",
                    items.join(","),
                    i % 13
                )
            }
        })
        .collect()
}

/// Copies and join misses count only for the events the run took: those of the lines a `head`
/// skipped were made by a worker that read ahead, but never went anywhere.
#[test]
fn copies_and_join_misses_after_a_satisfied_head_are_not_counted() {
    let dir = tmp();
    fs::write(dir.path().join("lookup.ndjson"), "{\"id\":1,\"name\":\"one\"}\n").expect("lookup written");
    let input: String = (0..5000).map(|k| format!("{{\"k\":{k},\"tags\":[1,2,3]}}\n")).collect();
    for jobs in ["1", "2"] {
        for (pipeline, copies, unmatched) in [
            ("route all x: true, y: true | head 3", 1, 0),
            ("explode tags | head 5", 3, 0),
            ("join \"lookup.ndjson\" on k = id | head 2", 0, 1),
        ] {
            let (r, stats) = with_stats(dir.path(), &["-j", jobs, pipeline], &input);
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert_eq!(
                (&stats["copies"], &stats["unmatched_join"]),
                (&copies.into(), &unmatched.into()),
                "{pipeline} -j {jobs}"
            );
            assert_eq!(
                fate_sum(&stats["fates"]),
                stats["lines_read"].as_u64().expect("a count")
            );
        }
    }
}

#[test]
fn explode_makes_one_event_per_element_and_counts_the_copies() {
    let dir = tmp();
    let input = "{\"id\":1,\"items\":[\"a\",\"b\",\"c\"],\"z\":1.0}\n{\"id\":2,\"items\":[]}\n\n{\"id\":3,\"items\":{\"k\":1}}\n{\"id\":4}\n";
    let (r, stats) = with_stats(dir.path(), &["explode items"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"id\":1,\"items\":\"a\",\"z\":1.0}\n{\"id\":1,\"items\":\"b\",\"z\":1.0}\n{\"id\":1,\"items\":\"c\",\"z\":1.0}\n"
    );
    assert_eq!(stats["fates"]["emitted"], 1);
    assert_eq!(stats["fates"]["exploded_empty"], 3, "empty array, an object, no field");
    assert_eq!(stats["fates"]["blank"], 1);
    assert_eq!(stats["copies"], 2);
    assert_eq!(stats["events_out"], 3);
    assert_eq!(
        fate_sum(&stats["fates"]),
        stats["lines_read"].as_u64().expect("a count")
    );
}

#[test]
fn explode_as_name_moves_the_element_and_removes_the_array() {
    let r = run_in(
        Path::new("."),
        &["explode order.items as item | keep order, item"],
        "{\"order\":{\"id\":9,\"items\":[1,{\"x\":2}]}}\n",
    );
    assert_eq!(
        r.stdout,
        "{\"order\":{\"id\":9},\"item\":1}\n{\"order\":{\"id\":9},\"item\":{\"x\":2}}\n"
    );
}

#[test]
fn explode_gives_the_same_output_and_counts_for_every_thread_count_and_chunk_size() {
    let dir = tmp();
    let input = orders(3000);
    for pipeline in [
        "explode items",
        "explode items as item | where item.q > 0",
        "explode items | count by items.sku",
        "explode items | head 100",
    ] {
        let (reference, ref_stats) = with_stats(dir.path(), &["-j", "1", pipeline], &input);
        assert_eq!(reference.code, 0, "{pipeline}: {}", reference.stderr);
        assert!(!reference.stdout.is_empty(), "{pipeline}");
        for (j, chunk) in [("2", "64"), ("2", "1000"), ("2", "1M"), ("1", "300")] {
            let (r, stats) = with_stats(dir.path(), &["-j", j, "--chunk-size", chunk, pipeline], &input);
            assert_eq!(r.stdout, reference.stdout, "{pipeline} -j {j} --chunk-size {chunk}");
            let read = stats["lines_read"].as_u64().expect("a count");
            assert_eq!(
                fate_sum(&stats["fates"]),
                read,
                "{pipeline} -j {j} --chunk-size {chunk}"
            );
            // `head` stops reading early: how much was read depends on the chunks.
            if !pipeline.contains("head") {
                let at = format!("{pipeline} -j {j} --chunk-size {chunk}");
                assert_eq!(stats["fates"], ref_stats["fates"], "{at}");
                assert_eq!(stats["copies"], ref_stats["copies"], "{at}");
            }
        }
        if !pipeline.contains("head") {
            assert_eq!(fate_sum(&ref_stats["fates"]), 3000, "{pipeline}");
        }
    }
}

#[test]
fn per_event_stages_run_after_an_ordered_stage_too() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stats = dir.path().join("stats.json");
    let arg = format!("--stats={}", stats.display());
    let input = "{\"id\":2,\"items\":[\"c\"]}\n{\"id\":1,\"items\":[\"a\",\"b\"]}\n{\"id\":3,\"items\":[]}\n";
    let r = run_in(Path::new("."), &[&arg, "sort id | explode items | sample 100%"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"id\":1,\"items\":\"a\"}\n{\"id\":1,\"items\":\"b\"}\n{\"id\":2,\"items\":\"c\"}\n"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).expect("a report")).expect("JSON");
    assert_eq!(report["fates"]["emitted"], 2);
    assert_eq!(report["fates"]["exploded_empty"], 1);
    assert_eq!(report["copies"], 1);
    assert_eq!(fate_sum(&report["fates"]), 3);
}

/// `n` events with a user key that repeats every `users` events.
fn events(n: usize, users: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"i\":{i},\"user\":{{\"id\":{}}}}}\n", i % users))
        .collect()
}

fn ids(out: &str, field: &str) -> Vec<u64> {
    lines(out)
        .iter()
        .map(|v| v.pointer(field).and_then(Value::as_u64).expect("a number"))
        .collect()
}

#[test]
fn sample_keeps_about_the_rate_and_counts_the_rest() {
    let dir = tmp();
    let input = events(10_000, 1000);
    let (r, stats) = with_stats(dir.path(), &["sample 10%"], &input);
    let kept = r.stdout.lines().count() as u64;
    assert!((850..1150).contains(&kept), "{kept} of 10000 kept at 10%");
    assert_eq!(stats["fates"]["sampled_out"], 10_000 - kept);
    assert_eq!(fate_sum(&stats["fates"]), 10_000);
    let r = run_in(dir.path(), &["sample 1/200 | count"], &input);
    let n = lines(&r.stdout)[0]["count"].as_u64().expect("a count");
    assert!((20..=85).contains(&n), "{n} of 10000 kept at 1/200");
}

#[test]
fn sample_is_reproducible_for_every_thread_count_and_the_seed_changes_it() {
    let input = events(5000, 1000);
    let run = |args: &[&str]| run_in(Path::new("."), args, &input).stdout;
    let reference = run(&["-j", "1", "sample 0.5%"]);
    assert!(!reference.is_empty());
    assert_eq!(run(&["-j", "2", "--chunk-size", "100", "sample 0.5%"]), reference);
    assert_eq!(run(&["sample 0.5%", "--seed", "0"]), reference);
    let seeded = run(&["-j", "2", "sample 0.5%", "--seed", "42"]);
    assert_ne!(seeded, reference, "another seed keeps other lines");
    assert_eq!(
        run(&["-j", "1", "--chunk-size", "64", "sample 0.5%", "--seed", "42"]),
        seeded
    );
}

#[test]
fn sample_picks_each_record_of_one_line_and_each_copy_on_its_own() {
    let array = format!(
        "[{}]\n",
        (0..1000)
            .map(|i| format!("{{\"i\":{i}}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let same = format!("{{\"a\":[{}]}}\n", vec!["\"x\""; 400].join(","));
    for seed in ["0", "1", "2"] {
        let r = run_in(Path::new("."), &["-i", "json", "--seed", seed, "sample 10%"], &array);
        let kept = r.stdout.lines().count();
        assert!(
            (50..=150).contains(&kept),
            "seed {seed}: {kept} of 1000 records of one line kept"
        );
        let r = run_in(Path::new("."), &["--seed", seed, "explode a | sample 50%"], &same);
        let kept = r.stdout.lines().count();
        assert!(
            (120..=280).contains(&kept),
            "seed {seed}: {kept} of 400 equal copies kept"
        );
        let j2 = run_in(
            Path::new("."),
            &["-j", "2", "--seed", seed, "explode a | sample 50%"],
            &same,
        );
        assert_eq!(j2.stdout, r.stdout);
    }
}

#[test]
fn sample_by_keeps_whole_keys_the_same_across_threads_and_runs() {
    let input = events(10_000, 500);
    let run = |args: &[&str]| run_in(Path::new("."), args, &input);
    let reference = run(&["-j", "1", "sample 20% by user.id"]);
    let kept_keys: BTreeSet<u64> = ids(&reference.stdout, "/user/id").into_iter().collect();
    assert!((60..140).contains(&kept_keys.len()), "{} of 500 keys", kept_keys.len());
    let mut per_key: BTreeMap<u64, usize> = BTreeMap::new();
    for k in ids(&reference.stdout, "/user/id") {
        *per_key.entry(k).or_default() += 1;
    }
    assert!(
        per_key.values().all(|n| *n == 20),
        "every kept key keeps all 20 of its events"
    );
    for args in [
        &["-j", "2", "sample 20% by user.id"][..],
        &["-j", "2", "--chunk-size", "200", "sample 20% by user.id"][..],
        &["sample 20% by user.id"][..],
    ] {
        assert_eq!(run(args).stdout, reference.stdout, "{args:?}");
    }
    let other = run(&["sample 20% by user.id", "--seed", "9"]);
    let other_keys: BTreeSet<u64> = ids(&other.stdout, "/user/id").into_iter().collect();
    assert_ne!(other_keys, kept_keys, "--seed changes the kept keys");
}

#[test]
fn sample_by_treats_equal_numbers_as_one_key() {
    let input: String = (0..100)
        .flat_map(|k| {
            [
                format!("{{\"k\":{k}}}\n"),
                format!("{{\"k\":{k}.0}}\n"),
                format!("{{\"k\":{k}e0}}\n"),
            ]
        })
        .collect();
    let out = run_in(Path::new("."), &["sample 50% by k"], &input).stdout;
    let mut forms: BTreeMap<u64, usize> = BTreeMap::new();
    for v in lines(&out) {
        *forms.entry(v["k"].as_f64().expect("a number") as u64).or_default() += 1;
    }
    assert!((20..80).contains(&forms.len()), "{} of 100 keys kept", forms.len());
    assert!(
        forms.values().all(|n| *n == 3),
        "1, 1.0 and 1e0 are kept together: {forms:?}"
    );
}

#[test]
fn bad_sampling_rates_are_usage_errors_with_a_caret() {
    for rate in ["0%", "150%", "3/2", "1/0", "ten%"] {
        let r = run_in(Path::new("."), &[&format!("sample {rate}")], "{}\n");
        assert_eq!(r.code, 2, "{rate}: {}", r.stderr);
        assert!(r.stderr.contains('^'), "{rate}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).expect("a writable temporary directory");
}

#[test]
fn join_enriches_from_ndjson_and_counts_the_unmatched() {
    let dir = tmp();
    write(
        dir.path(),
        "users.ndjson",
        "{\"id\":1,\"name\":\"ann\",\"plan\":\"pro\"}\n{\"id\":2,\"name\":\"bob\"}\n{\"id\":1,\"name\":\"dup\"}\n",
    );
    let input = "{\"user\":1,\"plan\":\"free\"}\n{\"user\":3,\"n\":1.50}\n{\"user\":2.0}\n{\"x\":1}\n";
    let (r, stats) = with_stats(dir.path(), &["-j", "2", "join \"users.ndjson\" on user = id"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"user\":1,\"plan\":\"pro\",\"id\":1,\"name\":\"ann\"}\n{\"user\":3,\"n\":1.50}\n{\"user\":2.0,\"id\":2,\"name\":\"bob\"}\n{\"x\":1}\n",
        "first record wins, its fields overwrite, unmatched events pass unchanged"
    );
    assert_eq!(stats["unmatched_join"], 2);
    assert_eq!(stats["fates"]["emitted"], 4);
    let r = run_in(
        dir.path(),
        &["join \"users.ndjson\" on user = id as u | keep u.name"],
        "{\"user\":2}\n",
    );
    assert_eq!(r.stdout, "{\"u\":{\"name\":\"bob\"}}\n");
}

#[test]
fn join_reads_csv_lookups_with_typed_numbers() {
    let dir = tmp();
    write(
        dir.path(),
        "hosts.csv",
        "ip,dc,rack\n10.0.0.1,fra,7\n10.0.0.2,\"ams, north\",12\n",
    );
    let r = run_in(
        dir.path(),
        &["join \"hosts.csv\" on ip"],
        "{\"ip\":\"10.0.0.2\",\"ms\":5}\n{\"ip\":\"10.0.0.9\"}\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"ip\":\"10.0.0.2\",\"ms\":5,\"dc\":\"ams, north\",\"rack\":12}\n{\"ip\":\"10.0.0.9\"}\n"
    );
}

#[test]
fn join_files_that_cannot_be_read_stop_the_run_before_any_input() {
    let dir = tmp();
    write(dir.path(), "bad.ndjson", "{\"id\":1}\n{\"id\":\n");
    // Rows of other lengths are read as -i csv reads them; a row that is not UTF-8 is not.
    std::fs::write(dir.path().join("bad.csv"), b"id,name\n1,a\n\n2,\xff\n").expect("write");
    for (pipeline, says) in [
        ("join \"missing.ndjson\" on id", "missing.ndjson"),
        ("join \"bad.ndjson\" on id", "bad.ndjson:2"),
        ("join \"bad.csv\" on id", "bad.csv:4: the row is not valid UTF-8"),
        // A file that never ends is read up to --memory-limit, not forever.
        ("join \"/dev/zero\" on id", "larger than 1 MiB"),
        ("validate \"/dev/zero\"", "larger than 1 MiB"),
    ] {
        let r = run_in(dir.path(), &["--memory-limit", "1M", pipeline], "{\"id\":1}\n");
        assert_eq!(r.code, 2, "{pipeline}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{pipeline}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{pipeline}");
    }
}

const SCHEMA: &str = r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
  "required":["id"],"properties":{"id":{"type":"integer"},"user":{"properties":{"age":{"minimum":0}}}}}"#;

#[test]
fn validate_makes_schema_dead_letters_with_the_failing_pointer() {
    let dir = tmp();
    write(dir.path(), "event.schema.json", SCHEMA);
    let input = "{\"id\":1,\"user\":{\"age\":30}}\n{\"id\":2,\"user\":{\"age\":-1}}\n{\"user\":{}}\n{\"id\":3.5}\n";
    let (r, stats) = with_stats(
        dir.path(),
        &["validate \"event.schema.json\"", "--dead-letter", "dead.ndjson"],
        input,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout, "{\"id\":1,\"user\":{\"age\":30}}\n",
        "valid events pass unchanged"
    );
    assert_eq!(stats["fates"]["dead_letter"]["schema"], 3);
    let dead = lines(&fs::read_to_string(dir.path().join("dead.ndjson")).expect("dead letters written"));
    let got: Vec<(u64, &str, &str)> = dead
        .iter()
        .map(|d| {
            assert_eq!(d["reason"], "schema");
            let error = d["error"].as_str().expect("an error");
            (
                d["line"].as_u64().expect("a line"),
                error.split(": ").next().unwrap_or(""),
                d["raw"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (2, "/user/age", "{\"id\":2,\"user\":{\"age\":-1}}"),
            (3, "(root)", "{\"user\":{}}"),
            (4, "/id", "{\"id\":3.5}")
        ]
    );
    assert!(
        dead[0]["error"].as_str().unwrap_or("").contains("minimum"),
        "{}",
        dead[0]
    );
}

#[test]
fn validate_refuses_a_bad_or_missing_schema_before_any_input() {
    let dir = tmp();
    write(dir.path(), "bad-type.json", r#"{"type":"whatever"}"#);
    write(dir.path(), "not-json.json", "{\"type\":");
    for (pipeline, says) in [
        ("validate \"bad-type.json\"", "not a valid JSON Schema"),
        ("validate \"not-json.json\"", "not valid JSON"),
        ("validate \"nowhere.json\"", "nowhere.json"),
    ] {
        let r = run_in(dir.path(), &[pipeline], "{\"id\":1}\n");
        assert_eq!(r.code, 2, "{pipeline}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{pipeline}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

#[test]
fn the_fates_of_all_four_stages_add_up_to_the_lines_read() {
    let dir = tmp();
    write(
        dir.path(),
        "event.schema.json",
        r#"{"properties":{"items":{"type":"object"}}}"#,
    );
    write(dir.path(), "skus.csv", "sku,price\ns0,1\ns1,2\n");
    let mut input = orders(2000);
    input.push_str("not json\n\n");
    for order in 5000..5030 {
        writeln!(input, "{{\"order\":{order},\"items\":[\"not an object\"]}}").unwrap();
    }
    let pipeline = "explode items | sample 60% by order | join \"skus.csv\" on items.sku = sku as price \
                    | validate \"event.schema.json\" | where order != 5";
    let mut reports = Vec::new();
    for j in ["1", "2"] {
        let (r, stats) = with_stats(dir.path(), &["-j", j, "--chunk-size", "500", pipeline], &input);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let fates = &stats["fates"];
        assert_eq!(
            fate_sum(fates),
            stats["lines_read"].as_u64().expect("a count"),
            "{stats}"
        );
        for f in ["exploded_empty", "sampled_out", "emitted", "blank"] {
            assert!(fates[f].as_u64().expect("a count") > 0, "{f}: {stats}");
        }
        assert!(fates["dead_letter"]["schema"].as_u64().expect("a count") > 0, "{stats}");
        assert!(stats["unmatched_join"].as_u64().expect("a count") > 0, "{stats}");
        reports.push((r.stdout, stats["fates"].clone(), stats["copies"].clone()));
    }
    assert_eq!(reports[0], reports[1], "-j 1 and -j 2 agree");
}

#[test]
fn explain_lists_the_stages_and_their_fates() {
    let dir = tmp();
    write(dir.path(), "s.json", "{}");
    write(dir.path(), "u.ndjson", "{\"id\":1}\n");
    let r = run_in(
        dir.path(),
        &[
            "--explain",
            "explode items | sample 1% | join \"u.ndjson\" on id | validate \"s.json\"",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in ["exploded_empty", "sampled_out", "unmatched_join", "schema"] {
        assert!(r.stdout.contains(want), "{want}: {}", r.stdout);
    }
}

/// An event with an array of 0–3 numbers under `a`, sometimes without one; or a bad line.
fn pattern_event() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        6 => (prop::collection::vec(-5i64..20, 0..4), 0u8..6, "[a-z]{0,12}").prop_map(|(a, k, pad)| {
            let a: Vec<String> = a.iter().map(ToString::to_string).collect();
            format!("{{\"k\":{k},\"a\":[{}],\"pad\":\"{pad}\"}}", a.join(","))
        }),
        1 => Just("{\"k\":1.0,\"a\":\"none\"}".to_string()),
        1 => Just("not json".to_string()),
        1 => Just(String::new()),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 24, failure_persistence: None, ..Default::default() })]

    #[test]
    fn pattern_stages_give_the_same_output_and_fates_for_every_thread_count_and_read_size(
        events in proptest::collection::vec(pattern_event(), 0..150),
        chunk in 1usize..=2048,
        pipeline in proptest::sample::select(vec![
            "explode a",
            "explode a as v | where v > 3",
            "sample 40%",
            "sample 1/3 by k | explode a",
            "explode a | sample 50% by a | count by k",
            "explode a as v | validate \"schema.json\" | route all big: v > 10, odd: v % 2 == 1",
            "join \"lookup.ndjson\" on k as extra | explode a",
        ]),
    ) {
        let dir = tmp();
        write(dir.path(), "schema.json", r#"{"properties":{"v":{"maximum":15}}}"#);
        write(dir.path(), "lookup.ndjson", "{\"k\":1,\"name\":\"one\"}\n{\"k\":3,\"name\":\"three\"}\n");
        let input = events.join("\n");
        let chunk = chunk.to_string();
        let mut runs = Vec::new();
        for (j, size) in [("1", "1M"), ("1", chunk.as_str()), ("3", chunk.as_str())] {
            let dead = format!("dead-{j}-{size}.ndjson");
            let (r, stats) = with_stats(dir.path(), &["-j", j, "--chunk-size", size, "--dead-letter", &dead, pipeline], &input);
            proptest::prop_assert_eq!(r.code, 0, "{}", r.stderr);
            let read = stats["lines_read"].as_u64().unwrap_or(0);
            proptest::prop_assert_eq!(fate_sum(&stats["fates"]), read, "{}", stats);
            let dead = fs::read_to_string(dir.path().join(&dead)).unwrap_or_default();
            runs.push((r.stdout, dead, stats["fates"].clone(), stats["copies"].clone(), stats["unmatched_join"].clone()));
        }
        for run in &runs[1..] {
            proptest::prop_assert_eq!(run, &runs[0], "{} differs across -j / --chunk-size", pipeline);
        }
    }
}

/// A compressed lookup file is read as inputs are, and `.csv.gz` is CSV.
#[test]
fn join_reads_a_compressed_lookup_file() {
    use std::io::Write as _;
    let d = tempfile::tempdir().unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"id,name\n1,alice\n").unwrap();
    std::fs::write(d.path().join("users.csv.gz"), e.finish().unwrap()).unwrap();
    let file = d.path().join("users.csv.gz");
    let pipeline = format!("join \"{}\" on id", file.display());
    let r = crate::common::run(&[&pipeline], "{\"id\":1}\n{\"id\":2}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"id\":1,\"name\":\"alice\"}\n{\"id\":2}\n");
}
