//! Ethernet II and IEEE 802.3 frames, 802.1Q / 802.1ad VLAN tags, 802.2 LLC / SNAP, and the
//! EtherType dispatch shared by every link that names its payload with an EtherType (Ethernet,
//! SLL, SNAP, GRE).

use crate::bytes::{array_at, u16_at, Field, Region};
use crate::decoder::{Cx, Next};
use crate::{arp, mpls, ppp, Anomaly, EthernetInfo, Layer};

/// Ethernet II header (IEEE 802.3 §3.1.1; RFC 894).
mod field {
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

/// Decodes an Ethernet header (with any VLAN tags) and says what follows.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    if !cx.begin(r.bytes, Layer::Eth, Anomaly::TruncatedLink) {
        return Next::Done;
    }
    if r.bytes.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return Next::Done;
    }
    let mut next = match vlan_tags(
        u16_at(r.bytes, field::ETHERTYPE),
        r.advance(field::HEADER_LEN),
        cx,
    ) {
        (t, rest, true) => after_tags(t, rest, cx),
        (_, _, false) => Next::Done,
    };
    if cx.pkt.eth.is_none() {
        let ethertype = match next {
            Next::EtherType(t, _) => t,
            _ => u16_at(r.bytes, field::ETHERTYPE),
        };
        cx.pkt.eth = Some(EthernetInfo {
            src: array_at(r.bytes, field::SOURCE),
            dst: array_at(r.bytes, field::DESTINATION),
            ethertype,
        });
    }
    // Dispatch the common EtherTypes here rather than through another loop step.
    if let Next::EtherType(t, rest) = next {
        next = dispatch(t, rest, cx);
    }
    next
}

/// Follows up to [`MAX_VLAN_TAGS`] VLAN tags starting with the type `t`. Returns the first
/// non-VLAN type, the region after the tags, and whether decoding may go on.
fn vlan_tags<'a>(mut t: u16, mut r: Region<'a>, cx: &mut Cx<'a>) -> (u16, Region<'a>, bool) {
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

/// After the last VLAN tag: an EtherType, or an 802.3 length followed by LLC.
#[inline]
fn after_tags<'a>(t: u16, r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    if t >= ETHERTYPE_MIN {
        Next::EtherType(t, r)
    } else if t <= MAX_8023_LENGTH {
        // The length excludes padding: bound the LLC payload by it.
        llc(r.bound(usize::from(t)), cx)
    } else {
        Next::Done
    }
}

/// An 802.2 LLC frame: followed only when it is SNAP carrying an EtherType (RFC 1042 §3,
/// IEEE 802.1H); plain LLC (STP, CDP, NetBIOS ...) ends the decode at the link layer.
pub(crate) fn llc<'a>(r: Region<'a>, _cx: &mut Cx<'a>) -> Next<'a> {
    if r.bytes.len() < snap::HEADER_LEN || array_at::<3>(r.bytes, snap::LLC) != snap::LLC_SNAP {
        return Next::Done;
    }
    let oui = array_at::<3>(r.bytes, snap::OUI);
    if oui != snap::OUI_RFC1042 && oui != snap::OUI_802_1H {
        return Next::Done;
    }
    let t = u16_at(r.bytes, snap::ETHERTYPE);
    // Only a real EtherType, and not a VLAN tag: either would let SNAP and tags alternate
    // (a SNAP "length" would send us round the 802.3 path again).
    if t >= ETHERTYPE_MIN && !is_vlan(t) {
        Next::EtherType(t, r.advance(snap::HEADER_LEN))
    } else {
        Next::Done
    }
}

/// Dispatches a payload by EtherType. Unknown types end the decode (no anomaly: they are
/// simply protocols this decoder does not look into).
pub(crate) fn dispatch<'a>(t: u16, r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    match t {
        ethertype::IPV4 => Next::Ipv4(r),
        ethertype::IPV6 => Next::Ipv6(r),
        ethertype::ARP => {
            arp::decode(r, cx);
            Next::Done
        }
        ethertype::MPLS_UNICAST | ethertype::MPLS_MULTICAST => mpls::decode(r, cx),
        ethertype::PPPOE_SESSION => ppp::pppoe_session(r, cx),
        // VLAN tags after SLL, SNAP or GRE (Ethernet handles its own tags in `decode`).
        // `vlan_tags` consumes every tag, so the next step is never VLAN again.
        t if is_vlan(t) => match vlan_tags(t, r, cx) {
            (t, rest, true) => after_tags(t, rest, cx),
            (_, _, false) => Next::Done,
        },
        _ => Next::Done,
    }
}
