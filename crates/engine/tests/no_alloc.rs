//! The per-packet path allocates nothing in steady state: after one warm-up pass over real
//! captures, a third pass (timestamps moved a day later each time, so every flow times out and is
//! created again) runs decode, statistics and the flow table without a single allocation.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use wirescope_capture::CaptureReader;
use wirescope_core::{Frame, LinkType, Timestamp};
use wirescope_engine::{Engine, EngineConfig, NullSink};
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

#[test]
fn warmed_up_replay_allocates_nothing_per_packet() {
    assert!(
        alloc::is_installed(),
        "the counting allocator must be installed"
    );
    let mut packets = Vec::new();
    for f in [
        "arkime_synthetic.pcap",
        "four_ipv6_http_streams.pcap",
        "gtp-iphone.pcap",
        "gre-sample.pcap",
    ] {
        packets.extend(load(f));
    }
    packets.sort_by_key(|p| p.ts);
    assert!(packets.len() > 1000);

    let mut engine = Engine::new(EngineConfig::default());
    let span = packets.last().unwrap().ts.since(packets[0].ts) + 86_400_000_000_000;
    let feed = |engine: &mut Engine, shift: u64| {
        for p in &packets {
            let frame = Frame {
                ts: p.ts.add_nanos(shift),
                wire_len: p.wire_len,
                link: p.link,
                iface: 0,
                data: &p.data,
            };
            engine.process(&frame, &mut NullSink);
        }
    };
    // Two warm-up passes: flows of the first pass end (and create their per-server state)
    // only during the second.
    feed(&mut engine, 0);
    feed(&mut engine, span);
    let ((), n) = alloc::count(|| feed(&mut engine, 2 * span));
    assert_eq!(
        n.allocations(),
        0,
        "{} allocations over {} packets in the warmed-up pass ({n:?})",
        n.allocations(),
        packets.len()
    );
    // The second pass really did the work: every flow was created again.
    let report = engine.finish(&mut NullSink);
    assert_eq!(report.packets, 3 * packets.len() as u64);
    assert!(
        report.flows.timed_out > 200,
        "flows timed out: {}",
        report.flows.timed_out
    );
}
