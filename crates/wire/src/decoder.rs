//! The decode loop: a small state machine over [`Next`] steps, and the per-packet context.
//!
//! Each protocol module decodes one header and says what comes next. Keeping the chain as a
//! loop rather than recursion bounds the stack, and the step budget bounds the work even if a
//! future change broke the per-layer limits.

use crate::bytes::Region;
use crate::{ethernet, ipv4, ipv6, link, Anomaly, IpInfo, Layer, LinkType, Packet, Transport};

/// Most encapsulations (IP-in-IP, GRE, VXLAN) followed in one frame; a deeper one sets
/// [`Anomaly::TooManyEncapsulations`]. Real stacks rarely nest more than two (ERSPAN carrying
/// VXLAN); four leaves room while bounding the work per packet.
pub const MAX_ENCAPSULATIONS: u8 = 4;

/// Backstop on decoder steps. A level takes at most ~5 steps (link, EtherType dispatch, MPLS or
/// PPPoE, IP, transport/tunnel), and there are at most `MAX_ENCAPSULATIONS + 1` levels.
const MAX_STEPS: usize = 6 * (MAX_ENCAPSULATIONS as usize + 1);

/// What the decoder should look at next.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Next<'a> {
    Done,
    /// An Ethernet II / 802.3 frame (outer, or inside VXLAN, GRE TEB or ERSPAN).
    Ethernet(Region<'a>),
    /// A payload identified by an EtherType (from Ethernet, SLL, GRE or LLC/SNAP).
    EtherType(u16, Region<'a>),
    Ipv4(Region<'a>),
    Ipv6(Region<'a>),
}

/// Per-packet decode state: the packet being filled in and the tunnel depth.
#[derive(Default)]
pub(crate) struct Cx<'a> {
    pub pkt: Packet<'a>,
    /// Encapsulations entered so far.
    depth: u8,
}

impl<'a> Cx<'a> {
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
pub(crate) fn run(link: LinkType, data: &[u8], wire: u32) -> Packet<'_> {
    let mut cx = Cx::default();
    let mut next = link::decode(link, Region { bytes: data, wire }, &mut cx);
    for _ in 0..MAX_STEPS {
        next = match next {
            Next::Done => break,
            Next::Ethernet(r) => ethernet::decode(r, &mut cx),
            Next::EtherType(t, r) => ethernet::dispatch(t, r, &mut cx),
            Next::Ipv4(r) => ipv4::decode(r, &mut cx),
            Next::Ipv6(r) => ipv6::decode(r, &mut cx),
        };
    }
    if !matches!(next, Next::Done) {
        // Unreachable while the per-layer bounds hold; a bound, not a panic, if they do not.
        cx.anomaly(Anomaly::TooManyEncapsulations);
    }
    cx.pkt
}
