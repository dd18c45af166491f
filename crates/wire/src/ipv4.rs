//! IPv4 (RFC 791 §3.1): header checks, options walk, header checksum (RFC 1071), fragments.

use std::net::{IpAddr, Ipv4Addr};

use crate::bytes::{array_at, head, len_u32, tail, u16_at, u8_at, Field, Region};
use crate::decoder::{Cx, Next};
use crate::{ip, Anomaly, IpInfo, IpProto, Layer};

/// IPv4 header fields (RFC 791 §3.1).
mod field {
    use super::Field;
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    #[allow(
        dead_code,
        reason = "documents the layout; verified as part of the header sum"
    )]
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
    /// Header without options: IHL 5.
    pub const HEADER_LEN: usize = 20;
}

/// More Fragments flag in the flags/offset word (RFC 791 §3.1).
const FLAG_MF: u16 = 0x2000;
/// Fragment offset, in 8-byte units.
const OFFSET_MASK: u16 = 0x1FFF;
/// The largest IP datagram (RFC 791: the total length field is 16 bits); a fragment reaching
/// past it is the "ping of death" shape.
const MAX_DATAGRAM: u32 = 65_535;

/// Option kinds with no length byte (RFC 791 §3.1 "Options").
const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;

pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    let b = r.bytes;
    if !cx.begin(b, Layer::Ipv4, Anomaly::TruncatedIpv4) {
        return Next::Done;
    }
    let ver_ihl = u8_at(b, field::VER_IHL);
    if ver_ihl >> 4 != 4 {
        cx.anomaly(Anomaly::BadIpVersion);
        return Next::Done;
    }
    if b.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedIpv4);
        return Next::Done;
    }
    let ihl = usize::from(ver_ihl & 0x0F) * 4;
    if ihl < field::HEADER_LEN {
        cx.anomaly(Anomaly::BadIpv4HeaderLength);
        return Next::Done;
    }
    // A total length of 0 is what NICs doing TCP segmentation offload leave in captures of
    // outgoing packets (Wireshark's "ip.tso_support"): take the captured length.
    let total = match u16_at(b, field::LENGTH) {
        0 => b.len().min(MAX_DATAGRAM as usize),
        n => usize::from(n),
    };
    if total < ihl {
        cx.anomaly(Anomaly::BadIpv4HeaderLength);
        return Next::Done;
    }
    let flags_offset = u16_at(b, field::FLG_OFF);
    let frag_offset = (flags_offset & OFFSET_MASK) * 8;
    let proto = IpProto(u8_at(b, field::PROTOCOL));
    cx.set_ip(IpInfo {
        src: IpAddr::V4(Ipv4Addr::from(array_at::<4>(b, field::SRC_ADDR))),
        dst: IpAddr::V4(Ipv4Addr::from(array_at::<4>(b, field::DST_ADDR))),
        proto,
        ttl: u8_at(b, field::TTL),
        total_len: u16::try_from(total).unwrap_or(u16::MAX),
        header_len: u16::try_from(ihl).unwrap_or(u16::MAX),
        frag_offset,
        more_fragments: flags_offset & FLAG_MF != 0,
        ident: u32::from(u16_at(b, field::IDENT)),
        dscp: u8_at(b, field::DSCP_ECN) >> 2,
        flow_label: 0,
    });
    if b.len() < ihl {
        // Addresses are known; options and payload are not.
        cx.anomaly(Anomaly::TruncatedIpv4);
        return Next::Done;
    }
    if !checksum_ok(head(b, ihl)) {
        cx.anomaly(Anomaly::BadIpv4Checksum);
    }
    if !options_ok(head(tail(b, field::HEADER_LEN), ihl - field::HEADER_LEN)) {
        cx.anomaly(Anomaly::BadIpv4Option);
    }
    let total_u32 = len_u32(total);
    if total_u32 > r.wire {
        cx.anomaly(Anomaly::IpLengthExceedsFrame);
    }
    let payload_wire = total_u32.saturating_sub(len_u32(ihl));
    if u32::from(frag_offset) + payload_wire > MAX_DATAGRAM {
        cx.anomaly(Anomaly::BadFragment);
    }
    if frag_offset != 0 {
        // RFC 791: only the fragment at offset 0 carries the transport header.
        cx.layer(Layer::Fragment);
        return Next::Done;
    }
    // Bytes past the total length are link padding (Ethernet's 60-byte minimum).
    let payload = Region {
        bytes: tail(head(b, total), ihl),
        wire: payload_wire,
    };
    ip::upper(proto, payload, cx)
}

/// RFC 1071 §1: the one's complement sum of the header, checksum included, is all ones.
fn checksum_ok(header: &[u8]) -> bool {
    // At most 30 words of at most 0xFFFF: no u32 overflow before folding.
    let mut sum: u32 = 0;
    for w in header.chunks_exact(2) {
        if let [hi, lo] = w {
            sum += u32::from(u16::from_be_bytes([*hi, *lo]));
        }
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum == 0xFFFF
}

/// Walks the options area (at most 40 bytes; every step consumes at least one byte): false
/// when an option's length byte is missing, below 2, or runs past the header.
fn options_ok(mut opts: &[u8]) -> bool {
    while let Some(&kind) = opts.first() {
        match kind {
            OPT_END => return true,
            OPT_NOP => opts = tail(opts, 1),
            _ => {
                let len = usize::from(u8_at(opts, 1));
                if len < 2 || len > opts.len() {
                    return false;
                }
                opts = tail(opts, len);
            }
        }
    }
    true
}
