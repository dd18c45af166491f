//! Ethernet II and IEEE 802.3 frames, 802.1Q / 802.1ad VLAN tags, 802.2 LLC / SNAP, and the
//! EtherType dispatch shared by every link that names its payload with an EtherType (Ethernet,
//! SLL, SNAP, GRE).

use crate::bytes::{array_at, u16_at, Field, Region};
use crate::decoder::Cx;
use crate::{arp, ipv4, ipv6, mpls, ppp, Anomaly, EthernetInfo, Layer};

/// Ethernet II header (IEEE 802.3 §3.1.1; RFC 894).
pub(crate) mod field {
    use super::Field;
    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    /// EtherType, or the frame's length for IEEE 802.3 frames.
    pub const ETHERTYPE: Field = 12..14;
    pub const HEADER_LEN: usize = 14;
}

/// One 802.1Q tag after its TPID (IEEE 802.1Q §9.6): TCI, then the next EtherType.
mod vlan {
    use super::Field;
    pub const TCI: Field = 0..2;
    pub const ETHERTYPE: Field = 2..4;
    pub const TAG_LEN: usize = 4;
    /// The VLAN identifier: the low 12 bits of the TCI.
    pub const VID_MASK: u16 = 0x0FFF;
}

/// IEEE 802.2 LLC header with an RFC 1042 SNAP extension.
mod snap {
    use super::Field;
    /// DSAP, SSAP and control: 0xAA 0xAA 0x03 (UI) announce SNAP.
    pub const LLC: Field = 0..3;
    pub const LLC_SNAP: [u8; 3] = [0xAA, 0xAA, 0x03];
    pub const OUI: Field = 3..6;
    pub const ETHERTYPE: Field = 6..8;
    pub const HEADER_LEN: usize = 8;
    /// RFC 1042 encapsulation, and IEEE 802.1H bridge tunnel: both carry an EtherType.
    pub const OUI_RFC1042: [u8; 3] = [0x00, 0x00, 0x00];
    pub const OUI_802_1H: [u8; 3] = [0x00, 0x00, 0xF8];
}

/// EtherType values (IEEE registry) the decoder follows.
pub(crate) mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    /// RFC 1701 "Transparent Ethernet Bridging": an Ethernet frame (in GRE).
    pub const TEB: u16 = 0x6558;
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86DD;
    pub const PPP: u16 = 0x880B;
    pub const MPLS_UNICAST: u16 = 0x8847;
    pub const MPLS_MULTICAST: u16 = 0x8848;
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// IEEE 802.1ad service tag (QinQ).
    pub const QINQ: u16 = 0x88A8;
    pub const ERSPAN_II: u16 = 0x88BE;
    pub const ERSPAN_III: u16 = 0x22EB;
    /// WCCP redirection in GRE (draft-wilson-wrec-wccp-v2-01 §4.12).
    pub const WCCP: u16 = 0x883E;
    /// Pre-standard QinQ tag some switches still send.
    pub const QINQ_OLD: u16 = 0x9100;
}

/// Field values from 0x0600 up are EtherTypes; up to 1500 they are an 802.3 length
/// (IEEE 802.3 §3.2.6). 1501..=1535 mean nothing and stop the decode.
pub(crate) const ETHERTYPE_MIN: u16 = 0x0600;
const MAX_8023_LENGTH: u16 = 1500;

/// Most VLAN tags followed in one frame; more set [`Anomaly::TooManyVlanTags`]. QinQ uses two;
/// four covers every stacking seen in practice (PcapPlusPlus and tcpdump test captures).
pub const MAX_VLAN_TAGS: usize = 4;

#[inline(always)]
fn is_vlan(t: u16) -> bool {
    matches!(t, ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD)
}

/// Decodes an Ethernet header (with any VLAN tags) and what follows.
#[inline]
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if !cx.begin(r.bytes, Layer::Eth, Anomaly::TruncatedLink) {
        return;
    }
    if r.bytes.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let t = u16_at(r.bytes, field::ETHERTYPE);
    let rest = r.advance(field::HEADER_LEN);
    let payload = if !is_vlan(t) {
        after_tags(t, rest)
    } else {
        match vlan_tags(t, rest, cx) {
            (t, rest, true) => after_tags(t, rest),
            (_, _, false) => None,
        }
    };
    if cx.pkt.eth.is_none() {
        cx.pkt.eth = Some(EthernetInfo {
            src: array_at(r.bytes, field::SOURCE),
            dst: array_at(r.bytes, field::DESTINATION),
            ethertype: payload.map_or(t, |(t, _)| t),
        });
    }
    if let Some((t, rest)) = payload {
        dispatch(t, rest, cx);
    }
}

/// Follows up to [`MAX_VLAN_TAGS`] VLAN tags starting with the type `t`. Returns the first
/// non-VLAN type, the region after the tags, and whether decoding may go on.
#[cold]
fn vlan_tags<'a>(mut t: u16, mut r: Region<'a>, cx: &mut Cx<'a, '_>) -> (u16, Region<'a>, bool) {
    let mut tags = 0;
    while is_vlan(t) {
        if !cx.begin(r.bytes, Layer::Vlan, Anomaly::TruncatedLink) {
            return (t, r, false);
        }
        if tags == MAX_VLAN_TAGS {
            cx.anomaly(Anomaly::TooManyVlanTags);
            return (t, r, false);
        }
        if r.bytes.len() < vlan::TAG_LEN {
            cx.anomaly(Anomaly::TruncatedLink);
            return (t, r, false);
        }
        if cx.pkt.vlan.is_none() {
            cx.pkt.vlan = Some(u16_at(r.bytes, vlan::TCI) & vlan::VID_MASK);
        }
        t = u16_at(r.bytes, vlan::ETHERTYPE);
        r = r.advance(vlan::TAG_LEN);
        tags += 1;
    }
    (t, r, true)
}

/// After the last VLAN tag: an EtherType, or an 802.3 length followed by LLC. Returns the
/// EtherType to dispatch and its payload, if any.
#[inline]
fn after_tags(t: u16, r: Region<'_>) -> Option<(u16, Region<'_>)> {
    if t >= ETHERTYPE_MIN {
        Some((t, r))
    } else if t <= MAX_8023_LENGTH {
        // The length excludes padding: bound the LLC payload by it.
        llc(r.bound(usize::from(t)))
    } else {
        None
    }
}

/// An 802.2 LLC frame: followed only when it is SNAP carrying an EtherType (RFC 1042 §3,
/// IEEE 802.1H); plain LLC (STP, CDP, NetBIOS ...) ends the decode at the link layer.
/// Returns the EtherType and its payload.
#[cold]
pub(crate) fn llc(r: Region<'_>) -> Option<(u16, Region<'_>)> {
    if r.bytes.len() < snap::HEADER_LEN || array_at::<3>(r.bytes, snap::LLC) != snap::LLC_SNAP {
        return None;
    }
    let oui = array_at::<3>(r.bytes, snap::OUI);
    if oui != snap::OUI_RFC1042 && oui != snap::OUI_802_1H {
        return None;
    }
    let t = u16_at(r.bytes, snap::ETHERTYPE);
    // Only a real EtherType, and not a VLAN tag: either would let SNAP and tags alternate
    // (a SNAP "length" would send us round the 802.3 path again).
    if t >= ETHERTYPE_MIN && !is_vlan(t) {
        Some((t, r.advance(snap::HEADER_LEN)))
    } else {
        None
    }
}

/// Dispatches a payload by EtherType. Unknown types end the decode (no anomaly: they are
/// simply protocols this decoder does not look into).
#[inline]
pub(crate) fn dispatch<'a>(t: u16, r: Region<'a>, cx: &mut Cx<'a, '_>) {
    match t {
        ethertype::IPV4 => ipv4::decode(r, cx),
        ethertype::IPV6 => ipv6::decode(r, cx),
        ethertype::ARP => arp::decode(r, cx),
        ethertype::MPLS_UNICAST | ethertype::MPLS_MULTICAST => mpls::decode(r, cx),
        ethertype::PPPOE_SESSION => ppp::pppoe_session(r, cx),
        // VLAN tags after SLL or GRE (Ethernet handles its own tags in `decode`). `vlan_tags`
        // consumes every tag and SNAP never yields one, so this recursion is one level deep.
        t if is_vlan(t) => {
            if let (t, rest, true) = vlan_tags(t, r, cx) {
                if let Some((t, rest)) = after_tags(t, rest) {
                    dispatch(t, rest, cx);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, eth, hex, layers};
    use crate::{tcp_flags, Transport};

    /// tcpdump `802.1ad_QinQ.pcap` frame 1: 802.1ad S-tag (VLAN 200), 802.1Q C-tag
    /// (VLAN 2001), ARP request who-has 172.21.79.100 tell 172.21.79.97, padded to 64 bytes.
    const QINQ_ARP: &str = "
        ffff ffff ffff 0020 d25a fb3f 88a8 00c8
        8100 07d1 0806 0001 0800 0604 0001 0020
        d25a fb3f ac15 4f61 0000 0000 0000 ac15
        4f64 0000 0000 0000 0000 0000 0000 0000";

    /// Arkime `twovlan.pcap` frame 1: two 802.1Q tags (VLAN 201, then 200 with PCP 4 and
    /// DEI), 10.0.0.1:54422 -> 10.0.0.2:80 SYN with MSS, SACK-perm, TS, NOP, WS. The IPv4
    /// header checksum is wrong in the capture (tshark: "0xef4c incorrect, should be 0x12d6").
    const TWO_VLAN_SYN: &str = "
        0009 0fdb f43e 000c 29c1 2d24 8100 00c9
        8100 90c8 0800 4500 003c 13e4 4000 4006
        ef4c 0a00 0001 0a00 0002 d496 0050 c127
        fde7 0000 0000 a002 7210 37ba 0000 0204
        05b4 0402 080a 3f02 ee03 0000 0000 0103
        0307";

    #[test]
    fn qinq_arp_reports_outer_vlan_and_inner_ethertype() {
        let b = hex(QINQ_ARP);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "vlan", "arp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(p.vlan, Some(200));
        let e = p.eth.expect("eth");
        assert_eq!(e.dst, [0xff; 6]);
        assert_eq!(e.src, [0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f]);
        assert_eq!(e.ethertype, ethertype::ARP);
        let a = p.arp.expect("arp");
        assert_eq!(a.op, 1);
        assert_eq!(
            (a.sender_ip, a.target_ip),
            ([172, 21, 79, 97], [172, 21, 79, 100])
        );
        assert_eq!(a.sender_mac, e.src);
    }

    #[test]
    fn two_8021q_tags_then_tcp() {
        let b = hex(TWO_VLAN_SYN);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "vlan", "ipv4", "tcp"]);
        // Flagged, and decoding goes on.
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpv4Checksum]));
        assert_eq!(p.vlan, Some(201));
        assert_eq!(p.eth.map(|e| e.ethertype), Some(ethertype::IPV4));
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!(
            (t.src_port, t.dst_port, t.flags),
            (54422, 80, tcp_flags::SYN)
        );
    }

    /// Ethernet header + `n` 802.1Q tags + an IPv4 EtherType and a minimal IPv4 header.
    fn tagged(n: usize) -> Vec<u8> {
        let mut b = hex("0009 0fdb f43e 000c 29c1 2d24");
        for i in 0..n {
            b.extend([0x81, 0x00, 0x00, i as u8 + 1]);
        }
        b.extend([0x08, 0x00]);
        b.extend(hex("4500 0014 0000 0000 4006 0000 0a00 0001 0a00 0002"));
        b
    }

    #[test]
    fn vlan_tags_are_bounded() {
        let (ok, over, cut) = (tagged(MAX_VLAN_TAGS), tagged(MAX_VLAN_TAGS + 1), tagged(1));
        let p = eth(&ok);
        assert!(p.layers.contains(Layer::Ipv4));
        assert_eq!(p.vlan, Some(1));
        let p = eth(&over);
        assert_eq!(layers(&p), ["eth", "vlan"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TooManyVlanTags]));
        // A tag cut in half.
        let p = eth(&cut[..16]);
        assert_eq!(layers(&p), ["eth", "vlan"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
    }

    #[test]
    fn short_ethernet_header_is_truncated_link() {
        let b = hex(TWO_VLAN_SYN);
        let p = eth(&b[..13]);
        assert_eq!(layers(&p), ["eth"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
        assert!(p.eth.is_none());
    }

    /// An IEEE 802.3 frame: length 38, LLC DSAP/SSAP 0x42 (spanning tree), as in tcpdump's
    /// `802.1D_spanning_tree.pcap`, padded to 60 bytes.
    #[test]
    fn llc_frame_counts_eth_and_stops() {
        let mut b = hex("0180 c200 0000 0004 9a2c 7d81 0026 4242 03");
        b.resize(60, 0);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth"]);
        assert!(p.anomalies.is_empty());
        assert_eq!(p.eth.map(|e| e.ethertype), Some(0x0026));
    }

    #[test]
    fn snap_with_known_ethertype_continues() {
        // 802.3 length 28 = SNAP (8) + a 20-byte IPv4 header; then padding to 60 bytes.
        let mut b = hex("0009 0fdb f43e 000c 29c1 2d24 001c aaaa 0300 0000 0800");
        b.extend(hex("4500 0014 0000 0000 4006 0000 0a00 0001 0a00 0002"));
        b.resize(60, 0xEE);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4"]);
        assert_eq!(p.eth.map(|e| e.ethertype), Some(ethertype::IPV4));
        // The padding is outside the 802.3 length: not an IP payload.
        assert_eq!(p.ip.map(|i| i.total_len), Some(20));
        // A SNAP header with an OUI other than RFC 1042 / 802.1H (Cisco CDP) stops.
        let mut b = hex("0009 0fdb f43e 000c 29c1 2d24 001c aaaa 0300 000c 2000");
        b.resize(60, 0);
        assert_eq!(layers(&eth(&b)), ["eth"]);
    }

    #[test]
    fn unknown_and_undefined_ethertypes_stop_without_anomaly() {
        for t in [[0x88, 0xcc], [0x05, 0xff]] {
            let mut b = hex("0009 0fdb f43e 000c 29c1 2d24");
            b.extend(t);
            b.resize(60, 0);
            let p = eth(&b);
            assert_eq!(layers(&p), ["eth"]);
            assert!(p.anomalies.is_empty());
        }
    }
}
