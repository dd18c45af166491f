//! `arp_spoof` on real captures: the PPA3 ARP poisoning capture alerts with the attacker's
//! own address and the victim; gratuitous ARP, plain resolution and every benign capture
//! stay silent.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use wirescope_detect::DetectorId;
use wirescope_testkit::packet::{ArpOp, PacketBuilder};
use wirescope_testkit::pcap::ethernet_file;

const D: DetectorId = DetectorId::ArpSpoof;

#[test]
fn arppoison_is_mitm_by_attacker_on_victim() {
    let alerts = common::run(&common::corpus_file(
        "attacks/chrissanders-packets/arppoison.pcapng",
    ));
    let mine = common::of(&alerts, D);
    assert_eq!(mine.len(), 1, "{}", common::describe(&alerts));
    let a = mine[0];
    assert_eq!(a.kind, "mitm");
    assert_eq!(a.src.unwrap().ip.to_string(), "172.16.0.105");
    assert_eq!(a.dst.unwrap().ip.to_string(), "172.16.0.107");
    assert_eq!(a.evidence["attacker_mac"], "00:25:b3:bf:91:ee");
    assert_eq!(a.evidence["claimed_ip"], "172.16.0.1");
    assert!(a.evidence["unsolicited_replies"].as_u64().unwrap() >= 1);
    assert!(a.evidence["unicast_requests"].as_u64().unwrap() >= 1);
    // Onset is the forged reply; the alert comes when the MAC shows its own address.
    assert!(a.delay_s() < 15.0, "delay {}", a.delay_s());
}

#[test]
fn gratuitous_and_resolution_do_not_alert() {
    for f in ["arp_gratuitous.pcapng", "arp_resolution.pcapng"] {
        let alerts = common::run(&common::corpus_file(&format!(
            "attacks/chrissanders-packets/{f}"
        )));
        let mine = common::of(&alerts, D);
        assert!(mine.is_empty(), "{f}: {}", common::describe(&alerts));
    }
}

#[test]
fn no_alert_on_benign_corpus() {
    let mut files = common::benign_dir_captures();
    files.extend(common::chrissanders_benign());
    let mut bad = Vec::new();
    for f in &files {
        let alerts = common::run(f);
        let mine: Vec<_> = common::of(&alerts, D).into_iter().cloned().collect();
        if !mine.is_empty() {
            bad.push(format!("{}:\n{}", f.display(), common::describe(&mine)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn disabled_detector_is_silent() {
    let mut cfg = wirescope_detect::config::DetectConfig::default();
    cfg.detectors.arp_spoof.enabled = false;
    let alerts = common::run_with(
        &[common::corpus_file(
            "attacks/chrissanders-packets/arppoison.pcapng",
        )],
        &cfg,
    );
    assert!(common::of(&alerts, D).is_empty());
}

/// A synthetic ARP capture: (seconds, ethernet src, ethernet dst, op, sender MAC, sender
/// IP, target MAC, target IP).
type Arp = (
    u64,
    [u8; 6],
    [u8; 6],
    ArpOp,
    [u8; 6],
    [u8; 4],
    [u8; 6],
    [u8; 4],
);

fn arp_pcap(name: &str, pkts: &[Arp]) -> PathBuf {
    let mut b = PacketBuilder::new();
    let frames: Vec<(u64, Vec<u8>)> = pkts
        .iter()
        .map(|&(t, es, ed, op, sm, si, tm, ti)| {
            let f = b.ethernet(es, ed).arp(op, sm, si, tm, ti).finish().to_vec();
            (1_700_000_000_000_000_000 + t * 1_000_000_000, f)
        })
        .collect();
    let bytes = ethernet_file(frames.iter().map(|(t, f)| (*t, f.as_slice())));
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
const B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];
const V: [u8; 6] = [2, 0, 0, 0, 0, 0xc];
const BC: [u8; 6] = [0xff; 6];
const GW: [u8; 4] = [192, 0, 2, 1];
const VIC: [u8; 4] = [192, 0, 2, 10];

/// A gratuitous announcement of `ip` by `mac`.
fn garp(t: u64, mac: [u8; 6], ip: [u8; 4]) -> Arp {
    (t, mac, BC, ArpOp::Request, mac, ip, [0; 6], ip)
}

#[test]
fn flip_flop_between_two_macs() {
    let p = arp_pcap(
        "arp_flip_flop.pcap",
        &[
            garp(0, A, GW),
            garp(5, B, GW),
            garp(10, A, GW),
            garp(15, B, GW),
        ],
    );
    let alerts = common::run(&p);
    let mine = common::of(&alerts, D);
    assert_eq!(mine.len(), 1, "{}", common::describe(&alerts));
    assert_eq!(mine[0].kind, "flip_flop");
    assert_eq!(mine[0].dst.unwrap().ip.to_string(), "192.0.2.1");
    assert!(mine[0].evidence["flip_flops"].as_u64().unwrap() >= 2);
}

#[test]
fn one_mac_change_is_not_an_alert() {
    // DHCP gave the address to another machine: one change, no flip back.
    let p = arp_pcap("arp_one_change.pcap", &[garp(0, A, GW), garp(30, B, GW)]);
    let alerts = common::run(&p);
    assert!(
        common::of(&alerts, D).is_empty(),
        "{}",
        common::describe(&alerts)
    );
}

#[test]
fn repeated_forged_replies_without_own_address() {
    // A owns the gateway address; B (never showing an address of its own) keeps telling
    // the victim that the gateway is at B.
    let forged = |t| (t, B, V, ArpOp::Reply, B, GW, V, VIC);
    let p = arp_pcap(
        "arp_forged.pcap",
        &[garp(0, A, GW), forged(2), forged(4), forged(6), forged(8)],
    );
    let alerts = common::run(&p);
    let mine = common::of(&alerts, D);
    assert_eq!(mine.len(), 1, "{}", common::describe(&alerts));
    assert_eq!(mine[0].kind, "forged_replies");
    assert!(mine[0].src.is_none());
    assert_eq!(mine[0].dst.unwrap().ip.to_string(), "192.0.2.10");
    assert_eq!(mine[0].evidence["attacker_mac"], "02:00:00:00:00:0b");
    assert!(mine[0].evidence["forged_replies"].as_u64().unwrap() >= 3);
}
