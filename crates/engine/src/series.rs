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

/// Up to `cap` samples kept by reservoir sampling (deterministic), with exact count and min.
#[derive(Clone, Debug)]
pub struct Reservoir {
    samples: Vec<u64>,
    cap: usize,
    pub count: u64,
    pub min: u64,
    pub max: u64,
    rng: u64,
}

impl Reservoir {
    pub fn new(cap: usize) -> Self {
        Reservoir {
            // Reserved up front so that adding samples never allocates on the packet path.
            samples: Vec::with_capacity(cap.max(1)),
            cap: cap.max(1),
            count: 0,
            min: u64::MAX,
            max: 0,
            rng: 0x2545_F491_4F6C_DD1D,
        }
    }

    pub fn add(&mut self, v: u64) {
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        if self.samples.len() < self.cap {
            self.samples.push(v);
        } else {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let j = self.rng % self.count;
            if (j as usize) < self.cap {
                self.samples[j as usize] = v;
            }
        }
    }

    /// Nearest-rank quantile of the kept samples (exact while `count <= cap`).
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.samples.is_empty() {
            return None;
        }
        let mut s = self.samples.clone();
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
            r.add(v);
        }
        assert_eq!(r.quantile(0.5), Some(10));
        assert_eq!(r.quantile(0.95), Some(19));
        assert_eq!((r.min, r.max, r.count), (1, 20, 20));
        for v in 0..10_000 {
            r.add(v);
        }
        assert_eq!(r.count, 10_020);
        assert!(r.quantile(0.5).is_some());
    }
}
