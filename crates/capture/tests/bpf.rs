//! BPF filters select exactly the packets tcpdump selects, including `len`-based filters on
//! snaplen-cut captures, and agree with libpcap's own interpreter across the corpus.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{corpus_dir, corpus_file, read_all, run, OwnedFrame};
use wirescope_capture::{BpfFilter, CaptureReader, FilterError, PcapWriter};
use wirescope_core::{Frame, LinkType};

const HTTP: &str = "robustness/nDPI-tests/tests/cfgs/default/pcap/1kxun.pcap";

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("capture-bpf-{}-{name}", std::process::id()))
}

fn frame(f: &OwnedFrame) -> Frame<'_> {
    Frame {
        ts: f.ts,
        wire_len: f.wire_len,
        link: f.link,
        iface: f.iface,
        data: &f.data,
    }
}

fn read(path: &Path) -> Vec<OwnedFrame> {
    let (frames, e) = read_all(&mut CaptureReader::open(path).unwrap());
    assert!(e.is_none(), "{e:?}");
    frames
}

/// The packets tcpdump keeps for `expr` (it writes them out; we read them back).
fn tcpdump_selects(path: &Path, expr: &str) -> Vec<OwnedFrame> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let out = tmp(&format!("sel{}.pcap", N.fetch_add(1, Ordering::Relaxed)));
    run(
        "tcpdump",
        &[
            "-r",
            path.to_str().unwrap(),
            "-w",
            out.to_str().unwrap(),
            expr,
        ],
    );
    let frames = read(&out);
    let _ = std::fs::remove_file(&out);
    frames
}

fn we_select(frames: &[OwnedFrame], expr: &str) -> Vec<OwnedFrame> {
    let mut f = BpfFilter::new(expr, frames[0].link, 262_144).unwrap();
    frames
        .iter()
        .filter(|p| f.matches(&frame(p)).unwrap())
        .cloned()
        .collect()
}

fn same_packets(a: &[OwnedFrame], b: &[OwnedFrame]) -> bool {
    // tcpdump rewrites at µs resolution: compare data, lengths and µs.
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.data == y.data && x.wire_len == y.wire_len && x.ts.0 / 1000 == y.ts.0 / 1000
        })
}

#[test]
fn tcp_port_80_matches_tcpdump() {
    let path = corpus_file(HTTP);
    let frames = read(&path);
    for expr in [
        "tcp port 80",
        "udp",
        "ip6",
        "greater 1000",
        "tcp[tcpflags] & tcp-syn != 0",
        "not ip",
        "",
    ] {
        let ours = we_select(&frames, expr);
        let theirs = tcpdump_selects(&path, expr);
        assert!(
            same_packets(&ours, &theirs),
            "{expr:?}: we keep {}, tcpdump {}",
            ours.len(),
            theirs.len()
        );
        if expr == "tcp port 80" {
            assert_eq!(
                ours.len(),
                1205,
                "tcpdump -r 1kxun.pcap 'tcp port 80' | wc -l"
            );
        }
    }
}

#[test]
fn len_filters_use_the_wire_length_like_tcpdump() {
    // Cut every packet to 96 bytes: `greater 1000` must still see the original length.
    let frames = read(&corpus_file(HTTP));
    let cut = tmp("cut96.pcap");
    let mut w = PcapWriter::create(&cut, LinkType::ETHERNET, 96).unwrap();
    for f in &frames {
        w.write(&frame(f)).unwrap();
    }
    w.finish().unwrap();
    let cut_frames = read(&cut);
    for expr in ["greater 1000", "less 100", "len > 500 and tcp"] {
        let ours = we_select(&cut_frames, expr);
        let theirs = tcpdump_selects(&cut, expr);
        assert!(
            same_packets(&ours, &theirs),
            "{expr}: we keep {}, tcpdump {}",
            ours.len(),
            theirs.len()
        );
        assert!(!ours.is_empty(), "{expr} selects nothing: a weak test");
    }
    let _ = std::fs::remove_file(&cut);
}

#[test]
fn bad_filter_names_the_expression() {
    let e = BpfFilter::new("tcp prt 80", LinkType::ETHERNET, 262_144)
        .err()
        .unwrap();
    assert!(matches!(e, FilterError::Syntax { .. }));
    // libpcap's own words, as tcpdump prints them.
    assert_eq!(
        e.to_string(),
        "bad filter \"tcp prt 80\": can't parse filter expression: syntax error"
    );
}

#[test]
fn unsupported_link_type_is_an_error_each_time() {
    let mut f = BpfFilter::new("tcp port 80", LinkType::ETHERNET, 0).unwrap();
    let data = [0u8; 60];
    let odd = Frame {
        link: LinkType(65_000),
        ..Frame {
            ts: Default::default(),
            wire_len: 60,
            link: LinkType::ETHERNET,
            iface: 0,
            data: &data,
        }
    };
    for _ in 0..3 {
        let e = f.matches(&odd).err().unwrap();
        assert!(matches!(
            e,
            FilterError::LinkType {
                link: LinkType(65_000),
                ..
            }
        ));
        assert!(e.to_string().contains("\"tcp port 80\""), "{e}");
    }
    // Other link types still work, and the program is compiled per link type.
    let eth = Frame {
        link: LinkType::ETHERNET,
        ..odd
    };
    assert!(!f.matches(&eth).unwrap());
    let raw = [
        0x45u8, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 80,
    ];
    let raw = Frame {
        link: LinkType::RAW,
        data: &raw,
        wire_len: 40,
        ..odd
    };
    assert!(f.matches(&raw).unwrap());
}

/// The interpreter against libpcap's (`pcap_offline_filter`, which uses caplen as the length:
/// we compare on frames whose caplen equals their wire length).
#[test]
fn interpreter_agrees_with_libpcap_across_the_corpus() {
    let exprs = [
        "tcp port 80",
        "udp and not port 53",
        "ip6 and tcp",
        "vlan and ip",
        "icmp or arp or icmp6",
        "ip[6:2] & 0x1fff != 0",
        "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
        "net 10.0.0.0/8 or net 192.168.0.0/16",
        "len > 100",
        "ip6 protochain 6",
        "udp[8:2] = 0x4500 or tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
    ];
    let mut files = Vec::new();
    let mut stack = vec![corpus_dir()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::metadata(&p).unwrap().len() < 1 << 20 {
                files.push(p);
            }
        }
    }
    files.sort();
    let (mut compared, mut matched) = (0u64, 0u64);
    let mut libpcap: Vec<(LinkType, Vec<Option<pcap::BpfProgram>>)> = Vec::new();
    let mut ours: Vec<BpfFilter> = exprs
        .iter()
        .map(|e| BpfFilter::new(e, LinkType::ETHERNET, 0).unwrap())
        .collect();
    for p in files {
        let Ok(mut r) = CaptureReader::open(&p) else {
            continue;
        };
        while let Ok(true) = r.advance() {
            let f = r.current();
            if f.data.len() != f.wire_len as usize {
                continue;
            }
            let i = match libpcap.iter().position(|(l, _)| *l == f.link) {
                Some(i) => i,
                None => {
                    // libpcap wants DLT values; LINKTYPE_RAW (101) is DLT_RAW (12) on Linux.
                    let dlt = if f.link == LinkType::RAW {
                        12
                    } else {
                        i32::from(f.link.0)
                    };
                    let dead = pcap::Capture::dead(pcap::Linktype(dlt)).unwrap();
                    libpcap.push((
                        f.link,
                        exprs.iter().map(|e| dead.compile(e, true).ok()).collect(),
                    ));
                    libpcap.len() - 1
                }
            };
            for (k, prog) in libpcap[i].1.iter().enumerate() {
                match (prog, ours[k].matches(&f)) {
                    (Some(prog), Ok(m)) => {
                        assert_eq!(
                            m,
                            prog.filter(f.data),
                            "{}: {:?} on a packet of {}",
                            p.display(),
                            exprs[k],
                            f.link
                        );
                        compared += 1;
                        matched += u64::from(m);
                    }
                    (None, Err(_)) => {}
                    (prog, m) => panic!(
                        "{:?} for {}: libpcap compiles: {}, we: {m:?}",
                        exprs[k],
                        f.link,
                        prog.is_some()
                    ),
                }
            }
        }
    }
    println!("{compared} filter runs compared with libpcap, {matched} matches");
    assert!(
        compared > 100_000 && matched > 10_000,
        "too few comparisons: {compared}/{matched}"
    );
}
