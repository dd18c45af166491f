//! Linux netfilter NFLOG (LINKTYPE_NFLOG): a 4-byte header (address family, version, resource
//! id), then type-length-value attributes, each padded to 4 bytes; the `NFULA_PAYLOAD`
//! attribute holds the logged packet, starting with its IP header.
//!
//! The attributes' lengths and types are in the byte order of the host that logged them, which
//! the file does not record; as Wireshark does, the first attribute's type (a small number,
//! `NFULA_PACKET_HDR` = 1 in practice) tells: the order that reads it smaller wins.
//!
//! Wireshark walks every attribute the frame's original length holds before it decodes the
//! payload, so a frame cut before its last attribute shows no IP layer there; this does the
//! same.

use crate::bytes::{u16_at, u8_at, Region, UNKNOWN_LEN};
use crate::decoder::Cx;
use crate::{ipv6, link, Anomaly, Layer};

/// The NFLOG header (Linux `nfnetlink_log.h`, `struct nfgenmsg`).
mod field {
    pub const FAMILY: usize = 0;
    pub const HEADER_LEN: usize = 4;
}

/// One attribute (Linux `struct nfattr`): length (including this header), type.
mod tlv {
    use crate::bytes::Field;
    pub const LENGTH: Field = 0..2;
    pub const TYPE: Field = 2..4;
    pub const HEADER_LEN: usize = 4;
    /// The top bit of the type is the "nested" flag.
    pub const TYPE_MASK: u16 = 0x7FFF;
    /// `NFULA_PAYLOAD`.
    pub const PAYLOAD: u16 = 9;
}

/// Linux address families.
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Decodes an NFLOG record ([`Layer::Cooked`]) and the packet it logged.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    let b = r.bytes;
    if b.len() < field::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    let family = u8_at(b, field::FAMILY);
    let little = little_endian(b);
    let read = |at: usize, f: crate::bytes::Field| -> u16 {
        let v = u16_at(b, at + f.start..at + f.end);
        if little {
            v.swap_bytes()
        } else {
            v
        }
    };
    // The walk runs over the original length, as Wireshark's does (reading past the captured
    // bytes ends it there, with nothing decoded).
    let wire = if r.wire == UNKNOWN_LEN {
        b.len()
    } else {
        r.wire as usize
    };
    let mut at = field::HEADER_LEN;
    let mut payload = None;
    // Each step consumes at least 4 bytes, so this ends within wire / 4 steps.
    while wire.saturating_sub(at) >= tlv::HEADER_LEN {
        if b.len().saturating_sub(at) < tlv::HEADER_LEN {
            cx.anomaly(Anomaly::TruncatedLink);
            return;
        }
        let len = usize::from(read(at, tlv::LENGTH));
        if len < tlv::HEADER_LEN {
            // Malformed: Wireshark stops here, without the payload.
            return;
        }
        if read(at, tlv::TYPE) & tlv::TYPE_MASK == tlv::PAYLOAD {
            payload = Some(r.advance(at + tlv::HEADER_LEN).bound(len - tlv::HEADER_LEN));
        }
        at += (len + 3) & !3;
    }
    match (payload, family) {
        (Some(p), AF_INET) => link::ip_handle(p, cx),
        (Some(p), AF_INET6) => ipv6::decode(p, cx),
        _ => {}
    }
}

/// Whether the attributes are little-endian: the byte order that reads the first attribute's
/// type as the smaller number (big-endian on a tie).
fn little_endian(b: &[u8]) -> bool {
    let at = field::HEADER_LEN + tlv::TYPE.start;
    let be = u16_at(b, at..at + 2) & tlv::TYPE_MASK;
    let le = u16_at(b, at..at + 2).swap_bytes() & tlv::TYPE_MASK;
    le < be
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{decode_wire, hex, layers};
    use crate::{decode, LinkType, Transport};

    /// PcapPlusPlus `nflogPacket.pcap` frame 1, cut after the UDP header: AF_INET, version 0,
    /// resource id 42; little-endian attributes: packet header (8), prefix (5, padded to 8),
    /// 3 more, then the payload (0x41 = 65 bytes): 10.0.2.15:42306 -> 10.0.2.3:53.
    const NFLOG_UDP: &str = "
        0200 002a 0800 0100 0000 0300 0500 0a00
        0000 0000 0800 0500 0000 0002 0800 0b00
        0000 0000 0800 0e00 0000 0000 4100 0900
        4500 003d 0210 4000 4011 208f 0a00 020f
        0a00 0203 a542 0035 0029 4156";

    #[test]
    fn nflog_ipv4_udp() {
        let b = hex(NFLOG_UDP);
        let p = decode(LinkType::NFLOG, &b);
        assert_eq!(layers(&p), ["ipv4", "udp", "cooked"]);
        let Transport::Udp(u) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!((u.src_port, u.dst_port), (42306, 53));
        // The payload attribute runs to the original end of the frame: still decoded.
        let p = decode_wire(LinkType::NFLOG, &b, 112);
        assert!(p.layers.contains(Layer::Udp));
        // A frame whose original length holds attributes past the captured bytes: Wireshark
        // never reaches the payload.
        let p = decode_wire(LinkType::NFLOG, &b[..40], 112);
        assert_eq!(layers(&p), ["cooked"]);
        assert!(p.anomalies.contains(Anomaly::TruncatedLink));
    }

    #[test]
    fn nflog_big_endian_and_malformed() {
        // The same record written big-endian.
        let mut b = hex(NFLOG_UDP);
        let mut at = 4;
        while at + 4 <= 48 {
            b.swap(at, at + 1);
            b.swap(at + 2, at + 3);
            let len = usize::from(u16::from_be_bytes([b[at], b[at + 1]]));
            at += (len + 3) & !3;
        }
        assert_eq!(
            layers(&decode(LinkType::NFLOG, &b)),
            ["ipv4", "udp", "cooked"]
        );
        // An attribute shorter than its own header stops the walk.
        let mut b = hex(NFLOG_UDP);
        b[4] = 2;
        assert_eq!(layers(&decode(LinkType::NFLOG, &b)), ["cooked"]);
    }
}
