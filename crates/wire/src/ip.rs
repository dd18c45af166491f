//! What follows an IP header: transport decoders and IP-carried tunnels, by protocol number.

use crate::bytes::Region;
use crate::decoder::Cx;
use crate::{icmp, sctp, tcp, tunnel, udp, Anomaly, IpProto, Layer};

/// Decodes the IP payload `r` of protocol `proto` (the header chain is already consumed).
///
/// A payload with no captured byte sets no layer (Wireshark runs no dissector on it); if the
/// IP header said there should be bytes, the protocol's truncation anomaly is set.
#[inline]
pub(crate) fn upper<'a>(proto: IpProto, r: Region<'a>, cx: &mut Cx<'a, '_>) {
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
        _ => {}
    }
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
