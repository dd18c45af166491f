//! Ethernet II and IEEE 802.3 frames, 802.1Q / 802.1ad VLAN tags, 802.2 LLC / SNAP, and the
//! EtherType dispatch shared by every link that names its payload with an EtherType (Ethernet,
//! SLL, SNAP, GRE, Cisco HDLC), with the shim headers that carry an EtherType or an Ethernet
//! frame on: MACsec integrity-only frames, Arista timestamps, Cisco MetaData, NSH and Cisco
//! FabricPath.
//!
//! Where Wireshark's protocol hierarchy counts differently from "one byte of the header", this
//! follows it: an Ethernet header counts only when all 14 bytes were captured (a shorter one is
//! `_ws.short`, not `eth`), and an ARP packet as soon as its hardware type is (see the `arp` module).

use crate::bytes::{array_at, u16_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{arp, ipv4, ipv6, mpls, ppp, Anomaly, EthernetInfo, Layer};

/// Shim headers (MACsec, Arista, Cisco MetaData, NSH, FabricPath) followed in a row; each may
/// carry another, so this bounds the recursion. Real frames use one.
const MAX_SHIMS: u8 = 2;

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
    /// RFC 903 RARP: the ARP packet format.
    pub const RARP: u16 = 0x8035;
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
    /// IEEE 802.1AE MACsec SecTAG.
    pub const MACSEC: u16 = 0x88E5;
    /// Arista vendor-specific protocol (timestamp shim).
    pub const ARISTA: u16 = 0xD28B;
    /// Cisco MetaData (Security Group Tag).
    pub const CISCO_METADATA: u16 = 0x8909;
    /// Network Service Header (RFC 8300).
    pub const NSH: u16 = 0x894F;
    /// Cisco FabricPath (DCE): MAC-in-MAC.
    pub const FABRICPATH: u16 = 0x8903;
}

/// IEEE 802.1AE §9.3 SecTAG: TCI/AN, short length, packet number, optional SCI.
mod macsec {
    pub const TCI_AN: usize = 0;
    pub const SHORT_LEN: usize = 1;
    pub const HEADER_LEN: usize = 6;
    pub const SCI_LEN: usize = 8;
    /// TCI bits in the first byte: version (must be 0), SCI present, encrypted, changed text.
    pub const TCI_V: u8 = 0x80;
    pub const TCI_SC: u8 = 0x20;
    pub const TCI_E: u8 = 0x08;
    pub const TCI_C: u8 = 0x04;
    /// The short length counts at most 47 bytes of secure data; 0 means "not short".
    pub const SHORT_LEN_MASK: u8 = 0x3F;
    /// GCM-AES integrity check value after the secure data.
    pub const ICV_LEN: usize = 16;
}

/// Arista timestamp header (as Wireshark's `avsp` reads it): subtype, version, timestamp,
/// then the EtherType of the payload.
mod arista {
    use super::Field;
    pub const SUBTYPE: Field = 0..2;
    pub const VERSION: Field = 2..4;
    pub const SUBTYPE_TIMESTAMP: u16 = 0x0001;
    /// Low byte of the version: the timestamp format (64-bit: 8 bytes, 48-bit: 6 bytes).
    pub const FORMAT_64: u16 = 0x10;
    pub const FORMAT_48: u16 = 0x20;
    pub const FIXED_LEN: usize = 4;
}

/// Cisco MetaData: version, length, option type/length, SGT, then the EtherType.
mod cisco_metadata {
    pub const HEADER_LEN: usize = 6;
}

/// Network Service Header (RFC 8300 §2.2): base header, service path header, metadata.
mod nsh {
    pub const LENGTH_BYTE: usize = 1;
    /// Length in 4-byte words, the low 6 bits of byte 1.
    pub const LENGTH_MASK: u8 = 0x3F;
    pub const NEXT_PROTOCOL: usize = 3;
    pub const MIN_LEN: usize = 8;
    pub const NP_IPV4: u8 = 1;
    pub const NP_IPV6: u8 = 2;
    pub const NP_ETHERNET: u8 = 3;
    pub const NP_MPLS: u8 = 5;
}

/// Cisco FabricPath: outer destination and source switch addresses, EtherType 0x8903,
/// FTag/TTL, then the original Ethernet frame, and a 4-byte FCS of the outer frame.
mod fabricpath {
    pub const HEADER_LEN: usize = 16;
    pub const FCS_LEN: usize = 4;
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
    decode_at(r, cx, 0)
}

/// [`decode`] inside `shims` shim headers.
fn decode_at<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>, shims: u8) {
    // Wireshark adds its `eth` item only once the 14-byte header is there.
    if r.bytes.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let t = u16_at(r.bytes, field::ETHERTYPE);
    let rest = r.advance(field::HEADER_LEN);
    if t == ethertype::FABRICPATH && r.bytes.len() >= fabricpath::HEADER_LEN {
        return fabric_path(r, cx, shims);
    }
    cx.layer(Layer::Eth);
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
        dispatch_at(t, rest, cx, shims);
    }
}

/// Cisco FabricPath: the outer header stands in for the Ethernet header (Wireshark's `cfp`
/// heuristic takes the frame before `eth` does), and the original frame follows it, with the
/// outer FCS at the end.
#[cold]
fn fabric_path<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>, shims: u8) {
    if shims >= MAX_SHIMS {
        cx.anomaly(Anomaly::TooManyEncapsulations);
        return;
    }
    cx.layer(Layer::Cooked);
    let inner = r.advance(fabricpath::HEADER_LEN);
    let keep = inner.bytes.len().saturating_sub(fabricpath::FCS_LEN);
    let wire = if inner.wire == crate::bytes::UNKNOWN_LEN {
        inner.wire
    } else {
        inner
            .wire
            .saturating_sub(crate::bytes::len_u32(fabricpath::FCS_LEN))
    };
    let inner = Region {
        bytes: crate::bytes::head(inner.bytes, keep),
        wire,
    };
    decode_at(inner, cx, shims + 1);
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
    dispatch_at(t, r, cx, 0)
}

/// [`dispatch`] inside `shims` shim headers.
fn dispatch_at<'a>(t: u16, r: Region<'a>, cx: &mut Cx<'a, '_>, shims: u8) {
    match t {
        ethertype::IPV4 => ipv4_ethertype(r, cx),
        ethertype::IPV6 => ipv6::decode(r, cx),
        ethertype::ARP | ethertype::RARP => arp::decode(r, cx),
        ethertype::MPLS_UNICAST | ethertype::MPLS_MULTICAST => mpls::decode(r, cx),
        ethertype::PPPOE_SESSION => ppp::pppoe_session(r, cx),
        // VLAN tags after SLL or GRE (Ethernet handles its own tags in `decode`). `vlan_tags`
        // consumes every tag and SNAP never yields one, so this recursion is one level deep.
        t if is_vlan(t) => {
            if let (t, rest, true) = vlan_tags(t, r, cx) {
                if let Some((t, rest)) = after_tags(t, rest) {
                    dispatch_at(t, rest, cx, shims);
                }
            }
        }
        ethertype::MACSEC | ethertype::ARISTA | ethertype::CISCO_METADATA | ethertype::NSH => {
            shim(t, r, cx, shims)
        }
        _ => {}
    }
}

/// An IPv4 EtherType (or PPP / Cisco HDLC protocol): IPv4, unless the version nibble says 6,
/// which Wireshark then decodes as IPv6 under its bogus IPv4 header, as some Linux cooked
/// captures need. The IPv4 layer counts, and the mismatch is [`Anomaly::BadIpVersion`].
#[inline]
pub(crate) fn ipv4_ethertype<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if r.bytes.first().map(|b| b >> 4) == Some(6) {
        cx.layer(Layer::Ipv4);
        cx.anomaly(Anomaly::BadIpVersion);
        ipv6::decode(r, cx);
    } else {
        ipv4::decode(r, cx);
    }
}

/// The shim headers that name what follows with an EtherType (MACsec, Arista, Cisco
/// MetaData) or an NSH next-protocol value. What cannot be read (encrypted MACsec, an unknown
/// Arista format, a cut header) ends the decode quietly.
#[cold]
fn shim<'a>(t: u16, r: Region<'a>, cx: &mut Cx<'a, '_>, shims: u8) {
    if shims >= MAX_SHIMS {
        cx.anomaly(Anomaly::TooManyEncapsulations);
        return;
    }
    let b = r.bytes;
    // The EtherType's offset, and the region it and its payload lie in.
    let (at, r) = match t {
        ethertype::MACSEC => {
            let tci = u8_at(b, macsec::TCI_AN);
            if b.len() < macsec::HEADER_LEN
                || tci & (macsec::TCI_V | macsec::TCI_E | macsec::TCI_C) != 0
            {
                return;
            }
            let at = macsec::HEADER_LEN + usize::from(tci & macsec::TCI_SC != 0) * macsec::SCI_LEN;
            // The secure data: as long as the short length says, or up to the ICV.
            let short = usize::from(u8_at(b, macsec::SHORT_LEN) & macsec::SHORT_LEN_MASK);
            let data = if short != 0 {
                short
            } else {
                let wire = if r.wire == crate::bytes::UNKNOWN_LEN {
                    b.len()
                } else {
                    r.wire as usize
                };
                wire.saturating_sub(at + macsec::ICV_LEN)
            };
            (at, r.bound(at + data))
        }
        ethertype::ARISTA => {
            if u16_at(b, arista::SUBTYPE) != arista::SUBTYPE_TIMESTAMP {
                return;
            }
            let ts = match u16_at(b, arista::VERSION) & 0x00FF {
                arista::FORMAT_64 => 8,
                arista::FORMAT_48 => 6,
                _ => return,
            };
            (arista::FIXED_LEN + ts, r)
        }
        ethertype::CISCO_METADATA => (cisco_metadata::HEADER_LEN, r),
        _ => return nsh_decode(r, cx, shims),
    };
    if r.bytes.len() < at + 2 {
        return;
    }
    let inner = u16_at(r.bytes, at..at + 2);
    if inner >= ETHERTYPE_MIN {
        dispatch_at(inner, r.advance(at + 2), cx, shims + 1);
    }
}

/// NSH (RFC 8300 §2): the header length in 4-byte words, then what the next-protocol field
/// names.
fn nsh_decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>, shims: u8) {
    let b = r.bytes;
    let len = usize::from(u8_at(b, nsh::LENGTH_BYTE) & nsh::LENGTH_MASK) * 4;
    if b.len() < nsh::MIN_LEN || len < nsh::MIN_LEN || b.len() < len {
        return;
    }
    let inner = r.advance(len);
    match u8_at(b, nsh::NEXT_PROTOCOL) {
        nsh::NP_IPV4 => ipv4::decode(inner, cx),
        nsh::NP_IPV6 => ipv6::decode(inner, cx),
        nsh::NP_ETHERNET => decode_at(inner, cx, shims + 1),
        nsh::NP_MPLS => mpls::decode(inner, cx),
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
        // As in Wireshark's hierarchy (tcpdump `l2tp-avp-overflow.pcap`, frames of 8 bytes),
        // a header cut short is not counted as Ethernet.
        let p = eth(&b[..13]);
        assert!(p.layers.is_empty());
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
        assert!(p.eth.is_none());
        assert_eq!(layers(&eth(&b[..14])), ["eth"]);
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

    /// tcpdump `macsec-integonly.pcap` frame 1, cut after the ICMP header: MACsec SecTAG with
    /// SCI (TCI 0x20: integrity only), PN 68, then EtherType IPv4, 192.168.113.1 ->
    /// 192.168.113.2 ICMP echo request; the 16-byte ICV would follow the secure data.
    const MACSEC_ICMP: &str = "
        3e6f f374 237c 2eb7 3f39 95c3 88e5 2000
        0000 0044 2eb7 3f39 95c3 0001 0800 4500
        0054 d120 4000 4001 0634 c0a8 7101 c0a8
        7102 0800 7ed8 03b4 0001";

    /// tcpdump `arista_ether.pcap` frame 1, cut inside the IPv4 payload: Arista timestamp
    /// subtype 1, version 0x0010 (64-bit timestamp), then IPv4 10.136.1.32 -> 10.2.23.24,
    /// protocol 63.
    const ARISTA_IPV4: &str = "
        0000 0000 0001 0011 2233 4455 d28b 0001
        0010 5cee ed57 384f 59c8 0800 4500 0052
        0000 0000 403f 4dac 0a88 0120 0a02 1718
        0001 0203";

    /// tcpdump `nsh.pcap` frame 1: NSH (length 6 words, MD type 1, next protocol IPv4), SPI 9
    /// SI 7, then 10.0.8.3:52229 -> 10.13.13.13:8000 UDP "begin\n".
    const NSH_UDP: &str = "
        5254 004b 735f 0242 0a00 0803 894f 0006
        0101 0003 0907 0000 0001 0000 0002 0000
        0003 0000 0004 4500 0022 2844 4000 4011
        e96a 0a00 0803 0a0d 0d0d cc05 1f40 000e
        0000 6265 6769 6e0a";

    /// Arkime `arkime_synthetic.pcap` frame 315: Cisco MetaData (version 0, SGT 0), then
    /// IPv4 192.168.10.1 -> 192.168.10.2 ICMP echo request.
    const CMD_ICMP: &str = "
        0011 2233 4443 0011 2233 4442 8909 0000
        0000 0000 0800 4500 001c 0001 0000 4001
        e58c c0a8 0a01 c0a8 0a02 0800 f7ff 0000
        0000";

    /// nDPI `ajp.pcap` frame 3: Cisco FabricPath (FTag 256, TTL 32), then the original frame:
    /// VLAN 7, 172.29.9.147:8009 -> 172.29.9.146:38856 SYN+ACK, and the outer FCS (which
    /// Wireshark takes from the end, cutting the TCP options short).
    const FABRICPATH_SYNACK: &str = "
        020a bd00 0000 020a bc00 0000 8903 4020
        0050 5683 5d58 0050 5683 8ef3 8100 0007
        0800 4500 003c 0000 4000 4006 cf5c ac1d
        0993 ac1d 0992 1f49 97c8 93a0 2eb8 72c5
        db30 a012 3890 15ec 0000 0204 05b4 0402
        080a 1e57 efd8 4e9c 69e7 0103 0307";

    /// tcpdump `kday1.pcap` frame 1, cut: an IPv4 EtherType in front of an IPv6 header
    /// (next header 64, hop limit 0).
    const IPV6_AS_IPV4: &str = "
        84b5 9cbe 3048 0cc4 7a08 e9fb 0800 6610
        00a8 f6c9 4000 c084 a291 b8aa 42aa 3e38
        9ac7 826e b930 8497 1a30 7cd4 d4d4 d4d4
        d428 0013 0068 7354";

    #[test]
    fn shim_headers_carry_an_ethertype() {
        // The secure data ends 16 bytes (the ICV) before the frame does.
        let mut macsec = hex(MACSEC_ICMP);
        macsec.extend([0x1c; 16]);
        let p = eth(&macsec);
        assert_eq!(layers(&p), ["eth", "ipv4", "icmp"]);
        assert_eq!(p.eth.map(|e| e.ethertype), Some(ethertype::MACSEC));
        // Encrypted (E and C set): the secure data is not readable.
        let mut b = hex(MACSEC_ICMP);
        b[14] |= 0x0C;
        assert_eq!(layers(&eth(&b)), ["eth"]);
        let arista = hex(ARISTA_IPV4);
        let p = eth(&arista);
        assert_eq!(layers(&p), ["eth", "ipv4"]);
        assert_eq!(p.ip.map(|i| i.proto.0), Some(63));
        // Version 0x0011 (an R3 timestamp) is one Wireshark does not read: neither do we.
        let mut b = hex(ARISTA_IPV4);
        b[17] = 0x11;
        assert_eq!(layers(&eth(&b)), ["eth"]);
        let nsh = hex(NSH_UDP);
        let p = eth(&nsh);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp"]);
        let Transport::Udp(u) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!((u.src_port, u.dst_port), (52229, 8000));
        assert_eq!(layers(&eth(&hex(CMD_ICMP))), ["eth", "ipv4", "icmp"]);
    }

    #[test]
    fn fabric_path_carries_an_ethernet_frame() {
        let b = hex(FABRICPATH_SYNACK);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "vlan", "ipv4", "tcp", "cooked"]);
        assert_eq!(p.vlan, Some(7));
        let e = p.eth.expect("inner Ethernet");
        assert_eq!(e.src, [0x00, 0x50, 0x56, 0x83, 0x8e, 0xf3]);
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!(t.flags, tcp_flags::SYN | tcp_flags::ACK);
        assert!(p.anomalies.contains(Anomaly::TruncatedTcp));
        // Nested FabricPath headers are bounded.
        let mut nested = b[..16].to_vec();
        for _ in 0..4 {
            nested.extend_from_slice(&b[..16]);
        }
        nested.extend_from_slice(&b[16..]);
        let p = eth(&nested);
        assert!(p.anomalies.contains(Anomaly::TooManyEncapsulations));
    }

    #[test]
    fn ipv4_ethertype_carrying_ipv6_counts_both() {
        let v6 = hex(IPV6_AS_IPV4);
        let p = eth(&v6);
        assert_eq!(layers(&p), ["eth", "ipv4", "ipv6"]);
        assert!(p.anomalies.contains(Anomaly::BadIpVersion));
        assert!(matches!(p.ip.map(|i| i.src), Some(std::net::IpAddr::V6(_))));
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
