//! L2TP version 2 over UDP (RFC 2661 §3.1): data messages carry PPP frames.

use crate::bytes::{u16_at, Field, Region};
use crate::decoder::Cx;
use crate::{ppp, Anomaly};

/// L2TPv2 header (RFC 2661 §3.1): flags and version, then optional and fixed fields.
mod field {
    use super::Field;
    pub const FLAGS_VERSION: Field = 0..2;
    pub const FLAGS_LEN: usize = 2;
    /// T: a control message (no PPP frame).
    pub const T: u16 = 0x8000;
    /// L: the length field is present.
    pub const L: u16 = 0x4000;
    /// S: the Ns and Nr fields are present.
    pub const S: u16 = 0x0800;
    /// O: the offset size field (and that many bytes of padding) is present.
    pub const O: u16 = 0x0200;
    pub const VERSION: u16 = 0x000F;
    pub const VERSION_2: u16 = 2;
    pub const LENGTH_LEN: usize = 2;
    /// Tunnel id and session id.
    pub const IDS_LEN: usize = 4;
    pub const NS_NR_LEN: usize = 4;
    pub const OFFSET_SIZE_LEN: usize = 2;
}

/// Decodes an L2TP header from `r` (at least one byte captured) and, for a version 2 data
/// message, the PPP frame it carries. Control messages and L2TPv3 end the decode at the
/// carrier.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    if b.len() < field::FLAGS_LEN {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    let fv = u16_at(b, field::FLAGS_VERSION);
    if fv & field::VERSION != field::VERSION_2 || fv & field::T != 0 {
        return;
    }
    let present = |flag: u16, n: usize| if fv & flag != 0 { n } else { 0 };
    let mut len = field::FLAGS_LEN
        + present(field::L, field::LENGTH_LEN)
        + field::IDS_LEN
        + present(field::S, field::NS_NR_LEN);
    if fv & field::O != 0 {
        let Some(size) = b.get(len..len + field::OFFSET_SIZE_LEN) else {
            cx.anomaly(Anomaly::TruncatedTunnel);
            return;
        };
        len += field::OFFSET_SIZE_LEN + usize::from(u16_at(size, 0..2));
    }
    if b.len() < len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    let inner = r.advance(len);
    if inner.is_empty() || !cx.enter_tunnel() {
        return;
    }
    ppp::ppp(inner, cx, Anomaly::TruncatedTunnel)
}

#[cfg(test)]
mod tests {
    use crate::testutil::{anomalies, hex, ipv4, layers, udp};
    use crate::{decode, Anomaly, LinkType, Transport};

    /// tcpdump `l2tp-avp-overflow.pcap` frame 1 (a fuzzed control message, cut by the
    /// snaplen): 127.0.0.229:12416 -> 127.0.128.1:1701, L2TP flags 0xf002 (T, L, S; version 2),
    /// tunnel 560, session 2056. Control: no PPP frame.
    const L2TP_CONTROL: &str = "
        02ff 170a 0300 0000 0000 0000 0800 4530
        3030 302b 0000 3011 1f51 7f00 00e5 7f00
        8001 3080 06a5 19e8 0100 f002 0202 0230
        0808 0808 0000 ee23 0530";

    #[test]
    fn l2tp_control_message_stops_at_the_carrier() {
        let b = hex(L2TP_CONTROL);
        let p = crate::testutil::eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "udp"]);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 1701));
        assert!(p.tunnel_udp.is_none());
    }

    /// An L2TPv2 data message (the corpus has none; the layout is RFC 2661 §3.1's, and
    /// tshark 4.0 decodes these bytes as `l2tp:ppp:ip:udp`): `header`, then PPP with
    /// address/control and protocol 0x0021, then IPv4/UDP 53 -> 53.
    fn data(header: &[u8]) -> Vec<u8> {
        let mut l = header.to_vec();
        l.extend([0xff, 0x03, 0x00, 0x21]);
        l.extend(ipv4(17, &udp(53, 53, b"q")));
        ipv4(17, &udp(1701, 1701, &l))
    }

    #[test]
    fn l2tp_data_message_optional_fields() {
        // No options; L (length); L, S, O with 2 bytes of padding.
        for h in [
            &hex("0002 0005 0006")[..],
            &hex("4002 0029 0005 0006"),
            &hex("4a02 0031 0005 0006 0001 0000 0002 aabb"),
        ] {
            let pkt = data(h);
            let p = decode(LinkType::RAW, &pkt);
            assert!(
                matches!(p.transport, Transport::Udp(u) if u.dst_port == 53),
                "{h:02x?}"
            );
            assert!(p.tunnel_udp.is_some_and(|c| c.dst_port == 1701));
        }
        // L2TPv3 (version 3) is not followed; an offset size past the capture is cut.
        let pkt = data(&hex("0003 0005 0006"));
        let p = decode(LinkType::RAW, &pkt);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 1701));
        let b = data(&hex("0202 0005 0006 0400"));
        let p = decode(LinkType::RAW, &b);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTunnel]));
    }
}
