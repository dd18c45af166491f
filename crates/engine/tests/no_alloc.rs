//! The per-packet path allocates nothing in steady state: after warm-up passes over real
//! captures (until a pass allocates nothing: pooled parser buffers have grown to what the
//! traffic needs), one more pass (timestamps moved a day later each time, so every flow times out and
//! is created again) runs decode, statistics, the flow table and the application layer
//! (reassembly, identification, DNS/HTTP/TLS/SSH/DHCP parsing, ARP table) without a single
//! allocation.
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

const MAX_WARM_UP_PASSES: u64 = 40;

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
    // Warm-up passes: flows of the first pass end (and create their per-server state) only
    // during the second; the application layer's pooled states and parsers are handed to
    // different flows in each pass and reach the buffer sizes the traffic needs within a few.
    for pass in 0..2 {
        feed(&mut engine, pass * span);
    }
    // Pooled parsers meet different flows in each pass, so their buffers keep growing until
    // each has held the largest field it will be given (bounded by the parser caps): that is
    // the steady state. It must be reached, and then last.
    let mut pass = 2;
    let mut history = Vec::new();
    loop {
        let ((), n) = alloc::count(|| feed(&mut engine, pass * span));
        pass += 1;
        history.push(n.allocations());
        if n.allocations() == 0 || pass >= MAX_WARM_UP_PASSES {
            break;
        }
    }
    assert!(
        history.last() == Some(&0),
        "no allocation-free pass within {MAX_WARM_UP_PASSES} passes: allocations per pass {history:?}"
    );
    let ((), n) = alloc::count(|| feed(&mut engine, pass * span));
    assert_eq!(
        n.allocations(),
        0,
        "{} allocations over {} packets in the warmed-up pass ({n:?})",
        n.allocations(),
        packets.len()
    );
    // The passes really did the work: every flow was created again.
    let report = engine.finish(&mut NullSink);
    assert_eq!(report.packets, (pass + 1) * packets.len() as u64);
    let app = report.app.expect("the application layer ran");
    assert!(app.dns.responses > 0 && app.http.transactions > 0 && app.tls.sessions > 0);
    assert!(
        report.flows.timed_out > 200,
        "flows timed out: {}",
        report.flows.timed_out
    );
}
