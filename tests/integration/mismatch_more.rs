//! End-of-run warnings for comparisons the data made constant: `!=` that always held,
//! `in` lists of the wrong type, times ordered as text across UTC offsets, and
//! conditionals and lambdas the analysis passes over.

use crate::common::run;

#[test]
fn not_equal_that_always_held_is_named_with_its_fix() {
    let input = "{\"status\":200}\n{\"status\":404}\n";
    let r = run(&["where status != \"200\" | count"], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":2}\n"));
    assert_eq!(
        r.stderr,
        "evq: warning: status != \"200\" always held: status was never a string (it was a number); write status != 200\n"
    );
    let r = run(&["where status != 200 | count"], input);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"count\":1}\n", ""));
    let r = run(&["-q", "where status != \"200\" | count"], input);
    assert_eq!(r.stderr, "");
}

#[test]
fn comparisons_in_every_stages_expressions_are_watched() {
    let input = "{\"status\":500}\n{\"status\":200}\n";
    let never = "evq: warning: status == \"500\" never held: status was never a string (it was a number); write status == 500\n";
    for pipeline in [
        "dedupe by status == \"500\"",
        "sort status == \"500\"",
        "head 1 by status == \"500\"",
        "sample 50% by status == \"500\"",
        "fold by status == \"500\"",
        "route by status == \"500\"",
    ] {
        let r = run(&[pipeline], input);
        assert_eq!((r.code, r.stderr.as_str()), (0, never), "{pipeline}");
    }
}

#[test]
fn a_list_with_no_element_of_the_fields_type_is_named_with_its_fix() {
    let input = "{\"status\":500}\n{\"status\":200}\n{\"code\":\"7\"}\n";
    let r = run(&["where status in [\"500\",\"503\"] or code in (7, 8)"], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(
        r.stderr,
        "evq: warning: status in [\"500\",\"503\"] never held: status was never a string (it was a number); write status in [500,503]\n\
         evq: warning: code in [7,8] never held: code was never a number (it was a string); write code in [\"7\",\"8\"], or int(code) in [7,8]\n"
    );
    let r = run(&["where status in [500,503] or int(code) in [7,8] | count"], input);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"count\":2}\n", ""));
    let r = run(&["-q", "where status in [\"500\"]"], input);
    assert_eq!(r.stderr, "");
}

#[test]
fn times_ordered_as_text_across_utc_offsets_warn_once() {
    let input = "{\"ts\":\"2026-11-01T01:00:00+02:00\"}\n{\"ts\":\"2026-10-31T23:30:00Z\"}\n{\"ts\":\"2026-10-31T20:00:00-05:00\"}\n";
    let r = run(&["where ts > \"2026-11-01T00:00:00+02:00\" | count"], input);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr,
        "evq: warning: ts and \"2026-11-01T00:00:00+02:00\" are compared as text, but they are written in different layouts (UTC offset, fraction of a second, separator); compare times: time(ts) > time(\"2026-11-01T00:00:00+02:00\")\n"
    );
    // The fix compares instants: 01:00+02:00 and 23:30Z and 20:00-05:00 are all after 22:00Z.
    let r = run(&["where time(ts) > time(\"2026-11-01T00:00:00+02:00\") | count"], input);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"count\":3}\n", ""));
    let r = run(&["-q", "where ts > \"2026-11-01T00:00:00+02:00\""], input);
    assert_eq!(r.stderr, "");
}

#[test]
fn two_time_fields_with_different_offsets_warn_and_same_offsets_do_not() {
    let input = "{\"a\":\"2026-11-01T01:00:00+02:00\",\"b\":\"2026-10-31T23:30:00Z\"}\n";
    let r = run(&["where a < b | count"], input);
    assert_eq!(
        r.stderr,
        "evq: warning: a and b are compared as text, but they are written in different layouts (UTC offset, fraction of a second, separator); compare times: time(a) < time(b)\n"
    );
    let same = "{\"a\":\"2026-11-01T01:00:00Z\",\"b\":\"2026-10-31T23:30:00Z\"}\n";
    let r = run(&["where a < b | count"], same);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"count\":0}\n", ""));
}

#[test]
fn sorting_times_written_with_different_offsets_as_text_warns() {
    let mixed = "{\"ts\":\"2026-01-01T01:30:00+02:00\",\"n\":1}\n{\"ts\":\"2026-01-01T00:00:00Z\",\"n\":2}\n";
    let r = run(&["sort ts | keep n"], mixed);
    assert_eq!(r.stdout, "{\"n\":2}\n{\"n\":1}\n", "text order, as written");
    assert_eq!(
        r.stderr,
        "evq: warning: sort ts orders times as text, but they are written in different layouts (UTC offset, fraction of a second, \
         separator), where text order is not time order; sort by the time: sort time(ts)\n"
    );
    let r = run(&["sort time(ts) | keep n"], mixed);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("{\"n\":1}\n{\"n\":2}\n", ""));
    let fractions = "{\"ts\":\"2026-01-01T00:00:00.5Z\"}\n{\"ts\":\"2026-01-01T00:00:00Z\"}\n";
    assert!(
        run(&["sort ts"], fractions)
            .stderr
            .contains("sort ts orders times as text")
    );
    let same = "{\"ts\":\"2026-01-01T00:00:01Z\"}\n{\"ts\":\"2026-01-01T00:00:00Z\"}\n";
    assert_eq!(run(&["-j", "2", "sort ts"], same).stderr, "");
}

#[test]
fn conditionals_and_lambdas_do_not_upset_the_analysis() {
    let input = "{\"tags\":[1,2],\"status\":\"5\"}\n{\"tags\":[3],\"status\":\"6\"}\n";
    let r = run(
        &["where any(tags, x => x == 1) and (if status == \"5\" then true else false end) | count"],
        input,
    );
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "{\"count\":1}\n", "")
    );
    let r = run(&["where all(tags, t => t.n != \"1\") | count"], input);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

#[test]
fn hints_for_ordering_text_and_in_a_string_are_ones_that_work() {
    let input = "{\"ts\":\"2024-01-02T00:00:00Z\",\"x\":123,\"n\":\"5\"}\n";
    let cases = [
        (
            "where ts > @2024-01-01",
            "write time(ts) > 1704067200 if ts holds times",
        ),
        ("where n > 3", "write int(n) > 3"),
        ("where x in \"123\"", "write str(x) in \"123\""),
    ];
    for (pipeline, hint) in cases {
        let r = run(&[pipeline], input);
        assert!(r.stderr.contains(hint), "{pipeline}: {}", r.stderr);
        let fixed = hint
            .trim_start_matches("write ")
            .split(" if ")
            .next()
            .unwrap_or_default();
        let r = run(&[format!("where {fixed}").as_str()], input);
        assert_eq!(r.stdout, input, "{fixed}: {}", r.stderr);
    }
}

#[test]
fn a_function_or_arithmetic_on_a_field_of_the_wrong_type_is_named_with_its_fix() {
    let input = "{\"code\":500,\"s\":\"abc\",\"tags\":\"x\"}\n{\"code\":404,\"s\":\"7\",\"tags\":\"y\"}\n";
    let r = run(&["where contains(code, \"5\") | count"], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"count\":0}\n"));
    assert_eq!(
        r.stderr,
        "evq: warning: contains(code, …) never held: code was never a string or an array or an object (it was a number); write contains(str(code), …)\n"
    );
    let r = run(
        &["set u = upper(code), n = s * 2, m = -s, f = first(tags), c = code + \"x\" | count"],
        input,
    );
    assert_eq!(
        r.stderr,
        "evq: warning: upper(code) was always null: code was never a string (it was a number); write upper(str(code))\n\
         evq: warning: s * 2 was always null: s was never a number (it was a string); write to_number(s) * 2\n\
         evq: warning: -s was always null: s was never a number (it was a string); write -to_number(s)\n\
         evq: warning: first(tags) was always null: tags was never an array (it was a string)\n\
         evq: warning: code + \"x\" was always null: code was never a string (it was a number); write str(code) + \"x\"\n"
    );
    // The fixes work, and a field with the type on some event is not named.
    let r = run(&["set u = upper(str(code)), n = to_number(s) * 2 | keep u, n"], input);
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("{\"u\":\"500\",\"n\":null}\n{\"u\":\"404\",\"n\":14}\n", "")
    );
    let mixed = "{\"v\":\"a\"}\n{\"v\":3}\n";
    let r = run(&["set a = upper(v), b = v + 1, c = len(v) | count"], mixed);
    assert_eq!(r.stderr, "");
    let r = run(&["-q", "set u = upper(code)"], input);
    assert_eq!(r.stderr, "");
}

#[test]
fn a_reorder_key_never_seen_is_named_though_every_event_became_a_dead_letter() {
    let r = run(&["reorder by tss within 5s"], "{\"ts\":1}\n{\"ts\":2}\n");
    assert!(
        r.stderr
            .contains("evq: warning: field \"tss\" was not in any of 2 events; did you mean \"ts\"?"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_handled_null_a_type_guard_or_a_field_that_was_only_null_gives_no_wrong_fix() {
    let numbers = "{\"code\":1}\n{\"code\":2}\n";
    for pipeline in [
        "set u = upper(code) ?? code, v = coalesce(upper(code), code)",
        "where type(code) == \"string\" and upper(code) == \"X\"",
        "where type(code) != \"string\" or upper(code) != \"X\"",
        "where type(code) == \"string\" | set u = upper(code)",
        "set u = if type(code) == \"string\" and upper(code) == \"A\" then 1 else 0 end",
    ] {
        let r = run(&[pipeline], numbers);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{pipeline}");
    }
    // Only null: said, but no conversion is offered (str(s) would make "null" of it).
    let r = run(&["set u = upper(s)"], "{\"id\":1}\n{\"id\":2,\"s\":null}\n");
    assert_eq!(
        r.stderr,
        "evq: warning: upper(s) was always null: s was never a string (it was null)\n"
    );
    // No conversion helps a boolean, an array or an object into a number.
    let r = run(&["set a = -flag, b = tags + 1"], "{\"flag\":true,\"tags\":[1]}\n");
    assert_eq!(
        r.stderr,
        "evq: warning: -flag was always null: flag was never a number (it was a boolean)\n\
         evq: warning: tags + 1 was always null: tags was never a number (it was an array)\n"
    );
    // A constant that is not a number makes arithmetic null whatever the field.
    let r = run(&["set u = code * \"2\""], numbers);
    assert_eq!(
        r.stderr,
        "evq: warning: code * \"2\" is always null: * reads numbers, and \"2\" is not one; write code * 2\n"
    );
}

#[test]
fn times_written_with_a_space_or_without_seconds_ordered_against_rfc3339_text_warn() {
    let input = "{\"t\":\"2026-01-01 23:30\"}\n{\"t\":\"2026-01-01 22:00\"}\n";
    let r = run(&["where t < \"2026-01-01T23:00:00Z\""], input);
    // Text order: a space sorts before `T`, so 23:30 passed as if it were earlier.
    assert_eq!(r.stdout.lines().count(), 2);
    assert!(
        r.stderr
            .contains("t and \"2026-01-01T23:00:00Z\" are compared as text, but they are written in different layouts"),
        "{}",
        r.stderr
    );
    let r = run(&["where time(t) < time(\"2026-01-01T23:00:00Z\")"], input);
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("{\"t\":\"2026-01-01 22:00\"}\n", "")
    );
    let r = run(&["where t < \"2026-01-01 23:00\" | sort t"], input);
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("{\"t\":\"2026-01-01 22:00\"}\n", "")
    );
}

#[test]
fn a_where_that_passed_nothing_because_of_the_texts_case_is_named_with_the_fix() {
    let input = "{\"level\":\"error\",\"n\":1}\n{\"level\":\"warn\",\"n\":2}\n{\"name\":\"Émile\",\"n\":3}\n";
    let r = run(&["where level == \"ERROR\""], input);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(
            "where level == \"ERROR\" passed no event, but level held \"error\", which differs from \"ERROR\" only in \
             case; write level == \"error\", or lower(level) == \"error\" for any case"
        ),
        "{}",
        r.stderr
    );
    let r = run(&["where level in [\"ERROR\", \"WARN\"] and n > 0"], input);
    assert!(
        r.stderr.contains("write lower(level) in [\"error\", \"warn\"]"),
        "{}",
        r.stderr
    );
    let r = run(&["where name == \"émile\""], input);
    assert!(r.stderr.contains("name held \"Émile\""), "{}", r.stderr);
    // After an aggregate, a key of its rows holds the event's field.
    let r = run(&["count by level as lvl | sort lvl | where lvl == \"WARN\""], input);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("where lvl == \"WARN\" passed no event, but lvl held \"warn\""),
        "{}",
        r.stderr
    );
    // Quiet: a text the data never has in any case, a `where` that passed some event, and a
    // later `where` that saw no event because an earlier one passed none.
    for quiet in [
        "where level == \"fatal\"",
        "where level == \"ERROR\" or n == 2",
        "where level == \"error\"",
        "where n > 5 | where level == \"ERROR\"",
        "count by level | where level == \"warn\"",
        "count by n | where level == \"ERROR\"",
    ] {
        let r = run(&[quiet], input);
        assert!(!r.stderr.contains("only in case"), "{quiet}: {}", r.stderr);
    }
}

#[test]
fn an_aggregates_number_compared_with_text_is_named_at_the_start() {
    let input = "{\"t\":\"a\"}\n{\"t\":\"a\"}\n{\"t\":\"b\"}\n";
    let r = run(&["count by t | where count > \"1\""], input);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(
            "count > \"1\" never holds: count is a number in the rows of count, which text never equals or orders \
             with; compare with 1"
        ),
        "{}",
        r.stderr
    );
    let r = run(&["count by t | where count > 1"], input);
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("{\"t\":\"a\",\"count\":2}\n", "")
    );
}
