//! Sessions and their packet plans: each session queues its next few packets (with the gap
//! before each) and is asked for more when the queue runs dry.
//!
//! The capture point is near the clients: a server's answer arrives one round trip after the
//! client's packet that triggered it, a client's answer a few microseconds after the server's.

use super::hosts::{Hosts, Side};
pub(crate) use super::tcp::TcpConn;
use crate::packet::tcp_flags::{ACK, RST, SYN};
use crate::rng::Rng;
use std::collections::VecDeque;

pub(crate) const US: u64 = 1_000;
pub(crate) const MS: u64 = 1_000_000;
pub(crate) const SEC: u64 = 1_000_000_000;

/// Which way a packet goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Client to server (originator to responder).
    Up,
    /// Server to client.
    Down,
}

/// What to put on the wire; the session's endpoints supply addresses and ports.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pkt {
    Tcp {
        dir: Dir,
        flags: u8,
        seq: u32,
        ack: u32,
        len: u16,
        msg: Msg,
    },
    Dns {
        dir: Dir,
        id: u16,
        qtype: u16,
        rcode: u8,
        answers: u8,
    },
    Quic {
        dir: Dir,
        len: u16,
        long: bool,
    },
    Icmp {
        request: bool,
        seq: u16,
    },
    Arp {
        reply: bool,
    },
}

/// Where a TCP segment's payload sits in its application message (request or response).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Msg {
    /// Exchange number within the connection, 0 for the first.
    pub no: u8,
    /// Offset of the segment's first byte in the message.
    pub off: u32,
    /// Length of the whole message.
    pub len: u32,
}

/// A planned packet: sent `gap` nanoseconds after the session's previous one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    pub gap: u64,
    pub pkt: Pkt,
}

/// Session kinds, in the order of [`super::KIND_NAMES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Tcp = 0,
    Quic = 1,
    Dns = 2,
    Icmp = 3,
    Arp = 4,
    Scan = 5,
}

pub(crate) const KINDS: [Kind; 6] = [
    Kind::Tcp,
    Kind::Quic,
    Kind::Dns,
    Kind::Icmp,
    Kind::Arp,
    Kind::Scan,
];

/// Addresses, ports and per-direction IP state of a session.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Endpoints {
    pub v6: bool,
    pub vlan: Option<u16>,
    pub client: Side,
    pub server: Side,
    pub cport: u16,
    pub sport: u16,
    /// IPv4 identification counters, client and server.
    pub ip_id: [u16; 2],
    pub flow_label: u32,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase {
    Open,
    Request,
    Response,
    Close,
    Done,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct QuicConn {
    pub rtt: u64,
    pub cid: u64,
    phase: Phase,
    left: u32,
    cwnd: u16,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum State {
    Tcp(TcpConn),
    Quic(QuicConn),
    Dns {
        queries: u8,
        id: u16,
        qtype: u16,
    },
    Icmp {
        left: u16,
        seq: u16,
        interval: u64,
        rtt: u64,
    },
    Arp {
        done: bool,
    },
    Scan {
        left: u16,
        port: u16,
    },
}

/// Counters of deliberate TCP misbehaviour, for the generator's summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Impairments {
    pub retransmissions: u64,
    pub reordered: u64,
    pub refused: u64,
}

impl Impairments {
    pub fn add(&mut self, other: &Impairments) {
        self.retransmissions += other.retransmissions;
        self.reordered += other.reordered;
        self.refused += other.refused;
    }
}

/// One session: its kind, endpoints, state and queued packets.
#[derive(Debug)]
pub(crate) struct Session {
    pub kind: Kind,
    pub ep: Endpoints,
    pub state: State,
    pub queue: VecDeque<Step>,
    /// Packets emitted so far (for the DNS name salt and the stats).
    pub seq: u32,
}

impl Session {
    pub fn empty() -> Self {
        Session {
            kind: Kind::Arp,
            ep: Endpoints::default(),
            state: State::Arp { done: true },
            queue: VecDeque::with_capacity(256),
            seq: 0,
        }
    }

    /// Re-initialises this slot as a new session of `kind`, reusing the queue's allocation.
    pub fn start(&mut self, kind: Kind, rng: &mut Rng, hosts: &Hosts, v6_share: f64) {
        self.kind = kind;
        self.queue.clear();
        self.seq = 0;
        let client = hosts.client(rng);
        let v6 = kind != Kind::Arp && rng.chance(v6_share);
        let vlan = client.vlan;
        let (server, sport) = match kind {
            Kind::Tcp => hosts.tcp_server(rng),
            Kind::Quic => (hosts.server(rng), 443),
            Kind::Dns => (hosts.resolver(rng), 53),
            Kind::Icmp => (hosts.server(rng), 0),
            Kind::Arp => (hosts.arp_target(rng, &client), 0),
            Kind::Scan => (hosts.server(rng), 0),
        };
        let client = if kind == Kind::Scan {
            hosts.scanner(rng)
        } else {
            client.side
        };
        self.ep = Endpoints {
            v6,
            vlan,
            client,
            server,
            cport: rng.range(32_768, 61_000) as u16,
            sport,
            ip_id: [rng.next_u32() as u16, rng.next_u32() as u16],
            flow_label: rng.next_u32() & 0xf_ffff,
        };
        self.state = match kind {
            Kind::Tcp => State::Tcp(TcpConn::new(rng, v6)),
            Kind::Quic => State::Quic(QuicConn {
                rtt: rtt(rng),
                cid: rng.next_u64(),
                phase: Phase::Open,
                left: rng.log_uniform(30e3, 4e6) as u32,
                cwnd: 10,
            }),
            Kind::Dns => State::Dns {
                queries: if rng.chance(0.3) { 2 } else { 1 },
                id: rng.next_u32() as u16,
                qtype: if rng.chance(0.1) {
                    crate::dns::qtype::HTTPS
                } else {
                    crate::dns::qtype::A
                },
            },
            Kind::Icmp => State::Icmp {
                left: rng.range(1, 7) as u16,
                seq: 1,
                interval: rng.range(100, 1001) * MS,
                rtt: rtt(rng),
            },
            Kind::Arp => State::Arp { done: false },
            Kind::Scan => State::Scan {
                left: rng.range(20, 300) as u16,
                port: rng.range(1, 1024) as u16,
            },
        };
    }

    fn push(&mut self, gap: u64, pkt: Pkt) {
        self.queue.push_back(Step { gap, pkt });
    }

    /// Queues the session's next packets; false when it has nothing more to send.
    pub fn plan(&mut self, rng: &mut Rng, hosts: &Hosts, imp: &mut Impairments) -> bool {
        match self.state {
            State::Tcp(mut c) => {
                let more = c.plan(rng, &mut self.queue, imp);
                self.state = State::Tcp(c);
                more
            }
            State::Quic(mut q) => {
                let more = q.plan(rng, &mut self.queue);
                self.state = State::Quic(q);
                more
            }
            State::Dns { queries, id, qtype } => {
                if queries == 0 {
                    return false;
                }
                self.plan_dns(rng, queries, id, qtype);
                self.state = State::Dns {
                    queries: 0,
                    id,
                    qtype,
                };
                true
            }
            State::Icmp {
                left,
                seq,
                interval,
                rtt,
            } => {
                if left == 0 {
                    return false;
                }
                let gap = if seq == 1 { 0 } else { interval };
                self.push(gap, Pkt::Icmp { request: true, seq });
                if rng.chance(0.95) {
                    self.push(
                        jitter(rng, rtt),
                        Pkt::Icmp {
                            request: false,
                            seq,
                        },
                    );
                }
                self.state = State::Icmp {
                    left: left - 1,
                    seq: seq.wrapping_add(1),
                    interval,
                    rtt,
                };
                true
            }
            State::Arp { done } => {
                if done {
                    return false;
                }
                self.push(0, Pkt::Arp { reply: false });
                if rng.chance(0.9) {
                    self.push(rng.range(30 * US, MS), Pkt::Arp { reply: true });
                }
                self.state = State::Arp { done: true };
                true
            }
            State::Scan { left, port } => {
                if left == 0 {
                    return false;
                }
                // Every probe goes to a new (address, port): one flow each, like nmap -sS.
                self.ep.server = hosts.scan_target(rng);
                self.ep.sport = port;
                let gap = if self.seq == 0 {
                    0
                } else {
                    rng.range(20 * US, 2 * MS)
                };
                let isn = rng.next_u32();
                let syn = Pkt::Tcp {
                    dir: Dir::Up,
                    flags: SYN,
                    seq: isn,
                    ack: 0,
                    len: 0,
                    msg: Msg::default(),
                };
                self.push(gap, syn);
                let r = rng.unit();
                let rtt = rng.range(200 * US, 5 * MS);
                let down = |flags, seq| Pkt::Tcp {
                    dir: Dir::Down,
                    flags,
                    seq,
                    ack: isn.wrapping_add(1),
                    len: 0,
                    msg: Msg::default(),
                };
                if r < 0.25 {
                    self.push(rtt, down(RST | ACK, 0));
                } else if r < 0.30 {
                    let s_isn = rng.next_u32();
                    self.push(rtt, down(SYN | ACK, s_isn));
                    let rst = Pkt::Tcp {
                        dir: Dir::Up,
                        flags: RST,
                        seq: isn.wrapping_add(1),
                        ack: 0,
                        len: 0,
                        msg: Msg::default(),
                    };
                    self.push(rng.range(10 * US, 100 * US), rst);
                }
                let next = if rng.chance(0.7) {
                    port.wrapping_add(1).max(1)
                } else {
                    super::hosts::COMMON_PORTS
                        [rng.below(super::hosts::COMMON_PORTS.len() as u64) as usize]
                };
                self.state = State::Scan {
                    left: left - 1,
                    port: next,
                };
                true
            }
        }
    }

    fn plan_dns(&mut self, rng: &mut Rng, queries: u8, id: u16, qtype: u16) {
        // Cached answers come back in about a millisecond, recursive ones take tens.
        let rtt = if rng.chance(0.5) {
            rng.range(200 * US, 2 * MS)
        } else {
            rng.log_uniform(2e6, 80e6) as u64
        };
        let rcode = match rng.unit() {
            x if x < 0.05 => crate::dns::rcode::NXDOMAIN,
            x if x < 0.055 => crate::dns::rcode::SERVFAIL,
            _ => crate::dns::rcode::NOERROR,
        };
        let answers = if rcode == 0 { rng.range(1, 5) as u8 } else { 0 };
        let q = |i: u16, t| Pkt::Dns {
            dir: Dir::Up,
            id: id.wrapping_add(i),
            qtype: t,
            rcode: 0,
            answers: 0,
        };
        let r = |i: u16, t| Pkt::Dns {
            dir: Dir::Down,
            id: id.wrapping_add(i),
            qtype: t,
            rcode,
            answers,
        };
        let second = crate::dns::qtype::AAAA;
        if rng.chance(0.02) {
            // Lost answer: the stub retries after its 1 s timeout.
            self.push(0, q(0, qtype));
            self.push(SEC, q(0, qtype));
            self.push(rtt, r(0, qtype));
            return;
        }
        self.push(0, q(0, qtype));
        if queries > 1 {
            self.push(rng.range(10 * US, 200 * US), q(1, second));
            self.push(rtt, r(0, qtype));
            self.push(rng.range(5 * US, 500 * US), r(1, second));
        } else {
            self.push(rtt, r(0, qtype));
        }
    }
}

/// A round-trip time, log-uniform in 0.2–50 ms.
pub(crate) fn rtt(rng: &mut Rng) -> u64 {
    rng.log_uniform(0.2e6, 50e6) as u64
}

/// `base` ± ~10%.
pub(crate) fn jitter(rng: &mut Rng, base: u64) -> u64 {
    base - base / 10 + rng.below(base / 5 + 1)
}

/// Time to serialise `len` bytes at about 1 Gb/s, with some spread.
pub(crate) fn wire_gap(rng: &mut Rng, len: u16) -> u64 {
    (u64::from(len) + 78) * 8 + rng.below(4 * US)
}

impl QuicConn {
    fn plan(&mut self, rng: &mut Rng, q: &mut VecDeque<Step>) -> bool {
        let up = |len, long| Pkt::Quic {
            dir: Dir::Up,
            len,
            long,
        };
        let down = |len, long| Pkt::Quic {
            dir: Dir::Down,
            len,
            long,
        };
        let push = |q: &mut VecDeque<Step>, gap, pkt| q.push_back(Step { gap, pkt });
        match self.phase {
            Phase::Open => {
                // RFC 9000 §14.1: Initial datagrams are padded to at least 1200 bytes.
                push(q, 0, up(1252, true));
                push(q, jitter(rng, self.rtt), down(1252, true));
                push(q, rng.range(10 * US, 30 * US), down(1252, true));
                push(
                    q,
                    rng.range(10 * US, 30 * US),
                    down(rng.range(300, 1252) as u16, true),
                );
                push(
                    q,
                    rng.range(50 * US, 300 * US),
                    up(rng.range(80, 300) as u16, true),
                );
                self.phase = Phase::Response;
            }
            Phase::Response => {
                let n = (self.left / 1200).clamp(1, u32::from(self.cwnd));
                let every = rng.range(2, 10) as u32;
                let mut gap = jitter(rng, self.rtt);
                for i in 0..n {
                    let len = rng.range(1200, 1351) as u16;
                    push(q, gap, down(len, false));
                    gap = wire_gap(rng, len);
                    if (i + 1) % every == 0 || i + 1 == n {
                        push(
                            q,
                            rng.range(5 * US, 40 * US),
                            up(rng.range(35, 60) as u16, false),
                        );
                        gap = rng.range(2 * US, 20 * US);
                    }
                }
                self.left = self.left.saturating_sub(n * 1200);
                self.cwnd = (self.cwnd * 2).min(64);
                if self.left == 0 {
                    self.phase = Phase::Close;
                }
            }
            Phase::Close => {
                self.phase = Phase::Done;
                if rng.chance(0.7) {
                    // CONNECTION_CLOSE; otherwise the connection just idles out.
                    push(
                        q,
                        rng.log_uniform(1e6, 2e9) as u64,
                        up(rng.range(40, 60) as u16, false),
                    );
                } else {
                    return false;
                }
            }
            Phase::Request | Phase::Done => return false,
        }
        true
    }
}
