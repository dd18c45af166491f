//! `protocol_anomaly` on real captures: crafted packets alert, ordinary fragmentation and
//! every benign capture do not.
#![allow(clippy::unwrap_used)]
mod common;

use common::{corpus_file, describe, of, run};
use wirescope_detect::DetectorId::ProtocolAnomaly;

#[test]
fn teardrop_overlapping_fragments() {
    let a = run(&corpus_file("robustness/lwerdna-filesamples/teardrop.pcap"));
    let pa = of(&a, ProtocolAnomaly);
    assert_eq!(pa.len(), 1, "{}", describe(&a));
    assert_eq!(pa[0].kind, "overlapping_fragments");
    assert_eq!(pa[0].src.unwrap().ip.to_string(), "10.1.1.1");
    assert_eq!(pa[0].dst.unwrap().ip.to_string(), "129.111.30.27");
}

#[test]
fn nmap_os_probe_with_syn_fin() {
    let a = run(&corpus_file(
        "attacks/chrissanders-packets/activeosfingerprinting.pcapng",
    ));
    let pa = of(&a, ProtocolAnomaly);
    assert_eq!(pa.len(), 1, "{}", describe(&a));
    assert_eq!(pa[0].kind, "invalid_tcp_flags");
    assert_eq!(pa[0].src.unwrap().ip.to_string(), "172.16.16.128");
    assert_eq!(
        pa[0].evidence["flag_combinations"],
        serde_json::json!(["SYN+FIN"])
    );
}

#[test]
fn all_flags_set_names_every_combination() {
    let a = run(&corpus_file(
        "robustness/tcpdump-tests/tests/tcp_eight_lowest_weight_flags_set.pcap",
    ));
    let pa = of(&a, ProtocolAnomaly);
    assert_eq!(pa.len(), 1, "{}", describe(&a));
    assert_eq!(
        pa[0].evidence["flag_combinations"],
        serde_json::json!(["SYN+FIN", "SYN+RST", "FIN+RST"])
    );
}

#[test]
fn ordinary_fragmentation_is_not_an_anomaly() {
    for f in [
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/ip4_fragments.pcap",
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/frag_http_req.pcap",
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/ip6_fragments.pcap",
        "robustness/PcapPlusPlus-tests/Tests/ExamplesTest/pcap_examples/ipv6-frag.pcap",
        "attacks/StopDDoS-packet-captures/amp.dns.RRSIG.fragmented.pcap",
        "attacks/chrissanders-packets/ip_frag_source.pcapng",
        "attacks/chrissanders-packets/ipv6_fragments.pcapng",
    ] {
        let a = run(&corpus_file(f));
        let pa = of(&a, ProtocolAnomaly);
        assert!(pa.is_empty(), "{f}: {}", describe(&a));
    }
}

#[test]
fn no_protocol_anomaly_on_benign_corpus() {
    let files = common::benign_captures();
    for f in files {
        let a = run(&f);
        let pa = of(&a, ProtocolAnomaly);
        assert!(pa.is_empty(), "{}: {}", f.display(), describe(&a));
    }
}
