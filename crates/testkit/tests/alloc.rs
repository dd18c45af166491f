//! The counting allocator counts, per thread, and the builders allocate nothing per packet
//! once warmed up.

use wirescope_testkit::alloc::{self, CountingAlloc};
use wirescope_testkit::mix::{MixConfig, MixGenerator};
use wirescope_testkit::packet::{tcp_flags, Ipv4, PacketBuilder, Tcp};
use wirescope_testkit::pcap::PcapBuilder;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

#[test]
fn counts_this_threads_allocations() {
    assert!(alloc::is_installed());
    let (v, n) = alloc::count(|| {
        let mut v: Vec<u64> = Vec::with_capacity(4);
        v.extend(0..100); // grows: reallocations
        v
    });
    assert_eq!(v.len(), 100);
    assert_eq!(n.allocs, 1);
    assert!(n.reallocs >= 1, "{n:?}");
    assert!(n.bytes >= 800, "{n:?}");
    let ((), n) = alloc::count(|| drop(v));
    assert_eq!((n.allocations(), n.deallocs), (0, 1));
    assert!(alloc::global_counts().allocs >= 1);
}

#[test]
fn other_threads_do_not_count_here() {
    let ((), n) = alloc::count(|| {
        let h = std::thread::spawn(|| (0..1000).map(|i| vec![i; 10]).fold(0, |n, v| n + v.len()));
        let _ = h.join();
    });
    // Spawning allocates on this thread; the child's 1000 vectors do not show up here.
    assert!(n.allocs < 100, "{n:?}");
}

#[test]
fn building_and_writing_frames_allocates_nothing_when_warm() -> std::io::Result<()> {
    let mut b = PacketBuilder::new();
    let mut w = PcapBuilder::ethernet(Vec::with_capacity(64 << 20))?;
    let payload = [0x5a_u8; 1460];
    let frame = |i: u32, b: &mut PacketBuilder| {
        let h = Tcp {
            src_port: 40_000,
            dst_port: 443,
            seq: i,
            ack: 1,
            flags: tcp_flags::ACK,
            window: 502,
        };
        b.ethernet([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(Ipv4::new([198, 18, 0, 1], [198, 19, 0, 1]))
            .tcp(&h)
            .payload(&payload[..(i % 1460) as usize]);
    };
    frame(0, &mut b);
    w.packet(0, b.finish())?;
    let (r, n) = alloc::count(|| -> std::io::Result<()> {
        for i in 1..20_000 {
            frame(i, &mut b);
            w.packet(u64::from(i), b.finish())?;
        }
        Ok(())
    });
    r?;
    assert_eq!(n.allocations(), 0, "{n:?}");
    assert_eq!(w.packets(), 20_000);
    Ok(())
}

#[test]
fn generator_steady_state_rarely_allocates() {
    let mut g = MixGenerator::new(MixConfig {
        packets: 400_000,
        ..MixConfig::default()
    });
    for _ in 0..200_000 {
        let _ = g.next_frame();
    }
    let (emitted, n) = alloc::count(|| {
        let mut k = 0u32;
        while g.next_frame().is_some() {
            k += 1;
        }
        k
    });
    assert_eq!(emitted, 200_000);
    // Only the session table, its queues and the scheduler grow to new high-water marks.
    assert!(n.allocations() < 200, "{n:?}");
}
