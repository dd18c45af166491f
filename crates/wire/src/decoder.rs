//! The per-packet decode context and the entry point.
//!
//! Each protocol module decodes one header and calls the decoder of what follows, so that the
//! common chain (link, IP, transport) compiles to straight-line code. The calls form cycles
//! only through an encapsulation (IP-in-IP, GRE, VXLAN), and every such cycle passes through
//! [`Cx::enter_tunnel`], which allows [`MAX_ENCAPSULATIONS`] of them: the recursion depth, and
//! so the stack and the work per packet, are bounded. Without a tunnel, the longest chain is
//! link, VLAN tags, SNAP, MPLS or PPPoE, IP, transport.

use crate::bytes::Region;
use crate::{fast, link, Anomaly, IpInfo, Layer, LinkType, Packet, Transport};

/// Most encapsulations (IP-in-IP, GRE, VXLAN) followed in one frame; a deeper one sets
/// [`Anomaly::TooManyEncapsulations`]. Real stacks rarely nest more than two (ERSPAN carrying
/// VXLAN); four leaves room while bounding the work per packet.
pub const MAX_ENCAPSULATIONS: u8 = 4;

/// Per-packet decode state: the packet being filled in (borrowed, so that every nested decoder
/// writes into the same place) and the tunnel depth.
pub(crate) struct Cx<'a, 'p> {
    pub pkt: &'p mut Packet<'a>,
    /// Encapsulations entered so far.
    depth: u8,
}

impl<'a, 'p> Cx<'a, 'p> {
    pub(crate) fn new(pkt: &'p mut Packet<'a>) -> Self {
        Cx { pkt, depth: 0 }
    }

    #[inline(always)]
    pub(crate) fn layer(&mut self, l: Layer) {
        self.pkt.layers.insert(l);
    }

    #[inline(always)]
    pub(crate) fn anomaly(&mut self, a: Anomaly) {
        self.pkt.anomalies.insert(a);
    }

    /// Starts a layer on `bytes`: sets its bit if at least one byte was captured (true), or
    /// flags `truncated` if none was (false): the enclosing header promised this layer.
    #[inline(always)]
    pub(crate) fn begin(&mut self, bytes: &[u8], l: Layer, truncated: Anomaly) -> bool {
        if bytes.is_empty() {
            self.anomaly(truncated);
            false
        } else {
            self.layer(l);
            true
        }
    }

    /// Enters one more encapsulation level; false (and the anomaly) past the limit.
    #[inline]
    pub(crate) fn enter_tunnel(&mut self) -> bool {
        if self.depth >= MAX_ENCAPSULATIONS {
            self.anomaly(Anomaly::TooManyEncapsulations);
            false
        } else {
            self.depth += 1;
            true
        }
    }

    /// Records a newly decoded (innermost so far) IP header: what an outer level said about
    /// transport and payload no longer applies.
    #[inline(always)]
    pub(crate) fn set_ip(&mut self, info: IpInfo) {
        self.pkt.ip = Some(info);
        self.pkt.transport = Transport::None;
        self.pkt.payload = &[];
        self.pkt.payload_wire_len = 0;
        // A failed deeper level must not overstate how deep the reported IP header is.
        self.pkt.tunnel_depth = self.depth;
    }
}

/// Decodes `data` as a frame of type `link` whose wire length is `wire` (or unknown).
#[inline(always)]
pub(crate) fn run(link: LinkType, data: &[u8], wire: u32) -> Packet<'_> {
    let mut pkt = Packet::default();
    if !fast::try_decode(link, data, wire, &mut pkt) {
        fill(&mut pkt, link, data, wire);
    }
    pkt
}

/// The general decoder, into a packet the caller provides (which must be
/// `Packet::default()`). [`run`] tries the fast path first.
pub(crate) fn fill<'a>(pkt: &mut Packet<'a>, link: LinkType, data: &'a [u8], wire: u32) {
    link::decode(link, Region { bytes: data, wire }, &mut Cx::new(pkt));
}
