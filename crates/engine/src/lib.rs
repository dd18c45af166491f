//! The analysis engine: decode → flow table → statistics, on packet time.
//!
//! Owns: [`Engine`] (per-packet accounting and flow-end aggregation), [`Report`] (the owned
//! result), the [`Sink`] trait through which finished flows leave, and [`pipeline::run`],
//! which drives an engine from a capture source with an optional BPF filter and pcap writer.
//!
//! Never does: allocation per packet in steady state (tables are bounded and reserved; owned
//! data is built only when a flow ends or the report is made), locks, logging, wall-clock reads.
//!
//! Bounds: flows ([`FlowConfig::max_flows`]), hosts and host pairs ([`EngineConfig`]),
//! time-series buckets (bucket width doubles past the cap), RTT samples (reservoirs).
//!
//! ```
//! use wirescope_engine::{Engine, EngineConfig, NullSink};
//! use wirescope_core::{Frame, LinkType, Timestamp};
//! let mut engine = Engine::new(EngineConfig::default());
//! let frame = Frame { ts: Timestamp(0), wire_len: 0, link: LinkType::ETHERNET, iface: 0, data: &[] };
//! engine.process(&frame, &mut NullSink);
//! let report = engine.finish(&mut NullSink);
//! assert_eq!(report.packets, 1);
//! ```

pub mod app;
mod hosts;
pub mod live;
pub mod pipeline;
mod report;
mod series;
pub mod shard;

pub use app::{AppConfig, AppCtx, ArpEntry, ArpEvent, DnsEvent};
pub use hosts::{CappedMap, HostTotals, PairTotals};
pub use report::*;
pub use series::{Reservoir, TimeSeries, SERIES_CLASSES};
pub use wirescope_flow::{Flow, FlowConfig};

use hosts::HostStats;
use std::collections::BTreeMap;
use std::net::IpAddr;
use wirescope_core::{Anomaly, Frame, Layer, LinkType, Timestamp};
use wirescope_flow::frag::FragTracker;
use wirescope_flow::FlowTable;

/// Receives what leaves the engine. Default methods ignore everything.
///
/// Application events borrow the parser's state; a sink that keeps anything copies it.
pub trait Sink {
    /// Every decoded packet, before flow tracking (detectors look at packets; output sinks
    /// ignore them). For an IP fragment that completes a datagram, `pkt` is the fragment as
    /// decoded (its transport header, if any, belongs to the first fragment).
    fn packet(&mut self, _ts: Timestamp, _pkt: &wirescope_wire::Packet<'_>) {}
    /// Packet time entered a new second (called before that second's first packet).
    fn tick(&mut self, _ts: Timestamp) {}
    /// A flow ended (timeout, eviction, reuse, or end of input).
    fn flow(&mut self, _flow: &Flow) {}
    /// A DNS message, or a query that was never answered (at flow end).
    fn dns(&mut self, _ctx: &AppCtx<'_>, _ev: &DnsEvent<'_, '_>) {}
    /// An HTTP request/response pair (or a lone half of one).
    fn http(&mut self, _ctx: &AppCtx<'_>, _tx: &wirescope_proto::http::Transaction) {}
    /// A TLS session, once its cleartext handshake is over (or at flow end).
    fn tls(&mut self, _ctx: &AppCtx<'_>, _s: &wirescope_proto::tls::TlsSession) {}
    /// An SSH session, once both sides' key-exchange offers were seen (or at flow end).
    fn ssh(&mut self, _ctx: &AppCtx<'_>, _s: &wirescope_proto::ssh::SshSession) {}
    /// A SOCKS handshake, once the proxy answered (or at flow end). A granted tunnel's
    /// protocol follows with its own events on the same flow.
    fn socks(&mut self, _ctx: &AppCtx<'_>, _s: &wirescope_proto::socks::SocksSession) {}
    /// A PROXY protocol header at the start of a connection (the proxied protocol's events
    /// follow on the same flow).
    fn proxy(&mut self, _ctx: &AppCtx<'_>, _h: &wirescope_proto::proxy::ProxyHeader) {}
    /// One DHCP message.
    fn dhcp_message(&mut self, _ctx: &AppCtx<'_>, _m: &wirescope_proto::dhcp::Message<'_>) {}
    /// A completed (or expired) DHCP exchange, Zeek `dhcp.log` style.
    fn dhcp(&mut self, _tx: &wirescope_proto::dhcp::Transaction) {}
    /// An ARP packet.
    fn arp(&mut self, _ev: &ArpEvent<'_>) {}
}

/// A sink that drops everything.
pub struct NullSink;
impl Sink for NullSink {}

/// Engine limits. Defaults keep a full run well under 256 MB.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub flow: FlowConfig,
    /// Rows in top-N tables.
    pub top_n: usize,
    pub max_hosts: usize,
    pub max_pairs: usize,
    pub max_series_buckets: usize,
    /// Servers whose handshake RTTs are kept.
    pub max_rtt_servers: usize,
    /// RTT samples kept per server and overall.
    pub rtt_samples_per_server: usize,
    pub rtt_samples_total: usize,
    /// Incomplete fragmented datagrams tracked at once.
    pub max_fragmented_datagrams: usize,
    pub app: AppConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            flow: FlowConfig::default(),
            top_n: 10,
            max_hosts: 65_536,
            max_pairs: 65_536,
            max_series_buckets: 3_600,
            max_rtt_servers: 4_096,
            rtt_samples_per_server: 64,
            rtt_samples_total: 65_536,
            max_fragmented_datagrams: 8_192,
            app: AppConfig::default(),
        }
    }
}

const N_LAYERS: usize = Layer::ALL.len();
/// Size of the direct-mapped layer-set cache (a power of two).
const HIER_SLOTS: usize = 64;
const N_ANOMALIES: usize = Anomaly::ALL.len();

/// Everything computed from finished flows.
struct FlowAggregates {
    hosts: HostStats,
    rtt_all: Reservoir,
    rtt_servers: CappedMap<IpAddr, ServerRtt>,
    rtt_samples_per_server: usize,
    tcp_states: BTreeMap<&'static str, u64>,
    by_proto: BTreeMap<&'static str, u64>,
    handshakes: u64,
    retransmissions: u64,
    out_of_order: u64,
    missed_bytes: u64,
    acks: u64,
    ack_gaps: u64,
}

#[derive(Default)]
struct ServerRtt {
    handshakes: u64,
    samples: Option<Reservoir>,
}

impl FlowAggregates {
    fn add(&mut self, fl: &Flow) {
        self.hosts.add_flow(fl);
        *self.by_proto.entry(fl.key.proto.name()).or_default() += 1;
        if fl.key.proto == wirescope_core::IpProto::TCP {
            *self.tcp_states.entry(fl.conn_state()).or_default() += 1;
            for e in &fl.tcp {
                self.retransmissions += u64::from(e.retransmissions);
                self.out_of_order += u64::from(e.out_of_order);
                self.missed_bytes += e.missed_bytes;
                self.acks += u64::from(e.acks);
                self.ack_gaps += u64::from(e.ack_gaps);
            }
        }
        if let Some(rtt) = fl.rtt_ns {
            self.handshakes += 1;
            self.rtt_all.add(fl.id, rtt);
            let per = self.rtt_samples_per_server;
            let s = self.rtt_servers.entry(fl.resp().0, |s| s.handshakes);
            s.handshakes += 1;
            s.samples
                .get_or_insert_with(|| Reservoir::new(per))
                .add(fl.id, rtt);
        }
    }
}

/// Counters and top talkers at one moment of a run (the live view).
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub packets: u64,
    pub bytes: u64,
    pub active_flows: u64,
    pub last_ts: Option<Timestamp>,
    /// (address, bytes, packets), most bytes first.
    pub top: Vec<(std::net::IpAddr, u64, u64)>,
}

/// The analysis engine for one stream of packets.
pub struct Engine {
    cfg: EngineConfig,
    table: FlowTable,
    agg: FlowAggregates,
    packets: u64,
    bytes: u64,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    anomaly_counts: [u64; N_ANOMALIES],
    anomalous_packets: u64,
    /// (layer-set bits, packets, bytes): few distinct entries, found through `hier_slots`.
    hierarchy: Vec<(u32, u64, u64)>,
    /// Direct-mapped cache from a layer set's hash to its index + 1 in `hierarchy`.
    hier_slots: [u16; HIER_SLOTS],
    links: Vec<(LinkType, u64)>,
    series: TimeSeries,
    tcp_segments: u64,
    frags: FragTracker,
    app: app::AppLayer,
    last_tick: i64,
    role: Role,
    /// The merge stage's sum of its shards' flow-table counters (its own table is unused).
    shard_tables: Option<wirescope_flow::TableStats>,
}

/// What part of the analysis an engine does. A single engine does all of it; with
/// `--workers N` ([`shard`]), N shards track flows and the application layer, and one merge
/// stage does the per-packet accounting and gets the shards' flows and events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Full,
    /// The merge stage: decode, per-packet accounting, tick; no flow table, no app layer.
    Count,
    /// A shard: flow table and application layer; no per-packet accounting.
    Track,
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Engine {
        Engine {
            table: FlowTable::new(cfg.flow.clone()),
            agg: FlowAggregates {
                hosts: HostStats::new(cfg.max_hosts, cfg.max_pairs),
                rtt_all: Reservoir::new(cfg.rtt_samples_total),
                rtt_servers: CappedMap::new(cfg.max_rtt_servers),
                rtt_samples_per_server: cfg.rtt_samples_per_server,
                tcp_states: BTreeMap::new(),
                by_proto: BTreeMap::new(),
                handshakes: 0,
                retransmissions: 0,
                out_of_order: 0,
                missed_bytes: 0,
                acks: 0,
                ack_gaps: 0,
            },
            packets: 0,
            bytes: 0,
            first_ts: None,
            last_ts: None,
            anomaly_counts: [0; N_ANOMALIES],
            anomalous_packets: 0,
            hierarchy: Vec::with_capacity(64),
            hier_slots: [0; HIER_SLOTS],
            links: Vec::with_capacity(4),
            series: TimeSeries::new(cfg.max_series_buckets),
            tcp_segments: 0,
            frags: FragTracker::new(cfg.max_fragmented_datagrams),
            app: app::AppLayer::new(cfg.app.clone(), cfg.flow.max_flows),
            last_tick: i64::MIN,
            role: Role::Full,
            shard_tables: None,
            cfg,
        }
    }

    pub(crate) fn with_role(cfg: EngineConfig, role: Role) -> Engine {
        let mut e = Engine::new(cfg);
        e.role = role;
        e
    }

    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// What the live view shows: counters so far and the `n` hosts with most bytes, counting
    /// finished flows and the bytes of flows still open. Walks the flow table: call it about
    /// once a second, not per packet.
    pub fn snapshot(&self, n: usize) -> Snapshot {
        let (live, active) = self.live_hosts();
        self.snapshot_with(n, &live, active)
    }

    /// Bytes and packets per host of the flows still open, and how many flows are open.
    pub(crate) fn live_hosts(&self) -> (Vec<(IpAddr, u64, u64)>, u64) {
        let mut bytes: hashbrown::HashMap<IpAddr, (u64, u64), foldhash::fast::RandomState> =
            hashbrown::HashMap::default();
        let mut active = 0u64;
        for fl in self.table.live_flows() {
            active += 1;
            let (o, _) = fl.orig();
            let (r, _) = fl.resp();
            let (b, p) = (fl.ip_bytes[0] + fl.ip_bytes[1], fl.pkts[0] + fl.pkts[1]);
            for ip in [o, r] {
                let e = bytes.entry(ip).or_default();
                e.0 += b;
                e.1 += p;
                if o == r {
                    break;
                }
            }
        }
        (
            bytes.into_iter().map(|(ip, (b, p))| (ip, b, p)).collect(),
            active,
        )
    }

    /// [`Engine::snapshot`] with the open flows' per-host totals given (by the shards).
    pub(crate) fn snapshot_with(
        &self,
        n: usize,
        live: &[(IpAddr, u64, u64)],
        active: u64,
    ) -> Snapshot {
        let mut bytes: hashbrown::HashMap<IpAddr, (u64, u64), foldhash::fast::RandomState> = self
            .agg
            .hosts
            .hosts
            .iter()
            .map(|(ip, t)| (*ip, (t.bytes(), t.packets())))
            .collect();
        for &(ip, b, p) in live {
            let e = bytes.entry(ip).or_default();
            e.0 += b;
            e.1 += p;
        }
        let mut top: Vec<(IpAddr, u64, u64)> =
            bytes.into_iter().map(|(ip, (b, p))| (ip, b, p)).collect();
        top.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(n);
        Snapshot {
            packets: self.packets,
            bytes: self.bytes,
            active_flows: active,
            last_ts: self.last_ts,
            top,
        }
    }

    /// Analyses one frame.
    pub fn process(&mut self, frame: &Frame<'_>, sink: &mut dyn Sink) {
        let (pkt, reassembled) = self.decode(frame);
        self.count(frame, &pkt);
        self.clock(frame.ts, sink);
        sink.packet(frame.ts, &pkt);
        self.track(frame.ts, &pkt, reassembled.as_ref(), sink);
    }

    /// Decodes a frame and runs IP fragment tracking: the packet as it is accounted, and the
    /// datagram the frame completed, if any.
    #[inline(always)]
    fn decode<'a>(
        &mut self,
        frame: &Frame<'a>,
    ) -> (
        wirescope_wire::Packet<'a>,
        Option<wirescope_flow::frag::Reassembled>,
    ) {
        // decode_frame knows the wire length: it tells a snaplen cut from an IP length the
        // frame never held, and flags captured > wire length (BadFrameLength).
        let mut pkt = wirescope_wire::decode_frame(frame);
        // IP fragments: the transport header is accounted once per datagram, on the frame that
        // completes it (as tshark's default reassembly reports it), never on a lone fragment.
        let mut reassembled = None;
        // Like tshark, only a fragment captured whole takes part in reassembly; one cut by the
        // snaplen is taken as it is (a first fragment then counts its transport header).
        let whole = pkt.payload.len() as u64 >= u64::from(pkt.payload_wire_len);
        if let Some(ip) = pkt
            .ip
            .filter(|ip| ip.is_fragment() && whole && pkt.tunnel_depth == 0)
        {
            let payload = u32::from(ip.total_len.saturating_sub(ip.header_len));
            if self.app_on() {
                let header = match pkt.transport {
                    wirescope_wire::Transport::Udp(_) => Some(8),
                    wirescope_wire::Transport::Tcp(t) => Some(usize::from(t.header_len)),
                    _ if ip.frag_offset > 0 => Some(0),
                    _ => None,
                };
                if let Some(h) = header.filter(|_| {
                    matches!(
                        ip.proto,
                        wirescope_core::IpProto::UDP | wirescope_core::IpProto::TCP
                    )
                }) {
                    self.app.fragment(frame.ts, &ip, h, pkt.payload);
                }
            }
            reassembled = self
                .frags
                .on_fragment(frame.ts, &ip, pkt.transport, payload);
            for l in [
                Layer::Tcp,
                Layer::Udp,
                Layer::Icmp,
                Layer::Icmpv6,
                Layer::Sctp,
            ] {
                pkt.layers.remove(l);
            }
            pkt.transport = wirescope_wire::Transport::None;
            if let Some(r) = &reassembled {
                if let Some(l) = transport_layer(&r.transport) {
                    pkt.layers.insert(l);
                }
            }
        }
        (pkt, reassembled)
    }

    /// The application layer runs in this engine (not in a merge stage, and not disabled).
    fn app_on(&self) -> bool {
        self.cfg.app.enabled && self.role != Role::Count
    }

    /// Per-packet accounting: totals, link types, layers, anomalies, time series.
    #[inline(always)]
    fn count(&mut self, frame: &Frame<'_>, pkt: &wirescope_wire::Packet<'_>) {
        if self.role == Role::Track {
            return;
        }
        let wire = u64::from(frame.wire_len.max(frame.data.len() as u32));
        self.packets += 1;
        self.bytes += wire;
        self.first_ts = Some(self.first_ts.map_or(frame.ts, |t| t.min(frame.ts)));
        self.last_ts = Some(self.last_ts.map_or(frame.ts, |t| t.max(frame.ts)));

        match self.links.iter_mut().find(|(l, _)| *l == frame.link) {
            Some((_, n)) => *n += 1,
            None => self.links.push((frame.link, 1)),
        }

        // Per-layer totals are derived from the per-layer-set counts when the report is made,
        // so a packet costs one counter update here, not one per layer.
        let all_bits = pkt.layers.bits();
        if !pkt.anomalies.is_empty() {
            self.anomalous_packets += 1;
            for a in pkt.anomalies.iter() {
                self.anomaly_counts[a as usize] += 1;
            }
        }
        self.count_hierarchy(all_bits, wire);

        let l = pkt.layers;
        let class = if l.contains(Layer::Tcp) {
            0
        } else if l.contains(Layer::Udp) {
            1
        } else if l.contains(Layer::Icmp) || l.contains(Layer::Icmpv6) {
            2
        } else if l.contains(Layer::Arp) {
            3
        } else if l.contains(Layer::Ipv4) || l.contains(Layer::Ipv6) {
            4
        } else {
            5
        };
        self.series.add(frame.ts.secs(), class, wire);
        if matches!(pkt.transport, wirescope_wire::Transport::Tcp(_)) {
            self.tcp_segments += 1;
        }
    }

    /// Packet time: when `ts` is in another second than the last packet's, the sink's tick and
    /// the application layer's run.
    #[inline(always)]
    fn clock(&mut self, ts: Timestamp, sink: &mut dyn Sink) {
        if ts.secs() != self.last_tick {
            self.last_tick = ts.secs();
            sink.tick(ts);
            if self.app_on() {
                self.app.tick(ts, sink);
            }
        }
    }

    /// Flow tracking and the application layer for one decoded packet.
    #[inline(always)]
    fn track(
        &mut self,
        ts: Timestamp,
        pkt: &wirescope_wire::Packet<'_>,
        reassembled: Option<&wirescope_flow::frag::Reassembled>,
        sink: &mut dyn Sink,
    ) {
        if self.role == Role::Count {
            return;
        }
        let app_on = self.app_on();
        let mut on_end = flow_ender(app_on, self.role, &mut self.agg, &mut self.app, sink);
        let out = self.table.process(ts, pkt, &mut on_end);
        let mut r_out = None;
        if let Some(r) = reassembled {
            r_out = Some(self.table.process_reassembled(ts, r, pkt.vlan, &mut on_end));
        }
        drop(on_end);
        if app_on {
            if out.tracked && reassembled.is_none() {
                self.app.packet(ts, &mut self.table, out, pkt, sink);
            }
            if let (Some(r), Some(o)) = (reassembled, r_out) {
                self.app.reassembled(ts, &mut self.table, o, r, sink);
            }
            if let Some(a) = &pkt.arp {
                self.app.arp(ts, a, sink);
            }
            match pkt.transport {
                wirescope_wire::Transport::Icmp(i) => self.app.icmp(false, i.icmp_type, i.code),
                wirescope_wire::Transport::Icmpv6(i) => self.app.icmp(true, i.icmp_type, i.code),
                _ => {}
            }
        }
    }

    #[inline]
    fn count_hierarchy(&mut self, bits: u32, wire: u64) {
        let slot = (bits.wrapping_mul(0x9E37_79B9) >> (32 - HIER_SLOTS.trailing_zeros())) as usize;
        if let Some(e) = (self.hier_slots[slot] as usize)
            .checked_sub(1)
            .and_then(|i| self.hierarchy.get_mut(i))
        {
            if e.0 == bits {
                e.1 += 1;
                e.2 += wire;
                return;
            }
        }
        let i = match self.hierarchy.iter().position(|e| e.0 == bits) {
            Some(i) => i,
            None => {
                // Bounded: a layer set is one of at most 2^17 values, and real traffic shows a
                // few dozen; past 65 535 distinct sets the cache simply stops remembering.
                self.hierarchy.push((bits, 0, 0));
                self.hierarchy.len() - 1
            }
        };
        self.hierarchy[i].1 += 1;
        self.hierarchy[i].2 += wire;
        if let Ok(v) = u16::try_from(i + 1) {
            self.hier_slots[slot] = v;
        }
    }

    /// Moves packet time to `ts` without a packet, for a live link that has gone quiet: the
    /// once-a-second tick runs (app layer, detectors) and flows idle past their timeout end, as
    /// they would when the next packet arrived. Ignored unless `ts` is in a later second than
    /// the last packet or tick; the report's first/last packet times are not changed.
    pub fn advance(&mut self, ts: Timestamp, sink: &mut dyn Sink) {
        if self.last_tick == i64::MIN || ts.secs() <= self.last_tick {
            return;
        }
        self.clock(ts, sink);
        if self.role == Role::Count {
            return;
        }
        let mut done = flow_ender(self.app_on(), self.role, &mut self.agg, &mut self.app, sink);
        self.table.advance(ts, &mut done);
    }

    /// A shard's flow-table step without a packet of its own: for a frame another shard
    /// tracks (`quiet` false: the sweep a packet would run, so that every shard sweeps at the
    /// same packets as a single engine) or for a quiet link (`quiet` true, as in
    /// [`Engine::advance`]).
    pub(crate) fn sweep(&mut self, ts: Timestamp, sink: &mut dyn Sink, quiet: bool) {
        let mut done = flow_ender(self.app_on(), self.role, &mut self.agg, &mut self.app, sink);
        if quiet {
            self.table.advance(ts, &mut done);
        } else {
            self.table.clock(ts, &mut done);
        }
    }

    /// Ends every remaining flow and builds the report.
    pub fn finish(&mut self, sink: &mut dyn Sink) -> Report {
        self.end_all(sink);
        self.report()
    }

    /// Ends every remaining flow (end of input) and the application layer's open state.
    fn end_all(&mut self, sink: &mut dyn Sink) {
        if self.role != Role::Count {
            let mut done = flow_ender(self.app_on(), self.role, &mut self.agg, &mut self.app, sink);
            self.table.flush(&mut done);
        }
        if self.app_on() {
            self.app.finish(sink);
        }
    }

    /// Adds a finished shard's flow-table counters and application layer to this merge
    /// stage's, for the report.
    pub(crate) fn absorb(&mut self, shard: &Engine) {
        let t = shard.table.stats();
        let s = self.shard_tables.get_or_insert(wirescope_flow::TableStats {
            conversations_exact: true,
            ..Default::default()
        });
        s.flows_created_total += t.flows_created_total;
        s.flows_evicted_total += t.flows_evicted_total;
        s.flows_timed_out_total += t.flows_timed_out_total;
        s.flows_reused_total += t.flows_reused_total;
        s.active_flows += t.active_flows;
        // The sum of the shards' peaks: an upper bound of the peak of their sum.
        s.max_active_flows += t.max_active_flows;
        s.conversations_tcp += t.conversations_tcp;
        s.conversations_udp += t.conversations_udp;
        s.conversations_other += t.conversations_other;
        s.conversations_exact &= t.conversations_exact;
        s.untracked_ip_packets_total += t.untracked_ip_packets_total;
        self.app.absorb(&shard.app);
    }

    fn report(&self) -> Report {
        let ts = self.shard_tables.unwrap_or_else(|| self.table.stats());
        let mut protocols = BTreeMap::new();
        let mut protocol_bytes = BTreeMap::new();
        // The eight headline protocols are always present, even at zero.
        for l in [
            Layer::Eth,
            Layer::Arp,
            Layer::Ipv4,
            Layer::Ipv6,
            Layer::Tcp,
            Layer::Udp,
            Layer::Icmp,
            Layer::Icmpv6,
        ] {
            protocols.insert(l.key(), 0);
            protocol_bytes.insert(l.key(), 0);
        }
        let mut layer_pkts = [0u64; N_LAYERS];
        let mut layer_bytes = [0u64; N_LAYERS];
        for &(bits, pkts, bytes) in &self.hierarchy {
            let set = wirescope_core::LayerSet::from_bits(bits);
            for l in set.iter() {
                layer_pkts[l as usize] += pkts;
                layer_bytes[l as usize] += bytes;
            }
        }
        for l in Layer::ALL {
            let i = l as usize;
            if layer_pkts[i] > 0 {
                protocols.insert(l.key(), layer_pkts[i]);
                protocol_bytes.insert(l.key(), layer_bytes[i]);
            }
        }
        let mut hierarchy: Vec<HierarchyEntry> = self
            .hierarchy
            .iter()
            .map(|&(bits, packets, bytes)| HierarchyEntry {
                path: hierarchy_path(bits),
                packets,
                bytes,
            })
            .collect();
        hierarchy.sort_by(|a, b| b.packets.cmp(&a.packets).then(a.path.cmp(&b.path)));

        let anomalies = Anomaly::ALL
            .iter()
            .filter(|a| self.anomaly_counts[**a as usize] > 0)
            .map(|a| (a.key(), self.anomaly_counts[*a as usize]))
            .collect();

        let talker = |(ip, h): (IpAddr, HostTotals)| TalkerEntry {
            ip: ip.to_string(),
            bytes: h.bytes(),
            packets: h.packets(),
            bytes_sent: h.bytes_sent,
            bytes_received: h.bytes_received,
            packets_sent: h.packets_sent,
            packets_received: h.packets_received,
            flows: h.flows,
        };
        let n = self.cfg.top_n;
        let hosts = &self.agg.hosts;
        let talkers = Talkers {
            by_bytes: hosts
                .hosts
                .top(n, HostTotals::bytes)
                .into_iter()
                .map(talker)
                .collect(),
            by_packets: hosts
                .hosts
                .top(n, HostTotals::packets)
                .into_iter()
                .map(talker)
                .collect(),
            hosts_tracked: hosts.hosts.len() as u64,
            hosts_evicted: hosts.hosts.evicted_total,
        };
        let pairs = hosts
            .pairs
            .top(n, |p| p.bytes)
            .into_iter()
            .map(|((a, b), p)| PairEntry {
                a: a.to_string(),
                b: b.to_string(),
                packets: p.packets,
                bytes: p.bytes,
                bytes_a_to_b: p.bytes_a_to_b,
                bytes_b_to_a: p.bytes_b_to_a,
                flows: p.flows,
            })
            .collect();

        let series = &self.series;
        let timeseries = SeriesReport {
            start: self
                .first_ts
                .map(|_| Timestamp(series.start_sec * 1_000_000_000).to_string()),
            start_epoch: series.start_sec,
            bucket_seconds: series.bucket_secs,
            classes: SERIES_CLASSES.to_vec(),
            packets: series.packets.iter().map(|r| r.to_vec()).collect(),
            bytes: series.bytes.iter().map(|r| r.to_vec()).collect(),
        };

        let mut servers: Vec<(IpAddr, &Reservoir)> = self
            .agg
            .rtt_servers
            .iter()
            .filter_map(|(ip, s)| s.samples.as_ref().map(|r| (*ip, r)))
            .collect();
        servers.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
        let latency = Latency {
            handshakes: self.agg.handshakes,
            handshake_rtt: rtt_stats(&self.agg.rtt_all),
            servers: servers
                .into_iter()
                .take(n)
                .filter_map(|(ip, r)| {
                    rtt_stats(r).map(|rtt| ServerRttEntry {
                        server: ip.to_string(),
                        rtt,
                    })
                })
                .collect(),
        };
        let a = &self.agg;
        let pct = |x: u64, of: u64| {
            if of == 0 {
                0.0
            } else {
                x as f64 * 100.0 / of as f64
            }
        };
        let loss = Loss {
            tcp_segments: self.tcp_segments,
            retransmissions: a.retransmissions,
            out_of_order: a.out_of_order,
            missed_bytes: a.missed_bytes,
            acks: a.acks,
            ack_gaps: a.ack_gaps,
            capture_loss_percent: pct(a.ack_gaps, a.acks),
            retransmission_percent: pct(a.retransmissions, self.tcp_segments),
        };

        Report {
            version: 1,
            packets: self.packets,
            packets_read: self.packets,
            bytes: self.bytes,
            first_ts: self.first_ts.map(|t| t.to_string()),
            last_ts: self.last_ts.map(|t| t.to_string()),
            duration_s: match (self.first_ts, self.last_ts) {
                (Some(f), Some(l)) => l.since(f) as f64 / 1e9,
                _ => 0.0,
            },
            link_types: self
                .links
                .iter()
                .map(|(l, n)| (l.to_string(), *n))
                .collect(),
            protocols,
            protocol_bytes,
            hierarchy,
            anomalies,
            anomalous_packets: self.anomalous_packets,
            conversations: Conversations {
                tcp: ts.conversations_tcp,
                udp: ts.conversations_udp,
                other: ts.conversations_other,
                exact: ts.conversations_exact,
            },
            flows: FlowSummary {
                created: ts.flows_created_total,
                max_active: ts.max_active_flows,
                max_flows: self.table.config().max_flows as u64,
                evicted: ts.flows_evicted_total,
                timed_out: ts.flows_timed_out_total,
                reused: ts.flows_reused_total,
                untracked_ip_packets: ts.untracked_ip_packets_total,
                fragments: self.frags.stats.fragments_total,
                reassembled_datagrams: self.frags.stats.reassembled_total,
                incomplete_datagrams: self.frags.stats.expired_total
                    + self.frags.stats.evicted_total
                    + self.frags.pending() as u64,
                tcp_states: a.tcp_states.clone(),
                by_proto: a.by_proto.clone(),
            },
            talkers,
            pairs,
            timeseries,
            latency,
            loss,
            app: self.cfg.app.enabled.then(|| self.app.report(n)),
            ..Report::default()
        }
    }
}

/// What happens to a flow that ends: the application layer closes its state, the flow
/// aggregates take it (unless a merge stage does), and the sink gets it.
fn flow_ender<'s>(
    app_on: bool,
    role: Role,
    agg: &'s mut FlowAggregates,
    app: &'s mut app::AppLayer,
    sink: &'s mut dyn Sink,
) -> impl FnMut(&Flow) + 's {
    move |fl: &Flow| {
        if app_on {
            app.flow_end(fl, sink);
        }
        if role == Role::Full {
            agg.add(fl);
        }
        sink.flow(fl);
    }
}

/// The layer of a transport header.
fn transport_layer(t: &wirescope_wire::Transport) -> Option<Layer> {
    use wirescope_wire::Transport as T;
    match t {
        T::Tcp(_) => Some(Layer::Tcp),
        T::Udp(_) => Some(Layer::Udp),
        T::Icmp(_) => Some(Layer::Icmp),
        T::Icmpv6(_) => Some(Layer::Icmpv6),
        T::Sctp { .. } => Some(Layer::Sctp),
        T::None => None,
    }
}

fn rtt_stats(r: &Reservoir) -> Option<RttStats> {
    let ms = |ns: u64| ns as f64 / 1e6;
    Some(RttStats {
        samples: r.count,
        min_ms: ms(if r.count == 0 { return None } else { r.min }),
        median_ms: ms(r.quantile(0.5)?),
        p95_ms: ms(r.quantile(0.95)?),
        max_ms: ms(r.max),
    })
}

/// Layers of a layer set in hierarchy order (outermost first).
fn hierarchy_path(bits: u32) -> String {
    const ORDER: [Layer; 17] = [
        Layer::Cooked,
        Layer::Eth,
        Layer::Vlan,
        Layer::Mpls,
        Layer::Pppoe,
        Layer::Arp,
        Layer::Ipv4,
        Layer::Ipv6,
        Layer::IpInIp,
        Layer::Gre,
        Layer::Vxlan,
        Layer::Fragment,
        Layer::Tcp,
        Layer::Udp,
        Layer::Sctp,
        Layer::Icmp,
        Layer::Icmpv6,
    ];
    let set = wirescope_core::LayerSet::from_bits(bits);
    let parts: Vec<&str> = ORDER
        .iter()
        .filter(|l| set.contains(**l))
        .map(|l| l.key())
        .collect();
    if parts.is_empty() {
        "unknown".to_string()
    } else {
        parts.join(":")
    }
}
