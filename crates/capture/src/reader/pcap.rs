//! Classic pcap ("libpcap format", draft-ietf-opsawg-pcap): a 24-byte file header, then
//! records of a 16-byte header (`ts_sec`, `ts_frac`, `caplen`, `len`) followed by `caplen`
//! bytes of packet data.
//!
//! Supported magics, in either byte order: `a1b2c3d4` (µs fractions), `a1b23c4d` (ns
//! fractions), and `a1b2cd34`, Alexey Kuznetsov's "modified" format whose records carry 8 more
//! bytes (ifindex, protocol, pkt_type, pad) that we skip.

use wirescope_core::{LinkType, Timestamp};

use super::{u16_at, u32_at, Cur, InBuf, MAX_RECORD_LEN};
use crate::error::RawError;

/// Size of the pcap file header.
const FILE_HEADER_LEN: usize = 24;
/// Size of a standard record header.
const RECORD_HEADER_LEN: usize = 16;
/// Size of a Kuznetsov record header (16 + ifindex u32 + protocol u16 + pkt_type u8 + pad u8).
const MODIFIED_RECORD_HEADER_LEN: usize = 24;

/// Per-file state of a classic pcap input.
pub(crate) struct PcapState {
    /// File written big-endian (we read the magic byte-swapped).
    be: bool,
    /// Nanoseconds per unit of `ts_frac`: 1000 for µs files, 1 for ns files.
    frac_ns: i64,
    record_header_len: usize,
    link: LinkType,
    /// Files of version 2.3 and earlier may have `caplen` and `len` in the other order.
    lengths: Lengths,
}

/// Whether record headers have `len` before `caplen` (libpcap's `lengths_swapped`): format
/// versions before 2.3 wrote them in the other order, and 2.3 files exist with both orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lengths {
    InOrder,
    Swapped,
    /// Version 2.3: swapped when `caplen > len`, which is impossible in the right order.
    MaybeSwapped,
}

impl PcapState {
    /// Recognises the first four bytes of a pcap file.
    pub(crate) fn from_magic(magic: [u8; 4]) -> Option<PcapState> {
        let (be, frac_ns, record_header_len) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (false, 1000, RECORD_HEADER_LEN),
            [0xa1, 0xb2, 0xc3, 0xd4] => (true, 1000, RECORD_HEADER_LEN),
            [0x4d, 0x3c, 0xb2, 0xa1] => (false, 1, RECORD_HEADER_LEN),
            [0xa1, 0xb2, 0x3c, 0x4d] => (true, 1, RECORD_HEADER_LEN),
            [0x34, 0xcd, 0xb2, 0xa1] => (false, 1000, MODIFIED_RECORD_HEADER_LEN),
            [0xa1, 0xb2, 0xcd, 0x34] => (true, 1000, MODIFIED_RECORD_HEADER_LEN),
            _ => return None,
        };
        Some(PcapState {
            be,
            frac_ns,
            record_header_len,
            link: LinkType(0),
            lengths: Lengths::InOrder,
        })
    }

    /// Reads the file header (the magic is known to be there).
    pub(crate) fn read_header(mut self, inb: &mut InBuf) -> Result<PcapState, RawError> {
        if !inb.ensure(FILE_HEADER_LEN)? {
            return Err(RawError::Truncated {
                offset: 0,
                detail: "EOF inside the pcap file header",
            });
        }
        let h = inb.avail();
        let major = u16_at(h, 4, self.be);
        // libpcap and Wireshark both refuse versions before 2 ("archaic pcap savefile").
        if major < 2 {
            return Err(RawError::Corrupt {
                offset: 4,
                detail: format!("unsupported pcap version {major}"),
            });
        }
        // The same rule as libpcap's sf-pcap.c (543 is a byte-swapped 2.2 some writer produced).
        self.lengths = match (major, u16_at(h, 6, self.be)) {
            (2, 0..=2) | (543, _) => Lengths::Swapped,
            (2, 3) => Lengths::MaybeSwapped,
            _ => Lengths::InOrder,
        };
        // The upper 16 bits of `network` carry FCS-length flags (LT_FCS_LENGTH_PRESENT) and
        // reserved bits; the link type is the low 16 bits (libpcap's LT_LINKTYPE).
        self.link = LinkType(u32_at(h, 20, self.be) as u16);
        inb.pos += FILE_HEADER_LEN;
        Ok(self)
    }

    pub(crate) fn link(&self) -> LinkType {
        self.link
    }

    /// Loads the next record into `cur`. This is the hot path of reading a pcap file.
    #[inline]
    pub(crate) fn next(&self, inb: &mut InBuf, cur: &mut Cur) -> Result<bool, RawError> {
        let hl = self.record_header_len;
        if !inb.ensure(hl)? {
            return inb.end_or_truncated("EOF inside a record header");
        }
        let mut caplen = u32_at(inb.avail(), 8, self.be);
        let mut wire_len = u32_at(inb.avail(), 12, self.be);
        if self.lengths != Lengths::InOrder {
            self.fix_lengths(&mut caplen, &mut wire_len);
        }
        if caplen > MAX_RECORD_LEN {
            return Err(RawError::Corrupt {
                offset: inb.offset(),
                detail: format!("record caplen {caplen} exceeds the {MAX_RECORD_LEN}-byte limit"),
            });
        }
        let total = hl + caplen as usize;
        if !inb.ensure(total)? {
            return Err(RawError::Truncated {
                offset: inb.offset(),
                detail: "EOF inside packet data",
            });
        }
        let h = inb.avail();
        let secs = u32_at(h, 0, self.be);
        let frac = u32_at(h, 4, self.be);
        // ts_sec is unsigned (the 2106 reading of the format); both products fit in i64:
        // 2^32 * 10^9 < 2^63 and 2^32 * 1000 is small. A fraction of a second or more (seen in
        // fuzzed files) simply carries into the seconds, as in Wireshark.
        cur.ts =
            Timestamp(i64::from(secs) * Timestamp::NANOS_PER_SEC + i64::from(frac) * self.frac_ns);
        cur.wire_len = wire_len;
        cur.link = self.link;
        cur.iface = 0;
        cur.off = inb.pos + hl;
        cur.len = caplen as usize;
        inb.pos += total;
        Ok(true)
    }

    #[cold]
    fn fix_lengths(&self, caplen: &mut u32, wire_len: &mut u32) {
        if self.lengths == Lengths::Swapped || *caplen > *wire_len {
            std::mem::swap(caplen, wire_len);
        }
    }
}
