//! NATS JetStream input against a real server (`--features nats`): the server is at
//! `EVQ_NATS_URL` (HOST:PORT); without it the tests say they were skipped, unless
//! `EVQ_REQUIRE_NATS=1`. Streams are made and filled here over the plain NATS protocol
//! (a few lines of text), each test with streams of its own.

use crate::common::evq;
use serde_json::Value;
use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The server's HOST:PORT, or None when the tests are to be skipped.
fn server() -> Option<String> {
    match std::env::var("EVQ_NATS_URL") {
        Ok(url) if !url.is_empty() => Some(url.trim_start_matches("nats://").trim_end_matches('/').to_string()),
        _ if std::env::var("EVQ_REQUIRE_NATS").as_deref() == Ok("1") => {
            panic!("EVQ_REQUIRE_NATS=1 but EVQ_NATS_URL is not set")
        }
        _ => {
            eprintln!("skipped: EVQ_NATS_URL not set");
            None
        }
    }
}

/// A stream name no other test (or earlier run) uses.
fn stream_name(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "EVQ_{what}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// How many [`Nats`] connections this process made: each one's number.
static CONNECTIONS: AtomicU32 = AtomicU32::new(0);

/// A minimal NATS client: publish, request, over one connection.
struct Nats {
    out: TcpStream,
    input: BufReader<TcpStream>,
    /// This connection's number in the process: its reply subjects are its own, so that tests
    /// running at once never take each other's replies.
    id: u32,
    inbox: u32,
}

impl Nats {
    fn connect(server: &str) -> Nats {
        let out = TcpStream::connect(server).expect("the NATS server accepts connections");
        out.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        let mut n = Nats {
            input: BufReader::new(out.try_clone().expect("the socket is cloned")),
            out,
            id: CONNECTIONS.fetch_add(1, Ordering::Relaxed),
            inbox: 0,
        };
        let info = n.line();
        assert!(info.starts_with("INFO"), "{info}");
        n.send(b"CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\n");
        n.flush();
        n
    }

    fn send(&mut self, data: &[u8]) {
        self.out.write_all(data).expect("the server takes the data");
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.input.read_line(&mut line).expect("the server answers");
        line.trim_end().to_string()
    }

    /// Waits until the server has handled everything sent so far.
    fn flush(&mut self) {
        self.send(b"PING\r\n");
        loop {
            match self.line().as_str() {
                "PONG" => return,
                l if l.starts_with("-ERR") => panic!("{l}"),
                _ => {}
            }
        }
    }

    fn publish(&mut self, subject: &str, payload: &[u8]) {
        self.send(format!("PUB {subject} {}\r\n", payload.len()).as_bytes());
        self.send(payload);
        self.send(b"\r\n");
    }

    /// Sends `payload` to `subject` and returns the reply, parsed.
    fn request(&mut self, subject: &str, payload: &str) -> Value {
        self.inbox += 1;
        let inbox = format!("_INBOX.evqtest.{}.{}.{}", std::process::id(), self.id, self.inbox);
        self.send(format!("SUB {inbox} {}\r\nUNSUB {} 1\r\n", self.inbox, self.inbox).as_bytes());
        self.send(format!("PUB {subject} {inbox} {}\r\n{payload}\r\n", payload.len()).as_bytes());
        loop {
            let line = self.line();
            if line == "PING" {
                self.send(b"PONG\r\n");
            } else if let Some(rest) = line.strip_prefix("MSG ") {
                let len: usize = rest.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("a length");
                let mut body = vec![0; len + 2];
                self.input.read_exact(&mut body).expect("the reply's body");
                return serde_json::from_slice(&body[..len]).expect("the reply is JSON");
            } else {
                assert!(!line.starts_with("-ERR"), "{line}");
            }
        }
    }

    /// A stream on `NAME.>` held in memory.
    fn create_stream(&mut self, name: &str) {
        let config = format!(r#"{{"name":"{name}","subjects":["{name}.>"],"storage":"memory"}}"#);
        let reply = self.request(&format!("$JS.API.STREAM.CREATE.{name}"), &config);
        assert!(reply.get("error").is_none(), "{reply}");
    }

    fn stream_messages(&mut self, name: &str) -> u64 {
        let info = self.request(&format!("$JS.API.STREAM.INFO.{name}"), "");
        info["state"]["messages"].as_u64().unwrap_or(0)
    }

    fn consumer_info(&mut self, stream: &str, durable: &str) -> Value {
        self.request(&format!("$JS.API.CONSUMER.INFO.{stream}.{durable}"), "")
    }

    /// Publishes `payloads` to `NAME.SUBJECT` and waits until the stream holds them all.
    fn fill(&mut self, name: &str, payloads: &[(String, String)]) {
        let before = self.stream_messages(name);
        for (subject, payload) in payloads {
            self.publish(&format!("{name}.{subject}"), payload.as_bytes());
        }
        self.flush();
        let want = before + payloads.len() as u64;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.stream_messages(name) < want {
            assert!(
                Instant::now() < deadline,
                "the stream {name} never held {want} messages"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn events(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            (
                format!("s{}", i % 3),
                format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(i % 40)),
            )
        })
        .collect()
}

fn run(args: &[&str]) -> (String, String, i32) {
    let out = evq()
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("evq runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn messages_are_events_with_subject_and_offset_and_are_acknowledged() {
    let Some(server) = server() else { return };
    let mut nats = Nats::connect(&server);
    let name = stream_name("basic");
    nats.create_stream(&name);
    nats.fill(&name, &events(30));
    let url = format!("nats://{server}/{name}?durable=d&batch=7");
    let (out, err, code) = run(&["set s = subject(), o = offset() | keep i, s, o", &url, "--stats"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(lines.len(), 30, "{out}");
    for (k, ev) in lines.iter().enumerate() {
        assert_eq!(ev["i"], k as u64, "in stream order");
        assert_eq!(ev["s"], format!("{name}.s{}", k % 3));
        assert_eq!(ev["o"], k as u64 + 1, "the stream sequence");
    }
    assert!(err.contains("30"), "{err}");
    let info = nats.consumer_info(&name, "d");
    assert_eq!(
        (info["num_pending"].as_u64(), info["num_ack_pending"].as_u64()),
        (Some(0), Some(0)),
        "{info}"
    );
    // Everything was acknowledged: a second run with the durable finds nothing.
    let (out, err, code) = run(&["where true", &url]);
    assert_eq!((out.as_str(), code), ("", 0), "{err}");
}

#[test]
fn batch_mode_stops_when_nothing_is_pending() {
    let Some(server) = server() else { return };
    let mut nats = Nats::connect(&server);
    let name = stream_name("empty");
    nats.create_stream(&name);
    let started = Instant::now();
    let (out, err, code) = run(&["where true", &format!("nats://{server}/{name}?deliver=all")]);
    assert_eq!((out.as_str(), code), ("", 0), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn deliver_all_rebuilds_state_with_fold() {
    let Some(server) = server() else { return };
    let mut nats = Nats::connect(&server);
    let name = stream_name("orders");
    nats.create_stream(&name);
    let orders = [
        r#"{"order_id":1,"status":"new"}"#,
        r#"{"order_id":2,"status":"new"}"#,
        r#"{"order_id":1,"status":"paid"}"#,
        r#"{"order_id":1,"status":"shipped"}"#,
    ];
    let payloads: Vec<_> = orders.iter().map(|o| ("o".to_string(), o.to_string())).collect();
    nats.fill(&name, &payloads);
    let url = format!("nats://{server}/{name}?deliver=all");
    for args in [vec![url.as_str()], vec!["--from", url.as_str()]] {
        // An ephemeral consumer reads the whole stream each time, given as a PATH or with --from.
        let mut all = vec!["fold by order_id | keep order_id, status"];
        all.extend(args);
        let (out, err, code) = run(&all);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(r#""order_id":1,"status":"shipped""#), "{out}");
        assert!(out.contains(r#""order_id":2,"status":"new""#), "{out}");
    }
}

#[test]
fn poison_messages_are_dead_letters_once_and_do_not_block() {
    let Some(server) = server() else { return };
    let mut nats = Nats::connect(&server);
    let name = stream_name("poison");
    nats.create_stream(&name);
    let mut payloads = events(40);
    for k in [3, 17, 39] {
        payloads[k].1 = format!("not json {k}");
    }
    nats.fill(&name, &payloads);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dl = dir.path().join("dead.ndjson");
    let url = format!("nats://{server}/{name}?durable=d&batch=10&ack_wait=1s");
    let dl_arg = dl.to_str().expect("a UTF-8 path");
    let (out, err, code) = run(&["where true", &url, "--dead-letter", dl_arg, "--stats"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 37, "{out}");
    let dead = fs::read_to_string(&dl).expect("dead letters");
    assert_eq!(dead.lines().count(), 3, "{dead}");
    for k in [3, 17, 39] {
        assert!(dead.contains(&format!("not json {k}")), "{dead}");
    }
    // Terminated, not redelivered: after the ack wait, nothing comes back.
    std::thread::sleep(Duration::from_millis(1500));
    let (out, err, code) = run(&["where true", &url, "--dead-letter", dl_arg]);
    assert_eq!((out.as_str(), code), ("", 0), "{err}");
    assert_eq!(fs::read_to_string(&dl).expect("dead letters"), "");
}

/// A process the test started: killed and reaped when the test ends, also by a failed assertion.
struct Running(Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a consumer writing to `out`.
fn consumer(url: &str, out: &Path) -> Running {
    start(&["where true", url], out)
}

/// Starts evq with `args`, writing its output to `out`.
fn start(args: &[&str], out: &Path) -> Running {
    Running(
        Command::new(assert_cmd::cargo::cargo_bin("evq"))
            .args(args)
            .stdout(Stdio::from(fs::File::create(out).expect("an output file")))
            .stderr(Stdio::null())
            .spawn()
            .expect("evq starts"),
    )
}

fn wait(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("evq can be waited on") {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn three_consumers_share_a_durable_and_a_killed_one_loses_nothing() {
    const N: usize = 20_000;
    const BATCH: usize = 100;
    let Some(server) = server() else { return };
    let mut nats = Nats::connect(&server);
    let name = stream_name("shared");
    nats.create_stream(&name);
    nats.fill(&name, &events(N));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("nats://{server}/{name}?durable=shared&batch={BATCH}&ack_wait=2s");
    let outs: Vec<_> = (0..3).map(|k| dir.path().join(format!("out{k}"))).collect();
    let mut children: Vec<Running> = outs.iter().map(|o| consumer(&url, o)).collect();
    // The first is killed once it has written some output, before it could acknowledge all.
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::metadata(&outs[0]).map_or(0, |m| m.len()) < 2_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    children[0].kill().expect("the first consumer is killed");
    let _ = children[0].wait();
    for child in &mut children[1..] {
        assert_eq!(
            wait(child, Duration::from_secs(120)),
            Some(0),
            "a consumer ends by itself"
        );
    }
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for out in &outs {
        let text = fs::read_to_string(out).expect("an output");
        // The kill may cut the last line short.
        for ev in text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
            *seen.entry(ev["i"].as_u64().expect("i")).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), N, "every event is in some output");
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!("{duplicates} duplicates");
    assert!(duplicates <= BATCH, "{duplicates} duplicates");
    let written: Vec<u64> = outs.iter().map(|o| fs::metadata(o).map_or(0, |m| m.len())).collect();
    eprintln!("written: {written:?}");
    assert!(
        written.iter().filter(|w| **w > 0).count() >= 2,
        "the work was shared: {written:?}"
    );
}

#[test]
fn sigterm_stops_after_acknowledging_what_was_written() {
    let Some(server) = server() else { return };
    let mut nats = Nats::connect(&server);
    let name = stream_name("term");
    nats.create_stream(&name);
    nats.fill(&name, &events(500));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("out");
    let url = format!("nats://{server}/{name}?durable=d&batch=50");
    let mut child = start(&["where true", "-F", &url], &out);
    // With -F it waits for more after the 500.
    let deadline = Instant::now() + Duration::from_secs(30);
    while fs::read_to_string(&out).map_or(0, |t| t.lines().count()) < 500 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().expect("evq can be waited on").is_none(),
        "-F keeps reading"
    );
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs")
            .success()
    );
    assert_eq!(wait(&mut child, Duration::from_secs(20)), Some(143));
    assert_eq!(fs::read_to_string(&out).expect("the output").lines().count(), 500);
    let info = nats.consumer_info(&name, "d");
    assert_eq!(
        (info["num_pending"].as_u64(), info["num_ack_pending"].as_u64()),
        (Some(0), Some(0)),
        "{info}"
    );
}

/// A server of the test's own, on a free port with its store in `dir`, so the test can
/// stop and start it; None (skipped) when `nats-server` is not installed.
fn own_server(dir: &Path, port: u16) -> Option<Running> {
    let child = Command::new("nats-server")
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        assert!(
            std::env::var("EVQ_REQUIRE_NATS").as_deref() != Ok("1"),
            "EVQ_REQUIRE_NATS=1 but nats-server cannot be started"
        );
        eprintln!("skipped: nats-server is not installed");
        return None;
    };
    let child = Running(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(child)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

fn lines_of(path: &Path) -> usize {
    fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

fn wait_for_lines(path: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while lines_of(path) < n {
        assert!(
            Instant::now() < deadline,
            "{} has {} lines, not {n}",
            path.display(),
            lines_of(path)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(child: &mut Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let _ = child.wait();
}

#[test]
fn a_server_restart_mid_run_loses_nothing() {
    if server().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let port = free_port();
    let Some(mut nats_server) = own_server(&store, port) else {
        return;
    };
    let server = format!("127.0.0.1:{port}");
    let name = stream_name("restart");
    let mut nats = Nats::connect(&server);
    let config = format!(r#"{{"name":"{name}","subjects":["{name}.>"],"storage":"file"}}"#);
    let reply = nats.request(&format!("$JS.API.STREAM.CREATE.{name}"), &config);
    assert!(reply.get("error").is_none(), "{reply}");
    let all = events(2000);
    nats.fill(&name, &all[..1000]);
    let out = dir.path().join("out");
    let url = format!("nats://{server}/{name}?durable=d&batch=50&ack_wait=2s");
    let mut evq = start(&["where true", "-F", &url], &out);
    wait_for_lines(&out, 1000);
    stop(&mut nats_server);
    std::thread::sleep(Duration::from_millis(500));
    let mut nats_server = own_server(&store, port).expect("nats-server starts again");
    let mut nats = Nats::connect(&server);
    nats.fill(&name, &all[1000..]);
    wait_for_lines(&out, 2000);
    std::thread::sleep(Duration::from_millis(300));
    stop(&mut evq);
    let text = fs::read_to_string(&out).expect("the output");
    let seen: std::collections::HashSet<u64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["i"].as_u64())
        .collect();
    assert_eq!(seen.len(), 2000, "every event came through the restart");
    // Acknowledgements in flight when the server stopped may be lost with it, so the
    // messages they covered can come again: at least once, never lost, never more than
    // what was read before the restart.
    assert!(text.lines().count() <= 2000 + 1000, "{} lines", text.lines().count());
    let info = nats.consumer_info(&name, "d");
    assert_eq!(info["num_pending"].as_u64(), Some(0), "{info}");
    stop(&mut nats_server);
}

#[test]
fn a_sort_keeps_its_messages_past_the_ack_wait_and_acknowledges_them_after_its_output_at_a_signal() {
    let Some(server) = server() else { return };
    let mut nats = Nats::connect(&server);
    let name = stream_name("held");
    nats.create_stream(&name);
    nats.fill(&name, &events(100));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("out");
    let url = format!("nats://{server}/{name}?durable=d&batch=30&ack_wait=1s");
    let mut child = start(&["sort i desc", "-F", &url], &out);
    // Three ack waits: without "in progress" acknowledgements the server would redeliver.
    std::thread::sleep(Duration::from_secs(3));
    let info = nats.consumer_info(&name, "d");
    assert_eq!(info["num_redelivered"].as_u64(), Some(0), "{info}");
    assert_eq!(
        info["num_ack_pending"].as_u64(),
        Some(100),
        "held until the output: {info}"
    );
    // A signal ends the sort with the output of what was read, which is then acknowledged.
    stop(&mut child);
    let text = fs::read_to_string(&out).expect("the output");
    let order: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON")["i"]
                .as_u64()
                .expect("i")
        })
        .collect();
    assert_eq!(order, (0..100).rev().collect::<Vec<u64>>());
    let info = nats.consumer_info(&name, "d");
    assert_eq!(info["num_ack_pending"].as_u64(), Some(0), "{info}");
    assert_eq!(info["num_pending"].as_u64(), Some(0), "{info}");
    assert_eq!(run(&["sort i desc", &url]).0, "", "nothing is left to deliver");
}

#[test]
fn a_sort_or_an_aggregate_holds_more_messages_than_the_servers_default_cap() {
    let Some(server) = server() else { return };
    let mut nats = Nats::connect(&server);
    let name = stream_name("many");
    nats.create_stream(&name);
    // More than the 1,000 messages a consumer may have unacknowledged by default.
    nats.fill(&name, &events(2500));
    let hold = |pipeline: &str, query: &str| {
        let out = evq()
            .args([pipeline, &format!("nats://{server}/{name}?{query}")])
            .timeout(Duration::from_secs(30))
            .output()
            .expect("evq runs");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(hold("count", "deliver=all"), "{\"count\":2500}\n");
    let sorted = hold("sort i desc | head 1", "durable=d");
    assert!(sorted.contains("\"i\":2499"), "{sorted}");
    let info = nats.consumer_info(&name, "d");
    assert_eq!(info["num_pending"].as_u64(), Some(0), "{info}");
}

#[test]
fn publishing_twice_leaves_no_duplicates_and_unacknowledged_publishes_fail_the_run() {
    let Some(server) = server() else { return };
    let mut nats = Nats::connect(&server);
    let name = stream_name("out");
    nats.create_stream(&name);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("in.ndjson");
    let text: String = (0..500)
        .map(|i| format!("{{\"i\":{i},\"t\":\"t{}\"}}\n", i % 4))
        .collect();
    fs::write(&input, text).expect("the input is written");
    let input = input.to_str().expect("a UTF-8 path");
    let to = format!("route by t | to \"nats://{server}/{name}.{{topic()}}\"");
    for _ in 0..2 {
        let (out, err, code) = run(&[&to, input]);
        assert_eq!((out.as_str(), code), ("", 0), "{err}");
        assert_eq!(
            nats.stream_messages(&name),
            500,
            "a re-run is deduplicated by its message ids"
        );
    }
    let url = format!("nats://{server}/{name}?deliver=all");
    let (out, err, code) = run(&["set s = subject() | keep i, s", &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 500);
    assert!(out.contains(&format!(r#"{{"i":5,"s":"{name}.t1"}}"#)), "{out}");
    // --msg-id: events with the same id are stored once.
    let (_, err, code) = run(&[&to, input, "--msg-id", "i % 10"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(nats.stream_messages(&name), 510);
    // No stream takes the subject: nothing is acknowledged, exit 4 with the counts.
    let (_, err, code) = run(&[&format!("to \"nats://{server}/NOSTREAM_{name}.x\""), input]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("500 of 500 messages were not acknowledged"), "{err}");
}

#[test]
fn a_missing_server_or_stream_is_one_error_line_and_exit_3() {
    let port = free_port();
    let (out, err, code) = run(&["where true", &format!("nats://127.0.0.1:{port}/S?durable=d")]);
    assert_eq!((out.as_str(), code), ("", 3), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("evq: nats://127.0.0.1:") && err.contains("cannot connect"),
        "{err}"
    );
    let Some(server) = server() else { return };
    let (_, err, code) = run(&["where true", &format!("nats://{server}/EVQ_NO_SUCH_STREAM?durable=d")]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("stream EVQ_NO_SUCH_STREAM") && err.contains("not found"),
        "{err}"
    );
}
