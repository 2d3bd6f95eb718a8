//! Topic files under faults and odd templates: file size limits, full disks with compressed
//! files, one open-file budget and one file registry for every template of a run, long and
//! hidden names, template normalisation and checks, and symlinks at the fixed directory.

use crate::common::Run;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Runs evq with `args` in `cwd`, under the shell limits `ulimit` (e.g. `-f 8`, or empty).
fn run_limited(cwd: &Path, ulimit: &str, args: &[&str], stdin: &str) -> Run {
    let script = match ulimit {
        "" => "exec \"$@\"".to_string(),
        u => format!("ulimit {u} && exec \"$@\""),
    };
    let out = Command::new("sh")
        .current_dir(cwd)
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(assert_cmd::cargo::cargo_bin("evq"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("stdin is piped");
            let _ = pipe.write_all(stdin.as_bytes());
            drop(pipe);
            child.wait_with_output()
        })
        .expect("sh runs");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

fn run_in(cwd: &Path, args: &[&str], stdin: &str) -> Run {
    run_limited(cwd, "", args, stdin)
}

/// `n` events whose `pad` compresses badly, so compressed files grow too.
fn events(n: usize) -> String {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|i| {
            let pad: String = (0..60)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from(b'a' + (x % 26) as u8)
                })
                .collect();
            format!("{{\"i\":{i},\"k\":\"t{}\",\"pad\":\"{pad}\"}}\n", i % 3)
        })
        .collect()
}

/// The regular files under `dir`, by path relative to it, never following a symlink.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).expect("a directory") {
            let p = e.expect("an entry").path();
            let m = fs::symlink_metadata(&p).expect("lstat");
            if m.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("below dir").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The text of a topic file, decompressed by its extension.
fn text_of(path: &Path) -> String {
    let file = fs::File::open(path).expect("the file opens");
    let mut s = String::new();
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => flate2::read::MultiGzDecoder::new(file).read_to_string(&mut s),
        Some("zst") => zstd::Decoder::new(file).and_then(|mut d| d.read_to_string(&mut s)),
        _ => std::io::BufReader::new(file).read_to_string(&mut s),
    }
    .unwrap_or_else(|e| panic!("{} does not decompress: {e}", path.display()));
    s
}

/// Every file under `dir` holds whole lines, each one of `input`'s, in input order.
fn assert_whole_input_lines(dir: &Path, input: &str) {
    assert_input_lines(dir, input, false);
}

/// Each file under `dir` holds input lines in input order. With `cut`, a file may end
/// inside a line where SIGKILL stopped a write(2): at a page boundary, in the next line.
fn assert_input_lines(dir: &Path, input: &str, cut: bool) {
    for rel in files(dir) {
        let text = text_of(&dir.join(&rel));
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        let cut_at_a_page = cut && text.len() % PAGE == 0;
        assert!(
            complete == text.len() || cut_at_a_page,
            "{} ends inside a line, {} bytes into a page",
            rel.display(),
            text.len() % PAGE
        );
        let mut from = 0;
        for line in text[..complete].lines() {
            let at = input[from..]
                .find(&format!("{line}\n"))
                .unwrap_or_else(|| panic!("{}: not an input line in order: {line:?}", rel.display()));
            from += at + line.len() + 1;
        }
        let tail = &text[complete..];
        assert!(
            tail.is_empty() || input[from..].lines().any(|l| l.starts_with(tail)),
            "{}: the cut line is no input line: {tail:?}",
            rel.display()
        );
    }
}

/// The page size that Linux copies a write(2) in, checking for SIGKILL before each.
const PAGE: usize = 4096;

#[test]
fn a_file_size_limit_is_an_output_error_that_leaves_whole_lines() {
    for template in ["out/{k}.ndjson", "out/{k}.ndjson.gz", "out/{k}.ndjson.zst"] {
        let d = tmp();
        let input = events(3000);
        let args = ["--held-bytes", "8K", &format!("to \"{template}\"")];
        let r = run_limited(d.path(), "-f 16", &args, &input);
        assert_eq!(r.code, 4, "{template}: {}", r.stderr);
        assert!(r.stderr.contains("File too large"), "{template}: {}", r.stderr);
        assert_whole_input_lines(&d.path().join("out"), &input);
    }
}

/// Under a file size limit, a line `to` wrote is emitted exactly when its file keeps it: the
/// stats' emitted and events written are the lines the files hold, plain, compressed or
/// `--atomic`, and every line read has its fate.
#[test]
fn the_stats_count_as_emitted_exactly_the_lines_the_topic_files_keep() {
    for (template, atomic) in [
        ("out/{k}.ndjson", false),
        ("out/{k}.ndjson.gz", false),
        ("out/{k}.ndjson.zst", false),
        ("out/{k}.ndjson", true),
    ] {
        let d = tmp();
        let input = events(3000);
        let to = format!("to \"{template}\"");
        let mut args = vec!["--held-bytes", "8K", "--stats=stats.json", &to];
        if atomic {
            args.push("--atomic");
        }
        let r = run_limited(d.path(), "-f 24", &args, &input);
        assert_eq!(r.code, 4, "{template}: {}", r.stderr);
        let out = d.path().join("out");
        let kept: usize = files(&out)
            .iter()
            .map(|rel| text_of(&out.join(rel)).lines().count())
            .sum();
        // A compressed file this small has no complete member to keep.
        let plain = !atomic && template.ends_with(".ndjson");
        assert_eq!(kept > 0, plain, "{template}: {kept} lines kept");
        let stats: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(d.path().join("stats.json")).unwrap()).unwrap();
        let count = |v: &serde_json::Value| v.as_u64().unwrap_or_default() as usize;
        let fates = &stats["fates"];
        assert_eq!(count(&fates["emitted"]), kept, "{template}: {stats}");
        assert_eq!(count(&stats["events_out"]), kept, "{template}");
        assert_eq!(
            count(&fates["emitted"]) + count(&fates["skipped"]),
            count(&stats["lines_read"]),
            "{template}: every line read has its fate"
        );
    }
}

/// One topic file that cannot be written stops the run, but the others still get every line
/// held for them, and the stats count those as emitted.
#[test]
fn a_failing_topic_file_does_not_take_the_other_files_lines_with_it() {
    let d = tmp();
    fs::create_dir_all(d.path().join("out/b.ndjson")).unwrap();
    let input: String = (0..300)
        .map(|i| format!("{{\"k\":\"{}\",\"i\":{i}}}\n", ["a", "b", "c"][i % 3]))
        .collect();
    let r = run_in(d.path(), &["--stats=stats.json", "to \"out/{k}.ndjson\""], &input);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("out/b.ndjson: is a directory"), "{}", r.stderr);
    for k in ["a", "c"] {
        let text = fs::read_to_string(d.path().join(format!("out/{k}.ndjson"))).unwrap();
        assert_eq!(text.lines().count(), 100, "{k}");
    }
    let stats: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.path().join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["fates"]["emitted"], 200, "{stats}");
    assert_eq!(stats["fates"]["skipped"], 100, "{stats}");
}

#[test]
fn a_file_size_limit_keeps_the_lines_written_before_it() {
    let d = tmp();
    let input = events(3000);
    let r = run_limited(
        d.path(),
        "-f 16",
        &["--held-bytes", "4K", "to \"out/all.ndjson\""],
        &input,
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    let text = fs::read_to_string(d.path().join("out/all.ndjson")).unwrap();
    assert!(text.len() > 4096 && text.len() <= 16 * 1024, "{} bytes", text.len());
    assert!(input.starts_with(&text) && text.ends_with('\n'));
}

/// True when this process runs as root.
fn is_root() -> bool {
    let d = tmp();
    fs::metadata(d.path()).expect("stat").uid() == 0
}

/// A tmpfs of `size` on `dir`, unmounted when dropped; `None` (and `skipped` printed) when this
/// is not root or mount fails, which fails the test when `EVQ_REQUIRE_ROOT=1`.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let mounted = is_root()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(dir)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                std::env::var("EVQ_REQUIRE_ROOT").as_deref() != Ok("1"),
                "EVQ_REQUIRE_ROOT=1 but a tmpfs cannot be mounted"
            );
            println!("skipped: mounting a tmpfs needs root");
            return None;
        }
        Some(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_leaves_compressed_files_that_decompress_to_whole_lines() {
    for (ext, atomic) in [("gz", false), ("zst", false), ("gz", true)] {
        let d = tmp();
        let mnt = d.path().join("mnt");
        fs::create_dir(&mnt).unwrap();
        let Some(_tmpfs) = Tmpfs::mount(&mnt, "96k") else {
            return;
        };
        let input = events(20_000);
        let template = format!("to \"mnt/{{i % 7}}.ndjson.{ext}\"");
        let mut args = vec!["--held-bytes", "64K", &template];
        if atomic {
            args.push("--atomic");
        }
        let r = run_in(d.path(), &args, &input);
        assert_eq!(r.code, 4, "{ext}: {}", r.stderr);
        assert!(r.stderr.contains("No space left on device"), "{}", r.stderr);
        assert_whole_input_lines(&mnt, &input);
        if atomic {
            assert_eq!(files(&mnt), Vec::<PathBuf>::new(), "--atomic changes no file");
            assert!(r.stderr.contains("no output file was changed"), "{}", r.stderr);
        }
    }
}

#[test]
fn two_templates_share_one_open_file_budget() {
    let d = tmp();
    let input: String = (0..400)
        .map(|i| format!("{{\"x\":{i},\"y\":{}}}\n", i + 1000))
        .collect();
    for extra in [&[][..], &["--max-open-files", "5000"][..]] {
        let mut args = vec!["tee \"a/{x}.ndjson\" | to \"b/{y}.ndjson\""];
        args.extend(extra);
        let r = run_limited(d.path(), "-n 100", &args, &input);
        assert_eq!(r.code, 0, "{extra:?}: {}", r.stderr);
        assert_eq!(
            (files(&d.path().join("a")).len(), files(&d.path().join("b")).len()),
            (400, 400)
        );
        assert_eq!(
            fs::read_to_string(d.path().join("b/1007.ndjson")).unwrap(),
            "{\"x\":7,\"y\":1007}\n"
        );
    }
}

#[test]
fn a_file_named_by_two_stages_is_truncated_once_and_keeps_input_order() {
    let d = tmp();
    fs::create_dir(d.path().join("o")).unwrap();
    fs::write(d.path().join("o/a.ndjson"), "old\n").unwrap();
    let input = "{\"x\":\"a\",\"n\":1}\n{\"x\":\"a\",\"n\":2}\n";
    let r = run_in(d.path(), &["tee \"o/{x}.ndjson\" | to \"./o/./{x}.ndjson\""], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = "{\"x\":\"a\",\"n\":1}\n{\"x\":\"a\",\"n\":1}\n{\"x\":\"a\",\"n\":2}\n{\"x\":\"a\",\"n\":2}\n";
    assert_eq!(fs::read_to_string(d.path().join("o/a.ndjson")).unwrap(), want);
}

#[test]
fn names_past_the_length_limit_are_cut_whole_with_a_hash() {
    let d = tmp();
    let (a, b) = ("a".repeat(200), "b".repeat(200));
    let input =
        format!("{{\"p\":\"{a}\",\"q\":\"{b}\"}}\n{{\"p\":\"{a}\",\"q\":\"{b}c\"}}\n{{\"p\":\"{a}\",\"q\":\"{b}\"}}\n");
    let r = run_in(d.path(), &["to \"out/{p}-{q}.ndjson.gz\""], &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names = files(&d.path().join("out"));
    assert_eq!(names.len(), 2, "{names:?}");
    for name in &names {
        let name = name.to_str().unwrap();
        assert!(
            name.len() <= 255 && name.ends_with(".ndjson.gz") && name.starts_with(&a[..100]),
            "{name}"
        );
    }
    let lines: usize = names
        .iter()
        .map(|n| text_of(&d.path().join("out").join(n)).lines().count())
        .sum();
    assert_eq!(lines, 3);
}

#[test]
fn no_topic_value_makes_a_hidden_file() {
    let d = tmp();
    let input = "{\"t\":\".secret\"}\n{\"t\":\"..x\"}\n{\"t\":\".\"}\n";
    let r = run_in(d.path(), &["route by t", "-O", "out"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<String> = files(&d.path().join("out"))
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["%2E.ndjson", "%2E.x.ndjson", "%2Esecret.ndjson"]);
}

#[test]
fn dot_names_in_the_fixed_directory_are_normalised() {
    let d = tmp();
    let r = run_in(d.path(), &["to \"out/./{x}.ndjson\""], "{\"x\":\"a\"}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        fs::read_to_string(d.path().join("out/a.ndjson")).unwrap(),
        "{\"x\":\"a\"}\n"
    );
    let r = run_in(d.path(), &["to \"./{x}.ndjson\""], "{\"x\":\"b\"}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(d.path().join("b.ndjson").exists());
}

#[test]
fn templates_that_name_no_file_are_usage_errors_before_reading() {
    let d = tmp();
    for template in ["", "out/", "out/{x}/", "out/{x}/.", "out/../x/{x}", "out/{x}/../y", "/"] {
        let r = run_in(d.path(), &[&format!("to \"{template}\"")], "{\"x\":\"a\"}\n");
        assert_eq!(r.code, 2, "{template:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("evq: pipeline error: file name template"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    }
    let r = run_in(d.path(), &["where true", "-O", "a/../b"], "{\"x\":\"a\"}\n");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(files(d.path()), Vec::<PathBuf>::new(), "nothing was written");
}

#[test]
fn a_symlink_in_the_fixed_directory_is_refused() {
    for template in ["out/{x}.ndjson", "out/sub/{x}.ndjson", "out/f.ndjson"] {
        let d = tmp();
        let elsewhere = d.path().join("elsewhere");
        fs::create_dir_all(elsewhere.join("sub")).unwrap();
        symlink(&elsewhere, d.path().join("out")).unwrap();
        let r = run_in(d.path(), &[&format!("to \"{template}\"")], "{\"x\":\"a\"}\n");
        assert_eq!(r.code, 4, "{template}: {}", r.stderr);
        assert!(
            r.stderr
                .starts_with("evq: out: is a symbolic link, which evq never follows"),
            "{template}: {}",
            r.stderr
        );
        assert_eq!(files(&elsewhere), Vec::<PathBuf>::new(), "{template}");
    }
}

#[test]
fn a_leading_parent_directory_is_allowed() {
    let d = tmp();
    fs::create_dir(d.path().join("work")).unwrap();
    let r = run_in(&d.path().join("work"), &["to \"../out/{x}.ndjson\""], "{\"x\":\"a\"}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(d.path().join("out/a.ndjson").exists());
}

#[test]
fn a_killed_run_leaves_input_lines_cut_only_where_linux_stopped_a_write() {
    let d = tmp();
    let input_path = d.path().join("in.ndjson");
    let input = events(150_000);
    fs::write(&input_path, &input).unwrap();
    let mut wrote = false;
    for delay_ms in [150, 300, 600, 1200] {
        let out = d.path().join(format!("out{delay_ms}"));
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("evq"))
            .args(["--held-bytes", "512K", "-j", "1"])
            .arg(format!("to \"{}/{{i % 3}}.ndjson\"", out.display()))
            .arg(&input_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("evq starts");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL: no cleanup runs
        let _ = child.wait();
        if !out.exists() {
            continue;
        }
        wrote |= files(&out).iter().any(|rel| !text_of(&out.join(rel)).is_empty());
        // SIGKILL cannot be caught: Linux may stop a write(2) between two pages of it.
        assert_input_lines(&out, &input, true);
    }
    assert!(wrote, "no run was killed after it wrote to a file");
}

#[test]
fn stdout_redirected_to_a_file_ends_on_a_whole_line_after_a_size_limit() {
    let d = tmp();
    let input = events(3000);
    fs::write(d.path().join("in.ndjson"), &input).unwrap();
    fs::write(d.path().join("appended.ndjson"), "old\n").unwrap();
    for (redirect, name, before) in [(">", "out.ndjson", ""), (">>", "appended.ndjson", "old\n")] {
        let out = Command::new("sh")
            .current_dir(d.path())
            .arg("-c")
            .arg(format!("ulimit -f 16 && exec \"$@\" {redirect} {name}"))
            .arg("sh")
            .arg(assert_cmd::cargo::cargo_bin("evq"))
            .args(["where true", "in.ndjson"])
            .output()
            .expect("sh runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains("stdout: File too large"), "{stderr}");
        let text = fs::read_to_string(d.path().join(name)).unwrap();
        let ours = text.strip_prefix(before).expect("what the file held is kept");
        assert!(
            !ours.is_empty() && ours.ends_with('\n') && input.starts_with(ours),
            "{redirect}: ends inside a line"
        );
    }
}

/// Appending to a compressed file that is cut short, damaged or not compressed would leave
/// lines no reader gets back: refused, the file kept as it was; a whole one is appended to.
#[test]
fn append_refuses_a_compressed_file_that_is_not_whole() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("a.ndjson.gz");
    let out = dir.path().to_str().expect("UTF-8");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, b"{\"old\":1}\n").expect("compressed");
    let whole = gz.finish().expect("a gzip stream");
    let zstd_whole = zstd::encode_all(&b"{\"old\":1}\n"[..], 1).expect("a zstd frame");
    let cases: [(&str, &[u8], &str); 4] = [
        ("a.ndjson.gz", &whole[..whole.len() - 4], "is not a whole gzip file"),
        ("a.ndjson.gz", b"{\"plain\":1}\n", "is not a whole gzip file"),
        (
            "a.ndjson.zst",
            &zstd_whole[..zstd_whole.len() - 3],
            "is not a whole zstd file",
        ),
        ("a.ndjson.zst", b"{\"plain\":1}\n", "is not a whole zstd file"),
    ];
    for (name, bytes, says) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).expect("a damaged file");
        let pipeline = format!("to \"{out}/{name}\"");
        let r = crate::common::run(&["--append", &pipeline], "{\"t\":\"a\"}\n");
        assert_eq!(r.code, 4, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
        assert_eq!(std::fs::read(&file).expect("kept"), bytes, "{name}");
    }
    std::fs::write(&file, &whole).expect("a whole file");
    let pipeline = format!("to \"{out}/a.ndjson.gz\"");
    let r = crate::common::run(&["--append", &pipeline], "{\"t\":\"a\"}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).expect("appended"))
        .read_to_string(&mut text)
        .expect("readable");
    assert_eq!(text, "{\"old\":1}\n{\"t\":\"a\"}\n");
}

#[test]
fn append_refuses_a_file_that_ends_inside_a_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("a.ndjson");
    std::fs::write(&file, "{\"old\":1}\n{\"partial\":").expect("a cut-off file");
    let out = dir.path().to_str().expect("UTF-8");
    let r = crate::common::run(&["--append", "route by t", "-O", out], "{\"t\":\"a\"}\n");
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("ends inside a line"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&file).expect("kept"),
        "{\"old\":1}\n{\"partial\":"
    );
    std::fs::write(&file, "{\"old\":1}\n").expect("a whole file");
    let r = crate::common::run(&["--append", "route by t", "-O", out], "{\"t\":\"a\"}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&file).expect("appended"),
        "{\"old\":1}\n{\"t\":\"a\"}\n"
    );
}

#[test]
fn one_file_named_in_two_spellings_gets_the_lines_of_both_stages_in_input_order() {
    let dir = tmp();
    let input = "{\"k\":\"a\",\"n\":1}\n{\"k\":\"a\",\"n\":2}\n";
    let absolute = format!("to \"{}/out/a.ndjson\"", dir.path().display());
    let up = format!(
        "to \"../{}/out/{{k}}.ndjson\"",
        dir.path().file_name().unwrap().to_str().unwrap()
    );
    for second in [absolute.as_str(), up.as_str(), "to \"./out/./a.ndjson\""] {
        let r = run_in(dir.path(), &[&format!("tee \"out/a.ndjson\" | {second}")], input);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{second}");
        let lines = text_of(&dir.path().join("out/a.ndjson"));
        let each_event_twice =
            "{\"k\":\"a\",\"n\":1}\n{\"k\":\"a\",\"n\":1}\n{\"k\":\"a\",\"n\":2}\n{\"k\":\"a\",\"n\":2}\n";
        assert_eq!(lines, each_event_twice, "{second}: the lines in input order");
    }
}

#[test]
fn a_topic_file_that_is_another_output_of_the_run_is_refused() {
    let dir = tmp();
    fs::create_dir(dir.path().join("out")).unwrap();
    let input = "{\"k\":\"a\",\"n\":1}\nbad\n{\"k\":\"a\",\"n\":2}\n";
    for flag in ["--dead-letter=out/a.ndjson", "--stats=out/a.ndjson"] {
        let r = run_in(dir.path(), &[flag, "to \"out/{k}.ndjson\""], input);
        assert_eq!(r.code, 4, "{flag}: {}", r.stderr);
        let option = flag.split('=').next().unwrap();
        let said = format!("evq: out/a.ndjson: is also the run's {option}");
        assert!(r.stderr.contains(&said), "{flag}: {}", r.stderr);
        // What the other output wrote is whole and was not overwritten by events.
        let kept = text_of(&dir.path().join("out/a.ndjson"));
        assert!(!kept.contains("\"n\":1"), "{flag}: {kept}");
    }
    // Stdout redirected into the file a template names.
    let out = dir.path().join("out/a.ndjson");
    let r = Command::new(assert_cmd::cargo::cargo_bin("evq"))
        .current_dir(dir.path())
        .args(["tee \"out/{k}.ndjson\""])
        .stdin(fs::File::open(write_input(dir.path(), input)).unwrap())
        .stdout(fs::File::create(&out).unwrap())
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&r.stderr).contains("is also the run's stdout"));
    // Known before reading: two options naming one file through `..`.
    let up = format!(
        "--dead-letter=../{}/x.json",
        dir.path().file_name().unwrap().to_str().unwrap()
    );
    let r = run_in(dir.path(), &["--stats=x.json", &up, "where true"], input);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("are the same file"), "{}", r.stderr);
}

fn write_input(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("in.ndjson");
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn compressed_files_removed_as_the_run_closes_them_are_named_after_a_plain_files_failure() {
    let dir = tmp();
    // Each of the three compressed files grows past the limit (the pad compresses badly) and
    // has no complete member to keep; the plain file fails first.
    let input = events(12_000);
    let r = run_limited(
        dir.path(),
        "-f 200",
        &["-q", "tee \"gz/{k}.ndjson.gz\" | to \"pl/all.ndjson\""],
        &input,
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    let gone: Vec<String> = ["t0", "t1", "t2"]
        .iter()
        .filter(|k| !dir.path().join(format!("gz/{k}.ndjson.gz")).exists())
        .map(|k| format!("gz/{k}.ndjson.gz"))
        .collect();
    assert!(!gone.is_empty(), "no compressed file was removed: {}", r.stderr);
    assert!(
        gone.iter().any(|g| r.stderr.contains(g.as_str())) && r.stderr.contains("was removed"),
        "{gone:?}: {}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}
