//! Tests on the real event data in ../shared/corpus; each skips cleanly when it is absent.

use crate::common::{corpus, evq};
use serde_json::Value;
use std::io::Read;
use std::path::Path;

fn gunzip(p: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn stdout_of(args: &[&str]) -> Vec<u8> {
    let out = evq().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `_path` counts from ../shared/corpus/README.md.
const ZEEK_PATH_COUNTS: [(&str, usize); 5] = [
    ("dns", 53_615),
    ("ssl", 49_474),
    ("weird", 24_202),
    ("analyzer", 16_461),
    ("rdp", 4_122),
];

const MORDOR: &str = "mordor-windows/empire_dcom_shellwindows_stager.json.gz";

#[test]
fn mordor_where_true_reproduces_the_input_byte_for_byte() {
    let Some(p) = corpus(MORDOR) else { return };
    let out = stdout_of(&["where true", p.to_str().unwrap()]);
    assert_eq!(out, gunzip(&p));
}

#[test]
fn mordor_set_keeps_every_value_and_number_text() {
    let Some(p) = corpus(MORDOR) else { return };
    let input = gunzip(&p);
    let out = stdout_of(&["set seen = true", p.to_str().unwrap()]);
    let needle = "\"Keywords\":-9223372036854775808";
    let in_text = String::from_utf8(input).unwrap();
    let out_text = String::from_utf8(out).unwrap();
    assert!(in_text.contains(needle));
    assert_eq!(out_text.matches(needle).count(), in_text.matches(needle).count());
    let (ins, outs): (Vec<&str>, Vec<&str>) = (in_text.lines().collect(), out_text.lines().collect());
    assert_eq!(ins.len(), 32_706);
    assert_eq!(ins.len(), outs.len());
    for (i, o) in ins.iter().zip(&outs) {
        let mut o: Value = serde_json::from_str(o).unwrap();
        let i: Value = serde_json::from_str(i).unwrap();
        let obj = o.as_object_mut().unwrap();
        assert_eq!(obj.shift_remove("seen"), Some(Value::Bool(true)));
        assert_eq!(
            obj.keys().collect::<Vec<_>>(),
            i.as_object().unwrap().keys().collect::<Vec<_>>()
        );
        assert_eq!(o, i);
    }
}

#[test]
fn mordor_channel_counts_match_the_corpus_readme() {
    let Some(p) = corpus(MORDOR) else { return };
    let f = p.to_str().unwrap();
    for (channel, n) in [
        ("Microsoft-Windows-Sysmon/Operational", 31_082),
        ("security", 776),
        ("Security", 224),
    ] {
        let out = stdout_of(&[&format!("where Channel == \"{channel}\""), f]);
        assert_eq!(memchr::memchr_iter(b'\n', &out).count(), n, "{channel}");
    }
}

#[test]
fn zeek_directory_reads_every_event_in_path_order() {
    let Some(dir) = corpus("zeek-wrccdc2018") else { return };
    let out = stdout_of(&["where true", dir.to_str().unwrap()]);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "gz"))
        .collect();
    files.sort();
    let expected: Vec<u8> = files.iter().flat_map(|f| gunzip(f)).collect();
    assert_eq!(memchr::memchr_iter(b'\n', &out).count(), 158_439);
    assert_eq!(out, expected);
}

#[test]
fn zeek_dotted_keys_and_path_counts() {
    let Some(dir) = corpus("zeek-wrccdc2018") else { return };
    let d = dir.to_str().unwrap();
    for (path, n) in ZEEK_PATH_COUNTS {
        let out = stdout_of(&[&format!("where _path == \"{path}\""), d]);
        assert_eq!(memchr::memchr_iter(b'\n', &out).count(), n, "{path}");
    }
    let out = stdout_of(&[
        "where _path == \"dns\" and exists(`id.orig_h`) | keep `id.orig_h` | head 1",
        d,
    ]);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert!(v["id.orig_h"].is_string(), "{v}");
}

fn counts(args: &[&str]) -> std::collections::HashMap<String, u64> {
    let out = String::from_utf8(stdout_of(args)).unwrap();
    out.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let obj = v.as_object().unwrap();
            let (key, _) = obj.iter().next().unwrap();
            (obj[key].as_str().unwrap().to_string(), obj["count"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn zeek_count_by_path_matches_the_corpus_readme() {
    let Some(dir) = corpus("zeek-wrccdc2018") else { return };
    let c = counts(&["count by _path", dir.to_str().unwrap()]);
    assert_eq!(c.len(), 32);
    assert_eq!(c.values().sum::<u64>(), 158_439);
    for (path, n) in ZEEK_PATH_COUNTS {
        assert_eq!(c[path], n as u64, "{path}");
    }
    // Sorted by count, largest first.
    let out = String::from_utf8(stdout_of(&["count by _path | head 1", dir.to_str().unwrap()])).unwrap();
    assert_eq!(out, "{\"_path\":\"dns\",\"count\":53615}\n");
}

#[test]
fn mordor_count_by_channel_matches_the_corpus_readme() {
    let Some(p) = corpus(MORDOR) else { return };
    let c = counts(&["count by Channel", p.to_str().unwrap()]);
    assert_eq!(c["Microsoft-Windows-Sysmon/Operational"], 31_082);
    assert_eq!(c["security"], 776);
    assert_eq!(c["Security"], 224);
    assert_eq!(c.values().sum::<u64>(), 32_706);
}
