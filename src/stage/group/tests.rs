//! Tests of grouping: keys, merging across threads, windows and lateness.

use super::*;
use crate::event::Origin;
use crate::stage::{Stage, StageOptions};

fn stage(pipeline: &str, max_groups: Option<usize>) -> GroupStage {
    let asts = crate::lang::parser::parse_pipeline(pipeline).expect("a valid pipeline");
    let opts = StageOptions {
        max_groups,
        ..StageOptions::default()
    };
    match Stage::build(&asts[0], &opts).expect("builds") {
        Stage::Group(g) => g,
        other => panic!("{pipeline}: not a grouping stage: {}", other.name()),
    }
}

fn add(g: &mut Groups, spec: &GroupSpec, json: &str) {
    let needs = Needs::whole_event();
    let ev = Event::parse(json, Origin::default(), &needs).expect("valid JSON");
    g.add(spec, &ev, &Env::default()).expect("no window");
}

#[test]
fn a_one_key_count_group_takes_under_a_hundred_bytes() {
    let s = stage("count by k", None);
    let mut g = Groups::default();
    let n = 200_000;
    for i in 0..n {
        add(&mut g, &s.spec, &format!("{{\"k\":\"user-{i}\"}}"));
    }
    assert_eq!(g.len(), n);
    assert!(std::mem::size_of::<Acc>() <= 32, "{}", std::mem::size_of::<Acc>());
    // Vectors grow by doubling, so up to half of the capacity may be unused.
    let per_group = g.table.heap_bytes() / n;
    assert!(per_group <= 100, "{per_group} bytes per group");
}

#[test]
fn numbers_group_by_value_and_print_the_first_seen_text() {
    let s = stage("count by k", None);
    let mut g = Groups::default();
    for k in [
        "1.0",
        "1",
        "1E0",
        "\"1\"",
        "10e-1",
        "9007199254740993",
        "9007199254740992",
        "2",
    ] {
        add(&mut g, &s.spec, &format!("{{\"k\":{k}}}"));
    }
    let rows: Vec<String> = g.finish(&s.spec).iter().map(Value::to_string).collect();
    assert_eq!(
        rows,
        [
            r#"{"k":1.0,"count":4}"#,
            r#"{"k":"1","count":1}"#,
            r#"{"k":9007199254740993,"count":1}"#,
            r#"{"k":9007199254740992,"count":1}"#,
            r#"{"k":2,"count":1}"#,
        ]
    );
}

#[test]
fn merging_in_any_split_gives_the_same_rows() {
    let s = stage("top 3 k by sum(v)", None);
    let events: Vec<String> = (0..60)
        .map(|i| format!("{{\"k\":{},\"v\":{}}}", ["1", "1.0", "2", "2e0", "3", "4.5"][i % 6], i))
        .collect();
    let mut one = Groups::default();
    for e in &events {
        add(&mut one, &s.spec, e);
    }
    let want = one.finish(&s.spec);
    for cut in [1, 7, 30, 59] {
        let (mut a, mut b) = (Groups::default(), Groups::default());
        events[..cut].iter().for_each(|e| add(&mut a, &s.spec, e));
        events[cut..].iter().for_each(|e| add(&mut b, &s.spec, e));
        a.merge(b, &s.spec);
        assert_eq!(a.finish(&s.spec), want, "cut at {cut}");
    }
}

#[test]
fn past_max_groups_later_groups_are_refused_and_flagged() {
    let s = stage("stats sum(v) by k", Some(2));
    let (mut a, mut b) = (Groups::default(), Groups::default());
    for e in [r#"{"k":1,"v":1}"#, r#"{"k":2,"v":2}"#] {
        add(&mut a, &s.spec, e);
    }
    for e in [r#"{"k":3,"v":3}"#, r#"{"k":1.0,"v":10}"#] {
        add(&mut b, &s.spec, e);
    }
    a.merge(b, &s.spec);
    assert!(a.overflow);
    let rows: Vec<String> = a.finish(&s.spec).iter().map(Value::to_string).collect();
    // Group 3's sum is dropped, not given to the groups after it.
    assert_eq!(rows, [r#"{"k":1,"sum_v":11}"#, r#"{"k":2,"sum_v":2}"#]);
}

/// The grouping stage of `pipeline`, built with `--lateness` and `--time-field` as given.
fn stage_with(pipeline: &str, lateness: Option<f64>, time: Option<&str>) -> GroupStage {
    let asts = crate::lang::parser::parse_pipeline(pipeline).expect("a valid pipeline");
    let time = time.map(|t| match crate::lang::parse_expr(t) {
        Ok(Expr::Path(p)) => p,
        other => panic!("{t}: not a path: {other:?}"),
    });
    let opts = StageOptions {
        time,
        lateness,
        ..StageOptions::default()
    };
    match Stage::build(&asts[0], &opts).expect("builds") {
        Stage::Group(g) => g,
        other => panic!("{pipeline}: not a grouping stage: {}", other.name()),
    }
}

fn event(json: &str) -> Event<'_> {
    let needs = Needs::whole_event();
    Event::parse(json, Origin::default(), &needs).expect("valid JSON")
}

fn texts(rows: impl IntoIterator<Item = Value>) -> Vec<String> {
    rows.into_iter().map(|v| v.to_string()).collect()
}

#[test]
fn event_time_is_the_first_default_field_present_or_the_one_named() {
    let s = stage_with("count every 1m", None, None);
    let env = Env::default();
    let of = |json: &str| s.spec.time.of(&event(json), &env);
    assert_eq!(of(r#"{"time":60,"ts":120}"#), Some(120.0));
    assert_eq!(of(r#"{"@timestamp":"1970-01-01T00:01:00Z"}"#), Some(60.0));
    assert_eq!(of(r#"{"timestamp":1700000000000}"#), Some(1_700_000_000.0));
    // The first field the event has decides, even when it does not parse.
    assert_eq!(of(r#"{"ts":"soon","time":60}"#), None);
    assert_eq!(of(r#"{"at":60}"#), None);
    let named = stage_with("count every 1m", None, Some("meta.at"));
    assert_eq!(
        named.spec.time.of(&event(r#"{"ts":1,"meta":{"at":90}}"#), &env),
        Some(90.0)
    );
    assert_eq!(named.spec.time.of(&event(r#"{"ts":1}"#), &env), None);
}

#[test]
fn event_time_in_the_time_format_of_the_env_is_read() {
    let s = stage_with("count every 1m", None, None);
    let ev = event(r#"{"ts":"28.11.2026 10:00"}"#);
    assert_eq!(s.spec.time.of(&ev, &Env::default()), None);
    let env = Env {
        time_format: Some("%d.%m.%Y %H:%M".into()),
        ..Env::default()
    };
    assert_eq!(s.spec.time.of(&ev, &env), Some(1_795_860_000.0));
    let written = |env: &Env| {
        let mut text = String::new();
        s.spec.time.write(&ev, env, &mut text).then_some(text)
    };
    assert_eq!(written(&env).as_deref(), Some(r#""28.11.2026 10:00""#));
    assert_eq!(written(&Env::default()), None);
}

#[test]
fn count_orders_by_count_with_ties_first_seen_in_any_split() {
    let s = stage("count by k", None);
    let keys = ["b", "a", "c", "a", "d", "c", "b", "e"];
    let events: Vec<String> = keys.iter().map(|k| format!("{{\"k\":\"{k}\"}}")).collect();
    let want = [
        r#"{"k":"b","count":2}"#,
        r#"{"k":"a","count":2}"#,
        r#"{"k":"c","count":2}"#,
        r#"{"k":"d","count":1}"#,
        r#"{"k":"e","count":1}"#,
    ];
    for cut in 0..=events.len() {
        let (mut a, mut b) = (Groups::default(), Groups::default());
        events[..cut].iter().for_each(|e| add(&mut a, &s.spec, e));
        events[cut..].iter().for_each(|e| add(&mut b, &s.spec, e));
        a.merge(b, &s.spec);
        assert_eq!(texts(a.finish(&s.spec)), want, "cut at {cut}");
    }
}

#[test]
fn a_global_count_of_nothing_is_zero_but_a_grouped_one_is_empty() {
    assert_eq!(texts(stage("count", None).rows()), [r#"{"count":0}"#]);
    assert!(texts(stage("count by k", None).rows()).is_empty());
    assert!(texts(stage("count every 1m", None).rows()).is_empty());
}

#[test]
fn windows_without_lateness_are_all_emitted_at_the_end_in_time_order() {
    let mut s = stage_with("count by k every 1m", None, None);
    let env = Env::default();
    for e in [
        r#"{"ts":130,"k":"a"}"#,
        r#"{"ts":10,"k":"a"}"#,
        r#"{"ts":50,"k":"b"}"#,
        r#"{"ts":20,"k":"b"}"#,
    ] {
        assert_eq!(s.add(&event(e), &env), Ok(Vec::new()), "{e}");
    }
    let Err(Rejected::Ungrouped(GroupError::NoTime(why))) = s.add(&event(r#"{"k":"a"}"#), &env) else {
        panic!("no time")
    };
    assert_eq!(
        why.error,
        "no parsable event time: the event has no field ts, time, timestamp or @timestamp; --time-field NAME reads another"
    );
    assert_eq!(
        texts(s.rows()),
        [
            r#"{"window_start":"1970-01-01T00:00:00Z","window_end":"1970-01-01T00:01:00Z","k":"b","count":2}"#,
            r#"{"window_start":"1970-01-01T00:00:00Z","window_end":"1970-01-01T00:01:00Z","k":"a","count":1}"#,
            r#"{"window_start":"1970-01-01T00:02:00Z","window_end":"1970-01-01T00:03:00Z","k":"a","count":1}"#,
        ]
    );
}

#[test]
fn with_lateness_a_window_is_emitted_once_the_watermark_passes_it_and_older_events_are_late() {
    let mut s = stage_with("count every 1m", Some(10.0), None);
    assert!(s.streaming());
    let env = Env::default();
    let mut add = |json: &str| s.add(&event(json), &env).map(texts);
    assert_eq!(add(r#"{"ts":5}"#), Ok(vec![]));
    assert_eq!(
        add(r#"{"ts":65}"#),
        Ok(vec![]),
        "the watermark 55 is inside the first window"
    );
    assert_eq!(add(r#"{"ts":50}"#), Ok(vec![]), "within the lateness");
    assert_eq!(
        add(r#"{"ts":70}"#),
        Ok(vec![
            r#"{"window_start":"1970-01-01T00:00:00Z","window_end":"1970-01-01T00:01:00Z","count":2}"#.to_string()
        ])
    );
    assert_eq!(add(r#"{"ts":59}"#), Err(Rejected::Late));
    let Err(Rejected::Ungrouped(GroupError::NoTime(why))) = add(r#"{"ts":"never"}"#) else {
        panic!("no time")
    };
    assert_eq!(
        why.error,
        "no parsable event time: ts holds \"never\", which no built-in format reads; --time-format FORMAT reads others"
    );
    assert_eq!(add(r#"{"ts":61}"#), Ok(vec![]));
    assert_eq!(
        texts(s.rows()),
        [r#"{"window_start":"1970-01-01T00:01:00Z","window_end":"1970-01-01T00:02:00Z","count":3}"#]
    );
}

#[test]
fn lateness_without_windows_does_not_stream() {
    assert!(!stage_with("count by k", Some(10.0), None).streaming());
}

#[test]
fn without_max_groups_the_default_limit_applies() {
    assert_eq!(stage("count by k", None).spec.layout.limit, DEFAULT_MAX_GROUPS);
    assert_eq!(stage("count by k", Some(5)).spec.layout.limit, 5);
}

/// The rows of `pipeline` over `events` (JSON objects), all added then emitted at the end.
fn all_rows(pipeline: &str, events: &[String]) -> Vec<String> {
    let mut s = stage_with(pipeline, None, None);
    let env = Env::default();
    for e in events {
        assert_eq!(s.add(&event(e), &env), Ok(Vec::new()), "{e}");
    }
    texts(s.rows())
}

/// Events with `ts` in seconds and a key `k`, out of time order.
fn sliding_events() -> Vec<String> {
    [
        (130, "a", 1),
        (10, "b", 2),
        (70, "a", 3),
        (50, "a", 4),
        (250, "b", 5),
        (65, "c", 6),
        (0, "b", 7),
    ]
    .iter()
    .map(|(ts, k, v)| format!(r#"{{"ts":{ts},"k":"{k}","v":{v}}}"#))
    .collect()
}

/// A row of a window of `count every … slide …` on 1970-01-01 from `start` to `end` (`HH:MM`).
fn counted(start: &str, end: &str, n: u32) -> String {
    let at = |hm: &str| match hm {
        "-00:01" => "1969-12-31T23:59:00Z".to_string(),
        hm => format!("1970-01-01T{hm}:00Z"),
    };
    format!(
        r#"{{"window_start":"{}","window_end":"{}","count":{n}}}"#,
        at(start),
        at(end)
    )
}

#[test]
fn a_sliding_window_counts_every_event_it_covers() {
    // Panes of a minute: 0 holds ts 0, 10, 50; 1 holds 65, 70; 2 holds 130; 4 holds 250.
    assert_eq!(
        all_rows("count every 2m slide 1m", &sliding_events()),
        [
            counted("-00:01", "00:01", 3),
            counted("00:00", "00:02", 5),
            counted("00:01", "00:03", 3),
            counted("00:02", "00:04", 1),
            counted("00:03", "00:05", 1),
            counted("00:04", "00:06", 1),
        ]
    );
    // Windows of no event are left out, as tumbling ones are.
    let far = [r#"{"ts":0}"#.to_string(), r#"{"ts":600}"#.to_string()];
    assert_eq!(
        all_rows("count every 2m slide 1m", &far),
        [
            counted("-00:01", "00:01", 1),
            counted("00:00", "00:02", 1),
            counted("00:09", "00:11", 1),
            counted("00:10", "00:12", 1),
        ]
    );
}

#[test]
fn panes_and_a_state_per_window_give_the_same_windows() {
    let events = sliding_events();
    let with_panes = stage_with(
        "stats count(), sum(v), max(v), avg(v), distinct(k) by k every 3m slide 1m",
        None,
        None,
    );
    assert!(with_panes.spec.combine);
    // `first` keeps a state per window; the other columns must not change.
    let per_window = stage_with(
        "stats count(), sum(v), max(v), avg(v), distinct(k), first(v) by k every 3m slide 1m",
        None,
        None,
    );
    assert!(!per_window.spec.combine);
    let panes = all_rows(
        "stats count(), sum(v), max(v), avg(v), distinct(k) by k every 3m slide 1m",
        &events,
    );
    let windows: Vec<String> = all_rows(
        "stats count(), sum(v), max(v), avg(v), distinct(k), first(v) by k every 3m slide 1m",
        &events,
    )
    .iter()
    .map(|r| {
        let mut v: Value = serde_json::from_str(r).expect("a row");
        v.as_object_mut().map(|o| o.remove("first_v"));
        v.to_string()
    })
    .collect();
    assert_eq!(panes, windows);
    assert_eq!(panes.len(), 14, "{panes:#?}");
    // In the window 00:00-00:03, k=a was seen first (ts 130 is the first line).
    assert!(
        panes
            .iter()
            .any(|r| r.contains(r#""window_start":"1970-01-01T00:00:00Z""#)
                && r.contains(r#""k":"a","count":3,"sum_v":8"#)),
        "{panes:#?}"
    );
}

#[test]
fn sliding_windows_merge_the_same_in_any_split() {
    for pipeline in [
        "count by k every 2m slide 1m",
        "stats sum(v), first(v), values(v) by k every 3m slide 1m",
    ] {
        let s = stage(pipeline, None);
        let events = sliding_events();
        let mut one = Groups::default();
        for e in &events {
            add(&mut one, &s.spec, e);
        }
        let want = one.finish(&s.spec);
        assert!(!want.is_empty());
        for cut in 0..=events.len() {
            let (mut a, mut b) = (Groups::default(), Groups::default());
            events[..cut].iter().for_each(|e| add(&mut a, &s.spec, e));
            events[cut..].iter().for_each(|e| add(&mut b, &s.spec, e));
            a.merge(b, &s.spec);
            assert_eq!(a.finish(&s.spec), want, "{pipeline}: cut at {cut}");
        }
    }
}

#[test]
fn with_lateness_a_sliding_window_is_emitted_once_complete_and_an_event_is_late_only_for_all_its_windows() {
    for pipeline in [
        "count every 2m slide 1m",
        "stats count() as count, last(ts) every 2m slide 1m",
    ] {
        let mut s = stage_with(pipeline, Some(0.0), None);
        let env = Env::default();
        let mut add = |json: &str| {
            s.add(&event(json), &env).map(|rows| {
                rows.iter()
                    .map(|r| {
                        r["window_start"].as_str().unwrap_or_default()[11..16].to_string()
                            + "="
                            + &r["count"].to_string()
                    })
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(add(r#"{"ts":10}"#), Ok(vec![]), "{pipeline}");
        assert_eq!(add(r#"{"ts":70}"#), Ok(vec!["23:59=1".to_string()]), "{pipeline}");
        // 50 is in 00:00-00:02, still open, though 23:59-00:01 was emitted: it counts there.
        assert_eq!(add(r#"{"ts":50}"#), Ok(vec![]), "{pipeline}");
        assert_eq!(add(r#"{"ts":130}"#), Ok(vec!["00:00=3".to_string()]), "{pipeline}");
        // Every window holding 59 was emitted.
        assert_eq!(add(r#"{"ts":59}"#), Err(Rejected::Late), "{pipeline}");
        assert_eq!(add(r#"{"ts":61}"#), Ok(vec![]), "{pipeline}");
        let rest: Vec<String> = s
            .rows()
            .map(|r| r["window_start"].as_str().unwrap_or_default()[11..16].to_string() + "=" + &r["count"].to_string())
            .collect();
        assert_eq!(rest, ["00:01=3", "00:02=1"], "{pipeline}");
    }
}

#[test]
fn windows_of_days_follow_the_zone_of_tz() {
    let asts = crate::lang::parser::parse_pipeline("count every 1d").expect("a valid pipeline");
    let opts = StageOptions {
        zone: Some(chrono_tz::Tz::Europe__Berlin),
        ..StageOptions::default()
    };
    let Ok(Stage::Group(mut s)) = Stage::build(&asts[0], &opts) else {
        panic!("a grouping stage");
    };
    let env = Env::default();
    for ts in ["2026-03-28T23:30:00Z", "2026-03-29T21:59:59Z", "2026-03-29T22:00:00Z"] {
        assert_eq!(s.add(&event(&format!(r#"{{"ts":"{ts}"}}"#)), &env), Ok(Vec::new()));
    }
    assert_eq!(
        texts(s.rows()),
        [
            r#"{"window_start":"2026-03-29T00:00:00+01:00","window_end":"2026-03-30T00:00:00+02:00","count":2}"#,
            r#"{"window_start":"2026-03-30T00:00:00+02:00","window_end":"2026-03-31T00:00:00+02:00","count":1}"#,
        ]
    );
}

/// The canonical key and the key text [`write_key`] writes for `json`.
fn keys_of(spec: &GroupSpec, json: &str) -> (Vec<u8>, Vec<u8>) {
    let (mut canon, mut text) = (Vec::new(), Vec::new());
    write_key(&spec.keys, &event(json), &Env::default(), &mut canon, &mut text);
    (canon, text)
}

#[test]
fn keys_are_written_by_value_and_put_back_in_the_shape_they_were_named() {
    let s = stage("count by user.country, lower(svc) as s, n, missing", None);
    let (canon, text) = keys_of(&s.spec, r#"{"user":{"country":"DE"},"svc":"API","n":1.0}"#);
    let mut row = Value::Object(Map::new());
    put_key(&s.spec.keys, &text, &mut row);
    assert_eq!(
        row.to_string(),
        r#"{"user":{"country":"DE"},"s":"api","n":1.0,"missing":null}"#
    );
    // Key order in the event and the text of a number do not make another key.
    let (same, other_text) = keys_of(&s.spec, r#"{"n":1,"svc":"api","user":{"country":"DE"}}"#);
    assert_eq!(canon, same);
    assert_ne!(text, other_text, "each group prints the text it first saw");
    // A string is never the number it spells, and a missing value is null.
    assert_ne!(
        canon,
        keys_of(&s.spec, r#"{"user":{"country":"DE"},"svc":"API","n":"1"}"#).0
    );
    assert_eq!(
        keys_of(&s.spec, r#"{"user":{"country":"DE"},"svc":"API","n":1,"missing":null}"#).0,
        canon
    );
}

/// A plain row written as text is the text of the row built as a tree, whatever the keys'
/// values (escapes, numbers as written, nesting, text that is not JSON); specs whose rows set
/// a field twice are not plain.
#[test]
fn plain_rows_written_as_text_are_the_trees_text() {
    let events = [
        r#"{"ts":10,"k":"a\"b","n":1E5,"o":{"x":[1,2]},"u":{"id":1,"p":"x"}}"#,
        r#"{"ts":70,"k":"\u00e9\u0001","n":-0,"o":{"x":"\\"},"u":{"id":"1"}}"#,
        r#"{"ts":80,"k":"a\/b","n":12345678901234567890123,"o":[],"u":null}"#,
        r#"{"ts":90,"k":"😀","n":1.50,"o":"s"}"#,
        r#"{"ts":200,"k":"tab\there","n":2.5e-3}"#,
    ];
    let plain = [
        "count by k",
        "count by k, n, o",
        "count by u.id, u.p as p",
        "stats sum(n), min(k), first(o), p50(n) by u.id",
        "count by n + 1 as m, lower(k) as l",
        "count by k every 1m",
        "count",
        "distinct k, n",
    ];
    for pipeline in plain {
        let s = stage(pipeline, None);
        let pieces = s.spec.pieces.as_ref().expect(pipeline);
        let mut g = Groups::default();
        for e in events {
            add(&mut g, &s.spec, e);
        }
        let mut text = String::new();
        for group in 0..g.len() {
            g.write_row(&s.spec, pieces, group, &mut text);
            assert_eq!(text, g.row(&s.spec, group).to_string(), "{pipeline}");
        }
    }
    for pipeline in ["count by u.id, u.p", "count by tags[0]"] {
        assert!(stage(pipeline, None).spec.pieces.is_none(), "{pipeline}");
    }
}
