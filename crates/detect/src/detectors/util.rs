//! Small helpers shared by detectors: drafts about a flow, rate limiting of updates, packet
//! field access.

use crate::alert::{AlertDraft, Endpoint};
use crate::DetectorId;
use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};
use wirescope_engine::Flow;
use wirescope_flow::community_id::community_id;
use wirescope_wire::{Packet, Transport};

/// One second in nanoseconds (packet time).
pub const SEC: u64 = 1_000_000_000;

/// The Community ID of a flow (seed 0), from the originator's side.
pub fn flow_community_id(fl: &Flow) -> String {
    let (o, op) = fl.orig();
    let (r, rp) = fl.resp();
    let (op, rp) = match (fl.key.proto, fl.icmp_type_code) {
        (IpProto::ICMP | IpProto::ICMPV6, Some((t, c))) => (u16::from(t), u16::from(c)),
        _ => (op, rp),
    };
    community_id(0, o, r, op, rp, fl.key.proto)
}

/// A draft about one flow: source = originator, destination = responder (with its port),
/// flow id and Community ID filled in.
#[allow(clippy::too_many_arguments)]
pub fn flow_draft(
    detector: DetectorId,
    kind: &'static str,
    kind_index: u16,
    signature: String,
    category: &'static str,
    severity: u8,
    fl: &Flow,
    ts: Timestamp,
) -> AlertDraft {
    let (o, _) = fl.orig();
    let (r, rp) = fl.resp();
    AlertDraft {
        detector,
        kind,
        kind_index,
        signature,
        category,
        severity,
        src: Some(Endpoint::ip(o)),
        dst: Some(Endpoint::with_port(r, rp)),
        proto: Some(fl.key.proto),
        flow_id: Some(fl.id),
        community_id: Some(flow_community_id(fl)),
        onset: fl.first_ts.min(ts),
        ts,
        evidence: serde_json::Map::new(),
    }
}

/// A draft between two hosts (no single flow).
#[allow(clippy::too_many_arguments)]
pub fn host_draft(
    detector: DetectorId,
    kind: &'static str,
    kind_index: u16,
    signature: String,
    category: &'static str,
    severity: u8,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    onset: Timestamp,
    ts: Timestamp,
) -> AlertDraft {
    AlertDraft {
        detector,
        kind,
        kind_index,
        signature,
        category,
        severity,
        src: src.map(Endpoint::ip),
        dst: dst.map(Endpoint::ip),
        proto: None,
        flow_id: None,
        community_id: None,
        onset,
        ts,
        evidence: serde_json::Map::new(),
    }
}

/// Rate limit for evidence updates: true at most once per `every_ns` of packet time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Every {
    last: Option<Timestamp>,
}

impl Every {
    pub fn due(&mut self, ts: Timestamp, every_ns: u64) -> bool {
        match self.last {
            Some(l) if ts.since(l) < every_ns => false,
            _ => {
                self.last = Some(ts);
                true
            }
        }
    }
}

/// (source, destination) addresses of a packet with an IP header.
pub fn addrs(pkt: &Packet<'_>) -> Option<(IpAddr, IpAddr)> {
    pkt.ip.map(|ip| (ip.src, ip.dst))
}

/// The TCP header of a packet, if any.
pub fn tcp(pkt: &Packet<'_>) -> Option<wirescope_wire::TcpInfo> {
    match pkt.transport {
        Transport::Tcp(t) => Some(t),
        _ => None,
    }
}

/// Shannon entropy in bits per symbol of a byte string.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_bounds() {
        assert_eq!(entropy(b""), 0.0);
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn every_rate_limits() {
        let mut e = Every::default();
        assert!(e.due(Timestamp(0), SEC));
        assert!(!e.due(Timestamp(500_000_000), SEC));
        assert!(e.due(Timestamp(1_000_000_000), SEC));
    }
}
