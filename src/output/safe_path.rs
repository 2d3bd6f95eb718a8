//! Safe paths for topic files: an injective encoding of any placeholder value as one path
//! component, a safe share of the open-file limit, and
//! creating directories and opening files under a root without ever following a symlink.
//!
//! Why the encoding is injective. Let `decode` replace every `%XX` by the byte `0xXX`.
//! 1. Kept characters (`[A-Za-z0-9._-]` and non-ASCII letters) are copied and never include `%`;
//!    every other character becomes `%XX` per UTF-8 byte (uppercase hex). The special cases `.`,
//!    `..`, a leading `.` (no value makes a hidden file), `_none` and a Windows device name only
//!    write some *kept* character as its `%XX` form. So for every non-empty value whose encoding is not cut,
//!    `decode(encode_component(v)) == v`: a left inverse exists, hence distinct values give
//!    distinct encodings.
//! 2. The empty value becomes `%empty`, which has a `%` not followed by two hex digits (`m` is
//!    not one); every other encoding's `%` starts a `%XX` escape.
//! 3. Cut encodings end in `~` and 16 hex digits; `~` is not kept, so no uncut encoding (nor
//!    `%empty`) contains it. Two cut encodings are equal only if the xxHash64 of the two full values
//!    are equal: injective up to a 64-bit hash collision, the best any bounded length can do.
//! 4. [`NONE`] is `_none`, which is not the encoding of any value: by (1) it could only encode the
//!    value `_none` itself, and that value is written `%5Fnone`.
//!
//! The encoding never yields `/`, `\`, NUL, `.`, `..`, an empty name or one starting with `.`, and
//! is at most 200 bytes.
//! It is injective as strings: on a case-insensitive filesystem, values differing only in case
//! still share a file. A placeholder's value is its text (see `Template`), so `5` and `"5"`
//! share one, as they share a topic.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path};

/// A missing or null placeholder value. No value encodes to it (a value `_none` becomes `%5Fnone`).
pub(crate) const NONE: &str = "_none";

/// The encoding of the empty string; `%e` followed by `m` is not a `%XX` escape, so no value
/// other than the empty one can produce it.
const EMPTY: &str = "%empty";

/// The longest encoding, in bytes: room for template text within the usual 255-byte name limit.
const MAX_LEN: usize = 200;

/// `~` and 16 hex digits of the value's xxHash64, appended to a cut encoding.
const HASH_LEN: usize = 17;

/// Without `/proc/self/limits`, this many files are kept open at once.
const FALLBACK_MAX_OPEN: usize = 256;

/// Even with a huge process limit, more open files than this gains nothing.
const CAP_MAX_OPEN: usize = 65_536;

/// Characters copied as they are; everything else is percent-encoded.
fn is_kept(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') || (!c.is_ascii() && c.is_alphabetic())
}

/// Windows treats these names, with any extension and in any case, as devices: `NUL.ndjson`
/// would write nowhere. Encoding the first letter makes the name ordinary.
fn is_windows_device(value: &str) -> bool {
    let stem = value.split('.').next().unwrap_or(value);
    let b = stem.as_bytes();
    match b.len() {
        3 => ["CON", "PRN", "AUX", "NUL"]
            .iter()
            .any(|d| stem.eq_ignore_ascii_case(d)),
        4 => (b[..3].eq_ignore_ascii_case(b"COM") || b[..3].eq_ignore_ascii_case(b"LPT")) && b[3].is_ascii_digit(),
        _ => false,
    }
}

fn push_escaped(out: &mut String, c: char) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = [0u8; 4];
    for &b in c.encode_utf8(&mut buf).as_bytes() {
        out.push('%');
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

/// Encodes one placeholder value as a single safe path component, injectively (see the module
/// documentation for the argument).
#[cfg(test)]
pub(crate) fn encode_component(value: &str) -> String {
    let mut out = String::new();
    encode_into(value, &mut out);
    out
}

/// Appends [`encode_component`]`(value)` to `out`.
pub(crate) fn encode_into(value: &str, out: &mut String) {
    if value.len() <= MAX_LEN
        && value.chars().all(is_kept)
        && !matches!(value, "" | "." | ".." | NONE)
        && !value.starts_with('.')
        && !is_windows_device(value)
    {
        out.push_str(value); // the common case: nothing to encode
        return;
    }
    out.push_str(&encode_slow(value));
}

fn encode_slow(value: &str) -> String {
    match value {
        "" => return EMPTY.to_string(),
        "." => return "%2E".to_string(),
        ".." => return "%2E%2E".to_string(),
        NONE => return "%5Fnone".to_string(),
        _ => {}
    }
    let device = is_windows_device(value);
    let mut out = String::with_capacity(value.len().min(MAX_LEN + 1));
    // The longest encoded prefix, ending on a character, that leaves room for the hash.
    let mut fits = 0;
    for (i, c) in value.chars().enumerate() {
        if out.len() <= MAX_LEN - HASH_LEN {
            fits = out.len();
        }
        if is_kept(c) && !(i == 0 && (device || c == '.')) {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
        if out.len() > MAX_LEN {
            out.truncate(fits);
            let hash = twox_hash::XxHash64::oneshot(0, value.as_bytes());
            let _ = write!(out, "~{hash:016x}");
            break;
        }
    }
    out
}

/// A safe share of this process's open-file limit for topic files: three quarters of the soft limit minus 16
/// (inputs, spill files and the dead-letter file need descriptors too), at least 8.
pub(crate) fn default_max_open_files() -> usize {
    fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| soft_open_files(&text))
        .map_or(FALLBACK_MAX_OPEN, share_of_limit)
}

/// The soft "Max open files" limit from the text of `/proc/self/limits`.
fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find_map(|l| l.strip_prefix("Max open files"))?;
    match line.split_whitespace().next()? {
        "unlimited" => Some(u64::MAX),
        n => n.parse().ok(),
    }
}

fn share_of_limit(soft: u64) -> usize {
    let share = usize::try_from(soft / 4 * 3).unwrap_or(usize::MAX);
    share.saturating_sub(16).clamp(8, CAP_MAX_OPEN)
}

// Files under a root, never through a symlink. A symlink at the root itself is the user's choice;
// below it, `rel` holds no `..`, every directory is checked with lstat as it is made, and files
// open with O_NOFOLLOW. A directory swapped for a symlink between the check and the open is not
// caught: that would take openat(2) on every component.

/// `rel` must name a file below the root: no `..`, no root, no prefix.
/// `path` made absolute, its `.` and `..` resolved by name: two spellings of one output file
/// (`out/a`, `./out/../out/a`, `$PWD/out/a`) give one path. Output paths never go through a
/// symlink (see [`refuse_other_than_file`]), so resolving by name is resolving in the filesystem.
pub(crate) fn normal(path: &Path) -> std::path::PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = std::path::PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn check_relative(rel: &Path) -> io::Result<()> {
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            "must stay inside the output directory",
        ));
    }
    match rel.file_name() {
        Some(_) => Ok(()),
        None => Err(io::Error::new(ErrorKind::InvalidInput, "no file name")),
    }
}

fn symlink_error() -> io::Error {
    io::Error::other("is a symbolic link, which evq never follows in an output location")
}

fn real_dir(m: fs::Metadata) -> io::Result<()> {
    if m.file_type().is_symlink() {
        Err(symlink_error())
    } else if m.is_dir() {
        Ok(())
    } else {
        Err(ErrorKind::NotADirectory.into())
    }
}

/// Makes sure `dir` is a real directory, creating it if missing; never a symlink to one.
pub(crate) fn ensure_dir(dir: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) => real_dir(m),
        Err(e) if e.kind() == ErrorKind::NotFound => match fs::create_dir(dir) {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => real_dir(fs::symlink_metadata(dir)?),
            res => res,
        },
        Err(e) => Err(e),
    }
}

fn nofollow_error(e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        symlink_error()
    } else {
        e
    }
}

/// Errors unless `path` is missing or a regular file: an output never goes through a symlink,
/// a topic file is cut back, appended to after its end is read, or renamed into place, and a
/// named pipe would block reading or opening it until some process came.
pub(crate) fn refuse_other_than_file(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_symlink() => Err(symlink_error()),
        Ok(m) if m.is_dir() => Err(io::Error::other("is a directory; an output file cannot take its place")),
        Ok(m) if !m.is_file() => Err(io::Error::other(
            "is not a regular file (a named pipe, a device or a socket); topic files are files",
        )),
        _ => Ok(()),
    }
}

/// Opens for writing, creating the file, without following a symlink: truncating, or appending.
/// Only a regular file is opened: a topic file is cut back and renamed, and a named pipe
/// would block the open until some process read it.
pub(crate) fn open_nofollow(path: &Path, truncate: bool) -> io::Result<File> {
    refuse_other_than_file(path)?;
    let mut o = OpenOptions::new();
    if truncate {
        o.write(true).truncate(true);
    } else {
        o.append(true);
    }
    o.create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(nofollow_error)
}

/// Creates or truncates `path` for writing, as `File::create` does, but fails at once on a
/// named pipe that no process reads, where opening it would wait for one without end.
pub(crate) fn create_output(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::FileTypeExt;
    if fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo()) {
        let probe = OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path);
        if let Err(e) = probe {
            return Err(match e.raw_os_error() {
                Some(libc::ENXIO) => io::Error::other("is a named pipe that no process reads"),
                _ => e,
            });
        }
    }
    File::create(path)
}

/// With `--append`, a file that ends inside a line (a run cut off, another writer) is refused:
/// the first line appended would be glued to that part of a line.
pub(crate) fn refuse_partial_last_line(path: &Path) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let Some(mut f) = existing_bytes(path)? else {
        return Ok(());
    };
    let mut last = [0u8];
    f.seek(SeekFrom::End(-1))?;
    f.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    Err(io::Error::other(
        "ends inside a line (no newline at its end); --append adds whole lines only: end that line or remove it",
    ))
}

/// Refuses to append to a compressed file at `path` (zstd with `zstd`, else gzip) that is
/// not a whole stream (cut short, damaged, or not compressed at all), or whose lines do not
/// end whole: what was appended could not be read back. Reads the whole file.
pub(crate) fn refuse_damaged_compressed(path: &Path, zstd: bool) -> io::Result<()> {
    let Some(f) = existing_bytes(path)? else {
        return Ok(());
    };
    let kind = if zstd { "zstd" } else { "gzip" };
    let last = crate::input::decompress::last_byte(io::BufReader::new(f), zstd).map_err(|e| {
        io::Error::other(format!(
            "is not a whole {kind} file ({}); --append adds to a whole compressed file only: repair or remove it",
            crate::messages::io(&e)
        ))
    })?;
    if last.is_some_and(|b| b != b'\n') {
        return Err(io::Error::other(
            "ends inside a line (no newline at its end); --append adds whole lines only: end that line or remove it",
        ));
    }
    Ok(())
}

/// The file at `path` opened for reading, without following a symlink; `None` when there is
/// none or it is empty (nothing to append after).
fn existing_bytes(path: &Path) -> io::Result<Option<File>> {
    let f = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(nofollow_error(e)),
    };
    Ok((f.metadata()?.len() > 0).then_some(f))
}

/// Copies the file at `path`, if there is one, to the end of `to`, without following a symlink.
pub(crate) fn copy_existing(path: &Path, to: &mut File) -> io::Result<u64> {
    match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path) {
        Ok(mut from) => io::copy(&mut from, to),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(0),
        Err(e) => Err(nofollow_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reverses the percent-encoding; `None` for the forms that are not plain escapes.
    fn decode(enc: &str) -> Option<String> {
        let b = enc.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(enc.get(i + 1..i + 3)?, 16).ok()?);
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).ok()
    }

    fn assert_safe(value: &str) {
        let enc = encode_component(value);
        assert!(!enc.contains(['/', '\\', '\0', '\n']), "{value:?} → {enc:?}");
        assert!(!enc.is_empty() && enc != "." && enc != "..", "{value:?} → {enc:?}");
        assert!(enc.len() <= MAX_LEN, "{value:?} → {} bytes", enc.len());
        assert_ne!(enc, NONE);
        assert!(!is_windows_device(&enc), "{value:?} → {enc:?}");
        assert!(!enc.starts_with('.'), "{value:?} makes a hidden file: {enc:?}");
    }

    #[test]
    fn hostile_values_become_single_safe_components() {
        let long = "x".repeat(300);
        for v in [
            "../../x",
            "/etc/passwd",
            "..",
            ".",
            ".hidden",
            ".env.ndjson",
            "",
            "a/b",
            "a%2Fb",
            "..\\x",
            "a\0b",
            "a\nb",
            "CON",
            "_none",
            "Müller",
            "東京",
            &long,
        ] {
            assert_safe(v);
        }
    }

    #[test]
    fn encodings_are_readable_and_decode_back() {
        for (v, want) in [
            ("a/b", "a%2Fb"),
            ("a%2Fb", "a%252Fb"),
            ("../../x", "%2E.%2F..%2Fx"),
            ("..\\x", "%2E.%5Cx"),
            ("/etc/passwd", "%2Fetc%2Fpasswd"),
            ("a\0b", "a%00b"),
            ("a\nb", "a%0Ab"),
            ("a~b c", "a%7Eb%20c"),
            (".", "%2E"),
            ("..", "%2E%2E"),
            ("...", "%2E.."),
            (".hidden", "%2Ehidden"),
            ("a.b.", "a.b."),
            ("_none", "%5Fnone"),
            ("__none", "__none"),
            ("Müller", "Müller"),
            ("東京", "東京"),
            ("café☕", "café%E2%98%95"),
            ("api-v2_x.y", "api-v2_x.y"),
        ] {
            assert_eq!(encode_component(v), want, "{v:?}");
            assert_eq!(decode(want).as_deref(), Some(v));
        }
    }

    #[test]
    fn empty_and_null_have_their_own_names() {
        assert_eq!(encode_component(""), "%empty");
        assert_eq!(decode("%empty"), None);
        assert_eq!(NONE, "_none");
        assert_ne!(encode_component(NONE), NONE);
    }

    #[test]
    fn windows_device_names_are_made_harmless() {
        for (v, want) in [
            ("CON", "%43ON"),
            ("nul", "%6Eul"),
            ("Aux.ndjson", "%41ux.ndjson"),
            ("com1", "%63om1"),
            ("LPT9.x.y", "%4CPT9.x.y"),
        ] {
            assert_eq!(encode_component(v), want);
            assert_eq!(decode(want).as_deref(), Some(v));
        }
        for v in ["CONSOLE", "COM10", "NULL", "xCON", "COMx"] {
            assert_eq!(encode_component(v), v);
        }
    }

    #[test]
    fn long_values_are_cut_on_a_character_and_hashed() {
        let a = "x".repeat(300);
        let enc = encode_component(&a);
        assert_eq!(enc.len(), MAX_LEN);
        let hash = twox_hash::XxHash64::oneshot(0, a.as_bytes());
        assert_eq!(enc, format!("{}~{hash:016x}", "x".repeat(MAX_LEN - HASH_LEN)));
        // Same prefix, different tails: different names.
        assert_ne!(encode_component(&format!("{a}1")), encode_component(&format!("{a}2")));
        // Multi-byte letters and escapes are never split.
        let wide = "東/".repeat(100);
        let enc = encode_component(&wide);
        assert!(enc.len() <= MAX_LEN);
        let (kept, _) = enc.rsplit_once('~').unwrap();
        assert_eq!(decode(kept).as_deref().map(|d| wide.starts_with(d)), Some(true));
        // Exactly at the limit: not cut.
        let edge = "y".repeat(MAX_LEN);
        assert_eq!(encode_component(&edge), edge);
        assert!(encode_component(&"y".repeat(MAX_LEN + 1)).contains('~'));
    }

    #[test]
    fn max_open_files_is_a_share_of_the_soft_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(soft_open_files(limits), Some(1024));
        assert_eq!(share_of_limit(1024), 752);
        assert_eq!(share_of_limit(20), 8);
        assert_eq!(
            soft_open_files("Max open files  unlimited  unlimited  files"),
            Some(u64::MAX)
        );
        assert_eq!(share_of_limit(u64::MAX), CAP_MAX_OPEN);
        assert_eq!(soft_open_files("nothing here"), None);
        assert!(default_max_open_files() >= 8);
    }

    #[test]
    fn opening_never_goes_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let (target, link) = (dir.path().join("target"), dir.path().join("link"));
        fs::write(&target, "keep\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        for truncate in [false, true] {
            assert!(
                open_nofollow(&link, truncate)
                    .unwrap_err()
                    .to_string()
                    .contains("symbolic link")
            );
        }
        assert!(copy_existing(&link, &mut tempfile::tempfile().unwrap()).is_err());
        assert!(ensure_dir(&link).is_err() && refuse_other_than_file(&link).is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep\n");
    }

    fn values() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[._%~/\\\\A-Za-z0-9 ]{0,6}",
            "(?i)(_none|con|nul|com1|lpt2|\\.|\\.\\.)(\\.[a-z]{0,3})?",
            "[a-z~%/é東]{150,260}",
        ]
    }

    proptest! {
        #[test]
        fn encoding_is_injective_and_safe(a in values(), b in values()) {
            assert_safe(&a);
            prop_assert_eq!(a == b, encode_component(&a) == encode_component(&b));
        }

        #[test]
        fn percent_decoding_inverts_every_uncut_encoding(v in values()) {
            let enc = encode_component(&v);
            if !v.is_empty() && !enc.contains('~') {
                prop_assert_eq!(decode(&enc), Some(v));
            }
        }
    }
}
