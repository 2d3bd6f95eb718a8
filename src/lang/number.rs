//! Exact decimal arithmetic on JSON number text: comparison and rounding that never go
//! through f64, so `1e400`, `-1e-400` and `9007199254740993.0` keep their values.

use std::cmp::Ordering;

/// Exponents are clamped to ±10^36: beyond, every number is infinitely large or small for any
/// practical purpose, and the arithmetic on exponents stays within i128.
const EXP_LIMIT: i128 = 1_000_000_000_000_000_000_000_000_000_000_000_000;

/// A finite number read from text: ±0.d₁d₂…dₙ × 10^exp, with d₁ ≠ 0 (or zero).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decimal<'t> {
    neg: bool,
    /// The digits before and after the point, as written.
    int: &'t [u8],
    frac: &'t [u8],
    /// Leading zeros of `int` followed by `frac`, which are not significant.
    lead: usize,
    /// Significant digits, without trailing zeros; 0 for zero.
    len: usize,
    exp: i128,
}

/// How `round_at` treats the dropped digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rounding {
    /// Toward zero (`int`).
    Trunc,
    /// To nearest, halves away from zero (`round`).
    HalfAway,
    /// Toward negative infinity (`floor`).
    Floor,
    /// Toward positive infinity (`ceil`).
    Ceil,
}

/// A rounded number: sign, significant digits (ASCII, none for zero) and exponent, as `Decimal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rounded {
    neg: bool,
    digits: Vec<u8>,
    exp: i128,
}

fn digits(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// The exponent after `e`: sign and digits, clamped to ±`EXP_LIMIT`.
fn parse_exp(s: &[u8]) -> Option<i128> {
    let (neg, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if s.is_empty() || digits(s) != s.len() {
        return None;
    }
    let e = s
        .iter()
        .fold(0i128, |e, d| (e * 10 + i128::from(d - b'0')).min(EXP_LIMIT));
    Some(if neg { -e } else { e })
}

impl<'t> Decimal<'t> {
    /// Parses `[+-]digits[.digits][(e|E)[+-]digits]` with at least one digit: JSON numbers and
    /// the looser forms `int()` accepts in strings (`+1`, `1.`, `.5`).
    pub(crate) fn parse(text: &'t str) -> Option<Decimal<'t>> {
        let b = text.as_bytes();
        let (neg, b) = match b.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, b),
        };
        let (int, b) = b.split_at(digits(b));
        let (frac, b) = match b.split_first() {
            Some((b'.', rest)) => rest.split_at(digits(rest)),
            _ => (&b[..0], b),
        };
        let e = match b.split_first() {
            None => 0,
            Some((b'e' | b'E', rest)) => parse_exp(rest)?,
            Some(_) => return None,
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let all = || int.iter().chain(frac);
        let lead = all().take_while(|&&d| d == b'0').count();
        let trail = all().rev().take_while(|&&d| d == b'0').count();
        let len = (int.len() + frac.len()).saturating_sub(lead + trail);
        let exp = (e + int.len() as i128 - lead as i128).clamp(-EXP_LIMIT, EXP_LIMIT);
        Some(Decimal {
            neg,
            int,
            frac,
            lead,
            len,
            exp,
        })
    }

    /// The `i`th significant digit (from 0), `0` past the last.
    fn digit(&self, i: usize) -> u8 {
        let j = self.lead + i;
        match (self.int.get(j), self.frac.get(j.wrapping_sub(self.int.len()))) {
            _ if i >= self.len => b'0',
            (Some(&d), _) => d,
            (None, Some(&d)) => d,
            (None, None) => b'0',
        }
    }

    fn is_zero(&self) -> bool {
        self.len == 0
    }

    /// -1, 0 or 1; zero has no sign, so `-0` equals `0`.
    fn signum(&self) -> i8 {
        match (self.is_zero(), self.neg) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        }
    }

    /// Exact comparison of the values.
    pub(crate) fn cmp(&self, other: &Decimal) -> Ordering {
        let by_sign = self.signum().cmp(&other.signum());
        if by_sign != Ordering::Equal || self.is_zero() {
            return by_sign;
        }
        let magnitude = self.exp.cmp(&other.exp).then_with(|| {
            (0..self.len.max(other.len))
                .map(|i| self.digit(i).cmp(&other.digit(i)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        if self.neg { magnitude.reverse() } else { magnitude }
    }

    /// The value rounded to `places` digits after the point (negative: to tens, hundreds…).
    pub(crate) fn round_at(&self, places: i128, mode: Rounding) -> Rounded {
        let zero = Rounded {
            neg: false,
            digits: Vec::new(),
            exp: 0,
        };
        if self.is_zero() {
            return zero;
        }
        // Significant digits kept: the ones before the rounding position.
        let keep = self.exp.saturating_add(places);
        if keep >= self.len as i128 {
            let digits = (0..self.len).map(|i| self.digit(i)).collect();
            return Rounded {
                neg: self.neg,
                digits,
                exp: self.exp,
            };
        }
        let first_dropped = if keep >= 0 { self.digit(keep as usize) } else { b'0' };
        // Dropped digits are never all zero here: the last significant digit is dropped.
        let up = match mode {
            Rounding::Trunc => false,
            Rounding::HalfAway => first_dropped >= b'5',
            Rounding::Floor => self.neg,
            Rounding::Ceil => !self.neg,
        };
        let unit_exp = 1i128.saturating_sub(places);
        match (keep > 0, up) {
            (false, false) => zero,
            (false, true) => Rounded {
                neg: self.neg,
                digits: vec![b'1'],
                exp: unit_exp,
            },
            (true, _) => {
                let kept: Vec<u8> = (0..keep as usize).map(|i| self.digit(i)).collect();
                let r = Rounded {
                    neg: self.neg,
                    digits: kept,
                    exp: self.exp,
                };
                if up { r.incremented() } else { r.trimmed() }
            }
        }
    }
}

impl Rounded {
    /// Adds one unit in the last kept digit to the magnitude.
    fn incremented(mut self) -> Rounded {
        match self.digits.iter().rposition(|&d| d != b'9') {
            Some(i) => {
                self.digits[i] += 1;
                self.digits.truncate(i + 1);
            }
            None => {
                self.digits = vec![b'1'];
                self.exp = self.exp.saturating_add(1);
            }
        }
        self
    }

    fn trimmed(mut self) -> Rounded {
        let n = self.digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
        self.digits.truncate(n);
        if n == 0 {
            self.neg = false;
        }
        self
    }

    /// The value as an i128, when it is an integer that fits.
    pub(crate) fn to_i128(&self) -> Option<i128> {
        let n = self.digits.len() as i128;
        if self.digits.is_empty() {
            return Some(0);
        }
        if self.exp < n || self.exp > 39 {
            return None;
        }
        let zeros = (self.exp - n) as usize;
        let mut text = String::with_capacity(41);
        if self.neg {
            text.push('-');
        }
        text.extend(self.digits.iter().map(|&d| char::from(d)));
        text.extend(std::iter::repeat_n('0', zeros));
        text.parse().ok()
    }

    /// JSON number text: plain for exponents from -5 to 21, scientific beyond.
    pub(crate) fn to_text(&self) -> String {
        let d: String = self.digits.iter().map(|&d| char::from(d)).collect();
        let sign = if self.neg { "-" } else { "" };
        let (n, e) = (d.len() as i128, self.exp);
        match e {
            _ if d.is_empty() => "0".to_string(),
            1..=21 if e >= n => format!("{sign}{d}{}", "0".repeat((e - n) as usize)),
            1..=21 => format!("{sign}{}.{}", &d[..e as usize], &d[e as usize..]),
            -5..=0 => format!("{sign}0.{}{d}", "0".repeat(-e as usize)),
            _ => {
                let (first, rest) = d.split_at(1);
                let point = if rest.is_empty() { "" } else { "." };
                format!("{sign}{first}{point}{rest}e{}", e - 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(t: &str) -> Decimal<'_> {
        Decimal::parse(t).unwrap_or_else(|| panic!("{t} parses"))
    }

    fn round(t: &str, places: i128, mode: Rounding) -> String {
        dec(t).round_at(places, mode).to_text()
    }

    #[test]
    fn comparison_is_exact_beyond_f64() {
        assert_eq!(
            dec("9007199254740993.0").cmp(&dec("9007199254740992")),
            Ordering::Greater
        );
        assert_eq!(dec("-1e-400").cmp(&dec("0")), Ordering::Less);
        assert_eq!(dec("1e400").cmp(&dec("1e399")), Ordering::Greater);
        assert_eq!(dec("1e-400").cmp(&dec("-0")), Ordering::Greater);
        assert_eq!(dec("-0.0").cmp(&dec("0e7")), Ordering::Equal);
        assert_eq!(dec("-2").cmp(&dec("-10")), Ordering::Greater);
    }

    #[test]
    fn equal_values_in_different_notation_compare_equal() {
        for (a, b) in [
            ("1.0", "1"),
            ("100", "1e2"),
            ("0.0012", "12E-4"),
            ("-1.50", "-15e-1"),
            ("00.5", "+.5"),
        ] {
            assert_eq!(dec(a).cmp(&dec(b)), Ordering::Equal, "{a} vs {b}");
        }
    }

    #[test]
    fn text_without_digits_or_with_junk_is_not_a_number() {
        for t in ["", "-", ".", "e5", "1e", "1e+", "1x", "1.2.3", "inf", "NaN", "--1"] {
            assert!(Decimal::parse(t).is_none(), "{t}");
        }
    }

    #[test]
    fn huge_exponents_saturate_without_overflow() {
        let big = "1e99999999999999999999999999999999999999999999";
        assert_eq!(dec(big).cmp(&dec("1e400")), Ordering::Greater);
        assert_eq!(
            dec("1e-99999999999999999999999999999999999999999").cmp(&dec("0")),
            Ordering::Greater
        );
        assert_eq!(round(big, i128::MIN, Rounding::HalfAway), "0");
        assert_eq!(round("-0.5", i128::MAX, Rounding::Floor), "-0.5");
    }

    #[test]
    fn rounding_modes_follow_their_direction() {
        assert_eq!(round("2.5", 0, Rounding::HalfAway), "3");
        assert_eq!(round("-2.5", 0, Rounding::HalfAway), "-3");
        assert_eq!(round("2.49", 0, Rounding::HalfAway), "2");
        assert_eq!(round("-2.1", 0, Rounding::Floor), "-3");
        assert_eq!(round("-2.9", 0, Rounding::Ceil), "-2");
        assert_eq!(round("-2.9", 0, Rounding::Trunc), "-2");
        assert_eq!(round("0.4", 0, Rounding::HalfAway), "0");
        assert_eq!(round("-0.4", 0, Rounding::Floor), "-1");
        assert_eq!(round("0.001", 0, Rounding::Ceil), "1");
        assert_eq!(round("9.99", 1, Rounding::HalfAway), "10");
    }

    #[test]
    fn negative_places_round_to_tens_and_hundreds() {
        assert_eq!(round("7", -1, Rounding::HalfAway), "10");
        assert_eq!(round("1249", -2, Rounding::HalfAway), "1200");
        assert_eq!(round("1250", -2, Rounding::HalfAway), "1300");
        assert_eq!(round("4", -1, Rounding::HalfAway), "0");
        assert_eq!(round("-7", -3, Rounding::Floor), "-1000");
        assert_eq!(round("999", -1, Rounding::HalfAway), "1000");
    }

    #[test]
    fn rounded_text_is_plain_for_moderate_exponents_and_scientific_beyond() {
        assert_eq!(round("1e400", 0, Rounding::HalfAway), "1e400");
        assert_eq!(round("1.5e-400", 400, Rounding::HalfAway), "2e-400");
        assert_eq!(round("123.456", 2, Rounding::HalfAway), "123.46");
        assert_eq!(round("0.000123456", 5, Rounding::HalfAway), "0.00012");
        assert_eq!(
            round("12345678901234567890123", 0, Rounding::Trunc),
            "1.2345678901234567890123e22"
        );
    }

    #[test]
    fn integers_that_fit_convert_exactly() {
        assert_eq!(
            dec("9007199254740993.7").round_at(0, Rounding::Trunc).to_i128(),
            Some(9007199254740993)
        );
        assert_eq!(
            dec("-1.7e38").round_at(0, Rounding::Trunc).to_i128(),
            Some(-170_000_000_000_000_000_000_000_000_000_000_000_000)
        );
        assert_eq!(dec("1e39").round_at(0, Rounding::Trunc).to_i128(), None);
        assert_eq!(dec("0.5").round_at(1, Rounding::Trunc).to_i128(), None);
    }
}
