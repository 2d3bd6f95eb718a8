//! String and text functions: regex capture and substitution, `format`, padding and
//! repeating, numbers from text and math; and the calls of these and of `web` and `clock`.

use super::{Func, NO_ARG, num_val, web};
use crate::lang::ast::Expr;
use crate::lang::eval::{Env, Record};
use crate::lang::value::{Numeric, Val};
use regex::Regex;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The most bytes a function's text may have: past it the result is null, found before it
/// is built where the result can grow many times its arguments (`repeat`, paddings, `replace`,
/// `sub`, `gsub`, `join`), so that one event cannot exhaust memory.
pub(crate) const MAX_TEXT: usize = 1 << 20;

/// A text a function made: null past [`MAX_TEXT`].
pub(crate) fn made(text: String) -> Val<'static> {
    if text.len() > MAX_TEXT {
        Val::Null
    } else {
        Val::string(text)
    }
}

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
    let most = if f == Func::Sub { 1 } else { usize::MAX };
    replace_within(re, s, with, most).map_or(Val::Null, Val::string)
}

/// `s` with the first `most` matches of `re` replaced by `with`, where `$1` and `${name}`
/// name groups; `None` once the text would pass [`MAX_TEXT`]. A match is expanded only when
/// what its group references could make fits, so no expansion grows past the limit either.
pub(super) fn replace_within(re: &Regex, s: &str, with: &str, most: usize) -> Option<String> {
    let references = with.bytes().filter(|&b| b == b'$').count();
    let mut out = String::new();
    let mut last = 0;
    for m in re.find_iter(s).take(most) {
        out.push_str(&s[last..m.start()]);
        let worst = with.len().saturating_add(references.saturating_mul(m.len()));
        if out.len().saturating_add(worst) > MAX_TEXT {
            return None;
        }
        // The search from the match's start finds it again, now with its groups.
        match (references > 0).then(|| re.captures_at(s, m.start())).flatten() {
            Some(caps) => caps.expand(with, &mut out),
            None => out.push_str(with),
        }
        last = m.end();
    }
    out.push_str(&s[last..]);
    (out.len() <= MAX_TEXT).then_some(out)
}

/// `s` with every `pat` (not empty) replaced by `with`; `None` when that would pass [`MAX_TEXT`].
pub(super) fn replace_text(s: &str, pat: &str, with: &str) -> Option<String> {
    let n = s.matches(pat).count();
    let len = (s.len() - n * pat.len()).saturating_add(n.saturating_mul(with.len()));
    (len <= MAX_TEXT).then(|| s.replace(pat, with))
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

/// How many arguments `fmt` converts (`%%` takes none); `None` when a `%` of it starts no
/// conversion `format` knows.
pub(crate) fn conversions(fmt: &str) -> Option<usize> {
    let mut chars = fmt.chars().peekable();
    let mut n = 0;
    while let Some(c) = chars.next() {
        if c == '%' && spec(&mut chars)?.conv != '%' {
            n += 1;
        }
    }
    Some(n)
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
        // Toward zero, as int() does, on the number as written: -0.5 is 0, not -0, and
        // 9007199254740993.7 is 9007199254740993.
        'd' => {
            let whole = match integer_digits(v) {
                Some(_) => v.clone(),
                None => super::round_val(v, 0, crate::lang::number::Rounding::Trunc),
            };
            match (integer_digits(&whole), whole.numeric()?) {
                (Some(digits), _) => digits,
                (None, Numeric::I(i)) => i.to_string(),
                (None, Numeric::F(f)) => format!("{}", f.trunc() + 0.0),
            }
        }
        'x' => match v.numeric()? {
            Numeric::I(i) if i >= 0 => format!("{i:x}"),
            Numeric::I(i) => format!("-{:x}", i.unsigned_abs()),
            Numeric::F(_) => return None,
        },
        // An integer keeps every digit (a double would round 2^53 + 1).
        _ => match (integer_digits(v), s.prec.unwrap_or(6)) {
            (Some(digits), 0) => digits,
            (Some(digits), prec) => format!("{digits}.{}", "0".repeat(prec)),
            (None, prec) => format!("{:.prec$}", v.numeric()?.as_f64()),
        },
    })
}

/// An integer's digits, exactly, at any size (`1e3` and `2.0` are not written as integers).
fn integer_digits(v: &Val) -> Option<String> {
    match v {
        Val::Int(i) => Some(i.to_string()),
        Val::Num(t) if crate::lang::wide::is_whole_text(t) => Some(t.to_string()),
        _ => match v.numeric()? {
            Numeric::I(i) => Some(i.to_string()),
            Numeric::F(_) => None,
        },
    }
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
    let width = width.numeric()?.whole()?;
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
    let n = n.numeric()?.whole()?;
    let n = usize::try_from(n).ok()?;
    (s.len().saturating_mul(n) <= MAX_TEXT).then(|| s.repeat(n))
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
            n @ Numeric::I(_) => n.into_val(),
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

/// A pattern argument: the regex compiled when the pipeline was parsed, or (for a computed
/// pattern) one compiled now with the language's limits.
fn pattern<'e>(e: &'e Expr, ev: &'e (dyn Record + 'e), env: &Env) -> Option<Cow<'e, regex::Regex>> {
    match e {
        Expr::Regex(re) => Some(Cow::Borrowed(re)),
        e => {
            let p = e.eval(ev, env);
            let built = crate::lang::parser::build_regex(p.as_str()?, "", crate::lang::Span::default());
            built.ok().map(Cow::Owned)
        }
    }
}

/// The text functions, those of `web`, math, `env` and `strptime`.
pub(super) fn call<'e>(f: Func, args: &'e [Expr], ev: &'e (dyn Record + 'e), env: &Env) -> Val<'e> {
    let expr = |i: usize| args.get(i).unwrap_or(NO_ARG);
    let arg = |i: usize| expr(i).eval(ev, env);
    let string = |o: Option<String>| o.map_or(Val::Null, made);
    let s0 = arg(0);
    let s = s0.as_str();
    match f {
        Func::Capture | Func::Match | Func::Sub | Func::Gsub => {
            let (Some(s), Some(re)) = (s, pattern(expr(1), ev, env)) else {
                return Val::Null;
            };
            if matches!(f, Func::Capture | Func::Match) {
                return regex_find(f, s, &re);
            }
            match arg(2) {
                Val::Str(with) => substitute(f, s, &re, &with),
                _ => Val::Null,
            }
        }
        Func::Format => {
            let vals: Vec<Val> = args[1..].iter().map(|a| a.eval(ev, env)).collect();
            string(s.and_then(|fmt| format(fmt, &vals)))
        }
        Func::PadLeft | Func::PadRight => {
            let fill = args.get(2).map(|e| e.eval(ev, env));
            let fill = fill.as_ref().map_or(Some(" "), Val::as_str);
            let s = s.map(Cow::Borrowed).or_else(|| s0.numeric().map(|_| s0.to_text()));
            string(s.zip(fill).and_then(|(s, fill)| pad(f, &s, &arg(1), fill)))
        }
        Func::Repeat => string(s.and_then(|s| repeat(s, &arg(1)))),
        Func::UrlEncode => string(s.map(web::url_encode)),
        Func::UrlDecode => string(s.and_then(web::url_decode)),
        Func::Base64Encode => string(s.map(web::base64_encode)),
        Func::Base64Decode => string(s.and_then(web::base64_decode)),
        Func::Md5 | Func::Sha1 | Func::Sha256 => string(s.map(|s| web::digest(f, s))),
        Func::ParseUrl => s
            .and_then(web::parse_url)
            .map_or(Val::Null, |v| Val::Json(Cow::Owned(v))),
        Func::IpIn => {
            let nets = arg(1);
            let Some(ip) = s else { return Val::Null };
            let hit = match &nets {
                Val::Str(cidr) => web::ip_in(ip, cidr),
                Val::Json(v) => v.as_array().and_then(|a| {
                    let hits: Option<Vec<bool>> = a.iter().map(|c| web::ip_in(ip, c.as_str()?)).collect();
                    hits.map(|h| h.contains(&true))
                }),
                _ => None,
            };
            hit.map_or(Val::Null, Val::Bool)
        }
        Func::ToNumber => to_number(&s0),
        Func::Log | Func::Log10 | Func::Exp | Func::Sqrt | Func::Pow => {
            let x = s0.numeric().map(Numeric::as_f64);
            let y = if f == Func::Pow {
                arg(1).numeric().map(Numeric::as_f64)
            } else {
                Some(0.0)
            };
            x.zip(y).map_or(Val::Null, |(x, y)| math(f, x, y))
        }
        Func::Env => string(s.and_then(|name| std::env::var(name).ok())),
        Func::Strptime => {
            let fmt = arg(1);
            s.zip(fmt.as_str())
                .and_then(|(s, fmt)| crate::time::strptime(s, fmt))
                .map_or(Val::Null, Val::float)
        }
        _ => Val::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::eval::tests::check_table;

    const EV: &str = r#"{"req":"GET /api/v1/users?id=7 HTTP/1.1","s":"a-b-c","ip":"10.1.2.3","ip6":"2001:db8::1","n":42,"f":3.14159,"pct":"caf%C3%A9%20x","pat":"\\d+","bad":"("}"#;

    #[test]
    fn replacing_stops_before_the_text_passes_the_limit() {
        let re = Regex::new("y").unwrap();
        let big = "y".repeat(2000);
        let with = "x".repeat(1000);
        assert_eq!(replace_within(&re, &big, &with, usize::MAX), None);
        assert_eq!(replace_within(&re, &big, &with, 1).map(|s| s.len()), Some(2999));
        assert_eq!(
            replace_within(&re, "yay", "[$0]", usize::MAX).as_deref(),
            Some("[y]a[y]")
        );
        let all = Regex::new("(?s).+").unwrap();
        let many_refs = "$0".repeat(1000);
        assert_eq!(
            replace_within(&all, &big, &many_refs, 1),
            None,
            "one expansion past the limit"
        );
        assert_eq!(replace_text(&big, "y", &with), None);
        assert_eq!(replace_text("a.b.c", ".", "::").as_deref(), Some("a::b::c"));
        let fits = "z".repeat(MAX_TEXT);
        assert_eq!(replace_text(&fits, "q", "long").map(|s| s.len()), Some(MAX_TEXT));
        assert_eq!(replace_text(&fits, "z", "zz"), None);
    }

    #[test]
    fn regex_functions_capture_match_and_substitute() {
        check_table(&[
            (
                r"capture(req, /(?P<method>\w+) (?P<path>\S+)(?P<none>X)?/)",
                EV,
                r#"{"method":"GET","path":"/api/v1/users?id=7","none":null}"#,
            ),
            (r#"capture(req, "(?P<v>\\d+)")"#, EV, r#"{"v":"1"}"#),
            ("capture(req, /(?P<x>zzz)/)", EV, "null"),
            (r"match(req, /\d+/)", EV, r#""1""#),
            ("match(req, pat)", EV, r#""1""#),
            (r"match(n, /\d/)", EV, "null"),
            (r#"sub(s, "-", "+")"#, EV, r#""a+b-c""#),
            (r#"gsub(s, /-/, "+")"#, EV, r#""a+b+c""#),
            (r#"gsub(s, /(\w)/, "<$1>")"#, EV, r#""<a>-<b>-<c>""#),
            ("gsub(s, /-/, len(s))", EV, "null"),
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
            (r#"format("%d %03d %d", -0.5, -0.9, -1.5)"#, EV, r#""0 000 -1""#),
            (r#"format("%d", 9007199254740993.7)"#, EV, r#""9007199254740993""#),
            (
                r#"format("%f %.0f", 9007199254740993, -9007199254740993)"#,
                EV,
                r#""9007199254740993.000000 -9007199254740993""#,
            ),
            (
                r#"format("%d %.1f", 1234567890123456789012345678901234567890, -1234567890123456789012345678901234567890)"#,
                EV,
                r#""1234567890123456789012345678901234567890 -1234567890123456789012345678901234567890.0""#,
            ),
            (r#"format("100%% %s", [1])"#, EV, r#""100% [1]""#),
            (r#"format("%.2s", "abc")"#, EV, r#""ab""#),
            (r#"format("%d", "x")"#, EV, "null"),
            // A format known only per event, given too few values (a literal one is refused).
            (r#"format(lower("%s %s"), 1)"#, EV, "null"),
            (r#"format("%d|%s", 1e400, 1e400)"#, EV, "null"),
            (r#"format("%s", 1e400)"#, EV, r#""1e400""#),
        ]);
        assert_eq!(conversions("%s %-10s %05d %.3f %x %%"), Some(5));
        assert_eq!(conversions("no conversion, 100%%"), Some(0));
        assert_eq!(conversions("%q"), None);
        assert_eq!(conversions("50%"), None);
    }

    #[test]
    fn padding_and_repeat_keep_to_a_megabyte() {
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
        ]);
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
