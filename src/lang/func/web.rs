//! Functions for text from the web and the network: URL and base64 coding, digests,
//! URLs and IP networks.

use super::Func;
use serde_json::{Map, Value};
use std::net::IpAddr;

/// Characters other than RFC 3986's unreserved ones are percent-encoded.
const URL_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(super) fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URL_SET).to_string()
}

/// `%XX` decoded; `null` when the bytes are not UTF-8. `+` stays `+` (see `parse_url`).
pub(super) fn url_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

pub(super) fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Standard or URL-safe alphabet, padded or not; `null` unless the bytes are UTF-8 text.
pub(super) fn base64_decode(s: &str) -> Option<String> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT};
    let s = s.trim();
    let bytes = STANDARD_PAD_INDIFFERENT
        .decode(s)
        .or_else(|_| URL_SAFE_PAD_INDIFFERENT.decode(s))
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The hex digest of the text.
pub(super) fn digest(f: Func, s: &str) -> String {
    use sha2::Digest;
    let bytes: Vec<u8> = match f {
        Func::Md5 => md5::Md5::digest(s).to_vec(),
        Func::Sha1 => sha1::Sha1::digest(s).to_vec(),
        _ => sha2::Sha256::digest(s).to_vec(),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `scheme://user@host:port/path?query#fragment`, or a bare `/path?query`, as an object;
/// the query is an object of its decoded parameters (`+` is a space; a repeated name
/// gives an array).
pub(super) fn parse_url(s: &str) -> Option<Value> {
    let (s, fragment) = split_once_opt(s, '#');
    let (s, query) = split_once_opt(s, '?');
    let (scheme, rest) = match s.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => (Some(scheme), rest),
        Some(_) => return None,
        None if s.starts_with('/') || s.is_empty() => (None, ""),
        None => return None,
    };
    let (authority, path) = match scheme {
        Some(_) => rest.find('/').map_or((rest, ""), |i| rest.split_at(i)),
        None => ("", s),
    };
    let (host, port) = host_port(authority.rsplit_once('@').map_or(authority, |(_, h)| h))?;
    let text = |t: Option<&str>| t.map_or(Value::Null, |t| Value::String(t.to_string()));
    let mut m = Map::new();
    m.insert("scheme".into(), text(scheme));
    m.insert("host".into(), text((!host.is_empty()).then_some(host)));
    m.insert("port".into(), port.map_or(Value::Null, Value::from));
    m.insert(
        "path".into(),
        Value::String(url_decode(path).unwrap_or_else(|| path.to_string())),
    );
    m.insert("query".into(), Value::Object(query_params(query.unwrap_or(""))));
    m.insert("fragment".into(), text(fragment));
    Some(Value::Object(m))
}

fn split_once_opt(s: &str, c: char) -> (&str, Option<&str>) {
    s.split_once(c).map_or((s, None), |(a, b)| (a, Some(b)))
}

fn is_scheme(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// `host:port`, `[::1]:8080`, `host`; `None` when the port is not a number.
fn host_port(a: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match a.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => split_once_opt(a, ':'),
    };
    match port {
        None | Some("") => Some((host, None)),
        Some(p) => Some((host, Some(p.parse().ok()?))),
    }
}

fn query_params(q: &str) -> Map<String, Value> {
    let mut m = Map::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |t: &str| {
            let t = t.replace('+', " ");
            url_decode(&t).unwrap_or(t)
        };
        let (k, v) = (decode(k), Value::String(decode(v)));
        match m.get_mut(&k) {
            Some(Value::Array(a)) => a.push(v),
            Some(old) => *old = Value::Array(vec![old.take(), v]),
            None => {
                m.insert(k, v);
            }
        }
    }
    m
}

/// `"10.0.0.0/8"`, `"2001:db8::/32"` or one address: the network and its prefix length.
pub(crate) fn parse_cidr(s: &str) -> Option<(IpAddr, u32)> {
    let (addr, len) = split_once_opt(s.trim(), '/');
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l.parse().ok().filter(|l| *l <= max)?,
        None => max,
    };
    Some((addr, len))
}

/// True when `ip` is inside `cidr`; IPv4 and IPv6 never match each other.
pub(super) fn ip_in(ip: &str, cidr: &str) -> Option<bool> {
    let ip: IpAddr = ip.trim().parse().ok()?;
    let (net, len) = parse_cidr(cidr)?;
    let bits = |a: IpAddr| match a {
        IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
        IpAddr::V6(v) => u128::from(v),
    };
    if ip.is_ipv4() != net.is_ipv4() {
        return Some(false);
    }
    // IPv4 addresses sit in the top 32 bits, so a prefix counts from the top either way.
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
    Some(bits(ip) & mask == bits(net) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::eval::tests::check_table;

    const EV: &str = r#"{"req":"GET /api/v1/users?id=7 HTTP/1.1","s":"a-b-c","ip":"10.1.2.3","ip6":"2001:db8::1","n":42,"f":3.14159,"pct":"caf%C3%A9%20x","pat":"\\d+","bad":"("}"#;

    #[test]
    fn codings_and_digests() {
        check_table(&[
            ("url_decode(pct)", EV, r#""café x""#),
            (r#"url_encode("café x/y")"#, EV, r#""caf%C3%A9%20x%2Fy""#),
            (r#"url_decode("%FF")"#, EV, "null"),
            (r#"base64_encode("héllo")"#, EV, r#""aMOpbGxv""#),
            (r#"base64_decode("aMOpbGxv")"#, EV, r#""héllo""#),
            (r#"base64_decode("aGk")"#, EV, r#""hi""#),
            (r#"base64_decode("_-8")"#, EV, "null"),
            (r#"base64_decode("!!")"#, EV, "null"),
            (r#"md5("abc")"#, EV, r#""900150983cd24fb0d6963f7d28e17f72""#),
            (r#"sha1("abc")"#, EV, r#""a9993e364706816aba3e25717850c26c9cd0d89d""#),
            (
                r#"sha256("abc")"#,
                EV,
                r#""ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad""#,
            ),
            ("md5(n)", EV, "null"),
        ]);
    }

    #[test]
    fn urls_give_their_parts_and_query_parameters() {
        check_table(&[
            (
                r#"parse_url("https://u:p@example.com:8443/a%20b?q=1&q=2&r=x+y&flag#top")"#,
                EV,
                r#"{"scheme":"https","host":"example.com","port":8443,"path":"/a b","query":{"q":["1","2"],"r":"x y","flag":""},"fragment":"top"}"#,
            ),
            (
                r#"parse_url("http://[::1]/")"#,
                EV,
                r#"{"scheme":"http","host":"::1","port":null,"path":"/","query":{},"fragment":null}"#,
            ),
            (r#"parse_url("/api?id=7").query.id"#, EV, r#""7""#),
            (r#"parse_url("http://h:port/")"#, EV, "null"),
            (r#"parse_url("not a url")"#, EV, "null"),
        ]);
    }

    #[test]
    fn ip_in_tests_ipv4_and_ipv6_networks() {
        check_table(&[
            (r#"ip_in(ip, "10.0.0.0/8")"#, EV, "true"),
            (r#"ip_in(ip, "10.1.2.0/31")"#, EV, "false"),
            (r#"ip_in(ip, "0.0.0.0/0")"#, EV, "true"),
            (r#"ip_in(ip, "10.1.2.3")"#, EV, "true"),
            (r#"ip_in(ip6, "2001:db8::/32")"#, EV, "true"),
            (r#"ip_in(ip6, "2001:db9::/32")"#, EV, "false"),
            (r#"ip_in(ip6, "0.0.0.0/0")"#, EV, "false"),
            (r#"ip_in(ip, ["192.168.0.0/16", "10.0.0.0/8"])"#, EV, "true"),
            (r#"ip_in("nope", "10.0.0.0/8")"#, EV, "null"),
            (r"ip_in(ip, s)", EV, "null"),
        ]);
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("::/129").is_none());
    }
}
