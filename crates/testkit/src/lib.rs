//! Dev-only tooling for wirescope's tests and benchmarks.
//!
//! What it owns:
//! - [`packet`]: frames built layer by layer (Ethernet, 802.1Q, ARP, IPv4, IPv6, TCP, UDP,
//!   ICMP/ICMPv6) with lengths and checksums filled in; [`dns`] messages for their payloads.
//! - [`pcap`]: classic pcap files (nanosecond magic 0xa1b23c4d) streamed to any writer.
//! - [`mix`]: a deterministic, seeded generator of realistic mixed traffic, behind the
//!   `wirescope-genmix` binary that `bench/compare.sh` uses.
//! - [`alloc`]: a counting global allocator for "no allocation per packet" tests.
//! - [`rng`]: the small PRNG everything above draws from (no `rand` dependency).
//! - [`corpus`]: where tests find the repository and the shared corpus.
//!
//! What it must never be: a dependency of a production crate (only `[dev-dependencies]`).
//!
//! Invariants:
//! - Same inputs and seed, same bytes: nothing reads the clock, the environment (except
//!   [`corpus`], which finds test data) or a randomly seeded hash.
//! - The crate forbids nothing it does not need: the only `unsafe` is the counting
//!   allocator's `unsafe impl GlobalAlloc`, which forwards to `System` (see `alloc`).
//!
//! ```
//! use wirescope_testkit::packet::{Ipv4, PacketBuilder};
//! use wirescope_testkit::pcap;
//!
//! let mut b = PacketBuilder::new();
//! let frame = b
//!     .ethernet([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
//!     .ipv4(Ipv4::new([198, 18, 0, 1], [198, 18, 0, 53]))
//!     .udp(40000, 53)
//!     .payload(b"not really dns")
//!     .finish()
//!     .to_vec();
//! let file = pcap::ethernet_file([(1_700_000_000_000_000_000, &frame[..])]);
//! assert_eq!(file.len(), 24 + 16 + frame.len());
//! ```

pub mod alloc;
pub mod corpus;
pub mod dns;
pub mod mix;
pub mod packet;
pub mod pcap;
pub mod rng;
