//! Link-layer framings: the per-link-type entry point, Linux cooked capture (SLL, SLL2), BSD
//! null/loopback and raw IP. Ethernet itself lives in [`crate::ethernet`].
//!
//! Formats follow the tcpdump.org LINKTYPE_ registry pages (`LINKTYPE_LINUX_SLL`,
//! `LINKTYPE_LINUX_SLL2`, `LINKTYPE_NULL`, `LINKTYPE_LOOP`, `LINKTYPE_RAW`).

use crate::bytes::{u16_at, u32_at, Field, Region};
use crate::decoder::Cx;
use crate::{ethernet, ipv4, ipv6, Anomaly, Layer, LinkType};

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
    match link {
        LinkType::ETHERNET => ethernet::decode(r, cx),
        LinkType::LINUX_SLL => cooked(r, cx, sll::HEADER_LEN, sll::PROTOCOL, sll::ARPHRD),
        LinkType::LINUX_SLL2 => cooked(r, cx, sll2::HEADER_LEN, sll2::PROTOCOL, sll2::ARPHRD),
        LinkType::NULL | LinkType::LOOP => null(r, cx),
        LinkType::IPV4 => ipv4::decode(r, cx),
        LinkType::IPV6 => ipv6::decode(r, cx),
        // RAW, RAW_BSD12, RAW_BSD14: the version nibble says which IP it is.
        _ => ip_by_version(r, cx),
    }
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

/// BSD null / OpenBSD loop: a 4-byte address family.
///
/// LINKTYPE_NULL stores it in the writer's byte order, which the file does not record for us
/// here; LINKTYPE_LOOP always uses network order. Address families are small, so a value with
/// any of its upper 16 bits set must have been written in the other order: this reads both
/// link types correctly.
fn null<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    if r.bytes.len() < null::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let mut family = u32_at(r.bytes, null::FAMILY).swap_bytes(); // read little-endian
    if family & 0xFFFF_0000 != 0 {
        family = family.swap_bytes();
    }
    let payload = r.advance(null::HEADER_LEN);
    if family == AF_INET {
        ipv4::decode(payload, cx);
    } else if AF_INET6.contains(&family) {
        ipv6::decode(payload, cx);
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
        // LINKTYPE_IPV4 holding IPv6 is a bad version, not a silent switch.
        let p = decode(LinkType::IPV4, &v6);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpVersion]));
        let p = decode(LinkType::RAW, &[0x50, 0, 0, 0]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpVersion]));
        assert!(p.layers.is_empty());
    }

    #[test]
    fn unsupported_link_type_sets_only_that_anomaly() {
        let b = hex(IPV4_SYN_ECN);
        // 105 = IEEE 802.11, 127 = radiotap.
        for lt in [105, 127, 0xFFFF] {
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
