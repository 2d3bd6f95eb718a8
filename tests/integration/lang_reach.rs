//! The language's reach through the binary: conditionals, constructors, slices, lambdas,
//! text, time and `$NAME` parameters, as a newcomer from jq, Miller or angle-grinder
//! would type them.

use crate::common::run;

/// evq's stdout for `args` on `input`, which must succeed with nothing on stderr.
fn out(args: &[&str], input: &str) -> String {
    let r = run(args, input);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{args:?}");
    r.stdout
}

/// The stderr of `args`, which must be refused as a usage error before reading input.
fn refused(args: &[&str]) -> String {
    let r = run(args, "{\"a\":1}\n");
    assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{args:?}: {}", r.stderr);
    r.stderr
}

const STATUSES: &str =
    "{\"status\":200,\"path\":\"/a\"}\n{\"status\":404,\"path\":\"/b\"}\n{\"status\":503,\"path\":\"/c\"}\n";

#[test]
fn a_conditional_works_in_set_where_and_group_keys() {
    let set = r#"set sev = if status >= 500 then "error" elif status >= 400 then "warn" else "ok" end | keep sev"#;
    assert_eq!(
        out(&[set], STATUSES),
        "{\"sev\":\"ok\"}\n{\"sev\":\"warn\"}\n{\"sev\":\"error\"}\n"
    );
    let by = r#"count by if status >= 400 then "bad" else "good" end as kind"#;
    assert_eq!(
        out(&[by], STATUSES),
        "{\"kind\":\"bad\",\"count\":2}\n{\"kind\":\"good\",\"count\":1}\n"
    );
    let r#where = r#"where if path == "/a" then true else status > 500 end | keep path"#;
    assert_eq!(out(&[r#where], STATUSES), "{\"path\":\"/a\"}\n{\"path\":\"/c\"}\n");
    let tee = r#"set f = if status < 300 then "x" end | keep f"#;
    assert_eq!(out(&[tee], STATUSES), "{\"f\":\"x\"}\n{\"f\":null}\n{\"f\":null}\n");
}

#[test]
fn the_c_style_conditional_is_refused_with_the_if_form() {
    let e = refused(&[r#"set s = status > 500 ? "error" : "ok""#]);
    assert!(e.contains("evq has no `? :` operator"), "{e}");
    assert!(e.contains("if CONDITION then VALUE else OTHER end"), "{e}");
}

#[test]
fn objects_arrays_lists_and_slices_are_built_per_event() {
    let ev = "{\"user\":\"ann\",\"ip\":\"10.0.0.1\",\"tags\":[\"a\",\"b\",\"c\"],\"msg\":\"héllo world\"}\n";
    assert_eq!(
        out(
            &[r#"set o = {who: user, "the ip": ip, tags, pair: [user, tags[-1]]} | keep o"#],
            ev
        ),
        "{\"o\":{\"who\":\"ann\",\"the ip\":\"10.0.0.1\",\"tags\":[\"a\",\"b\",\"c\"],\"pair\":[\"ann\",\"c\"]}}\n"
    );
    assert_eq!(
        out(
            &[r#"set a = msg[0:5], b = tags[-2:], c = msg[:1], d = split(msg, " ")[1] | keep a, b, c, d"#],
            ev
        ),
        "{\"a\":\"héllo\",\"b\":[\"b\",\"c\"],\"c\":\"h\",\"d\":\"world\"}\n"
    );
    assert_eq!(
        out(&[r#"where user in ("bob", "ann") | keep user"#], ev),
        "{\"user\":\"ann\"}\n"
    );
    assert_eq!(out(&[r#"where user not in ("bob", "ann")"#], ev), "");
}

#[test]
fn lambdas_see_each_element_and_no_field_warning_for_their_name() {
    let ev = "{\"items\":[{\"sku\":\"a\",\"qty\":2},{\"sku\":\"b\",\"qty\":0}],\"x\":\"field\"}\n";
    assert_eq!(
        out(&["set skus = map(items, x => x.sku), x2 = x | keep skus, x2"], ev),
        "{\"skus\":[\"a\",\"b\"],\"x2\":\"field\"}\n"
    );
    assert_eq!(
        out(&["set n = len(filter(items, i => i.qty > 0)) | keep n"], ev),
        "{\"n\":1}\n"
    );
    // `i` is the lambda's name, not a field the events lack: no warning.
    assert_eq!(
        out(&["where any(items, i => i.qty == 0) | keep x"], ev),
        "{\"x\":\"field\"}\n"
    );
    assert_eq!(out(&["where all(items, i => i.qty > 0)"], ev), "");
}

#[test]
fn array_functions_reshape_what_events_hold() {
    let ev = "{\"t\":[\"b\",\"a\",\"b\"],\"n\":[1,[2,[3]]],\"o\":{\"k\":1,\"j\":2}}\n";
    assert_eq!(
        out(
            &[
                "set u = unique(t), s = sort(t), r = reverse(t), f = flatten(n), k = keys(o), v = values(o), a = first(t), z = last(t), sum = sum(flatten(n)) | del t, n, o"
            ],
            ev
        ),
        "{\"u\":[\"b\",\"a\"],\"s\":[\"a\",\"b\",\"b\"],\"r\":[\"b\",\"a\",\"b\"],\"f\":[1,2,3],\"k\":[\"k\",\"j\"],\"v\":[1,2],\"a\":\"b\",\"z\":\"b\",\"sum\":6}\n"
    );
}

#[test]
fn text_functions_parse_access_log_fields() {
    let ev = "{\"req\":\"GET /search?q=caf%C3%A9&page=2 HTTP/1.1\",\"ip\":\"192.168.1.7\",\"code\":\"0x1f\"}\n";
    // `set` assigns from the event as it was, so a value used later is set in a stage before.
    let pipeline = r#"set r = capture(req, /(?P<method>\w+) (?P<target>\S+)/), n = to_number(code) | set q = parse_url(r.target).query, lan = ip_in(ip, ["10.0.0.0/8", "192.168.0.0/16"]), line = format("%-4s|%05d|%.1f", r.method, n, 2.25), h = sha256("abc")[:8] | del req, ip, code, r"#;
    assert_eq!(
        out(&[pipeline], ev),
        "{\"n\":31,\"q\":{\"q\":\"café\",\"page\":\"2\"},\"lan\":true,\"line\":\"GET |00031|2.2\",\"h\":\"ba7816bf\"}\n"
    );
    let ev = "{\"m\":\"user=ann id=7 user=bob\"}\n";
    assert_eq!(
        out(
            &[r#"set a = sub(m, /user=(\w+)/, "u:$1"), b = gsub(m, "user=", ""), c = match(m, /\d+/) | keep a, b, c"#],
            ev
        ),
        "{\"a\":\"u:ann id=7 user=bob\",\"b\":\"ann id=7 bob\",\"c\":\"7\"}\n"
    );
}

#[test]
fn a_literal_pattern_or_format_that_is_wrong_is_refused_before_reading() {
    assert!(refused(&["set x = capture(a, \"(\")"]).contains("bad regex"));
    assert!(refused(&["set x = format(\"%q\", a)"]).contains("bad format"));
    let e = refused(&["set x = format(\"%d %d\", 1)"]);
    assert!(e.contains("converts 2 values but is given 1 value"), "{e}");
    assert!(refused(&["set x = format(\"%s%%\", 1, 2)"]).contains("converts 1 value but is given 2"));
    assert_eq!(
        out(&["set x = format(\"%d%%\", 5) | keep x"], "{}\n"),
        "{\"x\":\"5%\"}\n"
    );
    // A replacement's $name takes every letter, digit and _ after the $: $1x names no group.
    for call in [
        r#"gsub(s, /(a)/, "$1x")"#,
        r#"sub(s, "(a)", "$nope")"#,
        r#"replace(s, /(?P<g>a)/, "${h}")"#,
    ] {
        let e = refused(&[&format!("set r = {call}")]);
        assert!(e.contains("a group") && e.contains("${1}x"), "{call}: {e}");
    }
    let ok = r#"set r = gsub(s, /(a)(?P<g>b)/, "${1}x$2$g$$ $") | keep r"#;
    assert_eq!(out(&[ok], "{\"s\":\"ab\"}\n"), "{\"r\":\"axbb$ $\"}\n");
    assert!(refused(&["set x = ip_in(a, \"10.0.0.0/40\")"]).contains("bad network"));
    assert!(refused(&["set x = strftime(a, \"%Y\", \"Mars/Olympus\")"]).contains("unknown time zone"));
    let e = refused(&["set x = pad_left(a)"]);
    assert!(e.contains("`pad_left` takes 2 to 3 argument(s), got 1"), "{e}");
    assert!(e.contains("pad_left(s, width[, char])"), "{e}");
}

#[test]
fn time_literals_durations_zones_and_formats() {
    let ev = "{\"ts\":\"2026-11-01T10:07:30Z\",\"d\":\"01/Nov/2026:11:07:30 +0100\"}\n{\"ts\":\"2026-10-31T23:59:59Z\",\"d\":\"x\"}\n";
    let pipeline = r#"where time(ts) >= @2026-11-01T00:00:00Z | set hour_ago = strftime(time(ts) - 1h, "%H:%M"), berlin = strftime(ts, "%Y-%m-%d %H:%M %Z", "Europe/Berlin"), parsed = strptime(d, "%d/%b/%Y:%H:%M:%S %z") == time(ts) | keep hour_ago, berlin, parsed"#;
    assert_eq!(
        out(&[pipeline], ev),
        "{\"hour_ago\":\"09:07\",\"berlin\":\"2026-11-01 11:07 CET\",\"parsed\":true}\n"
    );
    assert!(refused(&["where time(ts) > @2026-13-01"]).contains("bad time literal"));
}

#[test]
fn times_evq_writes_as_numbers_read_back_as_the_same_times_up_to_9999() {
    let ev = "{\"ts\":\"6000-01-01T10:00:00Z\"}\n{\"ts\":\"9999-12-31T12:00:00Z\"}\n";
    let pipeline = r#"set y = strftime(time(ts), "%Y-%m-%d"), b = strftime(bucket(time(ts), 1d), "%Y-%m-%d"), same = time(time(ts)) == time(ts) | keep y, b, same"#;
    assert_eq!(
        out(&[pipeline], ev),
        "{\"y\":\"6000-01-01\",\"b\":\"6000-01-01\",\"same\":true}\n{\"y\":\"9999-12-31\",\"b\":\"9999-12-31\",\"same\":true}\n"
    );
    // --since takes Unix seconds: a second past 6000-01-01 10:00 keeps only the later event.
    assert_eq!(out(&["--since", "253402300799", "count"], ev), "{\"count\":0}\n");
    assert_eq!(out(&["--since", "127174528801", "count"], ev), "{\"count\":1}\n");
    // strptime gives no time outside the years 0000 to 9999, as time() does.
    let outside =
        r#"set a = strptime("-0001-01-01", "%Y-%m-%d"), b = strptime("+10000-01-01", "%Y-%m-%d") | keep a, b"#;
    assert_eq!(out(&[outside], "{}\n"), "{\"a\":null,\"b\":null}\n");
}

#[test]
fn parameters_come_from_arg_argjson_and_the_environment() {
    let r = crate::common::evq()
        .env("EVQ_REACH_TEST", "from-env")
        .args([
            "--arg",
            "svc",
            "api",
            "--argjson",
            "cfg",
            r#"{"min": 400, "hosts": ["a", "b"]}"#,
            r#"where service == $svc and status >= $cfg.min | set e = $ENV.EVQ_REACH_TEST, f = env("EVQ_REACH_TEST"), h = $cfg.hosts[1] | keep e, f, h"#,
        ])
        .write_stdin("{\"service\":\"api\",\"status\":500}\n{\"service\":\"web\",\"status\":500}\n{\"service\":\"api\",\"status\":200}\n")
        .output()
        .expect("evq runs");
    assert_eq!(
        String::from_utf8_lossy(&r.stdout),
        "{\"e\":\"from-env\",\"f\":\"from-env\",\"h\":\"b\"}\n"
    );
    assert_eq!(r.status.code(), Some(0));
}

#[test]
fn text_that_would_pass_a_mebibyte_is_null_however_it_is_built() {
    let nested = r#"set r = replace(replace(replace(s, "y", repeat("y", 1000)), "y", repeat("y", 1000)), "y", repeat("y", 1000)), j = join(map(a, x => repeat("y", 600000)), ""), g = gsub(repeat("y", 1000), /y/, repeat("x", 2000)), c = repeat("z", 800000) + repeat("z", 800000), f = format("%s%s", repeat("q", 600000), repeat("q", 600000)), u = url_encode(repeat("/", 400000)), ok = replace(s, "y", "yy") | del s, a"#;
    assert_eq!(
        out(&[nested], "{\"s\":\"y\",\"a\":[1,2]}\n"),
        "{\"r\":null,\"j\":null,\"g\":null,\"c\":null,\"f\":null,\"u\":null,\"ok\":\"yy\"}\n"
    );
}

#[test]
fn for_a_parameter_given_twice_the_last_counts_whichever_flag_gave_it() {
    let args = [
        "--argjson",
        "v",
        "2",
        "--arg",
        "v",
        "1",
        "--argjson",
        "w",
        "[3]",
        "--arg",
        "w",
        "x",
    ];
    let mut args = args.to_vec();
    args.push("set v = $v, w = $w");
    assert_eq!(out(&args, "{}\n"), "{\"v\":\"1\",\"w\":\"x\"}\n");
    assert_eq!(
        out(&["--arg", "v", "1", "--argjson", "v", "2", "set v = $v"], "{}\n"),
        "{\"v\":2}\n"
    );
}

#[cfg(unix)]
#[test]
fn env_leaves_out_variables_that_are_not_text() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"\xff");
    let r = crate::common::evq()
        .env("EVQ_BAD_VALUE", bad)
        .env(std::ffi::OsStr::from_bytes(b"EVQ_BAD_\xffNAME"), "x")
        .env("EVQ_GOOD", "yes")
        .args(["set g = $ENV.EVQ_GOOD, b = $ENV.EVQ_BAD_VALUE, e = env(\"EVQ_BAD_VALUE\")"])
        .write_stdin("{}\n")
        .output()
        .expect("evq runs");
    assert_eq!(
        (r.status.code(), String::from_utf8_lossy(&r.stdout).as_ref()),
        (Some(0), "{\"g\":\"yes\",\"b\":null,\"e\":null}\n"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
}

#[test]
fn a_wrong_parameter_is_a_one_line_usage_error() {
    let e = refused(&["--argjson", "n", "{oops", "where a == $n"]);
    assert!(e.starts_with("evq: --argjson: the value of `n` is not JSON"), "{e}");
    let e = refused(&["--argjson", "n", "\"\\ud800\"", "where a == $n"]);
    assert!(e.contains("lone surrogate"), "{e}");
    assert_eq!(out(&["--argjson", "n", "1E5", "set a = $n"], "{}\n"), "{\"a\":1E5}\n");
    assert_eq!(e.lines().count(), 1, "{e}");
    let e = refused(&["--arg", "svc", "api", "where a == $sv"]);
    assert!(e.contains("unknown parameter `$sv`"), "{e}");
    assert!(e.contains("did you mean `$svc`? given: $svc"), "{e}");
    let e = refused(&["where a == $nothing"]);
    assert!(e.contains("--arg nothing VALUE"), "{e}");
    assert!(refused(&["--arg", "ENV", "x", "where true"]).contains("cannot be a parameter name"));
}

#[test]
fn values_that_cannot_be_computed_are_null_and_every_line_is_counted() {
    let input = "{\"a\":\"x\"}\n{\"a\":[1]}\n{\"a\":null}\n";
    let pipeline = "set b = base64_decode(a), c = sqrt(a), d = a[1:], e = map(a, x => x + 1), f = keys(a), g = parse_url(a), h = if a then 1 end | del a";
    let r = run(&["--stats", pipeline], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"b\":null,\"c\":null,\"d\":\"\",\"e\":null,\"f\":null,\"g\":null,\"h\":1}\n\
         {\"b\":null,\"c\":null,\"d\":[],\"e\":[2],\"f\":[0],\"g\":null,\"h\":1}\n\
         {\"b\":null,\"c\":null,\"d\":null,\"e\":null,\"f\":null,\"g\":null,\"h\":null}\n"
    );
    // Every line read is one emitted event: no line is lost to a value that cannot be computed.
    assert!(r.stderr.contains("\"lines_read\": 3,"), "{}", r.stderr);
    assert!(r.stderr.contains("\"events_out\": 3,"), "{}", r.stderr);
}

#[test]
fn help_lists_the_new_functions_and_syntax() {
    let help = out(&["--help", "functions"], "");
    for item in [
        "map(a, x => e)",
        "capture(s, /(?P<name>re)/)",
        "if C then A",
        "$NAME $ENV.HOME",
        "strptime(s, fmt)",
    ] {
        assert!(help.contains(item), "{item} missing from --help functions");
    }
}

#[test]
fn templates_take_conditionals_and_parameters() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pipeline = format!(
        "to \"{}/{{$env}}-{{if status >= 500 then \\\"err\\\" else \\\"ok\\\" end}}.ndjson\"",
        dir.path().display()
    );
    out(
        &["--arg", "env", "prod", &pipeline],
        "{\"status\":503}\n{\"status\":200}\n{\"status\":500}\n",
    );
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    assert_eq!(read("prod-err.ndjson"), "{\"status\":503}\n{\"status\":500}\n");
    assert_eq!(read("prod-ok.ndjson"), "{\"status\":200}\n");
}

#[test]
fn a_single_value_in_parentheses_after_in_is_a_list_not_a_substring() {
    let input = "{\"level\":\"err\"}\n{\"level\":\"error\"}\n";
    assert_eq!(out(&[r#"where level in ("error")"#], input), "{\"level\":\"error\"}\n");
    // A string on the right of `in` (without parentheses) is still a substring test.
    assert_eq!(out(&[r#"where level in "error""#], input), input);
}
