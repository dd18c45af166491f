//! The application layer: per-flow stream reassembly, protocol identification and the DNS,
//! HTTP, TLS, SSH and DHCP parsers, plus the ARP table.
//!
//! State lives in a side table indexed by the flow's slot in the flow table and is created only
//! for flows that carry payload (a SYN scan costs nothing here). States are recycled through a
//! pool, so a warmed-up engine allocates nothing for new flows. Identification runs on the
//! first bytes of each direction; a flow that matches nothing is marked
//! [`AppProto::Failed`] and its state is released, so most bytes of unknown protocols cost one
//! branch. Once a parser has all it can see in clear (TLS after the handshake, SSH after
//! key exchange), reassembly stops for that flow as well.

use crate::hosts::CappedMap;
use crate::Sink;
use std::net::Ipv4Addr;
use wirescope_core::{AppProto, Timestamp};
use wirescope_flow::{Flow, FlowTable, PacketOutcome};
use wirescope_proto::dhcp;
use wirescope_proto::dns;
use wirescope_proto::http::{HttpConfig, HttpParser, Transaction};
use wirescope_proto::ident::{self, Guess};
use wirescope_proto::openvpn::OpenVpnParser;
use wirescope_proto::proxy::{ProxyHeader, ProxyReader, Step};
use wirescope_proto::socks::SocksParser;
use wirescope_proto::ssh::SshParser;
use wirescope_proto::starttls::{Dialect, StartTlsParser};
use wirescope_proto::stream::{Budget, Chunk, HalfStream, StreamConfig};
use wirescope_proto::tls::{TlsConfig, TlsParser};
use wirescope_proto::Dir;
use wirescope_wire::{ArpInfo, Packet, Transport};

/// Application-layer limits.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Run the application layer at all.
    pub enabled: bool,
    pub stream: StreamConfig,
    /// Out-of-order bytes held across all streams.
    pub reassembly_budget: usize,
    /// Bytes of each direction examined before identification gives up.
    pub ident_bytes: u64,
    /// Spare per-flow states kept for reuse.
    pub pool: usize,
    /// Flows with application state at once (the layer's memory cap); flows beyond it are
    /// not parsed and counted in `states_denied`.
    pub max_states: usize,
    /// IPv4 addresses in the ARP table.
    pub max_arp_entries: usize,
    /// Distinct names kept for the top DNS names, HTTP hosts and TLS SNIs.
    pub max_names: usize,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            enabled: true,
            stream: StreamConfig::default(),
            reassembly_budget: 64 << 20,
            ident_bytes: 4096,
            pool: 512,
            max_states: 65_536,
            max_arp_entries: 16_384,
            max_names: 16_384,
        }
    }
}

/// Where an application event happened.
pub struct AppCtx<'a> {
    pub ts: Timestamp,
    pub flow: &'a Flow,
}

/// A DNS event: a message (with the query it answers, if matched) or a query never answered.
pub enum DnsEvent<'a, 'm> {
    Message {
        msg: &'a dns::Message<'m>,
        /// The message travelled from the flow's originator.
        to_server: bool,
        /// For a response: the query it answers (same flow, same id and question).
        query: Option<&'a dns::PendingQuery>,
    },
    Unanswered(&'a dns::PendingQuery),
}

/// An ARP packet, and what the table made of it.
pub struct ArpEvent<'a> {
    pub ts: Timestamp,
    pub arp: &'a ArpInfo,
    /// The sender's IPv4 address was bound to another MAC address before.
    pub previous_mac: Option<[u8; 6]>,
}

/// One entry of the ARP table.
#[derive(Clone, Copy, Debug, Default)]
pub struct ArpEntry {
    pub mac: [u8; 6],
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    /// Times the address moved to another MAC.
    pub changes: u32,
    pub replies: u64,
    pub requests: u64,
}

/// Transport bytes of fragmented UDP and TCP datagrams, kept until the fragment tracker says a
/// datagram is complete, so that DNS and DHCP carried in fragments (large EDNS0 answers,
/// DNSSEC, the amplification attacks built on them) and TCP segments sent in fragments (an
/// HTTP request over a path with a small MTU) are parsed like tshark's reassembly parses them.
///
/// A buffer holds the datagram's IP payload from offset 0: the transport header's place is
/// left as zeros (the decoder already read the header from the first fragment), the
/// transport payload follows it.
///
/// Bounds: 1 024 datagrams and 16 MiB at once; an entry expires after 30 s of packet time (as
/// the tracker's do). The first copy of a byte wins, as in stream reassembly: a later
/// fragment that overlaps only fills what is still missing. Buffers are pooled.
struct Fragments {
    map: hashbrown::HashMap<FragKey, FragBuf, foldhash::fast::RandomState>,
    pool: Vec<FragBuf>,
    bytes: usize,
    dropped: u64,
}

/// (source, destination, IP protocol, identification), as the fragment tracker keys them.
type FragKey = (std::net::IpAddr, std::net::IpAddr, u8, u32);

#[derive(Default)]
struct FragBuf {
    first_ts: Timestamp,
    data: Vec<u8>,
    /// Byte ranges already filled, `[start, end)`, in arrival order.
    have: Vec<(usize, usize)>,
    /// A fragment could not be stored (a bound was reached): the datagram is not parsed.
    broken: bool,
}

const FRAG_DATAGRAMS: usize = 1024;
const FRAG_BYTES: usize = 16 << 20;
const FRAG_TIMEOUT_NS: u64 = 30_000_000_000;
/// Fragments stored per datagram (45 carry a 64 KiB datagram at a 1 500-byte MTU). Storing
/// one costs a pass over the ranges stored before it, so this also bounds the work an
/// attacker gets from many tiny overlapping fragments.
const FRAG_RANGES: usize = 128;

fn frag_key(ip: &wirescope_wire::IpInfo) -> FragKey {
    (ip.src, ip.dst, ip.proto.0, ip.ident)
}

impl Fragments {
    fn new() -> Fragments {
        Fragments {
            map: hashbrown::HashMap::with_capacity_and_hasher(FRAG_DATAGRAMS, Default::default()),
            pool: Vec::with_capacity(FRAG_DATAGRAMS),
            bytes: 0,
            dropped: 0,
        }
    }

    /// Stores one fragment's transport payload at its place in the datagram: `header` is the
    /// length of the transport header the decoder read from the first fragment (8 for UDP,
    /// the data offset for TCP), which the first fragment's `data` starts after.
    fn add(&mut self, ts: Timestamp, ip: &wirescope_wire::IpInfo, header: usize, data: &[u8]) {
        let at = usize::from(ip.frag_offset) + if ip.frag_offset == 0 { header } else { 0 };
        let end = at + data.len();
        let key = frag_key(ip);
        if !self.map.contains_key(&key) {
            if self.map.len() >= FRAG_DATAGRAMS {
                self.dropped += 1;
                return;
            }
            let mut b = self.pool.pop().unwrap_or_default();
            b.data.clear();
            b.have.clear();
            b.broken = false;
            b.first_ts = ts;
            self.map.insert(key, b);
        }
        let Some(b) = self.map.get_mut(&key) else {
            return;
        };
        if b.broken {
            return;
        }
        let grow = end.saturating_sub(b.data.len());
        if end > 65_535 || b.have.len() >= FRAG_RANGES || self.bytes + grow > FRAG_BYTES {
            self.dropped += 1;
            b.broken = true;
            return;
        }
        if grow > 0 {
            self.bytes += grow;
            b.data.resize(end, 0);
        }
        // Copy the parts of [at, end) no earlier fragment filled.
        let mut pos = at;
        while pos < end {
            // The earliest-starting filled range that covers `pos` or begins after it.
            let covering = b.have.iter().find(|&&(s, e)| s <= pos && pos < e);
            if let Some(&(_, e)) = covering {
                pos = e.min(end);
                continue;
            }
            let next = b
                .have
                .iter()
                .filter(|&&(s, _)| s > pos)
                .map(|&(s, _)| s)
                .min()
                .unwrap_or(end)
                .min(end);
            b.data[pos..next].copy_from_slice(&data[pos - at..next - at]);
            pos = next;
        }
        b.have.push((at, end));
    }

    /// The datagram's bytes (IP payload, transport header zeroed) once complete; give the
    /// buffer back with `put`.
    fn take(&mut self, ip: &wirescope_wire::IpInfo) -> Option<FragBuf> {
        let b = self.map.remove(&frag_key(ip))?;
        self.bytes = self.bytes.saturating_sub(b.data.len());
        if b.broken {
            self.put(b);
            return None;
        }
        Some(b)
    }

    fn put(&mut self, b: FragBuf) {
        if self.pool.len() < FRAG_DATAGRAMS {
            self.pool.push(b);
        }
    }

    fn expire(&mut self, now: Timestamp) {
        let pool = &mut self.pool;
        let bytes = &mut self.bytes;
        self.map.retain(|_, b| {
            let keep = now.since(b.first_ts) <= FRAG_TIMEOUT_NS;
            if !keep {
                *bytes = bytes.saturating_sub(b.data.len());
                if pool.len() < FRAG_DATAGRAMS {
                    pool.push(std::mem::take(b));
                }
            }
            keep
        });
    }
}

/// Counters and top names of the application layer.
#[derive(Default)]
pub(crate) struct AppStats {
    pub flows: [u64; 16],
    pub dns_queries: u64,
    pub dns_responses: u64,
    pub dns_malformed: u64,
    pub dns_unanswered: u64,
    pub dns_rcodes: std::collections::BTreeMap<u16, u64>,
    pub http_transactions: u64,
    pub http_methods: std::collections::BTreeMap<String, u64>,
    pub http_status: std::collections::BTreeMap<u16, u64>,
    pub tls_sessions: u64,
    pub tls_versions: std::collections::BTreeMap<&'static str, u64>,
    pub ssh_sessions: u64,
    pub socks_sessions: u64,
    pub proxy_headers: u64,
    pub proxy_malformed: u64,
    pub starttls_requests: u64,
    pub starttls_refusals: u64,
    pub starttls_upgrades: u64,
    pub dhcp_messages: u64,
    pub dhcp_transactions: u64,
    pub dhcp_malformed: u64,
    pub arp_packets: u64,
    pub arp_changes: u64,
    pub gaps: u64,
    pub missed_bytes: u64,
    pub overlap_mismatch_bytes: u64,
    pub depth_reached: u64,
    pub states_created: u64,
    pub states_denied: u64,
    pub states_live: usize,
    pub ident_failed: u64,
}

/// A counted name, keyed by its hash in a [`CappedMap`].
#[derive(Clone, Default)]
pub(crate) struct NameCount {
    pub name: String,
    pub count: u64,
}

pub(crate) struct TopNames {
    pub map: CappedMap<u64, NameCount>,
    hasher: foldhash::fast::FixedState,
}

impl TopNames {
    fn new(cap: usize) -> TopNames {
        TopNames {
            map: CappedMap::new(cap),
            hasher: foldhash::fast::FixedState::with_seed(0x4e41_4d45),
        }
    }

    fn add(&mut self, name: &[u8]) {
        if name.is_empty() {
            return;
        }
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(name);
        let e = self.map.entry(h, |v| v.count);
        if e.count == 0 {
            e.name = String::from_utf8_lossy(name).into_owned();
        }
        e.count += 1;
    }

    fn absorb(&mut self, o: &TopNames) {
        for (h, nc) in o.map.iter() {
            let e = self.map.entry(*h, |v| v.count);
            if e.count == 0 {
                e.name.clone_from(&nc.name);
            }
            e.count += nc.count;
        }
        self.map.evicted_total += o.map.evicted_total;
    }

    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self
            .map
            .iter()
            .map(|(_, nc)| (nc.name.clone(), nc.count))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

/// Spare parsers of each kind, reused across flows (no allocation in steady state).
#[derive(Default)]
#[allow(clippy::vec_box)]
struct ParserPool {
    http: Vec<Box<HttpParser>>,
    tls: Vec<Box<TlsParser>>,
    ssh: Vec<Box<SshParser>>,
    socks: Vec<Box<SocksParser>>,
    starttls: Vec<Box<StartTlsParser>>,
    openvpn: Vec<Box<OpenVpnParser>>,
    dns_tcp: Vec<[dns::TcpFramer; 2]>,
}

impl ParserPool {
    fn put(&mut self, p: Parser, cap: usize) {
        match p {
            Parser::Http(h) if self.http.len() < cap => self.http.push(h),
            Parser::Tls(t) if self.tls.len() < cap => self.tls.push(t),
            Parser::Ssh(x) if self.ssh.len() < cap => self.ssh.push(x),
            Parser::Socks(x) if self.socks.len() < cap => self.socks.push(x),
            Parser::StartTls(x) if self.starttls.len() < cap => self.starttls.push(x),
            Parser::OpenVpn(x) if self.openvpn.len() < cap => self.openvpn.push(x),
            Parser::DnsTcp(f) if self.dns_tcp.len() < cap => self.dns_tcp.push(f),
            _ => {}
        }
    }

    fn get(&mut self, p: AppProto) -> Parser {
        match p {
            AppProto::Http => Parser::Http(match self.http.pop() {
                Some(mut h) => {
                    h.reset();
                    h
                }
                None => Box::new(HttpParser::new(HttpConfig::default())),
            }),
            AppProto::Tls => Parser::Tls(match self.tls.pop() {
                Some(mut t) => {
                    t.reset();
                    t
                }
                None => Box::new(TlsParser::new(TlsConfig::default())),
            }),
            AppProto::Ssh => Parser::Ssh(match self.ssh.pop() {
                Some(mut x) => {
                    x.reset();
                    x
                }
                None => Box::new(SshParser::new()),
            }),
            AppProto::Socks => Parser::Socks(match self.socks.pop() {
                Some(mut x) => {
                    x.reset();
                    x
                }
                None => Box::new(SocksParser::new()),
            }),
            AppProto::OpenVpn => Parser::OpenVpn(match self.openvpn.pop() {
                Some(mut x) => {
                    x.reset();
                    x
                }
                None => Box::new(OpenVpnParser::new()),
            }),
            _ if let Some(d) = starttls_dialect(p) => {
                let mut x = self
                    .starttls
                    .pop()
                    .unwrap_or_else(|| Box::new(StartTlsParser::new()));
                x.reset(d);
                Parser::StartTls(x)
            }
            _ => Parser::DnsTcp(match self.dns_tcp.pop() {
                Some(mut f) => {
                    for x in &mut f {
                        x.reset();
                    }
                    f
                }
                None => [dns::TcpFramer::default(), dns::TcpFramer::default()],
            }),
        }
    }
}

enum Parser {
    None,
    Http(Box<HttpParser>),
    Tls(Box<TlsParser>),
    Ssh(Box<SshParser>),
    Socks(Box<SocksParser>),
    StartTls(Box<StartTlsParser>),
    OpenVpn(Box<OpenVpnParser>),
    DnsTcp([dns::TcpFramer; 2]),
}

/// Per-flow application state: the two reassembled streams and what consumes them.
struct FlowApp {
    flow_id: u64,
    streams: [HalfStream; 2],
    p: FlowParse,
}

/// Identification and parsing state of one flow (everything but the streams, so that the
/// streams can feed it while both are borrowed).
struct FlowParse {
    proto: AppProto,
    /// First bytes of each direction, kept while identification needs more.
    head: [Vec<u8>; 2],
    seen: [u64; 2],
    /// Identification said Unknown for this direction.
    unknown: [bool; 2],
    parser: Parser,
    dns: Option<dns::Tracker>,
    /// The session event was emitted (TLS, SSH).
    logged: bool,
    /// The flow's originator is the protocol's server (the capture began with its bytes):
    /// directions are swapped before the parsers see them.
    flip: bool,
    /// The protocol that opened a tunnel this flow's bytes now carry (HTTP after a 2xx
    /// answer to CONNECT, SOCKS after a granted request): `proto` is then the tunnelled
    /// protocol, identified afresh, and the flow keeps this one while that is unknown or
    /// fails.
    outer: Option<AppProto>,
    /// Tunnelled bytes handed over by the SOCKS parser, per direction (kept for their
    /// capacity).
    spare: [Vec<u8>; 2],
    /// Watches the originator's first bytes for a PROXY protocol header while `watch_proxy`.
    proxy: ProxyReader,
    watch_proxy: bool,
}

impl FlowApp {
    fn new() -> FlowApp {
        FlowApp {
            flow_id: 0,
            streams: [HalfStream::new(), HalfStream::new()],
            p: FlowParse {
                proto: AppProto::Unknown,
                head: [Vec::new(), Vec::new()],
                seen: [0; 2],
                unknown: [false; 2],
                parser: Parser::None,
                dns: None,
                logged: false,
                flip: false,
                outer: None,
                spare: [Vec::new(), Vec::new()],
                proxy: ProxyReader::new(),
                watch_proxy: true,
            },
        }
    }

    fn reset(&mut self, budget: &mut Budget, flow_id: u64) {
        self.flow_id = flow_id;
        for s in &mut self.streams {
            s.reset(budget);
        }
        let p = &mut self.p;
        p.proto = AppProto::Unknown;
        for h in &mut p.head {
            h.clear();
        }
        p.seen = [0; 2];
        p.unknown = [false; 2];
        match &mut p.parser {
            Parser::Http(x) => x.reset(),
            Parser::Tls(x) => x.reset(),
            Parser::Ssh(x) => x.reset(),
            Parser::Socks(x) => x.reset(),
            Parser::StartTls(x) => x.reset(Dialect::Smtp),
            Parser::OpenVpn(x) => x.reset(),
            Parser::DnsTcp(f) => {
                for x in f {
                    x.reset();
                }
            }
            Parser::None => {}
        }
        if let Some(t) = &mut p.dns {
            t.drain(&mut |_| {});
        }
        p.logged = false;
        p.flip = false;
        p.outer = None;
        p.proxy.reset();
        p.watch_proxy = true;
    }
}

/// The application layer of one engine.
pub(crate) struct AppLayer {
    pub cfg: AppConfig,
    states: Vec<Option<Box<FlowApp>>>,
    // Boxed so that states move between the table and the pool as pointers.
    #[allow(clippy::vec_box)]
    pool: Vec<Box<FlowApp>>,
    /// Spare parsers by kind: a pooled flow state is reused for any protocol.
    parsers: ParserPool,
    budget: Budget,
    dhcp: dhcp::TxTable,
    pub arp: CappedMap<Ipv4Addr, ArpEntry>,
    pub stats: AppStats,
    pub dns_names: TopNames,
    pub http_hosts: TopNames,
    pub tls_snis: TopNames,
    /// ICMP messages per (IPv6?, type, code): at most 65 536 distinct keys exist, and the map
    /// is reserved for the usual few hundred; beyond `ICMP_KINDS` keys new ones are counted
    /// as `icmp_other`.
    icmp: hashbrown::HashMap<(bool, u8, u8), u64, foldhash::fast::FixedState>,
    icmp_other: u64,
    frags: Fragments,
}

/// Distinct ICMP (type, code) pairs counted individually.
const ICMP_KINDS: usize = 1024;

fn proto_index(p: AppProto) -> usize {
    match p {
        AppProto::Unknown => 0,
        AppProto::Http => 1,
        AppProto::Tls => 2,
        AppProto::Dns => 3,
        AppProto::Ssh => 4,
        AppProto::Dhcp => 5,
        AppProto::Failed => 6,
        AppProto::Socks => 7,
        AppProto::Smtp => 8,
        AppProto::Ftp => 9,
        AppProto::Imap => 10,
        AppProto::Pop3 => 11,
        AppProto::Pgsql => 12,
        AppProto::Mysql => 13,
        AppProto::Ldap => 14,
        AppProto::OpenVpn => 15,
    }
}

/// Names of the `AppStats::flows` entries.
pub(crate) const PROTO_NAMES: [&str; 16] = [
    "unknown", "http", "tls", "dns", "ssh", "dhcp", "failed", "socks", "smtp", "ftp", "imap",
    "pop3", "pgsql", "mysql", "ldap", "openvpn",
];

impl AppLayer {
    /// `max_flows` sizes the side table (one pointer per flow-table slot, reserved up front).
    pub fn new(cfg: AppConfig, max_flows: usize) -> AppLayer {
        AppLayer {
            budget: Budget::new(cfg.reassembly_budget),
            states: Vec::with_capacity(max_flows),
            // Pools are reserved up front so that returning a state never reallocates.
            pool: Vec::with_capacity(cfg.pool),
            parsers: ParserPool {
                http: Vec::with_capacity(cfg.pool),
                tls: Vec::with_capacity(cfg.pool),
                ssh: Vec::with_capacity(cfg.pool),
                socks: Vec::with_capacity(cfg.pool),
                starttls: Vec::with_capacity(cfg.pool),
                openvpn: Vec::with_capacity(cfg.pool),
                dns_tcp: Vec::with_capacity(cfg.pool),
            },
            dhcp: dhcp::TxTable::default(),
            arp: CappedMap::new(cfg.max_arp_entries),
            stats: AppStats::default(),
            dns_names: TopNames::new(cfg.max_names),
            http_hosts: TopNames::new(cfg.max_names),
            tls_snis: TopNames::new(cfg.max_names),
            icmp: hashbrown::HashMap::with_capacity_and_hasher(
                ICMP_KINDS,
                foldhash::fast::FixedState::with_seed(1),
            ),
            icmp_other: 0,
            frags: Fragments::new(),
            cfg,
        }
    }

    /// A UDP or TCP fragment captured whole (the engine calls this for every such fragment);
    /// `header` is the transport header length the decoder read from a first fragment.
    pub fn fragment(
        &mut self,
        ts: Timestamp,
        ip: &wirescope_wire::IpInfo,
        header: usize,
        data: &[u8],
    ) {
        self.frags.add(ts, ip, header, data);
    }

    /// The fragment tracker completed a UDP or TCP datagram: its payload is parsed like an
    /// unfragmented datagram's or segment's.
    pub fn reassembled(
        &mut self,
        ts: Timestamp,
        table: &mut FlowTable,
        out: PacketOutcome,
        r: &wirescope_flow::frag::Reassembled,
        sink: &mut dyn Sink,
    ) {
        let Some(buf) = self.frags.take(&r.ip) else {
            return;
        };
        let (header, len) = match r.transport {
            Transport::Udp(u) => (8, usize::from(u.length.saturating_sub(8))),
            Transport::Tcp(t) => (usize::from(t.header_len), r.payload_len as usize),
            _ => (0, 0),
        };
        let payload = buf
            .data
            .get(header..header + len)
            .filter(|_| out.tracked && header > 0);
        if let (Some(payload), Some(fl)) = (payload, table.flow_in_slot(out.slot)) {
            let before = fl.app_proto;
            if before != AppProto::Failed {
                let after = match r.transport {
                    Transport::Tcp(t) => self.tcp_packet(ts, fl, out, &t, payload, sink),
                    _ => self.udp_packet(ts, fl, out, payload, Some(r.ip), sink),
                };
                if after != before {
                    self.stats.flows[proto_index(after)] += 1;
                    table.set_app_proto(out.slot, after);
                }
            }
        }
        self.frags.put(buf);
    }

    /// An ICMP or ICMPv6 message (any packet whose outermost transport is ICMP).
    pub fn icmp(&mut self, v6: bool, t: u8, c: u8) {
        let full = self.icmp.len() >= ICMP_KINDS;
        match self.icmp.get_mut(&(v6, t, c)) {
            Some(n) => *n += 1,
            None if !full => {
                self.icmp.insert((v6, t, c), 1);
            }
            None => self.icmp_other += 1,
        }
    }

    /// An ARP packet: updates the table and reports it.
    pub fn arp(&mut self, ts: Timestamp, a: &ArpInfo, sink: &mut dyn Sink) {
        self.stats.arp_packets += 1;
        let ip = Ipv4Addr::from(a.sender_ip);
        let mut previous = None;
        if a.sender_ip != [0; 4] {
            let e = self.arp.entry(ip, |e| e.last_ts.0.max(0) as u64);
            if e.first_ts == Timestamp(0) {
                e.first_ts = ts;
                e.mac = a.sender_mac;
            } else if e.mac != a.sender_mac {
                previous = Some(e.mac);
                e.mac = a.sender_mac;
                e.changes += 1;
                self.stats.arp_changes += 1;
            }
            e.last_ts = ts;
            match a.op {
                1 => e.requests += 1,
                2 => e.replies += 1,
                _ => {}
            }
        }
        sink.arp(&ArpEvent {
            ts,
            arp: a,
            previous_mac: previous,
        });
    }

    /// One packet of a tracked flow.
    pub fn packet(
        &mut self,
        ts: Timestamp,
        table: &mut FlowTable,
        out: PacketOutcome,
        pkt: &Packet<'_>,
        sink: &mut dyn Sink,
    ) {
        let Some(fl) = table.flow_in_slot(out.slot) else {
            return;
        };
        let before = fl.app_proto;
        if before == AppProto::Failed {
            return;
        }
        let after = match pkt.transport {
            Transport::Tcp(t) => self.tcp_packet(ts, fl, out, &t, pkt.payload, sink),
            Transport::Udp(_) => self.udp_packet(ts, fl, out, pkt.payload, pkt.ip, sink),
            _ => return,
        };
        if after != before {
            self.stats.flows[proto_index(after)] += 1;
            table.set_app_proto(out.slot, after);
        }
    }

    fn tcp_packet(
        &mut self,
        ts: Timestamp,
        fl: &Flow,
        out: PacketOutcome,
        t: &wirescope_wire::TcpInfo,
        payload: &[u8],
        sink: &mut dyn Sink,
    ) -> AppProto {
        let slot = out.slot as usize;
        let has_state = self
            .states
            .get(slot)
            .is_some_and(|s| s.as_ref().is_some_and(|s| s.flow_id == fl.id));
        // No state: nothing seen yet (pure ACKs cost nothing), or the flow's parser already
        // logged all it could and gave its state back.
        if !has_state && (payload.is_empty() || fl.app_proto != AppProto::Unknown) {
            return fl.app_proto;
        }
        if !has_state && self.stats.states_live >= self.cfg.max_states {
            self.stats.states_denied += 1;
            return fl.app_proto;
        }
        let dir = if out.from_orig {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let mut st = self.take_state(slot, fl);
        let ctx = AppCtx { ts, flow: fl };
        let syn = t.flags & wirescope_wire::tcp_flags::SYN != 0;
        let fin = t.flags & wirescope_wire::tcp_flags::FIN != 0;
        let ack = t.flags & wirescope_wire::tcp_flags::ACK != 0;
        let FlowApp { streams, p: f, .. } = &mut *st;
        let (a, b) = streams.split_at_mut(1);
        let (me, peer) = match dir {
            Dir::ToServer => (&mut a[0], &mut b[0]),
            Dir::ToClient => (&mut b[0], &mut a[0]),
        };
        // Streams created after a SYN went by start from that SYN's sequence number.
        let mine = &fl.tcp[usize::from(!out.from_orig)];
        if mine.syn_seen && !syn {
            if let Some(isn) = mine.first_seq() {
                me.begin(isn.wrapping_add(1));
            }
        }
        let theirs = &fl.tcp[usize::from(out.from_orig)];
        if theirs.syn_seen {
            if let Some(isn) = theirs.first_seq() {
                peer.begin(isn.wrapping_add(1));
            }
        }
        let scfg = self.cfg.stream;
        let budget = &mut self.budget;
        let mut tcp = TcpApp {
            cfg: &self.cfg,
            stats: &mut self.stats,
            names: Names {
                dns: &mut self.dns_names,
                http: &mut self.http_hosts,
                sni: &mut self.tls_snis,
            },
            f,
            parsers: &mut self.parsers,
            ports: (fl.orig().1, fl.resp().1),
            ctx: &ctx,
            sink,
        };
        me.segment(&scfg, budget, t.seq, syn, fin, payload, &mut |c| {
            tcp.chunk(dir, c)
        });
        if ack {
            peer.peer_ack(&scfg, budget, t.ack, &mut |c| tcp.chunk(dir.flip(), c));
        }
        let stop = tcp.finished();
        let keep_parser = matches!(tcp.f.parser, Parser::Http(_));
        let p = tcp.reported();
        if stop && !keep_parser {
            // Nothing more to learn: the state goes back to the pool.
            self.recycle(st);
        } else {
            if stop {
                // An HTTP tunnel: no more bytes to parse, but queued requests are still
                // reported when the flow ends.
                me.stop(budget);
                peer.stop(budget);
            }
            self.put_state(slot, st);
        }
        p
    }

    fn udp_packet(
        &mut self,
        ts: Timestamp,
        fl: &Flow,
        out: PacketOutcome,
        payload: &[u8],
        ip: Option<wirescope_wire::IpInfo>,
        sink: &mut dyn Sink,
    ) -> AppProto {
        if payload.is_empty() {
            return fl.app_proto;
        }
        let mut p = fl.app_proto;
        if p == AppProto::Unknown {
            p = match ident::udp(payload, (fl.orig().1, fl.resp().1)) {
                Guess::Dns => AppProto::Dns,
                Guess::Dhcp => AppProto::Dhcp,
                _ => {
                    self.stats.ident_failed += 1;
                    AppProto::Failed
                }
            };
        }
        match p {
            AppProto::Dns => {
                let slot = out.slot as usize;
                let has_state = self
                    .states
                    .get(slot)
                    .is_some_and(|s| s.as_ref().is_some_and(|s| s.flow_id == fl.id));
                if !has_state && self.stats.states_live >= self.cfg.max_states {
                    self.stats.states_denied += 1;
                    return p;
                }
                let mut st = self.take_state(slot, fl);
                let ctx = AppCtx { ts, flow: fl };
                let dir = if out.from_orig {
                    Dir::ToServer
                } else {
                    Dir::ToClient
                };
                let tracker = st.p.dns.get_or_insert_with(new_tracker);
                dns_message(
                    &mut self.stats,
                    &mut self.dns_names,
                    tracker,
                    &ctx,
                    dir,
                    payload,
                    sink,
                );
                // A DNS flow holds state only while a query is outstanding: most flows are
                // one query and its answer, and idle UDP flows live for minutes.
                if tracker.pending() == 0 {
                    self.recycle(st);
                } else {
                    self.put_state(slot, st);
                }
            }
            AppProto::Dhcp => self.dhcp_message(ts, payload, ip, fl, sink),
            _ => {}
        }
        p
    }

    fn dhcp_message(
        &mut self,
        ts: Timestamp,
        payload: &[u8],
        ip: Option<wirescope_wire::IpInfo>,
        fl: &Flow,
        sink: &mut dyn Sink,
    ) {
        let Ok(m) = dhcp::parse(payload) else {
            self.stats.dhcp_malformed += 1;
            return;
        };
        self.stats.dhcp_messages += 1;
        let (src, dst) = match ip {
            Some(ip) => (ip.src, ip.dst),
            None => return,
        };
        let v4 = |a: std::net::IpAddr| match a {
            std::net::IpAddr::V4(a) => a,
            std::net::IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        };
        let ctx = AppCtx { ts, flow: fl };
        sink.dhcp_message(&ctx, &m);
        let stats = &mut self.stats;
        self.dhcp.on_message(&m, ts, v4(src), v4(dst), &mut |tx| {
            stats.dhcp_transactions += 1;
            sink.dhcp(tx);
        });
    }

    /// Packet time moved on: expire old DHCP exchanges.
    pub fn tick(&mut self, ts: Timestamp, sink: &mut dyn Sink) {
        self.frags.expire(ts);
        let stats = &mut self.stats;
        self.dhcp.expire(ts, &mut |tx| {
            stats.dhcp_transactions += 1;
            sink.dhcp(tx);
        });
    }

    /// Takes the state for `slot` out of the table, creating one (from the pool) if it is
    /// missing or belongs to an earlier flow of the slot. Put it back with `put_state`.
    fn take_state(&mut self, slot: usize, fl: &Flow) -> Box<FlowApp> {
        if self.states.len() <= slot {
            self.states.resize_with(slot + 1, || None);
        }
        match self.states[slot].take() {
            Some(s) if s.flow_id == fl.id => s,
            other => {
                if let Some(old) = other {
                    self.recycle(old);
                }
                let mut s = self.pool.pop().unwrap_or_else(|| Box::new(FlowApp::new()));
                s.reset(&mut self.budget, fl.id);
                self.stats.states_created += 1;
                self.stats.states_live += 1;
                s
            }
        }
    }

    fn put_state(&mut self, slot: usize, st: Box<FlowApp>) {
        if let Some(s) = self.states.get_mut(slot) {
            *s = Some(st);
        }
    }

    fn recycle(&mut self, mut s: Box<FlowApp>) {
        self.stats.states_live = self.stats.states_live.saturating_sub(1);
        let p = std::mem::replace(&mut s.p.parser, Parser::None);
        self.parsers.put(p, self.cfg.pool);
        for h in &mut s.streams {
            h.stop(&mut self.budget);
        }
        if self.pool.len() < self.cfg.pool {
            self.pool.push(s);
        }
    }

    /// A flow ended: flush its streams and parsers and log what is pending.
    pub fn flow_end(&mut self, fl: &Flow, sink: &mut dyn Sink) {
        let slot = fl.slot as usize;
        let Some(mut st) = self.states.get_mut(slot).and_then(|s| s.take()) else {
            return;
        };
        if st.flow_id != fl.id {
            self.recycle(st);
            return;
        }
        let ts = fl.last_ts;
        let ctx = AppCtx { ts, flow: fl };
        {
            let FlowApp { streams, p: f, .. } = &mut *st;
            let mut tcp = TcpApp {
                cfg: &self.cfg,
                stats: &mut self.stats,
                names: Names {
                    dns: &mut self.dns_names,
                    http: &mut self.http_hosts,
                    sni: &mut self.tls_snis,
                },
                f,
                parsers: &mut self.parsers,
                ports: (fl.orig().1, fl.resp().1),
                ctx: &ctx,
                sink,
            };
            let scfg = tcp.cfg.stream;
            for (i, s) in streams.iter_mut().enumerate() {
                let d = if i == 0 { Dir::ToServer } else { Dir::ToClient };
                s.flush(&scfg, &mut self.budget, &mut |c| tcp.chunk(d, c));
            }
            tcp.end();
            for s in streams.iter() {
                let h = s.stats();
                tcp.stats.missed_bytes += h.missed_bytes;
                tcp.stats.overlap_mismatch_bytes += h.overlap_mismatch_bytes;
                tcp.stats.depth_reached += u64::from(h.depth_reached);
            }
            if let Some(t) = tcp.f.dns.as_mut() {
                let stats = &mut *tcp.stats;
                let sink = &mut *tcp.sink;
                t.drain(&mut |q| {
                    stats.dns_unanswered += 1;
                    sink.dns(&ctx, &DnsEvent::Unanswered(q));
                });
            }
        }
        self.recycle(st);
    }

    /// End of input: pending DHCP exchanges.
    pub fn finish(&mut self, sink: &mut dyn Sink) {
        let stats = &mut self.stats;
        self.dhcp.flush(&mut |tx| {
            stats.dhcp_transactions += 1;
            sink.dhcp(tx);
        });
    }
}

struct Names<'a> {
    dns: &'a mut TopNames,
    http: &'a mut TopNames,
    sni: &'a mut TopNames,
}

fn dns_message(
    stats: &mut AppStats,
    names: &mut TopNames,
    tracker: &mut dns::Tracker,
    ctx: &AppCtx<'_>,
    dir: Dir,
    raw: &[u8],
    sink: &mut dyn Sink,
) {
    let msg = match dns::parse(raw) {
        Ok(m) => m,
        Err(_) => {
            stats.dns_malformed += 1;
            return;
        }
    };
    let h = *msg.header();
    if h.qr() {
        stats.dns_responses += 1;
        *stats.dns_rcodes.entry(msg.rcode()).or_default() += 1;
        let q = tracker.on_response(&msg, ctx.ts);
        sink.dns(
            ctx,
            &DnsEvent::Message {
                msg: &msg,
                to_server: dir == Dir::ToServer,
                query: q.as_ref(),
            },
        );
    } else {
        stats.dns_queries += 1;
        if let Some(q) = msg.questions().next() {
            let mut nb = dns::NameBuf::new();
            if q.name.write_to(&mut nb).is_ok() {
                names.add(nb.as_bytes());
            }
        }
        tracker.on_query(&msg, ctx.ts);
        sink.dns(
            ctx,
            &DnsEvent::Message {
                msg: &msg,
                to_server: dir == Dir::ToServer,
                query: None,
            },
        );
    }
}

/// Outstanding DNS queries tracked per flow. Queries of one 5-tuple rarely overlap (resolvers
/// randomise source ports); the tracker's storage (about 300 bytes a query) is reserved when
/// it is created so that pooled trackers never grow later.
const DNS_PENDING_PER_FLOW: usize = 4;

fn new_tracker() -> dns::Tracker {
    dns::Tracker::with_capacity(DNS_PENDING_PER_FLOW, dns::NameStyle::Escaped)
}

/// Bytes of a direction held while identification needs more.
const HEAD_CAP: usize = 64;

/// Stream bytes (both directions, from identification on) after which a TLS 1.3 session is
/// logged even if it never showed application data both ways. Real clients send their
/// (encrypted) Finished right after the server's flight, so this rarely binds; waiting longer
/// keeps the state of stalled sessions (64 KiB cost 60 MB on the 5 M-packet mix).
const TLS13_ESTABLISH_BYTES: u64 = 8 << 10;

/// Borrowed pieces of one flow's state while its reassembled bytes are consumed.
struct TcpApp<'a, 's> {
    cfg: &'a AppConfig,
    stats: &'a mut AppStats,
    names: Names<'a>,
    f: &'a mut FlowParse,
    parsers: &'a mut ParserPool,
    ports: (u16, u16),
    ctx: &'a AppCtx<'a>,
    sink: &'s mut dyn Sink,
}

impl TcpApp<'_, '_> {
    /// Consumes one piece of one direction's reassembled stream.
    fn chunk(&mut self, dir: Dir, c: Chunk<'_>) {
        if dir == Dir::ToServer && self.f.watch_proxy {
            match c {
                Chunk::Data(d) => return self.proxy_preamble(d),
                // A hole before the reader decided: what it held is passed on first.
                Chunk::Gap(_) => self.proxy_end(),
            }
        }
        match c {
            Chunk::Gap(n) => {
                self.stats.gaps += 1;
                let dir = if self.f.flip { dir.flip() } else { dir };
                match &mut self.f.parser {
                    Parser::Http(p) => p.gap(dir, n),
                    Parser::Tls(p) => p.gap(dir, n),
                    Parser::Ssh(p) => p.gap(dir, n),
                    Parser::Socks(p) => p.gap(dir, n),
                    Parser::StartTls(p) => p.gap(dir, n),
                    Parser::OpenVpn(p) => p.gap(dir, n),
                    Parser::DnsTcp(f) => f[dir.index()].gap(),
                    Parser::None => {
                        // Identification needs the stream's first bytes.
                        self.f.unknown[dir.index()] = true;
                        self.f.head[dir.index()].clear();
                        self.check_failed();
                    }
                }
            }
            Chunk::Data(d) => {
                if self.f.proto == AppProto::Unknown {
                    self.identify(dir, d);
                } else {
                    self.feed(dir, d);
                }
            }
        }
    }

    /// The originator's first bytes, while they may be a PROXY protocol header (which a load
    /// balancer sends ahead of the proxied protocol's first byte): a header is reported and
    /// skipped, and identification starts after it; anything else is passed on unchanged.
    fn proxy_preamble(&mut self, d: &[u8]) {
        // Taken out so that its held bytes can be passed on while `self` is borrowed.
        let mut r = std::mem::take(&mut self.f.proxy);
        let step = r.feed(d);
        self.f.watch_proxy = step == Step::NeedMore;
        match step {
            Step::NeedMore => {}
            Step::Done { used } => {
                self.proxy_header(r.header());
                self.f.proxy = r;
                if let Some(rest) = d.get(used..).filter(|x| !x.is_empty()) {
                    self.chunk(Dir::ToServer, Chunk::Data(rest));
                }
                return;
            }
            Step::NotProxy { malformed } => {
                self.stats.proxy_malformed += u64::from(malformed);
                let held = r.held();
                if !held.is_empty() {
                    self.chunk(Dir::ToServer, Chunk::Data(held));
                }
                self.chunk(Dir::ToServer, Chunk::Data(d));
            }
        }
        self.f.proxy = r;
    }

    /// The originator's stream ended or has a hole while a PROXY header was undecided.
    fn proxy_end(&mut self) {
        self.f.watch_proxy = false;
        let mut r = std::mem::take(&mut self.f.proxy);
        if let Some(h) = r.pending_header() {
            self.proxy_header(h);
        }
        let held = r.finish();
        if !held.is_empty() {
            self.chunk(Dir::ToServer, Chunk::Data(held));
        }
        self.f.proxy = r;
    }

    fn proxy_header(&mut self, h: &ProxyHeader) {
        self.stats.proxy_headers += 1;
        self.sink.proxy(self.ctx, h);
    }

    fn identify(&mut self, dir: Dir, d: &[u8]) {
        let i = dir.index();
        if self.f.unknown[i] {
            return;
        }
        self.f.seen[i] += d.len() as u64;
        let head = &mut self.f.head[i];
        // Bytes held from earlier chunks of this direction (identification needed more).
        let prev = head.len();
        let (g, reversed) = if prev == 0 {
            ident::tcp_oriented(dir, d, self.ports)
        } else {
            let room = HEAD_CAP.saturating_sub(prev);
            head.extend_from_slice(&d[..d.len().min(room)]);
            ident::tcp_oriented(dir, head, self.ports)
        };
        let p = match g {
            Guess::Http => AppProto::Http,
            Guess::Tls => AppProto::Tls,
            Guess::Ssh => AppProto::Ssh,
            Guess::Socks => AppProto::Socks,
            Guess::StartTls(d) => starttls_proto(d),
            Guess::OpenVpn => AppProto::OpenVpn,
            Guess::Dns => AppProto::Dns,
            Guess::Dhcp | Guess::Unknown => {
                self.f.unknown[i] = true;
                head.clear();
                self.check_failed();
                return;
            }
            Guess::NeedMore => {
                if prev == 0 {
                    head.extend_from_slice(&d[..d.len().min(HEAD_CAP)]);
                }
                if self.f.seen[i] > self.cfg.ident_bytes || head.len() >= HEAD_CAP {
                    self.f.unknown[i] = true;
                    head.clear();
                    self.check_failed();
                }
                return;
            }
        };
        self.f.proto = p;
        self.f.flip = reversed;
        let old = std::mem::replace(&mut self.f.parser, Parser::None);
        self.parsers.put(old, self.cfg.pool);
        self.f.parser = self.parsers.get(p);
        // Replay the bytes held back from earlier chunks, then all of this one.
        let mut held = std::mem::take(&mut self.f.head[i]);
        self.feed(dir, &held[..prev.min(held.len())]);
        self.feed(dir, d);
        held.clear();
        self.f.head[i] = held;
    }

    fn check_failed(&mut self) {
        if self.f.unknown[0] && self.f.unknown[1] && self.f.proto == AppProto::Unknown {
            self.f.proto = AppProto::Failed;
            // Inside a tunnel the flow stays the outer protocol's (see `FlowParse::outer`).
            if self.f.outer.is_none() {
                self.stats.ident_failed += 1;
            }
        }
    }

    /// HTTP's CONNECT was answered with a 2xx, or a SOCKS request was granted: the stream is
    /// now the tunnelled protocol's. The outer parser reports what it still holds and goes
    /// back to its pool, and identification starts again at the tunnel's first byte, as Zeek
    /// and Suricata hand a CONNECT tunnel to protocol detection. The caller then passes the
    /// tunnel's bytes seen so far to [`TcpApp::chunk`].
    fn enter_tunnel(&mut self) {
        match &mut self.f.parser {
            Parser::Http(_) => self.finish_http(),
            Parser::Socks(p) if !self.f.logged => {
                self.stats.socks_sessions += 1;
                self.sink.socks(self.ctx, p.session());
            }
            Parser::StartTls(p) if !self.f.logged => starttls_stats(self.stats, p),
            _ => {}
        }
        let old = std::mem::replace(&mut self.f.parser, Parser::None);
        self.parsers.put(old, self.cfg.pool);
        self.f.outer = Some(self.f.proto);
        self.f.proto = AppProto::Unknown;
        self.f.unknown = [false; 2];
        self.f.seen = [0; 2];
        for h in &mut self.f.head {
            h.clear();
        }
        self.f.flip = false;
        self.f.logged = false;
    }

    /// The HTTP parser reports the transactions it still holds (at a tunnel's start or the
    /// flow's end).
    fn finish_http(&mut self) {
        let TcpApp {
            stats,
            names,
            f,
            ctx,
            sink,
            ..
        } = self;
        if let Parser::Http(p) = &mut f.parser {
            p.finish(ctx.ts, &mut |tx: &Transaction| {
                http_tx(stats, names, ctx, tx, &mut **sink)
            });
        }
    }

    /// A granted SOCKS request or an accepted STARTTLS: the tunnel takes over with the bytes
    /// each direction sent after its part of the handshake (`raw` is the direction just fed).
    fn enter_held_tunnel(&mut self, raw: Dir) {
        let flip = self.f.flip;
        let mut held = std::mem::take(&mut self.f.spare);
        let mut lost = [0u64; 2];
        for d in [Dir::ToServer, Dir::ToClient] {
            // Indexed by raw direction; the parser's directions are flipped with the flow.
            let pd = if flip { d.flip() } else { d };
            let i = d.index();
            match &mut self.f.parser {
                Parser::Socks(p) => {
                    p.take_tunnel_bytes(pd, &mut held[i]);
                    lost[i] = p.tunnel_lost(pd);
                }
                Parser::StartTls(p) => {
                    p.take_tunnel_bytes(pd, &mut held[i]);
                    lost[i] = p.tunnel_lost(pd);
                }
                _ => {}
            }
        }
        self.enter_tunnel();
        // The other direction's bytes were sent first: they were held while this one's
        // answer was awaited.
        for d in [raw.flip(), raw] {
            let i = d.index();
            if !held[i].is_empty() {
                self.chunk(d, Chunk::Data(&held[i]));
            }
            if lost[i] > 0 {
                self.chunk(d, Chunk::Gap(lost[i]));
            }
            held[i].clear();
        }
        self.f.spare = held;
    }

    /// The protocol the flow is reported as: the tunnelled one once identified, else the
    /// one that opened the tunnel.
    fn reported(&self) -> AppProto {
        match (self.f.proto, self.f.outer) {
            (AppProto::Unknown | AppProto::Failed, Some(outer)) => outer,
            (p, _) => p,
        }
    }

    fn feed(&mut self, raw: Dir, d: &[u8]) {
        if d.is_empty() {
            return;
        }
        let dir = if self.f.flip { raw.flip() } else { raw };
        let ts = self.ctx.ts;
        match &mut self.f.parser {
            Parser::Http(p) => {
                let stats = &mut *self.stats;
                let names = &mut self.names;
                let sink = &mut *self.sink;
                let ctx = self.ctx;
                let n = p.feed(dir, ts, d, &mut |tx: &Transaction| {
                    http_tx(stats, names, ctx, tx, sink)
                });
                if p.is_connect_tunnel() {
                    self.enter_tunnel();
                    let rest = d.get(n..).unwrap_or(&[]);
                    if !rest.is_empty() {
                        self.identify(raw, rest);
                    }
                }
            }
            Parser::Tls(p) => {
                p.feed(dir, d);
                if !self.f.logged && tls_loggable(p, &mut self.f.seen, dir, d.len()) {
                    self.f.logged = true;
                    tls_session(self.stats, &mut self.names, self.ctx, p, self.sink);
                }
            }
            Parser::OpenVpn(p) => {
                // The control channel's TLS session, logged as a plain one's.
                p.feed(dir, d);
                if !self.f.logged && tls_loggable(p.tls(), &mut self.f.seen, dir, d.len()) {
                    self.f.logged = true;
                    tls_session(self.stats, &mut self.names, self.ctx, p.tls(), self.sink);
                }
            }
            Parser::Ssh(p) => {
                p.feed(dir, d);
                if p.take_done() && !self.f.logged {
                    self.f.logged = true;
                    self.stats.ssh_sessions += 1;
                    self.sink.ssh(self.ctx, p.session());
                }
            }
            Parser::Socks(p) => {
                p.feed(dir, d);
                if p.take_done() && !self.f.logged {
                    self.f.logged = true;
                    self.stats.socks_sessions += 1;
                    self.sink.socks(self.ctx, p.session());
                }
                if p.tunnel_open() {
                    self.enter_held_tunnel(raw);
                } else if p.failed() && !self.f.logged {
                    // The first bytes looked like SOCKS, the rest did not.
                    self.f.proto = AppProto::Failed;
                    if self.f.outer.is_none() {
                        self.stats.ident_failed += 1;
                    }
                }
            }
            Parser::StartTls(p) => {
                p.feed(dir, d);
                // SMTP's `220` greeting may turn out to be FTP's.
                self.f.proto = starttls_proto(p.dialect());
                if p.upgraded() {
                    self.enter_held_tunnel(raw);
                } else if p.is_finished() && !self.f.logged {
                    self.f.logged = true;
                    starttls_stats(self.stats, p);
                }
            }
            Parser::DnsTcp(f) => {
                let stats = &mut *self.stats;
                let names = &mut *self.names.dns;
                let sink = &mut *self.sink;
                let ctx = self.ctx;
                // DNS over TCP pairs queries and answers within the connection.
                let tracker = self.f.dns.get_or_insert_with(new_tracker);
                f[dir.index()].feed(d, &mut |m| {
                    dns_message(stats, names, tracker, ctx, dir, m, sink)
                });
            }
            Parser::None => {}
        }
    }

    /// Whether nothing more can be learned from this flow's bytes.
    fn finished(&self) -> bool {
        match &self.f.parser {
            Parser::Tls(_) | Parser::Ssh(_) => self.f.logged,
            Parser::Http(p) => p.is_tunnel(),
            Parser::Socks(p) => p.is_finished(),
            Parser::StartTls(p) => p.is_finished(),
            Parser::OpenVpn(p) => self.f.logged || p.failed(),
            _ => self.f.proto == AppProto::Failed,
        }
    }

    /// The flow ended: parsers flush and sessions never completed are logged.
    fn end(&mut self) {
        if self.f.watch_proxy {
            self.proxy_end();
        }
        match &mut self.f.parser {
            Parser::Http(_) => self.finish_http(),
            Parser::Tls(p)
                if !self.f.logged
                    && (p.session().client_hello.is_some()
                        || p.session().server_hello.is_some()) =>
            {
                self.f.logged = true;
                tls_session(self.stats, &mut self.names, self.ctx, p, self.sink);
            }
            Parser::OpenVpn(p)
                if !self.f.logged
                    && (p.tls().session().client_hello.is_some()
                        || p.tls().session().server_hello.is_some()) =>
            {
                self.f.logged = true;
                tls_session(self.stats, &mut self.names, self.ctx, p.tls(), self.sink);
            }
            Parser::Ssh(p) => {
                let s = p.session();
                let seen = !s.client.banner.is_empty() || !s.server.banner.is_empty();
                if !self.f.logged && seen {
                    self.f.logged = true;
                    self.stats.ssh_sessions += 1;
                    self.sink.ssh(self.ctx, s);
                }
            }
            Parser::Socks(p) if !self.f.logged && !p.failed() && p.session().version != 0 => {
                // A handshake the connection's end cut short.
                self.f.logged = true;
                self.stats.socks_sessions += 1;
                self.sink.socks(self.ctx, p.session());
            }
            Parser::StartTls(p) if !self.f.logged => {
                self.f.logged = true;
                starttls_stats(self.stats, p);
            }
            _ => {}
        }
    }
}

/// Whether a TLS session can be logged: its cleartext handshake is parsed, and for TLS 1.3
/// application data went both ways after it (`established`) or the stream went on for
/// [`TLS13_ESTABLISH_BYTES`] (counted in `seen` from the end of the handshake).
fn tls_loggable(p: &TlsParser, seen: &mut [u64; 2], dir: Dir, n: usize) -> bool {
    if !p.is_done() {
        return false;
    }
    // TLS 1.3 becomes `established` only with application data both ways after the
    // handshake: follow the record headers a little longer.
    let v = p.session().version().unwrap_or(0);
    let tls13 = v == 0x0304 || v & 0xff00 == 0x7f00;
    seen[dir.index()] += n as u64;
    let waited = seen[0] + seen[1];
    !tls13 || p.session().established || waited > TLS13_ESTABLISH_BYTES
}

/// The flow's protocol for a STARTTLS dialect.
fn starttls_proto(d: Dialect) -> AppProto {
    match d {
        Dialect::Smtp => AppProto::Smtp,
        Dialect::Ftp => AppProto::Ftp,
        Dialect::Imap => AppProto::Imap,
        Dialect::Pop3 => AppProto::Pop3,
        Dialect::Pgsql => AppProto::Pgsql,
        Dialect::Mysql => AppProto::Mysql,
        Dialect::Ldap => AppProto::Ldap,
    }
}

/// The STARTTLS dialect of a flow protocol, if it is one (the inverse of [`starttls_proto`]).
fn starttls_dialect(p: AppProto) -> Option<Dialect> {
    Dialect::ALL.into_iter().find(|&d| starttls_proto(d) == p)
}

/// Counts what a STARTTLS parser saw, once per connection.
fn starttls_stats(stats: &mut AppStats, p: &StartTlsParser) {
    let s = p.session();
    stats.starttls_requests += u64::from(s.requests);
    stats.starttls_refusals += u64::from(s.refusals);
    stats.starttls_upgrades += u64::from(s.upgraded);
}

fn http_tx(
    stats: &mut AppStats,
    names: &mut Names<'_>,
    ctx: &AppCtx<'_>,
    tx: &Transaction,
    sink: &mut dyn Sink,
) {
    stats.http_transactions += 1;
    if !tx.method.is_empty() {
        let m = String::from_utf8_lossy(&tx.method);
        let full = stats.http_methods.len() >= 64;
        match stats.http_methods.get_mut(m.as_ref()) {
            Some(n) => *n += 1,
            None if !full => {
                stats.http_methods.insert(m.into_owned(), 1);
            }
            None => {}
        }
    }
    if let Some(s) = tx.status {
        *stats.http_status.entry(s).or_default() += 1;
    }
    names.http.add(&tx.host);
    sink.http(ctx, tx);
}

fn tls_session(
    stats: &mut AppStats,
    names: &mut Names<'_>,
    ctx: &AppCtx<'_>,
    p: &TlsParser,
    sink: &mut dyn Sink,
) {
    stats.tls_sessions += 1;
    let s = p.session();
    let v = s
        .server_hello
        .as_ref()
        .map(|h| h.version)
        .or(s.client_hello.as_ref().map(|h| h.legacy_version))
        .unwrap_or(0);
    *stats
        .tls_versions
        .entry(wirescope_proto::tls::version_name(v))
        .or_default() += 1;
    if let Some(ch) = &s.client_hello {
        names.sni.add(&ch.sni);
    }
    sink.tls(ctx, s);
}

impl AppLayer {
    /// Adds the counters, top names, ICMP kinds and ARP table of another engine's application
    /// layer (a shard's, see [`crate::shard`]) to this one's, for the report.
    pub fn absorb(&mut self, o: &AppLayer) {
        let (a, b) = (&mut self.stats, &o.stats);
        for (x, y) in a.flows.iter_mut().zip(b.flows) {
            *x += y;
        }
        for (x, y) in [
            (&mut a.dns_queries, b.dns_queries),
            (&mut a.dns_responses, b.dns_responses),
            (&mut a.dns_malformed, b.dns_malformed),
            (&mut a.dns_unanswered, b.dns_unanswered),
            (&mut a.http_transactions, b.http_transactions),
            (&mut a.tls_sessions, b.tls_sessions),
            (&mut a.ssh_sessions, b.ssh_sessions),
            (&mut a.socks_sessions, b.socks_sessions),
            (&mut a.proxy_headers, b.proxy_headers),
            (&mut a.proxy_malformed, b.proxy_malformed),
            (&mut a.starttls_requests, b.starttls_requests),
            (&mut a.starttls_refusals, b.starttls_refusals),
            (&mut a.starttls_upgrades, b.starttls_upgrades),
            (&mut a.dhcp_messages, b.dhcp_messages),
            (&mut a.dhcp_transactions, b.dhcp_transactions),
            (&mut a.dhcp_malformed, b.dhcp_malformed),
            (&mut a.arp_packets, b.arp_packets),
            (&mut a.arp_changes, b.arp_changes),
            (&mut a.gaps, b.gaps),
            (&mut a.missed_bytes, b.missed_bytes),
            (&mut a.overlap_mismatch_bytes, b.overlap_mismatch_bytes),
            (&mut a.depth_reached, b.depth_reached),
            (&mut a.states_created, b.states_created),
            (&mut a.states_denied, b.states_denied),
            (&mut a.ident_failed, b.ident_failed),
        ] {
            *x += y;
        }
        a.states_live += b.states_live;
        for (k, v) in &b.dns_rcodes {
            *a.dns_rcodes.entry(*k).or_default() += v;
        }
        for (k, v) in &b.http_methods {
            *a.http_methods.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &b.http_status {
            *a.http_status.entry(*k).or_default() += v;
        }
        for (k, v) in &b.tls_versions {
            *a.tls_versions.entry(*k).or_default() += v;
        }
        self.dns_names.absorb(&o.dns_names);
        self.http_hosts.absorb(&o.http_hosts);
        self.tls_snis.absorb(&o.tls_snis);
        for (k, v) in &o.icmp {
            if self.icmp.len() < ICMP_KINDS || self.icmp.contains_key(k) {
                *self.icmp.entry(*k).or_default() += v;
            } else {
                self.icmp_other += v;
            }
        }
        self.icmp_other += o.icmp_other;
        for (ip, e) in o.arp.iter() {
            let mine = self.arp.entry(*ip, |e| e.requests + e.replies);
            if mine.requests + mine.replies == 0 {
                *mine = *e;
            } else {
                mine.changes += e.changes;
                mine.requests += e.requests;
                mine.replies += e.replies;
                mine.first_ts = mine.first_ts.min(e.first_ts);
                if e.last_ts > mine.last_ts {
                    mine.last_ts = e.last_ts;
                    mine.mac = e.mac;
                }
            }
        }
        self.arp.evicted_total += o.arp.evicted_total;
        self.budget.denied += o.budget.denied;
    }

    /// The application part of the report, with `n` rows in top lists.
    pub fn report(&self, n: usize) -> crate::AppReport {
        use crate::report::*;
        let st = &self.stats;
        let names = |t: &TopNames| {
            t.top(n)
                .into_iter()
                .map(|(name, count)| NameEntry { name, count })
                .collect()
        };
        let mut flows = std::collections::BTreeMap::new();
        for (i, name) in PROTO_NAMES.iter().enumerate().skip(1) {
            flows.insert(*name, st.flows[i]);
        }
        let mut arp: Vec<(Ipv4Addr, ArpEntry)> = self.arp.iter().copied().collect();
        arp.sort_by(|a, b| {
            b.1.changes
                .cmp(&a.1.changes)
                .then(b.1.last_ts.cmp(&a.1.last_ts))
                .then(a.0.cmp(&b.0))
        });
        let mut icmp: Vec<IcmpEntry> = self
            .icmp
            .iter()
            .map(|(&(v6, t, c), &packets)| IcmpEntry {
                version: if v6 { 6 } else { 4 },
                icmp_type: t,
                code: c,
                name: wirescope_proto::icmp::describe(v6, t, c),
                packets,
            })
            .collect();
        icmp.sort_by(|a, b| {
            b.packets
                .cmp(&a.packets)
                .then((a.version, a.icmp_type, a.code).cmp(&(b.version, b.icmp_type, b.code)))
        });
        AppReport {
            icmp,
            icmp_other: self.icmp_other,
            flows,
            dns: DnsReport {
                queries: st.dns_queries,
                responses: st.dns_responses,
                unanswered: st.dns_unanswered,
                malformed: st.dns_malformed,
                rcodes: st
                    .dns_rcodes
                    .iter()
                    .map(|(rc, c)| (dns::rcode_name(*rc).to_string(), *c))
                    .collect(),
                top_names: names(&self.dns_names),
            },
            http: HttpReport {
                transactions: st.http_transactions,
                methods: st.http_methods.clone(),
                status_codes: st
                    .http_status
                    .iter()
                    .map(|(s, c)| (s.to_string(), *c))
                    .collect(),
                top_hosts: names(&self.http_hosts),
            },
            tls: TlsReport {
                sessions: st.tls_sessions,
                versions: st
                    .tls_versions
                    .iter()
                    .map(|(v, c)| (v.to_string(), *c))
                    .collect(),
                top_sni: names(&self.tls_snis),
            },
            ssh: SshReport {
                sessions: st.ssh_sessions,
            },
            socks: SocksReport {
                sessions: st.socks_sessions,
            },
            proxy: ProxyReport {
                headers: st.proxy_headers,
                malformed: st.proxy_malformed,
            },
            starttls: StartTlsReport {
                requests: st.starttls_requests,
                refusals: st.starttls_refusals,
                upgrades: st.starttls_upgrades,
            },
            dhcp: DhcpReport {
                messages: st.dhcp_messages,
                transactions: st.dhcp_transactions,
                malformed: st.dhcp_malformed,
            },
            arp: ArpReport {
                packets: st.arp_packets,
                entries: self.arp.len() as u64,
                changes: st.arp_changes,
                table: arp
                    .into_iter()
                    .take(n.max(20))
                    .map(|(ip, e)| ArpRow {
                        ip: ip.to_string(),
                        mac: mac_string(&e.mac),
                        changes: e.changes,
                        requests: e.requests,
                        replies: e.replies,
                    })
                    .collect(),
            },
            reassembly: ReassemblyReport {
                gaps: st.gaps,
                missed_bytes: st.missed_bytes,
                overlap_mismatch_bytes: st.overlap_mismatch_bytes,
                depth_reached: st.depth_reached,
                budget_denied: self.budget.denied,
                states_created: st.states_created,
                states_denied: st.states_denied,
            },
        }
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac_string(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(offset: u16) -> wirescope_wire::IpInfo {
        wirescope_wire::IpInfo {
            src: "198.18.0.1".parse().expect("literal"),
            dst: "198.18.0.2".parse().expect("literal"),
            proto: wirescope_core::IpProto::TCP,
            ttl: 64,
            total_len: 1500,
            header_len: 20,
            frag_offset: offset,
            more_fragments: true,
            ident: 7,
            dscp: 0,
            flow_label: 0,
        }
    }

    #[test]
    fn overlapping_fragments_keep_the_first_copy() {
        let mut f = Fragments::new();
        let ts = Timestamp(0);
        // First fragment: a 20-byte TCP header (zeroed in the buffer), then 4 bytes.
        f.add(ts, &frag(0), 20, b"ABCD");
        // Bytes 16..32 of the datagram: 16..24 overlap what is there (different data),
        // 24..32 are new.
        f.add(ts, &frag(16), 0, b"xxxxxxxxEFGHIJKL");
        // A later copy entirely inside filled bytes changes nothing.
        f.add(ts, &frag(24), 0, b"zzzz");
        let b = f.take(&frag(0)).expect("buffer");
        assert_eq!(&b.data[..16], &[0u8; 16]);
        assert_eq!(
            &b.data[16..20],
            b"xxxx",
            "header bytes only the second fragment held"
        );
        assert_eq!(&b.data[20..32], b"ABCDEFGHIJKL");
        assert!(f.take(&frag(0)).is_none(), "taken once");
    }

    #[test]
    fn a_datagram_past_a_bound_is_not_parsed() {
        let mut f = Fragments::new();
        let ts = Timestamp(0);
        for i in 0..=FRAG_RANGES as u16 {
            f.add(ts, &frag(i * 8), 0, b"12345678");
        }
        assert!(
            f.take(&frag(0)).is_none(),
            "more fragments than FRAG_RANGES"
        );
        assert_eq!(f.dropped, 1);
        // The next datagram with the same key starts clean.
        f.add(ts, &frag(0), 8, b"ok");
        assert_eq!(
            f.take(&frag(0)).map(|b| b.data),
            Some(b"\0\0\0\0\0\0\0\0ok".to_vec())
        );
    }
}
