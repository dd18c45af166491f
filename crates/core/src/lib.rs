//! Shared vocabulary of wirescope: timestamps, link types, frames, layer and anomaly sets,
//! flow keys and directions.
//!
//! This crate owns no behaviour beyond small value types. It must never do I/O, allocate on
//! any per-packet path, log, or read the wall clock: every other crate builds on it, including
//! the hot decode and flow paths.
//!
//! Invariants:
//! - [`Timestamp`] is nanoseconds since the Unix epoch, taken from the capture, never the clock.
//! - [`FlowKey`] is canonical: the same key for both directions of a conversation, with
//!   [`Direction`] telling which side sent a given packet.
//!
//! ```
//! use wirescope_core::{FlowKey, Direction, IpProto};
//! use std::net::{IpAddr, Ipv4Addr};
//! let a = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
//! let b = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
//! let (k1, d1) = FlowKey::new(a, b, 40000, 80, IpProto::TCP);
//! let (k2, d2) = FlowKey::new(b, a, 80, 40000, IpProto::TCP);
//! assert_eq!(k1, k2);
//! assert_ne!(d1, d2);
//! ```

mod layers;
mod time;

pub use layers::{Anomaly, AnomalySet, Layer, LayerSet};
pub use time::{civil_from_days, days_from_civil, Timestamp};

use std::fmt;
use std::net::IpAddr;

/// A link-layer header type, as numbered by tcpdump.org's LINKTYPE_ registry.
///
/// Kept as an integer newtype so that unknown values survive and can be reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: 4-byte address family in host byte order of the writer.
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// DLT_RAW as some BSDs number it.
    pub const RAW_BSD12: LinkType = LinkType(12);
    /// DLT_RAW as OpenBSD numbers it.
    pub const RAW_BSD14: LinkType = LinkType(14);
    /// LINKTYPE_RAW: the packet begins with an IPv4 or IPv6 header.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: 4-byte address family, network byte order.
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// PPP (RFC 1661), with or without the RFC 1662 address and control bytes.
    pub const PPP: LinkType = LinkType(9);
    /// PPP in HDLC-like framing (RFC 1662), as DLT_PPP_SERIAL writes it.
    pub const PPP_HDLC: LinkType = LinkType(50);
    /// Cisco HDLC: address, control, 2-byte EtherType-like protocol.
    pub const C_HDLC: LinkType = LinkType(104);
    /// IEEE 802.11 frames without radio information.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// Frame Relay (ITU-T Q.922 address, then RFC 2427 or Cisco encapsulation).
    pub const FRELAY: LinkType = LinkType(107);
    /// IEEE 802.11 frames behind a radiotap header.
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Linux ARCnet: source, destination, 2-byte offset, then a protocol id.
    pub const ARCNET_LINUX: LinkType = LinkType(129);
    /// Juniper "MGC" pseudo-header, then an Ethernet frame.
    pub const JUNIPER_ETHER: LinkType = LinkType(178);
    /// PPP preceded by a one-byte direction.
    pub const PPP_WITH_DIR: LinkType = LinkType(204);
    /// Linux netfilter NFLOG: a 4-byte header and TLVs, one of which holds the IP packet.
    pub const NFLOG: LinkType = LinkType(239);
    /// Apple PKTAP: a metadata header naming the link type of the frame that follows.
    pub const PKTAP: LinkType = LinkType(258);
    /// LINKTYPE_USER2, which Darwin wrote PKTAP as before it had a number of its own (and as
    /// Wireshark reads it).
    pub const USER2_PKTAP: LinkType = LinkType(149);
    /// Linux ATM classical IP: the frame is an IP packet.
    pub const LINUX_ATM_CLIP: LinkType = LinkType(106);
    /// Per-Packet Information header (CACE/Riverbed), then a frame of the link type it names.
    pub const PPI: LinkType = LinkType(192);
    /// Solaris ipnet: a 24-byte header with an address family, then IP.
    pub const IPNET: LinkType = LinkType(226);
    /// IP over InfiniBand: 40 bytes of addresses, an EtherType and 2 reserved bytes.
    pub const IPOIB: LinkType = LinkType(242);

    /// Whether the decoder understands this link type.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            LinkType::NULL
                | LinkType::ETHERNET
                | LinkType::RAW_BSD12
                | LinkType::RAW_BSD14
                | LinkType::RAW
                | LinkType::LOOP
                | LinkType::LINUX_SLL
                | LinkType::IPV4
                | LinkType::IPV6
                | LinkType::LINUX_SLL2
                | LinkType::PPP
                | LinkType::PPP_HDLC
                | LinkType::C_HDLC
                | LinkType::IEEE802_11
                | LinkType::FRELAY
                | LinkType::IEEE802_11_RADIOTAP
                | LinkType::ARCNET_LINUX
                | LinkType::JUNIPER_ETHER
                | LinkType::PPP_WITH_DIR
                | LinkType::NFLOG
                | LinkType::PKTAP
                | LinkType::USER2_PKTAP
                | LinkType::LINUX_ATM_CLIP
                | LinkType::PPI
                | LinkType::IPNET
                | LinkType::IPOIB
        )
    }

    /// A short name (tcpdump's spelling where there is one).
    pub fn name(self) -> &'static str {
        match self {
            LinkType::NULL => "null",
            LinkType::ETHERNET => "ether",
            LinkType::RAW_BSD12 | LinkType::RAW_BSD14 | LinkType::RAW => "raw",
            LinkType::LOOP => "loop",
            LinkType::LINUX_SLL => "linux-sll",
            LinkType::IPV4 => "ipv4",
            LinkType::IPV6 => "ipv6",
            LinkType::LINUX_SLL2 => "linux-sll2",
            LinkType::PPP | LinkType::PPP_HDLC => "ppp",
            LinkType::C_HDLC => "chdlc",
            LinkType::IEEE802_11 => "ieee-802-11",
            LinkType::FRELAY => "frelay",
            LinkType::IEEE802_11_RADIOTAP => "ieee-802-11-radiotap",
            LinkType::ARCNET_LINUX => "arcnet_linux",
            LinkType::JUNIPER_ETHER => "juniper-ether",
            LinkType::PPP_WITH_DIR => "ppp-with-dir",
            LinkType::NFLOG => "nflog",
            LinkType::PKTAP => "pktap",
            LinkType::USER2_PKTAP => "user2",
            LinkType::LINUX_ATM_CLIP => "linux-atm-clip",
            LinkType::PPI => "ppi",
            LinkType::IPNET => "ipnet",
            LinkType::IPOIB => "ip-ib",
            _ => "unsupported",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// One captured packet as a source hands it out, borrowing the source's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub ts: Timestamp,
    /// Length of the packet on the wire (may exceed `data.len()` when the snaplen cut it).
    pub wire_len: u32,
    pub link: LinkType,
    /// Interface index within the source (pcapng interface id; 0 for pcap).
    pub iface: u32,
    pub data: &'a [u8],
}

/// An IP protocol number (IANA "Assigned Internet Protocol Numbers").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpProto(pub u8);

impl IpProto {
    pub const HOPOPT: IpProto = IpProto(0);
    pub const ICMP: IpProto = IpProto(1);
    pub const IPIP: IpProto = IpProto(4);
    pub const TCP: IpProto = IpProto(6);
    pub const UDP: IpProto = IpProto(17);
    pub const IPV6: IpProto = IpProto(41);
    pub const IPV6_ROUTE: IpProto = IpProto(43);
    pub const IPV6_FRAG: IpProto = IpProto(44);
    pub const GRE: IpProto = IpProto(47);
    pub const ESP: IpProto = IpProto(50);
    pub const AH: IpProto = IpProto(51);
    pub const ICMPV6: IpProto = IpProto(58);
    pub const IPV6_NONXT: IpProto = IpProto(59);
    pub const IPV6_OPTS: IpProto = IpProto(60);
    pub const SCTP: IpProto = IpProto(132);

    /// Lower-case name as Zeek's `proto` field and EVE's `proto` (upper-cased) use it.
    pub fn name(self) -> &'static str {
        match self {
            IpProto::ICMP => "icmp",
            IpProto::TCP => "tcp",
            IpProto::UDP => "udp",
            IpProto::ICMPV6 => "icmp",
            IpProto::GRE => "gre",
            IpProto::ESP => "esp",
            IpProto::SCTP => "sctp",
            _ => "unknown_transport",
        }
    }

    /// Whether flows of this protocol have ports (or ICMP type/code in their place).
    pub fn has_ports(self) -> bool {
        matches!(self, IpProto::TCP | IpProto::UDP | IpProto::SCTP)
    }
}

/// Which side of a flow sent a packet: the originator (first packet seen) or the responder.
///
/// For canonical keys, `Forward` means "from `lo` to `hi`"; the flow table maps it to
/// originator/responder using the first packet it saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Forward,
    Reverse,
}

impl Direction {
    pub fn flip(self) -> Direction {
        match self {
            Direction::Forward => Direction::Reverse,
            Direction::Reverse => Direction::Forward,
        }
    }
}

/// A direction-free flow key: the endpoint with the smaller (address, port) is `lo`.
///
/// For ICMP, the ports carry type and code as the decoder sets them.
///
/// `Hash` is written by hand: two 128-bit words and one 64-bit word, which hashes several
/// times faster than the derived field-by-field hash of `IpAddr` (measured in the flow-table
/// bench). It is consistent with the derived `Eq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    pub lo_addr: IpAddr,
    pub hi_addr: IpAddr,
    pub lo_port: u16,
    pub hi_port: u16,
    pub proto: IpProto,
}

/// An address as one integer that orders like `IpAddr` within a family, and a family flag.
#[inline]
fn addr_bits(a: &IpAddr) -> (bool, u128) {
    match a {
        IpAddr::V4(v) => (false, u128::from(u32::from(*v))),
        IpAddr::V6(v) => (true, u128::from(*v)),
    }
}

impl std::hash::Hash for FlowKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let (f1, a) = addr_bits(&self.lo_addr);
        let (f2, b) = addr_bits(&self.hi_addr);
        h.write_u128(a);
        h.write_u128(b);
        h.write_u64(
            u64::from(self.lo_port) << 32
                | u64::from(self.hi_port) << 16
                | u64::from(self.proto.0) << 8
                | u64::from(f1) << 1
                | u64::from(f2),
        );
    }
}

impl FlowKey {
    /// Builds the canonical key and the direction of the packet (`Forward` when the source is
    /// `lo`).
    #[inline]
    pub fn new(
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        proto: IpProto,
    ) -> (FlowKey, Direction) {
        // Same order as comparing `(IpAddr, u16)` tuples (IPv4 before IPv6), on integers.
        if (addr_bits(&src), sport) <= (addr_bits(&dst), dport) {
            (
                FlowKey {
                    lo_addr: src,
                    hi_addr: dst,
                    lo_port: sport,
                    hi_port: dport,
                    proto,
                },
                Direction::Forward,
            )
        } else {
            (
                FlowKey {
                    lo_addr: dst,
                    hi_addr: src,
                    lo_port: dport,
                    hi_port: sport,
                    proto,
                },
                Direction::Reverse,
            )
        }
    }

    /// The endpoints as (source, source port, destination, destination port) for a direction.
    pub fn endpoints(&self, dir: Direction) -> (IpAddr, u16, IpAddr, u16) {
        match dir {
            Direction::Forward => (self.lo_addr, self.lo_port, self.hi_addr, self.hi_port),
            Direction::Reverse => (self.hi_addr, self.hi_port, self.lo_addr, self.lo_port),
        }
    }
}

/// The application protocol identified on a flow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AppProto {
    /// Not identified (yet, or ever).
    #[default]
    Unknown,
    Http,
    Tls,
    Dns,
    Ssh,
    Dhcp,
    /// A SOCKS 4/5 proxy connection (the flow is reported as the tunnelled protocol once
    /// that is identified).
    Socks,
    /// SMTP, FTP, IMAP, POP3, PostgreSQL, MySQL, LDAP: cleartext protocols followed until they
    /// switch to TLS (the flow is then reported as TLS).
    Smtp,
    Ftp,
    Imap,
    Pop3,
    Pgsql,
    Mysql,
    Ldap,
    /// OpenVPN over TCP (its control channel's TLS session is reported as a `tls` event).
    OpenVpn,
    /// Identification ran and gave up: none of the known protocols.
    Failed,
}

impl AppProto {
    /// The name in EVE's `app_proto` (Suricata's spelling).
    pub fn eve(self) -> &'static str {
        match self {
            AppProto::Unknown => "unknown",
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Dns => "dns",
            AppProto::Ssh => "ssh",
            AppProto::Dhcp => "dhcp",
            AppProto::Socks => "socks",
            AppProto::Smtp => "smtp",
            AppProto::Ftp => "ftp",
            AppProto::Imap => "imap",
            AppProto::Pop3 => "pop3",
            AppProto::Pgsql => "pgsql",
            AppProto::Mysql => "mysql",
            AppProto::Ldap => "ldap",
            AppProto::OpenVpn => "openvpn",
            AppProto::Failed => "failed",
        }
    }

    /// The name in Zeek's `conn.log` `service` column, if any.
    pub fn zeek(self) -> Option<&'static str> {
        match self {
            AppProto::Http => Some("http"),
            AppProto::Tls => Some("ssl"),
            AppProto::Dns => Some("dns"),
            AppProto::Ssh => Some("ssh"),
            AppProto::Dhcp => Some("dhcp"),
            AppProto::Socks => Some("socks"),
            AppProto::Smtp => Some("smtp"),
            AppProto::Ftp => Some("ftp"),
            AppProto::Imap => Some("imap"),
            AppProto::Pop3 => Some("pop3"),
            AppProto::Pgsql => Some("postgresql"),
            AppProto::Mysql => Some("mysql"),
            AppProto::Ldap => Some("ldap"),
            AppProto::OpenVpn => Some("openvpn"),
            AppProto::Unknown | AppProto::Failed => None,
        }
    }

    /// Whether a protocol was identified.
    pub fn is_known(self) -> bool {
        !matches!(self, AppProto::Unknown | AppProto::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn flow_key_is_symmetric_and_orders_by_address_then_port() {
        let a: IpAddr = Ipv6Addr::LOCALHOST.into();
        let b: IpAddr = "fd00::2".parse().expect("literal");
        let (k, d) = FlowKey::new(b, a, 1, 2, IpProto::UDP);
        assert_eq!(d, Direction::Reverse);
        assert_eq!(k.lo_addr, a);
        assert_eq!(k.endpoints(d), (b, 1, a, 2));
        // Same address: the port decides.
        let (k, d) = FlowKey::new(a, a, 9, 3, IpProto::UDP);
        assert_eq!((k.lo_port, k.hi_port, d), (3, 9, Direction::Reverse));
    }
}
