//! Tests of syslog parsing: RFC 3164 and 5424 lines, tricky tags, and the real auth.log of `shared/corpus`.

use super::*;
use serde_json::json;
use std::collections::HashMap;

fn syslog(s: &str) -> Option<Value> {
    parse(s, Year::fixed(2026)).map(Value::Object)
}

#[test]
fn rfc3164_typical_line() {
    assert_eq!(
        syslog("Mar 27 13:06:56 ip-10-77-20-248 sshd[1291]: Server listening on 0.0.0.0 port 22."),
        Some(
            json!({"timestamp": "2026-03-27T13:06:56", "host": "ip-10-77-20-248", "program": "sshd", "pid": 1291,
                    "message": "Server listening on 0.0.0.0 port 22."})
        )
    );
}

#[test]
fn rfc3164_with_priority() {
    let v = syslog("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8").expect("parses");
    assert_eq!(
        v,
        json!({"priority": 34, "facility": 4, "severity": 2, "timestamp": "2026-10-11T22:14:15", "host": "mymachine",
               "program": "su", "pid": null, "message": "'su root' failed for lonvick on /dev/pts/8"})
    );
}

#[test]
fn rfc3164_padded_and_unpadded_days() {
    for line in [
        "Apr  1 00:00:01 h cron[7]: x",
        "Apr 01 00:00:01 h cron[7]: x",
        "Apr 1 00:00:01 h cron[7]: x",
    ] {
        assert_eq!(
            syslog(line).expect("parses")["timestamp"],
            json!("2026-04-01T00:00:01"),
            "{line}"
        );
    }
}

#[test]
fn rfc3164_fractional_seconds_and_rfc3339_timestamps() {
    let v = syslog("Mar  7 09:01:02.123 h app: m").expect("fraction");
    assert_eq!(v["timestamp"], json!("2026-03-07T09:01:02.123"));
    let v = syslog("2026-03-27T13:06:56.123456+00:00 ip-1 sshd[5]: Accepted key").expect("rsyslog precise");
    assert_eq!(
        (&v["timestamp"], &v["program"], &v["pid"]),
        (&json!("2026-03-27T13:06:56.123456+00:00"), &json!("sshd"), &json!(5))
    );
}

#[test]
fn rfc3164_invalid_dates_do_not_match() {
    for line in [
        "Feb 29 10:00:00 h a: m",
        "Mar 32 10:00:00 h a: m",
        "Mar 27 24:00:00 h a: m",
        "Foo 27 10:00:00 h a: m",
        "Mar 27 10:00:60 h a: m",
        "2003-10-11T22:14:60Z h a: m",
        "2003-10-11T22:14:15+25:00 h a: m",
    ] {
        assert!(syslog(line).is_none(), "{line}");
    }
    assert!(syslog("Mar 27 23:59:60 h a: m").is_some(), "a leap second");
    assert!(
        syslog("<34>1 2003-10-11T23:59:60Z host su - ID47 - m").is_some(),
        "a leap second"
    );
    assert!(syslog("<34>1 - host su - ID47 - m").is_some(), "no time");
    assert!(parse("Feb 29 10:00:00 h a: m", Year::fixed(2028)).is_some());
}

#[test]
fn rfc3164_tags_without_pid_colon_or_program() {
    let v = syslog("Mar 27 13:06:56 h kernel: [ 0.000000] Linux version").expect("kernel");
    assert_eq!(
        (&v["program"], &v["pid"], &v["message"]),
        (&json!("kernel"), &Value::Null, &json!("[ 0.000000] Linux version"))
    );
    let v = syslog("Mar 27 13:06:56 h postfix/smtpd[99] connect from x").expect("no colon");
    assert_eq!(
        (&v["program"], &v["pid"], &v["message"]),
        (&json!("postfix/smtpd"), &json!(99), &json!("connect from x"))
    );
    let v = syslog("Mar 27 13:06:56 h 12:30 free text").expect("no tag");
    assert_eq!(
        (&v["program"], &v["pid"], &v["message"]),
        (&Value::Null, &Value::Null, &json!("12:30 free text"))
    );
    let v = syslog("Mar 27 13:06:56 h -- MARK --").expect("no tag");
    assert_eq!((&v["program"], &v["message"]), (&Value::Null, &json!("-- MARK --")));
    let v = syslog("Mar 27 13:06:56 h app[worker-1]: hi").expect("text pid");
    assert_eq!(v["pid"], json!("worker-1"));
    let v = syslog("Mar 27 13:06:56 h app:").expect("empty message");
    assert_eq!((&v["program"], &v["message"]), (&json!("app"), &json!("")));
}

#[test]
fn rfc3164_tag_ends_at_a_space_without_pid_or_colon() {
    let v = syslog("<13>Oct 11 22:14:15 combo syslogd 1.4.1: restart.").expect("parses");
    assert_eq!(
        (&v["host"], &v["program"], &v["pid"], &v["message"]),
        (
            &json!("combo"),
            &json!("syslogd"),
            &Value::Null,
            &json!("1.4.1: restart.")
        )
    );
    let v = syslog("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!").expect("RFC 3164 example");
    assert_eq!((&v["program"], &v["message"]), (&json!("Use"), &json!("the BFG!")));
    let v = syslog("Mar 27 13:06:56 h systemd-logind New seat").expect("word tag");
    assert_eq!(
        (&v["program"], &v["message"]),
        (&json!("systemd-logind"), &json!("New seat"))
    );
    let v = syslog("Mar 27 13:06:56 h restart").expect("tag alone");
    assert_eq!((&v["program"], &v["message"]), (&json!("restart"), &json!("")));
}

#[test]
fn rfc3164_missing_host_is_recognised_by_the_tag() {
    let v = syslog("<13>Mar 27 13:06:56 sshd[12]: hello").expect("parses");
    assert_eq!(
        (&v["host"], &v["program"], &v["message"]),
        (&Value::Null, &json!("sshd"), &json!("hello"))
    );
    let v = syslog("Mar 27 13:06:56 fe80:: sshd[12]: hello").expect("ipv6 host");
    assert_eq!(v["host"], json!("fe80::"));
}

#[test]
fn rfc3164_missing_parts_do_not_match() {
    for line in [
        "",
        "Mar 27 13:06:56",
        "Mar 27 13:06:56 ",
        "Mar 27 13:06 h a: m",
        "<999>Mar 27 13:06:56 h a: m",
        "<>x",
        "<12",
    ] {
        assert!(syslog(line).is_none(), "{line:?}");
    }
}

#[test]
fn rfc5424_typical_line() {
    let line = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed";
    assert_eq!(
        syslog(line),
        Some(
            json!({"priority": 34, "facility": 4, "severity": 2, "version": 1, "timestamp": "2003-10-11T22:14:15.003Z",
                    "host": "mymachine.example.com", "program": "su", "pid": null, "msgid": "ID47",
                    "structured_data": null, "message": "'su root' failed"})
        )
    );
}

#[test]
fn rfc5424_structured_data_with_escapes() {
    let sd =
        r#"[exampleSDID@32473 iut="3" eventSource="App \"x\" ]" eventID="1011"][examplePriority@32473 class="high"]"#;
    let line = format!("<165>1 2003-10-11T22:14:15.003Z host evntslog 8710 - {sd} An application event");
    let v = syslog(&line).expect("parses");
    assert_eq!(v["structured_data"], json!(sd));
    assert_eq!(
        (&v["pid"], &v["msgid"], &v["message"]),
        (&json!(8710), &Value::Null, &json!("An application event"))
    );
    assert_eq!((&v["facility"], &v["severity"]), (&json!(20), &json!(5)));
}

#[test]
fn rfc5424_without_message_and_nil_fields() {
    let v = syslog("<0>1 - - - - - -").expect("all nil");
    assert_eq!(
        v,
        json!({"priority": 0, "facility": 0, "severity": 0, "version": 1, "timestamp": null, "host": null,
               "program": null, "pid": null, "msgid": null, "structured_data": null, "message": null})
    );
    assert_eq!(
        syslog("<0>1 - - - - - - ").expect("empty message")["message"],
        json!("")
    );
}

#[test]
fn rfc5424_malformed_does_not_match() {
    for line in [
        "<34>1 2003-10-11T22:14:15Z host su - ID47",
        "<34>1 2003-10-11T22:14:15Z host su - ID47 [unterminated x=\"]\"",
        "<34>1 2003-10-11T22:14:15Z host su - ID47 -x",
        "<34>1 2003-10-11T22:14:15Z  host su - ID47 - m",
        "<34>1 2003-10-11T22:14:15Z host su - ID47 nosd m",
        "<34>1 2003-13-11T22:14:15Z host su - ID47 - m",
        "<34>1 2003-10-11T22:14:60Z host su - ID47 - m",
        "<34>1 2003-10-11T22:14:15+25:00 host su - ID47 - m",
        "<34>1 2003-10-11T22:14:15 host su - ID47 - m",
        "<34>1 2003-10-11 host su - ID47 - m",
    ] {
        assert!(syslog(line).is_none(), "{line}");
    }
}

#[test]
fn utf8_replacement_chars_and_nul_bytes() {
    let v = syslog("Mar 27 13:06:56 h\u{0}st pr\u{fffd}g[1]: caf\u{e9} \u{0} \u{1F600}").expect("parses");
    assert_eq!(
        (&v["host"], &v["program"], &v["message"]),
        (
            &json!("h\u{0}st"),
            &json!("pr\u{fffd}g"),
            &json!("caf\u{e9} \u{0} \u{1F600}")
        )
    );
    assert!(syslog("Mär 27 13:06:56 h a: m").is_none());
}

/// The real auth.log of `shared/corpus`: every line parses, and per-program counts agree with a plain split.
#[test]
fn corpus_ssh_auth_log() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/ssh-authlog/auth.log");
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipped: {path} is absent");
        return;
    };
    let mut ours: HashMap<String, usize> = HashMap::new();
    let mut split: HashMap<String, usize> = HashMap::new();
    let mut lines = 0;
    for (n, line) in text.lines().enumerate() {
        lines += 1;
        let f = parse(line, Year::fixed(2026)).unwrap_or_else(|| panic!("line {} does not parse: {line}", n + 1));
        assert!(
            f["timestamp"].as_str().is_some_and(|t| t.starts_with("2026-")),
            "line {}",
            n + 1
        );
        let program = f["program"].as_str().expect("every line has a tag");
        *ours.entry(program.to_owned()).or_default() += 1;
        let word = line.split_whitespace().nth(4).expect("fifth word");
        let name = word.split(['[', ':']).next().expect("split yields one part");
        *split.entry(name.to_owned()).or_default() += 1;
    }
    assert_eq!(lines, 7121);
    assert_eq!(ours, split);
    assert_eq!(ours["sshd"], 4095);
    assert_eq!(ours["CRON"], 1264);
    assert_eq!(ours["sudo"], 557);
    assert_eq!(ours["systemd-logind"], 452);
}
