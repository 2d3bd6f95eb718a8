//! Per-topic output files (`to`, `tee`, `-O`): an LRU of open handles under one root directory
//! that never follows a symlink, gzip/zstd by extension, whole lines even after a failed write,
//! and with `atomic` temporary files renamed into place only when the run succeeds.

use super::safe_path::{
    check_relative, copy_existing, ensure_dir, normal, open_nofollow, refuse_damaged_compressed,
    refuse_other_than_file, refuse_partial_last_line,
};
use flate2::{Compression, write::GzEncoder};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, ErrorKind, IoSlice, Write};
use std::path::{Component, Path, PathBuf};

/// Looked up once per write: a fast hash, seeded per process.
type Fast = foldhash::fast::RandomState;

/// Compressors are large (measured: gzip ~0.5 MiB, zstd ~3 MiB each once warm), so no more than
/// this many are open at once whatever `max_open` says, to keep memory constant; an evicted one
/// ends its gzip member or zstd frame.
const MAX_OPEN_COMPRESSED: usize = 8;

#[derive(Debug, Clone)]
pub(crate) struct TopicOptions {
    /// Keep what files already hold instead of truncating them when first opened.
    pub append: bool,
    /// Write temporary files and rename them into place on `finish(true)`.
    pub atomic: bool,
    /// The most files open at once; never more than a safe share of the process's limit, taken
    /// when the files are set up (after `lib.rs` raised it), so `usize::MAX` means that share.
    pub max_open: usize,
    /// The run's input files, which are never opened for writing (leaked once per run, so
    /// that the options stay `Copy`).
    pub inputs: std::sync::Arc<[crate::input::Identity]>,
    /// Every write completes its gzip member or zstd frame, so that what was written can be
    /// read from the file at once: for inputs whose messages are acknowledged after their
    /// output is flushed (NATS).
    pub seal: bool,
    /// The run's other output files (`--dead-letter`, `--stats=FILE`, stdout when it is a file),
    /// each with how the command names it: a topic file that is one of them is refused.
    pub others: std::sync::Arc<[(String, PathBuf)]>,
}

impl Default for TopicOptions {
    fn default() -> Self {
        TopicOptions {
            append: false,
            atomic: false,
            max_open: super::safe_path::default_max_open_files(),
            inputs: std::sync::Arc::default(),
            seal: false,
            others: std::sync::Arc::default(),
        }
    }
}

/// A failed file operation and the file it failed on.
#[derive(Debug)]
pub(crate) struct TopicError {
    pub path: PathBuf,
    pub error: io::Error,
    /// What the file holds after the failure, when that needs saying.
    pub kept: Option<Kept>,
    /// The other files that failed (when closing, or in other writes of the same run), each
    /// once however often it failed.
    pub others: BTreeSet<PathBuf>,
    /// The compressed files among those that were removed (see [`Kept::Removed`]).
    pub removed: Vec<PathBuf>,
}

/// What a file holds after a write to it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// A plain file: its whole lines, as always.
    Lines,
    /// A compressed file, cut back to its last complete member: it decompresses to whole lines.
    Members,
    /// A compressed file with no complete member left: removed.
    Removed,
    /// An `--atomic` temporary file: removed with the others; no output file changed.
    Atomic,
}

fn at(path: impl Into<PathBuf>, error: io::Error) -> TopicError {
    TopicError {
        path: path.into(),
        error,
        kept: None,
        others: BTreeSet::new(),
        removed: Vec::new(),
    }
}

impl TopicError {
    fn kept(mut self, kept: Kept) -> TopicError {
        self.kept = Some(kept);
        self
    }

    /// Says that the files of `later` failed too, naming those that were removed; a file
    /// counts once, however often it failed.
    pub(crate) fn and_then(mut self, later: TopicError) -> TopicError {
        let removed = (later.kept == Some(Kept::Removed)).then(|| later.path.clone());
        for path in removed.into_iter().chain(later.removed) {
            if path != self.path && !self.removed.contains(&path) {
                self.removed.push(path);
            }
        }
        self.others.insert(later.path);
        self.others.extend(later.others);
        self.others.remove(&self.path);
        self
    }
}

impl fmt::Display for TopicError {
    /// `PATH: message`, without Rust's ` (os error N)`, then what the file holds if that needs saying.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            crate::messages::shown_path(&self.path),
            crate::messages::io(&self.error)
        )?;
        match self.kept {
            Some(Kept::Members) => write!(
                f,
                " (cut back to its last complete compressed member: it decompresses to whole lines)"
            )?,
            Some(Kept::Removed) => write!(f, " (removed: no complete compressed member was left)")?,
            Some(Kept::Atomic) => write!(f, " (--atomic: no output file was changed)")?,
            Some(Kept::Lines) | None => {}
        }
        match self.others.len() {
            0 => {}
            1 => write!(f, "; 1 more file failed too")?,
            n => write!(f, "; {n} more files failed too")?,
        }
        if let Some(first) = self.removed.first() {
            write!(f, ", and {} was removed", crate::messages::shown_path(first))?;
            match self.removed.len() - 1 {
                0 => {}
                1 => write!(f, " with 1 more")?,
                n => write!(f, " with {n} more")?,
            }
            write!(f, " (no complete compressed member was left)")?;
        }
        Ok(())
    }
}

impl std::error::Error for TopicError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A compressed file ends its gzip member or zstd frame, and starts another, once this many
/// compressed bytes follow the last one: a failed write cuts the file back only to there, so it
/// keeps what came before and still decompresses to whole lines.
#[cfg(not(test))]
const MEMBER_BYTES: u64 = 1 << 20;
#[cfg(test)]
const MEMBER_BYTES: u64 = 1 << 10;

/// Compressors write into their `Vec`, which is moved to the file after every call: the encoder
/// never owns the file, so a failed write can be undone and dropping an encoder writes nothing.
enum Codec {
    Plain,
    // Boxed: a plain file's slot stays small when there are thousands.
    Gzip(Box<GzEncoder<Vec<u8>>>),
    Zstd(Box<zstd::Encoder<'static, Vec<u8>>>),
}

/// One open session of a file.
struct Open {
    file: File,
    codec: Codec,
    /// The file's length.
    end: u64,
    /// The length to cut the file back to when a write fails: the end of the last whole line
    /// (plain), or the start of this session's gzip member or zstd frame (compressed).
    rollback: u64,
    /// Bytes after which a gzip member or zstd frame is completed: 0 completes one per write.
    member_bytes: u64,
    /// The whole lines this session wrote, and how many of them the file keeps whatever
    /// fails next: those before `rollback`.
    lines: u64,
    kept: u64,
}

impl Open {
    /// `end` is the file's length, `line_end` where its last whole line ends.
    fn new(file: File, path: &Path, end: u64, line_end: u64, seal: bool) -> io::Result<Open> {
        let (codec, rollback) = match extension(path).as_deref() {
            Some("gz") => (
                Codec::Gzip(Box::new(GzEncoder::new(Vec::new(), Compression::default()))),
                end,
            ),
            Some("zst") => {
                let level = zstd::DEFAULT_COMPRESSION_LEVEL;
                (Codec::Zstd(Box::new(zstd::Encoder::new(Vec::new(), level)?)), end)
            }
            _ => (Codec::Plain, line_end),
        };
        Ok(Open {
            file,
            codec,
            end,
            rollback,
            member_bytes: if seal { 0 } else { MEMBER_BYTES },
            lines: 0,
            kept: 0,
        })
    }

    /// Where the last whole line ends, if the file ends inside a line.
    fn partial(&self) -> Option<u64> {
        matches!(self.codec, Codec::Plain)
            .then_some(self.rollback)
            .filter(|&r| r < self.end)
    }

    /// Appends `data`, whose first `whole` bytes end a line.
    fn write(&mut self, data: &[IoSlice], whole: usize) -> io::Result<()> {
        let lines: u64 = data.iter().map(|d| memchr::memchr_iter(b'\n', d).count() as u64).sum();
        let res = match &mut self.codec {
            Codec::Plain => match write_out(&self.file, data) {
                Ok(n) => {
                    if whole > 0 {
                        self.rollback = self.end + whole as u64;
                        self.kept = self.lines + lines;
                    }
                    self.end += n as u64;
                    Ok(())
                }
                Err(short) => {
                    self.keep_whole_lines(data, short.written);
                    Err(short.error)
                }
            },
            Codec::Gzip(e) => compress(&mut **e, data)
                .and_then(|()| drain(&self.file, e.get_mut()))
                .map(|n| self.end += n as u64),
            Codec::Zstd(e) => compress(&mut **e, data)
                .and_then(|()| drain(&self.file, e.get_mut()))
                .map(|n| self.end += n as u64),
        }
        .map(|()| self.lines += lines)
        .and_then(|()| self.end_member_past(self.member_bytes));
        res.inspect_err(|_| self.undo())
    }

    /// After a plain write failed once `written` bytes of `data` went out: the whole lines among
    /// them stay (the rest is cut off by [`Open::undo`]).
    fn keep_whole_lines(&mut self, data: &[IoSlice], written: usize) {
        let (mut at, mut last_end, mut lines) = (0, None, 0);
        for d in data {
            let part = &d[..d.len().min(written - at)];
            lines += memchr::memchr_iter(b'\n', part).count() as u64;
            last_end = memchr::memrchr(b'\n', part).map(|i| at + i + 1).or(last_end);
            at += part.len();
            if at == written {
                break;
            }
        }
        if let Some(end) = last_end {
            self.rollback = self.end + end as u64;
            self.lines += lines;
            self.kept = self.lines;
        }
        self.end += written as u64;
    }

    /// Ends the session, completing the gzip member or zstd frame; then every line it wrote
    /// is kept, or after a failure those the file was cut back to.
    fn close(&mut self) -> io::Result<()> {
        self.end_member_past(0).inspect_err(|_| self.undo())
    }

    /// Completes the gzip member or zstd frame, and starts another, once more than `past` bytes
    /// were written since the last one ended: the point a failed write cuts the file back to.
    fn end_member_past(&mut self, past: u64) -> io::Result<()> {
        let written = self.end - self.rollback;
        let n = match &mut self.codec {
            Codec::Plain => return Ok(()),
            _ if past > 0 && written < past => return Ok(()),
            Codec::Gzip(e) => {
                e.try_finish()?;
                let n = drain(&self.file, e.get_mut())?;
                **e = GzEncoder::new(Vec::new(), Compression::default());
                n
            }
            Codec::Zstd(e) => {
                e.do_finish()?;
                let n = drain(&self.file, e.get_mut())?;
                **e = zstd::Encoder::new(Vec::new(), zstd::DEFAULT_COMPRESSION_LEVEL)?;
                n
            }
        };
        self.end += n as u64;
        self.rollback = self.end;
        self.kept = self.lines;
        Ok(())
    }

    /// Cuts the file back to `rollback`, best effort: the write error is what gets reported.
    fn undo(&mut self) {
        let _ = self.file.set_len(self.rollback);
        self.lines = self.kept;
    }
}

/// The lowercase extension, which picks the compression.
fn extension(path: &Path) -> Option<String> {
    path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// Whether a file name (or its end) names a compression evq reads but does not write (`.bz2`,
/// `.xz`): such a file would hold plain text.
pub(crate) fn unwritten_compression(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(".bz2") || name.ends_with(".xz")
}

fn compress(encoder: &mut impl Write, data: &[IoSlice]) -> io::Result<()> {
    data.iter().try_for_each(|d| encoder.write_all(d))
}

/// Moves a compressor's output to the file; one large write does not keep a large buffer. Returns
/// how many bytes that was.
fn drain(file: &File, buf: &mut Vec<u8>) -> io::Result<usize> {
    let res = write_out(file, &[IoSlice::new(buf)]).map_err(|short| short.error);
    buf.clear();
    buf.shrink_to(1 << 16);
    res
}

/// The most slices one write(2) takes (`IOV_MAX` on Linux and macOS).
const MAX_SLICES: usize = 1024;

/// A write that failed after some of its bytes went out.
struct Short {
    error: io::Error,
    written: usize,
}

/// Writes all of `data`, in one write(2) unless the system writes less; returns how many bytes that
/// was. Slices past [`MAX_SLICES`] are joined first: a write cut there would end inside a line.
fn write_out(file: &File, data: &[IoSlice]) -> Result<usize, Short> {
    if data.len() > MAX_SLICES {
        let mut joined = Vec::with_capacity(data.iter().map(|d| d.len()).sum());
        for d in data {
            joined.extend_from_slice(d);
        }
        return write_slices(file, &[IoSlice::new(&joined)]);
    }
    write_slices(file, data)
}

fn write_slices(mut file: &File, data: &[IoSlice]) -> Result<usize, Short> {
    let len = data.iter().map(|d| d.len()).sum();
    let room = space_for(len);
    let mut left = room;
    let mut slices: Vec<IoSlice> = data
        .iter()
        .filter(|d| !d.is_empty())
        .map_while(|d| {
            let n = d.len().min(left);
            left -= n;
            (n > 0).then(|| IoSlice::new(&d[..n]))
        })
        .collect();
    let mut rest = slices.as_mut_slice();
    let mut written = 0;
    let short = |error, written| Err(Short { error, written });
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return short(ErrorKind::WriteZero.into(), written),
            Ok(n) => {
                IoSlice::advance_slices(&mut rest, n);
                written += n;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return short(e, written),
        }
    }
    if room < len {
        return short(io::Error::from_raw_os_error(libc::ENOSPC), written);
    }
    Ok(len)
}

/// How much of a write fits; tests make the disk fill up.
#[cfg(not(test))]
fn space_for(len: usize) -> usize {
    len
}

#[cfg(test)]
use tests::space_for;

/// What the run knows about one file.
struct Slot {
    /// The file's path, which begins with its root's directory.
    path: PathBuf,
    /// The root (of the first template to name the file) it was checked against.
    root: usize,
    /// Last use: the key of this file in its LRU queue while it is open.
    tick: u64,
    open: Option<Open>,
    /// With `atomic`: the temporary file written instead.
    tmp: Option<PathBuf>,
    compressed: bool,
    written: bool,
    /// While closed, when the file ends inside a line: where its last whole line ends.
    line_end: Option<u64>,
    /// The lines this run wrote that the sessions closed so far kept.
    lines: u64,
}

/// A template's fixed directory: made on the first write, never through a symlink.
struct Root {
    dir: PathBuf,
    ready: bool,
}

/// Every file a run's `to`, `tee` and `-O` write, under their templates' fixed directories: one
/// registry (a file is truncated only the first time the run opens it, whichever template names
/// it) and one budget of open files for the whole run.
pub(crate) struct TopicFiles {
    opts: TopicOptions,
    roots: Vec<Root>,
    /// Every file of this run, open or not, and where it is in `slots`, by each spelling of its
    /// path met and by its [`normal`] path: a file not in here is truncated when opened.
    files: HashMap<PathBuf, usize, Fast>,
    /// The files of `opts.others`, once a topic file is opened (they exist by then).
    others: Option<Vec<crate::input::Identity>>,
    slots: Vec<Slot>,
    /// Open files (their place in `slots`) by last use, oldest first; compressed ones (index 1)
    /// apart, for their own cap.
    lru: [BTreeMap<u64, usize>; 2],
    tick: u64,
    /// With `atomic`: the temporary names in use, which no output file may take.
    temps: HashSet<PathBuf>,
    finished: bool,
    /// Once closed: how many of the run's lines each file holds, by key.
    kept_lines: Vec<u64>,
}

impl TopicFiles {
    /// At most `opts.max_open` files are open at once, and never more than a safe share of the
    /// process's limit: inputs, sort spill files and the dead-letter file need descriptors too.
    pub(crate) fn new(mut opts: TopicOptions) -> TopicFiles {
        opts.max_open = opts.max_open.min(super::safe_path::default_max_open_files()).max(1);
        TopicFiles {
            opts,
            roots: Vec::new(),
            files: HashMap::default(),
            others: None,
            slots: Vec::new(),
            lru: [BTreeMap::new(), BTreeMap::new()],
            tick: 0,
            temps: HashSet::new(),
            finished: false,
            kept_lines: Vec::new(),
        }
    }

    /// Adds a template's fixed directory (empty: the current one); returns its key. Nothing is
    /// created outside it. It is made on the first write, each of its names checked: a symlink
    /// anywhere in it is refused, as in the rest of the output location.
    pub(crate) fn add_root(&mut self, dir: &Path) -> usize {
        if let Some(i) = self.roots.iter().position(|r| r.dir == dir) {
            return i;
        }
        self.roots.push(Root {
            dir: dir.to_path_buf(),
            ready: false,
        });
        self.roots.len() - 1
    }

    /// Appends whole lines to the file at `path`, which begins with the directory of `root`. On
    /// failure the file is cut back to end on a whole line (or a whole compressed member) and closed.
    #[cfg(test)]
    pub(crate) fn write(&mut self, root: usize, path: &Path, data: &[u8]) -> Result<(), TopicError> {
        self.write_vectored(root, path, &[IoSlice::new(data)], data.len())
            .map(drop)
    }

    /// Appends `data`, in several slices, of which the first `whole` bytes end a line; the rest begins
    /// a line that a later write ends. A file left inside a line is cut back to its last whole line
    /// when the files are closed. Returns the file's key for [`TopicFiles::write_at`].
    pub(crate) fn write_vectored(
        &mut self,
        root: usize,
        path: &Path,
        data: &[IoSlice],
        whole: usize,
    ) -> Result<usize, TopicError> {
        self.tick += 1;
        let key = match self.files.get(path) {
            Some(&key) if self.slots[key].open.is_some() => key,
            Some(&key) => self.reopen(key)?,
            None => self.first_spelling(root, path)?,
        };
        self.write_open(key, data, whole).map(|()| key)
    }

    /// The key of the file at `path`, a spelling of its path not met before: the file the run
    /// opened under another spelling (reopened if need be), or a new one.
    fn first_spelling(&mut self, root: usize, path: &Path) -> Result<usize, TopicError> {
        let normal = normal(path);
        let Some(&key) = self.files.get(&normal) else {
            return self.open_new(root, path, normal);
        };
        self.files.insert(path.to_path_buf(), key);
        match self.slots[key].open {
            Some(_) => Ok(key),
            None => self.reopen(key),
        }
    }

    /// [`TopicFiles::write_vectored`] to the file with this key, without looking its path up.
    pub(crate) fn write_at(&mut self, key: usize, data: &[IoSlice], whole: usize) -> Result<(), TopicError> {
        self.tick += 1;
        if self.slots[key].open.is_none() {
            self.reopen(key)?;
        }
        self.write_open(key, data, whole)
    }

    fn write_open(&mut self, key: usize, data: &[IoSlice], whole: usize) -> Result<(), TopicError> {
        let slot = &mut self.slots[key];
        let queue = &mut self.lru[usize::from(slot.compressed)];
        if slot.tick != self.tick {
            if let Some(key) = queue.remove(&slot.tick) {
                queue.insert(self.tick, key);
            }
            slot.tick = self.tick;
        }
        let Some(open) = slot.open.as_mut() else {
            return Err(at(&slot.path, io::Error::other("internal error: the file is not open")));
        };
        if let Err(error) = open.write(data, whole) {
            queue.remove(&slot.tick);
            let rollback = open.rollback;
            slot.lines += open.lines;
            slot.open = None;
            let kept = self.kept_after_failure(key, rollback);
            return Err(at(&self.slots[key].path, error).kept(kept));
        }
        slot.written = true;
        Ok(())
    }

    /// Flushes and closes every file, completing compressed streams. With `atomic`, renames the
    /// temporary files into place when `success` and nothing failed, else removes them. Also
    /// returns how many of the lines the run gave each file (by key) it holds in the end.
    pub(crate) fn finish(mut self, success: bool) -> (Result<(), TopicError>, Vec<u64>) {
        let result = self.close_all(success);
        (result, std::mem::take(&mut self.kept_lines))
    }

    /// The key of the file at `path`, once the run opened it.
    pub(crate) fn key(&self, path: &Path) -> Option<usize> {
        self.files.get(path).copied()
    }

    /// How many of the lines the run gave the file at `key` it keeps whatever fails later: none
    /// of an `--atomic` file's until it is renamed into place.
    pub(crate) fn lines(&self, key: usize) -> u64 {
        let slot = &self.slots[key];
        match slot.tmp {
            Some(_) => 0,
            None => slot.lines + slot.open.as_ref().map_or(0, |o| o.kept),
        }
    }

    /// How many distinct files received data.
    #[cfg(test)]
    pub(crate) fn files_written(&self) -> usize {
        self.slots.iter().filter(|s| s.written).count()
    }

    /// Opens a file the run has not opened yet (`normal` is its [`normal`] path): truncated unless
    /// `append`; returns its key.
    fn open_new(&mut self, root: usize, path: &Path, normal: PathBuf) -> Result<usize, TopicError> {
        let Some(dir) = self.roots.get(root).map(|r| r.dir.clone()) else {
            return Err(at(path, io::Error::other("internal error: unknown output directory")));
        };
        let rel = path.strip_prefix(&dir).unwrap_or(path);
        if dir.as_os_str().is_empty() || path.starts_with(&dir) {
            check_relative(rel).map_err(|e| at(path, e))?;
        } else {
            return Err(at(
                path,
                io::Error::new(ErrorKind::InvalidInput, "must stay inside the output directory"),
            ));
        }
        if self.temps.contains(path) {
            return Err(at(path, temp_clash()));
        }
        if let Some(input) = crate::input::input_at(&self.opts.inputs, path) {
            return Err(at(path, crate::input::overwrite_error(input)));
        }
        self.refuse_other_output(path)?;
        self.make_dirs(root, rel).map_err(|(p, e)| at(p, e))?;
        let compressed = matches!(extension(path).as_deref(), Some("gz" | "zst"));
        let tmp = match self.opts.atomic {
            true => Some(self.temp_name(path).map_err(|e| at(path, e))?),
            false => None,
        };
        let target = tmp.as_deref().unwrap_or(path);
        let open = self.open_file(path, target, true, None).inspect_err(|_| {
            if tmp.is_some() {
                let _ = fs::remove_file(target);
            }
        })?;
        self.temps.extend(tmp.clone());
        let key = self.slots.len();
        self.files.insert(path.to_path_buf(), key);
        self.files.insert(normal, key);
        self.slots.push(Slot {
            path: path.to_path_buf(),
            root,
            tick: self.tick,
            open: Some(open),
            tmp,
            compressed,
            written: false,
            line_end: None,
            lines: 0,
        });
        self.lru[usize::from(compressed)].insert(self.tick, key);
        Ok(key)
    }

    /// Refuses a topic file that is another output of the run (the dead-letter file, say):
    /// their lines would overwrite each other.
    fn refuse_other_output(&mut self, path: &Path) -> Result<(), TopicError> {
        if self.opts.others.is_empty() {
            return Ok(());
        }
        let others = self.others.get_or_insert_with(|| {
            let others = self.opts.others.iter();
            others
                .filter_map(|(name, p)| crate::input::Identity::of(p, name))
                .collect()
        });
        let Some(file) = crate::input::Identity::of(path, "") else {
            return Ok(());
        };
        match others.iter().find(|o| o.same(&file)) {
            Some(other) => Err(at(
                path,
                io::Error::other(format!(
                    "is also the run's {}; two outputs in one file would overwrite each other",
                    other.name
                )),
            )),
            None => Ok(()),
        }
    }

    /// Opens again, for appending, a file that was closed to make room.
    fn reopen(&mut self, key: usize) -> Result<usize, TopicError> {
        let slot = &self.slots[key];
        let (path, tmp, root) = (slot.path.clone(), slot.tmp.clone(), slot.root);
        let dir = self.roots.get(root).map(|r| r.dir.clone()).unwrap_or_default();
        let rel = path.strip_prefix(&dir).unwrap_or(&path);
        self.make_dirs(root, rel).map_err(|(p, e)| at(p, e))?;
        let open = self.open_file(&path, tmp.as_deref().unwrap_or(&path), false, self.slots[key].line_end)?;
        let slot = &mut self.slots[key];
        (slot.open, slot.tick, slot.line_end) = (Some(open), self.tick, None);
        self.lru[usize::from(slot.compressed)].insert(self.tick, key);
        Ok(key)
    }

    /// Makes the root's directory, then those of `rel` below it, never through a symlink.
    fn make_dirs(&mut self, root: usize, rel: &Path) -> Result<(), (PathBuf, io::Error)> {
        let Some(r) = self.roots.get_mut(root) else {
            return Ok(());
        };
        let mut dir = PathBuf::new();
        if !r.ready {
            for c in r.dir.components() {
                dir.push(c);
                if let Component::Normal(_) = c {
                    ensure_dir(&dir).map_err(|e| (dir.clone(), e))?;
                }
            }
            r.ready = true;
        }
        let mut dir = r.dir.clone();
        for c in rel.parent().map(Path::components).into_iter().flatten() {
            dir.push(c);
            ensure_dir(&dir).map_err(|e| (dir.clone(), e))?;
        }
        Ok(())
    }

    /// Opens `target` (the file at `path`, or its temporary name), closing the least recently
    /// used files while the system has no descriptor left: the budget is a share of the limit,
    /// and inputs, spill files and the dead-letter file take descriptors too.
    fn open_file(
        &mut self,
        path: &Path,
        target: &Path,
        first: bool,
        line_end: Option<u64>,
    ) -> Result<Open, TopicError> {
        let compressed = matches!(extension(path).as_deref(), Some("gz" | "zst"));
        if unwritten_compression(&path.to_string_lossy()) {
            let why = "evq compresses only .gz and .zst files; this name would hold plain text";
            return Err(at(path, io::Error::new(io::ErrorKind::InvalidInput, why)));
        }
        self.make_room(compressed)?;
        refuse_other_than_file(path).map_err(|e| at(path, e))?;
        if first && self.opts.append {
            let zstd = extension(path).as_deref() == Some("zst");
            match compressed {
                true => refuse_damaged_compressed(path, zstd),
                false => refuse_partial_last_line(path),
            }
            .map_err(|e| at(path, e))?;
        }
        let truncate = first && (self.opts.atomic || !self.opts.append);
        let file = loop {
            match open_nofollow(target, truncate) {
                Err(e) if out_of_descriptors(&e) && self.open_count() > 0 => self.evict_oldest()?,
                opened => break opened.map_err(|e| at(path, e))?,
            }
        };
        let mut file = file;
        let len = match (truncate, first && self.opts.append) {
            (false, _) => file.metadata().map(|m| m.len()),
            (true, true) => copy_existing(path, &mut file),
            (true, false) => Ok(0),
        };
        len.and_then(|len| Open::new(file, path, len, line_end.unwrap_or(len), self.opts.seal))
            .map_err(|e| at(path, e))
    }

    fn open_count(&self) -> usize {
        self.lru[0].len() + self.lru[1].len()
    }

    /// After a failed write of the file at `key` (its session `open`, already cut back): what the
    /// file holds now. A compressed file left with no complete member decompresses to nothing
    /// valid, so it is removed.
    fn kept_after_failure(&mut self, key: usize, rollback: u64) -> Kept {
        let slot = &mut self.slots[key];
        if slot.tmp.is_some() {
            return Kept::Atomic;
        }
        if !slot.compressed {
            return Kept::Lines;
        }
        if rollback > 0 {
            return Kept::Members;
        }
        (slot.line_end, slot.lines) = (None, 0);
        match fs::remove_file(&slot.path) {
            Ok(()) => Kept::Removed,
            Err(_) => Kept::Members,
        }
    }

    /// Closes the least recently used file if opening one more would pass a cap.
    fn make_room(&mut self, compressed: bool) -> Result<(), TopicError> {
        let cap = self.opts.max_open.max(1);
        if compressed && self.lru[1].len() >= MAX_OPEN_COMPRESSED.min(cap) {
            return self.evict(1);
        }
        if self.open_count() < cap {
            return Ok(());
        }
        self.evict_oldest()
    }

    /// Closes the least recently used file, plain or compressed.
    fn evict_oldest(&mut self) -> Result<(), TopicError> {
        let queue = match (self.lru[0].first_key_value(), self.lru[1].first_key_value()) {
            (Some((plain, _)), Some((zipped, _))) => usize::from(zipped < plain),
            (None, _) => 1,
            (Some(_), None) => 0,
        };
        self.evict(queue)
    }

    fn evict(&mut self, queue: usize) -> Result<(), TopicError> {
        let Some((_, key)) = self.lru[queue].pop_first() else {
            return Ok(());
        };
        let slot = &mut self.slots[key];
        let Some(mut open) = slot.open.take() else {
            return Ok(());
        };
        slot.line_end = open.partial();
        let rollback = open.rollback;
        let closed = open.close();
        slot.lines += open.lines;
        match closed {
            Ok(()) => Ok(()),
            Err(e) => {
                let kept = self.kept_after_failure(key, rollback);
                Err(at(&self.slots[key].path, e).kept(kept))
            }
        }
    }

    /// `.NAME.evq-tmp-PID` beside the final file (a hash for names too long to extend).
    fn temp_name(&self, path: &Path) -> io::Result<PathBuf> {
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::from(ErrorKind::InvalidInput))?;
        let mut tmp = OsString::from(".");
        if name.len() <= 200 {
            tmp.push(name);
        } else {
            tmp.push(format!(
                "{:016x}",
                twox_hash::XxHash64::oneshot(0, name.as_encoded_bytes())
            ));
        }
        tmp.push(format!(".evq-tmp-{}", std::process::id()));
        let tmp = path.with_file_name(tmp);
        if self.files.contains_key(&tmp) || self.temps.contains(&tmp) {
            return Err(temp_clash());
        }
        Ok(tmp)
    }

    /// Closes every file: compressed streams are completed (or, when that fails, cut back to
    /// their last complete member, or removed when none is left), files ending inside a line are
    /// cut back to their last whole line, and `atomic` temporary files are renamed into place on
    /// success, else removed. Returns the first failure, with how many more files failed.
    fn close_all(&mut self, success: bool) -> Result<(), TopicError> {
        self.finished = true;
        let mut errors = Vec::new();
        for queue in 0..2 {
            while !self.lru[queue].is_empty() {
                errors.extend(self.evict(queue).err());
            }
        }
        for slot in &self.slots {
            if let Some(line_end) = slot.line_end {
                let target = slot.tmp.as_ref().unwrap_or(&slot.path);
                let cut = open_nofollow(target, false).and_then(|file| file.set_len(line_end));
                errors.extend(cut.err().map(|e| at(target, e)));
            }
        }
        self.files.clear();
        self.kept_lines = self.slots.iter().map(|s| s.lines).collect();
        for (key, slot) in self.slots.drain(..).enumerate() {
            let Some(tmp) = slot.tmp else { continue };
            // Once anything failed, the remaining temporary files are removed, not renamed.
            if success && errors.is_empty() {
                // The file replaced keeps its mode, as `sed -i` keeps it.
                if let Ok(old) = fs::symlink_metadata(&slot.path)
                    && old.is_file()
                {
                    let _ = fs::set_permissions(&tmp, old.permissions());
                }
                match fs::rename(&tmp, &slot.path) {
                    Ok(()) => continue,
                    Err(e) => errors.push(at(&slot.path, e)),
                }
            }
            self.kept_lines[key] = 0;
            match fs::remove_file(&tmp) {
                Err(e) if e.kind() != ErrorKind::NotFound => errors.push(at(tmp, e)),
                _ => {}
            }
        }
        let mut errors = errors.into_iter();
        errors
            .next()
            .map_or(Ok(()), |first| Err(errors.fold(first, TopicError::and_then)))
    }
}

impl Drop for TopicFiles {
    /// A run that ends without `finish` (a panic) failed: leave whole lines, no temporary files.
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.close_all(false);
        }
    }
}

/// The process (or the system) has no file descriptor left.
fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

fn temp_clash() -> io::Error {
    io::Error::new(
        ErrorKind::AlreadyExists,
        "clashes with the temporary name of another --atomic output file",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::io::Read;
    use std::os::unix::fs::symlink;
    use tempfile::TempDir;

    thread_local! {
        /// Bytes left on the pretend disk of this test thread; `None`: unlimited.
        static SPACE: Cell<Option<usize>> = const { Cell::new(None) };
    }

    pub(super) fn space_for(len: usize) -> usize {
        let Some(room) = SPACE.get() else { return len };
        SPACE.set(Some(room.saturating_sub(len)));
        len.min(room)
    }

    /// A temporary directory and the topic files rooted in it.
    fn setup(append: bool, atomic: bool, max_open: usize) -> (TempDir, TopicFiles) {
        let dir = tempfile::tempdir().unwrap();
        let files = rooted(
            dir.path(),
            TopicOptions {
                append,
                atomic,
                max_open,
                inputs: std::sync::Arc::default(),
                seal: false,
                others: std::sync::Arc::default(),
            },
        );
        (dir, files)
    }

    /// Topic files with one root, `root`.
    fn rooted(root: &Path, opts: TopicOptions) -> TopicFiles {
        let mut t = TopicFiles::new(opts);
        t.add_root(root);
        t
    }

    /// The path of `rel` under the first root.
    fn path(t: &TopicFiles, rel: &str) -> PathBuf {
        t.roots[0].dir.join(rel)
    }

    fn put(t: &mut TopicFiles, rel: &str, data: &str) -> Result<(), TopicError> {
        let path = path(t, rel);
        t.write(0, &path, data.as_bytes())
    }

    fn read(dir: &TempDir, rel: &str) -> String {
        fs::read_to_string(dir.path().join(rel)).unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    fn gunzip(dir: &TempDir, rel: &str) -> String {
        let mut s = String::new();
        let file = File::open(dir.path().join(rel)).unwrap();
        flate2::read::MultiGzDecoder::new(file).read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn writes_lines_and_creates_directories_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        let mut t = rooted(
            &root,
            TopicOptions {
                append: false,
                atomic: false,
                max_open: 8,
                inputs: std::sync::Arc::default(),
                seal: false,
                others: std::sync::Arc::default(),
            },
        );
        put(&mut t, "a/b/c.ndjson", "1\n").unwrap();
        put(&mut t, "./top.ndjson", "2\n").unwrap();
        put(&mut t, "a/b/c.ndjson", "3\n4\n").unwrap();
        assert_eq!(t.files_written(), 2);
        t.finish(true).0.unwrap();
        assert_eq!(fs::read_to_string(root.join("a/b/c.ndjson")).unwrap(), "1\n3\n4\n");
        assert_eq!(fs::read_to_string(root.join("top.ndjson")).unwrap(), "2\n");
    }

    #[test]
    fn paths_leaving_the_root_are_refused() {
        let (dir, mut t) = setup(false, false, 8);
        for rel in ["../x", "a/../../x", "a/..", "/tmp/evq-escape", "", "."] {
            let err = put(&mut t, rel, "1\n").unwrap_err();
            assert_eq!(err.error.kind(), ErrorKind::InvalidInput, "{rel:?}");
        }
        t.finish(true).0.unwrap();
        assert!(names(dir.path()).is_empty());
        assert!(!Path::new("/tmp/evq-escape").exists());
    }

    #[test]
    fn symlinks_in_the_output_location_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let (root, outside) = (dir.path().join("out"), dir.path().join("outside"));
        fs::create_dir_all(&root).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("f"), "keep\n").unwrap();
        symlink(&outside, root.join("dir")).unwrap();
        symlink(outside.join("f"), root.join("file")).unwrap();
        symlink(outside.join("new"), root.join("dangling")).unwrap();
        for (append, atomic) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut t = rooted(
                &root,
                TopicOptions {
                    append,
                    atomic,
                    max_open: 4,
                    inputs: std::sync::Arc::default(),
                    seal: false,
                    others: std::sync::Arc::default(),
                },
            );
            for rel in ["dir/x", "dir/sub/x", "file", "dangling"] {
                let err = put(&mut t, rel, "bad\n").unwrap_err();
                assert!(
                    err.to_string()
                        .ends_with("is a symbolic link, which evq never follows in an output location")
                );
            }
            t.finish(true).0.unwrap();
        }
        assert_eq!(names(&outside), ["f"]);
        assert_eq!(fs::read_to_string(outside.join("f")).unwrap(), "keep\n");
    }

    #[test]
    fn first_open_truncates_unless_append() {
        let (dir, mut t) = setup(false, false, 1);
        fs::write(dir.path().join("a"), "old\n").unwrap();
        put(&mut t, "a", "1\n").unwrap();
        put(&mut t, "c", "x\n").unwrap(); // evicts a, which is reopened in append mode
        put(&mut t, "a", "2\n").unwrap();
        t.finish(true).0.unwrap();
        assert_eq!(read(&dir, "a"), "1\n2\n");
        let mut t = rooted(
            dir.path(),
            TopicOptions {
                append: true,
                atomic: false,
                max_open: 1,
                inputs: std::sync::Arc::default(),
                seal: false,
                others: std::sync::Arc::default(),
            },
        );
        put(&mut t, "a", "3\n").unwrap();
        t.finish(true).0.unwrap();
        assert_eq!(read(&dir, "a"), "1\n2\n3\n");
    }

    #[test]
    fn thousands_of_files_through_a_small_cache() {
        let (dir, mut t) = setup(false, false, 16);
        let line = |i: usize, round: usize| format!("{{\"i\":{i},\"round\":{round}}}\n");
        for round in 0..3 {
            for i in 0..5000 {
                put(&mut t, &format!("d{}/f{i}.ndjson", i % 7), &line(i, round)).unwrap();
                assert!(t.lru[0].len() <= 16);
            }
        }
        assert_eq!(t.files_written(), 5000);
        t.finish(true).0.unwrap();
        for i in 0..5000 {
            let want: String = (0..3).map(|round| line(i, round)).collect();
            assert_eq!(read(&dir, &format!("d{}/f{i}.ndjson", i % 7)), want);
        }
    }

    #[test]
    fn compressed_files_stay_valid_across_reopens() {
        let (dir, mut t) = setup(false, false, 2);
        let rels = ["a.ndjson.gz", "b.ndjson.zst", "c.ndjson.GZ", "d.ndjson"];
        for round in 0..40 {
            for rel in rels {
                put(&mut t, rel, &format!("{rel} {round}\n")).unwrap();
            }
        }
        t.finish(true).0.unwrap();
        let want = |rel: &str| (0..40).map(|r| format!("{rel} {r}\n")).collect::<String>();
        assert_eq!(gunzip(&dir, "a.ndjson.gz"), want("a.ndjson.gz"));
        assert_eq!(gunzip(&dir, "c.ndjson.GZ"), want("c.ndjson.GZ"));
        let zst = zstd::decode_all(File::open(dir.path().join("b.ndjson.zst")).unwrap()).unwrap();
        assert_eq!(String::from_utf8(zst).unwrap(), want("b.ndjson.zst"));
        assert_eq!(read(&dir, "d.ndjson"), want("d.ndjson"));
    }

    #[test]
    fn sealed_compressed_files_are_readable_after_every_write_before_they_close() {
        let dir = tempfile::tempdir().unwrap();
        let opts = TopicOptions {
            seal: true,
            ..TopicOptions::default()
        };
        let mut t = rooted(dir.path(), opts);
        let mut want = String::new();
        for round in 0..3 {
            let line = format!("{{\"n\":{round}}}\n");
            put(&mut t, "a.ndjson.gz", &line).unwrap();
            put(&mut t, "b.ndjson.zst", &line).unwrap();
            want.push_str(&line);
            // Still open: every member or frame written so far is complete.
            assert_eq!(gunzip(&dir, "a.ndjson.gz"), want);
            let zst = zstd::decode_all(File::open(dir.path().join("b.ndjson.zst")).unwrap()).unwrap();
            assert_eq!(String::from_utf8(zst).unwrap(), want);
        }
        t.finish(true).0.unwrap();
        assert_eq!(gunzip(&dir, "a.ndjson.gz"), want);
    }

    #[test]
    fn topic_files_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<TopicFiles>();
        send::<TopicError>();
    }

    #[test]
    fn compressors_have_their_own_cap() {
        let (_dir, mut t) = setup(false, false, 1000);
        for i in 0..MAX_OPEN_COMPRESSED + 5 {
            put(&mut t, &format!("{i}.zst"), "x\n").unwrap();
            put(&mut t, &format!("{i}.txt"), "x\n").unwrap();
        }
        assert_eq!(
            (t.lru[0].len(), t.lru[1].len()),
            (MAX_OPEN_COMPRESSED + 5, MAX_OPEN_COMPRESSED)
        );
        t.finish(true).0.unwrap();
    }

    #[test]
    fn a_failed_write_leaves_whole_lines_and_names_the_file() {
        let (dir, mut t) = setup(false, false, 4);
        put(&mut t, "a.ndjson", "1\n").unwrap();
        SPACE.set(Some(3));
        let err = put(&mut t, "a.ndjson", "2222\n3333\n").unwrap_err();
        SPACE.set(None);
        assert_eq!(
            err.to_string(),
            format!("{}: No space left on device", dir.path().join("a.ndjson").display())
        );
        assert_eq!(read(&dir, "a.ndjson"), "1\n");
        put(&mut t, "a.ndjson", "4\n").unwrap();
        let key = t.files[&path(&t, "a.ndjson")];
        assert_eq!(t.lines(key), 2);
        let (result, kept) = t.finish(true);
        result.unwrap();
        assert_eq!(read(&dir, "a.ndjson"), "1\n4\n");
        assert_eq!(kept, [2]);
    }

    #[test]
    fn failures_name_the_first_file_and_count_each_other_file_once() {
        let full = || io::Error::from_raw_os_error(28);
        let removed = |p: &str| at(p, full()).kept(Kept::Removed);
        let err = [
            at("b", full()),
            at("a", full()),
            removed("c.gz"),
            at("b", full()),
            removed("c.gz"),
        ]
        .into_iter()
        .fold(at("a", full()), TopicError::and_then);
        assert_eq!(
            err.to_string(),
            "a: No space left on device; 2 more files failed too, and c.gz was removed \
             (no complete compressed member was left)"
        );
        let first_removed = removed("a.gz").and_then(removed("a.gz"));
        assert_eq!(
            first_removed.to_string(),
            "a.gz: No space left on device (removed: no complete compressed member was left)"
        );
    }

    #[test]
    fn a_failed_write_keeps_the_whole_lines_that_went_out() {
        let (dir, mut t) = setup(false, false, 4);
        put(&mut t, "a.ndjson", "1\n").unwrap();
        SPACE.set(Some(7));
        put(&mut t, "a.ndjson", "2222\n3333\n").unwrap_err();
        SPACE.set(None);
        assert_eq!(read(&dir, "a.ndjson"), "1\n2222\n");
        let (result, kept) = t.finish(true);
        result.unwrap();
        assert_eq!(kept, [2], "the file keeps two of the run's lines");
    }

    #[test]
    fn an_atomic_file_keeps_its_lines_only_once_renamed() {
        let (_dir, mut t) = setup(false, true, 4);
        put(&mut t, "a.ndjson", "1\n2\n").unwrap();
        assert_eq!(t.lines(0), 0);
        let (result, kept) = t.finish(true);
        result.unwrap();
        assert_eq!(kept, [2]);
        let (_dir, mut t) = setup(false, true, 4);
        put(&mut t, "a.ndjson", "1\n2\n").unwrap();
        assert_eq!(t.finish(false).1, [0]);
    }

    /// Writes `data`, whose whole lines are those up to its last newline.
    fn put_part(t: &mut TopicFiles, rel: &str, data: &str) -> Result<(), TopicError> {
        let whole = data.rfind('\n').map_or(0, |i| i + 1);
        let path = path(t, rel);
        t.write_vectored(0, &path, &[IoSlice::new(data.as_bytes())], whole)
            .map(drop)
    }

    #[test]
    fn more_slices_than_one_call_takes_are_written_whole() {
        let (dir, mut t) = setup(false, false, 4);
        let lines: Vec<String> = (0..3000).map(|i| format!("{i}\n")).collect();
        let slices: Vec<IoSlice> = lines.iter().map(|l| IoSlice::new(l.as_bytes())).collect();
        let path = path(&t, "a.ndjson");
        let len = lines.iter().map(String::len).sum();
        t.write_vectored(0, &path, &slices, len).unwrap();
        t.finish(true).0.unwrap();
        assert_eq!(read(&dir, "a.ndjson"), lines.concat());
    }

    #[test]
    fn a_line_split_over_writes_joins_up() {
        let (dir, mut t) = setup(false, false, 1);
        put_part(&mut t, "a.ndjson", "1\n2").unwrap();
        put_part(&mut t, "b.ndjson", "x").unwrap(); // evicts a, which ends inside a line
        put_part(&mut t, "a.ndjson", "2\n").unwrap();
        put_part(&mut t, "b.ndjson", "y\n").unwrap();
        t.finish(true).0.unwrap();
        assert_eq!(read(&dir, "a.ndjson"), "1\n22\n");
        assert_eq!(read(&dir, "b.ndjson"), "xy\n");
    }

    #[test]
    fn a_key_writes_to_its_file_also_after_it_was_closed() {
        let (dir, mut t) = setup(false, false, 1);
        let a = t
            .write_vectored(0, &path(&t, "a.ndjson"), &[IoSlice::new(b"1\n")], 2)
            .unwrap();
        let b = t
            .write_vectored(0, &path(&t, "./b.ndjson"), &[IoSlice::new(b"x\n")], 2)
            .unwrap();
        assert_ne!(a, b);
        t.write_at(a, &[IoSlice::new(b"2\n"), IoSlice::new(b"3\n")], 4).unwrap(); // reopens a
        t.write_at(b, &[IoSlice::new(b"y\n")], 2).unwrap();
        t.finish(true).0.unwrap();
        assert_eq!(read(&dir, "a.ndjson"), "1\n2\n3\n");
        assert_eq!(read(&dir, "b.ndjson"), "x\ny\n");
    }

    #[test]
    fn files_left_inside_a_line_are_cut_back_to_their_last_whole_line() {
        let (dir, mut t) = setup(false, false, 2);
        put_part(&mut t, "open.ndjson", "1\n2").unwrap();
        put_part(&mut t, "closed.ndjson", "a\nb").unwrap();
        put_part(&mut t, "closed.ndjson", "b\nc").unwrap();
        put_part(&mut t, "x.ndjson", "x\n").unwrap();
        put_part(&mut t, "open.ndjson", "22").unwrap(); // evicts closed.ndjson, inside a line
        put_part(&mut t, "y.ndjson", "y\n").unwrap(); // evicts x.ndjson
        assert_eq!(read(&dir, "closed.ndjson"), "a\nbb\nc");
        // The run stops before the rest of the lines come.
        t.finish(false).0.unwrap();
        assert_eq!(read(&dir, "open.ndjson"), "1\n");
        assert_eq!(read(&dir, "closed.ndjson"), "a\nbb\n");
        assert_eq!(read(&dir, "x.ndjson"), "x\n");
    }

    #[test]
    fn a_failed_write_after_a_split_line_cuts_before_that_line() {
        let (dir, mut t) = setup(false, false, 1);
        put_part(&mut t, "a.ndjson", "1\n2").unwrap();
        put_part(&mut t, "b.ndjson", "x\n").unwrap(); // a is closed, ends inside a line
        SPACE.set(Some(1));
        let err = put_part(&mut t, "a.ndjson", "2\n3\n").unwrap_err();
        SPACE.set(None);
        assert_eq!(err.path, dir.path().join("a.ndjson"));
        assert_eq!(read(&dir, "a.ndjson"), "1\n");
        t.finish(false).0.unwrap();
        assert_eq!(read(&dir, "a.ndjson"), "1\n");
    }

    #[test]
    fn a_failed_compressed_session_is_cut_back_to_its_start() {
        let (dir, mut t) = setup(false, false, 1);
        put(&mut t, "a.gz", "1\n").unwrap();
        put(&mut t, "b.gz", "x\n").unwrap(); // evicts a: its first gzip member is complete
        put(&mut t, "a.gz", "2\n").unwrap();
        SPACE.set(Some(5));
        let err = t.finish(false).0.unwrap_err();
        SPACE.set(None);
        assert_eq!(err.path, dir.path().join("a.gz"));
        assert_eq!(gunzip(&dir, "a.gz"), "1\n");
    }

    #[test]
    fn a_failed_compressed_write_keeps_the_members_before_it() {
        for rel in ["a.ndjson.gz", "a.ndjson.zst"] {
            let (dir, mut t) = setup(false, false, 4);
            let mut x: u64 = 88172645463325252;
            let mut noise = |n: usize| -> String {
                (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        char::from(b'a' + (x % 26) as u8)
                    })
                    .collect()
            };
            let lines: Vec<String> = (0..2000).map(|i| format!("{i} {}\n", noise(200))).collect();
            for line in &lines {
                put(&mut t, rel, line).unwrap();
            }
            SPACE.set(Some(10));
            let err = (0..50)
                .find_map(|_| put(&mut t, rel, &format!("{}\n", noise(5000))).err())
                .unwrap();
            SPACE.set(None);
            assert_eq!(err.kept, Some(Kept::Members), "{rel}");
            let (result, kept) = t.finish(false);
            result.unwrap();
            let file = File::open(dir.path().join(rel)).unwrap();
            let mut text = String::new();
            if rel.ends_with("gz") {
                flate2::read::MultiGzDecoder::new(file)
                    .read_to_string(&mut text)
                    .unwrap();
            } else {
                zstd::Decoder::new(file).unwrap().read_to_string(&mut text).unwrap();
            }
            // More than the first member's lines were kept, and nothing after a whole line.
            assert!(
                text.len() > 1024 && lines.concat().starts_with(&text),
                "{rel}: {} bytes",
                text.len()
            );
            assert_eq!(kept, [text.lines().count() as u64], "{rel}: the lines it keeps");
        }
    }

    #[test]
    fn atomic_files_appear_only_on_success() {
        let (dir, mut t) = setup(false, true, 1);
        put(&mut t, "a", "1\n").unwrap();
        put(&mut t, "sub/b.gz", "2\n").unwrap();
        put(&mut t, "a", "3\n").unwrap();
        assert_eq!(
            names(dir.path()),
            [format!(".a.evq-tmp-{}", std::process::id()), "sub".into()]
        );
        t.finish(true).0.unwrap();
        assert_eq!(names(dir.path()), ["a", "sub"]);
        assert_eq!(names(&dir.path().join("sub")), ["b.gz"]);
        assert_eq!(read(&dir, "a"), "1\n3\n");
        assert_eq!(gunzip(&dir, "sub/b.gz"), "2\n");
    }

    #[test]
    fn atomic_failure_changes_no_final_file() {
        let (dir, mut t) = setup(false, true, 4);
        fs::write(dir.path().join("a"), "old\n").unwrap();
        put(&mut t, "a", "new\n").unwrap();
        put(&mut t, "b", "new\n").unwrap();
        t.finish(false).0.unwrap();
        assert_eq!(
            (names(dir.path()), read(&dir, "a")),
            (vec!["a".to_string()], "old\n".to_string())
        );
        // Dropped without finish (a panic): the same.
        let mut t = rooted(
            dir.path(),
            TopicOptions {
                append: false,
                atomic: true,
                max_open: 4,
                inputs: std::sync::Arc::default(),
                seal: false,
                others: std::sync::Arc::default(),
            },
        );
        put(&mut t, "a", "new\n").unwrap();
        drop(t);
        assert_eq!(
            (names(dir.path()), read(&dir, "a")),
            (vec!["a".to_string()], "old\n".to_string())
        );
    }

    #[test]
    fn atomic_append_extends_the_existing_file() {
        let (dir, mut t) = setup(true, true, 1);
        fs::write(dir.path().join("a"), "old\n").unwrap();
        put(&mut t, "a", "new\n").unwrap();
        put(&mut t, "b", "x\n").unwrap();
        put(&mut t, "a", "newer\n").unwrap();
        assert_eq!(read(&dir, "a"), "old\n");
        t.finish(true).0.unwrap();
        assert_eq!(read(&dir, "a"), "old\nnew\nnewer\n");
    }

    #[test]
    fn an_output_name_cannot_take_a_temporary_name() {
        let (dir, mut t) = setup(false, true, 4);
        let tmp = |name: &str| format!(".{name}.evq-tmp-{}", std::process::id());
        put(&mut t, "a", "1\n").unwrap();
        assert_eq!(
            put(&mut t, &tmp("a"), "2\n").unwrap_err().error.kind(),
            ErrorKind::AlreadyExists
        );
        // The other order: a file takes the name first, then another file's temporary needs it.
        put(&mut t, &tmp("c"), "3\n").unwrap();
        assert_eq!(
            put(&mut t, "c", "4\n").unwrap_err().error.kind(),
            ErrorKind::AlreadyExists
        );
        t.finish(true).0.unwrap();
        assert_eq!(
            (read(&dir, "a"), read(&dir, &tmp("c"))),
            ("1\n".to_string(), "3\n".to_string())
        );
    }
}
