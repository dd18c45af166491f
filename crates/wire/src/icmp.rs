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

/// The shortest ICMP message tshark counts (see [`decode`]); ICMPv6 counts from one byte.
const ICMP_MIN_COUNTED: usize = 6;

const ICMP_ECHO_REPLY: u8 = 0;
const ICMP_ECHO_REQUEST: u8 = 8;
const ICMPV6_ECHO_REQUEST: u8 = 128;
const ICMPV6_ECHO_REPLY: u8 = 129;

/// Decodes an ICMP (`layer` = [`Layer::Icmp`]) or ICMPv6 header from `r` (at least one byte
/// captured).
///
/// ICMP (not ICMPv6) counts, and is reported, only from [`ICMP_MIN_COUNTED`] bytes on:
/// Wireshark's ICMP dissector reads that far before it adds its item, so tshark counts no
/// `icmp` for a shorter message (`icmp-icmp_print-oobr-1.pcap`: 3 bytes, `ip > _ws.malformed`).
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>, layer: Layer) {
    let b = r.bytes;
    let v6 = layer == Layer::Icmpv6;
    if !v6 && b.len() < ICMP_MIN_COUNTED {
        cx.anomaly(Anomaly::TruncatedIcmp);
        return;
    }
    cx.layer(layer);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, eth, hex, ipv4, layers};
    use crate::{decode, LinkType};

    /// The inner packet of Arkime `vxlan.pcap` frame 3: 10.0.0.1 -> 10.0.0.2 ICMP echo
    /// request, id 3389, seq 1, 56 bytes of data (tcpdump: "id 3389, seq 1, length 64").
    const ICMP_ECHO: &str = "
        4500 0054 2f4f 4000 4001 f757 0a00 0001
        0a00 0002 0800 4c8a 0d3d 0001 a38c 7c57
        0000 0000 b580 0a00 0000 0000 1011 1213
        1415 1617 1819 1a1b 1c1d 1e1f 2021 2223
        2425 2627 2829 2a2b 2c2d 2e2f 3031 3233
        3435 3637";

    /// PcapPlusPlus `IcmpV6_EchoMessages.pcap` frame 1: fe80::215:5dff:fea5:c4c5 ->
    /// fe80::dd05:dae0:74bc:7341 ICMPv6 echo request, id 24, seq 20, length 64.
    const ICMPV6_ECHO: &str = "
        0015 5d70 fc2e 0015 5da5 c4c5 86dd 600d
        2ce3 0040 3a40 fe80 0000 0000 0000 0215
        5dff fea5 c4c5 fe80 0000 0000 0000 dd05
        dae0 74bc 7341 8000 7a4c 0018 0014 bdce
        cb62 0000 0000 f3a1 0900 0000 0000 1011
        1213 1415 1617 1819 1a1b 1c1d 1e1f 2021
        2223 2425 2627 2829 2a2b 2c2d 2e2f 3031
        3233 3435 3637";

    #[test]
    fn icmp_echo_request() {
        let b = hex(ICMP_ECHO);
        let p = decode(LinkType::RAW, &b);
        assert_eq!(layers(&p), ["ipv4", "icmp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let want = IcmpInfo {
            icmp_type: 8,
            code: 0,
            ident: 3389,
            seq: 1,
        };
        assert_eq!(p.transport, Transport::Icmp(want));
        assert_eq!((p.payload.len(), p.payload_wire_len), (56, 56));
    }

    #[test]
    fn icmpv6_echo_request() {
        let b = hex(ICMPV6_ECHO);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv6", "icmpv6"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let want = IcmpInfo {
            icmp_type: 128,
            code: 0,
            ident: 24,
            seq: 20,
        };
        assert_eq!(p.transport, Transport::Icmpv6(want));
        assert_eq!(p.ip.map(|i| i.flow_label), Some(0xd2ce3));
    }

    #[test]
    fn non_echo_and_truncated() {
        // Destination unreachable (port): type/code only, even though bytes 4..8 are set.
        let b = ipv4(1, &hex("0303 0000 0000 05dc 4500"));
        let p = decode(LinkType::RAW, &b);
        let want = IcmpInfo {
            icmp_type: 3,
            code: 3,
            ident: 0,
            seq: 0,
        };
        assert_eq!(p.transport, Transport::Icmp(want));
        // Six bytes: counted (as tshark counts it), type and code readable.
        let b = ipv4(1, &hex("0800 f7ff 0000 0000"));
        let p = decode(LinkType::RAW, &b[..26]);
        assert_eq!(layers(&p), ["ipv4", "icmp"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedIcmp]));
        assert!(matches!(p.transport, Transport::Icmp(i) if i.icmp_type == 8));
        // Five bytes or fewer: Wireshark's dissector fails before it counts; so here.
        let p = decode(LinkType::RAW, &b[..25]);
        assert_eq!(layers(&p), ["ipv4"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedIcmp]));
        assert_eq!(p.transport, Transport::None);
        // ICMPv6 counts from its first byte.
        let b6 = crate::testutil::ipv6(58, &hex("8000 f7ff 0000 0000"));
        let p = decode(LinkType::RAW, &b6[..41]);
        assert_eq!(layers(&p), ["ipv6", "icmpv6"]);
        assert_eq!(p.transport, Transport::None);
    }

    /// tcpdump `icmp-icmp_print-oobr-1.pcap` frame 1: IPv4 total length 23, so 3 bytes of
    /// ICMP (type 49, code 128, one checksum byte); tshark: `ip > _ws.malformed`, no `icmp`.
    const ICMP_3_BYTES: &str = "
        ffed f649 967e c005 ffff 059d 0800 4504
        0017 0e00 0000 4001 000a 1603 0200 36d1
        0000 3180 bc0b 80ff b792 ffff feff ffff
        ff52 ffff ffff 0006 ffff 00ed 0000 0000";

    #[test]
    fn icmp_too_short_to_count() {
        let b = hex(ICMP_3_BYTES);
        let p = crate::testutil::eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4"]);
        assert!(p.anomalies.contains(Anomaly::TruncatedIcmp));
    }
}
