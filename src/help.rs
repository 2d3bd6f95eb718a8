//! `evq --help [TOPIC]`: the options with the stages and functions in a few lines,
//! or one list in full (`stages`, `functions`, `formats`); `man evq` has the rest.

use crate::cli::{Cli, HelpTopic};
use crate::exit::ExitStatus;
use clap::{CommandFactory, ValueEnum};

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
        "turn text into fields: a /regex/, logfmt, json, kv, combined, common, syslog",
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
    ("count [by KEYS] [every DUR]", "count events per group"),
    (
        "stats AGG [as NAME], … [by KEYS]",
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
    ("time(x) strftime(t, fmt) bucket(t, DUR) now()", "times as Unix seconds"),
    (
        "file() line() offset() topic() raw()",
        "where the event came from, its topic, its line",
    ),
];

/// Prints the help for `topic`.
pub(crate) fn print(topic: HelpTopic) -> ExitStatus {
    let text = match topic {
        HelpTopic::All => overview(),
        HelpTopic::Stages => table("Stages", STAGES),
        HelpTopic::Functions => table("Functions", FUNCTIONS),
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
        out.push_str(&format!("  {call:width$}  {what}\n"));
    }
    out
}

fn formats() -> String {
    fn list<T: ValueEnum>() -> Vec<(String, String)> {
        T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
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
        "{}\n{}\njsonl is another name for ndjson.",
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
