//! A classic pcap writer (what `tcpdump -w` produces, with nanosecond timestamps).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use wirescope_core::{Frame, LinkType};

use crate::error::CaptureError;

/// Magic of a nanosecond-resolution pcap file (written little-endian).
const MAGIC_NS: u32 = 0xa1b2_3c4d;
/// Snaplen written when the caller passes 0: libpcap's `MAXIMUM_SNAPLEN`, what `tcpdump -s 0`
/// writes.
const DEFAULT_SNAPLEN: u32 = 262_144;
/// Output buffer: large writes, few syscalls.
const OUT_BUFFER_LEN: usize = 1024 * 1024;

/// Writes frames of one link type as a classic pcap file. `-` means stdout.
///
/// Frames are written as given except that data beyond `snaplen` is cut (the record keeps the
/// original `wire_len`), as `tcpdump -s` does. Timestamps before 1970 or after 2106 do not fit
/// the format's unsigned 32-bit seconds and are clamped to those limits.
pub struct PcapWriter {
    name: String,
    out: BufWriter<Box<dyn Write + Send>>,
    link: LinkType,
    snaplen: u32,
    skipped_link_mismatch: u64,
    /// Bytes handed to the sink so far (file header included): the file's size once flushed.
    bytes_written: u64,
}

impl PcapWriter {
    /// Creates (truncates) `path` and writes the file header. `snaplen` 0 means 262 144.
    pub fn create(path: &Path, link: LinkType, snaplen: u32) -> Result<PcapWriter, CaptureError> {
        let name = path.display().to_string();
        let sink: Box<dyn Write + Send> = if path.as_os_str() == "-" {
            Box::new(io::stdout())
        } else {
            match File::create(path) {
                Ok(f) => Box::new(f),
                Err(source) => return Err(CaptureError::Io { name, source }),
            }
        };
        PcapWriter::from_writer(name, sink, link, snaplen)
    }

    /// Writes to any byte sink; `name` is used in errors.
    pub fn from_writer(
        name: String,
        sink: Box<dyn Write + Send>,
        link: LinkType,
        snaplen: u32,
    ) -> Result<PcapWriter, CaptureError> {
        let snaplen = if snaplen == 0 {
            DEFAULT_SNAPLEN
        } else {
            snaplen
        };
        let mut w = PcapWriter {
            name,
            out: BufWriter::with_capacity(OUT_BUFFER_LEN, sink),
            link,
            snaplen,
            skipped_link_mismatch: 0,
            bytes_written: 0,
        };
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&MAGIC_NS.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes()); // version 2.4
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0, as every writer since libpcap 0.x does.
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&u32::from(link.0).to_le_bytes());
        w.out.write_all(&h).map_err(|e| w.io(e))?;
        w.bytes_written = h.len() as u64;
        Ok(w)
    }

    /// Appends one frame. A frame of another link type is not written (a pcap file has one
    /// link type) and is counted in [`skipped_link_mismatch`](Self::skipped_link_mismatch).
    #[inline]
    pub fn write(&mut self, frame: &Frame<'_>) -> Result<(), CaptureError> {
        if frame.link != self.link {
            self.skipped_link_mismatch += 1;
            return Ok(());
        }
        let caplen = frame.data.len().min(self.snaplen as usize);
        let secs = frame.ts.secs().clamp(0, i64::from(u32::MAX)) as u32;
        let nanos = if frame.ts.secs() < 0 {
            0
        } else {
            frame.ts.subsec_nanos()
        };
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&nanos.to_le_bytes());
        h[8..12].copy_from_slice(&(caplen as u32).to_le_bytes());
        h[12..16].copy_from_slice(&frame.wire_len.to_le_bytes());
        let r = self
            .out
            .write_all(&h)
            .and_then(|()| self.out.write_all(&frame.data[..caplen]));
        r.map_err(|e| self.io(e))?;
        self.bytes_written += (h.len() + caplen) as u64;
        Ok(())
    }

    /// Frames not written because their link type differs from the file's.
    pub fn skipped_link_mismatch(&self) -> u64 {
        self.skipped_link_mismatch
    }

    /// Bytes written so far, the 24-byte file header included (what `ftell` on the file
    /// would say: the size the file has once flushed).
    pub(crate) fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Flushes the buffered records. Dropping a writer without `finish` also flushes, but
    /// loses any error.
    pub fn finish(mut self) -> Result<(), CaptureError> {
        self.out.flush().map_err(|e| self.io(e))
    }

    #[cold]
    fn io(&self, source: io::Error) -> CaptureError {
        CaptureError::Io {
            name: self.name.clone(),
            source,
        }
    }
}
