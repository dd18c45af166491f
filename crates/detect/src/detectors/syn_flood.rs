//! `syn_flood`: TCP SYN floods from one or a few sources against one victim.
//!
//! # Method
//! Non-parametric CUSUM on the difference between SYNs sent to a victim and its answers
//! (SYN-ACK or RST), after SYN-dog (Wang, Zhang, Shin, INFOCOM 2002), with design notes in
//! `/work/shared/design/detection.md`. Per victim, packets are counted in 100 ms bins; each
//! closed bin gives `x = (syn − answers) / max(F̄, norm_floor)` where F̄ is an EWMA of the
//! victim's answers per bin (SYN-dog's normalisation), and `y = max(0, y + x − a)`. The
//! statistic of the bin in progress is checked on every SYN, so a flood is flagged in the
//! bin it starts in. An alert needs all of:
//! - `y > h` (CUSUM crossed),
//! - at least `min_unanswered` SYNs without an answer in the last second (absolute floor, so a
//!   few unanswered SYNs never alert),
//! - at least `min_syns_per_port` SYNs per distinct destination port in the window (a flood
//!   hits the same ports again and again; a scan touches each port once or twice — scans are
//!   `port_scan`'s),
//! - a source that sent at least `min_source_share` of the SYNs (Misra-Gries top-8 per
//!   victim). The alert is keyed (attacker, victim), so at most `1 / min_source_share`
//!   attackers per victim. When no source dominates (spoofed random sources) this detector
//!   stays silent and `ddos` reports kind `syn` with no source.
//!
//! # Parameters (defaults)
//! `cusum_a` 0.35 and `cusum_h` 1.05 (SYN-dog), `ewma_alpha` 0.01 (SYN-dog's smoothing of the
//! answer rate), `norm_floor` 25 answers per 100 ms bin, `min_unanswered` 250 SYNs/s (Bro's
//! old `synflood` policy: 15 000 attempts in 60 s), `min_syns_per_port` 4, `min_source_share`
//! 0.34 (at most two named attackers per victim), `max_victims` 4096.
//!
//! # Known false positives
//! A server that is down or overloaded while many clients of one NAT retry (a NAT looks like
//! one dominant source); SYNs seen without their answers because of asymmetric routing or a
//! one-way tap (answers are never seen, so every busy server looks flooded — raise
//! `min_unanswered` there).
//!
//! # Cost and state
//! Per TCP packet with SYN or RST: one table lookup and a few integer operations, no
//! allocation. State: one entry per victim (about 700 bytes) in a [`Table`] of `max_victims`
//! entries, least recently seen evicted first; `stats()` reports the evictions.

use super::util::{host_draft, tcp, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};
use wirescope_wire::{tcp_flags, Packet};

/// Bin width of the rate windows shared by the flood detectors: 100 ms, so a flood is seen
/// within the first second (the acceptance target).
pub const BIN_NS: u64 = SEC / 10;
/// Bins in a rate window: 10 × 100 ms = 1 s.
pub const BINS: usize = 10;

fn bin_of(ts: Timestamp) -> u64 {
    ts.0.max(0) as u64 / BIN_NS
}

/// A sliding one-second window of `K` counters in 100 ms bins.
#[derive(Clone, Copy, Debug)]
pub struct Window<const K: usize> {
    cur: u64,
    c: [[u32; K]; BINS],
}

impl<const K: usize> Default for Window<K> {
    fn default() -> Self {
        Window {
            cur: 0,
            c: [[0; K]; BINS],
        }
    }
}

impl<const K: usize> Window<K> {
    /// Moves the window to the bin of `ts`, zeroing bins that fell out. Older timestamps (a
    /// merge of captures out of order) count in the current bin.
    pub fn advance(&mut self, ts: Timestamp) {
        let b = bin_of(ts);
        if b <= self.cur {
            return;
        }
        if b - self.cur >= BINS as u64 {
            self.c = [[0; K]; BINS];
        } else {
            for i in self.cur + 1..=b {
                self.c[(i % BINS as u64) as usize] = [0; K];
            }
        }
        self.cur = b;
    }

    pub fn add(&mut self, ts: Timestamp, k: usize, n: u32) {
        self.advance(ts);
        let s = &mut self.c[(self.cur % BINS as u64) as usize][k];
        *s = s.saturating_add(n);
    }

    /// Counter `k` over the last second (call [`Window::advance`] first).
    pub fn sum(&self, k: usize) -> u32 {
        self.c.iter().fold(0u32, |a, b| a.saturating_add(b[k]))
    }

    /// Counter `k` in the bin in progress.
    pub fn current(&self, k: usize) -> u32 {
        self.c[(self.cur % BINS as u64) as usize][k]
    }

    /// Counter `k` of bin number `bin` if it is still in the window.
    pub fn at(&self, bin: u64, k: usize) -> u32 {
        if bin > self.cur || self.cur - bin >= BINS as u64 {
            0
        } else {
            self.c[(bin % BINS as u64) as usize][k]
        }
    }

    pub fn bin(&self) -> u64 {
        self.cur
    }
}

/// A deterministic 64-bit mix of an address (splitmix64 finaliser). Sketches must give the
/// same answer for the same input, so no random seed here; an attacker who makes sources
/// collide only makes them look fewer.
pub fn hash_ip(ip: IpAddr) -> u64 {
    let v = match ip {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let x = u128::from(a);
            (x as u64) ^ ((x >> 64) as u64).rotate_left(29)
        }
    };
    mix(v)
}

pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Distinct count over the current and the previous second: two 256-bit linear-counting
/// bitmaps (Whang et al. 1990), about 10% error up to a few hundred, saturating near 1 400.
/// 72 bytes, O(1) per insert.
#[derive(Clone, Copy, Debug, Default)]
pub struct Distinct {
    win: u64,
    cur: [u64; 4],
    prev: [u64; 4],
}

impl Distinct {
    fn roll(&mut self, ts: Timestamp) {
        let w = ts.0.max(0) as u64 / SEC;
        if w > self.win {
            self.prev = if w == self.win + 1 { self.cur } else { [0; 4] };
            self.cur = [0; 4];
            self.win = w;
        }
    }

    pub fn insert(&mut self, ts: Timestamp, h: u64) {
        self.roll(ts);
        let b = (h & 255) as usize;
        self.cur[b / 64] |= 1 << (b % 64);
    }

    /// Estimated distinct items over the last one to two seconds.
    pub fn estimate(&mut self, ts: Timestamp) -> u32 {
        self.roll(ts);
        let ones: u32 = (0..4)
            .map(|i| (self.cur[i] | self.prev[i]).count_ones())
            .sum();
        let zeros = 256 - ones;
        if zeros == 0 {
            // Saturated: m ln m.
            return 1420;
        }
        if ones == 0 {
            return 0;
        }
        (256.0 * (256.0 / f64::from(zeros)).ln()).round() as u32
    }
}

/// Misra-Gries heavy hitters (8 counters: exact for up to 8 sources) over the current and previous second, with the
/// number of items seen: which sources send most of a victim's packets, and what share.
#[derive(Clone, Copy, Debug, Default)]
pub struct Heavy {
    win: u64,
    cur: [(Option<IpAddr>, u32); 8],
    prev: [(Option<IpAddr>, u32); 8],
    cur_n: u32,
    prev_n: u32,
}

impl Heavy {
    fn roll(&mut self, ts: Timestamp) {
        let w = ts.0.max(0) as u64 / SEC;
        if w > self.win {
            if w == self.win + 1 {
                self.prev = self.cur;
                self.prev_n = self.cur_n;
            } else {
                self.prev = Default::default();
                self.prev_n = 0;
            }
            self.cur = Default::default();
            self.cur_n = 0;
            self.win = w;
        }
    }

    pub fn insert(&mut self, ts: Timestamp, ip: IpAddr) {
        self.roll(ts);
        self.cur_n = self.cur_n.saturating_add(1);
        if let Some(s) = self.cur.iter_mut().find(|s| s.0 == Some(ip)) {
            s.1 += 1;
        } else if let Some(s) = self.cur.iter_mut().find(|s| s.1 == 0) {
            *s = (Some(ip), 1);
        } else {
            for s in &mut self.cur {
                s.1 -= 1;
                if s.1 == 0 {
                    s.0 = None;
                }
            }
        }
    }

    /// Sources with their share (a lower bound) of the items over the last one to two
    /// seconds, largest first. Allocates: call it when raising.
    pub fn top(&mut self, ts: Timestamp) -> Vec<(IpAddr, f64)> {
        self.roll(ts);
        let mut v: Vec<(IpAddr, u32)> = Vec::with_capacity(16);
        for (ip, n) in self.cur.iter().chain(self.prev.iter()) {
            if let Some(ip) = ip {
                match v.iter_mut().find(|e| e.0 == *ip) {
                    Some(e) => e.1 += n,
                    None => v.push((*ip, *n)),
                }
            }
        }
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let total = f64::from(self.cur_n.saturating_add(self.prev_n).max(1));
        v.into_iter()
            .map(|(ip, n)| (ip, f64::from(n) / total))
            .collect()
    }

    /// The largest share of one source (no allocation).
    pub fn top_share(&mut self, ts: Timestamp) -> f64 {
        self.roll(ts);
        let total = f64::from(self.cur_n.saturating_add(self.prev_n).max(1));
        let mut best = 0u32;
        for (ip, n) in self.cur.iter() {
            if ip.is_some() {
                let p = self.prev.iter().find(|e| e.0 == *ip).map_or(0, |e| e.1);
                best = best.max(n + p);
            }
        }
        for (ip, n) in self.prev.iter() {
            if ip.is_some() && !self.cur.iter().any(|e| e.0 == *ip) {
                best = best.max(*n);
            }
        }
        f64::from(best) / total
    }
}

/// Start of a burst: the first packet after at least a second of silence.
pub fn burst_start(since: &mut Timestamp, last: Option<Timestamp>, ts: Timestamp) {
    match last {
        Some(l) if ts.since(l) < SEC => {}
        _ => *since = ts,
    }
}

/// True every ten seconds of packet time (when idle entries are dropped).
pub fn sweep_due(last: &mut u64, ts: Timestamp) -> bool {
    let s = ts.0.max(0) as u64 / SEC;
    if s >= *last + 10 {
        *last = s;
        true
    } else {
        false
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// CUSUM drift: the largest mean of the normalised difference expected from benign
    /// traffic (SYN-dog: 0.35).
    pub cusum_a: f64,
    /// CUSUM threshold (SYN-dog: 1.05).
    pub cusum_h: f64,
    /// Smoothing of the victim's answers per bin (SYN-dog: 0.01).
    pub ewma_alpha: f64,
    /// Lowest normaliser, answers per 100 ms bin (25 = `min_unanswered` / 10 bins: a flood at
    /// the floor rate adds about 1 per bin).
    pub norm_floor: f64,
    /// Unanswered SYNs in the last second needed to alert (Bro `synflood`: 15 000 / 60 s).
    pub min_unanswered: u32,
    /// SYNs per distinct destination port needed (tells floods from scans).
    pub min_syns_per_port: u32,
    /// Share of the SYNs a source must send to be named the attacker.
    pub min_source_share: f64,
    /// Victims tracked at once.
    pub max_victims: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            cusum_a: 0.35,
            cusum_h: 1.05,
            ewma_alpha: 0.01,
            norm_floor: 25.0,
            min_unanswered: 250,
            min_syns_per_port: 4,
            min_source_share: 0.34,
            max_victims: 4096,
        }
    }
}

const SYN: usize = 0;
/// The victim's SYN-ACKs.
const ANS: usize = 1;
/// Bare RSTs (no ACK) toward the victim: the answer of a host that did not send the SYN the
/// victim's SYN-ACK answers (a spoofed source, or the kernel of a raw-socket flooder), so a
/// SYN-ACK that did not open a connection.
const FAIL: usize = 2;

/// Answers that opened a connection: SYN-ACKs less the bare RSTs that refused them.
fn answered<const K: usize>(w: &Window<K>, bin: Option<u64>, ans: usize, fail: usize) -> u32 {
    match bin {
        Some(b) => w.at(b, ans).saturating_sub(w.at(b, fail)),
        None => w.sum(ans).saturating_sub(w.sum(fail)),
    }
}

#[derive(Default)]
struct Victim {
    w: Window<3>,
    /// Last closed bin fed to the CUSUM.
    fed: u64,
    y: f64,
    norm: f64,
    since: Timestamp,
    last_syn: Option<Timestamp>,
    sources: Distinct,
    ports: Distinct,
    heavy: Heavy,
    every: Every,
}

pub struct SynFlood {
    cfg: Config,
    victims: Table<IpAddr, Victim>,
    swept: u64,
}

impl SynFlood {
    pub fn new(cfg: &Config) -> Result<SynFlood, crate::BuildError> {
        if !(cfg.cusum_h > 0.0 && cfg.norm_floor > 0.0 && cfg.min_source_share > 0.0) {
            return Err(crate::BuildError(
                "syn_flood: cusum_h, norm_floor and min_source_share must be > 0".into(),
            ));
        }
        Ok(SynFlood {
            cfg: cfg.clone(),
            victims: Table::new(cfg.max_victims),
            swept: 0,
        })
    }
}

impl Victim {
    /// Feeds the bins closed before the bin of `ts` to the CUSUM.
    fn feed(&mut self, cfg: &Config, ts: Timestamp) {
        let now = bin_of(ts);
        if self.fed == 0 || self.fed + 1 >= now {
            self.fed = self.fed.max(now.saturating_sub(1));
            self.w.advance(ts);
            return;
        }
        let from = self.fed + 1;
        if now - from > BINS as u64 {
            // Idle longer than the window: every missed bin was empty.
            self.y = 0.0;
            self.fed = now - 1;
            self.w.advance(ts);
            return;
        }
        for b in from..now {
            let s = f64::from(self.w.at(b, SYN));
            let r = f64::from(answered(&self.w, Some(b), ANS, FAIL));
            let x = (s - r) / self.norm.max(cfg.norm_floor);
            self.y = (self.y + x - cfg.cusum_a).max(0.0);
            self.norm += cfg.ewma_alpha * (r - self.norm);
        }
        self.fed = now - 1;
        self.w.advance(ts);
    }

    /// The CUSUM including the bin in progress.
    fn statistic(&self, cfg: &Config) -> f64 {
        let s = f64::from(self.w.current(SYN));
        let r = f64::from(answered(&self.w, Some(self.w.bin()), ANS, FAIL));
        let x = (s - r) / self.norm.max(cfg.norm_floor);
        self.y.max(self.y + x - cfg.cusum_a)
    }
}

impl Detector for SynFlood {
    fn id(&self) -> DetectorId {
        DetectorId::SynFlood
    }
    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::TICK
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        let (Some(ip), Some(t)) = (pkt.ip, tcp(pkt)) else {
            return;
        };
        let syn = t.flags & tcp_flags::SYN != 0;
        let ack = t.flags & tcp_flags::ACK != 0;
        let rst = t.flags & tcp_flags::RST != 0;
        if syn && !ack {
            let cfg = &self.cfg;
            let v = self.victims.entry(ip.dst, ts, Victim::default);
            v.feed(cfg, ts);
            burst_start(&mut v.since, v.last_syn, ts);
            v.last_syn = Some(ts);
            v.w.add(ts, SYN, 1);
            v.sources.insert(ts, hash_ip(ip.src));
            v.ports.insert(ts, mix(u64::from(t.dst_port)));
            v.heavy.insert(ts, ip.src);
            let syns = v.w.sum(SYN);
            let unanswered = syns.saturating_sub(answered(&v.w, None, ANS, FAIL));
            if unanswered < cfg.min_unanswered {
                return;
            }
            let stat = v.statistic(cfg);
            if stat <= cfg.cusum_h {
                return;
            }
            let ports = v.ports.estimate(ts).max(1);
            if syns / ports < cfg.min_syns_per_port {
                return;
            }
            if !v.every.due(ts, SEC) {
                return;
            }
            let answers = answered(&v.w, None, ANS, FAIL);
            let sources = v.sources.estimate(ts);
            let onset = v.since;
            let norm = v.norm;
            let top = v.heavy.top(ts);
            for (src, share) in top {
                if share < cfg.min_source_share {
                    continue;
                }
                let mut d = host_draft(
                    DetectorId::SynFlood,
                    "syn_flood",
                    0,
                    format!(
                        "TCP SYN flood from {src} to {}: {syns} SYN/s, {unanswered} unanswered",
                        ip.dst
                    ),
                    "Attempted Denial of Service",
                    1,
                    Some(src),
                    Some(ip.dst),
                    onset,
                    ts,
                );
                d.proto = Some(IpProto::TCP);
                d.evidence = evidence! {
                    "window_s" => 1,
                    "syn_per_s" => syns,
                    "answers_per_s" => answers,
                    "unanswered_per_s" => unanswered,
                    "source_share" => (share * 100.0).round() / 100.0,
                    "sources_estimate" => sources,
                    "dst_ports_estimate" => ports,
                    "dst_port" => t.dst_port,
                    "cusum" => (stat * 100.0).round() / 100.0,
                    "baseline_answers_per_bin" => (norm * 100.0).round() / 100.0,
                    "thresholds" => evidence! {
                        "cusum_h" => cfg.cusum_h,
                        "cusum_a" => cfg.cusum_a,
                        "min_unanswered" => cfg.min_unanswered,
                        "min_syns_per_port" => cfg.min_syns_per_port,
                        "min_source_share" => cfg.min_source_share,
                    },
                };
                out.raise(d);
            }
        } else if syn && ack {
            // The victim's answer to an opening attempt.
            if let Some(v) = self.victims.get_mut(&ip.src) {
                v.feed(&self.cfg, ts);
                v.w.add(ts, ANS, 1);
            }
        } else if rst && !ack {
            if let Some(v) = self.victims.get_mut(&ip.dst) {
                v.feed(&self.cfg, ts);
                v.w.add(ts, FAIL, 1);
            }
        }
    }

    fn tick(&mut self, ts: Timestamp, _out: &mut Alerts<'_>) {
        // Victims quiet for a minute have nothing left to say.
        if sweep_due(&mut self.swept, ts) {
            self.victims.expire(ts, 60 * SEC);
        }
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: self.victims.len() as u64,
            capacity: self.victims.cap() as u64,
            evicted_total: self.victims.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let mut w: Window<1> = Window::default();
        w.add(Timestamp(0), 0, 5);
        w.add(Timestamp(950_000_000), 0, 1);
        assert_eq!(w.sum(0), 6);
        w.advance(Timestamp(1_050_000_000));
        assert_eq!(w.sum(0), 1);
        w.advance(Timestamp(5 * SEC as i64));
        assert_eq!(w.sum(0), 0);
    }

    #[test]
    fn distinct_estimates() {
        let mut d = Distinct::default();
        for i in 0..100u64 {
            d.insert(Timestamp(0), mix(i));
        }
        let e = d.estimate(Timestamp(0));
        assert!((80..=120).contains(&e), "{e}");
        for i in 0..10u64 {
            d.insert(Timestamp(0), mix(i));
        }
        assert_eq!(d.estimate(Timestamp(0)), e);
        assert_eq!(d.estimate(Timestamp(3 * SEC as i64)), 0);
    }

    #[test]
    fn heavy_finds_dominant() {
        let mut h = Heavy::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        for i in 0..1000u32 {
            h.insert(Timestamp(0), a);
            h.insert(Timestamp(0), IpAddr::from(i.to_be_bytes()));
        }
        let top = h.top(Timestamp(0));
        assert_eq!(top[0].0, a);
        // Misra-Gries undercounts by at most n / (k + 1): 1 000 − 2 000 / 9 of 2 000.
        assert!(top[0].1 >= 0.38, "{top:?}");
        assert!((h.top_share(Timestamp(0)) - top[0].1).abs() < 1e-9);
        let mut even = Heavy::default();
        for i in 0..1000u32 {
            even.insert(Timestamp(0), IpAddr::from((i % 5).to_be_bytes()));
        }
        assert!(
            even.top_share(Timestamp(0)) <= 0.2,
            "{}",
            even.top_share(Timestamp(0))
        );
    }
}
