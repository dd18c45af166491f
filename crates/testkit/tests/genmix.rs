//! The mixed capture: deterministic, well-formed, and shaped as documented.

use std::process::Command;
use wirescope_testkit::mix::{MixConfig, MixGenerator, KIND_NAMES};
use wirescope_testkit::packet::checksum;
use wirescope_testkit::pcap::PcapBuilder;

fn generate(packets: u64, seed: u64) -> (Vec<u8>, wirescope_testkit::mix::MixStats) {
    let mut g = MixGenerator::new(MixConfig {
        packets,
        seed,
        ..MixConfig::default()
    });
    let mut w = match PcapBuilder::ethernet(Vec::new()) {
        Ok(w) => w,
        Err(e) => panic!("{e}"),
    };
    while let Some((ts, f)) = g.next_frame() {
        if let Err(e) = w.packet(ts, f) {
            panic!("{e}");
        }
    }
    match w.finish() {
        Ok(v) => (v, g.stats().clone()),
        Err(e) => panic!("{e}"),
    }
}

/// (timestamp ns, frame) of every record of a file written by `PcapBuilder`.
fn records(file: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= file.len() {
        let u = |i: usize| u32::from_le_bytes([file[i], file[i + 1], file[i + 2], file[i + 3]]);
        let ts = u64::from(u(at)) * 1_000_000_000 + u64::from(u(at + 4));
        let len = u(at + 8) as usize;
        out.push((ts, &file[at + 16..at + 16 + len]));
        at += 16 + len;
    }
    assert_eq!(at, file.len());
    out
}

#[test]
fn same_seed_same_bytes() {
    let (a, _) = generate(20_000, 7);
    let (b, _) = generate(20_000, 7);
    let (c, _) = generate(20_000, 8);
    assert!(a == b, "same seed gave different captures");
    assert!(a != c, "different seeds gave the same capture");
}

#[test]
fn shape_of_the_mix() {
    let (file, stats) = generate(200_000, 1);
    let recs = records(&file);
    assert_eq!(recs.len(), 200_000);
    assert_eq!(stats.total(), 200_000);
    let (mut v6, mut vlan, mut v4) = (0u64, 0u64, 0u64);
    let mut last = 0;
    for (ts, f) in &recs {
        assert!(*ts >= last, "timestamps go backwards");
        last = *ts;
        assert!((60..=1518).contains(&f.len()), "frame of {} bytes", f.len());
        let mut l3 = 12;
        if f[12..14] == [0x81, 0x00] {
            vlan += 1;
            l3 = 16;
        }
        match [f[l3], f[l3 + 1]] {
            [0x08, 0x00] => {
                v4 += 1;
                // Every IPv4 header checksum verifies.
                assert_eq!(checksum(&f[l3 + 2..l3 + 22], 0), 0);
            }
            [0x86, 0xdd] => v6 += 1,
            [0x08, 0x06] => {}
            other => panic!("unexpected EtherType {other:?}"),
        }
    }
    let n = recs.len() as f64;
    let span_s = (recs[recs.len() - 1].0 - recs[0].0) as f64 / 1e9;
    let pps = n / span_s;
    assert!((100e3..500e3).contains(&pps), "{pps} packets/s");
    assert!(
        (0.08..0.25).contains(&(v6 as f64 / n)),
        "ipv6 share {}",
        v6 as f64 / n
    );
    assert!(
        (0.02..0.09).contains(&(vlan as f64 / n)),
        "vlan share {}",
        vlan as f64 / n
    );
    assert!(v4 as f64 / n > 0.6);
    for (i, name) in KIND_NAMES.iter().enumerate() {
        assert!(stats.packets[i] > 1_000, "{name}: {}", stats.packets[i]);
    }
    assert!(stats.impairments.retransmissions > 0 && stats.impairments.reordered > 0);
}

#[test]
fn tcpdump_reads_every_packet() {
    let (file, _) = generate(5_000, 3);
    let path = std::env::temp_dir().join(format!("genmix-test-{}.pcap", std::process::id()));
    if let Err(e) = std::fs::write(&path, &file) {
        panic!("{e}");
    }
    let out = Command::new("tcpdump")
        .arg("-nn")
        .arg("-r")
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("tcpdump is required (Debian package tcpdump): {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = out.stdout.iter().filter(|b| **b == b'\n').count();
    assert_eq!(lines, 5_000);
}
