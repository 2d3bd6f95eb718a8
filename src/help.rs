//! `evq --help [TOPIC]`: the options with the stages and functions in a few lines,
//! or one list in full (`stages`, `functions`, `formats`); `man evq` has the rest.

use crate::cli::{Cli, HelpTopic};
use crate::exit::ExitStatus;
use clap::{CommandFactory, ValueEnum};
use std::fmt::Write as _;

/// Every stage this version has, as typed, and what it does.
pub(crate) const STAGES: &[(&str, &str)] = &[
    ("where EXPR", "keep events for which EXPR is true"),
    ("set PATH = EXPR, …", "set fields"),
    ("del PATH, …", "remove fields"),
    ("keep PATH, …", "keep only these fields, in this order"),
    ("rename PATH as PATH, …", "move fields"),
    (
        "head N [by KEYS] / tail N [by KEYS]",
        "the first / last N events, or of each group",
    ),
    (
        "parse FORMAT [from EXPR]",
        "turn text into fields: a /regex/, \"* [*] *\" as NAMES, logfmt, json, kv, combined, common, syslog",
    ),
    ("explode PATH [as NAME]", "one event per element of an array"),
    (
        "route by EXPR | route NAME: EXPR, … [else NAME]",
        "set the topic (route all: a copy per match)",
    ),
    (
        "to TEMPLATE / tee TEMPLATE",
        "write events to files named by the template (tee passes them on)",
    ),
    (
        "count [by KEYS] [every DUR [slide DUR]]",
        "count events per group (and window)",
    ),
    (
        "stats AGG [as NAME], … [by KEYS] [every DUR [slide DUR]]",
        "aggregates per group: sum avg min max p99 distinct values …",
    ),
    ("top N KEYS [by AGG]", "the N most frequent groups"),
    ("distinct KEYS", "unique combinations, first seen first"),
    ("sort EXPR [desc], …", "stable sort"),
    ("sample RATE [by EXPR]", "keep 10% or 1/100 of events, reproducibly"),
    (
        "join FILE on EXPR [= EXPR] [as NAME]",
        "add the matching record of an NDJSON or CSV file",
    ),
    (
        "validate SCHEMA_FILE",
        "events that do not match the JSON Schema are dead letters",
    ),
    (
        "fold by KEYS [from PATH] [emit final|changes]",
        "rebuild each entity's state by merging its events",
    ),
    (
        "assert EXPR [else \"MESSAGE\"]",
        "an event for which EXPR is false fails the run (exit 1)",
    ),
    ("dedupe [by KEYS] [within DUR]", "drop repeats of a key (default id)"),
    (
        "throttle N per DUR [by EXPR]",
        "at most N events per key per event-time window",
    ),
    (
        "reorder by EXPR within DUR|N",
        "restore the order of a slightly disordered stream",
    ),
    (
        "summary",
        "per field path: types, nulls, distinct values, min, max, samples",
    ),
    ("shapes", "the distinct sets of top-level keys, most common first"),
    (
        "flatten [SEP] / unflatten [SEP]",
        "nested fields to dotted keys (a.b, tags.0) and back",
    ),
    ("fill-down PATH, …", "a missing or null field takes the last value seen"),
    (
        "step FN(EXPR), … [by KEYS]",
        "running delta, shift, rate, sum, count, ewma per group",
    ),
];

/// Every function, as called, and what it gives.
pub(crate) const FUNCTIONS: &[(&str, &str)] = &[
    ("len(x)", "length of a string, array or object"),
    ("lower(s) upper(s) trim(s)", "case and whitespace"),
    ("contains(s, t) startswith(s, t) endswith(s, t)", "text tests"),
    ("replace(s, from, to)", "replace every occurrence"),
    ("split(s, sep) join(array, sep)", "between strings and arrays"),
    ("substr(s, start[, len])", "part of a string, by characters"),
    ("str(x) int(x) float(x)", "conversions; null when impossible"),
    ("round(x[, digits]) floor(x) ceil(x) abs(x)", "numbers"),
    (
        "min(x, …) max(x, …) coalesce(x, …)",
        "smallest, largest, first non-null",
    ),
    ("exists(path)", "true when the field is there, even if null"),
    ("type(x)", "null, boolean, number, string, array or object"),
    ("hash(x, …)", "a stable 64-bit hash"),
    (
        "time(x) strftime(t, fmt[, tz]) bucket(t, DUR) now()",
        "times as Unix seconds; tz: \"Europe/Berlin\"",
    ),
    ("strptime(s, fmt)", "a time read with a strftime format"),
    ("keys(x) values(x)", "an object's keys or values, in order"),
    (
        "unique(a) sort(a) reverse(a) flatten(a[, depth])",
        "arrays (reverse also strings)",
    ),
    ("first(a) last(a) sum(a)", "an array's ends, the sum of its numbers"),
    (
        "map(a, x => e) filter(a, x => c) any(a, x => c) all(a, x => c)",
        "per element; x is the element",
    ),
    (
        "capture(s, /(?P<name>re)/) match(s, /re/)",
        "named groups as an object; the first match",
    ),
    (
        "sub(s, /re/, to) gsub(s, /re/, to)",
        "replace the first / every match ($1, ${name})",
    ),
    ("format(\"%s:%05d\", x, …)", "sprintf: %s %d %f %.2f %x %05d %-10s %%"),
    (
        "pad_left(s, n[, c]) pad_right(s, n[, c]) repeat(s, n)",
        "widen or repeat text",
    ),
    (
        "url_encode(s) url_decode(s) base64_encode(s) base64_decode(s)",
        "text codings",
    ),
    ("md5(s) sha1(s) sha256(s)", "hex digests"),
    ("parse_url(s)", "{scheme, host, port, path, query, fragment}"),
    (
        "ip_in(ip, \"10.0.0.0/8\")",
        "IPv4/IPv6 network test (or a list of networks)",
    ),
    ("to_number(s)", "a number from text: \"3\", \"2.5\", \"0x1f\""),
    ("log(x) log10(x) exp(x) sqrt(x) pow(x, y)", "math; null where undefined"),
    ("env(\"NAME\")", "an environment variable ($ENV.NAME, $NAME from --arg)"),
    (
        "file() line() offset() topic() subject() raw()",
        "where the event came from, its topic, its NATS subject, its line",
    ),
];

/// The expression syntax beyond operators and calls, listed after the functions.
pub(crate) const SYNTAX: &[(&str, &str)] = &[
    (
        "if C then A [elif C2 then B] [else D] end",
        "a conditional; no else gives null",
    ),
    ("{name: x, \"a key\": y, field}", "an object"),
    ("[x, y]", "an array"),
    ("x in (\"a\", \"b\")  x in [\"a\", \"b\"]", "membership"),
    (
        "x[i] x[1:3] x[-2:] x[:2] x.key",
        "index, slice (strings by characters), key",
    ),
    (
        "@2026-11-01T00:00:00Z @2026-11-01",
        "a time, as Unix seconds: time(ts) >= @2026-11-01",
    ),
    (
        "$NAME $ENV.HOME",
        "--arg NAME VALUE, --argjson NAME JSON, the environment",
    ),
];

/// Prints the help for `topic`.
pub(crate) fn print(topic: HelpTopic) -> ExitStatus {
    let text = match topic {
        HelpTopic::All => overview(),
        HelpTopic::Stages => table("Stages", STAGES),
        HelpTopic::Functions => format!("{}\n{}", table("Functions", FUNCTIONS), table("Expressions", SYNTAX)),
        HelpTopic::Formats => formats(),
    };
    match crate::messages::stdout(text.trim_end()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => ExitStatus::Output,
        _ => ExitStatus::Success,
    }
}

fn overview() -> String {
    let names = |items: &[(&str, &str)]| {
        items
            .iter()
            .flat_map(|(call, _)| call.split(" / ").map(|c| c.split([' ', '(']).next().unwrap_or(c)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let fns: Vec<&str> = crate::lang::func::Func::NAMES.to_vec();
    format!(
        "{}\nStages: {}\nFunctions: {}\n\nMore: evq --help stages | functions | formats; man evq for the language, exit codes and warnings.",
        Cli::command().render_long_help(),
        names(STAGES),
        fns.join(" ")
    )
}

fn table(title: &str, items: &[(&str, &str)]) -> String {
    let width = items.iter().map(|(c, _)| c.chars().count()).max().unwrap_or(0);
    let mut out = format!("{title}:\n");
    for (call, what) in items {
        let _ = writeln!(out, "  {call:width$}  {what}");
    }
    out
}

fn formats() -> String {
    fn list<T: ValueEnum>() -> Vec<(String, String)> {
        T::value_variants()
            .iter()
            .filter_map(clap::ValueEnum::to_possible_value)
            .filter(|v| !v.is_hide_set())
            .map(|v| {
                (
                    v.get_name().to_string(),
                    v.get_help().map(ToString::to_string).unwrap_or_default(),
                )
            })
            .collect()
    }
    let section = |title: &str, items: Vec<(String, String)>| {
        let rows: Vec<(&str, &str)> = items.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        table(title, &rows)
    };
    format!(
        "{}\n{}\njsonl is another name for ndjson. For text, -r writes an event of one field as its value \
         (as jq -r), and --format '{{ts}} {{level|upper}} {{msg}}' one line per event from a template.",
        section("Input formats (-i)", list::<crate::input::InputFormat>()),
        section("Output formats (-o)", list::<crate::output::Format>()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_list_names_every_supported_stage_and_no_other() {
        let listed = overview();
        let line = listed.lines().find(|l| l.starts_with("Stages: ")).unwrap_or_default();
        let mut named: Vec<&str> = line["Stages: ".len()..].split(' ').collect();
        named.sort_unstable();
        let mut supported = crate::lang::parser::SUPPORTED.to_vec();
        supported.sort_unstable();
        assert_eq!(named, supported);
    }

    #[test]
    fn every_function_is_described() {
        let text = table("Functions", FUNCTIONS);
        for name in crate::lang::func::Func::NAMES {
            assert!(text.contains(&format!("{name}(")), "{name}");
        }
    }
}
