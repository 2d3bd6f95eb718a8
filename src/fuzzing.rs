//! Entry points of the fuzz targets in `fuzz/`, shared with the test that replays their
//! saved inputs (`fuzz/regressions/`). Each takes the fuzzer's bytes and panics only on a
//! bug: a panic inside evq, or a broken promise that the function checks.

use crate::cli::Cli;
use crate::config::Config;
use crate::event::{Event, Needs, Origin};
use crate::exit::ExitStatus;
use crate::lang::{Env, parse_pipeline};
use crate::parse::{TextFormat, Want};
use crate::stage::{Stage, StageOptions};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The fuzz targets, by the name of their folder in `fuzz/regressions/`.
pub fn run_target(target: &str, data: &[u8]) -> Option<()> {
    match target {
        "pipeline" => pipeline(data),
        "events" => events(data).map(drop),
        "text" => text(data),
        "template" => template(data).map(drop),
        "json" => json(data),
        _ => None,
    }
}

/// Any text as a pipeline: it is compiled, or it is a usage error with a caret and a hint.
pub fn pipeline(data: &[u8]) -> Option<()> {
    let text = std::str::from_utf8(data).ok()?;
    let cli = Cli::read(["evq", "--no-progress", "--", text]).ok()?;
    if let Err(e) = Config::build(cli, &crate::facts()).config {
        let message = crate::messages::line(e);
        let mut lines = message.lines();
        assert!(
            lines.next().is_some_and(|l| l.starts_with("evq: pipeline error: ")),
            "{message}"
        );
        assert!(lines.nth(1).is_some_and(|l| l.contains('^')), "no caret: {message}");
        assert!(
            lines.next().is_some_and(|l| l.starts_with("  hint: ")),
            "no hint: {message}"
        );
    }
    Some(())
}

/// Any text as a JSON line: the decode-time check's fast path accepts only what
/// `serde_json` accepts, and captures the same fields. The first byte picks the fields.
pub fn json(data: &[u8]) -> Option<()> {
    let (&pick, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let want: Vec<Box<str>> = ["a", "b", "", "é"]
        .iter()
        .take(usize::from(pick % 5))
        .map(|k| (*k).into())
        .collect();
    if let Err(e) = crate::json::fast_path_agrees(text, &want, pick >= 128) {
        panic!("{e}");
    }
    Some(())
}

/// Pipelines for `events`: each stage that runs on events, and the text parsers.
pub const EVENT_PIPELINES: &[&str] = &[
    r#"where a == 1 or b =~ /x/i or c > "m""#,
    r"set c = a + 1, d.e[2] = lower(b), f = len(b) ?? 0, g = a * 2 / 3 % 7, h = -a",
    "keep a, b.c, d[0], `x.y`",
    "del a, b.c, d[-1]",
    "rename a as z, b.c as y.w",
    r#"route errors: level == "error", slow: ms > 5 else rest | count by topic()"#,
    "route all x: a > 1, y: true | route by b",
    "count by a, b.c",
    "stats count(), sum(a), avg(a), min(b), max(b), p99(a), distinct(b), values(b), stddev(a) by c",
    "sort a desc, b | head 5",
    "parse logfmt else keep | keep level, msg",
    "parse syslog from raw() else drop",
    "parse combined else keep | count by status",
    "parse kv else keep | set n = int(x)",
    r"parse /(?P<n>\d+)-(?P<w>\w+)/ else keep",
    r#"set t = time(ts), w = bucket(time(ts), 5m), s = strftime(time(ts), "%Y-%m-%d") | count by w"#,
    "top 3 a by sum(b)",
    "distinct a | tail 3",
    r#"set x = substr(a, 1, 3), y = split(b, ","), z = replace(b, "a", "b"), h = hash(.), j = join(c, "-")"#,
    r#"where exists(a) and a in [1, "x", null] | set a[-1] = 1, b[3] = str(a)"#,
    "stats count(), last(a), first(b) every 1m",
    r#"set u = upper(trim(a)), v = round(float(b)), w = abs(int(c)), x = contains(a, "q") | keep u, v, w, x"#,
    "explode tags as t | sample 50% by t | dedupe by a within 1m",
    "dedupe by a | throttle 2 per 1m by b",
    "reorder by ts within 10s | fold by a emit changes",
    "fold by a from b | assert _events < 3",
    "fold by a, b.c | where _events > 1",
    "explode a | reorder by b within 3 | head 4",
    "assert a != 7 | count by b",
    "step delta(a), shift(b) as p, sum(a) by c | throttle 3 per 1d",
    "top 2 a every 1m | distinct a every 1m slide 30s",
    "sample 1/3 | explode b as c | tail 2",
    "sort a | explode b | dedupe by b | head 3",
    "summary | head 3",
    "shapes",
    r#"flatten | unflatten "_" | flatten ":""#,
    "head 2 by a | tail 1 by b",
    "fill-down a, b.c | step delta(a), rate(b), ewma(a, 0.3), count(c), shift(b) by d",
    "count by a every 3s slide 1s",
    "stats sum(a), first(b), values(c) by d every 1d slide 12h",
];

/// The `-i` formats for `events`.
pub const INPUT_FORMATS: &[&str] = &["ndjson", "json", "csv", "tsv", "lines", "logfmt"];

/// The first byte picks a pipeline and an input format; the rest is the input, run
/// through the whole engine on two threads.
pub fn events(data: &[u8]) -> Option<ExitStatus> {
    let (&pick, input) = data.split_first()?;
    let pick = usize::from(pick);
    let pipeline = EVENT_PIPELINES[pick % EVENT_PIPELINES.len()];
    let format = INPUT_FORMATS[(pick / EVENT_PIPELINES.len()) % INPUT_FORMATS.len()];
    Some(run_engine(pipeline, format, input))
}

/// Runs `pipeline` on `input` read with `-i format`, writing to nowhere.
pub fn run_engine(pipeline: &str, format: &str, input: &[u8]) -> ExitStatus {
    let path = scratch_file();
    if std::fs::write(&path, input).is_err() {
        return ExitStatus::Input;
    }
    let path_arg = path.to_string_lossy().into_owned();
    let args = [
        "evq",
        "--no-progress",
        "-j",
        "2",
        "-i",
        format,
        "--",
        pipeline,
        &path_arg,
    ];
    let cli = match Cli::read(args) {
        Ok(cli) => cli,
        Err(e) => panic!("the fuzzer's arguments are wrong: {e}"),
    };
    let cfg = match Config::build(cli, &crate::facts()).config {
        Ok(cfg) => cfg,
        Err(e) => panic!("the fuzzer's pipeline `{pipeline}` is wrong: {e}"),
    };
    let status = crate::exec::run(cfg, Box::new(std::io::sink()));
    let _ = std::fs::remove_file(&path);
    // The engine catches a panic in its threads and exits 70: for the fuzzer that is a crash.
    assert_ne!(status, ExitStatus::Internal, "`{pipeline}` -i {format}: internal error");
    status
}

/// A file of this process's own, in memory where the system has /dev/shm.
fn scratch_file() -> PathBuf {
    let dir = Path::new("/dev/shm");
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    dir.join(format!("evq-fuzz-{}-{thread}", std::process::id()))
}

/// The text parsers on any bytes (the first picks the parser). Whether a text parses
/// must not depend on which fields are wanted.
pub fn text(data: &[u8]) -> Option<()> {
    let (&pick, rest) = data.split_first()?;
    let text = String::from_utf8_lossy(rest);
    let formats = [
        TextFormat::Logfmt,
        TextFormat::Kv,
        TextFormat::Combined,
        TextFormat::Common,
        TextFormat::Syslog {
            year: crate::parse::Year::fixed(2026),
        },
        TextFormat::Json,
    ];
    let format = &formats[usize::from(pick) % formats.len()];
    let all = crate::parse::parse(format, &text);
    let want = Want::Only(vec!["status".into(), "host".into(), "msg".into(), "time".into()]);
    let some = crate::parse::parse_only(format, &text, &want);
    assert_eq!(
        all.is_some(),
        some.is_some(),
        "whether {} parses depends on the fields wanted",
        format.name()
    );
    Some(())
}

/// `to "out/{x}/{y}.ndjson"` with any values: `x` and `y` are the input split at its
/// first NUL, each as JSON when it is JSON, else as a string. The rendered file must be
/// exactly two plain components below `out`. Returns the rendered path.
pub fn template(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let (x, y) = text.split_once('\0').unwrap_or((&text, ""));
    let raw = format!("{{\"x\":{},\"y\":{}}}", json_or_string(x), json_or_string(y));
    let asts = parse_pipeline(r#"to "out/{x}/{y}.ndjson""#).ok()?;
    let ast = asts.first()?;
    let Ok(Stage::To(to)) = Stage::build(ast, &StageOptions::default()) else {
        return None;
    };
    let mut needs = Needs::default();
    crate::stage::Describe::needs(&to, &mut needs);
    let ev = Event::parse(&raw, Origin::default(), &needs).ok()?;
    let env = Env {
        now: 0.0,
        files: Arc::new(vec!["-".into()]),
        years: Arc::new(vec![crate::parse::Year::fixed(2026)]),
        time_format: None,
        ..Env::default()
    };
    let mut path = String::new();
    to.render(&ev, &env, &mut path);
    assert_eq!(to.root, Path::new("out"), "{raw}");
    let rel = match Path::new(&path).strip_prefix(&to.root) {
        Ok(rel) => rel.to_string_lossy().into_owned(),
        Err(_) => panic!("`{path}` is outside `out`, for {raw}"),
    };
    let parts: Vec<Component> = Path::new(&rel).components().collect();
    assert!(
        parts.len() == 2 && parts.iter().all(|c| matches!(c, Component::Normal(_))),
        "`{rel}` is not two plain components, for {raw}"
    );
    assert!(!rel.contains(['\\', '\0']) && !rel.contains("//"), "`{rel}` for {raw}");
    assert!(rel.ends_with(".ndjson"), "`{rel}` for {raw}");
    Some(rel)
}

/// `s` itself when it is one JSON value, else `s` as a JSON string.
fn json_or_string(s: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(_) => s.to_string(),
        Err(_) => serde_json::Value::String(s.to_string()).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_pipeline_compiles() {
        for p in EVENT_PIPELINES {
            let cli = Cli::read(["evq", "--", p]).unwrap();
            if let Err(e) = Config::build(cli, &crate::facts()).config {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn the_engine_runs_in_process() {
        let status = run_engine("where a == 1", "ndjson", b"{\"a\":1}\nnot json\n");
        assert_eq!(status, ExitStatus::Success);
    }

    #[test]
    fn template_values_stay_below_the_prefix() {
        assert_eq!(template(b"a\0b").as_deref(), Some("a/b.ndjson"));
        let rel = template(b"..\0../../etc/passwd").unwrap();
        assert!(!rel.contains("/../") && !rel.starts_with(".."), "{rel}");
    }
}
