//! Reproduces every vector of the Community ID specification's baseline files
//! (`robustness/corelight-community-id-spec/baseline` in the shared corpus).
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use wirescope_core::IpProto;
use wirescope_flow::community_id::{community_id, community_id_digest};
use wirescope_testkit::corpus;

fn check(file: &str, seed: u16, hex: bool) -> usize {
    let path = corpus::dir()
        .join("robustness/corelight-community-id-spec/baseline")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(vectors.len() >= 20, "{file}: too few vectors");
    for v in &vectors {
        let src: IpAddr = v["saddr"].as_str().unwrap().parse().unwrap();
        let dst: IpAddr = v["daddr"].as_str().unwrap().parse().unwrap();
        let sport = v["sport"].as_u64().unwrap_or(0) as u16;
        let dport = v["dport"].as_u64().unwrap_or(0) as u16;
        let proto = IpProto(v["proto"].as_u64().unwrap() as u8);
        let want = v["communityid"].as_str().unwrap();
        let got = if hex {
            let d = community_id_digest(seed, src, dst, sport, dport, proto);
            let h: String = d.iter().map(|b| format!("{b:02x}")).collect();
            format!("1:{h}")
        } else {
            community_id(seed, src, dst, sport, dport, proto)
        };
        assert_eq!(got, want, "{file}: vector {v}");
    }
    vectors.len()
}

#[test]
fn default_seed_vectors() {
    check("baseline_deflt.json", 0, false);
}

#[test]
fn seed_one_vectors() {
    check("baseline_seed1.json", 1, false);
}

#[test]
fn unencoded_vectors() {
    check("baseline_nob64.json", 0, true);
}
