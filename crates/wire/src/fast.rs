//! The common case in straight-line code: an Ethernet II frame without VLAN tags carrying an
//! unfragmented IPv4 packet without options (or an IPv6 packet without extension headers) with
//! a well-formed TCP or UDP header.
//!
//! Real traffic is overwhelmingly this shape, and the general decoder pays for its generality
//! (truncation bookkeeping, tunnel recursion, anomaly checks) on every packet. This path reads
//! fixed-size header arrays with the same named fields and helpers as the general modules and
//! commits its result only when every check the general decoder would make passes without an
//! anomaly; anything else (a short header, options, a fragment, a bad checksum, a tunnel port,
//! another link type) returns `false` with the packet untouched, and the general decoder runs.
//! A property test (`fast_path_matches_general_decoder`) holds the two paths to the same output.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bytes::{array_at, head, len_u32, sub_len, tail, u16_at, u32_at, u8_at, Region};
use crate::ethernet::{self, ethertype};
use crate::{ipv4, ipv6, tcp, tunnel, udp};
use crate::{EthernetInfo, IpInfo, IpProto, Layer, LinkType, Packet, TcpInfo, Transport, UdpInfo};

/// The upper layer found by the fast path.
struct Upper<'a> {
    layer: Layer,
    transport: Transport,
    payload: &'a [u8],
    payload_wire_len: u32,
}

/// Decodes `data` if it has the common shape, filling `pkt` (which must be
/// `Packet::default()`); otherwise returns false and leaves `pkt` as it was.
#[inline]
pub(crate) fn try_decode<'a>(
    link: LinkType,
    data: &'a [u8],
    wire: u32,
    pkt: &mut Packet<'a>,
) -> bool {
    if link != LinkType::ETHERNET {
        return false;
    }
    let Some((eth, rest)) = data.split_first_chunk::<{ ethernet::field::HEADER_LEN }>() else {
        return false;
    };
    let t = u16_at(eth, ethernet::field::ETHERTYPE);
    let r = Region {
        bytes: rest,
        wire: sub_len(wire, ethernet::field::HEADER_LEN),
    };
    let (ip, layer, upper) = match t {
        ethertype::IPV4 => match ipv4(r) {
            Some((ip, upper)) => (ip, Layer::Ipv4, upper),
            None => return false,
        },
        ethertype::IPV6 => match ipv6(r) {
            Some((ip, upper)) => (ip, Layer::Ipv6, upper),
            None => return false,
        },
        _ => return false,
    };
    pkt.layers.insert(Layer::Eth);
    pkt.layers.insert(layer);
    pkt.layers.insert(upper.layer);
    pkt.eth = Some(EthernetInfo {
        src: array_at(eth, ethernet::field::SOURCE),
        dst: array_at(eth, ethernet::field::DESTINATION),
        ethertype: t,
    });
    pkt.ip = Some(ip);
    pkt.transport = upper.transport;
    pkt.payload = upper.payload;
    pkt.payload_wire_len = upper.payload_wire_len;
    true
}

/// IPv4 with IHL 5, a total length within the frame, no fragmentation, a good checksum.
#[inline(always)]
fn ipv4(r: Region<'_>) -> Option<(IpInfo, Upper<'_>)> {
    use ipv4::field;
    let (h, after) = r.bytes.split_first_chunk::<{ field::HEADER_LEN }>()?;
    let total = usize::from(u16_at(h, field::LENGTH));
    let flags_offset = u16_at(h, field::FLG_OFF);
    let ok = u8_at(h, field::VER_IHL) == 0x45
        && total >= field::HEADER_LEN
        && len_u32(total) <= r.wire
        && flags_offset & (ipv4::FLAG_MF | ipv4::OFFSET_MASK) == 0
        && ipv4::checksum_ok(h);
    if !ok {
        return None;
    }
    let proto = IpProto(u8_at(h, field::PROTOCOL));
    let payload = Region {
        bytes: head(after, total - field::HEADER_LEN),
        wire: len_u32(total - field::HEADER_LEN),
    };
    let upper = transport(proto, payload)?;
    let ip = IpInfo {
        src: IpAddr::V4(Ipv4Addr::from(array_at::<4>(h, field::SRC_ADDR))),
        dst: IpAddr::V4(Ipv4Addr::from(array_at::<4>(h, field::DST_ADDR))),
        proto,
        ttl: u8_at(h, field::TTL),
        total_len: total as u16, // from a u16 field
        header_len: field::HEADER_LEN as u16,
        frag_offset: 0,
        more_fragments: false,
        ident: u32::from(u16_at(h, field::IDENT)),
        dscp: u8_at(h, field::DSCP_ECN) >> 2,
        flow_label: 0,
    };
    Some((ip, upper))
}

/// IPv6 with a non-zero payload length within the frame and TCP or UDP as next header.
#[inline(always)]
fn ipv6(r: Region<'_>) -> Option<(IpInfo, Upper<'_>)> {
    use ipv6::field;
    let (h, after) = r.bytes.split_first_chunk::<{ field::HEADER_LEN }>()?;
    let vtf = u32_at(h, field::VER_TC_FLOW);
    let plen = usize::from(u16_at(h, field::PAYLOAD_LEN));
    let ok = vtf >> 28 == 6 && plen != 0 && len_u32(field::HEADER_LEN + plen) <= r.wire;
    if !ok {
        return None;
    }
    // Only the upper layers: extension headers take the general path.
    let proto = IpProto(u8_at(h, field::NEXT_HEADER));
    let upper = transport(
        proto,
        Region {
            bytes: head(after, plen),
            wire: len_u32(plen),
        },
    )?;
    let ip = IpInfo {
        src: IpAddr::V6(Ipv6Addr::from(array_at::<16>(h, field::SRC_ADDR))),
        dst: IpAddr::V6(Ipv6Addr::from(array_at::<16>(h, field::DST_ADDR))),
        proto,
        ttl: u8_at(h, field::HOP_LIMIT),
        total_len: u16::try_from(field::HEADER_LEN + plen).unwrap_or(u16::MAX),
        header_len: field::HEADER_LEN as u16,
        frag_offset: 0,
        more_fragments: false,
        ident: 0,
        dscp: ((vtf >> 20) & 0xFF) as u8 >> 2,
        flow_label: vtf & 0x000F_FFFF,
    };
    Some((ip, upper))
}

#[inline(always)]
fn transport(proto: IpProto, r: Region<'_>) -> Option<Upper<'_>> {
    match proto {
        IpProto::TCP => tcp(r),
        IpProto::UDP => udp(r),
        _ => None,
    }
}

/// TCP with a data offset inside the segment and the capture, and well-formed options.
#[inline(always)]
fn tcp(r: Region<'_>) -> Option<Upper<'_>> {
    use tcp::field;
    let h = r.bytes.first_chunk::<{ field::HEADER_LEN }>()?;
    let off_flags = u16_at(h, field::OFF_FLAGS);
    let doff = usize::from(off_flags >> 12) * 4;
    if doff < field::HEADER_LEN || len_u32(doff) > r.wire || doff > r.bytes.len() {
        return None;
    }
    let opts = r.bytes.get(field::HEADER_LEN..doff).unwrap_or_default();
    let options = if opts.is_empty() {
        Default::default()
    } else {
        match tcp::options(opts) {
            (o, true) => o,
            (_, false) => return None,
        }
    };
    Some(Upper {
        layer: Layer::Tcp,
        transport: Transport::Tcp(TcpInfo {
            src_port: u16_at(h, field::SRC_PORT),
            dst_port: u16_at(h, field::DST_PORT),
            seq: u32_at(h, field::SEQ_NUM),
            ack: u32_at(h, field::ACK_NUM),
            flags: off_flags & field::FLAGS_MASK,
            window: u16_at(h, field::WIN_SIZE),
            header_len: doff as u8, // at most 60
            urgent: u16_at(h, field::URGENT),
            options,
        }),
        payload: tail(r.bytes, doff),
        payload_wire_len: r.wire - len_u32(doff),
    })
}

/// UDP with a length inside the IP payload, on ports that are not a tunnel's.
#[inline(always)]
fn udp(r: Region<'_>) -> Option<Upper<'_>> {
    use udp::field;
    let h = r.bytes.first_chunk::<{ field::HEADER_LEN }>()?;
    let info = UdpInfo {
        src_port: u16_at(h, field::SRC_PORT),
        dst_port: u16_at(h, field::DST_PORT),
        length: u16_at(h, field::LENGTH),
    };
    let len = usize::from(info.length);
    if len < field::HEADER_LEN
        || len_u32(len) > r.wire
        || tunnel::is_tunnel_port(info.src_port)
        || tunnel::is_tunnel_port(info.dst_port)
    {
        return None;
    }
    Some(Upper {
        layer: Layer::Udp,
        transport: Transport::Udp(info),
        payload: tail(head(r.bytes, len), field::HEADER_LEN),
        payload_wire_len: len_u32(len - field::HEADER_LEN),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::UNKNOWN_LEN;
    use crate::decoder;
    use crate::testutil::{ether, fix_ipv4_checksum, hex, ipv4, ipv6, tcp, udp};
    use proptest::prelude::*;

    /// The general decoder alone, and `run` (fast path first), as comparable text.
    fn both(data: &[u8], wire: u32) -> (String, String, bool) {
        let mut general = Packet::default();
        decoder::fill(&mut general, LinkType::ETHERNET, data, wire);
        let mut fast = Packet::default();
        let took = try_decode(LinkType::ETHERNET, data, wire, &mut fast);
        let run = decoder::run(LinkType::ETHERNET, data, wire);
        assert_eq!(
            format!("{run:?}"),
            format!("{:?}", if took { fast } else { general })
        );
        (format!("{general:?}"), format!("{run:?}"), took)
    }

    #[test]
    fn common_shapes_take_the_fast_path() {
        let syn = hex(
            "4c72 b97c b5b7 44f4 770f ea49 0800 4500 003c 7a03 0000 3c06 b917 88f3
            ae9a 0a0a 0a0a d980 236d 15ab 8925 0000 0000 a002 a564 0d81 0000 0204 05b4 0402
            080a ca1e e397 0000 0000 0103 030b",
        );
        let frames = [
            syn,
            ether(0x0800, &ipv4(17, &udp(53, 40000, b"answer"))),
            ether(0x86DD, &ipv6(6, &tcp(0x10, b"data"))),
            ether(0x86DD, &ipv6(17, &udp(5353, 5353, &[]))),
        ];
        for f in &frames {
            let (general, run, took) = both(f, f.len() as u32);
            assert!(took, "{run}");
            assert_eq!(general, run);
        }
        // And the shapes it leaves to the general decoder.
        let mut frag = ipv4(17, &udp(1, 2, b"x"));
        frag[6] = 0x20; // MF
        fix_ipv4_checksum(&mut frag, 0);
        for f in [
            ether(0x0800, &frag),
            ether(0x0800, &ipv4(17, &udp(4789, 2, &[8, 0, 0, 0, 0, 0, 1, 0]))),
            ether(0x0800, &ipv4(1, &hex("0800 f7ff 0000 0000"))),
            ether(0x86DD, &ipv6(0, &hex("1100 0000 0000 0000"))),
        ] {
            assert!(!both(&f, UNKNOWN_LEN).2);
        }
    }

    /// A frame close to the fast path's boundary: a valid Ethernet/IP/TCP-or-UDP frame, then
    /// one header byte overwritten, then cut or padded, decoded with some wire length.
    fn near_common_frame() -> impl Strategy<Value = (Vec<u8>, u32)> {
        (
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..12).prop_map(|mut o| {
                // TCP options: random bytes, or the usual NOP NOP TS, padded to 4 bytes.
                o.resize(o.len().div_ceil(4) * 4, 1);
                o
            }),
            prop::collection::vec(any::<u8>(), 0..24),
            (0usize..80, any::<u8>(), any::<bool>()),
            (0usize..100, 0usize..8),
            prop_oneof![Just(None), Just(Some(0u32)), (0u32..200).prop_map(Some)],
        )
            .prop_map(
                |(v6, is_tcp, opts, payload, (at, byte, mutate), (cut, pad), wire)| {
                    let l4 = if is_tcp {
                        let mut t = tcp(0x18, &[]);
                        t[12] = (((20 + opts.len()) / 4) << 4) as u8;
                        t.extend(&opts);
                        t.extend(&payload);
                        t
                    } else {
                        udp(1000, 53, &payload)
                    };
                    let ip = if v6 {
                        ipv6(if is_tcp { 6 } else { 17 }, &l4)
                    } else {
                        ipv4(if is_tcp { 6 } else { 17 }, &l4)
                    };
                    let mut f = ether(if v6 { 0x86DD } else { 0x0800 }, &ip);
                    if mutate {
                        let i = at % f.len();
                        f[i] = byte;
                    }
                    let len = f.len();
                    f.truncate(len - cut.min(len) * usize::from(cut % 3 == 0));
                    f.extend(std::iter::repeat_n(0u8, pad));
                    let wire = match wire {
                        None => UNKNOWN_LEN,
                        Some(0) => f.len() as u32,
                        Some(n) => n,
                    };
                    (f, wire)
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        #[test]
        fn fast_path_matches_general_decoder((frame, wire) in near_common_frame()) {
            let (general, run, _) = both(&frame, wire);
            prop_assert_eq!(general, run);
        }
    }
}
