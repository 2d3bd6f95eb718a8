//! Sample variance and standard deviation from exact sums. Σx and Σx² are each kept as
//! Shewchuk's non-overlapping partials (the algorithm of Python's `math.fsum`), every x² split
//! exactly into a double and its rounding error (and an integer past 2^53 into two doubles
//! first), so the sums are the exact sums of the values read. An exact sum does not depend on
//! the order of its additions: merging the parts of any split of the input gives what one pass
//! gives, so the result is the same for every `-j` and chunk size. The variance is
//! n·Σx² − (Σx)², worked out exactly, rounded once, divided by n(n − 1). Values past 1e120
//! are summed apart scaled by 2^-600, and values below 1e-120 scaled by 2^600, so that no sum
//! or square leaves a double's range; the spread is worked out at the scale of the largest
//! values, so the standard deviation is finite (and not zero) whenever it is, though the
//! variance of values past 1e154 may not be.

/// Count, sum and sum of squares of the values seen, all exact, by [`Scale`]: each value is
/// summed, and squared, times its class's scale.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Moments {
    n: u64,
    sums: [Exact; 3],
    squares: [Exact; 3],
}

/// The classes of values by magnitude, each summed at its own scale (a power of two, so
/// scaling is exact) so that neither a sum nor a square leaves a double's range: below
/// [`TINY`] times 2^600, up to [`BIG`] as they are, past it times 2^-600.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Tiny = 0,
    Normal = 1,
    Big = 2,
}

/// Values past this have their sums and squares kept scaled down: no sum of squares below it
/// passes a double's range before 2^224 values.
const BIG: f64 = 1.0e120; // about 2^398.6

/// Values below this have theirs kept scaled up: their squares would lose digits or vanish.
const TINY: f64 = 1.0e-120;

/// The exponent of each class's scale: a value of the class is kept times 2^this.
const SCALE_EXP: [i32; 3] = [600, 0, -600];

/// 2^[`SCALE_EXP`], each.
const SCALE: [f64; 3] = [4.149_515_568_880_993e180, 1.0, 2.409_919_865_102_884e-181];

impl Scale {
    fn of(x: f64) -> Scale {
        match x.abs() {
            a if a > BIG => Scale::Big,
            a if a < TINY => Scale::Tiny,
            _ => Scale::Normal,
        }
    }
}

impl Moments {
    pub(crate) fn add(&mut self, x: f64) {
        self.n += 1;
        let c = Scale::of(x) as usize;
        let s = x * SCALE[c];
        self.sums[c].add(s);
        self.squares[c].add_product(s, s);
    }

    /// Adds an integer without first rounding it to 53 bits: as its high part and the rest,
    /// each a double, which add up to it exactly (below 2^128, in the normal class).
    pub(crate) fn add_int(&mut self, i: i128) {
        let (hi, lo) = super::sum::int_halves(i);
        let c = Scale::Normal as usize;
        self.n += 1;
        self.sums[c].add(hi);
        self.sums[c].add(lo);
        // (hi + lo)² = hi² + 2·hi·lo + lo².
        self.squares[c].add_product(hi, hi);
        self.squares[c].add_product(2.0 * hi, lo);
        self.squares[c].add_product(lo, lo);
    }

    pub(crate) fn merge(&mut self, later: &Moments) {
        self.n += later.n;
        for c in 0..3 {
            self.sums[c].merge(&later.sums[c]);
            self.squares[c].merge(&later.squares[c]);
        }
    }

    /// The sample variance (divided by n − 1, like Miller's `var`); `None` below two values,
    /// and when it is past the range of a double (values near ±1e154 apart, or ±1e400 themselves).
    pub(crate) fn var(&self) -> Option<f64> {
        let (v, k) = self.scaled_var()?;
        let v = v * 2f64.powi(-k) * 2f64.powi(-k);
        v.is_finite().then_some(v)
    }

    /// The sample standard deviation; `None` below two values.
    pub(crate) fn stddev(&self) -> Option<f64> {
        let (v, k) = self.scaled_var()?;
        let s = v.sqrt() * 2f64.powi(-k);
        s.is_finite().then_some(s)
    }

    /// The variance scaled by 2^2k, and k: the scale of the largest class that holds a value
    /// other than zero. The classes below it are brought to that scale (their smallest
    /// digits may vanish there, far below the result's last digit).
    fn scaled_var(&self) -> Option<(f64, i32)> {
        if self.n < 2 {
            return None;
        }
        if self.sums.iter().chain(&self.squares).any(|e| e.overflow) {
            return None;
        }
        let n = self.n as f64;
        let top = (0..3)
            .rev()
            .find(|&c| self.squares[c].partials.iter().any(|&p| p != 0.0))
            .unwrap_or(1);
        let k = SCALE_EXP[top];
        let mut spread = Exact::default();
        let mut sum = Vec::new();
        for c in 0..=top {
            // 2^(k - own exponent) is at most 2^-1200, below a double's range: applied in steps.
            let down = |x: f64| (0..top - c).fold(x, |x, _| x * SCALE[2]);
            for &s in &self.squares[c].partials {
                spread.add_product(down(down(s)), n);
            }
            sum.extend(self.sums[c].partials.iter().map(|&s| down(s)));
        }
        for &a in &sum {
            for &b in &sum {
                spread.add_product(-a, b);
            }
        }
        let v = spread.value().max(0.0) / (n * (n - 1.0));
        (!spread.overflow && v.is_finite()).then_some((v, k))
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

    /// Sums past a double's range, and squares below it, kept at a scale where they are not:
    /// the references are Python's exact `Fraction` arithmetic.
    #[test]
    fn values_near_either_end_of_a_doubles_range_keep_their_spread() {
        assert_eq!(of(&[9e307, 9e307]).var(), Some(0.0));
        assert_eq!(of(&[9e307, 9e307]).stddev(), Some(0.0));
        let close = |got: Option<f64>, want: f64| {
            let got = got.expect("a finite spread");
            assert!((got - want).abs() <= want * 1e-15, "{got} vs {want}");
        };
        close(of(&[1e308, 1.1e308]).stddev(), 7.071_067_811_865_473e306);
        assert_eq!(of(&[1e308, 1.1e308]).var(), None);
        close(of(&[1e-170, 3e-170]).stddev(), 1.414_213_562_373_095_1e-170);
        close(of(&[1e-160, 3e-160]).stddev(), 1.414_213_562_373_095e-160);
        close(of(&[1e-300, 0.0, 2e-300]).stddev(), 1e-300);
        // A tiny value beside normal ones counts at their scale.
        close(of(&[1.0, 3.0, 1e-200]).stddev(), 1.527_525_231_651_946_7);
    }

    #[test]
    fn the_scales_are_the_powers_of_two_named() {
        for (scale, exp) in SCALE.iter().zip(SCALE_EXP) {
            assert_eq!(*scale, 2f64.powi(exp));
        }
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
