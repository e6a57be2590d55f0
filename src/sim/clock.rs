//! The virtual clock and its event queue: time only moves when the simulation jumps to the next
//! thing due.

use std::collections::BTreeMap;

use crate::api::Time;

/// A priority queue of `(time, sequence)`-ordered items: earliest first, and among items due at
/// the same instant, in the order they were scheduled. The sequence makes the order total, so a
/// simulation never depends on how a heap breaks ties.
#[derive(Clone, Debug)]
pub(crate) struct EventQueue<T> {
    items: BTreeMap<(Time, u64), T>,
    next_seq: u64,
}

impl<T> EventQueue<T> {
    pub(crate) fn new() -> Self {
        EventQueue { items: BTreeMap::new(), next_seq: 0 }
    }

    /// Schedules `item` at `at`; returns its sequence number (an id for cancelling timers).
    pub(crate) fn push(&mut self, at: Time, item: T) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.items.insert((at, seq), item);
        seq
    }

    /// When the next item is due.
    pub(crate) fn peek_time(&self) -> Option<Time> {
        self.items.first_key_value().map(|((t, _), _)| *t)
    }

    /// Removes and returns the next item.
    pub(crate) fn pop(&mut self) -> Option<(Time, u64, T)> {
        self.items.pop_first().map(|((t, seq), item)| (t, seq, item))
    }

    /// Drops every item `keep` rejects.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items.retain(|_, item| keep(item));
    }
}

/// A small deterministic generator (SplitMix64) for seeded member delays: the same seed gives the
/// same delays on every machine, and nothing else in the simulator is random.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `lo..=hi`.
    pub(crate) fn in_range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_items_come_out_in_scheduling_order() {
        let mut q = EventQueue::new();
        let t = |s| Time::from_unix_seconds(s);
        q.push(t(5), "late");
        q.push(t(1), "first");
        q.push(t(1), "second");
        assert_eq!(q.peek_time(), Some(t(1)));
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, x)| x)).collect();
        assert_eq!(order, ["first", "second", "late"]);
    }

    #[test]
    fn seeded_values_are_reproducible_and_in_range() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..100 {
            let x = a.in_range(5, 30);
            assert_eq!(x, b.in_range(5, 30));
            assert!((5..=30).contains(&x));
        }
    }
}
