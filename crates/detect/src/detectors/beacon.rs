//! `beacon`: command-and-control beaconing, scored per (source, destination, port, protocol)
//! with RITA's published method.
//!
//! # Method
//! Each finished TCP or UDP flow (flow hook) adds its start time and its originator's bytes
//! (IP layer) to its pair's ring of the last [`RING`] connections. Every
//! `eval_interval_s` of packet time (tick hook) and at the end of input, pairs with at least
//! `min_connections` connections spanning at least `min_span_s` are scored as RITA does:
//! - **timing**: inter-arrival deltas of the sorted start times; the mean of Bowley's
//!   skewness score `1 − |(Q1 + Q3 − 2·Q2) / (Q3 − Q1)|` and the MAD score
//!   `(median − MAD) / median` (floored at 0);
//! - **data size**: the same two scores over the connections' originator bytes;
//! - **duration**: the pair's span (first to last connection) over the observation span
//!   (first to last packet time seen by the detector), capped at 1;
//! - **histogram**: the connections bucketed into `n/4` (2 to 24) equal-width bins over the
//!   pair's span; 1 − coefficient of variation of the bin counts (floored at 0): regular
//!   check-ins fill the bins evenly, bursts do not.
//!
//! score = ¼ timing + ¼ size + ¼ duration + ¼ histogram; an alert `beacon` when score ≥
//! `min_score`. src = the beaconing host, dst = the C2 server and port.
//!
//! # Parameters (defaults)
//! - `min_connections` = 10: RITA scores from 4; 4 check-ins are too easily periodic by
//!   chance (browsers polling, retries), 10 keeps the corpus's benign traffic quiet.
//! - `min_span_s` = 300: five minutes from the pair's first to its last connection (the
//!   first is remembered even after the ring dropped it); a burst of reconnects is not a
//!   beacon.
//! - `min_score` = 0.8: RITA's "high" confidence tier starts here (scores in (0, 1]).
//! - `eval_interval_s` = 60, `max_pairs` = 4096.
//! - `ignore_ports` = 53, 67, 68, 123, 137, 138, 1883, 1900, 5353, 5355, 8883: DNS, DHCP,
//!   NTP, NetBIOS, MQTT (1883, 8883 over TLS: IoT cloud keep-alives), SSDP, mDNS and LLMNR
//!   poll by design. Multicast and broadcast destinations are
//!   never scored.
//!
//! # False positives
//! Benign software that polls a server on a timer IS a beacon by this definition: update
//! checkers, IoT cloud heartbeats, monitoring agents, mail clients. The defaults trade recall
//! for silence on the corpus's IoT captures (minimum connections and span, the ignored
//! ports): without 8883 in `ignore_ports` the Schlage lock's MQTT/TLS keep-alive (300 s)
//! reaches 0.8; without `min_span_s` the Hue Bridge's setup polling (HTTP every 2 s for
//! ~100 s) scores 0.94, so a 2 s beacon loop shorter than five minutes is missed too. Add
//! known pollers to `[[alerts.allow]]` rather than lowering `min_score`.
//! Missed: beacons over one long-lived connection (no new flows: a UDP beacon reusing its
//! source port merges into one flow until the flow timeout), beacons with heavy random
//! jitter (RITA's weakness too), and C2 that checks in fewer than `min_connections` times.
//!
//! # Cost and state
//! Per finished flow: one table lookup and a ring write, no allocation. Per evaluation:
//! O(pairs × [`RING`] log [`RING`]) on stack arrays. State: one [`Table`] of at most
//! `max_pairs` pairs of about 800 bytes (ring of [`RING`] start times and sizes), expired
//! after an hour without a new connection.

use crate::alert::Endpoint;
use crate::detectors::util::{host_draft, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};
use wirescope_engine::Flow;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// Connections of one pair before it is scored (RITA: 4).
    pub min_connections: u32,
    /// Seconds from the pair's first to its last connection before it is scored.
    pub min_span_s: u64,
    /// Score (0..1) from which a pair is reported.
    pub min_score: f64,
    /// Seconds of packet time between evaluations.
    pub eval_interval_s: u64,
    /// Most pairs tracked.
    pub max_pairs: usize,
    /// Responder ports never scored.
    pub ignore_ports: Vec<u16>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_connections: 10,
            min_span_s: 300,
            min_score: 0.8,
            eval_interval_s: 60,
            max_pairs: 4096,
            ignore_ports: vec![53, 67, 68, 123, 137, 138, 1883, 1900, 5353, 5355, 8883],
        }
    }
}

/// Connections kept per pair (the most recent).
pub const RING: usize = 64;

/// Pairs idle this long are dropped (an hour, RITA's smallest dataset is a day).
const IDLE_NS: u64 = 3600 * SEC;

#[derive(Clone, Copy, Hash, PartialEq, Eq)]
struct PairKey {
    src: IpAddr,
    dst: IpAddr,
    port: u16,
    proto: u8,
}

struct Pair {
    starts: [i64; RING],
    bytes: [u64; RING],
    len: u8,
    head: u8,
    total: u64,
    /// Start of the pair's first connection (the ring may have dropped it).
    first: i64,
    every: Every,
}

impl Pair {
    fn push(&mut self, ts: Timestamp, bytes: u64) {
        let i = usize::from(self.head);
        self.starts[i] = ts.0;
        self.bytes[i] = bytes;
        self.head = ((i + 1) % RING) as u8;
        if usize::from(self.len) < RING {
            self.len += 1;
        }
        if self.total == 0 || ts.0 < self.first {
            self.first = ts.0;
        }
        self.total += 1;
    }
}

/// The scores of one pair.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
    pub timing: f64,
    pub size: f64,
    pub duration: f64,
    pub histogram: f64,
    pub score: f64,
    pub median_interval_s: f64,
    pub mad_interval_s: f64,
    pub median_bytes: f64,
    pub span_s: f64,
}

/// Quantile of sorted values (linear interpolation).
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// RITA's two dispersion scores of sorted values, averaged: Bowley skewness and MAD.
/// Returns (score, median, MAD).
fn skew_mad(sorted: &[f64]) -> (f64, f64, f64) {
    let q1 = quantile(sorted, 0.25);
    let q2 = quantile(sorted, 0.5);
    let q3 = quantile(sorted, 0.75);
    let num = q1 + q3 - 2.0 * q2;
    let den = q3 - q1;
    // RITA: a zero denominator or a median at a quartile means no skew. We also call an
    // interquartile range within 1% of the median "no skew": otherwise a 300 s heartbeat
    // with 0.4 s of jitter gets a skew score near 0 from noise (measured on the corpus).
    let skew = if den <= 0.01 * q2.abs() || q2 == q1 || q2 == q3 {
        0.0
    } else {
        num / den
    };
    let skew_score = 1.0 - skew.abs().min(1.0);
    let mut dev = [0f64; RING];
    let n = sorted.len().min(RING);
    for (d, &x) in dev.iter_mut().zip(sorted.iter()) {
        *d = (x - q2).abs();
    }
    let dev = &mut dev[..n];
    dev.sort_by(f64::total_cmp);
    let mad = quantile(dev, 0.5);
    let mad_score = if q2 <= 0.0 {
        0.0
    } else {
        ((q2 - mad) / q2).max(0.0)
    };
    ((skew_score + mad_score) / 2.0, q2, mad)
}

/// Scores connection start times (ns) and sizes; `observed_ns` is the observation span.
pub fn score(starts_ns: &[i64], bytes: &[u64], observed_ns: u64) -> Scores {
    let n = starts_ns.len().min(bytes.len()).min(RING);
    if n < 3 {
        return Scores::default();
    }
    let mut t = [0i64; RING];
    t[..n].copy_from_slice(&starts_ns[..n]);
    let t = &mut t[..n];
    t.sort_unstable();
    let mut deltas = [0f64; RING];
    for i in 1..n {
        deltas[i - 1] = (t[i] - t[i - 1]) as f64 / 1e9;
    }
    let deltas = &mut deltas[..n - 1];
    deltas.sort_by(f64::total_cmp);
    let (timing, med_iv, mad_iv) = skew_mad(deltas);

    let mut b = [0f64; RING];
    for (d, &x) in b.iter_mut().zip(bytes[..n].iter()) {
        *d = x as f64;
    }
    let b = &mut b[..n];
    b.sort_by(f64::total_cmp);
    let (size, med_b, _) = skew_mad(b);

    let span = (t[n - 1] - t[0]).max(0) as u64;
    let duration = if observed_ns == 0 {
        0.0
    } else {
        (span as f64 / observed_ns as f64).min(1.0)
    };

    // Histogram: equal-width bins over the pair's span.
    // About four connections per bin, so a regular beacon is not penalised for rounding.
    let bins = (n / 4).clamp(2, 24);
    let mut counts = [0u32; 24];
    for &x in t.iter() {
        let i = if span == 0 {
            0
        } else {
            (((x - t[0]) as f64 / span as f64) * bins as f64) as usize
        };
        counts[i.min(bins - 1)] += 1;
    }
    let counts = &counts[..bins];
    let mean = n as f64 / bins as f64;
    let var = counts
        .iter()
        .map(|&c| (f64::from(c) - mean).powi(2))
        .sum::<f64>()
        / bins as f64;
    let histogram = (1.0 - var.sqrt() / mean).max(0.0);

    Scores {
        timing,
        size,
        duration,
        histogram,
        score: (timing + size + duration + histogram) / 4.0,
        median_interval_s: med_iv,
        mad_interval_s: mad_iv,
        median_bytes: med_b,
        span_s: span as f64 / 1e9,
    }
}

pub struct Beacon {
    cfg: Config,
    pairs: Table<PairKey, Pair>,
    first_ts: Option<Timestamp>,
    last_eval: Option<Timestamp>,
}

impl Beacon {
    pub fn new(cfg: &Config) -> Result<Beacon, crate::BuildError> {
        if !(0.0..=1.0).contains(&cfg.min_score) {
            return Err(crate::BuildError(format!(
                "detectors.beacon.min_score must be within 0..1, not {}",
                cfg.min_score
            )));
        }
        Ok(Beacon {
            cfg: cfg.clone(),
            pairs: Table::new(cfg.max_pairs),
            first_ts: None,
            last_eval: None,
        })
    }

    fn evaluate(&mut self, now: Timestamp, out: &mut Alerts<'_>) {
        let observed = self.first_ts.map_or(0, |f| now.since(f));
        let min_span = self.cfg.min_span_s.saturating_mul(SEC);
        let min_n = self.cfg.min_connections as usize;
        for (k, _, p) in self.pairs.iter_mut() {
            let n = usize::from(p.len);
            if n < min_n.max(3) {
                continue;
            }
            let starts = &p.starts[..n];
            let (lo, hi) = starts
                .iter()
                .fold((i64::MAX, i64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            if ((hi - lo.min(p.first)).max(0) as u64) < min_span {
                continue;
            }
            let s = score(starts, &p.bytes[..n], observed);
            if s.score < self.cfg.min_score || !p.every.due(now, SEC) {
                continue;
            }
            let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
            let proto = IpProto(k.proto);
            let mut d = host_draft(
                DetectorId::Beacon,
                "beacon",
                0,
                format!(
                    "Beaconing from {} to {}:{}/{}: {} connections every {:.0} s (score {:.2})",
                    k.src,
                    k.dst,
                    k.port,
                    proto.name(),
                    p.total,
                    s.median_interval_s,
                    s.score
                ),
                "A Network Trojan was detected",
                2,
                Some(k.src),
                Some(k.dst),
                Timestamp(lo.min(p.first)),
                now,
            );
            d.dst = Some(Endpoint::with_port(k.dst, k.port));
            d.proto = Some(proto);
            d.evidence = evidence! {
                "connections" => p.total,
                "scored_connections" => n,
                "score" => r3(s.score),
                "timing_score" => r3(s.timing),
                "size_score" => r3(s.size),
                "duration_score" => r3(s.duration),
                "histogram_score" => r3(s.histogram),
                "median_interval_s" => r3(s.median_interval_s),
                "mad_interval_s" => r3(s.mad_interval_s),
                "median_bytes" => s.median_bytes,
                "span_s" => r3(s.span_s),
                "pair_span_s" => r3((hi - lo.min(p.first)) as f64 / 1e9),
                "dst_port" => k.port,
                "min_score" => self.cfg.min_score,
                "min_connections" => self.cfg.min_connections,
                "min_span_s" => self.cfg.min_span_s,
            };
            out.raise(d);
        }
    }
}

impl Detector for Beacon {
    fn id(&self) -> DetectorId {
        DetectorId::Beacon
    }

    fn interests(&self) -> Interest {
        Interest::FLOW | Interest::TICK
    }

    fn flow(&mut self, fl: &Flow, _out: &mut Alerts<'_>) {
        let proto = fl.key.proto;
        if proto != IpProto::TCP && proto != IpProto::UDP {
            return;
        }
        if self.first_ts.is_none_or(|f| fl.first_ts < f) {
            self.first_ts = Some(fl.first_ts);
        }
        let (src, _) = fl.orig();
        let (dst, port) = fl.resp();
        let broadcast = match dst {
            IpAddr::V4(a) => a.is_broadcast() || a.octets()[3] == 255,
            IpAddr::V6(_) => false,
        };
        if dst.is_multicast() || broadcast || self.cfg.ignore_ports.contains(&port) {
            return;
        }
        // TCP flows that never completed a handshake are scans or failures, not check-ins.
        if proto == IpProto::TCP && fl.synack_ts.is_none() && fl.pkts.contains(&0) {
            return;
        }
        let o = fl.orig_dir as usize;
        let key = PairKey {
            src,
            dst,
            port,
            proto: proto.0,
        };
        self.pairs
            .entry(key, fl.last_ts, || Pair {
                starts: [0; RING],
                bytes: [0; RING],
                len: 0,
                head: 0,
                total: 0,
                first: 0,
                every: Every::default(),
            })
            .push(fl.first_ts, fl.ip_bytes[o]);
    }

    fn tick(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        let every = self.cfg.eval_interval_s.max(1).saturating_mul(SEC);
        if self.last_eval.is_some_and(|l| ts.since(l) < every) {
            return;
        }
        self.last_eval = Some(ts);
        self.pairs.expire(ts, IDLE_NS);
        self.evaluate(ts, out);
    }

    fn finish(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        self.evaluate(ts, out);
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: self.pairs.len() as u64,
            capacity: self.pairs.cap() as u64,
            evicted_total: self.pairs.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_beacon_scores_one() {
        let starts: Vec<i64> = (0..20).map(|i| i * 60 * SEC as i64).collect();
        let bytes = vec![500u64; 20];
        let s = score(&starts, &bytes, 19 * 60 * SEC);
        assert!(s.score > 0.99, "{s:?}");
        assert!((s.median_interval_s - 60.0).abs() < 1e-9);
    }

    #[test]
    fn random_traffic_scores_low() {
        // Exponential-ish gaps and varied sizes from a fixed LCG.
        let mut x: u64 = 12345;
        let mut t = 0i64;
        let mut starts = Vec::new();
        let mut bytes = Vec::new();
        for _ in 0..40 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((x >> 11) as f64 / (1u64 << 53) as f64).max(1e-6);
            t += (-u.ln() * 30.0 * 1e9) as i64;
            starts.push(t);
            bytes.push(100 + (x >> 40) % 50_000);
        }
        let s = score(&starts, &bytes, t as u64);
        assert!(s.score < 0.8, "{s:?}");
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
        assert_eq!(quantile(&[1.0, 2.0], 0.5), 1.5);
    }
}
