//! Routing and topic files (SPEC §4 `route`, §5 topic files): `route by`, rules, `route all`,
//! `to`, `tee`, `-O`, and their promises: safe names, any number of files, truncation, compression,
//! whole lines after any failure, `--atomic`, and accounting.

use crate::common::{Run, corpus, evq, run, run_in};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary `evq()` runs, for commands built by hand.
fn evq_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("evq")
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// One NDJSON line per value, each ending in `\n`.
fn ndjson(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// Everything under `dir`, never following a symlink: regular files with their bytes, and the
/// relative paths of directories and of anything else (symlinks, …).
#[derive(Default, Debug)]
struct Tree {
    files: BTreeMap<PathBuf, Vec<u8>>,
    dirs: BTreeSet<PathBuf>,
    other: BTreeSet<PathBuf>,
}

fn tree(dir: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, t: &mut Tree) {
        for e in fs::read_dir(dir).expect("a readable directory") {
            let p = e.expect("a directory entry").path();
            let rel = p.strip_prefix(root).expect("below the root").to_path_buf();
            let m = fs::symlink_metadata(&p).expect("lstat");
            if m.file_type().is_dir() {
                t.dirs.insert(rel);
                walk(root, &p, t);
            } else if m.file_type().is_file() {
                t.files.insert(rel, fs::read(&p).expect("a readable file"));
            } else {
                t.other.insert(rel);
            }
        }
    }
    let mut t = Tree::default();
    walk(dir, dir, &mut t);
    t
}

/// The files directly in `dir`, by name (panics on subdirectories or symlinks).
fn flat_files(dir: &Path) -> BTreeMap<String, String> {
    let t = tree(dir);
    assert!(
        t.dirs.is_empty() && t.other.is_empty(),
        "{} holds more than files: {t:?}",
        dir.display()
    );
    t.files
        .into_iter()
        .map(|(p, b)| (s(&p).to_string(), String::from_utf8(b).expect("UTF-8 output")))
        .collect()
}

fn lines_of(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// Asserts `bytes` is empty or ends with `\n`, and that every line is JSON; returns the lines.
fn whole_json_lines(name: &Path, bytes: &[u8]) -> Vec<Value> {
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "{} ends with a torn line: …{:?}",
        name.display(),
        String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(40)..])
    );
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_slice(l).unwrap_or_else(|e| {
                panic!(
                    "{}: a line is not JSON ({e}): {:?}",
                    name.display(),
                    String::from_utf8_lossy(l)
                )
            })
        })
        .collect()
}

/// True when this process runs as root (the owner of a file it creates is uid 0).
fn is_root() -> bool {
    let d = tmp();
    fs::metadata(d.path()).expect("stat").uid() == 0
}

/// A tmpfs mounted for one test, unmounted when dropped (also when the test fails).
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Mounts a tmpfs with `opts` on `dir`, or says why not and returns None.
fn mount_tmpfs(dir: &Path, opts: &str) -> Option<Mount> {
    if !is_root() {
        eprintln!("skipping: mounting a tmpfs needs root");
        return None;
    }
    match Command::new("mount")
        .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
        .arg(dir)
        .stderr(Stdio::piped())
        .output()
    {
        Ok(o) if o.status.success() => Some(Mount(dir.to_path_buf())),
        Ok(o) => {
            eprintln!(
                "skipping: mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Err(e) => {
            eprintln!("skipping: cannot run mount: {e}");
            None
        }
    }
}

/// Waits for `child` to exit, killing it after `limit`.
fn wait_for(child: &mut Child, limit: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return st.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("evq did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls until `ready` holds, failing after `limit`.
fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A small deterministic pseudo-random generator (xorshift64*), for incompressible test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n.div_ceil(16))
            .map(|_| format!("{:016x}", self.next()))
            .collect::<String>()[..n]
            .to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Routing

const FIVE: &str =
    "{\"v\":\"a\",\"n\":1}\n{\"v\":\"b\",\"n\":2}\n{\"n\":3}\n{\"v\":null,\"n\":4}\n{\"v\":\"a\",\"n\":5}\n";

/// The files `route by v -O DIR` makes of FIVE.
fn five_by_v() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "a.ndjson".into(),
            "{\"v\":\"a\",\"n\":1}\n{\"v\":\"a\",\"n\":5}\n".into(),
        ),
        ("b.ndjson".into(), "{\"v\":\"b\",\"n\":2}\n".into()),
        ("_none.ndjson".into(), "{\"n\":3}\n{\"v\":null,\"n\":4}\n".into()),
    ])
}

#[test]
fn route_by_writes_one_file_per_value_in_input_order_missing_and_null_to_none() {
    let d = tmp();
    let out = d.path().join("out");
    let r = run(&["route by v", "-O", s(&out)], FIVE);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    assert_eq!(flat_files(&out), five_by_v());
}

#[test]
fn route_rules_take_the_first_matching_rule_and_else_for_the_rest() {
    let d = tmp();
    let r = run(
        &["route big: n > 3, mid: n > 1, any: true else small", "-O", s(d.path())],
        FIVE,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files = flat_files(d.path());
    let ns = |name: &str| -> Vec<u64> {
        lines_of(&files[name])
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["n"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(
        (ns("big.ndjson"), ns("mid.ndjson"), ns("any.ndjson")),
        (vec![4, 5], vec![2, 3], vec![1])
    );
    // `else` only takes what no rule matched.
    let r = run(&["route big: n > 3, mid: n > 1 else small", "-O", s(d.path())], FIVE);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files = flat_files(d.path());
    assert_eq!(files["small.ndjson"], "{\"v\":\"a\",\"n\":1}\n");
    assert_eq!(files["big.ndjson"], "{\"v\":null,\"n\":4}\n{\"v\":\"a\",\"n\":5}\n");
}

#[test]
fn route_rules_without_else_send_unmatched_events_to_unmatched() {
    let d = tmp();
    let r = run(&["route big: n > 3", "-O", s(d.path())], FIVE);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        flat_files(d.path()),
        BTreeMap::from([
            (
                "big.ndjson".into(),
                "{\"v\":null,\"n\":4}\n{\"v\":\"a\",\"n\":5}\n".into()
            ),
            (
                "_unmatched.ndjson".into(),
                "{\"v\":\"a\",\"n\":1}\n{\"v\":\"b\",\"n\":2}\n{\"n\":3}\n".into()
            ),
        ])
    );
}

#[test]
fn route_all_writes_one_copy_per_matching_rule_and_else_when_none_matches() {
    let d = tmp();
    let (with_else, without) = (d.path().join("e"), d.path().join("u"));
    let r = run(
        &["route all big: n > 3, mid: n > 1 else small", "-O", s(&with_else)],
        FIVE,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = FIVE.lines().collect();
    let join = |idx: &[usize]| idx.iter().map(|&i| format!("{}\n", lines[i])).collect::<String>();
    assert_eq!(
        flat_files(&with_else),
        BTreeMap::from([
            ("big.ndjson".into(), join(&[3, 4])),
            ("mid.ndjson".into(), join(&[1, 2, 3, 4])),
            ("small.ndjson".into(), join(&[0])),
        ])
    );
    let r = run(&["route all big: n > 3, mid: n > 1", "-O", s(&without)], FIVE);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files = flat_files(&without);
    assert_eq!(files["_unmatched.ndjson"], join(&[0]));
    assert_eq!(files["mid.ndjson"], join(&[1, 2, 3, 4]));
}

/// The lines of stdout as a set (count orders ties by first seen; the set is what matters here).
fn line_set(stdout: &str) -> BTreeSet<String> {
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn route_then_count_by_topic_counts_each_topic_and_each_copy() {
    let r = run(&["route by v | count by topic() as t"], FIVE);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        line_set(&r.stdout),
        line_set("{\"t\":\"a\",\"count\":2}\n{\"t\":null,\"count\":2}\n{\"t\":\"b\",\"count\":1}\n")
    );
    let r = run(&["route big: n > 3 else rest | count by topic() as t"], FIVE);
    assert_eq!(r.stdout, "{\"t\":\"rest\",\"count\":3}\n{\"t\":\"big\",\"count\":2}\n");
    let r = run(&["route all big: n > 3, mid: n > 1 | count by topic() as t"], FIVE);
    assert_eq!(
        r.stdout,
        "{\"t\":\"mid\",\"count\":4}\n{\"t\":\"big\",\"count\":2}\n{\"t\":\"_unmatched\",\"count\":1}\n"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. to, tee, -O: templates

const SERVICES: &str = "{\"service\":\"api\",\"level\":\"error\",\"i\":1}\n\
{\"service\":\"db\",\"level\":\"info\",\"i\":2}\n\
{\"service\":\"api\",\"level\":\"info\",\"i\":3}\n\
{\"level\":\"error\",\"i\":4}\n\
{\"service\":\"api\",\"level\":\"error\",\"i\":5}\n";

#[test]
fn to_template_with_several_placeholders_creates_the_directories() {
    let d = tmp();
    let r = run_in(
        d.path(),
        &["route by level | to \"out/{service}/{topic()}.ndjson\""],
        SERVICES.as_bytes(),
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, ""),
        "`to` ends the pipeline: {}",
        r.stderr
    );
    let t = tree(&d.path().join("out"));
    let l: Vec<&str> = SERVICES.lines().collect();
    let files: BTreeMap<String, String> = t
        .files
        .into_iter()
        .map(|(p, b)| (s(&p).to_string(), String::from_utf8(b).unwrap()))
        .collect();
    assert_eq!(
        files,
        BTreeMap::from([
            ("api/error.ndjson".into(), format!("{}\n{}\n", l[0], l[4])),
            ("api/info.ndjson".into(), format!("{}\n", l[2])),
            ("db/info.ndjson".into(), format!("{}\n", l[1])),
            ("_none/error.ndjson".into(), format!("{}\n", l[3])),
        ])
    );
    assert_eq!(t.dirs, ["_none", "api", "db"].iter().map(PathBuf::from).collect());
}

#[test]
fn to_template_double_braces_are_literal_braces() {
    let d = tmp();
    let r = run_in(
        d.path(),
        &["to \"out/{{lit}}/x{{{service}}}y}}.ndjson\""],
        SERVICES.as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<PathBuf> = tree(&d.path().join("out")).files.into_keys().collect();
    assert_eq!(
        names,
        [
            "{lit}/x{_none}y}.ndjson",
            "{lit}/x{api}y}.ndjson",
            "{lit}/x{db}y}.ndjson"
        ]
        .iter()
        .map(PathBuf::from)
        .collect::<Vec<_>>()
    );
}

#[test]
fn missing_and_null_placeholders_render_as_none_and_a_none_value_does_not() {
    let d = tmp();
    let input = "{\"a\":null}\n{}\n{\"a\":\"_none\",\"b\":\"_none\"}\n{\"a\":\"x\",\"b\":null}\n";
    let r = run_in(d.path(), &["to \"out/{a}/{b}.ndjson\""], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files: BTreeMap<PathBuf, Vec<u8>> = tree(&d.path().join("out")).files;
    assert_eq!(
        files,
        BTreeMap::from([
            (PathBuf::from("_none/_none.ndjson"), b"{\"a\":null}\n{}\n".to_vec()),
            (
                PathBuf::from("%5Fnone/%5Fnone.ndjson"),
                b"{\"a\":\"_none\",\"b\":\"_none\"}\n".to_vec()
            ),
            (PathBuf::from("x/_none.ndjson"), b"{\"a\":\"x\",\"b\":null}\n".to_vec()),
        ])
    );
}

#[test]
fn tee_writes_the_files_and_passes_every_event_on() {
    let d = tmp();
    let r = run_in(
        d.path(),
        &["tee \"t/{service}.ndjson\" | where i > 1 | keep i"],
        SERVICES.as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"i\":2}\n{\"i\":3}\n{\"i\":4}\n{\"i\":5}\n");
    let files = flat_files(&d.path().join("t"));
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["_none.ndjson", "api.ndjson", "db.ndjson"]
    );
    assert_eq!(lines_of(&files["api.ndjson"]).len(), 3);
}

#[test]
fn to_cannot_be_followed_by_another_stage() {
    let r = run(&["to \"x/{v}\" | count"], FIVE);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("tee"), "the hint names tee: {}", r.stderr);
}

#[test]
fn out_dir_with_braces_in_its_name_is_taken_literally() {
    let d = tmp();
    let r = run_in(d.path(), &["route by v", "-O", "o{v}/"], FIVE.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        flat_files(&d.path().join("o{v}")).into_keys().collect::<Vec<_>>(),
        ["_none.ndjson", "a.ndjson", "b.ndjson"]
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Safety

/// Values that try to leave the output directory, share a file or make an invalid name.
fn hostile_values(base: &Path) -> Vec<Value> {
    let mut v: Vec<Value> = [
        "../../x",
        "../x",
        "../../../etc/passwd",
        "/etc/passwd",
        "..",
        ".",
        "",
        "a/b",
        "a%2Fb",
        "a%252Fb",
        "..\\x",
        "\\",
        "\u{0}",
        "a\u{0}b",
        "a\nb",
        "\n",
        "CON",
        "con.txt",
        "LPT1",
        "_none",
        "%empty",
        "%2E",
        "%2E%2E",
        "~",
        ".hidden",
        "a b",
        "é/ü",
        "日本",
    ]
    .into_iter()
    .map(Value::from)
    .collect();
    v.push(Value::from(format!("{}/etc/passwd", base.display())));
    v.push(Value::from(format!("{}/x", base.display())));
    v.push(Value::from("x".repeat(300)));
    v.push(Value::from(format!("{}1", "x".repeat(299))));
    v.push(Value::from("/".repeat(300)));
    v.push(Value::from("é".repeat(150)));
    v.push(Value::from("../".repeat(100)));
    v
}

/// Checks that `files` (relative to the template's root) hold exactly the groups of `input`'s
/// lines by `key`: one file per distinct key, each with that key's lines, in order.
fn assert_one_file_per_value(files: &BTreeMap<PathBuf, Vec<u8>>, input: &str, key: &str) {
    let mut want: HashMap<String, String> = HashMap::new();
    for line in input.lines() {
        let ev: Value = serde_json::from_str(line).unwrap();
        let k = ev.get(key).cloned().unwrap_or(Value::Null).to_string();
        writeln!(want.entry(k).or_default(), "{line}").unwrap();
    }
    let mut seen = BTreeSet::new();
    for (name, bytes) in files {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        let first: Value = serde_json::from_str(text.lines().next().expect("a file with a line")).unwrap();
        let k = first.get(key).cloned().unwrap_or(Value::Null).to_string();
        assert_eq!(
            Some(text),
            want.get(&k).map(String::as_str),
            "{} must hold exactly the events of {key} = {k}",
            name.display()
        );
        assert!(seen.insert(k.clone()), "two files for {key} = {k}");
    }
    assert_eq!(
        files.len(),
        want.len(),
        "one file per distinct value: {:?}",
        files.keys()
    );
}

#[test]
fn hostile_topic_values_stay_inside_the_out_dir_one_file_per_value() {
    let base = tmp();
    let base = base.path();
    // Where a path-joining bug would write: a directory that exists, so a write would succeed.
    fs::create_dir(base.join("etc")).unwrap();
    let values = hostile_values(base);
    // An absolute value first, alone: if it escaped, the real /etc/passwd is not tried next.
    let abs = format!("{}\n", json!({"v": format!("{}/etc/passwd", base.display())}));
    let r = run_in(base, &["route by v", "-O", "first"], abs.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        fs::read_dir(base.join("etc")).unwrap().count(),
        0,
        "an absolute value escaped"
    );
    fs::remove_dir_all(base.join("first")).unwrap();

    let passwd = fs::metadata("/etc/passwd")
        .ok()
        .map(|m| (m.len(), m.mtime(), m.mtime_nsec()));
    let mut events: Vec<Value> = Vec::new();
    for round in 0..2 {
        for (i, v) in values.iter().enumerate() {
            events.push(json!({"v": v, "i": i, "round": round}));
        }
        events.push(json!({"i": -1, "round": round}));
        events.push(json!({"v": null, "i": -2, "round": round}));
    }
    let input = ndjson(&events);
    let r = run_in(base, &["route by v", "-O", "a/b/out"], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r2 = run_in(base, &["to \"a/b/dirs/{v}/f.ndjson\""], input.as_bytes());
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    let r3 = run_in(base, &["route by v", "-O", "a/b/atomic", "--atomic"], input.as_bytes());
    assert_eq!(r3.code, 0, "{}", r3.stderr);

    let all = tree(base);
    assert!(all.other.is_empty(), "{:?}", all.other);
    for f in all.files.keys() {
        assert!(
            ["a/b/out", "a/b/dirs", "a/b/atomic"].iter().any(|d| f.starts_with(d)),
            "{} was created outside the output directory",
            f.display()
        );
    }
    for sentinel in [
        "a/x.ndjson",
        "a/b/x.ndjson",
        "x.ndjson",
        "etc/passwd.ndjson",
        "a/b/x",
        "a/x",
    ] {
        assert!(!base.join(sentinel).exists(), "{sentinel} was created");
    }
    assert_eq!(fs::read_dir(base.join("etc")).unwrap().count(), 0);
    assert_eq!(
        fs::metadata("/etc/passwd")
            .ok()
            .map(|m| (m.len(), m.mtime(), m.mtime_nsec())),
        passwd,
        "/etc/passwd changed"
    );

    // -O: every file is one component directly in DIR, a short valid name.
    let out = tree(&base.join("a/b/out"));
    assert!(out.dirs.is_empty(), "directories in the out dir: {:?}", out.dirs);
    for name in out.files.keys() {
        let n = s(name);
        assert_eq!(name.components().count(), 1, "{n}");
        assert!(n.len() <= 255 && !n.contains(['/', '\\', '\0', '\n']), "{n:?}");
        assert!(n.ends_with(".ndjson"), "{n}");
    }
    assert!(
        out.files.contains_key(Path::new("_none.ndjson")),
        "missing/null go to _none"
    );
    assert_one_file_per_value(&out.files, &input, "v");
    // With --atomic: the same files, renamed into place, no temporary left.
    assert_eq!(tree(&base.join("a/b/atomic")).files, out.files);

    // A placeholder as a directory: one directory level per value, nothing deeper.
    let dirs = tree(&base.join("a/b/dirs"));
    for name in dirs.files.keys() {
        let parts: Vec<_> = name.components().collect();
        assert_eq!(parts.len(), 2, "{}", name.display());
        assert_eq!(parts[1].as_os_str(), "f.ndjson");
    }
    assert_eq!(dirs.dirs.len(), dirs.files.len());
    assert_one_file_per_value(&dirs.files, &input, "v");
}

#[test]
fn symlinked_file_in_the_out_dir_is_never_followed() {
    for mode in [None, Some("--append"), Some("--atomic")] {
        let d = tmp();
        let (out, outside) = (d.path().join("out"), d.path().join("outside"));
        fs::create_dir_all(&out).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("f"), "keep\n").unwrap();
        symlink(outside.join("f"), out.join("a.ndjson")).unwrap();
        symlink(outside.join("new"), out.join("_none.ndjson")).unwrap();
        let mut args = vec!["route by v", "-O", s(&out)];
        args.extend(mode);
        let r = run(&args, FIVE);
        assert_eq!(r.code, 4, "{mode:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{}: ", out.join("a.ndjson").display()))
                || r.stderr.contains(&format!("{}: ", out.join("_none.ndjson").display())),
            "{mode:?}: the message names the file: {}",
            r.stderr
        );
        assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
        assert_eq!(fs::read_to_string(outside.join("f")).unwrap(), "keep\n", "{mode:?}");
        assert_eq!(
            fs::read_dir(&outside).unwrap().count(),
            1,
            "{mode:?}: a file was created through the dangling link"
        );
        assert!(
            fs::symlink_metadata(out.join("a.ndjson"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

#[test]
fn symlinked_directory_in_the_output_location_is_never_followed() {
    let d = tmp();
    let (out, outside) = (d.path().join("out"), d.path().join("outside"));
    fs::create_dir_all(&out).unwrap();
    fs::create_dir(&outside).unwrap();
    symlink(&outside, out.join("api")).unwrap();
    let r = run(&[&format!("to \"{}/{{service}}/{{level}}.ndjson\"", s(&out))], SERVICES);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains(s(&out.join("api"))), "{}", r.stderr);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "written through the link");
}

// ---------------------------------------------------------------------------------------------
// 4. Any number of topics

/// `rounds` × `topics` events, round-robin over the topics, each padded to ~`pad` bytes.
fn many_topics(topics: usize, rounds: usize, pad: usize) -> String {
    let pad = "p".repeat(pad);
    let mut out = String::new();
    for r in 0..rounds {
        for t in 0..topics {
            writeln!(out, "{{\"t\":\"t{t}\",\"r\":{r},\"pad\":\"{pad}\"}}").unwrap();
        }
    }
    out
}

/// Runs evq under `ulimit -n 64` on 5,000 topics × 4 rounds (~12 MB, so the files are written
/// in several batches and reopened), and checks every file.
fn five_thousand_topics(extra: &[&str]) {
    let d = tmp();
    let input = many_topics(5000, 4, 600);
    let path = d.path().join("in.ndjson");
    fs::write(&path, &input).unwrap();
    let out = d.path().join("out");
    let o = Command::new("bash")
        .args([
            "-c",
            "ulimit -n 64 && exec \"$@\"",
            "bash",
            s(&evq_path()),
            "route by t",
            "-O",
            s(&out),
            s(&path),
        ])
        .args(extra)
        .output()
        .expect("bash runs");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let files = flat_files(&out);
    assert_eq!(files.len(), 5000);
    // Line i of the input belongs to topic i % 5000.
    let mut want = vec![String::new(); 5000];
    for (i, line) in input.lines().enumerate() {
        want[i % 5000].push_str(line);
        want[i % 5000].push('\n');
    }
    let mut total = 0;
    for (t, want) in want.iter().enumerate() {
        let text = &files[&format!("t{t}.ndjson")];
        assert!(text == want, "t{t}.ndjson does not hold its events in input order");
        total += lines_of(text).len();
    }
    assert_eq!(total, 20_000);
}

#[test]
fn five_thousand_topics_complete_under_an_open_file_limit_of_64() {
    five_thousand_topics(&[]);
}

#[test]
fn five_thousand_topics_complete_with_four_open_files() {
    five_thousand_topics(&["--max-open-files", "4"]);
}

#[test]
fn topic_files_are_identical_for_every_thread_count() {
    let d = tmp();
    let input = many_topics(300, 20, 200);
    for (name, pipeline, files) in [
        ("by", "route by t", 300),
        ("all", "route all even: r % 2 == 0, low: r < 5, any: true", 3),
    ] {
        let mut seen = Vec::new();
        for j in ["1", "2", "4"] {
            let out = d.path().join(format!("{name}{j}"));
            let r = run(&["-j", j, pipeline, "-O", s(&out), "--max-open-files", "8"], &input);
            assert_eq!(r.code, 0, "{}", r.stderr);
            seen.push(flat_files(&out));
        }
        assert_eq!(seen[0].len(), files, "{pipeline}");
        assert!(
            seen[0] == seen[1] && seen[1] == seen[2],
            "{pipeline}: files differ between -j values"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Truncate, append, compression

#[test]
fn an_existing_file_is_truncated_when_first_opened_in_a_run() {
    let d = tmp();
    fs::write(d.path().join("a.ndjson"), "old\n").unwrap();
    fs::write(d.path().join("untouched.ndjson"), "old\n").unwrap();
    let r = run(&["route by v", "-O", s(d.path())], FIVE);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files = flat_files(d.path());
    assert_eq!(files["a.ndjson"], "{\"v\":\"a\",\"n\":1}\n{\"v\":\"a\",\"n\":5}\n");
    assert_eq!(
        files["untouched.ndjson"], "old\n",
        "a file the run does not write is left alone"
    );
}

#[test]
fn append_keeps_what_the_file_held() {
    let d = tmp();
    fs::write(d.path().join("a.ndjson"), "old\n").unwrap();
    let r = run(&["route by v", "-O", s(d.path()), "--append"], FIVE);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["route by v", "-O", s(d.path()), "--append"], FIVE);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = "{\"v\":\"a\",\"n\":1}\n{\"v\":\"a\",\"n\":5}\n";
    assert_eq!(flat_files(d.path())["a.ndjson"], format!("old\n{a}{a}"));
}

#[test]
fn gzip_and_zstd_files_decode_whole_after_lru_reopens() {
    let d = tmp();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // ~6 MB of incompressible lines over 37 interleaved topics, held 256 KiB at a time: many spills.
    let mut input = String::new();
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..7000 {
        let line = format!("{{\"t\":\"t{}\",\"i\":{i},\"pad\":\"{}\"}}\n", i % 37, rng.hex(800));
        want.entry(format!("t{}", i % 37)).or_default().push_str(&line);
        input.push_str(&line);
    }
    let out = d.path().join("z");
    let pipeline = format!("tee \"{0}/{{t}}.ndjson.gz\" | to \"{0}/{{t}}.ndjson.zst\"", s(&out));
    let r = run(&[&pipeline, "--max-open-files", "2", "--held-bytes", "256K"], &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = tree(&out);
    assert_eq!(t.files.len(), 74);
    let mut several_members = 0;
    for (topic, text) in &want {
        let gz = &t.files[&PathBuf::from(format!("{topic}.ndjson.gz"))];
        let mut got = String::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_string(&mut got)
            .expect("valid gzip");
        assert_eq!(&got, text, "{topic}.ndjson.gz");
        let mut first = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut first).unwrap();
        several_members += usize::from(first.len() < got.len());
        let zst = &t.files[&PathBuf::from(format!("{topic}.ndjson.zst"))];
        let got = zstd::decode_all(&zst[..]).expect("valid zstd");
        assert_eq!(String::from_utf8(got).unwrap(), *text, "{topic}.ndjson.zst");
    }
    assert!(
        several_members > 0,
        "no file was reopened: the test does not cover reopening"
    );
}

/// Lines are held in one buffer and the largest files' leading lines are written first: whatever the
/// buffer size and however unevenly lines fall on files, each file gets its lines whole and in order.
#[test]
fn every_file_gets_its_lines_in_order_whatever_the_held_bytes() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut input = String::new();
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..6000 {
        // A few hot topics and a long tail, lines of very different sizes.
        let topic = match rng.below(10) {
            0..=5 => rng.below(3),
            _ => 3 + rng.below(400),
        };
        let pad = rng.below(300) as usize;
        let line = format!("{{\"t\":{topic},\"i\":{i},\"pad\":\"{}\"}}\n", rng.hex(pad));
        want.entry(format!("{topic}.ndjson")).or_default().push_str(&line);
        input.push_str(&line);
    }
    for held in ["1", "700", "4K", "64K", "1M", "64M"] {
        let d = tmp();
        let r = run_in(
            d.path(),
            &["route by t", "-O", "out", "--held-bytes", held],
            input.as_bytes(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let got = flat_files(&d.path().join("out"));
        assert!(got == want, "--held-bytes {held}: files differ");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Never torn, never silent

#[test]
fn read_only_out_dir_fails_with_exit_4_naming_the_file() {
    let d = tmp();
    let out = d.path().join("ro");
    fs::create_dir(&out).unwrap();
    let _mount;
    if is_root() {
        match mount_tmpfs(&out, "ro,size=64k") {
            Some(m) => _mount = m,
            None => return,
        }
    } else {
        fs::set_permissions(&out, fs::Permissions::from_mode(0o555)).unwrap();
        if fs::write(out.join("probe"), "").is_ok() {
            eprintln!("skipping: a 0555 directory is writable here");
            return;
        }
    }
    let r = run(&["route by v", "-O", s(&out)], FIVE);
    assert_eq!(r.code, 4, "{}", r.stderr);
    let named = ["a.ndjson", "b.ndjson", "_none.ndjson"]
        .iter()
        .any(|f| r.stderr.contains(&format!("evq: {}: ", out.join(f).display())));
    assert!(named, "the message names the file: {}", r.stderr);
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn full_filesystem_fails_with_exit_4_and_leaves_whole_json_lines() {
    let d = tmp();
    let out = d.path().join("small");
    fs::create_dir(&out).unwrap();
    let Some(_mount) = mount_tmpfs(&out, "size=64k") else {
        return;
    };
    let mut input = String::new();
    for i in 0..3000 {
        writeln!(
            input,
            "{{\"t\":\"t{}\",\"i\":{i},\"pad\":\"{}\"}}",
            i % 7,
            "x".repeat(50)
        )
        .unwrap();
    }
    let r = run(&["route by t", "-O", s(&out)], &input);
    assert_eq!(r.code, 4, "{}", r.stderr);
    let named = (0..7).any(|t| {
        r.stderr.contains(&format!(
            "evq: {}: No space left on device",
            out.join(format!("t{t}.ndjson")).display()
        ))
    });
    assert!(named, "the message names the file: {}", r.stderr);
    let t = tree(&out);
    assert!(!t.files.is_empty());
    for (name, bytes) in &t.files {
        for ev in whole_json_lines(name, bytes) {
            assert_eq!(format!("{}.ndjson", ev["t"].as_str().unwrap()), s(name));
        }
    }
}

/// Spawns evq on `args` with stdin fed endlessly (by a thread) from `block`.
fn spawn_fed(args: &[&str], block: Vec<u8>) -> Child {
    let mut child = Command::new(evq_path())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("evq starts");
    let mut stdin = child.stdin.take().expect("piped stdin");
    std::thread::spawn(move || while stdin.write_all(&block).is_ok() {});
    child
}

fn sigint(child: &Child) {
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(st.success());
}

#[test]
fn sigint_during_a_large_route_exits_130_with_whole_lines() {
    let d = tmp();
    let out = d.path().join("out");
    let mut child = spawn_fed(&["route by t", "-O", s(&out)], many_topics(100, 20, 500).into_bytes());
    // Files appear after the first batch is written: evq is in the middle of the run.
    wait_until(Duration::from_secs(60), "the first topic files", || {
        fs::read_dir(&out).is_ok_and(|mut r| r.next().is_some())
    });
    sigint(&child);
    let code = wait_for(&mut child, Duration::from_secs(60));
    assert_eq!(code, 130);
    let t = tree(&out);
    assert_eq!(t.files.len(), 100);
    for (name, bytes) in &t.files {
        let events = whole_json_lines(name, bytes);
        assert!(!events.is_empty());
        for ev in events {
            assert_eq!(format!("{}.ndjson", ev["t"].as_str().unwrap()), s(name));
        }
    }
}

/// The names in `dir` that look like `--atomic` temporary files.
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".evq-tmp"))
        .collect()
}

#[test]
fn atomic_files_replace_their_targets_when_the_run_succeeds() {
    let d = tmp();
    fs::write(d.path().join("a.ndjson"), "old\n").unwrap();
    let r = run(&["route by v", "-O", s(d.path()), "--atomic"], FIVE);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(flat_files(d.path()), five_by_v());
}

#[test]
fn an_atomic_file_that_replaces_another_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp();
    let old = d.path().join("a.ndjson");
    fs::write(&old, "old\n").unwrap();
    fs::set_permissions(&old, fs::Permissions::from_mode(0o640)).unwrap();
    let r = run(&["route by v", "-O", s(d.path()), "--atomic"], FIVE);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(flat_files(d.path()), five_by_v());
    let mode = |name: &str| fs::metadata(d.path().join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("a.ndjson"), 0o640, "the replaced file's mode");
}

#[test]
fn atomic_run_that_fails_on_bad_input_changes_no_file_and_leaves_no_temporaries() {
    let d = tmp();
    fs::write(d.path().join("a.ndjson"), "old\n").unwrap();
    let input = "{\"v\":\"a\"}\n{\"v\":\"b\"}\nnot json\n{\"v\":\"c\"}\n";
    let r = run(&["route by v", "-O", s(d.path()), "--atomic", "--strict"], input);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        flat_files(d.path()),
        BTreeMap::from([("a.ndjson".into(), "old\n".into())])
    );
}

#[test]
fn atomic_run_whose_assert_fails_changes_no_file_and_leaves_no_temporaries() {
    let d = tmp();
    let target = d.path().join("out.ndjson");
    fs::write(&target, "old\n").unwrap();
    let pipeline = format!("tee \"{}\" | assert x != 2", target.display());
    let r = run(&["--atomic", &pipeline], "{\"x\":1}\n{\"x\":2}\n");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        flat_files(d.path()),
        BTreeMap::from([("out.ndjson".into(), "old\n".into())])
    );
}

#[test]
fn atomic_run_whose_stdout_closes_early_changes_no_file_and_says_so() {
    use std::io::BufRead as _;
    let d = tmp();
    let target = d.path().join("all.ndjson");
    fs::write(&target, "old\n").unwrap();
    let input = d.path().join("in.ndjson");
    let lines: String = (0..200_000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
    fs::write(&input, lines).unwrap();
    let pipeline = format!("tee \"{}\"", target.display());
    let mut child = Command::new(evq_path())
        .args(["--atomic", &pipeline, s(&input)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("evq starts");
    // Like `| head -1`: one line read, then stdout closed while most of the input is unread.
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut first)
        .expect("a first line");
    assert_eq!(first, "{\"i\":0}\n");
    assert_eq!(wait_for(&mut child, Duration::from_secs(60)), 4);
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("standard output was closed before the end of the run, so no output file was changed"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), "old\n");
    assert!(temporaries(d.path()).is_empty());
}

#[test]
fn atomic_run_interrupted_by_sigint_changes_no_file_and_leaves_no_temporaries() {
    let d = tmp();
    let out = d.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("t1.ndjson"), "old\n").unwrap();
    let mut child = spawn_fed(
        &["route by t", "-O", s(&out), "--atomic"],
        many_topics(100, 20, 500).into_bytes(),
    );
    wait_until(Duration::from_secs(60), "the first temporary files", || {
        !temporaries(&out).is_empty()
    });
    sigint(&child);
    assert_eq!(wait_for(&mut child, Duration::from_secs(60)), 130);
    assert_eq!(flat_files(&out), BTreeMap::from([("t1.ndjson".into(), "old\n".into())]));
}

#[test]
fn atomic_run_that_fills_the_disk_changes_no_file_and_leaves_no_temporaries() {
    let d = tmp();
    let out = d.path().join("small");
    fs::create_dir(&out).unwrap();
    let Some(_mount) = mount_tmpfs(&out, "size=64k") else {
        return;
    };
    fs::write(out.join("t0.ndjson"), "old\n").unwrap();
    let mut input = String::new();
    for i in 0..3000 {
        writeln!(
            input,
            "{{\"t\":\"t{}\",\"i\":{i},\"pad\":\"{}\"}}",
            i % 7,
            "x".repeat(50)
        )
        .unwrap();
    }
    let r = run(&["route by t", "-O", s(&out), "--atomic"], &input);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("No space left on device"), "{}", r.stderr);
    let files = flat_files(&out);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["t0.ndjson"],
        "no file appears, no temporary is left"
    );
    assert_eq!(files["t0.ndjson"], "old\n");
}

#[test]
fn atomic_output_value_shaped_like_a_temporary_name_gets_a_file_of_its_own() {
    let d = tmp();
    let out = d.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("a"), "old\n").unwrap();
    let mut child = Command::new(evq_path())
        .args(["--atomic", &format!("to \"{}/{{v}}\"", s(&out))])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("evq starts");
    // The value names the temporary file that `a` is written to, `.a.evq-tmp-PID`; a value's
    // leading dot is escaped, so it can never take a temporary (hidden) name.
    let tmp_name = format!(".a.evq-tmp-{}", child.id());
    let input = format!("{{\"v\":\"a\"}}\n{{\"v\":\"{tmp_name}\"}}\n");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(
        flat_files(&out),
        BTreeMap::from([
            ("a".into(), "{\"v\":\"a\"}\n".into()),
            (format!("%2E{}", &tmp_name[1..]), format!("{{\"v\":\"{tmp_name}\"}}\n")),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Accounting

fn stats_of(args: &[&str], input: &str) -> (Run, Value) {
    let d = tmp();
    let path = d.path().join("stats.json");
    let flag = format!("--stats={}", s(&path));
    let mut all = args.to_vec();
    all.push(&flag);
    let r = run(&all, input);
    let text = fs::read(&path).unwrap_or_else(|e| panic!("no stats file ({e}); exit {}: {}", r.code, r.stderr));
    let stats = serde_json::from_slice(&text).expect("stats JSON");
    (r, stats)
}

fn fates_sum(stats: &Value) -> u64 {
    let f = &stats["fates"];
    let mut sum = 0;
    for (k, v) in f.as_object().unwrap() {
        sum += match v {
            Value::Object(m) if k == "dead_letter" => m.values().map(|n| n.as_u64().unwrap()).sum(),
            n => n.as_u64().unwrap_or_else(|| panic!("fate {k} is a count: {n}")),
        };
    }
    sum
}

const MIXED: &str = "{\"n\":1}\n\n{\"n\":2}\nnot json\n{\"n\":3}\n{\"n\":4}\n{\"n\":0}\n{\"n\":5}\n";

#[test]
fn stats_after_route_all_count_each_line_once_and_copies_apart() {
    let d = tmp();
    let (r, stats) = stats_of(
        &[
            "where n != 0 | route all big: n > 3, mid: n > 1 else small",
            "-O",
            s(d.path()),
        ],
        MIXED,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files = flat_files(d.path());
    let written: usize = files.values().map(|t| lines_of(t).len()).sum();
    assert_eq!(written, 7);
    assert_eq!(stats["lines_read"], 8);
    assert_eq!(stats["fates"]["emitted"], 5, "the five routed lines: {stats}");
    assert_eq!(stats["copies"], written as u64 - 5, "{stats}");
    assert_eq!(stats["fates"]["filtered"], 1);
    assert_eq!(stats["fates"]["blank"], 1);
    assert_eq!(fates_sum(&stats), 8, "fates add up to lines read: {stats}");
}

#[test]
fn stats_add_up_when_route_all_copies_pass_a_tee_into_an_aggregate() {
    let d = tmp();
    let pipeline = format!(
        "where n != 0 | route all big: n > 3, mid: n > 1 else small | tee \"{}/{{topic()}}.ndjson\" | count",
        s(d.path())
    );
    let (r, stats) = stats_of(&[&pipeline], MIXED);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The copies are events in the stream: counted like without the tee.
    let plain = run(
        &["where n != 0 | route all big: n > 3, mid: n > 1 else small | count"],
        MIXED,
    );
    assert_eq!(r.stdout, plain.stdout);
    assert_eq!(r.stdout, "{\"count\":7}\n");
    let written: usize = flat_files(d.path()).values().map(|t| lines_of(t).len()).sum();
    assert_eq!(written, 7);
    assert_eq!(stats["copies"], 2, "{stats}");
    assert_eq!(stats["fates"]["aggregated"], 5, "each routed line once: {stats}");
    assert_eq!(fates_sum(&stats), 8, "fates add up to lines read: {stats}");
}

// ---------------------------------------------------------------------------------------------
// 8. Real data

#[derive(serde::Deserialize)]
struct ZeekPath {
    #[serde(rename = "_path")]
    path: String,
}

#[test]
fn zeek_corpus_routed_by_path_gives_each_type_its_events_byte_for_byte() {
    let Some(dir) = corpus("zeek-wrccdc2018") else { return };
    // Read as evq reads a directory: entries in byte order of their paths, hidden ones skipped.
    let mut inputs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    inputs.sort_by(|a, b| a.as_os_str().as_encoded_bytes().cmp(b.as_os_str().as_encoded_bytes()));
    let mut want: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for p in &inputs {
        let mut data = Vec::new();
        let file = fs::File::open(p).unwrap();
        let gz = p.extension().is_some_and(|e| e == "gz");
        if gz {
            flate2::read::MultiGzDecoder::new(file).read_to_end(&mut data).unwrap();
        } else {
            // LICENSE: text, dead letters for evq.
            (&file).read_to_end(&mut data).unwrap();
        }
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<ZeekPath>(line) {
                Ok(z) => {
                    let buf = want.entry(z.path).or_default();
                    buf.extend_from_slice(line);
                    buf.push(b'\n');
                }
                Err(_) => assert!(!gz, "{}: a line without _path", p.display()),
            }
        }
    }
    assert_eq!(want.len(), 32);

    let d = tmp();
    let out = d.path().join("out");
    let o = evq()
        .args(["route by _path", "-O", s(&out), s(&dir)])
        .output()
        .expect("evq runs");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let t = tree(&out);
    assert!(t.dirs.is_empty() && t.other.is_empty());
    assert_eq!(t.files.len(), 32);
    for (path, bytes) in &want {
        assert!(path.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{path}");
        let got = &t.files[&PathBuf::from(format!("{path}.ndjson"))];
        assert!(got == bytes, "{path}.ndjson differs from the {path} events as read");
    }
}
