//! Distinct values: an exact count by 64-bit hash, and the first distinct values themselves.

use super::key::canonical_hash;
use crate::lang::Val;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// The identity of a value for `distinct` and `values`: the hash of its canonical bytes (see
/// [`super::key`]), so `1`, `1.0` and `1E0` are one value and the string `"1"` is another.
pub(crate) fn value_hash(v: &Val) -> u64 {
    canonical_hash(v)
}

/// Hashes a `u64` that is already a hash as itself: the set need not hash it again.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

type HashSet64 = HashSet<u64, BuildHasherDefault<IdHasher>>;

/// The number of distinct non-null values, exact up to hash collisions.
///
/// Values are kept as 64-bit hashes (8 bytes each, whatever their size). Two different values
/// collide with probability 2⁻⁶⁴ per pair, so among n distinct values the chance that any pair
/// collides (and the count comes out one short) is about n²/2⁶⁵: 3·10⁻⁸ for a million values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Distinct {
    seen: HashSet64,
}

impl Distinct {
    pub(crate) fn add(&mut self, v: &Val) {
        if !v.is_null() {
            self.seen.insert(value_hash(v));
        }
    }

    pub(crate) fn merge(&mut self, later: Distinct) {
        if later.seen.len() > self.seen.len() {
            let mine = std::mem::replace(&mut self.seen, later.seen);
            self.seen.extend(mine);
        } else {
            self.seen.extend(later.seen);
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.seen.len() as u64
    }
}

/// The distinct non-null values in first-seen order, at most [`Values::CAP`] of them: the first
/// 100 distinct values of the input. Past the cap further values are ignored, which bounds the
/// memory per group.
#[derive(Debug, Clone, Default)]
pub(crate) struct Values {
    seen: HashSet64,
    vals: Vec<Val<'static>>,
}

impl Values {
    pub(crate) const CAP: usize = 100;

    pub(crate) fn add(&mut self, v: &Val) {
        if v.is_null() || self.vals.len() >= Values::CAP {
            return;
        }
        if self.seen.insert(value_hash(v)) {
            self.vals.push(v.clone().into_static());
        }
    }

    /// Appends the values first seen in `later`. Keeping `CAP` values per part is enough: of the
    /// `CAP` that `later` kept, at most `self.vals.len()` are already here, which leaves at least
    /// as many new ones as there is room for.
    pub(crate) fn merge(&mut self, later: Values) {
        for v in later.vals {
            if self.vals.len() >= Values::CAP {
                break;
            }
            if self.seen.insert(value_hash(&v)) {
                self.vals.push(v);
            }
        }
    }

    pub(crate) fn values(&self) -> &[Val<'static>] {
        &self.vals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn strings_and_numbers_with_the_same_text_are_distinct() {
        let mut d = Distinct::default();
        for v in [
            Val::str("1"),
            Val::Int(1),
            Val::str("true"),
            Val::Bool(true),
            Val::str("null"),
        ] {
            d.add(&v);
        }
        assert_eq!(d.count(), 5);
    }

    #[test]
    fn nulls_are_not_counted_and_repeats_count_once() {
        let mut d = Distinct::default();
        for v in [Val::Null, Val::str("a"), Val::str("a"), Val::Int(7), Val::Float(7.0)] {
            d.add(&v);
        }
        assert_eq!(d.count(), 2, "7 and 7.0 are one number, as in group keys");
    }

    #[test]
    fn numbers_are_distinct_by_value_and_big_integers_stay_exact() {
        let num = |t: &str| Val::number_text(Cow::Owned(t.to_string()));
        let mut d = Distinct::default();
        for t in ["1", "1.0", "1E0", "10e-1", "9007199254740992", "9007199254740993", "2"] {
            d.add(&num(t));
        }
        assert_eq!(d.count(), 4);
        let mut v = Values::default();
        for t in ["1.0", "1", "1E0", "2"] {
            v.add(&num(t));
        }
        assert_eq!(v.values(), [num("1.0"), num("2")], "the first-seen text is kept");
    }

    #[test]
    fn distinct_merge_is_a_union() {
        let (mut a, mut b) = (Distinct::default(), Distinct::default());
        (0..10).for_each(|i| a.add(&Val::Int(i)));
        (5..50).for_each(|i| b.add(&Val::Int(i)));
        a.merge(b);
        assert_eq!(a.count(), 50);
    }

    #[test]
    fn values_keep_first_seen_order_and_stop_at_the_cap() {
        let mut v = Values::default();
        for i in [3, 1, 3, 2, 1] {
            v.add(&Val::Int(i));
        }
        assert_eq!(v.values(), [Val::Int(3), Val::Int(1), Val::Int(2)]);
        (0..1000).for_each(|i| v.add(&Val::Int(i)));
        assert_eq!(v.values().len(), Values::CAP);
        assert_eq!(v.values()[3], Val::Int(0));
        assert_eq!(v.values()[99], Val::Int(99), "3, 1, 2, 0, then 4 onwards");
    }

    #[test]
    fn values_merge_fills_up_from_the_later_part() {
        let (mut a, mut b) = (Values::default(), Values::default());
        (0..50).for_each(|i| a.add(&Val::Int(i)));
        (0..500).for_each(|i| b.add(&Val::Int(i)));
        a.merge(b);
        let want: Vec<Val> = (0..100).map(Val::Int).collect();
        assert_eq!(a.values(), want.as_slice());
    }
}
