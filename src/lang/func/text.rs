//! String and text functions: regex capture and substitution, `format`, padding,
//! URL and base64 coding, digests, URLs, IP networks, numbers from text and math.

use super::{Func, num_val};
use crate::lang::value::{Numeric, Val};
use regex::Regex;
use serde_json::{Map, Value};
use std::net::IpAddr;

/// The most bytes `repeat` and the paddings may make, so one event cannot exhaust memory.
const MAX_TEXT: usize = 1 << 20;

/// `capture` (named groups as an object) and `match` (the first match's text).
pub(super) fn regex_find(f: Func, s: &str, re: &Regex) -> Val<'static> {
    let Some(caps) = re.captures(s) else { return Val::Null };
    if f == Func::Match {
        return caps.get(0).map_or(Val::Null, |m| Val::string(m.as_str().to_string()));
    }
    let mut m = Map::new();
    for name in re.capture_names().flatten() {
        let v = caps
            .name(name)
            .map_or(Value::Null, |g| Value::String(g.as_str().to_string()));
        m.insert(name.to_string(), v);
    }
    Val::Json(std::borrow::Cow::Owned(Value::Object(m)))
}

/// `sub` (the first match) and `gsub` (every match); `$1` and `${name}` name groups.
pub(super) fn substitute(f: Func, s: &str, re: &Regex, with: &str) -> Val<'static> {
    let out = if f == Func::Sub {
        re.replace(s, with)
    } else {
        re.replace_all(s, with)
    };
    Val::string(out.into_owned())
}

/// One `%` conversion of `format`: flags, width, precision and the letter.
#[derive(Debug, PartialEq)]
struct Spec {
    left: bool,
    zero: bool,
    width: usize,
    prec: Option<usize>,
    conv: char,
}

/// Reads a conversion after `%`; `None` when it is not one `format` knows.
fn spec(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<Spec> {
    let mut s = Spec {
        left: false,
        zero: false,
        width: 0,
        prec: None,
        conv: 's',
    };
    while let Some(&c) = chars.peek().filter(|c| matches!(c, '-' | '0')) {
        s.left |= c == '-';
        s.zero |= c == '0';
        chars.next();
    }
    let number = |chars: &mut std::iter::Peekable<std::str::Chars>| {
        let mut n: usize = 0;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            n = n.checked_mul(10)?.checked_add(d as usize)?;
            chars.next();
        }
        (n <= 1000).then_some(n)
    };
    s.width = number(chars)?;
    if chars.peek() == Some(&'.') {
        chars.next();
        s.prec = Some(number(chars)?);
    }
    s.conv = chars.next().filter(|c| "sdfx%".contains(*c))?;
    Some(s)
}

/// True when every `%` of `fmt` starts a conversion `format` knows.
pub(crate) fn format_ok(fmt: &str) -> bool {
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' && spec(&mut chars).is_none() {
            return false;
        }
    }
    true
}

/// `format(fmt, args…)`: sprintf's `%s %d %f %.Nf %x %05d %-10s %%`; `null` when a
/// conversion has no argument or the wrong type.
pub(super) fn format(fmt: &str, args: &[Val]) -> Option<String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let s = spec(&mut chars)?;
        if s.conv == '%' {
            out.push('%');
            continue;
        }
        let body = convert(&s, args.next()?)?;
        pad_to(&mut out, &body, &s);
    }
    Some(out)
}

fn convert(s: &Spec, v: &Val) -> Option<String> {
    if s.conv != 's' && !v.numeric()?.as_f64().is_finite() {
        return None;
    }
    Some(match s.conv {
        's' => {
            let t = v.to_text();
            match s.prec {
                Some(p) => t.chars().take(p).collect(),
                None => t.into_owned(),
            }
        }
        'd' => match v.numeric()? {
            Numeric::I(i) => i.to_string(),
            Numeric::F(f) => format!("{}", f.trunc()),
        },
        'x' => match v.numeric()? {
            Numeric::I(i) if i >= 0 => format!("{i:x}"),
            Numeric::I(i) => format!("-{:x}", i.unsigned_abs()),
            Numeric::F(_) => return None,
        },
        _ => format!("{:.*}", s.prec.unwrap_or(6), v.numeric()?.as_f64()),
    })
}

fn pad_to(out: &mut String, body: &str, s: &Spec) {
    let n = body.chars().count();
    if n >= s.width {
        out.push_str(body);
    } else if s.left {
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', s.width - n));
    } else if s.zero && s.conv != 's' {
        // Zeros go after the sign: %05d of -42 is -0042.
        let (sign, digits) = body.split_at(usize::from(body.starts_with('-')));
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', s.width - n));
        out.push_str(digits);
    } else {
        out.extend(std::iter::repeat_n(' ', s.width - n));
        out.push_str(body);
    }
}

/// `pad_left` / `pad_right`: `s` widened to `width` characters with `fill` (one character).
pub(super) fn pad(f: Func, s: &str, width: &Val, fill: &str) -> Option<String> {
    let Numeric::I(width) = width.numeric()? else {
        return None;
    };
    let mut fill_chars = fill.chars();
    let (Some(c), None) = (fill_chars.next(), fill_chars.next()) else {
        return None;
    };
    let width = usize::try_from(width.max(0)).ok()?;
    let missing = width.saturating_sub(s.chars().count());
    if missing.saturating_mul(c.len_utf8()) > MAX_TEXT {
        return None;
    }
    let fill: String = std::iter::repeat_n(c, missing).collect();
    Some(if f == Func::PadLeft {
        fill + s
    } else {
        format!("{s}{fill}")
    })
}

/// `repeat(s, n)`; `null` past a megabyte.
pub(super) fn repeat(s: &str, n: &Val) -> Option<String> {
    let Numeric::I(n) = n.numeric()? else { return None };
    let n = usize::try_from(n).ok()?;
    (s.len().saturating_mul(n) <= MAX_TEXT).then(|| s.repeat(n))
}

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
        .map(|c| c.into_owned())
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

/// A number from text (`"3"`, `" -2.5 "`, `"1e3"`, `"0x1f"`) or a number itself.
pub(super) fn to_number(v: &Val) -> Val<'static> {
    let Val::Str(s) = v else {
        return v.numeric().map_or(Val::Null, Numeric::into_val);
    };
    let t = s.trim();
    let (neg, digits) = t.strip_prefix('-').map_or((false, t), |d| (true, d));
    if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Val::Null;
        }
        return i128::from_str_radix(hex, 16)
            .ok()
            .map_or(Val::Null, |i| Numeric::I(if neg { -i } else { i }).into_val());
    }
    let json_like = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    match crate::lang::value::parse_numeric(t.trim_start_matches('+')) {
        Some(n) if json_like => match n {
            Numeric::F(f) => Val::float(f),
            n => n.into_val(),
        },
        _ => Val::Null,
    }
}

/// `log log10 exp sqrt pow`; `null` where the result is not a finite number.
pub(super) fn math(f: Func, x: f64, y: f64) -> Val<'static> {
    num_val(match f {
        Func::Log => x.ln(),
        Func::Log10 => x.log10(),
        Func::Exp => x.exp(),
        Func::Sqrt => x.sqrt(),
        _ => x.powf(y),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::eval::tests::check_table;

    const EV: &str = r#"{"req":"GET /api/v1/users?id=7 HTTP/1.1","s":"a-b-c","ip":"10.1.2.3","ip6":"2001:db8::1","n":42,"f":3.14159,"pct":"caf%C3%A9%20x","pat":"\\d+","bad":"("}"#;

    #[test]
    fn regex_functions_capture_match_and_substitute() {
        check_table(&[
            (
                r#"capture(req, /(?P<method>\w+) (?P<path>\S+)(?P<none>X)?/)"#,
                EV,
                r#"{"method":"GET","path":"/api/v1/users?id=7","none":null}"#,
            ),
            (r#"capture(req, "(?P<v>\\d+)")"#, EV, r#"{"v":"1"}"#),
            ("capture(req, /(?P<x>zzz)/)", EV, "null"),
            (r#"match(req, /\d+/)"#, EV, r#""1""#),
            ("match(req, pat)", EV, r#""1""#),
            (r#"match(n, /\d/)"#, EV, "null"),
            (r#"sub(s, "-", "+")"#, EV, r#""a+b-c""#),
            (r#"gsub(s, /-/, "+")"#, EV, r#""a+b+c""#),
            (r#"gsub(s, /(\w)/, "<$1>")"#, EV, r#""<a>-<b>-<c>""#),
            ("gsub(s, /-/, 1)", EV, "null"),
            ("match(req, bad)", EV, "null"),
        ]);
    }

    #[test]
    fn format_follows_sprintf_for_its_conversions() {
        check_table(&[
            (r#"format("%s:%05d", s, n)"#, EV, r#""a-b-c:00042""#),
            (r#"format("[%-6s|%6s]", "ab", "cd")"#, EV, r#""[ab    |    cd]""#),
            (r#"format("%.2f %f", f, 1)"#, EV, r#""3.14 1.000000""#),
            (r#"format("%x %05d %d", 255, -42, 2.9)"#, EV, r#""ff -0042 2""#),
            (r#"format("100%% %s", [1])"#, EV, r#""100% [1]""#),
            (r#"format("%.2s", "abc")"#, EV, r#""ab""#),
            (r#"format("%d", "x")"#, EV, "null"),
            (r#"format("%s %s", 1)"#, EV, "null"),
            (r#"format("%d|%s", 1e400, 1e400)"#, EV, "null"),
            (r#"format("%s", 1e400)"#, EV, r#""1e400""#),
        ]);
        assert!(format_ok("%s %-10s %05d %.3f %x %%"));
        assert!(!format_ok("%q"));
        assert!(!format_ok("50%"));
    }

    #[test]
    fn padding_repeat_and_coding() {
        check_table(&[
            (r#"pad_left("7", 3, "0")"#, EV, r#""007""#),
            (r#"pad_right("é", 3)"#, EV, r#""é  ""#),
            (r#"pad_left("long", 2)"#, EV, r#""long""#),
            ("pad_left(n, 4)", EV, r#""  42""#),
            (r#"pad_left("x", 3, "ab")"#, EV, "null"),
            (r#"pad_left("x", -3)"#, EV, r#""x""#),
            (r#"pad_left("x", 100000000000000000000000)"#, EV, "null"),
            (r#"repeat("ab", 3)"#, EV, r#""ababab""#),
            (r#"repeat("ab", -1)"#, EV, "null"),
            (r#"repeat("ab", 100000000)"#, EV, "null"),
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
            (r#"ip_in(ip, s)"#, EV, "null"),
        ]);
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("::/129").is_none());
    }

    #[test]
    fn numbers_from_text_and_math_are_null_when_undefined() {
        check_table(&[
            (r#"to_number("3")"#, EV, "3"),
            (r#"to_number(" -2.5 ")"#, EV, "-2.5"),
            (r#"to_number("0x1f")"#, EV, "31"),
            (r#"to_number("-0X10")"#, EV, "-16"),
            (r#"to_number("1e3")"#, EV, "1000"),
            (r#"to_number("inf")"#, EV, "null"),
            (r#"to_number("0xzz")"#, EV, "null"),
            (r#"to_number("0x-1")"#, EV, "null"),
            (r#"to_number("0x")"#, EV, "null"),
            (r#"to_number("")"#, EV, "null"),
            ("to_number(n)", EV, "42"),
            ("to_number(true)", EV, "null"),
            ("pow(2, 10)", EV, "1024"),
            ("sqrt(16)", EV, "4"),
            ("sqrt(-1)", EV, "null"),
            ("log(0)", EV, "null"),
            ("exp(0)", EV, "1"),
            ("log10(1000)", EV, "3"),
            ("round(log(10), 3)", EV, "2.303"),
            (r#"pow("2", 2)"#, EV, "null"),
        ]);
    }
}
