//! Probe classification and answers: which packets are probes (and of which type), which
//! answer an earlier probe, and what an ICMP error quotes.

use super::state::*;
use super::PortScan;
use crate::Alerts;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wirescope_core::Timestamp;
use wirescope_wire::{tcp_flags as F, IcmpInfo, IpInfo};

impl PortScan {
    pub(super) fn tcp_packet(
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

    pub(super) fn icmp_packet(
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
            let Some((_, quoted_dst, qp, (qsport, qport))) = quoted(body, v6) else {
                return;
            };
            // Protocol (2) and port (3) unreachable come from the target itself (ICMPv6: port
            // unreachable, 4). The prober is the error's destination and, for these codes,
            // the target its source: the outer header is what the network shows (a NAT
            // rewrites both, a rewritten capture sometimes only the outer one, as in
            // hs-sh-IPscan); routers' errors name the target in the quote only.
            let from_target = if v6 {
                code == 4
            } else {
                code == 2 || code == 3
            };
            let (qs, qd) = (
                dst,
                if unreach && from_target {
                    src
                } else {
                    quoted_dst
                },
            );
            // The quoted packet was a server's answer (a late DNS reply to a closed socket):
            // the unreachable is backscatter, not the outcome of a probe.
            let reply = (qp == 17 && qsport < 1024) || (qp == 6 && qsport < 1024 && qport >= 1024);
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
            // The target's own "protocol / port unreachable" answers a probe, counted even
            // when the probe was not captured.
            let from_target = from_target
                && ((class == CLASS_IPPROTO && code == 2) || (class == CLASS_UDP && code != 2));
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
}

/// (source, destination, protocol, (source port, destination port)) of the packet an ICMP
/// error quotes (RFC 792: the IP header and the first 8 bytes of the datagram).
pub(super) fn quoted(b: &[u8], v6: bool) -> Option<(IpAddr, IpAddr, u8, (u16, u16))> {
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
