//! The per-packet paths allocate nothing in steady state: reading pcap and pcapng, merging,
//! filtering (once a link type's program exists) and writing.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use common::corpus_file;
use wirescope_capture::{BpfFilter, CaptureReader, MergedReader, PcapWriter};
use wirescope_core::LinkType;
use wirescope_testkit::alloc::{self, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

const PCAP: &str = "robustness/nDPI-tests/tests/cfgs/default/pcap/1kxun.pcap";
const PCAPNG: &str = "robustness/pcapng-test-generator/output_le/difficult/test202.pcapng";
const PCAPNG_NS: &str =
    "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/ldap.pcapng";

#[test]
fn reading_filtering_merging_and_writing_do_not_allocate() {
    assert!(alloc::is_installed());
    for rel in [PCAP, PCAPNG, PCAPNG_NS] {
        let mut r = CaptureReader::open(&corpus_file(rel)).unwrap();
        let mut f = BpfFilter::new("tcp or udp", LinkType::ETHERNET, 0).unwrap();
        // Compile for every link type of the file before counting (first use allocates).
        let links = r.link_types().to_vec();
        for l in &links {
            let data = [0u8; 64];
            let frame = wirescope_core::Frame {
                ts: Default::default(),
                wire_len: 64,
                link: *l,
                iface: 0,
                data: &data,
            };
            let _ = f.matches(&frame);
        }
        let mut w = PcapWriter::from_writer(
            "sink".into(),
            Box::new(std::io::sink()),
            LinkType::ETHERNET,
            0,
        )
        .unwrap();
        let ((n, kept), counts) = alloc::count(|| {
            let (mut n, mut kept) = (0u64, 0u64);
            while r.advance().unwrap() {
                let frame = r.current();
                n += 1;
                kept += u64::from(f.matches(&frame).unwrap_or(false));
                w.write(&frame).unwrap();
            }
            (n, kept)
        });
        assert!(n > 0 && kept > 0, "{rel}: {n} packets, {kept} kept");
        assert_eq!(
            counts.allocations(),
            0,
            "{rel}: {counts:?} over {n} packets"
        );
    }

    let mut m = MergedReader::new(vec![
        CaptureReader::open(&corpus_file(PCAP)).unwrap(),
        CaptureReader::open(&corpus_file(PCAPNG_NS)).unwrap(),
    ]);
    assert!(m.advance());
    let (n, counts) = alloc::count(|| {
        let mut n = 1u64;
        while m.advance() {
            n += m.current().data.len().min(1) as u64;
        }
        n
    });
    assert!(n > 1000);
    assert_eq!(counts.allocations(), 0, "merge: {counts:?}");
}
