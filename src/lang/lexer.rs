//! Tokens of the pipeline language, with byte spans for error carets.

use super::error::{LangError, Span};

/// One lexical token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare word: field name, keyword, stage or function name (`@timestamp` too).
    Ident(String),
    /// A backtick-quoted field name.
    Quoted(String),
    Str(String),
    /// Number text exactly as written.
    Num(String),
    /// Duration in seconds.
    Duration(f64),
    Regex {
        pattern: String,
        flags: String,
    },
    /// A time literal `@2026-11-01T00:00:00Z`, in Unix seconds.
    Time(f64),
    /// A parameter `$NAME` (`--arg`, `--argjson`, `$ENV`).
    Var(String),
    Punct(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

const PUNCTS: &[&str] = &[
    "==", "!=", "<=", ">=", "=~", "!~", "=>", "&&", "||", "??", "?", "|", ",", ".", "[", "]", "(", ")", "{", "}", "=",
    "<", ">", "+", "-", "*", "/", "%", "!", ":",
];

/// Words after which a `/` starts a regex rather than a division.
const REGEX_AFTER: &[&str] = &[
    "and", "or", "not", "in", "by", "from", "else", "parse", "where", "as", "within",
];

pub(crate) fn lex(src: &str) -> Result<Vec<Token>, LangError> {
    let b = src.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let tok = if c == b'@' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            lex_time(src, &mut i)?
        } else if c == b'$' && b.get(i + 1).is_some_and(|&n| n.is_ascii_alphabetic() || n == b'_') {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            Tok::Var(src[start + 1..i].to_string())
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'@' || c >= 0x80 {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            Tok::Ident(src[start..i].to_string())
        } else if c.is_ascii_digit() {
            lex_number(src, &mut i)?
        } else if c == b'"' {
            lex_string(src, &mut i)?
        } else if c == b'`' {
            let end = src[i + 1..].find('`').ok_or_else(|| {
                LangError::new("unterminated backtick name", Span::new(start, b.len()))
                    .hint("close the field name with a second backtick: `id.orig_h`")
            })?;
            i = i + 1 + end + 1;
            Tok::Quoted(src[start + 1..i - 1].to_string())
        } else if c == b'\'' {
            return Err(single_quoted(src, start));
        } else if c == b'/' && regex_allowed(out.last()) {
            lex_regex(src, &mut i)?
        } else if let Some(p) = PUNCTS.iter().find(|p| src[i..].starts_with(**p)) {
            i += p.len();
            Tok::Punct(p)
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err(
                LangError::new(format!("unexpected character `{ch}`"), Span::new(i, i + ch.len_utf8()))
                    .hint("put text in double quotes, and field names with unusual characters in backticks"),
            );
        };
        out.push(Token {
            tok,
            span: Span::new(start, i),
        });
    }
    Ok(out)
}

/// `'error'`: text in single quotes, as SQL and jq's shell habits write it.
fn single_quoted(src: &str, start: usize) -> LangError {
    let (inner, end) = match src[start + 1..].find('\'') {
        Some(p) => (&src[start + 1..start + 1 + p], start + p + 2),
        None => (&src[start + 1..], src.len()),
    };
    let mut quoted = String::new();
    crate::json::write_str(&mut quoted, inner);
    LangError::new("strings use double quotes", Span::new(start, end)).hint(format!(
        "write {quoted}; inside a shell's single quotes, double quotes need no escaping"
    ))
}

fn regex_allowed(prev: Option<&Token>) -> bool {
    match prev.map(|t| &t.tok) {
        None => true,
        Some(Tok::Ident(w)) => REGEX_AFTER.contains(&w.as_str()),
        Some(Tok::Punct(p)) => !matches!(*p, ")" | "]" | "}"),
        Some(_) => false,
    }
}

/// Number text as JSON allows it: `007` is written `7` (JSON has no leading zeros).
fn json_number_text(text: &str) -> String {
    let int_len = text.bytes().take_while(u8::is_ascii_digit).count();
    let zeros = text[..int_len]
        .bytes()
        .take_while(|&b| b == b'0')
        .count()
        .min(int_len.saturating_sub(1));
    text[zeros..].to_string()
}

fn lex_number(src: &str, i: &mut usize) -> Result<Tok, LangError> {
    let start = *i;
    let text = number_text(src, i);
    // A unit right after the digits makes a duration.
    let Some(scale) = unit(src, i, text)? else {
        return Ok(Tok::Num(json_number_text(text)));
    };
    let mut seconds = part_seconds(text, scale);
    // Parts written one after another, each with its unit, add up: 1h30m, 2m30s.
    while src.as_bytes().get(*i).is_some_and(u8::is_ascii_digit) {
        let part = *i;
        let text = number_text(src, i);
        let Some(scale) = unit(src, i, text)? else {
            return Err(
                LangError::new("each part of a duration needs a unit", Span::new(part, *i))
                    .hint("such as 1h30m or 2m30s; units are ns, us, ms, s, m, h, d, w"),
            );
        };
        seconds += part_seconds(text, scale);
    }
    if seconds > MAX_DURATION {
        return Err(LangError::new("the duration is too long", Span::new(start, *i)).hint(
            "a duration is at most 10000 years (the span of times evq reads), such as 250ms, 30s, 5m, 1h, 1d or 1w",
        ));
    }
    Ok(Tok::Duration(seconds))
}

/// The text of a number from `*i`: digits, a fraction, an exponent.
fn number_text<'s>(src: &'s str, i: &mut usize) -> &'s str {
    let b = src.as_bytes();
    let start = *i;
    let digits = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(i);
    if *i + 1 < b.len() && b[*i] == b'.' && b[*i + 1].is_ascii_digit() {
        *i += 1;
        digits(i);
    }
    if *i < b.len() && (b[*i] == b'e' || b[*i] == b'E') {
        let mut j = *i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            *i = j;
            digits(i);
        }
    }
    &src[start..*i]
}

/// The seconds of the duration unit at `*i`, right after `number`, read past; `None` when
/// no letters follow the number.
fn unit(src: &str, i: &mut usize, number: &str) -> Result<Option<f64>, LangError> {
    let rest = &src[*i..];
    let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
    if unit_len == 0 {
        return Ok(None);
    }
    let unit = &rest[..unit_len];
    let scale = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        "w" => 604800.0,
        _ => {
            let start = *i - number.len();
            return Err(not_a_unit(number, unit, Span::new(start, *i + unit_len)));
        }
    };
    *i += unit_len;
    Ok(Some(scale))
}

/// The seconds of one part of a duration, `number` of a unit `scale` seconds long.
fn part_seconds(number: &str, scale: f64) -> f64 {
    number.parse::<f64>().map_or(f64::INFINITY, |n| n * scale)
}

fn not_a_unit(number: &str, unit: &str, span: Span) -> LangError {
    if number == "0" && unit.starts_with(['x', 'X']) {
        return LangError::new("hex numbers are not supported", span)
            .hint("write the number in decimal (0x10 is 16), or compare text: \"0x10\"");
    }
    if unit.starts_with(['e', 'E']) && !number.contains(['e', 'E']) {
        return LangError::new("a number's exponent needs digits", span).hint("write 1e3 or 1e-3, or 1 for one");
    }
    let at = Span::new(span.start + number.len(), span.end);
    LangError::new(format!("unknown duration unit `{unit}`"), at).hint("units are ns, us, ms, s, m, h, d, w")
}

/// The longest duration, in seconds: 10,000 years, the span of the times evq reads.
const MAX_DURATION: f64 = 10_000.0 * 365.2425 * 86_400.0;

/// `@2026-11-01T00:00:00Z` or `@2026-11-01` (midnight UTC): a time as Unix seconds.
fn lex_time(src: &str, i: &mut usize) -> Result<Tok, LangError> {
    let start = *i;
    let len = src[start + 1..]
        .bytes()
        .take_while(|c| c.is_ascii_digit() || b"-:.+TZtz".contains(c))
        .count();
    *i = start + 1 + len;
    let text = &src[start + 1..*i];
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    crate::time::parse_rfc3339(full.as_bytes())
        .map(Tok::Time)
        .ok_or_else(|| {
            LangError::new(format!("bad time literal `@{text}`"), Span::new(start, *i))
                .hint("write a time as @2026-11-01T00:00:00Z (RFC 3339) or a date as @2026-11-01")
        })
}

fn lex_string(src: &str, i: &mut usize) -> Result<Tok, LangError> {
    let b = src.as_bytes();
    let start = *i;
    let mut j = start + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => break,
            _ => j += 1,
        }
    }
    if j >= b.len() {
        return Err(LangError::new("unterminated string", Span::new(start, b.len()))
            .hint("close the string with a double quote; write \\\" for a quote inside it"));
    }
    *i = j + 1;
    let text = &src[start..*i];
    // Strings use JSON escapes; a raw newline or tab inside is allowed.
    let json = text.replace('\n', "\\n").replace('\t', "\\t").replace('\r', "\\r");
    serde_json::from_str::<String>(&json).map(Tok::Str).map_err(|e| {
        let span = Span::new(start, *i);
        if crate::json::lone_surrogate(&json).is_some() {
            return LangError::new("a \\u escape of half a UTF-16 surrogate pair is not a character", span)
                .hint("write both halves, as in \"\\ud83d\\ude00\", or the character itself");
        }
        bad_escape(text, start).unwrap_or_else(|| {
            LangError::new(format!("bad string: {e}"), span).hint("strings use JSON escapes: \\\" \\\\ \\n \\t \\u00e9")
        })
    })
}

/// The first mistake in string literal `text` (at `start` in the pipeline) that JSON refuses:
/// an escape it has not, or a raw control character other than a line break or a tab.
fn bad_escape(text: &str, start: usize) -> Option<LangError> {
    let inner = text.get(1..text.len().saturating_sub(1))?;
    let mut chars = inner.char_indices().peekable();
    while let Some((k, c)) = chars.next() {
        let (what, len) = match c {
            '\\' => {
                let Some(&(_, next)) = chars.peek() else { break };
                match next {
                    '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' | '\n' | '\t' | '\r' => {
                        chars.next();
                        continue;
                    }
                    'u' => {
                        // `u` is one byte: the digits start right after it.
                        let hex = inner[k + 2..]
                            .chars()
                            .take(4)
                            .take_while(char::is_ascii_hexdigit)
                            .count();
                        if hex == 4 {
                            chars.nth(4);
                            continue;
                        }
                        (format!("`{}` needs four hex digits", &inner[k..k + 2 + hex]), 2 + hex)
                    }
                    c if c.is_control() => (
                        format!("`\\` before U+{:04X} is not an escape", u32::from(c)),
                        1 + c.len_utf8(),
                    ),
                    c => (format!("`\\{c}` is not an escape"), 1 + c.len_utf8()),
                }
            }
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => (
                format!(
                    "a string cannot hold the control character U+{:04X} as it is",
                    u32::from(c)
                ),
                c.len_utf8(),
            ),
            _ => continue,
        };
        let at = start + 1 + k;
        return Some(
            LangError::new(what, Span::new(at, at + len)).hint(
                "strings use JSON escapes: \\\" \\\\ \\/ \\n \\t \\r \\b \\f \\u00e9; write \\\\ for a backslash",
            ),
        );
    }
    None
}

fn lex_regex(src: &str, i: &mut usize) -> Result<Tok, LangError> {
    let b = src.as_bytes();
    let start = *i;
    let mut pattern = String::new();
    // A backslash escapes the character after it, as in Rust regex syntax: only `\/` is
    // unescaped (to `/`); every other pair goes to the regex crate as written, so `\\`
    // before the closing `/` is an escaped backslash, not an escaped slash.
    let mut chars = src[start + 1..].char_indices().map(|(k, c)| (start + 1 + k, c));
    let mut close = None;
    while let Some((k, ch)) = chars.next() {
        match ch {
            '/' => {
                close = Some(k);
                break;
            }
            '\\' => match chars.next() {
                Some((_, '/')) => pattern.push('/'),
                Some((_, escaped)) => {
                    pattern.push('\\');
                    pattern.push(escaped);
                }
                None => pattern.push('\\'),
            },
            _ => pattern.push(ch),
        }
    }
    let Some(close) = close else {
        return Err(LangError::new("unterminated regex", Span::new(start, b.len()))
            .hint("close the regex with /; write \\/ for a slash inside it"));
    };
    let fstart = close + 1;
    let mut j = fstart;
    while j < b.len() && b[j].is_ascii_alphabetic() {
        j += 1;
    }
    let flags = &src[fstart..j];
    if let Some(bad) = flags.chars().find(|c| !"imsx".contains(*c)) {
        return Err(
            LangError::new(format!("unknown regex flag `{bad}`"), Span::new(fstart, j)).hint("flags are i, m, s, x"),
        );
    }
    *i = j;
    Ok(Tok::Regex {
        pattern,
        flags: flags.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn regex_versus_division() {
        assert_eq!(
            toks("a / 2"),
            vec![Tok::Ident("a".into()), Tok::Punct("/"), Tok::Num("2".into())]
        );
        assert_eq!(
            toks("x =~ /a\\/b/i"),
            vec![
                Tok::Ident("x".into()),
                Tok::Punct("=~"),
                Tok::Regex {
                    pattern: "a/b".into(),
                    flags: "i".into()
                }
            ]
        );
    }

    #[test]
    fn number_literals_are_json_number_text() {
        assert_eq!(json_number_text("007"), "7");
        assert_eq!(json_number_text("0"), "0");
        assert_eq!(json_number_text("000.50"), "0.50");
        assert_eq!(json_number_text("00e5"), "0e5");
        assert_eq!(json_number_text("120"), "120");
    }

    #[test]
    fn durations_and_numbers() {
        assert_eq!(
            toks("250ms 5m 1.5e3"),
            vec![Tok::Duration(0.25), Tok::Duration(300.0), Tok::Num("1.5e3".into())]
        );
        assert!(lex("5parsecs").is_err());
        assert_eq!(
            toks("1h30m 2m30s 1d12h 1s500ms"),
            vec![
                Tok::Duration(5400.0),
                Tok::Duration(150.0),
                Tok::Duration(129_600.0),
                Tok::Duration(1.5)
            ]
        );
        let e = lex("1h30").unwrap_err();
        assert!(e.to_string().contains("each part of a duration needs a unit"), "{e}");
        assert!(lex("1h30x").is_err());
        assert!(lex(&"1s".repeat(100_000)).is_ok(), "many parts need no deep stack");
    }

    #[test]
    fn quoted_names_and_at_keys() {
        assert_eq!(
            toks("`id.orig_h` @timestamp"),
            vec![Tok::Quoted("id.orig_h".into()), Tok::Ident("@timestamp".into())]
        );
    }

    #[test]
    fn time_literals_parameters_and_arrows() {
        assert_eq!(
            toks("@2026-11-01T00:00:00Z @1970-01-02 $NAME =>"),
            vec![
                Tok::Time(1_793_491_200.0),
                Tok::Time(86_400.0),
                Tok::Var("NAME".into()),
                Tok::Punct("=>")
            ]
        );
        assert!(lex("@2026-13-01").is_err());
        assert_eq!(toks("@timestamp"), vec![Tok::Ident("@timestamp".into())]);
    }

    #[test]
    fn strings_use_json_escapes() {
        assert_eq!(toks(r#""a\"b\u00e9""#), vec![Tok::Str("a\"bé".into())]);
        assert!(lex("\"open").is_err());
    }
}
