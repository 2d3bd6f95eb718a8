//! `sort EXPR [desc], …`: a stable sort of the events. Events are held in memory up to `--memory-limit`;
//! past it each sorted run spills to one anonymous temporary file, and at the end the runs are merged at
//! most `fan_in` at a time (see `merge`), so inputs larger than memory sort in bounded memory, with at most
//! two temporary files open however many runs there are.

mod merge;
mod spill;

use super::{Describe, Emit, Ordered, StageError};
use crate::event::{Event, Fate, OwnedEvent};
use crate::lang::{Env, Expr, Val};
use merge::Budget;
use serde_json::Value;
use spill::RunFile;
use std::cmp::Ordering;
use std::io;
use std::mem::size_of;
use std::ops::ControlFlow;

/// What one heap allocation costs beyond its bytes (the allocator's header and rounding), for the count of
/// memory held.
const ALLOC: usize = 16;

/// One event waiting to be sorted.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    keys: Vec<Value>,
    seq: u64,
    ev: OwnedEvent,
}

impl Item {
    /// Bytes this item holds on the heap, beside its struct.
    fn heap_bytes(&self) -> usize {
        let keys = self.keys.capacity() * size_of::<Value>() + self.keys.iter().map(value_heap).sum::<usize>();
        let topic = self.ev.topic.as_ref().map_or(0, |t| t.len() + ALLOC);
        self.ev.text.len() + keys + topic + 2 * ALLOC
    }
}

/// Heap bytes of a JSON value (an estimate that errs high: it decides when to spill).
fn value_heap(v: &Value) -> usize {
    const ENTRY: usize = size_of::<String>() + size_of::<Value>() + 16; // a map entry and its hash slot
    match v {
        Value::Null | Value::Bool(_) => 0,
        Value::Number(n) => n.as_str().len() + ALLOC,
        Value::String(s) => s.capacity() + ALLOC,
        Value::Array(a) => a.capacity() * size_of::<Value>() + ALLOC + a.iter().map(value_heap).sum::<usize>(),
        Value::Object(m) => {
            let entries: usize = m
                .iter()
                .map(|(k, v)| ENTRY + k.capacity() + ALLOC + value_heap(v))
                .sum();
            entries + 2 * ALLOC
        }
    }
}

#[derive(Debug)]
pub(crate) struct Sort {
    keys: Vec<(Expr, bool)>,
    memory_limit: usize,
    buf: Vec<Item>,
    /// Heap bytes of the items in `buf`; their structs are counted from `buf`'s capacity.
    heap_bytes: usize,
    spilled: Option<RunFile>,
    /// Why a spill failed: the stage takes no more events, and merges what it holds at the end.
    failed: Option<(io::ErrorKind, String)>,
    seq: u64,
}

impl Clone for Sort {
    /// A fresh stage with the same keys (spilled runs are not shared).
    fn clone(&self) -> Self {
        Sort::new(self.keys.clone(), self.memory_limit)
    }
}

impl Sort {
    pub(crate) fn new(keys: Vec<(Expr, bool)>, memory_limit: usize) -> Sort {
        Sort {
            keys,
            memory_limit,
            buf: Vec::new(),
            heap_bytes: 0,
            spilled: None,
            failed: None,
            seq: 0,
        }
    }

    /// The keys that are fields (`sort ts`, not `sort time(ts)`): what is ordered as it is written.
    pub(crate) fn field_keys(&self) -> impl Iterator<Item = &crate::lang::Path> {
        self.keys.iter().filter_map(|(e, _)| match e {
            Expr::Path(p) => Some(p),
            _ => None,
        })
    }

    /// Takes one event. An error means this event was not taken (nor any later one): no room was left in
    /// memory and the held events could not spill.
    fn hold(&mut self, ev: &Event, env: &Env) -> io::Result<()> {
        if let Some((kind, message)) = &self.failed {
            return Err(io::Error::new(*kind, message.clone()));
        }
        let item = self.item(ev, env);
        if !self.buf.is_empty() && !self.fits(&item) {
            if let Err(e) = self.spill() {
                self.failed = Some((e.kind(), e.to_string()));
                return Err(e);
            }
        }
        self.heap_bytes += item.heap_bytes();
        self.buf.push(item);
        Ok(())
    }

    fn item(&mut self, ev: &Event, env: &Env) -> Item {
        let keys = self.keys.iter().map(|(e, _)| e.eval(ev, env).into_value()).collect();
        self.seq += 1;
        Item {
            keys,
            seq: self.seq,
            ev: ev.to_owned(),
        }
    }

    /// Whether `item` fits in the limit beside the buffered items, counting the buffer's growth.
    fn fits(&self, item: &Item) -> bool {
        let capacity = if self.buf.len() < self.buf.capacity() {
            self.buf.capacity()
        } else {
            (self.buf.capacity() * 2).max(4)
        };
        let held = capacity * size_of::<Item>() + self.heap_bytes + item.heap_bytes();
        held <= self.memory_limit
    }

    /// Memory the buffered items hold: their structs (the whole capacity of `buf`) and their heap bytes.
    #[cfg(test)]
    fn held_bytes(&self) -> usize {
        self.buf.capacity() * size_of::<Item>() + self.heap_bytes
    }

    /// Sorts the buffer into a new run on disk. `buf` keeps its capacity for the next run, and all its items
    /// when the spill fails.
    fn spill(&mut self) -> io::Result<()> {
        self.sort_buf();
        let runs = match &mut self.spilled {
            Some(runs) => runs,
            None => self.spilled.insert(RunFile::new()?),
        };
        runs.write_run(&self.buf, Budget::new(self.memory_limit).buffer)?;
        self.buf.clear();
        self.heap_bytes = 0;
        Ok(())
    }

    /// Sorts the held items, on all cores: at the end of input the worker threads are idle, and a
    /// spill while reading would otherwise stop the ordered thread for the whole sort.
    fn sort_buf(&mut self) {
        use rayon::slice::ParallelSliceMut as _;
        let keys = &self.keys;
        self.buf.par_sort_unstable_by(|a, b| compare(keys, a, b));
    }

    /// Hands the sorted events to `out` until it breaks; reports whether it did.
    fn drain(&mut self, out: &mut dyn FnMut(Item) -> ControlFlow<()>) -> io::Result<ControlFlow<()>> {
        if self.spilled.is_some() && !self.buf.is_empty() && self.failed.is_none() {
            // Spilled, so memory stays free for the merge's buffers; if it cannot, the held events join the
            // merge from memory.
            let _ = self.spill();
        }
        self.sort_buf();
        self.heap_bytes = 0;
        let held = std::mem::take(&mut self.buf);
        let Some(runs) = self.spilled.take() else {
            return Ok(held.into_iter().try_for_each(out));
        };
        let mut flow = ControlFlow::Continue(());
        let merged = merge::merge(&self.keys, runs, held, Budget::new(self.memory_limit), &mut |item| {
            flow = out(item);
            match flow {
                ControlFlow::Continue(()) => Ok(()),
                // Ends the merge early; not an error.
                ControlFlow::Break(()) => Err(io::ErrorKind::Interrupted.into()),
            }
        });
        match merged {
            Err(_) if flow.is_break() => Ok(flow),
            other => other.map(|()| flow),
        }
    }
}

impl Describe for Sort {
    fn expressions(&self) -> Vec<&Expr> {
        self.keys.iter().map(|(e, _)| e).collect()
    }

    fn name(&self) -> &'static str {
        "sort"
    }
}

impl Ordered for Sort {
    /// Holds the event until the end of input. When it can be neither held nor spilled, the run
    /// stops and the event is skipped.
    fn push(&mut self, ev: Event, out: &mut Emit) {
        if let Err(e) = self.hold(&ev, out.env()) {
            out.fail(StageError::SortSpill(e));
            out.record(&ev, Fate::Skipped);
        }
    }

    /// The run stopped before the end of input: the events held, in memory and spilled, are
    /// skipped (a spill that cannot be read back leaves its events uncounted, and says so).
    fn abandon(&mut self, out: &mut Emit) {
        let drained = self.drain(&mut |it| {
            out.record_owned(&it.ev, Fate::Skipped);
            ControlFlow::Continue(())
        });
        if let Err(e) = drained {
            out.fail(StageError::SortRead(e));
        }
    }

    /// Hands on the events in sorted order, at the end of input.
    /// Hands on the events in sorted order. Once nothing more can be written, the rest
    /// are read on only to be counted as skipped: the merge holds them, not the stage.
    fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        let mut flow = ControlFlow::Continue(());
        let drained = self.drain(&mut |it| {
            if flow.is_continue() {
                out.push_owned(it.ev);
                flow = out.go_on();
            } else {
                out.record_owned(&it.ev, Fate::Skipped);
            }
            ControlFlow::Continue(())
        });
        if let Err(e) = drained {
            out.fail(StageError::SortRead(e));
        }
        flow
    }
}

/// The sort order: keys in turn (`desc` reverses one), then input order, so the order is total and the
/// sort stable.
fn compare(keys: &[(Expr, bool)], a: &Item, b: &Item) -> Ordering {
    for (((_, desc), x), y) in keys.iter().zip(&a.keys).zip(&b.keys) {
        let o = Val::from_value(x).sort_cmp(&Val::from_value(y));
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.seq.cmp(&b.seq)
}

#[cfg(test)]
mod tests;
