//! Lines bound for topic files (`to`, `tee`, `-O`), held so that each file gets a few large writes instead
//! of one per event. The lines are kept in small segments taken from one pool, each file's in a list of its
//! own, so memory stays the same whatever the number of files. Once half the pool holds lines, the files
//! holding the most give their segments to a thread that writes each file's in one vectored write and hands
//! the segments back, while the pool fills again; a file's lines are never copied after they are held.
//!
//! Every write to a file others can see holds whole lines, so a run killed at any point (SIGKILL) leaves
//! no torn line. Only an `--atomic` temporary file, which nobody sees until it is renamed, is written in
//! whole filesystem blocks while the run goes on, so that no write leaves a block half filled for the next
//! one to finish (which costs the kernel far more than the bytes: measured on ext4, a third of the run with
//! 10,000 files). Such a write may end inside a line, whose rest follows in a later write; the end of the
//! run writes every line out, and after a failure [`TopicFiles`] cuts each file back to its last whole line.
//!
//! A line `to` wrote is its input line's fate once its file keeps it whatever fails later: a plain file's
//! once written, a compressed file's once its member is complete, an `--atomic` file's once renamed into
//! place. Until then each file's lines wait in [`Unsettled`], by input; the lines a failure took away
//! again, or that were never written, are skipped.

use super::OutputError;
use super::topic::{TopicFiles, TopicOptions};
use crate::event::Fate;
use crate::stats::Tally;
use compact_str::CompactString;
use std::collections::{HashMap, VecDeque};
use std::io::IoSlice;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

/// Seeded per process, so input cannot be made to collide.
type Fast = foldhash::fast::RandomState;

/// The run's topic files, shared by every `to` and `tee` stage, and each stage's fixed directory.
#[derive(Clone, Default)]
pub(crate) struct StageFiles {
    files: Arc<Mutex<Option<TopicFiles>>>,
    /// By stage index: the key of a `to`/`tee` stage's directory in `files`.
    roots: Vec<Option<usize>>,
    /// Plain files may be written in block pieces that end inside a line (`--atomic` temporaries).
    blocks: bool,
}

impl StageFiles {
    /// The files of stages whose fixed directories are `roots`, by stage index (`None`: not a
    /// `to` or `tee` stage).
    pub(crate) fn new<'a>(roots: impl IntoIterator<Item = Option<&'a Path>>, opts: TopicOptions) -> StageFiles {
        let blocks = opts.atomic;
        let mut files = TopicFiles::new(opts);
        let roots = roots.into_iter().map(|r| r.map(|dir| files.add_root(dir))).collect();
        StageFiles {
            files: Arc::new(Mutex::new(Some(files))),
            roots,
            blocks,
        }
    }

    /// Closes every file; with `--atomic`, renames them into place only on `success`. Also
    /// returns how many of the run's lines each file (by its key) holds in the end.
    pub(crate) fn finish(&self, success: bool) -> (Result<(), OutputError>, Vec<u64>) {
        match lock(&self.files).take() {
            Some(files) => {
                let (result, lines) = files.finish(success);
                (result.map_err(OutputError::from), lines)
            }
            None => (Ok(()), Vec::new()),
        }
    }
}

/// The files, also after a thread panicked holding them: each file is kept consistent by every write.
fn lock(files: &Mutex<Option<TopicFiles>>) -> MutexGuard<'_, Option<TopicFiles>> {
    files.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many bytes of lines are held, written or waiting to be, unless told otherwise.
pub(crate) const HELD_BYTES: usize = 24 << 20;

/// The size of a segment: small, so that a file's partly filled last one wastes little.
const SEG: usize = 512;

/// The filesystem block that writes to plain files end on (a multiple of `SEG` is not needed).
const BLOCK: usize = 4096;

type Seg = Box<[u8; SEG]>;

/// What share of the pool a spill takes (the files holding the most): small, so that those files have
/// grown large, but not so small that the writing thread often waits.
const SPILL_SHARE: usize = 8;

/// The held bytes of one file: full segments, then the one being filled. They start `start` bytes into
/// the first segment, whose beginning went out with an earlier write.
#[derive(Default)]
struct Held {
    full: Vec<Seg>,
    last: Option<Seg>,
    start: usize,
    bytes: usize,
}

impl Held {
    /// The bytes as slices for a vectored write.
    fn slices(&self) -> Vec<IoSlice<'_>> {
        let mut slices = Vec::with_capacity(self.segs());
        let (mut from, mut left) = (self.start, self.bytes);
        for seg in self.full.iter().chain(&self.last) {
            let n = left.min(SEG - from);
            slices.push(IoSlice::new(&seg[from..from + n]));
            (from, left) = (0, left - n);
        }
        slices
    }

    /// How many of the bytes are whole lines: up to the last newline.
    #[cfg(test)]
    fn whole(&self) -> usize {
        whole(&self.slices())
    }

    fn segs(&self) -> usize {
        self.full.len() + usize::from(self.last.is_some())
    }

    /// Gives back the segments, keeping the list's room for the file's next lines.
    fn empty_into(&mut self, free: &mut Vec<Seg>) {
        free.append(&mut self.full);
        free.extend(self.last.take());
        (self.start, self.bytes) = (0, 0);
    }

    /// Moves the first `len` bytes out. A segment they end inside stays, and its part of them is copied to
    /// a segment from `new_seg`.
    fn take_front(&mut self, len: usize, lists: &mut Vec<Vec<Seg>>, new_seg: impl FnOnce() -> Seg) -> Held {
        if len >= self.bytes {
            return std::mem::take(self);
        }
        let end = self.start + len;
        let (whole_segs, rest) = (end / SEG, end % SEG);
        let mut front = Held {
            full: lists.pop().unwrap_or_default(),
            last: None,
            start: self.start,
            bytes: len,
        };
        front.full.extend(self.full.drain(..whole_segs));
        if rest > 0 {
            let from = if whole_segs == 0 { self.start } else { 0 };
            let seg = self
                .full
                .first()
                .or(self.last.as_ref())
                .expect("bytes stay after the front");
            let mut copy = new_seg();
            copy[..rest - from].copy_from_slice(&seg[from..rest]);
            if whole_segs == 0 {
                front.start = 0;
            }
            front.full.push(copy);
        }
        (self.start, self.bytes) = (rest, self.bytes - len);
        front
    }
}

/// Lines for the writing thread, by file, and the names of files it has not seen yet; the thread hands
/// the segments back in `free`.
#[derive(Default)]
struct Spill {
    files: Vec<(u32, Held)>,
    names: Vec<(usize, Box<Path>)>,
    free: Vec<Seg>,
    /// Emptied lists of full segments, for files to reuse.
    lists: Vec<Vec<Seg>>,
    /// How many segments it took.
    segs: usize,
    /// After writing: how many lines each file written (by id) keeps for good.
    kept: Vec<(u32, u64)>,
}

/// Writes spills, in order, to the stages' files.
struct Sink {
    files: StageFiles,
    names: Vec<(usize, Box<Path>)>,
    /// Each file's key in its stage's files, once written.
    keys: Vec<Option<usize>>,
    /// Each file's write failed: it is written no more.
    failed: Vec<bool>,
}

impl Sink {
    /// Returns the first failure. The run stops after one, but the files that did not fail
    /// still get the lines held for them.
    fn write(&mut self, s: &mut Spill) -> Result<(), OutputError> {
        self.names.append(&mut s.names);
        self.keys.resize(self.names.len(), None);
        self.failed.resize(self.names.len(), false);
        let mut failure = None::<OutputError>;
        for (file, held) in s.files.drain(..) {
            if !self.failed[file as usize] {
                let (stage, path) = &self.names[file as usize];
                let root = self.files.roots.get(*stage).copied().flatten().unwrap_or_default();
                let mut files = lock(&self.files.files);
                let key = &mut self.keys[file as usize];
                let slices = held.slices();
                let whole = whole(&slices);
                let write = |f: &mut TopicFiles| match *key {
                    Some(k) => f.write_at(k, &slices, whole),
                    None => f.write_vectored(root, path, &slices, whole).map(|k| *key = Some(k)),
                };
                if let Some(Err(e)) = files.as_mut().map(write) {
                    failure = Some(match failure {
                        Some(first) => first.and_then(e.into()),
                        None => e.into(),
                    });
                    self.failed[file as usize] = true;
                    // A first write that failed may still have left lines in the file.
                    *key = key.or_else(|| files.as_ref().and_then(|f| f.key(path)));
                }
                if let (Some(k), Some(f)) = (*key, files.as_ref()) {
                    s.kept.push((file, f.lines(k)));
                }
            }
            let mut held = held;
            held.empty_into(&mut s.free);
            s.lists.push(held.full);
        }
        failure.map_or(Ok(()), Err)
    }
}

/// The thread that writes spills, and the one spill between it and the writer's side. Each side sleeps
/// on a condition variable while it waits: a channel would spin first, taking time from the workers when
/// every core is busy.
struct Io {
    shared: Arc<(Mutex<Handoff>, Condvar)>,
    /// Gives the sink back when it ends.
    thread: JoinHandle<Option<Sink>>,
}

#[derive(Default)]
struct Handoff {
    /// A spill to write.
    todo: Option<Spill>,
    /// A written spill, emptied, and how writing it went.
    done: Option<(Spill, Result<(), OutputError>)>,
    /// No more spills come.
    closed: bool,
}

/// What an input line's event in a topic file stands for when the line has no fate there: a
/// `tee` copy, or an event a stage made.
const NO_INPUT: u32 = u32::MAX;

/// The lines of one file whose fates wait until the file keeps them (see the module
/// documentation), oldest first, as runs of lines of one input, and how many lines of the
/// file were settled before them.
#[derive(Default)]
struct Unsettled {
    runs: VecDeque<(u32, u64)>,
    settled: u64,
}

impl Unsettled {
    /// One more line of `input`'s; `anywhere`: the file keeps all its lines or none, so their
    /// order does not matter and a line joins its input's run wherever it is.
    fn push(&mut self, input: u32, anywhere: bool) {
        let run = match anywhere {
            true => self.runs.iter().rposition(|r| r.0 == input),
            false => self.runs.len().checked_sub(1).filter(|&i| self.runs[i].0 == input),
        };
        match run {
            Some(i) => self.runs[i].1 += 1,
            None => self.runs.push_back((input, 1)),
        }
    }

    /// The file keeps its first `kept` lines for good: theirs are emitted. With `last`, the
    /// file is closed, and the lines after those are skipped.
    fn settle(&mut self, kept: u64, last: bool, landed: &mut Landed) {
        let mut n = kept.saturating_sub(self.settled);
        self.settled += n;
        while n > 0
            && let Some(run) = self.runs.front_mut()
        {
            let k = n.min(run.1);
            landed.add(run.0, Fate::Emitted, k);
            (run.1, n) = (run.1 - k, n - k);
            if run.1 == 0 {
                self.runs.pop_front();
            }
        }
        if last {
            for (input, k) in self.runs.drain(..) {
                landed.add(input, Fate::Skipped, k);
            }
        }
    }
}

/// What topic files took for good, or lost: the fates of the lines `to` wrote there, by input,
/// and how many events the files keep.
#[derive(Debug, Default)]
pub(crate) struct Landed {
    pub(crate) tally: Tally,
    pub(crate) events: u64,
}

impl Landed {
    fn add(&mut self, input: u32, fate: Fate, n: u64) {
        if fate == Fate::Emitted {
            self.events += n;
        }
        if input != NO_INPUT {
            self.tally.of(input).record_n(fate, n);
        }
    }
}

/// The writer's side: file ids, the held lines, and the thread writing spills.
#[derive(Default)]
pub(crate) struct Pending {
    /// File ids by path as stages spell it, and by its [`normal`](super::safe_path::normal)
    /// path: one file, and its lines in one order, whichever stages write it and however they
    /// spell it (`out/a.ndjson`, `$PWD/out/a.ndjson`).
    ids: HashMap<CompactString, u32, Fast>,
    normal_ids: HashMap<PathBuf, u32, Fast>,
    /// Stage (the first to name it) and path of files not yet sent to the writing thread.
    names: Vec<(usize, Box<Path>)>,
    /// The held lines of each file, by id.
    held: Vec<Held>,
    /// For each plain file, by id, how far its end is into a filesystem block; `None` when compressed.
    phase: Vec<Option<u16>>,
    /// Plain files are written in block pieces (see the module documentation).
    blocks: bool,
    /// The ids of the files holding lines.
    active: Vec<u32>,
    /// Segments holding nothing, and emptied lists of them.
    free: Vec<Seg>,
    lists: Vec<Vec<Seg>>,
    /// Lines held since the writing thread was last asked for its spill.
    unasked: usize,
    /// How many segments exist, and how many hold lines here and at the writing thread.
    segs: usize,
    held_segs: usize,
    out_segs: usize,
    /// An emptied spill, kept for its buffers.
    spare: Option<Spill>,
    /// True while the writing thread has a spill.
    out: bool,
    io: Option<Io>,
    /// Writes on this thread until the pool first fills up.
    sink: Option<Sink>,
    /// The writing thread could not be started: this thread writes every spill.
    threadless: bool,
    /// The last path looked up, kept to save an allocation per line.
    rel: String,
    /// The line being held.
    line: Vec<u8>,
    /// How many segments may exist.
    cap: usize,
    /// Each file's lines whose fates wait, by id; the fates settled since last taken.
    unsettled: Vec<Unsettled>,
    landed: Landed,
    /// Files keep all their lines or none (`--atomic`).
    atomic: bool,
}

impl Clone for Pending {
    /// A copy holds nothing: copies (live-view snapshots) never write files.
    fn clone(&self) -> Pending {
        Pending::default()
    }
}

impl Pending {
    /// Holds up to about `held_bytes`; `atomic`: files keep all their lines or none.
    pub(crate) fn new(held_bytes: usize, atomic: bool) -> Pending {
        Pending {
            cap: held_bytes.div_ceil(SEG).max(1),
            atomic,
            ..Pending::default()
        }
    }

    /// The id of a stage's file, given its path (starting with the stage's fixed directory), which
    /// `render` appends to the string it is given. Stages naming the same path share the file.
    pub(crate) fn file(&mut self, stage: usize, render: impl FnOnce(&mut String)) -> u32 {
        self.rel.clear();
        render(&mut self.rel);
        if let Some(&id) = self.ids.get(self.rel.as_str()) {
            return id;
        }
        let normal = super::safe_path::normal(Path::new(&self.rel));
        if let Some(&id) = self.normal_ids.get(&normal) {
            self.ids.insert(self.rel.as_str().into(), id);
            return id;
        }
        let id = u32::try_from(self.held.len()).expect("fewer than 2^32 files: each takes memory");
        self.ids.insert(self.rel.as_str().into(), id);
        self.normal_ids.insert(normal, id);
        let rel = Path::new(&self.rel);
        let compressed = rel
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz") || e.eq_ignore_ascii_case("zst"));
        self.phase.push((!compressed).then_some(0));
        self.names.push((stage, rel.into()));
        self.held.push(Held::default());
        self.unsettled.push(Unsettled::default());
        id
    }

    /// Holds one line for file `id`: `write` appends its bytes, newline included. `input`: the
    /// input whose line's fate this is, once the file keeps it.
    pub(crate) fn push(&mut self, id: u32, input: Option<u32>, write: impl FnOnce(&mut Vec<u8>)) {
        self.unsettled[id as usize].push(input.unwrap_or(NO_INPUT), self.atomic);
        self.line.clear();
        write(&mut self.line);
        let held = &mut self.held[id as usize];
        if held.bytes == 0 && !self.line.is_empty() {
            self.active.push(id);
        }
        let mut line = self.line.as_slice();
        while !line.is_empty() {
            let used = (held.start + held.bytes) % SEG;
            if used == 0 {
                let seg = new_seg(&mut self.free, &mut self.segs);
                if let Some(full) = held.last.replace(seg) {
                    if held.full.capacity() == 0 {
                        held.full = self.lists.pop().unwrap_or_default();
                    }
                    held.full.push(full);
                }
                self.held_segs += 1;
            }
            let n = line.len().min(SEG - used);
            let seg = held.last.as_mut().expect("a segment with room was added above");
            seg[used..used + n].copy_from_slice(&line[..n]);
            held.bytes += n;
            line = &line[n..];
        }
    }

    /// Once half the pool holds lines, gives the files holding the most to the writing thread when it is
    /// idle, and waits for it while the pool is full; returns the error of an earlier write, if any.
    pub(crate) fn write_if_full(&mut self, files: &StageFiles) -> Result<(), OutputError> {
        if self.held_segs < self.cap.div_ceil(2) {
            return Ok(());
        }
        self.blocks = files.blocks;
        if self.io.is_none() && !self.threadless {
            let sink = self.sink.take().unwrap_or_else(|| new_sink(files));
            match spawn(sink) {
                Ok(io) => self.io = Some(io),
                Err(sink) => (self.sink, self.threadless) = (sink, true),
            }
        }
        if self.threadless {
            // No thread could be started: this thread writes, as before the pool first filled.
            let mut spill = self.fill_spill(self.cap.div_ceil(SPILL_SHARE) * SEG, false);
            let result = self.sink.get_or_insert_with(|| new_sink(files)).write(&mut spill);
            self.reuse(spill);
            return result;
        }
        // Asking costs a little: once in a while, unless the pool is full.
        self.unasked += 1;
        let mut result = Ok(());
        if self.out && self.held_segs + self.out_segs >= self.cap {
            result = self.take_back(true);
        } else if self.unasked >= 32 {
            self.unasked = 0;
            result = self.take_back(false);
        }
        if !self.out {
            let spill = self.fill_spill(self.cap.div_ceil(SPILL_SHARE) * SEG, false);
            self.send(spill);
        }
        result
    }

    /// Writes every held line and waits until they are written.
    pub(crate) fn flush(&mut self, files: &StageFiles) -> Result<(), OutputError> {
        if self.io.is_some() {
            let result = self.take_back(true);
            if !self.active.is_empty() {
                let spill = self.fill_spill(0, true);
                self.send(spill);
            }
            return OutputError::first_of(result, self.take_back(true));
        }
        if self.active.is_empty() {
            return Ok(());
        }
        let mut spill = self.fill_spill(0, true);
        let result = self.sink.get_or_insert_with(|| new_sink(files)).write(&mut spill);
        self.reuse(spill);
        result
    }

    /// Ends the writing thread, after a [`Pending::flush`].
    pub(crate) fn stop(&mut self) {
        if let Some(io) = self.io.take() {
            let (handoff, ready) = &*io.shared;
            handoff.lock().expect("not poisoned").closed = true;
            ready.notify_all();
            if let Ok(Some(sink)) = io.thread.join() {
                self.sink = Some(sink);
            }
        }
    }

    /// After [`Pending::stop`] and the files' [`StageFiles::finish`], which found how many
    /// lines each file (by key) holds in the end: settles the fates of every line.
    pub(crate) fn settle(&mut self, kept_by_key: &[u64]) {
        let keys = self.sink.as_ref().map_or(&[][..], |s| &s.keys[..]);
        for (id, unsettled) in self.unsettled.iter_mut().enumerate() {
            let key = keys.get(id).copied().flatten();
            let kept = key.and_then(|k| kept_by_key.get(k)).copied().unwrap_or(0);
            unsettled.settle(kept, true, &mut self.landed);
        }
    }

    /// The fates settled since last asked.
    pub(crate) fn take_landed(&mut self) -> Landed {
        std::mem::take(&mut self.landed)
    }

    /// Takes back the spill the writing thread has written, waiting for it if `wait`.
    fn take_back(&mut self, wait: bool) -> Result<(), OutputError> {
        if !self.out {
            return Ok(());
        }
        let io = self.io.as_ref().expect("spills are out only while the thread runs");
        let (handoff, ready) = &*io.shared;
        let mut handoff = handoff.lock().expect("not poisoned");
        while wait && handoff.done.is_none() {
            handoff = ready.wait(handoff).expect("not poisoned");
        }
        let Some((spill, result)) = handoff.done.take() else {
            return Ok(());
        };
        drop(handoff);
        self.out = false;
        self.out_segs -= spill.segs;
        self.reuse(spill);
        result
    }

    /// Keeps a written spill's segments, but no more than the pool holds (a long line takes more).
    fn reuse(&mut self, mut spill: Spill) {
        for (id, kept) in spill.kept.drain(..) {
            self.unsettled[id as usize].settle(kept, false, &mut self.landed);
        }
        self.free.append(&mut spill.free);
        self.lists.append(&mut spill.lists);
        let extra = self.segs.saturating_sub(self.cap).min(self.free.len());
        self.free.truncate(self.free.len() - extra);
        self.segs -= extra;
        spill.segs = 0;
        self.spare = Some(spill);
    }

    fn send(&mut self, spill: Spill) {
        let io = self.io.as_ref().expect("started before spilling");
        self.out_segs += spill.segs;
        let (handoff, ready) = &*io.shared;
        handoff.lock().expect("not poisoned").todo = Some(spill);
        ready.notify_all();
        self.out = true;
    }

    /// Moves the lines of the files that can give the most to a spill, until it has about `want` bytes, or
    /// everything with `all`. Files are ranked by the power of two of what they give, close enough and
    /// linear; with block pieces, a plain file that cannot end a block yet ranks below every one that can;
    /// without, every file gives all its lines.
    fn fill_spill(&mut self, want: usize, all: bool) -> Spill {
        let mut spill = self.spare.take().unwrap_or_default();
        spill.names.append(&mut self.names);
        let rank = |(len, ends_block): (usize, bool)| {
            (usize::BITS - len.leading_zeros()) as usize + usize::from(ends_block) * (usize::BITS as usize + 1)
        };
        let mut bytes_by_rank = [0; 2 * (usize::BITS as usize + 1)];
        let blocks = self.blocks;
        for &id in &self.active {
            let p = piece(self.held[id as usize].bytes, self.phase[id as usize].filter(|_| blocks));
            bytes_by_rank[rank(p)] += p.0;
        }
        let (mut least, mut above) = (0, 0);
        for (r, &n) in bytes_by_rank.iter().enumerate().rev() {
            least = r;
            if above + n >= want && !all {
                break;
            }
            above += n;
        }
        // Every file above rank `least`, then files of that rank until `want`.
        let mut room = want.saturating_sub(above);
        let (held, phase, free, segs, lists) = (
            &mut self.held,
            &mut self.phase,
            &mut self.free,
            &mut self.segs,
            &mut self.lists,
        );
        let mut taken = 0;
        self.active.retain(|&id| {
            let h = &mut held[id as usize];
            let (len, ends_block) = match all {
                true => (h.bytes, false),
                false => piece(h.bytes, phase[id as usize].filter(|_| blocks)),
            };
            let r = rank((len, ends_block));
            if !all && (r < least || (r == least && room == 0)) {
                return true;
            }
            if r == least {
                room = room.saturating_sub(len);
            }
            if let Some(at) = &mut phase[id as usize] {
                *at = ((usize::from(*at) + len) % BLOCK) as u16;
            }
            let before = h.segs();
            let front = h.take_front(len, lists, || new_seg(free, segs));
            taken += before - h.segs();
            spill.segs += front.segs();
            spill.files.push((id, front));
            h.bytes > 0
        });
        self.held_segs -= taken;
        spill
    }
}

/// How much of a file holding `bytes` to write, and whether that ends on a block boundary: a plain file
/// (`phase`: how far its end is into a block) gives what does, if it holds that much; a compressed one all.
fn piece(bytes: usize, phase: Option<u16>) -> (usize, bool) {
    let Some(at) = phase.map(usize::from) else {
        return (bytes, true);
    };
    let end = (at + bytes) / BLOCK * BLOCK;
    if end > at { (end - at, true) } else { (bytes, false) }
}

/// How many of the bytes in `slices` are whole lines: up to the last newline.
fn whole(slices: &[IoSlice]) -> usize {
    let mut end: usize = slices.iter().map(|s| s.len()).sum();
    for slice in slices.iter().rev() {
        if let Some(i) = memchr::memrchr(b'\n', slice) {
            return end - slice.len() + i + 1;
        }
        end -= slice.len();
    }
    0
}

/// A segment from `free`, or a new one counted in `segs`.
fn new_seg(free: &mut Vec<Seg>, segs: &mut usize) -> Seg {
    free.pop().unwrap_or_else(|| {
        *segs += 1;
        Box::new([0; SEG])
    })
}

fn new_sink(files: &StageFiles) -> Sink {
    Sink {
        files: files.clone(),
        names: Vec::new(),
        keys: Vec::new(),
        failed: Vec::new(),
    }
}

/// Starts the writing thread with `sink`; gives the sink back if the system cannot start a thread.
fn spawn(sink: Sink) -> Result<Io, Option<Sink>> {
    let shared = Arc::new((Mutex::new(Handoff::default()), Condvar::new()));
    let start = Arc::new(Mutex::new(Some(sink)));
    let (theirs, their_sink) = (shared.clone(), start.clone());
    let spawned = std::thread::Builder::new().name("evq-files".into()).spawn(move || {
        let mut sink = their_sink.lock().ok().and_then(|mut s| s.take())?;
        let (handoff, ready) = &*theirs;
        loop {
            let mut h = handoff.lock().expect("not poisoned");
            while h.todo.is_none() && !h.closed {
                h = ready.wait(h).expect("not poisoned");
            }
            let Some(mut spill) = h.todo.take() else {
                return Some(sink);
            };
            drop(h);
            let result = sink.write(&mut spill);
            handoff.lock().expect("not poisoned").done = Some((spill, result));
            ready.notify_all();
        }
    });
    match spawned {
        Ok(thread) => Ok(Io { shared, thread }),
        Err(_) => Err(start.lock().ok().and_then(|mut s| s.take())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::fmt::Write as _;

    fn bytes(held: &Held) -> Vec<u8> {
        held.slices().iter().flat_map(|s| s.to_vec()).collect()
    }

    proptest! {
        /// Lines pushed, then fronts of any length taken, come out as they went in, and a front's
        /// whole part ends on its last newline.
        #[test]
        fn fronts_taken_at_any_point_give_back_the_lines(
            steps in prop::collection::vec((1usize..1500, any::<bool>(), 0usize..5000), 1..40),
        ) {
            let mut p = Pending::new(HELD_BYTES, false);
            let id = p.file(0, |rel| rel.push_str("a.ndjson"));
            let (mut sent, mut got) = (Vec::new(), Vec::new());
            let mut lists = Vec::new();
            for (n, take, len) in steps {
                let line: Vec<u8> = (0..n).map(|i| if i + 1 == n { b'\n' } else { b'a' + (i % 26) as u8 }).collect();
                sent.extend_from_slice(&line);
                p.push(id, None, |buf| buf.extend_from_slice(&line));
                let held = &mut p.held[id as usize];
                if take {
                    let len = len.min(held.bytes);
                    let front = held.take_front(len, &mut lists, || Box::new([0; SEG]));
                    let data = bytes(&front);
                    prop_assert_eq!(data.len(), len);
                    let whole = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                    prop_assert_eq!(front.whole(), whole);
                    got.extend(data);
                }
                prop_assert_eq!(held.start + held.bytes <= SEG * held.segs(), true);
            }
            got.extend(bytes(&p.held[id as usize]));
            prop_assert_eq!(got, sent);
        }
    }

    /// Pushes lines of many lengths to a few files, then takes spills: the bytes each file gives.
    fn spill_pieces(blocks: bool) -> Vec<Vec<u8>> {
        let mut p = Pending::new(1 << 20, false);
        p.blocks = blocks;
        let ids: Vec<u32> = (0..4)
            .map(|i| p.file(0, |rel| write!(rel, "{i}.ndjson").unwrap()))
            .collect();
        let mut pieces = Vec::new();
        for round in 0..200usize {
            for (k, &id) in ids.iter().enumerate() {
                let line = format!("{}\n", "x".repeat((round * 37 + k * 101) % 700));
                p.push(id, None, |buf| buf.extend_from_slice(line.as_bytes()));
            }
            if round % 10 == 9 {
                let spill = p.fill_spill(8 << 10, false);
                pieces.extend(spill.files.iter().map(|(_, held)| bytes(held)));
                p.reuse(spill);
            }
        }
        pieces
    }

    #[test]
    fn every_piece_of_a_visible_plain_file_is_whole_lines() {
        let pieces = spill_pieces(false);
        assert!(pieces.len() > 10);
        for piece in &pieces {
            assert_eq!(piece.last(), Some(&b'\n'), "a write would end inside a line");
        }
        // Block pieces (for --atomic temporaries) do end inside lines.
        assert!(spill_pieces(true).iter().any(|p| p.last() != Some(&b'\n')));
    }

    #[test]
    fn without_a_writing_thread_this_thread_writes_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        let files = StageFiles::new([None, Some(root.as_path())], TopicOptions::default());
        let mut p = Pending::new(4096, false);
        p.threadless = true;
        let mut want = vec![String::new(); 5];
        for i in 0..2000 {
            let line = format!("{{\"i\":{i}}}\n");
            let id = p.file(1, |rel| write!(rel, "{}/{}.ndjson", root.display(), i % 5).unwrap());
            p.push(id, None, |buf| buf.extend_from_slice(line.as_bytes()));
            want[i % 5].push_str(&line);
            p.write_if_full(&files).unwrap();
        }
        assert!(p.io.is_none());
        p.flush(&files).unwrap();
        files.finish(true).0.unwrap();
        for (k, want) in want.iter().enumerate() {
            assert_eq!(
                &std::fs::read_to_string(root.join(format!("{k}.ndjson"))).unwrap(),
                want
            );
        }
    }

    #[test]
    fn a_plain_file_gives_what_ends_on_a_block_boundary() {
        assert_eq!(piece(5000, Some(0)), (4096, true));
        assert_eq!(piece(5000, Some(3000)), (1096, true));
        assert_eq!(piece(5192, Some(3000)), (5192, true));
        assert_eq!(piece(1000, Some(3000)), (1000, false));
        assert_eq!(piece(1096, Some(3000)), (1096, true));
        assert_eq!(piece(1000, None), (1000, true));
    }
}
