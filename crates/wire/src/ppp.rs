//! PPPoE session frames (RFC 2516 §4) and the PPP protocol field (RFC 1661 §2), as carried by
//! PPPoE, by PPTP's enhanced GRE (RFC 2637 §4), and by the PPP link types (LINKTYPE_PPP,
//! LINKTYPE_PPP_HDLC, LINKTYPE_PPP_WITH_DIR).

use crate::bytes::{u16_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{chdlc, ethernet, ipv6, mpls, Anomaly, Layer};

/// PPPoE header (RFC 2516 §4): version/type, code, session id, payload length.
mod pppoe {
    use super::Field;
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    #[allow(
        dead_code,
        reason = "documents the layout; the session is not reported"
    )]
    pub const SESSION_ID: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const HEADER_LEN: usize = 6;
    /// Version 1, type 1 (RFC 2516 §4).
    pub const VER_TYPE_1_1: u8 = 0x11;
    /// Session data (RFC 2516 §4: the code is 0x00 in the session stage).
    pub const CODE_SESSION_DATA: u8 = 0x00;
}

/// PPP protocol numbers (IANA "PPP DLL Protocol Numbers").
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
const PPP_MPLS_UNICAST: u16 = 0x0281;
const PPP_MPLS_MULTICAST: u16 = 0x0283;
/// Cisco HDLC address bytes (unicast, multicast): a "PPP" link carrying Cisco HDLC frames,
/// which Wireshark and tcpdump both recognise by them.
const CHDLC_ADDRESSES: [u8; 2] = [0x0F, 0x8F];
/// The HDLC all-stations address (RFC 1662 §3.2).
const HDLC_ALL_STATIONS: u8 = 0xFF;
/// HDLC-like address and control bytes (RFC 1662 §3.1), which PPTP and some PPPoE peers keep.
const PPP_ADDRESS_CONTROL: [u8; 2] = [0xFF, 0x03];

/// A PPPoE session frame: [`Layer::Pppoe`], then PPP.
pub(crate) fn pppoe_session<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    if !cx.begin(b, Layer::Pppoe, Anomaly::TruncatedLink) {
        return;
    }
    if b.len() < pppoe::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    if u8_at(b, pppoe::VER_TYPE) != pppoe::VER_TYPE_1_1
        || u8_at(b, pppoe::CODE) != pppoe::CODE_SESSION_DATA
    {
        return;
    }
    // The length field excludes Ethernet padding.
    let len = usize::from(u16_at(b, pppoe::LENGTH));
    ppp(
        r.advance(pppoe::HEADER_LEN).bound(len),
        cx,
        Anomaly::TruncatedLink,
    )
}

/// A frame of a PPP link type ([`Layer::Cooked`]): Cisco HDLC if it starts with a Cisco
/// address; else an address and control field if it starts with 0xFF (both skipped whatever
/// the control byte, as Wireshark and tcpdump do), then the protocol field.
pub(crate) fn link<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    match r.bytes.first() {
        Some(a) if CHDLC_ADDRESSES.contains(a) => chdlc::decode(r, cx),
        Some(&HDLC_ALL_STATIONS) => {
            cx.layer(Layer::Cooked);
            protocol(
                r.advance(PPP_ADDRESS_CONTROL.len()),
                cx,
                Anomaly::TruncatedLink,
            );
        }
        _ => {
            cx.layer(Layer::Cooked);
            protocol(r, cx, Anomaly::TruncatedLink);
        }
    }
}

/// A PPP frame: optional address/control, then a 1-byte (compressed, RFC 1661 §6.5) or
/// 2-byte protocol; IPv4, IPv6 and MPLS are followed, anything else (LCP, IPCP, CCP ...) ends
/// the decode. `truncated` is the anomaly for a frame cut inside the protocol field.
pub(crate) fn ppp<'a>(mut r: Region<'a>, cx: &mut Cx<'a, '_>, truncated: Anomaly) {
    if r.bytes.starts_with(&PPP_ADDRESS_CONTROL) {
        r = r.advance(PPP_ADDRESS_CONTROL.len());
    }
    protocol(r, cx, truncated)
}

/// The PPP protocol field and what it names.
fn protocol<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>, truncated: Anomaly) {
    let first = match r.bytes.first() {
        Some(b) => *b,
        None => {
            cx.anomaly(truncated);
            return;
        }
    };
    // A protocol number's first byte is even and its last byte odd (RFC 1661 §2), so an odd
    // first byte is a compressed 1-byte protocol.
    let (proto, len) = if first & 1 == 1 {
        (u16::from(first), 1)
    } else if r.bytes.len() >= 2 {
        (u16_at(r.bytes, 0..2), 2)
    } else {
        cx.anomaly(truncated);
        return;
    };
    match proto {
        PPP_IPV4 => ethernet::ipv4_ethertype(r.advance(len), cx),
        PPP_IPV6 => ipv6::decode(r.advance(len), cx),
        PPP_MPLS_UNICAST | PPP_MPLS_MULTICAST => mpls::decode(r.advance(len), cx),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, eth, ether, hex, ipv4, layers, udp};
    use crate::Transport;

    /// Arkime `pppoe.pcap` frame 1: PPPoE session 0x069d, length 50, PPP protocol 0x0021,
    /// 172.202.246.57:1063 -> 64.12.189.217:443 SYN, MSS 1410, NOP, NOP, SACK-permitted.
    const PPPOE_SYN: &str = "
        0090 1aa0 3da4 0011 f513 d7a3 8864 1100
        069d 0032 0021 4500 0030 0137 4000 8006
        58a7 acca f639 400c bdd9 0427 01bb e942
        8755 0000 0000 7002 ffff 6bed 0000 0204
        0582 0101 0402";

    #[test]
    fn pppoe_session_ipv4() {
        let b = hex(PPPOE_SYN);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "tcp", "pppoe"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!(
            (t.src_port, t.dst_port, t.options.mss),
            (1063, 443, Some(1410))
        );
        assert!(t.options.sack_permitted);
    }

    #[test]
    fn pppoe_non_ip_and_truncated() {
        // LCP (0xc021) inside a session: PPPoE counted, nothing more.
        let b = ether(0x8864, &hex("1100 069d 0004 c021 0101"));
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "pppoe"]);
        assert!(p.anomalies.is_empty());
        let p = eth(&b[..14 + 4]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
    }

    /// nDPI `dlt_ppp.pcap` frame 1 (LINKTYPE_PPP), cut after the UDP header: no
    /// address/control, protocol 0x0021, 193.167.0.252:44083 -> 193.167.100.100:443.
    const LINK_PPP_UDP: &str = "
        0021 4502 04cc 413d 4000 3f11 0d33 c1a7
        00fc c1a7 6464 ac33 01bb 04b8 0000";

    /// tcpdump `mpls-traceroute.pcap` frame 1 (LINKTYPE_PPP_HDLC), cut after the UDP header:
    /// FF 03, protocol 0x0281 (MPLS unicast), label 100704, then 12.4.4.4:42315 ->
    /// 12.1.1.1:33435.
    const LINK_PPP_MPLS: &str = "
        ff03 0281 1896 0101 4500 0028 a54c 0000
        0111 f76f 0c04 0404 0c01 0101 a54b 829b
        0014 0000";

    #[test]
    fn ppp_link_types() {
        use crate::{decode, LinkType};
        let b = hex(LINK_PPP_UDP);
        let p = decode(LinkType::PPP, &b);
        assert_eq!(layers(&p), ["ipv4", "udp", "cooked"]);
        let Transport::Udp(u) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!((u.src_port, u.dst_port), (44083, 443));
        let b = hex(LINK_PPP_MPLS);
        for link in [LinkType::PPP_HDLC, LinkType::PPP] {
            let p = decode(link, &b);
            assert_eq!(layers(&p), ["ipv4", "udp", "mpls", "cooked"]);
        }
        // PPP_WITH_DIR: one direction byte first.
        let mut d = vec![1];
        d.extend(&b);
        assert_eq!(
            layers(&decode(LinkType::PPP_WITH_DIR, &d)),
            ["ipv4", "udp", "mpls", "cooked"]
        );
        // tcpdump `ppp_ip_udp_dns.pcap`: FF and any control byte are skipped; 0x7e08 is no
        // protocol we know.
        let unknown = hex("ff5f 7e08 0045 00c1");
        let p = decode(LinkType::PPP, &unknown);
        assert_eq!(layers(&p), ["cooked"]);
        assert!(p.anomalies.is_empty());
    }

    #[test]
    fn ppp_protocol_field_compression() {
        // Address/control present, 1-byte protocol 0x21 (RFC 1661 §6.5).
        let ip = ipv4(17, &udp(1, 2, &[]));
        let mut f = vec![0xff, 0x03, 0x21];
        f.extend(&ip);
        let mut pkt = crate::Packet::default();
        let mut cx = Cx::new(&mut pkt);
        let r = Region {
            bytes: &f,
            wire: f.len() as u32,
        };
        ppp(r, &mut cx, Anomaly::TruncatedTunnel);
        assert_eq!(cx.pkt.ip.map(|i| i.total_len), Some(ip.len() as u16));
        assert!(matches!(cx.pkt.transport, Transport::Udp(_)));
        let mut pkt = crate::Packet::default();
        let mut cx = Cx::new(&mut pkt);
        let r = Region {
            bytes: &f[..2],
            wire: 2,
        };
        ppp(r, &mut cx, Anomaly::TruncatedTunnel);
        assert_eq!(cx.pkt.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
        assert!(cx.pkt.layers.is_empty());
    }
}
