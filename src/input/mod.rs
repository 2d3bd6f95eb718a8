//! Inputs: which files to read (directories walked in byte order, hidden entries and
//! files that are not event data skipped), how to decompress them, and how their bytes become line-aligned chunks.

pub(crate) mod auto;
pub(crate) mod convert;
mod cut;
pub(crate) mod decompress;
mod error;
mod follow;
mod json_records;
pub(crate) mod merge;
pub(crate) mod multiline;
#[cfg(feature = "nats")]
pub(crate) mod nats;
pub(crate) mod reader;
pub(crate) mod utf16;
pub(crate) mod walk;
mod zeek;

pub(crate) use error::InputError;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The UTF-8 byte order mark, which an input (or a lookup file) may start with: skipped, and
/// no line of its own.
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How input bytes become events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum InputFormat {
    /// One JSON value per line
    #[value(alias = "jsonl")]
    Ndjson,
    /// Any JSON text: pretty-printed documents, concatenated values, a top-level array (one event per element)
    Json,
    /// Each line becomes {"line": "..."}
    Lines,
    /// Each line is key=value pairs
    Logfmt,
    /// Comma-separated values with a header row
    Csv,
    /// Tab-separated values with a header row (a Zeek log when it starts with #separator)
    Tsv,
    /// Zeek TSV logs: #fields names the columns, #types types them
    Zeek,
    /// Chosen per input from its first lines: ndjson, json, zeek, combined, common, syslog, logfmt, tsv, csv or lines
    Auto,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Stdin,
    File(PathBuf),
    /// A `nats://` address: a JetStream consumer (with `--features nats`).
    Nats(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Input {
    /// The name `file()` returns and messages use: the path as given, `-` for stdin.
    pub name: String,
    pub source: Source,
    /// Found by walking a directory named on the command line (which `-g` chooses from).
    pub walked: bool,
}

impl Input {
    fn path_bytes(&self) -> &[u8] {
        match &self.source {
            Source::Stdin => b"-",
            Source::File(p) => p.as_os_str().as_encoded_bytes(),
            Source::Nats(url) => url.as_bytes(),
        }
    }
}

/// A `nats://` address as evq names it: credentials in it (`user:pass@`, which is refused)
/// become `…@`, so that no message, `--stats` or `file()` repeats a secret.
pub(crate) fn shown_address(url: &str) -> String {
    crate::messages::without_credentials(url).into_owned()
}

/// The scheme of a URL evq does not read (`http://…`, and `NATS://` in other letter case than
/// `nats://`), which would otherwise be taken for a file name (`http:/…`).
pub(crate) fn foreign_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let is_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (is_scheme && scheme != "nats").then_some(scheme)
}

/// An input's file, by device and inode: an output file that is one would destroy it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    dev: u64,
    ino: u64,
    /// The input's name, for messages.
    pub name: String,
    /// The input was found in a directory walk: `-g '!NAME'` leaves it out.
    pub walked: bool,
}

impl Identity {
    /// The regular file at `path` (following links), if there is one: a device or a pipe
    /// (`/dev/null`, a FIFO) holds nothing that writing it could destroy.
    pub(crate) fn of(path: &Path, name: &str) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok().filter(std::fs::Metadata::is_file)?;
        Some(Identity {
            dev: m.dev(),
            ino: m.ino(),
            name: name.to_string(),
            walked: false,
        })
    }
}

/// The files the inputs read: stdin's too, when it is a file (`evq … < in.ndjson`).
pub(crate) fn identities(inputs: &[Input]) -> Vec<Identity> {
    inputs
        .iter()
        .filter_map(|i| match &i.source {
            Source::Stdin => Identity::of(Path::new("/dev/stdin"), "- (stdin)"),
            Source::File(p) => Identity::of(p, &i.name).map(|id| Identity { walked: i.walked, ..id }),
            Source::Nats(_) => None,
        })
        .collect()
}

/// The input that the file at `path` is, if it is one.
pub(crate) fn input_at<'a>(inputs: &'a [Identity], path: &Path) -> Option<&'a Identity> {
    let out = Identity::of(path, "")?;
    inputs.iter().find(|i| i.same(&out))
}

impl Identity {
    /// Whether both are the same file.
    pub(crate) fn same(&self, other: &Identity) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }
}

/// The error for an output file that is an input of the run.
pub(crate) fn overwrite_error(input: &Identity) -> std::io::Error {
    let path = std::path::Path::new(&input.name);
    let name = path.file_name().filter(|_| input.walked).map(|n| n.to_string_lossy());
    std::io::Error::other(format!(
        "is the input {} of this run; evq never writes over its input: write it elsewhere{}",
        input.name,
        name.map(|n| format!(", or leave it out of a directory input with -g '!{n}'"))
            .unwrap_or_default()
    ))
}

/// Expands the command line's paths into inputs; no path means stdin. A path named on the
/// command line is read as given (also a FIFO); directories are walked (see [`walk`]) and
/// their files read in byte order of their paths. Also returns what the walks skipped.
pub(crate) fn expand(paths: &[OsString], opts: walk::WalkOptions) -> (Vec<Input>, walk::Skipped) {
    if paths.is_empty() {
        let stdin = Input {
            name: "-".into(),
            source: Source::Stdin,
            walked: false,
        };
        return (vec![stdin], walk::Skipped::default());
    }
    let mut out = Vec::new();
    let mut walk = walk::Walk::new(opts);
    for p in paths {
        let nats = p.to_str().filter(|p| p.starts_with("nats://"));
        if p == "-" {
            out.push(Input {
                name: "-".into(),
                source: Source::Stdin,
                walked: false,
            });
        } else if let Some(url) = nats {
            out.push(Input {
                name: shown_address(url),
                source: Source::Nats(url.to_string()),
                walked: false,
            });
        } else if Path::new(p).is_dir() {
            let mut found = Vec::new();
            walk.dir(Path::new(p), &mut found);
            // Byte order of the whole paths, as `find DIR | LC_ALL=C sort` lists them:
            // `d/a.x` comes before `d/a/y`.
            found.sort_by(|a, b| a.path_bytes().cmp(b.path_bytes()));
            walk.skipped.found += found.len() as u64;
            out.extend(found);
        } else {
            out.push(Input {
                name: crate::messages::path_name(Path::new(p)),
                source: Source::File(PathBuf::from(p)),
                walked: false,
            });
        }
    }
    (out, walk.skipped)
}

/// The whole of a file that evq holds in memory (a pipeline file, a lookup file, a schema),
/// decompressed as inputs are, read only up to `limit` bytes: a larger file, or one that
/// never ends (`/dev/zero`), is an error saying so instead of a run that reads forever.
pub(crate) fn read_whole(path: impl AsRef<Path>, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let input = Input {
        name: crate::messages::path_name(path.as_ref()),
        source: Source::File(path.as_ref().to_path_buf()),
        walked: false,
    };
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decompress::open(&input, std::sync::Arc::default(), limit)?
        .take(cap)
        .read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        let size = match limit % (1 << 20) {
            0 => format!("{} MiB", limit >> 20),
            _ => format!("{limit} bytes"),
        };
        let message = format!("larger than {size}, the most evq reads of it into memory");
        return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, message));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_walked_sorted_without_hidden() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("b")).unwrap();
        std::fs::write(d.path().join("b/z.ndjson"), "").unwrap();
        std::fs::write(d.path().join("a.ndjson"), "").unwrap();
        std::fs::write(d.path().join("c.ndjson"), "").unwrap();
        std::fs::write(d.path().join(".hidden"), "").unwrap();
        std::fs::write(d.path().join("b.ndjson"), "").unwrap();
        let names: Vec<String> = expand(&[d.path().into()], walk::WalkOptions::default())
            .0
            .into_iter()
            .map(|i| i.name.rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.ndjson", "b.ndjson", "z.ndjson", "c.ndjson"]);
    }

    #[test]
    fn no_paths_means_stdin() {
        assert_eq!(
            expand(&[], walk::WalkOptions::default()).0,
            vec![Input {
                name: "-".into(),
                source: Source::Stdin,
                walked: false,
            }]
        );
    }
}
