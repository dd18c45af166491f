//! ICMP (RFC 792) and ICMPv6 (RFC 4443 §2.1): type, code, and the echo identifier and
//! sequence. Messages quoting an offending packet are not decoded further.

use crate::bytes::{len_u32, tail, u16_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{Anomaly, IcmpInfo, Layer, Transport};

/// The common ICMP/ICMPv6 header: type, code, checksum, then 4 type-specific bytes.
mod field {
    use super::Field;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    #[allow(dead_code, reason = "documents the layout; checksums are not verified")]
    pub const CHECKSUM: Field = 2..4;
    /// Echo request/reply (RFC 792 "Echo or Echo Reply Message", RFC 4443 §4.1).
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQ: Field = 6..8;
    pub const HEADER_LEN: usize = 8;
}

const ICMP_ECHO_REPLY: u8 = 0;
const ICMP_ECHO_REQUEST: u8 = 8;
const ICMPV6_ECHO_REQUEST: u8 = 128;
const ICMPV6_ECHO_REPLY: u8 = 129;

/// Decodes an ICMP (`layer` = [`Layer::Icmp`]) or ICMPv6 header from `r` (at least one byte
/// captured).
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a>, layer: Layer) {
    let b = r.bytes;
    cx.layer(layer);
    let v6 = layer == Layer::Icmpv6;
    if b.len() < 2 {
        cx.anomaly(Anomaly::TruncatedIcmp);
        return;
    }
    let icmp_type = u8_at(b, field::TYPE);
    let is_echo = if v6 {
        matches!(icmp_type, ICMPV6_ECHO_REQUEST | ICMPV6_ECHO_REPLY)
    } else {
        matches!(icmp_type, ICMP_ECHO_REPLY | ICMP_ECHO_REQUEST)
    };
    let (ident, seq) = if is_echo {
        // Read as 0 when truncated.
        (u16_at(b, field::ECHO_IDENT), u16_at(b, field::ECHO_SEQ))
    } else {
        (0, 0)
    };
    let info = IcmpInfo {
        icmp_type,
        code: u8_at(b, field::CODE),
        ident,
        seq,
    };
    cx.pkt.transport = if v6 {
        Transport::Icmpv6(info)
    } else {
        Transport::Icmp(info)
    };
    if b.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedIcmp);
        return;
    }
    cx.pkt.payload = tail(b, field::HEADER_LEN);
    cx.pkt.payload_wire_len = r.wire.saturating_sub(len_u32(field::HEADER_LEN));
}
