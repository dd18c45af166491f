//! Domain names (RFC 1035 §3.1, §4.1.4): lazy decoding of the wire form with compression
//! pointers, and three presentation styles written into a fixed, heap-free [`NameBuf`].

use std::fmt;

use super::unicode::NON_PRINTABLE;
use super::DnsError;

/// Longest name in wire form, length octets and the root octet included (RFC 1035 §3.1).
pub const MAX_NAME_WIRE_LEN: usize = 255;

/// Most compression pointers followed while decoding one name. A name has at most 127
/// labels, so an encoder never needs more pointers than that; 255 is also the bound after
/// which Wireshark declares a loop. Actual loops are found earlier (see [`Name::labels`]).
pub const MAX_POINTER_HOPS: usize = 255;

/// Labels and pointers walked for one name at least before the walk gives up. A legal name
/// needs at most 127 labels and, with [`MAX_POINTER_HOPS`], 255 pointers. This is the bound
/// of a name on its own ([`Name::new`]); a name of a parsed message gets a share of the
/// message's budget ([`NAME_STEPS_PER_OCTET`]) when that is larger.
pub const MAX_NAME_STEPS: usize = 1024;

/// Budget of a parsed message for walking its names, in labels and pointers per octet of the
/// message, shared by its names: each name of a message of `len` octets with `names` names
/// (questions, plus three per record: its owner and up to two names in its RDATA) may walk
/// `max(MAX_NAME_STEPS, NAME_STEPS_PER_OCTET * len / names)` steps. So a message with few
/// names can follow one crafted name through a message-long run of labels to its end, as
/// Wireshark does (which has no step bound at all), while reading every name of a message
/// once still costs at most about 205 steps per octet of the message, the bound that
/// [`MAX_NAME_STEPS`] alone gives: the shares add up to `NAME_STEPS_PER_OCTET` (128) per
/// octet, and the floor of 1,024 steps per name costs at most 1024 / 5 per octet (a question
/// takes at least 5 octets, a record at least 6 per name it holds).
pub const NAME_STEPS_PER_OCTET: usize = 128;

/// Capacity of a [`NameBuf`] in bytes. The longest presentation of a legal name is 253 octets
/// of labels and dots, and no style writes more than 4 bytes per label octet, so 1024 always
/// suffices; [`DnsError::BufferFull`] exists only as a safety net.
pub const NAME_BUF_CAP: usize = 1024;

/// A domain name inside a message: the message and the offset where the name starts.
///
/// Nothing is decoded until asked: [`Name::labels`] walks the labels (following compression
/// pointers), [`Name::write_to`] writes the presentation form. The name's in-place extent was
/// checked when the message was parsed; pointers are only checked when followed, so a bad
/// pointer shows up as an error from these methods, not from [`super::parse`].
#[derive(Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    off: usize,
    /// Labels and pointers the walk may take (see [`NAME_STEPS_PER_OCTET`]).
    max_steps: u32,
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = NameBuf::new();
        match self.write_to(&mut buf) {
            Ok(()) => write!(f, "Name({:?})", buf.as_str()),
            Err(e) => write!(f, "Name(<{e}> at {})", self.off),
        }
    }
}

impl<'a> Name<'a> {
    /// A name starting at `off` within the message `msg` (offsets of compression pointers
    /// are relative to the start of `msg`), walked for at most [`MAX_NAME_STEPS`] labels and
    /// pointers.
    pub fn new(msg: &'a [u8], off: usize) -> Self {
        Self::with_max_steps(msg, off, MAX_NAME_STEPS)
    }

    /// As [`Name::new`], walked for at most `max_steps` labels and pointers (at least
    /// [`MAX_NAME_STEPS`]); a parsed message gives its names their share of its budget.
    pub(super) fn with_max_steps(msg: &'a [u8], off: usize, max_steps: usize) -> Self {
        let max_steps = u32::try_from(max_steps.max(MAX_NAME_STEPS)).unwrap_or(u32::MAX);
        Name {
            msg,
            off,
            max_steps,
        }
    }

    /// Labels and pointers a walk of this name may take before it gives up.
    pub fn max_steps(&self) -> usize {
        self.max_steps as usize
    }

    /// Offset of the name's first octet in the message.
    pub fn offset(&self) -> usize {
        self.off
    }

    /// The labels from left to right, each borrowed from the message, without the final
    /// empty root label. A decoding error is yielded once, as the last item.
    ///
    /// Errors, as met along the walk: [`DnsError::Truncated`] when a label or pointer runs
    /// past the message, [`DnsError::BadLabelType`] for the label types 0x40 (extended,
    /// RFC 6891 §5) and 0x80, [`DnsError::BadPointer`] for a pointer beyond the message,
    /// [`DnsError::PointerLoop`] when the pointers loop (a pointer target seen again, found
    /// with Brent's method) or more than [`MAX_POINTER_HOPS`] are followed, and
    /// [`DnsError::NameTooLong`] when the name ends but exceeds [`MAX_NAME_WIRE_LEN`] octets.
    /// Once the name is longer than that no further labels are yielded, but the walk goes on
    /// (as Wireshark's does) to tell a loop from a long name and to find a bad label or
    /// pointer further on, for at most [`Name::max_steps`] labels and pointers in all; a
    /// name still unresolved then is reported as too long (Wireshark might find an error or
    /// a loop further on). Forward pointers are allowed, as in Wireshark.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            pos: self.off,
            steps: 0,
            max_steps: self.max_steps as usize,
            hops: 0,
            wire: 0,
            saved: None,
            power: 1,
            since_saved: 0,
            done: false,
        }
    }

    /// Whether this is the root name (a single zero octet, possibly reached by a pointer).
    pub fn is_root(&self) -> bool {
        self.labels().next().is_none()
    }

    /// Checks the whole name and returns its uncompressed wire length (1 for the root).
    pub fn wire_len(&self) -> Result<usize, DnsError> {
        let mut n = 1usize;
        for l in self.labels() {
            n += 1 + l?.len();
        }
        Ok(n)
    }

    /// Writes the presentation form in `out`'s style (see [`NameStyle`]), replacing its
    /// contents. The root name is written as the empty string (Wireshark shows `<Root>`).
    /// On error `out` is left empty.
    pub fn write_to(&self, out: &mut NameBuf) -> Result<(), DnsError> {
        out.clear();
        let r = self.write_inner(out);
        if r.is_err() {
            out.clear();
        }
        r
    }

    /// Appends the presentation form in `style` to a `String` (convenience over
    /// [`Name::write_to`]; uses a stack `NameBuf`). Appends nothing on error.
    pub fn push_to_string(&self, style: NameStyle, out: &mut String) -> Result<(), DnsError> {
        let mut buf = NameBuf::with_style(style);
        self.write_to(&mut buf)?;
        out.push_str(buf.as_str());
        Ok(())
    }

    fn write_inner(&self, out: &mut NameBuf) -> Result<(), DnsError> {
        // Validate first, so that a late error never leaves half a name behind and so that
        // the Suricata style knows whether the whole name is valid UTF-8.
        let mut all_utf8 = true;
        for l in self.labels() {
            all_utf8 &= std::str::from_utf8(l?).is_ok();
        }
        let style = out.style;
        for (i, l) in self.labels().enumerate() {
            let label = l?;
            if i > 0 {
                out.push(b'.')?;
            }
            match style {
                NameStyle::Escaped => escape_label(label, out)?,
                NameStyle::Tshark => tshark_label(label, out)?,
                NameStyle::Suricata if all_utf8 => out.extend(label)?,
                NameStyle::Suricata => suricata_bytes(label, out)?,
            }
        }
        Ok(())
    }

    /// Compares two names label by label, ASCII case-insensitively (RFC 4343).
    pub fn eq_ignore_case(&self, other: &Name<'_>) -> bool {
        let mut a = self.labels();
        let mut b = other.labels();
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(Ok(x)), Some(Ok(y))) if x.eq_ignore_ascii_case(y) => {}
                _ => return false,
            }
        }
    }
}

/// Iterator over the labels of a [`Name`]; see [`Name::labels`].
#[derive(Clone, Debug)]
pub struct Labels<'a> {
    msg: &'a [u8],
    pos: usize,
    /// Labels and pointers processed.
    steps: usize,
    max_steps: usize,
    hops: usize,
    /// Uncompressed wire length so far.
    wire: usize,
    /// Brent's cycle detection over the sequence of pointer targets.
    saved: Option<usize>,
    power: usize,
    since_saved: usize,
    done: bool,
}

impl<'a> Iterator for Labels<'a> {
    type Item = Result<&'a [u8], DnsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(label)) => Some(Ok(label)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<'a> Labels<'a> {
    /// Advances to the next label to yield; `Ok(None)` at the root octet.
    fn step(&mut self) -> Result<Option<&'a [u8]>, DnsError> {
        // Bounded by max_steps iterations.
        loop {
            self.steps += 1;
            if self.steps > self.max_steps {
                // Only a name already past 255 octets gets here (a legal one needs at most
                // 127 labels and 255 pointers).
                return Err(if self.wire > MAX_NAME_WIRE_LEN {
                    DnsError::NameTooLong
                } else {
                    DnsError::PointerLoop
                });
            }
            let b = *self.msg.get(self.pos).ok_or(DnsError::Truncated)?;
            match b & 0xC0 {
                0x00 if b == 0 => {
                    self.wire += 1;
                    return if self.wire > MAX_NAME_WIRE_LEN {
                        Err(DnsError::NameTooLong)
                    } else {
                        Ok(None)
                    };
                }
                0x00 => {
                    let len = usize::from(b);
                    let start = self.pos + 1;
                    let label = self
                        .msg
                        .get(start..start + len)
                        .ok_or(DnsError::Truncated)?;
                    self.pos = start + len;
                    self.wire += 1 + len;
                    // Keep one octet for the root label.
                    if self.wire < MAX_NAME_WIRE_LEN {
                        return Ok(Some(label));
                    }
                }
                0xC0 => {
                    let lo = *self.msg.get(self.pos + 1).ok_or(DnsError::Truncated)?;
                    let target = usize::from(b & 0x3F) << 8 | usize::from(lo);
                    self.hops += 1;
                    if target >= self.msg.len() {
                        return Err(DnsError::BadPointer);
                    }
                    // The walk from a pointer target is determined by the target, so a
                    // repeated target is a loop (Brent: compare with the target saved at
                    // hop 1, 2, 4, 8, ...).
                    if self.hops > MAX_POINTER_HOPS || self.saved == Some(target) {
                        return Err(DnsError::PointerLoop);
                    }
                    self.since_saved += 1;
                    if self.saved.is_none() || self.since_saved == self.power {
                        self.saved = Some(target);
                        self.power *= 2;
                        self.since_saved = 0;
                    }
                    self.pos = target;
                }
                _ => return Err(DnsError::BadLabelType(b)),
            }
        }
    }
}

/// Offset just after the in-place part of the name starting at `pos` (after its root octet
/// or its first pointer). Does not follow pointers; errors as in [`Name::labels`] for the
/// octets it reads.
pub(super) fn skip_name(msg: &[u8], mut pos: usize) -> Result<usize, DnsError> {
    loop {
        let b = *msg.get(pos).ok_or(DnsError::Truncated)?;
        match b & 0xC0 {
            0x00 if b == 0 => return Ok(pos + 1),
            0x00 => {
                let end = pos + 1 + usize::from(b);
                if end > msg.len() {
                    return Err(DnsError::Truncated);
                }
                pos = end;
            }
            0xC0 => {
                if pos + 2 > msg.len() {
                    return Err(DnsError::Truncated);
                }
                return Ok(pos + 2);
            }
            _ => return Err(DnsError::BadLabelType(b)),
        }
    }
}

/// How [`Name::write_to`] presents label octets. In every style labels are joined with `.`,
/// there is no trailing dot, and the root name is the empty string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NameStyle {
    /// Pure ASCII, unambiguous, in the master-file convention of RFC 1035 §5.1 (as `dig`
    /// prints): octets 0x21..=0x7E stay, except that `.` and `\` inside a label become `\.`
    /// and `\\`; every other octet (space, controls, 0x7F, 0x80..) becomes `\DDD` (three
    /// decimal digits). Identical to the other styles for ordinary host names.
    #[default]
    Escaped,
    /// What `tshark` 4.0 prints for `dns.qry.name` (Wireshark's `format_text` applied to the
    /// labels joined by `.`): printable ASCII as is (a `.` or `\` inside a label is NOT
    /// escaped), `\a \b \t \n \v \f \r`, other ASCII controls and 0x7F as `\ooo` (octal);
    /// octets from 0x80 are decoded as (lenient) UTF-8: a sequence that decodes to a
    /// printable character is written as that character in UTF-8, one that decodes to a
    /// non-printable one as `\uXXXX` / `\UXXXXXXXX`, and an invalid sequence as U+FFFD. The
    /// printable test is GLib's `g_unichar_isprint` (Unicode 15.0), tabulated.
    Tshark,
    /// What Suricata's EVE log shows for `rrname`/`rdata`: the raw octets if the whole name
    /// is valid UTF-8 (control characters included; the JSON writer escapes them), otherwise
    /// octets below 0x80 as is and octets from 0x80 as the four characters `\xhh`.
    Suricata,
}

/// A fixed-capacity buffer ([`NAME_BUF_CAP`] bytes, no heap) holding one name's
/// presentation form, always valid UTF-8 (and pure ASCII in [`NameStyle::Escaped`]).
#[derive(Clone)]
pub struct NameBuf {
    buf: [u8; NAME_BUF_CAP],
    len: u16,
    style: NameStyle,
}

impl Default for NameBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for NameBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NameBuf").field(&self.as_str()).finish()
    }
}

impl PartialEq for NameBuf {
    /// Compares contents (not style).
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for NameBuf {}

impl NameBuf {
    /// An empty buffer in the default [`NameStyle::Escaped`].
    pub fn new() -> Self {
        Self::with_style(NameStyle::Escaped)
    }

    /// An empty buffer that [`Name::write_to`] fills in `style`.
    pub fn with_style(style: NameStyle) -> Self {
        NameBuf {
            buf: [0; NAME_BUF_CAP],
            len: 0,
            style,
        }
    }

    pub fn style(&self) -> NameStyle {
        self.style
    }

    /// Changes the style used by later writes (does not convert the current contents).
    pub fn set_style(&mut self, style: NameStyle) {
        self.style = style;
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The contents as text. Every writer keeps the buffer valid UTF-8, so this never comes
    /// back empty for a non-empty buffer.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Replaces the contents with `s` (cut to the capacity at a character boundary).
    pub fn set_str(&mut self, s: &str) {
        self.clear();
        let mut n = s.len().min(NAME_BUF_CAP);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        // Cannot fail: n <= capacity.
        let _ = self.extend(s.as_bytes().get(..n).unwrap_or(&[]));
    }

    fn push(&mut self, b: u8) -> Result<(), DnsError> {
        let slot = self
            .buf
            .get_mut(usize::from(self.len))
            .ok_or(DnsError::BufferFull)?;
        *slot = b;
        self.len += 1;
        Ok(())
    }

    fn extend(&mut self, s: &[u8]) -> Result<(), DnsError> {
        let start = usize::from(self.len);
        let dst = self
            .buf
            .get_mut(start..start + s.len())
            .ok_or(DnsError::BufferFull)?;
        dst.copy_from_slice(s);
        // start + s.len() <= NAME_BUF_CAP < u16::MAX
        self.len = (start + s.len()) as u16;
        Ok(())
    }
}

fn escape_label(label: &[u8], out: &mut NameBuf) -> Result<(), DnsError> {
    for &b in label {
        match b {
            b'.' | b'\\' => out.extend(&[b'\\', b])?,
            0x21..=0x7E => out.push(b)?,
            _ => out.extend(&[b'\\', b'0' + b / 100, b'0' + b / 10 % 10, b'0' + b % 10])?,
        }
    }
    Ok(())
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

fn suricata_bytes(label: &[u8], out: &mut NameBuf) -> Result<(), DnsError> {
    for &b in label {
        if b < 0x80 {
            out.push(b)?;
        } else {
            let hex = |n: u8| HEX_LOWER.get(usize::from(n & 0xF)).copied().unwrap_or(b'0');
            out.extend(&[b'\\', b'x', hex(b >> 4), hex(b)])?;
        }
    }
    Ok(())
}

/// Appends `bytes` converted the way Suricata's JSON builder converts byte strings
/// (`set_string_from_bytes`): as is when valid UTF-8, else octets from 0x80 as `\xhh`.
pub fn push_suricata_str(bytes: &[u8], out: &mut String) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => {
            for &b in bytes {
                if b < 0x80 {
                    out.push(char::from(b));
                } else {
                    out.push_str("\\x");
                    for n in [b >> 4, b & 0xF] {
                        out.push(char::from(
                            HEX_LOWER.get(usize::from(n)).copied().unwrap_or(b'0'),
                        ));
                    }
                }
            }
        }
    }
}

/// Writes the C-style escape Wireshark uses for a non-printable ASCII octet.
fn tshark_ascii_escape(c: u8, out: &mut NameBuf) -> Result<(), DnsError> {
    let letter = match c {
        0x07 => b'a',
        0x08 => b'b',
        0x09 => b't',
        0x0A => b'n',
        0x0B => b'v',
        0x0C => b'f',
        0x0D => b'r',
        _ => 0,
    };
    if letter != 0 {
        out.extend(&[b'\\', letter])
    } else {
        out.extend(&[b'\\', b'0' + (c >> 6), b'0' + (c >> 3 & 7), b'0' + (c & 7)])
    }
}

fn glib_printable(uc: u32) -> bool {
    if uc < 0x80 {
        return (0x20..0x7F).contains(&uc);
    }
    // Binary search for the last range starting at or before uc.
    let i = NON_PRINTABLE.partition_point(|&(first, _)| first <= uc);
    match i.checked_sub(1).and_then(|j| NON_PRINTABLE.get(j)) {
        Some(&(_, last)) => uc > last,
        None => true,
    }
}

const REPLACEMENT: u32 = 0xFFFD;

/// Emulates Wireshark 4.0's `format_text` on one label (see [`NameStyle::Tshark`]).
fn tshark_label(label: &[u8], out: &mut NameBuf) -> Result<(), DnsError> {
    let mut i = 0;
    while let Some(&c) = label.get(i) {
        i += 1;
        if (0x20..0x7F).contains(&c) {
            out.push(c)?;
            continue;
        }
        if c < 0x80 {
            tshark_ascii_escape(c, out)?;
            continue;
        }
        // Lead octet of a (possibly old-style 5/6-octet) UTF-8 sequence.
        let (more, init) = match c {
            0xC0..=0xDF => (1, c & 0x1F),
            0xE0..=0xEF => (2, c & 0x0F),
            0xF0..=0xF7 => (3, c & 0x07),
            0xF8..=0xFB => (4, c & 0x03),
            0xFC..=0xFD => (5, c & 0x01),
            _ => (0, 0), // continuation octet, 0xFE or 0xFF
        };
        let mut uc = if more == 0 {
            REPLACEMENT
        } else {
            let mut v = u32::from(init);
            for _ in 0..more {
                match label.get(i) {
                    Some(&d) if d & 0xC0 == 0x80 => {
                        v = v << 6 | u32::from(d & 0x3F);
                        i += 1;
                    }
                    // Missing or not a continuation: that octet starts the next character.
                    _ => {
                        v = REPLACEMENT;
                        break;
                    }
                }
            }
            v
        };
        if uc >= 0x11_0000 || (0xD800..=0xDFFF).contains(&uc) {
            uc = REPLACEMENT;
        }
        if glib_printable(uc) {
            let ch = char::from_u32(uc).unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut tmp = [0u8; 4];
            out.extend(ch.encode_utf8(&mut tmp).as_bytes())?;
        } else if uc <= 0xFFFF {
            out.extend(b"\\u")?;
            for shift in [12, 8, 4, 0] {
                out.push(hex_digit(uc >> shift))?;
            }
        } else {
            out.extend(b"\\U")?;
            for shift in [28, 24, 20, 16, 12, 8, 4, 0] {
                out.push(hex_digit(uc >> shift))?;
            }
        }
    }
    Ok(())
}

fn hex_digit(n: u32) -> u8 {
    HEX_UPPER.get((n & 0xF) as usize).copied().unwrap_or(b'0')
}
