//! `udp_flood`: one source flooding one victim with UDP.
//!
//! # Method
//! Per (source, destination) pair, a sliding one-second window of 100 ms bins counts UDP
//! packets and their payload bytes; checked on every packet. An alert needs `min_pps` packets
//! in the last second and either small datagrams (mean payload ≤ `max_mean_payload`) or a rate
//! no bulk transfer of full-size datagrams reaches on common links (`bulk_min_pps`).
//!
//! Why the payload criterion: floods (hping3 `--udp --flood`, LOIC, booters' direct floods)
//! maximise packets per second with small datagrams, while legitimate high-rate UDP between
//! two hosts is a bulk transfer (iperf3, backups, video, QUIC downloads) that fills datagrams
//! to the path MTU: iperf3 at 50 Mbit/s is about 4 300 pkt/s of 1 448-byte payloads, far
//! above `min_pps` but not a flood. Such a transfer alerts only above `bulk_min_pps`
//! (20 000 pkt/s ≈ 230 Mbit/s of full-size datagrams).
//!
//! # Parameters (defaults)
//! `min_pps` 1 000 (an order of magnitude above VoIP/gaming streams of 50–128 pkt/s and the
//! rates ntopng flags per host), `max_mean_payload` 512 bytes (below the 1 200–1 472 bytes of
//! bulk and QUIC datagrams), `bulk_min_pps` 20 000, `max_reply_ratio` 0.5 (a request/response
//! protocol answers about every packet), `max_pairs` 16 384.
//!
//! # Known false positives
//! A one-way tap that hides the answers of a busy request/response exchange;
//! syslog/telemetry relays sending many small datagrams to one collector; a very fast bulk UDP
//! transfer (> 230 Mbit/s). Raise `min_pps` or allow-list those pairs.
//!
//! # Cost and state
//! Per UDP packet: one table lookup and a ten-bin sum (two more lookups above `min_pps`), no
//! allocation. A flood against a service that answers every datagram is missed (it is a
//! conversation by this criterion). State: one entry per
//! (source, destination) pair (about 120 bytes) in a [`Table`] of `max_pairs`, least recently
//! seen evicted first (spoofed-source floods churn it; the pair under attack stays hot).

use super::syn_flood::{burst_start, sweep_due, Window};
use super::util::{host_draft, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};
use wirescope_wire::{Packet, Transport};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// UDP packets per second from one source to one destination.
    pub min_pps: u32,
    /// Mean UDP payload (bytes) at or below which a high rate is a flood.
    pub max_mean_payload: u32,
    /// Packets per second that alert whatever the payload size.
    pub bulk_min_pps: u32,
    /// No alert when the destination sends back at least this ratio of the packets (a
    /// request/response conversation, not a flood).
    pub max_reply_ratio: f64,
    /// (source, destination) pairs tracked at once.
    pub max_pairs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_pps: 1000,
            max_mean_payload: 512,
            bulk_min_pps: 20_000,
            max_reply_ratio: 0.5,
            max_pairs: 16_384,
        }
    }
}

/// Rate state of one (source, destination) pair, shared with `icmp_flood`.
/// Counters: 0 packets, 1 payload bytes, 2 a detector-specific count.
#[derive(Default)]
pub struct Pair {
    pub w: Window<3>,
    pub since: Timestamp,
    pub last: Option<Timestamp>,
    pub every: Every,
    /// Last destination port (UDP) or ICMP type seen (evidence only).
    pub port: u16,
}

impl Pair {
    /// Counts one packet; returns (packets, payload bytes, extra) over the last second.
    pub fn count(&mut self, ts: Timestamp, payload: u32, extra: bool) -> (u32, u32, u32) {
        burst_start(&mut self.since, self.last, ts);
        self.last = Some(ts);
        self.w.add(ts, 0, 1);
        self.w.add(ts, 1, payload);
        if extra {
            self.w.add(ts, 2, 1);
        }
        (self.w.sum(0), self.w.sum(1), self.w.sum(2))
    }
}

pub struct UdpFlood {
    cfg: Config,
    pairs: Table<(IpAddr, IpAddr), Pair>,
    swept: u64,
}

impl UdpFlood {
    pub fn new(cfg: &Config) -> Result<UdpFlood, crate::BuildError> {
        if cfg.min_pps == 0 {
            return Err(crate::BuildError("udp_flood: min_pps must be > 0".into()));
        }
        Ok(UdpFlood {
            cfg: cfg.clone(),
            pairs: Table::new(cfg.max_pairs),
            swept: 0,
        })
    }
}

impl Detector for UdpFlood {
    fn id(&self) -> DetectorId {
        DetectorId::UdpFlood
    }
    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::TICK
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        let (Some(ip), Transport::Udp(u)) = (pkt.ip, pkt.transport) else {
            return;
        };
        let cfg = &self.cfg;
        let p = self.pairs.entry((ip.src, ip.dst), ts, Pair::default);
        let payload = u32::from(u.length.saturating_sub(8));
        let (n, bytes, _) = p.count(ts, payload, false);
        p.port = u.dst_port;
        if n < cfg.min_pps {
            return;
        }
        let mean = bytes / n.max(1);
        if mean > cfg.max_mean_payload && n < cfg.bulk_min_pps {
            return;
        }
        let since = p.since;
        // A conversation (the destination answers at a comparable rate: DNS, a tunnel, a
        // game) is not a flood.
        let replies = self
            .pairs
            .get(&(ip.dst, ip.src))
            .filter(|r| r.last.is_some_and(|l| ts.since(l) < SEC))
            .map_or(0, |r| r.w.sum(0));
        if f64::from(replies) >= cfg.max_reply_ratio * f64::from(n) {
            return;
        }
        let Some(p) = self.pairs.get_mut(&(ip.src, ip.dst)) else {
            return;
        };
        if !p.every.due(ts, SEC) {
            return;
        }
        let mut d = host_draft(
            DetectorId::UdpFlood,
            "udp_flood",
            0,
            format!(
                "UDP flood from {} to {}: {n} pkt/s, mean payload {mean} bytes",
                ip.src, ip.dst
            ),
            "Attempted Denial of Service",
            2,
            Some(ip.src),
            Some(ip.dst),
            since,
            ts,
        );
        d.proto = Some(IpProto::UDP);
        d.evidence = evidence! {
            "window_s" => 1,
            "pkts_per_s" => n,
            "payload_bytes_per_s" => bytes,
            "mean_payload" => mean,
            "replies_per_s" => replies,
            "dst_port" => u.dst_port,
            "thresholds" => evidence! {
                "min_pps" => cfg.min_pps,
                "max_mean_payload" => cfg.max_mean_payload,
                "bulk_min_pps" => cfg.bulk_min_pps,
                "max_reply_ratio" => cfg.max_reply_ratio,
            },
        };
        out.raise(d);
    }

    fn tick(&mut self, ts: Timestamp, _out: &mut Alerts<'_>) {
        if sweep_due(&mut self.swept, ts) {
            self.pairs.expire(ts, 60 * SEC);
        }
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: self.pairs.len() as u64,
            capacity: self.pairs.cap() as u64,
            evicted_total: self.pairs.evicted_total,
        }
    }
}
