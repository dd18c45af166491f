//! Building frames layer by layer: Ethernet, 802.1Q, ARP, IPv4, IPv6, TCP, UDP, ICMP/ICMPv6.
//!
//! [`PacketBuilder`] appends headers outermost first into one reusable buffer; each layer
//! writes the type field of the layer before it (EtherType, IP protocol / next header).
//! [`PacketBuilder::finish`] then fills in every length and checksum and pads Ethernet frames
//! to the 60-byte minimum, so tests only state what they care about.

/// An Ethernet MAC address.
pub type Mac = [u8; 6];

/// The broadcast MAC address.
pub const BROADCAST: Mac = [0xff; 6];

/// EtherTypes (IEEE registry) written by the builder.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86DD;
}

/// IP protocol numbers (IANA) written by the builder.
pub mod ip_proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
}

/// TCP flag bits, byte 13 of the header (RFC 9293 §3.1).
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// The Ethernet minimum frame length without the FCS (IEEE 802.3 §3.2.8): shorter frames
/// are padded, as a NIC would.
pub const ETHERNET_MIN_LEN: usize = 60;

/// Fields of an IPv4 header (RFC 791 §3.1) that tests choose; lengths, protocol and the
/// header checksum are filled in by [`PacketBuilder::finish`].
#[derive(Clone, Copy, Debug)]
pub struct Ipv4 {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub ttl: u8,
    pub ident: u16,
    /// Don't Fragment.
    pub df: bool,
    /// DSCP and ECN, the second header byte.
    pub tos: u8,
}

impl Ipv4 {
    /// TTL 64, DF set, identification 0, TOS 0.
    pub fn new(src: [u8; 4], dst: [u8; 4]) -> Self {
        Ipv4 {
            src,
            dst,
            ttl: 64,
            ident: 0,
            df: true,
            tos: 0,
        }
    }
}

/// Fields of an IPv6 header (RFC 8200 §3); payload length and next header are filled in.
#[derive(Clone, Copy, Debug)]
pub struct Ipv6 {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub hop_limit: u8,
    pub traffic_class: u8,
    /// The low 20 bits are used.
    pub flow_label: u32,
}

impl Ipv6 {
    /// Hop limit 64, traffic class and flow label 0.
    pub fn new(src: [u8; 16], dst: [u8; 16]) -> Self {
        Ipv6 {
            src,
            dst,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
    }
}

/// Fields of a TCP header (RFC 9293 §3.1); data offset and checksum are filled in.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tcp {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// [`tcp_flags`] bits.
    pub flags: u8,
    pub window: u16,
}

/// Typical SYN options: MSS, NOP, window scale 7, SACK permitted, NOP, NOP (12 bytes).
pub fn syn_options(mss: u16) -> [u8; 12] {
    let m = mss.to_be_bytes();
    [2, 4, m[0], m[1], 1, 3, 3, 7, 4, 2, 1, 1]
}

/// ARP operation (RFC 826).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArpOp {
    Request = 1,
    Reply = 2,
}

#[derive(Clone, Copy, Debug)]
enum L3 {
    V4(usize),
    V6(usize),
}

#[derive(Clone, Copy, Debug)]
enum L4 {
    Tcp(usize),
    Udp(usize),
    Icmp(usize),
    Icmpv6(usize),
}

/// Appends a frame's headers outermost first; see the module documentation.
///
/// ```
/// use wirescope_testkit::packet::{tcp_flags, Ipv4, PacketBuilder, Tcp};
/// let mut b = PacketBuilder::new();
/// let frame = b
///     .ethernet([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
///     .vlan(100)
///     .ipv4(Ipv4::new([198, 18, 0, 1], [198, 19, 0, 1]))
///     .tcp(&Tcp { src_port: 40000, dst_port: 80, seq: 1, flags: tcp_flags::SYN, window: 64240, ..Tcp::default() })
///     .finish();
/// assert_eq!(frame.len(), 60); // 14 + 4 + 20 + 20 = 58 bytes, padded to the Ethernet minimum
/// assert_eq!(&frame[12..14], &[0x81, 0x00]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct PacketBuilder {
    buf: Vec<u8>,
    /// Where the next layer's EtherType goes.
    type_at: Option<usize>,
    ethernet: bool,
    l3: Option<L3>,
    l4: Option<L4>,
    /// Set by `finish`: the next layer call starts a new frame.
    done: bool,
}

impl PacketBuilder {
    pub fn new() -> Self {
        PacketBuilder {
            buf: Vec::with_capacity(2048),
            ..PacketBuilder::default()
        }
    }

    /// Forgets the previous frame, keeping the buffer's allocation. [`PacketBuilder::finish`]
    /// does this implicitly for the next frame, so calling it is only needed to abandon one.
    pub fn clear(&mut self) -> &mut Self {
        self.buf.clear();
        self.type_at = None;
        self.ethernet = false;
        self.l3 = None;
        self.l4 = None;
        self.done = false;
        self
    }

    /// A finished frame is replaced by the next one.
    fn begin(&mut self) {
        if self.done {
            self.clear();
        }
    }

    fn set_type(&mut self, ethertype: u16) {
        if let Some(at) = self.type_at.take() {
            self.buf[at..at + 2].copy_from_slice(&ethertype.to_be_bytes());
        }
    }

    fn set_proto(&mut self, proto: u8) {
        match self.l3 {
            Some(L3::V4(at)) => self.buf[at + 9] = proto,
            Some(L3::V6(at)) => self.buf[at + 6] = proto,
            None => {}
        }
    }

    /// Ethernet II header (IEEE 802.3 §3.2); starts a new frame.
    pub fn ethernet(&mut self, src: Mac, dst: Mac) -> &mut Self {
        self.clear();
        self.buf.extend_from_slice(&dst);
        self.buf.extend_from_slice(&src);
        self.buf.extend_from_slice(&[0, 0]);
        self.type_at = Some(12);
        self.ethernet = true;
        self
    }

    /// An 802.1Q tag with priority 0 and the given VLAN id (low 12 bits).
    pub fn vlan(&mut self, vid: u16) -> &mut Self {
        self.begin();
        self.set_type(ethertype::VLAN);
        self.buf.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
        self.type_at = Some(self.buf.len());
        self.buf.extend_from_slice(&[0, 0]);
        self
    }

    /// An Ethernet/IPv4 ARP packet (RFC 826).
    pub fn arp(&mut self, op: ArpOp, sha: Mac, spa: [u8; 4], tha: Mac, tpa: [u8; 4]) -> &mut Self {
        self.begin();
        self.set_type(ethertype::ARP);
        self.buf
            .extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, op as u8]);
        self.buf.extend_from_slice(&sha);
        self.buf.extend_from_slice(&spa);
        self.buf.extend_from_slice(&tha);
        self.buf.extend_from_slice(&tpa);
        self
    }

    /// An IPv4 header without options. Without a preceding [`PacketBuilder::ethernet`] the
    /// frame is a raw IP packet (LINKTYPE_RAW).
    pub fn ipv4(&mut self, h: Ipv4) -> &mut Self {
        self.begin();
        self.set_type(ethertype::IPV4);
        let at = self.buf.len();
        let frag = if h.df { 0x4000u16 } else { 0 };
        let id = h.ident.to_be_bytes();
        let fr = frag.to_be_bytes();
        self.buf.extend_from_slice(&[
            0x45, h.tos, 0, 0, id[0], id[1], fr[0], fr[1], h.ttl, 0, 0, 0,
        ]);
        self.buf.extend_from_slice(&h.src);
        self.buf.extend_from_slice(&h.dst);
        self.l3 = Some(L3::V4(at));
        self
    }

    /// An IPv6 header without extension headers.
    pub fn ipv6(&mut self, h: Ipv6) -> &mut Self {
        self.begin();
        self.set_type(ethertype::IPV6);
        let at = self.buf.len();
        let word = (6u32 << 28) | (u32::from(h.traffic_class) << 20) | (h.flow_label & 0xf_ffff);
        self.buf.extend_from_slice(&word.to_be_bytes());
        self.buf.extend_from_slice(&[0, 0, 0, h.hop_limit]);
        self.buf.extend_from_slice(&h.src);
        self.buf.extend_from_slice(&h.dst);
        self.l3 = Some(L3::V6(at));
        self
    }

    /// A TCP header without options.
    pub fn tcp(&mut self, h: &Tcp) -> &mut Self {
        self.tcp_with_options(h, &[])
    }

    /// A TCP header with options, padded with End-of-Option-List to a multiple of 4 bytes
    /// (at most 40 bytes are kept: the data offset field cannot say more).
    pub fn tcp_with_options(&mut self, h: &Tcp, options: &[u8]) -> &mut Self {
        self.begin();
        self.set_proto(ip_proto::TCP);
        let at = self.buf.len();
        let opts = &options[..options.len().min(40)];
        let words = 5 + opts.len().div_ceil(4);
        self.buf.extend_from_slice(&h.src_port.to_be_bytes());
        self.buf.extend_from_slice(&h.dst_port.to_be_bytes());
        self.buf.extend_from_slice(&h.seq.to_be_bytes());
        self.buf.extend_from_slice(&h.ack.to_be_bytes());
        self.buf.extend_from_slice(&[(words as u8) << 4, h.flags]);
        self.buf.extend_from_slice(&h.window.to_be_bytes());
        self.buf.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
        self.buf.extend_from_slice(opts);
        self.buf.resize(at + words * 4, 0);
        self.l4 = Some(L4::Tcp(at));
        self
    }

    /// A UDP header (RFC 768).
    pub fn udp(&mut self, src_port: u16, dst_port: u16) -> &mut Self {
        self.begin();
        self.set_proto(ip_proto::UDP);
        let at = self.buf.len();
        self.buf.extend_from_slice(&src_port.to_be_bytes());
        self.buf.extend_from_slice(&dst_port.to_be_bytes());
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.l4 = Some(L4::Udp(at));
        self
    }

    /// An ICMP (over IPv4) or ICMPv6 (over IPv6) header: type, code, checksum, and the four
    /// type-specific bytes.
    pub fn icmp(&mut self, icmp_type: u8, code: u8, rest: [u8; 4]) -> &mut Self {
        self.begin();
        let v6 = matches!(self.l3, Some(L3::V6(_)));
        self.set_proto(if v6 { ip_proto::ICMPV6 } else { ip_proto::ICMP });
        let at = self.buf.len();
        self.buf.extend_from_slice(&[icmp_type, code, 0, 0]);
        self.buf.extend_from_slice(&rest);
        self.l4 = Some(if v6 { L4::Icmpv6(at) } else { L4::Icmp(at) });
        self
    }

    /// An echo request or reply: ICMP types 8/0 (RFC 792) or ICMPv6 128/129 (RFC 4443 §4).
    pub fn icmp_echo(&mut self, request: bool, ident: u16, seq: u16) -> &mut Self {
        let v6 = matches!(self.l3, Some(L3::V6(_)));
        let t = match (v6, request) {
            (false, true) => 8,
            (false, false) => 0,
            (true, true) => 128,
            (true, false) => 129,
        };
        let i = ident.to_be_bytes();
        let s = seq.to_be_bytes();
        self.icmp(t, 0, [i[0], i[1], s[0], s[1]])
    }

    /// Appends payload bytes after the last header.
    pub fn payload(&mut self, data: &[u8]) -> &mut Self {
        self.begin();
        self.buf.extend_from_slice(data);
        self
    }

    /// One finished Ethernet/IPv4/TCP frame from `src` (address, port) to `dst` with the
    /// given sequence and acknowledgement numbers, flags and payload: IPv4 as [`Ipv4::new`],
    /// window 64 240. The shape most connections built by tests are made of.
    pub fn tcp4_frame(
        &mut self,
        macs: (Mac, Mac),
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        (seq, ack): (u32, u32),
        flags: u8,
        payload: &[u8],
    ) -> &[u8] {
        let tcp = Tcp {
            src_port: src.1,
            dst_port: dst.1,
            seq,
            ack,
            flags,
            window: 64240,
        };
        self.ethernet(macs.0, macs.1)
            .ipv4(Ipv4::new(src.0, dst.0))
            .tcp(&tcp)
            .payload(payload)
            .finish()
    }

    /// The frame so far, to append payload to in place (e.g. with [`crate::dns`]).
    pub fn bytes_mut(&mut self) -> &mut Vec<u8> {
        self.begin();
        &mut self.buf
    }

    /// The last finished frame (or the bytes appended so far).
    pub fn frame(&self) -> &[u8] {
        &self.buf
    }

    /// Fills in IP lengths, the IPv4 header checksum and the TCP/UDP/ICMP checksums, pads an
    /// Ethernet frame to 60 bytes, and returns the frame. The next layer call starts a new one.
    pub fn finish(&mut self) -> &[u8] {
        let end = self.buf.len();
        match self.l3 {
            Some(L3::V4(at)) => {
                let total = u16::try_from(end - at).unwrap_or(u16::MAX);
                self.buf[at + 2..at + 4].copy_from_slice(&total.to_be_bytes());
                let sum = checksum(&self.buf[at..at + 20], 0);
                self.buf[at + 10..at + 12].copy_from_slice(&sum.to_be_bytes());
            }
            Some(L3::V6(at)) => {
                let len = u16::try_from(end - at - 40).unwrap_or(u16::MAX);
                self.buf[at + 4..at + 6].copy_from_slice(&len.to_be_bytes());
            }
            None => {}
        }
        if let Some(l4) = self.l4 {
            self.fill_l4_checksum(l4, end);
        }
        if self.ethernet && end < ETHERNET_MIN_LEN {
            self.buf.resize(ETHERNET_MIN_LEN, 0);
        }
        self.done = true;
        &self.buf
    }

    fn fill_l4_checksum(&mut self, l4: L4, end: usize) {
        let (at, field, proto) = match l4 {
            L4::Tcp(at) => (at, at + 16, ip_proto::TCP),
            L4::Udp(at) => {
                let len = u16::try_from(end - at).unwrap_or(u16::MAX);
                self.buf[at + 4..at + 6].copy_from_slice(&len.to_be_bytes());
                (at, at + 6, ip_proto::UDP)
            }
            L4::Icmp(at) => (at, at + 2, ip_proto::ICMP),
            L4::Icmpv6(at) => (at, at + 2, ip_proto::ICMPV6),
        };
        let len = (end - at) as u32;
        // RFC 9293 §3.1 / RFC 768 / RFC 8200 §8.1: the pseudo-header; ICMPv4 has none.
        let pseudo = match (self.l3, l4) {
            (_, L4::Icmp(_)) | (None, _) => 0,
            (Some(L3::V4(ip)), _) => {
                sum_words(&self.buf[ip + 12..ip + 20]) + u64::from(proto) + u64::from(len)
            }
            (Some(L3::V6(ip)), _) => {
                sum_words(&self.buf[ip + 8..ip + 40]) + u64::from(proto) + u64::from(len)
            }
        };
        let mut sum = checksum(&self.buf[at..end], pseudo);
        if sum == 0 && matches!(l4, L4::Udp(_)) {
            sum = 0xffff; // RFC 768: a computed zero is sent as all ones.
        }
        self.buf[field..field + 2].copy_from_slice(&sum.to_be_bytes());
    }
}

/// The sum of `data` as big-endian 16-bit words (odd trailing byte padded with zero), not
/// yet folded: 32-bit words are added at a time, which is equivalent modulo 0xffff
/// (RFC 1071 §2).
pub fn sum_words(data: &[u8]) -> u64 {
    let mut sum = 0u64;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        sum += u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
    let rest = chunks.remainder();
    let mut tail = [0u8; 4];
    tail[..rest.len()].copy_from_slice(rest);
    sum + u64::from(u32::from_be_bytes(tail))
}

/// The Internet checksum (RFC 1071) of `data` plus an unfolded `initial` sum (a
/// pseudo-header), ready to store: the one's complement of the one's complement sum.
pub fn checksum(data: &[u8], initial: u64) -> u16 {
    let mut sum = sum_words(data) + initial;
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(sum: u64) -> u16 {
        !checksum(&[], sum)
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 0xddf2.
        assert_eq!(
            fold(sum_words(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])),
            0xddf2
        );
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7], 0),
            !0xddf2
        );
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(
            sum_words(&[0x12, 0x34, 0x56]),
            sum_words(&[0x12, 0x34, 0x56, 0x00])
        );
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        let mut b = PacketBuilder::new();
        let f = b
            .ethernet([2; 6], [4; 6])
            .ipv4(Ipv4 {
                ident: 0x1c46,
                ..Ipv4::new([198, 18, 0, 1], [198, 19, 0, 2])
            })
            .udp(5353, 53)
            .payload(b"abc")
            .finish()
            .to_vec();
        // The header sums to all ones when the checksum is included.
        assert_eq!(checksum(&f[14..34], 0), 0);
        assert_eq!(u16::from_be_bytes([f[16], f[17]]), 20 + 8 + 3);
        assert_eq!(f[23], ip_proto::UDP);
        assert_eq!(f.len(), 60);
        // UDP checksum with the pseudo-header verifies too.
        let pseudo = sum_words(&f[26..34]) + 17 + 11;
        assert_eq!(checksum(&f[34..45], pseudo), 0);
    }

    #[test]
    fn tcp_over_ipv6_with_vlan() {
        let mut b = PacketBuilder::new();
        let mut src = [0u8; 16];
        src[0] = 0xfd;
        src[15] = 1;
        let mut dst = src;
        dst[15] = 2;
        let h = Tcp {
            src_port: 1,
            dst_port: 443,
            seq: 7,
            ack: 0,
            flags: tcp_flags::SYN,
            window: 1,
        };
        let f = b
            .ethernet([2; 6], [4; 6])
            .vlan(5)
            .ipv6(Ipv6::new(src, dst))
            .tcp_with_options(&h, &syn_options(1440))
            .finish()
            .to_vec();
        assert_eq!(&f[12..16], &[0x81, 0x00, 0x00, 0x05]);
        assert_eq!(&f[16..18], &[0x86, 0xdd]);
        let ip = 18;
        assert_eq!(f[ip + 6], ip_proto::TCP);
        assert_eq!(u16::from_be_bytes([f[ip + 4], f[ip + 5]]), 32);
        assert_eq!(f[ip + 40 + 12] >> 4, 8);
        let pseudo = sum_words(&f[ip + 8..ip + 40]) + 6 + 32;
        assert_eq!(checksum(&f[ip + 40..], pseudo), 0);
        assert_eq!(f.len(), 18 + 40 + 32);
    }

    #[test]
    fn builder_reuses_buffer_between_frames() {
        let mut b = PacketBuilder::new();
        let a = b
            .ethernet([1; 6], BROADCAST)
            .arp(
                ArpOp::Request,
                [1; 6],
                [198, 18, 0, 1],
                [0; 6],
                [198, 18, 0, 2],
            )
            .finish()
            .to_vec();
        assert_eq!(a.len(), 60);
        assert_eq!(&a[12..14], &[0x08, 0x06]);
        let raw = b
            .ipv4(Ipv4::new([1, 2, 3, 4], [5, 6, 7, 8]))
            .icmp_echo(true, 1, 2)
            .finish()
            .to_vec();
        assert_eq!(raw.len(), 28, "a raw IP packet is not padded");
        assert_eq!(raw[0], 0x45);
        assert_eq!(checksum(&raw[20..], 0), 0);
    }
}
