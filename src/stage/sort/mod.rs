//! `sort EXPR [desc], …`: a stable sort of the events. Past `--memory-limit` the
//! sorted runs spill to temporary files, which are merged at the end, so inputs
//! larger than memory sort too.

use crate::event::{Event, Meta, Needs};
use crate::lang::{Env, Expr, Val};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::sync::Arc;

/// One event waiting to be sorted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    #[serde(rename = "k")]
    keys: Vec<Value>,
    #[serde(rename = "s")]
    seq: u64,
    #[serde(rename = "m")]
    meta: (u32, u64, u64),
    #[serde(rename = "t")]
    topic: Option<String>,
    #[serde(rename = "e")]
    json: Box<RawValue>,
    #[serde(rename = "c", default)]
    copy: bool,
}

impl Item {
    pub fn json(&self) -> &str {
        self.json.get()
    }

    pub fn meta(&self) -> Meta {
        Meta {
            file: self.meta.0,
            line: self.meta.1,
            offset: self.meta.2,
        }
    }

    /// An extra copy made by `route all`.
    pub fn copy(&self) -> bool {
        self.copy
    }

    pub fn topic(&self) -> Option<Arc<str>> {
        self.topic.as_deref().map(Arc::from)
    }

    fn size(&self) -> usize {
        self.json.get().len() + 64 + self.keys.len() * 32
    }
}

#[derive(Debug)]
pub struct Sort {
    keys: Vec<(Expr, bool)>,
    memory_limit: usize,
    buf: Vec<Item>,
    buf_bytes: usize,
    runs: Vec<std::fs::File>,
    seq: u64,
}

impl Clone for Sort {
    /// A fresh stage with the same keys (spilled runs are not shared).
    fn clone(&self) -> Self {
        Sort::new(self.keys.clone(), self.memory_limit)
    }
}

impl Sort {
    pub fn new(keys: Vec<(Expr, bool)>, memory_limit: usize) -> Sort {
        Sort {
            keys,
            memory_limit,
            buf: Vec::new(),
            buf_bytes: 0,
            runs: Vec::new(),
            seq: 0,
        }
    }

    pub fn needs(&self, n: &mut Needs) {
        for (e, _) in &self.keys {
            e.visit_paths(&mut |p| n.add_path(p));
        }
    }

    pub fn push(&mut self, ev: &Event, env: &Env) -> io::Result<()> {
        let keys = self.keys.iter().map(|(e, _)| e.eval(ev, env).into_value()).collect();
        let mut json = Vec::new();
        ev.write_json(&mut json);
        let json = RawValue::from_string(String::from_utf8(json).expect("JSON text is UTF-8"))
            .expect("event text is valid JSON");
        let m = ev.meta;
        let item = Item {
            keys,
            seq: self.seq,
            meta: (m.file, m.line, m.offset),
            topic: ev.topic.as_deref().map(String::from),
            json,
            copy: ev.copy,
        };
        self.seq += 1;
        self.buf_bytes += item.size();
        self.buf.push(item);
        if self.buf_bytes > self.memory_limit {
            self.spill()?;
        }
        Ok(())
    }

    fn cmp(&self, a: &Item, b: &Item) -> Ordering {
        compare(&self.keys, a, b)
    }

    fn spill(&mut self) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.sort_by(|a, b| self.cmp(a, b));
        let mut f = BufWriter::new(tempfile::tempfile()?);
        for item in &buf {
            serde_json::to_writer(&mut f, item)?;
            f.write_all(b"\n")?;
        }
        let mut f = f.into_inner().map_err(|e| e.into_error())?;
        f.rewind()?;
        self.runs.push(f);
        self.buf_bytes = 0;
        Ok(())
    }

    /// Hands every event to `out` in sorted order.
    pub fn drain(&mut self, out: &mut dyn FnMut(Item)) -> io::Result<()> {
        if self.runs.is_empty() {
            let mut buf = std::mem::take(&mut self.buf);
            buf.sort_by(|a, b| self.cmp(a, b));
            buf.into_iter().for_each(out);
            return Ok(());
        }
        if !self.buf.is_empty() {
            self.spill()?;
        }
        let mut readers: Vec<_> = std::mem::take(&mut self.runs)
            .into_iter()
            .map(|f| BufReader::new(f).lines())
            .collect();
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(item) = next_item(r)? {
                heap.push(Head {
                    item,
                    run: i,
                    keys: &self.keys,
                });
            }
        }
        while let Some(Head { item, run, .. }) = heap.pop() {
            if let Some(next) = next_item(&mut readers[run])? {
                heap.push(Head {
                    item: next,
                    run,
                    keys: &self.keys,
                });
            }
            out(item);
        }
        Ok(())
    }
}

fn next_item(r: &mut std::io::Lines<BufReader<std::fs::File>>) -> io::Result<Option<Item>> {
    match r.next() {
        None => Ok(None),
        Some(line) => Ok(Some(serde_json::from_str(&line?)?)),
    }
}

fn compare(keys: &[(Expr, bool)], a: &Item, b: &Item) -> Ordering {
    for (i, (_, desc)) in keys.iter().enumerate() {
        let o = Val::from_value(&a.keys[i]).sort_cmp(&Val::from_value(&b.keys[i]));
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.seq.cmp(&b.seq)
}

/// A run's smallest item; the heap is a max-heap, so the order is reversed.
struct Head<'k> {
    item: Item,
    run: usize,
    keys: &'k [(Expr, bool)],
}

impl PartialEq for Head<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Head<'_> {}
impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head<'_> {
    fn cmp(&self, o: &Self) -> Ordering {
        compare(self.keys, &o.item, &self.item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse_expr;

    fn sorted(lines: &[&str], key: &str, desc: bool, limit: usize) -> Vec<String> {
        let keys = vec![(parse_expr(key).unwrap(), desc)];
        let mut s = Sort::new(keys, limit);
        let mut n = Needs::default();
        s.needs(&mut n);
        for (i, l) in lines.iter().enumerate() {
            let ev = Event::parse(
                l,
                Meta {
                    file: 0,
                    line: i as u64 + 1,
                    offset: 0,
                },
                &n,
            )
            .unwrap();
            s.push(&ev, &Env::default()).unwrap();
        }
        let mut out = Vec::new();
        s.drain(&mut |it| out.push(it.json().to_string())).unwrap();
        out
    }

    #[test]
    fn sorts_stably_in_memory_and_with_spills() {
        let lines: Vec<String> = (0..200)
            .map(|i| format!(r#"{{"k":{},"i":{i}}}"#, (i * 7) % 13))
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let in_memory = sorted(&refs, "k", false, usize::MAX);
        let spilled = sorted(&refs, "k", false, 500);
        assert_eq!(in_memory, spilled);
        let mut expected: Vec<(i64, usize)> = (0..200).map(|i| ((i as i64 * 7) % 13, i)).collect();
        expected.sort();
        let expected: Vec<String> = expected
            .iter()
            .map(|(k, i)| format!(r#"{{"k":{k},"i":{i}}}"#))
            .collect();
        assert_eq!(in_memory, expected);
    }

    #[test]
    fn descending_keeps_ties_in_input_order() {
        let out = sorted(
            &[r#"{"k":1,"n":"a"}"#, r#"{"k":2}"#, r#"{"k":1,"n":"b"}"#],
            "k",
            true,
            100,
        );
        assert_eq!(out, [r#"{"k":2}"#, r#"{"k":1,"n":"a"}"#, r#"{"k":1,"n":"b"}"#]);
    }
}
