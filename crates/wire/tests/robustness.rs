//! "No packet may panic": every classic-pcap file under the corpus's `robustness/` folder
//! (tcpdump's crash regressions, fuzzed captures, truncated files ...) is decoded packet by
//! packet, as its own link type and as every other supported link type, and each result is
//! checked against the invariants `decode` promises.
//!
//! Non-pcap files (pcapng, gzip, expected-output text) are skipped one by one; a missing
//! corpus fails the test.

mod common;

use std::path::{Path, PathBuf};

use wirescope_core::{Frame, Timestamp};
use wirescope_wire::{
    decode, decode_frame, Layer, LinkType, Packet, Transport, MAX_ENCAPSULATIONS,
};

const LINK_TYPES: [LinkType; 10] = [
    LinkType::ETHERNET,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::NULL,
    LinkType::LOOP,
    LinkType::RAW,
    LinkType::RAW_BSD12,
    LinkType::RAW_BSD14,
    LinkType::IPV4,
    LinkType::IPV6,
];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The promises of `decode` that hold for any input.
fn check(p: &Packet<'_>, data: &[u8], what: &dyn Fn() -> String) {
    let range = data.as_ptr_range();
    let pr = p.payload.as_ptr_range();
    assert!(
        p.payload.is_empty() || (range.start <= pr.start && pr.end <= range.end),
        "payload outside the frame: {}",
        what()
    );
    assert!(
        p.tunnel_depth <= MAX_ENCAPSULATIONS,
        "tunnel depth: {}",
        what()
    );
    let consistent = match p.transport {
        Transport::None => true,
        Transport::Tcp(_) => p.layers.contains(Layer::Tcp),
        Transport::Udp(_) => p.layers.contains(Layer::Udp),
        Transport::Icmp(_) => p.layers.contains(Layer::Icmp),
        Transport::Icmpv6(_) => p.layers.contains(Layer::Icmpv6),
        Transport::Sctp { .. } => p.layers.contains(Layer::Sctp),
    };
    assert!(consistent, "transport without its layer: {}", what());
    if p.transport != Transport::None {
        assert!(p.ip.is_some(), "transport without IP: {}", what());
    }
    if p.ip.is_some() {
        assert!(
            p.layers.contains(Layer::Ipv4) || p.layers.contains(Layer::Ipv6),
            "ip without its layer: {}",
            what()
        );
    }
}

#[test]
fn every_robustness_capture_decodes_without_panic() {
    let root = common::require_corpus().join("robustness");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let (mut pcaps, mut packets, mut decodes) = (0usize, 0usize, 0usize);
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let Some(pcap) = common::parse_pcap(&bytes) else {
            continue;
        };
        pcaps += 1;
        for (i, rec) in pcap.records.iter().enumerate() {
            packets += 1;
            let what = || format!("{} record {} (link {})", path.display(), i + 1, pcap.link);
            let frame = Frame {
                ts: Timestamp::default(),
                wire_len: rec.wire_len,
                link: LinkType(pcap.link),
                iface: 0,
                data: rec.data,
            };
            check(&decode_frame(&frame), rec.data, &what);
            decodes += 1;
            for link in LINK_TYPES {
                check(&decode(link, rec.data), rec.data, &|| {
                    format!("{} as {link}", what())
                });
                decodes += 1;
            }
        }
    }
    eprintln!("{pcaps} classic pcap files, {packets} packets, {decodes} decodes without panic");
    // The corpus holds ~1 500 classic pcap files under robustness/: an empty walk is a bug.
    assert!(
        pcaps > 1000 && packets > 100_000,
        "too few captures found under {}",
        root.display()
    );
}
