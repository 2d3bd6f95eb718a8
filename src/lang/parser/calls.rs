//! Checks on function calls with literal arguments, done once when the pipeline is parsed:
//! formats and time zones are validated and literal patterns compiled, so no event pays.

use super::build_regex;
use crate::lang::ast::Expr;
use crate::lang::error::{LangError, Span};
use crate::lang::func::{Func, text, web};
use crate::lang::value::Val;

/// Validates the literal arguments of a call to `f`; a string pattern becomes a regex.
pub(super) fn check(f: Func, args: &mut [Expr], span: Span) -> Result<(), LangError> {
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
        }
        Func::IpIn => {
            if let Some(cidr) = literal(1).filter(|c| web::parse_cidr(c).is_none()) {
                return Err(LangError::new(format!("bad network \"{cidr}\""), span)
                    .hint("write a CIDR such as \"10.0.0.0/8\" or \"2001:db8::/32\", or one address"));
            }
        }
        Func::Format => {
            if let Some(fmt) = literal(0).filter(|fmt| !text::format_ok(fmt)) {
                return Err(LangError::new(format!("bad format \"{fmt}\""), span)
                    .hint("conversions are %s %d %f %.2f %x %05d %-10s, and %% for a percent sign"));
            }
        }
        _ => {}
    }
    Ok(())
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
