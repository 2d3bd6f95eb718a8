//! A mergeable quantile sketch with relative-error guarantees over the whole f64 range:
//! DDSketch-style logarithmic buckets that remember the values they saw at their edges.
//!
//! A positive value `x` falls in bucket `k = ceil(log_γ x)`, which covers `(γ^(k-1), γ^k]`, so any
//! two values in one bucket are within a factor γ of each other. Each bucket keeps its count and
//! the smallest and largest value it received, and a quantile answers with one of those: a value
//! that occurred, in the same bucket as the exact nearest-rank value, hence within `γ - 1` < 1% of
//! it (and exact when the bucket saw at most two distinct values, as small integers do). Negative
//! values go to a second store by magnitude and zeros are counted apart, so signs do not matter.
//! No bucket is ever folded into another: memory grows with the number of buckets the data
//! touches (a few hundred for typical latencies) and is bounded by the f64 range itself,
//! [`MAX_BINS`] per sign. Merging adds counts and takes minima and maxima, so a merged sketch
//! equals the sketch of all the values whatever the merge order.
//! See Masson, Rim & Lee, "DDSketch: a fast and fully-mergeable quantile sketch" (VLDB 2019).
//!
//! We do not use a crate: the ones we looked at (sketches-ddsketch, sketches-rust) answer for a
//! rank spread over `n - 1` (sketches-ddsketch: `1 + floor(q·(n-1))`), not the nearest rank
//! `ceil(q·n)` the spec asks for, fold their lowest buckets together past a fixed count, and
//! print a bucket's midpoint rather than a value that occurred.

use crate::lang::value::Numeric;
use std::cmp::Ordering;

/// The bucket width parameter: γ = (1+α)/(1-α) ≈ 1.0099, so two values in one bucket are within
/// `γ - 1` ≈ 0.985% of each other, under the 1% the spec allows, with room for float error in
/// the bucket computation.
pub(crate) const ALPHA: f64 = 0.0049;

/// An upper bound on the buckets of one sign: the finite positive f64 values, from the smallest
/// subnormal (ln ≈ -744.4) to `f64::MAX` (ln ≈ 709.8), span about 148,300 buckets of γ.
#[cfg(test)]
pub(crate) const MAX_BINS: usize = 150_000;

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

/// The lowest and highest bucket a finite magnitude can have.
fn key_range() -> (i32, i32) {
    (key(f64::from_bits(1)), key(f64::MAX))
}

/// The 1-based nearest rank `ceil(q·n)` of quantile `q` among `n` values; `q = 0` is rank 1.
///
/// `q` usually comes from decimal text (`0.07`), so a product a few ulps off an integer is that
/// integer: `0.07 × 100` is rank 7, not 8.
pub(crate) fn nearest_rank(q: f64, n: u64) -> u64 {
    let r = q * n as f64;
    let k = r.round();
    let rank = if (r - k).abs() <= k.abs() * 1e-12 { k } else { r.ceil() };
    // `as` saturates: NaN → 0, which the clamp turns into rank 1.
    (rank as u64).clamp(1, n.max(1))
}

/// A magnitude a bucket received, as it occurred: a double, or an integer past 2^53 (at most
/// 2^127, from an i128), which no double holds exactly. The integer is kept in two halves so
/// that a bucket stays 8-byte aligned.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Magnitude {
    F(f64),
    Int { hi: u64, lo: u64 },
}

/// Integers up to this magnitude are exact as doubles.
const EXACT_AS_F64: u128 = 1 << 53;

impl Magnitude {
    fn int(u: u128) -> Magnitude {
        Magnitude::Int {
            hi: (u >> 64) as u64,
            lo: u as u64,
        }
    }

    /// The nearest double, which decides the bucket.
    fn approx(self) -> f64 {
        match self {
            Magnitude::F(f) => f,
            Magnitude::Int { hi, lo } => wide(hi, lo) as f64,
        }
    }

    /// The exact order of two magnitudes.
    fn cmp(self, other: Magnitude) -> Ordering {
        match (self, other) {
            (Magnitude::F(a), Magnitude::F(b)) => a.total_cmp(&b),
            (Magnitude::Int { hi, lo }, Magnitude::Int { hi: h, lo: l }) => wide(hi, lo).cmp(&wide(h, l)),
            (Magnitude::F(f), Magnitude::Int { hi, lo }) => cmp_float_int(f, wide(hi, lo)),
            (Magnitude::Int { hi, lo }, Magnitude::F(f)) => cmp_float_int(f, wide(hi, lo)).reverse(),
        }
    }

    /// The number with sign `negative`.
    fn signed(self, negative: bool) -> Numeric {
        match self {
            Magnitude::F(f) => Numeric::F(if negative { -f } else { f }),
            // At most 2^127: as an i128 that is i128::MIN, which negated is itself, -2^127.
            Magnitude::Int { hi, lo } => {
                let i = wide(hi, lo) as i128;
                Numeric::I(if negative { i.wrapping_neg() } else { i })
            }
        }
    }
}

fn wide(hi: u64, lo: u64) -> u128 {
    (u128::from(hi) << 64) | u128::from(lo)
}

/// Compares a finite double with an integer past 2^53 exactly: where the integer's nearest
/// double equals `f`, `f` is a whole number no larger than 2^128 and compares as an integer.
fn cmp_float_int(f: f64, u: u128) -> Ordering {
    match f.total_cmp(&(u as f64)) {
        Ordering::Equal if f >= 2f64.powi(128) => Ordering::Greater,
        Ordering::Equal => (f as u128).cmp(&u),
        o => o,
    }
}

/// One bucket: how many magnitudes it received, and the smallest and largest of them.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bin {
    count: u64,
    min: Magnitude,
    max: Magnitude,
}

impl Bin {
    fn of(x: Magnitude) -> Bin {
        Bin {
            count: 1,
            min: x,
            max: x,
        }
    }

    fn merge(&mut self, other: &Bin) {
        self.count += other.count;
        if other.min.cmp(self.min).is_lt() {
            self.min = other.min;
        }
        if other.max.cmp(self.max).is_gt() {
            self.max = other.max;
        }
    }

    /// The magnitude to answer for the `pos`-th smallest (1-based) of the bucket's magnitudes:
    /// its smallest for the lower half, its largest for the upper half.
    fn pick(&self, pos: u64) -> Magnitude {
        if pos.saturating_mul(2) <= self.count {
            self.min
        } else {
            self.max
        }
    }
}

/// The buckets of one sign, by key. `slots` maps each key from `offset` on to `1 +` the index
/// of its bucket in `bins` (0: no bucket yet), so adding a value costs one array access and the
/// buckets themselves take room only where values fell.
#[derive(Debug, Clone, Default)]
struct Store {
    offset: i32,
    slots: Vec<u32>,
    bins: Vec<Bin>,
}

impl Store {
    fn add(&mut self, x: Magnitude) {
        self.add_bin(key(x.approx()), &Bin::of(x));
    }

    fn add_bin(&mut self, key: i32, bin: &Bin) {
        let i = self.slot(key);
        match self.slots[i] {
            0 => {
                self.bins.push(*bin);
                // At most MAX_BINS buckets per store, so the index fits.
                self.slots[i] = u32::try_from(self.bins.len()).unwrap_or(u32::MAX);
            }
            s => self.bins[s as usize - 1].merge(bin),
        }
    }

    fn merge(&mut self, other: &Store) {
        for (k, bin) in other.iter() {
            self.add_bin(k, bin);
        }
    }

    /// The buckets with their keys, smallest magnitude first.
    fn iter(&self) -> impl DoubleEndedIterator<Item = (i32, &Bin)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| **s != 0)
            .map(|(i, &s)| (self.offset + i as i32, &self.bins[s as usize - 1]))
    }

    /// The index of `key` in `slots`, growing them to cover it. They grow by at least their own
    /// length (within the keys that exist), so covering keys one by one costs linear time.
    /// `key` comes from [`key`] (here or in a merged store), so it is within [`key_range`].
    fn slot(&mut self, key: i32) -> usize {
        if self.slots.is_empty() {
            self.offset = key;
            self.slots.push(0);
        }
        let len = self.slots.len() as i32;
        if key < self.offset {
            let lo = key.min(self.offset.saturating_sub(len).max(key_range().0));
            let mut slots = vec![0; (self.offset - lo) as usize];
            slots.extend_from_slice(&self.slots);
            self.slots = slots;
            self.offset = lo;
        }
        let hi = self.offset + self.slots.len() as i32 - 1;
        if key > hi {
            let new_hi = key.max(hi.saturating_add(len).min(key_range().1));
            self.slots.resize((new_hi - self.offset + 1) as usize, 0);
        }
        (key - self.offset) as usize
    }
}

/// Equal when the buckets are: how far the slots reach and in which order the buckets were
/// created depend on the order of the values, the answers do not.
impl PartialEq for Store {
    fn eq(&self, other: &Store) -> bool {
        self.iter().eq(other.iter())
    }
}

/// A quantile sketch over numbers. Those past the range of a double (±1e400) are counted at
/// its ends, so they keep their ranks; NaN is ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Sketch {
    pos: Store,
    neg: Store,
    zeros: u64,
    /// Values past the range: above it, and below it.
    above: u64,
    below: u64,
    count: u64,
}

impl Sketch {
    pub(crate) fn new() -> Sketch {
        Sketch::default()
    }

    /// Adds a number; an integer past 2^53 is kept exactly, so it can be the answer.
    pub(crate) fn add_numeric(&mut self, x: Numeric) {
        match x {
            Numeric::I(i) if i.unsigned_abs() > EXACT_AS_F64 => {
                self.count += 1;
                let store = if i > 0 { &mut self.pos } else { &mut self.neg };
                store.add(Magnitude::int(i.unsigned_abs()));
            }
            x => self.add(x.as_f64()),
        }
    }

    pub(crate) fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.count += 1;
        if x == f64::INFINITY {
            self.above += 1;
        } else if x == f64::NEG_INFINITY {
            self.below += 1;
        } else if x > 0.0 {
            self.pos.add(Magnitude::F(x));
        } else if x < 0.0 {
            self.neg.add(Magnitude::F(-x));
        } else {
            self.zeros += 1;
        }
    }

    pub(crate) fn merge(&mut self, other: &Sketch) {
        self.pos.merge(&other.pos);
        self.neg.merge(&other.neg);
        self.zeros += other.zeros;
        self.above += other.above;
        self.below += other.below;
        self.count += other.count;
    }

    /// How many values were added.
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// How many buckets the sketch holds: its memory, at most `2 × MAX_BINS`.
    #[cfg(test)]
    pub(crate) fn bins(&self) -> usize {
        self.pos.bins.len() + self.neg.bins.len()
    }

    /// A value that occurred, within `γ - 1` < 1% of the value at nearest rank `ceil(q·n)`; exact
    /// for the minimum (rank 1), the maximum (rank n), zero, and any value whose bucket saw at
    /// most two distinct values. `None` when the sketch is empty; ±infinity when the rank
    /// falls on a value past the range of a double.
    pub(crate) fn quantile(&self, q: f64) -> Option<Numeric> {
        if self.count == 0 {
            return None;
        }
        let rank = nearest_rank(q, self.count);
        if rank <= self.below {
            return Some(Numeric::F(f64::NEG_INFINITY));
        }
        let mut seen = self.below;
        // Negative values in increasing order: from the largest magnitude down, and within a
        // bucket the larger magnitudes are the smaller values.
        for (_, bin) in self.neg.iter().rev() {
            if seen + bin.count >= rank {
                return Some(bin.pick(bin.count + 1 - (rank - seen)).signed(true));
            }
            seen += bin.count;
        }
        seen += self.zeros;
        if seen >= rank {
            return Some(Numeric::F(0.0));
        }
        for (_, bin) in self.pos.iter() {
            if seen + bin.count >= rank {
                return Some(bin.pick(rank - seen).signed(false));
            }
            seen += bin.count;
        }
        // The counts add up to `count` ≥ rank: the rest are above the range.
        Some(Numeric::F(f64::INFINITY))
    }

    /// [`Sketch::quantile`] as a double.
    #[cfg(test)]
    pub(crate) fn quantile_f64(&self, q: f64) -> Option<f64> {
        self.quantile(q).map(Numeric::as_f64)
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
    fn values_in_one_bucket_are_within_one_percent_of_each_other() {
        let mut x = 1e-300f64;
        while x < 1e300 {
            let k = key(x);
            // The bucket's edges: the smallest and largest magnitudes with key k.
            let (mut lo, mut hi) = (x, x);
            while key(lo / 1.0001) == k {
                lo /= 1.0001;
            }
            while key(hi * 1.0001) == k {
                hi *= 1.0001;
            }
            assert!(hi / lo < 1.01, "{x}: {lo}..{hi}");
            x *= 1.37;
        }
        let (lowest, highest) = key_range();
        assert!(((highest - lowest + 1) as usize) <= MAX_BINS);
        assert_eq!(key(5e-324), lowest);
    }

    #[test]
    fn values_past_the_range_keep_their_ranks() {
        let mut s = Sketch::new();
        for x in [5.0, f64::INFINITY, 7.0, f64::NAN] {
            s.add(x);
        }
        assert_eq!(s.count(), 3);
        assert_eq!(s.quantile_f64(0.5), Some(7.0));
        assert_eq!(s.quantile_f64(1.0), Some(f64::INFINITY));
        let mut low = Sketch::new();
        low.add(f64::NEG_INFINITY);
        low.add(1.0);
        s.merge(&low);
        assert_eq!(s.quantile_f64(0.0), Some(f64::NEG_INFINITY));
        assert_eq!(s.quantile_f64(0.4), Some(1.0));
    }

    #[test]
    fn values_near_f64_max_do_not_overflow() {
        // Answers are values that occurred, so the top bucket stays finite.
        let mut s = Sketch::new();
        for x in [f64::MAX, -f64::MAX, 1e300, f64::MAX, -f64::MAX, f64::MAX, -f64::MAX] {
            s.add(x);
        }
        for (q, want) in [(0.3, -f64::MAX), (0.5, 1e300), (0.7, f64::MAX)] {
            let got = s.quantile_f64(q).expect("not empty");
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
        assert_eq!(Sketch::new().quantile_f64(0.5), None);
        let mut s = Sketch::new();
        s.add(f64::NAN);
        assert_eq!(s.quantile_f64(0.5), None);
        s.add(f64::INFINITY);
        assert_eq!(
            s.quantile_f64(0.5),
            Some(f64::INFINITY),
            "a value past the range is a value"
        );
    }

    #[test]
    fn min_max_and_zero_are_exact() {
        let mut s = Sketch::new();
        for x in [-3.25, 0.0, 0.0, 0.0, 7.125] {
            s.add(x);
        }
        assert_eq!(s.quantile_f64(0.0), Some(-3.25));
        assert_eq!(s.quantile_f64(0.5), Some(0.0));
        assert_eq!(s.quantile_f64(1.0), Some(7.125));
    }

    #[test]
    fn small_integers_come_back_exactly() {
        let mut s = Sketch::new();
        for x in 1..=10 {
            s.add(f64::from(x));
        }
        for (q, want) in [(0.5, 5.0), (0.9, 9.0), (0.95, 10.0), (0.31, 4.0)] {
            assert_eq!(s.quantile_f64(q), Some(want), "q = {q}");
        }
        let mut s = Sketch::new();
        s.add(1.0);
        s.add(100.0);
        assert_eq!(s.quantile_f64(0.5), Some(1.0), "nearest rank, not interpolation");
    }

    #[test]
    fn negative_values_are_ordered_by_value() {
        let mut s = Sketch::new();
        for x in [-1000.0, -10.0, -1.0, 1.0, 10.0] {
            s.add(x);
        }
        assert_eq!(s.quantile_f64(0.4), Some(-10.0));
        assert_eq!(s.quantile_f64(0.6), Some(-1.0));
        assert_eq!(s.quantile_f64(0.8), Some(1.0));
    }

    #[test]
    fn a_huge_value_does_not_move_the_median_of_small_ones() {
        let mut s = Sketch::new();
        (1..=1000).for_each(|i| s.add(f64::from(i)));
        s.add(1e30);
        // Rank 501 of 1001; its bucket holds 498..=502 and answers with one of its edges.
        let p50 = s.quantile_f64(0.5).expect("not empty");
        assert!((498.0..=502.0).contains(&p50) && p50.fract() == 0.0, "{p50}");
        assert_eq!(s.quantile_f64(1.0), Some(1e30));
        assert_eq!(s.quantile_f64(0.0), Some(1.0));
        let mut tiny = Sketch::new();
        (1..=1000).for_each(|i| tiny.add(f64::from(i) * 1e-300));
        tiny.add(1e300);
        let p50 = tiny.quantile_f64(0.5).expect("not empty");
        assert!((p50 / 501e-300 - 1.0).abs() < 0.01, "{p50}");
    }

    #[test]
    fn integers_past_2_pow_53_come_back_exactly() {
        let mut s = Sketch::new();
        let ints = [
            9_007_199_254_740_993,
            9_007_199_254_740_995,
            -9_007_199_254_740_997,
            i128::MAX,
            i128::MIN,
        ];
        for i in ints {
            s.add_numeric(Numeric::I(i));
        }
        // 9007199254740996.0 lies between the two positive ones and must not be the answer.
        s.add(9_007_199_254_740_996.0);
        let at = |q: f64| s.quantile(q).expect("not empty");
        assert_eq!(at(0.0), Numeric::I(i128::MIN));
        assert_eq!(at(0.3), Numeric::I(-9_007_199_254_740_997));
        assert_eq!(at(0.5), Numeric::I(9_007_199_254_740_993));
        assert_eq!(at(0.7), Numeric::F(9_007_199_254_740_996.0));
        assert_eq!(at(1.0), Numeric::I(i128::MAX));
        let mut merged = Sketch::new();
        merged.add(9_007_199_254_740_996.0);
        let mut other = Sketch::new();
        other.add_numeric(Numeric::I(9_007_199_254_740_995));
        merged.merge(&other);
        assert_eq!(merged.quantile(1.0), Some(Numeric::F(9_007_199_254_740_996.0)));
        assert_eq!(merged.quantile(0.0), Some(Numeric::I(9_007_199_254_740_995)));
    }

    #[test]
    fn answers_are_values_that_occurred() {
        let mut s = Sketch::new();
        let xs: Vec<f64> = (0..5000).map(|i| f64::from(i * 7 + 1000)).collect();
        for &x in &xs {
            s.add(x);
        }
        for q in [0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999] {
            let got = s.quantile_f64(q).expect("not empty");
            assert!(xs.contains(&got), "q {q}: {got} never occurred");
            let want = xs[nearest_rank(q, 5000) as usize - 1];
            assert!((got / want - 1.0).abs() < 0.01, "q {q}: {got} vs {want}");
        }
    }

    #[test]
    fn zeros_negative_zero_subnormals_and_extremes() {
        let mut s = Sketch::new();
        for x in [-0.0, 0.0, 5e-324, -5e-324, 2.2e-308, f64::MAX, -f64::MAX, -1.5] {
            s.add(x);
        }
        let all: Vec<f64> = [0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0]
            .iter()
            .map(|&q| s.quantile_f64(q).expect("not empty"))
            .collect();
        assert_eq!(
            all,
            [
                -f64::MAX,
                -f64::MAX,
                -1.5,
                -5e-324,
                0.0,
                0.0,
                5e-324,
                2.2e-308,
                f64::MAX
            ]
        );
    }

    #[test]
    fn merging_equals_adding_in_one_sketch() {
        let xs: Vec<f64> = (0..3000)
            .map(|i| 1.5f64.powi(i % 1500 - 700) * if i % 3 == 0 { -1.0 } else { 1.0 })
            .collect();
        let mut one = Sketch::new();
        for &x in &xs {
            one.add(x);
        }
        let (a, b) = xs.split_at(1234);
        let (mut sa, mut sb) = (Sketch::new(), Sketch::new());
        for &x in a {
            sa.add(x);
        }
        for &x in b {
            sb.add(x);
        }
        sa.merge(&sb);
        assert_eq!(sa, one);
    }
}
