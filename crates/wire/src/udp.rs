//! UDP (RFC 768), and the hand-off to the UDP-carried tunnels by port (`tunnel::over_udp`).

use crate::bytes::{len_u32, u16_at, Field, Region};
use crate::decoder::Cx;
use crate::{tunnel, Anomaly, Layer, Transport, UdpInfo};

/// UDP header fields (RFC 768).
pub(crate) mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    /// Header plus data, in bytes.
    pub const LENGTH: Field = 4..6;
    #[allow(
        dead_code,
        reason = "documents the layout; checksums are not verified (offload)"
    )]
    pub const CHECKSUM: Field = 6..8;
    pub const HEADER_LEN: usize = 8;
}

/// Decodes a UDP header from `r` (at least one byte captured); may hand the payload to a
/// UDP-carried tunnel.
#[inline]
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    cx.layer(Layer::Udp);
    if b.len() < 4 {
        cx.anomaly(Anomaly::TruncatedUdp);
        return;
    }
    let mut info = UdpInfo {
        src_port: u16_at(b, field::SRC_PORT),
        dst_port: u16_at(b, field::DST_PORT),
        length: 0,
    };
    if b.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedUdp);
        cx.pkt.transport = Transport::Udp(info);
        return;
    }
    info.length = u16_at(b, field::LENGTH);
    cx.pkt.transport = Transport::Udp(info);
    let len = usize::from(info.length);
    // The first fragment of a datagram carries the UDP length of the whole datagram.
    let first_fragment = cx.pkt.ip.is_some_and(|ip| ip.more_fragments);
    let valid = len >= field::HEADER_LEN && (len_u32(len) <= r.wire || first_fragment);
    if !valid {
        cx.anomaly(Anomaly::BadUdpLength);
    }
    let payload = if len < field::HEADER_LEN || len_u32(len) > r.wire {
        // The IP length bounds the payload (RFC 768 leaves no other source).
        r.advance(field::HEADER_LEN)
    } else {
        // Bytes past the UDP length (inside the IP length) are not payload.
        r.bound(len).advance(field::HEADER_LEN)
    };
    cx.pkt.payload = payload.bytes;
    cx.pkt.payload_wire_len = payload.wire;
    if valid {
        tunnel::over_udp(info.src_port, info.dst_port, payload, cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, ipv4, layers, udp};
    use crate::{decode, LinkType, Transport};

    #[test]
    fn udp_length_bounds_the_payload() {
        let mut seg = udp(5353, 5353, b"query");
        seg.extend(b"junk"); // inside the IP length, outside the UDP length
        let b = ipv4(17, &seg);
        let p = decode(LinkType::RAW, &b);
        assert!(p.anomalies.is_empty());
        assert_eq!(
            p.transport,
            Transport::Udp(UdpInfo {
                src_port: 5353,
                dst_port: 5353,
                length: 13
            })
        );
        assert_eq!((p.payload, p.payload_wire_len), (&b"query"[..], 5));
    }

    #[test]
    fn bad_lengths_keep_the_ports() {
        for len in [0u16, 7, 100] {
            let mut seg = udp(53, 40000, b"answer");
            seg[4..6].copy_from_slice(&len.to_be_bytes());
            let b = ipv4(17, &seg);
            let p = decode(LinkType::RAW, &b);
            assert_eq!(
                p.anomalies,
                anomalies(&[Anomaly::BadUdpLength]),
                "length {len}"
            );
            assert!(
                matches!(p.transport, Transport::Udp(u) if u.src_port == 53 && u.length == len)
            );
            // The IP length decides the payload then.
            assert_eq!((p.payload, p.payload_wire_len), (&b"answer"[..], 6));
        }
    }

    #[test]
    fn truncated_header() {
        let b = ipv4(17, &udp(53, 40000, b"answer"));
        let p = decode(LinkType::RAW, &b[..26]);
        assert_eq!(layers(&p), ["ipv4", "udp"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedUdp]));
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 40000 && u.length == 0));
        let p = decode(LinkType::RAW, &b[..22]);
        assert_eq!(p.transport, Transport::None);
        assert!(p.layers.contains(Layer::Udp));
    }
}
