//! `volume_anomaly`: a host suddenly sending or receiving far more of one protocol than its
//! own smoothed baseline.
//!
//! # Method
//! Per (host, protocol class ∈ {tcp, udp, icmp, other}), bytes sent and received are summed
//! per interval of `interval_s` seconds of packet time. When an interval closes (checked on
//! the engine's once-a-second tick), its total `x` is compared with an exponentially weighted
//! mean μ and variance σ² of the host's previous intervals (EWMA, smoothing `alpha`; Roberts
//! 1959, as in the design notes' "per host / per protocol baselines with exponential
//! smoothing"), then folded into them. Intervals in which the host sent nothing count as 0.
//! An alert needs all of:
//! - at least `warmup_intervals` intervals of history for that host and protocol (short
//!   captures and new hosts never alert),
//! - `x > μ + k·σ` with `k` = `k_sigma`,
//! - `x ≥ min_bytes` (absolute floor: small hosts vary a lot in relative terms).
//!
//! The alert names the host as the source when it sent most of the bytes, as the
//! destination otherwise.
//!
//! # Parameters (defaults)
//! `interval_s` 10, `alpha` 0.1 (a memory of about 10 intervals), `k_sigma` 5, `warmup_intervals`
//! 30 (five minutes of history), `min_bytes` 50 MB per interval (40 Mbit/s), `max_keys`
//! 16 384. Conservative on purpose: a planned bulk transfer (backup, iperf3 at 50 Mbit/s) on a
//! host with a quiet baseline is indistinguishable from an exfiltration or a flood by volume
//! alone, so only large changes on hosts with five minutes of history alert.
//!
//! # Known false positives
//! Backups, software updates, video calls, iperf tests starting on a host with a quiet
//! history; daily or weekly seasonality is not modelled.
//!
//! # Cost and state
//! Per IP packet: two table lookups (source and destination), no allocation; per interval:
//! one pass over the table. State: one entry per (host, protocol class) (about 80 bytes) in a
//! [`Table`] of `max_keys`, least recently seen evicted first (spoofed floods churn it; their
//! one-packet sources never finish warm-up).

use super::util::{host_draft, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};
use wirescope_wire::Packet;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// Interval length in seconds.
    pub interval_s: u64,
    /// EWMA smoothing factor (0 < alpha ≤ 1).
    pub alpha: f64,
    /// Standard deviations above the mean needed to alert.
    pub k_sigma: f64,
    /// Intervals of history needed before a host can alert.
    pub warmup_intervals: u32,
    /// Bytes in one interval needed to alert.
    pub min_bytes: u64,
    /// (host, protocol class) entries tracked at once.
    pub max_keys: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            interval_s: 10,
            alpha: 0.1,
            k_sigma: 5.0,
            warmup_intervals: 30,
            min_bytes: 50_000_000,
            max_keys: 16_384,
        }
    }
}

const CLASSES: [&str; 4] = ["tcp", "udp", "icmp", "other"];

fn class(p: IpProto) -> u8 {
    match p {
        IpProto::TCP => 0,
        IpProto::UDP => 1,
        IpProto::ICMP | IpProto::ICMPV6 => 2,
        _ => 3,
    }
}

#[derive(Default)]
struct Baseline {
    tx: u64,
    rx: u64,
    pkts: u64,
    mean: f64,
    var: f64,
    /// Intervals folded into the baseline.
    n: u32,
    /// Interval the counters belong to.
    interval: u64,
}

impl Baseline {
    /// Folds `x` into the EWMA mean and variance (Finch 2009, incremental EWMVar).
    fn fold(&mut self, x: f64, alpha: f64) {
        if self.n == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let d = x - self.mean;
            let inc = alpha * d;
            self.mean += inc;
            self.var = (1.0 - alpha) * (self.var + d * inc);
        }
        self.n = self.n.saturating_add(1);
    }
}

pub struct VolumeAnomaly {
    cfg: Config,
    keys: Table<(IpAddr, u8), Baseline>,
    interval: u64,
}

impl VolumeAnomaly {
    pub fn new(cfg: &Config) -> Result<VolumeAnomaly, crate::BuildError> {
        if cfg.interval_s == 0 || !(cfg.alpha > 0.0 && cfg.alpha <= 1.0) {
            return Err(crate::BuildError(
                "volume_anomaly: interval_s must be > 0 and alpha in (0, 1]".into(),
            ));
        }
        Ok(VolumeAnomaly {
            cfg: cfg.clone(),
            keys: Table::new(cfg.max_keys),
            interval: 0,
        })
    }

    fn interval_of(&self, ts: Timestamp) -> u64 {
        ts.0.max(0) as u64 / (self.cfg.interval_s * SEC)
    }

    /// Closes every entry's intervals before `now` (fold, and alert on the last closed one).
    fn close(&mut self, now: u64, out: &mut Alerts<'_>) {
        let cfg = &self.cfg;
        let len_ns = cfg.interval_s * SEC;
        for (&(host, cls), _, b) in self.keys.iter_mut() {
            if b.interval >= now {
                continue;
            }
            let x = (b.tx + b.rx) as f64;
            let sigma = b.var.max(0.0).sqrt();
            let limit = b.mean + cfg.k_sigma * sigma;
            if b.n >= cfg.warmup_intervals && x > limit && b.tx + b.rx >= cfg.min_bytes {
                let start = Timestamp((b.interval * len_ns) as i64);
                let end = Timestamp(((b.interval + 1) * len_ns) as i64);
                let sending = b.tx >= b.rx;
                let (src, dst) = if sending {
                    (Some(host), None)
                } else {
                    (None, Some(host))
                };
                let mut d = host_draft(
                    DetectorId::VolumeAnomaly,
                    "volume_spike",
                    0,
                    format!(
                        "{} volume of {host} {}: {:.1} MB in {} s, baseline {:.1} MB",
                        CLASSES[usize::from(cls)],
                        if sending { "sent" } else { "received" },
                        x / 1e6,
                        cfg.interval_s,
                        b.mean / 1e6
                    ),
                    "Potentially Bad Traffic",
                    3,
                    src,
                    dst,
                    start,
                    end,
                );
                d.evidence = evidence! {
                    "protocol" => CLASSES[usize::from(cls)],
                    "interval_s" => cfg.interval_s,
                    "bytes" => b.tx + b.rx,
                    "bytes_sent" => b.tx,
                    "bytes_received" => b.rx,
                    "packets" => b.pkts,
                    "baseline_mean_bytes" => b.mean.round(),
                    "baseline_sigma_bytes" => sigma.round(),
                    "sigmas" => if sigma > 0.0 { ((x - b.mean) / sigma * 10.0).round() / 10.0 } else { f64::INFINITY.min(1e9) },
                    "history_intervals" => b.n,
                    "thresholds" => evidence! {
                        "k_sigma" => cfg.k_sigma,
                        "min_bytes" => cfg.min_bytes,
                        "warmup_intervals" => cfg.warmup_intervals,
                    },
                };
                out.raise(d);
            }
            b.fold(x, cfg.alpha);
            // Intervals with no traffic at all since (bounded: after 100 the mean is ~0).
            let idle = (now - b.interval - 1).min(100);
            for _ in 0..idle {
                b.fold(0.0, cfg.alpha);
            }
            b.tx = 0;
            b.rx = 0;
            b.pkts = 0;
            b.interval = now;
        }
    }
}

impl Detector for VolumeAnomaly {
    fn id(&self) -> DetectorId {
        DetectorId::VolumeAnomaly
    }
    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::TICK
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, _out: &mut Alerts<'_>) {
        let Some(ip) = pkt.ip else { return };
        let cls = class(ip.proto);
        let len = u64::from(ip.total_len);
        let now = self.interval_of(ts).max(self.interval);
        for (host, sent) in [(ip.src, true), (ip.dst, false)] {
            let b = self.keys.entry((host, cls), ts, || Baseline {
                interval: now,
                ..Baseline::default()
            });
            if sent {
                b.tx += len;
                b.pkts += 1;
            } else {
                b.rx += len;
            }
        }
    }

    fn tick(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        let now = self.interval_of(ts);
        if now > self.interval {
            self.interval = now;
            self.close(now, out);
            // Entries idle for 10 minutes go (their baseline has decayed to nothing).
            self.keys.expire(ts, 600 * SEC);
        }
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: self.keys.len() as u64,
            capacity: self.keys.cap() as u64,
            evicted_total: self.keys.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DetectConfig;
    use crate::Detection;
    use std::net::Ipv4Addr;
    use wirescope_wire::{IpInfo, Transport};

    fn pkt(src: [u8; 4], dst: [u8; 4], len: u16) -> Packet<'static> {
        Packet {
            ip: Some(IpInfo {
                src: IpAddr::V4(Ipv4Addr::from(src)),
                dst: IpAddr::V4(Ipv4Addr::from(dst)),
                proto: IpProto::UDP,
                ttl: 64,
                total_len: len,
                header_len: 20,
                frag_offset: 0,
                more_fragments: false,
                ident: 0,
                dscp: 0,
                flow_label: 0,
            }),
            transport: Transport::None,
            ..Packet::default()
        }
    }

    /// `per_interval[i]` packets of 1 000 bytes in interval i (10 s each), with a tick every
    /// second. Returns the volume_anomaly alerts.
    fn run(per_interval: &[u32]) -> Vec<crate::Alert> {
        let mut cfg = DetectConfig::default();
        cfg.detectors.volume_anomaly.min_bytes = 1_000_000;
        let mut det = Detection::new(&cfg).unwrap_or_else(|e| panic!("{e}"));
        let p = pkt([10, 0, 0, 1], [10, 0, 0, 2], 1000);
        for (i, &n) in per_interval.iter().enumerate() {
            for s in 0..10u64 {
                let base = (i as u64 * 10 + s) * SEC + SEC;
                det.tick(Timestamp(base as i64));
                let per_s = n / 10;
                for k in 0..per_s {
                    let ts = base + u64::from(k) * (SEC / u64::from(per_s.max(1)));
                    det.packet(Timestamp(ts as i64), &p);
                }
            }
        }
        det.tick(Timestamp(
            ((per_interval.len() as u64 + 2) * 10 * SEC) as i64,
        ));
        det.finish();
        det.alerts()
            .iter()
            .filter(|a| a.detector == DetectorId::VolumeAnomaly)
            .cloned()
            .collect()
    }

    #[test]
    fn spike_after_warmup_alerts() {
        let mut v: Vec<u32> = (0..40).map(|i| 100 + (i % 3) * 10).collect();
        v.push(5_000); // 5 MB in one interval against ~110 KB
        let a = run(&v);
        // The sender and the receiver each see the spike.
        assert_eq!(a.len(), 2, "{a:?}");
        let host = |s: &str| s.parse::<IpAddr>().ok();
        assert!(a.iter().all(|a| a.kind == "volume_spike"));
        assert!(a.iter().all(|a| a.evidence["protocol"] == "udp"));
        assert!(a
            .iter()
            .any(|a| a.src.map(|e| e.ip) == host("10.0.0.1") && a.dst.is_none()));
        assert!(a
            .iter()
            .any(|a| a.dst.map(|e| e.ip) == host("10.0.0.2") && a.src.is_none()));
        assert!(a[0].evidence["history_intervals"].as_u64().unwrap_or(0) >= 30);
    }

    #[test]
    fn spike_during_warmup_is_silent() {
        let mut v: Vec<u32> = (0..10).map(|_| 100).collect();
        v.push(5_000);
        assert!(run(&v).is_empty());
    }

    #[test]
    fn steady_load_is_silent() {
        let v: Vec<u32> = (0..60).map(|i| 3_000 + (i % 5) * 100).collect();
        assert!(run(&v).is_empty());
    }

    #[test]
    fn small_spike_below_floor_is_silent() {
        let mut v: Vec<u32> = (0..40).map(|_| 10).collect();
        v.push(900); // 0.9 MB < min_bytes 1 MB
        assert!(run(&v).is_empty());
    }
}
