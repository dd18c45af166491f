//! Link-layer framings: the per-link-type entry point, Linux cooked capture (SLL, SLL2), BSD
//! null/loopback and raw IP. Ethernet itself lives in [`crate::ethernet`].
//!
//! Formats follow the tcpdump.org LINKTYPE_ registry pages (`LINKTYPE_LINUX_SLL`,
//! `LINKTYPE_LINUX_SLL2`, `LINKTYPE_NULL`, `LINKTYPE_LOOP`, `LINKTYPE_RAW`).

use crate::bytes::{u16_at, u32_at, Field, Region};
use crate::decoder::{Cx, Next};
use crate::{ethernet, Anomaly, Layer, LinkType};

/// LINKTYPE_LINUX_SLL: a 16-byte pseudo-header.
mod sll {
    use super::Field;
    #[allow(
        dead_code,
        reason = "documents the layout; the direction is not reported"
    )]
    pub const PACKET_TYPE: Field = 0..2;
    /// ARPHRD_ type of the device (Linux `if_arp.h`).
    pub const ARPHRD: Field = 2..4;
    #[allow(
        dead_code,
        reason = "documents the layout; the address is not reported"
    )]
    pub const ADDR: Field = 4..14;
    pub const PROTOCOL: Field = 14..16;
    pub const HEADER_LEN: usize = 16;
}

/// LINKTYPE_LINUX_SLL2: a 20-byte pseudo-header, protocol first.
mod sll2 {
    use super::Field;
    pub const PROTOCOL: Field = 0..2;
    #[allow(
        dead_code,
        reason = "documents the layout; the interface is not reported"
    )]
    pub const IF_INDEX: Field = 4..8;
    pub const ARPHRD: Field = 8..10;
    pub const HEADER_LEN: usize = 20;
}

/// LINKTYPE_NULL / LINKTYPE_LOOP: a 4-byte address family.
mod null {
    use super::Field;
    pub const FAMILY: Field = 0..4;
    pub const HEADER_LEN: usize = 4;
}

/// ARPHRD_ values whose SLL protocol field is not an EtherType (LINKTYPE_LINUX_SLL page).
const ARPHRD_FRAD: u16 = 770;
const ARPHRD_IEEE80211_RADIOTAP: u16 = 803;
const ARPHRD_NETLINK: u16 = 824;

/// SLL protocol values below 0x0600 that are not lengths (Linux `if_ether.h`): `ETH_P_802_2`
/// means an 802.2 LLC header follows.
const SLL_P_802_2: u16 = 0x0004;

/// BSD address families for IPv4 and IPv6. AF_INET is 2 everywhere; AF_INET6 differs by OS:
/// 10 (Linux), 24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly), 30 (Darwin).
const AF_INET: u32 = 2;
const AF_INET6: [u32; 4] = [10, 24, 28, 30];

/// Decodes the link-layer header of `link` and says what follows.
pub(crate) fn decode<'a>(link: LinkType, r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    if !link.is_supported() {
        cx.anomaly(Anomaly::UnsupportedLinkType);
        return Next::Done;
    }
    if r.is_empty() {
        cx.anomaly(Anomaly::BadFrameLength);
        return Next::Done;
    }
    match link {
        LinkType::ETHERNET => Next::Ethernet(r),
        LinkType::LINUX_SLL => cooked(r, cx, sll::HEADER_LEN, sll::PROTOCOL, sll::ARPHRD),
        LinkType::LINUX_SLL2 => cooked(r, cx, sll2::HEADER_LEN, sll2::PROTOCOL, sll2::ARPHRD),
        LinkType::NULL | LinkType::LOOP => null(r, cx),
        LinkType::IPV4 => Next::Ipv4(r),
        LinkType::IPV6 => Next::Ipv6(r),
        // RAW, RAW_BSD12, RAW_BSD14: the version nibble says which IP it is.
        _ => ip_by_version(r, cx),
    }
}

/// SLL or SLL2: a fixed header, then a payload named by `protocol`.
fn cooked<'a>(
    r: Region<'a>,
    cx: &mut Cx<'a>,
    header_len: usize,
    protocol: Field,
    arphrd: Field,
) -> Next<'a> {
    cx.layer(Layer::Cooked);
    if r.bytes.len() < header_len {
        cx.anomaly(Anomaly::TruncatedLink);
        return Next::Done;
    }
    let proto = u16_at(r.bytes, protocol);
    let payload = r.advance(header_len);
    match u16_at(r.bytes, arphrd) {
        ARPHRD_NETLINK | ARPHRD_IEEE80211_RADIOTAP | ARPHRD_FRAD => return Next::Done,
        _ => {}
    }
    match proto {
        SLL_P_802_2 => ethernet::llc(payload, cx),
        t if t >= ethernet::ETHERTYPE_MIN => Next::EtherType(t, payload),
        // Novell raw 802.3, CAN, AX.25 ...: nothing we decode.
        _ => Next::Done,
    }
}

/// BSD null / OpenBSD loop: a 4-byte address family.
///
/// LINKTYPE_NULL stores it in the writer's byte order, which the file does not record for us
/// here; LINKTYPE_LOOP always uses network order. Address families are small, so a value with
/// any of its upper 16 bits set must have been written in the other order: this reads both
/// link types correctly.
fn null<'a>(r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    cx.layer(Layer::Cooked);
    if r.bytes.len() < null::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return Next::Done;
    }
    let mut family = u32_at(r.bytes, null::FAMILY).swap_bytes(); // read little-endian
    if family & 0xFFFF_0000 != 0 {
        family = family.swap_bytes();
    }
    let payload = r.advance(null::HEADER_LEN);
    if family == AF_INET {
        Next::Ipv4(payload)
    } else if AF_INET6.contains(&family) {
        Next::Ipv6(payload)
    } else {
        Next::Done
    }
}

/// An IP packet of either version (raw IP, or after an MPLS label stack): the first nibble
/// decides. Any other version is [`Anomaly::BadIpVersion`].
pub(crate) fn ip_by_version<'a>(r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    match r.bytes.first().map(|b| b >> 4) {
        Some(4) => Next::Ipv4(r),
        Some(6) => Next::Ipv6(r),
        Some(_) => {
            cx.anomaly(Anomaly::BadIpVersion);
            Next::Done
        }
        None => Next::Done,
    }
}
