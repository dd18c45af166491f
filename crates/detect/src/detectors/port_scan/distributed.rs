//! Distributed scans: several sources, each possibly under every per-source threshold, whose
//! refused TCP probes together cover many ports of one victim (Snort 3 `port_scan`'s
//! "distributed portscan"). Alert key: no source, the victim as destination.
//!
//! Only answered failures count (RST, ICMP unreachable), never silence, and only TCP: the
//! victim of a flood or of UDP reflection seen in a one-way capture (StopDDoS captures)
//! receives packets from many sources to many ports that are never answered.

use super::state::*;
use super::PortScan;
use crate::detectors::util::{host_draft, Every, SEC};
use crate::{evidence, Alerts, DetectorId};
use std::net::IpAddr;
use wirescope_core::Timestamp;

/// `distributed_scan`'s kind index (after `host_sweep`).
const KIND: (&str, u16) = ("distributed_scan", 10);

/// One victim's failed contacts from all sources.
pub(super) struct Victim {
    /// Sources with a failed probe on this victim (first [`LIST`] kept for evidence).
    srcs: [IpAddr; LIST],
    n_srcs: u8,
    pub(super) sources: u32,
    /// Failed ports, folded onto 1 024 bits: a lower bound of the distinct count (linear
    /// counting without the correction, exact below a few hundred ports).
    ports: [u64; 16],
    failures: u32,
    first: Timestamp,
    raised: bool,
    sources_when_raised: u32,
    every: Every,
}

impl Victim {
    fn new(src: IpAddr, ts: Timestamp) -> Victim {
        Victim {
            srcs: [src; LIST],
            n_srcs: 0,
            sources: 0,
            ports: [0; 16],
            failures: 0,
            first: ts,
            raised: false,
            sources_when_raised: 0,
            every: Every::default(),
        }
    }
    fn distinct_ports(&self) -> u32 {
        self.ports.iter().map(|w| w.count_ones()).sum()
    }
}

impl PortScan {
    /// A TCP probe from `t.src` to `t.dst` was refused; `new_source` when the source has
    /// just reached [`super::DISTRIBUTED_MIN_PORTS`] refused ports on this victim.
    pub(super) fn distributed(
        &mut self,
        ts: Timestamp,
        t: Target,
        new_source: bool,
        out: &mut Alerts<'_>,
    ) {
        let (min_sources, min_ports) = (self.cfg.distributed_sources, self.cfg.distributed_ports);
        if min_sources == 0 {
            return;
        }
        let window = self.cfg.window_s.saturating_mul(SEC);
        let v = self.victims.entry(t.dst, ts, || Victim::new(t.src, ts));
        if !v.raised && ts.since(v.first) >= window {
            // Tumbling window: a busy server's background noise does not add up for ever.
            *v = Victim::new(t.src, ts);
        }
        if new_source {
            v.sources += 1;
            if usize::from(v.n_srcs) < LIST {
                v.srcs[usize::from(v.n_srcs)] = t.src;
                v.n_srcs += 1;
            }
        }
        v.failures += 1;
        let bit = usize::from(t.port & 1023);
        v.ports[bit >> 6] |= 1 << (bit & 63);
        let fresh = !v.raised && v.sources >= min_sources && v.distinct_ports() >= min_ports;
        if fresh {
            v.raised = true;
            v.sources_when_raised = v.sources;
        }
        if !(fresh || (v.raised && v.every.due(ts, SEC))) {
            return;
        }
        if fresh {
            v.every.due(ts, SEC);
        }
        self.report_distributed(ts, t.dst, out);
    }

    pub(super) fn report_distributed(&mut self, ts: Timestamp, dst: IpAddr, out: &mut Alerts<'_>) {
        let Some(v) = self.victims.get(&dst) else {
            return;
        };
        let mut srcs: Vec<IpAddr> = v.srcs[..usize::from(v.n_srcs)].to_vec();
        srcs.sort_unstable();
        let (kind, idx) = KIND;
        let mut d = host_draft(
            DetectorId::PortScan,
            kind,
            idx,
            format!(
                "distributed port scan of {dst}: {} sources, {} ports failed",
                v.sources,
                v.distinct_ports()
            ),
            "Attempted Information Leak",
            2,
            None,
            Some(dst),
            v.first,
            ts,
        );
        d.evidence = evidence! {
            "scan_type" => "distributed",
            "direction" => "vertical",
            "distinct_sources" => v.sources,
            "sources" => srcs.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "sources_when_raised" => v.sources_when_raised,
            "distinct_ports" => v.distinct_ports(),
            "distinct_hosts" => 1,
            "failures" => v.failures,
            "window_s" => self.cfg.window_s,
            "thresholds_crossed" => vec!["distributed_sources_and_ports"],
            "thresholds" => evidence! {
                "distributed_sources" => self.cfg.distributed_sources,
                "distributed_ports" => self.cfg.distributed_ports,
            },
        };
        out.raise(d);
    }

    /// End of input: the final evidence of every raised distributed scan.
    pub(super) fn finish_distributed(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        let raised: Vec<IpAddr> = self
            .victims
            .iter()
            .filter(|(_, _, v)| v.raised)
            .map(|(k, _, _)| *k)
            .collect();
        for dst in raised {
            self.report_distributed(ts, dst, out);
        }
    }
}
