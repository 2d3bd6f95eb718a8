//! Tests of flattening, `Rows`, csv, tsv and logfmt: exact output and round trips.

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn val(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn rows(lines: &[&str]) -> Rows {
    let mut r = Rows::new();
    for l in lines {
        r.push(&val(l));
    }
    r
}

fn csv(r: &Rows, delimiter: u8) -> String {
    let mut out = Vec::new();
    write_csv(r, delimiter, true, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn flatten_cells(v: &Value) -> Vec<(String, Cell)> {
    flatten(v).0
}

fn logfmt(s: &str) -> String {
    let mut out = Vec::new();
    write_logfmt(&val(s), &mut out);
    String::from_utf8(out).unwrap()
}

fn names(cols: &[(String, Cell)]) -> Vec<&str> {
    cols.iter().map(|(k, _)| k.as_str()).collect()
}

#[test]
fn flatten_nests_objects_as_dotted_keys_in_order() {
    let cols = flatten_cells(&val(
        r#"{"z":1,"a":{"y":"s","b":{"c":null}},"m":[1,{"x":2}],"e":{},"t":true}"#,
    ));
    assert_eq!(names(&cols), ["z", "a.y", "a.b.c", "m", "e", "t"]);
    let texts: Vec<&str> = cols.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(texts, ["1", "s", "", r#"[1,{"x":2}]"#, "{}", "true"]);
    assert_eq!(cols[0].1, Cell::Number("1".into()));
    assert_eq!(cols[2].1, Cell::Null);
}

#[test]
fn flatten_keeps_exact_number_text() {
    let cols = flatten_cells(&val(r#"{"big":18446744073709551616,"f":1.0,"e":-0.50,"a":[1.50]}"#));
    let texts: Vec<&str> = cols.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(texts, ["18446744073709551616", "1.0", "-0.50", "[1.50]"]);
}

#[test]
fn flatten_non_object_is_one_value_column() {
    assert_eq!(
        flatten_cells(&json!("hi")),
        [("value".to_string(), Cell::Text("hi".into()))]
    );
    assert_eq!(
        flatten_cells(&json!([1, 2])),
        [("value".to_string(), Cell::Json("[1,2]".into()))]
    );
    assert_eq!(flatten_cells(&json!(null)), [("value".to_string(), Cell::Null)]);
    assert!(flatten_cells(&json!({})).is_empty());
}

#[test]
fn flatten_colliding_names_keep_first_place_and_last_value() {
    let (cols, merged) = flatten(&val(r#"{"a.b":1,"x":0,"a":{"b":2}}"#));
    assert!(merged);
    assert!(!flatten(&val(r#"{"a.b":1,"a":{"c":2}}"#)).1);
    assert_eq!(names(&cols), ["a.b", "x"]);
    assert_eq!(cols[0].1.as_str(), "2");
    assert_eq!(
        names(&flatten_cells(&val(r#"{"":1,"a":{"":2},"b":{"":{"c":3}}}"#))),
        ["", "a.", "b..c"]
    );
}

#[test]
fn rows_track_columns_first_seen_across_records() {
    let r = rows(&[r#"{"b":1,"a":2}"#, r#"{"c":3,"a":4}"#, r#"{"d":{"e":5},"b":6}"#, "{}"]);
    assert_eq!(r.columns(), ["b", "a", "c", "d.e"]);
    assert_eq!(r.len(), 4);
    assert!(!r.is_empty());
    let mut grid: Vec<Vec<String>> = Vec::new();
    r.each(|rec| {
        grid.push(rec.map(|c| c.as_str().to_owned()).collect());
        Ok(())
    })
    .unwrap();
    assert_eq!(
        grid,
        [
            ["1", "2", "", ""],
            ["", "4", "3", ""],
            ["6", "", "", "5"],
            ["", "", "", ""]
        ]
    );
    assert!(Rows::new().is_empty());
}

#[test]
fn csv_writes_header_then_records_with_missing_cells_empty() {
    let r = rows(&[r#"{"a":1,"b":"x"}"#, r#"{"b":"y","c":true}"#, r#"{"a":null}"#]);
    assert_eq!(csv(&r, b','), "a,b,c\n1,x,\n,y,true\n,,\n");
}

#[test]
fn csv_quotes_commas_quotes_and_newlines() {
    let r = rows(&[r#"{"a":"x,y","b":"say \"hi\"","c":"l1\nl2","d":"cr\r","e":[1,2]}"#]);
    assert_eq!(
        csv(&r, b','),
        "a,b,c,d,e\n\"x,y\",\"say \"\"hi\"\"\",\"l1\nl2\",\"cr\r\",\"[1,2]\"\n"
    );
}

#[test]
fn csv_keeps_leading_and_trailing_spaces_unquoted() {
    let r = rows(&[r#"{"a":" lead","b":"trail ","c":"  "}"#]);
    let text = csv(&r, b',');
    assert_eq!(text, "a,b,c\n lead,trail ,  \n");
    let mut rd = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let rec = rd.records().next().unwrap().unwrap();
    assert_eq!(rec.iter().collect::<Vec<_>>(), [" lead", "trail ", "  "]);
}

#[test]
fn csv_lone_empty_field_is_quoted_so_the_line_is_not_blank() {
    assert_eq!(csv(&rows(&["null", "1"]), b','), "value\n\"\"\n1\n");
}

#[test]
fn no_header_writes_only_the_records() {
    let r = rows(&[r#"{"a":1,"b":{"c":"x"}}"#, r#"{"b":{"c":"y"},"d":2}"#]);
    let text = |d| {
        let mut out = Vec::new();
        write_csv(&r, d, false, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert_eq!(text(b','), "1,x,\n,y,2\n");
    assert_eq!(text(b'\t'), "1\tx\t\n\ty\t2\n");
}

#[test]
fn csv_other_delimiter_quotes_that_delimiter() {
    let r = rows(&[r#"{"a":"x;y","b":"p,q"}"#]);
    assert_eq!(csv(&r, b';'), "a;b\n\"x;y\";p,q\n");
}

#[test]
fn csv_without_columns_writes_nothing() {
    assert_eq!(csv(&Rows::new(), b','), "");
    assert_eq!(csv(&rows(&["{}"]), b'\t'), "");
}

#[test]
fn tsv_escapes_tabs_newlines_and_backslashes_instead_of_quoting() {
    let r = rows(&[r#"{"a\tb":"x\ty","n":"l1\nl2\r","p":"C:\\dir","q":"say \"hi\", ok","e":""}"#]);
    assert_eq!(
        csv(&r, b'\t'),
        "a\\tb\tn\tp\tq\te\nx\\ty\tl1\\nl2\\r\tC:\\\\dir\tsay \"hi\", ok\t\n"
    );
    assert_eq!(csv(&rows(&["null"]), b'\t'), "value\n\n");
}

#[test]
fn logfmt_writes_bare_and_quoted_values() {
    assert_eq!(
        logfmt(r#"{"level":"info","msg":"hello world","n":1.50,"ok":false,"user":{"id":7}}"#),
        "level=info msg=\"hello world\" n=1.50 ok=false user.id=7\n"
    );
}

#[test]
fn logfmt_quotes_empty_quotes_equals_and_controls_and_leaves_null_bare() {
    assert_eq!(
        logfmt(r#"{"e":"","z":null,"q":"a\"b","eq":"a=b","nl":"a\nb","esc":"\u001b[1m","bs":"a\\b"}"#),
        "e=\"\" z= q=\"a\\\"b\" eq=\"a=b\" nl=\"a\\nb\" esc=\"\\u001b[1m\" bs=a\\b\n"
    );
}

#[test]
fn logfmt_arrays_are_quoted_json_and_bad_key_chars_become_underscores() {
    assert_eq!(
        logfmt(r#"{"tags":["a","b"],"my key":1,"a=b":2,"":3,"e":{}}"#),
        "tags=\"[\\\"a\\\",\\\"b\\\"]\" my_key=1 a_b=2 _=3 e={}\n"
    );
    assert_eq!(logfmt("42"), "value=42\n");
    assert_eq!(logfmt("{}"), "\n");
}

#[test]
fn write_errors_keep_their_kind() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let r = rows(&[r#"{"a":1}"#]);
    for d in [b',', b'\t'] {
        assert_eq!(
            write_csv(&r, d, true, &mut Broken).unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    }
}

fn unescape_tsv(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            other => panic!("bad escape {other:?}"),
        }
    }
    out
}

/// Random strings, half of them made of the characters that need quoting or escaping.
fn cell_strings() -> impl Strategy<Value = Vec<String>> {
    let tricky = r#"[ a,;"\r\n\t\\é日😀]{0,8}"#;
    prop::collection::vec(prop_oneof![any::<String>(), tricky], 1..6)
}

proptest! {
    #[test]
    fn csv_parses_back_to_the_same_cells(cells in cell_strings()) {
        let obj: serde_json::Map<String, Value> =
            cells.iter().enumerate().map(|(i, s)| (format!("c{i}"), Value::String(s.clone()))).collect();
        let mut r = Rows::new();
        r.push(&Value::Object(obj));
        let text = csv(&r, b',');
        let mut rd = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        let recs: Vec<Vec<String>> =
            rd.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect();
        prop_assert_eq!(recs.len(), 2);
        prop_assert_eq!(&recs[0], r.columns());
        prop_assert_eq!(&recs[1], &cells);
    }

    #[test]
    fn tsv_lines_split_and_unescape_to_the_same_cells(cells in cell_strings()) {
        let obj: serde_json::Map<String, Value> =
            cells.iter().enumerate().map(|(i, s)| (format!("c{i}"), Value::String(s.clone()))).collect();
        let mut r = Rows::new();
        r.push(&Value::Object(obj));
        let text = csv(&r, b'\t');
        let lines: Vec<&str> = text.strip_suffix('\n').unwrap().split('\n').collect();
        prop_assert_eq!(lines.len(), 2);
        let back: Vec<String> = lines[1].split('\t').map(unescape_tsv).collect();
        prop_assert_eq!(&back, &cells);
    }
}

/// Past its memory budget, `Rows` keeps the records in a temporary file: the csv, tsv, table
/// and markdown written from it are the same, columns first seen in spilled records included.
#[test]
fn spilled_rows_are_written_as_held_ones() {
    let lines = [
        r#"{"a":1,"b":"x"}"#,
        r#"{"a":2,"c":{"d":"line\nbreak"}}"#,
        r#"{"b":"\u001e\u001f\u0010","e":[1,2]}"#,
        "{}",
        r#"{"a":null,"f":true}"#,
    ];
    let held = rows(&lines);
    for budget in [0, 40] {
        let mut spilled = Rows::new();
        spilled.budget = budget;
        for l in &lines {
            spilled.push(&val(l));
        }
        spilled.seal().unwrap();
        assert!(spilled.spill.is_some() && spilled.records.len() < lines.len());
        assert_eq!(spilled.columns(), held.columns());
        for delimiter in [b',', b'\t'] {
            assert_eq!(csv(&spilled, delimiter), csv(&held, delimiter));
        }
        let table = |r: &Rows| {
            let mut out = Vec::new();
            crate::output::table::write_table(r, &mut out, None, crate::output::table::Look::default()).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(table(&spilled), table(&held));
        let markdown = |r: &Rows| {
            let mut out = Vec::new();
            crate::output::markdown::write_markdown(r, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(markdown(&spilled), markdown(&held));
    }
}
