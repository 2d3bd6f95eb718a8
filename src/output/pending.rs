//! Lines bound for topic files (`to`, `tee`, `-O`), held so that each file gets a few large writes instead
//! of one per event. All files share one buffer, so memory stays the same whatever the number of files.
//! When it fills up, the files holding the most bytes give up their lines, which keeps writes large when
//! lines are spread over thousands of files; those lines go, in input order, to a thread that writes them
//! while the buffer fills again.

use super::topic::TopicFiles;
use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

type Fast = BuildHasherDefault<twox_hash::XxHash3_64>;

/// The files of each `to` or `tee` stage, by stage index.
pub type StageFiles = Vec<Option<Arc<Mutex<Option<TopicFiles>>>>>;

/// How many bytes of lines are held before some are written, unless told otherwise.
pub const HELD_BYTES: usize = 16 << 20;

/// How many spills the writing thread may have at once: one is written while the buffer fills again.
const SPILLS: usize = 1;

const NONE: u32 = u32::MAX;

/// A line that has been handed to the writing thread.
const GONE: usize = usize::MAX;

/// One held line: where it is in the buffer, and the next held line of its file.
struct Held {
    start: usize,
    len: usize,
    next: u32,
}

/// The held lines of one file: the first, the last, and their size.
struct Chain {
    file: u32,
    first: u32,
    last: u32,
    bytes: usize,
}

/// Lines for the writing thread, each file's back to back, and the names of files it has not seen yet.
#[derive(Default)]
struct Spill {
    buf: Vec<u8>,
    /// File id and byte count, in `buf` order.
    files: Vec<(u32, usize)>,
    names: Vec<(usize, Box<Path>)>,
}

/// Writes spills, in order, to the stages' files.
struct Sink {
    files: StageFiles,
    names: Vec<(usize, Box<Path>)>,
    failed: bool,
}

impl Sink {
    /// After a failure the run is stopping: later spills are not written.
    fn write(&mut self, s: &mut Spill) -> Result<(), String> {
        self.names.append(&mut s.names);
        let mut result = Ok(());
        let mut at = 0;
        for &(file, len) in &s.files {
            let data = &s.buf[at..at + len];
            at += len;
            if self.failed {
                continue;
            }
            let (stage, rel) = &self.names[file as usize];
            let files = self.files[*stage].as_ref().expect("every to stage has files");
            let mut files = files.lock().expect("not poisoned");
            if let Some(Err(e)) = files.as_mut().map(|f| f.write(rel, data)) {
                result = result.and(Err(e.to_string()));
            }
        }
        self.failed |= result.is_err();
        s.files.clear();
        s.buf.clear();
        result
    }
}

/// The thread that writes spills, and the empty spill it hands back.
struct Io {
    full: Sender<Spill>,
    empty: Receiver<(Spill, Result<(), String>)>,
    thread: JoinHandle<()>,
}

/// The writer's side: file ids, the held lines, and the thread writing spills.
#[derive(Default)]
pub struct Pending {
    /// File ids by path relative to the stage's root, for each stage.
    ids: Vec<HashMap<Box<str>, u32, Fast>>,
    /// Stage and path of files not yet sent to the writing thread.
    names: Vec<(usize, Box<Path>)>,
    /// For each file id, its chain, or `NONE`.
    chain_of: Vec<u32>,
    /// The lines' bytes, back to back.
    buf: Vec<u8>,
    held: Vec<Held>,
    chains: Vec<Chain>,
    /// Spills to fill, kept for their buffers.
    free: Vec<Spill>,
    /// How many spills the writing thread has.
    out: usize,
    io: Option<Io>,
    /// Writes on this thread until the buffer first fills up.
    sink: Option<Sink>,
    /// The last path looked up, kept to save an allocation per line.
    rel: String,
    /// How many bytes of lines are held before some are written.
    held_bytes: usize,
}

impl Clone for Pending {
    /// A copy holds nothing: copies (live-view snapshots) never write files.
    fn clone(&self) -> Pending {
        Pending::default()
    }
}

impl Pending {
    pub fn new(held_bytes: usize) -> Pending {
        Pending {
            held_bytes: held_bytes.max(1),
            ..Pending::default()
        }
    }

    /// How many bytes go to the writing thread at a time: half, so that the files holding the least keep
    /// filling (their writes stay large) while the lines that stay are moved only once per spill.
    fn spill_bytes(&self) -> usize {
        self.held_bytes.div_ceil(2)
    }

    /// The id of a stage's file, given its path relative to the stage's root, which `render` appends to
    /// the string it is given.
    pub fn file(&mut self, stage: usize, render: impl FnOnce(&mut String)) -> u32 {
        if self.ids.len() <= stage {
            self.ids.resize_with(stage + 1, HashMap::default);
        }
        self.rel.clear();
        render(&mut self.rel);
        if let Some(&id) = self.ids[stage].get(self.rel.as_str()) {
            return id;
        }
        let id = u32::try_from(self.chain_of.len()).expect("fewer than 2^32 files");
        self.ids[stage].insert(self.rel.as_str().into(), id);
        self.names.push((stage, Path::new(&self.rel).into()));
        self.chain_of.push(NONE);
        id
    }

    /// Holds one line for file `id`: `write` appends its bytes, newline included.
    pub fn push(&mut self, id: u32, write: impl FnOnce(&mut Vec<u8>)) {
        if self.buf.capacity() == 0 {
            // Pages are touched only as lines arrive; reserving at once avoids growing by copies.
            self.buf.reserve(self.held_bytes + (1 << 20));
        }
        let start = self.buf.len();
        write(&mut self.buf);
        let len = self.buf.len() - start;
        let at = u32::try_from(self.held.len()).expect("fewer than 2^32 held lines");
        self.held.push(Held { start, len, next: NONE });
        let chain = &mut self.chain_of[id as usize];
        if *chain == NONE {
            *chain = self.chains.len() as u32;
            self.chains.push(Chain {
                file: id,
                first: at,
                last: at,
                bytes: len,
            });
        } else {
            let c = &mut self.chains[*chain as usize];
            self.held[c.last as usize].next = at;
            c.last = at;
            c.bytes += len;
        }
    }

    /// Once the buffer is full, sends the largest files' lines to the writing thread; returns the error
    /// of an earlier write, if any.
    pub fn write_if_full(&mut self, files: &StageFiles) -> Result<(), String> {
        if self.buf.len() < self.held_bytes {
            return Ok(());
        }
        if self.io.is_none() {
            let sink = self.sink.take().unwrap_or_else(|| new_sink(files));
            self.io = Some(spawn(sink));
        }
        let result = self.wait_for_spills(SPILLS - 1);
        let spill = self.fill_spill(self.spill_bytes());
        self.send(spill);
        result
    }

    /// Writes every held line and waits until they are written.
    pub fn flush(&mut self, files: &StageFiles) -> Result<(), String> {
        let mut result = Ok(());
        if self.io.is_some() {
            while !self.chains.is_empty() {
                result = result.and(self.wait_for_spills(SPILLS - 1));
                let spill = self.fill_spill(self.spill_bytes());
                self.send(spill);
            }
            result = result.and(self.wait_for_spills(0));
        } else if !self.chains.is_empty() {
            let mut spill = self.fill_spill(usize::MAX);
            result = self.sink.get_or_insert_with(|| new_sink(files)).write(&mut spill);
            self.free.push(spill);
        }
        result
    }

    /// Ends the writing thread, after a [`Pending::flush`].
    pub fn stop(&mut self) {
        if let Some(io) = self.io.take() {
            drop(io.full);
            let _ = io.thread.join();
        }
    }

    /// Waits until the writing thread has at most `n` spills.
    fn wait_for_spills(&mut self, n: usize) -> Result<(), String> {
        let mut result = Ok(());
        while self.out > n {
            let io = self.io.as_ref().expect("spills are out only while the thread runs");
            let (spill, r) = io.empty.recv().expect("the file writer hands spills back");
            self.free.push(spill);
            self.out -= 1;
            result = result.and(r);
        }
        result
    }

    fn send(&mut self, spill: Spill) {
        let io = self.io.as_ref().expect("started before spilling");
        io.full.send(spill).expect("the file writer runs while spills come");
        self.out += 1;
    }

    /// Moves at least `want` bytes (or all) of the largest files' leading lines to the spill, up to about
    /// `want` bytes, then packs the lines that stay at the start of the buffer.
    fn fill_spill(&mut self, want: usize) -> Spill {
        let mut spill = self.free.pop().unwrap_or_default();
        spill.names.append(&mut self.names);
        let mut order: Vec<u32> = (0..self.chains.len() as u32).collect();
        order.sort_unstable_by_key(|&c| std::cmp::Reverse(self.chains[c as usize].bytes));
        let mut taken = 0;
        for c in order {
            if taken >= want {
                break;
            }
            let chain = &mut self.chains[c as usize];
            let before = spill.buf.len();
            let mut at = chain.first;
            while at != NONE && (spill.buf.len() == before || taken + (spill.buf.len() - before) < want) {
                let h = &mut self.held[at as usize];
                spill.buf.extend_from_slice(&self.buf[h.start..h.start + h.len]);
                h.len = GONE;
                at = h.next;
            }
            let moved = spill.buf.len() - before;
            spill.files.push((chain.file, moved));
            taken += moved;
            chain.bytes -= moved;
            chain.first = at;
        }
        self.pack();
        spill
    }

    /// Moves the lines that stay to the start of the buffer, in order, and forgets the emptied chains.
    fn pack(&mut self) {
        let mut new_index = vec![NONE; self.held.len()];
        let (mut kept, mut end) = (0, 0);
        for (i, index) in new_index.iter_mut().enumerate() {
            let h = &self.held[i];
            if h.len == GONE {
                continue;
            }
            let (start, len, next) = (h.start, h.len, h.next);
            self.buf.copy_within(start..start + len, end);
            *index = kept as u32;
            self.held[kept] = Held { start: end, len, next };
            kept += 1;
            end += len;
        }
        self.held.truncate(kept);
        self.buf.truncate(end);
        for h in &mut self.held {
            if h.next != NONE {
                h.next = new_index[h.next as usize];
            }
        }
        let chain_of = &mut self.chain_of;
        self.chains.retain(|c| {
            let keep = c.first != NONE;
            if !keep {
                chain_of[c.file as usize] = NONE;
            }
            keep
        });
        for (i, c) in self.chains.iter_mut().enumerate() {
            c.first = new_index[c.first as usize];
            c.last = new_index[c.last as usize];
            chain_of[c.file as usize] = i as u32;
        }
    }
}

fn new_sink(files: &StageFiles) -> Sink {
    Sink {
        files: files.clone(),
        names: Vec::new(),
        failed: false,
    }
}

fn spawn(mut sink: Sink) -> Io {
    let (full, todo) = crossbeam_channel::bounded::<Spill>(SPILLS);
    let (done, empty) = crossbeam_channel::bounded(SPILLS);
    let thread = std::thread::Builder::new()
        .name("evq-files".into())
        .spawn(move || {
            for mut s in todo {
                let r = sink.write(&mut s);
                if done.send((s, r)).is_err() {
                    return;
                }
            }
        })
        .expect("a thread can be started");
    Io { full, empty, thread }
}
