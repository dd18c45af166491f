//! Flow-table throughput: packets per second for established connections (lookups hit) and
//! for a random-source SYN flood at the memory cap (every packet creates a flow and evicts one).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::net::{IpAddr, Ipv4Addr};
use wirescope_core::{IpProto, Timestamp};
use wirescope_flow::{FlowConfig, FlowTable};
use wirescope_wire::{tcp_flags as f, IpInfo, Packet, TcpInfo, Transport};

fn pkt(src: u32, dst: u32, sport: u16, flags: u16, len: u32) -> Packet<'static> {
    Packet {
        ip: Some(IpInfo {
            src: IpAddr::V4(Ipv4Addr::from(src)),
            dst: IpAddr::V4(Ipv4Addr::from(dst)),
            proto: IpProto::TCP,
            ttl: 64,
            total_len: 40 + len as u16,
            header_len: 20,
            frag_offset: 0,
            more_fragments: false,
            ident: 0,
            dscp: 0,
            flow_label: 0,
        }),
        transport: Transport::Tcp(TcpInfo {
            src_port: sport,
            dst_port: 443,
            seq: 1,
            ack: 1,
            flags,
            window: 500,
            header_len: 20,
            ..TcpInfo::default()
        }),
        payload_wire_len: len,
        ..Packet::default()
    }
}

fn bench(c: &mut Criterion) {
    const N: u32 = 10_000;
    let mut g = c.benchmark_group("flow_table");
    g.throughput(Throughput::Elements(u64::from(N)));

    // 1 000 established connections, packets round-robin among them.
    let packets: Vec<Packet<'static>> = (0..N)
        .map(|i| {
            pkt(
                0xC612_0000 + i % 1000,
                0xC612_8000,
                40_000 + (i % 1000) as u16,
                f::ACK,
                1200,
            )
        })
        .collect();
    let mut table = FlowTable::new(FlowConfig::default());
    let mut t = 0i64;
    g.bench_function("established_lookup", |b| {
        b.iter(|| {
            for p in &packets {
                t += 1000;
                table.process(Timestamp(t), p, &mut |_| {});
            }
        })
    });

    // SYN flood from random sources into a full table of 10 000 flows.
    let cfg = FlowConfig {
        max_flows: 10_000,
        ..FlowConfig::default()
    };
    let mut table = FlowTable::new(cfg);
    let mut x: u32 = 0x1234_5678;
    let mut t = 0i64;
    g.bench_function("syn_flood_at_cap", |b| {
        b.iter(|| {
            for _ in 0..N {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                t += 100;
                let p = pkt(x, 0xC612_8000, (x >> 16) as u16, f::SYN, 0);
                table.process(Timestamp(t), &p, &mut |_| {});
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
