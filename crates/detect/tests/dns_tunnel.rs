//! `dns_tunnel` on real captures: iodine (NULL records under `pirate.sea`), dns2tcp (TXT
//! under `hidemyself.org`) and dnscat2 (MX/TXT/CNAME, via a domain and in direct mode) alert
//! with the client and the server; DGA lookups and every benign capture stay silent.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use wirescope_detect::{Alert, DetectorId};

const D: DetectorId = DetectorId::DnsTunnel;
fn one(rel: &str) -> Alert {
    let alerts = common::run(&common::corpus_file(rel));
    let mine = common::of(&alerts, D);
    assert_eq!(mine.len(), 1, "{rel}: {}", common::describe(&alerts));
    mine[0].clone()
}

#[test]
fn iodine_is_a_tunnel_via_pirate_sea() {
    let a =
        one("attacks/comnet24s-dns-tunnel-dataset/pcaps/iodine/examples.elastic.github.com.pcap");
    assert_eq!(a.kind, "tunnel");
    assert_eq!(a.src.unwrap().ip.to_string(), "10.0.2.30");
    assert_eq!(a.dst.unwrap().ip.to_string(), "10.0.2.20");
    assert_eq!(a.evidence["domain"], "pirate.sea");
    assert!(a.signature.contains("pirate.sea"));
    assert!(a.evidence["unique_subdomains"].as_u64().unwrap() >= 100);
    assert!(a.evidence["tunnel_type_share"].as_f64().unwrap() > 0.9); // NULL records
    assert!(a.evidence["info_bytes"].as_u64().unwrap() >= 4096);
    let ex = a.evidence["examples"].as_array().unwrap();
    assert!(!ex.is_empty() && ex.len() <= 3);
    assert!(a.delay_s() < 20.0, "delay {}", a.delay_s());
}

#[test]
fn dns2tcp_is_txt_c2_via_hidemyself_org() {
    let a = one("attacks/comnet24s-dns-tunnel-dataset/pcaps/dns2tcp/learn.netrack.github.com.pcap");
    assert_eq!(a.kind, "txt_c2");
    assert_eq!(a.src.unwrap().ip.to_string(), "172.17.0.3");
    assert_eq!(a.dst.unwrap().ip.to_string(), "172.17.0.2");
    assert_eq!(a.evidence["domain"], "hidemyself.org");
    assert!(a.evidence["txt_share"].as_f64().unwrap() > 0.99);
    assert!(a.evidence["mean_subdomain_len"].as_f64().unwrap() > 50.0);
}

#[test]
fn dnscat2_via_domain_and_direct_mode() {
    let a = one("robustness/nDPI-tests/tests/cfgs/default/pcap/bad-dns-traffic.pcap");
    assert_eq!(a.kind, "tunnel");
    assert_eq!(a.src.unwrap().ip.to_string(), "192.168.43.91");
    assert_eq!(a.dst.unwrap().ip.to_string(), "4.2.2.4");
    assert_eq!(a.evidence["domain"], "skullseclabs.org");
    let a = one("robustness/nDPI-tests/tests/cfgs/default/pcap/dns_exfiltration.pcap");
    assert_eq!(a.src.unwrap().ip.to_string(), "192.168.220.56");
    assert_eq!(a.evidence["domain"], "(invalid-tld)");
}

#[test]
fn dga_lookups_are_not_a_tunnel() {
    let alerts = common::run(&common::corpus_file(
        "attacks/lucaderi-sgr/2021/Esercitazioni/2/Gruppo9/DNS/dgapcap.pcapng",
    ));
    assert!(
        common::of(&alerts, D).is_empty(),
        "{}",
        common::describe(&alerts)
    );
}

#[test]
fn higher_thresholds_silence_iodine() {
    let mut cfg = wirescope_detect::config::DetectConfig::default();
    cfg.detectors.dns_tunnel.min_unique_subdomains = 1000;
    let alerts = common::run_with(
        &[common::corpus_file(
            "attacks/comnet24s-dns-tunnel-dataset/pcaps/iodine/examples.elastic.github.com.pcap",
        )],
        &cfg,
    );
    assert!(common::of(&alerts, D).is_empty());
    let mut cfg = wirescope_detect::config::DetectConfig::default();
    cfg.detectors.dns_tunnel.ignore_domains = vec!["pirate.sea".into()];
    let alerts = common::run_with(
        &[common::corpus_file(
            "attacks/comnet24s-dns-tunnel-dataset/pcaps/iodine/examples.elastic.github.com.pcap",
        )],
        &cfg,
    );
    assert!(common::of(&alerts, D).is_empty());
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

/// A synthetic capture of queries (and A answers) from 10.0.0.5 to the resolver 10.0.0.53,
/// one per 100 ms, each from its own source port.
fn dns_pcap(file: &str, names: &[(String, u16)]) -> PathBuf {
    use wirescope_testkit::dns;
    use wirescope_testkit::packet::{Ipv4, PacketBuilder};
    let (c, r) = ([10, 0, 0, 5], [10, 0, 0, 53]);
    let (cm, rm) = ([2, 0, 0, 0, 0, 5], [2, 0, 0, 0, 0, 0x53]);
    let mut b = PacketBuilder::new();
    let mut frames = Vec::new();
    let t0 = 1_700_000_000_000_000_000u64;
    for (i, (name, qt)) in names.iter().enumerate() {
        let t = t0 + i as u64 * 100_000_000;
        let sport = 20000 + (i % 40000) as u16;
        let id = i as u16;
        let mut q = Vec::new();
        dns::query(&mut q, id, name, *qt);
        let f = b
            .ethernet(cm, rm)
            .ipv4(Ipv4::new(c, r))
            .udp(sport, 53)
            .payload(&q)
            .finish()
            .to_vec();
        frames.push((t, f));
        let mut a = Vec::new();
        dns::response(
            &mut a,
            id,
            name,
            *qt,
            0,
            60,
            &[dns::Rdata::A([127, 0, 0, 2])],
        );
        let f = b
            .ethernet(rm, cm)
            .ipv4(Ipv4::new(r, c))
            .udp(53, sport)
            .payload(&a)
            .finish()
            .to_vec();
        frames.push((t + 1_000_000, f));
    }
    let bytes =
        wirescope_testkit::pcap::ethernet_file(frames.iter().map(|(t, f)| (*t, f.as_slice())));
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(file);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A pseudo-random lowercase base32 string of `n` characters.
fn b32(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"abcdefghijklmnopqrstuvwxyz234567"[(x % 32) as usize] as char
        })
        .collect()
}

#[test]
fn synthetic_tunnel_alerts_and_look_alikes_do_not() {
    // The positive control: 300 encoded names under one domain.
    let tunnel: Vec<(String, u16)> = (0..300)
        .map(|i| {
            (
                format!("{}.{}.t.exfil.example.com", b32(i, 50), b32(i + 7, 40)),
                1,
            )
        })
        .collect();
    let alerts = common::run(&dns_pcap("dns_synth_tunnel.pcap", &tunnel));
    let mine = common::of(&alerts, D);
    assert_eq!(mine.len(), 1, "{}", common::describe(&alerts));
    assert_eq!(mine[0].evidence["domain"], "example.com");
    assert_eq!(mine[0].src.unwrap().ip.to_string(), "10.0.0.5");
    assert_eq!(mine[0].dst.unwrap().ip.to_string(), "10.0.0.53");

    let look_alikes: Vec<(&str, Vec<(String, u16)>)> = vec![
        // DNSBL: reversed IPv4 addresses under a zone not in `ignore_domains`.
        (
            "dnsbl",
            (0..400u64)
                .map(|i| {
                    (
                        format!(
                            "{}.{}.{}.203.bl.example.net",
                            i % 250,
                            i / 7 % 250,
                            i / 3 % 250
                        ),
                        1,
                    )
                })
                .collect(),
        ),
        // Reverse lookups.
        (
            "ptr",
            (0..400u64)
                .map(|i| (format!("{}.{}.0.10.in-addr.arpa", i % 250, i / 250), 12))
                .collect(),
        ),
        // CDN / cloud: long hashed names, but a handful per registered domain.
        (
            "cdn",
            (0..400u64)
                .map(|i| {
                    (
                        format!("{}.cdn{}.example{}.com", b32(i, 40), i % 97, i % 97),
                        1,
                    )
                })
                .collect(),
        ),
        // DGA: one name per registered domain.
        (
            "dga",
            (0..400u64)
                .map(|i| (format!("{}.com", b32(i, 16)), 1))
                .collect(),
        ),
        // Many unique but short, readable hostnames under one domain (an intranet).
        (
            "intranet",
            (0..400u64)
                .map(|i| (format!("host{i}.corp.example.org"), 1))
                .collect(),
        ),
    ];
    for (what, names) in look_alikes {
        let alerts = common::run(&dns_pcap(&format!("dns_synth_{what}.pcap"), &names));
        assert!(
            common::of(&alerts, D).is_empty(),
            "{what}: {}",
            common::describe(&alerts)
        );
    }
}
