//! Flags that worker threads raise and never lower, up to 64 in one atomic word: what the
//! end-of-run warnings watch for (a field seen, a type met, two time offsets that differ).
//! Once all are raised, checking them costs one relaxed load.

use std::sync::atomic::{AtomicU64, Ordering};

/// The most flags one set holds.
pub(crate) const MAX_FLAGS: usize = 64;

#[derive(Debug, Default)]
pub(crate) struct Flags {
    raised: AtomicU64,
    /// The bits of the set's flags.
    all: u64,
}

impl Flags {
    /// `n` lowered flags; past [`MAX_FLAGS`], the first 64.
    pub(crate) fn new(n: usize) -> Flags {
        let all = if n >= MAX_FLAGS { u64::MAX } else { (1u64 << n) - 1 };
        Flags {
            raised: AtomicU64::new(0),
            all,
        }
    }

    /// Raises each lowered flag `i` for which `raise(i)` holds; true once all are raised.
    pub(crate) fn update(&self, mut raise: impl FnMut(usize) -> bool) -> bool {
        let was = self.raised.load(Ordering::Relaxed);
        if was == self.all {
            return true;
        }
        let mut now = was;
        for i in (0..MAX_FLAGS).take_while(|i| self.all & (1 << i) != 0) {
            if now & (1 << i) == 0 && raise(i) {
                now |= 1 << i;
            }
        }
        if now != was {
            self.raised.fetch_or(now, Ordering::Relaxed);
        }
        now == self.all
    }

    pub(crate) fn is_raised(&self, i: usize) -> bool {
        i < MAX_FLAGS && self.raised.load(Ordering::Relaxed) & (1 << i) != 0
    }

    pub(crate) fn all_raised(&self) -> bool {
        self.raised.load(Ordering::Relaxed) == self.all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_rise_once_and_report_when_all_are_up() {
        let f = Flags::new(3);
        assert!(!f.update(|i| i == 1));
        assert!(f.is_raised(1) && !f.is_raised(0) && !f.is_raised(2));
        let mut asked = Vec::new();
        assert!(!f.update(|i| {
            asked.push(i);
            i == 0
        }));
        assert_eq!(asked, [0, 2], "a raised flag is not asked again");
        assert!(f.update(|_| true));
        assert!(f.all_raised() && f.update(|_| unreachable!()));
        assert!(!f.is_raised(3) && !f.is_raised(64));
    }

    #[test]
    fn sixty_four_flags_fill_the_word_and_more_are_cut() {
        let f = Flags::new(100);
        assert!(!f.update(|i| i < 63));
        assert!(f.update(|i| i == 63));
        assert!(Flags::new(0).all_raised());
    }
}
