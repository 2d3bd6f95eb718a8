//! The built-in functions: names, arities and what they compute. All are total:
//! a wrong argument type gives `null`, never an error.

use super::ast::Expr;
use super::eval::Record;
use super::eval::{Env, array_within};
use super::number::{Decimal, Rounded, Rounding};
use super::value::{Numeric, Val};
use crate::time;
use serde_json::Value;
use std::borrow::Cow;
use std::hash::Hasher;

mod array;
mod clock;
#[cfg(test)]
mod props;
pub(crate) mod text;
pub(crate) mod web;

macro_rules! funcs {
    ($($variant:ident $name:literal $min:literal $max:literal $sig:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Func { $($variant),* }

        impl Func {
            pub(crate) const NAMES: &'static [&'static str] = &[$($name),*];

            pub(crate) fn from_name(name: &str) -> Option<Func> {
                match name { $($name => Some(Func::$variant),)* _ => None }
            }

            /// The name the function is called by.
            pub(crate) fn name(self) -> &'static str {
                match self { $(Func::$variant => $name),* }
            }

            /// Smallest and largest number of arguments.
            pub(crate) fn arity(self) -> (usize, usize) {
                match self { $(Func::$variant => ($min, $max)),* }
            }

            /// How the function is called, for errors: `substr(s, start[, len])`.
            pub(crate) fn signature(self) -> &'static str {
                match self { $(Func::$variant => $sig),* }
            }
        }
    };
}

funcs! {
    Len "len" 1 1 "len(x)",
    Lower "lower" 1 1 "lower(s)",
    Upper "upper" 1 1 "upper(s)",
    Trim "trim" 1 1 "trim(s)",
    Contains "contains" 2 2 "contains(s, t)",
    StartsWith "startswith" 2 2 "startswith(s, prefix)",
    EndsWith "endswith" 2 2 "endswith(s, suffix)",
    Replace "replace" 3 3 "replace(s, from, to)",
    Split "split" 2 2 "split(s, sep)",
    Join "join" 2 2 "join(array, sep)",
    Substr "substr" 2 3 "substr(s, start[, len])",
    Str "str" 1 1 "str(x)",
    Int "int" 1 1 "int(x)",
    Float "float" 1 1 "float(x)",
    Round "round" 1 2 "round(x[, digits])",
    Floor "floor" 1 1 "floor(x)",
    Ceil "ceil" 1 1 "ceil(x)",
    Abs "abs" 1 1 "abs(x)",
    Min "min" 1 64 "min(x, …)",
    Max "max" 1 64 "max(x, …)",
    Coalesce "coalesce" 1 64 "coalesce(x, …)",
    Exists "exists" 1 1 "exists(path)",
    Type "type" 1 1 "type(x)",
    Hash "hash" 1 64 "hash(x, …)",
    Time "time" 1 1 "time(x)",
    Strftime "strftime" 2 3 "strftime(t, fmt[, tz])",
    Bucket "bucket" 2 2 "bucket(t, DUR)",
    Now "now" 0 0 "now()",
    File "file" 0 0 "file()",
    Line "line" 0 0 "line()",
    Offset "offset" 0 0 "offset()",
    Subject "subject" 0 0 "subject()",
    Topic "topic" 0 0 "topic()",
    Raw "raw" 0 0 "raw()",
    Keys "keys" 1 1 "keys(object_or_array)",
    Values "values" 1 1 "values(object_or_array)",
    Unique "unique" 1 1 "unique(array)",
    Sort "sort" 1 1 "sort(array)",
    Reverse "reverse" 1 1 "reverse(array_or_string)",
    Flatten "flatten" 1 2 "flatten(array[, depth])",
    First "first" 1 1 "first(array)",
    Last "last" 1 1 "last(array)",
    Sum "sum" 1 1 "sum(array)",
    Map "map" 2 2 "map(array, x => expr)",
    Filter "filter" 2 2 "filter(array, x => cond)",
    Any "any" 2 2 "any(array, x => cond)",
    All "all" 2 2 "all(array, x => cond)",
    Capture "capture" 2 2 "capture(s, /(?P<name>re)/)",
    Match "match" 2 2 "match(s, /re/)",
    Sub "sub" 3 3 "sub(s, /re/, replacement)",
    Gsub "gsub" 3 3 "gsub(s, /re/, replacement)",
    Format "format" 1 64 "format(\"%s:%05d\", x, …)",
    PadLeft "pad_left" 2 3 "pad_left(s, width[, char])",
    PadRight "pad_right" 2 3 "pad_right(s, width[, char])",
    Repeat "repeat" 2 2 "repeat(s, n)",
    UrlEncode "url_encode" 1 1 "url_encode(s)",
    UrlDecode "url_decode" 1 1 "url_decode(s)",
    Base64Encode "base64_encode" 1 1 "base64_encode(s)",
    Base64Decode "base64_decode" 1 1 "base64_decode(s)",
    Md5 "md5" 1 1 "md5(s)",
    Sha1 "sha1" 1 1 "sha1(s)",
    Sha256 "sha256" 1 1 "sha256(s)",
    ParseUrl "parse_url" 1 1 "parse_url(s)",
    IpIn "ip_in" 2 2 "ip_in(ip, \"10.0.0.0/8\")",
    ToNumber "to_number" 1 1 "to_number(s)",
    Log "log" 1 1 "log(x)",
    Log10 "log10" 1 1 "log10(x)",
    Exp "exp" 1 1 "exp(x)",
    Sqrt "sqrt" 1 1 "sqrt(x)",
    Pow "pow" 2 2 "pow(x, y)",
    Env "env" 1 1 "env(\"NAME\")",
    Strptime "strptime" 2 2 "strptime(s, fmt)",
}

impl Func {
    /// True for the functions whose second argument is a lambda `x => expr`.
    pub(crate) fn takes_lambda(self) -> bool {
        matches!(self, Func::Map | Func::Filter | Func::Any | Func::All)
    }
}

/// A stable 64-bit hash (xxHash64, seed 0) of values' text, the same on every machine.
pub(crate) fn hash_vals(vals: &[Val]) -> u64 {
    let mut h = twox_hash::XxHash64::with_seed(0);
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            h.write(&[0x1f]);
        }
        h.write(v.to_text().as_bytes());
    }
    h.finish()
}

/// Unix seconds of a time value: a number by magnitude or a string in any accepted format,
/// `--time-format` (from `env`) included.
pub(crate) fn time_of(v: &Val, env: &Env) -> Option<f64> {
    match v {
        Val::Str(s) => time::parse_str(s, env.time_format.as_deref()),
        Val::Num(text) => time::from_decimal(text),
        Val::Int(i) => time::from_integer(*i),
        v => time::from_number(v.numeric()?.as_f64()),
    }
}

pub(crate) fn num_val(f: f64) -> Val<'static> {
    if f.fract() == 0.0 && f.abs() < crate::json::EXACT_INTEGERS {
        Val::Int(f as i64)
    } else {
        Val::float(f)
    }
}

fn map_str(v: Val<'_>, f: impl FnOnce(&str) -> String) -> Val<'_> {
    match v {
        Val::Str(s) => text::made(f(&s)),
        _ => Val::Null,
    }
}

/// A rounded number: an integer when it fits 128 bits, else its exact text.
fn rounded_val(r: &Rounded) -> Val<'static> {
    match r.to_i128() {
        Some(i) => Numeric::I(i).into_val(),
        None => Val::Num(Cow::Owned(r.to_text())),
    }
}

/// `v` rounded to `places` digits after the point, exactly (never through f64).
pub(super) fn round_val(v: &Val, places: i128, mode: Rounding) -> Val<'static> {
    if let (Val::Int(i), true) = (v, places >= 0) {
        return Val::Int(*i);
    }
    let Some(text) = v.decimal_text() else { return Val::Null };
    Decimal::parse(&text).map_or(Val::Null, |d| rounded_val(&d.round_at(places, mode)))
}

/// Elements of a lone array argument, or the arguments themselves.
fn spread(args: Vec<Val<'_>>) -> Vec<Val<'_>> {
    if let [Val::Json(v)] = args.as_slice() {
        if let Value::Array(a) = v.as_ref() {
            return a.iter().map(|x| Val::from_owned_value(x.clone())).collect();
        }
    }
    args
}

/// Stands for an argument that the parser's arity check lets no call lack.
const NO_ARG: &Expr = &Expr::Const(Val::Null);

pub(crate) fn call<'e>(f: Func, args: &'e [Expr], ev: &'e (dyn Record + 'e), env: &Env) -> Val<'e> {
    let expr = |i: usize| args.get(i).unwrap_or(NO_ARG);
    let arg = |i: usize| expr(i).eval(ev, env);
    match f {
        Func::Now => Val::Float(env.now),
        Func::File => ev
            .file()
            .map_or(Val::Null, |f| Val::Str(Cow::Owned(env.file_name(f).to_string()))),
        Func::Line => ev.line().map_or(Val::Null, |l| Val::Int(l as i64)),
        Func::Offset => ev.offset().map_or(Val::Null, |o| Val::Int(o as i64)),
        Func::Subject => ev
            .line()
            .and_then(|line| env.subjects.get(line))
            .map_or(Val::Null, |s| Val::string(s.to_string())),
        Func::Topic => ev.topic().map_or(Val::Null, |t| Val::string(t.to_string())),
        Func::Raw => Val::str(ev.raw()),
        Func::Exists => match expr(0) {
            Expr::Path(p) => Val::Bool(ev.lookup(p).is_some()),
            e => Val::Bool(!e.eval(ev, env).is_null()),
        },
        Func::Coalesce => args
            .iter()
            .map(|a| a.eval(ev, env))
            .find(|v| !v.is_null())
            .unwrap_or(Val::Null),
        Func::Len => match arg(0) {
            Val::Str(s) => Val::Int(s.chars().count() as i64),
            Val::Json(v) => match v.as_ref() {
                Value::Array(a) => Val::Int(a.len() as i64),
                Value::Object(m) => Val::Int(m.len() as i64),
                _ => Val::Null,
            },
            _ => Val::Null,
        },
        Func::Lower => map_str(arg(0), str::to_lowercase),
        Func::Upper => map_str(arg(0), str::to_uppercase),
        Func::Trim => match arg(0) {
            Val::Str(Cow::Borrowed(s)) => Val::str(s.trim()),
            v => map_str(v, |s| s.trim().to_string()),
        },
        Func::Contains => {
            let (a, b) = (arg(0), arg(1));
            Val::Bool(match (&a, &b) {
                (Val::Str(s), Val::Str(t)) => s.contains(t.as_ref()),
                (Val::Json(v), x) => match v.as_ref() {
                    Value::Array(items) => items.iter().any(|i| Val::from_value(i).equals(x)),
                    Value::Object(m) => x.as_str().is_some_and(|k| m.contains_key(k)),
                    _ => false,
                },
                _ => false,
            })
        }
        Func::StartsWith | Func::EndsWith => match (arg(0), arg(1)) {
            (Val::Str(s), Val::Str(t)) => Val::Bool(if f == Func::StartsWith {
                s.starts_with(t.as_ref())
            } else {
                s.ends_with(t.as_ref())
            }),
            _ => Val::Bool(false),
        },
        Func::Replace => {
            let Val::Str(s) = arg(0) else { return Val::Null };
            let Val::Str(with) = arg(2) else { return Val::Null };
            match expr(1) {
                Expr::Regex(re) => text::replace_within(re, &s, &with, usize::MAX).map_or(Val::Null, Val::string),
                e => match e.eval(ev, env) {
                    Val::Str(pat) if !pat.is_empty() => {
                        text::replace_text(&s, &pat, &with).map_or(Val::Null, Val::string)
                    }
                    Val::Str(_) => Val::Str(s),
                    _ => Val::Null,
                },
            }
        }
        Func::Split => {
            let Val::Str(s) = arg(0) else { return Val::Null };
            let piece = |p: &str| Value::String(p.into());
            match expr(1) {
                Expr::Regex(re) => array_within(re.split(&s).map(piece), env),
                e => match e.eval(ev, env) {
                    Val::Str(sep) if sep.is_empty() => array_within(s.chars().map(|c| Value::String(c.into())), env),
                    Val::Str(sep) => array_within(s.split(sep.as_ref()).map(piece), env),
                    _ => Val::Null,
                },
            }
        }
        Func::Join => {
            let Val::Json(v) = arg(0) else { return Val::Null };
            let Some(items) = v.as_array() else { return Val::Null };
            let sep = arg(1);
            let sep = sep.as_str().unwrap_or("");
            // A null is an empty text, as in jq: every element keeps its place between separators.
            let mut out = String::new();
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(sep);
                }
                if !item.is_null() {
                    out.push_str(&Val::from_value(item).to_text());
                }
                if out.len() > text::MAX_TEXT {
                    return Val::Null;
                }
            }
            Val::string(out)
        }
        Func::Substr => {
            let Val::Str(s) = arg(0) else { return Val::Null };
            let Some(start) = arg(1).numeric().and_then(Numeric::whole) else {
                return Val::Null;
            };
            let n = s.chars().count() as i128;
            let start = if start < 0 { (n + start).max(0) } else { start.min(n) };
            let len = match args.get(2).map(|e| e.eval(ev, env).numeric().and_then(Numeric::whole)) {
                None => n - start,
                Some(Some(l)) => l.clamp(0, n - start),
                Some(None) => return Val::Null,
            };
            Val::string(s.chars().skip(start as usize).take(len as usize).collect())
        }
        Func::Str => match arg(0) {
            Val::Str(s) => Val::Str(s),
            v => text::made(v.to_text().into_owned()),
        },
        Func::Int => match arg(0) {
            Val::Str(s) => Decimal::parse(s.trim()).map_or(Val::Null, |d| rounded_val(&d.round_at(0, Rounding::Trunc))),
            Val::Bool(b) => Val::Int(i64::from(b)),
            v => round_val(&v, 0, Rounding::Trunc),
        },
        Func::Float => {
            let v = arg(0);
            let n = match &v {
                Val::Str(s) => s.trim().parse::<f64>().ok(),
                v => v.numeric().map(Numeric::as_f64),
            };
            n.map_or(Val::Null, Val::float)
        }
        Func::Round => {
            let places = match args.get(1).map(|e| e.eval(ev, env).numeric().and_then(Numeric::whole)) {
                None => 0,
                Some(Some(d)) => d,
                Some(None) => return Val::Null,
            };
            round_val(&arg(0), places, Rounding::HalfAway)
        }
        Func::Floor => round_val(&arg(0), 0, Rounding::Floor),
        Func::Ceil => round_val(&arg(0), 0, Rounding::Ceil),
        Func::Abs => arg(0).abs(),
        Func::Min | Func::Max => {
            let vals = spread(args.iter().map(|a| a.eval(ev, env)).collect());
            let it = vals.into_iter().filter(|v| !v.is_null());
            let best = if f == Func::Min {
                it.min_by(|a, b| a.sort_cmp(b))
            } else {
                it.max_by(|a, b| a.sort_cmp(b))
            };
            best.unwrap_or(Val::Null)
        }
        Func::Type => Val::str(arg(0).type_name()),
        Func::Hash => {
            let vals: Vec<Val> = args.iter().map(|a| a.eval(ev, env)).collect();
            Numeric::I(i128::from(hash_vals(&vals))).into_val()
        }
        Func::Time => time_of(&arg(0), env).map_or(Val::Null, Val::float),
        Func::Strftime => {
            let Some(t) = time_of(&arg(0), env) else {
                return Val::Null;
            };
            let fmt = arg(1);
            let Some(fmt) = fmt.as_str() else { return Val::Null };
            let text = match args.get(2).map(|e| e.eval(ev, env)) {
                None => time::strftime(t, fmt),
                Some(Val::Str(tz)) => clock::strftime_in(t, fmt, &tz),
                Some(_) => None,
            };
            text.map_or(Val::Null, Val::string)
        }
        Func::Bucket => {
            let (Some(t), Some(d)) = (time_of(&arg(0), env), arg(1).numeric().map(Numeric::as_f64)) else {
                return Val::Null;
            };
            if d <= 0.0 {
                return Val::Null;
            }
            let shift = crate::time::utc_shift(d);
            num_val(crate::time::slot_start(crate::time::slot(t, d, shift), d, shift))
        }
        Func::Map | Func::Filter | Func::Any | Func::All => array::each(f, args, ev, env),
        Func::Keys
        | Func::Values
        | Func::Unique
        | Func::Sort
        | Func::Reverse
        | Func::Flatten
        | Func::First
        | Func::Last
        | Func::Sum => array::call(f, arg(0), args.get(1).map(|e| e.eval(ev, env))),
        _ => text::call(f, args, ev, env),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn num(t: &str) -> Val<'static> {
        Val::number_text(Cow::Owned(t.to_string()))
    }

    fn text(v: Val) -> String {
        v.to_text().into_owned()
    }

    #[test]
    fn negative_digits_round_integers_to_tens_and_hundreds() {
        assert_eq!(round_val(&Val::Int(7), -1, Rounding::HalfAway), Val::Int(10));
        assert_eq!(round_val(&Val::Int(-15), -1, Rounding::HalfAway), Val::Int(-20));
        assert_eq!(round_val(&Val::Int(1249), -2, Rounding::HalfAway), Val::Int(1200));
        assert_eq!(round_val(&Val::Int(7), -30, Rounding::HalfAway), Val::Int(0));
        assert_eq!(
            text(round_val(&Val::Int(i64::MAX), -1, Rounding::HalfAway)),
            "9223372036854775810"
        );
        assert_eq!(round_val(&Val::Float(1234.5), -2, Rounding::HalfAway), Val::Int(1200));
    }

    #[test]
    fn rounding_never_goes_through_f64() {
        assert_eq!(
            text(round_val(&num("9007199254740993.0"), 0, Rounding::Trunc)),
            "9007199254740993"
        );
        assert_eq!(
            text(round_val(&num("9007199254740993.5"), 0, Rounding::HalfAway)),
            "9007199254740994"
        );
        assert_eq!(text(round_val(&num("1e400"), 0, Rounding::HalfAway)), "1e400");
        assert_eq!(text(round_val(&num("-1e400"), 0, Rounding::Floor)), "-1e400");
        assert_eq!(text(round_val(&num("1.5e-400"), 0, Rounding::Ceil)), "1");
        assert_eq!(text(round_val(&num("2.675"), 2, Rounding::HalfAway)), "2.68");
        assert_eq!(text(round_val(&Val::Float(0.1 + 0.2), 2, Rounding::HalfAway)), "0.3");
        assert_eq!(round_val(&Val::str("1"), 0, Rounding::HalfAway), Val::Null);
        assert_eq!(round_val(&Val::Float(f64::INFINITY), 0, Rounding::HalfAway), Val::Null);
    }

    use crate::lang::eval::tests::check_table;

    const EV: &str = r#"{"s":"ÄbÇ","w":"  padded \t","t":"2026-11-01T10:07:30Z","ms":1700000000123,"n":null,"tags":["a",null,1,true],"o":{"k":1}}"#;

    #[test]
    fn string_functions_count_characters_and_give_null_for_other_types() {
        check_table(&[
            ("len(s)", EV, "3"),
            (r#"len("héllo👍")"#, EV, "6"),
            ("len(tags)", EV, "4"),
            ("len(o)", EV, "1"),
            ("len(5)", EV, "null"),
            ("len(n)", EV, "null"),
            ("lower(s)", EV, r#""äbç""#),
            (r#"upper("straße")"#, EV, r#""STRASSE""#),
            ("upper(1)", EV, "null"),
            ("trim(w)", EV, r#""padded""#),
            ("trim(tags)", EV, "null"),
            (r#"contains(s, "bÇ")"#, EV, "true"),
            (r#"contains(tags, "a")"#, EV, "true"),
            ("contains(tags, 1.0)", EV, "true"),
            (r#"contains(o, "k")"#, EV, "true"),
            ("contains(5, 5)", EV, "false"),
            (r#"startswith(s, "Ä")"#, EV, "true"),
            (r#"endswith(s, "Ç")"#, EV, "true"),
            (r#"startswith(1, "1")"#, EV, "false"),
            (r#"replace("a.b.c", ".", "/")"#, EV, r#""a/b/c""#),
            (r#"replace("aXbx", /x/i, "_")"#, EV, r#""a_b_""#),
            (r#"replace("abc", "", "_")"#, EV, r#""abc""#),
            (r#"replace("abc", "b", ms)"#, EV, "null"),
            (r#"replace(1, "1", "2")"#, EV, "null"),
        ]);
    }

    #[test]
    fn split_join_and_substr_keep_to_their_bounds() {
        check_table(&[
            (r#"split("a,b,,c", ",")"#, EV, r#"["a","b","","c"]"#),
            (r#"split("héj", "")"#, EV, r#"["h","é","j"]"#),
            (r#"split("a1b22c", /\d+/)"#, EV, r#"["a","b","c"]"#),
            (r#"split("", ",")"#, EV, r#"[""]"#),
            ("split(tags, 1 + 0)", EV, "null"),
            ("split(s, ms)", EV, "null"),
            (r#"join(tags, "-")"#, EV, r#""a--1-true""#),
            ("join(tags, ms)", EV, r#""a1true""#),
            (r#"join([], "-")"#, EV, r#""""#),
            (r#"join(s, "-")"#, EV, "null"),
            (r#"join(["x", null, "z", null], ",")"#, EV, r#""x,,z,""#),
            (r#"substr("héllo", 1)"#, EV, r#""éllo""#),
            (r#"substr("héllo", -3, 2)"#, EV, r#""ll""#),
            (r#"substr("abc", -10)"#, EV, r#""abc""#),
            (r#"substr("abc", 5)"#, EV, r#""""#),
            (r#"substr("abc", 1, 99)"#, EV, r#""bc""#),
            (r#"substr("abc", 1, -1)"#, EV, r#""""#),
            (r#"substr("abc", 1.5)"#, EV, "null"),
            (r#"substr("abc", 0, s)"#, EV, "null"),
            ("substr(5, 0)", EV, "null"),
        ]);
    }

    #[test]
    fn conversions_and_numbers_are_exact_or_null() {
        check_table(&[
            ("str(o)", EV, r#""{\"k\":1}""#),
            ("str(n)", EV, r#""null""#),
            (r#"int("42.9")"#, EV, "42"),
            (r#"int(" -7 ")"#, EV, "-7"),
            ("int(true)", EV, "1"),
            (r#"int("x")"#, EV, "null"),
            ("int(tags)", EV, "null"),
            (r#"float("2.5")"#, EV, "2.5"),
            (r#"float("x")"#, EV, "null"),
            ("round(2.5)", EV, "3"),
            ("round(-2.5)", EV, "-3"),
            ("round(1.2345, 2)", EV, "1.23"),
            ("round(1.5, s)", EV, "null"),
            ("floor(-1.5)", EV, "-2"),
            ("ceil(1.1)", EV, "2"),
            ("abs(-3)", EV, "3"),
            (r#"abs("3")"#, EV, "null"),
            (r#"min(3, "a", n, 1)"#, EV, "1"),
            (r#"max(3, "a", n, 1)"#, EV, r#""a""#),
            ("max([3, 1, 7])", EV, "7"),
            ("min([3, null, 1])", EV, "1"),
            ("min(n)", EV, "null"),
            ("coalesce(n, missing, 0, 1)", EV, "0"),
            ("coalesce(n)", EV, "null"),
            ("type(n)", EV, r#""null""#),
            ("type(missing)", EV, r#""null""#),
            ("type(1.5)", EV, r#""number""#),
            ("type(tags)", EV, r#""array""#),
            ("type(o)", EV, r#""object""#),
            ("type(s)", EV, r#""string""#),
            ("type(true)", EV, r#""boolean""#),
        ]);
    }

    #[test]
    fn exists_tells_a_missing_key_from_null() {
        check_table(&[
            ("exists(n)", EV, "true"),
            ("exists(missing)", EV, "false"),
            ("exists(o.k)", EV, "true"),
            ("exists(o.k.z)", EV, "false"),
            ("exists(tags[3])", EV, "true"),
            ("exists(tags[4])", EV, "false"),
        ]);
    }

    #[test]
    fn time_functions_parse_times_and_give_null_otherwise() {
        check_table(&[
            ("time(t)", EV, "1793527650"),
            ("time(ms)", EV, "1700000000.123"),
            (r#"time("nope")"#, EV, "null"),
            ("time(tags)", EV, "null"),
            (r#"strftime(t, "%Y-%m-%d %H")"#, EV, r#""2026-11-01 10""#),
            (r#"strftime("nope", "%Y")"#, EV, "null"),
            ("strftime(t, ms)", EV, "null"),
            ("bucket(t, 5m)", EV, "1793527500"),
            ("bucket(t, ms - ms)", EV, "null"),
            ("bucket(t, ms - ms - 300)", EV, "null"),
            ("bucket(n, 5m)", EV, "null"),
        ]);
    }

    #[test]
    fn metadata_functions_read_the_event_origin() {
        check_table(&[
            ("line()", EV, "7"),
            ("offset()", EV, "42"),
            ("file()", EV, r#""-""#),
            ("topic()", EV, "null"),
            ("subject()", EV, "null"),
            ("raw()", r#"{"a": 1}"#, r#""{\"a\": 1}""#),
        ]);
    }

    #[test]
    fn hash_is_stable_and_separates_its_arguments() {
        check_table(&[
            // xxHash64 of "a" with seed 0: the same on every machine and version.
            (r#"hash("a")"#, EV, "15154266338359012955"),
            (r#"hash("a", "b") == hash("a", "b")"#, EV, "true"),
            (r#"hash("a", "b") == hash("ab")"#, EV, "false"),
            (r#"hash("a", "b") == hash("b", "a")"#, EV, "false"),
        ]);
    }

    proptest! {
        #[test]
        fn integer_rounding_matches_integer_arithmetic(i in any::<i64>(), places in -20i128..3) {
            let got = round_val(&Val::Int(i), places, Rounding::HalfAway);
            let want = if places >= 0 {
                i128::from(i)
            } else {
                let unit = 10i128.pow((-places) as u32);
                let half_up = (i128::from(i).abs() + unit / 2) / unit * unit;
                if i < 0 { -half_up } else { half_up }
            };
            prop_assert_eq!(got, Numeric::I(want).into_val());
        }

        #[test]
        fn float_rounding_agrees_with_f64_where_f64_is_exact(x in -1e6..1e6f64) {
            prop_assert_eq!(round_val(&Val::Float(x), 0, Rounding::Floor), num_val(x.floor()));
            prop_assert_eq!(round_val(&Val::Float(x), 0, Rounding::Ceil), num_val(x.ceil()));
            prop_assert_eq!(round_val(&Val::Float(x), 0, Rounding::Trunc), num_val(x.trunc()));
        }
    }
}
