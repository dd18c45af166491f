//! `slowloris`: no capture of a slow-headers attack is in the corpus, so the positive tests
//! use synthetic captures written with wirescope-testkit (the lab capture of `slowhttptest -c
//! 200 -H -i 10 -r 50 -l 30` was checked by hand, see the report); the negative tests walk the
//! benign corpus.
#![allow(clippy::unwrap_used)]
mod common;

use std::net::IpAddr;
use std::path::PathBuf;
use wirescope_detect::config::DetectConfig;
use wirescope_detect::{Alert, DetectorId};
use wirescope_testkit::packet::{tcp_flags as F, PacketBuilder};
use wirescope_testkit::pcap::PcapBuilder;

const T0: u64 = 1_700_000_000_000_000_000;
const SEC: u64 = 1_000_000_000;

/// One client segment plan: (time offset ns, connection index, from client, flags, payload).
type Seg = (u64, usize, bool, u8, Vec<u8>);

/// Writes `conns` connections from 10.7.0.9 to 10.7.0.1:80 following `segs` (sorted here).
fn capture(name: &str, mut segs: Vec<Seg>) -> PathBuf {
    segs.sort_by_key(|s| (s.0, s.1));
    let path =
        std::env::temp_dir().join(format!("wirescope-sl-{}-{name}.pcap", std::process::id()));
    let mut w = PcapBuilder::ethernet(std::fs::File::create(&path).unwrap()).unwrap();
    let mut b = PacketBuilder::new();
    let mut seqs: Vec<(u32, u32)> = vec![(1000, 9000); 1000];
    for (t, c, from_client, flags, data) in segs {
        let port = 30_000 + c as u16;
        let (cs, ss) = seqs[c];
        let (src, dst, seq_ack) = if from_client {
            (([10, 7, 0, 9], port), ([10, 7, 0, 1], 80), (cs, ss))
        } else {
            (([10, 7, 0, 1], 80), ([10, 7, 0, 9], port), (ss, cs))
        };
        let macs = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let f = b.tcp4_frame(macs, src, dst, seq_ack, flags, &data);
        w.packet(T0 + t, f).unwrap();
        let adv = data.len() as u32 + u32::from(flags & (F::SYN | F::FIN) != 0);
        if from_client {
            seqs[c].0 += adv;
        } else {
            seqs[c].1 += adv;
        }
    }
    w.finish().unwrap();
    path
}

/// `n` connections opened 20 ms apart; each sends a partial head, then (if `slow`) one header
/// line every `every_s` for `dur_s`, else completes the head at once; then closes.
fn plan(n: usize, slow: bool, every_s: u64, dur_s: u64) -> Vec<Seg> {
    let mut s = Vec::new();
    for c in 0..n {
        let t = c as u64 * 20_000_000;
        s.push((t, c, true, F::SYN, vec![]));
        s.push((t + 1_000_000, c, false, F::SYN | F::ACK, vec![]));
        s.push((t + 2_000_000, c, true, F::ACK, vec![]));
        s.push((
            t + 3_000_000,
            c,
            true,
            F::PSH | F::ACK,
            b"GET / HTTP/1.1\r\nHost: 10.7.0.1\r\nUser-Agent: x\r\n".to_vec(),
        ));
        let end = if slow {
            let mut k = every_s;
            while k <= dur_s {
                s.push((
                    t + k * SEC,
                    c,
                    true,
                    F::PSH | F::ACK,
                    format!("X-{k}: {c}\r\n").into_bytes(),
                ));
                k += every_s;
            }
            t + dur_s * SEC + 500_000_000
        } else {
            s.push((
                t + 4_000_000,
                c,
                true,
                F::PSH | F::ACK,
                b"Accept: */*\r\n\r\n".to_vec(),
            ));
            s.push((
                t + 6_000_000,
                c,
                false,
                F::PSH | F::ACK,
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
            ));
            t + 8_000_000
        };
        s.push((end, c, true, F::FIN | F::ACK, vec![]));
        s.push((end + 1_000_000, c, false, F::FIN | F::ACK, vec![]));
        s.push((end + 2_000_000, c, true, F::ACK, vec![]));
    }
    // Something to keep packet time moving to the end.
    s
}

fn slow(path: &PathBuf, cfg: &DetectConfig) -> Vec<Alert> {
    let a = common::run_with(std::slice::from_ref(path), cfg);
    let _ = std::fs::remove_file(path);
    common::of(&a, DetectorId::Slowloris)
        .into_iter()
        .cloned()
        .collect()
}

#[test]
fn slow_headers_attack_alerts() {
    let p = capture("attack", plan(60, true, 5, 30));
    let a = slow(&p, &DetectConfig::default());
    assert_eq!(a.len(), 1, "{}", common::describe(&a));
    let x = &a[0];
    assert_eq!(x.kind, "slow_headers");
    assert_eq!(x.src.unwrap().ip, "10.7.0.9".parse::<IpAddr>().unwrap());
    assert_eq!(x.dst.unwrap().ip, "10.7.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(x.dst.unwrap().port, Some(80));
    assert!(
        x.evidence["max_concurrent"].as_u64().unwrap() >= 55,
        "{}",
        common::describe(&a)
    );
    assert!(
        x.evidence["slow_total"].as_u64().unwrap() == 60,
        "{}",
        common::describe(&a)
    );
    // The 25th connection starts 0.5 s in and is slow 10 s later.
    assert!(x.delay_s() <= 12.0, "delay {}", x.delay_s());
    eprintln!("delay {:.1}s {}", x.delay_s(), common::describe(&a));
}

#[test]
fn complete_requests_are_quiet() {
    let p = capture("fast", plan(200, false, 0, 0));
    let a = slow(&p, &DetectConfig::default());
    assert!(a.is_empty(), "{}", common::describe(&a));
}

#[test]
fn few_slow_connections_are_quiet() {
    let p = capture("few", plan(10, true, 5, 30));
    let a = slow(&p, &DetectConfig::default());
    assert!(a.is_empty(), "{}", common::describe(&a));
}

#[test]
fn heads_finished_before_the_limit_are_quiet() {
    // Each head takes 8 s: slow but under min_incomplete_s (10 s).
    let mut s = plan(60, true, 4, 8);
    for seg in &mut s {
        if seg.4.starts_with(b"X-8:") {
            seg.4.extend_from_slice(b"\r\n");
        }
    }
    let p = capture("under", s);
    let a = slow(&p, &DetectConfig::default());
    assert!(a.is_empty(), "{}", common::describe(&a));
}

#[test]
fn benign_corpus_has_no_alerts() {
    let mut bad = Vec::new();
    for p in common::benign_captures() {
        let a = common::run(&p);
        let mine: Vec<Alert> = common::of(&a, DetectorId::Slowloris)
            .into_iter()
            .cloned()
            .collect();
        if !mine.is_empty() {
            bad.push(format!("{}: {}", p.display(), common::describe(&mine)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
