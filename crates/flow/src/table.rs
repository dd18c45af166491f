//! The bidirectional flow table: bounded, seeded, swept on packet time.

use crate::community_id::icmp_ports;
use crate::tcp::{advance_state, conn_state, EndpointState, History, Letter, TcpEndpoint};
use std::hash::BuildHasher;
use wirescope_core::{Anomaly, AppProto};
use wirescope_core::{Direction, FlowKey, IpProto, Timestamp};
use wirescope_wire::{tcp_flags as f, IpInfo, Packet, Transport, UdpInfo};

const SEC: u64 = 1_000_000_000;

/// Flow table limits and timeouts. Defaults follow Suricata's flow timeouts
/// (`detection.md`: TCP new 60 s / established 600 s / closed 60 s, UDP 30 / 300 s).
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Most flows held at once; the table evicts (approximately least recently seen) beyond.
    pub max_flows: usize,
    /// Most distinct flow keys remembered for exact conversation counting.
    pub max_conversation_keys: usize,
    pub tcp_new_timeout_ns: u64,
    pub tcp_established_timeout_ns: u64,
    pub tcp_closed_timeout_ns: u64,
    pub udp_new_timeout_ns: u64,
    pub udp_established_timeout_ns: u64,
    pub other_new_timeout_ns: u64,
    pub other_established_timeout_ns: u64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 262_144,
            max_conversation_keys: 2_000_000,
            tcp_new_timeout_ns: 60 * SEC,
            tcp_established_timeout_ns: 600 * SEC,
            tcp_closed_timeout_ns: 60 * SEC,
            udp_new_timeout_ns: 30 * SEC,
            udp_established_timeout_ns: 300 * SEC,
            other_new_timeout_ns: 30 * SEC,
            other_established_timeout_ns: 300 * SEC,
        }
    }
}

/// Why a flow left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Inactive longer than its timeout.
    Timeout,
    /// Pushed out because the table was full.
    Evicted,
    /// A new TCP connection reused the same 5-tuple after this one closed.
    Reused,
    /// The input ended.
    Shutdown,
}

impl EndReason {
    /// EVE's `flow.reason` vocabulary.
    pub fn eve(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Evicted | EndReason::Reused => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// One flow: counters per side (index 0 = originator, 1 = responder), TCP state, timing.
///
/// `Copy` and free of heap data, so finished flows are handed out by value with no allocation.
#[derive(Clone, Copy, Debug)]
pub struct Flow {
    pub key: FlowKey,
    /// Canonical direction of the originator's packets.
    pub orig_dir: Direction,
    /// A stable 63-bit id (EVE `flow_id`), from the key and first timestamp.
    pub id: u64,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    pub pkts: [u64; 2],
    /// IP-layer bytes (Zeek `orig_ip_bytes`).
    pub ip_bytes: [u64; 2],
    /// Transport payload bytes (Zeek `orig_bytes`).
    pub payload_bytes: [u64; 2],
    pub tcp: [TcpEndpoint; 2],
    pub history: History,
    /// TCP flags seen per side, OR-ed (EVE `tcp_flags_ts` / `tcp_flags_tc`).
    pub tcp_flags: [u8; 2],
    pub syn_ts: Option<Timestamp>,
    pub synack_ts: Option<Timestamp>,
    /// Handshake RTT: SYN to the originator's ACK of the SYN-ACK, in nanoseconds.
    pub rtt_ns: Option<u64>,
    pub vlan: Option<u16>,
    /// For ICMP flows, the first type and code seen.
    pub icmp_type_code: Option<(u8, u8)>,
    pub end_reason: EndReason,
    /// The application protocol identified on the flow (set by the engine's app layer).
    pub app_proto: AppProto,
    /// The table slot holding this flow while it is live (an index for per-flow side tables).
    pub slot: u32,
    live: bool,
}

impl Flow {
    /// Originator endpoint as (address, port).
    pub fn orig(&self) -> (std::net::IpAddr, u16) {
        let (a, p, _, _) = self.key.endpoints(self.orig_dir);
        (a, p)
    }

    /// Responder endpoint as (address, port).
    pub fn resp(&self) -> (std::net::IpAddr, u16) {
        let (_, _, a, p) = self.key.endpoints(self.orig_dir);
        (a, p)
    }

    pub fn duration_ns(&self) -> u64 {
        self.last_ts.since(self.first_ts)
    }

    /// Zeek `conn_state`.
    pub fn conn_state(&self) -> &'static str {
        match self.key.proto {
            IpProto::TCP => conn_state(
                &self.tcp[0],
                &self.tcp[1],
                self.payload_bytes[0],
                self.payload_bytes[1],
                &self.history,
            ),
            IpProto::UDP => match (self.pkts[0] > 0, self.pkts[1] > 0) {
                (true, true) => "SF",
                (true, false) => "S0",
                (false, true) => "SHR",
                (false, false) => "OTH",
            },
            _ => "OTH",
        }
    }

    /// Whether the TCP handshake completed (both endpoints reached Established at some point).
    pub fn established(&self) -> bool {
        self.rtt_ns.is_some() || (self.tcp[0].syn_seen && self.tcp[1].syn_seen && self.pkts[0] > 1)
    }

    fn timeout_ns(&self, cfg: &FlowConfig) -> u64 {
        match self.key.proto {
            IpProto::TCP => {
                let closed = |e: &TcpEndpoint| {
                    matches!(e.state, EndpointState::Closed | EndpointState::Reset)
                };
                if self.tcp.iter().any(|e| e.state == EndpointState::Reset)
                    || self.tcp.iter().all(closed)
                {
                    cfg.tcp_closed_timeout_ns
                } else if self
                    .tcp
                    .iter()
                    .any(|e| e.state == EndpointState::Established)
                {
                    cfg.tcp_established_timeout_ns
                } else {
                    cfg.tcp_new_timeout_ns
                }
            }
            IpProto::UDP if self.pkts[1] > 0 => cfg.udp_established_timeout_ns,
            IpProto::UDP => cfg.udp_new_timeout_ns,
            _ if self.pkts[1] > 0 => cfg.other_established_timeout_ns,
            _ => cfg.other_new_timeout_ns,
        }
    }

    fn expired(&self, now: Timestamp, cfg: &FlowConfig) -> bool {
        now.since(self.last_ts) > self.timeout_ns(cfg)
    }
}

/// What the table did with one packet, for the statistics that need per-packet facts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketOutcome {
    pub tracked: bool,
    /// The flow's slot (valid when `tracked`).
    pub slot: u32,
    /// The packet came from the flow's originator.
    pub from_orig: bool,
    pub new_flow: bool,
    /// The flow's key was never seen before in this run (a new conversation).
    pub new_conversation: bool,
    pub retransmission: bool,
    pub out_of_order: bool,
}

/// Counters the table keeps about itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    pub flows_created_total: u64,
    pub flows_evicted_total: u64,
    pub flows_timed_out_total: u64,
    pub flows_reused_total: u64,
    pub active_flows: u64,
    pub max_active_flows: u64,
    /// Distinct conversations (bidirectional 5-tuples) per protocol.
    pub conversations_tcp: u64,
    pub conversations_udp: u64,
    pub conversations_other: u64,
    /// False once more keys were seen than `max_conversation_keys`: counts are then upper bounds.
    pub conversations_exact: bool,
    /// Packets with an IP header that could not be assigned to a flow (non-first fragments,
    /// truncated transport headers).
    pub untracked_ip_packets_total: u64,
}

/// Slots examined per sweep step (one step each time packet time enters a new second).
const SWEEP_BATCH: usize = 4096;
/// Live slots sampled when the table is full, to evict the least recently seen of them.
const EVICT_SAMPLE: usize = 8;

/// The flow table. See the crate docs for its bounds and policies.
pub struct FlowTable {
    cfg: FlowConfig,
    /// Live flows by key: slab indices only, each bucket compared through the slab's key
    /// (a key-and-index map cost 24 MB at 262 144 flows; 4-byte buckets cost 2.6 MB).
    map: hashbrown::HashTable<u32>,
    map_hasher: foldhash::fast::RandomState,
    slab: Vec<Flow>,
    free: Vec<u32>,
    /// Conversation keys, hashed with a fixed seed (64-bit; collisions are negligible below
    /// billions of keys).
    seen: hashbrown::HashSet<u64, foldhash::fast::RandomState>,
    id_hasher: foldhash::fast::FixedState,
    hand: usize,
    last_sweep_sec: i64,
    stats: TableStats,
}

impl FlowTable {
    pub fn new(cfg: FlowConfig) -> FlowTable {
        let cap = cfg.max_flows.max(1);
        let seen_cap = cfg.max_conversation_keys.min(1 << 16);
        FlowTable {
            // The index grows with use (amortized, per new flow) rather than being sized for the
            // cap up front: a sparse table spread over tens of MB costs a cache and TLB miss per
            // lookup (measured: 4x slower lookups in the flow-table bench).
            map: hashbrown::HashTable::with_capacity(cap.min(4096)),
            map_hasher: Default::default(),
            slab: Vec::with_capacity(cap),
            free: Vec::with_capacity(cap),
            seen: hashbrown::HashSet::with_capacity_and_hasher(seen_cap, Default::default()),
            id_hasher: foldhash::fast::FixedState::with_seed(0x5752_5343_4f50_4531),
            hand: 0,
            last_sweep_sec: i64::MIN,
            stats: TableStats {
                conversations_exact: true,
                ..TableStats::default()
            },
            cfg,
        }
    }

    pub fn config(&self) -> &FlowConfig {
        &self.cfg
    }

    pub fn stats(&self) -> TableStats {
        let mut s = self.stats;
        s.active_flows = self.map.len() as u64;
        s
    }

    /// Looks up a live flow by key.
    pub fn get(&self, key: &FlowKey) -> Option<&Flow> {
        self.find(key).map(|i| &self.slab[i as usize])
    }

    /// The slot of the live flow with `key`.
    #[inline]
    fn find(&self, key: &FlowKey) -> Option<u32> {
        let slab = &self.slab;
        self.map
            .find(self.map_hasher.hash_one(key), |&i| {
                slab[i as usize].key == *key
            })
            .copied()
    }

    /// Every live flow, in slot order (for periodic views; walks the whole slab).
    pub fn live_flows(&self) -> impl Iterator<Item = &Flow> {
        self.slab.iter().filter(|f| f.live)
    }

    /// The live flow in `slot`, for the engine's per-flow side tables.
    pub fn flow_in_slot(&self, slot: u32) -> Option<&Flow> {
        self.slab.get(slot as usize).filter(|f| f.live)
    }

    /// Sets the application protocol of the live flow in `slot`.
    pub fn set_app_proto(&mut self, slot: u32, p: AppProto) {
        if let Some(f) = self.slab.get_mut(slot as usize).filter(|f| f.live) {
            f.app_proto = p;
        }
    }

    /// Moves time forward without a packet (a live link gone quiet): once per new second, the
    /// same incremental sweep a packet would run, so idle flows time out.
    pub fn advance(&mut self, ts: Timestamp, done: &mut impl FnMut(&Flow)) {
        if ts.secs() > self.last_sweep_sec {
            self.last_sweep_sec = ts.secs();
            self.sweep(ts, SWEEP_BATCH, done);
        }
    }

    /// Packet time of a packet: in another second than the last one, a sweep step runs.
    /// [`FlowTable::process`] calls it; a sharded engine calls it for the packets another
    /// shard tracks, so that every shard sweeps at the same packets.
    pub fn clock(&mut self, ts: Timestamp, done: &mut impl FnMut(&Flow)) {
        if ts.secs() != self.last_sweep_sec {
            self.last_sweep_sec = ts.secs();
            self.sweep(ts, SWEEP_BATCH, done);
        }
    }

    /// Accounts one decoded packet. Flows that end (timeout, eviction, reuse) are passed to
    /// `done`, by value.
    pub fn process(
        &mut self,
        ts: Timestamp,
        pkt: &Packet<'_>,
        done: &mut impl FnMut(&Flow),
    ) -> PacketOutcome {
        self.clock(ts, done);
        if let Some(c) = pkt.tunnel_udp {
            // The tunnel's own conversation (Zeek logs it; tshark counts it), beside the inner one.
            let v6 = c.src.is_ipv6();
            let header = if v6 { 40 } else { 20 };
            let carrier = IpInfo {
                src: c.src,
                dst: c.dst,
                proto: IpProto::UDP,
                ttl: 0,
                total_len: c.ip_total_len,
                header_len: header,
                frag_offset: 0,
                more_fragments: false,
                ident: 0,
                dscp: 0,
                flow_label: 0,
            };
            let udp = Transport::Udp(UdpInfo {
                src_port: c.src_port,
                dst_port: c.dst_port,
                length: c.ip_total_len.saturating_sub(header),
            });
            let len = u32::from(c.ip_total_len.saturating_sub(header + 8));
            self.track(ts, &carrier, udp, len, pkt.vlan, done);
        }
        let Some(ip) = pkt.ip else {
            return PacketOutcome::default();
        };
        // A transport header too damaged to trust makes no flow (and, as in tshark, no
        // conversation): a cut or impossible TCP header, or a UDP length below its own header.
        let malformed = match pkt.transport {
            Transport::Tcp(_) => {
                pkt.anomalies.contains(Anomaly::TruncatedTcp)
                    || pkt.anomalies.contains(Anomaly::BadTcpHeaderLength)
            }
            Transport::Udp(u) => u.length < 8,
            _ => false,
        };
        if malformed {
            self.stats.untracked_ip_packets_total += 1;
            return PacketOutcome::default();
        }
        self.track(ts, &ip, pkt.transport, pkt.payload_wire_len, pkt.vlan, done)
    }

    /// Accounts a datagram completed by the fragment tracker (its transport header came in the
    /// first fragment; the frame completing it is the one that counts).
    pub fn process_reassembled(
        &mut self,
        ts: Timestamp,
        r: &crate::frag::Reassembled,
        vlan: Option<u16>,
        done: &mut impl FnMut(&Flow),
    ) -> PacketOutcome {
        self.track(ts, &r.ip, r.transport, r.payload_len, vlan, done)
    }

    fn track(
        &mut self,
        ts: Timestamp,
        ip: &IpInfo,
        transport: Transport,
        payload_len: u32,
        vlan: Option<u16>,
        done: &mut impl FnMut(&Flow),
    ) -> PacketOutcome {
        let ip = *ip;
        let mut out = PacketOutcome::default();
        let (sport, dport, proto) = match transport {
            Transport::Tcp(t) => (t.src_port, t.dst_port, IpProto::TCP),
            Transport::Udp(u) => (u.src_port, u.dst_port, IpProto::UDP),
            Transport::Sctp { src_port, dst_port } => (src_port, dst_port, IpProto::SCTP),
            Transport::Icmp(i) | Transport::Icmpv6(i) => {
                let (s, d, _) = icmp_ports(ip.proto, i.icmp_type, i.code);
                (s, d, ip.proto)
            }
            Transport::None => {
                if ip.frag_offset != 0
                    || matches!(
                        ip.proto,
                        IpProto::TCP | IpProto::UDP | IpProto::ICMP | IpProto::ICMPV6
                    )
                {
                    // A later fragment, or a transport header we could not read.
                    self.stats.untracked_ip_packets_total += 1;
                    return out;
                }
                (0, 0, ip.proto)
            }
        };
        let (key, dir) = FlowKey::new(ip.src, ip.dst, sport, dport, proto);
        out.tracked = true;

        let mut idx = self.find(&key);
        if let Some(i) = idx {
            let fl = &self.slab[i as usize];
            let reuse = match transport {
                // A fresh SYN on a connection that finished is a new connection (port reuse).
                Transport::Tcp(t) => {
                    t.has(f::SYN)
                        && !t.has(f::ACK)
                        && fl.tcp.iter().any(|e| {
                            matches!(e.state, EndpointState::Closed | EndpointState::Reset)
                        })
                }
                _ => false,
            };
            if reuse || fl.expired(ts, &self.cfg) {
                let reason = if reuse {
                    EndReason::Reused
                } else {
                    EndReason::Timeout
                };
                self.finish(i, reason, done);
                idx = None;
            }
        }
        let i = match idx {
            Some(i) => i,
            None => {
                out.new_flow = true;
                out.new_conversation = self.note_conversation(&key);
                let i = self.alloc(ts, done);
                let orig_dir = match transport {
                    // A first packet that is a SYN-ACK comes from the responder (Zeek's flip).
                    Transport::Tcp(t) if t.has(f::SYN) && t.has(f::ACK) => dir.flip(),
                    _ => dir,
                };
                let id = self.id_hasher.hash_one((key, ts.0)) & 0x7FFF_FFFF_FFFF_FFFF;
                let mut history = History::default();
                if orig_dir != dir {
                    history.push_flip();
                }
                self.slab[i as usize] = Flow {
                    key,
                    orig_dir,
                    id,
                    first_ts: ts,
                    last_ts: ts,
                    pkts: [0; 2],
                    ip_bytes: [0; 2],
                    payload_bytes: [0; 2],
                    tcp: [TcpEndpoint::default(); 2],
                    history,
                    tcp_flags: [0; 2],
                    syn_ts: None,
                    synack_ts: None,
                    rtt_ns: None,
                    vlan,
                    icmp_type_code: match transport {
                        Transport::Icmp(c) | Transport::Icmpv6(c) => Some((c.icmp_type, c.code)),
                        _ => None,
                    },
                    end_reason: EndReason::Shutdown,
                    app_proto: AppProto::Unknown,
                    slot: i,
                    live: true,
                };
                let (slab, hasher) = (&self.slab, &self.map_hasher);
                self.map.insert_unique(hasher.hash_one(key), i, |&j| {
                    hasher.hash_one(slab[j as usize].key)
                });
                self.stats.flows_created_total += 1;
                let active = self.map.len() as u64;
                self.stats.max_active_flows = self.stats.max_active_flows.max(active);
                i
            }
        };

        let fl = &mut self.slab[i as usize];
        let from_orig = dir == fl.orig_dir;
        out.slot = i;
        out.from_orig = from_orig;
        let side = usize::from(!from_orig);
        fl.last_ts = fl.last_ts.max(ts);
        fl.pkts[side] += 1;
        fl.ip_bytes[side] += u64::from(ip.total_len);
        fl.payload_bytes[side] += u64::from(payload_len);
        if let Transport::Tcp(t) = transport {
            let len = payload_len;
            fl.tcp_flags[side] |= t.flags as u8;
            let (a, b) = fl.tcp.split_at_mut(1);
            let (me, peer) = if from_orig {
                (&mut a[0], &mut b[0])
            } else {
                (&mut b[0], &mut a[0])
            };
            let syn = t.has(f::SYN);
            let ack = t.has(f::ACK);
            let fin = t.has(f::FIN);
            let rst = t.has(f::RST);
            let h = &mut fl.history;
            // Zeek's history rules: more than one of SYN/FIN/RST is 'Q' (or 'I' for FIN+RST),
            // exactly one gives S/H, F or R, none without ACK is 'I'; then D for payload, or
            // A for a pure ACK.
            let bits_set = u8::from(syn) + u8::from(fin) + u8::from(rst);
            if bits_set > 1 {
                let letter = if fin && rst {
                    Letter::Inconsistent
                } else {
                    Letter::MultiFlag
                };
                h.push(letter, from_orig);
            } else if syn {
                h.push(if ack { Letter::SynAck } else { Letter::Syn }, from_orig);
            } else if fin {
                h.push(Letter::Fin, from_orig);
            } else if rst {
                h.push(Letter::Rst, from_orig);
            } else if !ack {
                h.push(Letter::Inconsistent, from_orig);
            }
            if len > 0 {
                h.push(Letter::Data, from_orig);
            } else if ack && bits_set == 0 {
                h.push(Letter::Ack, from_orig);
            }
            if t.window == 0 && !rst && !syn {
                h.push(Letter::ZeroWindow, from_orig);
            }
            let v = me.on_segment(&t, len);
            if v.retransmission {
                h.push(Letter::Retransmit, from_orig);
                out.retransmission = true;
            }
            if v.out_of_order {
                out.out_of_order = true;
            }
            if v.gap > 0 {
                h.push(Letter::Gap, from_orig);
            }
            if ack {
                me.on_ack(t.ack, peer);
            }
            advance_state(me, peer, &t);
            // Handshake RTT, measured at the sensor: SYN -> SYN-ACK -> ACK.
            if syn && !ack && from_orig && fl.syn_ts.is_none() {
                fl.syn_ts = Some(ts);
            } else if syn && ack && !from_orig && fl.syn_ts.is_some() && fl.synack_ts.is_none() {
                fl.synack_ts = Some(ts);
            } else if ack && !syn && !rst && from_orig && fl.rtt_ns.is_none() {
                if let (Some(s), Some(_)) = (fl.syn_ts, fl.synack_ts) {
                    fl.rtt_ns = Some(ts.since(s));
                }
            }
        }
        out
    }

    /// Finishes every flow still in the table (end of input), in slot order.
    pub fn flush(&mut self, done: &mut impl FnMut(&Flow)) {
        for i in 0..self.slab.len() {
            if self.slab[i].live {
                self.finish(i as u32, EndReason::Shutdown, done);
            }
        }
    }

    /// Expires timed-out flows among the next `batch` slots from the sweep hand.
    fn sweep(&mut self, now: Timestamp, batch: usize, done: &mut impl FnMut(&Flow)) -> usize {
        let n = self.slab.len();
        if n == 0 {
            return 0;
        }
        let mut freed = 0;
        for _ in 0..batch.min(n) {
            self.hand = (self.hand + 1) % n;
            let fl = &self.slab[self.hand];
            if fl.live && fl.expired(now, &self.cfg) {
                self.stats.flows_timed_out_total += 1;
                self.finish(self.hand as u32, EndReason::Timeout, done);
                freed += 1;
            }
        }
        freed
    }

    fn alloc(&mut self, now: Timestamp, done: &mut impl FnMut(&Flow)) -> u32 {
        if let Some(i) = self.free.pop() {
            return i;
        }
        if self.slab.len() < self.cfg.max_flows.max(1) {
            self.slab.push(EMPTY_FLOW);
            return (self.slab.len() - 1) as u32;
        }
        // Full: look at a few slots after the sweep hand; take an expired flow if there is one,
        // else evict the least recently seen of them (approximate LRU, O(1) per new flow).
        let n = self.slab.len();
        let mut victim = self.hand;
        let mut oldest = Timestamp(i64::MAX);
        let mut reason = EndReason::Evicted;
        for _ in 0..EVICT_SAMPLE {
            self.hand = (self.hand + 1) % n;
            let fl = &self.slab[self.hand];
            if !fl.live {
                continue;
            }
            if fl.expired(now, &self.cfg) {
                victim = self.hand;
                reason = EndReason::Timeout;
                break;
            }
            if fl.last_ts < oldest {
                oldest = fl.last_ts;
                victim = self.hand;
            }
        }
        if reason == EndReason::Timeout {
            self.stats.flows_timed_out_total += 1;
        } else {
            self.stats.flows_evicted_total += 1;
        }
        self.finish(victim as u32, reason, done);
        self.free.pop().unwrap_or(victim as u32)
    }

    fn finish(&mut self, i: u32, reason: EndReason, done: &mut impl FnMut(&Flow)) {
        let fl = &mut self.slab[i as usize];
        if !fl.live {
            return;
        }
        fl.live = false;
        fl.end_reason = reason;
        if reason == EndReason::Reused {
            self.stats.flows_reused_total += 1;
        }
        let key = fl.key;
        done(fl);
        if let Ok(e) = self
            .map
            .find_entry(self.map_hasher.hash_one(key), |&j| j == i)
        {
            e.remove();
        }
        self.free.push(i);
    }

    fn note_conversation(&mut self, key: &FlowKey) -> bool {
        let h = self.id_hasher.hash_one(key);
        let new = if self.seen.len() < self.cfg.max_conversation_keys {
            self.seen.insert(h)
        } else {
            // Past the cap: keys already remembered are still recognised; others count as
            // new, so the total becomes an upper bound.
            let known = self.seen.contains(&h);
            if !known {
                self.stats.conversations_exact = false;
            }
            !known
        };
        if new {
            match key.proto {
                IpProto::TCP => self.stats.conversations_tcp += 1,
                IpProto::UDP => self.stats.conversations_udp += 1,
                _ => self.stats.conversations_other += 1,
            }
        }
        new
    }
}

const EMPTY_FLOW: Flow = Flow {
    key: FlowKey {
        lo_addr: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        hi_addr: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        lo_port: 0,
        hi_port: 0,
        proto: IpProto(0),
    },
    orig_dir: Direction::Forward,
    id: 0,
    first_ts: Timestamp(0),
    last_ts: Timestamp(0),
    pkts: [0; 2],
    ip_bytes: [0; 2],
    payload_bytes: [0; 2],
    tcp: [TcpEndpoint {
        state: EndpointState::Inactive,
        seq: crate::tcp::SeqTrack::ZERO,
        retransmissions: 0,
        out_of_order: 0,
        missed_bytes: 0,
        acks: 0,
        ack_gaps: 0,
        zero_windows: 0,
        syn_seen: false,
        fin_seen: false,
        rst_seen: false,
    }; 2],
    history: History::EMPTY,
    tcp_flags: [0; 2],
    syn_ts: None,
    synack_ts: None,
    rtt_ns: None,
    vlan: None,
    icmp_type_code: None,
    end_reason: EndReason::Shutdown,
    app_proto: AppProto::Unknown,
    slot: 0,
    live: false,
};
