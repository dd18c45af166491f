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
//! - neutral: ICMP time exceeded (traceroute), which says nothing about the target.
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
//! A vertical alert (key: source, destination) is raised when, on one destination, the failed
//! distinct ports reach `vertical_ports` (Zeek: 15), or `min_failures` when TRW flagged the
//! source, or when `burst_unanswered` distinct ports are unanswered (failed or still pending)
//! with at most a quarter as many successes (catches fast scans of filtered hosts before any
//! timeout). An `ip_protocol_scan` is `ip_protocols` distinct IP protocol numbers sent to one
//! host. A horizontal alert (`host_sweep`, key: source, no destination) uses
//! `horizontal_hosts` (Zeek: 25), `min_failures` with TRW, and the unanswered burst for
//! ICMP/ARP/UDP/raw-TCP probes (never for OS-stack SYNs: a browser opens many connections at
//! once). The alert kind is the dominant probe type; it is fixed when the alert is raised and
//! its evidence is refreshed at most once a second of packet time.
//!
//! # Parameters (defaults)
//! See [`Config`]: `probe_timeout_s` 3, `window_s` 900, `trw_theta0` 0.8, `trw_theta1` 0.2,
//! `trw_eta1` 99, `trw_eta0` 0.01, `min_failures` 5, `vertical_ports` 15, `horizontal_hosts`
//! 25, `burst_unanswered` 10, `ip_protocols` 8, `fast_probes_per_s` 1000, table caps.
//!
//! # Known false positives
//! One-way captures (only one direction seen) turn every first contact into a timeout
//! failure; a host that legitimately probes (monitoring systems, vulnerability scanners,
//! network discovery) is a scanner by this definition; UDP services that never answer
//! (syslog, NetFlow export) only count once per port. Packets to multicast and broadcast
//! addresses, gratuitous ARP and ARP probes are never probes.
//!
//! # Cost
//! Per packet: up to four bounded-table look-ups, no allocation. Per tick (once a second of
//! packet time): one pass over the pending-contact table. Allocation only when raising.
//!
//! # State bound
//! Four [`Table`]s: sources (`max_sources`, 16 384), contacts (`max_contacts`, 131 072),
//! vertical pairs (`max_pairs`, 16 384), horizontal sweeps (`max_sweeps`, 16 384); about
//! 20 MB at the caps.

use super::util::{host_draft, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wirescope_core::{IpProto, Timestamp};
use wirescope_wire::{tcp_flags as F, IcmpInfo, IpInfo, Packet, Transport};

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
    pub max_sources: usize,
    pub max_contacts: usize,
    pub max_pairs: usize,
    pub max_sweeps: usize,
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
        }
    }
}

/// Probe types, in kind order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Probe {
    Syn = 0,
    Connect,
    Fin,
    Xmas,
    Null,
    Ack,
    Maimon,
    Udp,
    IpProto,
    Icmp,
    Arp,
}
const N_PROBES: usize = 11;
const PROBES: [Probe; N_PROBES] = [
    Probe::Syn,
    Probe::Connect,
    Probe::Fin,
    Probe::Xmas,
    Probe::Null,
    Probe::Ack,
    Probe::Maimon,
    Probe::Udp,
    Probe::IpProto,
    Probe::Icmp,
    Probe::Arp,
];

impl Probe {
    fn name(self) -> &'static str {
        match self {
            Probe::Syn => "tcp_syn",
            Probe::Connect => "tcp_connect",
            Probe::Fin => "tcp_fin",
            Probe::Xmas => "tcp_xmas",
            Probe::Null => "tcp_null",
            Probe::Ack => "tcp_ack",
            Probe::Maimon => "tcp_maimon",
            Probe::Udp => "udp",
            Probe::IpProto => "ip_protocol",
            Probe::Icmp => "icmp",
            Probe::Arp => "arp",
        }
    }
    /// Vertical alert kind and its index.
    fn kind(self) -> (&'static str, u16) {
        match self {
            Probe::Syn => ("syn_scan", 0),
            Probe::Connect => ("connect_scan", 1),
            Probe::Fin => ("fin_scan", 2),
            Probe::Xmas => ("xmas_scan", 3),
            Probe::Null => ("null_scan", 4),
            Probe::Ack => ("ack_scan", 5),
            Probe::Maimon => ("maimon_scan", 6),
            Probe::Udp => ("udp_scan", 7),
            Probe::IpProto | Probe::Icmp | Probe::Arp => ("ip_protocol_scan", 8),
        }
    }
    /// Sweeps of OS-stack SYNs need the fixed threshold (neither TRW nor the burst rule): a
    /// device whose uplink is down fails to reach a handful of cloud servers on 443 in a row
    /// (seen in the IoT benign corpus), and browsers open many connections at once.
    fn burst_ok(self) -> bool {
        self != Probe::Connect
    }
}

const HOST_SWEEP: (&str, u16) = ("host_sweep", 9);
const CLASS_TCP: u8 = 6;
const CLASS_UDP: u8 = 17;
const CLASS_ICMP: u8 = 1;
const CLASS_ARP: u8 = 254;
const CLASS_IPPROTO: u8 = 253;
/// Ports / hosts listed in evidence (the first ones seen, sorted).
const LIST: usize = 20;

#[derive(Clone, Copy, Hash, PartialEq, Eq)]
struct Target {
    src: IpAddr,
    dst: IpAddr,
    class: u8,
    port: u16,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pending,
    Failed,
    Success,
    Neutral,
}

struct Contact {
    first: Timestamp,
    outcome: Outcome,
    /// Probe packets sent to the target while unanswered.
    packets: u16,
    /// Unanswered packets beyond which silence is a one-way conversation, not a failure:
    /// [`MAX_PROBE_PACKETS`], or 2 for bare ACK and FIN-ACK (the first packets a capture sees
    /// of an ongoing connection; a scanner sends one and at most one retransmission).
    max_packets: u16,
}

/// More unanswered packets than this to one target is a one-way conversation, not a probe:
/// scanners send one probe and a retransmission or two within the probe timeout (nmap: at
/// most one UDP retransmission at -T4; Linux SYN retransmissions at 1 s and 3 s).
const MAX_PROBE_PACKETS: u16 = 3;

impl Contact {
    fn on_timeout(&self) -> Outcome {
        if self.packets <= self.max_packets {
            Outcome::Failed
        } else {
            Outcome::Neutral
        }
    }
}

#[derive(Default)]
struct Counts {
    /// Distinct targets within the window.
    targets: u32,
    pending: u32,
    failed: u32,
    succeeded: u32,
    /// Probe packets (retransmissions included).
    probes: u64,
    types: [u32; N_PROBES],
    first: Option<Timestamp>,
    last: Timestamp,
    raised: Option<(&'static str, u16)>,
    probes_when_raised: u64,
    targets_when_raised: u32,
    raised_at: Timestamp,
    dirty: bool,
    every: Every,
}

impl Counts {
    fn unanswered(&self) -> u32 {
        self.pending + self.failed
    }
    fn dominant(&self) -> Probe {
        let mut best = Probe::Syn;
        let mut n = 0;
        for p in PROBES {
            if self.types[p as usize] > n {
                n = self.types[p as usize];
                best = p;
            }
        }
        best
    }
    fn rate(&self) -> f64 {
        let Some(first) = self.first else { return 0.0 };
        let secs = (self.last.since(first) as f64 / 1e9).max(1.0);
        self.probes as f64 / secs
    }
    fn apply(&mut self, from: Option<Outcome>, to: Outcome) {
        match from {
            None => self.targets += 1,
            Some(Outcome::Pending) => self.pending = self.pending.saturating_sub(1),
            Some(Outcome::Failed) => self.failed = self.failed.saturating_sub(1),
            Some(Outcome::Success) => self.succeeded = self.succeeded.saturating_sub(1),
            Some(Outcome::Neutral) => {}
        }
        match to {
            Outcome::Pending => self.pending += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Success => self.succeeded += 1,
            Outcome::Neutral => {}
        }
        self.dirty = true;
    }
    /// A target left the window.
    fn forget(&mut self, o: Outcome) {
        self.targets = self.targets.saturating_sub(1);
        match o {
            Outcome::Pending => self.pending = self.pending.saturating_sub(1),
            Outcome::Failed => self.failed = self.failed.saturating_sub(1),
            Outcome::Success => self.succeeded = self.succeeded.saturating_sub(1),
            Outcome::Neutral => {}
        }
    }
}

/// (source, destination): vertical scans.
#[derive(Default)]
struct Pair {
    c: Counts,
    ports: [u16; LIST],
    n_ports: u8,
    /// IP protocol numbers seen (a 256-bit set).
    protos: [u64; 4],
    proto_raised: bool,
    proto_probes_when_raised: u64,
    proto_targets_when_raised: u32,
}

impl Pair {
    fn n_protos(&self) -> u32 {
        self.protos.iter().map(|w| w.count_ones()).sum()
    }
}

/// (source, class, port): horizontal sweeps.
struct Sweep {
    c: Counts,
    hosts: [IpAddr; LIST],
    n_hosts: u8,
}

impl Sweep {
    /// The hosts are scattered over more /24 (IPv6: /48) networks than half their number:
    /// peer-to-peer contacts (Gnutella, DHT, QUIC peers in the nDPI captures), not a sweep of
    /// a network. An outbound Internet-wide UDP sweep is missed by this rule (documented).
    fn spread(&self) -> bool {
        let hosts = &self.hosts[..usize::from(self.n_hosts)];
        let prefix = |h: &IpAddr| -> u64 {
            match h {
                IpAddr::V4(a) => u64::from(u32::from(*a) >> 8),
                IpAddr::V6(a) => (u128::from(*a) >> 80) as u64 | 1 << 63,
            }
        };
        let distinct = hosts
            .iter()
            .enumerate()
            .filter(|(i, h)| !hosts[..*i].iter().any(|g| prefix(g) == prefix(h)))
            .count();
        hosts.len() >= 4 && distinct * 2 > hosts.len()
    }
}

#[derive(Default)]
struct Source {
    /// ln of the TRW likelihood ratio.
    llr: f64,
    scanner: bool,
}

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
    /// Reused buffer of contacts to resolve on a tick (no per-tick allocation once grown).
    due: Vec<(Target, Outcome, bool)>,
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
            due: Vec::new(),
            cfg: cfg.clone(),
        })
    }

    /// A probe-shaped packet: records the first contact (or a retransmission).
    fn probe(&mut self, ts: Timestamp, t: Target, p: Probe, ip_proto: u8, out: &mut Alerts<'_>) {
        let new = match self.contacts.get_mut(&t) {
            None => true,
            Some(c) => {
                c.packets = c.packets.saturating_add(1);
                if c.outcome == Outcome::Pending && c.packets > c.max_packets {
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
        if matches!(t.class, CLASS_TCP | CLASS_UDP | CLASS_IPPROTO) {
            if let Some(pair) = self.pairs.get_mut(&(t.src, t.dst)) {
                pair.c.apply(from, to);
            }
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

    fn report_pair(
        &mut self,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        fresh: bool,
        fresh_proto: bool,
        out: &mut Alerts<'_>,
    ) {
        let (scanner, lr) = self.scanner(src);
        let Some(pair) = self.pairs.get_mut(&(src, dst)) else {
            return;
        };
        let now_raise = fresh || (pair.c.raised.is_some() && pair.c.every.due(ts, SEC));
        if !now_raise && !fresh_proto {
            return;
        }
        let Some(pair) = self.pairs.get(&(src, dst)) else {
            return;
        };
        let crossed = self.crossed(&pair.c, self.cfg.vertical_ports, scanner, true);
        let np = pair.n_protos();
        let Some(pair) = self.pairs.get_mut(&(src, dst)) else {
            return;
        };
        let c = &mut pair.c;
        if fresh {
            c.raised = Some(c.dominant().kind());
            c.probes_when_raised = c.probes;
            c.targets_when_raised = c.targets;
            c.raised_at = ts;
            c.every.due(ts, SEC);
        }
        if fresh_proto {
            pair.proto_raised = true;
            pair.proto_probes_when_raised = pair.c.probes;
            pair.proto_targets_when_raised = np;
        }
        let c = &pair.c;
        let mut ports: Vec<u16> = pair.ports[..usize::from(pair.n_ports)].to_vec();
        ports.sort_unstable();
        let onset = c.first.unwrap_or(ts);
        let rate = c.rate();
        let fast = rate >= f64::from(self.cfg.fast_probes_per_s);
        let types: serde_json::Map<String, serde_json::Value> = PROBES
            .iter()
            .filter(|p| c.types[**p as usize] > 0)
            .map(|p| (p.name().to_string(), c.types[*p as usize].into()))
            .collect();
        let mut drafts = Vec::new();
        if now_raise {
            if let Some((kind, idx)) = c.raised {
                let scan_type = c.dominant();
                let mut d = host_draft(
                    DetectorId::PortScan,
                    kind,
                    idx,
                    format!(
                        "{} port scan of {dst} from {src}: {} ports, {} failed",
                        scan_type.name(),
                        c.targets,
                        c.failed
                    ),
                    "Attempted Information Leak",
                    2,
                    Some(src),
                    Some(dst),
                    onset,
                    ts,
                );
                d.evidence = evidence! {
                    "scan_type" => scan_type.name(),
                    "direction" => "vertical",
                    "probes" => c.probes,
                    "probes_when_raised" => c.probes_when_raised,
                    "targets_when_raised" => c.targets_when_raised,
                    "probe_types" => types.clone(),
                    "distinct_ports" => c.targets,
                    "ports" => ports.clone(),
                    "distinct_hosts" => 1,
                    "failures" => c.failed,
                    "successes" => c.succeeded,
                    "unanswered" => c.pending,
                    "trw_likelihood_ratio" => lr,
                    "trw_scanner" => scanner,
                    "window_s" => self.cfg.window_s,
                    "thresholds_crossed" => crossed.clone(),
                    "thresholds" => evidence! {
                        "vertical_ports" => self.cfg.vertical_ports,
                        "min_failures" => self.cfg.min_failures,
                        "burst_unanswered" => self.cfg.burst_unanswered,
                        "trw_eta1" => self.cfg.trw_eta1,
                    },
                    "probe_rate_per_s" => (rate * 10.0).round() / 10.0,
                    "fast_scanner" => fast,
                };
                drafts.push(d);
            }
        }
        if pair.proto_raised && (fresh_proto || now_raise || c.raised.is_none()) {
            let protos: Vec<u32> = (0..256u32)
                .filter(|&p| pair.protos[(p >> 6) as usize] & (1 << (p & 63)) != 0)
                .take(LIST)
                .collect();
            let (kind, idx) = Probe::IpProto.kind();
            let mut d = host_draft(
                DetectorId::PortScan,
                kind,
                idx,
                format!("IP protocol scan of {dst} from {src}: {np} protocols"),
                "Attempted Information Leak",
                2,
                Some(src),
                Some(dst),
                onset,
                ts,
            );
            d.evidence = evidence! {
                "scan_type" => "ip_protocol",
                "direction" => "vertical",
                "probes" => c.probes,
                "probes_when_raised" => pair.proto_probes_when_raised,
                "targets_when_raised" => pair.proto_targets_when_raised,
                "distinct_protocols" => np,
                "protocols" => protos,
                "distinct_hosts" => 1,
                "failures" => c.failed,
                "successes" => c.succeeded,
                "trw_likelihood_ratio" => lr,
                "window_s" => self.cfg.window_s,
                "thresholds_crossed" => vec!["ip_protocols"],
                "thresholds" => evidence! { "ip_protocols" => self.cfg.ip_protocols },
                "probe_rate_per_s" => (rate * 10.0).round() / 10.0,
                "fast_scanner" => fast,
            };
            drafts.push(d);
        }
        if now_raise {
            pair.c.dirty = false;
        }
        for d in drafts {
            out.raise(d);
        }
    }

    fn report_sweep(
        &mut self,
        ts: Timestamp,
        k: (IpAddr, u8, u16),
        fresh: bool,
        out: &mut Alerts<'_>,
    ) {
        let (scanner, lr) = self.scanner(k.0);
        let Some(s) = self.sweeps.get_mut(&k) else {
            return;
        };
        if !fresh && !s.c.every.due(ts, SEC) {
            return;
        }
        let Some(s) = self.sweeps.get(&k) else { return };
        let burst = s.c.dominant().burst_ok();
        let crossed = self.crossed(&s.c, self.cfg.horizontal_hosts, scanner, burst);
        let Some(s) = self.sweeps.get_mut(&k) else {
            return;
        };
        let c = &mut s.c;
        if fresh {
            c.raised = Some(HOST_SWEEP);
            c.probes_when_raised = c.probes;
            c.targets_when_raised = c.targets;
            c.raised_at = ts;
        }
        if fresh {
            c.every.due(ts, SEC);
        }
        c.dirty = false;
        let c = &s.c;
        let mut hosts: Vec<IpAddr> = s.hosts[..usize::from(s.n_hosts)].to_vec();
        hosts.sort_unstable();
        let rate = c.rate();
        let proto = c.dominant();
        let port = match k.1 {
            CLASS_TCP | CLASS_UDP => Some(k.2),
            _ => None,
        };
        let (kind, idx) = HOST_SWEEP;
        let mut d = host_draft(
            DetectorId::PortScan,
            kind,
            idx,
            match port {
                Some(p) => format!(
                    "{} sweep of port {p} from {}: {} hosts, {} failed",
                    proto.name(),
                    k.0,
                    c.targets,
                    c.failed
                ),
                None => format!(
                    "{} host sweep from {}: {} hosts, {} failed",
                    proto.name(),
                    k.0,
                    c.targets,
                    c.failed
                ),
            },
            "Attempted Information Leak",
            2,
            Some(k.0),
            None,
            c.first.unwrap_or(ts),
            ts,
        );
        d.evidence = evidence! {
            "scan_type" => proto.name(),
            "direction" => "horizontal",
            "probes" => c.probes,
            "probes_when_raised" => c.probes_when_raised,
            "targets_when_raised" => c.targets_when_raised,
            "port" => port,
            "distinct_ports" => u32::from(port.is_some()),
            "distinct_hosts" => c.targets,
            "hosts" => hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            "failures" => c.failed,
            "successes" => c.succeeded,
            "unanswered" => c.pending,
            "trw_likelihood_ratio" => lr,
            "trw_scanner" => scanner,
            "window_s" => self.cfg.window_s,
            "thresholds_crossed" => crossed,
            "thresholds" => evidence! {
                "horizontal_hosts" => self.cfg.horizontal_hosts,
                "min_failures" => self.cfg.min_failures,
                "burst_unanswered" => self.cfg.burst_unanswered,
                "trw_eta1" => self.cfg.trw_eta1,
            },
            "probe_rate_per_s" => (rate * 10.0).round() / 10.0,
            "fast_scanner" => rate >= f64::from(self.cfg.fast_probes_per_s),
        };
        out.raise(d);
    }

    fn tcp_packet(
        &mut self,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        t: &wirescope_wire::TcpInfo,
        payload_empty: bool,
        out: &mut Alerts<'_>,
    ) {
        let fl = t.flags & (F::FIN | F::SYN | F::RST | F::PSH | F::ACK | F::URG);
        // An answer to a probe of ours?
        let back = Target {
            src: dst,
            dst: src,
            class: CLASS_TCP,
            port: t.src_port,
        };
        if let Some(c) = self.contacts.get(&back) {
            if c.outcome == Outcome::Pending {
                let to = if fl & F::RST != 0 {
                    Outcome::Failed
                } else {
                    Outcome::Success
                };
                self.resolve(ts, back, to, out);
            }
            return;
        }
        let probe = if fl & F::RST != 0 {
            None
        } else if fl & F::SYN != 0 {
            if fl & F::ACK != 0 {
                None // SYN-ACK: an answer, or backscatter, never a probe
            } else if t.options.sack_permitted
                || t.options.timestamps.is_some()
                || t.options.window_scale.is_some()
            {
                Some(Probe::Connect) // the OS stack's SYN (connect()), not a crafted one
            } else {
                Some(Probe::Syn)
            }
        } else if fl & F::ACK != 0 {
            // Bare ACKs and FIN-ACKs also end ordinary connections: when they come from a
            // service port to an ephemeral port they are a server's, not probes.
            let service_reply = t.src_port < 1024 && t.dst_port >= 1024;
            if service_reply || !payload_empty {
                None
            } else if fl == F::ACK {
                Some(Probe::Ack)
            } else if fl == F::ACK | F::FIN {
                Some(Probe::Maimon)
            } else {
                None
            }
        } else if fl == 0 {
            Some(Probe::Null)
        } else if fl & (F::FIN | F::URG) == F::FIN | F::URG {
            Some(Probe::Xmas)
        } else if fl == F::FIN {
            Some(Probe::Fin)
        } else {
            None
        };
        if let Some(p) = probe {
            let tg = Target {
                src,
                dst,
                class: CLASS_TCP,
                port: t.dst_port,
            };
            self.probe(ts, tg, p, 6, out);
        }
    }

    fn icmp_packet(
        &mut self,
        ts: Timestamp,
        ip: &IpInfo,
        v6: bool,
        i: IcmpInfo,
        body: &[u8],
        out: &mut Alerts<'_>,
    ) {
        let (src, dst, ty, code) = (ip.src, ip.dst, i.icmp_type, i.code);
        let (echo_req, echo_rep, unreach, exceeded) = if v6 {
            (ty == 128, ty == 129, ty == 1, ty == 3)
        } else {
            (
                matches!(ty, 8 | 13 | 17),
                matches!(ty, 0 | 14 | 18),
                ty == 3,
                ty == 11,
            )
        };
        if echo_req {
            let t = Target {
                src,
                dst,
                class: CLASS_ICMP,
                port: 0,
            };
            self.probe(ts, t, Probe::Icmp, if v6 { 58 } else { 1 }, out);
        } else if echo_rep {
            let t = Target {
                src: dst,
                dst: src,
                class: CLASS_ICMP,
                port: 0,
            };
            self.resolve(ts, t, Outcome::Success, out);
        } else if unreach || exceeded {
            let Some((qs, qd, qp, (qsport, qport))) = quoted(body, v6) else {
                return;
            };
            // The quoted packet was a server's answer (a late DNS reply to a closed socket):
            // the unreachable is backscatter, not the outcome of a probe.
            let reply = matches!(qp, 6 | 17) && qsport < 1024 && qport >= 1024;
            let (class, probe) = match qp {
                6 => (CLASS_TCP, Probe::Syn),
                17 => (CLASS_UDP, Probe::Udp),
                1 | 58 => (CLASS_ICMP, Probe::Icmp),
                _ => (CLASS_IPPROTO, Probe::IpProto),
            };
            let port = match class {
                CLASS_TCP | CLASS_UDP => qport,
                CLASS_IPPROTO => u16::from(qp),
                _ => 0,
            };
            let t = Target {
                src: qs,
                dst: qd,
                class,
                port,
            };
            // Protocol (2) and port (3) unreachable come from the target itself: its answer
            // to a probe, counted even when the probe was not captured.
            let from_target =
                !v6 && ((class == CLASS_IPPROTO && code == 2) || (class == CLASS_UDP && code == 3));
            if exceeded {
                self.resolve(ts, t, Outcome::Neutral, out);
            } else if reply {
                // nothing: backscatter
            } else if from_target {
                self.orphan_failure(ts, t, probe, qp, out);
            } else {
                self.resolve(ts, t, Outcome::Failed, out);
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
                self.resolve(ts, t, o, out);
            }
        }
        self.due = due;
        // Idle state goes with its last target.
        self.pairs.retain(|_, last, p| {
            ts.since(last) < window || p.c.raised.is_some() && ts.since(last) < 2 * window
        });
        self.sweeps.retain(|_, last, _| ts.since(last) < window);
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

/// (source, destination, protocol, (source port, destination port)) of the packet an ICMP
/// error quotes (RFC 792: the IP header and the first 8 bytes of the datagram).
fn quoted(b: &[u8], v6: bool) -> Option<(IpAddr, IpAddr, u8, (u16, u16))> {
    let (src, dst, proto, l4) = if v6 {
        if b.len() < 40 || b[0] >> 4 != 6 {
            return None;
        }
        let s: [u8; 16] = b[8..24].try_into().ok()?;
        let d: [u8; 16] = b[24..40].try_into().ok()?;
        (
            IpAddr::V6(Ipv6Addr::from(s)),
            IpAddr::V6(Ipv6Addr::from(d)),
            b[6],
            b.get(40..),
        )
    } else {
        if b.len() < 20 || b[0] >> 4 != 4 {
            return None;
        }
        let ihl = usize::from(b[0] & 0x0f) * 4;
        let s: [u8; 4] = b[12..16].try_into().ok()?;
        let d: [u8; 4] = b[16..20].try_into().ok()?;
        (
            IpAddr::V4(Ipv4Addr::from(s)),
            IpAddr::V4(Ipv4Addr::from(d)),
            b[9],
            b.get(ihl..),
        )
    };
    let ports = l4.and_then(|l| l.get(0..4)).map_or((0, 0), |p| {
        (
            u16::from_be_bytes([p[0], p[1]]),
            u16::from_be_bytes([p[2], p[3]]),
        )
    });
    Some((src, dst, proto, ports))
}

/// At most one success per four failures on this host or port: a client that mostly
/// succeeds (a browser, a mail client) is not scanning even when TRW flagged its source after
/// a bad streak elsewhere (nDPI's url_redirection capture: 48 successes, 6 failures).
fn mostly_failed(succeeded: u32, failed: u32) -> bool {
    succeeded.saturating_mul(4) <= failed
}

/// Not a unicast host address: probes to these are discovery, not scans.
fn not_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast() || a.is_unspecified(),
        IpAddr::V6(a) => a.is_multicast() || a.is_unspecified(),
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
                // From a service port to an ephemeral one: a server's answer.
                if to_group || (u.src_port < 1024 && u.dst_port >= 1024) {
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
            self.resolve(ts, t, o, out);
        }
        self.due = due;
        for (_, _, p) in self.pairs.iter_mut() {
            p.c.every = Every::default();
        }
        for (_, _, s) in self.sweeps.iter_mut() {
            s.c.every = Every::default();
        }
        self.refresh(ts, out);
    }

    fn stats(&self) -> DetectorStats {
        let e = self.sources.len() + self.contacts.len() + self.pairs.len() + self.sweeps.len();
        let c = self.sources.cap() + self.contacts.cap() + self.pairs.cap() + self.sweeps.cap();
        DetectorStats {
            entries: e as u64,
            capacity: c as u64,
            evicted_total: self.sources.evicted_total
                + self.contacts.evicted_total
                + self.pairs.evicted_total
                + self.sweeps.evicted_total,
        }
    }
}
