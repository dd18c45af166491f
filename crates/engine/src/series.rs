//! Bounded time series and sample sets.

/// Traffic classes of the per-protocol time series.
pub const SERIES_CLASSES: [&str; 6] = ["tcp", "udp", "icmp", "arp", "other_ip", "other"];

/// Packets and bytes per class per time bucket, on packet time.
///
/// Starts with one-second buckets; when the span would need more than `max_buckets`, adjacent
/// buckets are merged and the bucket width doubles, so memory stays bounded for any capture
/// length while short captures keep one-second resolution.
#[derive(Clone, Debug)]
pub struct TimeSeries {
    /// Second of the first bucket (packet time).
    pub start_sec: i64,
    pub bucket_secs: i64,
    pub packets: Vec<[u64; SERIES_CLASSES.len()]>,
    pub bytes: Vec<[u64; SERIES_CLASSES.len()]>,
    max_buckets: usize,
    started: bool,
    /// Packets earlier than the first bucket (out-of-order captures), counted in bucket 0.
    pub early_packets: u64,
    /// The last second seen and its bucket: consecutive packets mostly share a second, and
    /// this spares a division per packet.
    last: Option<(i64, usize)>,
}

impl TimeSeries {
    pub fn new(max_buckets: usize) -> Self {
        let max_buckets = max_buckets.max(2);
        TimeSeries {
            start_sec: 0,
            bucket_secs: 1,
            packets: Vec::with_capacity(max_buckets),
            bytes: Vec::with_capacity(max_buckets),
            max_buckets,
            started: false,
            early_packets: 0,
            last: None,
        }
    }

    #[inline]
    pub fn add(&mut self, sec: i64, class: usize, bytes: u64) {
        if let Some((s, idx)) = self.last {
            if s == sec {
                self.packets[idx][class] += 1;
                self.bytes[idx][class] += bytes;
                return;
            }
        }
        if !self.started {
            self.started = true;
            self.start_sec = sec;
        }
        let mut idx = if sec < self.start_sec {
            self.early_packets += 1;
            0
        } else {
            ((sec - self.start_sec) / self.bucket_secs) as usize
        };
        while idx >= self.max_buckets {
            self.halve();
            idx = ((sec - self.start_sec) / self.bucket_secs) as usize;
        }
        if idx >= self.packets.len() {
            self.packets.resize(idx + 1, [0; SERIES_CLASSES.len()]);
            self.bytes.resize(idx + 1, [0; SERIES_CLASSES.len()]);
        }
        self.packets[idx][class] += 1;
        self.bytes[idx][class] += bytes;
        self.last = (sec >= self.start_sec).then_some((sec, idx));
    }

    fn halve(&mut self) {
        fn merge(v: &mut Vec<[u64; SERIES_CLASSES.len()]>) {
            let n = v.len().div_ceil(2);
            for i in 0..n {
                let mut acc = v[2 * i];
                if let Some(b) = v.get(2 * i + 1) {
                    for (a, b) in acc.iter_mut().zip(b) {
                        *a += b;
                    }
                }
                v[i] = acc;
            }
            v.truncate(n);
        }
        merge(&mut self.packets);
        merge(&mut self.bytes);
        self.bucket_secs *= 2;
        self.last = None;
    }
}

/// Up to `cap` samples with exact count, min and max. Past `cap`, the samples kept are those
/// whose keys hash lowest (bottom-k sampling): a uniform sample that depends only on the set
/// of (key, value) pairs added, not on their order, so sharded runs (`--workers N`), whose
/// flows end in another order, report the same quantiles.
#[derive(Clone, Debug)]
pub struct Reservoir {
    /// (hashed key, value), a max-heap on the hashed key once full.
    samples: std::collections::BinaryHeap<(u64, u64)>,
    cap: usize,
    pub count: u64,
    pub min: u64,
    pub max: u64,
}

impl Reservoir {
    pub fn new(cap: usize) -> Self {
        Reservoir {
            // Reserved up front so that adding samples never allocates on the packet path.
            samples: std::collections::BinaryHeap::with_capacity(cap.max(1)),
            cap: cap.max(1),
            count: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Adds `v`, sampled by `key` (a flow id: distinct keys give an unbiased sample).
    pub fn add(&mut self, key: u64, v: u64) {
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        // A fixed mix of the key (splitmix64's finalizer): ids that are already hashes stay
        // uniform, small sequential keys become so.
        let mut h = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
        if self.samples.len() < self.cap {
            self.samples.push((h, v));
        } else if let Some(mut top) = self.samples.peek_mut() {
            if (h, v) < *top {
                *top = (h, v);
            }
        }
    }

    /// Nearest-rank quantile of the kept samples (exact while `count <= cap`).
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.samples.is_empty() {
            return None;
        }
        let mut s: Vec<u64> = self.samples.iter().map(|&(_, v)| v).collect();
        s.sort_unstable();
        let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
        Some(s[rank - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_doubles_bucket_width_when_span_grows() {
        let mut t = TimeSeries::new(4);
        for s in 0..4 {
            t.add(100 + s, 0, 10);
        }
        assert_eq!((t.bucket_secs, t.packets.len()), (1, 4));
        t.add(104, 1, 5);
        assert_eq!(t.bucket_secs, 2);
        assert_eq!(
            t.packets.iter().map(|b| b[0]).collect::<Vec<_>>(),
            vec![2, 2, 0]
        );
        assert_eq!(t.packets[2][1], 1);
        let total: u64 = t.bytes.iter().map(|b| b.iter().sum::<u64>()).sum();
        assert_eq!(total, 45);
    }

    #[test]
    fn reservoir_quantiles_exact_under_cap() {
        let mut r = Reservoir::new(100);
        for v in 1..=20 {
            r.add(v, v);
        }
        assert_eq!(r.quantile(0.5), Some(10));
        assert_eq!(r.quantile(0.95), Some(19));
        assert_eq!((r.min, r.max, r.count), (1, 20, 20));
        for v in 0..10_000 {
            r.add(1000 + v, v);
        }
        assert_eq!(r.count, 10_020);
        assert!(r.quantile(0.5).is_some());
    }

    #[test]
    fn reservoir_sample_does_not_depend_on_order() {
        let pairs: Vec<(u64, u64)> = (0..5_000u64).map(|k| (k * 7919, k % 977)).collect();
        let mut fwd = Reservoir::new(64);
        let mut back = Reservoir::new(64);
        for &(k, v) in &pairs {
            fwd.add(k, v);
        }
        for &(k, v) in pairs.iter().rev() {
            back.add(k, v);
        }
        for q in [0.1, 0.5, 0.95] {
            assert_eq!(fwd.quantile(q), back.quantile(q));
        }
        // A fair sample: its median is near the population's (488).
        let m = fwd.quantile(0.5).unwrap_or(0);
        assert!((300..700).contains(&m), "median {m}");
    }
}
