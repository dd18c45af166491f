//! pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each
//! `type u32 | total_length u32 | body | total_length u32`, grouped in sections that each start
//! with a Section Header Block (SHB) giving the section's byte order.
//!
//! Blocks handled: SHB (§4.1), Interface Description (IDB, §4.2: link type, snaplen,
//! `if_tsresol`, `if_tsoffset`), Enhanced Packet (EPB, §4.3), Simple Packet (SPB, §4.4) and the
//! obsolete Packet Block (type 2, Appendix A). Every other block (name resolution, interface
//! statistics, decryption secrets, custom, unknown) is skipped after its length is checked.

use wirescope_core::{LinkType, Timestamp};

use super::{u16_at, u32_at, Cur, InBuf, MAX_RECORD_LEN};
use crate::error::RawError;

/// The SHB block type, `0x0A0D0D0A`: a palindrome, so it reads the same in both byte orders
/// (and its CR/LF bytes detect ASCII-mode transfer damage).
pub(crate) const SHB_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const BT_SHB: u32 = 0x0a0d_0d0a;
const BT_IDB: u32 = 1;
const BT_PB: u32 = 2;
const BT_SPB: u32 = 3;
const BT_EPB: u32 = 6;
/// The byte-order magic in the SHB body, as written by the section's writer.
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Smallest legal block: type, length and the trailing length.
const MIN_BLOCK_LEN: usize = 12;
/// SHB: header 8 + byte-order magic 4 + versions 4 + section length 8 + trailer 4.
const MIN_SHB_LEN: usize = 28;
/// IDB: header 8 + link type 2 + reserved 2 + snaplen 4 + trailer 4.
const MIN_IDB_LEN: usize = 20;
/// EPB and PB: header 8 + interface 4 + timestamp 8 + caplen 4 + len 4 + trailer 4.
const MIN_EPB_LEN: usize = 32;
/// SPB: header 8 + original length 4 + trailer 4.
const MIN_SPB_LEN: usize = 16;

/// IDB option codes (§4.2).
const OPT_ENDOFOPT: u16 = 0;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// How to turn an interface's raw 64-bit timestamp into nanoseconds.
#[derive(Clone, Copy, Debug)]
enum TsScale {
    /// Units of 10^-n s with n ≤ 9: multiply by 10^(9-n).
    Mul(u64),
    /// Units of 10^-n s with n > 9: divide by 10^(n-9).
    Div(u64),
    /// Units of 2^-n s.
    Pow2(u32),
}

impl TsScale {
    /// From an `if_tsresol` byte: the high bit selects a power of 2, else a power of 10.
    fn from_tsresol(v: u8) -> TsScale {
        let n = u32::from(v & 0x7f);
        if v & 0x80 != 0 {
            TsScale::Pow2(n)
        } else if n <= 9 {
            TsScale::Mul(10u64.pow(9 - n))
        } else {
            // 10^(n-9) overflows u64 beyond n = 28; any 64-bit count divided by 10^20 is 0.
            TsScale::Div(10u64.checked_pow(n - 9).unwrap_or(u64::MAX))
        }
    }

    #[inline]
    fn to_nanos(self, raw: u64) -> i64 {
        let ns = match self {
            TsScale::Mul(m) => u128::from(raw) * u128::from(m),
            TsScale::Div(d) => u128::from(raw / d),
            TsScale::Pow2(n) => (u128::from(raw) * 1_000_000_000) >> n,
        };
        i64::try_from(ns).unwrap_or(i64::MAX)
    }
}

#[derive(Clone, Copy, Debug)]
struct Iface {
    link: LinkType,
    snaplen: u32,
    scale: TsScale,
    /// `if_tsoffset` in nanoseconds.
    offset_ns: i64,
}

/// Per-file state of a pcapng input.
pub(crate) struct NgState {
    /// Byte order of the current section.
    be: bool,
    /// Interfaces of the current section (cleared by each SHB; capacity kept).
    ifaces: Vec<Iface>,
    /// Global number of this section's interface 0: interfaces are numbered across sections
    /// in file order, so `Frame::iface` stays unique in a multi-section file.
    section_base: u32,
    /// Timestamp of the last packet, given to SPBs (which carry none).
    last_ts: Timestamp,
    /// Link types already listed (one bit per value): keeps `link_types()` duplicate-free in
    /// O(1) per IDB, however many IDBs a hostile file holds.
    seen_links: Box<[u64; 1024]>,
}

impl NgState {
    /// Reads the first SHB (the magic is known to be there).
    pub(crate) fn read_first_shb(inb: &mut InBuf) -> Result<NgState, RawError> {
        let mut st = NgState {
            be: false,
            ifaces: Vec::new(),
            section_base: 0,
            last_ts: Timestamp::ZERO,
            seen_links: Box::new([0; 1024]),
        };
        let mut cur = Cur::default();
        let mut links = Vec::new();
        // One block, which is the SHB because the magic matched.
        st.next_block(inb, &mut cur, &mut links, Mode::OneBlock)?;
        Ok(st)
    }

    /// Reads the non-packet blocks that precede the first packet (IDBs in particular).
    pub(crate) fn prime(
        &mut self,
        inb: &mut InBuf,
        links: &mut Vec<LinkType>,
    ) -> Result<(), RawError> {
        let mut cur = Cur::default();
        self.next_block(inb, &mut cur, links, Mode::StopBeforePacket)
            .map(|_| ())
    }

    /// Loads the next packet into `cur`.
    #[inline]
    pub(crate) fn next(
        &mut self,
        inb: &mut InBuf,
        cur: &mut Cur,
        links: &mut Vec<LinkType>,
    ) -> Result<bool, RawError> {
        self.next_block(inb, cur, links, Mode::NextPacket)
    }

    fn next_block(
        &mut self,
        inb: &mut InBuf,
        cur: &mut Cur,
        links: &mut Vec<LinkType>,
        mode: Mode,
    ) -> Result<bool, RawError> {
        loop {
            if !inb.ensure(8)? {
                return inb.end_or_truncated("EOF inside a block header");
            }
            let start = inb.offset();
            let mut be = self.be;
            let is_shb = inb.avail().get(..4) == Some(&SHB_MAGIC[..]);
            if is_shb {
                // The section's byte order is only known from the SHB body.
                if !inb.ensure(12)? {
                    return Err(RawError::Truncated {
                        offset: start,
                        detail: "EOF inside a section header",
                    });
                }
                be = match u32_at(inb.avail(), 8, false) {
                    BYTE_ORDER_MAGIC => false,
                    m if m == BYTE_ORDER_MAGIC.swap_bytes() => true,
                    _ => return Err(corrupt(start, "bad byte-order magic in section header")),
                };
            }
            let h = inb.avail();
            let btype = u32_at(h, 0, be);
            let blen = u32_at(h, 4, be);
            if blen > MAX_RECORD_LEN {
                return Err(RawError::Corrupt {
                    offset: start,
                    detail: format!("block length {blen} exceeds the {MAX_RECORD_LEN}-byte limit"),
                });
            }
            let blen = blen as usize;
            if blen < MIN_BLOCK_LEN || !blen.is_multiple_of(4) {
                return Err(RawError::Corrupt {
                    offset: start,
                    detail: format!(
                        "block length {blen} is invalid (must be a multiple of 4, at least 12)"
                    ),
                });
            }
            let is_packet = matches!(btype, BT_EPB | BT_SPB | BT_PB);
            if mode == Mode::StopBeforePacket && is_packet {
                return Ok(true);
            }
            if !inb.ensure(blen)? {
                return Err(RawError::Truncated {
                    offset: start,
                    detail: "EOF inside a block",
                });
            }
            let pos = inb.pos;
            let b = &inb.buf[pos..pos + blen];
            if u32_at(b, blen - 4, be) as usize != blen {
                return Err(corrupt(
                    start,
                    "trailing block length differs from the leading one",
                ));
            }
            match btype {
                BT_EPB | BT_PB => {
                    self.packet(b, pos, btype, start, cur)?;
                    inb.pos += blen;
                    return Ok(true);
                }
                BT_SPB => {
                    self.simple_packet(b, pos, start, cur)?;
                    inb.pos += blen;
                    return Ok(true);
                }
                BT_SHB => self.section(b, be, start)?,
                BT_IDB => self.interface(b, start, links)?,
                _ => {}
            }
            inb.pos += blen;
            if mode == Mode::OneBlock {
                return Ok(false);
            }
        }
    }

    /// SHB: a new section resets the interfaces and may switch the byte order.
    fn section(&mut self, b: &[u8], be: bool, start: u64) -> Result<(), RawError> {
        if b.len() < MIN_SHB_LEN {
            return Err(corrupt(start, "section header block too short"));
        }
        let major = u16_at(b, 12, be);
        // §4.1: readers must refuse a major version they do not know (Wireshark does too).
        if major != 1 {
            return Err(RawError::Corrupt {
                offset: start,
                detail: format!("unsupported pcapng major version {major}"),
            });
        }
        self.be = be;
        self.section_base = self.section_base.saturating_add(self.ifaces.len() as u32);
        self.ifaces.clear();
        Ok(())
    }

    /// IDB: declares the next interface id of this section.
    fn interface(
        &mut self,
        b: &[u8],
        start: u64,
        links: &mut Vec<LinkType>,
    ) -> Result<(), RawError> {
        if b.len() < MIN_IDB_LEN {
            return Err(corrupt(start, "interface description block too short"));
        }
        let be = self.be;
        let link = LinkType(u16_at(b, 8, be));
        let mut iface = Iface {
            link,
            snaplen: u32_at(b, 12, be),
            scale: TsScale::Mul(1000),
            offset_ns: 0,
        };
        for_each_option(&b[16..b.len() - 4], be, |code, v| match (code, v) {
            (IF_TSRESOL, &[r]) => iface.scale = TsScale::from_tsresol(r),
            (IF_TSOFFSET, v) => {
                if let Ok(a) = <[u8; 8]>::try_from(v) {
                    let secs = if be {
                        i64::from_be_bytes(a)
                    } else {
                        i64::from_le_bytes(a)
                    };
                    iface.offset_ns = secs.saturating_mul(Timestamp::NANOS_PER_SEC);
                }
            }
            _ => {}
        });
        self.ifaces.push(iface);
        let (word, bit) = (usize::from(link.0 >> 6), 1u64 << (link.0 & 63));
        if let Some(w) = self.seen_links.get_mut(word) {
            if *w & bit == 0 {
                *w |= bit;
                links.push(link);
            }
        }
        Ok(())
    }

    /// EPB (and the obsolete PB, whose interface id is 16 bits followed by a drop count).
    #[inline]
    fn packet(
        &mut self,
        b: &[u8],
        pos: usize,
        btype: u32,
        start: u64,
        cur: &mut Cur,
    ) -> Result<(), RawError> {
        let be = self.be;
        if b.len() < MIN_EPB_LEN {
            return Err(corrupt(start, "packet block too short"));
        }
        let id = if btype == BT_EPB {
            u32_at(b, 8, be)
        } else {
            u32::from(u16_at(b, 8, be))
        };
        let Some(iface) = self.ifaces.get(id as usize) else {
            return Err(RawError::Corrupt {
                offset: start,
                detail: format!(
                    "packet block names interface {id}, but the section has {}",
                    self.ifaces.len()
                ),
            });
        };
        let caplen = u32_at(b, 20, be) as usize;
        if caplen > b.len() - MIN_EPB_LEN {
            return Err(corrupt(start, "captured length exceeds the packet block"));
        }
        let raw = u64::from(u32_at(b, 12, be)) << 32 | u64::from(u32_at(b, 16, be));
        let ts = Timestamp(iface.scale.to_nanos(raw).saturating_add(iface.offset_ns));
        self.last_ts = ts;
        cur.ts = ts;
        cur.wire_len = u32_at(b, 24, be);
        cur.link = iface.link;
        cur.iface = self.section_base.saturating_add(id);
        cur.off = pos + 28;
        cur.len = caplen;
        Ok(())
    }

    /// SPB: interface 0, no timestamp (we reuse the last packet's so that merged streams stay
    /// ordered), captured length = min(original length, snaplen, room in the block).
    fn simple_packet(
        &mut self,
        b: &[u8],
        pos: usize,
        start: u64,
        cur: &mut Cur,
    ) -> Result<(), RawError> {
        if b.len() < MIN_SPB_LEN {
            return Err(corrupt(start, "simple packet block too short"));
        }
        let Some(iface) = self.ifaces.first() else {
            return Err(corrupt(
                start,
                "simple packet block before any interface description",
            ));
        };
        let wire_len = u32_at(b, 8, self.be);
        let mut caplen = (wire_len as usize).min(b.len() - MIN_SPB_LEN);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        cur.ts = self.last_ts;
        cur.wire_len = wire_len;
        cur.link = iface.link;
        cur.iface = self.section_base;
        cur.off = pos + 12;
        cur.len = caplen;
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Read blocks until a packet block has been loaded (or the input ends).
    NextPacket,
    /// Read blocks until the next one is a packet block, without consuming it.
    StopBeforePacket,
    /// Read exactly one block.
    OneBlock,
}

fn corrupt(offset: u64, detail: &'static str) -> RawError {
    RawError::Corrupt {
        offset,
        detail: detail.to_owned(),
    }
}

/// Walks a block's options (`code u16 | length u16 | value padded to 4`), stopping at
/// `opt_endofopt` or at the first option that overruns the block (ignored, as Wireshark's
/// reader tolerates junk after the fixed fields).
fn for_each_option(mut opts: &[u8], be: bool, mut f: impl FnMut(u16, &[u8])) {
    while opts.len() >= 4 {
        let code = u16_at(opts, 0, be);
        let len = usize::from(u16_at(opts, 2, be));
        if code == OPT_ENDOFOPT {
            break;
        }
        let Some(v) = opts.get(4..4 + len) else { break };
        f(code, v);
        let step = 4 + ((len + 3) & !3);
        opts = opts.get(step..).unwrap_or(&[]);
    }
}
