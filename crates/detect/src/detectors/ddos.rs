//! `ddos`: distributed floods — many sources (often spoofed) against one victim — and
//! reflection / amplification.
//!
//! # Method
//! Per victim, a sliding one-second window of 100 ms bins counts packets toward it by class,
//! and two-second linear-counting bitmaps estimate the distinct sources of each class (see
//! [`super::syn_flood::Distinct`]). Checked on every packet toward the victim; an alert names
//! the victim only (`src` is `None`: the sources are many and usually forged). Kinds:
//! - `syn`: SYNs (no ACK) ≥ `min_syn_pps`, from ≥ `min_sources` distinct sources, and fewer
//!   than half answered (SYN-ACK or RST from the victim) — a spoofed random-source SYN flood.
//!   The split with `syn_flood`: a source sending ≥ `max_source_share` (0.34) of the SYNs is
//!   named by `syn_flood`; `ddos` needs ≥ `min_syn_sources` (5) sources and no such source.
//! - `udp`: UDP packets (not from amplification ports) ≥ `min_pps` from ≥ `min_sources`.
//! - `icmp`: ICMP / ICMPv6 ≥ `min_pps` from ≥ `min_sources`.
//! - `reflection`: UDP from a known amplification service port (DNS 53, NTP 123, SNMP 161,
//!   SSDP 1900, memcached 11211, chargen 19, QOTD 17, CLDAP 389, ISAKMP 500/4500, BACnet 47808,
//!   DVR 37810, WS-Discovery 3702, ... US-CERT TA14-017A and later advisories), or a later IP
//!   fragment of UDP (large amplified answers arrive fragmented), ≥ `min_reflection_pps` from
//!   ≥ `min_reflectors` sources, while the victim sent fewer than half as many requests to such
//!   ports (it never asked).
//! - `tcp_reflection`: SYN-ACKs toward a victim that sent fewer than half as many SYNs, with
//!   the `syn` thresholds (TCP reflection or backscatter).
//! - `tcp_amplification`: one SYN-ACK (same reflector and victim endpoints, same sequence
//!   and acknowledgment numbers) received ≥ `min_synack_copies` times. A TCP stack
//!   retransmits an unanswered SYN-ACK a few times and gives up (Linux `tcp_synack_retries`
//!   5: six copies over about a minute; Windows fewer); hosts that keep retransmitting turn
//!   one spoofed SYN into hundreds of packets toward the spoofed source, the TCP handshake
//!   amplification of Kührer et al., "Hell of a Handshake" (USENIX WOOT 2014). Rates do not
//!   matter here, so it is seen in slow or sampled captures too.
//!
//! # Parameters (defaults)
//! `min_sources` 50 distinct sources per window for `udp`, `icmp`, `tcp_reflection` (the
//! issue's "many sources"), `min_syn_sources` 5 and `max_source_share` 0.34 for `syn` (below
//! that share no source dominates; one or two dominant sources are `syn_flood`'s),
//! `min_syn_pps` 250 (Bro `synflood`: 15 000 in 60 s), `min_pps` 1 000 (UDP/ICMP: well above
//! benign fan-in; ntopng flags 250 ICMP flows/s per host), `min_reflection_pps` 50 and
//! `min_reflectors` 5 (reflected answers are large: 50 fragments/s of 1 500 bytes is
//! 600 kbit/s of unasked traffic; the StopDDoS DNS capture ramps up, from 10–15 resolvers a
//! second: a floor of 100/s flagged it 1.26 s after onset, 50/s after 0.83 s; no benign or
//! nDPI test capture reaches either), `max_victims` 4096; `min_synack_copies` 12 (twice the
//! six copies a Linux server sends, so a capture that records every packet twice stays
//! silent), `max_synacks` 16384.
//!
//! # Known false positives
//! A popular server behind a one-way tap (answers unseen) looks like `syn` under load; a busy
//! DNS resolver seen one-way (queries unseen) looks like `reflection`; a large event (many
//! clients of a game or streaming server sending UDP at once) can look like `udp`. A server
//! configured to retransmit SYN-ACKs more than 11 times would look like `tcp_amplification`
//! for a client whose handshake failed.
//!
//! # Cost and state
//! Per IP packet: one table lookup for the destination (and one for the source when it is a
//! tracked victim's reply or request), counter updates, a bitmap bit set, no allocation.
//! State: one entry per victim (about 1.2 KB) in a [`Table`] of `max_victims`, least
//! recently seen evicted first. Hosts that send requests to amplification ports get an entry
//! too, so the answers can be matched; a spoofed flood of such requests churns the table.
//! SYN-ACKs also cost one lookup in a table of `max_synacks` handshakes (about 90 bytes each,
//! least recently seen evicted, idle ones dropped after 60 s).

use super::syn_flood::{burst_start, hash_ip, sweep_due, Distinct, Heavy, Window};
use super::util::{host_draft, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};
use wirescope_wire::{tcp_flags, Packet, Transport};

/// UDP source ports of services abused for amplification (US-CERT TA14-017A; Rossow,
/// "Amplification Hell", NDSS 2014; later advisories for WS-Discovery, ARD, CoAP, BACnet,
/// DVR 37810, FiveM 30120).
pub const AMP_PORTS: [u16; 26] = [
    17, 19, 53, 69, 111, 123, 137, 161, 389, 500, 520, 1434, 1900, 3283, 3478, 3702, 4500, 5353,
    5683, 10001, 11211, 27015, 30120, 33848, 37810, 47808,
];

pub fn is_amp_port(p: u16) -> bool {
    AMP_PORTS.binary_search(&p).is_ok()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// Distinct sources needed for `udp`, `icmp` and `tcp_reflection`.
    pub min_sources: u32,
    /// Distinct sources needed for `syn` (unanswered SYNs are already a strong sign).
    pub min_syn_sources: u32,
    /// `syn` only when no source sends this share of the SYNs (else `syn_flood` names it).
    pub max_source_share: f64,
    /// SYNs per second toward the victim for `syn` / SYN-ACKs for `tcp_reflection`.
    pub min_syn_pps: u32,
    /// Packets per second for `udp` and `icmp`.
    pub min_pps: u32,
    /// Reflected packets per second for `reflection`.
    pub min_reflection_pps: u32,
    /// Distinct reflectors for `reflection`.
    pub min_reflectors: u32,
    /// Victims tracked at once.
    pub max_victims: usize,
    /// Copies of one SYN-ACK for `tcp_amplification`.
    pub min_synack_copies: u32,
    /// SYN-ACK handshakes tracked at once for `tcp_amplification`.
    pub max_synacks: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_sources: 50,
            min_syn_sources: 5,
            max_source_share: 0.34,
            min_syn_pps: 250,
            min_pps: 1000,
            min_reflection_pps: 50,
            min_reflectors: 5,
            max_victims: 4096,
            min_synack_copies: 12,
            max_synacks: 16_384,
        }
    }
}

// Counters in a victim's window.
const SYN: usize = 0; // SYN without ACK toward the victim
const SYNACK: usize = 1; // SYN-ACK toward the victim
const UDP: usize = 2; // UDP toward the victim, not from an amplification port
const ICMP: usize = 3; // ICMP toward the victim
const REFL: usize = 4; // UDP from an amplification port, or a later UDP fragment
const OUT_REQ: usize = 5; // the victim's UDP to amplification ports
const OUT_SYN: usize = 6; // the victim's SYNs
const OUT_ANS: usize = 7; // the victim's SYN-ACKs
const BYTES_REFL: usize = 8; // bytes of REFL packets
const FAIL: usize = 9; // bare RSTs toward the victim (refused SYN-ACKs, see syn_flood)
const OUT_UDP: usize = 10; // the victim's other UDP (answers: a busy DNS or NTP server)

/// (kind, kind_index, counter, sources sketch index)
const KINDS: [(&str, u16, usize, usize); 5] = [
    ("syn", 0, SYN, 0),
    ("udp", 1, UDP, 2),
    ("icmp", 2, ICMP, 3),
    ("reflection", 3, REFL, 4),
    ("tcp_reflection", 4, SYNACK, 1),
];

#[derive(Default)]
struct Victim {
    w: Window<11>,
    /// Who sends the SYNs (is there a dominant source?).
    heavy: Heavy,
    /// Distinct sources per class: SYN, SYN-ACK, UDP, ICMP, reflected.
    src: [Distinct; 5],
    /// Reflected packets per amplification port seen (the top few), for evidence.
    ports: [(u16, u32); 4],
    since: Timestamp,
    last_in: Option<Timestamp>,
    /// Handshakes toward this victim whose SYN-ACK reached `min_synack_copies`.
    amplifiers: u32,
    every: [Every; 6],
}

/// One handshake's SYN-ACK as the victim receives it: reflector and victim endpoints.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Handshake {
    reflector: IpAddr,
    victim: IpAddr,
    reflector_port: u16,
    victim_port: u16,
}

/// Copies of the latest SYN-ACK of a handshake.
#[derive(Default)]
struct Copies {
    seq: u32,
    ack: u32,
    n: u32,
    first: Timestamp,
    counted: bool,
}

pub struct Ddos {
    cfg: Config,
    victims: Table<IpAddr, Victim>,
    synacks: Table<Handshake, Copies>,
    swept: u64,
}

impl Ddos {
    pub fn new(cfg: &Config) -> Result<Ddos, crate::BuildError> {
        Ok(Ddos {
            cfg: cfg.clone(),
            victims: Table::new(cfg.max_victims),
            synacks: Table::new(cfg.max_synacks),
            swept: 0,
        })
    }
}

/// The `tcp_amplification` alert: handshake `h`'s SYN-ACK arrived `c.n` times.
fn amplification(
    cfg: &Config,
    h: &Handshake,
    c: &Copies,
    v: &Victim,
    ts: Timestamp,
) -> crate::AlertDraft {
    let span = ts.since(c.first) as f64 / 1e9;
    let mut d = host_draft(
        DetectorId::Ddos,
        "tcp_amplification",
        5,
        format!(
            "TCP handshake amplification against {}: {}:{} sent the same SYN-ACK {} times",
            h.victim, h.reflector, h.reflector_port, c.n
        ),
        "Attempted Denial of Service",
        1,
        None,
        Some(h.victim),
        c.first,
        ts,
    );
    d.proto = Some(IpProto::TCP);
    d.evidence = evidence! {
        "reflector" => h.reflector.to_string(),
        "reflector_port" => h.reflector_port,
        "victim_port" => h.victim_port,
        "synack_copies" => c.n,
        "over_s" => (span * 10.0).round() / 10.0,
        "amplifying_handshakes" => v.amplifiers,
        "min_synack_copies" => cfg.min_synack_copies,
    };
    d
}

/// Classifies a packet toward its destination: (counter, sources sketch) or None.
fn class_in(pkt: &Packet<'_>) -> Option<(usize, usize)> {
    let ip = pkt.ip?;
    match pkt.transport {
        Transport::Tcp(t) => {
            let syn = t.flags & tcp_flags::SYN != 0;
            let ack = t.flags & tcp_flags::ACK != 0;
            match (syn, ack) {
                (true, false) => Some((SYN, 0)),
                (true, true) => Some((SYNACK, 1)),
                _ => None,
            }
        }
        Transport::Udp(u) if is_amp_port(u.src_port) && u.src_port != u.dst_port => Some((REFL, 4)),
        Transport::Udp(_) => Some((UDP, 2)),
        Transport::Icmp(_) | Transport::Icmpv6(_) => Some((ICMP, 3)),
        Transport::None if ip.proto == IpProto::UDP && ip.frag_offset > 0 => Some((REFL, 4)),
        _ => None,
    }
}

impl Detector for Ddos {
    fn id(&self) -> DetectorId {
        DetectorId::Ddos
    }
    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::TICK
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        let Some(ip) = pkt.ip else { return };
        // The victim's own packets: requests and answers that explain what it receives.
        let out_class = match pkt.transport {
            Transport::Tcp(t) if t.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN => {
                Some(OUT_SYN)
            }
            Transport::Tcp(t)
                if t.flags & (tcp_flags::SYN | tcp_flags::ACK)
                    == tcp_flags::SYN | tcp_flags::ACK =>
            {
                Some(OUT_ANS)
            }
            Transport::Tcp(t) if t.flags & (tcp_flags::RST | tcp_flags::ACK) == tcp_flags::RST => {
                if let Some(v) = self.victims.get_mut(&ip.dst) {
                    v.w.add(ts, FAIL, 1);
                }
                return;
            }
            Transport::Udp(u) if is_amp_port(u.dst_port) => Some(OUT_REQ),
            Transport::Udp(_) => Some(OUT_UDP),
            _ => None,
        };
        match out_class {
            // Requests come before the answers they explain: track the requester. (Not for
            // SYNs: a spoofed SYN flood would churn the table with one entry per forged
            // source; a host's SYNs count once it has an entry, from its first answer on.)
            Some(k @ OUT_REQ) => {
                self.victims
                    .entry(ip.src, ts, Victim::default)
                    .w
                    .add(ts, k, 1);
            }
            Some(k) => {
                if let Some(v) = self.victims.get_mut(&ip.src) {
                    v.w.add(ts, k, 1);
                }
            }
            None => {}
        }
        let Some((k, s)) = class_in(pkt) else { return };
        let cfg = &self.cfg;
        let v = self.victims.entry(ip.dst, ts, Victim::default);
        burst_start(&mut v.since, v.last_in, ts);
        v.last_in = Some(ts);
        v.w.add(ts, k, 1);
        v.src[s].insert(ts, hash_ip(ip.src));
        if k == SYN {
            v.heavy.insert(ts, ip.src);
        }
        if let (SYNACK, Transport::Tcp(t)) = (k, pkt.transport) {
            let key = Handshake {
                reflector: ip.src,
                victim: ip.dst,
                reflector_port: t.src_port,
                victim_port: t.dst_port,
            };
            let c = self.synacks.entry(key, ts, Copies::default);
            if c.n > 0 && c.seq == t.seq && c.ack == t.ack {
                c.n = c.n.saturating_add(1);
            } else {
                *c = Copies {
                    seq: t.seq,
                    ack: t.ack,
                    n: 1,
                    first: ts,
                    counted: false,
                };
            }
            if c.n >= cfg.min_synack_copies {
                if !c.counted {
                    c.counted = true;
                    v.amplifiers += 1;
                }
                if v.every[5].due(ts, SEC) {
                    out.raise(amplification(cfg, &key, c, v, ts));
                }
            }
        }
        if k == REFL {
            v.w.add(ts, BYTES_REFL, u32::from(ip.total_len));
            let port = match pkt.transport {
                Transport::Udp(u) => u.src_port,
                _ => 0, // a later fragment
            };
            if let Some(e) = v.ports.iter_mut().find(|e| e.0 == port && e.1 > 0) {
                e.1 += 1;
            } else if let Some(e) = v.ports.iter_mut().min_by_key(|e| e.1) {
                if e.1 == 0 {
                    *e = (port, 1);
                } else {
                    e.1 -= 1;
                }
            }
        }
        let Some(&(kind, kind_index, _, _)) = KINDS.iter().find(|e| e.2 == k) else {
            return;
        };
        let n = v.w.sum(k);
        let (min_pps, min_src) = match k {
            SYN => (cfg.min_syn_pps, cfg.min_syn_sources),
            SYNACK => (cfg.min_syn_pps, cfg.min_sources),
            REFL => (cfg.min_reflection_pps, cfg.min_reflectors),
            _ => (cfg.min_pps, cfg.min_sources),
        };
        if n < min_pps {
            return;
        }
        // Explained traffic: answered SYNs, SYN-ACKs to the victim's own SYNs, answers to the
        // victim's requests.
        let explained = match k {
            SYN => v.w.sum(OUT_ANS).saturating_sub(v.w.sum(FAIL)),
            SYNACK => v.w.sum(OUT_SYN),
            REFL => v.w.sum(OUT_REQ),
            // A server answering its many clients (a busy resolver) is not being flooded.
            UDP => v.w.sum(OUT_UDP),
            _ => 0,
        };
        if explained.saturating_mul(2) >= n {
            return;
        }
        let sources = v.src[s].estimate(ts);
        if sources < min_src {
            return;
        }
        // One or two sources carrying most of the SYNs are `syn_flood`'s, which names them.
        if k == SYN && v.heavy.top_share(ts) >= cfg.max_source_share {
            return;
        }
        if !v.every[usize::from(kind_index)].due(ts, SEC) {
            return;
        }
        let mut ports: Vec<(u16, u32)> = v.ports.iter().copied().filter(|e| e.1 > 0).collect();
        ports.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let what = match k {
            SYN => "spoofed-source TCP SYN flood",
            SYNACK => "TCP reflection (unsolicited SYN-ACKs)",
            UDP => "UDP flood",
            ICMP => "ICMP flood",
            _ => "UDP reflection/amplification",
        };
        let mut d = host_draft(
            DetectorId::Ddos,
            kind,
            kind_index,
            format!(
                "Distributed {what} against {}: {n} pkt/s from ~{sources} sources",
                ip.dst
            ),
            "Attempted Denial of Service",
            1,
            None,
            Some(ip.dst),
            v.since,
            ts,
        );
        d.proto = Some(ip.proto);
        let top: Vec<serde_json::Value> = if k == SYN {
            v.heavy
                .top(ts)
                .into_iter()
                .map(|(ip, share)| serde_json::json!({"ip": ip, "share": (share * 100.0).round() / 100.0}))
                .collect()
        } else {
            Vec::new()
        };
        d.evidence = evidence! {
            "window_s" => 1,
            "pkts_per_s" => n,
            "sources_estimate" => sources,
            "explained_per_s" => explained,
            "min_pps" => min_pps,
            "min_sources" => min_src,
        };
        if k == SYN {
            d.evidence
                .insert("top_sources".into(), serde_json::json!(top));
        }
        if k == REFL {
            d.evidence.insert(
                "reflected_bytes_per_s".into(),
                serde_json::json!(v.w.sum(BYTES_REFL)),
            );
            d.evidence.insert(
                "src_ports".into(),
                serde_json::json!(ports
                    .iter()
                    .map(|e| if e.0 == 0 {
                        serde_json::json!("fragment")
                    } else {
                        serde_json::json!(e.0)
                    })
                    .collect::<Vec<_>>()),
            );
        }
        out.raise(d);
    }

    fn tick(&mut self, ts: Timestamp, _out: &mut Alerts<'_>) {
        if sweep_due(&mut self.swept, ts) {
            self.victims.expire(ts, 60 * SEC);
            self.synacks.expire(ts, 60 * SEC);
        }
    }

    fn stats(&self) -> DetectorStats {
        // Both tables: victims and SYN-ACK handshakes.
        DetectorStats {
            entries: (self.victims.len() + self.synacks.len()) as u64,
            capacity: (self.victims.cap() + self.synacks.cap()) as u64,
            evicted_total: self.victims.evicted_total + self.synacks.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amp_ports_sorted() {
        assert!(AMP_PORTS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_amp_port(53) && is_amp_port(47808) && !is_amp_port(443));
    }
}
