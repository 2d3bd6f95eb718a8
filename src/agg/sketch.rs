//! A mergeable quantile sketch with relative-error guarantees: DDSketch-style logarithmic buckets.
//!
//! A positive value `x` falls in bucket `k = ceil(log_γ x)`, which covers `(γ^(k-1), γ^k]`; the
//! bucket's representative `γ^k·(1-α)` is within `α` of every value in it (γ = (1+α)/(1-α)).
//! Negative values go to a second store by magnitude and zeros are counted exactly, so a
//! quantile is within `α` of the exact nearest-rank value whatever the signs. Memory is bounded:
//! each store keeps at most [`MAX_BINS`] counters and folds its smallest magnitudes together past
//! that. Merging adds counters, so a merged sketch equals the sketch of all the values.
//! See Masson, Rim & Lee, "DDSketch: a fast and fully-mergeable quantile sketch" (VLDB 2019).
//!
//! We do not use a crate: the ones we looked at (sketches-ddsketch, sketches-rust) answer for a
//! rank spread over `n - 1` (sketches-ddsketch: `1 + floor(q·(n-1))`), not the nearest rank
//! `ceil(q·n)` the spec asks for, and for small `n` that is another value entirely: p95 of
//! 1..=10 is 9 there and 10 by nearest rank.

/// Relative accuracy of a bucket's representative value. 0.49% rather than 0.5%: rounding an
/// estimate of integral data to an integer adds at most 0.5, which is at most `α·v` whenever it
/// changes anything (`α·v ≥ 0.5`), so results stay within `2α` < 1% with room for float error.
pub const ALPHA: f64 = 0.0049;

/// Counters per sign. With γ ≈ 1.0099 they span a ratio of γ^4096 ≈ 10^17.4 between the smallest
/// and the largest magnitude kept exactly; beyond that the smallest magnitudes share the lowest
/// bucket (as in DDSketch's collapsing-lowest store), so the high quantiles stay accurate.
/// Worst case per sketch: 2 × 4096 × 8 bytes = 64 KiB; typical data spans a few hundred buckets.
pub const MAX_BINS: usize = 4096;

/// ln γ = ln((1+α)/(1-α)) = 2·atanh(α), summed as a series so that it is a constant (the terms
/// after α⁹ are below 1e-22).
const LN_GAMMA: f64 = {
    let a = ALPHA;
    let a2 = a * a;
    2.0 * a * (1.0 + a2 / 3.0 + a2 * a2 / 5.0 + a2 * a2 * a2 / 7.0 + a2 * a2 * a2 * a2 / 9.0)
};

/// The bucket of a positive finite magnitude.
fn key(x: f64) -> i32 {
    // ln of the smallest subnormal is about -744.4, so keys stay within ±76,000.
    (x.ln() / LN_GAMMA).ceil() as i32
}

/// The representative magnitude of a bucket: `γ^k·(1-α)`, computed in logs so that only a
/// representative beyond `f64::MAX` itself overflows (the clamp to the maximum seen catches it).
fn value(key: i32) -> f64 {
    (f64::from(key) * LN_GAMMA + (1.0 - ALPHA).ln()).exp()
}

/// The 1-based nearest rank `ceil(q·n)` of quantile `q` among `n` values; `q = 0` is rank 1.
///
/// `q` usually comes from decimal text (`0.07`), so a product a few ulps off an integer is that
/// integer: `0.07 × 100` is rank 7, not 8.
pub fn nearest_rank(q: f64, n: u64) -> u64 {
    let r = q * n as f64;
    let k = r.round();
    let rank = if (r - k).abs() <= k.abs() * 1e-12 { k } else { r.ceil() };
    // `as` saturates: NaN → 0, which the clamp turns into rank 1.
    (rank as u64).clamp(1, n.max(1))
}

/// Counters for consecutive bucket keys, `offset` being the key of `counts[0]`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Store {
    offset: i32,
    counts: Vec<u64>,
}

impl Store {
    fn add(&mut self, key: i32, n: u64) {
        self.cover(key, key);
        let i = key.max(self.offset) - self.offset;
        self.counts[i as usize] += n;
    }

    fn merge(&mut self, other: &Store) {
        if other.counts.is_empty() {
            return;
        }
        self.cover(other.offset, other.hi());
        for (i, &c) in other.counts.iter().enumerate() {
            let k = (other.offset + i as i32).max(self.offset);
            self.counts[(k - self.offset) as usize] += c;
        }
    }

    fn hi(&self) -> i32 {
        self.offset + self.counts.len() as i32 - 1
    }

    /// Makes room for keys `lo..=hi`. Past [`MAX_BINS`] keys, the lowest ones are folded into the
    /// lowest kept bucket: a key `k` always ends up in `max(k, lowest)`, so the order in which
    /// values and merges arrive does not change the result.
    fn cover(&mut self, lo: i32, hi: i32) {
        let span = MAX_BINS as i32 - 1;
        if self.counts.is_empty() {
            self.offset = lo.max(hi - span);
            self.counts = vec![0; (hi - self.offset + 1) as usize];
            return;
        }
        let (old_lo, old_hi) = (self.offset, self.hi());
        let hi = hi.max(old_hi);
        let lo = lo.min(old_lo).max(hi - span);
        if lo == old_lo && hi == old_hi {
            return;
        }
        let mut counts = vec![0; (hi - lo + 1) as usize];
        for (i, &c) in self.counts.iter().enumerate() {
            let k = (old_lo + i as i32).max(lo);
            counts[(k - lo) as usize] += c;
        }
        self.offset = lo;
        self.counts = counts;
    }
}

/// A quantile sketch over finite numbers. Non-finite values are ignored: they have no bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    pos: Store,
    neg: Store,
    zeros: u64,
    count: u64,
    min: f64,
    max: f64,
    /// Every value so far was an integer, so estimates are rounded to integers.
    integral: bool,
}

impl Default for Sketch {
    fn default() -> Sketch {
        Sketch::new()
    }
}

impl Sketch {
    pub fn new() -> Sketch {
        Sketch {
            pos: Store::default(),
            neg: Store::default(),
            zeros: 0,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            integral: true,
        }
    }

    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.count += 1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.integral &= x.fract() == 0.0;
        if x > 0.0 {
            self.pos.add(key(x), 1);
        } else if x < 0.0 {
            self.neg.add(key(-x), 1);
        } else {
            self.zeros += 1;
        }
    }

    pub fn merge(&mut self, other: &Sketch) {
        self.pos.merge(&other.pos);
        self.neg.merge(&other.neg);
        self.zeros += other.zeros;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.integral &= other.integral;
    }

    /// How many values were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// How many bucket counters the sketch holds: its memory, at most `2 × MAX_BINS`.
    pub fn bins(&self) -> usize {
        self.pos.counts.len() + self.neg.counts.len()
    }

    /// The value at nearest rank `ceil(q·n)`, within [`ALPHA`] relative error (2α for integral
    /// data, see [`ALPHA`]); exact for the minimum (rank 1), the maximum (rank n) and zero.
    /// `None` when the sketch is empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = nearest_rank(q, self.count);
        if rank == 1 {
            return Some(self.min);
        }
        if rank == self.count {
            return Some(self.max);
        }
        let mut seen = 0;
        // Negative values in increasing order: from the largest magnitude down.
        for (i, &c) in self.neg.counts.iter().enumerate().rev() {
            seen += c;
            if seen >= rank {
                return Some(self.finish(-value(self.neg.offset + i as i32)));
            }
        }
        seen += self.zeros;
        if seen >= rank {
            return Some(0.0);
        }
        for (i, &c) in self.pos.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(self.finish(value(self.pos.offset + i as i32)));
            }
        }
        Some(self.max)
    }

    /// Rounds the estimate for integral data and keeps it within the values seen, where the exact
    /// answer is: both only bring it closer.
    fn finish(&self, estimate: f64) -> f64 {
        let estimate = if self.integral { estimate.round() } else { estimate };
        estimate.clamp(self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_constant_matches_the_logarithm() {
        // Not `gamma.ln()`: γ itself is rounded, which puts its logarithm 2e-16 off.
        assert!((LN_GAMMA - 2.0 * ALPHA.atanh()).abs() < 1e-18);
        assert!((LN_GAMMA - (ALPHA.ln_1p() - (-ALPHA).ln_1p())).abs() < 1e-18);
    }

    #[test]
    fn representative_is_within_alpha_of_every_value_in_its_bucket() {
        let mut x = 1e-300f64;
        while x < 1e300 {
            for y in [x, x * 1.003, x * 1.007, -x] {
                let est = value(key(y.abs()));
                assert!((est - y.abs()).abs() <= y.abs() * ALPHA * (1.0 + 1e-9), "{y} -> {est}");
            }
            x *= 1.37;
        }
        for y in [f64::MAX / 2.0, f64::MIN_POSITIVE, 5e-324] {
            assert!(((value(key(y)) - y) / y).abs() <= ALPHA * (1.0 + 1e-9), "{y}");
        }
    }

    #[test]
    fn values_near_f64_max_do_not_overflow() {
        // The top bucket's representative may lie past f64::MAX; it is computed in logs and
        // clamped to the maximum seen, so it stays finite.
        let mut s = Sketch::new();
        for x in [f64::MAX, -f64::MAX, 1e300, f64::MAX, -f64::MAX, f64::MAX, -f64::MAX] {
            s.add(x);
        }
        for (q, want) in [(0.3, -f64::MAX), (0.5, 1e300), (0.7, f64::MAX)] {
            let got = s.quantile(q).expect("not empty");
            assert!(got.is_finite() && ((got - want) / want).abs() <= ALPHA, "q {q}: {got}");
        }
    }

    #[test]
    fn nearest_rank_is_ceil_of_q_times_n() {
        assert_eq!(nearest_rank(0.0, 10), 1);
        assert_eq!(nearest_rank(0.5, 10), 5);
        assert_eq!(nearest_rank(0.5, 11), 6);
        assert_eq!(nearest_rank(0.07, 100), 7);
        assert_eq!(nearest_rank(0.9, 10), 9);
        assert_eq!(nearest_rank(0.999, 1000), 999);
        assert_eq!(nearest_rank(0.999, 10), 10);
        assert_eq!(nearest_rank(1.0, 10), 10);
        assert_eq!(nearest_rank(0.5, 1), 1);
        assert_eq!(nearest_rank(f64::NAN, 5), 1);
    }

    #[test]
    fn empty_sketch_has_no_quantiles() {
        assert_eq!(Sketch::new().quantile(0.5), None);
        let mut s = Sketch::new();
        s.add(f64::NAN);
        s.add(f64::INFINITY);
        assert_eq!(s.quantile(0.5), None);
    }

    #[test]
    fn min_max_and_zero_are_exact() {
        let mut s = Sketch::new();
        for x in [-3.25, 0.0, 0.0, 0.0, 7.125] {
            s.add(x);
        }
        assert_eq!(s.quantile(0.0), Some(-3.25));
        assert_eq!(s.quantile(0.5), Some(0.0));
        assert_eq!(s.quantile(1.0), Some(7.125));
    }

    #[test]
    fn small_integers_come_back_exactly() {
        let mut s = Sketch::new();
        for x in 1..=10 {
            s.add(f64::from(x));
        }
        for (q, want) in [(0.5, 5.0), (0.9, 9.0), (0.95, 10.0), (0.31, 4.0)] {
            assert_eq!(s.quantile(q), Some(want), "q = {q}");
        }
        let mut s = Sketch::new();
        s.add(1.0);
        s.add(100.0);
        assert_eq!(s.quantile(0.5), Some(1.0), "nearest rank, not interpolation");
    }

    #[test]
    fn negative_values_are_ordered_by_value() {
        let mut s = Sketch::new();
        for x in [-1000.0, -10.0, -1.0, 1.0, 10.0] {
            s.add(x);
        }
        assert_eq!(s.quantile(0.4), Some(-10.0));
        assert_eq!(s.quantile(0.6), Some(-1.0));
        assert_eq!(s.quantile(0.8), Some(1.0));
    }

    #[test]
    fn stores_fold_the_smallest_magnitudes_past_max_bins() {
        let mut s = Sketch::new();
        for e in -200..=200 {
            s.add(10f64.powi(e));
            s.add(-(10f64.powi(e)));
        }
        assert_eq!(s.pos.counts.len(), MAX_BINS);
        assert_eq!(s.neg.counts.len(), MAX_BINS);
        assert_eq!(s.pos.counts.iter().sum::<u64>(), 401);
        let p99 = s.quantile(0.99).expect("not empty");
        let exact = 1e192;
        assert!(((p99 - exact) / exact).abs() <= ALPHA * 1.000_001, "{p99}");
    }

    #[test]
    fn merging_folds_like_adding_in_one_sketch() {
        let xs: Vec<f64> = (0..3000)
            .map(|i| 1.5f64.powi(i % 1500 - 700) * if i % 3 == 0 { -1.0 } else { 1.0 })
            .collect();
        let mut one = Sketch::new();
        xs.iter().for_each(|&x| one.add(x));
        let (a, b) = xs.split_at(1234);
        let (mut sa, mut sb) = (Sketch::new(), Sketch::new());
        a.iter().for_each(|&x| sa.add(x));
        b.iter().for_each(|&x| sb.add(x));
        sa.merge(&sb);
        assert_eq!(sa, one);
    }
}
