//! Checks on function calls with literal arguments, done once when the pipeline is parsed:
//! formats and time zones are validated and literal patterns compiled, so no event pays.

use super::build_regex;
use crate::lang::ast::Expr;
use crate::lang::error::{LangError, Span};
use crate::lang::func::{Func, text, web};
use crate::lang::value::{Val, kind};
use crate::messages::counted;

/// Validates the literal arguments of a call to `f`; a string pattern becomes a regex.
pub(super) fn check(f: Func, args: &mut [Expr], span: Span) -> Result<(), LangError> {
    check_constant_types(f, args, span)?;
    let literal = |i: usize| match args.get(i) {
        Some(Expr::Const(Val::Str(s))) => Some(s.to_string()),
        _ => None,
    };
    match f {
        Func::Strftime | Func::Strptime => {
            let valid = match f {
                Func::Strftime => crate::time::writable_format,
                _ => crate::time::valid_format,
            };
            if literal(1).is_some_and(|fmt| !valid(&fmt)) {
                return Err(LangError::new(
                    format!("bad {} format", f.signature().split('(').next().unwrap_or("")),
                    span,
                )
                .hint("e.g. strftime(ts, \"%Y-%m-%d %H:%M:%S\") or strptime(s, \"%d/%m/%Y %H:%M\")"));
            }
            if let Some(tz) = literal(2).filter(|tz| tz.parse::<chrono_tz::Tz>().is_err()) {
                return Err(LangError::new(format!("unknown time zone \"{tz}\""), span)
                    .hint("write an IANA time zone such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\""));
            }
        }
        Func::Capture | Func::Match | Func::Sub | Func::Gsub => {
            if let Some(pattern) = literal(1) {
                args[1] = Expr::Regex(build_regex(&pattern, "", span)?);
            }
            if f != Func::Capture && f != Func::Match {
                check_groups(args, span)?;
            }
        }
        Func::Replace => check_groups(args, span)?,
        Func::IpIn => {
            if let Some(cidr) = literal(1).filter(|c| web::parse_cidr(c).is_none()) {
                return Err(LangError::new(format!("bad network \"{cidr}\""), span)
                    .hint("write a CIDR such as \"10.0.0.0/8\" or \"2001:db8::/32\", or one address"));
            }
        }
        Func::Format => {
            let Some(fmt) = literal(0) else { return Ok(()) };
            let Some(wanted) = text::conversions(&fmt) else {
                return Err(LangError::new(format!("bad format \"{fmt}\""), span)
                    .hint("conversions are %s %d %f %.2f %x %05d %-10s (widths and precisions up to 1000), and %% for a percent sign"));
            };
            let given = args.len() - 1;
            if given != wanted {
                return Err(LangError::new(
                    format!(
                        "format \"{fmt}\" converts {} but is given {}",
                        counted(wanted as u64, "value", "values"),
                        counted(given as u64, "value", "values")
                    ),
                    span,
                )
                .hint("give one value after the format for each conversion (%% converts none)"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// What a function's parameter must be: given as a constant of another type, it makes every
/// call null (or false), whatever the events hold.
#[derive(Debug, Clone, Copy)]
enum Param {
    Text,
    /// Text, or a list of texts (`ip_in`'s networks).
    Texts,
    Number,
    /// A number of seconds above 0, written as a duration (`1h`).
    Duration,
}

/// What parameter `i` of `f` must be, for the parameters that are settings of the call (a
/// prefix, a separator, a width) rather than the value it works on.
fn param(f: Func, i: usize) -> Option<Param> {
    use Func as F;
    Some(match (f, i) {
        (F::IpIn, 1) => Param::Texts,
        (F::StartsWith | F::EndsWith | F::Split | F::Join | F::Strptime | F::Capture | F::Match, 1)
        | (F::Replace | F::Sub | F::Gsub | F::Strftime, 1 | 2)
        | (F::PadLeft | F::PadRight, 2)
        | (F::Format | F::Env, 0) => Param::Text,
        (F::Substr, 1 | 2) | (F::Round | F::Repeat | F::Flatten | F::PadLeft | F::PadRight | F::Pow, 1) => {
            Param::Number
        }
        (F::Bucket, 1) => Param::Duration,
        _ => return None,
    })
}

/// A constant given for a parameter of another type is a pipeline error, with the fix: it
/// would make the call null on every event without a word.
fn check_constant_types(f: Func, args: &[Expr], span: Span) -> Result<(), LangError> {
    for (i, arg) in args.iter().enumerate() {
        let (Some(want), Expr::Const(v)) = (param(f, i), arg) else {
            continue;
        };
        let positive = || v.numeric().is_some_and(|n| n.as_f64() > 0.0);
        let (fits, wanted) = match want {
            Param::Text => (matches!(v, Val::Str(_)), "text"),
            Param::Texts => (v.kind() & (kind::STRING | kind::ARRAY) != 0, "text or a list of texts"),
            Param::Number => (v.kind() == kind::NUMBER, "a number"),
            Param::Duration => (v.kind() == kind::NUMBER && positive(), "a duration longer than 0"),
        };
        if fits {
            continue;
        }
        let name = param_name(f, i);
        let given = match v {
            Val::Str(_) => "text".to_string(),
            v if v.kind() == kind::NUMBER && matches!(want, Param::Duration) => v.to_text().into_owned(),
            v if v.kind() == kind::ARRAY => "an array".to_string(),
            v => format!("a {}", v.type_name()),
        };
        let hint = match (want, v) {
            (Param::Text | Param::Texts, v) => format!(
                "write the {name} in quotes: {}",
                crate::json::to_string(&v.to_text().into())
            ),
            (Param::Number, Val::Str(s)) if s.trim().parse::<f64>().is_ok() => {
                format!("write the {name} without quotes: {}", s.trim())
            }
            (Param::Number, _) => format!("write the {name} as a number: {}", f.signature()),
            (Param::Duration, _) => "write a duration such as 30s, 5m or 1h, without quotes".to_string(),
        };
        return Err(LangError::new(
            format!("{}: its {name} must be {wanted}, not {given}", f.signature()),
            span,
        )
        .hint(hint));
    }
    Ok(())
}

/// The name of parameter `i` in `f`'s signature (`prefix` in `startswith(s, prefix)`).
fn param_name(f: Func, i: usize) -> String {
    match (f, i) {
        (Func::IpIn, 1) => return "network".to_string(),
        (Func::Format, 0) => return "format".to_string(),
        (Func::Capture | Func::Match | Func::Sub | Func::Gsub, 1) => return "pattern".to_string(),
        _ => {}
    }
    let sig = f.signature();
    let inside = sig.split_once('(').map_or("", |(_, rest)| rest.trim_end_matches(')'));
    let names = inside
        .split(',')
        .map(|n| n.trim_matches(|c: char| c == ' ' || c == '[' || c == ']'));
    match names.into_iter().nth(i) {
        Some(n) if n.chars().all(|c| c.is_alphanumeric() || c == '_') && !n.is_empty() => n.to_string(),
        _ => format!("argument {}", i + 1),
    }
}

/// Checks that a literal replacement refers only to groups its literal regex has, by the
/// regex crate's rule: `$name` takes every letter, digit and `_` after the `$`, so `$1x` names
/// a group `1x`, not group 1 then `x`; such a reference would silently insert nothing.
fn check_groups(args: &[Expr], span: Span) -> Result<(), LangError> {
    let (Some(Expr::Regex(re)), Some(Expr::Const(Val::Str(to)))) = (args.get(1), args.get(2)) else {
        return Ok(());
    };
    let has = |name: &str| match name.parse::<usize>() {
        Ok(i) => i < re.captures_len(),
        Err(_) => re.capture_names().flatten().any(|n| n == name),
    };
    match group_names(to).find(|name| !has(name)) {
        Some(name) => Err(LangError::new(
            format!("the replacement refers to ${name}, a group /{re}/ does not have"),
            span,
        )
        .hint("a group's name takes every letter, digit and _ after $: write ${1}x for group 1 then x, and $$ for a dollar sign")),
        None => Ok(()),
    }
}

/// The group names a replacement text refers to: `$name` and `${name}` (`$$` is a dollar sign).
fn group_names(to: &str) -> impl Iterator<Item = &str> {
    let mut rest = to;
    std::iter::from_fn(move || {
        loop {
            let at = rest.find('$')?;
            let after = &rest[at + 1..];
            if let Some(braced) = after.strip_prefix('{')
                && let Some(end) = braced.find('}')
            {
                rest = &braced[end + 1..];
                return Some(&braced[..end]);
            }
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            rest = after.strip_prefix('$').unwrap_or(&after[len..]);
            if len > 0 {
                return Some(&after[..len]);
            }
        }
    })
}

/// The call, or its value when it is known before any event: `env("HOME")`.
pub(super) fn fold(f: Func, args: Vec<Expr>) -> Expr {
    match (f, args.as_slice()) {
        (Func::Env, [Expr::Const(Val::Str(name))]) => {
            Expr::Const(std::env::var(name.as_ref()).map_or(Val::Null, Val::string))
        }
        _ => Expr::Call(f, args),
    }
}
