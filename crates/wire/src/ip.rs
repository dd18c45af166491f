//! What follows an IP header: transport decoders and IP-carried tunnels, by protocol number;
//! and IPsec AH after IPv4 (RFC 4302 §2), which is skipped like an IPv6 extension header.

use crate::bytes::{len_u32, u8_at, Region};
use crate::decoder::Cx;
use crate::{icmp, sctp, tcp, tunnel, udp, Anomaly, IpProto, Layer};

/// Protocol numbers dispatched here beyond the `IpProto` constants (IANA "Assigned Internet
/// Protocol Numbers").
const AH: IpProto = IpProto(51);
const PIM: IpProto = IpProto(103);
const ETHERNET: IpProto = IpProto(143);

/// Authentication Header (RFC 4302 §2): next header, payload length (in 4-byte words, minus
/// 2), reserved, SPI, sequence number, ICV.
mod ah {
    pub const NEXT_HEADER: usize = 0;
    pub const LENGTH: usize = 1;
    pub const MIN_LEN: usize = 12;
}

/// Most AH headers skipped in a row (an SA bundle nests rarely more than two).
const MAX_AH_HEADERS: usize = 4;

/// Decodes the IP payload `r` of protocol `proto` (the header chain is already consumed).
///
/// A payload with no captured byte sets no layer (Wireshark runs no dissector on it); if the
/// IP header said there should be bytes, the protocol's truncation anomaly is set.
#[inline]
pub(crate) fn upper<'a>(proto: IpProto, r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if proto == AH {
        if let Some((proto, r)) = skip_ah(r, cx) {
            transport(proto, r, cx);
        }
    } else {
        transport(proto, r, cx);
    }
}

/// [`upper`] for anything but AH (so that the two do not recurse into each other).
#[inline]
fn transport<'a>(proto: IpProto, r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if r.is_empty() {
        if r.wire > 0 {
            if let Some(a) = truncation(proto) {
                cx.anomaly(a);
            }
        }
        return;
    }
    match proto {
        IpProto::TCP => tcp::decode(r, cx),
        IpProto::UDP => udp::decode(r, cx),
        IpProto::ICMP => icmp::decode(r, cx, Layer::Icmp),
        IpProto::ICMPV6 => icmp::decode(r, cx, Layer::Icmpv6),
        IpProto::SCTP => sctp::decode(r, cx),
        IpProto::IPIP => tunnel::ip_in_ip(r, cx, false),
        IpProto::IPV6 => tunnel::ip_in_ip(r, cx, true),
        IpProto::GRE => tunnel::gre(r, cx),
        PIM => tunnel::pim(r, cx),
        ETHERNET => tunnel::ethernet_in_ip(r, cx),
        _ => {}
    }
}

/// Skips up to [`MAX_AH_HEADERS`] AH headers after an IPv4 header (IPv6 walks them in its
/// extension header chain), recording them in [`IpInfo`](crate::IpInfo) as IPv6 does: the
/// header length grows, the protocol becomes the one after them. Returns that protocol and
/// its payload, or `None` (with the anomaly) when an AH header is cut or overruns the
/// packet: [`Anomaly::TruncatedIpv4`] for a snaplen cut, [`Anomaly::BadIpv4HeaderLength`]
/// when the IP total length cannot hold it (AH is part of the IPv4 header chain).
fn skip_ah<'a>(mut r: Region<'a>, cx: &mut Cx<'a, '_>) -> Option<(IpProto, Region<'a>)> {
    let mut proto = AH;
    for _ in 0..MAX_AH_HEADERS {
        if proto != AH {
            break;
        }
        let b = r.bytes;
        if b.len() < 2 {
            // The length byte sizes the header: missing from the capture, or from the packet.
            if r.wire >= 2 {
                cx.anomaly(Anomaly::TruncatedIpv4);
            } else if r.wire > 0 || !b.is_empty() {
                cx.anomaly(Anomaly::BadIpv4HeaderLength);
            }
            return None;
        }
        let len = (usize::from(u8_at(b, ah::LENGTH)) + 2) * 4;
        if len < ah::MIN_LEN || len_u32(len) > r.wire {
            cx.anomaly(Anomaly::BadIpv4HeaderLength);
            return None;
        }
        if b.len() < len {
            cx.anomaly(Anomaly::TruncatedIpv4);
            return None;
        }
        proto = IpProto(u8_at(b, ah::NEXT_HEADER));
        if let Some(ip) = cx.pkt.ip.as_mut() {
            ip.proto = proto;
            ip.header_len = ip
                .header_len
                .saturating_add(u16::try_from(len).unwrap_or(u16::MAX));
        }
        r = r.advance(len);
    }
    // A longer chain is not followed (no anomaly: AH on AH is legal, just not expected).
    (proto != AH).then_some((proto, r))
}

/// The anomaly for a protocol's header missing entirely from the capture.
fn truncation(proto: IpProto) -> Option<Anomaly> {
    match proto {
        IpProto::TCP => Some(Anomaly::TruncatedTcp),
        IpProto::UDP => Some(Anomaly::TruncatedUdp),
        IpProto::ICMP | IpProto::ICMPV6 => Some(Anomaly::TruncatedIcmp),
        IpProto::IPIP => Some(Anomaly::TruncatedIpv4),
        IpProto::IPV6 => Some(Anomaly::TruncatedIpv6),
        IpProto::GRE => Some(Anomaly::TruncatedTunnel),
        _ => None,
    }
}
