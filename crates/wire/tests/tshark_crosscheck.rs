//! Cross-checks `decode` against tshark on real captures from the shared corpus: per packet,
//! the innermost IP source/destination, the transport ports and the TCP flags must agree.
//!
//! tshark lists every occurrence of a field, outer first (`ip.src` = "outer,inner" for a
//! tunnel, and ICMP errors add the quoted packet's addresses). `frame.protocols` tells which
//! occurrence is the one `decode` reports: walk it while the protocols are ones `decode`
//! follows, and count `ip`/`ipv6`/`tcp`/`udp` on the way.
//!
//! A missing corpus or tshark fails the test with a message; nothing is skipped.

#![allow(clippy::unwrap_used, reason = "test code")]

mod common;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use wirescope_core::{Frame, Timestamp};
use wirescope_wire::{decode_frame, LinkType, Transport};

/// Varied captures: VLAN/QinQ, IPv6 and its fragments, 6in4/4in6, GRE (IP, PPP, ERSPAN, WCCP),
/// VXLAN, MPLS, PPPoE, SLL, SLL2, BSD null, raw IP, a plain Ethernet SYN flood and a device's
/// everyday traffic (the fast path's diet).
const FILES: &[&str] = &[
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/VlanPackets.pcap",
    "robustness/arkime-tests/tests/pcap/twovlan.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/6in4tunnel.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/4in6tunnel.pcap",
    "robustness/arkime-tests/tests/pcap/gre-sample.pcap",
    "robustness/arkime-tests/tests/pcap/gre-erspan-vxlan.pcap",
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/GrePackets.cap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/vxlan.pcap",
    "robustness/arkime-tests/tests/pcap/mpls-basic.pcap",
    "robustness/arkime-tests/tests/pcap/pppoe.pcap",
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/sll.pcap",
    "robustness/lwerdna-filesamples/simple_http_sll2.pcap",
    "robustness/arkime-tests/tests/pcap/http2-nghttp2.pcap",
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/four_ipv6_http_streams.pcap",
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/ip6_fragments.pcap",
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/ip4_fragments.pcap",
    "robustness/tcpdump-tests/tests/wccp_redirect_gre.pcap",
    "attacks/StopDDoS-packet-captures/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng",
    "benign/aucad-iot-sentinel/iot-sentinel/D-LinkHomeHub/Setup-A-1-STA.pcap",
    // Other link types: radiotap + 802.11, Cisco HDLC (also on a PPP link), Frame Relay (Cisco
    // and RFC 2427), NFLOG, PPP with MPLS, ARCnet, PKTAP, PPI, ipnet, IPoIB.
    "robustness/arkime-tests/tests/pcap/80211http.pcap",
    "robustness/tcpdump-tests/tests/HDLC.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/BGP_Cisco_hdlc_slarp.pcap",
    "robustness/arkime-tests/tests/pcap/icmp-frame-relay.pcap",
    "robustness/tcpdump-tests/tests/OSPFv3_NBMA_adjacencies.pcap",
    "robustness/tcpdump-tests/tests/nflog.pcap",
    "robustness/tcpdump-tests/tests/mpls-traceroute.pcap",
    "robustness/tcpdump-tests/tests/arcnet-rfc1201-arp-icmp-http.pcap",
    "robustness/tcpdump-tests/tests/LINKTYPE_PKTAP.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/someip_sd_sample.pcap",
    "robustness/tcpdump-tests/tests/e1000g.pcap",
    "robustness/tcpdump-tests/tests/ipoib.pcap",
    // EtherType shims: FabricPath, MACsec (integrity only), Arista timestamps, NSH.
    "robustness/nDPI-tests/tests/cfgs/default/pcap/ajp.pcap",
    "robustness/tcpdump-tests/tests/macsec-integonly.pcap",
    "robustness/tcpdump-tests/tests/arista_ether.pcap",
    "robustness/tcpdump-tests/tests/nsh.pcap",
];

/// tshark's `frame.protocols` names for protocols `decode` walks through to reach the
/// innermost IP header. The walk stops at the first other name (e.g. `teredo`, `gtp`), so a
/// tunnel tshark follows and we do not is compared at the level we stop at.
const WALKED: &[&str] = &[
    "eth",
    "ethertype",
    "vlan",
    "ieee8021ad",
    "llc",
    "sll",
    "null",
    "raw",
    "ip",
    "ipv6",
    "ipv6.hopopts",
    "ipv6.routing",
    "ipv6.fraghdr",
    "ipv6.dstopts",
    "gre",
    "erspan",
    "ppp",
    "pppoes",
    "mpls",
    "vxlan",
    // Link layers and shims.
    "radiotap",
    "wlan_radio",
    "wlan",
    "chdlc",
    "fr",
    "nflog",
    "arcnet",
    "pktap",
    "ppi",
    "pcap_pktdata",
    "ipnet",
    "ipoib",
    "cfp",
    "macsec",
    "avsp",
    "nsh",
];

const FIELDS: &[&str] = &[
    "frame.number",
    "frame.protocols",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "udp.srcport",
    "udp.dstport",
];

/// One tshark row: every field's comma-separated occurrences.
struct Row(HashMap<&'static str, Vec<String>>);

impl Row {
    fn nth(&self, field: &str, n: usize) -> Option<&str> {
        self.0.get(field).and_then(|v| v.get(n)).map(String::as_str)
    }
}

fn tshark_rows(path: &Path) -> Result<Vec<Row>, String> {
    let mut cmd = Command::new("tshark");
    // No reassembly: each frame is compared on its own, as `decode` sees it.
    cmd.args(["-n", "-r"]).arg(path).args([
        "-o",
        "ip.defragment:FALSE",
        "-o",
        "ipv6.defragment:FALSE",
        "-o",
        "tcp.desegment_tcp_streams:FALSE",
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("tshark is required for this test and could not be run: {e}"),
    };
    if !out.status.success() {
        return Err(format!(
            "tshark failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let mut m = HashMap::new();
            for (f, v) in FIELDS.iter().zip(line.split('\t')) {
                let vals = if v.is_empty() {
                    vec![]
                } else {
                    v.split(',').map(String::from).collect()
                };
                m.insert(*f, vals);
            }
            Row(m)
        })
        .collect())
}

/// What tshark says `decode` should report for one frame.
#[derive(Debug, PartialEq)]
struct Expect {
    ip: Option<(String, String)>,
    ports: Option<(&'static str, String, String)>,
    tcp_flags: Option<u16>,
}

fn expected(row: &Row) -> Expect {
    let protos = row.nth("frame.protocols", 0).unwrap_or("").to_string();
    let (mut n_ip, mut n_ip6, mut n_tcp, mut n_udp) = (0, 0, 0, 0);
    // The innermost IP token: (is_v6, occurrence index), and the token after it.
    let mut inner: Option<(bool, usize)> = None;
    let mut after_inner: Option<(&str, usize)> = None;
    for tok in protos.split(':') {
        match tok {
            "ip" => {
                n_ip += 1;
                inner = Some((false, n_ip - 1));
                after_inner = None;
                continue;
            }
            "ipv6" => {
                n_ip6 += 1;
                inner = Some((true, n_ip6 - 1));
                after_inner = None;
                continue;
            }
            "tcp" => n_tcp += 1,
            "udp" => n_udp += 1,
            _ => {}
        }
        if after_inner.is_none() && inner.is_some() && !tok.starts_with("ipv6.") {
            after_inner = Some((
                match tok {
                    "tcp" => "tcp",
                    "udp" => "udp",
                    _ => "other",
                },
                if tok == "tcp" {
                    n_tcp - 1
                } else {
                    n_udp.max(1) - 1
                },
            ));
        }
        // UDP is walked through only into VXLAN.
        if tok == "udp" || !WALKED.contains(&tok) {
            if tok == "udp" && protos.contains("udp:vxlan") {
                continue;
            }
            break;
        }
    }
    let ip = inner.and_then(|(v6, n)| {
        let (s, d) = if v6 {
            ("ipv6.src", "ipv6.dst")
        } else {
            ("ip.src", "ip.dst")
        };
        Some((row.nth(s, n)?.to_string(), row.nth(d, n)?.to_string()))
    });
    let mut ports = None;
    let mut tcp_flags = None;
    if let Some((t @ ("tcp" | "udp"), n)) = after_inner {
        let (s, d) = if t == "tcp" {
            ("tcp.srcport", "tcp.dstport")
        } else {
            ("udp.srcport", "udp.dstport")
        };
        if let (Some(s), Some(d)) = (row.nth(s, n), row.nth(d, n)) {
            ports = Some((t, s.to_string(), d.to_string()));
        }
        if t == "tcp" {
            tcp_flags = row
                .nth("tcp.flags", n)
                .and_then(|f| u16::from_str_radix(f.trim_start_matches("0x"), 16).ok())
                .map(|f| f & 0x01FF);
        }
    }
    Expect {
        ip,
        ports,
        tcp_flags,
    }
}

fn actual(link: u16, wire_len: u32, data: &[u8]) -> Expect {
    let frame = Frame {
        ts: Timestamp::default(),
        wire_len,
        link: LinkType(link),
        iface: 0,
        data,
    };
    let p = decode_frame(&frame);
    let ip = p.ip.map(|i| (i.src.to_string(), i.dst.to_string()));
    let (ports, tcp_flags) = match p.transport {
        Transport::Tcp(t) => (
            Some(("tcp", t.src_port.to_string(), t.dst_port.to_string())),
            Some(t.flags),
        ),
        Transport::Udp(u) => (
            Some(("udp", u.src_port.to_string(), u.dst_port.to_string())),
            None,
        ),
        _ => (None, None),
    };
    // Compare addresses as parsed values (tshark and Rust agree on IPv6 text, but be safe).
    let ip = ip.map(|(s, d)| {
        let norm = |a: String| a.parse::<IpAddr>().map(|a| a.to_string()).unwrap_or(a);
        (norm(s), norm(d))
    });
    Expect {
        ip,
        ports,
        tcp_flags,
    }
}

/// The files to compare: [`FILES`], or (for a wider sweep by hand) the corpus-relative paths
/// listed one per line in the file named by `WIRESCOPE_CROSSCHECK_LIST`.
fn files() -> Vec<String> {
    match std::env::var_os("WIRESCOPE_CROSSCHECK_LIST") {
        Some(list) => std::fs::read_to_string(&list)
            .unwrap_or_else(|e| panic!("WIRESCOPE_CROSSCHECK_LIST unreadable: {e}"))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(String::from)
            .collect(),
        None => FILES.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn decode_agrees_with_tshark_on_corpus_captures() {
    let corpus = common::require_corpus();
    let files = files();
    let mut failures = Vec::new();
    let mut compared = 0usize;
    let mut with_ip = 0usize;
    let mut with_ports = 0usize;
    for rel in &files {
        let path = corpus.join(rel);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("corpus file {} unreadable: {e}", path.display()));
        let Some(pcap) = common::parse_pcap(&bytes) else {
            failures.push(format!("{rel}: not a classic pcap file"));
            continue;
        };
        let rows = match tshark_rows(&path) {
            Ok(rows) if rows.len() == pcap.records.len() => rows,
            Ok(rows) => {
                failures.push(format!(
                    "{rel}: tshark printed {} rows for {} records",
                    rows.len(),
                    pcap.records.len()
                ));
                continue;
            }
            Err(e) => {
                failures.push(format!("{rel}: {e}"));
                continue;
            }
        };
        for (i, (rec, row)) in pcap.records.iter().zip(&rows).enumerate() {
            let want = expected(row);
            let got = actual(pcap.link, rec.wire_len, rec.data);
            compared += 1;
            with_ip += usize::from(want.ip.is_some());
            with_ports += usize::from(want.ports.is_some());
            if want != got {
                failures.push(format!(
                    "{rel} frame {} [{}]:\n    tshark {want:?}\n    decode {got:?}",
                    i + 1,
                    row.nth("frame.protocols", 0).unwrap_or("")
                ));
            }
        }
    }
    eprintln!(
        "compared {compared} frames from {} files ({with_ip} with IP, {with_ports} with ports)",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {compared} frames differ from tshark:\n{}",
        failures.len(),
        failures
            .iter()
            .take(if files.len() > FILES.len() { 2000 } else { 40 })
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Guard against a vacuous pass (e.g. tshark printing nothing).
    assert!(
        with_ip > compared / 2 && with_ports > compared / 3,
        "too few comparable frames"
    );
}
