//! `port_scan` on real captures: scans of every kind alert with the right attacker, victim and
//! kind, within a few probes; benign traffic never alerts.
#![allow(clippy::unwrap_used)]
mod common;

use std::path::Path;
use wirescope_detect::config::DetectConfig;
use wirescope_detect::{Alert, DetectorId};

fn scans(path: &Path) -> Vec<Alert> {
    let all = common::run(path);
    common::of(&all, DetectorId::PortScan)
        .into_iter()
        .cloned()
        .collect()
}

fn ip(a: &Alert, src: bool) -> Option<String> {
    if src { a.src } else { a.dst }.map(|e| e.ip.to_string())
}

/// Exactly one alert of `kind`, from `attacker` to `victim` (None = sweep).
fn expect_one<'a>(
    alerts: &'a [Alert],
    kind: &str,
    attacker: &str,
    victim: Option<&str>,
) -> &'a Alert {
    let hits: Vec<&Alert> = alerts
        .iter()
        .filter(|a| {
            a.kind == kind
                && ip(a, true).as_deref() == Some(attacker)
                && (victim.is_none() || ip(a, false).as_deref() == victim)
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "want one {kind} from {attacker}:\n{}",
        common::describe(alerts)
    );
    let a = hits[0];
    assert_eq!(
        ip(a, false).as_deref(),
        victim,
        "{}",
        common::describe(alerts)
    );
    for k in [
        "scan_type",
        "direction",
        "probes",
        "distinct_ports",
        "distinct_hosts",
        "failures",
        "successes",
        "trw_likelihood_ratio",
        "window_s",
        "thresholds_crossed",
        "probe_rate_per_s",
    ] {
        assert!(
            a.evidence.contains_key(k),
            "evidence lacks {k}: {:?}",
            a.evidence
        );
    }
    a
}

fn ev_u64(a: &Alert, k: &str) -> u64 {
    a.evidence.get(k).and_then(|v| v.as_u64()).unwrap_or(0)
}

/// Distinct probes (targets: ports, hosts or protocols; retransmissions not counted) seen
/// when the alert was raised: our target is at most 10.
fn assert_early(a: &Alert, max_probes: u64) {
    let p = ev_u64(a, "targets_when_raised");
    assert!(
        (1..=max_probes).contains(&p),
        "raised after {p} probes (want ≤ {max_probes}): {:?}",
        a.evidence
    );
}

#[test]
fn nmap_syn_scan_synscan_pcapng() {
    let a = scans(&common::corpus_file(
        "attacks/chrissanders-packets/synscan.pcapng",
    ));
    let s = expect_one(&a, "syn_scan", "172.16.0.8", Some("64.13.134.52"));
    assert_eq!(s.evidence["direction"], "vertical");
    assert_eq!(s.evidence["scan_type"], "tcp_syn");
    assert!(ev_u64(s, "distinct_ports") >= 900, "{:?}", s.evidence);
    assert_eq!(s.evidence["ports"].as_array().unwrap().len(), 20);
    assert_early(s, 10);
    // One scanner, one alert (not thousands).
    assert_eq!(a.len(), 1, "{}", common::describe(&a));
}

#[test]
fn pcaphunt_syn_ack_udp_scans() {
    let base = "attacks/markfvl-Pcaphunt/test/";
    // Each capture scans three hosts: one vertical alert per victim.
    let a = scans(&common::corpus_file(&format!("{base}ps-tcp_syn.pcap")));
    assert_eq!(a.len(), 3, "{}", common::describe(&a));
    for victim in ["10.0.0.1", "10.0.0.2", "10.0.0.254"] {
        let s = expect_one(&a, "syn_scan", "10.0.0.140", Some(victim));
        assert_early(s, 10);
    }
    let a = scans(&common::corpus_file(&format!("{base}ps-tcp_ack.pcap")));
    let s = expect_one(&a, "ack_scan", "10.0.0.135", Some("10.0.0.254"));
    assert_eq!(s.evidence["scan_type"], "tcp_ack");
    assert_early(s, 10);
    assert!(
        a.iter().all(|x| x.kind == "ack_scan"),
        "{}",
        common::describe(&a)
    );
    let a = scans(&common::corpus_file(&format!("{base}ps-udp.pcap")));
    let s = expect_one(&a, "udp_scan", "10.0.0.135", Some("10.0.0.2"));
    assert_early(s, 10);
}

#[test]
fn port_scan_1_to_10000() {
    let a = scans(&common::corpus_file(
        "attacks/lucaderi-sgr/2011-2020/2020/BoschiCarliPetri/portScan_1_to_10000.pcapng",
    ));
    let s = expect_one(&a, "syn_scan", "192.168.1.7", Some("192.168.1.1"));
    assert!(ev_u64(s, "distinct_ports") >= 9000, "{:?}", s.evidence);
    assert_early(s, 10);
    assert_eq!(a.len(), 1, "{}", common::describe(&a));
}

#[test]
fn host_sweeps_arp_icmp_tcp_udp() {
    let base = "attacks/lucaderi-sgr/2022/Favilli/tests/";
    for (file, attacker, ty) in [
        ("hs-arpScan.pcap", "10.0.0.128", "arp"),
        ("hs-icmpScan.pcap", "10.0.0.128", "icmp"),
        ("hs-icmpScan.pcapng", "10.0.0.128", "icmp"),
        ("hs-tcp_ackPingSweepRand.pcapng", "10.0.0.128", "tcp_ack"),
        ("hs-tcp_synPingSweepRand.pcapng", "10.0.0.128", "tcp_syn"),
        ("hs-udpScan.pcap", "246.237.45.150", "udp"),
    ] {
        let a = scans(&common::corpus_file(&format!("{base}{file}")));
        let s = expect_one(&a, "host_sweep", attacker, None);
        assert_eq!(s.evidence["scan_type"], ty, "{file}");
        assert_eq!(s.evidence["direction"], "horizontal", "{file}");
        assert!(
            ev_u64(s, "distinct_hosts") >= 90,
            "{file}: {:?}",
            s.evidence
        );
        assert_early(s, 10);
    }
}

#[test]
fn ip_protocol_scan_from_answers_only() {
    // The capture holds only the victim's ICMP protocol-unreachable answers: the quoted
    // headers name the attacker's probes.
    let a = scans(&common::corpus_file(
        "attacks/lucaderi-sgr/2022/Favilli/tests/hs-sh-IPscan.pcapng",
    ));
    // The victim 10.0.0.2 answers the attacker 10.0.0.128 (the quoted headers carry other,
    // pre-rewrite addresses: the outer header is what the network showed).
    let s = expect_one(&a, "ip_protocol_scan", "10.0.0.128", Some("10.0.0.2"));
    assert_eq!(a.len(), 1, "{}", common::describe(&a));
    assert!(ev_u64(s, "distinct_protocols") >= 100, "{:?}", s.evidence);
    assert_early(s, 10);
}

#[test]
fn other_scan_like_captures() {
    // nDPI's copy of the same nmap SYN scan.
    let a = scans(&common::corpus_file(
        "robustness/nDPI-tests/tests/cfgs/default/pcap/synscan.pcap",
    ));
    expect_one(&a, "syn_scan", "172.16.0.8", Some("64.13.134.52"));
}

#[test]
fn no_alert_on_benign_corpus() {
    let files = common::benign_dir_captures();
    let mut bad = Vec::new();
    for f in &files {
        let a = scans(f);
        if !a.is_empty() {
            bad.push(format!("{}:\n{}", f.display(), common::describe(&a)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The benign captures among the Practical Packet Analysis samples: everything the manifest
/// does not label ATTACK or MALWARE (tcp_ports is a browser's many connections to port 80).
#[test]
fn no_alert_on_benign_chrissanders_captures() {
    let mut bad = Vec::new();
    for f in common::chrissanders_benign() {
        let a = scans(&f);
        if !a.is_empty() {
            bad.push(format!("{}:\n{}", f.display(), common::describe(&a)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn other_attacks_are_not_scans() {
    // One SYN for passive fingerprinting, ARP poisoning, a drive-by: not scans.
    for f in [
        "attacks/chrissanders-packets/passiveosfingerprinting.pcapng",
        "attacks/chrissanders-packets/arppoison.pcapng",
        "attacks/chrissanders-packets/aurora.pcapng",
    ] {
        let a = scans(&common::corpus_file(f));
        assert!(a.is_empty(), "{f}:\n{}", common::describe(&a));
    }
}

#[test]
fn disabled_means_silent_and_thresholds_matter() {
    let p = common::corpus_file("attacks/chrissanders-packets/synscan.pcapng");
    let mut cfg = DetectConfig::default();
    cfg.detectors.port_scan.enabled = false;
    let a = common::run_with(std::slice::from_ref(&p), &cfg);
    assert!(common::of(&a, DetectorId::PortScan).is_empty());
    // With thresholds out of reach, nothing is raised: the defaults are what detect.
    let mut cfg = DetectConfig::default();
    let c = &mut cfg.detectors.port_scan;
    c.min_failures = 100_000;
    c.vertical_ports = 100_000;
    c.horizontal_hosts = 100_000;
    c.burst_unanswered = 100_000;
    c.ip_protocols = 1_000;
    let a = common::run_with(&[p], &cfg);
    assert!(common::of(&a, DetectorId::PortScan).is_empty());
}

#[test]
fn config_rejects_bad_trw_parameters() {
    let toml = "[detectors.port_scan]\ntrw_theta0 = 0.1\ntrw_theta1 = 0.9\n";
    let cfg: DetectConfig = toml::from_str(toml).unwrap();
    assert!(wirescope_detect::Detection::new(&cfg).is_err());
}

#[test]
fn floods_and_reflection_are_not_scans() {
    // Reflection answers come from a service port; a spoofed SYN flood sends one packet per
    // source and is never answered (one-way capture): neither is a (distributed) scan.
    let base = "attacks/StopDDoS-packet-captures/";
    for f in [
        "amp.UDP.isakmp.pcap",
        "amp.UDP.snmp.src161.pcapng",
        "amp.UDP.bacnet.IOT.37810.pcapng",
        "pkt.TCP.synflood.spoofed.pcap",
    ] {
        let a = scans(&common::corpus_file(&format!("{base}{f}")));
        assert!(a.is_empty(), "{f}:\n{}", common::describe(&a));
    }
    // These two also hold a few genuine background scanners of the victim (single sources,
    // TRW): those may alert, a distributed scan of the flood may not.
    for f in [
        "amp.TCP.syn.optionallyACK.optionallysamePort.pcapng",
        "amp.dns.RRSIG.fragmented.pcap",
    ] {
        let a = scans(&common::corpus_file(&format!("{base}{f}")));
        assert!(
            a.iter()
                .all(|x| x.kind != "distributed_scan" && x.src.is_some()),
            "{f}:\n{}",
            common::describe(&a)
        );
    }
}
