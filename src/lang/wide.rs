//! Integers past the 128 bits of [`Numeric::I`]: arithmetic and sums that would overflow i128, or
//! whose operands are integer text too long for it, are done exactly in a `BigInt`, so that
//! `sum` and `+ - * / %` never silently turn whole numbers into doubles.
//!
//! Operands are limited to [`MAX_DIGITS`] digits: past that, a number is a double (which is
//! ±infinity long before), so hostile input cannot make one multiplication take seconds.

use super::value::{Numeric, Val};
use num_bigint::BigInt;
use std::borrow::Cow;

/// The longest integer text taken exactly: ten times the digits of an i128, far beyond
/// what a double can hold (309 digits).
const MAX_DIGITS: usize = 400;

/// The value as an exact integer: an integer number, or integer text of at most
/// [`MAX_DIGITS`] digits. `None` for floats, fractions, exponents and non-numbers.
pub(crate) fn integer(v: &Val) -> Option<BigInt> {
    match v {
        Val::Int(i) => Some(BigInt::from(*i)),
        Val::Num(text) => integer_text(text),
        _ => None,
    }
}

/// Whether [`integer`] takes the value, checked without converting it.
pub(crate) fn is_integer(v: &Val) -> bool {
    match v {
        Val::Int(_) => true,
        Val::Num(text) => is_integer_text(text),
        _ => false,
    }
}

/// Integer text as JSON writes it (an optional `-`, then digits), within [`MAX_DIGITS`].
fn is_integer_text(text: &str) -> bool {
    is_whole_text(text) && text.trim_start_matches('-').len() <= MAX_DIGITS
}

/// Integer text as JSON writes it, of any length: an optional `-`, then digits.
pub(crate) fn is_whole_text(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn integer_text(text: &str) -> Option<BigInt> {
    is_integer_text(text).then(|| text.parse().ok()).flatten()
}

/// `x op y` for `+ - * / %` on exact integers; division only when it leaves no remainder
/// (`None`: use doubles). Division or remainder by zero is `null`, as for every number.
pub(crate) fn arith(op: super::ast::BinOp, x: &BigInt, y: &BigInt) -> Option<Val<'static>> {
    use super::ast::BinOp;
    let zero = BigInt::ZERO;
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div | BinOp::Rem if *y == zero => return Some(Val::Null),
        BinOp::Div if (x % y) == zero => x / y,
        BinOp::Rem => x % y,
        _ => return None,
    };
    Some(into_val(r))
}

/// An exact integer as a value: an i64 or i128 when it fits, else its digits as number text.
pub(crate) fn into_val(i: BigInt) -> Val<'static> {
    match i128::try_from(&i) {
        Ok(i) => Numeric::I(i).into_val(),
        Err(_) => Val::Num(Cow::Owned(i.to_string())),
    }
}

/// The integer as the nearest double.
pub(crate) fn to_f64(i: &BigInt) -> f64 {
    num_traits::ToPrimitive::to_f64(i).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::ast::BinOp;

    fn int(text: &str) -> BigInt {
        integer(&Val::Num(Cow::Borrowed(text))).expect("an integer")
    }

    fn text(v: &Val) -> String {
        v.clone().into_value().to_string()
    }

    #[test]
    fn integer_text_past_i128_is_taken_and_fractions_are_not() {
        let big = "340282366920938463463374607431768211457";
        assert_eq!(int(big).to_string(), big);
        assert_eq!(int("-7").to_string(), "-7");
        for not in ["1.5", "1e40", "-", "", "12a", "+3"] {
            assert!(integer(&Val::Num(Cow::Borrowed(not))).is_none(), "{not}");
        }
        assert!(integer(&Val::Float(3.0)).is_none());
        assert!(integer(&Val::Num(Cow::Owned("9".repeat(MAX_DIGITS + 1)))).is_none());
    }

    #[test]
    fn arithmetic_past_i128_is_exact() {
        let big = int("340282366920938463463374607431768211457");
        let one = BigInt::from(1);
        let sum = arith(BinOp::Add, &big, &one).unwrap();
        assert_eq!(text(&sum), "340282366920938463463374607431768211458");
        let square = arith(BinOp::Mul, &big, &big).unwrap();
        assert_eq!(
            text(&square),
            "115792089237316195423570985008687907853950549399482440966384333222776666062849"
        );
        let back = arith(BinOp::Sub, &big, &int("340282366920938463463374607431768211456")).unwrap();
        assert_eq!(back, Val::Int(1));
        assert_eq!(arith(BinOp::Div, &big, &BigInt::from(0)), Some(Val::Null));
        assert_eq!(arith(BinOp::Rem, &big, &BigInt::from(0)), Some(Val::Null));
        assert_eq!(arith(BinOp::Div, &big, &BigInt::from(2)), None);
        assert_eq!(text(&arith(BinOp::Rem, &big, &BigInt::from(10)).unwrap()), "7");
    }
}
