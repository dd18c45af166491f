//! The file reader: one pcap or pcapng input, parsed in place from a refillable buffer.
//!
//! Layout of the buffer ([`InBuf`]): bytes `[pos, end)` are read but not yet parsed; the record
//! handed out by [`CaptureReader::current`] lies just before `pos`. When a record straddles
//! `end`, the unparsed tail is moved to the front and the rest of the buffer is filled with one
//! `read` call (or several for a pipe). The buffer only grows for a record larger than itself,
//! up to [`MAX_RECORD_LEN`] plus the record's header; it never shrinks, so the steady state
//! allocates nothing.

mod pcap;
mod pcapng;
mod snoop;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use wirescope_core::{Frame, LinkType, Timestamp};

use crate::error::{CaptureError, RawError};

pub(crate) use self::pcap::PcapState;
pub(crate) use self::pcapng::NgState;
pub(crate) use self::snoop::SnoopState;

/// Largest record (pcap packet data, or whole pcapng block) the reader accepts: 16 MiB.
///
/// libpcap caps snaplen at 262 144 bytes (`MAXIMUM_SNAPLEN`) and no real link carries frames
/// anywhere near 16 MiB, so a larger length field means the file is corrupt (or hostile): we
/// report `Corrupt` instead of allocating whatever the file asks for.
pub const MAX_RECORD_LEN: u32 = 16 * 1024 * 1024;

/// Initial size of a reader's buffer (1 MiB): large enough that `read` calls are rare, small
/// enough that merging a few dozen files stays cheap.
pub const BUFFER_LEN: usize = 1024 * 1024;

/// Which container format an input uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap format (µs, ns, or Kuznetsov "modified" records).
    Pcap,
    /// pcapng (draft-ietf-opsawg-pcapng).
    PcapNg,
    /// Solaris snoop (RFC 1761).
    Snoop,
}

/// The refillable input buffer. See the module documentation.
pub(crate) struct InBuf {
    src: Box<dyn Read + Send>,
    pub(crate) buf: Vec<u8>,
    pub(crate) pos: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
}

impl InBuf {
    fn new(src: Box<dyn Read + Send>) -> InBuf {
        InBuf {
            src,
            buf: vec![0; BUFFER_LEN],
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
        }
    }

    /// Makes at least `n` unparsed bytes available from `pos`. `Ok(false)` means the input
    /// ended first (what is left stays available). `n` must be bounded by the caller
    /// (at most [`MAX_RECORD_LEN`] plus a header).
    #[inline(always)]
    pub(crate) fn ensure(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.pos >= n {
            Ok(true)
        } else {
            self.refill(n)
        }
    }

    #[cold]
    #[inline(never)]
    fn refill(&mut self, n: usize) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos + n > self.buf.len() {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
            if n > self.buf.len() {
                self.buf.resize(n.next_power_of_two(), 0);
            }
        }
        while self.end - self.pos < n {
            let room = self.buf.len() - self.end;
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                // `min` guards against a `Read` impl that over-reports.
                Ok(k) => self.end += k.min(room),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// The unparsed bytes.
    #[inline(always)]
    pub(crate) fn avail(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// File offset of `pos`.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The clean-end / truncated decision when fewer bytes than a header remain.
    pub(crate) fn end_or_truncated(&self, detail: &'static str) -> Result<bool, RawError> {
        if self.pos == self.end {
            Ok(false)
        } else {
            Err(RawError::Truncated {
                offset: self.offset(),
                detail,
            })
        }
    }
}

/// The record loaded by the last `advance`: where its bytes are in the buffer, and its
/// metadata.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cur {
    pub(crate) off: usize,
    pub(crate) len: usize,
    pub(crate) ts: Timestamp,
    pub(crate) wire_len: u32,
    pub(crate) link: LinkType,
    pub(crate) iface: u32,
}

impl Default for Cur {
    fn default() -> Cur {
        Cur {
            off: 0,
            len: 0,
            ts: Timestamp::ZERO,
            wire_len: 0,
            link: LinkType(0),
            iface: 0,
        }
    }
}

enum Kind {
    Pcap(PcapState),
    PcapNg(NgState),
    Snoop(SnoopState),
}

/// One pcap or pcapng capture (a file or stdin), read record by record without copying.
///
/// ```no_run
/// # fn main() -> Result<(), wirescope_capture::CaptureError> {
/// let mut r = wirescope_capture::CaptureReader::open("in.pcap".as_ref())?;
/// while r.advance()? {
///     let f = r.current();
///     println!("{} {} bytes", f.ts, f.data.len());
/// }
/// # Ok(()) }
/// ```
pub struct CaptureReader {
    name: String,
    inb: InBuf,
    file_size: Option<u64>,
    kind: Kind,
    cur: Cur,
    links: Vec<LinkType>,
    /// An error met while reading the blocks before the first packet (pcapng), reported by
    /// the first `advance` so that `open` succeeds for any file with a valid first header.
    deferred: Option<CaptureError>,
    done: bool,
    /// The input was gzip or zstd; offsets count decompressed bytes.
    compressed: bool,
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl CaptureReader {
    /// Opens a capture file; `-` means stdin. The format is detected from the magic number.
    ///
    /// Errors: `Io` if the file cannot be opened or read, `NotACapture` for an unknown magic
    /// (including an empty file or one shorter than 4 bytes), `Truncated`/`Corrupt` for a
    /// known magic with a short or invalid file header.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        if path.as_os_str() == "-" {
            return CaptureReader::from_reader("-".to_owned(), Box::new(io::stdin()));
        }
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| CaptureError::Io {
            name: name.clone(),
            source,
        })?;
        let size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let mut r = CaptureReader::from_reader(name, Box::new(file))?;
        if !r.compressed {
            r.file_size = size;
        }
        Ok(r)
    }

    /// Reads a capture from any byte stream; `name` is used in errors. `file_size` is `None`.
    ///
    /// gzip- and zstd-compressed captures are decompressed on the fly (tshark reads them too);
    /// byte offsets in their errors are then offsets in the decompressed stream.
    pub fn from_reader(
        name: String,
        mut r: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        let mut head = [0u8; 4];
        let n = read_up_to(&mut r, &mut head).map_err(|source| CaptureError::Io {
            name: name.clone(),
            source,
        })?;
        let rest: Box<dyn Read + Send> = Box::new(io::Cursor::new(head).take(n as u64).chain(r));
        let (stream, compressed): (Box<dyn Read + Send>, bool) = match head {
            [0x1f, 0x8b, _, _] if n == 4 => {
                (Box::new(flate2::read::MultiGzDecoder::new(rest)), true)
            }
            [0x28, 0xb5, 0x2f, 0xfd] if n == 4 => {
                match ruzstd::decoding::StreamingDecoder::new(rest) {
                    Ok(d) => (Box::new(d), true),
                    Err(_) => {
                        return Err(CaptureError::NotACapture {
                            name,
                            detail: "zstd stream with an invalid frame header",
                        })
                    }
                }
            }
            _ => (rest, false),
        };
        match Self::from_stream(name, stream) {
            Ok(mut reader) => {
                reader.compressed = compressed;
                Ok(reader)
            }
            // Undecodable compressed data before any capture header: not a capture.
            Err(CaptureError::Io { name, .. }) if compressed => Err(CaptureError::NotACapture {
                name,
                detail: "compressed data that could not be decompressed",
            }),
            Err(e) => Err(e),
        }
    }

    fn from_stream(name: String, r: Box<dyn Read + Send>) -> Result<CaptureReader, CaptureError> {
        let mut inb = InBuf::new(r);
        let mut links = Vec::new();
        let kind = match Self::detect(&mut inb, &mut links) {
            Ok(k) => k,
            Err(Detect::NotACapture(detail)) => {
                return Err(CaptureError::NotACapture { name, detail })
            }
            Err(Detect::Raw(e)) => return Err(e.named(&name)),
        };
        let mut reader = CaptureReader {
            name,
            inb,
            file_size: None,
            kind,
            cur: Cur::default(),
            links,
            deferred: None,
            done: false,
            compressed: false,
        };
        // pcapng: read the interface blocks before the first packet so that `link_types()`
        // is known before the first `advance` (the engine compiles BPF from it).
        if let Kind::PcapNg(ng) = &mut reader.kind {
            if let Err(e) = ng.prime(&mut reader.inb, &mut reader.links) {
                reader.deferred = Some(e.named(&reader.name));
            }
        }
        Ok(reader)
    }

    fn detect(inb: &mut InBuf, links: &mut Vec<LinkType>) -> Result<Kind, Detect> {
        if !inb.ensure(4).map_err(|e| Detect::Raw(e.into()))? {
            return Err(Detect::NotACapture(if inb.avail().is_empty() {
                "empty input"
            } else {
                "shorter than any capture header"
            }));
        }
        let magic = [
            inb.avail()[0],
            inb.avail()[1],
            inb.avail()[2],
            inb.avail()[3],
        ];
        if let Some(st) = PcapState::from_magic(magic) {
            let st = st.read_header(inb).map_err(Detect::Raw)?;
            links.push(st.link());
            return Ok(Kind::Pcap(st));
        }
        if magic == pcapng::SHB_MAGIC {
            let st = NgState::read_first_shb(inb).map_err(Detect::Raw)?;
            return Ok(Kind::PcapNg(st));
        }
        if inb.ensure(8).map_err(|e| Detect::Raw(e.into()))? && inb.avail()[..8] == snoop::MAGIC {
            let st = SnoopState::read_header(inb).map_err(Detect::Raw)?;
            links.push(st.link());
            return Ok(Kind::Snoop(st));
        }
        Err(Detect::NotACapture(match magic {
            [0x1f, 0x8b, _, _] | [0x28, 0xb5, 0x2f, 0xfd] => {
                "compressed data that does not hold a pcap or pcapng capture"
            }
            _ => "unknown magic number",
        }))
    }

    /// Loads the next packet. `Ok(true)`: [`current`](Self::current) returns it;
    /// `Ok(false)`: the input ended cleanly. An `Err` comes after every complete packet
    /// before the problem was delivered; after it, `advance` returns `Ok(false)`.
    #[inline]
    pub fn advance(&mut self) -> Result<bool, CaptureError> {
        if self.done {
            return Ok(false);
        }
        let r = match &mut self.kind {
            Kind::Pcap(st) => st.next(&mut self.inb, &mut self.cur),
            Kind::Snoop(st) => st.next(&mut self.inb, &mut self.cur),
            Kind::PcapNg(st) => {
                if let Some(e) = self.deferred.take() {
                    self.done = true;
                    return Err(e);
                }
                st.next(&mut self.inb, &mut self.cur, &mut self.links)
            }
        };
        match r {
            Ok(true) => Ok(true),
            Ok(false) => {
                self.finish();
                Ok(false)
            }
            Err(e) => {
                self.finish();
                Err(e.named(&self.name))
            }
        }
    }

    #[cold]
    fn finish(&mut self) {
        self.done = true;
        self.cur = Cur::default();
    }

    /// The packet loaded by the last successful [`advance`](Self::advance), borrowed from the
    /// reader's buffer. Before the first packet (or after the end) it is an empty frame.
    #[inline]
    pub fn current(&self) -> Frame<'_> {
        let c = &self.cur;
        Frame {
            ts: c.ts,
            wire_len: c.wire_len,
            link: c.link,
            iface: c.iface,
            data: self.inb.buf.get(c.off..c.off + c.len).unwrap_or(&[]),
        }
    }

    /// The input's name as given to `open` (`-` for stdin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// File offset just past the current record (or the headers read so far).
    pub fn bytes_consumed(&self) -> u64 {
        self.inb.offset()
    }

    /// The file's size when it is a regular file; `None` for stdin and pipes.
    pub fn file_size(&self) -> Option<u64> {
        self.file_size
    }

    pub fn format(&self) -> CaptureFormat {
        match self.kind {
            Kind::Pcap(_) => CaptureFormat::Pcap,
            Kind::PcapNg(_) => CaptureFormat::PcapNg,
            Kind::Snoop(_) => CaptureFormat::Snoop,
        }
    }

    /// The distinct link types seen so far, in order of first appearance: for pcap the file
    /// header's; for pcapng those of every interface description block read so far (all the
    /// ones before the first packet are read by `open`; later sections may add more).
    pub fn link_types(&self) -> &[LinkType] {
        &self.links
    }
}

enum Detect {
    NotACapture(&'static str),
    Raw(RawError),
}

/// Reads a `u16` at `at` in the given byte order (0 if out of bounds; callers check lengths
/// first, this only keeps the parser panic-free).
#[inline(always)]
pub(crate) fn u16_at(b: &[u8], at: usize, be: bool) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => {
            if be {
                u16::from_be_bytes([x, y])
            } else {
                u16::from_le_bytes([x, y])
            }
        }
        _ => 0,
    }
}

/// Reads a `u32` at `at` in the given byte order (0 if out of bounds, see [`u16_at`]).
#[inline(always)]
pub(crate) fn u32_at(b: &[u8], at: usize, be: bool) -> u32 {
    match b.get(at..at + 4) {
        Some(&[w, x, y, z]) => {
            if be {
                u32::from_be_bytes([w, x, y, z])
            } else {
                u32::from_le_bytes([w, x, y, z])
            }
        }
        _ => 0,
    }
}
