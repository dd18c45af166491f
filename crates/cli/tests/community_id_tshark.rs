//! Community ID end to end: the `community_id` of every EVE flow event equals the one tshark
//! computes (`--enable-protocol communityid`) for that flow's packets, on the Community ID
//! specification's own captures and on our fixtures.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use wirescope_testkit::corpus;

fn tshark_ids(pcap: &Path) -> BTreeSet<String> {
    let out = Command::new("tshark")
        .args([
            "-n",
            "--enable-protocol",
            "communityid",
            "-T",
            "fields",
            "-e",
            "communityid",
            "-r",
        ])
        .arg(pcap)
        .env("LC_ALL", "C")
        .output()
        .expect("tshark must be installed (scripts/setup --test)");
    assert!(out.status.success(), "tshark failed on {}", pcap.display());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        // Tunnelled packets give one id per layer, comma-separated; the innermost is ours.
        .filter_map(|l| l.split(',').next_back().map(str::trim).map(str::to_string))
        .filter(|s| !s.is_empty())
        .collect()
}

fn our_ids(pcap: &Path) -> BTreeSet<String> {
    let eve = std::env::temp_dir().join(format!(
        "wirescope-cid-{}-{}.json",
        std::process::id(),
        pcap.file_name().unwrap().to_string_lossy()
    ));
    let st = Command::new(env!("CARGO_BIN_EXE_wirescope"))
        .args(["-q", "-r"])
        .arg(pcap)
        .arg("--eve")
        .arg(&eve)
        .status()
        .unwrap();
    assert!(st.success(), "wirescope failed on {}", pcap.display());
    let text = std::fs::read_to_string(&eve).unwrap();
    let _ = std::fs::remove_file(&eve);
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event_type"] == "flow")
        .map(|v| v["community_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn eve_community_ids_match_tshark() {
    let spec = corpus::dir().join("robustness/corelight-community-id-spec/pcaps");
    let mut files: Vec<PathBuf> = [
        "tcp.pcap",
        "udp.pcap",
        "icmp.pcap",
        "icmp6.pcap",
        "ipv6.pcap",
        "sctp.pcap",
        "rsvp.pcap",
    ]
    .iter()
    .map(|f| spec.join(f))
    .collect();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/pcap");
    for f in [
        "dns-tcp.pcap",
        "four_ipv6_http_streams.pcap",
        "simple_http_sll2.pcap",
    ] {
        files.push(fixtures.join(f));
    }
    let mut compared = 0;
    for f in &files {
        let theirs = tshark_ids(f);
        let ours = our_ids(f);
        assert!(!ours.is_empty(), "{}: no flows", f.display());
        assert_eq!(ours, theirs, "{}: community ids differ", f.display());
        compared += ours.len();
    }
    assert!(compared >= 20, "only {compared} ids compared");
}
