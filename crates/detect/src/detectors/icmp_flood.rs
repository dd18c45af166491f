//! `icmp_flood`: one source flooding one victim with ICMP (ping floods, `hping3 --icmp
//! --flood`, smurf-style echo-reply floods).
//!
//! # Method
//! Per (source, destination) pair, a sliding one-second window of 100 ms bins counts ICMP and
//! ICMPv6 packets (Neighbor Discovery excluded); checked on every packet. An alert needs
//! `min_pps` packets in the last second. The kind says what the flood is made of: `ping_flood`
//! when most packets are echo requests, `icmp_flood` otherwise (echo replies, unreachables,
//! ...).
//!
//! # Parameters (defaults)
//! `min_pps` 500: `ping -f` from an unprivileged-rate sender and ordinary monitoring stay far
//! below (ping sends 1/s, fping sweeps spread over many hosts), while ntopng flags 250 ICMP
//! flows/s per host and flood tools send tens of thousands per second. `max_pairs` 16 384.
//!
//! # Known false positives
//! `ping -f` between two hosts on a fast LAN (it sends as fast as replies return: thousands per
//! second); a router answering a storm of traffic with ICMP errors toward one host (that host
//! is then the source of the storm, not a victim).
//!
//! # Cost and state
//! Per ICMP packet: one table lookup and a ten-bin sum, no allocation. State: one entry per
//! (source, destination) pair (about 120 bytes) in a [`Table`] of `max_pairs`, least recently
//! seen evicted first.

use super::syn_flood::sweep_due;
use super::udp_flood::Pair;
use super::util::{host_draft, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::Timestamp;
use wirescope_wire::{Packet, Transport};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// ICMP packets per second from one source to one destination.
    pub min_pps: u32,
    /// (source, destination) pairs tracked at once.
    pub max_pairs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_pps: 500,
            max_pairs: 16_384,
        }
    }
}

pub struct IcmpFlood {
    cfg: Config,
    pairs: Table<(IpAddr, IpAddr), Pair>,
    swept: u64,
}

impl IcmpFlood {
    pub fn new(cfg: &Config) -> Result<IcmpFlood, crate::BuildError> {
        if cfg.min_pps == 0 {
            return Err(crate::BuildError("icmp_flood: min_pps must be > 0".into()));
        }
        Ok(IcmpFlood {
            cfg: cfg.clone(),
            pairs: Table::new(cfg.max_pairs),
            swept: 0,
        })
    }
}

impl Detector for IcmpFlood {
    fn id(&self) -> DetectorId {
        DetectorId::IcmpFlood
    }
    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::TICK
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        let Some(ip) = pkt.ip else { return };
        let (icmp, echo_req) = match pkt.transport {
            Transport::Icmp(i) => (i, i.icmp_type == 8),
            // Neighbor Discovery (133–137) is link chatter, not traffic toward a victim.
            Transport::Icmpv6(i) if !(133..=137).contains(&i.icmp_type) => (i, i.icmp_type == 128),
            _ => return,
        };
        // Echo replies answering the other side's requests are the victim's answers, not a
        // second flood.
        let reply = matches!(
            (pkt.transport, icmp.icmp_type),
            (Transport::Icmp(_), 0) | (Transport::Icmpv6(_), 129)
        );
        let answering = reply
            && self
                .pairs
                .get(&(ip.dst, ip.src))
                .is_some_and(|r| r.last.is_some_and(|l| ts.since(l) < SEC) && r.w.sum(2) > 0);
        let cfg = &self.cfg;
        let p = self.pairs.entry((ip.src, ip.dst), ts, Pair::default);
        let payload = pkt.payload_wire_len;
        let (n, bytes, echo) = p.count(ts, payload, echo_req);
        p.port = u16::from(icmp.icmp_type);
        if answering || n < cfg.min_pps || !p.every.due(ts, SEC) {
            return;
        }
        let (kind, kind_index, what) = if echo * 2 > n {
            ("ping_flood", 0, "ICMP echo (ping) flood")
        } else {
            ("icmp_flood", 1, "ICMP flood")
        };
        let mut d = host_draft(
            DetectorId::IcmpFlood,
            kind,
            kind_index,
            format!("{what} from {} to {}: {n} pkt/s", ip.src, ip.dst),
            "Attempted Denial of Service",
            2,
            Some(ip.src),
            Some(ip.dst),
            p.since,
            ts,
        );
        d.proto = Some(ip.proto);
        d.evidence = evidence! {
            "window_s" => 1,
            "pkts_per_s" => n,
            "echo_requests_per_s" => echo,
            "payload_bytes_per_s" => bytes,
            "last_icmp_type" => icmp.icmp_type,
            "min_pps" => cfg.min_pps,
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
