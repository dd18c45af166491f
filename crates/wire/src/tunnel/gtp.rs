//! GTP-U, GTP version 1 for user data (3GPP TS 29.281 §5): the header with its optional
//! fields and extension header chain, then, for a G-PDU, the user's IP packet.

use crate::bytes::{u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{ipv4, ipv6, ppp, Anomaly};

/// GTPv1 header (TS 29.281 §5.1).
mod field {
    use super::Field;
    /// Version (3 bits), protocol type (1), spare, E, S, PN.
    pub const FLAGS: usize = 0;
    pub const MESSAGE_TYPE: usize = 1;
    #[allow(
        dead_code,
        reason = "documents the layout; the payload is bounded by UDP"
    )]
    pub const LENGTH: Field = 2..4;
    #[allow(
        dead_code,
        reason = "documents the layout; the tunnel id is not reported"
    )]
    pub const TEID: Field = 4..8;
    pub const HEADER_LEN: usize = 8;
    /// Sequence number (2), N-PDU number (1), next extension header type (1): present when
    /// any of E, S, PN is set.
    pub const OPTIONAL_LEN: usize = 4;
    pub const NEXT_EXTENSION: usize = 11;
    pub const VERSION_SHIFT: u8 = 5;
    pub const VERSION_1: u8 = 1;
    /// PT: 1 = GTP, 0 = GTP' (charging, not a tunnel).
    pub const PT: u8 = 0x10;
    pub const E_S_PN: u8 = 0x07;
    pub const E: u8 = 0x04;
}

/// G-PDU: the message carrying a user packet (TS 29.281 §6.1).
const G_PDU: u8 = 255;
/// Extension headers followed: real traffic uses one or two (PDU session container,
/// UDP port, PDCP number); each is at least 4 bytes.
const MAX_EXTENSION_HEADERS: usize = 8;
/// Extension header length unit (TS 29.281 §5.2.1: "in 4 octets units").
const EXTENSION_UNIT: usize = 4;

/// Decodes a GTPv1-U header from `r` (at least one byte captured) and, for a G-PDU, the IP
/// packet it carries. Other versions and messages (echo, error indication, end marker) end
/// the decode at the carrier.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    let flags = u8_at(b, field::FLAGS);
    if flags >> field::VERSION_SHIFT != field::VERSION_1 || flags & field::PT == 0 {
        return;
    }
    let mut len = field::HEADER_LEN;
    if flags & field::E_S_PN != 0 {
        len += field::OPTIONAL_LEN;
    }
    if b.len() < len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    if flags & field::E != 0 {
        // Each extension header: length (in 4-byte units, itself included), contents, and
        // the type of the next one in its last byte; type 0 ends the chain.
        let mut next = u8_at(b, field::NEXT_EXTENSION);
        let mut followed = 0;
        while next != 0 {
            if followed == MAX_EXTENSION_HEADERS {
                return;
            }
            let Some(&units) = b.get(len) else {
                cx.anomaly(Anomaly::TruncatedTunnel);
                return;
            };
            if units == 0 {
                // Malformed (Wireshark stops here too): no packet to find after it.
                return;
            }
            len += usize::from(units) * EXTENSION_UNIT;
            if b.len() < len {
                cx.anomaly(Anomaly::TruncatedTunnel);
                return;
            }
            next = u8_at(b, len - 1);
            followed += 1;
        }
    }
    if u8_at(b, field::MESSAGE_TYPE) != G_PDU {
        return;
    }
    let inner = r.advance(len);
    let Some(&first) = inner.bytes.first() else {
        return;
    };
    if !cx.enter_tunnel() {
        return;
    }
    // Wireshark's heuristic: IPv4 with a plausible header length (0x4f is more likely PPP
    // with a compressed protocol field), IPv6, else PPP.
    match first {
        0x45..=0x4E => ipv4::decode(inner, cx),
        f if f >> 4 == 6 => ipv6::decode(inner, cx),
        _ => ppp::ppp(inner, cx, Anomaly::TruncatedTunnel),
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::{anomalies, hex, ipv4, layers, udp};
    use crate::{decode, Anomaly, LinkType, Transport, TunnelUdp};
    use std::net::{IpAddr, Ipv4Addr};

    /// PcapPlusPlus `gtp.pcap` frame 4: 192.168.40.179:2152 -> 192.168.40.178:2152, GTPv1-U
    /// flags 0x36 (E and S), T-PDU, length 92, TEID 1, seq 10461, next extension 0xc0 (PDCP
    /// PDU number: 1 unit, number 2308, then 0x00 = no more), inner 202.11.40.158 ->
    /// 192.168.40.178 ICMP echo request id 0 seq 10365, 56 data bytes.
    const GTP_ICMP: &str = "
        000c 29da d1de 000c 29e3 c64d 0800 4500
        0080 0000 4000 4011 67b7 c0a8 28b3 c0a8
        28b2 0868 0868 006c b58d 36ff 005c 0000
        0001 28dd 00c0 0109 0400 4500 0054 0000
        4000 4001 5ea5 ca0b 289e c0a8 28b2 0800
        31e9 0000 287d 0611 204b 7f3a 0d00 0809
        0a0b 0c0d 0e0f 1011 1213 1415 1617 1819
        1a1b 1c1d 1e1f 2021 2223 2425 2627 2829
        2a2b 2c2d 2e2f 3031 3233 3435 3637";

    #[test]
    fn gtp_u_with_extension_header_carrying_icmp() {
        let b = hex(GTP_ICMP);
        let p = crate::testutil::eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp", "icmp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let ip = p.ip.expect("inner ip");
        assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(202, 11, 40, 158)));
        assert!(matches!(p.transport, Transport::Icmp(i) if i.ident == 0 && i.seq == 10365));
        assert_eq!(p.payload.len(), 56);
        assert_eq!(p.tunnel_depth, 1);
        let carrier = TunnelUdp {
            src: IpAddr::V4(Ipv4Addr::new(192, 168, 40, 179)),
            dst: IpAddr::V4(Ipv4Addr::new(192, 168, 40, 178)),
            src_port: 2152,
            dst_port: 2152,
            ip_total_len: 128,
        };
        assert_eq!(p.tunnel_udp, Some(carrier));
        // Cut inside the extension header: the carrier is the deepest readable.
        let p = crate::testutil::eth(&b[..14 + 20 + 8 + 13]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 2152));
        assert_eq!(p.tunnel_udp, None);
    }

    /// A GTPv1 header with `flags`, message type `msg` and `rest` (optional fields and
    /// extension headers), then `payload`, in UDP 2152 in IPv4.
    fn gtp(flags: u8, msg: u8, rest: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut g = vec![flags, msg];
        g.extend(((rest.len() + payload.len()) as u16).to_be_bytes());
        g.extend([0, 0, 0, 7]);
        g.extend(rest);
        g.extend(payload);
        ipv4(17, &udp(40000, 2152, &g))
    }

    #[test]
    fn gtp_u_messages_and_chains() {
        let inner = ipv4(17, &udp(53, 53, b"q"));
        // Plain G-PDU (no optional fields).
        let pkt = gtp(0x30, 255, &[], &inner);
        let p = decode(LinkType::RAW, &pkt);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 53));
        assert!(p.tunnel_udp.is_some_and(|c| c.dst_port == 2152));
        // Echo request (type 1), GTP' (PT 0), version 2: no inner packet.
        for (flags, msg) in [(0x32, 1), (0x20, 255), (0x48, 255)] {
            let pkt = gtp(flags, msg, &[0; 4], &inner);
            let p = decode(LinkType::RAW, &pkt);
            assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 2152));
            assert_eq!(p.tunnel_udp, None);
            assert!(p.anomalies.is_empty());
        }
        // Two extension headers (PDU session container, then an unknown one of 2 units).
        let chain = [0, 0, 0, 0x85, 1, 0x10, 9, 0x40, 2, 0, 0, 0, 0, 0, 0, 0];
        let pkt = gtp(0x34, 255, &chain, &inner);
        let p = decode(LinkType::RAW, &pkt);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 53));
        // A zero extension length ends the decode without an inner packet.
        let bad = [0, 0, 0, 0x85, 0, 0, 0, 0];
        let pkt = gtp(0x34, 255, &bad, &inner);
        let p = decode(LinkType::RAW, &pkt);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 2152));
        // An endless chain is cut off.
        let mut long = vec![0, 0, 0, 0x85];
        for _ in 0..20 {
            long.extend([1, 0, 0, 0x85]);
        }
        let pkt = gtp(0x34, 255, &long, &inner);
        let p = decode(LinkType::RAW, &pkt);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 2152));
        // PPP with address and control, protocol 0x0021.
        let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
        ppp.extend(&inner);
        let pkt = gtp(0x30, 255, &[], &ppp);
        let p = decode(LinkType::RAW, &pkt);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 53));
    }
}
