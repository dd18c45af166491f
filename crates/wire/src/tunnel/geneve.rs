//! Geneve (RFC 8926 §3.4): an 8-byte header, options, then the packet its protocol type names.

use crate::bytes::{u16_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::ethernet::{self, ethertype, ETHERTYPE_MIN};
use crate::Anomaly;

/// Geneve header (RFC 8926 §3.4).
mod field {
    use super::Field;
    /// Version (2 bits), options length (6 bits, in 4-byte words).
    pub const VER_OPT_LEN: usize = 0;
    #[allow(dead_code, reason = "documents the layout; O and C are not reported")]
    pub const FLAGS: usize = 1;
    pub const PROTOCOL_TYPE: Field = 2..4;
    #[allow(dead_code, reason = "documents the layout; the VNI is not reported")]
    pub const VNI: Field = 4..7;
    pub const HEADER_LEN: usize = 8;
    pub const OPT_LEN_MASK: u8 = 0x3F;
    pub const OPT_UNIT: usize = 4;
}

/// Decodes a Geneve header from `r` (at least one byte captured) and the frame or packet
/// after its options, dispatched by EtherType (0x6558: Ethernet). The options area is at
/// most 252 bytes (6 bits of 4-byte words) and is skipped, not walked.
///
/// RFC 8926 §3.4 has receivers drop versions other than 0; like Wireshark, the header is
/// read the same way whatever the version.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    let opts = usize::from(u8_at(b, field::VER_OPT_LEN) & field::OPT_LEN_MASK) * field::OPT_UNIT;
    let len = field::HEADER_LEN + opts;
    if b.len() < len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    if !cx.enter_tunnel() {
        return;
    }
    let inner = r.advance(len);
    match u16_at(b, field::PROTOCOL_TYPE) {
        ethertype::TEB => ethernet::decode(inner, cx),
        t if t >= ETHERTYPE_MIN => ethernet::dispatch(t, inner, cx),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::{anomalies, eth, hex, ipv4, layers, tcp, udp};
    use crate::{decode, Anomaly, LinkType, Transport};
    use std::net::{IpAddr, Ipv4Addr};

    /// tcpdump `geneve-gcp.pcap` frame 1: 192.168.100.254:62974 -> 192.168.100.3:6081,
    /// Geneve version 0 with 40 bytes of Google options, protocol type IPv4, inner
    /// 192.168.100.2:2905 -> 192.168.100.1:8080 TCP ACK.
    const GENEVE_GCP: &str = "
        4201 c0a8 6403 4201 c0a8 64fe 0800 4500
        0074 0000 4000 0211 2e27 c0a8 64fe c0a8
        6403 f5fe 17c1 0060 0000 0a00 0800 0000
        0000 0132 0101 8000 00d1 0132 0204 0800
        000d c0a8 6402 0000 0000 0000 0000 0132
        0302 0000 0000 0000 1234 4500 0028 d944
        0000 4006 5837 c0a8 6402 c0a8 6401 0b59
        1f90 2d5a de40 78e9 bfda 5000 0200 f547
        0000";

    #[test]
    fn geneve_with_options_carrying_ipv4() {
        let b = hex(GENEVE_GCP);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "tcp", "udp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(
            p.ip.map(|i| i.src),
            Some(IpAddr::V4(Ipv4Addr::new(192, 168, 100, 2)))
        );
        assert!(matches!(p.transport, Transport::Tcp(t) if t.dst_port == 8080));
        let c = p.tunnel_udp.expect("carrier");
        assert_eq!((c.src_port, c.dst_port, c.ip_total_len), (62974, 6081, 116));
        // Cut inside the options.
        let p = eth(&b[..14 + 20 + 8 + 20]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 6081));
    }

    #[test]
    fn geneve_ethernet_payload() {
        let frame = crate::testutil::ether(0x0800, &ipv4(6, &tcp(0x02, &[])));
        let mut g = vec![0, 0, 0x65, 0x58, 0, 0, 1, 0];
        g.extend(&frame);
        let b = ipv4(17, &udp(40000, 6081, &g));
        let p = decode(LinkType::RAW, &b);
        assert_eq!(layers(&p), ["eth", "ipv4", "tcp", "udp"]);
        assert_eq!(p.tunnel_depth, 1);
        // An unknown protocol type: the carrier stays the packet.
        g[2..4].copy_from_slice(&[0x12, 0x34]);
        let b = ipv4(17, &udp(40000, 6081, &g));
        let p = decode(LinkType::RAW, &b);
        assert!(matches!(p.transport, Transport::Udp(_)) && p.tunnel_udp.is_none());
    }
}
