//! IPv6 (RFC 8200 §3) and its extension header chain (RFC 8200 §4, AH RFC 4302 §2,
//! Mobility RFC 6275 §6.1).

use std::net::{IpAddr, Ipv6Addr};

use crate::bytes::{array_at, head, len_u32, tail, u16_at, u32_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{ip, Anomaly, IpInfo, IpProto, Layer};

/// IPv6 fixed header (RFC 8200 §3).
pub(crate) mod field {
    use super::Field;
    /// Version (4 bits), traffic class (8), flow label (20).
    pub const VER_TC_FLOW: Field = 0..4;
    pub const PAYLOAD_LEN: Field = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
    pub const HEADER_LEN: usize = 40;
}

/// Fields shared by the extension headers (RFC 8200 §4.3–4.6, RFC 4302 §2).
mod ext {
    use super::Field;
    pub const NEXT_HEADER: usize = 0;
    /// Length in 8-byte units not counting the first 8 (AH: 4-byte units minus 2).
    pub const LENGTH: usize = 1;
    /// Fragment header (RFC 8200 §4.5): offset (13 bits, 8-byte units), res (2), M (1).
    pub const FRAG_OFF_M: Field = 2..4;
    pub const FRAG_IDENT: Field = 4..8;
    pub const FRAG_LEN: usize = 8;
    pub const FRAG_OFFSET_MASK: u16 = 0xFFF8;
    pub const FRAG_MORE: u16 = 0x0001;
}

/// Most extension headers followed before the upper layer; a longer chain sets
/// [`Anomaly::BadIpv6ExtHeader`]. RFC 8200 §4.1 recommends an order in which each header
/// appears at most once (destination options twice): seven, plus one spare.
pub const MAX_IPV6_EXT_HEADERS: usize = 8;

/// Next-header values (IANA "Assigned Internet Protocol Numbers").
const HOPOPT: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AH: u8 = 51;
const ICMPV6: u8 = 58;
const NO_NEXT_HEADER: u8 = 59;
const DSTOPTS: u8 = 60;
const MOBILITY: u8 = 135;

/// The largest reassembled payload (RFC 8200 §4.5: longer fragments are to be discarded).
const MAX_PAYLOAD: u32 = 65_535;

/// How the extension header walk ended.
enum Chain {
    Upper,
    Truncated,
    Bad,
}

pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    if !cx.begin(b, Layer::Ipv6, Anomaly::TruncatedIpv6) {
        return;
    }
    if u8_at(b, 0) >> 4 != 6 {
        cx.anomaly(Anomaly::BadIpVersion);
        return;
    }
    if b.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedIpv6);
        return;
    }
    let captured_payload = b.len() - field::HEADER_LEN;
    // 0 marks a jumbogram (RFC 2675 §2: the length is in a Jumbo Payload option of a
    // hop-by-hop header), and Linux BIG TCP leaves it so in captures: then take the captured
    // length. Without that option (segmentation offload) the header claims an empty payload,
    // and, as tshark (which then finds no transport), nothing after the fixed header is read.
    let claimed = match u16_at(b, field::PAYLOAD_LEN) {
        0 if has_jumbo_option(b) => captured_payload,
        0 => 0,
        n => usize::from(n),
    };
    if len_u32(field::HEADER_LEN + claimed) > r.wire {
        cx.anomaly(Anomaly::IpLengthExceedsFrame);
    }
    // Bytes past the payload length are link padding.
    let b = head(b, field::HEADER_LEN + claimed);
    let wire_end = field::HEADER_LEN + claimed;

    // Walk the extension headers: bounded by MAX_IPV6_EXT_HEADERS, each at least 8 bytes.
    let mut next = u8_at(b, field::NEXT_HEADER);
    let mut off = field::HEADER_LEN;
    let mut frag_offset = 0u16;
    let mut more_fragments = false;
    let mut ident = 0u32;
    let mut seen_fragment = false;
    let mut chain = Chain::Upper;
    for i in 0..=MAX_IPV6_EXT_HEADERS {
        let is_ext = matches!(next, HOPOPT | ROUTING | FRAGMENT | AH | DSTOPTS | MOBILITY);
        if !is_ext {
            break;
        }
        if i == MAX_IPV6_EXT_HEADERS {
            chain = Chain::Bad;
            break;
        }
        let h = tail(b, off);
        // The length byte must be there to size the header (the fragment header is fixed).
        let hlen = match next {
            FRAGMENT => ext::FRAG_LEN,
            _ if h.len() < 2 => {
                chain = if off + 2 > wire_end {
                    Chain::Bad
                } else {
                    Chain::Truncated
                };
                break;
            }
            AH => (usize::from(u8_at(h, ext::LENGTH)) + 2) * 4,
            _ => (usize::from(u8_at(h, ext::LENGTH)) + 1) * 8,
        };
        if off + hlen > wire_end {
            chain = Chain::Bad;
            break;
        }
        if h.len() < hlen {
            chain = Chain::Truncated;
            break;
        }
        if next == FRAGMENT {
            let v = u16_at(h, ext::FRAG_OFF_M);
            frag_offset = v & ext::FRAG_OFFSET_MASK;
            more_fragments = v & ext::FRAG_MORE != 0;
            ident = u32_at(h, ext::FRAG_IDENT);
            seen_fragment = true;
        }
        next = u8_at(h, ext::NEXT_HEADER);
        off += hlen;
    }

    let vtf = u32_at(b, field::VER_TC_FLOW);
    let traffic_class = ((vtf >> 20) & 0xFF) as u8;
    cx.set_ip(IpInfo {
        src: IpAddr::V6(Ipv6Addr::from(array_at::<16>(b, field::SRC_ADDR))),
        dst: IpAddr::V6(Ipv6Addr::from(array_at::<16>(b, field::DST_ADDR))),
        proto: IpProto(next),
        ttl: u8_at(b, field::HOP_LIMIT),
        total_len: u16::try_from(wire_end).unwrap_or(u16::MAX),
        header_len: u16::try_from(off).unwrap_or(u16::MAX),
        frag_offset,
        more_fragments,
        ident,
        dscp: traffic_class >> 2,
        flow_label: vtf & 0x000F_FFFF,
    });
    match chain {
        Chain::Upper => {}
        Chain::Truncated => {
            cx.anomaly(Anomaly::TruncatedIpv6);
            return;
        }
        Chain::Bad => {
            cx.anomaly(Anomaly::BadIpv6ExtHeader);
            return;
        }
    }
    let payload_wire = len_u32(wire_end.saturating_sub(off));
    if seen_fragment && u32::from(frag_offset) + payload_wire > MAX_PAYLOAD {
        cx.anomaly(Anomaly::BadFragment);
    }
    if frag_offset != 0 {
        // The fragment's data is the payload (see ipv4.rs).
        cx.layer(Layer::Fragment);
        cx.pkt.payload = tail(b, off);
        cx.pkt.payload_wire_len = payload_wire;
        return;
    }
    if next == NO_NEXT_HEADER {
        return;
    }
    if claimed == 0 {
        // Payload length 0 without a Jumbo Payload option (RFC 2675 §3 requires one), yet a
        // next header: the extension header that would have sized the packet is missing, so
        // this is flagged as a bad extension header chain (the IP length does not exceed the
        // frame: it is short of it, which `IpLengthExceedsFrame` does not describe).
        cx.anomaly(Anomaly::BadIpv6ExtHeader);
        // tshark hands the next dissector an empty payload: TCP, UDP, ICMP, SCTP, GRE and
        // IPv4 fail before they count, ICMPv6 counts first and then fails. The same here.
        if next == ICMPV6 {
            cx.layer(Layer::Icmpv6);
        }
        return;
    }
    ip::upper(
        IpProto(next),
        Region {
            bytes: tail(b, off),
            wire: payload_wire,
        },
        cx,
    )
}

/// Hop-by-hop option carrying a jumbogram's length (RFC 2675 §2).
const OPT_JUMBO_PAYLOAD: u8 = 0xC2;
const OPT_PAD1: u8 = 0;

/// Whether the packet `b` (a full fixed header captured) starts its extension headers with a
/// hop-by-hop header holding a Jumbo Payload option. The walk stays inside the captured
/// hop-by-hop header (at most 2048 bytes) and consumes at least one byte per step.
fn has_jumbo_option(b: &[u8]) -> bool {
    if u8_at(b, field::NEXT_HEADER) != HOPOPT {
        return false;
    }
    let h = tail(b, field::HEADER_LEN);
    let hlen = (usize::from(u8_at(h, ext::LENGTH)) + 1) * 8;
    let mut opts = tail(head(h, hlen), 2);
    while let Some(&kind) = opts.first() {
        match kind {
            OPT_JUMBO_PAYLOAD => return true,
            OPT_PAD1 => opts = tail(opts, 1),
            _ => opts = tail(opts, 2 + usize::from(u8_at(opts, 1))),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, hex, ipv6, layers, tcp, udp};
    use crate::{decode, LinkType, Transport};

    fn raw(b: &[u8]) -> crate::Packet<'_> {
        decode(LinkType::RAW, b)
    }

    /// Hop-by-hop options (RFC 8200 §4.3: next = fragment, length 0, PadN of 4 bytes), then a
    /// fragment header (§4.5: next = UDP, offset `offset` in 8-byte units, M flag, ident
    /// 0xdeadbeef), then UDP 546 -> 547 with `body`.
    fn hbh_frag_udp(offset: u16, more: bool, body: &[u8]) -> Vec<u8> {
        let mut ext = hex("2c00 0102 0000 0000");
        ext.extend([17, 0]);
        ext.extend((offset << 3 | u16::from(more)).to_be_bytes());
        ext.extend(hex("dead beef"));
        ext.extend(udp(546, 547, body));
        ipv6(HOPOPT, &ext)
    }

    #[test]
    fn hop_by_hop_then_first_fragment_decodes_udp() {
        let b = hbh_frag_udp(0, true, b"dhcp");
        let p = raw(&b);
        assert_eq!(layers(&p), ["ipv6", "udp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let ip = p.ip.expect("ip");
        assert_eq!(ip.proto, IpProto::UDP);
        assert_eq!((ip.header_len, ip.total_len), (56, 68));
        assert_eq!(
            (ip.frag_offset, ip.more_fragments, ip.ident),
            (0, true, 0xdead_beef)
        );
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 547));
        assert_eq!(p.payload, b"dhcp");
    }

    #[test]
    fn later_fragment_has_no_transport() {
        let b = hbh_frag_udp(185, false, b"tail");
        let p = raw(&b);
        assert_eq!(layers(&p), ["ipv6", "ip_fragment"]);
        assert_eq!(p.ip.map(|i| i.frag_offset), Some(1480));
        assert_eq!(p.transport, Transport::None);
        // An offset reaching past 65535 (RFC 8200 §4.5) is flagged.
        let b = hbh_frag_udp(0x1FFF, false, b"tail");
        assert_eq!(raw(&b).anomalies, anomalies(&[Anomaly::BadFragment]));
    }

    #[test]
    fn extension_chain_is_bounded() {
        // n destination-options headers (8 bytes each), then TCP.
        let chain = |n: usize| {
            let mut ext = Vec::new();
            for i in 0..n {
                ext.extend([if i + 1 == n { 6 } else { DSTOPTS }, 0, 1, 4, 0, 0, 0, 0]);
            }
            ext.extend(tcp(0x02, &[]));
            ipv6(DSTOPTS, &ext)
        };
        let ok = chain(MAX_IPV6_EXT_HEADERS);
        assert_eq!(layers(&raw(&ok)), ["ipv6", "tcp"]);
        let long = chain(MAX_IPV6_EXT_HEADERS + 1);
        let p = raw(&long);
        assert_eq!(layers(&p), ["ipv6"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpv6ExtHeader]));
    }

    #[test]
    fn extension_lengths_are_checked() {
        // Routing header claiming 3*8+8 = 32 bytes inside a 16-byte payload.
        let mut ext = hex("0603 0000 0000 0000");
        ext.extend([0; 8]);
        let b = ipv6(ROUTING, &ext);
        assert_eq!(raw(&b).anomalies, anomalies(&[Anomaly::BadIpv6ExtHeader]));
        // The same header inside a payload that is long enough but cut by the snaplen.
        let mut ext = hex("0603 0000 0000 0000");
        ext.extend([0; 24]);
        ext.extend(tcp(0x02, &[]));
        let b = ipv6(ROUTING, &ext);
        let p = raw(&b);
        assert_eq!(layers(&p), ["ipv6", "tcp"]);
        let p = raw(&b[..40 + 20]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedIpv6]));
        assert_eq!(p.ip.map(|i| i.proto), Some(IpProto(ROUTING)));
        // Authentication header: length in 4-byte units minus 2 (RFC 4302 §2.2): 4 -> 24.
        let mut ext = vec![6, 4, 0, 0];
        ext.extend([0; 20]);
        ext.extend(tcp(0x02, &[]));
        let b = ipv6(AH, &ext);
        let p = raw(&b);
        assert_eq!(layers(&p), ["ipv6", "tcp"]);
        assert_eq!(p.ip.map(|i| i.header_len), Some(64));
    }

    /// tcpdump `bigtcp-ipv6.pcap` frame 1 (80,054 bytes; cut here after the TCP options):
    /// 2604:1380:4091:ce00::b -> ::d, payload length 0 without a hop-by-hop header (a BIG TCP
    /// segment as captured on the sender), TCP 43267 -> 41219 PSH ACK. tshark: `ipv6`, then
    /// "Malformed Packet: TCP", no `tcp`.
    const BIGTCP_NO_JUMBO: &str = "
        b8ce f604 8b14 d4af f7db 4897 86dd 6008
        1ccd 0000 063d 2604 1380 4091 ce00 0000
        0000 0000 000b 2604 1380 4091 ce00 0000
        0000 0000 000d a903 a103 8707 a699 e584
        0de4 8018 01aa c8cb 0000 0101 080a d470
        19eb e643 040c 6e65 7470";

    #[test]
    fn payload_length_zero_needs_a_jumbo_option() {
        let b = hex(BIGTCP_NO_JUMBO);
        let p = crate::testutil::eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv6"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpv6ExtHeader]));
        // tcpdump `icmpv6-length-zero.pcapng` shows tshark's exception: ICMPv6 is counted.
        let mut v = b.clone();
        v[20] = ICMPV6;
        let pv = crate::testutil::eth(&v);
        assert_eq!(layers(&pv), ["eth", "ipv6", "icmpv6"]);
        assert_eq!(pv.transport, Transport::None);
        let ip = p.ip.expect("ip");
        assert_eq!((ip.proto, ip.header_len), (IpProto::TCP, 40));
        assert_eq!(p.transport, Transport::None);
        // With a hop-by-hop header holding a Jumbo Payload option (RFC 2675 §2: type 0xC2,
        // length 4; Linux BIG TCP), the captured bytes are the payload.
        let mut ext = vec![6, 0, 0xC2, 4];
        ext.extend(80_040u32.to_be_bytes());
        ext.extend(tcp(0x10, b"big"));
        let mut j = ipv6(HOPOPT, &ext);
        j[4..6].copy_from_slice(&[0, 0]);
        let p = raw(&j);
        assert_eq!(layers(&p), ["ipv6", "tcp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(p.payload, b"big");
        // A hop-by-hop header without it (PadN only): as without one.
        j[42..48].copy_from_slice(&[1, 4, 0, 0, 0, 0]);
        let p = raw(&j);
        assert_eq!(layers(&p), ["ipv6"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpv6ExtHeader]));
    }

    #[test]
    fn no_next_header_and_flow_label() {
        let b = ipv6(NO_NEXT_HEADER, b"ignored");
        let p = raw(&b);
        assert_eq!(layers(&p), ["ipv6"]);
        assert!(p.anomalies.is_empty());
        // Payload length 0 and no next header: nothing to read, nothing wrong.
        let mut z = b.clone();
        z[4..6].copy_from_slice(&[0, 0]);
        assert!(raw(&z).anomalies.is_empty());
        let mut b = ipv6(6, &tcp(0x10, b"big"));
        b[0..4].copy_from_slice(&[0x6b, 0x81, 0x23, 0x45]); // TC 0xb8 (EF), flow 0x12345
        let p = raw(&b);
        assert_eq!(p.payload, b"big");
        let ip = p.ip.expect("ip");
        assert_eq!((ip.dscp, ip.flow_label, ip.total_len), (46, 0x12345, 63));
        // Short fixed header.
        let p = raw(&b[..39]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedIpv6]));
        assert!(p.ip.is_none());
    }
}
