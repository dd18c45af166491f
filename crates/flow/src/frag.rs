//! IP fragment tracking: knows when every fragment of a datagram has been seen, so that the
//! datagram's transport header (carried by the first fragment) is accounted once, on the frame
//! that completes it — what an IDS with reassembly (and tshark's default) reports. It keeps no
//! payload bytes: only coverage and the first fragment's transport header.
//!
//! Bounds: at most `max_datagrams` incomplete datagrams (default 8 192); when full the oldest
//! of 8 sampled entries is dropped. Incomplete datagrams expire after 30 s of packet time (the
//! Linux `ipfrag_time` default). Both are counted.

use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};
use wirescope_wire::{IpInfo, Transport};

/// Incomplete datagrams expire after this long (Linux `net.ipv4.ipfrag_time`).
pub const FRAG_TIMEOUT_NS: u64 = 30_000_000_000;
/// Most fragments remembered per datagram before it is given up (a 64 KiB datagram in
/// 8-byte fragments would need 8 192; real ones have a handful).
const MAX_FRAGMENTS: u16 = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct DatagramKey {
    src: IpAddr,
    dst: IpAddr,
    proto: IpProto,
    ident: u32,
}

#[derive(Clone, Copy, Debug)]
struct Datagram {
    first_ts: Timestamp,
    /// Payload bytes received (sum over fragments; duplicates may over-count, see below).
    received: u32,
    /// Datagram payload length, known once the last fragment (MF = 0) arrives.
    total: Option<u32>,
    /// The first fragment's transport header and IP info, once it arrives.
    first: Option<(IpInfo, Transport)>,
    fragments: u16,
}

/// A datagram that just became complete.
#[derive(Clone, Copy, Debug)]
pub struct Reassembled {
    /// The first fragment's IP header, with `total_len` set to the whole datagram.
    pub ip: IpInfo,
    pub transport: Transport,
    /// Transport payload length of the whole datagram.
    pub payload_len: u32,
}

/// Counters of the fragment tracker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragStats {
    pub fragments_total: u64,
    pub reassembled_total: u64,
    pub expired_total: u64,
    pub evicted_total: u64,
}

pub struct FragTracker {
    /// Randomly seeded: fragment identifiers are attacker-chosen.
    map: hashbrown::HashMap<DatagramKey, Datagram, foldhash::fast::RandomState>,
    max: usize,
    pub stats: FragStats,
    last_sweep_sec: i64,
}

impl FragTracker {
    pub fn new(max_datagrams: usize) -> Self {
        FragTracker {
            map: hashbrown::HashMap::with_capacity_and_hasher(
                max_datagrams.min(1024),
                Default::default(),
            ),
            max: max_datagrams.max(1),
            stats: FragStats::default(),
            last_sweep_sec: i64::MIN,
        }
    }

    /// Accounts one fragment (`ip.is_fragment()`); `transport` is what the decoder found in it
    /// (only the first fragment has one), `payload_len` its IP payload length.
    pub fn on_fragment(
        &mut self,
        ts: Timestamp,
        ip: &IpInfo,
        transport: Transport,
        payload_len: u32,
    ) -> Option<Reassembled> {
        self.stats.fragments_total += 1;
        if ts.secs() != self.last_sweep_sec {
            self.last_sweep_sec = ts.secs();
            let before = self.map.len();
            self.map
                .retain(|_, d| ts.since(d.first_ts) <= FRAG_TIMEOUT_NS);
            self.stats.expired_total += (before - self.map.len()) as u64;
        }
        let key = DatagramKey {
            src: ip.src,
            dst: ip.dst,
            proto: ip.proto,
            ident: ip.ident,
        };
        if !self.map.contains_key(&key) && self.map.len() >= self.max {
            self.evict_one();
        }
        let d = self.map.entry(key).or_insert(Datagram {
            first_ts: ts,
            received: 0,
            total: None,
            first: None,
            fragments: 0,
        });
        d.fragments = d.fragments.saturating_add(1);
        d.received = d.received.saturating_add(payload_len);
        if !ip.more_fragments {
            d.total = Some(u32::from(ip.frag_offset) + payload_len);
        }
        if ip.frag_offset == 0 && d.first.is_none() {
            d.first = Some((*ip, transport));
        }
        // Complete when the first and last fragments are in and the bytes add up. Duplicate
        // fragments can make `received` reach the total early; like tshark we then report the
        // datagram once, and later duplicates start a new, never-completing entry.
        let done = matches!((d.total, d.first), (Some(t), Some(_)) if d.received >= t);
        if d.fragments > MAX_FRAGMENTS {
            self.map.remove(&key);
            return None;
        }
        if !done {
            return None;
        }
        let d = self.map.remove(&key)?;
        let (mut first_ip, transport) = d.first?;
        let total = d.total.unwrap_or(0);
        let header = u32::from(first_ip.header_len);
        first_ip.total_len = u16::try_from(total + header).unwrap_or(u16::MAX);
        first_ip.more_fragments = false;
        let transport_header = match transport {
            Transport::Tcp(t) => u32::from(t.header_len),
            Transport::Udp(_) => 8,
            Transport::Icmp(_) | Transport::Icmpv6(_) => 8,
            Transport::Sctp { .. } => 12,
            Transport::None => 0,
        };
        self.stats.reassembled_total += 1;
        Some(Reassembled {
            ip: first_ip,
            transport,
            payload_len: total.saturating_sub(transport_header),
        })
    }

    fn evict_one(&mut self) {
        let victim = self
            .map
            .iter()
            .take(8)
            .min_by_key(|(_, d)| d.first_ts)
            .map(|(k, _)| *k);
        if let Some(k) = victim {
            self.map.remove(&k);
            self.stats.evicted_total += 1;
        }
    }

    pub fn pending(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirescope_wire::UdpInfo;

    fn frag(offset: u16, more: bool, ident: u32) -> IpInfo {
        IpInfo {
            src: "198.18.0.1".parse().expect("literal"),
            dst: "198.18.0.2".parse().expect("literal"),
            proto: IpProto::UDP,
            ttl: 64,
            total_len: 1500,
            header_len: 20,
            frag_offset: offset,
            more_fragments: more,
            ident,
            dscp: 0,
            flow_label: 0,
        }
    }

    #[test]
    fn completes_once_in_any_order() {
        let mut t = FragTracker::new(16);
        let udp = Transport::Udp(UdpInfo {
            src_port: 53,
            dst_port: 4000,
            length: 3008,
        });
        // last, middle, first: completes on the first fragment's arrival.
        assert!(t
            .on_fragment(Timestamp(0), &frag(2960, false, 7), Transport::None, 48)
            .is_none());
        assert!(t
            .on_fragment(Timestamp(1), &frag(1480, true, 7), Transport::None, 1480)
            .is_none());
        let r = t
            .on_fragment(Timestamp(2), &frag(0, true, 7), udp, 1480)
            .expect("complete");
        assert_eq!(r.transport, udp);
        assert_eq!(r.ip.total_len, 20 + 3008);
        assert_eq!(r.payload_len, 3000);
        assert_eq!(t.pending(), 0);
        assert_eq!(t.stats.reassembled_total, 1);
    }

    #[test]
    fn incomplete_datagrams_expire_and_the_cap_holds() {
        let mut t = FragTracker::new(4);
        for i in 0..10 {
            t.on_fragment(Timestamp(0), &frag(0, true, i), Transport::None, 8);
        }
        assert_eq!(t.pending(), 4);
        assert_eq!(t.stats.evicted_total, 6);
        t.on_fragment(
            Timestamp(31_000_000_000),
            &frag(8, true, 99),
            Transport::None,
            8,
        );
        assert_eq!(t.stats.expired_total, 4);
        assert_eq!(t.pending(), 1);
    }
}
