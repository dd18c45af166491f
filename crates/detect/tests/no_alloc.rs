//! Detection allocates nothing per packet in steady state: after warm-up passes over real
//! benign captures, one more pass —
//! timestamps moved a day later, so every flow ends and is created again and every detector
//! sees every packet, flow and application event anew — allocates nothing at all. Raising an
//! alert allocates (its evidence), so these captures must raise none: that is asserted too.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use wirescope_capture::CaptureReader;
use wirescope_core::{Frame, LinkType, Timestamp};
use wirescope_detect::config::DetectConfig;
use wirescope_detect::{Alert, AlertSink, Detecting, Detection};
use wirescope_engine::{Engine, EngineConfig, Sink};
use wirescope_testkit::alloc::{self, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

struct Owned {
    ts: Timestamp,
    wire_len: u32,
    link: LinkType,
    data: Vec<u8>,
}

fn load(name: &str) -> Vec<Owned> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/pcap")
        .join(name);
    let mut r = CaptureReader::open(&path).unwrap();
    let mut v = Vec::new();
    while r.advance().unwrap() {
        let f = r.current();
        v.push(Owned {
            ts: f.ts,
            wire_len: f.wire_len,
            link: f.link,
            data: f.data.to_vec(),
        });
    }
    v
}

struct Nothing;
impl Sink for Nothing {}
impl AlertSink for Nothing {
    fn alert(&mut self, a: &Alert) {
        panic!("unexpected alert on benign fixtures: {a:?}");
    }
}

const MAX_WARM_UP_PASSES: u64 = 40;

#[test]
fn warmed_up_detection_allocates_nothing_per_packet() {
    assert!(alloc::is_installed());
    let mut packets = Vec::new();
    for (i, f) in [
        // Not arkime_synthetic.pcap: its crafted packets (bad UDP lengths) rightly alert.
        // Not the TLS fixtures: a TLS session's event builds owned strings once per session
        // (2 allocations for tls13.pcap, 49 with openssl-tls1_2.pcap's certificate chain),
        // which is per transaction, not per packet.
        "dns-tcp.pcap",
        "http-empty-useragent.pcap",
        "four_ipv6_http_streams.pcap",
        "gtp-iphone.pcap",
        "gre-sample.pcap",
        "ssh2.pcap",
        "wireshark-dhcp.pcap",
    ]
    .iter()
    .enumerate()
    {
        // The fixtures span 15 years: each is moved to start 1 000 s after the previous one.
        let mut v = load(f);
        let first = v.iter().map(|p| p.ts).min().unwrap();
        for p in &mut v {
            p.ts = Timestamp(1_700_000_000_000_000_000 + i as i64 * 1_000_000_000_000)
                .add_nanos(p.ts.since(first));
        }
        packets.extend(v);
    }
    packets.sort_by_key(|p| p.ts);
    assert!(packets.len() > 250, "{} packets", packets.len());
    let mut engine = Engine::new(EngineConfig::default());
    let mut det = Detection::new(&DetectConfig::default()).unwrap();
    let span = packets.last().unwrap().ts.since(packets[0].ts) + 86_400_000_000_000;
    let feed = |engine: &mut Engine, det: &mut Detection, shift: u64| {
        let mut nothing = Nothing;
        let mut sink = Detecting {
            det,
            inner: &mut nothing,
        };
        for p in &packets {
            let frame = Frame {
                ts: p.ts.add_nanos(shift),
                wire_len: p.wire_len,
                link: p.link,
                iface: 0,
                data: &p.data,
            };
            engine.process(&frame, &mut sink);
        }
    };
    let mut history = Vec::new();
    let mut pass = 0;
    loop {
        let ((), n) = alloc::count(|| feed(&mut engine, &mut det, pass * span));
        pass += 1;
        history.push(n.allocations());
        if (pass > 2 && n.allocations() == 0) || pass >= MAX_WARM_UP_PASSES {
            break;
        }
    }
    assert_eq!(
        history.last(),
        Some(&0),
        "no allocation-free pass within {MAX_WARM_UP_PASSES} passes: {history:?}"
    );
    let ((), n) = alloc::count(|| feed(&mut engine, &mut det, pass * span));
    assert_eq!(n.allocations(), 0, "{n:?}");
    assert!(det.alerts().is_empty());
    // The detectors did see the traffic: their tables hold entries.
    let entries: u64 = det.detector_stats().iter().map(|(_, s)| s.entries).sum();
    assert!(entries > 0, "{:?}", det.detector_stats());
}
