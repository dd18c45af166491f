//! Which layers a packet contained, and which anomalies its decode found: small `Copy` sets.

/// A protocol layer the decoder recognised in a packet. The discriminant is the bit index in
/// [`LayerSet`]; the order is also the order of the protocol hierarchy report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Layer {
    Eth = 0,
    Vlan,
    Arp,
    Ipv4,
    Ipv6,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Gre,
    Vxlan,
    Sctp,
    /// An IPv4 or IPv6 fragment other than the first (no transport header to decode).
    Fragment,
    /// IP-in-IP or IPv6-in-IP (protocol 4 / 41) encapsulation.
    IpInIp,
    Mpls,
    Pppoe,
    /// Linux cooked capture (SLL / SLL2) or BSD null header.
    Cooked,
}

impl Layer {
    pub const ALL: [Layer; 17] = [
        Layer::Eth,
        Layer::Vlan,
        Layer::Arp,
        Layer::Ipv4,
        Layer::Ipv6,
        Layer::Tcp,
        Layer::Udp,
        Layer::Icmp,
        Layer::Icmpv6,
        Layer::Gre,
        Layer::Vxlan,
        Layer::Sctp,
        Layer::Fragment,
        Layer::IpInIp,
        Layer::Mpls,
        Layer::Pppoe,
        Layer::Cooked,
    ];

    /// The key used in JSON reports (`protocols.eth`, `protocols.ipv4`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Layer::Eth => "eth",
            Layer::Vlan => "vlan",
            Layer::Arp => "arp",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmp => "icmp",
            Layer::Icmpv6 => "icmpv6",
            Layer::Gre => "gre",
            Layer::Vxlan => "vxlan",
            Layer::Sctp => "sctp",
            Layer::Fragment => "ip_fragment",
            Layer::IpInIp => "ipip",
            Layer::Mpls => "mpls",
            Layer::Pppoe => "pppoe",
            Layer::Cooked => "cooked",
        }
    }
}

/// A set of [`Layer`]s, one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LayerSet(u32);

impl LayerSet {
    pub const EMPTY: LayerSet = LayerSet(0);

    #[inline]
    pub fn insert(&mut self, l: Layer) {
        self.0 |= 1 << (l as u8);
    }

    #[inline]
    pub fn contains(self, l: Layer) -> bool {
        self.0 & (1 << (l as u8)) != 0
    }

    #[inline]
    pub fn remove(&mut self, l: Layer) {
        self.0 &= !(1 << (l as u8));
    }

    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn bits(self) -> u32 {
        self.0
    }

    pub fn from_bits(bits: u32) -> LayerSet {
        LayerSet(bits)
    }

    pub fn iter(self) -> impl Iterator<Item = Layer> {
        Layer::ALL.into_iter().filter(move |l| self.contains(*l))
    }
}

/// A malformation or oddity found while decoding. Counted by kind; never an error.
///
/// The discriminant is the bit index in [`AnomalySet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Anomaly {
    /// The frame ended inside the link-layer header.
    TruncatedLink = 0,
    TruncatedArp,
    TruncatedIpv4,
    TruncatedIpv6,
    TruncatedTcp,
    TruncatedUdp,
    TruncatedIcmp,
    TruncatedTunnel,
    /// IPv4 version field is not 4 or IPv6 version field is not 6.
    BadIpVersion,
    /// IPv4 IHL below 5, or total length smaller than the header.
    BadIpv4HeaderLength,
    /// IPv4 header checksum does not verify (only checked when the full header was captured).
    BadIpv4Checksum,
    /// The IP total/payload length claims more bytes than the frame's original length.
    IpLengthExceedsFrame,
    /// An IPv4 option with a bad length.
    BadIpv4Option,
    /// An IPv6 extension header chain that is malformed or too long.
    BadIpv6ExtHeader,
    /// TCP data offset below 5 or beyond the segment.
    BadTcpHeaderLength,
    /// A TCP option with a bad length.
    BadTcpOption,
    /// UDP length field below 8 or beyond the IP payload.
    BadUdpLength,
    /// Encapsulations nested deeper than the decoder follows.
    TooManyEncapsulations,
    /// Too many VLAN tags.
    TooManyVlanTags,
    /// The IPv4 fragment offset plus length exceeds 65535.
    BadFragment,
    /// The frame's link type is one the decoder does not support.
    UnsupportedLinkType,
    /// Capture length larger than the wire length, or zero-length frame.
    BadFrameLength,
    TruncatedSctp,
}

impl Anomaly {
    pub const ALL: [Anomaly; 23] = [
        Anomaly::TruncatedLink,
        Anomaly::TruncatedArp,
        Anomaly::TruncatedIpv4,
        Anomaly::TruncatedIpv6,
        Anomaly::TruncatedTcp,
        Anomaly::TruncatedUdp,
        Anomaly::TruncatedIcmp,
        Anomaly::TruncatedTunnel,
        Anomaly::BadIpVersion,
        Anomaly::BadIpv4HeaderLength,
        Anomaly::BadIpv4Checksum,
        Anomaly::IpLengthExceedsFrame,
        Anomaly::BadIpv4Option,
        Anomaly::BadIpv6ExtHeader,
        Anomaly::BadTcpHeaderLength,
        Anomaly::BadTcpOption,
        Anomaly::BadUdpLength,
        Anomaly::TooManyEncapsulations,
        Anomaly::TooManyVlanTags,
        Anomaly::BadFragment,
        Anomaly::UnsupportedLinkType,
        Anomaly::BadFrameLength,
        Anomaly::TruncatedSctp,
    ];

    /// Stable snake_case name, used as the key in reports and in EVE `anomaly` events.
    pub fn key(self) -> &'static str {
        match self {
            Anomaly::TruncatedLink => "truncated_link",
            Anomaly::TruncatedArp => "truncated_arp",
            Anomaly::TruncatedIpv4 => "truncated_ipv4",
            Anomaly::TruncatedIpv6 => "truncated_ipv6",
            Anomaly::TruncatedTcp => "truncated_tcp",
            Anomaly::TruncatedUdp => "truncated_udp",
            Anomaly::TruncatedIcmp => "truncated_icmp",
            Anomaly::TruncatedTunnel => "truncated_tunnel",
            Anomaly::BadIpVersion => "bad_ip_version",
            Anomaly::BadIpv4HeaderLength => "bad_ipv4_header_length",
            Anomaly::BadIpv4Checksum => "bad_ipv4_checksum",
            Anomaly::IpLengthExceedsFrame => "ip_length_exceeds_frame",
            Anomaly::BadIpv4Option => "bad_ipv4_option",
            Anomaly::BadIpv6ExtHeader => "bad_ipv6_ext_header",
            Anomaly::BadTcpHeaderLength => "bad_tcp_header_length",
            Anomaly::BadTcpOption => "bad_tcp_option",
            Anomaly::BadUdpLength => "bad_udp_length",
            Anomaly::TooManyEncapsulations => "too_many_encapsulations",
            Anomaly::TooManyVlanTags => "too_many_vlan_tags",
            Anomaly::BadFragment => "bad_fragment",
            Anomaly::UnsupportedLinkType => "unsupported_link_type",
            Anomaly::BadFrameLength => "bad_frame_length",
            Anomaly::TruncatedSctp => "truncated_sctp",
        }
    }
}

/// A set of [`Anomaly`] kinds found in one packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AnomalySet(u32);

impl AnomalySet {
    #[inline]
    pub fn insert(&mut self, a: Anomaly) {
        self.0 |= 1 << (a as u8);
    }

    #[inline]
    pub fn contains(self, a: Anomaly) -> bool {
        self.0 & (1 << (a as u8)) != 0
    }

    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Anomaly> {
        Anomaly::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_are_complete_and_keys_unique() {
        let mut s = LayerSet::EMPTY;
        for l in Layer::ALL {
            s.insert(l);
        }
        assert_eq!(s.iter().count(), Layer::ALL.len());
        assert_eq!(Layer::Cooked as usize + 1, Layer::ALL.len());
        assert_eq!(Anomaly::TruncatedSctp as usize + 1, Anomaly::ALL.len());
        let mut keys: Vec<_> = Anomaly::ALL.iter().map(|a| a.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Anomaly::ALL.len());
    }
}
