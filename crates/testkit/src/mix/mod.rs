//! A deterministic generator of realistic mixed traffic, for benchmarks and replay tests.
//!
//! Sessions arrive as a Poisson process in packet time; each is a small state machine that
//! queues its next packets (see `plan`). A priority queue of (next packet time, session)
//! interleaves them, so timestamps never go backwards. The mix by packets, roughly:
//!
//! | kind | share | what |
//! |---|---|---|
//! | TCP | 70% | handshake (RTT 0.2–50 ms), request/response exchanges with delayed ACKs and slow-start windows, ~0.3% of segments lost and retransmitted, ~0.15% reordered, FIN/FIN, RST or left open; HTTP/1.1, TLS 1.3-shaped records or an SSH banner by port (see `app`) |
//! | QUIC-like | 15% | UDP 443: padded Initials, then bulk short-header datagrams with sparse ACKs |
//! | DNS | 6% | UDP 53 query/response pairs (A, AAAA, HTTPS; NXDOMAIN, SERVFAIL, retries) |
//! | ICMP | 3% | echo request/reply series |
//! | ARP | 2.5% | who-has for the gateway or a neighbour, mostly answered |
//! | scans | 2.5% | SYN probes to many (address, port) pairs, some RST or SYN-ACK answers |
//!
//! About 15% of sessions use IPv6, 5% of clients sit on 802.1Q VLANs. Addresses are in
//! 198.18.0.0/15 and fd00::/8. Packet rate in capture time defaults to 300 000 packets/s.
//! The first two seconds of traffic are generated but not emitted, so the capture starts in
//! the middle of things, as real captures do.

mod app;
mod hosts;
mod plan;
mod tcp;

use crate::dns::{self, Rdata};
use crate::packet::{syn_options, tcp_flags, ArpOp, Ipv4, Ipv6, PacketBuilder, Tcp, BROADCAST};
use crate::rng::Rng;
use hosts::Hosts;
use plan::{Dir, Kind, Pkt, Session, State, KINDS};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::{self, Write as _};

pub use plan::Impairments;

/// Version of the generated traffic: bumped whenever the bytes written for a given
/// configuration and seed change, so that cached captures can be told apart.
pub const MIX_VERSION: u32 = 1;

/// Names of the session kinds, in the order of [`MixStats::packets`].
pub const KIND_NAMES: [&str; 6] = ["tcp", "quic", "dns", "icmp", "arp", "scan"];

/// Target share of packets per kind, in the order of [`KIND_NAMES`].
const SHARES: [f64; 6] = [0.72, 0.14, 0.06, 0.03, 0.025, 0.025];

const ARRIVAL: u32 = u32::MAX;
const WARMUP_NS: u64 = 2_000_000_000;

/// What to generate.
#[derive(Clone, Debug)]
pub struct MixConfig {
    /// Packets to emit.
    pub packets: u64,
    pub seed: u64,
    /// Mean packets per second of capture time.
    pub rate_pps: f64,
    /// Timestamp of the first emitted packet's time base, ns since the epoch.
    pub start_ns: u64,
    /// Share of sessions over IPv6 (ARP excluded).
    pub ipv6_share: f64,
}

impl Default for MixConfig {
    fn default() -> Self {
        MixConfig {
            packets: 1_000_000,
            seed: 1,
            rate_pps: 300_000.0,
            start_ns: 1_700_000_000_000_000_000,
            ipv6_share: 0.15,
        }
    }
}

/// What was generated, for the generator's report.
#[derive(Clone, Debug, Default)]
pub struct MixStats {
    /// Packets per kind ([`KIND_NAMES`] order).
    pub packets: [u64; 6],
    /// Sessions started per kind (including the warm-up's).
    pub sessions: [u64; 6],
    pub bytes: u64,
    pub ipv6_packets: u64,
    pub vlan_packets: u64,
    pub first_ns: u64,
    pub last_ns: u64,
    pub impairments: Impairments,
    /// Mean packets per session of each kind, as estimated up front.
    pub mean_session_packets: [f64; 6],
}

impl MixStats {
    pub fn total(&self) -> u64 {
        self.packets.iter().sum()
    }

    /// Packets per second of capture time.
    pub fn rate(&self) -> f64 {
        let span = self.last_ns.saturating_sub(self.first_ns) as f64 / 1e9;
        if span > 0.0 {
            self.total() as f64 / span
        } else {
            0.0
        }
    }
}

impl fmt::Display for MixStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.total().max(1) as f64;
        let span = self.last_ns.saturating_sub(self.first_ns) as f64 / 1e9;
        writeln!(
            f,
            "packets {} bytes {} (mean {:.0} B/packet)",
            self.total(),
            self.bytes,
            self.bytes as f64 / n
        )?;
        writeln!(f, "capture time {span:.3} s, {:.0} packets/s", self.rate())?;
        for (i, name) in KIND_NAMES.iter().enumerate() {
            writeln!(
                f,
                "  {name:5} {:>9} packets ({:5.2}%) {:>8} sessions (~{:.1} packets each)",
                self.packets[i],
                100.0 * self.packets[i] as f64 / n,
                self.sessions[i],
                self.mean_session_packets[i],
            )?;
        }
        writeln!(
            f,
            "ipv6 {:.2}%  vlan {:.2}%",
            100.0 * self.ipv6_packets as f64 / n,
            100.0 * self.vlan_packets as f64 / n
        )?;
        let i = &self.impairments;
        write!(
            f,
            "tcp: {} retransmissions, {} reordered, {} refused",
            i.retransmissions, i.reordered, i.refused
        )
    }
}

/// Streams the mixed capture's frames in timestamp order.
///
/// ```
/// use wirescope_testkit::mix::{MixConfig, MixGenerator};
/// let mut g = MixGenerator::new(MixConfig { packets: 1000, ..MixConfig::default() });
/// let mut last = 0;
/// while let Some((ts, frame)) = g.next_frame() {
///     assert!(ts >= last && frame.len() >= 60);
///     last = ts;
/// }
/// assert_eq!(g.stats().total(), 1000);
/// ```
pub struct MixGenerator {
    cfg: MixConfig,
    rng: Rng,
    hosts: Hosts,
    sessions: Vec<Session>,
    free: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    weights: [f64; 6],
    arrival_mean_ns: f64,
    builder: PacketBuilder,
    filler: Vec<u8>,
    name: String,
    emitted: u64,
    stats: MixStats,
}

impl MixGenerator {
    pub fn new(cfg: MixConfig) -> Self {
        let mut rng = Rng::new(cfg.seed);
        let hosts = Hosts::new();
        let means = estimate_means(&mut Rng::new(cfg.seed ^ 0x5eed), &hosts, cfg.ipv6_share);
        let mut weights = [0.0; 6];
        for i in 0..6 {
            weights[i] = SHARES[i] / means[i];
        }
        // Packets per session over the whole mix, then the session arrival rate.
        let per_session = SHARES.iter().sum::<f64>() / weights.iter().sum::<f64>();
        let arrival_mean_ns = 1e9 * per_session / cfg.rate_pps.max(1.0);
        let mut filler = vec![0u8; 1 << 16];
        for chunk in filler.chunks_mut(8) {
            let r = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        let mut heap = BinaryHeap::with_capacity(1 << 16);
        heap.push(Reverse((cfg.start_ns.saturating_sub(WARMUP_NS), ARRIVAL)));
        let stats = MixStats {
            mean_session_packets: means,
            ..MixStats::default()
        };
        MixGenerator {
            cfg,
            rng,
            hosts,
            sessions: Vec::with_capacity(1 << 14),
            free: Vec::with_capacity(1 << 14),
            heap,
            weights,
            arrival_mean_ns,
            builder: PacketBuilder::new(),
            filler,
            name: String::with_capacity(256),
            emitted: 0,
            stats,
        }
    }

    pub fn stats(&self) -> &MixStats {
        &self.stats
    }

    fn spawn(&mut self, t: u64) {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.sessions.push(Session::empty());
                (self.sessions.len() - 1) as u32
            }
        };
        let kind = KINDS[self.rng.weighted(&self.weights)];
        let s = &mut self.sessions[slot as usize];
        s.start(kind, &mut self.rng, &self.hosts, self.cfg.ipv6_share);
        self.stats.sessions[kind as usize] += 1;
        let mut imp = Impairments::default();
        let planned = s.plan(&mut self.rng, &self.hosts, &mut imp);
        self.stats.impairments.add(&imp);
        if planned {
            if let Some(first) = s.queue.front() {
                self.heap.push(Reverse((t + first.gap, slot)));
            }
        } else {
            self.free.push(slot);
        }
        let gap = self.rng.exp(self.arrival_mean_ns) as u64;
        self.heap.push(Reverse((t + gap.max(1), ARRIVAL)));
    }

    /// The next frame and its timestamp (ns), or `None` after the configured count. The
    /// frame borrows the generator's buffer until the next call.
    pub fn next_frame(&mut self) -> Option<(u64, &[u8])> {
        loop {
            if self.emitted >= self.cfg.packets {
                return None;
            }
            let Reverse((t, slot)) = self.heap.pop()?;
            if slot == ARRIVAL {
                self.spawn(t);
                continue;
            }
            let s = &mut self.sessions[slot as usize];
            let Some(step) = s.queue.pop_front() else {
                self.free.push(slot);
                continue;
            };
            let emit = t >= self.cfg.start_ns;
            if emit {
                build(&mut self.builder, s, step.pkt, &self.filler, &mut self.name);
            }
            s.seq += 1;
            let kind = s.kind as usize;
            let (v6, vlan) = (s.ep.v6 && s.kind != Kind::Arp, s.ep.vlan.is_some());
            let mut imp = Impairments::default();
            let more = !s.queue.is_empty() || s.plan(&mut self.rng, &self.hosts, &mut imp);
            match s.queue.front() {
                Some(next) if more => self.heap.push(Reverse((t + next.gap, slot))),
                _ => self.free.push(slot),
            }
            if !emit {
                continue;
            }
            let st = &mut self.stats;
            st.impairments.add(&imp);
            if self.emitted == 0 {
                st.first_ns = t;
            }
            st.last_ns = t;
            st.packets[kind] += 1;
            st.ipv6_packets += u64::from(v6);
            st.vlan_packets += u64::from(vlan);
            self.emitted += 1;
            let frame = self.builder.frame();
            st.bytes += frame.len() as u64;
            return Some((t, frame));
        }
    }
}

/// Mean packets per session of each kind, by simulating a few thousand sessions' plans.
fn estimate_means(rng: &mut Rng, hosts: &Hosts, v6: f64) -> [f64; 6] {
    const SAMPLES: [u32; 6] = [4_000, 300, 2_000, 1_000, 1_000, 200];
    let mut means = [1.0; 6];
    let mut s = Session::empty();
    let mut imp = Impairments::default();
    for (k, kind) in KINDS.iter().enumerate() {
        let mut total = 0u64;
        for _ in 0..SAMPLES[k] {
            s.start(*kind, rng, hosts, v6);
            while s.plan(rng, hosts, &mut imp) {
                total += s.queue.len() as u64;
                s.queue.clear();
                s.seq += 1;
            }
        }
        means[k] = (total as f64 / f64::from(SAMPLES[k])).max(1.0);
    }
    means
}

const DOMAINS: [&str; 12] = [
    "example.test",
    "cdn.example.test",
    "api.service.test",
    "mail.corp.test",
    "video.stream.test",
    "static.assets.test",
    "telemetry.vendor.test",
    "updates.os.test",
    "ads.tracker.test",
    "login.idp.test",
    "chat.app.test",
    "files.share.test",
];
const PREFIXES: [&str; 8] = ["www", "api", "img", "edge", "m", "eu", "us", "s3"];

/// Writes one packet of session `s` into `b`.
fn build(b: &mut PacketBuilder, s: &mut Session, pkt: Pkt, filler: &[u8], name: &mut String) {
    let ep = &mut s.ep;
    if let Pkt::Arp { reply } = pkt {
        let (c, t) = (ep.client, ep.server);
        if reply {
            b.ethernet(t.mac, c.mac);
            if let Some(v) = ep.vlan {
                b.vlan(v);
            }
            b.arp(ArpOp::Reply, t.mac, t.v4, c.mac, c.v4);
        } else {
            b.ethernet(c.mac, BROADCAST);
            if let Some(v) = ep.vlan {
                b.vlan(v);
            }
            b.arp(ArpOp::Request, c.mac, c.v4, [0; 6], t.v4);
        }
        b.finish();
        return;
    }
    let dir = match pkt {
        Pkt::Tcp { dir, .. } | Pkt::Dns { dir, .. } | Pkt::Quic { dir, .. } => dir,
        Pkt::Icmp { request, .. } => {
            if request {
                Dir::Up
            } else {
                Dir::Down
            }
        }
        Pkt::Arp { .. } => Dir::Up,
    };
    let up = dir == Dir::Up;
    let (src, dst) = if up {
        (ep.client, ep.server)
    } else {
        (ep.server, ep.client)
    };
    let (sport, dport) = if up {
        (ep.cport, ep.sport)
    } else {
        (ep.sport, ep.cport)
    };
    let side = usize::from(!up);
    b.ethernet(src.mac, dst.mac);
    if let Some(v) = ep.vlan {
        b.vlan(v);
    }
    if ep.v6 {
        b.ipv6(Ipv6 {
            src: src.v6,
            dst: dst.v6,
            hop_limit: src.ttl,
            traffic_class: 0,
            flow_label: ep.flow_label,
        });
    } else {
        let df = !matches!(pkt, Pkt::Dns { .. } | Pkt::Icmp { .. });
        b.ipv4(Ipv4 {
            src: src.v4,
            dst: dst.v4,
            ttl: src.ttl,
            ident: ep.ip_id[side],
            df,
            tos: 0,
        });
        ep.ip_id[side] = ep.ip_id[side].wrapping_add(1);
    }
    match pkt {
        Pkt::Tcp {
            flags,
            seq,
            ack,
            len,
            msg,
            ..
        } => {
            let (window, mss) = match &s.state {
                State::Tcp(c) => (c.window[side], c.mss),
                _ => (1024, 1460),
            };
            let h = Tcp {
                src_port: sport,
                dst_port: dport,
                seq,
                ack,
                flags,
                window,
            };
            if flags & tcp_flags::SYN != 0 {
                b.tcp_with_options(&h, &syn_options(mss));
            } else {
                b.tcp(&h);
            }
            if len > 0 {
                // The server's name, for SNI and Host: fixed per server address.
                let i = usize::from(u16::from_be_bytes([ep.server.v4[2], ep.server.v4[3]]));
                name.clear();
                let _ = write!(
                    name,
                    "{}.{}",
                    PREFIXES[i % PREFIXES.len()],
                    DOMAINS[i / 8 % DOMAINS.len()]
                );
                app::tcp_payload(
                    b.bytes_mut(),
                    ep.sport,
                    up,
                    &msg,
                    usize::from(len),
                    filler,
                    name,
                );
            }
        }
        Pkt::Dns {
            id,
            qtype,
            rcode,
            answers,
            ..
        } => {
            b.udp(sport, dport);
            let base = match s.state {
                State::Dns { id, .. } => id,
                _ => id,
            };
            name.clear();
            if base % 5 == 0 {
                let _ = write!(name, "{:08x}.", u32::from(base).wrapping_mul(0x9e37_79b9));
            }
            let _ = write!(
                name,
                "{}.{}",
                PREFIXES[usize::from(base) % PREFIXES.len()],
                DOMAINS[usize::from(base / 8) % DOMAINS.len()]
            );
            let out = b.bytes_mut();
            if up {
                dns::query(out, id, name, qtype);
            } else {
                let mut rd = [Rdata::A([0; 4]); 4];
                let n = if qtype == dns::qtype::HTTPS {
                    0
                } else {
                    usize::from(answers).min(4)
                };
                for (i, r) in rd.iter_mut().enumerate().take(n) {
                    let h = (u32::from(base) << 2 | i as u32).wrapping_mul(0x85eb_ca6b);
                    *r = if qtype == dns::qtype::AAAA {
                        let mut a = [0u8; 16];
                        a[0] = 0xfd;
                        a[7] = 2;
                        a[12..].copy_from_slice(&h.to_be_bytes());
                        Rdata::Aaaa(a)
                    } else {
                        Rdata::A([198, 19, (h >> 24) as u8, (h >> 16) as u8])
                    };
                }
                dns::response(out, id, name, qtype, rcode, 300, &rd[..n]);
            }
        }
        Pkt::Quic { len, long, .. } => {
            b.udp(sport, dport);
            let (cid, seq) = match s.state {
                State::Quic(q) => (if up { q.cid } else { !q.cid }, s.seq),
                _ => (0, s.seq),
            };
            let out = b.bytes_mut();
            let start = out.len();
            if long {
                // RFC 9000 §17.2: long header, version 1, 8-byte connection IDs.
                out.push(0xc3);
                out.extend_from_slice(&[0, 0, 0, 1, 8]);
                out.extend_from_slice(&cid.to_be_bytes());
                out.push(8);
                out.extend_from_slice(&(!cid).to_be_bytes());
            } else {
                out.push(0x40 | (seq as u8 & 0x3f));
                out.extend_from_slice(&cid.to_be_bytes());
            }
            let want = usize::from(len).max(out.len() - start);
            let have = out.len() - start;
            let off = (seq as usize * 1_351) % (filler.len() - 2048);
            out.extend_from_slice(&filler[off..off + want - have]);
        }
        Pkt::Icmp { request, seq } => {
            b.icmp_echo(request, ep.cport, seq);
            // Like ping(8): 56 data bytes, an 8-byte timestamp then 0x10, 0x11, ...
            let out = b.bytes_mut();
            out.extend_from_slice(&filler[..8]);
            out.extend((0x10u8..0x40).take(48));
        }
        Pkt::Arp { .. } => {}
    }
    b.finish();
}
