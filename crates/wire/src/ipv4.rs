//! IPv4 (RFC 791 §3.1): header checks, options walk, header checksum (RFC 1071), fragments.

use std::net::{IpAddr, Ipv4Addr};

use crate::bytes::{array_at, head, len_u32, tail, u16_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{ip, Anomaly, IpInfo, IpProto, Layer};

/// IPv4 header fields (RFC 791 §3.1).
pub(crate) mod field {
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
pub(crate) const FLAG_MF: u16 = 0x2000;
/// Fragment offset, in 8-byte units.
pub(crate) const OFFSET_MASK: u16 = 0x1FFF;
/// The largest IP datagram (RFC 791: the total length field is 16 bits); a fragment reaching
/// past it is the "ping of death" shape.
const MAX_DATAGRAM: u32 = 65_535;

/// Option kinds with no length byte (RFC 791 §3.1 "Options").
const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;

#[inline]
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    if !cx.begin(b, Layer::Ipv4, Anomaly::TruncatedIpv4) {
        return;
    }
    let ver_ihl = u8_at(b, field::VER_IHL);
    if ver_ihl >> 4 != 4 {
        cx.anomaly(Anomaly::BadIpVersion);
        return;
    }
    if b.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedIpv4);
        return;
    }
    let ihl = usize::from(ver_ihl & 0x0F) * 4;
    if ihl < field::HEADER_LEN {
        cx.anomaly(Anomaly::BadIpv4HeaderLength);
        return;
    }
    // A total length of 0 is what NICs doing TCP segmentation offload leave in captures of
    // outgoing packets (Wireshark's "ip.tso_support"): take the captured length.
    let total = match u16_at(b, field::LENGTH) {
        0 => b.len().min(MAX_DATAGRAM as usize),
        n => usize::from(n),
    };
    if total < ihl {
        cx.anomaly(Anomaly::BadIpv4HeaderLength);
        return;
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
        return;
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
        // RFC 791: only the fragment at offset 0 carries the transport header. The fragment's
        // data is the payload, so that reassembly can tell whether it was captured whole.
        cx.layer(Layer::Fragment);
        cx.pkt.payload = tail(head(b, total), ihl);
        cx.pkt.payload_wire_len = payload_wire;
        return;
    }
    // Bytes past the total length are link padding (Ethernet's 60-byte minimum).
    let payload = Region {
        bytes: tail(head(b, total), ihl),
        wire: payload_wire,
    };
    ip::upper(proto, payload, cx)
}

/// RFC 1071 §1: the one's complement sum of the header, checksum included, is all ones.
///
/// Sums 32-bit words (RFC 1071 §2(B): the sum can be taken in larger words and folded); the
/// header length is a multiple of 4. At most 15 words: no u64 overflow before folding.
#[inline]
pub(crate) fn checksum_ok(header: &[u8]) -> bool {
    let words = |b: &[u8]| -> u64 {
        b.chunks_exact(4)
            .map(|w| {
                w.first_chunk()
                    .map_or(0, |w| u64::from(u32::from_be_bytes(*w)))
            })
            .sum()
    };
    // The fixed part has a constant length, so its sum compiles to five straight loads.
    let sum = match header.split_first_chunk::<{ field::HEADER_LEN }>() {
        Some((fixed, options)) => words(fixed) + words(options),
        None => words(header),
    };
    // Fold 64 -> 32 -> 16 bits, carrying around each time.
    let sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
    let sum = (sum & 0xFFFF) + (sum >> 16);
    let sum = (sum & 0xFFFF) + (sum >> 16);
    let sum = (sum & 0xFFFF) + (sum >> 16);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, decode_wire, fix_ipv4_checksum, ipv4, layers, tcp, udp};
    use crate::{decode, LinkType, Transport};

    fn raw(b: &[u8]) -> crate::Packet<'_> {
        decode(LinkType::RAW, b)
    }

    #[test]
    fn checksum_is_verified_but_not_fatal() {
        let mut b = ipv4(17, &udp(53, 5353, b"x"));
        assert!(raw(&b).anomalies.is_empty());
        b[10] ^= 0xFF;
        let p = raw(&b);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpv4Checksum]));
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 5353));
        // Not checked when the header is cut short.
        assert_eq!(
            raw(&b[..19]).anomalies,
            anomalies(&[Anomaly::TruncatedIpv4])
        );
    }

    #[test]
    fn header_length_and_version_checks() {
        let mut b = ipv4(6, &tcp(0x02, &[]));
        b[0] = 0x44; // IHL 4
        assert_eq!(
            raw(&b).anomalies,
            anomalies(&[Anomaly::BadIpv4HeaderLength])
        );
        assert!(raw(&b).ip.is_none());
        let mut b = ipv4(6, &tcp(0x02, &[]));
        b[2..4].copy_from_slice(&16u16.to_be_bytes()); // total length below the header
        assert_eq!(
            raw(&b).anomalies,
            anomalies(&[Anomaly::BadIpv4HeaderLength])
        );
        // Version 5 behind an IPv4 EtherType / link type.
        let mut b = ipv4(6, &tcp(0x02, &[]));
        b[0] = 0x55;
        let p = decode(LinkType::IPV4, &b);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpVersion]));
        assert_eq!(layers(&p), ["ipv4"]);
    }

    #[test]
    fn options_are_walked() {
        // IHL 7: NOP, Router Alert (RFC 2113: type 148, length 4), EOL, padding.
        let mut b = ipv4(17, &udp(1, 2, &[]));
        b.splice(20..20, [1, 148, 4, 0, 0, 0, 0, 0]);
        b[0] = 0x47;
        let total = b.len() as u16;
        b[2..4].copy_from_slice(&total.to_be_bytes());
        fix_ipv4_checksum(&mut b, 0);
        let p = raw(&b);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(p.ip.map(|i| i.header_len), Some(28));
        assert!(matches!(p.transport, Transport::Udp(u) if u.src_port == 1));
        // A length byte running past the options area.
        b[21] = 148;
        b[22] = 9;
        fix_ipv4_checksum(&mut b, 0);
        let p = raw(&b);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadIpv4Option]));
        assert!(p.layers.contains(Layer::Udp), "decoding goes on");
    }

    #[test]
    fn lengths_padding_snaplen_and_tso() {
        let b = ipv4(17, &udp(1, 2, b"abcd"));
        // Trailing link padding is not payload.
        let mut padded = b.clone();
        padded.extend([0; 10]);
        let p = raw(&padded);
        assert_eq!(p.payload, b"abcd");
        // Cut by the snaplen: fine without a wire length, and fine if the wire held it.
        let p = raw(&b[..30]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!((p.payload, p.payload_wire_len), (&b"ab"[..], 4));
        assert!(decode_wire(LinkType::RAW, &b[..30], b.len() as u32)
            .anomalies
            .is_empty());
        // The IP length claims more than the whole frame had on the wire.
        let p = decode_wire(LinkType::RAW, &b[..30], 30);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::IpLengthExceedsFrame]));
        // Total length 0 from TSO: the captured length is used.
        let mut tso = ipv4(6, &tcp(0x18, b"segment"));
        tso[2..4].copy_from_slice(&[0, 0]);
        fix_ipv4_checksum(&mut tso, 0);
        let p = raw(&tso);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(p.ip.map(|i| i.total_len), Some(tso.len() as u16));
        assert_eq!(p.payload, b"segment");
    }

    fn fragment(offset_units: u16, more: bool, payload: &[u8]) -> Vec<u8> {
        let mut b = ipv4(17, payload);
        let v = offset_units | if more { FLAG_MF } else { 0 };
        b[6..8].copy_from_slice(&v.to_be_bytes());
        fix_ipv4_checksum(&mut b, 0);
        b
    }

    #[test]
    fn fragments() {
        // First fragment: the UDP header is decoded; its length covers the whole datagram,
        // which is no anomaly here.
        let first = fragment(0, true, &udp(53, 53, &[7; 24])[..16]);
        let p = raw(&first);
        assert_eq!(layers(&p), ["ipv4", "udp"]);
        assert!(p.ip.is_some_and(|i| i.is_fragment() && i.more_fragments));
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!((p.payload.len(), p.payload_wire_len), (8, 8));
        // Without MF the same length is wrong.
        let whole = fragment(0, false, &udp(53, 53, &[7; 24])[..16]);
        assert_eq!(raw(&whole).anomalies, anomalies(&[Anomaly::BadUdpLength]));
        // A later fragment: no transport.
        let later = fragment(2, false, &[7; 16]);
        let p = raw(&later);
        assert_eq!(layers(&p), ["ipv4", "ip_fragment"]);
        assert_eq!(p.ip.map(|i| i.frag_offset), Some(16));
        assert_eq!(p.transport, Transport::None);
        assert!(p.anomalies.is_empty());
        // Offset 65528 + 16 bytes reaches past 65535 (ping of death).
        let death = fragment(OFFSET_MASK, false, &[7; 16]);
        let p = raw(&death);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadFragment]));
        assert!(p.layers.contains(Layer::Fragment));
    }
}
