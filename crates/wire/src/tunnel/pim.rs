//! PIM-SM Register messages (RFC 7761 §4.9.3): the multicast packet a designated router
//! tunnels to the rendezvous point. Other PIM messages carry no packet.

use crate::bytes::{u8_at, Region};
use crate::decoder::Cx;
use crate::{ipv4, ipv6, Anomaly};

/// PIM header (RFC 7761 §4.9): version (4 bits), type (4), reserved, checksum; then the
/// Register message's B and N bits and reserved bits (4 bytes).
mod field {
    pub const VER_TYPE: usize = 0;
    pub const REGISTER_HEADER_LEN: usize = 8;
    /// Version 2, type 1 (Register).
    pub const V2_REGISTER: u8 = 0x21;
}

/// Decodes a PIM message from `r` (IP protocol 103, at least one byte captured): for a
/// Register, the IPv4 or IPv6 packet inside (by its version nibble, as Wireshark does; a
/// Null-Register's dummy IP header counts too).
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    if u8_at(b, field::VER_TYPE) != field::V2_REGISTER {
        return;
    }
    if b.len() < field::REGISTER_HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    let inner = r.advance(field::REGISTER_HEADER_LEN);
    let version = match inner.bytes.first() {
        Some(v) => v >> 4,
        None => return,
    };
    if !matches!(version, 4 | 6) || !cx.enter_tunnel() {
        return;
    }
    if version == 4 {
        ipv4::decode(inner, cx)
    } else {
        ipv6::decode(inner, cx)
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::{anomalies, eth, hex, ipv4, layers, udp};
    use crate::{decode, Anomaly, LinkType, Transport};
    use std::net::{IpAddr, Ipv4Addr};

    /// tcpdump `PIM_register_register-stop.pcap` frame 1: 192.168.0.6 -> 192.168.1.254 PIMv2
    /// Register (B and N clear), inner 192.168.20.10 -> 239.1.2.3 ICMP echo request id 3
    /// seq 0.
    const PIM_REGISTER: &str = "
        cc05 061c f000 cc06 061c f001 0800 4500
        0080 015e 0000 ff67 3664 c0a8 0006 c0a8
        01fe 2100 deff 0000 0000 4500 0064 000f
        0000 fe01 f6d2 c0a8 140a ef01 0203 0800
        90e1 0003 0000 0000 0000 0000 0005 ed60
        abcd abcd abcd abcd abcd abcd abcd abcd
        abcd abcd abcd abcd abcd abcd abcd abcd
        abcd abcd abcd abcd abcd abcd abcd abcd
        abcd abcd abcd abcd abcd abcd abcd abcd";

    #[test]
    fn pim_register_carries_a_packet() {
        let b = hex(PIM_REGISTER);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "icmp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(
            p.ip.map(|i| i.dst),
            Some(IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3)))
        );
        assert!(matches!(p.transport, Transport::Icmp(i) if i.ident == 3));
        assert_eq!((p.tunnel_depth, p.tunnel_udp), (1, None));
        let p = eth(&b[..14 + 20 + 6]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
    }

    #[test]
    fn other_pim_messages_carry_nothing() {
        // Hello (type 0) and Register-Stop (type 2) with an IPv4-looking body.
        for t in [0x20, 0x22] {
            let mut m = vec![t, 0, 0, 0, 0, 0, 0, 0];
            m.extend(ipv4(17, &udp(1, 2, &[])));
            let pkt = ipv4(103, &m);
            let p = decode(LinkType::RAW, &pkt);
            assert_eq!(layers(&p), ["ipv4"]);
        }
    }
}
