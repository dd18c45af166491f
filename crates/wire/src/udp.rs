//! UDP (RFC 768), and the hand-off to VXLAN by port.

use crate::bytes::{head, len_u32, tail, u16_at, Field, Region};
use crate::decoder::{Cx, Next};
use crate::{tunnel, Anomaly, Layer, Transport, UdpInfo};

/// UDP header fields (RFC 768).
mod field {
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
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    let b = r.bytes;
    cx.layer(Layer::Udp);
    if b.len() < 4 {
        cx.anomaly(Anomaly::TruncatedUdp);
        return Next::Done;
    }
    let mut info = UdpInfo {
        src_port: u16_at(b, field::SRC_PORT),
        dst_port: u16_at(b, field::DST_PORT),
        length: 0,
    };
    if b.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedUdp);
        cx.pkt.transport = Transport::Udp(info);
        return Next::Done;
    }
    info.length = u16_at(b, field::LENGTH);
    cx.pkt.transport = Transport::Udp(info);
    let len = usize::from(info.length);
    let payload = if len < field::HEADER_LEN || len_u32(len) > r.wire {
        // Trust the IP length instead (RFC 768 leaves no other source).
        cx.anomaly(Anomaly::BadUdpLength);
        cx.pkt.payload = tail(b, field::HEADER_LEN);
        cx.pkt.payload_wire_len = r.wire.saturating_sub(len_u32(field::HEADER_LEN));
        return Next::Done;
    } else {
        // Bytes past the UDP length (inside the IP length) are not payload.
        Region {
            bytes: tail(head(b, len), field::HEADER_LEN),
            wire: len_u32(len - field::HEADER_LEN),
        }
    };
    cx.pkt.payload = payload.bytes;
    cx.pkt.payload_wire_len = payload.wire;
    tunnel::over_udp(info.src_port, info.dst_port, payload, cx)
}
