//! Encapsulations: IP-in-IP (RFC 2003, RFC 4213 §3.5), GRE (RFC 2784, RFC 2890; PPTP's
//! enhanced GRE, RFC 2637 §4.1), ERSPAN types I–III (draft-foschiano-erspan-03), VXLAN
//! (RFC 7348 §5) / VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-12 §3), WCCP's GRE redirection
//! (draft-wilson-wrec-wccp-v2-01 §4.12), Cisco MetaData in GRE, Ethernet in IP (protocol 143,
//! SRv6 L2 services, RFC 8986 §4.9), and, in the submodules, the UDP-carried tunnels (GTP-U,
//! Geneve, Teredo, CAPWAP data, MPLS over UDP, L2TPv2, LISP) and PIM registers. (NSH, after
//! VXLAN-GPE or GRE, is decoded by the EtherType dispatch.)
//!
//! Each entry into an inner packet counts against [`MAX_ENCAPSULATIONS`](crate::MAX_ENCAPSULATIONS).

mod capwap;
mod geneve;
mod gtp;
mod l2tp;
mod lisp;
mod pim;
mod teredo;

use crate::bytes::{u16_at, u32_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::ethernet::{ethertype, ETHERTYPE_MIN};
use crate::{ethernet, ipv4, ipv6, mpls, ppp, Anomaly, Layer, TunnelUdp};

pub(crate) use pim::decode as pim;

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
    pub const GPE_IPV4: u8 = 1;
    pub const GPE_IPV6: u8 = 2;
    pub const GPE_ETHERNET: u8 = 3;
    pub const GPE_NSH: u8 = 4;
    pub const GPE_MPLS: u8 = 5;
}

/// WCCPv2 redirect header (draft-wilson-wrec-wccp-v2-01 §4.12).
const WCCP_REDIRECT_LEN: usize = 4;

/// Cisco MetaData (SGT tagging) as a GRE protocol: after GRE its header starts with the
/// EtherType of what follows, then version, length (4-byte words of options) and the options
/// (Wireshark's `cmd` dissector).
mod cmd {
    use super::Field;
    pub const PROTOCOL: u16 = 0x8909;
    pub const ETHERTYPE: Field = 0..2;
    pub const LENGTH: usize = 3;
    pub const FIXED_LEN: usize = 4;
}

/// IANA-assigned VXLAN port (RFC 7348 §5).
pub const VXLAN_PORT: u16 = 4789;
/// IANA-assigned VXLAN-GPE port.
pub const VXLAN_GPE_PORT: u16 = 4790;
/// L2TP (RFC 2661 §8.1).
const L2TP_PORT: u16 = 1701;
/// GTP-U (3GPP TS 29.281 §4.4.2.3). GTP-C (2123) is signalling and carries no packet.
const GTP_U_PORT: u16 = 2152;
/// Teredo (RFC 4380 §2.1, §4).
const TEREDO_PORT: u16 = 3544;
/// CAPWAP data channel (RFC 5415 §15.2). The control channel (5246) carries no packet.
const CAPWAP_DATA_PORT: u16 = 5247;
/// Geneve (RFC 8926 §3.3).
const GENEVE_PORT: u16 = 6081;
/// LISP data plane (RFC 9300 §5) and control plane (RFC 9301 §5).
const LISP_DATA_PORT: u16 = 4341;
const LISP_CONTROL_PORT: u16 = 4342;
/// MPLS in UDP (RFC 7510 §3).
const MPLS_UDP_PORT: u16 = 6635;

/// The UDP-carried tunnels, by the port that names them.
#[derive(Clone, Copy)]
enum UdpTunnel {
    Vxlan,
    VxlanGpe,
    L2tp,
    GtpU,
    Teredo,
    CapwapData,
    Geneve,
    MplsUdp,
    LispData,
    LispControl,
}

#[inline(always)]
fn udp_tunnel(port: u16) -> Option<UdpTunnel> {
    match port {
        VXLAN_PORT => Some(UdpTunnel::Vxlan),
        VXLAN_GPE_PORT => Some(UdpTunnel::VxlanGpe),
        L2TP_PORT => Some(UdpTunnel::L2tp),
        GTP_U_PORT => Some(UdpTunnel::GtpU),
        TEREDO_PORT => Some(UdpTunnel::Teredo),
        CAPWAP_DATA_PORT => Some(UdpTunnel::CapwapData),
        GENEVE_PORT => Some(UdpTunnel::Geneve),
        MPLS_UDP_PORT => Some(UdpTunnel::MplsUdp),
        LISP_DATA_PORT => Some(UdpTunnel::LispData),
        LISP_CONTROL_PORT => Some(UdpTunnel::LispControl),
        _ => None,
    }
}

/// Whether a UDP port names a tunnel that [`over_udp`] may follow (the fast path leaves such
/// datagrams to the general decoder).
#[inline(always)]
pub fn is_tunnel_port(port: u16) -> bool {
    udp_tunnel(port).is_some()
}

/// An IP packet inside IP: IPv4 (protocol 4, RFC 2003) or IPv6 (protocol 41, RFC 4213).
pub(crate) fn ip_in_ip<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>, inner_v6: bool) {
    cx.layer(Layer::IpInIp);
    if !cx.enter_tunnel() {
        return;
    }
    if inner_v6 {
        ipv6::decode(r, cx)
    } else {
        ipv4::decode(r, cx)
    }
}

/// GRE, version 0 (RFC 2784/2890) or 1 (PPTP, RFC 2637 §4.1).
pub(crate) fn gre<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    cx.layer(Layer::Gre);
    if b.len() < gre::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    let fv = u16_at(b, gre::FLAGS_VERSION);
    let proto = u16_at(b, gre::PROTOCOL);
    let present = |flag: u16| usize::from(fv & flag != 0) * gre::OPTION_LEN;
    let len = match fv & gre::VERSION {
        0 if fv & gre::ROUTING != 0 => return,
        0 => gre::HEADER_LEN + present(gre::CHECKSUM) + present(gre::KEY) + present(gre::SEQUENCE),
        // The key field (payload length, call id) is mandatory in version 1.
        1 => gre::HEADER_LEN + gre::OPTION_LEN + present(gre::SEQUENCE) + present(gre::ACK),
        _ => return,
    };
    if b.len() < len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    let inner = r.advance(len);
    // Keepalives and PPTP acknowledgments carry nothing.
    if inner.is_empty() || !cx.enter_tunnel() {
        return;
    }
    match proto {
        ethertype::TEB => ethernet::decode(inner, cx),
        ethertype::PPP => ppp::ppp(inner, cx, Anomaly::TruncatedTunnel),
        // Without a GRE sequence number this is type I, which has no ERSPAN header.
        ethertype::ERSPAN_II if fv & gre::SEQUENCE == 0 => ethernet::decode(inner, cx),
        ethertype::ERSPAN_II | ethertype::ERSPAN_III => erspan(inner, cx),
        // WCCPv2 adds a 4-byte redirect header, WCCPv1 none: like Wireshark, tell them apart
        // by whether an IPv4 header starts right away.
        ethertype::WCCP if u8_at(inner.bytes, 0) >> 4 == 4 => ipv4::decode(inner, cx),
        ethertype::WCCP => ipv4::decode(inner.advance(WCCP_REDIRECT_LEN), cx),
        // Not the Ethernet layout of Cisco MetaData (EtherType last), which `dispatch` reads.
        cmd::PROTOCOL => cisco_metadata(inner, cx),
        t if t >= ETHERTYPE_MIN => ethernet::dispatch(t, inner, cx),
        _ => {}
    }
}

/// Cisco MetaData after GRE: its EtherType, then the options it says are there. Dispatched
/// once (no GRE or MetaData again without another [`Cx::enter_tunnel`]).
fn cisco_metadata<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    let len = cmd::FIXED_LEN + usize::from(u8_at(b, cmd::LENGTH)) * 4;
    if b.len() < len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    match u16_at(b, cmd::ETHERTYPE) {
        ethertype::TEB => ethernet::decode(r.advance(len), cx),
        t if t >= ETHERTYPE_MIN => ethernet::dispatch(t, r.advance(len), cx),
        _ => {}
    }
}

/// An Ethernet frame directly in IP (protocol 143; SRv6 L2 services, RFC 8986 §4.9).
pub(crate) fn ethernet_in_ip<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if cx.enter_tunnel() {
        ethernet::decode(r, cx);
    }
}

/// An ERSPAN type II or III header, then the mirrored Ethernet frame.
fn erspan<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    let len = match u8_at(b, erspan::VERSION) >> 4 {
        erspan::VERSION_II => erspan::TYPE_II_LEN,
        erspan::VERSION_III => {
            if b.len() < erspan::TYPE_III_LEN {
                cx.anomaly(Anomaly::TruncatedTunnel);
                return;
            }
            let w = u32_at(b, erspan::TYPE_III_WORD3);
            if (w >> erspan::TYPE_III_FT_SHIFT) & erspan::TYPE_III_FT_MASK != erspan::FT_ETHERNET {
                return;
            }
            if w & erspan::TYPE_III_O != 0 {
                erspan::TYPE_III_LEN + erspan::PLATFORM_SUBHEADER_LEN
            } else {
                erspan::TYPE_III_LEN
            }
        }
        _ => return,
    };
    if b.len() < len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    ethernet::decode(r.advance(len), cx);
}

/// A UDP payload that a tunnel port names (`src`, `dst`: the carrier's ports; `r`: its
/// payload). As Wireshark does, the lower port is tried first, so both directions of a
/// conversation decode alike.
///
/// Sets [`Packet::tunnel_udp`](crate::Packet::tunnel_udp) to this carrier when it is the
/// outermost UDP tunnel and an IP header inside it was decoded (so that [`Packet::ip`] and
/// [`Packet::transport`](crate::Packet::transport) no longer describe the carrier).
pub(crate) fn over_udp<'a>(src: u16, dst: u16, r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let (low, high) = if src <= dst { (src, dst) } else { (dst, src) };
    let Some(kind) = udp_tunnel(low).or_else(|| udp_tunnel(high)) else {
        return;
    };
    if r.is_empty() {
        return;
    }
    // The carrier's IP header is the innermost one so far: UDP follows it directly.
    let carrier = cx.pkt.ip.map(|ip| TunnelUdp {
        src: ip.src,
        dst: ip.dst,
        src_port: src,
        dst_port: dst,
        ip_total_len: ip.total_len,
    });
    let carrier_depth = cx.pkt.tunnel_depth;
    let outermost = cx.pkt.tunnel_udp.is_none();
    match kind {
        UdpTunnel::Vxlan => vxlan(r, cx, false),
        UdpTunnel::VxlanGpe => vxlan(r, cx, true),
        UdpTunnel::L2tp => l2tp::decode(r, cx),
        UdpTunnel::GtpU => gtp::decode(r, cx),
        UdpTunnel::Teredo => teredo::decode(r, cx),
        UdpTunnel::CapwapData => capwap::decode(r, cx),
        UdpTunnel::Geneve => geneve::decode(r, cx),
        UdpTunnel::LispData => lisp::data(r, cx),
        UdpTunnel::LispControl => lisp::control(r, cx),
        UdpTunnel::MplsUdp => {
            if cx.enter_tunnel() {
                mpls::decode(r, cx);
            }
        }
    }
    // `set_ip` records the depth of each IP header: a deeper one means the inner packet
    // replaced the carrier. A nested UDP tunnel set the field first; the outermost wins.
    if outermost && cx.pkt.tunnel_depth > carrier_depth {
        cx.pkt.tunnel_udp = carrier;
    }
}

/// VXLAN: only with the I flag set (RFC 7348 §5), which keeps ordinary traffic that happens to
/// use port 4789 as an ephemeral port from being misread.
fn vxlan<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>, gpe: bool) {
    let b = r.bytes;
    if b.is_empty() {
        return;
    }
    let flags = u8_at(b, vxlan::FLAGS);
    if flags & vxlan::FLAG_I == 0 {
        return;
    }
    cx.layer(Layer::Vxlan);
    if b.len() < vxlan::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    if !cx.enter_tunnel() {
        return;
    }
    let inner = r.advance(vxlan::HEADER_LEN);
    if !gpe {
        return ethernet::decode(inner, cx);
    }
    // The next protocol field decides even without the P flag, as in Wireshark (tshark
    // decodes `arkime_synthetic.pcap`'s GPE packets with flags 0x08 as IPv4 this way).
    match u8_at(b, vxlan::NEXT_PROTOCOL) {
        vxlan::GPE_IPV4 => ipv4::decode(inner, cx),
        vxlan::GPE_IPV6 => ipv6::decode(inner, cx),
        vxlan::GPE_ETHERNET => ethernet::decode(inner, cx),
        vxlan::GPE_NSH => ethernet::dispatch(ethertype::NSH, inner, cx),
        vxlan::GPE_MPLS => ethernet::dispatch(ethertype::MPLS_UNICAST, inner, cx),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, eth, ether, hex, ipv4, ipv6, layers, tcp, udp};
    use crate::{decode, tcp_flags, IcmpInfo, LinkType, Transport, MAX_ENCAPSULATIONS};
    use std::net::{IpAddr, Ipv4Addr};

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    /// Arkime `gre-sample.pcap` frame 1: 172.27.1.66 -> 66.59.109.137 GRE v0 (no options)
    /// carrying 66.59.111.190 -> 172.28.2.3 ICMP echo request id 52072 seq 256.
    const GRE_ICMP: &str = "
        00c0 ca14 b052 0002 2d56 4afd 0800 4500
        006c 0000 4000 ff2f 1e41 ac1b 0142 423b
        6d89 0000 0800 4500 0054 0000 4000 4001
        da90 423b 6fbe ac1c 0203 0800 46c9 cb68
        0100 7072 e63e 9719 0c00 0809 0a0b 0c0d
        0e0f 1011 1213 1415 1617 1819 1a1b 1c1d
        1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
        2e2f 3031 3233 3435 3637";

    /// Arkime `vxlan.pcap` frame 3: 192.168.56.11:48134 -> 192.168.56.12:4789, VXLAN (I flag,
    /// VNI 123), inner Ethernet, 10.0.0.1 -> 10.0.0.2 ICMP echo request id 3389 seq 1.
    const VXLAN_ICMP: &str = "
        0800 27f2 1d8c 0800 27ae 4d62 0800 4500
        0086 d999 4000 4011 6f65 c0a8 380b c0a8
        380c bc06 12b5 0072 0000 0800 0000 0000
        7b00 4a7f 013b a271 ba09 2b6e f8be 0800
        4500 0054 2f4f 4000 4001 f757 0a00 0001
        0a00 0002 0800 4c8a 0d3d 0001 a38c 7c57
        0000 0000 b580 0a00 0000 0000 1011 1213
        1415 1617 1819 1a1b 1c1d 1e1f 2021 2223
        2425 2627 2829 2a2b 2c2d 2e2f 3031 3233
        3435 3637";

    /// Arkime `gre-erspan-vxlan.pcap` frame 1: 100.20.9.2 -> 100.20.9.1 GRE (S flag, seq 0)
    /// ERSPAN type II (session 0), mirrored frame 172.16.27.131:4789 -> 172.16.27.121:4790
    /// VXLAN (flags 0x0c), inner 10.16.27.12:65174 -> 10.16.27.131:80 TCP SYN.
    const ERSPAN_VXLAN_SYN: &str = "
        bbbb bbbb bbb1 aaaa aaaa aaa1 0800 4500
        008c 0001 0000 402f a017 6414 0902 6414
        0901 1000 88be 0000 0000 1000 0014 0000
        0001 ffdd ffff fff1 eeee eeee eee1 0800
        4500 005a 0001 0000 4011 eb75 ac10 1b83
        ac10 1b79 12b5 12b6 0046 a3b7 0c00 0003
        0000 0000 dddd dddd ddd1 aabb ccdd ccc1
        0800 4500 0028 0001 0000 4006 3021 0a10
        1b0c 0a10 1b83 fe96 0050 0000 0000 0000
        0000 5002 2000 464d 0000";

    /// PcapPlusPlus `GrePackets.cap` frame 26: 20.0.0.2 -> 20.0.0.1 enhanced GRE (PPTP,
    /// version 1, K and S: payload length 88, call 24, seq 7), PPP with address/control,
    /// protocol 0x0021, 17.1.1.122 -> 40.0.0.2 ICMP echo request id 6187 seq 1.
    const PPTP_GRE_ICMP: &str = "
        0009 e955 c01c 0014 0000 0200 0800 4500
        0078 18d8 0000 402f 397d 1400 0002 1400
        0001 3001 880b 0058 0018 0000 0007 ff03
        0021 4500 0054 1101 0000 4001 2f2c 1101
        017a 2800 0002 0800 4500 182b 0001 0000
        0000 53c6 8380 0000 0000 0003 04b7 1011
        1213 1415 1617 1819 1a1b 1c1d 1e1f 2021
        2223 2425 2627 2829 2a2b 2c2d 2e2f 3031
        3233 3435 3637";

    /// tcpdump `various_gre.pcap` frame 25: VLAN 1213, 10.172.64.6 -> 10.172.64.7 GRE (K, key
    /// 40) protocol 0x8909 Cisco MetaData (EtherType IPv4 first, version 1, length 1, SGT 0),
    /// 172.17.1.54 -> 172.17.1.55 ICMP echo request id 1 seq 0.
    const GRE_CMD_ICMP: &str = "
        aabb cc00 0200 aabb cc00 0100 8100 04bd
        0800 4500 0088 0091 0000 ff2f 2551 0aac
        4006 0aac 4007 2000 8909 0000 0028 0800
        0101 0001 0000 4500 0064 0005 0000 ff01
        6104 ac11 0136 ac11 0137 0800 64fe 0001
        0000 0000 0000 000c 193f abcd abcd abcd
        abcd abcd abcd abcd abcd abcd abcd abcd
        abcd abcd abcd abcd abcd abcd abcd abcd
        abcd abcd abcd abcd abcd abcd abcd abcd
        abcd abcd abcd abcd abcd";

    /// tcpdump `mpls-over-udp.pcap` frame 1: 10.100.12.170:58699 -> 10.100.13.157:6635, one
    /// MPLS label (21, bottom of stack, TTL 63), 10.3.0.10 -> 10.1.0.10 ICMP echo request id
    /// 42731 seq 16.
    const MPLS_UDP_ICMP: &str = "
        529a 00c8 4f88 529a 0082 5c62 0800 4500
        0074 676f 0000 4011 e3fb 0a64 0caa 0a64
        0d9d e54b 19eb 0060 0000 0001 513f 4500
        0054 676f 4000 3f01 c022 0a03 000a 0a01
        000a 0800 7643 a6eb 0010 9407 3f5e 0000
        0000 4588 0300 0000 0000 1011 1213 1415
        1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
        2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
        3637";

    /// tcpdump `ipv6-srh-ipproto-ether.pcap` frame 1: a::1 -> c::2, segment routing header
    /// (next header 143 = Ethernet, segments left 0), an Ethernet frame, a::2 -> e::2 ICMPv6
    /// echo request id 0x4854 seq 1339.
    const SRV6_ETHERNET: &str = "
        d667 194e 0f4f bef5 0609 4474 86dd 600d
        e027 008e 2b3f 000a 0000 0000 0000 0000
        0000 0000 0001 000c 0000 0000 0000 0000
        0000 0000 0002 8f02 0400 0000 0000 000c
        0000 0000 0000 0000 0000 0000 0002 1e1d
        dfcd 547a ae64 423b 5b9a 86dd 600d e027
        0040 3a40 000a 0000 0000 0000 0000 0000
        0000 0002 000e 0000 0000 0000 0000 0000
        0000 0002 8000 d5f1 4854 053b 9879 295f
        0000 0000 cf3c 0c00 0000 0000 1011 1213
        1415 1617 1819 1a1b 1c1d 1e1f 2021 2223
        2425 2627 2829 2a2b 2c2d 2e2f 3031 3233
        3435 3637";

    /// tcpdump `nsh-over-vxlan-gpe.pcap` frame 1: 127.0.0.1:4790 -> 127.0.0.1:4790,
    /// VXLAN-GPE (I, P; next protocol 4 = NSH, VNI 16777215), NSH (length 6 words, MD type 2
    /// with two context TLVs, next protocol IPv4), 192.168.0.1:10000 -> 192.168.0.2:20000 UDP
    /// "test".
    const NSH_OVER_GPE: &str = "
        0000 0000 0000 0000 0000 0000 0800 4500
        005c 4023 4000 4011 fc6b 7f00 0001 7f00
        0001 12b6 12b6 0048 49f7 0c00 0004 ffff
        ff00 3006 0201 ffff ffff 0001 0201 1234
        5678 0002 0301 1234 5678 4500 0020 d431
        0000 ff11 6647 c0a8 0001 c0a8 0002 2710
        4e20 000c 2178 7465 7374";

    #[test]
    fn gre_carrying_ipv4() {
        let b = hex(GRE_ICMP);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "icmp", "gre"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let ip = p.ip.expect("inner ip");
        assert_eq!((ip.src, ip.dst), (v4(66, 59, 111, 190), v4(172, 28, 2, 3)));
        assert_eq!(p.tunnel_depth, 1);
        let want = IcmpInfo {
            icmp_type: 8,
            code: 0,
            ident: 52072,
            seq: 256,
        };
        assert_eq!(p.transport, Transport::Icmp(want));
        // GRE header cut short.
        let p = eth(&b[..14 + 20 + 3]);
        assert_eq!(layers(&p), ["eth", "ipv4", "gre"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
        assert_eq!(p.ip.map(|i| i.src), Some(v4(172, 27, 1, 66)));
    }

    #[test]
    fn vxlan_inner_packet_wins_outer_ethernet_stays() {
        let b = hex(VXLAN_ICMP);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp", "icmp", "vxlan"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(
            p.eth.map(|e| e.src),
            Some([0x08, 0x00, 0x27, 0xae, 0x4d, 0x62])
        );
        assert_eq!(p.ip.map(|i| i.src), Some(v4(10, 0, 0, 1)));
        assert!(matches!(p.transport, Transport::Icmp(i) if i.ident == 3389));
        assert_eq!((p.tunnel_depth, p.payload.len()), (1, 56));
        // Inner IPv4 header cut: the outer IP and its UDP are the deepest readable.
        let p = eth(&b[..14 + 20 + 8 + 8 + 14 + 10]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedIpv4]));
        assert_eq!(p.ip.map(|i| i.src), Some(v4(192, 168, 56, 11)));
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == VXLAN_PORT));
        assert_eq!(p.tunnel_depth, 0);
        // Without the I flag this is ordinary UDP that happens to use port 4789.
        let mut b = hex(VXLAN_ICMP);
        b[42] = 0;
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp"]);
        assert!(matches!(p.transport, Transport::Udp(_)));
    }

    #[test]
    fn erspan_ii_then_vxlan_two_levels_deep() {
        let b = hex(ERSPAN_VXLAN_SYN);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "tcp", "udp", "gre", "vxlan"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(
            p.eth.map(|e| e.dst),
            Some([0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xb1])
        );
        assert_eq!(
            p.ip.map(|i| (i.src, i.dst)),
            Some((v4(10, 16, 27, 12), v4(10, 16, 27, 131)))
        );
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!(
            (t.src_port, t.dst_port, t.flags),
            (65174, 80, tcp_flags::SYN)
        );
        assert_eq!(p.tunnel_depth, 2);
        // ERSPAN type I: the same GRE without a sequence number has no ERSPAN header.
        let mut b1 = hex(ERSPAN_VXLAN_SYN);
        b1[34] = 0x00; // clear S
        b1.drain(38..50); // drop the sequence number and the type II header
        let p = eth(&b1);
        assert_eq!(p.ip.map(|i| i.dst), Some(v4(10, 16, 27, 131)));
    }

    #[test]
    fn pptp_enhanced_gre_with_ppp() {
        let b = hex(PPTP_GRE_ICMP);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "icmp", "gre"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(p.ip.map(|i| i.dst), Some(v4(40, 0, 0, 2)));
        assert!(matches!(p.transport, Transport::Icmp(i) if i.ident == 6187));
    }

    /// GRE header with the given flags/version and protocol, then `options` and `payload`.
    fn gre_packet(flags: u16, proto: u16, options: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut g = flags.to_be_bytes().to_vec();
        g.extend(proto.to_be_bytes());
        g.extend(options);
        g.extend(payload);
        ipv4(47, &g)
    }

    #[test]
    fn gre_optional_fields_and_ethernet_bridging() {
        let inner = ipv4(17, &udp(1, 2, b"x"));
        // Checksum, key and sequence: 12 option bytes (RFC 2784 §2.1, RFC 2890 §2).
        let b = gre_packet(0xB000, 0x0800, &[0; 12], &inner);
        let p = decode(LinkType::RAW, &b);
        assert_eq!(layers(&p), ["ipv4", "udp", "gre"]);
        // Key only, then an Ethernet frame (transparent Ethernet bridging, NVGRE-style).
        let b = gre_packet(0x2000, 0x6558, &[0; 4], &ether(0x0800, &inner));
        let p = decode(LinkType::RAW, &b);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp", "gre"]);
        assert!(
            p.eth.is_some(),
            "the inner Ethernet is the outermost one here"
        );
        // Options announced but missing.
        let b = gre_packet(0xB000, 0x0800, &[0; 6], &[]);
        let p = decode(LinkType::RAW, &b);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
        // Routing present (RFC 1701) or an unknown version: GRE counted, not followed.
        for flags in [0x4000, 0x0002] {
            let b = gre_packet(flags, 0x0800, &[0; 8], &inner);
            let p = decode(LinkType::RAW, &b);
            assert_eq!(layers(&p), ["ipv4", "gre"]);
            assert!(p.anomalies.is_empty());
        }
    }

    #[test]
    fn cisco_metadata_in_gre() {
        let b = hex(GRE_CMD_ICMP);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "vlan", "ipv4", "icmp", "gre"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(p.ip.map(|i| i.src), Some(v4(172, 17, 1, 54)));
        assert!(matches!(p.transport, Transport::Icmp(i) if i.ident == 1));
        // Options longer than captured.
        let p = eth(&b[..18 + 20 + 8 + 6]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
    }

    #[test]
    fn mpls_over_udp() {
        let b = hex(MPLS_UDP_ICMP);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp", "icmp", "mpls"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert!(matches!(p.transport, Transport::Icmp(i) if i.ident == 42731 && i.seq == 16));
        let c = p.tunnel_udp.expect("carrier");
        assert_eq!(
            (c.src, c.dst, c.src_port, c.dst_port, c.ip_total_len),
            (v4(10, 100, 12, 170), v4(10, 100, 13, 157), 58699, 6635, 116)
        );
    }

    #[test]
    fn srv6_ethernet_payload() {
        let b = hex(SRV6_ETHERNET);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv6", "icmpv6"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert!(matches!(p.transport, Transport::Icmpv6(i) if i.ident == 0x4854));
        assert_eq!(p.tunnel_depth, 1);
        // The outermost Ethernet header stays the reported one.
        assert_eq!(
            p.eth.map(|e| e.src),
            Some([0xbe, 0xf5, 0x06, 0x09, 0x44, 0x74])
        );
    }

    #[test]
    fn nsh_over_vxlan_gpe() {
        let b = hex(NSH_OVER_GPE);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp", "vxlan"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert!(matches!(p.transport, Transport::Udp(u) if u.src_port == 10000));
        assert_eq!(p.payload, b"test");
        let c = p.tunnel_udp.expect("carrier");
        assert_eq!((c.src_port, c.dst_port, c.ip_total_len), (4790, 4790, 92));
    }

    #[test]
    fn tunnel_udp_is_the_outermost_carrier_of_an_inner_packet() {
        // VXLAN carrying GTP-U carrying IPv4/UDP: the VXLAN datagram is the carrier.
        let inner = ipv4(17, &udp(53, 53, b"q"));
        let mut g = vec![0x30, 0xff];
        g.extend((inner.len() as u16).to_be_bytes());
        g.extend([0, 0, 0, 1]);
        g.extend(&inner);
        let mid = ether(0x0800, &ipv4(17, &udp(2152, 2152, &g)));
        let mut vx = hex("0800 0000 0000 7b00");
        vx.extend(&mid);
        let b = ipv4(17, &udp(40000, VXLAN_PORT, &vx));
        let p = decode(LinkType::RAW, &b);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 53));
        assert_eq!(p.tunnel_depth, 2);
        let c = p.tunnel_udp.expect("carrier");
        assert_eq!((c.src_port, c.dst_port), (40000, VXLAN_PORT));
        assert_eq!(c.ip_total_len as usize, b.len());
        // No inner IP header (ARP in VXLAN): the carrier is still `ip`/`transport`, so no
        // separate carrier is reported.
        let mut vx = hex("0800 0000 0000 7b00");
        vx.extend(ether(0x0806, &[0; 28]));
        let pkt = ipv4(17, &udp(40000, VXLAN_PORT, &vx));
        let p = decode(LinkType::RAW, &pkt);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == VXLAN_PORT));
        assert_eq!(p.tunnel_udp, None);
        // Not a UDP tunnel: GRE.
        let pkt = gre_packet(0, 0x0800, &[], &inner);
        let p = decode(LinkType::RAW, &pkt);
        assert_eq!((p.tunnel_depth, p.tunnel_udp), (1, None));
        // The lower port decides: 2152 -> 4789 is GTP-U, not VXLAN.
        let b = ipv4(17, &udp(2152, VXLAN_PORT, &g));
        let p = decode(LinkType::RAW, &b);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 53));
    }

    #[test]
    fn ip_in_ip_both_ways() {
        let inner6 = ipv6(6, &tcp(0x02, &[]));
        let b = ipv4(41, &inner6);
        let p = decode(LinkType::RAW, &b);
        assert_eq!(layers(&p), ["ipv4", "ipv6", "tcp", "ipip"]);
        assert!(matches!(p.ip.map(|i| i.src), Some(IpAddr::V6(_))));
        let b = ipv6(4, &ipv4(17, &udp(1, 2, &[])));
        let p = decode(LinkType::RAW, &b);
        assert_eq!(layers(&p), ["ipv4", "ipv6", "udp", "ipip"]);
        assert!(matches!(p.ip.map(|i| i.src), Some(IpAddr::V4(_))));
        assert_eq!(p.tunnel_depth, 1);
    }

    #[test]
    fn encapsulation_depth_is_bounded() {
        let nest = |levels: usize| {
            let mut b = ipv4(17, &udp(7, 7, b"deep"));
            for _ in 0..levels {
                b = ipv4(4, &b);
            }
            b
        };
        let max = nest(usize::from(MAX_ENCAPSULATIONS));
        let p = decode(LinkType::RAW, &max);
        assert!(p.anomalies.is_empty());
        assert_eq!(p.tunnel_depth, MAX_ENCAPSULATIONS);
        assert!(matches!(p.transport, Transport::Udp(_)));
        let over = nest(usize::from(MAX_ENCAPSULATIONS) + 1);
        let p = decode(LinkType::RAW, &over);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TooManyEncapsulations]));
        assert_eq!(p.tunnel_depth, MAX_ENCAPSULATIONS);
        // The deepest IP followed is reported; its payload (another IPv4 header) is not.
        assert_eq!(p.ip.map(|i| i.proto), Some(crate::IpProto::IPIP));
        assert_eq!(p.transport, Transport::None);
    }
}
