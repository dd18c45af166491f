//! Cisco HDLC (LINKTYPE_C_HDLC, and PPP links whose frames start with a Cisco address): an
//! address byte (0x0F unicast, 0x8F broadcast), a control byte, then a 2-byte protocol that
//! takes EtherType values.
//!
//! Wireshark looks the protocol up in its own `chdlc.protocol` table, not the EtherType one:
//! IPv4, IPv6 and MPLS are followed; SLARP (0x8035, which as an EtherType would be RARP), CDP
//! and OSI end the decode, as does any other value.

use crate::bytes::{u16_at, Field, Region};
use crate::decoder::Cx;
use crate::ethernet::{self, ethertype};
use crate::{ipv6, mpls, Anomaly, Layer};

/// The Cisco HDLC header.
mod field {
    use super::Field;
    #[allow(
        dead_code,
        reason = "documents the layout; unicast and broadcast frames decode alike"
    )]
    pub const ADDRESS: usize = 0;
    #[allow(dead_code, reason = "documents the layout; always 0x00")]
    pub const CONTROL: usize = 1;
    pub const PROTOCOL: Field = 2..4;
    pub const HEADER_LEN: usize = 4;
}

/// Decodes a Cisco HDLC frame ([`Layer::Cooked`]) and what its protocol names.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    if r.bytes.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    protocol(
        u16_at(r.bytes, field::PROTOCOL),
        r.advance(field::HEADER_LEN),
        cx,
    );
}

/// Follows a Cisco HDLC protocol value (also used by Frame Relay's Cisco encapsulation).
/// Returns whether Wireshark knows the value (and so takes the frame as Cisco encapsulated).
pub(crate) fn protocol<'a>(t: u16, r: Region<'a>, cx: &mut Cx<'a, '_>) -> bool {
    match t {
        ethertype::IPV4 => ethernet::ipv4_ethertype(r, cx),
        ethertype::IPV6 => ipv6::decode(r, cx),
        ethertype::MPLS_UNICAST | ethertype::MPLS_MULTICAST => mpls::decode(r, cx),
        SLARP | CDP | OSI => {}
        _ => return false,
    }
    true
}

/// Cisco Serial Line ARP (keepalives and address requests).
const SLARP: u16 = 0x8035;
/// Cisco Discovery Protocol.
const CDP: u16 = 0x2000;
/// OSI network layer (CLNP, IS-IS, ES-IS) by NLPID.
const OSI: u16 = 0xFEFE;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, hex, layers};
    use crate::{decode, LinkType, Transport};

    /// tcpdump `HDLC.pcap` frame 7, cut after the ICMP header: Cisco HDLC unicast (0x0F),
    /// control 0x00, protocol IPv4; 10.0.0.1 -> 10.0.0.2 ICMP echo request id 0 seq 0.
    const CHDLC_ICMP: &str = "
        0f00 0800 4500 0064 0000 0000 ff01 a796
        0a00 0001 0a00 0002 0800 320b 0000 0000";

    #[test]
    fn chdlc_ipv4_icmp() {
        let b = hex(CHDLC_ICMP);
        let p = decode(LinkType::C_HDLC, &b);
        assert_eq!(layers(&p), ["ipv4", "icmp", "cooked"]);
        assert!(p.eth.is_none());
        let Transport::Icmp(i) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!((i.icmp_type, i.ident, i.seq), (8, 0, 0));
        // The same frame on a PPP link: recognised by its Cisco address.
        assert_eq!(
            layers(&decode(LinkType::PPP, &b)),
            ["ipv4", "icmp", "cooked"]
        );
    }

    #[test]
    fn chdlc_slarp_and_short() {
        // `HDLC.pcap` frame 1, a SLARP keepalive: not RARP, although 0x8035 is RARP's
        // EtherType.
        let b = hex("8f00 8035 0000 0002 0000 0005 0000 0002 ffff 0078 f0a2 0000");
        let p = decode(LinkType::C_HDLC, &b);
        assert_eq!(layers(&p), ["cooked"]);
        assert!(p.anomalies.is_empty());
        let p = decode(LinkType::C_HDLC, &b[..3]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
    }
}
