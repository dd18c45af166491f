//! Borrowing L2–L4 decode: Ethernet, 802.1Q/QinQ, ARP, MPLS, PPPoE, IPv4, IPv6, TCP, UDP,
//! ICMP, ICMPv6, SCTP, and GRE / ERSPAN / VXLAN / IP-in-IP encapsulations, the UDP tunnels
//! (GTP-U, Geneve, Teredo, CAPWAP, MPLS-in-UDP, L2TPv2, LISP), IPv4 AH and PIM registers;
//! links: Ethernet, Linux cooked, BSD null/loop, raw IP, PPP, Cisco HDLC, Frame Relay, NFLOG,
//! IEEE 802.11 (+ radiotap), ARCnet, Juniper Ethernet, PKTAP, PPI, ipnet, IPoIB, ATM CLIP.
//!
//! **Owns:** turning one captured frame into a [`Packet`]: which [`Layer`]s it holds, which
//! [`Anomaly`]s its headers show, the innermost IP header, its transport header and a borrowed
//! view of the transport payload.
//!
//! **Never does:** allocate, log, format, read the clock, keep state between packets, verify
//! TCP/UDP checksums (offload makes them noise), reassemble fragments or streams, or decode
//! application protocols. Those belong to `flow` and `engine`.
//!
//! **Contract** (the rest of wirescope relies on it):
//! - [`decode`] never panics, never allocates, never loops unboundedly, whatever the bytes:
//!   at most [`MAX_VLAN_TAGS`] VLAN tags, [`MAX_MPLS_LABELS`] MPLS labels,
//!   [`MAX_IPV6_EXT_HEADERS`] IPv6 extension headers and [`MAX_ENCAPSULATIONS`] tunnels are
//!   followed; every option walk consumes at least one byte per step within a ≤ 40-byte area.
//! - Malformed input is data: each problem sets an [`Anomaly`] bit and decoding stops at the
//!   deepest layer that could be read; the layers decoded so far stay available.
//! - Every length read from the wire is bounded by the captured bytes.
//! - [`Packet::layers`] is the union over all encapsulation levels; [`Packet::ip`],
//!   [`Packet::transport`] and [`Packet::payload`] describe the innermost IP packet that could
//!   be read; [`Packet::eth`] and [`Packet::vlan`] the outermost frame.
//! - A layer's bit is set as soon as one byte of its header is captured (as Wireshark lists a
//!   protocol once its dissector runs); a short header adds the matching `Truncated*` anomaly.
//!   A transport with no captured byte sets no layer bit; ICMP (not ICMPv6) needs 6 bytes,
//!   as tshark's dissector reads that far before it lists the protocol.
//!
//! **Entry points:** [`decode`] when only the captured bytes are known, [`decode_frame`] when
//! the frame's wire length is (it can then tell a snaplen cut from an IP length the frame never
//! held, [`Anomaly::IpLengthExceedsFrame`], and check [`Anomaly::BadFrameLength`]).
//!
//! **How it is built:** one module per header, each with named field offsets (smoltcp style)
//! and the RFC sections it follows. Each decodes its header and calls the decoder of what
//! follows; the only cycles in those calls pass through an encapsulation, which
//! [`MAX_ENCAPSULATIONS`] bounds, so the recursion is bounded too. A straight-line fast path
//! takes the common shape (Ethernet II, IPv4 without options or IPv6 without extension
//! headers, not fragmented, TCP or UDP) and hands anything else to the general decoder; a
//! property test holds both to the same output. Measured on real traffic: ~36 ns per typical
//! TCP packet, ~85 ns per packet of a tunnel-heavy mix (`benches/decode.rs`, thread CPU time,
//! harness included).
//!
//! **Where the layer set differs from Wireshark's protocol hierarchy:** protocols not decoded
//! here end the decode at their carrier (IPsec ESP, ICMP-quoted packets, PPPoE discovery,
//! L2TPv3, CAPWAP fragments, GTP-C, encrypted MACsec and 802.11); LLC frames count as Ethernet
//! only; VXLAN and VXLAN-GPE need their I flag; an IPv4 EtherType carrying IPv6 counts both
//! (as Wireshark's bogus IPv4 header does) and adds [`Anomaly::BadIpVersion`].
//!
//! ```
//! use wirescope_wire::{decode, tcp_flags, Anomaly, LinkType, Layer, Transport};
//!
//! // A raw IPv4 packet (LINKTYPE_RAW): 198.18.0.1:40000 -> 198.18.0.2:80, TCP SYN.
//! let mut pkt = [0u8; 40];
//! pkt[..20].copy_from_slice(&[
//!     0x45, 0x00, 0x00, 0x28, // version 4, IHL 5, total length 40
//!     0x00, 0x01, 0x40, 0x00, // ident 1, DF
//!     0x40, 0x06, 0x00, 0x00, // TTL 64, TCP, checksum (not filled in: flagged, not fatal)
//!     198, 18, 0, 1, 198, 18, 0, 2,
//! ]);
//! pkt[20..34].copy_from_slice(&[
//!     0x9c, 0x40, 0x00, 0x50, // ports 40000 -> 80
//!     0, 0, 0, 1, 0, 0, 0, 0, // seq 1, ack 0
//!     0x50, 0x02, // data offset 5, SYN
//! ]);
//! let p = decode(LinkType::RAW, &pkt);
//! assert!(p.layers.contains(Layer::Ipv4) && p.layers.contains(Layer::Tcp));
//! let Transport::Tcp(tcp) = p.transport else { panic!("not TCP") };
//! assert_eq!((tcp.src_port, tcp.dst_port), (40000, 80));
//! assert!(tcp.has(tcp_flags::SYN) && !tcp.has(tcp_flags::ACK));
//! assert!(p.payload.is_empty());
//! // The zero checksum is data, not an error: flagged, and the decode went on.
//! assert!(p.anomalies.contains(Anomaly::BadIpv4Checksum));
//! ```

#![forbid(unsafe_code)]

mod arp;
mod bytes;
mod chdlc;
mod decoder;
mod ethernet;
mod fast;
mod frelay;
mod icmp;
mod ieee80211;
mod ip;
mod ipv4;
mod ipv6;
mod link;
mod mpls;
mod nflog;
mod ppp;
mod sctp;
mod tcp;
#[cfg(test)]
mod testutil;
mod tunnel;
mod udp;

use std::net::IpAddr;
pub use wirescope_core::{Anomaly, AnomalySet, Frame, IpProto, Layer, LayerSet, LinkType};

pub use decoder::MAX_ENCAPSULATIONS;
pub use ethernet::MAX_VLAN_TAGS;
pub use ipv6::MAX_IPV6_EXT_HEADERS;
pub use mpls::MAX_MPLS_LABELS;
pub use tunnel::{is_tunnel_port, VXLAN_GPE_PORT, VXLAN_PORT};

/// TCP flag bits as they appear in byte 13 of the TCP header (plus NS from byte 12 in bit 8).
pub mod tcp_flags {
    pub const FIN: u16 = 0x01;
    pub const SYN: u16 = 0x02;
    pub const RST: u16 = 0x04;
    pub const PSH: u16 = 0x08;
    pub const ACK: u16 = 0x10;
    pub const URG: u16 = 0x20;
    pub const ECE: u16 = 0x40;
    pub const CWR: u16 = 0x80;
    pub const NS: u16 = 0x100;
}

/// The result of decoding one frame: what was found, borrowed where it carries bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Packet<'a> {
    /// Every layer seen, including outer layers of tunnels.
    pub layers: LayerSet,
    pub anomalies: AnomalySet,
    /// Outermost Ethernet header, if any.
    pub eth: Option<EthernetInfo>,
    /// Outermost 802.1Q VLAN id, if any.
    pub vlan: Option<u16>,
    pub arp: Option<ArpInfo>,
    /// The innermost IP header (after following tunnels).
    pub ip: Option<IpInfo>,
    pub transport: Transport,
    /// Captured transport payload (may be shorter than `IpInfo`-derived lengths when the
    /// snaplen cut the frame). Empty when there is no transport layer.
    pub payload: &'a [u8],
    /// Transport payload length as the headers claim it (IP length minus headers), which the
    /// flow layer uses for sequence analysis even when the capture was cut short.
    pub payload_wire_len: u32,
    /// How many encapsulations (IP-in-IP, GRE, VXLAN, GTP-U, ...) were followed to reach
    /// [`Packet::ip`]: 0 for a plain packet, at most [`MAX_ENCAPSULATIONS`].
    pub tunnel_depth: u8,
    /// The outermost UDP header that carried a UDP-based tunnel (VXLAN, VXLAN-GPE, Geneve,
    /// GTP-U, Teredo, CAPWAP data, MPLS-in-UDP, L2TPv2, LISP), so that the flow layer can track
    /// the tunnel's own conversation, as Zeek and `tshark -z conv,udp` do.
    ///
    /// Set exactly when an IP header inside that tunnel was decoded, so that [`Packet::ip`]
    /// and [`Packet::transport`] describe the inner packet, never this carrier: count both.
    /// `None` when the packet was not tunnelled over UDP, and also when the tunnel held no IP
    /// header that could be read (GTP echo, ARP in VXLAN, an inner header cut short): then
    /// `ip` and `transport` are the carrier itself.
    pub tunnel_udp: Option<TunnelUdp>,
}

/// The carrier of a UDP tunnel: its IP endpoints, ports and IP total length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelUdp {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub ip_total_len: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthernetInfo {
    pub src: [u8; 6],
    pub dst: [u8; 6],
    /// The EtherType after any VLAN tags. For an IEEE 802.3 frame: the EtherType its SNAP
    /// header carries, or else the length field (below 0x0600).
    pub ethertype: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpInfo {
    /// 1 = request, 2 = reply (others kept as read).
    pub op: u16,
    pub sender_mac: [u8; 6],
    pub sender_ip: [u8; 4],
    pub target_mac: [u8; 6],
    pub target_ip: [u8; 4],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The upper-layer protocol (after IPv6 extension headers, and after AH in IPv4).
    pub proto: IpProto,
    pub ttl: u8,
    /// IPv4 total length, or IPv6 40 + payload length (saturating at 65535). When the length
    /// field is 0 (IPv4 from TSO-offloading NICs, IPv6 jumbograms with their Jumbo Payload
    /// option) it is the captured length; an IPv6 payload length of 0 without that option
    /// means 40 (nothing after the header is decoded, as in tshark).
    pub total_len: u16,
    /// Header length including IPv4 options and AH / IPv6 extension headers.
    pub header_len: u16,
    /// Fragment offset in bytes (0 for the first fragment or an unfragmented packet).
    pub frag_offset: u16,
    pub more_fragments: bool,
    /// IPv4 identification or IPv6 fragment identification (0 when absent).
    pub ident: u32,
    pub dscp: u8,
    /// IPv6 flow label (RFC 8200 §6); 0 for IPv4.
    pub flow_label: u32,
}

impl IpInfo {
    /// True for any fragment (first or later).
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.frag_offset != 0
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    #[default]
    None,
    Tcp(TcpInfo),
    Udp(UdpInfo),
    Icmp(IcmpInfo),
    Icmpv6(IcmpInfo),
    Sctp {
        src_port: u16,
        dst_port: u16,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// See [`tcp_flags`].
    pub flags: u16,
    pub window: u16,
    pub header_len: u8,
    pub urgent: u16,
    pub options: TcpOptions,
}

impl TcpInfo {
    #[inline]
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

/// Parsed TCP options (RFC 9293 §3.1, RFC 7323, RFC 2018).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// Number of SACK blocks (up to 4); the first block's edges are kept.
    pub sack_blocks: u8,
    pub first_sack: Option<(u32, u32)>,
    /// (TSval, TSecr)
    pub timestamps: Option<(u32, u32)>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UdpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    pub length: u16,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IcmpInfo {
    pub icmp_type: u8,
    pub code: u8,
    /// Identifier and sequence of echo request/reply; 0 otherwise.
    pub ident: u16,
    pub seq: u16,
}

/// Decodes one frame of the given link type.
///
/// The frame's length on the wire is not known here, so an IP length beyond the captured
/// bytes is taken as the snaplen's doing and never flagged as
/// [`Anomaly::IpLengthExceedsFrame`]; use [`decode_frame`] when the wire length is known.
#[inline]
pub fn decode(link: LinkType, data: &[u8]) -> Packet<'_> {
    decoder::run(link, data, bytes::UNKNOWN_LEN)
}

/// Decodes a captured [`Frame`], using its wire length to tell a snaplen cut (fine) from an IP
/// length that the frame could never have held ([`Anomaly::IpLengthExceedsFrame`]).
///
/// Adds [`Anomaly::BadFrameLength`] when the capture length exceeds the wire length (the
/// wire length is then ignored).
#[inline]
pub fn decode_frame<'a>(frame: &Frame<'a>) -> Packet<'a> {
    let bad_len = bytes::len_u32(frame.data.len()) > frame.wire_len;
    let wire = if bad_len {
        bytes::UNKNOWN_LEN
    } else {
        frame.wire_len
    };
    let mut p = decoder::run(frame.link, frame.data, wire);
    if bad_len && frame.link.is_supported() {
        p.anomalies.insert(Anomaly::BadFrameLength);
    }
    p
}
