//! Teredo (RFC 4380 §5.1.1): optional authentication and origin indications, then an IPv6
//! packet.

use crate::bytes::{u16_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{ipv6, Anomaly};

/// The indications' common start: a 16-bit type (RFC 4380 §5.1.1).
const INDICATOR: Field = 0..2;
const AUTHENTICATION: u16 = 1;
const ORIGIN: u16 = 0;

/// Authentication indication: type, client id length, authentication length, the id, the
/// authentication value, an 8-byte nonce and a confirmation byte.
mod auth {
    pub const ID_LEN: usize = 2;
    pub const AUTH_LEN: usize = 3;
    pub const FIXED_LEN: usize = 4;
    pub const NONCE_AND_CONFIRMATION_LEN: usize = 9;
}

/// Origin indication: type, obfuscated port, obfuscated IPv4 address.
const ORIGIN_LEN: usize = 8;

/// Decodes a Teredo datagram from `r` (at least one byte captured).
///
/// Like Wireshark's dissector for port 3544 (its heuristic for other ports is off by
/// default), whatever follows the indications is read as IPv6: a wrong version is
/// [`Anomaly::BadIpVersion`] with `ipv6` counted, as tshark counts it.
pub(crate) fn decode<'a>(mut r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if r.bytes.len() < 2 {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    if u16_at(r.bytes, INDICATOR) == AUTHENTICATION {
        let b = r.bytes;
        if b.len() < auth::FIXED_LEN {
            cx.anomaly(Anomaly::TruncatedTunnel);
            return;
        }
        let len = auth::FIXED_LEN
            + usize::from(u8_at(b, auth::ID_LEN))
            + usize::from(u8_at(b, auth::AUTH_LEN))
            + auth::NONCE_AND_CONFIRMATION_LEN;
        // The type of what follows must be readable too.
        if b.len() < len + 2 {
            cx.anomaly(Anomaly::TruncatedTunnel);
            return;
        }
        r = r.advance(len);
    }
    if u16_at(r.bytes, INDICATOR) == ORIGIN {
        if r.bytes.len() < ORIGIN_LEN {
            cx.anomaly(Anomaly::TruncatedTunnel);
            return;
        }
        r = r.advance(ORIGIN_LEN);
    }
    if r.is_empty() || !cx.enter_tunnel() {
        return;
    }
    ipv6::decode(r, cx)
}

#[cfg(test)]
mod tests {
    use crate::testutil::{anomalies, eth, hex, ipv4, layers, udp};
    use crate::{decode, Anomaly, LinkType, Transport};

    /// nDPI `teredo.pcap` frame 2: 194.136.28.76:3544 -> 10.112.16.106:52513, Teredo
    /// authentication indication (no id, no value, nonce, confirmation 0), origin
    /// indication, then fe80::8000:f227:3d77:e3b3 -> fe80::ffff:ffff:fffe ICMPv6 router
    /// advertisement.
    const TEREDO_RA: &str = "
        001b 1700 0115 6c41 6a8c 8089 0800 4500
        0089 31be 0000 7211 1cf8 c288 1c4c 0a70
        106a 0dd8 cd21 0075 5f6e 0001 0000 b11b
        3fea 46a9 afe9 0000 0032 de46 f93f 4660
        0000 0000 303a fffe 8000 0000 0000 0080
        00f2 273d 77e3 b3fe 8000 0000 0000 0000
        00ff ffff ffff fe86 0064 9d00 0000 0000
        003a 9800 0007 d003 0440 40ff ffff ffff
        ffff ff00 0000 0020 0100 00c2 881c 4cff
        0000 0000 2001 00";

    #[test]
    fn teredo_with_both_indications() {
        let b = hex(TEREDO_RA);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "ipv6", "udp", "icmpv6"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert!(matches!(p.transport, Transport::Icmpv6(i) if i.icmp_type == 134));
        let c = p.tunnel_udp.expect("carrier");
        assert_eq!((c.src_port, c.dst_port), (3544, 52513));
        // Cut inside the authentication indication.
        let p = eth(&b[..14 + 20 + 8 + 6]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
        assert!(p.tunnel_udp.is_none());
    }

    #[test]
    fn teredo_bare_and_not_ipv6() {
        let inner = crate::testutil::ipv6(59, &[]);
        let pkt = ipv4(17, &udp(3544, 40000, &inner));
        let p = decode(LinkType::RAW, &pkt);
        assert_eq!(layers(&p), ["ipv4", "ipv6", "udp"]);
        assert_eq!(p.transport, Transport::None);
        assert!(p.tunnel_udp.is_some());
        // An IPv4 packet on the Teredo port: tshark counts ipv6 (bogus version) too.
        let v4 = ipv4(17, &udp(1, 2, &[]));
        let pkt = ipv4(17, &udp(3544, 40000, &v4));
        let p = decode(LinkType::RAW, &pkt);
        assert_eq!(layers(&p), ["ipv4", "ipv6", "udp"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpVersion]));
        assert!(p.tunnel_udp.is_none());
    }
}
