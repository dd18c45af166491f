//! Packet sources and sinks of wirescope: pcap and pcapng files (or stdin) read into borrowed
//! [`Frame`](wirescope_core::Frame)s, several files merged in time order, classic pcap written
//! out, and tcpdump's BPF filter language.
//!
//! What it owns:
//! - [`CaptureReader`]: one pcap (µs, ns, Kuznetsov; both byte orders) or pcapng (several
//!   sections, either byte order, any `if_tsresol`/`if_tsoffset`) input, parsed in place from a
//!   1 MiB buffer refilled by `Read::read`. Hand-written: no parser library in the public API.
//! - [`MergedReader`]: many readers as one stream, in timestamp order.
//! - [`PcapWriter`]: frames out as a nanosecond pcap file, like `tcpdump -w`.
//! - [`RotatingWriter`]: the same, moving to new files by size, packet time or count, like
//!   `tcpdump -w -C -G -W`.
//! - [`LiveCapture`]: one live interface through libpcap (kernel BPF, drop counters), and
//!   [`list_interfaces`] for `-D`.
//! - [`BpfFilter`]: a filter compiled by libpcap (tcpdump's exact language) and run by a safe
//!   interpreter with tcpdump's semantics (`len` is the wire length).
//!
//! What it never does: decode packets (that is `wirescope-wire`), log, read the clock, panic on
//! any input, or allocate per packet. Readers never loop without consuming input, so a
//! truncated or hostile file ends with an error, never a hang.
//!
//! Invariants:
//! - [`CaptureReader::current`] borrows the reader's buffer: zero copy; the frame is valid until
//!   the next `advance`.
//! - Every length read from a file is bounded by [`MAX_RECORD_LEN`] (16 MiB) before it is used.
//! - An error comes after every complete packet before the bad record has been delivered;
//!   it names the input and, for truncated and corrupt inputs, the byte offset of that record.
//! - Timestamps are nanoseconds since the epoch as recorded (pcapng resolutions finer than
//!   1 ns are truncated to the nanosecond); the wall clock is never consulted.
//!
//! ```
//! use wirescope_capture::{BpfFilter, CaptureReader, PcapWriter};
//! use wirescope_core::{Frame, LinkType, Timestamp};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let name = format!("wirescope-capture-doc-{}.pcap", std::process::id());
//! let path = std::env::temp_dir().join(name);
//! // An Ethernet frame carrying IPv4 (EtherType 0x0800), padded to 60 bytes.
//! let mut pkt = [0u8; 60];
//! pkt[12] = 0x08;
//! let mut w = PcapWriter::create(&path, LinkType::ETHERNET, 0)?;
//! for i in 0..3 {
//!     let ts = Timestamp::from_secs_nanos(1_700_000_000 + i, 5);
//!     w.write(&Frame { ts, wire_len: 60, link: LinkType::ETHERNET, iface: 0, data: &pkt })?;
//! }
//! w.finish()?;
//!
//! let mut r = CaptureReader::open(&path)?;
//! let mut ip = BpfFilter::new("ip", r.link_types()[0], 262_144)?;
//! let mut n = 0;
//! while r.advance()? {
//!     let f = r.current();
//!     assert_eq!(f.ts.subsec_nanos(), 5);
//!     n += usize::from(ip.matches(&f)?);
//! }
//! assert_eq!(n, 3);
//! # std::fs::remove_file(&path)?;
//! # Ok(()) }
//! ```

mod bpf;
mod error;
mod live;
mod merge;
mod reader;
mod rotate;
mod writer;

pub use bpf::BpfFilter;
pub use error::{CaptureError, FilterError};
pub use live::{
    list_interfaces, missing_capabilities, Interface, LiveCapture, LiveError, LiveOptions,
    LiveStats,
};
pub use merge::MergedReader;
pub use reader::{CaptureFormat, CaptureReader, BUFFER_LEN, MAX_RECORD_LEN};
pub use rotate::{RotateOptions, RotatingWriter, WriteOutcome};
pub use writer::PcapWriter;

#[cfg(test)]
mod tests {
    /// The engine moves sources, filters and writers to worker threads.
    #[test]
    fn public_types_are_send() {
        fn send<T: Send>() {}
        send::<crate::CaptureReader>();
        send::<crate::MergedReader>();
        send::<crate::PcapWriter>();
        send::<crate::RotatingWriter>();
        send::<crate::BpfFilter>();
        send::<crate::CaptureError>();
        send::<crate::FilterError>();
        send::<crate::LiveCapture>();
    }
}
