//! [`Table`]: the bounded map every detector keeps its state in.
//!
//! A hard entry cap; when full, a new key replaces the least recently seen of 8 sampled
//! entries (deterministic sampling, so the same input gives the same alerts) and the
//! replacement is counted in `evicted_total`. Entries live in a dense vector, so sampling and
//! sweeping are O(1) per entry. The index holds only slot numbers (4 bytes a bucket; the key
//! is compared in its slot), so a table costs its entries plus about 10 bytes each. Attackers
//! choose the keys (spoofed sources), so the hasher is seeded per table.

use std::hash::{BuildHasher, Hash};
use wirescope_core::Timestamp;

const SAMPLE: usize = 8;

pub struct Table<K, V> {
    index: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    slots: Vec<(K, Timestamp, V)>,
    cap: usize,
    pub evicted_total: u64,
    rng: u64,
}

impl<K: Hash + Eq + Copy, V> Table<K, V> {
    /// A table of at most `cap` entries (at least 1). Memory is reserved lazily: room for
    /// 64 entries up front, then the vector and index double as entries arrive, up to `cap`,
    /// and are kept (a table never shrinks, so steady state allocates nothing). Reserving
    /// 4 096 entries per table up front cost 31 MB on the benchmark mix, mostly in tables that
    /// stayed nearly empty (brute force, slowloris, web attacks).
    pub fn new(cap: usize) -> Self {
        Table {
            index: hashbrown::HashTable::with_capacity(cap.min(64)),
            hasher: Default::default(),
            slots: Vec::with_capacity(cap.min(64)),
            cap: cap.max(1),
            evicted_total: 0,
            rng: 0x2545_F491_4F6C_DD1D,
        }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot holding `key`.
    #[inline]
    fn find(&self, key: &K) -> Option<usize> {
        let slots = &self.slots;
        self.index
            .find(self.hasher.hash_one(key), |&i| slots[i as usize].0 == *key)
            .map(|&i| i as usize)
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).map(|i| &self.slots[i].2)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).map(|i| &mut self.slots[i].2)
    }

    /// The entry for `key`, touched at `ts`; created with `make` (after an eviction if the
    /// table is full).
    pub fn entry(&mut self, key: K, ts: Timestamp, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Some(i) => i,
            None => {
                if self.slots.len() >= self.cap {
                    self.evict_one();
                }
                self.slots.push((key, ts, make()));
                let i = self.slots.len() - 1;
                let (slots, hasher) = (&self.slots, &self.hasher);
                self.index
                    .insert_unique(hasher.hash_one(key), i as u32, |&j| {
                        hasher.hash_one(slots[j as usize].0)
                    });
                i
            }
        };
        let s = &mut self.slots[i];
        if ts > s.1 {
            s.1 = ts;
        }
        &mut s.2
    }

    /// When `key` was last touched.
    pub fn last_seen(&self, key: &K) -> Option<Timestamp> {
        self.find(key).map(|i| self.slots[i].1)
    }

    fn next_rand(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn evict_one(&mut self) {
        let n = self.slots.len();
        if n == 0 {
            return;
        }
        let mut victim = 0;
        let mut oldest = Timestamp(i64::MAX);
        for _ in 0..SAMPLE.min(n) {
            let i = (self.next_rand() % n as u64) as usize;
            if self.slots[i].1 < oldest {
                oldest = self.slots[i].1;
                victim = i;
            }
        }
        self.remove_at(victim);
        self.evicted_total += 1;
    }

    fn remove_at(&mut self, i: usize) -> V {
        let last = self.slots.len() - 1;
        let (k, _, v) = self.slots.swap_remove(i);
        if let Ok(e) = self
            .index
            .find_entry(self.hasher.hash_one(k), |&j| j as usize == i)
        {
            e.remove();
        }
        // The last entry moved into slot `i`: point its bucket there.
        if let Some((moved, _, _)) = self.slots.get(i) {
            if let Some(j) = self
                .index
                .find_mut(self.hasher.hash_one(*moved), |&j| j as usize == last)
            {
                *j = i as u32;
            }
        }
        v
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let i = self.find(key)?;
        Some(self.remove_at(i))
    }

    /// Keeps the entries for which `keep(key, last_seen, value)` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, Timestamp, &mut V) -> bool) {
        let mut i = 0;
        while i < self.slots.len() {
            let (k, t, v) = &mut self.slots[i];
            if keep(k, *t, v) {
                i += 1;
            } else {
                self.remove_at(i);
            }
        }
    }

    /// Drops entries not touched for `max_age_ns` before `now`.
    pub fn expire(&mut self, now: Timestamp, max_age_ns: u64) {
        self.retain(|_, t, _| now.since(t) < max_age_ns);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, Timestamp, &V)> {
        self.slots.iter().map(|(k, t, v)| (k, *t, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, Timestamp, &mut V)> {
        self.slots.iter_mut().map(|(k, t, v)| (&*k, *t, v))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn capped_and_counts_evictions() {
        let mut t: Table<u32, u32> = Table::new(100);
        for k in 0..10_000u32 {
            *t.entry(k, Timestamp(i64::from(k)), || 0) += 1;
        }
        assert_eq!(t.len(), 100);
        assert_eq!(t.evicted_total, 9_900);
        // Recently touched keys survive: the newest key is always there.
        assert!(t.get(&9_999).is_some());
    }

    #[test]
    fn remove_and_retain_keep_index_consistent() {
        let mut t: Table<u32, u32> = Table::new(10);
        for k in 0..10 {
            t.entry(k, Timestamp(i64::from(k)), || k);
        }
        t.remove(&3);
        t.retain(|k, _, _| k % 2 == 0);
        for k in 0..10 {
            assert_eq!(t.get(&k).copied(), (k % 2 == 0).then_some(k), "key {k}");
        }
        t.expire(Timestamp(10), 5);
        assert_eq!(t.len(), 2); // 6 and 8
    }

    #[test]
    fn matches_a_reference_map_through_inserts_evictions_and_removals() {
        let mut t: Table<u64, u64> = Table::new(300);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for step in 0..50_000i64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = x % 1000;
            match x % 7 {
                0 => {
                    let had = t.get(&k).copied();
                    assert_eq!(t.remove(&k), had);
                    assert!(t.get(&k).is_none());
                }
                1 if step % 1000 == 0 => t.retain(|k, _, _| k % 3 != 0),
                _ => *t.entry(k, Timestamp(step), || k * 10) += 1,
            }
            assert!(t.len() <= 300);
        }
        // Every slot is reachable through the index, with its own value.
        let keys: Vec<u64> = t.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(keys.len(), t.len());
        for k in keys {
            assert!(t.get(&k).is_some_and(|v| *v > k * 10), "key {k}");
        }
        assert_eq!(t.index.len(), t.len());
    }
}
