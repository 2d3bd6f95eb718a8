//! The follow state machine: rotation and truncation found by comparing the file read with
//! what its path names, and a followed file polled by hand (no sleeps).

use super::*;
use crate::input::InputFormat;

const A: FileId = FileId { dev: 1, ino: 10 };
const B: FileId = FileId { dev: 1, ino: 11 };

#[test]
fn a_file_that_grew_or_stayed_is_read_on() {
    assert_eq!(change(A, 100, 100, Some(A)), Change::Same);
    assert_eq!(change(A, 100, 250, Some(A)), Change::Same);
}

#[test]
fn another_file_at_the_path_is_a_rotation() {
    assert_eq!(change(A, 100, 100, Some(B)), Change::Rotated);
    // Whatever the old file's length: it is finished, then the new one read.
    assert_eq!(change(A, 100, 10, Some(B)), Change::Rotated);
    assert_eq!(change(A, 100, 100, Some(FileId { dev: 2, ino: 10 })), Change::Rotated);
}

#[test]
fn a_shorter_file_was_truncated() {
    assert_eq!(change(A, 100, 0, Some(A)), Change::Truncated);
    assert_eq!(change(A, 100, 99, Some(A)), Change::Truncated);
    assert_eq!(change(A, 100, 20, None), Change::Truncated);
}

#[test]
fn a_path_renamed_away_is_waited_for() {
    assert_eq!(change(A, 100, 100, None), Change::Missing);
}

fn config() -> ReadConfig {
    ReadConfig {
        chunk_size: 1 << 20,
        max_line_bytes: 1 << 20,
        format: InputFormat::Ndjson,
        multiline: None,
        chosen: Arc::default(),
        verbose: false,
        follow: true,
        until: None,
        memory_limit: 1 << 30,
    }
}

/// The lines a poll sent, each with its line number.
fn poll(t: &mut Tail, lines: &mut Vec<(u64, String)>) -> Option<bool> {
    let stop = AtomicBool::new(false);
    t.poll(&Arc::default(), &stop, &mut |c: Chunk| {
        let text = String::from_utf8_lossy(&c.data).into_owned();
        let parts: Vec<&str> = text.split_inclusive('\n').collect();
        for (k, l) in parts.into_iter().enumerate() {
            lines.push((c.first_line + k as u64, l.to_string()));
        }
        true
    })
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn a_followed_file_is_read_across_growth_rotation_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    append(&path, "1\n2\n");
    let input = Input {
        name: "app.log".into(),
        source: Source::File(path.clone()),
        walked: false,
    };
    let cfg = config();
    let mut t = Tail::new(&input, 0, &cfg);
    let mut got = Vec::new();
    assert_eq!(poll(&mut t, &mut got), Some(true));
    assert_eq!(poll(&mut t, &mut got), Some(false), "nothing new");
    // A partial line waits for its newline.
    append(&path, "3\n4");
    poll(&mut t, &mut got);
    append(&path, "4\n");
    poll(&mut t, &mut got);
    // Rotation: the old file's last line is finished, the new file read from line 1.
    append(&path, "5");
    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    poll(&mut t, &mut got);
    assert_eq!(poll(&mut t, &mut got), Some(false), "the path is missing: wait");
    append(&path, "6\n");
    assert_eq!(poll(&mut t, &mut got), Some(true));
    poll(&mut t, &mut got);
    // Truncation: read again from the start.
    std::fs::write(&path, "").unwrap();
    poll(&mut t, &mut got);
    append(&path, "7\n");
    poll(&mut t, &mut got);
    let want = [
        (1, "1\n"),
        (2, "2\n"),
        (3, "3\n"),
        (4, "44\n"),
        (5, "5"),
        (1, "6\n"),
        (1, "7\n"),
    ];
    let want: Vec<(u64, String)> = want.iter().map(|(n, s)| (*n, s.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn a_missing_file_is_read_once_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.log");
    let input = Input {
        name: "later.log".into(),
        source: Source::File(path.clone()),
        walked: false,
    };
    let cfg = config();
    let mut t = Tail::new(&input, 0, &cfg);
    let mut got = Vec::new();
    assert_eq!(poll(&mut t, &mut got), Some(false));
    append(&path, "{}\n");
    assert_eq!(poll(&mut t, &mut got), Some(true));
    assert_eq!(got, [(1, "{}\n".to_string())]);
}

#[test]
fn a_compressed_file_is_read_whole_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.log.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"a\nb\n").unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let input = Input {
        name: "old.log.gz".into(),
        source: Source::File(path),
        walked: false,
    };
    let cfg = config();
    let mut t = Tail::new(&input, 0, &cfg);
    let mut got = Vec::new();
    poll(&mut t, &mut got);
    assert!(t.done);
    assert_eq!(got, [(1, "a\n".to_string()), (2, "b\n".to_string())]);
}

#[test]
fn a_multiline_record_goes_out_whole_once_its_file_is_idle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.log");
    append(&path, "start 1\n  at a\n  at b\n");
    let input = Input {
        name: "trace.log".into(),
        source: Source::File(path),
        walked: false,
    };
    let cfg = ReadConfig {
        multiline: Some(regex::Regex::new("^start").unwrap()),
        ..config()
    };
    let mut records = Vec::new();
    // The sender stops the run once the record has come.
    follow_all(
        &[input],
        &cfg,
        Arc::default(),
        &AtomicBool::new(false),
        &mut |c: Chunk| {
            records.extend(c.records.unwrap_or_default());
            records.is_empty()
        },
    );
    assert_eq!(records, [(22, 3)], "one record of three lines");
}
