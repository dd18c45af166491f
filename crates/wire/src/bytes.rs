//! Panic-free big-endian field reads and the [`Region`] a decoder step works on.
//!
//! Every read returns 0 past the end of the slice instead of panicking. Callers check a
//! header's length once, then read its named fields; after inlining the compiler drops the
//! per-field bounds checks that the length check already implies.

use core::ops::Range;

/// A multi-byte header field: its byte range from the start of the header (smoltcp style).
pub(crate) type Field = Range<usize>;

/// The byte at `at`, or 0 past the end.
#[inline(always)]
pub(crate) fn u8_at(b: &[u8], at: usize) -> u8 {
    match b.get(at) {
        Some(v) => *v,
        None => 0,
    }
}

/// The big-endian `u16` in `f` (which must be 2 bytes wide), or 0 if `b` is too short.
#[inline(always)]
pub(crate) fn u16_at(b: &[u8], f: Field) -> u16 {
    match b.get(f).and_then(|s| s.first_chunk::<2>()) {
        Some(c) => u16::from_be_bytes(*c),
        None => 0,
    }
}

/// The big-endian `u32` in `f` (which must be 4 bytes wide), or 0 if `b` is too short.
#[inline(always)]
pub(crate) fn u32_at(b: &[u8], f: Field) -> u32 {
    match b.get(f).and_then(|s| s.first_chunk::<4>()) {
        Some(c) => u32::from_be_bytes(*c),
        None => 0,
    }
}

/// The `N` bytes in `f`, or zeros if `b` is too short.
#[inline(always)]
pub(crate) fn array_at<const N: usize>(b: &[u8], f: Field) -> [u8; N] {
    match b.get(f).and_then(|s| s.first_chunk::<N>()) {
        Some(c) => *c,
        None => [0; N],
    }
}

/// `b[from..]`, or an empty slice when `from` is past the end.
#[inline(always)]
pub(crate) fn tail(b: &[u8], from: usize) -> &[u8] {
    match b.get(from..) {
        Some(t) => t,
        None => &[],
    }
}

/// `b[..len]`, or all of `b` when it is shorter.
#[inline(always)]
pub(crate) fn head(b: &[u8], len: usize) -> &[u8] {
    match b.get(..len) {
        Some(h) => h,
        None => b,
    }
}

/// The first `N` bytes of `b` as an array — so that reading its fields needs no bounds checks —
/// or, when `b` is shorter (a truncated header), `b` zero-padded to `N` bytes in `scratch`
/// (which must be all zeros).
#[inline(always)]
pub(crate) fn padded<'s, const N: usize>(b: &'s [u8], scratch: &'s mut [u8; N]) -> &'s [u8; N] {
    match b.first_chunk::<N>() {
        Some(h) => h,
        None => {
            for (d, s) in scratch.iter_mut().zip(b) {
                *d = *s;
            }
            scratch
        }
    }
}

/// Marks a length as unknown: [`decode`](crate::decode) is not told the frame's wire length.
pub(crate) const UNKNOWN_LEN: u32 = u32::MAX;

/// The bytes a decoder step looks at, and how many bytes that part of the packet had on the
/// wire as far as the enclosing headers tell (`UNKNOWN_LEN` when they do not).
///
/// `bytes.len() <= wire` whenever `wire` is known and the enclosing headers are honest;
/// `wire` is what the length checks (UDP length, TCP data offset, inner IP length) compare
/// against, while `bytes` is what can actually be read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Region<'a> {
    pub bytes: &'a [u8],
    pub wire: u32,
}

impl<'a> Region<'a> {
    /// The region after an `n`-byte header.
    #[inline(always)]
    pub(crate) fn advance(self, n: usize) -> Region<'a> {
        Region {
            bytes: tail(self.bytes, n),
            wire: sub_len(self.wire, n),
        }
    }

    /// The first `len` bytes of the region, as a header's own length field bounds them.
    #[inline(always)]
    pub(crate) fn bound(self, len: usize) -> Region<'a> {
        Region {
            bytes: head(self.bytes, len),
            wire: len_u32(len).min(self.wire),
        }
    }

    #[inline(always)]
    pub(crate) fn is_empty(self) -> bool {
        self.bytes.is_empty()
    }
}

/// `wire - n`, saturating at 0; unknown stays unknown.
#[inline(always)]
pub(crate) fn sub_len(wire: u32, n: usize) -> u32 {
    if wire == UNKNOWN_LEN {
        UNKNOWN_LEN
    } else {
        wire.saturating_sub(len_u32(n))
    }
}

/// A slice length as `u32`, saturating (frames are far below 4 GiB).
#[inline(always)]
pub(crate) fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_past_the_end_are_zero_not_panics() {
        let b = [0x12, 0x34, 0x56];
        assert_eq!(u16_at(&b, 0..2), 0x1234);
        assert_eq!(u16_at(&b, 2..4), 0);
        assert_eq!(u32_at(&b, 0..4), 0);
        assert_eq!(u8_at(&b, 3), 0);
        assert_eq!(array_at::<2>(&b, 1..3), [0x34, 0x56]);
        assert_eq!(tail(&b, 9), &[] as &[u8]);
        assert_eq!(head(&b, 9), &b);
        let mut scratch = [0; 5];
        assert_eq!(padded(&b, &mut scratch), &[0x12, 0x34, 0x56, 0, 0]);
        let mut scratch = [0; 2];
        assert_eq!(padded(&b, &mut scratch), &[0x12, 0x34]);
        // A reversed or overflowing range is simply "not there".
        #[allow(clippy::reversed_empty_ranges, reason = "the point of the test")]
        let r = 3..1;
        assert_eq!(u16_at(&b, r), 0);
    }

    #[test]
    fn region_keeps_unknown_wire_length_unknown() {
        let b = [0u8; 10];
        let r = Region {
            bytes: &b,
            wire: UNKNOWN_LEN,
        };
        assert_eq!(r.advance(4).wire, UNKNOWN_LEN);
        assert_eq!(r.advance(4).bytes.len(), 6);
        assert_eq!(r.bound(3).wire, 3);
        let r = Region { bytes: &b, wire: 8 };
        assert_eq!(r.advance(9).wire, 0);
        assert!(r.advance(11).is_empty());
    }
}
