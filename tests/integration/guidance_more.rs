//! End-of-run warnings, continued: fields never seen that ordered stages (`sort`, `head`,
//! `dedupe`…), `to` templates and `--format` read; comparisons in the first condition of an
//! `if` and in lambdas; two fields compared whose types never matched. Each with the text,
//! the exit code, `-q`, and the cases that must stay quiet.

use crate::common::{run, run_in};

const EVENTS: &str = "{\"level\":\"error\",\"msg\":\"a\",\"service\":\"api\"}\n\
                      {\"level\":\"info\",\"msg\":\"b\",\"service\":\"db\"}\n\
                      {\"level\":\"error\",\"msg\":\"c\",\"service\":\"api\"}\n";

const LEVLE: &str = "evq: warning: field \"levle\" was not in any of 3 events; did you mean \"level\"?\n";

#[test]
fn ordered_stages_that_read_input_fields_warn_for_a_field_never_seen() {
    for src in [
        "sort levle",
        "head 5 | count by levle",
        "sort msg | where levle == \"x\"",
        "dedupe by levle",
        "tail 2 by levle",
        "sample 100% by levle | sort msg desc",
    ] {
        let r = run(&[src], EVENTS);
        assert_eq!((r.code, r.stderr.as_str()), (0, LEVLE), "`{src}`");
    }
    let r = run(&["head 5 | count by levle"], EVENTS);
    assert_eq!(r.stdout, "{\"levle\":null,\"count\":3}\n");
    let r = run(&["-q", "sort levle"], EVENTS);
    assert_eq!((r.code, r.stdout.lines().count(), r.stderr.as_str()), (0, 3, ""));
}

#[test]
fn ordered_stages_after_a_stage_that_makes_fields_or_a_field_in_one_event_give_no_warning() {
    let late = "{\"msg\":\"a\"}\n{\"msg\":\"b\"}\n{\"msg\":\"c\",\"levle\":1}\n";
    for (src, input) in [
        ("set levle = 1 | sort levle", EVENTS),
        ("rename level as lvl | head 1 | count by lvl", EVENTS),
        ("count by level | sort -count | head 1", EVENTS),
        ("sort level | dedupe by service", EVENTS),
        ("sort levle", late),
        ("head 1 | count by levle", late),
    ] {
        let r = run(&[src], input);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "`{src}`");
    }
}

#[test]
fn a_to_template_placeholder_no_event_had_is_named() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let r = run_in(dir.path(), &["to \"out/{servce}.ndjson\""], EVENTS);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr,
        "evq: warning: field \"servce\" was not in any of 3 events; did you mean \"service\"?\n"
    );
    assert!(dir.path().join("out/_none.ndjson").exists());
    let r = run_in(dir.path(), &["-q", "tee \"out/{servce}.ndjson\" | count"], EVENTS);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "{\"count\":3}\n", "")
    );
    let r = run_in(
        dir.path(),
        &["where level == \"error\" | to \"out/{service}.ndjson\""],
        EVENTS,
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let r = run_in(
        dir.path(),
        &["set servce = service | to \"out/{servce}.ndjson\""],
        EVENTS,
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

#[test]
fn a_format_placeholder_no_event_had_is_named() {
    let r = run(&["--format", "{levle} {msg}", "head 2"], EVENTS);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, " a\n b\n", LEVLE));
    let r = run(&["-q", "--format", "{levle} {msg}", "sort msg"], EVENTS);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let r = run(&["--format", "{level} {msg}", "head 1"], EVENTS);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "error a\n", ""));
    // After a stage that makes fields, the template reads what it made.
    for (args, out) in [
        (
            ["--format", "{levle}", "set levle = upper(level)"],
            "ERROR\nINFO\nERROR\n",
        ),
        (["--format", "{count}", "count by level"], "2\n1\n"),
    ] {
        let r = run(&args, EVENTS);
        assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, out, ""), "{args:?}");
    }
}

const STATUS: &str = "{\"status\":\"5\",\"tags\":[\"1\",\"2\"]}\n{\"status\":\"6\",\"tags\":[\"3\"]}\n";

#[test]
fn a_comparison_in_the_first_condition_of_an_if_that_never_held_is_named() {
    let r = run(&["where if status == 5 then true else false end | count"], STATUS);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":0}\n"));
    assert_eq!(
        r.stderr,
        "evq: warning: status == 5 never held: status was never a number (it was a string); write status == \"5\", or int(status) == 5\n"
    );
    let r = run(&["-q", "where if status == 5 then true else false end | count"], STATUS);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let r = run(&["where if int(status) == 5 then true else false end | count"], STATUS);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"count\":1}\n", ""));
}

#[test]
fn a_field_compared_inside_a_lambda_is_watched_but_the_element_is_not() {
    let r = run(&["where any(tags, t => status == 6) | count"], STATUS);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":0}\n"));
    assert_eq!(
        r.stderr,
        "evq: warning: status == 6 never held: status was never a number (it was a string); write status == \"6\", or int(status) == 6\n"
    );
    // The element `t` is a string where the lambda compares it with a number: it is no field,
    // so neither "never held" nor "never seen" is said of it.
    let r = run(&["where any(tags, t => t == 3) | count"], STATUS);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "{\"count\":0}\n", "")
    );
}

#[test]
fn branches_and_later_conditions_of_an_if_give_no_false_warning() {
    let mixed = "{\"status\":\"5\"}\n{\"status\":\"6\"}\n";
    let src = "where if type(status) == \"string\" then status == \"5\" elif status == 5 then true else status > 4 end | count";
    let r = run(&[src], mixed);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "{\"count\":1}\n", "")
    );
}

const PAIRS: &str = "{\"a\":\"3\",\"b\":3}\n{\"a\":\"4\",\"b\":5}\n{\"a\":\"7\"}\n";

#[test]
fn two_fields_whose_types_never_matched_are_named_with_the_conversions() {
    let r = run(&["where a == b | count"], PAIRS);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":0}\n"));
    assert_eq!(
        r.stderr,
        "evq: warning: a == b never held: on every event with both, their types differed (a was a string, b was a number); write to_number(a) == b, or a == str(b)\n"
    );
    let r = run(&["-q", "where a == b | count"], PAIRS);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    for fix in ["where to_number(a) == b | count", "where a == str(b) | count"] {
        let r = run(&[fix], PAIRS);
        assert_eq!(
            (r.stdout.as_str(), r.stderr.as_str()),
            ("{\"count\":1}\n", ""),
            "`{fix}`"
        );
    }
    let r = run(&["where b < a | count"], PAIRS);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            0,
            "evq: warning: b < a never held: on every event with both, their types differed (b was a number, a was a string); write b < to_number(a)\n"
        )
    );
    let r = run(&["sort a | where a != b | count"], PAIRS);
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        (
            "{\"count\":3}\n",
            "evq: warning: a != b always held: on every event with both, their types differed (a was a string, b was a number); write to_number(a) != b, or a != str(b)\n\
             evq: warning: sort a orders text, but a holds numbers written as text, where \"9\" comes after \"10\"; order the numbers: sort to_number(a)\n"
        )
    );
}

#[test]
fn two_fields_that_matched_on_one_event_or_never_met_give_no_pair_warning() {
    let mut once: String = (0..50).map(|i| format!("{{\"a\":\"{i}\",\"b\":{i}}}\n")).collect();
    once.push_str("{\"a\":7,\"b\":7}\n");
    let r = run(&["where a == b | count"], &once);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "{\"count\":1}\n", "")
    );
    let apart = "{\"a\":\"3\"}\n{\"b\":3}\n";
    let r = run(&["where a == b | count"], apart);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    // A field no event had gets its own warning, not a type one.
    let r = run(&["where a == code | count"], PAIRS);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            0,
            "evq: warning: field \"code\" was not in any of 3 events; to compare with the text, write \"code\"\n"
        )
    );
}

#[test]
fn an_explode_whose_path_was_never_an_array_is_named() {
    let input = "{\"items\":\"[1,2]\"}\n{\"items\":{\"a\":1}}\n{\"id\":3}\n";
    let r = run(&["explode items"], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(
        r.stderr,
        "evq: warning: explode items made no event: items was never an array (it was a string or an object)\n"
    );
    let r = run(&["-q", "explode items"], input);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    // One array, even empty, and the path can mean what was typed.
    let r = run(&["explode items | count"], &format!("{input}{{\"items\":[]}}\n"));
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"count\":0}\n", ""));
    let r = run(
        &["explode items as i | count"],
        &format!("{input}{{\"items\":[1,2]}}\n"),
    );
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"count\":2}\n", ""));
}

#[test]
fn a_join_that_matched_no_event_names_the_types_of_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.ndjson");
    std::fs::write(&users, "{\"id\":\"1\",\"name\":\"a\"}\n{\"id\":\"2\",\"name\":\"b\"}\n").unwrap();
    let users = users.to_str().unwrap();
    let input = "{\"uid\":1}\n{\"uid\":2}\n";
    let r = run(&[&format!("join \"{users}\" on uid = id as user")], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, input));
    assert_eq!(
        r.stderr,
        format!(
            "evq: warning: join \"{users}\" matched no event: uid was a number in the events, id a string in the file; write on str(uid) = id\n"
        )
    );
    // The fix it names matches every event.
    let r = run(
        &[&format!(
            "join \"{users}\" on str(uid) = id as user | count by user.name"
        )],
        input,
    );
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        (
            "{\"user\":{\"name\":\"a\"},\"count\":1}\n{\"user\":{\"name\":\"b\"},\"count\":1}\n",
            ""
        )
    );
    // Keys of the same type (strings) whose values differ: not a matter of types.
    let r = run(&[&format!("join \"{users}\" on str(uid + 10) = id")], input);
    assert_eq!(
        r.stderr,
        format!(
            "evq: warning: join \"{users}\" matched no event: no value of the key in the events is a value of id in the file\n"
        )
    );
    let r = run(&[&format!("join \"{users}\" on uid = user_id")], input);
    assert_eq!(
        r.stderr,
        format!("evq: warning: join \"{users}\" matched no event: no record of the file has user_id\n")
    );
    // One match is enough: the rest are left joins as documented.
    let r = run(
        &[&format!("join \"{users}\" on str(uid) = id")],
        "{\"uid\":1}\n{\"uid\":7}\n",
    );
    assert_eq!(r.stderr, "");
    let r = run(&["-q", &format!("join \"{users}\" on uid = id")], input);
    assert_eq!(r.stderr, "");
}

#[test]
fn a_numeric_aggregate_whose_field_was_never_a_number_is_named_with_its_fix() {
    let input = "{\"k\":1,\"n\":\"5\"}\n{\"k\":1,\"n\":\"7\"}\n";
    let r = run(&["stats sum(n), avg(n) as mean, p99(n), max(n) by k"], input);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            0,
            "{\"k\":1,\"sum_n\":null,\"mean\":null,\"p99_n\":null,\"max_n\":\"7\"}\n"
        )
    );
    assert_eq!(
        r.stderr,
        "evq: warning: sum(n) ignored every value: n was never a number (it was a string); write sum(to_number(n)) as sum_n\n\
         evq: warning: avg(n) ignored every value: n was never a number (it was a string); write avg(to_number(n)) as mean\n\
         evq: warning: p99(n) ignored every value: n was never a number (it was a string); write p99(to_number(n)) as p99_n\n\
         evq: warning: max(n) orders text, but n holds numbers written as text, where \"9\" comes after \"10\"; order the numbers: max(to_number(n))\n"
    );
    // The fix it names gives the same columns, with the sums.
    let r = run(&["stats sum(to_number(n)) as sum_n by k"], input);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"k\":1,\"sum_n\":12}\n", ""));
    // One number is enough: the aggregate could mean what was typed.
    let r = run(&["stats sum(n) by k"], &format!("{input}{{\"k\":1,\"n\":1}}\n"));
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"k\":1,\"sum_n\":1}\n", ""));
}

#[test]
fn a_numeric_step_whose_field_was_never_a_number_is_named_with_its_fix() {
    let input = "{\"n\":\"5\"}\n{\"n\":\"7\"}\n";
    let r = run(&["step delta(n), ewma(n, 0.25) as e, shift(n)"], input);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr,
        "evq: warning: step delta(n) gave null for every event: n was never a number (it was a string); write delta(to_number(n)) as n_delta\n\
         evq: warning: step ewma(n) gave null for every event: n was never a number (it was a string); write ewma(to_number(n), 0.25) as e\n"
    );
    // The fixes it names give the numbers.
    let r = run(
        &["step delta(to_number(n)) as n_delta, ewma(to_number(n), 0.25) as e"],
        input,
    );
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        (
            "{\"n\":\"5\",\"n_delta\":0,\"e\":5}\n{\"n\":\"7\",\"n_delta\":2,\"e\":5.5}\n",
            ""
        )
    );
    // One number is enough.
    let r = run(&["step delta(n)"], &format!("{input}{{\"n\":9}}\n"));
    assert_eq!(r.stderr, "");
}

#[test]
fn a_constant_where_a_condition_goes_is_named_as_always_true() {
    let or = "evq: warning: \"warn\" in `or` is always true (every value but false and null is), so the `or` always holds; \
              compare each: level == \"error\" or level == \"warn\", or write level in [\"error\", \"warn\"]\n";
    for src in [
        "where level == \"error\" or \"warn\"",
        "assert level == \"error\" or \"warn\"",
    ] {
        let r = run(&[src], EVENTS);
        assert_eq!(
            (r.code, r.stdout.lines().count(), r.stderr.as_str()),
            (0, 3, or),
            "`{src}`"
        );
    }
    let r = run(&["where \"error\""], EVENTS);
    assert_eq!(
        r.stderr,
        "evq: warning: where \"error\" does not depend on the data: every value but false and null is true; \
         compare a field with it, as in level == \"error\"\n"
    );
    let r = run(&["where \"level\" == \"error\""], EVENTS);
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        (
            "",
            "evq: warning: \"level\" == \"error\" compares two constants: it does not depend on the data; \
             a field is named without quotes (level) or in backticks (`level`)\n"
        )
    );
    let r = run(&["where level == \"error\" and 1"], EVENTS);
    assert!(r.stderr.contains("1 in `and` is always true"), "{}", r.stderr);
    for quiet in [
        "where true",
        "where level == \"error\" or false",
        "where not null",
        "assert true",
    ] {
        let r = run(&[quiet], EVENTS);
        assert_eq!(r.stderr, "", "`{quiet}`");
    }
}

#[test]
fn comparisons_inside_aggregates_and_steps_are_watched_as_in_where() {
    let events = "{\"s\":500,\"h\":\"a\"}\n{\"s\":200,\"h\":\"a\"}\n";
    let never = "evq: warning: s == \"500\" never held: s was never a string (it was a number); write s == 500\n";
    for src in [
        "stats count(s == \"500\") as errs",
        "count by s == \"500\"",
        "step count(s == \"500\") as errs by h",
        "stats count(s == \"500\") as errs by h every 1m",
    ] {
        // A window reads event time: here from s, which every event has.
        let time: &[&str] = if src.contains("every") {
            &["--time-field", "s"]
        } else {
            &[]
        };
        let r = run(&[time, &[src]].concat(), events);
        assert_eq!(r.stderr, never, "`{src}`");
    }
    let r = run(&["stats count(s >= 500) as e"], events);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"e\":1}\n", ""));
}

#[test]
fn a_field_read_as_a_condition_that_holds_booleans_as_text_is_named() {
    let logfmt = "msg=a cached=false\nmsg=b cached=true\n";
    let warning = "evq: warning: cached is read as a condition, but it holds \"true\" or \"false\" as text, \
                   and any text is true (only false and null are false); write cached == \"true\"\n";
    for src in [
        "where cached",
        "where not cached",
        "stats count(cached) as hits",
        "where msg == \"a\" and cached",
    ] {
        let r = run(&["-i", "logfmt", src], logfmt);
        assert_eq!(r.stderr, warning, "`{src}`");
    }
    let r = run(&["-i", "csv", "where active"], "name,active\na,false\nb,true\n");
    assert_eq!(r.stdout.lines().count(), 2);
    assert!(r.stderr.contains("active is read as a condition"), "{}", r.stderr);
    for (src, input) in [
        ("where cached", "{\"cached\":false}\n{\"cached\":true}\n"),
        ("where msg", "{\"msg\":\"false alarm\"}\n"),
        ("where cached == \"true\"", "{\"cached\":\"true\"}\n"),
    ] {
        let r = run(&[src], input);
        assert_eq!(r.stderr, "", "`{src}`");
    }
}

#[test]
fn a_field_of_unix_times_in_another_unit_than_what_it_is_compared_with_is_named() {
    let millis = "{\"ts\":1767312000000}\n{\"ts\":1767139200000}\n";
    let literal = "evq: warning: ts holds Unix times in milliseconds, but 1767225600 (@2026-01-01T00:00:00Z) is in seconds: \
                   as numbers they are not the same times; read the field as a time: time(ts)\n";
    for src in ["where ts >= @2026-01-01 | count", "where ts < @2026-01-01"] {
        let r = run(&[src], millis);
        assert_eq!(r.stderr, literal, "`{src}`");
    }
    let r = run(&["set age = now() - ts | where age < 1h"], millis);
    assert!(
        r.stderr
            .contains("ts holds Unix times in milliseconds, but now() is in seconds"),
        "{}",
        r.stderr
    );
    let r = run(&["where ts >= 1767312000000"], "{\"ts\":1767312000}\n");
    assert!(
        r.stderr
            .contains("read both as times: time(ts) and time(1767312000000)"),
        "{}",
        r.stderr
    );
    for (src, input) in [
        ("where time(ts) >= @2026-01-01", millis),
        ("where ts > 1767139200000", millis),
        ("where ts >= @2026-01-01", "{\"ts\":1767312000}\n"),
        ("where bytes > 1000000000", "{\"bytes\":2000000000000}\n"),
        ("where bytes > 1200000000", "{\"bytes\":2000000000000}\n"),
    ] {
        let r = run(&[src], input);
        assert_eq!(r.stderr, "", "`{src}`");
    }
}

#[test]
fn min_and_max_of_times_written_with_different_offsets_are_named() {
    let mixed = "{\"ts\":\"2026-01-01T10:00:00+02:00\"}\n{\"ts\":\"2026-01-01T09:00:00Z\"}\n";
    let r = run(&["stats max(ts) as last"], mixed);
    assert_eq!(
        r.stderr,
        "evq: warning: max(ts) orders times as text, but they are written in different layouts (UTC offset, \
         fraction of a second, separator), where text order is not time order; order the times: max(time(ts))\n"
    );
    let r = run(&["top 1 svc by min(ts) as first"], mixed);
    assert!(r.stderr.contains("min(ts) orders times as text"), "{}", r.stderr);
    let one_offset = "{\"ts\":\"2026-01-01T10:00:00Z\"}\n{\"ts\":\"2026-01-01T09:00:00Z\"}\n";
    let r = run(&["stats max(ts) as last, min(ts) as first"], one_offset);
    assert_eq!(r.stderr, "");
}

#[test]
fn a_field_keep_left_out_read_by_a_later_stage_is_a_pipeline_error() {
    let r = run(&["keep level | where service == \"api\""], EVENTS);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "evq: pipeline error: `service` is not a field of the events `keep` passes on\n  \
         keep level | where service == \"api\"\n               ^^^^^^^^^^^^^^^^^^^^^^\n  \
         hint: at this stage events have only level\n"
    );
    let r = run(&["keep level, msg | count by servce"], EVENTS);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for fine in [
        "keep level | set service = \"x\" | where service == \"x\"",
        "keep level, service | where service == \"api\"",
        "keep level | rename level as lvl | count by lvl",
    ] {
        let r = run(&[fine], EVENTS);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "`{fine}`");
    }
}

#[test]
fn a_field_del_or_rename_took_away_read_by_a_later_stage_is_a_pipeline_error() {
    let r = run(&["del service | where service == \"api\""], EVENTS);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "evq: pipeline error: `service` is not a field of the events `del` passes on\n  \
         del service | where service == \"api\"\n                ^^^^^^^^^^^^^^^^^^^^^^\n  \
         hint: `del service` removed it: read it before `del`\n"
    );
    let r = run(
        &["rename service as svc | where level == \"error\" | count by service"],
        EVENTS,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("hint: `rename` named it `svc`: read `svc`, or rename after this stage"),
        "{}",
        r.stderr
    );
    let r = run(
        &["rename service as level, level as service | where level == \"error\""],
        EVENTS,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run(&["keep level | del level | where level"], EVENTS);
    assert!(
        r.stderr.contains("hint: at this stage events have no fields"),
        "{}",
        r.stderr
    );
    for fine in [
        "del service | set service = \"x\" | where service == \"x\"",
        "rename service as svc | rename svc as service | where service == \"api\"",
        "rename service as service | where service == \"api\"",
        "rename service as level, level as service | where service == \"api\"",
        "del service | count by level",
        "del service.name | where service == \"api\"",
    ] {
        let r = run(&[fine], EVENTS);
        assert_eq!(r.code, 0, "`{fine}`: {}", r.stderr);
        assert!(!r.stderr.contains("pipeline error"), "`{fine}`: {}", r.stderr);
    }
}

#[test]
fn ordering_numbers_written_as_text_is_named_with_to_number_as_the_fix() {
    let text = "{\"ms\":\"10\"}\n{\"ms\":\"9\"}\n";
    let r = run(&["stats max(ms) as slowest"], text);
    assert_eq!(r.stdout, "{\"slowest\":\"9\"}\n");
    assert_eq!(
        r.stderr,
        "evq: warning: max(ms) orders text, but ms holds numbers written as text, where \"9\" comes after \
         \"10\"; order the numbers: max(to_number(ms))\n"
    );
    let r = run(&["sort ms"], text);
    assert!(
        r.stderr.contains("order the numbers: sort to_number(ms)"),
        "{}",
        r.stderr
    );
    for quiet in [
        ("sort to_number(ms)", text),
        ("sort ms", "{\"ms\":10}\n{\"ms\":9}\n"),
        ("sort zip", "{\"zip\":\"02134\"}\n{\"zip\":\"10001\"}\n"),
        ("stats min(name)", "{\"name\":\"b\"}\n{\"name\":\"a\"}\n"),
    ] {
        let r = run(&[quiet.0], quiet.1);
        assert_eq!(r.stderr, "", "`{}`", quiet.0);
    }
}

#[test]
fn the_elements_of_a_mixed_list_of_a_type_the_field_never_had_are_named() {
    let statuses = "{\"status\":500}\n{\"status\":503}\n{\"status\":200}\n";
    let r = run(&["where status in [500, \"503\"]"], statuses);
    assert_eq!(r.stdout, "{\"status\":500}\n");
    assert_eq!(
        r.stderr,
        "evq: warning: the element \"503\" of status in [500,\"503\"] never matched: status was never a string \
         (it was a number); write status in [500,503]\n"
    );
    let r = run(&["where status not in [\"503\", \"504\", 200]"], statuses);
    assert!(
        r.stderr
            .contains("the elements \"503\", \"504\" of status not in [\"503\",\"504\",200] never excluded an event"),
        "{}",
        r.stderr
    );
    let r = run(&["where status in [500, 503]"], statuses);
    assert_eq!(r.stderr, "");
    let r = run(&["where v in [1, \"a\"]"], "{\"v\":1}\n{\"v\":\"a\"}\n");
    assert_eq!((r.stdout.lines().count(), r.stderr.as_str()), (2, ""));
}

#[test]
fn a_conversion_that_read_no_value_of_its_field_is_named_with_the_first_value() {
    let input = "{\"level\":\"error\",\"at\":\"06/12/2026\"}\n{\"level\":\"info\",\"at\":\"07/12/2026\"}\n";
    let r = run(&["stats max(to_number(level)) as top"], input);
    assert_eq!(r.stdout, "{\"top\":null}\n");
    assert_eq!(
        r.stderr,
        "evq: warning: to_number(level) was null for every event: no value of level could be read (the first was \
         \"error\")\n"
    );
    let r = run(&["set t = strptime(at, \"%Y-%m-%d\")"], input);
    assert!(
        r.stderr.contains("strptime(at, \"%Y-%m-%d\") was null for every event")
            && r.stderr.contains("the format does not match the text"),
        "{}",
        r.stderr
    );
    let r = run(&["set t = time(at)"], input);
    assert!(r.stderr.contains("write strptime(at, FORMAT)"), "{}", r.stderr);
    let r = run(&["--time-format", "%Y-%m-%d", "set t = time(at)"], input);
    assert!(
        r.stderr
            .contains("time() reads RFC 3339 text, Unix times and --time-format %Y-%m-%d: for another layout"),
        "{}",
        r.stderr
    );
    let r = run(&["--time-format", "%d/%m/%Y", "set t = time(at)"], input);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "a date alone is its midnight");
    for quiet in [
        "set t = strptime(at, \"%d/%m/%Y\")",
        "set n = coalesce(to_number(level), 0)",
        "set n = to_number(missing_everywhere) | del n",
    ] {
        let r = run(&[quiet], input);
        assert!(
            !r.stderr.contains("was null for every event"),
            "`{quiet}`: {}",
            r.stderr
        );
    }
    let r = run(&["set n = int(v)"], "{\"v\":\"x\"}\n{\"v\":\"7\"}\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn files_named_by_topic_with_no_route_before_them_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let r = run(&["-O", out, "where level == \"error\""], EVENTS);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr,
        format!(
            "evq: warning: -O {out} writes a file for each topic, but no route sets one: every event goes to one \
             file, _none.ndjson; add route by EXPR (route by type) to the pipeline\n"
        )
    );
    assert!(dir.path().join("out/_none.ndjson").exists());
    let tee = format!("tee \"{out}/{{topic() | lower}}.x\" | route by level");
    let r = run(&[&tee], EVENTS);
    assert!(
        r.stderr
            .contains("names files by topic(), but no route before it sets one"),
        "{}",
        r.stderr
    );
    for quiet in [
        vec!["route by level", "-O", out],
        vec!["-q", "-O", out, "where level == \"error\""],
    ] {
        let r = run(&quiet, EVENTS);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{quiet:?}");
    }
}

#[test]
fn topic_read_before_any_route_is_named() {
    let r = run(&["where topic() == \"api\" | route by service"], EVENTS);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(
            "topic() in where is null for every event: no route before it sets a topic; put route by EXPR (route by \
             type) before it"
        ),
        "{}",
        r.stderr
    );
    // Every stage that evaluates an expression is checked, not only the common ones.
    for (stage, pipeline) in [
        ("count", "count by topic()"),
        ("dedupe", "dedupe by topic() | route by service"),
        ("sample", "sample 50% by topic() | route by service"),
        ("sort", "sort topic() | route by service"),
        ("head", "head 1 by topic() | route by service"),
        ("fold", "fold by topic()"),
    ] {
        let r = run(&[pipeline], EVENTS);
        assert!(
            r.stderr
                .contains(&format!("topic() in {stage} is null for every event")),
            "{pipeline}: {}",
            r.stderr
        );
    }
    for quiet in [
        "route by service | where topic() == \"api\"",
        "route by service | count by topic()",
    ] {
        let r = run(&[quiet], EVENTS);
        assert_eq!(r.stderr, "", "{quiet}");
        assert!(!r.stdout.is_empty(), "{quiet}");
    }
}

#[test]
fn comparisons_that_can_never_both_hold_are_named_with_the_fix() {
    let never = |a: &str, b: &str| {
        format!(
            "evq: warning: {a} and {b} can never both hold, so where passes no event; for either, join them with or\n"
        )
    };
    for (pipeline, a, b) in [
        (
            "where level == \"error\" and level == \"info\" | count",
            "level == \"error\"",
            "level == \"info\"",
        ),
        (
            "where level == \"error\" | where level == \"info\" | count",
            "level == \"error\"",
            "level == \"info\"",
        ),
        (
            "where len(msg) > 0 and service > \"x\" and service < \"b\" | count",
            "service > \"x\"",
            "service < \"b\"",
        ),
    ] {
        let r = run(&[pipeline], EVENTS);
        assert_eq!(
            (r.stdout.as_str(), r.stderr.starts_with(&never(a, b))),
            ("{\"count\":0}\n", true),
            "{pipeline}: {}",
            r.stderr
        );
    }
    // The fix it names, and conditions that leave room, are quiet.
    for pipeline in [
        "where level == \"error\" or level == \"info\" | count",
        "where level == \"error\" | where service == \"api\" | count",
        "where level == \"error\" | set level = \"info\" | where level == \"info\" | count",
    ] {
        let r = run(&[pipeline], EVENTS);
        assert_eq!(r.stderr, "", "{pipeline}");
    }
}
