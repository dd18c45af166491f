//! The flood detectors allocate nothing per packet in steady state (a counting allocator over
//! a warmed-up replay of mixed traffic that stays below every threshold).
#![allow(clippy::unwrap_used)]

use wirescope_core::{LinkType, Timestamp};
use wirescope_detect::config::DetectConfig;
use wirescope_detect::Detection;
use wirescope_testkit::alloc::{self, CountingAlloc};
use wirescope_testkit::packet::{tcp_flags, Ipv4, PacketBuilder, Tcp};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

fn seg(src_port: u16, dst_port: u16, flags: u8) -> Tcp {
    Tcp {
        src_port,
        dst_port,
        seq: 1,
        flags,
        window: 64240,
        ..Tcp::default()
    }
}

/// One second of traffic among 50 clients and 5 servers: answered SYNs, bare RSTs, DNS
/// queries and answers, pings and replies, a large-datagram UDP stream, UDP fragments.
/// One second of traffic; `round` gives every second's handshakes their own initial sequence
/// numbers (the same SYN-ACK arriving again every second would be a retransmission, and 12 of
/// them `ddos:tcp_amplification`).
fn frames(round: u32) -> Vec<Vec<u8>> {
    let mut b = PacketBuilder::new();
    let mut out = Vec::new();
    let eth = |b: &mut PacketBuilder| {
        b.ethernet([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    };
    for c in 0..50u8 {
        let client = [10, 0, 1, c];
        let server = [10, 0, 2, c % 5];
        eth(&mut b);
        let isn = round.wrapping_mul(7_919);
        b.ipv4(Ipv4::new(client, server)).tcp(&Tcp {
            seq: isn,
            ..seg(40_000 + u16::from(c), 443, tcp_flags::SYN)
        });
        out.push(b.finish().to_vec());
        eth(&mut b);
        b.ipv4(Ipv4::new(server, client)).tcp(&Tcp {
            seq: isn ^ 0x5555,
            ack: isn.wrapping_add(1),
            ..seg(443, 40_000 + u16::from(c), tcp_flags::SYN | tcp_flags::ACK)
        });
        out.push(b.finish().to_vec());
        eth(&mut b);
        b.ipv4(Ipv4::new(client, server))
            .tcp(&seg(40_000 + u16::from(c), 443, tcp_flags::RST));
        out.push(b.finish().to_vec());
        eth(&mut b);
        b.ipv4(Ipv4::new(client, server))
            .udp(50_000, 53)
            .payload(&[0; 30]);
        out.push(b.finish().to_vec());
        eth(&mut b);
        b.ipv4(Ipv4::new(server, client))
            .udp(53, 50_000)
            .payload(&[0; 300]);
        out.push(b.finish().to_vec());
        eth(&mut b);
        b.ipv4(Ipv4::new(client, server)).icmp_echo(true, 1, 1);
        out.push(b.finish().to_vec());
        eth(&mut b);
        b.ipv4(Ipv4::new(server, client)).icmp_echo(false, 1, 1);
        out.push(b.finish().to_vec());
        eth(&mut b);
        b.ipv4(Ipv4::new(client, server))
            .udp(5201, 5201)
            .payload(&[7; 1400]);
        out.push(b.finish().to_vec());
    }
    out
}

#[test]
fn no_allocation_per_packet_in_steady_state() {
    assert!(alloc::is_installed());
    let mut cfg = DetectConfig::default();
    // Only the flood detectors: others are measured in their own tests.
    let d = &mut cfg.detectors;
    d.port_scan.enabled = false;
    d.arp_spoof.enabled = false;
    d.dns_tunnel.enabled = false;
    d.brute_force.enabled = false;
    d.blocklist.enabled = false;
    d.web_attack.enabled = false;
    d.slowloris.enabled = false;
    d.beacon.enabled = false;
    d.protocol_anomaly.enabled = false;
    let mut det = Detection::new(&cfg).unwrap();
    // Built before counting: building allocates.
    let rounds: Vec<Vec<Vec<u8>>> = (0..60).map(frames).collect();
    let t0: i64 = 1_700_000_000_000_000_000;
    let second = |det: &mut Detection, s: i64| {
        let base = t0 + s * 1_000_000_000;
        det.tick(Timestamp(base));
        for (i, f) in rounds[s as usize].iter().enumerate() {
            let pkt = wirescope_wire::decode(LinkType::ETHERNET, f);
            det.packet(Timestamp(base + i as i64 * 2_000_000), &pkt);
        }
    };
    // Warm-up: every table holds its entries, volume_anomaly has closed intervals.
    for s in 0..30 {
        second(&mut det, s);
    }
    // Not vacuous: the counter sees this thread's allocations.
    let (v, probe) = alloc::count(|| Vec::<u64>::with_capacity(16));
    assert!(probe.allocations() > 0 && v.capacity() >= 16);
    let ((), n) = alloc::count(|| {
        for s in 30..60 {
            second(&mut det, s);
        }
    });
    assert!(det.alerts().is_empty(), "{:?}", det.alerts());
    assert_eq!(
        n.allocations(),
        0,
        "{n:?} over {} packets",
        30 * rounds[0].len()
    );
}
