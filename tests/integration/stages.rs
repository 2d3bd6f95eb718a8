//! Tests of the event-at-a-time stages (where, set, del, keep, rename, head, tail),
//! their combinations, and the `json` and `pretty` output formats.

use crate::common::run;
use serde_json::Value;

/// stdout of `evq PIPELINE` on `input`, which must succeed.
fn out(pipeline: &str, input: &str) -> String {
    out_with(&[pipeline], input)
}

fn out_with(args: &[&str], input: &str) -> String {
    let r = run(args, input);
    assert_eq!(r.code, 0, "{args:?} failed: {}", r.stderr);
    r.stdout
}

/// `{"i":1}` … `{"i":n}`, one per line.
fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("{{\"i\":{i}}}\n")).collect()
}

fn numbered_range(from: usize, to: usize) -> String {
    (from..=to).map(|i| format!("{{\"i\":{i}}}\n")).collect()
}

// ---------------------------------------------------------------- where

#[test]
fn where_keeps_matching_events_in_order_with_their_bytes() {
    let input = "{\"l\":\"error\", \"n\":1}\n{\"l\":\"info\",\"n\":2}\n{ \"l\" : \"error\",\"n\":3 }\n";
    assert_eq!(
        out(r#"where l == "error""#, input),
        "{\"l\":\"error\", \"n\":1}\n{ \"l\" : \"error\",\"n\":3 }\n"
    );
}

#[test]
fn where_counts_what_it_drops_as_filtered() {
    let r = run(&["--stats", "where n > 1"], &numbered(3).replace('i', "n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stats: Value = serde_json::from_str(&r.stderr).expect("--stats writes JSON to stderr");
    assert_eq!(stats["fates"]["filtered"], 1);
    assert_eq!(stats["fates"]["emitted"], 2);
}

#[test]
fn where_stages_chain_as_and() {
    let input = numbered(10);
    assert_eq!(out("where i > 3 | where i % 3 == 0", &input), "{\"i\":6}\n{\"i\":9}\n");
}

// ---------------------------------------------------------------- set

#[test]
fn set_appends_a_new_top_level_field() {
    assert_eq!(out("set b = a + 1", "{\"a\":1}\n"), "{\"a\":1,\"b\":2}\n");
    assert_eq!(out("set b = 1", "{}\n"), "{\"b\":1}\n");
}

#[test]
fn set_of_an_existing_field_keeps_its_position() {
    assert_eq!(
        out(r#"set b = "x""#, "{\"a\":1,\"b\":2,\"c\":3}\n"),
        "{\"a\":1,\"b\":\"x\",\"c\":3}\n"
    );
}

#[test]
fn set_creates_nested_objects_as_needed() {
    assert_eq!(
        out(r#"set u.geo.cc = "DE""#, "{\"a\":1}\n"),
        "{\"a\":1,\"u\":{\"geo\":{\"cc\":\"DE\"}}}\n"
    );
}

#[test]
fn set_into_an_existing_object_keeps_its_other_fields_in_order() {
    assert_eq!(
        out("set u.b = 2", "{\"u\":{\"a\":1,\"c\":3},\"z\":0}\n"),
        "{\"u\":{\"a\":1,\"c\":3,\"b\":2},\"z\":0}\n"
    );
    assert_eq!(
        out("set u.a = 9", "{\"u\":{\"a\":1,\"c\":3},\"z\":0}\n"),
        "{\"u\":{\"a\":9,\"c\":3},\"z\":0}\n"
    );
}

#[test]
fn set_through_a_scalar_replaces_it_with_an_object() {
    assert_eq!(out("set a.b = 1", "{\"a\":5,\"z\":0}\n"), "{\"a\":{\"b\":1},\"z\":0}\n");
}

#[test]
fn set_evaluates_every_assignment_against_the_event_as_it_was() {
    assert_eq!(out("set a = b, b = a", "{\"a\":1,\"b\":2}\n"), "{\"a\":2,\"b\":1}\n");
    assert_eq!(out("set x = 1, y = x", "{\"x\":0}\n"), "{\"x\":1,\"y\":0}\n");
    assert_eq!(
        out("set u.x = 1, u.y = u.x", "{\"u\":{\"x\":0}}\n"),
        "{\"u\":{\"x\":1,\"y\":0}}\n"
    );
    assert_eq!(out("set y = x", "{\"x\":0}\n"), "{\"x\":0,\"y\":0}\n");
}

/// Every value of one `set` is computed from the event as it came in, so a second assignment
/// of a field, or one that replaces a field assigned before it, is a mistake evq names.
#[test]
fn set_of_the_same_field_twice_is_a_usage_error() {
    for (pipeline, said) in [
        ("set a = 100, a = 2", "`a` is assigned twice in this set"),
        ("set u.b = 1, u.b = 2", "`u.b` is assigned twice in this set"),
        ("set u.b = 1, u = 2", "`u` replaces `u.b`"),
    ] {
        let r = run(&[pipeline], "{\"a\":0}\n");
        assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{pipeline}");
        assert!(r.stderr.contains(said), "{pipeline}: {}", r.stderr);
    }
    assert_eq!(out("set u = {}, u.b = 2", "{\"a\":0}\n"), "{\"a\":0,\"u\":{\"b\":2}}\n");
}

#[test]
fn set_of_a_missing_value_writes_null() {
    assert_eq!(out("set a = missing", "{\"a\":1}\n"), "{\"a\":null}\n");
}

#[test]
fn set_of_array_elements_replaces_them() {
    let input = "{\"tags\":[\"a\",\"b\"]}\n";
    assert_eq!(out(r#"set tags[0] = "z""#, input), "{\"tags\":[\"z\",\"b\"]}\n");
    assert_eq!(out(r#"set tags[-1] = "z""#, input), "{\"tags\":[\"a\",\"z\"]}\n");
    assert_eq!(
        out(r#"set tags[3] = "z""#, input),
        "{\"tags\":[\"a\",\"b\",null,\"z\"]}\n"
    );
    assert_eq!(
        out(r#"set tags[-3] = "z""#, input),
        "",
        "before the start: a dead letter (invalid_path)"
    );
}

#[test]
fn set_of_an_index_creates_an_array() {
    assert_eq!(out(r#"set tags[0] = "x""#, "{}\n"), "{\"tags\":[\"x\"]}\n");
    assert_eq!(out(r#"set a[1].b = "x""#, "{}\n"), "{\"a\":[null,{\"b\":\"x\"}]}\n");
}

#[test]
fn set_values_of_every_type() {
    assert_eq!(
        out(
            r#"set s = "x", n = 1.50, b = false, z = null, a = [1, "a"], o = u"#,
            "{\"u\":{\"k\":[1]}}\n"
        ),
        "{\"u\":{\"k\":[1]},\"s\":\"x\",\"n\":1.50,\"b\":false,\"z\":null,\"a\":[1,\"a\"],\"o\":{\"k\":[1]}}\n"
    );
}

// ---------------------------------------------------------------- del

#[test]
fn del_removes_top_level_and_nested_fields_keeping_the_order() {
    assert_eq!(
        out("del a, u.id", "{\"a\":1,\"u\":{\"id\":5,\"n\":\"x\"},\"z\":2}\n"),
        "{\"u\":{\"n\":\"x\"},\"z\":2}\n"
    );
}

#[test]
fn del_removes_array_elements_by_index() {
    let input = "{\"tags\":[\"a\",\"b\",\"c\"]}\n";
    assert_eq!(out("del tags[0]", input), "{\"tags\":[\"b\",\"c\"]}\n");
    assert_eq!(out("del tags[-1]", input), "{\"tags\":[\"a\",\"b\"]}\n");
    assert_eq!(
        out("del tags[1]", "{\"tags\":[{\"x\":1},{\"x\":2}]}\n"),
        "{\"tags\":[{\"x\":1}]}\n"
    );
    assert_eq!(
        out("del tags[0].x", "{\"tags\":[{\"x\":1,\"y\":2}]}\n"),
        "{\"tags\":[{\"y\":2}]}\n"
    );
}

#[test]
fn del_of_several_indexes_names_elements_of_the_original_array() {
    // Like jq's del(.tags[0], .tags[1]): the paths do not shift as elements go.
    let input = "{\"tags\":[\"a\",\"b\",\"c\"]}\n";
    assert_eq!(out("del tags[0], tags[1]", input), "{\"tags\":[\"c\"]}\n");
    assert_eq!(out("del tags[-1], tags[0]", input), "{\"tags\":[\"b\"]}\n");
    assert_eq!(out("del tags[1], tags[1]", input), "{\"tags\":[\"a\",\"c\"]}\n");
}

#[test]
fn del_of_a_parent_and_its_child() {
    assert_eq!(out("del u, u.x", "{\"u\":{\"x\":1},\"k\":1}\n"), "{\"k\":1}\n");
    assert_eq!(out("del u.x, u", "{\"u\":{\"x\":1},\"k\":1}\n"), "{\"k\":1}\n");
}

#[test]
fn del_of_missing_field_keeps_original_bytes() {
    let line = "{ \"a\" : 1 ,\"tags\":[1],  \"x\":\"\\u00e9\", \"n\": 1.0 }\n";
    assert_eq!(out("del nope, a.b.c, tags[9], x[0]", line), line);
}

#[test]
fn del_of_a_repeated_key_removes_it() {
    assert_eq!(out("del a", "{\"a\":1,\"b\":2,\"a\":3}\n"), "{\"b\":2}\n");
}

// ---------------------------------------------------------------- keep

#[test]
fn keep_writes_fields_in_the_order_listed() {
    assert_eq!(out("keep c, a", "{\"a\":1,\"b\":2,\"c\":3}\n"), "{\"c\":3,\"a\":1}\n");
}

#[test]
fn keep_omits_missing_fields_and_keeps_explicit_null() {
    assert_eq!(
        out("keep a, missing, n", "{\"a\":1,\"n\":null}\n"),
        "{\"a\":1,\"n\":null}\n"
    );
    assert_eq!(out("keep missing", "{\"a\":1}\n"), "{}\n");
}

#[test]
fn keep_nested_paths_keep_their_shape() {
    let input = "{\"a\":1,\"u\":{\"n\":\"x\",\"id\":5,\"z\":0}}\n";
    assert_eq!(out("keep u.id, a", input), "{\"u\":{\"id\":5},\"a\":1}\n");
    assert_eq!(
        out("keep u.id, a, u.n", input),
        "{\"u\":{\"id\":5,\"n\":\"x\"},\"a\":1}\n"
    );
    assert_eq!(out("keep u.missing, a", input), "{\"a\":1}\n");
}

#[test]
fn keep_of_a_path_and_its_child_keeps_the_whole_parent() {
    let input = "{\"a\":1,\"u\":{\"n\":\"x\",\"id\":5}}\n";
    assert_eq!(out("keep u, u.id", input), "{\"u\":{\"n\":\"x\",\"id\":5}}\n");
    assert_eq!(out("keep u.id, u", input), "{\"u\":{\"n\":\"x\",\"id\":5}}\n");
}

#[test]
fn keep_copies_numbers_with_their_text_and_writes_strings_minimally_escaped() {
    // Like every modified event: numbers as written, no whitespace, minimal escapes.
    let input = "{\"a\": 1.0, \"s\":\"\\u00e9\\/\", \"big\":18446744073709551615, \"o\":{ \"k\" : 1E5 }}\n";
    assert_eq!(
        out("keep big, s, a, o", input),
        "{\"big\":18446744073709551615,\"s\":\"é/\",\"a\":1.0,\"o\":{\"k\":1E5}}\n"
    );
}

#[test]
fn keep_of_array_elements_keeps_them_at_their_index() {
    // Like jq's pick(.tags[1]): the element stays at its index, earlier ones are null.
    let input = "{\"a\":1,\"tags\":[\"x\",\"y\",\"z\"]}\n";
    assert_eq!(out("keep tags[1], a", input), "{\"tags\":[null,\"y\"],\"a\":1}\n");
    assert_eq!(out("keep tags[-1]", input), "{\"tags\":[null,null,\"z\"]}\n");
    assert_eq!(out("keep tags[0], tags[2]", input), "{\"tags\":[\"x\",null,\"z\"]}\n");
    assert_eq!(out("keep tags[5], a", input), "{\"a\":1}\n");
}

// ---------------------------------------------------------------- rename

#[test]
fn rename_keeps_the_position_within_one_object() {
    assert_eq!(
        out("rename b as B", "{\"a\":1,\"b\":2,\"c\":3}\n"),
        "{\"a\":1,\"B\":2,\"c\":3}\n"
    );
    assert_eq!(
        out(
            "rename u.b as u.B",
            "{\"a\":1,\"u\":{\"a\":0,\"b\":2,\"c\":3},\"c\":3}\n"
        ),
        "{\"a\":1,\"u\":{\"a\":0,\"B\":2,\"c\":3},\"c\":3}\n"
    );
}

#[test]
fn rename_across_objects_moves_the_field_to_the_end_of_its_new_parent() {
    let input = "{\"a\":1,\"u\":{\"a\":0,\"b\":2,\"c\":3},\"c\":3}\n";
    assert_eq!(
        out("rename u.b as v.b", input),
        "{\"a\":1,\"u\":{\"a\":0,\"c\":3},\"c\":3,\"v\":{\"b\":2}}\n"
    );
    assert_eq!(
        out("rename u.b as top", input),
        "{\"a\":1,\"u\":{\"a\":0,\"c\":3},\"c\":3,\"top\":2}\n"
    );
    assert_eq!(
        out("rename a as u.z", input),
        "{\"u\":{\"a\":0,\"b\":2,\"c\":3,\"z\":1},\"c\":3}\n"
    );
}

#[test]
fn rename_onto_an_existing_field_replaces_it() {
    // Like `mv`: the renamed field keeps its place, the old target goes.
    assert_eq!(
        out("rename a as c", "{\"a\":1,\"b\":2,\"c\":3}\n"),
        "{\"c\":1,\"b\":2}\n"
    );
}

#[test]
fn rename_pairs_apply_in_order() {
    assert_eq!(out("rename a as b, b as c", "{\"a\":1}\n"), "{\"c\":1}\n");
    assert_eq!(
        out("rename a as x, b as y", "{\"a\":1,\"b\":2}\n"),
        "{\"x\":1,\"y\":2}\n"
    );
}

#[test]
fn rename_of_a_missing_field_keeps_original_bytes() {
    let line = "{ \"a\":1, \"s\":\"\\u00e9\" }\n";
    assert_eq!(out("rename missing as x, u.v as w", line), line);
}

#[test]
fn rename_of_a_field_to_itself_keeps_original_bytes() {
    let line = "{ \"a\":1, \"s\":\"\\u00e9\" }\n";
    assert_eq!(out("rename a as a", line), line);
}

// ---------------------------------------------------------------- head and tail

#[test]
fn head_defaults_to_10() {
    assert_eq!(out("head", &numbered(15)), numbered(10));
}

#[test]
fn head_n_outputs_the_first_n() {
    assert_eq!(out("head 3", &numbered(15)), numbered(3));
    assert_eq!(out("head 20", &numbered(5)), numbered(5));
}

#[test]
fn a_count_of_0_is_a_usage_error() {
    for stage in ["head 0", "tail 0", "top 0 a", "head 0 by a"] {
        let r = run(&[stage], &numbered(5));
        assert_eq!(r.code, 2, "{stage}");
        assert!(
            r.stderr.contains("a count of 0 keeps no event"),
            "{stage}: {}",
            r.stderr
        );
    }
}

#[test]
fn tail_defaults_to_10() {
    assert_eq!(out("tail", &numbered(15)), numbered_range(6, 15));
}

#[test]
fn tail_n_outputs_the_last_n() {
    assert_eq!(out("tail 2", &numbered(15)), numbered_range(14, 15));
}

#[test]
fn tail_with_fewer_events_than_n_outputs_them_all() {
    assert_eq!(out("tail 10", &numbered(3)), numbered(3));
    assert_eq!(out("tail", ""), "");
}

#[test]
fn tail_keeps_original_bytes_and_modifications() {
    let input = "{ \"i\" : 1 }\n{ \"i\" : 2 }\n{ \"i\" : 3 }\n";
    assert_eq!(out("tail 2", input), "{ \"i\" : 2 }\n{ \"i\" : 3 }\n");
    assert_eq!(out("set j = i * 10 | tail 1", input), "{\"i\":3,\"j\":30}\n");
}

#[test]
fn head_and_tail_compose() {
    let input = numbered(15);
    assert_eq!(out("head 3 | tail 1", &input), "{\"i\":3}\n");
    assert_eq!(out("tail 3 | head 1", &input), "{\"i\":13}\n");
    assert_eq!(out("head 5 | head 2", &input), numbered(2));
}

// ---------------------------------------------------------------- combinations

#[test]
fn where_set_head_runs_in_order() {
    assert_eq!(
        out("where i % 2 == 0 | set sq = i * i | head 2", &numbered(15)),
        "{\"i\":2,\"sq\":4}\n{\"i\":4,\"sq\":16}\n"
    );
}

#[test]
fn later_stages_see_earlier_changes() {
    let input = "{\"a\":1,\"b\":2}\n{\"a\":5,\"b\":2}\n";
    assert_eq!(
        out("set c = a + b | where c > 3 | rename c as total | del b", input),
        "{\"a\":5,\"total\":7}\n"
    );
    assert_eq!(
        out("set u.x = a | keep u.x | set y = u.x * 2", input),
        "{\"u\":{\"x\":1},\"y\":2}\n{\"u\":{\"x\":5},\"y\":10}\n"
    );
}

#[test]
fn rename_then_where_on_the_new_name() {
    let input = "{\"lvl\":\"error\"}\n{\"lvl\":\"info\"}\n";
    assert_eq!(
        out(r#"rename lvl as level | where level == "error""#, input),
        "{\"level\":\"error\"}\n"
    );
}

// ---------------------------------------------------------------- output formats

#[test]
fn json_output_is_one_valid_array() {
    let input = "{\"a\":1}\n{\"b\": [2, 3]}\n{\"c\":\"\\u00e9\"}\n";
    let text = out_with(&["-o", "json", "where true"], input);
    assert_eq!(text, "[\n{\"a\":1},\n{\"b\": [2, 3]},\n{\"c\":\"\\u00e9\"}\n]\n");
    let v: Value = serde_json::from_str(&text).expect("a JSON document");
    assert_eq!(v.as_array().map(Vec::len), Some(3));
}

#[test]
fn json_output_is_an_empty_array_when_nothing_is_output() {
    assert_eq!(out_with(&["-o", "json", "where false"], "{\"a\":1}\n"), "[]\n");
    assert_eq!(out_with(&["-o", "json", "head 1"], ""), "[]\n");
}

#[test]
fn json_output_holds_modified_events() {
    assert_eq!(
        out_with(
            &["-o", "json", "set b = a * 2 | head 2"],
            &numbered(3).replace('i', "a")
        ),
        "[\n{\"a\":1,\"b\":2},\n{\"a\":2,\"b\":4}\n]\n"
    );
}

#[test]
fn pretty_output_indents_each_event() {
    let text = out_with(&["-o", "pretty", "set u.x = [1, 2]"], "{\"a\":1}\n{}\n");
    assert_eq!(
        text,
        "{\n  \"a\": 1,\n  \"u\": {\n    \"x\": [\n      1,\n      2\n    ]\n  }\n}\n{\n  \"u\": {\n    \"x\": [\n      1,\n      2\n    ]\n  }\n}\n"
    );
}

#[test]
fn pretty_output_keeps_key_order_and_number_text() {
    let text = out_with(
        &["-o", "pretty", "where true"],
        "{\"z\":18446744073709551615,\"a\":1.0,\"m\":-9223372036854775808,\"e\":1e400}\n",
    );
    assert_eq!(
        text,
        "{\n  \"z\": 18446744073709551615,\n  \"a\": 1.0,\n  \"m\": -9223372036854775808,\n  \"e\": 1e400\n}\n"
    );
}
