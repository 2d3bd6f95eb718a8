//! Parsing of the per-event pattern stages: `explode`, `sample`, `join` and `validate`.

use super::Parser;
use crate::lang::ast::{Rate, StageSpec};
use crate::lang::error::LangError;
use crate::lang::lexer::Tok;

/// The hint for a bad sampling rate.
const RATE_HINT: &str = "write a rate above 0 and at most 100%, e.g. sample 10%, sample 0.5% or sample 1/100";

/// Digits a rate may have after its decimal point.
const MAX_RATE_DECIMALS: u32 = 12;

impl Parser {
    /// `explode PATH [as NAME]`.
    pub(super) fn explode_stage(&mut self) -> Result<StageSpec, LangError> {
        let path = self.path()?;
        let name = if self.eat_word("as") { Some(self.path()?) } else { None };
        Ok(StageSpec::Explode { path, name })
    }

    /// `sample RATE [by EXPR]`.
    pub(super) fn sample_stage(&mut self) -> Result<StageSpec, LangError> {
        let rate = self.rate()?;
        let by = if self.eat_word("by") { Some(self.expr()?) } else { None };
        Ok(StageSpec::Sample { rate, by })
    }

    /// `join FILE on EXPR [= EXPR] [as NAME]`.
    pub(super) fn join_stage(&mut self) -> Result<StageSpec, LangError> {
        let file = self.file_name("join", "join \"users.csv\" on user_id = id")?;
        if !self.eat_word("on") {
            return Err(self
                .error_here("expected `on` and the key to join on")
                .hint("join \"users.csv\" on user_id = id (the event's expression, then the record's)"));
        }
        let on = self.expr()?;
        let key = if self.eat_punct("=") { self.expr()? } else { on.clone() };
        let name = if self.eat_word("as") { Some(self.path()?) } else { None };
        Ok(StageSpec::Join { file, on, key, name })
    }

    /// `validate SCHEMA_FILE`.
    pub(super) fn validate_stage(&mut self) -> Result<StageSpec, LangError> {
        let file = self.file_name("validate", "validate \"event.schema.json\"")?;
        Ok(StageSpec::Validate { file })
    }

    fn file_name(&mut self, stage: &str, example: &str) -> Result<String, LangError> {
        match self.peek() {
            Some(Tok::Str(s)) if !s.is_empty() => {
                let s = s.clone();
                self.advance();
                Ok(s)
            }
            _ => Err(self
                .error_here(&format!("expected the file `{stage}` reads, in double quotes"))
                .hint(format!("e.g. {example}"))),
        }
    }

    /// `10%`, `0.5%` or `1/100`: above 0 and at most 1.
    fn rate(&mut self) -> Result<Rate, LangError> {
        let start = self.span_here();
        let Some(Tok::Num(first)) = self.peek().cloned() else {
            return Err(self.error_here("expected a sampling rate").hint(RATE_HINT));
        };
        self.advance();
        let rate = if self.eat_punct("%") {
            percent(&first)
        } else if self.eat_punct("/") {
            match self.next().map(|t| t.tok) {
                Some(Tok::Num(d)) => fraction(&first, &d),
                _ => None,
            }
        } else {
            return Err(LangError::new("a sampling rate needs `%` or `/`", start).hint(RATE_HINT));
        };
        let span = start.to(self.prev_span());
        match rate {
            Some((num, den)) if num > 0 && num <= den => Ok(Rate {
                num,
                den,
                text: self.source_text(span).split_whitespace().collect(),
            }),
            Some(_) => Err(LangError::new("the sampling rate must be above 0 and at most 100%", span).hint(RATE_HINT)),
            None => Err(LangError::new(
                format!(
                    "a sampling rate is a percentage with at most {MAX_RATE_DECIMALS} decimals, no exponent, or a \
                     fraction of whole numbers"
                ),
                span,
            )
            .hint(RATE_HINT)),
        }
    }
}

/// `12.5` percent as `125 / 1000`; `None` for exponents or too many decimals.
fn percent(text: &str) -> Option<(u64, u64)> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let decimals = u32::try_from(frac.len()).ok().filter(|d| *d <= MAX_RATE_DECIMALS)?;
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scale = 10u64.pow(decimals);
    let num = int
        .parse::<u64>()
        .ok()?
        .checked_mul(scale)?
        .checked_add(frac.parse().unwrap_or(0))?;
    Some((num, scale.checked_mul(100)?))
}

/// `1/100` from two whole numbers.
fn fraction(num: &str, den: &str) -> Option<(u64, u64)> {
    Some((num.parse().ok()?, den.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parser::parse_pipeline;

    fn rate(src: &str) -> Result<(u64, u64), String> {
        match parse_pipeline(&format!("sample {src}")) {
            Ok(s) => match &s[0].spec {
                StageSpec::Sample { rate, .. } => Ok((rate.num, rate.den)),
                other => Err(format!("{other:?}")),
            },
            Err(e) => Err(e.message),
        }
    }

    #[test]
    fn rates_are_exact_fractions() {
        assert_eq!(rate("10%"), Ok((10, 100)));
        assert_eq!(rate("0.5%"), Ok((5, 1000)));
        assert_eq!(rate("100%"), Ok((100, 100)));
        assert_eq!(rate("1/100"), Ok((1, 100)));
        assert_eq!(rate("3/3"), Ok((3, 3)));
    }

    #[test]
    fn zero_and_more_than_all_are_refused() {
        for bad in ["0%", "0/5", "100.5%", "3/2", "1/0", "1e2%", "10", "%", "1/x"] {
            assert!(rate(bad).is_err(), "{bad}");
        }
        for (bad, says) in [
            ("0%", "above 0"),
            ("1e-30%", "no exponent"),
            ("0.0000000000001%", "12 decimals"),
        ] {
            let e = rate(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn join_reads_both_keys_and_the_name() {
        let s = parse_pipeline(r#"join "u.csv" on user.id = id as user"#).expect("parses");
        let StageSpec::Join { file, name, .. } = &s[0].spec else {
            panic!("{:?}", s[0].spec)
        };
        assert_eq!(file, "u.csv");
        assert_eq!(name.as_ref().map(ToString::to_string).as_deref(), Some("user"));
        assert!(parse_pipeline("join users.csv on id").is_err());
        assert!(parse_pipeline(r#"join "u.csv" id"#).is_err());
    }

    #[test]
    fn explode_takes_a_path_and_an_optional_name() {
        let s = parse_pipeline("explode items as item | explode tags[0].x").expect("parses");
        assert!(matches!(&s[0].spec, StageSpec::Explode { name: Some(_), .. }));
        assert!(matches!(&s[1].spec, StageSpec::Explode { name: None, .. }));
        assert!(parse_pipeline("explode").is_err());
    }
}
