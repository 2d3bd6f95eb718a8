//! Inputs: which files to read (directories walked in byte order, hidden entries
//! skipped), how to decompress them, and how their bytes become line-aligned chunks.

pub mod convert;
pub mod decompress;
pub mod merge;
pub mod multiline;
pub mod reader;

use std::path::{Path, PathBuf};

/// How input bytes become events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// One JSON value per line
    Ndjson,
    /// Any JSON text: pretty-printed documents, concatenated values, a top-level array (one event per element)
    Json,
    /// Each line becomes {"line": "..."}
    Lines,
    /// Each line is key=value pairs
    Logfmt,
    /// Comma-separated values with a header row
    Csv,
    /// Tab-separated values with a header row
    Tsv,
}

impl InputFormat {
    /// Formats whose lines are text, not JSON: kept even when not UTF-8.
    pub fn is_text(self) -> bool {
        matches!(self, InputFormat::Lines | InputFormat::Logfmt)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The name `file()` returns and messages use: the path as given, `-` for stdin.
    pub name: String,
    pub source: Source,
}

impl Input {
    fn path_bytes(&self) -> &[u8] {
        match &self.source {
            Source::Stdin => b"-",
            Source::File(p) => p.as_os_str().as_encoded_bytes(),
        }
    }
}

/// Expands the command line's paths into inputs; no path means stdin.
pub fn expand(paths: &[String]) -> Vec<Input> {
    if paths.is_empty() {
        return vec![Input {
            name: "-".into(),
            source: Source::Stdin,
        }];
    }
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            out.push(Input {
                name: "-".into(),
                source: Source::Stdin,
            });
        } else if Path::new(p).is_dir() {
            let mut found = Vec::new();
            walk(Path::new(p), &mut found);
            // Byte order of the whole paths, as `find DIR | LC_ALL=C sort` lists them:
            // `d/a.x` comes before `d/a/y`.
            found.sort_by(|a, b| a.path_bytes().cmp(b.path_bytes()));
            out.extend(found);
        } else {
            out.push(Input {
                name: p.clone(),
                source: Source::File(PathBuf::from(p)),
            });
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<Input>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // Reported when read, like any unreadable input.
        out.push(Input {
            name: dir.display().to_string(),
            source: Source::File(dir.to_path_buf()),
        });
        return;
    };
    let paths = entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
        .map(|e| e.path());
    for p in paths {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(Input {
                name: p.display().to_string(),
                source: Source::File(p),
            });
        }
    }
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
        let names: Vec<String> = expand(&[d.path().display().to_string()])
            .into_iter()
            .map(|i| i.name.rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.ndjson", "b.ndjson", "z.ndjson", "c.ndjson"]);
    }

    #[test]
    fn no_paths_means_stdin() {
        assert_eq!(
            expand(&[]),
            vec![Input {
                name: "-".into(),
                source: Source::Stdin
            }]
        );
    }
}
