//! `--workers N`: flow tracking and the application layer on N threads, with the same records
//! and alerts as one engine.
//!
//! ```text
//!  batches of frames (live capture threads, or the file reader), each frame with the
//!  symmetric hash of its address pair ([`shard_hash`])
//!     │ Arc<FrameBatch>, in order, to every shard and kept by the merge stage
//!     ├──► shard 0 ─┐  tracks the frames with hash % N == 0 (flow table, reassembly, parsers);
//!     ├──► shard 1 ─┤  for every other frame only moves packet time on (tick, timeout sweep)
//!     └──► shard … ─┘  → owned events (flows, DNS, HTTP, TLS, SSH, DHCP, ARP) per frame
//!                   ▼
//!  merge stage (the caller's thread): per frame, in capture order: decode, per-packet
//!  accounting, tick → the shards' tick-time events → packet hook → the shards' events
//!  of that frame → the one sink (detection and outputs)
//! ```
//!
//! - Both directions of a flow, and every fragment of a datagram, share an address pair, so
//!   they meet on one shard. Frames whose addresses are not read here (non-IP, other link
//!   types, PPPoE, MPLS) and DHCP (whose exchanges span address pairs) go to shard 0.
//! - Every shard sees every frame's time, so flows time out and the application layer's
//!   once-a-second work runs at the same packets as in a single engine; the merge stage
//!   replays each frame's events at the place a single engine would have emitted them. With
//!   one shard the event stream is exactly a single engine's. With more, two things can
//!   differ: the order among flows that time out in the same sweep step (each shard sweeps its
//!   own table), and which flows are evicted when a table is full (each shard holds
//!   `max_flows / N`).
//! - The detectors and outputs stay on the merge stage: their state is per host across flows
//!   (scans, floods, brute force), and one ordered stream keeps alerts deterministic.
//! - Bounded: at most [`Sharded::in_flight`] batches are between the stages; event buffers
//!   and batches are recycled.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use wirescope_core::{Frame, LinkType, Timestamp};
use wirescope_proto::{dhcp, dns, http, ssh, tls};
use wirescope_wire::ArpInfo;

use crate::app::{AppCtx, ArpEvent, DnsEvent};
use crate::{Engine, EngineConfig, Flow, Report, Role, Sink, Snapshot};

/// One frame of a [`FrameBatch`].
#[derive(Clone, Copy, Debug)]
struct Meta {
    ts: Timestamp,
    wire_len: u32,
    off: u32,
    len: u32,
    link: LinkType,
    iface: u32,
    hash: u32,
}

/// Frames copied into one buffer: the unit handed between threads.
pub struct FrameBatch {
    /// Who recycles it (a capture thread's index; 0 for the file reader).
    pub owner: usize,
    data: Vec<u8>,
    meta: Vec<Meta>,
    max_packets: usize,
    /// Whether frames get their shard hash when pushed (only sharded runs need it).
    hashed: bool,
}

impl FrameBatch {
    /// A batch for at most `packets` frames and `bytes` bytes (more if a single frame is
    /// larger), allocated once.
    pub fn new(owner: usize, packets: usize, bytes: usize) -> FrameBatch {
        FrameBatch {
            owner,
            data: Vec::with_capacity(bytes),
            meta: Vec::with_capacity(packets),
            max_packets: packets.max(1),
            hashed: false,
        }
    }

    pub fn is_hashed(&self) -> bool {
        self.hashed
    }

    /// Computes each frame's shard hash as it is pushed (for [`Sharded`]).
    pub fn hashed(mut self, on: bool) -> FrameBatch {
        self.hashed = on;
        self
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.meta.clear();
    }

    pub fn len(&self) -> usize {
        self.meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Whether a frame of `len` bytes fits without growing the buffer (an empty batch takes
    /// any frame).
    pub fn fits(&self, len: usize) -> bool {
        self.meta.is_empty()
            || (self.meta.len() < self.max_packets && self.data.len() + len <= self.data.capacity())
    }

    pub fn is_full(&self) -> bool {
        self.meta.len() >= self.max_packets
    }

    /// Copies a frame in, with its shard hash.
    pub fn push(&mut self, f: &Frame<'_>) {
        let off = self.data.len() as u32;
        self.data.extend_from_slice(f.data);
        self.meta.push(Meta {
            ts: f.ts,
            wire_len: f.wire_len,
            off,
            len: f.data.len() as u32,
            link: f.link,
            iface: f.iface,
            hash: if self.hashed { shard_hash(f) } else { 0 },
        });
    }

    pub fn first_ts(&self) -> Option<Timestamp> {
        self.meta.first().map(|m| m.ts)
    }

    /// Keeps the first `n` frames.
    pub fn truncate(&mut self, n: usize) {
        self.meta.truncate(n);
    }

    pub fn frame(&self, i: usize) -> Option<Frame<'_>> {
        let m = self.meta.get(i)?;
        let data = self
            .data
            .get(m.off as usize..(m.off as usize).saturating_add(m.len as usize))?;
        Some(Frame {
            ts: m.ts,
            wire_len: m.wire_len,
            link: m.link,
            iface: m.iface,
            data,
        })
    }

    fn hash(&self, i: usize) -> u32 {
        self.meta.get(i).map_or(0, |m| m.hash)
    }
}

/// The shard hash of a frame, from its decoded addresses: equal for both directions of an
/// IP address pair, so for both directions of every flow between them and for every fragment
/// of a datagram. The addresses are those the flow table keys on: the innermost IP header,
/// through IP-in-IP, 6in4, GRE and MPLS; but a UDP tunnel (VXLAN, Teredo, GTP-U), whose
/// carrier is a flow of its own, is hashed by the carrier's addresses. Frames without an IP
/// header and DHCP (UDP port 67 or 68: a client without an address broadcasts) hash to 0 and
/// go to shard 0.
pub fn shard_hash(frame: &Frame<'_>) -> u32 {
    let pkt = wirescope_wire::decode_frame(frame);
    let (a, b) = match (pkt.tunnel_udp, pkt.ip) {
        (Some(c), _) => (c.src, c.dst),
        (None, Some(ip)) => {
            if let wirescope_wire::Transport::Udp(u) = pkt.transport {
                if matches!(u.src_port, 67 | 68) || matches!(u.dst_port, 67 | 68) {
                    return 0;
                }
            }
            (ip.src, ip.dst)
        }
        (None, None) => return 0,
    };
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    // FNV-1a over the smaller address then the larger: the same for both directions.
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |ip: IpAddr| {
        let bytes = match ip {
            IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
            IpAddr::V6(v) => v.octets(),
        };
        for x in bytes {
            h = (h ^ u32::from(x)).wrapping_mul(0x0100_0193);
        }
    };
    eat(lo);
    eat(hi);
    // Fold the high bits in, so that `h % N` depends on all of them.
    h ^ (h >> 16)
}

/// Where in a frame's processing an event was emitted: at the tick (before the packet hook),
/// or after it (flow tracking and parsers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Tick,
    Post,
}

/// An event a shard hands to the merge stage, owned. DNS and DHCP messages keep their bytes
/// (in [`Events::bytes`]) and are parsed again there.
/// Large application records are boxed, so an event is about the size of a flow record.
enum Event {
    Flow(Flow),
    DnsMessage {
        ts: Timestamp,
        flow: Flow,
        at: (usize, usize),
        to_server: bool,
        query: Option<Box<dns::PendingQuery>>,
    },
    DnsUnanswered {
        ts: Timestamp,
        flow: Flow,
        query: Box<dns::PendingQuery>,
    },
    Http {
        ts: Timestamp,
        flow: Flow,
        tx: Box<http::Transaction>,
    },
    Tls {
        ts: Timestamp,
        flow: Flow,
        s: Box<tls::TlsSession>,
    },
    Ssh {
        ts: Timestamp,
        flow: Flow,
        s: Box<ssh::SshSession>,
    },
    Socks {
        ts: Timestamp,
        flow: Flow,
        s: Box<wirescope_proto::socks::SocksSession>,
    },
    Proxy {
        ts: Timestamp,
        flow: Flow,
        h: Box<wirescope_proto::proxy::ProxyHeader>,
    },
    DhcpMessage {
        ts: Timestamp,
        flow: Flow,
        at: (usize, usize),
    },
    Dhcp(dhcp::Transaction),
    Arp {
        ts: Timestamp,
        arp: ArpInfo,
        previous_mac: Option<[u8; 6]>,
    },
}

/// One shard's events for one unit of work, in emission order.
#[derive(Default)]
struct Events {
    recs: Vec<(u32, Phase, Event)>,
    bytes: Vec<u8>,
}

impl Events {
    fn clear(&mut self) {
        self.recs.clear();
        self.bytes.clear();
    }
}

/// The sink of a shard: records what its engine emits, tagged with the frame and phase.
struct Recorder<'c> {
    ev: Events,
    frame: u32,
    phase: Phase,
    /// At end of input: where full chunks of events go, so that flushing a large table does
    /// not hold all of its records at once.
    chunks: Option<(&'c SyncSender<Done>, &'c Receiver<Events>)>,
}

/// Events per chunk when a shard's table is flushed at end of input.
const FLUSH_CHUNK: usize = 4096;

impl Recorder<'_> {
    fn push(&mut self, e: Event) {
        self.ev.recs.push((self.frame, self.phase, e));
        if let Some((out, spare)) = self.chunks {
            if self.ev.recs.len() >= FLUSH_CHUNK {
                let mut next = spare.try_recv().unwrap_or_default();
                next.clear();
                let full = std::mem::replace(&mut self.ev, next);
                let _ = out.send(Done::Chunk(full));
            }
        }
    }
    fn keep(&mut self, b: &[u8]) -> (usize, usize) {
        let start = self.ev.bytes.len();
        self.ev.bytes.extend_from_slice(b);
        (start, self.ev.bytes.len())
    }
}

impl Sink for Recorder<'_> {
    fn packet(&mut self, _ts: Timestamp, _pkt: &wirescope_wire::Packet<'_>) {
        self.phase = Phase::Post;
    }
    fn flow(&mut self, fl: &Flow) {
        self.push(Event::Flow(*fl));
    }
    fn dns(&mut self, ctx: &AppCtx<'_>, ev: &DnsEvent<'_, '_>) {
        let e = match ev {
            DnsEvent::Message {
                msg,
                to_server,
                query,
            } => Event::DnsMessage {
                ts: ctx.ts,
                flow: *ctx.flow,
                at: self.keep(msg.raw()),
                to_server: *to_server,
                query: query.map(|q| Box::new(q.clone())),
            },
            DnsEvent::Unanswered(q) => Event::DnsUnanswered {
                ts: ctx.ts,
                flow: *ctx.flow,
                query: Box::new((*q).clone()),
            },
        };
        self.push(e);
    }
    fn http(&mut self, ctx: &AppCtx<'_>, tx: &http::Transaction) {
        self.push(Event::Http {
            ts: ctx.ts,
            flow: *ctx.flow,
            tx: Box::new(tx.clone()),
        });
    }
    fn tls(&mut self, ctx: &AppCtx<'_>, s: &tls::TlsSession) {
        self.push(Event::Tls {
            ts: ctx.ts,
            flow: *ctx.flow,
            s: Box::new(s.clone()),
        });
    }
    fn ssh(&mut self, ctx: &AppCtx<'_>, s: &ssh::SshSession) {
        self.push(Event::Ssh {
            ts: ctx.ts,
            flow: *ctx.flow,
            s: Box::new(s.clone()),
        });
    }
    fn socks(&mut self, ctx: &AppCtx<'_>, s: &wirescope_proto::socks::SocksSession) {
        self.push(Event::Socks {
            ts: ctx.ts,
            flow: *ctx.flow,
            s: Box::new(s.clone()),
        });
    }
    fn proxy(&mut self, ctx: &AppCtx<'_>, h: &wirescope_proto::proxy::ProxyHeader) {
        self.push(Event::Proxy {
            ts: ctx.ts,
            flow: *ctx.flow,
            h: Box::new(h.clone()),
        });
    }
    fn dhcp_message(&mut self, ctx: &AppCtx<'_>, m: &dhcp::Message<'_>) {
        let at = self.keep(m.raw());
        self.push(Event::DhcpMessage {
            ts: ctx.ts,
            flow: *ctx.flow,
            at,
        });
    }
    fn dhcp(&mut self, tx: &dhcp::Transaction) {
        self.push(Event::Dhcp(tx.clone()));
    }
    fn arp(&mut self, ev: &ArpEvent<'_>) {
        self.push(Event::Arp {
            ts: ev.ts,
            arp: *ev.arp,
            previous_mac: ev.previous_mac,
        });
    }
}

/// Gives a recorded event to the merge stage's sink (and a flow to its aggregates).
fn replay(engine: &mut Engine, e: &Event, bytes: &[u8], sink: &mut dyn Sink) {
    let span = |at: &(usize, usize)| bytes.get(at.0..at.1).unwrap_or(&[]);
    match e {
        Event::Flow(fl) => {
            engine.agg.add(fl);
            sink.flow(fl);
        }
        Event::DnsMessage {
            ts,
            flow,
            at,
            to_server,
            query,
        } => {
            // The shard parsed these bytes; the same parse cannot fail here.
            if let Ok(msg) = dns::parse(span(at)) {
                let ev = DnsEvent::Message {
                    msg: &msg,
                    to_server: *to_server,
                    query: query.as_deref(),
                };
                sink.dns(&AppCtx { ts: *ts, flow }, &ev);
            }
        }
        Event::DnsUnanswered { ts, flow, query } => {
            sink.dns(&AppCtx { ts: *ts, flow }, &DnsEvent::Unanswered(query));
        }
        Event::Http { ts, flow, tx } => sink.http(&AppCtx { ts: *ts, flow }, tx),
        Event::Tls { ts, flow, s } => sink.tls(&AppCtx { ts: *ts, flow }, s),
        Event::Ssh { ts, flow, s } => sink.ssh(&AppCtx { ts: *ts, flow }, s),
        Event::Socks { ts, flow, s } => sink.socks(&AppCtx { ts: *ts, flow }, s),
        Event::Proxy { ts, flow, h } => sink.proxy(&AppCtx { ts: *ts, flow }, h),
        Event::DhcpMessage { ts, flow, at } => {
            if let Ok(m) = dhcp::parse(span(at)) {
                sink.dhcp_message(&AppCtx { ts: *ts, flow }, &m);
            }
        }
        Event::Dhcp(tx) => sink.dhcp(tx),
        Event::Arp {
            ts,
            arp,
            previous_mac,
        } => sink.arp(&ArpEvent {
            ts: *ts,
            arp,
            previous_mac: *previous_mac,
        }),
    }
}

/// Work for a shard, in the order the merge stage issued it.
enum Work {
    Batch(Arc<FrameBatch>),
    /// A quiet link: move packet time on (as [`Engine::advance`]).
    Advance(Timestamp),
    /// Per-host totals of the open flows, for the live view.
    Snapshot,
    /// End of input: end every flow.
    Finish,
}

/// A shard's answer to one [`Work`].
enum Done {
    Events(Events),
    /// Part of the answer to [`Work::Finish`]; more follows.
    Chunk(Events),
    Snapshot(Vec<(IpAddr, u64, u64)>, u64),
}

/// What the merge stage still waits for, oldest first.
enum Pending {
    Batch(Arc<FrameBatch>),
    Advance(Timestamp),
    Snapshot,
}

struct Shard {
    work: SyncSender<Work>,
    done: Receiver<Done>,
    spare: Sender<Events>,
    thread: Option<JoinHandle<Engine>>,
}

/// The shard thread: runs its engine over its frames and records the events.
fn shard_main(
    index: usize,
    n: usize,
    mut engine: Engine,
    work: Receiver<Work>,
    done: SyncSender<Done>,
    spare: Receiver<Events>,
) -> Engine {
    for w in work {
        let mut ev = spare.try_recv().unwrap_or_default();
        ev.clear();
        let mut rec = Recorder {
            ev,
            frame: 0,
            phase: Phase::Tick,
            chunks: None,
        };
        match w {
            Work::Batch(batch) => {
                for i in 0..batch.len() {
                    let Some(frame) = batch.frame(i) else {
                        continue;
                    };
                    rec.frame = i as u32;
                    rec.phase = Phase::Tick;
                    if batch.hash(i) as usize % n == index {
                        // The packet hook moves the recorder to the Post phase.
                        engine.process(&frame, &mut rec);
                    } else {
                        engine.clock(frame.ts, &mut rec);
                        rec.phase = Phase::Post;
                        engine.sweep(frame.ts, &mut rec, false);
                    }
                }
                // Let go of the batch before answering, so the merge stage can recycle it.
                drop(batch);
            }
            Work::Advance(ts) => {
                if engine.last_tick != i64::MIN && ts.secs() > engine.last_tick {
                    engine.clock(ts, &mut rec);
                    rec.phase = Phase::Post;
                    engine.sweep(ts, &mut rec, true);
                }
            }
            Work::Snapshot => {
                let (live, active) = engine.live_hosts();
                if done.send(Done::Snapshot(live, active)).is_err() {
                    break;
                }
                continue;
            }
            Work::Finish => {
                rec.phase = Phase::Post;
                rec.chunks = Some((&done, &spare));
                engine.end_all(&mut rec);
                let _ = done.send(Done::Events(rec.ev));
                break;
            }
        }
        if done.send(Done::Events(rec.ev)).is_err() {
            break;
        }
    }
    engine
}

/// N shards and the merge stage (see the module documentation).
pub struct Sharded {
    merge: Engine,
    shards: Vec<Shard>,
    pending: VecDeque<Pending>,
    in_flight: usize,
    /// Frames given so far.
    frames: u64,
    /// The shards' latest open-flow totals (live view).
    live: (Vec<(IpAddr, u64, u64)>, u64),
    /// Per shard: the events of the unit being merged, and a read position.
    cur: Vec<(Events, usize)>,
}

impl Sharded {
    /// Starts `n` shard threads (at least 1). Flow, reassembly and fragment limits are split
    /// among the shards, so the whole stays within the configured caps.
    pub fn new(cfg: EngineConfig, n: usize) -> std::io::Result<Sharded> {
        let n = n.max(1);
        let in_flight = 2 * n + 2;
        let mut shard_cfg = cfg.clone();
        shard_cfg.flow.max_flows = (cfg.flow.max_flows / n).max(1);
        shard_cfg.flow.max_conversation_keys = (cfg.flow.max_conversation_keys / n).max(1);
        shard_cfg.app.reassembly_budget = cfg.app.reassembly_budget / n;
        shard_cfg.app.max_states = (cfg.app.max_states / n).max(1);
        shard_cfg.max_fragmented_datagrams = (cfg.max_fragmented_datagrams / n).max(1);
        let mut shards = Vec::with_capacity(n);
        for index in 0..n {
            let (work_tx, work_rx) = mpsc::sync_channel(in_flight + 2);
            let (done_tx, done_rx) = mpsc::sync_channel(in_flight + 2);
            let (spare_tx, spare_rx) = mpsc::channel();
            let engine = Engine::with_role(shard_cfg.clone(), Role::Track);
            let thread = std::thread::Builder::new()
                .name(format!("shard-{index}"))
                .spawn(move || shard_main(index, n, engine, work_rx, done_tx, spare_rx))?;
            shards.push(Shard {
                work: work_tx,
                done: done_rx,
                spare: spare_tx,
                thread: Some(thread),
            });
        }
        Ok(Sharded {
            merge: Engine::with_role(cfg, Role::Count),
            shards,
            pending: VecDeque::with_capacity(in_flight + 1),
            in_flight,
            frames: 0,
            live: (Vec::new(), 0),
            cur: (0..n).map(|_| (Events::default(), 0)).collect(),
        })
    }

    /// Batches that may be between the stages at once.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Frames given so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Hands a batch to the shards; merges the oldest ones once enough are in flight.
    /// Batches come back through `recycle` once merged.
    pub fn push(
        &mut self,
        batch: FrameBatch,
        sink: &mut dyn Sink,
        recycle: &mut dyn FnMut(FrameBatch),
    ) {
        self.frames += batch.len() as u64;
        let batch = Arc::new(batch);
        for s in &self.shards {
            let _ = s.work.send(Work::Batch(Arc::clone(&batch)));
        }
        self.pending.push_back(Pending::Batch(batch));
        while self.pending.len() > self.in_flight {
            self.complete_one(sink, recycle);
        }
    }

    /// Moves packet time on without packets (a quiet live link).
    pub fn advance(&mut self, ts: Timestamp, sink: &mut dyn Sink) {
        for s in &self.shards {
            let _ = s.work.send(Work::Advance(ts));
        }
        self.pending.push_back(Pending::Advance(ts));
        while !self.pending.is_empty() {
            self.complete_one(sink, &mut |_| {});
        }
    }

    /// The live view's counters: those merged so far, with the open flows' totals the shards
    /// last reported (a fresh report is asked for now and shows at the next call).
    pub fn snapshot(&mut self, n: usize) -> Snapshot {
        if !self.pending.iter().any(|p| matches!(p, Pending::Snapshot)) {
            for s in &self.shards {
                let _ = s.work.send(Work::Snapshot);
            }
            self.pending.push_back(Pending::Snapshot);
        }
        self.merge.snapshot_with(n, &self.live.0, self.live.1)
    }

    /// Merges the oldest unit of work.
    fn complete_one(&mut self, sink: &mut dyn Sink, recycle: &mut dyn FnMut(FrameBatch)) {
        let Some(p) = self.pending.pop_front() else {
            return;
        };
        if let Pending::Snapshot = p {
            let mut live = Vec::new();
            let mut active = 0;
            for s in &self.shards {
                if let Ok(Done::Snapshot(v, a)) = s.done.recv() {
                    live.extend(v);
                    active += a;
                }
            }
            self.live = (live, active);
            return;
        }
        for (s, cur) in self.shards.iter().zip(self.cur.iter_mut()) {
            let mut ev = match s.done.recv() {
                Ok(Done::Events(ev)) => ev,
                _ => Events::default(),
            };
            std::mem::swap(&mut cur.0, &mut ev);
            cur.1 = 0;
            ev.clear();
            let _ = s.spare.send(ev);
        }
        match p {
            Pending::Batch(batch) => {
                self.merge_batch(&batch, sink);
                if let Ok(b) = Arc::try_unwrap(batch) {
                    recycle(b);
                }
            }
            Pending::Advance(ts) => {
                if self.merge.last_tick != i64::MIN && ts.secs() > self.merge.last_tick {
                    self.merge.clock(ts, sink);
                }
                self.replay_rest(sink);
            }
            Pending::Snapshot => {}
        }
    }

    /// Replays, for every shard, its events of frame `i` in `phase`.
    fn replay_at(&mut self, i: u32, phase: Phase, sink: &mut dyn Sink) {
        for (ev, pos) in self.cur.iter_mut() {
            while let Some((f, ph, e)) = ev.recs.get(*pos) {
                if *f != i || *ph != phase {
                    break;
                }
                replay(&mut self.merge, e, &ev.bytes, sink);
                *pos += 1;
            }
        }
    }

    /// Replays every event not replayed yet, shard by shard.
    fn replay_rest(&mut self, sink: &mut dyn Sink) {
        for (ev, pos) in self.cur.iter_mut() {
            for (_, _, e) in ev.recs.get(*pos..).unwrap_or(&[]) {
                replay(&mut self.merge, e, &ev.bytes, sink);
            }
            *pos = ev.recs.len();
        }
    }

    fn merge_batch(&mut self, batch: &FrameBatch, sink: &mut dyn Sink) {
        for i in 0..batch.len() {
            let Some(frame) = batch.frame(i) else {
                continue;
            };
            let (pkt, _) = self.merge.decode(&frame);
            self.merge.count(&frame, &pkt);
            self.merge.clock(frame.ts, sink);
            self.replay_at(i as u32, Phase::Tick, sink);
            sink.packet(frame.ts, &pkt);
            self.replay_at(i as u32, Phase::Post, sink);
        }
        // Nothing should be left; if a shard's events ran ahead of its frames, keep them.
        self.replay_rest(sink);
    }

    /// Merges everything in flight, ends every flow in the shards (shard by shard), and
    /// builds the report.
    pub fn finish(mut self, sink: &mut dyn Sink) -> Report {
        while !self.pending.is_empty() {
            self.complete_one(sink, &mut |_| {});
        }
        for s in &self.shards {
            let _ = s.work.send(Work::Finish);
        }
        // Shard by shard, chunk by chunk: the other shards wait on their bounded channels.
        for i in 0..self.shards.len() {
            loop {
                let (ev, last) = match self.shards[i].done.recv() {
                    Ok(Done::Chunk(ev)) => (ev, false),
                    Ok(Done::Events(ev)) => (ev, true),
                    _ => break,
                };
                for (_, _, e) in &ev.recs {
                    replay(&mut self.merge, e, &ev.bytes, sink);
                }
                let _ = self.shards[i].spare.send(ev);
                if last {
                    break;
                }
            }
        }
        for s in std::mem::take(&mut self.shards) {
            if let Some(engine) = s.thread.and_then(|t| t.join().ok()) {
                self.merge.absorb(&engine);
            }
        }
        self.merge.end_all(sink);
        self.merge.report()
    }
}

/// One engine, or N shards and a merge stage, behind one interface.
pub enum Analyzer {
    Single(Box<Engine>),
    Sharded(Box<Sharded>),
}

impl Analyzer {
    /// One engine for `workers` ≤ 1, else [`Sharded`].
    pub fn new(cfg: EngineConfig, workers: usize) -> std::io::Result<Analyzer> {
        if workers <= 1 {
            Ok(Analyzer::Single(Box::new(Engine::new(cfg))))
        } else {
            Ok(Analyzer::Sharded(Box::new(Sharded::new(cfg, workers)?)))
        }
    }

    /// Frames given so far.
    pub fn frames(&self) -> u64 {
        match self {
            Analyzer::Single(e) => e.packets(),
            Analyzer::Sharded(s) => s.frames(),
        }
    }

    /// Analyses a batch; it comes back through `recycle` when done with.
    pub fn process_batch(
        &mut self,
        batch: FrameBatch,
        sink: &mut dyn Sink,
        recycle: &mut dyn FnMut(FrameBatch),
    ) {
        match self {
            Analyzer::Single(e) => {
                for i in 0..batch.len() {
                    if let Some(f) = batch.frame(i) {
                        e.process(&f, sink);
                    }
                }
                recycle(batch);
            }
            Analyzer::Sharded(s) => s.push(batch, sink, recycle),
        }
    }

    /// See [`Engine::advance`].
    pub fn advance(&mut self, ts: Timestamp, sink: &mut dyn Sink) {
        match self {
            Analyzer::Single(e) => e.advance(ts, sink),
            Analyzer::Sharded(s) => s.advance(ts, sink),
        }
    }

    /// See [`Engine::snapshot`] and [`Sharded::snapshot`].
    pub fn snapshot(&mut self, n: usize) -> Snapshot {
        match self {
            Analyzer::Single(e) => e.snapshot(n),
            Analyzer::Sharded(s) => s.snapshot(n),
        }
    }

    pub fn finish(self, sink: &mut dyn Sink) -> Report {
        match self {
            Analyzer::Single(mut e) => e.finish(sink),
            Analyzer::Sharded(s) => (*s).finish(sink),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use wirescope_testkit::packet::{ArpOp, Ipv4, Ipv6, PacketBuilder, Tcp};

    const A: [u8; 6] = [2, 0, 0, 0, 0, 1];

    fn h(link: LinkType, data: &[u8]) -> u32 {
        shard_hash(&Frame {
            ts: Timestamp(0),
            wire_len: data.len() as u32,
            link,
            iface: 0,
            data,
        })
    }
    const B: [u8; 6] = [2, 0, 0, 0, 0, 2];

    fn v4_tcp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, vlan: Option<u16>) -> Vec<u8> {
        let mut p = PacketBuilder::new();
        p.ethernet(A, B);
        if let Some(v) = vlan {
            p.vlan(v);
        }
        p.ipv4(Ipv4::new(src, dst)).tcp(&Tcp {
            src_port: sp,
            dst_port: dp,
            ..Tcp::default()
        });
        p.finish().to_vec()
    }

    #[test]
    fn hash_is_symmetric_and_ignores_ports_and_vlan_tags() {
        let (x, y) = ([198, 18, 0, 1], [198, 18, 0, 2]);
        let fwd = h(LinkType::ETHERNET, &v4_tcp(x, y, 40000, 80, None));
        let back = h(LinkType::ETHERNET, &v4_tcp(y, x, 80, 40000, None));
        let other_ports = h(LinkType::ETHERNET, &v4_tcp(x, y, 1, 2, None));
        let tagged = h(LinkType::ETHERNET, &v4_tcp(y, x, 80, 40000, Some(7)));
        assert_eq!(fwd, back);
        assert_eq!(fwd, other_ports);
        assert_eq!(fwd, tagged);
        // Raw IP framing of the same packet: the same hash.
        let raw = v4_tcp(x, y, 40000, 80, None);
        assert_eq!(h(LinkType::RAW, &raw[14..]), fwd);
        let v6 = |s: [u8; 16], d: [u8; 16]| {
            let mut p = PacketBuilder::new();
            p.ethernet(A, B).ipv6(Ipv6::new(s, d)).udp(5353, 53);
            h(LinkType::ETHERNET, p.finish())
        };
        let (s6, d6) = (
            [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0xfd; 16],
        );
        assert_eq!(v6(s6, d6), v6(d6, s6));
    }

    #[test]
    fn hash_spreads_address_pairs_over_shards() {
        // 256 hosts talking to one server: every shard of 2, 3 and 4 gets a fair share.
        for n in 2..=4u32 {
            let mut per = vec![0u32; n as usize];
            for i in 0..=255u8 {
                let h = h(
                    LinkType::ETHERNET,
                    &v4_tcp([198, 18, 1, i], [198, 18, 0, 1], 40000, 80, None),
                );
                per[(h % n) as usize] += 1;
            }
            let fair = 256 / n;
            assert!(per.iter().all(|&c| c > fair / 2), "{n} shards: {per:?}");
        }
    }

    #[test]
    fn dhcp_and_non_ip_go_to_shard_zero() {
        let mut p = PacketBuilder::new();
        p.ethernet(A, [0xff; 6])
            .ipv4(Ipv4::new([0, 0, 0, 0], [255, 255, 255, 255]))
            .udp(68, 67)
            .payload(&[1; 240]);
        assert_eq!(h(LinkType::ETHERNET, p.finish()), 0);
        let mut p = PacketBuilder::new();
        p.ethernet(A, [0xff; 6])
            .arp(ArpOp::Request, A, [198, 18, 0, 1], [0; 6], [198, 18, 0, 2]);
        assert_eq!(h(LinkType::ETHERNET, p.finish()), 0);
        assert_eq!(h(LinkType::IEEE802_11, &[0; 64]), 0);
        assert_eq!(h(LinkType::ETHERNET, &[0; 3]), 0);
    }

    /// Records what reaches the sink, in order, as text.
    #[derive(Default)]
    struct Log(Vec<String>);
    impl Sink for Log {
        fn tick(&mut self, ts: Timestamp) {
            self.0.push(format!("tick {}", ts.secs()));
        }
        fn packet(&mut self, ts: Timestamp, _pkt: &wirescope_wire::Packet<'_>) {
            self.0.push(format!("packet {}", ts.0));
        }
        fn flow(&mut self, fl: &Flow) {
            self.0.push(format!(
                "flow {:?} {:?} {}",
                fl.key,
                fl.pkts,
                fl.end_reason.eve()
            ));
        }
    }

    /// Conversations between 40 address pairs over 1 000 s of packet time, some idle long
    /// enough to time out, on `workers` shards (0: a single engine).
    fn run(workers: usize) -> (Vec<String>, Report) {
        let mut b = PacketBuilder::new();
        let mut frames = Vec::new();
        for i in 0..2000i64 {
            let host = (i % 40) as u8;
            let ts = Timestamp(i * 500_000_000 + i64::from(host) * 7);
            let (s, d) = ([198, 18, 1, host], [198, 18, 0, 1]);
            let (src, dst, sp, dp) = if i % 3 == 0 {
                (d, s, 80, 40000 + u16::from(host))
            } else {
                (s, d, 40000 + u16::from(host), 80)
            };
            // Hosts 0..10 go quiet after 100 s: their flows time out (UDP, 300 s) mid-run.
            if host < 10 && i > 200 {
                continue;
            }
            b.ethernet(A, B)
                .ipv4(Ipv4::new(src, dst))
                .udp(sp, dp)
                .payload(&[0; 20]);
            frames.push((ts, b.finish().to_vec()));
        }
        let mut log = Log::default();
        let cfg = EngineConfig::default();
        let report = if workers == 0 {
            let mut e = Engine::new(cfg);
            for (ts, data) in &frames {
                e.process(&frame(*ts, data), &mut log);
            }
            e.finish(&mut log)
        } else {
            let mut s = Sharded::new(cfg, workers).unwrap();
            let mut batch = FrameBatch::new(0, 64, 1 << 16).hashed(true);
            for (ts, data) in &frames {
                if batch.is_full() {
                    let full =
                        std::mem::replace(&mut batch, FrameBatch::new(0, 64, 1 << 16).hashed(true));
                    s.push(full, &mut log, &mut |_| {});
                }
                batch.push(&frame(*ts, data));
            }
            s.push(batch, &mut log, &mut |_| {});
            s.finish(&mut log)
        };
        (log.0, report)
    }

    fn frame(ts: Timestamp, data: &[u8]) -> Frame<'_> {
        Frame {
            ts,
            wire_len: data.len() as u32,
            link: LinkType::ETHERNET,
            iface: 0,
            data,
        }
    }

    #[test]
    fn one_shard_emits_exactly_what_a_single_engine_emits() {
        let (single, r1) = run(0);
        let (sharded, r2) = run(1);
        assert!(single.iter().filter(|l| l.ends_with("timeout")).count() >= 10);
        assert_eq!(single, sharded);
        assert_eq!(
            serde_json::to_string(&r1).unwrap(),
            serde_json::to_string(&r2).unwrap()
        );
    }

    #[test]
    fn more_shards_emit_the_same_records_at_the_same_packets() {
        let (single, r1) = run(0);
        for n in [2, 3, 5] {
            let (sharded, r2) = run(n);
            // The same lines, and every flow ends between the same two packet hooks: only
            // the order among flows ended in the same sweep step may differ.
            let segments = |log: &[String]| -> Vec<Vec<String>> {
                let mut out = vec![Vec::new()];
                for l in log {
                    if l.starts_with("packet") || l.starts_with("tick") {
                        out.push(vec![l.clone()]);
                        out.push(Vec::new());
                    } else if let Some(last) = out.last_mut() {
                        last.push(l.clone());
                    }
                }
                for s in &mut out {
                    s.sort();
                }
                out
            };
            assert_eq!(segments(&single), segments(&sharded), "{n} shards");
            let (mut a, mut b) = (
                serde_json::to_value(&r1).unwrap(),
                serde_json::to_value(&r2).unwrap(),
            );
            // The peak of open flows is summed over shards (an upper bound): not compared.
            a["flows"]["max_active"] = 0.into();
            b["flows"]["max_active"] = 0.into();
            assert_eq!(a, b, "{n} shards");
        }
    }
}
