//! The state of `port_scan`: probe types, targets and their outcomes, the counters of a
//! vertical pair and a horizontal sweep, the TRW state of a source.

use super::super::util::Every;
use std::net::IpAddr;
use wirescope_core::Timestamp;

/// Probe types, in kind order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Probe {
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
pub(super) const N_PROBES: usize = 11;
pub(super) const PROBES: [Probe; N_PROBES] = [
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
    pub(super) fn name(self) -> &'static str {
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
    pub(super) fn kind(self) -> (&'static str, u16) {
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
    pub(super) fn burst_ok(self) -> bool {
        self != Probe::Connect
    }
}

pub(super) const HOST_SWEEP: (&str, u16) = ("host_sweep", 9);
pub(super) const CLASS_TCP: u8 = 6;
pub(super) const CLASS_UDP: u8 = 17;
pub(super) const CLASS_ICMP: u8 = 1;
pub(super) const CLASS_ARP: u8 = 254;
pub(super) const CLASS_IPPROTO: u8 = 253;
/// Ports / hosts listed in evidence (the first ones seen, sorted).
pub(super) const LIST: usize = 20;

#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub(super) struct Target {
    pub(super) src: IpAddr,
    pub(super) dst: IpAddr,
    pub(super) class: u8,
    pub(super) port: u16,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Pending,
    Failed,
    Success,
    Neutral,
}

pub(super) struct Contact {
    pub(super) first: Timestamp,
    pub(super) outcome: Outcome,
    /// Probe packets sent to the target while unanswered.
    pub(super) packets: u16,
    /// Unanswered packets beyond which silence is a one-way conversation, not a failure:
    /// [`MAX_PROBE_PACKETS`], or 2 for bare ACK and FIN-ACK (the first packets a capture sees
    /// of an ongoing connection; a scanner sends one and at most one retransmission).
    pub(super) max_packets: u16,
}

/// More unanswered packets than this to one target is a one-way conversation, not a probe:
/// scanners send one probe and a retransmission or two within the probe timeout (nmap: at
/// most one UDP retransmission at -T4; Linux SYN retransmissions at 1 s and 3 s).
pub(super) const MAX_PROBE_PACKETS: u16 = 3;

impl Contact {
    pub(super) fn on_timeout(&self) -> Outcome {
        if self.packets <= self.max_packets {
            Outcome::Failed
        } else {
            Outcome::Neutral
        }
    }
}

#[derive(Default)]
pub(super) struct Counts {
    /// Distinct targets within the window.
    pub(super) targets: u32,
    pub(super) pending: u32,
    pub(super) failed: u32,
    pub(super) succeeded: u32,
    /// Probe packets (retransmissions included).
    pub(super) probes: u64,
    pub(super) types: [u32; N_PROBES],
    pub(super) first: Option<Timestamp>,
    pub(super) last: Timestamp,
    pub(super) raised: Option<(&'static str, u16)>,
    pub(super) probes_when_raised: u64,
    pub(super) targets_when_raised: u32,
    pub(super) raised_at: Timestamp,
    pub(super) dirty: bool,
    pub(super) every: Every,
}

impl Counts {
    pub(super) fn unanswered(&self) -> u32 {
        self.pending + self.failed
    }
    pub(super) fn dominant(&self) -> Probe {
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
    pub(super) fn rate(&self) -> f64 {
        let Some(first) = self.first else { return 0.0 };
        let secs = (self.last.since(first) as f64 / 1e9).max(1.0);
        self.probes as f64 / secs
    }
    pub(super) fn apply(&mut self, from: Option<Outcome>, to: Outcome) {
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
    pub(super) fn forget(&mut self, o: Outcome) {
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
pub(super) struct Pair {
    pub(super) c: Counts,
    pub(super) ports: [u16; LIST],
    pub(super) n_ports: u8,
    /// IP protocol numbers seen (a 256-bit set).
    pub(super) protos: [u64; 4],
    pub(super) proto_raised: bool,
    pub(super) proto_probes_when_raised: u64,
    pub(super) proto_targets_when_raised: u32,
}

impl Pair {
    pub(super) fn n_protos(&self) -> u32 {
        self.protos.iter().map(|w| w.count_ones()).sum()
    }
}

/// (source, class, port): horizontal sweeps.
pub(super) struct Sweep {
    pub(super) c: Counts,
    pub(super) hosts: [IpAddr; LIST],
    pub(super) n_hosts: u8,
}

impl Sweep {
    /// The hosts are scattered over more /24 (IPv6: /48) networks than half their number:
    /// peer-to-peer contacts (Gnutella, DHT, QUIC peers in the nDPI captures), not a sweep of
    /// a network. An outbound Internet-wide UDP sweep is missed by this rule (documented).
    pub(super) fn spread(&self) -> bool {
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
pub(super) struct Source {
    /// ln of the TRW likelihood ratio.
    pub(super) llr: f64,
    pub(super) scanner: bool,
    /// Rate limit of this source's host-sweep evidence: the evidence lists every sweep of
    /// the source (a scan of the sweeps table), so it is rebuilt at most once a second per
    /// source, not once per swept port.
    pub(super) sweep_report: super::Every,
}

/// At most one success per four failures on this host or port: a client that mostly
/// succeeds (a browser, a mail client) is not scanning even when TRW flagged its source after
/// a bad streak elsewhere (nDPI's url_redirection capture: 48 successes, 6 failures).
pub(super) fn mostly_failed(succeeded: u32, failed: u32) -> bool {
    succeeded.saturating_mul(4) <= failed
}

/// Not a unicast host address: probes to these are discovery, not scans.
pub(super) fn not_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast() || a.is_unspecified(),
        IpAddr::V6(a) => a.is_multicast() || a.is_unspecified(),
    }
}
