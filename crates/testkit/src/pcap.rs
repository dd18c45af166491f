//! Writing classic pcap files with nanosecond timestamps.
//!
//! Format: the libpcap file format (draft-ietf-opsawg-pcap §4–5), little-endian, magic
//! 0xa1b23c4d (nanosecond resolution), version 2.4, one link type for the whole file.

use std::io::{self, Write};

/// The nanosecond-resolution pcap magic number.
pub const MAGIC_NS: u32 = 0xa1b2_3c4d;
/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// LINKTYPE_RAW (the packet begins with an IPv4 or IPv6 header).
pub const LINKTYPE_RAW: u32 = 101;
/// The snapshot length written in the file header (tcpdump's default).
pub const DEFAULT_SNAPLEN: u32 = 262_144;
/// Bytes of the file header and of each record header.
pub const FILE_HEADER_LEN: usize = 24;
pub const RECORD_HEADER_LEN: usize = 16;

/// Streams pcap records to any writer; wrap files in a large `BufWriter`.
///
/// ```
/// use wirescope_testkit::pcap::PcapBuilder;
/// let mut w = PcapBuilder::ethernet(Vec::new())?;
/// w.packet(1_700_000_000_123_456_789, &[0u8; 60])?;
/// let bytes = w.finish()?;
/// assert_eq!(bytes.len(), 24 + 16 + 60);
/// assert_eq!(&bytes[..4], &0xa1b2_3c4du32.to_le_bytes());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct PcapBuilder<W: Write> {
    out: W,
    snaplen: u32,
    packets: u64,
    bytes: u64,
}

impl<W: Write> PcapBuilder<W> {
    /// Writes the file header for `linktype` and `snaplen`.
    pub fn new(mut out: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        out.write_all(&file_header(linktype, snaplen))?;
        Ok(PcapBuilder {
            out,
            snaplen,
            packets: 0,
            bytes: FILE_HEADER_LEN as u64,
        })
    }

    /// An Ethernet capture with tcpdump's default snaplen.
    pub fn ethernet(out: W) -> io::Result<Self> {
        Self::new(out, LINKTYPE_ETHERNET, DEFAULT_SNAPLEN)
    }

    /// Appends a whole frame captured at `ts_ns` (nanoseconds since the Unix epoch).
    pub fn packet(&mut self, ts_ns: u64, frame: &[u8]) -> io::Result<()> {
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        self.packet_truncated(ts_ns, len, frame)
    }

    /// Appends a record whose original length `wire_len` may exceed the captured bytes;
    /// bytes beyond the snaplen are dropped, as a capture would.
    pub fn packet_truncated(&mut self, ts_ns: u64, wire_len: u32, frame: &[u8]) -> io::Result<()> {
        let cap = frame.len().min(self.snaplen as usize);
        self.out
            .write_all(&record_header(ts_ns, cap as u32, wire_len))?;
        self.out.write_all(&frame[..cap])?;
        self.packets += 1;
        self.bytes += (RECORD_HEADER_LEN + cap) as u64;
        Ok(())
    }

    /// Records written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// File bytes written so far, headers included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The 24-byte file header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen, link type.
pub fn file_header(linktype: u32, snaplen: u32) -> [u8; FILE_HEADER_LEN] {
    let mut h = [0u8; FILE_HEADER_LEN];
    h[0..4].copy_from_slice(&MAGIC_NS.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&snaplen.to_le_bytes());
    h[20..24].copy_from_slice(&linktype.to_le_bytes());
    h
}

/// A 16-byte record header: seconds, nanoseconds, captured length, original length (never
/// below the captured length).
pub fn record_header(ts_ns: u64, caplen: u32, wire_len: u32) -> [u8; RECORD_HEADER_LEN] {
    let secs = u32::try_from(ts_ns / 1_000_000_000).unwrap_or(u32::MAX);
    let nanos = (ts_ns % 1_000_000_000) as u32;
    let mut h = [0u8; RECORD_HEADER_LEN];
    h[0..4].copy_from_slice(&secs.to_le_bytes());
    h[4..8].copy_from_slice(&nanos.to_le_bytes());
    h[8..12].copy_from_slice(&caplen.to_le_bytes());
    h[12..16].copy_from_slice(&wire_len.max(caplen).to_le_bytes());
    h
}

/// A whole Ethernet pcap file in memory, from `(timestamp ns, frame)` pairs.
pub fn ethernet_file<'a>(frames: impl IntoIterator<Item = (u64, &'a [u8])>) -> Vec<u8> {
    let mut out = file_header(LINKTYPE_ETHERNET, DEFAULT_SNAPLEN).to_vec();
    for (ts, f) in frames {
        let len = u32::try_from(f.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&record_header(ts, len, len));
        out.extend_from_slice(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_layout() {
        let f = [0xaau8; 70];
        let file = ethernet_file([(1_700_000_001_000_000_005, &f[..])]);
        assert_eq!(file.len(), 24 + 16 + 70);
        assert_eq!(
            u32::from_le_bytes([file[20], file[21], file[22], file[23]]),
            1
        );
        let rec = &file[24..40];
        assert_eq!(
            u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]),
            1_700_000_001
        );
        assert_eq!(u32::from_le_bytes([rec[4], rec[5], rec[6], rec[7]]), 5);
        assert_eq!(u32::from_le_bytes([rec[8], rec[9], rec[10], rec[11]]), 70);
        assert_eq!(u32::from_le_bytes([rec[12], rec[13], rec[14], rec[15]]), 70);
    }

    #[test]
    fn snaplen_truncates_but_keeps_wire_length() -> io::Result<()> {
        let mut w = PcapBuilder::new(Vec::new(), LINKTYPE_RAW, 64)?;
        w.packet_truncated(0, 1500, &[1u8; 100])?;
        assert_eq!(w.packets(), 1);
        assert_eq!(w.bytes(), 24 + 16 + 64);
        let file = w.finish()?;
        assert_eq!(
            u32::from_le_bytes([file[32], file[33], file[34], file[35]]),
            64
        );
        assert_eq!(
            u32::from_le_bytes([file[36], file[37], file[38], file[39]]),
            1500
        );
        Ok(())
    }
}
