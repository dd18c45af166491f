//! `--workers N` gives the records and alerts of one worker: the same EVE events (flows,
//! application records, alerts with their evidence), the same Zeek logs and the same `--json`
//! report, on corpus captures chosen for what could break a flow-hash split: attacks whose
//! detectors keep state per host across flows (scans, floods, spoofing, tunnels, brute force,
//! web attacks), IP fragments, tunnels, DHCP, ARP, and link types other than Ethernet.
//!
//! Lines are compared as sorted sets: with more than one shard, flows that time out in the same
//! sweep step may leave in another order (see `crates/engine/src/shard.rs`). The report's
//! `flows.max_active` is the sum of the shards' peaks and is not compared.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use wirescope_testkit::corpus::{self, repo_root};

/// Captures of the corpus, and the least number of alerts each must raise (so that alert
/// equality is not vacuous).
const CAPTURES: &[(&str, usize)] = &[
    ("attacks/markfvl-Pcaphunt/test/ps-tcp_syn.pcap", 1),
    (
        "attacks/lucaderi-sgr/2022/Favilli/tests/hs-tcp_synPingSweepRand.pcapng",
        1,
    ),
    (
        "attacks/StopDDoS-packet-captures/pkt.TCP.synflood.spoofed.pcap",
        1,
    ),
    (
        "attacks/StopDDoS-packet-captures/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng",
        1,
    ),
    (
        "attacks/StopDDoS-packet-captures/amp.dns.RRSIG.fragmented.pcap",
        1,
    ),
    ("attacks/chrissanders-packets/arppoison.pcapng", 1),
    (
        "attacks/comnet24s-dns-tunnel-dataset/pcaps/iodine/examples.elastic.github.com.pcap",
        1,
    ),
    (
        "attacks/Trace-Share-Dataset/SSH-Hydra/hydra-4_tasks.pcap",
        1,
    ),
    (
        "attacks/chrissanders-packets/http_dvwa_sqlinjection.pcapng",
        1,
    ),
    ("attacks/chrissanders-packets/ipv6_fragments.pcapng", 0),
    (
        "attacks/chrissanders-packets/dhcp_nolease_initialization.pcapng",
        0,
    ),
    (
        "robustness/PcapPlusPlus-tests/Tests/ExamplesTest/pcap_examples/ip-frag.pcap",
        0,
    ),
    (
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/GrePackets.cap",
        0,
    ),
    (
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/four_ipv6_http_streams.pcap",
        0,
    ),
    (
        "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/NullLoopback.pcap",
        0,
    ),
    ("benign/tj-oconnor-IoT-Dataset/pcaps/blink-cam-02.pcap", 0),
];

struct Outputs {
    eve: Vec<String>,
    zeek: Vec<(String, Vec<String>)>,
    report: serde_json::Value,
    alerts: usize,
}

fn run(capture: &Path, workers: u16, dir: &Path) -> Outputs {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let eve = dir.join("eve.json");
    let zeek = dir.join("zeek");
    let out = Command::new(env!("CARGO_BIN_EXE_wirescope"))
        .arg("-r")
        .arg(capture)
        .args(["--workers", &workers.to_string(), "--json", "--eve"])
        .arg(&eve)
        .arg("--zeek-dir")
        .arg(&zeek)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} --workers {workers}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["flows"]["max_active"] = 0.into();
    let mut lines: Vec<String> = std::fs::read_to_string(&eve)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"event_type\":\"stats\""))
        .map(str::to_string)
        .collect();
    lines.sort();
    let alerts = lines
        .iter()
        .filter(|l| l.contains("\"event_type\":\"alert\""))
        .count();
    let mut logs = Vec::new();
    for e in std::fs::read_dir(&zeek).unwrap() {
        let p = e.unwrap().path();
        let mut body: Vec<String> = std::fs::read_to_string(&p)
            .unwrap()
            .lines()
            // `#open`/`#close` carry the wall-clock time of the run.
            .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
            .map(str::to_string)
            .collect();
        body.sort();
        logs.push((p.file_name().unwrap().to_string_lossy().into_owned(), body));
    }
    logs.sort();
    Outputs {
        eve: lines,
        zeek: logs,
        report,
        alerts,
    }
}

#[test]
fn any_worker_count_gives_the_records_and_alerts_of_one() {
    let base = repo_root().join("target/workers-test");
    let mut checked = 0;
    for &(rel, min_alerts) in CAPTURES {
        let capture = corpus::dir().join(rel);
        assert!(
            capture.is_file(),
            "missing corpus file {}",
            capture.display()
        );
        let one = run(&capture, 1, &base.join("1"));
        assert!(
            one.alerts >= min_alerts,
            "{rel}: {} alerts, expected at least {min_alerts}",
            one.alerts
        );
        assert!(!one.eve.is_empty(), "{rel}: no EVE records");
        for workers in [2, 3] {
            let many = run(&capture, workers, &base.join(workers.to_string()));
            assert_eq!(
                one.eve.len(),
                many.eve.len(),
                "{rel}: EVE line count with {workers} workers"
            );
            for (a, b) in one.eve.iter().zip(&many.eve) {
                assert_eq!(a, b, "{rel}: EVE with {workers} workers");
            }
            assert_eq!(
                one.zeek, many.zeek,
                "{rel}: Zeek logs with {workers} workers"
            );
            assert_eq!(
                one.report, many.report,
                "{rel}: report with {workers} workers"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * CAPTURES.len());
}

#[test]
fn workers_out_of_range_is_a_usage_error() {
    for bad in ["0", "257", "many"] {
        let out = Command::new(env!("CARGO_BIN_EXE_wirescope"))
            .args(["-r", "/dev/null", "--workers", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--workers {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--workers"), "--workers {bad}: {err}");
    }
}
