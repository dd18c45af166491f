//! ARP (RFC 826). Every ARP packet counts as [`Layer::Arp`]; only Ethernet/IPv4 ARP — the
//! only kind with 6-byte hardware and 4-byte protocol addresses — fills [`ArpInfo`].
//!
//! When it counts follows Wireshark's protocol hierarchy: as soon as the 2-byte hardware type
//! is captured (its ARP item is added before any other field is read), except for ATM ARP
//! (RFC 2225, hardware type 19), whose dissector reads every address before adding its item:
//! that one counts only when its whole, differently laid out, header was captured.

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
/// ARPHRD_ATM2225: ATM ARP (RFC 2225 §8.7), with its own header layout.
const HTYPE_ATM2225: u16 = 19;

/// ATM ARP (RFC 2225 §8.7): after hardware type, protocol type, the type-and-length bytes of
/// the sender's ATM number and subaddress, the operation, the sender's protocol address
/// length, and the target's three lengths.
mod atm {
    pub const SHTL: usize = 4;
    pub const SSTL: usize = 5;
    pub const SPLN: usize = 8;
    pub const THTL: usize = 9;
    pub const TSTL: usize = 10;
    pub const TPLN: usize = 11;
    pub const FIXED_LEN: usize = 12;
    /// The length part of a type-and-length byte.
    pub const LEN_MASK: u8 = 0x3F;
}
const PTYPE_IPV4: u16 = 0x0800;

pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    if b.len() < field::HTYPE.end {
        cx.anomaly(Anomaly::TruncatedArp);
        return;
    }
    if u16_at(b, field::HTYPE) == HTYPE_ATM2225 {
        return atm_arp(b, cx);
    }
    cx.layer(Layer::Arp);
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

/// ATM ARP: counted once its whole header is captured; nothing of it is reported.
#[cold]
fn atm_arp(b: &[u8], cx: &mut Cx<'_, '_>) {
    let len = |at: usize| usize::from(u8_at(b, at));
    let total = atm::FIXED_LEN
        + (len(atm::SHTL) & usize::from(atm::LEN_MASK))
        + (len(atm::SSTL) & usize::from(atm::LEN_MASK))
        + len(atm::SPLN)
        + (len(atm::THTL) & usize::from(atm::LEN_MASK))
        + (len(atm::TSTL) & usize::from(atm::LEN_MASK))
        + len(atm::TPLN);
    if b.len() < atm::FIXED_LEN || b.len() < total {
        cx.anomaly(Anomaly::TruncatedArp);
    } else {
        cx.layer(Layer::Arp);
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

    /// tcpdump `arp-oobr.pcap` frame 1166: hardware type 19 (ATM, RFC 2225) whose length
    /// bytes promise 312 bytes in a 46-byte packet: Wireshark's ATM ARP dissector gives up
    /// before adding its item, so this is not counted.
    const ATM_ARP_BOGUS: &str = "
        0013 0800 0604 0001 001f 29da 2d79 c0a8
        0168 0000 0000 0000 c0a8 0101 0000 0000
        0000 0000 0000 0000 0000 0000 0000";

    #[test]
    fn atm_arp_counts_only_when_complete() {
        let f = ether(0x0806, &hex(ATM_ARP_BOGUS));
        let p = decode(LinkType::ETHERNET, &f);
        assert_eq!(layers(&p), ["eth"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedArp]));
        // A complete ATM ARP header with empty addresses.
        let atm = hex("0013 0800 0000 0001 0000 0000");
        let f = ether(0x0806, &atm);
        let p = decode(LinkType::ETHERNET, &f);
        assert_eq!(layers(&p), ["eth", "arp"]);
        assert!(p.arp.is_none());
    }

    /// tcpdump `getname_2_read4_asan.pcap` frame 1: RARP EtherType, hardware type 0xff00,
    /// zero-length addresses, operation 4 (reverse reply): the whole packet is 8 bytes.
    #[test]
    fn rarp_with_empty_addresses() {
        let b = hex("000c ff7f 9677 c0c1 c0a0 0064 8035 ff00 8b01 0000 0004");
        let p = decode(LinkType::ETHERNET, &b);
        assert_eq!(layers(&p), ["eth", "arp"]);
        assert!(p.anomalies.is_empty());
        // One byte of ARP is not enough for Wireshark's item; two are.
        let p = decode(LinkType::ETHERNET, &b[..15]);
        assert_eq!(layers(&p), ["eth"]);
        assert_eq!(
            layers(&decode(LinkType::ETHERNET, &b[..16])),
            ["eth", "arp"]
        );
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
