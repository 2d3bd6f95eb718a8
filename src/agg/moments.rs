//! Sample variance and standard deviation: Welford's updates, merged with Chan et al.'s formula.

/// Count, mean and sum of squared deviations from the mean (M2) of the values seen.
///
/// Welford's update never subtracts two large nearly equal sums, so `1e9 + small` values keep
/// their variance; Chan, Golub & LeVeque's pairwise formula merges two partial results with the
/// same stability. On top of that the values are shifted by the first one (exact for values
/// within a factor of two of it), so the running mean stays small and keeps its low bits.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Moments {
    n: u64,
    shift: f64,
    /// The mean of `x - shift`.
    mean: f64,
    m2: f64,
}

impl Moments {
    pub(crate) fn add(&mut self, x: f64) {
        if self.n == 0 {
            self.shift = x;
        }
        self.n += 1;
        let y = x - self.shift;
        let d = y - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (y - self.mean);
    }

    pub(crate) fn merge(&mut self, later: &Moments) {
        if later.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *later;
            return;
        }
        let (na, nb) = (self.n as f64, later.n as f64);
        let n = na + nb;
        let d = (later.mean - self.mean) + (later.shift - self.shift);
        self.mean += d * (nb / n);
        self.m2 += later.m2 + d * d * (na * nb / n);
        self.n += later.n;
    }

    /// The sample variance (divided by n − 1, like Miller's `var`); `None` below two values,
    /// and when it is past the range of a double (values near ±1e308, or ±1e400 themselves).
    pub(crate) fn var(&self) -> Option<f64> {
        (self.n >= 2)
            .then(|| self.m2.max(0.0) / (self.n - 1) as f64)
            .filter(|v| self.m2.is_finite() && v.is_finite())
    }

    /// The sample standard deviation; `None` below two values.
    pub(crate) fn stddev(&self) -> Option<f64> {
        self.var().map(f64::sqrt)
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
    }

    #[test]
    fn merge_equals_one_pass() {
        let xs: Vec<f64> = (0..1000).map(|i| 1e9 + f64::from(i * i % 97) * 0.5).collect();
        let ds: Vec<f64> = xs.iter().map(|x| x - 1e9).collect();
        let mean = ds.iter().sum::<f64>() / ds.len() as f64;
        let exact = ds.iter().map(|d| (d - mean) * (d - mean)).sum::<f64>() / (ds.len() - 1) as f64;
        for cut in [0, 1, 2, 500, 999, 1000] {
            let mut a = of(&xs[..cut]);
            a.merge(&of(&xs[cut..]));
            assert_eq!(a.n, 1000);
            assert!((a.mean + a.shift - (mean + 1e9)).abs() <= 1e-6);
            let v = a.var().expect("n ≥ 2");
            assert!((v / exact - 1.0).abs() < 1e-12, "cut {cut}: {v} vs {exact}");
        }
    }
}
