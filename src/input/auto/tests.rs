use super::*;

fn of(sample: &str) -> Detected {
    detect(sample.as_bytes(), true)
}

const COMBINED: &str =
    r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 203 "http://x/" "Mozilla/5.0""#;
const COMMON: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326"#;

fn lines_of(line: &str, n: usize) -> String {
    format!("{line}\n").repeat(n)
}

#[test]
fn ndjson_is_one_value_per_line() {
    assert_eq!(of("{\"a\":1}\n{\"a\":2}\n"), Detected::Ndjson);
    assert_eq!(of("\u{feff}\n\n{\"a\":1}\r\n"), Detected::Ndjson);
    assert_eq!(of("[1,2]\n[3]\n"), Detected::Ndjson, "arrays on many lines are NDJSON");
    // A bad line among good ones is a dead letter later, not another format.
    let mostly = format!("{{\"a\":1\n{}", lines_of("{\"a\":1}", 9));
    assert_eq!(of(&mostly), Detected::Ndjson);
    // Broken JSON lines stay NDJSON, so that they are dead letters.
    assert_eq!(of("{\"a\":\n{\"b\n{\"c\":1}\n"), Detected::Ndjson);
}

#[test]
fn json_spans_lines_or_holds_several_values_or_one_array() {
    assert_eq!(of("{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n"), Detected::Json);
    assert_eq!(of("[{\"a\":1},{\"a\":2}]"), Detected::Json);
    assert_eq!(of("[\n {\"a\":1},\n {\"a\":2}\n]\n"), Detected::Json);
    assert_eq!(of("{\"a\":1} {\"a\":2}\n"), Detected::Json);
}

#[test]
fn json_cut_by_the_sample_end_is_still_json() {
    let big = format!("[\n{}", "  {\"a\": 1},\n".repeat(10_000));
    let sample = &big.as_bytes()[..SAMPLE_BYTES];
    assert_eq!(detect(sample, false), Detected::Json);
    // A first line longer than the sample.
    let long = format!("{{\"a\":\"{}\"}}\n", "x".repeat(SAMPLE_BYTES));
    assert_eq!(detect(&long.as_bytes()[..SAMPLE_BYTES], false), Detected::Ndjson);
    let long = format!("[{}1]", "1,".repeat(SAMPLE_BYTES));
    assert_eq!(detect(&long.as_bytes()[..SAMPLE_BYTES], false), Detected::Json);
    // The same start as a whole input is broken JSON: not JSON, and not any other format.
    assert_eq!(of("[\n  {\"a\": 1},\n"), Detected::Lines);
}

#[test]
fn zeek_starts_with_its_separator_header() {
    assert_eq!(
        of("#separator \\x09\n#fields\tts\tuid\n#types\ttime\tstring\n1.5\tC1\n"),
        Detected::Zeek
    );
}

#[test]
fn access_logs_syslog_and_logfmt_are_recognised() {
    let syslog5424 = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 - An application event";
    let cases = [
        (COMBINED, Detected::Combined),
        (COMMON, Detected::Common),
        (
            "Mar 27 13:06:56 ip-10-77-20-248 sshd[1291]: Server listening on 0.0.0.0 port 22.",
            Detected::Syslog,
        ),
        (syslog5424, Detected::Syslog),
        ("level=info msg=\"started\" port=8080", Detected::Logfmt),
    ];
    for (line, want) in cases {
        assert_eq!(of(&lines_of(line, 3)), want, "{line}");
    }
}

#[test]
fn csv_and_tsv_need_a_header_and_rows_as_wide() {
    assert_eq!(of("name,n\n\"Smith, J\",42\nx,7\n"), Detected::Csv);
    assert_eq!(of("a\tb\tc\n1\t2\t3\n"), Detected::Tsv);
    assert_eq!(of("a,b\n1,2,3\n"), Detected::Lines, "ragged rows");
    assert_eq!(of("a,b\n"), Detected::Lines, "a header alone");
    assert_eq!(of("a\n1\n"), Detected::Lines, "one column");
    assert_eq!(of("Hello, world\nGoodbye, moon\n"), Detected::Lines, "prose");
    assert_eq!(of("first name,age\nAda Lovelace,36\n"), Detected::Csv);
}

#[test]
fn a_first_row_longer_than_the_sample_is_a_row_when_its_start_fits_the_header() {
    let cut = |input: String| detect(&input.as_bytes()[..SAMPLE_BYTES], false);
    let long = "y".repeat(SAMPLE_BYTES);
    assert_eq!(cut(format!("id,msg\n1,{long}\n2,x\n")), Detected::Csv);
    assert_eq!(cut(format!("id\tmsg\n1\t{long}\n")), Detected::Tsv);
    assert_eq!(
        cut(format!("id,msg\n1,2,{long}\n")),
        Detected::Lines,
        "wider than the header"
    );
    assert_eq!(cut(format!("id,msg\n{long}\n")), Detected::Lines, "one field so far");
}

#[test]
fn text_that_matches_nothing_is_lines_and_an_empty_input_ndjson() {
    assert_eq!(of("hello world\nsomething else\n"), Detected::Lines);
    assert_eq!(of("[2026-01-01 12:00:00] INFO started\n"), Detected::Lines);
    assert_eq!(of(""), Detected::Ndjson);
    assert_eq!(of("\n  \n"), Detected::Ndjson);
}

#[test]
fn the_sample_is_whole_lines_up_to_its_bounds() {
    // 40 syslog lines, then logfmt: only the first 32 lines count.
    let syslog = "Mar 27 13:06:56 host sshd[1]: ok";
    let input = lines_of(syslog, 40) + &lines_of("a=1 b=2", 200);
    let (sample, eof, mut again) = sample(Box::new(io::Cursor::new(input.clone().into_bytes())));
    assert!(lines_in(&sample) >= SAMPLE_LINES);
    assert_eq!(detect(&sample, eof), Detected::Syslog);
    // However the reads were cut: the first 32 lines alone say the same.
    assert_eq!(
        detect(&input.as_bytes()[..lines_of(syslog, 32).len()], false),
        Detected::Syslog
    );
    assert_eq!(whole_lines(input.as_bytes(), true).0, lines_of(syslog, 32).as_bytes());
    let mut all = Vec::new();
    again.read_to_end(&mut all).expect("reads from memory");
    assert_eq!(all, input.as_bytes(), "no byte is lost");
}

#[test]
fn a_read_error_comes_after_the_sample() {
    struct Broken(bool);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                return Err(io::Error::other("disk on fire"));
            }
            buf[..4].copy_from_slice(b"x=1\n");
            Ok(4)
        }
    }
    let (sample, _, mut again) = sample(Box::new(Broken(false)));
    assert_eq!(sample, b"x=1\n");
    let mut all = Vec::new();
    let err = again.read_to_end(&mut all).expect_err("the error comes back");
    assert_eq!(err.to_string(), "disk on fire");
    assert_eq!(all, b"x=1\n");
}

#[test]
fn chosen_formats_are_per_input() {
    let chosen = Chosen::new(2);
    chosen.set(1, Detected::Syslog);
    assert_eq!(chosen.get(0), Detected::Ndjson);
    assert_eq!(chosen.get(1), Detected::Syslog);
    assert_eq!(chosen.get(7), Detected::Ndjson);
    for d in Detected::ALL {
        chosen.set(0, d);
        assert_eq!(chosen.get(0), d);
    }
}
