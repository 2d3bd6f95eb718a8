//! Directory inputs: a walk that skips hidden entries, never lists a file or enters a
//! directory twice (compared by device and inode, so hard links and link loops are read
//! once), skips FIFOs, sockets and devices (a read could block forever or never end), and
//! follows symbolic links only when asked (`--follow-links`, as ripgrep's and fd's `-L`).

use super::{Input, Source};
use std::collections::HashSet;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What directory walks left out, for one note on stderr.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// FIFOs, sockets and devices.
    pub special: u64,
    /// Symbolic links, without `--follow-links`.
    pub links: u64,
}

impl Skipped {
    /// The note for stderr, if anything was left out.
    pub(crate) fn note(&self) -> Option<String> {
        let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if self.special > 0 {
            parts.push(plural(
                self.special,
                "special file (FIFO, socket or device)",
                "special files (FIFOs, sockets, devices)",
            ));
        }
        if self.links > 0 {
            parts.push(plural(self.links, "symbolic link", "symbolic links"));
        }
        if parts.is_empty() {
            return None;
        }
        let hint = if self.links > 0 {
            "; --follow-links follows links"
        } else {
            ""
        };
        Some(format!("skipped {} in directory inputs{hint}", parts.join(" and ")))
    }
}

/// Walks directories for one run: what one walk listed, no later walk lists again.
pub(crate) struct Walk {
    follow_links: bool,
    files: HashSet<(u64, u64)>,
    dirs: HashSet<(u64, u64)>,
    pub skipped: Skipped,
}

fn id(m: &Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

fn file(path: PathBuf) -> Input {
    Input {
        name: path.display().to_string(),
        source: Source::File(path),
    }
}

impl Walk {
    pub(crate) fn new(follow_links: bool) -> Walk {
        Walk {
            follow_links,
            files: HashSet::new(),
            dirs: HashSet::new(),
            skipped: Skipped::default(),
        }
    }

    /// Appends the files under `dir` to `out`, in no particular order.
    pub(crate) fn dir(&mut self, dir: &Path, out: &mut Vec<Input>) {
        match fs::metadata(dir) {
            Ok(m) if !self.dirs.insert(id(&m)) => {}
            _ => self.visit(dir, out),
        }
    }

    fn visit(&mut self, dir: &Path, out: &mut Vec<Input>) {
        let Ok(entries) = fs::read_dir(dir) else {
            // Reported when read, like any unreadable input.
            out.push(file(dir.to_path_buf()));
            return;
        };
        let mut entries: Vec<fs::DirEntry> = entries
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
            .collect();
        // Sorted, so that of two names for one file the same one is read every time.
        entries.sort_by_key(fs::DirEntry::file_name);
        for e in entries {
            self.entry(e.path(), out);
        }
    }

    fn entry(&mut self, path: PathBuf, out: &mut Vec<Input>) {
        // `symlink_metadata` does not follow a link: the entry's own type.
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() && !self.follow_links => {
                self.skipped.links += 1;
                return;
            }
            Ok(m) if m.file_type().is_symlink() => fs::metadata(&path),
            other => other,
        };
        let Ok(meta) = meta else {
            // A dangling link or a vanished entry: reported when read.
            out.push(file(path));
            return;
        };
        let kind = meta.file_type();
        if kind.is_dir() {
            if self.dirs.insert(id(&meta)) {
                self.visit(&path, out);
            }
        } else if !kind.is_file() {
            self.skipped.special += 1;
        } else if self.files.insert(id(&meta)) {
            out.push(file(path));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(root: &Path, follow_links: bool) -> (Vec<String>, Skipped) {
        let mut walk = Walk::new(follow_links);
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
        assert_eq!(skipped, Skipped { special: 0, links: 1 });
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
        assert_eq!(skipped, Skipped::default());
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
        assert_eq!(skipped, Skipped { special: 2, links: 0 });
        assert_eq!(
            skipped.note().unwrap(),
            "skipped 2 special files (FIFOs, sockets, devices) in directory inputs"
        );
    }
}
