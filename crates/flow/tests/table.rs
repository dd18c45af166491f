//! Flow-table behaviour on hand-built packets: Zeek conn_state for the classic connection
//! shapes, RTT, timeouts, port reuse, the memory cap and conversation counting.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use wirescope_core::{IpProto, Layer, LayerSet, Timestamp};
use wirescope_flow::{EndReason, Flow, FlowConfig, FlowTable};
use wirescope_wire::{tcp_flags as f, IpInfo, Packet, TcpInfo, Transport, UdpInfo};

const C: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const S: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));

fn ip(src: IpAddr, dst: IpAddr, proto: IpProto, len: u16) -> IpInfo {
    IpInfo {
        src,
        dst,
        proto,
        ttl: 64,
        total_len: len,
        header_len: 20,
        frag_offset: 0,
        more_fragments: false,
        ident: 0,
        dscp: 0,
        flow_label: 0,
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call per packet reads like a trace"
)]
fn tcp(
    src: IpAddr,
    dst: IpAddr,
    sp: u16,
    dp: u16,
    seq: u32,
    ack: u32,
    flags: u16,
    len: u32,
) -> Packet<'static> {
    let mut layers = LayerSet::EMPTY;
    layers.insert(Layer::Ipv4);
    layers.insert(Layer::Tcp);
    Packet {
        layers,
        ip: Some(ip(src, dst, IpProto::TCP, 40 + len as u16)),
        transport: Transport::Tcp(TcpInfo {
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags,
            window: 1000,
            header_len: 20,
            ..TcpInfo::default()
        }),
        payload_wire_len: len,
        ..Packet::default()
    }
}

fn udp(src: IpAddr, dst: IpAddr, sp: u16, dp: u16) -> Packet<'static> {
    Packet {
        ip: Some(ip(src, dst, IpProto::UDP, 60)),
        transport: Transport::Udp(UdpInfo {
            src_port: sp,
            dst_port: dp,
            length: 40,
        }),
        payload_wire_len: 32,
        ..Packet::default()
    }
}

fn ms(n: i64) -> Timestamp {
    Timestamp(1_700_000_000_000_000_000 + n * 1_000_000)
}

/// Feeds packets (at 1 ms steps unless given) and returns every finished flow.
fn run(table: &mut FlowTable, pkts: &[(i64, Packet<'static>)]) -> Vec<Flow> {
    let mut done = Vec::new();
    for (t, p) in pkts {
        table.process(ms(*t), p, &mut |fl: &Flow| done.push(*fl));
    }
    table.flush(&mut |fl: &Flow| done.push(*fl));
    done
}

fn one(pkts: &[(i64, Packet<'static>)]) -> Flow {
    let mut t = FlowTable::new(FlowConfig::default());
    let v = run(&mut t, pkts);
    assert_eq!(v.len(), 1, "expected one flow");
    v[0]
}

#[test]
fn full_connection_is_sf_with_history_and_rtt() {
    let fl = one(&[
        (0, tcp(C, S, 40000, 80, 100, 0, f::SYN, 0)),
        (10, tcp(S, C, 80, 40000, 900, 101, f::SYN | f::ACK, 0)),
        (12, tcp(C, S, 40000, 80, 101, 901, f::ACK, 0)),
        (13, tcp(C, S, 40000, 80, 101, 901, f::ACK | f::PSH, 50)),
        (20, tcp(S, C, 80, 40000, 901, 151, f::ACK | f::PSH, 500)),
        (21, tcp(C, S, 40000, 80, 151, 1401, f::ACK | f::FIN, 0)),
        (22, tcp(S, C, 80, 40000, 1401, 152, f::ACK | f::FIN, 0)),
        (23, tcp(C, S, 40000, 80, 152, 1402, f::ACK, 0)),
    ]);
    assert_eq!(fl.conn_state(), "SF");
    // No pure ACK from the server here, so no 'a' (Zeek: 'A'/'a' is a pure ACK).
    assert_eq!(fl.history.as_str(), "ShADdFf");
    assert_eq!(fl.orig(), (C, 40000));
    assert_eq!(fl.rtt_ns, Some(12_000_000));
    assert_eq!(fl.pkts, [5, 3]);
    assert_eq!(fl.payload_bytes, [50, 500]);
    assert_eq!(fl.tcp[0].retransmissions + fl.tcp[1].retransmissions, 0);
}

#[test]
fn classic_states() {
    // SYN only: S0.
    assert_eq!(
        one(&[(0, tcp(C, S, 1, 2, 0, 0, f::SYN, 0))]).conn_state(),
        "S0"
    );
    // SYN answered by RST: REJ.
    let fl = one(&[
        (0, tcp(C, S, 1, 2, 0, 0, f::SYN, 0)),
        (1, tcp(S, C, 2, 1, 0, 1, f::RST | f::ACK, 0)),
    ]);
    assert_eq!((fl.conn_state(), fl.history.as_str()), ("REJ", "Sr"));
    // Established, then the originator resets: RSTO.
    let fl = one(&[
        (0, tcp(C, S, 1, 2, 0, 0, f::SYN, 0)),
        (1, tcp(S, C, 2, 1, 0, 1, f::SYN | f::ACK, 0)),
        (2, tcp(C, S, 1, 2, 1, 1, f::ACK, 0)),
        (3, tcp(C, S, 1, 2, 1, 1, f::RST, 0)),
    ]);
    assert_eq!(fl.conn_state(), "RSTO");
    // Established, not closed: S1.
    let fl = one(&[
        (0, tcp(C, S, 1, 2, 0, 0, f::SYN, 0)),
        (1, tcp(S, C, 2, 1, 0, 1, f::SYN | f::ACK, 0)),
        (2, tcp(C, S, 1, 2, 1, 1, f::ACK, 0)),
    ]);
    assert_eq!(fl.conn_state(), "S1");
    // SYN then the originator's RST, no answer: RSTOS0.
    let fl = one(&[
        (0, tcp(C, S, 1, 2, 0, 0, f::SYN, 0)),
        (1, tcp(C, S, 1, 2, 1, 0, f::RST, 0)),
    ]);
    assert_eq!(fl.conn_state(), "RSTOS0");
    // Mid-stream traffic only: OTH.
    let fl = one(&[
        (0, tcp(C, S, 1, 2, 5, 5, f::ACK, 10)),
        (1, tcp(S, C, 2, 1, 5, 15, f::ACK, 0)),
    ]);
    assert_eq!(fl.conn_state(), "OTH");
}

#[test]
fn capture_starting_at_the_syn_ack_flips_the_direction() {
    let fl = one(&[
        (0, tcp(S, C, 80, 40000, 900, 101, f::SYN | f::ACK, 0)),
        (1, tcp(C, S, 40000, 80, 101, 901, f::ACK, 0)),
    ]);
    assert_eq!(fl.orig(), (C, 40000));
    assert!(
        fl.history.as_str().starts_with("^h"),
        "history {}",
        fl.history.as_str()
    );
}

#[test]
fn retransmission_is_counted_and_in_history() {
    let fl = one(&[
        (0, tcp(C, S, 1, 2, 0, 0, f::SYN, 0)),
        (1, tcp(S, C, 2, 1, 0, 1, f::SYN | f::ACK, 0)),
        (2, tcp(C, S, 1, 2, 1, 1, f::ACK, 100)),
        (3, tcp(C, S, 1, 2, 1, 1, f::ACK, 100)),
    ]);
    assert_eq!(fl.tcp[0].retransmissions, 1);
    assert!(fl.history.as_str().contains('T'));
}

#[test]
fn udp_timeout_splits_flows_but_not_conversations() {
    let mut t = FlowTable::new(FlowConfig::default());
    // Same 5-tuple twice, 31 s apart (> 30 s UDP new-flow timeout), plus another tuple.
    let v = run(
        &mut t,
        &[
            (0, udp(C, S, 5353, 53)),
            (31_000, udp(C, S, 5353, 53)),
            (31_001, udp(C, S, 5354, 53)),
        ],
    );
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].end_reason, EndReason::Timeout);
    let st = t.stats();
    assert_eq!((st.flows_created_total, st.conversations_udp), (3, 2));
    assert!(st.conversations_exact);
}

#[test]
fn syn_after_close_starts_a_new_flow() {
    let mut t = FlowTable::new(FlowConfig::default());
    let v = run(
        &mut t,
        &[
            (0, tcp(C, S, 1, 2, 0, 0, f::SYN, 0)),
            (1, tcp(S, C, 2, 1, 0, 1, f::RST | f::ACK, 0)),
            (2, tcp(C, S, 1, 2, 77, 0, f::SYN, 0)),
        ],
    );
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].end_reason, EndReason::Reused);
    assert_eq!(t.stats().conversations_tcp, 1);
}

#[test]
fn memory_cap_evicts_and_counts() {
    let cfg = FlowConfig {
        max_flows: 100,
        ..FlowConfig::default()
    };
    let mut t = FlowTable::new(cfg);
    let mut done = 0u64;
    for i in 0..10_000u32 {
        let src = IpAddr::V4(Ipv4Addr::from(0xC612_0000 + i));
        // All within one second of packet time, so nothing times out: every overflow evicts.
        let p = tcp(src, S, 1000, 80, i, 0, f::SYN, 0);
        t.process(Timestamp(i64::from(i) * 1000), &p, &mut |_| done += 1);
        assert!(t.stats().active_flows <= 100);
    }
    let st = t.stats();
    assert_eq!(st.flows_evicted_total, 10_000 - 100);
    assert_eq!(done, st.flows_evicted_total);
    assert_eq!(st.conversations_tcp, 10_000);
}

#[test]
fn conversation_key_cap_makes_counts_inexact() {
    let cfg = FlowConfig {
        max_conversation_keys: 10,
        ..FlowConfig::default()
    };
    let mut t = FlowTable::new(cfg);
    for i in 0..20u16 {
        t.process(ms(0), &udp(C, S, 1000 + i, 53), &mut |_| {});
    }
    let st = t.stats();
    assert_eq!(st.conversations_udp, 20);
    assert!(!st.conversations_exact);
}
