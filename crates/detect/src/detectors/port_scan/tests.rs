//! Unit tests of `port_scan` on synthetic packets.
#![allow(clippy::unwrap_used)]
use super::classify::quoted;
use super::*;
use crate::config::AlertsConfig;
use crate::manager::AlertManager;
use wirescope_wire::{tcp_flags as F, IpInfo, TcpInfo};

const ATT: [u8; 4] = [10, 0, 0, 66];
const VIC: [u8; 4] = [10, 0, 0, 10];

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u16) -> Packet<'static> {
    Packet {
        ip: Some(IpInfo {
            src: v4(src),
            dst: v4(dst),
            proto: IpProto::TCP,
            ttl: 64,
            total_len: 40,
            header_len: 20,
            frag_offset: 0,
            more_fragments: false,
            ident: 0,
            dscp: 0,
            flow_label: 0,
        }),
        transport: Transport::Tcp(TcpInfo {
            src_port: sport,
            dst_port: dport,
            flags,
            window: 1024,
            header_len: 20,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ms(n: i64) -> Timestamp {
    Timestamp(n * 1_000_000)
}

struct Run {
    det: PortScan,
    mgr: AlertManager,
}

impl Run {
    fn new() -> Run {
        Run {
            det: PortScan::new(&Config::default()).unwrap(),
            mgr: AlertManager::new(&AlertsConfig::default()).unwrap(),
        }
    }
    fn pkt(&mut self, ts: Timestamp, p: &Packet<'_>) {
        let mut out = Alerts { mgr: &mut self.mgr };
        self.det.packet(ts, p, &mut out);
    }
    fn tick(&mut self, ts: Timestamp) {
        let mut out = Alerts { mgr: &mut self.mgr };
        self.det.tick(ts, &mut out);
    }
    fn alerts(&self) -> Vec<(&'static str, u64)> {
        self.mgr
            .alerts()
            .iter()
            .map(|a| {
                let n = a
                    .evidence
                    .get("targets_when_raised")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                (a.kind, n)
            })
            .collect()
    }
}

#[test]
fn trw_steps_are_the_papers() {
    let d = PortScan::new(&Config::default()).unwrap();
    // Each failure multiplies the ratio by 4, each success by 1/4; 4 failures cross 99.
    assert!((d.ln_fail.exp() - 4.0).abs() < 1e-9);
    assert!((d.ln_success.exp() - 0.25).abs() < 1e-9);
    assert!(3.0 * d.ln_fail < d.ln_eta1 && 4.0 * d.ln_fail >= d.ln_eta1);
}

#[test]
fn syn_scan_of_closed_ports_alerts_at_the_fifth_probe() {
    let mut r = Run::new();
    for (i, port) in (20..40u16).enumerate() {
        let t = ms(i as i64);
        r.pkt(t, &tcp(ATT, VIC, 40_000, port, F::SYN));
        r.pkt(t, &tcp(VIC, ATT, port, 40_000, F::RST | F::ACK));
    }
    assert_eq!(r.alerts(), vec![("syn_scan", 5)]);
}

#[test]
fn filtered_scan_alerts_on_the_unanswered_burst() {
    let mut r = Run::new();
    for (i, port) in (1..30u16).enumerate() {
        r.pkt(
            ms(i as i64),
            &tcp(ATT, VIC, 40_000, port, F::FIN | F::PSH | F::URG),
        );
    }
    assert_eq!(r.alerts(), vec![("xmas_scan", 10)]);
}

#[test]
fn successful_client_and_backscatter_do_not_alert() {
    let mut r = Run::new();
    for i in 0..200i64 {
        // A client opening connections to 50 servers on 443, all answered.
        let srv = [93, 184, (i % 50) as u8, 1];
        let sport = 50_000 + i as u16;
        r.pkt(ms(i), &tcp(ATT, srv, sport, 443, F::SYN));
        r.pkt(ms(i), &tcp(srv, ATT, 443, sport, F::SYN | F::ACK));
        // Backscatter: SYN-ACKs and RSTs to a host that never sent a SYN.
        r.pkt(
            ms(i),
            &tcp(
                [198, 51, 100, i as u8],
                VIC,
                80,
                1000 + i as u16,
                F::SYN | F::ACK,
            ),
        );
        r.pkt(
            ms(i),
            &tcp([198, 51, 101, i as u8], VIC, 80, 2000 + i as u16, F::RST),
        );
    }
    r.tick(ms(10_000));
    assert!(r.alerts().is_empty(), "{:?}", r.alerts());
}

#[test]
fn one_down_port_is_not_a_scan() {
    let mut r = Run::new();
    // Retries to one refused port: one target, however many attempts.
    for i in 0..50i64 {
        let sport = 50_000 + i as u16;
        r.pkt(ms(i * 100), &tcp(ATT, VIC, sport, 8080, F::SYN));
        r.pkt(ms(i * 100), &tcp(VIC, ATT, 8080, sport, F::RST | F::ACK));
    }
    r.tick(ms(10_000));
    assert!(r.alerts().is_empty(), "{:?}", r.alerts());
}

#[test]
fn quoted_header_of_an_icmp_error() {
    // IPv4 header 10.0.0.66 -> 10.0.0.10, UDP, then ports 40000 -> 161.
    let mut b = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0];
    b.extend([10, 0, 0, 66, 10, 0, 0, 10]);
    b.extend(40_000u16.to_be_bytes());
    b.extend(161u16.to_be_bytes());
    b.extend([0, 8, 0, 0]);
    let (s, d, p, ports) = quoted(&b, false).unwrap();
    assert_eq!((s, d, p, ports), (v4(ATT), v4(VIC), 17, (40_000, 161)));
    assert!(quoted(&b[..10], false).is_none());
}

#[test]
fn peer_to_peer_spread_is_not_a_network_sweep() {
    let mut s = Sweep {
        c: Counts::default(),
        hosts: [v4(VIC); LIST],
        n_hosts: 0,
    };
    for i in 0..10u8 {
        s.hosts[usize::from(i)] = v4([10, 0, 0, i]);
    }
    s.n_hosts = 10;
    assert!(!s.spread());
    for i in 0..10u8 {
        s.hosts[usize::from(i)] = v4([i, 1, 2, 3]);
    }
    assert!(s.spread());
}

#[test]
fn distributed_scan_of_one_victim() {
    let mut r = Run::new();
    // Ten sources, 4 closed ports each (under every per-source threshold), 40 ports in all.
    for s in 0..10u8 {
        for k in 0..4u16 {
            let port = 100 + u16::from(s) * 4 + k;
            let t = ms(i64::from(s) * 100 + i64::from(k));
            let src = [203, 0, 113, s + 1];
            r.pkt(t, &tcp(src, VIC, 40_000, port, F::SYN));
            r.pkt(t, &tcp(VIC, src, port, 40_000, F::RST | F::ACK));
        }
    }
    let kinds: Vec<&str> = r.mgr.alerts().iter().map(|a| a.kind).collect();
    assert_eq!(kinds, vec!["distributed_scan"]);
    let a = &r.mgr.alerts()[0];
    assert!(a.src.is_none());
    assert_eq!(a.dst.map(|e| e.ip), Some(v4(VIC)));
    // Crossed at the 7th source's first port (25 ports; a source counts from its second).
    assert_eq!(a.evidence["sources_when_raised"], 6);
}
