//! Link-layer framings: the per-link-type entry point, Linux cooked capture (SLL, SLL2), BSD
//! null/loopback, raw IP, Linux ARCnet, Juniper Ethernet and Apple PKTAP. Ethernet, PPP, Cisco
//! HDLC, Frame Relay, NFLOG and IEEE 802.11 have their own modules.
//!
//! Formats follow the tcpdump.org LINKTYPE_ registry pages (`LINKTYPE_LINUX_SLL`,
//! `LINKTYPE_LINUX_SLL2`, `LINKTYPE_NULL`, `LINKTYPE_LOOP`, `LINKTYPE_RAW`,
//! `LINKTYPE_ARCNET_LINUX`, `LINKTYPE_JUNIPER_ETHER`, `LINKTYPE_PKTAP`). Every link header
//! other than Ethernet sets [`Layer::Cooked`].

use crate::bytes::{head, len_u32, u16_at, u32_at, u8_at, Field, Region, UNKNOWN_LEN};
use crate::decoder::Cx;
use crate::{
    arp, chdlc, ethernet, frelay, ieee80211, ipv4, ipv6, nflog, ppp, Anomaly, Layer, LinkType,
};

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

/// LINKTYPE_ARCNET_LINUX: source, destination, a 2-byte offset, then the ARCnet protocol id
/// and, for RFC 1201 protocols, a split flag and a 2-byte sequence number.
mod arcnet {
    pub const PROTOCOL: usize = 4;
    pub const HEADER_LEN: usize = 5;
    /// RFC 1201 fragmentation header after the protocol id.
    pub const RFC1201_LEN: usize = 3;
    /// A split flag of 0xFF marks an RFC 1201 exception packet (not followed).
    pub const EXCEPTION: u8 = 0xFF;
    pub const IPV4_RFC1201: u8 = 212;
    pub const ARP_RFC1201: u8 = 213;
    pub const RARP_RFC1201: u8 = 214;
    pub const IPV6: u8 = 196;
    /// RFC 1051 protocols carry no fragmentation header.
    pub const IPV4_RFC1051: u8 = 240;
    pub const ARP_RFC1051: u8 = 241;
    pub const DIAGNOSE: u8 = 128;
    pub const BACNET: u8 = 205;
}

/// LINKTYPE_JUNIPER_ETHER: "MGC" magic, flags, and (with the extension flag) a 2-byte length of
/// TLV extensions, then the Ethernet frame.
mod juniper {
    use super::Field;
    pub const MAGIC: Field = 0..3;
    pub const MAGIC_MGC: [u8; 3] = *b"MGC";
    pub const FLAGS: usize = 3;
    pub const HEADER_LEN: usize = 4;
    pub const EXT_LEN: Field = 4..6;
    pub const FLAG_EXT: u8 = 0x80;
    /// No layer-2 header follows (the frame is IP): not followed.
    pub const FLAG_NO_L2: u8 = 0x02;
}

/// LINKTYPE_PKTAP (Darwin `struct pktap_header`): little-endian header length, record type and
/// the DLT of the frame that follows the header.
mod pktap {
    use super::Field;
    pub const LENGTH: Field = 0..4;
    pub const RECORD_TYPE: Field = 4..8;
    pub const DLT: Field = 8..12;
    /// The smallest header Wireshark accepts.
    pub const MIN_LEN: usize = 108;
    pub const RECORD_PACKET: u32 = 1;
}

/// LINKTYPE_PPI: version, flags, little-endian header length and DLT, then fields.
mod ppi {
    use super::Field;
    pub const LENGTH: Field = 2..4;
    pub const DLT: Field = 4..8;
    pub const MIN_LEN: usize = 8;
}

/// LINKTYPE_IPNET (Solaris `dl_ipnetinfo`): version, address family, hook type, packet length,
/// interface and zone ids.
mod ipnet {
    pub const FAMILY: usize = 1;
    pub const HEADER_LEN: usize = 24;
    pub const AF_INET: u8 = 2;
    /// Solaris AF_INET6.
    pub const AF_INET6: u8 = 26;
}

/// LINKTYPE_IPOIB: destination and source hardware addresses (20 bytes each), EtherType,
/// reserved.
mod ipoib {
    use super::Field;
    pub const ETHERTYPE: Field = 40..42;
    pub const HEADER_LEN: usize = 44;
}

/// BSD address families for IPv4 and IPv6. AF_INET is 2 everywhere; AF_INET6 differs by OS:
/// 10 (Linux), 24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly), 30 (Darwin).
const AF_INET: u32 = 2;
const AF_INET6: [u32; 4] = [10, 24, 28, 30];

/// Decodes the link-layer header of `link` and says what follows.
#[inline]
pub(crate) fn decode<'a>(link: LinkType, r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if !link.is_supported() {
        cx.anomaly(Anomaly::UnsupportedLinkType);
        return;
    }
    if r.is_empty() {
        cx.anomaly(Anomaly::BadFrameLength);
        return;
    }
    frame(link, r, cx);
}

/// The frame of a supported link type, once it is known to hold at least one byte.
fn frame<'a>(link: LinkType, r: Region<'a>, cx: &mut Cx<'a, '_>) {
    match link {
        LinkType::ETHERNET => ethernet::decode(r, cx),
        LinkType::LINUX_SLL => cooked(r, cx, sll::HEADER_LEN, sll::PROTOCOL, sll::ARPHRD),
        LinkType::LINUX_SLL2 => cooked(r, cx, sll2::HEADER_LEN, sll2::PROTOCOL, sll2::ARPHRD),
        LinkType::NULL => null(r, cx),
        LinkType::LOOP => loopback(r, cx),
        LinkType::IPV4 => ip_handle(r, cx),
        LinkType::IPV6 => ipv6::decode(r, cx),
        LinkType::PPP | LinkType::PPP_HDLC => ppp::link(r, cx),
        // A direction byte (sent / received), then PPP.
        LinkType::PPP_WITH_DIR => ppp::link(r.advance(1), cx),
        LinkType::C_HDLC => chdlc::decode(r, cx),
        LinkType::FRELAY => frelay::decode(r, cx),
        LinkType::IEEE802_11 => ieee80211::decode(r, cx),
        LinkType::IEEE802_11_RADIOTAP => ieee80211::radiotap(r, cx),
        LinkType::ARCNET_LINUX => arcnet(r, cx),
        LinkType::JUNIPER_ETHER => juniper_ether(r, cx),
        LinkType::NFLOG => nflog::decode(r, cx),
        LinkType::PKTAP | LinkType::USER2_PKTAP => pktap(r, cx),
        LinkType::LINUX_ATM_CLIP => {
            cx.layer(Layer::Cooked);
            ip_handle(r, cx)
        }
        LinkType::PPI => ppi(r, cx),
        LinkType::IPNET => ipnet(r, cx),
        LinkType::IPOIB => ipoib(r, cx),
        // RAW, RAW_BSD12, RAW_BSD14: the version nibble says which IP it is.
        _ => ip_by_version(r, cx),
    }
}

/// The region without the `FCS_LEN`-byte frame check sequence that ends the frame on the
/// wire: captured bytes are dropped only as far as they reach into it.
pub(crate) fn without_fcs(r: Region<'_>) -> Region<'_> {
    const FCS_LEN: usize = 4;
    let wire = if r.wire == UNKNOWN_LEN {
        len_u32(r.bytes.len())
    } else {
        r.wire
    };
    let keep = wire.saturating_sub(len_u32(FCS_LEN));
    Region {
        bytes: head(r.bytes, keep as usize),
        wire: if r.wire == UNKNOWN_LEN {
            UNKNOWN_LEN
        } else {
            keep
        },
    }
}

/// Linux ARCnet: IPv4, IPv6 and ARP by protocol id (RFC 1051, RFC 1201 §4).
fn arcnet<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    let b = r.bytes;
    if b.len() < arcnet::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let id = u8_at(b, arcnet::PROTOCOL);
    let mut len = arcnet::HEADER_LEN;
    if !matches!(
        id,
        arcnet::IPV4_RFC1051 | arcnet::ARP_RFC1051 | arcnet::DIAGNOSE | arcnet::BACNET
    ) {
        if b.len() < len + arcnet::RFC1201_LEN {
            cx.anomaly(Anomaly::TruncatedLink);
            return;
        }
        if u8_at(b, len) == arcnet::EXCEPTION {
            return;
        }
        len += arcnet::RFC1201_LEN;
    }
    let payload = r.advance(len);
    match id {
        arcnet::IPV4_RFC1201 | arcnet::IPV4_RFC1051 => ethernet::ipv4_ethertype(payload, cx),
        arcnet::IPV6 => ipv6::decode(payload, cx),
        arcnet::ARP_RFC1201 | arcnet::RARP_RFC1201 | arcnet::ARP_RFC1051 => {
            arp::decode(payload, cx)
        }
        _ => {}
    }
}

/// Juniper's pseudo-header, then Ethernet.
fn juniper_ether<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    let b = r.bytes;
    if b.len() < juniper::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let flags = u8_at(b, juniper::FLAGS);
    if crate::bytes::array_at::<3>(b, juniper::MAGIC) != juniper::MAGIC_MGC
        || flags & juniper::FLAG_NO_L2 != 0
    {
        return;
    }
    let mut len = juniper::HEADER_LEN;
    if flags & juniper::FLAG_EXT != 0 {
        if b.len() < juniper::EXT_LEN.end {
            cx.anomaly(Anomaly::TruncatedLink);
            return;
        }
        len = juniper::EXT_LEN.end + usize::from(u16_at(b, juniper::EXT_LEN));
    }
    ethernet::decode(r.advance(len), cx);
}

/// Apple PKTAP: the header names the link type of the frame after it. A PKTAP frame inside
/// PKTAP is not followed, so this recursion is one level deep.
fn pktap<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    let b = r.bytes;
    if b.len() < pktap::DLT.end {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let le = |f: Field| u32_at(b, f).swap_bytes();
    let len = le(pktap::LENGTH) as usize;
    if len < pktap::MIN_LEN || le(pktap::RECORD_TYPE) != pktap::RECORD_PACKET {
        return;
    }
    let inner = r.advance(len);
    let Ok(dlt) = u16::try_from(le(pktap::DLT)) else {
        return;
    };
    inner_frame(LinkType(dlt), inner, cx);
}

/// The frame inside a PKTAP or PPI header: any supported link type but those two, so that
/// the recursion is one level deep.
fn inner_frame<'a>(link: LinkType, r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let wrapper = matches!(
        link,
        LinkType::PKTAP | LinkType::USER2_PKTAP | LinkType::PPI
    );
    if r.is_empty() {
        cx.anomaly(Anomaly::TruncatedLink);
    } else if !wrapper && link.is_supported() {
        frame(link, r, cx);
    }
}

/// Per-Packet Information: a header of the length it gives, then a frame of the DLT it names.
fn ppi<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    let b = r.bytes;
    if b.len() < ppi::MIN_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let len = usize::from(u16_at(b, ppi::LENGTH).swap_bytes());
    let Ok(dlt) = u16::try_from(u32_at(b, ppi::DLT).swap_bytes()) else {
        return;
    };
    if len < ppi::MIN_LEN {
        return;
    }
    inner_frame(LinkType(dlt), r.advance(len), cx);
}

/// Solaris ipnet: IPv4 or IPv6 by address family.
fn ipnet<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    if r.bytes.len() < ipnet::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let payload = r.advance(ipnet::HEADER_LEN);
    match u8_at(r.bytes, ipnet::FAMILY) {
        ipnet::AF_INET => ip_handle(payload, cx),
        ipnet::AF_INET6 => ipv6::decode(payload, cx),
        _ => {}
    }
}

/// IP over InfiniBand: what the EtherType names.
fn ipoib<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    if r.bytes.len() < ipoib::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let t = u16_at(r.bytes, ipoib::ETHERTYPE);
    ethernet::dispatch(t, r.advance(ipoib::HEADER_LEN), cx);
}

/// SLL or SLL2: a fixed header, then a payload named by `protocol`.
fn cooked<'a>(
    r: Region<'a>,
    cx: &mut Cx<'a, '_>,
    header_len: usize,
    protocol: Field,
    arphrd: Field,
) {
    cx.layer(Layer::Cooked);
    if r.bytes.len() < header_len {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let proto = u16_at(r.bytes, protocol);
    let payload = r.advance(header_len);
    match u16_at(r.bytes, arphrd) {
        ARPHRD_NETLINK | ARPHRD_IEEE80211_RADIOTAP | ARPHRD_FRAD => return,
        _ => {}
    }
    match proto {
        SLL_P_802_2 => {
            if let Some((t, rest)) = ethernet::llc(payload) {
                ethernet::dispatch(t, rest, cx);
            }
        }
        t if t >= ethernet::ETHERTYPE_MIN => ethernet::dispatch(t, payload, cx),
        // Novell raw 802.3, CAN, AX.25 ...: nothing we decode.
        _ => {}
    }
}

/// BSD null: a 4-byte address family in the writer's byte order, which the file does not
/// record for us here. This reads it as Wireshark does (`packet-null.c`): PPP in HDLC-like
/// framing if the frame starts FF 03; else the value read little-endian, byte-swapped when it
/// cannot be a small family (with IRIX's 16-bit families in the upper half); a value above
/// 1500 is an EtherType (some writers put one there), anything else a BSD address family.
fn null<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if r.bytes.starts_with(&[0xFF, 0x03]) {
        return ppp::link(r, cx);
    }
    cx.layer(Layer::Cooked);
    if r.bytes.len() < null::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let mut h = u32_at(r.bytes, null::FAMILY).swap_bytes(); // read little-endian
    if h & 0xFFFF_0000 != 0 {
        if h & 0xFF00_0000 == 0 && h & 0x00FF_0000 < 0x0006_0000 {
            h >>= 16;
        } else {
            h = h.swap_bytes();
        }
    } else if h & 0xFF == 0 && h & 0xFF00 < 0x0600 {
        h = (h as u16).swap_bytes().into();
    }
    let payload = r.advance(null::HEADER_LEN);
    match u16::try_from(h) {
        Ok(t) if t >= ethernet::ETHERTYPE_MIN => ethernet::dispatch(t, payload, cx),
        // Wireshark passes the low 16 bits on as the EtherType.
        Err(_) => ethernet::dispatch(h as u16, payload, cx),
        _ => family(h, payload, cx),
    }
}

/// OpenBSD loop: a 4-byte address family in network byte order.
fn loopback<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    if r.bytes.len() < null::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    family(
        u32_at(r.bytes, null::FAMILY),
        r.advance(null::HEADER_LEN),
        cx,
    );
}

/// IPv4 or IPv6 by BSD address family.
fn family<'a>(family: u32, payload: Region<'a>, cx: &mut Cx<'a, '_>) {
    if family == AF_INET {
        ipv4::decode(payload, cx);
    } else if AF_INET6.contains(&family) {
        ipv6::decode(payload, cx);
    }
}

/// An IPv4 packet as Wireshark's `ip` dissector takes it (LINKTYPE_IPV4, NFLOG's AF_INET):
/// IPv6 if the version nibble says 6 (no IPv4 layer, but [`Anomaly::BadIpVersion`], as the
/// link promised IPv4), else IPv4 (any other version is IPv4's bad version).
pub(crate) fn ip_handle<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if r.bytes.first().map(|b| b >> 4) == Some(6) {
        cx.anomaly(Anomaly::BadIpVersion);
        ipv6::decode(r, cx);
    } else {
        ipv4::decode(r, cx);
    }
}

/// An IP packet of either version (raw IP, or after an MPLS label stack): the first nibble
/// decides. Any other version is [`Anomaly::BadIpVersion`].
pub(crate) fn ip_by_version<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    match r.bytes.first().map(|b| b >> 4) {
        Some(4) => ipv4::decode(r, cx),
        Some(6) => ipv6::decode(r, cx),
        Some(_) => cx.anomaly(Anomaly::BadIpVersion),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, decode_wire, hex, layers};
    use crate::{decode, tcp_flags, Transport};
    use std::net::IpAddr;

    /// PcapPlusPlus `SllPacket.pcap`, cut after the TCP header: SLL (outgoing? type 0,
    /// ARPHRD_ETHER, 6-byte address, protocol 0x86DD), IPv6 2404:6800:8004::68 ->
    /// 2404:138:4002:4000:230:48ff:fedd:53, payload length 1240, TCP 80 -> 50243 ACK with
    /// NOP NOP TS(665433209, 67254310). tcpdump: "length 1208".
    const SLL_IPV6_TCP: &str = "
        0000 0001 0006 0012 441e 7400 f67f 86dd
        6000 0000 04d8 0637 2404 6800 8004 0000
        0000 0000 0000 0068 2404 0138 4002 4000
        0230 48ff fedd 0053 0050 c443 56eb 0a40
        2d0b 4034 8010 020f d849 0000 0101 080a
        27a9 b479 0402 3826";

    #[test]
    fn sll_ipv6_tcp_cut_by_snaplen() {
        let b = hex(SLL_IPV6_TCP);
        let p = decode(LinkType::LINUX_SLL, &b);
        assert_eq!(layers(&p), ["ipv6", "tcp", "cooked"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert!(p.eth.is_none());
        let ip = p.ip.expect("ip");
        assert_eq!(
            ip.src,
            "2404:6800:8004::68".parse::<IpAddr>().expect("literal")
        );
        assert_eq!(ip.total_len, 40 + 1240);
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!(
            (t.src_port, t.dst_port, t.flags),
            (80, 50243, tcp_flags::ACK)
        );
        assert_eq!(t.options.timestamps, Some((665_433_209, 67_254_310)));
        assert!(p.payload.is_empty());
        assert_eq!(p.payload_wire_len, 1208);

        // Knowing the frame was 1296 bytes on the wire, the IP length is plausible ...
        let p = decode_wire(LinkType::LINUX_SLL, &b, 16 + 40 + 1240);
        assert!(p.anomalies.is_empty());
        // ... but not if the frame was only as long as captured.
        let p = decode_wire(LinkType::LINUX_SLL, &b, b.len() as u32);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::IpLengthExceedsFrame]));
    }

    /// lwerdna `simple_http_sll2.pcap` frame 1: SLL2 (protocol 0x0800, ifindex 1,
    /// ARPHRD_LOOPBACK 772, incoming), 127.0.0.1:37614 -> 127.0.0.1:8000 SYN with
    /// MSS 65495, SACK-permitted, TS(513001463, 0), NOP, WS 7.
    const SLL2_SYN: &str = "
        0800 0000 0000 0001 0304 0006 0000 0000
        0000 0000 4500 003c 34ff 4000 4006 07bb
        7f00 0001 7f00 0001 92ee 1f40 0852 ae12
        0000 0000 a002 ffd7 fe30 0000 0204 ffd7
        0402 080a 1e93 c7f7 0000 0000 0103 0307";

    #[test]
    fn sll2_ipv4_syn() {
        let b = hex(SLL2_SYN);
        let p = decode_wire(LinkType::LINUX_SLL2, &b, b.len() as u32);
        assert_eq!(layers(&p), ["ipv4", "tcp", "cooked"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!(
            (t.src_port, t.dst_port, t.flags),
            (37614, 8000, tcp_flags::SYN)
        );
        assert_eq!(t.options.mss, Some(65495));
        assert_eq!(t.options.window_scale, Some(7));
        assert!(t.options.sack_permitted);
        assert_eq!(t.options.timestamps, Some((513_001_463, 0)));
    }

    /// Arkime `http2-nghttp2.pcap` frame 1 without its 4-byte family: 10.89.85.15:49570 ->
    /// 139.162.123.134:80, SYN+ECE+CWR, MSS 1366, NOP, WS 6, NOP, NOP, TS, SACK-perm, EOL.
    const IPV4_SYN_ECN: &str = "
                  4500 0040 0000 4000 4006 d427
        0a59 550f 8ba2 7b86 c1a2 0050 86e2 79b0
        0000 0000 b0c2 ffff ad8f 0000 0204 0556
        0103 0306 0101 080a 6f4c f0a7 0000 0000
        0402 0000";

    fn with_family(family: [u8; 4], ip: &str) -> Vec<u8> {
        let mut b = family.to_vec();
        b.extend(hex(ip));
        b
    }

    #[test]
    fn null_family_in_either_byte_order_and_loop() {
        // Little-endian writer (the real capture), big-endian writer, and LINKTYPE_LOOP.
        for (link, family) in [
            (LinkType::NULL, [2, 0, 0, 0]),
            (LinkType::NULL, [0, 0, 0, 2]),
            (LinkType::LOOP, [0, 0, 0, 2]),
        ] {
            let b = with_family(family, IPV4_SYN_ECN);
            let p = decode(link, &b);
            assert_eq!(layers(&p), ["ipv4", "tcp", "cooked"], "{link} {family:?}");
            assert!(p.anomalies.is_empty());
            let Transport::Tcp(t) = p.transport else {
                panic!("{:?}", p.transport)
            };
            let want = tcp_flags::SYN | tcp_flags::ECE | tcp_flags::CWR;
            assert_eq!(
                (t.src_port, t.flags, t.options.mss),
                (49570, want, Some(1366))
            );
        }
    }

    #[test]
    fn null_ipv6_families_of_every_os() {
        let v6 = &SLL_IPV6_TCP[SLL_IPV6_TCP.find("6000").expect("ipv6 start")..];
        for af in [10u32, 24, 28, 30] {
            for family in [af.to_le_bytes(), af.to_be_bytes()] {
                let p = decode(LinkType::NULL, &with_family(family, v6))
                    .ip
                    .map(|i| i.src);
                assert!(matches!(p, Some(IpAddr::V6(_))), "AF {af} {family:?}");
            }
        }
        // An unknown family (AF_APPLETALK = 16): cooked, nothing more, no anomaly.
        let b = with_family([16, 0, 0, 0], v6);
        let p = decode(LinkType::NULL, &b);
        assert_eq!(layers(&p), ["cooked"]);
        assert!(p.anomalies.is_empty());
    }

    #[test]
    fn raw_ip_by_version_nibble() {
        let v4 = hex(IPV4_SYN_ECN);
        let v6 = hex(&SLL_IPV6_TCP[SLL_IPV6_TCP.find("6000").expect("ipv6 start")..]);
        for link in [LinkType::RAW, LinkType::RAW_BSD12, LinkType::RAW_BSD14] {
            assert_eq!(layers(&decode(link, &v4)), ["ipv4", "tcp"]);
            assert_eq!(layers(&decode(link, &v6)), ["ipv6", "tcp"]);
        }
        assert_eq!(layers(&decode(LinkType::IPV4, &v4)), ["ipv4", "tcp"]);
        assert_eq!(layers(&decode(LinkType::IPV6, &v6)), ["ipv6", "tcp"]);
        // LINKTYPE_IPV4 holding IPv6 (tcpdump `LINKTYPE_IPV4_invalid.pcap`): decoded as IPv6,
        // as Wireshark's `ip` dissector does, and flagged as a bad version.
        let p = decode(LinkType::IPV4, &v6);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpVersion]));
        assert_eq!(layers(&p), ["ipv6", "tcp"]);
        let p = decode(LinkType::RAW, &[0x50, 0, 0, 0]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpVersion]));
        assert!(p.layers.is_empty());
    }

    /// PcapPlusPlus `null_loopback.pcap` frame 3, cut after the UDP header: a "family" of
    /// 0f 00 08 00, which Wireshark reads as the EtherType 0x0800; 10.0.0.138:53 ->
    /// 10.0.0.1:58125.
    const NULL_ETHERTYPE: &str = "
        0f00 0800 4500 0189 0000 4000 4011 24da
        0a00 008a 0a00 0001 0035 e30d 0175 192a";

    #[test]
    fn null_header_holding_an_ethertype_or_ppp() {
        let b = hex(NULL_ETHERTYPE);
        let p = decode(LinkType::NULL, &b);
        assert_eq!(layers(&p), ["ipv4", "udp", "cooked"]);
        // PPP in HDLC-like framing on a null link.
        let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
        ppp.extend(&b[4..]);
        assert_eq!(
            layers(&decode(LinkType::NULL, &ppp)),
            ["ipv4", "udp", "cooked"]
        );
    }

    /// tcpdump `arcnet-rfc1201-arp-icmp-http.pcap` frames 1 and 3 (cut after the ICMP
    /// header): source 0xbe, destination 0x00 / 0x50, offset, protocol 213 (ARP) / 212 (IPv4),
    /// split flag, sequence; an ARP request with 1-byte ARCnet addresses, then 10.80.131.1 ->
    /// 10.80.131.254 ICMP echo request.
    const ARCNET_ARP: &str = "
        be00 ea08 d500 0165 0007 0800 0104 0001
        be0a 5083 0100 0a50 83fe";
    const ARCNET_ICMP: &str = "
        be50 a8e7 d400 0166 4500 0054 0000 4000
        4001 1f0a 0a50 8301 0a50 83fe 0800 925e
        e800 0000";

    #[test]
    fn arcnet_arp_and_ipv4() {
        let arp = hex(ARCNET_ARP);
        let p = decode(LinkType::ARCNET_LINUX, &arp);
        assert_eq!(layers(&p), ["arp", "cooked"]);
        assert!(p.anomalies.is_empty() && p.arp.is_none());
        let b = hex(ARCNET_ICMP);
        let p = decode(LinkType::ARCNET_LINUX, &b);
        assert_eq!(layers(&p), ["ipv4", "icmp", "cooked"]);
        // RFC 1051 IPv4 (240): no split flag or sequence.
        let mut v1051 = b[..4].to_vec();
        v1051.push(240);
        v1051.extend(&b[8..]);
        assert_eq!(
            layers(&decode(LinkType::ARCNET_LINUX, &v1051)),
            ["ipv4", "icmp", "cooked"]
        );
    }

    /// tcpdump `bgp-aigp.pcap` frame 1, cut after the TCP ports: Juniper "MGC", flags 0x80
    /// (extensions, 16 bytes of TLVs), then Ethernet, 172.16.20.5:59631 -> 172.16.20.3:179.
    const JUNIPER_BGP: &str = "
        4d47 4380 0010 0301 0106 010e 0102 8c00
        0404 4c01 0000 0050 568b 5e9f 0050 568b
        6dde 0800 45c0 00b6 88f7 0000 4006 7062
        ac10 1405 ac10 1403 e8ef 00b3";

    #[test]
    fn juniper_ethernet() {
        let b = hex(JUNIPER_BGP);
        let p = decode(LinkType::JUNIPER_ETHER, &b);
        assert_eq!(layers(&p), ["eth", "ipv4", "tcp", "cooked"]);
        let mut bad = b.clone();
        bad[0] = b'X';
        assert_eq!(layers(&decode(LinkType::JUNIPER_ETHER, &bad)), ["cooked"]);
    }

    /// tcpdump `LINKTYPE_PKTAP.pcap` frame 1, cut after the UDP header: a 108-byte PKTAP
    /// header (record type 1, DLT 1, interface "en0"), then Ethernet, 10.32.4.27:63538 ->
    /// 10.32.100.15:53.
    const PKTAP_DNS: &str = "
        6c00 0000 0100 0000 0100 0000 656e 3000
        0000 0000 0000 0000 0000 0000 0000 0000
        0000 0000 0200 0000 0200 0000 0e00 0000
        0000 0000 0002 0000 0000 0000 0000 0000
        0000 0000 0000 0000 0000 0000 0000 0000
        0000 0000 ffff ffff 0000 0000 0000 0000
        0000 0000 0000 0000 0000 0000 001e 491f
        f2c4 7073 cb0b 262a 0800 4500 003c 2e03
        0000 ff11 1144 0a20 041b 0a20 640f f832
        0035 0028 4814";

    /// nDPI `someip_sd_sample.pcap` frame 1, cut after the UDP header: PPI version 0, length
    /// 16, DLT 1, one field; then Ethernet, 192.168.88.73:30490 -> 235.2.3.5:30490.
    const PPI_UDP: &str = "
        0000 1000 0100 0000 0800 0400 0000 0000
        0100 5e02 0305 0054 afe7 0340 0800 4500
        0054 0000 4000 ff11 749f c0a8 5849 eb02
        0305 771a 771a 0040 e278";

    #[test]
    fn pktap_and_ppi_name_the_inner_link() {
        let b = hex(PKTAP_DNS);
        for link in [LinkType::PKTAP, LinkType::USER2_PKTAP] {
            assert_eq!(layers(&decode(link, &b)), ["eth", "ipv4", "udp", "cooked"]);
        }
        // A PKTAP header naming PKTAP is not followed (the recursion stays one level deep).
        let mut nested = b.clone();
        nested[8..12].copy_from_slice(&258u32.to_le_bytes());
        assert_eq!(layers(&decode(LinkType::PKTAP, &nested)), ["cooked"]);
        let ppi = hex(PPI_UDP);
        let p = decode(LinkType::PPI, &ppi);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp", "cooked"]);
    }

    /// tcpdump `e1000g.pcap` frame 1, cut after the ICMP header: Solaris ipnet (version 1,
    /// AF_INET), 129.146.106.55 -> 10.5.233.117 ICMP echo request id 6901.
    const IPNET_ICMP: &str = "
        0102 0000 0000 0054 0000 0002 0000 0000
        ffff ffff 0000 0000 4500 0054 e58e 0000
        f901 fcd5 8192 6a37 0a05 e975 0800 32e2
        1af5 0000";

    /// tcpdump `ipoib.pcap` frame 1, cut after the ICMP header: 40 bytes of IPoIB addresses,
    /// EtherType IPv4, 192.168.56.10 -> 192.168.56.24 ICMP echo request id 6495.
    const IPOIB_ICMP: &str = "
        0000 0000 0000 0000 0000 0000 0000 0000
        2fa3 000a 8000 0550 fe80 0000 0000 0000
        0010 e000 664a b451 0800 0000 4500 0054
        aefe 0000 ff01 1b37 c0a8 380a c0a8 3818
        0800 2bfb 195f 0000";

    #[test]
    fn ipnet_ipoib_and_clip() {
        let ipnet = hex(IPNET_ICMP);
        let p = decode(LinkType::IPNET, &ipnet);
        assert_eq!(layers(&p), ["ipv4", "icmp", "cooked"]);
        let ipoib = hex(IPOIB_ICMP);
        let p = decode(LinkType::IPOIB, &ipoib);
        assert_eq!(layers(&p), ["ipv4", "icmp", "cooked"]);
        let Transport::Icmp(i) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!(i.ident, 6495);
        // tcpdump `heap-overflow-2.pcap`: a 1-byte CLIP frame, 0x30, is a bogus IPv4 header.
        let p = decode(LinkType::LINUX_ATM_CLIP, &[0x30]);
        assert_eq!(layers(&p), ["ipv4", "cooked"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpVersion]));
    }

    #[test]
    fn unsupported_link_type_sets_only_that_anomaly() {
        let b = hex(IPV4_SYN_ECN);
        // 195 = IEEE 802.15.4, 147 = USER0.
        for lt in [195, 147, 0xFFFF] {
            let p = decode(LinkType(lt), &b);
            assert_eq!(p.anomalies, anomalies(&[Anomaly::UnsupportedLinkType]));
            assert!(p.layers.is_empty() && p.ip.is_none());
            let p = decode_wire(LinkType(lt), &b, 1);
            assert_eq!(p.anomalies, anomalies(&[Anomaly::UnsupportedLinkType]));
        }
    }

    #[test]
    fn empty_and_short_cooked_headers() {
        let p = decode(LinkType::ETHERNET, &[]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadFrameLength]));
        assert!(p.layers.is_empty());
        let b = hex(SLL2_SYN);
        let p = decode(LinkType::LINUX_SLL2, &b[..19]);
        assert_eq!(layers(&p), ["cooked"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
        let p = decode(LinkType::NULL, &[2, 0]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
        // A protocol named but not captured: the IP layer promised is missing.
        let p = decode(LinkType::LINUX_SLL2, &b[..20]);
        assert_eq!(layers(&p), ["cooked"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedIpv4]));
        // Capture length above the wire length.
        let p = decode_wire(LinkType::LINUX_SLL2, &b, 10);
        assert!(p.anomalies.contains(Anomaly::BadFrameLength));
        assert!(p.layers.contains(Layer::Tcp));
    }

    #[test]
    fn sll_non_ethertype_protocols_stop_quietly() {
        let mut b = hex(SLL_IPV6_TCP);
        // ARPHRD_NETLINK: the protocol field is a netlink family.
        b[2..4].copy_from_slice(&824u16.to_be_bytes());
        assert_eq!(layers(&decode(LinkType::LINUX_SLL, &b)), ["cooked"]);
        // ETH_P_802_2 with a non-SNAP LLC header (STP: DSAP 0x42).
        let mut b = hex(SLL_IPV6_TCP);
        b[14..16].copy_from_slice(&4u16.to_be_bytes());
        b[16..19].copy_from_slice(&[0x42, 0x42, 0x03]);
        let p = decode(LinkType::LINUX_SLL, &b);
        assert_eq!(layers(&p), ["cooked"]);
        assert!(p.anomalies.is_empty());
    }
}
