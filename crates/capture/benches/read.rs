//! Reader throughput in records per second.
//!
//! Inputs are built from corpus captures by repeating their records up to ~64 MiB, so that
//! buffer refills and records straddling the buffer end are part of the measurement:
//! - `pcap-small`: a SYN flood, ~80-byte records (the record rate that matters);
//! - `pcap-mixed`: web traffic, mixed sizes;
//! - `pcapng-mixed`: the same web traffic as Enhanced Packet Blocks;
//! - `pcap-small-file`: the SYN flood input read from a (page-cached) file, with `read` calls.
//!
//! The corpus is `$WIRESCOPE_CORPUS` or `/work/shared/corpus`; without it the bench fails
//! rather than skipping.
#![allow(clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wirescope_capture::CaptureReader;

const SMALL: &str =
    "attacks/StopDDoS-packet-captures/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng";
const MIXED: &str = "robustness/nDPI-tests/tests/cfgs/default/pcap/1kxun.pcap";
const TARGET_BYTES: usize = 64 << 20;

fn corpus(rel: &str) -> PathBuf {
    let dir = match std::env::var_os("WIRESCOPE_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    let p = dir.join(rel);
    assert!(
        p.is_file(),
        "benchmark input missing: {} (set WIRESCOPE_CORPUS)",
        p.display()
    );
    p
}

/// (ts ns, wire_len, data) of every packet of a capture.
fn packets(rel: &str) -> Vec<(i64, u32, Vec<u8>)> {
    let mut r = CaptureReader::open(&corpus(rel)).unwrap();
    let mut v = Vec::new();
    while r.advance().unwrap() {
        let f = r.current();
        v.push((f.ts.0, f.wire_len, f.data.to_vec()));
    }
    v
}

/// A little-endian µs pcap of the packets repeated to `TARGET_BYTES`; returns it and its
/// record count.
fn build_pcap(pkts: &[(i64, u32, Vec<u8>)]) -> (Vec<u8>, u64) {
    let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    f.extend_from_slice(&262_144u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    let mut n = 0;
    while f.len() < TARGET_BYTES {
        for (ts, len, data) in pkts {
            let secs = (ts / 1_000_000_000) as u32;
            let usecs = ((ts % 1_000_000_000) / 1000) as u32;
            for v in [secs, usecs, data.len() as u32, *len] {
                f.extend_from_slice(&v.to_le_bytes());
            }
            f.extend_from_slice(data);
            n += 1;
        }
    }
    (f, n)
}

/// The same as pcapng: SHB, one Ethernet IDB (µs), then EPBs.
fn build_pcapng(pkts: &[(i64, u32, Vec<u8>)]) -> (Vec<u8>, u64) {
    fn block(out: &mut Vec<u8>, btype: u32, body: &[u8]) {
        let len = (12 + body.len()) as u32;
        out.extend_from_slice(&btype.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&len.to_le_bytes());
    }
    let mut f = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut f, 0x0a0d_0d0a, &shb);
    block(&mut f, 1, &[1, 0, 0, 0, 0, 0, 0, 0]);
    let mut n = 0;
    let mut body = Vec::new();
    while f.len() < TARGET_BYTES {
        for (ts, len, data) in pkts {
            let us = (*ts / 1000) as u64;
            body.clear();
            for v in [0, (us >> 32) as u32, us as u32, data.len() as u32, *len] {
                body.extend_from_slice(&v.to_le_bytes());
            }
            body.extend_from_slice(data);
            body.resize(body.len().next_multiple_of(4), 0);
            block(&mut f, 6, &body);
            n += 1;
        }
    }
    (f, n)
}

/// Reads every record, touching its length so the work is not optimised away.
fn read_all(r: &mut CaptureReader) -> u64 {
    let mut bytes = 0u64;
    while r.advance().unwrap() {
        bytes += r.current().data.len() as u64;
    }
    bytes
}

fn bench(c: &mut Criterion) {
    let small = packets(SMALL);
    let mixed = packets(MIXED);
    let inputs: Vec<(&str, (Vec<u8>, u64))> = vec![
        ("pcap-small", build_pcap(&small)),
        ("pcap-mixed", build_pcap(&mixed)),
        ("pcapng-mixed", build_pcapng(&mixed)),
    ];
    let mut g = c.benchmark_group("read");
    g.sample_size(20);
    for (name, (bytes, n)) in &inputs {
        // `from_reader` needs a `'static` source: leak one copy for the whole run.
        let data: &'static [u8] = Vec::leak(bytes.clone());
        g.throughput(Throughput::Elements(*n));
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut r = CaptureReader::from_reader("bench".into(), Box::new(Cursor::new(data)))
                    .unwrap();
                black_box(read_all(&mut r))
            })
        });
    }
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("capture-bench-small.pcap");
    let (bytes, n) = &inputs[0].1;
    std::fs::write(&file, bytes).unwrap();
    g.throughput(Throughput::Elements(*n));
    g.bench_function("pcap-small-file", |b| {
        b.iter(|| black_box(read_all(&mut CaptureReader::open(&file).unwrap())))
    });
    g.finish();
    let _ = std::fs::remove_file(&file);
}

criterion_group!(benches, bench);
criterion_main!(benches);
