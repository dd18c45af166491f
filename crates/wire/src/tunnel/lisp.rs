//! LISP (RFC 9300 §5.1, RFC 9301 §5.8): data-plane encapsulation (UDP 4341) and the
//! Encapsulated Control Message (UDP 4342), each followed by an IPv4 or IPv6 packet.

use crate::bytes::{u8_at, Region};
use crate::decoder::Cx;
use crate::{ipv4, ipv6, Anomaly};

/// The LISP data header: flags, nonce/map-version, instance id/locator-status bits.
const DATA_HEADER_LEN: usize = 8;
/// Encapsulated Control Message header: type (4 bits, 8), S, D, E, M, reserved.
const ECM_HEADER_LEN: usize = 4;
const TYPE_SHIFT: u8 = 4;
const TYPE_ECM: u8 = 8;

/// Decodes a LISP data packet from `r` (at least one byte captured): the inner packet by its
/// version nibble, as Wireshark's `lisp-data` does.
pub(crate) fn data<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    inner_ip(r, DATA_HEADER_LEN, cx)
}

/// Decodes a LISP control message from `r` (at least one byte captured): only an
/// Encapsulated Control Message carries a packet (the inner IP and UDP headers of a
/// Map-Request, usually).
pub(crate) fn control<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if u8_at(r.bytes, 0) >> TYPE_SHIFT == TYPE_ECM {
        inner_ip(r, ECM_HEADER_LEN, cx)
    }
}

fn inner_ip<'a>(r: Region<'a>, header_len: usize, cx: &mut Cx<'a, '_>) {
    if r.bytes.len() < header_len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    let inner = r.advance(header_len);
    let version = match inner.bytes.first() {
        Some(v) => v >> 4,
        None => return,
    };
    if !matches!(version, 4 | 6) || !cx.enter_tunnel() {
        return;
    }
    if version == 4 {
        ipv4::decode(inner, cx)
    } else {
        ipv6::decode(inner, cx)
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::{anomalies, eth, hex, layers};
    use crate::{Anomaly, Transport};

    /// PcapPlusPlus `ipv6.dmp` frame 34: 2607:f2c0:f00f:b001::face:b00c:4341 ->
    /// 2001:4f8:3:d::60:4341, LISP data (no flags), 153.16.31.81 -> 23.91.153.57 ICMP echo
    /// reply id 1 seq 243.
    const LISP_DATA_ICMP: &str = "
        30b5 c2eb 4cb0 0800 27af f83f 86dd 6000
        0000 004c 1140 2607 f2c0 f00f b001 0000
        0000 face b00c 2001 04f8 0003 000d 0000
        0000 0000 0060 10f5 10f5 004c 544e 0000
        0000 0000 0000 4500 003c 9605 0000 4001
        7bc6 9910 1f51 175b 9939 0000 5468 0001
        00f3 6162 6364 6566 6768 696a 6b6c 6d6e
        6f70 7172 7374 7576 7761 6263 6465 6667
        6869";

    /// PcapPlusPlus `ipv6.dmp` frame 33: 192.168.1.110:4342 -> 84.88.16.10:4342, LISP
    /// Encapsulated Control Message (S bit), 153.16.31.80:4342 -> 23.91.153.57:4342 UDP
    /// carrying a Map-Request.
    const LISP_ECM: &str = "
        30b5 c2eb 4cb0 0800 27af f83f 0800 4500
        0090 000f 0000 ff11 94d5 c0a8 016e 5458
        100a 10f6 10f6 007c 9bf3 8400 0000 4500
        0070 000e 0000 ff11 527a 9910 1f50 175b
        9939 10f6 10f6 005c e333 1400 0001 fb7f
        ff7d 6805 1faa 0001 9910 1f50 0002 2607
        f2c0 f00f b001 0000 0000 face b00c 0020
        0001 175b 9939 0000 0005 011c 1000 0000
        0001 9910 1f50 0164 ff00 0005 0002 2607
        f2c0 f00f b001 0000 0000 face b00c";

    #[test]
    fn lisp_data_carries_ipv4() {
        let b = hex(LISP_DATA_ICMP);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "ipv6", "udp", "icmp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert!(matches!(p.transport, Transport::Icmp(i) if i.seq == 243));
        let c = p.tunnel_udp.expect("carrier");
        assert_eq!((c.src_port, c.dst_port, c.ip_total_len), (4341, 4341, 116));
        let p = eth(&b[..14 + 40 + 8 + 5]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
    }

    #[test]
    fn lisp_encapsulated_control_message() {
        let b = hex(LISP_ECM);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp"]);
        assert!(matches!(p.transport, Transport::Udp(u) if u.length == 92));
        assert_eq!(p.ip.map(|i| i.total_len), Some(112));
        assert!(p.tunnel_udp.is_some_and(|c| c.ip_total_len == 144));
        // Another control message type (Map-Reply, 2): no packet inside.
        let mut b2 = b.clone();
        b2[42] = 0x20;
        let p = eth(&b2);
        assert!(matches!(p.transport, Transport::Udp(u) if u.length == 124));
        assert!(p.tunnel_udp.is_none());
    }
}
