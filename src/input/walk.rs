//! Directory inputs: a walk that skips hidden entries, never lists a file or enters a
//! directory twice (compared by device and inode, so hard links and link loops are read
//! once), skips FIFOs, sockets and devices (a read could block forever or never end), and
//! follows symbolic links only when asked (`--follow-links`, as ripgrep's and fd's `-L`).
//! `--glob` patterns choose the files (as ripgrep's `-g`), and files that are plainly not
//! event data (licences, readmes, Markdown, binary files) are left out unless `--no-ignore`
//! is given or a glob names them.

use super::decompress::{Compression, detect};
use super::{Input, Source};
use globset::{Glob, GlobBuilder, GlobMatcher};
use std::collections::HashSet;
use std::fs::{self, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What directory walks left out, for one note on stderr (and, with `-v`, one line each).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// FIFOs, sockets and devices.
    pub special: u64,
    /// Symbolic links, without `--follow-links`.
    pub links: u64,
    /// With `--follow-links`, links that lead nowhere: to nothing, or round in a loop.
    pub nowhere: u64,
    /// Licences, readmes and Markdown files, by name.
    pub not_data: u64,
    /// Files with a NUL byte in their first 8 KiB (not compressed).
    pub binary: u64,
    /// Files and directories that `--glob` patterns leave out.
    pub excluded: u64,
    /// Files and directories a walk listed already (a directory named twice, or inside
    /// another named, a hard link, a link to a directory walked).
    pub again: u64,
    /// Hidden files and directories (their names start with `.`), counted for `-v` only: a
    /// tree's `.git` is no news.
    pub hidden: u64,
    /// Directories this run writes topic files to: a rerun must not read what the last run
    /// wrote.
    pub topic_dirs: u64,
    /// Each entry left out and why, for `-v`.
    pub entries: Vec<(String, &'static str)>,
    /// The files the walks found to read.
    pub found: u64,
}

impl Skipped {
    /// The note for stderr, if anything was left out; `verbose` counts what globs excluded too,
    /// as does a walk that `--glob` left no file to read.
    pub(crate) fn note(&self, verbose: bool) -> Option<String> {
        let none_left = self.excluded > 0 && self.found == 0;
        let plural = |n: u64, one: &str, many: &str| crate::messages::counted(n, one, many);
        let counts = [
            (
                self.special,
                "special file (FIFO, socket or device)",
                "special files (FIFOs, sockets, devices)",
            ),
            (self.links, "symbolic link", "symbolic links"),
            (
                self.nowhere,
                "symbolic link to nothing or in a loop",
                "symbolic links to nothing or in loops",
            ),
            (
                self.not_data,
                "licence, readme or Markdown file",
                "licence, readme and Markdown files",
            ),
            (self.binary, "binary file", "binary files"),
            (
                self.topic_dirs,
                "topic directory of this run",
                "topic directories of this run",
            ),
            (
                if verbose || none_left { self.excluded } else { 0 },
                "entry excluded by --glob",
                "entries excluded by --glob",
            ),
            (
                self.again,
                "entry listed twice (read once)",
                "entries listed twice (read once)",
            ),
            (if verbose { self.hidden } else { 0 }, "hidden entry", "hidden entries"),
        ];
        let parts: Vec<String> = counts
            .iter()
            .filter(|c| c.0 > 0)
            .map(|&(n, one, many)| plural(n, one, many))
            .collect();
        if parts.is_empty() {
            return None;
        }
        let mut hints = String::new();
        if self.links > 0 {
            hints.push_str("; --follow-links follows links");
        }
        if self.not_data + self.binary > 0 {
            hints.push_str("; --no-ignore reads every file");
        }
        if none_left {
            hints.push_str("; no file was left to read: check the -g patterns");
        }
        let list = match parts.len() {
            1 => parts.concat(),
            n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
        };
        Some(format!("skipped {list} in directory inputs{hints}"))
    }

    fn skip(&mut self, path: &Path, why: &'static str) {
        self.entries.push((crate::messages::path_name(path), why));
    }
}

/// One `--glob` pattern.
#[derive(Debug, Clone)]
struct Rule {
    matcher: GlobMatcher,
    exclude: bool,
    /// A pattern without `/` matches an entry's name at any depth; others its whole path
    /// relative to the walked directory.
    by_name: bool,
}

/// The `--glob` patterns, in order: the last one that matches an entry decides.
#[derive(Debug, Clone, Default)]
pub(crate) struct Globs(Vec<Rule>);

impl Globs {
    /// The patterns as given; `!` in front excludes.
    pub(crate) fn new(patterns: &[String]) -> Result<Globs, String> {
        patterns
            .iter()
            .map(|p| Globs::rule(p))
            .collect::<Result<_, _>>()
            .map(Globs)
    }

    fn rule(pattern: &str) -> Result<Rule, String> {
        let (exclude, glob) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        let glob = glob.strip_suffix('/').unwrap_or(glob);
        let by_name = !glob.contains('/');
        let glob = glob.strip_prefix('/').unwrap_or(glob);
        let built = match by_name {
            true => Glob::new(glob),
            false => GlobBuilder::new(glob).literal_separator(true).build(),
        };
        let matcher = built
            .map_err(|e| format!("`{pattern}` is not a glob: {}", e.kind()))?
            .compile_matcher();
        Ok(Rule {
            matcher,
            exclude,
            by_name,
        })
    }

    /// Some(true) when the last matching pattern includes `rel`, Some(false) when it excludes it.
    fn verdict(&self, rel: &Path) -> Option<bool> {
        let name = Path::new(rel.file_name().unwrap_or(rel.as_os_str()));
        self.0
            .iter()
            .rev()
            .find(|r| r.matcher.is_match(if r.by_name { name } else { rel }))
            .map(|r| !r.exclude)
    }

    fn includes_any(&self) -> bool {
        self.0.iter().any(|r| !r.exclude)
    }
}

/// How directories are walked: `--follow-links`, `--glob`, `--no-ignore`, and the directories
/// this run writes topic files to, which walks leave out.
#[derive(Debug, Clone, Default)]
pub(crate) struct WalkOptions {
    pub follow_links: bool,
    pub globs: Globs,
    pub no_ignore: bool,
    pub topic_dirs: Vec<PathBuf>,
}

/// Names of files that hold no events: `LICENSE`, `README.md`, `COPYING-LGPL.txt`…
const NOT_DATA: [&str; 8] = [
    "LICENSE",
    "LICENCE",
    "COPYING",
    "NOTICE",
    "README",
    "AUTHORS",
    "CHANGELOG",
    "CONTRIBUTING",
];

/// Extensions of documents.
const DOC_EXTENSIONS: [&str; 4] = [".MD", ".MARKDOWN", ".TXT", ".RST"];

/// Whether a file's name says it holds no events: Markdown, or one of [`NOT_DATA`]'s names
/// with at most a `-SUFFIX` and a document's extension (`notice.log` is a Zeek log).
fn named_not_data(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let stem = DOC_EXTENSIONS
        .iter()
        .find_map(|e| upper.strip_suffix(e))
        .unwrap_or(&upper);
    upper.ends_with(".MD")
        || upper.ends_with(".MARKDOWN")
        || NOT_DATA.iter().any(|w| {
            stem.strip_prefix(w)
                .is_some_and(|rest| rest.is_empty() || (rest.starts_with('-') && !rest.contains('.')))
        })
}

/// Whether a file is binary: not compressed and not UTF-16 text (whose ASCII characters hold
/// NULs), with a NUL byte in its first 8 KiB. A file that cannot be read is not (its error is
/// reported when it is read).
fn is_binary(path: &Path) -> bool {
    let mut head = Vec::with_capacity(8 << 10);
    let read = fs::File::open(path).and_then(|f| f.take(8 << 10).read_to_end(&mut head));
    read.is_ok()
        && matches!(detect(&head), Compression::None)
        && !super::decompress::is_utf16(&head)
        && memchr::memchr(0, &head).is_some()
}

/// Walks directories for one run: what one walk listed, no later walk lists again.
pub(crate) struct Walk {
    opts: WalkOptions,
    /// The directory being walked: globs match paths relative to it.
    root: PathBuf,
    files: HashSet<(u64, u64)>,
    dirs: HashSet<(u64, u64)>,
    /// The topic directories that exist already, by device and inode.
    topic_dirs: HashSet<(u64, u64)>,
    pub skipped: Skipped,
}

fn id(m: &Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

fn file(path: PathBuf) -> Input {
    Input {
        name: crate::messages::path_name(&path),
        source: Source::File(path),
        walked: true,
    }
}

impl Walk {
    pub(crate) fn new(opts: WalkOptions) -> Walk {
        let topic_dirs = opts.topic_dirs.iter().filter_map(|p| fs::metadata(p).ok());
        Walk {
            topic_dirs: topic_dirs.filter(Metadata::is_dir).map(|m| id(&m)).collect(),
            opts,
            root: PathBuf::new(),
            files: HashSet::new(),
            dirs: HashSet::new(),
            skipped: Skipped::default(),
        }
    }

    /// Appends the files under `dir` to `out`, in no particular order.
    pub(crate) fn dir(&mut self, dir: &Path, out: &mut Vec<Input>) {
        self.root = dir.to_path_buf();
        match fs::metadata(dir) {
            Ok(m) if !self.dirs.insert(id(&m)) => self.again(dir),
            _ => self.visit(dir, out),
        }
    }

    fn visit(&mut self, dir: &Path, out: &mut Vec<Input>) {
        let Ok(entries) = fs::read_dir(dir) else {
            // Reported when read, like any unreadable input.
            out.push(file(dir.to_path_buf()));
            return;
        };
        let mut entries: Vec<fs::DirEntry> = entries.filter_map(Result::ok).collect();
        // Sorted, so that of two names for one file the same one is read every time.
        entries.sort_by_key(fs::DirEntry::file_name);
        for e in entries {
            if e.file_name().as_encoded_bytes().starts_with(b".") {
                self.skipped.hidden += 1;
                self.skipped.skip(&e.path(), "hidden (name it to read it)");
            } else {
                self.entry(e.path(), out);
            }
        }
    }

    fn entry(&mut self, path: PathBuf, out: &mut Vec<Input>) {
        // `symlink_metadata` does not follow a link: the entry's own type.
        let origin = match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() && !self.opts.follow_links => {
                self.skipped.links += 1;
                self.skipped.skip(&path, "a symbolic link (--follow-links follows it)");
                return;
            }
            Ok(m) if m.file_type().is_symlink() => match fs::metadata(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::PermissionDenied => {
                    self.skipped.nowhere += 1;
                    self.skipped.skip(&path, "a symbolic link to nothing or in a loop");
                    return;
                }
                followed => followed,
            },
            other => other,
        };
        let Ok(origin) = origin else {
            // An entry that vanished, or one behind a directory that may not be read: reported
            // when read.
            out.push(file(path));
            return;
        };
        if self.topic_dirs.contains(&id(&origin)) {
            self.skipped.topic_dirs += 1;
            self.skipped.skip(&path, "this run writes its topic files there");
            return;
        }
        let kind = origin.file_type();
        let verdict = self.opts.globs.verdict(path.strip_prefix(&self.root).unwrap_or(&path));
        if kind.is_dir() {
            if verdict == Some(false) {
                self.excluded(&path);
            } else if self.dirs.insert(id(&origin)) {
                self.visit(&path, out);
            } else {
                self.again(&path);
            }
        } else if !kind.is_file() {
            self.skipped.special += 1;
            self.skipped.skip(&path, "a FIFO, socket or device");
        } else if verdict == Some(false) || (verdict.is_none() && self.opts.globs.includes_any()) {
            self.excluded(&path);
        } else if verdict.is_some() || self.opts.no_ignore || self.is_data(&path) {
            match self.files.insert(id(&origin)) {
                true => out.push(file(path)),
                false => self.again(&path),
            }
        }
    }

    /// An entry listed already, by this walk or another: read once.
    fn again(&mut self, path: &Path) {
        self.skipped.again += 1;
        self.skipped
            .skip(path, "listed twice, by another name or path (read once)");
    }

    fn excluded(&mut self, path: &Path) {
        self.skipped.excluded += 1;
        self.skipped.skip(path, "excluded by --glob");
    }

    /// Whether a file may hold events; counts it when not.
    fn is_data(&mut self, path: &Path) -> bool {
        let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        if named_not_data(&name) {
            self.skipped.not_data += 1;
            self.skipped
                .skip(path, "not event data by its name (--no-ignore reads it)");
            false
        } else if is_binary(path) {
            self.skipped.binary += 1;
            self.skipped
                .skip(path, "binary: a NUL byte in its first 8 KiB (--no-ignore reads it)");
            false
        } else {
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(root: &Path, follow_links: bool) -> (Vec<String>, Skipped) {
        walked(
            root,
            WalkOptions {
                follow_links,
                ..WalkOptions::default()
            },
        )
    }

    fn walked(root: &Path, opts: WalkOptions) -> (Vec<String>, Skipped) {
        let mut walk = Walk::new(opts);
        let mut out = Vec::new();
        walk.dir(root, &mut out);
        let mut names: Vec<String> = out
            .iter()
            .map(|i| {
                i.name
                    .strip_prefix(&format!("{}/", root.display()))
                    .unwrap_or(&i.name)
                    .to_string()
            })
            .collect();
        names.sort();
        (names, walk.skipped)
    }

    #[test]
    fn links_are_skipped_and_counted_unless_followed() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "x\n").unwrap();
        std::fs::write(d.path().join("a.ndjson"), "{}\n").unwrap();
        symlink(outside.path().join("secret"), d.path().join("out")).unwrap();
        let (found, skipped) = names(d.path(), false);
        assert_eq!(found, ["a.ndjson"]);
        assert_eq!((skipped.special, skipped.links), (0, 1));
        let (found, _) = names(d.path(), true);
        assert_eq!(found, ["a.ndjson", "out"]);
    }

    #[test]
    fn a_link_loop_is_walked_once_when_following_links() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/a.ndjson"), "{}\n").unwrap();
        symlink("..", d.path().join("sub/up")).unwrap();
        symlink(d.path(), d.path().join("sub/root")).unwrap();
        let (found, skipped) = names(d.path(), true);
        assert_eq!(found, ["sub/a.ndjson"]);
        assert_eq!(skipped.again, 2, "{:?}", skipped.entries);
        assert!(skipped.entries.iter().all(|e| e.1.starts_with("listed twice")));
    }

    #[test]
    fn followed_links_to_nothing_or_round_a_loop_are_skipped_and_counted() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.ndjson"), "{}\n").unwrap();
        symlink("self", d.path().join("self")).unwrap();
        symlink("b", d.path().join("c")).unwrap();
        symlink("c", d.path().join("b")).unwrap();
        symlink("gone", d.path().join("dangling")).unwrap();
        let (found, skipped) = names(d.path(), true);
        assert_eq!(found, ["a.ndjson"]);
        assert_eq!(skipped.nowhere, 4);
        let note = skipped.note(false).expect("a note");
        assert!(note.contains("4 symbolic links to nothing or in loops"), "{note}");
    }

    #[test]
    fn a_file_with_two_names_is_listed_once() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.ndjson"), "{}\n").unwrap();
        std::fs::hard_link(d.path().join("a.ndjson"), d.path().join("b.ndjson")).unwrap();
        symlink(d.path().join("a.ndjson"), d.path().join("c.ndjson")).unwrap();
        assert_eq!(names(d.path(), true).0, ["a.ndjson"]);
    }

    #[test]
    fn fifos_and_sockets_are_skipped_and_counted() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.ndjson"), "{}\n").unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(d.path().join("pipe"))
            .status()
            .unwrap();
        assert!(made.success());
        let _socket = std::os::unix::net::UnixListener::bind(d.path().join("sock")).unwrap();
        let (found, skipped) = names(d.path(), true);
        assert_eq!(found, ["a.ndjson"]);
        assert_eq!((skipped.special, skipped.links), (2, 0));
        assert_eq!(
            skipped.note(false).unwrap(),
            "skipped 2 special files (FIFOs, sockets, devices) in directory inputs"
        );
    }

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("sub/old")).unwrap();
        for f in [
            "a.log",
            "LICENSE",
            "README.md",
            "sub/b.log",
            "sub/c.ndjson",
            "sub/old/d.log",
        ] {
            std::fs::write(d.path().join(f), "{}\n").unwrap();
        }
        std::fs::write(d.path().join("data.bin"), b"\x00\x01{}").unwrap();
        std::fs::write(d.path().join("z.gz"), b"\x1f\x8b\x00\x00").unwrap();
        d
    }

    fn globbed(root: &Path, globs: &[&str]) -> Vec<String> {
        let globs = Globs::new(&globs.iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap();
        walked(
            root,
            WalkOptions {
                globs,
                ..WalkOptions::default()
            },
        )
        .0
    }

    #[test]
    fn licences_readmes_and_binary_files_are_skipped_but_not_compressed_ones() {
        let d = tree();
        let (found, skipped) = names(d.path(), false);
        assert_eq!(found, ["a.log", "sub/b.log", "sub/c.ndjson", "sub/old/d.log", "z.gz"]);
        assert_eq!((skipped.not_data, skipped.binary), (2, 1));
        assert_eq!(
            skipped.note(false).unwrap(),
            "skipped 2 licence, readme and Markdown files and 1 binary file in directory inputs; --no-ignore reads every file"
        );
        let all = WalkOptions {
            no_ignore: true,
            ..WalkOptions::default()
        };
        assert_eq!(walked(d.path(), all).0.len(), 8);
    }

    #[test]
    fn globs_choose_files_and_the_last_matching_one_decides() {
        let d = tree();
        assert_eq!(globbed(d.path(), &["*.log"]), ["a.log", "sub/b.log", "sub/old/d.log"]);
        assert_eq!(globbed(d.path(), &["*.log", "!old"]), ["a.log", "sub/b.log"]);
        assert_eq!(globbed(d.path(), &["sub/*"]), ["sub/b.log", "sub/c.ndjson"]);
        assert_eq!(
            globbed(d.path(), &["sub/**", "!*.ndjson"]),
            ["sub/b.log", "sub/old/d.log"]
        );
        assert_eq!(globbed(d.path(), &["!*.log"]), ["sub/c.ndjson", "z.gz"]);
        assert_eq!(globbed(d.path(), &["LICENSE", "*.bin"]), ["LICENSE", "data.bin"]);
    }

    #[test]
    fn names_that_are_not_data() {
        for n in [
            "LICENSE",
            "license.txt",
            "LICENSE-MIT",
            "README",
            "Readme.rst",
            "notes.md",
            "COPYING",
        ] {
            assert!(named_not_data(n), "{n}");
        }
        for n in [
            "licenses.ndjson",
            "readme_events.log",
            "app.log",
            "md",
            "notice.json.gz",
            "notice.log",
            "COPYING.LESSER",
        ] {
            assert!(!named_not_data(n), "{n}");
        }
        assert!(Globs::new(&["a[".to_string()]).is_err());
    }
}
