//! Tests of the sort stage: order and stability in memory, through spills, and through multi-pass merges.

use super::*;
use crate::event::Needs;
use crate::event::Origin;
use crate::lang::parse_expr;
use std::sync::Arc;

fn sort_stage(key: &str, desc: bool, limit: usize, lines: &[String]) -> Sort {
    pushed(key, desc, limit, lines, |_| {})
}

/// A sort of `lines` by `key`, with `after_push` looking at it after every event.
fn pushed(key: &str, desc: bool, limit: usize, lines: &[String], mut after_push: impl FnMut(&Sort)) -> Sort {
    let keys = vec![(parse_expr(key).expect("test key"), desc)];
    let mut s = Sort::new(keys, limit);
    let mut n = Needs::default();
    s.needs(&mut n);
    for (i, l) in lines.iter().enumerate() {
        let origin = Origin::line(0, i as u64 + 1, 0);
        let ev = Event::parse(l, origin, &n).expect("test event");
        s.hold(&ev, &Env::default()).expect("held");
        after_push(&s);
    }
    s
}

fn drained(mut s: Sort) -> Vec<Item> {
    let mut out = Vec::new();
    let _ = s
        .drain(&mut |it| {
            out.push(it);
            std::ops::ControlFlow::Continue(())
        })
        .expect("drain");
    out
}

fn sorted(lines: &[String], key: &str, desc: bool, limit: usize) -> Vec<String> {
    let s = sort_stage(key, desc, limit, lines);
    drained(s).iter().map(|it| it.ev.text.to_string()).collect()
}

fn numbered(n: usize, modulus: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!(r#"{{"k":{},"i":{i}}}"#, (i * 7) % modulus))
        .collect()
}

#[test]
fn sorts_stably_in_memory_and_with_spills() {
    let lines = numbered(200, 13);
    let in_memory = sorted(&lines, "k", false, usize::MAX);
    let spilled = sorted(&lines, "k", false, 5000);
    assert_eq!(in_memory, spilled);
    let mut expected: Vec<(usize, usize)> = (0..200).map(|i| ((i * 7) % 13, i)).collect();
    expected.sort_unstable();
    let expected: Vec<String> = expected
        .iter()
        .map(|(k, i)| format!(r#"{{"k":{k},"i":{i}}}"#))
        .collect();
    assert_eq!(in_memory, expected);
}

#[test]
fn descending_keeps_ties_in_input_order() {
    let lines = [r#"{"k":1,"n":"a"}"#, r#"{"k":2}"#, r#"{"k":1,"n":"b"}"#].map(String::from);
    let out = sorted(&lines, "k", true, 100);
    assert_eq!(out, [r#"{"k":2}"#, r#"{"k":1,"n":"a"}"#, r#"{"k":1,"n":"b"}"#]);
}

#[test]
fn many_runs_merge_in_several_passes_stably() {
    // A limit this small spills a run every few events and merges two runs at a time: about nine passes.
    let lines = numbered(3000, 17);
    let s = sort_stage("k", false, 2000, &lines);
    let runs = s.spilled.as_ref().map_or(0, |r| r.runs().len());
    assert!(runs > 200, "only {runs} runs");
    let spilled: Vec<String> = drained(s).iter().map(|it| it.ev.text.to_string()).collect();
    assert_eq!(spilled, sorted(&lines, "k", false, usize::MAX));
}

#[test]
fn held_memory_stays_within_the_limit() {
    let lines = numbered(2000, 5);
    let s = pushed("k", false, 64 << 10, &lines, |s| {
        assert!(s.held_bytes() <= 64 << 10, "{} bytes held", s.held_bytes());
    });
    assert!(s.spilled.is_some());
}

#[test]
fn spilled_items_keep_keys_metadata_topic_and_copy() {
    let lines = [
        r#"{"k":"\u00e9\ud83d\ude00","n":18446744073709551616}"#,
        r#"{"k":{"a":[1,2.50]}}"#,
        r#"{"k":-9223372036854775808}"#,
        r#"{"x":1}"#,
    ]
    .map(String::from);
    let keys = vec![(parse_expr("k").expect("test key"), true)];
    let mut s = Sort::new(keys, 0);
    let mut n = Needs::default();
    s.needs(&mut n);
    for (i, l) in lines.iter().enumerate() {
        let origin = Origin::line(3, i as u64 + 10, i as u64 * 100);
        let origin = if i % 2 == 1 { origin.copied(1) } else { origin };
        let mut ev = Event::parse(l, origin, &n).expect("event");
        ev.topic = Some(Arc::from(format!("t/{i}")));
        s.hold(&ev, &Env::default()).expect("held");
    }
    let out = drained(s);
    let order: Vec<u64> = out.iter().map(|it| it.ev.origin.line).collect();
    assert_eq!(order, [11, 10, 12, 13], "object > string > number > null, descending");
    for it in &out {
        let i = it.ev.origin.line - 10;
        assert_eq!(&*it.ev.text, lines[i as usize]);
        assert_eq!(it.ev.origin.offset, i * 100);
        assert_eq!(it.ev.origin.file, 3);
        assert_eq!(it.ev.topic.as_deref(), Some(format!("t/{i}").as_str()));
        assert_eq!(it.ev.origin.is_copy(), i % 2 == 1);
    }
}
