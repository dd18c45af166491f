//! Per-packet decode cost on real captures. Each iteration decodes one packet, cycling through
//! a few hundred, so the reported time is per packet.
//!
//! - `ethernet_tcp`: the TCP packets of a real device capture (Ethernet, IPv4, TCP, mostly
//!   with options) — the typical case, target well under 50 ns.
//! - `mixed`: every packet of captures with VLAN, IPv6, GRE, ERSPAN, VXLAN, MPLS, PPPoE, SLL,
//!   null and fragments: the general decoder.
//!
//! Time is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time: on a
//! shared 2-core machine other processes would otherwise inflate it several times over. It
//! includes the harness (cycling the index); `decode/harness` measures that alone (a frame of an
//! unsupported link type, which `decode` rejects at once). A missing corpus fails the bench; it
//! never skips.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use wirescope_core::{Frame, Timestamp};
use wirescope_wire::{decode_frame, Layer, LinkType};

const TYPICAL: &str = "benign/aucad-iot-sentinel/iot-sentinel/D-LinkHomeHub/Setup-A-1-STA.pcap";

const MIXED: &[&str] = &[
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/VlanPackets.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/6in4tunnel.pcap",
    "robustness/arkime-tests/tests/pcap/gre-sample.pcap",
    "robustness/arkime-tests/tests/pcap/gre-erspan-vxlan.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/vxlan.pcap",
    "robustness/arkime-tests/tests/pcap/mpls-basic.pcap",
    "robustness/arkime-tests/tests/pcap/pppoe.pcap",
    "robustness/lwerdna-filesamples/simple_http_sll2.pcap",
    "robustness/arkime-tests/tests/pcap/http2-nghttp2.pcap",
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/ip6_fragments.pcap",
];

/// Thread CPU time in nanoseconds.
struct ThreadCpu;

struct Nanos;

impl ValueFormatter for Nanos {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "ns (cpu)"
    }
    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        if let Throughput::Elements(n) = t {
            for v in values.iter_mut() {
                *v = *n as f64 * 1e9 / *v;
            }
        }
        "elem/s (cpu)"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

impl Measurement for ThreadCpu {
    type Intermediate = cpu_time::ThreadTime;
    type Value = u64;
    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }
    fn end(&self, i: Self::Intermediate) -> u64 {
        u64::try_from(i.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanos
    }
}

fn load(files: &[&str]) -> Vec<(LinkType, u32, Vec<u8>)> {
    let corpus = common::require_corpus();
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(corpus.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let pcap = common::parse_pcap(&bytes).unwrap_or_else(|| panic!("{f}: not classic pcap"));
        for r in pcap.records {
            out.push((LinkType(pcap.link), r.wire_len, r.data.to_vec()));
        }
    }
    out
}

fn frames(packets: &[(LinkType, u32, Vec<u8>)]) -> Vec<Frame<'_>> {
    packets
        .iter()
        .map(|(link, wire_len, data)| Frame {
            ts: Timestamp::default(),
            wire_len: *wire_len,
            link: *link,
            iface: 0,
            data,
        })
        .collect()
}

fn per_packet(c: &mut Criterion<ThreadCpu>, name: &str, frames: &[Frame<'_>]) {
    assert!(frames.len() >= 200, "{name}: only {} packets", frames.len());
    let mut i = 0;
    c.bench_function(name, |b| {
        b.iter(|| {
            let f = &frames[i];
            i = if i + 1 == frames.len() { 0 } else { i + 1 };
            // By reference: every field must be materialised, but nothing is copied out.
            let p = decode_frame(black_box(f));
            black_box(&p);
        })
    });
}

fn bench(c: &mut Criterion<ThreadCpu>) {
    let typical = load(&[TYPICAL]);
    let typical: Vec<_> = frames(&typical)
        .into_iter()
        .filter(|f| decode_frame(f).layers.contains(Layer::Tcp))
        .collect();
    per_packet(c, "decode/ethernet_tcp", &typical);
    let mixed = load(MIXED);
    per_packet(c, "decode/mixed", &frames(&mixed));
    let unsupported: Vec<_> = frames(&mixed)
        .into_iter()
        .map(|f| Frame {
            link: LinkType(0xFFFF),
            ..f
        })
        .collect();
    per_packet(c, "decode/harness", &unsupported);
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench
}
criterion_main!(benches);
