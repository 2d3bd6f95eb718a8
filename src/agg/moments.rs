//! Sample variance and standard deviation from exact sums. Σx and Σx² are each kept as
//! Shewchuk's non-overlapping partials (the algorithm of Python's `math.fsum`), every x² split
//! exactly into a double and its rounding error (and an integer past 2^53 into two doubles
//! first), so the sums are the exact sums of the values read. An exact sum does not depend on
//! the order of its additions: merging the parts of any split of the input gives what one pass
//! gives, so the result is the same for every `-j` and chunk size. The variance is
//! n·Σx² − (Σx)², worked out exactly, rounded once, divided by n(n − 1). The squares of
//! values past 2^400 are summed apart, scaled by 2^-1200, so that no square passes a double's
//! range; with any of them, the spread is worked out at that scale, and the standard deviation
//! is finite whenever it is, though the variance of values past 1e154 may not be.

/// Count, sum and sum of squares of the values seen, all exact.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Moments {
    n: u64,
    sum: Exact,
    squares: Exact,
    /// The squares of values past [`BIG`], each value scaled by [`DOWN`] first.
    big_squares: Exact,
}

/// Values past this have their squares summed scaled down: no sum of squares below it
/// passes a double's range before 2^224 values.
const BIG: f64 = 1.0e120; // about 2^398.6

/// The scale of a big value, 2^-600; its square is scaled by 2^-1200.
const DOWN: f64 = 2.409919865102884e-181;

/// The exponent of [`DOWN`], negated.
const DOWN_EXP: i32 = 600;

impl Moments {
    pub(crate) fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum.add(x);
        if x.abs() > BIG {
            let s = x * DOWN;
            self.big_squares.add_product(s, s);
        } else {
            self.squares.add_product(x, x);
        }
    }

    /// Adds an integer without first rounding it to 53 bits: as its high part and the rest,
    /// each a double, which add up to it exactly.
    pub(crate) fn add_int(&mut self, i: i128) {
        let (hi, lo) = super::sum::int_halves(i);
        self.n += 1;
        self.sum.add(hi);
        self.sum.add(lo);
        // (hi + lo)² = hi² + 2·hi·lo + lo².
        self.squares.add_product(hi, hi);
        self.squares.add_product(2.0 * hi, lo);
        self.squares.add_product(lo, lo);
    }

    pub(crate) fn merge(&mut self, later: &Moments) {
        self.n += later.n;
        self.sum.merge(&later.sum);
        self.squares.merge(&later.squares);
        self.big_squares.merge(&later.big_squares);
    }

    /// The sample variance (divided by n − 1, like Miller's `var`); `None` below two values,
    /// and when it is past the range of a double (values near ±1e308, or ±1e400 themselves).
    pub(crate) fn var(&self) -> Option<f64> {
        let (v, k) = self.scaled_var()?;
        let v = v * 2f64.powi(k) * 2f64.powi(k);
        v.is_finite().then_some(v)
    }

    /// The sample standard deviation; `None` below two values.
    pub(crate) fn stddev(&self) -> Option<f64> {
        let (v, k) = self.scaled_var()?;
        let s = v.sqrt() * 2f64.powi(k);
        s.is_finite().then_some(s)
    }

    /// The variance scaled by 2^-2k, and k: 0, or [`DOWN_EXP`] once a value was past [`BIG`].
    fn scaled_var(&self) -> Option<(f64, i32)> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let big = !self.big_squares.partials.is_empty();
        let (k, down) = if big { (DOWN_EXP, DOWN) } else { (0, 1.0) };
        let mut spread = Exact::default();
        for &s in &self.squares.partials {
            // Scaled twice: 2^-1200 is below a double's range.
            spread.add_product(s * down * down, n);
        }
        for &s in &self.big_squares.partials {
            spread.add_product(s, n);
        }
        for &a in &self.sum.partials {
            for &b in &self.sum.partials {
                spread.add_product(-a * down, b * down);
            }
        }
        let overflow = self.sum.overflow || self.squares.overflow || self.big_squares.overflow;
        let v = spread.value().max(0.0) / (n * (n - 1.0));
        (!(overflow || spread.overflow) && v.is_finite()).then_some((v, k))
    }
}

/// A sum of doubles held exactly, as partials that do not overlap, smallest first.
#[derive(Debug, Clone, Default, PartialEq)]
struct Exact {
    partials: Vec<f64>,
    /// A term or a partial went past the range of a double: the sum is not known.
    overflow: bool,
}

impl Exact {
    fn add(&mut self, mut x: f64) {
        if !x.is_finite() {
            self.overflow = true;
            return;
        }
        let mut kept = 0;
        for i in 0..self.partials.len() {
            let mut y = self.partials[i];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        self.partials.truncate(kept);
        self.overflow |= !x.is_finite();
        self.partials.push(x);
    }

    /// Adds `a·b` exactly: the rounded product and its rounding error.
    fn add_product(&mut self, a: f64, b: f64) {
        let p = a * b;
        self.add(p);
        if p.is_finite() {
            self.add(a.mul_add(b, -p));
        }
    }

    fn merge(&mut self, other: &Exact) {
        self.overflow |= other.overflow;
        for &p in &other.partials {
            self.add(p);
        }
    }

    /// The sum rounded once, to nearest with ties to even, as `math.fsum` rounds it: a
    /// function of the exact sum alone, whatever partials hold it.
    fn value(&self) -> f64 {
        let p = &self.partials;
        let Some((&top, below)) = p.split_last() else {
            return 0.0;
        };
        let (mut hi, mut lo, mut n) = (top, 0.0, below.len());
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        // Half-way between two doubles by the partials so far: the ones below decide.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(xs: &[f64]) -> Moments {
        let mut m = Moments::default();
        for &x in xs {
            m.add(x);
        }
        m
    }

    #[test]
    fn sample_variance_divides_by_n_minus_one() {
        let m = of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m.var(), Some(32.0 / 7.0));
        assert_eq!(of(&[1.0, 3.0]).stddev(), Some(2f64.sqrt()));
    }

    #[test]
    fn fewer_than_two_values_have_no_variance() {
        assert_eq!(of(&[]).var(), None);
        assert_eq!(of(&[5.0]).var(), None);
        assert_eq!(of(&[5.0]).stddev(), None);
    }

    #[test]
    fn large_offset_keeps_the_variance() {
        // The textbook case where the naive sum-of-squares formula returns garbage.
        for offset in [1e9, 1e12] {
            let m = of(&[offset + 4.0, offset + 7.0, offset + 13.0, offset + 16.0]);
            let v = m.var().expect("four values");
            assert!((v - 30.0).abs() < 1e-6, "offset {offset}: {v}");
        }
        // 1e9 + k/1000 for k cycling through 0..7. Reference: two passes over `x - 1e9`, which
        // is exact (Sterbenz), so the reference works on small numbers only.
        let xs: Vec<f64> = (0..100_000).map(|i| 1e9 + f64::from(i % 7) * 0.001).collect();
        let ds: Vec<f64> = xs.iter().map(|x| x - 1e9).collect();
        let mean = ds.iter().sum::<f64>() / ds.len() as f64;
        let exact = ds.iter().map(|d| (d - mean) * (d - mean)).sum::<f64>() / (ds.len() - 1) as f64;
        let v = of(&xs).var().expect("many values");
        assert!((v / exact - 1.0).abs() < 1e-6, "{v} vs {exact}");
    }

    #[test]
    fn a_variance_past_the_range_of_a_double_is_none_not_zero() {
        assert_eq!(of(&[1e308, -1e308]).var(), None);
        assert_eq!(of(&[5.0, f64::INFINITY, 7.0]).var(), None);
        assert_eq!(of(&[5.0, f64::INFINITY, 7.0]).stddev(), None);
        assert_eq!(of(&[1e200, 1e200, -1e200]).var(), None);
    }

    #[test]
    fn constant_values_have_zero_variance() {
        assert_eq!(of(&[1e9 + 0.1; 1000]).var(), Some(0.0));
        assert_eq!(of(&[1e200, 1e200]).var(), Some(0.0));
        assert_eq!(of(&[-1e300, -1e300, -1e300]).stddev(), Some(0.0));
    }

    #[test]
    fn values_whose_squares_pass_a_doubles_range_keep_their_standard_deviation() {
        // The variance, about 3.3e393, is past a double's range; its root is not.
        let m = of(&[1e197, 1e197, 1.0]);
        assert_eq!(m.var(), None);
        let want = (1e197f64 / 3.0).sqrt() * 1e197f64.sqrt();
        let got = m.stddev().expect("a finite standard deviation");
        assert!((got - want).abs() <= want * 1e-15, "{got} vs {want}");
        // Big and small values together, split any way: the same as one pass.
        let xs = [3e150, 1.0, -2.5e160, 7.0, 1e-300, 4e159];
        let whole = of(&xs);
        let (mut a, b) = (of(&xs[..2]), of(&xs[2..]));
        a.merge(&b);
        assert_eq!(a.stddev(), whole.stddev());
        let mean = xs.iter().sum::<f64>() / 6.0;
        let direct = (xs.iter().map(|x| ((x - mean) / 1e150).powi(2)).sum::<f64>() / 5.0).sqrt() * 1e150;
        let got = whole.stddev().expect("finite");
        assert!((got - direct).abs() <= direct * 1e-12, "{got} vs {direct}");
    }

    #[test]
    fn every_split_merges_to_what_one_pass_gives() {
        let xs: Vec<f64> = (0..1000).map(|i| 1e9 + f64::from(i * i % 97) * 0.1).collect();
        let whole = of(&xs);
        let ds: Vec<f64> = xs.iter().map(|x| x - 1e9).collect();
        let mean = ds.iter().sum::<f64>() / ds.len() as f64;
        let exact = ds.iter().map(|d| (d - mean) * (d - mean)).sum::<f64>() / (ds.len() - 1) as f64;
        let v = whole.var().expect("n ≥ 2");
        assert!((v / exact - 1.0).abs() < 1e-9, "{v} vs {exact}");
        for cut in [0, 1, 2, 3, 500, 999, 1000] {
            let mut a = of(&xs[..cut]);
            a.merge(&of(&xs[cut..]));
            assert_eq!(a.var(), whole.var(), "cut {cut}");
        }
        // Three parts merged, and the values one by one: the same to the last bit.
        let mut parts = of(&xs[..10]);
        parts.merge(&of(&xs[10..700]));
        parts.merge(&of(&xs[700..]));
        assert_eq!(parts.var(), whole.var());
        let mut one = Moments::default();
        for &x in &xs {
            let mut m = Moments::default();
            m.add(x);
            one.merge(&m);
        }
        assert_eq!(one.var(), whole.var());
        // 0.1, 0.2 and 0.3, split anywhere, give one variance.
        let small = of(&[0.1, 0.2, 0.3]);
        let mut split = of(&[0.1]);
        split.merge(&of(&[0.2, 0.3]));
        assert_eq!(small.var(), split.var());
    }

    #[test]
    fn integers_past_2_pow_53_are_exact() {
        let mut m = Moments::default();
        for i in [u64::MAX - 2, u64::MAX - 1, u64::MAX] {
            m.add_int(i128::from(i));
        }
        assert_eq!((m.var(), m.stddev()), (Some(1.0), Some(1.0)));
        let mut m = Moments::default();
        for k in [1, 3, 5] {
            m.add_int((1i128 << 53) + k);
        }
        assert_eq!(m.stddev(), Some(2.0));
    }

    #[test]
    fn exact_sums_round_once() {
        let mut e = Exact::default();
        for x in [1e100, 1.0, -1e100, 1e-100] {
            e.add(x);
        }
        assert_eq!(e.value(), 1.0 + 1e-100);
        let mut e = Exact::default();
        for x in [0.1; 10] {
            e.add(x);
        }
        assert_eq!(e.value(), 1.0);
    }
}
