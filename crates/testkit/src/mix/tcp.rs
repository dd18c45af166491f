//! The simulated TCP connection: handshake, request/response exchanges in slow-start windows
//! with delayed ACKs, one loss or reordering per window at most, and the close.

use super::plan::{jitter, rtt, wire_gap, Dir, Impairments, Msg, Phase, Pkt, Step, MS, SEC, US};
use crate::packet::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use crate::rng::Rng;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug)]
enum Close {
    Fin { client_first: bool },
    Rst { by_client: bool },
    Abandon,
}

/// State of one simulated TCP connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpConn {
    pub rtt: u64,
    pub mss: u16,
    pub isn: [u32; 2],
    /// Next sequence number each side sends (client, server).
    next: [u32; 2],
    pub window: [u16; 2],
    phase: Phase,
    exchanges: u8,
    left: u32,
    cwnd: [u16; 2],
    close: Close,
    gap: u64,
    msg_no: u8,
    msg_seq: u32,
    msg_len: u32,
}

impl TcpConn {
    pub(crate) fn new(rng: &mut Rng, v6: bool) -> Self {
        let close = match rng.unit() {
            x if x < 0.85 => Close::Fin {
                client_first: rng.chance(0.6),
            },
            x if x < 0.95 => Close::Rst {
                by_client: rng.chance(0.5),
            },
            _ => Close::Abandon,
        };
        TcpConn {
            rtt: rtt(rng),
            mss: if v6 { 1440 } else { 1460 },
            isn: [rng.next_u32(), rng.next_u32()],
            next: [0, 0],
            window: [502, rng.range(235, 2048) as u16],
            phase: Phase::Open,
            exchanges: if rng.chance(0.6) {
                1
            } else {
                rng.range(2, 5) as u8
            },
            left: 0,
            cwnd: [10, 10],
            close,
            gap: 0,
            msg_no: 0,
            msg_seq: 0,
            msg_len: 0,
        }
    }

    fn pkt(&self, dir: Dir, flags: u8, len: u16) -> Pkt {
        let (me, peer) = if dir == Dir::Up { (0, 1) } else { (1, 0) };
        Pkt::Tcp {
            dir,
            flags,
            seq: self.next[me],
            ack: if flags == SYN { 0 } else { self.next[peer] },
            len,
            msg: Msg::default(),
        }
    }

    fn request_size(rng: &mut Rng) -> u32 {
        if rng.chance(0.9) {
            rng.log_uniform(120.0, 1500.0) as u32
        } else {
            rng.log_uniform(10e3, 2e6) as u32
        }
    }

    fn response_size(rng: &mut Rng) -> u32 {
        match rng.unit() {
            x if x < 0.80 => rng.log_uniform(100.0, 20e3) as u32,
            x if x < 0.98 => rng.log_uniform(20e3, 300e3) as u32,
            _ => rng.log_uniform(500e3, 3e6) as u32,
        }
    }

    pub(crate) fn plan(
        &mut self,
        rng: &mut Rng,
        q: &mut VecDeque<Step>,
        imp: &mut Impairments,
    ) -> bool {
        let push = |q: &mut VecDeque<Step>, gap, pkt| q.push_back(Step { gap, pkt });
        match self.phase {
            Phase::Open => {
                self.next = self.isn;
                push(q, 0, self.pkt(Dir::Up, SYN, 0));
                if rng.chance(0.02) {
                    // Closed port: RST-ACK, as a host without a listener answers.
                    imp.refused += 1;
                    self.next[0] = self.next[0].wrapping_add(1);
                    push(q, jitter(rng, self.rtt), self.pkt(Dir::Down, RST | ACK, 0));
                    self.phase = Phase::Done;
                    return true;
                }
                if rng.chance(0.01) {
                    // The first SYN went unanswered: retransmitted after the 1 s initial RTO.
                    imp.retransmissions += 1;
                    push(q, SEC, self.pkt(Dir::Up, SYN, 0));
                }
                self.next[0] = self.next[0].wrapping_add(1);
                push(q, jitter(rng, self.rtt), self.pkt(Dir::Down, SYN | ACK, 0));
                self.next[1] = self.next[1].wrapping_add(1);
                push(q, rng.range(20 * US, 150 * US), self.pkt(Dir::Up, ACK, 0));
                self.phase = Phase::Request;
                self.message(0, Self::request_size(rng));
                self.gap = rng.range(50 * US, 3 * MS);
            }
            Phase::Request => {
                self.burst(rng, q, imp, Dir::Up);
                if self.left == 0 {
                    self.phase = Phase::Response;
                    self.message(1, Self::response_size(rng));
                    self.gap = rng.log_uniform(0.1e6, 30e6) as u64;
                }
            }
            Phase::Response => {
                self.burst(rng, q, imp, Dir::Down);
                if self.left == 0 {
                    self.exchanges = self.exchanges.saturating_sub(1);
                    if self.exchanges > 0 {
                        self.phase = Phase::Request;
                        self.msg_no = self.msg_no.saturating_add(1);
                        self.message(0, Self::request_size(rng));
                        self.gap = rng.log_uniform(1e6, 500e6) as u64;
                    } else {
                        self.phase = Phase::Close;
                        self.gap = rng.log_uniform(0.2e6, 3e9) as u64;
                    }
                }
            }
            Phase::Close => {
                self.phase = Phase::Done;
                match self.close {
                    Close::Fin { client_first } => {
                        let (a, b) = if client_first {
                            (Dir::Up, Dir::Down)
                        } else {
                            (Dir::Down, Dir::Up)
                        };
                        // The server's packets reach the capture point a round trip after the
                        // client's; the client answers the server at once.
                        let rtt = self.rtt;
                        let far = |rng: &mut Rng, d| {
                            if d == Dir::Down {
                                jitter(rng, rtt)
                            } else {
                                rng.range(20 * US, 200 * US)
                            }
                        };
                        push(q, self.gap, self.pkt(a, FIN | ACK, 0));
                        self.bump(a, 1);
                        let g = far(rng, b);
                        push(q, g, self.pkt(b, FIN | ACK, 0));
                        self.bump(b, 1);
                        let g = far(rng, a);
                        push(q, g, self.pkt(a, ACK, 0));
                    }
                    Close::Rst { by_client } => {
                        let d = if by_client { Dir::Up } else { Dir::Down };
                        push(q, self.gap, self.pkt(d, RST | ACK, 0));
                    }
                    Close::Abandon => return false,
                }
            }
            Phase::Done => return false,
        }
        true
    }

    /// Starts a message of `len` bytes from side `sender` (0 client, 1 server).
    fn message(&mut self, sender: usize, len: u32) {
        self.left = len;
        self.msg_len = len;
        self.msg_seq = self.next[sender];
    }

    fn bump(&mut self, dir: Dir, n: u32) {
        let i = if dir == Dir::Up { 0 } else { 1 };
        self.next[i] = self.next[i].wrapping_add(n);
    }

    /// One window of data from `dir`'s sender with the receiver's ACKs: delayed ACKs every
    /// second segment (RFC 1122 §4.2.3.2), an immediate duplicate ACK for each out-of-order
    /// segment (RFC 5681 §4.2), at most one lost-then-retransmitted or one reordered
    /// segment per window.
    fn burst(&mut self, rng: &mut Rng, q: &mut VecDeque<Step>, imp: &mut Impairments, dir: Dir) {
        const MAX: usize = 64;
        let (s, r) = if dir == Dir::Up { (0, 1) } else { (1, 0) };
        let mss = u32::from(self.mss);
        let n = (self.left.div_ceil(mss) as usize).clamp(1, usize::from(self.cwnd[s]).min(MAX));
        let mut segs = [(0u32, 0u16); MAX];
        let mut seq = self.next[s];
        for seg in segs.iter_mut().take(n) {
            let len = self.left.min(mss);
            *seg = (seq, len as u16);
            seq = seq.wrapping_add(len);
            self.left -= len;
        }
        let mut order = [0u8; MAX];
        for (i, o) in order.iter_mut().enumerate().take(n) {
            *o = i as u8;
        }
        let mut lost = None;
        let x = rng.unit();
        if x < 0.003 * n as f64 {
            lost = Some(rng.below(n as u64) as usize);
            imp.retransmissions += 1;
        } else if n >= 2 && x < 0.0045 * n as f64 {
            let i = rng.below(n as u64 - 1) as usize;
            order.swap(i, i + 1);
            imp.reordered += 1;
        }
        let near = dir == Dir::Down; // the receiver is the client, next to the capture point
        let ack_of = |this: &Self, ack: u32| Pkt::Tcp {
            dir: if dir == Dir::Up { Dir::Down } else { Dir::Up },
            flags: ACK,
            seq: this.next[r],
            ack,
            len: 0,
            msg: Msg::default(),
        };
        let data = |this: &Self, (seq, len): (u32, u16), psh: bool| Pkt::Tcp {
            dir,
            flags: if psh { ACK | PSH } else { ACK },
            seq,
            ack: this.next[r],
            len,
            msg: Msg {
                no: this.msg_no,
                off: seq.wrapping_sub(this.msg_seq),
                len: this.msg_len,
            },
        };
        // Receiver: next in-order byte and at most one held out-of-order range.
        let mut contig = segs[0].0;
        let mut held: Option<(u32, u32)> = None;
        let mut far_acks = [0u32; MAX + 1];
        let mut n_far = 0;
        let mut in_order = 0;
        let mut gap = self.gap;
        for (k, &i) in order.iter().take(n).enumerate() {
            let i = usize::from(i);
            let seg = segs[i];
            q.push_back(Step {
                gap,
                pkt: data(self, seg, k + 1 == n),
            });
            gap = wire_gap(rng, seg.1);
            if lost == Some(i) {
                continue;
            }
            let end = seg.0.wrapping_add(u32::from(seg.1));
            let immediate = if seg.0 == contig {
                contig = end;
                if let Some((hs, he)) = held {
                    if hs == contig {
                        contig = he;
                        held = None;
                    }
                }
                in_order += 1;
                in_order % 2 == 0 || k + 1 == n
            } else {
                held = Some(match held {
                    Some((hs, he)) if he == seg.0 => (hs, end),
                    _ => (seg.0, end),
                });
                true
            };
            if immediate {
                if near {
                    q.push_back(Step {
                        gap: rng.range(5 * US, 40 * US),
                        pkt: ack_of(self, contig),
                    });
                    gap = rng.range(2 * US, 20 * US);
                } else {
                    far_acks[n_far] = contig;
                    n_far += 1;
                }
            }
        }
        // ACKs from a far receiver arrive a round trip after the data.
        for (j, &a) in far_acks.iter().take(n_far).enumerate() {
            let g = if j == 0 {
                jitter(rng, self.rtt)
            } else {
                rng.range(5 * US, 30 * US)
            };
            q.push_back(Step {
                gap: g,
                pkt: ack_of(self, a),
            });
        }
        if let Some(i) = lost {
            // Fast retransmit after the duplicate ACKs (RFC 5681 §3.2).
            let g = if near {
                jitter(rng, self.rtt)
            } else {
                rng.range(10 * US, 50 * US)
            };
            let seg = segs[i];
            q.push_back(Step {
                gap: g,
                pkt: data(self, seg, false),
            });
            let end = seg.0.wrapping_add(u32::from(seg.1));
            contig = match held {
                Some((hs, he)) if hs == end => he,
                _ => end,
            };
            let g = if near {
                rng.range(5 * US, 40 * US)
            } else {
                jitter(rng, self.rtt)
            };
            q.push_back(Step {
                gap: g,
                pkt: ack_of(self, contig),
            });
            self.cwnd[s] = (self.cwnd[s] / 2).max(2);
        } else {
            self.cwnd[s] = (self.cwnd[s] * 2).min(MAX as u16);
        }
        self.next[s] = seq;
        // The next window leaves when the ACKs reach the sender.
        self.gap = if near {
            jitter(rng, self.rtt)
        } else {
            rng.range(10 * US, 60 * US)
        };
    }
}
