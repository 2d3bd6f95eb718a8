//! Group keys by value, percentiles over any range, and the group limit: `count`, `stats`,
//! `top` and `distinct`.

use crate::common::run;
use serde_json::Value;

fn rows(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect()
}

#[test]
fn numbers_group_by_value_and_print_the_first_seen_text() {
    let input = "{\"k\":1.0}\n{\"k\":1}\n{\"k\":\"1\"}\n{\"k\":1E0}\n{\"k\":2}\n{\"k\":10e-1}\n";
    let r = run(&["count by k"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"k\":1.0,\"count\":4}\n{\"k\":\"1\",\"count\":1}\n{\"k\":2,\"count\":1}\n"
    );
}

#[test]
fn integers_beyond_2_53_stay_distinct_groups() {
    let input = "{\"k\":9007199254740993}\n{\"k\":9007199254740992}\n{\"k\":9007199254740993.0}\n\
                 {\"k\":18446744073709551615}\n{\"k\":18446744073709551616}\n";
    let r = run(&["count by k"], input);
    assert_eq!(
        r.stdout,
        "{\"k\":9007199254740993,\"count\":2}\n{\"k\":9007199254740992,\"count\":1}\n\
         {\"k\":18446744073709551615,\"count\":1}\n{\"k\":18446744073709551616,\"count\":1}\n"
    );
}

#[test]
fn distinct_top_and_distinct_count_compare_numbers_by_value() {
    let input = "{\"k\":1,\"n\":[1.0]}\n{\"k\":1.0,\"n\":[1]}\n{\"k\":\"1\",\"n\":[2]}\n{\"k\":1e0,\"n\":[1e0]}\n";
    assert_eq!(run(&["distinct k"], input).stdout, "{\"k\":1}\n{\"k\":\"1\"}\n");
    assert_eq!(run(&["distinct n"], input).stdout, "{\"n\":[1.0]}\n{\"n\":[2]}\n");
    assert_eq!(run(&["top 1 k"], input).stdout, "{\"k\":1,\"count\":3}\n");
    assert_eq!(
        run(&["stats distinct(k), values(k)"], input).stdout,
        "{\"distinct_k\":2,\"values_k\":[1,\"1\"]}\n"
    );
}

#[test]
fn multi_key_groups_and_windows_compare_numbers_by_value() {
    let input = "{\"a\":1,\"b\":\"x\",\"ts\":60}\n{\"a\":1.0,\"b\":\"x\",\"ts\":61}\n{\"a\":1,\"b\":\"y\",\"ts\":62}\n\
                 {\"a\":100,\"b\":\"x\",\"ts\":125}\n{\"a\":1e2,\"b\":\"x\",\"ts\":126}\n";
    let r = run(&["count by a, b every 1m"], input);
    let got: Vec<(i64, String)> = rows(&r.stdout)
        .iter()
        .map(|row| {
            (
                row["count"].as_i64().unwrap_or(-1),
                format!("{}/{}", row["a"], row["b"]),
            )
        })
        .collect();
    assert_eq!(
        got,
        [(2, "1/\"x\"".into()), (1, "1/\"y\"".into()), (2, "100/\"x\"".into())]
    );
}

#[test]
fn a_huge_value_does_not_move_the_median() {
    let mut input: String = (1..=1000).map(|i| format!("{{\"x\":{i}}}\n")).collect();
    input.push_str("{\"x\":1e30}\n");
    let r = run(&["stats p50(x), p99(x), max(x)"], &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let row = &rows(&r.stdout)[0];
    // Nearest rank 501 and 991 of 1001; answers are values that occurred, within 1%.
    let p50 = row["p50_x"].as_i64().expect("an integer that occurred");
    assert!((496..=506).contains(&p50), "{p50}");
    let p99 = row["p99_x"].as_i64().expect("an integer that occurred");
    assert!((981..=1000).contains(&p99), "{p99}");
}

#[test]
fn percentiles_of_negatives_zeros_and_extremes() {
    let input = "{\"x\":-5}\n{\"x\":-0.0}\n{\"x\":0}\n{\"x\":5e-324}\n{\"x\":-1e300}\n{\"x\":1.7976931348623157e308}\n{\"x\":-2.5}\n";
    let r = run(&["stats percentile(x, 0), p50(x), percentile(x, 30), p90(x)"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let row = &rows(&r.stdout)[0];
    let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
    // Sorted: -1e300, -5, -2.5, -0.0, 0, 5e-324, 1.79e308.
    assert_eq!(f("p0_x"), -1e300);
    assert_eq!(f("p30_x"), -2.5);
    assert_eq!(f("p50_x"), 0.0);
    assert_eq!(f("p90_x"), 1.7976931348623157e308);
}

#[test]
fn groups_are_identical_for_every_thread_count_and_chunk_size() {
    let keys = [
        "1",
        "1.0",
        "\"1\"",
        "2e0",
        "2",
        "9007199254740993",
        "9007199254740992",
        "0.5",
        "5e-1",
    ];
    let input: String = (0..3000)
        .map(|i| {
            format!(
                "{{\"k\":{},\"v\":{},\"ts\":{}}}\n",
                keys[(i * 7) % keys.len()],
                (i * 37) % 1001,
                1_767_225_600 + i * 3
            )
        })
        .collect();
    for pipeline in [
        "count by k",
        "distinct k",
        "top 3 k by p50(v)",
        "stats count(), p90(v), distinct(v), values(k) by k every 2m",
    ] {
        let reference = run(&["-j", "1", pipeline], &input);
        assert_eq!(reference.code, 0, "{pipeline}: {}", reference.stderr);
        for (j, chunk) in [("2", "1K"), ("2", "333"), ("3", "64K")] {
            let r = run(&["-j", j, "--chunk-size", chunk, pipeline], &input);
            assert_eq!(r.stdout, reference.stdout, "{pipeline}: -j {j} --chunk-size {chunk}");
        }
    }
}

#[test]
fn streaming_windows_keep_numbers_grouped_by_value() {
    let input = "{\"k\":1,\"ts\":0}\n{\"k\":1.0,\"ts\":10}\n{\"k\":1,\"ts\":70}\n{\"k\":1e0,\"ts\":200}\n";
    let r = run(&["--lateness", "0s", "count by k every 1m"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let counts: Vec<i64> = rows(&r.stdout)
        .iter()
        .map(|row| row["count"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(counts, [2, 1, 1]);
}

#[test]
fn streaming_windows_count_only_the_groups_they_still_hold_against_max_groups() {
    // Two groups per window: window 0 is emitted before window 1's first group is added.
    let input = "{\"a\":1,\"ts\":0}\n{\"a\":2,\"ts\":0}\n{\"a\":1,\"ts\":1}\n{\"a\":2,\"ts\":1}\n";
    let r = run(&["--max-groups", "2", "--lateness", "0s", "count by a every 1s"], input);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(rows(&r.stdout).len(), 4);
    // One too many in a window: the windows before it are out, and the error is said once.
    let input = "{\"a\":1,\"ts\":0}\n{\"a\":2,\"ts\":1}\n{\"a\":3,\"ts\":1}\n";
    let r = run(&["--max-groups", "1", "--lateness", "0s", "count by a every 1s"], input);
    assert_eq!(r.code, 3);
    assert_eq!(rows(&r.stdout).len(), 1, "{}", r.stdout);
    assert_eq!(r.stderr.matches("more than 1 groups").count(), 1, "{}", r.stderr);
}
