//! `protocol_anomaly`: packets no conforming stack sends.
//!
//! Method (per packet, from the decoded headers):
//! - `invalid_tcp_flags`: SYN+FIN, SYN+RST or FIN+RST together (RFC 9293 gives no state in
//!   which a stack sends them; Snort's and Suricata's decoders flag the same). NULL, FIN,
//!   XMAS and Maimon probes are left to `port_scan`, which names the scan.
//! - `land`: a TCP SYN whose source and destination address and port are equal (the "land"
//!   attack, CVE-1999-0016), loopback addresses excepted.
//! - `tiny_fragment`: a first IPv4 fragment too short to hold the TCP header (RFC 1858 §3.1:
//!   filters that look at flags in the first fragment are bypassed).
//! - `overlapping_fragments`: a fragment whose byte range overlaps one already seen for the
//!   same datagram (RFC 1858 §4, Teardrop, and evasion by overlap: the receiver's reassembly
//!   policy decides what the payload is), including a TCP fragment at offset 8.
//! - `malformed_headers`: a source sending packets whose headers no stack writes (bad IPv4
//!   header length or version, bad IPv4 option or IPv6 extension chain, bad TCP data offset
//!   or option length, bad UDP length, fragment beyond 65 535) — at least `malformed_min` of
//!   them within `window_s`. Truncation by the snaplen and checksum errors (offloading) never
//!   count.
//!
//! One alert per (kind, source, destination) — per source alone for `malformed_headers` —
//! with the packet count, the flag combinations or anomaly names seen, and the window.
//!
//! Parameters (defaults): `malformed_min` 5, `window_s` 60, `max_sources` 16 384,
//! `max_datagrams` 8 192 fragmented datagrams tracked (16 ranges each, 30 s as Linux
//! `ipfrag_time`).
//!
//! False positives: broken middleboxes rewriting headers; IDS test suites; fragments
//! retransmitted whole by a router after loss (identical ranges are not counted as overlaps).
//! Cost: a few comparisons per packet; one table lookup per fragment and per malformed
//! packet. State: the two tables above, least recently seen evicted first.

use super::util::{host_draft, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::{Anomaly, IpProto, Timestamp};
use wirescope_wire::{tcp_flags as f, Packet, Transport};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// Malformed packets from one source within `window_s` before an alert.
    pub malformed_min: u64,
    pub window_s: u64,
    pub max_sources: usize,
    pub max_datagrams: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            malformed_min: 5,
            window_s: 60,
            max_sources: 16_384,
            max_datagrams: 8_192,
        }
    }
}

/// Anomalies that only a crafted or broken packet has (not truncation, not checksums).
const MALFORMED: [Anomaly; 8] = [
    Anomaly::BadIpVersion,
    Anomaly::BadIpv4HeaderLength,
    Anomaly::BadIpv4Option,
    Anomaly::BadIpv6ExtHeader,
    Anomaly::BadTcpHeaderLength,
    Anomaly::BadTcpOption,
    Anomaly::BadUdpLength,
    Anomaly::BadFragment,
];

const KINDS: [&str; 5] = [
    "invalid_tcp_flags",
    "land",
    "tiny_fragment",
    "overlapping_fragments",
    "malformed_headers",
];

#[derive(Default)]
struct PairState {
    first: Option<Timestamp>,
    packets: u64,
    /// Bit set of the flag combinations seen (SYN+FIN, SYN+RST, FIN+RST).
    combos: u8,
    every: Every,
}

#[derive(Default)]
struct SourceState {
    window_start: Timestamp,
    in_window: u64,
    total: u64,
    first: Option<Timestamp>,
    /// Per anomaly in `MALFORMED`.
    counts: [u64; 8],
    every: Every,
}

#[derive(Default)]
struct Datagram {
    ranges: [(u16, u16); 16],
    n: u8,
}

pub struct ProtocolAnomaly {
    cfg: Config,
    /// (kind index, src, dst) → state.
    pairs: Table<(u8, IpAddr, IpAddr), PairState>,
    sources: Table<IpAddr, SourceState>,
    /// (src, dst, protocol, id) → byte ranges seen.
    frags: Table<(IpAddr, IpAddr, u8, u32), Datagram>,
}

impl ProtocolAnomaly {
    pub fn new(cfg: &Config) -> Result<ProtocolAnomaly, crate::BuildError> {
        Ok(ProtocolAnomaly {
            pairs: Table::new(cfg.max_sources),
            sources: Table::new(cfg.max_sources),
            frags: Table::new(cfg.max_datagrams),
            cfg: cfg.clone(),
        })
    }

    fn pair_alert(
        &mut self,
        kind: u8,
        src: IpAddr,
        dst: IpAddr,
        ts: Timestamp,
        combo: u8,
        out: &mut Alerts<'_>,
    ) {
        let st = self.pairs.entry((kind, src, dst), ts, PairState::default);
        st.packets += 1;
        st.combos |= combo;
        let first = *st.first.get_or_insert(ts);
        if !st.every.due(ts, SEC) {
            return;
        }
        let name = KINDS[kind as usize];
        let what = match name {
            "invalid_tcp_flags" => "TCP segments with impossible flag combinations",
            "land" => "land attack: SYN with source = destination",
            "tiny_fragment" => "tiny first fragment (TCP header split, RFC 1858)",
            _ => "overlapping IP fragments",
        };
        let mut combos = Vec::new();
        for (bit, n) in [(1u8, "SYN+FIN"), (2, "SYN+RST"), (4, "FIN+RST")] {
            if st.combos & bit != 0 {
                combos.push(n);
            }
        }
        let mut d = host_draft(
            DetectorId::ProtocolAnomaly,
            name,
            u16::from(kind),
            format!("{what} from {src} to {dst}"),
            "Generic Protocol Command Decode",
            if name == "land" { 1 } else { 2 },
            Some(src),
            Some(dst),
            first,
            ts,
        );
        d.evidence = evidence! {
            "packets" => st.packets,
            "first_seen" => first.as_secs_f64(),
            "flag_combinations" => combos,
        };
        out.raise(d);
    }

    fn fragment(&mut self, pkt: &Packet<'_>, ts: Timestamp, out: &mut Alerts<'_>) {
        let Some(ip) = pkt.ip else { return };
        if !ip.is_fragment() || pkt.tunnel_depth > 0 {
            return;
        }
        let len = ip.total_len.saturating_sub(ip.header_len);
        // RFC 1858 §3.1: a first fragment that cannot hold the whole TCP header (20 bytes).
        if ip.frag_offset == 0 && ip.more_fragments && ip.proto == IpProto::TCP && len < 20 {
            self.pair_alert(2, ip.src, ip.dst, ts, 0, out);
        }
        let start = ip.frag_offset;
        let end = start.saturating_add(len);
        let key = (ip.src, ip.dst, ip.proto.0, ip.ident);
        let dg = self.frags.entry(key, ts, Datagram::default);
        let mut overlap = ip.frag_offset == 8 && ip.proto == IpProto::TCP;
        for &(s, e) in &dg.ranges[..dg.n as usize] {
            // Identical ranges are retransmissions, not overlaps.
            if (s, e) != (start, end) && start < e && s < end {
                overlap = true;
            }
        }
        if (dg.n as usize) < dg.ranges.len() {
            dg.ranges[dg.n as usize] = (start, end);
            dg.n += 1;
        }
        if overlap {
            self.pair_alert(3, ip.src, ip.dst, ts, 0, out);
        }
    }
}

impl Detector for ProtocolAnomaly {
    fn id(&self) -> DetectorId {
        DetectorId::ProtocolAnomaly
    }

    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::TICK
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        let Some(ip) = pkt.ip else { return };
        if let Transport::Tcp(t) = pkt.transport {
            let fl = t.flags;
            let combo = u8::from(fl & (f::SYN | f::FIN) == f::SYN | f::FIN)
                | u8::from(fl & (f::SYN | f::RST) == f::SYN | f::RST) << 1
                | u8::from(fl & (f::FIN | f::RST) == f::FIN | f::RST) << 2;
            if combo != 0 {
                self.pair_alert(0, ip.src, ip.dst, ts, combo, out);
            }
            if fl & f::SYN != 0
                && ip.src == ip.dst
                && t.src_port == t.dst_port
                && !ip.src.is_loopback()
            {
                self.pair_alert(1, ip.src, ip.dst, ts, 0, out);
            }
        }
        if ip.is_fragment() {
            self.fragment(pkt, ts, out);
        }
        if pkt.anomalies.is_empty() {
            return;
        }
        let mut hit = [false; 8];
        let mut any = false;
        for (i, a) in MALFORMED.iter().enumerate() {
            if pkt.anomalies.contains(*a) {
                hit[i] = true;
                any = true;
            }
        }
        if !any {
            return;
        }
        let window = self.cfg.window_s.saturating_mul(SEC);
        let min = self.cfg.malformed_min.max(1);
        let st = self.sources.entry(ip.src, ts, SourceState::default);
        if st.first.is_none() || ts.since(st.window_start) >= window {
            st.window_start = ts;
            st.in_window = 0;
        }
        st.first.get_or_insert(ts);
        st.in_window += 1;
        st.total += 1;
        for (i, h) in hit.iter().enumerate() {
            st.counts[i] += u64::from(*h);
        }
        if st.in_window < min || !st.every.due(ts, SEC) {
            return;
        }
        let seen: serde_json::Map<String, serde_json::Value> = MALFORMED
            .iter()
            .zip(st.counts)
            .filter(|(_, n)| *n > 0)
            .map(|(a, n)| (a.key().to_string(), serde_json::json!(n)))
            .collect();
        let mut d = host_draft(
            DetectorId::ProtocolAnomaly,
            KINDS[4],
            4,
            format!("malformed packet headers from {}", ip.src),
            "Generic Protocol Command Decode",
            3,
            Some(ip.src),
            None,
            st.window_start,
            ts,
        );
        d.evidence = evidence! {
            "packets" => st.total,
            "in_window" => st.in_window,
            "anomalies" => seen,
            "window_s" => self.cfg.window_s,
            "threshold" => min,
        };
        out.raise(d);
    }

    fn tick(&mut self, ts: Timestamp, _out: &mut Alerts<'_>) {
        // Linux ipfrag_time: fragments of a datagram older than 30 s are forgotten.
        self.frags.expire(ts, 30 * SEC);
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: (self.pairs.len() + self.sources.len() + self.frags.len()) as u64,
            capacity: (self.pairs.cap() + self.sources.cap() + self.frags.cap()) as u64,
            evicted_total: self.pairs.evicted_total
                + self.sources.evicted_total
                + self.frags.evicted_total,
        }
    }
}
