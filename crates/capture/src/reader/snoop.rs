//! Solaris snoop files (RFC 1761): a 16-byte header (`"snoop\0\0\0"`, version, datalink
//! type), then records of a 24-byte big-endian header (original length, included length,
//! record length, cumulative drops, seconds, microseconds), the packet, and padding up to
//! the record length.

use wirescope_core::{LinkType, Timestamp};

use super::{u32_at, Cur, InBuf, MAX_RECORD_LEN};
use crate::error::RawError;

pub(crate) const MAGIC: [u8; 8] = *b"snoop\0\0\0";
const FILE_HEADER_LEN: usize = 16;
const RECORD_HEADER_LEN: usize = 24;

pub(crate) struct SnoopState {
    link: LinkType,
}

/// RFC 1761 datalink codes to LINKTYPE_ numbers. Ethernet (4) and 802.3 (0) both carry
/// Ethernet framing; the rest map to a value the decoder reports as unsupported.
fn link_type(datalink: u32) -> LinkType {
    match datalink {
        0 | 4 => LinkType::ETHERNET,
        // Keep the code visible in reports as an (unsupported) link type.
        other => LinkType(0xFF00 | (other as u16 & 0xFF)),
    }
}

impl SnoopState {
    pub(crate) fn read_header(inb: &mut InBuf) -> Result<SnoopState, RawError> {
        if !inb.ensure(FILE_HEADER_LEN)? {
            return Err(RawError::Truncated {
                offset: 0,
                detail: "EOF inside the snoop file header",
            });
        }
        let h = inb.avail();
        let version = u32_at(h, 8, true);
        if !(1..=2).contains(&version) {
            return Err(RawError::Corrupt {
                offset: 8,
                detail: format!("unsupported snoop version {version}"),
            });
        }
        let link = link_type(u32_at(h, 12, true));
        inb.pos += FILE_HEADER_LEN;
        Ok(SnoopState { link })
    }

    pub(crate) fn link(&self) -> LinkType {
        self.link
    }

    pub(crate) fn next(&self, inb: &mut InBuf, cur: &mut Cur) -> Result<bool, RawError> {
        if !inb.ensure(RECORD_HEADER_LEN)? {
            return inb.end_or_truncated("EOF inside a snoop record header");
        }
        let h = inb.avail();
        let wire_len = u32_at(h, 0, true);
        let caplen = u32_at(h, 4, true);
        let record_len = u32_at(h, 8, true);
        if caplen > MAX_RECORD_LEN || (record_len as usize) < RECORD_HEADER_LEN + caplen as usize {
            return Err(RawError::Corrupt {
                offset: inb.offset(),
                detail: format!("snoop record length {record_len} cannot hold {caplen} bytes"),
            });
        }
        if record_len > MAX_RECORD_LEN + RECORD_HEADER_LEN as u32 + 4 {
            return Err(RawError::Corrupt {
                offset: inb.offset(),
                detail: format!("snoop record length {record_len} exceeds the limit"),
            });
        }
        let secs = u32_at(h, 16, true);
        let micros = u32_at(h, 20, true);
        // The last record's padding may be missing; the packet itself must be there.
        let needed = RECORD_HEADER_LEN + caplen as usize;
        if !inb.ensure(needed)? {
            return Err(RawError::Truncated {
                offset: inb.offset(),
                detail: "EOF inside packet data",
            });
        }
        let total = if inb.ensure(record_len as usize)? {
            record_len as usize
        } else {
            needed
        };
        cur.ts = Timestamp(i64::from(secs) * Timestamp::NANOS_PER_SEC + i64::from(micros) * 1000);
        cur.wire_len = wire_len;
        cur.link = self.link;
        cur.iface = 0;
        cur.off = inb.pos + RECORD_HEADER_LEN;
        cur.len = caplen as usize;
        inb.pos += total;
        Ok(true)
    }
}
