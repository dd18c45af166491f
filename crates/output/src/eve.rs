//! EVE-style JSON lines (Suricata's field names): `flow` events as flows end, and a `stats`
//! event at the end of the run.

use crate::{flow_community_id, icmp_wire_ports};
use serde_json::json;
use std::io::{self, Write};
use wirescope_core::{IpProto, Timestamp};
use wirescope_engine::{AppCtx, ArpEvent, DnsEvent, Report, Sink};
use wirescope_flow::Flow;

/// Writes EVE events to any writer (a buffered file in practice).
pub struct EveWriter<W: Write> {
    out: W,
    error: Option<io::Error>,
    pub events: u64,
    iface: Option<String>,
}

impl<W: Write> EveWriter<W> {
    pub fn new(out: W) -> Self {
        EveWriter {
            out,
            error: None,
            events: 0,
            iface: None,
        }
    }

    /// Sets `in_iface` for every event (live capture; offline runs leave it out).
    pub fn with_iface(mut self, iface: Option<String>) -> Self {
        self.iface = iface;
        self
    }

    pub(crate) fn iface(&self) -> Option<String> {
        self.iface.clone()
    }

    pub(crate) fn emit_value(&mut self, v: &serde_json::Value) {
        self.emit(v);
    }

    fn emit(&mut self, v: &serde_json::Value) {
        if self.error.is_some() {
            return;
        }
        let r = serde_json::to_writer(&mut self.out, v)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        match r {
            Ok(()) => self.events += 1,
            Err(e) => self.error = Some(e),
        }
    }

    /// The EVE `flow` event for a finished flow.
    pub fn flow_event(&self, fl: &Flow) -> serde_json::Value {
        let (src, sport) = fl.orig();
        let (dst, dport) = fl.resp();
        let proto = fl.key.proto;
        let mut v = json!({
            "timestamp": fl.first_ts.to_string(),
            "flow_id": fl.id,
            "event_type": "flow",
            "src_ip": src.to_string(),
            "dest_ip": dst.to_string(),
            "proto": eve_proto(proto),
            "community_id": flow_community_id(fl),
            "flow": {
                "pkts_toserver": fl.pkts[0],
                "pkts_toclient": fl.pkts[1],
                "bytes_toserver": fl.ip_bytes[0],
                "bytes_toclient": fl.ip_bytes[1],
                "start": fl.first_ts.to_string(),
                "end": fl.last_ts.to_string(),
                "age": fl.duration_ns() / 1_000_000_000,
                "state": eve_state(fl),
                "reason": fl.end_reason.eve(),
                "alerted": false,
            },
        });
        if let Some(iface) = &self.iface {
            v["in_iface"] = json!(iface);
        }
        if let Some(vlan) = fl.vlan {
            v["vlan"] = json!([vlan]);
        }
        if fl.app_proto != wirescope_core::AppProto::Unknown {
            v["app_proto"] = json!(fl.app_proto.eve());
        }
        match proto {
            IpProto::ICMP | IpProto::ICMPV6 => {
                let (t, c) = icmp_wire_ports(fl, sport, dport);
                v["icmp_type"] = json!(t);
                v["icmp_code"] = json!(c);
            }
            p if p.has_ports() => {
                v["src_port"] = json!(sport);
                v["dest_port"] = json!(dport);
            }
            _ => {}
        }
        if proto == IpProto::TCP {
            let all = fl.tcp_flags[0] | fl.tcp_flags[1];
            let mut tcp = json!({
                "tcp_flags": format!("{all:02x}"),
                "tcp_flags_ts": format!("{:02x}", fl.tcp_flags[0]),
                "tcp_flags_tc": format!("{:02x}", fl.tcp_flags[1]),
                "conn_state": fl.conn_state(),
                "history": fl.history.as_str(),
            });
            for (bit, name) in [
                (0x01, "fin"),
                (0x02, "syn"),
                (0x04, "rst"),
                (0x08, "psh"),
                (0x10, "ack"),
                (0x20, "urg"),
                (0x40, "ecn"),
                (0x80, "cwr"),
            ] {
                if all & bit != 0 {
                    tcp[name] = json!(true);
                }
            }
            if let Some(rtt) = fl.rtt_ns {
                tcp["rtt_ms"] = json!(rtt as f64 / 1e6);
            }
            let retrans = fl.tcp[0].retransmissions + fl.tcp[1].retransmissions;
            tcp["retransmissions"] = json!(retrans);
            tcp["missed_bytes"] = json!(fl.tcp[0].missed_bytes + fl.tcp[1].missed_bytes);
            v["tcp"] = tcp;
        }
        v
    }

    /// The closing `stats` event, with Suricata's `decoder` / `flow` counter names where they
    /// have an equivalent.
    pub fn write_stats(&mut self, r: &Report, ts: Option<Timestamp>) {
        let p = |k: &str| r.protocols.get(k).copied().unwrap_or(0);
        let v = json!({
            "timestamp": ts.unwrap_or_default().to_string(),
            "event_type": "stats",
            "stats": {
                "uptime": r.duration_s as u64,
                "decoder": {
                    "pkts": r.packets,
                    "bytes": r.bytes,
                    "ethernet": p("eth"),
                    "ipv4": p("ipv4"),
                    "ipv6": p("ipv6"),
                    "tcp": p("tcp"),
                    "udp": p("udp"),
                    "icmpv4": p("icmp"),
                    "icmpv6": p("icmpv6"),
                    "arp": p("arp"),
                    "vlan": p("vlan"),
                    "gre": p("gre"),
                    "vxlan": p("vxlan"),
                    "mpls": p("mpls"),
                    "pppoe": p("pppoe"),
                    "sctp": p("sctp"),
                    "invalid": r.anomalous_packets,
                    "event": r.anomalies,
                },
                "flow": {
                    "total": r.flows.created,
                    "tcp": r.flows.by_proto.get("tcp").copied().unwrap_or(0),
                    "udp": r.flows.by_proto.get("udp").copied().unwrap_or(0),
                    "icmpv4": r.flows.by_proto.get("icmp").copied().unwrap_or(0),
                    "active_max": r.flows.max_active,
                    "memcap_evictions": r.flows.evicted,
                    "timeouts": r.flows.timed_out,
                },
                "tcp": {
                    "segments": r.loss.tcp_segments,
                    "retransmissions": r.loss.retransmissions,
                    "out_of_order": r.loss.out_of_order,
                    "ack_gaps": r.loss.ack_gaps,
                    "capture_loss_percent": r.loss.capture_loss_percent,
                },
            }
        });
        let mut v = v;
        if let (Some(c), Some(stats)) = (&r.capture, v.get_mut("stats")) {
            stats["capture"] = capture_json(c);
        }
        self.emit(&v);
    }

    /// A periodic `stats` event of a live capture: capture health and the engine's counters
    /// so far. `ts` is when the counters were read.
    pub fn write_live_stats(
        &mut self,
        ts: Timestamp,
        c: &wirescope_engine::live::CaptureHealth,
        s: &wirescope_engine::Snapshot,
    ) {
        let v = json!({
            "timestamp": ts.to_string(),
            "event_type": "stats",
            "stats": {
                "uptime": c.elapsed_s as u64,
                "capture": capture_json(c),
                "decoder": { "pkts": s.packets, "bytes": s.bytes },
                "flow": { "active": s.active_flows },
            }
        });
        self.emit(&v);
    }

    /// Flushes and reports the first write error, if any.
    pub fn finish(mut self) -> io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.events)
    }
}

impl<W: Write> Sink for EveWriter<W> {
    fn flow(&mut self, fl: &Flow) {
        let v = self.flow_event(fl);
        self.emit(&v);
    }
    fn dns(&mut self, ctx: &AppCtx<'_>, ev: &DnsEvent<'_, '_>) {
        self.dns_event(ctx, ev);
    }
    fn http(&mut self, ctx: &AppCtx<'_>, tx: &wirescope_proto::http::Transaction) {
        self.http_event(ctx, tx);
    }
    fn tls(&mut self, ctx: &AppCtx<'_>, s: &wirescope_proto::tls::TlsSession) {
        self.tls_event(ctx, s);
    }
    fn ssh(&mut self, ctx: &AppCtx<'_>, s: &wirescope_proto::ssh::SshSession) {
        self.ssh_event(ctx, s);
    }
    fn socks(&mut self, ctx: &AppCtx<'_>, s: &wirescope_proto::socks::SocksSession) {
        self.socks_event(ctx, s);
    }
    fn proxy(&mut self, ctx: &AppCtx<'_>, h: &wirescope_proto::proxy::ProxyHeader) {
        self.proxy_event(ctx, h);
    }
    fn dhcp_message(&mut self, ctx: &AppCtx<'_>, m: &wirescope_proto::dhcp::Message<'_>) {
        self.dhcp_event(ctx, m);
    }
    fn arp(&mut self, ev: &ArpEvent<'_>) {
        self.arp_event(ev);
    }
}

/// EVE's upper-case protocol name.
pub fn eve_proto(p: IpProto) -> String {
    match p {
        IpProto::TCP => "TCP".into(),
        IpProto::UDP => "UDP".into(),
        IpProto::ICMP => "ICMP".into(),
        IpProto::ICMPV6 => "IPv6-ICMP".into(),
        IpProto::SCTP => "SCTP".into(),
        IpProto::GRE => "GRE".into(),
        IpProto::ESP => "ESP".into(),
        IpProto(n) => n.to_string(),
    }
}

/// Suricata's flow states: `new`, `established`, `closed`.
fn eve_state(fl: &Flow) -> &'static str {
    use wirescope_flow::tcp::EndpointState as S;
    match fl.key.proto {
        IpProto::TCP => {
            if fl
                .tcp
                .iter()
                .any(|e| matches!(e.state, S::Closed | S::Reset))
            {
                "closed"
            } else if fl.tcp.iter().any(|e| e.state == S::Established) {
                "established"
            } else {
                "new"
            }
        }
        _ if fl.pkts[1] > 0 => "established",
        _ => "new",
    }
}

/// The `stats.capture` object: Suricata's kernel counter names, the queue's drops, and the
/// same per interface.
fn capture_json(c: &wirescope_engine::live::CaptureHealth) -> serde_json::Value {
    json!({
        "kernel_packets": c.kernel_received,
        "kernel_drops": c.kernel_dropped,
        "kernel_ifdrops": c.interface_dropped,
        "captured": c.captured,
        "queue_drops": c.queue_dropped,
        "interfaces": c.interfaces.iter().map(|i| json!({
            "interface": i.interface,
            "kernel_packets": i.kernel_received,
            "kernel_drops": i.kernel_dropped,
            "kernel_ifdrops": i.interface_dropped,
            "captured": i.captured,
            "queue_drops": i.queue_dropped,
        })).collect::<Vec<_>>(),
        "errors": c.errors,
    })
}
