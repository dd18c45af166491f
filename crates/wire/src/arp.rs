//! ARP (RFC 826). Every ARP packet counts as [`Layer::Arp`]; only Ethernet/IPv4 ARP — the
//! only kind with 6-byte hardware and 4-byte protocol addresses — fills [`ArpInfo`].

use crate::bytes::{array_at, u16_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{Anomaly, ArpInfo, Layer};

/// The fixed part of the header (RFC 826 "Packet format").
mod field {
    use super::Field;
    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const FIXED_LEN: usize = 8;
}

/// The addresses of Ethernet/IPv4 ARP, after the fixed part.
mod eth_ipv4 {
    use super::Field;
    pub const SHA: Field = 8..14;
    pub const SPA: Field = 14..18;
    pub const THA: Field = 18..24;
    pub const TPA: Field = 24..28;
    pub const LEN: usize = 28;
}

const HTYPE_ETHERNET: u16 = 1;
const PTYPE_IPV4: u16 = 0x0800;

pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    if !cx.begin(b, Layer::Arp, Anomaly::TruncatedArp) {
        return;
    }
    if b.len() < field::FIXED_LEN {
        cx.anomaly(Anomaly::TruncatedArp);
        return;
    }
    let hlen = usize::from(u8_at(b, field::HLEN));
    let plen = usize::from(u8_at(b, field::PLEN));
    // Two hardware and two protocol addresses follow the fixed part (at most 8 + 2*510).
    if b.len() < field::FIXED_LEN + 2 * (hlen + plen) {
        cx.anomaly(Anomaly::TruncatedArp);
        return;
    }
    let is_eth_ipv4 = u16_at(b, field::HTYPE) == HTYPE_ETHERNET
        && u16_at(b, field::PTYPE) == PTYPE_IPV4
        && hlen == 6
        && plen == 4;
    if is_eth_ipv4 && b.len() >= eth_ipv4::LEN {
        cx.pkt.arp = Some(ArpInfo {
            op: u16_at(b, field::OPER),
            sender_mac: array_at(b, eth_ipv4::SHA),
            sender_ip: array_at(b, eth_ipv4::SPA),
            target_mac: array_at(b, eth_ipv4::THA),
            target_ip: array_at(b, eth_ipv4::TPA),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, ether, hex, layers};
    use crate::{decode, LinkType};

    /// The ARP request inside tcpdump's `802.1ad_QinQ.pcap` frame 1: who-has 172.21.79.100
    /// tell 172.21.79.97 (00:20:d2:5a:fb:3f).
    const ARP_REQUEST: &str = "
        0001 0800 0604 0001 0020 d25a fb3f ac15
        4f61 0000 0000 0000 ac15 4f64";

    #[test]
    fn ethernet_ipv4_arp() {
        let b = ether(0x0806, &hex(ARP_REQUEST));
        let p = decode(LinkType::ETHERNET, &b);
        assert_eq!(layers(&p), ["eth", "arp"]);
        let a = p.arp.expect("arp");
        assert_eq!(
            (a.op, a.sender_ip, a.target_mac),
            (1, [172, 21, 79, 97], [0; 6])
        );
        assert!(p.ip.is_none());
    }

    #[test]
    fn other_hardware_counts_but_is_not_reported() {
        // IEEE 802 hardware type (6) with the same address sizes, and a Frame Relay-like
        // type with 2-byte hardware addresses.
        let mut b = hex(ARP_REQUEST);
        b[1] = 6;
        let p = decode(LinkType::ETHERNET, &ether(0x0806, &b)).arp;
        assert!(p.is_none());
        let fr = hex("000f 0800 0204 0001 0001 0a00 0001 0002 0a00 0002");
        let f = ether(0x0806, &fr);
        let p = decode(LinkType::ETHERNET, &f);
        assert_eq!(layers(&p), ["eth", "arp"]);
        assert!(p.arp.is_none() && p.anomalies.is_empty());
    }

    #[test]
    fn truncated_arp() {
        let b = ether(0x0806, &hex(ARP_REQUEST));
        for cut in [14 + 5, 14 + 20] {
            let p = decode(LinkType::ETHERNET, &b[..cut]);
            assert_eq!(layers(&p), ["eth", "arp"]);
            assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedArp]));
            assert!(p.arp.is_none());
        }
    }
}
