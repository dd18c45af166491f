//! `decode` never allocates: replay real captures (plain, tunnelled, cooked, truncated) under
//! a counting global allocator and require zero allocations after a warm-up pass.

mod common;

use wirescope_core::{Frame, Timestamp};
use wirescope_testkit::alloc::{self, CountingAlloc};
use wirescope_wire::{decode_frame, LinkType};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

const FILES: &[&str] = &[
    "robustness/arkime-tests/tests/pcap/gre-erspan-vxlan.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/6in4tunnel.pcap",
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/sll.pcap",
    "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/ip6_fragments.pcap",
    "robustness/arkime-tests/tests/pcap/mpls-basic.pcap",
    "robustness/tcpdump-tests/tests/tcp_header_heapoverflow.pcap",
];

#[test]
fn decode_does_not_allocate() {
    let corpus = common::require_corpus();
    let files: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(corpus.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect();
    let mut frames = Vec::new();
    for bytes in &files {
        let pcap = common::parse_pcap(bytes).unwrap_or_else(|| panic!("not classic pcap"));
        for r in pcap.records {
            let link = LinkType(pcap.link);
            frames.push(Frame {
                ts: Timestamp::default(),
                wire_len: r.wire_len,
                link,
                iface: 0,
                data: r.data,
            });
        }
    }
    assert!(frames.len() > 600, "too few frames: {}", frames.len());
    let run = |frames: &[Frame<'_>]| {
        let mut layers = 0u64;
        for f in frames {
            layers += u64::from(
                std::hint::black_box(decode_frame(f))
                    .layers
                    .bits()
                    .count_ones(),
            );
        }
        layers
    };
    let warm = run(&frames);
    let mut measured = 0;
    assert!(alloc::is_installed(), "the counting allocator must be live");
    let ((), info) = alloc::count(|| measured = run(&frames));
    assert_eq!(warm, measured);
    assert_eq!(info.allocations(), 0, "decode allocated: {info:?}");
}
