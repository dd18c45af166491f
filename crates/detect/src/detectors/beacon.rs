//! `beacon`: command-and-control traffic by three methods, each its own alert kind:
//! - `beacon`: periodic connections, scored per (source, destination, port, protocol) with
//!   RITA's published method (below);
//! - `heartbeat`: a one-way heartbeat inside one TCP connection (see [`Beacon::beat`]): a run
//!   of at least `heartbeat_min_beats` payloads of one size (2..=`heartbeat_max_bytes`
//!   bytes) from one side, none answered by the other side, at a median interval of at least
//!   `heartbeat_min_interval_s` with RITA's timing score ≥ `heartbeat_min_score`;
//! - `http_checkin`: at least `checkin_min_posts` POSTs from one client to one server, Host
//!   and path whose whole body is one form field holding a hex blob ([`hex_token`]).
//!
//! Answered keep-alives and raw hex bodies are not reported: benign IoT devices in the corpus
//! send both (docs/detectors.md has the measurements).
//!
//! # Method (`beacon`)
//! Each finished TCP or UDP flow (flow hook) adds its start time and its originator's bytes
//! (IP layer) to its pair's ring of the last [`RING`] connections. Every
//! `eval_interval_s` of packet time (tick hook) and at the end of input, pairs with at least
//! `min_connections` connections spanning at least `min_span_s` are scored as RITA does:
//! - **timing**: inter-arrival deltas of the sorted start times; the mean of Bowley's
//!   skewness score `1 − |(Q1 + Q3 − 2·Q2) / (Q3 − Q1)|` and the MAD score
//!   `(median − MAD) / median` (floored at 0);
//! - **data size**: the same two scores over the connections' originator bytes;
//! - **duration**: the pair's span (first to last connection) over the observation span
//!   (first to last packet time seen by the detector), capped at 1;
//! - **histogram**: the connections bucketed into `n/4` (2 to 24) equal-width bins over the
//!   pair's span; 1 − coefficient of variation of the bin counts (floored at 0): regular
//!   check-ins fill the bins evenly, bursts do not.
//!
//! score = ¼ timing + ¼ size + ¼ duration + ¼ histogram; an alert `beacon` when score ≥
//! `min_score`. src = the beaconing host, dst = the C2 server and port.
//!
//! # Parameters (defaults)
//! - `min_connections` = 10: RITA scores from 4; 4 check-ins are too easily periodic by
//!   chance (browsers polling, retries), 10 keeps the corpus's benign traffic quiet.
//! - `min_span_s` = 300: five minutes from the pair's first to its last connection (the
//!   first is remembered even after the ring dropped it); a burst of reconnects is not a
//!   beacon.
//! - `min_score` = 0.8: RITA's "high" confidence tier starts here (scores in (0, 1]).
//! - `eval_interval_s` = 60, `max_pairs` = 4096.
//! - `ignore_ports` = 53, 67, 68, 123, 137, 138, 1883, 1900, 5353, 5355, 8883: DNS, DHCP,
//!   NTP, NetBIOS, MQTT (1883, 8883 over TLS: IoT cloud keep-alives), SSDP, mDNS and LLMNR
//!   poll by design. Multicast and broadcast destinations are
//!   never scored.
//!
//! # False positives
//! Benign software that polls a server on a timer IS a beacon by this definition: update
//! checkers, IoT cloud heartbeats, monitoring agents, mail clients. The defaults trade recall
//! for silence on the corpus's IoT captures (minimum connections and span, the ignored
//! ports): without 8883 in `ignore_ports` the Schlage lock's MQTT/TLS keep-alive (300 s)
//! reaches 0.8; without `min_span_s` the Hue Bridge's setup polling (HTTP every 2 s for
//! ~100 s) scores 0.94, so a 2 s beacon loop shorter than five minutes is missed too. Add
//! known pollers to `[[alerts.allow]]` rather than lowering `min_score`.
//! Missed: beacons over one long-lived connection (no new flows: a UDP beacon reusing its
//! source port merges into one flow until the flow timeout), beacons with heavy random
//! jitter (RITA's weakness too), and C2 that checks in fewer than `min_connections` times.
//!
//! # Cost and state
//! Per finished flow: one table lookup and a ring write, no allocation. Per evaluation:
//! O(pairs × [`RING`] log [`RING`]) on stack arrays. State: one [`Table`] of at most
//! `max_pairs` pairs of 1 112 bytes (ring of [`RING`] start times and sizes), expired
//! after an hour without a new connection. Heartbeats: per TCP packet with 2..=
//! `heartbeat_max_bytes` payload bytes one lookup or insert in a table of at most
//! `max_conns` directed connections (168 bytes each). Check-ins: per complete POST body a
//! scan of at most 2 KiB; a table of at most `max_pairs` targets. Idle entries expire after
//! an hour in all three tables.

use crate::alert::{AlertDraft, Endpoint};
use crate::detectors::util::{addrs, entropy, host_draft, tcp, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::hash::BuildHasher;
use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};
use wirescope_engine::{AppCtx, Flow};
use wirescope_wire::Packet;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// Connections of one pair before it is scored (RITA: 4).
    pub min_connections: u32,
    /// Seconds from the pair's first to its last connection before it is scored.
    pub min_span_s: u64,
    /// Score (0..1) from which a pair is reported.
    pub min_score: f64,
    /// Seconds of packet time between evaluations.
    pub eval_interval_s: u64,
    /// Most pairs tracked.
    pub max_pairs: usize,
    /// Responder ports never scored.
    pub ignore_ports: Vec<u16>,
    /// Report encoded HTTP check-ins (kind `http_checkin`).
    pub checkin: bool,
    /// POSTs with an encoded body from one client to one server and path before an alert.
    pub checkin_min_posts: u32,
    /// Hex digits the body's single value must have to count as encoded.
    pub checkin_min_token: usize,
    /// Report heartbeats inside one connection (kind `heartbeat`).
    pub heartbeat: bool,
    /// Same-size small payloads at a steady interval before an alert.
    pub heartbeat_min_beats: u32,
    /// Largest TCP payload (bytes) that can be a heartbeat.
    pub heartbeat_max_bytes: u32,
    /// Shortest median interval (seconds) between beats.
    pub heartbeat_min_interval_s: f64,
    /// Timing score (0..1) from which a run of beats is reported.
    pub heartbeat_min_score: f64,
    /// Most directed connections tracked for heartbeats.
    pub max_conns: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_connections: 10,
            min_span_s: 300,
            min_score: 0.8,
            eval_interval_s: 60,
            max_pairs: 4096,
            ignore_ports: vec![53, 67, 68, 123, 137, 138, 1883, 1900, 5353, 5355, 8883],
            checkin: true,
            checkin_min_posts: 3,
            checkin_min_token: 100,
            heartbeat: true,
            heartbeat_min_beats: 6,
            heartbeat_max_bytes: 128,
            heartbeat_min_interval_s: 5.0,
            heartbeat_min_score: 0.9,
            max_conns: 16384,
        }
    }
}

/// Connections kept per pair (the most recent).
pub const RING: usize = 64;

/// Pairs idle this long are dropped (an hour, RITA's smallest dataset is a day).
const IDLE_NS: u64 = 3600 * SEC;

#[derive(Clone, Copy, Hash, PartialEq, Eq)]
struct PairKey {
    src: IpAddr,
    dst: IpAddr,
    port: u16,
    proto: u8,
}

struct Pair {
    starts: [i64; RING],
    bytes: [u64; RING],
    len: u8,
    head: u8,
    total: u64,
    /// Start of the pair's first connection (the ring may have dropped it).
    first: i64,
    every: Every,
}

impl Pair {
    fn push(&mut self, ts: Timestamp, bytes: u64) {
        let i = usize::from(self.head);
        self.starts[i] = ts.0;
        self.bytes[i] = bytes;
        self.head = ((i + 1) % RING) as u8;
        if usize::from(self.len) < RING {
            self.len += 1;
        }
        if self.total == 0 || ts.0 < self.first {
            self.first = ts.0;
        }
        self.total += 1;
    }
}

/// Intervals kept per heartbeat run (the most recent).
pub const BEATS: usize = 16;

/// Heartbeat state of one direction of one TCP connection.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
struct ConnKey {
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
}

struct Beat {
    /// Payload size of the current run.
    size: u32,
    /// Sequence number of the run's last beat (a retransmission repeats it).
    seq: u32,
    /// Packet time of the run's first and last beats (ns).
    first: i64,
    last: i64,
    /// Beats in the current run.
    run: u32,
    gaps: [f32; BEATS],
    head: u8,
    /// Acknowledgment number of the last beat: it moves when the other side sent anything
    /// since (the run is then not one-way).
    ack: u32,
    every: Every,
}

impl Beat {
    fn new() -> Beat {
        Beat {
            size: 0,
            seq: 0,
            first: 0,
            last: 0,
            run: 0,
            gaps: [0.0; BEATS],
            head: 0,
            ack: 0,
            every: Every::default(),
        }
    }

    /// The run's intervals (seconds), the most recent [`BEATS`] of them.
    fn intervals(&self) -> &[f32] {
        let n = (self.run.saturating_sub(1) as usize).min(BEATS);
        &self.gaps[..n]
    }
}

/// Encoded-check-in state of one (client, server, host + path).
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
struct CheckinKey {
    client: IpAddr,
    server: IpAddr,
    target: u64,
}

struct Checkin {
    first_ts: Timestamp,
    posts: u64,
    min_token: usize,
    max_token: usize,
    reported: u64,
    example: String,
    host: String,
    port: u16,
    every: Every,
}

/// The length of the encoded value when `body` is a single form field whose value is one
/// opaque hex token (`x=` + at least `min` hex digits, nothing else). A raw hex body without
/// a field name does not count: the Hue Bridge's cloud long-poll sends one (measured).
pub fn hex_token(body: &[u8], min: usize) -> Option<usize> {
    let i = body.iter().position(|&b| b == b'=')?;
    if !(1..=16).contains(&i)
        || !body[..i]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return None;
    }
    let value = &body[i + 1..];
    let value = value.strip_suffix(b"\r\n").unwrap_or(value);
    if value.len() < min.max(1) || !value.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    // Random bytes in hex use both digits and letters; a run of digits is a number.
    let letters = value.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if letters * 8 < value.len() || letters == value.len() || entropy(value) < 3.0 {
        return None;
    }
    Some(value.len())
}

/// The scores of one pair.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
    pub timing: f64,
    pub size: f64,
    pub duration: f64,
    pub histogram: f64,
    pub score: f64,
    pub median_interval_s: f64,
    pub mad_interval_s: f64,
    pub median_bytes: f64,
    pub span_s: f64,
}

/// Quantile of sorted values (linear interpolation).
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// RITA's two dispersion scores of sorted values, averaged: Bowley skewness and MAD.
/// Returns (score, median, MAD).
fn skew_mad(sorted: &[f64]) -> (f64, f64, f64) {
    let q1 = quantile(sorted, 0.25);
    let q2 = quantile(sorted, 0.5);
    let q3 = quantile(sorted, 0.75);
    let num = q1 + q3 - 2.0 * q2;
    let den = q3 - q1;
    // RITA: a zero denominator or a median at a quartile means no skew. We also call an
    // interquartile range within 1% of the median "no skew": otherwise a 300 s heartbeat
    // with 0.4 s of jitter gets a skew score near 0 from noise (measured on the corpus).
    let skew = if den <= 0.01 * q2.abs() || q2 == q1 || q2 == q3 {
        0.0
    } else {
        num / den
    };
    let skew_score = 1.0 - skew.abs().min(1.0);
    let mut dev = [0f64; RING];
    let n = sorted.len().min(RING);
    for (d, &x) in dev.iter_mut().zip(sorted.iter()) {
        *d = (x - q2).abs();
    }
    let dev = &mut dev[..n];
    dev.sort_by(f64::total_cmp);
    let mad = quantile(dev, 0.5);
    let mad_score = if q2 <= 0.0 {
        0.0
    } else {
        ((q2 - mad) / q2).max(0.0)
    };
    ((skew_score + mad_score) / 2.0, q2, mad)
}

/// Scores connection start times (ns) and sizes; `observed_ns` is the observation span.
pub fn score(starts_ns: &[i64], bytes: &[u64], observed_ns: u64) -> Scores {
    let n = starts_ns.len().min(bytes.len()).min(RING);
    if n < 3 {
        return Scores::default();
    }
    let mut t = [0i64; RING];
    t[..n].copy_from_slice(&starts_ns[..n]);
    let t = &mut t[..n];
    t.sort_unstable();
    let mut deltas = [0f64; RING];
    for i in 1..n {
        deltas[i - 1] = (t[i] - t[i - 1]) as f64 / 1e9;
    }
    let deltas = &mut deltas[..n - 1];
    deltas.sort_by(f64::total_cmp);
    let (timing, med_iv, mad_iv) = skew_mad(deltas);

    let mut b = [0f64; RING];
    for (d, &x) in b.iter_mut().zip(bytes[..n].iter()) {
        *d = x as f64;
    }
    let b = &mut b[..n];
    b.sort_by(f64::total_cmp);
    let (size, med_b, _) = skew_mad(b);

    let span = (t[n - 1] - t[0]).max(0) as u64;
    let duration = if observed_ns == 0 {
        0.0
    } else {
        (span as f64 / observed_ns as f64).min(1.0)
    };

    // Histogram: equal-width bins over the pair's span.
    // About four connections per bin, so a regular beacon is not penalised for rounding.
    let bins = (n / 4).clamp(2, 24);
    let mut counts = [0u32; 24];
    for &x in t.iter() {
        let i = if span == 0 {
            0
        } else {
            (((x - t[0]) as f64 / span as f64) * bins as f64) as usize
        };
        counts[i.min(bins - 1)] += 1;
    }
    let counts = &counts[..bins];
    let mean = n as f64 / bins as f64;
    let var = counts
        .iter()
        .map(|&c| (f64::from(c) - mean).powi(2))
        .sum::<f64>()
        / bins as f64;
    let histogram = (1.0 - var.sqrt() / mean).max(0.0);

    Scores {
        timing,
        size,
        duration,
        histogram,
        score: (timing + size + duration + histogram) / 4.0,
        median_interval_s: med_iv,
        mad_interval_s: mad_iv,
        median_bytes: med_b,
        span_s: span as f64 / 1e9,
    }
}

fn checkin_draft(cfg: &Config, k: &CheckinKey, c: &Checkin, ts: Timestamp) -> AlertDraft {
    let mut d = host_draft(
        DetectorId::Beacon,
        "http_checkin",
        2,
        format!(
            "Encoded HTTP check-ins from {} to {} ({}{}): {} POSTs with a hex-encoded body",
            k.client,
            k.server,
            c.host,
            c.example.split('?').next().unwrap_or(""),
            c.posts
        ),
        "A Network Trojan was detected",
        2,
        Some(k.client),
        Some(k.server),
        c.first_ts,
        ts,
    );
    d.dst = Some(Endpoint::with_port(k.server, c.port));
    d.proto = Some(IpProto::TCP);
    d.evidence = evidence! {
        "posts" => c.posts,
        "host" => c.host.clone(),
        "example_uri" => c.example.clone(),
        "token_hex_digits_min" => c.min_token,
        "token_hex_digits_max" => c.max_token,
        "dst_port" => c.port,
        "min_posts" => cfg.checkin_min_posts,
        "min_token" => cfg.checkin_min_token,
    };
    d
}

pub struct Beacon {
    cfg: Config,
    pairs: Table<PairKey, Pair>,
    conns: Table<ConnKey, Beat>,
    checkins: Table<CheckinKey, Checkin>,
    hasher: foldhash::fast::FixedState,
    first_ts: Option<Timestamp>,
    last_eval: Option<Timestamp>,
}

impl Beacon {
    pub fn new(cfg: &Config) -> Result<Beacon, crate::BuildError> {
        if !(0.0..=1.0).contains(&cfg.min_score) {
            return Err(crate::BuildError(format!(
                "detectors.beacon.min_score must be within 0..1, not {}",
                cfg.min_score
            )));
        }
        if !(0.0..=1.0).contains(&cfg.heartbeat_min_score) {
            return Err(crate::BuildError(format!(
                "detectors.beacon.heartbeat_min_score must be within 0..1, not {}",
                cfg.heartbeat_min_score
            )));
        }
        Ok(Beacon {
            cfg: cfg.clone(),
            pairs: Table::new(cfg.max_pairs),
            conns: Table::new(cfg.max_conns),
            checkins: Table::new(cfg.max_pairs),
            hasher: foldhash::fast::FixedState::with_seed(0x5eed),
            first_ts: None,
            last_eval: None,
        })
    }

    fn evaluate(&mut self, now: Timestamp, out: &mut Alerts<'_>) {
        let observed = self.first_ts.map_or(0, |f| now.since(f));
        let min_span = self.cfg.min_span_s.saturating_mul(SEC);
        let min_n = self.cfg.min_connections as usize;
        for (k, _, p) in self.pairs.iter_mut() {
            let n = usize::from(p.len);
            if n < min_n.max(3) {
                continue;
            }
            let starts = &p.starts[..n];
            let (lo, hi) = starts
                .iter()
                .fold((i64::MAX, i64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            if ((hi - lo.min(p.first)).max(0) as u64) < min_span {
                continue;
            }
            let s = score(starts, &p.bytes[..n], observed);
            if s.score < self.cfg.min_score || !p.every.due(now, SEC) {
                continue;
            }
            let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
            let proto = IpProto(k.proto);
            let mut d = host_draft(
                DetectorId::Beacon,
                "beacon",
                0,
                format!(
                    "Beaconing from {} to {}:{}/{}: {} connections every {:.0} s (score {:.2})",
                    k.src,
                    k.dst,
                    k.port,
                    proto.name(),
                    p.total,
                    s.median_interval_s,
                    s.score
                ),
                "A Network Trojan was detected",
                2,
                Some(k.src),
                Some(k.dst),
                Timestamp(lo.min(p.first)),
                now,
            );
            d.dst = Some(Endpoint::with_port(k.dst, k.port));
            d.proto = Some(proto);
            d.evidence = evidence! {
                "connections" => p.total,
                "scored_connections" => n,
                "score" => r3(s.score),
                "timing_score" => r3(s.timing),
                "size_score" => r3(s.size),
                "duration_score" => r3(s.duration),
                "histogram_score" => r3(s.histogram),
                "median_interval_s" => r3(s.median_interval_s),
                "mad_interval_s" => r3(s.mad_interval_s),
                "median_bytes" => s.median_bytes,
                "span_s" => r3(s.span_s),
                "pair_span_s" => r3((hi - lo.min(p.first)) as f64 / 1e9),
                "dst_port" => k.port,
                "min_score" => self.cfg.min_score,
                "min_connections" => self.cfg.min_connections,
                "min_span_s" => self.cfg.min_span_s,
            };
            out.raise(d);
        }
    }
}

impl Beacon {
    /// One small TCP payload: extends or restarts its direction's run of beats and reports
    /// the run once it is long and regular enough.
    fn beat(
        &mut self,
        ts: Timestamp,
        key: ConnKey,
        seq_ack: (u32, u32),
        size: u32,
        out: &mut Alerts<'_>,
    ) {
        let (seq, ack) = seq_ack;
        let b = self.conns.entry(key, ts, Beat::new);
        if b.run > 0 && b.size == size && b.seq == seq {
            return; // retransmission of the last beat
        }
        if b.run == 0 || b.size != size || b.ack != ack || ts.0 < b.last {
            b.size = size;
            b.run = 1;
            b.head = 0;
            b.first = ts.0;
        } else {
            b.gaps[usize::from(b.head)] = ((ts.0 - b.last) as f64 / 1e9) as f32;
            b.head = ((usize::from(b.head) + 1) % BEATS) as u8;
            b.run = b.run.saturating_add(1);
        }
        b.seq = seq;
        b.ack = ack;
        b.last = ts.0;
        if b.run < self.cfg.heartbeat_min_beats.max(3) {
            return;
        }
        let mut sorted = [0f64; BEATS];
        let iv = b.intervals();
        for (d, &x) in sorted.iter_mut().zip(iv) {
            *d = f64::from(x);
        }
        let sorted = &mut sorted[..iv.len()];
        sorted.sort_by(f64::total_cmp);
        let (timing, median, mad) = skew_mad(sorted);
        if median < self.cfg.heartbeat_min_interval_s
            || timing < self.cfg.heartbeat_min_score
            || !b
                .every
                .due(ts, self.cfg.eval_interval_s.max(1).saturating_mul(SEC))
        {
            return;
        }
        let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
        let mut d = host_draft(
            DetectorId::Beacon,
            "heartbeat",
            1,
            format!(
                "Heartbeat from {}:{} to {}:{}/tcp: {} payloads of {} bytes every {:.1} s in one connection",
                key.src, key.sport, key.dst, key.dport, b.run, size, median
            ),
            "A Network Trojan was detected",
            2,
            Some(key.src),
            Some(key.dst),
            Timestamp(b.first),
            ts,
        );
        d.src = Some(Endpoint::with_port(key.src, key.sport));
        d.dst = Some(Endpoint::with_port(key.dst, key.dport));
        d.proto = Some(IpProto::TCP);
        d.evidence = evidence! {
            "beats" => b.run,
            "payload_bytes" => size,
            "timing_score" => r3(timing),
            "median_interval_s" => r3(median),
            "mad_interval_s" => r3(mad),
            "span_s" => r3((b.last - b.first) as f64 / 1e9),
            "src_port" => key.sport,
            "dst_port" => key.dport,
            "min_beats" => self.cfg.heartbeat_min_beats,
            "max_bytes" => self.cfg.heartbeat_max_bytes,
            "min_interval_s" => self.cfg.heartbeat_min_interval_s,
            "min_score" => self.cfg.heartbeat_min_score,
        };
        out.raise(d);
    }
}

impl Detector for Beacon {
    fn id(&self) -> DetectorId {
        DetectorId::Beacon
    }

    fn interests(&self) -> Interest {
        let mut i = Interest::FLOW | Interest::TICK;
        if self.cfg.heartbeat {
            i = i | Interest::PACKET;
        }
        if self.cfg.checkin {
            i = i | Interest::HTTP;
        }
        i
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        // Small payloads only; TCP keep-alive probes (0 or 1 byte) are not beats.
        let size = pkt.payload_wire_len;
        if size < 2 || size > self.cfg.heartbeat_max_bytes {
            return;
        }
        let Some(t) = tcp(pkt) else { return };
        let Some((src, dst)) = addrs(pkt) else { return };
        if self.cfg.ignore_ports.contains(&t.dst_port)
            || self.cfg.ignore_ports.contains(&t.src_port)
        {
            return;
        }
        let key = ConnKey {
            src,
            dst,
            sport: t.src_port,
            dport: t.dst_port,
        };
        self.beat(ts, key, (t.seq, t.ack), size, out);
    }

    fn http(
        &mut self,
        ctx: &AppCtx<'_>,
        tx: &wirescope_proto::http::Transaction,
        out: &mut Alerts<'_>,
    ) {
        if tx.method != b"POST" || tx.request_body_len != tx.request_body.len() as u64 {
            return;
        }
        let Some(token) = hex_token(&tx.request_body, self.cfg.checkin_min_token) else {
            return;
        };
        let (client, _) = ctx.flow.orig();
        let (server, port) = ctx.flow.resp();
        let path = tx.uri.split(|&b| b == b'?').next().unwrap_or(&tx.uri);
        let key = CheckinKey {
            client,
            server,
            target: self.hasher.hash_one((&tx.host, path)),
        };
        let ts = tx.request_ts.unwrap_or(ctx.ts);
        let c = self.checkins.entry(key, ctx.ts, || Checkin {
            first_ts: ts,
            posts: 0,
            min_token: usize::MAX,
            max_token: 0,
            reported: 0,
            example: String::new(),
            host: String::new(),
            port,
            every: Every::default(),
        });
        c.posts += 1;
        c.min_token = c.min_token.min(token);
        c.max_token = c.max_token.max(token);
        if c.posts < u64::from(self.cfg.checkin_min_posts.max(1)) || !c.every.due(ctx.ts, SEC) {
            return;
        }
        if c.example.is_empty() {
            c.example = String::from_utf8_lossy(&tx.uri).chars().take(200).collect();
            c.host = String::from_utf8_lossy(&tx.host)
                .chars()
                .take(100)
                .collect();
        }
        c.reported = c.posts;
        out.raise(checkin_draft(&self.cfg, &key, c, ctx.ts));
    }

    fn flow(&mut self, fl: &Flow, _out: &mut Alerts<'_>) {
        let proto = fl.key.proto;
        if proto != IpProto::TCP && proto != IpProto::UDP {
            return;
        }
        if self.first_ts.is_none_or(|f| fl.first_ts < f) {
            self.first_ts = Some(fl.first_ts);
        }
        let (src, _) = fl.orig();
        let (dst, port) = fl.resp();
        let broadcast = match dst {
            IpAddr::V4(a) => a.is_broadcast() || a.octets()[3] == 255,
            IpAddr::V6(_) => false,
        };
        if dst.is_multicast() || broadcast || self.cfg.ignore_ports.contains(&port) {
            return;
        }
        // TCP flows that never completed a handshake are scans or failures, not check-ins.
        if proto == IpProto::TCP && fl.synack_ts.is_none() && fl.pkts.contains(&0) {
            return;
        }
        let o = fl.orig_dir as usize;
        let key = PairKey {
            src,
            dst,
            port,
            proto: proto.0,
        };
        self.pairs
            .entry(key, fl.last_ts, || Pair {
                starts: [0; RING],
                bytes: [0; RING],
                len: 0,
                head: 0,
                total: 0,
                first: 0,
                every: Every::default(),
            })
            .push(fl.first_ts, fl.ip_bytes[o]);
    }

    fn tick(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        let every = self.cfg.eval_interval_s.max(1).saturating_mul(SEC);
        if self.last_eval.is_some_and(|l| ts.since(l) < every) {
            return;
        }
        self.last_eval = Some(ts);
        self.pairs.expire(ts, IDLE_NS);
        self.conns.expire(ts, IDLE_NS);
        self.checkins.expire(ts, IDLE_NS);
        self.evaluate(ts, out);
    }

    fn finish(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        self.evaluate(ts, out);
        // Final counts of check-in alerts whose last updates were rate-limited away.
        for (k, _, c) in self.checkins.iter_mut() {
            if !c.example.is_empty() && c.posts > c.reported {
                c.reported = c.posts;
                out.raise(checkin_draft(&self.cfg, k, c, ts));
            }
        }
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: (self.pairs.len() + self.conns.len() + self.checkins.len()) as u64,
            capacity: (self.pairs.cap() + self.conns.cap() + self.checkins.cap()) as u64,
            evicted_total: self.pairs.evicted_total
                + self.conns.evicted_total
                + self.checkins.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_beacon_scores_one() {
        let starts: Vec<i64> = (0..20).map(|i| i * 60 * SEC as i64).collect();
        let bytes = vec![500u64; 20];
        let s = score(&starts, &bytes, 19 * 60 * SEC);
        assert!(s.score > 0.99, "{s:?}");
        assert!((s.median_interval_s - 60.0).abs() < 1e-9);
    }

    #[test]
    fn random_traffic_scores_low() {
        // Exponential-ish gaps and varied sizes from a fixed LCG.
        let mut x: u64 = 12345;
        let mut t = 0i64;
        let mut starts = Vec::new();
        let mut bytes = Vec::new();
        for _ in 0..40 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((x >> 11) as f64 / (1u64 << 53) as f64).max(1e-6);
            t += (-u.ln() * 30.0 * 1e9) as i64;
            starts.push(t);
            bytes.push(100 + (x >> 40) % 50_000);
        }
        let s = score(&starts, &bytes, t as u64);
        assert!(s.score < 0.8, "{s:?}");
    }

    #[test]
    fn hex_tokens() {
        let hex = "6b787638683333616b6431660f05f2393c1a354ad6e57d984568037ecebfe360e70ca9e211cdc0f5cf1b065484cf67e605493877069bbcc6b7eae8681985814e8";
        let body = format!("o={hex}");
        assert_eq!(hex_token(body.as_bytes(), 100), Some(hex.len()));
        assert_eq!(
            hex_token(format!("{body}\r\n").as_bytes(), 100),
            Some(hex.len())
        );
        // Too short, a raw body, a second field, a long name, a number, not hex.
        assert_eq!(hex_token(body.as_bytes(), 200), None);
        assert_eq!(hex_token(hex.as_bytes(), 100), None);
        assert_eq!(hex_token(format!("{body}&x=1").as_bytes(), 100), None);
        assert_eq!(
            hex_token(format!("averyveryverylongname={hex}").as_bytes(), 100),
            None
        );
        assert_eq!(
            hex_token(format!("n={}", "1234567890".repeat(12)).as_bytes(), 100),
            None
        );
        assert_eq!(hex_token(format!("n={}g", hex).as_bytes(), 100), None);
        assert_eq!(
            hex_token(format!("n={}", "ab".repeat(60)).as_bytes(), 100),
            None
        );
    }

    fn conn() -> ConnKey {
        ConnKey {
            src: IpAddr::from([10, 0, 0, 1]),
            dst: IpAddr::from([10, 0, 0, 2]),
            sport: 40000,
            dport: 4433,
        }
    }

    /// Feeds beats of `size` bytes at `times` (seconds); returns the alerts raised.
    fn beats(b: &mut Beacon, times: &[f64], size: u32, ack: u32) -> usize {
        let mut mgr = crate::manager::AlertManager::new(&Default::default()).expect("manager");
        let mut out = Alerts { mgr: &mut mgr };
        for (i, &t) in times.iter().enumerate() {
            let seq = 1000 + i as u32 * 10;
            b.beat(
                Timestamp((t * 1e9) as i64),
                conn(),
                (seq, ack),
                size,
                &mut out,
            );
        }
        mgr.alerts().len()
    }

    #[test]
    fn heartbeat_runs() {
        let cfg = Config::default();
        let new = || Beacon::new(&cfg).expect("beacon");
        let steady: Vec<f64> = (1..=6).map(|i| f64::from(i) * 10.0).collect();
        assert_eq!(beats(&mut new(), &steady, 9, 1), 1);
        // Five beats are one too few; beats under 5 s apart are traffic, not a heartbeat.
        assert_eq!(beats(&mut new(), &steady[..5], 9, 1), 0);
        let fast: Vec<f64> = (1..=20).map(|i| f64::from(i) * 2.0).collect();
        assert_eq!(beats(&mut new(), &fast, 9, 1), 0);
        // Irregular gaps do not score.
        let jitter = [10.0, 13.0, 31.0, 35.0, 60.0, 62.0, 90.0, 100.0];
        assert_eq!(beats(&mut new(), &jitter, 9, 1), 0);
        // A change of size restarts the run.
        let mut b = new();
        assert_eq!(beats(&mut b, &steady[..3], 9, 1), 0);
        assert_eq!(beats(&mut b, &steady[3..], 10, 1), 0);
        // An answer from the other side (the beat's acknowledgment number moves) restarts the
        // run.
        let mut b = new();
        assert_eq!(beats(&mut b, &steady[..3], 9, 1), 0);
        assert_eq!(beats(&mut b, &steady[3..], 9, 40), 0);
        assert_eq!(b.conns.get(&conn()).expect("run").run, 3);
        // A retransmitted beat (same sequence number) is not a beat.
        let mut b = new();
        let mut mgr = crate::manager::AlertManager::new(&Default::default()).expect("manager");
        let mut out = Alerts { mgr: &mut mgr };
        for t in [10, 20, 20] {
            b.beat(Timestamp(t * SEC as i64), conn(), (7, 1), 9, &mut out);
        }
        assert_eq!(b.conns.get(&conn()).expect("run").run, 1);
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
        assert_eq!(quantile(&[1.0, 2.0], 0.5), 1.5);
    }
}
