//! `port_scan`: vertical port scans (many ports of one host), horizontal sweeps (one port or
//! ping over many hosts) and IP-protocol scans, named by probe type: TCP SYN, connect, FIN,
//! XMAS, NULL, ACK/window, Maimon, UDP, IP-protocol, and ICMP/ARP/TCP/UDP host sweeps.
//!
//! # Method
//! Works on the packet hook, so a scan is flagged while it runs (flow end is too late).
//! Every *probe-shaped* packet (a TCP SYN without ACK, FIN / XMAS / NULL / Maimon / bare ACK
//! segments, a UDP datagram, an ICMP echo/timestamp/mask request, an ARP request, an IP packet
//! of another protocol) is a *first contact* from its source to a distinct target
//! (destination, protocol class, port). Its outcome is then resolved:
//! - success: the target answered (SYN-ACK, ACK or data for TCP, any UDP datagram back, echo
//!   reply, ARP reply);
//! - failure: RST, ICMP destination unreachable (the quoted header names the probe, so a
//!   capture holding only the answers still counts), or no answer within `probe_timeout_s`
//!   (resolved on the tick);
//! - neutral: ICMP time exceeded (traceroute), which says nothing about the target; and
//!   silence after more than 3 packets to one target (2 for bare ACK / FIN-ACK): that is a
//!   one-way conversation (a capture that misses the other direction), not a probe.
//!
//! Never probes: SYN-ACKs and RSTs (answers, or backscatter of someone else's spoofed
//! traffic), anything to a multicast or broadcast address or MAC (SSDP, mDNS, NetBIOS, DHCP),
//! gratuitous ARP and ARP probes, bare ACKs from a service port (< 1024) to an ephemeral
//! port and any UDP from a service port (a server's side of a conversation, or DNS / NTP /
//! SNMP reflection), and ICMP errors quoting such a server's packet (late DNS replies to a
//! closed socket).
//!
//! Two tests run on these outcomes (detection.md, "Port scans"):
//! 1. **Threshold Random Walk** (Jung, Paxson, Berger, Balakrishnan 2004) per source: the log
//!    likelihood ratio grows by ln((1-θ1)/(1-θ0)) on each failure and by ln(θ1/θ0) on each
//!    success; reaching ln η1 flags the source as a scanner (4 consecutive failures with the
//!    reference parameters), reaching ln η0 declares it benign and restarts the walk.
//! 2. **Windowed distinct counts** per (source, destination) (vertical) and per (source,
//!    class, port) (horizontal): each target is forgotten `window_s` after its first contact
//!    (Zeek's recommended scan policy: unique failed targets with 15-minute expiry).
//!
//! A vertical alert (key: source, destination) is raised when, on one destination:
//! - `vertical_ports` distinct ports failed (Zeek's scan.bro: 15), or
//! - TRW flagged the source and `min_failures` distinct ports failed (TRW alone would flag
//!   any host with four failures in a row anywhere: the count ties it to one victim), or
//! - `burst_unanswered` distinct ports are unanswered (failed or still pending), catching
//!   fast scans of filtered hosts before any timeout;
//!
//! each with at most one success per four failures (a client that mostly succeeds is not
//! scanning). An `ip_protocol_scan` is `ip_protocols` distinct IP protocol numbers sent to
//! one host. A horizontal alert (`host_sweep`, key: source, no destination) uses the same
//! rules with `horizontal_hosts` (Zeek: 25) on one port (or ICMP echo, or ARP), except that
//! sweeps of OS-stack SYNs (`connect()`, recognised by SACK/timestamp/window-scale options)
//! need the fixed threshold (browsers open many connections at once; IoT devices fail to reach
//! a few cloud servers in a row), and UDP sweeps whose hosts are scattered over more /24s
//! than half their number are peer-to-peer traffic, not a network sweep.
//!
//! A **distributed scan** (`distributed_scan`, key: no source, the victim) is
//! `distributed_sources` sources, each refused (RST or ICMP unreachable: never silence, so
//! floods and reflection in one-way captures do not count) on at least 2 TCP ports of one
//! victim, covering `distributed_ports` distinct ports together (see `distributed.rs`).
//!
//! The alert kind is the dominant probe type (`syn_scan`, `connect_scan`, `fin_scan`,
//! `xmas_scan`, `null_scan`, `ack_scan` (ACK and window scans look alike on the wire),
//! `maimon_scan`, `udp_scan`, `ip_protocol_scan`, `host_sweep`), fixed when the alert is
//! raised; the evidence is refreshed at most once a second of packet time and names the scan
//! type, direction, probes, distinct ports (first 20, sorted) and hosts, failures, successes,
//! TRW likelihood ratio, window, thresholds crossed, probe rate and `fast_scanner` (rate at
//! or above `fast_probes_per_s`: masscan, zmap, nmap -T5).
//!
//! # Parameters (defaults)
//! See [`Config`]: `probe_timeout_s` 3, `window_s` 900, `trw_theta0` 0.8, `trw_theta1` 0.2,
//! `trw_eta1` 99, `trw_eta0` 0.01, `min_failures` 5, `vertical_ports` 15, `horizontal_hosts`
//! 25, `burst_unanswered` 10, `ip_protocols` 8, `fast_probes_per_s` 1000, `max_sources`
//! 16 384, `max_contacts` 131 072, `max_pairs` 16 384, `max_sweeps` 16 384,
//! `distributed_sources` 5, `distributed_ports` 25, `max_victims` 16 384.
//!
//! # Known false positives and misses
//! - Hosts that legitimately probe (monitoring, vulnerability scanners, network discovery
//!   such as Canon BJNP printer search) are scanners by this definition: allow-list them.
//! - Peer-to-peer clients whose peers sit behind NATs with several ports each can cross the
//!   TRW rule on one peer (nDPI's gnutella capture).
//! - A router ARPing for many absent hosts of its LAN is an ARP sweep.
//! - An Internet-facing server sees background scanning from many sources: with enough of it
//!   within `window_s`, that is a `distributed_scan` (raise `distributed_sources` or set it
//!   to 0 to disable).
//! - Misses: distributed scans of filtered ports or over UDP; scans slower than one probe per
//!   `window_s` rely on TRW alone and are not reported; an outbound Internet-wide UDP sweep is
//!   taken for peer-to-peer traffic; UDP scans from a source port below 1024 (nmap -g 53);
//!   SCTP INIT scans and IPv6 neighbour-discovery sweeps are not tracked.
//!
//! # Cost
//! Per packet: two bounded-table look-ups in steady state (is it an answer? is the target
//! already answered?), up to six while a target is being probed; no allocation (a raise
//! allocates, at most once a second per alert). Per tick (once a second of packet time): one
//! pass over the contacts (timeouts, window expiry) and over the pairs, sweeps and victims
//! (idle expiry, refresh).
//!
//! # State bound
//! Five [`Table`]s: sources (`max_sources`), contacts (`max_contacts`), vertical pairs
//! (`max_pairs`), horizontal sweeps (`max_sweeps`), distributed-scan victims
//! (`max_victims`); about 35 MB at the default caps. Idle
//! entries go after `window_s`; a full table evicts its least recently seen entry
//! (`evicted_total`).

mod classify;
mod distributed;
mod report;
mod state;
#[cfg(test)]
mod tests;

use super::util::{Every, SEC};
use crate::table::Table;
use crate::{Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use state::*;
use std::net::{IpAddr, Ipv4Addr};
use wirescope_core::{IpProto, Timestamp};
use wirescope_wire::{Packet, Transport};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// A probe with no answer after this many seconds failed. 3 s: the initial TCP
    /// retransmission timeout is 1 s (RFC 6298 §2), so the first SYN retransmission has gone
    /// unanswered too.
    pub probe_timeout_s: u64,
    /// A target is forgotten this long after its first contact (Zeek's recommended scan
    /// policy: 15-minute expiry). Also bounds slow scans: TRW has no window.
    pub window_s: u64,
    /// TRW P(success | benign) θ0 (Jung et al. 2004).
    pub trw_theta0: f64,
    /// TRW P(success | scanner) θ1 (Jung et al. 2004).
    pub trw_theta1: f64,
    /// TRW upper threshold η1 = P_D / P_F = 0.99 / 0.01 (Jung et al. 2004).
    pub trw_eta1: f64,
    /// TRW lower threshold η0 = (1 - P_D) / (1 - P_F) ≈ 0.01 (Jung et al. 2004).
    pub trw_eta0: f64,
    /// Failed distinct targets (on one host or one port) needed with a TRW verdict: one more
    /// than TRW's 4, so one unlucky streak of 4 does not alert (ours).
    pub min_failures: u32,
    /// Failed distinct ports on one host without TRW (Zeek scan.bro: 15).
    pub vertical_ports: u32,
    /// Failed distinct hosts on one port without TRW (Zeek scan.bro: 25).
    pub horizontal_hosts: u32,
    /// Unanswered (failed or pending) distinct targets with few successes: fast scans are
    /// flagged before the probe timeout (ours, keeps detection within 10 probes).
    pub burst_unanswered: u32,
    /// Distinct IP protocol numbers sent to one host (nmap -sO); ordinary pairs use ≤ 4
    /// (TCP, UDP, ICMP, one tunnel protocol) (ours).
    pub ip_protocols: u32,
    /// A scan at or above this many probes per second is reported as `fast_scanner`
    /// (masscan's default rate is 100, zmap and masscan are run at thousands) (ours).
    pub fast_probes_per_s: u32,
    /// Sources with TRW state (one entry ≈ 60 B).
    pub max_sources: usize,
    /// First contacts (source, destination, protocol, port) with their outcome (≈ 120 B):
    /// at 131 072, a scan of 65 535 ports of two hosts fits within the window.
    pub max_contacts: usize,
    /// (source, destination) pairs, vertical counters (≈ 280 B).
    pub max_pairs: usize,
    /// (source, protocol, port) sweeps, horizontal counters (≈ 480 B).
    pub max_sweeps: usize,
    /// Sources with failed probes on one victim for a distributed scan (0 disables) (ours:
    /// Snort 3 names the case, without a published default).
    pub distributed_sources: u32,
    /// Distinct failed ports of that victim, all sources together (Zeek's horizontal 25).
    pub distributed_ports: u32,
    /// Victims tracked for distributed scans (≈ 300 B).
    pub max_victims: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            probe_timeout_s: 3,
            window_s: 900,
            trw_theta0: 0.8,
            trw_theta1: 0.2,
            trw_eta1: 99.0,
            trw_eta0: 0.01,
            min_failures: 5,
            vertical_ports: 15,
            horizontal_hosts: 25,
            burst_unanswered: 10,
            ip_protocols: 8,
            fast_probes_per_s: 1000,
            max_sources: 16_384,
            max_contacts: 131_072,
            max_pairs: 16_384,
            max_sweeps: 16_384,
            distributed_sources: 5,
            distributed_ports: 25,
            max_victims: 16_384,
        }
    }
}

/// A source counts towards a distributed scan once it failed on this many ports of the
/// victim: a spoofed SYN flood sends one packet per source and is `ddos`'s, not a scan.
const DISTRIBUTED_MIN_PORTS: u32 = 2;

pub struct PortScan {
    cfg: Config,
    ln_fail: f64,
    ln_success: f64,
    ln_eta1: f64,
    ln_eta0: f64,
    sources: Table<IpAddr, Source>,
    contacts: Table<Target, Contact>,
    pairs: Table<(IpAddr, IpAddr), Pair>,
    sweeps: Table<(IpAddr, u8, u16), Sweep>,
    victims: Table<IpAddr, distributed::Victim>,
    /// Reused buffer of contacts to resolve on a tick (no per-tick allocation once grown).
    due: Vec<(Target, Outcome, bool)>,
    /// Outcomes being resolved are timeouts (silence), not answers.
    timing_out: bool,
}

impl PortScan {
    pub fn new(cfg: &Config) -> Result<PortScan, crate::BuildError> {
        let (t0, t1) = (cfg.trw_theta0, cfg.trw_theta1);
        if !(0.0 < t1 && t1 < t0 && t0 < 1.0) {
            return Err(crate::BuildError(format!(
                "port_scan: need 0 < trw_theta1 ({t1}) < trw_theta0 ({t0}) < 1"
            )));
        }
        if !(cfg.trw_eta0 > 0.0 && cfg.trw_eta0 < 1.0 && cfg.trw_eta1 > 1.0) {
            return Err(crate::BuildError(
                "port_scan: need 0 < trw_eta0 < 1 < trw_eta1".into(),
            ));
        }
        Ok(PortScan {
            ln_fail: ((1.0 - t1) / (1.0 - t0)).ln(),
            ln_success: (t1 / t0).ln(),
            ln_eta1: cfg.trw_eta1.ln(),
            ln_eta0: cfg.trw_eta0.ln(),
            sources: Table::new(cfg.max_sources),
            contacts: Table::new(cfg.max_contacts),
            pairs: Table::new(cfg.max_pairs),
            sweeps: Table::new(cfg.max_sweeps),
            victims: Table::new(cfg.max_victims),
            due: Vec::new(),
            timing_out: false,
            cfg: cfg.clone(),
        })
    }

    /// A probe-shaped packet: records the first contact (or a retransmission).
    fn probe(&mut self, ts: Timestamp, t: Target, p: Probe, ip_proto: u8, out: &mut Alerts<'_>) {
        let new = match self.contacts.get_mut(&t) {
            None => true,
            Some(c) => {
                // Once answered, later packets to the target are a conversation (a bulk
                // flow's ACKs), not probes: two look-ups per packet in steady state.
                if c.outcome != Outcome::Pending {
                    return;
                }
                c.packets = c.packets.saturating_add(1);
                if c.packets > c.max_packets {
                    self.resolve(ts, t, Outcome::Neutral, out);
                    return;
                }
                false
            }
        };
        if new {
            self.contacts.entry(t, ts, || Contact {
                first: ts,
                outcome: Outcome::Pending,
                packets: 1,
                max_packets: if matches!(p, Probe::Ack | Probe::Maimon) {
                    2
                } else {
                    MAX_PROBE_PACKETS
                },
            });
        }
        self.count(
            ts,
            t,
            p,
            ip_proto,
            new.then_some(None),
            Outcome::Pending,
            out,
        );
    }

    /// Updates the pair and sweep counters of target `t`: a probe packet of type `p` when
    /// `change` is `None`... (`change` = Some(previous outcome or None for a new target)).
    #[allow(clippy::too_many_arguments)]
    fn count(
        &mut self,
        ts: Timestamp,
        t: Target,
        p: Probe,
        ip_proto: u8,
        change: Option<Option<Outcome>>,
        to: Outcome,
        out: &mut Alerts<'_>,
    ) {
        let vertical = matches!(t.class, CLASS_TCP | CLASS_UDP | CLASS_IPPROTO);
        let pair = self.pairs.entry((t.src, t.dst), ts, Pair::default);
        pair.protos[usize::from(ip_proto >> 6)] |= 1 << (ip_proto & 63);
        if vertical {
            let c = &mut pair.c;
            c.probes += 1;
            c.types[p as usize] += 1;
            c.first.get_or_insert(ts);
            c.last = ts;
            if let Some(from) = change {
                c.apply(from, to);
                if from.is_none() && t.class != CLASS_IPPROTO && usize::from(pair.n_ports) < LIST {
                    pair.ports[usize::from(pair.n_ports)] = t.port;
                    pair.n_ports += 1;
                }
            }
        }
        if t.class != CLASS_IPPROTO {
            let s = self.sweeps.entry((t.src, t.class, t.port), ts, || Sweep {
                c: Counts::default(),
                hosts: [t.dst; LIST],
                n_hosts: 0,
            });
            let c = &mut s.c;
            c.probes += 1;
            c.types[p as usize] += 1;
            c.first.get_or_insert(ts);
            c.last = ts;
            if let Some(from) = change {
                c.apply(from, to);
                if from.is_none() && usize::from(s.n_hosts) < LIST {
                    s.hosts[usize::from(s.n_hosts)] = t.dst;
                    s.n_hosts += 1;
                }
            }
        }
        self.check(ts, t, out);
    }

    /// An answer (or a timeout) for target `t`.
    fn resolve(&mut self, ts: Timestamp, t: Target, to: Outcome, out: &mut Alerts<'_>) {
        let Some(c) = self.contacts.get_mut(&t) else {
            return;
        };
        let from = c.outcome;
        if from != Outcome::Pending {
            return;
        }
        c.outcome = to;
        self.outcome(ts, t, Some(from), to, out);
    }

    /// An ICMP error names a probe the capture did not hold (only answers captured): the
    /// quoted packet is a first contact that failed.
    fn orphan_failure(
        &mut self,
        ts: Timestamp,
        t: Target,
        p: Probe,
        ip_proto: u8,
        out: &mut Alerts<'_>,
    ) {
        if self.contacts.get(&t).is_some() {
            self.resolve(ts, t, Outcome::Failed, out);
            return;
        }
        self.contacts.entry(t, ts, || Contact {
            first: ts,
            outcome: Outcome::Failed,
            packets: 1,
            max_packets: MAX_PROBE_PACKETS,
        });
        self.trw(ts, t.src, Outcome::Failed);
        self.count(ts, t, p, ip_proto, Some(None), Outcome::Failed, out);
        if t.class == CLASS_TCP {
            let new_source = self
                .pairs
                .get(&(t.src, t.dst))
                .is_some_and(|p| p.c.failed == DISTRIBUTED_MIN_PORTS);
            self.distributed(ts, t, new_source, out);
        }
    }

    fn trw(&mut self, ts: Timestamp, src: IpAddr, to: Outcome) {
        let s = self.sources.entry(src, ts, Source::default);
        match to {
            Outcome::Failed => s.llr += self.ln_fail,
            Outcome::Success => s.llr += self.ln_success,
            _ => return,
        }
        if s.llr >= self.ln_eta1 {
            s.scanner = true;
            s.llr = self.ln_eta1;
        } else if s.llr <= self.ln_eta0 {
            // Benign verdict: the walk restarts (continuous monitoring, as Bro's TRW).
            s.llr = 0.0;
        }
    }

    fn outcome(
        &mut self,
        ts: Timestamp,
        t: Target,
        from: Option<Outcome>,
        to: Outcome,
        out: &mut Alerts<'_>,
    ) {
        self.trw(ts, t.src, to);
        let mut first_failure = None;
        if matches!(t.class, CLASS_TCP | CLASS_UDP | CLASS_IPPROTO) {
            if let Some(pair) = self.pairs.get_mut(&(t.src, t.dst)) {
                pair.c.apply(from, to);
                if to == Outcome::Failed && t.class == CLASS_TCP && !self.timing_out {
                    first_failure = Some(pair.c.failed == DISTRIBUTED_MIN_PORTS);
                }
            }
        }
        if let Some(new_source) = first_failure {
            self.distributed(ts, t, new_source, out);
        }
        if t.class != CLASS_IPPROTO {
            if let Some(s) = self.sweeps.get_mut(&(t.src, t.class, t.port)) {
                s.c.apply(from, to);
            }
        }
        self.check(ts, t, out);
    }

    fn scanner(&self, src: IpAddr) -> (bool, f64) {
        self.sources
            .get(&src)
            .map_or((false, 0.0), |s| (s.scanner, s.llr.exp()))
    }

    /// Thresholds crossed by counts `c` (vertical: ports, horizontal: hosts).
    fn crossed(&self, c: &Counts, fixed: u32, scanner: bool, burst: bool) -> Vec<&'static str> {
        let scanner = scanner && burst;
        let mut v = Vec::new();
        if c.failed >= fixed {
            v.push("fixed_failed_targets");
        }
        if scanner && c.failed >= self.cfg.min_failures && mostly_failed(c.succeeded, c.failed) {
            v.push("trw");
        }
        if burst
            && c.unanswered() >= self.cfg.burst_unanswered
            && mostly_failed(c.succeeded, c.unanswered())
        {
            v.push("unanswered_burst");
        }
        v
    }

    fn quick_crossed(&self, c: &Counts, fixed: u32, scanner: bool, burst: bool) -> bool {
        let scanner = scanner && burst;
        c.failed >= fixed
            || (scanner
                && c.failed >= self.cfg.min_failures
                && mostly_failed(c.succeeded, c.failed))
            || (burst
                && c.unanswered() >= self.cfg.burst_unanswered
                && mostly_failed(c.succeeded, c.unanswered()))
    }

    /// Raises or refreshes the alerts of target `t`'s pair and sweep.
    fn check(&mut self, ts: Timestamp, t: Target, out: &mut Alerts<'_>) {
        let (scanner, _) = self.scanner(t.src);
        if let Some(pair) = self.pairs.get(&(t.src, t.dst)) {
            let np = pair.n_protos();
            let fresh_proto = !pair.proto_raised && np >= self.cfg.ip_protocols;
            let fresh = pair.c.raised.is_none()
                && self.quick_crossed(&pair.c, self.cfg.vertical_ports, scanner, true);
            let due = pair.c.raised.is_some() && pair.c.dirty;
            if fresh || fresh_proto || due {
                self.report_pair(ts, t.src, t.dst, fresh, fresh_proto, out);
            }
        }
        if t.class != CLASS_IPPROTO {
            let k = (t.src, t.class, t.port);
            if let Some(s) = self.sweeps.get(&k) {
                let burst = s.c.dominant().burst_ok();
                let fresh = s.c.raised.is_none()
                    && self.quick_crossed(&s.c, self.cfg.horizontal_hosts, scanner, burst)
                    && !(t.class == CLASS_UDP && s.spread());
                if fresh || (s.c.raised.is_some() && s.c.dirty) {
                    self.report_sweep(ts, k, fresh, out);
                }
            }
        }
    }

    fn expire(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        let timeout = self.cfg.probe_timeout_s.saturating_mul(SEC);
        let window = self.cfg.window_s.saturating_mul(SEC);
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        for (k, _, c) in self.contacts.iter() {
            let age = ts.since(c.first);
            if age >= window {
                due.push((*k, c.outcome, true));
            } else if c.outcome == Outcome::Pending && age >= timeout {
                due.push((*k, c.on_timeout(), false));
            }
        }
        for &(t, o, forget) in &due {
            if forget {
                self.contacts.remove(&t);
                if let Some(p) = self.pairs.get_mut(&(t.src, t.dst)) {
                    if matches!(t.class, CLASS_TCP | CLASS_UDP | CLASS_IPPROTO) {
                        p.c.forget(o);
                    }
                }
                if let Some(s) = self.sweeps.get_mut(&(t.src, t.class, t.port)) {
                    s.c.forget(o);
                }
            } else {
                self.timing_out = true;
                self.resolve(ts, t, o, out);
                self.timing_out = false;
            }
        }
        self.due = due;
        // Idle state goes with its last target.
        self.pairs.retain(|_, last, p| {
            ts.since(last) < window || p.c.raised.is_some() && ts.since(last) < 2 * window
        });
        self.sweeps.retain(|_, last, _| ts.since(last) < window);
        self.victims.retain(|_, last, _| ts.since(last) < window);
        self.sources.retain(|_, last, _| ts.since(last) < window);
    }

    /// Refreshes raised alerts whose evidence changed (at most once a second).
    fn refresh(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        let mut keys = std::mem::take(&mut self.due);
        keys.clear();
        for (k, _, p) in self.pairs.iter() {
            if p.c.raised.is_some() && p.c.dirty {
                keys.push((
                    Target {
                        src: k.0,
                        dst: k.1,
                        class: CLASS_TCP,
                        port: 0,
                    },
                    Outcome::Neutral,
                    false,
                ));
            }
        }
        for (k, _, s) in self.sweeps.iter() {
            if s.c.raised.is_some() && s.c.dirty {
                keys.push((
                    Target {
                        src: k.0,
                        dst: k.0,
                        class: k.1,
                        port: k.2,
                    },
                    Outcome::Neutral,
                    true,
                ));
            }
        }
        for &(t, _, sweep) in &keys {
            if sweep {
                self.report_sweep(ts, (t.src, t.class, t.port), false, out);
            } else {
                self.report_pair(ts, t.src, t.dst, false, false, out);
            }
        }
        self.due = keys;
    }
}

impl Detector for PortScan {
    fn id(&self) -> DetectorId {
        DetectorId::PortScan
    }
    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::TICK
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        if let Some(a) = pkt.arp {
            let s = IpAddr::V4(Ipv4Addr::from(a.sender_ip));
            let d = IpAddr::V4(Ipv4Addr::from(a.target_ip));
            // Gratuitous ARP (sender = target) and ARP probes (sender 0.0.0.0) are not probes.
            if a.sender_ip == a.target_ip || not_unicast(s) || not_unicast(d) {
                return;
            }
            match a.op {
                1 => {
                    let t = Target {
                        src: s,
                        dst: d,
                        class: CLASS_ARP,
                        port: 0,
                    };
                    self.probe(ts, t, Probe::Arp, 0, out);
                }
                2 => {
                    let t = Target {
                        src: d,
                        dst: s,
                        class: CLASS_ARP,
                        port: 0,
                    };
                    self.resolve(ts, t, Outcome::Success, out);
                }
                _ => {}
            }
            return;
        }
        let Some(ip) = pkt.ip else { return };
        if ip.frag_offset != 0 || not_unicast(ip.src) {
            return;
        }
        // Frames to a broadcast or multicast MAC are discovery (NetBIOS, SSDP, DHCP...).
        let l2_group = pkt.eth.is_some_and(|e| e.dst[0] & 1 != 0);
        let to_group = l2_group || not_unicast(ip.dst);
        match pkt.transport {
            Transport::Tcp(t) => {
                if !to_group {
                    self.tcp_packet(ts, ip.src, ip.dst, &t, pkt.payload.is_empty(), out);
                }
            }
            Transport::Udp(u) => {
                let back = Target {
                    src: ip.dst,
                    dst: ip.src,
                    class: CLASS_UDP,
                    port: u.src_port,
                };
                if self.contacts.get(&back).is_some() {
                    self.resolve(ts, back, Outcome::Success, out);
                    return;
                }
                // From a service port (< 1024): a server's answer, or reflection traffic
                // (DNS, NTP, SNMP, IKE amplification), never a scanner's probe (scanners use
                // ephemeral source ports; nmap -g 53 is missed).
                if to_group || u.src_port < 1024 {
                    return;
                }
                let t = Target {
                    src: ip.src,
                    dst: ip.dst,
                    class: CLASS_UDP,
                    port: u.dst_port,
                };
                self.probe(ts, t, Probe::Udp, 17, out);
            }
            Transport::Icmp(i) | Transport::Icmpv6(i) => {
                let v6 = matches!(pkt.transport, Transport::Icmpv6(_));
                if !to_group || i.icmp_type == 3 || i.icmp_type == 1 {
                    self.icmp_packet(ts, &ip, v6, i, pkt.payload, out);
                }
            }
            Transport::Sctp { .. } => {}
            Transport::None => {
                let p = ip.proto;
                if to_group
                    || matches!(
                        p,
                        IpProto::TCP
                            | IpProto::UDP
                            | IpProto::ICMP
                            | IpProto::ICMPV6
                            | IpProto::SCTP
                    )
                {
                    return;
                }
                let t = Target {
                    src: ip.src,
                    dst: ip.dst,
                    class: CLASS_IPPROTO,
                    port: u16::from(p.0),
                };
                self.probe(ts, t, Probe::IpProto, p.0, out);
            }
        }
    }

    fn tick(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        self.expire(ts, out);
        self.refresh(ts, out);
    }

    fn finish(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        // Outstanding probes time out; the final evidence is reported.
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        for (k, _, c) in self.contacts.iter() {
            if c.outcome == Outcome::Pending {
                due.push((*k, c.on_timeout(), false));
            }
        }
        for &(t, o, _) in &due {
            self.timing_out = true;
            self.resolve(ts, t, o, out);
            self.timing_out = false;
        }
        self.due = due;
        for (_, _, p) in self.pairs.iter_mut() {
            p.c.every = Every::default();
        }
        for (_, _, s) in self.sweeps.iter_mut() {
            s.c.every = Every::default();
        }
        for (_, _, s) in self.sources.iter_mut() {
            s.sweep_report = Every::default();
        }
        self.refresh(ts, out);
        self.finish_distributed(ts, out);
    }

    fn stats(&self) -> DetectorStats {
        let e = self.sources.len()
            + self.contacts.len()
            + self.pairs.len()
            + self.sweeps.len()
            + self.victims.len();
        let c = self.sources.cap()
            + self.contacts.cap()
            + self.pairs.cap()
            + self.sweeps.cap()
            + self.victims.cap();
        DetectorStats {
            entries: e as u64,
            capacity: c as u64,
            evicted_total: self.sources.evicted_total
                + self.contacts.evicted_total
                + self.pairs.evicted_total
                + self.sweeps.evicted_total
                + self.victims.evicted_total,
        }
    }
}
