//! The PROXY protocol (HAProxy's, versions 1 and 2): the header a load balancer or TLS
//! terminator puts at the start of a connection it opens to a server, naming the client it
//! accepted the connection from. Behind such a proxy every connection's addresses are the
//! proxy's; the header is the only place the real client appears on the wire.
//!
//! Method. The header is the first thing the connection's originator sends, before any byte
//! of the proxied protocol, and the server answers nothing to it:
//! - version 1 is one text line of at most [`V1_MAX`] octets, `PROXY TCP4|TCP6 <src> <dst>
//!   <sport> <dport>\r\n`, or `PROXY UNKNOWN ...\r\n` (the proxy could not tell the client);
//! - version 2 starts with the 12-octet [`V2_SIGNATURE`], then version and command (`0x2_`:
//!   LOCAL 0, PROXY 1), address family and transport (INET, INET6, UNIX × STREAM, DGRAM), a
//!   16-bit length, the addresses (12, 36 or 216 octets) and TLVs (type, 16-bit length,
//!   value) filling the rest of the length.
//!
//! [`ProxyReader`] is fed the originator's first bytes chunk by chunk, as reassembly
//! delivers them, and says after each chunk whether they began a header, are a header still
//! incomplete, or are not one. It decides from the fewest octets that can tell (the first
//! octet that departs from `PROXY ` or from the signature), so the bytes it holds while
//! undecided are at most 12 octets of another protocol, which the caller passes on.
//!
//! Bounds: at most [`HOLD_CAP`] octets of a header are held and parsed; the rest of a longer
//! version 2 header (its TLVs) is skipped unread, and `truncated` says so. Kept TLV values
//! are at most [`MAX_TLV`] octets, at most [`MAX_TLVS`] TLV types are listed.
//!
//! A header that starts right but breaks the format (a line longer than 107 octets, an
//! address that does not parse, an unknown version or command, a length shorter than its
//! addresses) is [`Step::NotProxy`] with `malformed` set: the bytes go to protocol
//! identification as if no header had been seen, as a server would refuse them.
//!
//! An `AF_UNSPEC` or undefined address family's block is skipped whole, as the specification
//! tells receivers to: its layout is unknown, so TLVs cannot be found in it.
//!
//! Not kept: the CRC32C TLV's value (not checked), the SSL TLV's sub-TLVs, vendor TLVs'
//! values (AWS, Azure, GCP): their types are listed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The signature that opens a version 2 header.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// Longest version 1 header, `\r\n` included (the specification's bound).
pub const V1_MAX: usize = 107;

/// Octets of a header held and parsed: version 2's fixed part (16), its largest address
/// block (216, UNIX) and TLVs after it.
pub const HOLD_CAP: usize = 1024;

/// Longest TLV value kept (authority, ALPN, unique ID).
pub const MAX_TLV: usize = 255;

/// TLV types listed per header.
pub const MAX_TLVS: usize = 32;

const V1_PREFIX: &[u8; 6] = b"PROXY ";

/// TLV types of version 2 (section 2.2 of the specification).
pub mod tlv {
    pub const ALPN: u8 = 0x01;
    pub const AUTHORITY: u8 = 0x02;
    pub const CRC32C: u8 = 0x03;
    pub const NOOP: u8 = 0x04;
    pub const UNIQUE_ID: u8 = 0x05;
    pub const SSL: u8 = 0x20;
    pub const NETNS: u8 = 0x30;
}

/// What the header says the proxy does with the connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Command {
    /// Relays a client's connection (version 1 always).
    #[default]
    Proxy,
    /// A connection of the proxy's own (health checks): the addresses say nothing.
    Local,
}

/// The client connection's address family and transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Family {
    /// `UNKNOWN` (version 1) or `AF_UNSPEC` (version 2).
    #[default]
    Unspecified,
    Tcp4,
    Tcp6,
    Udp4,
    Udp6,
    UnixStream,
    UnixDgram,
    /// Version 2 family and transport octet of a combination the specification does not
    /// define, kept as sent.
    Other(u8),
}

impl Family {
    /// Version 1's protocol word, and the same style for version 2's combinations.
    pub fn name(self) -> &'static str {
        match self {
            Family::Unspecified => "UNKNOWN",
            Family::Tcp4 => "TCP4",
            Family::Tcp6 => "TCP6",
            Family::Udp4 => "UDP4",
            Family::Udp6 => "UDP6",
            Family::UnixStream => "UNIX_STREAM",
            Family::UnixDgram => "UNIX_DGRAM",
            Family::Other(_) => "OTHER",
        }
    }
}

/// One parsed header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyHeader {
    /// 1 or 2.
    pub version: u8,
    pub command: Command,
    pub family: Family,
    /// The client the proxy accepted the connection from (`None` for LOCAL, UNKNOWN, UNIX
    /// and unspecified families).
    pub src: Option<SocketAddr>,
    /// The address the client connected to, on the proxy.
    pub dst: Option<SocketAddr>,
    /// TLV `PP2_TYPE_AUTHORITY`: the host name the client asked for (its SNI or Host).
    pub authority: Vec<u8>,
    /// TLV `PP2_TYPE_ALPN`: the protocol the client and the proxy agreed on.
    pub alpn: Vec<u8>,
    /// TLV `PP2_TYPE_UNIQUE_ID`: the proxy's identifier of the connection.
    pub unique_id: Vec<u8>,
    /// Types of the TLVs present, in order (at most [`MAX_TLVS`]).
    pub tlv_types: Vec<u8>,
    /// Header length in octets, signature or `PROXY ` to the last TLV or `\r\n`.
    pub len: usize,
    /// The header was longer than [`HOLD_CAP`]: TLVs past it were skipped unread.
    pub truncated: bool,
}

impl ProxyHeader {
    fn clear(&mut self) {
        self.version = 0;
        self.command = Command::Proxy;
        self.family = Family::Unspecified;
        self.src = None;
        self.dst = None;
        self.authority.clear();
        self.alpn.clear();
        self.unique_id.clear();
        self.tlv_types.clear();
        self.len = 0;
        self.truncated = false;
    }
}

/// What a chunk of the originator's first bytes turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Still a possible (or a started) header: the chunk's bytes are held or skipped.
    NeedMore,
    /// A header ended `used` octets into this chunk; [`ProxyReader::header`] holds it and
    /// the bytes after `used` belong to the proxied protocol.
    Done { used: usize },
    /// Not a header: the octets held from earlier chunks ([`ProxyReader::held`]) and all of
    /// this chunk belong to the protocol. `malformed`: they began like a header.
    NotProxy { malformed: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Deciding from the first octets.
    Start,
    /// Version 1: reading the line.
    Line,
    /// Version 2: reading the fixed part, then `need` octets in all.
    Binary,
    /// Version 2: held what fits; `skip` octets of TLVs remain.
    Skip,
    /// Decided (a header was read, or none is there).
    Over,
}

/// Reads a header at the start of a stream, across chunks (see the module documentation).
#[derive(Clone, Debug)]
pub struct ProxyReader {
    state: State,
    buf: Vec<u8>,
    /// Octets of `buf` that came before the chunk being fed (for `held`).
    prev: usize,
    skip: u64,
    /// Boxed when the first header is read (kept across `reset`): a reader that never sees
    /// one stays a few words in every pooled flow state.
    header: Option<Box<ProxyHeader>>,
}

/// What [`ProxyReader::header`] returns before any header was read.
static NO_HEADER: ProxyHeader = ProxyHeader {
    version: 0,
    command: Command::Proxy,
    family: Family::Unspecified,
    src: None,
    dst: None,
    authority: Vec::new(),
    alpn: Vec::new(),
    unique_id: Vec::new(),
    tlv_types: Vec::new(),
    len: 0,
    truncated: false,
};

impl Default for ProxyReader {
    fn default() -> Self {
        ProxyReader::new()
    }
}

impl ProxyReader {
    pub fn new() -> ProxyReader {
        ProxyReader {
            state: State::Start,
            buf: Vec::new(),
            prev: 0,
            skip: 0,
            header: None,
        }
    }

    /// Back to the start of a stream, keeping allocations.
    pub fn reset(&mut self) {
        self.state = State::Start;
        self.buf.clear();
        self.prev = 0;
        self.skip = 0;
        if let Some(h) = &mut self.header {
            h.clear();
        }
    }

    /// The header, once [`Step::Done`] was returned.
    pub fn header(&self) -> &ProxyHeader {
        self.header.as_deref().unwrap_or(&NO_HEADER)
    }

    /// After [`Step::NotProxy`]: the stream's octets held from the chunks before the last
    /// one, to be passed on ahead of it.
    pub fn held(&self) -> &[u8] {
        &self.buf[..self.prev.min(self.buf.len())]
    }

    /// Octets held now (at most [`HOLD_CAP`]).
    pub fn buffered_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Whether the reader has decided (a header was read or none is there).
    pub fn is_over(&self) -> bool {
        self.state == State::Over
    }

    /// A version 2 header parsed whole up to [`HOLD_CAP`] whose remaining TLVs are still
    /// being skipped (a gap or the stream's end now loses only those).
    pub fn pending_header(&self) -> Option<&ProxyHeader> {
        (self.state == State::Skip).then(|| self.header())
    }

    /// The stream ended, or has a gap, before the reader decided: it is over, and returns
    /// the octets it held, to be passed on (empty if it had decided, or was skipping a
    /// header's TLVs).
    pub fn finish(&mut self) -> &[u8] {
        if self.state == State::Skip || self.state == State::Over {
            self.prev = 0;
        } else {
            self.prev = self.buf.len();
        }
        self.state = State::Over;
        self.held()
    }

    /// Whether `first`, the first octet of a stream, can begin a header (the cheap test the
    /// engine makes before handing the stream to a reader).
    pub fn may_start(first: u8) -> bool {
        first == V1_PREFIX[0] || first == V2_SIGNATURE[0]
    }

    /// The stream's next bytes. After [`Step::Done`] or [`Step::NotProxy`] the reader is
    /// over and returns `NotProxy` for anything more (`held` stays valid until `reset`).
    pub fn feed(&mut self, d: &[u8]) -> Step {
        match self.state {
            State::Over => {
                self.prev = 0;
                return Step::NotProxy { malformed: false };
            }
            State::Skip => return self.skip_tlvs(d, 0),
            _ => {}
        }
        self.prev = self.buf.len();
        let mut i = 0;
        while i < d.len() {
            match self.state {
                State::Start => {
                    let at = self.buf.len();
                    let b = d[i];
                    let v1 = at < V1_PREFIX.len()
                        && self.buf.iter().chain([&b]).eq(V1_PREFIX[..=at].iter());
                    let v2 = at < V2_SIGNATURE.len()
                        && self.buf.iter().chain([&b]).eq(V2_SIGNATURE[..=at].iter());
                    if !v1 && !v2 {
                        return self.not_proxy(false);
                    }
                    self.buf.push(b);
                    i += 1;
                    if v1 && self.buf.len() == V1_PREFIX.len() {
                        self.state = State::Line;
                    } else if v2 && self.buf.len() == V2_SIGNATURE.len() {
                        self.state = State::Binary;
                    }
                }
                State::Line => {
                    // Up to and including the line's `\n`, within V1_MAX.
                    let room = V1_MAX - self.buf.len();
                    let rest = &d[i..];
                    match rest.iter().take(room).position(|&c| c == b'\n') {
                        Some(n) => {
                            self.buf.extend_from_slice(&rest[..=n]);
                            i += n + 1;
                            return if self.parse_v1() {
                                self.state = State::Over;
                                Step::Done { used: i }
                            } else {
                                self.not_proxy(true)
                            };
                        }
                        None if rest.len() >= room => return self.not_proxy(true),
                        None => {
                            self.buf.extend_from_slice(rest);
                            i = d.len();
                        }
                    }
                }
                State::Binary => {
                    if self.buf.len() < 16 {
                        let take = (16 - self.buf.len()).min(d.len() - i);
                        self.buf.extend_from_slice(&d[i..i + take]);
                        i += take;
                        if self.buf.len() < 16 {
                            continue;
                        }
                        // The fixed part is complete: check it before reading on.
                        if self.buf[12] >> 4 != 2 || self.buf[12] & 0x0f > 1 {
                            return self.not_proxy(true);
                        }
                    }
                    let need = 16 + usize::from(be16(&self.buf[14..]));
                    let hold = need.min(HOLD_CAP);
                    let take = (hold - self.buf.len()).min(d.len() - i);
                    self.buf.extend_from_slice(&d[i..i + take]);
                    i += take;
                    if self.buf.len() < hold {
                        continue;
                    }
                    if !self.parse_v2(need) {
                        return self.not_proxy(true);
                    }
                    if need > HOLD_CAP {
                        self.header_mut().truncated = true;
                        self.skip = (need - HOLD_CAP) as u64;
                        self.state = State::Skip;
                        return self.skip_tlvs(d, i);
                    }
                    self.state = State::Over;
                    return Step::Done { used: i };
                }
                State::Skip | State::Over => break,
            }
        }
        Step::NeedMore
    }

    fn skip_tlvs(&mut self, d: &[u8], at: usize) -> Step {
        let n = (d.len() - at).min(usize::try_from(self.skip).unwrap_or(usize::MAX));
        self.skip -= n as u64;
        if self.skip == 0 {
            self.state = State::Over;
            Step::Done { used: at + n }
        } else {
            Step::NeedMore
        }
    }

    fn not_proxy(&mut self, malformed: bool) -> Step {
        self.state = State::Over;
        self.buf.truncate(self.prev);
        if let Some(h) = &mut self.header {
            h.clear();
        }
        Step::NotProxy { malformed }
    }

    fn header_mut(&mut self) -> &mut ProxyHeader {
        self.header.get_or_insert_with(Box::default)
    }

    /// `PROXY <family> <src> <dst> <sport> <dport>\r\n` in `buf`.
    fn parse_v1(&mut self) -> bool {
        let h = self.header.get_or_insert_with(Box::default);
        h.clear();
        h.version = 1;
        h.len = self.buf.len();
        let Some(line) = self.buf[V1_PREFIX.len()..].strip_suffix(b"\r\n") else {
            return false;
        };
        let mut words = line.split(|&c| c == b' ');
        let v6 = match words.next() {
            Some(b"TCP4") => false,
            Some(b"TCP6") => true,
            // The rest of an UNKNOWN line is to be ignored.
            Some(b"UNKNOWN") => return true,
            _ => return false,
        };
        let (Some(s), Some(d), Some(sp), Some(dp), None) = (
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
        ) else {
            return false;
        };
        let (Some(s), Some(d), Some(sp), Some(dp)) = (ip(s, v6), ip(d, v6), port(sp), port(dp))
        else {
            return false;
        };
        h.family = if v6 { Family::Tcp6 } else { Family::Tcp4 };
        h.src = Some(SocketAddr::new(s, sp));
        h.dst = Some(SocketAddr::new(d, dp));
        true
    }

    /// A version 2 header of `need` octets, of which `buf` holds the first `HOLD_CAP`.
    fn parse_v2(&mut self, need: usize) -> bool {
        let h = self.header.get_or_insert_with(Box::default);
        h.clear();
        h.version = 2;
        h.len = need;
        let b = &self.buf[..];
        h.command = if b[12] & 0x0f == 0 {
            Command::Local
        } else {
            Command::Proxy
        };
        let fam = b[13];
        let (family, addr_len) = match fam {
            0x00 => (Family::Unspecified, 0),
            0x11 => (Family::Tcp4, 12),
            0x12 => (Family::Udp4, 12),
            0x21 => (Family::Tcp6, 36),
            0x22 => (Family::Udp6, 36),
            0x31 => (Family::UnixStream, 216),
            0x32 => (Family::UnixDgram, 216),
            x => (Family::Other(x), 0),
        };
        h.family = family;
        if matches!(family, Family::Unspecified | Family::Other(_)) {
            // The block's layout is unknown: receivers skip it whole (TLVs cannot be found).
            return true;
        }
        if need - 16 < addr_len {
            return false;
        }
        let a = &b[16..];
        // A LOCAL connection's addresses are to be ignored.
        if h.command == Command::Proxy {
            match addr_len {
                12 => {
                    let s = Ipv4Addr::from([a[0], a[1], a[2], a[3]]);
                    let d = Ipv4Addr::from([a[4], a[5], a[6], a[7]]);
                    h.src = Some(SocketAddr::new(s.into(), be16(&a[8..])));
                    h.dst = Some(SocketAddr::new(d.into(), be16(&a[10..])));
                }
                36 => {
                    let mut s = [0u8; 16];
                    let mut d = [0u8; 16];
                    s.copy_from_slice(&a[..16]);
                    d.copy_from_slice(&a[16..32]);
                    h.src = Some(SocketAddr::new(Ipv6Addr::from(s).into(), be16(&a[32..])));
                    h.dst = Some(SocketAddr::new(Ipv6Addr::from(d).into(), be16(&a[34..])));
                }
                _ => {}
            }
        }
        // TLVs: what of them is held (the rest is skipped by the caller).
        let end = need.min(b.len());
        let mut t = &b[(16 + addr_len).min(end)..end];
        while t.len() >= 3 {
            let ty = t[0];
            let n = usize::from(be16(&t[1..]));
            let Some(v) = t.get(3..3 + n) else {
                // Runs past the held octets: a truncated header ends here; a whole one is
                // malformed.
                if need <= HOLD_CAP {
                    return false;
                }
                if h.tlv_types.len() < MAX_TLVS {
                    h.tlv_types.push(ty);
                }
                break;
            };
            if h.tlv_types.len() < MAX_TLVS {
                h.tlv_types.push(ty);
            }
            let keep = match ty {
                tlv::ALPN => Some(&mut h.alpn),
                tlv::AUTHORITY => Some(&mut h.authority),
                tlv::UNIQUE_ID => Some(&mut h.unique_id),
                _ => None,
            };
            if let Some(k) = keep {
                crate::set_bounded(k, v, MAX_TLV);
            }
            t = &t[3 + n..];
        }
        // 1 or 2 octets left over cannot be a TLV.
        t.is_empty() || need > HOLD_CAP
    }
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn ip(w: &[u8], v6: bool) -> Option<IpAddr> {
    let s = std::str::from_utf8(w).ok()?;
    if v6 {
        s.parse::<Ipv6Addr>().ok().map(IpAddr::from)
    } else {
        s.parse::<Ipv4Addr>().ok().map(IpAddr::from)
    }
}

/// A decimal port, 1 to 5 digits (the specification forbids leading zeros; they are
/// accepted, as HAProxy's own parser does).
fn port(w: &[u8]) -> Option<u16> {
    if w.is_empty() || w.len() > 5 || !w.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(w).ok()?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test")]
mod tests {
    use super::*;

    fn v2(cmd: u8, fam: u8, addrs: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut b = V2_SIGNATURE.to_vec();
        b.push(0x20 | cmd);
        b.push(fam);
        let len = (addrs.len() + tlvs.len()) as u16;
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(addrs);
        b.extend_from_slice(tlvs);
        b
    }

    fn cat(a: &[u8], b: &[u8]) -> Vec<u8> {
        [a, b].concat()
    }

    fn tlv(ty: u8, v: &[u8]) -> Vec<u8> {
        let mut b = vec![ty];
        b.extend_from_slice(&(v.len() as u16).to_be_bytes());
        b.extend_from_slice(v);
        b
    }

    /// Feeds `stream` in chunks cut at `cuts`; returns the header (if any) and the bytes the
    /// reader handed on (held + rest), in order.
    fn run(stream: &[u8], cuts: &[usize]) -> (Option<ProxyHeader>, Vec<u8>, bool) {
        let mut r = ProxyReader::new();
        let mut out = Vec::new();
        let mut header = None;
        let mut malformed = false;
        let mut at = 0;
        let mut bounds: Vec<usize> = cuts.iter().copied().filter(|&c| c < stream.len()).collect();
        bounds.push(stream.len());
        for end in bounds {
            if end < at {
                continue;
            }
            let d = &stream[at..end];
            at = end;
            if r.is_over() {
                out.extend_from_slice(d);
                continue;
            }
            match r.feed(d) {
                Step::NeedMore => assert!(r.buffered_bytes() <= HOLD_CAP),
                Step::Done { used } => {
                    header = Some(r.header().clone());
                    out.extend_from_slice(&d[used..]);
                }
                Step::NotProxy { malformed: m } => {
                    malformed = m;
                    out.extend_from_slice(r.held());
                    out.extend_from_slice(d);
                }
            }
        }
        if header.is_none() {
            header = r.pending_header().cloned();
        }
        out.extend_from_slice(r.finish());
        (header, out, malformed)
    }

    fn every_split(stream: &[u8]) -> (Option<ProxyHeader>, Vec<u8>, bool) {
        let whole = run(stream, &[]);
        for c in 0..=stream.len() {
            assert_eq!(run(stream, &[c]), whole, "split at {c}");
        }
        let bytes: Vec<usize> = (0..=stream.len()).collect();
        assert_eq!(run(stream, &bytes), whole, "byte by byte");
        whole
    }

    #[test]
    fn version_1_tcp4_then_payload() {
        let s = b"PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\r\n\x16\x03\x01";
        let (h, rest, _) = every_split(s);
        let h = h.expect("header");
        assert_eq!(h.version, 1);
        assert_eq!(h.family, Family::Tcp4);
        assert_eq!(h.src, Some("11.111.11.111:52176".parse().unwrap()));
        assert_eq!(h.dst, Some("222.222.222.22:443".parse().unwrap()));
        assert_eq!(h.len, s.len() - 3);
        assert_eq!(rest, b"\x16\x03\x01");
    }

    #[test]
    fn version_1_tcp6_and_unknown() {
        let s = b"PROXY TCP6 fd00::1 fd00::2 4000 80\r\nGET / HTTP/1.1\r\n";
        let (h, rest, _) = every_split(s);
        let h = h.unwrap();
        assert_eq!(h.family, Family::Tcp6);
        assert_eq!(h.src, Some("[fd00::1]:4000".parse().unwrap()));
        assert_eq!(rest, b"GET / HTTP/1.1\r\n");
        let (h, rest, _) = every_split(b"PROXY UNKNOWN whatever follows\r\nX");
        let h = h.unwrap();
        assert_eq!((h.family, h.src, h.dst), (Family::Unspecified, None, None));
        assert_eq!(rest, b"X");
    }

    #[test]
    fn version_1_malformed_lines_are_passed_on() {
        for s in [
            &b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"[..],
            b"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n",
            b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
        ] {
            let (h, rest, malformed) = every_split(s);
            assert!(h.is_none());
            assert!(malformed);
            assert_eq!(rest, s, "{}", String::from_utf8_lossy(s));
        }
        // No line end within 107 octets.
        let mut long = b"PROXY UNKNOWN ".to_vec();
        long.resize(200, b'a');
        let (h, rest, malformed) = every_split(&long);
        assert!(h.is_none() && malformed);
        assert_eq!(rest, long);
    }

    #[test]
    fn other_protocols_are_passed_on_at_their_first_differing_octet() {
        for s in [
            &b"PROPFIND / HTTP/1.1\r\n"[..],
            b"POST / HTTP/1.1\r\n",
            b"\x16\x03\x01\x00",
            b"\r\n\r\nQUIT",
            b"SSH-2.0-x\r\n",
            b"P",
        ] {
            let (h, rest, malformed) = every_split(s);
            assert!(h.is_none() && !malformed);
            assert_eq!(rest, s);
        }
        let mut r = ProxyReader::new();
        assert_eq!(r.feed(b"PRO"), Step::NeedMore);
        assert_eq!(r.feed(b"PFIND"), Step::NotProxy { malformed: false });
        assert_eq!(r.held(), b"PRO");
        assert!(!ProxyReader::may_start(b'G') && ProxyReader::may_start(b'P'));
    }

    #[test]
    fn version_2_tcp4_with_tlvs() {
        let mut addrs = vec![198, 18, 0, 1, 198, 18, 0, 2];
        addrs.extend_from_slice(&40000u16.to_be_bytes());
        addrs.extend_from_slice(&443u16.to_be_bytes());
        let mut t = tlv(tlv::ALPN, b"h2");
        t.extend(tlv(tlv::AUTHORITY, b"example.test"));
        t.extend(tlv(tlv::UNIQUE_ID, &[1, 2, 3]));
        t.extend(tlv(0xEA, b"\x01vpce-0123"));
        t.extend(tlv(tlv::NOOP, &[]));
        let mut s = v2(1, 0x11, &addrs, &t);
        let hlen = s.len();
        s.extend_from_slice(b"\x16\x03\x01");
        let (h, rest, _) = every_split(&s);
        let h = h.unwrap();
        assert_eq!(
            (h.version, h.command, h.family),
            (2, Command::Proxy, Family::Tcp4)
        );
        assert_eq!(h.src, Some("198.18.0.1:40000".parse().unwrap()));
        assert_eq!(h.dst, Some("198.18.0.2:443".parse().unwrap()));
        assert_eq!(h.alpn, b"h2");
        assert_eq!(h.authority, b"example.test");
        assert_eq!(h.unique_id, [1, 2, 3]);
        assert_eq!(h.tlv_types, [1, 2, 5, 0xEA, 4]);
        assert_eq!((h.len, h.truncated), (hlen, false));
        assert_eq!(rest, b"\x16\x03\x01");
    }

    #[test]
    fn version_2_tcp6_local_and_unix() {
        let mut addrs = Vec::new();
        addrs.extend_from_slice(&"fd00::1".parse::<Ipv6Addr>().unwrap().octets());
        addrs.extend_from_slice(&"fd00::2".parse::<Ipv6Addr>().unwrap().octets());
        addrs.extend_from_slice(&[0x9c, 0x40, 0, 80]);
        let (h, _, _) = every_split(&v2(1, 0x21, &addrs, &[]));
        let h = h.unwrap();
        assert_eq!(h.src, Some("[fd00::1]:40000".parse().unwrap()));
        assert_eq!(h.dst, Some("[fd00::2]:80".parse().unwrap()));
        // LOCAL: a health check; its addresses are ignored.
        let (h, rest, _) = every_split(&v2(0, 0x21, &addrs, &[]));
        let h = h.unwrap();
        assert_eq!((h.command, h.src), (Command::Local, None));
        assert!(rest.is_empty());
        let (h, _, _) = every_split(&v2(0, 0x00, &[], &[]));
        assert_eq!(h.unwrap().family, Family::Unspecified);
        // AF_UNSPEC or an undefined family: the block is skipped whole, whatever it holds.
        let (h, rest, _) = every_split(&cat(&v2(1, 0x00, &[1, 2, 3], &[]), b"GET"));
        let h = h.unwrap();
        assert_eq!(
            (h.family, h.len, h.tlv_types.len()),
            (Family::Unspecified, 19, 0)
        );
        assert_eq!(rest, b"GET");
        let (h, _, _) = every_split(&v2(1, 0x41, &[9; 5], &[]));
        assert_eq!(h.unwrap().family, Family::Other(0x41));
        let (h, _, _) = every_split(&v2(1, 0x31, &[0; 216], &[]));
        let h = h.unwrap();
        assert_eq!((h.family, h.src), (Family::UnixStream, None));
    }

    #[test]
    fn version_2_malformed_headers_are_passed_on() {
        let addrs = [0u8; 12];
        let mut bad_version = v2(1, 0x11, &addrs, &[]);
        bad_version[12] = 0x31;
        let mut bad_command = v2(1, 0x11, &addrs, &[]);
        bad_command[12] = 0x22;
        for s in [
            bad_version,
            bad_command,
            // Shorter than its addresses.
            v2(1, 0x21, &addrs, &[]),
            // A TLV running past the length.
            v2(1, 0x11, &addrs, &[tlv::ALPN, 0, 9, b'h']),
            // Two octets that cannot be a TLV.
            v2(1, 0x11, &addrs, &[0, 0]),
        ] {
            let (h, rest, malformed) = every_split(&s);
            assert!(h.is_none() && malformed);
            assert_eq!(rest, s);
        }
    }

    #[test]
    fn long_version_2_headers_are_skipped_past_the_hold_cap() {
        let addrs = [198, 18, 0, 1, 198, 18, 0, 2, 0, 1, 0, 2];
        let mut t = tlv(tlv::AUTHORITY, b"a.test");
        t.extend(tlv(tlv::NOOP, &[0; 3000]));
        let mut s = v2(1, 0x11, &addrs, &t);
        let hlen = s.len();
        s.extend_from_slice(b"GET");
        let (h, rest, _) = every_split(&s);
        let h = h.unwrap();
        assert_eq!(h.authority, b"a.test");
        assert_eq!(h.tlv_types, [tlv::AUTHORITY, tlv::NOOP]);
        assert_eq!((h.len, h.truncated), (hlen, true));
        assert_eq!(rest, b"GET");
    }

    #[test]
    fn a_reader_is_reused_after_reset() {
        let mut r = ProxyReader::new();
        let s = b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
        assert_eq!(r.feed(s), Step::Done { used: s.len() });
        assert_eq!(r.feed(b"more"), Step::NotProxy { malformed: false });
        assert!(r.held().is_empty());
        r.reset();
        assert_eq!(r.header(), &ProxyHeader::default());
        assert_eq!(r.feed(s), Step::Done { used: s.len() });
        assert_eq!(r.header().src, Some("1.2.3.4:1".parse().unwrap()));
    }
}
