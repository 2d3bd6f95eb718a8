//! Percentile accuracy against exact nearest-rank values, on data from several distributions.

use super::sketch::{MAX_BINS, nearest_rank};
use super::{Acc, AggFn, Sketch};
use crate::lang::Val;
use proptest::prelude::*;

const QS: [f64; 7] = [0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0];

/// SplitMix64: a small deterministic generator, so failures reproduce and no crate is needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        (-2.0 * self.unit().ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }

    fn sign(&mut self) -> f64 {
        if self.next() & 1 == 0 { 1.0 } else { -1.0 }
    }
}

type Gen = fn(&mut Rng) -> f64;

/// Distributions named as in the report: what latency, size and count fields look like, plus the
/// shapes that break naive sketches (constants, two values, signs, zeros, huge ranges).
const DISTRIBUTIONS: [(&str, Gen); 11] = [
    ("uniform float 0..1000", |r| r.unit() * 1000.0),
    ("uniform int 0..300", |r| (r.unit() * 300.0).floor()),
    ("pareto a=1.16", |r| r.unit().powf(-1.0 / 1.16)),
    ("pareto a=0.5 int", |r| r.unit().powf(-2.0).floor().min(1e15)),
    ("log-normal s=2", |r| (r.normal() * 2.0 + 3.0).exp()),
    ("constant 42.5", |_| 42.5),
    ("two values 1 | 1000", |r| if r.unit() < 0.97 { 1.0 } else { 1000.0 }),
    ("normal(0,100) with negatives", |r| r.normal() * 100.0),
    ("30% zeros, signed log-normal", |r| {
        if r.unit() < 0.3 {
            0.0
        } else {
            r.sign() * (r.normal() * 3.0).exp()
        }
    }),
    ("signed int latencies", |r| r.sign() * (r.normal() + 5.0).exp().round()),
    ("signed 10^(-8..8)", |r| r.sign() * 10f64.powf(r.unit() * 16.0 - 8.0)),
];

fn exact(sorted: &[f64], q: f64) -> f64 {
    sorted[nearest_rank(q, sorted.len() as u64) as usize - 1]
}

fn rel_error(got: f64, want: f64) -> f64 {
    if want == 0.0 {
        if got == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        ((got - want) / want).abs()
    }
}

/// The worst relative error over `QS` of a sketch built in `parts` merged pieces.
fn worst_error(xs: &[f64], parts: usize) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut sketch = Sketch::new();
    for chunk in xs.chunks(xs.len().div_ceil(parts)) {
        let mut part = Sketch::new();
        for &x in chunk {
            part.add(x);
        }
        sketch.merge(&part);
    }
    QS.iter()
        .map(|&q| rel_error(sketch.quantile_f64(q).expect("not empty"), exact(&sorted, q)))
        .fold(0.0, f64::max)
}

#[test]
fn percentiles_are_within_one_percent_on_every_distribution() {
    let mut report = Vec::new();
    for (seed, (name, generate)) in DISTRIBUTIONS.iter().enumerate() {
        let mut rng = Rng(seed as u64 + 1);
        let xs: Vec<f64> = (0..200_000).map(|_| generate(&mut rng)).collect();
        let one = worst_error(&xs, 1);
        let merged = worst_error(&xs, 7);
        report.push(format!(
            "{name:32} worst relative error {:.4}% (merged from 7 parts: {:.4}%)",
            one * 100.0,
            merged * 100.0
        ));
        assert!(one <= 0.01 && merged <= 0.01, "{name}: {one} / {merged}");
    }
    // Shown with `cargo test --lib agg::accuracy -- --nocapture`.
    eprintln!("{}", report.join("\n"));
}

#[test]
fn percentile_results_through_acc_match_the_sketch() {
    let mut rng = Rng(99);
    let xs: Vec<i64> = (0..50_000).map(|_| (rng.normal() * 1e4) as i64).collect();
    let mut sorted: Vec<f64> = xs.iter().map(|&i| i as f64).collect();
    sorted.sort_by(f64::total_cmp);
    for q in [0.5, 0.9, 0.95, 0.99, 0.999] {
        let mut acc = Acc::new(&AggFn::Percentile(q));
        for &i in &xs {
            acc.add(&Val::Int(i));
        }
        let got = acc.result();
        assert!(got.is_i64(), "integral data gives integers: {got}");
        let got = got.as_f64().expect("a number");
        assert!(
            rel_error(got, exact(&sorted, q)) <= 0.01,
            "q {q}: {got} vs {}",
            exact(&sorted, q)
        );
    }
}

#[test]
fn memory_stays_bounded_for_a_million_values_over_six_hundred_orders_of_magnitude() {
    let mut rng = Rng(7);
    let mut sketch = Sketch::new();
    for _ in 0..1_000_000 {
        sketch.add(rng.sign() * 10f64.powf(rng.unit() * 600.0 - 300.0));
    }
    assert_eq!(sketch.count(), 1_000_000);
    assert!(sketch.bins() <= 2 * MAX_BINS, "{} bins", sketch.bins());
    // The top of the range keeps its accuracy when the bottom is folded.
    let p999 = sketch.quantile_f64(0.999).expect("not empty");
    assert!(p999 > 1e290 && p999 < 1e300, "{p999}");
}

#[test]
fn typical_latencies_use_few_buckets() {
    let mut rng = Rng(3);
    let mut sketch = Sketch::new();
    for _ in 0..1_000_000 {
        sketch.add((rng.normal() + 4.0).exp());
    }
    // Five standard deviations each way: e^10 is about 1,000 buckets of γ ≈ 1.0099.
    assert!(sketch.bins() < 1200, "{} bins", sketch.bins());
}

proptest! {
    #[test]
    fn any_numbers_any_quantile_within_one_percent(
        xs in prop::collection::vec(prop_oneof![
            (-1_000_000i64..1_000_000).prop_map(|i| i as f64),
            (-1e9..1e9f64),
            (1e-6..1e-3f64),
            Just(0.0),
        ], 1..400),
        q in 0.0..=1.0f64,
        cut in 0.0..1.0f64,
    ) {
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let at = (xs.len() as f64 * cut) as usize;
        let (mut a, mut b) = (Sketch::new(), Sketch::new());
        xs[..at].iter().for_each(|&x| a.add(x));
        xs[at..].iter().for_each(|&x| b.add(x));
        a.merge(&b);
        let got = a.quantile_f64(q).expect("not empty");
        let want = exact(&sorted, q);
        prop_assert!(rel_error(got, want) <= 0.01, "q {}: {} vs {}", q, got, want);
    }
}
