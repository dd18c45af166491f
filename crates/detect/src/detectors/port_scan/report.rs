//! Evidence and alerts of `port_scan`: the vertical (source, destination) alerts named by
//! probe type, the IP-protocol scan and the host sweeps.

use super::state::*;
use super::PortScan;
use crate::detectors::util::{host_draft, SEC};
use crate::{evidence, Alerts, DetectorId};
use std::net::IpAddr;
use wirescope_core::Timestamp;

impl PortScan {
    pub(super) fn report_pair(
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
                "distinct_ports" => 0,
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

    pub(super) fn report_sweep(
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
        if let Some(src) = self.sources.get_mut(&k.0) {
            if !src.sweep_report.due(ts, SEC) && !fresh {
                return;
            }
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
        // Every sweep of this source shares one alert (key: source, no destination): list
        // them all, so that an ARP sweep followed by a ping sweep shows both.
        let mut all: Vec<(u8, u16, &'static str, u32, u32)> = self
            .sweeps
            .iter()
            .filter(|(key, _, w)| key.0 == k.0 && w.c.raised.is_some())
            .map(|(key, _, w)| (key.1, key.2, w.c.dominant().name(), w.c.targets, w.c.failed))
            .collect();
        all.sort_unstable();
        let sweeps: Vec<serde_json::Value> = all
            .iter()
            .take(LIST)
            .map(|&(class, port, ty, hosts, failed)| {
                serde_json::Value::Object(evidence! {
                    "scan_type" => ty,
                    "port" => matches!(class, CLASS_TCP | CLASS_UDP).then_some(port),
                    "distinct_hosts" => hosts,
                    "failures" => failed,
                })
            })
            .collect();
        let Some(s) = self.sweeps.get(&k) else { return };
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
            "sweeps" => sweeps,
        };
        out.raise(d);
    }
}
