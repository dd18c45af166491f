//! `slowloris`: slow HTTP denial of service — one client holding many connections to a web
//! server open with request heads it never finishes (slowloris, `slowhttptest -H`).
//!
//! **Method.** From the packet hook, a TCP connection is tracked from the client's first
//! payload segment when that segment starts with an HTTP method (`GET `, `POST `, `HEAD `,
//! ...). The client's bytes are scanned for the end of the request head (`\r\n\r\n`, also
//! across segment boundaries); the connection is forgotten when the head completes or either
//! side sends FIN or RST. Every second of packet time (tick hook) the tracked connections are
//! swept: one whose head is still incomplete `min_incomplete_s` after its first byte is
//! *slow*. Slow connections open now are summed per (client, server); at
//! `min_connections` or more, an alert is raised (and updated at most once a second).
//! Source = client, destination = server (with port).
//!
//! A browser sends its request head in one segment within milliseconds; web servers give up
//! on an incomplete head after 20–40 s (Apache `mod_reqtimeout` `header=20-40`) or 60 s (nginx
//! `client_header_timeout`), which slowloris defeats by sending a header line every few
//! seconds, so a head incomplete for 10 s is already abnormal. Browsers open at most 6
//! connections per host, so 25 slow ones from one client are far beyond one user.
//!
//! **Parameters** — see [`Config`]: `min_incomplete_s` 10, `min_connections` 25,
//! `idle_timeout_s` 300 (a tracked connection without packets for this long is dropped),
//! `max_conns` 50 000, `max_pairs` 10 000.
//!
//! **Not covered.** Slow request bodies (R-U-Dead-Yet, `slowhttptest -B`: the head is complete)
//! and slow reads (`-X`); HTTPS (the head is encrypted).
//!
//! **Known false positives.** Many users behind one NAT address on a very slow link; HTTP
//! clients that stream a request head by hand (rare).
//!
//! **Cost.** Per TCP segment with payload: one table lookup and a scan of the payload for
//! `\r\n\r\n` while the head is incomplete; no allocation. Per second: one pass over the
//! tracked connections (at most `max_conns`). **State**: two `Table`s (`max_conns`
//! connections, `max_pairs` client/server pairs).

use crate::detectors::util::{addrs, host_draft, tcp, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};
use wirescope_wire::Packet;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// A request head still incomplete this many seconds after its first byte is slow
    /// (below Apache's 20 s `mod_reqtimeout` header timeout).
    pub min_incomplete_s: u64,
    /// Slow connections open at once from one client to one server before an alert
    /// (browsers open at most 6 per host).
    pub min_connections: u32,
    /// A tracked connection without packets for this many seconds is dropped.
    pub idle_timeout_s: u64,
    /// Most tracked connections.
    pub max_conns: usize,
    /// Most (client, server) pairs.
    pub max_pairs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_incomplete_s: 10,
            min_connections: 25,
            idle_timeout_s: 300,
            max_conns: 50_000,
            max_pairs: 10_000,
        }
    }
}

const METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// (client, client port, server, server port).
type ConnKey = (IpAddr, u16, IpAddr, u16);

struct Conn {
    first_ts: Timestamp,
    bytes: u64,
    segments: u32,
    /// Last three bytes seen, to find `\r\n\r\n` across segments.
    tail: [u8; 3],
    slow: bool,
}

#[derive(Default)]
struct Pair {
    port: u16,
    first_ts: Option<Timestamp>,
    slow_now: u32,
    max_slow: u32,
    slow_total: u64,
    bytes_now: u64,
    segments_now: u64,
    every: Every,
}

pub struct Slowloris {
    cfg: Config,
    conns: Table<ConnKey, Conn>,
    pairs: Table<(IpAddr, IpAddr), Pair>,
}

/// Whether `tail` (last bytes of earlier segments) followed by `p` contains `\r\n\r\n`, and
/// the new tail.
fn head_end(tail: [u8; 3], p: &[u8]) -> (bool, [u8; 3]) {
    let mut w = [0u8; 4];
    w[1..].copy_from_slice(&tail);
    for &b in p {
        w = [w[1], w[2], w[3], b];
        if &w == b"\r\n\r\n" {
            return (true, [w[1], w[2], w[3]]);
        }
    }
    (false, [w[1], w[2], w[3]])
}

impl Slowloris {
    pub fn new(cfg: &Config) -> Result<Slowloris, crate::BuildError> {
        Ok(Slowloris {
            cfg: cfg.clone(),
            conns: Table::new(cfg.max_conns),
            pairs: Table::new(cfg.max_pairs),
        })
    }
}

impl Detector for Slowloris {
    fn id(&self) -> DetectorId {
        DetectorId::Slowloris
    }
    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::TICK
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, _out: &mut Alerts<'_>) {
        let Some(t) = tcp(pkt) else { return };
        let Some((src, dst)) = addrs(pkt) else { return };
        const FIN: u16 = 0x01;
        const RST: u16 = 0x04;
        if t.flags & (FIN | RST) != 0 {
            if !self.conns.is_empty() {
                self.conns.remove(&(src, t.src_port, dst, t.dst_port));
                self.conns.remove(&(dst, t.dst_port, src, t.src_port));
            }
            return;
        }
        if pkt.payload.is_empty() {
            return;
        }
        let key = (src, t.src_port, dst, t.dst_port);
        if let Some(c) = self.conns.get_mut(&key) {
            let (done, tail) = head_end(c.tail, pkt.payload);
            if done {
                self.conns.remove(&key);
                return;
            }
            c.tail = tail;
            c.bytes += pkt.payload.len() as u64;
            c.segments += 1;
            // Touch for idle expiry.
            self.conns.entry(key, ts, || unreachable_conn(ts));
            return;
        }
        if !METHODS.iter().any(|m| pkt.payload.starts_with(m)) {
            return;
        }
        let (done, tail) = head_end([0; 3], pkt.payload);
        if done {
            return;
        }
        let bytes = pkt.payload.len() as u64;
        self.conns.entry(key, ts, || Conn {
            first_ts: ts,
            bytes,
            segments: 1,
            tail,
            slow: false,
        });
    }

    fn tick(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        self.conns.expire(ts, self.cfg.idle_timeout_s * SEC);
        if self.conns.is_empty() && self.pairs.is_empty() {
            return;
        }
        for (_, _, p) in self.pairs.iter_mut() {
            p.slow_now = 0;
            p.bytes_now = 0;
            p.segments_now = 0;
        }
        let min_age = self.cfg.min_incomplete_s * SEC;
        let pairs = &mut self.pairs;
        for (k, _, c) in self.conns.iter_mut() {
            if ts.since(c.first_ts) < min_age {
                continue;
            }
            let p = pairs.entry((k.0, k.2), ts, Pair::default);
            if !c.slow {
                c.slow = true;
                p.slow_total += 1;
            }
            p.port = k.3;
            p.first_ts = Some(p.first_ts.map_or(c.first_ts, |f| f.min(c.first_ts)));
            p.slow_now += 1;
            p.bytes_now += c.bytes;
            p.segments_now += u64::from(c.segments);
        }
        let need = self.cfg.min_connections.max(1);
        for (&(client, server), _, p) in self.pairs.iter_mut() {
            p.max_slow = p.max_slow.max(p.slow_now);
            if p.slow_now < need || !p.every.due(ts, SEC) {
                continue;
            }
            let onset = p.first_ts.unwrap_or(ts);
            let mut d = host_draft(
                DetectorId::Slowloris,
                "slow_headers",
                0,
                format!(
                    "Slow HTTP headers (slowloris) from {client} against {server}:{}: {} incomplete requests",
                    p.port, p.slow_now
                ),
                "Denial of Service",
                2,
                Some(client),
                Some(server),
                onset,
                ts,
            );
            if let Some(dst) = d.dst.as_mut() {
                dst.port = Some(p.port);
            }
            d.proto = Some(IpProto::TCP);
            let n = f64::from(p.slow_now);
            d.evidence = evidence! {
                "slow_connections" => p.slow_now,
                "max_concurrent" => p.max_slow,
                "slow_total" => p.slow_total,
                "mean_head_bytes" => (p.bytes_now as f64 / n).round(),
                "mean_segments" => (p.segments_now as f64 / n * 10.0).round() / 10.0,
                "min_incomplete_s" => self.cfg.min_incomplete_s,
                "min_connections" => self.cfg.min_connections,
            };
            out.raise(d);
        }
        self.pairs
            .retain(|_, t, p| p.slow_now > 0 || ts.since(t) < 600 * SEC);
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: (self.conns.len() + self.pairs.len()) as u64,
            capacity: (self.conns.cap() + self.pairs.cap()) as u64,
            evicted_total: self.conns.evicted_total + self.pairs.evicted_total,
        }
    }
}

/// Never called: the entry exists when this is passed.
fn unreachable_conn(ts: Timestamp) -> Conn {
    Conn {
        first_ts: ts,
        bytes: 0,
        segments: 0,
        tail: [0; 3],
        slow: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_end_across_segments() {
        assert!(head_end([0; 3], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").0);
        let (d, t) = head_end([0; 3], b"GET / HTTP/1.1\r\nHost: x\r\n");
        assert!(!d);
        assert!(head_end(t, b"\r\n").0);
        let (d, t) = head_end([0; 3], b"X-a: b\r");
        assert!(!d);
        assert!(head_end(t, b"\n\r\n").0);
        assert!(!head_end([0; 3], b"X-a: b\r\n").0);
    }
}
