//! SCTP common header (RFC 9260 §3.1): ports only; chunks are the payload.

use crate::bytes::{len_u32, tail, u16_at, Field, Region};
use crate::decoder::Cx;
use crate::{Anomaly, Layer, Transport};

/// SCTP common header fields (RFC 9260 §3.1).
mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    #[allow(dead_code, reason = "documents the layout; not reported")]
    pub const VERIFICATION_TAG: Field = 4..8;
    #[allow(dead_code, reason = "documents the layout; checksums are not verified")]
    pub const CHECKSUM: Field = 8..12;
    pub const HEADER_LEN: usize = 12;
}

/// Decodes the SCTP common header from `r` (at least one byte captured). A header cut short
/// sets `TruncatedSctp`; too short for the ports leaves the transport empty.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    cx.layer(Layer::Sctp);
    if b.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedSctp);
    }
    if b.len() < 4 {
        return;
    }
    cx.pkt.transport = Transport::Sctp {
        src_port: u16_at(b, field::SRC_PORT),
        dst_port: u16_at(b, field::DST_PORT),
    };
    if b.len() >= field::HEADER_LEN {
        cx.pkt.payload = tail(b, field::HEADER_LEN);
        cx.pkt.payload_wire_len = r.wire.saturating_sub(len_u32(field::HEADER_LEN));
    }
}
