//! MPLS label stacks (RFC 3032 §2.1), followed by IPv4 or IPv6.

use crate::bytes::{u32_at, Field, Region};
use crate::decoder::{Cx, Next};
use crate::{Anomaly, Layer};

/// One label stack entry: label (20 bits), traffic class (3), bottom of stack (1), TTL (8).
mod field {
    use super::Field;
    pub const ENTRY: Field = 0..4;
    pub const ENTRY_LEN: usize = 4;
    pub const BOTTOM_OF_STACK: u32 = 0x100;
}

/// Most label stack entries followed; more set [`Anomaly::TooManyEncapsulations`]. Real stacks
/// carry a transport, a service and an entropy label pair (RFC 6790) — five at most.
pub const MAX_MPLS_LABELS: usize = 8;

/// Walks the label stack to the bottom-of-stack entry, then decodes IPv4/IPv6 by the first
/// nibble (RFC 3032 §2.2: the payload type is implied by the label; MPLS routers look at the
/// version nibble the same way). Anything else (pseudowire control words, Ethernet over
/// MPLS) ends the decode.
pub(crate) fn decode<'a>(mut r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    if !cx.begin(r.bytes, Layer::Mpls, Anomaly::TruncatedLink) {
        return Next::Done;
    }
    for _ in 0..MAX_MPLS_LABELS {
        if r.bytes.len() < field::ENTRY_LEN {
            cx.anomaly(Anomaly::TruncatedLink);
            return Next::Done;
        }
        let entry = u32_at(r.bytes, field::ENTRY);
        r = r.advance(field::ENTRY_LEN);
        if entry & field::BOTTOM_OF_STACK != 0 {
            return match r.bytes.first().map(|b| b >> 4) {
                Some(4) => Next::Ipv4(r),
                Some(6) => Next::Ipv6(r),
                _ => Next::Done,
            };
        }
    }
    cx.anomaly(Anomaly::TooManyEncapsulations);
    Next::Done
}
