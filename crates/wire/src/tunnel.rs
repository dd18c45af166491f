//! Encapsulations: IP-in-IP (RFC 2003, RFC 4213 §3.5), GRE (RFC 2784, RFC 2890; PPTP's
//! enhanced GRE, RFC 2637 §4.1), ERSPAN types I–III (draft-foschiano-erspan-03) and VXLAN
//! (RFC 7348 §5) / VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-12 §3).
//!
//! Each entry into an inner packet counts against [`MAX_ENCAPSULATIONS`](crate::MAX_ENCAPSULATIONS).

use crate::bytes::{u16_at, u32_at, u8_at, Field, Region};
use crate::decoder::{Cx, Next};
use crate::ethernet::{ethertype, ETHERTYPE_MIN};
use crate::{ppp, Anomaly, Layer};

/// GRE header (RFC 2784 §2.1) and its optional fields (RFC 2890 §2, RFC 2637 §4.1).
mod gre {
    use super::Field;
    pub const FLAGS_VERSION: Field = 0..2;
    pub const PROTOCOL: Field = 2..4;
    pub const HEADER_LEN: usize = 4;
    /// Each optional field (checksum+reserved, key, sequence, acknowledgment) is 4 bytes.
    pub const OPTION_LEN: usize = 4;
    pub const CHECKSUM: u16 = 0x8000;
    /// RFC 1701 source routing, deprecated by RFC 2784: not followed.
    pub const ROUTING: u16 = 0x4000;
    pub const KEY: u16 = 0x2000;
    pub const SEQUENCE: u16 = 0x1000;
    /// Acknowledgment present (enhanced GRE, version 1 only).
    pub const ACK: u16 = 0x0080;
    pub const VERSION: u16 = 0x0007;
}

/// ERSPAN headers (draft-foschiano-erspan-03 §4.2, §4.3).
mod erspan {
    use super::Field;
    /// Version in the top nibble: 1 = type II, 2 = type III.
    pub const VERSION: usize = 0;
    pub const TYPE_II_LEN: usize = 8;
    pub const TYPE_III_LEN: usize = 12;
    /// Type III word with SGT, P, frame type (5 bits at 10..15), hardware id, D, Gra, O.
    pub const TYPE_III_WORD3: Field = 8..12;
    /// O flag: an 8-byte platform-specific subheader follows.
    pub const TYPE_III_O: u32 = 0x1;
    pub const TYPE_III_FT_SHIFT: u32 = 10;
    pub const TYPE_III_FT_MASK: u32 = 0x1F;
    pub const FT_ETHERNET: u32 = 0;
    pub const PLATFORM_SUBHEADER_LEN: usize = 8;
    pub const VERSION_II: u8 = 1;
    pub const VERSION_III: u8 = 2;
}

/// VXLAN (RFC 7348 §5) and VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-12 §3.3) headers.
mod vxlan {
    pub const FLAGS: usize = 0;
    /// GPE next protocol.
    pub const NEXT_PROTOCOL: usize = 3;
    pub const HEADER_LEN: usize = 8;
    /// "I": the VNI is valid (RFC 7348 §5: must be set).
    pub const FLAG_I: u8 = 0x08;
    /// GPE "P": the next protocol field is present.
    pub const FLAG_P: u8 = 0x04;
    pub const GPE_IPV4: u8 = 1;
    pub const GPE_IPV6: u8 = 2;
    pub const GPE_ETHERNET: u8 = 3;
    pub const GPE_MPLS: u8 = 5;
}

/// IANA-assigned VXLAN port (RFC 7348 §5).
pub const VXLAN_PORT: u16 = 4789;
/// IANA-assigned VXLAN-GPE port.
pub const VXLAN_GPE_PORT: u16 = 4790;

/// An IP packet inside IP (protocol 4 or 41): `inner` is where it goes.
pub(crate) fn ip_in_ip<'a>(cx: &mut Cx<'a>, inner: Next<'a>) -> Next<'a> {
    cx.layer(Layer::IpInIp);
    if cx.enter_tunnel() {
        inner
    } else {
        Next::Done
    }
}

/// GRE, version 0 (RFC 2784/2890) or 1 (PPTP, RFC 2637 §4.1).
pub(crate) fn gre<'a>(r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    let b = r.bytes;
    cx.layer(Layer::Gre);
    if b.len() < gre::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return Next::Done;
    }
    let fv = u16_at(b, gre::FLAGS_VERSION);
    let proto = u16_at(b, gre::PROTOCOL);
    let present = |flag: u16| usize::from(fv & flag != 0) * gre::OPTION_LEN;
    let len = match fv & gre::VERSION {
        0 if fv & gre::ROUTING != 0 => return Next::Done,
        0 => gre::HEADER_LEN + present(gre::CHECKSUM) + present(gre::KEY) + present(gre::SEQUENCE),
        // The key field (payload length, call id) is mandatory in version 1.
        1 => gre::HEADER_LEN + gre::OPTION_LEN + present(gre::SEQUENCE) + present(gre::ACK),
        _ => return Next::Done,
    };
    if b.len() < len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return Next::Done;
    }
    let inner = r.advance(len);
    // Keepalives and PPTP acknowledgments carry nothing.
    if inner.is_empty() || !cx.enter_tunnel() {
        return Next::Done;
    }
    match proto {
        ethertype::TEB => Next::Ethernet(inner),
        ethertype::PPP => ppp::ppp(inner, cx, Anomaly::TruncatedTunnel),
        // Without a GRE sequence number this is type I, which has no ERSPAN header.
        ethertype::ERSPAN_II if fv & gre::SEQUENCE == 0 => Next::Ethernet(inner),
        ethertype::ERSPAN_II | ethertype::ERSPAN_III => erspan(inner, cx),
        t if t >= ETHERTYPE_MIN => Next::EtherType(t, inner),
        _ => Next::Done,
    }
}

/// An ERSPAN type II or III header, then the mirrored Ethernet frame.
fn erspan<'a>(r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    let b = r.bytes;
    let len = match u8_at(b, erspan::VERSION) >> 4 {
        erspan::VERSION_II => erspan::TYPE_II_LEN,
        erspan::VERSION_III => {
            if b.len() < erspan::TYPE_III_LEN {
                cx.anomaly(Anomaly::TruncatedTunnel);
                return Next::Done;
            }
            let w = u32_at(b, erspan::TYPE_III_WORD3);
            if (w >> erspan::TYPE_III_FT_SHIFT) & erspan::TYPE_III_FT_MASK != erspan::FT_ETHERNET {
                return Next::Done;
            }
            if w & erspan::TYPE_III_O != 0 {
                erspan::TYPE_III_LEN + erspan::PLATFORM_SUBHEADER_LEN
            } else {
                erspan::TYPE_III_LEN
            }
        }
        _ => return Next::Done,
    };
    if b.len() < len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return Next::Done;
    }
    Next::Ethernet(r.advance(len))
}

/// A UDP payload that a tunnel port names: VXLAN or VXLAN-GPE (either port direction, as
/// Wireshark decodes them; the standard port is checked first).
pub(crate) fn over_udp<'a>(src: u16, dst: u16, r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    if src == VXLAN_PORT || dst == VXLAN_PORT {
        vxlan(r, cx, false)
    } else if src == VXLAN_GPE_PORT || dst == VXLAN_GPE_PORT {
        vxlan(r, cx, true)
    } else {
        Next::Done
    }
}

/// VXLAN: only with the I flag set (RFC 7348 §5), which keeps ordinary traffic that happens to
/// use port 4789 as an ephemeral port from being misread.
fn vxlan<'a>(r: Region<'a>, cx: &mut Cx<'a>, gpe: bool) -> Next<'a> {
    let b = r.bytes;
    if b.is_empty() {
        return Next::Done;
    }
    let flags = u8_at(b, vxlan::FLAGS);
    if flags & vxlan::FLAG_I == 0 {
        return Next::Done;
    }
    cx.layer(Layer::Vxlan);
    if b.len() < vxlan::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return Next::Done;
    }
    if !cx.enter_tunnel() {
        return Next::Done;
    }
    let inner = r.advance(vxlan::HEADER_LEN);
    if !gpe || flags & vxlan::FLAG_P == 0 {
        return Next::Ethernet(inner);
    }
    match u8_at(b, vxlan::NEXT_PROTOCOL) {
        vxlan::GPE_IPV4 => Next::Ipv4(inner),
        vxlan::GPE_IPV6 => Next::Ipv6(inner),
        vxlan::GPE_ETHERNET => Next::Ethernet(inner),
        vxlan::GPE_MPLS => Next::EtherType(ethertype::MPLS_UNICAST, inner),
        _ => Next::Done,
    }
}
