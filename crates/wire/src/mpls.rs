//! MPLS label stacks (RFC 3032 §2.1), followed by IPv4 or IPv6.

use crate::bytes::{u32_at, Field, Region};
use crate::decoder::Cx;
use crate::{ethernet, ipv4, ipv6, Anomaly, Layer};

/// The pseudowire control word before an Ethernet frame (RFC 4448 §3): first nibble 0.
const CONTROL_WORD_LEN: usize = 4;

/// One label stack entry: label (20 bits), traffic class (3), bottom of stack (1), TTL (8).
mod field {
    use super::Field;
    pub const ENTRY: Field = 0..4;
    pub const ENTRY_LEN: usize = 4;
    pub const BOTTOM_OF_STACK: u32 = 0x100;
}

/// Most label stack entries followed; more set [`Anomaly::TooManyEncapsulations`]. Real stacks
/// carry a transport, a service and an entropy label pair (RFC 6790) — five at most.
pub const MAX_MPLS_LABELS: usize = 8;

/// Walks the label stack to the bottom-of-stack entry, then decodes IPv4/IPv6 by the first
/// nibble (RFC 3032 §2.2: the payload type is implied by the label; MPLS routers look at the
/// version nibble the same way). A first nibble of 0 is, as Wireshark guesses by default, a
/// pseudowire control word followed by an Ethernet frame (RFC 4448), one more encapsulation.
/// Anything else ends the decode.
pub(crate) fn decode<'a>(mut r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if !cx.begin(r.bytes, Layer::Mpls, Anomaly::TruncatedLink) {
        return;
    }
    for _ in 0..MAX_MPLS_LABELS {
        if r.bytes.len() < field::ENTRY_LEN {
            cx.anomaly(Anomaly::TruncatedLink);
            return;
        }
        let entry = u32_at(r.bytes, field::ENTRY);
        r = r.advance(field::ENTRY_LEN);
        if entry & field::BOTTOM_OF_STACK != 0 {
            match r.bytes.first().map(|b| b >> 4) {
                Some(4) => ipv4::decode(r, cx),
                Some(6) => ipv6::decode(r, cx),
                Some(0) if r.bytes.len() > CONTROL_WORD_LEN && cx.enter_tunnel() => {
                    ethernet::decode(r.advance(CONTROL_WORD_LEN), cx)
                }
                _ => {}
            }
            return;
        }
    }
    cx.anomaly(Anomaly::TooManyEncapsulations);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, eth, ether, hex, ipv4, layers, udp};
    use crate::{IcmpInfo, Transport};

    /// Arkime `mpls-basic.pcap`, first MPLS frame, cut after the ICMP header: one label (29,
    /// bottom of stack, TTL 255), 10.1.2.1 -> 10.34.0.1 ICMP echo request id 2617 seq 1579.
    const MPLS_ICMP: &str = "
        0030 96e6 fc39 0030 9605 2838 8847 0001
        d1ff 4500 0064 000a 0000 ff01 a56a 0a01
        0201 0a22 0001 0800 3a77 0a39 062b";

    #[test]
    fn single_label_then_ipv4() {
        let b = hex(MPLS_ICMP);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "icmp", "mpls"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let want = IcmpInfo {
            icmp_type: 8,
            code: 0,
            ident: 2617,
            seq: 1579,
        };
        assert_eq!(p.transport, Transport::Icmp(want));
        assert_eq!(p.eth.map(|e| e.ethertype), Some(0x8847));
    }

    fn stack(labels: usize, bottom: bool, payload: &[u8]) -> Vec<u8> {
        let mut s = Vec::new();
        for i in 0..labels {
            let bos = if bottom && i + 1 == labels { 0x100 } else { 0 };
            s.extend(((16 + i as u32) << 12 | bos | 64).to_be_bytes());
        }
        s.extend(payload);
        ether(0x8847, &s)
    }

    #[test]
    fn label_stack_is_bounded() {
        let ip = ipv4(17, &udp(1, 2, &[]));
        let b = stack(MAX_MPLS_LABELS, true, &ip);
        assert_eq!(layers(&eth(&b)), ["eth", "ipv4", "udp", "mpls"]);
        let b = stack(MAX_MPLS_LABELS + 1, true, &ip);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "mpls"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TooManyEncapsulations]));
        // Cut inside the stack.
        let b = stack(2, true, &ip);
        assert_eq!(
            eth(&b[..14 + 6]).anomalies,
            anomalies(&[Anomaly::TruncatedLink])
        );
        // A pseudowire control word (first nibble 0) with nothing after it: not an anomaly.
        let b = stack(1, true, &[0, 0, 0, 0]);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "mpls"]);
        assert!(p.anomalies.is_empty());
    }

    /// PcapPlusPlus `MplsPackets.pcap` frame 2, cut after the ICMP header: labels 18 and 16
    /// (bottom), a zero pseudowire control word, then an Ethernet frame with VLAN 1 carrying
    /// 192.168.1.2 -> 192.168.1.1 ICMP echo reply.
    const MPLS_PW_ETH: &str = "
        cc04 04dc 0010 cc03 04dc 0010 8847 0001
        20fe 0001 01ff 0000 0000 cc07 0d08 0000
        cc00 0a64 0000 8100 0001 0800 4500 0064
        0007 0000 ff01 383e c0a8 0102 c0a8 0101
        0000 bb2a 0001 0002";

    #[test]
    fn ethernet_pseudowire_with_control_word() {
        let b = hex(MPLS_PW_ETH);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "vlan", "ipv4", "icmp", "mpls"]);
        assert_eq!(p.tunnel_depth, 1);
        assert_eq!(p.vlan, Some(1));
        let Transport::Icmp(i) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!((i.icmp_type, i.ident, i.seq), (0, 1, 2));
    }
}
