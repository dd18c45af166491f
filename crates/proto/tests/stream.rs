//! Reassembly: in-order, out-of-order, overlaps, gaps, caps, wrap-around, random orders.

use proptest::prelude::*;
use wirescope_proto::stream::{Budget, Chunk, HalfStream, StreamConfig};

#[derive(Debug, Default, PartialEq)]
struct Out {
    data: Vec<u8>,
    gaps: Vec<(usize, u64)>,
}

fn collect(out: &mut Out) -> impl FnMut(Chunk<'_>) + '_ {
    move |c| match c {
        Chunk::Data(d) => out.data.extend_from_slice(d),
        Chunk::Gap(n) => {
            out.gaps.push((out.data.len(), n));
            out.data.extend(std::iter::repeat_n(b'?', n as usize));
        }
    }
}

struct Rig {
    cfg: StreamConfig,
    budget: Budget,
    s: HalfStream,
    out: Out,
}

impl Rig {
    fn new(cfg: StreamConfig) -> Rig {
        Rig {
            cfg,
            budget: Budget::default(),
            s: HalfStream::new(),
            out: Out::default(),
        }
    }
    fn seg_flags(&mut self, seq: u32, fin: bool, data: &[u8]) {
        let mut f = collect(&mut self.out);
        self.s
            .segment(&self.cfg, &mut self.budget, seq, false, fin, data, &mut f);
    }
    fn seg(&mut self, seq: u32, data: &[u8]) {
        self.seg_flags(seq, false, data);
    }
    fn syn(&mut self, isn: u32) {
        let mut f = collect(&mut self.out);
        self.s
            .segment(&self.cfg, &mut self.budget, isn, true, false, &[], &mut f);
    }
    fn ack(&mut self, ack: u32) {
        let mut f = collect(&mut self.out);
        self.s.peer_ack(&self.cfg, &mut self.budget, ack, &mut f);
    }
    fn flush(&mut self) {
        let mut f = collect(&mut self.out);
        self.s.flush(&self.cfg, &mut self.budget, &mut f);
    }
}

#[test]
fn in_order_and_out_of_order() {
    let mut r = Rig::new(StreamConfig::default());
    r.syn(1000);
    r.seg(1001, b"hello ");
    r.seg(1013, b"!");
    r.seg(1007, b"world");
    r.seg(1007, b"world");
    assert_eq!(r.out.data, b"hello world");
    r.seg(1012, b"!!");
    assert_eq!(r.out.data, b"hello world!!");
    let st = *r.s.stats();
    assert_eq!(st.delivered_bytes, 13);
    assert_eq!(st.out_of_order_segments, 1);
    assert_eq!(st.retransmitted_bytes, 5 + 1);
    assert_eq!(st.overlap_mismatch_bytes, 0);
    assert_eq!(r.budget.used, 0);
}

#[test]
fn first_copy_wins_and_mismatch_is_counted() {
    let mut r = Rig::new(StreamConfig::default());
    r.syn(0);
    r.seg(1, b"abc");
    // The stream's first retransmission: a clean stream kept nothing to compare with.
    r.seg(1, b"aXc");
    assert_eq!(r.s.stats().overlap_mismatch_bytes, 0);
    assert_eq!(r.s.stats().retransmitted_bytes, 3);
    // Out of order, then an overlapping in-order segment that disagrees on the buffered part.
    r.seg(7, b"ghi");
    r.seg(4, b"defGH");
    assert_eq!(r.out.data, b"abcdefghi");
    assert_eq!(r.s.stats().overlap_mismatch_bytes, 2);
    // From now on delivered bytes are kept: a retransmission that differs is counted.
    r.seg(4, b"dXf");
    assert_eq!(r.s.stats().overlap_mismatch_bytes, 3);
    // Two buffered segments and one that overlaps both.
    r.seg(13, b"mn");
    r.seg(16, b"pq");
    r.seg(12, b"lMnoPqr");
    r.seg(10, b"jk");
    assert_eq!(r.out.data, b"abcdefghijklmnopqr");
    assert_eq!(r.s.stats().overlap_mismatch_bytes, 3 + 2);
}

#[test]
fn ack_beyond_data_declares_a_gap() {
    let mut r = Rig::new(StreamConfig::default());
    r.syn(100);
    r.seg(101, b"abc");
    // Bytes 104..110 never captured; the peer acknowledges through 110.
    r.seg(110, b"xyz");
    r.ack(110);
    assert_eq!(r.out.data, b"abc??????xyz");
    assert_eq!(r.out.gaps, vec![(3, 6)]);
    assert_eq!(r.s.stats().missed_bytes, 6);
    // An ACK of what we have (or one more, a FIN) declares nothing.
    r.ack(113);
    r.ack(114);
    assert_eq!(r.s.stats().missed_bytes, 6);
}

#[test]
fn flush_delivers_buffered_data_with_gaps() {
    let mut r = Rig::new(StreamConfig::default());
    r.seg(5000, b"ab");
    r.seg(5010, b"cd");
    r.seg(5020, b"ef");
    assert_eq!(r.out.data, b"ab");
    r.flush();
    assert_eq!(r.out.gaps, vec![(2, 8), (12, 8)]);
    assert_eq!(r.s.stats().missed_bytes, 16);
    assert_eq!(r.budget.used, 0);
}

#[test]
fn caps_force_gaps_instead_of_waiting() {
    let cfg = StreamConfig {
        max_segments: 2,
        ..StreamConfig::default()
    };
    let mut r = Rig::new(cfg);
    r.syn(0);
    r.seg(1, b"a");
    r.seg(3, b"c");
    r.seg(5, b"e");
    // Third out-of-order segment: the hole before "c" is given up.
    r.seg(7, b"g");
    assert_eq!(r.out.data, b"a?c");
    assert_eq!(r.s.stats().missed_bytes, 1);
    assert!(r.s.buffered() <= 2);

    let cfg = StreamConfig {
        max_buffered: 4,
        ..StreamConfig::default()
    };
    let mut r = Rig::new(cfg);
    r.syn(0);
    r.seg(11, b"kkk");
    r.seg(21, b"uuuu");
    assert_eq!(r.out.data, b"??????????kkk");
    assert!(r.s.buffered() <= 4);

    // The global budget is shared.
    let mut r = Rig::new(StreamConfig::default());
    r.budget = Budget::new(3);
    r.syn(0);
    r.seg(11, b"abcd");
    assert_eq!(r.budget.denied, 1);
    assert_eq!(r.s.stats().ignored_segments, 1);
    assert_eq!(r.budget.used, 0);
}

#[test]
fn depth_stops_delivery() {
    let cfg = StreamConfig {
        depth: 5,
        ..StreamConfig::default()
    };
    let mut r = Rig::new(cfg);
    r.syn(7);
    r.seg(8, b"abc");
    r.seg(11, b"defgh");
    r.seg(16, b"ijk");
    assert_eq!(r.out.data, b"abcde");
    assert!(r.s.stats().depth_reached);
    assert!(r.s.is_stopped());
}

#[test]
fn sequence_numbers_wrap() {
    let mut r = Rig::new(StreamConfig::default());
    r.syn(u32::MAX - 2);
    r.seg(u32::MAX - 1, b"ab");
    r.seg(2, b"ef");
    r.seg(0, b"cd");
    assert_eq!(r.out.data, b"abcdef");
}

#[test]
fn data_after_fin_is_ignored() {
    let mut r = Rig::new(StreamConfig::default());
    r.syn(0);
    r.seg_flags(1, true, b"end");
    r.seg(4, b"more");
    assert_eq!(r.out.data, b"end");
    assert_eq!(r.s.stats().ignored_segments, 1);
}

#[test]
fn keep_alive_first_on_a_picked_up_connection_is_skipped() {
    // http_chunk.pcap.gz (scapy test captures): the capture starts with the client's probe,
    // one zero byte at seq 4110649980, then the request at 4110649981.
    let mut r = Rig::new(StreamConfig::default());
    r.seg(4_110_649_980, &[0]);
    r.seg(4_110_649_981, b"GET / HTTP/1.1\r\n");
    assert_eq!(r.out.data, b"GET / HTTP/1.1\r\n");
    assert_eq!(r.s.stats().retransmitted_bytes, 1);
    // A later probe on the started stream is old data.
    r.seg(4_110_649_996, &[0]);
    r.seg(4_110_649_997, b"x");
    assert_eq!(r.out.data, b"GET / HTTP/1.1\r\nx");
    // example2.pcap (PcapPlusPlus): the probe is repeated before the first request. Data
    // from before the stream start is old, and a segment straddling the start keeps its tail.
    let mut r = Rig::new(StreamConfig::default());
    r.seg(100, &[0]);
    r.seg(100, &[0]);
    r.seg(99, b"zz");
    r.seg(101, b"GET");
    r.seg(98, b"zzzGET /");
    assert_eq!(r.out.data, b"GET /");
    assert_eq!(r.s.stats().retransmitted_bytes, 1 + 1 + 2 + 3 + 3);
    assert_eq!(r.s.stats().overlap_mismatch_bytes, 0);
    // Not a probe: a first segment of one other byte, or of a zero byte with FIN, or after a SYN.
    let mut r = Rig::new(StreamConfig::default());
    r.seg(7, b"G");
    r.seg(8, b"ET");
    assert_eq!(r.out.data, b"GET");
    let mut r = Rig::new(StreamConfig::default());
    r.seg_flags(7, true, &[0]);
    assert_eq!(r.out.data, [0]);
    let mut r = Rig::new(StreamConfig::default());
    r.syn(6);
    r.seg(7, &[0]);
    assert_eq!(r.out.data, [0]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Any segmentation of a stream, delivered in any order with duplicates and overlapping
    /// retransmissions, reassembles to the original bytes when nothing is lost.
    #[test]
    fn any_order_reassembles(
        data in proptest::collection::vec(any::<u8>(), 1..3000),
        cuts in proptest::collection::vec(any::<u16>(), 0..40),
        order in proptest::collection::vec(any::<u32>(), 0..80),
        isn in any::<u32>(),
    ) {
        let mut bounds: Vec<usize> = cuts.iter().map(|&c| c as usize % data.len()).collect();
        bounds.push(0);
        bounds.push(data.len());
        bounds.sort_unstable();
        bounds.dedup();
        let mut segs: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
        // Duplicates and overlapping retransmissions.
        for (i, &o) in order.iter().enumerate().take(10) {
            let a = o as usize % data.len();
            let b = (a + 1 + (i * 37) % 200).min(data.len());
            segs.push((a, b));
        }
        // Shuffle deterministically.
        for i in (1..segs.len()).rev() {
            let j = order.get(i).copied().unwrap_or(i as u32) as usize % (i + 1);
            segs.swap(i, j);
        }
        let mut r = Rig::new(StreamConfig::default());
        r.syn(isn);
        for &(a, b) in &segs {
            r.seg(isn.wrapping_add(1).wrapping_add(a as u32), &data[a..b]);
        }
        r.flush();
        prop_assert_eq!(&r.out.data, &data);
        prop_assert!(r.out.gaps.is_empty());
        prop_assert_eq!(r.s.stats().overlap_mismatch_bytes, 0);
        prop_assert_eq!(r.budget.used, 0);
    }

    /// Arbitrary segments never panic, never exceed the caps, and account every delivered byte.
    #[test]
    fn arbitrary_segments_stay_bounded(
        ops in proptest::collection::vec((any::<u32>(), 0usize..300, any::<bool>(), any::<u8>()), 0..200),
        base in any::<u32>(),
    ) {
        let cfg = StreamConfig { max_buffered: 2048, max_segments: 8, depth: 1 << 16, ..StreamConfig::default() };
        let mut r = Rig::new(cfg);
        r.budget = Budget::new(4096);
        for &(seq, len, is_ack, fill) in &ops {
            let payload = vec![fill; len];
            let near = base.wrapping_add(seq % 5000);
            if is_ack { r.ack(near); } else { r.seg(near, &payload); }
            prop_assert!(r.s.buffered() <= 2048);
            prop_assert!(r.budget.used <= 4096);
        }
        r.flush();
        let st = *r.s.stats();
        prop_assert_eq!(st.delivered_bytes + st.missed_bytes, r.out.data.len() as u64);
        prop_assert_eq!(r.budget.used, 0);
    }
}
