//! Exact sums: integers in i128 and past it in a `BigInt`, floats with Neumaier's compensated summation.

use crate::lang::Val;
use crate::lang::value::Numeric;
use crate::lang::wide;
use num_bigint::BigInt;

/// A float sum with a running compensation for the low-order bits that each addition drops
/// (Neumaier's improvement of Kahan summation, which also handles terms larger than the sum).
/// A sum of finite terms that would pass the range of a double is kept scaled down by
/// [`SCALE`] from then on, so that the mean of values near 1e308 is still found.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Compensated {
    sum: f64,
    comp: f64,
    scaled: bool,
}

/// 2^-64: scaling by it is exact for every value far from the smallest doubles.
const SCALE: f64 = 1.0 / 18_446_744_073_709_551_616.0;

impl Compensated {
    fn add(&mut self, x: f64) {
        if self.scaled {
            return self.add_in_units(x * SCALE);
        }
        if (self.sum + x).is_infinite() && x.is_finite() && self.sum.is_finite() {
            (self.sum, self.comp, self.scaled) = (self.sum * SCALE, self.comp * SCALE, true);
            return self.add_in_units(x * SCALE);
        }
        self.add_in_units(x);
    }

    /// Adds `x`, already in the sum's units (scaled down when the sum is).
    fn add_in_units(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// Adds an integer without first rounding it to 53 bits: its high part, then the rest.
    fn add_int(&mut self, i: i128) {
        let (hi, lo) = int_halves(i);
        self.add(hi);
        self.add(lo);
    }

    fn value(self) -> f64 {
        self.divided(1.0)
    }

    /// A sum past the range of a double as number text (`2e308`), to 16 significant digits;
    /// `None` for one that is not a finite number (an infinite term).
    fn past_range_text(self) -> Option<String> {
        let scaled = self.sum + self.comp;
        if !self.scaled || !scaled.is_finite() {
            return None;
        }
        // The scaled sum is m × 2^e exactly; the sum is m × 2^(e + 64), an integer this far up.
        let (m, e) = mantissa_and_exponent(scaled);
        let digits = (BigInt::from(m) << usize::try_from(e + 64).ok()?).to_string();
        Some(scientific(&digits, 16))
    }

    /// The sum divided by `n`, scaled back up only after the division.
    fn divided(self, n: f64) -> f64 {
        let v = (self.sum + self.comp) / n;
        if self.scaled { v / SCALE } else { v }
    }

    /// Adds another sum's parts, in whichever units the two share.
    fn merge(&mut self, later: Compensated) {
        if later.scaled && !self.scaled {
            let mine = *self;
            *self = later;
            self.add(mine.sum);
            self.add(mine.comp);
        } else if later.scaled {
            self.add_in_units(later.sum);
            self.add_in_units(later.comp);
        } else {
            self.add(later.sum);
            self.add(later.comp);
        }
    }
}

/// The sum of the numbers added, and how many there were (for `avg`).
///
/// Integers add up exactly: in i128 while they fit, and past it (a sum beyond 1.7e38, or integer
/// text too long for i128) in a `BigInt`. A float turns the result into a float, computed as the
/// compensated sum of the floats plus the exact integer part.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Sum {
    int: i128,
    /// What did not fit in `int`.
    wide: Option<Box<BigInt>>,
    float: Compensated,
    has_float: bool,
    n: u64,
}

impl Sum {
    /// Adds a number; other values are ignored.
    pub(crate) fn add(&mut self, v: &Val) {
        let Some(x) = v.numeric() else {
            return;
        };
        self.n += 1;
        match x {
            Numeric::I(i) => self.add_int(i),
            Numeric::F(f) => match wide::integer(v) {
                Some(i) => self.add_wide(&i),
                None => {
                    self.float.add(f);
                    self.has_float = true;
                }
            },
        }
    }

    fn add_int(&mut self, i: i128) {
        match self.int.checked_add(i) {
            Some(s) => self.int = s,
            None => self.add_wide(&BigInt::from(i)),
        }
    }

    fn add_wide(&mut self, i: &BigInt) {
        **self.wide.get_or_insert_default() += i;
    }

    pub(crate) fn merge(&mut self, later: &Sum) {
        self.n += later.n;
        self.add_int(later.int);
        if let Some(w) = &later.wide {
            self.add_wide(w);
        }
        self.float.merge(later.float);
        self.has_float |= later.has_float;
    }

    /// How many numbers were added.
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.n
    }

    /// The exact sum of the integers, when it does not fit in i128.
    fn wide_total(&self) -> Option<BigInt> {
        self.wide.as_deref().map(|w| w + self.int)
    }

    /// The float sum, with the integers added in.
    fn float_total(&self) -> Compensated {
        let mut f = self.float;
        f.add_int(self.int);
        if let Some(w) = &self.wide {
            f.add(wide::to_f64(w));
        }
        f
    }

    /// The sum, or `None` when no number was added.
    pub(crate) fn total(&self) -> Option<Val<'static>> {
        if self.n == 0 {
            return None;
        }
        if self.has_float {
            let f = self.float_total();
            return Some(match f.value() {
                v if v.is_finite() => Numeric::F(v).into_val(),
                // Past the range of a double, the sum is written as text, which a number may be.
                _ => f
                    .past_range_text()
                    .map_or(Val::Null, |text| Val::number_text(std::borrow::Cow::Owned(text))),
            });
        }
        Some(match self.wide_total() {
            Some(w) => wide::into_val(w),
            None => Numeric::I(self.int).into_val(),
        })
    }

    /// The mean, or `None` when no number was added. Integer sums are divided exactly
    /// (quotient plus remainder), so the mean of large integers loses no more than one rounding.
    pub(crate) fn mean(&self) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        if self.has_float {
            return Some(self.float_total().divided(self.n as f64));
        }
        let n = i128::from(self.n);
        Some(match self.wide_total() {
            Some(w) => {
                let big_n = BigInt::from(n);
                wide::to_f64(&(&w / &big_n)) + wide::to_f64(&(&w % &big_n)) / n as f64
            }
            None => (self.int / n) as f64 + (self.int % n) as f64 / n as f64,
        })
    }
}

/// A finite double's exact value as `m × 2^e`.
fn mantissa_and_exponent(x: f64) -> (i64, i64) {
    let bits = x.to_bits();
    let sign = if bits >> 63 == 0 { 1 } else { -1 };
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = (bits & ((1 << 52) - 1)) as i64;
    match biased {
        0 => (sign * fraction, -1074),
        _ => (sign * (fraction | (1 << 52)), biased - 1075),
    }
}

/// Integer text (`-` and digits) in scientific notation, rounded half up to `keep` significant
/// digits, trailing zeros left out: `2000…0` (309 digits) is `2e308`.
fn scientific(integer: &str, keep: usize) -> String {
    let (sign, digits) = integer.strip_prefix('-').map_or(("", integer), |d| ("-", d));
    let mut kept: Vec<u8> = digits.bytes().take(keep).collect();
    let mut exponent = digits.len() - 1;
    if digits.as_bytes().get(keep).is_some_and(|&d| d >= b'5') {
        match kept.iter().rposition(|&d| d != b'9') {
            Some(at) => {
                kept[at] += 1;
                kept.truncate(at + 1);
            }
            None => {
                kept = vec![b'1'];
                exponent += 1;
            }
        }
    }
    while kept.len() > 1 && kept.last() == Some(&b'0') {
        kept.pop();
    }
    let (first, rest) = kept.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    format!(
        "{sign}{}{point}{}e{exponent}",
        String::from_utf8_lossy(first),
        String::from_utf8_lossy(rest)
    )
}

/// An integer as two doubles that add up to it: its value rounded to 53 significant bits, and
/// the rest. The rest is exact as an i128 unless the rounding saturated at the very edge of the
/// range (then it is negligible anyway).
pub(crate) fn int_halves(i: i128) -> (f64, f64) {
    let hi = i as f64;
    (hi, i.saturating_sub(hi as i128) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_of(texts: &[&str]) -> Sum {
        let mut s = Sum::default();
        for t in texts {
            s.add(&Val::number_text(std::borrow::Cow::Borrowed(t)));
        }
        s
    }

    #[test]
    fn the_mean_of_values_whose_sum_passes_the_range_of_a_double_is_found() {
        assert_eq!(sum_of(&["1e308", "1e308"]).mean(), Some(1e308));
        assert_eq!(sum_of(&["1e308", "1e308", "-1e308", "1"]).mean(), Some(2.5e307));
        let text = |s: Sum| s.total().map(|v| v.into_value().to_string());
        assert_eq!(text(sum_of(&["1e308", "1e308"])).as_deref(), Some("2e308"));
        assert_eq!(text(sum_of(&["-1e308", "-1.5e308"])).as_deref(), Some("-2.5e308"));
        assert_eq!(text(sum_of(&["1.7e308", "1.7e308", "1"])).as_deref(), Some("3.4e308"));
        assert_eq!(
            text(sum_of(&["1e308", "1e308", "-1e308", "1e300"])),
            text(sum_of(&["1.00000001e308"]))
        );
        let (mut a, b) = (sum_of(&["1e308", "1e308"]), sum_of(&["2", "4"]));
        a.merge(&b);
        assert_eq!(a.mean(), Some(5e307));
        let mut b = sum_of(&["2", "4"]);
        b.merge(&sum_of(&["1e308", "1e308"]));
        assert_eq!(b.mean(), Some(5e307));
        // Parts that each passed the range, and parts that pass it only once merged.
        let mut c = sum_of(&["1e308", "1e308"]);
        c.merge(&sum_of(&["1e308", "1e308"]));
        assert_eq!(c.mean(), Some(1e308));
        let part = vec!["1e304"; 4000];
        let mut d = sum_of(&part);
        for _ in 0..9 {
            d.merge(&sum_of(&part));
        }
        let mean = d.mean().unwrap();
        assert!((mean / 1e304 - 1.0).abs() < 1e-12, "{mean}");
    }

    #[test]
    fn integer_text_is_written_in_scientific_notation_to_its_significant_digits() {
        assert_eq!(scientific("2000", 17), "2e3");
        assert_eq!(scientific("-123456", 3), "-1.23e5");
        assert_eq!(scientific("123556", 3), "1.24e5");
        assert_eq!(scientific("199999", 3), "2e5");
        assert_eq!(scientific("999999", 3), "1e6");
        assert_eq!(scientific("7", 17), "7e0");
        assert_eq!(mantissa_and_exponent(3.0), (3 << 51, -51));
        assert_eq!(mantissa_and_exponent(-0.5), (-(1 << 52), -53));
    }

    #[test]
    fn integers_near_i64_max_sum_exactly() {
        let s = sum_of(&["9223372036854775807", "9223372036854775807", "-1"]);
        assert_eq!(s.total(), Some(Numeric::I(2 * i128::from(i64::MAX) - 1).into_val()));
        let s = sum_of(&["9223372036854775807", "1"]);
        assert_eq!(s.total(), Some(Numeric::I(9_223_372_036_854_775_808).into_val()));
    }

    #[test]
    fn integers_near_u64_max_sum_exactly() {
        let s = sum_of(&["18446744073709551615", "1"]);
        assert_eq!(s.total(), Some(Numeric::I(18_446_744_073_709_551_616).into_val()));
        let s = sum_of(&["18446744073709551615", "18446744073709551615", "-18446744073709551615"]);
        assert_eq!(s.total(), Some(Numeric::I(18_446_744_073_709_551_615).into_val()));
    }

    #[test]
    fn odd_integers_beyond_two_to_the_53_are_not_rounded() {
        let s = sum_of(&["9007199254740993", "2"]);
        assert_eq!(s.total(), Some(Numeric::I(9_007_199_254_740_995).into_val()));
    }

    #[test]
    fn a_float_makes_a_float_sum_with_the_exact_integer_part() {
        let s = sum_of(&["9007199254740993", "0.5"]);
        // 9007199254740993.5 rounds to the nearest double: 9007199254740994.
        assert_eq!(s.total(), Some(Numeric::F(9_007_199_254_740_994.0).into_val()));
        let s = sum_of(&["1", "2.5"]);
        assert_eq!(s.total(), Some(Numeric::F(3.5).into_val()));
    }

    #[test]
    fn compensated_float_sum_keeps_small_terms() {
        let mut s = Sum::default();
        s.add(&Val::Float(1e16));
        for _ in 0..1000 {
            s.add(&Val::Float(1.0));
        }
        s.add(&Val::Float(-1e16));
        assert_eq!(s.total(), Some(Numeric::F(1000.0).into_val()));
        // Ten times the double nearest 0.1 is 1.0000000000000000555: naive summation gives
        // 0.9999999999999999, the compensated sum the correctly rounded 1.
        let s = sum_of(&["0.1"; 10]);
        assert_eq!(s.total(), Some(Numeric::F(1.0).into_val()));
    }

    #[test]
    fn integers_past_i128_sum_exactly() {
        let max = i128::MAX.to_string();
        let s = sum_of(&[&max, &max]);
        let twice = "340282366920938463463374607431768211454";
        assert_eq!(s.total().map(Val::into_value).unwrap().to_string(), twice);
        let past = "340282366920938463463374607431768211457";
        let mut s = sum_of(&[past, "-340282366920938463463374607431768211456"]);
        assert_eq!(s.total(), Some(Val::Int(1)));
        s.merge(&sum_of(&[&max, &max]));
        assert_eq!(
            s.total().map(Val::into_value).unwrap().to_string(),
            "340282366920938463463374607431768211455"
        );
        assert_eq!(s.count(), 4);
        let s = sum_of(&[past, "3"]);
        assert_eq!(s.mean(), Some(1.701_411_834_604_692_3e38));
        let s = sum_of(&[past, "0.5"]);
        assert_eq!(s.total(), Some(Val::Float(3.402_823_669_209_385e38)));
    }

    #[test]
    fn nothing_added_is_none() {
        assert_eq!(Sum::default().total(), None);
        assert_eq!(Sum::default().mean(), None);
    }

    #[test]
    fn mean_of_large_integers_is_exact_to_one_rounding() {
        let s = sum_of(&["9223372036854775807", "9223372036854775807", "9223372036854775806"]);
        assert_eq!(s.mean(), Some(9_223_372_036_854_775_806.666_f64));
        let s = sum_of(&["1000000001", "1000000002"]);
        assert_eq!(s.mean(), Some(1_000_000_001.5));
    }

    #[test]
    fn mean_of_1e9_plus_small_floats_is_stable() {
        let mut s = Sum::default();
        for k in 0..1_000_000 {
            s.add(&Val::Float(1e9 + f64::from(k % 10) * 0.1));
        }
        let m = s.mean().expect("numbers were added");
        assert!((m - (1e9 + 0.45)).abs() < 1e-6, "{m}");
    }

    #[test]
    fn merge_continues_the_sum() {
        let mut a = sum_of(&["18446744073709551615", "0.25"]);
        a.merge(&sum_of(&["1", "0.25"]));
        assert_eq!(a.total(), Some(Numeric::F(18_446_744_073_709_551_616.5).into_val()));
        assert_eq!(a.count(), 4);
    }
}
